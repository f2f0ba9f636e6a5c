//! Interop of the sans-IO user agent with a real SIP peer, `sipp` (Debian `sip-tester`),
//! over UDP on 127.0.0.1. A thin driver moves datagrams between a `std::net::UdpSocket`
//! and the UA, and feeds it `std::time` converted to the core's `Instant`.
//!
//! sipp is required: when it is missing these tests FAIL (CI installs it). Each test
//! checks sipp's exit code (0 = every call succeeded, no unexpected message) and the UA's
//! events.
#![allow(clippy::std_instead_of_core, clippy::alloc_instead_of_core)]

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration as StdDuration, Instant as StdInstant};

use rvoip::rand::SplitMix64;
use rvoip::sip::ua::{
    EndReason, Event, Received, RegistrationState, Transport, UaConfig, UserAgent,
};
use rvoip::time::Instant;

const SDP: &[u8] = b"v=0\r\no=rvoip 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n";
const HELD: &[u8] =
    b"v=0\r\no=rvoip 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=recvonly\r\n";

fn sipp_binary() -> PathBuf {
    for p in ["/usr/bin/sipp", "/usr/local/bin/sipp"] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    match Command::new("sipp")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => PathBuf::from("sipp"),
        Err(_) => panic!(
            "sipp is not installed: these interop tests need it (Debian/Ubuntu: \
             `apt-get install sip-tester`). Refusing to skip."
        ),
    }
}

fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind an ephemeral UDP port");
    s.local_addr().expect("local addr").port()
}

fn scenario(name: &str) -> String {
    format!("{}/tests/sipp/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The thin test driver: one UDP socket, one UA, real time.
struct Driver {
    ua: UserAgent<SplitMix64>,
    sock: UdpSocket,
    t0: StdInstant,
    events: Vec<Event>,
}

impl Driver {
    fn new(user: &str, password: &str, seed: u64) -> Driver {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind UA socket");
        let local = sock.local_addr().expect("local addr");
        let mut cfg = UaConfig::new(format!("sip:{user}@example.com"), local);
        cfg.transport = Transport::Udp;
        cfg.password = password.into();
        Driver {
            ua: UserAgent::new(cfg, SplitMix64::new(seed)),
            sock,
            t0: StdInstant::now(),
            events: Vec::new(),
        }
    }

    fn with_proxy(user: &str, password: &str, proxy: SocketAddr) -> Driver {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind UA socket");
        let local = sock.local_addr().expect("local addr");
        let mut cfg = UaConfig::new(format!("sip:{user}@example.com"), local);
        cfg.password = password.into();
        cfg.proxy = Some(proxy);
        cfg.register_expires = 120;
        Driver {
            ua: UserAgent::new(cfg, SplitMix64::new(7)),
            sock,
            t0: StdInstant::now(),
            events: Vec::new(),
        }
    }

    fn port(&self) -> u16 {
        self.sock.local_addr().expect("local addr").port()
    }

    fn now(&self) -> Instant {
        Instant::from_micros(self.t0.elapsed().as_micros() as u64)
    }

    fn flush(&mut self) {
        while let Some(t) = self.ua.poll_transmit() {
            self.sock
                .send_to(&t.bytes, t.destination)
                .expect("send datagram");
        }
    }

    /// Runs the UA until sipp exits (or `max` passes), calling `on` for every event.
    fn run(
        &mut self,
        sipp: &mut Child,
        max: StdDuration,
        mut on: impl FnMut(&mut UserAgent<SplitMix64>, Instant, &Event),
    ) -> Option<ExitStatus> {
        let deadline = StdInstant::now() + max;
        let mut buf = vec![0u8; 65_535];
        let mut exited: Option<(ExitStatus, StdInstant)> = None;
        loop {
            self.flush();
            while let Some(e) = self.ua.poll_event() {
                let now = self.now();
                on(&mut self.ua, now, &e);
                self.events.push(e);
                self.flush();
            }
            if exited.is_none()
                && let Some(st) = sipp.try_wait().expect("wait for sipp")
            {
                exited = Some((st, StdInstant::now()));
            }
            // Keep serving a moment after sipp exits so that our last messages are handled.
            if let Some((st, at)) = exited
                && at.elapsed() > StdDuration::from_millis(300)
            {
                return Some(st);
            }
            if StdInstant::now() > deadline {
                let _ = sipp.kill();
                let _ = sipp.wait();
                return None;
            }
            let now = self.now();
            let wait = self
                .ua
                .poll_timeout()
                .map(|t| StdDuration::from_micros((t - now).as_micros() as u64))
                .unwrap_or(StdDuration::from_millis(20))
                .clamp(StdDuration::from_millis(1), StdDuration::from_millis(20));
            self.sock.set_read_timeout(Some(wait)).expect("set timeout");
            if let Ok((n, source)) = self.sock.recv_from(&mut buf) {
                let now = self.now();
                self.ua.handle_receive(
                    now,
                    Received {
                        transport: Transport::Udp,
                        source,
                        bytes: &buf[..n],
                    },
                );
            }
            let now = self.now();
            if self.ua.poll_timeout().is_some_and(|t| t <= now) {
                self.ua.handle_timeout(now);
            }
        }
    }
}

/// Starts sipp on a free port with `args`; returns the child, its port and its error log.
fn spawn_sipp(name: &str, args: &[&str]) -> (Child, u16, PathBuf) {
    let bin = sipp_binary();
    let port = free_udp_port();
    let dir = std::env::temp_dir().join(format!("rvoip-sipp-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let err = dir.join("errors.log");
    let _ = std::fs::remove_file(&err);
    let port_s = port.to_string();
    let mut cmd = Command::new(bin);
    cmd.current_dir(&dir)
        .args([
            "-i",
            "127.0.0.1",
            "-p",
            &port_s,
            "-m",
            "1",
            "-nostdin",
            "-timeout",
            "30s",
        ])
        .args(["-recv_timeout", "10000", "-trace_err", "-error_file"])
        .arg(&err)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("spawn sipp");
    (child, port, err)
}

fn assert_sipp_ok(status: Option<ExitStatus>, err: &Path, events: &[Event]) {
    let log = std::fs::read_to_string(err).unwrap_or_default();
    match status {
        Some(s) if s.code() == Some(0) => {}
        other => panic!("sipp failed ({other:?}); UA events: {events:?}\nsipp errors:\n{log}"),
    }
}

/// sipp's built-in `uac` calls us; we answer; sipp hangs up.
#[test]
fn sipp_uac_calls_our_ua() {
    let mut d = Driver::new("bob", "", 1);
    let target = format!("127.0.0.1:{}", d.port());
    let (mut sipp, _, err) = spawn_sipp("uac", &["-sn", "uac", "-d", "200", &target]);
    let status = d.run(&mut sipp, StdDuration::from_secs(40), |ua, now, e| {
        if let Event::IncomingCall { call, .. } = e {
            ua.answer(now, *call, SDP).expect("answer");
        }
    });
    assert_sipp_ok(status, &err, &d.events);
    assert!(
        d.events
            .iter()
            .any(|e| matches!(e, Event::IncomingCall { sdp: Some(_), .. }))
    );
    assert!(d.events.iter().any(|e| matches!(e, Event::Answered { .. })));
    assert!(d.events.iter().any(|e| matches!(
        e,
        Event::Ended {
            reason: EndReason::RemoteHangup,
            ..
        }
    )));
}

/// We call sipp's built-in `uas`; it rings and answers; we hang up.
#[test]
fn our_ua_calls_sipp_uas() {
    let mut d = Driver::new("alice", "", 2);
    let (mut sipp, port, err) = spawn_sipp("uas", &["-sn", "uas"]);
    std::thread::sleep(StdDuration::from_millis(300));
    let now = d.now();
    d.ua.call(now, &format!("sip:service@127.0.0.1:{port}"), SDP)
        .expect("call");
    let status = d.run(&mut sipp, StdDuration::from_secs(40), |ua, now, e| {
        if let Event::Answered { call, .. } = e {
            ua.hangup(now, *call).expect("hangup");
        }
    });
    assert_sipp_ok(status, &err, &d.events);
    assert!(d.events.iter().any(|e| matches!(e, Event::Ringing { .. })));
    assert!(
        d.events
            .iter()
            .any(|e| matches!(e, Event::Answered { sdp: Some(_), .. }))
    );
}

/// sipp as registrar challenges with digest, verifies our credentials, then accepts the
/// un-registration.
#[test]
fn register_with_digest_against_sipp() {
    let (mut sipp, sport, err) = spawn_sipp("register", &["-sf", &scenario("register_digest.xml")]);
    std::thread::sleep(StdDuration::from_millis(300));
    let proxy: SocketAddr = format!("127.0.0.1:{sport}").parse().expect("addr");
    let mut d = Driver::with_proxy("alice", "secret", proxy);
    let now = d.now();
    d.ua.register(now).expect("register");
    let status = d.run(&mut sipp, StdDuration::from_secs(40), |ua, now, e| {
        if let Event::Registration(RegistrationState::Registered { .. }) = e {
            ua.unregister(now).expect("unregister");
        }
    });
    assert_sipp_ok(status, &err, &d.events);
    assert!(
        d.events
            .contains(&Event::Registration(RegistrationState::Registered {
                expires: 120
            }))
    );
    assert!(
        d.events
            .contains(&Event::Registration(RegistrationState::Unregistered))
    );
}

/// We call sipp, it rings; we CANCEL; sipp answers 200/487 and gets our ACK.
#[test]
fn cancel_a_ringing_call_to_sipp() {
    let mut d = Driver::new("alice", "", 3);
    let (mut sipp, port, err) = spawn_sipp("cancel", &["-sf", &scenario("cancel_uas.xml")]);
    std::thread::sleep(StdDuration::from_millis(300));
    let now = d.now();
    d.ua.call(now, &format!("sip:service@127.0.0.1:{port}"), SDP)
        .expect("call");
    let status = d.run(&mut sipp, StdDuration::from_secs(40), |ua, now, e| {
        if let Event::Ringing { call } = e {
            ua.hangup(now, *call).expect("hangup");
        }
    });
    assert_sipp_ok(status, &err, &d.events);
    assert!(d.events.iter().any(|e| matches!(
        e,
        Event::Ended {
            reason: EndReason::LocalHangup,
            ..
        }
    )));
    assert_eq!(d.ua.call_count(), 0);
}

/// sipp calls us, then puts the call on hold with a re-INVITE; we answer recvonly.
#[test]
fn sipp_puts_our_call_on_hold() {
    let mut d = Driver::new("bob", "", 4);
    let target = format!("127.0.0.1:{}", d.port());
    let (mut sipp, _, err) = spawn_sipp(
        "hold",
        &["-sf", &scenario("reinvite_hold_uac.xml"), &target],
    );
    let status = d.run(
        &mut sipp,
        StdDuration::from_secs(40),
        |ua, now, e| match e {
            Event::IncomingCall { call, .. } => ua.answer(now, *call, SDP).expect("answer"),
            Event::OfferReceived { call, sdp } => {
                assert!(
                    sdp.as_deref()
                        .is_some_and(|s| s.windows(10).any(|w| w == b"a=sendonly"))
                );
                ua.answer(now, *call, HELD).expect("answer hold");
            }
            _ => {}
        },
    );
    assert_sipp_ok(status, &err, &d.events);
    assert!(
        d.events
            .iter()
            .any(|e| matches!(e, Event::OfferReceived { .. }))
    );
    assert!(d.events.iter().any(|e| matches!(
        e,
        Event::Ended {
            reason: EndReason::RemoteHangup,
            ..
        }
    )));
}

/// sipp challenges our INVITE with 401; we retry with digest credentials and the call is
/// answered; we hang up.
#[test]
fn invite_after_401_to_sipp() {
    let mut d = Driver::new("alice", "secret", 5);
    let (mut sipp, port, err) =
        spawn_sipp("auth-invite", &["-sf", &scenario("auth_invite_uas.xml")]);
    std::thread::sleep(StdDuration::from_millis(300));
    let now = d.now();
    d.ua.call(now, &format!("sip:service@127.0.0.1:{port}"), SDP)
        .expect("call");
    let status = d.run(&mut sipp, StdDuration::from_secs(40), |ua, now, e| {
        if let Event::Answered { call, .. } = e {
            ua.hangup(now, *call).expect("hangup");
        }
    });
    assert_sipp_ok(status, &err, &d.events);
    assert!(d.events.iter().any(|e| matches!(e, Event::Answered { .. })));
}
