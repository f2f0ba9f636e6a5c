//! Calls between user agents over a simulated link (RFC 3261 §13–§15, §9, §17 timers).

mod sim;

use rvoip_core::sip::ua::{CallId, EndReason, Event};
use rvoip_core::time::Duration;
use sim::{Link, Sim, config};

const OFFER: &[u8] =
    b"v=0\r\no=a 1 1 IN IP4 10.0.0.1\r\ns=-\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n";
const ANSWER: &[u8] =
    b"v=0\r\no=b 1 1 IN IP4 10.0.0.1\r\ns=-\r\nm=audio 5000 RTP/AVP 0\r\na=sendrecv\r\n";

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn incoming(sim: &mut Sim, i: usize) -> CallId {
    match sim.run_until(i, secs(40), |e| matches!(e, Event::IncomingCall { .. })) {
        Some(Event::IncomingCall { call, .. }) => call,
        other => panic!("no incoming call: {other:?}"),
    }
}

/// Sets up A calling B and B answering; returns (sim, a_call, b_call).
fn established(seed: u64, link: Link) -> (Sim, CallId, CallId) {
    let mut sim = Sim::new(seed, link);
    let a = sim.add(config("alice", 5060));
    let b = sim.add(config("bob", 5070));
    let now = sim.now;
    let ac = sim.ua(a).call(now, "sip:bob@10.0.0.1:5070", OFFER).unwrap();
    let bc = incoming(&mut sim, b);
    let now = sim.now;
    sim.ua(b).answer(now, bc, ANSWER).unwrap();
    let answered = sim.run_until(a, secs(40), |e| matches!(e, Event::Answered { .. }));
    assert_eq!(
        answered,
        Some(Event::Answered {
            call: ac,
            sdp: Some(ANSWER.to_vec())
        })
    );
    assert!(
        sim.run_until(b, secs(40), |e| matches!(e, Event::Answered { .. }))
            .is_some(),
        "B never saw the ACK"
    );
    (sim, ac, bc)
}

#[test]
fn call_answer_hangup_and_tables_drain() {
    let (mut sim, ac, bc) = established(1, Link::PERFECT);
    assert!(sim.saw(0, |e| *e == Event::Ringing { call: ac }));
    assert!(sim.saw(1, |e| matches!(e, Event::IncomingCall { sdp: Some(s), from, .. } if s == OFFER && from.contains("alice"))));
    let now = sim.now;
    sim.ua(0).hangup(now, ac).unwrap();
    let ended = sim.run_until(1, secs(5), |e| matches!(e, Event::Ended { .. }));
    assert_eq!(
        ended,
        Some(Event::Ended {
            call: bc,
            reason: EndReason::RemoteHangup
        })
    );
    assert_eq!(sim.ua(0).call_count(), 0);
    assert_eq!(sim.ua(1).call_count(), 0);
    // Every transaction ends by Timers J/K/L/M (≤ 64·T1 after the last message).
    sim.run_for(secs(40));
    assert_eq!(sim.ua(0).transaction_count(), 0);
    assert_eq!(sim.ua(1).transaction_count(), 0);
    assert_eq!(sim.ua(0).poll_timeout(), None);
    let lines = sim.sent_lines(0);
    assert!(lines[0].starts_with("INVITE sip:bob@10.0.0.1:5070 SIP/2.0"));
    assert!(lines.iter().any(|l| l.starts_with("ACK ")));
    assert!(lines.iter().any(|l| l.starts_with("BYE ")));
}

#[test]
fn calls_complete_over_a_lossy_link() {
    for seed in 0..12 {
        let (mut sim, ac, bc) = established(100 + seed, Link::lossy(20));
        let now = sim.now;
        sim.ua(1).hangup(now, bc).unwrap();
        let ended = sim.run_until(0, secs(40), |e| matches!(e, Event::Ended { .. }));
        assert_eq!(
            ended,
            Some(Event::Ended {
                call: ac,
                reason: EndReason::RemoteHangup
            }),
            "seed {seed}"
        );
        sim.run_for(secs(70));
        assert_eq!(
            sim.ua(0).transaction_count() + sim.ua(1).transaction_count(),
            0,
            "seed {seed}"
        );
        // No duplicate events despite duplicated and retransmitted messages.
        let answered = sim
            .events(0)
            .iter()
            .filter(|e| matches!(e, Event::Answered { .. }))
            .count();
        assert_eq!(answered, 1, "seed {seed}");
    }
}

#[test]
fn cancel_of_a_ringing_call() {
    let mut sim = Sim::new(7, Link::PERFECT);
    let a = sim.add(config("alice", 5060));
    let b = sim.add(config("bob", 5070));
    let now = sim.now;
    let ac = sim.ua(a).call(now, "sip:bob@10.0.0.1:5070", OFFER).unwrap();
    let bc = incoming(&mut sim, b);
    assert!(
        sim.run_until(a, secs(2), |e| matches!(e, Event::Ringing { .. }))
            .is_some()
    );
    let now = sim.now;
    sim.ua(a).hangup(now, ac).unwrap();
    let ended = sim.run_until(b, secs(5), |e| matches!(e, Event::Ended { .. }));
    assert_eq!(
        ended,
        Some(Event::Ended {
            call: bc,
            reason: EndReason::Cancelled
        })
    );
    sim.run_for(secs(40));
    let lines = sim.sent_lines(b);
    assert!(
        lines.iter().any(|l| l == "SIP/2.0 487 Request Terminated"),
        "{lines:?}"
    );
    assert!(sim.sent_lines(a).iter().any(|l| l.starts_with("CANCEL ")));
    assert!(
        sim.sent_lines(a).iter().any(|l| l.starts_with("ACK ")),
        "487 is ACKed by the transaction"
    );
    assert_eq!(
        sim.events(a),
        vec![
            Event::Ringing { call: ac },
            Event::Ended {
                call: ac,
                reason: EndReason::LocalHangup
            }
        ]
    );
    assert_eq!(
        sim.ua(a).transaction_count() + sim.ua(b).transaction_count(),
        0
    );
}

#[test]
fn rejected_call_and_timer_b_timeout() {
    let mut sim = Sim::new(8, Link::PERFECT);
    let a = sim.add(config("alice", 5060));
    let b = sim.add(config("bob", 5070));
    let now = sim.now;
    let ac = sim.ua(a).call(now, "sip:bob@10.0.0.1:5070", OFFER).unwrap();
    let bc = incoming(&mut sim, b);
    let now = sim.now;
    sim.ua(b).reject(now, bc, 486).unwrap();
    let ended = sim.run_until(a, secs(5), |e| matches!(e, Event::Ended { .. }));
    assert_eq!(
        ended,
        Some(Event::Ended {
            call: ac,
            reason: EndReason::Rejected(486)
        })
    );

    // Nobody at 10.0.0.1:5999: Timer A retransmits at 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s and
    // Timer B ends the call at 64·T1 = 32 s.
    let start = sim.now;
    let lost = sim
        .ua(a)
        .call(start, "sip:nobody@10.0.0.1:5999", OFFER)
        .unwrap();
    let ended = sim.run_until(
        a,
        secs(60),
        |e| matches!(e, Event::Ended { call, .. } if *call == lost),
    );
    assert_eq!(
        ended,
        Some(Event::Ended {
            call: lost,
            reason: EndReason::Timeout
        })
    );
    assert_eq!(sim.now - start, secs(32));
    let sends: Vec<u64> = sim.nodes[a]
        .sent
        .iter()
        .filter(|(t, d, l)| *t >= start && d.port() == 5999 && l.starts_with("INVITE"))
        .map(|(t, _, _)| (*t - start).as_millis() as u64)
        .collect();
    assert_eq!(sends, [0, 500, 1500, 3500, 7500, 15_500, 31_500]);
}

#[test]
fn forked_early_dialogs_and_a_second_2xx_is_acked_and_released() {
    use rvoip_core::sip::ua::SipMsg;
    let mut sim = Sim::new(12, Link::PERFECT);
    let a = sim.add(config("alice", 5060));
    let now = sim.now;
    let ac = sim.ua(a).call(now, "sip:bob@10.0.0.1:5070", OFFER).unwrap();
    sim.drain();
    let invite = SipMsg::parse(&sim.nodes[a].raw[0]).unwrap();
    let reply = |code: &str, tag: &str, port: u16| {
        let mut r = format!("SIP/2.0 {code}\r\n");
        for h in ["Via", "From"] {
            r.push_str(&format!("{h}: {}\r\n", invite.header(h).unwrap()));
        }
        r.push_str(&format!(
            "To: {};tag={tag}\r\n",
            invite.header("To").unwrap()
        ));
        r.push_str(&format!(
            "Call-ID: {}\r\nCSeq: {}\r\n",
            invite.call_id().unwrap(),
            invite.header("CSeq").unwrap()
        ));
        r.push_str(&format!(
            "Contact: <sip:bob@10.0.0.1:{port}>\r\nContent-Length: 0\r\n\r\n"
        ));
        r.into_bytes()
    };
    let proxy = sim::addr(5070);
    sim.inject(a, proxy, &reply("180 Ringing", "fork1", 5071));
    sim.inject(a, proxy, &reply("180 Ringing", "fork2", 5072));
    // Retransmitted 180 of fork 1: no second event.
    sim.inject(a, proxy, &reply("180 Ringing", "fork1", 5071));
    let rings = sim
        .events(a)
        .iter()
        .filter(|e| matches!(e, Event::Ringing { .. }))
        .count();
    assert_eq!(rings, 2, "one Ringing per fork");
    let out = sim.inject(a, proxy, &reply("200 OK", "fork2", 5072));
    assert_eq!(out.len(), 1);
    assert!(
        out[0].starts_with("ACK sip:bob@10.0.0.1:5072 SIP/2.0"),
        "{}",
        out[0]
    );
    assert!(sim.saw(
        a,
        |e| matches!(e, Event::Answered { call, .. } if *call == ac)
    ));
    // The other fork answers too: ACK it and release it with BYE (§13.2.2.4).
    let out = sim.inject(a, proxy, &reply("200 OK", "fork1", 5071));
    assert_eq!(out.len(), 2, "{out:?}");
    assert!(out[0].starts_with("ACK sip:bob@10.0.0.1:5071 SIP/2.0"));
    assert!(out[1].starts_with("BYE sip:bob@10.0.0.1:5071 SIP/2.0"));
    assert!(out[1].contains(";tag=fork1"));
    assert_eq!(
        sim.ua(a).call_count(),
        1,
        "the answered fork's call stays up"
    );
}

#[test]
fn reliable_transport_has_no_retransmissions_and_zero_wait_timers() {
    let mut sim = Sim::new(13, Link::PERFECT);
    sim.transport = rvoip_core::sip::ua::Transport::Tcp;
    let mut ca = config("alice", 5060);
    ca.transport = rvoip_core::sip::ua::Transport::Tcp;
    let mut cb = config("bob", 5070);
    cb.transport = rvoip_core::sip::ua::Transport::Tcp;
    let a = sim.add(ca);
    let b = sim.add(cb);
    let now = sim.now;
    let id = sim
        .ua(a)
        .send_message(now, "sip:bob@10.0.0.1:5070", "hi")
        .unwrap();
    let st = sim.run_until(a, secs(1), |e| matches!(e, Event::MessageStatus { .. }));
    assert_eq!(st, Some(Event::MessageStatus { id, code: 200 }));
    // Timers J and K are zero over TCP: both transactions are gone at once.
    assert_eq!(
        (sim.ua(a).transaction_count(), sim.ua(b).transaction_count()),
        (0, 0)
    );
    // Nobody listens at 5999: no Timer A retransmissions, Timer B still ends it at 32 s.
    let now = sim.now;
    let lost = sim.ua(a).call(now, "sip:x@10.0.0.1:5999", OFFER).unwrap();
    let ended = sim.run_until(a, secs(60), |e| matches!(e, Event::Ended { .. }));
    assert_eq!(
        ended,
        Some(Event::Ended {
            call: lost,
            reason: EndReason::Timeout
        })
    );
    assert_eq!(sim.now - now, secs(32));
    assert_eq!(
        sim.sent_lines(a)
            .iter()
            .filter(|l| l.starts_with("INVITE"))
            .count(),
        1
    );
    assert!(sim.nodes[a].sent.iter().all(|(_, _, l)| !l.is_empty()));
}

#[test]
fn unanswered_calls_time_out_on_both_sides() {
    // Caller gives up first (180 s): CANCEL; the callee sees Cancelled.
    let mut sim = Sim::new(14, Link::PERFECT);
    let a = sim.add(config("alice", 5060));
    let b = sim.add(config("bob", 5070));
    let now = sim.now;
    let ac = sim.ua(a).call(now, "sip:bob@10.0.0.1:5070", OFFER).unwrap();
    let bc = incoming(&mut sim, b);
    let ended = sim.run_until(a, secs(200), |e| matches!(e, Event::Ended { .. }));
    assert_eq!(
        ended,
        Some(Event::Ended {
            call: ac,
            reason: EndReason::Timeout
        })
    );
    assert_eq!((sim.now - now).as_secs(), 180);
    let b_end = sim.run_until(b, secs(5), |e| matches!(e, Event::Ended { .. }));
    assert_eq!(
        b_end,
        Some(Event::Ended {
            call: bc,
            reason: EndReason::Cancelled
        })
    );

    // Callee gives up first (60 s): 480 Temporarily Unavailable.
    let mut sim = Sim::new(15, Link::PERFECT);
    let a = sim.add(config("alice", 5060));
    let mut cb = config("bob", 5070);
    cb.no_answer_timeout = secs(60);
    let b = sim.add(cb);
    let now = sim.now;
    let ac = sim.ua(a).call(now, "sip:bob@10.0.0.1:5070", OFFER).unwrap();
    let bc = incoming(&mut sim, b);
    let ended = sim.run_until(a, secs(100), |e| matches!(e, Event::Ended { .. }));
    assert_eq!(
        ended,
        Some(Event::Ended {
            call: ac,
            reason: EndReason::Rejected(480)
        })
    );
    assert!(sim.saw(b, |e| *e
        == Event::Ended {
            call: bc,
            reason: EndReason::Timeout
        }));
}

#[test]
fn a_2xx_retransmitted_after_hangup_is_still_acked() {
    use rvoip_core::sip::ua::SipMsg;
    let (mut sim, ac, _) = established(16, Link::PERFECT);
    let now = sim.now;
    sim.ua(0).hangup(now, ac).unwrap();
    sim.run_for(secs(1));
    let ok = sim.nodes[1]
        .raw
        .iter()
        .find(|r| r.starts_with(b"SIP/2.0 200 OK"))
        .unwrap()
        .clone();
    assert_eq!(
        SipMsg::parse(&ok).unwrap().cseq().unwrap().1,
        rvoip_core::sip::ua::Method::Invite
    );
    let out = sim.inject(0, sim::addr(5070), &ok);
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(
        out[0].starts_with("ACK sip:bob@10.0.0.1:5070 SIP/2.0"),
        "{}",
        out[0]
    );
    // §13.2.2.4: the 2xx's dialog (From, To with its tag, Call-ID) and CSeq number.
    let (ok, ack) = (
        SipMsg::parse(&ok).unwrap(),
        SipMsg::parse(out[0].as_bytes()).unwrap(),
    );
    for h in ["From", "To", "Call-ID"] {
        assert_eq!(ack.header(h), ok.header(h), "{h}");
    }
    assert_eq!(
        ack.cseq(),
        Some((ok.cseq().unwrap().0, rvoip_core::sip::ua::Method::Ack))
    );
    assert!(ack.branch().is_some_and(|b| b != ok.branch().unwrap()));
}

#[test]
fn transport_errors_fail_pending_requests_with_503() {
    let mut sim = Sim::new(17, Link::PERFECT);
    let a = sim.add(config("alice", 5060));
    let now = sim.now;
    let call = sim.ua(a).call(now, "sip:x@10.0.0.1:5999", OFFER).unwrap();
    let msg = sim
        .ua(a)
        .send_message(now, "sip:x@10.0.0.1:5999", "hi")
        .unwrap();
    let other = sim
        .ua(a)
        .send_message(now, "sip:y@10.0.0.1:5998", "hi")
        .unwrap();
    sim.ua(a).handle_transport_error(now, sim::addr(5999));
    sim.drain();
    assert!(sim.saw(a, |e| *e
        == Event::Ended {
            call,
            reason: EndReason::Rejected(503)
        }));
    assert!(sim.saw(a, |e| *e == Event::MessageStatus { id: msg, code: 503 }));
    assert!(!sim.saw(
        a,
        |e| matches!(e, Event::MessageStatus { id, .. } if *id == other)
    ));
    assert_eq!(
        sim.ua(a).transaction_count(),
        1,
        "only the request to the other address is left"
    );
    assert_eq!(sim.ua(a).call_count(), 0);
}
