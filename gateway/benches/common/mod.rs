//! A bridged call for the media benches: the gateway's real [`MediaSession`] with a WebRTC
//! leg (ICE-lite, SRTP keyed) towards a simulated browser and a plain RTP trunk leg (PCMU),
//! driven without sockets.

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use rvoip_core::codec::{Law, ToneGenerator};
use rvoip_core::ice::{IceAgent, IceAgentConfig, IceLiteAgent, Receive};
use rvoip_core::rand::SplitMix64;
use rvoip_core::rtp::RtpPacketBuilder;
use rvoip_core::srtp::{Context, MasterKey, Profile};
use rvoip_core::time::Instant;
use rvoip_gateway::media::session::LegSpec;
use rvoip_gateway::media::{Codec, LegId, MediaFormat, MediaSession, Peer, RtpRemote, Sink};
use rvoip_gateway::opus::{OpusImpl, OpusSettings, encoder};

pub const GW: &str = "127.0.0.1:40000";
pub const TRUNK_LOCAL: &str = "127.0.0.1:40002";
pub const BROWSER: &str = "127.0.0.1:50000";
pub const TRUNK: &str = "10.0.0.2:6000";

pub fn a(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Counts what the session sends (no allocation).
#[derive(Default)]
pub struct Count {
    pub to_trunk: u64,
    pub to_browser: u64,
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

pub struct Call {
    pub s: MediaSession,
    pub browser: IceAgent<SplitMix64>,
    /// The browser's SRTP send context.
    pub tx: Context,
    pub now: Instant,
    pub seq: u16,
    pub webrtc: Codec,
}

/// The stages of setting a call up, reported to the `mark` callback of [`call_with`]
/// (the memory bench counts the heap growth of each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Before the gateway's side exists (the simulated browser's agent already does).
    Start,
    /// `MediaSession::new` with its legs and the ICE-lite agent.
    Session,
    /// Both formats set: the bridge joined (codecs, jitter buffers for transcoding).
    Formats,
    /// DTLS-SRTP keys installed (the leg's SRTP contexts).
    Srtp,
}

impl Call {
    /// Runs the browser's ICE agent against the session (checks, consent).
    pub fn ice_exchange(&mut self) {
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
/// `mark` is called at each [`Stage`].
pub fn call_with(
    webrtc: Codec,
    complexity: u8,
    imp: OpusImpl,
    mark: &mut dyn FnMut(Stage),
) -> Call {
    let mut rng = SplitMix64::new(1);
    let mut browser = IceAgent::new(SplitMix64::new(2), IceAgentConfig::default(), &[a(BROWSER)]);
    mark(Stage::Start);
    let lite = IceLiteAgent::new(&mut rng, &[a(GW)]);
    let lite_creds = lite.local_credentials().clone();
    let lite_cand = lite.local_candidates()[0].clone();
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
    mark(Stage::Session);
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
    mark(Stage::Formats);
    let k_gw = MasterKey::new(Profile::Aes128CmHmacSha1_80, &[1; 16], &[2; 14]).unwrap();
    let k_br = MasterKey::new(Profile::Aes128CmHmacSha1_80, &[3; 16], &[4; 14]).unwrap();
    s.set_srtp_keys(LegId::A, &k_gw, &k_br);
    mark(Stage::Srtp);
    browser.set_remote_credentials(lite_creds);
    browser.add_remote_candidate(lite_cand).unwrap();
    let mut c = Call {
        s,
        browser,
        tx: Context::new(&k_br),
        now: Instant::ZERO,
        seq: 0,
        webrtc,
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

/// Payloads of 50 frames of a 1 kHz tone in `codec` (made once per codec).
pub fn payloads(codec: Codec) -> &'static [Vec<u8>] {
    static OPUS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    static PCMU: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    let make = || {
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
    };
    match codec {
        Codec::Opus => OPUS.get_or_init(make),
        _ => PCMU.get_or_init(make),
    }
}

/// Prepared input packets for `n` call steps: SRTP packets from the browser, RTP packets
/// from the trunk.
pub type Steps = Vec<((Vec<u8>, usize), (Vec<u8>, usize))>;

/// Prepares `n` call steps (not timed).
pub fn prepare(c: &mut Call, n: usize) -> Steps {
    let from_browser = payloads(c.webrtc);
    let from_trunk = payloads(Codec::Pcmu);
    let pt_a = MediaFormat::simple(c.webrtc).pt;
    let frame_a = c.webrtc.frame_ts();
    (0..n)
        .map(|_| {
            let seq = c.seq;
            c.seq = c.seq.wrapping_add(1);
            let k = usize::from(seq) % 50;
            let mut b = vec![0u8; 2048];
            let len = RtpPacketBuilder::new(pt_a, seq, u32::from(seq) * frame_a, 0xB0B0)
                .emit(&from_browser[k], &mut b)
                .unwrap();
            let m = c.tx.protect_rtp(&mut b, len).unwrap();
            let mut t = vec![0u8; 2048];
            let len = RtpPacketBuilder::new(0, seq, u32::from(seq) * 160, 0x7777)
                .emit(&from_trunk[k], &mut t)
                .unwrap();
            ((b, m), (t, len))
        })
        .collect()
}

/// Feeds prepared steps (20 ms of both directions each); returns the CPU time this thread
/// spent (not wall time: other processes on a shared machine do not inflate it).
pub fn feed(c: &mut Call, steps: &mut Steps, sink: &mut Count) -> Duration {
    let start = cpu_time::ThreadTime::now();
    for ((ba, la), (bb, lb)) in steps.iter_mut() {
        let now = c.now;
        c.s.handle_datagram(now, LegId::A, a(GW), a(BROWSER), ba, *la, sink);
        c.s.handle_datagram(now, LegId::B, a(TRUNK_LOCAL), a(TRUNK), bb, *lb, sink);
        if c.s.poll_timeout().is_some_and(|t| t <= now) {
            c.s.handle_timeout(now, sink);
        }
        c.now += Duration::from_millis(20);
    }
    start.elapsed()
}

/// One batch of `n` call steps: inputs are prepared outside the timed part; then the
/// browser runs its consent checks (not timed).
pub fn run_steps(c: &mut Call, n: usize, sink: &mut Count) -> Duration {
    let mut steps = prepare(c, n);
    let el = feed(c, &mut steps, sink);
    drop(steps);
    c.ice_exchange();
    el
}
