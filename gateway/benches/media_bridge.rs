//! Per-call CPU cost of the media bridge, measured through the real [`MediaSession`] (no
//! sockets): one "call step" is 20 ms of a call in both directions.
//!
//! - transcoding (WebRTC Opus ⇄ trunk PCMU): browser→trunk SRTP unprotect + jitter buffer +
//!   Opus decode (8 kHz) + G.711 encode + RTP out; trunk→browser RTP in + jitter buffer +
//!   G.711 decode (+PLC history) + Opus encode + SRTP protect; plus the session's timers
//!   (RTCP every 5 s, ICE consent).
//! - passthrough (WebRTC PCMU ⇄ trunk PCMU): SRTP unprotect + header rewrite + RTP out, and
//!   RTP in + header rewrite + SRTP protect.
//!
//! Calls per core = 20 ms / (cost of one call step), the cost being the thread's CPU time
//! (so that other load on the machine does not inflate it).
//!
//! Figures (2026-11-21, x86-64; calls per core before → after the memory work of
//! `media_memory`): passthrough 31 600 → 32 000; transcoding libopus complexity 5: 373 →
//! 380, 3: 511 → 521, **2 (default): 559 → 565**, 1: 880 → 889; ropus complexity 2:
//! 447 → 442 (unchanged within noise).

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rvoip_gateway::media::Codec;
use rvoip_gateway::opus::OpusImpl;

mod common;
use common::{Call, Count, call_with, run_steps};

/// A call as the gateway runs it (default complexity, libopus).
fn call(webrtc: Codec) -> Call {
    call_with(
        webrtc,
        rvoip_gateway::media::session::DEFAULT_OPUS_COMPLEXITY,
        OpusImpl::Libopus,
        &mut |_| {},
    )
}

fn per_step(webrtc: Codec, complexity: u8, imp: OpusImpl) -> (Duration, Count) {
    let mut c = call_with(webrtc, complexity, imp, &mut |_| {});
    let mut sink = Count::default();
    run_steps(&mut c, 250, &mut sink); // warm-up
    let mut total = Duration::ZERO;
    let batches = 40;
    for _ in 0..batches {
        total += run_steps(&mut c, 250, &mut sink);
    }
    assert!(!c.s.is_ended(), "session ended");
    (total / (batches * 250), sink)
}

fn bench(c: &mut Criterion) {
    // Figures first, in one run: cost per call step and calls per core.
    let mut figures = vec![(
        "passthrough PCMU<->PCMU",
        Codec::Pcmu,
        5u8,
        OpusImpl::Libopus,
        2000.0,
    )];
    for (cx, imp) in [
        (5u8, OpusImpl::Libopus),
        (3, OpusImpl::Libopus),
        (2, OpusImpl::Libopus),
        (1, OpusImpl::Libopus),
        (2, OpusImpl::Ropus),
    ] {
        figures.push(("transcoding Opus<->PCMU", Codec::Opus, cx, imp, 150.0));
    }
    for (name, codec, cx, imp, target) in figures {
        let (t, sink) = per_step(codec, cx, imp);
        assert!(
            sink.to_trunk > 9000 && sink.to_browser > 9000,
            "{} {}",
            sink.to_trunk,
            sink.to_browser
        );
        let calls = 0.020 / t.as_secs_f64();
        let cxs = if codec == Codec::Opus {
            format!(" ({} complexity {cx})", imp.name())
        } else {
            String::new()
        };
        println!(
            "media_bridge {name}{cxs}: {:.2} µs per call per 20 ms (both directions) -> {:.0} calls/core \
             (target {target})",
            t.as_secs_f64() * 1e6,
            calls,
        );
    }
    if std::env::var_os("MEDIA_BENCH_FIGURES_ONLY").is_some() {
        return;
    }
    for (name, codec) in [
        ("transcoding call step 20ms", Codec::Opus),
        ("passthrough call step 20ms", Codec::Pcmu),
    ] {
        let mut call = call(codec);
        let mut sink = Count::default();
        c.bench_function(&format!("media_bridge {name}"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters as usize;
                while left > 0 {
                    let n = left.min(250);
                    total += run_steps(&mut call, n, &mut sink);
                    left -= n;
                }
                total
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
