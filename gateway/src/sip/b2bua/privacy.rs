//! Caller privacy (RFC 3323, RFC 3325 §9.3): a caller who asks to withhold its identity —
//! `Privacy: id` / `user` / `header`, or an anonymous From (`anonymous@anonymous.invalid`,
//! RFC 3323 §4.1.1.3), as JsSIP's `call(target, { anonymous: true })` sends — is presented
//! to a registered callee as `"Anonymous" <sip:anonymous@anonymous.invalid>`, and a trunk
//! gets `Privacy: id` (with the P-Asserted-Identity its caller-id rule adds), so the carrier
//! withholds the number it needs for routing and billing. The gateway itself keeps the
//! authenticated caller (call record, console). Before, the B2BUA put the authenticated user
//! in the B leg's From regardless, disclosing whom the caller had asked to hide.
//!
//! Input: the A leg's INVITE. Output: whether privacy applies, and the anonymous identity.

use rvoip_core::sip::ua::SipMsg;
use rvoip_core::sip::ua::msg::addr_uri;

use crate::sip::registrar::user_of;

/// The From of a B leg towards a registered user when the caller asked for privacy.
pub(super) const ANONYMOUS_AOR: &str = "sip:anonymous@anonymous.invalid";
/// The display name that goes with it.
pub(super) const ANONYMOUS_NAME: &str = "Anonymous";

/// Whether the INVITE `req` asks to withhold the caller's identity.
pub(super) fn requested(req: &SipMsg) -> bool {
    let by_header = req.headers_named("Privacy").any(|v| {
        v.split([';', ',']).map(str::trim).any(|t| {
            ["id", "user", "header"]
                .iter()
                .any(|p| t.eq_ignore_ascii_case(p))
        })
    });
    let by_from = req.header("From").is_some_and(|f| {
        let uri = addr_uri(f);
        let host = uri.split_once('@').map_or("", |(_, h)| h);
        let host = host.split([';', ':', '?']).next().unwrap_or("");
        host.eq_ignore_ascii_case("anonymous.invalid")
            || user_of(f).is_some_and(|u| u.eq_ignore_ascii_case("anonymous"))
    });
    by_header || by_from
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite(extra: &str, from: &str) -> SipMsg {
        let text = format!(
            "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/WSS x.invalid;branch=z9hG4bK1\r\n\
             From: {from};tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c1\r\n\
             CSeq: 1 INVITE\r\n{extra}Content-Length: 0\r\n\r\n"
        );
        SipMsg::parse(text.as_bytes()).expect("valid INVITE")
    }

    #[test]
    fn privacy_is_asked_by_header_or_by_an_anonymous_from() {
        let alice = "\"Alice\" <sip:alice@example.com>";
        assert!(!requested(&invite("", alice)));
        assert!(!requested(&invite("Privacy: none\r\n", alice)));
        assert!(requested(&invite("Privacy: id\r\n", alice)));
        assert!(requested(&invite("Privacy: critical; ID\r\n", alice)));
        assert!(requested(&invite("Privacy: user\r\n", alice)));
        // JsSIP's `anonymous: true`.
        let jssip = "\"Anonymous\" <sip:anonymous@anonymous.invalid>";
        assert!(requested(&invite("Privacy: id\r\n", jssip)));
        assert!(requested(&invite("", jssip)));
        assert!(requested(&invite("", "<sip:anonymous@example.com>")));
        // A user whose name merely contains the word is not anonymous.
        assert!(!requested(&invite("", "<sip:anonymousfan@example.com>")));
        assert!(!requested(&invite(
            "",
            "<sip:bob@anonymous.invalid.example.com>"
        )));
    }
}
