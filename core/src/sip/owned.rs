//! Owned messages: build, modify and serialize requests and responses (RFC 3261 §7,
//! §8.1.1, §8.2.6).
//!
//! Input: a parsed view ([`super::Request::to_buf`]), raw bytes ([`RequestBuf::parse`]),
//! or nothing ([`RequestBuf::new`], [`ResponseBuf::new`],
//! [`ResponseBuf::for_request`]). Output: `Vec<u8>` wire bytes. An owned message keeps
//! its head as text plus the same header index as the borrowed view, so every typed
//! accessor works on it, and a parsed message serializes back byte for byte. An edit
//! rewrites the text and re-indexes it with the message tokenizer (one indexing routine;
//! owned messages are built for the occasional response, not on the parse hot path).
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::message::{
    Entry, Headers, Limits, Message, ParseError, common_accessors, index_message,
};
use super::method::{Method, StatusCode};
use super::name::HeaderName;
use super::scan::is_token_str;

/// Anything with a header index: parsed views and owned messages.
pub trait HasHeaders {
    /// The headers.
    fn headers(&self) -> Headers<'_>;
}

impl HasHeaders for super::Request<'_> {
    fn headers(&self) -> Headers<'_> {
        super::Request::headers(self)
    }
}
impl HasHeaders for super::Response<'_> {
    fn headers(&self) -> Headers<'_> {
        super::Response::headers(self)
    }
}
impl HasHeaders for Message<'_> {
    fn headers(&self) -> Headers<'_> {
        Message::headers(self)
    }
}
impl HasHeaders for RequestBuf {
    fn headers(&self) -> Headers<'_> {
        self.b.headers()
    }
}
impl HasHeaders for ResponseBuf {
    fn headers(&self) -> Headers<'_> {
        self.b.headers()
    }
}

/// Error from building a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// A header name that is not a token.
    InvalidName,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid header name")
    }
}
impl core::error::Error for BuildError {}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Buf {
    /// Start line and header lines, each with its line end.
    head: String,
    /// Offset of the first header line.
    hstart: u32,
    entries: Vec<Entry>,
    /// The empty line: `"\r\n"` (or `"\n"` if the parsed message used bare LFs).
    blank: &'static str,
    body: Vec<u8>,
}

fn o(x: usize) -> u32 {
    // Invariant: owned heads are far below 4 GiB (built from limited input or by the
    // application); saturate rather than wrap.
    u32::try_from(x).unwrap_or(u32::MAX)
}

/// Removes CR and LF from application-supplied text (no header injection).
fn clean(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
}

impl Buf {
    fn new(start_line: &str) -> Self {
        let mut head = String::with_capacity(512);
        head.extend(clean(start_line));
        head.push_str("\r\n");
        Buf {
            hstart: o(head.len()),
            head,
            entries: Vec::new(),
            blank: "\r\n",
            body: Vec::new(),
        }
    }

    fn from_parts(head: &str, hstart: u32, entries: &[Entry], blank: &str, body: &[u8]) -> Self {
        Buf {
            head: String::from(head),
            hstart,
            entries: entries.to_vec(),
            blank: if blank == "\n" { "\n" } else { "\r\n" },
            body: body.to_vec(),
        }
    }

    fn headers(&self) -> Headers<'_> {
        Headers::new(&self.head, &self.entries)
    }

    /// Rebuilds the header index from the head text with the message tokenizer (one
    /// indexing routine for parsed and edited messages; every edit ends here).
    fn reindex(&mut self) {
        let len = self.head.len();
        self.head.push_str("\r\n");
        let unlimited = Limits {
            max_message_size: usize::MAX,
            max_headers: usize::MAX,
            max_line_len: usize::MAX,
        };
        // Invariant: the head now ends with an empty line and no limit can be reached, so
        // the index is complete; the fallback keeps an empty index.
        let (hstart, entries) = match index_message(self.head.as_bytes(), &unlimited) {
            Ok(Some((scan, entries))) => (o(scan.hstart), entries),
            _ => (o(len), Vec::new()),
        };
        self.head.truncate(len);
        self.hstart = hstart;
        self.entries = entries;
    }

    /// Where an appended header goes: the end, or before a trailing Content-Length.
    fn append_index(&self) -> usize {
        match self.entries.last() {
            Some(e) if e.name == HeaderName::ContentLength => self.entries.len() - 1,
            _ => self.entries.len(),
        }
    }

    fn line_start(&self, k: usize) -> usize {
        self.entries
            .get(k)
            .map_or(self.head.len(), |e| e.ns as usize)
    }

    fn insert(&mut self, k: usize, raw_name: &str, value: &str) {
        let at = self.line_start(k.min(self.entries.len()));
        let mut line = String::with_capacity(raw_name.len() + value.len() + 4);
        line.push_str(raw_name);
        line.push_str(": ");
        line.extend(clean(trim_sp_ht(value)));
        line.push_str("\r\n");
        if self.head.get(..at).is_none() {
            return; // Invariant: `at` is a line start, always a char boundary.
        }
        self.head.insert_str(at, &line);
        self.reindex();
    }

    fn remove_at(&mut self, k: usize) {
        let Some(e) = self.entries.get(k).copied() else {
            return;
        };
        let (a, b) = (e.ns as usize, e.le as usize);
        if self.head.get(a..b).is_none() {
            return;
        }
        self.head.replace_range(a..b, "");
        self.reindex();
    }

    fn set_value_at(&mut self, k: usize, value: &str) {
        let Some(e) = self.entries.get(k).copied() else {
            return;
        };
        let (a, b) = (e.vs as usize, e.ve as usize);
        if self.head.get(a..b).is_none() {
            return;
        }
        let v: String = clean(trim_sp_ht(value)).collect();
        self.head.replace_range(a..b, &v);
        self.reindex();
    }

    fn set(&mut self, name: HeaderName, value: &str) {
        match self.entries.iter().position(|e| e.name == name) {
            Some(k) => {
                self.set_value_at(k, value);
                let mut j = self.entries.len();
                while j > k + 1 {
                    j -= 1;
                    if self.entries.get(j).is_some_and(|e| e.name == name) {
                        self.remove_at(j);
                    }
                }
            }
            None => self.insert(usize::MAX, name.as_str(), value),
        }
    }

    fn remove(&mut self, name: HeaderName) -> usize {
        let mut n = 0;
        let mut j = self.entries.len();
        while j > 0 {
            j -= 1;
            if self.entries.get(j).is_some_and(|e| e.name == name) {
                self.remove_at(j);
                n += 1;
            }
        }
        n
    }

    fn set_start_line(&mut self, line: &str) {
        let old = self.hstart as usize;
        let mut s: String = clean(line).collect();
        s.push_str("\r\n");
        if self.head.get(..old).is_none() {
            return;
        }
        self.head.replace_range(..old, &s);
        self.reindex();
    }

    fn set_tag(&mut self, name: HeaderName, tag: &str) {
        let Some(k) = self.entries.iter().position(|e| e.name == name) else {
            return;
        };
        let headers = self.headers();
        let Some(f) = headers.at(k) else { return };
        let value = f.value;
        let new = match super::header::NameAddr::parse(value) {
            Some(na) => {
                let mut s = String::with_capacity(value.len() + tag.len() + 8);
                // Rebuild without an existing tag, then append the new one.
                let params_at = value.len() - na.params.as_str().len();
                s.push_str(value.get(..params_at).unwrap_or(value).trim_ascii_end());
                na.params.push_without(&mut s, "tag");
                s.push_str(";tag=");
                s.push_str(tag);
                s
            }
            None => return,
        };
        self.set_value_at(k, &new);
    }

    fn set_body(&mut self, content_type: Option<&str>, body: Vec<u8>) {
        match content_type {
            Some(ct) => self.set(HeaderName::ContentType, ct),
            None => {
                if body.is_empty() {
                    self.remove(HeaderName::ContentType);
                }
            }
        }
        let n = crate::sip::text::cat!(body.len());
        self.set(HeaderName::ContentLength, &n);
        self.body = body;
    }

    fn encoded_len(&self) -> usize {
        self.head.len() + self.blank.len() + self.body.len()
    }

    fn write_to(&self, out: &mut Vec<u8>) {
        out.reserve(self.encoded_len());
        out.extend_from_slice(self.head.as_bytes());
        out.extend_from_slice(self.blank.as_bytes());
        out.extend_from_slice(&self.body);
    }
}

macro_rules! buf_methods {
    ($t:ident) => {
        impl $t {
            /// The headers (all typed accessors of [`Headers`]).
            pub fn headers(&self) -> Headers<'_> {
                self.b.headers()
            }
            /// The body.
            pub fn body(&self) -> &[u8] {
                &self.b.body
            }
            /// The start line and header lines as text (without the empty line).
            pub fn head(&self) -> &str {
                &self.b.head
            }
            /// Appends a header line `Name: value` (canonical name), keeping a trailing
            /// Content-Length last.
            pub fn push(&mut self, name: HeaderName, value: &str) -> &mut Self {
                if name != HeaderName::Other {
                    let k = self.b.append_index();
                    self.b.insert(k, name.as_str(), value);
                }
                self
            }
            /// Builder form of [`Self::push`].
            pub fn with(mut self, name: HeaderName, value: &str) -> Self {
                self.push(name, value);
                self
            }
            /// Inserts a header line above all others (e.g. a new top Via, §8.1.1.7).
            pub fn push_front(&mut self, name: HeaderName, value: &str) -> &mut Self {
                if name != HeaderName::Other {
                    self.b.insert(0, name.as_str(), value);
                }
                self
            }
            /// Inserts a header line at position `index` (clamped to the end).
            pub fn insert(&mut self, index: usize, name: HeaderName, value: &str) -> &mut Self {
                if name != HeaderName::Other {
                    self.b.insert(index, name.as_str(), value);
                }
                self
            }
            /// Appends a header line with any name (e.g. `X-Call-Tag`), keeping a
            /// trailing Content-Length last. Known names are recognised, so
            /// `push_raw("v", …)` adds a Via.
            pub fn push_raw(&mut self, name: &str, value: &str) -> Result<&mut Self, BuildError> {
                if !is_token_str(name) {
                    return Err(BuildError::InvalidName);
                }
                let k = self.b.append_index();
                self.b.insert(k, name, value);
                Ok(self)
            }
            /// Sets a header: replaces the value of the first line with this name and
            /// removes the others, or appends it.
            pub fn set(&mut self, name: HeaderName, value: &str) -> &mut Self {
                if name != HeaderName::Other {
                    self.b.set(name, value);
                }
                self
            }
            /// Removes every line with this name; returns how many.
            pub fn remove(&mut self, name: HeaderName) -> usize {
                self.b.remove(name)
            }
            /// Removes the `index`-th header line (no-op if out of range).
            pub fn remove_at(&mut self, index: usize) {
                self.b.remove_at(index)
            }
            /// Replaces the value of the `index`-th header line.
            pub fn set_value_at(&mut self, index: usize, value: &str) {
                self.b.set_value_at(index, value)
            }
            /// Sets (or replaces) the `tag` parameter of the To header (§8.2.6.2,
            /// §12.1.1).
            pub fn set_to_tag(&mut self, tag: &str) -> &mut Self {
                self.b.set_tag(HeaderName::To, tag);
                self
            }
            /// Sets (or replaces) the `tag` parameter of the From header.
            pub fn set_from_tag(&mut self, tag: &str) -> &mut Self {
                self.b.set_tag(HeaderName::From, tag);
                self
            }
            /// Sets the body, Content-Length, and Content-Type (when given; with `None`
            /// and an empty body, Content-Type is removed).
            pub fn set_body(
                &mut self,
                content_type: Option<&str>,
                body: impl Into<Vec<u8>>,
            ) -> &mut Self {
                self.b.set_body(content_type, body.into());
                self
            }
            /// Adds `Content-Length: <body length>` if the message has none.
            pub fn ensure_content_length(&mut self) -> &mut Self {
                if !self.b.headers().contains(HeaderName::ContentLength) {
                    let n = crate::sip::text::cat!(self.b.body.len());
                    self.b.insert(usize::MAX, "Content-Length", &n);
                }
                self
            }
            /// The serialized size in bytes.
            pub fn encoded_len(&self) -> usize {
                self.b.encoded_len()
            }
            /// Appends the wire form to `out`.
            pub fn write_to(&self, out: &mut Vec<u8>) {
                self.b.write_to(out)
            }
            /// The wire form.
            pub fn to_bytes(&self) -> Vec<u8> {
                let mut v = Vec::new();
                self.b.write_to(&mut v);
                v
            }
        }
    };
}

/// An owned request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestBuf {
    b: Buf,
}

/// An owned response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseBuf {
    b: Buf,
}

buf_methods!(RequestBuf);
buf_methods!(ResponseBuf);
common_accessors!(RequestBuf);
common_accessors!(ResponseBuf);

/// [`ResponseBuf::for_request`] with `extra` headers before the Content-Length (the
/// rejection responses of [`super::validate`]). The head is written in one pass and
/// indexed once by the message tokenizer, as if each header had been pushed: lines
/// `Name: value` (CR and LF of the value turned into spaces, SP/HT trimmed), no edit
/// and no index shifting per header.
pub(crate) fn response_for(
    req: Headers<'_>,
    status: StatusCode,
    reason: &str,
    extra: &[(HeaderName, String)],
) -> ResponseBuf {
    let mut text = String::with_capacity(512);
    text.push_str("SIP/2.0 ");
    crate::sip::text::push_u64(&mut text, u64::from(status.as_u16()));
    text.push(' ');
    text.extend(clean(reason));
    text.push_str("\r\n");
    let mut line = |name: HeaderName, value: &str| {
        if name != HeaderName::Other {
            text.push_str(name.as_str());
            text.push_str(": ");
            text.extend(clean(trim_sp_ht(value)));
            text.push_str("\r\n");
        }
    };
    for f in req.iter() {
        let copy = match f.name {
            HeaderName::Via
            | HeaderName::From
            | HeaderName::To
            | HeaderName::CallId
            | HeaderName::CSeq => true,
            HeaderName::Timestamp => status.as_u16() == 100,
            _ => false,
        };
        if copy {
            line(f.name, f.value);
        }
    }
    for (n, v) in extra {
        line(*n, v);
    }
    line(HeaderName::ContentLength, "0");
    let mut b = Buf {
        head: text,
        hstart: 0,
        entries: Vec::new(),
        blank: "\r\n",
        body: Vec::new(),
    };
    b.reindex();
    ResponseBuf { b }
}

pub(crate) fn request_from_parts(
    head: &str,
    hstart: u32,
    entries: &[Entry],
    blank: &str,
    body: &[u8],
) -> RequestBuf {
    RequestBuf {
        b: Buf::from_parts(head, hstart, entries, blank, body),
    }
}

pub(crate) fn response_from_parts(
    head: &str,
    hstart: u32,
    entries: &[Entry],
    blank: &str,
    body: &[u8],
) -> ResponseBuf {
    ResponseBuf {
        b: Buf::from_parts(head, hstart, entries, blank, body),
    }
}

fn start_line(b: &Buf) -> &str {
    let l = b.head.get(..b.hstart as usize).unwrap_or("");
    l.trim_end_matches(['\r', '\n'])
}

impl RequestBuf {
    /// A new request `METHOD uri SIP/2.0` without headers.
    pub fn new(method: Method<'_>, uri: &str) -> Self {
        let mut s = String::with_capacity(uri.len() + 24);
        s.push_str(method.as_str());
        s.push(' ');
        s.push_str(uri);
        s.push_str(" SIP/2.0");
        RequestBuf { b: Buf::new(&s) }
    }

    /// Parses a request datagram into an owned message.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        Ok(super::Request::parse(bytes)?.to_buf())
    }

    fn parts(&self) -> (&str, &str, &str) {
        let l = start_line(&self.b);
        let (m, rest) = l.split_once(' ').unwrap_or((l, ""));
        let (u, v) = rest.rsplit_once(' ').unwrap_or((rest, ""));
        (m, u, v)
    }

    /// The method.
    pub fn method(&self) -> Method<'_> {
        Method::from_str_exact(self.parts().0)
    }
    /// The Request-URI text.
    pub fn uri(&self) -> &str {
        self.parts().1.trim_ascii()
    }
    /// The SIP-Version text.
    pub fn version(&self) -> &str {
        self.parts().2
    }
    /// Replaces the Request-URI (e.g. with the remote target, §12.2.1.1).
    pub fn set_uri(&mut self, uri: &str) -> &mut Self {
        let (m, _, v) = self.parts();
        let mut s = String::with_capacity(m.len() + uri.len() + v.len() + 2);
        s.push_str(m);
        s.push(' ');
        s.push_str(uri);
        s.push(' ');
        s.push_str(v);
        self.b.set_start_line(&s);
        self
    }
    /// Replaces the method (e.g. to build an ACK or CANCEL from an INVITE).
    pub fn set_method(&mut self, method: Method<'_>) -> &mut Self {
        let (_, u, v) = self.parts();
        let mut s = String::with_capacity(u.len() + v.len() + 16);
        s.push_str(method.as_str());
        s.push(' ');
        s.push_str(u);
        s.push(' ');
        s.push_str(v);
        self.b.set_start_line(&s);
        self
    }
}

impl ResponseBuf {
    /// A new response `SIP/2.0 code reason` without headers.
    pub fn new(status: StatusCode, reason: &str) -> Self {
        let s = crate::sip::text::cat!("SIP/2.0 ", status.as_u16(), ' ', reason);
        ResponseBuf { b: Buf::new(&s) }
    }

    /// Parses a response datagram into an owned message.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        Ok(super::Response::parse(bytes)?.to_buf())
    }

    /// A response to `req` per RFC 3261 §8.2.6: Via lines (in order), From, To, Call-ID
    /// and CSeq copied from the request, Timestamp too for a 100 (§8.2.6.1), then
    /// `Content-Length: 0`. Add the To tag with [`Self::set_to_tag`] (§8.2.6.2) and a
    /// body with [`Self::set_body`].
    pub fn for_request(req: &impl HasHeaders, status: StatusCode, reason: &str) -> Self {
        response_for(req.headers(), status, reason, &[])
    }

    fn parts(&self) -> (&str, &str, &str) {
        let l = start_line(&self.b);
        let (v, rest) = l.split_once(' ').unwrap_or((l, ""));
        let (c, r) = rest.split_once(' ').unwrap_or((rest, ""));
        (v, c, r)
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        super::scan::parse_dec::<u16>(self.parts().1)
            .and_then(StatusCode::new)
            // Invariant: built from a valid code or parsed from a valid status line.
            .unwrap_or(StatusCode::SERVER_INTERNAL_ERROR)
    }
    /// The Reason-Phrase.
    pub fn reason(&self) -> &str {
        self.parts().2
    }
    /// The SIP-Version text.
    pub fn version(&self) -> &str {
        self.parts().0
    }
    /// Replaces the status line.
    pub fn set_status(&mut self, status: StatusCode, reason: &str) -> &mut Self {
        let s = crate::sip::text::cat!(self.version(), ' ', status.as_u16(), ' ', reason);
        self.b.set_start_line(&s);
        self
    }
}

/// An owned message of either kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MessageBuf {
    /// A request.
    Request(RequestBuf),
    /// A response.
    Response(ResponseBuf),
}

impl MessageBuf {
    /// Parses a datagram into an owned message.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        Ok(match Message::parse(bytes)? {
            Message::Request(r) => MessageBuf::Request(r.to_buf()),
            Message::Response(r) => MessageBuf::Response(r.to_buf()),
        })
    }
    /// The wire form.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            MessageBuf::Request(r) => r.to_bytes(),
            MessageBuf::Response(r) => r.to_bytes(),
        }
    }
}

/// `s` without SP and HTAB on both ends.
fn trim_sp_ht(s: &str) -> &str {
    super::scan::trim_class(s, super::scan::WSP)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::Request;

    /// The response built header by header with the editing API (what `response_for`
    /// replaced): start line, the copied headers pushed in order, `extra` inserted
    /// before the final Content-Length.
    fn pushed(
        req: &Request<'_>,
        status: StatusCode,
        reason: &str,
        extra: &[(HeaderName, String)],
    ) -> ResponseBuf {
        let mut r = ResponseBuf::new(status, reason);
        for f in req.headers().iter() {
            let copy = matches!(
                f.name,
                HeaderName::Via
                    | HeaderName::From
                    | HeaderName::To
                    | HeaderName::CallId
                    | HeaderName::CSeq
            ) || (f.name == HeaderName::Timestamp && status.as_u16() == 100);
            if copy {
                r.push(f.name, f.value);
            }
        }
        r.push(HeaderName::ContentLength, "0");
        for (n, v) in extra {
            let k = r.headers().len() - 1;
            r.insert(k, *n, v);
        }
        r
    }

    #[test]
    fn response_for_matches_pushing_each_header() {
        let raw = "INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n\
                   v: SIP/2.0/TCP b\r\n  ;rport\r\nTo: <sip:b@h>\r\nFrom:\t<sip:a@h>;tag=1 \r\n\
                   Call-ID: c\r\nCSeq: 1 INVITE\r\nTimestamp: 54\r\nSubject: x\r\n\
                   Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
        let req = Request::parse(raw.as_bytes()).unwrap();
        let extra = [
            (HeaderName::Unsupported, String::from("foo, bar")),
            (HeaderName::Other, String::from("dropped")),
            (HeaderName::Accept, String::from(" application/sdp\r\n")),
        ];
        for (code, reason) in [(100, "Trying"), (400, "Bad\r\nReason"), (420, "")] {
            let st = StatusCode::new(code).unwrap();
            let got = ResponseBuf::for_request(&req, st, reason);
            assert_eq!(got, pushed(&req, st, reason, &[]), "{code}");
            assert_eq!(got.headers().len(), 7 + usize::from(code == 100));
            let got = response_for(req.headers(), st, reason, &extra[..2]);
            assert_eq!(got, pushed(&req, st, reason, &extra[..2]), "{code}");
            // A value ending in CR LF: the same bytes and header values (an inserted line
            // kept the cleaned spaces inside its value range, the index trims them).
            let got = response_for(req.headers(), st, reason, &extra);
            let want = pushed(&req, st, reason, &extra);
            assert_eq!(got.head(), want.head());
            assert!(got.headers().iter().eq(want.headers().iter()));
            assert_eq!(got.head(), reindexed_head(&got));
        }
        let empty = Request::parse(b"OPTIONS sip:h SIP/2.0\r\nTo:\r\n\r\n").unwrap();
        let st = StatusCode::BAD_REQUEST;
        assert_eq!(
            ResponseBuf::for_request(&empty, st, "x"),
            pushed(&empty, st, "x", &[])
        );
    }

    /// The head of `r`, checked against a fresh index of its text.
    fn reindexed_head(r: &ResponseBuf) -> &str {
        assert_eq!(reindex(r.head()), r.b.entries);
        r.head()
    }

    fn reindex(head: &str) -> Vec<Entry> {
        let complete = alloc::format!("{head}\r\n");
        let (_, entries) = index_message(complete.as_bytes(), &Limits::default())
            .unwrap()
            .unwrap();
        entries
    }

    const INVITE: &[u8] = b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n\
v: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKold\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Timestamp: 54\r\n\
Contact: <sip:alice@pc33.atlanta.example.com>\r\n\
Content-Length: 0\r\n\r\n";

    fn check_index(b: &Buf) {
        assert_eq!(
            b.entries,
            reindex(&b.head),
            "index out of sync:\n{}",
            b.head
        );
    }

    /// The header fields as a list of `(name, value)`.
    fn fields(b: &RequestBuf) -> Vec<(HeaderName, String)> {
        b.headers()
            .iter()
            .map(|f| (f.name, String::from(f.value)))
            .collect()
    }

    proptest::proptest! {
        /// Edits on a parsed message with folded and malformed lines, against a model
        /// list of fields: every edit changes exactly the fields it names, and the
        /// bytes parse back to the same fields.
        #[test]
        fn edits_match_a_model(ops in proptest::collection::vec(
            (0u8..6, 0usize..12, "[a-z \t\r\n;=]{0,8}"), 0..12)
        ) {
            let raw = "OPTIONS sip:h SIP/2.0\r\nVia: SIP/2.0/UDP a\r\n  ;branch=z9hG4bK1\r\n\
                       no colon here\r\n ;folded-into-nothing\r\nTo: <sip:b@h>\r\n\
                       Subject: one,\r\n\ttwo\r\nCall-ID: c\r\n\r\n";
            let mut b = Request::parse(raw.as_bytes()).unwrap().to_buf();
            let mut model = fields(&b);
            let clean = |v: &str| -> String {
                let v: String = v.chars().map(|c| if c == '\r' || c == '\n' { ' ' } else { c }).collect();
                String::from(crate::sip::scan::trim_lws(&v))
            };
            for (op, k, v) in ops {
                let k = k % (model.len() + 1);
                match op {
                    0 => {
                        b.push(HeaderName::Subject, &v);
                        model.push((HeaderName::Subject, clean(&v)));
                    }
                    1 => {
                        b.push_front(HeaderName::Route, &v);
                        model.insert(0, (HeaderName::Route, clean(&v)));
                    }
                    2 => {
                        b.insert(k, HeaderName::Warning, &v);
                        model.insert(k, (HeaderName::Warning, clean(&v)));
                    }
                    3 if k < model.len() => {
                        b.remove_at(k);
                        model.remove(k);
                    }
                    4 if k < model.len() => {
                        b.set_value_at(k, &v);
                        model[k].1 = clean(&v);
                    }
                    _ => {
                        b.push_raw("X-Raw", &v).unwrap();
                        model.push((HeaderName::Other, clean(&v)));
                    }
                }
                proptest::prop_assert_eq!(fields(&b), model.clone());
                let bytes = b.to_bytes();
                let again = Request::parse(&bytes).unwrap().to_buf();
                proptest::prop_assert_eq!(fields(&again), model.clone());
                check_index(&b.b);
            }
        }
    }

    #[test]
    fn round_trip_and_edits_keep_index() {
        let req = Request::parse(INVITE).unwrap();
        let mut buf = req.to_buf();
        assert_eq!(buf.to_bytes(), INVITE);
        check_index(&buf.b);
        buf.push_front(
            HeaderName::Via,
            "SIP/2.0/WSS proxy.example;branch=z9hG4bKnew",
        );
        check_index(&buf.b);
        assert_eq!(buf.via_top().unwrap().branch(), Some("z9hG4bKnew"));
        buf.set_to_tag("abc");
        check_index(&buf.b);
        assert_eq!(buf.to().unwrap().tag(), Some("abc"));
        buf.set_to_tag("xyz");
        assert_eq!(buf.to().unwrap().tag(), Some("xyz"));
        buf.set(HeaderName::From, "<sip:a@b> ;x=\"a b\" ; tag=1");
        buf.set_from_tag("2");
        assert_eq!(
            buf.headers().get(HeaderName::From),
            Some("<sip:a@b>;x=\"a b\";tag=2")
        );
        assert_eq!(
            buf.headers().get(HeaderName::To),
            Some("Bob <sip:bob@biloxi.example.com>;tag=xyz")
        );
        buf.set(HeaderName::MaxForwards, "69");
        assert_eq!(buf.headers().max_forwards(), Ok(69));
        buf.set_body(Some("application/sdp"), &b"v=0\r\n"[..]);
        check_index(&buf.b);
        assert_eq!(buf.headers().content_length(), Ok(5));
        buf.set_uri("sip:bob@192.0.2.4");
        buf.set_method(Method::Ack);
        check_index(&buf.b);
        assert_eq!(buf.remove(HeaderName::Via), 3);
        check_index(&buf.b);
        let bytes = buf.to_bytes();
        let again = Request::parse(&bytes).unwrap();
        assert_eq!(again.method(), Method::Ack);
        assert_eq!(again.uri(), "sip:bob@192.0.2.4");
        assert_eq!(again.body(), b"v=0\r\n");
        assert_eq!(again.to_buf().to_bytes(), bytes);
        assert!(buf.push_raw("X Bad", "1").is_err());
        buf.push_raw("X-Inject", "a\r\nVia: evil").unwrap();
        assert_eq!(buf.headers().count(HeaderName::Via), 0);
    }

    #[test]
    fn response_for_request_copies_8_2_6() {
        let req = Request::parse(INVITE).unwrap();
        let mut r = ResponseBuf::for_request(&req, StatusCode::TRYING, "Trying");
        assert_eq!(r.status(), StatusCode::TRYING);
        assert_eq!(r.headers().count(HeaderName::Via), 2);
        assert_eq!(r.headers().get(HeaderName::Timestamp), Some("54"));
        assert!(r.headers().get(HeaderName::Contact).is_none());
        r.set_status(StatusCode::RINGING, "Ringing");
        assert_eq!(r.status(), StatusCode::RINGING);
        assert_eq!(r.reason(), "Ringing");
        let mut r = ResponseBuf::for_request(&req, StatusCode::OK, "OK");
        r.set_to_tag("t1");
        r.push(HeaderName::Contact, "<sip:b@192.0.2.4>");
        let last: Vec<_> = r.headers().iter().map(|f| f.name).skip(6).collect();
        assert_eq!(last, [HeaderName::Contact, HeaderName::ContentLength]);
        let bytes = r.to_bytes();
        let p = crate::sip::Response::parse(&bytes).unwrap();
        assert_eq!(p.status(), StatusCode::OK);
        let vias: Vec<_> = p
            .headers()
            .vias()
            .map(|v| v.unwrap().branch().unwrap())
            .collect();
        assert_eq!(vias, ["z9hG4bK776asdhds", "z9hG4bKold"]);
        assert_eq!(p.to().unwrap().tag(), Some("t1"));
        assert_eq!(p.from().unwrap().tag(), Some("1928301774"));
        assert_eq!(p.call_id(), Ok("a84b4c76e66710@pc33.atlanta.example.com"));
        assert_eq!(p.cseq().unwrap().seq, 314159);
        assert_eq!(p.headers().get(HeaderName::Timestamp), None);
        assert_eq!(p.headers().content_length(), Ok(0));
    }
}
