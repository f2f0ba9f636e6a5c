//! Outgoing SIP over TCP to a trunk (`transport = "tcp"`, RFC 3261 §18): a browser (the
//! core UA over a WebSocket) calls a number routed to a trunk played by sipp's built-in UAS
//! in TCP mode (`-sn uas -t t1`). The gateway opens the connection, the INVITE arrives over
//! TCP (sipp's message trace shows it and its `SIP/2.0/TCP` Via), sipp answers on the same
//! connection, the caller hangs up, sipp gets its BYE over TCP (it exits 0 only when its
//! scenario completed), and the call is recorded. The test FAILS (never skips) without
//! sipp.

mod signalling_util;

use std::time::Duration;

use rvoip_core::sip::ua::Event;
use signalling_util::*;
use tokio::time::{Instant, timeout};

/// Waits until sipp listens on TCP `port`. Not by connecting: sipp's `t1` mode makes the
/// first connection it accepts its one socket, and would answer on the probe. Linux's
/// `/proc/net/tcp` lists listening sockets (state `0A`) instead.
async fn wait_listening(port: u16) {
    let needle = format!(":{port:04X} ");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
        if table.lines().any(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 3 && format!("{} ", f[1]).ends_with(&needle) && f[3] == "0A"
        }) {
            return;
        }
        assert!(Instant::now() < deadline, "sipp never listened on {port}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn outbound_call_to_a_tcp_trunk_goes_over_tcp_and_is_recorded() {
    let port = free_tcp_port();
    let dir = tempfile::tempdir().expect("temp dir");
    let trace = dir.path().join("messages.log");
    let sipp = spawn_sipp_command(
        tokio::process::Command::new(sipp_binary())
            .current_dir(dir.path())
            .args(["-sn", "uas", "-t", "t1", "-i", "127.0.0.1", "-p"])
            .arg(port.to_string())
            .args(["-m", "1", "-nostdin", "-timeout", "30s"])
            .args(["-recv_timeout", "15000", "-trace_msg", "-message_file"])
            .arg(&trace),
    );
    wait_listening(port).await;

    let extra = format!(
        "[[trunks]]\nname = \"tcp1\"\nhost = \"127.0.0.1:{port}\"\ntransport = \"tcp\"\n\
options_interval = 0\n[[dialplan]]\npattern = \"+44.\"\ntarget = \"trunk:tcp1\"\n"
    );
    let gw = start_gateway("127.0.0.1:9", &extra).await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 41).await;
    let call = alice.call("sip:+442071234567@127.0.0.1");
    alice
        .wait("answer", |e| match e {
            Event::Answered { call: c, .. } if *c == call => Some(()),
            Event::Ended { call: c, reason } if *c == call => {
                panic!(
                    "the call failed: {reason:?}; sipp saw:\n{}",
                    std::fs::read_to_string(&trace).unwrap_or_default()
                )
            }
            _ => None,
        })
        .await;
    // While the call is up: the WebSocket and the TCP connection to the trunk.
    let (_, calls) = http_get(gw.http_addr(), "/api/calls", true).await;
    assert!(calls.contains("\"trunk\":\"tcp1\""), "{calls}");
    assert_eq!(gw.stats().flows, 2, "{:?}", gw.stats());
    alice.pump(Duration::from_millis(200)).await;
    alice.hangup(call);
    alice.pump(Duration::from_millis(300)).await;

    let out = timeout(Duration::from_secs(40), sipp.wait_with_output())
        .await
        .expect("sipp finishes")
        .expect("sipp output");
    let log = std::fs::read_to_string(&trace).unwrap_or_default();
    assert!(
        out.status.success(),
        "sipp's UAS scenario failed ({:?}): {}\n{log}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // sipp logs each received message with the transport it came over.
    let invite = log
        .split("----------------------------------------------- ")
        .find(|m| m.contains("\nINVITE sip:"))
        .unwrap_or_else(|| panic!("sipp received no INVITE:\n{log}"));
    assert!(invite.contains("TCP message received"), "{invite}");
    assert!(invite.contains("Via: SIP/2.0/TCP "), "{invite}");
    assert!(
        log.split("----------------------------------------------- ")
            .any(|m| m.contains("TCP message received") && m.contains("\nBYE sip:")),
        "sipp received the BYE over TCP:\n{log}"
    );

    alice.close().await;
    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1, "exactly one call record");
    let c = &cdrs[0];
    assert_eq!((c.from.as_str(), c.to.as_str()), ("alice", "+442071234567"));
    assert!(c.answered_ms.is_some(), "answered");
    assert_eq!(c.b_leg.kind, "trunk");
    assert!(c.cause.starts_with("normal"), "{}", c.cause);
    gw.shutdown().await;
}
