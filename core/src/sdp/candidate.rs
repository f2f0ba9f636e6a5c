//! `a=candidate` (RFC 8839 §5.1), with `tcptype` (RFC 6544 §4.5) and the extensions
//! browsers add (`generation`, `ufrag`, `network-id`, `network-cost`).
//!
//! ```text
//! candidate-attribute = "candidate" ":" foundation SP component-id SP transport SP
//!                       priority SP connection-address SP port SP cand-type
//!                       [SP rel-addr] [SP rel-port] *(SP cand-extension)
//! ```

use super::{SdpError, invalid};
use core::fmt;
use core::net::IpAddr;

/// The candidate type (RFC 8839 §5.1 `cand-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CandidateType<'a> {
    /// `host`.
    Host,
    /// `srflx` (server reflexive).
    Srflx,
    /// `prflx` (peer reflexive).
    Prflx,
    /// `relay` (TURN).
    Relay,
    /// An unknown type token.
    Other(&'a str),
}

impl<'a> CandidateType<'a> {
    fn parse(s: &'a str) -> Self {
        match s {
            "host" => Self::Host,
            "srflx" => Self::Srflx,
            "prflx" => Self::Prflx,
            "relay" => Self::Relay,
            other => Self::Other(other),
        }
    }

    /// The token.
    pub fn as_str(&self) -> &'a str {
        match self {
            Self::Host => "host",
            Self::Srflx => "srflx",
            Self::Prflx => "prflx",
            Self::Relay => "relay",
            Self::Other(s) => s,
        }
    }
}

/// The TCP candidate type (RFC 6544 §4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcpType {
    /// Opens connections.
    Active,
    /// Accepts connections.
    Passive,
    /// Simultaneous open.
    So,
}

impl TcpType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "active" => Self::Active,
            "passive" => Self::Passive,
            "so" => Self::So,
            _ => return None,
        })
    }

    /// The token.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Passive => "passive",
            Self::So => "so",
        }
    }
}

/// An ICE candidate.
///
/// The well-known extensions are decoded into fields; [`Candidate::extensions`] yields every
/// `name value` pair after the type and related address, known or not, in order, and
/// `Display` writes them back as they were.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate<'a> {
    /// 1 to 32 ice-chars.
    pub foundation: &'a str,
    /// 1 for RTP, 2 for RTCP.
    pub component: u16,
    /// `UDP` or `TCP` (case-insensitive; browsers differ).
    pub transport: &'a str,
    /// The priority (RFC 8445 §5.1.2).
    pub priority: u32,
    /// An IP address or an FQDN (mDNS `….local` names from browsers).
    pub address: &'a str,
    /// The port.
    pub port: u16,
    /// `host`, `srflx`…
    pub typ: CandidateType<'a>,
    /// `raddr`.
    pub related_address: Option<&'a str>,
    /// `rport`.
    pub related_port: Option<u16>,
    /// `tcptype`.
    pub tcptype: Option<TcpType>,
    /// `generation`.
    pub generation: Option<u32>,
    /// `ufrag`.
    pub ufrag: Option<&'a str>,
    /// `network-id`.
    pub network_id: Option<u32>,
    /// `network-cost`.
    pub network_cost: Option<u32>,
    extensions: &'a str,
}

fn is_ice_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

impl<'a> Candidate<'a> {
    /// Decodes the value of `a=candidate` (an optional leading `candidate:`, as in the
    /// JavaScript `RTCIceCandidate.candidate` string, is accepted).
    pub fn parse(s: &'a str) -> Result<Self, SdpError> {
        let e = invalid("candidate");
        let s = s.strip_prefix("candidate:").unwrap_or(s);
        let mut it = s.split(' ');
        let mut next = || it.next().filter(|t| !t.is_empty()).ok_or(e);
        let foundation = next()?;
        if foundation.len() > 32 || !foundation.bytes().all(is_ice_char) {
            return Err(e);
        }
        let component = next()?.parse().map_err(|_| e)?;
        let transport = next()?;
        let priority = next()?.parse().map_err(|_| e)?;
        let address = next()?;
        let port = next()?.parse().map_err(|_| e)?;
        if next()? != "typ" {
            return Err(e);
        }
        let typ = CandidateType::parse(next()?);
        if !transport.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(e);
        }
        let mut c = Self::new(
            foundation, component, transport, priority, address, port, typ,
        );
        // The remainder: [raddr X] [rport P] *(name value), as text to keep it borrowed.
        let mut rest = remainder(s, 8);
        if let Some(r) = rest.strip_prefix("raddr ") {
            let (v, r) = r.split_once(' ').unwrap_or((r, ""));
            c.related_address = Some(v).filter(|v| !v.is_empty());
            c.related_address.ok_or(e)?;
            rest = r;
        }
        if let Some(r) = rest.strip_prefix("rport ") {
            let (v, r) = r.split_once(' ').unwrap_or((r, ""));
            c.related_port = Some(v.parse().map_err(|_| e)?);
            rest = r;
        }
        c.extensions = rest;
        for (name, value) in c.extensions_checked()? {
            match name {
                "tcptype" => c.tcptype = Some(TcpType::parse(value).ok_or(e)?),
                "generation" => c.generation = Some(value.parse().map_err(|_| e)?),
                "ufrag" => c.ufrag = Some(value),
                "network-id" => c.network_id = Some(value.parse().map_err(|_| e)?),
                "network-cost" => c.network_cost = Some(value.parse().map_err(|_| e)?),
                _ => {}
            }
        }
        Ok(c)
    }

    fn extensions_checked(
        &self,
    ) -> Result<impl Iterator<Item = (&'a str, &'a str)> + use<'a>, SdpError> {
        let n = self.extensions.split(' ').filter(|t| !t.is_empty()).count();
        if n % 2 != 0 || (n == 0 && !self.extensions.is_empty()) {
            return Err(invalid("candidate"));
        }
        if self.extensions.split(' ').any(str::is_empty) && !self.extensions.is_empty() {
            return Err(invalid("candidate"));
        }
        Ok(self.extensions())
    }

    /// Every `name value` extension pair after the type and related address, in order.
    pub fn extensions(&self) -> impl Iterator<Item = (&'a str, &'a str)> + use<'a> {
        let mut it = self.extensions.split(' ').filter(|t| !t.is_empty());
        core::iter::from_fn(move || Some((it.next()?, it.next()?)))
    }

    /// The address as an IP address (`None` for an FQDN such as an mDNS name).
    pub fn ip(&self) -> Option<IpAddr> {
        self.address.parse().ok()
    }

    /// Whether the transport is UDP.
    pub fn is_udp(&self) -> bool {
        self.transport.eq_ignore_ascii_case("udp")
    }
}

/// The text after the first `n` space-separated fields of `s`.
fn remainder(s: &str, n: usize) -> &str {
    let mut rest = s;
    for _ in 0..n {
        rest = rest.split_once(' ').map_or("", |(_, r)| r);
    }
    rest
}

impl<'a> Candidate<'a> {
    /// A candidate with no related address and no extensions (for building SDP).
    pub fn new(
        foundation: &'a str,
        component: u16,
        transport: &'a str,
        priority: u32,
        address: &'a str,
        port: u16,
        typ: CandidateType<'a>,
    ) -> Self {
        Self {
            foundation,
            component,
            transport,
            priority,
            address,
            port,
            typ,
            related_address: None,
            related_port: None,
            tcptype: None,
            generation: None,
            ufrag: None,
            network_id: None,
            network_cost: None,
            extensions: "",
        }
    }
}

impl fmt::Display for Candidate<'_> {
    /// The text after `a=candidate:`. A parsed candidate writes its extensions as they were
    /// parsed; a built one writes `tcptype`, `generation`, `ufrag`, `network-id` and
    /// `network-cost` from its fields.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {} typ {}",
            self.foundation,
            self.component,
            self.transport,
            self.priority,
            self.address,
            self.port,
            self.typ.as_str()
        )?;
        if let Some(a) = self.related_address {
            write!(f, " raddr {a}")?;
        }
        if let Some(p) = self.related_port {
            write!(f, " rport {p}")?;
        }
        if !self.extensions.is_empty() {
            return write!(f, " {}", self.extensions);
        }
        if let Some(t) = self.tcptype {
            write!(f, " tcptype {}", t.as_str())?;
        }
        if let Some(g) = self.generation {
            write!(f, " generation {g}")?;
        }
        if let Some(u) = self.ufrag {
            write!(f, " ufrag {u}")?;
        }
        if let Some(n) = self.network_id {
            write!(f, " network-id {n}")?;
        }
        if let Some(n) = self.network_cost {
            write!(f, " network-cost {n}")?;
        }
        Ok(())
    }
}

/// Builds the text of a host candidate (for our own offers and answers).
pub(crate) fn host_candidate(
    foundation: &str,
    component: u16,
    priority: u32,
    address: IpAddr,
    port: u16,
) -> alloc::string::String {
    alloc::format!("candidate:{foundation} {component} udp {priority} {address} {port} typ host")
}
