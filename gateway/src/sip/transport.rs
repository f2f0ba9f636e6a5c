//! SIP transports (RFC 3261 §18): the UDP listener, the TCP and TLS (RFC 3261 §26, RFC 5630)
//! listeners and outgoing TCP and TLS connections, all streams framed with the core's
//! [`StreamFramer`], and the flow registry shared with the WebSocket handler (RFC 7118, in
//! [`crate::http`]). TLS is terminated here with rustls ([`crate::tls`]); above it a TLS
//! flow is a TCP flow whose Via transport is `TLS`.
//!
//! A stream connection is a *flow* (RFC 5626): it is registered under its peer address;
//! responses and requests to a user registered over it are sent on it, and when it closes
//! [`Shared::flow_closed`] removes its bindings and tells the tasks that use it (and only
//! those: [`FlowWatchers`] indexes the tasks by the flows they use).
//!
//! Connections the gateway opened (to TCP/TLS trunks) are closed once idle: RFC 3261 §18
//! and RFC 5923 leave the lifetime of a connection to the implementation, so a client
//! connection that carried no traffic in either direction for `sip.connection_idle_timeout`
//! (default 300 s, see [`crate::config::SipConfig`]; 0 keeps them open) is closed, unless a
//! task still uses it ([`FlowUses`]: a call with a dialog or transaction on it, a trunk's
//! OPTIONS in flight or its registration). Closing for idleness is not a failure: the calls
//! are not told, and the next message to that peer opens a new connection. Connections
//! peers opened to us are theirs to close (RFC 5626 flows, WebSocket clients).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rvoip_core::sip::ua::Transport;
use rvoip_core::sip::{Frame, Limits, StreamFramer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, watch};

use super::{CallInput, Flow, Shared};

/// Largest UDP datagram read.
const MAX_DATAGRAM: usize = 65_535;

/// Registers a flow under `peer`; returns the receiver of messages to send on it.
pub fn register_flow(
    sh: &Shared,
    peer: SocketAddr,
    transport: Transport,
) -> mpsc::UnboundedReceiver<Vec<u8>> {
    insert_flow(sh, peer, transport, false)
}

fn insert_flow(
    sh: &Shared,
    peer: SocketAddr,
    transport: Transport,
    outgoing: bool,
) -> mpsc::UnboundedReceiver<Vec<u8>> {
    let (tx, rx) = mpsc::unbounded_channel();
    let flow = Flow {
        transport,
        tx,
        outgoing,
    };
    if Shared::lock(&sh.flows).insert(peer, flow).is_none() {
        sh.counters.flows.fetch_add(1, Ordering::SeqCst);
    }
    rx
}

/// The stream flows a task uses. Outgoing connections (TCP and TLS) the task sends on are
/// not closed for idleness while it holds a use of them: uses are counted per peer address
/// in [`super::Counters::flow_users`], so they outlive a connection that the peer closed and
/// apply to the one that replaces it. A holder made with [`FlowUses::watching`] is also told
/// ([`CallInput::FlowClosed`]) when any stream flow it noted closes, through the
/// [`FlowWatchers`] index: a closing connection reaches only the tasks that use it. Both are
/// released when the holder is dropped.
pub struct FlowUses {
    sh: Arc<Shared>,
    peers: Vec<SocketAddr>,
    watch: Option<Watch>,
}

/// A holder's entries in [`FlowWatchers`].
struct Watch {
    id: u64,
    tx: mpsc::UnboundedSender<CallInput>,
    flows: Vec<SocketAddr>,
}

impl FlowUses {
    /// No uses yet.
    pub fn new(sh: Arc<Shared>) -> FlowUses {
        FlowUses {
            sh,
            peers: Vec::new(),
            watch: None,
        }
    }

    /// No uses yet; the holder is told on `tx` when a stream flow it notes closes.
    pub fn watching(sh: Arc<Shared>, tx: mpsc::UnboundedSender<CallInput>) -> FlowUses {
        let id = sh.flow_watchers.next_id();
        FlowUses {
            sh,
            peers: Vec::new(),
            watch: Some(Watch {
                id,
                tx,
                flows: Vec::new(),
            }),
        }
    }

    /// Notes that the holder sends to (or receives from) `dest` over `transport`: a stream
    /// flow it is told about when it closes (if watching), and for TCP and TLS a use of the
    /// connection (other transports have no connection the gateway opens). Call it before
    /// sending, so that a connection failing at once is not missed.
    pub fn note(&mut self, transport: Transport, dest: SocketAddr) {
        if let Some(w) = &mut self.watch
            && transport.is_reliable()
            && !w.flows.contains(&dest)
        {
            w.flows.push(dest);
            self.sh.flow_watchers.watch(dest, w.id, &w.tx);
        }
        if !matches!(transport, Transport::Tcp | Transport::Tls) || self.peers.contains(&dest) {
            return;
        }
        self.peers.push(dest);
        *Shared::lock(&self.sh.counters.flow_users)
            .entry(dest)
            .or_default() += 1;
    }
}

impl std::fmt::Debug for FlowUses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowUses")
            .field("peers", &self.peers)
            .field("watched", &self.watch.as_ref().map(|w| &w.flows))
            .finish_non_exhaustive()
    }
}

impl Drop for FlowUses {
    fn drop(&mut self) {
        if let Some(w) = &self.watch {
            for flow in &w.flows {
                self.sh.flow_watchers.unwatch(*flow, w.id);
            }
        }
        let mut users = Shared::lock(&self.sh.counters.flow_users);
        for peer in &self.peers {
            if let Some(n) = users.get_mut(peer) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    users.remove(peer);
                }
            }
        }
    }
}

/// The index of stream flows to the tasks told when they close: per peer address, the
/// watching tasks by watcher id ([`FlowUses::watching`]). [`Shared::flow_closed`] notifies
/// the watchers of one flow, O(its watchers), instead of every live call, so a mass
/// disconnect of N calls costs O(N) messages, not O(N²). Entries outlive the connection
/// (an outgoing connection to a trunk is reopened under the same address) and go when
/// their holder is dropped.
#[derive(Debug, Default)]
pub struct FlowWatchers {
    by_flow: Mutex<HashMap<SocketAddr, HashMap<u64, mpsc::UnboundedSender<CallInput>>>>,
    next: AtomicU64,
}

impl FlowWatchers {
    /// A fresh watcher id.
    pub fn next_id(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// Watcher `id` is told on `tx` when the flow to `peer` closes.
    pub fn watch(&self, peer: SocketAddr, id: u64, tx: &mpsc::UnboundedSender<CallInput>) {
        Shared::lock(&self.by_flow)
            .entry(peer)
            .or_default()
            .insert(id, tx.clone());
    }

    /// Watcher `id` no longer watches `peer`.
    pub fn unwatch(&self, peer: SocketAddr, id: u64) {
        let mut by_flow = Shared::lock(&self.by_flow);
        if let Some(w) = by_flow.get_mut(&peer) {
            w.remove(&id);
            if w.is_empty() {
                by_flow.remove(&peer);
            }
        }
    }

    /// Tells the watchers of `peer` that its flow closed; returns how many were told.
    pub fn notify(&self, peer: SocketAddr) -> usize {
        // Senders are cloned out so that no task's channel is fed under the lock.
        let txs: Vec<_> = Shared::lock(&self.by_flow)
            .get(&peer)
            .map(|w| w.values().cloned().collect())
            .unwrap_or_default();
        for tx in &txs {
            let _ = tx.send(CallInput::FlowClosed(peer));
        }
        txs.len()
    }

    /// Entries (flow, watcher) held: zero when no task watches a flow.
    pub fn len(&self) -> usize {
        Shared::lock(&self.by_flow).values().map(HashMap::len).sum()
    }

    /// Whether no task watches a flow.
    pub fn is_empty(&self) -> bool {
        Shared::lock(&self.by_flow).is_empty()
    }
}

/// Whether a task uses the connection to `peer` ([`FlowUses`]).
pub fn flow_in_use(sh: &Shared, peer: SocketAddr) -> bool {
    Shared::lock(&sh.counters.flow_users)
        .get(&peer)
        .is_some_and(|n| *n > 0)
}

/// How long an outgoing connection may stay idle (`sip.connection_idle_timeout`; `None`:
/// forever).
fn idle_timeout(sh: &Shared) -> Option<Duration> {
    let s = sh.cfg.sip.connection_idle_timeout;
    (s > 0).then(|| Duration::from_secs(u64::from(s)))
}

/// Reads datagrams until shutdown.
pub async fn run_udp(sh: Arc<Shared>, sock: Arc<UdpSocket>, mut stop: watch::Receiver<bool>) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        tokio::select! {
            r = sock.recv_from(&mut buf) => match r {
                Ok((n, src)) => {
                    if let Some(data) = buf.get(..n) {
                        sh.on_message(Transport::Udp, src, data);
                    }
                }
                // ICMP port unreachable surfaces here on some systems: keep reading.
                Err(e) => tracing::trace!("udp recv: {e}"),
            },
            _ = stop.changed() => break,
        }
    }
}

/// Accepts TCP connections until shutdown.
pub async fn run_tcp(sh: Arc<Shared>, listener: TcpListener, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let rx = register_flow(&sh, peer, Transport::Tcp);
                    tokio::spawn(run_stream(sh.clone(), stream, peer, Transport::Tcp, rx, stop.clone(), None));
                }
                Err(e) => {
                    tracing::warn!("tcp accept: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            _ = stop.changed() => break,
        }
    }
}

/// Accepts SIP-TLS connections until shutdown: each handshake runs in its own task
/// ([`crate::tls::accept_loop`]); an established connection becomes a `TLS` flow.
pub async fn run_tls(
    sh: Arc<Shared>,
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    mut stop: watch::Receiver<bool>,
) {
    let flows_stop = stop.clone();
    let accept = crate::tls::accept_loop(listener, acceptor, move |stream, peer| {
        let rx = register_flow(&sh, peer, Transport::Tls);
        tokio::spawn(run_stream(
            sh.clone(),
            stream,
            peer,
            Transport::Tls,
            rx,
            flows_stop.clone(),
            None,
        ));
    });
    tokio::select! {
        () = accept => {}
        _ = stop.changed() => {}
    }
}

/// How long connecting (TCP, then the TLS handshake) to a trunk may take.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Registers the flow of an outgoing connection to `dest` at once, so that messages sent
/// while connecting queue behind `first`.
fn outgoing_flow(
    sh: &Shared,
    dest: SocketAddr,
    transport: Transport,
    first: Vec<u8>,
) -> mpsc::UnboundedReceiver<Vec<u8>> {
    let rx = insert_flow(sh, dest, transport, true);
    if let Some(f) = Shared::lock(&sh.flows).get(&dest) {
        let _ = f.tx.send(first);
    }
    rx
}

/// Opens a TCP connection to `dest` and sends `first` on it (outgoing requests to a TCP
/// trunk); later messages find the flow registered.
pub fn connect_tcp(sh: Arc<Shared>, dest: SocketAddr, first: Vec<u8>) {
    let rx = outgoing_flow(&sh, dest, Transport::Tcp, first);
    tokio::spawn(async move {
        // Outgoing flows end with their connection, not with a listener: `_keep` holds the
        // stop channel open for as long as the flow runs.
        let (_keep, stop) = watch::channel(false);
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(dest)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                let idle = idle_timeout(&sh);
                run_stream(sh, stream, dest, Transport::Tcp, rx, stop, idle).await;
            }
            _ => {
                tracing::warn!(%dest, "tcp connect failed");
                sh.flow_closed(dest);
            }
        }
    });
}

/// Opens a TLS connection to the trunk at `dest` (RFC 3261 §26.3.1: the provider's
/// certificate is verified, with the trunk's host as server name) and sends `first` on it;
/// later messages find the flow registered. Without a `transport = "tls"` trunk at `dest`
/// there is no name to verify against: the message is dropped.
pub fn connect_tls(sh: Arc<Shared>, dest: SocketAddr, first: Vec<u8>) {
    let tls = {
        let trunks = Shared::lock(&sh.trunks);
        trunks
            .iter()
            .position(|t| {
                t.next_hop == Some(dest) && t.cfg.transport == crate::config::TrunkTransport::Tls
            })
            .and_then(|i| sh.tls_trunks.get(i).cloned().flatten())
    };
    let Some(tls) = tls else {
        tracing::warn!(%dest, "no TLS trunk at this address: message dropped");
        return;
    };
    let rx = outgoing_flow(&sh, dest, Transport::Tls, first);
    tokio::spawn(async move {
        let (_keep, stop) = watch::channel(false);
        let connect = async {
            let tcp = TcpStream::connect(dest).await?;
            let _ = tcp.set_nodelay(true);
            tls.connector.connect(tls.server_name.clone(), tcp).await
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
            Ok(Ok(stream)) => {
                let idle = idle_timeout(&sh);
                run_stream(sh, stream, dest, Transport::Tls, rx, stop, idle).await;
            }
            Ok(Err(e)) => {
                tracing::warn!(%dest, server_name = ?tls.server_name, "tls connect failed: {e}");
                sh.flow_closed(dest);
            }
            Err(_) => {
                tracing::warn!(%dest, "tls connect timed out");
                sh.flow_closed(dest);
            }
        }
    });
}

/// Drives one stream flow (TCP or TLS): frames received bytes into messages, writes queued
/// messages. With `idle` (connections we opened), closes the connection once it carried no
/// traffic for that long and no task uses it (see the module docs).
async fn run_stream<S: AsyncRead + AsyncWrite + Unpin>(
    sh: Arc<Shared>,
    mut stream: S,
    peer: SocketAddr,
    transport: Transport,
    mut rx: mpsc::UnboundedReceiver<Vec<u8>>,
    mut stop: watch::Receiver<bool>,
    idle: Option<Duration>,
) {
    let mut framer = StreamFramer::new(Limits::default());
    let mut buf = vec![0u8; 16 * 1024];
    let mut last_traffic = tokio::time::Instant::now();
    // Far enough never to fire when there is no idle limit.
    let idle_for = idle.unwrap_or(Duration::from_secs(365 * 24 * 3600));
    let mut idle_closed = false;
    'conn: loop {
        tokio::select! {
            r = stream.read(&mut buf) => {
                let n = match r {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                last_traffic = tokio::time::Instant::now();
                if framer.push(buf.get(..n).unwrap_or(&[])).is_err() {
                    break;
                }
                loop {
                    match framer.next_frame() {
                        Ok(Some(Frame::Message(m))) => sh.on_message(transport, peer, &m),
                        Ok(Some(Frame::Ping)) => {
                            if write_msg(&mut stream, b"\r\n").await.is_err() {
                                break 'conn;
                            }
                        }
                        Ok(Some(Frame::Pong)) => {}
                        Ok(None) => break,
                        // A framing error (oversized head, bad Content-Length) leaves the
                        // stream unsynchronised: close it (RFC 3261 §18.3).
                        Err(e) => {
                            tracing::debug!(%peer, "stream framing: {e}");
                            break 'conn;
                        }
                    }
                }
            }
            m = rx.recv() => match m {
                Some(bytes) => {
                    last_traffic = tokio::time::Instant::now();
                    if write_msg(&mut stream, &bytes).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
            () = tokio::time::sleep_until(last_traffic + idle_for), if idle.is_some() => {
                if flow_in_use(&sh, peer) {
                    // A dialog or transaction still needs it: look again an idle period on.
                    last_traffic = tokio::time::Instant::now();
                } else {
                    idle_closed = true;
                    break;
                }
            }
            _ = stop.changed() => break,
        }
    }
    if idle_closed {
        close_idle(sh, stream, peer, transport, rx).await;
        return;
    }
    // A clean TLS close_notify (a no-op on TCP).
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.shutdown()).await;
    sh.flow_closed(peer);
}

/// Closes an idle outgoing connection: it leaves the flow registry first, so that the next
/// message to `peer` opens a new connection; a message queued on it meanwhile is sent on a
/// new one. The calls are not told (nothing failed).
async fn close_idle<S: AsyncWrite + Unpin>(
    sh: Arc<Shared>,
    mut stream: S,
    peer: SocketAddr,
    transport: Transport,
    mut rx: mpsc::UnboundedReceiver<Vec<u8>>,
) {
    tracing::debug!(%peer, ?transport, "closing an idle connection");
    if Shared::lock(&sh.flows).remove(&peer).is_some() {
        sh.counters.flows.fetch_sub(1, Ordering::SeqCst);
    }
    Shared::lock(&sh.limiter).forget_flow(peer);
    // From here a sender holding the old flow gets an error and reconnects
    // (`Shared::send`); what got in before is moved to a new connection.
    rx.close();
    let queued: Vec<Vec<u8>> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.shutdown()).await;
    for bytes in queued {
        reconnect_send(&sh, transport, peer, bytes);
    }
}

/// Sends `bytes` to `peer` on its flow, opening a new connection if there is none.
pub fn reconnect_send(sh: &Arc<Shared>, transport: Transport, peer: SocketAddr, bytes: Vec<u8>) {
    let flow = Shared::lock(&sh.flows).get(&peer).cloned();
    let bytes = match flow {
        Some(f) => match f.tx.send(bytes) {
            Ok(()) => return,
            Err(e) => e.0,
        },
        None => bytes,
    };
    match transport {
        Transport::Tcp => connect_tcp(sh.clone(), peer, bytes),
        Transport::Tls => connect_tls(sh.clone(), peer, bytes),
        _ => tracing::debug!(%peer, "no flow to send on"),
    }
}

/// Writes one message and flushes it: TLS buffers records until flushed.
async fn write_msg<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) -> std::io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow_closed(rx: &mut mpsc::UnboundedReceiver<CallInput>) -> Vec<SocketAddr> {
        std::iter::from_fn(|| rx.try_recv().ok())
            .map(|i| match i {
                CallInput::FlowClosed(peer) => peer,
                other => panic!("unexpected input {other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_closing_flow_tells_only_its_watchers() {
        let w = FlowWatchers::default();
        let ws_a: SocketAddr = "127.0.0.1:40001".parse().unwrap();
        let ws_b: SocketAddr = "127.0.0.1:40002".parse().unwrap();
        let trunk: SocketAddr = "127.0.0.1:5061".parse().unwrap();
        // Call 1 on A's WebSocket and the TCP trunk, call 2 on B's WebSocket and the trunk.
        let (tx1, mut rx1) = mpsc::unbounded_channel();
        let (tx2, mut rx2) = mpsc::unbounded_channel();
        let (id1, id2) = (w.next_id(), w.next_id());
        assert_ne!(id1, id2);
        w.watch(ws_a, id1, &tx1);
        w.watch(trunk, id1, &tx1);
        w.watch(ws_b, id2, &tx2);
        w.watch(trunk, id2, &tx2);
        // Watching twice is one entry.
        w.watch(ws_b, id2, &tx2);
        assert_eq!(w.len(), 4);

        assert_eq!(w.notify(ws_a), 1);
        assert_eq!(flow_closed(&mut rx1), [ws_a]);
        assert!(
            flow_closed(&mut rx2).is_empty(),
            "call 2 is not on A's flow"
        );

        assert_eq!(w.notify(trunk), 2);
        assert_eq!(flow_closed(&mut rx1), [trunk]);
        assert_eq!(flow_closed(&mut rx2), [trunk]);

        // A flow nobody watches tells nobody; entries stay until unwatched (a trunk
        // connection reopens under the same address).
        assert_eq!(w.notify("127.0.0.1:9".parse().unwrap()), 0);
        assert_eq!(w.len(), 4);

        for (peer, id) in [(ws_a, id1), (trunk, id1), (ws_b, id2)] {
            w.unwatch(peer, id);
        }
        assert_eq!(w.len(), 1);
        assert_eq!(w.notify(ws_b), 0);
        assert_eq!(w.notify(trunk), 1);
        assert!(flow_closed(&mut rx1).is_empty());
        w.unwatch(trunk, id2);
        assert!(w.is_empty(), "no empty per-flow maps are left behind");
        assert_eq!(w.len(), 0);
    }
}
