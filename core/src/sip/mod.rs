//! SIP (RFC 3261 and extensions): the message layer, URIs, typed headers, framing and
//! request validation; digest authentication in [`auth`].
//!
//! | module | what | RFCs |
//! |---|---|---|
//! | `message` | zero-copy tokenizer, [`Message`]/[`Request`]/[`Response`] views, [`Headers`] | 3261 §7, §18.3, 4475 |
//! | `header` | typed values: [`Via`], [`NameAddr`], [`CSeq`], [`MediaType`], … | 3261 §20, 3262, 3515, 3891, 4028, 6665 |
//! | `uri` | [`Uri`] (sip, sips, tel, opaque), [`uri_eq`] | 3261 §19.1, 3966 |
//! | `owned` | [`RequestBuf`]/[`ResponseBuf`]: build, modify, serialize | 3261 §8.1.1, §8.2.6 |
//! | `framing` | [`StreamFramer`], [`parse_datagram`], CRLF keep-alives | 3261 §18.3, 5626 §4.4.1, 7118 |
//! | [`validate`] | [`validate::validate`]: the response a UAS owes a bad request | 3261 §8.2, §16.3, 4475 |
//! | [`auth`] | digest authentication | 3261 §22, 7616, 8760 |
//! | [`transaction`] | the four §17 transaction machines, timers A–M, matching keys | 3261 §17, 6026 |
//! | [`dialog`] | dialog state, route sets, CSeq rules, in-dialog requests | 3261 §12 |
//! | [`ua`] | the sans-IO user agent: calls, registration, MESSAGE/INFO/REFER | 3261, 3262, 3311, 3428, 3515, 3891, 4028, 5626, 6086 |
//!
//! # Parse and read typed headers
//!
//! ```
//! use rvoip_core::sip::{Message, Method, HeaderName};
//! let bytes = b"INVITE sip:bob@example.com SIP/2.0\r\n\
//! Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7\r\n\
//! Max-Forwards: 70\r\n\
//! To: Bob <sip:bob@example.com>\r\n\
//! From: \"Alice\" <sip:alice@example.com>;tag=1928301774\r\n\
//! Call-ID: a84b4c76e66710\r\n\
//! CSeq: 1 INVITE\r\n\
//! X-Custom: kept raw\r\n\
//! Content-Length: 0\r\n\r\n";
//! let msg = Message::parse(bytes)?; // one datagram / WebSocket message
//! let req = msg.as_request().unwrap();
//! assert_eq!(req.method(), Method::Invite);
//! assert_eq!(req.via_top()?.branch(), Some("z9hG4bKnashds7"));
//! assert_eq!(req.cseq()?.seq, 1);
//! assert_eq!(req.from()?.tag(), Some("1928301774"));
//! assert_eq!(req.to()?.tag(), None);
//! assert_eq!(req.call_id()?, "a84b4c76e66710");
//! assert_eq!(req.headers().max_forwards()?, 70);
//! assert_eq!(req.headers_named("x-custom").next(), Some("kept raw"));
//! assert_eq!(req.headers().get(HeaderName::To), Some("Bob <sip:bob@example.com>"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//! Typed accessors decode on every call (nothing is cached) and return
//! `Result<_, HeaderError>` (`Missing` / `Invalid`); list headers (Via, Contact, Route,
//! Record-Route, Allow, Supported, Require…) return iterators over their comma-separated
//! elements across all lines. Unknown headers are kept raw and re-emitted unchanged.
//!
//! # Build, modify, serialize
//!
//! ```
//! use rvoip_core::sip::{HeaderName, Method, RequestBuf, ResponseBuf, StatusCode};
//! let mut req = RequestBuf::new(Method::Options, "sip:bob@example.com")
//!     .with(HeaderName::Via, "SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK776")
//!     .with(HeaderName::MaxForwards, "70")
//!     .with(HeaderName::To, "<sip:bob@example.com>")
//!     .with(HeaderName::From, "<sip:alice@example.com>;tag=88sja8x")
//!     .with(HeaderName::CallId, "987asjd97y7atg")
//!     .with(HeaderName::CSeq, "1 OPTIONS");
//! req.set_body(None, Vec::new()); // adds Content-Length: 0
//! req.push_front(HeaderName::Via, "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1");
//! let wire: Vec<u8> = req.to_bytes();
//!
//! // A UAS answers (Via/From/To/Call-ID/CSeq copied per RFC 3261 §8.2.6):
//! let mut resp = ResponseBuf::for_request(&req, StatusCode::OK, "OK");
//! resp.set_to_tag("a6c85cf");
//! assert_eq!(resp.to()?.tag(), Some("a6c85cf"));
//! assert_eq!(resp.headers().vias().count(), 2);
//! # let _ = wire;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//! A parsed view becomes owned with [`Request::to_buf`]; `to_buf().to_bytes()` gives the
//! original bytes back unchanged.
//!
//! # Frame a stream
//!
//! ```
//! use rvoip_core::sip::{Frame, Message, Framing, Limits, StreamFramer};
//! let mut framer = StreamFramer::new(Limits::default());
//! framer.push(b"\r\n\r\nOPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n")?;
//! while let Some(frame) = framer.next_frame()? {
//!     match frame {
//!         Frame::Ping => { /* send b"\r\n" */ }
//!         Frame::Pong => {}
//!         Frame::Message(bytes) => {
//!             let msg = Message::parse_with(&bytes, &Limits::default(), Framing::Stream)?;
//!             # let _ = msg;
//!         }
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//! UDP datagrams and WebSocket messages (one SIP message each, RFC 7118 §5) go through
//! [`parse_datagram`] instead.
//!
//! # Errors and bad input
//!
//! [`ParseError`] means there is no message to answer: drop it (or close the stream, see
//! [`ParseError::action`]). Anything answerable parses, and
//! [`validate::validate`] returns the [`validate::Rejection`] (status, reason, extra
//! headers) a UAS must send, as RFC 3261 §8.2 and RFC 4475 ask;
//! [`validate::Rejection::to_response`] builds it. A received response is checked with
//! [`validate::validate_response`] (an `Err` means discard it). No input panics.
//!
//! ```
//! use rvoip_core::sip::{Message, StatusCode};
//! use rvoip_core::sip::validate::{validate, ValidateConfig};
//! let bytes = b"OPTIONS sip:bob@example.com SIP/2.0\r\n\
//! Via: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n\
//! Max-Forwards: 70\r\nTo: <sip:bob@example.com>\r\nFrom: <sip:a@example.com>;tag=1\r\n\
//! Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nRequire: foo\r\nContent-Length: 0\r\n\r\n";
//! let msg = Message::parse(bytes)?;
//! let req = msg.as_request().unwrap();
//! let rejection = validate(req, &ValidateConfig::default()).unwrap_err();
//! assert_eq!(rejection.status, StatusCode::BAD_EXTENSION); // 420 with Unsupported: foo
//! let mut resp = rejection.to_response(req);
//! resp.set_to_tag("x7");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Notes for the transaction and dialog layers
//!
//! - Transaction key (RFC 3261 §17.1.3/§17.2.3): `via_top()?.branch()`,
//!   `via_top()?.host_str`/`port`, `cseq()?.method` (CANCEL/ACK matching), and
//!   [`Via::is_rfc3261_branch`] for the RFC 2543 fallback.
//! - Dialog id (§12): `call_id()?`, `from()?.tag()`, `to()?.tag()`; remote target from
//!   `headers().contacts()`; route set from `headers().record_routes()` (the URIs are
//!   parsed with [`NameAddr::uri`]; compare URIs with [`uri_eq`]).
//! - Owned messages ([`RequestBuf`]/[`ResponseBuf`]) are what to store for retransmission;
//!   `to_bytes()` is a copy of the stored text. Typed values implement `Display` in a
//!   normalized form, handy to write modified headers back with `set`/`push`.
//! - Header values given to the builders are taken as is (CR/LF replaced by spaces, so no
//!   header injection); build them with the typed values' `Display` or `format!`.
pub mod auth;
mod framing;
mod header;
mod headers;
mod ip;
mod message;
mod method;
mod name;
mod owned;
pub(crate) mod scan;
pub(crate) mod text;
mod uri;
pub mod validate;

pub use framing::{Datagram, Frame, StreamFramer, parse_datagram};
pub use header::{
    AuthValue, CSeq, HeaderError, MediaType, NameAddr, Params, RAck, Replaces, SessionExpires,
    TokenParams, Via, lenient_param,
};
pub use message::{
    Defects, Framing, HeaderField, Headers, Limits, Message, ParseAction, ParseError, Request,
    Response,
};
pub use method::{Method, StatusCode};
pub use name::HeaderName;
pub use owned::{BuildError, HasHeaders, MessageBuf, RequestBuf, ResponseBuf};
pub use scan::parse_u64 as parse_digits;
pub use uri::{
    AbsoluteUri, Host, SipUri, TelUri, Uri, UriError, UriParams, sip_uri_eq, unescape, uri_eq,
};
pub mod dialog;
pub mod transaction;
pub mod ua;
