//! The gateway's media plane: WebRTC legs (ICE-lite, DTLS-SRTP, SRTP/SRTCP with
//! rtcp-mux), plain RTP trunk legs (symmetric RTP latching), and the bridge between them
//! (passthrough, or Opus ⇄ G.711/G.722 transcoding with jitter buffer and PLC), RFC 4733
//! DTMF translation, per-leg RTCP and statistics, and the echo/tone test extensions.
//!
//! RFCs: 8445 §2.5 (ICE-lite), 7675 (consent), 7983 (demultiplexing), 5763/5764 (DTLS-SRTP),
//! 3711 (SRTP), 5761 (rtcp-mux), 3550 (RTP/RTCP), 4733 (telephone-event), 7587 (Opus).
//!
//! # Layers
//! - [`session::MediaSession`]: the sans-IO per-call machine, fed with `(now, datagram,
//!   from)` and time; tested without sockets.
//! - [`MediaEngine`] / [`CallMedia`]: the driver. Media threads (one per CPU by default,
//!   `media.threads`) each run an epoll loop over the sockets of their calls and drive the
//!   calls' sessions (`reactor`); the DTLS handshake runs as a tokio task over channels
//!   ([`crate::dtls`]). Ports come from [`ports::PortAllocator`] and are freed when the call
//!   ends.
//! - [`testclient`]: a native "browser" (controlling ICE agent, DTLS client, SRTP, Opus)
//!   and a plain RTP peer, for tests.
//!
//! # Driving a call (what the B2BUA does)
//! 1. `let call = engine.create_call(CallSpec::gateway())?` — binds a WebRTC port (leg A)
//!    and a trunk port pair (leg B).
//! 2. `call.local(LegId::A)` — [`LocalParams`]: address/port, ICE ufrag/pwd, candidate
//!    line, DTLS fingerprint for the answer to the browser (`a=setup:passive`); the same for
//!    leg B (address and port) for the offer to the trunk.
//! 3. `call.apply_remote(LegId::A, RemoteParams::WebRtc{..})` with the browser's ICE
//!    credentials, fingerprint, setup and the negotiated format; later
//!    `call.apply_remote(LegId::B, RemoteParams::Rtp{..})` with the trunk's answer. Both
//!    come from SDP with [`RemoteParams::from_negotiated`]`(&negotiated, nat_latching)`.
//!    A re-offer that restarts ICE (new ufrag/pwd from the browser, RFC 8839 §4.4.1.1.2):
//!    `call.restart_ice(LegId::A, new_local, new_remote)` before its `apply_remote`, with
//!    the fresh local credentials that went into the answer.
//! 4. `call.next_event().await` — [`MediaEvent`]: ICE/SRTP up, DTMF digits (for SIP
//!    INFO), `Ended` with an [`EndReason`] (DTLS failure, consent lost).
//! 5. `call.send_digit(leg, '5', dur)` (SIP INFO → RFC 4733), `call.stats().await`.
//! 6. `call.hangup().await` — ends the task, frees the ports.

pub mod codec;
mod leg;
pub mod ports;
pub mod session;
pub mod testclient;
mod types;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use rvoip_core::ice::{Credentials, IceLiteAgent};
use rvoip_core::rand::Rng;
use rvoip_core::srtp::{MasterKey, Profile};
use tokio::sync::{mpsc, oneshot};

pub use codec::Codec;
pub use session::{
    DigitError, EndReason, LegId, LegStats, MediaEvent, MediaFormat, MediaSession, Peer, RtpRemote,
    SessionCounters, Sink,
};

use crate::dtls::{DtlsIdentity, DtlsRole, DtlsSrtpKeys, SrtpProfile};
use crate::metrics::Metrics;
use crate::opus::OpusImpl;
use ports::{BoundPorts, PortAllocator};

/// Randomness from the OS, for ICE credentials and SSRCs.
pub struct OsRng;

impl Rng for OsRng {
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        // The OS source does not fail on supported platforms; fall back to the clock.
        if getrandom::fill(&mut b).is_err() {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            return t ^ 0x9E37_79B9_7F4A_7C15;
        }
        u64::from_le_bytes(b)
    }
}

/// Counters of the media plane, shared by every call of an engine (tests assert them).
#[derive(Debug, Default)]
pub struct EngineCounters {
    /// Legs alive.
    pub legs_active: AtomicUsize,
    /// Media tasks alive (call tasks and DTLS handshake tasks).
    pub tasks_active: AtomicUsize,
    /// Calls being transcoded.
    pub transcoding_active: AtomicUsize,
    /// Frames transcoded (both directions, all calls).
    pub transcoded_frames: AtomicU64,
    /// Packets relayed in passthrough.
    pub passthrough_packets: AtomicU64,
    /// Datagrams dropped from unvalidated / unlatched addresses.
    pub dropped_unvalidated: AtomicU64,
    /// SRTP replays dropped.
    pub srtp_replays: AtomicU64,
    /// DTLS handshakes failed.
    pub dtls_failures: AtomicU64,
    /// DTMF packets relayed between legs.
    pub dtmf_relayed: AtomicU64,
}

/// Which kind of leg to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegKind {
    /// WebRTC (ICE-lite, DTLS-SRTP, rtcp-mux): one port.
    WebRtc,
    /// Plain RTP; `rtcp_port`: also bind port + 1 for RTCP.
    Rtp {
        /// Bind an RTCP port (port + 1).
        rtcp_port: bool,
    },
}

/// What a call's media consists of.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallSpec {
    /// What joins the legs.
    pub peer: Peer,
    /// Leg A.
    pub a: LegKind,
    /// Leg B (for [`Peer::Bridge`]).
    pub b: Option<LegKind>,
}

impl CallSpec {
    /// The gateway call: a WebRTC leg bridged to a trunk RTP leg with an RTCP port.
    pub fn gateway() -> CallSpec {
        CallSpec {
            peer: Peer::Bridge,
            a: LegKind::WebRtc,
            b: Some(LegKind::Rtp { rtcp_port: true }),
        }
    }
}

/// What the SDP of a leg needs from us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalParams {
    /// The address and port (`c=`, `m=` port; the host candidate on WebRTC legs).
    pub addr: SocketAddr,
    /// The RTCP port, if one was bound (`a=rtcp`).
    pub rtcp_port: Option<u16>,
    /// ICE-lite credentials (WebRTC legs).
    pub ice: Option<Credentials>,
    /// `a=candidate` values (WebRTC legs).
    pub candidates: Vec<String>,
    /// `a=fingerprint:sha-256` value (WebRTC legs).
    pub fingerprint: Option<String>,
    /// The SSRC the media session sends with on this leg ([`MediaSession::local_ssrc`];
    /// relayed packets are rewritten to it), for `a=ssrc` (RFC 5576).
    pub ssrc: Option<u32>,
    /// The CNAME of the call's RTCP SDES ([`MediaSession::cname`]), for `a=ssrc:… cname:`.
    pub cname: Option<String>,
    /// The MediaStream and track ids of our stream on a WebRTC leg, for `a=msid` (RFC 8830;
    /// random, kept for the call so that re-offers repeat them).
    pub msid: Option<(String, String)>,
}

/// DTLS `a=setup` of the remote side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// `active`: the peer is the DTLS client, we are server.
    Active,
    /// `passive`: the peer is the DTLS server, we are client.
    Passive,
    /// `actpass` (an offer): we answer `passive` and are the server.
    ActPass,
}

/// Remote parameters of a leg, from the peer's SDP.
#[derive(Debug, Clone, PartialEq)]
pub enum RemoteParams {
    /// A WebRTC peer.
    WebRtc {
        /// Its ICE credentials.
        ice: Credentials,
        /// Its `a=fingerprint:sha-256` value.
        fingerprint: String,
        /// Its `a=setup`.
        setup: Setup,
        /// The negotiated format.
        format: MediaFormat,
    },
    /// A plain RTP peer.
    Rtp {
        /// Its transport.
        remote: RtpRemote,
        /// The negotiated format.
        format: MediaFormat,
    },
}

impl RemoteParams {
    /// The parameters SDP offer/answer agreed for a leg ([`rvoip_core::sdp::negotiate`]):
    /// a WebRTC leg when ICE and DTLS were negotiated (the first SHA-256 fingerprint is
    /// used), else a plain RTP leg (`latch`: NAT mode, symmetric RTP latching). `None` for
    /// a codec the media plane does not carry, no SHA-256 fingerprint, or no remote
    /// address (hold).
    pub fn from_negotiated(
        n: &rvoip_core::sdp::negotiate::Negotiated,
        latch: bool,
    ) -> Option<RemoteParams> {
        use rvoip_core::sdp::{HashFunction, Setup as SdpSetup};
        let codec = Codec::from_name(&n.codec.name)?;
        let format = MediaFormat {
            codec,
            pt: n.codec.payload_type,
            dtmf_pt: n.telephone_event.map(|t| t.payload_type),
            dtmf_clock: n
                .telephone_event
                .map_or(codec.clock_rate(), |t| t.clock_rate),
        };
        match (&n.remote_ice, &n.dtls) {
            (Some(ice), Some(dtls)) => {
                let fp = dtls
                    .remote_fingerprints
                    .iter()
                    .find(|f| f.hash() == HashFunction::Sha256)?;
                Some(RemoteParams::WebRtc {
                    ice: Credentials::new(&ice.ufrag, &ice.pwd)?,
                    // The `AB:CD:…` form `dtls` compares with (no hash name).
                    fingerprint: fp
                        .bytes()
                        .iter()
                        .map(|b| format!("{b:02X}"))
                        .collect::<Vec<_>>()
                        .join(":"),
                    // `local_setup` is our role; the peer's is the other one.
                    setup: match dtls.local_setup {
                        SdpSetup::Active => Setup::Passive,
                        _ => Setup::Active,
                    },
                    format,
                })
            }
            _ => Some(RemoteParams::Rtp {
                remote: RtpRemote {
                    addr: n.remote_rtp?,
                    rtcp: n.remote_rtcp,
                    rtcp_mux: n.rtcp_mux,
                    latch,
                },
                format,
            }),
        }
    }
}

/// Everything [`CallMedia::stats`] returns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallStats {
    /// Per leg (A, B).
    pub legs: [Option<LegStats>; 2],
    /// Session counters.
    pub counters: SessionCounters,
    /// Whether the bridge transcodes.
    pub transcoding: bool,
}

/// Creating a call's media failed.
#[derive(Debug)]
pub enum MediaError {
    /// No free port in the range.
    NoPort,
    /// A socket operation failed.
    Io(std::io::Error),
}

impl std::fmt::Display for MediaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MediaError::NoPort => f.write_str("no free media port"),
            MediaError::Io(e) => write!(f, "media socket: {e}"),
        }
    }
}

impl std::error::Error for MediaError {}

/// The media plane of a gateway: ports, media threads, DTLS identity, counters, metrics.
#[derive(Clone)]
pub struct MediaEngine {
    ports: PortAllocator,
    shared: Arc<reactor::Shared>,
    pool: Arc<reactor::Pool>,
    opus: OpusImpl,
    opus_complexity: u8,
}

impl MediaEngine {
    /// An engine allocating ports from `cfg`, with the DTLS `identity`. Its media threads
    /// (`cfg.threads`, 0 = one per CPU) start with the first call and stop when the last
    /// clone of the engine is dropped.
    pub fn new(cfg: &crate::config::MediaConfig, identity: DtlsIdentity) -> MediaEngine {
        let threads = match cfg.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        MediaEngine {
            ports: PortAllocator::new(cfg.address, cfg.port_min, cfg.port_max),
            shared: Arc::new(reactor::Shared {
                identity,
                counters: Arc::default(),
                metrics: None,
                dtls_timeout: Duration::from_secs(10),
            }),
            pool: Arc::new(reactor::Pool::new(
                threads,
                Duration::from_micros(cfg.batch_delay_us),
            )),
            opus: OpusImpl::Libopus,
            opus_complexity: session::DEFAULT_OPUS_COMPLEXITY,
        }
    }

    /// Feeds the Prometheus registry (in batches, every second per call).
    pub fn with_metrics(mut self, m: Arc<Metrics>) -> MediaEngine {
        Arc::make_mut(&mut self.shared).metrics = Some(m);
        self
    }

    /// Picks the Opus implementation.
    pub fn with_opus(mut self, imp: OpusImpl) -> MediaEngine {
        self.opus = imp;
        self
    }

    /// Sets the Opus encoder complexity of the transcoder (0–10).
    pub fn with_opus_complexity(mut self, c: u8) -> MediaEngine {
        self.opus_complexity = c;
        self
    }

    /// Sets the DTLS handshake time limit (default 10 s).
    pub fn with_dtls_timeout(mut self, t: Duration) -> MediaEngine {
        Arc::make_mut(&mut self.shared).dtls_timeout = t;
        self
    }

    /// The shared counters.
    pub fn counters(&self) -> &EngineCounters {
        &self.shared.counters
    }

    /// Ports currently in use.
    pub fn ports_in_use(&self) -> usize {
        self.ports.in_use()
    }

    /// The DTLS identity (its fingerprint goes into every WebRTC answer).
    pub fn identity(&self) -> &DtlsIdentity {
        &self.shared.identity
    }

    fn bind(&self, kind: LegKind) -> Result<BoundPorts, MediaError> {
        let with_rtcp = matches!(kind, LegKind::Rtp { rtcp_port: true });
        self.ports.bind(with_rtcp).map_err(|_| MediaError::NoPort)
    }

    /// Allocates the ports, binds the sockets and starts the call's media task. Must be
    /// called inside a tokio runtime.
    pub fn create_call(&self, spec: CallSpec) -> Result<CallMedia, MediaError> {
        let mut rng = OsRng;
        let mut bound = vec![self.bind(spec.a)?];
        if let (Peer::Bridge, Some(b)) = (spec.peer, spec.b) {
            bound.push(self.bind(b)?);
        }
        let kinds = [spec.a, spec.b.unwrap_or(spec.a)];
        let mut legs = Vec::new();
        let mut locals: [Option<LocalParams>; 2] = [None, None];
        let mut specs = Vec::new();
        for (i, b) in bound.into_iter().enumerate() {
            let addr = b.rtp.local_addr().map_err(MediaError::Io)?;
            let rtcp_addr = match &b.rtcp {
                Some(s) => Some(s.local_addr().map_err(MediaError::Io)?),
                None => None,
            };
            let (spec_l, lp) = match kinds[i] {
                LegKind::WebRtc => {
                    let ice = IceLiteAgent::new(&mut rng, &[addr]);
                    let lp = LocalParams {
                        addr,
                        rtcp_port: None,
                        ice: Some(ice.local_credentials().clone()),
                        candidates: ice
                            .local_candidates()
                            .iter()
                            .map(|c| c.to_sdp_value())
                            .collect(),
                        fingerprint: Some(self.shared.identity.fingerprint_sha256().to_string()),
                        ssrc: None,
                        cname: None,
                        msid: Some((
                            rvoip_core::sdp::negotiate::random_msid_id(&mut rng),
                            rvoip_core::sdp::negotiate::random_msid_id(&mut rng),
                        )),
                    };
                    (
                        session::LegSpec::WebRtc {
                            local: addr,
                            ice: Box::new(ice),
                        },
                        lp,
                    )
                }
                LegKind::Rtp { .. } => (
                    session::LegSpec::Rtp {
                        local: addr,
                        local_rtcp: rtcp_addr,
                    },
                    LocalParams {
                        addr,
                        rtcp_port: rtcp_addr.map(|a| a.port()),
                        ice: None,
                        candidates: Vec::new(),
                        fingerprint: None,
                        ssrc: None,
                        cname: None,
                        msid: None,
                    },
                ),
            };
            locals[i] = Some(lp);
            specs.push(spec_l);
            legs.push(b);
        }
        let mut specs = specs.into_iter();
        let (Some(a), b) = (specs.next(), specs.next()) else {
            return Err(MediaError::NoPort);
        };
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        let mut session = MediaSession::new(spec.peer, a, b, self.opus, unix, &mut rng);
        session.set_opus_complexity(self.opus_complexity);
        // The SSRC each leg sends with and the SDES CNAME go into the legs' SDP.
        for (i, lp) in locals.iter_mut().enumerate() {
            if let Some(lp) = lp {
                lp.ssrc = session.local_ssrc(LegId::from_idx(i));
                lp.cname = Some(session.cname().to_string());
            }
        }
        let mut socks = Vec::new();
        for b in legs {
            b.rtp.set_nonblocking(true).map_err(MediaError::Io)?;
            let rtp = mio::net::UdpSocket::from_std(b.rtp);
            let rtcp = match b.rtcp {
                Some(s) => {
                    s.set_nonblocking(true).map_err(MediaError::Io)?;
                    Some(mio::net::UdpSocket::from_std(s))
                }
                None => None,
            };
            let rtp_addr = rtp.local_addr().map_err(MediaError::Io)?;
            let rtcp_addr = match &rtcp {
                Some(s) => Some(s.local_addr().map_err(MediaError::Io)?),
                None => None,
            };
            let label = match kinds[socks.len()] {
                LegKind::WebRtc => "webrtc",
                LegKind::Rtp { .. } => "trunk",
            };
            socks.push(reactor::LegSockets {
                rtp,
                rtcp,
                rtp_addr,
                rtcp_addr,
                label,
                rtp_peer: reactor::PeerConn::default(),
                rtcp_peer: reactor::PeerConn::default(),
                _lease: b.lease,
            });
        }
        let (ev_tx, ev_rx) = mpsc::channel(256);
        let (done_tx, done_rx) = oneshot::channel();
        let latest = Arc::new(std::sync::Mutex::new(None));
        let nlegs = socks.len();
        let counters = &self.shared.counters;
        counters.legs_active.fetch_add(nlegs, Ordering::Relaxed);
        let guard = reactor::TaskGuard::new(counters.clone(), nlegs);
        let call = reactor::NewCall {
            session,
            socks,
            events: ev_tx,
            guard,
            done: done_tx,
            latest: latest.clone(),
            rt: tokio::runtime::Handle::current(),
            shared: self.shared.clone(),
        };
        let thread = self.pool.pick().map_err(MediaError::Io)?;
        let id = NEXT_CALL.fetch_add(1, Ordering::Relaxed);
        if !thread.send(reactor::Msg::Add(id, Box::new(call))) {
            return Err(MediaError::Io(std::io::Error::other(
                "media thread stopped",
            )));
        }
        Ok(CallMedia {
            local: locals,
            thread,
            id,
            latest,
            events: ev_rx,
            done: Some(done_rx),
        })
    }
}

/// Call ids (unique per process; a media thread finds its calls by them).
static NEXT_CALL: AtomicU64 = AtomicU64::new(1);

enum Cmd {
    Remote(LegId, Box<RemoteParams>),
    /// ICE restart: (our new credentials, the peer's new credentials).
    IceRestart(LegId, Box<(Credentials, Credentials)>),
    Digit(
        LegId,
        char,
        Duration,
        oneshot::Sender<Result<(), DigitError>>,
    ),
    Stats(oneshot::Sender<CallStats>),
    Sending(LegId, bool),
    Hangup,
    /// A record the DTLS handshake sends to the peer.
    DtlsOut(LegId, Vec<u8>),
    /// The handshake ended.
    DtlsDone(LegId, Result<DtlsSrtpKeys, crate::dtls::DtlsError>),
    /// Makes the media thread panic while handling this call (tests the isolation).
    #[cfg(test)]
    Panic,
}

/// The handle of a call's media (the call ends when this is dropped or hung up).
pub struct CallMedia {
    local: [Option<LocalParams>; 2],
    thread: reactor::ThreadHandle,
    id: u64,
    /// The statistics the media thread publishes every second.
    latest: Arc<std::sync::Mutex<Option<CallStats>>>,
    events: mpsc::Receiver<MediaEvent>,
    /// Completes when the media thread released the call's sockets and ports.
    done: Option<oneshot::Receiver<()>>,
}

impl Drop for CallMedia {
    fn drop(&mut self) {
        self.cmd(Cmd::Hangup);
    }
}

impl CallMedia {
    /// Our SDP parameters for a leg.
    pub fn local(&self, leg: LegId) -> Option<&LocalParams> {
        self.local[match leg {
            LegId::A => 0,
            LegId::B => 1,
        }]
        .as_ref()
    }

    fn cmd(&self, c: Cmd) -> bool {
        self.thread.send(reactor::Msg::Cmd(self.id, c))
    }

    /// Applies the peer's SDP parameters to a leg (starts DTLS on a WebRTC leg).
    pub fn apply_remote(&self, leg: LegId, p: RemoteParams) {
        self.cmd(Cmd::Remote(leg, Box::new(p)));
    }

    /// ICE restart on a WebRTC leg (RFC 8445 §9, RFC 8839 §4.4.1.1): our new `local`
    /// credentials (drawn like at call start, [`Credentials::random`]) become the leg's
    /// [`LocalParams::ice`] for later SDP, and go with the peer's new `remote` credentials
    /// to the media thread's ICE-lite agent. No-op on a leg without ICE.
    pub fn restart_ice(&mut self, leg: LegId, local: Credentials, remote: Credentials) {
        let Some(ice) = self.local[match leg {
            LegId::A => 0,
            LegId::B => 1,
        }]
        .as_mut()
        .and_then(|l| l.ice.as_mut()) else {
            return;
        };
        *ice = local.clone();
        self.cmd(Cmd::IceRestart(leg, Box::new((local, remote))));
    }

    /// Whether a leg sends media (hold: see [`MediaSession::set_sending`]).
    pub fn set_sending(&self, leg: LegId, sending: bool) {
        self.cmd(Cmd::Sending(leg, sending));
    }

    /// Sends a DTMF digit on a leg as RFC 4733 (the SIP INFO → RFC 4733 hook).
    pub async fn send_digit(
        &self,
        leg: LegId,
        digit: char,
        duration: Duration,
    ) -> Result<(), DigitError> {
        let (tx, rx) = oneshot::channel();
        self.cmd(Cmd::Digit(leg, digit, duration, tx));
        rx.await.unwrap_or(Err(DigitError::NoTelephoneEvent))
    }

    /// The statistics of both legs as of the media thread's last once-a-second update
    /// (`None` before the first): for live displays, without a round trip to the thread.
    pub fn recent_stats(&self) -> Option<CallStats> {
        *self.latest.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Statistics of both legs now (`None` once the call ended).
    pub async fn stats(&self) -> Option<CallStats> {
        let (tx, rx) = oneshot::channel();
        if !self.cmd(Cmd::Stats(tx)) {
            return None;
        }
        rx.await.ok()
    }

    /// The next event; `None` once the task ended and every event was read.
    pub async fn next_event(&mut self) -> Option<MediaEvent> {
        self.events.recv().await
    }

    /// Ends the media and waits until its sockets and ports are released.
    pub async fn hangup(mut self) {
        self.cmd(Cmd::Hangup);
        if let Some(d) = self.done.take() {
            let _ = d.await;
        }
    }

    /// Waits until the media ended by itself (e.g. after a DTLS failure).
    pub async fn finished(&mut self) {
        if let Some(d) = self.done.take() {
            let _ = d.await;
        }
    }
}

fn srtp_keys(k: &DtlsSrtpKeys) -> Option<(MasterKey, MasterKey)> {
    let p = match k.profile {
        SrtpProfile::Aes128CmHmacSha1_80 => Profile::Aes128CmHmacSha1_80,
        SrtpProfile::Aes128CmHmacSha1_32 => Profile::Aes128CmHmacSha1_32,
        SrtpProfile::AeadAes128Gcm => Profile::AeadAes128Gcm,
    };
    Some((
        MasterKey::new(p, &k.local_key, &k.local_salt).ok()?,
        MasterKey::new(p, &k.remote_key, &k.remote_salt).ok()?,
    ))
}

fn dtls_role(remote: Setup) -> DtlsRole {
    match remote {
        Setup::Active | Setup::ActPass => DtlsRole::Server,
        Setup::Passive => DtlsRole::Client,
    }
}

mod reactor;
