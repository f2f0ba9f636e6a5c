//! Typed STUN attributes (RFC 8489 §14, RFC 8445 §16.1): decoding from a value slice and
//! encoding into a value buffer.

use super::{AttributeType, MAGIC_COOKIE, StunError, TransactionId};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Longest USERNAME value accepted: RFC 8489 §14.3 says fewer than 509 bytes, RFC 5389 said
/// fewer than 513; we accept the older, looser bound.
const MAX_USERNAME: usize = 512;
/// Longest ERROR-CODE reason phrase (RFC 8489 §14.8: 763 bytes).
const MAX_REASON: usize = 763;
/// Longest SOFTWARE, REALM and NONCE values (RFC 8489 §14.14, §14.9, §14.10: 763 bytes).
const MAX_TEXT: usize = 763;

/// An ERROR-CODE attribute (RFC 8489 §14.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode<'a> {
    /// The code, 300..=699.
    pub code: u16,
    /// The reason phrase.
    pub reason: &'a str,
}

impl ErrorCode<'static> {
    /// 300 Try Alternate.
    pub const TRY_ALTERNATE: Self = Self::new(300, "Try Alternate");
    /// 400 Bad Request.
    pub const BAD_REQUEST: Self = Self::new(400, "Bad Request");
    /// 401 Unauthenticated.
    pub const UNAUTHENTICATED: Self = Self::new(401, "Unauthenticated");
    /// 420 Unknown Attribute.
    pub const UNKNOWN_ATTRIBUTE: Self = Self::new(420, "Unknown Attribute");
    /// 438 Stale Nonce.
    pub const STALE_NONCE: Self = Self::new(438, "Stale Nonce");
    /// 487 Role Conflict (RFC 8445 §16.1).
    pub const ROLE_CONFLICT: Self = Self::new(487, "Role Conflict");
    /// 500 Server Error.
    pub const SERVER_ERROR: Self = Self::new(500, "Server Error");
}

impl<'a> ErrorCode<'a> {
    /// An error code with a reason phrase.
    pub const fn new(code: u16, reason: &'a str) -> Self {
        ErrorCode { code, reason }
    }
}

/// The value of an UNKNOWN-ATTRIBUTES attribute: a list of 16-bit types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownAttributes<'a>(&'a [u8]);

impl<'a> UnknownAttributes<'a> {
    /// The listed types.
    pub fn iter(&self) -> impl Iterator<Item = AttributeType> + 'a {
        self.0
            .chunks_exact(2)
            .map(|c| AttributeType(u16::from_be_bytes([c[0], c[1]])))
    }
}

/// A typed attribute. Decoding borrows from the message; encoding is done by
/// [`super::MessageBuilder::add`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Attribute<'a> {
    /// MAPPED-ADDRESS.
    MappedAddress(SocketAddr),
    /// XOR-MAPPED-ADDRESS (the decoded, un-XORed address).
    XorMappedAddress(SocketAddr),
    /// USERNAME (UTF-8).
    Username(&'a str),
    /// MESSAGE-INTEGRITY (the HMAC-SHA1 value as received).
    MessageIntegrity(&'a [u8]),
    /// MESSAGE-INTEGRITY-SHA256 (the value as received, 16..=32 bytes).
    MessageIntegritySha256(&'a [u8]),
    /// FINGERPRINT (the value as received).
    Fingerprint(u32),
    /// ERROR-CODE.
    ErrorCode(ErrorCode<'a>),
    /// UNKNOWN-ATTRIBUTES.
    UnknownAttributes(UnknownAttributes<'a>),
    /// REALM.
    Realm(&'a str),
    /// NONCE.
    Nonce(&'a str),
    /// SOFTWARE.
    Software(&'a str),
    /// PRIORITY (RFC 8445).
    Priority(u32),
    /// USE-CANDIDATE (RFC 8445).
    UseCandidate,
    /// ICE-CONTROLLED and its tie-breaker (RFC 8445).
    IceControlled(u64),
    /// ICE-CONTROLLING and its tie-breaker (RFC 8445).
    IceControlling(u64),
    /// Any other attribute, kept raw.
    Other {
        /// The type.
        typ: AttributeType,
        /// The value.
        value: &'a [u8],
    },
}

fn text(t: AttributeType, v: &[u8], max: usize) -> Result<&str, StunError> {
    if v.len() > max {
        return Err(StunError::MalformedAttribute(t));
    }
    core::str::from_utf8(v).map_err(|_| StunError::MalformedAttribute(t))
}

fn be_u32(t: AttributeType, v: &[u8]) -> Result<u32, StunError> {
    let b: [u8; 4] = v.try_into().map_err(|_| StunError::MalformedAttribute(t))?;
    Ok(u32::from_be_bytes(b))
}

fn be_u64(t: AttributeType, v: &[u8]) -> Result<u64, StunError> {
    let b: [u8; 8] = v.try_into().map_err(|_| StunError::MalformedAttribute(t))?;
    Ok(u64::from_be_bytes(b))
}

/// Decodes a (XOR-)MAPPED-ADDRESS value; `xor` holds cookie + transaction id when XORed.
fn address(t: AttributeType, v: &[u8], xor: Option<&[u8; 16]>) -> Result<SocketAddr, StunError> {
    let bad = StunError::MalformedAttribute(t);
    let zero = [0u8; 16];
    let x = xor.unwrap_or(&zero);
    match v {
        [_, 0x01, p0, p1, a @ ..] if a.len() == 4 => {
            let port = u16::from_be_bytes([p0 ^ x[0], p1 ^ x[1]]);
            let ip = Ipv4Addr::new(a[0] ^ x[0], a[1] ^ x[1], a[2] ^ x[2], a[3] ^ x[3]);
            Ok(SocketAddr::new(IpAddr::V4(ip), port))
        }
        [_, 0x02, p0, p1, a @ ..] if a.len() == 16 => {
            let port = u16::from_be_bytes([p0 ^ x[0], p1 ^ x[1]]);
            let mut ip = [0u8; 16];
            for (o, (b, k)) in ip.iter_mut().zip(a.iter().zip(x.iter())) {
                *o = b ^ k;
            }
            Ok(SocketAddr::new(IpAddr::V6(Ipv6Addr::from(ip)), port))
        }
        _ => Err(bad),
    }
}

/// Magic cookie followed by the transaction id: the XOR key of XOR-MAPPED-ADDRESS.
pub(crate) fn xor_key(tid: &TransactionId) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..4].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
    k[4..].copy_from_slice(&tid.0);
    k
}

/// Encodes a (XOR-)MAPPED-ADDRESS value into `out` (8 or 20 bytes), returning its length.
pub(crate) fn encode_address(
    addr: &SocketAddr,
    xor: Option<&[u8; 16]>,
    out: &mut [u8; 20],
) -> usize {
    let zero = [0u8; 16];
    let x = xor.unwrap_or(&zero);
    let port = addr.port().to_be_bytes();
    out[0] = 0;
    out[2] = port[0] ^ x[0];
    out[3] = port[1] ^ x[1];
    match addr.ip() {
        IpAddr::V4(ip) => {
            out[1] = 0x01;
            for (i, b) in ip.octets().iter().enumerate() {
                out[4 + i] = b ^ x[i];
            }
            8
        }
        IpAddr::V6(ip) => {
            out[1] = 0x02;
            for (i, b) in ip.octets().iter().enumerate() {
                out[4 + i] = b ^ x[i];
            }
            20
        }
    }
}

impl<'a> Attribute<'a> {
    /// Decodes the value `v` of an attribute of type `t` from a message with transaction
    /// id `tid` (needed by XOR-MAPPED-ADDRESS).
    pub fn decode(t: AttributeType, v: &'a [u8], tid: &TransactionId) -> Result<Self, StunError> {
        let bad = StunError::MalformedAttribute(t);
        Ok(match t {
            AttributeType::MAPPED_ADDRESS => Attribute::MappedAddress(address(t, v, None)?),
            AttributeType::XOR_MAPPED_ADDRESS => {
                Attribute::XorMappedAddress(address(t, v, Some(&xor_key(tid)))?)
            }
            AttributeType::USERNAME => Attribute::Username(text(t, v, MAX_USERNAME)?),
            AttributeType::MESSAGE_INTEGRITY => {
                if v.len() != super::INTEGRITY_LEN {
                    return Err(bad);
                }
                Attribute::MessageIntegrity(v)
            }
            AttributeType::MESSAGE_INTEGRITY_SHA256 => {
                if v.len() < 16 || v.len() > 32 || !v.len().is_multiple_of(4) {
                    return Err(bad);
                }
                Attribute::MessageIntegritySha256(v)
            }
            AttributeType::FINGERPRINT => Attribute::Fingerprint(be_u32(t, v)?),
            AttributeType::ERROR_CODE => {
                let [0, 0, class, number, reason @ ..] = v else {
                    return Err(bad);
                };
                let class = class & 0x07;
                if !(3..=6).contains(&class) || *number > 99 {
                    return Err(bad);
                }
                Attribute::ErrorCode(ErrorCode {
                    code: u16::from(class) * 100 + u16::from(*number),
                    reason: text(t, reason, MAX_REASON)?,
                })
            }
            AttributeType::UNKNOWN_ATTRIBUTES => {
                if !v.len().is_multiple_of(2) {
                    return Err(bad);
                }
                Attribute::UnknownAttributes(UnknownAttributes(v))
            }
            AttributeType::REALM => Attribute::Realm(text(t, v, MAX_TEXT)?),
            AttributeType::NONCE => Attribute::Nonce(text(t, v, MAX_TEXT)?),
            AttributeType::SOFTWARE => Attribute::Software(text(t, v, MAX_TEXT)?),
            AttributeType::PRIORITY => Attribute::Priority(be_u32(t, v)?),
            AttributeType::USE_CANDIDATE => {
                if !v.is_empty() {
                    return Err(bad);
                }
                Attribute::UseCandidate
            }
            AttributeType::ICE_CONTROLLED => Attribute::IceControlled(be_u64(t, v)?),
            AttributeType::ICE_CONTROLLING => Attribute::IceControlling(be_u64(t, v)?),
            _ => Attribute::Other { typ: t, value: v },
        })
    }

    /// The attribute type.
    pub fn typ(&self) -> AttributeType {
        match self {
            Attribute::MappedAddress(_) => AttributeType::MAPPED_ADDRESS,
            Attribute::XorMappedAddress(_) => AttributeType::XOR_MAPPED_ADDRESS,
            Attribute::Username(_) => AttributeType::USERNAME,
            Attribute::MessageIntegrity(_) => AttributeType::MESSAGE_INTEGRITY,
            Attribute::MessageIntegritySha256(_) => AttributeType::MESSAGE_INTEGRITY_SHA256,
            Attribute::Fingerprint(_) => AttributeType::FINGERPRINT,
            Attribute::ErrorCode(_) => AttributeType::ERROR_CODE,
            Attribute::UnknownAttributes(_) => AttributeType::UNKNOWN_ATTRIBUTES,
            Attribute::Realm(_) => AttributeType::REALM,
            Attribute::Nonce(_) => AttributeType::NONCE,
            Attribute::Software(_) => AttributeType::SOFTWARE,
            Attribute::Priority(_) => AttributeType::PRIORITY,
            Attribute::UseCandidate => AttributeType::USE_CANDIDATE,
            Attribute::IceControlled(_) => AttributeType::ICE_CONTROLLED,
            Attribute::IceControlling(_) => AttributeType::ICE_CONTROLLING,
            Attribute::Other { typ, .. } => *typ,
        }
    }

    /// Checks the limits [`Attribute::decode`] enforces, so that what is built parses.
    pub(crate) fn validate(&self) -> Result<(), StunError> {
        let ok = match self {
            Attribute::Username(s) => s.len() <= MAX_USERNAME,
            Attribute::Realm(s) | Attribute::Nonce(s) | Attribute::Software(s) => {
                s.len() <= MAX_TEXT
            }
            Attribute::ErrorCode(e) => {
                (300..=699).contains(&e.code) && e.reason.len() <= MAX_REASON
            }
            Attribute::MessageIntegrity(v) => v.len() == super::INTEGRITY_LEN,
            Attribute::MessageIntegritySha256(v) => {
                v.len() >= 16 && v.len() <= 32 && v.len().is_multiple_of(4)
            }
            Attribute::UnknownAttributes(u) => u.0.len().is_multiple_of(2),
            Attribute::Other { value, .. } => value.len() <= usize::from(u16::MAX),
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(StunError::InvalidValue)
        }
    }
}

impl<'a> UnknownAttributes<'a> {
    /// Wraps an encoded list (big-endian 16-bit types); `None` if the length is odd.
    pub fn from_bytes(v: &'a [u8]) -> Option<Self> {
        if v.len().is_multiple_of(2) {
            Some(UnknownAttributes(v))
        } else {
            None
        }
    }

    /// The encoded list.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }
}
