//! Request methods (RFC 3261 §7.1 and extensions) and status codes (§7.2, §21).
use core::fmt;

/// A SIP request method. Methods are case-sensitive (RFC 3261 §7.1): `invite` is an
/// extension method, not INVITE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method<'a> {
    /// INVITE (RFC 3261)
    Invite,
    /// ACK (RFC 3261)
    Ack,
    /// BYE (RFC 3261)
    Bye,
    /// CANCEL (RFC 3261)
    Cancel,
    /// OPTIONS (RFC 3261)
    Options,
    /// REGISTER (RFC 3261)
    Register,
    /// PRACK (RFC 3262)
    Prack,
    /// UPDATE (RFC 3311)
    Update,
    /// INFO (RFC 6086)
    Info,
    /// MESSAGE (RFC 3428)
    Message,
    /// REFER (RFC 3515)
    Refer,
    /// NOTIFY (RFC 6665)
    Notify,
    /// SUBSCRIBE (RFC 6665)
    Subscribe,
    /// PUBLISH (RFC 3903)
    Publish,
    /// An extension method (a token).
    Other(&'a str),
}

/// The names of the standard methods, in the order of [`Method`]'s variants: one table
/// shared by [`Method::from_str_exact`] and [`Method::as_str`] (two `match`es on string
/// literals kept two copies of the names, and a `const` table would be emitted per use).
static NAMES: [&str; 14] = [
    "INVITE",
    "ACK",
    "BYE",
    "CANCEL",
    "OPTIONS",
    "REGISTER",
    "PRACK",
    "UPDATE",
    "INFO",
    "MESSAGE",
    "REFER",
    "NOTIFY",
    "SUBSCRIBE",
    "PUBLISH",
];

impl<'a> Method<'a> {
    /// The standard method at index `i` of [`NAMES`] (`i` < 14).
    fn known(i: usize) -> Self {
        match i {
            0 => Method::Invite,
            1 => Method::Ack,
            2 => Method::Bye,
            3 => Method::Cancel,
            4 => Method::Options,
            5 => Method::Register,
            6 => Method::Prack,
            7 => Method::Update,
            8 => Method::Info,
            9 => Method::Message,
            10 => Method::Refer,
            11 => Method::Notify,
            12 => Method::Subscribe,
            _ => Method::Publish,
        }
    }

    /// Recognises a method name (exact, case-sensitive). Does not check that `s` is a
    /// token; see [`Method::parse`].
    pub fn from_str_exact(s: &'a str) -> Self {
        match NAMES.iter().position(|n| *n == s) {
            Some(i) => Self::known(i),
            None => Method::Other(s),
        }
    }

    /// Parses a method token; `None` if `s` is empty or not a token.
    pub fn parse(s: &'a str) -> Option<Self> {
        crate::sip::scan::is_token_str(s).then(|| Self::from_str_exact(s))
    }

    /// The method name.
    pub fn as_str(&self) -> &'a str {
        let i = match self {
            Method::Invite => 0,
            Method::Ack => 1,
            Method::Bye => 2,
            Method::Cancel => 3,
            Method::Options => 4,
            Method::Register => 5,
            Method::Prack => 6,
            Method::Update => 7,
            Method::Info => 8,
            Method::Message => 9,
            Method::Refer => 10,
            Method::Notify => 11,
            Method::Subscribe => 12,
            Method::Publish => 13,
            Method::Other(s) => return s,
        };
        NAMES.get(i).copied().unwrap_or("")
    }
}

impl fmt::Display for Method<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A response status code, 100..=699 (RFC 3261 §7.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatusCode(u16);

macro_rules! codes {
    ($($name:ident = $n:literal, $reason:literal;)*) => {
        impl StatusCode {
            $( #[doc = concat!("`", stringify!($n), " ", $reason, "`")]
               pub const $name: StatusCode = StatusCode($n); )*

            /// The RFC's reason phrase for a known code, else a class default.
            pub const fn reason_phrase(self) -> &'static str {
                match self.0 {
                    $( $n => $reason, )*
                    100..=199 => "Trying",
                    200..=299 => "OK",
                    300..=399 => "Multiple Choices",
                    400..=499 => "Bad Request",
                    500..=599 => "Server Internal Error",
                    _ => "Global Failure",
                }
            }
        }
    };
}

codes! {
    TRYING = 100, "Trying";
    RINGING = 180, "Ringing";
    CALL_IS_BEING_FORWARDED = 181, "Call Is Being Forwarded";
    QUEUED = 182, "Queued";
    SESSION_PROGRESS = 183, "Session Progress";
    OK = 200, "OK";
    ACCEPTED = 202, "Accepted";
    MOVED_PERMANENTLY = 301, "Moved Permanently";
    MOVED_TEMPORARILY = 302, "Moved Temporarily";
    BAD_REQUEST = 400, "Bad Request";
    UNAUTHORIZED = 401, "Unauthorized";
    FORBIDDEN = 403, "Forbidden";
    NOT_FOUND = 404, "Not Found";
    METHOD_NOT_ALLOWED = 405, "Method Not Allowed";
    NOT_ACCEPTABLE = 406, "Not Acceptable";
    PROXY_AUTHENTICATION_REQUIRED = 407, "Proxy Authentication Required";
    REQUEST_TIMEOUT = 408, "Request Timeout";
    GONE = 410, "Gone";
    REQUEST_ENTITY_TOO_LARGE = 413, "Request Entity Too Large";
    REQUEST_URI_TOO_LONG = 414, "Request-URI Too Long";
    UNSUPPORTED_MEDIA_TYPE = 415, "Unsupported Media Type";
    UNSUPPORTED_URI_SCHEME = 416, "Unsupported URI Scheme";
    BAD_EXTENSION = 420, "Bad Extension";
    EXTENSION_REQUIRED = 421, "Extension Required";
    SESSION_INTERVAL_TOO_SMALL = 422, "Session Interval Too Small";
    INTERVAL_TOO_BRIEF = 423, "Interval Too Brief";
    TEMPORARILY_UNAVAILABLE = 480, "Temporarily Unavailable";
    CALL_OR_TRANSACTION_DOES_NOT_EXIST = 481, "Call/Transaction Does Not Exist";
    LOOP_DETECTED = 482, "Loop Detected";
    TOO_MANY_HOPS = 483, "Too Many Hops";
    ADDRESS_INCOMPLETE = 484, "Address Incomplete";
    AMBIGUOUS = 485, "Ambiguous";
    BUSY_HERE = 486, "Busy Here";
    REQUEST_TERMINATED = 487, "Request Terminated";
    NOT_ACCEPTABLE_HERE = 488, "Not Acceptable Here";
    BAD_EVENT = 489, "Bad Event";
    REQUEST_PENDING = 491, "Request Pending";
    UNDECIPHERABLE = 493, "Undecipherable";
    REQUEST_HEADER_FIELDS_TOO_LARGE = 494, "Request Header Fields Too Large";
    SERVER_INTERNAL_ERROR = 500, "Server Internal Error";
    NOT_IMPLEMENTED = 501, "Not Implemented";
    BAD_GATEWAY = 502, "Bad Gateway";
    SERVICE_UNAVAILABLE = 503, "Service Unavailable";
    SERVER_TIMEOUT = 504, "Server Time-out";
    VERSION_NOT_SUPPORTED = 505, "Version Not Supported";
    MESSAGE_TOO_LARGE = 513, "Message Too Large";
    BUSY_EVERYWHERE = 600, "Busy Everywhere";
    DECLINE = 603, "Decline";
    DOES_NOT_EXIST_ANYWHERE = 604, "Does Not Exist Anywhere";
    NOT_ACCEPTABLE_GLOBAL = 606, "Not Acceptable";
}

impl StatusCode {
    /// A status code, if `code` is in 100..=699.
    pub const fn new(code: u16) -> Option<Self> {
        if code >= 100 && code <= 699 {
            Some(StatusCode(code))
        } else {
            None
        }
    }
    /// The numeric code.
    pub const fn as_u16(self) -> u16 {
        self.0
    }
    /// 1xx.
    pub const fn is_provisional(self) -> bool {
        self.0 < 200
    }
    /// 2xx.
    pub const fn is_success(self) -> bool {
        self.0 >= 200 && self.0 < 300
    }
    /// ≥ 200.
    pub const fn is_final(self) -> bool {
        self.0 >= 200
    }
    /// The class digit (1..=6).
    pub const fn class(self) -> u8 {
        (self.0 / 100) as u8
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_standard_method_round_trips() {
        let all = [
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
            Method::Publish,
        ];
        for m in all {
            assert_eq!(Method::from_str_exact(m.as_str()), m);
            assert!(!matches!(m, Method::Other(_)));
        }
        assert_eq!(Method::Publish.as_str(), "PUBLISH");
        assert_eq!(Method::Other("FOO").as_str(), "FOO");
        assert_eq!(Method::from_str_exact("INVITEX"), Method::Other("INVITEX"));
        assert_eq!(Method::from_str_exact("INVIT"), Method::Other("INVIT"));
    }

    #[test]
    fn methods_are_case_sensitive() {
        assert_eq!(Method::parse("INVITE"), Some(Method::Invite));
        assert_eq!(Method::parse("invite"), Some(Method::Other("invite")));
        assert_eq!(
            Method::parse("RE%47IST%45R"),
            Some(Method::Other("RE%47IST%45R"))
        );
        assert_eq!(Method::parse("IN VITE"), None);
        assert_eq!(Method::parse(""), None);
    }

    #[test]
    fn status_codes() {
        assert_eq!(StatusCode::new(99), None);
        assert_eq!(StatusCode::new(700), None);
        let c = StatusCode::new(183).unwrap();
        assert!(c.is_provisional() && !c.is_final());
        assert_eq!(c.reason_phrase(), "Session Progress");
        assert_eq!(StatusCode::new(299).unwrap().reason_phrase(), "OK");
    }
}
