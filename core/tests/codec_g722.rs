//! G.722 against the ITU-T G.722 Appendix II digital test sequences — the short set
//! (T1C2.XMT → T2R2.COD for the encoder, T2R2.COD → T3L2.RC1 + T3H2.RC0 for the mode-1
//! decoder) in full, and the first 512 samples of the main set (T1C1 → T2R1 → T3L1 /
//! T3H1); QMF bypassed as the ITU test configurations require — plus round-trip SNR of
//! sines through the full codec with its QMFs.

use rvoip_core::codec::g722::{G722Decoder, G722Encoder};

const FIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/codec/g722/");

/// Parses an ITU ASCII test sequence: comment lines `/* … */`, then lines of 16 hex
/// words and a checksum byte (minus the sum of the 64 hex characters, mod 256).
fn load(name: &str) -> Vec<u16> {
    let text = std::fs::read_to_string(format!("{FIX}{name}")).unwrap();
    let mut words = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("/*") {
            continue;
        }
        assert_eq!(line.len(), 66, "{name}:{n}");
        let sum: u32 = line[..64].bytes().map(u32::from).sum();
        let ck = u32::from_str_radix(&line[64..], 16).unwrap();
        assert_eq!((sum + ck) % 256, 0, "{name}:{n}: checksum");
        for i in 0..16 {
            words.push(u16::from_str_radix(&line[4 * i..4 * i + 4], 16).unwrap());
        }
    }
    words
}

/// The span between the leading and trailing reset words (LSB set), as the ITU harness
/// (and spandsp's) skips them; a truncated `.head` file has no trailing reset.
fn payload(words: &[u16]) -> (usize, usize) {
    let start = words.iter().position(|w| w & 1 == 0).unwrap();
    let end = start
        + words[start..]
            .iter()
            .position(|w| w & 1 == 1)
            .unwrap_or(words.len() - start);
    (start, end)
}

/// Encoder, test configuration 1: the same 15-bit word goes to both bands; the code is
/// in the high byte of the reference words.
fn check_encoder(input: &str, reference: &str) -> usize {
    let input = load(input);
    let reference = load(reference);
    assert_eq!(input.len(), reference.len());
    let (start, end) = payload(&input);
    let mut enc = G722Encoder::new();
    let mut bad = 0;
    for i in start..end {
        let x = (input[i] as i16) >> 1;
        let code = enc.encode_subbands(x, x);
        let want = (reference[i] >> 8) as u8;
        if code != want {
            bad += 1;
            eprintln!("sample {i}: got {code:#04x} want {want:#04x}");
        }
    }
    assert_eq!(bad, 0, "{bad} mismatching codes");
    end - start
}

/// Decoder, test configuration 2, mode 1: the low- and high-band outputs (15 bits,
/// shifted left by one in the files) against the RC1 and RC0 sequences.
fn check_decoder(input: &str, low: &str, high: &str) -> usize {
    let input = load(input);
    let low = load(low);
    let high = load(high);
    let (start, end) = payload(&input);
    let mut dec = G722Decoder::new();
    let mut bad = 0;
    for i in start..end {
        let (rl, rh) = dec.decode_subbands((input[i] >> 8) as u8);
        let (gl, gh) = ((rl << 1) as u16, (rh << 1) as u16);
        if gl != low[i] || gh != high[i] {
            bad += 1;
            eprintln!(
                "sample {i}: got {gl:04x} {gh:04x} want {:04x} {:04x}",
                low[i], high[i]
            );
        }
    }
    assert_eq!(bad, 0, "{bad} mismatching samples");
    end - start
}

#[test]
fn itu_encoder_t1c2_to_t2r2() {
    assert_eq!(check_encoder("T1C2.XMT", "T2R2.COD"), 768);
}

#[test]
fn itu_encoder_t1c1_to_t2r1_first_512() {
    assert_eq!(check_encoder("T1C1.XMT.head", "T2R1.COD.head"), 512);
}

#[test]
fn itu_decoder_t2r2_to_t3l2_t3h2_mode1() {
    assert_eq!(check_decoder("T2R2.COD", "T3L2.RC1", "T3H2.RC0"), 768);
}

#[test]
fn itu_decoder_t2r1_to_t3l1_t3h1_mode1_first_512() {
    assert_eq!(
        check_decoder("T2R1.COD.head", "T3L1.RC1.head", "T3H1.RC0.head"),
        512
    );
}

/// End-to-end delay of the QMF pair in 16 kHz samples.
const DELAY: usize = 22;

fn sine(freq: f64, amp: f64, n: usize) -> Vec<i16> {
    (0..n)
        .map(|i| (amp * (2.0 * core::f64::consts::PI * freq * i as f64 / 16000.0).sin()) as i16)
        .collect()
}

/// SNR in dB of `out` against `input` delayed by `delay` samples, over the tail.
fn snr_db(input: &[i16], out: &[i16], delay: usize, skip: usize) -> f64 {
    let (mut sig, mut err) = (0.0, 0.0);
    for i in skip..out.len() {
        let x = f64::from(input[i - delay]);
        let y = f64::from(out[i]);
        sig += x * x;
        err += (x - y) * (x - y);
    }
    10.0 * (sig / err).log10()
}

/// Encodes and decodes `pcm` in 20 ms frames.
fn round_trip(pcm: &[i16]) -> Vec<i16> {
    let mut enc = G722Encoder::new();
    let mut dec = G722Decoder::new();
    let mut out = vec![0i16; pcm.len()];
    for (inp, o) in pcm.chunks(320).zip(out.chunks_mut(320)) {
        let mut codes = [0u8; 160];
        let n = enc.encode(inp, &mut codes);
        assert_eq!(n, inp.len() / 2);
        assert_eq!(dec.decode(&codes[..n], o), inp.len());
    }
    out
}

#[test]
fn round_trip_snr_of_sines() {
    let delay = DELAY;
    for (freq, min_snr) in [
        // Measured: 62.2, 47.4, 41.5, 22.4, 26.1 dB.
        (300.0, 50.0),
        (1000.0, 40.0),
        (3000.0, 35.0),
        (5000.0, 18.0),
        (6500.0, 20.0),
    ] {
        let pcm = sine(freq, 10000.0, 16000);
        let out = round_trip(&pcm);
        let snr = snr_db(&pcm, &out, delay, 1600);
        eprintln!("G.722 round trip {freq} Hz: SNR {snr:.1} dB");
        assert!(snr >= min_snr, "{freq} Hz: SNR {snr:.1} dB < {min_snr}");
    }
}

/// A deterministic in-band (≤ 7 kHz) noise-like test signal: a sum of sines at
/// incommensurate frequencies.
fn multitone(n: usize) -> Vec<i16> {
    let freqs = [211.0, 487.0, 1033.0, 1999.0, 3011.0, 4507.0, 5981.0];
    (0..n)
        .map(|i| {
            let t = i as f64 / 16000.0;
            let v: f64 = freqs
                .iter()
                .map(|f| (2.0 * core::f64::consts::PI * f * t + f).sin())
                .sum();
            (v * 2000.0) as i16
        })
        .collect()
}

#[test]
fn delay_is_22_samples() {
    // Two 24-tap QMFs at 16 kHz, each filtering a 2:1 decimated signal: the end-to-end
    // delay is 22 input samples. A broadband signal finds it without ambiguity.
    let pcm = multitone(8000);
    let out = round_trip(&pcm);
    let best = (0..64)
        .max_by_key(|&lag| {
            (1000..7000)
                .map(|i| i64::from(pcm[i - lag]) * i64::from(out[i]))
                .sum::<i64>()
        })
        .unwrap();
    assert_eq!(best, DELAY);
    let snr = snr_db(&pcm, &out, DELAY, 1600);
    eprintln!("G.722 round trip multitone: SNR {snr:.1} dB");
    // Measured: 19.3 dB (seven tones across 0.2–6 kHz at once).
    assert!(snr > 16.0, "{snr}");
}

#[test]
fn decoder_accepts_any_octets() {
    // Arbitrary (even hostile) payloads decode without panicking and stay bounded.
    let mut dec = G722Decoder::new();
    let mut out = [0i16; 512];
    let codes: Vec<u8> = (0..=255u8).collect();
    for _ in 0..50 {
        assert_eq!(dec.decode(&codes, &mut out), 512);
        assert_eq!(dec.decode(&[0xFF; 256], &mut out), 512);
        assert_eq!(dec.decode(&[0x00; 256], &mut out), 512);
    }
    // Short output buffer: only whole pairs are produced.
    assert_eq!(dec.decode(&codes, &mut out[..3]), 2);
}

#[test]
fn encoder_full_scale_does_not_panic() {
    let mut enc = G722Encoder::new();
    let pcm: Vec<i16> = (0..3200)
        .map(|i| if i % 3 == 0 { i16::MAX } else { i16::MIN })
        .collect();
    let mut codes = vec![0u8; 1600];
    assert_eq!(enc.encode(&pcm, &mut codes), 1600);
    // Odd length: the trailing sample is ignored.
    assert_eq!(enc.encode(&pcm[..5], &mut codes), 2);
}
