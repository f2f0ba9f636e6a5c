//! End-to-end tests of the `softphone` binary over real UDP/TCP sockets on 127.0.0.1:
//!
//! - softphone → sipp UAS answering with `-rtp_echo`: the 1 kHz tone sent comes back;
//! - two softphones calling each other directly (`answer --auto-answer` and `call`) with
//!   each codec: each side hears the other's tone (1 kHz one way, 440 Hz the other);
//! - the same with SRTP (SDES), over TCP, and a plain caller refused by an `--srtp` callee;
//! - DTMF as RFC 4733 events and as SIP INFO;
//! - REGISTER with digest against a sipp registrar.
//!
//! sipp (Debian `sip-tester`) is required: without it these tests FAIL, they never skip.
//! Test WAVs are generated with `codec::ToneGenerator` in a temporary directory.

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use rvoip_core::codec::{ToneGenerator, tone_power};

const BIN: &str = env!("CARGO_BIN_EXE_softphone");

fn sipp_binary() -> PathBuf {
    for p in ["/usr/bin/sipp", "/usr/local/bin/sipp"] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!(
        "sipp is not installed: these tests need it (Debian/Ubuntu: `apt-get install \
         sip-tester`). Refusing to skip."
    );
}

fn scenario(name: &str) -> String {
    format!("{}/../tests/sipp/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind an ephemeral UDP port");
    s.local_addr().expect("local addr").port()
}

fn free_tcp_port() -> u16 {
    let s = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral TCP port");
    s.local_addr().expect("local addr").port()
}

/// Writes `secs` seconds of a `freq` Hz tone, mono 16-bit at `rate`.
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

/// The received audio: rate and samples.
fn read_wav(path: &Path) -> (u32, Vec<i16>) {
    let r = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rate = r.spec().sample_rate;
    let s = r.into_samples().map(|s| s.expect("sample")).collect();
    (rate, s)
}

/// A window of audible audio: from 100 ms after the first loud sample, at most `secs`
/// seconds long.
fn audible(samples: &[i16], rate: u32, secs: f64) -> &[i16] {
    let first = samples
        .iter()
        .position(|s| s.unsigned_abs() > 300)
        .expect("the received audio is silent");
    let start = first + rate as usize / 10;
    let end = (start + (f64::from(rate) * secs) as usize).min(samples.len());
    assert!(
        end > start + rate as usize / 4,
        "less than 250 ms of audio received ({} samples after the first sound)",
        samples.len() - first
    );
    &samples[start..end]
}

/// The median over 50 ms windows of the share of the energy at `freq`. Short windows keep
/// the measure honest across the adaptive jitter buffer's frame drops (it shrinks its delay
/// one frame at a time) and concealment, which jump the phase of a tone whose period does
/// not divide 20 ms (440 Hz): one window is spoilt, not the whole second.
fn tone_share(samples: &[i16], freq: f64, rate: u32) -> f64 {
    let mut shares: Vec<f64> = samples
        .chunks_exact(rate as usize / 20)
        .map(|w| tone_power(w, freq, rate))
        .collect();
    assert!(!shares.is_empty(), "no audio to measure");
    shares.sort_by(f64::total_cmp);
    shares[shares.len() / 2]
}

/// Checks that `path` holds at least 1.5 s of `freq` (and not `other`).
fn check_tone(path: &Path, freq: f64, other: f64) -> Result<(), String> {
    if std::env::var_os("SOFTPHONE_TEST_KEEP").is_some() {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let _ = std::fs::copy(path, std::env::temp_dir().join(format!("keep_{name}")));
    }
    let (rate, s) = read_wav(path);
    let w = audible(&s, rate, 1.5);
    let p = tone_share(w, freq, rate);
    let q = tone_share(w, other, rate);
    if w.len() >= rate as usize * 3 / 2 && p > 0.9 && q < 0.05 {
        Ok(())
    } else {
        Err(format!(
            "{}: {} samples, power at {freq} Hz is {p}, at {other} Hz {q}",
            path.display(),
            w.len()
        ))
    }
}

/// At most this many softphone calls run at once: the tests measure real-time audio, and
/// a 2-core machine shared with builds cannot run all of them in parallel in time.
const MAX_PARALLEL_CALLS: usize = 3;

static RUNNING: (std::sync::Mutex<usize>, std::sync::Condvar) =
    (std::sync::Mutex::new(0), std::sync::Condvar::new());

/// A slot among [`MAX_PARALLEL_CALLS`]; released on drop.
struct Slot;

fn slot() -> Slot {
    let (m, cv) = &RUNNING;
    let mut n = m.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    while *n >= MAX_PARALLEL_CALLS {
        n = cv
            .wait(n)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
    }
    *n += 1;
    Slot
}

impl Drop for Slot {
    fn drop(&mut self) {
        let (m, cv) = &RUNNING;
        let mut n = m.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *n -= 1;
        cv.notify_one();
    }
}

fn spawn(args: &[String]) -> Child {
    Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn softphone")
}

/// Waits for `child` at most `max`; kills it after that.
fn wait(mut child: Child, max: Duration) -> Output {
    let t0 = Instant::now();
    while child.try_wait().expect("try_wait").is_none() {
        if t0.elapsed() > max {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("softphone output")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Waits until something listens on the UDP or TCP port (the answerer is up).
fn wait_listening(port: u16, tcp: bool) {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(10) {
        let busy = if tcp {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        } else {
            UdpSocket::bind(("127.0.0.1", port)).is_err()
        };
        if busy {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on port {port}");
}

/// A call between two softphones; returns (caller, callee) outputs and the WAVs each
/// received.
struct Pair {
    caller: Output,
    callee: Output,
    caller_heard: PathBuf,
    callee_heard: PathBuf,
    _dir: tempfile::TempDir,
}

fn call_pair(common: &[&str], caller_extra: &[&str], callee_extra: &[&str], tcp: bool) -> Pair {
    let dir = tempfile::tempdir().expect("temp dir");
    let (a_in, b_in) = (dir.path().join("a.wav"), dir.path().join("b.wav"));
    tone_wav(&a_in, 1000.0, 16_000, 3);
    tone_wav(&b_in, 440.0, 8000, 3);
    let (a_out, b_out) = (
        dir.path().join("a_heard.wav"),
        dir.path().join("b_heard.wav"),
    );
    let port = if tcp {
        free_tcp_port()
    } else {
        free_udp_port()
    };
    let local = format!("127.0.0.1:{port}");
    let mut callee_args = args(&["answer", "--auto-answer", "--local-addr", &local]);
    callee_args.extend(args(&["--input", b_in.to_str().unwrap()]));
    callee_args.extend(args(&["--output", b_out.to_str().unwrap()]));
    callee_args.extend(args(common));
    callee_args.extend(args(callee_extra));
    let callee = spawn(&callee_args);
    wait_listening(port, tcp);
    let target = format!("sip:bob@127.0.0.1:{port}");
    let mut caller_args = args(&["call", &target, "--local-addr", "127.0.0.1:0"]);
    caller_args.extend(args(&["--input", a_in.to_str().unwrap()]));
    caller_args.extend(args(&["--output", a_out.to_str().unwrap()]));
    caller_args.extend(args(&["--duration", "2.5"]));
    caller_args.extend(args(common));
    caller_args.extend(args(caller_extra));
    let caller = wait(spawn(&caller_args), Duration::from_secs(30));
    let callee = wait(callee, Duration::from_secs(10));
    Pair {
        caller,
        callee,
        caller_heard: a_out,
        callee_heard: b_out,
        _dir: dir,
    }
}

fn assert_pair_ok(p: &Pair, stdout_has: &[&str]) {
    let (a, b) = (text(&p.caller), text(&p.callee));
    assert!(
        p.caller.status.success(),
        "caller failed:\n{a}\ncallee:\n{b}"
    );
    assert!(
        p.callee.status.success(),
        "callee failed:\n{b}\ncaller:\n{a}"
    );
    for s in stdout_has {
        assert!(a.contains(s), "caller output lacks {s:?}:\n{a}");
        assert!(b.contains(s), "callee output lacks {s:?}:\n{b}");
    }
    assert!(a.contains("ended LocalHangup"), "{a}");
    assert!(b.contains("ended RemoteHangup"), "{b}");
    // Each side hears the tone the other sent.
    let heard = check_tone(&p.caller_heard, 440.0, 1000.0)
        .and_then(|()| check_tone(&p.callee_heard, 1000.0, 440.0));
    if let Err(e) = heard {
        panic!("{e}\ncaller:\n{a}\ncallee:\n{b}");
    }
}

#[test]
fn softphone_calls_sipp_with_rtp_echo() {
    let _slot = slot();
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("tone.wav");
    let heard = dir.path().join("heard.wav");
    tone_wav(&input, 1000.0, 8000, 3);
    let (port, media) = (free_udp_port(), free_udp_port());
    let err = dir.path().join("sipp_errors.log");
    let sipp = Command::new(sipp_binary())
        .current_dir(dir.path())
        .args(["-sf", &scenario("softphone_echo_uas.xml")])
        .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-m", "1"])
        .args(["-mp", &media.to_string(), "-rtp_echo"])
        .args(["-nostdin", "-timeout", "30s", "-trace_err", "-error_file"])
        .arg(&err)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sipp");
    wait_listening(port, false);
    let target = format!("sip:echo@127.0.0.1:{port}");
    let out = wait(
        spawn(&args(&[
            "call",
            &target,
            "--local-addr",
            "127.0.0.1:0",
            "--codecs",
            "pcmu",
            "--input",
            input.to_str().unwrap(),
            "--output",
            heard.to_str().unwrap(),
            "--duration",
            "2.5",
        ])),
        Duration::from_secs(30),
    );
    let sipp = wait(sipp, Duration::from_secs(10));
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("media codec=PCMU"), "{log}");
    // The 183's answer started the media; the 200 repeated it and kept the stream.
    assert!(log.contains("early media\nmedia codec=PCMU"), "{log}");
    assert_eq!(log.matches("media codec=").count(), 1, "{log}");
    assert!(
        sipp.status.success(),
        "sipp failed {:?}: {}\n{}",
        sipp.status,
        std::fs::read_to_string(&err).unwrap_or_default(),
        log
    );
    let (rate, _) = read_wav(&heard);
    assert_eq!(rate, 8000);
    if let Err(e) = check_tone(&heard, 1000.0, 440.0) {
        panic!("echo: {e}\n{log}");
    }
}

#[test]
fn two_softphones_pcmu() {
    let _slot = slot();
    let p = call_pair(&["--codecs", "pcmu"], &[], &[], false);
    assert_pair_ok(&p, &["media codec=PCMU pt=0", "srtp=no"]);
}

#[test]
fn two_softphones_pcma() {
    let _slot = slot();
    let p = call_pair(&["--codecs", "pcma"], &[], &[], false);
    assert_pair_ok(&p, &["media codec=PCMA pt=8"]);
}

#[test]
fn two_softphones_g722() {
    let _slot = slot();
    let p = call_pair(&["--codecs", "g722,pcmu"], &[], &[], false);
    assert_pair_ok(&p, &["media codec=G722 pt=9"]);
}

#[test]
fn two_softphones_opus() {
    let _slot = slot();
    let p = call_pair(&["--codecs", "opus,pcmu"], &[], &[], false);
    assert_pair_ok(&p, &["media codec=opus pt=111", "telephone-event=110"]);
}

#[test]
fn codec_preference_follows_the_offer_and_the_answerer_policy() {
    let _slot = slot();
    // The caller prefers PCMA; the answerer only has PCMU and G.722 besides: PCMU wins
    // because the answerer picks its first codec that the offer has.
    let p = call_pair(
        &[],
        &["--codecs", "pcma,pcmu"],
        &["--codecs", "g722,pcmu"],
        false,
    );
    assert_pair_ok(&p, &["media codec=PCMU"]);
}

#[test]
fn two_softphones_srtp_sdes() {
    let _slot = slot();
    let p = call_pair(&["--srtp", "--codecs", "pcmu"], &[], &[], false);
    // SRTCP crosses too: one report each way in 2.5 s (the first after 1 s).
    assert_pair_ok(&p, &["srtp=yes", "dropped=0", "rtcp sent=1 received=1"]);
}

#[test]
fn two_softphones_srtp_opus_over_tcp() {
    let _slot = slot();
    let p = call_pair(
        &["--srtp", "--transport", "tcp", "--codecs", "opus"],
        &[],
        &[],
        true,
    );
    assert_pair_ok(&p, &["sip TCP", "srtp=yes", "media codec=opus"]);
}

#[test]
fn srtp_callee_refuses_a_plain_caller() {
    let _slot = slot();
    let p = call_pair(&["--codecs", "pcmu"], &[], &["--srtp"], false);
    let (a, b) = (text(&p.caller), text(&p.callee));
    assert!(!p.caller.status.success(), "{a}");
    assert!(a.contains("ended Rejected(488)"), "{a}\n{b}");
    assert!(b.contains("rejected incoming call: 488"), "{b}");
}

#[test]
fn dtmf_rfc4733() {
    let _slot = slot();
    let p = call_pair(&["--codecs", "pcmu"], &["--dtmf", "159#"], &[], false);
    let (a, b) = (text(&p.caller), text(&p.callee));
    assert!(p.caller.status.success(), "{a}");
    assert!(a.contains("sent dtmf 1 rfc4733"), "{a}");
    let got: Vec<&str> = b.lines().filter(|l| l.starts_with("dtmf ")).collect();
    assert_eq!(
        got,
        [
            "dtmf 1 rfc4733",
            "dtmf 5 rfc4733",
            "dtmf 9 rfc4733",
            "dtmf # rfc4733"
        ],
        "{b}"
    );
}

#[test]
fn dtmf_by_sip_info() {
    let _slot = slot();
    let p = call_pair(
        &["--codecs", "pcmu"],
        &["--dtmf", "*7", "--dtmf-info"],
        &[],
        false,
    );
    let (a, b) = (text(&p.caller), text(&p.callee));
    assert!(p.caller.status.success(), "{a}");
    let got: Vec<&str> = b.lines().filter(|l| l.starts_with("dtmf ")).collect();
    assert_eq!(got, ["dtmf * info", "dtmf 7 info"], "{b}\n{a}");
}

/// Starts sipp with `scenario` on a free port (and `extra` arguments); returns the child,
/// its SIP port and its error log.
fn spawn_sipp(dir: &Path, scenario_name: &str, extra: &[&str]) -> (Child, u16, PathBuf) {
    let port = free_udp_port();
    let err = dir.join(format!("{scenario_name}.errors.log"));
    let child = Command::new(sipp_binary())
        .current_dir(dir)
        .args(["-sf", &scenario(scenario_name)])
        .args(["-i", "127.0.0.1", "-p", &port.to_string(), "-m", "1"])
        .args(["-nostdin", "-timeout", "30s", "-trace_err", "-error_file"])
        .arg(&err)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sipp");
    wait_listening(port, false);
    (child, port, err)
}

#[test]
fn register_with_digest_then_unregister() {
    let _slot = slot();
    let dir = tempfile::tempdir().expect("temp dir");
    let (sipp, port, err) = spawn_sipp(dir.path(), "softphone_register_uas.xml", &[]);
    let server = format!("127.0.0.1:{port}");
    let out = wait(
        spawn(&args(&[
            "register",
            "--server",
            &server,
            "--user",
            "alice",
            "--password",
            "secret",
            "--duration",
            "1",
        ])),
        Duration::from_secs(30),
    );
    let sipp = wait(sipp, Duration::from_secs(10));
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("aor sip:alice@127.0.0.1"), "{log}");
    assert!(log.contains("registered expires=120"), "{log}");
    assert!(log.contains("unregistered"), "{log}");
    assert!(
        sipp.status.success(),
        "sipp failed {:?}: {}\n{log}",
        sipp.status,
        std::fs::read_to_string(&err).unwrap_or_default()
    );
}

#[test]
fn register_with_a_wrong_password_fails() {
    let _slot = slot();
    let dir = tempfile::tempdir().expect("temp dir");
    let (sipp, port, _) = spawn_sipp(dir.path(), "softphone_register_uas.xml", &[]);
    let server = format!("127.0.0.1:{port}");
    let out = wait(
        spawn(&args(&[
            "register",
            "--server",
            &server,
            "--user",
            "alice",
            "--password",
            "wrong",
        ])),
        Duration::from_secs(30),
    );
    let sipp = wait(sipp, Duration::from_secs(10));
    let log = text(&out);
    assert!(!out.status.success(), "{log}");
    assert!(log.contains("registration failed 403"), "{log}");
    assert!(!sipp.status.success(), "sipp accepted a wrong password");
}

#[test]
fn call_through_a_trunk_with_digest_and_rtp_echo() {
    let _slot = slot();
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("tone.wav");
    let heard = dir.path().join("heard.wav");
    tone_wav(&input, 1000.0, 48_000, 3);
    let media = free_udp_port().to_string();
    let (sipp, port, err) = spawn_sipp(
        dir.path(),
        "softphone_auth_echo_uas.xml",
        &["-mp", &media, "-rtp_echo"],
    );
    let server = format!("127.0.0.1:{port}");
    let out = wait(
        spawn(&args(&[
            "call",
            "bob",
            "--server",
            &server,
            "--user",
            "alice",
            "--password",
            "secret",
            "--codecs",
            "pcmu,pcma",
            "--dtmf",
            "5",
            "--input",
            input.to_str().unwrap(),
            "--output",
            heard.to_str().unwrap(),
            "--duration",
            "2.5",
        ])),
        Duration::from_secs(30),
    );
    let sipp = wait(sipp, Duration::from_secs(10));
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("calling sip:bob@127.0.0.1"), "{log}");
    // The answer chose PCMA from the offer, without telephone-event: DTMF goes by INFO.
    assert!(
        log.contains("media codec=PCMA pt=8 remote=127.0.0.1:"),
        "{log}"
    );
    assert!(log.contains("telephone-event=no"), "{log}");
    assert!(log.contains("sent dtmf 5 info"), "{log}");
    assert!(
        sipp.status.success(),
        "sipp failed {:?}: {}\n{log}",
        sipp.status,
        std::fs::read_to_string(&err).unwrap_or_default()
    );
    if let Err(e) = check_tone(&heard, 1000.0, 440.0) {
        panic!("echo: {e}\n{log}");
    }
}

/// A callee on a free port and a caller with its stdin and stdout piped; returns both
/// children and a channel of the caller's stdout lines.
fn keyboard_call() -> (
    Child,
    Child,
    std::sync::mpsc::Receiver<String>,
    std::thread::JoinHandle<Vec<String>>,
) {
    use std::io::BufRead;
    let port = free_udp_port();
    let local = format!("127.0.0.1:{port}");
    let callee = spawn(&args(&[
        "answer",
        "--auto-answer",
        "--local-addr",
        &local,
        "--codecs",
        "pcmu",
        "--input",
        "null",
        "--output",
        "null",
    ]));
    wait_listening(port, false);
    let target = format!("sip:bob@{local}");
    let mut caller = Command::new(BIN)
        .args(["call", &target, "--local-addr", "127.0.0.1:0"])
        .args(["--codecs", "pcmu", "--input", "null", "--output", "null"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn softphone");
    let stdout = caller.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line.clone());
            all.push(line);
        }
        all
    });
    (caller, callee, rx, reader)
}

fn wait_line(rx: &std::sync::mpsc::Receiver<String>, prefix: &str) {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(20) {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(100))
            && l.starts_with(prefix)
        {
            return;
        }
    }
    panic!("no {prefix:?} line from the softphone");
}

#[test]
fn keyboard_digits_then_h_hangs_up() {
    let _slot = slot();
    use std::io::Write;
    let (mut caller, callee, rx, reader) = keyboard_call();
    wait_line(&rx, "media ");
    let mut stdin = caller.stdin.take().expect("stdin");
    stdin.write_all(b"42\n").expect("type digits");
    std::thread::sleep(Duration::from_millis(800));
    stdin.write_all(b"h\n").expect("type h");
    let caller = wait(caller, Duration::from_secs(20));
    let lines = reader.join().expect("reader");
    let callee = wait(callee, Duration::from_secs(10));
    let (a, b) = (lines.join("\n"), text(&callee));
    assert!(caller.status.success(), "{a}");
    assert!(a.contains("ended LocalHangup"), "{a}");
    let got: Vec<&str> = b.lines().filter(|l| l.starts_with("dtmf ")).collect();
    assert_eq!(got, ["dtmf 4 rfc4733", "dtmf 2 rfc4733"], "{b}");
    assert!(b.contains("ended RemoteHangup"), "{b}");
}

#[test]
fn ctrl_c_hangs_up() {
    let _slot = slot();
    let (caller, callee, rx, reader) = keyboard_call();
    wait_line(&rx, "media ");
    std::thread::sleep(Duration::from_millis(300));
    let st = Command::new("kill")
        .args(["-INT", &caller.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(st.success());
    let caller = wait(caller, Duration::from_secs(20));
    let lines = reader.join().expect("reader");
    let callee = wait(callee, Duration::from_secs(10));
    let a = lines.join("\n");
    assert!(caller.status.success(), "{a}");
    assert!(a.contains("ended LocalHangup"), "{a}");
    assert!(
        text(&callee).contains("ended RemoteHangup"),
        "{}",
        text(&callee)
    );
}

#[test]
fn callee_without_audio_rejects_with_500() {
    let _slot = slot();
    let port = free_udp_port();
    let local = format!("127.0.0.1:{port}");
    let callee = spawn(&args(&[
        "answer",
        "--auto-answer",
        "--local-addr",
        &local,
        "--input",
        "null",
        "--output",
        "/nonexistent/heard.wav",
    ]));
    wait_listening(port, false);
    let target = format!("sip:bob@{local}");
    let caller = wait(
        spawn(&args(&[
            "call",
            &target,
            "--local-addr",
            "127.0.0.1:0",
            "--input",
            "null",
            "--output",
            "null",
        ])),
        Duration::from_secs(30),
    );
    let callee = wait(callee, Duration::from_secs(10));
    let (a, b) = (text(&caller), text(&callee));
    assert!(!caller.status.success(), "{a}");
    assert!(a.contains("ended Rejected(500)"), "{a}\n{b}");
    assert!(!callee.status.success(), "{b}");
    assert!(b.contains("/nonexistent/heard.wav"), "{b}");
}

#[test]
fn sipp_calls_the_softphone_and_puts_it_on_hold() {
    let _slot = slot();
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("tone.wav");
    let heard = dir.path().join("heard.wav");
    tone_wav(&input, 1000.0, 16_000, 4);
    let port = free_udp_port();
    let local = format!("127.0.0.1:{port}");
    let callee = spawn(&args(&[
        "answer",
        "--auto-answer",
        "--local-addr",
        &local,
        "--input",
        input.to_str().unwrap(),
        "--output",
        heard.to_str().unwrap(),
    ]));
    wait_listening(port, false);
    let media = free_udp_port().to_string();
    let err = dir.path().join("hold.errors.log");
    let sipp = Command::new(sipp_binary())
        .current_dir(dir.path())
        .args(["-sf", &scenario("softphone_hold_uac.xml"), &local])
        .args(["-i", "127.0.0.1", "-p", &free_udp_port().to_string()])
        .args(["-m", "1", "-s", "bob", "-mp", &media, "-rtp_echo"])
        .args(["-nostdin", "-timeout", "30s", "-trace_err", "-error_file"])
        .arg(&err)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sipp");
    let sipp = wait(sipp, Duration::from_secs(30));
    let callee = wait(callee, Duration::from_secs(10));
    let log = text(&callee);
    assert!(
        sipp.status.success(),
        "sipp failed {:?}: {}\n{log}",
        sipp.status,
        std::fs::read_to_string(&err).unwrap_or_default()
    );
    assert!(callee.status.success(), "{log}");
    assert!(log.contains("media codec=PCMU"), "{log}");
    // The hold re-INVITE stopped our sending without a new stream.
    assert!(log.contains("media sending=false"), "{log}");
    assert_eq!(log.matches("media codec=").count(), 1, "{log}");
    assert!(log.contains("ended RemoteHangup"), "{log}");
    if let Err(e) = check_tone(&heard, 1000.0, 440.0) {
        panic!("echo: {e}\n{log}");
    }
}

#[test]
fn callee_answers_from_the_keyboard() {
    use std::io::{BufRead, Write};
    let _slot = slot();
    let port = free_udp_port();
    let local = format!("127.0.0.1:{port}");
    let mut callee = Command::new(BIN)
        .args(["answer", "--local-addr", &local, "--input", "null"])
        .args(["--output", "null"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn softphone");
    let stdout = callee.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line.clone());
            all.push(line);
        }
        all
    });
    wait_listening(port, false);
    let target = format!("sip:bob@{local}");
    let caller = spawn(&args(&[
        "call",
        &target,
        "--local-addr",
        "127.0.0.1:0",
        "--input",
        "null",
        "--output",
        "null",
        "--duration",
        "1",
    ]));
    wait_line(&rx, "type a + Enter");
    // The caller hears ringing until we answer.
    std::thread::sleep(Duration::from_millis(500));
    let mut stdin = callee.stdin.take().expect("stdin");
    stdin.write_all(b"a\n").expect("type a");
    let caller = wait(caller, Duration::from_secs(20));
    let callee = wait(callee, Duration::from_secs(10));
    let lines = reader.join().expect("reader").join("\n");
    let a = text(&caller);
    assert!(caller.status.success(), "{a}\n{lines}");
    assert!(a.contains("ringing\nanswered"), "{a}");
    assert!(callee.status.success(), "{lines}");
    assert!(lines.contains("ended RemoteHangup"), "{lines}");
}

#[test]
fn ctrl_c_while_ringing_cancels() {
    let _slot = slot();
    let port = free_udp_port();
    let local = format!("127.0.0.1:{port}");
    // No --auto-answer: the callee rings until the caller gives up.
    let callee = spawn(&args(&[
        "answer",
        "--local-addr",
        &local,
        "--input",
        "null",
        "--output",
        "null",
    ]));
    wait_listening(port, false);
    let target = format!("sip:bob@{local}");
    let mut caller = Command::new(BIN)
        .args(["call", &target, "--local-addr", "127.0.0.1:0"])
        .args(["--input", "null", "--output", "null"])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn softphone");
    let stdout = caller.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut all = Vec::new();
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line.clone());
            all.push(line);
        }
        all
    });
    wait_line(&rx, "ringing");
    let st = Command::new("kill")
        .args(["-INT", &caller.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(st.success());
    let caller = wait(caller, Duration::from_secs(20));
    let a = reader.join().expect("reader").join("\n");
    let callee = wait(callee, Duration::from_secs(3));
    let b = text(&callee);
    // No call was established: the caller exits non-zero after the CANCEL.
    assert!(!caller.status.success(), "{a}");
    assert!(a.contains("ended LocalHangup"), "{a}");
    assert!(b.contains("incoming call from"), "{b}");
    assert!(b.contains("ended Cancelled"), "{b}");
}

#[test]
fn devices_and_help() {
    let out = Command::new(BIN)
        .arg("devices")
        .stdin(Stdio::null())
        .output()
        .expect("softphone devices");
    assert!(out.status.success(), "{}", text(&out));
    let out = Command::new(BIN)
        .arg("--help")
        .output()
        .expect("softphone --help");
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in ["devices", "register", "call", "answer"] {
        assert!(help.contains(cmd), "{help}");
    }
    // A bad codec name is a usage error, not a crash.
    let out = Command::new(BIN)
        .args(["call", "sip:x@127.0.0.1", "--codecs", "g729"])
        .output()
        .expect("softphone");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn re_invite_without_sdp_gets_an_offer() {
    let _slot = slot();
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_udp_port();
    let local = format!("127.0.0.1:{port}");
    let callee = spawn(&args(&[
        "answer",
        "--auto-answer",
        "--local-addr",
        &local,
        "--input",
        "null",
        "--output",
        "null",
    ]));
    wait_listening(port, false);
    let err = dir.path().join("nosdp.errors.log");
    let sipp = Command::new(sipp_binary())
        .current_dir(dir.path())
        .args(["-sf", &scenario("softphone_reinvite_nosdp_uac.xml"), &local])
        .args(["-i", "127.0.0.1", "-p", &free_udp_port().to_string()])
        .args(["-m", "1", "-s", "bob"])
        .args(["-nostdin", "-timeout", "30s", "-trace_err", "-error_file"])
        .arg(&err)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sipp");
    let sipp = wait(sipp, Duration::from_secs(30));
    let callee = wait(callee, Duration::from_secs(10));
    let log = text(&callee);
    assert!(
        sipp.status.success(),
        "sipp failed {:?}: {}\n{log}",
        sipp.status,
        std::fs::read_to_string(&err).unwrap_or_default()
    );
    assert!(callee.status.success(), "{log}");
    assert_eq!(log.matches("media codec=").count(), 1, "{log}");
    assert!(log.contains("ended RemoteHangup"), "{log}");
}
