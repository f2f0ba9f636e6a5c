//! The `loadgen` binary: starts the `gateway` binary (next to this one, or `--gateway-bin`)
//! with a configuration routing `+1555…` to an in-process sink trunk, runs `--calls`
//! concurrent WebRTC calls (SIP over WebSocket, ICE, DTLS, SRTP) through it for
//! `--duration`, and prints setup time, one-way latency against a no-gateway baseline,
//! loss, the gateway's CPU time and memory per call, and whether it released everything.
//!
//! ```text
//! cargo build --release -p rvoip-gateway --bins
//! target/release/loadgen --calls 200 --duration 20s --codec pcmu
//! target/release/loadgen --calls 50 --duration 20s --codec opus
//! # or against a gateway you started yourself:
//! target/release/loadgen --calls 100 --print-config > load.toml
//! target/release/gateway --config load.toml &
//! target/release/loadgen --calls 100 --connect 127.0.0.1:8080 --gateway-pid $! --sink-port 5090
//! ```
//!
//! Exit status: 0 when every call was set up and the gateway's counters returned to zero,
//! 1 otherwise, 2 for bad arguments.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use rvoip_gateway::loadgen::{self, LoadConfig, gwproc};

/// Load generator for the rvoip gateway.
#[derive(Debug, Parser)]
#[command(name = "loadgen", version, about)]
struct Args {
    /// Concurrent calls.
    #[arg(long, default_value_t = 50)]
    calls: usize,
    /// Measured steady window once every call is up (`20s`, `500ms`, `2m`).
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    duration: Duration,
    /// Codec of the WebRTC leg: `pcmu` (passthrough) or `opus` (transcoded to PCMU).
    #[arg(long, value_enum, default_value_t = CodecArg::Pcmu)]
    codec: CodecArg,
    /// Calls started per second during the ramp.
    #[arg(long, default_value_t = 50.0)]
    rate: f64,
    /// Do not REGISTER before calling.
    #[arg(long)]
    no_register: bool,
    /// The gateway binary (default: `gateway` next to this executable).
    #[arg(long)]
    gateway_bin: Option<PathBuf>,
    /// `RUST_LOG` of the gateway process.
    #[arg(long, default_value = "warn")]
    gateway_log: String,
    /// TOML appended to the started gateway's configuration, e.g.
    /// `--gateway-extra $'[media]\nthreads = 1\nbatch_delay_us = 200'`.
    #[arg(long, default_value = "")]
    gateway_extra: String,
    /// Skip the bare-relay floor measured after the gateway run.
    #[arg(long)]
    no_relay_floor: bool,
    /// Connect and register every client first, then place the calls: the memory line
    /// splits into per connection + registration and per call.
    #[arg(long)]
    staged: bool,
    /// End the calls by closing every client's WebSocket at once instead of with BYE: the
    /// teardown line measures the gateway's mass-disconnect path.
    #[arg(long)]
    close_to_hang_up: bool,
    /// Baseline UDP stream pairs (no gateway) in the window (default: calls/4, 5..=50).
    #[arg(long)]
    baseline: Option<usize>,
    /// Worker threads of the load generator's runtime (default: the CPU count).
    #[arg(long)]
    threads: Option<usize>,
    /// Drive a running gateway at this HTTP address instead of starting one (needs
    /// `--gateway-pid` and `--sink-port`; start it with the `--print-config` configuration).
    #[arg(long)]
    connect: Option<SocketAddr>,
    /// Process id of the `--connect` gateway (for its CPU time and memory).
    #[arg(long)]
    gateway_pid: Option<u32>,
    /// SIP port of the sink trunk (with `--connect`).
    #[arg(long)]
    sink_port: Option<u16>,
    /// Print the gateway configuration for `--connect` (HTTP on `--connect` or
    /// 127.0.0.1:8080, SIP on the next port, the sink on `--sink-port` or 5090) and exit.
    #[arg(long)]
    print_config: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum CodecArg {
    Pcmu,
    Opus,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((s, "s"), |i| s.split_at(i));
    let v: f64 = num.parse().map_err(|_| format!("bad duration `{s}`"))?;
    let secs = match unit {
        "ms" => v / 1000.0,
        "s" => v,
        "m" => v * 60.0,
        _ => return Err(format!("bad duration unit in `{s}` (ms, s, m)")),
    };
    Ok(Duration::from_secs_f64(secs))
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.calls == 0 {
        eprintln!("loadgen: --calls must be at least 1");
        return ExitCode::from(2);
    }
    if args.print_config {
        let http = args
            .connect
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080)));
        let sink = SocketAddr::from(([127, 0, 0, 1], args.sink_port.unwrap_or(5090)));
        let sip = SocketAddr::from(([127, 0, 0, 1], http.port().wrapping_add(1)));
        print!(
            "{}",
            gwproc::config_toml(http, sip, sink, args.calls, &args.gateway_extra)
        );
        return ExitCode::SUCCESS;
    }
    let mut cfg = LoadConfig::new(args.calls, args.duration);
    match (args.connect, args.gateway_pid, args.sink_port) {
        (Some(http), Some(pid), Some(port)) => {
            cfg.connect = Some((http, pid));
            cfg.sink_port = port;
        }
        (None, _, _) => {}
        _ => {
            eprintln!("loadgen: --connect needs --gateway-pid and --sink-port");
            return ExitCode::from(2);
        }
    }
    cfg.transcode = matches!(args.codec, CodecArg::Opus);
    cfg.rate = args.rate;
    cfg.register = !args.no_register;
    cfg.gateway_log = args.gateway_log;
    cfg.gateway_extra = args.gateway_extra;
    cfg.relay_floor = !args.no_relay_floor;
    cfg.staged = args.staged;
    cfg.close_to_hang_up = args.close_to_hang_up;
    if let Some(b) = args.gateway_bin {
        cfg.gateway_bin = b;
    }
    if let Some(b) = args.baseline {
        cfg.baseline_streams = b;
    }
    if cfg.connect.is_none() && !cfg.gateway_bin.exists() {
        eprintln!(
            "loadgen: no gateway binary at {} (build it: cargo build --release -p rvoip-gateway --bins)",
            cfg.gateway_bin.display()
        );
        return ExitCode::from(2);
    }
    if cfg.connect.is_none() {
        warn_if_stale(&cfg.gateway_bin);
    }
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
    });
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("loadgen: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(loadgen::run(cfg)) {
        Ok(r) => {
            println!("{r}");
            if r.failed == 0 && r.clean {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Warns when the gateway binary is older than this one (built from older sources).
fn warn_if_stale(gateway: &std::path::Path) {
    let mtime = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if let (Some(g), Some(me)) = (
        mtime(gateway),
        std::env::current_exe().ok().as_deref().and_then(mtime),
    ) && g + Duration::from_secs(60) < me
    {
        eprintln!(
            "loadgen: warning: {} is older than this loadgen; rebuild with \
             cargo build --release -p rvoip-gateway --bins",
            gateway.display()
        );
    }
}
