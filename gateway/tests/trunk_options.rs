//! The trunk manager's OPTIONS keep-alive (RFC 3261 §11) end to end: a fake trunk (a UDP
//! socket on 127.0.0.1) answers the gateway's keep-alives with a status code the test
//! chooses, or not at all, and `/api/trunks` must show that code (or `timeout`), when it
//! was received, the round-trip time, and the up/down verdict it implies (any final
//! response but 408/503/504 is up; a timeout is down).

mod signalling_util;

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;
use signalling_util::*;
use tokio::time::{Instant, timeout};

/// A trunk that answers every OPTIONS with the code in `code` (0: stays silent), after a
/// 100 Trying (a provisional response must not end the keep-alive). Counts the OPTIONS.
fn answer_options(
    trunk: RawTrunk,
    code: Arc<AtomicU16>,
    seen: Arc<AtomicUsize>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let Some((m, src)) = trunk
                .recv_method("OPTIONS", Duration::from_secs(3600))
                .await
            else {
                return;
            };
            seen.fetch_add(1, Ordering::SeqCst);
            let c = code.load(Ordering::SeqCst);
            if c != 0 {
                trunk.respond(&m, src, 100, false).await;
                trunk.respond(&m, src, c, false).await;
            }
        }
    })
}

fn trunk_toml(name: &str, host: &str) -> String {
    format!("[[trunks]]\nname = \"{name}\"\nhost = \"{host}\"\noptions_interval = 1\n")
}

/// The `/api/trunks` entry of trunk `name`.
async fn trunk_view(gw: &Gw, name: &str) -> Value {
    let (status, body) = http_get(gw.http_addr(), "/api/trunks", true).await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).expect("/api/trunks is JSON");
    v.as_array()
        .and_then(|a| a.iter().find(|t| t["name"] == name))
        .unwrap_or_else(|| panic!("trunk {name} listed: {body}"))
        .clone()
}

/// Polls `/api/trunks` until trunk `name`'s view satisfies `f` (within `within`).
async fn wait_view(gw: &Gw, name: &str, within: Duration, f: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let v = trunk_view(gw, name).await;
        if f(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "trunk {name} never matched: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn epoch_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

#[tokio::test]
async fn last_options_code_rtt_and_up_down_follow_the_trunks_answers() {
    let trunk = RawTrunk::bind().await;
    let host = trunk.host();
    let code = Arc::new(AtomicU16::new(200));
    let seen = Arc::new(AtomicUsize::new(0));
    let gw = start_gateway("127.0.0.1:9", &trunk_toml("prov", &host)).await;
    let before = epoch_ms();
    let responder = answer_options(trunk, code.clone(), seen.clone());

    // A trunk without keep-alive has no result and says so.
    let t1 = trunk_view(&gw, "t1").await;
    assert!(
        t1["last_options"].is_null() && t1["options_interval"] == 0,
        "{t1}"
    );

    // 200: up, with the code, a timestamp and a round-trip time.
    let v = wait_view(&gw, "prov", Duration::from_secs(5), |v| {
        v["last_options"]["code"] == 200
    })
    .await;
    let o = &v["last_options"];
    assert_eq!(o["outcome"], "response", "{v}");
    assert_eq!(v["up"], true, "{v}");
    assert_eq!(v["options_interval"], 1, "{v}");
    // By now every trunk task runs: t1 (no keep-alive) is up in the metrics too.
    assert_eq!(gw.metrics().get("rvoip_trunk_up", &[("trunk", "t1")]), 1.0);
    let at = o["at_ms"].as_i64().expect("at_ms");
    assert!(
        at >= before && at <= epoch_ms(),
        "{at} not in [{before}, now]"
    );
    let rtt = o["rtt_ms"].as_f64().expect("rtt_ms");
    assert!((0.0..1000.0).contains(&rtt), "loopback round trip {rtt} ms");

    // 503 Service Unavailable: down, code shown.
    code.store(503, Ordering::SeqCst);
    let v = wait_view(&gw, "prov", Duration::from_secs(5), |v| {
        v["last_options"]["code"] == 503
    })
    .await;
    assert_eq!(v["up"], false, "{v}");
    assert_eq!(v["last_options"]["outcome"], "response", "{v}");
    let at_503 = v["last_options"]["at_ms"].as_i64().expect("at_ms");
    assert!(at_503 >= at, "{at_503} < {at}");

    // 404 still proves a live SIP server: up again.
    code.store(404, Ordering::SeqCst);
    let v = wait_view(&gw, "prov", Duration::from_secs(5), |v| {
        v["last_options"]["code"] == 404
    })
    .await;
    assert_eq!(v["up"], true, "{v}");

    // The metrics count each result by code and carry the state.
    let m = gw.metrics();
    for code in ["200", "503"] {
        assert!(
            m.get(
                "rvoip_trunk_options_total",
                &[("trunk", "prov"), ("result", code)]
            ) >= 1.0,
            "no {code} counted"
        );
    }
    assert_eq!(m.get("rvoip_trunk_up", &[("trunk", "prov")]), 1.0);
    let (_, text) = http_get(gw.http_addr(), "/metrics", false).await;
    assert!(
        text.contains("rvoip_trunk_options_total{trunk=\"prov\",result=\"404\"}"),
        "{text}"
    );

    // Silence: after Timer F (64·T1 = 6.4 s here) the keep-alive times out: down.
    code.store(0, Ordering::SeqCst);
    let v = wait_view(&gw, "prov", Duration::from_secs(12), |v| {
        v["last_options"]["outcome"] == "timeout"
    })
    .await;
    assert_eq!(v["up"], false, "{v}");
    assert!(
        v["last_options"]["code"].is_null() && v["last_options"]["rtt_ms"].is_null(),
        "{v}"
    );
    assert_eq!(
        gw.metrics().get("rvoip_trunk_up", &[("trunk", "prov")]),
        0.0
    );
    assert!(
        gw.metrics().get(
            "rvoip_trunk_options_total",
            &[("trunk", "prov"), ("result", "timeout")]
        ) >= 1.0
    );
    // The OPTIONS was retransmitted while the trunk stayed silent (Timer E over UDP).
    assert!(seen.load(Ordering::SeqCst) >= 5, "{seen:?} OPTIONS seen");
    responder.abort();
    gw.shutdown().await;
}

#[tokio::test]
async fn a_trunk_that_never_answers_times_out_and_is_down() {
    let trunk = RawTrunk::bind().await;
    let host = trunk.host();
    let seen = Arc::new(AtomicUsize::new(0));
    let gw = start_gateway("127.0.0.1:9", &trunk_toml("mute", &host)).await;
    // Before the first keep-alive ends the trunk is assumed up, with no result yet.
    let v = trunk_view(&gw, "mute").await;
    assert!(v["last_options"].is_null() && v["up"] == true, "{v}");
    let responder = answer_options(trunk, Arc::new(AtomicU16::new(0)), seen.clone());
    let v = timeout(
        Duration::from_secs(15),
        wait_view(&gw, "mute", Duration::from_secs(15), |v| {
            !v["last_options"].is_null()
        }),
    )
    .await
    .expect("a keep-alive result");
    assert_eq!(v["last_options"]["outcome"], "timeout", "{v}");
    assert!(v["last_options"]["code"].is_null(), "{v}");
    assert!(v["last_options"]["at_ms"].as_i64().is_some(), "{v}");
    assert_eq!(v["up"], false, "{v}");
    assert!(seen.load(Ordering::SeqCst) >= 2, "retransmitted");
    responder.abort();
    gw.shutdown().await;
}

#[tokio::test]
async fn keepalive_over_tcp_reuses_one_connection_and_records_the_code() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let host = listener.local_addr().expect("addr").to_string();
    let connections = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(AtomicUsize::new(0));
    // A TCP trunk answering each OPTIONS with 200 on the connection it came over.
    let trunk = {
        let (connections, seen) = (connections.clone(), seen.clone());
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                connections.fetch_add(1, Ordering::SeqCst);
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut pending = Vec::new();
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 {
                            return;
                        }
                        pending.extend_from_slice(&buf[..n]);
                        // Keep-alive OPTIONS carry no body: a message ends at the blank line.
                        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                            let msg: Vec<u8> = pending.drain(..end + 4).collect();
                            let Ok(m) = rvoip_core::sip::ua::SipMsg::parse(&msg) else {
                                continue;
                            };
                            if m.method().is_some_and(|x| x.as_str() == "OPTIONS") {
                                seen.fetch_add(1, Ordering::SeqCst);
                                let r = rvoip_core::sip::ua::response(&m, 200, Some("tcp"));
                                if s.write_all(&r.to_bytes()).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                });
            }
        })
    };
    let gw = start_gateway(
        "127.0.0.1:9",
        &format!("{}transport = \"tcp\"\n", trunk_toml("tcpt", &host)),
    )
    .await;
    let v = wait_view(&gw, "tcpt", Duration::from_secs(5), |v| {
        v["last_options"]["code"] == 200
    })
    .await;
    assert_eq!(v["transport"], "tcp", "{v}");
    assert_eq!(v["up"], true, "{v}");
    // Two more keep-alives, on the same connection.
    let deadline = Instant::now() + Duration::from_secs(5);
    while seen.load(Ordering::SeqCst) < 3 {
        assert!(Instant::now() < deadline, "{seen:?} OPTIONS over TCP");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        connections.load(Ordering::SeqCst),
        1,
        "the keep-alives share one TCP connection"
    );
    trunk.abort();
    gw.shutdown().await;
}

#[tokio::test]
async fn a_refused_tcp_connection_marks_the_trunk_down_without_waiting_for_timer_f() {
    // A port nobody listens on: the gateway's connection is refused at once.
    let closed = format!("127.0.0.1:{}", free_tcp_port());
    let gw = start_gateway(
        "127.0.0.1:9",
        &format!("{}transport = \"tcp\"\n", trunk_toml("gone", &closed)),
    )
    .await;
    let t0 = Instant::now();
    // Timer F is 6.4 s here: the transport error must be seen well before.
    let v = wait_view(&gw, "gone", Duration::from_secs(3), |v| {
        v["last_options"]["outcome"] == "timeout"
    })
    .await;
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    assert_eq!(v["up"], false, "{v}");
    assert!(v["last_options"]["code"].is_null(), "{v}");
    gw.shutdown().await;
}
