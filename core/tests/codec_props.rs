//! Property tests: arbitrary input never panics, and stateful processing does not depend
//! on how the stream is cut into frames.

use proptest::prelude::*;
use rvoip_core::codec::g711::{alaw_decode, alaw_encode, ulaw_decode, ulaw_encode};
use rvoip_core::codec::g722::{G722Decoder, G722Encoder};
use rvoip_core::codec::plc::Plc;
use rvoip_core::codec::resample::{Resampler, SampleRate};
use rvoip_core::codec::tone::DtmfDetector;

const RATES: [SampleRate; 3] = [SampleRate::Hz8000, SampleRate::Hz16000, SampleRate::Hz48000];

/// Cuts `n` samples into pieces whose sizes cycle through `cuts`.
fn pieces(n: usize, cuts: &[usize]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let (mut at, mut k) = (0, 0);
    while at < n {
        let len = cuts[k % cuts.len()].min(n - at);
        out.push((at, at + len));
        at += len;
        k += 1;
    }
    out
}

proptest! {
    #[test]
    fn resampler_output_independent_of_framing(
        input in prop::collection::vec(any::<i16>(), 0..3000),
        cuts in prop::collection::vec(1usize..500, 1..8),
        from in 0usize..3,
        to in 0usize..3,
    ) {
        let (from, to) = (RATES[from], RATES[to]);
        let mut whole = Resampler::new(from, to);
        let mut expect = vec![0i16; whole.max_output_len(input.len())];
        let n = whole.process(&input, &mut expect).unwrap();
        expect.truncate(n);
        let mut cut = Resampler::new(from, to);
        let mut got = Vec::new();
        for (a, b) in pieces(input.len(), &cuts) {
            let mut out = vec![0i16; cut.max_output_len(b - a)];
            let m = cut.process(&input[a..b], &mut out).unwrap();
            got.extend_from_slice(&out[..m]);
        }
        prop_assert_eq!(got, expect);
    }

    #[test]
    fn g722_any_bytes_decode(codes in prop::collection::vec(any::<u8>(), 0..2000)) {
        let mut dec = G722Decoder::new();
        let mut out = vec![0i16; 2 * codes.len()];
        prop_assert_eq!(dec.decode(&codes, &mut out), 2 * codes.len());
    }

    #[test]
    fn g722_framing_independent(
        pcm in prop::collection::vec(any::<i16>(), 0..2000),
        cuts in prop::collection::vec(1usize..200, 1..6),
    ) {
        let pcm = &pcm[..pcm.len() / 2 * 2];
        let mut e1 = G722Encoder::new();
        let mut whole = vec![0u8; pcm.len() / 2];
        e1.encode(pcm, &mut whole);
        let mut e2 = G722Encoder::new();
        let mut got = Vec::new();
        // Even-sized pieces: the encoder consumes pairs.
        let cuts: Vec<usize> = cuts.iter().map(|c| 2 * c).collect();
        for (a, b) in pieces(pcm.len(), &cuts) {
            let mut out = vec![0u8; (b - a) / 2];
            let n = e2.encode(&pcm[a..b], &mut out);
            got.extend_from_slice(&out[..n]);
        }
        prop_assert_eq!(&got, &whole);
        let mut d = G722Decoder::new();
        let mut back = vec![0i16; pcm.len()];
        prop_assert_eq!(d.decode(&whole, &mut back), pcm.len());
    }

    #[test]
    fn plc_any_loss_pattern(
        frames in prop::collection::vec((any::<bool>(), 0usize..400, any::<i16>()), 0..40),
    ) {
        let mut plc = Plc::new();
        let mut lost_run = 0;
        for (good, len, level) in frames {
            let mut buf = vec![level; len];
            if good {
                plc.add_good_frame(&mut buf);
                lost_run = 0;
            } else {
                plc.conceal(&mut buf);
                // Silent once more than 60 ms (480 samples) were concealed.
                if lost_run >= 480 {
                    prop_assert!(buf.iter().all(|&x| x == 0));
                }
                lost_run += len;
            }
        }
    }

    #[test]
    fn dtmf_any_input(pcm in prop::collection::vec(any::<i16>(), 0..5000)) {
        let mut det = DtmfDetector::new(8000);
        det.handle_samples(&pcm);
        while let Some(d) = det.poll_digit() {
            prop_assert!("0123456789*#ABCD".contains(d));
        }
    }

    #[test]
    fn g711_round_trip_close(x in any::<i16>()) {
        let u = i32::from(ulaw_decode(ulaw_encode(x)));
        let a = i32::from(alaw_decode(alaw_encode(x)));
        let x = i32::from(x);
        // Relative error of the companding laws: within ~1/16 of the magnitude plus
        // the smallest step.
        prop_assert!((u - x.clamp(-32124, 32124)).abs() <= x.abs() / 16 + 8 + 512 * i32::from(x.abs() > 32124));
        prop_assert!((a - x.clamp(-32256, 32256)).abs() <= x.abs() / 16 + 16 + 512 * i32::from(x.abs() > 32256));
    }
}
