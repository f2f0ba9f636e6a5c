//! Heap memory per call of the media bridge, counted exactly: a counting global allocator
//! ([`stats_alloc`]) sees every Rust allocation, and the bench keeps `N` complete calls alive
//! — the gateway's real [`MediaSession`] with a WebRTC leg (ICE-lite agent, both SRTP
//! contexts keyed) bridged to a plain RTP trunk leg (PCMU) — after 3 s of 20 ms frames in
//! both directions through each (so everything allocated lazily on the media path is
//! counted). The simulated browser's side (its ICE agent and SRTP context) is dropped before
//! the count.
//!
//! libopus allocates its encoder and decoder states with C `malloc`, which the Rust
//! allocator does not see; its share is measured separately as the growth of the resident
//! set over `N` encoder + decoder pairs (created first, before the process heap has holes
//! for them to reuse; libopus clears its whole state on init, so every page is touched).
//!
//! Output per call kind: live heap bytes per call, split by the setup stage that allocated
//! them (session and legs with the ICE-lite agent; formats: codecs and jitter buffers;
//! SRTP contexts; growth while media flows), allocations per call, and the resident-set
//! growth per call as a cross-check. Run: `cargo bench -p rvoip-gateway --bench
//! media_memory`.
//!
//! Figures (2026-11-21, x86-64, 200 calls of each kind; KiB per call):
//!
//! | call                          | before | after |
//! |-------------------------------|--------|-------|
//! | transcoding Opus⇄PCMU, total  | 76.1   | 63.7  |
//! | - libopus encoder + decoder   | 49.8   | 49.8  |
//! | - Rust heap                   | 26.3   | 13.9  |
//! | -- session, legs, ICE-lite    | 5.7    | 1.7   |
//! | -- codecs, jitter buffers     | 14.3   | 6.3   |
//! | -- SRTP contexts              | 5.4    | 5.1   |
//! | -- grown with media           | 0.9    | 0.9   |
//! | passthrough PCMU⇄PCMU         | 12.1   | 7.6   |
//!
//! Before: jitter buffers of 12 × 256-byte slots with a 64-bit transit window, a G.711 PLC
//! with three float buffers, per-call packet/PCM buffers, a legs `Vec` grown to four
//! entries, DTMF sender and receiver inline in every leg. A fixed-point libopus build
//! (`opusic-sys` feature `fixed-point`) takes 47.3 KiB per pair instead of 49.8 (61.2 KiB
//! per transcoded call) but costs ~9 % more CPU per call (`media_bridge`: 511 instead of
//! 559 calls/core at complexity 2), so the float build is kept. `ropus` instead of libopus:
//! 120.3 KiB per call (its encoder + decoder take 106.4 KiB).

use std::sync::atomic::{AtomicUsize, Ordering};

use rvoip_gateway::media::Codec;
use rvoip_gateway::media::session::DEFAULT_OPUS_COMPLEXITY;
use rvoip_gateway::opus::{self, OpusImpl, OpusSettings};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

mod common;
use common::{Count, Stage, call_with, run_steps};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// Calls kept alive per measurement.
const N: usize = 200;
/// Seconds of media through each call before counting.
const SECONDS: usize = 3;

/// Live Rust heap bytes and allocation count.
fn live() -> (usize, usize) {
    let s = GLOBAL.stats();
    (
        s.bytes_allocated - s.bytes_deallocated,
        s.allocations - s.deallocations,
    )
}

/// Resident set size (bytes), from /proc/self/statm.
fn rss() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn kib(b: usize) -> f64 {
    b as f64 / 1024.0
}

/// Pairs kept by [`opus_pair`] (alive until the end, so that the calls measured later do
/// not reuse their memory and the resident-set cross-check stays meaningful).
type Pairs = Vec<(Box<dyn opus::OpusEncode>, Box<dyn opus::OpusDecode>)>;

/// Resident growth per Opus encoder + decoder pair as the transcoder makes them (8 kHz),
/// and the Rust heap part of it.
fn opus_pair(imp: OpusImpl, keep: &mut Pairs) -> (usize, usize) {
    const PAIRS: usize = 1000;
    keep.reserve(PAIRS);
    let rss0 = rss();
    let (heap1, _) = live();
    for _ in 0..PAIRS {
        let s = OpusSettings {
            complexity: DEFAULT_OPUS_COMPLEXITY,
            ..OpusSettings::default()
        };
        let mut e = opus::encoder(imp, s).unwrap();
        let mut d = opus::decoder(imp, 8000).unwrap();
        let mut out = [0u8; 400];
        let mut pcm = [0i16; 160];
        let n = e.encode(&pcm, &mut out).unwrap();
        d.decode(Some(&out[..n]), &mut pcm).unwrap();
        keep.push((e, d));
    }
    let heap = live().0 - heap1;
    let rss = rss().saturating_sub(rss0);
    (rss / PAIRS, heap / PAIRS)
}

/// Per-call heap bytes by stage, allocations, and resident growth.
struct CallMemory {
    stages: [usize; 4],
    total: usize,
    allocs: usize,
    rss: usize,
}

fn measure(webrtc: Codec, imp: OpusImpl) -> CallMemory {
    let stage_bytes: [AtomicUsize; 4] = Default::default();
    let mut keep = Vec::with_capacity(N);
    let mut sink = Count::default();
    // Warm the shared pieces (the prepared payloads) outside the count.
    drop(call_with(webrtc, DEFAULT_OPUS_COMPLEXITY, imp, &mut |_| {}));
    common::payloads(webrtc);
    common::payloads(Codec::Pcmu);
    let (heap0, allocs0) = live();
    let rss0 = rss();
    for _ in 0..N {
        let mut last = 0usize;
        let mut start = 0usize;
        let mut mark = |st: Stage| {
            let now = live().0;
            let i = match st {
                Stage::Start => {
                    start = now;
                    last = now;
                    return;
                }
                Stage::Session => 0,
                Stage::Formats => 1,
                Stage::Srtp => 2,
            };
            stage_bytes[i].fetch_add(now - last, Ordering::Relaxed);
            last = now;
        };
        let mut c = call_with(webrtc, DEFAULT_OPUS_COMPLEXITY, imp, &mut mark);
        let _ = start;
        run_steps(&mut c, SECONDS * 50, &mut sink);
        assert!(!c.s.is_ended(), "session ended");
        keep.push(c.s);
    }
    assert!(
        sink.to_trunk >= (N * SECONDS * 45) as u64 && sink.to_browser >= (N * SECONDS * 45) as u64,
        "media did not flow: {} {}",
        sink.to_trunk,
        sink.to_browser
    );
    let (heap, allocs) = live();
    // The session value itself lives in the driver's task (on the heap) too.
    let total = (heap - heap0) / N + std::mem::size_of::<rvoip_gateway::media::MediaSession>();
    let rss = rss().saturating_sub(rss0) / N;
    let mut stages = [0; 4];
    for (s, b) in stages.iter_mut().zip(&stage_bytes) {
        *s = b.load(Ordering::Relaxed) / N;
    }
    stages[0] += std::mem::size_of::<rvoip_gateway::media::MediaSession>();
    stages[3] = total.saturating_sub(stages[0] + stages[1] + stages[2]);
    // Kept alive (leaked) so later measurements do not reuse their memory.
    std::mem::forget(keep);
    CallMemory {
        stages,
        total,
        allocs: (allocs - allocs0) / N,
        rss,
    }
}

fn main() {
    // libopus first, while the heap has no holes its states could fall into.
    let mut pairs = Vec::new();
    let (lib_rss, lib_heap) = opus_pair(OpusImpl::Libopus, &mut pairs);
    let (ro_rss, ro_heap) = opus_pair(OpusImpl::Ropus, &mut pairs);
    println!(
        "media_memory libopus encoder+decoder (8 kHz): {:.1} KiB resident per pair ({:.1} KiB of it Rust heap)",
        kib(lib_rss),
        kib(lib_heap)
    );
    println!(
        "media_memory ropus encoder+decoder (8 kHz): {:.1} KiB Rust heap per pair",
        kib(ro_heap)
    );
    let _ = ro_rss;
    for (name, codec, imp) in [
        ("passthrough PCMU<->PCMU", Codec::Pcmu, OpusImpl::Libopus),
        (
            "transcoding Opus<->PCMU libopus",
            Codec::Opus,
            OpusImpl::Libopus,
        ),
        (
            "transcoding Opus<->PCMU ropus",
            Codec::Opus,
            OpusImpl::Ropus,
        ),
    ] {
        let m = measure(codec, imp);
        let c_heap = if codec == Codec::Opus && imp == OpusImpl::Libopus {
            lib_rss.saturating_sub(lib_heap)
        } else {
            0
        };
        println!(
            "media_memory {name}: {:.1} KiB per call = {:.1} KiB Rust heap [session+legs+ICE {:.1}, \
             formats (codecs, jitter buffers) {:.1}, SRTP {:.1}, grown with media {:.1}; {} allocations] \
             + {:.1} KiB libopus (C heap); resident growth {:.1} KiB per call (target <= 64 KiB \
             transcoded)",
            kib(m.total + c_heap),
            kib(m.total),
            kib(m.stages[0]),
            kib(m.stages[1]),
            kib(m.stages[2]),
            kib(m.stages[3]),
            m.allocs,
            kib(c_heap),
            kib(m.rss),
        );
    }
}
