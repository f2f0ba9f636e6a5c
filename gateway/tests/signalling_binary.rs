//! The `gateway` binary: configuration errors name the key and exit with status 2; a start
//! on a fresh data directory creates and prints the demo users' and the console's
//! passwords, which survive a restart; SIGTERM shuts it down cleanly.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
        std::thread::sleep(Duration::from_millis(50));
    }
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
