//! Pure-Rust, `no_std` voice codecs and signal helpers for the media path.
//!
//! | module | what | reference |
//! |---|---|---|
//! | [`g711`] | µ-law / A-law companding (PCMU, PCMA), bit-exact | ITU-T G.711, G.191 STL `g711.c`; RFC 3551 §4.5.14 |
//! | [`g722`] | wideband SB-ADPCM codec at 64 kbit/s, encoder and decoder | ITU-T G.722; RFC 3551 §4.5.2 |
//! | [`resample`] | 8 / 16 / 48 kHz polyphase FIR sample-rate conversion | Kaiser-windowed sinc; figures in the module docs |
//! | [`plc`] | packet-loss concealment for 8 kHz PCM (pitch repetition, overlap-add, fade-out) | ITU-T G.711 Appendix I |
//! | [`tone`] | sine / dual-tone generator, Goertzel detector, DTMF detector | ITU-T Q.23, Q.24 |
//!
//! Everything works on caller-provided slices of 16-bit linear PCM (`i16`); nothing here
//! allocates per frame.

pub mod g711;
pub mod g722;
pub mod plc;
pub mod resample;
pub mod tone;

pub use g711::{Law, decode_alaw, decode_ulaw, encode_alaw, encode_ulaw};
pub use g722::{G722Decoder, G722Encoder};
pub use plc::Plc;
pub use resample::{ResampleError, Resampler, SampleRate};
pub use tone::{DtmfDetector, Goertzel, ToneGenerator, tone_power};
