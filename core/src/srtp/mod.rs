//! SRTP and SRTCP packet protection (RFC 3711), with the AES-GCM transforms of RFC 7714,
//! keys from DTLS-SRTP (RFC 5764 §4.2) or SDES (RFC 4568 §6.1).
//!
//! # Profiles
//! [`Profile`]: `AES_CM_128_HMAC_SHA1_80`, `AES_CM_128_HMAC_SHA1_32` (RFC 3711 §4.1.1,
//! §4.2.1, RFC 5764 §4.1.2), `AEAD_AES_128_GCM` and `AEAD_AES_256_GCM` (RFC 7714 §14).
//! Session keys are derived once with the AES-CM PRF and key_derivation_rate 0 (RFC 3711
//! §4.3); no MKI.
//!
//! # Inputs and outputs
//! A [`Context`] holds the session keys of *one direction* (one master key) and the state of
//! every SSRC seen in it: ROC and highest sequence number (§3.3.1), the SRTP and SRTCP
//! replay windows (§3.3.2, 128 packets) and the next SRTCP index (§3.4). Packets are
//! transformed in place in caller buffers:
//!
//! - [`Context::protect_rtp`]`(buf, len)`: `buf[..len]` is an RTP packet; the payload is
//!   encrypted in place and the tag appended, `buf` must have room for
//!   [`Profile::rtp_overhead`] more bytes. Returns the SRTP length.
//! - [`Context::unprotect_rtp`]`(buf)`: `buf` is exactly one SRTP packet; it is
//!   authenticated, replay-checked and decrypted in place. Returns the RTP length.
//! - [`Context::protect_rtcp`] / [`Context::unprotect_rtcp`]: the same for (S)RTCP
//!   (§3.4, RFC 7714 §9), with [`Profile::rtcp_overhead`] = E-flag/index word + tag.
//!
//! Nothing on the packet path allocates: the per-SSRC table is allocated once, with room
//! for [`Context::with_max_streams`] streams (default [`DEFAULT_MAX_STREAMS`]). A stream is
//! only created on receive after its first packet authenticated, so a peer cannot fill it
//! with forged SSRCs. Peer input never panics.
//!
//! # Keys
//! [`DtlsSrtpKeys::from_exporter`] splits the `EXTRACTOR-dtls_srtp` output (RFC 5764 §4.2)
//! into the local and remote [`MasterKey`]; [`SdesKey::parse`] reads an RFC 4568 `inline:`
//! key.

mod crypto;
mod replay;
mod sdes;
mod transform;

pub use replay::REPLAY_WINDOW;
pub use sdes::{SdesKey, decode_base64};

use alloc::vec::Vec;
use core::fmt;
use replay::{Replay, ReplayWindow, RocState};
use transform::Transform;

/// Default number of SSRCs one [`Context`] tracks.
pub const DEFAULT_MAX_STREAMS: usize = 16;

/// Largest packet accepted, in bytes (the largest UDP payload; it also bounds the AES-CM
/// counter well below its 16-bit range).
pub const MAX_PACKET_LEN: usize = 65_535;

/// Errors of SRTP/SRTCP protection and key handling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The packet is shorter than its headers and tag.
    TooShort,
    /// The packet is longer than [`MAX_PACKET_LEN`].
    TooLong,
    /// The packet is not RTP/RTCP version 2.
    BadVersion,
    /// The caller's buffer has no room for the tag (and SRTCP index).
    BufferTooSmall,
    /// The authentication tag did not verify.
    AuthenticationFailed,
    /// The packet index was already received, or is older than the replay window.
    ReplayedPacket,
    /// A new SSRC would exceed the context's stream limit.
    TooManyStreams,
    /// The packet index space of the master key is used up (ROC or SRTCP index would
    /// wrap, RFC 3711 §9.2); rekey.
    KeyExhausted,
    /// A key, salt or keying material has the wrong length for the profile.
    InvalidKeyLength,
    /// SDES key parameters are malformed (RFC 4568 §9.2).
    InvalidKeyParams,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TooShort => "SRTP: packet too short",
            Self::TooLong => "SRTP: packet too long",
            Self::BadVersion => "SRTP: not an RTP version 2 packet",
            Self::BufferTooSmall => "SRTP: buffer too small for the authentication tag",
            Self::AuthenticationFailed => "SRTP: authentication failed",
            Self::ReplayedPacket => "SRTP: replayed or too old packet",
            Self::TooManyStreams => "SRTP: too many SSRCs in one context",
            Self::KeyExhausted => "SRTP: packet index space exhausted, rekey",
            Self::InvalidKeyLength => "SRTP: wrong key or salt length",
            Self::InvalidKeyParams => "SRTP: malformed SDES key parameters",
        })
    }
}

impl core::error::Error for Error {}

/// An SRTP protection profile (RFC 5764 §4.1.2, RFC 7714 §14.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Profile {
    /// `AES_CM_128_HMAC_SHA1_80` / `SRTP_AES128_CM_HMAC_SHA1_80`: 80-bit tags.
    Aes128CmHmacSha1_80,
    /// `AES_CM_128_HMAC_SHA1_32` / `SRTP_AES128_CM_HMAC_SHA1_32`: 32-bit SRTP tags, 80-bit
    /// SRTCP tags.
    Aes128CmHmacSha1_32,
    /// `AEAD_AES_128_GCM` (RFC 7714): 16-byte tags.
    AeadAes128Gcm,
    /// `AEAD_AES_256_GCM` (RFC 7714): 16-byte tags.
    AeadAes256Gcm,
}

impl Profile {
    /// All profiles, in order of preference.
    pub const ALL: [Self; 4] = [
        Self::AeadAes128Gcm,
        Self::AeadAes256Gcm,
        Self::Aes128CmHmacSha1_80,
        Self::Aes128CmHmacSha1_32,
    ];

    /// Master key length in bytes.
    pub const fn master_key_len(self) -> usize {
        match self {
            Self::AeadAes256Gcm => 32,
            _ => 16,
        }
    }

    /// Master salt length in bytes (112 bits for AES-CM, 96 bits for GCM).
    pub const fn master_salt_len(self) -> usize {
        match self {
            Self::Aes128CmHmacSha1_80 | Self::Aes128CmHmacSha1_32 => 14,
            Self::AeadAes128Gcm | Self::AeadAes256Gcm => 12,
        }
    }

    /// Authentication tag length of SRTP packets.
    pub const fn rtp_tag_len(self) -> usize {
        match self {
            Self::Aes128CmHmacSha1_80 => 10,
            Self::Aes128CmHmacSha1_32 => 4,
            Self::AeadAes128Gcm | Self::AeadAes256Gcm => 16,
        }
    }

    /// Authentication tag length of SRTCP packets (80 bits for both SHA1 profiles,
    /// RFC 5764 §4.1.2).
    pub const fn rtcp_tag_len(self) -> usize {
        match self {
            Self::Aes128CmHmacSha1_80 | Self::Aes128CmHmacSha1_32 => 10,
            Self::AeadAes128Gcm | Self::AeadAes256Gcm => 16,
        }
    }

    /// Bytes [`Context::protect_rtp`] adds to a packet.
    pub const fn rtp_overhead(self) -> usize {
        self.rtp_tag_len()
    }

    /// Bytes [`Context::protect_rtcp`] adds to a packet (E flag + index word and tag).
    pub const fn rtcp_overhead(self) -> usize {
        self.rtcp_tag_len() + 4
    }

    /// The DTLS-SRTP protection profile identifier (RFC 5764 §4.1.2, RFC 7714 §14.2).
    pub const fn dtls_id(self) -> u16 {
        match self {
            Self::Aes128CmHmacSha1_80 => 0x0001,
            Self::Aes128CmHmacSha1_32 => 0x0002,
            Self::AeadAes128Gcm => 0x0007,
            Self::AeadAes256Gcm => 0x0008,
        }
    }

    /// The profile of a DTLS-SRTP identifier, if supported.
    pub const fn from_dtls_id(id: u16) -> Option<Self> {
        Some(match id {
            0x0001 => Self::Aes128CmHmacSha1_80,
            0x0002 => Self::Aes128CmHmacSha1_32,
            0x0007 => Self::AeadAes128Gcm,
            0x0008 => Self::AeadAes256Gcm,
            _ => return None,
        })
    }

    /// The SDES crypto-suite name (RFC 4568 §6.2, RFC 7714 §14.1).
    pub const fn sdes_name(self) -> &'static str {
        match self {
            Self::Aes128CmHmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            Self::Aes128CmHmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
            Self::AeadAes128Gcm => "AEAD_AES_128_GCM",
            Self::AeadAes256Gcm => "AEAD_AES_256_GCM",
        }
    }

    /// The profile of an SDES crypto-suite name, if supported.
    pub fn from_sdes_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.sdes_name() == name)
    }

    /// Length of the DTLS exporter output this profile needs: two keys and two salts
    /// (RFC 5764 §4.2).
    pub const fn exporter_len(self) -> usize {
        2 * (self.master_key_len() + self.master_salt_len())
    }

    /// Whether this is an AEAD (GCM) profile.
    pub const fn is_aead(self) -> bool {
        matches!(self, Self::AeadAes128Gcm | Self::AeadAes256Gcm)
    }
}

/// A master key and master salt for one profile. `Debug` does not print the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey {
    profile: Profile,
    key: [u8; 32],
    salt: [u8; 14],
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    /// A master key from its parts.
    ///
    /// # Errors
    /// [`Error::InvalidKeyLength`] if `key` or `salt` has not the profile's length.
    pub fn new(profile: Profile, key: &[u8], salt: &[u8]) -> Result<Self, Error> {
        if key.len() != profile.master_key_len() || salt.len() != profile.master_salt_len() {
            return Err(Error::InvalidKeyLength);
        }
        let mut k = [0u8; 32];
        k[..key.len()].copy_from_slice(key);
        let mut s = [0u8; 14];
        s[..salt.len()].copy_from_slice(salt);
        Ok(Self {
            profile,
            key: k,
            salt: s,
        })
    }

    /// The profile this key is for.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The master key bytes.
    pub fn key(&self) -> &[u8] {
        &self.key[..self.profile.master_key_len()]
    }

    /// The master salt bytes.
    pub fn salt(&self) -> &[u8] {
        &self.salt[..self.profile.master_salt_len()]
    }
}

/// Which end of the DTLS handshake this endpoint was (RFC 5764 §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DtlsRole {
    /// The DTLS client: sends with `client_write_*`.
    Client,
    /// The DTLS server: sends with `server_write_*`.
    Server,
}

/// The two master keys of a DTLS-SRTP association.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DtlsSrtpKeys {
    /// The key this endpoint protects with (outbound [`Context`]).
    pub local: MasterKey,
    /// The key the peer protects with (inbound [`Context`]).
    pub remote: MasterKey,
}

impl DtlsSrtpKeys {
    /// Splits the exporter output `client_write_SRTP_master_key | server_write_SRTP_master_key
    /// | client_write_SRTP_master_salt | server_write_SRTP_master_salt` (RFC 5764 §4.2).
    /// `material` must be [`Profile::exporter_len`] bytes, exported with the label
    /// `EXTRACTOR-dtls_srtp` and no context.
    ///
    /// # Errors
    /// [`Error::InvalidKeyLength`] if `material` has the wrong length.
    pub fn from_exporter(profile: Profile, material: &[u8], role: DtlsRole) -> Result<Self, Error> {
        if material.len() != profile.exporter_len() {
            return Err(Error::InvalidKeyLength);
        }
        let k = profile.master_key_len();
        let s = profile.master_salt_len();
        let (client_key, rest) = material.split_at(k);
        let (server_key, rest) = rest.split_at(k);
        let (client_salt, server_salt) = rest.split_at(s);
        let client = MasterKey::new(profile, client_key, client_salt)?;
        let server = MasterKey::new(profile, server_key, server_salt)?;
        Ok(match role {
            DtlsRole::Client => Self {
                local: client,
                remote: server,
            },
            DtlsRole::Server => Self {
                local: server,
                remote: client,
            },
        })
    }
}

/// Per-SSRC state (RFC 3711 §3.2.1 cryptographic context, minus the shared keys).
#[derive(Clone, Copy, Debug, Default)]
struct Stream {
    ssrc: u32,
    /// Sender side: ROC and highest sequence number protected.
    tx: RocState,
    /// Whether `tx` was initialized by a first protected packet.
    tx_started: bool,
    /// Next SRTCP index to send.
    tx_rtcp_index: u32,
    /// Receiver side: ROC and highest authenticated sequence number.
    rx: RocState,
    /// Whether `rx` was initialized by a first authenticated SRTP packet.
    rx_started: bool,
    /// SRTP replay window (over 48-bit packet indices).
    rx_window: ReplayWindow,
    /// SRTCP replay window (over 31-bit SRTCP indices).
    rx_rtcp_window: ReplayWindow,
}

/// One direction of an SRTP session: the session keys derived from one [`MasterKey`] and
/// the per-SSRC state. See the [module docs](self) for the buffer conventions.
pub struct Context {
    profile: Profile,
    rtp: Transform,
    rtcp: Transform,
    streams: Vec<Stream>,
    max_streams: usize,
    /// Index of the stream used last (most packets belong to it).
    last: usize,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("profile", &self.profile)
            .field("streams", &self.streams.len())
            .finish_non_exhaustive()
    }
}

/// The RTP fields SRTP needs (RFC 3550 §5.1), read with checked slicing.
#[inline]
fn rtp_header(buf: &[u8]) -> Result<(usize, u16, u32), Error> {
    let fixed = buf.get(..12).ok_or(Error::TooShort)?;
    if fixed[0] >> 6 != 2 {
        return Err(Error::BadVersion);
    }
    let cc = usize::from(fixed[0] & 0x0f);
    let seq = u16::from_be_bytes([fixed[2], fixed[3]]);
    let ssrc = u32::from_be_bytes([fixed[8], fixed[9], fixed[10], fixed[11]]);
    let mut hlen = 12 + 4 * cc;
    if fixed[0] & 0x10 != 0 {
        let ext = buf.get(hlen..hlen + 4).ok_or(Error::TooShort)?;
        hlen += 4 + 4 * usize::from(u16::from_be_bytes([ext[2], ext[3]]));
    }
    if hlen > buf.len() {
        return Err(Error::TooShort);
    }
    Ok((hlen, seq, ssrc))
}

/// The RTCP fields SRTCP needs: checks the version and returns the sender SSRC.
#[inline]
fn rtcp_ssrc(buf: &[u8]) -> Result<u32, Error> {
    let h = buf.get(..8).ok_or(Error::TooShort)?;
    if h[0] >> 6 != 2 {
        return Err(Error::BadVersion);
    }
    Ok(u32::from_be_bytes([h[4], h[5], h[6], h[7]]))
}

impl Context {
    /// A context for `master` tracking up to [`DEFAULT_MAX_STREAMS`] SSRCs.
    pub fn new(master: &MasterKey) -> Self {
        Self::with_max_streams(master, DEFAULT_MAX_STREAMS)
    }

    /// A context for `master` tracking up to `max_streams` SSRCs (allocated now, once).
    pub fn with_max_streams(master: &MasterKey, max_streams: usize) -> Self {
        let (rtp, rtcp) = Transform::derive(master);
        Self {
            profile: master.profile,
            rtp,
            rtcp,
            streams: Vec::with_capacity(max_streams),
            max_streams,
            last: 0,
        }
    }

    /// The profile of this context.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// Number of SSRCs this context has state for.
    pub fn stream_count(&self) -> usize {
        self.streams.len()
    }

    /// Capacity of the SSRC table (it never grows past it).
    pub fn stream_capacity(&self) -> usize {
        self.streams.capacity()
    }

    /// The receive-side ROC of `ssrc`, if the SSRC is known.
    pub fn rx_roc(&self, ssrc: u32) -> Option<u32> {
        self.streams
            .iter()
            .find(|s| s.ssrc == ssrc)
            .map(|s| s.rx.roc)
    }

    /// The send-side ROC of `ssrc`, if the SSRC is known.
    pub fn tx_roc(&self, ssrc: u32) -> Option<u32> {
        self.streams
            .iter()
            .find(|s| s.ssrc == ssrc)
            .map(|s| s.tx.roc)
    }

    #[inline]
    fn find(&mut self, ssrc: u32) -> Option<usize> {
        if self.streams.get(self.last).is_some_and(|s| s.ssrc == ssrc) {
            return Some(self.last);
        }
        let i = self.streams.iter().position(|s| s.ssrc == ssrc)?;
        self.last = i;
        Some(i)
    }

    fn insert(&mut self, stream: Stream) -> Result<usize, Error> {
        if self.streams.len() >= self.max_streams {
            return Err(Error::TooManyStreams);
        }
        // Within the capacity reserved in `with_max_streams`: no reallocation.
        self.streams.push(stream);
        self.last = self.streams.len() - 1;
        Ok(self.last)
    }

    /// Protects the RTP packet in `buf[..len]` in place and appends the tag; returns the
    /// SRTP packet length (`len + profile.rtp_overhead()`).
    ///
    /// # Errors
    /// [`Error::TooShort`]/[`Error::BadVersion`] for a malformed header,
    /// [`Error::BufferTooSmall`] if `buf` has no room for the tag, [`Error::TooManyStreams`],
    /// [`Error::KeyExhausted`], [`Error::ReplayedPacket`] for a sequence number that reads
    /// as before the first one sent while the ROC is 0 (its index would be negative).
    pub fn protect_rtp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Error> {
        if len > MAX_PACKET_LEN {
            return Err(Error::TooLong);
        }
        let tag_len = self.profile.rtp_tag_len();
        let out_len = len + tag_len;
        if out_len > buf.len() {
            return Err(Error::BufferTooSmall);
        }
        let (hlen, seq, ssrc) = rtp_header(&buf[..len])?;
        let i = match self.find(ssrc) {
            Some(i) => i,
            None => self.insert(Stream {
                ssrc,
                ..Stream::default()
            })?,
        };
        let st = &mut self.streams[i];
        if !st.tx_started {
            st.tx = RocState { roc: 0, s_l: seq };
            st.tx_started = true;
        }
        // No index: either before ROC 0 (at the start of the stream, a sequence number that
        // reads as behind the first one; libsrtp refuses it as a replay too) or past ROC
        // 2^32 - 1.
        let (v, index) = st.tx.estimate(seq).ok_or(if st.tx.roc == 0 {
            Error::ReplayedPacket
        } else {
            Error::KeyExhausted
        })?;
        st.tx.update(v, seq);
        self.rtp
            .protect_rtp(&mut buf[..out_len], hlen, len, ssrc, v, seq, index);
        Ok(out_len)
    }

    /// Authenticates, replay-checks and decrypts the SRTP packet `buf` in place; returns
    /// the RTP packet length (`buf[..n]` is the plaintext packet).
    ///
    /// # Errors
    /// [`Error::TooShort`]/[`Error::BadVersion`]/[`Error::TooLong`] for malformed packets,
    /// [`Error::ReplayedPacket`], [`Error::AuthenticationFailed`] (then `buf` is unchanged),
    /// [`Error::TooManyStreams`] for an authentic packet of a new SSRC when the table is
    /// full.
    pub fn unprotect_rtp(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if buf.len() > MAX_PACKET_LEN {
            return Err(Error::TooLong);
        }
        let tag_len = self.profile.rtp_tag_len();
        let len = buf.len().checked_sub(tag_len).ok_or(Error::TooShort)?;
        let (hlen, seq, ssrc) = rtp_header(&buf[..len])?;
        let found = self.find(ssrc);
        let (rx, window) = match found {
            Some(i) if self.streams[i].rx_started => {
                (self.streams[i].rx, self.streams[i].rx_window)
            }
            _ => {
                if found.is_none() && self.streams.len() >= self.max_streams {
                    return Err(Error::TooManyStreams);
                }
                // RFC 3711 §3.3.1: a new receiver starts with ROC 0 and s_l = SEQ.
                (RocState { roc: 0, s_l: seq }, ReplayWindow::default())
            }
        };
        let (v, index) = rx.estimate(seq).ok_or(Error::ReplayedPacket)?;
        window
            .check(index)
            .map_err(|_: Replay| Error::ReplayedPacket)?;
        self.rtp
            .unprotect_rtp(buf, hlen, len, ssrc, v, seq, index)?;
        let i = match found {
            Some(i) => i,
            None => self.insert(Stream {
                ssrc,
                ..Stream::default()
            })?,
        };
        let st = &mut self.streams[i];
        if !st.rx_started {
            st.rx = rx;
            st.rx_started = true;
        }
        st.rx.update(v, seq);
        st.rx_window.accept(index);
        Ok(len)
    }

    /// Protects the RTCP compound packet in `buf[..len]` in place, appending the E flag and
    /// SRTCP index word and the tag (RFC 3711 §3.4, RFC 7714 §9); returns the SRTCP length
    /// (`len + profile.rtcp_overhead()`).
    ///
    /// # Errors
    /// As [`Self::protect_rtp`]; [`Error::KeyExhausted`] after 2^31 packets of one SSRC.
    pub fn protect_rtcp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, Error> {
        if len > MAX_PACKET_LEN {
            return Err(Error::TooLong);
        }
        let out_len = len + self.profile.rtcp_overhead();
        if out_len > buf.len() {
            return Err(Error::BufferTooSmall);
        }
        let ssrc = rtcp_ssrc(&buf[..len])?;
        let i = match self.find(ssrc) {
            Some(i) => i,
            None => self.insert(Stream {
                ssrc,
                ..Stream::default()
            })?,
        };
        let st = &mut self.streams[i];
        let index = st.tx_rtcp_index;
        if index > 0x7fff_ffff {
            return Err(Error::KeyExhausted);
        }
        st.tx_rtcp_index = index + 1;
        self.rtcp
            .protect_rtcp(&mut buf[..out_len], len, ssrc, index);
        Ok(out_len)
    }

    /// Authenticates, replay-checks and (if the E flag is set) decrypts the SRTCP packet
    /// `buf` in place; returns the RTCP length.
    ///
    /// # Errors
    /// As [`Self::unprotect_rtp`].
    pub fn unprotect_rtcp(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if buf.len() > MAX_PACKET_LEN {
            return Err(Error::TooLong);
        }
        let trailer = self.profile.rtcp_overhead();
        let len = buf.len().checked_sub(trailer).ok_or(Error::TooShort)?;
        let ssrc = rtcp_ssrc(&buf[..len])?;
        let word_at = if self.profile.is_aead() {
            buf.len() - 4
        } else {
            len
        };
        let word = u32::from_be_bytes([
            buf[word_at],
            buf[word_at + 1],
            buf[word_at + 2],
            buf[word_at + 3],
        ]);
        let encrypted = word & 0x8000_0000 != 0;
        let index = word & 0x7fff_ffff;
        let found = self.find(ssrc);
        let window = match found {
            Some(i) => self.streams[i].rx_rtcp_window,
            None => {
                if self.streams.len() >= self.max_streams {
                    return Err(Error::TooManyStreams);
                }
                ReplayWindow::default()
            }
        };
        window
            .check(u64::from(index))
            .map_err(|_: Replay| Error::ReplayedPacket)?;
        self.rtcp
            .unprotect_rtcp(buf, len, ssrc, word, encrypted, index)?;
        let i = match found {
            Some(i) => i,
            None => self.insert(Stream {
                ssrc,
                ..Stream::default()
            })?,
        };
        self.streams[i].rx_rtcp_window.accept(u64::from(index));
        Ok(len)
    }
}

#[cfg(test)]
mod tests;
