//! ICE restart on a WebRTC leg (RFC 8839 §4.4.1.1, RFC 8445 §9, JSEP RFC 8829 §5.3.1): a
//! native WebRTC client (ICE, DTLS, SRTP, Opus) calls the gateway's echo extension over
//! SIP-over-WebSocket, then re-offers.
//!
//! - A re-INVITE that keeps the client's ICE credentials (hold, unhold) is answered with the
//!   gateway's credentials unchanged.
//! - A re-INVITE (and then an UPDATE) with new `a=ice-ufrag`/`a=ice-pwd` (`restartIce()`)
//!   is answered with new gateway credentials; DTLS is kept (same fingerprint) and media
//!   goes on over the old pair. A check with the new credentials from a new address (the
//!   network change the restart is for) gets a success response and, with USE-CANDIDATE,
//!   moves the media there; a check with the old credentials now gets 401 (RFC 8445 §7.3,
//!   RFC 8489 §9.1.3), where before the restart it got a success.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rvoip_core::ice::{Credentials, PacketKind, classify};
use rvoip_core::rand::SplitMix64;
use rvoip_core::sdp::SessionDescription;
use rvoip_core::sdp::negotiate::process_answer;
use rvoip_core::sip::ua::{CallId, Event, Received, Transport, UaConfig, UserAgent};
use rvoip_core::stun::{Attribute, Class, Message, MessageBuilder, MessageType, TransactionId};
use rvoip_gateway::config::Config;
use rvoip_gateway::media::testclient::{WebRtcClient, gateway_leg};
use rvoip_gateway::media::{Codec, LocalParams, MediaFormat, OsRng};
use rvoip_gateway::server::{Gateway, Options};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// Runs the UA over the WebSocket for `dur`, collecting its events.
async fn pump(
    ua: &mut UserAgent<SplitMix64>,
    ws: &mut Ws,
    t0: Instant,
    dur: Duration,
    events: &mut Vec<Event>,
) {
    let end = Instant::now() + dur;
    let now = || rvoip_core::time::Instant::from_micros(t0.elapsed().as_micros() as u64);
    loop {
        while let Some(t) = ua.poll_transmit() {
            let text = String::from_utf8(t.bytes).expect("text");
            ws.send(WsMessage::text(text)).await.expect("send");
        }
        while let Some(e) = ua.poll_event() {
            events.push(e);
        }
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        match timeout(left.min(Duration::from_millis(50)), ws.next()).await {
            Ok(Some(Ok(WsMessage::Text(t)))) => ua.handle_receive(
                now(),
                Received {
                    transport: Transport::Ws,
                    source: "127.0.0.1:1".parse().expect("addr"),
                    bytes: t.as_bytes(),
                },
            ),
            Ok(Some(Ok(_))) => {}
            Ok(_) => panic!("websocket closed"),
            Err(_) => ua.handle_timeout(now()),
        }
    }
}

/// The client's offer: ICE credentials `ice`, `o=` version `version`, direction `dir`.
fn offer(port: u16, ice: &Credentials, fp: &str, version: u32, dir: &str) -> String {
    format!(
        "v=0\r\no=- 1 {version} IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
m=audio {port} UDP/TLS/RTP/SAVPF 111 0 110\r\nc=IN IP4 127.0.0.1\r\na=mid:0\r\n\
a=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\na=fingerprint:sha-256 {fp}\r\na=setup:actpass\r\n\
a=rtcp-mux\r\na={dir}\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:110 telephone-event/48000\r\n\
a=candidate:1 1 udp 2130706431 127.0.0.1 {port} typ host\r\n",
        ufrag = ice.ufrag,
        pwd = ice.pwd,
    )
}

/// The gateway's leg (ICE credentials, address, fingerprint) as its answer describes it.
fn leg_of(offer: &str, answer: &[u8]) -> LocalParams {
    let o = SessionDescription::parse(offer).expect("offer");
    let a = SessionDescription::parse_bytes(answer).expect("answer");
    let n = process_answer(&o, &a).expect("a usable answer");
    gateway_leg(&n).expect("ICE and DTLS in the answer")
}

/// A connectivity check as a controlling full agent sends it: USERNAME `ours:theirs`
/// (the gateway's ufrag first), MESSAGE-INTEGRITY with the gateway's password `key`.
fn check(gw_ufrag: &str, client_ufrag: &str, key: &str, nominate: bool, tid: u8) -> Vec<u8> {
    let mut v = Vec::new();
    let mut b = MessageBuilder::new_vec(
        &mut v,
        MessageType::BINDING_REQUEST,
        TransactionId([tid; 12]),
    );
    let user = format!("{gw_ufrag}:{client_ufrag}");
    b.add(&Attribute::Username(&user)).expect("username");
    b.add(&Attribute::Priority(1_853_824_767))
        .expect("priority");
    if nominate {
        b.add(&Attribute::UseCandidate).expect("use-candidate");
    }
    b.add(&Attribute::IceControlling(7)).expect("controlling");
    b.add_message_integrity(key.as_bytes()).expect("integrity");
    b.add_fingerprint().expect("fingerprint");
    v
}

/// Sends `req` from `sock` to `to` and returns the STUN response: (class, error code,
/// whether its MESSAGE-INTEGRITY verifies with `key`). Media datagrams arriving meanwhile
/// are skipped; `None` without a response within 2 s.
async fn stun(
    sock: &UdpSocket,
    to: SocketAddr,
    req: &[u8],
    key: &str,
) -> Option<(Class, Option<u16>, bool)> {
    sock.send_to(req, to).await.expect("send check");
    let end = Instant::now() + Duration::from_secs(2);
    let mut buf = vec![0u8; 2048];
    loop {
        let left = end.saturating_duration_since(Instant::now());
        let (n, _) = timeout(left, sock.recv_from(&mut buf)).await.ok()?.ok()?;
        if classify(&buf[..n]) != PacketKind::Stun {
            continue;
        }
        let m = Message::parse(&buf[..n]).expect("a STUN response");
        if m.transaction_id().0 != req[8..20] {
            continue;
        }
        let mi = m.verify_integrity(key.as_bytes()).is_ok();
        return Some((m.class(), m.error_code().map(|e| e.code), mi));
    }
}

/// How many media (RTP/SRTP) datagrams arrive on `sock` within `dur`.
async fn media_on(sock: &UdpSocket, dur: Duration) -> usize {
    let end = Instant::now() + dur;
    let mut buf = vec![0u8; 2048];
    let mut n = 0;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match timeout(left, sock.recv_from(&mut buf)).await {
            Ok(Ok((len, _))) => {
                if classify(&buf[..len]) == PacketKind::Rtp {
                    n += 1;
                }
            }
            _ => return n,
        }
    }
}

/// Sends `sdp` as an offer in the call (UPDATE when `update`, else re-INVITE) and returns
/// the gateway's answer.
async fn reoffer(
    ua: &mut UserAgent<SplitMix64>,
    ws: &mut Ws,
    t0: Instant,
    call: CallId,
    sdp: &str,
    update: bool,
) -> Vec<u8> {
    let now = rvoip_core::time::Instant::from_micros(t0.elapsed().as_micros() as u64);
    if update {
        ua.update(now, call, sdp.as_bytes()).expect("UPDATE");
    } else {
        ua.hold(now, call, sdp.as_bytes()).expect("re-INVITE");
    }
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        pump(ua, ws, t0, Duration::from_millis(50), &mut events).await;
        for e in &events {
            match e {
                Event::MediaUpdated { call: c, sdp } if *c == call => {
                    return sdp.clone().expect("an SDP answer");
                }
                Event::OfferRejected { code, .. } => panic!("re-INVITE refused: {code}"),
                _ => {}
            }
        }
        assert!(Instant::now() < deadline, "no answer: {events:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ice_restart_gets_new_credentials_and_a_plain_reoffer_keeps_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let toml = "[http]\nlisten = \"127.0.0.1:0\"\n[sip]\nudp = \"127.0.0.1:0\"\n\
tcp = \"127.0.0.1:0\"\n[admin]\npassword = \"console-pw-123\"\n[media]\nport_min = 47100\n\
port_max = 47199\n[[users]]\nusername = \"alice\"\npassword = \"pw-alice\"\n\
[[dialplan]]\npattern = \"600\"\ntarget = \"echo\"\n";
    let gw = Gateway::start(
        Config::from_toml(toml).expect("config"),
        Options {
            data_dir: Some(dir.path().to_path_buf()),
            sip_t1: None,
        },
    )
    .await
    .expect("gateway");

    // The browser calls the echo extension.
    let client = WebRtcClient::new().await.expect("client");
    let co = client.offer();
    let port = co.addr.port();
    let first = offer(port, &co.ice, &co.fingerprint, 1, "sendrecv");
    let mut req = format!("ws://{}/ws", gw.http_addr())
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", "sip".parse().expect("header"));
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("ws");
    let mut cfg = UaConfig::new(
        "sip:alice@127.0.0.1",
        "192.0.2.50:5060".parse().expect("addr"),
    );
    cfg.transport = Transport::Ws;
    cfg.password = "pw-alice".into();
    cfg.proxy = Some(gw.http_addr());
    let mut ua = UserAgent::new(cfg, SplitMix64::new(51));
    let t0 = Instant::now();
    let call = ua
        .call(
            rvoip_core::time::Instant::from_micros(t0.elapsed().as_micros() as u64),
            "sip:600@127.0.0.1",
            first.as_bytes(),
        )
        .expect("call");
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let answer = loop {
        pump(&mut ua, &mut ws, t0, Duration::from_millis(50), &mut events).await;
        if let Some(sdp) = events.iter().find_map(|e| match e {
            Event::Answered { call: c, sdp } if *c == call => sdp.clone(),
            _ => None,
        }) {
            break sdp;
        }
        assert!(Instant::now() < deadline, "no answer: {events:?}");
    };
    let gw0 = leg_of(&first, &answer);
    let old = gw0.ice.clone().expect("gateway ICE credentials");
    let fp = gw0.fingerprint.clone().expect("fingerprint");
    let opus = MediaFormat {
        codec: Codec::Opus,
        pt: 111,
        dtmf_pt: Some(110),
        dtmf_clock: 48_000,
    };
    let endpoint = client
        .start(&gw0, &fp, opus, Some(1000.0))
        .expect("media starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        pump(
            &mut ua,
            &mut ws,
            t0,
            Duration::from_millis(100),
            &mut events,
        )
        .await;
        let (ready, packets) = endpoint.received(|r| (r.media_ready, r.packets));
        if ready && packets >= 25 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no echo: ready={ready} packets={packets}"
        );
    }

    // Before any restart, a check with the call's credentials from another address passes
    // (without USE-CANDIDATE: the media stays where it is).
    let stale = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let r = stun(
        &stale,
        gw0.addr,
        &check(&old.ufrag, &co.ice.ufrag, &old.pwd, false, 1),
        &old.pwd,
    )
    .await;
    assert_eq!(r, Some((Class::SuccessResponse, None, true)));

    // Hold and unhold with the same ICE credentials: the gateway keeps its own.
    for (version, dir) in [(2, "sendonly"), (3, "sendrecv")] {
        let sdp = offer(port, &co.ice, &co.fingerprint, version, dir);
        let ans = reoffer(&mut ua, &mut ws, t0, call, &sdp, false).await;
        let leg = leg_of(&sdp, &ans);
        assert_eq!(
            leg.ice.as_ref(),
            Some(&old),
            "{dir}: no restart, same credentials"
        );
        assert_eq!(leg.fingerprint.as_deref(), Some(fp.as_str()));
    }

    // restartIce(): new client credentials in the re-offer.
    let fresh = Credentials::random(&mut OsRng);
    let sdp = offer(port, &fresh, &co.fingerprint, 4, "sendrecv");
    let ans = reoffer(&mut ua, &mut ws, t0, call, &sdp, false).await;
    let leg = leg_of(&sdp, &ans);
    let new = leg
        .ice
        .clone()
        .expect("ICE credentials in the restart answer");
    assert_ne!(
        new.ufrag, old.ufrag,
        "the answer to an ICE restart has a new ufrag"
    );
    assert_ne!(
        new.pwd, old.pwd,
        "the answer to an ICE restart has a new pwd"
    );
    assert!(
        Credentials::new(&new.ufrag, &new.pwd)
            .is_some_and(|c| c.ufrag.len() == old.ufrag.len() && c.pwd.len() == old.pwd.len()),
        "same form as at call start: {new:?}"
    );
    assert_eq!(leg.fingerprint.as_deref(), Some(fp.as_str()), "DTLS kept");
    endpoint.restart_ice(fresh.clone(), new.clone());

    // Media goes on over the old pair (and the DTLS-SRTP association it had).
    let before = endpoint.received(|r| r.packets);
    pump(
        &mut ua,
        &mut ws,
        t0,
        Duration::from_millis(600),
        &mut events,
    )
    .await;
    let after = endpoint.received(|r| r.packets);
    assert!(
        after >= before + 10,
        "media after the restart: {before} → {after}"
    );

    // The old credentials are refused now (401, no integrity: RFC 8489 §9.1.3)…
    let r = stun(
        &stale,
        gw0.addr,
        &check(&old.ufrag, &co.ice.ufrag, &old.pwd, true, 2),
        &old.pwd,
    )
    .await;
    assert_eq!(
        r.map(|(c, e, _)| (c, e)),
        Some((Class::ErrorResponse, Some(401)))
    );
    // …also the gateway's new ufrag with the client's old one.
    let r = stun(
        &stale,
        gw0.addr,
        &check(&new.ufrag, &co.ice.ufrag, &new.pwd, true, 3),
        &new.pwd,
    )
    .await;
    assert_eq!(
        r.map(|(c, e, _)| (c, e)),
        Some((Class::ErrorResponse, Some(401)))
    );
    assert_eq!(media_on(&stale, Duration::from_millis(300)).await, 0);

    // The new credentials pass, signed with the new password; nominating from a new
    // address (the network change) moves the echo there.
    let moved = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let r = stun(
        &moved,
        gw0.addr,
        &check(&new.ufrag, &fresh.ufrag, &new.pwd, true, 4),
        &new.pwd,
    )
    .await;
    assert_eq!(r, Some((Class::SuccessResponse, None, true)));
    let got = media_on(&moved, Duration::from_millis(600)).await;
    assert!(got >= 10, "media to the newly nominated address: {got}");
    assert_eq!(media_on(&stale, Duration::from_millis(100)).await, 0);

    // A second restart, by UPDATE (RFC 3311): newer credentials again, and the first
    // restart's are stale in turn.
    let fresh2 = Credentials::random(&mut OsRng);
    let sdp = offer(port, &fresh2, &co.fingerprint, 5, "sendrecv");
    let ans = reoffer(&mut ua, &mut ws, t0, call, &sdp, true).await;
    let new2 = leg_of(&sdp, &ans).ice.expect("ICE credentials");
    assert!(new2 != new && new2 != old, "{new2:?}");
    let r = stun(
        &moved,
        gw0.addr,
        &check(&new.ufrag, &fresh.ufrag, &new.pwd, false, 5),
        &new.pwd,
    )
    .await;
    assert_eq!(
        r.map(|(c, e, _)| (c, e)),
        Some((Class::ErrorResponse, Some(401)))
    );
    let r = stun(
        &moved,
        gw0.addr,
        &check(&new2.ufrag, &fresh2.ufrag, &new2.pwd, false, 6),
        &new2.pwd,
    )
    .await;
    assert_eq!(r, Some((Class::SuccessResponse, None, true)));

    let now = rvoip_core::time::Instant::from_micros(t0.elapsed().as_micros() as u64);
    ua.hangup(now, call).expect("hangup");
    pump(
        &mut ua,
        &mut ws,
        t0,
        Duration::from_millis(300),
        &mut events,
    )
    .await;
    endpoint.stop().await;
    let _ = ws.close(None).await;
    gw.shutdown().await;
}
