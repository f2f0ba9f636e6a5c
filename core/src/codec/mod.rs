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
//! allocates per frame (only [`Resampler::new`] allocates, ~3 KiB). All state machines are
//! plain values (`Clone`, no interior mutability), one per stream direction.
//!
//! ## A WebRTC ⇄ trunk media leg (48 kHz ⇄ PCMU), per 20 ms frame
//!
//! ```
//! use rvoip_core::codec::{Law, Plc, Resampler, SampleRate};
//!
//! // Once per call leg.
//! let mut down = Resampler::new(SampleRate::Hz48000, SampleRate::Hz8000);
//! let mut up = Resampler::new(SampleRate::Hz8000, SampleRate::Hz48000);
//! let mut plc = Plc::new();
//! let law = Law::Ulaw; // PCMU, payload type 0
//!
//! // Browser → trunk: 960 samples at 48 kHz (decoded Opus) → 160 PCMU octets.
//! let pcm48 = [0i16; 960];
//! let mut pcm8 = [0i16; 160];
//! let n = down.process(&pcm48, &mut pcm8).expect("output sized by max_output_len");
//! let mut payload = [0u8; 160];
//! law.encode(&pcm8[..n], &mut payload);
//!
//! // Trunk → browser: a received payload, or concealment when the jitter buffer has a gap.
//! let mut pcm8 = [0i16; 160];
//! match Some(&payload[..]) {
//!     Some(p) => {
//!         law.decode(p, &mut pcm8);
//!         plc.add_good_frame(&mut pcm8);
//!     }
//!     None => plc.conceal(&mut pcm8),
//! }
//! let mut pcm48 = [0i16; 960];
//! assert_eq!(up.process(&pcm8, &mut pcm48), Ok(960));
//! ```

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
