//! Checks against real browsers, driven by `scripts/capture-fixtures/validate.mjs`
//! (which runs the ignored test below), and the fixtures it produced.

use rvoip_core::sdp::negotiate::{
    CodecPolicy, LocalMedia, Transport, WebRtcTransport, answer, offer, process_answer,
};
use rvoip_core::sdp::{Direction, Fingerprint, HashFunction, SessionDescription, Setup};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sdp");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{DIR}/{name}")).unwrap()
}

/// The gateway side used for the browser checks (fixed, so the output is reproducible).
fn gateway() -> LocalMedia<'static> {
    let digest: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
    LocalMedia {
        session_id: 5_000_000_001,
        session_version: 1,
        address: "127.0.0.1".parse().unwrap(),
        port: 40000,
        direction: Direction::SendRecv,
        ssrc: Some((0x0bad_cafe, "rvoip")),
        msid: None,
        transport: Transport::WebRtc(WebRtcTransport {
            ice_ufrag: "rvUF",
            ice_pwd: "rvoippasswordrvoippassword",
            fingerprint: Fingerprint::new(HashFunction::Sha256, &digest).unwrap(),
            ice_lite: true,
            answer_setup: Setup::Passive,
            candidates: &[],
        }),
    }
}

/// Reads `$SDP_IO_DIR/browser_offer.sdp`, writes `rvoip_answer.sdp` (our answer to it) and
/// `rvoip_offer.sdp` (our WebRTC offer) next to it.
#[test]
#[ignore = "driven by scripts/capture-fixtures/validate.mjs"]
fn answer_browser_offer_from_env() {
    let dir = std::env::var("SDP_IO_DIR").expect("SDP_IO_DIR");
    let text = std::fs::read_to_string(format!("{dir}/browser_offer.sdp")).unwrap();
    let o = SessionDescription::parse(&text).unwrap();
    let a = answer(&o, &CodecPolicy::webrtc(), &gateway()).unwrap();
    std::fs::write(format!("{dir}/rvoip_answer.sdp"), a.sdp.to_string()).unwrap();
    let ours = offer(&CodecPolicy::webrtc(), &gateway());
    std::fs::write(format!("{dir}/rvoip_offer.sdp"), ours.to_string()).unwrap();
}

#[test]
fn our_offer_fixture_is_what_offer_builds() {
    let ours = offer(&CodecPolicy::webrtc(), &gateway()).to_string();
    assert_eq!(ours, fixture("rvoip_webrtc_offer.sdp"));
}

#[test]
fn browsers_answers_to_our_offer_are_processed() {
    let text = fixture("rvoip_webrtc_offer.sdp");
    let ours = SessionDescription::parse(&text).unwrap();
    for browser in ["chromium", "firefox"] {
        let ans_text = fixture(&format!("{browser}_answer_to_rvoip_offer.sdp"));
        let ans = SessionDescription::parse(&ans_text).unwrap();
        assert_eq!(ans.to_string(), ans_text);
        let n = process_answer(&ours, &ans).unwrap();
        assert_eq!(
            (n.codec.payload_type, n.codec.name.as_str()),
            (111, "opus"),
            "{browser}"
        );
        assert_eq!(n.codec.clock_rate, 48000);
        assert!(n.rtcp_mux, "{browser}");
        assert_eq!(n.direction, Direction::SendRecv);
        // We are ICE-lite and offered actpass: the browser must take the DTLS client role.
        assert_eq!(
            n.dtls.as_ref().unwrap().local_setup,
            Setup::Passive,
            "{browser}"
        );
        let ice = n.remote_ice.as_ref().unwrap();
        assert!(ice.ufrag.len() >= 4 && ice.pwd.len() >= 22);
        assert!(ice.candidates().count() >= 1, "{browser}");
        assert!(n.remote_rtp.is_some());
        // We offered telephone-event at 48000 (PT 110) and 8000 (PT 126).
        let te = n.telephone_event.unwrap();
        let expected = if browser == "firefox" {
            (126, 8000)
        } else {
            (110, 48000)
        };
        assert_eq!((te.payload_type, te.clock_rate), expected, "{browser}");
    }
}
