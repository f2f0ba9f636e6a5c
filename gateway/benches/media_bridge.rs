//! Per-call cost of the media bridge, measured through the real [`MediaSession`] (no
//! sockets): one "call step" is 20 ms of a call in both directions.
//!
//! - transcoding (WebRTC Opus ⇄ trunk PCMU): browser→trunk SRTP unprotect + jitter buffer +
//!   Opus decode (8 kHz) + G.711 encode + RTP out; trunk→browser RTP in + jitter buffer +
//!   G.711 decode (+PLC history) + Opus encode + SRTP protect; plus the session's timers
//!   (RTCP every 5 s, ICE consent).
//! - passthrough (WebRTC PCMU ⇄ trunk PCMU): SRTP unprotect + header rewrite + RTP out, and
//!   RTP in + header rewrite + SRTP protect.
//!
//! Calls per core = 20 ms / (cost of one call step). Memory per call is measured with
//! the resident set size over 400 sessions (it sees both Rust and libopus memory).

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rvoip_core::codec::{Law, ToneGenerator};
use rvoip_core::ice::{IceAgent, IceAgentConfig, IceLiteAgent, Receive};
use rvoip_core::rand::SplitMix64;
use rvoip_core::rtp::RtpPacketBuilder;
use rvoip_core::srtp::{Context, MasterKey, Profile};
use rvoip_core::time::Instant;
use rvoip_gateway::media::session::LegSpec;
use rvoip_gateway::media::{Codec, LegId, MediaFormat, MediaSession, Peer, RtpRemote, Sink};
use rvoip_gateway::opus::{OpusImpl, OpusSettings, encoder};

const GW: &str = "127.0.0.1:40000";
const TRUNK_LOCAL: &str = "127.0.0.1:40002";
const BROWSER: &str = "127.0.0.1:50000";
const TRUNK: &str = "10.0.0.2:6000";

fn a(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Counts what the session sends (no allocation).
#[derive(Default)]
struct Count {
    to_trunk: u64,
    to_browser: u64,
}

impl Sink for Count {
    fn send(&mut self, _from: SocketAddr, to: SocketAddr, data: &[u8]) {
        if to == a(TRUNK) {
            self.to_trunk += 1;
        } else {
            self.to_browser += 1;
        }
        black_box(data);
    }
}

struct Call {
    s: MediaSession,
    browser: IceAgent<SplitMix64>,
    /// The browser's SRTP send context.
    tx: Context,
    now: Instant,
    seq: u16,
}

impl Call {
    /// Runs the browser's ICE agent against the session (checks, consent).
    fn ice_exchange(&mut self) {
        let mut out: Vec<(SocketAddr, SocketAddr, Vec<u8>)> = Vec::new();
        self.browser.handle_timeout(self.now);
        let mut buf = vec![0u8; 2048];
        while let Some(t) = self.browser.poll_transmit() {
            buf[..t.contents.len()].copy_from_slice(&t.contents);
            self.s.handle_datagram(
                self.now,
                LegId::A,
                t.destination,
                t.source,
                &mut buf,
                t.contents.len(),
                &mut out,
            );
        }
        for (from, to, d) in out {
            let _ = self.browser.handle_receive(
                self.now,
                Receive {
                    source: from,
                    destination: to,
                    contents: &d,
                },
            );
        }
    }
}

/// A session bridging a WebRTC leg in `webrtc` to a PCMU trunk leg, ICE done, SRTP keyed.
fn call(webrtc: Codec) -> Call {
    call_with(
        webrtc,
        rvoip_gateway::media::session::DEFAULT_OPUS_COMPLEXITY,
        OpusImpl::Libopus,
    )
}

fn call_with(webrtc: Codec, complexity: u8, imp: OpusImpl) -> Call {
    let mut rng = SplitMix64::new(1);
    let lite = IceLiteAgent::new(&mut rng, &[a(GW)]);
    let mut browser = IceAgent::new(SplitMix64::new(2), IceAgentConfig::default(), &[a(BROWSER)]);
    browser.set_remote_credentials(lite.local_credentials().clone());
    browser
        .add_remote_candidate(lite.local_candidates()[0].clone())
        .unwrap();
    let mut s = MediaSession::new(
        Peer::Bridge,
        LegSpec::WebRtc {
            local: a(GW),
            ice: Box::new(lite),
        },
        Some(LegSpec::Rtp {
            local: a(TRUNK_LOCAL),
            local_rtcp: None,
        }),
        imp,
        1_700_000_000_000_000,
        &mut rng,
    );
    s.set_opus_complexity(complexity);
    s.set_ice_remote(LegId::A, browser.local_credentials().clone());
    s.set_format(LegId::A, MediaFormat::simple(webrtc));
    s.set_format(LegId::B, MediaFormat::simple(Codec::Pcmu));
    s.set_rtp_remote(
        LegId::B,
        RtpRemote {
            addr: a(TRUNK),
            rtcp: None,
            rtcp_mux: true,
            latch: false,
        },
    );
    let k_gw = MasterKey::new(Profile::Aes128CmHmacSha1_80, &[1; 16], &[2; 14]).unwrap();
    let k_br = MasterKey::new(Profile::Aes128CmHmacSha1_80, &[3; 16], &[4; 14]).unwrap();
    s.set_srtp_keys(LegId::A, &k_gw, &k_br);
    let mut c = Call {
        s,
        browser,
        tx: Context::new(&k_br),
        now: Instant::ZERO,
        seq: 0,
    };
    for _ in 0..40 {
        c.ice_exchange();
        c.now += Duration::from_millis(50);
    }
    assert!(
        c.s.ice(LegId::A).unwrap().may_send_to().is_some(),
        "ICE did not connect"
    );
    c
}

/// Payloads of 50 frames of a 1 kHz tone in `codec`.
fn payloads(codec: Codec) -> Vec<Vec<u8>> {
    let mut pcm = [0i16; 160];
    let mut g = ToneGenerator::new(8000, 1000.0, 8000.0);
    let mut enc = encoder(OpusImpl::Libopus, OpusSettings::default()).unwrap();
    (0..50)
        .map(|_| {
            g.fill(&mut pcm);
            let mut out = [0u8; 400];
            let n = match codec {
                Codec::Opus => enc.encode(&pcm, &mut out).unwrap(),
                _ => Law::Ulaw.encode(&pcm, &mut out),
            };
            out[..n].to_vec()
        })
        .collect()
}

/// One batch of `n` call steps: inputs are prepared outside the timed part.
fn run_steps(c: &mut Call, webrtc: Codec, n: usize, sink: &mut Count) -> Duration {
    let from_browser = payloads(webrtc);
    let from_trunk = payloads(Codec::Pcmu);
    let pt_a = MediaFormat::simple(webrtc).pt;
    let frame_a = webrtc.frame_ts();
    // Prepare: SRTP packets from the browser, RTP packets from the trunk.
    let mut pa = Vec::with_capacity(n);
    let mut pb = Vec::with_capacity(n);
    for _ in 0..n {
        let seq = c.seq;
        c.seq = c.seq.wrapping_add(1);
        let k = usize::from(seq) % 50;
        let mut b = vec![0u8; 2048];
        let len = RtpPacketBuilder::new(pt_a, seq, u32::from(seq) * frame_a, 0xB0B0)
            .emit(&from_browser[k], &mut b)
            .unwrap();
        let m = c.tx.protect_rtp(&mut b, len).unwrap();
        pa.push((b, m));
        let mut b = vec![0u8; 2048];
        let len = RtpPacketBuilder::new(0, seq, u32::from(seq) * 160, 0x7777)
            .emit(&from_trunk[k], &mut b)
            .unwrap();
        pb.push((b, len));
    }
    let start = std::time::Instant::now();
    for ((ba, la), (bb, lb)) in pa.iter_mut().zip(pb.iter_mut()) {
        let now = c.now;
        c.s.handle_datagram(now, LegId::A, a(GW), a(BROWSER), ba, *la, sink);
        c.s.handle_datagram(now, LegId::B, a(TRUNK_LOCAL), a(TRUNK), bb, *lb, sink);
        if c.s.poll_timeout().is_some_and(|t| t <= now) {
            c.s.handle_timeout(now, sink);
        }
        c.now += Duration::from_millis(20);
    }
    let el = start.elapsed();
    // Consent (the browser checks every ~5 s); not timed.
    c.ice_exchange();
    el
}

fn per_step(webrtc: Codec, complexity: u8, imp: OpusImpl) -> (Duration, Count) {
    let mut c = call_with(webrtc, complexity, imp);
    let mut sink = Count::default();
    run_steps(&mut c, webrtc, 250, &mut sink); // warm-up
    let mut total = Duration::ZERO;
    let batches = 40;
    for _ in 0..batches {
        total += run_steps(&mut c, webrtc, 250, &mut sink);
    }
    assert!(!c.s.is_ended(), "session ended");
    (total / (batches * 250), sink)
}

/// Resident set size (bytes), from /proc/self/statm.
fn rss() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// Resident memory per session (after 1 s of media so every buffer was touched), measured
/// over 400 sessions kept alive; it covers Rust and libopus memory. Only the gateway's
/// session is kept (the bench's browser agent and SRTP context are dropped).
fn memory_per_session(webrtc: Codec, imp: OpusImpl, keep: &mut Vec<MediaSession>) -> usize {
    const N: usize = 400;
    let mut sink = Count::default();
    let before = rss();
    for _ in 0..N {
        let mut c = call_with(webrtc, 2, imp);
        run_steps(&mut c, webrtc, 50, &mut sink);
        keep.push(c.s);
    }
    rss().saturating_sub(before) / N
}

fn bench(c: &mut Criterion) {
    // Figures first, in one run: memory, then cost per call step and calls per core.
    let mut keep = Vec::new();
    for (name, codec, imp) in [
        ("passthrough", Codec::Pcmu, OpusImpl::Libopus),
        ("transcoding libopus", Codec::Opus, OpusImpl::Libopus),
        ("transcoding ropus", Codec::Opus, OpusImpl::Ropus),
    ] {
        let mem = memory_per_session(codec, imp, &mut keep);
        println!(
            "media_bridge memory {name}: {:.1} KiB resident per session (target <= 64 KiB transcoded)",
            mem as f64 / 1024.0
        );
    }
    // The Opus share of a transcoded call: one encoder + one decoder (8 kHz).
    let mut pairs = Vec::new();
    for imp in OpusImpl::ALL {
        let before = rss();
        for _ in 0..400 {
            let mut e = encoder(imp, OpusSettings::default()).unwrap();
            let mut d = rvoip_gateway::opus::decoder(imp, 8000).unwrap();
            let mut out = [0u8; 400];
            let mut pcm = [0i16; 160];
            let n = e.encode(&pcm, &mut out).unwrap();
            d.decode(Some(&out[..n]), &mut pcm).unwrap();
            pairs.push((e, d));
        }
        let per = rss().saturating_sub(before) / 400;
        println!(
            "media_bridge memory {} encoder+decoder: {:.1} KiB resident per pair",
            imp.name(),
            per as f64 / 1024.0
        );
    }
    drop(black_box(pairs));
    drop(keep);
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
                    total += run_steps(&mut call, codec, n, &mut sink);
                    left -= n;
                }
                total
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
