//! Packet-loss concealment for G.711 (and any 8 kHz PCM), in the style of ITU-T G.711
//! Appendix I: pitch-based periodic waveform substitution with overlap-add.
//!
//! Inputs: every good (received, decoded) frame through [`Plc::add_good_frame`]; for
//! every lost frame, [`Plc::conceal`] fills the caller's buffer with a synthetic signal.
//! Frames may have any length (10 ms = 80 samples, 20 ms = 160 …).
//!
//! The algorithm, as in Appendix I §I.2:
//! - a history of the last 48.75 ms (390 samples) is kept;
//! - at the start of an erasure the pitch period (5–15 ms, 40–120 samples) is found by
//!   normalised cross-correlation of the last 20 ms with the history;
//! - the erasure is filled by repeating the last pitch period; the buffer is widened to
//!   two periods after 10 ms and three after 20 ms (which avoids a buzzy tone), each
//!   change and each wrap of the period smoothed by a triangular overlap-add of ¼ period;
//! - from 10 ms on, the signal is attenuated linearly by 20 % per 10 ms, so that it is
//!   silent after 60 ms;
//! - the first good frame after an erasure is cross-faded with the continued synthetic
//!   signal over ¼ period plus 4 ms per further 10 ms erased (at most 10 ms).
//!
//! One difference from the Appendix: the reference delays its output by 3.75 ms to
//! overlap-add at the *start* of an erasure; this one adds no delay, and relies instead on
//! starting the substitution exactly one pitch period back, which continues a periodic
//! signal without a jump. That is why [`Plc::add_good_frame`] takes `&mut`: after an
//! erasure it smooths the start of the good frame in place.

/// Samples per 10 ms at 8 kHz.
const STEP: usize = 80;
/// Shortest pitch period: 5 ms (200 Hz).
const PITCH_MIN: usize = 40;
/// Longest pitch period: 15 ms (66.7 Hz).
const PITCH_MAX: usize = 120;
/// Correlation window for the pitch search: 20 ms.
const CORR_LEN: usize = 160;
/// History: three longest periods plus a quarter of one (48.75 ms).
const HIST_LEN: usize = 3 * PITCH_MAX + PITCH_MAX / 4;
/// Longest end-of-erasure cross-fade: 10 ms.
const END_OLA_MAX: usize = STEP;
/// Erasure length after which the output is silent: 60 ms.
const SILENCE_AFTER: usize = 6 * STEP;

/// G.711 Appendix I–style packet-loss concealer for 8 kHz PCM. No allocation.
#[derive(Debug, Clone)]
pub struct Plc {
    /// The last `HIST_LEN` output samples, oldest first.
    hist: [f32; HIST_LEN],
    /// History as it was when the erasure started.
    src: [f32; HIST_LEN],
    /// The repeating segment (1–3 pitch periods, tail blended into the samples before
    /// its head so that the wrap is smooth).
    lp: [f32; HIST_LEN],
    /// Length of the repeating segment in use.
    lp_len: usize,
    /// Read position in `lp`.
    pos: usize,
    /// Pitch period of the current erasure.
    pitch: usize,
    /// Samples concealed in the current erasure (0: not in an erasure).
    erased: usize,
    /// The old stream's next samples when the segment is widened, faded out.
    fade: [f32; PITCH_MAX / 4],
    fade_len: usize,
    fade_idx: usize,
}

impl Default for Plc {
    fn default() -> Self {
        Self::new()
    }
}

impl Plc {
    /// A concealer with silent history.
    #[must_use]
    pub const fn new() -> Self {
        Plc {
            hist: [0.0; HIST_LEN],
            src: [0.0; HIST_LEN],
            lp: [0.0; HIST_LEN],
            lp_len: PITCH_MIN,
            pos: 0,
            pitch: PITCH_MIN,
            erased: 0,
            fade: [0.0; PITCH_MAX / 4],
            fade_len: 0,
            fade_idx: 0,
        }
    }

    /// True while an erasure is in progress (after [`Plc::conceal`], before the next good
    /// frame).
    #[must_use]
    pub const fn in_erasure(&self) -> bool {
        self.erased > 0
    }

    /// The pitch period (in samples) found at the start of the current or last erasure.
    #[must_use]
    pub const fn pitch(&self) -> usize {
        self.pitch
    }

    /// Records a good frame. If it ends an erasure, its start is cross-faded in place
    /// with the continuation of the synthetic signal.
    pub fn add_good_frame(&mut self, frame: &mut [i16]) {
        if self.erased > 0 {
            let erased_steps = self.erased.div_ceil(STEP);
            let len = (self.pitch / 4 + 32 * (erased_steps - 1))
                .min(END_OLA_MAX)
                .min(frame.len());
            for (i, x) in frame[..len].iter_mut().enumerate() {
                let w = (i + 1) as f32 / (len + 1) as f32;
                let syn = self.next_synthetic();
                *x = to_i16(w * f32::from(*x) + (1.0 - w) * syn);
            }
            self.erased = 0;
        }
        self.push_history(frame.iter().map(|&x| f32::from(x)), frame.len());
    }

    /// Fills `out` with concealment for lost audio (call once per lost frame, in order).
    pub fn conceal(&mut self, out: &mut [i16]) {
        if self.erased == 0 {
            self.start_erasure();
        }
        for o in out.iter_mut() {
            *o = to_i16(self.next_synthetic());
        }
        self.push_history(out.iter().map(|&x| f32::from(x)), out.len());
    }

    fn push_history(&mut self, samples: impl Iterator<Item = f32>, n: usize) {
        let keep = HIST_LEN.saturating_sub(n);
        self.hist.copy_within(HIST_LEN - keep.., 0);
        let skip = n.saturating_sub(HIST_LEN);
        for (h, x) in self.hist[keep..].iter_mut().zip(samples.skip(skip)) {
            *h = x;
        }
    }

    /// Pitch search (normalised cross-correlation, Appendix I §I.2.2) and set-up of a
    /// one-period repeating segment.
    fn start_erasure(&mut self) {
        self.src = self.hist;
        let h = &self.src;
        let seg = &h[HIST_LEN - CORR_LEN..];
        let mut best = PITCH_MIN;
        let mut best_score = f32::MIN;
        for lag in PITCH_MIN..=PITCH_MAX {
            let cand = &h[HIST_LEN - CORR_LEN - lag..HIST_LEN - lag];
            let (corr, energy) = corr_energy(seg, cand);
            // Compare corr / sqrt(energy) without the root: sign(corr)·corr² / energy.
            let score = if energy > 0.0 {
                corr * corr.abs() / energy
            } else {
                0.0
            };
            if score > best_score {
                best_score = score;
                best = lag;
            }
        }
        self.pitch = best;
        self.build_segment(1);
        self.pos = 0;
        self.fade_len = 0;
    }

    /// Makes `lp` the last `periods` pitch periods of `src`, with the last ¼ period
    /// blended towards the samples just before the segment, so that wrapping from its end
    /// to its start is continuous.
    fn build_segment(&mut self, periods: usize) {
        let len = periods * self.pitch;
        let ov = self.pitch / 4;
        let start = HIST_LEN - len;
        self.lp[..len].copy_from_slice(&self.src[start..]);
        for j in 0..ov {
            let w = (j + 1) as f32 / (ov + 1) as f32;
            let before = self.src[start - ov + j];
            let k = len - ov + j;
            self.lp[k] = (1.0 - w) * self.lp[k] + w * before;
        }
        self.lp_len = len;
    }

    /// Raw (unattenuated) next sample of the repeating segment.
    fn next_raw(&mut self) -> f32 {
        let x = self.lp[self.pos];
        self.pos += 1;
        if self.pos >= self.lp_len {
            self.pos = 0;
        }
        x
    }

    /// Next synthetic sample: widens the segment at 10 and 20 ms (with a ¼-period
    /// overlap-add of the old stream into the new) and applies the attenuation.
    fn next_synthetic(&mut self) -> f32 {
        let n = self.erased;
        self.erased = self.erased.saturating_add(1);
        if n >= SILENCE_AFTER {
            return 0.0;
        }
        let periods = 1 + (n / STEP).min(2);
        if self.lp_len != periods * self.pitch {
            // The longer segment starts one period earlier: position p in it has the
            // same phase as position p in the old one, from one period further back.
            let p0 = self.pos;
            let ov = self.pitch / 4;
            for j in 0..ov {
                self.fade[j] = self.next_raw();
            }
            self.build_segment(periods);
            self.pos = p0;
            self.fade_len = ov;
            self.fade_idx = 0;
        }
        let mut x = self.next_raw();
        if self.fade_idx < self.fade_len {
            let w = (self.fade_idx + 1) as f32 / (self.fade_len + 1) as f32;
            x = (1.0 - w) * self.fade[self.fade_idx] + w * x;
            self.fade_idx += 1;
        }
        let gain = if n < STEP {
            1.0
        } else {
            1.0 - 0.2 * (n - STEP) as f32 / STEP as f32
        };
        x * gain.max(0.0)
    }
}

/// `(Σ a·b, Σ b²)` over equal-length slices, in eight independent lanes so that the
/// compiler can vectorise it.
fn corr_energy(a: &[f32], b: &[f32]) -> (f32, f32) {
    let (mut c, mut e) = ([0.0f32; 8], [0.0f32; 8]);
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (x, y) in ac.zip(bc) {
        for k in 0..8 {
            c[k] += x[k] * y[k];
            e[k] += y[k] * y[k];
        }
    }
    let mut corr: f32 = c.iter().sum();
    let mut energy: f32 = e.iter().sum();
    for (x, y) in ar.iter().zip(br) {
        corr += x * y;
        energy += y * y;
    }
    (corr, energy)
}

/// Rounds and saturates to a 16-bit sample.
fn to_i16(x: f32) -> i16 {
    let r = if x >= 0.0 { x + 0.5 } else { x - 0.5 };
    // `as` saturates on overflow for float → int casts.
    r as i16
}
