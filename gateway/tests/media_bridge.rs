//! Media plane end to end on 127.0.0.1: the native WebRTC test client ⇄ WebRTC leg
//! (ICE-lite, DTLS-SRTP) ⇄ bridge ⇄ trunk leg ⇄ a plain RTP peer.

mod media_util;
use media_util::wait_for;

use std::sync::atomic::Ordering;
use std::time::Duration;

use rvoip_core::codec::tone_power;
use rvoip_gateway::dtls::DtlsIdentity;
use rvoip_gateway::media::testclient::{Endpoint, RtpPeer, WebRtcClient, send_from_stranger};
use rvoip_gateway::media::{
    CallMedia, CallSpec, Codec, EndReason, LegId, LegKind, MediaEngine, MediaEvent, MediaFormat,
    Peer, RemoteParams, RtpRemote, Setup,
};

fn engine(port_min: u16) -> MediaEngine {
    // Two media threads: calls of one test spread over both.
    media_util::engine(port_min, port_min + 99, 2).with_dtls_timeout(Duration::from_secs(4))
}

/// After hangup: no leg, task or port left.
async fn assert_clean(e: &MediaEngine) {
    let c = e.counters();
    let ok = wait_for(3, || {
        c.legs_active.load(Ordering::Relaxed) == 0
            && c.tasks_active.load(Ordering::Relaxed) == 0
            && c.transcoding_active.load(Ordering::Relaxed) == 0
            && e.ports_in_use() == 0
    })
    .await;
    assert!(
        ok,
        "left over: legs {} tasks {} transcoding {} ports {}",
        c.legs_active.load(Ordering::Relaxed),
        c.tasks_active.load(Ordering::Relaxed),
        c.transcoding_active.load(Ordering::Relaxed),
        e.ports_in_use()
    );
}

fn tone_of(ep: &Endpoint, last: usize) -> (usize, f64) {
    ep.received(|r| {
        let n = r.pcm.len();
        let s = &r.pcm[n.saturating_sub(last)..];
        (
            n,
            if s.len() < last {
                0.0
            } else {
                tone_power(s, 1000.0, 8000)
            },
        )
    })
}

struct Setup3 {
    call: CallMedia,
    client: Endpoint,
    peer: Endpoint,
}

/// A gateway call: client in `webrtc_fmt`, peer in PCMU, both sending 1 kHz.
async fn gateway_call(e: &MediaEngine, webrtc_fmt: MediaFormat) -> Setup3 {
    gateway_call_with(e, webrtc_fmt, WebRtcClient::new().await.unwrap()).await
}

/// [`gateway_call`] with the given client.
async fn gateway_call_with(
    e: &MediaEngine,
    webrtc_fmt: MediaFormat,
    client: WebRtcClient,
) -> Setup3 {
    let call = e.create_call(CallSpec::gateway()).unwrap();
    let a = call.local(LegId::A).unwrap().clone();
    let b = call.local(LegId::B).unwrap().clone();
    assert!(a.ice.is_some() && a.fingerprint.is_some() && !a.candidates.is_empty());
    assert_eq!(b.rtcp_port, Some(b.addr.port() + 1));
    let offer = client.offer();
    call.apply_remote(
        LegId::A,
        RemoteParams::WebRtc {
            ice: offer.ice.clone(),
            fingerprint: offer.fingerprint.clone(),
            setup: Setup::ActPass,
            format: webrtc_fmt,
        },
    );
    let pcmu = MediaFormat::simple(Codec::Pcmu);
    let peer_sock = RtpPeer::bind().await.unwrap();
    call.apply_remote(
        LegId::B,
        RemoteParams::Rtp {
            remote: RtpRemote {
                addr: peer_sock.local_addr().unwrap(),
                rtcp: None,
                rtcp_mux: true,
                latch: false,
            },
            format: pcmu,
        },
    );
    let fp = a.fingerprint.clone().unwrap();
    let client = client.start(&a, &fp, webrtc_fmt, Some(1000.0)).unwrap();
    let peer = RtpPeer::start(peer_sock, b.addr, pcmu, Some(1000.0)).unwrap();
    Setup3 { call, client, peer }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transcoded_call_carries_tone_and_dtmf_both_ways() {
    let metrics = std::sync::Arc::new(rvoip_gateway::metrics::Metrics::new());
    let e = engine(41000).with_metrics(metrics.clone());
    let Setup3 {
        mut call,
        client,
        peer,
    } = gateway_call(&e, MediaFormat::simple(Codec::Opus)).await;
    assert!(
        wait_for(8, || client.received(|r| r.media_ready)).await,
        "DTLS/SRTP never came up"
    );
    // 1 kHz sent as Opus arrives at the RTP peer as G.711, and back.
    assert!(
        wait_for(8, || tone_of(&peer, 4000).1 > 0.9).await,
        "peer: {:?}",
        tone_of(&peer, 4000)
    );
    assert!(
        wait_for(8, || tone_of(&client, 4000).1 > 0.9).await,
        "client: {:?}",
        tone_of(&client, 4000)
    );

    // DTMF browser → trunk: telephone-event/48000 PT 110 becomes /8000 PT 101.
    client.send_digit('5', Duration::from_millis(100));
    assert!(
        wait_for(5, || peer
            .received(|r| r.events.iter().any(|v| v.end && v.digit == '5')))
        .await,
        "no DTMF at the peer"
    );
    peer.received(|r| {
        let ends: Vec<_> = r.events.iter().filter(|v| v.end).collect();
        assert!(ends.iter().all(|v| v.pt == 101), "{:?}", r.events);
        // 100 ms at 48 kHz = 4800 → 800 at 8 kHz.
        assert!(
            ends.iter().all(|v| (700..=900).contains(&v.duration)),
            "{ends:?}"
        );
    });
    // DTMF trunk → browser: /8000 PT 101 becomes /48000 PT 110.
    peer.send_digit('9', Duration::from_millis(100));
    assert!(
        wait_for(5, || client
            .received(|r| r.events.iter().any(|v| v.end && v.digit == '9')))
        .await,
        "no DTMF at the client"
    );
    client.received(|r| {
        let ends: Vec<_> = r.events.iter().filter(|v| v.end).collect();
        assert!(ends.iter().all(|v| v.pt == 110), "{:?}", r.events);
        assert!(
            ends.iter().all(|v| (4200..=5400).contains(&v.duration)),
            "{ends:?}"
        );
    });
    // Both digits were reported to the B2BUA; a digit injected as from SIP INFO arrives.
    let mut digits = Vec::new();
    while digits.len() < 2 {
        match tokio::time::timeout(Duration::from_secs(3), call.next_event()).await {
            Ok(Some(MediaEvent::Digit {
                leg,
                digit,
                duration,
            })) => {
                assert!(duration >= Duration::from_millis(80), "{duration:?}");
                digits.push((leg, digit));
            }
            Ok(Some(_)) => {}
            other => panic!("no digit event: {other:?} after {digits:?}"),
        }
    }
    assert_eq!(digits, vec![(LegId::A, '5'), (LegId::B, '9')]);
    call.send_digit(LegId::B, '#', Duration::from_millis(80))
        .await
        .unwrap();
    assert!(
        wait_for(5, || peer
            .received(|r| r.events.iter().any(|v| v.end && v.digit == '#')))
        .await,
        "injected digit not at the peer"
    );

    // RTCP is generated on both legs (SR once media was sent).
    assert!(
        wait_for(8, || {
            let st = stats_now(&call);
            st.legs.iter().all(|l| l.is_some_and(|l| l.rtcp_out > 0))
        })
        .await,
        "{:?}",
        call.stats().await
    );
    let st = call.stats().await.unwrap();
    assert!(st.transcoding);
    assert!(st.counters.transcoded_frames > 25, "{st:?}");
    assert!(st.counters.dtmf_relayed > 0);
    let (sa, sb) = (st.legs[0].unwrap(), st.legs[1].unwrap());
    assert!(
        sa.packets_in > 25 && sa.packets_out > 25 && sb.packets_in > 25 && sb.packets_out > 25,
        "{st:?}"
    );
    assert!(sa.mos > 3.5 && sb.mos > 3.5, "{st:?}");
    assert_eq!(e.counters().transcoding_active.load(Ordering::Relaxed), 1);

    call.hangup().await;
    client.stop().await;
    peer.stop().await;
    assert_clean(&e).await;
    // Per-leg counters reached Prometheus (in batches, the last one at hangup).
    for leg in ["webrtc", "trunk"] {
        for dir in ["in", "out"] {
            let n = metrics.get("rvoip_rtp_packets_total", &[("leg", leg), ("dir", dir)]);
            assert!(n > 25.0, "{leg} {dir}: {n}");
        }
    }
    assert_eq!(metrics.get("rvoip_transcoding_active", &[]), 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passthrough_pcmu_does_not_transcode() {
    let e = engine(41200);
    let Setup3 { call, client, peer } = gateway_call(&e, MediaFormat::simple(Codec::Pcmu)).await;
    assert!(
        wait_for(8, || tone_of(&peer, 4000).1 > 0.9).await,
        "peer: {:?}",
        tone_of(&peer, 4000)
    );
    assert!(
        wait_for(8, || tone_of(&client, 4000).1 > 0.9).await,
        "client: {:?}",
        tone_of(&client, 4000)
    );
    client.send_digit('1', Duration::from_millis(60));
    assert!(
        wait_for(5, || peer
            .received(|r| r.events.iter().any(|v| v.end && v.digit == '1')))
        .await,
        "no DTMF at the peer"
    );
    let st = call.stats().await.unwrap();
    assert!(!st.transcoding);
    assert_eq!(st.counters.transcoded_frames, 0);
    assert!(st.counters.passthrough_packets > 50, "{st:?}");
    call.hangup().await;
    client.stop().await;
    peer.stop().await;
    assert_eq!(e.counters().transcoded_frames.load(Ordering::Relaxed), 0);
    assert!(e.counters().passthrough_packets.load(Ordering::Relaxed) > 50);
    assert_clean(&e).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_and_replays_are_dropped() {
    let e = engine(41400);
    let Setup3 { call, client, peer } = gateway_call(&e, MediaFormat::simple(Codec::Opus)).await;
    assert!(wait_for(8, || tone_of(&peer, 2000).1 > 0.9).await);
    let a = call.local(LegId::A).unwrap().addr;
    let b = call.local(LegId::B).unwrap().addr;
    let before = call.stats().await.unwrap();
    // Same bytes as real media, from addresses that passed neither ICE nor latching.
    let rtp = [
        0x80u8, 0, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4, 0xFF, 0xFF, 0xFF, 0xFF,
    ];
    for _ in 0..5 {
        send_from_stranger(&rtp, a).await.unwrap();
    }
    client.replay_last();
    client.replay_last();
    assert!(
        wait_for(3, || {
            let s = futures_stats(&call);
            s.is_some_and(|(da, _, rp)| {
                da >= before.legs[0].unwrap().dropped_unvalidated + 5 && rp >= 1
            })
        })
        .await,
        "{:?}",
        call.stats().await
    );
    // The trunk leg's socket is connected to the trunk's address (its settled peer): the
    // kernel drops strangers before the session sees them, so they are neither received
    // nor counted. The peer stops first, so that any packet received would be theirs.
    peer.stop().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let quiet = call.stats().await.unwrap().legs[1].unwrap();
    for _ in 0..5 {
        send_from_stranger(&rtp, b).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = call.stats().await.unwrap().legs[1].unwrap();
    assert_eq!(
        after.packets_in, quiet.packets_in,
        "a stranger's RTP was taken"
    );
    assert_eq!(
        after.dropped_unvalidated, quiet.dropped_unvalidated,
        "the strangers reached the session: the trunk socket is not connected"
    );
    call.hangup().await;
    client.stop().await;
    assert!(e.counters().dropped_unvalidated.load(Ordering::Relaxed) >= 5);
    assert!(e.counters().srtp_replays.load(Ordering::Relaxed) >= 1);
    assert_clean(&e).await;
}

fn stats_now(call: &CallMedia) -> rvoip_gateway::media::CallStats {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(call.stats()))
        .unwrap()
}

/// Blocking peek at the drop counters (the stats command answers within one loop turn).
fn futures_stats(call: &CallMedia) -> Option<(u64, u64, u64)> {
    let st =
        tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(call.stats()))?;
    let (a, b) = (st.legs[0]?, st.legs[1]?);
    Some((a.dropped_unvalidated, b.dropped_unvalidated, a.srtp_replays))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_fingerprint_ends_the_call_with_dtls_failure() {
    let metrics = std::sync::Arc::new(rvoip_gateway::metrics::Metrics::new());
    let e = engine(41600).with_metrics(metrics.clone());
    let mut call = e.create_call(CallSpec::gateway()).unwrap();
    let a = call.local(LegId::A).unwrap().clone();
    let client = WebRtcClient::new().await.unwrap();
    let offer = client.offer();
    let other = DtlsIdentity::generate().unwrap();
    call.apply_remote(
        LegId::A,
        RemoteParams::WebRtc {
            ice: offer.ice.clone(),
            fingerprint: other.fingerprint_sha256().to_string(),
            setup: Setup::Active,
            format: MediaFormat::simple(Codec::Opus),
        },
    );
    let fp = a.fingerprint.clone().unwrap();
    let client = client
        .start(&a, &fp, MediaFormat::simple(Codec::Opus), Some(1000.0))
        .unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match call.next_event().await {
                Some(MediaEvent::Ended { leg, reason }) => return Some((leg, reason)),
                Some(_) => {}
                None => return None,
            }
        }
    })
    .await
    .expect("no end event");
    let (leg, reason) = ended.expect("events closed without Ended");
    assert_eq!(leg, LegId::A);
    assert!(matches!(reason, EndReason::DtlsFailed(_)), "{reason:?}");
    call.finished().await;
    assert_eq!(e.counters().dtls_failures.load(Ordering::Relaxed), 1);
    assert_eq!(metrics.get("rvoip_dtls_failures_total", &[]), 1.0);
    assert!(!client.received(|r| r.media_ready && r.packets > 0));
    client.stop().await;
    assert_clean(&e).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tone_and_echo_extensions() {
    let e = engine(41800);
    // Tone on a plain RTP leg.
    let call = e
        .create_call(CallSpec {
            peer: Peer::Tone(1000.0),
            a: LegKind::Rtp { rtcp_port: false },
            b: None,
        })
        .unwrap();
    let pcmu = MediaFormat::simple(Codec::Pcmu);
    let sock = RtpPeer::bind().await.unwrap();
    call.apply_remote(
        LegId::A,
        RemoteParams::Rtp {
            remote: RtpRemote {
                addr: sock.local_addr().unwrap(),
                rtcp: None,
                rtcp_mux: true,
                latch: true,
            },
            format: pcmu,
        },
    );
    let listener = RtpPeer::start(sock, call.local(LegId::A).unwrap().addr, pcmu, None).unwrap();
    assert!(
        wait_for(5, || tone_of(&listener, 4000).1 > 0.9).await,
        "{:?}",
        tone_of(&listener, 4000)
    );
    call.hangup().await;
    listener.stop().await;

    // Echo on a WebRTC leg: the client's Opus tone comes back.
    let call = e
        .create_call(CallSpec {
            peer: Peer::Echo,
            a: LegKind::WebRtc,
            b: None,
        })
        .unwrap();
    let a = call.local(LegId::A).unwrap().clone();
    let client = WebRtcClient::new().await.unwrap();
    let offer = client.offer();
    let opus = MediaFormat::simple(Codec::Opus);
    call.apply_remote(
        LegId::A,
        RemoteParams::WebRtc {
            ice: offer.ice,
            fingerprint: offer.fingerprint,
            setup: Setup::ActPass,
            format: opus,
        },
    );
    let client = client
        .start(&a, a.fingerprint.as_deref().unwrap(), opus, Some(1000.0))
        .unwrap();
    assert!(
        wait_for(8, || tone_of(&client, 4000).1 > 0.9).await,
        "{:?}",
        tone_of(&client, 4000)
    );
    call.hangup().await;
    client.stop().await;
    assert_clean(&e).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_as_dtls_client_when_the_browser_is_passive() {
    let e = engine(42000);
    let call = e
        .create_call(CallSpec {
            peer: Peer::Echo,
            a: LegKind::WebRtc,
            b: None,
        })
        .unwrap();
    let a = call.local(LegId::A).unwrap().clone();
    let client = WebRtcClient::new().await.unwrap();
    let offer = client.offer();
    let opus = MediaFormat::simple(Codec::Opus);
    call.apply_remote(
        LegId::A,
        RemoteParams::WebRtc {
            ice: offer.ice,
            fingerprint: offer.fingerprint,
            setup: Setup::Passive,
            format: opus,
        },
    );
    let client = client
        .start_with_role(
            &a,
            a.fingerprint.as_deref().unwrap(),
            opus,
            Some(1000.0),
            rvoip_gateway::dtls::DtlsRole::Server,
        )
        .unwrap();
    assert!(
        wait_for(8, || client.received(|r| r.media_ready)).await,
        "DTLS never completed"
    );
    assert!(
        wait_for(8, || tone_of(&client, 4000).1 > 0.9).await,
        "{:?}",
        tone_of(&client, 4000)
    );
    call.hangup().await;
    client.stop().await;
    assert_clean(&e).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_final_dtls_flight_is_sent_again() {
    // The gateway is the DTLS server: its final flight (ChangeCipherSpec, Finished) is
    // lost; the browser retransmits its own flight and the gateway, whose keys are already
    // exported, must still answer it (its DTLS connection lingers after the handshake).
    let e = engine(42200);
    let client = WebRtcClient::new().await.unwrap().lose_final_flight();
    let Setup3 { call, client, peer } =
        gateway_call_with(&e, MediaFormat::simple(Codec::Pcmu), client).await;
    assert!(
        wait_for(8, || client.received(|r| r.media_ready)).await,
        "the handshake never completed (dropped {} datagrams)",
        client.received(|r| r.dtls_dropped)
    );
    assert!(client.received(|r| r.dtls_dropped) > 0, "nothing was lost");
    assert!(
        wait_for(5, || tone_of(&peer, 4000).1 > 0.9).await,
        "peer: {:?}",
        tone_of(&peer, 4000)
    );
    call.hangup().await;
    client.stop().await;
    peer.stop().await;
    assert_clean(&e).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_offer_keeps_the_dtls_association() {
    // A re-INVITE (hold, unhold) repeats the browser's fingerprint: the running DTLS
    // association and its keys stay. A new handshake would wait for a ClientHello that
    // never comes and end the call at the DTLS time limit (1 s here).
    let e = engine(42400).with_dtls_timeout(Duration::from_secs(1));
    let pcmu = MediaFormat::simple(Codec::Pcmu);
    let client = WebRtcClient::new().await.unwrap();
    let offer = client.offer();
    let Setup3 {
        mut call,
        client,
        peer,
    } = gateway_call_with(&e, pcmu, client).await;
    assert!(wait_for(8, || tone_of(&peer, 4000).1 > 0.9).await);
    call.apply_remote(
        LegId::A,
        RemoteParams::WebRtc {
            ice: offer.ice.clone(),
            // The same certificate, written in lower case with its hash name.
            fingerprint: format!("sha-256 {}", offer.fingerprint.to_lowercase()),
            setup: Setup::ActPass,
            format: pcmu,
        },
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    while let Ok(Some(ev)) =
        tokio::time::timeout(Duration::from_millis(20), call.next_event()).await
    {
        assert!(
            !matches!(ev, MediaEvent::Ended { .. }),
            "the call ended: {ev:?}"
        );
    }
    // Media still flows both ways on the same keys.
    let (n, _) = tone_of(&peer, 4000);
    assert!(
        wait_for(3, || {
            let (m, p) = tone_of(&peer, 4000);
            m > n + 4000 && p > 0.9
        })
        .await,
        "peer: {:?}",
        tone_of(&peer, 4000)
    );
    let (n, _) = tone_of(&client, 4000);
    assert!(wait_for(3, || tone_of(&client, 4000).0 > n + 4000).await);
    call.hangup().await;
    client.stop().await;
    peer.stop().await;
    assert_clean(&e).await;
}
