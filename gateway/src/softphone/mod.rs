//! The native softphone: the core's SIP user agent ([`rvoip_core::sip::ua`]), SDP offer/answer
//! ([`rvoip_core::sdp::negotiate`]), RTP/SRTP and codecs, driven by tokio, with audio from
//! sound cards (cpal), WAV files or a null device.
//!
//! | module | what |
//! |---|---|
//! | [`codec`] | G.711 µ/A, G.722, Opus encoders/decoders with loss concealment |
//! | [`media`] | one call's media stream without I/O: RTP, SRTP (SDES), RFC 4733 DTMF, jitter buffer |
//! | [`audio`] | [`audio::AudioSource`]/[`audio::AudioSink`]: cpal devices, WAV files, null |
//! | [`net`] | SIP over UDP/TCP connections, the RTP/RTCP port pair, NTP clock, OS randomness |
//! | [`phone`] | the driver: the UA and the media stream on sockets, timers, the keyboard |
//!
//! The protocol logic lives in the core; this module owns sockets, clocks, randomness and
//! audio devices, and turns their input into calls of the sans-IO machines.
//!
//! # Running
//!
//! ```text
//! softphone devices                                    # list sound cards
//! softphone register --server pbx:5060 --user alice --password secret [--duration 60]
//! softphone call sip:bob@192.0.2.7:5060                # direct, no server
//! softphone call bob --server pbx --user alice --password secret --srtp
//! softphone answer --local-addr 0.0.0.0:5070 --auto-answer
//! softphone call sip:bob@127.0.0.1:5070 --input tone.wav --output heard.wav --duration 5
//! ```
//!
//! Options shared by every command: `--transport udp|tcp`, `--codecs pcmu,pcma,g722,opus`
//! (order of preference), `--srtp` (SDES `RTP/SAVP`; an answerer with it refuses plain
//! RTP), `--input`/`--output` (`FILE.wav`, `null`, or the sound card chosen with
//! `--input-device`/`--output-device`), `--dtmf DIGITS` (sent 0.5 s after the answer),
//! `--dtmf-info`, `--rtp-port`, `--opus libopus|ropus`. While in a call, type digits and
//! Enter for DTMF (RFC 4733, or SIP INFO when the peer has no telephone-event), `h` to
//! hang up; `a`/`r` answer or reject a ringing call. Status lines on stdout (`registered`,
//! `incoming call`, `ringing`, `answered`, `media codec=…`, `dtmf …`, `ended …`, `rtp …`,
//! `rtcp …`) are stable enough for scripts; the exit status is 0 when the call was
//! established (or the registration succeeded).
//!
//! WAV input is 16-bit PCM at 8, 16 or 48 kHz (the first channel is used), resampled to
//! the codec rate; output WAVs are mono at the codec rate (8 kHz for G.711, 16 kHz for
//! G.722 and Opus).

pub mod audio;
pub mod codec;
pub mod media;
pub mod net;
pub mod phone;

use std::fmt;

/// A softphone failure.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Socket or file I/O.
    Io(std::io::Error),
    /// Audio device or WAV file.
    Audio(String),
    /// Codec, RTP or SRTP setup.
    Media(String),
    /// SIP: a command the UA refused, or a failed call or registration.
    Sip(String),
    /// Bad command-line usage.
    Usage(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "I/O: {e}"),
            Error::Audio(e) => write!(f, "audio: {e}"),
            Error::Media(e) => write!(f, "media: {e}"),
            Error::Sip(e) => write!(f, "SIP: {e}"),
            Error::Usage(e) => write!(f, "usage: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<crate::opus::OpusError> for Error {
    fn from(e: crate::opus::OpusError) -> Self {
        Error::Media(e.to_string())
    }
}

impl From<rvoip_core::sip::ua::UaError> for Error {
    fn from(e: rvoip_core::sip::ua::UaError) -> Self {
        Error::Sip(e.to_string())
    }
}
