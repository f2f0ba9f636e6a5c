//! Unit tests: RFC 3711 Appendix B, RFC 7714 §16/§17 vectors, index estimation across
//! wraps, replay, tampering, key splitting.

use super::crypto::{Label, ctr_xor, derive};
use super::replay::RocState;
use super::transform::Transform;
use super::*;
use aes_gcm::KeyInit as _;
use aes08::Aes128Enc;
use aes08::cipher::KeyInit;
use alloc::vec;
use alloc::vec::Vec;

fn hex(s: &str) -> Vec<u8> {
    let s: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    assert!(s.len().is_multiple_of(2), "odd hex");
    s.chunks(2)
        .map(|p| u8::from_str_radix(core::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

#[test]
fn rfc3711_b2_aes_cm_keystream() {
    let key = hex("2B7E151628AED2A6ABF7158809CF4F3C");
    let aes = Aes128Enc::new_from_slice(&key).unwrap();
    let iv: [u8; 16] = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000").try_into().unwrap();
    // The RFC's keystream segment: 1044512 octets (65282 blocks).
    let mut ks = vec![0u8; 1_044_512];
    ctr_xor(&aes, &iv, &mut ks);
    assert_eq!(
        ks[..48],
        hex("E03EAD0935C95E80E166B16DD92B4EB4
             D23513162B02D0F72A43A2FE4A5F97AB
             41E95B3BB0A2E8DD477901E4FCA894C0")[..]
    );
    assert_eq!(
        ks[ks.len() - 48..],
        hex("EC8CDF7398607CB0F2D21675EA9EA1E4
             362B7C3C6773516318A077D7FC5073AE
             6A2CC3787889374FBEB4C81B17BA6C44")[..]
    );
    // Odd lengths (partial blocks, partial batches) give a prefix of the same stream.
    for n in [1usize, 15, 17, 127, 128, 129, 300] {
        let mut part = vec![0u8; n];
        ctr_xor(&aes, &iv, &mut part);
        assert_eq!(part[..], ks[..n], "length {n}");
    }
}

#[test]
fn rfc3711_b3_key_derivation() {
    let mk = hex("E1F97A0D3E018BE0D64FA32C06DE4139");
    let ms = hex("0EC675AD498AFEEBB6960B3AABE6");
    let mut k = [0u8; 16];
    derive(&mk, &ms, Label::RtpEncryption, &mut k);
    assert_eq!(k[..], hex("C61E7A93744F39EE10734AFE3FF7A087")[..]);
    let mut s = [0u8; 14];
    derive(&mk, &ms, Label::RtpSalt, &mut s);
    assert_eq!(s[..], hex("30CBBC08863D8C85D49DB34A9AE1")[..]);
    let mut a = [0u8; 94];
    derive(&mk, &ms, Label::RtpAuthentication, &mut a);
    assert_eq!(
        a[..],
        hex(
            "CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE
             E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25
             6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2"
        )[..]
    );
}

#[test]
fn hmac_sha1_rfc2202_and_against_hmac_crate() {
    use super::crypto::HmacSha1;
    let m = HmacSha1::new(&[0x0b; 20]);
    assert_eq!(
        m.tag(b"Hi There", &[])[..],
        hex("b617318655057264e28bc0b6fb378c8ef146be00")[..]
    );
    let m = HmacSha1::new(b"Jefe");
    assert_eq!(
        m.tag(b"what do ya want for noth", b"ing?")[..],
        hex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")[..]
    );
    // Every length around the one- and two-block padding boundaries, with and without the
    // 4-byte trailer, against the `hmac` crate.
    use hmac::{KeyInit as _, Mac};
    let key: Vec<u8> = (0..20u8).collect();
    let m = HmacSha1::new(&key);
    let data: Vec<u8> = (0..300u32).map(|i| (i * 31 + 7) as u8).collect();
    for len in 0..data.len() {
        for trailer in [&[][..], &[1, 2, 3, 4][..]] {
            let mut r = hmac::Hmac::<sha1::Sha1>::new_from_slice(&key).unwrap();
            r.update(&data[..len]);
            r.update(trailer);
            let want = r.finalize().into_bytes();
            assert_eq!(m.tag(&data[..len], trailer)[..], want[..], "len {len}");
        }
    }
}

const GCM_KEY_128: &str = "000102030405060708090a0b0c0d0e0f";
const GCM_KEY_256: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const GCM_SALT: &str = "517569642070726f2071756f";
const GCM_RTP: &str = "8040f17b8041f8d35501a0b2 47616c6c696120657374206f6d6e69732064697669736120
                       696e207061727465732074726573";
const GCM_RTCP: &str = "81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61
                        deadbeefdeadbeefdeadbeefdeadbeefdeadbeef";

/// A context using session keys directly, as the RFC 7714 vectors do (no KDF step).
fn gcm_session_context(key: &str) -> Context {
    let k = hex(key);
    let s: [u8; 12] = hex(GCM_SALT).try_into().unwrap();
    let profile = if k.len() == 16 {
        Profile::AeadAes128Gcm
    } else {
        Profile::AeadAes256Gcm
    };
    Context {
        profile,
        rtp: Transform::gcm_from_session(&k, &s),
        rtcp: Transform::gcm_from_session(&k, &s),
        streams: Vec::with_capacity(4),
        max_streams: 4,
        last: 0,
    }
}

#[test]
fn rfc7714_16_rtp_vectors() {
    for (key, expected) in [
        (
            GCM_KEY_128,
            "8040f17b8041f8d35501a0b2 f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f
             42a5f47a51c7d19b36de3adf8833 899d7f27beb16a9152cf765ee4390cce",
        ),
        (
            GCM_KEY_256,
            "8040f17b8041f8d35501a0b2 32b1de78a822fe12ef9f78fa332e33aab18012389a58e2f3
             b50b2a0276ffae0f1ba63799b87b7aa3db36 dfffd6b0f9bb7878d7a76c13",
        ),
    ] {
        let plain = hex(GCM_RTP);
        let expected = hex(expected);
        let mut ctx = gcm_session_context(key);
        let mut buf = vec![0u8; plain.len() + 16];
        buf[..plain.len()].copy_from_slice(&plain);
        let n = ctx.protect_rtp(&mut buf, plain.len()).unwrap();
        assert_eq!(buf[..n], expected[..]);

        let mut rx = gcm_session_context(key);
        let mut buf = expected.clone();
        let n = rx.unprotect_rtp(&mut buf).unwrap();
        assert_eq!(buf[..n], plain[..]);
        // The same packet again is a replay.
        let mut buf = expected.clone();
        assert_eq!(rx.unprotect_rtp(&mut buf), Err(Error::ReplayedPacket));
    }
}

#[test]
fn rfc7714_17_rtcp_vectors() {
    for (key, expected) in [
        (
            GCM_KEY_128,
            "81c8000d4d617273 63e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda
             4ce09b4686303ded0bb9275bc84aa458 96cf4d2fc5abf87245d9eade 800005d4",
        ),
        (
            GCM_KEY_256,
            "81c8000d4d617273 d50ae4d1f5ce5d304ba297e47d470c282c3ece5dbffe0a50a2eaa5c1110555be
             8415f658c61de0476f1b6fad1d1eb30c 4446839f57ff6f6cb26ac3be 800005d4",
        ),
    ] {
        let plain = hex(GCM_RTCP);
        let expected = hex(expected);
        let mut ctx = gcm_session_context(key);
        ctx.insert(Stream {
            ssrc: 0x4d61_7273,
            tx_rtcp_index: 0x5d4,
            ..Stream::default()
        })
        .unwrap();
        let mut buf = vec![0u8; plain.len() + 20];
        buf[..plain.len()].copy_from_slice(&plain);
        let n = ctx.protect_rtcp(&mut buf, plain.len()).unwrap();
        assert_eq!(buf[..n], expected[..]);

        let mut rx = gcm_session_context(key);
        let mut buf = expected.clone();
        let n = rx.unprotect_rtcp(&mut buf).unwrap();
        assert_eq!(buf[..n], plain[..]);
        let mut buf = expected.clone();
        assert_eq!(rx.unprotect_rtcp(&mut buf), Err(Error::ReplayedPacket));
    }
}

#[test]
fn rfc7714_unencrypted_srtcp_authenticates_whole_packet() {
    // E = 0 (RFC 7714 §9.3): build it with the AEAD directly, then check unprotect.
    use aes_gcm::aead::AeadInOut;
    let plain = hex(GCM_RTCP);
    let k = hex(GCM_KEY_128);
    let salt = hex(GCM_SALT);
    let aead = aes_gcm::Aes128Gcm::new_from_slice(&k).unwrap();
    let mut iv = [0u8; 12];
    iv[2..6].copy_from_slice(&0x4d61_7273u32.to_be_bytes());
    iv[8..12].copy_from_slice(&0x5d4u32.to_be_bytes());
    for (a, b) in iv.iter_mut().zip(&salt) {
        *a ^= b;
    }
    let mut aad = plain.clone();
    aad.extend_from_slice(&0x5d4u32.to_be_bytes());
    let tag = aead
        .encrypt_inout_detached(&iv.into(), &aad, (&mut [][..]).into())
        .unwrap();
    let mut pkt = plain.clone();
    pkt.extend_from_slice(&tag);
    pkt.extend_from_slice(&0x5d4u32.to_be_bytes());
    let mut ctx = gcm_session_context(GCM_KEY_128);
    let mut buf = pkt.clone();
    let n = ctx.unprotect_rtcp(&mut buf).unwrap();
    assert_eq!(buf[..n], plain[..]);
    // Any flipped packet bit fails, and leaves the buffer as it was.
    let mut ctx = gcm_session_context(GCM_KEY_128);
    let mut bad = pkt.clone();
    bad[20] ^= 1;
    let copy = bad.clone();
    assert_eq!(
        ctx.unprotect_rtcp(&mut bad),
        Err(Error::AuthenticationFailed)
    );
    assert_eq!(bad, copy);
}

fn key(profile: Profile, seed: u8) -> MasterKey {
    let k: Vec<u8> = (0..profile.master_key_len() as u8)
        .map(|i| i.wrapping_mul(7) ^ seed)
        .collect();
    let s: Vec<u8> = (0..profile.master_salt_len() as u8)
        .map(|i| i.wrapping_mul(13) ^ seed)
        .collect();
    MasterKey::new(profile, &k, &s).unwrap()
}

fn rtp(seq: u16, ssrc: u32, payload_len: usize) -> Vec<u8> {
    let mut p = vec![0x80, 0x00];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend((0..payload_len).map(|i| (i as u8).wrapping_add(seq as u8)));
    p
}

fn rtcp(ssrc: u32) -> Vec<u8> {
    // Receiver report with no blocks + 8 extra bytes of SDES-like payload.
    let mut p = vec![0x80, 201, 0, 3];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(b"payload!");
    p
}

fn protect(ctx: &mut Context, pkt: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; pkt.len() + ctx.profile().rtp_overhead()];
    buf[..pkt.len()].copy_from_slice(pkt);
    let n = ctx.protect_rtp(&mut buf, pkt.len()).unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn round_trip_every_profile_rtp_and_rtcp() {
    for profile in Profile::ALL {
        let mk = key(profile, 1);
        let mut tx = Context::new(&mk);
        let mut rx = Context::new(&mk);
        for seq in 0..50u16 {
            let pkt = rtp(seq, 42, usize::from(seq) * 3);
            let mut srtp = protect(&mut tx, &pkt);
            assert_eq!(srtp.len(), pkt.len() + profile.rtp_tag_len());
            if seq > 0 {
                assert_ne!(srtp[12..pkt.len()], pkt[12..], "payload encrypted");
            }
            let n = rx.unprotect_rtp(&mut srtp).unwrap();
            assert_eq!(srtp[..n], pkt[..]);
        }
        for _ in 0..5 {
            let pkt = rtcp(42);
            let mut buf = vec![0u8; pkt.len() + profile.rtcp_overhead()];
            buf[..pkt.len()].copy_from_slice(&pkt);
            let n = tx.protect_rtcp(&mut buf, pkt.len()).unwrap();
            assert_eq!(n, pkt.len() + profile.rtcp_overhead());
            assert_ne!(buf[8..pkt.len()], pkt[8..]);
            let mut srtcp = buf[..n].to_vec();
            let m = rx.unprotect_rtcp(&mut srtcp).unwrap();
            assert_eq!(srtcp[..m], pkt[..]);
            // Replay of the same SRTCP packet.
            let mut again = buf[..n].to_vec();
            assert_eq!(rx.unprotect_rtcp(&mut again), Err(Error::ReplayedPacket));
        }
    }
}

#[test]
fn other_key_fails_authentication() {
    for profile in Profile::ALL {
        let mut tx = Context::new(&key(profile, 1));
        let mut rx = Context::new(&key(profile, 2));
        let mut srtp = protect(&mut tx, &rtp(1, 9, 160));
        assert_eq!(
            rx.unprotect_rtp(&mut srtp),
            Err(Error::AuthenticationFailed)
        );
        assert_eq!(rx.stream_count(), 0, "no state for unauthenticated SSRCs");
    }
}

#[test]
fn sequence_wrap_increments_roc_in_and_out_of_order() {
    for profile in Profile::ALL {
        let mk = key(profile, 3);
        let mut tx = Context::new(&mk);
        let mut rx = Context::new(&mk);
        // 65530 .. 65535, 0 .. 10: protect in order.
        let seqs: Vec<u16> = (65530..=65535).chain(0..10).collect();
        let mut packets: Vec<(u16, Vec<u8>, Vec<u8>)> = seqs
            .iter()
            .map(|&s| {
                let p = rtp(s, 7, 40);
                (s, p.clone(), protect(&mut tx, &p))
            })
            .collect();
        assert_eq!(tx.tx_roc(7), Some(1));
        // Deliver out of order around the wrap: swap neighbours.
        for i in (0..packets.len() - 1).step_by(2) {
            packets.swap(i, i + 1);
        }
        for (s, plain, srtp) in &packets {
            let mut b = srtp.clone();
            let n = rx
                .unprotect_rtp(&mut b)
                .unwrap_or_else(|e| panic!("{profile:?} seq {s}: {e}"));
            assert_eq!(b[..n], plain[..]);
        }
        assert_eq!(rx.rx_roc(7), Some(1));
        // Replaying a packet from before the wrap is caught (its index uses ROC - 1).
        let (_, _, first) = packets.iter().find(|(s, _, _)| *s == 65533).unwrap();
        let mut b = first.clone();
        assert_eq!(rx.unprotect_rtp(&mut b), Err(Error::ReplayedPacket));
        // The stream goes on under ROC 1.
        let p = rtp(20, 7, 40);
        let mut b = protect(&mut tx, &p);
        let n = rx.unprotect_rtp(&mut b).unwrap();
        assert_eq!(b[..n], p[..]);
    }
}

#[test]
fn sender_index_limits() {
    let mk = key(Profile::Aes128CmHmacSha1_80, 14);
    let mut tx = Context::new(&mk);
    protect(&mut tx, &rtp(100, 1, 8));
    // More than 2^15 ahead reads as behind the first packet (Appendix A): its index would
    // be negative.
    let p = rtp(100 + 0x8001, 1, 8);
    let mut b = vec![0u8; p.len() + 10];
    b[..p.len()].copy_from_slice(&p);
    assert_eq!(tx.protect_rtp(&mut b, p.len()), Err(Error::ReplayedPacket));
    // At the last ROC, wrapping again would leave the 48-bit index space.
    tx.streams[0].tx = RocState {
        roc: u32::MAX,
        s_l: 65_000,
    };
    let p = rtp(10, 1, 8);
    b[..p.len()].copy_from_slice(&p);
    assert_eq!(tx.protect_rtp(&mut b, p.len()), Err(Error::KeyExhausted));
    let p = rtp(65_001, 1, 8);
    b[..p.len()].copy_from_slice(&p);
    assert!(tx.protect_rtp(&mut b, p.len()).is_ok());
    // SRTCP: the 31-bit index runs out after 2^31 packets.
    tx.streams[0].tx_rtcp_index = 0x7fff_ffff;
    let r = rtcp(1);
    let mut b = vec![0u8; r.len() + 14];
    b[..r.len()].copy_from_slice(&r);
    assert!(tx.protect_rtcp(&mut b, r.len()).is_ok());
    b[..r.len()].copy_from_slice(&r);
    assert_eq!(tx.protect_rtcp(&mut b, r.len()), Err(Error::KeyExhausted));
}

#[test]
fn late_packet_before_wrap_uses_previous_roc() {
    let mk = key(Profile::Aes128CmHmacSha1_80, 4);
    let mut tx = Context::new(&mk);
    let mut rx = Context::new(&mk);
    let a = protect(&mut tx, &rtp(65534, 1, 20));
    let late = protect(&mut tx, &rtp(65535, 1, 20));
    let b = protect(&mut tx, &rtp(0, 1, 20));
    let c = protect(&mut tx, &rtp(1, 1, 20));
    for p in [a, b, c] {
        let mut p = p;
        rx.unprotect_rtp(&mut p).unwrap();
    }
    assert_eq!(rx.rx_roc(1), Some(1));
    let mut l = late;
    let n = rx.unprotect_rtp(&mut l).unwrap();
    assert_eq!(l[..n], rtp(65535, 1, 20)[..]);
    assert_eq!(
        rx.rx_roc(1),
        Some(1),
        "a late packet does not move the ROC back"
    );
}

#[test]
fn replay_window_rejects_old_and_duplicate() {
    let mk = key(Profile::Aes128CmHmacSha1_32, 5);
    let mut tx = Context::new(&mk);
    let mut rx = Context::new(&mk);
    let pkts: Vec<Vec<u8>> = (0..300u16)
        .map(|s| protect(&mut tx, &rtp(s, 5, 10)))
        .collect();
    let mut p = pkts[299].clone();
    rx.unprotect_rtp(&mut p).unwrap();
    // Inside the window: accepted once.
    let mut p = pkts[299 - 127].clone();
    rx.unprotect_rtp(&mut p).unwrap();
    let mut p = pkts[299 - 127].clone();
    assert_eq!(rx.unprotect_rtp(&mut p), Err(Error::ReplayedPacket));
    // Behind the window.
    let mut p = pkts[299 - 128].clone();
    assert_eq!(rx.unprotect_rtp(&mut p), Err(Error::ReplayedPacket));
}

#[test]
fn every_flipped_byte_is_rejected() {
    for profile in Profile::ALL {
        let mk = key(profile, 6);
        let mut tx = Context::new(&mk);
        let srtp = protect(&mut tx, &rtp(100, 77, 64));
        let mut buf = vec![0u8; 40 + profile.rtcp_overhead()];
        let r = rtcp(77);
        buf[..r.len()].copy_from_slice(&r);
        let n = tx.protect_rtcp(&mut buf, r.len()).unwrap();
        let srtcp = buf[..n].to_vec();
        for i in 0..srtp.len() {
            for bit in [0x01u8, 0x80] {
                let mut rx = Context::new(&mk);
                let mut b = srtp.clone();
                b[i] ^= bit;
                let before = b.clone();
                let e = rx.unprotect_rtp(&mut b).unwrap_err();
                assert!(
                    matches!(
                        e,
                        Error::AuthenticationFailed | Error::BadVersion | Error::TooShort
                    ),
                    "{profile:?} byte {i}: {e:?}"
                );
                assert_eq!(b, before, "buffer untouched on failure");
            }
        }
        for i in 0..srtcp.len() {
            let mut rx = Context::new(&mk);
            let mut b = srtcp.clone();
            b[i] ^= 0x01;
            let e = rx.unprotect_rtcp(&mut b).unwrap_err();
            assert!(
                matches!(e, Error::AuthenticationFailed | Error::BadVersion),
                "{profile:?} rtcp byte {i}: {e:?}"
            );
        }
        // Unchanged packets still pass.
        let mut rx = Context::new(&mk);
        rx.unprotect_rtp(&mut srtp.clone()).unwrap();
        rx.unprotect_rtcp(&mut srtcp.clone()).unwrap();
    }
}

#[test]
fn short_and_small_buffers() {
    for profile in Profile::ALL {
        let mk = key(profile, 7);
        let mut ctx = Context::new(&mk);
        for len in 0..(12 + profile.rtp_tag_len()) {
            let mut b = vec![0x80u8; len];
            assert!(ctx.unprotect_rtp(&mut b).is_err());
        }
        for len in 0..(8 + profile.rtcp_overhead()) {
            let mut b = vec![0x80u8; len];
            assert_eq!(ctx.unprotect_rtcp(&mut b), Err(Error::TooShort));
        }
        let p = rtp(1, 1, 10);
        let mut b = p.clone();
        assert_eq!(ctx.protect_rtp(&mut b, p.len()), Err(Error::BufferTooSmall));
        let mut b = p.clone();
        b.resize(p.len() + profile.rtp_tag_len(), 0);
        assert_eq!(ctx.protect_rtp(&mut b, 11), Err(Error::TooShort));
        // Header extension longer than the packet.
        let mut x = rtp(1, 1, 4);
        x[0] |= 0x10;
        x.extend_from_slice(&[0; 4]);
        x[14] = 0xff;
        x.resize(x.len() + profile.rtp_tag_len(), 0);
        let l = x.len() - profile.rtp_tag_len();
        assert_eq!(ctx.protect_rtp(&mut x, l), Err(Error::TooShort));
        let mut v = rtp(1, 1, 4);
        v[0] = 0x40;
        v.resize(v.len() + 16, 0);
        assert_eq!(ctx.protect_rtp(&mut v, 16), Err(Error::BadVersion));
    }
}

#[test]
fn csrc_and_extension_are_authenticated_not_encrypted() {
    for profile in Profile::ALL {
        let mk = key(profile, 8);
        let mut tx = Context::new(&mk);
        let mut rx = Context::new(&mk);
        // CC = 2, X = 1 with one extension word.
        let mut p = vec![0x92, 0x60, 0x00, 0x05, 0, 0, 0, 1, 0, 0, 0, 9];
        p.extend_from_slice(&[1, 1, 1, 1, 2, 2, 2, 2]);
        p.extend_from_slice(&[0xbe, 0xde, 0x00, 0x01, 0x10, 0xaa, 0, 0]);
        p.extend_from_slice(b"the payload");
        let s = protect(&mut tx, &p);
        assert_eq!(s[..28], p[..28], "header left in clear");
        assert_ne!(s[28..p.len()], p[28..]);
        let mut b = s.clone();
        let n = rx.unprotect_rtp(&mut b).unwrap();
        assert_eq!(b[..n], p[..]);
    }
}

#[test]
fn stream_table_is_bounded_and_preallocated() {
    let mk = key(Profile::Aes128CmHmacSha1_80, 9);
    let mut tx = Context::with_max_streams(&mk, 64);
    let mut rx = Context::with_max_streams(&mk, 2);
    let cap = rx.stream_capacity();
    for ssrc in 0..3u32 {
        let mut s = protect(&mut tx, &rtp(1, ssrc, 10));
        let r = rx.unprotect_rtp(&mut s);
        if ssrc < 2 {
            r.unwrap();
        } else {
            assert_eq!(r, Err(Error::TooManyStreams));
        }
    }
    assert_eq!(rx.stream_count(), 2);
    assert_eq!(rx.stream_capacity(), cap, "no reallocation");
}

#[test]
fn no_growth_over_many_packets() {
    // The packet path never allocates: the only heap object of a Context is the SSRC
    // table, allocated once with its final capacity. Run 40k packets through both
    // directions of every profile and check that table never grows or moves. (The
    // counting-allocator proof is core/tests/srtp_alloc.rs.)
    for profile in Profile::ALL {
        let mk = key(profile, 10);
        let mut tx = Context::new(&mk);
        let mut rx = Context::new(&mk);
        let ptr_tx = tx.streams.as_ptr();
        let ptr_rx = rx.streams.as_ptr();
        let mut pkt = rtp(0, 0xabc, 160);
        let mut buf = [0u8; 200];
        for i in 0..10_000u32 {
            let seq = i as u16;
            pkt[2..4].copy_from_slice(&seq.to_be_bytes());
            buf[..pkt.len()].copy_from_slice(&pkt);
            let n = tx.protect_rtp(&mut buf, pkt.len()).unwrap();
            let m = rx.unprotect_rtp(&mut buf[..n]).unwrap();
            assert_eq!(m, pkt.len());
        }
        assert_eq!(rx.rx_roc(0xabc), Some(0));
        assert_eq!((tx.streams.len(), rx.streams.len()), (1, 1));
        assert_eq!(tx.streams.as_ptr(), ptr_tx);
        assert_eq!(rx.streams.as_ptr(), ptr_rx);
        assert_eq!(tx.stream_capacity(), DEFAULT_MAX_STREAMS);
    }
}

#[test]
fn dtls_exporter_split() {
    let profile = Profile::Aes128CmHmacSha1_80;
    let material: Vec<u8> = (0..profile.exporter_len() as u8).collect();
    let c = DtlsSrtpKeys::from_exporter(profile, &material, DtlsRole::Client).unwrap();
    assert_eq!(c.local.key(), &material[0..16]);
    assert_eq!(c.remote.key(), &material[16..32]);
    assert_eq!(c.local.salt(), &material[32..46]);
    assert_eq!(c.remote.salt(), &material[46..60]);
    let s = DtlsSrtpKeys::from_exporter(profile, &material, DtlsRole::Server).unwrap();
    assert_eq!(s.local, c.remote);
    assert_eq!(s.remote, c.local);
    let g = Profile::AeadAes256Gcm;
    let material: Vec<u8> = (0..g.exporter_len() as u8).collect();
    let k = DtlsSrtpKeys::from_exporter(g, &material, DtlsRole::Client).unwrap();
    assert_eq!(k.local.key(), &material[0..32]);
    assert_eq!(k.remote.salt(), &material[76..88]);
    assert_eq!(
        DtlsSrtpKeys::from_exporter(g, &material[1..], DtlsRole::Client),
        Err(Error::InvalidKeyLength)
    );
    // The two ends interoperate.
    let mut a = Context::new(&c.local);
    let mut b = Context::new(&s.remote);
    let mut p = protect(&mut a, &rtp(3, 3, 30));
    b.unprotect_rtp(&mut p).unwrap();
}

#[test]
fn profile_ids_and_names() {
    for p in Profile::ALL {
        assert_eq!(Profile::from_dtls_id(p.dtls_id()), Some(p));
        assert_eq!(Profile::from_sdes_name(p.sdes_name()), Some(p));
    }
    assert_eq!(Profile::from_dtls_id(0x0003), None);
    assert_eq!(Profile::from_sdes_name("F8_128_HMAC_SHA1_80"), None);
    assert!(MasterKey::new(Profile::AeadAes128Gcm, &[0; 16], &[0; 14]).is_err());
    let dbg = alloc::format!("{:?}", key(Profile::AeadAes128Gcm, 0x55));
    assert!(!dbg.contains("85"), "Debug must not print key bytes: {dbg}");
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn rtp_round_trip(
            profile in proptest::sample::select(Profile::ALL.to_vec()),
            seqs in proptest::collection::vec(any::<u16>(), 1..20),
            ssrc in any::<u32>(),
            payload in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let mk = key(profile, 11);
            let mut tx = Context::new(&mk);
            let mut rx = Context::new(&mk);
            let start = seqs[0];
            for (k, _) in seqs.iter().enumerate() {
                // Consecutive sequence numbers from a random start (crosses wraps).
                let seq = start.wrapping_add(k as u16);
                let mut p = rtp(seq, ssrc, 0);
                p.extend_from_slice(&payload);
                let mut s = protect(&mut tx, &p);
                let n = rx.unprotect_rtp(&mut s).unwrap();
                prop_assert_eq!(&s[..n], &p[..]);
            }
        }

        #[test]
        fn rtcp_round_trip(
            profile in proptest::sample::select(Profile::ALL.to_vec()),
            ssrc in any::<u32>(),
            body in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let mk = key(profile, 12);
            let mut tx = Context::new(&mk);
            let mut rx = Context::new(&mk);
            let mut p = vec![0x81, 200, 0, 0];
            p.extend_from_slice(&ssrc.to_be_bytes());
            p.extend_from_slice(&body);
            let mut buf = vec![0u8; p.len() + profile.rtcp_overhead()];
            buf[..p.len()].copy_from_slice(&p);
            let n = tx.protect_rtcp(&mut buf, p.len()).unwrap();
            let m = rx.unprotect_rtcp(&mut buf[..n]).unwrap();
            prop_assert_eq!(&buf[..m], &p[..]);
        }

        #[test]
        fn gcm_matches_the_aes_gcm_crate(
            k256 in any::<bool>(),
            key in proptest::collection::vec(any::<u8>(), 32),
            iv in any::<[u8; 12]>(),
            aad in proptest::collection::vec(any::<u8>(), 0..80),
            data in proptest::collection::vec(any::<u8>(), 0..600),
        ) {
            use aes_gcm::aead::AeadInOut;
            let key = if k256 { &key[..] } else { &key[..16] };
            let salt = [0u8; 12];
            let t = Transform::gcm_from_session(key, &salt);
            let mut ours = data.clone();
            let tag = match &t {
                Transform::Gcm128(g) => g.seal(&iv, &aad, &mut ours),
                Transform::Gcm256(g) => g.seal(&iv, &aad, &mut ours),
                Transform::CmSha1(_) => unreachable!(),
            };
            let mut theirs = data.clone();
            let want = if k256 {
                aes_gcm::Aes256Gcm::new_from_slice(key).unwrap()
                    .encrypt_inout_detached(&iv.into(), &aad, (&mut theirs[..]).into()).unwrap()
            } else {
                aes_gcm::Aes128Gcm::new_from_slice(key).unwrap()
                    .encrypt_inout_detached(&iv.into(), &aad, (&mut theirs[..]).into()).unwrap()
            };
            prop_assert_eq!(&ours, &theirs);
            prop_assert_eq!(&tag[..], &want[..]);
        }

        #[test]
        fn unprotect_never_panics(
            profile in proptest::sample::select(Profile::ALL.to_vec()),
            data in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let mut ctx = Context::new(&key(profile, 13));
            let mut a = data.clone();
            let _ = ctx.unprotect_rtp(&mut a);
            let mut b = data;
            let _ = ctx.unprotect_rtcp(&mut b);
        }
    }
}
