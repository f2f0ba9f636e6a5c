//! Signalling and media end to end: a native WebRTC client (the media branch's test client:
//! ICE, DTLS client, SRTP, Opus) places a call over SIP-over-WebSocket through the gateway
//! to a trunk played by `sipp -rtp_echo`. The client's Opus tone is transcoded to PCMU by
//! the gateway, echoed by sipp, transcoded back, and must reach the client; then the call
//! is hung up, sipp sees the BYE, one call record is written with media statistics, and
//! every port and task is released.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rvoip_core::rand::SplitMix64;
use rvoip_core::sdp::SessionDescription;
use rvoip_core::sdp::negotiate::process_answer;
use rvoip_core::sip::ua::{Event, Received, Transport, UaConfig, UserAgent};
use rvoip_gateway::config::Config;
use rvoip_gateway::media::testclient::WebRtcClient;
use rvoip_gateway::media::{Codec, MediaFormat};
use rvoip_gateway::server::{Gateway, Options};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const ADMIN_PW: &str = "console-pw-123";

/// `/api/calls` (HTTP Basic with the console credentials), parsed.
async fn api_calls(addr: std::net::SocketAddr) -> serde_json::Value {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = TcpStream::connect(addr).await.expect("connect http");
    let auth = rvoip_gateway::http::base64(format!("admin:{ADMIN_PW}").as_bytes());
    let req = format!(
        "GET /api/calls HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic {auth}\r\n\
Connection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    timeout(Duration::from_secs(5), s.read_to_end(&mut buf))
        .await
        .expect("http answers")
        .expect("read");
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn free_udp_port() -> u16 {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.local_addr().expect("addr").port()
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

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
            ws.send(Message::text(text)).await.expect("send");
        }
        while let Some(e) = ua.poll_event() {
            events.push(e);
        }
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        match timeout(left.min(Duration::from_millis(50)), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => ua.handle_receive(
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webrtc_client_to_sipp_echo_trunk_carries_transcoded_audio_both_ways() {
    assert!(
        Path::new("/usr/bin/sipp").exists(),
        "sipp is required (sip-tester); refusing to skip"
    );
    let sipp_port = free_udp_port();
    let media_port = free_udp_port();
    let dir = tempfile::tempdir().expect("temp dir");
    let toml = format!(
        "[http]\nlisten = \"127.0.0.1:0\"\n[sip]\nudp = \"127.0.0.1:0\"\ntcp = \"127.0.0.1:0\"\n\
[admin]\npassword = \"{ADMIN_PW}\"\n[media]\nport_min = 43000\nport_max = 43999\n\
[[users]]\nusername = \"alice\"\npassword = \"pw-alice\"\n\
[[trunks]]\nname = \"echo\"\nhost = \"127.0.0.1:{sipp_port}\"\noptions_interval = 0\n\
[[dialplan]]\npattern = \"+1.\"\ntarget = \"trunk:echo\"\n"
    );
    let gw = Gateway::start(
        Config::from_toml(&toml).expect("config"),
        Options {
            data_dir: Some(dir.path().to_path_buf()),
            sip_t1: None,
        },
    )
    .await
    .expect("gateway");
    let scenario = format!(
        "{}/../tests/sipp/gateway_uas.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let sipp = tokio::process::Command::new("/usr/bin/sipp")
        .current_dir(dir.path())
        .args([
            "-sf",
            &scenario,
            "-i",
            "127.0.0.1",
            "-p",
            &sipp_port.to_string(),
        ])
        .args(["-mp", &media_port.to_string(), "-rtp_echo"])
        .args([
            "-m",
            "1",
            "-nostdin",
            "-timeout",
            "40s",
            "-recv_timeout",
            "30000",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn sipp");
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The browser: a WebRTC media endpoint and a SIP UA over WebSocket.
    let client = WebRtcClient::new().await.expect("client");
    let co = client.offer();
    let offer = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
m=audio {port} UDP/TLS/RTP/SAVPF 111 0 110\r\nc=IN IP4 127.0.0.1\r\na=mid:0\r\n\
a=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\na=fingerprint:sha-256 {fp}\r\na=setup:actpass\r\n\
a=rtcp-mux\r\na=sendrecv\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:110 telephone-event/48000\r\n\
a=candidate:1 1 udp 2130706431 127.0.0.1 {port} typ host\r\n",
        port = co.addr.port(),
        ufrag = co.ice.ufrag,
        pwd = co.ice.pwd,
        fp = co.fingerprint,
    );
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
    let mut ua = UserAgent::new(cfg, SplitMix64::new(50));
    let t0 = Instant::now();
    let call = ua
        .call(
            rvoip_core::time::Instant::from_micros(t0.elapsed().as_micros() as u64),
            "sip:+15551234567@127.0.0.1",
            offer.as_bytes(),
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
    // The gateway's answer describes its ICE-lite DTLS leg.
    let offer_sdp = SessionDescription::parse(&offer).expect("offer");
    let answer_sdp = SessionDescription::parse_bytes(&answer).expect("answer");
    let n = process_answer(&offer_sdp, &answer_sdp).expect("a usable answer");
    assert_eq!(n.codec.name.to_ascii_lowercase(), "opus");
    let gw_leg =
        rvoip_gateway::media::testclient::gateway_leg(&n).expect("ICE and DTLS in the answer");
    let fp_hex = gw_leg.fingerprint.clone().expect("fingerprint");
    let opus = MediaFormat {
        codec: Codec::Opus,
        pt: n.codec.payload_type,
        dtmf_pt: n.telephone_event.map(|t| t.payload_type),
        dtmf_clock: 48_000,
    };
    let endpoint = client
        .start(&gw_leg, &fp_hex, opus, Some(1000.0))
        .expect("media starts");
    // Audio goes browser → gateway (Opus → PCMU) → sipp echo → gateway (PCMU → Opus) → browser.
    let deadline = Instant::now() + Duration::from_secs(15);
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
        if ready && packets >= 50 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no echoed audio: ready={ready} packets={packets} {:?} {:?}",
            gw.stats(),
            gw.store()
                .cdrs(&Default::default())
                .map(|c| c.iter().map(|c| c.cause.clone()).collect::<Vec<_>>())
        );
    }
    // The call's live per-leg figures reach /api/calls (published about once a second).
    let deadline = Instant::now() + Duration::from_secs(5);
    let legs = loop {
        pump(
            &mut ua,
            &mut ws,
            t0,
            Duration::from_millis(200),
            &mut events,
        )
        .await;
        let calls = api_calls(gw.http_addr()).await;
        let call = &calls[0];
        let legs = call["legs"].as_array().cloned().unwrap_or_default();
        let flowing = legs.len() == 2
            && legs.iter().all(|l| {
                l["packets_in"].as_u64().unwrap_or(0) > 0
                    && l["packets_out"].as_u64().unwrap_or(0) > 0
                    && l["mos"].is_number()
            });
        if flowing {
            assert_eq!(call["transcoding"], serde_json::json!(true), "{call}");
            break legs;
        }
        assert!(Instant::now() < deadline, "no live leg figures: {calls}");
    };
    let field = |i: usize, k: &str| legs[i][k].clone();
    assert_eq!(
        (field(0, "name"), field(0, "kind"), field(0, "codec")),
        ("A".into(), "webrtc".into(), "opus".into()),
        "{legs:?}"
    );
    assert_eq!(
        (field(1, "name"), field(1, "codec")),
        ("B".into(), "PCMU".into()),
        "{legs:?}"
    );
    for l in &legs {
        let mos = l["mos"].as_f64().expect("a MOS");
        assert!((1.0..=4.5).contains(&mos), "MOS {mos} out of range: {l}");
        assert!(l["jitter_ms"].as_f64().is_some_and(|j| j >= 0.0), "{l}");
    }
    // RFC 4733 digits from the browser are relayed to the trunk, which echoes them back:
    // each is seen on the WebRTC leg, then on the trunk leg (counted and recorded there).
    let dtmf = |from: &str| {
        gw.metrics().get(
            "rvoip_dtmf_relayed_total",
            &[("from", from), ("method", "rfc4733")],
        )
    };
    for (i, digit) in ['5', '#'].into_iter().enumerate() {
        endpoint.send_digit(digit, Duration::from_millis(100));
        let deadline = Instant::now() + Duration::from_secs(5);
        while dtmf("trunk") < (i + 1) as f64 {
            assert!(
                Instant::now() < deadline,
                "digit {digit} not echoed: webrtc {} trunk {}",
                dtmf("webrtc"),
                dtmf("trunk")
            );
            pump(&mut ua, &mut ws, t0, Duration::from_millis(50), &mut events).await;
        }
        assert_eq!(dtmf("webrtc"), (i + 1) as f64);
    }
    let calls = api_calls(gw.http_addr()).await;
    assert_eq!(calls[0]["dtmf"], "55##", "{calls}");
    let stats = gw.stats();
    assert_eq!(
        (stats.calls, stats.media_ports),
        (1, 3),
        "one WebRTC port, RTP + RTCP"
    );
    let now = rvoip_core::time::Instant::from_micros(t0.elapsed().as_micros() as u64);
    ua.hangup(now, call).expect("hangup");
    pump(
        &mut ua,
        &mut ws,
        t0,
        Duration::from_millis(500),
        &mut events,
    )
    .await;
    endpoint.stop().await;
    let out = timeout(Duration::from_secs(40), sipp.wait_with_output())
        .await
        .expect("sipp ends")
        .expect("sipp output");
    assert!(
        out.status.success(),
        "sipp: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = ws.close(None).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while gw.stats().call_tasks > 0 || gw.stats().media_ports > 0 || gw.stats().flows > 0 {
        assert!(Instant::now() < deadline, "leaked: {:?}", gw.stats());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    let c = &cdrs[0];
    assert!(c.transcoded, "Opus ⇄ PCMU is transcoded");
    assert!(c.a_leg.packets_in >= 50, "{:?}", c.a_leg);
    assert!(c.b_leg.packets_in >= 50, "{:?}", c.b_leg);
    assert!(c.a_leg.mos.is_some());
    assert_eq!(c.dtmf, "55##");
    gw.shutdown().await;
}
