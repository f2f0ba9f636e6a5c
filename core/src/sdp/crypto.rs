//! `a=crypto` (RFC 4568 §9.1, SDES keying for SRTP on trunks), and the base64 it needs.
//!
//! ```text
//! a=crypto:<tag> <crypto-suite> <key-params> [<session-params>]
//! key-params = key-param *(";" key-param)
//! key-param  = "inline:" key-salt ["|" lifetime] ["|" mki-value ":" mki-length]
//! ```

use super::{SdpError, invalid};
use alloc::string::String;
use core::fmt;

/// An SRTP crypto suite (RFC 4568 §6.2, RFC 6188, RFC 7714).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CryptoSuite {
    /// `AES_CM_128_HMAC_SHA1_80`.
    AesCm128HmacSha1_80,
    /// `AES_CM_128_HMAC_SHA1_32`.
    AesCm128HmacSha1_32,
    /// `AES_256_CM_HMAC_SHA1_80` (RFC 6188).
    Aes256CmHmacSha1_80,
    /// `AES_256_CM_HMAC_SHA1_32` (RFC 6188).
    Aes256CmHmacSha1_32,
    /// `AEAD_AES_128_GCM` (RFC 7714).
    AeadAes128Gcm,
    /// `AEAD_AES_256_GCM` (RFC 7714).
    AeadAes256Gcm,
}

impl CryptoSuite {
    /// From the suite name (exact, as RFC 4568 names are case-sensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "AES_CM_128_HMAC_SHA1_80" => Self::AesCm128HmacSha1_80,
            "AES_CM_128_HMAC_SHA1_32" => Self::AesCm128HmacSha1_32,
            "AES_256_CM_HMAC_SHA1_80" => Self::Aes256CmHmacSha1_80,
            "AES_256_CM_HMAC_SHA1_32" => Self::Aes256CmHmacSha1_32,
            "AEAD_AES_128_GCM" => Self::AeadAes128Gcm,
            "AEAD_AES_256_GCM" => Self::AeadAes256Gcm,
            _ => return None,
        })
    }

    /// The suite name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            Self::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
            Self::Aes256CmHmacSha1_80 => "AES_256_CM_HMAC_SHA1_80",
            Self::Aes256CmHmacSha1_32 => "AES_256_CM_HMAC_SHA1_32",
            Self::AeadAes128Gcm => "AEAD_AES_128_GCM",
            Self::AeadAes256Gcm => "AEAD_AES_256_GCM",
        }
    }

    /// The length of the concatenated master key and master salt in bytes.
    pub const fn key_salt_len(self) -> usize {
        match self {
            Self::AesCm128HmacSha1_80 | Self::AesCm128HmacSha1_32 => 16 + 14,
            Self::Aes256CmHmacSha1_80 | Self::Aes256CmHmacSha1_32 => 32 + 14,
            Self::AeadAes128Gcm => 16 + 12,
            Self::AeadAes256Gcm => 32 + 12,
        }
    }
}

/// A key lifetime (RFC 4568 §6.1): the number of packets the key may protect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lifetime {
    /// `2^n`.
    PowerOfTwo(u8),
    /// A plain number.
    Packets(u64),
}

impl Lifetime {
    fn parse(s: &str) -> Option<Self> {
        match s.strip_prefix("2^") {
            Some(n) => n.parse().ok().filter(|n| *n < 64).map(Self::PowerOfTwo),
            None => s.parse().ok().map(Self::Packets),
        }
    }
}

impl fmt::Display for Lifetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PowerOfTwo(n) => write!(f, "2^{n}"),
            Self::Packets(n) => write!(f, "{n}"),
        }
    }
}

/// A master key identifier (RFC 4568 §6.1): its value and its length in bytes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mki {
    /// The MKI value.
    pub value: u64,
    /// The MKI length in bytes (1–128).
    pub length: u8,
}

/// One `inline:` key parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyParam<'a> {
    /// The key method (`inline`).
    pub method: &'a str,
    /// The base64 master key ‖ master salt.
    pub key_salt: &'a str,
    /// The key lifetime, if given.
    pub lifetime: Option<Lifetime>,
    /// The MKI, if given.
    pub mki: Option<Mki>,
}

impl<'a> KeyParam<'a> {
    fn parse(s: &'a str) -> Result<Self, SdpError> {
        let e = invalid("crypto");
        let (method, info) = s.split_once(':').ok_or(e)?;
        let mut parts = info.split('|');
        let key_salt = parts.next().filter(|k| !k.is_empty()).ok_or(e)?;
        let mut lifetime = None;
        let mut mki = None;
        for p in parts.by_ref().take(2) {
            if let Some((v, l)) = p.split_once(':') {
                let length = l.parse().ok().filter(|l| (1..=128).contains(l)).ok_or(e)?;
                mki = Some(Mki {
                    value: v.parse().map_err(|_| e)?,
                    length,
                });
            } else if mki.is_none() && lifetime.is_none() {
                lifetime = Some(Lifetime::parse(p).ok_or(e)?);
            } else {
                return Err(e);
            }
        }
        if parts.next().is_some() {
            return Err(e);
        }
        Ok(Self {
            method,
            key_salt,
            lifetime,
            mki,
        })
    }

    /// Decodes the base64 key ‖ salt into `out`, returning the number of bytes written.
    pub fn decode_key_salt(&self, out: &mut [u8]) -> Result<usize, SdpError> {
        base64_decode(self.key_salt, out).ok_or(invalid("crypto"))
    }
}

impl fmt::Display for KeyParam<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.method, self.key_salt)?;
        if let Some(l) = self.lifetime {
            write!(f, "|{l}")?;
        }
        if let Some(m) = self.mki {
            write!(f, "|{}:{}", m.value, m.length)?;
        }
        Ok(())
    }
}

/// `a=crypto` (RFC 4568 §9.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crypto<'a> {
    /// The tag (1 to 9 digits) the answer echoes.
    pub tag: u32,
    /// The suite name (see [`Crypto::suite`]).
    pub suite_name: &'a str,
    /// The key parameters, raw (see [`Crypto::keys`]).
    pub key_params: &'a str,
    /// The session parameters, raw (`UNENCRYPTED_SRTCP`, `KDR=…`…), possibly empty.
    pub session_params: &'a str,
}

impl<'a> Crypto<'a> {
    /// Decodes the value of `a=crypto`; every key parameter must be well-formed.
    pub fn parse(s: &'a str) -> Result<Self, SdpError> {
        let e = invalid("crypto");
        let mut f = s.splitn(4, ' ');
        let tag_s = f.next().ok_or(e)?;
        if tag_s.is_empty() || tag_s.len() > 9 {
            return Err(e);
        }
        let tag = tag_s.parse().map_err(|_| e)?;
        let suite_name = f.next().filter(|x| !x.is_empty()).ok_or(e)?;
        let key_params = f.next().filter(|x| !x.is_empty()).ok_or(e)?;
        let session_params = f.next().unwrap_or("");
        let c = Self {
            tag,
            suite_name,
            key_params,
            session_params,
        };
        for k in c.keys() {
            k?;
        }
        Ok(c)
    }

    /// The suite, if it is one this crate knows.
    pub fn suite(&self) -> Option<CryptoSuite> {
        CryptoSuite::from_name(self.suite_name)
    }

    /// The key parameters.
    pub fn keys(&self) -> impl Iterator<Item = Result<KeyParam<'a>, SdpError>> + use<'a> {
        self.key_params.split(';').map(KeyParam::parse)
    }

    /// The session parameters.
    pub fn session_parameters(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        self.session_params.split(' ').filter(|s| !s.is_empty())
    }
}

impl fmt::Display for Crypto<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.tag, self.suite_name, self.key_params)?;
        if !self.session_params.is_empty() {
            write!(f, " {}", self.session_params)?;
        }
        Ok(())
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (RFC 4648 §4).
pub(crate) fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 (padding optional) into `out`; `None` on a bad character or
/// if `out` is too small.
pub(crate) fn base64_decode(s: &str, out: &mut [u8]) -> Option<usize> {
    let s = s.trim_end_matches('=');
    let mut acc = 0u32;
    let mut bits = 0u32;
    let mut n = 0usize;
    for c in s.bytes() {
        let v = B64.iter().position(|&x| x == c)?;
        acc = (acc << 6) | u32::try_from(v).ok()?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            *out.get_mut(n)? = u8::try_from((acc >> bits) & 0xff).ok()?;
            n += 1;
        }
        acc &= (1 << bits) - 1;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_rfc4648_vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), enc);
            let mut buf = [0u8; 8];
            let n = base64_decode(enc, &mut buf).unwrap();
            assert_eq!(&buf[..n], plain.as_bytes());
        }
        assert_eq!(base64_decode("Zm9v!", &mut [0u8; 8]), None);
        assert_eq!(base64_decode("Zm9vYmFy", &mut [0u8; 3]), None);
    }

    #[test]
    fn rfc4568_example() {
        // RFC 4568 §4 example.
        let c = Crypto::parse(
            "1 AES_CM_128_HMAC_SHA1_80 \
             inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4 FEC_ORDER=FEC_SRTP",
        )
        .unwrap();
        assert_eq!(c.tag, 1);
        assert_eq!(c.suite(), Some(CryptoSuite::AesCm128HmacSha1_80));
        let k = c.keys().next().unwrap().unwrap();
        assert_eq!(k.method, "inline");
        assert_eq!(k.lifetime, Some(Lifetime::PowerOfTwo(20)));
        assert_eq!(
            k.mki,
            Some(Mki {
                value: 1,
                length: 4
            })
        );
        let mut key = [0u8; 64];
        assert_eq!(k.decode_key_salt(&mut key), Ok(30));
        assert_eq!(&key[..4], &[0x3d, 0x2d, 0x6e, 0x40]);
        assert_eq!(
            c.session_parameters().collect::<alloc::vec::Vec<_>>(),
            ["FEC_ORDER=FEC_SRTP"]
        );
        assert_eq!(
            alloc::format!("{c}"),
            "1 AES_CM_128_HMAC_SHA1_80 \
             inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4 FEC_ORDER=FEC_SRTP"
        );
        for bad in [
            "x AES_CM_128_HMAC_SHA1_80 inline:AAAA",
            "1 AES_CM_128_HMAC_SHA1_80",
            "1 AES_CM_128_HMAC_SHA1_80 inline:AAAA|2^99",
            "1 AES_CM_128_HMAC_SHA1_80 inline:AAAA|1:0",
            "1 AES_CM_128_HMAC_SHA1_80 inline:AAAA|1:4|2^20",
            "1 AES_CM_128_HMAC_SHA1_80 nokeymethod",
            "1234567890 AES_CM_128_HMAC_SHA1_80 inline:AAAA",
        ] {
            assert!(Crypto::parse(bad).is_err(), "{bad}");
        }
    }
}
