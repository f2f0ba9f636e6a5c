//! Sans-IO tests of the media session: latching, transcoding, RTCP, DTMF, ICE consent.

use super::*;
use rvoip_core::ice::{IceAgent, IceAgentConfig};
use rvoip_core::rand::SplitMix64;
use rvoip_core::srtp::Profile;

type Out = Vec<(SocketAddr, SocketAddr, Vec<u8>)>;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Two plain RTP legs, PCMU on A and PCMA on B (transcoding G.711 µ ⇄ A).
fn rtp_pair(latch_b: bool) -> MediaSession {
    let mut rng = SplitMix64::new(7);
    let mut s = MediaSession::new(
        Peer::Bridge,
        LegSpec::Rtp {
            local: addr("127.0.0.1:1000"),
            local_rtcp: Some(addr("127.0.0.1:1001")),
        },
        Some(LegSpec::Rtp {
            local: addr("127.0.0.1:2000"),
            local_rtcp: None,
        }),
        OpusImpl::Libopus,
        1_700_000_000_000_000,
        &mut rng,
    );
    s.set_rtp_remote(
        LegId::A,
        RtpRemote {
            addr: addr("10.0.0.1:5000"),
            rtcp: None,
            rtcp_mux: false,
            latch: false,
        },
    );
    s.set_rtp_remote(
        LegId::B,
        RtpRemote {
            addr: addr("10.0.0.2:6000"),
            rtcp: None,
            rtcp_mux: true,
            latch: latch_b,
        },
    );
    s.set_format(LegId::A, MediaFormat::simple(Codec::Pcmu));
    s.set_format(LegId::B, MediaFormat::simple(Codec::Pcma));
    s
}

fn rtp(seq: u16, ts: u32, pt: u8) -> Vec<u8> {
    let mut b = vec![0u8; 1600];
    let n = RtpPacketBuilder::new(pt, seq, ts, 0xABCD)
        .emit(&[0xFF; 160], &mut b)
        .unwrap();
    b.truncate(n);
    b.resize(1600, 0);
    b.truncate(n);
    b
}

fn feed(
    s: &mut MediaSession,
    t: Instant,
    leg: LegId,
    local: &str,
    from: &str,
    p: &[u8],
    out: &mut Out,
) {
    let mut b = vec![0u8; 2048];
    b[..p.len()].copy_from_slice(p);
    s.handle_datagram(t, leg, addr(local), addr(from), &mut b, p.len(), out);
}

#[test]
fn transcodes_g711_and_sends_rtcp_on_the_rtcp_port() {
    let mut s = rtp_pair(false);
    assert!(s.is_transcoding());
    let mut out = Out::new();
    for k in 0..20u16 {
        let t = Instant::from_millis(20 * u64::from(k));
        feed(
            &mut s,
            t,
            LegId::A,
            "127.0.0.1:1000",
            "10.0.0.1:5000",
            &rtp(k, 160 * u32::from(k), 0),
            &mut out,
        );
        s.handle_timeout(t, &mut out);
    }
    s.handle_timeout(Instant::from_millis(1200), &mut out);
    let media: Vec<_> = out
        .iter()
        .filter(|o| o.1 == addr("10.0.0.2:6000") && o.2[1] & 0x7F == 8)
        .collect();
    assert!(media.len() >= 10, "{}", media.len());
    // µ-law 0xFF (≈ 0) becomes A-law silence 0xD5.
    assert!(
        media
            .iter()
            .all(|m| m.2[12..].iter().all(|&c| c == 0xD5 || c == 0x55))
    );
    let rtcp_a: Vec<_> = out
        .iter()
        .filter(|o| o.0 == addr("127.0.0.1:1001"))
        .collect();
    assert_eq!(rtcp_a.len(), 1, "RTCP for leg A from its RTCP port");
    assert_eq!(rtcp_a[0].1, addr("10.0.0.1:5001"));
    assert_eq!(rtcp_a[0].2[1], 201, "RR: nothing sent on A yet");
    let rtcp_b: Vec<_> = out
        .iter()
        .filter(|o| o.0 == addr("127.0.0.1:2000") && o.2[1] == 200)
        .collect();
    assert_eq!(rtcp_b.len(), 1, "SR for leg B (rtcp-mux)");
    // The SDES CNAME is the one the SDP announces with the leg's SSRC (`a=ssrc:… cname:`,
    // RFC 5576 §6.1): `cname()`, random per call (RFC 7022 §4.2).
    let sdes = |pkt: &[u8]| {
        let c = rvoip_core::rtp::Compound::new_checked(pkt, false).expect("compound RTCP");
        c.iter().find_map(|p| match p.parse() {
            Ok(rvoip_core::rtp::RtcpKind::Sdes(d)) => d.cname().map(|(x, v)| (x, v.to_vec())),
            _ => None,
        })
    };
    let cname = s.cname().as_bytes().to_vec();
    assert_eq!(cname.len(), 16, "96 random bits in base64");
    assert_eq!(
        sdes(&rtcp_b[0].2),
        Some((s.local_ssrc(LegId::B).unwrap(), cname.clone()))
    );
    assert_eq!(
        sdes(&rtcp_a[0].2),
        Some((s.local_ssrc(LegId::A).unwrap(), cname))
    );
    assert!(s.counters().transcoded_frames >= 10);
}

#[test]
fn only_the_signalled_or_latched_address_is_accepted() {
    let mut s = rtp_pair(true);
    let mut out = Out::new();
    let t = Instant::from_millis(10);
    // Leg A (no NAT mode): another port of the same host is dropped.
    feed(
        &mut s,
        t,
        LegId::A,
        "127.0.0.1:1000",
        "10.0.0.1:5002",
        &rtp(1, 0, 0),
        &mut out,
    );
    assert_eq!(s.stats(LegId::A).unwrap().dropped_unvalidated, 1);
    assert_eq!(s.stats(LegId::A).unwrap().packets_in, 0);
    // Leg B (NAT mode): other IP dropped; first packet from the signalled IP latches.
    feed(
        &mut s,
        t,
        LegId::B,
        "127.0.0.1:2000",
        "10.9.9.9:6000",
        &rtp(1, 0, 8),
        &mut out,
    );
    feed(
        &mut s,
        t,
        LegId::B,
        "127.0.0.1:2000",
        "10.0.0.2:7777",
        &rtp(2, 160, 8),
        &mut out,
    );
    feed(
        &mut s,
        t,
        LegId::B,
        "127.0.0.1:2000",
        "10.0.0.2:7778",
        &rtp(3, 320, 8),
        &mut out,
    );
    let st = s.stats(LegId::B).unwrap();
    assert_eq!((st.dropped_unvalidated, st.packets_in), (2, 1));
    // Media to B now goes to the latched address.
    for k in 0..10u16 {
        let t = Instant::from_millis(20 + 20 * u64::from(k));
        feed(
            &mut s,
            t,
            LegId::A,
            "127.0.0.1:1000",
            "10.0.0.1:5000",
            &rtp(k, 160 * u32::from(k), 0),
            &mut out,
        );
        s.handle_timeout(t, &mut out);
    }
    assert!(out.iter().any(|o| o.1 == addr("10.0.0.2:7777")));
    assert!(
        !out.iter()
            .any(|o| o.1 == addr("10.0.0.2:6000") || o.1 == addr("10.9.9.9:6000"))
    );
}

#[test]
fn dtmf_is_translated_between_clocks() {
    let mut rng = SplitMix64::new(9);
    let mut s = MediaSession::new(
        Peer::Bridge,
        LegSpec::Rtp {
            local: addr("127.0.0.1:1000"),
            local_rtcp: None,
        },
        Some(LegSpec::Rtp {
            local: addr("127.0.0.1:2000"),
            local_rtcp: None,
        }),
        OpusImpl::Libopus,
        0,
        &mut rng,
    );
    for (l, a) in [(LegId::A, "10.0.0.1:5000"), (LegId::B, "10.0.0.2:6000")] {
        s.set_rtp_remote(
            l,
            RtpRemote {
                addr: addr(a),
                rtcp: None,
                rtcp_mux: true,
                latch: false,
            },
        );
    }
    let mut fa = MediaFormat::simple(Codec::Pcmu);
    fa.dtmf_pt = Some(110);
    fa.dtmf_clock = 48_000;
    s.set_format(LegId::A, fa);
    s.set_format(LegId::B, MediaFormat::simple(Codec::Pcmu));
    let mut out = Out::new();
    let ev = TelephoneEvent {
        event: 3,
        end: true,
        volume: 10,
        duration: 4800,
    }
    .encode();
    let mut b = vec![0u8; 64];
    let n = RtpPacketBuilder::new(110, 5, 1000, 0x1111)
        .emit(&ev, &mut b)
        .unwrap();
    feed(
        &mut s,
        Instant::from_millis(5),
        LegId::A,
        "127.0.0.1:1000",
        "10.0.0.1:5000",
        &b[..n],
        &mut out,
    );
    let p = RtpPacket::new_checked(&out[0].2[..]).unwrap();
    assert_eq!(p.payload_type(), 101);
    let t = TelephoneEvent::decode(p.payload()).unwrap();
    assert_eq!((t.event, t.end, t.duration), (3, true, 800));
    assert!(
        matches!(s.poll_event(), Some(MediaEvent::Digit { leg: LegId::A, digit: '3', duration }) if duration == Duration::from_millis(100))
    );
}

/// A WebRTC leg bridged to an RTP leg, ICE connected with a controlling agent, SRTP keyed.
fn webrtc_session() -> (MediaSession, IceAgent<SplitMix64>, Context, Instant) {
    let gw = addr("127.0.0.1:4000");
    let br = addr("127.0.0.1:5000");
    let mut rng = SplitMix64::new(3);
    let lite = IceLiteAgent::new(&mut rng, &[gw]);
    let mut browser = IceAgent::new(SplitMix64::new(4), IceAgentConfig::default(), &[br]);
    browser.set_remote_credentials(lite.local_credentials().clone());
    browser
        .add_remote_candidate(lite.local_candidates()[0].clone())
        .unwrap();
    let mut s = MediaSession::new(
        Peer::Bridge,
        LegSpec::WebRtc {
            local: gw,
            ice: Box::new(lite),
        },
        Some(LegSpec::Rtp {
            local: addr("127.0.0.1:4002"),
            local_rtcp: None,
        }),
        OpusImpl::Libopus,
        0,
        &mut rng,
    );
    s.set_ice_remote(LegId::A, browser.local_credentials().clone());
    s.set_format(LegId::A, MediaFormat::simple(Codec::Pcmu));
    s.set_format(LegId::B, MediaFormat::simple(Codec::Pcmu));
    s.set_rtp_remote(
        LegId::B,
        RtpRemote {
            addr: addr("10.0.0.2:6000"),
            rtcp: None,
            rtcp_mux: true,
            latch: false,
        },
    );
    let mut now = Instant::ZERO;
    for _ in 0..40 {
        exchange(&mut s, &mut browser, now);
        now += Duration::from_millis(50);
    }
    assert_eq!(s.ice(LegId::A).unwrap().may_send_to(), Some(br));
    let k_gw = MasterKey::new(Profile::Aes128CmHmacSha1_80, &[1; 16], &[2; 14]).unwrap();
    let k_br = MasterKey::new(Profile::Aes128CmHmacSha1_80, &[3; 16], &[4; 14]).unwrap();
    s.set_srtp_keys(LegId::A, &k_gw, &k_br);
    (s, browser, Context::new(&k_br), now)
}

fn exchange(s: &mut MediaSession, browser: &mut IceAgent<SplitMix64>, now: Instant) {
    let mut out = Out::new();
    browser.handle_timeout(now);
    while let Some(t) = browser.poll_transmit() {
        let mut b = vec![0u8; 2048];
        b[..t.contents.len()].copy_from_slice(&t.contents);
        s.handle_datagram(
            now,
            LegId::A,
            t.destination,
            t.source,
            &mut b,
            t.contents.len(),
            &mut out,
        );
    }
    for (from, to, d) in out {
        let _ = browser.handle_receive(
            now,
            Receive {
                source: from,
                destination: to,
                contents: &d,
            },
        );
    }
}

#[test]
fn srtp_passthrough_replay_and_consent_loss() {
    let (mut s, _browser, mut tx, now) = webrtc_session();
    while s.poll_event().is_some() {}
    let mut out = Out::new();
    let mut b = vec![0u8; 2048];
    let n = RtpPacketBuilder::new(0, 7, 1234, 0x55)
        .emit(&[0xFF; 160], &mut b)
        .unwrap();
    let m = tx.protect_rtp(&mut b, n).unwrap();
    let srtp_pkt = b[..m].to_vec();
    feed(
        &mut s,
        now,
        LegId::A,
        "127.0.0.1:4000",
        "127.0.0.1:5000",
        &srtp_pkt,
        &mut out,
    );
    assert_eq!(out.len(), 1, "relayed to the trunk");
    assert_eq!(out[0].1, addr("10.0.0.2:6000"));
    let p = RtpPacket::new_checked(&out[0].2[..]).unwrap();
    assert_eq!(p.payload(), &[0xFF; 160][..], "decrypted");
    assert_eq!(p.ssrc(), s.local_ssrc(LegId::B).unwrap(), "SSRC rewritten");
    // The same packet again is a replay; from another address it is unvalidated.
    feed(
        &mut s,
        now,
        LegId::A,
        "127.0.0.1:4000",
        "127.0.0.1:5000",
        &srtp_pkt,
        &mut out,
    );
    feed(
        &mut s,
        now,
        LegId::A,
        "127.0.0.1:4000",
        "127.0.0.1:5001",
        &srtp_pkt,
        &mut out,
    );
    let st = s.stats(LegId::A).unwrap();
    assert_eq!(
        (st.srtp_replays, st.dropped_unvalidated, st.packets_in),
        (1, 1, 1)
    );
    assert_eq!(out.len(), 1);
    assert_eq!(s.counters().passthrough_packets, 1);
    // No more consent checks from the browser: after 30 s the leg ends.
    let mut t = now;
    for _ in 0..40 {
        t += Duration::from_secs(1);
        s.handle_timeout(t, &mut out);
    }
    assert!(s.is_ended());
    assert!(matches!(
        s.poll_event(),
        Some(MediaEvent::Ended {
            leg: LegId::A,
            reason: EndReason::ConsentLost
        })
    ));
}

#[test]
fn pcmu_tone_is_transcoded_to_g722() {
    use rvoip_core::codec::{G722Decoder, ToneGenerator, tone_power};
    let mut rng = SplitMix64::new(11);
    let mut s = MediaSession::new(
        Peer::Bridge,
        LegSpec::Rtp {
            local: addr("127.0.0.1:1000"),
            local_rtcp: None,
        },
        Some(LegSpec::Rtp {
            local: addr("127.0.0.1:2000"),
            local_rtcp: None,
        }),
        OpusImpl::Libopus,
        0,
        &mut rng,
    );
    for (l, a) in [(LegId::A, "10.0.0.1:5000"), (LegId::B, "10.0.0.2:6000")] {
        s.set_rtp_remote(
            l,
            RtpRemote {
                addr: addr(a),
                rtcp: None,
                rtcp_mux: true,
                latch: false,
            },
        );
    }
    s.set_format(LegId::A, MediaFormat::simple(Codec::Pcmu));
    s.set_format(LegId::B, MediaFormat::simple(Codec::G722));
    assert!(s.is_transcoding());
    let mut g = ToneGenerator::new(8000, 1000.0, 8000.0);
    let mut out = Out::new();
    for k in 0..50u16 {
        let mut pcm = [0i16; 160];
        g.fill(&mut pcm);
        let mut pay = [0u8; 160];
        rvoip_core::codec::Law::Ulaw.encode(&pcm, &mut pay);
        let mut b = vec![0u8; 256];
        let n = RtpPacketBuilder::new(0, k, 160 * u32::from(k), 9)
            .emit(&pay, &mut b)
            .unwrap();
        let t = Instant::from_millis(20 * u64::from(k));
        feed(
            &mut s,
            t,
            LegId::A,
            "127.0.0.1:1000",
            "10.0.0.1:5000",
            &b[..n],
            &mut out,
        );
        s.handle_timeout(t, &mut out);
    }
    let mut dec = G722Decoder::new();
    let mut pcm16 = Vec::new();
    let mut last_ts = None;
    for (_, to, d) in &out {
        let p = RtpPacket::new_checked(&d[..]).unwrap();
        if *to != addr("10.0.0.2:6000") || p.payload_type() != 9 {
            continue;
        }
        assert_eq!(p.payload().len(), 160, "20 ms of G.722");
        if let Some(l) = last_ts {
            assert_eq!(
                p.timestamp().wrapping_sub(l),
                160,
                "8 kHz RTP clock for G.722"
            );
        }
        last_ts = Some(p.timestamp());
        let mut o = [0i16; 320];
        let k = dec.decode(p.payload(), &mut o);
        pcm16.extend_from_slice(&o[..k]);
    }
    assert!(pcm16.len() >= 320 * 30, "{}", pcm16.len());
    let tail = &pcm16[pcm16.len() - 3200..];
    assert!(
        tone_power(tail, 1000.0, 16000) > 0.9,
        "{}",
        tone_power(tail, 1000.0, 16000)
    );
}

#[test]
fn random_and_mutated_datagrams_never_panic() {
    let (mut s, _browser, mut tx, now) = webrtc_session();
    let mut t2 = rtp_pair(true);
    let mut rng = SplitMix64::new(42);
    let mut out = Out::new();
    let mut b = vec![0u8; 2048];
    let n = RtpPacketBuilder::new(0, 1, 160, 0x55)
        .emit(&[0xFF; 160], &mut b)
        .unwrap();
    let m = tx.protect_rtp(&mut b, n).unwrap();
    let valid_srtp = b[..m].to_vec();
    let valid_rtp = rtp(9, 1440, 0);
    for k in 0..20_000u64 {
        let mut d: Vec<u8> = match k % 3 {
            0 => {
                let len = (rng.next_u64() % 300) as usize;
                (0..len).map(|_| rng.next_u64() as u8).collect()
            }
            1 => valid_srtp.clone(),
            _ => valid_rtp.clone(),
        };
        if k % 3 != 0 && !d.is_empty() {
            for _ in 0..1 + rng.next_u64() % 4 {
                let i = (rng.next_u64() as usize) % d.len();
                d[i] ^= 1 << (rng.next_u64() % 8);
            }
            d.truncate(d.len() - (rng.next_u64() as usize % d.len().min(8)));
        }
        let t = now + Duration::from_millis(k);
        feed(
            &mut s,
            t,
            LegId::A,
            "127.0.0.1:4000",
            "127.0.0.1:5000",
            &d,
            &mut out,
        );
        feed(
            &mut s,
            t,
            LegId::B,
            "127.0.0.1:4002",
            "10.0.0.2:6000",
            &d,
            &mut out,
        );
        feed(
            &mut t2,
            t,
            LegId::A,
            "127.0.0.1:1001",
            "10.0.0.1:5001",
            &d,
            &mut out,
        );
        feed(
            &mut t2,
            t,
            LegId::B,
            "127.0.0.1:2000",
            "10.0.0.2:6000",
            &d,
            &mut out,
        );
        if k % 20 == 0 {
            s.handle_timeout(t, &mut out);
            t2.handle_timeout(t, &mut out);
        }
        out.clear();
    }
    // Forged packets never authenticated on the SRTP leg.
    assert!(s.stats(LegId::A).unwrap().srtp_failures > 1000);
}

#[test]
fn settled_peers_follow_latching_and_new_remotes() {
    let mut s = rtp_pair(true);
    let mut out = Out::new();
    let t = Instant::from_millis(10);
    // Leg A (no NAT mode, RTCP port of its own, no rtcp-mux): the SDP address, and the RTCP
    // port + 1 on the RTCP socket.
    assert_eq!(
        s.settled_peers(LegId::A),
        (Some(addr("10.0.0.1:5000")), Some(addr("10.0.0.1:5001")))
    );
    // Leg B (NAT mode, rtcp-mux): nothing until the first packet latches; no RTCP socket.
    assert_eq!(s.settled_peers(LegId::B), (None, None));
    feed(
        &mut s,
        t,
        LegId::B,
        "127.0.0.1:2000",
        "10.0.0.2:7777",
        &rtp(1, 0, 8),
        &mut out,
    );
    assert_eq!(
        s.settled_peers(LegId::B),
        (Some(addr("10.0.0.2:7777")), None)
    );
    // The same address again (a re-INVITE for hold) keeps the latch.
    let same = RtpRemote {
        addr: addr("10.0.0.2:6000"),
        rtcp: None,
        rtcp_mux: true,
        latch: true,
    };
    s.set_rtp_remote(LegId::B, same);
    assert_eq!(
        s.settled_peers(LegId::B),
        (Some(addr("10.0.0.2:7777")), None)
    );
    // A new address: unsettled until a packet from the new IP latches again.
    s.set_rtp_remote(
        LegId::B,
        RtpRemote {
            addr: addr("10.0.0.3:6000"),
            ..same
        },
    );
    assert_eq!(s.settled_peers(LegId::B), (None, None));
    feed(
        &mut s,
        t,
        LegId::B,
        "127.0.0.1:2000",
        "10.0.0.3:9000",
        &rtp(2, 160, 8),
        &mut out,
    );
    assert_eq!(
        s.settled_peers(LegId::B),
        (Some(addr("10.0.0.3:9000")), None)
    );
    // Without NAT mode a new remote is settled at once, with its `a=rtcp` address.
    s.set_rtp_remote(
        LegId::A,
        RtpRemote {
            addr: addr("10.0.0.4:5000"),
            rtcp: Some(addr("10.0.0.4:5999")),
            rtcp_mux: false,
            latch: false,
        },
    );
    assert_eq!(
        s.settled_peers(LegId::A),
        (Some(addr("10.0.0.4:5000")), Some(addr("10.0.0.4:5999")))
    );
}
