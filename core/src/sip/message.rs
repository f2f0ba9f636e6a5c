//! The zero-copy message tokenizer and borrowed message views (RFC 3261 §7, §18.3).
//!
//! Input: the bytes of one message (a UDP datagram, a WebSocket message, or a frame cut
//! by [`super::StreamFramer`]). Output: a [`Message`] (a [`Request`] or a [`Response`])
//! that borrows the input: the start line, an index of header byte ranges (one `Vec`
//! allocated once per message, sized by a first scan), and the body framed by
//! Content-Length. Header values are decoded on demand through [`Headers`].
//!
//! Parsing is deliberately tolerant where RFC 3261 lets a UAS answer with an error
//! response (bad header *values*, odd request lines, a bad Content-Length in a datagram):
//! those messages parse, and [`super::validate`] decides the response. Parsing fails
//! only where there is nothing to answer: not a SIP start line, a response status out of
//! range, a header line without a colon, a breached [`Limits`], non-UTF-8 head, or
//! conflicting Content-Length values.
use alloc::vec::Vec;
use core::fmt;

pub(crate) use super::headers::Entry;
pub use super::headers::{HeaderField, Headers};
use super::method::{Method, StatusCode};
use super::name::HeaderName;
use super::scan::{
    CRLF, CTL, DIGIT, TOKEN, VERSION, WSP, all_class, count_class, find_byte, parse_u32,
};
use super::uri::{Uri, UriError};

/// Limits against abusive input; every breach is a typed [`ParseError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Maximum size of one message (head and body), bytes. Default 64 KiB.
    pub max_message_size: usize,
    /// Maximum number of header lines. Default 256.
    pub max_headers: usize,
    /// Maximum length of one physical line, bytes. Default 8 KiB.
    pub max_line_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_size: 64 * 1024,
            max_headers: 256,
            max_line_len: 8 * 1024,
        }
    }
}

/// Why bytes could not be parsed as a SIP message. None of these can be answered with a
/// response (no header index exists): the transport drops the datagram, or closes the
/// stream connection (see [`ParseError::action`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// No bytes (or only CRLFs).
    Empty,
    /// The head does not end with an empty line.
    Incomplete,
    /// The message is larger than [`Limits::max_message_size`].
    TooLarge,
    /// More header lines than [`Limits::max_headers`].
    TooManyHeaders,
    /// A line longer than [`Limits::max_line_len`].
    LineTooLong,
    /// The start line and headers are not UTF-8.
    InvalidUtf8,
    /// Neither a Request-Line nor a Status-Line.
    BadStartLine,
    /// A Status-Line whose code is not three digits in 100..=699 (RFC 4475 §3.1.2.11).
    BadStatusCode,
    /// Reserved: malformed header lines are reported as
    /// [`Defects::malformed_header`] (so the request can still be answered with 400).
    BadHeaderLine,
    /// Content-Length is not a number (fatal on streams; in a datagram it is recorded as a
    /// [`Defects`] entry instead).
    BadContentLength,
    /// Several Content-Length headers with different values (RFC 4475 §3.3.11).
    ConflictingContentLength,
    /// A request was expected but a response was parsed, or the reverse.
    WrongKind,
}

/// What the transport does with a message that failed to parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseAction {
    /// Discard silently (UDP, or a WebSocket message).
    Drop,
    /// On a stream the framing is lost: close the connection. (Over UDP: drop.)
    CloseStream,
}

impl ParseError {
    /// The transport action for this error (none of them allows a response).
    pub fn action(&self) -> ParseAction {
        match self {
            ParseError::Empty | ParseError::BadStatusCode | ParseError::WrongKind => {
                ParseAction::Drop
            }
            _ => ParseAction::CloseStream,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::Empty => "empty message",
            Self::Incomplete => "message head is not terminated by an empty line",
            Self::TooLarge => "message exceeds the size limit",
            Self::TooManyHeaders => "too many header lines",
            Self::LineTooLong => "line exceeds the length limit",
            Self::InvalidUtf8 => "message head is not UTF-8",
            Self::BadStartLine => "invalid start line",
            Self::BadStatusCode => "invalid status code",
            Self::BadHeaderLine => "invalid header line",
            Self::BadContentLength => "invalid Content-Length",
            Self::ConflictingContentLength => "conflicting Content-Length headers",
            Self::WrongKind => "unexpected message kind",
        };
        f.write_str(s)
    }
}

impl core::error::Error for ParseError {}

/// How the body of a message is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// UDP datagram or WebSocket message (RFC 3261 §18.3, RFC 7118 §5): the body is
    /// Content-Length bytes (the rest is ignored); without Content-Length it is the rest
    /// of the buffer. A bad or too-large Content-Length is recorded in [`Defects`].
    Datagram,
    /// A complete frame from a stream: the buffer holds exactly one message, and a bad
    /// Content-Length is an error.
    Stream,
}

/// Problems found while framing that a UAS answers with 400 (see
/// [`super::validate`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Defects {
    bits: u8,
}

impl Defects {
    const START_LINE: u8 = 1;
    const BAD_CL: u8 = 2;
    const SHORT_BODY: u8 = 4;
    const MALFORMED_HEADER: u8 = 8;

    /// The Request-Line has irregular spacing or an unparsable layout (RFC 4475
    /// §3.1.2.3–6).
    pub fn irregular_start_line(&self) -> bool {
        self.bits & Self::START_LINE != 0
    }
    /// Content-Length is not a valid number (RFC 4475 §3.1.2.2 `ncl`).
    pub fn bad_content_length(&self) -> bool {
        self.bits & Self::BAD_CL != 0
    }
    /// Content-Length is larger than the bytes received (RFC 4475 §3.1.2.1 `clerr`).
    pub fn short_body(&self) -> bool {
        self.bits & Self::SHORT_BODY != 0
    }
    /// A header line without a colon, with an invalid name, or a fold before the first
    /// header; such lines are kept in the raw bytes but left out of the index.
    pub fn malformed_header(&self) -> bool {
        self.bits & Self::MALFORMED_HEADER != 0
    }
    /// No defect.
    pub fn is_empty(&self) -> bool {
        self.bits == 0
    }
}

/// Accessors shared by every message type (borrowed and owned).
macro_rules! common_accessors {
    ($t:ty) => {
        impl $t {
            /// The top Via. See [`Headers::via_top`].
            pub fn via_top(&self) -> Result<crate::sip::Via<'_>, crate::sip::HeaderError> {
                self.headers().via_top()
            }
            /// CSeq. See [`Headers::cseq`].
            pub fn cseq(&self) -> Result<crate::sip::CSeq<'_>, crate::sip::HeaderError> {
                self.headers().cseq()
            }
            /// Call-ID. See [`Headers::call_id`].
            pub fn call_id(&self) -> Result<&str, crate::sip::HeaderError> {
                self.headers().call_id()
            }
            /// From. See [`Headers::from`].
            pub fn from(&self) -> Result<crate::sip::NameAddr<'_>, crate::sip::HeaderError> {
                self.headers().from()
            }
            /// To. See [`Headers::to`].
            pub fn to(&self) -> Result<crate::sip::NameAddr<'_>, crate::sip::HeaderError> {
                self.headers().to()
            }
            /// The values of header lines named `name` (long or compact form, any case).
            pub fn headers_named<'n>(
                &'n self,
                name: &'n str,
            ) -> impl Iterator<Item = &'n str> + 'n {
                self.headers().named(name)
            }
        }
    };
}
pub(crate) use common_accessors;

/// The parts shared by requests and responses.
#[derive(Clone, Debug)]
#[repr(C)]
pub(crate) struct Parsed<'a> {
    head: &'a str,
    entries: Vec<Entry>,
    raw: &'a [u8],
    body: &'a [u8],
    blank: &'a str,
    /// Offset of the first header line in `head`.
    hstart: u32,
    defects: Defects,
}

/// A parsed message.
#[derive(Clone, Debug)]
pub enum Message<'a> {
    /// A request.
    Request(Request<'a>),
    /// A response.
    Response(Response<'a>),
}

/// A parsed request (borrowed view). (`repr(C)`, the shared parts first: at the same
/// offset in a request and a response, [`Message`]'s accessors need no branch.)
#[derive(Clone, Debug)]
#[repr(C)]
pub struct Request<'a> {
    p: Parsed<'a>,
    method: Method<'a>,
    uri: &'a str,
    version: &'a str,
}

/// A parsed response (borrowed view); laid out like [`Request`].
#[derive(Clone, Debug)]
#[repr(C)]
pub struct Response<'a> {
    p: Parsed<'a>,
    version: &'a str,
    status: StatusCode,
    reason: &'a str,
}

impl<'a> Message<'a> {
    /// Parses one datagram with default [`Limits`] (see [`Framing::Datagram`]).
    pub fn parse(buf: &'a [u8]) -> Result<Self, ParseError> {
        Self::parse_with(buf, &Limits::default(), Framing::Datagram)
    }

    /// Parses with explicit limits and framing.
    pub fn parse_with(
        buf: &'a [u8],
        limits: &Limits,
        framing: Framing,
    ) -> Result<Self, ParseError> {
        tokenize(buf, limits, framing)
    }

    /// The headers.
    pub fn headers(&self) -> Headers<'_> {
        match self {
            Message::Request(r) => r.headers(),
            Message::Response(r) => r.headers(),
        }
    }
    /// The body.
    pub fn body(&self) -> &'a [u8] {
        match self {
            Message::Request(r) => r.p.body,
            Message::Response(r) => r.p.body,
        }
    }
    /// The exact bytes of this message (start line to end of body).
    pub fn raw(&self) -> &'a [u8] {
        match self {
            Message::Request(r) => r.p.raw,
            Message::Response(r) => r.p.raw,
        }
    }
    /// The request, if this is one (by value).
    pub fn into_request(self) -> Option<Request<'a>> {
        match self {
            Message::Request(r) => Some(r),
            Message::Response(_) => None,
        }
    }
    /// The response, if this is one (by value).
    pub fn into_response(self) -> Option<Response<'a>> {
        match self {
            Message::Response(r) => Some(r),
            Message::Request(_) => None,
        }
    }
    /// The request, if this is one.
    pub fn as_request(&self) -> Option<&Request<'a>> {
        match self {
            Message::Request(r) => Some(r),
            Message::Response(_) => None,
        }
    }
    /// The response, if this is one.
    pub fn as_response(&self) -> Option<&Response<'a>> {
        match self {
            Message::Response(r) => Some(r),
            Message::Request(_) => None,
        }
    }
    /// Framing defects (see [`Defects`]).
    pub fn defects(&self) -> Defects {
        match self {
            Message::Request(r) => r.p.defects,
            Message::Response(r) => r.p.defects,
        }
    }
}
common_accessors!(Message<'_>);

impl<'a> Request<'a> {
    /// Parses a request datagram (default limits); a response is [`ParseError::WrongKind`].
    pub fn parse(buf: &'a [u8]) -> Result<Self, ParseError> {
        match Message::parse(buf)? {
            Message::Request(r) => Ok(r),
            Message::Response(_) => Err(ParseError::WrongKind),
        }
    }
    /// The method.
    pub fn method(&self) -> Method<'a> {
        self.method
    }
    /// The Request-URI text.
    pub fn uri(&self) -> &'a str {
        self.uri
    }
    /// The Request-URI, parsed.
    pub fn parsed_uri(&self) -> Result<Uri<'a>, UriError> {
        Uri::parse(self.uri)
    }
    /// The SIP-Version text (`SIP/2.0`).
    pub fn version(&self) -> &'a str {
        self.version
    }
    /// The headers.
    pub fn headers(&self) -> Headers<'_> {
        Headers::new(self.p.head, &self.p.entries)
    }
    /// The body (Content-Length bytes).
    pub fn body(&self) -> &'a [u8] {
        self.p.body
    }
    /// The exact bytes of this message.
    pub fn raw(&self) -> &'a [u8] {
        self.p.raw
    }
    /// The start line and header lines (each with its line end), without the empty line.
    pub fn head(&self) -> &'a str {
        self.p.head
    }
    /// Framing defects.
    pub fn defects(&self) -> Defects {
        self.p.defects
    }
    /// An owned copy that can be modified and serialized.
    pub fn to_buf(&self) -> super::RequestBuf {
        super::owned::request_from_parts(
            self.p.head,
            self.p.hstart,
            &self.p.entries,
            self.p.blank,
            self.p.body,
        )
    }
}
common_accessors!(Request<'_>);

impl<'a> Response<'a> {
    /// Parses a response datagram (default limits); a request is [`ParseError::WrongKind`].
    pub fn parse(buf: &'a [u8]) -> Result<Self, ParseError> {
        match Message::parse(buf)? {
            Message::Response(r) => Ok(r),
            Message::Request(_) => Err(ParseError::WrongKind),
        }
    }
    /// Builds a response to `req` per RFC 3261 §8.2.6 (alias of
    /// [`super::ResponseBuf::for_request`]).
    pub fn for_request(
        req: &impl super::HasHeaders,
        status: StatusCode,
        reason: &str,
    ) -> super::ResponseBuf {
        super::ResponseBuf::for_request(req, status, reason)
    }
    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }
    /// The Reason-Phrase (may be empty).
    pub fn reason(&self) -> &'a str {
        self.reason
    }
    /// The SIP-Version text.
    pub fn version(&self) -> &'a str {
        self.version
    }
    /// The headers.
    pub fn headers(&self) -> Headers<'_> {
        Headers::new(self.p.head, &self.p.entries)
    }
    /// The body.
    pub fn body(&self) -> &'a [u8] {
        self.p.body
    }
    /// The exact bytes of this message.
    pub fn raw(&self) -> &'a [u8] {
        self.p.raw
    }
    /// The start line and header lines, without the empty line.
    pub fn head(&self) -> &'a str {
        self.p.head
    }
    /// Framing defects.
    pub fn defects(&self) -> Defects {
        self.p.defects
    }
    /// An owned copy that can be modified and serialized.
    pub fn to_buf(&self) -> super::ResponseBuf {
        super::owned::response_from_parts(
            self.p.head,
            self.p.hstart,
            &self.p.entries,
            self.p.blank,
            self.p.body,
        )
    }
}
common_accessors!(Response<'_>);

/// Where the parts of a message head are.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HeadScan {
    /// Offset of the start line (leading CRLFs skipped).
    pub(crate) start: usize,
    /// Offset of the first header line, relative to `start`.
    pub(crate) hstart: usize,
    /// End of the last header line (= start of the empty line).
    pub(crate) head_end: usize,
    /// Start of the body.
    pub(crate) body_start: usize,
    /// A header line was malformed (no colon, bad name, fold before any header) and
    /// left out of the index.
    pub(crate) malformed: bool,
}

/// One pass over a message head: finds the start line, indexes every header line (byte
/// offsets relative to the start line) and the empty line, enforcing the limits.
/// `Ok(None)` if the head is not complete yet.
///
/// The index is one `Vec` allocated once with a capacity that bounds the header count
/// (every header line takes at least 3 bytes, and there are at most
/// `limits.max_headers`), so it never grows.
pub(crate) fn index_message(
    buf: &[u8],
    limits: &Limits,
) -> Result<Option<(HeadScan, Vec<Entry>)>, ParseError> {
    let mut start = 0;
    loop {
        match buf.get(start..) {
            Some([b'\r', b'\n', ..]) => start += 2,
            Some([b'\n', ..]) => start += 1,
            _ => break,
        }
    }
    let incomplete = |pos: usize| {
        if buf.len().saturating_sub(pos) > limits.max_line_len {
            Err(ParseError::LineTooLong)
        } else if buf.len() - start > limits.max_message_size {
            Err(ParseError::TooLarge)
        } else {
            Ok(None)
        }
    };
    let Some(first_nl) = find_byte(buf, start, b'\n') else {
        return incomplete(start);
    };
    if first_nl - start > limits.max_line_len {
        return Err(ParseError::LineTooLong);
    }
    let is_ws = |c: Option<&u8>| matches!(c, Some(b' ' | b'\t'));
    let rel = |x: usize| off(x - start);
    let cap = limits.max_headers.min((buf.len() - start) / 3 + 1);
    let mut entries: Vec<Entry> = Vec::with_capacity(cap);
    let mut pos = first_nl + 1;
    let mut malformed = false;
    // The last header line was malformed: its folds are skipped with it.
    let mut skipping = false;
    loop {
        let Some(nl) = find_byte(buf, pos, b'\n') else {
            return incomplete(pos);
        };
        let mut end = nl;
        if end > pos && matches!(buf.get(end - 1), Some(b'\r')) {
            end -= 1;
        }
        if end - pos > limits.max_line_len {
            return Err(ParseError::LineTooLong);
        }
        if nl + 1 - start > limits.max_message_size {
            return Err(ParseError::TooLarge);
        }
        if end == pos {
            let scan = HeadScan {
                start,
                hstart: first_nl + 1 - start,
                head_end: pos,
                body_start: nl + 1,
                malformed,
            };
            return Ok(Some((scan, entries)));
        }
        let le = nl + 1;
        let mut ve = end;
        if is_ws(buf.get(pos)) {
            // A fold: the value of the previous header continues.
            let Some(last) = entries.last_mut().filter(|_| !skipping) else {
                malformed = true;
                pos = le;
                continue;
            };
            ve = ws_back(buf, pos, ve);
            if ve > pos {
                last.ve = rel(ve);
            }
            last.le = rel(le);
        } else {
            let line = buf.get(pos..end).unwrap_or(&[]);
            let Some(colon) = find_byte(line, 0, b':') else {
                (malformed, skipping) = (true, true);
                pos = le;
                continue;
            };
            let ne = ws_back(line, 0, colon);
            let raw_name = line.get(..ne).unwrap_or(&[]);
            let name = HeaderName::parse_bytes(raw_name);
            // Known names matched exactly; check the others are tokens.
            if raw_name.is_empty() || (name == HeaderName::Other && !all_class(raw_name, TOKEN)) {
                (malformed, skipping) = (true, true);
                pos = le;
                continue;
            }
            skipping = false;
            let mut i = colon + 1;
            while is_ws(line.get(i)) {
                i += 1;
            }
            let vs = pos + i;
            ve = ws_back(buf, vs, ve);
            if entries.len() >= limits.max_headers {
                return Err(ParseError::TooManyHeaders);
            }
            entries.push(Entry {
                name,
                ns: rel(pos),
                ne: rel(pos + ne),
                vs: rel(vs),
                ve: rel(ve),
                le: rel(le),
            });
        }
        pos = le;
    }
}

/// `hi` moved back over the SP and HT before it, down to `lo` at most (one loop for the
/// ends of header names, values and folds).
fn ws_back(b: &[u8], lo: usize, mut hi: usize) -> usize {
    while hi > lo && matches!(b.get(hi - 1), Some(b' ' | b'\t')) {
        hi -= 1;
    }
    hi
}

fn off(x: usize) -> u32 {
    // Invariant: offsets are bounded by max_message_size, which `tokenize` clamps to
    // u32::MAX, so the cast never truncates.
    x as u32
}

enum Start<'a> {
    Req {
        method: Method<'a>,
        uri: &'a str,
        version: &'a str,
        irregular: bool,
    },
    Resp {
        version: &'a str,
        status: StatusCode,
        reason: &'a str,
    },
}

/// `s` starts with `SIP/` (any case).
fn sip_prefix(s: &str) -> bool {
    s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
}

/// A SIP-Version: `SIP/` and one or more digits and dots (one function for both start
/// lines).
fn is_version(v: &str) -> bool {
    sip_prefix(v) && v.len() > 4 && all_class(v.as_bytes().get(4..).unwrap_or(b""), VERSION)
}

fn parse_start(line: &str) -> Result<Start<'_>, ParseError> {
    // Without its line end (LF, or CRLF): one of each at most.
    let mut b = line.as_bytes();
    if let [rest @ .., b'\n'] = b {
        b = rest;
    }
    if let [rest @ .., b'\r'] = b {
        b = rest;
    }
    let line = line.get(..b.len()).unwrap_or("");
    if sip_prefix(line) {
        let (version, rest) = super::scan::split_byte(line, b' ');
        let rest = rest.ok_or(ParseError::BadStartLine)?;
        if !is_version(version) {
            return Err(ParseError::BadStartLine);
        }
        let rb = rest.as_bytes();
        if rb.len() < 4 || !matches!(rb.get(3), Some(b' ')) || !all_class(&rb[..3], DIGIT) {
            // Covers "4294967301 …" and a missing SP after the code.
            return Err(if rb.first().is_some_and(u8::is_ascii_digit) {
                ParseError::BadStatusCode
            } else {
                ParseError::BadStartLine
            });
        }
        let code =
            u16::from(rb[0] - b'0') * 100 + u16::from(rb[1] - b'0') * 10 + u16::from(rb[2] - b'0');
        let status = StatusCode::new(code).ok_or(ParseError::BadStatusCode)?;
        let reason = rest.get(4..).unwrap_or("");
        if count_class(reason.as_bytes(), CTL) > 0 {
            return Err(ParseError::BadStartLine);
        }
        return Ok(Start::Resp {
            version,
            status,
            reason,
        });
    }
    let b = line.as_bytes();
    let is_sp = |c: &u8| *c == b' ' || *c == b'\t';
    let sp1 = find_byte(b, 0, b' ').ok_or(ParseError::BadStartLine)?;
    let method = Method::parse(line.get(..sp1).unwrap_or("")).ok_or(ParseError::BadStartLine)?;
    let end = ws_back(b, sp1 + 1, b.len());
    let sp2 = b
        .get(sp1 + 1..end)
        .and_then(|r| r.iter().rposition(is_sp))
        .ok_or(ParseError::BadStartLine)?
        + sp1
        + 1;
    let version = line.get(sp2 + 1..end).unwrap_or("");
    if !is_version(version) {
        return Err(ParseError::BadStartLine);
    }
    let uri_raw = line.get(sp1 + 1..sp2).unwrap_or("");
    let uri = super::scan::trim_class(uri_raw, WSP);
    if uri.is_empty() {
        return Err(ParseError::BadStartLine);
    }
    // RFC 3261 §7.1: exactly one SP between the elements, none at the end.
    let irregular =
        end != b.len() || uri.len() != uri_raw.len() || count_class(uri.as_bytes(), WSP) > 0;
    Ok(Start::Req {
        method,
        uri,
        version,
        irregular,
    })
}

fn tokenize<'a>(
    buf: &'a [u8],
    limits: &Limits,
    framing: Framing,
) -> Result<Message<'a>, ParseError> {
    let max = limits.max_message_size.min(u32::MAX as usize);
    let lim = Limits {
        max_message_size: max,
        ..*limits
    };
    if framing == Framing::Datagram && buf.len() > max {
        return Err(ParseError::TooLarge);
    }
    let (scan, entries) = match index_message(buf, &lim)? {
        Some(s) => s,
        None => {
            return Err(if all_class(buf, CRLF) {
                ParseError::Empty
            } else {
                ParseError::Incomplete
            });
        }
    };
    let head_bytes = buf
        .get(scan.start..scan.head_end)
        .ok_or(ParseError::Incomplete)?;
    let head = core::str::from_utf8(head_bytes).map_err(|_| ParseError::InvalidUtf8)?;
    let blank = if matches!(buf.get(scan.head_end), Some(b'\r')) {
        "\r\n"
    } else {
        "\n"
    };
    let start = parse_start(head.get(..scan.hstart).ok_or(ParseError::BadStartLine)?)?;
    let hstart = off(scan.hstart);

    // Body framing by Content-Length.
    let mut defects = Defects::default();
    if scan.malformed {
        defects.bits |= Defects::MALFORMED_HEADER;
    }
    let mut cl: Option<Option<usize>> = None;
    for v in Headers::new(head, &entries).get_all(HeaderName::ContentLength) {
        let v = parse_u32(v).map(|v| v as usize);
        match (cl, v) {
            (None, v) => cl = Some(v),
            (Some(Some(a)), Some(b)) if a == b => {}
            _ => return Err(ParseError::ConflictingContentLength),
        }
    }
    let avail = buf.len() - scan.body_start;
    let body_len = match (framing, cl) {
        (_, Some(Some(n))) if n <= avail => n,
        (Framing::Datagram, Some(Some(_))) => {
            defects.bits |= Defects::SHORT_BODY;
            avail
        }
        (Framing::Datagram, Some(None)) => {
            defects.bits |= Defects::BAD_CL;
            avail
        }
        (Framing::Datagram, None) => avail,
        (Framing::Stream, Some(Some(_))) => return Err(ParseError::Incomplete),
        (Framing::Stream, Some(None)) => return Err(ParseError::BadContentLength),
        (Framing::Stream, None) => 0,
    };
    let body_end = scan.body_start + body_len;
    let p = Parsed {
        raw: buf.get(scan.start..body_end).unwrap_or(b""),
        head,
        hstart,
        entries,
        blank,
        body: buf.get(scan.body_start..body_end).unwrap_or(b""),
        defects,
    };
    Ok(match start {
        Start::Req {
            method,
            uri,
            version,
            irregular,
        } => {
            let mut r = Request {
                method,
                uri,
                version,
                p,
            };
            if irregular {
                r.p.defects.bits |= Defects::START_LINE;
            }
            Message::Request(r)
        }
        Start::Resp {
            version,
            status,
            reason,
        } => Message::Response(Response {
            version,
            status,
            reason,
            p,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_forms_folding_and_bare_lf() {
        let m = b"\r\n\r\nMESSAGE sip:a@b SIP/2.0\n\
v: SIP/2.0/TCP h;branch=z9hG4bK1\n\
i: cid\n\
f: <sip:x@y>;tag=1\n\
t: <sip:a@b>\n\
m: <sip:x@h>\n\
l: 5\n\
c: text/plain\n\
k: 100rel\n\
s: hello\n  world\n\
e: gzip\n\
o: presence\n\
u: dialog\n\
r: <sip:c@d>\n\
b: <sip:e@f>\n\
x: 90\n\
CSeq: 7\n\t  MESSAGE\n\
\nhello";
        let r = Request::parse(m).unwrap();
        let h = r.headers();
        let names: Vec<_> = h.iter().map(|f| f.name).collect();
        use HeaderName::*;
        assert_eq!(
            names,
            [
                Via,
                CallId,
                From,
                To,
                Contact,
                ContentLength,
                ContentType,
                Supported,
                Subject,
                ContentEncoding,
                Event,
                AllowEvents,
                ReferTo,
                ReferredBy,
                SessionExpires,
                CSeq
            ]
        );
        assert_eq!(h.get(Subject), Some("hello\n  world"));
        assert_eq!(r.cseq().unwrap().seq, 7);
        assert_eq!(h.session_expires().unwrap().delta, 90);
        assert_eq!(h.event().unwrap().value, "presence");
        assert_eq!(r.body(), b"hello");
        assert!(r.raw().starts_with(b"MESSAGE"));
        assert_eq!(r.to_buf().to_bytes(), r.raw());
    }

    #[test]
    fn start_lines() {
        fn ok(s: &str) -> Result<Message<'_>, ParseError> {
            Message::parse(s.as_bytes())
        }
        assert!(
            matches!(ok("SIP/2.0 180 Ringing\r\n\r\n"), Ok(Message::Response(r)) if r.status().as_u16() == 180 && r.reason() == "Ringing")
        );
        assert!(
            matches!(ok("SIP/2.0 100 \r\n\r\n"), Ok(Message::Response(r)) if r.reason().is_empty())
        );
        assert_eq!(
            ok("SIP/2.0 100\r\n\r\n").unwrap_err(),
            ParseError::BadStatusCode
        );
        assert_eq!(
            ok("SIP/2.0 099 Low\r\n\r\n").unwrap_err(),
            ParseError::BadStatusCode
        );
        assert_eq!(
            ok("SIP/2.0 700 High\r\n\r\n").unwrap_err(),
            ParseError::BadStatusCode
        );
        assert_eq!(
            ok("SIP/2.0 4294967301 x\r\n\r\n").unwrap_err(),
            ParseError::BadStatusCode
        );
        assert_eq!(
            ok("HTTP/1.1 200 OK\r\n\r\n").unwrap_err(),
            ParseError::BadStartLine
        );
        assert_eq!(
            ok("GET / HTTP/1.1\r\n\r\n").unwrap_err(),
            ParseError::BadStartLine
        );
        assert_eq!(
            ok("INVITE sip:a@b\r\n\r\n").unwrap_err(),
            ParseError::BadStartLine
        );
        assert_eq!(ok("\r\n\r\n").unwrap_err(), ParseError::Empty);
        assert_eq!(
            ok("OPTIONS sip:a@b SIP/2.0\r\nVia").unwrap_err(),
            ParseError::Incomplete
        );
        for bad in [
            "OPTIONS sip:a@b SIP/2.0\r\nNoColon\r\n continued\r\nTo: <sip:a@b>\r\n\r\n",
            "OPTIONS sip:a@b SIP/2.0\r\n folded-first\r\nTo: <sip:a@b>\r\n\r\n",
            "OPTIONS sip:a@b SIP/2.0\r\nBad Name: x\r\n y\r\nTo: <sip:a@b>\r\n\r\n",
        ] {
            let m = ok(bad).unwrap();
            assert!(m.defects().malformed_header(), "{bad}");
            assert_eq!(m.headers().len(), 1, "{bad}");
            assert_eq!(m.headers().get(HeaderName::To), Some("<sip:a@b>"));
            assert_eq!(m.as_request().unwrap().to_buf().to_bytes(), bad.as_bytes());
        }
        assert_eq!(
            Message::parse(b"OPTIONS sip:\xff SIP/2.0\r\n\r\n").unwrap_err(),
            ParseError::InvalidUtf8
        );
        let r = ok("OPTIONS  sip:a@b SIP/2.0\r\n\r\n").unwrap();
        assert!(r.defects().irregular_start_line());
        let r = ok("OPTIONS sip:a@b SIP/2.0\r\n\r\n").unwrap();
        assert!(r.defects().is_empty());
        assert_eq!(
            ok("OPTIONS sip:a@b SIP/2.0\r\n\r\n")
                .unwrap()
                .as_request()
                .unwrap()
                .version(),
            "SIP/2.0"
        );
    }

    #[test]
    fn content_length_framing() {
        let m = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 3\r\nl: 3\r\n\r\nabcdef";
        assert_eq!(Message::parse(m).unwrap().body(), b"abc");
        let m = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 3\r\nl: 4\r\n\r\nabcdef";
        assert_eq!(
            Message::parse(m).unwrap_err(),
            ParseError::ConflictingContentLength
        );
        let m = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 9\r\n\r\nabc";
        let p = Message::parse(m).unwrap();
        assert!(p.defects().short_body());
        assert_eq!(p.body(), b"abc");
        assert_eq!(
            Message::parse_with(m, &Limits::default(), Framing::Stream).unwrap_err(),
            ParseError::Incomplete
        );
        let m = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: x\r\n\r\nabc";
        assert_eq!(
            Message::parse_with(m, &Limits::default(), Framing::Stream).unwrap_err(),
            ParseError::BadContentLength
        );
        let m = b"OPTIONS sip:a@b SIP/2.0\r\n\r\nabc";
        assert_eq!(
            Message::parse_with(m, &Limits::default(), Framing::Stream)
                .unwrap()
                .body(),
            b""
        );
        assert_eq!(Message::parse(m).unwrap().body(), b"abc");
    }
}
