//! Idle outgoing TCP connections to a trunk (`sip.connection_idle_timeout`, RFC 3261 §18 /
//! RFC 5923 leave their lifetime to the implementation): with a 1 s idle time, the
//! connection the gateway opened to a TCP trunk (a scripted trunk on a tokio listener)
//! stays open through a call that is silent for longer than that (the dialog uses it), is
//! closed about 1 s after the call's last message, and the next call opens a new one.

mod signalling_util;

use std::time::Duration;

use rvoip_core::sip::ua::SipMsg;
use rvoip_core::sip::{Frame, Limits, StreamFramer};
use signalling_util::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// What the scripted trunk saw, per connection (numbered from 0 in accept order).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Accepted(usize),
    Request(usize, String),
    Closed(usize),
}

/// Answers INVITE (200 with SDP), BYE and OPTIONS (200) on every connection accepted on
/// `listener`, reporting what it sees.
async fn trunk(listener: TcpListener, seen: mpsc::UnboundedSender<(Seen, Instant)>) {
    let mut n = 0;
    while let Ok((stream, _)) = listener.accept().await {
        let _ = seen.send((Seen::Accepted(n), Instant::now()));
        tokio::spawn(connection(stream, n, seen.clone()));
        n += 1;
    }
}

async fn connection(mut stream: TcpStream, n: usize, seen: mpsc::UnboundedSender<(Seen, Instant)>) {
    let host = stream.local_addr().expect("local addr");
    let mut framer = StreamFramer::new(Limits::default());
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let len = stream.read(&mut buf).await.unwrap_or(0);
        if len == 0 {
            let _ = seen.send((Seen::Closed(n), Instant::now()));
            return;
        }
        framer
            .push(&buf[..len])
            .expect("the gateway frames its messages");
        while let Ok(Some(frame)) = framer.next_frame() {
            let Frame::Message(bytes) = frame else {
                continue;
            };
            let req = SipMsg::parse(&bytes).expect("the gateway sends parseable SIP");
            let Some(method) = req.method() else { continue };
            let method = method.as_str().to_string();
            let _ = seen.send((Seen::Request(n, method.clone()), Instant::now()));
            if method == "ACK" {
                continue;
            }
            let mut r = rvoip_core::sip::ua::response(&req, 200, Some("trunktag"));
            r.push("Contact", format!("<sip:trunk@{host};transport=tcp>"));
            if method == "INVITE" {
                r.push("Content-Type", "application/sdp");
                r.body = b"v=0\r\no=t 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n".to_vec();
            }
            if stream.write_all(&r.to_bytes()).await.is_err() {
                return;
            }
        }
    }
}

/// Everything the trunk reported so far.
fn drain(rx: &mut mpsc::UnboundedReceiver<(Seen, Instant)>) -> Vec<(Seen, Instant)> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

fn saw(events: &[(Seen, Instant)], what: &Seen) -> Option<Instant> {
    events.iter().find(|(s, _)| s == what).map(|(_, t)| *t)
}

#[tokio::test]
async fn an_idle_trunk_connection_is_closed_unless_a_call_uses_it_and_reopened() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let trunk_addr = listener.local_addr().expect("addr");
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    tokio::spawn(trunk(listener, seen_tx));
    let toml = format!(
        r#"
[http]
listen = "127.0.0.1:0"
[sip]
udp = "127.0.0.1:0"
tcp = "127.0.0.1:0"
domain = "127.0.0.1"
connection_idle_timeout = 1
[admin]
password = "{ADMIN_PW}"
[[users]]
username = "alice"
password = "{ALICE_PW}"
[[trunks]]
name = "tcp1"
host = "{trunk_addr}"
transport = "tcp"
options_interval = 0
[[dialplan]]
pattern = "+44."
target = "trunk:tcp1"
"#
    );
    let gw = start_gateway_toml(&toml).await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 71).await;

    // A call over a new connection; then 2.5 s without a message on it: the dialog keeps
    // it open.
    let call = alice.call_answered("sip:+442071234567@127.0.0.1").await;
    alice.pump(Duration::from_millis(2500)).await;
    let mut log = drain(&mut seen);
    assert!(saw(&log, &Seen::Accepted(0)).is_some(), "{log:?}");
    assert!(
        saw(&log, &Seen::Request(0, "INVITE".into())).is_some(),
        "{log:?}"
    );
    assert!(
        saw(&log, &Seen::Closed(0)).is_none(),
        "closed mid-call: {log:?}"
    );
    assert_eq!(
        gw.stats().flows,
        2,
        "the WebSocket and the trunk connection"
    );

    // The BYE goes on the same connection. The finished call task keeps absorbing
    // retransmissions for its linger time (up to 4 s: its INVITE transactions wait out
    // Timers L/M), still a user; the connection closes within the idle time after that.
    alice.hangup(call);
    let deadline = Instant::now() + Duration::from_secs(8);
    while saw(&log, &Seen::Closed(0)).is_none() && Instant::now() < deadline {
        alice.pump(Duration::from_millis(100)).await;
        log.extend(drain(&mut seen));
    }
    let bye = saw(&log, &Seen::Request(0, "BYE".into()))
        .unwrap_or_else(|| panic!("no BYE on the first connection: {log:?}"));
    let closed = saw(&log, &Seen::Closed(0))
        .unwrap_or_else(|| panic!("the idle connection stayed open: {log:?}"));
    let idle = closed - bye;
    assert!(
        idle >= Duration::from_millis(900) && idle <= Duration::from_millis(6500),
        "closed {idle:?} after the last message"
    );
    assert_eq!(gw.stats().flows, 1, "only the WebSocket is left");

    // The next call opens a new connection.
    let call = alice.call_answered("sip:+442071234567@127.0.0.1").await;
    alice.pump(Duration::from_millis(100)).await;
    log.extend(drain(&mut seen));
    assert!(saw(&log, &Seen::Accepted(1)).is_some(), "{log:?}");
    assert!(
        saw(&log, &Seen::Request(1, "INVITE".into())).is_some(),
        "{log:?}"
    );
    alice.hangup(call);
    alice.pump(Duration::from_millis(300)).await;
    log.extend(drain(&mut seen));
    assert!(
        saw(&log, &Seen::Request(1, "BYE".into())).is_some(),
        "{log:?}"
    );
    alice.close().await;
    // The leak check includes the second connection, closed for idleness too.
    assert_clean(&gw).await;
    assert_eq!(gw.store().cdrs(&Default::default()).expect("cdrs").len(), 2);
    gw.shutdown().await;
}
