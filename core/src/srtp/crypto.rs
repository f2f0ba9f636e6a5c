//! The cryptographic building blocks of SRTP: the AES counter-mode keystream (RFC 3711
//! §4.1.1), the AES-CM PRF used for key derivation (RFC 3711 §4.3.1, §4.3.3; RFC 7714 §11),
//! HMAC-SHA1 with precomputed pads (RFC 3711 §4.2.1) and a constant-time tag comparison.
//!
//! Inputs: keys, salts and 16-byte counter blocks. Outputs: keystream XORed in place into
//! caller buffers, derived session keys and authentication tags. Nothing here allocates.

use aes::cipher::{BlockCipherEncrypt, BlockSizeUser, KeyInit, consts::U16};
use aes::{Aes128, Aes256, Block};
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Number of AES blocks encrypted in one batch: the AES-NI backend pipelines 8 blocks.
const BATCH: usize = 8;

/// XORs the AES counter-mode keystream starting at counter block `iv` into `data`.
///
/// The counter is the low 16 bits of the block (RFC 3711 §4.1.1: the IV has its 16 low
/// bits zero, so `IV + j` never carries past them for `j < 2^16`). `data` must therefore be
/// at most 2^20 bytes; callers check packet lengths against [`super::MAX_PACKET_LEN`].
#[inline]
pub(crate) fn ctr_xor<C>(cipher: &C, iv: &[u8; 16], data: &mut [u8])
where
    C: BlockCipherEncrypt + BlockSizeUser<BlockSize = U16>,
{
    let mut ctr = u16::from_be_bytes([iv[14], iv[15]]);
    let mut blocks = [Block::default(); BATCH];
    for chunk in data.chunks_mut(BATCH * 16) {
        let n = chunk.len().div_ceil(16);
        // `chunk.len() <= BATCH * 16`, so `n <= BATCH`.
        let batch = &mut blocks[..n];
        for b in batch.iter_mut() {
            b[..14].copy_from_slice(&iv[..14]);
            b[14..].copy_from_slice(&ctr.to_be_bytes());
            ctr = ctr.wrapping_add(1);
        }
        cipher.encrypt_blocks(batch);
        for (d, k) in chunk.chunks_mut(16).zip(batch.iter()) {
            if d.len() == 16 {
                let x = u128::from_ne_bytes(to16(d)) ^ u128::from_ne_bytes(to16(k));
                d.copy_from_slice(&x.to_ne_bytes());
            } else {
                for (a, b) in d.iter_mut().zip(k.iter()) {
                    *a ^= b;
                }
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

/// HMAC-SHA1 keyed once per session: the inner and outer pad states are hashed at key
/// setup, so each packet costs a clone of the state plus the message blocks.
pub(crate) type HmacSha1 = Hmac<Sha1>;

/// Creates the keyed HMAC-SHA1 state for a 160-bit session authentication key.
pub(crate) fn hmac_sha1(key: &[u8]) -> HmacSha1 {
    // Invariant: HMAC accepts keys of any length.
    <HmacSha1 as KeyInit>::new_from_slice(key).expect("HMAC takes any key length")
}

/// Computes HMAC-SHA1 over `data || trailer` from the precomputed state.
#[inline]
pub(crate) fn hmac_sha1_tag(mac: &HmacSha1, data: &[u8], trailer: &[u8]) -> [u8; 20] {
    let mut m = mac.clone();
    m.update(data);
    m.update(trailer);
    m.finalize().into_bytes().into()
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
