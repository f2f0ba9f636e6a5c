//! Writing RTCP packets into a caller buffer.

use super::{REPORT_BLOCK_LEN, ReportBlock, SenderInfo};
use crate::rtp::RtpError;

/// One SDES chunk for [`RtcpWriter::sdes`]: an SSRC and its `(type, value)` items.
pub type SdesChunk<'a> = (u32, &'a [(u8, &'a [u8])]);

/// Appends RTCP packets to a caller buffer, building a compound packet.
///
/// Each method writes one whole packet or nothing (on error the buffer content written so
/// far is unchanged). For a regular compound (RFC 3550 §6.1) start with
/// [`Self::sender_report`] or [`Self::receiver_report`] and add an SDES CNAME; for
/// reduced-size RTCP (RFC 5506) a single feedback packet is enough.
#[derive(Debug)]
pub struct RtcpWriter<'b> {
    buf: &'b mut [u8],
    len: usize,
}

impl<'b> RtcpWriter<'b> {
    /// A writer filling `buf` from its start.
    pub fn new(buf: &'b mut [u8]) -> Self {
        RtcpWriter { buf, len: 0 }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Ends writing; returns the compound's length.
    pub fn finish(self) -> usize {
        self.len
    }

    /// Reserves a packet of `body` bytes (a multiple of 4) after a common header.
    fn packet(&mut self, count: u8, pt: u8, body: usize) -> Result<&mut [u8], RtpError> {
        debug_assert!(body.is_multiple_of(4) && count < 32);
        let total = 4 + body;
        let words = total / 4 - 1;
        let words = u16::try_from(words).map_err(|_| RtpError::TooManyItems)?;
        let start = self.len;
        let out = self
            .buf
            .get_mut(start..start + total)
            .ok_or(RtpError::BufferTooSmall)?;
        out[0] = 0x80 | count;
        out[1] = pt;
        out[2..4].copy_from_slice(&words.to_be_bytes());
        self.len += total;
        Ok(&mut out[4..])
    }

    /// SR (RFC 3550 §6.4.1) with up to 31 report blocks.
    pub fn sender_report(
        &mut self,
        ssrc: u32,
        info: &SenderInfo,
        blocks: &[ReportBlock],
    ) -> Result<&mut Self, RtpError> {
        let rc = u8::try_from(blocks.len())
            .ok()
            .filter(|&n| n < 32)
            .ok_or(RtpError::TooManyItems)?;
        let b = self.packet(rc, 200, 24 + REPORT_BLOCK_LEN * blocks.len())?;
        b[0..4].copy_from_slice(&ssrc.to_be_bytes());
        b[4..12].copy_from_slice(&info.ntp_timestamp.to_be_bytes());
        b[12..16].copy_from_slice(&info.rtp_timestamp.to_be_bytes());
        b[16..20].copy_from_slice(&info.packet_count.to_be_bytes());
        b[20..24].copy_from_slice(&info.octet_count.to_be_bytes());
        for (blk, out) in blocks
            .iter()
            .zip(b[24..].chunks_exact_mut(REPORT_BLOCK_LEN))
        {
            blk.encode(out);
        }
        Ok(self)
    }

    /// RR (RFC 3550 §6.4.2) with up to 31 report blocks.
    pub fn receiver_report(
        &mut self,
        ssrc: u32,
        blocks: &[ReportBlock],
    ) -> Result<&mut Self, RtpError> {
        let rc = u8::try_from(blocks.len())
            .ok()
            .filter(|&n| n < 32)
            .ok_or(RtpError::TooManyItems)?;
        let b = self.packet(rc, 201, 4 + REPORT_BLOCK_LEN * blocks.len())?;
        b[0..4].copy_from_slice(&ssrc.to_be_bytes());
        for (blk, out) in blocks.iter().zip(b[4..].chunks_exact_mut(REPORT_BLOCK_LEN)) {
            blk.encode(out);
        }
        Ok(self)
    }

    /// SDES (RFC 3550 §6.5): chunks of `(ssrc, items)` with items `(type, value)`; item
    /// types must be non-zero and values at most 255 bytes.
    pub fn sdes(&mut self, chunks: &[SdesChunk<'_>]) -> Result<&mut Self, RtpError> {
        let sc = u8::try_from(chunks.len())
            .ok()
            .filter(|&n| n < 32)
            .ok_or(RtpError::TooManyItems)?;
        let mut body = 0;
        for (_, items) in chunks {
            let mut n = 4;
            for (t, v) in *items {
                if *t == 0 || v.len() > 255 {
                    return Err(RtpError::BadValue);
                }
                n += 2 + v.len();
            }
            // END octet, then null padding to a 32-bit boundary.
            body += (n + 1).div_ceil(4) * 4;
        }
        let b = self.packet(sc, 202, body)?;
        let mut at = 0;
        for (ssrc, items) in chunks {
            let start = at;
            b[at..at + 4].copy_from_slice(&ssrc.to_be_bytes());
            at += 4;
            for (t, v) in *items {
                b[at] = *t;
                b[at + 1] = v.len() as u8; // ≤ 255, checked above
                b[at + 2..at + 2 + v.len()].copy_from_slice(v);
                at += 2 + v.len();
            }
            let end = start + (at - start + 1).div_ceil(4) * 4;
            b[at..end].fill(0);
            at = end;
        }
        Ok(self)
    }

    /// SDES with one chunk carrying a CNAME.
    pub fn sdes_cname(&mut self, ssrc: u32, cname: &[u8]) -> Result<&mut Self, RtpError> {
        self.sdes(&[(ssrc, &[(super::sdes_item::CNAME, cname)])])
    }

    /// BYE (RFC 3550 §6.6) for up to 31 sources, with an optional reason (≤ 255 bytes).
    pub fn bye(&mut self, sources: &[u32], reason: Option<&[u8]>) -> Result<&mut Self, RtpError> {
        let sc = u8::try_from(sources.len())
            .ok()
            .filter(|&n| n < 32)
            .ok_or(RtpError::TooManyItems)?;
        let rlen = match reason {
            Some(r) if r.len() > 255 => return Err(RtpError::BadValue),
            Some(r) => (1 + r.len()).div_ceil(4) * 4,
            None => 0,
        };
        let b = self.packet(sc, 203, 4 * sources.len() + rlen)?;
        for (s, out) in sources.iter().zip(b.chunks_exact_mut(4)) {
            out.copy_from_slice(&s.to_be_bytes());
        }
        if let Some(r) = reason {
            let at = 4 * sources.len();
            b[at] = r.len() as u8;
            b[at + 1..at + 1 + r.len()].copy_from_slice(r);
            b[at + 1 + r.len()..].fill(0);
        }
        Ok(self)
    }

    /// APP (RFC 3550 §6.7); `data` must be a multiple of 4 bytes and `subtype` < 32.
    pub fn app(
        &mut self,
        subtype: u8,
        ssrc: u32,
        name: [u8; 4],
        data: &[u8],
    ) -> Result<&mut Self, RtpError> {
        if subtype >= 32 || !data.len().is_multiple_of(4) {
            return Err(RtpError::BadValue);
        }
        let b = self.packet(subtype, 204, 8 + data.len())?;
        b[0..4].copy_from_slice(&ssrc.to_be_bytes());
        b[4..8].copy_from_slice(&name);
        b[8..].copy_from_slice(data);
        Ok(self)
    }

    /// A feedback message (RFC 4585 §6.1) with a raw FCI (a multiple of 4 bytes).
    pub fn feedback(
        &mut self,
        pt: u8,
        fmt: u8,
        sender_ssrc: u32,
        media_ssrc: u32,
        fci: &[u8],
    ) -> Result<&mut Self, RtpError> {
        if fmt >= 32 || !fci.len().is_multiple_of(4) {
            return Err(RtpError::BadValue);
        }
        let b = self.packet(fmt, pt, 8 + fci.len())?;
        b[0..4].copy_from_slice(&sender_ssrc.to_be_bytes());
        b[4..8].copy_from_slice(&media_ssrc.to_be_bytes());
        b[8..].copy_from_slice(fci);
        Ok(self)
    }

    /// Generic NACK (RFC 4585 §6.2.1) from `(PID, BLP)` pairs.
    pub fn nack_pairs(
        &mut self,
        sender_ssrc: u32,
        media_ssrc: u32,
        pairs: &[(u16, u16)],
    ) -> Result<&mut Self, RtpError> {
        if pairs.is_empty() {
            return Err(RtpError::BadValue);
        }
        let b = self.packet(1, 205, 8 + 4 * pairs.len())?;
        b[0..4].copy_from_slice(&sender_ssrc.to_be_bytes());
        b[4..8].copy_from_slice(&media_ssrc.to_be_bytes());
        for ((pid, blp), out) in pairs.iter().zip(b[8..].chunks_exact_mut(4)) {
            out[0..2].copy_from_slice(&pid.to_be_bytes());
            out[2..4].copy_from_slice(&blp.to_be_bytes());
        }
        Ok(self)
    }

    /// Generic NACK (RFC 4585 §6.2.1) for lost sequence numbers given in increasing order
    /// (modulo wrap): each PID is followed by the lost packets among the next 16 in its BLP.
    pub fn nack(
        &mut self,
        sender_ssrc: u32,
        media_ssrc: u32,
        lost: &[u16],
    ) -> Result<&mut Self, RtpError> {
        let pairs = nack_pairs_iter(lost);
        let n = pairs.clone().count();
        if n == 0 {
            return Err(RtpError::BadValue);
        }
        let b = self.packet(1, 205, 8 + 4 * n)?;
        b[0..4].copy_from_slice(&sender_ssrc.to_be_bytes());
        b[4..8].copy_from_slice(&media_ssrc.to_be_bytes());
        for ((pid, blp), out) in pairs.zip(b[8..].chunks_exact_mut(4)) {
            out[0..2].copy_from_slice(&pid.to_be_bytes());
            out[2..4].copy_from_slice(&blp.to_be_bytes());
        }
        Ok(self)
    }

    /// PLI (RFC 4585 §6.3.1).
    pub fn pli(&mut self, sender_ssrc: u32, media_ssrc: u32) -> Result<&mut Self, RtpError> {
        self.feedback(206, 1, sender_ssrc, media_ssrc, &[])
    }

    /// FIR (RFC 5104 §4.3.1) with `(ssrc, command sequence number)` entries.
    pub fn fir(&mut self, sender_ssrc: u32, entries: &[(u32, u8)]) -> Result<&mut Self, RtpError> {
        if entries.is_empty() {
            return Err(RtpError::BadValue);
        }
        let b = self.packet(4, 206, 8 + 8 * entries.len())?;
        b[0..4].copy_from_slice(&sender_ssrc.to_be_bytes());
        b[4..8].fill(0); // media source SSRC: 0 for FIR (RFC 5104 §4.3.1.2)
        for ((ssrc, seq), out) in entries.iter().zip(b[8..].chunks_exact_mut(8)) {
            out[0..4].copy_from_slice(&ssrc.to_be_bytes());
            out[4] = *seq;
            out[5..8].fill(0);
        }
        Ok(self)
    }

    /// REMB (draft-alvestrand-rmcat-remb-03): `bitrate` in bit/s, rounded down to an
    /// 18-bit mantissa and 6-bit exponent, for up to 255 SSRCs.
    pub fn remb(
        &mut self,
        sender_ssrc: u32,
        bitrate: u64,
        ssrcs: &[u32],
    ) -> Result<&mut Self, RtpError> {
        let n = u8::try_from(ssrcs.len()).map_err(|_| RtpError::TooManyItems)?;
        let (exp, mantissa) = remb_encode(bitrate);
        let b = self.packet(15, 206, 16 + 4 * ssrcs.len())?;
        b[0..4].copy_from_slice(&sender_ssrc.to_be_bytes());
        b[4..8].fill(0);
        b[8..12].copy_from_slice(b"REMB");
        let v = (u32::from(n) << 24) | (u32::from(exp) << 18) | mantissa;
        b[12..16].copy_from_slice(&v.to_be_bytes());
        for (s, out) in ssrcs.iter().zip(b[16..].chunks_exact_mut(4)) {
            out.copy_from_slice(&s.to_be_bytes());
        }
        Ok(self)
    }
}

/// `(exp, mantissa)` with mantissa < 2^18 and mantissa << exp ≤ bitrate (rounding down).
fn remb_encode(bitrate: u64) -> (u8, u32) {
    let bits = 64 - bitrate.leading_zeros();
    let exp = bits.saturating_sub(18);
    // exp ≤ 46 so the shift is in range; the result has ≤ 18 bits.
    (exp as u8, (bitrate >> exp) as u32)
}

/// Groups increasing sequence numbers into `(PID, BLP)` pairs.
fn nack_pairs_iter(lost: &[u16]) -> impl Iterator<Item = (u16, u16)> + Clone + '_ {
    let mut i = 0;
    core::iter::from_fn(move || {
        let (&pid, rest) = lost.get(i..)?.split_first()?;
        i += 1;
        let mut blp = 0u16;
        for &s in rest {
            let d = s.wrapping_sub(pid);
            if d == 0 {
                i += 1; // duplicate of the PID
            } else if d <= 16 {
                blp |= 1 << (d - 1);
                i += 1;
            } else {
                break;
            }
        }
        Some((pid, blp))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn nack_grouping() {
        // Cases from webrtc-rs rtcp transport_layer_nack_test.rs (pion/rtcp origin).
        let p: Vec<_> = nack_pairs_iter(&[100, 101, 105, 115]).collect();
        assert_eq!(p, [(100, 0x4011)]);
        let p: Vec<_> = nack_pairs_iter(&[100, 117, 500, 501, 502]).collect();
        assert_eq!(p, [(100, 0), (117, 0), (500, 3)]);
        let p: Vec<_> = nack_pairs_iter(&[65535, 0, 15]).collect();
        assert_eq!(p, [(65535, 0x8001)]);
        assert_eq!(nack_pairs_iter(&[]).count(), 0);
    }

    #[test]
    fn remb_mantissa_exponent() {
        // 8927168 = 139487 × 2^6 (webrtc-rs REMB test, real Chrome data).
        assert_eq!(remb_encode(8_927_168), (6, 139_487));
        assert_eq!(remb_encode(8_927_167), (6, 139_486));
        assert_eq!(remb_encode(0), (0, 0));
        assert_eq!(remb_encode(0x3FFFF), (0, 0x3FFFF));
        assert_eq!(remb_encode(0x40000), (1, 0x20000));
        assert_eq!(remb_encode(u64::MAX), (46, 0x3FFFF));
    }
}
