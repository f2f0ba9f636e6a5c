//! RTCP (RFC 3550 §6) and its feedback messages, as zero-copy views over a datagram.
//!
//! - Compound packets: [`Compound::new_checked`] validates a datagram per RFC 3550 A.2
//!   (version 2, lengths add up exactly, padding only on the last packet, SR or RR first),
//!   relaxed for reduced-size RTCP (RFC 5506 §3) when the session negotiated
//!   `a=rtcp-rsize`; then [`Compound::iter`] yields each [`RtcpPacket`] infallibly.
//! - Typed views from [`RtcpPacket::parse`] ([`RtcpKind`]): SR and RR with report blocks
//!   (§6.4), SDES (§6.5), BYE (§6.6), APP (§6.7), generic NACK (RFC 4585 §6.2.1), PLI
//!   (RFC 4585 §6.3.1), FIR (RFC 5104 §4.3.1), REMB (draft-alvestrand-rmcat-remb-03 §2.2).
//!   Each view's content is validated when it is built; accessors and iterators are then
//!   infallible and allocation-free.
//! - [`RtcpWriter`] appends packets into a caller buffer (a full compound, or a single
//!   feedback packet for reduced-size RTCP).

use super::RtpError;

mod writer;
pub use writer::{RtcpWriter, SdesChunk};

/// RTCP packet type values (RFC 3550 §12.1, RFC 4585 §6.1, RFC 3611).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RtcpPacketType {
    /// SR, 200.
    SenderReport,
    /// RR, 201.
    ReceiverReport,
    /// SDES, 202.
    SourceDescription,
    /// BYE, 203.
    Goodbye,
    /// APP, 204.
    App,
    /// RTPFB (transport-layer feedback), 205.
    TransportFeedback,
    /// PSFB (payload-specific feedback), 206.
    PayloadFeedback,
    /// XR (extended report), 207.
    ExtendedReport,
    /// Any other value.
    Other(u8),
}

impl From<u8> for RtcpPacketType {
    fn from(v: u8) -> Self {
        match v {
            200 => Self::SenderReport,
            201 => Self::ReceiverReport,
            202 => Self::SourceDescription,
            203 => Self::Goodbye,
            204 => Self::App,
            205 => Self::TransportFeedback,
            206 => Self::PayloadFeedback,
            207 => Self::ExtendedReport,
            o => Self::Other(o),
        }
    }
}

impl From<RtcpPacketType> for u8 {
    fn from(t: RtcpPacketType) -> u8 {
        match t {
            RtcpPacketType::SenderReport => 200,
            RtcpPacketType::ReceiverReport => 201,
            RtcpPacketType::SourceDescription => 202,
            RtcpPacketType::Goodbye => 203,
            RtcpPacketType::App => 204,
            RtcpPacketType::TransportFeedback => 205,
            RtcpPacketType::PayloadFeedback => 206,
            RtcpPacketType::ExtendedReport => 207,
            RtcpPacketType::Other(o) => o,
        }
    }
}

/// SDES item types (RFC 3550 §6.5).
pub mod sdes_item {
    /// End of the item list.
    pub const END: u8 = 0;
    /// Canonical end-point identifier.
    pub const CNAME: u8 = 1;
    /// User name.
    pub const NAME: u8 = 2;
    /// E-mail address.
    pub const EMAIL: u8 = 3;
    /// Phone number.
    pub const PHONE: u8 = 4;
    /// Geographic location.
    pub const LOC: u8 = 5;
    /// Application or tool name.
    pub const TOOL: u8 = 6;
    /// Notice/status.
    pub const NOTE: u8 = 7;
    /// Private extensions.
    pub const PRIV: u8 = 8;
}

#[inline]
pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(s) => u32::from_be_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

#[inline]
pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    match b.get(at..at + 2) {
        Some(s) => u16::from_be_bytes([s[0], s[1]]),
        None => 0,
    }
}

/// One RTCP packet inside a compound: the 4-byte common header and its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtcpPacket<'a> {
    /// The whole packet, including its header and any padding.
    buf: &'a [u8],
    /// Number of padding octets at the end.
    pad: usize,
}

impl<'a> RtcpPacket<'a> {
    /// Splits the first RTCP packet off `buf`, checking its common header: version 2, a
    /// length that fits `buf`, and a valid padding count. Returns the packet and the rest.
    #[inline]
    pub fn split_first(buf: &'a [u8]) -> Result<(Self, &'a [u8]), RtpError> {
        if buf.len() < 4 {
            return Err(RtpError::Truncated);
        }
        if buf[0] >> 6 != 2 {
            return Err(RtpError::BadVersion);
        }
        let len = (usize::from(be16(buf, 2)) + 1) * 4;
        if buf.len() < len {
            return Err(RtpError::Truncated);
        }
        let (this, rest) = buf.split_at(len);
        let pad = if this[0] & 0x20 != 0 {
            let p = usize::from(this[len - 1]);
            if p == 0 || p > len - 4 {
                return Err(RtpError::BadPadding);
            }
            p
        } else {
            0
        };
        Ok((RtcpPacket { buf: this, pad }, rest))
    }

    /// Checks `buf` as exactly one RTCP packet.
    #[inline]
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, RtpError> {
        let (p, rest) = Self::split_first(buf)?;
        if !rest.is_empty() {
            return Err(RtpError::BadLength);
        }
        Ok(p)
    }

    /// The packet's bytes (header, body, padding).
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// P bit.
    #[inline]
    pub fn has_padding(&self) -> bool {
        self.buf[0] & 0x20 != 0
    }

    /// The 5-bit count field: RC, SC or FMT depending on the type.
    #[inline]
    pub fn count(&self) -> u8 {
        self.buf[0] & 0x1F
    }

    /// Feedback message type (same bits as [`Self::count`]).
    #[inline]
    pub fn fmt(&self) -> u8 {
        self.count()
    }

    /// Packet type octet.
    #[inline]
    pub fn packet_type_raw(&self) -> u8 {
        self.buf[1]
    }

    /// Packet type.
    #[inline]
    pub fn packet_type(&self) -> RtcpPacketType {
        self.buf[1].into()
    }

    /// Length field: the packet's length in 32-bit words minus one.
    #[inline]
    pub fn length_words(&self) -> u16 {
        be16(self.buf, 2)
    }

    /// The body after the 4-byte common header, without padding.
    #[inline]
    pub fn body(&self) -> &'a [u8] {
        &self.buf[4..self.buf.len() - self.pad]
    }

    /// The first SSRC after the header (the sender's, for every standard type), if any.
    #[inline]
    pub fn ssrc(&self) -> Option<u32> {
        let b = self.body();
        (b.len() >= 4).then(|| be32(b, 0))
    }

    /// Decodes the packet into its typed view, validating its content.
    #[inline]
    pub fn parse(&self) -> Result<RtcpKind<'a>, RtpError> {
        Ok(match (self.packet_type(), self.fmt()) {
            (RtcpPacketType::SenderReport, _) => RtcpKind::SenderReport(SenderReport::new(*self)?),
            (RtcpPacketType::ReceiverReport, _) => {
                RtcpKind::ReceiverReport(ReceiverReport::new(*self)?)
            }
            (RtcpPacketType::SourceDescription, _) => RtcpKind::Sdes(Sdes::new(*self)?),
            (RtcpPacketType::Goodbye, _) => RtcpKind::Bye(Bye::new(*self)?),
            (RtcpPacketType::App, _) => RtcpKind::App(App::new(*self)?),
            (RtcpPacketType::TransportFeedback, 1) => RtcpKind::Nack(Nack::new(*self)?),
            (RtcpPacketType::PayloadFeedback, 1) => RtcpKind::Pli(Pli::new(*self)?),
            (RtcpPacketType::PayloadFeedback, 4) => RtcpKind::Fir(Fir::new(*self)?),
            (RtcpPacketType::PayloadFeedback, 15) if Remb::is_remb(*self) => {
                RtcpKind::Remb(Remb::new(*self)?)
            }
            (RtcpPacketType::TransportFeedback | RtcpPacketType::PayloadFeedback, _) => {
                RtcpKind::Feedback(Feedback::new(*self)?)
            }
            _ => RtcpKind::Other(*self),
        })
    }
}

/// A typed RTCP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtcpKind<'a> {
    /// SR.
    SenderReport(SenderReport<'a>),
    /// RR.
    ReceiverReport(ReceiverReport<'a>),
    /// SDES.
    Sdes(Sdes<'a>),
    /// BYE.
    Bye(Bye<'a>),
    /// APP.
    App(App<'a>),
    /// RTPFB FMT 1, generic NACK.
    Nack(Nack<'a>),
    /// PSFB FMT 1, picture loss indication.
    Pli(Pli),
    /// PSFB FMT 4, full intra request.
    Fir(Fir<'a>),
    /// PSFB FMT 15 with the `REMB` identifier.
    Remb(Remb<'a>),
    /// Any other RTPFB/PSFB message (e.g. transport-cc, TMMBR, SLI).
    Feedback(Feedback<'a>),
    /// XR or an unknown packet type, left raw.
    Other(RtcpPacket<'a>),
}

/// A validated compound RTCP packet (RFC 3550 §6.1, A.2; RFC 5506).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compound<'a> {
    buf: &'a [u8],
}

impl<'a> Compound<'a> {
    /// Validates `buf` as a compound RTCP packet per RFC 3550 A.2: at least one packet,
    /// every packet version 2, lengths adding up exactly to the datagram, padding only on
    /// the last packet, and the first packet an SR or RR — unless `reduced_size` is true
    /// (RFC 5506 negotiated), in which case any sequence of packets, including a single
    /// feedback packet, is accepted.
    #[inline]
    pub fn new_checked(buf: &'a [u8], reduced_size: bool) -> Result<Self, RtpError> {
        let mut rest = buf;
        let mut first = true;
        while !rest.is_empty() {
            let (p, r) = RtcpPacket::split_first(rest)?;
            if first
                && !reduced_size
                && !matches!(
                    p.packet_type(),
                    RtcpPacketType::SenderReport | RtcpPacketType::ReceiverReport
                )
            {
                return Err(RtpError::BadCompound);
            }
            if p.has_padding() && !r.is_empty() {
                return Err(RtpError::BadCompound);
            }
            first = false;
            rest = r;
        }
        if first {
            return Err(RtpError::Truncated);
        }
        Ok(Compound { buf })
    }

    /// The datagram.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// Iterator over the packets (infallible: the compound was validated).
    #[inline]
    pub fn iter(&self) -> CompoundIter<'a> {
        CompoundIter { rest: self.buf }
    }
}

impl<'a> IntoIterator for Compound<'a> {
    type Item = RtcpPacket<'a>;
    type IntoIter = CompoundIter<'a>;
    fn into_iter(self) -> CompoundIter<'a> {
        self.iter()
    }
}

/// Iterator over the packets of a [`Compound`].
#[derive(Debug, Clone)]
pub struct CompoundIter<'a> {
    rest: &'a [u8],
}

impl<'a> CompoundIter<'a> {
    /// A lenient iterator over an unvalidated datagram: yields packets until the first
    /// malformed header, then stops.
    #[inline]
    pub fn lenient(buf: &'a [u8]) -> Self {
        CompoundIter { rest: buf }
    }
}

impl<'a> Iterator for CompoundIter<'a> {
    type Item = RtcpPacket<'a>;
    fn next(&mut self) -> Option<RtcpPacket<'a>> {
        match RtcpPacket::split_first(self.rest) {
            Ok((p, r)) => {
                self.rest = r;
                Some(p)
            }
            Err(_) => {
                self.rest = &[];
                None
            }
        }
    }
}

/// A reception report block (RFC 3550 §6.4.1), decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ReportBlock {
    /// SSRC of the source this block reports on.
    pub ssrc: u32,
    /// Fraction of packets lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative number of packets lost (24-bit signed on the wire: duplicates can make it
    /// negative); clamped to −2^23..2^23−1 when written.
    pub cumulative_lost: i32,
    /// Extended highest sequence number received (cycles << 16 | max seq).
    pub extended_highest_seq: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// LSR: middle 32 bits of the NTP timestamp of the last SR received (0 if none).
    pub last_sr: u32,
    /// DLSR: delay since that SR, in 1/65536 s.
    pub delay_since_last_sr: u32,
}

/// Length of an encoded [`ReportBlock`].
pub const REPORT_BLOCK_LEN: usize = 24;

impl ReportBlock {
    /// Decodes a block from 24 bytes (`None` if shorter).
    #[inline]
    pub fn decode(b: &[u8]) -> Option<Self> {
        if b.len() < REPORT_BLOCK_LEN {
            return None;
        }
        let lost = be32(b, 4);
        // Sign-extend the 24-bit field.
        let cumulative_lost = ((lost << 8) as i32) >> 8;
        Some(ReportBlock {
            ssrc: be32(b, 0),
            fraction_lost: b[4],
            cumulative_lost,
            extended_highest_seq: be32(b, 8),
            jitter: be32(b, 12),
            last_sr: be32(b, 16),
            delay_since_last_sr: be32(b, 20),
        })
    }

    /// Encodes into the first 24 bytes of `out` (caller checked the length).
    pub(crate) fn encode(&self, out: &mut [u8]) {
        let lost = self.cumulative_lost.clamp(-0x80_0000, 0x7F_FFFF) as u32 & 0x00FF_FFFF;
        out[0..4].copy_from_slice(&self.ssrc.to_be_bytes());
        out[4..8].copy_from_slice(&((u32::from(self.fraction_lost) << 24) | lost).to_be_bytes());
        out[8..12].copy_from_slice(&self.extended_highest_seq.to_be_bytes());
        out[12..16].copy_from_slice(&self.jitter.to_be_bytes());
        out[16..20].copy_from_slice(&self.last_sr.to_be_bytes());
        out[20..24].copy_from_slice(&self.delay_since_last_sr.to_be_bytes());
    }
}

/// Iterator over report blocks.
#[derive(Debug, Clone)]
pub struct ReportBlocks<'a> {
    rest: &'a [u8],
}

impl Iterator for ReportBlocks<'_> {
    type Item = ReportBlock;
    fn next(&mut self) -> Option<ReportBlock> {
        let b = ReportBlock::decode(self.rest)?;
        self.rest = &self.rest[REPORT_BLOCK_LEN..];
        Some(b)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.rest.len() / REPORT_BLOCK_LEN;
        (n, Some(n))
    }
}

impl ExactSizeIterator for ReportBlocks<'_> {}

/// The sender-info section of an SR (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct SenderInfo {
    /// 64-bit NTP timestamp (seconds since 1900 in the high 32 bits, fraction in the low).
    pub ntp_timestamp: u64,
    /// RTP timestamp corresponding to the same instant.
    pub rtp_timestamp: u32,
    /// Packets sent since the start of transmission.
    pub packet_count: u32,
    /// Payload octets sent since the start of transmission.
    pub octet_count: u32,
}

/// SR view (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderReport<'a> {
    pkt: RtcpPacket<'a>,
}

impl<'a> SenderReport<'a> {
    /// Checks that `pkt` is an SR whose RC report blocks fit its length.
    #[inline]
    pub fn new(pkt: RtcpPacket<'a>) -> Result<Self, RtpError> {
        if pkt.packet_type() != RtcpPacketType::SenderReport {
            return Err(RtpError::WrongType);
        }
        if pkt.body().len() < 24 + REPORT_BLOCK_LEN * usize::from(pkt.count()) {
            return Err(RtpError::BadLength);
        }
        Ok(SenderReport { pkt })
    }
    /// The underlying packet.
    #[inline]
    pub fn packet(&self) -> RtcpPacket<'a> {
        self.pkt
    }
    /// SSRC of the sender.
    #[inline]
    pub fn ssrc(&self) -> u32 {
        be32(self.pkt.body(), 0)
    }
    /// The sender info.
    #[inline]
    pub fn sender_info(&self) -> SenderInfo {
        let b = self.pkt.body();
        SenderInfo {
            ntp_timestamp: (u64::from(be32(b, 4)) << 32) | u64::from(be32(b, 8)),
            rtp_timestamp: be32(b, 12),
            packet_count: be32(b, 16),
            octet_count: be32(b, 20),
        }
    }
    /// The middle 32 bits of the NTP timestamp: the LSR value to echo (RFC 3550 §6.4.1).
    #[inline]
    pub fn ntp_middle(&self) -> u32 {
        (self.sender_info().ntp_timestamp >> 16) as u32
    }
    /// The report blocks.
    #[inline]
    pub fn report_blocks(&self) -> ReportBlocks<'a> {
        let n = usize::from(self.pkt.count()) * REPORT_BLOCK_LEN;
        ReportBlocks {
            rest: &self.pkt.body()[24..24 + n],
        }
    }
    /// Profile-specific extension after the report blocks.
    #[inline]
    pub fn profile_extension(&self) -> &'a [u8] {
        &self.pkt.body()[24 + usize::from(self.pkt.count()) * REPORT_BLOCK_LEN..]
    }
}

/// RR view (RFC 3550 §6.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiverReport<'a> {
    pkt: RtcpPacket<'a>,
}

impl<'a> ReceiverReport<'a> {
    /// Checks that `pkt` is an RR whose RC report blocks fit its length.
    #[inline]
    pub fn new(pkt: RtcpPacket<'a>) -> Result<Self, RtpError> {
        if pkt.packet_type() != RtcpPacketType::ReceiverReport {
            return Err(RtpError::WrongType);
        }
        if pkt.body().len() < 4 + REPORT_BLOCK_LEN * usize::from(pkt.count()) {
            return Err(RtpError::BadLength);
        }
        Ok(ReceiverReport { pkt })
    }
    /// The underlying packet.
    #[inline]
    pub fn packet(&self) -> RtcpPacket<'a> {
        self.pkt
    }
    /// SSRC of the packet sender.
    #[inline]
    pub fn ssrc(&self) -> u32 {
        be32(self.pkt.body(), 0)
    }
    /// The report blocks.
    #[inline]
    pub fn report_blocks(&self) -> ReportBlocks<'a> {
        let n = usize::from(self.pkt.count()) * REPORT_BLOCK_LEN;
        ReportBlocks {
            rest: &self.pkt.body()[4..4 + n],
        }
    }
    /// Profile-specific extension after the report blocks.
    #[inline]
    pub fn profile_extension(&self) -> &'a [u8] {
        &self.pkt.body()[4 + usize::from(self.pkt.count()) * REPORT_BLOCK_LEN..]
    }
}

/// SDES view (RFC 3550 §6.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sdes<'a> {
    pkt: RtcpPacket<'a>,
}

/// Parses one SDES chunk at the start of `b`: returns (ssrc, items bytes, chunk length).
fn sdes_chunk(b: &[u8]) -> Option<(u32, &[u8], usize)> {
    if b.len() < 4 {
        return None;
    }
    let mut at = 4;
    loop {
        let t = *b.get(at)?;
        if t == sdes_item::END {
            let items = &b[4..at];
            // The END octet plus null padding to the next 32-bit boundary.
            let end = (at + 1).div_ceil(4) * 4;
            if b.len() < end {
                return None;
            }
            return Some((be32(b, 0), items, end));
        }
        let len = usize::from(*b.get(at + 1)?);
        at += 2 + len;
        if at > b.len() {
            return None;
        }
    }
}

impl<'a> Sdes<'a> {
    /// Checks that `pkt` is an SDES with SC well-formed chunks.
    #[inline]
    pub fn new(pkt: RtcpPacket<'a>) -> Result<Self, RtpError> {
        if pkt.packet_type() != RtcpPacketType::SourceDescription {
            return Err(RtpError::WrongType);
        }
        let mut b = pkt.body();
        for _ in 0..pkt.count() {
            let (_, _, n) = sdes_chunk(b).ok_or(RtpError::BadLength)?;
            b = &b[n..];
        }
        Ok(Sdes { pkt })
    }
    /// The underlying packet.
    #[inline]
    pub fn packet(&self) -> RtcpPacket<'a> {
        self.pkt
    }
    /// Iterator over `(ssrc, items)` chunks.
    #[inline]
    pub fn chunks(&self) -> SdesChunks<'a> {
        SdesChunks {
            rest: self.pkt.body(),
            left: self.pkt.count(),
        }
    }
    /// The CNAME of the first chunk that has one.
    #[inline]
    pub fn cname(&self) -> Option<(u32, &'a [u8])> {
        self.chunks().find_map(|(ssrc, mut items)| {
            items
                .find(|(t, _)| *t == sdes_item::CNAME)
                .map(|(_, v)| (ssrc, v))
        })
    }
}

/// Iterator over SDES chunks, yielding `(ssrc, items)`.
#[derive(Debug, Clone)]
pub struct SdesChunks<'a> {
    rest: &'a [u8],
    left: u8,
}

impl<'a> Iterator for SdesChunks<'a> {
    type Item = (u32, SdesItems<'a>);
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let (ssrc, items, n) = sdes_chunk(self.rest)?;
        self.rest = &self.rest[n..];
        Some((ssrc, SdesItems { rest: items }))
    }
}

/// Iterator over the items of one SDES chunk, yielding `(type, value)`.
#[derive(Debug, Clone)]
pub struct SdesItems<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for SdesItems<'a> {
    type Item = (u8, &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        let (&t, r) = self.rest.split_first()?;
        let (&len, r) = r.split_first()?;
        let len = usize::from(len);
        if r.len() < len {
            self.rest = &[];
            return None;
        }
        let (v, r) = r.split_at(len);
        self.rest = r;
        Some((t, v))
    }
}

/// BYE view (RFC 3550 §6.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bye<'a> {
    pkt: RtcpPacket<'a>,
}

impl<'a> Bye<'a> {
    /// Checks that `pkt` is a BYE whose SC sources and reason fit.
    #[inline]
    pub fn new(pkt: RtcpPacket<'a>) -> Result<Self, RtpError> {
        if pkt.packet_type() != RtcpPacketType::Goodbye {
            return Err(RtpError::WrongType);
        }
        let b = pkt.body();
        let n = 4 * usize::from(pkt.count());
        if b.len() < n {
            return Err(RtpError::BadLength);
        }
        if let Some(&rl) = b.get(n)
            && b.len() < n + 1 + usize::from(rl)
        {
            return Err(RtpError::BadLength);
        }
        Ok(Bye { pkt })
    }
    /// The underlying packet.
    #[inline]
    pub fn packet(&self) -> RtcpPacket<'a> {
        self.pkt
    }
    /// The SSRC/CSRCs leaving.
    #[inline]
    pub fn sources(&self) -> impl Iterator<Item = u32> + 'a {
        let b = self.pkt.body();
        (0..usize::from(self.pkt.count())).map(move |i| be32(b, 4 * i))
    }
    /// The reason for leaving, if present.
    #[inline]
    pub fn reason(&self) -> Option<&'a [u8]> {
        let b = self.pkt.body();
        let n = 4 * usize::from(self.pkt.count());
        let rl = usize::from(*b.get(n)?);
        b.get(n + 1..n + 1 + rl)
    }
}

/// APP view (RFC 3550 §6.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct App<'a> {
    pkt: RtcpPacket<'a>,
}

impl<'a> App<'a> {
    /// Checks that `pkt` is an APP with SSRC and name.
    #[inline]
    pub fn new(pkt: RtcpPacket<'a>) -> Result<Self, RtpError> {
        if pkt.packet_type() != RtcpPacketType::App {
            return Err(RtpError::WrongType);
        }
        if pkt.body().len() < 8 {
            return Err(RtpError::BadLength);
        }
        Ok(App { pkt })
    }
    /// Subtype (the count field).
    #[inline]
    pub fn subtype(&self) -> u8 {
        self.pkt.count()
    }
    /// SSRC/CSRC.
    #[inline]
    pub fn ssrc(&self) -> u32 {
        be32(self.pkt.body(), 0)
    }
    /// Four ASCII characters naming the application.
    #[inline]
    pub fn name(&self) -> [u8; 4] {
        let b = self.pkt.body();
        [b[4], b[5], b[6], b[7]]
    }
    /// Application-dependent data.
    #[inline]
    pub fn data(&self) -> &'a [u8] {
        &self.pkt.body()[8..]
    }
}

/// A feedback message (RFC 4585 §6.1): sender SSRC, media SSRC, FCI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feedback<'a> {
    pkt: RtcpPacket<'a>,
}

impl<'a> Feedback<'a> {
    /// Checks that `pkt` is an RTPFB or PSFB with its two SSRCs.
    #[inline]
    pub fn new(pkt: RtcpPacket<'a>) -> Result<Self, RtpError> {
        if !matches!(
            pkt.packet_type(),
            RtcpPacketType::TransportFeedback | RtcpPacketType::PayloadFeedback
        ) {
            return Err(RtpError::WrongType);
        }
        if pkt.body().len() < 8 {
            return Err(RtpError::BadLength);
        }
        Ok(Feedback { pkt })
    }
    /// The underlying packet.
    #[inline]
    pub fn packet(&self) -> RtcpPacket<'a> {
        self.pkt
    }
    /// FMT.
    #[inline]
    pub fn fmt(&self) -> u8 {
        self.pkt.fmt()
    }
    /// SSRC of the packet sender.
    #[inline]
    pub fn sender_ssrc(&self) -> u32 {
        be32(self.pkt.body(), 0)
    }
    /// SSRC of the media source.
    #[inline]
    pub fn media_ssrc(&self) -> u32 {
        be32(self.pkt.body(), 4)
    }
    /// Feedback control information.
    #[inline]
    pub fn fci(&self) -> &'a [u8] {
        &self.pkt.body()[8..]
    }
}

/// Generic NACK view (RTPFB FMT 1, RFC 4585 §6.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nack<'a> {
    fb: Feedback<'a>,
}

impl<'a> Nack<'a> {
    /// Checks that `pkt` is a generic NACK with at least one whole FCI entry.
    #[inline]
    pub fn new(pkt: RtcpPacket<'a>) -> Result<Self, RtpError> {
        if pkt.packet_type() != RtcpPacketType::TransportFeedback || pkt.fmt() != 1 {
            return Err(RtpError::WrongType);
        }
        let fb = Feedback::new(pkt)?;
        if fb.fci().is_empty() || fb.fci().len() % 4 != 0 {
            return Err(RtpError::BadLength);
        }
        Ok(Nack { fb })
    }
    /// SSRC of the packet sender.
    #[inline]
    pub fn sender_ssrc(&self) -> u32 {
        self.fb.sender_ssrc()
    }
    /// SSRC of the media source.
    #[inline]
    pub fn media_ssrc(&self) -> u32 {
        self.fb.media_ssrc()
    }
    /// The `(PID, BLP)` pairs.
    #[inline]
    pub fn pairs(&self) -> impl Iterator<Item = (u16, u16)> + 'a {
        self.fb
            .fci()
            .chunks_exact(4)
            .map(|c| (be16(c, 0), be16(c, 2)))
    }
    /// Every lost sequence number, PID/BLP expanded (PID, then PID+i+1 for each set bit i
    /// of BLP, wrapping).
    #[inline]
    pub fn lost(&self) -> impl Iterator<Item = u16> + 'a {
        self.pairs().flat_map(|(pid, blp)| {
            core::iter::once(pid).chain(
                (0..16u16)
                    .filter(move |i| blp & (1 << i) != 0)
                    .map(move |i| pid.wrapping_add(i + 1)),
            )
        })
    }
}

/// PLI view (PSFB FMT 1, RFC 4585 §6.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pli {
    /// SSRC of the packet sender.
    pub sender_ssrc: u32,
    /// SSRC of the media source.
    pub media_ssrc: u32,
}

impl Pli {
    /// Checks that `pkt` is a PLI.
    #[inline]
    pub fn new(pkt: RtcpPacket<'_>) -> Result<Self, RtpError> {
        if pkt.packet_type() != RtcpPacketType::PayloadFeedback || pkt.fmt() != 1 {
            return Err(RtpError::WrongType);
        }
        let fb = Feedback::new(pkt)?;
        Ok(Pli {
            sender_ssrc: fb.sender_ssrc(),
            media_ssrc: fb.media_ssrc(),
        })
    }
}

/// FIR view (PSFB FMT 4, RFC 5104 §4.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fir<'a> {
    fb: Feedback<'a>,
}

impl<'a> Fir<'a> {
    /// Checks that `pkt` is a FIR with whole 8-byte FCI entries.
    #[inline]
    pub fn new(pkt: RtcpPacket<'a>) -> Result<Self, RtpError> {
        if pkt.packet_type() != RtcpPacketType::PayloadFeedback || pkt.fmt() != 4 {
            return Err(RtpError::WrongType);
        }
        let fb = Feedback::new(pkt)?;
        if fb.fci().is_empty() || fb.fci().len() % 8 != 0 {
            return Err(RtpError::BadLength);
        }
        Ok(Fir { fb })
    }
    /// SSRC of the packet sender.
    #[inline]
    pub fn sender_ssrc(&self) -> u32 {
        self.fb.sender_ssrc()
    }
    /// `(ssrc, command sequence number)` entries.
    #[inline]
    pub fn entries(&self) -> impl Iterator<Item = (u32, u8)> + 'a {
        self.fb.fci().chunks_exact(8).map(|c| (be32(c, 0), c[4]))
    }
}

/// REMB view (PSFB FMT 15 "REMB", draft-alvestrand-rmcat-remb-03 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remb<'a> {
    fb: Feedback<'a>,
}

impl<'a> Remb<'a> {
    fn is_remb(pkt: RtcpPacket<'_>) -> bool {
        pkt.body().get(8..12) == Some(b"REMB")
    }

    /// Checks that `pkt` is a REMB whose SSRC list fits.
    #[inline]
    pub fn new(pkt: RtcpPacket<'a>) -> Result<Self, RtpError> {
        if pkt.packet_type() != RtcpPacketType::PayloadFeedback
            || pkt.fmt() != 15
            || !Self::is_remb(pkt)
        {
            return Err(RtpError::WrongType);
        }
        let fb = Feedback::new(pkt)?;
        let fci = fb.fci();
        if fci.len() < 8 || fci.len() < 8 + 4 * usize::from(fci[4]) {
            return Err(RtpError::BadLength);
        }
        Ok(Remb { fb })
    }
    /// SSRC of the packet sender.
    #[inline]
    pub fn sender_ssrc(&self) -> u32 {
        self.fb.sender_ssrc()
    }
    /// The bitrate in bit/s: mantissa × 2^exp (saturating at `u64::MAX`).
    #[inline]
    pub fn bitrate(&self) -> u64 {
        let v = be32(self.fb.fci(), 4) & 0x00FF_FFFF;
        let exp = v >> 18;
        let mantissa = u64::from(v & 0x3_FFFF);
        if mantissa == 0 {
            0
        } else if exp >= 64 || mantissa.leading_zeros() < exp {
            u64::MAX
        } else {
            mantissa << exp
        }
    }
    /// The SSRCs the estimate applies to.
    #[inline]
    pub fn ssrcs(&self) -> impl Iterator<Item = u32> + 'a {
        let fci = self.fb.fci();
        (0..usize::from(fci[4])).map(move |i| be32(fci, 8 + 4 * i))
    }
}
