//! Property tests of the four RFC 3261 §17 machines against the timer rules, for any T1,
//! T2, T4, transport and response sequence: retransmit intervals double from T1 (capped at
//! T2 for Timers E and G), Timer B/F/H fire at 64·T1, no retransmission over reliable
//! transports, and every machine terminates.

use proptest::prelude::*;
use rvoip_core::sip::transaction::{
    ClientState, ClientTimerAction, ClientTransaction, ResponseAction, ServerTimerAction,
    ServerTransaction, Timer, TimerConfig,
};
use rvoip_core::time::{Duration, Instant};

fn cfg(t1: u64, t2_mult: u64, t4: u64) -> TimerConfig {
    TimerConfig {
        t1: Duration::from_millis(t1),
        t2: Duration::from_millis(t1 * t2_mult),
        t4: Duration::from_millis(t4),
    }
}

proptest! {
    #[test]
    fn client_retransmissions_follow_the_rfc(
        t1 in 50u64..2000, t2_mult in 1u64..16, t4 in 100u64..10_000,
        invite in any::<bool>(), reliable in any::<bool>(),
    ) {
        let c = cfg(t1, t2_mult, t4);
        let mut tx = ClientTransaction::new(Instant::ZERO, c, invite, reliable, vec![1]);
        let mut sends = vec![0u64];
        let mut end = None;
        while let Some(at) = tx.poll_timeout() {
            match tx.handle_timeout(at) {
                Some(ClientTimerAction::Retransmit) => sends.push(at.as_millis()),
                Some(other) => { end = Some((at.as_millis(), other)); break; }
                None => prop_assert!(false, "a deadline without action"),
            }
        }
        prop_assert_eq!(end, Some((64 * t1, ClientTimerAction::Timeout)));
        prop_assert!(tx.is_terminated());
        if reliable {
            prop_assert_eq!(sends.len(), 1, "no retransmission over reliable transports");
        } else {
            for (i, w) in sends.windows(2).enumerate() {
                let interval = w[1] - w[0];
                let doubled = t1 << i.min(40);
                let expected = if invite { doubled } else { doubled.min(t1 * t2_mult) };
                prop_assert_eq!(interval, expected, "interval {}", i);
            }
        }
    }

    #[test]
    fn server_invite_non_2xx_retransmits_until_ack_or_timer_h(
        t1 in 50u64..2000, t2_mult in 1u64..16, t4 in 100u64..10_000,
        reliable in any::<bool>(), ack_after in prop::option::of(0u64..100_000),
    ) {
        let c = cfg(t1, t2_mult, t4);
        let mut tx = ServerTransaction::new(c, true, reliable);
        prop_assert!(tx.send_response(Instant::ZERO, 486, vec![2]));
        let mut last = 0;
        let mut acked = false;
        while let Some(at) = tx.poll_timeout() {
            if let Some(a) = ack_after.filter(|a| !acked && Instant::from_millis(*a) < at) {
                acked = true;
                prop_assert!(tx.handle_ack(Instant::from_millis(a)));
                // Timer I: T4 on UDP, 0 over reliable transports.
                let i = tx.timer(Timer::I);
                if reliable {
                    prop_assert!(tx.is_terminated());
                } else {
                    prop_assert_eq!(i, Some(Instant::from_millis(a + t4)));
                }
                continue;
            }
            match tx.handle_timeout(at) {
                Some(ServerTimerAction::Retransmit) => {
                    prop_assert!(!reliable);
                    prop_assert!(at.as_millis() - last <= t1 * t2_mult, "Timer G capped at T2");
                    last = at.as_millis();
                }
                Some(ServerTimerAction::AckTimeout) => {
                    prop_assert!(!acked);
                    prop_assert_eq!(at.as_millis(), 64 * t1, "Timer H = 64·T1");
                }
                Some(ServerTimerAction::Terminated) => prop_assert!(acked),
                None => prop_assert!(false, "a deadline without action"),
            }
        }
        prop_assert!(tx.is_terminated());
    }

    #[test]
    fn any_response_sequence_keeps_client_machines_consistent(
        invite in any::<bool>(), reliable in any::<bool>(),
        codes in prop::collection::vec(100u16..700, 0..12),
    ) {
        let mut tx = ClientTransaction::new(Instant::ZERO, TimerConfig::default(), invite, reliable, vec![1]);
        let mut finals_delivered = 0;
        let mut acks = 0;
        for (i, code) in codes.iter().enumerate() {
            let now = Instant::from_millis(i as u64 * 10);
            match tx.handle_response(now, *code) {
                ResponseAction::Deliver if *code >= 200 => finals_delivered += 1,
                ResponseAction::DeliverAndAck => { finals_delivered += 1; acks += 1; tx.set_ack(vec![3]); }
                ResponseAction::ResendAck => prop_assert!(tx.ack().is_some()),
                _ => {}
            }
        }
        // One final response reaches the TU (INVITE: 2xx retransmissions also do, RFC 6026).
        let two_xx = codes.iter().filter(|c| (200..300).contains(*c)).count();
        if !invite { prop_assert!(finals_delivered <= 1); }
        if invite { prop_assert!(finals_delivered <= 1 + two_xx); prop_assert!(acks <= 1); }
        // And the machine always ends.
        let mut guard = 0;
        while let Some(at) = tx.poll_timeout() {
            tx.handle_timeout(at);
            guard += 1;
            prop_assert!(guard < 100);
        }
        if invite && tx.state() == ClientState::Proceeding {
            // An INVITE with only provisionals waits for the TU (CANCEL), §17.1.1.2.
            prop_assert!(codes.iter().all(|c| *c < 200) && codes.iter().any(|c| *c < 200));
        } else {
            prop_assert!(tx.is_terminated());
        }
    }
}
