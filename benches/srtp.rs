//! SRTP protect/unprotect of one RTP packet (12-byte header, 160-byte payload) per
//! profile, side by side with the `webrtc-srtp` crate in the same run. The libsrtp figures
//! come from `benches/libsrtp/run.sh`, run right after this bench.
//!
//! Time is the benchmark thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), not wall time:
//! the machine is shared, and CPU time does not count the slices other processes take.
//! benches/libsrtp/bench.c measures the same way.
//!
//! Protect: copy the plaintext into a buffer, stamp the next sequence number, protect.
//! Unprotect: copy one of 4096 pre-protected packets (distinct sequence numbers) into the
//! buffer and unprotect it with replay protection on; after 4096 packets a fresh receiver
//! is made outside the timed region.

use core::hint::black_box;
use core::time::Duration;
use cpu_time::ThreadTime;
use criterion::{Criterion, criterion_group, criterion_main};
use rvoip::srtp::{Context, MasterKey, Profile};
use webrtc_srtp::context::Context as WContext;
use webrtc_srtp::protection_profile::ProtectionProfile as WProfile;

const HDR: usize = 12;
const PAYLOAD: usize = 160;
const PKT: usize = HDR + PAYLOAD;
const NPRE: usize = 4096;

fn packet(seq: u16) -> [u8; PKT] {
    let mut p = [0u8; PKT];
    p[..HDR].copy_from_slice(&[0x80, 0x60, 0, 0, 0, 0, 0x12, 0x34, 0xca, 0xfe, 0xba, 0xbe]);
    p[2..4].copy_from_slice(&seq.to_be_bytes());
    for (i, b) in p[HDR..].iter_mut().enumerate() {
        *b = i as u8;
    }
    p
}

fn keys(profile: Profile) -> (Vec<u8>, Vec<u8>) {
    let k = (0..profile.master_key_len())
        .map(|i| (i * 7 + 1) as u8)
        .collect();
    let s = (0..profile.master_salt_len())
        .map(|i| (i * 11 + 3) as u8)
        .collect();
    (k, s)
}

fn ours(profile: Profile) -> Context {
    let (k, s) = keys(profile);
    Context::new(&MasterKey::new(profile, &k, &s).unwrap())
}

fn theirs(profile: Profile, replay: bool) -> WContext {
    let (k, s) = keys(profile);
    let wp = match profile {
        Profile::Aes128CmHmacSha1_80 => WProfile::Aes128CmHmacSha1_80,
        Profile::Aes128CmHmacSha1_32 => WProfile::Aes128CmHmacSha1_32,
        Profile::AeadAes128Gcm => WProfile::AeadAes128Gcm,
        _ => WProfile::AeadAes256Gcm,
    };
    let opt = replay.then(|| webrtc_srtp::option::srtp_replay_protection(128));
    WContext::new(&k, &s, wp, opt, None).unwrap()
}

/// Times `op` over `iters` calls in thread CPU time, running `fresh` (untimed) every
/// NPRE calls.
fn batched<S>(
    iters: u64,
    mut fresh: impl FnMut() -> S,
    mut op: impl FnMut(&mut S, usize),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0u64;
    while done < iters {
        let n = (iters - done).min(NPRE as u64) as usize;
        let mut s = fresh();
        let t = ThreadTime::now();
        for i in 0..n {
            op(&mut s, i);
        }
        total += t.elapsed();
        done += n as u64;
    }
    total
}

fn bench(c: &mut Criterion) {
    for (name, profile) in [
        ("cm_sha1_80", Profile::Aes128CmHmacSha1_80),
        ("cm_sha1_32", Profile::Aes128CmHmacSha1_32),
        ("gcm_128", Profile::AeadAes128Gcm),
    ] {
        let mut g = c.benchmark_group(format!("srtp_{name}"));
        let plain = packet(0);

        let mut ctx = ours(profile);
        let mut buf = [0u8; 256];
        let mut seq = 0u16;
        g.bench_function("protect/rvoip", |b| {
            b.iter_custom(|iters| {
                batched(
                    iters,
                    || (),
                    |_, _| {
                        buf[..PKT].copy_from_slice(&plain);
                        seq = seq.wrapping_add(1);
                        buf[2..4].copy_from_slice(&seq.to_be_bytes());
                        black_box(ctx.protect_rtp(black_box(&mut buf), PKT).unwrap());
                    },
                )
            })
        });

        let mut w = theirs(profile, false);
        let mut wbuf = plain;
        g.bench_function("protect/webrtc-srtp", |b| {
            b.iter_custom(|iters| {
                batched(
                    iters,
                    || (),
                    |_, _| {
                        seq = seq.wrapping_add(1);
                        wbuf[2..4].copy_from_slice(&seq.to_be_bytes());
                        black_box(w.encrypt_rtp(black_box(&wbuf)).unwrap());
                    },
                )
            })
        });

        // Pre-protected packets, by each implementation for itself (checked to interoperate
        // in tests/srtp_interop.rs).
        let mut tx = ours(profile);
        let pre: Vec<Vec<u8>> = (0..NPRE)
            .map(|i| {
                let mut b = vec![0u8; PKT + profile.rtp_overhead()];
                b[..PKT].copy_from_slice(&packet(i as u16));
                let n = tx.protect_rtp(&mut b, PKT).unwrap();
                b.truncate(n);
                b
            })
            .collect();
        g.bench_function("unprotect/rvoip", |b| {
            b.iter_custom(|iters| {
                batched(
                    iters,
                    || ours(profile),
                    |rx, i| {
                        let p = &pre[i];
                        buf[..p.len()].copy_from_slice(p);
                        let n = rx.unprotect_rtp(black_box(&mut buf[..p.len()])).unwrap();
                        black_box(n);
                    },
                )
            })
        });

        let mut wtx = theirs(profile, false);
        let wpre: Vec<bytes::Bytes> = (0..NPRE)
            .map(|i| wtx.encrypt_rtp(&packet(i as u16)).unwrap())
            .collect();
        g.bench_function("unprotect/webrtc-srtp", |b| {
            b.iter_custom(|iters| {
                batched(
                    iters,
                    || theirs(profile, true),
                    |rx, i| {
                        black_box(rx.decrypt_rtp(black_box(&wpre[i])).unwrap());
                    },
                )
            })
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
