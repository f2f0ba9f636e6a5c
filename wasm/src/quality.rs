//! Call quality: a simplified E-model (ITU-T G.107 with the G.113 Appendix I impairment
//! factors) turning round-trip time, jitter and packet loss into an R-factor and a MOS.
//!
//! The simplifications, as in most VoIP monitors (Cole & Rosenbluth, 2001):
//! - one-way delay `d` = RTT/2 + a jitter buffer of 2 × jitter + the codec's frame and
//!   look-ahead;
//! - delay impairment `Id = 0.024·d + 0.11·(d − 177.3)·H(d − 177.3)`;
//! - loss impairment `Ie,eff = Ie + (95 − Ie)·Ppl / (Ppl + Bpl)` (random loss, BurstR = 1);
//! - `R = 93.2 − Id − Ie,eff`, and the G.107 Annex B mapping of R to MOS (1.0 – 4.5).
//!
//! Inputs: RTT (ms), jitter (ms), loss (%), codec. Output: R and MOS. Pure functions.

/// A codec's E-model parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CodecImpairment {
    /// Equipment impairment factor `Ie` without loss.
    pub ie: f64,
    /// Packet-loss robustness factor `Bpl`.
    pub bpl: f64,
    /// Frame size + look-ahead in ms (added to the one-way delay).
    pub frame_ms: f64,
}

impl CodecImpairment {
    /// G.711 with packet-loss concealment (G.113 Appendix I: Ie 0, Bpl 25.1), 20 ms frames.
    pub const G711: CodecImpairment = CodecImpairment {
        ie: 0.0,
        bpl: 25.1,
        frame_ms: 20.0,
    };
    /// Opus (no G.113 value; treated as G.711 with PLC but more loss-robust, 20 ms frames
    /// plus 6.5 ms look-ahead).
    pub const OPUS: CodecImpairment = CodecImpairment {
        ie: 0.0,
        bpl: 30.0,
        frame_ms: 26.5,
    };

    /// The parameters for a codec name (`opus`, `pcmu`, `pcma`, `g722`…; case-insensitive);
    /// unknown names get the G.711 values.
    pub fn for_name(name: &str) -> CodecImpairment {
        if name.eq_ignore_ascii_case("opus") {
            CodecImpairment::OPUS
        } else {
            CodecImpairment::G711
        }
    }
}

/// The R-factor for `rtt_ms`, `jitter_ms`, `loss_percent` (0–100) with codec `c`.
/// Negative or non-finite inputs count as 0.
pub fn r_factor(rtt_ms: f64, jitter_ms: f64, loss_percent: f64, c: CodecImpairment) -> f64 {
    let clean = |v: f64| if v.is_finite() && v > 0.0 { v } else { 0.0 };
    let d = clean(rtt_ms) / 2.0 + 2.0 * clean(jitter_ms) + c.frame_ms;
    let mut id = 0.024 * d;
    if d > 177.3 {
        id += 0.11 * (d - 177.3);
    }
    let ppl = clean(loss_percent).min(100.0);
    let ie_eff = c.ie + (95.0 - c.ie) * ppl / (ppl + c.bpl);
    93.2 - id - ie_eff
}

/// The MOS (1.0–4.5) for an R-factor (G.107 Annex B).
pub fn mos_from_r(r: f64) -> f64 {
    if r.is_nan() || r <= 0.0 {
        1.0
    } else if r >= 100.0 {
        4.5
    } else {
        (1.0 + 0.035 * r + 7.0e-6 * r * (r - 60.0) * (100.0 - r)).clamp(1.0, 4.5)
    }
}

/// The MOS for the measured values (see [`r_factor`]).
pub fn mos(rtt_ms: f64, jitter_ms: f64, loss_percent: f64, c: CodecImpairment) -> f64 {
    mos_from_r(r_factor(rtt_ms, jitter_ms, loss_percent, c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g107_reference_points() {
        // G.107 Annex B: R = 93.2 → MOS 4.41; R = 50 → 2.58; R = 70 → 3.60.
        assert!((mos_from_r(93.2) - 4.409).abs() < 0.005);
        assert!((mos_from_r(50.0) - 2.575).abs() < 0.005);
        assert!((mos_from_r(70.0) - 3.6).abs() < 0.005);
        assert_eq!(mos_from_r(-3.0), 1.0);
        assert_eq!(mos_from_r(120.0), 4.5);
        assert_eq!(mos_from_r(f64::NAN), 1.0);
    }

    #[test]
    fn impairments_lower_the_score() {
        let c = CodecImpairment::G711;
        let clean = r_factor(0.0, 0.0, 0.0, c);
        // Only the 20 ms frame delay: Id = 0.48.
        assert!((clean - (93.2 - 0.48)).abs() < 1e-9);
        // 2 % random loss with PLC: Ie,eff = 95·2/27.1 = 7.01.
        let lossy = r_factor(0.0, 0.0, 2.0, c);
        assert!((clean - lossy - 95.0 * 2.0 / 27.1).abs() < 1e-9);
        // Past 177.3 ms one way the delay term steepens.
        let far = r_factor(400.0, 0.0, 0.0, c);
        let d: f64 = 220.0;
        assert!((far - (93.2 - 0.024 * d - 0.11 * (d - 177.3))).abs() < 1e-9);
        assert!(mos(0.0, 0.0, 0.0, c) > 4.3);
        assert!(mos(300.0, 40.0, 10.0, c) < 3.0);
        assert!(mos(50.0, 5.0, 1.0, CodecImpairment::OPUS) > mos(50.0, 5.0, 1.0, c));
        assert_eq!(r_factor(-5.0, f64::NAN, -1.0, c), clean);
        assert_eq!(mos(0.0, 0.0, 100.0, c), mos(0.0, 0.0, 1000.0, c));
    }
}
