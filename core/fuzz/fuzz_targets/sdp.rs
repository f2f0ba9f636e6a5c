//! Fuzz SDP: parse arbitrary bytes; what parses must emit the input byte for byte and
//! re-parse to an equal value; decode every typed value; run offer/answer on it as a
//! WebRTC leg and as a trunk leg, and process it as an answer to our own offers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rvoip_core::sdp::negotiate::{
    CodecPolicy, LocalMedia, RtpTransport, Transport, WebRtcTransport, answer, offer,
    process_answer,
};
use rvoip_core::sdp::{Direction, Fingerprint, HashFunction, SessionDescription, Setup};

fn locals() -> [LocalMedia<'static>; 2] {
    let webrtc = LocalMedia {
        session_id: 1,
        session_version: 1,
        address: "192.0.2.1".parse().unwrap(),
        port: 40000,
        direction: Direction::SendRecv,
        ssrc: Some((1, "c")),
        msid: Some(("s", "t")),
        transport: Transport::WebRtc(WebRtcTransport {
            ice_ufrag: "abcd",
            ice_pwd: "abcdefghijklmnopqrstuv",
            fingerprint: Fingerprint::new(HashFunction::Sha256, &[7; 32]).unwrap(),
            ice_lite: true,
            answer_setup: Setup::Passive,
            candidates: &[],
        }),
    };
    let trunk = LocalMedia {
        session_id: 2,
        session_version: 1,
        address: "2001:db8::1".parse().unwrap(),
        port: 20000,
        direction: Direction::SendOnly,
        ssrc: None,
        msid: Some(("s", "t")),
        transport: Transport::Rtp(RtpTransport {
            rtcp_port: Some(20001),
            rtcp_mux: true,
            sdes_key: Some(&[5; 30]),
        }),
    };
    [webrtc, trunk]
}

fuzz_target!(|data: &[u8]| {
    let Ok(sdp) = SessionDescription::parse_bytes(data) else {
        return;
    };
    let text = sdp.to_string();
    assert_eq!(text.as_bytes(), data, "emit(parse(x)) == x");
    let again = SessionDescription::parse(&text).expect("re-parse");
    assert_eq!(again, sdp);
    assert_eq!(sdp.clone().into_owned(), sdp);

    let _ = sdp.origin();
    let _ = sdp.connection();
    let _ = sdp.bandwidths().count();
    let _ = sdp.timings().count();
    let _ = sdp.groups().count();
    for a in sdp.attributes() {
        if let Ok(t) = a.typed() {
            let s = t.to_string();
            let raw = rvoip_core::sdp::RawAttribute::split(&s);
            assert_eq!(raw.typed().ok(), Some(t), "typed attribute re-encodes");
        }
    }
    for m in sdp.media() {
        let _ = m.media_line().payload_types().count();
        let _ = sdp.connection_for(m);
        let _ = sdp.direction(m);
        let _ = sdp.fingerprints(m).count();
        let _ = sdp.setup(m);
        let _ = sdp.ice_credentials(m);
        for a in m.attributes() {
            if let Ok(t) = a.typed() {
                let s = t.to_string();
                let raw = rvoip_core::sdp::RawAttribute::split(&s);
                assert_eq!(raw.typed().ok(), Some(t), "typed attribute re-encodes");
            }
        }
    }

    for policy in [CodecPolicy::webrtc(), CodecPolicy::trunk()] {
        for local in locals() {
            if let Ok(a) = answer(&sdp, &policy, &local) {
                let out = a.sdp.to_string();
                let parsed = SessionDescription::parse(&out).expect("our answer parses");
                assert_eq!(parsed.media().len(), sdp.media().len());
                // The offerer can process our answer.
                let _ = process_answer(&sdp, &parsed);
            }
            let ours = offer(&policy, &local);
            let _ = process_answer(&ours, &sdp);
        }
    }
});
