//! Per-direction audio transcoding for the bridge and the tone endpoint: decoders with
//! packet-loss concealment and encoders, all allocated once per call.
//!
//! Opus runs at the narrow-band PCM rate of the other side (8 kHz, or 16 kHz for G.722),
//! its RTP clock staying 48 kHz (RFC 7587 §4.1); G.711 input is concealed with
//! [`rvoip_core::codec::Plc`] (G.711 Appendix I), Opus input with the Opus decoder's own PLC.

use rvoip_core::codec::{G722Decoder, G722Encoder, Law, Plc};

use crate::opus::{self, OpusDecode, OpusEncode, OpusError, OpusImpl, OpusSettings};

/// An audio codec a leg can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// G.711 µ-law (static PT 0).
    Pcmu,
    /// G.711 A-law (static PT 8).
    Pcma,
    /// G.722 (static PT 9; 16 kHz audio on an 8 kHz RTP clock, RFC 3551 §4.5.2).
    G722,
    /// Opus (dynamic PT, 48 kHz RTP clock, RFC 7587).
    Opus,
}

impl Codec {
    /// The RTP clock rate.
    pub fn clock_rate(self) -> u32 {
        match self {
            Codec::Opus => 48_000,
            _ => 8_000,
        }
    }

    /// The static payload type, if any.
    pub fn static_pt(self) -> Option<u8> {
        match self {
            Codec::Pcmu => Some(0),
            Codec::Pcma => Some(8),
            Codec::G722 => Some(9),
            Codec::Opus => None,
        }
    }

    /// The `a=rtpmap` encoding name.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
            Codec::G722 => "G722",
            Codec::Opus => "opus",
        }
    }

    /// From an `a=rtpmap` encoding name (case-insensitive).
    pub fn from_name(name: &str) -> Option<Codec> {
        [Codec::Pcmu, Codec::Pcma, Codec::G722, Codec::Opus]
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// RTP timestamp units in 20 ms.
    pub fn frame_ts(self) -> u32 {
        self.clock_rate() / 50
    }

    /// E-model quality of the codec (for MOS).
    pub fn quality(self) -> rvoip_core::rtp::CodecQuality {
        match self {
            Codec::Opus => rvoip_core::rtp::CodecQuality::OPUS,
            _ => rvoip_core::rtp::CodecQuality::G711_PLC,
        }
    }
}

/// Largest PCM frame: 20 ms at 16 kHz is 320; Opus may hand out up to 120 ms.
pub(crate) const MAX_PCM: usize = 1920;

/// The PCM rate a codec codes at (`None`: Opus, which takes the other side's rate).
pub(crate) fn native_rate(c: Codec) -> Option<u32> {
    match c {
        Codec::Pcmu | Codec::Pcma => Some(8_000),
        Codec::G722 => Some(16_000),
        Codec::Opus => None,
    }
}

/// PCM rate used between two codecs.
pub(crate) fn pcm_rate(a: Codec, b: Codec) -> u32 {
    if a == Codec::G722 || b == Codec::G722 {
        16_000
    } else {
        8_000
    }
}

/// A decoder producing PCM at the direction's PCM rate.
pub(crate) enum Decoder {
    Opus(Box<dyn OpusDecode>),
    G711(Law, Box<Plc>),
    G722(Box<G722Decoder>, Vec<i16>),
}

/// An encoder from PCM at the direction's PCM rate.
pub(crate) enum Encoder {
    Opus(Box<dyn OpusEncode>),
    G711(Law),
    G722(Box<G722Encoder>),
}

impl Decoder {
    pub(crate) fn new(c: Codec, pcm_rate: u32, imp: OpusImpl) -> Result<Decoder, OpusError> {
        Ok(match c {
            Codec::Opus => Decoder::Opus(opus::decoder(imp, pcm_rate)?),
            Codec::Pcmu => Decoder::G711(Law::Ulaw, Box::default()),
            Codec::Pcma => Decoder::G711(Law::Alaw, Box::default()),
            Codec::G722 => Decoder::G722(Box::default(), vec![0; 320]),
        })
    }

    /// Decodes `payload` (or conceals one frame when `None`) into exactly `out.len()`
    /// samples (one 20 ms frame). A decode error conceals instead.
    pub(crate) fn decode(&mut self, payload: Option<&[u8]>, out: &mut [i16]) {
        match self {
            Decoder::Opus(d) => {
                let mut tmp = [0i16; MAX_PCM];
                let n = d
                    .decode(payload, &mut tmp)
                    .or_else(|_| d.decode(None, &mut tmp))
                    .unwrap_or(0)
                    .min(MAX_PCM);
                let k = n.min(out.len());
                out[..k].copy_from_slice(&tmp[..k]);
                out[k..].fill(0);
            }
            Decoder::G711(law, plc) => match payload {
                Some(p) if !p.is_empty() => {
                    let k = law.decode(p, out);
                    let len = out.len();
                    out[k.min(len)..].fill(0);
                    plc.add_good_frame(out);
                }
                _ => plc.conceal(out),
            },
            Decoder::G722(d, last) => match payload {
                Some(p) if !p.is_empty() => {
                    let k = d.decode(p, out);
                    let len = out.len();
                    out[k.min(len)..].fill(0);
                    let m = out.len().min(last.len());
                    last[..m].copy_from_slice(&out[..m]);
                }
                _ => {
                    // Repeat the last frame at half level, then silence.
                    let m = out.len().min(last.len());
                    for s in last.iter_mut() {
                        *s /= 2;
                    }
                    out[..m].copy_from_slice(&last[..m]);
                    out[m..].fill(0);
                }
            },
        }
    }
}

impl Encoder {
    pub(crate) fn new(
        c: Codec,
        pcm_rate: u32,
        imp: OpusImpl,
        complexity: u8,
    ) -> Result<Encoder, OpusError> {
        Ok(match c {
            Codec::Opus => Encoder::Opus(opus::encoder(
                imp,
                OpusSettings {
                    sample_rate: pcm_rate,
                    complexity,
                    ..OpusSettings::default()
                },
            )?),
            Codec::Pcmu => Encoder::G711(Law::Ulaw),
            Codec::Pcma => Encoder::G711(Law::Alaw),
            Codec::G722 => Encoder::G722(Box::default()),
        })
    }

    /// Encodes one frame; returns the payload length (0 on an encoder error).
    pub(crate) fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> usize {
        match self {
            Encoder::Opus(e) => e.encode(pcm, out).unwrap_or(0),
            Encoder::G711(law) => law.encode(pcm, out),
            Encoder::G722(e) => e.encode(pcm, out),
        }
    }
}
