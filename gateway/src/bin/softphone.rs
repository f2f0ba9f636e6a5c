//! `softphone`: a native SIP softphone on rvoip-core (see `softphone --help`).
//!
//! ```text
//! softphone devices
//! softphone register --server pbx.example.com --user alice --password secret
//! softphone call sip:bob@192.0.2.7 --input null --output null --duration 10
//! softphone answer --local-addr 0.0.0.0:5070 --auto-answer --srtp
//! ```

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use rvoip_core::sip::ua::Transport;
use rvoip_gateway::opus::OpusImpl;
use rvoip_gateway::softphone::audio::{AudioSpec, list_devices};
use rvoip_gateway::softphone::codec::CodecKind;
use rvoip_gateway::softphone::phone::{Mode, Options, run};

#[derive(Parser, Debug)]
#[command(name = "softphone", version, about = "SIP softphone on rvoip-core")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
    /// Registrar / outbound proxy (`host[:port]`).
    #[arg(long, global = true)]
    server: Option<String>,
    /// User name (AOR user part, digest user).
    #[arg(long, global = true, default_value = "softphone")]
    user: String,
    /// Digest password.
    #[arg(long, global = true, default_value = "")]
    password: String,
    /// Local SIP address to bind (answer: 0.0.0.0:5060; otherwise an ephemeral port).
    #[arg(long, global = true)]
    local_addr: Option<SocketAddr>,
    /// SIP transport.
    #[arg(long, global = true, value_enum, default_value = "udp")]
    transport: TransportArg,
    /// SRTP with SDES keys (RTP/SAVP); an answerer with --srtp refuses plain RTP.
    #[arg(long, global = true)]
    srtp: bool,
    /// Codecs in order of preference (pcmu, pcma, g722, opus).
    #[arg(
        long,
        global = true,
        value_delimiter = ',',
        default_value = "pcmu,pcma,g722,opus"
    )]
    codecs: Vec<String>,
    /// Microphone side: a WAV file, `null`, or (default) the sound card.
    #[arg(long, global = true)]
    input: Option<String>,
    /// Speaker side: a WAV file, `null`, or (default) the sound card.
    #[arg(long, global = true)]
    output: Option<String>,
    /// Input sound device (a part of its name or id, see `softphone devices`).
    #[arg(long, global = true)]
    input_device: Option<String>,
    /// Output sound device (a part of its name or id).
    #[arg(long, global = true)]
    output_device: Option<String>,
    /// Hang up this many seconds after the call is established (register: unregister).
    #[arg(long, global = true)]
    duration: Option<f64>,
    /// DTMF digits to send 0.5 s after the call is established.
    #[arg(long, global = true, default_value = "")]
    dtmf: String,
    /// Send DTMF by SIP INFO even when the peer supports RFC 4733 events.
    #[arg(long, global = true)]
    dtmf_info: bool,
    /// Local RTP port (0: ephemeral).
    #[arg(long, global = true, default_value_t = 0)]
    rtp_port: u16,
    /// Opus implementation.
    #[arg(long, global = true, value_enum, default_value = "ropus")]
    opus: OpusArg,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// List the sound devices.
    Devices,
    /// Register with --server and stay registered.
    Register,
    /// Call a SIP URI (or a user at --server).
    Call {
        /// `sip:user@host[:port]`, or a user name with --server.
        target: String,
    },
    /// Wait for a call.
    Answer {
        /// Answer at once.
        #[arg(long)]
        auto_answer: bool,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum TransportArg {
    Udp,
    Tcp,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum OpusArg {
    Libopus,
    Ropus,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let mode = match &cli.command {
        Cmd::Devices => {
            return match list_devices() {
                Ok(lines) => {
                    for l in lines {
                        println!("{l}");
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("softphone: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Cmd::Register => Mode::Register,
        Cmd::Call { target } => Mode::Call(target.clone()),
        Cmd::Answer { .. } => Mode::Answer,
    };
    let mut codecs = Vec::new();
    for c in &cli.codecs {
        match CodecKind::from_name(c) {
            Some(k) => codecs.push(k),
            None => {
                eprintln!("softphone: unknown codec {c:?} (pcmu, pcma, g722, opus)");
                return ExitCode::from(2);
            }
        }
    }
    let opts = Options {
        server: cli.server.clone(),
        user: cli.user.clone(),
        password: cli.password.clone(),
        local_addr: cli.local_addr,
        transport: match cli.transport {
            TransportArg::Udp => Transport::Udp,
            TransportArg::Tcp => Transport::Tcp,
        },
        srtp: cli.srtp,
        codecs,
        input: AudioSpec::from_arg(cli.input.as_deref(), cli.input_device.as_deref()),
        output: AudioSpec::from_arg(cli.output.as_deref(), cli.output_device.as_deref()),
        duration: cli.duration.map(Duration::from_secs_f64),
        auto_answer: matches!(cli.command, Cmd::Answer { auto_answer: true }),
        dtmf: cli.dtmf.clone(),
        dtmf_info: cli.dtmf_info,
        rtp_port: cli.rtp_port,
        opus: match cli.opus {
            OpusArg::Libopus => OpusImpl::Libopus,
            OpusArg::Ropus => OpusImpl::Ropus,
        },
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("softphone: {e}");
            return ExitCode::FAILURE;
        }
    };
    let is_register = mode == Mode::Register;
    let result = rt.block_on(run(opts, mode));
    // Tokio reads stdin on a blocking thread that a read in progress keeps alive: do not
    // wait for it.
    rt.shutdown_background();
    match result {
        Ok(o) if o.established || (is_register && o.registered) => ExitCode::SUCCESS,
        Ok(o) => {
            eprintln!("softphone: no call established ({:?})", o.end);
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("softphone: {e}");
            ExitCode::FAILURE
        }
    }
}
