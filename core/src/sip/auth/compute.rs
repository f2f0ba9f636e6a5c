//! The digest computations of RFC 7616 §3.4 (and RFC 2617 §3.2.2): HA1, the `-sess` session
//! key, HA2 for `auth` / `auth-int`, the request-digest with and without qop (RFC 2069
//! compatibility), and `userhash` (RFC 7616 §3.4.4).
//!
//! Inputs are the unquoted parameter values and plain strings; outputs are lowercase hex
//! digests in a fixed buffer ([`HexDigest`]), so nothing here allocates.

use super::{Algorithm, Qop};
use core::fmt;
use md5::Digest as _;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A lowercase hex digest (32 characters for MD5, 64 for SHA-256 and SHA-512-256), stored
/// inline without allocation.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HexDigest {
    buf: [u8; 64],
    len: u8,
}

impl HexDigest {
    /// Hex-encodes up to 32 bytes (longer input is truncated to 32 bytes).
    pub fn from_bytes(bytes: &[u8]) -> HexDigest {
        let mut buf = [0u8; 64];
        let mut len = 0usize;
        for (pair, b) in buf.chunks_exact_mut(2).zip(bytes) {
            pair[0] = HEX[usize::from(b >> 4)];
            pair[1] = HEX[usize::from(b & 0x0f)];
            len += 2;
        }
        HexDigest {
            buf,
            // `len` ≤ 64 by construction (32 pairs at most).
            len: len as u8,
        }
    }

    /// Parses a stored hex digest (e.g. a precomputed HA1) of 32 or 64 hex digits, either
    /// case; the result is lowercase. `None` if `s` is not such a digest.
    pub fn parse(s: &str) -> Option<HexDigest> {
        let b = s.as_bytes();
        if b.len() != 32 && b.len() != 64 {
            return None;
        }
        let mut buf = [0u8; 64];
        for (dst, &c) in buf.iter_mut().zip(b) {
            if !c.is_ascii_hexdigit() {
                return None;
            }
            *dst = c.to_ascii_lowercase();
        }
        Some(HexDigest {
            buf,
            len: b.len() as u8,
        })
    }

    /// The digest as a `&str` of lowercase hex digits.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written into `buf[..len]`, so this cannot fail.
        core::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    /// The digest as ASCII bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Length in hex characters.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether the digest is empty (never the case for a computed digest).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl fmt::Display for HexDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for HexDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HexDigest({})", self.as_str())
    }
}

/// An incremental hash for one of the three digest hash functions.
#[derive(Clone)]
enum Hasher {
    Md5(md5::Md5),
    Sha256(sha2::Sha256),
    #[cfg(feature = "sha512-256")]
    Sha512_256(sha2::Sha512_256),
}

impl Hasher {
    fn new(alg: Algorithm) -> Hasher {
        match alg.base() {
            Algorithm::Md5 => Hasher::Md5(md5::Md5::new()),
            #[cfg(feature = "sha512-256")]
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            #[cfg(feature = "sha512-256")]
            _ => Hasher::Sha512_256(sha2::Sha512_256::new()),
            // `base()` is MD5 or SHA-256 when SHA-512-256 is compiled out.
            #[cfg(not(feature = "sha512-256"))]
            _ => Hasher::Sha256(sha2::Sha256::new()),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            #[cfg(feature = "sha512-256")]
            Hasher::Sha512_256(h) => h.update(data),
        }
    }

    fn finish(self) -> HexDigest {
        match self {
            Hasher::Md5(h) => HexDigest::from_bytes(&h.finalize()),
            Hasher::Sha256(h) => HexDigest::from_bytes(&h.finalize()),
            #[cfg(feature = "sha512-256")]
            Hasher::Sha512_256(h) => HexDigest::from_bytes(&h.finalize()),
        }
    }
}

/// `H(p0 ":" p1 ":" …)`: the hash of the parts joined by colons, as lowercase hex.
pub fn h_joined(alg: Algorithm, parts: &[&[u8]]) -> HexDigest {
    let mut h = Hasher::new(alg);
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h.update(b":");
        }
        h.update(p);
    }
    h.finish()
}

/// `H(data)` as lowercase hex (used for `H(entity-body)` in `auth-int`).
pub fn h(alg: Algorithm, data: &[u8]) -> HexDigest {
    h_joined(alg, &[data])
}

/// The storable HA1: `H(username ":" realm ":" password)` (RFC 7616 §3.4.2), for the hash of
/// `alg` (the `-sess` variants share it; see [`session_ha1`]).
pub fn ha1(alg: Algorithm, username: &str, realm: &str, password: &str) -> HexDigest {
    h_joined(
        alg,
        &[username.as_bytes(), realm.as_bytes(), password.as_bytes()],
    )
}

/// The HA1 used in the response: `ha1` itself for plain algorithms, and
/// `H(ha1 ":" nonce ":" cnonce)` for the `-sess` variants (RFC 7616 §3.4.2).
pub fn session_ha1(alg: Algorithm, ha1: &HexDigest, nonce: &str, cnonce: &str) -> HexDigest {
    if alg.is_session() {
        h_joined(alg, &[ha1.as_bytes(), nonce.as_bytes(), cnonce.as_bytes()])
    } else {
        *ha1
    }
}

/// HA2 (RFC 7616 §3.4.3): `H(method ":" uri)` for `auth` and no qop, and
/// `H(method ":" uri ":" H(body))` for `auth-int`.
pub fn ha2(alg: Algorithm, method: &str, uri: &str, qop: Option<Qop>, body: &[u8]) -> HexDigest {
    match qop {
        Some(Qop::AuthInt) => {
            let hb = h(alg, body);
            h_joined(alg, &[method.as_bytes(), uri.as_bytes(), hb.as_bytes()])
        }
        _ => h_joined(alg, &[method.as_bytes(), uri.as_bytes()]),
    }
}

/// The 8 lowercase hex digits of a nonce-count (`nc=00000001`).
pub fn format_nc(nc: u32) -> [u8; 8] {
    let mut out = [0u8; 8];
    for (i, o) in out.iter_mut().enumerate() {
        let shift = 28 - 4 * i;
        *o = HEX[((nc >> shift) & 0xf) as usize];
    }
    out
}

/// The qop part of a response computation: nonce-count, client nonce and qop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QopInputs<'a> {
    /// The nonce-count (`nc`).
    pub nc: u32,
    /// The client nonce (`cnonce`), unquoted.
    pub cnonce: &'a str,
    /// The qop chosen.
    pub qop: Qop,
}

/// The request-digest (RFC 7616 §3.4.1): `KD(HA1, nonce ":" nc ":" cnonce ":" qop ":" HA2)`
/// with qop, or `KD(HA1, nonce ":" HA2)` without (RFC 2069 compatibility), where
/// `KD(s, d) = H(s ":" d)`. `ha1` is the session HA1 for `-sess` algorithms.
pub fn response(
    alg: Algorithm,
    ha1: &HexDigest,
    nonce: &str,
    qop: Option<QopInputs<'_>>,
    ha2: &HexDigest,
) -> HexDigest {
    match qop {
        Some(q) => {
            let nc = format_nc(q.nc);
            h_joined(
                alg,
                &[
                    ha1.as_bytes(),
                    nonce.as_bytes(),
                    &nc,
                    q.cnonce.as_bytes(),
                    q.qop.as_str().as_bytes(),
                    ha2.as_bytes(),
                ],
            )
        }
        None => h_joined(alg, &[ha1.as_bytes(), nonce.as_bytes(), ha2.as_bytes()]),
    }
}

/// The hashed user name (RFC 7616 §3.4.4): `H(username ":" realm)`.
pub fn userhash(alg: Algorithm, username: &str, realm: &str) -> HexDigest {
    h_joined(alg, &[username.as_bytes(), realm.as_bytes()])
}

/// Compares a received hex digest with an expected one in time independent of where they
/// differ (the received one is compared case-insensitively, as some peers send uppercase).
pub fn hex_eq_ct(received: &[u8], expected: &[u8]) -> bool {
    if received.len() != expected.len() {
        return false;
    }
    let mut diff = 0u8;
    for (a, b) in received.iter().zip(expected) {
        diff |= a.to_ascii_lowercase() ^ b;
    }
    core::hint::black_box(diff) == 0
}

/// Compares two byte strings in time independent of where they differ.
#[cfg(feature = "sip-server")]
pub(crate) fn bytes_eq_ct(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    core::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_of_known_hashes() {
        // MD5("") and SHA-256("abc") from RFC 1321 / FIPS 180-2.
        assert_eq!(
            h(Algorithm::Md5, b"").as_str(),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert_eq!(
            h(Algorithm::Sha256, b"abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // SHA-512/256("abc") from FIPS 180-4 examples.
        #[cfg(feature = "sha512-256")]
        assert_eq!(
            h(Algorithm::Sha512_256, b"abc").as_str(),
            "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"
        );
    }

    #[test]
    fn rfc2617_3_5_mufasa() {
        // RFC 2617 §3.5: GET /dir/index.html, Mufasa / "Circle Of Life".
        let alg = Algorithm::Md5;
        let a1 = ha1(alg, "Mufasa", "testrealm@host.com", "Circle Of Life");
        let a2 = ha2(alg, "GET", "/dir/index.html", Some(Qop::Auth), b"");
        let r = response(
            alg,
            &a1,
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            Some(QopInputs {
                nc: 1,
                cnonce: "0a4f113b",
                qop: Qop::Auth,
            }),
            &a2,
        );
        assert_eq!(r.as_str(), "6629fae49393a05397450978507c4ef1");
    }

    #[test]
    fn nc_formatting() {
        assert_eq!(&format_nc(1), b"00000001");
        assert_eq!(&format_nc(0xdead_beef), b"deadbeef");
        assert_eq!(&format_nc(u32::MAX), b"ffffffff");
    }

    #[test]
    fn hex_digest_parse() {
        let d = HexDigest::parse("939E7578ED9E3C518A452ACEE763BCE9").unwrap();
        assert_eq!(d.as_str(), "939e7578ed9e3c518a452acee763bce9");
        assert!(HexDigest::parse("939e").is_none());
        assert!(HexDigest::parse("g39e7578ed9e3c518a452acee763bce9").is_none());
    }

    #[test]
    fn constant_time_compare() {
        assert!(hex_eq_ct(b"ABCdef", b"abcdef"));
        assert!(!hex_eq_ct(b"abcdee", b"abcdef"));
        assert!(!hex_eq_ct(b"abcde", b"abcdef"));
        assert!(bytes_eq_ct(b"x", b"x"));
        assert!(!bytes_eq_ct(b"x", b"X"));
    }
}
