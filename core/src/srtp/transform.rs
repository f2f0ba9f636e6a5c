//! The packet transforms: AES-CM + HMAC-SHA1 (RFC 3711 §3.3, §3.4, §4.1.1, §4.2.1) and
//! AEAD AES-GCM (RFC 7714 §8, §9), for SRTP and SRTCP.
//!
//! Inputs: a packet buffer whose header the caller has already parsed and bounds-checked,
//! the SSRC, ROC/index. Outputs: the buffer transformed in place, tags written after the
//! payload. Each transform holds its session keys pre-expanded (AES round keys, HMAC
//! pads, GHASH key), so a packet costs no key setup and no allocation.

use super::crypto::{Aes08, HmacSha1, Label, ct_eq, ctr_xor, derive};
use super::{Error, MasterKey, Profile};
use aes_gcm::aead::AeadInOut;
use aes_gcm::{AesGcm, Nonce, Tag};

/// AES-128-GCM over the `aes` 0.8 AES-NI pipeline (see [`Aes08`]).
type Aes128Gcm = AesGcm<Aes08<aes08::Aes128Enc>, aes_gcm::aead::consts::U12>;
/// AES-256-GCM over the `aes` 0.8 AES-NI pipeline (see [`Aes08`]).
type Aes256Gcm = AesGcm<Aes08<aes08::Aes256Enc>, aes_gcm::aead::consts::U12>;
use aes08::Aes128Enc;

/// SRTCP E flag (RFC 3711 §3.4).
const E_FLAG: u32 = 0x8000_0000;

/// AES-CM + HMAC-SHA1 session keys of one of SRTP or SRTCP.
pub(crate) struct CmSha1 {
    aes: Aes128Enc,
    mac: HmacSha1,
    salt: [u8; 14],
    tag_len: usize,
}

/// AES-GCM session keys of one of SRTP or SRTCP.
pub(crate) struct Gcm<A> {
    aead: A,
    salt: [u8; 12],
}

/// The session transform of one of SRTP or SRTCP.
#[allow(clippy::large_enum_variant)] // One per context, never moved on the packet path.
pub(crate) enum Transform {
    CmSha1(CmSha1),
    Gcm128(Gcm<Aes128Gcm>),
    Gcm256(Gcm<Aes256Gcm>),
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
fn gcm_iv(salt: &[u8; 12], ssrc: u32, tail: [u8; 6]) -> Nonce<aes_gcm::aead::consts::U12> {
    let mut iv = [0u8; 12];
    iv[2..6].copy_from_slice(&ssrc.to_be_bytes());
    iv[6..].copy_from_slice(&tail);
    for (a, b) in iv.iter_mut().zip(salt) {
        *a ^= b;
    }
    Nonce::from(iv)
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

impl<A: AeadInOut<NonceSize = aes_gcm::aead::consts::U12, TagSize = aes_gcm::aead::consts::U16>>
    Gcm<A>
{
    #[inline]
    fn seal(&self, buf: &mut [u8], aad_len: usize, len: usize, nonce: &Nonce<A::NonceSize>) {
        let (aad, rest) = buf.split_at_mut(aad_len);
        let (payload, tail) = rest.split_at_mut(len - aad_len);
        // Invariant: packets are at most MAX_PACKET_LEN, far below the GCM limits.
        let tag = self
            .aead
            .encrypt_inout_detached(nonce, aad, payload.into())
            .expect("packet within GCM length limits");
        tail[..16].copy_from_slice(&tag);
    }
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
        use aes08::cipher::KeyInit as _;
        if let Ok(aes) = aes08::Aes256Enc::new_from_slice(k_e) {
            Self::Gcm256(Gcm {
                aead: Aes256Gcm::from(Aes08(aes)),
                salt: *k_s,
            })
        } else {
            // Invariant: callers pass the profile's key length, 16 or 32 bytes.
            let aes = aes08::Aes128Enc::new_from_slice(k_e).expect("GCM key is 16 or 32 bytes");
            Self::Gcm128(Gcm {
                aead: Aes128Gcm::from(Aes08(aes)),
                salt: *k_s,
            })
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
            Self::Gcm128(t) => t.seal(buf, hlen, len, &gcm_iv(&t.salt, ssrc, rtp_tail(roc, seq))),
            Self::Gcm256(t) => t.seal(buf, hlen, len, &gcm_iv(&t.salt, ssrc, rtp_tail(roc, seq))),
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
            Self::Gcm128(t) => open(
                &t.aead,
                buf,
                hlen,
                len,
                &gcm_iv(&t.salt, ssrc, rtp_tail(roc, seq)),
            ),
            Self::Gcm256(t) => open(
                &t.aead,
                buf,
                hlen,
                len,
                &gcm_iv(&t.salt, ssrc, rtp_tail(roc, seq)),
            ),
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

/// GCM open of `buf = aad(aad_len) || ciphertext || tag(16)`, `len` = without the tag.
#[inline]
fn open<A: AeadInOut<TagSize = aes_gcm::aead::consts::U16>>(
    aead: &A,
    buf: &mut [u8],
    aad_len: usize,
    len: usize,
    nonce: &Nonce<A::NonceSize>,
) -> Result<(), Error> {
    let (aad, rest) = buf.split_at_mut(aad_len);
    let (ct, tag) = rest.split_at_mut(len - aad_len);
    let tag = Tag::try_from(&*tag).map_err(|_| Error::TooShort)?;
    aead.decrypt_inout_detached(nonce, aad, ct.into(), &tag)
        .map_err(|_| Error::AuthenticationFailed)
}

/// SRTCP with GCM (RFC 7714 §9): AAD = header(8) || E+index; packet = header || ciphertext
/// || tag || E+index.
#[inline]
fn gcm_protect_rtcp<
    A: AeadInOut<NonceSize = aes_gcm::aead::consts::U12, TagSize = aes_gcm::aead::consts::U16>,
>(
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
    let nonce = gcm_iv(&t.salt, ssrc, rtcp_tail(index));
    let (payload, tail) = buf[8..].split_at_mut(len - 8);
    // Invariant: packets are at most MAX_PACKET_LEN, far below the GCM limits.
    let tag = t
        .aead
        .encrypt_inout_detached(&nonce, &aad, payload.into())
        .expect("packet within GCM length limits");
    tail[..16].copy_from_slice(&tag);
    tail[16..20].copy_from_slice(&word);
}

#[inline]
fn gcm_unprotect_rtcp<
    A: AeadInOut<NonceSize = aes_gcm::aead::consts::U12, TagSize = aes_gcm::aead::consts::U16>,
>(
    t: &Gcm<A>,
    buf: &mut [u8],
    len: usize,
    ssrc: u32,
    word: u32,
    encrypted: bool,
    index: u32,
) -> Result<(), Error> {
    let nonce = gcm_iv(&t.salt, ssrc, rtcp_tail(index));
    let w = word.to_be_bytes();
    if encrypted {
        let mut aad = [0u8; 12];
        aad[..8].copy_from_slice(&buf[..8]);
        aad[8..].copy_from_slice(&w);
        let (ct, tail) = buf[8..].split_at_mut(len - 8);
        let tag = Tag::try_from(&tail[..16]).map_err(|_| Error::TooShort)?;
        t.aead
            .decrypt_inout_detached(&nonce, &aad, ct.into(), &tag)
            .map_err(|_| Error::AuthenticationFailed)
    } else {
        // RFC 7714 §9.3: unencrypted SRTCP authenticates `packet || E+index` as AAD with an
        // empty plaintext. Move the word next to the packet to make the AAD contiguous.
        let tag = Tag::try_from(&buf[len..len + 16]).map_err(|_| Error::TooShort)?;
        buf[len..len + 4].copy_from_slice(&w);
        let r = t
            .aead
            .decrypt_inout_detached(&nonce, &buf[..len + 4], (&mut [][..]).into(), &tag)
            .map_err(|_| Error::AuthenticationFailed);
        buf[len..len + 16].copy_from_slice(&tag);
        r
    }
}
