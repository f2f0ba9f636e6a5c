//! Native test endpoints: [`WebRtcClient`] plays "the browser" (core's controlling
//! [`IceAgent`], DTLS client with [`crate::dtls`], SRTP, Opus sending a tone, decoding what
//! it receives), [`RtpPeer`] plays a plain RTP trunk/phone (G.711). Both record the PCM and
//! the RFC 4733 events they receive, so tests measure `tone_power` and DTMF on them.
//!
//! [`WebRtcLink`] is the client's transport (ICE, DTLS, SRTP) under a media loop of its
//! own: the test client's (tone, DTMF, decoding) and the load generator's
//! ([`crate::loadgen`]: pre-encoded frames, timestamps).
//!
//! For media-only tests, hand the client the gateway leg's [`LocalParams`] directly; the
//! signalling tests (REGISTER/INVITE over WebSocket) reuse it with the values from SDP.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rvoip_core::codec::ToneGenerator;
use rvoip_core::ice::{Credentials, IceAgent, IceAgentConfig, PacketKind, Receive, classify};
use rvoip_core::rand::{Rng, SplitMix64};
use rvoip_core::rtp::dtmf::{event_from_char, event_to_char};
use rvoip_core::rtp::{DtmfSender, DtmfSenderConfig, RtpPacket, RtpPacketBuilder, TelephoneEvent};
use rvoip_core::srtp::Context;
use rvoip_core::time::Instant;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::codec::{Decoder, Encoder, MAX_PCM, pcm_rate};
use super::{LocalParams, MediaFormat, OsRng};
use crate::dtls::{DtlsHandshake, DtlsIdentity, DtlsRole};
use crate::opus::OpusImpl;

/// Most PCM samples kept (60 s at 8 kHz).
const MAX_KEPT: usize = 480_000;

/// A received RFC 4733 packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceivedEvent {
    /// Payload type it came on.
    pub pt: u8,
    /// RTP timestamp.
    pub timestamp: u32,
    /// The digit.
    pub digit: char,
    /// Duration field (in the PT's clock units).
    pub duration: u16,
    /// E bit.
    pub end: bool,
}

/// What an endpoint received.
#[derive(Debug, Default)]
pub struct Received {
    /// Decoded PCM (at the endpoint's PCM rate, 8 kHz unless G.722).
    pub pcm: Vec<i16>,
    /// Audio packets received.
    pub packets: u64,
    /// The distinct SSRCs of the RTP packets received (audio and events; at most 16 kept).
    pub ssrcs: Vec<u32>,
    /// RFC 4733 packets received.
    pub events: Vec<ReceivedEvent>,
    /// SRTP ready (WebRTC client) / always true (RTP peer).
    pub media_ready: bool,
    /// DTLS failed (WebRTC client).
    pub dtls_failed: bool,
    /// DTLS datagrams of the peer's final flight dropped on purpose
    /// ([`WebRtcClient::lose_final_flight`]).
    pub dtls_dropped: usize,
}

/// Whether a DTLS datagram carries a ChangeCipherSpec or an epoch ≥ 1 record: the final
/// flight of a handshake.
fn final_flight(d: &[u8]) -> bool {
    crate::dtls::records(d).any(|(ty, epoch)| ty == 20 || epoch >= 1)
}

/// The audio/DTMF part shared by both endpoints.
struct Audio {
    fmt: MediaFormat,
    enc: Encoder,
    dec: Decoder,
    tone: Option<ToneGenerator>,
    samples: usize,
    ssrc: u32,
    seq: u16,
    ts: u32,
    dtmf: DtmfSender,
    shared: Arc<Mutex<Received>>,
}

impl Audio {
    fn new(fmt: MediaFormat, tone_hz: Option<f64>, shared: Arc<Mutex<Received>>) -> Audio {
        let rate = pcm_rate(fmt.codec, fmt.codec);
        let mut rng = OsRng;
        Audio {
            fmt,
            // Invariant: the default Opus settings are valid for libopus.
            enc: Encoder::new(fmt.codec, rate, OpusImpl::Libopus, 5).expect("opus encoder"),
            dec: Decoder::new(fmt.codec, rate, OpusImpl::Libopus).expect("opus decoder"),
            tone: tone_hz.map(|f| ToneGenerator::new(rate, f, 8000.0)),
            samples: rate as usize / 50,
            ssrc: rng.next_u64() as u32,
            seq: rng.next_u64() as u16,
            ts: rng.next_u64() as u32,
            dtmf: DtmfSender::new(DtmfSenderConfig {
                clock_rate: fmt.dtmf_clock,
                ..DtmfSenderConfig::default()
            }),
            shared,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Received> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The next 20 ms audio packet (RTP, unprotected) into `buf`; 0 if silent.
    fn audio(&mut self, buf: &mut [u8]) -> usize {
        let ts = self.ts;
        self.ts = ts.wrapping_add(self.fmt.codec.frame_ts());
        let Some(g) = self.tone.as_mut() else {
            return 0;
        };
        if self.dtmf.is_active() {
            return 0;
        }
        let mut pcm = [0i16; MAX_PCM];
        g.fill(&mut pcm[..self.samples]);
        let n = self.enc.encode(&pcm[..self.samples], &mut buf[12..1200]);
        let seq = self.seq;
        self.seq = seq.wrapping_add(1);
        let _ = RtpPacketBuilder::new(self.fmt.pt, seq, ts, self.ssrc).emit_header(&mut buf[..12]);
        12 + n
    }

    fn dtmf_packets(&mut self, now: Instant, out: &mut Vec<Vec<u8>>) {
        self.dtmf.handle_timeout(now);
        let Some(pt) = self.fmt.dtmf_pt else { return };
        while let Some(p) = self.dtmf.poll_transmit() {
            let seq = self.seq;
            self.seq = seq.wrapping_add(1);
            let mut b = vec![0u8; 64];
            if let Ok(n) = RtpPacketBuilder::new(pt, seq, p.timestamp, self.ssrc)
                .marker(p.marker)
                .emit(&p.payload, &mut b)
            {
                b.truncate(n);
                out.push(b);
            }
        }
    }

    fn on_rtp(&mut self, data: &[u8]) {
        let Ok(p) = RtpPacket::new_checked(data) else {
            return;
        };
        {
            let mut r = self.lock();
            if r.ssrcs.len() < 16 && !r.ssrcs.contains(&p.ssrc()) {
                r.ssrcs.push(p.ssrc());
            }
        }
        if Some(p.payload_type()) == self.fmt.dtmf_pt {
            if let Ok(ev) = TelephoneEvent::decode(p.payload()) {
                let digit = event_to_char(ev.event).unwrap_or('?');
                self.lock().events.push(ReceivedEvent {
                    pt: p.payload_type(),
                    timestamp: p.timestamp(),
                    digit,
                    duration: ev.duration,
                    end: ev.end,
                });
            }
            return;
        }
        if p.payload_type() != self.fmt.pt {
            return;
        }
        let mut pcm = [0i16; MAX_PCM];
        self.dec.decode(Some(p.payload()), &mut pcm[..self.samples]);
        let mut r = self.lock();
        r.packets += 1;
        if r.pcm.len() + self.samples <= MAX_KEPT {
            r.pcm.extend_from_slice(&pcm[..self.samples]);
        }
    }
}

enum Cmd {
    Digit(char, Duration),
    Replay,
    /// ICE restart: (our new credentials, the gateway's new credentials).
    RestartIce(Box<(Credentials, Credentials)>),
    Stop,
}

/// A handle on a running endpoint task.
pub struct Endpoint {
    addr: SocketAddr,
    shared: Arc<Mutex<Received>>,
    cmds: mpsc::UnboundedSender<Cmd>,
    join: tokio::task::JoinHandle<()>,
}

impl Endpoint {
    /// The endpoint's socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Runs `f` on what was received so far.
    pub fn received<R>(&self, f: impl FnOnce(&Received) -> R) -> R {
        f(&self.shared.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Clears the recorded PCM and events.
    pub fn clear(&self) {
        let mut r = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        r.pcm.clear();
        r.events.clear();
    }

    /// Sends a DTMF digit as RFC 4733 events.
    pub fn send_digit(&self, digit: char, duration: Duration) {
        let _ = self.cmds.send(Cmd::Digit(digit, duration));
    }

    /// Sends the last media packet again, byte for byte (an SRTP replay).
    pub fn replay_last(&self) {
        let _ = self.cmds.send(Cmd::Replay);
    }

    /// ICE restart after the offer/answer exchange that restarted ICE (RFC 8445 §9): the
    /// client's ICE agent goes on with its new `local` credentials (those of its offer) and
    /// the gateway's new `remote` ones (from the answer), so its consent checks use them.
    /// Plain RTP peers ignore it.
    pub fn restart_ice(&self, local: Credentials, remote: Credentials) {
        let _ = self.cmds.send(Cmd::RestartIce(Box::new((local, remote))));
    }

    /// Stops the task (and closes the socket).
    pub async fn stop(self) {
        let _ = self.cmds.send(Cmd::Stop);
        let _ = self.join.await;
    }
}

/// A plain RTP peer (a trunk or phone) sending a tone and recording what it receives.
pub struct RtpPeer;

impl RtpPeer {
    /// Binds `127.0.0.1:0`; returns the socket for [`RtpPeer::start`] (its address goes
    /// into the leg's remote parameters first).
    pub async fn bind() -> std::io::Result<UdpSocket> {
        UdpSocket::bind("127.0.0.1:0").await
    }

    /// Starts sending `fmt` audio (a tone of `tone_hz`, or nothing) to `remote` every
    /// 20 ms and recording what arrives.
    pub fn start(
        sock: UdpSocket,
        remote: SocketAddr,
        fmt: MediaFormat,
        tone_hz: Option<f64>,
    ) -> std::io::Result<Endpoint> {
        let addr = sock.local_addr()?;
        let shared = Arc::new(Mutex::new(Received {
            media_ready: true,
            ..Received::default()
        }));
        let mut audio = Audio::new(fmt, tone_hz, shared.clone());
        let (cmds, mut rx) = mpsc::unbounded_channel();
        let join = tokio::spawn(async move {
            let start = std::time::Instant::now();
            let now = || Instant::from_micros(start.elapsed().as_micros() as u64);
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            let mut buf = vec![0u8; 2048];
            let mut last: Vec<u8> = Vec::new();
            loop {
                tokio::select! {
                    r = sock.recv_from(&mut buf) => {
                        if let Ok((n, _)) = r {
                            audio.on_rtp(&buf[..n]);
                        }
                    }
                    _ = tick.tick() => {
                        let n = audio.audio(&mut buf);
                        if n > 0 {
                            let _ = sock.send_to(&buf[..n], remote).await;
                            last = buf[..n].to_vec();
                        }
                        let mut out = Vec::new();
                        audio.dtmf_packets(now(), &mut out);
                        for p in out {
                            let _ = sock.send_to(&p, remote).await;
                        }
                    }
                    c = rx.recv() => match c {
                        Some(Cmd::Digit(d, dur)) => {
                            if let Some(e) = event_from_char(d) {
                                let ts = audio.ts;
                                let _ = audio.dtmf.send(now(), ts, e, dur);
                            }
                        }
                        Some(Cmd::Replay) => {
                            let _ = sock.send_to(&last, remote).await;
                        }
                        Some(Cmd::RestartIce(_)) => {}
                        Some(Cmd::Stop) | None => break,
                    }
                }
            }
        });
        Ok(Endpoint {
            addr,
            shared,
            cmds,
            join,
        })
    }
}

/// The gateway's WebRTC leg as a client sees it in the gateway's SDP answer (`n`, from
/// [`rvoip_core::sdp::negotiate::process_answer`]): address, ICE credentials and candidates,
/// and the bare `AB:CD:…` SHA-256 fingerprint in `fingerprint` — what [`WebRtcClient::start`]
/// takes. `None` when the answer has no address, ICE or fingerprint.
pub fn gateway_leg(n: &rvoip_core::sdp::negotiate::Negotiated) -> Option<LocalParams> {
    let ice = n.remote_ice.as_ref()?;
    let fp = n.dtls.as_ref()?.remote_fingerprints.first()?.to_string();
    let fp = fp
        .split_once(' ')
        .map_or(fp.as_str(), |(_, h)| h)
        .to_string();
    Some(LocalParams {
        addr: n.remote_rtp?,
        rtcp_port: None,
        ice: Credentials::new(&ice.ufrag, &ice.pwd),
        candidates: ice
            .candidate_lines
            .iter()
            .map(|c| {
                if c.starts_with("candidate:") {
                    c.clone()
                } else {
                    format!("candidate:{c}")
                }
            })
            .collect(),
        fingerprint: Some(fp),
        ssrc: None,
        cname: None,
        msid: None,
    })
}

/// "The browser": a WebRTC endpoint with a controlling full ICE agent, a DTLS client,
/// SRTP (rtcp-mux), sending a tone in `fmt` (Opus by default) and recording what it
/// receives.
pub struct WebRtcClient {
    sock: UdpSocket,
    identity: DtlsIdentity,
    ice: IceAgent<SplitMix64>,
    lose_final_flight: bool,
}

/// What the gateway needs from the client's "offer".
#[derive(Debug, Clone)]
pub struct ClientOffer {
    /// ICE credentials.
    pub ice: Credentials,
    /// Certificate fingerprint (sha-256).
    pub fingerprint: String,
    /// The host candidate address.
    pub addr: SocketAddr,
}

impl WebRtcClient {
    /// Binds `127.0.0.1:0` and makes the ICE agent and the DTLS identity.
    pub async fn new() -> std::io::Result<WebRtcClient> {
        let sock = UdpSocket::bind("127.0.0.1:0").await?;
        let addr = sock.local_addr()?;
        let identity = DtlsIdentity::generate().map_err(std::io::Error::other)?;
        let ice = IceAgent::new(
            SplitMix64::new(OsRng.next_u64()),
            IceAgentConfig::default(),
            &[addr],
        );
        Ok(WebRtcClient {
            sock,
            identity,
            ice,
            lose_final_flight: false,
        })
    }

    /// Drops the first final flight (ChangeCipherSpec, Finished) the gateway sends, as a
    /// lossy network would: the handshake then completes only if the gateway answers the
    /// client's retransmitted flight (RFC 6347 §4.2.4).
    pub fn lose_final_flight(mut self) -> WebRtcClient {
        self.lose_final_flight = true;
        self
    }

    /// The "offer" parameters (setup is `actpass`: the gateway will be DTLS server).
    pub fn offer(&self) -> ClientOffer {
        ClientOffer {
            ice: self.ice.local_credentials().clone(),
            fingerprint: self.identity.fingerprint_sha256().to_string(),
            addr: self
                .sock
                .local_addr()
                .unwrap_or_else(|_| ([127, 0, 0, 1], 0).into()),
        }
    }

    /// Connects to the gateway leg described by `gw` (ICE, then DTLS as client checking
    /// `gw_fingerprint`, then SRTP) and starts sending a tone of `tone_hz` in `fmt`.
    pub fn start(
        self,
        gw: &LocalParams,
        gw_fingerprint: &str,
        fmt: MediaFormat,
        tone_hz: Option<f64>,
    ) -> std::io::Result<Endpoint> {
        self.start_with_role(gw, gw_fingerprint, fmt, tone_hz, DtlsRole::Client)
    }

    /// Like [`Self::start`], taking the DTLS `role` (`Server`: the client answered
    /// `a=setup:passive`, the gateway is the DTLS client).
    pub fn start_with_role(
        self,
        gw: &LocalParams,
        gw_fingerprint: &str,
        fmt: MediaFormat,
        tone_hz: Option<f64>,
        role: DtlsRole,
    ) -> std::io::Result<Endpoint> {
        let shared = Arc::new(Mutex::new(Received::default()));
        let mut audio = Audio::new(fmt, tone_hz, shared.clone());
        let mut link = WebRtcLink::new(
            self,
            gw,
            gw_fingerprint,
            role,
            Duration::from_secs(10),
            std::time::Instant::now(),
        )?;
        let addr = link.local_addr();
        let (cmds, mut rx) = mpsc::unbounded_channel();
        let join = tokio::spawn(async move {
            let mut buf = vec![0u8; 2048];
            let mut last: Vec<u8> = Vec::new();
            loop {
                match link.next(rx.recv()).await {
                    LinkEvent::Rtp(n) => audio.on_rtp(link.packet(n)),
                    LinkEvent::DtlsDropped => audio.lock().dtls_dropped += 1,
                    LinkEvent::Dtls(Ok(())) => audio.lock().media_ready = true,
                    LinkEvent::Dtls(Err(_)) => audio.lock().dtls_failed = true,
                    LinkEvent::Tick => {
                        if !link.media_ready() {
                            continue;
                        }
                        let n = audio.audio(&mut buf);
                        if n > 0
                            && let Some(m) = link.send_rtp(&mut buf, n).await
                        {
                            last = buf[..m].to_vec();
                        }
                        let mut out = Vec::new();
                        audio.dtmf_packets(link.now(), &mut out);
                        for mut p in out {
                            let k = p.len();
                            p.resize(k + 32, 0);
                            link.send_rtp(&mut p, k).await;
                        }
                    }
                    LinkEvent::Control(Some(Cmd::Digit(d, dur))) => {
                        if let Some(e) = event_from_char(d) {
                            let ts = audio.ts;
                            let _ = audio.dtmf.send(link.now(), ts, e, dur);
                        }
                    }
                    LinkEvent::Control(Some(Cmd::Replay)) => link.send_raw(&last).await,
                    LinkEvent::Control(Some(Cmd::RestartIce(c))) => {
                        let (local, remote) = *c;
                        link.restart_ice(local, remote);
                    }
                    LinkEvent::Control(Some(Cmd::Stop) | None) => break,
                }
            }
        });
        Ok(Endpoint {
            addr,
            shared,
            cmds,
            join,
        })
    }
}

/// The transport of a WebRTC client towards the gateway's leg: its controlling ICE agent,
/// the DTLS handshake (as `role`, checking the gateway's fingerprint), then SRTP (rtcp-mux),
/// one 20 ms tick. The media loop of [`WebRtcClient::start`] and the load generator's
/// clients ([`crate::loadgen`]) both run on it: each asks for the [`next`](Self::next)
/// event and does its own media.
pub struct WebRtcLink {
    sock: UdpSocket,
    addr: SocketAddr,
    ice: IceAgent<SplitMix64>,
    /// The core's clock for the ICE agent and DTMF starts here.
    zero: std::time::Instant,
    to_dtls: tokio::sync::mpsc::Sender<Vec<u8>>,
    from_dtls: tokio::sync::mpsc::Receiver<Vec<u8>>,
    /// Closed once the handshake is over: not selected on any more (a closed channel is
    /// ready at every poll, and the loop would spin a core).
    dtls_open: bool,
    handshake: Option<tokio::task::JoinHandle<Result<DtlsResult, crate::dtls::DtlsError>>>,
    /// DTLS records waiting for ICE to pick the pair.
    pending_dtls: Vec<Vec<u8>>,
    /// `(inbound, outbound)` once the handshake is done.
    srtp: Option<(Context, Context)>,
    tick: tokio::time::Interval,
    buf: Vec<u8>,
    received_at: std::time::Instant,
    /// Drop the gateway's first final flight ([`WebRtcClient::lose_final_flight`]), until
    /// when (set by the first of its datagrams).
    lose_final_flight: bool,
    losing_until: Option<std::time::Instant>,
}

type DtlsResult = (webrtc_dtls::conn::DTLSConn, crate::dtls::DtlsSrtpKeys);

/// What [`WebRtcLink::next`] returns.
#[derive(Debug)]
pub enum LinkEvent<C> {
    /// An SRTP packet from the gateway, unprotected: [`WebRtcLink::packet`]`(n)`, arrived
    /// at [`WebRtcLink::received_at`].
    Rtp(usize),
    /// The DTLS handshake is over: SRTP is up, or why it failed.
    Dtls(Result<(), String>),
    /// A datagram of the gateway's final flight dropped on purpose.
    DtlsDropped,
    /// 20 ms passed (the ICE agent's timers ran).
    Tick,
    /// The caller's own input (the `control` future completed).
    Control(C),
}

impl WebRtcLink {
    /// Starts connecting `client` to the gateway leg `gw` (ICE credentials and candidates),
    /// with the DTLS handshake as `role` given up after `handshake_timeout`; the core clock
    /// of the ICE agent starts at `zero`.
    pub fn new(
        client: WebRtcClient,
        gw: &LocalParams,
        gw_fingerprint: &str,
        role: DtlsRole,
        handshake_timeout: Duration,
        zero: std::time::Instant,
    ) -> std::io::Result<WebRtcLink> {
        let WebRtcClient {
            sock,
            identity,
            mut ice,
            lose_final_flight,
        } = client;
        let addr = sock.local_addr()?;
        if let Some(c) = &gw.ice {
            ice.set_remote_credentials(c.clone());
        }
        for c in &gw.candidates {
            if let Ok(c) = rvoip_core::ice::Candidate::parse(c) {
                let _ = ice.add_remote_candidate(c);
            }
        }
        let (hs, chans) = DtlsHandshake::new(
            &identity,
            role,
            gw_fingerprint,
            addr,
            gw.addr,
            handshake_timeout,
        );
        Ok(WebRtcLink {
            sock,
            addr,
            ice,
            zero,
            to_dtls: chans.to_dtls,
            from_dtls: chans.from_dtls,
            dtls_open: true,
            handshake: Some(tokio::spawn(hs.run())),
            pending_dtls: Vec::new(),
            srtp: None,
            tick: tokio::time::interval(Duration::from_millis(20)),
            buf: vec![0u8; 2048],
            received_at: std::time::Instant::now(),
            lose_final_flight,
            losing_until: None,
        })
    }

    /// The client's socket address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The core's clock now (µs since `zero`).
    pub fn now(&self) -> Instant {
        Instant::from_micros(self.zero.elapsed().as_micros() as u64)
    }

    /// Media may be sent: ICE picked a pair and SRTP is up.
    pub fn media_ready(&self) -> bool {
        self.srtp.is_some() && self.ice.may_send_to().is_some()
    }

    /// The unprotected RTP packet of [`LinkEvent::Rtp`]`(n)`.
    pub fn packet(&self, n: usize) -> &[u8] {
        self.buf.get(..n).unwrap_or(&[])
    }

    /// When the datagram of the last [`LinkEvent::Rtp`] was received.
    pub fn received_at(&self) -> std::time::Instant {
        self.received_at
    }

    /// Protects the RTP packet `buf[..len]` in place (`buf` has room for the tag) and sends
    /// it; returns its protected length, `None` when media may not go yet.
    pub async fn send_rtp(&mut self, buf: &mut [u8], len: usize) -> Option<usize> {
        let t = self.ice.may_send_to()?;
        let (_, tx) = self.srtp.as_mut()?;
        let m = tx.protect_rtp(buf, len).ok()?;
        let _ = self.sock.send_to(buf.get(..m)?, t).await;
        Some(m)
    }

    /// ICE restart (RFC 8445 §9): the agent goes on with its new `local` credentials and
    /// the gateway's new `remote` ones, so its consent checks use them.
    pub fn restart_ice(&mut self, local: Credentials, remote: Credentials) {
        self.ice.set_local_credentials(local);
        self.ice.set_remote_credentials(remote);
    }

    /// Sends `data` as it is on the selected pair (a replay), if there is one.
    pub async fn send_raw(&self, data: &[u8]) {
        if let Some(t) = self.ice.may_send_to() {
            let _ = self.sock.send_to(data, t).await;
        }
    }

    /// Drives ICE and DTLS until something for the caller happens: a packet, the end of the
    /// handshake, a tick, or `control` completing (it must be cancel safe when dropped: a
    /// channel's `recv`, a watch's `changed`).
    pub async fn next<C>(&mut self, control: impl Future<Output = C>) -> LinkEvent<C> {
        tokio::pin!(control);
        loop {
            let target = self.ice.may_send_to();
            if let Some(t) = target {
                for rec in self.pending_dtls.drain(..) {
                    let _ = self.sock.send_to(&rec, t).await;
                }
            }
            while let Some(t) = self.ice.poll_transmit() {
                let _ = self.sock.send_to(&t.contents, t.destination).await;
            }
            let hs = &mut self.handshake;
            let handshake = async move {
                match hs.as_mut() {
                    Some(j) => j.await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                r = self.sock.recv_from(&mut self.buf) => {
                    let Ok((n, from)) = r else { continue };
                    self.received_at = std::time::Instant::now();
                    if let Some(e) = self.datagram(n, from) {
                        return e;
                    }
                }
                rec = self.from_dtls.recv(), if self.dtls_open => match rec {
                    Some(rec) => match target {
                        Some(t) => { let _ = self.sock.send_to(&rec, t).await; }
                        None => self.pending_dtls.push(rec),
                    },
                    None => self.dtls_open = false,
                },
                res = handshake => {
                    self.handshake = None;
                    let keys = res
                        .map_err(|e| e.to_string())
                        .and_then(|r| r.map_err(|e| e.to_string()));
                    return LinkEvent::Dtls(match keys.map(|(_, k)| srtp_contexts(&k)) {
                        Ok(Some(c)) => {
                            self.srtp = Some(c);
                            Ok(())
                        }
                        Ok(None) => Err("DTLS: unusable SRTP keys".to_string()),
                        Err(e) => Err(format!("DTLS: {e}")),
                    });
                }
                _ = self.tick.tick() => {
                    let now = self.now();
                    self.ice.handle_timeout(now);
                    return LinkEvent::Tick;
                }
                c = &mut control => return LinkEvent::Control(c),
            }
        }
    }

    /// A datagram `buf[..n]` from `from`: STUN to the ICE agent, DTLS to the handshake,
    /// SRTP unprotected for the caller.
    fn datagram<C>(&mut self, n: usize, from: SocketAddr) -> Option<LinkEvent<C>> {
        let data = self.buf.get_mut(..n)?;
        match classify(data) {
            PacketKind::Stun => {
                let r = Receive {
                    source: from,
                    destination: self.addr,
                    contents: data,
                };
                let now = Instant::from_micros(self.zero.elapsed().as_micros() as u64);
                let _ = self.ice.handle_receive(now, r);
            }
            PacketKind::Dtls => {
                if self.lose_final_flight && final_flight(data) {
                    // The whole flight: what arrives within 200 ms of its first datagram.
                    let until = *self.losing_until.get_or_insert_with(|| {
                        std::time::Instant::now() + Duration::from_millis(200)
                    });
                    if std::time::Instant::now() < until {
                        return Some(LinkEvent::DtlsDropped);
                    }
                    self.lose_final_flight = false;
                }
                let _ = self.to_dtls.try_send(data.to_vec());
            }
            PacketKind::Rtp => {
                let (rx, _) = self.srtp.as_mut()?;
                let m = rx.unprotect_rtp(data).ok()?;
                return Some(LinkEvent::Rtp(m));
            }
            _ => {}
        }
        None
    }
}

impl Drop for WebRtcLink {
    fn drop(&mut self) {
        if let Some(j) = self.handshake.take() {
            j.abort();
        }
    }
}

/// The SRTP contexts `(inbound, outbound)` for the keys a DTLS-SRTP handshake exported
/// (RFC 5764 §4.2); `None` for a key of the wrong length.
pub fn srtp_contexts(keys: &crate::dtls::DtlsSrtpKeys) -> Option<(Context, Context)> {
    let (local, remote) = super::srtp_keys(keys)?;
    Some((Context::new(&remote), Context::new(&local)))
}

/// Copies a media packet `data` and sends it to `to` from a fresh socket (an address that
/// did not pass ICE/latching).
pub async fn send_from_stranger(data: &[u8], to: SocketAddr) -> std::io::Result<()> {
    let s = UdpSocket::bind("127.0.0.1:0").await?;
    s.send_to(data, to).await?;
    Ok(())
}
