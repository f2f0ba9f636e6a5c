//! The softphone's I/O helpers: SIP over UDP or TCP (one connection per peer, messages
//! framed by the core's [`StreamFramer`], RFC 3261 §18.3), the RTP/RTCP socket pair
//! (RFC 3550 §11), server name resolution, the wall clock in NTP form and OS randomness.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use rvoip_core::sip::{Frame, StreamFramer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::mpsc;

use super::Error;

/// Randomness from the operating system for the UA (tags, branches, Call-IDs).
#[derive(Debug, Default)]
pub struct OsRng;

impl rvoip_core::rand::Rng for OsRng {
    fn next_u64(&mut self) -> u64 {
        // The OS generator does not fail on supported platforms; the clock is a last resort.
        getrandom::u64().unwrap_or_else(|_| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        })
    }
}

pub(crate) fn random_u64() -> u64 {
    use rvoip_core::rand::Rng;
    OsRng.next_u64()
}

/// The local IP address the OS would use to reach `peer` (no packet is sent).
pub(crate) fn local_ip_towards(peer: SocketAddr) -> Option<IpAddr> {
    let any: SocketAddr = if peer.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let s = std::net::UdpSocket::bind(any).ok()?;
    s.connect(peer).ok()?;
    Some(s.local_addr().ok()?.ip())
}

/// `host[:port]` or `sip:host[:port]` to (host, socket address); DNS through the OS.
pub(crate) async fn resolve_server(server: &str) -> Result<(String, SocketAddr), Error> {
    let hostport = server
        .trim_start_matches("sips:")
        .trim_start_matches("sip:")
        .split(';')
        .next()
        .unwrap_or_default();
    if let Ok(a) = hostport.parse::<SocketAddr>() {
        return Ok((a.ip().to_string(), a));
    }
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (
            h,
            p.parse::<u16>()
                .map_err(|_| Error::Usage(format!("bad port in {server}")))?,
        ),
        _ => (hostport.trim_start_matches('[').trim_end_matches(']'), 5060),
    };
    let addr = tokio::net::lookup_host((host, port))
        .await?
        .next()
        .ok_or_else(|| Error::Usage(format!("cannot resolve {server}")))?;
    Ok((host.to_owned(), addr))
}

/// SIP I/O: messages in through one channel, out through UDP or TCP connections.
pub(crate) struct SipNet {
    pub(crate) udp: Option<Arc<UdpSocket>>,
    /// TCP: a writer channel per connected peer.
    pub(crate) conns: Arc<Mutex<HashMap<SocketAddr, mpsc::UnboundedSender<Vec<u8>>>>>,
    /// Messages received (source, bytes), from every connection.
    pub(crate) incoming: mpsc::UnboundedSender<(SocketAddr, Vec<u8>)>,
}

impl SipNet {
    pub(crate) async fn send(&self, dest: SocketAddr, bytes: Vec<u8>) {
        if let Some(udp) = &self.udp {
            if let Err(e) = udp.send_to(&bytes, dest).await {
                tracing::warn!("SIP send to {dest}: {e}");
            }
            return;
        }
        let existing = self.conns.lock().ok().and_then(|c| c.get(&dest).cloned());
        let tx = match existing {
            Some(tx) => tx,
            None => match TcpStream::connect(dest).await {
                Ok(s) => spawn_connection(s, dest, self.conns.clone(), self.incoming.clone()),
                Err(e) => {
                    tracing::warn!("TCP connect to {dest}: {e}");
                    return;
                }
            },
        };
        if tx.send(bytes).is_err() {
            tracing::warn!("TCP connection to {dest} closed");
        }
    }
}

/// Runs one TCP connection: a writer task fed by the returned channel, and a reader that
/// frames messages (RFC 3261 §18.3) into `incoming`.
pub(crate) fn spawn_connection(
    stream: TcpStream,
    peer: SocketAddr,
    conns: Arc<Mutex<HashMap<SocketAddr, mpsc::UnboundedSender<Vec<u8>>>>>,
    incoming: mpsc::UnboundedSender<(SocketAddr, Vec<u8>)>,
) -> mpsc::UnboundedSender<Vec<u8>> {
    let (mut rd, mut wr) = stream.into_split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    if let Ok(mut c) = conns.lock() {
        c.insert(peer, tx.clone());
    }
    tokio::spawn(async move {
        while let Some(b) = rx.recv().await {
            if wr.write_all(&b).await.is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move {
        let mut framer = StreamFramer::default();
        let mut buf = vec![0u8; 8192];
        'read: loop {
            let n = match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if framer.push(&buf[..n]).is_err() {
                break;
            }
            loop {
                let bytes = match framer.next_frame() {
                    Ok(Some(Frame::Message(m))) => m,
                    Ok(Some(Frame::Ping)) => b"\r\n\r\n".to_vec(),
                    Ok(Some(Frame::Pong)) => b"\r\n".to_vec(),
                    Ok(None) => break,
                    Err(_) => break 'read,
                };
                if incoming.send((peer, bytes)).is_err() {
                    break 'read;
                }
            }
        }
        if let Ok(mut c) = conns.lock() {
            c.remove(&peer);
        }
    });
    tx
}

/// Binds the RTP socket on `port` (0: an even ephemeral port, RFC 3550 §11) and, when
/// free, the RTCP socket on the next one.
pub(crate) async fn bind_media(
    ip: IpAddr,
    port: u16,
) -> Result<(UdpSocket, Option<UdpSocket>), Error> {
    if port != 0 {
        let rtp = UdpSocket::bind((ip, port)).await?;
        let rtcp = UdpSocket::bind((ip, port.wrapping_add(1))).await.ok();
        return Ok((rtp, rtcp));
    }
    for _ in 0..32 {
        let rtp = UdpSocket::bind((ip, 0)).await?;
        let p = rtp.local_addr()?.port();
        if p % 2 == 0
            && let Ok(rtcp) = UdpSocket::bind((ip, p + 1)).await
        {
            return Ok((rtp, Some(rtcp)));
        }
    }
    Ok((UdpSocket::bind((ip, 0)).await?, None))
}

/// Receives from `sock`, or never when there is none.
pub(crate) async fn recv_opt(
    sock: Option<&UdpSocket>,
    buf: &mut [u8],
) -> std::io::Result<(usize, SocketAddr)> {
    match sock {
        Some(s) => s.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

/// The wall clock as a 64-bit NTP timestamp (RTCP sender reports, RFC 3550 §4).
pub(crate) fn ntp_now() -> u64 {
    let us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    rvoip_core::rtp::stats::ntp_from_unix_micros(us)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn server_addresses() {
        let (h, a) = resolve_server("127.0.0.1:5070").await.unwrap();
        assert_eq!(
            (h.as_str(), a),
            ("127.0.0.1", "127.0.0.1:5070".parse().unwrap())
        );
        let (h, a) = resolve_server("sip:127.0.0.1;transport=tcp").await.unwrap();
        assert_eq!((h.as_str(), a.port()), ("127.0.0.1", 5060));
        let (h, a) = resolve_server("[::1]").await.unwrap();
        assert_eq!((h.as_str(), a), ("::1", "[::1]:5060".parse().unwrap()));
        let (h, a) = resolve_server("localhost:5080").await.unwrap();
        assert_eq!((h.as_str(), a.port()), ("localhost", 5080));
        assert!(resolve_server("127.0.0.1:http").await.is_err());
    }

    #[tokio::test]
    async fn media_ports_are_an_even_odd_pair() {
        let (rtp, rtcp) = bind_media(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)
            .await
            .unwrap();
        let p = rtp.local_addr().unwrap().port();
        if let Some(rtcp) = rtcp {
            assert_eq!(p % 2, 0);
            assert_eq!(rtcp.local_addr().unwrap().port(), p + 1);
        }
    }
}
