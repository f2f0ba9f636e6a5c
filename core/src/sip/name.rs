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
                let b = name.as_bytes();
                if b.len() == 1 {
                    let c = b[0].to_ascii_lowercase() as char;
                    $( $( if c == $compact { return HeaderName::$var; } )? )*
                    return HeaderName::Other;
                }
                $( if b.len() == $canon.len() && name.eq_ignore_ascii_case($canon) {
                    return HeaderName::$var;
                } )*
                HeaderName::Other
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
    }

    use alloc::string::ToString;
}
