//! The gateway under load: the real `gateway` binary started as a child process with a
//! generated configuration (one user, one trunk at the sink, `+1555…` routed to it, rate
//! limiting off), its `/api/stats` counters over HTTP, and its CPU time and resident
//! memory from `/proc/<pid>/stat` and `/proc/<pid>/status`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::LoadError;
use crate::server::Stats;

/// The SIP user call `i` registers and authenticates as (one per call: the registrar
/// keeps at most 10 bindings per user).
pub fn user(i: usize) -> String {
    format!("load{i}")
}

/// Their password.
pub const PASSWORD: &str = "load-secret-1";
/// The console password (for `/api/stats`).
pub const ADMIN_PW: &str = "load-admin-1";

/// A free UDP/TCP port on 127.0.0.1 (bound and released: a small race, fine on loopback).
pub fn free_port() -> Result<u16, LoadError> {
    let s = std::net::TcpListener::bind("127.0.0.1:0").map_err(LoadError::io("free port"))?;
    let p = s.local_addr().map_err(LoadError::io("free port"))?.port();
    let u = std::net::UdpSocket::bind(("127.0.0.1", p));
    Ok(if u.is_ok() { p } else { free_port_udp()? })
}

fn free_port_udp() -> Result<u16, LoadError> {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").map_err(LoadError::io("free port"))?;
    Ok(s.local_addr().map_err(LoadError::io("free port"))?.port())
}

/// The gateway configuration for a run: HTTP/WebSocket on `http`, SIP UDP on `sip`, the
/// trunk `sink` at `sink`, room for `calls` calls and a user for each; `extra` is appended
/// (more sections, e.g. `[media]` settings under test).
pub fn config_toml(
    http: SocketAddr,
    sip: SocketAddr,
    sink: SocketAddr,
    calls: usize,
    extra: &str,
) -> String {
    let users: String = (0..calls)
        .map(|i| {
            format!(
                "[[users]]\nusername = \"{}\"\npassword = \"{PASSWORD}\"\n",
                user(i)
            )
        })
        .collect();
    format!(
        r#"[http]
listen = "{http}"
[sip]
udp = "{sip}"
tcp = "127.0.0.1:{tcp}"
domain = "127.0.0.1"
[admin]
password = "{ADMIN_PW}"
[limits]
max_calls = {max_calls}
requests_per_second_per_source = 0
{users}[[trunks]]
name = "sink"
host = "{sink}"
options_interval = 0
[[dialplan]]
pattern = "+1555."
target = "trunk:sink"
{extra}"#,
        tcp = sip.port(),
        max_calls = calls + 16,
    )
}

/// A running gateway process (killed on drop).
pub struct GatewayProcess {
    child: tokio::process::Child,
    /// Its HTTP/WebSocket address.
    pub http: SocketAddr,
    /// Its process id.
    pub pid: u32,
    _dir: tempfile::TempDir,
    log: PathBuf,
}

impl GatewayProcess {
    /// Starts `bin` with a configuration whose trunk is `sink`, and waits until it
    /// answers HTTP. `log_filter` is its `RUST_LOG`.
    pub async fn spawn(
        bin: &Path,
        sink: SocketAddr,
        calls: usize,
        log_filter: &str,
        extra: &str,
    ) -> Result<GatewayProcess, LoadError> {
        let dir = tempfile::tempdir().map_err(LoadError::io("temp dir"))?;
        let http = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let sip = SocketAddr::from(([127, 0, 0, 1], free_port()?));
        let cfg = dir.path().join("gateway.toml");
        std::fs::write(&cfg, config_toml(http, sip, sink, calls, extra))
            .map_err(LoadError::io("write config"))?;
        let log = dir.path().join("gateway.log");
        let log_file = std::fs::File::create(&log).map_err(LoadError::io("gateway log"))?;
        let child = tokio::process::Command::new(bin)
            .arg("--config")
            .arg(&cfg)
            .arg("--data-dir")
            .arg(dir.path())
            .env("RUST_LOG", log_filter)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .map_err(LoadError::io("spawn the gateway binary"))?;
        let pid = child
            .id()
            .ok_or(LoadError::Gateway("exited at once".into()))?;
        let mut g = GatewayProcess {
            child,
            http,
            pid,
            _dir: dir,
            log,
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            if stats(http).await.is_ok() {
                return Ok(g);
            }
            if let Ok(Some(st)) = g.child.try_wait() {
                return Err(LoadError::Gateway(format!(
                    "exited with {st}: {}",
                    g.log_tail()
                )));
            }
            if tokio::time::Instant::now() > deadline {
                return Err(LoadError::Gateway(format!(
                    "no HTTP answer within 15 s: {}",
                    g.log_tail()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The last lines of the gateway's log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Stops the process (SIGKILL; its state is in the temporary directory).
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// `GET /api/stats` of the gateway at `http`.
pub async fn stats(http: SocketAddr) -> Result<Stats, LoadError> {
    let body = http_get(http, "/api/stats").await?;
    let v: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| LoadError::Gateway(format!("/api/stats: {e}")))?;
    let n = |k: &str| v[k].as_u64().unwrap_or(u64::MAX) as usize;
    Ok(Stats {
        calls: n("calls"),
        call_tasks: n("call_tasks"),
        legs: n("legs"),
        flows: n("flows"),
        routes: n("routes"),
        // Gateways before the flow index do not report it: none held.
        flow_watchers: v["flow_watchers"].as_u64().unwrap_or(0) as usize,
        registrations: n("registrations"),
        records_written: n("records_written") as u64,
        media_ports: n("media_ports"),
    })
}

/// `(calls, transcoding)`: the live calls `/api/calls` lists and how many of them it
/// reports as transcoded.
pub async fn calls_transcoding(http: SocketAddr) -> Result<(usize, usize), LoadError> {
    let body = http_get(http, "/api/calls").await?;
    let v: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| LoadError::Gateway(format!("/api/calls: {e}")))?;
    let calls = v.as_array().map_or(&[][..], Vec::as_slice);
    let transcoding = calls
        .iter()
        .filter(|c| c["transcoding"] == serde_json::Value::Bool(true))
        .count();
    Ok((calls.len(), transcoding))
}

async fn http_get(addr: SocketAddr, path: &str) -> Result<String, LoadError> {
    let io = LoadError::io("gateway HTTP");
    let mut s = TcpStream::connect(addr).await.map_err(io)?;
    let auth = crate::http::base64(format!("admin:{ADMIN_PW}").as_bytes());
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic {auth}\r\n\
Connection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes())
        .await
        .map_err(LoadError::io("gateway HTTP"))?;
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf))
        .await
        .map_err(|_| LoadError::Gateway(format!("{path}: no answer")))?
        .map_err(LoadError::io("gateway HTTP"))?;
    let text = String::from_utf8_lossy(&buf);
    if !text.starts_with("HTTP/1.1 200") {
        return Err(LoadError::Gateway(format!(
            "{path}: {}",
            text.lines().next().unwrap_or("")
        )));
    }
    Ok(text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string())
}

/// CPU time (user + system, all threads) of process `pid`, in seconds.
///
/// `/proc/<pid>/stat` counts in `USER_HZ` ticks, which Linux fixes at 100 for user space
/// on every architecture it exports it (`sysconf(_SC_CLK_TCK)`), so a tick is 10 ms.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    stat_cpu_seconds(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// User + system CPU seconds from the text of a `/proc/…/stat` file (a process's or a
/// thread's).
pub fn stat_cpu_seconds(s: &str) -> Option<f64> {
    // The command name (field 2) may contain spaces: count fields after its ')'.
    let rest = s.get(s.rfind(')')? + 2..)?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name.
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// Resident set size of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_readers_see_this_process() {
        let me = std::process::id();
        let t0 = cpu_seconds(me).expect("stat");
        let mut x = 0u64;
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(60) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        assert!(
            cpu_seconds(me).expect("stat") > t0,
            "60 ms of spinning shows"
        );
        assert!(rss_kib(me).expect("status") > 100);
    }

    #[test]
    fn generated_config_is_valid() {
        let a = |p| SocketAddr::from(([127, 0, 0, 1], p));
        let c = crate::config::Config::from_toml(&config_toml(
            a(1),
            a(2),
            a(3),
            10,
            "[media]\nthreads = 1\n",
        ))
        .expect("valid config");
        assert_eq!(c.limits.max_calls, 26);
        assert_eq!(c.trunks[0].host, "127.0.0.1:3");
        assert_eq!(c.users.len(), 10);
        assert_eq!(c.users[9].username, "load9");
    }
}
