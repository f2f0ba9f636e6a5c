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

        impl HeaderName {
            /// The canonical long form (`"Via"`); `""` for [`HeaderName::Other`].
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( HeaderName::$var => $canon, )*
                    HeaderName::Other => "",
                }
            }

            /// The compact form (`'v'` for Via), if the header has one.
            pub const fn compact(self) -> Option<char> {
                match self {
                    $( $( HeaderName::$var => Some($compact), )? )*
                    _ => None,
                }
            }

            /// Recognises a header name (case-insensitive, long or compact form).
            pub fn parse(name: &str) -> HeaderName {
                Self::parse_bytes(name.as_bytes())
            }

            /// [`HeaderName::parse`] on bytes. A known name matches only its exact
            /// spelling (any letter case), so a match implies a valid token.
            pub(crate) fn parse_bytes(b: &[u8]) -> HeaderName {
                if b.len() == 1 {
                    let c = b[0].to_ascii_lowercase() as char;
                    $( $( if c == $compact { return HeaderName::$var; } )? )*
                    return HeaderName::Other;
                }
                lookup_long(b)
            }

            /// Every known name (for tests and tables).
            pub const ALL: &'static [HeaderName] = &[ $( HeaderName::$var, )* ];
        }
    };
}

header_names! {
    Accept = "Accept";
    AcceptContact = "Accept-Contact", 'a';
    AcceptEncoding = "Accept-Encoding";
    AcceptLanguage = "Accept-Language";
    AlertInfo = "Alert-Info";
    Allow = "Allow";
    AllowEvents = "Allow-Events", 'u';
    AuthenticationInfo = "Authentication-Info";
    Authorization = "Authorization";
    CallId = "Call-ID", 'i';
    CallInfo = "Call-Info";
    Contact = "Contact", 'm';
    ContentDisposition = "Content-Disposition";
    ContentEncoding = "Content-Encoding", 'e';
    ContentLanguage = "Content-Language";
    ContentLength = "Content-Length", 'l';
    ContentType = "Content-Type", 'c';
    CSeq = "CSeq";
    Date = "Date";
    Diversion = "Diversion";
    ErrorInfo = "Error-Info";
    Event = "Event", 'o';
    Expires = "Expires";
    From = "From", 'f';
    Identity = "Identity", 'y';
    IdentityInfo = "Identity-Info", 'n';
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
    ReferTo = "Refer-To", 'r';
    ReferredBy = "Referred-By", 'b';
    RejectContact = "Reject-Contact", 'j';
    Replaces = "Replaces";
    ReplyTo = "Reply-To";
    RequestDisposition = "Request-Disposition", 'd';
    Require = "Require";
    RetryAfter = "Retry-After";
    Route = "Route";
    RSeq = "RSeq";
    Server = "Server";
    SessionExpires = "Session-Expires", 'x';
    Subject = "Subject", 's';
    SubscriptionState = "Subscription-State";
    Supported = "Supported", 'k';
    Timestamp = "Timestamp";
    To = "To", 't';
    Unsupported = "Unsupported";
    UserAgent = "User-Agent";
    Via = "Via", 'v';
    Warning = "Warning";
    WwwAuthenticate = "WWW-Authenticate";
}

/// `name` equals `lower` (an all-lowercase name of letters and `-`) ignoring ASCII
/// case, exactly: letters are compared with bit 0x20 folded, every other byte as is (so
/// no other byte can alias a letter or `-`).
#[inline]
fn eq_lower(name: &[u8], lower: &[u8]) -> bool {
    if name.len() != lower.len() {
        return false;
    }
    let mut a = name.chunks_exact(8);
    let mut b = lower.chunks_exact(8);
    for (x, y) in a.by_ref().zip(b.by_ref()) {
        let mut w = [0u8; 8];
        let mut v = [0u8; 8];
        w.copy_from_slice(x);
        v.copy_from_slice(y);
        let y = u64::from_le_bytes(v);
        // 0x20 where `lower` has a letter (letters have bit 0x40 set, `-` does not).
        let fold = (y & 0x4040_4040_4040_4040) >> 1;
        if u64::from_le_bytes(w) | fold != y {
            return false;
        }
    }
    a.remainder()
        .iter()
        .zip(b.remainder())
        .all(|(x, y)| x | ((y & 0x40) >> 1) == *y)
}

/// Fast lookup of a long-form name: dispatch on length and first letter, then one
/// case-insensitive compare (generated from the table above).
fn lookup_long(b: &[u8]) -> HeaderName {
    let Some(&first) = b.first() else {
        return HeaderName::Other;
    };
    let cand: &[(HeaderName, &str)] = match (b.len(), first.to_ascii_lowercase()) {
        (2, b't') => &[(HeaderName::To, "to")],
        (3, b'v') => &[(HeaderName::Via, "via")],
        (4, b'c') => &[(HeaderName::CSeq, "cseq")],
        (4, b'd') => &[(HeaderName::Date, "date")],
        (4, b'f') => &[(HeaderName::From, "from")],
        (4, b'r') => &[(HeaderName::RAck, "rack"), (HeaderName::RSeq, "rseq")],
        (5, b'a') => &[(HeaderName::Allow, "allow")],
        (5, b'e') => &[(HeaderName::Event, "event")],
        (5, b'r') => &[(HeaderName::Route, "route")],
        (6, b'a') => &[(HeaderName::Accept, "accept")],
        (6, b'm') => &[(HeaderName::MinSe, "min-se")],
        (6, b'r') => &[(HeaderName::Reason, "reason")],
        (6, b's') => &[(HeaderName::Server, "server")],
        (7, b'c') => &[
            (HeaderName::CallId, "call-id"),
            (HeaderName::Contact, "contact"),
        ],
        (7, b'e') => &[(HeaderName::Expires, "expires")],
        (7, b'r') => &[(HeaderName::Require, "require")],
        (7, b's') => &[(HeaderName::Subject, "subject")],
        (7, b'w') => &[(HeaderName::Warning, "warning")],
        (8, b'i') => &[(HeaderName::Identity, "identity")],
        (8, b'p') => &[(HeaderName::Priority, "priority")],
        (8, b'r') => &[
            (HeaderName::ReferTo, "refer-to"),
            (HeaderName::Replaces, "replaces"),
            (HeaderName::ReplyTo, "reply-to"),
        ],
        (9, b'c') => &[(HeaderName::CallInfo, "call-info")],
        (9, b'd') => &[(HeaderName::Diversion, "diversion")],
        (9, b's') => &[(HeaderName::Supported, "supported")],
        (9, b't') => &[(HeaderName::Timestamp, "timestamp")],
        (10, b'a') => &[(HeaderName::AlertInfo, "alert-info")],
        (10, b'e') => &[(HeaderName::ErrorInfo, "error-info")],
        (10, b'u') => &[(HeaderName::UserAgent, "user-agent")],
        (11, b'i') => &[(HeaderName::InReplyTo, "in-reply-to")],
        (11, b'm') => &[(HeaderName::MinExpires, "min-expires")],
        (11, b'r') => &[
            (HeaderName::ReferredBy, "referred-by"),
            (HeaderName::RetryAfter, "retry-after"),
        ],
        (11, b'u') => &[(HeaderName::Unsupported, "unsupported")],
        (12, b'a') => &[(HeaderName::AllowEvents, "allow-events")],
        (12, b'c') => &[(HeaderName::ContentType, "content-type")],
        (12, b'm') => &[
            (HeaderName::MaxForwards, "max-forwards"),
            (HeaderName::MimeVersion, "mime-version"),
        ],
        (12, b'o') => &[(HeaderName::Organization, "organization")],
        (12, b'r') => &[(HeaderName::RecordRoute, "record-route")],
        (13, b'a') => &[(HeaderName::Authorization, "authorization")],
        (13, b'i') => &[(HeaderName::IdentityInfo, "identity-info")],
        (13, b'p') => &[(HeaderName::ProxyRequire, "proxy-require")],
        (14, b'a') => &[(HeaderName::AcceptContact, "accept-contact")],
        (14, b'c') => &[(HeaderName::ContentLength, "content-length")],
        (14, b'r') => &[(HeaderName::RejectContact, "reject-contact")],
        (15, b'a') => &[
            (HeaderName::AcceptEncoding, "accept-encoding"),
            (HeaderName::AcceptLanguage, "accept-language"),
        ],
        (15, b's') => &[(HeaderName::SessionExpires, "session-expires")],
        (16, b'c') => &[
            (HeaderName::ContentEncoding, "content-encoding"),
            (HeaderName::ContentLanguage, "content-language"),
        ],
        (16, b'w') => &[(HeaderName::WwwAuthenticate, "www-authenticate")],
        (18, b'p') => &[(HeaderName::ProxyAuthenticate, "proxy-authenticate")],
        (18, b's') => &[(HeaderName::SubscriptionState, "subscription-state")],
        (19, b'a') => &[(HeaderName::AuthenticationInfo, "authentication-info")],
        (19, b'c') => &[(HeaderName::ContentDisposition, "content-disposition")],
        (19, b'p') => &[
            (HeaderName::PAssertedIdentity, "p-asserted-identity"),
            (HeaderName::ProxyAuthorization, "proxy-authorization"),
        ],
        (19, b'r') => &[(HeaderName::RequestDisposition, "request-disposition")],
        (20, b'p') => &[(HeaderName::PPreferredIdentity, "p-preferred-identity")],
        _ => &[],
    };
    for &(n, c) in cand {
        if eq_lower(b, c.as_bytes()) {
            return n;
        }
    }
    HeaderName::Other
}

impl HeaderName {
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
}
