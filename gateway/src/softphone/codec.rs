//! The voice codecs of the softphone: G.711 µ-law/A-law and G.722 from the core
//! ([`rvoip_core::codec`]), Opus through [`crate::opus`].
//!
//! Each codec runs on 20 ms frames of mono PCM at its *PCM rate* ([`CodecKind::pcm_rate`]:
//! 8 kHz for G.711, 16 kHz for G.722 and Opus) and stamps RTP with its *clock rate*
//! ([`CodecKind::rtp_clock`]: 8000 for G.711 and G.722 — RFC 3551 §4.5.2 keeps G.722 at 8000 —
//! and 48000 for Opus, RFC 7587 §4.1). Loss concealment: the G.711 Appendix I concealer
//! ([`Plc`]) for G.711, Opus's own PLC, and a fading repeat of the last frame for G.722.

use rvoip_core::codec::{G722Decoder, G722Encoder, Law, Plc};
use rvoip_core::sdp::negotiate::{Codec, NegotiatedCodec};

use crate::opus::{self, OpusDecode, OpusEncode, OpusImpl, OpusSettings};

use super::Error;

/// One of the codecs the softphone speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodecKind {
    /// G.711 µ-law (PCMU, PT 0).
    Pcmu,
    /// G.711 A-law (PCMA, PT 8).
    Pcma,
    /// G.722 (PT 9).
    G722,
    /// Opus (RFC 7587), mono.
    Opus,
}

/// Frame duration in milliseconds.
pub const FRAME_MS: u32 = 20;

impl CodecKind {
    /// Every codec, in the default order of preference.
    pub const ALL: [CodecKind; 4] = [
        CodecKind::Pcmu,
        CodecKind::Pcma,
        CodecKind::G722,
        CodecKind::Opus,
    ];

    /// The codec of a command-line name (`pcmu`, `pcma`, `g722`, `opus`).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "pcmu" | "ulaw" | "g711u" => CodecKind::Pcmu,
            "pcma" | "alaw" | "g711a" => CodecKind::Pcma,
            "g722" => CodecKind::G722,
            "opus" => CodecKind::Opus,
            _ => return None,
        })
    }

    /// The codec an offer/answer agreed on, if the softphone has it.
    pub fn from_negotiated(c: &NegotiatedCodec) -> Option<Self> {
        CodecKind::ALL.into_iter().find(|k| {
            let s = k.sdp_codec();
            s.name.eq_ignore_ascii_case(&c.name) && s.clock_rate == c.clock_rate
        })
    }

    /// The SDP description (`a=rtpmap`, static payload type or 111 for Opus).
    pub fn sdp_codec(self) -> Codec {
        match self {
            CodecKind::Pcmu => Codec::pcmu(),
            CodecKind::Pcma => Codec::pcma(),
            CodecKind::G722 => Codec::g722(),
            CodecKind::Opus => Codec::opus(),
        }
    }

    /// The PCM sample rate the codec is fed with and decodes to.
    pub fn pcm_rate(self) -> u32 {
        match self {
            CodecKind::Pcmu | CodecKind::Pcma => 8000,
            CodecKind::G722 | CodecKind::Opus => 16_000,
        }
    }

    /// The RTP clock rate.
    pub fn rtp_clock(self) -> u32 {
        match self {
            CodecKind::Pcmu | CodecKind::Pcma | CodecKind::G722 => 8000,
            CodecKind::Opus => 48_000,
        }
    }

    /// PCM samples in one frame.
    pub fn frame_samples(self) -> usize {
        (self.pcm_rate() / 1000 * FRAME_MS) as usize
    }

    /// RTP timestamp units in one frame.
    pub fn frame_ts(self) -> u32 {
        self.rtp_clock() / 1000 * FRAME_MS
    }
}

/// A codec's encoder.
pub struct Encoder {
    kind: CodecKind,
    g722: G722Encoder,
    opus: Option<Box<dyn OpusEncode>>,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder").field("kind", &self.kind).finish()
    }
}

impl Encoder {
    /// An encoder for `kind` (Opus through `imp`).
    pub fn new(kind: CodecKind, imp: OpusImpl) -> Result<Self, Error> {
        let opus = match kind {
            CodecKind::Opus => Some(opus::encoder(
                imp,
                OpusSettings {
                    sample_rate: kind.pcm_rate(),
                    bitrate: 32_000,
                    complexity: 5,
                    inband_fec: true,
                },
            )?),
            _ => None,
        };
        Ok(Encoder {
            kind,
            g722: G722Encoder::new(),
            opus,
        })
    }

    /// Encodes one frame of PCM into `out`; returns the payload length.
    pub fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, Error> {
        Ok(match self.kind {
            CodecKind::Pcmu => Law::Ulaw.encode(pcm, out),
            CodecKind::Pcma => Law::Alaw.encode(pcm, out),
            CodecKind::G722 => self.g722.encode(pcm, out),
            CodecKind::Opus => match &mut self.opus {
                Some(e) => e.encode(pcm, out)?,
                None => 0,
            },
        })
    }
}

/// A codec's decoder with loss concealment.
pub struct Decoder {
    kind: CodecKind,
    g722: G722Decoder,
    opus: Option<Box<dyn OpusDecode>>,
    plc: Box<Plc>,
    /// G.722: the last good frame and the gain of its next repetition.
    last: Vec<i16>,
    fade: f32,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder").field("kind", &self.kind).finish()
    }
}

impl Decoder {
    /// A decoder for `kind` (Opus through `imp`).
    pub fn new(kind: CodecKind, imp: OpusImpl) -> Result<Self, Error> {
        let opus = match kind {
            CodecKind::Opus => Some(opus::decoder(imp, kind.pcm_rate())?),
            _ => None,
        };
        Ok(Decoder {
            kind,
            g722: G722Decoder::new(),
            opus,
            plc: Box::new(Plc::new()),
            last: vec![0; kind.frame_samples()],
            fade: 0.0,
        })
    }

    /// Decodes `payload` into `out` (one frame, [`CodecKind::frame_samples`] long); a
    /// short payload leaves the rest of `out` silent.
    pub fn decode(&mut self, payload: &[u8], out: &mut [i16]) -> Result<(), Error> {
        out.fill(0);
        match self.kind {
            CodecKind::Pcmu | CodecKind::Pcma => {
                let law = if self.kind == CodecKind::Pcmu {
                    Law::Ulaw
                } else {
                    Law::Alaw
                };
                let n = payload.len().min(out.len());
                law.decode(&payload[..n], &mut out[..n]);
                self.plc.add_good_frame(out);
            }
            CodecKind::G722 => {
                let n = payload.len().min(out.len() / 2);
                self.g722.decode(&payload[..n], out);
                self.last.copy_from_slice(out);
                self.fade = 1.0;
            }
            CodecKind::Opus => {
                if let Some(d) = &mut self.opus {
                    d.decode(Some(payload), out)?;
                }
            }
        }
        Ok(())
    }

    /// Fills `out` with concealment for one lost frame.
    pub fn conceal(&mut self, out: &mut [i16]) -> Result<(), Error> {
        out.fill(0);
        match self.kind {
            CodecKind::Pcmu | CodecKind::Pcma => self.plc.conceal(out),
            CodecKind::G722 => {
                // Repeat the last frame, 6 dB quieter each time: silent after ~60 ms.
                self.fade *= 0.5;
                if self.fade > 0.1 {
                    for (o, s) in out.iter_mut().zip(&self.last) {
                        *o = (f32::from(*s) * self.fade) as i16;
                    }
                }
            }
            CodecKind::Opus => {
                if let Some(d) = &mut self.opus {
                    d.decode(None, out)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvoip_core::codec::{ToneGenerator, tone_power};

    fn round_trip(kind: CodecKind) -> f64 {
        let mut enc = Encoder::new(kind, OpusImpl::Ropus).unwrap();
        let mut dec = Decoder::new(kind, OpusImpl::Ropus).unwrap();
        let mut tone = ToneGenerator::new(kind.pcm_rate(), 1000.0, 8000.0);
        let mut pcm = vec![0i16; kind.frame_samples()];
        let mut out = vec![0i16; kind.frame_samples()];
        let mut payload = [0u8; 1500];
        let mut decoded = Vec::new();
        for _ in 0..50 {
            tone.fill(&mut pcm);
            let n = enc.encode(&pcm, &mut payload).unwrap();
            assert!(n > 0);
            dec.decode(&payload[..n], &mut out).unwrap();
            decoded.extend_from_slice(&out);
        }
        // Skip the codec start-up.
        tone_power(&decoded[decoded.len() / 2..], 1000.0, kind.pcm_rate())
    }

    #[test]
    fn every_codec_carries_a_tone() {
        for kind in CodecKind::ALL {
            let p = round_trip(kind);
            assert!(p > 0.9, "{kind:?}: {p}");
        }
    }

    #[test]
    fn frame_sizes() {
        assert_eq!(CodecKind::Pcmu.frame_samples(), 160);
        assert_eq!(CodecKind::G722.frame_samples(), 320);
        assert_eq!(CodecKind::G722.frame_ts(), 160);
        assert_eq!(CodecKind::Opus.frame_ts(), 960);
    }

    #[test]
    fn concealment_fades_out() {
        for kind in CodecKind::ALL {
            let mut dec = Decoder::new(kind, OpusImpl::Ropus).unwrap();
            let mut enc = Encoder::new(kind, OpusImpl::Ropus).unwrap();
            let mut tone = ToneGenerator::new(kind.pcm_rate(), 440.0, 8000.0);
            let mut pcm = vec![0i16; kind.frame_samples()];
            let mut payload = [0u8; 1500];
            let mut out = vec![0i16; kind.frame_samples()];
            for _ in 0..10 {
                tone.fill(&mut pcm);
                let n = enc.encode(&pcm, &mut payload).unwrap();
                dec.decode(&payload[..n], &mut out).unwrap();
            }
            let mut energy = Vec::new();
            for _ in 0..10 {
                dec.conceal(&mut out).unwrap();
                energy.push(out.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>());
            }
            assert!(energy[0] > 0.0, "{kind:?} conceals the first loss");
            assert!(energy[9] < energy[0] / 10.0, "{kind:?} fades: {energy:?}");
        }
    }
}
