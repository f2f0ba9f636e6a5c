//! Tones: a sine / dual-tone generator, a Goertzel single-frequency detector and a DTMF
//! (ITU-T Q.23 / Q.24) detector, for 16-bit PCM at any sampling rate.
//!
//! - [`ToneGenerator`]: phase-continuous across calls (a complex rotator in `f64`,
//!   renormalised every call, so it neither drifts in frequency nor in level).
//! - [`Goertzel`] and [`tone_power`]: the power at one frequency (G. Goertzel, 1958),
//!   also as a fraction of the block's total energy — 1.0 for a pure tone, ≈ 0 without it.
//! - [`DtmfDetector`]: eight Goertzel filters over 12.75 ms blocks, with the usual Q.24
//!   style checks (level, twist, purity) and a two-block debounce (so tones of 40 ms and
//!   pauses of 40 ms are resolved, as Q.24 asks); detected digits are
//!   drained with [`DtmfDetector::poll_digit`]. Not implemented: Q.24's rejection of tones
//!   off by more than 3.5 % (the 12.75 ms Goertzel bins are ~78 Hz wide, so such tones are
//!   still accepted), and talk-off testing against recorded speech.

use core::f64::consts::PI;

/// A sine (or sum of two sines) generator.
#[derive(Debug, Clone)]
pub struct ToneGenerator {
    /// Per tone: current phasor (re, im), rotation (cos w, sin w) and amplitude.
    tones: [(f64, f64, f64, f64, f64); 2],
    count: usize,
}

impl ToneGenerator {
    /// A sine of `freq_hz` at `rate_hz` with peak `amplitude` (in 16-bit units).
    #[must_use]
    pub fn new(rate_hz: u32, freq_hz: f64, amplitude: f64) -> Self {
        let mut g = ToneGenerator {
            tones: [(0.0, 0.0, 1.0, 0.0, 0.0); 2],
            count: 1,
        };
        g.tones[0] = Self::tone(rate_hz, freq_hz, amplitude);
        g
    }

    /// The sum of two sines (e.g. a DTMF digit, see [`dtmf_frequencies`]), each of peak
    /// `amplitude_each`.
    #[must_use]
    pub fn dual(rate_hz: u32, f1_hz: f64, f2_hz: f64, amplitude_each: f64) -> Self {
        ToneGenerator {
            tones: [
                Self::tone(rate_hz, f1_hz, amplitude_each),
                Self::tone(rate_hz, f2_hz, amplitude_each),
            ],
            count: 2,
        }
    }

    fn tone(rate_hz: u32, freq_hz: f64, amplitude: f64) -> (f64, f64, f64, f64, f64) {
        let w = 2.0 * PI * freq_hz / f64::from(rate_hz.max(1));
        (1.0, 0.0, libm::cos(w), libm::sin(w), amplitude)
    }

    /// Writes the next `out.len()` samples (saturated to 16 bits).
    pub fn fill(&mut self, out: &mut [i16]) {
        out.fill(0);
        for t in &mut self.tones[..self.count] {
            let (mut re, mut im, c, s, amp) = *t;
            for o in out.iter_mut() {
                let v = f64::from(*o) + amp * im;
                *o = libm::round(v).clamp(-32768.0, 32767.0) as i16;
                (re, im) = (re * c - im * s, re * s + im * c);
            }
            // Renormalise the phasor to unit length.
            let norm = libm::sqrt(re * re + im * im);
            if norm > 0.0 {
                (re, im) = (re / norm, im / norm);
            }
            t.0 = re;
            t.1 = im;
        }
    }
}

/// Streaming Goertzel filter: the power of one frequency over the samples pushed since
/// the last [`Goertzel::reset`].
#[derive(Debug, Clone)]
pub struct Goertzel {
    coeff: f64,
    cos_w: f64,
    sin_w: f64,
    s1: f64,
    s2: f64,
    n: usize,
    energy: f64,
}

impl Goertzel {
    /// A detector for `freq_hz` at `rate_hz` (any frequency, not only DFT bin centres).
    #[must_use]
    pub fn new(rate_hz: u32, freq_hz: f64) -> Self {
        let w = 2.0 * PI * freq_hz / f64::from(rate_hz.max(1));
        Goertzel {
            coeff: 2.0 * libm::cos(w),
            cos_w: libm::cos(w),
            sin_w: libm::sin(w),
            s1: 0.0,
            s2: 0.0,
            n: 0,
            energy: 0.0,
        }
    }

    /// Feeds samples.
    pub fn push(&mut self, samples: &[i16]) {
        for &x in samples {
            let x = f64::from(x);
            let s0 = x + self.coeff * self.s1 - self.s2;
            self.s2 = self.s1;
            self.s1 = s0;
            self.energy += x * x;
        }
        self.n += samples.len();
    }

    /// Mean power of the component at the frequency: A²/2 for a sine of amplitude A
    /// (same units as the mean square of the input).
    #[must_use]
    pub fn power(&self) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        let re = self.s1 - self.s2 * self.cos_w;
        let im = self.s2 * self.sin_w;
        let n = self.n as f64;
        2.0 * (re * re + im * im) / (n * n)
    }

    /// Fraction of the block's energy at the frequency, in 0.0..=~1.0.
    #[must_use]
    pub fn relative_power(&self) -> f64 {
        if self.energy <= 0.0 {
            return 0.0;
        }
        self.power() * self.n as f64 / self.energy
    }

    /// Mean square of all samples pushed (total power).
    #[must_use]
    pub fn total_power(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.energy / self.n as f64
        }
    }

    /// Starts a new block.
    pub fn reset(&mut self) {
        self.s1 = 0.0;
        self.s2 = 0.0;
        self.n = 0;
        self.energy = 0.0;
    }
}

/// Fraction of the energy of `samples` at `freq_hz` (see [`Goertzel::relative_power`]).
/// E.g. a clean 1 kHz tone gives ≈ 1.0 at 1000 Hz and ≈ 0 at 1500 Hz.
#[must_use]
pub fn tone_power(samples: &[i16], freq_hz: f64, rate_hz: u32) -> f64 {
    let mut g = Goertzel::new(rate_hz, freq_hz);
    g.push(samples);
    g.relative_power()
}

/// DTMF row frequencies (Q.23), Hz.
pub const DTMF_ROWS: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
/// DTMF column frequencies (Q.23), Hz.
pub const DTMF_COLS: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
const DTMF_KEYS: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];

/// The (row, column) frequencies of a DTMF digit (`0-9`, `*`, `#`, `A-D`).
#[must_use]
pub fn dtmf_frequencies(digit: char) -> Option<(f64, f64)> {
    let d = digit.to_ascii_uppercase();
    for (r, row) in DTMF_KEYS.iter().enumerate() {
        for (c, &k) in row.iter().enumerate() {
            if k == d {
                return Some((DTMF_ROWS[r], DTMF_COLS[c]));
            }
        }
    }
    None
}

/// Minimum mean-square level of a detected digit (≈ −36 dBm0 per tone).
const DTMF_MIN_POWER: f64 = 400.0;
/// Row + column must carry this fraction of the block energy.
const DTMF_PURITY: f64 = 0.6;
/// Largest allowed twist (column weaker or stronger than row), as a power ratio (8 dB).
const DTMF_TWIST: f64 = 6.3;
/// The second strongest tone of a group must be this much weaker (power ratio, 10 dB).
const DTMF_OTHERS: f64 = 10.0;
/// Capacity of the digit queue.
const DTMF_QUEUE: usize = 16;

/// A DTMF detector (sans-IO: feed with [`DtmfDetector::handle_samples`], drain with
/// [`DtmfDetector::poll_digit`]).
#[derive(Debug, Clone)]
pub struct DtmfDetector {
    filters: [Goertzel; 8],
    block: usize,
    /// Digit seen in the last block (None: none).
    last: Option<char>,
    /// Digit currently reported as pressed.
    pressed: Option<char>,
    queue: [char; DTMF_QUEUE],
    q_head: usize,
    q_len: usize,
}

impl DtmfDetector {
    /// A detector for PCM at `rate_hz` (blocks of 12.75 ms: 102 samples at 8 kHz).
    #[must_use]
    pub fn new(rate_hz: u32) -> Self {
        let f = |hz| Goertzel::new(rate_hz, hz);
        DtmfDetector {
            filters: [
                f(DTMF_ROWS[0]),
                f(DTMF_ROWS[1]),
                f(DTMF_ROWS[2]),
                f(DTMF_ROWS[3]),
                f(DTMF_COLS[0]),
                f(DTMF_COLS[1]),
                f(DTMF_COLS[2]),
                f(DTMF_COLS[3]),
            ],
            block: (rate_hz as usize * 102 / 8000).max(32),
            last: None,
            pressed: None,
            queue: ['\0'; DTMF_QUEUE],
            q_head: 0,
            q_len: 0,
        }
    }

    /// Feeds PCM samples.
    pub fn handle_samples(&mut self, mut samples: &[i16]) {
        while !samples.is_empty() {
            let room = self.block - self.filters[0].n;
            let (now, rest) = samples.split_at(room.min(samples.len()));
            for f in &mut self.filters {
                f.push(now);
            }
            samples = rest;
            if self.filters[0].n >= self.block {
                let digit = self.classify();
                for f in &mut self.filters {
                    f.reset();
                }
                // Debounce: a digit must be seen in two consecutive blocks to press, and
                // be absent (or change) in two consecutive blocks to release.
                if digit.is_some() && digit == self.last && self.pressed != digit {
                    self.pressed = digit;
                    if let Some(d) = digit {
                        self.enqueue(d);
                    }
                } else if digit.is_none() && self.last.is_none() {
                    self.pressed = None;
                }
                self.last = digit;
            }
        }
    }

    /// The next detected digit (key-down events, in order), if any.
    pub fn poll_digit(&mut self) -> Option<char> {
        if self.q_len == 0 {
            return None;
        }
        let d = self.queue[self.q_head];
        self.q_head = (self.q_head + 1) % DTMF_QUEUE;
        self.q_len -= 1;
        Some(d)
    }

    fn enqueue(&mut self, d: char) {
        if self.q_len < DTMF_QUEUE {
            self.queue[(self.q_head + self.q_len) % DTMF_QUEUE] = d;
            self.q_len += 1;
        }
    }

    fn classify(&self) -> Option<char> {
        let p: [f64; 8] = core::array::from_fn(|i| self.filters[i].power());
        let best = |group: &[f64]| {
            let mut idx = 0;
            for (i, &v) in group.iter().enumerate() {
                if v > group[idx] {
                    idx = i;
                }
            }
            idx
        };
        let (rows, cols) = p.split_at(4);
        let (r, c) = (best(rows), best(cols));
        let (pr, pc) = (rows[r], cols[c]);
        if pr < DTMF_MIN_POWER || pc < DTMF_MIN_POWER {
            return None;
        }
        if pr > pc * DTMF_TWIST || pc > pr * DTMF_TWIST {
            return None;
        }
        for (group, peak, i) in [(rows, pr, r), (cols, pc, c)] {
            if group
                .iter()
                .enumerate()
                .any(|(k, &v)| k != i && v * DTMF_OTHERS > peak)
            {
                return None;
            }
        }
        if pr + pc < DTMF_PURITY * self.filters[0].total_power() {
            return None;
        }
        Some(DTMF_KEYS[r][c])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goertzel_pure_tone() {
        let mut g = ToneGenerator::new(8000, 1000.0, 10000.0);
        let mut buf = [0i16; 160];
        g.fill(&mut buf);
        let rel = tone_power(&buf, 1000.0, 8000);
        assert!((rel - 1.0).abs() < 0.01, "{rel}");
        assert!(tone_power(&buf, 1500.0, 8000) < 0.01);
        let mut gz = Goertzel::new(8000, 1000.0);
        gz.push(&buf);
        // A²/2 = 5e7.
        assert!((gz.power() / 5.0e7 - 1.0).abs() < 0.01, "{}", gz.power());
    }
}
