//! Building STUN messages (RFC 8489 §5, §14) into a caller buffer or a `Vec<u8>`.

use super::attr::{encode_address, xor_key};
use super::{
    Attribute, AttributeType, FINGERPRINT_XOR, HEADER_LEN, INTEGRITY_LEN, INTEGRITY_SHA256_LEN,
    MAGIC_COOKIE, MessageType, StunError, TransactionId, crc, hmac_sha1, hmac_sha256, pad4,
};
use alloc::vec::Vec;
use hmac::Mac;

/// Where a message is written.
#[derive(Debug)]
enum Target<'b> {
    Slice(&'b mut [u8]),
    Vec(&'b mut Vec<u8>),
}

/// Writes one STUN message, attribute by attribute.
///
/// ```
/// use rvoip_core::stun::{Attribute, Message, MessageBuilder, MessageType, TransactionId};
/// let mut buf = [0u8; 128];
/// let tid = TransactionId([7; 12]);
/// let mut b = MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, tid).unwrap();
/// b.add(&Attribute::Username("a:b")).unwrap();
/// b.add_message_integrity(b"pass").unwrap();
/// b.add_fingerprint().unwrap();
/// let len = b.finish();
/// let m = Message::parse(&buf[..len]).unwrap();
/// assert!(m.verify_integrity(b"pass").is_ok());
/// assert!(m.verify_fingerprint().is_ok());
/// ```
#[derive(Debug)]
pub struct MessageBuilder<'b> {
    target: Target<'b>,
    /// Offset of the header in the target (non-zero when appending to a non-empty Vec).
    start: usize,
    /// Bytes written so far (header included).
    len: usize,
    tid: TransactionId,
    /// The padding byte (zero unless [`Self::set_padding_byte`] changed it).
    pad: u8,
}

impl<'b> MessageBuilder<'b> {
    /// Starts a message at the beginning of `buf`.
    pub fn new(buf: &'b mut [u8], typ: MessageType, tid: TransactionId) -> Result<Self, StunError> {
        if buf.len() < HEADER_LEN {
            return Err(StunError::BufferTooSmall);
        }
        let mut b = MessageBuilder {
            target: Target::Slice(buf),
            start: 0,
            len: 0,
            tid,
            pad: 0,
        };
        b.header(typ);
        Ok(b)
    }

    /// Starts a message appended to `vec`.
    pub fn new_vec(vec: &'b mut Vec<u8>, typ: MessageType, tid: TransactionId) -> Self {
        let start = vec.len();
        let mut b = MessageBuilder {
            target: Target::Vec(vec),
            start,
            len: 0,
            tid,
            pad: 0,
        };
        // Invariant: a Vec target grows, so the header always fits.
        b.header(typ);
        b
    }

    fn header(&mut self, typ: MessageType) {
        let mut h = [0u8; HEADER_LEN];
        h[0..2].copy_from_slice(&typ.to_bits().to_be_bytes());
        h[4..8].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
        h[8..20].copy_from_slice(&self.tid.0);
        // Invariant: `new` checked the slice holds a header; a Vec grows.
        let _ = self.reserve(HEADER_LEN).map(|s| s.copy_from_slice(&h));
    }

    /// The whole message written so far.
    fn bytes(&mut self) -> &mut [u8] {
        let (start, end) = (self.start, self.start + self.len);
        match &mut self.target {
            Target::Slice(s) => &mut s[start..end],
            Target::Vec(v) => &mut v[start..end],
        }
    }

    /// Extends the message by `n` zeroed bytes and returns them.
    fn reserve(&mut self, n: usize) -> Result<&mut [u8], StunError> {
        let new_len = self.len + n;
        if new_len - HEADER_LEN.min(new_len) > usize::from(u16::MAX) {
            return Err(StunError::MessageTooLong);
        }
        let (from, to) = (self.start + self.len, self.start + new_len);
        let out: &mut [u8] = match &mut self.target {
            Target::Slice(s) => {
                let out = s.get_mut(from..to).ok_or(StunError::BufferTooSmall)?;
                out.fill(0);
                out
            }
            Target::Vec(v) => {
                v.resize(to, 0);
                &mut v[from..to]
            }
        };
        self.len = new_len;
        Ok(out)
    }

    /// Writes the current length into the header.
    fn set_length(&mut self, attr_len: usize) {
        // Invariant: `reserve` keeps attr_len <= u16::MAX.
        let l = (attr_len as u16).to_be_bytes();
        let b = self.bytes();
        b[2] = l[0];
        b[3] = l[1];
    }

    /// Sets the byte used to pad attribute values to a multiple of four. RFC 8489 §14 asks
    /// for zero (the default); the RFC 5769 vectors pad with spaces (0x20), which this
    /// reproduces. Receivers ignore padding either way.
    pub fn set_padding_byte(&mut self, byte: u8) {
        self.pad = byte;
    }

    /// Appends a raw attribute (type, value, zero padding).
    pub fn add_raw(&mut self, typ: AttributeType, value: &[u8]) -> Result<(), StunError> {
        let vlen = u16::try_from(value.len()).map_err(|_| StunError::MessageTooLong)?;
        let pad = self.pad;
        let out = self.reserve(4 + value.len() + pad4(value.len()))?;
        out[0..2].copy_from_slice(&typ.0.to_be_bytes());
        out[2..4].copy_from_slice(&vlen.to_be_bytes());
        out[4..4 + value.len()].copy_from_slice(value);
        out[4 + value.len()..].fill(pad);
        let l = self.len - HEADER_LEN;
        self.set_length(l);
        Ok(())
    }

    /// Appends a typed attribute. MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT given here are
    /// written as given; use [`Self::add_message_integrity`] and friends to compute them.
    pub fn add(&mut self, attr: &Attribute<'_>) -> Result<(), StunError> {
        attr.validate()?;
        let t = attr.typ();
        let mut scratch = [0u8; 20];
        match attr {
            Attribute::MappedAddress(a) => {
                let n = encode_address(a, None, &mut scratch);
                self.add_raw(t, &scratch[..n])
            }
            Attribute::XorMappedAddress(a) => {
                let n = encode_address(a, Some(&xor_key(&self.tid)), &mut scratch);
                self.add_raw(t, &scratch[..n])
            }
            Attribute::Username(s)
            | Attribute::Realm(s)
            | Attribute::Nonce(s)
            | Attribute::Software(s) => self.add_raw(t, s.as_bytes()),
            Attribute::MessageIntegrity(v) | Attribute::MessageIntegritySha256(v) => {
                self.add_raw(t, v)
            }
            Attribute::Fingerprint(v) | Attribute::Priority(v) => self.add_raw(t, &v.to_be_bytes()),
            Attribute::ErrorCode(e) => {
                let pad = self.pad;
                let out = self.reserve(8 + e.reason.len() + pad4(e.reason.len()))?;
                out[0..2].copy_from_slice(&t.0.to_be_bytes());
                // Invariant: validate() bounded the reason to 763 bytes.
                out[2..4].copy_from_slice(&((4 + e.reason.len()) as u16).to_be_bytes());
                // Invariant: validate() bounded the code to 300..=699.
                out[6] = (e.code / 100) as u8;
                out[7] = (e.code % 100) as u8;
                out[8..8 + e.reason.len()].copy_from_slice(e.reason.as_bytes());
                out[8 + e.reason.len()..].fill(pad);
                let l = self.len - HEADER_LEN;
                self.set_length(l);
                Ok(())
            }
            Attribute::UnknownAttributes(u) => self.add_raw(t, u.as_bytes()),
            Attribute::UseCandidate => self.add_raw(t, &[]),
            Attribute::IceControlled(v) | Attribute::IceControlling(v) => {
                self.add_raw(t, &v.to_be_bytes())
            }
            Attribute::Other { typ, value } => self.add_raw(*typ, value),
        }
    }

    /// Appends an UNKNOWN-ATTRIBUTES attribute listing `types`.
    pub fn add_unknown_attributes(
        &mut self,
        types: impl IntoIterator<Item = AttributeType>,
    ) -> Result<(), StunError> {
        let at = self.len;
        self.reserve(4)?;
        let mut n = 0usize;
        for t in types {
            self.reserve(2)?.copy_from_slice(&t.0.to_be_bytes());
            n += 2;
        }
        self.reserve(pad4(n))?;
        let vlen = u16::try_from(n).map_err(|_| StunError::MessageTooLong)?;
        let b = self.bytes();
        b[at..at + 2].copy_from_slice(&AttributeType::UNKNOWN_ATTRIBUTES.0.to_be_bytes());
        b[at + 2..at + 4].copy_from_slice(&vlen.to_be_bytes());
        let l = self.len - HEADER_LEN;
        self.set_length(l);
        Ok(())
    }

    /// Appends MESSAGE-INTEGRITY: HMAC-SHA1 keyed with `key` over the message so far, with
    /// the length field already counting this attribute (RFC 8489 §14.5).
    pub fn add_message_integrity(&mut self, key: &[u8]) -> Result<(), StunError> {
        let at = self.len;
        self.reserve(4 + INTEGRITY_LEN)?;
        self.set_length(at + 4 + INTEGRITY_LEN - HEADER_LEN);
        let b = self.bytes();
        let mut mac = hmac_sha1(key);
        mac.update(&b[..at]);
        let tag = mac.finalize().into_bytes();
        b[at..at + 2].copy_from_slice(&AttributeType::MESSAGE_INTEGRITY.0.to_be_bytes());
        b[at + 2..at + 4].copy_from_slice(&(INTEGRITY_LEN as u16).to_be_bytes());
        b[at + 4..at + 4 + INTEGRITY_LEN].copy_from_slice(&tag);
        Ok(())
    }

    /// Appends MESSAGE-INTEGRITY-SHA256 (full 32 bytes), computed like
    /// [`Self::add_message_integrity`] (RFC 8489 §14.6).
    pub fn add_message_integrity_sha256(&mut self, key: &[u8]) -> Result<(), StunError> {
        let at = self.len;
        self.reserve(4 + INTEGRITY_SHA256_LEN)?;
        self.set_length(at + 4 + INTEGRITY_SHA256_LEN - HEADER_LEN);
        let b = self.bytes();
        let mut mac = hmac_sha256(key);
        mac.update(&b[..at]);
        let tag = mac.finalize().into_bytes();
        b[at..at + 2].copy_from_slice(&AttributeType::MESSAGE_INTEGRITY_SHA256.0.to_be_bytes());
        b[at + 2..at + 4].copy_from_slice(&(INTEGRITY_SHA256_LEN as u16).to_be_bytes());
        b[at + 4..at + 4 + INTEGRITY_SHA256_LEN].copy_from_slice(&tag);
        Ok(())
    }

    /// Appends FINGERPRINT; it must be the last attribute (RFC 8489 §14.7).
    pub fn add_fingerprint(&mut self) -> Result<(), StunError> {
        let at = self.len;
        self.reserve(8)?;
        self.set_length(at + 8 - HEADER_LEN);
        let b = self.bytes();
        let mut c = crc::Crc32::new();
        c.update(&b[..at]);
        let v = c.finish() ^ FINGERPRINT_XOR;
        b[at..at + 2].copy_from_slice(&AttributeType::FINGERPRINT.0.to_be_bytes());
        b[at + 2..at + 4].copy_from_slice(&4u16.to_be_bytes());
        b[at + 4..at + 8].copy_from_slice(&v.to_be_bytes());
        Ok(())
    }

    /// The length of the message written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a message has at least a header.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Ends the message and returns its length (in the slice, or appended to the Vec).
    pub fn finish(self) -> usize {
        self.len
    }
}
