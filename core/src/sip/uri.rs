//! SIP, SIPS and tel URIs (RFC 3261 §19.1, §25.1; RFC 3966) as zero-copy views.
//!
//! Input: the text of a URI (`&str`, e.g. a Request-URI or the part of a name-addr
//! between `<` and `>`). Output: a [`Uri`] whose parts borrow the input, still
//! %-escaped as on the wire (so that a URI is re-emitted unchanged); [`unescape`] decodes
//! a part and [`uri_eq`] implements the comparison rules of RFC 3261 §19.1.4. URIs of
//! other schemes are kept as opaque [`AbsoluteUri`]s so that a UAS can answer 416.
use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};

use super::scan::split_byte;

/// Why a URI was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UriError {
    /// No `scheme:` prefix, or an invalid scheme name.
    Scheme,
    /// Invalid character in the user or password part.
    UserInfo,
    /// Missing or invalid host.
    Host,
    /// Port is not a number in 0..=65535.
    Port,
    /// Invalid URI parameter.
    Param,
    /// Invalid `?headers` part.
    Headers,
    /// A `%` not followed by two hex digits.
    Escape,
    /// Invalid tel URI number (RFC 3966).
    Tel,
    /// An opaque absolute URI with an empty or invalid body.
    Opaque,
}

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::Scheme => "invalid URI scheme",
            Self::UserInfo => "invalid URI user info",
            Self::Host => "invalid URI host",
            Self::Port => "invalid URI port",
            Self::Param => "invalid URI parameter",
            Self::Headers => "invalid URI headers",
            Self::Escape => "invalid %-escape in URI",
            Self::Tel => "invalid tel URI number",
            Self::Opaque => "invalid absolute URI",
        };
        f.write_str(s)
    }
}

impl core::error::Error for UriError {}

/// A parsed URI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Uri<'a> {
    /// `sip:` or `sips:` (RFC 3261 §19.1).
    Sip(SipUri<'a>),
    /// `tel:` (RFC 3966).
    Tel(TelUri<'a>),
    /// Any other absolute URI, kept opaque (RFC 3986 `absoluteURI`).
    Absolute(AbsoluteUri<'a>),
}

impl<'a> Uri<'a> {
    /// Parses a URI. Leading/trailing whitespace is an error (the caller trims where the
    /// grammar allows LWS).
    pub fn parse(s: &'a str) -> Result<Self, UriError> {
        let (scheme, rest) = split_byte(s, b':');
        let rest = rest.ok_or(UriError::Scheme)?;
        if !is_scheme(scheme) {
            return Err(UriError::Scheme);
        }
        if scheme.eq_ignore_ascii_case("sip") {
            SipUri::parse_parts(s, false, rest).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("sips") {
            SipUri::parse_parts(s, true, rest).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("tel") {
            TelUri::parse_parts(s, rest).map(Uri::Tel)
        } else {
            if rest.is_empty() || in_class(rest, OPAQUE) != rest.len() {
                return Err(UriError::Opaque);
            }
            Ok(Uri::Absolute(AbsoluteUri {
                raw: s,
                scheme,
                rest,
            }))
        }
    }

    /// The URI text as received.
    pub fn as_str(&self) -> &'a str {
        match self {
            Uri::Sip(u) => u.raw,
            Uri::Tel(u) => u.raw,
            Uri::Absolute(u) => u.raw,
        }
    }

    /// The scheme as written (`sip`, `SIPS`, `tel`, `mailto`…).
    pub fn scheme(&self) -> &'a str {
        let raw = self.as_str();
        split_byte(raw, b':').0
    }

    /// The SIP/SIPS view, if this is one.
    pub fn as_sip(&self) -> Option<&SipUri<'a>> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }
}

impl fmt::Display for Uri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A host: domain name, IPv4 address, or bracketed IPv6 reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host<'a> {
    /// A domain name as written (compare case-insensitively).
    Domain(&'a str),
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address (written `[…]` in URIs and Via).
    Ipv6(Ipv6Addr),
}

impl<'a> Host<'a> {
    /// Parses `hostname / IPv4address / IPv6reference` (RFC 3261 §25.1).
    pub fn parse(s: &'a str) -> Option<Self> {
        let b = s.as_bytes();
        if let [b'[', inner @ .., b']'] = b {
            let inner = s.get(1..inner.len() + 1)?;
            return super::ip::parse_ipv6(inner).map(Host::Ipv6);
        }
        // A hostname: labels of alphanumerics and `-` (not first) between single dots; all
        // digits and dots is an IPv4 address (which fails on an empty `s`).
        let (mut digits_only, mut prev) = (true, b'.');
        for &c in b {
            let letter = c.is_ascii_alphabetic() || c == b'-';
            if !(letter || c.is_ascii_digit() || c == b'.')
                || (prev == b'.' && (c == b'.' || c == b'-'))
            {
                return None;
            }
            digits_only &= !letter;
            prev = c;
        }
        if digits_only {
            return super::ip::parse_ipv4(s).map(Host::Ipv4);
        }
        Some(Host::Domain(s))
    }
}

impl fmt::Display for Host<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(d),
            Host::Ipv4(a) => write!(f, "{a}"),
            Host::Ipv6(a) => write!(f, "[{a}]"),
        }
    }
}

/// A `sip:`/`sips:` URI. Parts are borrowed and still %-escaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SipUri<'a> {
    raw: &'a str,
    secure: bool,
    user: Option<&'a str>,
    password: Option<&'a str>,
    host_raw: &'a str,
    host: Host<'a>,
    port: Option<u16>,
    params: &'a str,
    headers: &'a str,
}

impl<'a> SipUri<'a> {
    /// Parses a `sip:`/`sips:` URI (other schemes are an error).
    pub fn parse(s: &'a str) -> Result<Self, UriError> {
        match Uri::parse(s)? {
            Uri::Sip(u) => Ok(u),
            _ => Err(UriError::Scheme),
        }
    }

    fn parse_parts(raw: &'a str, secure: bool, rest: &'a str) -> Result<Self, UriError> {
        let (user, password, hp) = match split_byte(rest, b'@') {
            (u, Some(hp)) => {
                let (u, p) = split_byte(u, b':');
                if u.is_empty()
                    || !valid_escaped(u, USER)
                    || p.is_some_and(|p| !valid_escaped(p, PASSWORD))
                {
                    return Err(UriError::UserInfo);
                }
                (Some(u), p, hp)
            }
            (_, None) => (None, None, rest),
        };
        // The host-port ends at the first `;` or `?`; the parameters at the first `?`.
        let (hp, headers) = split_byte(hp, b'?');
        let (hostport, params) = split_byte(hp, b';');
        let (host_raw, port) = split_hostport(hostport)?;
        let host = Host::parse(host_raw).ok_or(UriError::Host)?;
        if params.is_some_and(|p| !items_ok(p, b';', PARAM, PARAM, VALUE_NONEMPTY)) {
            return Err(UriError::Param);
        }
        if headers
            .is_some_and(|h| h.is_empty() || !items_ok(h, b'&', HEADER, HEADER, VALUE_REQUIRED))
        {
            return Err(UriError::Headers);
        }
        let (params, headers) = (params.unwrap_or(""), headers.unwrap_or(""));
        Ok(SipUri {
            raw,
            secure,
            user,
            password,
            host_raw,
            host,
            port,
            params,
            headers,
        })
    }

    /// The URI text as received.
    pub fn as_str(&self) -> &'a str {
        self.raw
    }
    /// `true` for `sips:`.
    pub fn is_secure(&self) -> bool {
        self.secure
    }
    /// The user part, still %-escaped (e.g. `user;par=u%40example.net`).
    pub fn user(&self) -> Option<&'a str> {
        self.user
    }
    /// The password part, still %-escaped.
    pub fn password(&self) -> Option<&'a str> {
        self.password
    }
    /// The host.
    pub fn host(&self) -> Host<'a> {
        self.host
    }
    /// The host as written (`[…]` kept for IPv6).
    pub fn host_str(&self) -> &'a str {
        self.host_raw
    }
    /// The explicit port, if any.
    pub fn port(&self) -> Option<u16> {
        self.port
    }
    /// The URI parameters (`;transport=tcp;lr`).
    pub fn params(&self) -> UriParams<'a> {
        UriParams { raw: self.params }
    }
    /// The raw `?headers` part without the `?` (empty if none).
    pub fn headers_str(&self) -> &'a str {
        self.headers
    }
    /// The URI headers as `(name, value)` pairs, still %-escaped.
    pub fn headers(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let raw = self.headers;
        raw.split('&')
            .filter(move |_| !raw.is_empty())
            .map(|h| match split_eq(h) {
                (n, Some(v)) => (n, v),
                (n, None) => (n, ""),
            })
    }
    /// A parameter by name (case-insensitive): `Some(None)` for a flag like `lr`.
    pub fn param(&self, name: &str) -> Option<Option<&'a str>> {
        self.params().get(name)
    }
    /// The `transport` parameter.
    pub fn transport(&self) -> Option<&'a str> {
        self.param("transport").flatten()
    }
    /// `true` if the `lr` parameter is present (loose routing, RFC 3261 §16.12).
    pub fn lr(&self) -> bool {
        self.param("lr").is_some()
    }
    /// The `maddr` parameter.
    pub fn maddr(&self) -> Option<&'a str> {
        self.param("maddr").flatten()
    }
}

impl fmt::Display for SipUri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw)
    }
}

/// URI parameters (`;name=value;flag`), iterated lazily; names and values stay escaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UriParams<'a> {
    raw: &'a str,
}

impl<'a> UriParams<'a> {
    /// The raw text without the leading `;`.
    pub fn as_str(&self) -> &'a str {
        self.raw
    }
    /// Iterates `(name, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, Option<&'a str>)> + 'a {
        let raw = self.raw;
        raw.split(';')
            .filter(move |_| !raw.is_empty())
            .map(split_eq)
    }
    /// A parameter by name (case-insensitive).
    pub fn get(&self, name: &str) -> Option<Option<&'a str>> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

/// A `tel:` URI (RFC 3966).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TelUri<'a> {
    raw: &'a str,
    number: &'a str,
    params: &'a str,
}

impl<'a> TelUri<'a> {
    fn parse_parts(raw: &'a str, rest: &'a str) -> Result<Self, UriError> {
        let (number, params) = split_byte(rest, b';');
        // A global number: digits and visual separators; a local one also hex digits,
        // `*` and `#`. Either has at least one digit (`*`, `#` or a hex digit locally).
        let (digits, ok) = match number.as_bytes().first() {
            Some(b'+') => (number.get(1..).unwrap_or(""), TEL_SEP),
            _ => (number, TEL_SEP | TEL_LOCAL),
        };
        if in_class(digits, TEL_LOCAL) == 0 || in_class(digits, ok) != digits.len() {
            return Err(UriError::Tel);
        }
        if params.is_some_and(|p| !items_ok(p, b';', PARAM, TEL_VALUE, 0)) {
            return Err(UriError::Param);
        }
        let params = params.unwrap_or("");
        Ok(TelUri {
            raw,
            number,
            params,
        })
    }
    /// The URI text as received.
    pub fn as_str(&self) -> &'a str {
        self.raw
    }
    /// The number with its visual separators (`+1-555-0100`).
    pub fn number(&self) -> &'a str {
        self.number
    }
    /// `true` for a global number (`+…`).
    pub fn is_global(&self) -> bool {
        self.number.starts_with('+')
    }
    /// The parameters (`;phone-context=…`).
    pub fn params(&self) -> UriParams<'a> {
        UriParams { raw: self.params }
    }
}

/// An absolute URI of a scheme this stack does not interpret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbsoluteUri<'a> {
    raw: &'a str,
    scheme: &'a str,
    rest: &'a str,
}

impl<'a> AbsoluteUri<'a> {
    /// The URI text.
    pub fn as_str(&self) -> &'a str {
        self.raw
    }
    /// The scheme.
    pub fn scheme(&self) -> &'a str {
        self.scheme
    }
    /// Everything after `scheme:`.
    pub fn opaque(&self) -> &'a str {
        self.rest
    }
}

fn is_scheme(s: &str) -> bool {
    let b = s.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphabetic)
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
}

fn split_hostport(hp: &str) -> Result<(&str, Option<u16>), UriError> {
    let (host, port) = if matches!(hp.as_bytes().first(), Some(b'[')) {
        let close = find(hp, b']').ok_or(UriError::Host)?;
        match hp.as_bytes().get(close + 1) {
            Some(b':') => (&hp[..=close], hp.get(close + 2..)),
            None => (hp, None),
            Some(_) => return Err(UriError::Host),
        }
    } else {
        split_byte(hp, b':')
    };
    let port = match port {
        Some(p) => Some(crate::sip::scan::parse_dec::<u16>(p).ok_or(UriError::Port)?),
        None => None,
    };
    Ok((host, port))
}

fn split_eq(p: &str) -> (&str, Option<&str>) {
    split_byte(p, b'=')
}

/// Position of the first `c` in `s`.
fn find(s: &str, c: u8) -> Option<usize> {
    crate::sip::scan::find_byte(s.as_bytes(), 0, c)
}

/// [`items_ok`]: every item has a value.
const VALUE_REQUIRED: u8 = 1;
/// [`items_ok`]: a value, if present, is not empty.
const VALUE_NONEMPTY: u8 = 2;

/// Checks every `sep`-separated `name[=value]` item of `s` (at least one, possibly
/// empty): the name is non-empty and made of class `name` (see [`CLASS`]) or escapes,
/// the value of class `value`; `rules` adds [`VALUE_REQUIRED`] / [`VALUE_NONEMPTY`].
fn items_ok(s: &str, sep: u8, name: u8, value: u8, rules: u8) -> bool {
    let mut rest = s;
    loop {
        let (item, next) = split_byte(rest, sep);
        let (n, v) = split_eq(item);
        if n.is_empty() || !valid_escaped(n, name) {
            return false;
        }
        match v {
            None if rules & VALUE_REQUIRED != 0 => return false,
            Some(v)
                if (v.is_empty() && rules & VALUE_NONEMPTY != 0) || !valid_escaped(v, value) =>
            {
                return false;
            }
            _ => {}
        }
        match next {
            Some(r) => rest = r,
            None => return true,
        }
    }
}

const fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
        )
}
const fn is_user_char(c: u8) -> bool {
    is_unreserved(c) || matches!(c, b'&' | b'=' | b'+' | b'$' | b',' | b';' | b'?' | b'/')
}
const fn is_password_char(c: u8) -> bool {
    is_unreserved(c) || matches!(c, b'&' | b'=' | b'+' | b'$' | b',')
}
const fn is_param_char(c: u8) -> bool {
    is_unreserved(c) || matches!(c, b'[' | b']' | b'/' | b':' | b'&' | b'+' | b'$')
}
const fn is_header_char(c: u8) -> bool {
    is_unreserved(c) || matches!(c, b'[' | b']' | b'/' | b'?' | b':' | b'+' | b'$')
}

/// Character classes of URI parts (bits of [`CLASS`]).
const USER: u8 = 1;
const PASSWORD: u8 = 2;
const PARAM: u8 = 4;
const HEADER: u8 = 8;
/// A tel URI parameter value (RFC 3966 `pvalue`-ish: param chars, `?`, `@`).
const TEL_VALUE: u8 = 16;
/// A digit or visual separator of a tel URI number (RFC 3966 `phonedigit`).
const TEL_SEP: u8 = 32;
/// A digit of a local tel URI number besides the separators (RFC 3966
/// `phonedigit-hex`: hex digits, `*`, `#`).
const TEL_LOCAL: u8 = 64;
/// A byte of an opaque absolute URI body (not SP, a control, `<`, `>` or `"`).
const OPAQUE: u8 = 128;

const fn class_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        let mut m = 0;
        if is_user_char(c) {
            m |= USER;
        }
        if is_password_char(c) {
            m |= PASSWORD;
        }
        if is_param_char(c) {
            m |= PARAM | TEL_VALUE;
        }
        if is_header_char(c) {
            m |= HEADER;
        }
        if c == b'?' || c == b'@' {
            m |= TEL_VALUE;
        }
        if matches!(c, b'0'..=b'9' | b'-' | b'.' | b'(' | b')') {
            m |= TEL_SEP;
        }
        if c.is_ascii_hexdigit() || c == b'*' || c == b'#' {
            m |= TEL_LOCAL;
        }
        if c > b' ' && c != 0x7f && !matches!(c, b'<' | b'>' | b'"') {
            m |= OPAQUE;
        }
        t[i] = m;
        i += 1;
    }
    t
}

/// The URI character classes of every byte (one table instead of a check function per
/// class).
static CLASS: [u8; 256] = class_table();

/// How many bytes of `s` are of `class` (bits of [`CLASS`]): one loop for the all-of and
/// any-of checks of the tel and opaque forms.
fn in_class(s: &str, class: u8) -> usize {
    // A plain loop: an adapter chain here instantiated a closure fold of its own.
    let mut n = 0;
    for c in s.bytes() {
        n += usize::from(CLASS[c as usize] & class != 0);
    }
    n
}

/// `s` is made of bytes of `class` (bits of [`CLASS`]) and `%HH` escapes.
fn valid_escaped(s: &str, class: u8) -> bool {
    let ok = |c: u8| CLASS[c as usize] & class != 0;
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            match (b.get(i + 1), b.get(i + 2)) {
                (Some(h), Some(l)) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => i += 3,
                _ => return false,
            }
        } else if ok(c) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

fn hexval(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Iterates the bytes of `s` with `%HH` escapes decoded (an invalid escape is kept
/// literally).
fn decoded(s: &str) -> impl Iterator<Item = u8> + '_ {
    let b = s.as_bytes();
    let mut i = 0;
    core::iter::from_fn(move || {
        let c = *b.get(i)?;
        if let (b'%', Some(h), Some(l)) = (
            c,
            b.get(i + 1).copied().and_then(hexval),
            b.get(i + 2).copied().and_then(hexval),
        ) {
            i += 3;
            return Some(h * 16 + l);
        }
        i += 1;
        Some(c)
    })
}

/// Decodes `%HH` escapes. Borrows when `s` has none. The result may contain any byte
/// (`%00` gives a NUL), hence bytes rather than text.
pub fn unescape(s: &str) -> Cow<'_, [u8]> {
    if !s.contains('%') {
        return Cow::Borrowed(s.as_bytes());
    }
    Cow::Owned(decoded(s).collect::<Vec<u8>>())
}

fn eq_decoded(a: &str, b: &str, ci: bool) -> bool {
    let (mut x, mut y) = (decoded(a), decoded(b));
    loop {
        match (x.next(), y.next()) {
            (None, None) => return true,
            (Some(p), Some(q)) => {
                let same = if ci {
                    p.eq_ignore_ascii_case(&q)
                } else {
                    p == q
                };
                if !same {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

fn opt_eq(a: Option<&str>, b: Option<&str>, ci: bool) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => eq_decoded(x, y, ci),
        _ => false,
    }
}

fn host_eq(a: &SipUri<'_>, b: &SipUri<'_>) -> bool {
    match (a.host, b.host) {
        (Host::Domain(x), Host::Domain(y)) => eq_decoded(x, y, true),
        (x, y) => x == y,
    }
}

/// URI equality per RFC 3261 §19.1.4 (and RFC 3966 §4 for tel URIs):
/// scheme must match; user info is compared case-sensitively after unescaping; host
/// case-insensitively; a port or a `user`/`ttl`/`method`/`maddr`/`transport` parameter
/// present in only one URI makes them differ; other parameters are compared only when
/// present in both; URI headers must match as sets.
pub fn uri_eq(a: &Uri<'_>, b: &Uri<'_>) -> bool {
    match (a, b) {
        (Uri::Sip(x), Uri::Sip(y)) => sip_uri_eq(x, y),
        (Uri::Tel(x), Uri::Tel(y)) => tel_eq(x, y),
        (Uri::Absolute(x), Uri::Absolute(y)) => {
            x.scheme.eq_ignore_ascii_case(y.scheme) && eq_decoded(x.rest, y.rest, false)
        }
        _ => false,
    }
}

/// [`uri_eq`] for two SIP/SIPS URIs.
pub fn sip_uri_eq(a: &SipUri<'_>, b: &SipUri<'_>) -> bool {
    if a.secure != b.secure
        || !opt_eq(a.user, b.user, false)
        || !opt_eq(a.password, b.password, false)
        || !host_eq(a, b)
        || a.port != b.port
    {
        return false;
    }
    const MUST: [&str; 5] = ["user", "ttl", "method", "maddr", "transport"];
    for (n, _) in a.params().iter() {
        // A repeated name is judged by its first occurrence on both sides.
        let v = find_param(a.params(), n).flatten();
        match find_param(b.params(), n) {
            Some(w) => {
                if !opt_eq(v, w, true) {
                    return false;
                }
            }
            None => {
                if MUST.iter().any(|m| eq_decoded(n, m, true)) {
                    return false;
                }
            }
        }
    }
    for (n, _) in b.params().iter() {
        if find_param(a.params(), n).is_none() && MUST.iter().any(|m| eq_decoded(n, m, true)) {
            return false;
        }
    }
    let hdr_subset = |x: &SipUri<'_>, y: &SipUri<'_>| {
        x.headers().all(|(n, v)| {
            y.headers()
                .any(|(m, w)| eq_decoded(n, m, true) && eq_decoded(v, w, false))
        })
    };
    hdr_subset(a, b) && hdr_subset(b, a)
}

fn find_param<'a>(p: UriParams<'a>, name: &str) -> Option<Option<&'a str>> {
    p.iter()
        .find(|(n, _)| eq_decoded(n, name, true))
        .map(|(_, v)| v)
}

fn tel_eq(a: &TelUri<'_>, b: &TelUri<'_>) -> bool {
    let digits = |s: &'_ str| {
        let v: Vec<u8> = s
            .bytes()
            .filter(|c| !matches!(c, b'-' | b'.' | b'(' | b')'))
            .map(|c| c.to_ascii_lowercase())
            .collect();
        v
    };
    if digits(a.number) != digits(b.number) {
        return false;
    }
    let subset = |x: &TelUri<'_>, y: &TelUri<'_>| {
        x.params().iter().all(|(n, _)| {
            let v = find_param(x.params(), n).flatten();
            find_param(y.params(), n).is_some_and(|w| opt_eq(v, w, true))
        })
    };
    subset(a, b) && subset(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eq(a: &str, b: &str) -> bool {
        uri_eq(&Uri::parse(a).unwrap(), &Uri::parse(b).unwrap())
    }

    #[test]
    fn parses_sip_uri_parts() {
        let u =
            SipUri::parse("sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=hi&x=y")
                .unwrap();
        assert!(u.is_secure());
        assert_eq!(u.user(), Some("alice"));
        assert_eq!(u.password(), Some("secret"));
        assert_eq!(u.host(), Host::Ipv6("2001:db8::1".parse().unwrap()));
        assert_eq!(u.port(), Some(5061));
        assert_eq!(u.transport(), Some("tcp"));
        assert!(u.lr());
        let h: Vec<_> = u.headers().collect();
        assert_eq!(h, [("subject", "hi"), ("x", "y")]);
    }

    #[test]
    fn semicolon_in_user_part() {
        let u = SipUri::parse("sip:user;par=u%40example.net@example.com").unwrap();
        assert_eq!(u.user(), Some("user;par=u%40example.net"));
        assert_eq!(u.host(), Host::Domain("example.com"));
        assert_eq!(&*unescape(u.user().unwrap()), b"user;par=u@example.net");
    }

    #[test]
    fn rejects_bad_uris() {
        for bad in [
            "sip:",
            "sip:user@",
            "sip:host:99999",
            "sip:a%zz@host",
            "sip:host;=x",
            "sip:host?novalue",
            "sip:[::1",
            "<sip:a@b>",
            "tel:",
            "tel:+1x",
            "1abc:foo",
            "mailto:",
        ] {
            assert!(Uri::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tel_and_opaque_character_classes() {
        for ok in [
            "tel:+1-555-0100",
            "tel:(555)0100",
            "tel:1a*#",
            "tel:*",
            "tel:+1.2",
            "x:\u{e9}",
        ] {
            assert!(Uri::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "tel:+1a", "tel:+*", "tel:-", "tel:+", "tel:1 2", "tel:1%32", "x:a b", "x:<", "x:\"",
            "x:\x7f",
        ] {
            assert!(Uri::parse(bad).is_err(), "{bad}");
        }
        // The table's bits are the RFC 3966 / RFC 3986 predicates, for every byte.
        for c in 0..=255u8 {
            let bits = CLASS[usize::from(c)];
            let sep = matches!(c, b'0'..=b'9' | b'-' | b'.' | b'(' | b')');
            let local = c.is_ascii_hexdigit() || c == b'*' || c == b'#';
            let opaque = c > b' ' && c != 0x7f && !matches!(c, b'<' | b'>' | b'"');
            assert_eq!(bits & TEL_SEP != 0, sep, "{c}");
            assert_eq!(bits & TEL_LOCAL != 0, local, "{c}");
            assert_eq!(bits & OPAQUE != 0, opaque, "{c}");
        }
    }

    #[test]
    fn other_schemes_are_opaque() {
        let u = Uri::parse("nobodyKnowsThisScheme:totallyopaquecontent").unwrap();
        assert!(matches!(u, Uri::Absolute(a) if a.opaque() == "totallyopaquecontent"));
        assert_eq!(u.scheme(), "nobodyKnowsThisScheme");
        let t = Uri::parse("tel:+1-201-555-0123;ext=1234").unwrap();
        assert!(
            matches!(t, Uri::Tel(t) if t.is_global() && t.params().get("ext") == Some(Some("1234")))
        );
    }

    #[test]
    fn rfc3261_19_1_4_equal() {
        assert!(eq(
            "sip:%61lice@atlanta.com;transport=TCP",
            "sip:alice@AtLanTa.CoM;Transport=tcp"
        ));
        assert!(eq(
            "sip:carol@chicago.com",
            "sip:carol@chicago.com;newparam=5"
        ));
        assert!(eq(
            "sip:carol@chicago.com",
            "sip:carol@chicago.com;security=on"
        ));
        assert!(eq(
            "sip:carol@chicago.com;newparam=5",
            "sip:carol@chicago.com;security=on"
        ));
        assert!(eq(
            "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
            "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"
        ));
        assert!(eq(
            "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
            "sip:alice@atlanta.com?priority=urgent&subject=project%20x"
        ));
        assert!(eq("tel:+1-201-555-0123", "tel:+1(201)5550123"));
    }

    #[test]
    fn rfc3261_19_1_4_not_equal() {
        assert!(!eq(
            "SIP:ALICE@AtLanTa.CoM;Transport=udp",
            "sip:alice@AtLanTa.CoM;Transport=UDP"
        ));
        assert!(!eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
        assert!(!eq(
            "sip:bob@biloxi.com",
            "sip:bob@biloxi.com;transport=udp"
        ));
        assert!(!eq(
            "sip:bob@biloxi.com",
            "sip:bob@biloxi.com:6000;transport=tcp"
        ));
        assert!(!eq(
            "sip:carol@chicago.com",
            "sip:carol@chicago.com?Subject=next%20meeting"
        ));
        assert!(!eq("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"));
        assert!(!eq(
            "sip:carol@chicago.com;security=on",
            "sip:carol@chicago.com;security=off"
        ));
        assert!(!eq("sip:alice@a.com", "sips:alice@a.com"));
        assert!(!eq("sip:alice@a.com", "tel:+15550100"));
    }
}
