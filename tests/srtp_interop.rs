//! Interop of `rvoip::srtp` with the `webrtc-srtp` crate, both directions, for every
//! profile both support: SRTP across a sequence-number wrap (ROC 0 -> 1), with CSRCs and a
//! header extension, and SRTCP.

use rvoip::srtp::{Context, MasterKey, Profile};
use webrtc_srtp::context::Context as WContext;
use webrtc_srtp::protection_profile::ProtectionProfile as WProfile;

const PROFILES: [(Profile, WProfile); 4] = [
    (Profile::Aes128CmHmacSha1_80, WProfile::Aes128CmHmacSha1_80),
    (Profile::Aes128CmHmacSha1_32, WProfile::Aes128CmHmacSha1_32),
    (Profile::AeadAes128Gcm, WProfile::AeadAes128Gcm),
    (Profile::AeadAes256Gcm, WProfile::AeadAes256Gcm),
];

fn keys(p: Profile) -> (Vec<u8>, Vec<u8>) {
    (
        (0..p.master_key_len())
            .map(|i| (i * 37 + 5) as u8)
            .collect(),
        (0..p.master_salt_len())
            .map(|i| (i * 91 + 17) as u8)
            .collect(),
    )
}

fn ours(p: Profile) -> Context {
    let (k, s) = keys(p);
    Context::new(&MasterKey::new(p, &k, &s).unwrap())
}

fn theirs(p: Profile, wp: WProfile) -> WContext {
    let (k, s) = keys(p);
    WContext::new(
        &k,
        &s,
        wp,
        Some(webrtc_srtp::option::srtp_replay_protection(64)),
        Some(webrtc_srtp::option::srtcp_replay_protection(64)),
    )
    .unwrap()
}

/// An RTP packet; every third one has two CSRCs and a one-byte-header extension.
fn rtp(seq: u16, ssrc: u32) -> Vec<u8> {
    let fancy = seq.is_multiple_of(3);
    let mut p = vec![if fancy { 0x92 } else { 0x80 }, 0x6f];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    if fancy {
        p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2]);
        p.extend_from_slice(&[0xbe, 0xde, 0, 1, 0x10, 0x7f, 0, 0]);
    }
    p.extend((0..160u32).map(|i| (i as u16 ^ seq) as u8));
    p
}

fn rtcp(ssrc: u32, n: u8) -> Vec<u8> {
    // A sender report with no report blocks.
    let mut p = vec![0x80, 200, 0, 6];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(&[n; 20]);
    p
}

fn seqs() -> impl Iterator<Item = u16> {
    (65500..=65535).chain(0..40)
}

#[test]
fn rtp_ours_to_webrtc() {
    for (p, wp) in PROFILES {
        let mut tx = ours(p);
        let mut rx = theirs(p, wp);
        for seq in seqs() {
            let plain = rtp(seq, 0x1122_3344);
            let mut buf = vec![0u8; plain.len() + p.rtp_overhead()];
            buf[..plain.len()].copy_from_slice(&plain);
            let n = tx.protect_rtp(&mut buf, plain.len()).unwrap();
            let out = rx
                .decrypt_rtp(&buf[..n])
                .unwrap_or_else(|e| panic!("{p:?} seq {seq}: {e}"));
            assert_eq!(&out[..], &plain[..], "{p:?} seq {seq}");
        }
        assert_eq!(tx.tx_roc(0x1122_3344), Some(1));
    }
}

#[test]
fn rtp_webrtc_to_ours() {
    for (p, wp) in PROFILES {
        let mut tx = theirs(p, wp);
        let mut rx = ours(p);
        for seq in seqs() {
            let plain = rtp(seq, 0x5566_7788);
            let mut buf = tx.encrypt_rtp(&plain).unwrap().to_vec();
            let n = rx
                .unprotect_rtp(&mut buf)
                .unwrap_or_else(|e| panic!("{p:?} seq {seq}: {e}"));
            assert_eq!(&buf[..n], &plain[..], "{p:?} seq {seq}");
        }
        assert_eq!(rx.rx_roc(0x5566_7788), Some(1));
    }
}

#[test]
fn rtcp_both_ways() {
    for (p, wp) in PROFILES {
        let mut our_tx = ours(p);
        let mut their_rx = theirs(p, wp);
        let mut their_tx = theirs(p, wp);
        let mut our_rx = ours(p);
        for n in 0..10u8 {
            let plain = rtcp(0xdead_beef, n);
            let mut buf = vec![0u8; plain.len() + p.rtcp_overhead()];
            buf[..plain.len()].copy_from_slice(&plain);
            let len = our_tx.protect_rtcp(&mut buf, plain.len()).unwrap();
            let out = their_rx
                .decrypt_rtcp(&buf[..len])
                .unwrap_or_else(|e| panic!("{p:?} rtcp {n}: {e}"));
            assert_eq!(&out[..], &plain[..]);

            let mut buf = their_tx.encrypt_rtcp(&plain).unwrap().to_vec();
            let len = our_rx
                .unprotect_rtcp(&mut buf)
                .unwrap_or_else(|e| panic!("{p:?} rtcp {n}: {e}"));
            assert_eq!(&buf[..len], &plain[..]);
        }
    }
}
