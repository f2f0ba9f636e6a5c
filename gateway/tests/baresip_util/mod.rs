//! A baresip 1.0 child process playing a SIP trunk for the gateway's end-to-end tests.
//!
//! Everything baresip reads comes from a generated directory (`baresip -f DIR`, `HOME`
//! pointed there too): `config` and `accounts`. It listens for SIP on 127.0.0.1 only (UDP;
//! its TCP listener shares the port), does not register (`regint=0`: the gateway
//! recognises a trunk by its source address, and baresip is no registrar for the gateway
//! to register to), answers every call itself (`answermode=auto`), offers PCMU/PCMA with
//! telephone-event, sends a sine tone from `ausine` and records what it decodes with the
//! `sndfile` filter (`rec/dump-…-dec.wav`, 8 kHz mono). It is driven through `ctrl_tcp`:
//! JSON commands (`dial`, `hangup`, `sndcode`, `hold`, …) and events (`CALL_ESTABLISHED`,
//! `CALL_CLOSED`, …) in netstrings. The process is killed when [`Baresip`] is dropped.
//!
//! baresip quirks worth knowing: 1.0.0 accepts a request only when its Request-URI user is
//! its account's user (there is no catch-all account), so the account's user is the number
//! the gateway dials; `ausine` only runs at 48 kHz stereo (baresip resamples to the codec);
//! `net_interface` takes an address (`127.0.0.1`), not `lo`.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use rvoip_core::codec::tone_power;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

/// Where Debian's `baresip-core` installs the binary and its modules.
const BINARY: &str = "/usr/bin/baresip";
const MODULES: &str = "/usr/lib/baresip/modules";
/// The modules the configuration loads.
const NEEDED: [&str; 7] = [
    "g711", "ausine", "aubridge", "sndfile", "account", "menu", "ctrl_tcp",
];

/// The baresip binary; panics (never skips) when it or a module is missing.
pub fn baresip_binary() -> PathBuf {
    let missing: Vec<&str> = NEEDED
        .iter()
        .copied()
        .filter(|m| !Path::new(&format!("{MODULES}/{m}.so")).exists())
        .collect();
    assert!(
        Path::new(BINARY).exists() && missing.is_empty(),
        "baresip (with the modules {NEEDED:?}; missing {missing:?}) is not installed: the \
         trunk interop test needs it (Debian/Ubuntu: `apt-get install baresip-core`). \
         Refusing to skip."
    );
    PathBuf::from(BINARY)
}

/// A port free for both UDP and TCP on 127.0.0.1 (baresip listens on both).
fn free_sip_port() -> u16 {
    loop {
        let u = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind UDP");
        let port = u.local_addr().expect("addr").port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn free_tcp_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind TCP");
    l.local_addr().expect("addr").port()
}

/// A running baresip.
pub struct Baresip {
    child: tokio::process::Child,
    dir: tempfile::TempDir,
    /// Its SIP port on 127.0.0.1 (UDP).
    pub sip_port: u16,
    ctrl: TcpStream,
    buf: Vec<u8>,
    events: VecDeque<serde_json::Value>,
    token: u32,
}

impl Baresip {
    /// Starts baresip with the account `sip:{user}@127.0.0.1` answering calls itself and
    /// sending a `tone_hz` sine, and waits until its control socket accepts (it opens after
    /// the SIP listeners).
    pub async fn start(user: &str, tone_hz: u32) -> Baresip {
        Baresip::start_answering(user, tone_hz, "auto").await
    }

    /// Like [`Baresip::start`], with the account's `answermode` (`auto`, `manual`, …).
    pub async fn start_answering(user: &str, tone_hz: u32, answermode: &str) -> Baresip {
        let binary = baresip_binary();
        let dir = tempfile::tempdir().expect("temp dir");
        let sip_port = free_sip_port();
        let ctrl_port = free_tcp_port();
        let rec = dir.path().join("rec");
        std::fs::create_dir_all(&rec).expect("recording dir");
        let config = format!(
            "poll_method\tepoll\n\
             sip_listen\t127.0.0.1:{sip_port}\n\
             net_interface\t127.0.0.1\n\
             call_local_timeout\t30\n\
             call_max_calls\t4\n\
             audio_source\tausine,{tone_hz}\n\
             ausrc_srate\t48000\n\
             ausrc_channels\t2\n\
             audio_player\taubridge,play\n\
             audio_alert\taubridge,alert\n\
             audio_level\tno\n\
             audio_buffer\t20-160\n\
             rtp_ports\t30000-31999\n\
             rtcp_mux\tno\n\
             jitter_buffer_delay\t1-10\n\
             module_path\t{MODULES}\n\
             module\tg711.so\n\
             module\tausine.so\n\
             module\taubridge.so\n\
             module\tsndfile.so\n\
             module_tmp\taccount.so\n\
             module_app\tmenu.so\n\
             module_app\tctrl_tcp.so\n\
             ctrl_tcp_listen\t127.0.0.1:{ctrl_port}\n\
             snd_path\t{rec}\n\
             ringback_disabled\tyes\n\
             menu_bell\tno\n\
             statmode_default\toff\n",
            rec = rec.display(),
        );
        std::fs::write(dir.path().join("config"), config).expect("write config");
        std::fs::write(
            dir.path().join("accounts"),
            format!(
                "<sip:{user}@127.0.0.1>;regint=0;answermode={answermode};\
                 audio_codecs=PCMU,PCMA;ptime=20\n"
            ),
        )
        .expect("write accounts");
        let log = std::fs::File::create(dir.path().join("baresip.log")).expect("log file");
        // `-s`: baresip traces every SIP message into its log (read by
        // [`Baresip::origins_received`]; printed with `SIPTRACE` set).
        let child = tokio::process::Command::new(binary)
            .arg("-s")
            .arg("-f")
            .arg(dir.path())
            .arg("-v")
            .env("HOME", dir.path())
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("spawn baresip");
        let mut child = child;
        let deadline = Instant::now() + Duration::from_secs(15);
        let ctrl = loop {
            if let Ok(s) = TcpStream::connect(("127.0.0.1", ctrl_port)).await {
                break s;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "baresip exited ({status}) before it was ready:\n{}",
                    read_log(dir.path())
                );
            }
            assert!(
                Instant::now() < deadline,
                "baresip never opened its control socket:\n{}",
                read_log(dir.path())
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        Baresip {
            child,
            dir,
            sip_port,
            ctrl,
            buf: Vec::new(),
            events: VecDeque::new(),
            token: 0,
        }
    }

    /// baresip's log so far (for failure messages).
    pub fn log(&self) -> String {
        read_log(self.dir.path())
    }

    /// Runs the `ctrl_tcp` command `command` with `params`; panics unless it succeeds.
    /// Returns its `data`.
    pub async fn command(&mut self, command: &str, params: &str) -> String {
        self.token += 1;
        let token = self.token.to_string();
        let json =
            serde_json::json!({"command": command, "params": params, "token": token}).to_string();
        let frame = format!("{}:{json},", json.len());
        self.ctrl
            .write_all(frame.as_bytes())
            .await
            .expect("write to baresip's control socket");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let msg = self.next_message(deadline, command).await;
            if msg["response"] == true && msg["token"] == token.as_str() {
                assert!(
                    msg["ok"] == true,
                    "baresip refused `{command} {params}`: {msg}\n{}",
                    self.log()
                );
                return msg["data"].as_str().unwrap_or_default().to_string();
            }
            if msg["event"] == true {
                self.events.push_back(msg);
            }
        }
    }

    /// The event of type `ty` if it has arrived (events before it are dropped), without
    /// waiting: for callers that must keep a phone pumped meanwhile.
    pub fn try_event(&mut self, ty: &str) -> Option<serde_json::Value> {
        let mut chunk = [0u8; 4096];
        loop {
            match self.ctrl.try_read(&mut chunk) {
                Ok(0) => panic!("baresip closed its control socket:\n{}", self.log()),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("baresip's control socket: {e}"),
            }
        }
        while let Some(m) = self.parse_frame() {
            if m["event"] == true {
                self.events.push_back(m);
            }
        }
        while let Some(e) = self.events.pop_front() {
            if e["type"] == ty {
                return Some(e);
            }
        }
        None
    }

    /// The next netstring message from the control socket, before `deadline`.
    async fn next_message(&mut self, deadline: Instant, what: &str) -> serde_json::Value {
        loop {
            if let Some(m) = self.parse_frame() {
                return m;
            }
            let mut chunk = [0u8; 4096];
            let left = deadline.saturating_duration_since(Instant::now());
            match timeout(left, self.ctrl.read(&mut chunk)).await {
                Ok(Ok(n)) if n > 0 => self.buf.extend_from_slice(&chunk[..n]),
                Ok(_) => panic!(
                    "baresip closed its control socket waiting for {what}:\n{}",
                    self.log()
                ),
                Err(_) => panic!(
                    "timed out waiting for {what} from baresip (events {:?}):\n{}",
                    self.events,
                    self.log()
                ),
            }
        }
    }

    /// Takes one `LEN:JSON,` netstring off the buffer, if complete.
    fn parse_frame(&mut self) -> Option<serde_json::Value> {
        let colon = self.buf.iter().position(|&b| b == b':')?;
        let len: usize = std::str::from_utf8(&self.buf[..colon])
            .ok()
            .and_then(|s| s.parse().ok())
            .expect("a netstring length from baresip");
        let end = colon + 1 + len;
        if self.buf.len() <= end {
            return None;
        }
        assert_eq!(self.buf[end], b',', "a netstring from baresip");
        let msg = serde_json::from_slice(&self.buf[colon + 1..end]).expect("JSON from baresip");
        self.buf.drain(..=end);
        Some(msg)
    }

    /// The `o=` lines (session id, version) of the SDP bodies baresip received, in order,
    /// from its SIP trace: each message is logged after a `UDP <from> -> <to>` line.
    pub fn origins_received(&self) -> Vec<(String, u64)> {
        let log = std::fs::read_to_string(self.dir.path().join("baresip.log")).unwrap_or_default();
        let me = format!("127.0.0.1:{}", self.sip_port);
        let mut inbound = false;
        let mut out = Vec::new();
        for line in log.lines() {
            if let Some(route) = line.strip_prefix("UDP ") {
                inbound = route.split(" -> ").nth(1) == Some(me.as_str());
            } else if let Some(o) = line.strip_prefix("o=")
                && inbound
            {
                let f: Vec<&str> = o.split_ascii_whitespace().collect();
                if let (Some(id), Some(v)) = (f.get(1), f.get(2).and_then(|v| v.parse().ok())) {
                    out.push((id.to_string(), v));
                }
            }
        }
        out
    }

    /// What baresip decoded from the far end so far (8 kHz mono; all calls, in order).
    pub fn recording(&self) -> Vec<i16> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("rec"))
            .expect("recording dir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().ends_with("-dec.wav"))
            .collect();
        files.sort();
        files
            .iter()
            .flat_map(|p| wav_samples(&std::fs::read(p).unwrap_or_default()))
            .collect()
    }

    /// The share of energy at `hz` in the last 1 s baresip decoded after its first
    /// `since` samples (see [`tone_share`]).
    pub fn heard_since(&self, since: usize, hz: f64) -> f64 {
        tone_share(self.recording().get(since..).unwrap_or_default(), hz)
    }
}

/// The median, over the 50 ms windows of the last second of `pcm` (8 kHz), of the share
/// of energy at `hz` (Goertzel, [`tone_power`]); 0 with less than a second of sound.
pub fn tone_share(pcm: &[i16], hz: f64) -> f64 {
    let Some(last) = pcm.get(pcm.len().saturating_sub(8000)..) else {
        return 0.0;
    };
    if last.len() < 8000 {
        return 0.0;
    }
    let mut shares: Vec<f64> = last
        .chunks_exact(400)
        .map(|w| {
            if w.iter().all(|s| s.unsigned_abs() < 100) {
                0.0
            } else {
                tone_power(w, hz, 8000)
            }
        })
        .collect();
    shares.sort_by(f64::total_cmp);
    shares[shares.len() / 2]
}

/// The samples of a 16-bit PCM WAV that may still be being written: the `data` chunk to the
/// end of the file (libsndfile fills in the chunk sizes only when it closes the file).
fn wav_samples(bytes: &[u8]) -> Vec<i16> {
    let mut at = 12;
    while let Some(h) = bytes.get(at..at + 8) {
        if &h[..4] == b"data" {
            return bytes[at + 8..]
                .chunks_exact(2)
                .map(|c| i16::from_le_bytes([c[0], c[1]]))
                .collect();
        }
        let size = u32::from_le_bytes([h[4], h[5], h[6], h[7]]) as usize;
        at += 8 + size + (size & 1);
    }
    Vec::new()
}

fn read_log(dir: &Path) -> String {
    let log = std::fs::read_to_string(dir.join("baresip.log")).unwrap_or_default();
    let keep = std::env::var_os("SIPTRACE").map_or(6000, |_| 200_000);
    let start = log.len().saturating_sub(keep);
    let start = (start..log.len())
        .find(|&i| log.is_char_boundary(i))
        .unwrap_or(0);
    format!("--- baresip log (tail) ---\n{}", &log[start..])
}

impl Drop for Baresip {
    fn drop(&mut self) {
        if std::env::var_os("SIPTRACE").is_some() {
            eprintln!("{}", self.log());
        }
        // kill_on_drop sends SIGKILL too; do it now and reap it (briefly blocking), so no
        // baresip — nor its zombie — outlives the test, panicking or not.
        let _ = self.child.start_kill();
        for _ in 0..200 {
            if !matches!(self.child.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
