//! The public types of the media session: leg identities and formats, remote transport,
//! events, statistics and errors.

use std::net::SocketAddr;
use std::time::Duration;

use rvoip_core::ice::IceLiteAgent;

use super::codec::Codec;
use crate::dtls::DtlsError;

/// Where the session sends datagrams.
pub trait Sink {
    /// Sends `data` from the local socket `from` to `to`.
    fn send(&mut self, from: SocketAddr, to: SocketAddr, data: &[u8]);
}

impl Sink for Vec<(SocketAddr, SocketAddr, Vec<u8>)> {
    fn send(&mut self, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        self.push((from, to, data.to_vec()));
    }
}

/// Which leg of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LegId {
    /// The first leg (the WebRTC one in a gateway call).
    A,
    /// The second leg (the trunk one in a gateway call).
    B,
}

impl LegId {
    pub(super) fn idx(self) -> usize {
        match self {
            LegId::A => 0,
            LegId::B => 1,
        }
    }
    pub(super) fn from_idx(i: usize) -> LegId {
        if i == 0 { LegId::A } else { LegId::B }
    }
}

/// The negotiated media format of a leg (from the SDP answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaFormat {
    /// The audio codec.
    pub codec: Codec,
    /// Its payload type on this leg.
    pub pt: u8,
    /// The `telephone-event` payload type, if negotiated.
    pub dtmf_pt: Option<u8>,
    /// The `telephone-event` clock rate (8000, or 48000 in WebRTC).
    pub dtmf_clock: u32,
}

impl MediaFormat {
    /// `codec` on its static PT (or 111 for Opus) with telephone-event on 101 (8000) or
    /// 110 (48000).
    pub fn simple(codec: Codec) -> MediaFormat {
        let (dtmf_pt, dtmf_clock) = if codec == Codec::Opus {
            (110, 48_000)
        } else {
            (101, 8_000)
        };
        MediaFormat {
            codec,
            pt: codec.static_pt().unwrap_or(111),
            dtmf_pt: Some(dtmf_pt),
            dtmf_clock,
        }
    }
}

/// The remote transport of a plain RTP (trunk) leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpRemote {
    /// RTP address from the remote SDP (`c=` + `m=` port).
    pub addr: SocketAddr,
    /// RTCP address (`a=rtcp`, default port + 1); ignored with rtcp-mux.
    pub rtcp: Option<SocketAddr>,
    /// `a=rtcp-mux` negotiated.
    pub rtcp_mux: bool,
    /// NAT mode (symmetric RTP latching): accept the first packet from the signalled IP
    /// on any port, then only that address.
    pub latch: bool,
}

/// What joins the legs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Peer {
    /// Two legs relayed to each other (passthrough or transcoding).
    Bridge,
    /// A one-leg test extension sending back what it receives (after the jitter buffer).
    Echo,
    /// A one-leg test extension playing a tone of this frequency (Hz).
    Tone(f64),
}

/// Why a leg (and so the call's media) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// The DTLS handshake failed (wrong fingerprint, timeout, no SRTP profile…).
    DtlsFailed(DtlsError),
    /// ICE consent expired (RFC 7675).
    ConsentLost,
    /// Ended by the application (hangup).
    Hangup,
    /// A codec could not be set up.
    Codec(String),
    /// The media plane failed internally (a bug: processing the call panicked); the
    /// call was ended, the gateway's other calls go on.
    Internal,
}

impl std::fmt::Display for EndReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EndReason::DtlsFailed(e) => write!(f, "{e}"),
            EndReason::ConsentLost => f.write_str("ICE consent lost"),
            EndReason::Hangup => f.write_str("hangup"),
            EndReason::Codec(e) => write!(f, "codec: {e}"),
            EndReason::Internal => f.write_str("internal media error"),
        }
    }
}

/// What the session reports to its driver / the B2BUA.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaEvent {
    /// ICE selected a pair on a WebRTC leg.
    IceConnected {
        /// The leg.
        leg: LegId,
        /// The browser's address.
        remote: SocketAddr,
    },
    /// SRTP keys are installed on a WebRTC leg: media flows.
    SrtpReady {
        /// The leg.
        leg: LegId,
    },
    /// A DTMF digit (RFC 4733) ended on a leg: for SIP INFO or the dial plan.
    Digit {
        /// The leg it was received on.
        leg: LegId,
        /// `0-9 * # A-D`.
        digit: char,
        /// Its duration.
        duration: Duration,
    },
    /// The leg ended; the call's media is over.
    Ended {
        /// The leg.
        leg: LegId,
        /// Why.
        reason: EndReason,
    },
}

/// Per-leg statistics (for the API, console and metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LegStats {
    /// RTP packets received (authenticated, from an accepted address).
    pub packets_in: u64,
    /// RTP payload bytes received.
    pub bytes_in: u64,
    /// RTP packets sent.
    pub packets_out: u64,
    /// RTP payload bytes sent.
    pub bytes_out: u64,
    /// Packets lost (RFC 3550 cumulative).
    pub lost: i64,
    /// Interarrival jitter, ms.
    pub jitter_ms: f64,
    /// Round-trip time from RTCP, ms.
    pub rtt_ms: Option<f64>,
    /// MOS estimate (E-model).
    pub mos: f64,
    /// Datagrams dropped because they came from an address that did not pass ICE or
    /// latching.
    pub dropped_unvalidated: u64,
    /// SRTP/SRTCP packets dropped as replays.
    pub srtp_replays: u64,
    /// SRTP/SRTCP packets that failed authentication or were malformed.
    pub srtp_failures: u64,
    /// RTCP packets received / sent.
    pub rtcp_in: u64,
    /// RTCP packets sent.
    pub rtcp_out: u64,
}

/// Session-wide counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionCounters {
    /// Frames decoded and re-encoded by the transcoder (both directions).
    pub transcoded_frames: u64,
    /// Packets relayed without transcoding.
    pub passthrough_packets: u64,
    /// DTMF packets relayed with translated PT/clock.
    pub dtmf_relayed: u64,
}

/// A new leg.
pub enum LegSpec {
    /// A WebRTC leg: ICE-lite on `local`, SRTP with rtcp-mux.
    WebRtc {
        /// The socket's address (= the host candidate).
        local: SocketAddr,
        /// The ICE-lite agent with our credentials.
        ice: Box<IceLiteAgent>,
    },
    /// A plain RTP leg.
    Rtp {
        /// The RTP socket's address.
        local: SocketAddr,
        /// The RTCP socket's address (None: rtcp-mux only).
        local_rtcp: Option<SocketAddr>,
    },
}

/// Why a digit could not be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigitError {
    /// Not one of `0-9 * # A-D`.
    NotDtmf,
    /// The leg negotiated no telephone-event.
    NoTelephoneEvent,
    /// Too many digits queued.
    QueueFull,
}

impl std::fmt::Display for DigitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DigitError::NotDtmf => "not a DTMF digit",
            DigitError::NoTelephoneEvent => "no telephone-event on this leg",
            DigitError::QueueFull => "too many digits queued",
        })
    }
}

impl std::error::Error for DigitError {}
