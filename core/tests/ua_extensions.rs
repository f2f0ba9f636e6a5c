//! Reliable provisional responses (RFC 3262) and session timers (RFC 4028) over the
//! simulated link.

mod sim;

use rvoip_core::sip::ua::{EndReason, Event, SipMsg};
use rvoip_core::time::Duration;
use sim::{Link, Sim, config};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn raw_with(sim: &Sim, node: usize, start: &str) -> Vec<SipMsg> {
    sim.nodes[node]
        .raw
        .iter()
        .filter(|r| r.starts_with(start.as_bytes()))
        .map(|r| SipMsg::parse(r).unwrap())
        .collect()
}

#[test]
fn reliable_180_is_pracked_once_even_over_a_lossy_link() {
    for seed in 0..6 {
        let mut sim = Sim::new(20 + seed, Link::lossy(20));
        let a = sim.add(config("alice", 5060));
        let mut bob = config("bob", 5070);
        bob.use_100rel = true;
        let b = sim.add(bob);
        let now = sim.now;
        let ac = sim
            .ua(a)
            .call(now, "sip:bob@10.0.0.1:5070", b"v=0\r\n")
            .unwrap();
        let Some(Event::IncomingCall { call: bc, .. }) =
            sim.run_until(b, secs(40), |e| matches!(e, Event::IncomingCall { .. }))
        else {
            panic!("seed {seed}")
        };
        // Let the 180 be PRACKed before answering.
        sim.run_for(secs(10));
        let ringing = raw_with(&sim, b, "SIP/2.0 180");
        assert!(ringing[0].has_option("Require", "100rel"), "seed {seed}");
        let rseq = ringing[0].header("RSeq").unwrap().to_string();
        let pracks = raw_with(&sim, a, "PRACK");
        assert!(!pracks.is_empty(), "seed {seed}");
        let invite_cseq = raw_with(&sim, a, "INVITE")[0].cseq().unwrap().0;
        assert_eq!(
            pracks[0].header("RAck").unwrap(),
            format!("{rseq} {invite_cseq} INVITE")
        );
        assert_eq!(pracks[0].cseq().unwrap().0, invite_cseq + 1);
        assert!(
            sim.sent_lines(b).iter().any(|l| l == "SIP/2.0 200 OK"),
            "PRACK answered, seed {seed}"
        );
        // One Ringing event despite retransmissions of the reliable 180.
        assert_eq!(
            sim.events(a)
                .iter()
                .filter(|e| matches!(e, Event::Ringing { .. }))
                .count(),
            1
        );
        let now = sim.now;
        sim.ua(b).answer(now, bc, b"v=0\r\n").unwrap();
        assert!(
            sim.run_until(a, secs(40), |e| matches!(e, Event::Answered { .. }))
                .is_some(),
            "seed {seed}"
        );
        // The BYE continues the CSeq after the PRACK.
        let now = sim.now;
        sim.ua(a).hangup(now, ac).unwrap();
        assert!(
            sim.run_until(b, secs(40), |e| matches!(e, Event::Ended { .. }))
                .is_some(),
            "seed {seed}"
        );
        let bye = &raw_with(&sim, a, "BYE")[0];
        assert_eq!(bye.cseq().unwrap().0, invite_cseq + 2, "seed {seed}");
    }
}

#[test]
fn reliable_180_without_prack_is_retransmitted_then_504() {
    let mut sim = Sim::new(30, Link::PERFECT);
    let a = sim.add(config("alice", 5060));
    let mut bob = config("bob", 5070);
    bob.use_100rel = true;
    let b = sim.add(bob);
    sim.drop_if = Some(Box::new(|bytes: &[u8]| bytes.starts_with(b"PRACK ")));
    let now = sim.now;
    let ac = sim
        .ua(a)
        .call(now, "sip:bob@10.0.0.1:5070", b"v=0\r\n")
        .unwrap();
    let Some(Event::IncomingCall { call: bc, .. }) =
        sim.run_until(b, secs(5), |e| matches!(e, Event::IncomingCall { .. }))
    else {
        panic!()
    };
    let start = sim.nodes[b]
        .sent
        .iter()
        .find(|(_, _, l)| l == "SIP/2.0 180 Ringing")
        .unwrap()
        .0;
    let ended = sim.run_until(b, secs(60), |e| matches!(e, Event::Ended { .. }));
    assert_eq!(
        ended,
        Some(Event::Ended {
            call: bc,
            reason: EndReason::Timeout
        })
    );
    let sends: Vec<u64> = sim.nodes[b]
        .sent
        .iter()
        .filter(|(_, _, l)| l == "SIP/2.0 180 Ringing")
        .map(|(t, _, _)| (*t - start).as_millis() as u64)
        .collect();
    // T1 doubling (capped at T2), 64·T1 without PRACK → 5xx.
    assert_eq!(&sends[..5], [0, 500, 1500, 3500, 7500]);
    // RFC 3261 §21.5.5's phrase.
    assert!(
        sim.nodes[b]
            .sent
            .iter()
            .any(|(_, _, l)| l == "SIP/2.0 504 Server Time-out")
    );
    let a_end = sim.run_until(a, secs(5), |e| matches!(e, Event::Ended { .. }));
    assert_eq!(
        a_end,
        Some(Event::Ended {
            call: ac,
            reason: EndReason::Rejected(504)
        })
    );
}

fn timer_pair(seed: u64, se: u32, b_min_se: u32) -> (Sim, usize, usize) {
    let mut sim = Sim::new(seed, Link::PERFECT);
    let mut alice = config("alice", 5060);
    alice.session_expires = Some(se);
    let a = sim.add(alice);
    let mut bob = config("bob", 5070);
    bob.min_se = b_min_se;
    let b = sim.add(bob);
    (sim, a, b)
}

fn connect(
    sim: &mut Sim,
    a: usize,
    b: usize,
) -> (rvoip_core::sip::ua::CallId, rvoip_core::sip::ua::CallId) {
    let now = sim.now;
    let ac = sim
        .ua(a)
        .call(now, "sip:bob@10.0.0.1:5070", b"v=0\r\n")
        .unwrap();
    let Some(Event::IncomingCall { call: bc, .. }) =
        sim.run_until(b, secs(40), |e| matches!(e, Event::IncomingCall { .. }))
    else {
        panic!()
    };
    let now = sim.now;
    sim.ua(b).answer(now, bc, b"v=0\r\n").unwrap();
    assert!(
        sim.run_until(a, secs(40), |e| matches!(e, Event::Answered { .. }))
            .is_some()
    );
    (ac, bc)
}

#[test]
fn session_timer_is_refreshed_by_the_uac_at_half_interval() {
    let (mut sim, a, b) = timer_pair(40, 90, 90);
    let start = sim.now;
    connect(&mut sim, a, b);
    let ok = &raw_with(&sim, b, "SIP/2.0 200 OK")[0];
    assert_eq!(ok.header("Session-Expires"), Some("90;refresher=uac"));
    assert!(ok.has_option("Require", "timer"));
    sim.run_for(secs(200));
    assert_eq!(sim.ua(a).call_count(), 1, "the call survives its refreshes");
    assert_eq!(sim.ua(b).call_count(), 1);
    let updates: Vec<u64> = sim.nodes[a]
        .sent
        .iter()
        .filter(|(_, _, l)| l.starts_with("UPDATE"))
        .map(|(t, _, _)| (*t - start).as_secs())
        .collect();
    // Every 45 s (half of 90 s), starting 45 s after the answer.
    assert_eq!(updates.len(), 4, "{updates:?}");
    for w in updates.windows(2) {
        assert_eq!(w[1] - w[0], 45);
    }
}

#[test]
fn session_expires_without_refresh_and_the_non_refresher_hangs_up() {
    let (mut sim, a, b) = timer_pair(41, 90, 90);
    sim.drop_if = Some(Box::new(|bytes: &[u8]| bytes.starts_with(b"UPDATE ")));
    let (ac, bc) = connect(&mut sim, a, b);
    let answered = sim.now;
    let ended = sim.run_until(b, secs(120), |e| matches!(e, Event::Ended { .. }));
    assert_eq!(
        ended,
        Some(Event::Ended {
            call: bc,
            reason: EndReason::SessionExpired
        })
    );
    // RFC 4028 §10: BYE at interval − min(32, interval/3) = 60 s.
    let waited = sim.now - answered;
    assert!(waited >= secs(59) && waited <= secs(61), "{waited:?}");
    let a_end = sim.run_until(a, secs(5), |e| matches!(e, Event::Ended { .. }));
    assert_eq!(
        a_end,
        Some(Event::Ended {
            call: ac,
            reason: EndReason::RemoteHangup
        })
    );
}

#[test]
fn interval_too_small_gets_422_and_a_retry_with_min_se() {
    let (mut sim, a, b) = timer_pair(42, 90, 120);
    connect(&mut sim, a, b);
    let lines = sim.sent_lines(b);
    assert!(
        lines
            .iter()
            .any(|l| l == "SIP/2.0 422 Session Interval Too Small"),
        "{lines:?}"
    );
    let invites = raw_with(&sim, a, "INVITE");
    assert_eq!(invites.len(), 2);
    assert_eq!(invites[1].header("Session-Expires"), Some("120"));
    assert_eq!(invites[1].header("Min-SE"), Some("120"));
    let oks = raw_with(&sim, b, "SIP/2.0 200 OK");
    assert_eq!(
        oks.last().unwrap().header("Session-Expires"),
        Some("120;refresher=uac")
    );
}

#[test]
fn early_media_183_reliable_and_plain() {
    for use_100rel in [false, true] {
        let mut sim = Sim::new(50, Link::lossy(10));
        let a = sim.add(config("alice", 5060));
        let mut bob = config("bob", 5070);
        bob.use_100rel = use_100rel;
        let b = sim.add(bob);
        let now = sim.now;
        let ac = sim
            .ua(a)
            .call(now, "sip:bob@10.0.0.1:5070", b"v=0\r\n")
            .unwrap();
        let Some(Event::IncomingCall { call: bc, .. }) =
            sim.run_until(b, secs(40), |e| matches!(e, Event::IncomingCall { .. }))
        else {
            panic!()
        };
        // With 100rel the 180 must be PRACKed before another reliable provisional.
        sim.run_for(secs(10));
        let now = sim.now;
        sim.ua(b)
            .early_media(now, bc, b"v=0\r\nm=audio 5000 RTP/AVP 0\r\n")
            .unwrap();
        let early = sim.run_until(a, secs(40), |e| matches!(e, Event::EarlyMedia { .. }));
        assert_eq!(
            early,
            Some(Event::EarlyMedia {
                call: ac,
                sdp: b"v=0\r\nm=audio 5000 RTP/AVP 0\r\n".to_vec()
            })
        );
        let pracks = raw_with(&sim, a, "PRACK").len();
        assert_eq!(
            pracks >= 2,
            use_100rel,
            "PRACK for the 180 and the 183 only with 100rel"
        );
        let now = sim.now;
        sim.ua(b).answer(now, bc, b"v=0\r\n").unwrap();
        assert!(
            sim.run_until(a, secs(40), |e| matches!(e, Event::Answered { .. }))
                .is_some()
        );
    }
}

/// Drives alice (UAC, refresher) against a hand-written peer whose 2xx carries `allow`;
/// returns what alice sends when the session timer asks for a refresh, the peer's 2xx to
/// it having been fed back, and alice's events.
fn refresh_against_peer(allow: &str) -> (SipMsg, SipMsg, Vec<Event>) {
    use rvoip_core::rand::SplitMix64;
    use rvoip_core::sip::ua::{Received, Transport, UaConfig, UserAgent, response};
    use rvoip_core::time::Instant;
    let alice_addr = "10.0.0.1:5060".parse().unwrap();
    let bob_addr = "10.0.0.2:5060".parse().unwrap();
    let mut cfg = UaConfig::new("sip:alice@example.com", alice_addr);
    cfg.session_expires = Some(90);
    let mut alice = UserAgent::new(cfg, SplitMix64::new(7));
    let sdp = b"v=0\r\no=alice 2890844526 7 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
    let now = Instant::ZERO;
    let call = alice.call(now, "sip:bob@10.0.0.2:5060", sdp).unwrap();
    let invite = SipMsg::parse(&alice.poll_transmit().unwrap().bytes).unwrap();
    let feed = |alice: &mut UserAgent<SplitMix64>, now, m: &SipMsg| {
        alice.handle_receive(
            now,
            Received {
                transport: Transport::Udp,
                source: bob_addr,
                bytes: &m.to_bytes(),
            },
        );
    };
    let ok = |req: &SipMsg| {
        let mut ok = response(req, 200, Some("bobtag"));
        ok.push("Contact", "<sip:bob@10.0.0.2:5060>");
        ok.push("Allow", allow);
        ok.push("Session-Expires", "90;refresher=uac");
        ok.push("Require", "timer");
        if req.method() == Some(rvoip_core::sip::ua::Method::Invite) {
            ok.push("Content-Type", "application/sdp");
            ok.body = b"v=0\r\no=bob 1 1 IN IP4 10.0.0.2\r\n".to_vec();
        }
        ok
    };
    feed(&mut alice, now, &ok(&invite));
    let ack = SipMsg::parse(&alice.poll_transmit().unwrap().bytes).unwrap();
    assert_eq!(ack.method(), Some(rvoip_core::sip::ua::Method::Ack));
    // The refresher refreshes at half the interval (RFC 4028 §10).
    let at = alice.poll_timeout().unwrap();
    assert!(at <= Instant::ZERO + secs(45), "{at:?}");
    let mut events: Vec<Event> = core::iter::from_fn(|| alice.poll_event()).collect();
    let mut refresh = None;
    let mut t = now;
    while refresh.is_none() && t < Instant::ZERO + secs(46) {
        t = alice.poll_timeout().unwrap().max(t);
        alice.handle_timeout(t);
        while let Some(x) = alice.poll_transmit() {
            let m = SipMsg::parse(&x.bytes).unwrap();
            if m.is_request() {
                refresh = Some(m);
            }
        }
    }
    let refresh = refresh.expect("a refresh request");
    feed(&mut alice, t, &ok(&refresh));
    let after = alice
        .poll_transmit()
        .map(|x| SipMsg::parse(&x.bytes).unwrap())
        .unwrap_or_else(|| SipMsg::response(0, ""));
    events.extend(core::iter::from_fn(|| alice.poll_event()));
    assert!(
        !events.contains(&Event::Ended {
            call,
            reason: EndReason::SessionExpired
        }),
        "{events:?}"
    );
    assert_eq!(invite.cseq().unwrap().0 + 1, refresh.cseq().unwrap().0);
    (refresh, after, events)
}

#[test]
fn session_refresh_uses_update_when_the_peer_allows_it() {
    let (refresh, after, _) = refresh_against_peer("INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE");
    assert_eq!(refresh.method(), Some(rvoip_core::sip::ua::Method::Update));
    assert!(refresh.body.is_empty());
    assert!(refresh.header("Session-Expires").is_some());
    assert_eq!(after.code(), Some(0), "no ACK for an UPDATE");
}

#[test]
fn session_refresh_falls_back_to_reinvite_with_a_new_sdp_version() {
    let (refresh, ack, _) = refresh_against_peer("INVITE, ACK, BYE, CANCEL, OPTIONS");
    assert_eq!(refresh.method(), Some(rvoip_core::sip::ua::Method::Invite));
    assert_eq!(refresh.to_tag(), Some("bobtag"), "in the dialog");
    assert!(
        refresh
            .header("Session-Expires")
            .is_some_and(|v| v.starts_with("90"))
    );
    let body = core::str::from_utf8(&refresh.body).unwrap();
    // Same session description, version 7 → 8 (RFC 3264 §8).
    assert!(
        body.contains("o=alice 2890844526 8 IN IP4 10.0.0.1\r\n"),
        "{body}"
    );
    assert!(body.contains("m=audio 4000 RTP/AVP 0\r\n"), "{body}");
    // The 2xx to the refresh re-INVITE is ACKed with its CSeq.
    assert_eq!(ack.method(), Some(rvoip_core::sip::ua::Method::Ack));
    assert_eq!(ack.cseq().unwrap().0, refresh.cseq().unwrap().0);
}
