//! Call quality as a MOS estimate from a simplified E-model (ITU-T G.107, codec values from
//! ITU-T G.113 Appendix I).
//!
//! Inputs: one-way delay (e.g. RTT/2 from RTCP), interarrival jitter, packet loss ratio,
//! optional burst ratio, and the codec's [`CodecQuality`]. Output: the transmission rating
//! R and the estimated MOS-CQE. With all other G.107 parameters at their defaults:
//!
//! ```text
//! R      = 93.2 − Id − Ie,eff
//! d      = one_way_delay + 2·jitter + 10 ms                (effective delay, see below)
//! Id     = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3)         (d in ms, H = step function)
//! Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl/BurstR + Bpl)       (Ppl in percent)
//! MOS    = 1                                  if R < 0
//!        = 1 + 0.035·R + R·(R − 60)·(100 − R)·7·10⁻⁶   if 0 ≤ R ≤ 100
//!        = 4.5                                if R > 100
//! ```
//!
//! The Id expression is the usual piecewise-linear fit of G.107's delay impairment (Cole &
//! Rosenbluth, "Voice over IP performance monitoring", 2001). Jitter enters as delay: the
//! receiver's jitter buffer must hold about twice the RFC 3550 jitter to absorb it, and 10 ms
//! stands for codec and buffer processing; jitter beyond what the buffer absorbs shows up
//! as late loss, which the caller should add to the loss ratio (the [`super::jitter`]
//! buffer counts late packets).

use crate::time::Duration;

/// The codec's equipment impairment (Ie) and packet-loss robustness (Bpl).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CodecQuality {
    /// Equipment impairment factor Ie at zero loss.
    pub ie: f64,
    /// Packet-loss robustness factor Bpl.
    pub bpl: f64,
}

impl CodecQuality {
    /// G.711 without packet-loss concealment: Ie = 0, Bpl = 4.3 (G.113 Appendix I).
    pub const G711: CodecQuality = CodecQuality { ie: 0.0, bpl: 4.3 };
    /// G.711 with the G.711 Appendix I PLC: Ie = 0, Bpl = 25.1 (G.113 Appendix I).
    pub const G711_PLC: CodecQuality = CodecQuality { ie: 0.0, bpl: 25.1 };
    /// Opus as used by WebRTC (≥ 24 kbit/s, 20 ms frames, built-in PLC): our choice of
    /// Ie = 0, Bpl = 20. G.113 gives no Opus values. At these bitrates Opus is not worse
    /// than G.711 on the narrowband scale the formula uses, so Ie = 0; its concealment is
    /// comparable to G.711 with PLC, and Bpl is set a little below G.711 PLC's 25.1 because
    /// a lost Opus packet also disturbs the decoder's prediction state for the next frame.
    pub const OPUS: CodecQuality = CodecQuality { ie: 0.0, bpl: 20.0 };
}

/// Maps an R value to MOS (G.107 Annex B), clamped to 1.0–4.5 (the cubic dips just
/// below 1 for 0 < R < 6.5; clamping keeps MOS monotonic in R).
pub fn r_to_mos(r: f64) -> f64 {
    if r < 0.0 {
        1.0
    } else if r > 100.0 {
        4.5
    } else {
        (1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7.0e-6).clamp(1.0, 4.5)
    }
}

/// The simplified E-model for one codec.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EModel {
    /// Codec parameters.
    pub codec: CodecQuality,
    /// BurstR: 1 for random loss, > 1 for bursty loss.
    pub burst_ratio: f64,
}

impl EModel {
    /// The E-model for `codec` with random loss (BurstR = 1).
    pub const fn new(codec: CodecQuality) -> Self {
        EModel {
            codec,
            burst_ratio: 1.0,
        }
    }

    /// Effective delay in ms: one-way delay + 2·jitter + 10 ms.
    pub fn effective_delay_ms(one_way: Duration, jitter: Duration) -> f64 {
        (one_way.as_micros() as f64 + 2.0 * jitter.as_micros() as f64) / 1000.0 + 10.0
    }

    /// Delay impairment Id for an effective delay `d` ms.
    pub fn delay_impairment(d: f64) -> f64 {
        let d = d.max(0.0);
        0.024 * d + if d > 177.3 { 0.11 * (d - 177.3) } else { 0.0 }
    }

    /// Effective equipment impairment for a loss ratio in 0..=1.
    pub fn loss_impairment(&self, loss: f64) -> f64 {
        let ppl = (loss.clamp(0.0, 1.0)) * 100.0;
        let burst = if self.burst_ratio >= 1.0 {
            self.burst_ratio
        } else {
            1.0
        };
        let ie = self.codec.ie;
        ie + (95.0 - ie) * ppl / (ppl / burst + self.codec.bpl)
    }

    /// The transmission rating R.
    pub fn r_factor(&self, one_way: Duration, jitter: Duration, loss: f64) -> f64 {
        let d = Self::effective_delay_ms(one_way, jitter);
        93.2 - Self::delay_impairment(d) - self.loss_impairment(loss)
    }

    /// The MOS estimate (1.0–4.5).
    pub fn mos(&self, one_way: Duration, jitter: Duration, loss: f64) -> f64 {
        r_to_mos(self.r_factor(one_way, jitter, loss))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn known_points() {
        // R = 93.2 → 1 + 3.262 + 93.2·33.2·6.8·7e-6 = 4.409.
        assert!((r_to_mos(93.2) - 4.409).abs() < 0.001);
        // R = 50 → 1 + 1.75 + 50·(−10)·50·7e-6 = 2.575.
        assert!((r_to_mos(50.0) - 2.575).abs() < 1e-9);
        assert_eq!(r_to_mos(-5.0), 1.0);
        assert_eq!(r_to_mos(120.0), 4.5);
        assert_eq!(r_to_mos(5.0), 1.0); // the cubic gives 0.992 here
        assert!(r_to_mos(7.0) > 1.0);
        // Id at 177.3 ms is 0.024 × 177.3; 100 ms beyond adds 11 + 2.4.
        assert!((EModel::delay_impairment(177.3) - 4.2552).abs() < 1e-9);
        assert!((EModel::delay_impairment(277.3) - (4.2552 + 2.4 + 11.0)).abs() < 1e-9);
        // G.711 without PLC at 1 % random loss: 95 × 1 / (1 + 4.3) = 17.92.
        let m = EModel::new(CodecQuality::G711);
        assert!((m.loss_impairment(0.01) - 95.0 / 5.3).abs() < 1e-9);
        // Zero loss, 0 delay and jitter: R = 93.2 − 0.024 × 10.
        let r = m.r_factor(Duration::ZERO, Duration::ZERO, 0.0);
        assert!((r - (93.2 - 0.24)).abs() < 1e-9);
        // Jitter counts twice as delay.
        let a = m.r_factor(ms(50), ms(0), 0.0);
        let b = m.r_factor(ms(0), ms(25), 0.0);
        assert!((a - b).abs() < 1e-9);
    }

    #[test]
    fn heavy_loss_lowers_mos_monotonically() {
        for codec in [
            CodecQuality::G711,
            CodecQuality::G711_PLC,
            CodecQuality::OPUS,
        ] {
            let m = EModel::new(codec);
            let mut prev = f64::INFINITY;
            for pct in 0..=50 {
                let mos = m.mos(ms(40), ms(5), f64::from(pct) / 100.0);
                // Strictly decreasing until it reaches the floor of 1.
                assert!(
                    mos < prev || mos == 1.0,
                    "{codec:?} at {pct}%: {mos} !< {prev}"
                );
                assert!((1.0..=4.5).contains(&mos));
                prev = mos;
            }
            assert!(prev < 2.5, "{codec:?} at 50% loss: {prev}");
        }
        // PLC makes the same loss hurt less; bursty loss hurts more.
        let plain = EModel::new(CodecQuality::G711).mos(ms(20), ms(2), 0.05);
        let plc = EModel::new(CodecQuality::G711_PLC).mos(ms(20), ms(2), 0.05);
        assert!(plc > plain + 0.5);
        let mut bursty = EModel::new(CodecQuality::G711_PLC);
        bursty.burst_ratio = 2.0;
        assert!(bursty.mos(ms(20), ms(2), 0.05) < plc);
        // Delay lowers MOS, sharply after 177 ms.
        let m = EModel::new(CodecQuality::G711_PLC);
        let d100 = m.mos(ms(100), ms(0), 0.0);
        let d300 = m.mos(ms(300), ms(0), 0.0);
        assert!(d100 > 4.2 && d300 < 4.0 && d300 > 3.0, "{d100} {d300}");
    }
}
