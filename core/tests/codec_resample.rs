//! Measures the frequency response of every resampler by sine sweeps through the actual
//! converters and asserts the bounds stated in `rvoip_core::codec::resample`:
//! passband gain within ±0.05 dB (ripple ≤ 0.1 dB) and stop-band rejection ≥ 60 dB.

use core::f64::consts::PI;
use rvoip_core::codec::resample::{Resampler, SampleRate};

use SampleRate::*;

const AMP: f64 = 16000.0;

fn tone(freq: f64, rate: u32, n: usize) -> Vec<i16> {
    (0..n)
        .map(|i| (AMP * (2.0 * PI * freq * i as f64 / f64::from(rate) + 0.3).sin()).round() as i16)
        .collect()
}

/// Runs `input` through a fresh resampler in 20 ms frames and drops the first
/// `2 × filter length` output samples (the start-up transient).
fn run(from: SampleRate, to: SampleRate, input: &[i16]) -> Vec<i16> {
    let mut r = Resampler::new(from, to);
    let frame = from.samples_per_ms(20);
    let mut out = Vec::new();
    let mut buf = vec![0i16; r.max_output_len(frame)];
    for chunk in input.chunks(frame) {
        let n = r.process(chunk, &mut buf).unwrap();
        out.extend_from_slice(&buf[..n]);
    }
    let skip = 2 * r.filter_len().max(1) * to.hz() as usize / from.hz().max(to.hz()) as usize;
    out.split_off(skip.min(out.len()))
}

/// Amplitude of the component at `freq` (Hann-weighted projection).
fn amplitude(x: &[i16], freq: f64, rate: u32) -> f64 {
    let n = x.len();
    let (mut re, mut im, mut wsum) = (0.0, 0.0, 0.0);
    for (i, &v) in x.iter().enumerate() {
        let w = 0.5 - 0.5 * (2.0 * PI * i as f64 / n as f64).cos();
        let ph = 2.0 * PI * freq * i as f64 / f64::from(rate);
        re += w * f64::from(v) * ph.cos();
        im += w * f64::from(v) * ph.sin();
        wsum += w;
    }
    2.0 * (re * re + im * im).sqrt() / wsum
}

/// Least-squares fit of a sine at `freq`: returns (tone power, power of the residual).
fn tone_and_residual(x: &[i16], freq: f64, rate: u32) -> (f64, f64) {
    let w = 2.0 * PI * freq / f64::from(rate);
    let (mut cc, mut ss, mut cs, mut xc, mut xs) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (i, &v) in x.iter().enumerate() {
        let (s, c) = (w * i as f64).sin_cos();
        let v = f64::from(v);
        cc += c * c;
        ss += s * s;
        cs += c * s;
        xc += v * c;
        xs += v * s;
    }
    let det = cc * ss - cs * cs;
    let a = (xc * ss - xs * cs) / det;
    let b = (xs * cc - xc * cs) / det;
    let mut res = 0.0;
    for (i, &v) in x.iter().enumerate() {
        let (s, c) = (w * i as f64).sin_cos();
        res += (f64::from(v) - a * c - b * s).powi(2);
    }
    ((a * a + b * b) / 2.0, res / x.len() as f64)
}

fn rms(x: &[i16]) -> f64 {
    (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

fn db(x: f64) -> f64 {
    20.0 * x.log10()
}

const PAIRS: [(SampleRate, SampleRate); 6] = [
    (Hz48000, Hz8000),
    (Hz8000, Hz48000),
    (Hz16000, Hz8000),
    (Hz8000, Hz16000),
    (Hz48000, Hz16000),
    (Hz16000, Hz48000),
];

/// (passband edge, stopband edge) of the narrower side of a pair.
fn edges(from: SampleRate, to: SampleRate) -> (f64, f64) {
    if from == Hz8000 || to == Hz8000 {
        (3400.0, 4000.0)
    } else {
        (7000.0, 8000.0)
    }
}

#[test]
fn passband_ripple_within_0_1_db() {
    for (from, to) in PAIRS {
        let (pass, _) = edges(from, to);
        let (mut lo, mut hi) = (f64::MAX, f64::MIN);
        let mut f = 50.0;
        while f <= pass {
            let input = tone(f, from.hz(), from.hz() as usize / 8);
            let out = run(from, to, &input);
            let g = db(amplitude(&out, f, to.hz()) / AMP);
            lo = lo.min(g);
            hi = hi.max(g);
            f += 100.0;
        }
        eprintln!(
            "{from:?}->{to:?}: passband 50..{pass} Hz gain {lo:+.4} .. {hi:+.4} dB (ripple {:.4} dB)",
            hi - lo
        );
        assert!(lo >= -0.05 && hi <= 0.05, "{from:?}->{to:?}: {lo} .. {hi}");
        assert!(hi - lo <= 0.1);
    }
}

#[test]
fn decimators_reject_stopband_by_60_db() {
    for (from, to) in PAIRS {
        if from.hz() < to.hz() {
            continue;
        }
        let (_, stop) = edges(from, to);
        let nyq = f64::from(from.hz()) / 2.0;
        let mut worst = f64::MAX;
        let mut worst_f = 0.0;
        let mut f = stop;
        while f < nyq - 50.0 {
            let input = tone(f, from.hz(), from.hz() as usize / 10);
            let out = run(from, to, &input);
            // Everything that comes out is an alias of the stopband tone.
            let rej = db(AMP / 2f64.sqrt() / rms(&out).max(1e-9));
            if rej < worst {
                worst = rej;
                worst_f = f;
            }
            f += 197.0;
        }
        eprintln!(
            "{from:?}->{to:?}: stopband >= {stop} Hz rejection >= {worst:.1} dB (worst at {worst_f} Hz)"
        );
        assert!(
            worst >= 60.0,
            "{from:?}->{to:?}: {worst} dB at {worst_f} Hz"
        );
    }
}

#[test]
fn interpolators_reject_images_by_60_db() {
    for (from, to) in PAIRS {
        if from.hz() > to.hz() {
            continue;
        }
        let (pass, _) = edges(from, to);
        let mut worst = f64::MAX;
        let mut worst_f = 0.0;
        let mut f = 50.0;
        while f <= pass {
            let input = tone(f, from.hz(), from.hz() as usize / 8);
            let out = run(from, to, &input);
            // The residual is images (plus rounding noise ~ −92 dB).
            let (p_tone, p_res) = tone_and_residual(&out, f, to.hz());
            let rej = 10.0 * (p_tone / p_res.max(1e-9)).log10();
            if rej < worst {
                worst = rej;
                worst_f = f;
            }
            f += 100.0;
        }
        eprintln!(
            "{from:?}->{to:?}: image rejection for tones <= {pass} Hz >= {worst:.1} dB (worst at {worst_f} Hz)"
        );
        assert!(
            worst >= 60.0,
            "{from:?}->{to:?}: {worst} dB at {worst_f} Hz"
        );
    }
}

#[test]
fn one_khz_survives_48k_8k_48k() {
    let input = tone(1000.0, 48000, 48000);
    let mut down = Resampler::new(Hz48000, Hz8000);
    let mut up = Resampler::new(Hz8000, Hz48000);
    let mut out = Vec::new();
    for frame in input.chunks(960) {
        let mut mid = [0i16; 160];
        let mut back = [0i16; 960];
        assert_eq!(down.process(frame, &mut mid), Ok(160));
        assert_eq!(up.process(&mid, &mut back), Ok(960));
        out.extend_from_slice(&back);
    }
    let tail = &out[4800..];
    let a = amplitude(tail, 1000.0, 48000);
    let (p_tone, p_res) = tone_and_residual(tail, 1000.0, 48000);
    let snr = 10.0 * (p_tone / p_res).log10();
    let gain = db(a / AMP);
    eprintln!("1 kHz 48k->8k->48k: gain {gain:+.4} dB, SNR {snr:.1} dB");
    assert!(gain.abs() < 0.1, "{gain}");
    assert!(snr > 60.0, "{snr}");
    // The round trip delays by the two group delays: 2 × (N − 1) / 2 at 48 kHz.
    let delay = down.delay() * 6.0 + up.delay();
    assert!((delay - 329.0).abs() < 1e-9, "{delay}");
}
