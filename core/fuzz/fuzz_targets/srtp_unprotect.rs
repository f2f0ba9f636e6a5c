//! Unprotects arbitrary bytes as SRTP and SRTCP in every profile. The first byte picks
//! the profile; the rest is fed twice to one context (so the replay/ROC state is used),
//! then protected and unprotected again as a round trip when it parses as RTP/RTCP.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rvoip_core::srtp::{Context, MasterKey, Profile};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, pkt)) = data.split_first() else {
        return;
    };
    let profile = Profile::ALL[usize::from(sel) % Profile::ALL.len()];
    let key = [0x42u8; 32];
    let salt = [0x17u8; 14];
    let mk = MasterKey::new(
        profile,
        &key[..profile.master_key_len()],
        &salt[..profile.master_salt_len()],
    )
    .expect("lengths from the profile");
    let mut ctx = Context::with_max_streams(&mk, 4);
    for _ in 0..2 {
        let mut b = pkt.to_vec();
        if let Ok(n) = ctx.unprotect_rtp(&mut b) {
            assert!(n <= pkt.len());
        }
        let mut b = pkt.to_vec();
        if let Ok(n) = ctx.unprotect_rtcp(&mut b) {
            assert!(n <= pkt.len());
        }
    }
    // Round trip through a fresh pair when the bytes make a plausible packet.
    let mut tx = Context::new(&mk);
    let mut rx = Context::new(&mk);
    let mut b = pkt.to_vec();
    b.resize(pkt.len() + profile.rtcp_overhead(), 0);
    if let Ok(n) = tx.protect_rtp(&mut b, pkt.len()) {
        let m = rx.unprotect_rtp(&mut b[..n]).expect("own SRTP packet");
        assert_eq!(&b[..m], pkt);
    }
    let mut b = pkt.to_vec();
    b.resize(pkt.len() + profile.rtcp_overhead(), 0);
    if let Ok(n) = tx.protect_rtcp(&mut b, pkt.len()) {
        let m = rx.unprotect_rtcp(&mut b[..n]).expect("own SRTCP packet");
        assert_eq!(&b[..m], pkt);
    }
});
