//! Requests inside a call that the B2BUA does not carry to the other leg are refused, not
//! swallowed: a browser's REFER (RFC 3515 blind transfer, as JsSIP's and SIP.js's
//! `session.refer()` send it) gets 405 with the methods a call leg takes, the callee never
//! sees it, and the call goes on. Before, the leg's UA answered 202 and a NOTIFY
//! `100 Trying`, then the transfer silently never happened (found by the JsSIP test,
//! tests/thirdparty/5-refer-message.test.mjs). Out of a dialog, a MESSAGE gets 405 whose
//! Allow no longer lists MESSAGE. Nor do the call legs advertise what they refuse: the
//! INVITE to a trunk and the 2xx to the browser carry the gateway's Allow, without REFER,
//! MESSAGE and NOTIFY (the legs' core UA lists them by default).

mod signalling_util;

use std::time::Duration;

use rvoip_core::sip::ua::{EndReason, Event};
use signalling_util::*;

#[tokio::test]
async fn a_refer_in_a_call_is_refused_with_405_and_the_call_goes_on() {
    let gw = start_gateway("127.0.0.1:9", "").await;
    let mut bob = Phone::connect(&gw, "bob", BOB_PW, 31).await;
    bob.register().await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 32).await;
    let call = alice.call("sip:bob@127.0.0.1");
    let (bcall, _) = {
        // Alice's INVITE reaches bob while alice's phone keeps pumping its side.
        let mut got = None;
        for _ in 0..100 {
            alice.pump(Duration::from_millis(20)).await;
            bob.pump(Duration::from_millis(20)).await;
            while let Some(e) = bob.events.pop_front() {
                if let Event::IncomingCall { call, sdp, .. } = e {
                    got = Some((call, sdp));
                }
            }
            if got.is_some() {
                break;
            }
        }
        got.expect("bob's phone rings")
    };
    let now = bob.now();
    bob.ua.answer(now, bcall, WEBRTC_OFFER).expect("answer");
    bob.pump(Duration::from_millis(100)).await;
    alice
        .wait("the answer", |e| {
            matches!(e, Event::Answered { call: c, .. } if *c == call).then_some(())
        })
        .await;

    // Alice transfers bob to the echo extension: refused, with the reason.
    let now = alice.now();
    alice
        .ua
        .transfer(now, call, "sip:600@127.0.0.1")
        .expect("REFER sent");
    let code = alice
        .wait("the REFER's outcome", |e| match e {
            Event::TransferProgress { call: c, code } if *c == call => Some(*code),
            _ => None,
        })
        .await;
    assert_eq!(code, 405, "the gateway refuses the REFER it cannot carry");
    bob.pump(Duration::from_millis(300)).await;
    assert!(
        !bob.events
            .iter()
            .any(|e| matches!(e, Event::TransferRequested { .. })),
        "the REFER does not reach bob: {:?}",
        bob.events
    );

    // The call is unharmed: alice hangs up, bob gets the BYE.
    alice.hangup(call);
    alice.pump(Duration::from_millis(100)).await;
    assert_eq!(
        bob.ended("the BYE", bcall).await,
        EndReason::RemoteHangup,
        "the call was still up after the refused REFER"
    );
    alice.close().await;
    bob.close().await;
    assert_clean(&gw).await;
    gw.shutdown().await;
}

#[tokio::test]
async fn a_message_out_of_a_dialog_gets_405_without_message_in_allow() {
    let gw = start_gateway("127.0.0.1:9", "").await;
    let msg = "MESSAGE sip:bob@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-msg-1\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:alice@127.0.0.1>;tag=a1\r\n\
         To: <sip:bob@127.0.0.1>\r\n\
         Call-ID: msg-1@127.0.0.1\r\n\
         CSeq: 1 MESSAGE\r\n\
         Content-Type: text/plain\r\n\
         Content-Length: 5\r\n\r\nhello";
    let r = raw_sip(&gw, msg).await.expect("a response");
    assert_eq!(r.code(), Some(405));
    let allow = r.header("Allow").expect("405 carries Allow").to_string();
    assert!(
        allow.contains("INVITE") && !allow.contains("MESSAGE") && !allow.contains("REFER"),
        "{allow}"
    );
    gw.shutdown().await;
}

/// The Allow header of a message: its methods, upper-case.
fn allow_of(m: &rvoip_core::sip::ua::SipMsg) -> Vec<String> {
    let allow = m.header("Allow").expect("the message carries Allow");
    allow
        .split(',')
        .map(|t| t.trim().to_ascii_uppercase())
        .collect()
}

fn assert_no_refused_methods(what: &str, allow: &[String]) {
    for method in ["INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "UPDATE"] {
        assert!(
            allow.iter().any(|m| m == method),
            "{what}: {method} in {allow:?}"
        );
    }
    for method in ["REFER", "MESSAGE", "NOTIFY"] {
        assert!(
            !allow.iter().any(|m| m == method),
            "{what} advertises {method}, which the gateway refuses: {allow:?}"
        );
    }
}

#[tokio::test]
async fn call_legs_do_not_advertise_refer_message_or_notify() {
    let trunk = RawTrunk::bind().await;
    let gw = start_gateway(&trunk.host(), "").await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 33).await;
    let (call, inv) = call_raw_trunk_answered(&mut alice, &trunk).await;
    assert_no_refused_methods("the trunk leg's INVITE", &allow_of(&inv));
    let ok = alice
        .received
        .iter()
        .filter_map(|b| rvoip_core::sip::ua::SipMsg::parse(b).ok())
        .find(|m| m.code() == Some(200) && m.header("CSeq").is_some_and(|c| c.ends_with("INVITE")))
        .expect("alice got the 200 to her INVITE");
    assert_no_refused_methods("the browser leg's 200", &allow_of(&ok));
    alice.hangup(call);
    alice.pump(Duration::from_millis(100)).await;
    if let Some((bye, src)) = trunk.recv_method("BYE", Duration::from_secs(3)).await {
        trunk.respond(&bye, src, 200, false).await;
    }
    alice.close().await;
    gw.shutdown().await;
}
