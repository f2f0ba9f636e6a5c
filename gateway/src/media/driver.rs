//! The tokio task of one call: owns the sockets and the [`MediaSession`]; `select!` on
//! socket readiness, the session's timer, the command channel and the DTLS handshake.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rvoip_core::time::Instant;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::ports::PortLease;
use super::session::{EndReason, LegId, MediaEvent, MediaSession, Sink};
use super::{CallStats, Cmd, EngineCounters, MediaEngine, RemoteParams, dtls_role, srtp_keys};
use crate::dtls::{DtlsChannels, DtlsError, DtlsHandshake, DtlsSrtpKeys};

/// Size of the receive buffer: a full Ethernet-MTU datagram plus room for the SRTP tag.
const RECV_BUF_LEN: usize = 2048;

std::thread_local! {
    /// The receive buffer of the call tasks running on this thread (shared by all of them:
    /// a task uses it only between two awaits).
    static RECV_BUF: std::cell::RefCell<Box<[u8; RECV_BUF_LEN]>> =
        std::cell::RefCell::new(Box::new([0; RECV_BUF_LEN]));
}

pub(super) struct LegSockets {
    pub(super) rtp: UdpSocket,
    pub(super) rtcp: Option<UdpSocket>,
    /// Local addresses of `rtp` and `rtcp` (cached: no syscall per packet).
    pub(super) rtp_addr: SocketAddr,
    pub(super) rtcp_addr: Option<SocketAddr>,
    /// "webrtc" or "trunk", for metrics labels.
    pub(super) label: &'static str,
    /// Dropped after the sockets (field order), freeing the ports.
    pub(super) _lease: PortLease,
}

/// Counts a task (and its legs) alive; decrements on drop, however the task ends.
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

pub(super) struct CallTask {
    pub(super) engine: MediaEngine,
    pub(super) session: MediaSession,
    pub(super) socks: Vec<LegSockets>,
    pub(super) cmds: mpsc::UnboundedReceiver<Cmd>,
    pub(super) events: mpsc::Sender<MediaEvent>,
    pub(super) guard: TaskGuard,
}

struct SocketSink<'a> {
    socks: &'a [LegSockets],
}

impl Sink for SocketSink<'_> {
    fn send(&mut self, from: SocketAddr, to: SocketAddr, data: &[u8]) {
        for s in self.socks {
            if s.rtp_addr == from {
                let _ = s.rtp.try_send_to(data, to);
                return;
            }
            if let Some(r) = &s.rtcp
                && s.rtcp_addr == Some(from)
            {
                let _ = r.try_send_to(data, to);
                return;
            }
        }
    }
}

/// The channels of a running DTLS association of leg A or B.
struct Dtls {
    leg: LegId,
    chans: DtlsChannels,
}

type HsResult = Result<DtlsSrtpKeys, DtlsError>;

/// The handshake task; aborted when dropped.
struct Handshake(LegId, tokio::task::JoinHandle<HsResult>);

impl Drop for Handshake {
    fn drop(&mut self) {
        self.1.abort();
    }
}

async fn readable(s: Option<&UdpSocket>) -> Option<&UdpSocket> {
    match s {
        Some(s) => {
            let _ = s.readable().await;
            Some(s)
        }
        None => std::future::pending().await,
    }
}

async fn dtls_record(d: &mut Option<Dtls>) -> (LegId, Option<Vec<u8>>) {
    match d {
        Some(d) => (d.leg, d.chans.from_dtls.recv().await),
        None => std::future::pending().await,
    }
}

async fn dtls_done(h: &mut Option<Handshake>) -> (LegId, Result<HsResult, tokio::task::JoinError>) {
    match h {
        Some(Handshake(leg, j)) => (*leg, j.await),
        None => std::future::pending().await,
    }
}

/// Counter values already pushed to metrics, to add only deltas.
#[derive(Default)]
struct Pushed {
    legs: [super::LegStats; 2],
    counters: super::SessionCounters,
}

impl CallTask {
    fn kind_label(&self, i: usize) -> &'static str {
        self.socks.get(i).map_or("trunk", |s| s.label)
    }

    fn push_metrics(&self, pushed: &mut Pushed) {
        let c = self.session.counters();
        let ec = &self.engine.counters;
        ec.transcoded_frames.fetch_add(
            c.transcoded_frames - pushed.counters.transcoded_frames,
            Ordering::Relaxed,
        );
        ec.passthrough_packets.fetch_add(
            c.passthrough_packets - pushed.counters.passthrough_packets,
            Ordering::Relaxed,
        );
        ec.dtmf_relayed.fetch_add(
            c.dtmf_relayed - pushed.counters.dtmf_relayed,
            Ordering::Relaxed,
        );
        pushed.counters = c;
        for (i, id) in [LegId::A, LegId::B].into_iter().enumerate() {
            let Some(s) = self.session.stats(id) else {
                continue;
            };
            let p = pushed.legs[i];
            ec.dropped_unvalidated.fetch_add(
                s.dropped_unvalidated - p.dropped_unvalidated,
                Ordering::Relaxed,
            );
            ec.srtp_replays
                .fetch_add(s.srtp_replays - p.srtp_replays, Ordering::Relaxed);
            if let Some(m) = &self.engine.metrics {
                let leg = self.kind_label(i);
                let pk = "rvoip_rtp_packets_total";
                let by = "rvoip_rtp_bytes_total";
                m.add(
                    pk,
                    &[("leg", leg), ("dir", "in")],
                    (s.packets_in - p.packets_in) as f64,
                );
                m.add(
                    pk,
                    &[("leg", leg), ("dir", "out")],
                    (s.packets_out - p.packets_out) as f64,
                );
                m.add(
                    by,
                    &[("leg", leg), ("dir", "in")],
                    (s.bytes_in - p.bytes_in) as f64,
                );
                m.add(
                    by,
                    &[("leg", leg), ("dir", "out")],
                    (s.bytes_out - p.bytes_out) as f64,
                );
                let lost = (s.lost - p.lost).max(0);
                m.add("rvoip_rtp_lost_total", &[("leg", leg)], lost as f64);
            }
            pushed.legs[i] = s;
        }
    }

    pub(super) async fn run(mut self) {
        let start = std::time::Instant::now();
        let now = || Instant::from_micros(start.elapsed().as_micros() as u64);
        let mut dtls: Option<Dtls> = None;
        let mut hs: Option<Handshake> = None;
        let mut pushed = Pushed::default();
        let mut metrics_tick = tokio::time::interval(Duration::from_secs(1));
        metrics_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // Deliver events; stop after `Ended`.
            while let Some(e) = self.session.poll_event() {
                let _ = self.events.try_send(e);
            }
            if self.session.is_ended() {
                break;
            }
            if !self.guard.transcoding && self.session.is_transcoding() {
                self.guard.transcoding = true;
                let ec = &self.engine.counters;
                ec.transcoding_active.fetch_add(1, Ordering::Relaxed);
                if let Some(m) = &self.engine.metrics {
                    m.add("rvoip_transcoding_active", &[], 1.0);
                }
            }
            if let Some(d) = &dtls {
                while let Some(r) = self.session.poll_dtls_in(d.leg) {
                    let _ = d.chans.to_dtls.try_send(r);
                }
            }
            let deadline = self.session.poll_timeout().map(|t| {
                let base = tokio::time::Instant::from_std(start);
                base + Duration::from_micros(t.as_micros())
            });
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            let s0 = self.socks.first().map(|s| &s.rtp);
            let s0c = self.socks.first().and_then(|s| s.rtcp.as_ref());
            let s1 = self.socks.get(1).map(|s| &s.rtp);
            let s1c = self.socks.get(1).and_then(|s| s.rtcp.as_ref());
            let a0 = self.socks.first().map(|s| s.rtp_addr);
            let a0c = self.socks.first().and_then(|s| s.rtcp_addr);
            let a1 = self.socks.get(1).map(|s| s.rtp_addr);
            let a1c = self.socks.get(1).and_then(|s| s.rtcp_addr);
            let ready: Option<(LegId, &UdpSocket, Option<SocketAddr>)> = tokio::select! {
                s = readable(s0) => s.map(|s| (LegId::A, s, a0)),
                s = readable(s0c) => s.map(|s| (LegId::A, s, a0c)),
                s = readable(s1) => s.map(|s| (LegId::B, s, a1)),
                s = readable(s1c) => s.map(|s| (LegId::B, s, a1c)),
                c = self.cmds.recv() => {
                    match c {
                        None | Some(Cmd::Hangup) => {
                            self.session.end(LegId::A, EndReason::Hangup);
                        }
                        Some(Cmd::Stats(tx)) => {
                            let _ = tx.send(CallStats {
                                legs: [self.session.stats(LegId::A), self.session.stats(LegId::B)],
                                counters: self.session.counters(),
                                transcoding: self.session.is_transcoding(),
                            });
                        }
                        Some(Cmd::Digit(leg, d, dur, tx)) => {
                            let mut sink = SocketSink { socks: &self.socks };
                            let _ = tx.send(self.session.send_digit(now(), leg, d, dur, &mut sink));
                        }
                        Some(Cmd::Sending(leg, on)) => self.session.set_sending(leg, on),
                        Some(Cmd::Remote(leg, p)) => {
                            if let Some((d, h)) = self.apply_remote(leg, *p, dtls.is_none()) {
                                dtls = Some(d);
                                hs = Some(h);
                            }
                        }
                    }
                    None
                }
                (leg, rec) = dtls_record(&mut dtls) => {
                    match rec {
                        Some(rec) => {
                            let mut sink = SocketSink { socks: &self.socks };
                            self.session.send_dtls(leg, rec, &mut sink);
                        }
                        // The DTLS side is gone (its connection is dropped once the keys are
                        // exported): a closed channel is ready at every poll, so stop
                        // selecting on it — else this task spins a core for the whole call.
                        None => dtls = None,
                    }
                    None
                }
                (leg, res) = dtls_done(&mut hs) => {
                    hs = None;
                    let keys = match res {
                        Ok(Ok(k)) => {
                            tracing::info!(?leg, profile = ?k.profile, "DTLS-SRTP handshake done");
                            srtp_keys(&k).ok_or(DtlsError::NoSrtpProfile)
                        }
                        Ok(Err(e)) => Err(e),
                        Err(e) => Err(DtlsError::Handshake(e.to_string())),
                    };
                    match keys {
                        Ok((local, remote)) => self.session.set_srtp_keys(leg, &local, &remote),
                        Err(e) => {
                            tracing::warn!(?leg, error = %e, "DTLS-SRTP handshake failed");
                            self.engine.counters.dtls_failures.fetch_add(1, Ordering::Relaxed);
                            if let Some(m) = &self.engine.metrics {
                                m.inc("rvoip_dtls_failures_total", &[]);
                            }
                            self.session.end(leg, EndReason::DtlsFailed(e));
                        }
                    }
                    None
                }
                _ = sleep => {
                    let mut sink = SocketSink { socks: &self.socks };
                    self.session.handle_timeout(now(), &mut sink);
                    None
                }
                _ = metrics_tick.tick() => {
                    self.push_metrics(&mut pushed);
                    None
                }
            };
            if let Some((leg, sock, Some(local))) = ready {
                // Drain what is readable (bounded), then go back to select. The receive
                // buffer is the worker thread's, not the call's (no await while it is
                // borrowed).
                RECV_BUF.with_borrow_mut(|buf| {
                    for _ in 0..64 {
                        match sock.try_recv_from(&mut buf[..]) {
                            Ok((n, from)) => {
                                let mut sink = SocketSink { socks: &self.socks };
                                self.session.handle_datagram(
                                    now(),
                                    leg,
                                    local,
                                    from,
                                    &mut buf[..],
                                    n,
                                    &mut sink,
                                );
                            }
                            Err(_) => break,
                        }
                    }
                });
            }
        }
        while let Some(e) = self.session.poll_event() {
            let _ = self.events.try_send(e);
        }
        self.push_metrics(&mut pushed);
        if self.guard.transcoding
            && let Some(m) = &self.engine.metrics
        {
            m.add("rvoip_transcoding_active", &[], -1.0);
        }
        drop(hs);
        drop(dtls);
    }

    fn apply_remote(
        &mut self,
        leg: LegId,
        p: RemoteParams,
        start_dtls: bool,
    ) -> Option<(Dtls, Handshake)> {
        match p {
            RemoteParams::Rtp { remote, format } => {
                self.session.set_rtp_remote(leg, remote);
                self.session.set_format(leg, format);
                None
            }
            RemoteParams::WebRtc {
                ice,
                fingerprint,
                setup,
                format,
            } => {
                self.session.set_ice_remote(leg, ice);
                self.session.set_format(leg, format);
                if !start_dtls {
                    return None;
                }
                let local = self.session.local_addr(leg)?;
                let (handshake, chans) = DtlsHandshake::new(
                    &self.engine.identity,
                    dtls_role(setup),
                    &fingerprint,
                    local,
                    SocketAddr::new(local.ip(), 0),
                    self.engine.dtls_timeout,
                );
                let guard = TaskGuard::new(self.engine.counters.clone(), 0);
                let join = tokio::spawn(async move {
                    let _guard = guard;
                    handshake.run().await.map(|(_conn, keys)| keys)
                });
                Some((Dtls { leg, chans }, Handshake(leg, join)))
            }
        }
    }
}
