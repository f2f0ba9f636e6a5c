//! End-to-end call tests of the gateway (B2BUA), all on 127.0.0.1 with ports picked free:
//! browsers are the core UA over SIP-over-WebSocket, trunks are `sipp` (the tests FAIL,
//! never skip, when it is missing) or a raw UDP socket when a test times what the trunk
//! receives. Outbound and inbound calls, CANCEL, BYE both ways, the WebSocket closing
//! mid-call, call limits, timer B, failover, graceful shutdown, hold, forking, echo.

mod signalling_util;

use std::time::Duration;

use rvoip_core::sip::ua::{EndReason, Event};
use rvoip_gateway::config::Config;
use rvoip_gateway::server::{Gateway, Options};
use signalling_util::*;
use tokio::time::{Instant, timeout};

#[tokio::test]
async fn outbound_call_to_sipp_trunk_180_200_ack_bye_and_one_record() {
    let port = free_udp_port();
    let gw = start_gateway(&format!("127.0.0.1:{port}"), "").await;
    let sipp = spawn_sipp("gateway_uas.xml", port, &[]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 4).await;
    let call = alice.call("sip:+15551234567@127.0.0.1");
    alice
        .wait("ringing", |e| {
            matches!(e, Event::Ringing { call: c } if *c == call).then_some(())
        })
        .await;
    let sdp = alice
        .wait("answer", |e| match e {
            Event::Answered { call: c, sdp } if *c == call => Some(sdp.clone()),
            _ => None,
        })
        .await
        .expect("the 200 carries SDP");
    // The media plane anchors the call: the browser gets the gateway's ICE-lite DTLS answer.
    let answer = String::from_utf8_lossy(&sdp);
    assert!(
        answer.contains("UDP/TLS/RTP/SAVPF")
            && answer.contains("a=ice-lite")
            && answer.contains("a=fingerprint:sha-256")
            && answer.contains("a=setup:passive"),
        "{answer}"
    );
    // While the call is up the API and metrics show it.
    alice.pump(Duration::from_millis(200)).await;
    let (_, calls) = http_get(gw.http_addr(), "/api/calls", true).await;
    assert!(
        calls.contains("\"from\":\"alice\"") && calls.contains("\"trunk\":\"t1\""),
        "{calls}"
    );
    assert_eq!(gw.metrics().get("rvoip_calls_active", &[]), 1.0);
    let now = alice.now();
    alice.ua.hangup(now, call).expect("hangup");
    alice.pump(Duration::from_millis(300)).await;
    sipp_ok(sipp).await;
    alice.close().await;
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1, "exactly one call record");
    let c = &cdrs[0];
    assert_eq!((c.from.as_str(), c.to.as_str()), ("alice", "+15551234567"));
    assert!(c.answered_ms.is_some());
    assert_eq!(c.b_leg.kind, "trunk");
    assert_eq!(c.a_leg.kind, "webrtc");
    assert!(c.cause.starts_with("normal"), "{}", c.cause);
    assert_eq!(c.a_leg.codec.as_deref(), Some("opus"));
    assert_eq!(c.b_leg.codec.as_deref(), Some("PCMU"));
    let (_, csv) = http_get(gw.http_addr(), "/api/cdrs?number=1555&format=csv", true).await;
    assert_eq!(csv.lines().count(), 2, "{csv}");
    let (_, none) = http_get(gw.http_addr(), "/api/cdrs?number=999999", true).await;
    assert_eq!(none.trim(), "[]");
    let (_, metrics) = http_get(gw.http_addr(), "/metrics", false).await;
    assert!(
        metrics.contains("rvoip_calls_total{outcome=\"answered\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("rvoip_calls_active 0"), "{metrics}");
    gw.shutdown().await;
}

#[tokio::test]
async fn inbound_did_from_sipp_rings_the_websocket_user() {
    let port = free_udp_port();
    let gw = start_gateway(&format!("127.0.0.1:{port}"), "").await;
    let mut bob = Phone::connect(&gw, "bob", BOB_PW, 5).await;
    bob.register().await;
    let target = gw.udp_addr().expect("udp").to_string();
    let sipp = spawn_sipp(
        "gateway_uac_did.xml",
        port,
        &["-s".into(), DID.into(), target],
    );
    let (call, offer) = bob
        .wait("the incoming call", |e| match e {
            Event::IncomingCall { call, sdp, .. } => Some((*call, sdp.clone())),
            _ => None,
        })
        .await;
    assert!(String::from_utf8_lossy(&offer.expect("offer")).contains("PCMU"));
    let now = bob.now();
    bob.ua.answer(now, call, WEBRTC_OFFER).expect("answer");
    let reason = bob
        .wait("the trunk's BYE", |e| match e {
            Event::Ended { call: c, reason } if *c == call => Some(*reason),
            _ => None,
        })
        .await;
    assert_eq!(reason, EndReason::RemoteHangup);
    bob.pump(Duration::from_millis(100)).await;
    sipp_ok(sipp).await;
    bob.close().await;
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    assert_eq!(cdrs[0].direction, "inbound");
    assert_eq!(cdrs[0].to, "bob");
    gw.shutdown().await;
}

#[tokio::test]
async fn cancel_of_a_ringing_trunk_call() {
    let port = free_udp_port();
    let gw = start_gateway(&format!("127.0.0.1:{port}"), "").await;
    let sipp = spawn_sipp("gateway_cancel_uas.xml", port, &[]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 6).await;
    let call = alice.call("sip:+15551234567@127.0.0.1");
    alice
        .wait("ringing", |e| {
            matches!(e, Event::Ringing { call: c } if *c == call).then_some(())
        })
        .await;
    // Let the trunk's 180 reach the gateway's B leg.
    alice.pump(Duration::from_millis(500)).await;
    let now = alice.now();
    alice.ua.hangup(now, call).expect("cancel");
    alice.pump(Duration::from_millis(500)).await;
    sipp_ok(sipp).await;
    alice.close().await;
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    assert_eq!(cdrs[0].cause, "cancelled");
    assert_eq!(cdrs[0].answered_ms, None);
    gw.shutdown().await;
}

#[tokio::test]
async fn websocket_closed_mid_call_sends_bye_to_the_trunk_within_a_second() {
    let trunk = RawTrunk::bind().await;
    let gw = start_gateway(&trunk.host(), "").await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 7).await;
    let call = alice.call("sip:+15551234567@127.0.0.1");
    let trunk_side = async {
        let (inv, src) = trunk
            .recv_method("INVITE", Duration::from_secs(5))
            .await
            .expect("INVITE at the trunk");
        assert!(
            inv.header("P-Asserted-Identity")
                .is_some_and(|v| v.contains("alice")),
            "caller id rule: P-Asserted-Identity"
        );
        let offer = String::from_utf8_lossy(&inv.body).to_string();
        assert!(
            offer.contains("RTP/AVP") && !offer.contains("fingerprint") && offer.contains("PCMU"),
            "the trunk gets a plain RTP offer from the media plane: {offer}"
        );
        trunk.respond(&inv, src, 180, false).await;
        trunk.respond(&inv, src, 200, true).await;
        inv
    };
    let (_, inv) = tokio::join!(
        alice.wait("answer", |e| {
            matches!(e, Event::Answered { call: c, .. } if *c == call).then_some(())
        }),
        trunk_side
    );
    assert!(
        trunk
            .recv_method("ACK", Duration::from_secs(2))
            .await
            .is_some()
    );
    let closed = Instant::now();
    alice.close().await;
    let (bye, src) = trunk
        .recv_method("BYE", Duration::from_secs(1))
        .await
        .expect("BYE at the trunk within 1 s of the WebSocket closing");
    assert!(closed.elapsed() < Duration::from_secs(1));
    assert_eq!(bye.call_id(), inv.call_id());
    trunk.respond(&bye, src, 200, false).await;
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    assert_eq!(cdrs[0].cause, "flow closed: caller");
    gw.shutdown().await;
}

#[tokio::test]
async fn more_calls_than_the_limit_get_503() {
    let trunk = RawTrunk::bind().await;
    let gw = start_gateway(&trunk.host(), "[limits]\nmax_calls = 1\n").await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 8).await;
    let first = alice.call("sip:+15551234567@127.0.0.1");
    let (inv, src) = tokio::join!(
        trunk.recv_method("INVITE", Duration::from_secs(5)),
        alice.pump(Duration::from_millis(500))
    )
    .0
    .expect("first call reaches the trunk");
    assert!(
        !alice
            .events
            .iter()
            .any(|e| matches!(e, Event::Ringing { .. })),
        "the browser rings only when the trunk does"
    );
    trunk.respond(&inv, src, 180, false).await;
    alice
        .wait("ringing", |e| {
            matches!(e, Event::Ringing { call } if *call == first).then_some(())
        })
        .await;
    assert_eq!(gw.stats().calls, 1);
    // A second browser of alice's (a fresh digest session per UA).
    let mut alice2 = Phone::connect(&gw, "alice", ALICE_PW, 18).await;
    let second = alice2.call("sip:+15551234568@127.0.0.1");
    let reason = alice2
        .wait("the second call to be refused", |e| match e {
            Event::Ended { call, reason } if *call == second => Some(*reason),
            _ => None,
        })
        .await;
    assert_eq!(reason, EndReason::Rejected(503));
    // End the first: CANCEL reaches the trunk, which answers 200 + 487.
    let now = alice.now();
    alice.ua.hangup(now, first).expect("cancel");
    let (cancel, src) = tokio::join!(
        trunk.recv_method("CANCEL", Duration::from_secs(3)),
        alice.pump(Duration::from_millis(300))
    )
    .0
    .expect("CANCEL at the trunk");
    trunk.respond(&cancel, src, 200, false).await;
    trunk.respond(&inv, src, 487, false).await;
    alice.pump(Duration::from_millis(300)).await;
    alice.close().await;
    alice2.close().await;
    assert_clean(&gw).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn unreachable_trunk_gives_503_after_timer_b() {
    let trunk = RawTrunk::bind().await;
    let gw = start_gateway(&trunk.host(), "").await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 9).await;
    let started = Instant::now();
    let call = alice.call("sip:+15551234567@127.0.0.1");
    // The trunk never answers; with T1 = 100 ms Timer B is 6.4 s.
    let reason = timeout(
        Duration::from_secs(15),
        alice.wait("the call to fail", |e| match e {
            Event::Ended { call: c, reason } if *c == call => Some(*reason),
            _ => None,
        }),
    )
    .await
    .expect("the call fails after timer B");
    assert_eq!(reason, EndReason::Rejected(503));
    assert!(started.elapsed() >= Duration::from_secs(6));
    alice.close().await;
    assert_clean(&gw).await;
    assert_eq!(gw.store().cdrs(&Default::default()).expect("cdrs").len(), 1);
    gw.shutdown().await;
}

#[tokio::test]
async fn echo_extension_is_answered_by_the_media_plane() {
    // The embedded default dial plan: 600 is the echo extension.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cfg = Config::embedded_default();
    cfg.http.listen = "127.0.0.1:0".parse().expect("addr");
    cfg.sip.udp = Some("127.0.0.1:0".parse().expect("addr"));
    cfg.sip.tcp = Some("127.0.0.1:0".parse().expect("addr"));
    cfg.users.push(rvoip_gateway::config::UserConfig {
        username: "alice".into(),
        password: ALICE_PW.into(),
        display_name: None,
        dids: Vec::new(),
    });
    let gw = Gateway::start(
        cfg,
        Options {
            data_dir: Some(dir.path().to_path_buf()),
            sip_t1: None,
        },
    )
    .await
    .expect("gateway starts");
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 12).await;
    let call = alice.call("sip:600@127.0.0.1");
    let sdp = alice
        .wait("answer", |e| match e {
            Event::Answered { call: c, sdp } if *c == call => Some(sdp.clone()),
            _ => None,
        })
        .await
        .expect("SDP answer");
    assert!(String::from_utf8_lossy(&sdp).contains("a=ice-lite"));
    assert_eq!(
        gw.stats().media_ports,
        1,
        "one WebRTC port for the echo leg"
    );
    let now = alice.now();
    alice.ua.hangup(now, call).expect("hangup");
    alice.pump(Duration::from_millis(200)).await;
    alice.close().await;
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    assert_eq!(cdrs[0].direction, "service");
    assert_eq!(cdrs[0].a_leg.codec.as_deref(), Some("opus"));
    gw.shutdown().await;
}

#[tokio::test]
async fn graceful_shutdown_refuses_new_calls_and_byes_both_legs_after_the_grace() {
    let trunk = RawTrunk::bind().await;
    let gw = start_gateway(&trunk.host(), "[limits]\nshutdown_grace_seconds = 1\n").await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 13).await;
    let (call, _) = call_raw_trunk_answered(&mut alice, &trunk).await;
    assert!(
        trunk
            .recv_method("ACK", Duration::from_secs(2))
            .await
            .is_some()
    );
    let started = Instant::now();
    let shutdown = gw.shutdown();
    let checks = async {
        // New calls are refused at once.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let invite = "INVITE sip:+15551234567@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9999;branch=z9hG4bKlate\r\n\
Max-Forwards: 70\r\nFrom: <sip:x@127.0.0.1>;tag=x1\r\nTo: <sip:+15551234567@127.0.0.1>\r\n\
Call-ID: late-1\r\nCSeq: 1 INVITE\r\nContact: <sip:x@127.0.0.1:9999>\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(
            raw_sip(&gw, invite).await.expect("response").code(),
            Some(503)
        );
        // After the grace period, BYE to the trunk...
        let (bye, src) = trunk
            .recv_method("BYE", Duration::from_secs(3))
            .await
            .expect("BYE at the trunk");
        assert!(
            started.elapsed() >= Duration::from_millis(900),
            "the grace period is kept"
        );
        trunk.respond(&bye, src, 200, false).await;
        // ...and to the browser.
        let reason = alice
            .wait("the gateway's BYE", |e| match e {
                Event::Ended { call: c, reason } if *c == call => Some(*reason),
                _ => None,
            })
            .await;
        assert_eq!(reason, EndReason::RemoteHangup);
        alice.pump(Duration::from_millis(100)).await;
    };
    tokio::join!(shutdown, checks);
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    assert_eq!(cdrs[0].cause, "shutdown");
    alice.close().await;
}

#[tokio::test]
async fn failover_to_the_next_trunk_on_503() {
    let t1 = RawTrunk::bind().await;
    let t2 = RawTrunk::bind().await;
    let extra = format!(
        "[[trunks]]\nname = \"t2\"\nhost = \"{}\"\noptions_interval = 0\n\
[[dialplan]]\npattern = \"+44.\"\ntarget = \"trunk:t1,t2\"\n",
        t2.host()
    );
    let gw = start_gateway(&t1.host(), &extra).await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 14).await;
    let call = alice.call("sip:+442071234567@127.0.0.1");
    let trunks = async {
        let (inv, src) = t1
            .recv_method("INVITE", Duration::from_secs(5))
            .await
            .expect("INVITE at t1");
        t1.respond(&inv, src, 503, false).await;
        assert!(
            t1.recv_method("ACK", Duration::from_secs(2))
                .await
                .is_some()
        );
        let (inv, src) = t2
            .recv_method("INVITE", Duration::from_secs(5))
            .await
            .expect("INVITE at t2 after t1's 503");
        assert_eq!(
            inv.uri(),
            Some(format!("sip:+442071234567@{}", t2.host()).as_str())
        );
        t2.respond(&inv, src, 200, true).await;
    };
    tokio::join!(
        alice.wait("answer", |e| {
            matches!(e, Event::Answered { call: c, .. } if *c == call).then_some(())
        }),
        trunks
    );
    assert!(
        t2.recv_method("ACK", Duration::from_secs(2))
            .await
            .is_some()
    );
    let now = alice.now();
    alice.ua.hangup(now, call).expect("hangup");
    let (bye, src) = tokio::join!(
        t2.recv_method("BYE", Duration::from_secs(3)),
        alice.pump(Duration::from_millis(300))
    )
    .0
    .expect("BYE at t2");
    t2.respond(&bye, src, 200, false).await;
    alice.pump(Duration::from_millis(200)).await;
    alice.close().await;
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    assert!(cdrs[0].b_leg.peer.starts_with("t2"), "{:?}", cdrs[0].b_leg);
    gw.shutdown().await;
}

#[tokio::test]
async fn webrtc_user_calls_webrtc_user_and_callee_hangs_up() {
    let gw = start_gateway("127.0.0.1:9", "").await;
    let mut bob = Phone::connect(&gw, "bob", BOB_PW, 15).await;
    bob.register().await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 16).await;
    let call = alice.call("sip:bob@127.0.0.1");
    let (incoming, ()) = tokio::join!(
        bob.wait("bob's incoming call", |e| match e {
            Event::IncomingCall { call, sdp, .. } => Some((*call, sdp.clone())),
            _ => None,
        }),
        alice.pump(Duration::from_millis(700))
    );
    // WebRTC to WebRTC: the browser's offer is relayed (no media anchoring).
    assert_eq!(incoming.1.as_deref(), Some(WEBRTC_OFFER));
    let now = bob.now();
    bob.ua
        .answer(now, incoming.0, WEBRTC_OFFER)
        .expect("answer");
    let (answered, ()) = tokio::join!(
        alice.wait("answer", |e| match e {
            Event::Answered { call: c, sdp } if *c == call => Some(sdp.clone()),
            _ => None,
        }),
        bob.pump(Duration::from_millis(500))
    );
    assert_eq!(answered.as_deref(), Some(WEBRTC_OFFER));
    // INFO DTMF from alice reaches bob.
    let now = alice.now();
    alice.ua.send_dtmf(now, call, '5', 160).expect("dtmf");
    let (digit, ()) = tokio::join!(
        bob.wait("DTMF", |e| match e {
            Event::DtmfReceived { digit, .. } => Some(*digit),
            _ => None,
        }),
        alice.pump(Duration::from_millis(500))
    );
    assert_eq!(digit, '5');
    // And INFO DTMF from bob (the B leg) reaches alice.
    let now = bob.now();
    bob.ua.send_dtmf(now, incoming.0, '#', 160).expect("dtmf");
    let (digit, ()) = tokio::join!(
        alice.wait("DTMF from bob", |e| match e {
            Event::DtmfReceived { digit, .. } => Some(*digit),
            _ => None,
        }),
        bob.pump(Duration::from_millis(500))
    );
    assert_eq!(digit, '#');
    // Both digits are counted (both legs are browsers) and shown on the live call.
    assert_eq!(
        gw.metrics().get(
            "rvoip_dtmf_relayed_total",
            &[("from", "webrtc"), ("method", "info")]
        ),
        2.0
    );
    let (_, metrics) = http_get(gw.http_addr(), "/metrics", false).await;
    assert!(
        metrics.contains("rvoip_dtmf_relayed_total{from=\"webrtc\",method=\"info\"} 2\n"),
        "{metrics}"
    );
    let (status, calls) = http_get(gw.http_addr(), "/api/calls", true).await;
    assert_eq!(status, 200, "{calls}");
    let calls: serde_json::Value = serde_json::from_str(&calls).expect("json");
    assert_eq!(calls[0]["dtmf"], "5#", "{calls}");
    // Hold: alice's re-INVITE is relayed to bob (WebRTC ⇄ WebRTC is not anchored) and
    // bob's answer comes back.
    let held = String::from_utf8_lossy(WEBRTC_OFFER)
        .replace("a=sendrecv", "a=sendonly")
        .replace(" 2 IN IP4", " 3 IN IP4");
    let now = alice.now();
    alice.ua.hold(now, call, held.as_bytes()).expect("hold");
    let (offer, ()) = tokio::join!(
        bob.wait("the relayed re-INVITE", |e| match e {
            Event::OfferReceived { sdp, .. } => Some(sdp.clone()),
            _ => None,
        }),
        alice.pump(Duration::from_millis(500))
    );
    assert_eq!(offer.as_deref(), Some(held.as_bytes()));
    let recvonly = String::from_utf8_lossy(WEBRTC_OFFER).replace("a=sendrecv", "a=recvonly");
    let now = bob.now();
    bob.ua
        .answer(now, incoming.0, recvonly.as_bytes())
        .expect("answer the re-INVITE");
    let (updated, ()) = tokio::join!(
        alice.wait("the re-INVITE's answer", |e| match e {
            Event::MediaUpdated { call: c, sdp } if *c == call => Some(sdp.clone()),
            _ => None,
        }),
        bob.pump(Duration::from_millis(500))
    );
    assert_eq!(updated.as_deref(), Some(recvonly.as_bytes()));
    let now = bob.now();
    bob.ua.hangup(now, incoming.0).expect("hangup");
    let (reason, ()) = tokio::join!(
        alice.wait("BYE", |e| match e {
            Event::Ended { call: c, reason } if *c == call => Some(*reason),
            _ => None,
        }),
        bob.pump(Duration::from_millis(500))
    );
    assert_eq!(reason, EndReason::RemoteHangup);
    alice.pump(Duration::from_millis(100)).await;
    alice.close().await;
    bob.close().await;
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    assert_eq!(cdrs[0].direction, "internal");
    assert_eq!(cdrs[0].cause, "normal: callee hung up");
    assert_eq!(cdrs[0].dtmf, "5#");
    let (_, api) = http_get(gw.http_addr(), "/api/cdrs", true).await;
    let api: serde_json::Value = serde_json::from_str(&api).expect("json");
    assert_eq!(api[0]["dtmf"], "5#", "{api}");
    gw.shutdown().await;
}

#[tokio::test]
async fn browser_hold_and_unhold_are_relayed_to_the_anchored_trunk_leg() {
    let trunk = RawTrunk::bind().await;
    let gw = start_gateway(&trunk.host(), "").await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 17).await;
    let (call, _) = call_raw_trunk_answered(&mut alice, &trunk).await;
    assert!(
        trunk
            .recv_method("ACK", Duration::from_secs(2))
            .await
            .is_some()
    );
    let offer = |dir: &str| {
        String::from_utf8_lossy(WEBRTC_OFFER)
            .replace("a=sendrecv", dir)
            .replace(" 2 IN IP4", " 3 IN IP4")
            .into_bytes()
    };
    for (dir, expect) in [("a=sendonly", "a=recvonly"), ("a=sendrecv", "a=sendrecv")] {
        let now = alice.now();
        alice.ua.hold(now, call, &offer(dir)).expect("re-INVITE");
        // The anchored trunk leg is re-offered with the same direction (issue 5).
        let trunk_side = async {
            let (inv, src) = trunk
                .recv_method("INVITE", Duration::from_secs(3))
                .await
                .expect("the relayed re-INVITE at the trunk");
            let body = String::from_utf8_lossy(&inv.body).to_string();
            assert!(body.contains(dir) && body.contains("RTP/AVP"), "{body}");
            trunk.respond(&inv, src, 200, true).await;
        };
        let (sdp, ()) = tokio::join!(
            alice.wait("the re-INVITE's answer", |e| match e {
                Event::MediaUpdated { call: c, sdp } if *c == call => Some(sdp.clone()),
                _ => None,
            }),
            trunk_side
        );
        let sdp = String::from_utf8_lossy(&sdp.expect("SDP in the 200")).to_string();
        assert!(sdp.contains(expect) && sdp.contains("a=ice-lite"), "{sdp}");
    }
    let now = alice.now();
    alice.ua.hangup(now, call).expect("hangup");
    let (bye, src) = tokio::join!(
        trunk.recv_method("BYE", Duration::from_secs(3)),
        alice.pump(Duration::from_millis(300))
    )
    .0
    .expect("BYE at the trunk");
    trunk.respond(&bye, src, 200, false).await;
    alice.pump(Duration::from_millis(100)).await;
    alice.close().await;
    assert_clean(&gw).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn a_user_with_two_browsers_rings_both_and_the_first_to_answer_wins() {
    let gw = start_gateway("127.0.0.1:9", "").await;
    let mut bob1 = Phone::connect(&gw, "bob", BOB_PW, 21).await;
    bob1.register().await;
    let mut bob2 = Phone::connect(&gw, "bob", BOB_PW, 22).await;
    bob2.register().await;
    assert_eq!(gw.stats().registrations, 2, "two contacts for bob");
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 23).await;
    let call = alice.call("sip:bob@127.0.0.1");
    let incoming = |e: &Event| match e {
        Event::IncomingCall { call, .. } => Some(*call),
        _ => None,
    };
    let (c1, c2, ()) = tokio::join!(
        bob1.wait("bob1 rings", incoming),
        bob2.wait("bob2 rings", incoming),
        alice.pump(Duration::from_millis(800))
    );
    // bob1 (the older contact) answers; bob2's ringing is cancelled.
    let now = bob1.now();
    bob1.ua.answer(now, c1, WEBRTC_OFFER).expect("answer");
    let (answered, reason2, ()) = tokio::join!(
        alice.wait("answer", |e| {
            matches!(e, Event::Answered { call: c, .. } if *c == call).then_some(())
        }),
        bob2.wait("bob2 stops ringing", |e| match e {
            Event::Ended { call, reason } if *call == c2 => Some(*reason),
            _ => None,
        }),
        bob1.pump(Duration::from_millis(800))
    );
    let () = answered;
    assert_eq!(reason2, EndReason::Cancelled);
    let now = alice.now();
    alice.ua.hangup(now, call).expect("hangup");
    let (reason1, ()) = tokio::join!(
        bob1.wait("BYE", |e| match e {
            Event::Ended { call, reason } if *call == c1 => Some(*reason),
            _ => None,
        }),
        alice.pump(Duration::from_millis(500))
    );
    assert_eq!(reason1, EndReason::RemoteHangup);
    bob2.pump(Duration::from_millis(100)).await;
    for p in [&mut alice, &mut bob1, &mut bob2] {
        p.close().await;
    }
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    gw.shutdown().await;
}

#[tokio::test]
async fn operator_hangup_ends_both_legs_at_once() {
    let trunk = RawTrunk::bind().await;
    let gw = start_gateway(&trunk.host(), "").await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 24).await;
    let (call, _) = call_raw_trunk_answered(&mut alice, &trunk).await;
    assert!(
        trunk
            .recv_method("ACK", Duration::from_secs(2))
            .await
            .is_some()
    );
    let (_, calls) = http_get(gw.http_addr(), "/api/calls", true).await;
    let v: serde_json::Value = serde_json::from_str(&calls).expect("json");
    let id = v[0]["id"].as_u64().expect("a live call");
    assert!(v[0]["call_id"].as_str().is_some_and(|c| !c.is_empty()));
    assert!(gw.hangup_call(id));
    assert!(!gw.hangup_call(id + 100), "no such call");
    let (bye, src) = tokio::join!(
        trunk.recv_method("BYE", Duration::from_secs(2)),
        alice.pump(Duration::from_millis(300))
    )
    .0
    .expect("BYE at the trunk");
    trunk.respond(&bye, src, 200, false).await;
    let reason = alice
        .wait("the gateway's BYE", |e| match e {
            Event::Ended { call: c, reason } if *c == call => Some(*reason),
            _ => None,
        })
        .await;
    assert_eq!(reason, EndReason::RemoteHangup);
    alice.pump(Duration::from_millis(100)).await;
    alice.close().await;
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs[0].cause, "hangup: operator");
    gw.shutdown().await;
}

/// The caller's display name (From: "Alice Liddell" <sip:alice@…>) reaches the callee on
/// the B leg: a browser, a trunk, and a trunk whose caller-id rule replaces the user part.
#[tokio::test]
async fn the_callers_display_name_reaches_the_b_leg() {
    let trunk = RawTrunk::bind().await;
    let extra = format!(
        "[[trunks]]\nname = \"t2\"\nhost = \"{}\"\noptions_interval = 0\n\
caller_id = \"+15550001111\"\n[[dialplan]]\npattern = \"+44.\"\ntarget = \"trunk:t2\"\n",
        trunk.host()
    );
    let gw = start_gateway(&trunk.host(), &extra).await;
    let mut bob = Phone::connect(&gw, "bob", BOB_PW, 31).await;
    bob.register().await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 32).await;
    let mut cfg = alice.ua.config().clone();
    cfg.display_name = Some("Alice Liddell".into());
    alice.ua = rvoip_core::sip::ua::UserAgent::new(cfg, rvoip_core::rand::SplitMix64::new(32));

    // Browser → browser.
    let call = alice.call("sip:bob@127.0.0.1");
    let (incoming, ()) = tokio::join!(
        bob.wait("bob's incoming call", |e| match e {
            Event::IncomingCall { call, from, .. } => Some((*call, from.clone())),
            _ => None,
        }),
        alice.pump(Duration::from_millis(700))
    );
    assert!(
        incoming.1.starts_with("\"Alice Liddell\" <sip:alice@"),
        "From at the callee: {}",
        incoming.1
    );
    let now = bob.now();
    bob.ua.reject(now, incoming.0, 486).expect("reject");
    let (reason, ()) = tokio::join!(
        alice.wait("rejected", |e| match e {
            Event::Ended { call: c, reason } if *c == call => Some(*reason),
            _ => None,
        }),
        bob.pump(Duration::from_millis(500))
    );
    assert_eq!(reason, EndReason::Rejected(486));

    // Browser → trunk without a caller-id rule, then → trunk with one.
    let mut seen: Vec<String> = Vec::new();
    for (dialled, from) in [
        ("+15551234567", "\"Alice Liddell\" <sip:alice@"),
        ("+442079460000", "\"Alice Liddell\" <sip:+15550001111@"),
    ] {
        let call = alice.call(&format!("sip:{dialled}@127.0.0.1"));
        let ((inv, src), ()) = tokio::join!(
            async {
                loop {
                    let (inv, src) = trunk
                        .recv_method("INVITE", Duration::from_secs(5))
                        .await
                        .expect("INVITE at the trunk");
                    // Skip retransmissions of the previous call's INVITE.
                    let cid = inv.call_id().unwrap_or("").to_string();
                    if !seen.contains(&cid) {
                        break (inv, src);
                    }
                }
            },
            alice.pump(Duration::from_millis(700))
        );
        seen.push(inv.call_id().unwrap_or("").to_string());
        let got = inv.header("From").unwrap_or("").to_string();
        assert!(
            got.starts_with(from),
            "From at the trunk for {dialled}: {got}"
        );
        trunk.respond(&inv, src, 486, false).await;
        let reason = alice
            .wait("rejected by the trunk", |e| match e {
                Event::Ended { call: c, reason } if *c == call => Some(*reason),
                _ => None,
            })
            .await;
        assert_eq!(reason, EndReason::Rejected(486));
    }
    alice.close().await;
    bob.close().await;
    assert_clean(&gw).await;
    gw.shutdown().await;
}
