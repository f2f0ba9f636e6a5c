//! Hold and unhold relayed across the anchored B2BUA (issue 5): a browser's hold
//! re-INVITE reaches the sipp trunk as a re-INVITE with `a=sendonly` (after glare: 491 and
//! the RFC 3261 §14.1 retry), a refused unhold keeps the call, and a trunk's hold reaches
//! the browser as a re-INVITE with `a=sendonly` and the same ICE credentials and DTLS
//! fingerprint as before; the answers come back with the mirrored direction. A browser's
//! UPDATE reaches a trunk as UPDATE only when the trunk's Allow lists it, else as re-INVITE.

mod signalling_util;

use std::time::Duration;

use rvoip_core::rand::SplitMix64;
use rvoip_core::sip::ua::{CallId, EndReason, Event, UaError, UserAgent};
use rvoip_core::time::Instant as TimeInstant;
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

/// One of the UA's ways to send a new offer in a call (`hold`, `unhold`, `update`).
type SendOffer = fn(&mut UserAgent<SplitMix64>, TimeInstant, CallId, &[u8]) -> Result<(), UaError>;

/// The browser sends its offer with direction `dir` and version `v` ([`browser_sdp`]) in
/// `call` with `send`; returns the outcome.
async fn reoffer(
    p: &mut Phone,
    call: CallId,
    send: SendOffer,
    (dir, v): (&str, u32),
) -> Result<String, u16> {
    let now = p.now();
    send(&mut p.ua, now, call, &browser_sdp(dir, v)).expect("the UA sends the offer");
    offer_outcome(p, call).await
}

/// The outcome of the browser's pending offer: `Ok(answer)` or `Err(status)`.
async fn offer_outcome(p: &mut Phone, call: CallId) -> Result<String, u16> {
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

/// A gateway whose trunk is sipp's UAS `scenario`, and alice (WebSocket, seed `seed`) in an
/// answered call to a number routed to it.
async fn call_to_sipp_uas(scenario: &str, seed: u64) -> (Gw, tokio::process::Child, Phone, CallId) {
    let port = free_udp_port();
    let gw = start_gateway(&format!("127.0.0.1:{port}"), "").await;
    let (sipp, alice, call) = alice_calls_sipp_uas(&gw, scenario, port, seed).await;
    (gw, sipp, alice, call)
}

/// A gateway, bob (WebSocket, seed `seed`) registered, and sipp's UAC `scenario` calling
/// bob's DID; bob answers with `a=sendrecv`. Returns the call and the offer bob received.
async fn call_from_sipp_uac(
    scenario: &str,
    seed: u64,
) -> (Gw, tokio::process::Child, Phone, CallId, String) {
    let port = free_udp_port();
    let gw = start_gateway(&format!("127.0.0.1:{port}"), "").await;
    let mut bob = Phone::connect(&gw, "bob", BOB_PW, seed).await;
    bob.register().await;
    let sipp = spawn_sipp_to_did(&gw, scenario, port);
    let (call, offer) = bob.incoming().await;
    let offer = String::from_utf8_lossy(&offer.expect("an offer")).to_string();
    let now = bob.now();
    bob.ua
        .answer(now, call, &browser_answer("a=sendrecv", 2))
        .expect("answer");
    (gw, sipp, bob, call, offer)
}

/// The trunk hangs up: `phone` gets its BYE, sipp succeeds and the gateway is clean.
async fn trunk_hangs_up(gw: Gw, mut phone: Phone, call: CallId, sipp: tokio::process::Child) {
    let reason = phone.ended("the trunk's BYE", call).await;
    assert_eq!(reason, EndReason::RemoteHangup);
    finish_with_sipp(&gw, &mut phone, sipp, Duration::from_millis(100)).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn browser_hold_reaches_the_trunk_after_glare_and_a_refused_unhold_keeps_the_call() {
    let (gw, sipp, mut alice, call) = call_to_sipp_uas("b2bua_hold_uas.xml", 41).await;

    // Hold: sipp checks a=sendonly, answers 491, then takes the retry (2.1–4 s later: the
    // gateway's B leg owns the Call-ID) and answers a=recvonly.
    let sent = Instant::now();
    let answer = reoffer(&mut alice, call, UserAgent::hold, ("a=sendonly", 3))
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
    let outcome = reoffer(&mut alice, call, UserAgent::unhold, ("a=sendrecv", 4)).await;
    assert_eq!(outcome, Err(488));
    assert_eq!(gw.stats().calls, 1, "a refused re-INVITE keeps the call");
    // Unhold again, by UPDATE this time: the trunk's Allow lacks UPDATE, so it gets a
    // re-INVITE; accepted, a=sendrecv both ways.
    let answer = reoffer(&mut alice, call, UserAgent::update, ("a=sendrecv", 5))
        .await
        .expect("the unhold is accepted");
    assert!(answer.contains("a=sendrecv"), "{answer}");

    alice.hangup(call);
    finish_with_sipp(&gw, &mut alice, sipp, Duration::from_millis(300)).await;
    assert_one_cdr(&gw, "normal: caller hung up");
    gw.shutdown().await;
}

#[tokio::test]
async fn browser_hold_by_update_reaches_a_trunk_that_allows_update_as_update() {
    let (gw, sipp, mut alice, call) = call_to_sipp_uas("b2bua_hold_update_uas.xml", 43).await;
    let answer = reoffer(&mut alice, call, UserAgent::update, ("a=sendonly", 3))
        .await
        .expect("the hold is accepted");
    assert!(answer.contains("a=recvonly"), "{answer}");
    alice.hangup(call);
    finish_with_sipp(&gw, &mut alice, sipp, Duration::from_millis(300)).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn trunk_hold_reaches_the_browser_as_a_reinvite_with_its_ice_and_dtls_unchanged() {
    let (gw, sipp, mut bob, call, offer) = call_from_sipp_uac("b2bua_hold_uac.xml", 42).await;
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
    trunk_hangs_up(gw, bob, call, sipp).await;
}

#[tokio::test]
async fn browser_on_the_b_leg_holds_and_the_calling_trunk_gets_the_reinvites() {
    let (gw, sipp, mut bob, call, offer) =
        call_from_sipp_uac("b2bua_held_by_browser_uac.xml", 44).await;
    bob.wait("the ACK", |e| {
        matches!(e, Event::Answered { call: c, .. } if *c == call).then_some(())
    })
    .await;
    for (v, (dir, expect)) in [("a=sendonly", "a=recvonly"), ("a=sendrecv", "a=sendrecv")]
        .into_iter()
        .enumerate()
    {
        let answer = reoffer(&mut bob, call, UserAgent::hold, (dir, 3 + v as u32))
            .await
            .expect("the trunk accepts");
        assert!(answer.contains(expect), "{answer}");
        for a in ["ice-ufrag", "fingerprint"] {
            assert_eq!(attr(&answer, a), attr(&offer, a), "{a} changed: {answer}");
        }
    }
    trunk_hangs_up(gw, bob, call, sipp).await;
}
