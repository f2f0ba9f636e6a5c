//! The flow index (RFC 5626 flows, `sip::transport::FlowWatchers`): a closing WebSocket
//! reaches only the calls on it. Two browsers each call a raw UDP trunk; closing one
//! WebSocket ends its call (BYE to the trunk, ports freed) while the other call keeps its
//! dialog and media ports, and its index entries go when it ends normally.

mod signalling_util;

use std::net::SocketAddr;
use std::time::Duration;

use rvoip_core::sip::ua::{EndReason, Event, SipMsg};
use signalling_util::*;
use tokio::time::Instant;

/// The trunk answers one INVITE (180, 200 with SDP) and waits for the ACK; returns the
/// INVITE with its source.
async fn answer_one(trunk: &RawTrunk) -> (SipMsg, SocketAddr) {
    let (inv, src) = trunk
        .recv_method("INVITE", Duration::from_secs(5))
        .await
        .expect("INVITE at the trunk");
    trunk.respond(&inv, src, 180, false).await;
    trunk.respond(&inv, src, 200, true).await;
    let (ack, _) = trunk
        .recv_method("ACK", Duration::from_secs(2))
        .await
        .expect("ACK at the trunk");
    assert_eq!(ack.call_id(), inv.call_id());
    (inv, src)
}

#[tokio::test]
async fn closing_one_websocket_ends_only_the_call_on_it() {
    let trunk = RawTrunk::bind().await;
    let gw = start_gateway(&trunk.host(), "").await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 21).await;
    let mut bob = Phone::connect(&gw, "bob", BOB_PW, 22).await;

    let a_call = alice.call("sip:+15551230001@127.0.0.1");
    let (_, (a_inv, _)) = tokio::join!(
        alice.wait("alice's answer", |e| {
            matches!(e, Event::Answered { call, .. } if *call == a_call).then_some(())
        }),
        answer_one(&trunk)
    );
    let b_call = bob.call("sip:+15551230002@127.0.0.1");
    let (_, (b_inv, _)) = tokio::join!(
        bob.wait("bob's answer", |e| {
            matches!(e, Event::Answered { call, .. } if *call == b_call).then_some(())
        }),
        answer_one(&trunk)
    );
    assert_ne!(a_inv.call_id(), b_inv.call_id());
    let both = gw.stats();
    assert_eq!(both.calls, 2);
    assert_eq!(both.flows, 2);
    // Each call watches its caller's WebSocket, and nothing else (the trunk is UDP).
    assert_eq!(both.flow_watchers, 2, "{both:?}");
    assert!(both.media_ports > 0);

    let closed = Instant::now();
    alice.close().await;
    let (bye, src) = trunk
        .recv_method("BYE", Duration::from_secs(1))
        .await
        .expect("BYE at the trunk within 1 s of alice's WebSocket closing");
    assert!(closed.elapsed() < Duration::from_secs(1));
    assert_eq!(
        bye.call_id(),
        a_inv.call_id(),
        "the BYE is for alice's call"
    );
    trunk.respond(&bye, src, 200, false).await;

    // Alice's call ends and frees its ports; bob's call stays up with its own. Alice's
    // finished call task may linger a few seconds absorbing retransmissions (its index
    // entry goes with it).
    let deadline = Instant::now() + Duration::from_secs(8);
    let one = loop {
        let s = gw.stats();
        if s.calls == 1
            && s.call_tasks == 1
            && s.flows == 1
            && s.media_ports == both.media_ports / 2
        {
            break s;
        }
        assert!(Instant::now() < deadline, "alice's call did not end: {s:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(one.flow_watchers, 1, "{one:?}");
    // No BYE for bob's call meanwhile, and bob's dialog is untouched.
    bob.pump(Duration::from_millis(300)).await;
    assert!(
        !bob.events
            .iter()
            .any(|e| matches!(e, Event::Ended { call, .. } if *call == b_call)),
        "bob's call ended with alice's WebSocket: {:?}",
        bob.events
    );
    if let Some((m, _)) = trunk.recv(Duration::from_millis(200)).await {
        panic!("the trunk got {:?} after alice's BYE", m.method());
    }
    assert_eq!(gw.stats().calls, 1);

    // Bob's call still works end to end: his BYE reaches the trunk and is answered.
    bob.hangup(b_call);
    let pump = bob.pump(Duration::from_millis(100));
    let (_, got) = tokio::join!(pump, trunk.recv_method("BYE", Duration::from_secs(2)));
    let (bye, src) = got.expect("bob's BYE at the trunk");
    assert_eq!(bye.call_id(), b_inv.call_id());
    trunk.respond(&bye, src, 200, false).await;
    let reason = bob.ended("bob's call ends", b_call).await;
    assert_eq!(reason, EndReason::LocalHangup);
    bob.close().await;
    assert_clean(&gw).await;
    let mut causes: Vec<String> = gw
        .store()
        .cdrs(&Default::default())
        .expect("cdrs")
        .into_iter()
        .map(|c| c.cause)
        .collect();
    causes.sort();
    assert_eq!(causes, ["flow closed: caller", "normal: caller hung up"]);
    gw.shutdown().await;
}
