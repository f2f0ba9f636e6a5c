//! RFC 4733 sender → lossy, reordering link → receiver, on simulated time.

use rvoip_core::rand::{Rng, SplitMix64};
use rvoip_core::rtp::dtmf::{DtmfPacket, event_from_char};
use rvoip_core::rtp::{DtmfEvent, DtmfReceiver, DtmfSender, DtmfSenderConfig, TelephoneEvent};
use rvoip_core::time::{Duration, Instant};

/// Sends `digits` (100 ms each) and returns every packet with its send time.
fn send_all(digits: &str, cfg: DtmfSenderConfig) -> Vec<(Instant, DtmfPacket)> {
    let mut s = DtmfSender::new(cfg);
    let t0 = Instant::from_millis(500);
    for c in digits.chars() {
        s.send(
            t0,
            12_345,
            event_from_char(c).unwrap(),
            Duration::from_millis(100),
        )
        .unwrap();
    }
    let mut sent = Vec::new();
    let mut now = t0;
    loop {
        while let Some(p) = s.poll_transmit() {
            sent.push((now, p));
        }
        match s.poll_timeout() {
            Some(t) => {
                now = t;
                s.handle_timeout(t);
            }
            None => break,
        }
    }
    sent
}

#[test]
fn digits_survive_loss_and_reordering() {
    let digits = "159#*0D";
    let cfg = DtmfSenderConfig::default();
    let sent = send_all(digits, cfg);
    // Sanity of the sender's output: one marker per digit, three ends per digit.
    assert_eq!(sent.iter().filter(|(_, p)| p.marker).count(), digits.len());
    assert_eq!(
        sent.iter().filter(|(_, p)| p.event().end).count(),
        3 * digits.len()
    );

    for seed in 0..200u64 {
        let mut rng = SplitMix64::new(seed);
        // 30 % loss, 0–30 ms of delay (so some packets are reordered).
        let mut arrivals: Vec<(Instant, DtmfPacket)> = Vec::new();
        for (t, p) in &sent {
            let keep = rng.below(100) >= 30;
            let delay = Duration::from_micros(rng.below(30_000));
            if keep {
                arrivals.push((*t + delay, *p));
            }
        }
        arrivals.sort_by_key(|a| a.0);

        let mut r = DtmfReceiver::new(Duration::from_millis(800));
        let mut events = Vec::new();
        let mut last = Instant::ZERO;
        for (t, p) in &arrivals {
            r.handle_timeout(*t);
            r.handle_packet(*t, p.timestamp, &p.payload).unwrap();
            while let Some(e) = r.poll_event() {
                events.push(e);
            }
            last = *t;
        }
        r.handle_timeout(last + Duration::from_secs(2));
        while let Some(e) = r.poll_event() {
            events.push(e);
        }

        // Which digits had at least one packet delivered, and which an end packet.
        let delivered: Vec<u32> = digit_timestamps(&sent)
            .into_iter()
            .filter(|ts| arrivals.iter().any(|(_, p)| p.timestamp == *ts))
            .collect();
        let ends: Vec<_> = events
            .iter()
            .filter_map(|e| match *e {
                DtmfEvent::End {
                    event,
                    timestamp,
                    duration,
                    ..
                } => Some((event, timestamp, duration)),
                _ => None,
            })
            .collect();
        let starts = events
            .iter()
            .filter(|e| matches!(e, DtmfEvent::Start { .. }))
            .count();
        // Each delivered digit reported exactly once, in order.
        assert_eq!(ends.len(), delivered.len(), "seed {seed}: {events:?}");
        assert_eq!(starts, delivered.len(), "seed {seed}");
        for (i, (event, ts, duration)) in ends.iter().enumerate() {
            assert_eq!(*ts, delivered[i]);
            let idx = digit_timestamps(&sent)
                .iter()
                .position(|t| t == ts)
                .unwrap();
            assert_eq!(
                Some(*event),
                event_from_char(digits.chars().nth(idx).unwrap())
            );
            // An end packet that arrives after the next digit has begun is too late: the
            // digit was already closed (and reported) with the duration known then.
            let next_digit = arrivals
                .iter()
                .position(|(_, p)| p.timestamp > *ts)
                .unwrap_or(usize::MAX);
            let got_end = arrivals
                .iter()
                .position(|(_, p)| p.timestamp == *ts && p.event().end)
                .is_some_and(|i| i < next_digit);
            if got_end {
                assert_eq!(*duration, 800, "seed {seed} digit {idx}");
            } else {
                assert!(
                    *duration <= 800 && *duration >= 160,
                    "seed {seed}: {duration}"
                );
            }
        }
    }
}

fn digit_timestamps(sent: &[(Instant, DtmfPacket)]) -> Vec<u32> {
    sent.iter()
        .filter(|(_, p)| p.marker)
        .map(|(_, p)| p.timestamp)
        .collect()
}

#[test]
fn timestamps_follow_the_audio_clock() {
    let sent = send_all("12", DtmfSenderConfig::default());
    let ts = digit_timestamps(&sent);
    // The second digit starts 140 ms after the first (80 ms of updates, three ends at
    // 20 ms spacing, then the next tick): 1120 units at 8 kHz.
    assert_eq!(ts, [12_345, 12_345 + 1120]);
    // Every payload decodes; volume is the configured one.
    for (_, p) in &sent {
        let e = TelephoneEvent::decode(&p.payload).unwrap();
        assert_eq!(e.volume, 10);
    }
}
