//! The digest computations of RFC 7616 §3.4 (and RFC 2617 §3.2.2): HA1, the `-sess` session
//! key, HA2 for `auth` / `auth-int`, the request-digest with and without qop (RFC 2069
//! compatibility), and `userhash` (RFC 7616 §3.4.4).
//!
//! Inputs are the unquoted parameter values and plain strings; outputs are lowercase hex
//! digests in a fixed buffer ([`HexDigest`]), so nothing here allocates.

use super::{Algorithm, Qop};
use core::fmt;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A lowercase hex digest (32 characters for MD5, 64 for SHA-256 and SHA-512-256), stored
/// inline without allocation.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HexDigest {
    buf: [u8; 64],
    len: u8,
}

impl HexDigest {
    /// No digits (a digest not computed).
    const EMPTY: HexDigest = HexDigest {
        buf: [0; 64],
        len: 0,
    };

    /// Hex-encodes up to 32 bytes (longer input is truncated to 32 bytes).
    pub fn from_bytes(bytes: &[u8]) -> HexDigest {
        let mut d = HexDigest::EMPTY;
        // The one hex encoder (the hashes' output goes through it too).
        let n = bytes.len().min(32);
        // Index loops, here and in `Md::finish`: smaller than iterator adapters in the
        // browser build.
        #[allow(clippy::needless_range_loop)]
        for i in 0..n {
            let b = bytes[i];
            d.buf[2 * i] = HEX[usize::from(b >> 4)];
            d.buf[2 * i + 1] = HEX[usize::from(b & 0x0f)];
        }
        d.len = (2 * n) as u8;
        d
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

/// MD5 (RFC 1321) and SHA-256 (FIPS 180-4) share their framing: 64-byte blocks, padding
/// with `0x80`, zeros and the 64-bit message length in bits (little-endian for MD5,
/// big-endian for SHA-256), the block read as sixteen 32-bit words. One buffer, one padding
/// routine and one word loader serve both; only the compression function and the byte
/// order differ (both written here: the browser package carries no hash crate). Bytes are buffered one at a time: digest
/// inputs are a few hundred bytes (a body for `auth-int`), and the loop is the smallest code.
#[derive(Clone)]
struct Md {
    sha256: bool,
    /// MD5 uses the first four words.
    state: [u32; 8],
    /// The block being filled, as the sixteen 32-bit words both hashes read (each byte
    /// or-ed into place in the hash's byte order), then SHA-256's message schedule.
    w: [u32; 64],
    /// Bytes hashed so far.
    len: u64,
    /// The round constants: MD5's `T`, or SHA-256's `K` ([`Md::constants`]).
    k: [u32; 64],
}

/// The MD5 initial state (RFC 1321 §3.3).
const MD5_IV: [u32; 8] = [
    0x6745_2301,
    0xefcd_ab89,
    0x98ba_dcfe,
    0x1032_5476,
    0,
    0,
    0,
    0,
];

/// MD5's per-round rotation amounts (RFC 1321 §3.4), four per round.
const MD5_S: [u8; 16] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

/// The MD5 compression (RFC 1321 §3.4) of the message words `x`, its 64 steps in a loop
/// (`k`: the table `T`).
fn md5_compress(state: &mut [u32; 8], x: &[u32; 64], k: &[u32; 64]) {
    let [mut a, mut b, mut c, mut d, ..] = *state;
    for (i, t) in k.iter().enumerate() {
        let round = i / 16;
        let (f, k) = match round {
            0 => ((b & c) | (!b & d), i),
            1 => ((b & d) | (c & !d), 5 * i + 1),
            2 => (b ^ c ^ d, 3 * i + 5),
            _ => (c ^ (b | !d), 7 * i),
        };
        let s = u32::from(MD5_S[round * 4 + i % 4]);
        let sum = a
            .wrapping_add(f)
            .wrapping_add(*t)
            .wrapping_add(x[k % 16])
            .rotate_left(s);
        (a, d, c) = (d, c, b);
        b = b.wrapping_add(sum);
    }
    // Index loops here and below: no array iterator in the browser build.
    let v = [a, b, c, d];
    for i in 0..4 {
        state[i] = state[i].wrapping_add(v[i]);
    }
}

/// The SHA-256 compression (FIPS 180-4 §6.2.2) of the first 16 words of `w`, which it
/// extends to the 64-word message schedule; the rounds in a loop (`k`: the table `K`).
fn sha256_compress(state: &mut [u32; 8], w: &mut [u32; 64], k: &[u32; 64]) {
    for i in 16..64 {
        let (a, b) = (w[i - 15], w[i - 2]);
        let s0 = a.rotate_right(7) ^ a.rotate_right(18) ^ (a >> 3);
        let s1 = b.rotate_right(17) ^ b.rotate_right(19) ^ (b >> 10);
        w[i] = w[i - 16]
            .wrapping_add(s0)
            .wrapping_add(w[i - 7])
            .wrapping_add(s1);
    }
    let mut v = *state;
    for (i, k) in k.iter().enumerate() {
        let [a, b, c, d, e, f, g, h] = v;
        let t1 = h
            .wrapping_add(e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25))
            .wrapping_add((e & f) ^ (!e & g))
            .wrapping_add(*k)
            .wrapping_add(w[i]);
        let t2 = (a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22))
            .wrapping_add((a & b) ^ (a & c) ^ (b & c));
        v = [t1.wrapping_add(t2), a, b, c, d.wrapping_add(t1), e, f, g];
    }
    for i in 0..8 {
        state[i] = state[i].wrapping_add(v[i]);
    }
}

/// SHA-256's `H(0)` and `K` ([`Md::constants`]), computed by the first caller and kept
/// (feature `sip-server`: the browser build computes them per hash instead, a few
/// microseconds, to carry no code for the cache).
#[cfg(feature = "sip-server")]
fn sha256_constants() -> ([u32; 8], [u32; 64]) {
    use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    // `H(0)` in words 0 to 7, `K` in 8 to 71; `READY` is set after them (`Release`).
    static CACHE: [AtomicU32; 72] = [const { AtomicU32::new(0) }; 72];
    static READY: AtomicBool = AtomicBool::new(false);
    if READY.load(Ordering::Acquire) {
        let word = |i: usize| CACHE[i].load(Ordering::Relaxed);
        return (
            core::array::from_fn(word),
            core::array::from_fn(|i| word(8 + i)),
        );
    }
    let (state, k) = Md::constants(true);
    // Threads racing here store the same values: harmless.
    for (c, v) in CACHE.iter().zip(state.iter().chain(&k)) {
        c.store(*v, Ordering::Relaxed);
    }
    READY.store(true, Ordering::Release);
    (state, k)
}

/// The first 32 bits of the fractional part of `x` (positive, below 2^32).
fn fraction_bits(x: f64) -> u32 {
    // Truncating conversions: `x as u32` is the integer part, and the product is below 2^32.
    ((x - f64::from(x as u32)) * 4_294_967_296.0) as u32
}

/// [`fraction_bits`] of the `n`th root (`n` 2 or 3) of `p` (a prime below 312), by eight
/// Newton steps `x ← ((n - 1)·x + p / x^(n-1)) / n` from 4. From the seventh step on the
/// iterate no longer changes the bits kept, which are those of the exact root for every
/// prime used: the tests compare all the values with the standard's tables.
fn root_bits(p: u32, n: f64) -> u32 {
    let p = f64::from(p);
    let mut x = 4.0f64;
    for _ in 0..8 {
        let pow = if n > 2.0 { x * x } else { x };
        x = ((n - 1.0) * x + p / pow) / n;
    }
    fraction_bits(x)
}

impl Md {
    fn new(sha256: bool) -> Md {
        // A server hashes at a rate where SHA-256's few microseconds of constants matter:
        // it computes them once.
        #[cfg(feature = "sip-server")]
        let (state, k) = if sha256 {
            sha256_constants()
        } else {
            Md::constants(false)
        };
        #[cfg(not(feature = "sip-server"))]
        let (state, k) = Md::constants(sha256);
        Md {
            sha256,
            state,
            w: [0; 64],
            len: 0,
            k,
        }
    }

    /// The initial state and round constants, computed as the standards define them
    /// rather than shipped as 288 bytes of tables (random-looking data, which the browser
    /// package's compression cannot shrink; the definitions are a few instructions):
    ///
    /// - MD5 (RFC 1321 §3.3, §3.4): the fixed initial state, and `T[i]` = the integer part
    ///   of `2^32 * |sin(i + 1)|`, `sin(i + 1)` by turning `(sin, cos)` by one radian per
    ///   step;
    /// - SHA-256 (FIPS 180-4 §4.2.2, §5.3.3): the first 32 bits of the fractional parts of
    ///   the cube roots of the first 64 primes (`K`) and of the square roots of the first 8
    ///   (`H(0)`), the roots by Newton's iteration.
    ///
    /// Only correctly rounded IEEE 754 operations (`+ - * /`, conversions) are used, so
    /// every target computes the same bits; the tests compare all 72 values with the
    /// standards' tables.
    fn constants(sha256: bool) -> ([u32; 8], [u32; 64]) {
        // sin(1) and cos(1), correctly rounded.
        const SIN_1: f64 = 0.841_470_984_807_896_5;
        const COS_1: f64 = 0.540_302_305_868_139_8;
        let mut state = MD5_IV;
        let mut k = [0u32; 64];
        let (mut sin, mut cos) = (0.0f64, 1.0f64);
        let mut prime = 1u32;
        // Index loop: no array iterator in the browser build.
        #[allow(clippy::needless_range_loop)]
        for i in 0..64 {
            k[i] = if sha256 {
                // The next prime: the number with no divisor from 2 to its square root.
                loop {
                    prime += 1;
                    let mut d = 2;
                    while d * d <= prime && !prime.is_multiple_of(d) {
                        d += 1;
                    }
                    if d * d > prime {
                        break;
                    }
                }
                if let Some(h) = state.get_mut(i) {
                    *h = root_bits(prime, 2.0);
                }
                root_bits(prime, 3.0)
            } else {
                (sin, cos) = (sin * COS_1 + cos * SIN_1, cos * COS_1 - sin * SIN_1);
                fraction_bits(sin.abs())
            };
        }
        (state, k)
    }

    fn byte(&mut self, b: u8) {
        // `len % 64` < 64, so the word index is below 16.
        let i = (self.len % 64) as u32;
        self.w[(i / 4) as usize] |= u32::from(b) << self.shift(i % 4, 3);
        self.len = self.len.wrapping_add(1);
        if self.len.is_multiple_of(64) {
            // SHA-256 extends the words in place; both read the first sixteen.
            if self.sha256 {
                sha256_compress(&mut self.state, &mut self.w, &self.k);
            } else {
                md5_compress(&mut self.state, &self.w, &self.k);
            }
            self.w = [0; 64];
        }
    }

    fn update(&mut self, data: &[u8]) {
        for &b in data {
            self.byte(b);
        }
    }

    fn finish(mut self) -> HexDigest {
        let bits = self.len.wrapping_mul(8);
        self.byte(0x80);
        while self.len % 64 != 56 {
            self.byte(0);
        }
        for i in 0..8 {
            self.byte((bits >> self.shift(i, 7)) as u8);
        }
        let mut out = [0u8; 32];
        #[allow(clippy::needless_range_loop)]
        for i in 0..32 {
            // `i / 4` < 8.
            out[i] = (self.state[i / 4] >> self.shift(i as u32 % 4, 3)) as u8;
        }
        HexDigest::from_bytes(out.get(..if self.sha256 { 32 } else { 16 }).unwrap_or(&out))
    }

    /// The bit shift of byte `i` of a value whose last byte is `last`: big-endian for
    /// SHA-256, little-endian for MD5.
    fn shift(&self, i: u32, last: u32) -> u32 {
        8 * if self.sha256 { last - i } else { i }
    }
}

/// An incremental hash for one of the digest hash functions.
// A short-lived stack value: the size difference with SHA-512/256's state costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
enum Hasher {
    /// MD5 or SHA-256.
    Md(Md),
    #[cfg(feature = "sha512-256")]
    Sha512_256(sha2::Sha512_256),
}

impl Hasher {
    fn new(alg: Algorithm) -> Hasher {
        match alg.base() {
            Algorithm::Md5 => Hasher::Md(Md::new(false)),
            #[cfg(feature = "sha512-256")]
            Algorithm::Sha256 => Hasher::Md(Md::new(true)),
            #[cfg(feature = "sha512-256")]
            _ => Hasher::Sha512_256(<sha2::Sha512_256 as sha2::Digest>::new()),
            // `base()` is MD5 or SHA-256 when SHA-512-256 is compiled out.
            #[cfg(not(feature = "sha512-256"))]
            _ => Hasher::Md(Md::new(true)),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Md(h) => h.update(data),
            #[cfg(feature = "sha512-256")]
            Hasher::Sha512_256(h) => sha2::Digest::update(h, data),
        }
    }

    fn finish(self) -> HexDigest {
        match self {
            Hasher::Md(h) => h.finish(),
            #[cfg(feature = "sha512-256")]
            Hasher::Sha512_256(h) => HexDigest::from_bytes(&sha2::Digest::finalize(h)),
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
    out.copy_from_slice(nc_hex(nc).as_bytes());
    out
}

/// The nonce-count as its 8 hex digits: the hex of its four big-endian bytes.
pub(super) fn nc_hex(nc: u32) -> HexDigest {
    HexDigest::from_bytes(&nc.to_be_bytes())
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
            let nc = nc_hex(q.nc);
            h_joined(
                alg,
                &[
                    ha1.as_bytes(),
                    nonce.as_bytes(),
                    nc.as_bytes(),
                    q.cnonce.as_bytes(),
                    q.qop.as_str().as_bytes(),
                    ha2.as_bytes(),
                ],
            )
        }
        None => h_joined(alg, &[ha1.as_bytes(), nonce.as_bytes(), ha2.as_bytes()]),
    }
}

/// The inputs of [`answer`], by their index in its `inputs` (a part index below 16).
pub(super) const IN_USER: usize = 0;
pub(super) const IN_REALM: usize = 1;
pub(super) const IN_PASSWORD: usize = 2;
pub(super) const IN_NONCE: usize = 3;
pub(super) const IN_CNONCE: usize = 4;
pub(super) const IN_METHOD: usize = 5;
pub(super) const IN_URI: usize = 6;
pub(super) const IN_BODY: usize = 7;
/// Number of inputs of [`answer`]; the nonce-count and qop token follow them.
pub(super) const INPUTS: usize = 8;
const IN_NC: u8 = 8;
const IN_QOP: u8 = 9;
// The digests [`answer`] computes, by part index (16 + their index in its result).
const A1: u8 = 16;
const HB: u8 = 17;
const A2: u8 = 18;
/// [`answer`]'s result index of the request-digest.
pub(super) const OUT_RESPONSE: usize = 3;
/// [`answer`]'s result index of the userhash (empty unless asked for).
pub(super) const OUT_USERHASH: usize = 4;
// When a step runs (a bit mask of the cases it serves).
const ALWAYS: u8 = 1;
const SESS: u8 = 2;
const INT: u8 = 4;
const NOT_INT: u8 = 8;
const WITH_QOP: u8 = 16;
const NO_QOP: u8 = 32;
const USERHASH: u8 = 64;

/// The digest computations of a client's answer as data (RFC 7616 §3.4.1–§3.4.4, the same
/// as [`ha1`], [`session_ha1`], [`ha2`], [`response`] and [`userhash`]): per step, when it
/// runs, which digest it gives, the number of parts and the parts joined by `:` (an input
/// below 16, an earlier digest from 16 on). Bytes only, no table of slices (whose pointers
/// the browser package would carry as data).
#[rustfmt::skip]
const STEPS: [u8; 47] = [
    ALWAYS, A1, 3, IN_USER as u8, IN_REALM as u8, IN_PASSWORD as u8,
    SESS, A1, 3, A1, IN_NONCE as u8, IN_CNONCE as u8,
    INT, HB, 1, IN_BODY as u8,
    INT, A2, 3, IN_METHOD as u8, IN_URI as u8, HB,
    NOT_INT, A2, 2, IN_METHOD as u8, IN_URI as u8,
    WITH_QOP, 16 + OUT_RESPONSE as u8, 6, A1, IN_NONCE as u8, IN_NC, IN_CNONCE as u8, IN_QOP, A2,
    NO_QOP, 16 + OUT_RESPONSE as u8, 3, A1, IN_NONCE as u8, A2,
    USERHASH, 16 + OUT_USERHASH as u8, 2, IN_USER as u8, IN_REALM as u8,
];

/// A client's answer in one pass over [`STEPS`]: the session HA1 for `-sess`, HA2 (with
/// `H(body)` for `auth-int`), the request-digest (with or without qop) and, when
/// `userhash`, `H(username ":" realm)`. `inputs` by the `IN_*` indices (the cnonce empty
/// without qop). One loop instead of a hash call per formula: the browser build carries
/// the formulas as a few bytes of data. Inlined into its one caller (the inputs then need
/// not be stored as an array first).
#[inline(always)]
pub(super) fn answer(
    alg: Algorithm,
    inputs: [&[u8]; INPUTS],
    nc: u32,
    qop: Option<Qop>,
    userhash: bool,
) -> [HexDigest; 5] {
    let nc = nc_hex(nc);
    let qop_token = qop.map_or("", Qop::as_str);
    let int = qop == Some(Qop::AuthInt);
    let flags = ALWAYS
        | if alg.is_session() { SESS } else { 0 }
        | if int { INT } else { NOT_INT }
        | if qop.is_some() { WITH_QOP } else { NO_QOP }
        | if userhash { USERHASH } else { 0 };
    let mut out = [HexDigest::EMPTY; 5];
    let mut rest: &[u8] = &STEPS;
    while let [when, dst, n, tail @ ..] = rest {
        let (parts, next) = tail.split_at(usize::from(*n).min(tail.len()));
        rest = next;
        if flags & when == 0 {
            continue;
        }
        let mut h = Hasher::new(alg);
        for (n, &i) in parts.iter().enumerate() {
            if n > 0 {
                h.update(b":");
            }
            let part: &[u8] = match i {
                IN_NC => nc.as_bytes(),
                IN_QOP => qop_token.as_bytes(),
                16.. => match out.get(usize::from(i - 16)) {
                    Some(d) => d.as_bytes(),
                    None => &[],
                },
                _ => inputs.get(usize::from(i)).copied().unwrap_or(&[]),
            };
            h.update(part);
        }
        // `dst` is 16 + an index of `out` (the table above).
        if let Some(slot) = out.get_mut(usize::from(dst - 16)) {
            *slot = h.finish();
        }
    }
    out
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

    /// The SHA-256 initial hash value (FIPS 180-4 §5.3.3).
    const SHA256_IV: [u32; 8] = [
        0x6a09_e667,
        0xbb67_ae85,
        0x3c6e_f372,
        0xa54f_f53a,
        0x510e_527f,
        0x9b05_688c,
        0x1f83_d9ab,
        0x5be0_cd19,
    ];

    /// MD5's `T[i] = floor(2^32 * abs(sin(i + 1)))` (RFC 1321 §3.4).
    const MD5_T: [u32; 64] = [
        0xd76a_a478,
        0xe8c7_b756,
        0x2420_70db,
        0xc1bd_ceee,
        0xf57c_0faf,
        0x4787_c62a,
        0xa830_4613,
        0xfd46_9501,
        0x6980_98d8,
        0x8b44_f7af,
        0xffff_5bb1,
        0x895c_d7be,
        0x6b90_1122,
        0xfd98_7193,
        0xa679_438e,
        0x49b4_0821,
        0xf61e_2562,
        0xc040_b340,
        0x265e_5a51,
        0xe9b6_c7aa,
        0xd62f_105d,
        0x0244_1453,
        0xd8a1_e681,
        0xe7d3_fbc8,
        0x21e1_cde6,
        0xc337_07d6,
        0xf4d5_0d87,
        0x455a_14ed,
        0xa9e3_e905,
        0xfcef_a3f8,
        0x676f_02d9,
        0x8d2a_4c8a,
        0xfffa_3942,
        0x8771_f681,
        0x6d9d_6122,
        0xfde5_380c,
        0xa4be_ea44,
        0x4bde_cfa9,
        0xf6bb_4b60,
        0xbebf_bc70,
        0x289b_7ec6,
        0xeaa1_27fa,
        0xd4ef_3085,
        0x0488_1d05,
        0xd9d4_d039,
        0xe6db_99e5,
        0x1fa2_7cf8,
        0xc4ac_5665,
        0xf429_2244,
        0x432a_ff97,
        0xab94_23a7,
        0xfc93_a039,
        0x655b_59c3,
        0x8f0c_cc92,
        0xffef_f47d,
        0x8584_5dd1,
        0x6fa8_7e4f,
        0xfe2c_e6e0,
        0xa301_4314,
        0x4e08_11a1,
        0xf753_7e82,
        0xbd3a_f235,
        0x2ad7_d2bb,
        0xeb86_d391,
    ];

    /// SHA-256's round constants `K` (FIPS 180-4 §4.2.2).
    const SHA256_K: [u32; 64] = [
        0x428a_2f98,
        0x7137_4491,
        0xb5c0_fbcf,
        0xe9b5_dba5,
        0x3956_c25b,
        0x59f1_11f1,
        0x923f_82a4,
        0xab1c_5ed5,
        0xd807_aa98,
        0x1283_5b01,
        0x2431_85be,
        0x550c_7dc3,
        0x72be_5d74,
        0x80de_b1fe,
        0x9bdc_06a7,
        0xc19b_f174,
        0xe49b_69c1,
        0xefbe_4786,
        0x0fc1_9dc6,
        0x240c_a1cc,
        0x2de9_2c6f,
        0x4a74_84aa,
        0x5cb0_a9dc,
        0x76f9_88da,
        0x983e_5152,
        0xa831_c66d,
        0xb003_27c8,
        0xbf59_7fc7,
        0xc6e0_0bf3,
        0xd5a7_9147,
        0x06ca_6351,
        0x1429_2967,
        0x27b7_0a85,
        0x2e1b_2138,
        0x4d2c_6dfc,
        0x5338_0d13,
        0x650a_7354,
        0x766a_0abb,
        0x81c2_c92e,
        0x9272_2c85,
        0xa2bf_e8a1,
        0xa81a_664b,
        0xc24b_8b70,
        0xc76c_51a3,
        0xd192_e819,
        0xd699_0624,
        0xf40e_3585,
        0x106a_a070,
        0x19a4_c116,
        0x1e37_6c08,
        0x2748_774c,
        0x34b0_bcb5,
        0x391c_0cb3,
        0x4ed8_aa4a,
        0x5b9c_ca4f,
        0x682e_6ff3,
        0x748f_82ee,
        0x78a5_636f,
        0x84c8_7814,
        0x8cc7_0208,
        0x90be_fffa,
        0xa450_6ceb,
        0xbef9_a3f7,
        0xc671_78f2,
    ];

    #[test]
    fn computed_constants_are_the_standards_tables() {
        let (iv, k) = Md::constants(true);
        assert_eq!(iv, SHA256_IV);
        assert_eq!(k, SHA256_K);
        // The server's cached copy: filled by the first call, read by the next.
        #[cfg(feature = "sip-server")]
        for _ in 0..2 {
            assert_eq!(sha256_constants(), (SHA256_IV, SHA256_K));
        }
        let (iv, t) = Md::constants(false);
        assert_eq!(iv, MD5_IV);
        assert_eq!(t, MD5_T);
    }

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
    fn md5_rfc1321_test_suite() {
        // RFC 1321 §A.5.
        for (input, want) in [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                "abcdefghijklmnopqrstuvwxyz",
                "c3fcd3d76192e4007dfb496cca67e13b",
            ),
            (
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                "d174ab98d277d9f5a5611c2c9f419d9f",
            ),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ] {
            assert_eq!(
                h(Algorithm::Md5, input.as_bytes()).as_str(),
                want,
                "{input}"
            );
        }
    }

    #[test]
    fn sha256_fips_180_two_block_message() {
        // FIPS 180-2 appendix B.2: 56 bytes, so the length goes into a second block.
        assert_eq!(
            h(
                Algorithm::Sha256,
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )
            .as_str(),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }

    #[test]
    fn sha256_fips_180_2_long_message() {
        // FIPS 180-2 appendix B.3: one million "a" (15,625 blocks, schedule and carries
        // exercised far beyond the short vectors).
        let mut hasher = Hasher::new(Algorithm::Sha256);
        for _ in 0..1000 {
            hasher.update(&[b'a'; 1000]);
        }
        assert_eq!(
            hasher.finish().as_str(),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
        // FIPS 180-2 appendix B.1, and the empty message.
        assert_eq!(
            h(Algorithm::Sha256, b"").as_str(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn joined_hashes_agree_with_the_reference_crates_at_every_length() {
        // Every padding case (lengths around the 56- and 64-byte boundaries, several
        // blocks), split into parts at varying places.
        use md5::Digest as _;
        let data: alloc::vec::Vec<u8> = (0..300u32).map(|i| (i * 37 + 11) as u8).collect();
        for n in 0..data.len() {
            let msg = &data[..n];
            let cut = n / 3;
            let mut joined = alloc::vec::Vec::from(&msg[..cut]);
            joined.push(b':');
            joined.extend_from_slice(&msg[cut..]);
            let md5 = HexDigest::from_bytes(&md5::Md5::digest(&joined));
            let sha = HexDigest::from_bytes(&sha2::Sha256::digest(&joined));
            let parts: [&[u8]; 2] = [&msg[..cut], &msg[cut..]];
            assert_eq!(h_joined(Algorithm::Md5, &parts), md5, "MD5, {n} bytes");
            assert_eq!(
                h_joined(Algorithm::Sha256, &parts),
                sha,
                "SHA-256, {n} bytes"
            );
        }
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
    fn answer_steps_agree_with_the_formulas() {
        // Every algorithm, qop (none, auth, auth-int) and userhash choice: the table-driven
        // answer against the public one-formula functions (the server's).
        let (user, realm, pass) = ("Mufasa", "testrealm@host.com", "Circle Of Life");
        let (nonce, method, uri, body) = ("dcd98b71", "INVITE", "sip:bob@b.example", b"v=0\r\n");
        for alg in Algorithm::ALL {
            for qop in [None, Some(Qop::Auth), Some(Qop::AuthInt)] {
                for userhash_asked in [false, true] {
                    let cnonce = if qop.is_some() { "0a4f113b" } else { "" };
                    let nc = 0x1234_abcd;
                    let inputs = [
                        user.as_bytes(),
                        realm.as_bytes(),
                        pass.as_bytes(),
                        nonce.as_bytes(),
                        cnonce.as_bytes(),
                        method.as_bytes(),
                        uri.as_bytes(),
                        &body[..],
                    ];
                    let out = answer(alg, inputs, nc, qop, userhash_asked);
                    let a1 = session_ha1(alg, &ha1(alg, user, realm, pass), nonce, cnonce);
                    let a2 = ha2(alg, method, uri, qop, body);
                    let q = qop.map(|qop| QopInputs { nc, cnonce, qop });
                    let want = response(alg, &a1, nonce, q, &a2);
                    assert_eq!(out[OUT_RESPONSE], want, "{alg} {qop:?}");
                    assert_eq!(out[OUT_RESPONSE].len(), alg.hex_len());
                    if userhash_asked {
                        assert_eq!(out[OUT_USERHASH], userhash(alg, user, realm));
                    } else {
                        assert!(out[OUT_USERHASH].is_empty());
                    }
                }
            }
        }
        // And one fixed vector through the table: RFC 2617 §3.5 (MD5, qop=auth, GET).
        let inputs: [&[u8]; INPUTS] = [
            b"Mufasa",
            b"testrealm@host.com",
            b"Circle Of Life",
            b"dcd98b7102dd2f0e8b11d0f600bfb0c093",
            b"0a4f113b",
            b"GET",
            b"/dir/index.html",
            b"",
        ];
        let out = answer(Algorithm::Md5, inputs, 1, Some(Qop::Auth), false);
        assert_eq!(
            out[OUT_RESPONSE].as_str(),
            "6629fae49393a05397450978507c4ef1"
        );
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
        #[cfg(feature = "sip-server")]
        {
            assert!(bytes_eq_ct(b"x", b"x"));
            assert!(!bytes_eq_ct(b"x", b"X"));
        }
    }
}
