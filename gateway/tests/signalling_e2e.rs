//! End-to-end tests of the gateway's front door, all on 127.0.0.1 with ports picked free and
//! the gateway in-process on a temporary data directory: registration over WebSocket with
//! digest, the `sip` subprotocol, 407 before any trunk is reached, malformed SIP, the
//! per-source rate limit, SIP over TCP, trunk registration and keep-alive, call-task
//! supervision, the HTTP API and metrics. After every test the gateway's own counters must
//! show that no call, leg, task, route, flow or media port is left.

mod signalling_util;

use std::time::Duration;

use rvoip_core::rand::SplitMix64;
use rvoip_core::sip::ua::{EndReason, Event, RegistrationState, SipMsg};
use signalling_util::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

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
    // The bucket holds 20; a slow sender lets it refill a little during the burst.
    assert!((20..=40).contains(&ok), "{ok} accepted");
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
    // Another host (127.0.0.2: Linux routes all of 127/8 to loopback) is not affected.
    let ok_msg = "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2:9999;branch=z9hG4bKother\r\n\
Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: other-1\r\n\
CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    let other = UdpSocket::bind("127.0.0.2:0")
        .await
        .expect("bind 127.0.0.2");
    other.send_to(ok_msg.as_bytes(), dest).await.expect("send");
    let (n, _) = timeout(Duration::from_secs(2), other.recv_from(&mut buf))
        .await
        .expect("another host is answered")
        .expect("recv");
    assert_eq!(SipMsg::parse(&buf[..n]).expect("SIP").code(), Some(200));
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
    // The console app has its own login page.
    assert_eq!(http_get(gw.http_addr(), "/console", false).await.0, 303);
    assert_eq!(http_get(gw.http_addr(), "/console/app", false).await.0, 200);
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
