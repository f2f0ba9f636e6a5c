//! The gateway signals its stream on WebRTC legs: `a=msid:<stream> <track>` (RFC 8830, JSEP
//! RFC 8829 §5.2.1/§5.3.1) and `a=ssrc:<ssrc> cname:<cname>` (RFC 5576 §4.1) with the SSRC
//! the media session really sends on the leg. Without them a browser takes our stream as
//! "unsignaled" (a default stream id; Chromium drops the inbound-rtp stats entry across a
//! renegotiation). They stay the same for the whole call (re-offers on hold repeat them);
//! trunk legs (plain RTP/AVP) carry neither.

mod media_util;

use std::time::Duration;

use media_util::wait_for;

use rvoip_core::sdp::negotiate::process_answer;
use rvoip_core::sdp::{Attribute, Direction, SessionDescription};
use rvoip_gateway::media::testclient::{ClientOffer, RtpPeer, WebRtcClient, gateway_leg};
use rvoip_gateway::media::{Codec, LegId, MediaEngine, MediaFormat};
use rvoip_gateway::sip::media::MediaBridge;

fn engine(port_min: u16) -> MediaEngine {
    media_util::engine(port_min, port_min + 19, 1).with_dtls_timeout(Duration::from_secs(4))
}

/// A browser's offer for the test client `c`, direction `dir`, `o=` version `v`.
fn browser_offer(c: &ClientOffer, dir: &str, v: u32) -> String {
    format!(
        "v=0\r\no=- 4611731400430051336 {v} IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
a=group:BUNDLE 0\r\na=msid-semantic: WMS\r\n\
m=audio {port} UDP/TLS/RTP/SAVPF 111 0 126\r\nc=IN IP4 127.0.0.1\r\n\
a=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\na=fingerprint:sha-256 {fp}\r\n\
a=setup:actpass\r\na=mid:0\r\na={dir}\r\na=rtcp-mux\r\n\
a=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:126 telephone-event/8000\r\n\
a=candidate:1 1 udp 2130706431 127.0.0.1 {port} typ host\r\n",
        port = c.addr.port(),
        ufrag = c.ice.ufrag,
        pwd = c.ice.pwd,
        fp = c.fingerprint,
    )
}

/// A trunk's answer from `port` on 127.0.0.1, direction `dir`, `o=` version `v`.
fn trunk_answer(port: u16, dir: &str, v: u32) -> Vec<u8> {
    format!(
        "v=0\r\no=carrier 77 {v} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na={dir}\r\n"
    )
    .into_bytes()
}

/// What an SDP body signals about our stream, read with core's parser: `a=msid` (stream,
/// track) and every `a=ssrc` as (ssrc, attribute, value).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Signalled {
    msid: Vec<(String, Option<String>)>,
    ssrc: Vec<(u32, String, Option<String>)>,
}

fn signalled(sdp: &[u8]) -> Signalled {
    let s = SessionDescription::parse_bytes(sdp).expect("the gateway writes valid SDP");
    let mut out = Signalled {
        msid: Vec::new(),
        ssrc: Vec::new(),
    };
    for m in s.media() {
        for a in m.typed_attributes() {
            match a.expect("valid attributes") {
                Attribute::Msid(x) => out
                    .msid
                    .push((x.stream.to_string(), x.appdata.map(str::to_string))),
                Attribute::Ssrc(x) => {
                    out.ssrc
                        .push((x.ssrc, x.attribute.to_string(), x.value.map(str::to_string)))
                }
                _ => {}
            }
        }
    }
    out
}

fn port_of(sdp: &[u8]) -> u16 {
    let s = SessionDescription::parse_bytes(sdp).unwrap();
    s.media()[0].media_line().port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webrtc_leg_signals_msid_and_the_ssrc_it_sends_with_trunk_leg_neither() {
    let mut m = MediaBridge::new(
        Some(engine(47_500)),
        "127.0.0.1".parse().unwrap(),
        true,
        false,
    );
    let client = WebRtcClient::new().await.unwrap();
    let co = client.offer();
    let offer = browser_offer(&co, "sendrecv", 2);
    let trunk_sock = RtpPeer::bind().await.unwrap();
    let trunk_port = trunk_sock.local_addr().unwrap().port();

    // The call: the browser's offer on A, ours on B, the trunk's answer, ours on A.
    let b1 = m.offer_for_b(offer.as_bytes()).expect("offer on B");
    let a1 = m.answer_for_a(&trunk_answer(trunk_port, "sendrecv", 1));
    let none = Signalled {
        msid: Vec::new(),
        ssrc: Vec::new(),
    };
    assert_eq!(signalled(&b1), none, "the trunk offer stays plain RTP/AVP");
    let text = String::from_utf8(b1.clone()).unwrap();
    assert!(
        !text.contains("a=msid") && !text.contains("a=ssrc"),
        "{text}"
    );

    let sig = signalled(&a1);
    assert_eq!(sig.msid.len(), 1, "one a=msid: {sig:?}");
    let (stream, track) = sig.msid[0].clone();
    let track = track.expect("a track id");
    assert_ne!(stream, track);
    assert!((1..=64).contains(&stream.len()) && (1..=64).contains(&track.len()));
    assert_eq!(sig.ssrc.len(), 1, "one a=ssrc: {sig:?}");
    let (ssrc, attr, cname) = sig.ssrc[0].clone();
    assert_eq!(attr, "cname");
    let cname = cname.expect("a CNAME value");
    assert!(!cname.is_empty());

    // Media: the trunk sends PCMU to the B leg, the gateway transcodes to Opus over SRTP to
    // the client; every packet the client gets carries the SSRC our answer announced.
    let o = SessionDescription::parse(&offer).unwrap();
    let a = SessionDescription::parse_bytes(&a1).unwrap();
    let n = process_answer(&o, &a).expect("a usable answer");
    let leg = gateway_leg(&n).expect("ICE and DTLS in the answer");
    let fp = leg.fingerprint.clone().unwrap();
    let opus = MediaFormat {
        codec: Codec::Opus,
        pt: n.codec.payload_type,
        dtmf_pt: n.telephone_event.map(|t| t.payload_type),
        dtmf_clock: 8000,
    };
    let client = client.start(&leg, &fp, opus, Some(1000.0)).unwrap();
    let b_addr = ([127, 0, 0, 1], port_of(&b1)).into();
    let peer = RtpPeer::start(
        trunk_sock,
        b_addr,
        MediaFormat::simple(Codec::Pcmu),
        Some(1000.0),
    )
    .unwrap();
    assert!(
        wait_for(8, || client.received(|r| r.packets >= 10)).await,
        "no audio reached the client"
    );
    let got = client.received(|r| r.ssrcs.clone());
    assert_eq!(got, [ssrc], "the SSRC on the wire is the one in a=ssrc");
    assert_ne!(
        peer.received(|r| r.ssrcs.clone()).first(),
        Some(&ssrc),
        "one SSRC per leg"
    );

    // The browser holds: re-offer on B (relayed), the trunk answers, we answer on A with
    // the same msid, SSRC and CNAME; the trunk re-offer still has none.
    let hold = browser_offer(&co, "sendonly", 3);
    assert!(m.changes_direction(LegId::A, hold.as_bytes()));
    let b2 = m.reoffer(LegId::B, Direction::SendOnly).expect("re-offer");
    assert_eq!(signalled(&b2), none);
    m.reoffer_answered(LegId::B, &trunk_answer(trunk_port, "recvonly", 2))
        .expect("trunk answer");
    let a2 = m
        .answer_reoffer(LegId::A, hold.as_bytes())
        .expect("answer on A");
    assert!(String::from_utf8_lossy(&a2).contains("a=recvonly"));
    assert_eq!(signalled(&a2), sig, "the hold answer repeats msid and ssrc");

    // The trunk holds: our re-offer to the browser repeats them too.
    let a3 = m
        .reoffer(LegId::A, Direction::SendOnly)
        .expect("re-offer A");
    assert!(String::from_utf8_lossy(&a3).contains("a=sendonly"));
    assert_eq!(signalled(&a3), sig, "the re-offer repeats msid and ssrc");
    m.reoffer_failed();

    client.stop().await;
    peer.stop().await;
    if let Some(c) = m.take_call() {
        c.hangup().await;
    }
}
