//! Tone generator, Goertzel detector and DTMF detector, also through the G.711 and
//! resampling paths the gateway uses.

use rvoip_core::codec::g711::{Law, ulaw_decode, ulaw_encode};
use rvoip_core::codec::resample::{Resampler, SampleRate};
use rvoip_core::codec::tone::*;

#[test]
fn generator_is_phase_continuous_and_exact() {
    let mut a = ToneGenerator::new(8000, 1000.0, 12000.0);
    let mut b = ToneGenerator::new(8000, 1000.0, 12000.0);
    let mut whole = vec![0i16; 8000];
    a.fill(&mut whole);
    let mut parts = Vec::new();
    for _ in 0..100 {
        let mut f = [0i16; 80];
        b.fill(&mut f);
        parts.extend_from_slice(&f);
    }
    for (x, y) in whole.iter().zip(&parts) {
        assert!((x - y).abs() <= 1);
    }
    // 1 kHz at 8 kHz: period 8 samples, starting at phase 0.
    let expected = [0, 8485, 12000, 8485, 0, -8485, -12000, -8485];
    for (i, &x) in whole[7992..].iter().enumerate() {
        assert!((i32::from(x) - expected[i]).abs() <= 1, "{i}: {x}");
    }
}

#[test]
fn one_khz_detected_through_g711_and_resampling() {
    // 48 kHz source (browser side) → 8 kHz → µ-law → PCM (trunk side), as in a call.
    let mut src = ToneGenerator::new(48000, 1000.0, 8000.0);
    let mut down = Resampler::new(SampleRate::Hz48000, SampleRate::Hz8000);
    let mut trunk = Vec::new();
    for _ in 0..10 {
        let mut f48 = [0i16; 960];
        src.fill(&mut f48);
        let mut f8 = [0i16; 160];
        down.process(&f48, &mut f8).unwrap();
        let mut codes = [0u8; 160];
        Law::Ulaw.encode(&f8, &mut codes);
        let mut pcm = [0i16; 160];
        Law::Ulaw.decode(&codes, &mut pcm);
        trunk.extend_from_slice(&pcm);
    }
    let tail = &trunk[400..];
    let at_1k = tone_power(tail, 1000.0, 8000);
    assert!(at_1k > 0.95, "{at_1k}");
    for f in [500.0, 1500.0, 2000.0, 3000.0] {
        assert!(tone_power(tail, f, 8000) < 0.01, "{f}");
    }
}

#[test]
fn no_tone_in_noise() {
    let mut state = 12345u32;
    let noise: Vec<i16> = (0..1600)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            ((state >> 16) as i16) / 4
        })
        .collect();
    assert!(tone_power(&noise, 1000.0, 8000) < 0.02);
    assert_eq!(tone_power(&[0; 160], 1000.0, 8000), 0.0);
}

/// A sequence of DTMF digits, each `on_ms` on and `off_ms` off, at 8 kHz.
fn dtmf_signal(digits: &str, on_ms: usize, off_ms: usize, amp: f64) -> Vec<i16> {
    let mut out = vec![0i16; 8 * off_ms];
    for d in digits.chars() {
        let (r, c) = dtmf_frequencies(d).unwrap();
        let mut g = ToneGenerator::dual(8000, r, c, amp);
        let mut tone = vec![0i16; 8 * on_ms];
        g.fill(&mut tone);
        out.extend_from_slice(&tone);
        out.extend(core::iter::repeat_n(0, 8 * off_ms));
    }
    out
}

fn detect(signal: &[i16], frame: usize) -> String {
    let mut det = DtmfDetector::new(8000);
    let mut got = String::new();
    for f in signal.chunks(frame) {
        det.handle_samples(f);
        while let Some(d) = det.poll_digit() {
            got.push(d);
        }
    }
    got
}

#[test]
fn dtmf_all_digits_through_ulaw() {
    let digits = "123A456B789C*0#D";
    let clean = dtmf_signal(digits, 50, 50, 6000.0);
    let ulaw: Vec<i16> = clean.iter().map(|&x| ulaw_decode(ulaw_encode(x))).collect();
    assert_eq!(detect(&ulaw, 160), digits);
    assert_eq!(detect(&ulaw, 7), digits);
    // Minimum Q.24 timing: 40 ms on, 40 ms off.
    let fast = dtmf_signal("19#", 40, 40, 6000.0);
    assert_eq!(detect(&fast, 160), "19#");
    // Repeated digit with pauses: reported each time.
    assert_eq!(detect(&dtmf_signal("55", 60, 60, 6000.0), 80), "55");
}

#[test]
fn dtmf_rejects_non_digits() {
    // A single tone, too weak a digit, and excessive twist are not digits.
    let mut g = ToneGenerator::new(8000, 1000.0, 8000.0);
    let mut single = vec![0i16; 4000];
    g.fill(&mut single);
    assert_eq!(detect(&single, 160), "");
    assert_eq!(detect(&dtmf_signal("5", 100, 50, 10.0), 160), "");
    let (r, c) = dtmf_frequencies('5').unwrap();
    let mut lo = ToneGenerator::new(8000, r, 8000.0);
    let mut hi = ToneGenerator::new(8000, c, 1000.0); // 18 dB twist
    let (mut a, mut b) = (vec![0i16; 1600], vec![0i16; 1600]);
    lo.fill(&mut a);
    hi.fill(&mut b);
    let twisted: Vec<i16> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
    assert_eq!(detect(&twisted, 160), "");
    assert_eq!(dtmf_frequencies('x'), None);
    assert_eq!(dtmf_frequencies('d'), Some((941.0, 1633.0)));
}

#[test]
fn dtmf_at_16_and_48_khz() {
    for rate in [16_000u32, 48_000] {
        let mut det = DtmfDetector::new(rate);
        let per_ms = rate as usize / 1000;
        let mut got = String::new();
        for d in "7#0".chars() {
            let (r, c) = dtmf_frequencies(d).unwrap();
            let mut g = ToneGenerator::dual(rate, r, c, 5000.0);
            let mut tone = vec![0i16; 60 * per_ms];
            g.fill(&mut tone);
            tone.extend(core::iter::repeat_n(0, 60 * per_ms));
            for f in tone.chunks(20 * per_ms) {
                det.handle_samples(f);
                while let Some(x) = det.poll_digit() {
                    got.push(x);
                }
            }
        }
        assert_eq!(got, "7#0", "{rate}");
    }
}
