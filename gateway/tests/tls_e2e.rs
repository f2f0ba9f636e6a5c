//! End-to-end TLS tests of the gateway, on 127.0.0.1 with real sockets and certificates made
//! here with rcgen (a test CA and a leaf for `localhost` / `127.0.0.1` signed by it):
//!
//! - HTTPS/WSS: a browser (the core UA over tokio-tungstenite with a rustls connector
//!   trusting the test CA, subprotocol `sip`) registers with digest and gets 200 OK; the
//!   binding's transport is WSS; `/api/calls` answers over HTTPS with ALPN `http/1.1`;
//!   plain HTTP on the TLS port gets no HTTP answer.
//! - The SIP-TLS listener (`sip.tls`): OPTIONS is answered, REGISTER with digest gives a
//!   `TLS` binding.
//! - A trunk with `transport = "tls"` and `tls_ca`: a call from a WebSocket user reaches a
//!   TLS UAS written here (INVITE/180/200/ACK/BYE over one TLS connection) and completes;
//!   with the webpki roots instead of the test CA the certificate is refused and the
//!   INVITE never arrives.
//! - A missing certificate file is a configuration error naming the key (and exit
//!   status 2 from `gateway --check`).

mod signalling_util;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rvoip_core::rand::SplitMix64;
use rvoip_core::sip::ua::{
    EndReason, Event, Received, RegistrationState, SipMsg, Transport, UaConfig, UserAgent,
};
use rvoip_core::sip::{Frame, Limits, StreamFramer};
use rvoip_gateway::config::Config;
use rvoip_gateway::server::{Gateway, Options, StartError};
use signalling_util::*;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, timeout};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

// ---------------------------------------------------------------------------------------
// Certificates.

/// A test CA and a leaf for `localhost` and `127.0.0.1`, as PEM files in a temp directory.
struct Pki {
    dir: tempfile::TempDir,
    ca_der: CertificateDer<'static>,
}

impl Pki {
    fn new() -> Pki {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "rvoip test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
        let leaf_key = KeyPair::generate().expect("leaf key");
        let mut leaf_params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .expect("leaf params");
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let leaf = leaf_params
            .signed_by(&leaf_key, &ca, &ca_key)
            .expect("leaf certificate");
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).expect("write");
        std::fs::write(dir.path().join("cert.pem"), leaf.pem()).expect("write");
        // rcgen writes PKCS#8 ("PRIVATE KEY").
        std::fs::write(dir.path().join("key.pem"), leaf_key.serialize_pem()).expect("write");
        Pki {
            ca_der: ca.der().clone(),
            dir,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// TOML string of a path.
    fn toml(&self, name: &str) -> String {
        self.path(name).display().to_string().replace('\\', "\\\\")
    }

    /// A client config trusting only the test CA.
    fn client(&self, alpn: &[&[u8]]) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots
            .add(self.ca_der.clone())
            .expect("CA is a trust anchor");
        let mut c =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("protocol versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
        c.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(c)
    }

    /// A server config with the leaf (for the test trunk).
    fn server(&self) -> Arc<ServerConfig> {
        let chain = CertificateDer::pem_file_iter(self.path("cert.pem"))
            .expect("read")
            .collect::<Result<Vec<_>, _>>()
            .expect("pem");
        let key = PrivateKeyDer::from_pem_file(self.path("key.pem")).expect("key");
        Arc::new(
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("protocol versions")
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .expect("server config"),
        )
    }
}

// ---------------------------------------------------------------------------------------
// The gateway under test.

/// A gateway with HTTPS/WSS and a SIP-TLS listener on the test certificate, alice and bob,
/// and `trunk` (TOML of `[[trunks]]` named `t1`, then optionally `t2`, or empty) with
/// `+1…` routed to them in that order.
async fn start_tls_gateway(pki: &Pki, trunk: &str) -> Gw {
    let route = if trunk.is_empty() {
        String::new()
    } else if trunk.contains("\"t2\"") {
        "[[dialplan]]\npattern = \"+1.\"\ntarget = \"trunk:t1,t2\"\n".to_string()
    } else {
        "[[dialplan]]\npattern = \"+1.\"\ntarget = \"trunk:t1\"\n".to_string()
    };
    let toml = format!(
        r#"
[http]
listen = "127.0.0.1:0"
tls_cert = "{cert}"
tls_key = "{key}"
[sip]
udp = "127.0.0.1:0"
tcp = "127.0.0.1:0"
tls = "127.0.0.1:0"
domain = "127.0.0.1"
[admin]
password = "{ADMIN_PW}"
[[users]]
username = "alice"
password = "{ALICE_PW}"
[[users]]
username = "bob"
password = "{BOB_PW}"
{trunk}
{route}
[[dialplan]]
pattern = "*"
target = "user"
"#,
        cert = pki.toml("cert.pem"),
        key = pki.toml("key.pem"),
    );
    start_gateway_toml(&toml).await
}

/// A browser over WSS: the core UA (Via transport WSS) behind tokio-tungstenite with a
/// rustls connector trusting the test CA.
async fn wss_phone(gw: &Gateway, pki: &Pki, user: &str, password: &str, seed: u64) -> Phone {
    let mut req = format!("wss://localhost:{}/ws", gw.http_addr().port())
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", "sip".parse().expect("header"));
    let (ws, resp) = tokio_tungstenite::connect_async_tls_with_config(
        req,
        None,
        true,
        Some(tokio_tungstenite::Connector::Rustls(
            pki.client(&[b"http/1.1"]),
        )),
    )
    .await
    .expect("the WSS handshake succeeds with the test CA");
    assert_eq!(
        resp.headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok()),
        Some("sip")
    );
    assert!(
        matches!(ws.get_ref(), tokio_tungstenite::MaybeTlsStream::Rustls(_)),
        "the connection is TLS"
    );
    let cfg = phone_config(gw, user, password, seed, Transport::Wss);
    Phone::over(ws, cfg, seed)
}

/// Opens a TLS connection to `addr` trusting the test CA; returns the stream.
async fn tls_connect(
    pki: &Pki,
    addr: SocketAddr,
    alpn: &[&[u8]],
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    TlsConnector::from(pki.client(alpn))
        .connect(ServerName::try_from("localhost").expect("name"), tcp)
        .await
        .expect("the TLS handshake succeeds with the test CA")
}

/// GET over HTTPS with the console credentials; returns (status, body).
async fn https_get(pki: &Pki, addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = tls_connect(pki, addr, &[b"http/1.1"]).await;
    assert_eq!(
        s.get_ref().1.alpn_protocol(),
        Some(&b"http/1.1"[..]),
        "ALPN selects http/1.1"
    );
    let authz = rvoip_gateway::http::base64(format!("admin:{ADMIN_PW}").as_bytes());
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic {authz}\r\n\
         Connection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.expect("write");
    s.flush().await.expect("flush");
    let mut buf = Vec::new();
    // A server closing without close_notify surfaces as an error after the data: keep what
    // was read.
    let _ = timeout(Duration::from_secs(5), s.read_to_end(&mut buf))
        .await
        .expect("https answers");
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("status line in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

// ---------------------------------------------------------------------------------------
// SIP over a framed TLS stream (a phone on the SIP-TLS listener, or the trunk's side).

struct SipStream<S> {
    stream: S,
    framer: StreamFramer,
}

impl<S: AsyncRead + AsyncWrite + Unpin> SipStream<S> {
    fn new(stream: S) -> Self {
        SipStream {
            stream,
            framer: StreamFramer::new(Limits::default()),
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
        self.stream.flush().await.expect("flush");
    }

    /// The next SIP message within `within` (keep-alives skipped).
    async fn recv(&mut self, within: Duration) -> Option<SipMsg> {
        let end = Instant::now() + within;
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            while let Some(f) = self.framer.next_frame().expect("framing") {
                if let Frame::Message(m) = f {
                    return Some(SipMsg::parse(&m).expect("the gateway sends valid SIP"));
                }
            }
            let left = end.saturating_duration_since(Instant::now());
            let n = timeout(left, self.stream.read(&mut buf)).await.ok()?.ok()?;
            if n == 0 {
                return None;
            }
            self.framer.push(&buf[..n]).expect("push");
        }
    }

    /// The next request of `method` (other messages skipped).
    async fn recv_method(&mut self, method: &str, within: Duration) -> Option<SipMsg> {
        let end = Instant::now() + within;
        loop {
            let m = self
                .recv(end.saturating_duration_since(Instant::now()))
                .await?;
            if m.method().is_some_and(|x| x.as_str() == method) {
                return Some(m);
            }
        }
    }
}

/// Drives `ua` over `s` until `pred` accepts an event (within 10 s).
async fn ua_until<S: AsyncRead + AsyncWrite + Unpin, T>(
    ua: &mut UserAgent<SplitMix64>,
    s: &mut SipStream<S>,
    t0: Instant,
    peer: SocketAddr,
    mut pred: impl FnMut(&Event) -> Option<T>,
) -> T {
    let now = |t0: Instant| rvoip_core::time::Instant::from_micros(t0.elapsed().as_micros() as u64);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        while let Some(t) = ua.poll_transmit() {
            s.send(&t.bytes).await;
        }
        while let Some(e) = ua.poll_event() {
            if let Some(v) = pred(&e) {
                return v;
            }
        }
        assert!(Instant::now() < deadline, "timed out driving the UA");
        match s.recv(Duration::from_millis(50)).await {
            Some(m) => ua.handle_receive(
                now(t0),
                Received {
                    transport: Transport::Tls,
                    source: peer,
                    bytes: &m.to_bytes(),
                },
            ),
            None => ua.handle_timeout(now(t0)),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Tests.

#[tokio::test]
async fn wss_browser_registers_with_digest_and_https_serves_the_api() {
    let pki = Pki::new();
    let gw = start_tls_gateway(&pki, "").await;
    let mut alice = wss_phone(&gw, &pki, "alice", ALICE_PW, 31).await;
    alice.register().await;
    // The binding was made over the secure WebSocket: its transport is WSS (RFC 7118 §5).
    let (status, regs) = https_get(&pki, gw.http_addr(), "/api/registrations").await;
    assert_eq!(status, 200, "{regs}");
    assert!(
        regs.contains("\"transport\":\"WSS\"") && regs.contains("alice"),
        "{regs}"
    );
    let (status, calls) = https_get(&pki, gw.http_addr(), "/api/calls").await;
    assert_eq!((status, calls.trim()), (200, "[]"));
    // Plain HTTP on the TLS listener gets no HTTP answer.
    let mut plain = TcpStream::connect(gw.http_addr()).await.expect("connect");
    plain
        .write_all(b"GET /api/calls HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut buf = Vec::new();
    let _ = timeout(Duration::from_secs(5), plain.read_to_end(&mut buf)).await;
    assert!(
        !buf.starts_with(b"HTTP/"),
        "plain HTTP is not served on the TLS port: {:?}",
        String::from_utf8_lossy(&buf)
    );
    alice.close().await;
    assert_clean(&gw).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn sip_tls_listener_answers_options_and_registers_with_digest() {
    let pki = Pki::new();
    let gw = start_tls_gateway(&pki, "").await;
    let addr = gw.tls_addr().expect("the SIP-TLS listener is bound");
    let stream = tls_connect(&pki, addr, &[]).await;
    let local = stream.get_ref().0.local_addr().expect("addr");
    let mut s = SipStream::new(stream);
    let options = format!(
        "OPTIONS sip:127.0.0.1 SIP/2.0\r\n\
Via: SIP/2.0/TLS {local};branch=z9hG4bKtlsopt1\r\n\
Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=p1\r\nTo: <sip:127.0.0.1>\r\n\
Call-ID: tls-options-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    );
    s.send(options.as_bytes()).await;
    let r = s
        .recv(Duration::from_secs(5))
        .await
        .expect("an answer to OPTIONS on the TLS connection");
    assert_eq!(r.code(), Some(200));
    assert_eq!(r.call_id(), Some("tls-options-1"));
    // REGISTER with digest through the core UA, over the same connection.
    let mut cfg = UaConfig::new("sip:bob@127.0.0.1".to_string(), local);
    cfg.transport = Transport::Tls;
    cfg.password = BOB_PW.into();
    cfg.proxy = Some(addr);
    let mut ua = UserAgent::new(cfg, SplitMix64::new(77));
    let t0 = Instant::now();
    ua.register(rvoip_core::time::Instant::from_micros(0))
        .expect("register");
    let state = ua_until(&mut ua, &mut s, t0, addr, |e| match e {
        Event::Registration(st) => Some(*st),
        _ => None,
    })
    .await;
    assert!(
        matches!(state, RegistrationState::Registered { .. }),
        "{state:?}"
    );
    let (_, regs) = https_get(&pki, gw.http_addr(), "/api/registrations").await;
    assert!(
        regs.contains("\"transport\":\"TLS\"") && regs.contains("bob"),
        "{regs}"
    );
    drop(s);
    assert_clean(&gw).await;
    gw.shutdown().await;
}

/// A stream trunk: accepts one connection (TLS with `server`, else TCP) and answers one
/// INVITE (180, 200 with SDP), takes the ACK, then answers the BYE. Returns the INVITE, the
/// BYE and the SNI the client sent.
async fn stream_uas(
    listener: TcpListener,
    server: Option<Arc<ServerConfig>>,
) -> (SipMsg, SipMsg, Option<String>) {
    let (tcp, _) = timeout(Duration::from_secs(10), listener.accept())
        .await
        .expect("the gateway connects to the trunk")
        .expect("accept");
    let local = tcp.local_addr().expect("addr");
    match server {
        Some(server) => {
            let tls = TlsAcceptor::from(server)
                .accept(tcp)
                .await
                .expect("the gateway completes the TLS handshake");
            let sni = tls.get_ref().1.server_name().map(str::to_string);
            let (inv, bye) = answer_one_call(SipStream::new(tls), local, "tls").await;
            (inv, bye, sni)
        }
        None => {
            let (inv, bye) = answer_one_call(SipStream::new(tcp), local, "tcp").await;
            (inv, bye, None)
        }
    }
}

async fn answer_one_call<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: SipStream<S>,
    local: SocketAddr,
    transport: &str,
) -> (SipMsg, SipMsg) {
    let inv = s
        .recv_method("INVITE", Duration::from_secs(5))
        .await
        .expect("INVITE over the stream");
    let respond = |code: u16, sdp: bool| {
        let mut r = rvoip_core::sip::ua::response(&inv, code, Some("tlstrunk"));
        r.push(
            "Contact",
            format!("<sip:trunk@{local};transport={transport}>"),
        );
        if sdp {
            r.push("Content-Type", "application/sdp");
            r.body = b"v=0\r\no=t 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n".to_vec();
        }
        r.to_bytes()
    };
    s.send(&respond(180, false)).await;
    s.send(&respond(200, true)).await;
    s.recv_method("ACK", Duration::from_secs(5))
        .await
        .expect("ACK over the stream");
    let bye = s
        .recv_method("BYE", Duration::from_secs(10))
        .await
        .expect("BYE over the stream");
    s.send(&rvoip_core::sip::ua::response(&bye, 200, None).to_bytes())
        .await;
    (inv, bye)
}

/// Runs a call from a WSS user to trunk `t1` (`transport`, reached as `host:PORT` where the
/// test trunk listens); returns what the trunk saw.
async fn call_through_stream_trunk(
    transport: &str,
    host: &str,
    trunk_extra: &str,
) -> (SipMsg, SipMsg, Option<String>) {
    let pki = Pki::new();
    // Listen where the gateway's resolver will look (`localhost` may be ::1 first).
    let ip = tokio::net::lookup_host((host, 0))
        .await
        .expect("resolve")
        .next()
        .expect("an address")
        .ip();
    let listener = TcpListener::bind((ip, 0)).await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let trunk = format!(
        "[[trunks]]\nname = \"t1\"\nhost = \"{host}:{port}\"\ntransport = \"{transport}\"\n\
         options_interval = 0\n{}\n",
        trunk_extra.replace("CA_PEM", &pki.toml("ca.pem"))
    );
    let gw = start_tls_gateway(&pki, &trunk).await;
    let uas = tokio::spawn(stream_uas(
        listener,
        (transport == "tls").then(|| pki.server()),
    ));
    let mut alice = wss_phone(&gw, &pki, "alice", ALICE_PW, 32).await;
    let call = alice.call_answered("sip:+15551234567@127.0.0.1").await;
    alice.pump(Duration::from_millis(200)).await;
    alice.hangup(call);
    alice.pump(Duration::from_millis(300)).await;
    let seen = timeout(Duration::from_secs(15), uas)
        .await
        .expect("the trunk side finishes")
        .expect("trunk task");
    alice.close().await;
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    assert!(cdrs[0].answered_ms.is_some());
    assert_eq!(cdrs[0].b_leg.kind, "trunk");
    gw.shutdown().await;
    seen
}

#[tokio::test]
async fn websocket_user_calls_through_a_tls_trunk_verified_with_tls_ca() {
    let (inv, bye, sni) =
        call_through_stream_trunk("tls", "localhost", "tls_ca = \"CA_PEM\"").await;
    let via = inv.header("Via").unwrap_or("");
    assert!(via.starts_with("SIP/2.0/TLS "), "Via transport TLS: {via}");
    assert!(
        inv.header("Contact")
            .is_some_and(|c| c.contains("transport=tls")),
        "{:?}",
        inv.header("Contact")
    );
    assert_eq!(bye.call_id(), inv.call_id());
    assert_eq!(sni.as_deref(), Some("localhost"), "SNI is the trunk's host");
}

/// The outgoing-stream path TLS shares with TCP: a TCP trunk completes a call too.
#[tokio::test]
async fn websocket_user_calls_through_a_tcp_trunk() {
    let (inv, bye, _) = call_through_stream_trunk("tcp", "127.0.0.1", "").await;
    let via = inv.header("Via").unwrap_or("");
    assert!(via.starts_with("SIP/2.0/TCP "), "Via transport TCP: {via}");
    assert_eq!(bye.call_id(), inv.call_id());
}

#[tokio::test]
async fn a_tls_trunk_with_an_untrusted_certificate_never_gets_the_invite() {
    let pki = Pki::new();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let trunk_addr = listener.local_addr().expect("addr");
    // No tls_ca: the webpki roots, which do not include the test CA.
    let trunk = format!(
        "[[trunks]]\nname = \"t1\"\nhost = \"{trunk_addr}\"\ntransport = \"tls\"\n\
         options_interval = 0\n"
    );
    let gw = start_tls_gateway(&pki, &trunk).await;
    let server = pki.server();
    let uas = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.expect("accept");
        // The gateway aborts the handshake when it sees the certificate.
        TlsAcceptor::from(server).accept(tcp).await.is_ok()
    });
    let mut alice = wss_phone(&gw, &pki, "alice", ALICE_PW, 33).await;
    let call = alice.call("sip:+15551234567@127.0.0.1");
    let started = Instant::now();
    let reason = alice.ended("the call fails", call).await;
    assert_eq!(reason, EndReason::Rejected(503));
    // The failed handshake fails the INVITE at once (a transport error is a 503, RFC 3261
    // §8.1.3.1), not after Timer B (64·T1 = 6.4 s here).
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "failed after {:?}",
        started.elapsed()
    );
    let handshake_ok = timeout(Duration::from_secs(5), uas)
        .await
        .expect("the trunk saw the connection")
        .expect("task");
    assert!(
        !handshake_ok,
        "the gateway refused the untrusted certificate"
    );
    alice.close().await;
    assert_clean(&gw).await;
    gw.shutdown().await;
}

/// The first trunk's certificate is refused; the call fails over to the second at once.
/// That one is reached with `tls_insecure_skip_verify` (the same untrusted certificate is
/// then accepted).
#[tokio::test]
async fn a_refused_tls_trunk_fails_over_at_once_and_skip_verify_accepts_the_certificate() {
    let pki = Pki::new();
    let l1 = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let l2 = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let (a1, a2) = (
        l1.local_addr().expect("addr"),
        l2.local_addr().expect("addr"),
    );
    let trunks = format!(
        "[[trunks]]\nname = \"t1\"\nhost = \"{a1}\"\ntransport = \"tls\"\noptions_interval = 0\n\
         [[trunks]]\nname = \"t2\"\nhost = \"{a2}\"\ntransport = \"tls\"\noptions_interval = 0\n\
         tls_insecure_skip_verify = true\n"
    );
    let gw = start_tls_gateway(&pki, &trunks).await;
    let server = pki.server();
    let refused = tokio::spawn(async move {
        let (tcp, _) = l1.accept().await.expect("accept");
        TlsAcceptor::from(server).accept(tcp).await.is_ok()
    });
    let uas = tokio::spawn(stream_uas(l2, Some(pki.server())));
    let mut alice = wss_phone(&gw, &pki, "alice", ALICE_PW, 34).await;
    let started = Instant::now();
    let call = alice.call_answered("sip:+15551234567@127.0.0.1").await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "failover took {:?} (Timer B is 6.4 s here)",
        started.elapsed()
    );
    alice.hangup(call);
    alice.pump(Duration::from_millis(300)).await;
    let (inv, _, _) = timeout(Duration::from_secs(10), uas)
        .await
        .expect("the second trunk finishes")
        .expect("task");
    assert!(
        inv.header("Via")
            .is_some_and(|v| v.starts_with("SIP/2.0/TLS "))
    );
    assert!(
        !timeout(Duration::from_secs(5), refused)
            .await
            .expect("the first trunk saw the connection")
            .expect("task"),
        "the first trunk's certificate was refused"
    );
    alice.close().await;
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    assert!(
        cdrs[0].b_leg.peer.starts_with("t2"),
        "{}",
        cdrs[0].b_leg.peer
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn a_missing_certificate_file_is_a_config_error_naming_the_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("missing-cert.pem");
    let toml = format!(
        "[http]\nlisten = \"127.0.0.1:0\"\ntls_cert = \"{m}\"\ntls_key = \"{m}\"\n\
         [sip]\nudp = \"127.0.0.1:0\"\ntcp = \"127.0.0.1:0\"\n",
        m = missing.display()
    );
    let cfg = Config::from_toml(&toml).expect("syntactically valid");
    let err = Gateway::start(
        cfg,
        Options {
            data_dir: Some(dir.path().join("data")),
            sip_t1: None,
        },
    )
    .await
    .err()
    .expect("the gateway refuses to start");
    match &err {
        StartError::Config(e) => {
            assert_eq!(e.key, "http.tls_cert", "{e}");
            assert!(e.message.contains("missing-cert.pem"), "{e}");
        }
        other => panic!("expected a config error, got {other}"),
    }
    // The binary reports it with exit status 2, already at `--check`.
    let file = dir.path().join("gw.toml");
    std::fs::write(&file, &toml).expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(["--check", "--config"])
        .arg(&file)
        .output()
        .expect("run gateway");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("http.tls_cert"), "{stderr}");
}
