//! STUN messages (RFC 8489), with the ICE attributes of RFC 8445 §16.1 and the RFC 5769
//! test vectors.
//!
//! - [`Message`] is a zero-copy view over a received datagram, checked once by
//!   [`Message::parse`] (header §5, attribute TLVs §14, the placement rules of
//!   MESSAGE-INTEGRITY §14.5, MESSAGE-INTEGRITY-SHA256 §14.6 and FINGERPRINT §14.7); the
//!   accessors after that are cheap and never panic.
//! - [`Message::verify_integrity`], [`Message::verify_integrity_sha256`] (short-term
//!   credentials, §9.1) and [`Message::verify_fingerprint`] cover exactly the bytes before
//!   their attribute, with the header length adjusted as §14.5 asks.
//! - [`long_term_key`] derives the long-term credential key (§9.2.2, MD5).
//! - [`MessageBuilder`] writes a message into a caller's `&mut [u8]` or appends it to a
//!   `Vec<u8>`; integrity and fingerprint are computed over what was written.
//! - [`Attribute`] decodes and encodes the attributes this crate understands: MAPPED-ADDRESS,
//!   XOR-MAPPED-ADDRESS, USERNAME, MESSAGE-INTEGRITY(-SHA256), FINGERPRINT, ERROR-CODE,
//!   UNKNOWN-ATTRIBUTES, SOFTWARE, REALM, NONCE, PRIORITY, USE-CANDIDATE, ICE-CONTROLLED,
//!   ICE-CONTROLLING. Unknown comprehension-required attributes are reported by
//!   [`Message::unknown_comprehension_required`] so that the server can answer 420 (§6.3.1).
//!
//! Inputs: datagrams (`&[u8]`), keys (the short-term password bytes). Outputs: message
//! views, typed attributes, encoded messages. No I/O, no state.

mod attr;
mod builder;
mod crc;

pub use attr::{Attribute, ErrorCode, UnknownAttributes};
pub use builder::MessageBuilder;
pub use crc::crc32;

use core::fmt;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::Sha256;

/// The magic cookie, bytes 4..8 of every RFC 5389/8489 message.
pub const MAGIC_COOKIE: u32 = 0x2112_A442;
/// Length of the STUN header.
pub const HEADER_LEN: usize = 20;
/// The value XORed into the CRC-32 of FINGERPRINT ("STUN").
pub const FINGERPRINT_XOR: u32 = 0x5354_554E;
/// Length of a MESSAGE-INTEGRITY value (HMAC-SHA1).
pub const INTEGRITY_LEN: usize = 20;
/// Length of a full MESSAGE-INTEGRITY-SHA256 value.
pub const INTEGRITY_SHA256_LEN: usize = 32;

/// A 96-bit transaction identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransactionId(pub [u8; 12]);

impl TransactionId {
    /// A fresh random transaction id (RFC 8489 §5: uniformly and randomly chosen).
    pub fn random<R: crate::rand::Rng + ?Sized>(rng: &mut R) -> Self {
        let mut id = [0u8; 12];
        rng.fill_bytes(&mut id);
        TransactionId(id)
    }
}

/// The class of a message (RFC 8489 §5): the C1/C0 bits of the message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// A request (0b00).
    Request,
    /// An indication (0b01).
    Indication,
    /// A success response (0b10).
    SuccessResponse,
    /// An error response (0b11).
    ErrorResponse,
}

/// A STUN method (12 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Method(u16);

impl Method {
    /// Binding (RFC 8489 §18.2).
    pub const BINDING: Method = Method(0x001);

    /// The method with number `n`, or `None` if it does not fit in 12 bits.
    pub const fn new(n: u16) -> Option<Method> {
        if n <= 0x0FFF { Some(Method(n)) } else { None }
    }

    /// The method number.
    pub const fn number(self) -> u16 {
        self.0
    }
}

/// A message type: class and method, as packed in the first 16 bits (RFC 8489 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageType {
    /// The class.
    pub class: Class,
    /// The method.
    pub method: Method,
}

impl MessageType {
    /// Binding request.
    pub const BINDING_REQUEST: MessageType = MessageType::new(Class::Request, Method::BINDING);
    /// Binding success response.
    pub const BINDING_SUCCESS: MessageType =
        MessageType::new(Class::SuccessResponse, Method::BINDING);
    /// Binding error response.
    pub const BINDING_ERROR: MessageType = MessageType::new(Class::ErrorResponse, Method::BINDING);
    /// Binding indication.
    pub const BINDING_INDICATION: MessageType =
        MessageType::new(Class::Indication, Method::BINDING);

    /// A type from its parts.
    pub const fn new(class: Class, method: Method) -> Self {
        MessageType { class, method }
    }

    /// Decodes the 14 significant bits of the first header word (the top two bits must be
    /// zero; the caller has checked that).
    pub const fn from_bits(v: u16) -> Self {
        let m = v & 0x3EEF;
        let method = (m & 0x000F) | ((m & 0x00E0) >> 1) | ((m & 0x3E00) >> 2);
        let class = match ((v >> 7) & 0x2) | ((v >> 4) & 0x1) {
            0 => Class::Request,
            1 => Class::Indication,
            2 => Class::SuccessResponse,
            _ => Class::ErrorResponse,
        };
        MessageType {
            class,
            method: Method(method),
        }
    }

    /// Encodes into the first header word.
    pub const fn to_bits(self) -> u16 {
        let m = self.method.0;
        let method = (m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2);
        let class = match self.class {
            Class::Request => 0x0000,
            Class::Indication => 0x0010,
            Class::SuccessResponse => 0x0100,
            Class::ErrorResponse => 0x0110,
        };
        method | class
    }
}

/// An attribute type (RFC 8489 §14, §18.3; RFC 8445 §16.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttributeType(pub u16);

impl AttributeType {
    /// MAPPED-ADDRESS.
    pub const MAPPED_ADDRESS: Self = Self(0x0001);
    /// USERNAME.
    pub const USERNAME: Self = Self(0x0006);
    /// MESSAGE-INTEGRITY.
    pub const MESSAGE_INTEGRITY: Self = Self(0x0008);
    /// ERROR-CODE.
    pub const ERROR_CODE: Self = Self(0x0009);
    /// UNKNOWN-ATTRIBUTES.
    pub const UNKNOWN_ATTRIBUTES: Self = Self(0x000A);
    /// REALM.
    pub const REALM: Self = Self(0x0014);
    /// NONCE.
    pub const NONCE: Self = Self(0x0015);
    /// MESSAGE-INTEGRITY-SHA256.
    pub const MESSAGE_INTEGRITY_SHA256: Self = Self(0x001C);
    /// XOR-MAPPED-ADDRESS.
    pub const XOR_MAPPED_ADDRESS: Self = Self(0x0020);
    /// PRIORITY (RFC 8445).
    pub const PRIORITY: Self = Self(0x0024);
    /// USE-CANDIDATE (RFC 8445).
    pub const USE_CANDIDATE: Self = Self(0x0025);
    /// SOFTWARE.
    pub const SOFTWARE: Self = Self(0x8022);
    /// FINGERPRINT.
    pub const FINGERPRINT: Self = Self(0x8028);
    /// ICE-CONTROLLED (RFC 8445).
    pub const ICE_CONTROLLED: Self = Self(0x8029);
    /// ICE-CONTROLLING (RFC 8445).
    pub const ICE_CONTROLLING: Self = Self(0x802A);

    /// Types 0x0000–0x7FFF are comprehension-required (RFC 8489 §14).
    pub const fn is_comprehension_required(self) -> bool {
        self.0 < 0x8000
    }

    /// Whether this crate understands the attribute.
    pub const fn is_known(self) -> bool {
        matches!(
            self,
            Self::MAPPED_ADDRESS
                | Self::USERNAME
                | Self::MESSAGE_INTEGRITY
                | Self::ERROR_CODE
                | Self::UNKNOWN_ATTRIBUTES
                | Self::REALM
                | Self::NONCE
                | Self::MESSAGE_INTEGRITY_SHA256
                | Self::XOR_MAPPED_ADDRESS
                | Self::PRIORITY
                | Self::USE_CANDIDATE
                | Self::SOFTWARE
                | Self::FINGERPRINT
                | Self::ICE_CONTROLLED
                | Self::ICE_CONTROLLING
        )
    }
}

/// Why a STUN message was rejected or could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StunError {
    /// Shorter than a header, or the length field does not match the datagram.
    BadLength,
    /// The top two bits of the first byte are not zero.
    NotStun,
    /// The magic cookie is missing (an RFC 3489 message, not supported).
    BadMagicCookie,
    /// An attribute runs past the end of the message.
    TruncatedAttribute,
    /// FINGERPRINT is not the last attribute, or an integrity attribute is misplaced.
    MisplacedAttribute,
    /// An attribute value is malformed for its type.
    MalformedAttribute(AttributeType),
    /// The message carries no such attribute.
    MissingAttribute(AttributeType),
    /// MESSAGE-INTEGRITY(-SHA256) does not match.
    IntegrityMismatch,
    /// FINGERPRINT does not match.
    FingerprintMismatch,
    /// The output buffer is too small.
    BufferTooSmall,
    /// The message would exceed 65,535 bytes of attributes.
    MessageTooLong,
    /// A value cannot be encoded (for example an error code outside 300..=699).
    InvalidValue,
}

impl fmt::Display for StunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StunError::BadLength => f.write_str("STUN length invalid"),
            StunError::NotStun => f.write_str("not a STUN message"),
            StunError::BadMagicCookie => f.write_str("STUN magic cookie missing"),
            StunError::TruncatedAttribute => f.write_str("STUN attribute truncated"),
            StunError::MisplacedAttribute => f.write_str("STUN attribute misplaced"),
            StunError::MalformedAttribute(t) => write!(f, "STUN attribute {:#06x} malformed", t.0),
            StunError::MissingAttribute(t) => write!(f, "STUN attribute {:#06x} missing", t.0),
            StunError::IntegrityMismatch => f.write_str("STUN message integrity mismatch"),
            StunError::FingerprintMismatch => f.write_str("STUN fingerprint mismatch"),
            StunError::BufferTooSmall => f.write_str("output buffer too small"),
            StunError::MessageTooLong => f.write_str("STUN message too long"),
            StunError::InvalidValue => f.write_str("value cannot be encoded"),
        }
    }
}

impl core::error::Error for StunError {}

/// Whether `buf` looks like a STUN message: at least a header, first two bits zero, the
/// magic cookie in place, a length that is a multiple of four (RFC 8489 §5, RFC 7983).
pub fn is_stun(buf: &[u8]) -> bool {
    buf.len() >= HEADER_LEN
        && buf[0] & 0xC0 == 0
        && buf[3] & 0x03 == 0
        && buf[4..8] == MAGIC_COOKIE.to_be_bytes()
}

/// One raw attribute: type and value (padding excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawAttribute<'a> {
    /// The attribute type.
    pub typ: AttributeType,
    /// The value, without padding.
    pub value: &'a [u8],
    /// Offset of the attribute header from the start of the message.
    pub offset: usize,
}

/// Iterator over the attributes of a checked message (see [`Message::attributes`]).
#[derive(Debug, Clone)]
pub struct Attributes<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Iterator for Attributes<'a> {
    type Item = RawAttribute<'a>;

    fn next(&mut self) -> Option<RawAttribute<'a>> {
        let (typ, value, next) = read_tlv(self.buf, self.pos, self.end)?;
        let offset = self.pos;
        self.pos = next;
        Some(RawAttribute { typ, value, offset })
    }
}

/// Reads the TLV at `pos`; `None` at `end` or if it does not fit.
fn read_tlv(buf: &[u8], pos: usize, end: usize) -> Option<(AttributeType, &[u8], usize)> {
    let hdr = buf.get(pos..pos.checked_add(4)?)?;
    let typ = AttributeType(u16::from_be_bytes([hdr[0], hdr[1]]));
    let len = usize::from(u16::from_be_bytes([hdr[2], hdr[3]]));
    let vstart = pos + 4;
    let vend = vstart.checked_add(len)?;
    let next = vend.checked_add(pad4(len))?;
    if next > end {
        return None;
    }
    Some((typ, buf.get(vstart..vend)?, next))
}

/// Padding needed after a value of `len` bytes.
pub(crate) const fn pad4(len: usize) -> usize {
    (4 - (len % 4)) % 4
}

/// A checked, zero-copy view of a STUN message.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    buf: &'a [u8],
    typ: MessageType,
    /// Offset of the first MESSAGE-INTEGRITY, if any.
    integrity: Option<usize>,
    /// Offset of MESSAGE-INTEGRITY-SHA256, if any.
    integrity_sha256: Option<usize>,
    /// Offset of FINGERPRINT, if any.
    fingerprint: Option<usize>,
    /// End of the attributes that count: the first integrity attribute or FINGERPRINT.
    covered_end: usize,
}

impl<'a> Message<'a> {
    /// Checks `buf` once: header, lengths, TLV structure and attribute placement.
    ///
    /// The datagram must hold exactly one message (length field + 20 = datagram length).
    pub fn parse(buf: &'a [u8]) -> Result<Message<'a>, StunError> {
        if buf.len() < HEADER_LEN {
            return Err(StunError::BadLength);
        }
        if buf[0] & 0xC0 != 0 {
            return Err(StunError::NotStun);
        }
        if buf[4..8] != MAGIC_COOKIE.to_be_bytes() {
            return Err(StunError::BadMagicCookie);
        }
        let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
        if !len.is_multiple_of(4) || HEADER_LEN + len != buf.len() {
            return Err(StunError::BadLength);
        }
        let typ = MessageType::from_bits(u16::from_be_bytes([buf[0], buf[1]]));
        let end = buf.len();
        let mut pos = HEADER_LEN;
        let (mut integrity, mut integrity_sha256, mut fingerprint) = (None, None, None);
        while pos < end {
            let (t, value, next) = read_tlv(buf, pos, end).ok_or(StunError::TruncatedAttribute)?;
            if fingerprint.is_some() {
                // §14.7: FINGERPRINT is the last attribute.
                return Err(StunError::MisplacedAttribute);
            }
            match t {
                AttributeType::MESSAGE_INTEGRITY => {
                    // §14.5: only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT may follow; a
                    // MESSAGE-INTEGRITY after MESSAGE-INTEGRITY-SHA256 is ignored (§14.6).
                    if value.len() != INTEGRITY_LEN {
                        return Err(StunError::MalformedAttribute(t));
                    }
                    if integrity.is_none() && integrity_sha256.is_none() {
                        integrity = Some(pos);
                    }
                }
                AttributeType::MESSAGE_INTEGRITY_SHA256 => {
                    if value.len() < 16 || value.len() > 32 || !value.len().is_multiple_of(4) {
                        return Err(StunError::MalformedAttribute(t));
                    }
                    if integrity_sha256.is_none() {
                        integrity_sha256 = Some(pos);
                    }
                }
                AttributeType::FINGERPRINT => {
                    if value.len() != 4 {
                        return Err(StunError::MalformedAttribute(t));
                    }
                    fingerprint = Some(pos);
                }
                _ => {}
            }
            pos = next;
        }
        let covered_end = [integrity, integrity_sha256, fingerprint]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(end);
        Ok(Message {
            buf,
            typ,
            integrity,
            integrity_sha256,
            fingerprint,
            covered_end,
        })
    }

    /// The whole message.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// The message type.
    pub fn message_type(&self) -> MessageType {
        self.typ
    }

    /// The class.
    pub fn class(&self) -> Class {
        self.typ.class
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.typ.method
    }

    /// The transaction id.
    pub fn transaction_id(&self) -> TransactionId {
        let mut id = [0u8; 12];
        id.copy_from_slice(&self.buf[8..20]);
        TransactionId(id)
    }

    /// All attributes, in order, including those after MESSAGE-INTEGRITY.
    pub fn raw_attributes(&self) -> Attributes<'a> {
        Attributes {
            buf: self.buf,
            pos: HEADER_LEN,
            end: self.buf.len(),
        }
    }

    /// The attributes that count: those before the first integrity attribute or
    /// FINGERPRINT (attributes after MESSAGE-INTEGRITY are ignored, RFC 8489 §14.5).
    pub fn attributes(&self) -> Attributes<'a> {
        Attributes {
            buf: self.buf,
            pos: HEADER_LEN,
            end: self.covered_end,
        }
    }

    /// The value of the first counted attribute of type `t`.
    pub fn get(&self, t: AttributeType) -> Option<&'a [u8]> {
        self.attributes().find(|a| a.typ == t).map(|a| a.value)
    }

    /// The first counted attribute of type `t`, decoded.
    pub fn attribute(&self, t: AttributeType) -> Option<Result<Attribute<'a>, StunError>> {
        let a = self.attributes().find(|a| a.typ == t)?;
        Some(Attribute::decode(a.typ, a.value, &self.transaction_id()))
    }

    /// Decoded counted attributes, in order.
    pub fn decoded(&self) -> impl Iterator<Item = Result<Attribute<'a>, StunError>> + 'a {
        let tid = self.transaction_id();
        self.attributes()
            .map(move |a| Attribute::decode(a.typ, a.value, &tid))
    }

    /// USERNAME as UTF-8, if present and valid.
    pub fn username(&self) -> Option<&'a str> {
        self.get(AttributeType::USERNAME)
            .and_then(|v| core::str::from_utf8(v).ok())
    }

    /// XOR-MAPPED-ADDRESS, if present and valid.
    pub fn xor_mapped_address(&self) -> Option<core::net::SocketAddr> {
        match self.attribute(AttributeType::XOR_MAPPED_ADDRESS)? {
            Ok(Attribute::XorMappedAddress(a)) => Some(a),
            _ => None,
        }
    }

    /// MAPPED-ADDRESS, if present and valid.
    pub fn mapped_address(&self) -> Option<core::net::SocketAddr> {
        match self.attribute(AttributeType::MAPPED_ADDRESS)? {
            Ok(Attribute::MappedAddress(a)) => Some(a),
            _ => None,
        }
    }

    /// PRIORITY, if present and valid.
    pub fn priority(&self) -> Option<u32> {
        match self.attribute(AttributeType::PRIORITY)? {
            Ok(Attribute::Priority(p)) => Some(p),
            _ => None,
        }
    }

    /// Whether USE-CANDIDATE is present.
    pub fn use_candidate(&self) -> bool {
        self.get(AttributeType::USE_CANDIDATE).is_some()
    }

    /// ICE-CONTROLLING tie-breaker, if present and valid.
    pub fn ice_controlling(&self) -> Option<u64> {
        match self.attribute(AttributeType::ICE_CONTROLLING)? {
            Ok(Attribute::IceControlling(t)) => Some(t),
            _ => None,
        }
    }

    /// ICE-CONTROLLED tie-breaker, if present and valid.
    pub fn ice_controlled(&self) -> Option<u64> {
        match self.attribute(AttributeType::ICE_CONTROLLED)? {
            Ok(Attribute::IceControlled(t)) => Some(t),
            _ => None,
        }
    }

    /// ERROR-CODE, if present and valid.
    pub fn error_code(&self) -> Option<ErrorCode<'a>> {
        match self.attribute(AttributeType::ERROR_CODE)? {
            Ok(Attribute::ErrorCode(e)) => Some(e),
            _ => None,
        }
    }

    /// SOFTWARE, if present and valid UTF-8.
    pub fn software(&self) -> Option<&'a str> {
        self.get(AttributeType::SOFTWARE)
            .and_then(|v| core::str::from_utf8(v).ok())
    }

    /// Whether the message carries MESSAGE-INTEGRITY.
    pub fn has_integrity(&self) -> bool {
        self.integrity.is_some()
    }

    /// Whether the message carries MESSAGE-INTEGRITY-SHA256.
    pub fn has_integrity_sha256(&self) -> bool {
        self.integrity_sha256.is_some()
    }

    /// Whether the message carries FINGERPRINT.
    pub fn has_fingerprint(&self) -> bool {
        self.fingerprint.is_some()
    }

    /// The comprehension-required attributes (type < 0x8000) this crate does not
    /// understand, among the counted ones; a server answers 420 listing them (§6.3.1).
    pub fn unknown_comprehension_required(&self) -> impl Iterator<Item = AttributeType> + 'a {
        self.attributes()
            .map(|a| a.typ)
            .filter(|t| t.is_comprehension_required() && !t.is_known())
    }

    /// Feeds the bytes before the attribute at `at` into `update`, with the length field
    /// adjusted to end after that attribute (`value_len` bytes of value).
    fn covered(&self, at: usize, value_len: usize, mut update: impl FnMut(&[u8])) {
        // `at` and `value_len` come from `parse`, so the adjusted length is at most the
        // real length (which fits in a u16).
        let adjusted = (at - HEADER_LEN + 4 + value_len) as u16;
        update(&self.buf[0..2]);
        update(&adjusted.to_be_bytes());
        update(&self.buf[4..at]);
    }

    /// Verifies MESSAGE-INTEGRITY (HMAC-SHA1) with `key` (for short-term credentials the
    /// password, RFC 8489 §9.1.1), in constant time.
    pub fn verify_integrity(&self, key: &[u8]) -> Result<(), StunError> {
        let at = self.integrity.ok_or(StunError::MissingAttribute(
            AttributeType::MESSAGE_INTEGRITY,
        ))?;
        let tag = &self.buf[at + 4..at + 4 + INTEGRITY_LEN];
        let mut mac = hmac_sha1(key);
        self.covered(at, INTEGRITY_LEN, |d| mac.update(d));
        mac.verify_slice(tag)
            .map_err(|_| StunError::IntegrityMismatch)
    }

    /// Verifies MESSAGE-INTEGRITY-SHA256 (possibly truncated to 16..32 bytes, §14.6).
    pub fn verify_integrity_sha256(&self, key: &[u8]) -> Result<(), StunError> {
        let at = self.integrity_sha256.ok_or(StunError::MissingAttribute(
            AttributeType::MESSAGE_INTEGRITY_SHA256,
        ))?;
        let len = usize::from(u16::from_be_bytes([self.buf[at + 2], self.buf[at + 3]]));
        let tag = &self.buf[at + 4..at + 4 + len];
        let mut mac = hmac_sha256(key);
        self.covered(at, len, |d| mac.update(d));
        mac.verify_truncated_left(tag)
            .map_err(|_| StunError::IntegrityMismatch)
    }

    /// Verifies FINGERPRINT (CRC-32 of the message before it, XOR 0x5354554e).
    pub fn verify_fingerprint(&self) -> Result<(), StunError> {
        let at = self
            .fingerprint
            .ok_or(StunError::MissingAttribute(AttributeType::FINGERPRINT))?;
        let v = &self.buf[at + 4..at + 8];
        let got = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
        let mut crc = crc::Crc32::new();
        self.covered(at, 4, |d| crc.update(d));
        if crc.finish() ^ FINGERPRINT_XOR == got {
            Ok(())
        } else {
            Err(StunError::FingerprintMismatch)
        }
    }
}

/// The long-term credential key of RFC 8489 §9.2.2 for MESSAGE-INTEGRITY:
/// `MD5(username ":" realm ":" password)`. The caller applies the OpaqueString profile
/// (RFC 8265; SASLprep in RFC 5389) to the password first; ICE uses short-term credentials,
/// whose key is simply the password.
pub fn long_term_key(username: &str, realm: &str, password: &str) -> [u8; 16] {
    use md5::{Digest, Md5};
    let mut h = Md5::new();
    h.update(username.as_bytes());
    h.update(b":");
    h.update(realm.as_bytes());
    h.update(b":");
    h.update(password.as_bytes());
    h.finalize().into()
}

/// An HMAC-SHA1 keyed with `key`.
pub(crate) fn hmac_sha1(key: &[u8]) -> Hmac<Sha1> {
    // Invariant: HMAC accepts keys of any length (long keys are hashed), so this never fails.
    <Hmac<Sha1> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length")
}

/// An HMAC-SHA256 keyed with `key`.
pub(crate) fn hmac_sha256(key: &[u8]) -> Hmac<Sha256> {
    // Invariant: HMAC accepts keys of any length (long keys are hashed), so this never fails.
    <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length")
}

#[cfg(test)]
mod tests;
