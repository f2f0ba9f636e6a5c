//! Typed header values (RFC 3261 §20, §25.1 and the extension RFCs named per type),
//! decoded on demand from the raw value text of one header element.
//!
//! Input: one header *element* (`&str`; for list headers, one comma-separated item —
//! the message view splits them). Output: zero-copy structs borrowing that text. LWS and
//! folds are accepted wherever the grammar allows them. Every parser returns `None`
//! (mapped to [`HeaderError::Invalid`] by the accessors) on malformed input.
use alloc::borrow::Cow;
use core::fmt;

use super::method::Method;
use super::name::HeaderName;
use super::scan::{
    Cursor, DIGIT, LWS, TOKEN, all_class, find_byte, is_lws, is_token, split_byte, trim_lws,
    unquote,
};
use super::uri::{Host, Uri, UriError};

/// Error from a typed header accessor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderError {
    /// The header is absent.
    Missing(HeaderName),
    /// The header value does not match its grammar.
    Invalid(HeaderName),
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing(n) => write!(f, "missing {n} header"),
            Self::Invalid(n) => write!(f, "invalid {n} header"),
        }
    }
}

impl core::error::Error for HeaderError {}

/// Generic parameters (`;name=value;flag`, RFC 3261 §25.1 `generic-param`), iterated
/// lazily over the raw text. Values of quoted strings are returned without the quotes
/// (escapes kept; see [`Params::get_unquoted`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Params<'a> {
    raw: &'a str,
}

impl<'a> Params<'a> {
    /// Parses `*( SEMI generic-param )` at the cursor, up to the end of input; fails on
    /// anything else.
    pub(crate) fn parse_rest(cur: &mut Cursor<'a>) -> Option<Self> {
        Self::parse_rest_with(cur, "").map(|(p, _)| p)
    }

    /// [`Params::parse_rest`] that also returns the value of the first parameter named
    /// `key` (one pass for validation and lookup).
    pub(crate) fn parse_rest_with(
        cur: &mut Cursor<'a>,
        key: &str,
    ) -> Option<(Self, Option<&'a str>)> {
        cur.ws();
        let start = cur.pos;
        if cur.at_end() {
            return Some((Params { raw: "" }, None));
        }
        let mut it = ParamIter::new(cur.rest(), false);
        let mut found = None;
        let mut seen = key.is_empty();
        for (n, v) in it.by_ref() {
            if !seen && n.eq_ignore_ascii_case(key) {
                seen = true;
                found = v;
            }
        }
        if it.bad {
            return None;
        }
        let raw = cur.slice(start, cur.s.len());
        cur.pos = cur.s.len();
        Some((Params { raw }, found))
    }

    /// The raw text, starting at the first `;` (empty if none).
    pub fn as_str(&self) -> &'a str {
        self.raw
    }

    /// Iterates `(name, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, Option<&'a str>)> + 'a {
        ParamIter::new(self.raw, false)
    }

    /// A parameter by name (case-insensitive): `Some(None)` for a flag.
    pub fn get(&self, name: &str) -> Option<Option<&'a str>> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// A parameter value with quoted-pair escapes removed.
    pub fn get_unquoted(&self, name: &str) -> Option<Cow<'a, str>> {
        let v = self.get(name)??;
        if v.contains('\\') {
            let mut s = alloc::string::String::with_capacity(v.len());
            let mut it = v.chars();
            while let Some(c) = it.next() {
                if c == '\\' {
                    if let Some(n) = it.next() {
                        s.push(n);
                    }
                } else {
                    s.push(c);
                }
            }
            Some(Cow::Owned(s))
        } else {
            Some(Cow::Borrowed(v))
        }
    }

    /// `true` if the parameter is present.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// The value of header parameter `name` in `tail` (case-insensitive), read leniently:
/// the text before the first `;` is skipped, a malformed parameter is skipped up to the
/// next `;` outside quotes, and a `,` outside quotes ends the header element. A flag (or
/// an empty value) gives `Some("")`; a quoted value comes without its quotes. This is the
/// user agent's reader for the parameters of header values it keeps as text (Via
/// branch, tags, `expires`, `refresher`…): the same scanner as [`Params`].
pub fn lenient_param<'a>(tail: &'a str, name: &str) -> Option<&'a str> {
    ParamIter::new(tail, true)
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.unwrap_or(""))
}

/// The parameter scanner. Strict (`lenient == false`): `*( SEMI generic-param )` up to
/// the end, stopping with `bad` set at the first malformed byte. Lenient: see
/// [`lenient_param`].
struct ParamIter<'a> {
    cur: Cursor<'a>,
    bad: bool,
    lenient: bool,
}

const fn is_pvalue(b: u8) -> bool {
    is_token(b) || matches!(b, b':' | b'[' | b']')
}

impl<'a> ParamIter<'a> {
    fn new(s: &'a str, lenient: bool) -> Self {
        ParamIter {
            cur: Cursor::new(s),
            bad: false,
            lenient,
        }
    }

    /// One `; name [= value]` at the cursor (LWS allowed around the delimiters), or
    /// `None` if the text there is no parameter.
    fn param(&mut self) -> Option<(&'a str, Option<&'a str>)> {
        let c = &mut self.cur;
        if !c.eat(b';') {
            return None;
        }
        c.ws();
        let name = c.token();
        if name.is_empty() {
            return None;
        }
        if !c.eat(b'=') {
            return Some((name, None));
        }
        c.ws();
        let v = if matches!(c.peek(), Some(b'"')) {
            let q = c.quoted()?;
            q.get(1..q.len() - 1).unwrap_or("")
        } else {
            let v = c.take_while(is_pvalue);
            if v.is_empty() && !self.lenient {
                return None;
            }
            v
        };
        Some((name, Some(v)))
    }
}

impl<'a> Iterator for ParamIter<'a> {
    type Item = (&'a str, Option<&'a str>);
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.cur.ws();
            if self.cur.at_end() || self.bad {
                return None;
            }
            if let Some(p) = self.param() {
                // Next must be end or `;` (after LWS, which the next call skips anyway);
                // the lenient reader resynchronises at the next call instead.
                let c = &mut self.cur;
                c.ws();
                if !self.lenient && !c.at_end() && !matches!(c.peek(), Some(b';')) {
                    self.bad = true;
                }
                return Some(p);
            }
            if !self.lenient {
                self.bad = true;
                return None;
            }
            // Lenient: skip to the next `;` outside quotes; a `,` ends the element. Every
            // turn of the loop consumes a byte (a failed parameter consumed its `;`, or
            // stands on another byte, skipped here), so it ends.
            let c = &mut self.cur;
            while let Some(b) = c.peek() {
                match b {
                    b';' => break,
                    b',' => self.bad = true,
                    b'"' => match super::scan::quoted_end(c.s.as_bytes(), c.pos) {
                        Some(e) => c.pos = e - 1,
                        None => self.bad = true,
                    },
                    _ => {}
                }
                if self.bad {
                    break;
                }
                c.pos += 1;
            }
        }
    }
}

/// `DIGIT` (a function for [`Cursor::take_while`]).
fn is_digit(b: u8) -> bool {
    b.is_ascii_digit()
}

/// A Via element (RFC 3261 §20.42, §18.2.1; `rport` RFC 3581).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Via<'a> {
    /// Protocol name, `SIP`.
    pub protocol: &'a str,
    /// Protocol version, `2.0`.
    pub version: &'a str,
    /// Transport (`UDP`, `TCP`, `TLS`, `WSS`, … as written).
    pub transport: &'a str,
    /// The sent-by host.
    pub host: Host<'a>,
    /// The sent-by host as written.
    pub host_str: &'a str,
    /// The sent-by port, if present.
    pub port: Option<u16>,
    /// Via parameters.
    pub params: Params<'a>,
    branch: Option<&'a str>,
}

impl<'a> Via<'a> {
    /// Parses one Via element.
    pub fn parse(s: &'a str) -> Option<Self> {
        let mut c = Cursor::new(s);
        c.ws();
        let protocol = c.token();
        if protocol.is_empty() || !c.eat(b'/') {
            return None;
        }
        c.ws();
        let version = c.token();
        if version.is_empty() || !c.eat(b'/') {
            return None;
        }
        c.ws();
        let transport = c.token();
        if transport.is_empty() || !c.peek().is_some_and(is_lws) {
            return None;
        }
        c.ws();
        let (host_str, host) = parse_host(&mut c)?;
        let port = if c.eat(b':') {
            c.ws();
            let p = c.take_while(is_digit);
            Some(super::scan::parse_dec::<u16>(p)?)
        } else {
            None
        };
        let (params, branch) = Params::parse_rest_with(&mut c, "branch")?;
        Some(Via {
            branch,
            protocol,
            version,
            transport,
            host,
            host_str,
            port,
            params,
        })
    }

    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&'a str> {
        self.branch
    }
    /// `true` if the branch has the RFC 3261 magic cookie `z9hG4bK` (§8.1.1.7).
    pub fn is_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with("z9hG4bK"))
    }
    /// The `received` parameter.
    pub fn received(&self) -> Option<&'a str> {
        self.params.get("received").flatten()
    }
    /// The `rport` parameter: `Some(None)` when present without a value (RFC 3581).
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params
            .get("rport")
            .map(|v| v.and_then(|p| super::scan::parse_u32(p)?.try_into().ok()))
    }
    /// The `maddr` parameter.
    pub fn maddr(&self) -> Option<&'a str> {
        self.params.get("maddr").flatten()
    }
    /// The `ttl` parameter.
    pub fn ttl(&self) -> Option<u8> {
        self.params
            .get("ttl")
            .flatten()
            .and_then(|t| u8::try_from(super::scan::parse_u32(t)?).ok())
    }
}

fn parse_host<'a>(c: &mut Cursor<'a>) -> Option<(&'a str, Host<'a>)> {
    let start = c.pos;
    if matches!(c.peek(), Some(b'[')) {
        let rest = c.rest();
        let close = find_byte(rest.as_bytes(), 0, b']')?;
        c.pos += close + 1;
    } else {
        c.take_while(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    }
    let s = c.slice(start, c.pos);
    Some((s, Host::parse(s)?))
}

/// A `name-addr` or `addr-spec` with header parameters: the value of From, To, Contact,
/// Route, Record-Route, Refer-To, Referred-By, P-Asserted-Identity, Diversion, Reply-To
/// (RFC 3261 §20.10, §20.20, §20.39, §25.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// The display name as written (a quoted string keeps its quotes).
    pub display: Option<&'a str>,
    /// The URI text (between `<` and `>` for a name-addr).
    pub uri: &'a str,
    /// `true` if the URI was enclosed in `<…>`.
    pub angle: bool,
    /// Header parameters after the address (`;tag=…`, `;expires=…`, `;q=…`).
    pub params: Params<'a>,
    tag: Option<&'a str>,
}

impl<'a> NameAddr<'a> {
    /// Parses a name-addr / addr-spec with parameters. The URI text is only delimited
    /// here; [`NameAddr::uri`] parses it (so reading a tag does not pay for URI parsing,
    /// and `validate` checks it).
    pub fn parse(s: &'a str) -> Option<Self> {
        let mut c = Cursor::new(s);
        c.ws();
        let (display, angle) = match c.peek() {
            Some(b'"') => {
                let d = c.quoted()?;
                c.ws();
                if !matches!(c.peek(), Some(b'<')) {
                    return None;
                }
                (Some(d), true)
            }
            Some(b'<') => (None, true),
            _ => {
                // Either `*(token LWS) <uri>` or a bare addr-spec.
                match split_byte(c.rest(), b'<') {
                    (before, Some(_))
                        if find_byte(before.as_bytes(), 0, b';').is_none()
                            && find_byte(before.as_bytes(), 0, b':').is_none() =>
                    {
                        let d = trim_lws(before);
                        if !all_class(d.as_bytes(), TOKEN | LWS) {
                            return None;
                        }
                        c.pos += before.len();
                        (if d.is_empty() { None } else { Some(d) }, true)
                    }
                    _ => (None, false),
                }
            }
        };
        let uri = if angle {
            c.pos += 1; // the `<` seen above
            let (u, gt) = split_byte(c.rest(), b'>');
            gt?;
            c.pos += u.len() + 1;
            u
        } else {
            let u = c.take_while(|b| b != b';' && !is_lws(b));
            if find_byte(u.as_bytes(), 0, b'?').is_some()
                || find_byte(u.as_bytes(), 0, b',').is_some()
            {
                return None;
            }
            u
        };
        if uri.is_empty() {
            return None;
        }
        let (params, tag) = Params::parse_rest_with(&mut c, "tag")?;
        Some(NameAddr {
            tag,
            display,
            uri,
            angle,
            params,
        })
    }

    /// The parsed URI.
    pub fn uri(&self) -> Result<Uri<'a>, UriError> {
        Uri::parse(self.uri)
    }

    /// The display name with quotes and escapes removed.
    pub fn display_name(&self) -> Option<Cow<'a, str>> {
        self.display.map(unquote)
    }

    /// The `tag` parameter (From/To, RFC 3261 §19.3).
    pub fn tag(&self) -> Option<&'a str> {
        self.tag
    }

    /// The `expires` parameter of a Contact.
    pub fn expires(&self) -> Option<u32> {
        self.params
            .get("expires")
            .flatten()
            .and_then(super::scan::parse_u32)
    }

    /// The `q` parameter of a Contact, in thousandths (`q=0.33` → 330).
    pub fn q(&self) -> Option<u16> {
        let v = self.params.get("q").flatten()?;
        let (i, f) = v.split_once('.').unwrap_or((v, ""));
        if f.len() > 3 || !all_class(f.as_bytes(), DIGIT) {
            return None;
        }
        let mut thousandths: u16 = match i {
            "0" => 0,
            "1" => 1000,
            _ => return None,
        };
        let mut scale = 100;
        for b in f.bytes() {
            thousandths = thousandths.checked_add(u16::from(b - b'0') * scale)?;
            scale /= 10;
        }
        (thousandths <= 1000).then_some(thousandths)
    }
}

/// CSeq (RFC 3261 §20.16).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CSeq<'a> {
    /// Sequence number.
    pub seq: u32,
    /// Method.
    pub method: Method<'a>,
}

impl<'a> CSeq<'a> {
    /// Parses `1*DIGIT LWS Method`.
    pub fn parse(s: &'a str) -> Option<Self> {
        let mut c = Cursor::new(s);
        c.ws();
        let n = c.take_while(is_digit);
        let seq = super::scan::parse_u32(n)?;
        if !c.peek().is_some_and(is_lws) {
            return None;
        }
        c.ws();
        let m = c.token();
        c.ws();
        if !c.at_end() {
            return None;
        }
        Some(CSeq {
            seq,
            method: Method::parse(m)?,
        })
    }
}

/// A media type (Content-Type, RFC 3261 §20.15; Accept elements).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MediaType<'a> {
    /// Top-level type (`application`).
    pub mtype: &'a str,
    /// Subtype (`sdp`).
    pub subtype: &'a str,
    /// Parameters (`;boundary=…`).
    pub params: Params<'a>,
}

impl<'a> MediaType<'a> {
    /// Parses `type SLASH subtype *(SEMI m-parameter)`.
    pub fn parse(s: &'a str) -> Option<Self> {
        let mut c = Cursor::new(s);
        c.ws();
        let mtype = c.token();
        if mtype.is_empty() || !c.eat(b'/') {
            return None;
        }
        c.ws();
        let subtype = c.token();
        if subtype.is_empty() {
            return None;
        }
        let params = Params::parse_rest(&mut c)?;
        Some(MediaType {
            mtype,
            subtype,
            params,
        })
    }

    /// Case-insensitive match on `type/subtype`.
    pub fn is(&self, mtype: &str, subtype: &str) -> bool {
        self.mtype.eq_ignore_ascii_case(mtype) && self.subtype.eq_ignore_ascii_case(subtype)
    }

    /// `true` for `application/sdp`.
    pub fn is_sdp(&self) -> bool {
        self.is("application", "sdp")
    }
}

/// A token followed by generic parameters: the shape of Event (RFC 6665 §8.2.1),
/// Subscription-State (§8.2.3), Reason's protocol (RFC 3326), Session-Expires and Min-SE
/// (RFC 4028, the "token" being the delta-seconds), Content-Disposition…
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenParams<'a> {
    /// The leading token.
    pub value: &'a str,
    /// Its parameters.
    pub params: Params<'a>,
}

impl<'a> TokenParams<'a> {
    /// Parses `token *(SEMI generic-param)`.
    pub fn parse(s: &'a str) -> Option<Self> {
        let mut c = Cursor::new(s);
        c.ws();
        let value = c.token();
        if value.is_empty() {
            return None;
        }
        let params = Params::parse_rest(&mut c)?;
        Some(TokenParams { value, params })
    }
}

/// Session-Expires (RFC 4028 §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionExpires<'a> {
    /// The session interval in seconds.
    pub delta: u32,
    /// The `refresher` parameter (`uac`/`uas`).
    pub refresher: Option<&'a str>,
    /// All parameters.
    pub params: Params<'a>,
}

impl<'a> SessionExpires<'a> {
    /// Parses `delta-seconds *(SEMI se-params)`.
    pub fn parse(s: &'a str) -> Option<Self> {
        let t = TokenParams::parse(s)?;
        Some(SessionExpires {
            delta: super::scan::parse_u32(t.value)?,
            refresher: t.params.get("refresher").flatten(),
            params: t.params,
        })
    }
}

/// RAck (RFC 3262 §7.2): `response-num LWS CSeq-num LWS Method`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RAck<'a> {
    /// The RSeq of the response being acknowledged.
    pub rseq: u32,
    /// The CSeq number of the INVITE.
    pub cseq: u32,
    /// The CSeq method.
    pub method: Method<'a>,
}

impl<'a> RAck<'a> {
    /// Parses an RAck value.
    pub fn parse(s: &'a str) -> Option<Self> {
        let mut c = Cursor::new(s);
        c.ws();
        let rseq = super::scan::parse_u32(c.take_while(is_digit))?;
        if !c.peek().is_some_and(is_lws) {
            return None;
        }
        let rest = c.rest();
        let cs = CSeq::parse(rest)?;
        Some(RAck {
            rseq,
            cseq: cs.seq,
            method: cs.method,
        })
    }
}

/// Replaces (RFC 3891 §6.1): `callid *(SEMI replaces-param)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replaces<'a> {
    /// The Call-ID of the dialog to replace.
    pub call_id: &'a str,
    /// `to-tag`, `from-tag`, `early-only`.
    pub params: Params<'a>,
}

impl<'a> Replaces<'a> {
    /// Parses a Replaces value.
    pub fn parse(s: &'a str) -> Option<Self> {
        let mut c = Cursor::new(s);
        c.ws();
        let call_id = c.take_while(|b| b != b';' && !is_lws(b));
        if call_id.is_empty() {
            return None;
        }
        let params = Params::parse_rest(&mut c)?;
        Some(Replaces { call_id, params })
    }
    /// The `to-tag` parameter.
    pub fn to_tag(&self) -> Option<&'a str> {
        self.params.get("to-tag").flatten()
    }
    /// The `from-tag` parameter.
    pub fn from_tag(&self) -> Option<&'a str> {
        self.params.get("from-tag").flatten()
    }
    /// `true` if `early-only` is present.
    pub fn early_only(&self) -> bool {
        self.params.has("early-only")
    }
}

/// An authentication header (WWW-Authenticate, Authorization, Proxy-Authenticate,
/// Proxy-Authorization; RFC 3261 §20.7, §20.27, §20.28, §20.44): the scheme and the raw
/// parameter text. Digest parameters are decoded by `crate::sip::auth`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthValue<'a> {
    /// The scheme (`Digest`), compare case-insensitively.
    pub scheme: &'a str,
    /// Everything after the scheme, trimmed (`realm="…", nonce="…"`).
    pub params: &'a str,
    /// The whole value, trimmed.
    pub raw: &'a str,
}

impl<'a> AuthValue<'a> {
    /// Splits a value into scheme and parameters.
    pub fn parse(s: &'a str) -> Option<Self> {
        let raw = trim_lws(s);
        let mut c = Cursor::new(raw);
        let scheme = c.token();
        if scheme.is_empty() || !(c.at_end() || c.peek().is_some_and(is_lws)) {
            return None;
        }
        Some(AuthValue {
            scheme,
            params: trim_lws(c.rest()),
            raw,
        })
    }
    /// `true` for the Digest scheme.
    pub fn is_digest(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("Digest")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn lenient_params() {
        let via = "SIP/2.0/UDP h:5060;branch=z9hG4bK1 ;rport; received = [2001:db8::1]";
        assert_eq!(lenient_param(via, "BRANCH"), Some("z9hG4bK1"));
        assert_eq!(lenient_param(via, "rport"), Some(""));
        assert_eq!(lenient_param(via, "received"), Some("[2001:db8::1]"));
        assert_eq!(lenient_param(via, "maddr"), None);
        // The text before the first `;` is no parameter, even when it looks like one.
        assert_eq!(lenient_param("tag=a;x=1", "tag"), None);
        // A malformed parameter is skipped; the ones after it are still found.
        assert_eq!(lenient_param(";a=b c;tag=x", "tag"), Some("x"));
        assert_eq!(lenient_param(";=;;tag=y", "tag"), Some("y"));
        assert_eq!(lenient_param(";a=b c;tag=x", "a"), Some("b"));
        // An empty value is a flag; a quoted value loses its quotes, and `;`/`,` inside
        // it do not count.
        assert_eq!(lenient_param(";tag=", "tag"), Some(""));
        assert_eq!(
            lenient_param(";x=\"a;tag=no, b\";tag=yes", "tag"),
            Some("yes")
        );
        assert_eq!(
            lenient_param(";x=\"a;tag=no, b\";tag=yes", "x"),
            Some("a;tag=no, b")
        );
        assert_eq!(lenient_param("\"q;tag=no\" x;tag=ok", "tag"), Some("ok"));
        // A `,` ends the element; an unterminated quote hides the rest.
        assert_eq!(lenient_param(";a=1, <sip:b>;tag=z", "tag"), None);
        assert_eq!(
            lenient_param("SIP/2.0/UDP a, SIP/2.0/UDP b;branch=1", "branch"),
            None
        );
        assert_eq!(lenient_param(";x=\"abc;tag=1", "tag"), None);
        // The strict reader of the same scanner rejects what the lenient one skips.
        assert!(NameAddr::parse("<sip:a@b>;a=b c;tag=x").is_none());
    }

    proptest::proptest! {
        #[test]
        fn lenient_param_agrees_with_params_on_valid_input(
            ps in proptest::collection::vec(("[a-z]{1,4}", proptest::option::of("[a-z0-9.]{1,4}")), 0..5),
            key in "[a-z]{1,4}",
        ) {
            let mut s = alloc::string::String::from("<sip:a@b;lr>");
            for (n, v) in &ps {
                s.push(';');
                s.push_str(n);
                if let Some(v) = v {
                    s.push('=');
                    s.push_str(v);
                }
            }
            let a = NameAddr::parse(&s).unwrap();
            let tail = &s[s.find('>').unwrap() + 1..];
            proptest::prop_assert_eq!(
                lenient_param(tail, &key),
                a.params.get(&key).map(|v| v.unwrap_or(""))
            );
        }

        #[test]
        fn lenient_param_never_panics(s in "[;=,\" a-z\\\\\r\n\t]{0,40}", key in "[a-z]{1,2}") {
            let _ = lenient_param(&s, &key);
        }
    }

    #[test]
    fn via_with_folding_and_lws() {
        let v = Via::parse("SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw").unwrap();
        assert_eq!((v.protocol, v.version, v.transport), ("SIP", "2.0", "UDP"));
        assert_eq!(v.host, Host::Ipv4([192, 0, 2, 2].into()));
        assert_eq!(v.branch(), Some("390skdjuw"));
        let v = Via::parse(" SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239")
            .unwrap();
        assert_eq!(v.branch(), Some("z9hG4bK30239"));
        assert!(v.is_rfc3261_branch());
        let v = Via::parse("SIP/2.0/WSS [2001:db8::9]:443;rport;received=192.0.2.1").unwrap();
        assert_eq!(v.port, Some(443));
        assert_eq!(v.rport(), Some(None));
        assert_eq!(v.received(), Some("192.0.2.1"));
        assert!(Via::parse("SIP/2.0/UDP 192.0.2.15;;,;,,").is_none());
        assert!(Via::parse("SIP/2.0/UDP").is_none());
        assert!(Via::parse("SIP/2.0/UDP host:70000").is_none());
    }

    #[test]
    fn name_addr_forms() {
        let n = NameAddr::parse(
            "\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8",
        )
        .unwrap();
        assert_eq!(n.display_name().unwrap(), "J Rosenberg \\\"");
        assert_eq!(n.uri, "sip:jdrosen@example.com");
        assert_eq!(n.tag(), Some("98asjd8"));
        let n =
            NameAddr::parse("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n").unwrap();
        assert!(!n.angle);
        assert_eq!(n.tag(), Some("1918181833n"));
        let n = NameAddr::parse("caller<sip:caller@example.com>;tag=323").unwrap();
        assert_eq!(n.display, Some("caller"));
        let n = NameAddr::parse("sip:+19725552222@gw1.example.net;unknownparam").unwrap();
        assert_eq!(n.uri, "sip:+19725552222@gw1.example.net");
        assert!(n.params.has("unknownparam"));
        let n = NameAddr::parse("<sip:+19725552222@gw1.example.net;unknownparam>").unwrap();
        assert!(!n.params.has("unknownparam"));
        assert!(
            n.uri()
                .unwrap()
                .as_sip()
                .unwrap()
                .params()
                .get("unknownparam")
                .is_some()
        );
        let n = NameAddr::parse(
            "<sip:a@b> ; newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33",
        )
        .unwrap();
        assert_eq!(n.q(), Some(330));
        let p: Vec<_> = n.params.iter().collect();
        assert_eq!(
            p,
            [
                ("newparam", Some("newvalue")),
                ("secondparam", None),
                ("q", Some("0.33"))
            ]
        );
        for bad in [
            "\"Mr. J. User <sip:j.user@example.com>",
            "Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
            "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
            "<sip:a@b>;;",
            "",
        ] {
            assert!(NameAddr::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn scalar_headers() {
        let c = CSeq::parse("0009\r\n  INVITE").unwrap();
        assert_eq!((c.seq, c.method), (9, Method::Invite));
        assert!(CSeq::parse("36893488147419103232 REGISTER").is_none());
        assert!(CSeq::parse("1INVITE").is_none());
        let r = RAck::parse("776656 1 INVITE").unwrap();
        assert_eq!((r.rseq, r.cseq, r.method), (776656, 1, Method::Invite));
        let s = SessionExpires::parse("1800;refresher=uac").unwrap();
        assert_eq!((s.delta, s.refresher), (1800, Some("uac")));
        let m = MediaType::parse("multipart/mixed;boundary=7a9cbec02ceef655").unwrap();
        assert_eq!(m.params.get("boundary"), Some(Some("7a9cbec02ceef655")));
        assert!(MediaType::parse("application/sdp").unwrap().is_sdp());
        let r = Replaces::parse("425928@bobster.example.org;to-tag=7743;from-tag=6472;early-only")
            .unwrap();
        assert_eq!(
            (r.call_id, r.to_tag(), r.from_tag(), r.early_only()),
            (
                "425928@bobster.example.org",
                Some("7743"),
                Some("6472"),
                true
            )
        );
        let a = AuthValue::parse("Digest realm=\"atlanta.com\", nonce=\"x\"").unwrap();
        assert!(a.is_digest());
        assert_eq!(a.params, "realm=\"atlanta.com\", nonce=\"x\"");
        let a = AuthValue::parse("NoOneKnowsThisScheme opaque-data=here").unwrap();
        assert_eq!(a.scheme, "NoOneKnowsThisScheme");
    }
}

impl<'a> Params<'a> {
    /// The parameters in normalized form without those named `skip` (case-insensitive),
    /// e.g. to replace a `tag`.
    pub fn display_without<'s>(&'s self, skip: &'s str) -> impl fmt::Display + 's {
        ParamsWithout { p: *self, skip }
    }

    /// Appends the parameters in normalized form without those named `skip` to `out`
    /// (as [`Self::display_without`] prints them, without `core::fmt`).
    pub(crate) fn push_without(&self, out: &mut alloc::string::String, skip: &str) {
        let _ = self.emit_without(skip, |s| {
            out.push_str(s);
            Ok(())
        });
    }

    /// The normalized text without `skip`, piece by piece into `put`.
    fn emit_without(&self, skip: &str, mut put: impl FnMut(&str) -> fmt::Result) -> fmt::Result {
        for (n, v) in self.iter() {
            if !skip.is_empty() && n.eq_ignore_ascii_case(skip) {
                continue;
            }
            put(";")?;
            put(n)?;
            if let Some(v) = v {
                if !v.is_empty() && v.bytes().all(is_pvalue) {
                    put("=")?;
                    put(v)?;
                } else {
                    put("=\"")?;
                    put(v)?;
                    put("\"")?;
                }
            }
        }
        Ok(())
    }
}

struct ParamsWithout<'a, 's> {
    p: Params<'a>,
    skip: &'s str,
}

impl fmt::Display for ParamsWithout<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.p.emit_without(self.skip, |s| f.write_str(s))
    }
}

/// Writes parameters in normalized form (`;name=value`, quoting values that are not
/// tokens / hosts).
impl fmt::Display for Params<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.display_without("").fmt(f)
    }
}

/// Normalized form: `SIP/2.0/UDP host:port;params` (LWS and folds removed).
impl fmt::Display for Via<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{} {}",
            self.protocol, self.version, self.transport, self.host_str
        )?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write!(f, "{}", self.params)
    }
}

/// Normalized form: `display <uri>;params` (angle brackets always written).
impl fmt::Display for NameAddr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = self.display {
            write!(f, "{d} ")?;
        }
        write!(f, "<{}>{}", self.uri, self.params)
    }
}

/// `seq METHOD`.
impl fmt::Display for CSeq<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

/// `type/subtype;params`.
impl fmt::Display for MediaType<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}{}", self.mtype, self.subtype, self.params)
    }
}

#[cfg(test)]
mod display_tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn normalized_forms_reparse_equal() {
        let v =
            Via::parse("SIP / 2.0 / UDP\r\n h.example:5060 ; branch = z9hG4bK1 ;rport;x=\"a b\"")
                .unwrap();
        let s = v.to_string();
        assert_eq!(
            s,
            "SIP/2.0/UDP h.example:5060;branch=z9hG4bK1;rport;x=\"a b\""
        );
        let w = Via::parse(&s).unwrap();
        assert_eq!(
            (w.transport, w.port, w.branch(), w.rport()),
            (v.transport, v.port, v.branch(), v.rport())
        );
        let n = NameAddr::parse("\"A B\" <sip:a@b>;tag=9").unwrap();
        assert_eq!(n.to_string(), "\"A B\" <sip:a@b>;tag=9");
        let n = NameAddr::parse("sip:a@b ; tag=9").unwrap();
        assert_eq!(n.to_string(), "<sip:a@b>;tag=9");
        assert_eq!(
            CSeq::parse("0009\r\n INVITE").unwrap().to_string(),
            "9 INVITE"
        );
        assert_eq!(
            MediaType::parse("text/plain ; charset=utf-8")
                .unwrap()
                .to_string(),
            "text/plain;charset=utf-8"
        );
    }
}
