//! Media-path benchmarks: G.711 and G.722 per 20 ms frame, resampling per 20 ms frame,
//! PLC per concealed 20 ms frame.
//!
//! Run: `cargo bench -p rvoip --bench media`.

use core::hint::black_box;
use criterion::{Criterion, criterion_group, criterion_main};
use rvoip::codec::g711::{decode_alaw, decode_ulaw, encode_alaw, encode_ulaw};
use rvoip::codec::g722::{G722Decoder, G722Encoder};
use rvoip::codec::plc::Plc;
use rvoip::codec::resample::{Resampler, SampleRate};
use rvoip::codec::tone::ToneGenerator;

/// Speech-like test signal: two tones plus a little noise.
fn signal(rate: u32, n: usize) -> Vec<i16> {
    let mut a = ToneGenerator::new(rate, 440.0, 6000.0);
    let mut b = ToneGenerator::new(rate, 1230.0, 3000.0);
    let (mut x, mut y) = (vec![0i16; n], vec![0i16; n]);
    a.fill(&mut x);
    b.fill(&mut y);
    let mut s = 1u32;
    x.iter()
        .zip(&y)
        .map(|(&p, &q)| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            p.saturating_add(q).saturating_add((s >> 24) as i16 - 128)
        })
        .collect()
}

fn g711(c: &mut Criterion) {
    let pcm = signal(8000, 160);
    let mut codes = [0u8; 160];
    let mut out = [0i16; 160];
    c.bench_function("g711_ulaw_encode_decode_20ms", |b| {
        b.iter(|| {
            encode_ulaw(black_box(&pcm), &mut codes);
            decode_ulaw(black_box(&codes), &mut out);
            black_box(&out);
        })
    });
    c.bench_function("g711_alaw_encode_decode_20ms", |b| {
        b.iter(|| {
            encode_alaw(black_box(&pcm), &mut codes);
            decode_alaw(black_box(&codes), &mut out);
            black_box(&out);
        })
    });
}

fn g722(c: &mut Criterion) {
    let pcm = signal(16000, 320);
    let mut enc = G722Encoder::new();
    let mut dec = G722Decoder::new();
    let mut codes = [0u8; 160];
    let mut out = [0i16; 320];
    c.bench_function("g722_encode_20ms", |b| {
        b.iter(|| black_box(enc.encode(black_box(&pcm), &mut codes)))
    });
    c.bench_function("g722_decode_20ms", |b| {
        b.iter(|| black_box(dec.decode(black_box(&codes), &mut out)))
    });
}

fn resample(c: &mut Criterion) {
    use SampleRate::*;
    for (from, to, name) in [
        (Hz48000, Hz8000, "resample_48k_to_8k_20ms"),
        (Hz8000, Hz48000, "resample_8k_to_48k_20ms"),
        (Hz48000, Hz16000, "resample_48k_to_16k_20ms"),
        (Hz16000, Hz48000, "resample_16k_to_48k_20ms"),
        (Hz16000, Hz8000, "resample_16k_to_8k_20ms"),
        (Hz8000, Hz16000, "resample_8k_to_16k_20ms"),
    ] {
        let input = signal(from.hz(), from.samples_per_ms(20));
        let mut r = Resampler::new(from, to);
        let mut out = vec![0i16; r.max_output_len(input.len())];
        c.bench_function(name, |b| {
            b.iter(|| black_box(r.process(black_box(&input), &mut out)))
        });
    }
}

fn plc(c: &mut Criterion) {
    let pcm = signal(8000, 160);
    let mut p = Plc::new();
    let mut out = [0i16; 160];
    c.bench_function("plc_good_then_conceal_20ms", |b| {
        b.iter(|| {
            let mut good = pcm.clone();
            p.add_good_frame(&mut good);
            p.conceal(&mut out);
            black_box(&out);
        })
    });
}

criterion_group!(benches, g711, g722, resample, plc);
criterion_main!(benches);
