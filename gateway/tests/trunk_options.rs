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
