//! The local side of an offer/answer exchange: codec preferences ([`CodecPolicy`]) and
//! transport parameters ([`LocalMedia`]) for WebRTC and trunk legs, plus random ICE
//! credentials and session ids drawn from the driver's [`Rng`](crate::rand::Rng).
//! Re-exported by [`negotiate`](super::negotiate).

use super::{Candidate, Direction, Fingerprint, Setup};
use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::net::IpAddr;

const ICE_CHARS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Random ICE credentials for [`WebRtcTransport`]: an 8-character ufrag (48 bits) and a
/// 24-character password (144 bits), of ice-chars (RFC 8839 §5.4 asks for at least 24 and
/// 128 bits).
pub fn random_ice_credentials(rng: &mut impl crate::rand::Rng) -> (String, String) {
    let mut draw = |n: usize| -> String {
        (0..n)
            .map(|_| {
                let i = usize::try_from(rng.below(64)).unwrap_or(0);
                char::from(ICE_CHARS.get(i).copied().unwrap_or(b'A'))
            })
            .collect()
    };
    let ufrag = draw(8);
    (ufrag, draw(24))
}

/// A random `a=msid` identifier (RFC 8830 §2 `msid-id`, at most 64 token-chars) for a
/// MediaStream or track id: 22 alphanumeric characters (130 bits), so that stream ids of
/// different calls never collide in one browser.
pub fn random_msid_id(rng: &mut impl crate::rand::Rng) -> String {
    (0..22)
        .map(|_| {
            // `ICE_CHARS[..62]` are the alphanumerics ('+' and '/' are not all token-chars).
            let i = usize::try_from(rng.below(62)).unwrap_or(0);
            char::from(ICE_CHARS.get(i).copied().unwrap_or(b'A'))
        })
        .collect()
}

/// A random RTCP CNAME (RFC 7022 §4.2 short-term persistent: 96 random bits, base64-encoded
/// to 16 characters) for `a=ssrc:<ssrc> cname:` (RFC 5576 §6.1) and the RTCP SDES CNAME item
/// of the same source.
pub fn random_cname(rng: &mut impl crate::rand::Rng) -> String {
    let mut bits = [0u8; 12];
    rng.fill_bytes(&mut bits);
    super::crypto::base64_encode(&bits)
}

/// A random `o=` session id below 2^63 (RFC 9429 §5.2.1 asks for 62+ random bits kept
/// below 2^63).
pub fn random_session_id(rng: &mut impl crate::rand::Rng) -> u64 {
    rng.next_u64() >> 1
}

/// A codec the local side supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Codec {
    /// The encoding name (`opus`, `PCMU`…; matched case-insensitively).
    pub name: Cow<'static, str>,
    /// The RTP clock rate.
    pub clock_rate: u32,
    /// The channel count (2 for opus, as RFC 7587 requires in SDP).
    pub channels: u16,
    /// The payload type used in local offers (the static one where RFC 3551 has one).
    pub payload_type: u8,
    /// The `a=fmtp` parameters sent for it, if any.
    pub fmtp: Option<Cow<'static, str>>,
}

impl Codec {
    /// `opus/48000/2`, PT 111, `minptime=10;useinbandfec=1` (RFC 7587).
    pub fn opus() -> Self {
        Self::new("opus", 48000, 2, 111, Some("minptime=10;useinbandfec=1"))
    }
    /// `G722/8000` (RFC 3551: the clock is 8000 although G.722 samples at 16 kHz), PT 9.
    pub fn g722() -> Self {
        Self::new("G722", 8000, 1, 9, None)
    }
    /// `PCMU/8000`, PT 0.
    pub fn pcmu() -> Self {
        Self::new("PCMU", 8000, 1, 0, None)
    }
    /// `PCMA/8000`, PT 8.
    pub fn pcma() -> Self {
        Self::new("PCMA", 8000, 1, 8, None)
    }

    fn new(
        name: &'static str,
        clock_rate: u32,
        channels: u16,
        payload_type: u8,
        fmtp: Option<&'static str>,
    ) -> Self {
        Self {
            name: Cow::Borrowed(name),
            clock_rate,
            channels,
            payload_type,
            fmtp: fmtp.map(Cow::Borrowed),
        }
    }

    pub(super) fn matches(&self, name: &str, clock_rate: u32, channels: u16) -> bool {
        self.name.eq_ignore_ascii_case(name)
            && self.clock_rate == clock_rate
            && self.channels == channels
    }

    pub(super) fn rtpmap(&self, pt: u8) -> String {
        rtpmap_text(pt, &self.name, self.clock_rate, self.channels)
    }
}

pub(super) fn rtpmap_text(pt: u8, name: &str, clock: u32, channels: u16) -> String {
    if channels == 1 {
        format!("rtpmap:{pt} {name}/{clock}")
    } else {
        format!("rtpmap:{pt} {name}/{clock}/{channels}")
    }
}

/// A telephone-event (RFC 4733) format the local side supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// The clock rate (it must equal the voice codec's).
    pub clock_rate: u32,
    /// The payload type used in local offers.
    pub payload_type: u8,
}

/// The local codec preferences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecPolicy {
    /// Supported codecs, most preferred first.
    pub codecs: Vec<Codec>,
    /// Supported telephone-event clock rates (empty: no DTMF events).
    pub telephone_events: Vec<TelephoneEvent>,
    /// The `a=fmtp` events list sent for telephone-event (`0-16`).
    pub dtmf_events: Cow<'static, str>,
    /// `a=ptime` to send, if any (20 ms on trunks).
    pub ptime: Option<u32>,
    /// When the offer has no telephone-event at the chosen codec's clock rate, accept one at
    /// another supported rate. Firefox offers only `telephone-event/8000` next to
    /// `opus/48000` (and answers that way); RFC 4733 §2.1 wants the audio's rate, so this is
    /// an interoperability choice: on for [`CodecPolicy::webrtc`], off for
    /// [`CodecPolicy::trunk`].
    pub telephone_event_any_clock: bool,
}

impl CodecPolicy {
    /// The WebRTC leg: opus, G722, PCMU, PCMA; telephone-event at 48000 (PT 110) and 8000
    /// (PT 126), as Chromium offers them.
    pub fn webrtc() -> Self {
        Self {
            codecs: alloc::vec![Codec::opus(), Codec::g722(), Codec::pcmu(), Codec::pcma()],
            telephone_events: alloc::vec![
                TelephoneEvent {
                    clock_rate: 48000,
                    payload_type: 110
                },
                TelephoneEvent {
                    clock_rate: 8000,
                    payload_type: 126
                },
            ],
            dtmf_events: Cow::Borrowed("0-16"),
            ptime: None,
            telephone_event_any_clock: true,
        }
    }

    /// The trunk leg: PCMU, PCMA, telephone-event/8000 (PT 101), ptime 20.
    pub fn trunk() -> Self {
        Self {
            codecs: alloc::vec![Codec::pcmu(), Codec::pcma()],
            telephone_events: alloc::vec![TelephoneEvent {
                clock_rate: 8000,
                payload_type: 101
            }],
            dtmf_events: Cow::Borrowed("0-16"),
            ptime: Some(20),
            telephone_event_any_clock: false,
        }
    }
}

/// The local ICE/DTLS parameters of a WebRTC leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebRtcTransport<'a> {
    /// `a=ice-ufrag` (at least 4 ice-chars, RFC 8839 §5.4).
    pub ice_ufrag: &'a str,
    /// `a=ice-pwd` (at least 22 ice-chars).
    pub ice_pwd: &'a str,
    /// The local DTLS certificate fingerprint (sha-256).
    pub fingerprint: Fingerprint,
    /// Write `a=ice-lite` at session level (the gateway).
    pub ice_lite: bool,
    /// The DTLS role to take in answers to `actpass` (`Passive` or `Active`).
    pub answer_setup: Setup,
    /// Local candidates; when empty, one host candidate for the `c=` address and port is
    /// written. `a=end-of-candidates` follows them.
    pub candidates: &'a [Candidate<'a>],
}

/// The local parameters of a plain RTP leg (trunk).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpTransport<'a> {
    /// `a=rtcp` port to write, if not RTP port + 1.
    pub rtcp_port: Option<u16>,
    /// Accept `a=rtcp-mux` when offered.
    pub rtcp_mux: bool,
    /// SDES master key ‖ salt material (≥ 30 random bytes for the 128-bit suites): offers
    /// use `RTP/SAVP` with `AES_CM_128_HMAC_SHA1_80`; answers accept `RTP/SAVP` offers.
    /// `None`: plain `RTP/AVP` only.
    pub sdes_key: Option<&'a [u8]>,
}

/// The transport of a leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport<'a> {
    /// A browser leg.
    WebRtc(WebRtcTransport<'a>),
    /// A trunk leg.
    Rtp(RtpTransport<'a>),
}

/// The local side of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMedia<'a> {
    /// `o=` session id (random, kept for the dialog).
    pub session_id: u64,
    /// `o=` version: increment it for every new offer or answer that changes something.
    pub session_version: u64,
    /// The media address (`c=` and `o=`).
    pub address: IpAddr,
    /// The RTP port.
    pub port: u16,
    /// What the local side is willing to do (`SendOnly` to put the peer on hold).
    pub direction: Direction,
    /// An SSRC and CNAME to announce (`a=ssrc:<ssrc> cname:<cname>`, RFC 5576 §4.1, §6.1),
    /// if any: the SSRC the local side sends with, and the CNAME of its RTCP SDES.
    pub ssrc: Option<(u32, &'a str)>,
    /// A MediaStream id and track id to announce (`a=msid:<stream> <track>`, RFC 8830 §2;
    /// JSEP, RFC 8829 §5.2.1 and §5.3.1), if any; each 1 to 64 token-chars (see
    /// [`random_msid_id`]). Keep them for the session so that re-offers repeat them.
    pub msid: Option<(&'a str, &'a str)>,
    /// The transport parameters.
    pub transport: Transport<'a>,
}
