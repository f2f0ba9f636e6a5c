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
