//! Typed SDP attributes (`a=` lines): RFC 8866 §6 (rtpmap, fmtp, ptime, maxptime,
//! direction), RFC 3605 (rtcp), RFC 5761 (rtcp-mux), RFC 5506 (rtcp-rsize), RFC 4585
//! (rtcp-fb), RFC 8285 (extmap), RFC 5888 (mid, group), RFC 8830 (msid), RFC 5576 (ssrc,
//! ssrc-group), RFC 8839 (ICE), RFC 8122 (fingerprint), RFC 4145 (setup), RFC 4568 (crypto).
//!
//! Each value type borrows from the attribute text, decodes with `parse` (never panics)
//! and encodes with `Display` (the text after `a=<name>:`).

use super::{Candidate, Crypto, SdpError, invalid};
use core::fmt;

/// An attribute as written: `a=<name>` or `a=<name>:<value>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawAttribute<'a> {
    /// The attribute name.
    pub name: &'a str,
    /// The text after the first `:`, if any.
    pub value: Option<&'a str>,
}

impl<'a> RawAttribute<'a> {
    /// Splits the text after `a=`.
    pub fn split(s: &'a str) -> Self {
        match s.split_once(':') {
            Some((name, value)) => Self {
                name,
                value: Some(value),
            },
            None => Self {
                name: s,
                value: None,
            },
        }
    }

    /// Decodes the attribute (unknown names as [`Attribute::Other`]).
    pub fn typed(&self) -> Result<Attribute<'a>, SdpError> {
        Attribute::parse(*self)
    }
}

/// A decoded attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Attribute<'a> {
    /// `a=rtpmap` (RFC 8866 §6.6).
    Rtpmap(Rtpmap<'a>),
    /// `a=fmtp` (RFC 8866 §6.15).
    Fmtp(Fmtp<'a>),
    /// `a=ptime` in ms (RFC 8866 §6.4).
    Ptime(u32),
    /// `a=maxptime` in ms (RFC 8866 §6.5).
    MaxPtime(u32),
    /// `a=sendrecv`, `a=sendonly`, `a=recvonly`, `a=inactive` (RFC 8866 §6.7).
    Direction(Direction),
    /// `a=rtcp` (RFC 3605).
    Rtcp(Rtcp<'a>),
    /// `a=rtcp-mux` (RFC 5761).
    RtcpMux,
    /// `a=rtcp-mux-only` (RFC 8858).
    RtcpMuxOnly,
    /// `a=rtcp-rsize` (RFC 5506).
    RtcpRsize,
    /// `a=rtcp-fb` (RFC 4585 §4.2).
    RtcpFb(RtcpFb<'a>),
    /// `a=extmap` (RFC 8285).
    Extmap(Extmap<'a>),
    /// `a=extmap-allow-mixed` (RFC 8285 §6).
    ExtmapAllowMixed,
    /// `a=mid` (RFC 5888 §4).
    Mid(&'a str),
    /// `a=group` (RFC 5888 §5, BUNDLE RFC 8843).
    Group(Group<'a>),
    /// `a=msid` (RFC 8830).
    Msid(Msid<'a>),
    /// `a=msid-semantic` (pre-RFC 8830 WebRTC; value kept raw).
    MsidSemantic(&'a str),
    /// `a=ssrc` (RFC 5576 §4.1).
    Ssrc(Ssrc<'a>),
    /// `a=ssrc-group` (RFC 5576 §4.2).
    SsrcGroup(SsrcGroup<'a>),
    /// `a=ice-ufrag` (RFC 8839 §5.4).
    IceUfrag(&'a str),
    /// `a=ice-pwd` (RFC 8839 §5.4).
    IcePwd(&'a str),
    /// `a=ice-options` (RFC 8839 §5.6): space-separated tokens.
    IceOptions(&'a str),
    /// `a=ice-lite` (RFC 8839 §5.3).
    IceLite,
    /// `a=candidate` (RFC 8839 §5.1).
    Candidate(Candidate<'a>),
    /// `a=end-of-candidates` (RFC 8840).
    EndOfCandidates,
    /// `a=fingerprint` (RFC 8122 §5).
    Fingerprint(Fingerprint),
    /// `a=setup` (RFC 4145 §4).
    Setup(Setup),
    /// `a=crypto` (RFC 4568 §9.1).
    Crypto(Crypto<'a>),
    /// Any other attribute, raw.
    Other(RawAttribute<'a>),
}

impl<'a> Attribute<'a> {
    /// Decodes a raw attribute. Known names with a malformed value are errors; unknown
    /// names are [`Attribute::Other`].
    pub fn parse(raw: RawAttribute<'a>) -> Result<Self, SdpError> {
        let v = raw.value;
        let need = |field| v.ok_or(invalid(field));
        let num = |field| {
            need(field).and_then(|s: &str| s.trim().parse::<u32>().map_err(|_| invalid(field)))
        };
        Ok(match raw.name {
            "rtpmap" => Self::Rtpmap(Rtpmap::parse(need("rtpmap")?)?),
            "fmtp" => Self::Fmtp(Fmtp::parse(need("fmtp")?)?),
            "ptime" => Self::Ptime(num("ptime")?),
            "maxptime" => Self::MaxPtime(num("maxptime")?),
            "rtcp" => Self::Rtcp(Rtcp::parse(need("rtcp")?)?),
            "rtcp-mux" => Self::RtcpMux,
            "rtcp-mux-only" => Self::RtcpMuxOnly,
            "rtcp-rsize" => Self::RtcpRsize,
            "rtcp-fb" => Self::RtcpFb(RtcpFb::parse(need("rtcp-fb")?)?),
            "extmap" => Self::Extmap(Extmap::parse(need("extmap")?)?),
            "extmap-allow-mixed" => Self::ExtmapAllowMixed,
            "mid" => Self::Mid(nonempty(need("mid")?, "mid")?),
            "group" => Self::Group(Group::parse(need("group")?)?),
            "msid" => Self::Msid(Msid::parse(need("msid")?)?),
            "msid-semantic" => Self::MsidSemantic(need("msid-semantic")?),
            "ssrc" => Self::Ssrc(Ssrc::parse(need("ssrc")?)?),
            "ssrc-group" => Self::SsrcGroup(SsrcGroup::parse(need("ssrc-group")?)?),
            "ice-ufrag" => Self::IceUfrag(nonempty(need("ice-ufrag")?, "ice-ufrag")?),
            "ice-pwd" => Self::IcePwd(nonempty(need("ice-pwd")?, "ice-pwd")?),
            "ice-options" => Self::IceOptions(need("ice-options")?),
            "ice-lite" => Self::IceLite,
            "candidate" => Self::Candidate(Candidate::parse(need("candidate")?)?),
            "end-of-candidates" => Self::EndOfCandidates,
            "fingerprint" => Self::Fingerprint(Fingerprint::parse(need("fingerprint")?)?),
            "setup" => Self::Setup(Setup::parse(need("setup")?)?),
            "crypto" => Self::Crypto(Crypto::parse(need("crypto")?)?),
            name => match Direction::from_name(name) {
                Some(d) if v.is_none() => Self::Direction(d),
                _ => Self::Other(raw),
            },
        })
    }
}

impl fmt::Display for Attribute<'_> {
    /// The text after `a=`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rtpmap(x) => write!(f, "rtpmap:{x}"),
            Self::Fmtp(x) => write!(f, "fmtp:{x}"),
            Self::Ptime(x) => write!(f, "ptime:{x}"),
            Self::MaxPtime(x) => write!(f, "maxptime:{x}"),
            Self::Direction(d) => f.write_str(d.as_str()),
            Self::Rtcp(x) => write!(f, "rtcp:{x}"),
            Self::RtcpMux => f.write_str("rtcp-mux"),
            Self::RtcpMuxOnly => f.write_str("rtcp-mux-only"),
            Self::RtcpRsize => f.write_str("rtcp-rsize"),
            Self::RtcpFb(x) => write!(f, "rtcp-fb:{x}"),
            Self::Extmap(x) => write!(f, "extmap:{x}"),
            Self::ExtmapAllowMixed => f.write_str("extmap-allow-mixed"),
            Self::Mid(x) => write!(f, "mid:{x}"),
            Self::Group(x) => write!(f, "group:{x}"),
            Self::Msid(x) => write!(f, "msid:{x}"),
            Self::MsidSemantic(x) => write!(f, "msid-semantic:{x}"),
            Self::Ssrc(x) => write!(f, "ssrc:{x}"),
            Self::SsrcGroup(x) => write!(f, "ssrc-group:{x}"),
            Self::IceUfrag(x) => write!(f, "ice-ufrag:{x}"),
            Self::IcePwd(x) => write!(f, "ice-pwd:{x}"),
            Self::IceOptions(x) => write!(f, "ice-options:{x}"),
            Self::IceLite => f.write_str("ice-lite"),
            Self::Candidate(x) => write!(f, "candidate:{x}"),
            Self::EndOfCandidates => f.write_str("end-of-candidates"),
            Self::Fingerprint(x) => write!(f, "fingerprint:{x}"),
            Self::Setup(x) => write!(f, "setup:{}", x.as_str()),
            Self::Crypto(x) => write!(f, "crypto:{x}"),
            Self::Other(RawAttribute { name, value: None }) => f.write_str(name),
            Self::Other(RawAttribute {
                name,
                value: Some(v),
            }) => write!(f, "{name}:{v}"),
        }
    }
}

fn nonempty<'a>(s: &'a str, field: &'static str) -> Result<&'a str, SdpError> {
    if s.is_empty() || s.contains(' ') {
        Err(invalid(field))
    } else {
        Ok(s)
    }
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic())
}

/// The media direction (RFC 3264 §5.1, RFC 8866 §6.7), from the point of view of the side
/// that wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Send and receive (the default).
    SendRecv,
    /// Send only (e.g. putting the other side on hold).
    SendOnly,
    /// Receive only.
    RecvOnly,
    /// Neither.
    Inactive,
}

impl Direction {
    /// `sendrecv`, `sendonly`, `recvonly` or `inactive` to a direction.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "sendrecv" => Self::SendRecv,
            "sendonly" => Self::SendOnly,
            "recvonly" => Self::RecvOnly,
            "inactive" => Self::Inactive,
            _ => return None,
        })
    }

    /// The attribute name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }

    /// From the two capabilities.
    pub const fn from_flags(send: bool, recv: bool) -> Self {
        match (send, recv) {
            (true, true) => Self::SendRecv,
            (true, false) => Self::SendOnly,
            (false, true) => Self::RecvOnly,
            (false, false) => Self::Inactive,
        }
    }

    /// Whether this side sends.
    pub const fn sends(self) -> bool {
        matches!(self, Self::SendRecv | Self::SendOnly)
    }

    /// Whether this side receives.
    pub const fn receives(self) -> bool {
        matches!(self, Self::SendRecv | Self::RecvOnly)
    }

    /// The same stream seen from the other side (sendonly ⇄ recvonly).
    pub const fn reversed(self) -> Self {
        Self::from_flags(self.receives(), self.sends())
    }

    /// The answer to an offer with direction `offer` by a side willing to do `self`
    /// (RFC 3264 §6.1): send only if the offerer receives, receive only if it sends.
    pub const fn answer_to(self, offer: Self) -> Self {
        Self::from_flags(
            self.sends() && offer.receives(),
            self.receives() && offer.sends(),
        )
    }
}

/// `a=setup` (RFC 4145 §4, RFC 5763 §5): who opens the DTLS/TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setup {
    /// Will initiate (DTLS client).
    Active,
    /// Will accept (DTLS server).
    Passive,
    /// Either (offers only).
    ActPass,
    /// Not now.
    HoldConn,
}

impl Setup {
    /// Decodes the value of `a=setup`.
    pub fn parse(s: &str) -> Result<Self, SdpError> {
        Ok(match s.trim() {
            "active" => Self::Active,
            "passive" => Self::Passive,
            "actpass" => Self::ActPass,
            "holdconn" => Self::HoldConn,
            _ => return Err(invalid("setup")),
        })
    }

    /// The value text.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Passive => "passive",
            Self::ActPass => "actpass",
            Self::HoldConn => "holdconn",
        }
    }
}

/// `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rtpmap<'a> {
    /// The RTP payload type.
    pub payload_type: u8,
    /// The encoding name (`opus`, `PCMU`…; compare case-insensitively).
    pub encoding: &'a str,
    /// The RTP clock rate in Hz.
    pub clock_rate: u32,
    /// The encoding parameters (the channel count for audio), if given.
    pub channels: Option<u16>,
}

impl<'a> Rtpmap<'a> {
    /// Decodes the value of `a=rtpmap`.
    pub fn parse(s: &'a str) -> Result<Self, SdpError> {
        let e = invalid("rtpmap");
        let (pt, rest) = s.split_once(' ').ok_or(e)?;
        let payload_type = pt.parse::<u8>().ok().filter(|p| *p < 128).ok_or(e)?;
        let mut p = rest.trim_end().split('/');
        let encoding = p.next().filter(|n| is_token(n)).ok_or(e)?;
        let clock_rate = p.next().and_then(|c| c.parse().ok()).ok_or(e)?;
        let channels = match p.next() {
            Some(c) => Some(c.parse().map_err(|_| e)?),
            None => None,
        };
        if p.next().is_some() || clock_rate == 0 {
            return Err(e);
        }
        Ok(Self {
            payload_type,
            encoding,
            clock_rate,
            channels,
        })
    }

    /// The channel count (1 when not given, RFC 8866 §6.6).
    pub fn channel_count(&self) -> u16 {
        self.channels.unwrap_or(1)
    }
}

impl fmt::Display for Rtpmap<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}/{}",
            self.payload_type, self.encoding, self.clock_rate
        )?;
        if let Some(c) = self.channels {
            write!(f, "/{c}")?;
        }
        Ok(())
    }
}

/// `a=fmtp:<format> <format specific parameters>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fmtp<'a> {
    /// The format (a payload type for RTP).
    pub format: &'a str,
    /// The parameters, raw (`minptime=10;useinbandfec=1`, `0-16`…).
    pub params: &'a str,
}

impl<'a> Fmtp<'a> {
    /// Decodes the value of `a=fmtp`.
    pub fn parse(s: &'a str) -> Result<Self, SdpError> {
        let (format, params) = s.split_once(' ').ok_or(invalid("fmtp"))?;
        if !is_token(format) {
            return Err(invalid("fmtp"));
        }
        Ok(Self { format, params })
    }

    /// The format as an RTP payload type.
    pub fn payload_type(&self) -> Option<u8> {
        self.format.parse().ok().filter(|p| *p < 128)
    }

    /// The `;`-separated `key[=value]` parameters, trimmed.
    pub fn parameters(&self) -> impl Iterator<Item = (&'a str, Option<&'a str>)> + use<'a> {
        self.params
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (p, None),
            })
    }

    /// The value of parameter `key` (compared case-insensitively).
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.parameters()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .and_then(|(_, v)| v)
    }
}

impl fmt::Display for Fmtp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.format, self.params)
    }
}

/// `a=rtcp:<port> [<nettype> <addrtype> <connection-address>]` (RFC 3605).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rtcp<'a> {
    /// The RTCP port.
    pub port: u16,
    /// The address, if given: (nettype, addrtype, address).
    pub address: Option<(&'a str, &'a str, &'a str)>,
}

impl<'a> Rtcp<'a> {
    /// Decodes the value of `a=rtcp`.
    pub fn parse(s: &'a str) -> Result<Self, SdpError> {
        let e = invalid("rtcp");
        let mut f = s.split(' ');
        let port = f.next().and_then(|p| p.parse().ok()).ok_or(e)?;
        let address = match (f.next(), f.next(), f.next(), f.next()) {
            (None, ..) => None,
            (Some(n), Some(t), Some(a), None) if is_token(n) && is_token(t) && is_token(a) => {
                Some((n, t, a))
            }
            _ => return Err(e),
        };
        Ok(Self { port, address })
    }
}

impl fmt::Display for Rtcp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.port)?;
        if let Some((n, t, a)) = self.address {
            write!(f, " {n} {t} {a}")?;
        }
        Ok(())
    }
}

/// `a=rtcp-fb:<payload type or *> <type> [<parameters>]` (RFC 4585 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtcpFb<'a> {
    /// The payload type, or `None` for `*` (all).
    pub payload_type: Option<u8>,
    /// `nack`, `ccm`, `goog-remb`, `transport-cc`…
    pub kind: &'a str,
    /// The rest (`pli`, `fir`…), if any.
    pub param: Option<&'a str>,
}

impl<'a> RtcpFb<'a> {
    /// Decodes the value of `a=rtcp-fb`.
    pub fn parse(s: &'a str) -> Result<Self, SdpError> {
        let e = invalid("rtcp-fb");
        let (pt, rest) = s.split_once(' ').ok_or(e)?;
        let payload_type = match pt {
            "*" => None,
            pt => Some(pt.parse::<u8>().ok().filter(|p| *p < 128).ok_or(e)?),
        };
        let (kind, param) = match rest.split_once(' ') {
            Some((k, p)) => (k, Some(p)),
            None => (rest, None),
        };
        if !is_token(kind) {
            return Err(e);
        }
        Ok(Self {
            payload_type,
            kind,
            param,
        })
    }
}

impl fmt::Display for RtcpFb<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.payload_type {
            Some(pt) => write!(f, "{pt} {}", self.kind)?,
            None => write!(f, "* {}", self.kind)?,
        }
        if let Some(p) = self.param {
            write!(f, " {p}")?;
        }
        Ok(())
    }
}

/// `a=extmap:<id>[/<direction>] <uri> [<attributes>]` (RFC 8285 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extmap<'a> {
    /// The local identifier (1–14 one-byte, 1–255 two-byte; 4096–4351 in offers).
    pub id: u16,
    /// The direction, if given.
    pub direction: Option<Direction>,
    /// The extension URI.
    pub uri: &'a str,
    /// Extension attributes, raw.
    pub attributes: Option<&'a str>,
}

impl<'a> Extmap<'a> {
    /// Decodes the value of `a=extmap`.
    pub fn parse(s: &'a str) -> Result<Self, SdpError> {
        let e = invalid("extmap");
        let (idd, rest) = s.split_once(' ').ok_or(e)?;
        let (id, direction) = match idd.split_once('/') {
            Some((id, d)) => (id, Some(Direction::from_name(d).ok_or(e)?)),
            None => (idd, None),
        };
        let id = id.parse().map_err(|_| e)?;
        let (uri, attributes) = match rest.split_once(' ') {
            Some((u, a)) => (u, Some(a)),
            None => (rest, None),
        };
        if !is_token(uri) {
            return Err(e);
        }
        Ok(Self {
            id,
            direction,
            uri,
            attributes,
        })
    }
}

impl fmt::Display for Extmap<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.id)?;
        if let Some(d) = self.direction {
            write!(f, "/{}", d.as_str())?;
        }
        write!(f, " {}", self.uri)?;
        if let Some(a) = self.attributes {
            write!(f, " {a}")?;
        }
        Ok(())
    }
}

/// `a=group:<semantics> *(SP <identification-tag>)` (RFC 5888 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group<'a> {
    /// `BUNDLE`, `LS`, `FID`…
    pub semantics: &'a str,
    /// The mids, space-separated (see [`Group::mids`]).
    pub ids: &'a str,
}

impl<'a> Group<'a> {
    /// Decodes the value of `a=group`.
    pub fn parse(s: &'a str) -> Result<Self, SdpError> {
        let (semantics, ids) = s.split_once(' ').unwrap_or((s, ""));
        if !is_token(semantics) {
            return Err(invalid("group"));
        }
        Ok(Self { semantics, ids })
    }

    /// The identification tags, in order.
    pub fn mids(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.ids.split(' ').filter(|s| !s.is_empty())
    }

    /// Whether `mid` is in the group.
    pub fn contains(&self, mid: &str) -> bool {
        self.mids().any(|m| m == mid)
    }
}

impl fmt::Display for Group<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.semantics)?;
        if !self.ids.is_empty() {
            write!(f, " {}", self.ids)?;
        }
        Ok(())
    }
}

/// `a=msid:<stream id> [<track id>]` (RFC 8830 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msid<'a> {
    /// The MediaStream id (`-` for none).
    pub stream: &'a str,
    /// The application data (the track id in WebRTC), if given.
    pub appdata: Option<&'a str>,
}

impl<'a> Msid<'a> {
    /// Decodes the value of `a=msid`.
    pub fn parse(s: &'a str) -> Result<Self, SdpError> {
        let (stream, appdata) = match s.split_once(' ') {
            Some((a, b)) => (a, Some(b)),
            None => (s, None),
        };
        if !is_token(stream) || appdata.is_some_and(|a| !is_token(a)) {
            return Err(invalid("msid"));
        }
        Ok(Self { stream, appdata })
    }
}

impl fmt::Display for Msid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.stream)?;
        if let Some(a) = self.appdata {
            write!(f, " {a}")?;
        }
        Ok(())
    }
}

/// `a=ssrc:<ssrc-id> <attribute>[:<value>]` (RFC 5576 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ssrc<'a> {
    /// The SSRC.
    pub ssrc: u32,
    /// The source attribute name (`cname`, `msid`…).
    pub attribute: &'a str,
    /// Its value, if any.
    pub value: Option<&'a str>,
}

impl<'a> Ssrc<'a> {
    /// Decodes the value of `a=ssrc`.
    pub fn parse(s: &'a str) -> Result<Self, SdpError> {
        let e = invalid("ssrc");
        let (id, rest) = s.split_once(' ').ok_or(e)?;
        let ssrc = id.parse().map_err(|_| e)?;
        let raw = RawAttribute::split(rest);
        if !is_token(raw.name) {
            return Err(e);
        }
        Ok(Self {
            ssrc,
            attribute: raw.name,
            value: raw.value,
        })
    }
}

impl fmt::Display for Ssrc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.ssrc, self.attribute)?;
        if let Some(v) = self.value {
            write!(f, ":{v}")?;
        }
        Ok(())
    }
}

/// `a=ssrc-group:<semantics> *(SP <ssrc-id>)` (RFC 5576 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SsrcGroup<'a> {
    /// `FID`, `SIM`, `FEC`…
    pub semantics: &'a str,
    /// The SSRCs, space-separated (see [`SsrcGroup::ssrcs`]).
    pub ssrc_list: &'a str,
}

impl<'a> SsrcGroup<'a> {
    /// Decodes the value of `a=ssrc-group` (every SSRC must be a 32-bit number).
    pub fn parse(s: &'a str) -> Result<Self, SdpError> {
        let e = invalid("ssrc-group");
        let (semantics, ssrc_list) = s.split_once(' ').unwrap_or((s, ""));
        if !is_token(semantics) || ssrc_list.split(' ').any(|x| x.parse::<u32>().is_err()) {
            return Err(e);
        }
        Ok(Self {
            semantics,
            ssrc_list,
        })
    }

    /// The SSRCs, in order.
    pub fn ssrcs(&self) -> impl Iterator<Item = u32> + use<'a> {
        self.ssrc_list.split(' ').filter_map(|x| x.parse().ok())
    }
}

impl fmt::Display for SsrcGroup<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.semantics, self.ssrc_list)
    }
}

/// A hash function of `a=fingerprint` (RFC 8122 §5, IANA "Hash Function Textual Names").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashFunction {
    /// `sha-1` (20 bytes).
    Sha1,
    /// `sha-224` (28 bytes).
    Sha224,
    /// `sha-256` (32 bytes), what browsers use.
    Sha256,
    /// `sha-384` (48 bytes).
    Sha384,
    /// `sha-512` (64 bytes).
    Sha512,
    /// `md5` (16 bytes; RFC 8122 forbids generating it).
    Md5,
}

impl HashFunction {
    /// From the textual name (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        const ALL: [HashFunction; 6] = [
            HashFunction::Sha1,
            HashFunction::Sha224,
            HashFunction::Sha256,
            HashFunction::Sha384,
            HashFunction::Sha512,
            HashFunction::Md5,
        ];
        ALL.into_iter()
            .find(|h| h.as_str().eq_ignore_ascii_case(name))
    }

    /// The textual name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "sha-1",
            Self::Sha224 => "sha-224",
            Self::Sha256 => "sha-256",
            Self::Sha384 => "sha-384",
            Self::Sha512 => "sha-512",
            Self::Md5 => "md5",
        }
    }

    /// The digest length in bytes.
    pub const fn digest_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha224 => 28,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
            Self::Md5 => 16,
        }
    }
}

/// `a=fingerprint:<hash-func> <hex:hex:…>` (RFC 8122 §5): a certificate digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint {
    hash: HashFunction,
    bytes: [u8; 64],
}

impl Fingerprint {
    /// A fingerprint from a digest; `None` if its length does not match `hash`.
    pub fn new(hash: HashFunction, digest: &[u8]) -> Option<Self> {
        if digest.len() != hash.digest_len() {
            return None;
        }
        let mut bytes = [0; 64];
        bytes[..digest.len()].copy_from_slice(digest);
        Some(Self { hash, bytes })
    }

    /// Decodes the value of `a=fingerprint` (hex case-insensitive; the digest length must
    /// match the hash function; unknown hash functions are an error).
    pub fn parse(s: &str) -> Result<Self, SdpError> {
        let e = invalid("fingerprint");
        let (name, hex) = s.split_once(' ').ok_or(e)?;
        let hash = HashFunction::from_name(name).ok_or(e)?;
        let mut bytes = [0u8; 64];
        let mut n = 0usize;
        for pair in hex.trim_end().split(':') {
            let p = pair.as_bytes();
            let slot = bytes.get_mut(n).ok_or(e)?;
            match p {
                [h, l] => *slot = (hex_val(*h).ok_or(e)? << 4) | hex_val(*l).ok_or(e)?,
                _ => return Err(e),
            }
            n += 1;
        }
        if n != hash.digest_len() {
            return Err(e);
        }
        Ok(Self { hash, bytes })
    }

    /// The hash function.
    pub fn hash(&self) -> HashFunction {
        self.hash
    }

    /// The digest bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..self.hash.digest_len()]
    }
}

fn hex_val(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

impl fmt::Display for Fingerprint {
    /// Upper-case hex pairs separated by colons, as RFC 8122 §5 asks.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.hash.as_str())?;
        for (i, b) in self.bytes().iter().enumerate() {
            let sep = if i == 0 { ' ' } else { ':' };
            write!(f, "{sep}{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}
