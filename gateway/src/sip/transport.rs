//! SIP transports (RFC 3261 §18): the UDP listener, TCP listener and outgoing TCP
//! connections framed with the core's [`StreamFramer`], and the flow registry shared with
//! the WebSocket handler (RFC 7118, in [`crate::http`]).
//!
//! A stream connection is a *flow* (RFC 5626): it is registered under its peer address;
//! responses and requests to a user registered over it are sent on it, and when it closes
//! [`Shared::flow_closed`] removes its bindings and tells the calls on it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use rvoip_core::sip::ua::Transport;
use rvoip_core::sip::{Frame, Limits, StreamFramer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, watch};

use super::{Flow, Shared};

/// Largest UDP datagram read.
const MAX_DATAGRAM: usize = 65_535;

/// Registers a flow under `peer`; returns the receiver of messages to send on it.
pub fn register_flow(
    sh: &Shared,
    peer: SocketAddr,
    transport: Transport,
) -> mpsc::UnboundedReceiver<Vec<u8>> {
    let (tx, rx) = mpsc::unbounded_channel();
    if Shared::lock(&sh.flows)
        .insert(peer, Flow { transport, tx })
        .is_none()
    {
        sh.counters.flows.fetch_add(1, Ordering::SeqCst);
    }
    rx
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
                    let rx = register_flow(&sh, peer, Transport::Tcp);
                    tokio::spawn(run_stream(sh.clone(), stream, peer, rx, stop.clone()));
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

/// Opens a TCP connection to `dest` and sends `first` on it (outgoing requests to a TCP
/// trunk); later messages find the flow registered.
pub fn connect_tcp(sh: Arc<Shared>, dest: SocketAddr, first: Vec<u8>) {
    // Register the flow at once so that messages sent while connecting queue behind `first`.
    let rx = register_flow(&sh, dest, Transport::Tcp);
    if let Some(f) = Shared::lock(&sh.flows).get(&dest) {
        let _ = f.tx.send(first);
    }
    tokio::spawn(async move {
        // Never signalled: the connection lives until either side closes it. (With the
        // sender dropped, `stop.changed()` would be ready at once and close the connection
        // right after the first write.)
        let (_keep_open, stop) = watch::channel(false);
        match tokio::time::timeout(std::time::Duration::from_secs(5), TcpStream::connect(dest))
            .await
        {
            Ok(Ok(stream)) => run_stream(sh, stream, dest, rx, stop).await,
            _ => {
                tracing::warn!(%dest, "tcp connect failed");
                sh.flow_closed(dest);
            }
        }
    });
}

/// Drives one TCP flow: frames received bytes into messages, writes queued messages.
async fn run_stream(
    sh: Arc<Shared>,
    mut stream: TcpStream,
    peer: SocketAddr,
    mut rx: mpsc::UnboundedReceiver<Vec<u8>>,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let mut framer = StreamFramer::new(Limits::default());
    let mut buf = vec![0u8; 16 * 1024];
    'conn: loop {
        tokio::select! {
            r = stream.read(&mut buf) => {
                let n = match r {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                if framer.push(buf.get(..n).unwrap_or(&[])).is_err() {
                    break;
                }
                loop {
                    match framer.next_frame() {
                        Ok(Some(Frame::Message(m))) => sh.on_message(Transport::Tcp, peer, &m),
                        Ok(Some(Frame::Ping)) => {
                            if stream.write_all(b"\r\n").await.is_err() {
                                break 'conn;
                            }
                        }
                        Ok(Some(Frame::Pong)) => {}
                        Ok(None) => break,
                        // A framing error (oversized head, bad Content-Length) leaves the
                        // stream unsynchronised: close it (RFC 3261 §18.3).
                        Err(e) => {
                            tracing::debug!(%peer, "tcp framing: {e}");
                            break 'conn;
                        }
                    }
                }
            }
            m = rx.recv() => match m {
                Some(bytes) => {
                    if stream.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
            _ = stop.changed() => break,
        }
    }
    sh.flow_closed(peer);
}
