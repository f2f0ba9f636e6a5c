//! SDP: the Session Description Protocol (RFC 8866) and the offer/answer model (RFC 3264),
//! with the attributes WebRTC and SIP trunks use.
//!
//! # Inputs and outputs
//!
//! - [`SessionDescription::parse`] takes the body of a SIP message (`&str` or `&[u8]`) and
//!   returns a description that *borrows* it: every line is kept as a slice, in its original
//!   order, with its original line ending, so [`SessionDescription::emit`] gives back the
//!   input byte for byte (`emit(parse(x)) == x`). Unknown lines and attributes are kept raw.
//! - Typed values are decoded on demand from the raw lines: [`Origin`], [`Connection`],
//!   [`Bandwidth`], [`Timing`], [`MediaLine`] (RFC 8866 §5) and the attributes in
//!   [`Attribute`] (RFC 8866 §6, RFC 3264, RFC 8839 ICE, RFC 8122 fingerprint, RFC 4145
//!   setup, RFC 5888 group/mid, RFC 5761 rtcp-mux, RFC 4585 rtcp-fb, RFC 8285 extmap,
//!   RFC 5576 ssrc, RFC 8830 msid, RFC 4568 crypto, RFC 8843 BUNDLE).
//! - [`negotiate`] holds the offer/answer logic: a [`negotiate::CodecPolicy`], offers for a
//!   WebRTC leg and for a trunk leg, [`negotiate::answer`] for a received offer and
//!   [`negotiate::process_answer`] for a received answer, both giving a
//!   [`negotiate::Negotiated`] summary the media layer is configured from.
//!
//! Nothing here allocates per byte of input beyond one `Vec` entry per line; no input
//! panics (every typed accessor returns a `Result`).
//!
//! # Example
//!
//! ```
//! use rvoip_core::sdp::SessionDescription;
//! let body = "v=0\r\no=- 1 2 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n\
//!             m=audio 4000 RTP/AVP 0\r\nc=IN IP4 192.0.2.1\r\na=rtpmap:0 PCMU/8000\r\n";
//! let sdp = SessionDescription::parse(body).unwrap();
//! assert_eq!(sdp.media()[0].media_line().port, 4000);
//! assert_eq!(sdp.to_string(), body);
//! ```

mod attr;
mod candidate;
mod crypto;
mod lines;
pub mod negotiate;
mod policy;

pub use attr::{
    Attribute, Direction, Extmap, Fingerprint, Fmtp, Group, HashFunction, Msid, RawAttribute, Rtcp,
    RtcpFb, Rtpmap, Setup, Ssrc, SsrcGroup,
};
pub use candidate::{Candidate, CandidateType, TcpType};
pub use crypto::{Crypto, CryptoSuite, KeyParam, Lifetime, Mki};
pub use lines::{Bandwidth, Connection, MediaLine, Origin, Timing};

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// An error parsing SDP or one of its typed values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SdpError {
    /// The body is not valid UTF-8 (RFC 8866 §5: the default charset is UTF-8).
    NotUtf8,
    /// The first line is not `v=0`.
    BadVersion,
    /// A line is not `<letter>=<value>` (1-based line number).
    BadLine {
        /// 1-based line number.
        line: usize,
    },
    /// A required line is missing (`o=` or `s=` at session level).
    Missing {
        /// The field that is missing (`"o="`…).
        field: &'static str,
    },
    /// A field or attribute value does not follow its grammar.
    Invalid {
        /// The field or attribute whose value is malformed (`"m="`, `"rtpmap"`…).
        field: &'static str,
    },
}

impl fmt::Display for SdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotUtf8 => f.write_str("SDP is not valid UTF-8"),
            Self::BadVersion => f.write_str("SDP does not start with v=0"),
            Self::BadLine { line } => write!(f, "SDP line {line} is not <type>=<value>"),
            Self::Missing { field } => write!(f, "SDP lacks the {field} line"),
            Self::Invalid { field } => write!(f, "malformed SDP {field}"),
        }
    }
}

impl core::error::Error for SdpError {}

pub(crate) const fn invalid(field: &'static str) -> SdpError {
    SdpError::Invalid { field }
}

/// How a line ended in the parsed text (kept so that emitting reproduces it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LineEnding {
    /// `\r\n`, the RFC 8866 line ending, and the default for built lines.
    #[default]
    CrLf,
    /// A bare `\n` (RFC 8866 §5 asks parsers to accept it).
    Lf,
    /// No line ending: the last line of a body that does not end with one.
    None,
}

impl LineEnding {
    const fn as_str(self) -> &'static str {
        match self {
            Self::CrLf => "\r\n",
            Self::Lf => "\n",
            Self::None => "",
        }
    }
}

/// One `<type>=<value>` line, raw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<'a> {
    typ: u8,
    value: Cow<'a, str>,
    ending: LineEnding,
}

impl<'a> Line<'a> {
    /// A line of type `typ` (an ASCII lowercase letter) with `value`, ending in CRLF.
    ///
    /// Returns `None` if `typ` is not a lowercase letter or `value` contains CR or LF.
    pub fn new(typ: u8, value: impl Into<Cow<'a, str>>) -> Option<Self> {
        let value = value.into();
        if !typ.is_ascii_lowercase() || value.bytes().any(|b| b == b'\r' || b == b'\n') {
            return None;
        }
        Some(Self {
            typ,
            value,
            ending: LineEnding::CrLf,
        })
    }

    /// The type letter (`b'a'`, `b'c'`…).
    pub fn typ(&self) -> u8 {
        self.typ
    }

    /// The text after `<type>=`.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// How this line ended in the parsed text.
    pub fn ending(&self) -> LineEnding {
        self.ending
    }

    /// The attribute of an `a=` line, or `None` for other lines.
    pub fn attribute(&self) -> Option<RawAttribute<'_>> {
        (self.typ == b'a').then(|| RawAttribute::split(&self.value))
    }

    fn into_owned(self) -> Line<'static> {
        Line {
            typ: self.typ,
            value: Cow::Owned(self.value.into_owned()),
            ending: self.ending,
        }
    }

    fn emit(&self, out: &mut String) {
        out.push(char::from(self.typ));
        out.push('=');
        out.push_str(&self.value);
        out.push_str(self.ending.as_str());
    }
}

/// A media description: its `m=` line and the lines that follow it up to the next `m=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription<'a> {
    m: Line<'a>,
    lines: Vec<Line<'a>>,
}

impl<'a> MediaDescription<'a> {
    /// A media description from an `m=` value (`"audio 4000 RTP/AVP 0 8"`).
    pub fn new(m: impl Into<Cow<'a, str>>) -> Result<Self, SdpError> {
        let m = Line::new(b'm', m).ok_or(invalid("m="))?;
        MediaLine::parse(&m.value)?;
        Ok(Self {
            m,
            lines: Vec::new(),
        })
    }

    /// The `m=` line, decoded.
    pub fn media_line(&self) -> MediaLine<'_> {
        // Invariant: `m` was checked by `MediaLine::parse` when this value was built
        // (`new` or the session parser), and it is never modified afterwards.
        MediaLine::parse(&self.m.value).expect("m= line validated at construction")
    }

    /// The raw `m=` line.
    pub fn m_line(&self) -> &Line<'a> {
        &self.m
    }

    /// The lines after `m=`, in order.
    pub fn lines(&self) -> &[Line<'a>] {
        &self.lines
    }

    /// Appends a line (`i=`, `c=`, `b=`, `k=`, `a=`); returns `false` (and appends nothing)
    /// if the line cannot be built (see [`Line::new`]) or is an `m=`/`v=` line.
    pub fn push_line(&mut self, typ: u8, value: impl Into<Cow<'a, str>>) -> bool {
        match Line::new(typ, value) {
            Some(l) if typ != b'm' && typ != b'v' => {
                self.lines.push(l);
                true
            }
            _ => false,
        }
    }

    /// Appends `a=<attribute>` (the text after `a=`, e.g. `"rtcp-mux"` or `"mid:0"`).
    pub fn push_attribute(&mut self, attribute: impl Into<Cow<'a, str>>) -> bool {
        self.push_line(b'a', attribute)
    }

    /// The `i=` (title) value of this section.
    pub fn information(&self) -> Option<&str> {
        find_line(&self.lines, b'i')
    }

    /// The `k=` value of this section, raw (obsolete, RFC 8866 §5.12).
    pub fn encryption_key(&self) -> Option<&str> {
        find_line(&self.lines, b'k')
    }

    /// The `c=` line of this section, if any.
    pub fn connection(&self) -> Option<Result<Connection<'_>, SdpError>> {
        find_line(&self.lines, b'c').map(Connection::parse)
    }

    /// The `b=` lines.
    pub fn bandwidths(&self) -> impl Iterator<Item = Result<Bandwidth<'_>, SdpError>> {
        lines_of(&self.lines, b'b').map(Bandwidth::parse)
    }

    /// The `a=` lines, raw, in order.
    pub fn attributes(&self) -> impl Iterator<Item = RawAttribute<'_>> {
        attributes_of(&self.lines)
    }

    /// The first attribute named `name` (case-sensitive, as RFC 8866 §6 names are).
    pub fn attribute(&self, name: &str) -> Option<RawAttribute<'_>> {
        self.attributes().find(|a| a.name == name)
    }

    /// Whether a flag attribute (`a=rtcp-mux`…) is present.
    pub fn has_attribute(&self, name: &str) -> bool {
        self.attribute(name).is_some()
    }

    /// The direction attribute of this section only (see
    /// [`SessionDescription::direction`] for the inherited one).
    pub fn direction(&self) -> Option<Direction> {
        self.attributes().find_map(|a| Direction::from_name(a.name))
    }

    /// The `a=mid` value.
    pub fn mid(&self) -> Option<&str> {
        self.attribute("mid").and_then(|a| a.value)
    }

    /// The `a=rtpmap` attributes; malformed ones are yielded as errors.
    pub fn rtpmaps(&self) -> impl Iterator<Item = Result<Rtpmap<'_>, SdpError>> {
        self.attributes()
            .filter(|a| a.name == "rtpmap")
            .map(|a| Rtpmap::parse(a.value.unwrap_or("")))
    }

    /// The well-formed `a=rtpmap` for payload type `pt`.
    pub fn rtpmap(&self, pt: u8) -> Option<Rtpmap<'_>> {
        self.rtpmaps()
            .filter_map(Result::ok)
            .find(|r| r.payload_type == pt)
    }

    /// The well-formed `a=fmtp` for payload type `pt`.
    pub fn fmtp(&self, pt: u8) -> Option<Fmtp<'_>> {
        self.attributes()
            .filter(|a| a.name == "fmtp")
            .filter_map(|a| Fmtp::parse(a.value.unwrap_or("")).ok())
            .find(|f| f.payload_type() == Some(pt))
    }

    /// `a=ptime` in milliseconds, if present and well-formed.
    pub fn ptime(&self) -> Option<u32> {
        self.attribute("ptime")
            .and_then(|a| a.value)
            .and_then(|v| v.trim().parse().ok())
    }

    /// `a=maxptime` in milliseconds, if present and well-formed.
    pub fn maxptime(&self) -> Option<u32> {
        self.attribute("maxptime")
            .and_then(|a| a.value)
            .and_then(|v| v.trim().parse().ok())
    }

    /// The `a=rtcp` attribute (RFC 3605).
    pub fn rtcp(&self) -> Option<Result<Rtcp<'_>, SdpError>> {
        self.attribute("rtcp")
            .map(|a| Rtcp::parse(a.value.unwrap_or("")))
    }

    /// Whether `a=rtcp-mux` (RFC 5761) is present.
    pub fn rtcp_mux(&self) -> bool {
        self.has_attribute("rtcp-mux")
    }

    /// The `a=candidate` attributes (RFC 8839 §5.1); malformed ones are yielded as errors.
    pub fn candidates(&self) -> impl Iterator<Item = Result<Candidate<'_>, SdpError>> {
        self.attributes()
            .filter(|a| a.name == "candidate")
            .map(|a| Candidate::parse(a.value.unwrap_or("")))
    }

    /// The `a=crypto` attributes (RFC 4568); malformed ones are yielded as errors.
    pub fn cryptos(&self) -> impl Iterator<Item = Result<Crypto<'_>, SdpError>> {
        self.attributes()
            .filter(|a| a.name == "crypto")
            .map(|a| Crypto::parse(a.value.unwrap_or("")))
    }

    /// Every attribute, decoded (unknown ones as [`Attribute::Other`]).
    pub fn typed_attributes(&self) -> impl Iterator<Item = Result<Attribute<'_>, SdpError>> {
        self.attributes().map(|a| a.typed())
    }

    fn emit(&self, out: &mut String) {
        self.m.emit(out);
        for l in &self.lines {
            l.emit(out);
        }
    }

    /// Copies every borrowed line, detaching the description from the parsed text.
    pub fn into_owned(self) -> MediaDescription<'static> {
        MediaDescription {
            m: self.m.into_owned(),
            lines: self.lines.into_iter().map(Line::into_owned).collect(),
        }
    }
}

/// Short name for [`SessionDescription`].
pub type Sdp<'a> = SessionDescription<'a>;

/// A session description: the session-level lines and the media descriptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription<'a> {
    lines: Vec<Line<'a>>,
    media: Vec<MediaDescription<'a>>,
    trailer: Cow<'a, str>,
}

impl<'a> SessionDescription<'a> {
    /// Parses an SDP body (RFC 8866 §5), borrowing from it.
    ///
    /// Checks: `v=0` first, `o=` present and well-formed, every `m=` and `c=` line
    /// well-formed, every line `<lowercase letter>=<value>`. Other lines are decoded only
    /// when asked for. Lines may end in CRLF or LF; blank lines are accepted only at the
    /// end (kept, so the body is reproduced exactly).
    pub fn parse(text: &'a str) -> Result<Self, SdpError> {
        let mut lines = Vec::new();
        let mut media: Vec<MediaDescription<'a>> = Vec::new();
        let mut rest = text;
        let mut number = 0usize;
        let mut trailer = "";
        while !rest.is_empty() {
            number += 1;
            let (raw, ending, next) = match rest.find('\n') {
                Some(i) => {
                    let line = &rest[..i];
                    let next = &rest[i + 1..];
                    match line.strip_suffix('\r') {
                        Some(l) => (l, LineEnding::CrLf, next),
                        None => (line, LineEnding::Lf, next),
                    }
                }
                None => (rest, LineEnding::None, ""),
            };
            if raw.is_empty() {
                if rest.bytes().all(|b| b == b'\r' || b == b'\n') {
                    trailer = rest;
                    break;
                }
                return Err(SdpError::BadLine { line: number });
            }
            let b = raw.as_bytes();
            if b.len() < 2 || !b[0].is_ascii_lowercase() || b[1] != b'=' {
                return Err(SdpError::BadLine { line: number });
            }
            let line = Line {
                typ: b[0],
                value: Cow::Borrowed(&raw[2..]),
                ending,
            };
            if number == 1 && (line.typ != b'v' || line.value != "0") {
                return Err(SdpError::BadVersion);
            }
            match line.typ {
                b'm' => {
                    MediaLine::parse(&line.value)?;
                    media.push(MediaDescription {
                        m: line,
                        lines: Vec::new(),
                    });
                }
                typ => {
                    if typ == b'c' {
                        Connection::parse(&line.value)?;
                    }
                    match media.last_mut() {
                        Some(m) => m.lines.push(line),
                        None => lines.push(line),
                    }
                }
            }
            rest = next;
        }
        if number == 0 {
            return Err(SdpError::BadVersion);
        }
        let sdp = Self {
            lines,
            media,
            trailer: Cow::Borrowed(trailer),
        };
        sdp.origin().ok_or(SdpError::Missing { field: "o=" })??;
        Ok(sdp)
    }

    /// Parses an SDP body given as bytes (it must be UTF-8).
    pub fn parse_bytes(bytes: &'a [u8]) -> Result<Self, SdpError> {
        Self::parse(core::str::from_utf8(bytes).map_err(|_| SdpError::NotUtf8)?)
    }

    /// A new description with `v=0`, `o=`, `s=` and `t=0 0`, ready for attributes and media.
    pub fn new(origin: &Origin<'_>, session_name: &str) -> Self {
        let mut sdp = Self {
            lines: Vec::new(),
            media: Vec::new(),
            trailer: Cow::Borrowed(""),
        };
        sdp.lines.push(Line {
            typ: b'v',
            value: Cow::Borrowed("0"),
            ending: LineEnding::CrLf,
        });
        sdp.push_line(b'o', alloc::format!("{origin}"));
        let name = if session_name.is_empty() || session_name.contains(['\r', '\n']) {
            "-"
        } else {
            session_name
        };
        sdp.push_line(b's', String::from(name));
        sdp.push_line(b't', "0 0");
        sdp
    }

    /// The session-level lines (everything before the first `m=`), in order.
    pub fn lines(&self) -> &[Line<'a>] {
        &self.lines
    }

    /// The media descriptions, in order.
    pub fn media(&self) -> &[MediaDescription<'a>] {
        &self.media
    }

    /// Appends a session-level line; returns `false` if it cannot be built or is `m=`/`v=`.
    pub fn push_line(&mut self, typ: u8, value: impl Into<Cow<'a, str>>) -> bool {
        match Line::new(typ, value) {
            Some(l) if typ != b'm' && typ != b'v' => {
                self.lines.push(l);
                true
            }
            _ => false,
        }
    }

    /// Appends a session-level `a=` line.
    pub fn push_attribute(&mut self, attribute: impl Into<Cow<'a, str>>) -> bool {
        self.push_line(b'a', attribute)
    }

    /// Appends a media description.
    pub fn push_media(&mut self, media: MediaDescription<'a>) {
        self.media.push(media);
    }

    /// The `o=` line (RFC 8866 §5.2).
    pub fn origin(&self) -> Option<Result<Origin<'_>, SdpError>> {
        find_line(&self.lines, b'o').map(Origin::parse)
    }

    /// The `s=` value.
    pub fn session_name(&self) -> Option<&str> {
        find_line(&self.lines, b's')
    }

    /// The session `i=` (information) value.
    pub fn information(&self) -> Option<&str> {
        find_line(&self.lines, b'i')
    }

    /// The `u=` (URI) value.
    pub fn uri(&self) -> Option<&str> {
        find_line(&self.lines, b'u')
    }

    /// The `e=` (email) values.
    pub fn emails(&self) -> impl Iterator<Item = &str> {
        lines_of(&self.lines, b'e')
    }

    /// The `p=` (phone) values.
    pub fn phones(&self) -> impl Iterator<Item = &str> {
        lines_of(&self.lines, b'p')
    }

    /// The `r=` (repeat) values, raw (RFC 8866 §5.10).
    pub fn repeats(&self) -> impl Iterator<Item = &str> {
        lines_of(&self.lines, b'r')
    }

    /// The `z=` (time zones) value, raw (RFC 8866 §5.11).
    pub fn time_zones(&self) -> Option<&str> {
        find_line(&self.lines, b'z')
    }

    /// The session `k=` value, raw (obsolete, RFC 8866 §5.12).
    pub fn encryption_key(&self) -> Option<&str> {
        find_line(&self.lines, b'k')
    }

    /// The session-level `c=` line.
    pub fn connection(&self) -> Option<Result<Connection<'_>, SdpError>> {
        find_line(&self.lines, b'c').map(Connection::parse)
    }

    /// The session-level `b=` lines.
    pub fn bandwidths(&self) -> impl Iterator<Item = Result<Bandwidth<'_>, SdpError>> {
        lines_of(&self.lines, b'b').map(Bandwidth::parse)
    }

    /// The `t=` lines.
    pub fn timings(&self) -> impl Iterator<Item = Result<Timing, SdpError>> {
        lines_of(&self.lines, b't').map(Timing::parse)
    }

    /// The session-level `a=` lines, raw, in order.
    pub fn attributes(&self) -> impl Iterator<Item = RawAttribute<'_>> {
        attributes_of(&self.lines)
    }

    /// The first session-level attribute named `name`.
    pub fn attribute(&self, name: &str) -> Option<RawAttribute<'_>> {
        self.attributes().find(|a| a.name == name)
    }

    /// The `a=group` attributes (RFC 5888).
    pub fn groups(&self) -> impl Iterator<Item = Result<Group<'_>, SdpError>> {
        self.attributes()
            .filter(|a| a.name == "group")
            .map(|a| Group::parse(a.value.unwrap_or("")))
    }

    /// The `a=group:BUNDLE` group (RFC 8843), if any.
    pub fn bundle(&self) -> Option<Group<'_>> {
        self.groups()
            .filter_map(Result::ok)
            .find(|g| g.semantics == "BUNDLE")
    }

    /// Whether the session declares `a=ice-lite` (RFC 8839 §5.3).
    pub fn ice_lite(&self) -> bool {
        self.attribute("ice-lite").is_some()
    }

    /// The `c=` that applies to `media`: its own, else the session's.
    pub fn connection_for<'s>(
        &'s self,
        media: &'s MediaDescription<'_>,
    ) -> Option<Result<Connection<'s>, SdpError>> {
        media.connection().or_else(|| self.connection())
    }

    /// The direction of `media` (RFC 3264 §5.1): its own attribute, else the session's,
    /// else `sendrecv`.
    pub fn direction(&self, media: &MediaDescription<'_>) -> Direction {
        media
            .direction()
            .or_else(|| self.attributes().find_map(|a| Direction::from_name(a.name)))
            .unwrap_or(Direction::SendRecv)
    }

    /// Whether `media` is an ICE section (RFC 8839 §5.1, RFC 9429 §5.2.1), where `c=` is
    /// only the default candidate's address and JSEP writes `c=IN IP4 0.0.0.0` before any
    /// candidate is known: ICE credentials apply to it (media or session level), its proto
    /// is one of JSEP's DTLS profiles (RFC 9429 §5.1.2: `UDP/TLS/RTP/SAVPF`,
    /// `TCP/DTLS/RTP/SAVPF`, `UDP/DTLS/SCTP`…, used only over ICE, RFC 8827 §6.4), or it is
    /// in the `a=group:BUNDLE` of a section with ICE credentials (RFC 8843 §7.1.3: a
    /// bundled section's transport attributes may be only in the tagged section).
    pub fn uses_ice(&self, media: &MediaDescription<'_>) -> bool {
        let proto = media.media_line().proto;
        if self.ice_credentials(media).is_some()
            || ["UDP/TLS/", "TCP/DTLS/", "UDP/DTLS/"]
                .iter()
                .any(|p| proto.starts_with(p))
        {
            return true;
        }
        let (Some(group), Some(mid)) = (self.bundle(), media.mid()) else {
            return false;
        };
        group.contains(mid)
            && self.media.iter().any(|m| {
                m.mid().is_some_and(|x| group.contains(x)) && self.ice_credentials(m).is_some()
            })
    }

    /// Whether `media` is put on hold the RFC 2543 way (RFC 3264 §8.4, RFC 6337 §5.3): the
    /// `c=` that applies to it (its own, else the session's) has the unspecified address
    /// (`0.0.0.0`, or its IPv6 counterpart `::`, which carries no address either), and it is
    /// not an ICE section (see [`Self::uses_ice`]), where that address is only JSEP's default.
    pub fn is_old_style_hold(&self, media: &MediaDescription<'_>) -> bool {
        self.connection_for(media)
            .and_then(Result::ok)
            .is_some_and(|c| c.is_unspecified())
            && !self.uses_ice(media)
    }

    /// The direction `media` states from its writer's side, as RFC 3264 §8.4 asks a
    /// recipient to read it: [`Self::direction`] (media attribute, else session attribute,
    /// else `sendrecv`), with "receives" cleared when the section is on hold the RFC 2543
    /// way ([`Self::is_old_style_hold`]): the writer gave no address to send to.
    pub fn effective_direction(&self, media: &MediaDescription<'_>) -> Direction {
        let d = self.direction(media);
        if self.is_old_style_hold(media) {
            Direction::from_flags(d.sends(), false)
        } else {
            d
        }
    }

    /// The attribute `name` of `media`, else of the session (for the attributes that may be
    /// given at either level: ice-ufrag, ice-pwd, ice-options, fingerprint, setup).
    pub fn inherited<'s>(
        &'s self,
        media: &'s MediaDescription<'_>,
        name: &str,
    ) -> Option<RawAttribute<'s>> {
        media.attribute(name).or_else(|| self.attribute(name))
    }

    /// The well-formed `a=fingerprint` values that apply to `media` (media level first,
    /// else session level); unknown hash functions are skipped.
    pub fn fingerprints<'s>(
        &'s self,
        media: &'s MediaDescription<'_>,
    ) -> impl Iterator<Item = Fingerprint> + 's {
        let media_level = media.has_attribute("fingerprint");
        let source: &'s [Line<'_>] = if media_level {
            &media.lines
        } else {
            &self.lines
        };
        attributes_of(source)
            .filter(|a| a.name == "fingerprint")
            .filter_map(|a| Fingerprint::parse(a.value.unwrap_or("")).ok())
    }

    /// The `a=setup` role that applies to `media` (RFC 4145).
    pub fn setup(&self, media: &MediaDescription<'_>) -> Option<Result<Setup, SdpError>> {
        self.inherited(media, "setup")
            .map(|a| Setup::parse(a.value.unwrap_or("")))
    }

    /// The ICE ufrag and password that apply to `media`.
    pub fn ice_credentials<'s>(
        &'s self,
        media: &'s MediaDescription<'_>,
    ) -> Option<(&'s str, &'s str)> {
        let ufrag = self.inherited(media, "ice-ufrag")?.value?;
        let pwd = self.inherited(media, "ice-pwd")?.value?;
        Some((ufrag, pwd))
    }

    /// Writes the description to `out`, reproducing a parsed body byte for byte.
    pub fn emit(&self, out: &mut String) {
        for l in &self.lines {
            l.emit(out);
        }
        for m in &self.media {
            m.emit(out);
        }
        out.push_str(&self.trailer);
    }

    /// Copies every borrowed line, detaching the description from the parsed text.
    pub fn into_owned(self) -> SessionDescription<'static> {
        SessionDescription {
            lines: self.lines.into_iter().map(Line::into_owned).collect(),
            media: self
                .media
                .into_iter()
                .map(MediaDescription::into_owned)
                .collect(),
            trailer: Cow::Owned(self.trailer.into_owned()),
        }
    }
}

impl fmt::Display for SessionDescription<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.emit(&mut s);
        f.write_str(&s)
    }
}

fn find_line<'s>(lines: &'s [Line<'_>], typ: u8) -> Option<&'s str> {
    lines.iter().find(|l| l.typ == typ).map(|l| l.value())
}

fn lines_of<'s>(lines: &'s [Line<'_>], typ: u8) -> impl Iterator<Item = &'s str> {
    lines
        .iter()
        .filter(move |l| l.typ == typ)
        .map(|l| l.value())
}

fn attributes_of<'s>(lines: &'s [Line<'_>]) -> impl Iterator<Item = RawAttribute<'s>> {
    lines.iter().filter_map(Line::attribute)
}

#[cfg(test)]
mod tests;
