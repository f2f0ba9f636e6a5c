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

use super::header::{
    AuthValue, CSeq, HeaderError, MediaType, NameAddr, RAck, Replaces, SessionExpires, TokenParams,
    Via,
};
use super::method::{Method, StatusCode};
use super::name::HeaderName;
use super::scan::{CommaSplit, find_byte, is_token, parse_u32, trim_lws};
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
    /// A header line without a colon or with an invalid name, or a fold before the
    /// first header.
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
    /// No defect.
    pub fn is_empty(&self) -> bool {
        self.bits == 0
    }
}

/// One header line in the index: byte offsets into the message head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) name: HeaderName,
    pub(crate) ns: u32,
    pub(crate) ne: u32,
    pub(crate) vs: u32,
    pub(crate) ve: u32,
    /// End of the line including its CRLF (start of the next line).
    pub(crate) le: u32,
}

/// A header field as stored: its recognised name, the name as written, and the raw value
/// (folds included, surrounding LWS trimmed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderField<'h> {
    /// The recognised name ([`HeaderName::Other`] for unknown ones).
    pub name: HeaderName,
    /// The name as written (`v`, `MaX-fOrWaRdS`).
    pub raw_name: &'h str,
    /// The value.
    pub value: &'h str,
}

/// The header index of a message: raw access and typed accessors decoded on demand.
#[derive(Clone, Copy, Debug)]
pub struct Headers<'h> {
    src: &'h str,
    entries: &'h [Entry],
}

fn sub(s: &str, a: u32, b: u32) -> &str {
    s.get(a as usize..b as usize).unwrap_or("")
}

impl<'h> Headers<'h> {
    pub(crate) fn new(src: &'h str, entries: &'h [Entry]) -> Self {
        Headers { src, entries }
    }

    fn field(self, e: &Entry) -> HeaderField<'h> {
        HeaderField {
            name: e.name,
            raw_name: sub(self.src, e.ns, e.ne),
            value: trim_lws(sub(self.src, e.vs, e.ve)),
        }
    }

    /// Number of header lines.
    pub fn len(self) -> usize {
        self.entries.len()
    }
    /// `true` if there are no headers.
    pub fn is_empty(self) -> bool {
        self.entries.is_empty()
    }
    /// The header lines in order.
    pub fn iter(self) -> impl Iterator<Item = HeaderField<'h>> + 'h {
        self.entries.iter().map(move |e| self.field(e))
    }
    /// The `i`-th header line.
    pub fn at(self, i: usize) -> Option<HeaderField<'h>> {
        self.entries.get(i).map(|e| self.field(e))
    }
    /// The value of the first header with this (known) name.
    pub fn get(self, name: HeaderName) -> Option<&'h str> {
        self.entries
            .iter()
            .find(|e| e.name == name)
            .map(|e| self.field(e).value)
    }
    /// The values of every header line with this (known) name, in order.
    pub fn get_all(self, name: HeaderName) -> impl Iterator<Item = &'h str> + 'h {
        self.entries
            .iter()
            .filter(move |e| e.name == name)
            .map(move |e| self.field(e).value)
    }
    /// The values of every header line with this name as text (case-insensitive; long
    /// and compact forms of known names are equivalent; unknown names match exactly
    /// ignoring case).
    pub fn named<'n>(self, name: &'n str) -> impl Iterator<Item = &'h str> + 'n
    where
        'h: 'n,
    {
        let known = HeaderName::parse(name);
        self.iter()
            .filter(move |f| {
                if known == HeaderName::Other {
                    f.name == HeaderName::Other && f.raw_name.eq_ignore_ascii_case(name)
                } else {
                    f.name == known
                }
            })
            .map(|f| f.value)
    }
    /// Number of header lines with this name.
    pub fn count(self, name: HeaderName) -> usize {
        self.entries.iter().filter(|e| e.name == name).count()
    }
    /// `true` if a header with this name is present.
    pub fn contains(self, name: HeaderName) -> bool {
        self.entries.iter().any(|e| e.name == name)
    }
    /// The comma-separated elements of every line with this name (RFC 3261 §7.3.1),
    /// in order. Empty elements are yielded (and make typed parsing fail).
    pub fn elements(self, name: HeaderName) -> impl Iterator<Item = &'h str> + 'h {
        self.get_all(name).flat_map(CommaSplit::new)
    }

    fn single<T>(
        self,
        name: HeaderName,
        f: impl FnOnce(&'h str) -> Option<T>,
    ) -> Result<T, HeaderError> {
        let v = self.get(name).ok_or(HeaderError::Missing(name))?;
        f(v).ok_or(HeaderError::Invalid(name))
    }

    fn list<T>(
        self,
        name: HeaderName,
        f: impl Fn(&'h str) -> Option<T> + 'h,
    ) -> impl Iterator<Item = Result<T, HeaderError>> + 'h {
        self.elements(name)
            .map(move |v| f(v).ok_or(HeaderError::Invalid(name)))
    }

    /// All Via elements, top first (RFC 3261 §20.42).
    pub fn vias(self) -> impl Iterator<Item = Result<Via<'h>, HeaderError>> + 'h {
        self.list(HeaderName::Via, Via::parse)
    }
    /// The top Via (the one a transaction is matched on, RFC 3261 §17.1.3, §17.2.3).
    pub fn via_top(self) -> Result<Via<'h>, HeaderError> {
        self.vias()
            .next()
            .unwrap_or(Err(HeaderError::Missing(HeaderName::Via)))
    }
    /// From (RFC 3261 §20.20).
    pub fn from(self) -> Result<NameAddr<'h>, HeaderError> {
        self.single(HeaderName::From, NameAddr::parse)
    }
    /// To (RFC 3261 §20.39).
    pub fn to(self) -> Result<NameAddr<'h>, HeaderError> {
        self.single(HeaderName::To, NameAddr::parse)
    }
    /// Call-ID (RFC 3261 §20.8): `word [ "@" word ]`, trimmed.
    pub fn call_id(self) -> Result<&'h str, HeaderError> {
        self.single(HeaderName::CallId, |v| {
            (!v.is_empty()
                && !v
                    .bytes()
                    .any(|b| b.is_ascii_whitespace() || b.is_ascii_control()))
            .then_some(v)
        })
    }
    /// CSeq (RFC 3261 §20.16).
    pub fn cseq(self) -> Result<CSeq<'h>, HeaderError> {
        self.single(HeaderName::CSeq, CSeq::parse)
    }
    /// Contact elements (RFC 3261 §20.10); see also [`Headers::is_contact_star`].
    pub fn contacts(self) -> impl Iterator<Item = Result<NameAddr<'h>, HeaderError>> + 'h {
        self.list(HeaderName::Contact, NameAddr::parse)
    }
    /// `true` if the Contact value is `*` (REGISTER remove-all, §10.2.2).
    pub fn is_contact_star(self) -> bool {
        self.get(HeaderName::Contact) == Some("*")
    }
    /// Max-Forwards (RFC 3261 §20.22), 0..=255.
    pub fn max_forwards(self) -> Result<u8, HeaderError> {
        self.single(HeaderName::MaxForwards, |v| {
            u8::try_from(parse_u32(v)?).ok()
        })
    }
    /// Content-Length (RFC 3261 §20.14).
    pub fn content_length(self) -> Result<u32, HeaderError> {
        self.single(HeaderName::ContentLength, parse_u32)
    }
    /// Content-Type (RFC 3261 §20.15).
    pub fn content_type(self) -> Result<MediaType<'h>, HeaderError> {
        self.single(HeaderName::ContentType, MediaType::parse)
    }
    /// Route elements (RFC 3261 §20.34).
    pub fn routes(self) -> impl Iterator<Item = Result<NameAddr<'h>, HeaderError>> + 'h {
        self.list(HeaderName::Route, NameAddr::parse)
    }
    /// Record-Route elements (RFC 3261 §20.30).
    pub fn record_routes(self) -> impl Iterator<Item = Result<NameAddr<'h>, HeaderError>> + 'h {
        self.list(HeaderName::RecordRoute, NameAddr::parse)
    }
    /// Expires (RFC 3261 §20.19), delta-seconds.
    pub fn expires(self) -> Result<u32, HeaderError> {
        self.single(HeaderName::Expires, parse_u32)
    }
    /// Min-Expires (RFC 3261 §20.23).
    pub fn min_expires(self) -> Result<u32, HeaderError> {
        self.single(HeaderName::MinExpires, parse_u32)
    }
    /// The tokens of a token-list header (Allow, Supported, Require, Unsupported,
    /// Proxy-Require, Allow-Events…); invalid elements are yielded as errors.
    pub fn tokens(
        self,
        name: HeaderName,
    ) -> impl Iterator<Item = Result<&'h str, HeaderError>> + 'h {
        self.list(name, |t| {
            (!t.is_empty() && t.bytes().all(is_token)).then_some(t)
        })
    }
    /// Allow (RFC 3261 §20.5).
    pub fn allow(self) -> impl Iterator<Item = Result<&'h str, HeaderError>> + 'h {
        self.tokens(HeaderName::Allow)
    }
    /// Supported (RFC 3261 §20.37).
    pub fn supported(self) -> impl Iterator<Item = Result<&'h str, HeaderError>> + 'h {
        self.tokens(HeaderName::Supported)
    }
    /// Require (RFC 3261 §20.32).
    pub fn require(self) -> impl Iterator<Item = Result<&'h str, HeaderError>> + 'h {
        self.tokens(HeaderName::Require)
    }
    /// Proxy-Require (RFC 3261 §20.29).
    pub fn proxy_require(self) -> impl Iterator<Item = Result<&'h str, HeaderError>> + 'h {
        self.tokens(HeaderName::ProxyRequire)
    }
    /// Unsupported (RFC 3261 §20.40).
    pub fn unsupported(self) -> impl Iterator<Item = Result<&'h str, HeaderError>> + 'h {
        self.tokens(HeaderName::Unsupported)
    }
    /// `true` if `tag` is listed in Supported or Require.
    pub fn supports(self, tag: &str) -> bool {
        self.supported()
            .chain(self.require())
            .any(|t| t.is_ok_and(|t| t.eq_ignore_ascii_case(tag)))
    }
    /// Every line of an authentication header (WWW-Authenticate, Authorization,
    /// Proxy-Authenticate, Proxy-Authorization) as scheme + raw parameters; not split
    /// at commas (the digest module parses the parameters).
    pub fn auth(
        self,
        name: HeaderName,
    ) -> impl Iterator<Item = Result<AuthValue<'h>, HeaderError>> + 'h {
        self.get_all(name)
            .map(move |v| AuthValue::parse(v).ok_or(HeaderError::Invalid(name)))
    }
    /// WWW-Authenticate challenges (RFC 3261 §20.44).
    pub fn www_authenticate(self) -> impl Iterator<Item = Result<AuthValue<'h>, HeaderError>> + 'h {
        self.auth(HeaderName::WwwAuthenticate)
    }
    /// Authorization credentials (RFC 3261 §20.7).
    pub fn authorization(self) -> impl Iterator<Item = Result<AuthValue<'h>, HeaderError>> + 'h {
        self.auth(HeaderName::Authorization)
    }
    /// Proxy-Authenticate challenges (RFC 3261 §20.27).
    pub fn proxy_authenticate(
        self,
    ) -> impl Iterator<Item = Result<AuthValue<'h>, HeaderError>> + 'h {
        self.auth(HeaderName::ProxyAuthenticate)
    }
    /// Proxy-Authorization credentials (RFC 3261 §20.28).
    pub fn proxy_authorization(
        self,
    ) -> impl Iterator<Item = Result<AuthValue<'h>, HeaderError>> + 'h {
        self.auth(HeaderName::ProxyAuthorization)
    }
    /// User-Agent (RFC 3261 §20.41), raw.
    pub fn user_agent(self) -> Option<&'h str> {
        self.get(HeaderName::UserAgent)
    }
    /// Server (RFC 3261 §20.35), raw.
    pub fn server(self) -> Option<&'h str> {
        self.get(HeaderName::Server)
    }
    /// Session-Expires (RFC 4028 §4).
    pub fn session_expires(self) -> Result<SessionExpires<'h>, HeaderError> {
        self.single(HeaderName::SessionExpires, SessionExpires::parse)
    }
    /// Min-SE (RFC 4028 §5), delta-seconds.
    pub fn min_se(self) -> Result<u32, HeaderError> {
        self.single(HeaderName::MinSe, |v| {
            parse_u32(TokenParams::parse(v)?.value)
        })
    }
    /// RSeq (RFC 3262 §7.1).
    pub fn rseq(self) -> Result<u32, HeaderError> {
        self.single(HeaderName::RSeq, parse_u32)
    }
    /// RAck (RFC 3262 §7.2).
    pub fn rack(self) -> Result<RAck<'h>, HeaderError> {
        self.single(HeaderName::RAck, RAck::parse)
    }
    /// Refer-To (RFC 3515 §2.1).
    pub fn refer_to(self) -> Result<NameAddr<'h>, HeaderError> {
        self.single(HeaderName::ReferTo, NameAddr::parse)
    }
    /// Referred-By (RFC 3892 §3).
    pub fn referred_by(self) -> Result<NameAddr<'h>, HeaderError> {
        self.single(HeaderName::ReferredBy, NameAddr::parse)
    }
    /// Replaces (RFC 3891 §6.1).
    pub fn replaces(self) -> Result<Replaces<'h>, HeaderError> {
        self.single(HeaderName::Replaces, Replaces::parse)
    }
    /// Event (RFC 6665 §8.2.1): package plus `id` and other parameters.
    pub fn event(self) -> Result<TokenParams<'h>, HeaderError> {
        self.single(HeaderName::Event, TokenParams::parse)
    }
    /// Subscription-State (RFC 6665 §8.2.3): state plus `expires`/`reason`/….
    pub fn subscription_state(self) -> Result<TokenParams<'h>, HeaderError> {
        self.single(HeaderName::SubscriptionState, TokenParams::parse)
    }
    /// Reason elements (RFC 3326): protocol plus `cause`/`text`.
    pub fn reasons(self) -> impl Iterator<Item = Result<TokenParams<'h>, HeaderError>> + 'h {
        self.list(HeaderName::Reason, TokenParams::parse)
    }
    /// P-Asserted-Identity elements (RFC 3325 §9.1).
    pub fn p_asserted_identities(
        self,
    ) -> impl Iterator<Item = Result<NameAddr<'h>, HeaderError>> + 'h {
        self.list(HeaderName::PAssertedIdentity, NameAddr::parse)
    }
    /// Diversion elements (RFC 5806 §2).
    pub fn diversions(self) -> impl Iterator<Item = Result<NameAddr<'h>, HeaderError>> + 'h {
        self.list(HeaderName::Diversion, NameAddr::parse)
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
pub(crate) struct Parsed<'a> {
    raw: &'a [u8],
    head: &'a str,
    /// Offset of the first header line in `head`.
    hstart: u32,
    entries: Vec<Entry>,
    blank: &'a str,
    body: &'a [u8],
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

/// A parsed request (borrowed view).
#[derive(Clone, Debug)]
pub struct Request<'a> {
    method: Method<'a>,
    uri: &'a str,
    version: &'a str,
    p: Parsed<'a>,
}

/// A parsed response (borrowed view).
#[derive(Clone, Debug)]
pub struct Response<'a> {
    version: &'a str,
    status: StatusCode,
    reason: &'a str,
    p: Parsed<'a>,
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

/// Result of the first scan of a head.
pub(crate) struct HeadScan {
    /// Offset of the start line (leading CRLFs skipped).
    pub(crate) start: usize,
    /// End of the last header line (= start of the empty line).
    pub(crate) head_end: usize,
    /// Start of the body.
    pub(crate) body_start: usize,
    /// Number of header lines (folds excluded).
    pub(crate) headers: usize,
}

/// Finds the end of the head and counts header lines, enforcing the limits. `Ok(None)`
/// if the head is not complete yet.
pub(crate) fn scan_head(buf: &[u8], limits: &Limits) -> Result<Option<HeadScan>, ParseError> {
    let mut start = 0;
    loop {
        match buf.get(start..) {
            Some([b'\r', b'\n', ..]) => start += 2,
            Some([b'\n', ..]) => start += 1,
            _ => break,
        }
    }
    let mut pos = start;
    let mut headers = 0usize;
    let mut first = true;
    loop {
        let Some(nl) = find_byte(buf, pos, b'\n') else {
            if buf.len().saturating_sub(pos) > limits.max_line_len {
                return Err(ParseError::LineTooLong);
            }
            if buf.len() - start > limits.max_message_size {
                return Err(ParseError::TooLarge);
            }
            return Ok(None);
        };
        let mut line_end = nl;
        if line_end > pos && buf.get(line_end - 1) == Some(&b'\r') {
            line_end -= 1;
        }
        if line_end - pos > limits.max_line_len {
            return Err(ParseError::LineTooLong);
        }
        if nl + 1 - start > limits.max_message_size {
            return Err(ParseError::TooLarge);
        }
        if line_end == pos && !first {
            return Ok(Some(HeadScan {
                start,
                head_end: pos,
                body_start: nl + 1,
                headers,
            }));
        }
        if !first && !matches!(buf.get(pos), Some(b' ' | b'\t')) {
            headers += 1;
            if headers > limits.max_headers {
                return Err(ParseError::TooManyHeaders);
            }
        }
        first = false;
        pos = nl + 1;
    }
}

fn off(x: usize) -> u32 {
    // Invariant: offsets are bounded by max_message_size, itself checked below u32::MAX
    // in `tokenize`.
    u32::try_from(x).unwrap_or(u32::MAX)
}

/// Builds the header index of `head` (whose first line is the start line).
/// Returns (entries, offset of the first header line).
pub(crate) fn index_headers(head: &str, capacity: usize) -> Result<(Vec<Entry>, u32), ParseError> {
    let b = head.as_bytes();
    let mut entries: Vec<Entry> = Vec::with_capacity(capacity);
    let first_nl = find_byte(b, 0, b'\n').ok_or(ParseError::BadStartLine)?;
    let hstart = first_nl + 1;
    let mut pos = hstart;
    while pos < b.len() {
        let nl = find_byte(b, pos, b'\n').unwrap_or(b.len());
        let le = (nl + 1).min(b.len());
        let mut end = nl;
        if end > pos && b.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        if matches!(b.get(pos), Some(b' ' | b'\t')) {
            let last = entries.last_mut().ok_or(ParseError::BadHeaderLine)?;
            if end > pos && b[pos..end].iter().any(|c| !matches!(c, b' ' | b'\t')) {
                let mut ve = end;
                while ve > pos && matches!(b.get(ve - 1), Some(b' ' | b'\t')) {
                    ve -= 1;
                }
                last.ve = off(ve);
            }
            last.le = off(le);
        } else {
            let colon = b
                .get(pos..end)
                .and_then(|l| l.iter().position(|&c| c == b':'))
                .ok_or(ParseError::BadHeaderLine)?
                + pos;
            let mut ne = colon;
            while ne > pos && matches!(b.get(ne - 1), Some(b' ' | b'\t')) {
                ne -= 1;
            }
            let name = head.get(pos..ne).ok_or(ParseError::BadHeaderLine)?;
            if name.is_empty() || !name.bytes().all(is_token) {
                return Err(ParseError::BadHeaderLine);
            }
            let mut vs = colon + 1;
            while vs < end && matches!(b.get(vs), Some(b' ' | b'\t')) {
                vs += 1;
            }
            let mut ve = end;
            while ve > vs && matches!(b.get(ve - 1), Some(b' ' | b'\t')) {
                ve -= 1;
            }
            entries.push(Entry {
                name: HeaderName::parse(name),
                ns: off(pos),
                ne: off(ne),
                vs: off(vs),
                ve: off(ve),
                le: off(le),
            });
        }
        pos = le;
    }
    Ok((entries, off(hstart)))
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

fn parse_start(line: &str) -> Result<Start<'_>, ParseError> {
    let line = line.strip_suffix('\n').unwrap_or(line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    let is_version = |v: &str| {
        v.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
            && v.len() > 4
            && v.bytes().skip(4).all(|c| c.is_ascii_digit() || c == b'.')
    };
    if line
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
    {
        let (version, rest) = line.split_once(' ').ok_or(ParseError::BadStartLine)?;
        if !is_version(version) {
            return Err(ParseError::BadStartLine);
        }
        let rb = rest.as_bytes();
        if rb.len() < 4 || rb.get(3) != Some(&b' ') || !rb[..3].iter().all(u8::is_ascii_digit) {
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
        if reason.bytes().any(|c| c.is_ascii_control() && c != b'\t') {
            return Err(ParseError::BadStartLine);
        }
        return Ok(Start::Resp {
            version,
            status,
            reason,
        });
    }
    let (m, rest) = line.split_once(' ').ok_or(ParseError::BadStartLine)?;
    let method = Method::parse(m).ok_or(ParseError::BadStartLine)?;
    let trimmed = rest.trim_end_matches([' ', '\t']);
    let (uri, version) = trimmed
        .rsplit_once([' ', '\t'])
        .ok_or(ParseError::BadStartLine)?;
    if !is_version(version) {
        return Err(ParseError::BadStartLine);
    }
    let uri_t = uri.trim_matches([' ', '\t']);
    if uri_t.is_empty() {
        return Err(ParseError::BadStartLine);
    }
    let irregular = uri_t.len() != uri.len()
        || trimmed.len() != rest.len()
        || uri_t.bytes().any(|c| c == b' ' || c == b'\t');
    Ok(Start::Req {
        method,
        uri: uri_t,
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
    let scan = match scan_head(buf, &lim)? {
        Some(s) => s,
        None => {
            return Err(if buf.iter().all(|&c| c == b'\r' || c == b'\n') {
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
    let blank = core::str::from_utf8(buf.get(scan.head_end..scan.body_start).unwrap_or(b""))
        .map_err(|_| ParseError::InvalidUtf8)?;
    let first_nl = find_byte(head.as_bytes(), 0, b'\n').ok_or(ParseError::BadStartLine)?;
    let start = parse_start(head.get(..first_nl).ok_or(ParseError::BadStartLine)?)?;
    let (entries, hstart) = index_headers(head, scan.headers)?;

    // Body framing by Content-Length.
    let mut defects = Defects::default();
    let mut cl: Option<Option<usize>> = None;
    for e in entries
        .iter()
        .filter(|e| e.name == HeaderName::ContentLength)
    {
        let v = parse_u32(trim_lws(sub(head, e.vs, e.ve))).map(|v| v as usize);
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
