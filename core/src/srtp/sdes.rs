//! SDES key parameters (RFC 4568 §6.1, §9.2): `inline:<base64(key||salt)>[|lifetime][|MKI:length]`
//! and the base64 decoder they need (RFC 4648 §4).
//!
//! Input: the key-params text of an `a=crypto` line. Output: a [`MasterKey`] plus the
//! optional lifetime and MKI. Decoding writes into a fixed stack buffer: no allocation.

use super::{Error, MasterKey, Profile};

/// Largest decoded `key || salt`: AES-256 key (32) + 14-byte salt.
const MAX_KEY_SALT: usize = 46;

/// The parsed key-params of one SDES `inline:` key (RFC 4568 §9.2).
#[derive(Clone, PartialEq, Eq)]
pub struct SdesKey {
    /// The master key and salt.
    pub master: MasterKey,
    /// The master key lifetime in packets (`2^n` or decimal), if given.
    pub lifetime: Option<u64>,
    /// The MKI value and its length in bytes on the wire, if given. [`super::Context`] does
    /// not carry MKIs in packets; a caller that sees one must refuse the key.
    pub mki: Option<(u32, u8)>,
}

impl core::fmt::Debug for SdesKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SdesKey")
            .field("master", &self.master)
            .field("lifetime", &self.lifetime)
            .field("mki", &self.mki)
            .finish()
    }
}

impl SdesKey {
    /// Parses `inline:<key||salt base64>[|lifetime][|MKI:length]` for `profile`.
    ///
    /// # Errors
    /// [`Error::InvalidKeyParams`] for bad syntax or base64, [`Error::InvalidKeyLength`] when
    /// the decoded key||salt does not have the profile's length.
    pub fn parse(profile: Profile, key_params: &str) -> Result<Self, Error> {
        let rest = key_params
            .trim()
            .strip_prefix("inline:")
            .ok_or(Error::InvalidKeyParams)?;
        let mut parts = rest.split('|');
        let b64 = parts.next().ok_or(Error::InvalidKeyParams)?;
        let mut buf = [0u8; MAX_KEY_SALT];
        let n = decode_base64(b64.as_bytes(), &mut buf)?;
        let klen = profile.master_key_len();
        if n != klen + profile.master_salt_len() {
            return Err(Error::InvalidKeyLength);
        }
        let master = MasterKey::new(profile, &buf[..klen], &buf[klen..n])?;
        let mut lifetime = None;
        let mut mki = None;
        for p in parts {
            if let Some((v, l)) = p.split_once(':') {
                if mki.is_some() {
                    return Err(Error::InvalidKeyParams);
                }
                let v = parse_dec(v).ok_or(Error::InvalidKeyParams)?;
                let l = parse_dec(l).ok_or(Error::InvalidKeyParams)?;
                if !(1..=128).contains(&l) {
                    return Err(Error::InvalidKeyParams);
                }
                let v = u32::try_from(v).map_err(|_| Error::InvalidKeyParams)?;
                // `l <= 128` was checked above.
                mki = Some((v, l as u8));
            } else {
                if lifetime.is_some() || mki.is_some() {
                    return Err(Error::InvalidKeyParams);
                }
                let t = if let Some(e) = p.strip_prefix("2^") {
                    let e = parse_dec(e).ok_or(Error::InvalidKeyParams)?;
                    if e > 63 {
                        return Err(Error::InvalidKeyParams);
                    }
                    1u64 << e
                } else {
                    parse_dec(p).ok_or(Error::InvalidKeyParams)?
                };
                lifetime = Some(t);
            }
        }
        Ok(Self {
            master,
            lifetime,
            mki,
        })
    }
}

/// Parses a non-empty decimal number without overflow.
fn parse_dec(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    let mut v = 0u64;
    for c in s.bytes() {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    Some(v)
}

/// Value of one base64 character (RFC 4648 §4 alphabet), `None` for others.
fn b64_value(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    } as u32)
}

/// Decodes padded or unpadded base64 (RFC 4648 §4) into `out`, returning the length.
///
/// # Errors
/// [`Error::InvalidKeyParams`] on a character outside the alphabet, misplaced padding,
/// non-zero trailing bits, or output longer than `out`.
pub fn decode_base64(input: &[u8], out: &mut [u8]) -> Result<usize, Error> {
    let data = match input {
        [d @ .., b'=', b'='] | [d @ .., b'='] => d,
        d => d,
    };
    if (input.len() != data.len() && !input.len().is_multiple_of(4)) || data.len() % 4 == 1 {
        return Err(Error::InvalidKeyParams);
    }
    let mut n = 0;
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &c in data {
        acc = (acc << 6) | b64_value(c).ok_or(Error::InvalidKeyParams)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            let slot = out.get_mut(n).ok_or(Error::InvalidKeyParams)?;
            // Truncation keeps the 8 bits just completed.
            *slot = (acc >> bits) as u8;
            n += 1;
            acc &= (1 << bits) - 1;
        }
    }
    if acc != 0 {
        return Err(Error::InvalidKeyParams);
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_rfc4648_vectors() {
        let cases: [(&str, &str); 7] = [
            ("", ""),
            ("Zg==", "f"),
            ("Zm8=", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYg==", "foob"),
            ("Zm9vYmE=", "fooba"),
            ("Zm9vYmFy", "foobar"),
        ];
        for (enc, dec) in cases {
            let mut out = [0u8; 16];
            let n = decode_base64(enc.as_bytes(), &mut out).unwrap();
            assert_eq!(&out[..n], dec.as_bytes(), "{enc}");
        }
        let mut out = [0u8; 16];
        for bad in ["Zg=", "Z", "Zm9v!", "Zh==", "=Zm9", "Zm=v"] {
            assert!(decode_base64(bad.as_bytes(), &mut out).is_err(), "{bad}");
        }
        let mut small = [0u8; 2];
        assert!(decode_base64(b"Zm9v", &mut small).is_err());
    }

    #[test]
    fn rfc4568_example_key() {
        // RFC 4568 §4's example: 30 bytes of key||salt, lifetime 2^20, MKI 1 of length 4.
        let k = SdesKey::parse(
            Profile::Aes128CmHmacSha1_80,
            "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4",
        )
        .unwrap();
        assert_eq!(k.lifetime, Some(1 << 20));
        assert_eq!(k.mki, Some((1, 4)));
        let mut raw = [0u8; 30];
        decode_base64(b"PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR", &mut raw).unwrap();
        assert_eq!(k.master.key(), &raw[..16]);
        assert_eq!(k.master.salt(), &raw[16..]);
        assert_eq!(raw[0], b'=');
        // Wrong length for the profile.
        assert_eq!(
            SdesKey::parse(
                Profile::AeadAes256Gcm,
                "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
            ),
            Err(Error::InvalidKeyLength)
        );
        assert_eq!(
            SdesKey::parse(
                Profile::Aes128CmHmacSha1_80,
                "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
            ),
            Err(Error::InvalidKeyParams)
        );
        assert_eq!(
            SdesKey::parse(
                Profile::Aes128CmHmacSha1_80,
                "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^99"
            ),
            Err(Error::InvalidKeyParams)
        );
    }
}
