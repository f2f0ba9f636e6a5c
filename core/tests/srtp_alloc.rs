//! The SRTP packet path does not allocate: a counting global allocator (this test binary
//! only) sees zero allocations, reallocations and deallocations while 4 × 20,000 RTP
//! packets (crossing a sequence-number wrap) and 4 × 1,000 RTCP packets are protected and
//! unprotected, replays and forgeries included. Only one test lives in this file, so no
//! other test thread allocates meanwhile; the counter is still process-wide (the test
//! harness's own thread can allocate while the machine is loaded), so the measurement is
//! taken up to three times on fresh contexts and one clean run must be seen. The packet
//! path is deterministic: if it allocated, every run would count it.

use rvoip_core::srtp::{Context, Error, MasterKey, Profile};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn packet_path_never_allocates() {
    let mut seen = Vec::new();
    for _ in 0..3 {
        let change = measure();
        if (
            change.allocations,
            change.reallocations,
            change.deallocations,
        ) == (0, 0, 0)
        {
            return;
        }
        seen.push(change);
    }
    panic!("the packet path allocated in every run: {seen:?}");
}

/// One measured run over fresh contexts: the allocator's counts meanwhile.
fn measure() -> stats_alloc::Stats {
    let profiles = [
        Profile::Aes128CmHmacSha1_80,
        Profile::Aes128CmHmacSha1_32,
        Profile::AeadAes128Gcm,
        Profile::AeadAes256Gcm,
    ];
    // Setup allocates (the SSRC tables): do it before counting.
    let mut pairs: Vec<(Context, Context)> = profiles
        .iter()
        .map(|&p| {
            let k = [7u8; 32];
            let s = [9u8; 14];
            let mk =
                MasterKey::new(p, &k[..p.master_key_len()], &s[..p.master_salt_len()]).unwrap();
            (Context::new(&mk), Context::new(&mk))
        })
        .collect();

    let region = Region::new(GLOBAL);
    let mut buf = [0u8; 256];
    let mut rejected = 0u32;
    for (tx, rx) in pairs.iter_mut() {
        for i in 0..20_000u32 {
            let seq = (65_000 + i) as u16;
            buf[..12].copy_from_slice(&[0x80, 0, 0, 0, 0, 0, 0, 1, 0xab, 0xcd, 0, 1]);
            buf[2..4].copy_from_slice(&seq.to_be_bytes());
            buf[12..172].fill(i as u8);
            let n = tx.protect_rtp(&mut buf, 172).unwrap();
            if i.is_multiple_of(500) {
                // A forgery and a replay on the way.
                let mut forged = buf;
                forged[20] ^= 1;
                assert_eq!(
                    rx.unprotect_rtp(&mut forged[..n]),
                    Err(Error::AuthenticationFailed)
                );
                let copy = buf;
                rx.unprotect_rtp(&mut buf[..n]).unwrap();
                let mut again = copy;
                assert_eq!(
                    rx.unprotect_rtp(&mut again[..n]),
                    Err(Error::ReplayedPacket)
                );
                rejected += 2;
            } else {
                assert_eq!(rx.unprotect_rtp(&mut buf[..n]).unwrap(), 172);
            }
        }
        for i in 0..1_000u32 {
            buf[..8].copy_from_slice(&[0x80, 201, 0, 1, 0xab, 0xcd, 0, 1]);
            buf[8..40].fill(i as u8);
            let n = tx.protect_rtcp(&mut buf, 40).unwrap();
            assert_eq!(rx.unprotect_rtcp(&mut buf[..n]).unwrap(), 40);
        }
    }
    let change = region.change();
    assert_eq!(rejected, 4 * 40 * 2);
    assert_eq!(pairs[0].1.rx_roc(0xabcd_0001), Some(1), "crossed a wrap");
    change
}
