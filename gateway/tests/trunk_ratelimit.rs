//! The per-source rate limit over real sockets: a source is a host (IP), not a socket, so a
//! flood from one host over many source ports is limited as one source; trunks are exempt
//! and a digest-authenticated WebSocket connection has a budget of its own, while an
//! unauthenticated one counts against its host.

mod signalling_util;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rvoip_core::sip::ua::{Event, RegistrationState, SipMsg};
use signalling_util::*;
use tokio::net::UdpSocket;
use tokio::time::timeout;

fn options(call_id: &str, via_host: &str) -> String {
    format!(
        "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {via_host};branch=z9hG4bK{call_id}\r\n\
Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: {call_id}\r\n\
CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    )
}

/// The status codes answered to `sock` until it stays silent for 500 ms.
async fn drain(sock: &UdpSocket) -> Vec<u16> {
    let mut buf = vec![0u8; 65_535];
    let mut codes = Vec::new();
    while let Ok(Ok((n, _))) = timeout(Duration::from_millis(500), sock.recv_from(&mut buf)).await {
        codes.push(
            SipMsg::parse(&buf[..n])
                .ok()
                .and_then(|m| m.code())
                .expect("a SIP response"),
        );
    }
    codes
}

#[tokio::test]
async fn a_flood_from_many_ports_of_one_host_is_limited_as_one_source() {
    let gw = start_gateway(
        "127.0.0.1:9",
        "[limits]\nrequests_per_second_per_source = 20\n",
    )
    .await;
    let dest = gw.udp_addr().expect("udp");
    let mut socks = Vec::new();
    for _ in 0..10 {
        socks.push(UdpSocket::bind("127.0.0.1:0").await.expect("bind"));
    }
    // 200 requests, 20 from each of 10 ports: each port alone is within the limit.
    for i in 0..20 {
        for (p, s) in socks.iter().enumerate() {
            let m = options(&format!("ports-{p}-{i}"), "127.0.0.1:9999");
            s.send_to(m.as_bytes(), dest).await.expect("send");
        }
    }
    let (mut ok, mut busy) = (0, 0);
    for s in &socks {
        for code in drain(s).await {
            match code {
                200 => ok += 1,
                503 => busy += 1,
                other => panic!("unexpected {other}"),
            }
        }
    }
    // One bucket of 20 for the host (a little refill while the burst is sent).
    assert!(
        (20..=40).contains(&ok),
        "{ok} accepted of 200 from one host"
    );
    // One 503 per second for the whole host, not one per port.
    assert!((1..=3).contains(&busy), "{busy} answered 503");
    let limited = gw.metrics().get("rvoip_rate_limited_total", &[]);
    let received = gw
        .metrics()
        .get("rvoip_sip_requests_total", &[("method", "OPTIONS")]);
    assert_eq!(limited + f64::from(ok), received, "{limited} of {received}");
    assert!(limited >= 100.0, "{limited} limited");
    // Another host is not affected (Linux routes all of 127/8 to loopback).
    let other = UdpSocket::bind("127.0.0.2:0")
        .await
        .expect("bind 127.0.0.2");
    other
        .send_to(options("other-host", "127.0.0.2:9999").as_bytes(), dest)
        .await
        .expect("send");
    assert_eq!(drain(&other).await, vec![200]);
    assert_clean(&gw).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn trunks_and_authenticated_connections_keep_their_budget_during_a_flood() {
    let trunk = RawTrunk::bind().await;
    let gw = start_gateway(
        &trunk.host(),
        "[limits]\nrequests_per_second_per_source = 10\n",
    )
    .await;
    let dest = gw.udp_addr().expect("udp");
    let mut bob = Phone::connect(&gw, "bob", BOB_PW, 31).await;
    bob.register().await;

    // A flood from 127.0.0.1 (500 requests/s) keeps the host's bucket empty.
    let flooding = Arc::new(AtomicBool::new(true));
    let flood = {
        let flooding = flooding.clone();
        tokio::spawn(async move {
            let s = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
            let mut i = 0u32;
            while flooding.load(Ordering::SeqCst) {
                let m = options(&format!("flood-{i}"), "127.0.0.1:9999");
                let _ = s.send_to(m.as_bytes(), dest).await;
                i += 1;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let probe = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    for i in 0..5 {
        probe
            .send_to(
                options(&format!("probe-{i}"), "127.0.0.1:9999").as_bytes(),
                dest,
            )
            .await
            .expect("send");
    }
    let probed = drain(&probe).await;
    assert!(
        !probed.contains(&200),
        "the flooding host is limited on every port: {probed:?}"
    );

    // Bob's connection authenticated: it refreshes its registration through the flood.
    bob.register().await;

    // Alice's connection has not authenticated: it shares the flooding host's budget.
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 32).await;
    let now = alice.now();
    alice.ua.register(now).expect("register");
    alice.pump(Duration::from_millis(1500)).await;
    let registered = alice
        .events
        .iter()
        .any(|e| matches!(e, Event::Registration(RegistrationState::Registered { .. })));
    assert!(!registered, "an unauthenticated connection is host-limited");

    // The trunk is trusted by address: 30 requests in a burst are all served.
    for i in 0..30 {
        trunk
            .sock
            .send_to(
                options(&format!("trunk-{i}"), &trunk.host()).as_bytes(),
                dest,
            )
            .await
            .expect("send");
    }
    let codes = drain(&trunk.sock).await;
    assert_eq!(codes, vec![200; 30], "the trunk is not limited");

    flooding.store(false, Ordering::SeqCst);
    flood.await.expect("flood task");
    assert!(gw.metrics().get("rvoip_rate_limited_total", &[]) >= 100.0);
    alice.close().await;
    bob.close().await;
    assert_clean(&gw).await;
    gw.shutdown().await;
}
