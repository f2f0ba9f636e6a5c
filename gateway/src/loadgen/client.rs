//! One load call from "the browser": SIP over WebSocket with the core [`UserAgent`]
//! (REGISTER, then INVITE answered after a digest challenge), then the media of the
//! native WebRTC test client ([`WebRtcClient`]: a controlling full ICE agent, a DTLS client
//! and SRTP, driven by the same [`WebRtcLink`] as the test client's own loop), sending pre-encoded 20 ms frames (Opus or PCMU) so that the load generator
//! spends no CPU on encoding, and timestamping what comes back without decoding it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rvoip_core::rand::SplitMix64;
use rvoip_core::rtp::{RtpPacket, RtpPacketBuilder};
use rvoip_core::sdp::SessionDescription;
use rvoip_core::sdp::negotiate::process_answer;
use rvoip_core::sip::ua::{Event, Received, RegistrationState, Transport, UaConfig, UserAgent};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::stats::{Matcher, RecvLog, embed_index};
use super::{Ctx, Phase, gwproc, sink};
use crate::dtls::DtlsRole;
use crate::media::testclient::{LinkEvent, WebRtcClient, WebRtcLink};
use crate::media::{Codec, LocalParams};

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// How one call went, from the client's side.
#[derive(Debug, Default, Clone)]
pub struct ClientResult {
    /// The call's index.
    pub index: usize,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// First INVITE sent → 200 received, ns.
    pub setup_ns: Option<u64>,
    /// 200 received → SRTP keys (ICE + DTLS done), ns.
    pub media_ns: Option<u64>,
    /// B→A arrivals.
    pub recv: RecvLog,
}

/// The SIP side of a client: a UA over a WebSocket.
struct SipWs {
    ua: UserAgent<SplitMix64>,
    ws: Ws,
    ctx: Arc<Ctx>,
}

impl SipWs {
    async fn connect(ctx: Arc<Ctx>, i: usize) -> Result<SipWs, String> {
        let http = ctx.gateway;
        let mut req = format!("ws://{http}/ws")
            .into_client_request()
            .map_err(|e| e.to_string())?;
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "sip".parse().map_err(|_| "header")?,
        );
        let (ws, _) = timeout(
            Duration::from_secs(10),
            tokio_tungstenite::connect_async(req),
        )
        .await
        .map_err(|_| "websocket connect timed out".to_string())?
        .map_err(|e| format!("websocket: {e}"))?;
        let mut cfg = UaConfig::new(
            format!("sip:{}@127.0.0.1", gwproc::user(i)),
            SocketAddr::from(([192, 0, 2, 1], 5060)),
        );
        cfg.advertised_host = Some(format!("lg{i}.invalid"));
        cfg.transport = Transport::Ws;
        cfg.password = gwproc::PASSWORD.into();
        cfg.proxy = Some(http);
        cfg.instance_id = Some(format!("urn:uuid:00000000-0000-4000-8000-{i:012}"));
        cfg.reg_id = Some(1);
        cfg.register_expires = 600;
        Ok(SipWs {
            ua: UserAgent::new(cfg, SplitMix64::new(0x10ad_0000 + i as u64)),
            ws,
            ctx,
        })
    }

    /// Moves messages both ways until `until` returns `Some` for an event, or `deadline`.
    async fn pump_until<T>(
        &mut self,
        deadline: Instant,
        mut until: impl FnMut(&Event) -> Option<T>,
    ) -> Result<T, String> {
        let clock = self.ctx.clock;
        loop {
            while let Some(t) = self.ua.poll_transmit() {
                let text = String::from_utf8(t.bytes).map_err(|_| "non-UTF-8 SIP")?;
                if self.ctx.trace {
                    eprintln!(">>> {text}");
                }
                self.ws
                    .send(Message::text(text))
                    .await
                    .map_err(|e| format!("ws send: {e}"))?;
            }
            while let Some(e) = self.ua.poll_event() {
                if let Some(v) = until(&e) {
                    return Ok(v);
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Err("timed out".into());
            }
            let mut wake = deadline;
            if let Some(t) = self.ua.poll_timeout() {
                let left = t.as_micros().saturating_sub(clock.core_now().as_micros());
                wake = wake.min(now + Duration::from_micros(left));
            }
            match tokio::time::timeout_at(wake, self.ws.next()).await {
                Ok(Some(Ok(m))) => {
                    let bytes = match m {
                        Message::Text(t) => t.as_bytes().to_vec(),
                        Message::Binary(b) => b.to_vec(),
                        _ => continue,
                    };
                    if self.ctx.trace {
                        eprintln!("<<< {}", String::from_utf8_lossy(&bytes));
                    }
                    self.ua.handle_receive(
                        clock.core_now(),
                        Received {
                            transport: Transport::Ws,
                            source: self.ctx.gateway,
                            bytes: &bytes,
                        },
                    );
                }
                Ok(Some(Err(e))) => return Err(format!("websocket: {e}")),
                Ok(None) => return Err("websocket closed by the gateway".into()),
                Err(_) => self.ua.handle_timeout(clock.core_now()),
            }
        }
    }
}

fn offer_sdp(c: &crate::media::testclient::ClientOffer, transcode: bool) -> String {
    let (pts, rtpmap) = if transcode {
        (
            "111",
            "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n",
        )
    } else {
        ("0", "a=rtpmap:0 PCMU/8000\r\n")
    };
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
m=audio {port} UDP/TLS/RTP/SAVPF {pts}\r\nc=IN IP4 127.0.0.1\r\na=mid:0\r\n\
a=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\na=fingerprint:sha-256 {fp}\r\na=setup:actpass\r\n\
a=rtcp-mux\r\na=sendrecv\r\n{rtpmap}\
a=candidate:1 1 udp 2130706431 127.0.0.1 {port} typ host\r\n",
        port = c.addr.port(),
        ufrag = c.ice.ufrag,
        pwd = c.ice.pwd,
        fp = c.fingerprint,
    )
}

/// The gateway leg from its SDP answer: (ICE/DTLS parameters, fingerprint, payload type).
fn gateway_leg(offer: &str, answer: &[u8]) -> Result<(LocalParams, String, u8), String> {
    let o = SessionDescription::parse(offer).map_err(|e| format!("offer: {e:?}"))?;
    let a = SessionDescription::parse_bytes(answer).map_err(|e| format!("answer: {e:?}"))?;
    let n = process_answer(&o, &a).map_err(|e| format!("answer: {e:?}"))?;
    let leg = crate::media::testclient::gateway_leg(&n)
        .ok_or("no address, ICE or DTLS fingerprint in the answer")?;
    let fp = leg.fingerprint.clone().unwrap_or_default();
    Ok((leg, fp, n.codec.payload_type))
}

/// Runs call `i` through its whole life; never panics on what the gateway does.
pub async fn run(ctx: Arc<Ctx>, i: usize) -> ClientResult {
    let mut r = ClientResult {
        index: i,
        ..ClientResult::default()
    };
    if let Err(e) = call(&ctx, i, &mut r).await {
        r.error = Some(e);
    }
    r
}

async fn call(ctx: &Arc<Ctx>, i: usize, r: &mut ClientResult) -> Result<(), String> {
    let clock = ctx.clock;
    let mut sip = SipWs::connect(ctx.clone(), i).await?;
    if ctx.cfg.register {
        sip.ua
            .register(clock.core_now())
            .map_err(|e| e.to_string())?;
        let st = sip
            .pump_until(Instant::now() + Duration::from_secs(15), |e| match e {
                Event::Registration(s) => Some(*s),
                _ => None,
            })
            .await
            .map_err(|e| format!("register: {e}"))?;
        if !matches!(st, RegistrationState::Registered { .. }) {
            return Err(format!("register: {st:?}"));
        }
    }
    ctx.wait_call_turn(i).await;
    let client = WebRtcClient::new().await.map_err(|e| e.to_string())?;
    let offer = offer_sdp(&client.offer(), ctx.cfg.transcode);
    let t_invite = clock.ns();
    let id = sip
        .ua
        .call(
            clock.core_now(),
            &format!("sip:{}@127.0.0.1", sink::number(i)),
            offer.as_bytes(),
        )
        .map_err(|e| e.to_string())?;
    let answer = sip
        .pump_until(Instant::now() + Duration::from_secs(20), |e| match e {
            Event::Answered { call, sdp } if *call == id => Some(Ok(sdp.clone())),
            Event::Ended { call, reason } if *call == id => Some(Err(format!("{reason:?}"))),
            _ => None,
        })
        .await
        .map_err(|e| format!("INVITE: {e}"))?
        .map_err(|e| format!("INVITE failed: {e}"))?
        .ok_or("200 without SDP")?;
    let t_answer = clock.ns();
    r.setup_ns = Some(t_answer - t_invite);
    let (leg, fp, pt) = gateway_leg(&offer, &answer)?;
    let media = tokio::spawn(media(ctx.clone(), i, client, leg, fp, pt));
    // Keep the dialog alive (answer in-dialog requests) until it is time to hang up.
    let mut phase = ctx.phase.subscribe();
    let mut ended = false;
    loop {
        let done = *phase.borrow() >= Phase::HangUp;
        if done {
            break;
        }
        tokio::select! {
            res = sip.pump_until(Instant::now() + Duration::from_secs(3600), |e| match e {
                Event::Ended { call, .. } if *call == id => Some(()),
                _ => None,
            }) => {
                ended = true;
                if let Err(e) = res {
                    r.error = Some(format!("during the call: {e}"));
                } else {
                    r.error = Some("the gateway ended the call".into());
                }
                break;
            }
            c = phase.changed() => if c.is_err() { break },
        }
    }
    if !ended && !ctx.cfg.close_to_hang_up && sip.ua.hangup(clock.core_now(), id).is_ok() {
        let _ = sip
            .pump_until(Instant::now() + Duration::from_secs(5), |e| match e {
                Event::Ended { call, .. } if *call == id => Some(()),
                _ => None,
            })
            .await;
    }
    let _ = sip.ws.close(None).await;
    match media.await {
        Ok(Ok((ready_at, recv))) => {
            r.media_ns = Some(ready_at.saturating_sub(t_answer));
            r.recv = recv;
        }
        Ok(Err(e)) => r.error = r.error.take().or(Some(e)),
        Err(e) => r.error = r.error.take().or(Some(format!("media task: {e}"))),
    }
    Ok(())
}

/// The media loop: ICE, DTLS, then SRTP frames every 20 ms while the phase is
/// [`Phase::Run`], receiving until [`Phase::HangUp`]. Returns when SRTP was ready (ns) and
/// the B→A arrivals.
async fn media(
    ctx: Arc<Ctx>,
    i: usize,
    client: WebRtcClient,
    gw: LocalParams,
    fp: String,
    pt: u8,
) -> Result<(u64, RecvLog), String> {
    let clock = ctx.clock;
    let mut link = WebRtcLink::new(
        client,
        &gw,
        &fp,
        DtlsRole::Client,
        Duration::from_secs(20),
        clock.zero(),
    )
    .map_err(|e| e.to_string())?;
    let flows = &ctx.flows[i];
    let transcode = ctx.cfg.transcode;
    let frames = &ctx.a_frames;
    let (frame_ts, mut matcher) = if transcode {
        (Codec::Opus.frame_ts(), Matcher::onset(Codec::Opus))
    } else {
        (Codec::Pcmu.frame_ts(), Matcher::embedded())
    };
    let mut recv = RecvLog::default();
    let mut phase = ctx.phase.subscribe();
    let mut out = vec![0u8; 1500];
    let mut ready_at = None;
    let (ssrc, mut seq, mut ts) = (0xa000_0000 | i as u32, 1u16, 0u32);
    loop {
        match link.next(phase.changed()).await {
            LinkEvent::Rtp(n) => {
                let at = clock.ns_at(link.received_at());
                if let Ok(p) = RtpPacket::new_checked(link.packet(n))
                    && p.payload_type() == pt
                {
                    recv.packets += 1;
                    if let Some(k) = matcher.index(p.payload(), at, &flows.b_to_a) {
                        recv.on_packet(k, at, &flows.b_to_a);
                    }
                }
            }
            LinkEvent::Dtls(Ok(())) => {
                ready_at = Some(clock.ns());
                ctx.settle(i);
            }
            LinkEvent::Dtls(Err(e)) => return Err(e),
            LinkEvent::DtlsDropped => {}
            LinkEvent::Tick => {
                if *phase.borrow() != Phase::Run || !link.media_ready() {
                    continue;
                }
                let k = flows.a_to_b.log_send(clock.ns());
                let f = &frames[k % frames.len()];
                let n = 12 + f.len();
                out[12..n].copy_from_slice(f);
                let _ = RtpPacketBuilder::new(pt, seq, ts, ssrc).emit_header(&mut out[..12]);
                seq = seq.wrapping_add(1);
                ts = ts.wrapping_add(frame_ts);
                if !transcode {
                    embed_index(&mut out[12..n], k);
                }
                link.send_rtp(&mut out, n).await;
            }
            LinkEvent::Control(c) => {
                if c.is_err() || *phase.borrow() >= Phase::HangUp {
                    return match ready_at {
                        Some(t) => Ok((t, recv)),
                        None => Err("media never became ready".to_string()),
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvoip_core::ice::Credentials;

    #[test]
    fn offers_carry_one_codec() {
        let c = crate::media::testclient::ClientOffer {
            ice: Credentials::new("abcd", "0123456789abcdefghijklmn").expect("valid"),
            fingerprint: "AB:CD".into(),
            addr: "127.0.0.1:4000".parse().unwrap(),
        };
        let o = offer_sdp(&c, true);
        assert!(
            o.contains("SAVPF 111\r\n") && o.contains("opus/48000/2"),
            "{o}"
        );
        assert!(SessionDescription::parse(&o).is_ok());
        let o = offer_sdp(&c, false);
        assert!(o.contains("SAVPF 0\r\n") && !o.contains("opus"), "{o}");
    }
}
