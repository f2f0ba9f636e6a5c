//! The `gateway` binary: `gateway` starts on the embedded default configuration (HTTP and
//! WebSocket on 127.0.0.1:8080, SIP on 127.0.0.1:5060 UDP and TCP, data in `rvoip-data/`,
//! demo users alice and bob, echo `600` and tone `601`); `gateway --config FILE` reads a
//! TOML file. A bad configuration is reported with the key it is about and exit status 2.
//! SIGINT/SIGTERM shut down gracefully.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use rvoip_gateway::config::Config;
use rvoip_gateway::server::{Gateway, Options};

/// WebRTC ⇄ SIP trunk gateway.
#[derive(Debug, Parser)]
#[command(name = "gateway", version, about)]
struct Args {
    /// Configuration file (TOML); the embedded default when absent.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Data directory (overrides `storage.data_dir`).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Check the configuration and exit.
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            // webrtc-dtls warns about every DTLS 1.3 extension a browser offers in its
            // ClientHello ("Unsupported Extension Type"); the gateway logs handshake
            // outcomes itself, so only its errors are shown by default.
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,webrtc_dtls=error".into()),
        )
        .init();
    let cfg = match &args.config {
        Some(path) => match Config::load(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("gateway: {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
        None => Config::embedded_default(),
    };
    if args.check {
        // The certificate files are part of the configuration: read and check them too.
        if let Err(e) = rvoip_gateway::tls::TlsSetup::load(&cfg) {
            eprintln!("gateway: {e}");
            return ExitCode::from(2);
        }
        println!("configuration OK");
        return ExitCode::SUCCESS;
    }
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gateway: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(run(cfg, args.data_dir))
}

async fn run(cfg: Config, data_dir: Option<PathBuf>) -> ExitCode {
    // Install the handlers before anything is printed, so that a signal sent as soon as
    // the gateway announces itself is not lost.
    let mut signals = Signals::install();
    let gw = match Gateway::start(
        cfg,
        Options {
            data_dir,
            ..Default::default()
        },
    )
    .await
    {
        Ok(g) => g,
        Err(e) => {
            eprintln!("gateway: {e}");
            return ExitCode::from(match e {
                rvoip_gateway::server::StartError::Unsupported { .. }
                | rvoip_gateway::server::StartError::Config(_) => 2,
                _ => 1,
            });
        }
    };
    let c = &gw.credentials;
    println!("rvoip gateway");
    println!("  web demo     http://{}/", gw.http_addr());
    println!("  SIP over WS  ws://{}/ws", gw.http_addr());
    println!(
        "  console      http://{}/console  (user {}, password {})",
        gw.http_addr(),
        c.admin_user,
        c.admin_password
    );
    if let Some(a) = gw.udp_addr() {
        println!("  SIP UDP      {a}");
    }
    if let Some(a) = gw.tcp_addr() {
        println!("  SIP TCP      {a}");
    }
    for (u, p) in &c.demo_users {
        println!("  demo user    {u} / {p}");
    }
    println!("  extensions   600 echo, 601 tone");
    signals.wait().await;
    tracing::info!("shutting down");
    gw.shutdown().await;
    ExitCode::SUCCESS
}

/// SIGINT and SIGTERM.
struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn install() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                term: signal(SignalKind::terminate()).ok(),
                int: signal(SignalKind::interrupt()).ok(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    async fn wait(&mut self) {
        #[cfg(unix)]
        {
            async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
                match s {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                _ = recv(&mut self.term) => {}
                _ = recv(&mut self.int) => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
