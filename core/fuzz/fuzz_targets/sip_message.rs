//! Fuzz the SIP message layer: datagram parse, every typed accessor on every header,
//! validation, owned round trip and edits, and the stream framer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rvoip_core::sip::validate::{validate, validate_response, ValidateConfig};
use rvoip_core::sip::{
    parse_datagram, Datagram, Frame, Framing, HeaderName, Headers, Limits, Message, StatusCode,
    StreamFramer, ResponseBuf,
};

fn touch(h: Headers<'_>) {
    for f in h.iter() {
        let _ = (f.name, f.raw_name, f.value);
    }
    for v in h.vias().flatten() {
        let _ = (v.branch(), v.received(), v.rport(), v.ttl(), v.maddr());
    }
    for n in h.contacts().chain(h.routes()).chain(h.record_routes()).flatten() {
        let _ = (n.display_name(), n.tag(), n.expires(), n.q(), n.uri());
    }
    for n in h.p_asserted_identities().chain(h.diversions()).flatten() {
        let _ = n.uri();
    }
    let _ = (h.from().map(|n| n.uri()), h.to().map(|n| n.display_name()));
    let _ = (h.call_id(), h.cseq(), h.max_forwards(), h.content_length(), h.content_type());
    let _ = (h.expires(), h.min_expires(), h.session_expires(), h.min_se(), h.rseq(), h.rack());
    let _ = (h.refer_to(), h.referred_by(), h.replaces().map(|r| (r.to_tag(), r.early_only())));
    let _ = (h.event(), h.subscription_state(), h.user_agent(), h.server(), h.is_contact_star());
    let _ = h.reasons().count() + h.allow().count() + h.supported().count();
    let _ = h.require().count() + h.proxy_require().count() + h.unsupported().count();
    for name in [
        HeaderName::WwwAuthenticate,
        HeaderName::Authorization,
        HeaderName::ProxyAuthenticate,
        HeaderName::ProxyAuthorization,
    ] {
        let _ = h.auth(name).count();
    }
    let _ = h.named("x-foo").count() + h.elements(HeaderName::Accept).count();
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(Datagram::Message(m)) = parse_datagram(data, &limits) {
        touch(m.headers());
        match &m {
            Message::Request(r) => {
                let _ = r.parsed_uri();
                let cfg = ValidateConfig::default();
                if let Err(rej) = validate(r, &cfg) {
                    let resp = rej.to_response(r);
                    let bytes = resp.to_bytes();
                    assert!(Message::parse(&bytes).is_ok(), "our 4xx must parse");
                }
                let _ = validate(r, &ValidateConfig { forwarding: true, rfc2543_compat: false, ..cfg });
                let mut buf = r.to_buf();
                assert_eq!(buf.to_bytes(), r.raw(), "byte-exact round trip");
                buf.push_front(HeaderName::Via, "SIP/2.0/UDP fuzz.invalid;branch=z9hG4bKf");
                buf.set_to_tag("fz");
                buf.set_body(Some("application/sdp"), &b"v=0\r\n"[..]);
                let bytes = buf.to_bytes();
                let again = Message::parse(&bytes);
                assert!(again.is_ok(), "edited message must parse: {:?}", again.err());
                let again = again.unwrap();
                assert_eq!(again.via_top().unwrap().branch(), Some("z9hG4bKf"));
                assert_eq!(again.body(), b"v=0\r\n");
                let _ = ResponseBuf::for_request(r, StatusCode::OK, "OK").to_bytes();
            }
            Message::Response(r) => {
                let _ = validate_response(r);
                assert_eq!(r.to_buf().to_bytes(), r.raw());
            }
        }
    }
    let _ = Message::parse_with(data, &limits, Framing::Stream);

    // Stream: feed in two uneven pieces.
    let mut f = StreamFramer::new(limits);
    let cut = data.first().map_or(0, |&b| b as usize % (data.len() + 1));
    for piece in [&data[..cut], &data[cut..]] {
        if f.push(piece).is_err() {
            break;
        }
        while let Ok(Some(frame)) = f.next_frame() {
            if let Frame::Message(m) = frame {
                if let Ok(msg) = Message::parse_with(&m, &limits, Framing::Stream) {
                    touch(msg.headers());
                }
            }
        }
    }
});
