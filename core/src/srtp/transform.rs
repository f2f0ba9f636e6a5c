//! The packet transforms: AES-CM + HMAC-SHA1 (RFC 3711 §3.3, §3.4, §4.1.1, §4.2.1) and
//! AEAD AES-GCM (RFC 7714 §8, §9), for SRTP and SRTCP.
//!
//! Inputs: a packet buffer whose header the caller has already parsed and bounds-checked,
//! the SSRC, ROC/index. Outputs: the buffer transformed in place, tags written after the
//! payload. Each transform holds its session keys pre-expanded (AES round keys, HMAC
//! pads, GHASH key), so a packet costs no key setup and no allocation.

use super::crypto::{HmacSha1, Label, ct_eq, ctr_xor, derive, gcm_ctr};
use super::{Error, MasterKey, Profile};
use aes08::cipher::{BlockEncrypt, BlockSizeUser, KeyInit as _, consts::U16};
use aes08::{Aes128Enc, Aes256Enc};
use ghash::GHash;
use ghash::universal_hash::UniversalHash;

/// SRTCP E flag (RFC 3711 §3.4).
const E_FLAG: u32 = 0x8000_0000;

/// AES-CM + HMAC-SHA1 session keys of one of SRTP or SRTCP.
pub(crate) struct CmSha1 {
    aes: Aes128Enc,
    mac: HmacSha1,
    salt: [u8; 14],
    tag_len: usize,
}

/// AES-GCM session keys of one of SRTP or SRTCP: the AES key schedule and the GHASH key
/// `H = E(K, 0^128)` (NIST SP 800-38D §7.1), set up once.
pub(crate) struct Gcm<A> {
    aes: A,
    ghash: GHash,
    salt: [u8; 12],
}

/// The session transform of one of SRTP or SRTCP.
#[allow(clippy::large_enum_variant)] // One per context, never moved on the packet path.
pub(crate) enum Transform {
    CmSha1(CmSha1),
    Gcm128(Gcm<Aes128Enc>),
    Gcm256(Gcm<Aes256Enc>),
}

/// The AES-CM counter block `(k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16)`
/// (RFC 3711 §4.1.1); for SRTCP `i` is the SRTCP index.
#[inline]
fn cm_iv(salt: &[u8; 14], ssrc: u32, index: u64) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..14].copy_from_slice(salt);
    for (a, b) in iv[4..8].iter_mut().zip(ssrc.to_be_bytes()) {
        *a ^= b;
    }
    for (a, b) in iv[8..14].iter_mut().zip(&index.to_be_bytes()[2..]) {
        *a ^= b;
    }
    iv
}

/// The GCM IV: `(0x0000 || SSRC || x) XOR salt` with `x` = `ROC || SEQ` for SRTP
/// (RFC 7714 §8.1) and `0x0000 || SRTCP index` for SRTCP (§9.1).
#[inline]
fn gcm_iv(salt: &[u8; 12], ssrc: u32, tail: [u8; 6]) -> [u8; 12] {
    let mut iv = [0u8; 12];
    iv[2..6].copy_from_slice(&ssrc.to_be_bytes());
    iv[6..].copy_from_slice(&tail);
    for (a, b) in iv.iter_mut().zip(salt) {
        *a ^= b;
    }
    iv
}

/// `ROC || SEQ` (SRTP) as the last 6 IV bytes.
#[inline]
fn rtp_tail(roc: u32, seq: u16) -> [u8; 6] {
    let r = roc.to_be_bytes();
    let s = seq.to_be_bytes();
    [r[0], r[1], r[2], r[3], s[0], s[1]]
}

/// `0x0000 || index` (SRTCP) as the last 6 IV bytes.
#[inline]
fn rtcp_tail(index: u32) -> [u8; 6] {
    let i = index.to_be_bytes();
    [0, 0, i[0], i[1], i[2], i[3]]
}

impl<A: BlockEncrypt + BlockSizeUser<BlockSize = U16>> Gcm<A> {
    fn new(aes: A, salt: [u8; 12]) -> Self {
        let mut h = aes08::Block::default();
        aes.encrypt_block(&mut h);
        let ghash = GHash::new(&ghash::Key::from(<[u8; 16]>::from(h)));
        Self { aes, ghash, salt }
    }

    /// `GHASH(H, A, C)` over AAD `aad` and ciphertext `ct` (the tag before the mask).
    #[inline]
    fn ghash(&self, aad: &[u8], ct: &[u8]) -> u128 {
        let mut g = self.ghash.clone();
        g.update_padded(aad);
        g.update_padded(ct);
        let mut lens = [0u8; 16];
        lens[..8].copy_from_slice(&((aad.len() as u64) * 8).to_be_bytes());
        lens[8..].copy_from_slice(&((ct.len() as u64) * 8).to_be_bytes());
        g.update(&[lens.into()]);
        let s: [u8; 16] = g.finalize().into();
        u128::from_ne_bytes(s)
    }

    /// Encrypts `data` in place and returns the tag (AAD `aad`, 96-bit IV `iv`).
    #[inline]
    pub(crate) fn seal(&self, iv: &[u8; 12], aad: &[u8], data: &mut [u8]) -> [u8; 16] {
        let mask = gcm_ctr(&self.aes, &j0(iv), data);
        (self.ghash(aad, data) ^ u128::from_ne_bytes(mask)).to_ne_bytes()
    }

    /// Verifies `tag` over `aad` and the ciphertext `data` and decrypts `data` in place.
    /// GHASH runs over the ciphertext first; the tag mask comes out of the same AES run that
    /// decrypts. On a bad tag `data` is encrypted back, so it is left unchanged.
    #[inline]
    fn open(&self, iv: &[u8; 12], aad: &[u8], data: &mut [u8], tag: &[u8]) -> Result<(), Error> {
        let j0 = j0(iv);
        let s = self.ghash(aad, data);
        let mask = gcm_ctr(&self.aes, &j0, data);
        let want = (s ^ u128::from_ne_bytes(mask)).to_ne_bytes();
        if !ct_eq(&want, tag) {
            gcm_ctr(&self.aes, &j0, data);
            return Err(Error::AuthenticationFailed);
        }
        Ok(())
    }
}

/// `J0 = IV || 0^31 || 1` for a 96-bit IV (NIST SP 800-38D §7.1).
#[inline]
fn j0(iv: &[u8; 12]) -> [u8; 16] {
    let mut j = [0u8; 16];
    j[..12].copy_from_slice(iv);
    j[15] = 1;
    j
}

impl Transform {
    /// Derives the SRTP and SRTCP session transforms from a master key (RFC 3711 §4.3,
    /// RFC 7714 §11).
    pub(crate) fn derive(master: &MasterKey) -> (Self, Self) {
        let mk = master.key();
        let ms = master.salt();
        let p = master.profile();
        let cm = |enc, auth, salt, tag_len| {
            let mut k = [0u8; 16];
            let mut a = [0u8; 20];
            let mut s = [0u8; 14];
            derive(mk, ms, enc, &mut k);
            derive(mk, ms, auth, &mut a);
            derive(mk, ms, salt, &mut s);
            Self::cm_from_session(&k, &a, &s, tag_len)
        };
        let gcm = |enc, salt| {
            let mut k = [0u8; 32];
            let k = &mut k[..p.master_key_len()];
            let mut s = [0u8; 12];
            derive(mk, ms, enc, k);
            derive(mk, ms, salt, &mut s);
            Self::gcm_from_session(k, &s)
        };
        match p {
            Profile::Aes128CmHmacSha1_80 | Profile::Aes128CmHmacSha1_32 => (
                cm(
                    Label::RtpEncryption,
                    Label::RtpAuthentication,
                    Label::RtpSalt,
                    p.rtp_tag_len(),
                ),
                cm(
                    Label::RtcpEncryption,
                    Label::RtcpAuthentication,
                    Label::RtcpSalt,
                    p.rtcp_tag_len(),
                ),
            ),
            Profile::AeadAes128Gcm | Profile::AeadAes256Gcm => (
                gcm(Label::RtpEncryption, Label::RtpSalt),
                gcm(Label::RtcpEncryption, Label::RtcpSalt),
            ),
        }
    }

    /// An AES-CM/HMAC-SHA1 transform from session keys (16-byte `k_e`, `k_a`, 14-byte `k_s`).
    pub(crate) fn cm_from_session(
        k_e: &[u8; 16],
        k_a: &[u8],
        k_s: &[u8; 14],
        tag_len: usize,
    ) -> Self {
        Self::CmSha1(CmSha1 {
            aes: <Aes128Enc as aes08::cipher::KeyInit>::new(&(*k_e).into()),
            mac: HmacSha1::new(k_a),
            salt: *k_s,
            tag_len,
        })
    }

    /// An AES-GCM transform from session keys (16- or 32-byte `k_e`, 12-byte `k_s`).
    pub(crate) fn gcm_from_session(k_e: &[u8], k_s: &[u8; 12]) -> Self {
        if let Ok(aes) = Aes256Enc::new_from_slice(k_e) {
            Self::Gcm256(Gcm::new(aes, *k_s))
        } else {
            // Invariant: callers pass the profile's key length, 16 or 32 bytes.
            let aes = Aes128Enc::new_from_slice(k_e).expect("GCM key is 16 or 32 bytes");
            Self::Gcm128(Gcm::new(aes, *k_s))
        }
    }

    /// Protects an RTP packet: `buf` is `header(hlen) || payload || room for the tag`,
    /// `len` the RTP length; `buf.len()` is the SRTP length.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn protect_rtp(
        &self,
        buf: &mut [u8],
        hlen: usize,
        len: usize,
        ssrc: u32,
        roc: u32,
        seq: u16,
        index: u64,
    ) {
        match self {
            Self::CmSha1(t) => {
                ctr_xor(&t.aes, &cm_iv(&t.salt, ssrc, index), &mut buf[hlen..len]);
                let tag = t.mac.tag(&buf[..len], &roc.to_be_bytes());
                buf[len..len + t.tag_len].copy_from_slice(&tag[..t.tag_len]);
            }
            Self::Gcm128(t) => gcm_protect_rtp(t, buf, hlen, len, ssrc, roc, seq),
            Self::Gcm256(t) => gcm_protect_rtp(t, buf, hlen, len, ssrc, roc, seq),
        }
    }

    /// Verifies and decrypts an SRTP packet: `buf` is the SRTP packet, `len` the length
    /// without the tag. On failure `buf` is unchanged.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn unprotect_rtp(
        &self,
        buf: &mut [u8],
        hlen: usize,
        len: usize,
        ssrc: u32,
        roc: u32,
        seq: u16,
        index: u64,
    ) -> Result<(), Error> {
        match self {
            Self::CmSha1(t) => {
                let tag = t.mac.tag(&buf[..len], &roc.to_be_bytes());
                if !ct_eq(&tag[..t.tag_len], &buf[len..]) {
                    return Err(Error::AuthenticationFailed);
                }
                ctr_xor(&t.aes, &cm_iv(&t.salt, ssrc, index), &mut buf[hlen..len]);
                Ok(())
            }
            Self::Gcm128(t) => gcm_unprotect_rtp(t, buf, hlen, len, ssrc, roc, seq),
            Self::Gcm256(t) => gcm_unprotect_rtp(t, buf, hlen, len, ssrc, roc, seq),
        }
    }

    /// Protects an RTCP packet: `buf` is `packet(len) || room for trailer`, exactly the
    /// SRTCP length.
    #[inline]
    pub(crate) fn protect_rtcp(&self, buf: &mut [u8], len: usize, ssrc: u32, index: u32) {
        let word = (E_FLAG | index).to_be_bytes();
        match self {
            Self::CmSha1(t) => {
                ctr_xor(
                    &t.aes,
                    &cm_iv(&t.salt, ssrc, u64::from(index)),
                    &mut buf[8..len],
                );
                buf[len..len + 4].copy_from_slice(&word);
                let tag = t.mac.tag(&buf[..len + 4], &[]);
                buf[len + 4..len + 4 + t.tag_len].copy_from_slice(&tag[..t.tag_len]);
            }
            Self::Gcm128(t) => gcm_protect_rtcp(t, buf, len, ssrc, index, word),
            Self::Gcm256(t) => gcm_protect_rtcp(t, buf, len, ssrc, index, word),
        }
    }

    /// Verifies and (if `encrypted`) decrypts an SRTCP packet; `len` is the RTCP length,
    /// `word` the E flag and index word.
    #[inline]
    pub(crate) fn unprotect_rtcp(
        &self,
        buf: &mut [u8],
        len: usize,
        ssrc: u32,
        word: u32,
        encrypted: bool,
        index: u32,
    ) -> Result<(), Error> {
        match self {
            Self::CmSha1(t) => {
                let tag = t.mac.tag(&buf[..len + 4], &[]);
                if !ct_eq(&tag[..t.tag_len], &buf[len + 4..]) {
                    return Err(Error::AuthenticationFailed);
                }
                if encrypted {
                    ctr_xor(
                        &t.aes,
                        &cm_iv(&t.salt, ssrc, u64::from(index)),
                        &mut buf[8..len],
                    );
                }
                Ok(())
            }
            Self::Gcm128(t) => gcm_unprotect_rtcp(t, buf, len, ssrc, word, encrypted, index),
            Self::Gcm256(t) => gcm_unprotect_rtcp(t, buf, len, ssrc, word, encrypted, index),
        }
    }
}

/// SRTP with GCM (RFC 7714 §8): AAD = the RTP header; packet = header || ciphertext || tag.
#[inline]
#[allow(clippy::too_many_arguments)]
fn gcm_protect_rtp<A: BlockEncrypt + BlockSizeUser<BlockSize = U16>>(
    t: &Gcm<A>,
    buf: &mut [u8],
    hlen: usize,
    len: usize,
    ssrc: u32,
    roc: u32,
    seq: u16,
) {
    let iv = gcm_iv(&t.salt, ssrc, rtp_tail(roc, seq));
    let (aad, rest) = buf.split_at_mut(hlen);
    let (payload, tail) = rest.split_at_mut(len - hlen);
    let tag = t.seal(&iv, aad, payload);
    tail[..16].copy_from_slice(&tag);
}

#[inline]
#[allow(clippy::too_many_arguments)]
fn gcm_unprotect_rtp<A: BlockEncrypt + BlockSizeUser<BlockSize = U16>>(
    t: &Gcm<A>,
    buf: &mut [u8],
    hlen: usize,
    len: usize,
    ssrc: u32,
    roc: u32,
    seq: u16,
) -> Result<(), Error> {
    let iv = gcm_iv(&t.salt, ssrc, rtp_tail(roc, seq));
    let (aad, rest) = buf.split_at_mut(hlen);
    let (ct, tag) = rest.split_at_mut(len - hlen);
    t.open(&iv, aad, ct, tag)
}

/// SRTCP with GCM (RFC 7714 §9): AAD = header(8) || E+index; packet = header || ciphertext
/// || tag || E+index.
#[inline]
fn gcm_protect_rtcp<A: BlockEncrypt + BlockSizeUser<BlockSize = U16>>(
    t: &Gcm<A>,
    buf: &mut [u8],
    len: usize,
    ssrc: u32,
    index: u32,
    word: [u8; 4],
) {
    let mut aad = [0u8; 12];
    aad[..8].copy_from_slice(&buf[..8]);
    aad[8..].copy_from_slice(&word);
    let iv = gcm_iv(&t.salt, ssrc, rtcp_tail(index));
    let (payload, tail) = buf[8..].split_at_mut(len - 8);
    let tag = t.seal(&iv, &aad, payload);
    tail[..16].copy_from_slice(&tag);
    tail[16..20].copy_from_slice(&word);
}

#[inline]
fn gcm_unprotect_rtcp<A: BlockEncrypt + BlockSizeUser<BlockSize = U16>>(
    t: &Gcm<A>,
    buf: &mut [u8],
    len: usize,
    ssrc: u32,
    word: u32,
    encrypted: bool,
    index: u32,
) -> Result<(), Error> {
    let iv = gcm_iv(&t.salt, ssrc, rtcp_tail(index));
    let w = word.to_be_bytes();
    if encrypted {
        let mut aad = [0u8; 12];
        aad[..8].copy_from_slice(&buf[..8]);
        aad[8..].copy_from_slice(&w);
        let (ct, tail) = buf[8..].split_at_mut(len - 8);
        t.open(&iv, &aad, ct, &tail[..16])
    } else {
        // RFC 7714 §9.3: unencrypted SRTCP authenticates `packet || E+index` as AAD with an
        // empty plaintext. Move the word next to the packet to make the AAD contiguous.
        let mut tag = [0u8; 16];
        tag.copy_from_slice(&buf[len..len + 16]);
        buf[len..len + 4].copy_from_slice(&w);
        let r = t.open(&iv, &buf[..len + 4], &mut [], &tag);
        buf[len..len + 16].copy_from_slice(&tag);
        r
    }
}
