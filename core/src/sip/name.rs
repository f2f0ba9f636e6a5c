//! Header field names (RFC 3261 §7.3, §20) with their compact forms (§7.3.3 and the
//! IANA SIP parameters registry).
//!
//! Input: a header name as written (any case, long or compact). Output: a
//! [`HeaderName`]; unknown names map to [`HeaderName::Other`] and are kept raw by the
//! message view.
use core::fmt;

macro_rules! header_names {
    ($( $(#[$m:meta])* $var:ident = $canon:literal $(, $compact:literal)? ;)*) => {
        /// A header field name. Known names are recognised in any letter case and in their
        /// compact form; everything else is [`HeaderName::Other`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum HeaderName {
            $( $(#[$m])* #[doc = concat!("`", $canon, "`")] $var, )*
            /// A header this stack does not know; compare by its raw name.
            Other,
        }

        /// The canonical long forms, concatenated in declaration order (index =
        /// discriminant), cut by [`ENDS`]: one string and 2 bytes per name rather than
        /// a table of 8-byte `&str`s. Statics, not consts: a `const` table is emitted
        /// again wherever it is used (here by `as_str` and `parse_bytes`).
        static TEXT: &str = concat!( $( $canon, )* );
        /// The end of each name in [`TEXT`].
        static ENDS: [u16; [ $( $canon, )* ].len()] = ends([ $( $canon.len(), )* ]);

        /// The compact forms (lowercase) and their names.
        const COMPACT: &[(u8, HeaderName)] = &[ $( $( ($compact, HeaderName::$var), )? )* ];

        impl HeaderName {
            /// Every known name (for tests and tables).
            pub const ALL: &'static [HeaderName] = &[ $( HeaderName::$var, )* ];
        }
    };
}

header_names! {
    Accept = "Accept";
    AcceptContact = "Accept-Contact", b'a';
    AcceptEncoding = "Accept-Encoding";
    AcceptLanguage = "Accept-Language";
    AlertInfo = "Alert-Info";
    Allow = "Allow";
    AllowEvents = "Allow-Events", b'u';
    AuthenticationInfo = "Authentication-Info";
    Authorization = "Authorization";
    CallId = "Call-ID", b'i';
    CallInfo = "Call-Info";
    Contact = "Contact", b'm';
    ContentDisposition = "Content-Disposition";
    ContentEncoding = "Content-Encoding", b'e';
    ContentLanguage = "Content-Language";
    ContentLength = "Content-Length", b'l';
    ContentType = "Content-Type", b'c';
    CSeq = "CSeq";
    Date = "Date";
    Diversion = "Diversion";
    ErrorInfo = "Error-Info";
    Event = "Event", b'o';
    Expires = "Expires";
    From = "From", b'f';
    Identity = "Identity", b'y';
    IdentityInfo = "Identity-Info", b'n';
    InReplyTo = "In-Reply-To";
    MaxForwards = "Max-Forwards";
    MimeVersion = "MIME-Version";
    MinExpires = "Min-Expires";
    MinSe = "Min-SE";
    Organization = "Organization";
    PAssertedIdentity = "P-Asserted-Identity";
    PPreferredIdentity = "P-Preferred-Identity";
    Priority = "Priority";
    ProxyAuthenticate = "Proxy-Authenticate";
    ProxyAuthorization = "Proxy-Authorization";
    ProxyRequire = "Proxy-Require";
    RAck = "RAck";
    Reason = "Reason";
    RecordRoute = "Record-Route";
    ReferTo = "Refer-To", b'r';
    ReferredBy = "Referred-By", b'b';
    RejectContact = "Reject-Contact", b'j';
    Replaces = "Replaces";
    ReplyTo = "Reply-To";
    RequestDisposition = "Request-Disposition", b'd';
    Require = "Require";
    RetryAfter = "Retry-After";
    Route = "Route";
    RSeq = "RSeq";
    Server = "Server";
    SessionExpires = "Session-Expires", b'x';
    Subject = "Subject", b's';
    SubscriptionState = "Subscription-State";
    Supported = "Supported", b'k';
    Timestamp = "Timestamp";
    To = "To", b't';
    Unsupported = "Unsupported";
    UserAgent = "User-Agent";
    Via = "Via", b'v';
    Warning = "Warning";
    WwwAuthenticate = "WWW-Authenticate";
}

/// The running sums of `lens`: the end offsets of strings concatenated into one table (this
/// module's header names, the validator's reason phrases; each table is well under 64 KiB).
pub(crate) const fn ends<const N: usize>(lens: [usize; N]) -> [u16; N] {
    let mut out = [0u16; N];
    let mut sum = 0;
    let mut i = 0;
    while i < N {
        sum += lens[i];
        out[i] = sum as u16;
        i += 1;
    }
    out
}

/// The `i`-th canonical name (empty past the end), as bytes: cut without the char
/// boundary checks of `str::split_at`.
const fn name_at(i: usize) -> &'static [u8] {
    if i >= ENDS.len() {
        return b"";
    }
    let start = if i == 0 { 0 } else { ENDS[i - 1] as usize };
    // Invariant: the ends are the running sums of the names' lengths, so both cuts lie
    // inside TEXT.
    let (head, _) = TEXT.as_bytes().split_at(ENDS[i] as usize);
    head.split_at(start).1
}

impl HeaderName {
    /// The canonical long form (`"Via"`); `""` for [`HeaderName::Other`].
    pub const fn as_str(self) -> &'static str {
        // Invariant: the names are ASCII, so the check always passes.
        match core::str::from_utf8(name_at(self as usize)) {
            Ok(s) => s,
            Err(_) => "",
        }
    }

    /// The compact form (`'v'` for Via), if the header has one.
    pub const fn compact(self) -> Option<char> {
        let mut i = 0;
        while i < COMPACT.len() {
            if COMPACT[i].1 as u8 == self as u8 {
                return Some(COMPACT[i].0 as char);
            }
            i += 1;
        }
        None
    }

    /// Recognises a header name (case-insensitive, long or compact form).
    pub fn parse(name: &str) -> HeaderName {
        Self::parse_bytes(name.as_bytes())
    }

    /// [`HeaderName::parse`] on bytes. A known name matches only its exact spelling
    /// (ASCII letters in any case, every other byte as is), so a match implies a valid
    /// token. One table serves both directions (see [`HeaderName::as_str`]).
    pub(crate) fn parse_bytes(b: &[u8]) -> HeaderName {
        if let [c] = b {
            let c = c.to_ascii_lowercase();
            for &(k, n) in COMPACT {
                if k == c {
                    return n;
                }
            }
        } else {
            for i in 0..ENDS.len() {
                if name_at(i).eq_ignore_ascii_case(b) {
                    return Self::ALL.get(i).copied().unwrap_or(HeaderName::Other);
                }
            }
        }
        HeaderName::Other
    }
    /// `true` for headers whose value is a comma-separated list that may be split over
    /// several header lines (RFC 3261 §7.3.1). Single-valued headers (From, To, Call-ID,
    /// CSeq, Max-Forwards, Content-Length, Content-Type, Expires…) return `false`.
    pub const fn is_list(self) -> bool {
        matches!(
            self,
            HeaderName::Accept
                | HeaderName::AcceptEncoding
                | HeaderName::AcceptLanguage
                | HeaderName::AlertInfo
                | HeaderName::Allow
                | HeaderName::AllowEvents
                | HeaderName::CallInfo
                | HeaderName::Contact
                | HeaderName::ContentEncoding
                | HeaderName::ContentLanguage
                | HeaderName::Diversion
                | HeaderName::ErrorInfo
                | HeaderName::InReplyTo
                | HeaderName::PAssertedIdentity
                | HeaderName::PPreferredIdentity
                | HeaderName::ProxyRequire
                | HeaderName::Reason
                | HeaderName::RecordRoute
                | HeaderName::Require
                | HeaderName::Route
                | HeaderName::Supported
                | HeaderName::Unsupported
                | HeaderName::Via
                | HeaderName::Warning
        )
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::scan::is_token_str;

    #[test]
    fn long_compact_and_case() {
        for &n in HeaderName::ALL {
            assert_eq!(HeaderName::parse(n.as_str()), n);
            assert_eq!(HeaderName::parse(&n.as_str().to_ascii_uppercase()), n);
            if let Some(c) = n.compact() {
                let mut buf = [0u8; 4];
                assert_eq!(HeaderName::parse(c.encode_utf8(&mut buf)), n);
                assert_eq!(HeaderName::parse(&c.to_ascii_uppercase().to_string()), n);
            }
        }
        assert_eq!(HeaderName::parse("MaX-fOrWaRdS"), HeaderName::MaxForwards);
        assert_eq!(HeaderName::parse("C%6Fntact"), HeaderName::Other);
        assert_eq!(HeaderName::parse("q"), HeaderName::Other);
        assert_eq!(HeaderName::parse(""), HeaderName::Other);
        assert_eq!(HeaderName::parse("Call\rID"), HeaderName::Other);
        assert_eq!(HeaderName::parse("Call_ID"), HeaderName::Other);
        assert_eq!(
            HeaderName::parse("WWW-AUTHENTICATE"),
            HeaderName::WwwAuthenticate
        );
    }

    use alloc::string::ToString;

    #[test]
    fn canonical_names_are_cut_from_the_text_exactly() {
        assert_eq!(HeaderName::Accept.as_str(), "Accept");
        assert_eq!(HeaderName::AcceptContact.as_str(), "Accept-Contact");
        assert_eq!(HeaderName::CallId.as_str(), "Call-ID");
        assert_eq!(HeaderName::CSeq.as_str(), "CSeq");
        assert_eq!(HeaderName::Via.as_str(), "Via");
        assert_eq!(HeaderName::WwwAuthenticate.as_str(), "WWW-Authenticate");
        assert_eq!(HeaderName::Other.as_str(), "");
        let total: usize = HeaderName::ALL.iter().map(|n| n.as_str().len()).sum();
        assert_eq!(total, TEXT.len());
        assert!(HeaderName::ALL.iter().all(|n| is_token_str(n.as_str())));
    }
}
