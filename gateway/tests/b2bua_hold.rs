//! Hold and unhold relayed across the anchored B2BUA (issue 5): a browser's hold
//! re-INVITE reaches the sipp trunk as a re-INVITE with `a=sendonly` (after glare: 491 and
//! the RFC 3261 §14.1 retry), a refused unhold keeps the call, and a trunk's hold reaches
//! the browser as a re-INVITE with `a=sendonly` and the same ICE credentials and DTLS
//! fingerprint as before; the answers come back with the mirrored direction. A browser's
//! UPDATE reaches a trunk as UPDATE only when the trunk's Allow lists it, else as re-INVITE.

mod signalling_util;

use std::time::Duration;

use rvoip_core::sip::ua::{EndReason, Event};
use signalling_util::*;
use tokio::time::Instant;

/// The browser's offer with direction line `dir` and `o=` version `v`.
fn browser_sdp(dir: &str, v: u32) -> Vec<u8> {
    String::from_utf8_lossy(WEBRTC_OFFER)
        .replace("a=sendrecv", dir)
        .replace(" 2 IN IP4", &format!(" {v} IN IP4"))
        .into_bytes()
}

/// The browser's answer (DTLS client: `a=setup:active`) with direction `dir`, version `v`.
fn browser_answer(dir: &str, v: u32) -> Vec<u8> {
    String::from_utf8_lossy(&browser_sdp(dir, v))
        .replace("a=setup:actpass", "a=setup:active")
        .into_bytes()
}

fn attr<'a>(sdp: &'a str, name: &str) -> Option<&'a str> {
    sdp.lines()
        .find_map(|l| l.strip_prefix(&format!("a={name}:")))
        .map(str::trim)
}

/// The outcome of the browser's pending offer: `Ok(answer)` or `Err(status)`.
async fn offer_outcome(p: &mut Phone, call: rvoip_core::sip::ua::CallId) -> Result<String, u16> {
    p.wait("the re-INVITE's outcome", |e| match e {
        Event::MediaUpdated { call: c, sdp } if *c == call => Some(Ok(String::from_utf8_lossy(
            sdp.as_deref().unwrap_or_default(),
        )
        .to_string())),
        Event::OfferRejected { call: c, code } if *c == call => Some(Err(*code)),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn browser_hold_reaches_the_trunk_after_glare_and_a_refused_unhold_keeps_the_call() {
    let port = free_udp_port();
    let gw = start_gateway(&format!("127.0.0.1:{port}"), "").await;
    let sipp = spawn_sipp("b2bua_hold_uas.xml", port, &[]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 41).await;
    let call = alice.call("sip:+15551234567@127.0.0.1");
    alice
        .wait("answer", |e| {
            matches!(e, Event::Answered { call: c, .. } if *c == call).then_some(())
        })
        .await;

    // Hold: sipp checks a=sendonly, answers 491, then takes the retry (2.1–4 s later: the
    // gateway's B leg owns the Call-ID) and answers a=recvonly.
    let now = alice.now();
    let sent = Instant::now();
    alice
        .ua
        .hold(now, call, &browser_sdp("a=sendonly", 3))
        .expect("hold");
    let answer = offer_outcome(&mut alice, call)
        .await
        .expect("the hold is accepted");
    let waited = sent.elapsed();
    assert!(
        waited >= Duration::from_millis(2100),
        "the relayed re-INVITE was retried after glare too early: {waited:?}"
    );
    assert!(
        answer.contains("a=recvonly") && answer.contains("a=ice-lite"),
        "{answer}"
    );
    // Unhold refused by the trunk (488): the browser gets 488, the call stays up.
    let now = alice.now();
    alice
        .ua
        .unhold(now, call, &browser_sdp("a=sendrecv", 4))
        .expect("unhold");
    assert_eq!(offer_outcome(&mut alice, call).await, Err(488));
    assert_eq!(gw.stats().calls, 1, "a refused re-INVITE keeps the call");
    // Unhold again, by UPDATE this time: the trunk's Allow lacks UPDATE, so it gets a
    // re-INVITE; accepted, a=sendrecv both ways.
    let now = alice.now();
    alice
        .ua
        .update(now, call, &browser_sdp("a=sendrecv", 5))
        .expect("unhold again");
    let answer = offer_outcome(&mut alice, call)
        .await
        .expect("the unhold is accepted");
    assert!(answer.contains("a=sendrecv"), "{answer}");

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
async fn browser_hold_by_update_reaches_a_trunk_that_allows_update_as_update() {
    let port = free_udp_port();
    let gw = start_gateway(&format!("127.0.0.1:{port}"), "").await;
    let sipp = spawn_sipp("b2bua_hold_update_uas.xml", port, &[]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 43).await;
    let call = alice.call("sip:+15551234567@127.0.0.1");
    alice
        .wait("answer", |e| {
            matches!(e, Event::Answered { call: c, .. } if *c == call).then_some(())
        })
        .await;
    let now = alice.now();
    alice
        .ua
        .update(now, call, &browser_sdp("a=sendonly", 3))
        .expect("hold by UPDATE");
    let answer = offer_outcome(&mut alice, call)
        .await
        .expect("the hold is accepted");
    assert!(answer.contains("a=recvonly"), "{answer}");
    let now = alice.now();
    alice.ua.hangup(now, call).expect("hangup");
    alice.pump(Duration::from_millis(300)).await;
    sipp_ok(sipp).await;
    alice.close().await;
    assert_clean(&gw).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn trunk_hold_reaches_the_browser_as_a_reinvite_with_its_ice_and_dtls_unchanged() {
    let port = free_udp_port();
    let gw = start_gateway(&format!("127.0.0.1:{port}"), "").await;
    let mut bob = Phone::connect(&gw, "bob", BOB_PW, 42).await;
    bob.register().await;
    let target = gw.udp_addr().expect("udp").to_string();
    let sipp = spawn_sipp(
        "b2bua_hold_uac.xml",
        port,
        &["-s".into(), DID.into(), target],
    );
    let (call, offer) = bob
        .wait("the incoming call", |e| match e {
            Event::IncomingCall { call, sdp, .. } => Some((*call, sdp.clone())),
            _ => None,
        })
        .await;
    let offer = String::from_utf8_lossy(&offer.expect("an offer")).to_string();
    let now = bob.now();
    bob.ua
        .answer(now, call, &browser_answer("a=sendrecv", 2))
        .expect("answer");
    for (v, (offered, answered)) in [("a=sendonly", "a=recvonly"), ("a=sendrecv", "a=sendrecv")]
        .into_iter()
        .enumerate()
    {
        let reoffer = bob
            .wait("the relayed re-offer", |e| match e {
                Event::OfferReceived { call: c, sdp } if *c == call => sdp.clone(),
                _ => None,
            })
            .await;
        let reoffer = String::from_utf8_lossy(&reoffer).to_string();
        assert!(reoffer.contains(offered), "{reoffer}");
        for a in ["ice-ufrag", "ice-pwd", "fingerprint"] {
            assert_eq!(attr(&reoffer, a), attr(&offer, a), "{a} changed: {reoffer}");
            assert!(attr(&reoffer, a).is_some(), "{a} missing: {reoffer}");
        }
        let now = bob.now();
        bob.ua
            .answer(now, call, &browser_answer(answered, 3 + v as u32))
            .expect("answer the re-offer");
    }
    let reason = bob
        .wait("the trunk's BYE", |e| match e {
            Event::Ended { call: c, reason } if *c == call => Some(*reason),
            _ => None,
        })
        .await;
    assert_eq!(reason, EndReason::RemoteHangup);
    bob.pump(Duration::from_millis(100)).await;
    sipp_ok(sipp).await;
    bob.close().await;
    assert_clean(&gw).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn browser_on_the_b_leg_holds_and_the_calling_trunk_gets_the_reinvites() {
    let port = free_udp_port();
    let gw = start_gateway(&format!("127.0.0.1:{port}"), "").await;
    let mut bob = Phone::connect(&gw, "bob", BOB_PW, 44).await;
    bob.register().await;
    let target = gw.udp_addr().expect("udp").to_string();
    let sipp = spawn_sipp(
        "b2bua_held_by_browser_uac.xml",
        port,
        &["-s".into(), DID.into(), target],
    );
    let (call, offer) = bob
        .wait("the incoming call", |e| match e {
            Event::IncomingCall { call, sdp, .. } => Some((*call, sdp.clone())),
            _ => None,
        })
        .await;
    let offer = String::from_utf8_lossy(&offer.expect("an offer")).to_string();
    let now = bob.now();
    bob.ua
        .answer(now, call, &browser_answer("a=sendrecv", 2))
        .expect("answer");
    bob.wait("the ACK", |e| {
        matches!(e, Event::Answered { call: c, .. } if *c == call).then_some(())
    })
    .await;
    for (v, (dir, expect)) in [("a=sendonly", "a=recvonly"), ("a=sendrecv", "a=sendrecv")]
        .into_iter()
        .enumerate()
    {
        let now = bob.now();
        bob.ua
            .hold(now, call, &browser_sdp(dir, 3 + v as u32))
            .expect("re-INVITE");
        let answer = offer_outcome(&mut bob, call)
            .await
            .expect("the trunk accepts");
        assert!(answer.contains(expect), "{answer}");
        for a in ["ice-ufrag", "fingerprint"] {
            assert_eq!(attr(&answer, a), attr(&offer, a), "{a} changed: {answer}");
        }
    }
    let reason = bob
        .wait("the trunk's BYE", |e| match e {
            Event::Ended { call: c, reason } if *c == call => Some(*reason),
            _ => None,
        })
        .await;
    assert_eq!(reason, EndReason::RemoteHangup);
    bob.pump(Duration::from_millis(100)).await;
    sipp_ok(sipp).await;
    bob.close().await;
    assert_clean(&gw).await;
    gw.shutdown().await;
}
