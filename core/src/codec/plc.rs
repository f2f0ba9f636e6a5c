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
    /// The last `HIST_LEN` output samples, oldest first (samples are 16-bit, so the
    /// history is kept as such: half the memory of floats, same values). During an
    /// erasure it stays as it was when the erasure started: the repeating segment (the
    /// last 1–3 pitch periods of it, the last ¼ period blended into the samples before its
    /// head so that the wrap is smooth) is computed from it sample by sample
    /// ([`Plc::lp`]), and the concealed samples are added to it when the erasure ends
    /// ([`Plc::commit_erasure`]), so no second copy is kept.
    hist: [i16; HIST_LEN],
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
            hist: [0; HIST_LEN],
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
            let concealed = self.erased;
            let erased_steps = self.erased.div_ceil(STEP);
            let len = (self.pitch / 4 + 32 * (erased_steps - 1))
                .min(END_OLA_MAX)
                .min(frame.len());
            for (i, x) in frame[..len].iter_mut().enumerate() {
                let w = (i + 1) as f32 / (len + 1) as f32;
                let syn = self.next_synthetic();
                *x = to_i16(w * f32::from(*x) + (1.0 - w) * syn);
            }
            self.commit_erasure(concealed);
            self.erased = 0;
        }
        self.push_history(frame.iter().copied(), frame.len());
    }

    /// Adds the `concealed` samples of the erasure that ends to the history, as
    /// [`Plc::conceal`] returned them: the synthesis is deterministic given the history
    /// frozen at its start and the pitch, so it is run again from there (only the samples
    /// that can still be in the history; after 60 ms they are silence).
    fn commit_erasure(&mut self, concealed: usize) {
        const MAX: usize = SILENCE_AFTER + HIST_LEN;
        if concealed >= MAX {
            self.hist = [0; HIST_LEN];
            return;
        }
        let mut g = Plc {
            erased: 0,
            pos: 0,
            fade_len: 0,
            fade_idx: 0,
            ..self.clone()
        };
        g.build_segment(1);
        let mut tmp = [0i16; MAX];
        for t in &mut tmp[..concealed] {
            *t = to_i16(g.next_synthetic());
        }
        self.push_history(tmp[..concealed].iter().copied(), concealed);
    }

    /// Fills `out` with concealment for lost audio (call once per lost frame, in order).
    pub fn conceal(&mut self, out: &mut [i16]) {
        if self.erased == 0 {
            self.start_erasure();
        }
        for o in out.iter_mut() {
            *o = to_i16(self.next_synthetic());
        }
    }

    fn push_history(&mut self, samples: impl Iterator<Item = i16>, n: usize) {
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
        let mut h = [0.0f32; HIST_LEN];
        for (f, &x) in h.iter_mut().zip(&self.hist) {
            *f = f32::from(x);
        }
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

    /// Makes the repeating segment the last `periods` pitch periods of the history.
    fn build_segment(&mut self, periods: usize) {
        self.lp_len = periods * self.pitch;
    }

    /// Sample `k` of the repeating segment: the last `lp_len` samples of the history, the last
    /// ¼ period blended towards the samples just before the segment, so that wrapping from
    /// its end to its start is continuous.
    fn lp(&self, k: usize) -> f32 {
        let len = self.lp_len;
        let ov = self.pitch / 4;
        let start = HIST_LEN - len;
        let x = f32::from(self.hist[start + k]);
        if k + ov < len {
            return x;
        }
        let j = k + ov - len;
        let w = (j + 1) as f32 / (ov + 1) as f32;
        let before = f32::from(self.hist[start - ov + j]);
        (1.0 - w) * x + w * before
    }

    /// Raw (unattenuated) next sample of the repeating segment.
    fn next_raw(&mut self) -> f32 {
        let x = self.lp(self.pos);
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

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// The history after an erasure holds exactly what was output: the samples before
    /// it, the concealment returned, then the (cross-faded) good frame; and a loss right
    /// after conceals from that history.
    #[test]
    fn history_after_erasure_is_the_output() {
        let mut plc = Plc::new();
        let mut all: Vec<i16> = Vec::new();
        // A 125 Hz-ish periodic signal (period 64) with harmonics.
        let sig = |n: usize| -> i16 {
            let p = (n % 64) as i32;
            ((p - 32) * 300 + if p < 8 { 4000 } else { 0 }) as i16
        };
        let mut n = 0;
        for _ in 0..4 {
            let mut f: Vec<i16> = (n..n + 160).map(sig).collect();
            n += 160;
            plc.add_good_frame(&mut f);
            all.extend_from_slice(&f);
        }
        for frames in [1usize, 2, 7] {
            for _ in 0..frames {
                let mut f = [0i16; 160];
                plc.conceal(&mut f);
                all.extend_from_slice(&f);
                n += 160;
            }
            let mut f: Vec<i16> = (n..n + 160).map(sig).collect();
            n += 160;
            plc.add_good_frame(&mut f);
            all.extend_from_slice(&f);
            assert!(!plc.in_erasure());
            assert_eq!(plc.hist[..], all[all.len() - HIST_LEN..], "{frames} lost");
        }
        // Two short frames only (less than the history) after a 20 ms loss.
        let mut f = [0i16; 160];
        plc.conceal(&mut f);
        all.extend_from_slice(&f);
        let mut g = [1234i16; 40];
        plc.add_good_frame(&mut g);
        all.extend_from_slice(&g);
        assert_eq!(plc.hist[..], all[all.len() - HIST_LEN..]);
    }
}
