//! Parsing and serialization of digest challenge and credentials header values
//! (RFC 3261 §25.1 `challenge` / `credentials`, RFC 7616 §3.3–§3.4, RFC 7235 §2.1 `auth-param`).
//!
//! The grammar accepted: `Digest` LWS auth-param *( "," auth-param ), with
//! `auth-param = token LWS "=" LWS ( token / quoted-string )`, parameter names matched
//! case-insensitively, LWS (SP, HTAB, CR, LF) allowed around `=` and `,`, empty list
//! elements tolerated, any parameter accepted quoted or unquoted, and unknown parameters kept
//! in order. Values borrow from the input unless a quoted-string holds `\` escapes.
//! Work is linear in the input; at most [`MAX_PARAMS`] parameters are accepted.

use super::wire::{
    ALGORITHM, CHALLENGE, CHARSET, CNONCE, CREDENTIALS, DOMAIN, Found, NAMES, NC, NONCE, OPAQUE,
    ParamWriter, QOP, REALM, RESPONSE, RawParam, STALE, URI, USERHASH, USERNAME, USERNAME_EXT,
    decode_ext_value, is_true, parse_nc, scan,
};
pub use super::wire::{MAX_PARAMS, ParseError};
use super::{Algorithm, Qop};
use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

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

/// The unescaped value of a parameter found by [`scan`].
fn value<'a>(f: &Found<'a>, i: usize) -> Option<Cow<'a, str>> {
    f[i].map(|p| p.unescaped())
}

/// The parameters [`scan`] did not interpret, unescaped, in order.
fn other_params(raw: Vec<RawParam<'_>>) -> Vec<AuthParam<'_>> {
    raw.into_iter()
        .map(|p| AuthParam {
            name: Cow::Borrowed(p.name),
            value: p.unescaped(),
            quoted: p.quoted,
        })
        .collect()
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
        let mut raw = Vec::new();
        let mut f: Found<'a> = [None; NAMES.len()];
        scan(s, CHALLENGE, &mut f, Some(&mut raw))?;
        Ok(Challenge {
            realm: value(&f, REALM).ok_or(ParseError::MissingParam("realm"))?,
            nonce: value(&f, NONCE).ok_or(ParseError::MissingParam("nonce"))?,
            domain: value(&f, DOMAIN),
            opaque: value(&f, OPAQUE),
            stale: is_true(f[STALE]),
            algorithm: value(&f, ALGORITHM).map(AlgorithmParam::parse),
            qop: value(&f, QOP),
            charset: value(&f, CHARSET),
            userhash: is_true(f[USERHASH]),
            params: other_params(raw),
        })
    }

    /// The algorithm to use: MD5 when absent, `None` when the token is unknown.
    pub fn algorithm(&self) -> Option<Algorithm> {
        effective_algorithm(&self.algorithm)
    }

    /// Whether the qop options list contains `qop`.
    pub fn offers(&self, qop: Qop) -> bool {
        qop_mask(self.qop.as_deref().unwrap_or("")) & qop_bit(qop) != 0
    }

    /// The qop options, parsed (`None` for an unknown token); empty if no `qop` parameter.
    pub fn qop_options(&self) -> impl Iterator<Item = Option<Qop>> + '_ {
        self.qop
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim_ascii)
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
        let mut w = ParamWriter::new();
        w.quoted("realm", self.realm.as_bytes());
        if let Some(d) = &self.domain {
            w.quoted("domain", d.as_bytes());
        }
        w.quoted("nonce", self.nonce.as_bytes());
        if let Some(o) = &self.opaque {
            w.quoted("opaque", o.as_bytes());
        }
        if self.stale {
            w.token("stale", b"true");
        }
        if let Some(a) = &self.algorithm {
            w.token("algorithm", a.as_str().as_bytes());
        }
        if let Some(q) = &self.qop {
            w.quoted("qop", q.as_bytes());
        }
        if let Some(c) = &self.charset {
            w.token("charset", c.as_bytes());
        }
        if self.userhash {
            w.token("userhash", b"true");
        }
        for p in &self.params {
            w.param(p);
        }
        f.write_str(&w.finish())
    }
}

/// The qops a qop options list (comma-separated tokens, RFC 7616 §3.3) holds, as a bit
/// mask of [`qop_bit`]s.
pub(super) fn qop_mask(list: &str) -> u8 {
    // A byte split (`str::split(',')` would bring std's char search into the package).
    let mut mask = 0;
    let mut rest = Some(list);
    while let Some(r) = rest {
        let (t, more) = crate::sip::scan::split_byte(r, b',');
        if let Some(q) = Qop::parse(t.trim_ascii()) {
            mask |= qop_bit(q);
        }
        rest = more;
    }
    mask
}

/// The bit of `qop` in a [`qop_mask`].
pub(super) const fn qop_bit(qop: Qop) -> u8 {
    1 << qop as u8
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
        let mut raw = Vec::new();
        let mut f: Found<'a> = [None; NAMES.len()];
        scan(s, CREDENTIALS, &mut f, Some(&mut raw))?;
        let (extended, qop, nc) = check_credentials(&f)?;
        // `check_credentials` made sure of username (or username*), realm, nonce, uri and
        // response.
        let v = |i| value(&f, i).unwrap_or_default();
        let (username, username_form) = match extended {
            Some(u) => (Cow::Owned(u), UsernameForm::Extended),
            None => (v(USERNAME), UsernameForm::Plain),
        };
        Ok(Credentials {
            username,
            username_form,
            realm: v(REALM),
            nonce: v(NONCE),
            uri: v(URI),
            response: v(RESPONSE),
            algorithm: value(&f, ALGORITHM).map(AlgorithmParam::parse),
            cnonce: value(&f, CNONCE),
            opaque: value(&f, OPAQUE),
            qop,
            nc,
            userhash: is_true(f[USERHASH]),
            params: other_params(raw),
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
        f.write_str(&self.to_header_value())
    }
}

impl Credentials<'_> {
    /// The header value, as [`Display`](fmt::Display) prints it (built without the
    /// `core::fmt` machinery, which the browser package then does not ship).
    pub fn to_header_value(&self) -> alloc::string::String {
        let mut w = CredentialFields {
            username: self.username.as_bytes(),
            username_form: self.username_form,
            realm: &self.realm,
            nonce: &self.nonce,
            uri: &self.uri,
            response: self.response.as_bytes(),
            algorithm: self.algorithm.as_ref().map(AlgorithmParam::as_str),
            cnonce: self.cnonce.as_deref().map(str::as_bytes),
            opaque: self.opaque.as_deref(),
            qop: self.qop,
            nc: self.nc,
            userhash: self.userhash,
        }
        .write();
        for p in &self.params {
            w.param(p);
        }
        w.finish()
    }
}

/// The interpreted parameters of credentials, borrowed: what [`Credentials`] serializes and
/// what a client answers with, written in one place (quoting per RFC 7616 §3.4).
pub(super) struct CredentialFields<'s> {
    pub(super) username: &'s [u8],
    pub(super) username_form: UsernameForm,
    pub(super) realm: &'s str,
    pub(super) nonce: &'s str,
    pub(super) uri: &'s str,
    pub(super) response: &'s [u8],
    pub(super) algorithm: Option<&'s str>,
    pub(super) cnonce: Option<&'s [u8]>,
    pub(super) opaque: Option<&'s str>,
    pub(super) qop: Option<Qop>,
    pub(super) nc: Option<u32>,
    pub(super) userhash: bool,
}

impl CredentialFields<'_> {
    /// `Digest username="…", realm="…", …`; extension parameters may follow.
    // Inlined: the client's fields then go straight to the writer, not through a struct.
    #[inline(always)]
    pub(super) fn write(&self) -> ParamWriter {
        // The names from [`NAMES`], the parser's table: one copy of each in the package.
        let mut w = ParamWriter::new();
        match self.username_form {
            UsernameForm::Plain => w.quoted(NAMES[USERNAME], self.username),
            UsernameForm::Extended => w.ext_value(NAMES[USERNAME_EXT], self.username),
        }
        w.quoted(NAMES[REALM], self.realm.as_bytes());
        w.quoted(NAMES[NONCE], self.nonce.as_bytes());
        w.quoted(NAMES[URI], self.uri.as_bytes());
        w.quoted(NAMES[RESPONSE], self.response);
        if let Some(a) = self.algorithm {
            w.token(NAMES[ALGORITHM], a.as_bytes());
        }
        if let Some(c) = self.cnonce {
            w.quoted(NAMES[CNONCE], c);
        }
        if let Some(o) = self.opaque {
            w.quoted(NAMES[OPAQUE], o.as_bytes());
        }
        if let Some(q) = self.qop {
            w.token(NAMES[QOP], q.as_str().as_bytes());
        }
        if let Some(nc) = self.nc {
            w.token(NAMES[NC], super::compute::nc_hex(nc).as_bytes());
        }
        if self.userhash {
            w.token(NAMES[USERHASH], b"true");
        }
        w
    }
}

/// The checks [`Credentials::parse`] makes once the value is lexed, in its order: `username`
/// xor a decodable `username*`, a valid `qop` and `nc`, `cnonce` and `nc` with `qop`, then
/// `realm`, `nonce`, `uri` and `response` present. Gives the decoded `username*` (`None`
/// for a plain `username`), the qop and the nonce-count.
#[allow(clippy::type_complexity)]
fn check_credentials(
    f: &Found<'_>,
) -> Result<(Option<String>, Option<Qop>, Option<u32>), ParseError> {
    let extended = match (f[USERNAME], f[USERNAME_EXT]) {
        (Some(_), None) => None,
        (None, Some(x)) => Some(decode_ext_value(&x.string())?),
        (Some(_), Some(_)) => return Err(ParseError::InvalidParam("username*")),
        (None, None) => return Err(ParseError::MissingParam("username")),
    };
    let qop = match f[QOP] {
        None => None,
        Some(q) => Some(Qop::parse(&q.string()).ok_or(ParseError::InvalidParam("qop"))?),
    };
    let nc = match f[NC] {
        None => None,
        Some(v) => Some(parse_nc(&v.string()).ok_or(ParseError::InvalidParam("nc"))?),
    };
    if qop.is_some() {
        if f[CNONCE].is_none() {
            return Err(ParseError::MissingParam("cnonce"));
        }
        if nc.is_none() {
            return Err(ParseError::MissingParam("nc"));
        }
    }
    for i in [REALM, NONCE, URI, RESPONSE] {
        if f[i].is_none() {
            return Err(ParseError::MissingParam(NAMES[i]));
        }
    }
    Ok((extended, qop, nc))
}

#[cfg(test)]
mod tests {

    /// The qop list is read as `str::split(',')` + trim + `Qop::parse` would read it.
    #[test]
    fn qop_mask_reads_the_list_as_split_would() {
        for list in [
            "",
            "auth",
            "auth-int",
            "auth,auth-int",
            " auth-int , AUTH ",
            "auth,,x",
            ",",
            "auth-intx",
            "x,auth-int,",
            "\tauth\t",
        ] {
            let split = list
                .split(',')
                .filter_map(|t| Qop::parse(t.trim_ascii()))
                .fold(0, |m, q| m | qop_bit(q));
            assert_eq!(qop_mask(list), split, "{list:?}");
        }
        assert_eq!(
            qop_mask("auth, auth-int"),
            qop_bit(Qop::Auth) | qop_bit(Qop::AuthInt)
        );
    }

    use super::*;
    use alloc::string::ToString;

    #[test]
    fn rfc3261_register_challenge_borrows_from_input() {
        // The shape of RFC 3261 §22.4 / RFC 8760 examples.
        let v = "Digest realm=\"atlanta.com\", domain=\"sip:ss1.carrier.com\", qop=\"auth\", \
                 nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", stale=FALSE, algorithm=MD5";
        let c = Challenge::parse(v).unwrap();
        assert!(matches!(c.realm, Cow::Borrowed("atlanta.com")));
        assert!(matches!(c.nonce, Cow::Borrowed(_)));
        assert_eq!(c.domain.as_deref(), Some("sip:ss1.carrier.com"));
        assert_eq!(c.opaque.as_deref(), Some(""));
        assert!(!c.stale);
        assert_eq!(c.algorithm(), Some(Algorithm::Md5));
        assert_eq!(c.qop_options().collect::<Vec<_>>(), [Some(Qop::Auth)]);
        assert_eq!(
            c.to_string(),
            "Digest realm=\"atlanta.com\", domain=\"sip:ss1.carrier.com\", \
             nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", algorithm=MD5, qop=\"auth\""
        );
    }

    #[test]
    fn absent_algorithm_is_md5_and_unknown_is_none() {
        let c = Challenge::parse("Digest realm=r, nonce=n").unwrap();
        assert_eq!(c.algorithm(), Some(Algorithm::Md5));
        let c = Challenge::parse("Digest realm=r, nonce=n, algorithm=AKAv1-MD5").unwrap();
        assert_eq!(c.algorithm(), None);
        assert_eq!(c.algorithm.as_ref().map(|a| a.as_str()), Some("AKAv1-MD5"));
    }

    #[test]
    fn escapes_are_removed_and_restored() {
        let c = Challenge::parse(r#"Digest realm="a\"b\\c\d", nonce="n""#).unwrap();
        assert_eq!(c.realm, "a\"b\\cd");
        assert!(matches!(c.realm, Cow::Owned(_)));
        assert!(c.to_string().starts_with(r#"Digest realm="a\"b\\cd""#));
    }

    #[test]
    fn username_star_encodes_and_decodes() {
        let v = "Digest username*=utf-8'en'J%c3%a4s%C3%B8n%20Doe, realm=r, nonce=n, uri=u, \
                 response=00";
        let c = Credentials::parse(v).unwrap();
        assert_eq!(c.username, "J\u{e4}s\u{f8}n Doe");
        assert_eq!(c.username_form, UsernameForm::Extended);
        assert!(
            c.to_string()
                .starts_with("Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, ")
        );
        assert_eq!(
            decode_ext_value("UTF-8''a%2"),
            Err(ParseError::InvalidParam("username*"))
        );
        assert_eq!(
            decode_ext_value("UTF-8''a b"),
            Err(ParseError::InvalidParam("username*"))
        );
        assert_eq!(
            decode_ext_value("UTF-8"),
            Err(ParseError::InvalidParam("username*"))
        );
    }

    #[test]
    fn folded_quoted_string_reads_as_one_space() {
        let c = Challenge::parse("Digest realm=\"a\r\n \tb\", nonce=\"n\"").unwrap();
        assert_eq!(c.realm, "a b");
        assert_eq!(
            Challenge::parse("Digest realm=\"a\r\nb\", nonce=\"n\""),
            Err(ParseError::ControlCharacter)
        );
        assert_eq!(
            Challenge::parse("Digest realm=\"a\n b\", nonce=\"n\""),
            Err(ParseError::ControlCharacter)
        );
    }

    #[test]
    fn nc_is_eight_hex_digits() {
        assert_eq!(parse_nc("00000001"), Some(1));
        assert_eq!(parse_nc("FFFFFFFF"), Some(u32::MAX));
        assert_eq!(parse_nc("1"), None);
        assert_eq!(parse_nc("+0000001"), None);
        assert_eq!(parse_nc("000000001"), None);
    }

    #[test]
    fn serializer_never_emits_line_breaks() {
        let mut c = Challenge::new("re\r\nalm", "n\"once");
        c.params.push(AuthParam {
            name: Cow::Borrowed("x\r\n"),
            value: Cow::Borrowed("v"),
            quoted: false,
        });
        let s = c.to_string();
        assert!(!s.contains('\r') && !s.contains('\n'), "{s}");
        assert_eq!(s, "Digest realm=\"realm\", nonce=\"n\\\"once\"");
    }
}
