//! The header index of a message and the typed accessors over it (RFC 3261 §7.3, §20).
//!
//! Input: the head text of a message and its index of byte ranges (built once by the
//! tokenizer, or kept up to date by an owned message). Output: raw header fields and
//! typed values decoded on demand; nothing is cached and nothing allocates.
use super::header::{
    AuthValue, CSeq, HeaderError, MediaType, NameAddr, RAck, Replaces, SessionExpires, TokenParams,
    Via,
};
use super::name::HeaderName;
use super::scan::{CTL, CommaSplit, WSP, count_class, is_token_str, parse_u32, trim_lws};

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

pub(crate) fn sub(s: &str, a: u32, b: u32) -> &str {
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
    /// The value of the first header with this (known) name. (With
    /// [`HeaderName::Other`] this matches any unknown header; look unknown headers up by
    /// text with [`Headers::named`].)
    pub fn get(self, name: HeaderName) -> Option<&'h str> {
        self.get_all(name).next()
    }
    /// The values of every header line with this (known) name, in order.
    pub fn get_all(self, name: HeaderName) -> impl Iterator<Item = &'h str> + 'h {
        Values {
            h: self,
            name,
            i: 0,
        }
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
        // The index alone (no value cut and trimmed per line, as `get_all` would).
        let mut n = 0;
        for e in self.entries {
            n += usize::from(e.name == name);
        }
        n
    }
    /// `true` if a header with this name is present.
    pub fn contains(self, name: HeaderName) -> bool {
        self.count(name) > 0
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
        let first = self
            .get(HeaderName::Via)
            .ok_or(HeaderError::Missing(HeaderName::Via))?;
        // Common case: one Via per line, no comma at all (skips the list splitter). A line
        // with a comma has a first element (possibly empty, then invalid).
        let top = if super::scan::find_byte(first.as_bytes(), 0, b',').is_some() {
            CommaSplit::new(first).next().unwrap_or(first)
        } else {
            first
        };
        Via::parse(top).ok_or(HeaderError::Invalid(HeaderName::Via))
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
            (!v.is_empty() && count_class(v.as_bytes(), WSP | CTL) == 0).then_some(v)
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
        matches!(self.get(HeaderName::Contact), Some("*"))
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
        self.list(name, |t| is_token_str(t).then_some(t))
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

/// The values of the lines named `name`, in order: the one search behind
/// [`Headers::get`], [`Headers::get_all`], [`Headers::count`] and [`Headers::contains`].
struct Values<'h> {
    h: Headers<'h>,
    name: HeaderName,
    i: usize,
}

impl<'h> Iterator for Values<'h> {
    type Item = &'h str;
    fn next(&mut self) -> Option<&'h str> {
        while let Some(e) = self.h.entries.get(self.i) {
            self.i += 1;
            if e.name == self.name {
                return Some(self.h.field(e).value);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::Request;

    #[test]
    fn via_top_is_the_first_via_element() {
        let msg = |vias: &str| {
            alloc::format!("OPTIONS sip:h SIP/2.0\r\n{vias}Call-ID: c\r\nContent-Length: 0\r\n\r\n")
        };
        let top = |vias: &str| {
            let m = msg(vias);
            let r = Request::parse(m.as_bytes()).unwrap();
            let h = r.headers();
            // The general definition: the first element of the list over all lines,
            // and an empty first line is an invalid Via.
            let general = match h.get(HeaderName::Via) {
                None => Err(HeaderError::Missing(HeaderName::Via)),
                Some("") => Err(HeaderError::Invalid(HeaderName::Via)),
                Some(_) => h.vias().next().unwrap(),
            };
            let fast = h.via_top();
            assert_eq!(fast, general, "{vias:?}");
            fast.map(|v| alloc::string::String::from(v.host_str))
        };
        let a = "SIP/2.0/UDP a;branch=z9hG4bK1";
        let b = "SIP/2.0/TCP b";
        assert_eq!(
            top(&alloc::format!("Via: {a}\r\nVia: {b}\r\n")).as_deref(),
            Ok("a")
        );
        assert_eq!(
            top(&alloc::format!("Via: {a} , {b}\r\n")).as_deref(),
            Ok("a")
        );
        assert_eq!(top(&alloc::format!("v: \"x,y\" {a}, {b}\r\n")).ok(), None);
        assert_eq!(top(&alloc::format!("Via: , {b}\r\n")).ok(), None);
        assert_eq!(top(&alloc::format!("Via:\r\nVia: {b}\r\n")).ok(), None);
        assert_eq!(top(&alloc::format!("Via: bogus, {b}\r\n")).ok(), None);
        assert_eq!(top(""), Err(HeaderError::Missing(HeaderName::Via)));
    }
}
