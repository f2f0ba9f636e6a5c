//! RTP packets (RFC 3550 §5.1) with header extensions (RFC 8285 §4).
//!
//! Input: a datagram already demultiplexed as RTP (RFC 7983 / RFC 5761). Output: a
//! zero-copy [`RtpPacket`] view checked once by [`RtpPacket::new_checked`]; every accessor
//! afterwards is infallible and allocation-free. [`RtpPacketBuilder`] writes a packet into a
//! caller buffer. [`SeqUnwrapper`] and [`TimestampUnwrapper`] extend the 16-bit sequence
//! number and the 32-bit timestamp into 64-bit counters (RFC 3550 §A.1 idea, robust to
//! reordering across a wrap).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |V=2|P|X|  CC   |M|     PT      |       sequence number         |
//! |                           timestamp                           |
//! |           synchronization source (SSRC) identifier            |
//! |            contributing source (CSRC) identifiers             | (CC × 32 bits)
//! |      defined by profile       |            length             | (if X)
//! |                        header extension                       |
//! |                     payload ...                 | padding | count |
//! ```

use super::RtpError;

/// Length of the fixed RTP header (RFC 3550 §5.1).
pub const RTP_HEADER_LEN: usize = 12;
/// "defined by profile" value of the RFC 8285 one-byte header extension form.
pub const ONE_BYTE_PROFILE: u16 = 0xBEDE;
/// "defined by profile" value (upper 12 bits; the low 4 are "appbits") of the RFC 8285
/// two-byte form.
pub const TWO_BYTE_PROFILE: u16 = 0x1000;

#[inline]
fn be16(b: &[u8], at: usize) -> u16 {
    // Callers index inside ranges validated by `check`; `get` keeps this panic-free anyway.
    match b.get(at..at + 2) {
        Some(s) => u16::from_be_bytes([s[0], s[1]]),
        None => 0,
    }
}

#[inline]
fn be32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(s) => u32::from_be_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

/// A zero-copy view of an RTP packet.
///
/// Construct with [`RtpPacket::new_checked`], which validates the version, the CSRC list,
/// the extension length and the padding against the buffer length; accessors then never
/// fail. With `T: AsMut<[u8]>` the fixed-header fields, CSRCs, extension data and payload can
/// be rewritten in place (the layout cannot change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<T> {
    buf: T,
    payload_start: usize,
    payload_end: usize,
}

impl<T: AsRef<[u8]>> RtpPacket<T> {
    /// Checks `buf` as an RTP packet (RFC 3550 §5.1, A.1 header validity).
    ///
    /// Rejects: fewer than 12 bytes, version ≠ 2, a CSRC list or header extension running
    /// past the end, a padding count of zero or larger than what follows the header.
    pub fn new_checked(buf: T) -> Result<Self, RtpError> {
        let b = buf.as_ref();
        if b.len() < RTP_HEADER_LEN {
            return Err(RtpError::Truncated);
        }
        if b[0] >> 6 != 2 {
            return Err(RtpError::BadVersion);
        }
        let cc = usize::from(b[0] & 0x0F);
        let mut start = RTP_HEADER_LEN + 4 * cc;
        if b[0] & 0x10 != 0 {
            if b.len() < start + 4 {
                return Err(RtpError::Truncated);
            }
            let words = usize::from(be16(b, start + 2));
            start += 4 + 4 * words;
        }
        if b.len() < start {
            return Err(RtpError::Truncated);
        }
        let mut end = b.len();
        if b[0] & 0x20 != 0 {
            let pad = usize::from(b[b.len() - 1]);
            if pad == 0 || pad > end - start {
                return Err(RtpError::BadPadding);
            }
            end -= pad;
        }
        Ok(RtpPacket {
            buf,
            payload_start: start,
            payload_end: end,
        })
    }

    #[inline]
    fn b(&self) -> &[u8] {
        self.buf.as_ref()
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buf
    }

    /// The whole packet as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.b()
    }

    /// Version field (always 2 after `new_checked`).
    pub fn version(&self) -> u8 {
        self.b()[0] >> 6
    }

    /// P bit: the packet ends with padding.
    pub fn has_padding(&self) -> bool {
        self.b()[0] & 0x20 != 0
    }

    /// Number of padding octets at the end (0 when the P bit is clear).
    pub fn padding_len(&self) -> usize {
        self.b().len() - self.payload_end
    }

    /// X bit: a header extension follows the CSRC list.
    pub fn has_extension(&self) -> bool {
        self.b()[0] & 0x10 != 0
    }

    /// CSRC count (CC).
    pub fn csrc_count(&self) -> u8 {
        self.b()[0] & 0x0F
    }

    /// Marker bit.
    pub fn marker(&self) -> bool {
        self.b()[1] & 0x80 != 0
    }

    /// Payload type (7 bits).
    pub fn payload_type(&self) -> u8 {
        self.b()[1] & 0x7F
    }

    /// Sequence number.
    pub fn sequence_number(&self) -> u16 {
        be16(self.b(), 2)
    }

    /// RTP timestamp.
    pub fn timestamp(&self) -> u32 {
        be32(self.b(), 4)
    }

    /// Synchronization source.
    pub fn ssrc(&self) -> u32 {
        be32(self.b(), 8)
    }

    /// The `i`-th contributing source, `None` if `i >= csrc_count()`.
    pub fn csrc(&self, i: usize) -> Option<u32> {
        (i < usize::from(self.csrc_count())).then(|| be32(self.b(), RTP_HEADER_LEN + 4 * i))
    }

    /// Iterator over the CSRC list.
    pub fn csrcs(&self) -> impl Iterator<Item = u32> + '_ {
        (0..usize::from(self.csrc_count())).map(|i| be32(self.b(), RTP_HEADER_LEN + 4 * i))
    }

    fn ext_start(&self) -> usize {
        RTP_HEADER_LEN + 4 * usize::from(self.csrc_count())
    }

    /// The "defined by profile" field of the header extension, if any.
    pub fn extension_profile(&self) -> Option<u16> {
        self.has_extension()
            .then(|| be16(self.b(), self.ext_start()))
    }

    /// The header extension's data (after its 4-byte header), if any.
    pub fn extension_data(&self) -> Option<&[u8]> {
        if !self.has_extension() {
            return None;
        }
        self.b().get(self.ext_start() + 4..self.payload_start)
    }

    /// Iterator over RFC 8285 extension elements `(id, data)`.
    ///
    /// Empty when there is no extension or its profile is neither the one-byte (`0xBEDE`)
    /// nor the two-byte (`0x100X`) form. Padding octets are skipped; iteration stops at
    /// a malformed (truncated) element or, in the one-byte form, at the reserved ID 15.
    pub fn extensions(&self) -> Extensions<'_> {
        match (self.extension_profile(), self.extension_data()) {
            (Some(p), Some(d)) => Extensions::new(p, d),
            _ => Extensions::empty(),
        }
    }

    /// The data of extension element `id`, if present (RFC 8285).
    pub fn extension(&self, id: u8) -> Option<&[u8]> {
        self.extensions().find(|(i, _)| *i == id).map(|(_, d)| d)
    }

    /// Length of everything before the payload (fixed header, CSRCs, extension).
    pub fn header_len(&self) -> usize {
        self.payload_start
    }

    /// The payload (without padding).
    pub fn payload(&self) -> &[u8] {
        &self.b()[self.payload_start..self.payload_end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> RtpPacket<T> {
    #[inline]
    fn bm(&mut self) -> &mut [u8] {
        self.buf.as_mut()
    }

    /// Sets the marker bit.
    pub fn set_marker(&mut self, m: bool) {
        let b = self.bm();
        b[1] = (b[1] & 0x7F) | (u8::from(m) << 7);
    }

    /// Sets the payload type (the high bit of `pt` is ignored).
    pub fn set_payload_type(&mut self, pt: u8) {
        let b = self.bm();
        b[1] = (b[1] & 0x80) | (pt & 0x7F);
    }

    /// Sets the sequence number.
    pub fn set_sequence_number(&mut self, seq: u16) {
        self.bm()[2..4].copy_from_slice(&seq.to_be_bytes());
    }

    /// Sets the timestamp.
    pub fn set_timestamp(&mut self, ts: u32) {
        self.bm()[4..8].copy_from_slice(&ts.to_be_bytes());
    }

    /// Sets the SSRC.
    pub fn set_ssrc(&mut self, ssrc: u32) {
        self.bm()[8..12].copy_from_slice(&ssrc.to_be_bytes());
    }

    /// Sets the `i`-th CSRC; returns `false` (and changes nothing) if `i >= csrc_count()`.
    pub fn set_csrc(&mut self, i: usize, csrc: u32) -> bool {
        if i >= usize::from(self.csrc_count()) {
            return false;
        }
        let at = RTP_HEADER_LEN + 4 * i;
        self.bm()[at..at + 4].copy_from_slice(&csrc.to_be_bytes());
        true
    }

    /// The header extension data, mutable.
    pub fn extension_data_mut(&mut self) -> Option<&mut [u8]> {
        if !self.has_extension() {
            return None;
        }
        let (s, e) = (self.ext_start() + 4, self.payload_start);
        self.bm().get_mut(s..e)
    }

    /// The payload, mutable (e.g. for in-place encryption or PT translation).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (s, e) = (self.payload_start, self.payload_end);
        &mut self.bm()[s..e]
    }
}

/// Iterator over RFC 8285 header extension elements, yielding `(id, data)`.
#[derive(Debug, Clone)]
pub struct Extensions<'a> {
    data: &'a [u8],
    two_byte: bool,
}

impl<'a> Extensions<'a> {
    /// Elements of an extension block with the given "defined by profile" value.
    pub fn new(profile: u16, data: &'a [u8]) -> Self {
        if profile == ONE_BYTE_PROFILE {
            Extensions {
                data,
                two_byte: false,
            }
        } else if profile & 0xFFF0 == TWO_BYTE_PROFILE {
            Extensions {
                data,
                two_byte: true,
            }
        } else {
            Self::empty()
        }
    }

    fn empty() -> Self {
        Extensions {
            data: &[],
            two_byte: false,
        }
    }
}

impl<'a> Iterator for Extensions<'a> {
    type Item = (u8, &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let d = self.data;
        let mut i = 0;
        while let Some(&first) = d.get(i) {
            if first == 0 {
                // Padding octet (RFC 8285 §4.2/§4.3: ID 0).
                i += 1;
                continue;
            }
            let (id, start, len) = if self.two_byte {
                let Some(&len) = d.get(i + 1) else { break };
                (first, i + 2, usize::from(len))
            } else {
                let id = first >> 4;
                if id == 15 || id == 0 {
                    // 15 is reserved: stop processing (RFC 8285 §4.2). ID 0 is only valid
                    // as a zero padding octet (handled above); with a length it is
                    // malformed, so stop as well.
                    break;
                }
                (id, i + 1, usize::from(first & 0x0F) + 1)
            };
            let Some(data) = d.get(start..start + len) else {
                break;
            };
            self.data = &d[start + len..];
            return Some((id, data));
        }
        self.data = &[];
        None
    }
}

/// Writes an RTP packet into a caller buffer.
///
/// Header extensions are given as `(id, data)` elements; the builder picks the RFC 8285
/// one-byte form when every element fits it (ID 1–14, 1–16 bytes) and the two-byte form
/// otherwise (ID 1–255, 0–255 bytes), and pads the block to 32 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacketBuilder<'a> {
    /// Marker bit.
    pub marker: bool,
    /// Payload type (7 bits).
    pub payload_type: u8,
    /// Sequence number.
    pub sequence_number: u16,
    /// Timestamp.
    pub timestamp: u32,
    /// SSRC.
    pub ssrc: u32,
    /// CSRC list (at most 15).
    pub csrcs: &'a [u32],
    /// RFC 8285 extension elements.
    pub extensions: &'a [(u8, &'a [u8])],
    /// Padding octets to append (0 = no padding; the last one carries the count).
    pub padding: u8,
}

impl<'a> RtpPacketBuilder<'a> {
    /// A builder with no CSRCs, extensions or padding.
    pub const fn new(payload_type: u8, sequence_number: u16, timestamp: u32, ssrc: u32) -> Self {
        RtpPacketBuilder {
            marker: false,
            payload_type,
            sequence_number,
            timestamp,
            ssrc,
            csrcs: &[],
            extensions: &[],
            padding: 0,
        }
    }

    /// Sets the marker bit.
    pub const fn marker(mut self, m: bool) -> Self {
        self.marker = m;
        self
    }

    /// Sets the CSRC list.
    pub const fn csrcs(mut self, csrcs: &'a [u32]) -> Self {
        self.csrcs = csrcs;
        self
    }

    /// Sets the header extension elements.
    pub const fn extensions(mut self, ext: &'a [(u8, &'a [u8])]) -> Self {
        self.extensions = ext;
        self
    }

    /// Sets the padding length.
    pub const fn padding(mut self, padding: u8) -> Self {
        self.padding = padding;
        self
    }

    fn one_byte_form(&self) -> bool {
        self.extensions
            .iter()
            .all(|(id, d)| (1..=14).contains(id) && (1..=16).contains(&d.len()))
    }

    fn ext_body_len(&self) -> Result<usize, RtpError> {
        let one = self.one_byte_form();
        let mut n = 0usize;
        for (id, d) in self.extensions {
            if *id == 0 || (!one && d.len() > 255) {
                return Err(RtpError::BadExtension);
            }
            n += d.len() + if one { 1 } else { 2 };
        }
        let padded = n.div_ceil(4) * 4;
        if padded / 4 > usize::from(u16::MAX) {
            return Err(RtpError::BadExtension);
        }
        Ok(padded)
    }

    /// Length of the header this builder writes (fixed header, CSRCs, extension).
    pub fn header_len(&self) -> Result<usize, RtpError> {
        if self.csrcs.len() > 15 {
            return Err(RtpError::TooManyCsrcs);
        }
        let ext = if self.extensions.is_empty() {
            0
        } else {
            4 + self.ext_body_len()?
        };
        Ok(RTP_HEADER_LEN + 4 * self.csrcs.len() + ext)
    }

    /// Writes the header only; the caller writes the payload right after it (e.g. an
    /// encoder encoding in place). Padding is not written (use [`Self::emit`]).
    /// Returns the header length.
    pub fn emit_header(&self, buf: &mut [u8]) -> Result<usize, RtpError> {
        let hl = self.header_len()?;
        if buf.len() < hl {
            return Err(RtpError::BufferTooSmall);
        }
        let has_ext = !self.extensions.is_empty();
        buf[0] = 0x80 | (u8::from(has_ext) << 4) | self.csrcs.len() as u8;
        buf[1] = (u8::from(self.marker) << 7) | (self.payload_type & 0x7F);
        buf[2..4].copy_from_slice(&self.sequence_number.to_be_bytes());
        buf[4..8].copy_from_slice(&self.timestamp.to_be_bytes());
        buf[8..12].copy_from_slice(&self.ssrc.to_be_bytes());
        let mut at = RTP_HEADER_LEN;
        for c in self.csrcs {
            buf[at..at + 4].copy_from_slice(&c.to_be_bytes());
            at += 4;
        }
        if has_ext {
            let one = self.one_byte_form();
            let body = self.ext_body_len()?;
            let profile = if one {
                ONE_BYTE_PROFILE
            } else {
                TWO_BYTE_PROFILE
            };
            buf[at..at + 2].copy_from_slice(&profile.to_be_bytes());
            // Bounded by `ext_body_len` (≤ 0xFFFF words).
            buf[at + 2..at + 4].copy_from_slice(&((body / 4) as u16).to_be_bytes());
            at += 4;
            let end = at + body;
            for (id, d) in self.extensions {
                if one {
                    buf[at] = (id << 4) | (d.len() as u8 - 1);
                    at += 1;
                } else {
                    buf[at] = *id;
                    buf[at + 1] = d.len() as u8;
                    at += 2;
                }
                buf[at..at + d.len()].copy_from_slice(d);
                at += d.len();
            }
            buf[at..end].fill(0);
            at = end;
        }
        debug_assert_eq!(at, hl);
        Ok(hl)
    }

    /// Writes the whole packet (header, `payload`, padding); returns its length.
    pub fn emit(&self, payload: &[u8], buf: &mut [u8]) -> Result<usize, RtpError> {
        let hl = self.header_len()?;
        let pad = usize::from(self.padding);
        let total = hl + payload.len() + pad;
        if buf.len() < total {
            return Err(RtpError::BufferTooSmall);
        }
        self.emit_header(buf)?;
        buf[hl..hl + payload.len()].copy_from_slice(payload);
        if pad > 0 {
            buf[0] |= 0x20;
            buf[hl + payload.len()..total - 1].fill(0);
            buf[total - 1] = self.padding;
        }
        Ok(total)
    }
}

/// Extends 16-bit RTP sequence numbers into a monotonic 64-bit space.
///
/// Each value is placed at the position closest to the previous one (within ±32768), so a
/// packet reordered across a wrap (65535 → 0) maps just below the counter rather than a
/// whole cycle ahead. The first value maps to itself; values before it may be negative.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeqUnwrapper {
    last: Option<i64>,
}

impl SeqUnwrapper {
    /// A fresh unwrapper.
    pub const fn new() -> Self {
        SeqUnwrapper { last: None }
    }

    /// The extended value of `seq`; updates the reference when it moves forward.
    pub fn unwrap(&mut self, seq: u16) -> i64 {
        let ext = self.peek(seq);
        if self.last.is_none_or(|l| ext > l) {
            self.last = Some(ext);
        }
        ext
    }

    /// The extended value of `seq` without updating the reference.
    pub fn peek(&self, seq: u16) -> i64 {
        match self.last {
            None => i64::from(seq),
            Some(l) => l + i64::from(seq.wrapping_sub(l as u16) as i16),
        }
    }

    /// The highest extended value seen, if any.
    pub fn highest(&self) -> Option<i64> {
        self.last
    }
}

/// Extends 32-bit RTP timestamps into a 64-bit space (like [`SeqUnwrapper`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimestampUnwrapper {
    last: Option<i64>,
}

impl TimestampUnwrapper {
    /// A fresh unwrapper.
    pub const fn new() -> Self {
        TimestampUnwrapper { last: None }
    }

    /// The extended value of `ts`; updates the reference when it moves forward.
    pub fn unwrap(&mut self, ts: u32) -> i64 {
        let ext = self.peek(ts);
        if self.last.is_none_or(|l| ext > l) {
            self.last = Some(ext);
        }
        ext
    }

    /// The extended value of `ts` without updating the reference.
    pub fn peek(&self, ts: u32) -> i64 {
        match self.last {
            None => i64::from(ts),
            Some(l) => l + i64::from(ts.wrapping_sub(l as u32) as i32),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    // RFC 8285 §4.2 one-byte example layout; bytes written by hand from the RFC figure:
    // ID 1 len 1 (L=0), ID 2 len 2 (L=1), 0 padding, ID 3 len 4 (L=3).
    const ONE_BYTE_PKT: [u8; 32] = [
        0x90, 0x6F, 0x12, 0x34, // V=2 X=1, PT 111, seq 0x1234
        0x00, 0x00, 0x03, 0xC0, // ts 960
        0xDE, 0xAD, 0xBE, 0xEF, // ssrc
        0xBE, 0xDE, 0x00, 0x03, // one-byte profile, 3 words
        0x10, 0xAA, 0x21, 0xBB, 0xCC, 0x00, 0x33, 0x01, 0x02, 0x03, 0x04, 0x00, //
        0xF8, 0xFF, 0xFE, 0xFD, // payload
    ];

    #[test]
    fn one_byte_extensions_parse() {
        let p = RtpPacket::new_checked(&ONE_BYTE_PKT[..]).unwrap();
        assert_eq!(p.version(), 2);
        assert!(p.has_extension());
        assert!(!p.marker());
        assert_eq!(p.payload_type(), 111);
        assert_eq!(p.sequence_number(), 0x1234);
        assert_eq!(p.timestamp(), 960);
        assert_eq!(p.ssrc(), 0xDEAD_BEEF);
        assert_eq!(p.header_len(), 28);
        assert_eq!(p.payload(), &[0xF8, 0xFF, 0xFE, 0xFD]);
        let ext: Vec<_> = p.extensions().collect();
        assert_eq!(
            ext,
            [
                (1, &[0xAA][..]),
                (2, &[0xBB, 0xCC][..]),
                (3, &[1, 2, 3, 4][..])
            ]
        );
        assert_eq!(p.extension(2), Some(&[0xBB, 0xCC][..]));
        assert_eq!(p.extension(9), None);
    }

    #[test]
    fn one_byte_id15_stops() {
        let data = [0x10, 0xAA, 0xF0, 0x11, 0x20, 0x22];
        let v: Vec<_> = Extensions::new(ONE_BYTE_PROFILE, &data).collect();
        assert_eq!(v, [(1, &[0xAA][..])]);
        let data = [0x10, 0xAA, 0x03, 1, 2, 3, 4];
        let v: Vec<_> = Extensions::new(ONE_BYTE_PROFILE, &data).collect();
        assert_eq!(v, [(1, &[0xAA][..])]);
    }

    #[test]
    fn two_byte_extensions_parse() {
        // ID 1 len 0, ID 200 len 3, padding.
        let data = [0x01, 0x00, 0xC8, 0x03, 7, 8, 9, 0x00];
        let v: Vec<_> = Extensions::new(0x1005, &data).collect();
        assert_eq!(v, [(1, &[][..]), (200, &[7, 8, 9][..])]);
        // Truncated element stops iteration without panicking.
        let v: Vec<_> = Extensions::new(0x1000, &[0x05, 0x09, 1]).collect();
        assert!(v.is_empty());
        assert_eq!(Extensions::new(0x1234, &data).count(), 0);
    }

    #[test]
    fn rejects_bad_packets() {
        assert_eq!(
            RtpPacket::new_checked(&[0x80u8; 11][..]),
            Err(RtpError::Truncated)
        );
        let mut b = [0u8; 12];
        b[0] = 0x40;
        assert_eq!(RtpPacket::new_checked(&b[..]), Err(RtpError::BadVersion));
        b[0] = 0x81; // CC=1 but no CSRC
        assert_eq!(RtpPacket::new_checked(&b[..]), Err(RtpError::Truncated));
        b[0] = 0xA0; // padding, count 0
        assert_eq!(RtpPacket::new_checked(&b[..]), Err(RtpError::BadPadding));
        let mut c = [0u8; 14];
        c[0] = 0xA0;
        c[13] = 3; // 3 > 2 bytes after header
        assert_eq!(RtpPacket::new_checked(&c[..]), Err(RtpError::BadPadding));
        c[13] = 2;
        let p = RtpPacket::new_checked(&c[..]).unwrap();
        assert_eq!(p.payload(), &[] as &[u8]);
        assert_eq!(p.padding_len(), 2);
        let mut d = [0u8; 16];
        d[0] = 0x90;
        d[14] = 0;
        d[15] = 1; // extension of 1 word beyond the end
        assert_eq!(RtpPacket::new_checked(&d[..]), Err(RtpError::Truncated));
    }

    #[test]
    fn builder_matches_fixture_and_round_trips() {
        let ext: [(u8, &[u8]); 3] = [(1, &[0xAA]), (2, &[0xBB, 0xCC]), (3, &[1, 2, 3, 4])];
        let b = RtpPacketBuilder::new(111, 0x1234, 960, 0xDEAD_BEEF).extensions(&ext);
        let mut out = [0u8; 64];
        let n = b.emit(&[0xF8, 0xFF, 0xFE, 0xFD], &mut out).unwrap();
        // Our writer puts the element padding at the end, the fixture in the middle;
        // compare parsed content and the header parts that must be equal.
        assert_eq!(n, ONE_BYTE_PKT.len());
        assert_eq!(out[..16], ONE_BYTE_PKT[..16]);
        let p = RtpPacket::new_checked(&out[..n]).unwrap();
        let q = RtpPacket::new_checked(&ONE_BYTE_PKT[..]).unwrap();
        assert!(p.extensions().eq(q.extensions()));
        assert_eq!(p.payload(), q.payload());
    }

    #[test]
    fn builder_two_byte_csrc_padding() {
        let big = [0x55u8; 20];
        let ext: [(u8, &[u8]); 2] = [(20, &big), (1, &[])];
        let csrcs = [1, 2, 3];
        let b = RtpPacketBuilder::new(0, 65535, u32::MAX, 7)
            .marker(true)
            .csrcs(&csrcs)
            .extensions(&ext)
            .padding(5);
        let mut out = [0u8; 128];
        let n = b.emit(b"hello", &mut out).unwrap();
        let p = RtpPacket::new_checked(&out[..n]).unwrap();
        assert!(p.marker() && p.has_padding());
        assert_eq!(p.padding_len(), 5);
        assert_eq!(p.extension_profile(), Some(TWO_BYTE_PROFILE));
        assert_eq!(p.csrcs().collect::<Vec<_>>(), csrcs);
        assert_eq!(p.extension(20), Some(&big[..]));
        assert_eq!(p.extension(1), Some(&[][..]));
        assert_eq!(p.payload(), b"hello");
        assert_eq!(
            b.emit(b"hello", &mut out[..n - 1]),
            Err(RtpError::BufferTooSmall)
        );
    }

    #[test]
    fn setters() {
        let mut buf = ONE_BYTE_PKT;
        let mut p = RtpPacket::new_checked(&mut buf[..]).unwrap();
        p.set_marker(true);
        p.set_payload_type(0);
        p.set_sequence_number(7);
        p.set_timestamp(9);
        p.set_ssrc(11);
        assert!(!p.set_csrc(0, 1));
        p.payload_mut()[0] = 0;
        assert!(p.marker());
        assert_eq!(
            (
                p.payload_type(),
                p.sequence_number(),
                p.timestamp(),
                p.ssrc()
            ),
            (0, 7, 9, 11)
        );
        assert_eq!(p.payload()[0], 0);
        assert_eq!(p.extension(1), Some(&[0xAA][..]));
    }

    #[test]
    fn seq_unwrap_across_wrap_with_reordering() {
        let mut u = SeqUnwrapper::new();
        assert_eq!(u.unwrap(65534), 65534);
        assert_eq!(u.unwrap(0), 65536);
        assert_eq!(u.unwrap(65535), 65535); // reordered, before the wrap
        assert_eq!(u.unwrap(1), 65537);
        assert_eq!(u.highest(), Some(65537));
        let mut u = SeqUnwrapper::new();
        assert_eq!(u.unwrap(0), 0);
        assert_eq!(u.unwrap(65535), -1);
        let mut t = TimestampUnwrapper::new();
        assert_eq!(t.unwrap(u32::MAX - 10), i64::from(u32::MAX - 10));
        assert_eq!(t.unwrap(5), (1i64 << 32) + 5);
        assert_eq!(t.unwrap(u32::MAX), i64::from(u32::MAX));
    }
}
