//! Request and response checks a UAS/UAC applies before processing (RFC 3261 §8.2,
//! §16.3, §18.1.2; RFC 4475's expected outcomes).
//!
//! Input: a parsed [`Request`] (or [`Response`]) and a [`ValidateConfig`] describing
//! what this element supports. Output: `Ok(())`, or a [`Rejection`] naming the status
//! code, reason phrase and extra headers (Unsupported, Allow, Accept) the UAS must send;
//! [`Rejection::to_response`] builds that response. Responses that fail
//! [`validate_response`] are dropped silently.
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::header::{HeaderError, MediaType, NameAddr, Via};
use super::message::{Headers, Request, Response};
use super::method::{Method, StatusCode};
use super::name::{HeaderName, ends};
use super::owned::{HasHeaders, ResponseBuf};
use super::scan::{CommaSplit, is_token_str, split_byte};
use super::uri::Uri;

/// What the validating element supports.
#[derive(Clone, Copy, Debug)]
pub struct ValidateConfig<'c> {
    /// Methods implemented (others get 501 with Allow, §8.2.1).
    pub allowed_methods: &'c [Method<'c>],
    /// Option tags supported (a Require naming another gets 420, §8.2.2.3).
    pub supported_extensions: &'c [&'c str],
    /// Body media types accepted (`type/subtype`; others get 415 with Accept, §8.2.3).
    pub accepted_content_types: &'c [&'c str],
    /// Request-URI schemes served (others get 416, §8.2.2.1).
    pub uri_schemes: &'c [&'c str],
    /// Acting as a proxy / about to forward: Max-Forwards 0 gets 483 (§16.3 item 3) and
    /// Proxy-Require is checked like Require.
    pub forwarding: bool,
    /// Accept RFC 2543 requests without Max-Forwards (RFC 4475 §3.4.1). When `false`, a
    /// missing Max-Forwards is a 400.
    pub rfc2543_compat: bool,
}

/// The methods of RFC 3261, 3262, 3311, 3428, 3515, 6086, 6665.
pub const DEFAULT_METHODS: &[Method<'static>] = &[
    Method::Invite,
    Method::Ack,
    Method::Bye,
    Method::Cancel,
    Method::Options,
    Method::Register,
    Method::Prack,
    Method::Update,
    Method::Info,
    Method::Message,
    Method::Refer,
    Method::Notify,
    Method::Subscribe,
];

impl Default for ValidateConfig<'_> {
    fn default() -> Self {
        ValidateConfig {
            allowed_methods: DEFAULT_METHODS,
            supported_extensions: &["100rel", "timer", "replaces"],
            accepted_content_types: &["application/sdp"],
            uri_schemes: &["sip", "sips", "tel"],
            forwarding: false,
            rfc2543_compat: true,
        }
    }
}

/// The error response a request deserves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// Status code.
    pub status: StatusCode,
    /// Reason phrase (specific to the problem, e.g. `Missing Call-ID`).
    pub reason: &'static str,
    /// Extra headers for the response (`Unsupported`, `Allow`, `Accept`).
    pub headers: Vec<(HeaderName, String)>,
}

impl Rejection {
    fn new(status: StatusCode, reason: &'static str) -> Self {
        Rejection {
            status,
            reason,
            headers: Vec::new(),
        }
    }

    /// The response to send: [`ResponseBuf::for_request`] plus the extra headers. The
    /// caller adds a To tag if the request had none (§8.2.6.2).
    pub fn to_response(&self, req: &impl HasHeaders) -> ResponseBuf {
        // The extra headers go before Content-Length; the head is built in one pass.
        super::owned::response_for(req.headers(), self.status, self.reason, &self.headers)
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.reason)
    }
}

impl core::error::Error for Rejection {}

macro_rules! phrases {
    ($( $(#[$m:meta])* $id:ident = $text:literal, )*) => {
        /// Every reason phrase [`validate`] gives, concatenated (cut by [`ENDS`]: a few
        /// bytes per phrase instead of a table of `&str`s).
        static PHRASES: &str = concat!( $( $text, )* );
        /// The end of each phrase in [`PHRASES`].
        static ENDS: [u16; [ $( $text, )* ].len()] = ends([ $( $text.len(), )* ]);
        /// A problem [`validate`] reports: the index of its phrase (an error code of
        /// one byte inside the checks; [`validate`] builds the [`Rejection`] once).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        enum P { $( $(#[$m])* $id, )* }
    };
}

phrases! {
    // The statuses other than 400, in the order of `STATUS`.
    Version = "Version Not Supported",
    Scheme = "Unsupported URI Scheme",
    NotImplemented = "Not Implemented",
    TooManyHops = "Too Many Hops",
    BadExtension = "Bad Extension",
    MediaType = "Unsupported Media Type",
    NotAcceptable = "Not Acceptable",
    // 400.
    StartLine = "Malformed Request-Line",
    MalformedHeader = "Malformed Header",
    RequestUri = "Malformed Request-URI",
    CSeqMethod = "CSeq Method Mismatch",
    Aor = "Invalid Address-of-Record",
    Require = "Invalid Require",
    // The generic phrases, in the order of [`MISSING`], [`INVALID`], [`MULTIPLE`].
    MissingHeader = "Missing Header",
    InvalidHeader = "Invalid Header",
    MultipleHeaders = "Multiple Single-Valued Headers",
    // The phrases that name their header (see [`REASONS`]).
    MissingTo = "Missing To",
    InvalidTo = "Invalid To",
    MultipleTo = "Multiple To",
    MissingFrom = "Missing From",
    InvalidFrom = "Invalid From",
    MultipleFrom = "Multiple From",
    MissingCallId = "Missing Call-ID",
    InvalidCallId = "Invalid Call-ID",
    MultipleCallId = "Multiple Call-ID",
    MissingCSeq = "Missing CSeq",
    InvalidCSeq = "Invalid CSeq",
    MultipleCSeq = "Multiple CSeq",
    MissingVia = "Missing Via",
    InvalidVia = "Invalid Via",
    MissingMaxForwards = "Missing Max-Forwards",
    InvalidMaxForwards = "Invalid Max-Forwards",
    MultipleMaxForwards = "Multiple Max-Forwards",
    InvalidContact = "Invalid Contact",
    InvalidContentType = "Invalid Content-Type",
    InvalidExpires = "Invalid Expires",
    InvalidRoute = "Invalid Route",
    InvalidRecordRoute = "Invalid Record-Route",
    InvalidDate = "Invalid Date",
    InvalidContentLength = "Invalid Content-Length",
}

/// The status of the problems before [`P::StartLine`] (the others are 400s).
static STATUS: [StatusCode; 7] = [
    StatusCode::VERSION_NOT_SUPPORTED,
    StatusCode::UNSUPPORTED_URI_SCHEME,
    StatusCode::NOT_IMPLEMENTED,
    StatusCode::TOO_MANY_HOPS,
    StatusCode::BAD_EXTENSION,
    StatusCode::UNSUPPORTED_MEDIA_TYPE,
    StatusCode::NOT_ACCEPTABLE,
];

impl P {
    /// The reason phrase.
    fn phrase(self) -> &'static str {
        let i = self as usize;
        let start = match i.checked_sub(1) {
            Some(j) => ENDS.get(j).copied().unwrap_or(0),
            None => 0,
        };
        let end = ENDS.get(i).copied().unwrap_or(0);
        PHRASES
            .get(usize::from(start)..usize::from(end))
            .unwrap_or("Bad Request")
    }

    /// The response status.
    fn status(self) -> StatusCode {
        STATUS
            .get(self as usize)
            .copied()
            .unwrap_or(StatusCode::BAD_REQUEST)
    }
}

/// Per header, its `[missing, invalid, repeated]` phrases (the generic ones of
/// [`P::MissingHeader`]… where it has none of its own).
const REASONS: &[(HeaderName, [P; 3])] = {
    use P::*;
    &[
        (HeaderName::To, [MissingTo, InvalidTo, MultipleTo]),
        (HeaderName::From, [MissingFrom, InvalidFrom, MultipleFrom]),
        (
            HeaderName::CallId,
            [MissingCallId, InvalidCallId, MultipleCallId],
        ),
        (HeaderName::CSeq, [MissingCSeq, InvalidCSeq, MultipleCSeq]),
        (HeaderName::Via, [MissingVia, InvalidVia, MultipleHeaders]),
        (
            HeaderName::MaxForwards,
            [MissingMaxForwards, InvalidMaxForwards, MultipleMaxForwards],
        ),
        (
            HeaderName::Contact,
            [MissingHeader, InvalidContact, MultipleHeaders],
        ),
        (
            HeaderName::ContentType,
            [MissingHeader, InvalidContentType, MultipleHeaders],
        ),
        (
            HeaderName::Expires,
            [MissingHeader, InvalidExpires, MultipleHeaders],
        ),
        (
            HeaderName::Route,
            [MissingHeader, InvalidRoute, MultipleHeaders],
        ),
        (
            HeaderName::RecordRoute,
            [MissingHeader, InvalidRecordRoute, MultipleHeaders],
        ),
        (
            HeaderName::Date,
            [MissingHeader, InvalidDate, MultipleHeaders],
        ),
        (
            HeaderName::ContentLength,
            [MissingHeader, InvalidContentLength, MultipleHeaders],
        ),
    ]
};

/// Which phrase of [`REASONS`].
const MISSING: usize = 0;
const INVALID: usize = 1;
const MULTIPLE: usize = 2;

/// The 400 for header `n` with problem `kind` ([`MISSING`], [`INVALID`], [`MULTIPLE`]).
fn bad_header(n: HeaderName, kind: usize) -> P {
    let generic = [P::MissingHeader, P::InvalidHeader, P::MultipleHeaders];
    let row = REASONS
        .iter()
        .find(|(h, _)| *h == n)
        .map_or(&generic, |(_, r)| r);
    row.get(kind).copied().unwrap_or(P::InvalidHeader)
}

/// The 400 for a missing header.
fn missing(n: HeaderName) -> P {
    bad_header(n, MISSING)
}

/// The 400 for an invalid header.
fn invalid(n: HeaderName) -> P {
    bad_header(n, INVALID)
}

fn hdr(e: HeaderError) -> P {
    match e {
        HeaderError::Missing(n) => missing(n),
        HeaderError::Invalid(n) => invalid(n),
    }
}

/// Headers that may appear at most once (RFC 3261 §7.3.1: not list-valued).
const SINGLE: &[HeaderName] = &[
    HeaderName::To,
    HeaderName::From,
    HeaderName::CallId,
    HeaderName::CSeq,
    HeaderName::MaxForwards,
    HeaderName::ContentLength,
    HeaderName::ContentType,
    HeaderName::Expires,
];

/// Appends `t` to a comma-separated list.
fn push_item(s: &mut String, t: &str) {
    if !s.is_empty() {
        s.push_str(", ");
    }
    s.push_str(t);
}

/// `list` names `t` (ASCII case-insensitive).
fn has(list: &[&str], t: &str) -> bool {
    list.iter().any(|s| s.eq_ignore_ascii_case(t))
}

/// The first comma-separated element of the `name` header lines that `ok` rejects (one
/// non-generic walk for every list check).
fn first_bad<'h>(h: Headers<'h>, name: HeaderName, ok: fn(&str) -> bool) -> Option<&'h str> {
    for v in h.get_all(name) {
        for e in CommaSplit::new(v) {
            if !ok(e) {
                return Some(e);
            }
        }
    }
    None
}

/// A name-addr whose URI parses (Contact, Route, Record-Route elements).
fn addr_ok(v: &str) -> bool {
    NameAddr::parse(v).is_some_and(|a| a.uri().is_ok())
}

/// An Accept element that admits `application/sdp`.
fn accepts_sdp(a: &str) -> bool {
    MediaType::parse(a).is_some_and(|m| {
        (m.mtype == "*" && m.subtype == "*")
            || (m.mtype.eq_ignore_ascii_case("application")
                && (m.subtype == "*" || m.subtype.eq_ignore_ascii_case("sdp")))
    })
}

/// Checks a request in the order RFC 3261 §8.2 and RFC 4475 imply: version (505),
/// framing and syntax (400: start line, Content-Length, missing / repeated / malformed
/// mandatory headers, Request-URI), Request-URI scheme (416), method (501 with Allow),
/// CSeq method (400), Max-Forwards when forwarding (483), Require / Proxy-Require (420
/// with Unsupported), body type (415 with Accept), acceptable answer type for INVITE
/// (406).
pub fn validate(req: &Request<'_>, cfg: &ValidateConfig<'_>) -> Result<(), Rejection> {
    // The checks report a one-byte problem and write the value of the extra header (if
    // its problem has one) to `extra`; the rejection is built here, once.
    let mut extra = String::new();
    let Err(p) = check(req, cfg, &mut extra) else {
        return Ok(());
    };
    let mut r = Rejection::new(p.status(), p.phrase());
    let name = match p {
        P::NotImplemented => HeaderName::Allow,
        P::BadExtension => HeaderName::Unsupported,
        P::MediaType | P::NotAcceptable => HeaderName::Accept,
        _ => return Err(r),
    };
    r.headers.push((name, extra));
    Err(r)
}

/// The checks of [`validate`], in its order.
fn check(req: &Request<'_>, cfg: &ValidateConfig<'_>, extra: &mut String) -> Result<(), P> {
    if !req.version().eq_ignore_ascii_case("SIP/2.0") {
        return Err(P::Version);
    }
    let d = req.defects();
    if d.irregular_start_line() {
        return Err(P::StartLine);
    }
    if d.bad_content_length() || d.short_body() {
        return Err(P::InvalidContentLength);
    }
    if d.malformed_header() {
        return Err(P::MalformedHeader);
    }
    let h = req.headers();
    for &n in SINGLE {
        if h.count(n) > 1 {
            return Err(bad_header(n, MULTIPLE));
        }
    }
    // To and From parse once: a name-addr with a valid URI; whether both are SIP/SIPS
    // URIs is kept for REGISTER below.
    let mut sip_aor = true;
    for &n in &[HeaderName::To, HeaderName::From] {
        let v = h.get(n).ok_or_else(|| missing(n))?;
        match NameAddr::parse(v).map(|a| a.uri()) {
            Some(Ok(u)) => sip_aor &= matches!(u, Uri::Sip(_)),
            _ => return Err(invalid(n)),
        }
    }
    h.call_id().map_err(hdr)?;
    let cseq = h.cseq().map_err(hdr)?;
    if !h.contains(HeaderName::Via) {
        return Err(P::MissingVia);
    }
    if first_bad(h, HeaderName::Via, |v| Via::parse(v).is_some()).is_some() {
        return Err(P::InvalidVia);
    }
    let max_forwards = match h.max_forwards() {
        Ok(m) => Some(m),
        Err(HeaderError::Missing(_)) if cfg.rfc2543_compat => None,
        Err(e) => return Err(hdr(e)),
    };
    if !h.is_contact_star() && first_bad(h, HeaderName::Contact, addr_ok).is_some() {
        return Err(P::InvalidContact);
    }
    if first_bad(h, HeaderName::Route, addr_ok).is_some() {
        return Err(P::InvalidRoute);
    }
    if let Some(r) = first_bad(h, HeaderName::RecordRoute, addr_ok) {
        // A Record-Route element that is no name-addr names its header; a bad URI in
        // one is reported as a bad route.
        return Err(match NameAddr::parse(r) {
            None => P::InvalidRecordRoute,
            Some(_) => P::InvalidRoute,
        });
    }
    if h.contains(HeaderName::Expires) {
        h.expires().map_err(hdr)?;
    }
    // Content-Type: present and invalid is a 400; parsed once (the body check below).
    let content_type = h.content_type();
    if let Err(e @ HeaderError::Invalid(_)) = content_type {
        return Err(hdr(e));
    }
    if let Some(date) = h.get(HeaderName::Date) {
        // rfc1123-date ends in "GMT" (§20.17); RFC 4475 §3.1.2.14 `baddate`.
        if !date.ends_with(" GMT") {
            return Err(P::InvalidDate);
        }
    }

    // Request-URI.
    let uri = req.parsed_uri().map_err(|_| P::RequestUri)?;
    // §19.1.1: headers are not allowed in a Request-URI (RFC 4475 `escruri`).
    if matches!(&uri, Uri::Sip(s) if !s.headers_str().is_empty()) {
        return Err(P::RequestUri);
    }
    if !has(cfg.uri_schemes, uri.scheme()) {
        return Err(P::Scheme);
    }

    // Method.
    let method = req.method();
    if !cfg.allowed_methods.contains(&method) {
        for m in cfg.allowed_methods {
            push_item(extra, m.as_str());
        }
        return Err(P::NotImplemented);
    }
    if cseq.method != method {
        return Err(P::CSeqMethod);
    }
    // §10.3: the address of record must be a SIP/SIPS URI (RFC 4475 `unksm2`).
    if matches!(method, Method::Register) && !sip_aor {
        return Err(P::Aor);
    }
    if cfg.forwarding && matches!(max_forwards, Some(0)) {
        return Err(P::TooManyHops);
    }

    // Extensions (not for ACK/CANCEL, §8.2.2.3): the unsupported ones go to `extra`.
    if !matches!(method, Method::Ack | Method::Cancel) {
        let names: &[HeaderName] = if cfg.forwarding {
            &[HeaderName::Require, HeaderName::ProxyRequire]
        } else {
            &[HeaderName::Require]
        };
        for &n in names {
            for v in h.get_all(n) {
                for t in CommaSplit::new(v) {
                    if !is_token_str(t) {
                        return Err(P::Require);
                    }
                    if !has(cfg.supported_extensions, t) {
                        push_item(extra, t);
                    }
                }
            }
        }
        if !extra.is_empty() {
            return Err(P::BadExtension);
        }
    }

    // Body.
    if !req.body().is_empty() || content_type.is_ok() {
        let ok = match content_type {
            Ok(ct) => cfg.accepted_content_types.iter().any(|a| {
                let (t, s) = split_byte(a, b'/');
                ct.is(t, s.unwrap_or(""))
            }),
            Err(_) => req.body().is_empty(),
        };
        if !ok {
            for t in cfg.accepted_content_types {
                push_item(extra, t);
            }
            return Err(P::MediaType);
        }
    }
    if matches!(method, Method::Invite) && h.contains(HeaderName::Accept) {
        // We answer with SDP; RFC 4475 `sdp01` (406 when SDP is not acceptable).
        let accepts_sdp = first_bad(h, HeaderName::Accept, |a| !accepts_sdp(a)).is_some();
        let empty = matches!(h.get(HeaderName::Accept), Some(""));
        if !accepts_sdp && !empty {
            extra.push_str("application/sdp");
            return Err(P::NotAcceptable);
        }
    }
    Ok(())
}

/// Why a received response is discarded (RFC 3261 §18.1.2, §8.1.3.3; RFC 4475).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseDrop {
    /// Version is not SIP/2.0.
    Version,
    /// A mandatory header (Via, From, To, Call-ID, CSeq) is missing, repeated or
    /// malformed (e.g. an out-of-range CSeq, RFC 4475 `scalarlg`).
    BadHeader(HeaderName),
    /// More than one Via (§18.1.2; RFC 4475 `bcast`).
    MultipleVia,
    /// Framing defect (bad Content-Length, short body) or a malformed header line.
    Framing,
}

impl fmt::Display for ResponseDrop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Version => f.write_str("unsupported SIP version"),
            Self::BadHeader(n) => write!(f, "missing or invalid {n}"),
            Self::MultipleVia => f.write_str("more than one Via"),
            Self::Framing => f.write_str("framing defect"),
        }
    }
}

impl core::error::Error for ResponseDrop {}

/// Checks a response received by a client transport; `Err` means discard it.
pub fn validate_response(resp: &Response<'_>) -> Result<(), ResponseDrop> {
    if !resp.version().eq_ignore_ascii_case("SIP/2.0") {
        return Err(ResponseDrop::Version);
    }
    if !resp.defects().is_empty() {
        return Err(ResponseDrop::Framing);
    }
    let h = resp.headers();
    // The first Via element must parse, and be the only one.
    let (mut vias, mut top_ok) = (0, false);
    'lines: for v in h.get_all(HeaderName::Via) {
        for e in CommaSplit::new(v) {
            if vias == 0 {
                top_ok = Via::parse(e).is_some();
            }
            vias += 1;
            if vias > 1 {
                break 'lines;
            }
        }
    }
    match (top_ok, vias) {
        (true, 1) => {}
        (true, _) => return Err(ResponseDrop::MultipleVia),
        (false, _) => return Err(ResponseDrop::BadHeader(HeaderName::Via)),
    }
    for &n in &[
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
    ] {
        if h.count(n) != 1 {
            return Err(ResponseDrop::BadHeader(n));
        }
    }
    // From and To: a name-addr (the one line counted above).
    for &n in &[HeaderName::From, HeaderName::To] {
        if h.get(n).and_then(NameAddr::parse).is_none() {
            return Err(ResponseDrop::BadHeader(n));
        }
    }
    h.call_id()
        .map_err(|_| ResponseDrop::BadHeader(HeaderName::CallId))?;
    h.cseq()
        .map_err(|_| ResponseDrop::BadHeader(HeaderName::CSeq))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(s: &str) -> Request<'_> {
        Request::parse(s.as_bytes()).unwrap()
    }

    const BASE: &str = "OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nMax-Forwards: 70\r\nTo: <sip:bob@example.com>\r\nFrom: <sip:a@example.com>;tag=1\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n";

    fn with(extra: &str) -> alloc::string::String {
        alloc::format!("{BASE}{extra}Content-Length: 0\r\n\r\n")
    }

    #[test]
    fn accepts_a_good_request() {
        assert_eq!(
            validate(&req(&with("")), &ValidateConfig::default()),
            Ok(())
        );
    }

    #[test]
    fn require_gives_420_with_unsupported() {
        let m = with("Require: 100rel, foo\r\n");
        let e = validate(&req(&m), &ValidateConfig::default()).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_EXTENSION);
        assert_eq!(e.headers, [(HeaderName::Unsupported, "foo".into())]);
        let r = e.to_response(&req(&m));
        assert_eq!(r.headers().get(HeaderName::Unsupported), Some("foo"));
        assert_eq!(r.headers().get(HeaderName::CallId), Some("c1"));
    }

    #[test]
    fn max_forwards_rules() {
        let no_mf = BASE.replace("Max-Forwards: 70\r\n", "") + "Content-Length: 0\r\n\r\n";
        assert_eq!(validate(&req(&no_mf), &ValidateConfig::default()), Ok(()));
        let strict = ValidateConfig {
            rfc2543_compat: false,
            ..ValidateConfig::default()
        };
        assert_eq!(
            validate(&req(&no_mf), &strict).unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
        let zero =
            BASE.replace("Max-Forwards: 70", "Max-Forwards: 0") + "Content-Length: 0\r\n\r\n";
        assert_eq!(validate(&req(&zero), &ValidateConfig::default()), Ok(()));
        let proxy = ValidateConfig {
            forwarding: true,
            ..ValidateConfig::default()
        };
        assert_eq!(
            validate(&req(&zero), &proxy).unwrap_err().status,
            StatusCode::TOO_MANY_HOPS
        );
    }

    #[test]
    fn reason_phrases_name_the_header() {
        let cfg = ValidateConfig::default();
        let reason = |m: &str| validate(&req(m), &cfg).unwrap_err().reason;
        let end = "Content-Length: 0\r\n\r\n";
        assert_eq!(reason(&with("CSeq: 2 OPTIONS\r\n")), "Multiple CSeq");
        assert_eq!(reason(&with("To: <sip:c@d>\r\n")), "Multiple To");
        assert_eq!(
            reason(&with("Expires: 1\r\nExpires: 2\r\n")),
            "Multiple Single-Valued Headers"
        );
        let no_call_id = BASE.replace("Call-ID: c1\r\n", "") + end;
        assert_eq!(reason(&no_call_id), "Missing Call-ID");
        let no_to = BASE.replace("To: <sip:bob@example.com>\r\n", "") + end;
        assert_eq!(reason(&no_to), "Missing To");
        let bad_mf = BASE.replace("Max-Forwards: 70", "Max-Forwards: x") + end;
        assert_eq!(reason(&bad_mf), "Invalid Max-Forwards");
        assert_eq!(reason(&with("Via: bogus\r\n")), "Invalid Via");
        assert_eq!(reason(&with("Contact: <sip:a@>\r\n")), "Invalid Contact");
        assert_eq!(reason(&with("Route: <sip:a@>\r\n")), "Invalid Route");
        // A Record-Route that is no name-addr names its header; a bad URI in one is a
        // bad route.
        assert_eq!(
            reason(&with("Record-Route: <sip:a@h\r\n")),
            "Invalid Record-Route"
        );
        assert_eq!(reason(&with("Record-Route: <sip:a@>\r\n")), "Invalid Route");
        assert_eq!(reason(&with("Expires: soon\r\n")), "Invalid Expires");
        assert_eq!(
            reason(&with("Date: Sat, 13 Nov 2010 23:29:00 PST\r\n")),
            "Invalid Date"
        );
    }

    #[test]
    fn every_phrase_names_its_header() {
        let words = ["Missing", "Invalid", "Multiple"];
        for &(n, row) in REASONS {
            for (k, p) in row.into_iter().enumerate() {
                let named = alloc::format!("{} {}", words[k], n.as_str());
                let generic = [P::MissingHeader, P::InvalidHeader, P::MultipleHeaders][k];
                let want = if p == generic {
                    generic.phrase().into()
                } else {
                    named
                };
                assert_eq!(bad_header(n, k).phrase(), want, "{n:?} {k}");
                assert_eq!(bad_header(n, k).status(), StatusCode::BAD_REQUEST);
            }
        }
        assert_eq!(
            bad_header(HeaderName::Allow, INVALID).phrase(),
            "Invalid Header"
        );
        assert_eq!(P::Version.phrase(), "Version Not Supported");
        assert_eq!(P::Version.status(), StatusCode::VERSION_NOT_SUPPORTED);
        assert_eq!(P::NotAcceptable.phrase(), "Not Acceptable");
        assert_eq!(P::NotAcceptable.status(), StatusCode::NOT_ACCEPTABLE);
        assert_eq!(P::StartLine.status(), StatusCode::BAD_REQUEST);
        assert_eq!(P::InvalidContentLength.phrase(), "Invalid Content-Length");
        assert_eq!(
            usize::from(ENDS[ENDS.len() - 1]),
            PHRASES.len(),
            "every phrase is cut"
        );
    }

    #[test]
    fn register_needs_sip_addresses_of_record() {
        let cfg = ValidateConfig::default();
        let register = BASE
            .replace("OPTIONS sip", "REGISTER sip")
            .replace("1 OPTIONS", "1 REGISTER");
        let end = "Content-Length: 0\r\n\r\n";
        let ok = alloc::format!("{register}{end}");
        assert_eq!(validate(&req(&ok), &cfg), Ok(()));
        for (from, to) in [
            ("<sip:a@example.com>", "<tel:+15550100>"),
            ("<tel:+15550100>", "<sip:bob@example.com>"),
            ("<sip:a@example.com>", "<mailto:bob@example.com>"),
        ] {
            let m = register
                .replace("To: <sip:bob@example.com>", &alloc::format!("To: {to}"))
                .replace("From: <sip:a@example.com>", &alloc::format!("From: {from}"))
                + end;
            let e = validate(&req(&m), &cfg).unwrap_err();
            assert_eq!(e.reason, "Invalid Address-of-Record", "{from} {to}");
            // Outside REGISTER, a tel: or other URI is a valid To / From.
            let opts = m
                .replace("REGISTER sip", "OPTIONS sip")
                .replace("1 REGISTER", "1 OPTIONS");
            assert_eq!(validate(&req(&opts), &cfg), Ok(()), "{from} {to}");
        }
    }

    #[test]
    fn response_vias() {
        let resp = |vias: &str| {
            alloc::format!(
                "SIP/2.0 200 OK\r\n{vias}To: <sip:b@h>;tag=2\r\nFrom: <sip:a@h>;tag=1\r\n\
                 Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
            )
        };
        let check =
            |vias: &str| validate_response(&Response::parse(resp(vias).as_bytes()).unwrap());
        let via = "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n";
        assert_eq!(check(via), Ok(()));
        let two_lines = alloc::format!("{via}{via}");
        assert_eq!(check(&two_lines), Err(ResponseDrop::MultipleVia));
        let one_line = "Via: SIP/2.0/UDP h;branch=z9hG4bK1, bogus\r\n";
        assert_eq!(check(one_line), Err(ResponseDrop::MultipleVia));
        let bad_top = alloc::format!("Via: bogus\r\n{via}");
        assert_eq!(
            check(&bad_top),
            Err(ResponseDrop::BadHeader(HeaderName::Via))
        );
        assert_eq!(check(""), Err(ResponseDrop::BadHeader(HeaderName::Via)));
    }

    #[test]
    fn method_and_body_checks() {
        let m = BASE
            .replace("OPTIONS sip", "FOO sip")
            .replace("1 OPTIONS", "1 FOO")
            + "Content-Length: 0\r\n\r\n";
        let e = validate(&req(&m), &ValidateConfig::default()).unwrap_err();
        assert_eq!(e.status, StatusCode::NOT_IMPLEMENTED);
        assert!(e.headers[0].1.contains("INVITE"));
        let m = alloc::format!("{BASE}Content-Type: text/html\r\nContent-Length: 2\r\n\r\nhi");
        let e = validate(&req(&m), &ValidateConfig::default()).unwrap_err();
        assert_eq!(e.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(e.headers, [(HeaderName::Accept, "application/sdp".into())]);
    }
}
