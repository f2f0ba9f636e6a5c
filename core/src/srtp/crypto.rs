//! The cryptographic building blocks of SRTP: the AES counter-mode keystream (RFC 3711
//! §4.1.1), the AES-CM PRF used for key derivation (RFC 3711 §4.3.1, §4.3.3; RFC 7714 §11),
//! HMAC-SHA1 with precomputed pads (RFC 3711 §4.2.1), the GCM counter mode (NIST SP 800-38D
//! §6.5, for RFC 7714) and a constant-time tag comparison.
//!
//! Inputs: keys, salts and 16-byte counter blocks. Outputs: keystream XORed in place into
//! caller buffers, derived session keys and authentication tags. Nothing here allocates.

// AES comes from `aes` 0.8 (pure Rust, no_std, runtime-detected AES-NI): its backend
// pipelines 8 blocks with no per-call setup, while 0.9's VAES backends broadcast the round
// keys on every call, which cost a third of the time of a 172-byte packet (measured with
// perf on AVX-512 hardware). GCM is built here on the same CTR plus the `ghash` crate.
use aes08::cipher::{
    BlockEncrypt, BlockSizeUser, KeyInit, consts::U16, generic_array::GenericArray,
};
use aes08::{Aes128, Aes256};
use sha1::block_api::compress as sha1_compress;

/// AES blocks per `encrypt_blocks` call: a whole 160-byte-payload packet in one call.
const BATCH: usize = 16;

/// XORs the AES counter-mode keystream starting at counter block `iv` into `data`.
///
/// The counter block is `IV + j` for keystream block `j` (RFC 3711 §4.1.1).
#[inline]
pub(crate) fn ctr_xor<C>(cipher: &C, iv: &[u8; 16], data: &mut [u8])
where
    C: BlockEncrypt + BlockSizeUser<BlockSize = U16>,
{
    // RFC 3711 §4.1.1: keystream block j is E(k, IV + j mod 2^128).
    let mut ctr = u128::from_be_bytes(*iv);
    let mut blocks = [GenericArray::<u8, U16>::default(); BATCH];
    for chunk in data.chunks_mut(BATCH * 16) {
        let n = chunk.len().div_ceil(16);
        // `chunk.len() <= BATCH * 16`, so `n <= BATCH`.
        let batch = &mut blocks[..n];
        for b in batch.iter_mut() {
            b.copy_from_slice(&ctr.to_be_bytes());
            ctr = ctr.wrapping_add(1);
        }
        cipher.encrypt_blocks(batch);
        let mut words = chunk.chunks_exact_mut(16);
        let mut keys = batch.iter();
        for (d, k) in (&mut words).zip(&mut keys) {
            let x = u128::from_ne_bytes(to16(d)) ^ u128::from_ne_bytes(to16(k));
            d.copy_from_slice(&x.to_ne_bytes());
        }
        if let Some(k) = keys.next() {
            for (a, b) in words.into_remainder().iter_mut().zip(k.iter()) {
                *a ^= b;
            }
        }
    }
}

/// Copies a 16-byte slice into an array (the callers only pass 16-byte slices).
#[inline(always)]
fn to16(s: &[u8]) -> [u8; 16] {
    let mut a = [0u8; 16];
    a.copy_from_slice(s);
    a
}

/// The SRTP key derivation labels (RFC 3711 §4.3.1 and §4.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Label {
    /// `k_e` for SRTP.
    RtpEncryption = 0x00,
    /// `k_a` for SRTP.
    RtpAuthentication = 0x01,
    /// `k_s` for SRTP.
    RtpSalt = 0x02,
    /// `k_e` for SRTCP.
    RtcpEncryption = 0x03,
    /// `k_a` for SRTCP.
    RtcpAuthentication = 0x04,
    /// `k_s` for SRTCP.
    RtcpSalt = 0x05,
}

/// The AES-CM PRF of RFC 3711 §4.3.3 with key_derivation_rate 0: fills `out` with the
/// session key (or salt) of `label`.
///
/// `x = (label || r) XOR master_salt` with `r = 0`, right-aligned in the 112-bit salt, so the
/// label lands on byte 7; the PRF input is `x * 2^16`. A 96-bit salt (RFC 7714 §11) is
/// placed the same way, left-aligned, as libsrtp and the RFC 7714 vectors do.
/// `master_key` is 16 or 32 bytes (checked by [`super::MasterKey::new`]).
pub(crate) fn derive(master_key: &[u8], master_salt: &[u8], label: Label, out: &mut [u8]) {
    let mut iv = [0u8; 16];
    iv[..master_salt.len()].copy_from_slice(master_salt);
    iv[7] ^= label as u8;
    out.fill(0);
    if let Ok(c) = Aes256::new_from_slice(master_key) {
        ctr_xor(&c, &iv, out);
    } else {
        // Invariant: MasterKey::new only accepts 16- or 32-byte keys.
        let c = Aes128::new_from_slice(master_key).expect("master key is 16 or 32 bytes");
        ctr_xor(&c, &iv, out);
    }
}

/// HMAC-SHA1 (RFC 2104) keyed once per session: the SHA-1 states after the inner and
/// outer pad blocks are computed at key setup, so a packet costs only the compressions of
/// its own blocks, fed straight from the packet buffer (no copy but the last block).
#[derive(Clone)]
pub(crate) struct HmacSha1 {
    inner: [u32; 5],
    outer: [u32; 5],
}

/// SHA-1 initial state (FIPS 180-4 §5.3.1).
const SHA1_H0: [u32; 5] = [
    0x6745_2301,
    0xefcd_ab89,
    0x98ba_dcfe,
    0x1032_5476,
    0xc3d2_e1f0,
];

impl HmacSha1 {
    /// Keys HMAC-SHA1 with `key` (at most 64 bytes; SRTP uses 20).
    pub(crate) fn new(key: &[u8]) -> Self {
        debug_assert!(key.len() <= 64, "SRTP auth keys are 160 bits");
        let mut ipad = [0x36u8; 64];
        let mut opad = [0x5cu8; 64];
        for (i, k) in key.iter().take(64).enumerate() {
            ipad[i] ^= k;
            opad[i] ^= k;
        }
        let mut inner = SHA1_H0;
        sha1_compress(&mut inner, &[ipad]);
        let mut outer = SHA1_H0;
        sha1_compress(&mut outer, &[opad]);
        Self { inner, outer }
    }

    /// HMAC-SHA1 of `data || trailer`, `trailer` at most 4 bytes (the SRTP ROC).
    #[inline]
    pub(crate) fn tag(&self, data: &[u8], trailer: &[u8]) -> [u8; 20] {
        debug_assert!(trailer.len() <= 4);
        let t = trailer.len().min(4);
        let mut st = self.inner;
        // The message length includes the ipad block.
        let bits = ((64 + data.len() + t) as u64) * 8;
        let (full, rest) = data.as_chunks::<64>();
        if !full.is_empty() {
            sha1_compress(&mut st, full);
        }
        // Last block(s): rest || trailer || 0x80 || zeros || bit length.
        let mut last = [0u8; 128];
        let r = rest.len();
        last[..r].copy_from_slice(rest);
        last[r..r + t].copy_from_slice(&trailer[..t]);
        last[r + t] = 0x80;
        let nblocks = if r + t + 1 + 8 <= 64 { 1 } else { 2 };
        last[nblocks * 64 - 8..nblocks * 64].copy_from_slice(&bits.to_be_bytes());
        let (blocks, _) = last[..nblocks * 64].as_chunks::<64>();
        sha1_compress(&mut st, blocks);
        self.outer(st)
    }

    /// The outer hash over the inner digest in state `st`.
    #[inline]
    fn outer(&self, st: [u32; 5]) -> [u8; 20] {
        let mut ob = [0u8; 64];
        for (o, w) in ob.chunks_exact_mut(4).zip(st) {
            o.copy_from_slice(&w.to_be_bytes());
        }
        ob[20] = 0x80;
        ob[56..].copy_from_slice(&((64u64 + 20) * 8).to_be_bytes());
        let mut st = self.outer;
        sha1_compress(&mut st, &[ob]);
        let mut out = [0u8; 20];
        for (o, w) in out.chunks_exact_mut(4).zip(st) {
            o.copy_from_slice(&w.to_be_bytes());
        }
        out
    }
}

/// Compares two byte strings in time that depends only on their lengths.
#[inline]
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut d = 0u8;
    for (x, y) in a.iter().zip(b) {
        d |= x ^ y;
    }
    core::hint::black_box(d) == 0
}

/// GCM counter mode (NIST SP 800-38D §6.5, §7.1) for a 96-bit IV: returns `E(K, J0)` (the
/// tag mask) and XORs the keystream from `inc32(J0)` on into `data`, all in one run of
/// AES calls. `j0` is `IV || 0x00000001`.
#[inline]
pub(crate) fn gcm_ctr<C>(cipher: &C, j0: &[u8; 16], data: &mut [u8]) -> [u8; 16]
where
    C: BlockEncrypt + BlockSizeUser<BlockSize = U16>,
{
    let j0 = u128::from_be_bytes(*j0);
    let high = j0 & !0xffff_ffff;
    let low = j0 as u32;
    let total = 1 + data.len().div_ceil(16);
    let mut blocks = [GenericArray::<u8, U16>::default(); BATCH];
    let mut mask = [0u8; 16];
    let mut done = 0;
    let mut rest = data;
    while done < total {
        let n = (total - done).min(BATCH);
        for (j, b) in blocks[..n].iter_mut().enumerate() {
            // inc32: only the low 32 bits count (wrapping mod 2^32).
            let c = high | u128::from(low.wrapping_add((done + j) as u32));
            b.copy_from_slice(&c.to_be_bytes());
        }
        cipher.encrypt_blocks(&mut blocks[..n]);
        let mut keys = blocks[..n].iter();
        if done == 0 {
            // Invariant: n >= 1 since total >= 1.
            mask.copy_from_slice(keys.next().expect("first batch has J0"));
        }
        for k in keys {
            let m = rest.len().min(16);
            let (d, tail) = core::mem::take(&mut rest).split_at_mut(m);
            if m == 16 {
                let x = u128::from_ne_bytes(to16(d)) ^ u128::from_ne_bytes(to16(k));
                d.copy_from_slice(&x.to_ne_bytes());
            } else {
                for (a, b) in d.iter_mut().zip(k.iter()) {
                    *a ^= b;
                }
            }
            rest = tail;
        }
        done += n;
    }
    mask
}
