//! Native test endpoints: [`WebRtcClient`] plays "the browser" (core's controlling
//! [`IceAgent`], DTLS client with [`crate::dtls`], SRTP, Opus sending a tone, decoding what
//! it receives), [`RtpPeer`] plays a plain RTP trunk/phone (G.711). Both record the PCM and
//! the RFC 4733 events they receive, so tests measure `tone_power` and DTMF on them.
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

    /// Takes the client apart (its socket, DTLS identity and ICE agent) for a driver that
    /// runs its own media loop (the load generator, [`crate::loadgen`]).
    pub fn into_parts(self) -> (UdpSocket, DtlsIdentity, IceAgent<SplitMix64>) {
        (self.sock, self.identity, self.ice)
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
        mut self,
        gw: &LocalParams,
        gw_fingerprint: &str,
        fmt: MediaFormat,
        tone_hz: Option<f64>,
        role: DtlsRole,
    ) -> std::io::Result<Endpoint> {
        let addr = self.sock.local_addr()?;
        if let Some(c) = &gw.ice {
            self.ice.set_remote_credentials(c.clone());
        }
        for c in &gw.candidates {
            if let Ok(c) = rvoip_core::ice::Candidate::parse(c) {
                let _ = self.ice.add_remote_candidate(c);
            }
        }
        let gw_addr = gw.addr;
        let shared = Arc::new(Mutex::new(Received::default()));
        let mut audio = Audio::new(fmt, tone_hz, shared.clone());
        let (hs, mut chans) = DtlsHandshake::new(
            &self.identity,
            role,
            gw_fingerprint,
            addr,
            gw_addr,
            Duration::from_secs(10),
        );
        let (cmds, mut rx) = mpsc::unbounded_channel();
        let sock = self.sock;
        let mut ice = self.ice;
        // Until when final-flight datagrams are dropped (set by the first one seen).
        let mut lose = self.lose_final_flight;
        let mut losing_until: Option<std::time::Instant> = None;
        let join = tokio::spawn(async move {
            let start = std::time::Instant::now();
            let now = || Instant::from_micros(start.elapsed().as_micros() as u64);
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            let mut buf = vec![0u8; 2048];
            let mut last: Vec<u8> = Vec::new();
            let mut hs_join = Some(tokio::spawn(hs.run()));
            let mut pending_dtls: Vec<Vec<u8>> = Vec::new();
            let mut srtp: Option<(Context, Context)> = None;
            let mut dtls_open = true;
            loop {
                let target = ice.may_send_to();
                if let Some(t) = target {
                    for r in pending_dtls.drain(..) {
                        let _ = sock.send_to(&r, t).await;
                    }
                }
                while let Some(t) = ice.poll_transmit() {
                    let _ = sock.send_to(&t.contents, t.destination).await;
                }
                tokio::select! {
                    r = sock.recv_from(&mut buf) => {
                        let Ok((n, from)) = r else { continue };
                        match classify(&buf[..n]) {
                            PacketKind::Stun => {
                                let _ = ice.handle_receive(now(), Receive {
                                    source: from, destination: addr, contents: &buf[..n],
                                });
                            }
                            PacketKind::Dtls => {
                                if lose && final_flight(&buf[..n]) {
                                    // The whole flight: what arrives within 200 ms of its
                                    // first datagram.
                                    let until = *losing_until.get_or_insert_with(|| {
                                        std::time::Instant::now() + Duration::from_millis(200)
                                    });
                                    if std::time::Instant::now() < until {
                                        audio.lock().dtls_dropped += 1;
                                        continue;
                                    }
                                    lose = false;
                                }
                                let _ = chans.to_dtls.try_send(buf[..n].to_vec());
                            }
                            PacketKind::Rtp => {
                                if let Some((rx_ctx, _)) = srtp.as_mut()
                                    && let Ok(m) = rx_ctx.unprotect_rtp(&mut buf[..n])
                                {
                                    audio.on_rtp(&buf[..m]);
                                }
                            }
                            _ => {}
                        }
                    }
                    rec = chans.from_dtls.recv(), if dtls_open => {
                        match rec {
                            Some(rec) => match target {
                                Some(t) => { let _ = sock.send_to(&rec, t).await; }
                                None => pending_dtls.push(rec),
                            },
                            // The DTLS side is gone after the handshake: a closed channel
                            // is ready at every poll; stop selecting on it (else the client
                            // spins a core).
                            None => dtls_open = false,
                        }
                    }
                    res = async { match hs_join.as_mut() { Some(j) => j.await, None => std::future::pending().await } } => {
                        hs_join = None;
                        let keys = res.ok().and_then(Result::ok).and_then(|(_, k)| super::srtp_keys(&k));
                        let mut r = audio.lock();
                        match keys {
                            Some((local, remote)) => {
                                srtp = Some((Context::new(&remote), Context::new(&local)));
                                r.media_ready = true;
                            }
                            None => r.dtls_failed = true,
                        }
                    }
                    _ = tick.tick() => {
                        ice.handle_timeout(now());
                        let Some(t) = ice.may_send_to() else { continue };
                        let Some((_, tx_ctx)) = srtp.as_mut() else { continue };
                        let n = audio.audio(&mut buf);
                        if n > 0 && let Ok(m) = tx_ctx.protect_rtp(&mut buf, n) {
                            let _ = sock.send_to(&buf[..m], t).await;
                            last = buf[..m].to_vec();
                        }
                        let mut out = Vec::new();
                        audio.dtmf_packets(now(), &mut out);
                        for mut p in out {
                            let k = p.len();
                            p.resize(k + 32, 0);
                            if let Ok(m) = tx_ctx.protect_rtp(&mut p, k) {
                                let _ = sock.send_to(&p[..m], t).await;
                            }
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
                            if let Some(t) = ice.may_send_to() {
                                let _ = sock.send_to(&last, t).await;
                            }
                        }
                        Some(Cmd::RestartIce(c)) => {
                            let (local, remote) = *c;
                            ice.set_local_credentials(local);
                            ice.set_remote_credentials(remote);
                        }
                        Some(Cmd::Stop) | None => break,
                    }
                }
            }
            if let Some(j) = hs_join {
                j.abort();
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
