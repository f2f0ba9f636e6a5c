//! RFC 4028 session timers in the gateway (issue 5), with a test-only short interval
//! (`sip.session_expires = 4`, `sip.min_se = 2`): the trunk leg's INVITE offers
//! Session-Expires, honours a 422 with the trunk's Min-SE, and refreshes by UPDATE when the
//! trunk makes it the refresher; a trunk that takes the refresher role and never refreshes
//! gets a BYE when the session expires, the browser leg is hung up with it, and the call
//! record says `session_timer_expired`.

mod signalling_util;

use std::time::Duration;

use rvoip_core::sip::ua::{EndReason, Event};
use rvoip_gateway::config::Config;
use rvoip_gateway::server::{Gateway, Options};
use signalling_util::*;
use tokio::time::Instant;

/// A gateway with alice, `+1…` routed to the trunk at `trunk_host`, and session timers of
/// 4 s (Min-SE 2 s).
async fn start(trunk_host: &str) -> (Gateway, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
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
    (gw, dir)
}

async fn answered_call(gw: &Gateway, seed: u64) -> (Phone, rvoip_core::sip::ua::CallId) {
    let mut alice = Phone::connect(gw, "alice", ALICE_PW, seed).await;
    let call = alice.call("sip:+15551234567@127.0.0.1");
    alice
        .wait("answer", |e| {
            matches!(e, Event::Answered { call: c, .. } if *c == call).then_some(())
        })
        .await;
    (alice, call)
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
    let port = free_udp_port();
    let (gw, _dir) = start(&format!("127.0.0.1:{port}")).await;
    let sipp = spawn_sipp("b2bua_timer_refresh_uas.xml", port, &[]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (mut alice, call) = answered_call(&gw, 51).await;
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
    let now = alice.now();
    alice.ua.hangup(now, call).expect("hangup");
    alice.pump(Duration::from_millis(300)).await;
    sipp_ok(sipp).await;
    alice.close().await;
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    assert_eq!(cdrs[0].cause, "normal: caller hung up");
    gw.shutdown().await;
}

#[tokio::test]
async fn an_unrefreshed_trunk_session_expires_and_ends_both_legs() {
    let port = free_udp_port();
    let (gw, _dir) = start(&format!("127.0.0.1:{port}")).await;
    let sipp = spawn_sipp("b2bua_timer_expiry_uas.xml", port, &[]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (mut alice, call) = answered_call(&gw, 52).await;
    let answered = Instant::now();
    let reason = alice
        .wait("the BYE after the session expired", |e| match e {
            Event::Ended { call: c, reason } if *c == call => Some(*reason),
            _ => None,
        })
        .await;
    let waited = answered.elapsed();
    assert_eq!(reason, EndReason::RemoteHangup);
    // RFC 4028 §10: the non-refresher ends the session at 4 − 4/3 s, not before.
    assert!(
        waited >= Duration::from_millis(2500) && waited <= Duration::from_millis(4500),
        "{waited:?}"
    );
    alice.pump(Duration::from_millis(100)).await;
    sipp_ok(sipp).await;
    alice.close().await;
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    assert_eq!(cdrs[0].cause, "session_timer_expired");
    gw.shutdown().await;
}

#[tokio::test]
async fn an_unrefreshed_browser_session_expires_and_ends_both_legs() {
    let port = free_udp_port();
    let (gw, _dir) = start(&format!("127.0.0.1:{port}")).await;
    // A trunk without session timers: only the browser leg runs one (refresher: the
    // browser, which supports timers).
    let sipp = spawn_sipp("gateway_uas.xml", port, &[]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (mut alice, call) = answered_call(&gw, 53).await;
    // The browser stalls (no refresh at 2 s): the gateway ends its leg at 4 − 4/3 s and
    // the trunk's with it.
    tokio::time::sleep(Duration::from_millis(3600)).await;
    let reason = alice
        .wait("the BYE after the session expired", |e| match e {
            Event::Ended { call: c, reason } if *c == call => Some(*reason),
            _ => None,
        })
        .await;
    assert_eq!(reason, EndReason::RemoteHangup);
    alice.pump(Duration::from_millis(100)).await;
    sipp_ok(sipp).await;
    alice.close().await;
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    assert_eq!(cdrs[0].cause, "session_timer_expired");
    gw.shutdown().await;
}
