//! The gateway load generator (the `loadgen` binary): drives the real `gateway` binary over
//! real sockets and measures what DESIGN.md's gateway targets are about — calls per core,
//! added latency, memory per call.
//!
//! One run:
//! 1. binds the sink trunk ([`sink`]: a core UA answering every INVITE with PCMU) and starts
//!    the `gateway` binary ([`gwproc`]) with a configuration routing `+1555…` to it;
//! 2. starts `calls` WebRTC calls at `rate` per second ([`client`]: SIP over WebSocket with
//!    REGISTER and a digest-challenged INVITE, then ICE + DTLS + SRTP from the native test
//!    client), each sending 20 ms frames: PCMU (passthrough, the gateway relays SRTP⇄RTP) or
//!    Opus (transcoding Opus⇄PCMU); the sink sends PCMU back once the caller's media flows;
//! 3. once every call is set up, measures a steady window of `duration`: the gateway
//!    process's CPU time and resident memory, the load generator's own CPU time, and — in
//!    the same window — `baseline` plain UDP streams between two sockets of the load
//!    generator (the same path without the gateway: loopback plus the load generator's
//!    own scheduling);
//! 4. stops sending, drains, hangs every call up, and checks that the gateway's counters
//!    (`/api/stats`) return to zero.
//!
//! Latency is one-way, `arrival − send` on the load generator's own monotonic clock (both
//! ends live in this process; see [`stats`]). "Added" latency is the gateway path's
//! percentile minus the baseline path's percentile from the same window.

pub mod client;
pub mod gwproc;
pub mod relay;
pub mod sink;
pub mod stats;

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use rvoip_core::codec::ToneGenerator;
use tokio::net::UdpSocket;
use tokio::sync::watch;

use crate::media::Codec;
use crate::media::codec::Encoder;
use crate::opus::OpusImpl;
use crate::server::Stats;
use stats::{CallFlows, Clock, DirectionReport, Flow, Matcher, RecvLog, Summary, embed_index};

/// Where the run is; every task watches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Calls are set up and media flows.
    Run,
    /// Senders stop; receivers drain what is in flight.
    StopSending,
    /// Clients hang up.
    HangUp,
    /// Everything stops.
    Done,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Concurrent calls.
    pub calls: usize,
    /// Length of the measured steady window (all calls up).
    pub duration: Duration,
    /// Opus on the WebRTC leg (transcoding) instead of PCMU (passthrough).
    pub transcode: bool,
    /// Calls started per second during the ramp.
    pub rate: f64,
    /// REGISTER before calling.
    pub register: bool,
    /// The `gateway` binary.
    pub gateway_bin: PathBuf,
    /// `RUST_LOG` of the gateway process.
    pub gateway_log: String,
    /// Baseline UDP streams (no gateway) run during the window.
    pub baseline_streams: usize,
    /// Drive an already running gateway instead: its HTTP address and process id. Its
    /// configuration must be [`gwproc::config_toml`]'s (users `load0…`, console password,
    /// `+1555…` to a trunk at the sink on `sink_port`).
    pub connect: Option<(SocketAddr, u32)>,
    /// The sink's SIP port (0: any; set it with `connect`).
    pub sink_port: u16,
    /// Appended to the started gateway's configuration (e.g. `[media]` settings).
    pub gateway_extra: String,
    /// After the gateway run, measure a bare UDP relay ([`relay`]) with as many streams.
    pub relay_floor: bool,
    /// Connect and register every client first (paced at `rate`), sample the gateway's
    /// RSS, then place the calls (paced at `rate`): the memory figure splits into what a
    /// browser connection + registration holds and what a call adds.
    pub staged: bool,
    /// Clients end their calls by closing their WebSockets, all at once, instead of with
    /// BYE: the report's teardown line measures the gateway's mass-disconnect path
    /// (`Shared::flow_closed`).
    pub close_to_hang_up: bool,
}

impl LoadConfig {
    /// `calls` passthrough calls for `duration`, 50 calls/s, with the gateway binary next
    /// to the running executable.
    pub fn new(calls: usize, duration: Duration) -> LoadConfig {
        let bin = std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(|d| d.join("gateway")))
            .unwrap_or_else(|| PathBuf::from("gateway"));
        LoadConfig {
            calls,
            duration,
            transcode: false,
            rate: 50.0,
            register: true,
            gateway_bin: bin,
            gateway_log: "warn".into(),
            baseline_streams: (calls / 4).clamp(5, 50),
            connect: None,
            sink_port: 0,
            gateway_extra: String::new(),
            relay_floor: true,
            staged: false,
            close_to_hang_up: false,
        }
    }
}

/// Why a run could not be made.
#[derive(Debug)]
#[non_exhaustive]
pub enum LoadError {
    /// A local I/O operation failed.
    Io(&'static str, std::io::Error),
    /// The gateway process failed or misbehaved.
    Gateway(String),
}

impl LoadError {
    fn io(what: &'static str) -> impl FnOnce(std::io::Error) -> LoadError {
        move |e| LoadError::Io(what, e)
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io(what, e) => write!(f, "{what}: {e}"),
            LoadError::Gateway(m) => write!(f, "gateway: {m}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// State shared by every task of a run.
pub struct Ctx {
    /// The run's configuration.
    pub cfg: LoadConfig,
    /// The shared clock.
    pub clock: Clock,
    /// The gateway's HTTP/WebSocket address.
    pub gateway: SocketAddr,
    /// Send logs of each call (indexed by call).
    pub flows: Vec<CallFlows>,
    /// The run's phase.
    pub phase: watch::Sender<Phase>,
    /// What the clients send, pre-encoded, packet `k` carrying frame `k % len`: a PCMU
    /// 1 kHz tone (passthrough) or Opus bursts and silence ([`stats::is_burst`]).
    pub a_frames: Vec<Vec<u8>>,
    /// What the sink sends: a PCMU tone (passthrough) or PCMU bursts and silence.
    pub b_frames: Vec<Vec<u8>>,
    /// Print the clients' SIP messages (`LOADGEN_SIPTRACE` set).
    pub trace: bool,
    settled_flags: Vec<AtomicBool>,
    settled: AtomicUsize,
    /// Clients connected and registered ([`LoadConfig::staged`]).
    registered: AtomicUsize,
    /// When the staged calls start (`None` until every client registered).
    calls_from: watch::Sender<Option<tokio::time::Instant>>,
}

impl Ctx {
    /// Marks call `i` as set up or failed (once).
    pub fn settle(&self, i: usize) {
        if let Some(f) = self.settled_flags.get(i)
            && !f.swap(true, Ordering::SeqCst)
        {
            self.settled.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Staged runs ([`LoadConfig::staged`]): client `i` is connected and registered; waits
    /// until every client is, then until its turn in the call ramp. Returns at once when
    /// the run is not staged.
    pub async fn wait_call_turn(&self, i: usize) {
        if !self.cfg.staged {
            return;
        }
        self.registered.fetch_add(1, Ordering::SeqCst);
        let mut rx = self.calls_from.subscribe();
        let Ok(from) = rx.wait_for(Option::is_some).await.map(|t| *t) else {
            return;
        };
        if let Some(t0) = from {
            tokio::time::sleep_until(t0 + ramp_gap(self.cfg.rate).mul_f64(i as f64)).await;
        }
    }
}

/// The interval between two clients' starts in a ramp at `rate` per second.
fn ramp_gap(rate: f64) -> Duration {
    Duration::from_secs_f64(1.0 / rate.max(0.1))
}

/// Pre-encoded 20 ms frames of `codec` at `rate`: 50 frames of a 1 kHz tone, or (`bursts`)
/// [`stats::BURST_PERIOD`] frames of which the first is the tone and the rest silence.
/// The cycle is encoded twice and the second pass kept, so the encoder state runs on
/// seamlessly when the frames repeat.
fn encode_frames(codec: Codec, rate: u32, bursts: bool) -> Vec<Vec<u8>> {
    // Invariant: libopus accepts the default settings at 48 kHz.
    let mut enc = Encoder::new(codec, rate, OpusImpl::Libopus, 5).expect("encoder");
    let mut tone = ToneGenerator::new(rate, 1000.0, 8000.0);
    let mut pcm = vec![0i16; rate as usize / 50];
    let len = if bursts { stats::BURST_PERIOD } else { 50 };
    let mut frames: Vec<Vec<u8>> = (0..2 * len)
        .map(|k| {
            if bursts && !stats::is_burst(k) {
                pcm.fill(0);
            } else {
                tone.fill(&mut pcm);
            }
            let mut out = vec![0u8; 1200];
            let n = enc.encode(&pcm, &mut out);
            out.truncate(n);
            out
        })
        .collect();
    frames.split_off(len)
}

/// The result of a run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Calls asked for.
    pub calls: usize,
    /// Transcoding (Opus⇄PCMU) or passthrough (PCMU).
    pub transcode: bool,
    /// Calls that were set up with media and lasted to the hang-up.
    pub ok: usize,
    /// Failed calls' reasons (index, reason), first few.
    pub failures: Vec<(usize, String)>,
    /// Failed calls.
    pub failed: usize,
    /// INVITE → 200 (ms).
    pub setup_ms: Summary,
    /// 200 → SRTP ready (ms).
    pub media_ms: Summary,
    /// Client → gateway → sink.
    pub a_to_b: DirectionReport,
    /// Sink → gateway → client.
    pub b_to_a: DirectionReport,
    /// The same path without the gateway, both directions, same window.
    pub baseline: DirectionReport,
    /// Steady window length (s).
    pub window_s: f64,
    /// Gateway CPU time in the window (s).
    pub gw_cpu_s: f64,
    /// Gateway CPU time during the ramp (s).
    pub gw_ramp_cpu_s: f64,
    /// Load generator CPU time in the window (s).
    pub lg_cpu_s: f64,
    /// Gateway RSS before the calls (KiB).
    pub rss_idle_kib: u64,
    /// Gateway RSS at the end of the window (KiB).
    pub rss_loaded_kib: u64,
    /// Staged runs: gateway RSS once every client is connected and registered, before
    /// the calls (KiB).
    pub rss_registered_kib: Option<u64>,
    /// Gateway counters after the hang-up.
    pub after: Option<Stats>,
    /// Whether the counters returned to zero.
    pub clean: bool,
    /// CPUs of the machine.
    pub cpus: usize,
    /// RTP packets sent into the gateway (both directions) during the window.
    pub window_packets: u64,
    /// The machine's 1-minute load average at the start and the end of the window.
    pub loadavg: (f64, f64),
    /// At the end of the window: live calls on `/api/calls` and how many it reports as
    /// transcoded (checks that the run measured the path it claims).
    pub gw_calls: (usize, usize),
    /// The bare relay measured after the gateway run (the kernel's floor).
    pub relay: Option<RelayReport>,
    /// [`LoadConfig::close_to_hang_up`] runs: from the hang-up to no live call on the
    /// gateway (s), and the gateway's CPU time meanwhile (s).
    pub teardown: Option<(f64, f64)>,
}

/// A bare UDP relay ([`relay`]) carrying as many streams as the gateway carried calls.
#[derive(Debug, Clone, Default)]
pub struct RelayReport {
    /// Streams (each 50 packets/s both ways, like a call).
    pub streams: usize,
    /// Window (s).
    pub window_s: f64,
    /// Relay thread CPU time in the window (s).
    pub cpu_s: f64,
    /// Packets relayed in the window.
    pub packets: u64,
    /// Both directions through the relay.
    pub path: DirectionReport,
}

impl RelayReport {
    /// Relay CPU time per packet (µs).
    pub fn cpu_per_packet_us(&self) -> f64 {
        if self.packets == 0 {
            return 0.0;
        }
        self.cpu_s * 1e6 / self.packets as f64
    }
}

impl Report {
    /// Gateway cores busy per call in the window.
    pub fn cores_per_call(&self) -> f64 {
        if self.ok == 0 || self.window_s <= 0.0 {
            return 0.0;
        }
        self.gw_cpu_s / self.window_s / self.ok as f64
    }

    /// Calls one core of the gateway carries at this per-call cost.
    pub fn calls_per_core(&self) -> f64 {
        let c = self.cores_per_call();
        if c > 0.0 { 1.0 / c } else { f64::INFINITY }
    }

    /// Gateway CPU time per RTP packet relayed in the window (µs).
    pub fn cpu_per_packet_us(&self) -> f64 {
        if self.window_packets == 0 {
            return 0.0;
        }
        self.gw_cpu_s * 1e6 / self.window_packets as f64
    }

    /// Calls per core at the nominal 50 packets/s each way (100 packets/s per call) and
    /// this CPU time per packet: the figure when the load generator, sharing the CPUs,
    /// could not send at the full rate.
    pub fn calls_per_core_nominal(&self) -> f64 {
        let c = self.cpu_per_packet_us() * 100.0 / 1e6;
        if c > 0.0 { 1.0 / c } else { f64::INFINITY }
    }

    /// RSS growth per call (KiB).
    pub fn kib_per_call(&self) -> f64 {
        if self.ok == 0 {
            return 0.0;
        }
        self.rss_loaded_kib.saturating_sub(self.rss_idle_kib) as f64 / self.ok as f64
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = if self.transcode {
            "transcoding Opus⇄PCMU"
        } else {
            "passthrough PCMU (SRTP⇄RTP)"
        };
        writeln!(f, "== rvoip gateway load: {} calls, {mode}", self.calls)?;
        writeln!(
            f,
            "calls      set up {}/{} (failed {}){}",
            self.ok,
            self.calls,
            self.failed,
            self.failures
                .iter()
                .map(|(i, e)| format!("\n           #{i}: {e}"))
                .collect::<String>()
        )?;
        let s = |x: &Summary| format!("p50 {:.2}  p99 {:.2}  max {:.2}", x.p50, x.p99, x.max);
        writeln!(
            f,
            "gateway    /api/calls at the end of the window: {} calls, {} transcoding",
            self.gw_calls.0, self.gw_calls.1
        )?;
        writeln!(f, "setup      INVITE→200 ms: {}", s(&self.setup_ms))?;
        writeln!(f, "           200→SRTP ms:   {}", s(&self.media_ms))?;
        let d = |name: &str, r: &DirectionReport| {
            format!(
                "{name}\n           timed: sent {} recv {} loss {:.3}%  latency µs: {}\n           \
                 rtp packets sent {} recv {}; dup/unmatched/neg {:?}",
                r.sent,
                r.received,
                r.loss() * 100.0,
                s(&r.latency_us),
                r.packets_sent,
                r.packets_received,
                r.anomalies
            )
        };
        writeln!(f, "{}", d("A→B (client→gw→sink)", &self.a_to_b))?;
        writeln!(f, "{}", d("B→A (sink→gw→client)", &self.b_to_a))?;
        writeln!(f, "{}", d("baseline (no gateway)", &self.baseline))?;
        for (name, r) in [("A→B", &self.a_to_b), ("B→A", &self.b_to_a)] {
            writeln!(
                f,
                "added      {name}: p50 {:.0} µs  p99 {:.0} µs  (gateway path − baseline, per percentile)",
                r.latency_us.p50 - self.baseline.latency_us.p50,
                r.latency_us.p99 - self.baseline.latency_us.p99,
            )?;
        }
        writeln!(
            f,
            "cpu        gateway {:.2} s in {:.1} s = {:.3} cores; {:.3} % of a core per call → {:.0} calls/core as offered",
            self.gw_cpu_s,
            self.window_s,
            self.gw_cpu_s / self.window_s.max(1e-9),
            self.cores_per_call() * 100.0,
            self.calls_per_core()
        )?;
        writeln!(
            f,
            "           {} RTP packets in ({:.0}/s per call of 100 nominal): {:.1} µs CPU per packet → {:.0} calls/core at 50 packets/s each way",
            self.window_packets,
            self.window_packets as f64 / self.window_s.max(1e-9) / self.ok.max(1) as f64,
            self.cpu_per_packet_us(),
            self.calls_per_core_nominal()
        )?;
        writeln!(
            f,
            "           load generator {:.3} cores in the window; gateway ramp (setup) {:.2} s CPU = {:.1} ms per call; machine {} CPUs (shared), load average {:.1} → {:.1}",
            self.lg_cpu_s / self.window_s.max(1e-9),
            self.gw_ramp_cpu_s,
            self.gw_ramp_cpu_s * 1000.0 / self.ok.max(1) as f64,
            self.cpus,
            self.loadavg.0,
            self.loadavg.1
        )?;
        writeln!(
            f,
            "memory     gateway RSS {} KiB idle → {} KiB loaded = {:.1} KiB per call",
            self.rss_idle_kib,
            self.rss_loaded_kib,
            self.kib_per_call()
        )?;
        if let Some(reg) = self.rss_registered_kib {
            let n = self.ok.max(1) as f64;
            writeln!(
                f,
                "           staged: {} KiB with every client registered = {:.1} KiB per connection + registration, {:.1} KiB per call on top",
                reg,
                reg.saturating_sub(self.rss_idle_kib) as f64 / self.calls.max(1) as f64,
                self.rss_loaded_kib.saturating_sub(reg) as f64 / n
            )?;
        }
        if let Some((s, cpu)) = self.teardown {
            writeln!(
                f,
                "teardown   {} WebSockets closed at once: no live call after {:.0} ms, gateway CPU {:.0} ms = {:.0} µs per call",
                self.calls,
                s * 1000.0,
                cpu * 1000.0,
                cpu * 1e6 / self.calls.max(1) as f64
            )?;
        }
        write!(
            f,
            "after      counters back to zero: {} {:?}",
            self.clean, self.after
        )?;
        if let Some(r) = &self.relay {
            let us = r.cpu_per_packet_us();
            write!(
                f,
                "\nfloor      bare UDP relay (1 thread, recvfrom→sendto, no SRTP), {} streams, {:.1} s: \
                 {} packets, {:.1} µs CPU per packet → {:.0} calls/core; latency µs {}; \
                 the gateway costs {:.2}× the bare relay per packet",
                r.streams,
                r.window_s,
                r.packets,
                us,
                if us > 0.0 { 1e6 / (us * 100.0) } else { 0.0 },
                s(&r.path.latency_us),
                if us > 0.0 {
                    self.cpu_per_packet_us() / us
                } else {
                    0.0
                },
            )?;
        }
        Ok(())
    }
}

/// Runs the load described by `cfg` against a freshly started gateway process, or the
/// running one named by [`LoadConfig::connect`].
pub async fn run(cfg: LoadConfig) -> Result<Report, LoadError> {
    let clock = Clock::start();
    let sink_sock = UdpSocket::bind(("127.0.0.1", cfg.sink_port))
        .await
        .map_err(LoadError::io("bind the sink"))?;
    if let Some((http, pid)) = cfg.connect {
        // It may still be starting (`gateway … & loadgen --connect …`).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while let Err(e) = gwproc::stats(http).await {
            if tokio::time::Instant::now() > deadline {
                return Err(e);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        return drive(cfg, clock, sink_sock, http, pid).await;
    }
    let sink_addr = sink_sock.local_addr().map_err(LoadError::io("sink"))?;
    let gw = gwproc::GatewayProcess::spawn(
        &cfg.gateway_bin,
        sink_addr,
        cfg.calls,
        &cfg.gateway_log,
        &cfg.gateway_extra,
    )
    .await?;
    let result = drive(cfg, clock, sink_sock, gw.http, gw.pid).await;
    if result.is_err() {
        eprintln!("gateway log tail:\n{}", gw.log_tail());
    }
    gw.stop().await;
    result
}

async fn drive(
    cfg: LoadConfig,
    clock: Clock,
    sink_sock: UdpSocket,
    http: SocketAddr,
    pid: u32,
) -> Result<Report, LoadError> {
    let n = cfg.calls;
    let (phase, _) = watch::channel(Phase::Run);
    let ctx = Arc::new(Ctx {
        clock,
        gateway: http,
        flows: (0..n).map(|_| CallFlows::default()).collect(),
        phase,
        a_frames: if cfg.transcode {
            encode_frames(Codec::Opus, 48_000, true)
        } else {
            encode_frames(Codec::Pcmu, 8_000, false)
        },
        b_frames: encode_frames(Codec::Pcmu, 8_000, cfg.transcode),
        settled_flags: (0..n).map(|_| AtomicBool::new(false)).collect(),
        settled: AtomicUsize::new(0),
        registered: AtomicUsize::new(0),
        calls_from: watch::channel(None).0,
        trace: std::env::var_os("LOADGEN_SIPTRACE").is_some(),
        cfg,
    });
    let mut sink = sink::Sink::start(ctx.clone(), sink_sock);
    let mut report = Report {
        calls: n,
        transcode: ctx.cfg.transcode,
        cpus: std::thread::available_parallelism().map_or(1, |c| c.get()),
        ..Report::default()
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    report.rss_idle_kib = gwproc::rss_kib(pid).unwrap_or(0);
    let cpu_start = gwproc::cpu_seconds(pid).unwrap_or(0.0);

    // Ramp.
    let gap = ramp_gap(ctx.cfg.rate);
    let mut clients = Vec::with_capacity(n);
    let mut next = tokio::time::Instant::now();
    for i in 0..n {
        tokio::time::sleep_until(next).await;
        next += gap;
        let ctx2 = ctx.clone();
        clients.push(tokio::spawn(async move {
            let r = client::run(ctx2.clone(), i).await;
            ctx2.settle(i);
            r
        }));
    }
    if ctx.cfg.staged {
        // Every client registered (or failed, which settles it).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while ctx.registered.load(Ordering::SeqCst) + ctx.settled.load(Ordering::SeqCst) < n
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        report.rss_registered_kib = gwproc::rss_kib(pid);
        let _ = ctx.calls_from.send(Some(tokio::time::Instant::now()));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while ctx.settled.load(Ordering::SeqCst) < n && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Let the last calls' media settle (jitter buffers fill) before measuring.
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Steady window.
    let base = baseline(ctx.clone(), ctx.cfg.baseline_streams, &ctx.phase, None).await?;
    let t1 = tokio::time::Instant::now();
    let cpu1 = gwproc::cpu_seconds(pid).unwrap_or(0.0);
    let lg1 = gwproc::cpu_seconds(std::process::id()).unwrap_or(0.0);
    report.gw_ramp_cpu_s = cpu1 - cpu_start;
    let sent_now = || -> u64 {
        ctx.flows
            .iter()
            .map(|c| (c.a_to_b.sent() + c.b_to_a.sent()) as u64)
            .sum()
    };
    let packets1 = sent_now();
    let load1 = loadavg();
    tokio::time::sleep(ctx.cfg.duration).await;
    let cpu2 = gwproc::cpu_seconds(pid).unwrap_or(0.0);
    let lg2 = gwproc::cpu_seconds(std::process::id()).unwrap_or(0.0);
    report.window_s = t1.elapsed().as_secs_f64();
    report.rss_loaded_kib = gwproc::rss_kib(pid).unwrap_or(0);
    report.gw_cpu_s = cpu2 - cpu1;
    report.lg_cpu_s = lg2 - lg1;
    report.window_packets = sent_now() - packets1;
    report.gw_calls = gwproc::calls_transcoding(http).await.unwrap_or((0, 0));
    report.loadavg = (load1, loadavg());

    // Stop sending, drain, hang up.
    let _ = ctx.phase.send(Phase::StopSending);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let hang_up = tokio::time::Instant::now();
    let cpu_hang_up = gwproc::cpu_seconds(pid).unwrap_or(0.0);
    let _ = ctx.phase.send(Phase::HangUp);
    if ctx.cfg.close_to_hang_up {
        let deadline = hang_up + Duration::from_secs(30);
        while gwproc::stats(http).await.is_ok_and(|s| s.calls > 0)
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let cpu = gwproc::cpu_seconds(pid).unwrap_or(0.0) - cpu_hang_up;
        report.teardown = Some((hang_up.elapsed().as_secs_f64(), cpu));
    }
    let mut results = Vec::with_capacity(n);
    for c in clients {
        match tokio::time::timeout(Duration::from_secs(30), c).await {
            Ok(Ok(r)) => results.push(r),
            Ok(Err(e)) => results.push(client::ClientResult {
                error: Some(format!("client task: {e}")),
                ..Default::default()
            }),
            Err(_) => results.push(client::ClientResult {
                error: Some("client did not finish".into()),
                ..Default::default()
            }),
        }
    }
    let base_logs = base.finish().await;
    // The gateway must release everything.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let s = gwproc::stats(http).await.ok();
        report.after = s;
        report.clean = s.is_some_and(|s| {
            s.calls == 0
                && s.call_tasks == 0
                && s.legs == 0
                && s.routes == 0
                && s.flow_watchers == 0
                && s.media_ports == 0
                && s.flows == 0
        });
        if report.clean || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = ctx.phase.send(Phase::Done);
    let mut sink_logs = Vec::new();
    while let Ok(Some(c)) =
        tokio::time::timeout(Duration::from_millis(500), sink.results.recv()).await
    {
        sink_logs.push(c.recv);
    }
    let _ = sink.join.await;
    if ctx.cfg.relay_floor {
        report.relay = Some(relay_floor(ctx.clone(), n).await?);
    }

    // Figures.
    let mut setup: Vec<u32> = Vec::new();
    let mut media: Vec<u32> = Vec::new();
    let mut b_to_a = Vec::new();
    for r in &results {
        match &r.error {
            Some(e) => {
                report.failed += 1;
                if report.failures.len() < 5 {
                    report.failures.push((r.index, e.clone()));
                }
            }
            None => report.ok += 1,
        }
        setup.extend(
            r.setup_ns
                .map(|v| (v / 1000).min(u64::from(u32::MAX)) as u32),
        );
        media.extend(
            r.media_ns
                .map(|v| (v / 1000).min(u64::from(u32::MAX)) as u32),
        );
        b_to_a.push(r.recv.clone());
    }
    report.setup_ms = Summary::of(&mut setup, 1e-3);
    report.media_ms = Summary::of(&mut media, 1e-3);
    // Transcoded streams are timed (and their loss counted) on bursts.
    let transcode = ctx.cfg.transcode;
    let sent = |f: fn(&CallFlows) -> &Flow| {
        ctx.flows
            .iter()
            .map(|c| {
                let fl = f(c);
                (if transcode { fl.bursts() } else { fl.sent() }) as u64
            })
            .sum()
    };
    let all = |f: fn(&CallFlows) -> &Flow| ctx.flows.iter().map(|c| f(c).sent() as u64).sum();
    report.a_to_b = DirectionReport::from_logs(&sink_logs, sent(|c| &c.a_to_b));
    report.a_to_b.packets_sent = all(|c| &c.a_to_b);
    report.b_to_a = DirectionReport::from_logs(&b_to_a, sent(|c| &c.b_to_a));
    report.b_to_a.packets_sent = all(|c| &c.b_to_a);
    report.baseline = DirectionReport::from_logs(&base_logs.0, base_logs.1);
    report.baseline.packets_sent = base_logs.1;
    Ok(report)
}

/// The 1-minute load average (0 when unknown).
fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// Runs `streams` timed streams through a bare relay ([`relay`]) for the configured
/// window (at most 10 s) and measures the relay thread's CPU time.
async fn relay_floor(ctx: Arc<Ctx>, streams: usize) -> Result<RelayReport, LoadError> {
    let mut relay = relay::Relay::start(streams).map_err(LoadError::io("relay"))?;
    let (phase, _) = watch::channel(Phase::Run);
    let base = baseline(ctx.clone(), streams, &phase, Some(relay.addrs())).await?;
    // Every stream latched both ends.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t0 = tokio::time::Instant::now();
    let (cpu0, p0) = (relay.cpu_seconds().unwrap_or(0.0), relay.packets());
    tokio::time::sleep(ctx.cfg.duration.min(Duration::from_secs(10))).await;
    let (cpu1, p1) = (relay.cpu_seconds().unwrap_or(0.0), relay.packets());
    let window_s = t0.elapsed().as_secs_f64();
    let _ = phase.send(Phase::StopSending);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = phase.send(Phase::HangUp);
    let (logs, sent) = base.finish().await;
    drop(relay);
    let mut path = DirectionReport::from_logs(&logs, sent);
    path.packets_sent = sent;
    Ok(RelayReport {
        streams,
        window_s,
        cpu_s: cpu1 - cpu0,
        packets: p1 - p0,
        path,
    })
}

/// Baseline streams running in the window.
struct Baseline {
    tasks: Vec<tokio::task::JoinHandle<RecvLog>>,
    flows: Arc<Vec<Flow>>,
}

impl Baseline {
    /// The receive logs and the packets sent.
    async fn finish(self) -> (Vec<RecvLog>, u64) {
        let mut logs = Vec::new();
        for t in self.tasks {
            if let Ok(l) = t.await {
                logs.push(l);
            }
        }
        (logs, self.flows.iter().map(|f| f.sent() as u64).sum())
    }
}

/// Starts `streams` pairs of plain UDP sockets exchanging 172-byte RTP packets every
/// 20 ms both ways while `phase` is [`Phase::Run`]: the measurement path without the
/// gateway, directly or `via` a relay (stream `s` enters at `via[s].0` from its first
/// socket and at `via[s].1` from its second).
async fn baseline(
    ctx: Arc<Ctx>,
    streams: usize,
    phase: &watch::Sender<Phase>,
    via: Option<&[(SocketAddr, SocketAddr)]>,
) -> Result<Baseline, LoadError> {
    let flows: Arc<Vec<Flow>> = Arc::new((0..2 * streams).map(|_| Flow::default()).collect());
    let mut tasks = Vec::new();
    for s in 0..streams {
        let a = UdpSocket::bind("127.0.0.1:0")
            .await
            .map_err(LoadError::io("baseline"))?;
        let b = UdpSocket::bind("127.0.0.1:0")
            .await
            .map_err(LoadError::io("baseline"))?;
        let (aa, ba) = (
            a.local_addr().map_err(LoadError::io("baseline"))?,
            b.local_addr().map_err(LoadError::io("baseline"))?,
        );
        let (a_peer, b_peer) = via.and_then(|v| v.get(s).copied()).unwrap_or((ba, aa));
        for (sock, peer, out_flow, in_flow) in
            [(a, a_peer, 2 * s, 2 * s + 1), (b, b_peer, 2 * s + 1, 2 * s)]
        {
            let ctx = ctx.clone();
            let flows = flows.clone();
            let mut phase = phase.subscribe();
            tasks.push(tokio::spawn(async move {
                let mut log = RecvLog::default();
                let mut m = Matcher::embedded();
                let mut tick = tokio::time::interval(Duration::from_millis(20));
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                let mut buf = [0u8; 2048];
                let mut pkt = [0u8; 172];
                loop {
                    tokio::select! {
                        r = sock.recv_from(&mut buf) => {
                            let Ok((n, _)) = r else { continue };
                            let at = ctx.clock.ns();
                            log.packets += 1;
                            let f = &flows[in_flow];
                            if let Some(k) = buf.get(12..n).and_then(|p| m.index(p, at, f)) {
                                log.on_packet(k, at, &flows[in_flow]);
                            }
                        }
                        _ = tick.tick() => {
                            if *phase.borrow() != Phase::Run {
                                continue;
                            }
                            pkt[12..].fill(0xff);
                            let k = flows[out_flow].log_send(ctx.clock.ns());
                            embed_index(&mut pkt[12..], k);
                            let _ = sock.send_to(&pkt, peer).await;
                        }
                        c = phase.changed() => {
                            if c.is_err() || *phase.borrow() >= Phase::HangUp {
                                break;
                            }
                        }
                    }
                }
                log
            }));
        }
    }
    Ok(Baseline { tasks, flows })
}
