//! Parsing and serialization of digest challenge and credentials header values
//! (RFC 3261 §25.1 `challenge` / `credentials`, RFC 7616 §3.3–§3.4, RFC 7235 §2.1 `auth-param`).
//!
//! The grammar accepted: `Digest` LWS auth-param *( "," auth-param ), with
//! `auth-param = token LWS "=" LWS ( token / quoted-string )`, parameter names matched
//! case-insensitively, LWS (SP, HTAB, CR, LF) allowed around `=` and `,`, empty list
//! elements tolerated, any parameter accepted quoted or unquoted, and unknown parameters kept
//! in order. Values borrow from the input unless a quoted-string holds `\` escapes.
//! Work is linear in the input; at most [`MAX_PARAMS`] parameters are accepted.

use super::{Algorithm, Qop};
use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write as _};

/// The most auth-params accepted in one header value (RFC 7616 defines 15; the rest are
/// extensions). Bounds the memory one header value can make us allocate.
pub const MAX_PARAMS: usize = 32;

/// Why a challenge or credentials value could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// The value is empty or has no scheme token.
    MissingScheme,
    /// The scheme is not `Digest` (e.g. `Basic`, `Bearer`).
    UnsupportedScheme,
    /// A syntax error at this byte offset.
    Syntax(usize),
    /// A quoted-string is not terminated.
    UnterminatedQuote,
    /// A control character appears where none is allowed.
    ControlCharacter,
    /// A parameter appears twice.
    DuplicateParam(&'static str),
    /// A required parameter is missing.
    MissingParam(&'static str),
    /// A parameter has an invalid value (`nc` not 8 hex digits, unknown `qop`, bad
    /// `username*` encoding, `username` together with `username*`…).
    InvalidParam(&'static str),
    /// More than [`MAX_PARAMS`] parameters.
    TooManyParams,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::MissingScheme => f.write_str("missing authentication scheme"),
            ParseError::UnsupportedScheme => f.write_str("authentication scheme is not Digest"),
            ParseError::Syntax(at) => write!(f, "syntax error at byte {at}"),
            ParseError::UnterminatedQuote => f.write_str("unterminated quoted-string"),
            ParseError::ControlCharacter => f.write_str("control character in value"),
            ParseError::DuplicateParam(p) => write!(f, "duplicate parameter {p}"),
            ParseError::MissingParam(p) => write!(f, "missing parameter {p}"),
            ParseError::InvalidParam(p) => write!(f, "invalid value for parameter {p}"),
            ParseError::TooManyParams => f.write_str("too many parameters"),
        }
    }
}

impl core::error::Error for ParseError {}

/// One raw auth-param as it appears on the wire.
#[derive(Debug, Clone, Copy)]
struct RawParam<'a> {
    name: &'a str,
    /// The value without surrounding quotes; escapes still in place when `escaped`.
    value: &'a str,
    quoted: bool,
    escaped: bool,
}

impl<'a> RawParam<'a> {
    /// The unescaped value: borrowed unless it held quoted-pairs.
    fn unescaped(&self) -> Cow<'a, str> {
        if !self.escaped {
            return Cow::Borrowed(self.value);
        }
        let mut out = String::with_capacity(self.value.len());
        let mut chars = self.value.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else {
                out.push(c);
            }
        }
        Cow::Owned(out)
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// RFC 3261 `token` characters.
fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        )
}

/// Characters allowed in an unquoted value. Lenient: any visible character except the
/// delimiters `,` and `"` (servers send e.g. base64 nonces unquoted).
fn is_bare_value_char(b: u8) -> bool {
    b > 0x20 && b != 0x7f && b != b',' && b != b'"'
}

fn is_ctl(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

/// A cursor over the auth-params following the scheme.
struct Params<'a> {
    s: &'a str,
    pos: usize,
    count: usize,
}

impl<'a> Params<'a> {
    /// Splits off the scheme; `Err(UnsupportedScheme)` unless it is `Digest`.
    fn new(s: &'a str) -> Result<Params<'a>, ParseError> {
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() && is_ws(b[i]) {
            i += 1;
        }
        let start = i;
        while i < b.len() && is_token_char(b[i]) {
            i += 1;
        }
        if i == start {
            return Err(ParseError::MissingScheme);
        }
        let scheme = s.get(start..i).ok_or(ParseError::Syntax(start))?;
        if !scheme.eq_ignore_ascii_case("Digest") {
            return Err(ParseError::UnsupportedScheme);
        }
        if i < b.len() && !is_ws(b[i]) {
            return Err(ParseError::Syntax(i));
        }
        Ok(Params {
            s,
            pos: i,
            count: 0,
        })
    }

    fn skip_ws(&mut self) {
        let b = self.s.as_bytes();
        while self.pos < b.len() && is_ws(b[self.pos]) {
            self.pos += 1;
        }
    }

    /// The next parameter, `Ok(None)` at the end.
    fn next_param(&mut self) -> Result<Option<RawParam<'a>>, ParseError> {
        let b = self.s.as_bytes();
        // Skip whitespace and empty list elements.
        loop {
            self.skip_ws();
            if self.pos < b.len() && b[self.pos] == b',' {
                self.pos += 1;
            } else {
                break;
            }
        }
        if self.pos >= b.len() {
            return Ok(None);
        }
        self.count += 1;
        if self.count > MAX_PARAMS {
            return Err(ParseError::TooManyParams);
        }
        let name_start = self.pos;
        while self.pos < b.len() && is_token_char(b[self.pos]) {
            self.pos += 1;
        }
        // RFC 7616 `username*` (RFC 5987 extended parameter).
        if self.pos < b.len() && b[self.pos] == b'*' {
            self.pos += 1;
        }
        if self.pos == name_start {
            return Err(ParseError::Syntax(name_start));
        }
        let name = self
            .s
            .get(name_start..self.pos)
            .ok_or(ParseError::Syntax(name_start))?;
        self.skip_ws();
        if self.pos >= b.len() || b[self.pos] != b'=' {
            return Err(ParseError::Syntax(self.pos));
        }
        self.pos += 1;
        self.skip_ws();
        let param = if self.pos < b.len() && b[self.pos] == b'"' {
            self.pos += 1;
            let start = self.pos;
            let mut escaped = false;
            loop {
                let Some(&c) = b.get(self.pos) else {
                    return Err(ParseError::UnterminatedQuote);
                };
                match c {
                    b'"' => break,
                    b'\\' => {
                        // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F); we also refuse
                        // escaped control characters, which no digest value needs.
                        let Some(&n) = b.get(self.pos + 1) else {
                            return Err(ParseError::UnterminatedQuote);
                        };
                        if n >= 0x80 || is_ctl(n) {
                            return Err(ParseError::ControlCharacter);
                        }
                        escaped = true;
                        self.pos += 2;
                    }
                    c if is_ctl(c) => return Err(ParseError::ControlCharacter),
                    _ => self.pos += 1,
                }
            }
            let value = self
                .s
                .get(start..self.pos)
                .ok_or(ParseError::Syntax(start))?;
            self.pos += 1; // closing quote
            RawParam {
                name,
                value,
                quoted: true,
                escaped,
            }
        } else {
            let start = self.pos;
            while self.pos < b.len() && is_bare_value_char(b[self.pos]) {
                self.pos += 1;
            }
            if self.pos == start {
                return Err(ParseError::Syntax(start));
            }
            let value = self
                .s
                .get(start..self.pos)
                .ok_or(ParseError::Syntax(start))?;
            RawParam {
                name,
                value,
                quoted: false,
                escaped: false,
            }
        };
        self.skip_ws();
        if self.pos < b.len() && b[self.pos] != b',' {
            return Err(ParseError::Syntax(self.pos));
        }
        Ok(Some(param))
    }
}

/// An auth-param that this module does not interpret, kept for round trips.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthParam<'a> {
    /// The name as received.
    pub name: Cow<'a, str>,
    /// The value, unescaped.
    pub value: Cow<'a, str>,
    /// Whether it was (and will be serialized as) a quoted-string.
    pub quoted: bool,
}

impl AuthParam<'_> {
    /// An owned copy.
    pub fn into_owned(self) -> AuthParam<'static> {
        AuthParam {
            name: Cow::Owned(self.name.into_owned()),
            value: Cow::Owned(self.value.into_owned()),
            quoted: self.quoted,
        }
    }
}

/// The `algorithm` parameter: a known [`Algorithm`] or another token (e.g. `AKAv1-MD5`),
/// kept so that a UA can skip such a challenge and a round trip preserves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlgorithmParam<'a> {
    /// An algorithm this module implements.
    Known(Algorithm),
    /// Another algorithm token.
    Other(Cow<'a, str>),
}

impl<'a> AlgorithmParam<'a> {
    fn parse(v: Cow<'a, str>) -> AlgorithmParam<'a> {
        match Algorithm::parse(&v) {
            Some(a) => AlgorithmParam::Known(a),
            None => AlgorithmParam::Other(v),
        }
    }

    /// The token.
    pub fn as_str(&self) -> &str {
        match self {
            AlgorithmParam::Known(a) => a.as_str(),
            AlgorithmParam::Other(s) => s,
        }
    }

    /// An owned copy.
    pub fn into_owned(self) -> AlgorithmParam<'static> {
        match self {
            AlgorithmParam::Known(a) => AlgorithmParam::Known(a),
            AlgorithmParam::Other(s) => AlgorithmParam::Other(Cow::Owned(s.into_owned())),
        }
    }
}

/// The algorithm a challenge or credentials use: absent means MD5 (RFC 7616 §3.3), an
/// unknown token gives `None`.
fn effective_algorithm(p: &Option<AlgorithmParam<'_>>) -> Option<Algorithm> {
    match p {
        None => Some(Algorithm::Md5),
        Some(AlgorithmParam::Known(a)) => Some(*a),
        Some(AlgorithmParam::Other(_)) => None,
    }
}

fn cow_owned(c: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(c.into_owned())
}

fn opt_owned(c: Option<Cow<'_, str>>) -> Option<Cow<'static, str>> {
    c.map(cow_owned)
}

fn set_once<'a>(
    slot: &mut Option<Cow<'a, str>>,
    p: &RawParam<'a>,
    name: &'static str,
) -> Result<(), ParseError> {
    if slot.is_some() {
        return Err(ParseError::DuplicateParam(name));
    }
    *slot = Some(p.unescaped());
    Ok(())
}

fn parse_bool(v: &str) -> bool {
    v.eq_ignore_ascii_case("true")
}

/// A `Digest` challenge: the value of a `WWW-Authenticate` or `Proxy-Authenticate` header
/// (RFC 7616 §3.3). `Challenge<'static>` is the owned form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge<'a> {
    /// `realm` (required).
    pub realm: Cow<'a, str>,
    /// `nonce` (required).
    pub nonce: Cow<'a, str>,
    /// `domain`: space-separated URIs of the protection space, as received.
    pub domain: Option<Cow<'a, str>>,
    /// `opaque`, to be echoed unchanged.
    pub opaque: Option<Cow<'a, str>>,
    /// `stale=true`: the previous credentials were right but the nonce was out of date.
    pub stale: bool,
    /// `algorithm`; absent means MD5.
    pub algorithm: Option<AlgorithmParam<'a>>,
    /// `qop` options list as received (e.g. `auth,auth-int`); absent means RFC 2069 mode.
    pub qop: Option<Cow<'a, str>>,
    /// `charset` (only `UTF-8` is defined).
    pub charset: Option<Cow<'a, str>>,
    /// `userhash=true`: the server supports hashed user names (RFC 7616 §3.4.4).
    pub userhash: bool,
    /// Parameters not interpreted here, in order.
    pub params: Vec<AuthParam<'a>>,
}

impl<'a> Challenge<'a> {
    /// A challenge with the two required parameters and nothing else.
    pub fn new(realm: impl Into<Cow<'a, str>>, nonce: impl Into<Cow<'a, str>>) -> Challenge<'a> {
        Challenge {
            realm: realm.into(),
            nonce: nonce.into(),
            domain: None,
            opaque: None,
            stale: false,
            algorithm: None,
            qop: None,
            charset: None,
            userhash: false,
            params: Vec::new(),
        }
    }

    /// Parses a challenge header value (`Digest realm="…", nonce="…", …`).
    pub fn parse(s: &'a str) -> Result<Challenge<'a>, ParseError> {
        let mut it = Params::new(s)?;
        let mut realm = None;
        let mut nonce = None;
        let mut domain = None;
        let mut opaque = None;
        let mut stale = None;
        let mut algorithm = None;
        let mut qop = None;
        let mut charset = None;
        let mut userhash = None;
        let mut params = Vec::new();
        while let Some(p) = it.next_param()? {
            let n = p.name;
            if n.eq_ignore_ascii_case("realm") {
                set_once(&mut realm, &p, "realm")?;
            } else if n.eq_ignore_ascii_case("nonce") {
                set_once(&mut nonce, &p, "nonce")?;
            } else if n.eq_ignore_ascii_case("domain") {
                set_once(&mut domain, &p, "domain")?;
            } else if n.eq_ignore_ascii_case("opaque") {
                set_once(&mut opaque, &p, "opaque")?;
            } else if n.eq_ignore_ascii_case("stale") {
                set_once(&mut stale, &p, "stale")?;
            } else if n.eq_ignore_ascii_case("algorithm") {
                set_once(&mut algorithm, &p, "algorithm")?;
            } else if n.eq_ignore_ascii_case("qop") {
                set_once(&mut qop, &p, "qop")?;
            } else if n.eq_ignore_ascii_case("charset") {
                set_once(&mut charset, &p, "charset")?;
            } else if n.eq_ignore_ascii_case("userhash") {
                set_once(&mut userhash, &p, "userhash")?;
            } else {
                params.push(AuthParam {
                    name: Cow::Borrowed(n),
                    value: p.unescaped(),
                    quoted: p.quoted,
                });
            }
        }
        Ok(Challenge {
            realm: realm.ok_or(ParseError::MissingParam("realm"))?,
            nonce: nonce.ok_or(ParseError::MissingParam("nonce"))?,
            domain,
            opaque,
            stale: stale.is_some_and(|v| parse_bool(&v)),
            algorithm: algorithm.map(AlgorithmParam::parse),
            qop,
            charset,
            userhash: userhash.is_some_and(|v| parse_bool(&v)),
            params,
        })
    }

    /// The algorithm to use: MD5 when absent, `None` when the token is unknown.
    pub fn algorithm(&self) -> Option<Algorithm> {
        effective_algorithm(&self.algorithm)
    }

    /// Whether the qop options list contains `qop`.
    pub fn offers(&self, qop: Qop) -> bool {
        self.qop_options().any(|q| q == Some(qop))
    }

    /// The qop options, parsed (`None` for an unknown token); empty if no `qop` parameter.
    pub fn qop_options(&self) -> impl Iterator<Item = Option<Qop>> + '_ {
        self.qop
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(|t| t.trim_matches(|c: char| c.is_ascii_whitespace()))
            .filter(|t| !t.is_empty())
            .map(Qop::parse)
    }

    /// An owned copy, independent of the input.
    pub fn into_owned(self) -> Challenge<'static> {
        Challenge {
            realm: cow_owned(self.realm),
            nonce: cow_owned(self.nonce),
            domain: opt_owned(self.domain),
            opaque: opt_owned(self.opaque),
            stale: self.stale,
            algorithm: self.algorithm.map(AlgorithmParam::into_owned),
            qop: opt_owned(self.qop),
            charset: opt_owned(self.charset),
            userhash: self.userhash,
            params: self.params.into_iter().map(AuthParam::into_owned).collect(),
        }
    }
}

impl fmt::Display for Challenge<'_> {
    /// Serializes as `Digest realm="…", nonce="…", …` (quoting per RFC 7616 §3.3).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut w = ParamWriter::new(f)?;
        w.quoted("realm", &self.realm)?;
        if let Some(d) = &self.domain {
            w.quoted("domain", d)?;
        }
        w.quoted("nonce", &self.nonce)?;
        if let Some(o) = &self.opaque {
            w.quoted("opaque", o)?;
        }
        if self.stale {
            w.token("stale", "true")?;
        }
        if let Some(a) = &self.algorithm {
            w.token("algorithm", a.as_str())?;
        }
        if let Some(q) = &self.qop {
            w.quoted("qop", q)?;
        }
        if let Some(c) = &self.charset {
            w.token("charset", c)?;
        }
        if self.userhash {
            w.token("userhash", "true")?;
        }
        for p in &self.params {
            w.param(p)?;
        }
        Ok(())
    }
}

/// How the user name is carried in credentials (RFC 7616 §3.4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UsernameForm {
    /// `username="…"` (possibly a userhash).
    #[default]
    Plain,
    /// `username*=UTF-8''…` (RFC 5987 extended notation), for names that a quoted-string
    /// cannot carry.
    Extended,
}

/// Digest credentials: the value of an `Authorization` or `Proxy-Authorization` header
/// (RFC 7616 §3.4). `Credentials<'static>` is the owned form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials<'a> {
    /// The user name (decoded from `username*` when [`UsernameForm::Extended`]), or the
    /// hex userhash when `userhash` is true.
    pub username: Cow<'a, str>,
    /// Which parameter carries the user name.
    pub username_form: UsernameForm,
    /// `realm`.
    pub realm: Cow<'a, str>,
    /// `nonce`.
    pub nonce: Cow<'a, str>,
    /// `uri` (the Request-URI as the client sent it).
    pub uri: Cow<'a, str>,
    /// `response`: the request-digest in hex.
    pub response: Cow<'a, str>,
    /// `algorithm`; absent means MD5.
    pub algorithm: Option<AlgorithmParam<'a>>,
    /// `cnonce` (required with qop).
    pub cnonce: Option<Cow<'a, str>>,
    /// `opaque`, echoed from the challenge.
    pub opaque: Option<Cow<'a, str>>,
    /// `qop` chosen; `None` for RFC 2069 compatibility.
    pub qop: Option<Qop>,
    /// `nc` (required with qop).
    pub nc: Option<u32>,
    /// `userhash=true`: `username` is `H(username ":" realm)`.
    pub userhash: bool,
    /// Parameters not interpreted here, in order.
    pub params: Vec<AuthParam<'a>>,
}

impl<'a> Credentials<'a> {
    /// Parses a credentials header value (`Digest username="…", realm="…", …`).
    pub fn parse(s: &'a str) -> Result<Credentials<'a>, ParseError> {
        let mut it = Params::new(s)?;
        let mut username = None;
        let mut username_ext = None;
        let mut realm = None;
        let mut nonce = None;
        let mut uri = None;
        let mut response = None;
        let mut algorithm = None;
        let mut cnonce = None;
        let mut opaque = None;
        let mut qop = None;
        let mut nc = None;
        let mut userhash = None;
        let mut params = Vec::new();
        while let Some(p) = it.next_param()? {
            let n = p.name;
            if n.eq_ignore_ascii_case("username") {
                set_once(&mut username, &p, "username")?;
            } else if n.eq_ignore_ascii_case("username*") {
                set_once(&mut username_ext, &p, "username*")?;
            } else if n.eq_ignore_ascii_case("realm") {
                set_once(&mut realm, &p, "realm")?;
            } else if n.eq_ignore_ascii_case("nonce") {
                set_once(&mut nonce, &p, "nonce")?;
            } else if n.eq_ignore_ascii_case("uri") {
                set_once(&mut uri, &p, "uri")?;
            } else if n.eq_ignore_ascii_case("response") {
                set_once(&mut response, &p, "response")?;
            } else if n.eq_ignore_ascii_case("algorithm") {
                set_once(&mut algorithm, &p, "algorithm")?;
            } else if n.eq_ignore_ascii_case("cnonce") {
                set_once(&mut cnonce, &p, "cnonce")?;
            } else if n.eq_ignore_ascii_case("opaque") {
                set_once(&mut opaque, &p, "opaque")?;
            } else if n.eq_ignore_ascii_case("qop") {
                set_once(&mut qop, &p, "qop")?;
            } else if n.eq_ignore_ascii_case("nc") {
                set_once(&mut nc, &p, "nc")?;
            } else if n.eq_ignore_ascii_case("userhash") {
                set_once(&mut userhash, &p, "userhash")?;
            } else {
                params.push(AuthParam {
                    name: Cow::Borrowed(n),
                    value: p.unescaped(),
                    quoted: p.quoted,
                });
            }
        }
        let (username, username_form) = match (username, username_ext) {
            (Some(u), None) => (u, UsernameForm::Plain),
            (None, Some(x)) => (decode_ext_value(&x)?, UsernameForm::Extended),
            (Some(_), Some(_)) => return Err(ParseError::InvalidParam("username*")),
            (None, None) => return Err(ParseError::MissingParam("username")),
        };
        let qop = match qop {
            None => None,
            Some(q) => Some(Qop::parse(&q).ok_or(ParseError::InvalidParam("qop"))?),
        };
        let nc = match nc {
            None => None,
            Some(v) => Some(parse_nc(&v).ok_or(ParseError::InvalidParam("nc"))?),
        };
        if qop.is_some() {
            if cnonce.is_none() {
                return Err(ParseError::MissingParam("cnonce"));
            }
            if nc.is_none() {
                return Err(ParseError::MissingParam("nc"));
            }
        }
        Ok(Credentials {
            username,
            username_form,
            realm: realm.ok_or(ParseError::MissingParam("realm"))?,
            nonce: nonce.ok_or(ParseError::MissingParam("nonce"))?,
            uri: uri.ok_or(ParseError::MissingParam("uri"))?,
            response: response.ok_or(ParseError::MissingParam("response"))?,
            algorithm: algorithm.map(AlgorithmParam::parse),
            cnonce,
            opaque,
            qop,
            nc,
            userhash: userhash.is_some_and(|v| parse_bool(&v)),
            params,
        })
    }

    /// The algorithm used: MD5 when absent, `None` when the token is unknown.
    pub fn algorithm(&self) -> Option<Algorithm> {
        effective_algorithm(&self.algorithm)
    }

    /// An owned copy, independent of the input.
    pub fn into_owned(self) -> Credentials<'static> {
        Credentials {
            username: cow_owned(self.username),
            username_form: self.username_form,
            realm: cow_owned(self.realm),
            nonce: cow_owned(self.nonce),
            uri: cow_owned(self.uri),
            response: cow_owned(self.response),
            algorithm: self.algorithm.map(AlgorithmParam::into_owned),
            cnonce: opt_owned(self.cnonce),
            opaque: opt_owned(self.opaque),
            qop: self.qop,
            nc: self.nc,
            userhash: self.userhash,
            params: self.params.into_iter().map(AuthParam::into_owned).collect(),
        }
    }
}

impl fmt::Display for Credentials<'_> {
    /// Serializes as `Digest username="…", realm="…", …` (quoting per RFC 7616 §3.4).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut w = ParamWriter::new(f)?;
        match self.username_form {
            UsernameForm::Plain => w.quoted("username", &self.username)?,
            UsernameForm::Extended => {
                w.sep()?;
                w.f.write_str("username*=UTF-8''")?;
                encode_ext_value(w.f, &self.username)?;
            }
        }
        w.quoted("realm", &self.realm)?;
        w.quoted("nonce", &self.nonce)?;
        w.quoted("uri", &self.uri)?;
        w.quoted("response", &self.response)?;
        if let Some(a) = &self.algorithm {
            w.token("algorithm", a.as_str())?;
        }
        if let Some(c) = &self.cnonce {
            w.quoted("cnonce", c)?;
        }
        if let Some(o) = &self.opaque {
            w.quoted("opaque", o)?;
        }
        if let Some(q) = self.qop {
            w.token("qop", q.as_str())?;
        }
        if let Some(nc) = self.nc {
            let digits = super::compute::format_nc(nc);
            // ASCII hex digits only.
            w.token("nc", core::str::from_utf8(&digits).unwrap_or("00000000"))?;
        }
        if self.userhash {
            w.token("userhash", "true")?;
        }
        for p in &self.params {
            w.param(p)?;
        }
        Ok(())
    }
}

/// `nc`: exactly 8 hex digits (RFC 7616 `nc-value = 8LHEX`; uppercase tolerated).
fn parse_nc(v: &str) -> Option<u32> {
    if v.len() != 8 || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(v, 16).ok()
}

/// RFC 5987 `attr-char`.
fn is_attr_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
        )
}

/// Decodes an RFC 5987 `ext-value` (`UTF-8'lang'pct-encoded`); only UTF-8 is accepted.
fn decode_ext_value(v: &str) -> Result<Cow<'static, str>, ParseError> {
    const E: ParseError = ParseError::InvalidParam("username*");
    let mut parts = v.splitn(3, '\'');
    let charset = parts.next().ok_or(E)?;
    let _language = parts.next().ok_or(E)?;
    let encoded = parts.next().ok_or(E)?;
    if !charset.eq_ignore_ascii_case("UTF-8") {
        return Err(E);
    }
    let b = encoded.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hi = b
                .get(i + 1)
                .and_then(|&d| (d as char).to_digit(16))
                .ok_or(E)?;
            let lo = b
                .get(i + 2)
                .and_then(|&d| (d as char).to_digit(16))
                .ok_or(E)?;
            // Two hex digits: at most 0xff.
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else if is_attr_char(c) {
            out.push(c);
            i += 1;
        } else {
            return Err(E);
        }
    }
    let s = String::from_utf8(out).map_err(|_| E)?;
    if s.bytes().any(is_ctl) {
        return Err(ParseError::ControlCharacter);
    }
    Ok(Cow::Owned(s))
}

fn encode_ext_value(f: &mut fmt::Formatter<'_>, v: &str) -> fmt::Result {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in v.as_bytes() {
        if is_attr_char(b) {
            f.write_char(char::from(b))?;
        } else {
            f.write_char('%')?;
            f.write_char(char::from(HEX[usize::from(b >> 4)]))?;
            f.write_char(char::from(HEX[usize::from(b & 0xf)]))?;
        }
    }
    Ok(())
}

/// Writes `Digest a="…", b=tok, …`.
struct ParamWriter<'f, 'g> {
    f: &'f mut fmt::Formatter<'g>,
    first: bool,
}

impl<'f, 'g> ParamWriter<'f, 'g> {
    fn new(f: &'f mut fmt::Formatter<'g>) -> Result<Self, fmt::Error> {
        f.write_str("Digest ")?;
        Ok(ParamWriter { f, first: true })
    }

    fn sep(&mut self) -> fmt::Result {
        if !self.first {
            self.f.write_str(", ")?;
        }
        self.first = false;
        Ok(())
    }

    /// `name="value"`, escaping `"` and `\`. Control characters other than HTAB cannot be
    /// represented in a quoted-string and are dropped (the parser never produces them).
    fn quoted(&mut self, name: &str, value: &str) -> fmt::Result {
        self.sep()?;
        self.f.write_str(name)?;
        self.f.write_str("=\"")?;
        let mut rest = value;
        while let Some(i) = rest
            .bytes()
            .position(|b| b == b'"' || b == b'\\' || is_ctl(b))
        {
            let (head, tail) = rest.split_at(i);
            self.f.write_str(head)?;
            let c = tail.as_bytes()[0];
            if c == b'"' || c == b'\\' {
                self.f.write_char('\\')?;
                self.f.write_char(char::from(c))?;
            }
            rest = &tail[1..];
        }
        self.f.write_str(rest)?;
        self.f.write_char('"')
    }

    /// `name=value` for a token value; falls back to a quoted-string if `value` is not a
    /// valid bare value.
    fn token(&mut self, name: &str, value: &str) -> fmt::Result {
        if value.is_empty() || !value.bytes().all(is_bare_value_char) {
            return self.quoted(name, value);
        }
        self.sep()?;
        self.f.write_str(name)?;
        self.f.write_char('=')?;
        self.f.write_str(value)
    }

    fn param(&mut self, p: &AuthParam<'_>) -> fmt::Result {
        // A name that is not a token cannot be written; such a param cannot come from the
        // parser, only from a caller building one by hand.
        let ok_name = !p.name.is_empty()
            && p.name
                .bytes()
                .enumerate()
                .all(|(i, b)| is_token_char(b) || (b == b'*' && i + 1 == p.name.len()));
        if !ok_name {
            return Ok(());
        }
        if p.quoted {
            self.quoted(&p.name, &p.value)
        } else {
            self.token(&p.name, &p.value)
        }
    }
}
