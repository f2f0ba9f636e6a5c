//! Signalling and media end to end: a native WebRTC client (the media branch's test client:
//! ICE, DTLS client, SRTP, Opus) places a call over SIP-over-WebSocket through the gateway
//! to a trunk played by `sipp -rtp_echo`. The client's Opus tone is transcoded to PCMU by
//! the gateway, echoed by sipp, transcoded back, and must reach the client; then the call
//! is hung up, sipp sees the BYE, one call record is written with media statistics, and
//! every port and task is released.

mod signalling_util;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use rvoip_core::sdp::SessionDescription;
use rvoip_core::sdp::negotiate::process_answer;
use rvoip_gateway::config::Config;
use rvoip_gateway::media::testclient::WebRtcClient;
use rvoip_gateway::server::{Gateway, Options};
use signalling_util::{
    alice_ws_ua, client_offer, free_udp_port, pump_ua, pump_until, start_client_media,
    ua_call_answered,
};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

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
    let offer = client_offer(co.addr.port(), &co.ice, &co.fingerprint, 1, "sendrecv");
    let (mut ws, mut ua, t0) = alice_ws_ua(&gw, "pw-alice", 50).await;
    let mut events = Vec::new();
    let (call, answer) = ua_call_answered(
        &mut ua,
        &mut ws,
        t0,
        "sip:+15551234567@127.0.0.1",
        &offer,
        &mut events,
    )
    .await;
    // The gateway's answer describes its ICE-lite DTLS leg.
    let offer_sdp = SessionDescription::parse(&offer).expect("offer");
    let answer_sdp = SessionDescription::parse_bytes(&answer).expect("answer");
    let n = process_answer(&offer_sdp, &answer_sdp).expect("a usable answer");
    assert_eq!(n.codec.name.to_ascii_lowercase(), "opus");
    let endpoint = start_client_media(client, &n, 1000.0);
    // Audio goes browser → gateway (Opus → PCMU) → sipp echo → gateway (PCMU → Opus) → browser.
    let echoed = pump_until(
        &mut ua,
        &mut ws,
        t0,
        &mut events,
        Duration::from_secs(15),
        || endpoint.received(|r| r.media_ready && r.packets >= 50),
    )
    .await;
    let (ready, packets) = endpoint.received(|r| (r.media_ready, r.packets));
    assert!(
        echoed,
        "no echoed audio: ready={ready} packets={packets} {:?} {:?}",
        gw.stats(),
        gw.store()
            .cdrs(&Default::default())
            .map(|c| c.iter().map(|c| c.cause.clone()).collect::<Vec<_>>())
    );
    // The call's live per-leg figures reach /api/calls (published about once a second).
    let deadline = Instant::now() + Duration::from_secs(5);
    let legs = loop {
        pump_ua(
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
            pump_ua(&mut ua, &mut ws, t0, Duration::from_millis(50), &mut events).await;
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
    pump_ua(
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
