//! The auth-param lexer and writer shared by challenges and credentials (RFC 7235 §2.1
//! `auth-param`, RFC 3261 §25.1 `quoted-string` / `token` / LWS, RFC 5987 `ext-value` for
//! `username*`).
//!
//! The lexer borrows from its input and does linear work; the writer never emits a line
//! break or other control character (header injection is impossible by construction).

use super::header::AuthParam;
use crate::sip::scan::Cursor;
use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

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
pub(super) struct RawParam<'a> {
    pub(super) name: &'a str,
    /// The value without surrounding quotes; quoted-pairs and line folds still in place
    /// when `escaped`.
    pub(super) value: &'a str,
    pub(super) quoted: bool,
    pub(super) escaped: bool,
}

impl<'a> RawParam<'a> {
    /// The unescaped value, owned: quoted-pairs resolved, and a line fold (CRLF followed
    /// by whitespace) inside a quoted-string read as one SP (RFC 3261 §7.3.1).
    pub(super) fn string(&self) -> String {
        let b = self.value.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while let Some(&c) = b.get(i) {
            i += 1;
            // Only quoted values are ever `escaped`; a bare value is copied as it is.
            match c {
                b'\\' if self.escaped => {
                    // The parser only lets ASCII be escaped.
                    if let Some(&n) = b.get(i) {
                        out.push(n);
                        i += 1;
                    }
                }
                b'\r' if self.escaped => {
                    // The parser only lets CR in as part of CRLF 1*WSP.
                    while matches!(b.get(i), Some(b'\n' | b' ' | b'\t')) {
                        i += 1;
                    }
                    out.push(b' ');
                }
                _ => out.push(c),
            }
        }
        // Only ASCII bytes were removed or replaced by ASCII: still UTF-8, never the default.
        String::from_utf8(out).unwrap_or_default()
    }

    /// The unescaped value, borrowed unless it held quoted-pairs or line folds.
    pub(super) fn unescaped(&self) -> Cow<'a, str> {
        if self.escaped {
            Cow::Owned(self.string())
        } else {
            Cow::Borrowed(self.value)
        }
    }
}

/// LWS bytes: SP, HTAB and the CR/LF of a fold (the SIP parsers' own test).
pub(super) fn is_ws(b: u8) -> bool {
    crate::sip::scan::is_lws(b)
}

/// RFC 3261 `token` characters (the SIP parsers' table).
pub(super) fn is_token_char(b: u8) -> bool {
    crate::sip::scan::is_token(b)
}

/// Characters allowed in an unquoted value. Lenient: any visible character except the
/// delimiters `,` and `"` (servers send e.g. base64 nonces unquoted).
pub(super) fn is_bare_value_char(b: u8) -> bool {
    b > 0x20 && b != 0x7f && b != b',' && b != b'"'
}

pub(super) fn is_ctl(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

/// A cursor over the auth-params following the scheme (the SIP parsers' [`Cursor`]: its
/// LWS, token and byte-class loops serve both scanners).
pub(super) struct Params<'a> {
    c: Cursor<'a>,
    count: usize,
}

impl<'a> Params<'a> {
    /// Splits off the scheme; `Err(UnsupportedScheme)` unless it is `Digest`.
    pub(super) fn new(s: &'a str) -> Result<Params<'a>, ParseError> {
        let mut c = Cursor::new(s);
        c.ws();
        let scheme = c.token();
        if !scheme.eq_ignore_ascii_case("Digest") {
            return Err(if scheme.is_empty() {
                ParseError::MissingScheme
            } else {
                ParseError::UnsupportedScheme
            });
        }
        if c.peek().is_some_and(|b| !is_ws(b)) {
            return Err(ParseError::Syntax(c.pos));
        }
        Ok(Params { c, count: 0 })
    }

    /// The next parameter, `Ok(None)` at the end.
    pub(super) fn next_param(&mut self) -> Result<Option<RawParam<'a>>, ParseError> {
        let c = &mut self.c;
        // Skip whitespace and empty list elements.
        while c.eat(b',') {}
        c.ws();
        if c.at_end() {
            return Ok(None);
        }
        self.count += 1;
        if self.count > MAX_PARAMS {
            return Err(ParseError::TooManyParams);
        }
        let name_start = c.pos;
        c.token();
        // RFC 7616 `username*` (RFC 5987 extended parameter).
        if c.peek() == Some(b'*') {
            c.pos += 1;
        }
        if c.pos == name_start {
            return Err(ParseError::Syntax(name_start));
        }
        let name = c.slice(name_start, c.pos);
        c.ws();
        if c.peek() != Some(b'=') {
            return Err(ParseError::Syntax(c.pos));
        }
        c.pos += 1;
        c.ws();
        let b = c.s.as_bytes();
        let start = c.pos;
        let (value, quoted, escaped) = if c.peek() == Some(b'"') {
            let mut i = start + 1;
            let mut escaped = false;
            loop {
                let Some(&ch) = b.get(i) else {
                    return Err(ParseError::UnterminatedQuote);
                };
                match ch {
                    b'"' => break,
                    b'\\' => {
                        // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F); we also refuse
                        // escaped control characters, which no digest value needs.
                        let Some(&n) = b.get(i + 1) else {
                            return Err(ParseError::UnterminatedQuote);
                        };
                        if n >= 0x80 || is_ctl(n) {
                            return Err(ParseError::ControlCharacter);
                        }
                        escaped = true;
                        i += 2;
                    }
                    b'\r'
                        if b.get(i + 1) == Some(&b'\n')
                            && matches!(b.get(i + 2), Some(b' ' | b'\t')) =>
                    {
                        // A line fold inside the quoted-string (LWS in qdtext).
                        escaped = true;
                        i += 3;
                    }
                    ch if is_ctl(ch) => return Err(ParseError::ControlCharacter),
                    _ => i += 1,
                }
            }
            c.pos = i + 1; // past the closing quote
            (c.slice(start + 1, i), true, escaped)
        } else {
            let v = c.take_while(is_bare_value_char);
            if v.is_empty() {
                return Err(ParseError::Syntax(start));
            }
            (v, false, false)
        };
        c.ws();
        if c.peek().is_some_and(|b| b != b',') {
            return Err(ParseError::Syntax(c.pos));
        }
        Ok(Some(RawParam {
            name,
            value,
            quoted,
            escaped,
        }))
    }
}

/// The auth-param names the parsers interpret, challenge and credentials together (RFC 7616
/// §3.3, §3.4); each direction picks its own with a bit mask ([`CHALLENGE`],
/// [`CREDENTIALS`]), and [`scan`] files each known parameter under its index here.
pub(super) const NAMES: [&str; 15] = [
    "realm",
    "nonce",
    "opaque",
    "algorithm",
    "qop",
    "userhash",
    "stale",
    "domain",
    "charset",
    "username",
    "username*",
    "uri",
    "response",
    "cnonce",
    "nc",
];
pub(super) const REALM: usize = 0;
pub(super) const NONCE: usize = 1;
pub(super) const OPAQUE: usize = 2;
pub(super) const ALGORITHM: usize = 3;
pub(super) const QOP: usize = 4;
pub(super) const USERHASH: usize = 5;
pub(super) const STALE: usize = 6;
pub(super) const DOMAIN: usize = 7;
pub(super) const CHARSET: usize = 8;
pub(super) const USERNAME: usize = 9;
pub(super) const USERNAME_EXT: usize = 10;
pub(super) const URI: usize = 11;
pub(super) const RESPONSE: usize = 12;
pub(super) const CNONCE: usize = 13;
pub(super) const NC: usize = 14;
/// The parameters of a challenge: `realm` … `charset`.
pub(super) const CHALLENGE: u16 = 0x01ff;
/// The parameters of credentials: `realm` … `userhash`, `username` … `nc`.
pub(super) const CREDENTIALS: u16 = 0x7e3f;

/// The known parameters of one header value, by their index in [`NAMES`].
pub(super) type Found<'a> = [Option<RawParam<'a>>; NAMES.len()];

/// Lexes a `Digest` header value once: each parameter whose name is in `known` (a bit mask
/// over [`NAMES`], matched case-insensitively) goes to `found` (all `None` on entry), a
/// second one being a [`ParseError::DuplicateParam`]; the others go to `other` in order
/// (when given). The one parameter scanner of both directions. `found` is the caller's, so
/// that the parameters are read where they were filed, not moved out of a returned array.
pub(super) fn scan<'a>(
    s: &'a str,
    known: u16,
    found: &mut Found<'a>,
    mut other: Option<&mut Vec<RawParam<'a>>>,
) -> Result<(), ParseError> {
    let mut it = Params::new(s)?;
    while let Some(p) = it.next_param()? {
        if let Some(i) = self::known(p.name, known) {
            let slot = &mut found[i];
            if slot.is_some() {
                return Err(ParseError::DuplicateParam(NAMES[i]));
            }
            *slot = Some(p);
        } else if let Some(o) = other.as_deref_mut() {
            o.push(p);
        }
    }
    Ok(())
}

/// The index in [`NAMES`] of parameter `name` (matched case-insensitively) when its bit is
/// set in the mask `known` ([`CHALLENGE`], [`CREDENTIALS`]).
pub(super) fn known(name: &str, known: u16) -> Option<usize> {
    NAMES
        .iter()
        .position(|n| n.eq_ignore_ascii_case(name))
        .filter(|&i| known & (1 << i) != 0)
}

/// Whether a parameter is present with the value `true` (any case, as `stale` and
/// `userhash` are read).
pub(super) fn is_true(p: Option<RawParam<'_>>) -> bool {
    p.is_some_and(|p| p.string().eq_ignore_ascii_case("true"))
}

/// `nc`: exactly 8 hex digits (RFC 7616 `nc-value = 8LHEX`; uppercase tolerated).
pub(super) fn parse_nc(v: &str) -> Option<u32> {
    if v.len() != 8 {
        return None;
    }
    // Eight digits: at most u32::MAX, no overflow.
    v.bytes()
        .try_fold(0u32, |n, b| Some(n << 4 | hex_digit(b)?))
}

/// The value of one hex digit, either case.
pub(super) fn hex_digit(b: u8) -> Option<u32> {
    char::from(b).to_digit(16)
}

/// RFC 5987 `attr-char`.
pub(super) fn is_attr_char(b: u8) -> bool {
    // A bit per ASCII byte (two 64-bit halves) instead of range and list comparisons.
    b < 0x80 && ATTR_CHARS[usize::from(b >> 6)] >> (b & 63) & 1 != 0
}

/// [`is_attr_char`] as a bit mask over the ASCII bytes, built from the grammar's ranges.
const ATTR_CHARS: [u64; 2] = {
    let mut m = [0u64; 2];
    let mut b = 0u8;
    while b < 0x80 {
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            )
        {
            m[(b >> 6) as usize] |= 1 << (b & 63);
        }
        b += 1;
    }
    m
};

/// Decodes an RFC 5987 `ext-value` (`UTF-8'lang'pct-encoded`); only UTF-8 is accepted.
pub(super) fn decode_ext_value(v: &str) -> Result<String, ParseError> {
    const E: ParseError = ParseError::InvalidParam("username*");
    // charset "'" [ language ] "'" value-chars
    let (charset, rest) = v.split_once('\'').ok_or(E)?;
    let (_, value) = rest.split_once('\'').ok_or(E)?;
    if !charset.eq_ignore_ascii_case("UTF-8") {
        return Err(E);
    }
    let b = value.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut ctl = false;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        i += 1;
        let c = if c == b'%' {
            let digit = |at: usize| b.get(at).copied().and_then(hex_digit);
            let (Some(hi), Some(lo)) = (digit(i), digit(i + 1)) else {
                return Err(E);
            };
            i += 2;
            // Two hex digits: at most 0xff.
            (hi * 16 + lo) as u8
        } else if is_attr_char(c) {
            c
        } else {
            return Err(E);
        };
        ctl |= is_ctl(c);
        out.push(c);
    }
    // Errors in this order: encoding, then UTF-8, then control characters.
    let s = String::from_utf8(out).map_err(|_| E)?;
    if ctl {
        return Err(ParseError::ControlCharacter);
    }
    Ok(s)
}

/// Writes `Digest a="…", b=tok, …` into a byte buffer that only ever holds UTF-8: values
/// are copied whole, with ASCII bytes added (`\` escapes, separators) or dropped (control
/// characters) only.
pub(super) struct ParamWriter {
    out: Vec<u8>,
}

impl ParamWriter {
    pub(super) fn new() -> ParamWriter {
        ParamWriter {
            out: b"Digest ".to_vec(),
        }
    }

    /// The header value.
    pub(super) fn finish(self) -> String {
        // Valid UTF-8 by construction (see the type's doc): never the default.
        String::from_utf8(self.out).unwrap_or_default()
    }

    /// `, name=` (no comma before the first parameter).
    fn name(&mut self, name: &str) {
        if self.out.len() > "Digest ".len() {
            self.out.extend_from_slice(b", ");
        }
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b'=');
    }

    /// `name="value"`, escaping `"` and `\`. Control characters other than HTAB cannot be
    /// represented in a quoted-string and are dropped (the parser never produces them).
    /// Values here and below are the bytes of a `&str` (or hex digits: ASCII), so that
    /// digests need no UTF-8 check to be written.
    pub(super) fn quoted(&mut self, name: &str, value: &[u8]) {
        self.name(name);
        self.out.push(b'"');
        for &b in value {
            if b == b'"' || b == b'\\' {
                self.out.push(b'\\');
            }
            if !is_ctl(b) {
                self.out.push(b);
            }
        }
        self.out.push(b'"');
    }

    /// `name=value` for a token value; falls back to a quoted-string if `value` is not a
    /// valid bare value.
    pub(super) fn token(&mut self, name: &str, value: &[u8]) {
        // A byte loop: no iterator adapter instance in the browser build.
        let mut bare = !value.is_empty();
        for &b in value {
            bare &= is_bare_value_char(b);
        }
        if !bare {
            return self.quoted(name, value);
        }
        self.name(name);
        self.out.extend_from_slice(value);
    }

    /// `name=UTF-8''pct-encoded` (RFC 5987 `ext-value`, for `username*`).
    pub(super) fn ext_value(&mut self, name: &str, value: &[u8]) {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        self.name(name);
        self.out.extend_from_slice(b"UTF-8''");
        for &b in value {
            if is_attr_char(b) {
                self.out.push(b);
            } else {
                self.out.extend_from_slice(&[
                    b'%',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0xf)],
                ]);
            }
        }
    }

    pub(super) fn param(&mut self, p: &AuthParam<'_>) {
        // A name that is not a token cannot be written; such a param cannot come from the
        // parser, only from a caller building one by hand.
        let ok_name = !p.name.is_empty()
            && p.name
                .bytes()
                .enumerate()
                .all(|(i, b)| is_token_char(b) || (b == b'*' && i + 1 == p.name.len()));
        if !ok_name {
            return;
        }
        if p.quoted {
            self.quoted(&p.name, p.value.as_bytes())
        } else {
            self.token(&p.name, p.value.as_bytes())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_are_matched_case_insensitively_within_the_mask() {
        assert_eq!(known("REALM", CHALLENGE), Some(REALM));
        assert_eq!(known("Stale", CHALLENGE), Some(STALE));
        assert_eq!(known("stale", CREDENTIALS), None);
        assert_eq!(known("username*", CREDENTIALS), Some(USERNAME_EXT));
        assert_eq!(known("username*", CHALLENGE), None);
        assert_eq!(known("nc", CREDENTIALS), Some(NC));
        assert_eq!(known("realmx", CHALLENGE), None);
        assert_eq!(known("", CREDENTIALS), None);
    }

    #[test]
    fn attr_char_mask_is_the_rfc5987_set() {
        // RFC 5987 §3.2.1: attr-char = ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" /
        // "." / "^" / "_" / "`" / "|" / "~".
        let listed = b"!#$&+-.^_`|~";
        for b in 0..=255u8 {
            let want = b.is_ascii_alphanumeric() || listed.contains(&b);
            assert_eq!(is_attr_char(b), want, "byte {b:#04x}");
        }
    }
}
