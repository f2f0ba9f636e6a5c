//! Two softphones through the gateway's SIP side (UDP): bob registers with digest, alice
//! calls `bob` through the gateway (the B2BUA bridges the media), each hears the tone the
//! other sends (1 kHz one way, 440 Hz the other); alice also calls the echo extension and
//! hears herself.

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use rvoip_core::codec::{ToneGenerator, tone_power};

const SOFTPHONE: &str = env!("CARGO_BIN_EXE_softphone");
const GATEWAY: &str = env!("CARGO_BIN_EXE_gateway");

fn free_port() -> u16 {
    // The gateway listens on UDP and TCP on the same port: take one free for both.
    loop {
        let u = UdpSocket::bind("127.0.0.1:0").expect("bind UDP");
        let port = u.local_addr().expect("addr").port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn tone_wav(path: &Path, freq: f64, rate: u32, secs: u32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create WAV");
    let mut g = ToneGenerator::new(rate, freq, 8000.0);
    let mut buf = vec![0i16; rate as usize];
    for _ in 0..secs {
        g.fill(&mut buf);
        for s in &buf {
            w.write_sample(*s).expect("write WAV");
        }
    }
    w.finalize().expect("finalize WAV");
}

/// The median over 50 ms windows of the share of energy at `freq`, over 1.5 s from 100 ms
/// after the first sound.
fn tone_share(path: &Path, freq: f64) -> f64 {
    let r = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rate = r.spec().sample_rate;
    let s: Vec<i16> = r.into_samples().map(|s| s.expect("sample")).collect();
    let Some(first) = s.iter().position(|x| x.unsigned_abs() > 300) else {
        return 0.0;
    };
    let start = first + rate as usize / 10;
    let end = (start + rate as usize * 3 / 2).min(s.len());
    let mut shares: Vec<f64> = s
        .get(start..end)
        .unwrap_or(&[])
        .chunks_exact(rate as usize / 20)
        .map(|w| tone_power(w, freq, rate))
        .collect();
    if shares.len() < 20 {
        return 0.0;
    }
    shares.sort_by(f64::total_cmp);
    shares[shares.len() / 2]
}

fn wait(mut child: Child, max: Duration) -> Output {
    let t0 = Instant::now();
    while child.try_wait().expect("try_wait").is_none() {
        if t0.elapsed() > max {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn softphone(args: &[&str]) -> Child {
    Command::new(SOFTPHONE)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn softphone")
}

/// The gateway on `port` with the demo users; returns it and the (alice, bob) passwords.
fn start_gateway(dir: &Path, port: u16) -> (Child, String, String) {
    let config = dir.join("gw.toml");
    std::fs::write(
        &config,
        format!(
            "[http]\nlisten = \"127.0.0.1:0\"\n[sip]\nudp = \"127.0.0.1:{port}\"\n\
             tcp = \"127.0.0.1:{port}\"\n[[dialplan]]\npattern = \"600\"\ntarget = \"echo\"\n\
             [[dialplan]]\npattern = \"*\"\ntarget = \"user\"\n"
        ),
    )
    .expect("write config");
    let mut gw = Command::new(GATEWAY)
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn gateway");
    let stdout = gw.stdout.take().expect("stdout");
    let (mut alice, mut bob) = (String::new(), String::new());
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        let pass = line.rsplit(' ').next().unwrap_or_default().to_owned();
        if line.contains("demo user") && line.contains("alice /") {
            alice = pass;
        } else if line.contains("demo user") && line.contains("bob /") {
            bob = pass;
        }
        if line.contains("extensions") {
            break;
        }
    }
    assert!(!alice.is_empty() && !bob.is_empty(), "no demo passwords");
    (gw, alice, bob)
}

fn stop(gw: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &gw.id().to_string()])
        .status();
    let _ = wait(gw, Duration::from_secs(10));
}

#[test]
fn two_softphones_through_the_gateway() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let (gw, alice_pw, bob_pw) = start_gateway(dir.path(), port);
    let server = format!("127.0.0.1:{port}");
    let (a_in, b_in) = (dir.path().join("a.wav"), dir.path().join("b.wav"));
    tone_wav(&a_in, 1000.0, 16_000, 4);
    tone_wav(&b_in, 440.0, 8000, 4);
    let (a_out, b_out) = (
        dir.path().join("a_heard.wav"),
        dir.path().join("b_heard.wav"),
    );
    let (a_in_s, b_in_s) = (a_in.to_str().unwrap(), b_in.to_str().unwrap());
    let (a_out_s, b_out_s) = (a_out.to_str().unwrap(), b_out.to_str().unwrap());

    let mut bob = softphone(&[
        "answer",
        "--auto-answer",
        "--server",
        &server,
        "--user",
        "bob",
        "--password",
        &bob_pw,
        "--local-addr",
        "127.0.0.1:0",
        "--input",
        b_in_s,
        "--output",
        b_out_s,
    ]);
    // Wait for bob's registration.
    let bob_out = bob.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        for l in BufReader::new(bob_out).lines().map_while(Result::ok) {
            let _ = tx.send(l.clone());
            all.push(l);
        }
        all
    });
    let t0 = Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(l) if l.starts_with("registered") => break,
            _ if t0.elapsed() > Duration::from_secs(15) => {
                let _ = bob.kill();
                stop(gw);
                panic!("bob did not register");
            }
            _ => {}
        }
    }
    let alice = wait(
        softphone(&[
            "call",
            "bob",
            "--server",
            &server,
            "--user",
            "alice",
            "--password",
            &alice_pw,
            "--local-addr",
            "127.0.0.1:0",
            "--input",
            a_in_s,
            "--output",
            a_out_s,
            "--duration",
            "2.5",
        ]),
        Duration::from_secs(30),
    );
    let bob = wait(bob, Duration::from_secs(10));
    let bob_lines = reader.join().expect("reader").join("\n");

    // Alice calls the echo extension and hears her own tone.
    let e_out = dir.path().join("echo_heard.wav");
    let echo = wait(
        softphone(&[
            "call",
            "600",
            "--server",
            &server,
            "--user",
            "alice",
            "--password",
            &alice_pw,
            "--local-addr",
            "127.0.0.1:0",
            "--input",
            a_in_s,
            "--output",
            e_out.to_str().unwrap(),
            "--duration",
            "2.5",
        ]),
        Duration::from_secs(30),
    );
    stop(gw);

    let a = text(&alice);
    let b = format!("{}\n{bob_lines}", text(&bob));
    assert!(alice.status.success(), "alice:\n{a}\nbob:\n{b}");
    assert!(bob.status.success(), "bob:\n{b}\nalice:\n{a}");
    assert!(b.contains("incoming call from"), "{b}");
    assert!(b.contains("ended RemoteHangup"), "{b}");
    let (pa, pb) = (tone_share(&a_out, 440.0), tone_share(&b_out, 1000.0));
    assert!(pa > 0.9, "alice heard 440 Hz at {pa}\n{a}\n{b}");
    assert!(pb > 0.9, "bob heard 1 kHz at {pb}\n{a}\n{b}");
    let e = text(&echo);
    assert!(echo.status.success(), "{e}");
    let pe = tone_share(&e_out, 1000.0);
    assert!(pe > 0.9, "echo of 1 kHz at {pe}\n{e}");
}
