//! The `o=` line the anchored B2BUA writes on each leg (RFC 3264 §8: in every new SDP of a
//! session "the version in the origin field MUST increment by one from the previous SDP",
//! the rest of the line unchanged). Each leg is its own SDP session with its own peer, so
//! each counts on its own: a hold relayed from the WebRTC leg to the trunk leg (our re-offer
//! on B, then our answer on A) is version 2 on both, not 2 on B and 3 on A. Found by the
//! JsSIP test (tests/thirdparty/4-jssip-trunk.test.mjs): the browser saw versions 1, 3, 5.

mod media_util;

use std::time::Duration;

use rvoip_core::sdp::{Direction, SessionDescription};
use rvoip_gateway::media::{LegId, MediaEngine};
use rvoip_gateway::sip::media::MediaBridge;

const FP: &str = "sha-256 8F:3B:0A:F4:2B:67:18:8A:A4:25:9C:91:3E:DF:4F:6C:1B:0D:B1:5F:4C:20:7A:3D:6E:2E:B4:9C:5A:11:7E:03";

fn engine(port_min: u16) -> MediaEngine {
    media_util::engine(port_min, port_min + 19, 1).with_dtls_timeout(Duration::from_secs(4))
}

/// A browser's offer (JsSIP's hold sends the same with `a=sendonly`), `o=` version `v`.
fn browser_offer(dir: &str, v: u32) -> Vec<u8> {
    [
        "v=0",
        &format!("o=- 4611731400430051336 {v} IN IP4 127.0.0.1"),
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 0 110",
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        "a=ice-ufrag:abcd",
        "a=ice-pwd:0123456789abcdefghijklmn",
        &format!("a=fingerprint:{FP}"),
        "a=setup:actpass",
        "a=mid:0",
        &format!("a={dir}"),
        "a=rtcp-mux",
        "a=rtpmap:111 opus/48000/2",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:110 telephone-event/48000",
        "a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
        "",
    ]
    .join("\r\n")
    .into_bytes()
}

/// A trunk's answer, direction `dir`, `o=` version `v`.
fn trunk_answer(dir: &str, v: u32) -> Vec<u8> {
    format!(
        "v=0\r\no=carrier 77 {v} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na={dir}\r\n"
    )
    .into_bytes()
}

/// `(session id, version)` of an SDP body's `o=` line.
fn origin(sdp: &[u8]) -> (String, u64) {
    let s = SessionDescription::parse_bytes(sdp).expect("the gateway writes valid SDP");
    let o = s.origin().expect("o= line").expect("valid o= line");
    (o.session_id.to_string(), o.session_version)
}

#[tokio::test]
async fn each_leg_counts_its_own_sdp_versions_through_a_relayed_hold() {
    let mut m = MediaBridge::new(
        Some(engine(47_300)),
        "127.0.0.1".parse().unwrap(),
        true,
        false,
    );
    // The call: the browser's offer on A, ours on B, the trunk's answer, ours on A.
    let b1 = m
        .offer_for_b(&browser_offer("sendrecv", 2))
        .expect("offer on B");
    let a1 = m.answer_for_a(&trunk_answer("sendrecv", 1));
    let (a_id, a_v1) = origin(&a1);
    let (b_id, b_v1) = origin(&b1);
    assert_eq!((a_v1, b_v1), (1, 1));

    // The browser holds: re-offer on B (relayed), the trunk answers, we answer on A.
    let hold = browser_offer("sendonly", 3);
    assert!(m.changes_direction(LegId::A, &hold));
    let b2 = m.reoffer(LegId::B, Direction::SendOnly).expect("re-offer");
    assert_eq!(
        m.reoffer_answered(LegId::B, &trunk_answer("recvonly", 2)),
        Ok(Direction::SendOnly)
    );
    let a2 = m.answer_reoffer(LegId::A, &hold).expect("answer on A");
    assert_eq!(
        origin(&b2),
        (b_id.clone(), 2),
        "B leg: one more than its last SDP"
    );
    assert_eq!(
        origin(&a2),
        (a_id.clone(), 2),
        "A leg: one more than its last SDP"
    );

    // Unhold, the same way round.
    let unhold = browser_offer("sendrecv", 4);
    let b3 = m.reoffer(LegId::B, Direction::SendRecv).expect("re-offer");
    m.reoffer_answered(LegId::B, &trunk_answer("sendrecv", 3))
        .expect("answer");
    let a3 = m.answer_reoffer(LegId::A, &unhold).expect("answer on A");
    assert_eq!(origin(&b3), (b_id.clone(), 3));
    assert_eq!(origin(&a3), (a_id.clone(), 3));

    // A refresh from the trunk (same direction) is answered on B alone: A's count stays.
    let refresh = trunk_answer("sendrecv", 4);
    assert!(!m.changes_direction(LegId::B, &refresh));
    let b4 = m.answer_reoffer(LegId::B, &refresh).expect("answer on B");
    assert_eq!(origin(&b4), (b_id, 4));
    let a4 = m
        .answer_reoffer(LegId::A, &browser_offer("sendrecv", 5))
        .expect("answer on A");
    assert_eq!(origin(&a4), (a_id, 4));
    if let Some(c) = m.take_call() {
        c.hangup().await;
    }
}
