//! SIP INFO DTMF (application/dtmf-relay) arriving from a trunk, on either leg of a call:
//! sipp plays a trunk calling bob's DID (the trunk is the A leg), or answering alice's call
//! (the B leg); once the call is up the trunk sends two digits as INFO. The gateway answers
//! them, relays each to the browser (as INFO: the gateway relays signalling DTMF as
//! signalling), counts them as `rvoip_dtmf_relayed_total{from="trunk",method="info"}` and
//! records them on the call.

mod signalling_util;

use std::time::Duration;

use rvoip_core::sip::ua::{EndReason, Event};
use signalling_util::*;

/// Two digits counted as coming from the trunk by INFO, and none on another label.
async fn assert_counted_as_trunk_info(gw: &Gw) {
    let count = |from: &str, method: &str| {
        gw.metrics().get(
            "rvoip_dtmf_relayed_total",
            &[("from", from), ("method", method)],
        )
    };
    assert_eq!(count("trunk", "info"), 2.0);
    for (from, method) in [("sip", "info"), ("webrtc", "info"), ("trunk", "rfc4733")] {
        assert_eq!(count(from, method), 0.0, "{from} {method}");
    }
    let (_, metrics) = http_get(gw.http_addr(), "/metrics", false).await;
    assert!(
        metrics.contains("rvoip_dtmf_relayed_total{from=\"trunk\",method=\"info\"} 2\n"),
        "{metrics}"
    );
}

/// Collects the DTMF digits `call` receives until `call` ends; returns them and why it
/// ended. `hangup_after` digits, the phone hangs up.
async fn digits_until_end(
    phone: &mut Phone,
    call: rvoip_core::sip::ua::CallId,
    hangup_after: Option<usize>,
) -> (String, EndReason) {
    let mut digits = String::new();
    loop {
        let e = phone
            .wait("a digit or the end of the call", |e| match e {
                Event::DtmfReceived { call: c, digit, .. } if *c == call => Some(Ok(*digit)),
                Event::Ended { call: c, reason } if *c == call => Some(Err(*reason)),
                _ => None,
            })
            .await;
        match e {
            Ok(d) => {
                digits.push(d);
                if hangup_after == Some(digits.len()) {
                    phone.pump(Duration::from_millis(100)).await;
                    phone.hangup(call);
                }
            }
            Err(reason) => return (digits, reason),
        }
    }
}

#[tokio::test]
async fn info_dtmf_from_a_calling_trunk_reaches_the_browser_and_is_counted_as_trunk_info() {
    let port = free_udp_port();
    let gw = start_gateway(&format!("127.0.0.1:{port}"), "").await;
    let mut bob = Phone::connect(&gw, "bob", BOB_PW, 81).await;
    bob.register().await;
    let sipp = spawn_sipp_to_did(&gw, "trunk_info_dtmf_uac.xml", port);
    let (call, _) = bob.incoming().await;
    let now = bob.now();
    bob.ua.answer(now, call, WEBRTC_OFFER).expect("answer");

    let (digits, reason) = digits_until_end(&mut bob, call, None).await;
    assert_eq!(reason, EndReason::RemoteHangup);
    assert_eq!(digits, "7#", "bob got the trunk's digits, in order");
    bob.pump(Duration::from_millis(100)).await;
    sipp_ok(sipp).await;

    // Counted as coming from the trunk (the A leg of an inbound call), by INFO, and on no
    // other label.
    assert_counted_as_trunk_info(&gw).await;
    bob.close().await;
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    assert_eq!(cdrs[0].direction, "inbound");
    assert_eq!(cdrs[0].dtmf, "7#");
    gw.shutdown().await;
}

#[tokio::test]
async fn info_dtmf_from_an_answering_trunk_reaches_the_browser_and_is_counted_as_trunk_info() {
    let port = free_udp_port();
    let gw = start_gateway(&format!("127.0.0.1:{port}"), "").await;
    let (sipp, mut alice, call) =
        alice_calls_sipp_uas(&gw, "trunk_info_dtmf_uas.xml", port, 82).await;
    let (digits, reason) = digits_until_end(&mut alice, call, Some(2)).await;
    assert_eq!(reason, EndReason::LocalHangup);
    assert_eq!(digits, "4*", "alice got the trunk's digits, in order");
    alice.pump(Duration::from_millis(100)).await;
    sipp_ok(sipp).await;
    assert_counted_as_trunk_info(&gw).await;
    alice.close().await;
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1);
    assert_eq!(cdrs[0].direction, "outbound");
    assert_eq!(cdrs[0].dtmf, "4*");
    gw.shutdown().await;
}
