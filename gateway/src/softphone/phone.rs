//! The softphone driver: one tokio task owning the [`UserAgent`], the SIP sockets (UDP, or
//! TCP with a listener and one connection per peer), the RTP socket, the 20 ms media clock,
//! the keyboard and the audio endpoints. It feeds the sans-IO machines and sends what they
//! produce; every protocol decision is taken in the core.
//!
//! Keyboard (one line at a time): DTMF digits `0-9*#A-D` (RFC 4733 when the peer offered
//! telephone-event, SIP INFO otherwise), `h` hangs up, `a`/`r` answer/reject a ringing
//! incoming call. Ctrl-C hangs up (a second one quits). Status lines go to stdout:
//! `registered`, `incoming`, `ringing`, `answered`, `dtmf`, `ended`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use rvoip_core::sdp::SessionDescription;
use rvoip_core::sdp::negotiate::{
    self, CodecPolicy, LocalMedia, Negotiated, RtpTransport, TelephoneEvent,
};
use rvoip_core::sdp::{Direction, negotiate::Transport as MediaTransport};
use rvoip_core::sip::ua::{
    CallId, EndReason, Event, Received, RegistrationState, Transport, UaConfig, UserAgent,
};
use rvoip_core::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;

use super::Error;
use super::audio::{AudioSink, AudioSource, AudioSpec, open_sink, open_source};
use super::codec::{CodecKind, FRAME_MS};
use super::media::{MAX_DATAGRAM, MediaParams, MediaSession};
use super::net::{
    OsRng, SipNet, bind_media, local_ip_towards, ntp_now, random_u64, recv_opt, resolve_server,
    spawn_connection,
};
use crate::opus::OpusImpl;

/// How far the media clock may fall behind real time before the missed frames are
/// skipped (a stall longer than the jitter buffer could absorb anyway).
const MAX_LAG_MS: u64 = 200;

/// What the softphone does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Register with `--server` and stay registered (until the duration ends or Ctrl-C),
    /// then unregister.
    Register,
    /// Call this SIP URI (or user name at `--server`).
    Call(String),
    /// Wait for one call (registering first when `--server` is given).
    Answer,
}

/// The softphone's options (see `softphone --help`).
#[derive(Debug, Clone)]
pub struct Options {
    /// Registrar / outbound proxy, `host[:port]`.
    pub server: Option<String>,
    /// User name (AOR user part and digest user).
    pub user: String,
    /// Digest password.
    pub password: String,
    /// SIP bind address (default `0.0.0.0:5060` to answer, an ephemeral port otherwise).
    pub local_addr: Option<SocketAddr>,
    /// SIP transport.
    pub transport: Transport,
    /// Offer SRTP (SDES, `RTP/SAVP`); when answering, refuse plain RTP.
    pub srtp: bool,
    /// Codecs, most preferred first.
    pub codecs: Vec<CodecKind>,
    /// Microphone side.
    pub input: AudioSpec,
    /// Speaker side.
    pub output: AudioSpec,
    /// Hang up this long after the call is established (register: unregister after it).
    pub duration: Option<StdDuration>,
    /// Answer incoming calls at once.
    pub auto_answer: bool,
    /// DTMF digits to send once the call is established (after 500 ms).
    pub dtmf: String,
    /// Send DTMF by SIP INFO even when telephone-event was agreed.
    pub dtmf_info: bool,
    /// RTP port (0: ephemeral).
    pub rtp_port: u16,
    /// Opus implementation.
    pub opus: OpusImpl,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            server: None,
            user: "softphone".into(),
            password: String::new(),
            local_addr: None,
            transport: Transport::Udp,
            srtp: false,
            codecs: CodecKind::ALL.to_vec(),
            input: AudioSpec::Null,
            output: AudioSpec::Null,
            duration: None,
            auto_answer: false,
            dtmf: String::new(),
            dtmf_info: false,
            rtp_port: 0,
            opus: OpusImpl::Ropus,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcome {
    /// A call was established.
    pub established: bool,
    /// The registration succeeded.
    pub registered: bool,
    /// How the call ended.
    pub end: Option<EndReason>,
}

/// The call in progress.
struct ActiveCall {
    id: CallId,
    /// Our offer, when we made one (caller, or late-offer answer).
    offer: Option<SessionDescription<'static>>,
    established_at: Option<std::time::Instant>,
    dtmf_sent: bool,
    hangup_sent: bool,
}

/// The audio endpoints and the media stream of the call.
struct Media {
    session: MediaSession,
    source: Box<dyn AudioSource>,
    sink: Box<dyn AudioSink>,
    frame: Vec<i16>,
    played: Vec<i16>,
}

/// The softphone state around the UA.
struct Phone {
    opts: Options,
    mode: Mode,
    ua: UserAgent<OsRng>,
    net: SipNet,
    rtp: Arc<UdpSocket>,
    /// The RTCP socket (RTP port + 1), when that port was free.
    rtcp: Option<Arc<UdpSocket>>,
    media_ip: IpAddr,
    session_id: u64,
    session_version: u64,
    sdes_key: [u8; 30],
    call: Option<ActiveCall>,
    pending_incoming: Option<(CallId, Option<Vec<u8>>)>,
    media: Option<Media>,
    outcome: Outcome,
    start: std::time::Instant,
    /// Set when the run is over; the loop lingers until then for retransmissions.
    finish_at: Option<std::time::Instant>,
    unregistering: bool,
    /// Why the call could not go on (reported as the run's error).
    failure: Option<Error>,
}

fn say(line: impl AsRef<str>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", line.as_ref());
    let _ = out.flush();
}

impl Phone {
    fn now(&self) -> Instant {
        Instant::from_micros(self.start.elapsed().as_micros() as u64)
    }

    fn policy(&self) -> CodecPolicy {
        codec_policy(&self.opts.codecs)
    }

    /// A new `o=` version and the RTP port for the next offer or answer.
    fn next_version(&mut self) -> (u64, u16) {
        self.session_version += 1;
        (
            self.session_version,
            self.rtp.local_addr().map_or(0, |a| a.port()),
        )
    }

    fn build_local(&self, version: u64, port: u16, sdes: bool) -> LocalMedia<'_> {
        LocalMedia {
            session_id: self.session_id,
            session_version: version,
            address: self.media_ip,
            port,
            direction: Direction::SendRecv,
            ssrc: None,
            msid: None,
            transport: MediaTransport::Rtp(RtpTransport {
                rtcp_port: None,
                rtcp_mux: false,
                sdes_key: sdes.then_some(&self.sdes_key[..]),
            }),
        }
    }

    fn make_offer(&mut self) -> SessionDescription<'static> {
        let (v, port) = self.next_version();
        let local = self.build_local(v, port, self.opts.srtp);
        negotiate::offer(&self.policy(), &local)
    }

    /// Answers an offer: the answer SDP and what it agreed, or the status to reject with.
    fn make_answer(&mut self, offer: &[u8]) -> Result<(String, Negotiated), u16> {
        let text = std::str::from_utf8(offer).map_err(|_| 400u16)?;
        let offer = SessionDescription::parse(text).map_err(|_| 400u16)?;
        let (v, port) = self.next_version();
        let local = self.build_local(v, port, true);
        let a = negotiate::answer(&offer, &self.policy(), &local).map_err(|e| e.sip_status())?;
        if self.opts.srtp && a.negotiated.sdes.is_none() {
            // --srtp: plain RTP is not acceptable.
            return Err(488);
        }
        Ok((a.sdp.to_string(), a.negotiated))
    }

    fn start_media(&mut self, n: &Negotiated) -> Result<(), Error> {
        let params = MediaParams::from_negotiated(n)?;
        if let Some(m) = &mut self.media
            && m.session.params().same_stream(&params)
        {
            // The final answer repeats the early one (RFC 3261 §13.2.1), or a re-INVITE
            // only changes the direction (hold/unhold): keep the stream.
            if m.session.params().send != params.send {
                say(format!("media sending={}", params.send));
            }
            m.session.set_sending(params.send);
            return Ok(());
        }
        let codec = params.codec;
        let reuse = self
            .media
            .as_ref()
            .is_some_and(|m| m.session.params().codec.pcm_rate() == codec.pcm_rate());
        say(format!(
            "media codec={} pt={} remote={} srtp={} telephone-event={}",
            codec.sdp_codec().name,
            params.payload_type,
            params.remote,
            if params.srtp.is_some() { "yes" } else { "no" },
            params
                .telephone_event
                .map_or_else(|| "no".to_owned(), |p| p.to_string()),
        ));
        let session = MediaSession::new(
            params,
            self.opts.opus,
            random_u64() as u32,
            random_u64() as u16,
            random_u64() as u32,
        )?;
        if reuse && let Some(m) = &mut self.media {
            m.session = session;
            return Ok(());
        }
        if let Some(mut old) = self.media.take() {
            old.sink.finish()?;
        }
        let rate = codec.pcm_rate();
        let t0 = std::time::Instant::now();
        let (source, sink) = (
            open_source(&self.opts.input, rate)?,
            open_sink(&self.opts.output, rate)?,
        );
        tracing::info!("audio opened in {:?}", t0.elapsed());
        self.media = Some(Media {
            session,
            source,
            sink,
            frame: vec![0; codec.frame_samples()],
            played: vec![0; codec.frame_samples()],
        });
        Ok(())
    }

    fn stop_media(&mut self) -> Result<(), Error> {
        if let Some(mut m) = self.media.take() {
            let c = m.session.counters();
            let j = m.session.jitter_stats();
            if c.rtcp_received > 0 || c.rtcp_sent > 0 {
                say(format!(
                    "rtcp sent={} received={} rtt-ms={} peer-fraction-lost={} peer-jitter={}",
                    c.rtcp_sent,
                    c.rtcp_received,
                    c.rtt
                        .map_or_else(|| "-".to_owned(), |d| d.as_millis().to_string()),
                    c.remote_fraction_lost
                        .map_or_else(|| "-".to_owned(), |f| f.to_string()),
                    c.remote_jitter
                        .map_or_else(|| "-".to_owned(), |f| f.to_string()),
                ));
            }
            say(format!(
                "rtp sent={} received={} concealed={} dropped={} jitter-late={} jitter-lost={} \
                 jitter-dropped={} jitter-resets={} delay-ms={}",
                c.sent,
                c.received,
                c.concealed,
                c.dropped,
                j.late,
                j.lost,
                j.dropped,
                j.resets,
                j.current_delay.as_millis()
            ));
            m.sink.finish()?;
        }
        Ok(())
    }

    async fn flush(&mut self) {
        while let Some(t) = self.ua.poll_transmit() {
            tracing::debug!(
                "SIP → {} {}",
                t.destination,
                String::from_utf8_lossy(&t.bytes)
                    .lines()
                    .next()
                    .unwrap_or("")
            );
            self.net.send(t.destination, t.bytes).await;
        }
    }

    fn answer_call(&mut self, call: CallId, sdp: Option<Vec<u8>>) -> Result<(), Error> {
        let now = self.now();
        match sdp {
            Some(offer) => match self.make_answer(&offer) {
                Ok((answer, negotiated)) => {
                    // Audio first: a softphone that cannot play or record refuses the call
                    // (500) instead of answering it and going away.
                    if let Err(e) = self.start_media(&negotiated) {
                        say(format!("rejected incoming call: 500 ({e})"));
                        self.ua.reject(now, call, 500)?;
                        self.finish_at = Some(std::time::Instant::now());
                        self.failure = Some(e);
                        return Ok(());
                    }
                    self.ua.answer(now, call, answer.as_bytes())?;
                    self.call = Some(ActiveCall {
                        id: call,
                        offer: None,
                        established_at: None,
                        dtmf_sent: false,
                        hangup_sent: false,
                    });
                }
                Err(code) => {
                    say(format!("rejected incoming call: {code}"));
                    self.ua.reject(now, call, code)?;
                }
            },
            None => {
                // Late offer (RFC 3261 §13.2.1): our offer goes in the 2xx, the answer in the ACK.
                let offer = self.make_offer();
                self.ua.answer(now, call, offer.to_string().as_bytes())?;
                self.call = Some(ActiveCall {
                    id: call,
                    offer: Some(offer),
                    established_at: None,
                    dtmf_sent: false,
                    hangup_sent: false,
                });
            }
        }
        Ok(())
    }

    fn hangup(&mut self) -> Result<(), Error> {
        let now = self.now();
        if let Some(c) = &mut self.call {
            if !c.hangup_sent {
                c.hangup_sent = true;
                say("hanging up");
                self.ua.hangup(now, c.id)?;
            }
        } else if self.outcome.registered && !self.unregistering {
            self.unregistering = true;
            self.ua.unregister(now)?;
        } else {
            self.finish_at = Some(std::time::Instant::now());
        }
        Ok(())
    }

    fn send_digits(&mut self, digits: &str) -> Result<(), Error> {
        let now = self.now();
        let Some(call) = self
            .call
            .as_ref()
            .filter(|c| c.established_at.is_some())
            .map(|c| c.id)
        else {
            if !digits.is_empty() {
                say("no call established: digits ignored");
            }
            return Ok(());
        };
        for d in digits
            .chars()
            .filter(|c| "0123456789*#ABCDabcd".contains(*c))
        {
            let d = d.to_ascii_uppercase();
            match &mut self.media {
                Some(m) if m.session.has_telephone_event() && !self.opts.dtmf_info => {
                    m.session.send_dtmf(now, d, Duration::from_millis(100))?;
                    say(format!("sent dtmf {d} rfc4733"));
                }
                _ => {
                    self.ua.send_dtmf(now, call, d, 100)?;
                    say(format!("sent dtmf {d} info"));
                }
            }
        }
        Ok(())
    }

    fn handle_event(&mut self, e: Event) -> Result<(), Error> {
        let now = self.now();
        match e {
            Event::Registration(RegistrationState::Registered { expires }) => {
                self.outcome.registered = true;
                say(format!("registered expires={expires}"));
            }
            Event::Registration(RegistrationState::Unregistered) => {
                say("unregistered");
                self.finish_at = Some(std::time::Instant::now());
            }
            Event::Registration(RegistrationState::Failed { code }) => {
                say(format!("registration failed {code}"));
                if self.call.is_none() {
                    self.finish_at = Some(std::time::Instant::now());
                }
            }
            Event::IncomingCall { call, from, sdp } => {
                say(format!("incoming call from {from}"));
                if self.call.is_some() || self.pending_incoming.is_some() {
                    self.ua.reject(now, call, 486)?;
                } else if self.opts.auto_answer {
                    self.answer_call(call, sdp)?;
                } else {
                    say("type a + Enter to answer, r + Enter to reject");
                    self.pending_incoming = Some((call, sdp));
                }
            }
            Event::Ringing { .. } => say("ringing"),
            Event::EarlyMedia { call, sdp } => {
                say("early media");
                // RFC 3261 §13.2.1 / RFC 3262: the SDP of a (reliable) 183 is the answer;
                // the media flows before the 200. The offer is kept for the 2xx's SDP.
                let Some(offer) = self
                    .call
                    .as_ref()
                    .filter(|c| c.id == call)
                    .and_then(|c| c.offer.clone())
                else {
                    return Ok(());
                };
                match negotiate_answer(&offer, &sdp).and_then(|n| self.start_media(&n)) {
                    Ok(()) => {}
                    Err(e) => say(format!("early media refused: {e}")),
                }
            }
            Event::Answered { call, sdp } => {
                let Some(c) = self.call.as_mut().filter(|c| c.id == call) else {
                    return Ok(());
                };
                c.established_at = Some(std::time::Instant::now());
                self.outcome.established = true;
                say("answered");
                if let Some(offer) = c.offer.take() {
                    let negotiated = match sdp {
                        Some(a) => negotiate_answer(&offer, &a),
                        // The answer came early (183) and the 2xx repeats nothing.
                        None if self.media.is_some() => {
                            return Ok(());
                        }
                        None => Err(Error::Sip("the answer has no SDP".into())),
                    };
                    match negotiated.and_then(|n| self.start_media(&n)) {
                        Ok(()) => {}
                        Err(e) => {
                            say(format!("{e}; hanging up"));
                            self.failure = Some(e);
                            self.hangup()?;
                        }
                    }
                }
            }
            Event::OfferReceived { call, sdp: None } => {
                // A re-INVITE without SDP (RFC 3261 §14.2): offer the current session again;
                // the stream goes on unchanged (the UA does not report the ACK's answer).
                let offer = self.make_offer();
                self.ua.answer(now, call, offer.to_string().as_bytes())?;
            }
            Event::OfferReceived {
                call,
                sdp: Some(offer),
            } => match self.make_answer(&offer) {
                Ok((answer, n)) => {
                    self.ua.answer(now, call, answer.as_bytes())?;
                    self.start_media(&n)?;
                }
                Err(code) => self.ua.reject(now, call, code)?,
            },
            Event::DtmfReceived { digit, .. } => say(format!("dtmf {digit} info")),
            Event::Ended { call, reason } => {
                if self.pending_incoming.as_ref().is_some_and(|p| p.0 == call) {
                    self.pending_incoming = None;
                    say(format!("ended {reason:?}"));
                }
                if self.call.as_ref().is_some_and(|c| c.id == call) {
                    say(format!("ended {reason:?}"));
                    self.outcome.end = Some(reason);
                    self.call = None;
                    self.stop_media()?;
                    if self.outcome.registered && !self.unregistering {
                        self.unregistering = true;
                        self.ua.unregister(now)?;
                    } else {
                        self.finish_at = Some(std::time::Instant::now());
                    }
                }
            }
            other => tracing::debug!("UA event {other:?}"),
        }
        Ok(())
    }

    fn stdin_line(&mut self, line: &str) -> Result<(), Error> {
        let line = line.trim();
        match line {
            "h" | "hangup" => self.hangup()?,
            "a" | "answer" => {
                if let Some((call, sdp)) = self.pending_incoming.take() {
                    self.answer_call(call, sdp)?;
                }
            }
            "r" | "reject" => {
                if let Some((call, _)) = self.pending_incoming.take() {
                    let now = self.now();
                    self.ua.reject(now, call, 486)?;
                }
            }
            _ => self.send_digits(line)?,
        }
        Ok(())
    }

    /// One 20 ms media tick scheduled for `tick`: capture, send, play. The scheduled time,
    /// not the wake-up time, is the media clock: after a stall the ticks come in a burst
    /// and each still plays its own frame.
    async fn media_tick(&mut self, tick: std::time::Instant) -> Result<(), Error> {
        let now =
            Instant::from_micros(tick.saturating_duration_since(self.start).as_micros() as u64);
        let Some(m) = &mut self.media else {
            return Ok(());
        };
        m.source.read_frame(&mut m.frame);
        let mut out = Vec::new();
        m.session.send_frame(now, &m.frame, &mut out)?;
        let remote = m.session.remote();
        m.session.play_frame(now, &mut m.played)?;
        m.sink.write_frame(&m.played);
        while let Some(d) = m.session.poll_digit() {
            say(format!("dtmf {d} rfc4733"));
        }
        // Reports use the real time, as the arrivals they refer to (LSR/DLSR).
        let real_now = Instant::from_micros(self.start.elapsed().as_micros() as u64);
        let rtcp = m.session.poll_rtcp(real_now, ntp_now())?;
        let rtcp_to = m.session.remote_rtcp();
        for d in out {
            if let Err(e) = self.rtp.send_to(&d, remote).await {
                tracing::debug!("RTP send: {e}");
            }
        }
        if let (Some(r), Some(to)) = (rtcp, rtcp_to) {
            let sock = self.rtcp.as_ref().unwrap_or(&self.rtp);
            if let Err(e) = sock.send_to(&r, to).await {
                tracing::debug!("RTCP send: {e}");
            }
        }
        Ok(())
    }

    /// Timed actions: DTMF after 500 ms, hang-up after `--duration`.
    fn scheduled(&mut self) -> Result<(), Error> {
        let Some(c) = &mut self.call else {
            return Ok(());
        };
        let Some(at) = c.established_at else {
            return Ok(());
        };
        if !c.dtmf_sent && at.elapsed() >= StdDuration::from_millis(500) {
            c.dtmf_sent = true;
            let digits = self.opts.dtmf.clone();
            self.send_digits(&digits)?;
        }
        if let Some(d) = self.opts.duration
            && at.elapsed() >= d
        {
            self.hangup()?;
        }
        Ok(())
    }
}

/// The SDP policy for `codecs`: them in order, telephone-event (RFC 4733 §7.1.1, events
/// 0–15) at each of their clock rates (PT 101 at 8000, 110 at 48000), 20 ms ptime.
pub fn codec_policy(codecs: &[CodecKind]) -> CodecPolicy {
    let mut telephone_events = Vec::new();
    for (clock, pt) in [(8000, 101), (48_000, 110)] {
        if codecs.iter().any(|c| c.rtp_clock() == clock) {
            telephone_events.push(TelephoneEvent {
                clock_rate: clock,
                payload_type: pt,
            });
        }
    }
    CodecPolicy {
        codecs: codecs.iter().map(|c| c.sdp_codec()).collect(),
        telephone_events,
        dtmf_events: "0-15".into(),
        ptime: Some(FRAME_MS),
        telephone_event_any_clock: false,
    }
}

/// The outcome of our `offer` answered by the SDP `answer` (RFC 3264 §7).
fn negotiate_answer(offer: &SessionDescription<'_>, answer: &[u8]) -> Result<Negotiated, Error> {
    let text = std::str::from_utf8(answer)
        .map_err(|_| Error::Sip("the SDP answer is not UTF-8".into()))?;
    let a =
        SessionDescription::parse(text).map_err(|e| Error::Sip(format!("bad SDP answer: {e}")))?;
    negotiate::process_answer(offer, &a).map_err(|e| Error::Sip(format!("SDP answer: {e}")))
}

/// Runs the softphone in `mode` until the call or registration is over.
pub async fn run(opts: Options, mode: Mode) -> Result<Outcome, Error> {
    let start = std::time::Instant::now();
    let server = match &opts.server {
        Some(s) => Some(resolve_server(s).await?),
        None => None,
    };
    let target = match &mode {
        Mode::Call(t)
            if t.starts_with("sip:") || t.starts_with("sips:") || t.starts_with("tel:") =>
        {
            t.clone()
        }
        Mode::Call(t) => match &server {
            Some((host, _)) if !t.contains('@') => format!("sip:{t}@{host}"),
            _ => format!("sip:{t}"),
        },
        _ => String::new(),
    };
    let peer = server.as_ref().map(|s| s.1).or_else(|| {
        (!target.is_empty())
            .then(|| rvoip_core::sip::ua::resolve(&target, opts.transport))
            .flatten()
    });
    if matches!(mode, Mode::Register) && server.is_none() {
        return Err(Error::Usage("register needs --server".into()));
    }
    if matches!(mode, Mode::Call(_)) && peer.is_none() {
        return Err(Error::Usage(format!(
            "{target}: no IP address in the URI and no --server"
        )));
    }
    let bind = opts.local_addr.unwrap_or_else(|| match mode {
        Mode::Answer => (Ipv4Addr::UNSPECIFIED, 5060).into(),
        _ => (Ipv4Addr::UNSPECIFIED, 0).into(),
    });
    let (incoming_tx, mut incoming_rx) = mpsc::unbounded_channel();
    let conns = Arc::new(Mutex::new(HashMap::new()));
    let (udp, sip_local) = match opts.transport {
        Transport::Udp => {
            let s = Arc::new(UdpSocket::bind(bind).await?);
            let local = s.local_addr()?;
            let rx = s.clone();
            let tx = incoming_tx.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65_535];
                while let Ok((n, from)) = rx.recv_from(&mut buf).await {
                    if tx.send((from, buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
            });
            (Some(s), local)
        }
        Transport::Tcp => {
            let l = TcpListener::bind(bind).await?;
            let local = l.local_addr()?;
            let (c, tx) = (conns.clone(), incoming_tx.clone());
            tokio::spawn(async move {
                while let Ok((s, peer)) = l.accept().await {
                    spawn_connection(s, peer, c.clone(), tx.clone());
                }
            });
            (None, local)
        }
        other => {
            return Err(Error::Usage(format!(
                "transport {} is not supported",
                other.via_token()
            )));
        }
    };
    let ip = if sip_local.ip().is_unspecified() {
        peer.and_then(local_ip_towards)
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
    } else {
        sip_local.ip()
    };
    let advertised = SocketAddr::new(ip, sip_local.port());
    let (rtp, rtcp) = bind_media(sip_local.ip(), opts.rtp_port).await?;

    let domain = server
        .as_ref()
        .map_or_else(|| ip.to_string(), |s| s.0.clone());
    let mut cfg = UaConfig::new(format!("sip:{}@{domain}", opts.user), advertised);
    cfg.password = opts.password.clone();
    cfg.transport = opts.transport;
    cfg.proxy = server.as_ref().map(|s| s.1);
    cfg.user_agent = format!("rvoip-softphone/{}", env!("CARGO_PKG_VERSION"));
    if let Some(d) = opts.duration
        && matches!(mode, Mode::Register)
    {
        cfg.register_expires = (d.as_secs() as u32).clamp(60, 3600);
    }
    say(format!(
        "sip {} {} aor {}",
        opts.transport.via_token(),
        advertised,
        cfg.aor
    ));
    let mut sdes_key = [0u8; 30];
    getrandom::fill(&mut sdes_key).map_err(|e| Error::Media(format!("random: {e}")))?;
    let mut phone = Phone {
        ua: UserAgent::new(cfg, OsRng),
        net: SipNet {
            udp,
            conns,
            incoming: incoming_tx,
        },
        rtp: Arc::new(rtp),
        rtcp: rtcp.map(Arc::new),
        media_ip: ip,
        session_id: random_u64() >> 2,
        session_version: 0,
        sdes_key,
        call: None,
        pending_incoming: None,
        media: None,
        outcome: Outcome::default(),
        start,
        finish_at: None,
        unregistering: false,
        failure: None,
        opts,
        mode: mode.clone(),
    };

    // One Ctrl-C listener for the whole run, made before any request goes out or any status
    // line is printed. A fresh `tokio::signal::ctrl_c()` per loop iteration would miss a
    // Ctrl-C that arrives while the loop is busy elsewhere (say, right after printing
    // `ringing`): tokio's listeners only see signals delivered after they subscribe.
    let mut interrupt = Interrupt::new()?;
    let now = phone.now();
    let mut registered_at = None;
    match &mode {
        Mode::Register => phone.ua.register(now)?,
        Mode::Answer if phone.opts.server.is_some() => phone.ua.register(now)?,
        Mode::Answer => say(format!("waiting for a call on {advertised}")),
        Mode::Call(_) => {
            let offer = phone.make_offer();
            let id = phone.ua.call(now, &target, offer.to_string().as_bytes())?;
            say(format!("calling {target}"));
            phone.call = Some(ActiveCall {
                id,
                offer: Some(offer),
                established_at: None,
                dtmf_sent: false,
                hangup_sent: false,
            });
        }
    }
    phone.flush().await;

    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    let mut stdin_open = true;
    let mut interrupts = 0;
    let mut rtp_buf = vec![0u8; MAX_DATAGRAM + 64];
    let rtp = phone.rtp.clone();
    let rtcp = phone.rtcp.clone();
    let mut rtcp_buf = vec![0u8; MAX_DATAGRAM + 64];
    let mut clock = tokio::time::interval(StdDuration::from_millis(u64::from(FRAME_MS)));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let linger = StdDuration::from_millis(300);
    loop {
        if let Some(at) = phone.finish_at
            && (at.elapsed() >= linger * 6
                || (at.elapsed() >= linger && phone.ua.transaction_count() == 0))
        {
            break;
        }
        if phone.mode == Mode::Register && phone.outcome.registered && registered_at.is_none() {
            registered_at = Some(std::time::Instant::now());
        }
        if let (Some(at), Some(d)) = (registered_at, phone.opts.duration)
            && matches!(mode, Mode::Register)
            && at.elapsed() >= d
            && !phone.unregistering
        {
            phone.hangup()?;
        }
        let timeout = phone.ua.poll_timeout();
        let ua_sleep = match timeout {
            Some(t) => {
                let now = phone.now();
                StdDuration::from_micros(t.as_micros().saturating_sub(now.as_micros()))
            }
            None => StdDuration::from_secs(3600),
        }
        .min(StdDuration::from_millis(100));
        tokio::select! {
            Some((from, bytes)) = incoming_rx.recv() => {
                let now = phone.now();
                tracing::debug!("SIP ← {from} {}", String::from_utf8_lossy(&bytes).lines().next().unwrap_or(""));
                phone.ua.handle_receive(now, Received { transport: phone.opts.transport, source: from, bytes: &bytes });
            }
            _ = tokio::time::sleep(ua_sleep) => {
                let now = phone.now();
                if timeout.is_some_and(|t| t <= now) {
                    phone.ua.handle_timeout(now);
                }
            }
            r = recv_opt(rtcp.as_deref(), &mut rtcp_buf) => {
                if let Ok((n, _from)) = r {
                    let now = phone.now();
                    if let Some(m) = &mut phone.media {
                        m.session.handle_datagram(now, ntp_now(), &mut rtcp_buf[..n]);
                    }
                }
            }
            r = rtp.recv_from(&mut rtp_buf) => {
                if let Ok((n, _from)) = r {
                    let now = phone.now();
                    if let Some(m) = &mut phone.media {
                        m.session.handle_datagram(now, ntp_now(), &mut rtp_buf[..n]);
                    }
                }
            }
            t = clock.tick() => {
                let t = t.into_std();
                if t.elapsed() > StdDuration::from_millis(MAX_LAG_MS) {
                    // Stalled for long: drop the backlog of frames instead of bursting.
                    clock.reset();
                }
                phone.media_tick(t).await?;
            }
            line = stdin.next_line(), if stdin_open => {
                match line {
                    Ok(Some(l)) => {
                        // A refused keyboard command is reported, not fatal.
                        if let Err(e) = phone.stdin_line(&l) {
                            say(format!("error: {e}"));
                        }
                    }
                    _ => stdin_open = false,
                }
            }
            Some(()) = interrupt.recv() => {
                interrupts += 1;
                if interrupts > 1 {
                    break;
                }
                phone.hangup()?;
            }
        }
        while let Some(e) = phone.ua.poll_event() {
            phone.handle_event(e)?;
        }
        phone.scheduled()?;
        phone.flush().await;
    }
    phone.stop_media()?;
    match phone.failure {
        Some(e) => Err(e),
        None => Ok(phone.outcome),
    }
}

/// Ctrl-C (SIGINT) as one persistent listener: no signal is lost between two polls.
struct Interrupt {
    #[cfg(unix)]
    sig: tokio::signal::unix::Signal,
    #[cfg(not(unix))]
    rx: tokio::sync::mpsc::UnboundedReceiver<()>,
}

impl Interrupt {
    /// Installs the handler (from now on Ctrl-C no longer kills the process).
    fn new() -> std::io::Result<Interrupt> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Interrupt {
                sig: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            tokio::spawn(async move {
                while tokio::signal::ctrl_c().await.is_ok() {
                    if tx.send(()).is_err() {
                        break;
                    }
                }
            });
            Ok(Interrupt { rx })
        }
    }

    /// The next Ctrl-C (`None` once the signal driver is gone).
    async fn recv(&mut self) -> Option<()> {
        #[cfg(unix)]
        {
            self.sig.recv().await
        }
        #[cfg(not(unix))]
        {
            self.rx.recv().await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_events_follow_the_codec_clocks() {
        let p = codec_policy(&[CodecKind::Pcma, CodecKind::G722]);
        assert_eq!(p.codecs.len(), 2);
        assert_eq!(p.codecs[0].name, "PCMA");
        assert_eq!(p.telephone_events.len(), 1);
        assert_eq!(p.telephone_events[0].clock_rate, 8000);
        let p = codec_policy(&[CodecKind::Opus]);
        assert_eq!(p.telephone_events.len(), 1);
        assert_eq!(p.telephone_events[0].payload_type, 110);
        assert_eq!(codec_policy(&CodecKind::ALL).telephone_events.len(), 2);
    }

    #[test]
    fn offer_answer_between_two_policies() {
        // The SDP the driver builds: an SRTP offer from an Opus-first phone answered by a
        // G.711-only phone negotiates PCMU with SDES keys crossing over.
        let key_a = [7u8; 30];
        let key_b = [9u8; 30];
        fn local(port: u16, key: &[u8; 30]) -> LocalMedia<'_> {
            LocalMedia {
                session_id: 1,
                session_version: 1,
                address: IpAddr::V4(Ipv4Addr::LOCALHOST),
                port,
                direction: Direction::SendRecv,
                ssrc: None,
                msid: None,
                transport: MediaTransport::Rtp(RtpTransport {
                    rtcp_port: None,
                    rtcp_mux: false,
                    sdes_key: Some(&key[..]),
                }),
            }
        }
        let la = local(4000, &key_a);
        let offer = negotiate::offer(&codec_policy(&[CodecKind::Opus, CodecKind::Pcmu]), &la);
        let text = offer.to_string();
        let parsed = SessionDescription::parse(&text).unwrap();
        let lb = local(5000, &key_b);
        let ans = negotiate::answer(&parsed, &codec_policy(&[CodecKind::Pcmu]), &lb).unwrap();
        let pb = MediaParams::from_negotiated(&ans.negotiated).unwrap();
        let na = negotiate_answer(&offer, ans.sdp.to_string().as_bytes()).unwrap();
        let pa = MediaParams::from_negotiated(&na).unwrap();
        assert_eq!((pa.codec, pb.codec), (CodecKind::Pcmu, CodecKind::Pcmu));
        assert_eq!(pa.remote.port(), 5000);
        assert_eq!(pb.remote.port(), 4000);
        assert_eq!(pa.telephone_event, Some(101));
        let (a_local, a_remote) = pa.srtp.unwrap();
        let (b_local, b_remote) = pb.srtp.unwrap();
        assert_eq!(a_local, b_remote);
        assert_eq!(a_remote, b_local);
        assert_ne!(a_local, b_local);
    }
}
