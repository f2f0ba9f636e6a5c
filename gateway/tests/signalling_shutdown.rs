//! The browsers' WebSockets on a graceful shutdown: every one gets a Close frame with 1001
//! (Going Away, RFC 6455 §7.4.1) once the gateway stops (SIP.js reports 1006, an abnormal
//! close, when the connection just drops), and a browser in a call gets the call's BYE
//! (after the grace period) before that Close.

mod signalling_util;

use std::time::Duration;

use rvoip_core::sip::ua::EndReason;
use signalling_util::*;
use tokio::time::Instant;

/// Pumps `phone` until the gateway's Close frame arrives (within `within`); its code.
async fn close_code(phone: &mut Phone, within: Duration) -> Option<u16> {
    let deadline = Instant::now() + within;
    while phone.closed.is_none() && Instant::now() < deadline {
        phone.pump(Duration::from_millis(20)).await;
    }
    phone.closed
}

#[tokio::test]
async fn shutdown_sends_bye_then_close_1001_on_every_websocket() {
    let trunk = RawTrunk::bind().await;
    let gw = start_gateway(&trunk.host(), "[limits]\nshutdown_grace_seconds = 1\n").await;
    // bob: registered, no call.
    let mut bob = Phone::connect(&gw, "bob", BOB_PW, 41).await;
    bob.register().await;
    // alice: in an answered call to the trunk.
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 42).await;
    let (call, _) = call_raw_trunk_answered(&mut alice, &trunk).await;
    let shutdown = gw.shutdown();
    let checks = async {
        let (bye, src) = trunk
            .recv_method("BYE", Duration::from_secs(3))
            .await
            .expect("BYE at the trunk");
        trunk.respond(&bye, src, 200, false).await;
        // The BYE reaches alice: a Close before it would stop her phone reading, and this
        // wait would time out.
        let reason = alice.ended("the gateway's BYE", call).await;
        assert_eq!(reason, EndReason::RemoteHangup);
        assert_eq!(alice.closed, None, "the BYE comes before the Close");
        let alice_code = close_code(&mut alice, Duration::from_secs(5)).await;
        let bob_code = close_code(&mut bob, Duration::from_secs(5)).await;
        (alice_code, bob_code)
    };
    let ((), (alice_code, bob_code)) = tokio::join!(shutdown, checks);
    assert_eq!(
        alice_code,
        Some(1001),
        "alice's WebSocket closes with Going Away"
    );
    assert_eq!(
        bob_code,
        Some(1001),
        "bob's WebSocket closes with Going Away"
    );
    assert_eq!(
        gw.stats().flows,
        0,
        "shutdown returns once the connections closed"
    );
}

#[tokio::test]
async fn shutdown_when_idle_closes_a_registered_websocket_with_1001() {
    let trunk = RawTrunk::bind().await;
    let gw = start_gateway(&trunk.host(), "").await;
    let mut bob = Phone::connect(&gw, "bob", BOB_PW, 43).await;
    bob.register().await;
    let (_, code) = tokio::join!(gw.shutdown(), close_code(&mut bob, Duration::from_secs(5)));
    assert_eq!(code, Some(1001));
}
