//! ICE candidates (RFC 8445 §5.1), their priorities (§5.1.2) and their SDP form
//! (RFC 8839 §5.1: `a=candidate:`).

use super::IceError;
use alloc::format;
use alloc::string::{String, ToString};
use core::fmt;
use core::net::{IpAddr, SocketAddr};

/// The type of a candidate (RFC 8445 §5.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CandidateKind {
    /// A host candidate: an address of a local interface.
    Host,
    /// A server-reflexive candidate (learned from a STUN server).
    ServerReflexive,
    /// A peer-reflexive candidate (learned from a connectivity check).
    PeerReflexive,
    /// A relayed candidate (a TURN allocation).
    Relayed,
}

impl CandidateKind {
    /// The recommended type preference (RFC 8445 §5.1.2.2).
    pub const fn type_preference(self) -> u32 {
        match self {
            CandidateKind::Host => 126,
            CandidateKind::PeerReflexive => 110,
            CandidateKind::ServerReflexive => 100,
            CandidateKind::Relayed => 0,
        }
    }

    /// The SDP token (`host`, `srflx`, `prflx`, `relay`).
    pub const fn as_str(self) -> &'static str {
        match self {
            CandidateKind::Host => "host",
            CandidateKind::ServerReflexive => "srflx",
            CandidateKind::PeerReflexive => "prflx",
            CandidateKind::Relayed => "relay",
        }
    }
}

/// The priority formula of RFC 8445 §5.1.2.1.
pub const fn candidate_priority(kind: CandidateKind, local_preference: u16, component: u16) -> u32 {
    let component = if component == 0 || component > 256 {
        256
    } else {
        component
    };
    (kind.type_preference() << 24) | ((local_preference as u32) << 8) | (256 - component as u32)
}

/// The pair priority of RFC 8445 §6.1.2.3: `g` is the controlling agent's candidate
/// priority, `d` the controlled agent's.
pub const fn pair_priority(g: u32, d: u32) -> u64 {
    let (min, max) = if g < d { (g, d) } else { (d, g) };
    ((min as u64) << 32) + 2 * (max as u64) + if g > d { 1 } else { 0 }
}

/// A UDP candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The foundation (1 to 32 ice-chars).
    pub foundation: String,
    /// The component id (1 for RTP; with rtcp-mux the only one).
    pub component: u16,
    /// The priority.
    pub priority: u32,
    /// The transport address.
    pub addr: SocketAddr,
    /// The type.
    pub kind: CandidateKind,
}

impl Candidate {
    /// A host candidate for `addr`, component 1, with the given local preference (RFC
    /// 8445 §5.1.2.1: 65535 for the preferred interface). The foundation is derived from the
    /// IP address, so candidates of the same interface share it (§5.1.1.3).
    pub fn host(addr: SocketAddr, local_preference: u16) -> Self {
        Candidate {
            foundation: ip_foundation(addr.ip()),
            component: 1,
            priority: candidate_priority(CandidateKind::Host, local_preference, 1),
            addr,
            kind: CandidateKind::Host,
        }
    }

    /// The SDP attribute value, without the leading `a=`:
    /// `candidate:<foundation> <component> udp <priority> <ip> <port> typ <type>`.
    pub fn to_sdp_value(&self) -> String {
        format!("{self}")
    }

    /// Parses an SDP candidate attribute (with or without the `a=` prefix). Only UDP
    /// candidates with literal IP addresses are accepted (`.local` mDNS names cannot be
    /// resolved in the core); extension attributes after the type are ignored.
    pub fn parse(s: &str) -> Result<Candidate, IceError> {
        let bad = IceError::InvalidCandidate;
        let s = s.trim();
        let s = s.strip_prefix("a=").unwrap_or(s);
        let s = s.strip_prefix("candidate:").ok_or(bad)?;
        let mut it = s.split_ascii_whitespace();
        let foundation = it.next().ok_or(bad)?;
        if foundation.is_empty()
            || foundation.len() > 32
            || !foundation.bytes().all(super::is_ice_char)
        {
            return Err(bad);
        }
        let component: u16 = it.next().ok_or(bad)?.parse().map_err(|_| bad)?;
        if component == 0 || component > 256 {
            return Err(bad);
        }
        if !it.next().ok_or(bad)?.eq_ignore_ascii_case("udp") {
            return Err(IceError::UnsupportedCandidate);
        }
        let priority: u32 = it.next().ok_or(bad)?.parse().map_err(|_| bad)?;
        if priority == 0 {
            return Err(bad);
        }
        let ip: IpAddr = it
            .next()
            .ok_or(bad)?
            .parse()
            .map_err(|_| IceError::UnsupportedCandidate)?;
        let port: u16 = it.next().ok_or(bad)?.parse().map_err(|_| bad)?;
        if it.next() != Some("typ") {
            return Err(bad);
        }
        let kind = match it.next().ok_or(bad)? {
            "host" => CandidateKind::Host,
            "srflx" => CandidateKind::ServerReflexive,
            "prflx" => CandidateKind::PeerReflexive,
            "relay" => CandidateKind::Relayed,
            _ => return Err(bad),
        };
        Ok(Candidate {
            foundation: foundation.into(),
            component,
            priority,
            addr: SocketAddr::new(ip, port),
            kind,
        })
    }
}

/// A foundation derived from an IP address (decimal digits, so valid ice-chars).
pub(crate) fn ip_foundation(ip: IpAddr) -> String {
    let h = match ip {
        IpAddr::V4(v4) => crate::stun::crc32(&v4.octets()),
        IpAddr::V6(v6) => crate::stun::crc32(&v6.octets()),
    };
    (h % 1_000_000_000).to_string()
}

impl fmt::Display for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "candidate:{} {} udp {} {} {} typ {}",
            self.foundation,
            self.component,
            self.priority,
            self.addr.ip(),
            self.addr.port(),
            self.kind.as_str()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities() {
        // RFC 8445 §5.1.2.1 with the recommended values: host, 65535, component 1.
        assert_eq!(
            candidate_priority(CandidateKind::Host, 65535, 1),
            (126 << 24) + (65535 << 8) + 255
        );
        assert_eq!(
            candidate_priority(CandidateKind::Host, 65535, 1),
            2_130_706_431
        );
        assert_eq!(pair_priority(1, 2), (1u64 << 32) + 4);
        assert_eq!(pair_priority(2, 1), (1u64 << 32) + 5);
    }

    #[test]
    fn sdp_round_trip() {
        let c = Candidate::host("192.0.2.7:40000".parse().unwrap(), 65535);
        let s = c.to_sdp_value();
        assert!(s.starts_with("candidate:"));
        assert!(
            s.ends_with(" 1 udp 2130706431 192.0.2.7 40000 typ host"),
            "{s}"
        );
        assert_eq!(Candidate::parse(&s).unwrap(), c);
        let a = alloc::format!("a={s}");
        assert_eq!(Candidate::parse(&a).unwrap(), c);
        let v6 = Candidate::host("[2001:db8::1]:9".parse().unwrap(), 1);
        assert_eq!(Candidate::parse(&v6.to_sdp_value()).unwrap(), v6);
        // Chrome's form with extensions.
        let chrome = "candidate:842163049 1 udp 1677729535 198.51.100.3 61665 typ srflx raddr 10.0.0.2 rport 61665 generation 0 ufrag EsAw network-cost 999";
        let p = Candidate::parse(chrome).unwrap();
        assert_eq!(p.kind, CandidateKind::ServerReflexive);
        assert_eq!(p.addr, "198.51.100.3:61665".parse().unwrap());
        assert_eq!(p.priority, 1_677_729_535);
    }

    #[test]
    fn rejects() {
        for s in [
            "",
            "candidate:",
            "candidate:1 1 udp 1 1.2.3.4 5 typ",
            "candidate:1 0 udp 1 1.2.3.4 5 typ host",
            "candidate:1 1 udp 0 1.2.3.4 5 typ host",
            "candidate:1 1 udp 1 1.2.3.4 70000 typ host",
            "candidate:1 1 udp 1 1.2.3.4 5 typx host",
            "candidate:1 1 udp 1 1.2.3.4 5 typ nat",
            "candidate:f!o 1 udp 1 1.2.3.4 5 typ host",
        ] {
            assert_eq!(Candidate::parse(s), Err(IceError::InvalidCandidate), "{s}");
        }
        assert_eq!(
            Candidate::parse("candidate:1 1 tcp 1 1.2.3.4 5 typ host tcptype active"),
            Err(IceError::UnsupportedCandidate)
        );
        assert_eq!(
            Candidate::parse("candidate:1 1 udp 1 abcd-1234.local 5 typ host"),
            Err(IceError::UnsupportedCandidate)
        );
    }
}
