//! End-to-end test of the operator console in headless Chromium (Playwright,
//! `tests/console/console.mjs`): the gateway runs in-process on free ports with a temporary
//! data directory; the SIP trunk is played by `sipp` (`tests/sipp/gateway_uas.xml`, which
//! must receive the BYE; `-rtp_echo` echoes the media), the WebRTC caller by the core UA
//! over a WebSocket with the media test client sending opus (transcoded to PCMU).
//!
//! The browser logs in (after a refused wrong password), sees the live call with its
//! figures (codecs, MOS), sees the trunks with their last OPTIONS keep-alive result (a
//! second trunk answers it with 404), hangs it up (the shutdown grace is an hour: the operator's hang-up
//! must not wait for it), finds its call record and exports CSV; then this test checks that
//! sipp got its BYE, the caller its end, and the gateway holds nothing. Screenshots go to
//! `artifacts/console/`. The test FAILS (never skips) without Chromium, Node or sipp.

mod signalling_util;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rvoip_core::rand::SplitMix64;
use rvoip_core::sip::ua::{CallId, Event, Received, Transport, UaConfig, UserAgent};
use rvoip_gateway::config::Config;
use rvoip_gateway::server::{Gateway, Options};
use signalling_util::{browser_offer, free_udp_port, start_client_media};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const ALICE_PW: &str = "alice-secret";
const BOB_PW: &str = "bob-secret";
const ADMIN_PW: &str = "console-secret-7";
const NUMBER: &str = "+15557654321";

/// Starts the test client's media towards the gateway's answer (a 1 kHz opus tone).
fn start_media(
    client: rvoip_gateway::media::testclient::WebRtcClient,
    offer: &str,
    answer: &[u8],
) -> rvoip_gateway::media::testclient::Endpoint {
    use rvoip_core::sdp::SessionDescription;
    let o = SessionDescription::parse(offer).expect("offer");
    let a = SessionDescription::parse_bytes(answer).expect("answer");
    let n = rvoip_core::sdp::negotiate::process_answer(&o, &a).expect("a usable answer");
    start_client_media(client, &n, 1000.0)
}

fn need(path: &str, what: &str) -> PathBuf {
    assert!(
        Path::new(path).exists(),
        "{what} is not installed at {path}: the console test needs it. Refusing to skip."
    );
    PathBuf::from(path)
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("gateway/ is in the repository")
        .to_path_buf()
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// A browser's signalling: the core UA over a WebSocket.
struct Phone {
    ua: UserAgent<SplitMix64>,
    ws: Ws,
    t0: Instant,
    events: VecDeque<Event>,
}

impl Phone {
    async fn connect(gw: &Gateway, user: &str, password: &str, seed: u64) -> Phone {
        let mut req = format!("ws://{}/ws", gw.http_addr())
            .into_client_request()
            .expect("request");
        req.headers_mut()
            .insert("Sec-WebSocket-Protocol", "sip".parse().expect("header"));
        let (ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("websocket connects");
        let mut cfg = UaConfig::new(
            format!("sip:{user}@127.0.0.1"),
            format!("192.0.2.{seed}:5060").parse().expect("addr"),
        );
        cfg.transport = Transport::Ws;
        cfg.password = password.into();
        cfg.proxy = Some(gw.http_addr());
        cfg.instance_id = Some(format!("urn:uuid:00000000-0000-4000-8000-{seed:012}"));
        cfg.reg_id = Some(1);
        cfg.register_expires = 600;
        Phone {
            ua: UserAgent::new(cfg, SplitMix64::new(seed)),
            ws,
            t0: Instant::now(),
            events: VecDeque::new(),
        }
    }

    fn now(&self) -> rvoip_core::time::Instant {
        rvoip_core::time::Instant::from_micros(self.t0.elapsed().as_micros() as u64)
    }

    /// Moves messages both ways and collects events for up to `dur`.
    async fn pump(&mut self, dur: Duration) {
        let end = Instant::now() + dur;
        loop {
            while let Some(t) = self.ua.poll_transmit() {
                let text = String::from_utf8(t.bytes).expect("SIP is text");
                self.ws.send(Message::text(text)).await.expect("ws send");
            }
            while let Some(e) = self.ua.poll_event() {
                self.events.push_back(e);
            }
            let now = Instant::now();
            if now >= end {
                return;
            }
            let mut wake = end;
            if let Some(t) = self.ua.poll_timeout() {
                wake = wake.min(self.t0 + Duration::from_micros(t.as_micros()));
            }
            match timeout(wake.saturating_duration_since(now), self.ws.next()).await {
                Ok(Some(Ok(m))) => {
                    let bytes = match m {
                        Message::Text(t) => t.as_bytes().to_vec(),
                        Message::Binary(b) => b.to_vec(),
                        _ => continue,
                    };
                    let now = self.now();
                    self.ua.handle_receive(
                        now,
                        Received {
                            transport: Transport::Ws,
                            source: "127.0.0.1:1".parse().expect("addr"),
                            bytes: &bytes,
                        },
                    );
                }
                Ok(_) => panic!("websocket closed by the gateway"),
                Err(_) => {
                    let now = self.now();
                    self.ua.handle_timeout(now);
                }
            }
        }
    }

    /// Pumps until an event matching `f` arrives (within `within`).
    async fn wait<T>(
        &mut self,
        what: &str,
        within: Duration,
        mut f: impl FnMut(&Event) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + within;
        loop {
            while let Some(e) = self.events.pop_front() {
                if let Some(v) = f(&e) {
                    return v;
                }
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            self.pump(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_shows_a_live_call_hangs_it_up_and_finds_its_record() {
    let chromium = need("/usr/bin/chromium", "Chromium (Debian `chromium`)");
    let node = need("/usr/bin/node", "Node.js");
    let sipp = need("/usr/bin/sipp", "sipp (Debian `sip-tester`)");
    let tests = repo().join("tests/console");
    if !tests.join("node_modules/playwright-core").exists() {
        let st = std::process::Command::new("npm")
            .args(["install", "--no-audit", "--no-fund"])
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
            .current_dir(&tests)
            .status()
            .expect("run npm install");
        assert!(st.success(), "npm install in tests/console failed");
    }
    let artifacts = repo().join("artifacts/console");
    std::fs::create_dir_all(&artifacts).expect("artifacts dir");

    // The trunk (sipp, answers 180/200 and expects a BYE) and the gateway.
    let port = free_udp_port();
    // A second trunk that answers the OPTIONS keep-alive with 404 (still up: a live server).
    let (options_trunk, options_port) = options_responder(404).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let toml = format!(
        r#"
[http]
listen = "127.0.0.1:0"
[sip]
udp = "127.0.0.1:0"
domain = "127.0.0.1"
[admin]
password = "{ADMIN_PW}"
[limits]
# An operator hang-up must not wait out the shutdown grace period.
shutdown_grace_seconds = 3600
[[users]]
username = "alice"
password = "{ALICE_PW}"
[[users]]
username = "bob"
password = "{BOB_PW}"
[[trunks]]
name = "t1"
host = "127.0.0.1:{port}"
options_interval = 0
[[trunks]]
name = "t2"
host = "127.0.0.1:{options_port}"
options_interval = 1
[[dialplan]]
pattern = "+1."
target = "trunk:t1"
"#
    );
    let cfg = Config::from_toml(&toml).expect("test config is valid");
    let gw = Gateway::start(
        cfg,
        Options {
            data_dir: Some(dir.path().to_path_buf()),
            sip_t1: Some(Duration::from_millis(100)),
        },
    )
    .await
    .expect("gateway starts");
    let sipp_dir = tempfile::tempdir().expect("temp dir");
    let scenario = repo().join("tests/sipp/gateway_uas.xml");
    let sipp = tokio::process::Command::new(sipp)
        .current_dir(sipp_dir.path())
        .arg("-sf")
        .arg(&scenario)
        .args(["-i", "127.0.0.1", "-p", &port.to_string()])
        .args(["-mp", &free_udp_port().to_string(), "-rtp_echo"])
        .args(["-m", "1", "-nostdin", "-timeout", "120s"])
        .args(["-recv_timeout", "100000"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn sipp");
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The caller: alice (WebSocket) → the trunk.
    // bob registers (the console lists him); alice calls without registering.
    let mut bob = Phone::connect(&gw, "bob", BOB_PW, 8).await;
    let now = bob.now();
    bob.ua.register(now).expect("register");
    let reg = bob
        .wait("registration", Duration::from_secs(10), |e| match e {
            Event::Registration(s) => Some(format!("{s:?}")),
            _ => None,
        })
        .await;
    assert!(reg.starts_with("Registered"), "{reg}");
    let bob_keeps_alive = tokio::spawn(async move {
        bob.pump(Duration::from_secs(150)).await;
    });
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 7).await;
    let media = rvoip_gateway::media::testclient::WebRtcClient::new()
        .await
        .expect("media test client");
    let offer = browser_offer(&media.offer(), 126, 8000);
    let now = alice.now();
    let call: CallId = alice
        .ua
        .call(now, &format!("sip:{NUMBER}@127.0.0.1"), offer.as_bytes())
        .expect("call");
    let answer = alice
        .wait("answer", Duration::from_secs(10), |e| match e {
            Event::Answered { call: c, sdp } if *c == call => Some(sdp.clone()),
            Event::Ended { call: c, reason } if *c == call => panic!("the call failed: {reason:?}"),
            _ => None,
        })
        .await;
    // Real media (opus, echoed by sipp as PCMU) so that the console shows live figures.
    let endpoint = start_media(media, &offer, &answer.expect("an SDP answer"));
    // Keep alice's side alive until the gateway ends her call (the console's hang-up).
    let ended = tokio::spawn(async move {
        alice
            .wait(
                "the end of the call",
                Duration::from_secs(120),
                |e| match e {
                    Event::Ended { call: c, reason } if *c == call => Some(format!("{reason:?}")),
                    _ => None,
                },
            )
            .await
    });

    // The browser.
    let out = timeout(
        Duration::from_secs(150),
        tokio::process::Command::new(node)
            .arg("console.mjs")
            .current_dir(&tests)
            .env("GW_URL", format!("http://{}", gw.http_addr()))
            .env("ADMIN_USER", "admin")
            .env("ADMIN_PW", ADMIN_PW)
            .env("CALL_FROM", "alice")
            .env("CALL_TO", NUMBER)
            .env("REGISTERED", "bob")
            .env("OPTIONS_TRUNK", "t2")
            .env("OPTIONS_CODE", "404")
            .env("CHROMIUM", &chromium)
            .env("ARTIFACTS", &artifacts)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the browser test finishes")
    .expect("run node");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{log}");
    assert!(out.status.success(), "the browser test failed:\n{log}");

    // Both legs ended: the caller got its end, sipp its BYE (it exits 0 only then).
    endpoint.stop().await;
    let reason = timeout(Duration::from_secs(10), ended)
        .await
        .expect("the caller's call ends")
        .expect("the caller's task");
    eprintln!("caller's call ended: {reason}");
    let sipp_out = timeout(Duration::from_secs(20), sipp.wait_with_output())
        .await
        .expect("sipp finishes")
        .expect("sipp output");
    assert!(
        sipp_out.status.success(),
        "sipp did not see the call end with a BYE ({:?}): {}",
        sipp_out.status,
        String::from_utf8_lossy(&sipp_out.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = gw.stats();
        if s.calls == 0 && s.legs == 0 && s.call_tasks == 0 {
            assert_eq!(s.records_written, 1, "{s:?}");
            break;
        }
        assert!(Instant::now() < deadline, "the gateway still holds {s:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bob_keeps_alive.abort();
    options_trunk.abort();
    gw.shutdown().await;
}

/// A trunk on a free UDP port of 127.0.0.1 that answers every OPTIONS with `code`.
async fn options_responder(code: u16) -> (tokio::task::JoinHandle<()>, u16) {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind the OPTIONS trunk");
    let port = sock.local_addr().expect("local addr").port();
    let task = tokio::spawn(async move {
        let mut buf = vec![0u8; 65_535];
        while let Ok((n, src)) = sock.recv_from(&mut buf).await {
            let Ok(m) = rvoip_core::sip::ua::SipMsg::parse(&buf[..n]) else {
                continue;
            };
            if m.method().is_some_and(|x| x.as_str() == "OPTIONS") {
                let r = rvoip_core::sip::ua::response(&m, code, Some("t2"));
                let _ = sock.send_to(&r.to_bytes(), src).await;
            }
        }
    });
    (task, port)
}
