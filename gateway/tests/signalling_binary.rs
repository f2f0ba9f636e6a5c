//! The `gateway` binary: configuration errors name the key and exit with status 2; a start
//! on a fresh data directory creates and prints the demo users' and the console's
//! passwords, which survive a restart; SIGTERM shuts it down cleanly, promptly when idle,
//! and soon after the grace period with a call up and a console event stream open.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rvoip_core::rand::SplitMix64;
use rvoip_core::sip::ua::{EndReason, Event, Received, Transport, UaConfig, UserAgent};

fn gateway() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gateway"))
}

#[test]
fn bad_config_names_the_key_and_exits_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[limits]\nmax_calls = 0\n").expect("write");
    let out = gateway().arg("--config").arg(&path).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("limits.max_calls"), "{err}");
    std::fs::write(&path, "[sip]\nudpp = \"127.0.0.1:5060\"\n").expect("write");
    let out = gateway().arg("--config").arg(&path).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sip.udpp"));
    std::fs::write(
        &path,
        "[http]\nlisten = \"127.0.0.1:0\"\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n",
    )
    .expect("write");
    let out = gateway()
        .arg("--config")
        .arg(&path)
        .arg("--data-dir")
        .arg(dir.path().join("d"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("http.tls_cert"));
    let out = gateway()
        .args(["--config", "/nonexistent/gateway.toml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

/// Starts the binary, returns the printed credential lines, then stops it with SIGTERM.
fn run_once(config: &std::path::Path, data: &std::path::Path) -> Vec<String> {
    let mut child = gateway()
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        let done = line.contains("extensions");
        lines.push(line);
        if done || Instant::now() > deadline {
            break;
        }
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            assert!(s.success(), "clean exit after SIGTERM: {s:?}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Idle: nothing to wait for (generous bound for a loaded machine).
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "an idle gateway stops promptly: {:?}",
        start.elapsed()
    );
    lines
}

#[test]
fn first_start_prints_generated_passwords_that_persist_and_sigterm_stops_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("gw.toml");
    std::fs::write(
        &config,
        "[http]\nlisten = \"127.0.0.1:0\"\n[sip]\nudp = \"127.0.0.1:0\"\ntcp = \"127.0.0.1:0\"\n",
    )
    .expect("write");
    let data = dir.path().join("data");
    let first = run_once(&config, &data);
    let creds = |lines: &[String]| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l.contains("demo user") || l.contains("password"))
            // The console line also names the (ephemeral) port: keep the credentials.
            .map(|l| {
                l.rsplit_once("(user")
                    .map_or(l.clone(), |(_, c)| c.to_string())
            })
            .collect()
    };
    let c1 = creds(&first);
    assert!(c1.iter().any(|l| l.contains("alice / ")), "{first:?}");
    assert!(c1.iter().any(|l| l.contains("bob / ")), "{first:?}");
    assert!(
        c1.iter().any(|l| l.contains("admin, password ")),
        "{first:?}"
    );
    assert!(data.join("gateway.sqlite3").exists());
    let second = run_once(&config, &data);
    assert_eq!(c1, creds(&second), "passwords are stored, not regenerated");
}

/// Kills the child process if the test fails before it exits.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// Reads the binary's banner up to the extensions line.
fn banner(child: &mut Child) -> Vec<String> {
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        let done = line.contains("extensions");
        lines.push(line);
        if done {
            break;
        }
    }
    lines
}

/// The address after `label` in the banner.
fn banner_addr(lines: &[String], label: &str) -> SocketAddr {
    let line = lines
        .iter()
        .find(|l| l.contains(label))
        .unwrap_or_else(|| panic!("no {label} in {lines:?}"));
    let word = line
        .split_whitespace()
        .find(|w| w.contains("127.0.0.1:"))
        .expect("an address");
    let addr = word
        .trim_start_matches("http://")
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .expect("host:port");
    addr.parse().expect("address")
}

/// A SIP phone over UDP (the core UA on a blocking socket).
struct UdpPhone {
    ua: UserAgent<SplitMix64>,
    sock: UdpSocket,
    t0: Instant,
    events: Vec<Event>,
}

impl UdpPhone {
    fn new(user: &str, password: &str, proxy: SocketAddr) -> UdpPhone {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
        sock.set_read_timeout(Some(Duration::from_millis(10)))
            .expect("timeout");
        let mut cfg = UaConfig::new(
            format!("sip:{user}@127.0.0.1"),
            sock.local_addr().expect("addr"),
        );
        cfg.transport = Transport::Udp;
        cfg.password = password.into();
        cfg.proxy = Some(proxy);
        UdpPhone {
            ua: UserAgent::new(cfg, SplitMix64::new(77)),
            sock,
            t0: Instant::now(),
            events: Vec::new(),
        }
    }

    fn now(&self) -> rvoip_core::time::Instant {
        rvoip_core::time::Instant::from_micros(self.t0.elapsed().as_micros() as u64)
    }

    /// Sends, receives and runs timers for about 10 ms.
    fn pump(&mut self) {
        while let Some(t) = self.ua.poll_transmit() {
            let _ = self.sock.send_to(&t.bytes, t.destination);
        }
        let mut buf = [0u8; 65_535];
        match self.sock.recv_from(&mut buf) {
            Ok((n, source)) => {
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
            Err(_) => {
                let now = self.now();
                self.ua.handle_timeout(now);
            }
        }
        while let Some(t) = self.ua.poll_transmit() {
            let _ = self.sock.send_to(&t.bytes, t.destination);
        }
        while let Some(e) = self.ua.poll_event() {
            self.events.push(e);
        }
    }
}

/// A request on a fresh connection; returns the response head (and what body came with it)
/// and the still open stream.
fn http(addr: SocketAddr, req: &str, until: &str) -> (String, TcpStream) {
    let mut s = TcpStream::connect(addr).expect("connect http");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(req.as_bytes()).expect("write");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains(until) {
        let n = s.read(&mut buf).expect("read");
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    (String::from_utf8_lossy(&got).into_owned(), s)
}

#[test]
fn sigterm_with_a_call_up_and_a_console_stream_open_exits_soon_after_the_grace() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("gw.toml");
    std::fs::write(
        &config,
        "[http]\nlisten = \"127.0.0.1:0\"\n[sip]\nudp = \"127.0.0.1:0\"\ntcp = \"127.0.0.1:0\"\n\
[admin]\npassword = \"console-pw-123\"\n[limits]\nshutdown_grace_seconds = 1\n\
[[users]]\nusername = \"alice\"\npassword = \"pw-alice\"\n\
[[dialplan]]\npattern = \"600\"\ntarget = \"echo\"\n",
    )
    .expect("write");
    let data = dir.path().join("data");
    let child = gateway()
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut child = KillOnDrop(child);
    let child = &mut child.0;
    let lines = banner(child);
    let http_addr = banner_addr(&lines, "web demo");
    let sip_addr = banner_addr(&lines, "SIP UDP");

    // A call to the echo extension, answered by the media plane.
    let mut phone = UdpPhone::new("alice", "pw-alice", sip_addr);
    let rtp = UdpSocket::bind("127.0.0.1:0").expect("rtp");
    let offer = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio {} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n",
        rtp.local_addr().expect("addr").port()
    );
    let now = phone.now();
    let call = phone
        .ua
        .call(now, "sip:600@127.0.0.1", offer.as_bytes())
        .expect("call");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !phone
        .events
        .iter()
        .any(|e| matches!(e, Event::Answered { call: c, .. } if *c == call))
    {
        assert!(Instant::now() < deadline, "no answer: {:?}", phone.events);
        phone.pump();
    }

    // A console session with its event stream open, and an idle keep-alive connection.
    let body = r#"{"username":"admin","password":"console-pw-123"}"#;
    let (head, _) = http(
        http_addr,
        &format!(
            "POST /console/api/login HTTP/1.1\r\nHost: {http_addr}\r\n\
Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
        "\r\n\r\n",
    );
    let cookie = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or(l.strip_prefix("Set-Cookie: "))
        })
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("no cookie: {head}"))
        .to_string();
    let (_, _sse) = http(
        http_addr,
        &format!(
            "GET /console/api/events HTTP/1.1\r\nHost: {http_addr}\r\nCookie: {cookie}\r\n\r\n"
        ),
        "event: snapshot",
    );
    let (_, _keep_alive) = http(
        http_addr,
        &format!("GET /metrics HTTP/1.1\r\nHost: {http_addr}\r\n\r\n"),
        "rvoip_calls_active 1",
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let start = Instant::now();
    let mut bye_at = None;
    let exit = loop {
        phone.pump();
        if bye_at.is_none()
            && phone.events.iter().any(|e| {
                matches!(e, Event::Ended { call: c, reason: EndReason::RemoteHangup } if *c == call)
            })
        {
            bye_at = Some(start.elapsed());
        }
        if let Some(s) = child.try_wait().expect("wait") {
            break (s, start.elapsed());
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no exit after SIGTERM"
        );
    };
    assert!(exit.0.success(), "clean exit after SIGTERM: {:?}", exit.0);
    let bye_at = bye_at.expect("the gateway's BYE");
    assert!(
        bye_at >= Duration::from_millis(900),
        "the grace period is kept: BYE at {bye_at:?}"
    );
    // Grace (1 s) + settling (0.25 s) + HTTP drain (at most 0.5 s), with room for a loaded
    // machine; an open event stream or a lingering call task would hold it up for seconds.
    assert!(
        exit.1 < Duration::from_millis(3000),
        "exit {:?} after SIGTERM (BYE at {bye_at:?})",
        exit.1
    );
    let store = rvoip_gateway::store::Store::open(&data).expect("store");
    let cdrs = store.cdrs(&Default::default()).expect("cdrs");
    assert_eq!(cdrs.len(), 1, "{cdrs:?}");
    assert_eq!(cdrs[0].cause, "shutdown");
    assert!(cdrs[0].answered_ms.is_some());
}
