//! Jitter buffer on simulated time: seeded jitter, loss and reordering; DTX; resets.

use rvoip_core::rand::{Rng, SplitMix64};
use rvoip_core::rtp::jitter::{Insert, JitterBuffer, JitterConfig, Pop};
use rvoip_core::time::{Duration, Instant};

const FRAME_US: u64 = 20_000;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Out {
    Frame(u16, bool),
    Missing,
    NotReady,
}

fn pop(jb: &mut JitterBuffer, now: Instant) -> Out {
    match jb.pop(now) {
        Pop::Frame(f) => {
            // The payload carries the sequence number: check the slot handed back the
            // right bytes.
            assert_eq!(f.payload, &f.seq.to_be_bytes()[..]);
            Out::Frame(f.seq, f.marker)
        }
        Pop::Missing => Out::Missing,
        Pop::NotReady => Out::NotReady,
    }
}

/// One simulated packet: (arrival µs, seq, ts, marker).
type Pkt = (u64, u16, u32, bool);

/// Packets every 20 ms from seq `seq0`, with per-packet extra delay from `jitter(i, rng)`.
fn stream(
    n: u64,
    seq0: u16,
    rng: &mut SplitMix64,
    loss_pct: u64,
    jitter: impl Fn(u64, &mut SplitMix64) -> u64,
) -> Vec<Pkt> {
    let mut v = Vec::new();
    for i in 0..n {
        let lost = rng.below(100) < loss_pct;
        let extra = jitter(i, rng);
        if !lost {
            let seq = seq0.wrapping_add(i as u16);
            let ts = (i as u32).wrapping_mul(160).wrapping_add(0xFFFF_0000);
            v.push((i * FRAME_US + 30_000 + extra, seq, ts, i == 0));
        }
    }
    v.sort_by_key(|p| p.0);
    v
}

/// Runs the buffer: inserts arrivals, pops every 20 ms at phase 7 ms; records outputs and
/// the target/current delay at each pop.
fn simulate(jb: &mut JitterBuffer, pkts: &[Pkt], until_us: u64) -> Vec<(u64, Out, u64, u64)> {
    let mut out = Vec::new();
    let mut k = 0;
    let mut t = 7_000;
    while t <= until_us {
        while k < pkts.len() && pkts[k].0 <= t {
            let (at, seq, ts, m) = pkts[k];
            jb.insert(Instant::from_micros(at), 42, seq, ts, m, &seq.to_be_bytes());
            assert!(jb.len() <= 32);
            k += 1;
        }
        let o = pop(jb, Instant::from_micros(t));
        let s = jb.stats();
        out.push((
            t,
            o,
            s.target_delay.as_millis() as u64,
            s.current_delay.as_millis() as u64,
        ));
        t += FRAME_US;
    }
    out
}

#[test]
fn adapts_up_under_jitter_and_down_after() {
    let mut rng = SplitMix64::new(0xC0FFEE);
    // 0–10 s calm (0–4 ms), 10–20 s heavy jitter (0–90 ms, reordering), 20–40 s calm.
    let pkts = stream(2000, 65000, &mut rng, 2, |i, r| {
        if (500..1000).contains(&i) {
            r.below(90_000)
        } else {
            r.below(4_000)
        }
    });
    let mut jb = JitterBuffer::new(JitterConfig::new(8000));
    let out = simulate(&mut jb, &pkts, 40_000_000);

    // Continuous playout: once started, never NotReady (no DTX in this stream).
    let first = out.iter().position(|o| o.1 != Out::NotReady).unwrap();
    assert!(out[first..].iter().all(|o| o.1 != Out::NotReady));
    // Frames come out in sequence order without repeats (across the 65535 wrap).
    let mut last: Option<u16> = None;
    let mut frames = 0;
    for o in &out {
        if let Out::Frame(s, _) = o.1 {
            if let Some(l) = last {
                let d = s.wrapping_sub(l);
                assert!((1..100).contains(&d), "{l} -> {s}");
            }
            last = Some(s);
            frames += 1;
        }
    }
    let stats = jb.stats();
    assert!(frames > 1850, "frames played: {frames}, {stats:?}");
    let at = |sec: u64| out.iter().find(|o| o.0 >= sec * 1_000_000).unwrap();
    let (_, _, target_calm, cur_calm) = *at(9);
    let (_, _, target_jit, cur_jit) = *at(19);
    let (_, _, target_after, cur_after) = *at(39);
    eprintln!(
        "{stats:?} frames {frames} calm {target_calm}/{cur_calm} jit {target_jit}/{cur_jit} after {target_after}/{cur_after}"
    );
    assert!(
        target_calm <= 25 && cur_calm <= 45,
        "{target_calm} {cur_calm}"
    );
    assert!(target_jit >= 70 && cur_jit >= 60, "{target_jit} {cur_jit}");
    assert!(
        target_after <= 25 && cur_after <= 45,
        "{target_after} {cur_after}"
    );
    // Loss ~2 %, and few late packets despite 90 ms of jitter.
    assert!(stats.lost >= 20 && stats.lost <= 80, "{stats:?}");
    assert!(stats.late < 40, "{stats:?}");
    assert!(
        stats.dropped > 0 && stats.concealed > stats.lost,
        "{stats:?}"
    );
}

#[test]
fn dtx_gap_then_new_talkspurt() {
    let mut jb = JitterBuffer::new(JitterConfig::new(8000));
    let mut pkts: Vec<Pkt> = (0..50u64)
        .map(|i| (i * FRAME_US + 30_000, i as u16, (i * 160) as u32, i == 0))
        .collect();
    // 2 s of silence: sequence numbers continue, timestamps jump (RFC 3551 §4.1).
    for i in 0..50u64 {
        let t = 3_000_000 + i * FRAME_US;
        pkts.push((t + 30_000, 50 + i as u16, (t / 125) as u32, i == 0));
    }
    let out = simulate(&mut jb, &pkts, 4_500_000);
    let mut iter = out.iter().map(|o| o.1).skip_while(|o| *o == Out::NotReady);
    let spurt1: Vec<_> = iter.by_ref().take(50).collect();
    assert!(
        spurt1
            .iter()
            .enumerate()
            .all(|(i, o)| *o == Out::Frame(i as u16, i == 0))
    );
    let rest: Vec<_> = iter.collect();
    // Up to 60 ms of concealment, then silence, then the second talkspurt, marker first.
    let missing = rest.iter().take_while(|o| **o == Out::Missing).count();
    assert_eq!(missing, 3);
    let after: Vec<_> = rest[missing..]
        .iter()
        .skip_while(|o| **o == Out::NotReady)
        .copied()
        .collect();
    assert_eq!(after[0], Out::Frame(50, true));
    assert_eq!(
        after.iter().filter(|o| matches!(o, Out::Frame(..))).count(),
        50
    );
    assert_eq!(jb.stats().late, 0);
}

#[test]
fn late_duplicate_oversize_and_resets() {
    let cfg = JitterConfig::new(8000);
    let mut jb = JitterBuffer::new(cfg);
    let t = |ms: u64| Instant::from_millis(ms);
    assert_eq!(jb.insert(t(0), 1, 10, 1600, false, b"a"), Insert::Buffered);
    assert_eq!(jb.insert(t(1), 1, 10, 1600, false, b"a"), Insert::Duplicate);
    assert_eq!(
        jb.insert(t(1), 1, 11, 1760, false, &[0; 641]),
        Insert::Oversize
    );
    assert_eq!(jb.pop(t(5)), Pop::NotReady);
    assert_eq!(jb.poll_timeout(), Some(t(20)));
    assert!(matches!(jb.pop(t(20)), Pop::Frame(f) if f.seq == 10 && f.payload == b"a"));
    // Seq 9 is older than what was played.
    assert_eq!(jb.insert(t(21), 1, 9, 1440, false, b"z"), Insert::Late);
    // A new SSRC resets.
    assert_eq!(jb.insert(t(30), 2, 500, 9999, false, b"b"), Insert::Reset);
    assert_eq!(jb.len(), 1);
    // A timestamp jump of 10 s within the same SSRC resets too.
    assert_eq!(
        jb.insert(t(50), 2, 501, 9999 + 80_000 + 160, false, b"c"),
        Insert::Reset
    );
    // So does a packet too far ahead for the ring.
    assert_eq!(
        jb.insert(t(70), 2, 501 + 40, 9999 + 80_000 + 160 * 41, false, b"d"),
        Insert::Reset
    );
    let s = jb.stats();
    assert_eq!((s.duplicate, s.oversize, s.late, s.resets), (1, 1, 1, 3));
}

#[test]
fn memory_is_bounded_under_flood() {
    let mut cfg = JitterConfig::new(48000);
    cfg.capacity = 8;
    cfg.max_payload = 100;
    let mut jb = JitterBuffer::new(cfg);
    let mut rng = SplitMix64::new(9);
    // Nobody pops: the ring never holds more than its capacity.
    for i in 0..10_000u32 {
        let seq = i as u16;
        let r = jb.insert(
            Instant::from_micros(u64::from(i) * 20_000 + rng.below(50_000)),
            7,
            seq,
            i.wrapping_mul(960),
            false,
            &[1; 50],
        );
        assert_ne!(r, Insert::Oversize);
        assert!(jb.len() <= 8);
    }
    assert!(jb.stats().resets > 0);
    let _ = Duration::ZERO;
}

mod props {
    use super::*;
    use proptest::prelude::{ProptestConfig, prop_assert, prop_assert_eq, proptest};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Whatever the jitter, loss and reordering, frames come out in sequence order, each
        /// at most once, and the ring never exceeds its capacity.
        #[test]
        fn playout_order_and_bounds(seed: u64, jitter_ms in 0u64..150, loss in 0u64..30, seq0: u16) {
            let mut rng = SplitMix64::new(seed);
            let pkts = stream(400, seq0, &mut rng, loss, |_, r| r.below(jitter_ms * 1000 + 1));
            let mut jb = JitterBuffer::new(JitterConfig::new(8000));
            let out = simulate(&mut jb, &pkts, 9_000_000);
            let mut last: Option<u16> = None;
            let mut frames = 0u64;
            for o in &out {
                if let Out::Frame(s, _) = o.1 {
                    if let Some(l) = last {
                        prop_assert!(s.wrapping_sub(l) >= 1 && s.wrapping_sub(l) < 400);
                    }
                    last = Some(s);
                    frames += 1;
                }
            }
            let st = jb.stats();
            prop_assert_eq!(st.played, frames);
            prop_assert!(st.played + st.late + st.dropped + jb.len() as u64 <= pkts.len() as u64);
            prop_assert!(st.played >= pkts.len() as u64 * 8 / 10, "{:?}", st);
        }
    }
}
