//! The sink trunk: a core [`UserAgent`] on one UDP socket that answers every INVITE the
//! gateway sends it with PCMU, and one RTP stream per call that timestamps what arrives
//! (A→B latency) and, once the caller's media flows, sends a PCMU tone back (B→A).
//!
//! Calls are told apart by the dialled number `+1555NNNNNNN` (the client's index), read
//! from the Request-URI of the INVITE before the UA consumes it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rvoip_core::rand::SplitMix64;
use rvoip_core::rtp::{RtpPacket, RtpPacketBuilder};
use rvoip_core::sip::ua::{Event, Received, SipMsg, Transport, UaConfig, UserAgent};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};

use super::stats::{Clock, Matcher, RecvLog, embed_index};
use super::{Ctx, Phase};

/// The dialled number of call `i`.
pub fn number(i: usize) -> String {
    format!("+1555{i:07}")
}

fn index_of(uri: &str) -> Option<usize> {
    let user = uri.strip_prefix("sip:")?.split('@').next()?;
    user.strip_prefix("+1555")?.parse().ok()
}

/// `(address, port)` of the audio stream of an SDP offer (`c=` and `m=audio`).
fn remote_rtp(sdp: &[u8]) -> Option<SocketAddr> {
    let text = std::str::from_utf8(sdp).ok()?;
    let mut ip = None;
    let mut port = None;
    for l in text.lines() {
        if let Some(c) = l.strip_prefix("c=IN IP4 ") {
            ip = ip.or(c.trim().parse::<std::net::Ipv4Addr>().ok());
        } else if let Some(m) = l.strip_prefix("m=audio ") {
            port = m
                .split_whitespace()
                .next()
                .and_then(|p| p.parse::<u16>().ok());
        }
    }
    Some(SocketAddr::from((ip?, port?)))
}

fn answer_sdp(port: u16) -> String {
    format!(
        "v=0\r\no=sink 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n"
    )
}

/// What the sink saw of one call.
#[derive(Debug, Default, Clone)]
pub struct SinkCall {
    /// The call's index.
    pub index: usize,
    /// A→B arrivals.
    pub recv: RecvLog,
}

/// The sink trunk (its SIP task runs until the run's phase reaches [`Phase::Done`]).
pub struct Sink {
    /// Per-call results, as calls end.
    pub results: mpsc::UnboundedReceiver<SinkCall>,
    /// The SIP task.
    pub join: tokio::task::JoinHandle<()>,
}

impl Sink {
    /// Starts answering on `sock` (bound first: the gateway's configuration names it).
    pub fn start(ctx: Arc<Ctx>, sock: UdpSocket) -> Sink {
        let (tx, results) = mpsc::unbounded_channel();
        let join = tokio::spawn(sip_task(ctx, sock, tx));
        Sink { results, join }
    }
}

async fn sip_task(ctx: Arc<Ctx>, sock: UdpSocket, results: mpsc::UnboundedSender<SinkCall>) {
    let clock = ctx.clock;
    let Ok(addr) = sock.local_addr() else { return };
    let mut cfg = UaConfig::new("sip:sink@127.0.0.1", addr);
    cfg.max_calls = ctx.cfg.calls + 64;
    cfg.max_transactions = 4 * ctx.cfg.calls + 256;
    let mut ua = UserAgent::new(cfg, SplitMix64::new(0x51_4b));
    let mut calls: HashMap<rvoip_core::sip::ua::CallId, oneshot::Sender<()>> = HashMap::new();
    let mut phase = ctx.phase.subscribe();
    let mut buf = vec![0u8; 65_535];
    loop {
        while let Some(t) = ua.poll_transmit() {
            let _ = sock.send_to(&t.bytes, t.destination).await;
        }
        let wake = ua
            .poll_timeout()
            .map(|t| t.as_micros().saturating_sub(clock.core_now().as_micros()))
            .map_or(Duration::from_millis(100), Duration::from_micros)
            .min(Duration::from_millis(100));
        tokio::select! {
            r = sock.recv_from(&mut buf) => {
                let Ok((n, from)) = r else { continue };
                let data = &buf[..n];
                // A new INVITE: remember which client dialled it.
                let dialled = SipMsg::parse(data).ok().and_then(|m| {
                    (m.method() == Some(rvoip_core::sip::ua::Method::Invite)
                        && m.to_tag().is_none())
                    .then(|| m.uri().and_then(index_of))
                    .flatten()
                });
                ua.handle_receive(clock.core_now(), Received {
                    transport: Transport::Udp,
                    source: from,
                    bytes: data,
                });
                while let Some(e) = ua.poll_event() {
                    match e {
                        Event::IncomingCall { call, sdp, .. } => {
                            let now = clock.core_now();
                            let remote = sdp.as_deref().and_then(remote_rtp);
                            let (Some(i), Some(remote)) = (dialled, remote) else {
                                let _ = ua.reject(now, call, 488);
                                continue;
                            };
                            let Ok(rtp) = UdpSocket::bind("127.0.0.1:0").await else {
                                let _ = ua.reject(now, call, 503);
                                continue;
                            };
                            let Ok(local) = rtp.local_addr() else { continue };
                            if ua.answer(now, call, answer_sdp(local.port()).as_bytes()).is_ok() {
                                let (stop_tx, stop_rx) = oneshot::channel();
                                calls.insert(call, stop_tx);
                                tokio::spawn(rtp_stream(
                                    ctx.clone(), i, rtp, remote, stop_rx, results.clone(),
                                ));
                            }
                        }
                        Event::Ended { call, .. } => {
                            if let Some(s) = calls.remove(&call) {
                                let _ = s.send(());
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ = tokio::time::sleep(wake) => ua.handle_timeout(clock.core_now()),
            r = phase.changed() => {
                if r.is_err() || *phase.borrow() == Phase::Done {
                    break;
                }
            }
        }
    }
    for (_, s) in calls.drain() {
        let _ = s.send(());
    }
}

/// One call's RTP: records A→B arrivals; sends B→A once A→B media arrived, until the run
/// stops sending.
async fn rtp_stream(
    ctx: Arc<Ctx>,
    i: usize,
    sock: UdpSocket,
    remote: SocketAddr,
    mut stop: oneshot::Receiver<()>,
    results: mpsc::UnboundedSender<SinkCall>,
) {
    let clock: Clock = ctx.clock;
    let flows = &ctx.flows[i];
    let transcode = ctx.cfg.transcode;
    let mut matcher = if transcode {
        Matcher::onset(crate::media::Codec::Pcmu)
    } else {
        Matcher::embedded()
    };
    let mut out = SinkCall {
        index: i,
        recv: RecvLog::default(),
    };
    let mut phase = ctx.phase.subscribe();
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut buf = vec![0u8; 2048];
    let mut pkt = [0u8; 12 + 160];
    let (ssrc, mut seq, mut ts) = (0x5111_0000 | i as u32, 1000u16, 8000u32);
    let mut flowing = false;
    loop {
        tokio::select! {
            r = sock.recv_from(&mut buf) => {
                let Ok((n, _)) = r else { continue };
                let at = clock.ns();
                let Ok(p) = RtpPacket::new_checked(&buf[..n]) else { continue };
                if p.payload_type() != 0 {
                    continue;
                }
                out.recv.packets += 1;
                if let Some(k) = matcher.index(p.payload(), at, &flows.a_to_b) {
                    out.recv.on_packet(k, at, &flows.a_to_b);
                }
                flowing = true;
            }
            _ = tick.tick() => {
                if !flowing || *phase.borrow() != Phase::Run {
                    continue;
                }
                let t = clock.ns();
                let k = flows.b_to_a.log_send(t);
                let f = &ctx.b_frames[k % ctx.b_frames.len()];
                let Some(dst) = pkt.get_mut(12..12 + f.len()) else { continue };
                dst.copy_from_slice(f);
                let _ = RtpPacketBuilder::new(0, seq, ts, ssrc).emit_header(&mut pkt[..12]);
                if !transcode {
                    embed_index(&mut pkt[12..], k);
                }
                let _ = sock.send_to(&pkt, remote).await;
                seq = seq.wrapping_add(1);
                ts = ts.wrapping_add(160);
            }
            r = phase.changed() => {
                if r.is_err() || *phase.borrow() == Phase::Done {
                    break;
                }
            }
            _ = &mut stop => break,
        }
    }
    let _ = results.send(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_offers_parse() {
        assert_eq!(number(42), "+15550000042");
        assert_eq!(index_of("sip:+15550000042@127.0.0.1:5060"), Some(42));
        assert_eq!(index_of("sip:+15550000042;user=phone@h"), None);
        assert_eq!(index_of("sip:600@h"), None);
        let offer = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 20002 RTP/AVP 0 8\r\n";
        assert_eq!(remote_rtp(offer), Some("127.0.0.1:20002".parse().unwrap()));
        assert_eq!(remote_rtp(b"v=0\r\n"), None);
    }
}
