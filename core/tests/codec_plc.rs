//! G.711 Appendix I–style packet-loss concealment: continuation quality, fade-out, and
//! smooth joins at both ends of an erasure.

use core::f64::consts::PI;
use rvoip_core::codec::plc::Plc;

/// A voiced-speech-like periodic signal: fundamental `f0` with decaying harmonics.
fn voiced(f0: f64, n0: usize, n: usize) -> Vec<i16> {
    (n0..n0 + n)
        .map(|i| {
            let t = i as f64 / 8000.0;
            let v: f64 = (1..=6)
                .map(|k| (2.0 * PI * f0 * k as f64 * t + 0.4 * k as f64).sin() / k as f64)
                .sum();
            (v * 6000.0) as i16
        })
        .collect()
}

fn snr_db(reference: &[i16], test: &[i16]) -> f64 {
    let (mut s, mut e) = (0.0, 0.0);
    for (&r, &t) in reference.iter().zip(test) {
        s += f64::from(r).powi(2);
        e += (f64::from(r) - f64::from(t)).powi(2);
    }
    10.0 * (s / e.max(1e-9)).log10()
}

fn max_step(x: &[i16]) -> i32 {
    x.windows(2)
        .map(|w| (i32::from(w[1]) - i32::from(w[0])).abs())
        .max()
        .unwrap_or(0)
}

/// Feeds `frames` 20 ms frames of the signal, returns the concealer and the next index.
fn primed(f0: f64, frames: usize) -> (Plc, usize) {
    let mut plc = Plc::new();
    for k in 0..frames {
        let mut f = voiced(f0, k * 160, 160);
        plc.add_good_frame(&mut f);
    }
    (plc, frames * 160)
}

#[test]
fn first_lost_frame_continues_periodic_signal() {
    // 125 Hz: the period is exactly 64 samples, which the pitch search must find.
    let (mut plc, n) = primed(125.0, 5);
    let mut out = [0i16; 80];
    plc.conceal(&mut out);
    assert_eq!(plc.pitch(), 64);
    let truth = voiced(125.0, n, 80);
    let snr = snr_db(&truth, &out);
    eprintln!("PLC 125 Hz first 10 ms: SNR {snr:.1} dB");
    assert!(snr > 30.0, "{snr}");

    // 150 Hz: period 53.3 samples (not an integer), so the repetition drifts a little.
    let (mut plc, n) = primed(150.0, 5);
    plc.conceal(&mut out);
    // One period (53/54) or two (106/107, which fit the signal as well or better).
    assert!([53, 54, 106, 107].contains(&plc.pitch()), "{}", plc.pitch());
    let truth = voiced(150.0, n, 80);
    let snr = snr_db(&truth, &out);
    eprintln!("PLC 150 Hz first 10 ms: SNR {snr:.1} dB");
    assert!(snr > 10.0, "{snr}");
}

#[test]
fn long_loss_decays_to_silence() {
    let (mut plc, _) = primed(150.0, 5);
    let mut energies = Vec::new();
    for _ in 0..10 {
        let mut out = [0i16; 80];
        plc.conceal(&mut out);
        energies.push(out.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>());
    }
    eprintln!("PLC energy per 10 ms: {energies:?}");
    // Not attenuated in the first 10 ms, then strictly decreasing, silent from 60 ms.
    let reference: f64 = voiced(150.0, 0, 80)
        .iter()
        .map(|&x| f64::from(x).powi(2))
        .sum();
    assert!(energies[0] > 0.5 * reference);
    for k in 1..6 {
        assert!(energies[k] < energies[k - 1], "{k}: {energies:?}");
    }
    assert!(energies[5] < 0.05 * energies[0]);
    assert!(energies[6..].iter().all(|&e| e == 0.0));
    assert!(plc.in_erasure());
}

#[test]
fn no_spike_at_loss_start() {
    for f0 in [100.0, 150.0, 190.0] {
        let (mut plc, n) = primed(f0, 5);
        let last = voiced(f0, n - 80, 80);
        let mut out = [0i16; 160];
        plc.conceal(&mut out);
        let mut joined = last.clone();
        joined.extend_from_slice(&out);
        let natural = max_step(&voiced(f0, 0, 800));
        let at_join = max_step(&joined[70..100]);
        eprintln!("{f0} Hz: step at loss start {at_join}, natural max {natural}");
        assert!(
            at_join <= natural + natural / 4,
            "{f0}: {at_join} > {natural}"
        );
    }
}

#[test]
fn no_spike_at_loss_end() {
    for (f0, lost_frames) in [(150.0, 2), (150.0, 5), (100.0, 1), (190.0, 3)] {
        let (mut plc, n) = primed(f0, 5);
        let mut concealed = Vec::new();
        for _ in 0..lost_frames {
            let mut out = [0i16; 160];
            plc.conceal(&mut out);
            concealed.extend_from_slice(&out);
        }
        let mut good = voiced(f0, n + lost_frames * 160, 160);
        let raw = good.clone();
        plc.add_good_frame(&mut good);
        assert!(!plc.in_erasure());
        let mut joined = concealed[concealed.len() - 10..].to_vec();
        joined.extend_from_slice(&good[..40]);
        let natural = max_step(&voiced(f0, 0, 800));
        let at_join = max_step(&joined);
        eprintln!("{f0} Hz, {lost_frames} lost: step at loss end {at_join}, natural max {natural}");
        assert!(
            at_join <= natural + natural / 4,
            "{f0}/{lost_frames}: {at_join}"
        );
        // The cross-fade ends within 10 ms: the rest of the frame is the real signal.
        assert_eq!(good[80..], raw[80..]);
    }
}

#[test]
fn fade_in_after_silence() {
    // After > 60 ms of loss the synthetic signal is silent, so the good frame fades in
    // instead of starting with a jump (its first sample is near a waveform peak).
    let (mut plc, n) = primed(150.0, 5);
    for _ in 0..5 {
        let mut out = [0i16; 160];
        plc.conceal(&mut out);
    }
    let start = (n + 800..n + 1000)
        .max_by_key(|&i| voiced(150.0, i, 1)[0])
        .unwrap();
    let mut good = voiced(150.0, start, 160);
    let peak = good[0];
    assert!(peak > 5000);
    plc.add_good_frame(&mut good);
    assert!(
        i32::from(good[0]).abs() < i32::from(peak) / 8,
        "{} vs {peak}",
        good[0]
    );
}

#[test]
fn silent_history_conceals_silence() {
    let mut plc = Plc::new();
    let mut out = [123i16; 160];
    plc.conceal(&mut out);
    assert!(out.iter().all(|&x| x == 0));
    // Odd sizes and huge frames are fine.
    let mut big = vec![1000i16; 2000];
    plc.add_good_frame(&mut big);
    let mut odd = [0i16; 7];
    plc.conceal(&mut odd);
    assert!(odd.iter().all(|&x| (x - 1000).abs() <= 1), "{odd:?}");
}
