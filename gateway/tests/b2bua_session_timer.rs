//! RFC 4028 session timers in the gateway (issue 5), with a test-only short interval
//! (`sip.session_expires = 4`, `sip.min_se = 2`): the trunk leg's INVITE offers
//! Session-Expires, honours a 422 with the trunk's Min-SE, and refreshes by UPDATE when the
//! trunk makes it the refresher; a trunk that takes the refresher role and never refreshes
//! gets a BYE when the session expires, the browser leg is hung up with it, and the call
//! record says `session_timer_expired`.

mod signalling_util;

use std::time::Duration;

use rvoip_core::sip::ua::{CallId, EndReason, Event};
use rvoip_gateway::config::Config;
use signalling_util::*;
use tokio::time::Instant;

/// A gateway with alice, `+1…` routed to the trunk at `trunk_host`, and session timers of
/// 4 s (Min-SE 2 s).
async fn start(trunk_host: &str) -> Gw {
    let toml = format!(
        r#"
[http]
listen = "127.0.0.1:0"
[sip]
udp = "127.0.0.1:0"
tcp = "127.0.0.1:0"
domain = "127.0.0.1"
session_expires = 4
min_se = 2
[admin]
password = "{ADMIN_PW}"
[[users]]
username = "alice"
password = "{ALICE_PW}"
[[trunks]]
name = "t1"
host = "{trunk_host}"
options_interval = 0
[[dialplan]]
pattern = "+1."
target = "trunk:t1"
"#
    );
    start_gateway_toml(&toml).await
}

/// A gateway whose trunk is sipp's UAS `scenario`, and alice (WebSocket, seed `seed`) in an
/// answered call to a number routed to it.
async fn call_to_sipp_uas(scenario: &str, seed: u64) -> (Gw, tokio::process::Child, Phone, CallId) {
    let port = free_udp_port();
    let gw = start(&format!("127.0.0.1:{port}")).await;
    let (sipp, alice, call) = alice_calls_sipp_uas(&gw, scenario, port, seed).await;
    (gw, sipp, alice, call)
}

#[test]
fn config_refuses_an_interval_below_min_se() {
    let e = Config::from_toml("[sip]\nsession_expires = 60\n").unwrap_err();
    assert!(e.to_string().contains("sip.session_expires"), "{e}");
    let c = Config::from_toml("[sip]\nsession_expires = 0\n").expect("0 turns timers off");
    assert_eq!((c.sip.session_expires, c.sip.min_se), (0, 90));
    let c = Config::from_toml("").expect("defaults");
    assert_eq!((c.sip.session_expires, c.sip.min_se), (1800, 90));
}

#[tokio::test]
async fn trunk_leg_offers_session_expires_honours_422_and_refreshes_by_update() {
    let (gw, sipp, mut alice, call) = call_to_sipp_uas("b2bua_timer_refresh_uas.xml", 51).await;
    // The gateway refreshes the 6 s session at 3 s; the browser refreshes its own leg
    // (refresher=uac there) every 2 s. The call survives both.
    alice.pump(Duration::from_millis(4000)).await;
    assert!(
        !alice
            .events
            .iter()
            .any(|e| matches!(e, Event::Ended { .. })),
        "{:?}",
        alice.events
    );
    alice.hangup(call);
    finish_with_sipp(&gw, &mut alice, sipp, Duration::from_millis(300)).await;
    assert_one_cdr(&gw, "normal: caller hung up");
    gw.shutdown().await;
}

#[tokio::test]
async fn an_unrefreshed_trunk_session_expires_and_ends_both_legs() {
    let (gw, sipp, mut alice, call) = call_to_sipp_uas("b2bua_timer_expiry_uas.xml", 52).await;
    let answered = Instant::now();
    let reason = alice.ended("the BYE after the session expired", call).await;
    let waited = answered.elapsed();
    assert_eq!(reason, EndReason::RemoteHangup);
    // RFC 4028 §10: the non-refresher ends the session at 4 − 4/3 s, not before.
    assert!(
        waited >= Duration::from_millis(2500) && waited <= Duration::from_millis(4500),
        "{waited:?}"
    );
    finish_with_sipp(&gw, &mut alice, sipp, Duration::from_millis(100)).await;
    assert_one_cdr(&gw, "session_timer_expired");
    gw.shutdown().await;
}

#[tokio::test]
async fn an_unrefreshed_browser_session_expires_and_ends_both_legs() {
    // A trunk without session timers: only the browser leg runs one (refresher: the
    // browser, which supports timers).
    let (gw, sipp, mut alice, call) = call_to_sipp_uas("gateway_uas.xml", 53).await;
    // The browser stalls (no refresh at 2 s): the gateway ends its leg at 4 − 4/3 s and
    // the trunk's with it.
    tokio::time::sleep(Duration::from_millis(3600)).await;
    let reason = alice.ended("the BYE after the session expired", call).await;
    assert_eq!(reason, EndReason::RemoteHangup);
    finish_with_sipp(&gw, &mut alice, sipp, Duration::from_millis(100)).await;
    assert_one_cdr(&gw, "session_timer_expired");
    gw.shutdown().await;
}
