//! Opus behind a small trait, with two implementations: libopus (the `opus` crate, C) and
//! `ropus` (a bit-exact pure-Rust port). The gateway picks one by name
//! ([`OpusImpl`]); the choice is made by measurement (`cargo bench -p rvoip-gateway --bench
//! opus`, and the quality test in this module).
//!
//! The transcoding path runs Opus at the *narrow-band* sample rate of the trunk codec:
//! Opus accepts 8 kHz (or 16 kHz) PCM and produces a normal 48 kHz-clock RTP stream
//! (RFC 7587), and its decoder renders at 8 kHz directly. That avoids a 48 kHz resampling
//! step on both directions and lets the encoder pick SILK narrow-band, which is what the
//! G.711 side can carry anyway.

/// Which Opus implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpusImpl {
    /// libopus through the `opus` crate.
    Libopus,
    /// The pure-Rust `ropus` port.
    Ropus,
}

impl OpusImpl {
    /// Every implementation, for benches and tests.
    pub const ALL: [OpusImpl; 2] = [OpusImpl::Libopus, OpusImpl::Ropus];

    /// Short name.
    pub fn name(self) -> &'static str {
        match self {
            OpusImpl::Libopus => "libopus",
            OpusImpl::Ropus => "ropus",
        }
    }
}

/// Encoder settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusSettings {
    /// PCM sample rate (8000, 12000, 16000, 24000 or 48000).
    pub sample_rate: u32,
    /// Target bit rate in bit/s.
    pub bitrate: u32,
    /// Encoder complexity 0–10.
    pub complexity: u8,
    /// In-band FEC (RFC 7587 `useinbandfec`).
    pub inband_fec: bool,
}

impl Default for OpusSettings {
    fn default() -> Self {
        OpusSettings {
            sample_rate: 8000,
            bitrate: 24_000,
            complexity: 5,
            inband_fec: true,
        }
    }
}

/// An Opus failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpusError(pub String);

impl std::fmt::Display for OpusError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "opus: {}", self.0)
    }
}

impl std::error::Error for OpusError {}

fn e(x: impl std::fmt::Display) -> OpusError {
    OpusError(x.to_string())
}

/// A mono Opus encoder.
pub trait OpusEncode: Send {
    /// Encodes one frame of PCM (e.g. 160 samples at 8 kHz = 20 ms) into `out`; returns
    /// the packet length.
    fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, OpusError>;
}

/// A mono Opus decoder.
pub trait OpusDecode: Send {
    /// Decodes `packet` into `out` (which holds exactly one frame); `None` asks for packet
    /// loss concealment. Returns the number of samples written.
    fn decode(&mut self, packet: Option<&[u8]>, out: &mut [i16]) -> Result<usize, OpusError>;
}

/// Makes an encoder.
pub fn encoder(imp: OpusImpl, s: OpusSettings) -> Result<Box<dyn OpusEncode>, OpusError> {
    match imp {
        OpusImpl::Libopus => {
            let mut enc =
                opus::Encoder::new(s.sample_rate, opus::Channels::Mono, opus::Application::Voip)
                    .map_err(e)?;
            enc.set_bitrate(opus::Bitrate::Bits(s.bitrate as i32))
                .map_err(e)?;
            enc.set_complexity(i32::from(s.complexity)).map_err(e)?;
            enc.set_inband_fec(s.inband_fec).map_err(e)?;
            Ok(Box::new(LibopusEnc(enc)))
        }
        OpusImpl::Ropus => {
            let enc = ropus::Encoder::builder(
                s.sample_rate,
                ropus::Channels::Mono,
                ropus::Application::Voip,
            )
            .bitrate(
                ropus::Bitrate::try_bits(s.bitrate)
                    .map_err(|_| OpusError("bit rate out of range".into()))?,
            )
            .complexity(s.complexity)
            .inband_fec(if s.inband_fec {
                ropus::InbandFec::Enabled
            } else {
                ropus::InbandFec::Disabled
            })
            .build()
            .map_err(|x| OpusError(format!("{x:?}")))?;
            Ok(Box::new(RopusEnc(enc)))
        }
    }
}

/// Makes a decoder rendering at `sample_rate`.
pub fn decoder(imp: OpusImpl, sample_rate: u32) -> Result<Box<dyn OpusDecode>, OpusError> {
    match imp {
        OpusImpl::Libopus => Ok(Box::new(LibopusDec(
            opus::Decoder::new(sample_rate, opus::Channels::Mono).map_err(e)?,
        ))),
        OpusImpl::Ropus => Ok(Box::new(RopusDec(
            ropus::Decoder::new(sample_rate, ropus::Channels::Mono)
                .map_err(|x| OpusError(format!("{x:?}")))?,
        ))),
    }
}

struct LibopusEnc(opus::Encoder);
struct LibopusDec(opus::Decoder);
struct RopusEnc(ropus::Encoder);
struct RopusDec(ropus::Decoder);

impl OpusEncode for LibopusEnc {
    fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, OpusError> {
        self.0.encode(pcm, out).map_err(e)
    }
}

impl OpusDecode for LibopusDec {
    fn decode(&mut self, packet: Option<&[u8]>, out: &mut [i16]) -> Result<usize, OpusError> {
        // An empty input is libopus's request for concealment.
        self.0.decode(packet.unwrap_or(&[]), out, false).map_err(e)
    }
}

impl OpusEncode for RopusEnc {
    fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, OpusError> {
        self.0
            .encode(pcm, out)
            .map_err(|x| OpusError(format!("{x:?}")))
    }
}

impl OpusDecode for RopusDec {
    fn decode(&mut self, packet: Option<&[u8]>, out: &mut [i16]) -> Result<usize, OpusError> {
        let r = match packet {
            Some(p) => self.0.decode(p, out, ropus::DecodeMode::Normal),
            None => self.0.decode(&[], out, ropus::DecodeMode::Normal),
        };
        r.map_err(|x| OpusError(format!("{x:?}")))
    }
}

/// Signal-to-noise ratio (dB) of `decoded` against `reference`, after finding the codec's
/// delay (0..`max_delay` samples) by best correlation. Used to compare implementations.
pub fn snr_db(reference: &[i16], decoded: &[i16], max_delay: usize) -> f64 {
    let mut best = f64::NEG_INFINITY;
    for d in 0..max_delay.min(decoded.len()) {
        let n = reference.len().min(decoded.len() - d);
        let (mut sig, mut noise) = (0f64, 0f64);
        for i in 0..n {
            let r = f64::from(reference[i]);
            let x = f64::from(decoded[i + d]);
            sig += r * r;
            noise += (r - x) * (r - x);
        }
        if sig > 0.0 {
            best = best.max(10.0 * (sig / noise.max(1e-9)).log10());
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A speech-like test signal: a few harmonics of a gliding pitch, amplitude-modulated.
    pub(crate) fn test_signal(rate: u32, seconds: f64) -> Vec<i16> {
        let n = (f64::from(rate) * seconds) as usize;
        (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(rate);
                let f0 = 140.0 + 40.0 * (2.0 * std::f64::consts::PI * 0.5 * t).sin();
                let env = 0.6 + 0.4 * (2.0 * std::f64::consts::PI * 3.0 * t).sin();
                let mut v = 0.0;
                for h in 1..=8 {
                    v += (2.0 * std::f64::consts::PI * f0 * h as f64 * t).sin() / h as f64;
                }
                (v * env * 6000.0) as i16
            })
            .collect()
    }

    /// Encodes and decodes `input` in 20 ms frames; returns the decoded signal.
    fn round_trip(imp: OpusImpl, rate: u32, complexity: u8, input: &[i16]) -> Vec<i16> {
        let s = OpusSettings {
            sample_rate: rate,
            bitrate: 32_000,
            complexity,
            inband_fec: false,
        };
        let mut enc = encoder(imp, s).unwrap();
        let mut dec = decoder(imp, rate).unwrap();
        let frame = rate as usize / 50;
        let mut out = Vec::new();
        let mut pkt = [0u8; 1500];
        let mut pcm = vec![0i16; frame];
        for chunk in input.chunks_exact(frame) {
            let n = enc.encode(chunk, &mut pkt).unwrap();
            assert!(n > 0 && n < 400, "{n}");
            assert_eq!(dec.decode(Some(&pkt[..n]), &mut pcm).unwrap(), frame);
            out.extend_from_slice(&pcm);
        }
        // Concealment yields a full frame too.
        assert_eq!(dec.decode(None, &mut pcm).unwrap(), frame);
        out
    }

    /// Pearson correlation of the 10 ms energy envelopes of two signals.
    pub(crate) fn envelope_correlation(a: &[i16], b: &[i16], block: usize) -> f64 {
        let env = |x: &[i16]| -> Vec<f64> {
            x.chunks_exact(block)
                .map(|c| {
                    c.iter()
                        .map(|&v| f64::from(v) * f64::from(v))
                        .sum::<f64>()
                        .sqrt()
                })
                .collect()
        };
        let (ea, eb) = (env(a), env(b));
        let n = ea.len().min(eb.len()) as f64;
        let (ma, mb) = (ea.iter().sum::<f64>() / n, eb.iter().sum::<f64>() / n);
        let (mut num, mut da, mut db) = (0.0, 0.0, 0.0);
        for (x, y) in ea.iter().zip(&eb) {
            num += (x - ma) * (y - mb);
            da += (x - ma) * (x - ma);
            db += (y - mb) * (y - mb);
        }
        num / (da * db).sqrt()
    }

    #[test]
    fn both_implementations_round_trip_with_quality() {
        use rvoip_core::codec::{ToneGenerator, tone_power};
        for imp in OpusImpl::ALL {
            for (rate, complexity) in [(8000, 5), (48000, 5), (48000, 10)] {
                // A 1 kHz tone comes out as a clean 1 kHz tone at the right level.
                let mut tone = vec![0i16; rate as usize];
                ToneGenerator::new(rate, 1000.0, 8000.0).fill(&mut tone);
                let out = round_trip(imp, rate, complexity, &tone);
                let tail = &out[rate as usize / 5..];
                let purity = tone_power(tail, 1000.0, rate);
                let rms = (tail.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>()
                    / tail.len() as f64)
                    .sqrt();
                let level_db = 20.0 * (rms / (8000.0 / 2f64.sqrt())).log10();
                // A speech-like signal keeps its envelope (syllable rhythm) after coding.
                let speech = test_signal(rate, 2.0);
                let out = round_trip(imp, rate, complexity, &speech);
                let block = rate as usize / 100;
                let corr = envelope_correlation(&speech[block * 20..], &out[block * 20..], block);
                let snr = snr_db(&speech[block * 20..], &out[block * 20..], block);
                eprintln!(
                    "{} {rate} Hz c{complexity}: tone purity {purity:.3}, level {level_db:+.2} dB; \
                     speech envelope corr {corr:.3}, waveform SNR {snr:.1} dB",
                    imp.name()
                );
                assert!(
                    purity > 0.95,
                    "{} {rate} {complexity}: purity {purity}",
                    imp.name()
                );
                assert!(
                    level_db.abs() < 1.5,
                    "{} {rate} {complexity}: level {level_db}",
                    imp.name()
                );
                assert!(
                    corr > 0.5,
                    "{} {rate} {complexity}: envelope {corr}",
                    imp.name()
                );
            }
        }
    }

    #[test]
    fn libopus_and_ropus_interoperate() {
        let s = OpusSettings::default();
        let mut enc = encoder(OpusImpl::Libopus, s).unwrap();
        let mut dec = decoder(OpusImpl::Ropus, 8000).unwrap();
        let input = test_signal(8000, 1.0);
        let mut pkt = [0u8; 1500];
        let mut pcm = [0i16; 160];
        let mut out = Vec::new();
        for c in input.chunks_exact(160) {
            let n = enc.encode(c, &mut pkt).unwrap();
            dec.decode(Some(&pkt[..n]), &mut pcm).unwrap();
            out.extend_from_slice(&pcm);
        }
        assert!(envelope_correlation(&input[1600..], &out[1600..], 80) > 0.9);
    }
}
