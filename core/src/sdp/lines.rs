//! The typed SDP lines of RFC 8866 §5: `o=` (§5.2), `c=` (§5.7), `b=` (§5.8), `t=` (§5.9)
//! and `m=` (§5.14). Each borrows from the raw line it was decoded from.

use super::{SdpError, invalid};
use core::fmt;
use core::net::IpAddr;

/// Splits on single spaces, refusing empty fields (RFC 8866 fields are separated by one SP).
fn fields(s: &str) -> impl Iterator<Item = &str> {
    s.split(' ')
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic())
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin<'a> {
    /// `-` when the host has no user notion.
    pub username: &'a str,
    /// A numeric string per RFC 8866 (kept as text: it is not bounded to 64 bits, and
    /// non-numeric tokens are accepted).
    pub session_id: &'a str,
    /// The version, incremented by each new offer in a session (RFC 3264 §8).
    pub session_version: u64,
    /// `IN`.
    pub nettype: &'a str,
    /// `IP4` or `IP6`.
    pub addrtype: &'a str,
    /// An address or FQDN.
    pub address: &'a str,
}

impl<'a> Origin<'a> {
    /// Decodes the value of an `o=` line.
    pub fn parse(s: &'a str) -> Result<Self, SdpError> {
        let e = invalid("o=");
        let mut f = fields(s);
        let mut next = || f.next().filter(|x| is_token(x)).ok_or(e);
        let o = Self {
            username: next()?,
            session_id: next()?,
            session_version: next()?.parse().map_err(|_| e)?,
            nettype: next()?,
            addrtype: next()?,
            address: next()?,
        };
        // RFC 8866 asks for a numeric sess-id; any token is accepted (seen from SBCs), as
        // only its equality matters.
        if f.next().is_some() {
            return Err(e);
        }
        Ok(o)
    }
}

impl fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {}",
            self.username,
            self.session_id,
            self.session_version,
            self.nettype,
            self.addrtype,
            self.address
        )
    }
}

/// `c=<nettype> <addrtype> <connection-address>` (multicast `/ttl/count` split off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connection<'a> {
    /// `IN`.
    pub nettype: &'a str,
    /// `IP4` or `IP6`.
    pub addrtype: &'a str,
    /// The address (or FQDN) without `/ttl` and `/count`.
    pub address: &'a str,
    /// IPv4 multicast TTL.
    pub ttl: Option<u8>,
    /// Number of multicast addresses.
    pub count: Option<u32>,
}

impl<'a> Connection<'a> {
    /// Decodes the value of a `c=` line.
    pub fn parse(s: &'a str) -> Result<Self, SdpError> {
        let e = invalid("c=");
        let mut f = fields(s);
        let nettype = f.next().filter(|x| is_token(x)).ok_or(e)?;
        let addrtype = f.next().filter(|x| is_token(x)).ok_or(e)?;
        let full = f.next().filter(|x| is_token(x)).ok_or(e)?;
        if f.next().is_some() {
            return Err(e);
        }
        let mut parts = full.split('/');
        let address = parts.next().filter(|a| !a.is_empty()).ok_or(e)?;
        let (ttl, count) = match (parts.next(), parts.next(), parts.next()) {
            (None, _, _) => (None, None),
            (Some(a), None, _) if addrtype == "IP6" => (None, Some(a.parse().map_err(|_| e)?)),
            (Some(a), None, _) => (Some(a.parse().map_err(|_| e)?), None),
            (Some(a), Some(b), None) => (
                Some(a.parse().map_err(|_| e)?),
                Some(b.parse().map_err(|_| e)?),
            ),
            _ => return Err(e),
        };
        Ok(Self {
            nettype,
            addrtype,
            address,
            ttl,
            count,
        })
    }

    /// The address as an IP address, if it is one (not an FQDN).
    pub fn ip(&self) -> Option<IpAddr> {
        self.address.parse().ok()
    }

    /// Whether this is the RFC 2543 "hold" address `0.0.0.0` (RFC 3264 §8.4).
    pub fn is_unspecified(&self) -> bool {
        self.ip().is_some_and(|ip| ip.is_unspecified())
    }
}

impl fmt::Display for Connection<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.nettype, self.addrtype, self.address)?;
        if let Some(ttl) = self.ttl {
            write!(f, "/{ttl}")?;
        }
        if let Some(count) = self.count {
            write!(f, "/{count}")?;
        }
        Ok(())
    }
}

/// `b=<bwtype>:<bandwidth>` (kbit/s for `AS`/`CT`, bit/s for `TIAS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bandwidth<'a> {
    /// `AS`, `CT`, `TIAS`, `RS`, `RR`…
    pub bwtype: &'a str,
    /// The value.
    pub bandwidth: u64,
}

impl<'a> Bandwidth<'a> {
    /// Decodes the value of a `b=` line.
    pub fn parse(s: &'a str) -> Result<Self, SdpError> {
        let e = invalid("b=");
        let (bwtype, bw) = s.split_once(':').ok_or(e)?;
        if !is_token(bwtype) {
            return Err(e);
        }
        Ok(Self {
            bwtype,
            bandwidth: bw.parse().map_err(|_| e)?,
        })
    }
}

/// `t=<start-time> <stop-time>` (NTP seconds; `0 0` is an unbounded session).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Start time (NTP seconds) or 0.
    pub start: u64,
    /// Stop time (NTP seconds) or 0.
    pub stop: u64,
}

impl Timing {
    /// Decodes the value of a `t=` line.
    pub fn parse(s: &str) -> Result<Self, SdpError> {
        let e = invalid("t=");
        let (a, b) = s.split_once(' ').ok_or(e)?;
        Ok(Self {
            start: a.parse().map_err(|_| e)?,
            stop: b.parse().map_err(|_| e)?,
        })
    }
}

/// `m=<media> <port>[/<number of ports>] <proto> <fmt> …`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaLine<'a> {
    /// `audio`, `video`, `application`…
    pub media: &'a str,
    /// The transport port; 0 means a rejected or disabled stream (RFC 3264 §5.1).
    pub port: u16,
    /// The number of ports, if given.
    pub num_ports: Option<u16>,
    /// `RTP/AVP`, `UDP/TLS/RTP/SAVPF`…
    pub proto: &'a str,
    /// The formats, separated by single spaces (payload types for RTP); see
    /// [`MediaLine::formats`] and [`MediaLine::payload_types`].
    pub fmt: &'a str,
}

impl<'a> MediaLine<'a> {
    /// Decodes the value of an `m=` line.
    pub fn parse(s: &'a str) -> Result<Self, SdpError> {
        let e = invalid("m=");
        let mut f = s.splitn(4, ' ');
        let media = f.next().filter(|x| is_token(x)).ok_or(e)?;
        let port_s = f.next().ok_or(e)?;
        let proto = f.next().filter(|x| is_token(x)).ok_or(e)?;
        let fmt = f.next();
        let (port, num_ports) = match port_s.split_once('/') {
            Some((p, n)) => (p, Some(n.parse().map_err(|_| e)?)),
            None => (port_s, None),
        };
        if !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(e);
        }
        let port = port.parse().map_err(|_| e)?;
        // RFC 8866 asks for at least one format; a missing list is accepted (seen on
        // rejected streams), an empty or double-spaced one is not.
        let fmt = match fmt {
            Some(fmt) if fmt.split(' ').any(|x| !is_token(x)) => return Err(e),
            Some(fmt) => fmt,
            None => "",
        };
        Ok(Self {
            media,
            port,
            num_ports,
            proto,
            fmt,
        })
    }

    /// The formats, in order of preference.
    pub fn formats(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.fmt.split(' ').filter(|s| !s.is_empty())
    }

    /// The formats that are RTP payload types (0..=127), in order of preference.
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + use<'a> {
        self.fmt
            .split(' ')
            .filter_map(|s| s.parse::<u8>().ok())
            .filter(|pt| *pt < 128)
    }

    /// Whether the proto is an RTP profile (`RTP/AVP`, `UDP/TLS/RTP/SAVPF`…).
    pub fn is_rtp(&self) -> bool {
        self.proto.split('/').any(|p| p.eq_ignore_ascii_case("RTP"))
    }
}

impl fmt::Display for MediaLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.media, self.port)?;
        if let Some(n) = self.num_ports {
            write!(f, "/{n}")?;
        }
        write!(f, " {}", self.proto)?;
        if !self.fmt.is_empty() {
            write!(f, " {}", self.fmt)?;
        }
        Ok(())
    }
}
