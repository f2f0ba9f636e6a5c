//! End-to-end signalling tests of the gateway, all on 127.0.0.1 with ports picked free: the
//! gateway runs in-process on a temporary data directory; browsers are played by the core
//! UA driven over tokio-tungstenite (subprotocol `sip`), SIP trunks by `sipp` (Debian
//! `sip-tester`; the tests FAIL, never skip, when it is missing) or by a raw UDP socket when
//! a test needs to time what the trunk receives.
//!
//! After every test the gateway's own counters must show that no call, leg, task, route or
//! flow is left.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rvoip_core::rand::SplitMix64;
use rvoip_core::sip::ua::{
    CallId, EndReason, Event, Received, RegistrationState, SipMsg, Transport, UaConfig, UserAgent,
};
use rvoip_gateway::config::Config;
use rvoip_gateway::server::{Gateway, Options};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const ALICE_PW: &str = "alice-secret";
const BOB_PW: &str = "bob-secret";
const ADMIN_PW: &str = "console-secret";
const DID: &str = "+15550001111";

/// A WebRTC offer as a browser sends it (with fingerprint).
const WEBRTC_OFFER: &[u8] = b"v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
a=group:BUNDLE 0\r\na=msid-semantic: WMS\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 126\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n\
a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijklmn\r\n\
a=fingerprint:sha-256 19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2\r\n\
a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n\
a=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:126 telephone-event/8000\r\n";

// ---------------------------------------------------------------------------------------
// The gateway under test.

fn sipp_binary() -> PathBuf {
    for p in ["/usr/bin/sipp", "/usr/local/bin/sipp"] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!(
        "sipp is not installed: the gateway tests need it (Debian/Ubuntu: `apt-get install \
         sip-tester`). Refusing to skip."
    );
}

fn free_udp_port() -> u16 {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind an ephemeral port");
    s.local_addr().expect("local addr").port()
}

struct Gw {
    gw: Gateway,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for Gw {
    type Target = Gateway;
    fn deref(&self) -> &Gateway {
        &self.gw
    }
}

/// Starts a gateway with alice and bob (bob has the DID), a trunk `t1` at `trunk_host`,
/// `+1…` numbers routed to it, and `extra` TOML appended.
async fn start_gateway(trunk_host: &str, extra: &str) -> Gw {
    let dir = tempfile::tempdir().expect("temp dir");
    let toml = format!(
        r#"
[http]
listen = "127.0.0.1:0"
[sip]
udp = "127.0.0.1:0"
tcp = "127.0.0.1:0"
domain = "127.0.0.1"
[admin]
password = "{ADMIN_PW}"
[[users]]
username = "alice"
password = "{ALICE_PW}"
[[users]]
username = "bob"
password = "{BOB_PW}"
dids = ["{DID}"]
[[trunks]]
name = "t1"
host = "{trunk_host}"
options_interval = 0
asserted_identity = true
[[dialplan]]
pattern = "+1."
target = "trunk:t1"
{extra}
[[dialplan]]
pattern = "*"
target = "user"
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
    Gw { gw, _dir: dir }
}

/// Waits until the gateway holds no call, leg, call task, route or flow.
async fn assert_clean(gw: &Gateway) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = gw.stats();
        if s.calls == 0
            && s.call_tasks == 0
            && s.legs == 0
            && s.routes == 0
            && s.flows == 0
            && s.media_ports == 0
        {
            return;
        }
        if Instant::now() > deadline {
            panic!("the gateway leaked state: {s:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs sipp with `scenario` on a free port; returns the child and its port.
fn spawn_sipp(scenario: &str, port: u16, extra: &[String]) -> tokio::process::Child {
    let path = format!("{}/../tests/sipp/{scenario}", env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("rvoip-gw-sipp-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    tokio::process::Command::new(sipp_binary())
        .current_dir(&dir)
        .args(["-sf", &path, "-i", "127.0.0.1", "-p", &port.to_string()])
        .args([
            "-m",
            "1",
            "-nostdin",
            "-timeout",
            "30s",
            "-recv_timeout",
            "15000",
        ])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn sipp")
}

async fn sipp_ok(child: tokio::process::Child) {
    let out = timeout(Duration::from_secs(40), child.wait_with_output())
        .await
        .expect("sipp finishes")
        .expect("sipp output");
    assert!(
        out.status.success(),
        "sipp failed ({:?}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// GET with the console credentials; returns (status, body).
async fn http_get(addr: SocketAddr, path: &str, auth: bool) -> (u16, String) {
    let mut s = TcpStream::connect(addr).await.expect("connect http");
    let authz = if auth {
        format!(
            "Authorization: Basic {}\r\n",
            rvoip_gateway::http::base64(format!("admin:{ADMIN_PW}").as_bytes())
        )
    } else {
        String::new()
    };
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{authz}Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    timeout(Duration::from_secs(5), s.read_to_end(&mut buf))
        .await
        .expect("http answers")
        .expect("read");
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

// ---------------------------------------------------------------------------------------
// A browser: the core UA over a WebSocket.

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

struct Phone {
    ua: UserAgent<SplitMix64>,
    ws: Option<Ws>,
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
        let (ws, resp) = tokio_tungstenite::connect_async(req)
            .await
            .expect("websocket connects");
        assert_eq!(
            resp.headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok()),
            Some("sip"),
            "the gateway selects the sip subprotocol"
        );
        let mut cfg = UaConfig::new(
            format!("sip:{user}@127.0.0.1"),
            format!("192.0.2.{}:5060", seed % 200 + 1)
                .parse()
                .expect("addr"),
        );
        cfg.transport = Transport::Ws;
        cfg.password = password.into();
        cfg.proxy = Some(gw.http_addr());
        cfg.instance_id = Some(format!("urn:uuid:00000000-0000-4000-8000-{seed:012}"));
        cfg.reg_id = Some(1);
        cfg.register_expires = 600;
        Phone {
            ua: UserAgent::new(cfg, SplitMix64::new(seed)),
            ws: Some(ws),
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
                let ws = self.ws.as_mut().expect("connected");
                let text = String::from_utf8(t.bytes).expect("SIP is text");
                if std::env::var_os("SIPTRACE").is_some() {
                    eprintln!(">>> {text}");
                }
                ws.send(Message::text(text)).await.expect("ws send");
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
            let ws = self.ws.as_mut().expect("connected");
            match timeout(wake.saturating_duration_since(now), ws.next()).await {
                Ok(Some(Ok(m))) => {
                    let bytes = match m {
                        Message::Text(t) => t.as_bytes().to_vec(),
                        Message::Binary(b) => b.to_vec(),
                        _ => continue,
                    };
                    if std::env::var_os("SIPTRACE").is_some() {
                        eprintln!("<<< {}", String::from_utf8_lossy(&bytes));
                    }
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

    /// Pumps until an event matching `f` arrives (within 10 s).
    async fn wait<T>(&mut self, what: &str, mut f: impl FnMut(&Event) -> Option<T>) -> T {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            while let Some(e) = self.events.pop_front() {
                if let Some(v) = f(&e) {
                    return v;
                }
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}");
            }
            self.pump(Duration::from_millis(20)).await;
        }
    }

    async fn register(&mut self) {
        let now = self.now();
        self.ua.register(now).expect("register");
        let state = self
            .wait("registration", |e| match e {
                Event::Registration(s) => Some(*s),
                _ => None,
            })
            .await;
        assert!(
            matches!(state, RegistrationState::Registered { .. }),
            "{state:?}"
        );
    }

    fn call(&mut self, target: &str) -> CallId {
        let now = self.now();
        self.ua.call(now, target, WEBRTC_OFFER).expect("call")
    }

    async fn close(&mut self) {
        if let Some(mut ws) = self.ws.take() {
            let _ = ws.close(None).await;
        }
    }
}

// ---------------------------------------------------------------------------------------
// A raw UDP trunk, for tests that time what the trunk receives.

struct RawTrunk {
    sock: UdpSocket,
}

impl RawTrunk {
    async fn bind() -> RawTrunk {
        RawTrunk {
            sock: UdpSocket::bind("127.0.0.1:0").await.expect("bind"),
        }
    }

    fn host(&self) -> String {
        self.sock.local_addr().expect("addr").to_string()
    }

    /// The next request (retransmissions of earlier ones skipped by `skip`), with its source.
    async fn recv(&self, within: Duration) -> Option<(SipMsg, SocketAddr)> {
        let mut buf = vec![0u8; 65_535];
        let end = Instant::now() + within;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            let (n, src) = timeout(left, self.sock.recv_from(&mut buf))
                .await
                .ok()?
                .ok()?;
            if let Ok(m) = SipMsg::parse(&buf[..n]) {
                return Some((m, src));
            }
        }
    }

    async fn recv_method(&self, method: &str, within: Duration) -> Option<(SipMsg, SocketAddr)> {
        let end = Instant::now() + within;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            let (m, src) = self.recv(left).await?;
            if m.method().is_some_and(|x| x.as_str() == method) {
                return Some((m, src));
            }
        }
    }

    async fn respond(&self, req: &SipMsg, to: SocketAddr, code: u16, sdp: bool) {
        let mut r = rvoip_core::sip::ua::response(req, code, Some("trunktag"));
        r.push("Contact", format!("<sip:trunk@{}>", self.host()));
        if sdp {
            r.push("Content-Type", "application/sdp");
            r.body = b"v=0\r\no=t 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n".to_vec();
        }
        self.sock.send_to(&r.to_bytes(), to).await.expect("send");
    }
}

async fn raw_sip(gw: &Gateway, msg: &str) -> Option<SipMsg> {
    let s = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    s.send_to(msg.as_bytes(), gw.udp_addr().expect("udp"))
        .await
        .expect("send");
    let mut buf = vec![0u8; 65_535];
    let (n, _) = timeout(Duration::from_secs(2), s.recv_from(&mut buf))
        .await
        .ok()?
        .ok()?;
    SipMsg::parse(&buf[..n]).ok()
}

// ---------------------------------------------------------------------------------------
// The tests.

#[tokio::test]
async fn register_over_websocket_with_digest() {
    let gw = start_gateway("127.0.0.1:9", "").await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 1).await;
    alice.register().await;
    assert_eq!(gw.stats().registrations, 1);
    assert_eq!(gw.metrics().get("rvoip_registrations", &[]), 1.0);
    let (status, body) = http_get(gw.http_addr(), "/api/registrations", true).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("\"user\":\"alice\"") && body.contains("\"transport\":\"WS\""),
        "{body}"
    );
    assert_eq!(
        http_get(gw.http_addr(), "/api/registrations", false)
            .await
            .0,
        401
    );
    // A wrong password is refused.
    let mut mallory = Phone::connect(&gw, "bob", "wrong", 2).await;
    let now = mallory.now();
    mallory.ua.register(now).expect("register");
    let state = mallory
        .wait("registration", |e| match e {
            Event::Registration(s) => Some(*s),
            _ => None,
        })
        .await;
    assert!(
        matches!(state, RegistrationState::Failed { .. }),
        "{state:?}"
    );
    mallory.close().await;
    // A user added to the database while the gateway runs can register at once.
    gw.store()
        .put_user(&rvoip_gateway::store::User {
            username: "carol".into(),
            password: "carol-secret".into(),
            display_name: None,
            dids: Vec::new(),
        })
        .expect("put user");
    let mut carol = Phone::connect(&gw, "carol", "carol-secret", 19).await;
    carol.register().await;
    assert_eq!(gw.stats().registrations, 2);
    carol.close().await;
    // The binding goes with the connection (RFC 5626).
    alice.close().await;
    assert_clean(&gw).await;
    assert_eq!(gw.stats().registrations, 0);
    let (_, metrics) = http_get(gw.http_addr(), "/metrics", false).await;
    assert!(metrics.contains("rvoip_registrations 0"), "{metrics}");
    gw.shutdown().await;
}

#[tokio::test]
async fn websocket_without_sip_subprotocol_is_refused() {
    let gw = start_gateway("127.0.0.1:9", "").await;
    let req = format!("ws://{}/ws", gw.http_addr())
        .into_client_request()
        .expect("request");
    assert!(tokio_tungstenite::connect_async(req).await.is_err());
    let mut req = format!("ws://{}/ws", gw.http_addr())
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", "xmpp".parse().expect("header"));
    assert!(tokio_tungstenite::connect_async(req).await.is_err());
    assert_clean(&gw).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn unauthenticated_invite_gets_407_and_never_reaches_the_trunk() {
    let trunk = RawTrunk::bind().await;
    let gw = start_gateway(&trunk.host(), "").await;
    // Over UDP, no credentials.
    let invite = "INVITE sip:+15551234567@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9999;branch=z9hG4bKfraud1\r\n\
Max-Forwards: 70\r\nFrom: <sip:mallory@127.0.0.1>;tag=m1\r\nTo: <sip:+15551234567@127.0.0.1>\r\n\
Call-ID: fraud-1\r\nCSeq: 1 INVITE\r\nContact: <sip:mallory@127.0.0.1:9999>\r\nContent-Length: 0\r\n\r\n";
    let r = raw_sip(&gw, invite).await.expect("a response");
    assert_eq!(r.code(), Some(407));
    let challenges: Vec<&str> = r.headers_named("Proxy-Authenticate").collect();
    assert!(
        challenges.iter().any(|c| c.contains("SHA-256")),
        "{challenges:?}"
    );
    assert!(
        challenges.iter().any(|c| c.contains("MD5")),
        "{challenges:?}"
    );
    // Over WebSocket with a wrong password: the UA retries once, then gives up.
    let mut mallory = Phone::connect(&gw, "alice", "not-her-password", 3).await;
    let call = mallory.call("sip:+15551234567@127.0.0.1");
    let reason = mallory
        .wait("the call to fail", |e| match e {
            Event::Ended { call: c, reason } if *c == call => Some(*reason),
            _ => None,
        })
        .await;
    assert_eq!(reason, EndReason::Rejected(407));
    assert!(
        trunk.recv(Duration::from_millis(500)).await.is_none(),
        "nothing may reach the trunk"
    );
    assert_eq!(gw.stats().records_written, 0);
    mallory.close().await;
    assert_clean(&gw).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn outbound_call_to_sipp_trunk_180_200_ack_bye_and_one_record() {
    let port = free_udp_port();
    let gw = start_gateway(&format!("127.0.0.1:{port}"), "").await;
    let sipp = spawn_sipp("gateway_uas.xml", port, &[]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 4).await;
    let call = alice.call("sip:+15551234567@127.0.0.1");
    alice
        .wait("ringing", |e| {
            matches!(e, Event::Ringing { call: c } if *c == call).then_some(())
        })
        .await;
    let sdp = alice
        .wait("answer", |e| match e {
            Event::Answered { call: c, sdp } if *c == call => Some(sdp.clone()),
            _ => None,
        })
        .await
        .expect("the 200 carries SDP");
    // The media plane anchors the call: the browser gets the gateway's ICE-lite DTLS answer.
    let answer = String::from_utf8_lossy(&sdp);
    assert!(
        answer.contains("UDP/TLS/RTP/SAVPF")
            && answer.contains("a=ice-lite")
            && answer.contains("a=fingerprint:sha-256")
            && answer.contains("a=setup:passive"),
        "{answer}"
    );
    // While the call is up the API and metrics show it.
    alice.pump(Duration::from_millis(200)).await;
    let (_, calls) = http_get(gw.http_addr(), "/api/calls", true).await;
    assert!(
        calls.contains("\"from\":\"alice\"") && calls.contains("\"trunk\":\"t1\""),
        "{calls}"
    );
    assert_eq!(gw.metrics().get("rvoip_calls_active", &[]), 1.0);
    let now = alice.now();
    alice.ua.hangup(now, call).expect("hangup");
    alice.pump(Duration::from_millis(300)).await;
    sipp_ok(sipp).await;
    alice.close().await;
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1, "exactly one call record");
    let c = &cdrs[0];
    assert_eq!((c.from.as_str(), c.to.as_str()), ("alice", "+15551234567"));
    assert!(c.answered_ms.is_some());
    assert_eq!(c.b_leg.kind, "trunk");
    assert_eq!(c.a_leg.kind, "webrtc");
    assert!(c.cause.starts_with("normal"), "{}", c.cause);
    assert_eq!(c.a_leg.codec.as_deref(), Some("opus"));
    assert_eq!(c.b_leg.codec.as_deref(), Some("PCMU"));
    let (_, csv) = http_get(gw.http_addr(), "/api/cdrs?number=1555&format=csv", true).await;
    assert_eq!(csv.lines().count(), 2, "{csv}");
    let (_, none) = http_get(gw.http_addr(), "/api/cdrs?number=999999", true).await;
    assert_eq!(none.trim(), "[]");
    let (_, metrics) = http_get(gw.http_addr(), "/metrics", false).await;
    assert!(
        metrics.contains("rvoip_calls_total{outcome=\"answered\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("rvoip_calls_active 0"), "{metrics}");
    gw.shutdown().await;
}

#[tokio::test]
async fn inbound_did_from_sipp_rings_the_websocket_user() {
    let port = free_udp_port();
    let gw = start_gateway(&format!("127.0.0.1:{port}"), "").await;
    let mut bob = Phone::connect(&gw, "bob", BOB_PW, 5).await;
    bob.register().await;
    let target = gw.udp_addr().expect("udp").to_string();
    let sipp = spawn_sipp(
        "gateway_uac_did.xml",
        port,
        &["-s".into(), DID.into(), target],
    );
    let (call, offer) = bob
        .wait("the incoming call", |e| match e {
            Event::IncomingCall { call, sdp, .. } => Some((*call, sdp.clone())),
            _ => None,
        })
        .await;
    assert!(String::from_utf8_lossy(&offer.expect("offer")).contains("PCMU"));
    let now = bob.now();
    bob.ua.answer(now, call, WEBRTC_OFFER).expect("answer");
    let reason = bob
        .wait("the trunk's BYE", |e| match e {
            Event::Ended { call: c, reason } if *c == call => Some(*reason),
            _ => None,
        })
        .await;
    assert_eq!(reason, EndReason::RemoteHangup);
    bob.pump(Duration::from_millis(100)).await;
    sipp_ok(sipp).await;
    bob.close().await;
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    assert_eq!(cdrs[0].direction, "inbound");
    assert_eq!(cdrs[0].to, "bob");
    gw.shutdown().await;
}

#[tokio::test]
async fn cancel_of_a_ringing_trunk_call() {
    let port = free_udp_port();
    let gw = start_gateway(&format!("127.0.0.1:{port}"), "").await;
    let sipp = spawn_sipp("gateway_cancel_uas.xml", port, &[]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 6).await;
    let call = alice.call("sip:+15551234567@127.0.0.1");
    alice
        .wait("ringing", |e| {
            matches!(e, Event::Ringing { call: c } if *c == call).then_some(())
        })
        .await;
    // Let the trunk's 180 reach the gateway's B leg.
    alice.pump(Duration::from_millis(500)).await;
    let now = alice.now();
    alice.ua.hangup(now, call).expect("cancel");
    alice.pump(Duration::from_millis(500)).await;
    sipp_ok(sipp).await;
    alice.close().await;
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    assert_eq!(cdrs[0].cause, "cancelled");
    assert_eq!(cdrs[0].answered_ms, None);
    gw.shutdown().await;
}

#[tokio::test]
async fn websocket_closed_mid_call_sends_bye_to_the_trunk_within_a_second() {
    let trunk = RawTrunk::bind().await;
    let gw = start_gateway(&trunk.host(), "").await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 7).await;
    let call = alice.call("sip:+15551234567@127.0.0.1");
    let trunk_side = async {
        let (inv, src) = trunk
            .recv_method("INVITE", Duration::from_secs(5))
            .await
            .expect("INVITE at the trunk");
        assert!(
            inv.header("P-Asserted-Identity")
                .is_some_and(|v| v.contains("alice")),
            "caller id rule: P-Asserted-Identity"
        );
        let offer = String::from_utf8_lossy(&inv.body).to_string();
        assert!(
            offer.contains("RTP/AVP") && !offer.contains("fingerprint") && offer.contains("PCMU"),
            "the trunk gets a plain RTP offer from the media plane: {offer}"
        );
        trunk.respond(&inv, src, 180, false).await;
        trunk.respond(&inv, src, 200, true).await;
        inv
    };
    let (_, inv) = tokio::join!(
        alice.wait("answer", |e| {
            matches!(e, Event::Answered { call: c, .. } if *c == call).then_some(())
        }),
        trunk_side
    );
    assert!(
        trunk
            .recv_method("ACK", Duration::from_secs(2))
            .await
            .is_some()
    );
    let closed = Instant::now();
    alice.close().await;
    let (bye, src) = trunk
        .recv_method("BYE", Duration::from_secs(1))
        .await
        .expect("BYE at the trunk within 1 s of the WebSocket closing");
    assert!(closed.elapsed() < Duration::from_secs(1));
    assert_eq!(bye.call_id(), inv.call_id());
    trunk.respond(&bye, src, 200, false).await;
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    assert_eq!(cdrs[0].cause, "flow closed: caller");
    gw.shutdown().await;
}

#[tokio::test]
async fn malformed_sip_gets_400_and_bad_version_505() {
    let gw = start_gateway("127.0.0.1:9", "").await;
    let bad_cseq = "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9999;branch=z9hG4bKbad1\r\n\
Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: bad-1\r\n\
CSeq: notanumber OPTIONS\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(
        raw_sip(&gw, bad_cseq).await.expect("response").code(),
        Some(400)
    );
    let no_call_id = "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9999;branch=z9hG4bKbad2\r\n\
Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\n\
CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(
        raw_sip(&gw, no_call_id).await.expect("response").code(),
        Some(400)
    );
    let version = "OPTIONS sip:127.0.0.1 SIP/7.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9999;branch=z9hG4bKbad3\r\n\
Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: bad-3\r\n\
CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(
        raw_sip(&gw, version).await.expect("response").code(),
        Some(505)
    );
    // Garbage is dropped without an answer, and the gateway still works.
    assert!(raw_sip(&gw, "\u{1}\u{2}garbage\r\n\r\n").await.is_none());
    let ok = "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9999;branch=z9hG4bKok\r\n\
Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: ok-1\r\n\
CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(raw_sip(&gw, ok).await.expect("response").code(), Some(200));
    assert_clean(&gw).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn more_calls_than_the_limit_get_503() {
    let trunk = RawTrunk::bind().await;
    let gw = start_gateway(&trunk.host(), "[limits]\nmax_calls = 1\n").await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 8).await;
    let first = alice.call("sip:+15551234567@127.0.0.1");
    let (inv, src) = tokio::join!(
        trunk.recv_method("INVITE", Duration::from_secs(5)),
        alice.pump(Duration::from_millis(500))
    )
    .0
    .expect("first call reaches the trunk");
    assert!(
        !alice
            .events
            .iter()
            .any(|e| matches!(e, Event::Ringing { .. })),
        "the browser rings only when the trunk does"
    );
    trunk.respond(&inv, src, 180, false).await;
    alice
        .wait("ringing", |e| {
            matches!(e, Event::Ringing { call } if *call == first).then_some(())
        })
        .await;
    assert_eq!(gw.stats().calls, 1);
    // A second browser of alice's (a fresh digest session per UA).
    let mut alice2 = Phone::connect(&gw, "alice", ALICE_PW, 18).await;
    let second = alice2.call("sip:+15551234568@127.0.0.1");
    let reason = alice2
        .wait("the second call to be refused", |e| match e {
            Event::Ended { call, reason } if *call == second => Some(*reason),
            _ => None,
        })
        .await;
    assert_eq!(reason, EndReason::Rejected(503));
    // End the first: CANCEL reaches the trunk, which answers 200 + 487.
    let now = alice.now();
    alice.ua.hangup(now, first).expect("cancel");
    let (cancel, src) = tokio::join!(
        trunk.recv_method("CANCEL", Duration::from_secs(3)),
        alice.pump(Duration::from_millis(300))
    )
    .0
    .expect("CANCEL at the trunk");
    trunk.respond(&cancel, src, 200, false).await;
    trunk.respond(&inv, src, 487, false).await;
    alice.pump(Duration::from_millis(300)).await;
    alice.close().await;
    alice2.close().await;
    assert_clean(&gw).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn unreachable_trunk_gives_503_after_timer_b() {
    let trunk = RawTrunk::bind().await;
    let gw = start_gateway(&trunk.host(), "").await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 9).await;
    let started = Instant::now();
    let call = alice.call("sip:+15551234567@127.0.0.1");
    // The trunk never answers; with T1 = 100 ms Timer B is 6.4 s.
    let reason = timeout(
        Duration::from_secs(15),
        alice.wait("the call to fail", |e| match e {
            Event::Ended { call: c, reason } if *c == call => Some(*reason),
            _ => None,
        }),
    )
    .await
    .expect("the call fails after timer B");
    assert_eq!(reason, EndReason::Rejected(503));
    assert!(started.elapsed() >= Duration::from_secs(6));
    alice.close().await;
    assert_clean(&gw).await;
    assert_eq!(gw.store().cdrs(&Default::default()).expect("cdrs").len(), 1);
    gw.shutdown().await;
}

#[tokio::test]
async fn a_flood_from_one_source_is_rate_limited() {
    let gw = start_gateway(
        "127.0.0.1:9",
        "[limits]\nrequests_per_second_per_source = 20\n",
    )
    .await;
    let s = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let dest = gw.udp_addr().expect("udp");
    for i in 0..200 {
        let m = format!(
            "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9999;branch=z9hG4bKfl{i}\r\n\
Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: flood-{i}\r\n\
CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        );
        s.send_to(m.as_bytes(), dest).await.expect("send");
    }
    let (mut ok, mut busy) = (0, 0);
    let mut buf = vec![0u8; 65_535];
    while let Ok(Ok((n, _))) = timeout(Duration::from_millis(500), s.recv_from(&mut buf)).await {
        match SipMsg::parse(&buf[..n]).ok().and_then(|m| m.code()) {
            Some(200) => ok += 1,
            Some(503) => busy += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!((20..=25).contains(&ok), "{ok} accepted");
    assert!(busy >= 1, "the excess is told 503");
    assert!(ok + busy < 60, "the excess is mostly dropped, not answered");
    // Every request that reached the gateway was either served or counted as limited
    // (the kernel may drop some of the burst before the gateway reads it).
    let limited = gw.metrics().get("rvoip_rate_limited_total", &[]);
    let received = gw
        .metrics()
        .get("rvoip_sip_requests_total", &[("method", "OPTIONS")]);
    assert_eq!(
        limited + f64::from(ok),
        received,
        "{limited} limited of {received}"
    );
    assert!(limited >= 100.0, "{limited}");
    let (_, metrics) = http_get(gw.http_addr(), "/metrics", false).await;
    assert!(metrics.contains("rvoip_rate_limited_total"), "{metrics}");
    // Another source is not affected.
    let ok_msg = "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9999;branch=z9hG4bKother\r\n\
Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: other-1\r\n\
CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(
        raw_sip(&gw, ok_msg).await.expect("response").code(),
        Some(200)
    );
    assert_clean(&gw).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn webrtc_offer_without_fingerprint_gets_488() {
    let trunk = RawTrunk::bind().await;
    let gw = start_gateway(&trunk.host(), "").await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 10).await;
    let plain = String::from_utf8_lossy(WEBRTC_OFFER)
        .lines()
        .filter(|l| !l.starts_with("a=fingerprint"))
        .map(|l| format!("{l}\r\n"))
        .collect::<String>();
    let now = alice.now();
    let call = alice
        .ua
        .call(now, "sip:+15551234567@127.0.0.1", plain.as_bytes())
        .expect("call");
    let reason = alice
        .wait("488", |e| match e {
            Event::Ended { call: c, reason } if *c == call => Some(*reason),
            _ => None,
        })
        .await;
    assert_eq!(reason, EndReason::Rejected(488));
    assert!(trunk.recv(Duration::from_millis(300)).await.is_none());
    alice.close().await;
    assert_clean(&gw).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn web_demo_console_and_api() {
    let gw = start_gateway("127.0.0.1:9", "").await;
    let (status, body) = http_get(gw.http_addr(), "/", false).await;
    assert_eq!(status, 200);
    assert!(body.contains("<"), "{body}");
    assert_eq!(http_get(gw.http_addr(), "/console", false).await.0, 401);
    assert_eq!(http_get(gw.http_addr(), "/console", true).await.0, 200);
    let (status, trunks) = http_get(gw.http_addr(), "/api/trunks", true).await;
    assert_eq!(status, 200);
    assert!(trunks.contains("\"name\":\"t1\""), "{trunks}");
    assert_eq!(
        http_get(gw.http_addr(), "/api/cdrs?since=bogus", true)
            .await
            .0,
        400
    );
    assert_eq!(
        http_get(gw.http_addr(), "/api/calls", true).await.1.trim(),
        "[]"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn echo_extension_is_answered_by_the_media_plane() {
    // The embedded default dial plan: 600 is the echo extension.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cfg = Config::embedded_default();
    cfg.http.listen = "127.0.0.1:0".parse().expect("addr");
    cfg.sip.udp = Some("127.0.0.1:0".parse().expect("addr"));
    cfg.sip.tcp = Some("127.0.0.1:0".parse().expect("addr"));
    cfg.users.push(rvoip_gateway::config::UserConfig {
        username: "alice".into(),
        password: ALICE_PW.into(),
        display_name: None,
        dids: Vec::new(),
    });
    let gw = Gateway::start(
        cfg,
        Options {
            data_dir: Some(dir.path().to_path_buf()),
            sip_t1: None,
        },
    )
    .await
    .expect("gateway starts");
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 12).await;
    let call = alice.call("sip:600@127.0.0.1");
    let sdp = alice
        .wait("answer", |e| match e {
            Event::Answered { call: c, sdp } if *c == call => Some(sdp.clone()),
            _ => None,
        })
        .await
        .expect("SDP answer");
    assert!(String::from_utf8_lossy(&sdp).contains("a=ice-lite"));
    assert_eq!(
        gw.stats().media_ports,
        1,
        "one WebRTC port for the echo leg"
    );
    let now = alice.now();
    alice.ua.hangup(now, call).expect("hangup");
    alice.pump(Duration::from_millis(200)).await;
    alice.close().await;
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    assert_eq!(cdrs[0].direction, "service");
    assert_eq!(cdrs[0].a_leg.codec.as_deref(), Some("opus"));
    gw.shutdown().await;
}

#[tokio::test]
async fn a_panicking_call_task_still_writes_its_record_and_releases_everything() {
    let gw = start_gateway("127.0.0.1:9", "").await;
    gw.inject_panicking_call("panic-1@test");
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    assert_eq!(cdrs[0].call_id, "panic-1@test");
    assert_eq!(cdrs[0].cause, "failed: internal");
    // The gateway goes on serving.
    let ok = "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9999;branch=z9hG4bKafter\r\n\
Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: after-1\r\n\
CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    assert_eq!(raw_sip(&gw, ok).await.expect("response").code(), Some(200));
    gw.shutdown().await;
}

#[tokio::test]
async fn graceful_shutdown_refuses_new_calls_and_byes_both_legs_after_the_grace() {
    let trunk = RawTrunk::bind().await;
    let gw = start_gateway(&trunk.host(), "[limits]\nshutdown_grace_seconds = 1\n").await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 13).await;
    let call = alice.call("sip:+15551234567@127.0.0.1");
    let trunk_side = async {
        let (inv, src) = trunk
            .recv_method("INVITE", Duration::from_secs(5))
            .await
            .expect("INVITE at the trunk");
        trunk.respond(&inv, src, 200, true).await;
    };
    tokio::join!(
        alice.wait("answer", |e| {
            matches!(e, Event::Answered { call: c, .. } if *c == call).then_some(())
        }),
        trunk_side
    );
    assert!(
        trunk
            .recv_method("ACK", Duration::from_secs(2))
            .await
            .is_some()
    );
    let started = Instant::now();
    let shutdown = gw.shutdown();
    let checks = async {
        // New calls are refused at once.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let invite = "INVITE sip:+15551234567@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9999;branch=z9hG4bKlate\r\n\
Max-Forwards: 70\r\nFrom: <sip:x@127.0.0.1>;tag=x1\r\nTo: <sip:+15551234567@127.0.0.1>\r\n\
Call-ID: late-1\r\nCSeq: 1 INVITE\r\nContact: <sip:x@127.0.0.1:9999>\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(
            raw_sip(&gw, invite).await.expect("response").code(),
            Some(503)
        );
        // After the grace period, BYE to the trunk...
        let (bye, src) = trunk
            .recv_method("BYE", Duration::from_secs(3))
            .await
            .expect("BYE at the trunk");
        assert!(
            started.elapsed() >= Duration::from_millis(900),
            "the grace period is kept"
        );
        trunk.respond(&bye, src, 200, false).await;
        // ...and to the browser.
        let reason = alice
            .wait("the gateway's BYE", |e| match e {
                Event::Ended { call: c, reason } if *c == call => Some(*reason),
                _ => None,
            })
            .await;
        assert_eq!(reason, EndReason::RemoteHangup);
        alice.pump(Duration::from_millis(100)).await;
    };
    tokio::join!(shutdown, checks);
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    assert_eq!(cdrs[0].cause, "shutdown");
    alice.close().await;
}

#[tokio::test]
async fn failover_to_the_next_trunk_on_503() {
    let t1 = RawTrunk::bind().await;
    let t2 = RawTrunk::bind().await;
    let extra = format!(
        "[[trunks]]\nname = \"t2\"\nhost = \"{}\"\noptions_interval = 0\n\
[[dialplan]]\npattern = \"+44.\"\ntarget = \"trunk:t1,t2\"\n",
        t2.host()
    );
    let gw = start_gateway(&t1.host(), &extra).await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 14).await;
    let call = alice.call("sip:+442071234567@127.0.0.1");
    let trunks = async {
        let (inv, src) = t1
            .recv_method("INVITE", Duration::from_secs(5))
            .await
            .expect("INVITE at t1");
        t1.respond(&inv, src, 503, false).await;
        assert!(
            t1.recv_method("ACK", Duration::from_secs(2))
                .await
                .is_some()
        );
        let (inv, src) = t2
            .recv_method("INVITE", Duration::from_secs(5))
            .await
            .expect("INVITE at t2 after t1's 503");
        assert_eq!(
            inv.uri(),
            Some(format!("sip:+442071234567@{}", t2.host()).as_str())
        );
        t2.respond(&inv, src, 200, true).await;
    };
    tokio::join!(
        alice.wait("answer", |e| {
            matches!(e, Event::Answered { call: c, .. } if *c == call).then_some(())
        }),
        trunks
    );
    assert!(
        t2.recv_method("ACK", Duration::from_secs(2))
            .await
            .is_some()
    );
    let now = alice.now();
    alice.ua.hangup(now, call).expect("hangup");
    let (bye, src) = tokio::join!(
        t2.recv_method("BYE", Duration::from_secs(3)),
        alice.pump(Duration::from_millis(300))
    )
    .0
    .expect("BYE at t2");
    t2.respond(&bye, src, 200, false).await;
    alice.pump(Duration::from_millis(200)).await;
    alice.close().await;
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    assert!(cdrs[0].b_leg.peer.starts_with("t2"), "{:?}", cdrs[0].b_leg);
    gw.shutdown().await;
}

#[tokio::test]
async fn trunk_registers_with_digest_and_options_keepalive_marks_it_up_and_down() {
    use rvoip_core::sip::auth::{DigestRequest, DigestServer, Ha1Store, ServerConfig};
    let trunk = RawTrunk::bind().await;
    let host = trunk.host();
    let toml_trunk = format!(
        "[[trunks]]\nname = \"prov\"\nhost = \"{host}\"\nusername = \"gw\"\npassword = \"trunkpw\"\n\
register = true\nregister_expires = 120\noptions_interval = 1\n"
    );
    let gw = start_gateway("127.0.0.1:9", &toml_trunk).await;
    let mut rng = SplitMix64::new(99);
    let mut server = DigestServer::new(ServerConfig::new("provider"), &mut rng);
    let mut store = Ha1Store::new();
    store.insert_password("provider", "gw", "trunkpw");
    let t0 = Instant::now();
    let now = || rvoip_core::time::Instant::from_micros(t0.elapsed().as_micros() as u64);
    let (mut registered, mut options_seen) = (false, 0);
    let deadline = Instant::now() + Duration::from_secs(8);
    while (!registered || options_seen < 2) && Instant::now() < deadline {
        let Some((m, src)) = trunk.recv(Duration::from_secs(3)).await else {
            break;
        };
        match m.method().map(|x| x.as_str().to_string()).as_deref() {
            Some("REGISTER") => {
                let uri = m.uri().unwrap_or("").to_string();
                let v = server.verify_any(
                    now(),
                    &DigestRequest {
                        method: "REGISTER",
                        uri: Some(&uri),
                        body: &[],
                    },
                    m.headers_named("Authorization"),
                    &store,
                );
                if v.is_ok() {
                    let mut r = rvoip_core::sip::ua::response(&m, 200, Some("reg"));
                    if let Some(c) = m.header("Contact") {
                        r.push("Contact", format!("{c};expires=120"));
                    }
                    trunk.sock.send_to(&r.to_bytes(), src).await.expect("send");
                    registered = true;
                } else {
                    let mut r = rvoip_core::sip::ua::response(&m, 401, Some("reg"));
                    for c in server.challenge_values(now(), &mut rng, false) {
                        r.push("WWW-Authenticate", c);
                    }
                    trunk.sock.send_to(&r.to_bytes(), src).await.expect("send");
                }
            }
            Some("OPTIONS") => {
                options_seen += 1;
                trunk.respond(&m, src, 200, false).await;
            }
            _ => {}
        }
    }
    assert!(registered, "the gateway registered with digest");
    assert!(options_seen >= 2, "OPTIONS keep-alives every second");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (_, trunks) = http_get(gw.http_addr(), "/api/trunks", true).await;
    let v: serde_json::Value = serde_json::from_str(&trunks).expect("json");
    let prov = v
        .as_array()
        .and_then(|a| a.iter().find(|t| t["name"] == "prov"))
        .expect("trunk listed")
        .clone();
    assert_eq!(prov["registered"], true, "{prov}");
    assert_eq!(prov["up"], true, "{prov}");
    // The trunk stops answering: after Timer F (64·T1 = 6.4 s here) it is down.
    let down = async {
        loop {
            let (_, trunks) = http_get(gw.http_addr(), "/api/trunks", true).await;
            if trunks.contains("\"name\":\"prov\"") && trunks.contains("\"up\":false") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    timeout(Duration::from_secs(12), down)
        .await
        .expect("the trunk is marked down");
    gw.shutdown().await;
}

#[tokio::test]
async fn webrtc_user_calls_webrtc_user_and_callee_hangs_up() {
    let gw = start_gateway("127.0.0.1:9", "").await;
    let mut bob = Phone::connect(&gw, "bob", BOB_PW, 15).await;
    bob.register().await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 16).await;
    let call = alice.call("sip:bob@127.0.0.1");
    let (incoming, ()) = tokio::join!(
        bob.wait("bob's incoming call", |e| match e {
            Event::IncomingCall { call, sdp, .. } => Some((*call, sdp.clone())),
            _ => None,
        }),
        alice.pump(Duration::from_millis(700))
    );
    // WebRTC to WebRTC: the browser's offer is relayed (no media anchoring).
    assert_eq!(incoming.1.as_deref(), Some(WEBRTC_OFFER));
    let now = bob.now();
    bob.ua
        .answer(now, incoming.0, WEBRTC_OFFER)
        .expect("answer");
    let (answered, ()) = tokio::join!(
        alice.wait("answer", |e| match e {
            Event::Answered { call: c, sdp } if *c == call => Some(sdp.clone()),
            _ => None,
        }),
        bob.pump(Duration::from_millis(500))
    );
    assert_eq!(answered.as_deref(), Some(WEBRTC_OFFER));
    // INFO DTMF from alice reaches bob.
    let now = alice.now();
    alice.ua.send_dtmf(now, call, '5', 160).expect("dtmf");
    let (digit, ()) = tokio::join!(
        bob.wait("DTMF", |e| match e {
            Event::DtmfReceived { digit, .. } => Some(*digit),
            _ => None,
        }),
        alice.pump(Duration::from_millis(500))
    );
    assert_eq!(digit, '5');
    let now = bob.now();
    bob.ua.hangup(now, incoming.0).expect("hangup");
    let (reason, ()) = tokio::join!(
        alice.wait("BYE", |e| match e {
            Event::Ended { call: c, reason } if *c == call => Some(*reason),
            _ => None,
        }),
        bob.pump(Duration::from_millis(500))
    );
    assert_eq!(reason, EndReason::RemoteHangup);
    alice.pump(Duration::from_millis(100)).await;
    alice.close().await;
    bob.close().await;
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    assert_eq!(cdrs[0].direction, "internal");
    assert_eq!(cdrs[0].cause, "normal: callee hung up");
    gw.shutdown().await;
}

#[tokio::test]
async fn sip_over_tcp_is_framed_and_answered() {
    let gw = start_gateway("127.0.0.1:9", "").await;
    let mut s = TcpStream::connect(gw.tcp_addr().expect("tcp"))
        .await
        .expect("connect");
    let msg = "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9999;branch=z9hG4bKtcp1\r\n\
Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: tcp-1\r\n\
CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    // Two messages in one write, split across a second one: the framer separates them.
    let both = format!(
        "{msg}{}",
        msg.replace("tcp-1", "tcp-2").replace("tcp1", "tcp2")
    );
    let (first, second) = both.split_at(both.len() - 20);
    s.write_all(first.as_bytes()).await.expect("write");
    tokio::time::sleep(Duration::from_millis(50)).await;
    s.write_all(second.as_bytes()).await.expect("write");
    let mut got = String::new();
    let mut buf = [0u8; 4096];
    while got.matches("SIP/2.0 200 OK").count() < 2 {
        let n = timeout(Duration::from_secs(3), s.read(&mut buf))
            .await
            .expect("answers")
            .expect("read");
        assert!(n > 0, "connection closed: {got}");
        got.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(
        got.contains("Call-ID: tcp-1") && got.contains("Call-ID: tcp-2"),
        "{got}"
    );
    assert_eq!(gw.stats().flows, 1);
    drop(s);
    assert_clean(&gw).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn browser_hold_and_unhold_are_answered_by_the_anchoring_media_plane() {
    let trunk = RawTrunk::bind().await;
    let gw = start_gateway(&trunk.host(), "").await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 17).await;
    let call = alice.call("sip:+15551234567@127.0.0.1");
    let trunk_side = async {
        let (inv, src) = trunk
            .recv_method("INVITE", Duration::from_secs(5))
            .await
            .expect("INVITE at the trunk");
        trunk.respond(&inv, src, 200, true).await;
    };
    tokio::join!(
        alice.wait("answer", |e| {
            matches!(e, Event::Answered { call: c, .. } if *c == call).then_some(())
        }),
        trunk_side
    );
    assert!(
        trunk
            .recv_method("ACK", Duration::from_secs(2))
            .await
            .is_some()
    );
    let offer = |dir: &str| {
        String::from_utf8_lossy(WEBRTC_OFFER)
            .replace("a=sendrecv", dir)
            .replace(" 2 IN IP4", " 3 IN IP4")
            .into_bytes()
    };
    for (dir, expect) in [("a=sendonly", "a=recvonly"), ("a=sendrecv", "a=sendrecv")] {
        let now = alice.now();
        alice.ua.hold(now, call, &offer(dir)).expect("re-INVITE");
        let sdp = alice
            .wait("the re-INVITE's answer", |e| match e {
                Event::MediaUpdated { call: c, sdp } if *c == call => Some(sdp.clone()),
                _ => None,
            })
            .await
            .expect("SDP in the 200");
        let sdp = String::from_utf8_lossy(&sdp).to_string();
        assert!(sdp.contains(expect) && sdp.contains("a=ice-lite"), "{sdp}");
    }
    assert!(
        trunk
            .recv_method("INVITE", Duration::from_millis(200))
            .await
            .is_none(),
        "the anchored trunk leg is not re-offered"
    );
    let now = alice.now();
    alice.ua.hangup(now, call).expect("hangup");
    let (bye, src) = tokio::join!(
        trunk.recv_method("BYE", Duration::from_secs(3)),
        alice.pump(Duration::from_millis(300))
    )
    .0
    .expect("BYE at the trunk");
    trunk.respond(&bye, src, 200, false).await;
    alice.pump(Duration::from_millis(100)).await;
    alice.close().await;
    assert_clean(&gw).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn a_user_with_two_browsers_rings_both_and_the_first_to_answer_wins() {
    let gw = start_gateway("127.0.0.1:9", "").await;
    let mut bob1 = Phone::connect(&gw, "bob", BOB_PW, 21).await;
    bob1.register().await;
    let mut bob2 = Phone::connect(&gw, "bob", BOB_PW, 22).await;
    bob2.register().await;
    assert_eq!(gw.stats().registrations, 2, "two contacts for bob");
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 23).await;
    let call = alice.call("sip:bob@127.0.0.1");
    let incoming = |e: &Event| match e {
        Event::IncomingCall { call, .. } => Some(*call),
        _ => None,
    };
    let (c1, c2, ()) = tokio::join!(
        bob1.wait("bob1 rings", incoming),
        bob2.wait("bob2 rings", incoming),
        alice.pump(Duration::from_millis(800))
    );
    // bob1 (the older contact) answers; bob2's ringing is cancelled.
    let now = bob1.now();
    bob1.ua.answer(now, c1, WEBRTC_OFFER).expect("answer");
    let (answered, reason2, ()) = tokio::join!(
        alice.wait("answer", |e| {
            matches!(e, Event::Answered { call: c, .. } if *c == call).then_some(())
        }),
        bob2.wait("bob2 stops ringing", |e| match e {
            Event::Ended { call, reason } if *call == c2 => Some(*reason),
            _ => None,
        }),
        bob1.pump(Duration::from_millis(800))
    );
    let () = answered;
    assert_eq!(reason2, EndReason::Cancelled);
    let now = alice.now();
    alice.ua.hangup(now, call).expect("hangup");
    let (reason1, ()) = tokio::join!(
        bob1.wait("BYE", |e| match e {
            Event::Ended { call, reason } if *call == c1 => Some(*reason),
            _ => None,
        }),
        alice.pump(Duration::from_millis(500))
    );
    assert_eq!(reason1, EndReason::RemoteHangup);
    bob2.pump(Duration::from_millis(100)).await;
    for p in [&mut alice, &mut bob1, &mut bob2] {
        p.close().await;
    }
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    gw.shutdown().await;
}
