//! Helpers of the gateway's end-to-end signalling tests: a gateway on free ports and a
//! temporary data directory, a browser (the core UA over tokio-tungstenite, subprotocol
//! `sip`), a raw UDP trunk, sipp, and the leak check.
#![allow(dead_code, unused_imports)]

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

pub const ALICE_PW: &str = "alice-secret";
pub const BOB_PW: &str = "bob-secret";
pub const ADMIN_PW: &str = "console-secret";
pub const DID: &str = "+15550001111";

/// A WebRTC offer as a browser sends it (with fingerprint).
pub const WEBRTC_OFFER: &[u8] = b"v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
a=group:BUNDLE 0\r\na=msid-semantic: WMS\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 126\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n\
a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijklmn\r\n\
a=fingerprint:sha-256 19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2\r\n\
a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n\
a=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:126 telephone-event/8000\r\n";

// ---------------------------------------------------------------------------------------
// The gateway under test.

pub fn sipp_binary() -> PathBuf {
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

pub fn free_udp_port() -> u16 {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind an ephemeral port");
    s.local_addr().expect("local addr").port()
}

pub struct Gw {
    pub gw: Gateway,
    pub _dir: tempfile::TempDir,
}

impl std::ops::Deref for Gw {
    type Target = Gateway;
    fn deref(&self) -> &Gateway {
        &self.gw
    }
}

/// Starts a gateway with alice and bob (bob has the DID), a trunk `t1` at `trunk_host`
/// (asserting the caller's identity), `+1…` numbers routed to it, and `extra` TOML appended.
pub async fn start_gateway(trunk_host: &str, extra: &str) -> Gw {
    start_gateway_with(trunk_host, "", "asserted_identity = true\n", extra).await
}

/// [`start_gateway`]'s gateway with `sip_extra` added to `[sip]`, `trunk_extra` (instead of
/// `asserted_identity = true`) to the trunk, and `extra` TOML appended.
pub async fn start_gateway_with(
    trunk_host: &str,
    sip_extra: &str,
    trunk_extra: &str,
    extra: &str,
) -> Gw {
    let toml = format!(
        r#"
[http]
listen = "127.0.0.1:0"
[sip]
udp = "127.0.0.1:0"
tcp = "127.0.0.1:0"
domain = "127.0.0.1"
{sip_extra}[admin]
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
{trunk_extra}[[dialplan]]
pattern = "+1."
target = "trunk:t1"
{extra}
[[dialplan]]
pattern = "*"
target = "user"
"#
    );
    start_gateway_toml(&toml).await
}

/// Starts a gateway from the complete TOML `toml`, with a temporary data directory and a
/// short SIP T1 (100 ms).
pub async fn start_gateway_toml(toml: &str) -> Gw {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = Config::from_toml(toml).expect("test config is valid");
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
pub async fn assert_clean(gw: &Gateway) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = gw.stats();
        if s.calls == 0
            && s.call_tasks == 0
            && s.legs == 0
            && s.routes == 0
            && s.flow_watchers == 0
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
pub fn spawn_sipp(scenario: &str, port: u16, extra: &[String]) -> tokio::process::Child {
    let path = format!("{}/../tests/sipp/{scenario}", env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("rvoip-gw-sipp-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    spawn_sipp_command(
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
            .args(extra),
    )
}

/// Spawns the sipp command `cmd`: no stdin, stdout discarded, stderr kept (for
/// [`sipp_ok`]'s verdict), killed when dropped.
pub fn spawn_sipp_command(cmd: &mut tokio::process::Command) -> tokio::process::Child {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn sipp")
}

pub async fn sipp_ok(child: tokio::process::Child) {
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

/// Runs sipp as the trunk's UAS with `scenario` on `port`, and gives it 300 ms to listen.
pub async fn spawn_sipp_uas(scenario: &str, port: u16) -> tokio::process::Child {
    let sipp = spawn_sipp(scenario, port, &[]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    sipp
}

/// Runs sipp's UAS `scenario` on `port` as the trunk, and has alice (WebSocket, seed
/// `seed`) call `+15551234567` through `gw`; returns sipp, alice and the answered call.
pub async fn alice_calls_sipp_uas(
    gw: &Gateway,
    scenario: &str,
    port: u16,
    seed: u64,
) -> (tokio::process::Child, Phone, CallId) {
    let sipp = spawn_sipp_uas(scenario, port).await;
    let mut alice = Phone::connect(gw, "alice", ALICE_PW, seed).await;
    let call = alice.call_answered("sip:+15551234567@127.0.0.1").await;
    (sipp, alice, call)
}

/// Runs sipp from `port` as a trunk calling the DID on the gateway's UDP listener.
pub fn spawn_sipp_to_did(gw: &Gateway, scenario: &str, port: u16) -> tokio::process::Child {
    let target = gw.udp_addr().expect("udp").to_string();
    spawn_sipp(scenario, port, &["-s".into(), DID.into(), target])
}

/// A free TCP port on 127.0.0.1.
pub fn free_tcp_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

/// Ends a call's test: pumps `phone` for `pump`, waits for sipp's success, closes the
/// phone's WebSocket and checks that the gateway holds no state.
pub async fn finish_with_sipp(
    gw: &Gateway,
    phone: &mut Phone,
    sipp: tokio::process::Child,
    pump: Duration,
) {
    phone.pump(pump).await;
    sipp_ok(sipp).await;
    phone.close().await;
    assert_clean(gw).await;
}

/// Asserts that the gateway recorded exactly one call, ended with `cause`.
pub fn assert_one_cdr(gw: &Gateway, cause: &str) {
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    assert_eq!(cdrs[0].cause, cause);
}

/// GET with the console credentials; returns (status, body).
pub async fn http_get(addr: SocketAddr, path: &str, auth: bool) -> (u16, String) {
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

pub type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

pub struct Phone {
    pub ua: UserAgent<SplitMix64>,
    pub ws: Option<Ws>,
    pub t0: Instant,
    pub events: VecDeque<Event>,
    /// The code of the Close frame the gateway sent (RFC 6455 §5.5.1), once it did: the
    /// phone then no longer reads or sends.
    pub closed: Option<u16>,
    /// Every SIP message received from the gateway, in order.
    pub received: Vec<Vec<u8>>,
}

impl Phone {
    pub async fn connect(gw: &Gateway, user: &str, password: &str, seed: u64) -> Phone {
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
        let mut cfg = phone_config(gw, user, password, seed, Transport::Ws);
        // As the browser package does (RFC 7118 §5.2): the gateway must route to the
        // phone by its WebSocket connection, never by this host.
        cfg.advertised_host = Some(format!("ws{seed:06}.invalid"));
        Phone::over(ws, cfg, seed)
    }

    /// A phone with the UA configured by `cfg` over the connected WebSocket `ws`.
    pub fn over(ws: Ws, cfg: UaConfig, seed: u64) -> Phone {
        Phone {
            ua: UserAgent::new(cfg, SplitMix64::new(seed)),
            ws: Some(ws),
            t0: Instant::now(),
            events: VecDeque::new(),
            closed: None,
            received: Vec::new(),
        }
    }

    pub fn now(&self) -> rvoip_core::time::Instant {
        rvoip_core::time::Instant::from_micros(self.t0.elapsed().as_micros() as u64)
    }

    /// Moves messages both ways and collects events for up to `dur`.
    pub async fn pump(&mut self, dur: Duration) {
        let end = Instant::now() + dur;
        loop {
            if self.closed.is_some() {
                // The gateway closed the connection: nothing more comes or goes.
                while self.ua.poll_transmit().is_some() {}
                while let Some(e) = self.ua.poll_event() {
                    self.events.push_back(e);
                }
                tokio::time::sleep_until(end).await;
                return;
            }
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
                        Message::Close(f) => {
                            // 1005 (RFC 6455 §7.4.1): a Close frame without a code.
                            self.closed = Some(f.map_or(1005, |f| u16::from(f.code)));
                            continue;
                        }
                        _ => continue,
                    };
                    if std::env::var_os("SIPTRACE").is_some() {
                        eprintln!("<<< {}", String::from_utf8_lossy(&bytes));
                    }
                    self.received.push(bytes.clone());
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
                Ok(_) => panic!("websocket closed by the gateway without a Close frame"),
                Err(_) => {
                    let now = self.now();
                    self.ua.handle_timeout(now);
                }
            }
        }
    }

    /// Pumps until an event matching `f` arrives (within 10 s).
    pub async fn wait<T>(&mut self, what: &str, mut f: impl FnMut(&Event) -> Option<T>) -> T {
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

    pub async fn register(&mut self) {
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

    pub fn call(&mut self, target: &str) -> CallId {
        let now = self.now();
        self.ua.call(now, target, WEBRTC_OFFER).expect("call")
    }

    /// Calls `target` and waits for the answer.
    pub async fn call_answered(&mut self, target: &str) -> CallId {
        let call = self.call(target);
        self.wait("answer", |e| {
            matches!(e, Event::Answered { call: c, .. } if *c == call).then_some(())
        })
        .await;
        call
    }

    /// Waits for an incoming call; returns it and its offer, if any.
    pub async fn incoming(&mut self) -> (CallId, Option<Vec<u8>>) {
        self.wait("the incoming call", |e| match e {
            Event::IncomingCall { call, sdp, .. } => Some((*call, sdp.clone())),
            _ => None,
        })
        .await
    }

    /// Waits (`what`) for `call` to end; returns why.
    pub async fn ended(&mut self, what: &str, call: CallId) -> EndReason {
        self.wait(what, |e| match e {
            Event::Ended { call: c, reason } if *c == call => Some(*reason),
            _ => None,
        })
        .await
    }

    /// Hangs up `call`.
    pub fn hangup(&mut self, call: CallId) {
        let now = self.now();
        self.ua.hangup(now, call).expect("hangup");
    }

    pub async fn close(&mut self) {
        if let Some(mut ws) = self.ws.take() {
            let _ = ws.close(None).await;
        }
    }
}

/// The UA configuration of a test phone: `user` at 127.0.0.1 with `password`, over
/// `transport` to the gateway's HTTP listener, with an instance ID and reg-id from `seed`.
pub fn phone_config(
    gw: &Gateway,
    user: &str,
    password: &str,
    seed: u64,
    transport: Transport,
) -> UaConfig {
    let mut cfg = UaConfig::new(
        format!("sip:{user}@127.0.0.1"),
        format!("192.0.2.{}:5060", seed % 200 + 1)
            .parse()
            .expect("addr"),
    );
    cfg.transport = transport;
    cfg.password = password.into();
    cfg.proxy = Some(gw.http_addr());
    cfg.instance_id = Some(format!("urn:uuid:00000000-0000-4000-8000-{seed:012}"));
    cfg.reg_id = Some(1);
    cfg.register_expires = 600;
    cfg
}

// ---------------------------------------------------------------------------------------
// A raw UDP trunk, for tests that time what the trunk receives.

pub struct RawTrunk {
    pub sock: UdpSocket,
}

impl RawTrunk {
    pub async fn bind() -> RawTrunk {
        RawTrunk {
            sock: UdpSocket::bind("127.0.0.1:0").await.expect("bind"),
        }
    }

    pub fn host(&self) -> String {
        self.sock.local_addr().expect("addr").to_string()
    }

    /// The next request (retransmissions of earlier ones skipped by `skip`), with its source.
    pub async fn recv(&self, within: Duration) -> Option<(SipMsg, SocketAddr)> {
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

    pub async fn recv_method(
        &self,
        method: &str,
        within: Duration,
    ) -> Option<(SipMsg, SocketAddr)> {
        let end = Instant::now() + within;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            let (m, src) = self.recv(left).await?;
            if m.method().is_some_and(|x| x.as_str() == method) {
                return Some((m, src));
            }
        }
    }

    pub async fn respond(&self, req: &SipMsg, to: SocketAddr, code: u16, sdp: bool) {
        let mut r = rvoip_core::sip::ua::response(req, code, Some("trunktag"));
        r.push("Contact", format!("<sip:trunk@{}>", self.host()));
        if sdp {
            r.push("Content-Type", "application/sdp");
            r.body = b"v=0\r\no=t 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n".to_vec();
        }
        self.sock.send_to(&r.to_bytes(), to).await.expect("send");
    }
}

pub async fn raw_sip(gw: &Gateway, msg: &str) -> Option<SipMsg> {
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
// A bare UA over a WebSocket, driven by hand (the native WebRTC client's signalling).

/// Connects a WebSocket (subprotocol `sip`) to `gw` and makes alice's UA (password
/// `password`, randomness from `seed`) for it; returns the socket, the UA and its start.
pub async fn alice_ws_ua(
    gw: &Gateway,
    password: &str,
    seed: u64,
) -> (Ws, UserAgent<SplitMix64>, Instant) {
    let mut req = format!("ws://{}/ws", gw.http_addr())
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", "sip".parse().expect("header"));
    let (ws, _) = tokio_tungstenite::connect_async(req).await.expect("ws");
    let mut cfg = UaConfig::new(
        "sip:alice@127.0.0.1",
        "192.0.2.50:5060".parse().expect("addr"),
    );
    cfg.transport = Transport::Ws;
    cfg.password = password.into();
    cfg.proxy = Some(gw.http_addr());
    (
        ws,
        UserAgent::new(cfg, SplitMix64::new(seed)),
        Instant::now(),
    )
}

/// Pumps `ua` (100 ms at a time) until `done` holds or `within` has passed; whether it held.
pub async fn pump_until(
    ua: &mut UserAgent<SplitMix64>,
    ws: &mut Ws,
    t0: Instant,
    events: &mut Vec<Event>,
    within: Duration,
    mut done: impl FnMut() -> bool,
) -> bool {
    let deadline = Instant::now() + within;
    loop {
        pump_ua(ua, ws, t0, Duration::from_millis(100), events).await;
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
    }
}

/// Runs `ua` (started at `t0`) over `ws` for `dur`, collecting its events.
pub async fn pump_ua(
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

/// Has `ua` call `target` with `offer` and pumps (collecting into `events`) until the
/// answer, within 10 s; returns the call and the answer's SDP.
pub async fn ua_call_answered(
    ua: &mut UserAgent<SplitMix64>,
    ws: &mut Ws,
    t0: Instant,
    target: &str,
    offer: &str,
    events: &mut Vec<Event>,
) -> (CallId, Vec<u8>) {
    let call = ua
        .call(
            rvoip_core::time::Instant::from_micros(t0.elapsed().as_micros() as u64),
            target,
            offer.as_bytes(),
        )
        .expect("call");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        pump_ua(ua, ws, t0, Duration::from_millis(50), events).await;
        if let Some(sdp) = events.iter().find_map(|e| match e {
            Event::Answered { call: c, sdp } if *c == call => sdp.clone(),
            _ => None,
        }) {
            return (call, sdp);
        }
        assert!(Instant::now() < deadline, "no answer: {events:?}");
    }
}

/// The native WebRTC test client's offer (opus, PCMU, telephone-event; one host
/// candidate at `port`): ICE credentials `ice`, fingerprint `fp`, `o=` version `version`, direction `dir`.
pub fn client_offer(
    port: u16,
    ice: &rvoip_core::ice::Credentials,
    fp: &str,
    version: u32,
    dir: &str,
) -> String {
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

/// Has `phone` call `+15551234567` (routed to `trunk`), has the trunk answer the INVITE
/// (within 5 s) with 200 and an SDP, and waits for the phone's answer; returns the call
/// and the INVITE the trunk got.
pub async fn call_raw_trunk_answered(phone: &mut Phone, trunk: &RawTrunk) -> (CallId, SipMsg) {
    let call = phone.call("sip:+15551234567@127.0.0.1");
    let trunk_side = async {
        let (inv, src) = trunk
            .recv_method("INVITE", Duration::from_secs(5))
            .await
            .expect("INVITE at the trunk");
        trunk.respond(&inv, src, 200, true).await;
        inv
    };
    let ((), inv) = tokio::join!(
        phone.wait("answer", |e| {
            matches!(e, Event::Answered { call: c, .. } if *c == call).then_some(())
        }),
        trunk_side
    );
    (call, inv)
}

/// A browser's WebRTC offer for the test client `c` (ICE, DTLS, opus/PCMU/PCMA; one host
/// candidate), with telephone-event at payload type `te_pt` and clock rate `te_clock`.
pub fn browser_offer(
    c: &rvoip_gateway::media::testclient::ClientOffer,
    te_pt: u8,
    te_clock: u32,
) -> String {
    format!(
        "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
a=group:BUNDLE 0\r\na=msid-semantic: WMS\r\n\
m=audio {port} UDP/TLS/RTP/SAVPF 111 0 8 {te_pt}\r\nc=IN IP4 127.0.0.1\r\n\
a=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\na=fingerprint:sha-256 {fp}\r\n\
a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n\
a=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:{te_pt} telephone-event/{te_clock}\r\n\
a=candidate:1 1 udp 2130706431 127.0.0.1 {port} typ host\r\n",
        port = c.addr.port(),
        ufrag = c.ice.ufrag,
        pwd = c.ice.pwd,
        fp = c.fingerprint,
    )
}

/// Starts the test client's media towards the gateway leg negotiated in `n`: Opus at the
/// negotiated payload type (DTMF at the negotiated telephone-event), a tone at `hz`.
pub fn start_client_media(
    client: rvoip_gateway::media::testclient::WebRtcClient,
    n: &rvoip_core::sdp::negotiate::Negotiated,
    hz: f64,
) -> rvoip_gateway::media::testclient::Endpoint {
    use rvoip_gateway::media::{Codec, MediaFormat};
    let leg = rvoip_gateway::media::testclient::gateway_leg(n).expect("ICE and DTLS in the answer");
    let fp = leg.fingerprint.clone().expect("fingerprint");
    let fmt = MediaFormat {
        codec: Codec::Opus,
        pt: n.codec.payload_type,
        dtmf_pt: n.telephone_event.map(|t| t.payload_type),
        dtmf_clock: 48_000,
    };
    client
        .start(&leg, &fp, fmt, Some(hz))
        .expect("media starts")
}
