//! The owned SIP message form the transaction, dialog and UA layers keep (RFC 3261 §7).
//!
//! Input: a message parsed by the shared message layer ([`SipMsg::from_message`]; the UA's
//! path), or bytes ([`SipMsg::parse`], which runs the same message-layer parser: there is
//! one SIP parser in the crate). Output: a [`SipMsg`] with the start line, the headers in
//! order (compact forms expanded, folds joined, comma-separated Via/Route/Record-Route/
//! Contact values split one per entry) and the body;
//! and back to bytes with a correct Content-Length. Helpers read the few header parameters
//! the state machines need (branch, tags, CSeq, Expires…). Parsing is bounded: at most
//! [`MAX_HEADERS`] headers, never panics on peer input.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::sip::scan::{find_byte, split_byte};

/// The most headers a message may carry before it is rejected as malformed.
pub const MAX_HEADERS: usize = 128;

/// A SIP method (RFC 3261 §7.1 and the extension RFCs the UA implements).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    /// INVITE (RFC 3261).
    Invite,
    /// ACK (RFC 3261).
    Ack,
    /// BYE (RFC 3261).
    Bye,
    /// CANCEL (RFC 3261).
    Cancel,
    /// OPTIONS (RFC 3261).
    Options,
    /// REGISTER (RFC 3261).
    Register,
    /// PRACK (RFC 3262).
    Prack,
    /// UPDATE (RFC 3311).
    Update,
    /// INFO (RFC 6086).
    Info,
    /// MESSAGE (RFC 3428).
    Message,
    /// REFER (RFC 3515).
    Refer,
    /// NOTIFY (RFC 6665).
    Notify,
    /// SUBSCRIBE (RFC 6665).
    Subscribe,
    /// Any other method token.
    Other(String),
}

impl Method {
    /// Parses a method token (case-sensitive, §7.1).
    pub fn from_token(s: &str) -> Method {
        Method::from_parsed(crate::sip::Method::from_str_exact(s))
    }

    /// The owned form of the message layer's method (one table of method names).
    fn from_parsed(m: crate::sip::Method<'_>) -> Method {
        use crate::sip::Method as P;
        match m {
            P::Invite => Method::Invite,
            P::Ack => Method::Ack,
            P::Bye => Method::Bye,
            P::Cancel => Method::Cancel,
            P::Options => Method::Options,
            P::Register => Method::Register,
            P::Prack => Method::Prack,
            P::Update => Method::Update,
            P::Info => Method::Info,
            P::Message => Method::Message,
            P::Refer => Method::Refer,
            P::Notify => Method::Notify,
            P::Subscribe => Method::Subscribe,
            other => Method::Other(other.as_str().to_owned()),
        }
    }

    /// The method token (the message layer's table of method names).
    pub fn as_str(&self) -> &str {
        self.as_parsed().as_str()
    }

    /// The message layer's form of the method.
    fn as_parsed(&self) -> crate::sip::Method<'_> {
        use crate::sip::Method as P;
        match self {
            Method::Invite => P::Invite,
            Method::Ack => P::Ack,
            Method::Bye => P::Bye,
            Method::Cancel => P::Cancel,
            Method::Options => P::Options,
            Method::Register => P::Register,
            Method::Prack => P::Prack,
            Method::Update => P::Update,
            Method::Info => P::Info,
            Method::Message => P::Message,
            Method::Refer => P::Refer,
            Method::Notify => P::Notify,
            Method::Subscribe => P::Subscribe,
            Method::Other(s) => P::Other(s),
        }
    }
}

impl Clone for Method {
    /// Through the message layer's form and back (two conversions the crate has anyway,
    /// rather than a third match): `Other` stays `Other`, with a copy of its token.
    fn clone(&self) -> Method {
        Method::from_parsed(self.as_parsed())
    }
}

/// Appends `n` in decimal, without `core::fmt` (the serializer's, shared with the browser
/// bindings so that the package holds one copy).
pub fn push_decimal(out: &mut Vec<u8>, n: u64) {
    let mut buf = [0u8; 20];
    out.extend_from_slice(crate::sip::text::decimal(n, &mut buf));
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The start line of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    /// `Method Request-URI SIP/2.0`.
    Request {
        /// The method.
        method: Method,
        /// The Request-URI, as text.
        uri: String,
    },
    /// `SIP/2.0 Status-Code Reason-Phrase`.
    Response {
        /// The status code (100–699).
        code: u16,
        /// The reason phrase.
        reason: String,
    },
}

/// Why bytes could not be read as a SIP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MsgError {
    /// Not UTF-8 in the header part, no blank line, or a malformed start line.
    Malformed,
    /// The SIP version is not `SIP/2.0` (a request gets 505).
    Version,
    /// A header line without a colon or with an empty name.
    BadHeader,
    /// More than [`MAX_HEADERS`] headers.
    TooManyHeaders,
    /// Content-Length is not a number or is larger than the bytes available.
    BadContentLength,
}

impl fmt::Display for MsgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MsgError::Malformed => "malformed SIP message",
            MsgError::Version => "unsupported SIP version",
            MsgError::BadHeader => "malformed header line",
            MsgError::TooManyHeaders => "too many headers",
            MsgError::BadContentLength => "bad Content-Length",
        })
    }
}

impl core::error::Error for MsgError {}

/// A SIP message in owned form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipMsg {
    /// The start line.
    pub start: StartLine,
    /// The header lines in order, each `Name: value` (canonical name, one `: `, no CRLF):
    /// serialized as they are, read by name ([`SipMsg::header`]). Content-Length is not
    /// kept; it is computed when serializing.
    pub headers: Vec<String>,
    /// The body (SDP, sipfrag, text… opaque here).
    pub body: Vec<u8>,
}

/// The value of header line `line` (`Name: value`) when its name is `name`
/// (case-insensitive).
#[inline(never)]
fn line_value<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let (n, rest) = (line.get(..name.len())?, line.get(name.len()..)?);
    if n.eq_ignore_ascii_case(name) {
        rest.strip_prefix(": ")
    } else {
        None
    }
}

/// The header line `name: value`.
fn line(name: &str, value: &str) -> String {
    let mut l = String::with_capacity(name.len() + 2 + value.len());
    l.push_str(name);
    l.push_str(": ");
    l.push_str(value);
    l
}

/// Splits `v` at commas outside quotes and angle brackets: the non-empty trimmed parts
/// (the message layer's list splitter).
pub fn split_list(v: &str) -> impl Iterator<Item = &str> {
    crate::sip::scan::CommaSplit::new(v).filter(|p| !p.is_empty())
}

/// `v` with each line trimmed and the non-empty lines joined by one space: a folded value
/// as one line (§7.3.1), a single-line value trimmed.
#[inline(never)]
fn unfold(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut start = 0;
    for i in 0..=v.len() {
        if matches!(v.as_bytes().get(i), None | Some(b'\r' | b'\n')) {
            // CR and LF are ASCII: `start..i` lies on char boundaries.
            let line = v.get(start..i).unwrap_or("").trim_ascii();
            if !line.is_empty() {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(line);
            }
            start = i + 1;
        }
    }
    out
}

impl SipMsg {
    /// A request with no headers.
    pub fn request(method: Method, uri: impl Into<String>) -> SipMsg {
        SipMsg::with_start(StartLine::Request {
            method,
            uri: uri.into(),
        })
    }

    /// A message with `start` and no headers (the non-generic part of
    /// [`SipMsg::request`] and [`SipMsg::response`]).
    #[inline(never)]
    fn with_start(start: StartLine) -> SipMsg {
        SipMsg {
            start,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A response with no headers.
    pub fn response(code: u16, reason: impl Into<String>) -> SipMsg {
        SipMsg::with_start(StartLine::Response {
            code,
            reason: reason.into(),
        })
    }

    /// Parses one message with the shared message layer ([`crate::sip::Message`]) and
    /// converts it with [`SipMsg::from_message`]. Stricter than the UA's receive path
    /// (which answers defective requests): a defect the message layer records (malformed
    /// header line, bad or too large Content-Length) is an error here. A body longer than
    /// Content-Length is truncated to it (§18.3).
    pub fn parse(bytes: &[u8]) -> Result<SipMsg, MsgError> {
        use crate::sip::ParseError as P;
        let limits = crate::sip::Limits {
            max_headers: MAX_HEADERS,
            ..crate::sip::Limits::default()
        };
        let m = crate::sip::Message::parse_with(bytes, &limits, crate::sip::Framing::Datagram)
            .map_err(|e| match e {
                P::TooManyHeaders => MsgError::TooManyHeaders,
                P::BadContentLength | P::ConflictingContentLength => MsgError::BadContentLength,
                P::BadHeaderLine => MsgError::BadHeader,
                _ => MsgError::Malformed,
            })?;
        let d = m.defects();
        if d.bad_content_length() || d.short_body() {
            return Err(MsgError::BadContentLength);
        }
        if d.malformed_header() {
            return Err(MsgError::BadHeader);
        }
        if d.irregular_start_line() {
            return Err(MsgError::Malformed);
        }
        let version = m
            .as_request()
            .map(|r| r.version())
            .or_else(|| m.as_response().map(|r| r.version()))
            .unwrap_or("");
        if !version.eq_ignore_ascii_case("SIP/2.0") {
            return Err(MsgError::Version);
        }
        Ok(SipMsg::from_message(&m))
    }

    /// The owned form of a message parsed by the shared message layer
    /// ([`crate::sip::Message`]): names canonical (compact forms expanded), list headers
    /// split one value per entry, Content-Length dropped (recomputed on output).
    pub fn from_message(m: &crate::sip::Message<'_>) -> SipMsg {
        let start = match m {
            crate::sip::Message::Request(r) => StartLine::Request {
                method: Method::from_parsed(r.method()),
                uri: r.uri().to_owned(),
            },
            crate::sip::Message::Response(r) => StartLine::Response {
                code: r.status().as_u16(),
                reason: r.reason().to_owned(),
            },
        };
        let headers = m.headers();
        let mut out: Vec<String> = Vec::new();
        for f in headers.iter() {
            use crate::sip::HeaderName as H;
            let value = unfold(f.value);
            let name = match f.name {
                H::Other => f.raw_name,
                H::ContentLength => continue,
                n => n.as_str(),
            };
            // The values of a list header, one per entry (the UA reads the top Via and the
            // Route/Record-Route/Contact lists).
            if matches!(f.name, H::Via | H::Route | H::RecordRoute | H::Contact)
                && find_byte(value.as_bytes(), 0, b',').is_some()
            {
                for part in crate::sip::scan::CommaSplit::new(&value) {
                    if !part.is_empty() {
                        out.push(line(name, part));
                    }
                }
            } else {
                out.push(line(name, &value));
            }
        }
        SipMsg {
            start,
            headers: out,
            body: m.body().to_vec(),
        }
    }

    /// Serializes with a computed Content-Length (bytes copied directly, no `core::fmt`: this
    /// runs for every message sent).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512 + self.body.len());
        match &self.start {
            StartLine::Request { method, uri } => {
                out.extend_from_slice(method.as_str().as_bytes());
                out.push(b' ');
                out.extend_from_slice(uri.as_bytes());
                out.extend_from_slice(b" SIP/2.0\r\n");
            }
            StartLine::Response { code, reason } => {
                out.extend_from_slice(b"SIP/2.0 ");
                push_decimal(&mut out, u64::from(*code));
                out.push(b' ');
                out.extend_from_slice(reason.as_bytes());
                out.extend_from_slice(b"\r\n");
            }
        }
        for l in &self.headers {
            out.extend_from_slice(l.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"Content-Length: ");
        push_decimal(&mut out, self.body.len() as u64);
        out.extend_from_slice(b"\r\n\r\n");
        out.extend_from_slice(&self.body);
        out
    }

    /// The method of a request, or of the CSeq of a response.
    pub fn method(&self) -> Option<Method> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method.clone()),
            StartLine::Response { .. } => self.cseq().map(|(_, m)| m),
        }
    }

    /// The status code of a response.
    pub fn code(&self) -> Option<u16> {
        match self.start {
            StartLine::Response { code, .. } => Some(code),
            StartLine::Request { .. } => None,
        }
    }

    /// Whether this is a request.
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// The Request-URI of a request.
    pub fn uri(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }

    /// The first value of header `name` (canonical name, case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        Named {
            headers: &self.headers,
            name,
        }
        .next()
    }

    /// All values of header `name`, in order.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        Named {
            headers: &self.headers,
            name,
        }
    }

    /// Appends a header.
    pub fn push(&mut self, name: &'static str, value: impl AsRef<str>) -> &mut Self {
        self.push_str(name, value.as_ref())
    }

    /// [`SipMsg::push`] without the generic conversion (one copy of the code).
    #[inline(never)]
    fn push_str(&mut self, name: &'static str, value: &str) -> &mut Self {
        self.headers.push(line(name, value));
        self
    }

    /// Appends a copy of the first value of `name` in `from` (every value when `all`).
    #[inline(never)]
    pub(crate) fn copy_from(&mut self, from: &SipMsg, name: &'static str, all: bool) {
        for v in from.headers_named(name) {
            self.push_str(name, v);
            if !all {
                return;
            }
        }
    }

    /// Inserts a header before all others (a new top Via).
    pub fn push_front(&mut self, name: &'static str, value: impl AsRef<str>) -> &mut Self {
        self.push_front_str(name, value.as_ref())
    }

    /// [`SipMsg::push_front`] without the generic conversion.
    #[inline(never)]
    fn push_front_str(&mut self, name: &'static str, value: &str) -> &mut Self {
        self.headers.insert(0, line(name, value));
        self
    }

    /// Replaces every value of `name` by one value (appended if absent).
    pub fn set(&mut self, name: &'static str, value: impl AsRef<str>) -> &mut Self {
        self.replace(name, Some(value.as_ref()));
        self
    }

    /// Puts the line `name: new` in place of the first value of `name`, appended when
    /// there is none, and drops the others ([`SipMsg::set`]; [`SipMsg::remove`] with
    /// `None`, which only drops): one loop for both.
    #[inline(never)]
    fn replace(&mut self, name: &str, new: Option<&str>) {
        let mut new = new.map(|v| line(name, v));
        let mut i = 0;
        while let Some(l) = self.headers.get_mut(i) {
            if line_value(l, name).is_some() {
                let Some(n) = new.take() else {
                    self.headers.remove(i);
                    continue;
                };
                *l = n;
            }
            i += 1;
        }
        if let Some(n) = new {
            self.headers.push(n);
        }
    }

    /// The server transport's note of where a request came from, in its top Via (RFC 3261
    /// §18.2.1, RFC 3581 §4): `received=<source IP>` when the sent-by host is not that
    /// address or the client asked for `rport`, and the source port as the value of an
    /// empty `rport`. Responses copy the Via, so a client behind NAT learns the address
    /// its requests come from (and responses reach it there). Parameters already present
    /// are left as they are.
    #[cfg(feature = "sip-server")]
    pub fn note_source_in_via(&mut self, source: core::net::SocketAddr) {
        let Some(l) = self
            .headers
            .iter_mut()
            .find(|l| line_value(l, "Via").is_some())
        else {
            return;
        };
        // The value: the line's tail past `Via: `, edited in place below.
        let mut via = l.split_off("Via: ".len());
        let rport = param(&via, "rport");
        let sent_by = crate::sip::transaction::via_sent_by(&via);
        let host = match sent_by.strip_prefix('[') {
            Some(v6) => split_byte(v6, b']').0,
            None => split_byte(sent_by, b':').0,
        };
        let same_host = match source.ip() {
            core::net::IpAddr::V4(a) => crate::sip::ip::parse_ipv4(host) == Some(a),
            core::net::IpAddr::V6(a) => crate::sip::ip::parse_ipv6(host) == Some(a),
        };
        let mut add = String::new();
        if (!same_host || rport.is_some()) && param(&via, "received").is_none() {
            add.push_str(";received=");
            match source.ip() {
                core::net::IpAddr::V4(a) => crate::sip::ip::push_ipv4(&mut add, a),
                core::net::IpAddr::V6(a) => crate::sip::ip::push_ipv6(&mut add, a),
            }
        }
        if rport == Some("") {
            // Drop the empty flag (`;rport` — no '=' and no quoting in a Via's rport) and
            // append it with the port.
            let mut from = 0;
            while let Some(at) = find_byte(via.as_bytes(), from, b';') {
                let end = find_byte(via.as_bytes(), at + 1, b';').unwrap_or(via.len());
                let seg = via.get(at + 1..end).unwrap_or("").trim_ascii();
                if seg.eq_ignore_ascii_case("rport") {
                    via.replace_range(at..end, "");
                    break;
                }
                from = at + 1;
            }
            add.push_str(";rport=");
            crate::sip::text::push_u64(&mut add, u64::from(source.port()));
        }
        l.push_str(&via);
        l.push_str(&add);
    }

    /// Removes every value of `name`.
    pub fn remove(&mut self, name: &str) {
        self.replace(name, None);
    }

    /// The CSeq number (below 2^31, §8.1.1.5) and method, read by the message layer's
    /// CSeq parser (the one the UA validates received messages with).
    pub fn cseq(&self) -> Option<(u32, Method)> {
        let c = crate::sip::header::CSeq::parse(self.header("CSeq")?)?;
        (c.seq < (1 << 31)).then(|| (c.seq, Method::from_parsed(c.method)))
    }

    /// The CSeq number (below 2^31, as [`SipMsg::cseq`] reads it), without building its
    /// method: one reader for every place that needs only the number.
    #[inline(never)]
    pub(crate) fn cseq_num(&self) -> Option<u32> {
        crate::sip::header::CSeq::parse(self.header("CSeq")?)
            .map(|c| c.seq)
            .filter(|&n| n < 1 << 31)
    }

    /// The Call-ID.
    pub fn call_id(&self) -> Option<&str> {
        self.header("Call-ID").filter(|v| !v.is_empty())
    }

    /// The top Via value.
    pub fn top_via(&self) -> Option<&str> {
        self.header("Via")
    }

    /// The branch parameter of the top Via.
    pub fn branch(&self) -> Option<&str> {
        param(self.top_via()?, "branch")
    }

    /// The tag parameter of the From header.
    pub fn from_tag(&self) -> Option<&str> {
        param(self.header("From")?, "tag")
    }

    /// The tag parameter of the To header.
    pub fn to_tag(&self) -> Option<&str> {
        param(self.header("To")?, "tag")
    }

    /// The URI of the first Contact.
    pub fn contact_uri(&self) -> Option<&str> {
        self.header("Contact").map(addr_uri)
    }

    /// Whether a comma-separated option-tag header (Supported/Require) lists `tag`.
    pub fn has_option(&self, header: &str, tag: &str) -> bool {
        // The message layer's list splitter (option tags are tokens: no quotes to skip).
        for v in self.headers_named(header) {
            for t in crate::sip::scan::CommaSplit::new(v) {
                if t.eq_ignore_ascii_case(tag) {
                    return true;
                }
            }
        }
        false
    }
}

/// The values of one header name ([`SipMsg::headers_named`]): one plain `next` rather
/// than a filter/map chain that each consumer would instantiate anew.
struct Named<'a, 'n> {
    headers: &'a [String],
    name: &'n str,
}

impl<'a> Iterator for Named<'a, '_> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        while let Some((l, rest)) = self.headers.split_first() {
            self.headers = rest;
            if let Some(v) = line_value(l, self.name) {
                return Some(v);
            }
        }
        None
    }
}

/// The value of parameter `name` in a header value (`;name=value`, outside `<…>` and
/// quotes); `Some("")` for a flag parameter.
pub fn param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    // The parameters of a name-addr (To, From, Contact, Route…) follow its addr-spec: the
    // message layer's name-addr reader (the validator's) finds them, past a quoted display
    // name or a `>` in a quoted parameter value (`+sip.instance="<urn:…>"`). Other values
    // (Via, Session-Expires…, or a name-addr that does not parse) are read whole.
    let tail = match crate::sip::header::NameAddr::parse(value) {
        Some(a) => a.params.as_str(),
        None => value,
    };
    // The message layer's parameter scanner, in its lenient mode.
    crate::sip::lenient_param(tail, name)
}

/// The URI of a name-addr or addr-spec header value (`"A" <sip:a@b>;tag=1` → `sip:a@b`).
pub fn addr_uri(value: &str) -> &str {
    // The message layer's name-addr reader (the validator's, which `param` uses too).
    match crate::sip::header::NameAddr::parse(value) {
        Some(a) => a.uri.trim_ascii(),
        None => split_byte(value, b';').0.trim_ascii(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The top Via of a request with `via` after it was received from `source`.
    #[cfg(feature = "sip-server")]
    fn stamped(via: &str, source: &str) -> String {
        let raw = alloc::format!(
            "OPTIONS sip:b@h SIP/2.0\r\nVia: {via}\r\nVia: SIP/2.0/UDP p;branch=z9hG4bKp\r\n\
             From: <sip:a@h>;tag=f\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n"
        );
        let mut m = SipMsg::parse(raw.as_bytes()).unwrap();
        m.note_source_in_via(source.parse().unwrap());
        // Only the top Via is the server transport's to touch.
        assert_eq!(
            m.headers_named("Via").nth(1),
            Some("SIP/2.0/UDP p;branch=z9hG4bKp")
        );
        m.top_via().unwrap().to_owned()
    }

    #[cfg(feature = "sip-server")]
    #[test]
    fn received_and_rport_noted_as_rfc_3581_asks() {
        // RFC 3581 §4's example: the client's private address, an empty rport.
        assert_eq!(
            stamped(
                "SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff",
                "192.0.2.1:9988"
            ),
            "SIP/2.0/UDP 10.1.1.1:4540;branch=z9hG4bKkjshdyff;received=192.0.2.1;rport=9988"
        );
        // rport last; received is added even when the host is the source (§4).
        assert_eq!(
            stamped(
                "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;RPort",
                "192.0.2.1:40000"
            ),
            "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;received=192.0.2.1;rport=40000"
        );
        // A WebSocket client's `.invalid` host (RFC 7118 §5.2), no rport: received only.
        assert_eq!(
            stamped(
                "SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKx",
                "127.0.0.1:50000"
            ),
            "SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKx;received=127.0.0.1"
        );
        // IPv6 source: received carries the bare address (RFC 3261 §20.42 grammar).
        assert_eq!(
            stamped(
                "SIP/2.0/TCP [2001:db8::9];branch=z9hG4bK2;rport",
                "[2001:db8::1]:5070"
            ),
            "SIP/2.0/TCP [2001:db8::9];branch=z9hG4bK2;received=2001:db8::1;rport=5070"
        );
    }

    #[cfg(feature = "sip-server")]
    #[test]
    fn via_left_alone_when_it_already_says_it() {
        // sent-by is the source and no rport: nothing to note (§18.2.1).
        let via = "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK3";
        assert_eq!(stamped(via, "192.0.2.1:5060"), via);
        let via6 = "SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK3";
        assert_eq!(stamped(via6, "[2001:db8::1]:5060"), via6);
        // rport with a value and received already there (a proxy's doing): untouched.
        let done = "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK4;received=198.51.100.7;rport=1234";
        assert_eq!(stamped(done, "198.51.100.7:1234"), done);
        // An rport-like parameter name is not rport.
        assert_eq!(
            stamped(
                "SIP/2.0/UDP 10.0.0.1;rportx;branch=z9hG4bK5",
                "198.51.100.7:9"
            ),
            "SIP/2.0/UDP 10.0.0.1;rportx;branch=z9hG4bK5;received=198.51.100.7"
        );
    }

    #[test]
    fn decimals_match_core_fmt() {
        for n in [0u64, 7, 10, 200, 65_535, 1_000_000, u64::MAX] {
            let mut out = Vec::new();
            push_decimal(&mut out, n);
            assert_eq!(out, alloc::format!("{n}").into_bytes());
        }
    }

    #[test]
    fn methods_round_trip_through_the_message_layer_table() {
        for t in [
            "INVITE",
            "ACK",
            "BYE",
            "CANCEL",
            "OPTIONS",
            "REGISTER",
            "PRACK",
            "UPDATE",
            "INFO",
            "MESSAGE",
            "REFER",
            "NOTIFY",
            "SUBSCRIBE",
            "PUBLISH",
            "FOO",
            "invite",
        ] {
            let m = Method::from_token(t);
            assert_eq!(m.as_str(), t);
            let known = !matches!(m, Method::Other(_));
            assert_eq!(known, !matches!(t, "PUBLISH" | "FOO" | "invite"), "{t}");
        }
        assert_eq!(Method::from_token("REGISTER"), Method::Register);
        assert_eq!(Method::from_token("PRACK"), Method::Prack);
    }

    #[test]
    fn cseq_number_and_method() {
        let cseq = |v: &'static str| {
            let mut m = SipMsg::response(200, "OK");
            m.push("CSeq", v);
            m.cseq()
        };
        assert_eq!(cseq("7 REGISTER"), Some((7, Method::Register)));
        assert_eq!(
            cseq(" 0009\t  FOO "),
            Some((9, Method::Other("FOO".into())))
        );
        assert_eq!(cseq("2147483647 BYE"), Some((2_147_483_647, Method::Bye)));
        for bad in ["2147483648 BYE", "1", "1 BYE x", "x BYE", "1BYE", ""] {
            assert_eq!(cseq(bad), None, "{bad:?}");
        }
        let m = Method::Other("PUBLISH".into());
        assert_eq!(m.clone(), m);
        assert_eq!(Method::Info.clone(), Method::Info);
    }

    #[test]
    fn set_replaces_the_first_value_in_place_and_remove_drops_all() {
        let mut m = SipMsg::request(Method::Options, "sip:a@b");
        m.push("Via", "1")
            .push("X-A", "a")
            .push("via", "2")
            .push("To", "t");
        m.set("Via", "new");
        let names = |m: &SipMsg| {
            m.headers
                .iter()
                .map(|l| l.replacen(": ", "=", 1))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&m), ["Via=new", "X-A=a", "To=t"]);
        m.set("Route", "r");
        m.remove("x-a");
        m.set("TO", "u");
        assert_eq!(names(&m), ["Via=new", "TO=u", "Route=r"]);
        m.remove("Via");
        assert_eq!(names(&m), ["TO=u", "Route=r"]);
    }

    #[test]
    fn folds_joined_and_lists_split() {
        let m = SipMsg::parse(
            b"OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1 ,\r\n \
              SIP/2.0/UDP b;branch=z9hG4bK2,,\r\nContact: \"x, y\" <sip:c@h;a=1,2>;q=1, <sip:d@h>\r\n\
              Route: <sip:r@h;lr>\r\nSubject:  a \r\n\t b\r\n   c \r\nX-List: 1, 2\r\n\r\n",
        )
        .unwrap();
        let via: Vec<_> = m.headers_named("Via").collect();
        assert_eq!(
            via,
            [
                "SIP/2.0/UDP a;branch=z9hG4bK1",
                "SIP/2.0/UDP b;branch=z9hG4bK2"
            ]
        );
        let contact: Vec<_> = m.headers_named("Contact").collect();
        assert_eq!(contact, ["\"x, y\" <sip:c@h;a=1,2>;q=1", "<sip:d@h>"]);
        assert_eq!(m.header("Route"), Some("<sip:r@h;lr>"));
        assert_eq!(m.header("Subject"), Some("a b c"));
        assert_eq!(m.header("X-List"), Some("1, 2"));
        let parts: Vec<_> = split_list(" <sip:a@h;x=\",\">, ,b ,").collect();
        assert_eq!(parts, ["<sip:a@h;x=\",\">", "b"]);
    }

    #[test]
    fn option_tags_found_in_any_line_and_position() {
        let mut m = SipMsg::response(200, "OK");
        m.push("Supported", "timer ,  100REL")
            .push("Require", "")
            .push("supported", "replaces");
        assert!(m.has_option("Supported", "100rel"));
        assert!(m.has_option("Supported", "timer"));
        assert!(m.has_option("SUPPORTED", "replaces"));
        assert!(!m.has_option("Supported", "100"));
        assert!(!m.has_option("Require", "timer"));
        assert!(!m.has_option("Require", ""));
    }

    #[test]
    fn serializes_start_lines_and_content_length() {
        let mut r = SipMsg::response(486, "Busy Here");
        r.push("CSeq", "1 INVITE");
        r.body = b"xyz".to_vec();
        assert_eq!(
            r.to_bytes(),
            b"SIP/2.0 486 Busy Here\r\nCSeq: 1 INVITE\r\nContent-Length: 3\r\n\r\nxyz"
        );
        let q = SipMsg::request(Method::Options, "sip:a@b");
        assert_eq!(
            q.to_bytes(),
            b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n"
        );
    }

    const INVITE: &[u8] = b"INVITE sip:bob@biloxi.com SIP/2.0\r\n\
v: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds, SIP/2.0/UDP p2;branch=z9hG4bKx\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@biloxi.com>\r\n\
From: \"A, b\" <sip:alice@atlanta.com>;tag=1928301774\r\n\
i: a84b4c76e66710@pc33.atlanta.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@pc33.atlanta.com>\r\n\
Subject: folded\r\n  line\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\r\nv=0\nEXTRA";

    #[test]
    fn parses_rfc3261_invite() {
        let m = SipMsg::parse(INVITE).unwrap();
        assert_eq!(m.method(), Some(Method::Invite));
        assert_eq!(m.branch(), Some("z9hG4bK776asdhds"));
        assert_eq!(m.headers_named("Via").count(), 2);
        assert_eq!(m.from_tag(), Some("1928301774"));
        assert_eq!(m.to_tag(), None);
        assert_eq!(m.cseq(), Some((314_159, Method::Invite)));
        assert_eq!(m.call_id(), Some("a84b4c76e66710@pc33.atlanta.com"));
        assert_eq!(m.header("Subject"), Some("folded line"));
        assert_eq!(m.contact_uri(), Some("sip:alice@pc33.atlanta.com"));
        assert_eq!(m.body, b"v=0\n");
        let again = SipMsg::parse(&m.to_bytes()).unwrap();
        assert_eq!(again, m);
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(SipMsg::parse(b"garbage"), Err(MsgError::Malformed));
        assert_eq!(
            SipMsg::parse(b"INVITE sip:a@b SIP/7.0\r\n\r\n"),
            Err(MsgError::Version)
        );
        assert_eq!(
            SipMsg::parse(b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 99\r\n\r\nx"),
            Err(MsgError::BadContentLength)
        );
        assert_eq!(
            SipMsg::parse(b"INVITE sip:a@b SIP/2.0\r\nNoColon\r\n\r\n"),
            Err(MsgError::BadHeader)
        );
    }

    #[test]
    fn params_and_uris() {
        assert_eq!(
            param("<sip:a@b;lr>;tag=x;expires=30", "expires"),
            Some("30")
        );
        assert_eq!(param("<sip:a@b;lr>;tag=x", "lr"), None);
        // RFC 5626: the quoted instance id holds '<' and '>'; expires after it is still found.
        let c = "<sip:u@192.0.2.1;transport=ws>;+sip.instance=\"<urn:uuid:f81d4fae>\";reg-id=1;expires=300";
        assert_eq!(param(c, "expires"), Some("300"));
        assert_eq!(param(c, "reg-id"), Some("1"));
        assert_eq!(
            param("\"A <b> \\\" c\" <sip:a@b;x=1>;tag=t", "tag"),
            Some("t")
        );
        assert_eq!(param("\"A <b> \\\" c\" <sip:a@b;x=1>;tag=t", "x"), None);
        assert_eq!(param("sip:a@b;lr", "lr"), Some(""));
        // Values that are no name-addr are read whole: Via, Replaces, Session-Expires.
        let via = "SIP/2.0/UDP h:5060;branch=z9hG4bK1;rport";
        assert_eq!(param(via, "branch"), Some("z9hG4bK1"));
        assert_eq!(param(via, "rport"), Some(""));
        assert_eq!(param("c1@h;to-tag=a;from-tag=b", "from-tag"), Some("b"));
        assert_eq!(param("1800;refresher=uac", "refresher"), Some("uac"));
        assert_eq!(param("1800", "refresher"), None);
        assert_eq!(
            addr_uri("\"A\" <sip:a@b:5070;transport=udp>;tag=1"),
            "sip:a@b:5070;transport=udp"
        );
        // An addr-spec ends at its first `;` (the rest are header parameters); a quoted
        // display name may hold `<`; a value the name-addr reader refuses is read up to
        // its first `;`.
        assert_eq!(addr_uri(" sip:a@b;lr;x=1"), "sip:a@b");
        assert_eq!(
            addr_uri("\"<x>\" <sip:c@d?Replaces=e%3Bf>"),
            "sip:c@d?Replaces=e%3Bf"
        );
        assert_eq!(addr_uri("<sip:a@b;lr"), "<sip:a@b");
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = SipMsg::parse(&bytes);
        }
    }
}
