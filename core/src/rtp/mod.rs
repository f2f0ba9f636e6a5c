//! RTP and RTCP: packets, statistics, quality estimate, RFC 4733 events, jitter buffer.
//!
//! | module | what | references |
//! |---|---|---|
//! | [`packet`] | zero-copy RTP view, RFC 8285 header extensions, writer, seq/ts unwrapping | RFC 3550 §5.1, RFC 8285 |
//! | [`rtcp`] | compound RTCP iterator and views, SR/RR/SDES/BYE/APP, NACK/PLI/FIR/REMB, writer, reduced-size | RFC 3550 §6, A.2; RFC 4585 §6; RFC 5104 §4.3.1; RFC 5506; draft-alvestrand-rmcat-remb-03 |
//! | [`stats`] | receiver/sender statistics, report blocks, RTT from LSR/DLSR, NTP helpers | RFC 3550 §6.4, A.1, A.3, A.8 |
//! | [`mos`] | MOS estimate from a simplified E-model | ITU-T G.107, G.113 |
//! | [`dtmf`] | telephone-event payload, sender and receiver machines | RFC 4733 §2 |
//! | [`jitter`] | adaptive jitter buffer for the transcoding path | RFC 3550 A.8 (transit), RFC 3551 §4.1 (talkspurts) |
//!
//! Inputs are byte slices (a datagram already classified as RTP or RTCP) and driver time
//! ([`crate::time::Instant`], plus an NTP wall-clock value where RFC 3550 needs one); the
//! core never reads a clock. Nothing on the per-packet RTP path allocates: views borrow the
//! datagram, writers fill a caller buffer, the jitter buffer copies into slots allocated
//! once at construction.
//!
//! # A media leg in a few calls
//!
//! ```
//! use rvoip_core::rtp::{
//!     Compound, JitterBuffer, JitterConfig, Pop, ReceiverStats, RtcpKind, RtcpWriter,
//!     RtpPacket, RtpPacketBuilder,
//! };
//! use rvoip_core::time::Instant;
//!
//! // Send: write a PCMU packet into a caller buffer.
//! let mut buf = [0u8; 1500];
//! let n = RtpPacketBuilder::new(0, 1000, 160_000, 0x1234_5678)
//!     .marker(true)
//!     .emit(&[0xFF; 160], &mut buf)
//!     .unwrap();
//!
//! // Receive: check once, then read fields for free.
//! let now = Instant::from_millis(20);
//! let pkt = RtpPacket::new_checked(&buf[..n]).unwrap();
//! let mut stats = ReceiverStats::new_validated(pkt.ssrc(), 8000, pkt.sequence_number());
//! stats.handle_packet(now, pkt.sequence_number(), pkt.timestamp(), pkt.payload().len());
//! let mut jb = JitterBuffer::new(JitterConfig::new(8000));
//! jb.insert(now, pkt.ssrc(), pkt.sequence_number(), pkt.timestamp(), pkt.marker(), pkt.payload());
//! // Once per ptime: decode, conceal, or wait.
//! match jb.pop(Instant::from_millis(40)) {
//!     Pop::Frame(f) => assert_eq!(f.payload.len(), 160),
//!     Pop::Missing | Pop::NotReady => unreachable!(),
//! }
//!
//! // RTCP: an RR with our report block and a CNAME, then parse it back.
//! let block = stats.report_block(Instant::from_millis(5000));
//! let mut out = [0u8; 256];
//! let mut w = RtcpWriter::new(&mut out);
//! w.receiver_report(0xCAFE, &[block]).unwrap().sdes_cname(0xCAFE, b"gw@example").unwrap();
//! let len = w.finish();
//! let compound = Compound::new_checked(&out[..len], false).unwrap();
//! for p in compound.iter() {
//!     if let Ok(RtcpKind::ReceiverReport(rr)) = p.parse() {
//!         assert_eq!(rr.report_blocks().next().unwrap().extended_highest_seq, 1000);
//!     }
//! }
//! ```

use core::fmt;

pub mod dtmf;
pub mod jitter;
pub mod mos;
pub mod packet;
pub mod rtcp;
pub mod stats;

pub use dtmf::{DtmfEvent, DtmfReceiver, DtmfSender, DtmfSenderConfig, TelephoneEvent};
pub use jitter::{JitterBuffer, JitterConfig, JitterStats, Pop};
pub use mos::{CodecQuality, EModel};
pub use packet::{Extensions, RtpPacket, RtpPacketBuilder, SeqUnwrapper, TimestampUnwrapper};
pub use rtcp::{
    Compound, ReportBlock, RtcpKind, RtcpPacket, RtcpPacketType, RtcpWriter, SenderInfo,
};
pub use stats::{ReceiverStats, SenderStats, SeqCheck};

/// Errors of the RTP/RTCP layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtpError {
    /// The buffer ends before a length field says it should.
    Truncated,
    /// Version field is not 2.
    BadVersion,
    /// The padding bit is set but the padding count is 0 or too large.
    BadPadding,
    /// An RTCP length field is inconsistent with the packet's content or the datagram.
    BadLength,
    /// A compound RTCP packet does not start with SR/RR (and reduced-size is not allowed),
    /// or padding appears on a packet other than the last (RFC 3550 A.2).
    BadCompound,
    /// The RTCP packet is not of the type the view expects.
    WrongType,
    /// A header extension cannot be encoded (ID 0, element too long, block too long).
    BadExtension,
    /// More than 15 CSRCs, 31 report blocks/SDES chunks/BYE sources, or an item too long.
    TooManyItems,
    /// More than 15 CSRCs.
    TooManyCsrcs,
    /// The output buffer is too small.
    BufferTooSmall,
    /// A value does not fit its wire field (e.g. a telephone event's duration or volume).
    BadValue,
}

impl fmt::Display for RtpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RtpError::Truncated => "truncated RTP/RTCP packet",
            RtpError::BadVersion => "RTP/RTCP version is not 2",
            RtpError::BadPadding => "invalid RTP/RTCP padding",
            RtpError::BadLength => "invalid RTCP length",
            RtpError::BadCompound => "invalid compound RTCP packet",
            RtpError::WrongType => "unexpected RTCP packet type",
            RtpError::BadExtension => "invalid RTP header extension",
            RtpError::TooManyItems => "too many items for an RTCP count field",
            RtpError::TooManyCsrcs => "more than 15 CSRCs",
            RtpError::BufferTooSmall => "output buffer too small",
            RtpError::BadValue => "value out of range for its field",
        })
    }
}

impl core::error::Error for RtpError {}
