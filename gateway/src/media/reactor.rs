//! The media threads: each runs one `epoll` loop (mio) over the sockets of the calls
//! assigned to it, and drives their [`MediaSession`]s.
//!
//! A relayed packet costs one readiness event (shared by every socket ready at that
//! moment), a `recvfrom`, the session's work and a `sendto` (a `send` on a trunk leg's socket
//! once its peer is settled: [`PeerConn`]) — no async task is woken, no
//! channel is polled and no future is rebuilt per packet. Calls go to the thread with the
//! fewest calls; a call stays on its thread. Commands from the signalling side (remote
//! parameters, DTMF, hold, statistics, hangup) arrive over a channel with a `mio::Waker`;
//! events go back over each call's tokio channel (`try_send`, never blocking the thread).
//!
//! DTLS runs as a tokio task on the gateway's runtime (webrtc-dtls is async): records from
//! the peer go to it over its channel, records it sends and the exported keys come back as
//! commands. The thread keeps our last flight after the handshake ([`FLIGHT_KEEP`]): a peer
//! that lost it retransmits its own final flight, and gets ours again (RFC 6347 §4.2.4 —
//! webrtc-dtls stops its state machine once the keys are exported and would not answer).
//!
//! With `batch_delay` set, a thread that woke for only a few packets sleeps that long before
//! it waits again, so the packets that arrive meanwhile are handled in one wake-up: less
//! CPU per packet under load for at most that much added latency (interrupt moderation).

use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc as std_mpsc};
use std::time::{Duration, Instant as StdInstant};

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token, Waker};
use rvoip_core::time::Instant;
use tokio::sync::{mpsc, oneshot};

use super::ports::PortLease;
use super::session::{EndReason, LegId, MediaEvent, MediaSession, Sink};
use super::{CallStats, Cmd, EngineCounters, RemoteParams, dtls_role, srtp_keys};
use crate::dtls::{DtlsError, DtlsHandshake, DtlsIdentity, DtlsSrtpKeys};
use crate::metrics::Metrics;

/// Size of the receive buffer: a full Ethernet-MTU datagram plus room for the SRTP tag.
const RECV_BUF_LEN: usize = 2048;
/// Datagrams read from one socket per readiness event before the others get a turn.
const MAX_BURST: usize = 64;
/// How long our last DTLS flight is kept after the handshake, unless SRTP from the peer
/// shows earlier that it completed too.
const FLIGHT_KEEP: Duration = Duration::from_secs(30);
/// Our last flight is sent again at most this often (a retransmitted flight of the peer
/// can span several datagrams).
const FLIGHT_RESEND_GAP: Duration = Duration::from_millis(250);
/// Below this many readiness events per wake-up, a thread with a batch delay sleeps.
const BATCH_EVENTS: usize = 16;
const WAKER: Token = Token(usize::MAX);
/// Sockets per call: leg A RTP, leg A RTCP, leg B RTP, leg B RTCP.
const SOCKS_PER_CALL: usize = 4;

/// The sockets of one leg.
pub(super) struct LegSockets {
    pub(super) rtp: UdpSocket,
    pub(super) rtcp: Option<UdpSocket>,
    /// Local addresses of `rtp` and `rtcp` (cached: no syscall per packet).
    pub(super) rtp_addr: SocketAddr,
    pub(super) rtcp_addr: Option<SocketAddr>,
    /// "webrtc" or "trunk", for metrics labels.
    pub(super) label: &'static str,
    /// The peers `rtp` and `rtcp` are connected to (trunk legs, once settled).
    pub(super) rtp_peer: PeerConn,
    pub(super) rtcp_peer: PeerConn,
    /// Dropped after the sockets (field order), freeing the ports.
    pub(super) _lease: PortLease,
}

/// The address a plain RTP leg's socket is `connect()`ed to, once the session settled it
/// ([`MediaSession::settled_peers`]: the SDP address, or in NAT mode the latched one).
/// What goes there is sent with `send` instead of `sendto` (no route and address lookup
/// per packet), and the kernel delivers only that peer's datagrams — the same ones the
/// session accepts, so strangers are now dropped before they cost a `recvfrom`. When the
/// settled peer changes (a re-INVITE/UPDATE with a new address) the socket is connected
/// to the new one; when there is none any more (NAT mode, latching again) the association
/// is dissolved (`connect(AF_UNSPEC)`), so that the first packet from any port of the
/// signalled IP reaches the session again. (Datagrams from a new address that arrive before
/// the thread applies it are dropped by the kernel instead of by the session.) A connected
/// socket reports an ICMP port unreachable from its peer on the next `recvfrom`, which
/// [`Slot::drain`] reads past.
#[derive(Debug, Default)]
pub(super) struct PeerConn {
    /// The settled peer last applied (a failed `connect` is not retried per packet).
    want: Option<SocketAddr>,
    /// Whether the socket is connected to `want`.
    connected: bool,
}

impl PeerConn {
    /// Connects (or disconnects) `sock` to follow the settled peer `want`.
    fn follow(&mut self, sock: &UdpSocket, want: Option<SocketAddr>) {
        if want == self.want {
            return;
        }
        self.want = want;
        match want {
            Some(a) => {
                self.connected = match sock.connect(a) {
                    Ok(()) => true,
                    Err(e) => {
                        tracing::debug!(peer = %a, "media socket: connect: {e}");
                        false
                    }
                };
            }
            None if self.connected => {
                self.connected = false;
                if let Err(e) = rustix::net::connect_unspec(sock) {
                    tracing::warn!("media socket: dissolving its peer: {e}");
                }
            }
            None => {}
        }
    }

    /// Whether a datagram to `to` may go with `send`.
    fn is(&self, to: SocketAddr) -> bool {
        self.connected && self.want == Some(to)
    }
}

/// Counts a task (a call or a DTLS handshake) and its legs alive; decrements on drop,
/// however it ends.
pub(super) struct TaskGuard {
    counters: Arc<EngineCounters>,
    legs: usize,
    transcoding: bool,
}

impl TaskGuard {
    pub(super) fn new(counters: Arc<EngineCounters>, legs: usize) -> TaskGuard {
        counters.tasks_active.fetch_add(1, Ordering::Relaxed);
        TaskGuard {
            counters,
            legs,
            transcoding: false,
        }
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.counters
            .legs_active
            .fetch_sub(self.legs, Ordering::Relaxed);
        self.counters.tasks_active.fetch_sub(1, Ordering::Relaxed);
        if self.transcoding {
            self.counters
                .transcoding_active
                .fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// What every call of an engine shares (the threads hold this, not the engine).
#[derive(Clone)]
pub(super) struct Shared {
    pub(super) identity: DtlsIdentity,
    pub(super) counters: Arc<EngineCounters>,
    pub(super) metrics: Option<Arc<Metrics>>,
    pub(super) dtls_timeout: Duration,
}

/// A call handed to a media thread.
pub(super) struct NewCall {
    pub(super) session: MediaSession,
    pub(super) socks: Vec<LegSockets>,
    pub(super) events: mpsc::Sender<MediaEvent>,
    pub(super) guard: TaskGuard,
    /// Completed (dropped) when the call's sockets and ports are released.
    pub(super) done: oneshot::Sender<()>,
    /// Where the thread publishes the call's statistics every second.
    pub(super) latest: Arc<Mutex<Option<CallStats>>>,
    /// The runtime DTLS handshakes are spawned on.
    pub(super) rt: tokio::runtime::Handle,
    pub(super) shared: Arc<Shared>,
}

/// What a media thread is told.
pub(super) enum Msg {
    Add(u64, Box<NewCall>),
    Cmd(u64, Cmd),
    Quit,
}

/// The way to a media thread.
#[derive(Clone)]
pub(super) struct ThreadHandle {
    tx: std_mpsc::Sender<Msg>,
    waker: Arc<Waker>,
    calls: Arc<AtomicUsize>,
}

impl ThreadHandle {
    /// Sends a message and wakes the thread; `false` when the thread is gone.
    pub(super) fn send(&self, m: Msg) -> bool {
        if self.tx.send(m).is_err() {
            return false;
        }
        let _ = self.waker.wake();
        true
    }
}

/// The media threads of an engine, started with the first call; told to quit when the
/// engine (every clone of it) is dropped.
pub(super) struct Pool {
    threads: usize,
    batch_delay: Duration,
    handles: Mutex<Vec<ThreadHandle>>,
}

impl Pool {
    pub(super) fn new(threads: usize, batch_delay: Duration) -> Pool {
        Pool {
            threads: threads.max(1),
            batch_delay,
            handles: Mutex::new(Vec::new()),
        }
    }

    /// The thread with the fewest calls (starting the threads on first use).
    pub(super) fn pick(&self) -> std::io::Result<ThreadHandle> {
        let mut hs = self.handles.lock().unwrap_or_else(|e| e.into_inner());
        if hs.is_empty() {
            for i in 0..self.threads {
                hs.push(spawn(i, self.batch_delay)?);
            }
        }
        let h = hs
            .iter()
            .min_by_key(|h| h.calls.load(Ordering::Relaxed))
            .cloned()
            // Invariant: `threads >= 1` handles were pushed above.
            .expect("media threads started");
        // Counted now (the thread takes the call later): a burst of new calls spreads.
        h.calls.fetch_add(1, Ordering::Relaxed);
        Ok(h)
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let hs = self.handles.get_mut().unwrap_or_else(|e| e.into_inner());
        for h in hs.drain(..) {
            h.send(Msg::Quit);
        }
    }
}

fn spawn(i: usize, batch_delay: Duration) -> std::io::Result<ThreadHandle> {
    let poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    let (tx, rx) = std_mpsc::channel();
    let calls = Arc::new(AtomicUsize::new(0));
    let handle = ThreadHandle {
        tx,
        waker,
        calls: calls.clone(),
    };
    let own = handle.clone();
    std::thread::Builder::new()
        .name(format!("rvoip-media-{i}"))
        .spawn(move || {
            Reactor {
                poll,
                rx,
                me: own,
                calls,
                batch_delay,
                slots: Vec::new(),
                free: Vec::new(),
                ids: HashMap::new(),
                timers: BinaryHeap::new(),
                again: Vec::new(),
                buf: Box::new([0; RECV_BUF_LEN]),
            }
            .run()
        })?;
    Ok(handle)
}

/// The DTLS association of a leg: records from the peer go to `to_dtls` while the
/// handshake runs; the task is aborted when this is dropped.
struct DtlsLink {
    leg: LegId,
    to_dtls: mpsc::Sender<Vec<u8>>,
    task: tokio::task::JoinHandle<()>,
    /// Our last flight: the records sent since the peer's last datagram.
    flight: Vec<Vec<u8>>,
    /// Whether a record sent now continues `flight` (no datagram from the peer since).
    flight_open: bool,
    /// When the handshake completed: what the peer sends after is a retransmission.
    done_at: Option<StdInstant>,
    resent_at: Option<StdInstant>,
}

/// Whether two SDP fingerprint values name the same SHA-256 certificate (hex case and the
/// hash name aside, RFC 8122 §5).
fn dtls_fp_eq(a: &str, b: &str) -> bool {
    let a = crate::dtls::normalize_sha256(a);
    a.is_some() && a == crate::dtls::normalize_sha256(b)
}

/// Whether a DTLS datagram carries a handshake record (content type 22): after our
/// handshake completed, the peer retransmitting its final flight.
fn has_handshake_record(d: &[u8]) -> bool {
    crate::dtls::records(d).any(|(ty, _)| ty == 22)
}

impl Drop for DtlsLink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Counter values already pushed to metrics, to add only deltas.
#[derive(Default)]
struct Pushed {
    legs: [super::LegStats; 2],
    counters: super::SessionCounters,
}

/// A call on a media thread.
struct Slot {
    id: u64,
    session: MediaSession,
    socks: Vec<LegSockets>,
    events: mpsc::Sender<MediaEvent>,
    guard: TaskGuard,
    _done: oneshot::Sender<()>,
    latest: Arc<Mutex<Option<CallStats>>>,
    rt: tokio::runtime::Handle,
    shared: Arc<Shared>,
    /// The session's clock starts here.
    start: StdInstant,
    /// The deadline queued in the thread's timer heap, if any.
    queued: Option<StdInstant>,
    dtls: Option<DtlsLink>,
    /// The leg and peer fingerprint of the DTLS association (running or done): the same
    /// fingerprint again (a re-INVITE, hold) keeps it (RFC 8842 §5).
    dtls_peer: Option<(LegId, String)>,
    pushed: Pushed,
}

struct SocketSink<'a> {
    socks: &'a [LegSockets],
}

impl Sink for SocketSink<'_> {
    fn send(&mut self, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        for s in self.socks {
            if s.rtp_addr == from {
                let _ = if s.rtp_peer.is(to) {
                    s.rtp.send(data)
                } else {
                    s.rtp.send_to(data, to)
                };
                return;
            }
            if let Some(r) = &s.rtcp
                && s.rtcp_addr == Some(from)
            {
                let _ = if s.rtcp_peer.is(to) {
                    r.send(data)
                } else {
                    r.send_to(data, to)
                };
                return;
            }
        }
    }
}

impl Slot {
    fn now(&self) -> Instant {
        Instant::from_micros(self.start.elapsed().as_micros() as u64)
    }

    /// Connects the plain legs' sockets to their settled peers ([`PeerConn`]): after
    /// anything that may latch or change them (a datagram, a remote from signalling).
    fn follow_peers(&mut self) {
        for (l, s) in self.socks.iter_mut().enumerate() {
            let leg = if l == 0 { LegId::A } else { LegId::B };
            let (rtp, rtcp) = self.session.settled_peers(leg);
            s.rtp_peer.follow(&s.rtp, rtp);
            if let Some(r) = &s.rtcp {
                s.rtcp_peer.follow(r, rtcp);
            }
        }
    }

    fn socket(&self, k: usize) -> Option<(LegId, &UdpSocket, SocketAddr)> {
        let leg = if k < 2 { LegId::A } else { LegId::B };
        let s = self.socks.get(k / 2)?;
        if k.is_multiple_of(2) {
            Some((leg, &s.rtp, s.rtp_addr))
        } else {
            Some((leg, s.rtcp.as_ref()?, s.rtcp_addr?))
        }
    }

    fn kind_label(&self, i: usize) -> &'static str {
        self.socks.get(i).map_or("trunk", |s| s.label)
    }

    /// Delivers the session's events and DTLS records; `true` once the call ended.
    fn after(&mut self) -> bool {
        while let Some(e) = self.session.poll_event() {
            let _ = self.events.try_send(e);
        }
        if self.session.is_ended() {
            return true;
        }
        self.follow_peers();
        if !self.guard.transcoding && self.session.is_transcoding() {
            self.guard.transcoding = true;
            self.shared
                .counters
                .transcoding_active
                .fetch_add(1, Ordering::Relaxed);
            if let Some(m) = &self.shared.metrics {
                m.add("rvoip_transcoding_active", &[], 1.0);
            }
        }
        if let Some(d) = &mut self.dtls {
            let leg = d.leg;
            while let Some(r) = self.session.poll_dtls_in(leg) {
                d.flight_open = false;
                let Some(done) = d.done_at else {
                    let _ = d.to_dtls.try_send(r);
                    continue;
                };
                let now = StdInstant::now();
                if has_handshake_record(&r)
                    && now.duration_since(done) < FLIGHT_KEEP
                    && d.resent_at
                        .is_none_or(|t| now.duration_since(t) >= FLIGHT_RESEND_GAP)
                {
                    d.resent_at = Some(now);
                    tracing::debug!(
                        ?leg,
                        "DTLS: peer retransmitted; sending our last flight again"
                    );
                    let mut sink = SocketSink { socks: &self.socks };
                    for rec in &d.flight {
                        self.session.send_dtls(leg, rec.clone(), &mut sink);
                    }
                }
            }
            // SRTP from the peer: it completed too; or it had long enough.
            if let Some(done) = d.done_at
                && (done.elapsed() >= FLIGHT_KEEP
                    || self.session.stats(leg).is_some_and(|s| s.packets_in > 0))
            {
                self.dtls = None;
            }
        }
        false
    }

    fn deadline(&self) -> Option<StdInstant> {
        self.session
            .poll_timeout()
            .map(|t| self.start + Duration::from_micros(t.as_micros()))
    }

    fn push_metrics(&mut self) {
        let c = self.session.counters();
        let ec = &self.shared.counters;
        let p = &self.pushed;
        ec.transcoded_frames.fetch_add(
            c.transcoded_frames - p.counters.transcoded_frames,
            Ordering::Relaxed,
        );
        ec.passthrough_packets.fetch_add(
            c.passthrough_packets - p.counters.passthrough_packets,
            Ordering::Relaxed,
        );
        ec.dtmf_relayed
            .fetch_add(c.dtmf_relayed - p.counters.dtmf_relayed, Ordering::Relaxed);
        self.pushed.counters = c;
        for (i, id) in [LegId::A, LegId::B].into_iter().enumerate() {
            let Some(s) = self.session.stats(id) else {
                continue;
            };
            let p = self.pushed.legs[i];
            ec.dropped_unvalidated.fetch_add(
                s.dropped_unvalidated - p.dropped_unvalidated,
                Ordering::Relaxed,
            );
            ec.srtp_replays
                .fetch_add(s.srtp_replays - p.srtp_replays, Ordering::Relaxed);
            if let Some(m) = &self.shared.metrics {
                let leg = self.kind_label(i);
                for (name, dir, now, before) in [
                    ("rvoip_rtp_packets_total", "in", s.packets_in, p.packets_in),
                    (
                        "rvoip_rtp_packets_total",
                        "out",
                        s.packets_out,
                        p.packets_out,
                    ),
                    ("rvoip_rtp_bytes_total", "in", s.bytes_in, p.bytes_in),
                    ("rvoip_rtp_bytes_total", "out", s.bytes_out, p.bytes_out),
                ] {
                    m.add(name, &[("leg", leg), ("dir", dir)], (now - before) as f64);
                }
                let lost = (s.lost - p.lost).max(0);
                m.add("rvoip_rtp_lost_total", &[("leg", leg)], lost as f64);
            }
            self.pushed.legs[i] = s;
        }
    }

    fn stats(&self) -> CallStats {
        CallStats {
            legs: [self.session.stats(LegId::A), self.session.stats(LegId::B)],
            counters: self.session.counters(),
            transcoding: self.session.is_transcoding(),
        }
    }

    fn command(&mut self, c: Cmd, me: &ThreadHandle) {
        match c {
            Cmd::Hangup => self.session.end(LegId::A, EndReason::Hangup),
            Cmd::Stats(tx) => {
                let _ = tx.send(self.stats());
            }
            Cmd::Digit(leg, d, dur, tx) => {
                let now = self.now();
                let mut sink = SocketSink { socks: &self.socks };
                let _ = tx.send(self.session.send_digit(now, leg, d, dur, &mut sink));
            }
            Cmd::Sending(leg, on) => self.session.set_sending(leg, on),
            Cmd::Remote(leg, p) => self.apply_remote(leg, *p, me),
            Cmd::IceRestart(leg, creds) => {
                let (local, remote) = *creds;
                self.session.restart_ice(leg, local, remote);
            }
            Cmd::DtlsOut(leg, rec) => {
                if let Some(d) = &mut self.dtls {
                    if !d.flight_open {
                        d.flight.clear();
                        d.flight_open = true;
                    }
                    d.flight.push(rec.clone());
                }
                let mut sink = SocketSink { socks: &self.socks };
                self.session.send_dtls(leg, rec, &mut sink);
            }
            Cmd::DtlsDone(leg, res) => self.dtls_done(leg, res),
            #[cfg(test)]
            Cmd::Panic => panic!("injected by a test"),
        }
    }

    fn dtls_done(&mut self, leg: LegId, res: Result<DtlsSrtpKeys, DtlsError>) {
        let keys = res.and_then(|k| {
            tracing::info!(?leg, profile = ?k.profile, "DTLS-SRTP handshake done");
            srtp_keys(&k).ok_or(DtlsError::NoSrtpProfile)
        });
        match keys {
            Ok((local, remote)) => {
                self.session.set_srtp_keys(leg, &local, &remote);
                if let Some(d) = &mut self.dtls {
                    d.done_at = Some(StdInstant::now());
                }
            }
            Err(e) => {
                tracing::warn!(?leg, error = %e, "DTLS-SRTP handshake failed");
                self.shared
                    .counters
                    .dtls_failures
                    .fetch_add(1, Ordering::Relaxed);
                if let Some(m) = &self.shared.metrics {
                    m.inc("rvoip_dtls_failures_total", &[]);
                }
                self.session.end(leg, EndReason::DtlsFailed(e));
            }
        }
    }

    fn apply_remote(&mut self, leg: LegId, p: RemoteParams, me: &ThreadHandle) {
        match p {
            RemoteParams::Rtp { remote, format } => {
                self.session.set_rtp_remote(leg, remote);
                self.session.set_format(leg, format);
            }
            RemoteParams::WebRtc {
                ice,
                fingerprint,
                setup,
                format,
            } => {
                self.session.set_ice_remote(leg, ice);
                self.session.set_format(leg, format);
                // RFC 8842 §5: a new association only for a new fingerprint (the peer's
                // certificate changed) — an offer repeating it (hold, unhold, an ICE
                // restart) keeps the running one and its keys.
                if self
                    .dtls_peer
                    .as_ref()
                    .is_some_and(|(l, fp)| *l == leg && dtls_fp_eq(fp, &fingerprint))
                {
                    return;
                }
                self.dtls_peer = Some((leg, fingerprint.clone()));
                let Some(local) = self.session.local_addr(leg) else {
                    return;
                };
                let (handshake, chans) = DtlsHandshake::new(
                    &self.shared.identity,
                    dtls_role(setup),
                    &fingerprint,
                    local,
                    SocketAddr::new(local.ip(), 0),
                    self.shared.dtls_timeout,
                );
                let guard = TaskGuard::new(self.shared.counters.clone(), 0);
                let (id, me) = (self.id, me.clone());
                let mut from_dtls = chans.from_dtls;
                let task = self.rt.spawn(async move {
                    let _guard = guard;
                    let send = |c| me.send(Msg::Cmd(id, c));
                    let run = handshake.run();
                    tokio::pin!(run);
                    // Records the handshake writes go out as they come.
                    let res = loop {
                        tokio::select! {
                            r = &mut run => break r,
                            Some(rec) = from_dtls.recv() => { send(Cmd::DtlsOut(leg, rec)); }
                        }
                    };
                    // The last flight may still be queued.
                    while let Ok(rec) = from_dtls.try_recv() {
                        send(Cmd::DtlsOut(leg, rec));
                    }
                    // The connection is dropped here: the thread answers a retransmitted
                    // final flight itself (see `DtlsLink::flight`).
                    send(Cmd::DtlsDone(leg, res.map(|(_conn, keys)| keys)));
                });
                self.dtls = Some(DtlsLink {
                    leg,
                    to_dtls: chans.to_dtls,
                    task,
                    flight: Vec::new(),
                    flight_open: false,
                    done_at: None,
                    resent_at: None,
                });
            }
        }
    }

    /// Reads what `k` has (bounded); `true` when the bound was hit (more may be queued).
    fn drain(&mut self, k: usize, buf: &mut [u8; RECV_BUF_LEN]) -> bool {
        for _ in 0..MAX_BURST {
            let Some((leg, sock, local)) = self.socket(k) else {
                return false;
            };
            match sock.recv_from(&mut buf[..]) {
                Ok((n, from)) => {
                    let now = self.now();
                    let mut sink = SocketSink { socks: &self.socks };
                    self.session
                        .handle_datagram(now, leg, local, from, &mut buf[..], n, &mut sink);
                }
                // A connected socket ([`PeerConn`]) reports an ICMP port unreachable from
                // its peer once, here: datagrams may still be queued behind it.
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::Interrupted | std::io::ErrorKind::ConnectionRefused
                    ) => {}
                Err(_) => return false,
            }
        }
        true
    }
}

struct Reactor {
    poll: Poll,
    rx: std_mpsc::Receiver<Msg>,
    me: ThreadHandle,
    calls: Arc<AtomicUsize>,
    batch_delay: Duration,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    ids: HashMap<u64, usize>,
    /// (deadline, slot, call id), earliest first.
    timers: BinaryHeap<std::cmp::Reverse<(StdInstant, usize, u64)>>,
    /// Sockets that hit the read bound: read again before waiting.
    again: Vec<Token>,
    buf: Box<[u8; RECV_BUF_LEN]>,
}

impl Reactor {
    fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        let mut again = Vec::new();
        let mut next_metrics = StdInstant::now() + Duration::from_secs(1);
        loop {
            let now = StdInstant::now();
            let timeout = if self.again.is_empty() {
                let next = self
                    .timers
                    .peek()
                    .map_or(next_metrics, |t| t.0.0.min(next_metrics));
                Some(next.saturating_duration_since(now))
            } else {
                Some(Duration::ZERO)
            };
            if let Err(e) = self.poll.poll(&mut events, timeout)
                && e.kind() != std::io::ErrorKind::Interrupted
            {
                tracing::error!(error = %e, "media thread: poll failed");
                return;
            }
            std::mem::swap(&mut again, &mut self.again);
            let mut n = again.len();
            for t in again.drain(..) {
                self.readable(t);
            }
            let mut quit = false;
            for ev in events.iter() {
                n += 1;
                if ev.token() == WAKER {
                    quit |= self.messages();
                } else {
                    self.readable(ev.token());
                }
            }
            if quit {
                return;
            }
            let now = StdInstant::now();
            self.timers_due(now);
            if now >= next_metrics {
                for s in self.slots.iter_mut().flatten() {
                    // DTLS datagrams with no association to take them (a peer's late
                    // retransmissions): dropped, not kept.
                    if s.dtls.is_none() {
                        for leg in [LegId::A, LegId::B] {
                            while s.session.poll_dtls_in(leg).is_some() {}
                        }
                    }
                    s.push_metrics();
                    let st = s.stats();
                    *s.latest.lock().unwrap_or_else(|e| e.into_inner()) = Some(st);
                }
                next_metrics = now + Duration::from_secs(1);
            }
            if !self.batch_delay.is_zero() && n > 0 && n < BATCH_EVENTS && self.again.is_empty() {
                std::thread::sleep(self.batch_delay);
            }
        }
    }

    /// Handles the messages queued for this thread; `true` on `Quit`.
    fn messages(&mut self) -> bool {
        while let Ok(m) = self.rx.try_recv() {
            match m {
                Msg::Quit => return true,
                Msg::Add(id, c) => self.add(id, *c),
                Msg::Cmd(id, c) => {
                    let Some(&i) = self.ids.get(&id) else {
                        continue;
                    };
                    self.on_slot(i, |s, _, me| s.command(c, me));
                }
            }
        }
        false
    }

    fn add(&mut self, id: u64, c: NewCall) {
        let i = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        });
        let mut c = c;
        let reg = self.poll.registry();
        let mut ok = true;
        for (l, s) in c.socks.iter_mut().enumerate() {
            let t = Token(i * SOCKS_PER_CALL + 2 * l);
            ok &= reg.register(&mut s.rtp, t, Interest::READABLE).is_ok();
            if let Some(r) = &mut s.rtcp {
                let t = Token(i * SOCKS_PER_CALL + 2 * l + 1);
                ok &= reg.register(r, t, Interest::READABLE).is_ok();
            }
        }
        let mut slot = Slot {
            id,
            session: c.session,
            socks: c.socks,
            events: c.events,
            guard: c.guard,
            _done: c.done,
            latest: c.latest,
            rt: c.rt,
            shared: c.shared,
            start: StdInstant::now(),
            queued: None,
            dtls: None,
            dtls_peer: None,
            pushed: Pushed::default(),
        };
        if !ok {
            tracing::error!("media thread: cannot register the call's sockets");
            slot.session.end(LegId::A, EndReason::Hangup);
        }
        self.slots[i] = Some(slot);
        self.ids.insert(id, i);
        self.on_slot(i, |_, _, _| ());
    }

    fn readable(&mut self, t: Token) {
        let (i, k) = (t.0 / SOCKS_PER_CALL, t.0 % SOCKS_PER_CALL);
        if self.on_slot(i, |s, buf, _| s.drain(k, buf)) == Some(true) {
            self.again.push(t);
        }
    }

    /// Runs `f` on the call in slot `i`, then settles it: delivers its output, and ends it
    /// or (re)arms its timer. A panic in either ends that call alone (its B2BUA gets
    /// [`EndReason::Internal`]); the thread and its other calls go on.
    fn on_slot<R>(
        &mut self,
        i: usize,
        f: impl FnOnce(&mut Slot, &mut [u8; RECV_BUF_LEN], &ThreadHandle) -> R,
    ) -> Option<R> {
        let s = self.slots.get_mut(i).and_then(Option::as_mut)?;
        let (buf, me) = (&mut *self.buf, &self.me);
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let r = f(s, buf, me);
            let ended = s.after();
            let deadline = if ended { None } else { s.deadline() };
            (r, ended, deadline)
        }));
        match run {
            Err(_) => {
                self.fail(i);
                None
            }
            Ok((r, true, _)) => {
                self.remove(i);
                Some(r)
            }
            Ok((r, false, deadline)) => {
                if let Some(d) = deadline
                    && let Some(s) = self.slots.get_mut(i).and_then(Option::as_mut)
                    && s.queued.is_none_or(|q| d < q)
                {
                    s.queued = Some(d);
                    self.timers.push(std::cmp::Reverse((d, i, s.id)));
                }
                Some(r)
            }
        }
    }

    fn timers_due(&mut self, now: StdInstant) {
        while let Some(std::cmp::Reverse((d, i, id))) = self.timers.peek().copied() {
            if d > now {
                break;
            }
            self.timers.pop();
            let Some(s) = self.slots.get_mut(i).and_then(Option::as_mut) else {
                continue;
            };
            // A stale entry (the slot was reused, or an earlier deadline replaced it).
            if s.id != id || s.queued != Some(d) {
                continue;
            }
            self.on_slot(i, |s, _, _| {
                s.queued = None;
                if s.deadline().is_some_and(|d| d <= now) {
                    let t = s.now();
                    let mut sink = SocketSink { socks: &s.socks };
                    s.session.handle_timeout(t, &mut sink);
                }
            });
        }
    }

    /// Ends the call in slot `i` after a panic in its processing: its session may be
    /// inconsistent, so it is not asked for anything more.
    fn fail(&mut self, i: usize) {
        let Some(s) = self.slots.get(i).and_then(Option::as_ref) else {
            return;
        };
        tracing::error!(
            call = s.id,
            "media: processing the call panicked; ending it"
        );
        let _ = s.events.try_send(MediaEvent::Ended {
            leg: LegId::A,
            reason: EndReason::Internal,
        });
        self.release(i, false);
    }

    fn remove(&mut self, i: usize) {
        self.release(i, true);
    }

    /// Frees slot `i`: deregisters and closes the call's sockets (freeing its ports) and
    /// completes its `done`; with `flush`, first delivers its last events and metrics.
    fn release(&mut self, i: usize, flush: bool) {
        let Some(mut s) = self.slots.get_mut(i).and_then(Option::take) else {
            return;
        };
        if flush {
            while let Some(e) = s.session.poll_event() {
                let _ = s.events.try_send(e);
            }
            s.push_metrics();
        }
        if s.guard.transcoding
            && let Some(m) = &s.shared.metrics
        {
            m.add("rvoip_transcoding_active", &[], -1.0);
        }
        let reg = self.poll.registry();
        for l in &mut s.socks {
            let _ = reg.deregister(&mut l.rtp);
            if let Some(r) = &mut l.rtcp {
                let _ = reg.deregister(r);
            }
        }
        self.ids.remove(&s.id);
        self.free.push(i);
        self.again.retain(|t| t.0 / SOCKS_PER_CALL != i);
        self.calls.fetch_sub(1, Ordering::Relaxed);
        // Dropping the slot closes the sockets, frees the ports, aborts a DTLS task and
        // completes `done`.
        drop(s);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use super::super::{CallSpec, Cmd, EndReason, MediaEngine, MediaEvent};
    use crate::config::MediaConfig;
    use crate::dtls::DtlsIdentity;

    #[tokio::test]
    async fn a_panicking_call_ends_alone_and_its_thread_goes_on() {
        let cfg = MediaConfig {
            port_min: 47100,
            port_max: 47199,
            threads: 1,
            ..MediaConfig::default()
        };
        let engine = MediaEngine::new(&cfg, DtlsIdentity::generate().expect("identity"));
        let mut bad = engine.create_call(CallSpec::gateway()).expect("call");
        let good = engine.create_call(CallSpec::gateway()).expect("call");
        assert!(bad.cmd(Cmd::Panic));
        let limit = Duration::from_secs(5);
        let ev = tokio::time::timeout(limit, bad.next_event())
            .await
            .expect("an event");
        assert!(
            matches!(
                ev,
                Some(MediaEvent::Ended {
                    reason: EndReason::Internal,
                    ..
                })
            ),
            "{ev:?}"
        );
        tokio::time::timeout(limit, bad.finished())
            .await
            .expect("the failed call is released");
        // The other call on the same (only) thread is alive, and new calls are served.
        assert!(good.stats().await.is_some());
        let third = engine.create_call(CallSpec::gateway()).expect("call");
        assert!(third.stats().await.is_some());
        good.hangup().await;
        third.hangup().await;
        drop(bad);
        let c = engine.counters();
        assert_eq!(c.legs_active.load(Ordering::Relaxed), 0);
        assert_eq!(c.tasks_active.load(Ordering::Relaxed), 0);
        assert_eq!(engine.ports_in_use(), 0);
    }
}
