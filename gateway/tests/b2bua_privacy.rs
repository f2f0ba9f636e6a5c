//! Caller privacy through the B2BUA (RFC 3323, RFC 3325 §9.3). A browser that calls with an
//! anonymous From (as JsSIP's `call(…, { anonymous: true })` does: `"Anonymous"
//! <sip:anonymous@anonymous.invalid>` plus `Privacy: id`), authenticated as alice by digest,
//! reaches a registered callee as Anonymous, not as alice; through a trunk, the INVITE keeps
//! the trunk's caller-id (the carrier needs it) and adds `Privacy: id`. The call record keeps
//! alice. Before, the B leg's From named alice whatever the caller asked (found by the JsSIP
//! test, tests/thirdparty/5-refer-message.test.mjs).

mod signalling_util;

use std::time::Duration;

use rvoip_core::rand::SplitMix64;
use rvoip_core::sip::ua::{Event, Transport, UserAgent};
use signalling_util::*;

/// Alice's phone with an anonymous From (the digest user stays alice).
async fn anonymous_alice(gw: &Gw, seed: u64) -> Phone {
    let mut alice = Phone::connect(gw, "alice", ALICE_PW, seed).await;
    let mut cfg = phone_config(gw, "alice", ALICE_PW, seed, Transport::Ws);
    cfg.aor = "sip:anonymous@anonymous.invalid".into();
    cfg.display_name = Some("Anonymous".into());
    cfg.auth_user = "alice".into();
    cfg.advertised_host = Some(format!("ws{seed:06}.invalid"));
    alice.ua = UserAgent::new(cfg, SplitMix64::new(seed));
    alice
}

#[tokio::test]
async fn an_anonymous_caller_reaches_a_user_as_anonymous() {
    let gw = start_gateway("127.0.0.1:9", "").await;
    let mut bob = Phone::connect(&gw, "bob", BOB_PW, 41).await;
    bob.register().await;
    let mut alice = anonymous_alice(&gw, 42).await;
    let call = alice.call("sip:bob@127.0.0.1");
    let mut from = None;
    for _ in 0..100 {
        alice.pump(Duration::from_millis(20)).await;
        bob.pump(Duration::from_millis(20)).await;
        while let Some(e) = bob.events.pop_front() {
            if let Event::IncomingCall { from: f, .. } = e {
                from = Some(f);
            }
        }
        if from.is_some() {
            break;
        }
    }
    let from = from.expect("bob's phone rings");
    assert!(
        from.contains("anonymous@anonymous.invalid") && !from.contains("alice"),
        "bob sees {from}"
    );
    let (_, calls) = http_get(gw.http_addr(), "/api/calls", true).await;
    assert!(
        calls.contains("\"from\":\"alice\""),
        "the gateway still knows: {calls}"
    );
    let now = alice.now();
    alice.ua.hangup(now, call).expect("cancel");
    alice.pump(Duration::from_millis(200)).await;
    bob.pump(Duration::from_millis(200)).await;
    alice.close().await;
    bob.close().await;
    assert_clean(&gw).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn an_anonymous_caller_reaches_a_trunk_with_privacy_id() {
    let trunk = RawTrunk::bind().await;
    let gw = start_gateway(&trunk.host(), "").await;
    let mut alice = anonymous_alice(&gw, 43).await;
    let call = alice.call("sip:+15551234567@127.0.0.1");
    let mut invite = None;
    for _ in 0..50 {
        alice.pump(Duration::from_millis(20)).await;
        if let Some((m, src)) = trunk.recv_method("INVITE", Duration::from_millis(20)).await {
            invite = Some((m, src));
            break;
        }
    }
    let (inv, src) = invite.expect("the trunk gets the INVITE");
    assert_eq!(inv.header("Privacy"), Some("id"), "RFC 3325 §9.3");
    assert!(
        inv.header("P-Asserted-Identity")
            .is_some_and(|p| p.contains("sip:alice@")),
        "the trunk's caller-id rule still asserts the caller: {:?}",
        inv.header("P-Asserted-Identity")
    );
    assert!(
        inv.header("From").is_some_and(|f| f.contains("Anonymous")),
        "{:?}",
        inv.header("From")
    );
    trunk.respond(&inv, src, 486, false).await;
    alice
        .wait("the 486", |e| {
            matches!(e, Event::Ended { call: c, .. } if *c == call).then_some(())
        })
        .await;
    alice.close().await;
    assert_clean(&gw).await;
    gw.shutdown().await;
}
