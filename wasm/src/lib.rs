//! rvoip-wasm: the browser SIP user agent (SIP over WebSocket, RFC 7118) as wasm-bindgen
//! bindings of `rvoip-core`.
//!
//! The split of work (DESIGN.md, "thin drivers"):
//! - **here (wasm)**: everything SIP — transactions, dialogs, registration with digest
//!   (MD5, SHA-256), calls, re-INVITE hold, INFO DTMF, REFER, MESSAGE — in rvoip-core's
//!   [`UserAgent`](rvoip_core::sip::ua::UserAgent); the choice of WebSocket server, the
//!   reconnection backoff, re-registration and keep-alive supervision in [`phone::Phone`];
//!   the E-model MOS in [`quality`];
//! - **JavaScript** (`ts/`): the WebSocket, one timer, RTCPeerConnection and
//!   getUserMedia, and the public promise/event API.
//!
//! The exported class [`WasmPhone`] is driven like every sans-IO machine of the core:
//! call `handle_*`/a command, then drain `poll_action()` and `poll_event()` until they
//! return `undefined`, then arm one timer for `poll_timeout()` (milliseconds on the same
//! clock as the `now` arguments, `-1` for none).
#![warn(missing_docs)]

pub mod phone;
pub mod pool;
pub mod quality;
pub mod rng;

use alloc::string::String;
use alloc::vec::Vec;
use wasm_bindgen::prelude::wasm_bindgen;

use rvoip_core::sip::ua::{CallId, EndReason, Event, RegistrationState, UaError};
use rvoip_core::time::Instant;

use phone::{Action, Phone, PhoneConfig, PhoneEvent};
use pool::Server;
use rng::CryptoRng;

extern crate alloc;

/// The allocator of the browser build: lol_alloc's free list (O(free blocks) per call, and a
/// browser UA has few) is ~7 KB of wasm smaller than std's dlmalloc.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

/// Milliseconds (as JavaScript's `performance.now()`) to the core's instant.
fn instant(now_ms: f64) -> Instant {
    if now_ms.is_finite() && now_ms > 0.0 {
        Instant::from_micros((now_ms * 1000.0) as u64)
    } else {
        Instant::ZERO
    }
}

/// A command's result code: `-1` unknown call, `-2` not allowed in the current state, `-3`
/// no route, `-4` too many calls.
fn err_code(e: UaError) -> i32 {
    match e {
        UaError::UnknownCall => -1,
        UaError::InvalidState => -2,
        UaError::NoRoute => -3,
        _ => -4,
    }
}

fn status(r: Result<(), UaError>) -> i32 {
    r.map_or_else(err_code, |()| 0)
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into())
}

/// One event for the application; it crosses to JavaScript as one string
/// ([`PhoneEventJs::encode`]: one call and one copy instead of a class with a getter and a
/// setter per field). Fields by `kind`:
///
/// | kind | call | code | text | body |
/// |---|---|---|---|---|
/// | `connecting`, `connected` | | | URL | |
/// | `disconnected` | | retry delay ms (`-1`: none) | | |
/// | `registered` | | expires s | | |
/// | `unregistered` | | | | |
/// | `registrationFailed` | | status | | |
/// | `incoming` | call | | From | SDP offer |
/// | `ringing` | call | | | |
/// | `early` | call | | | SDP |
/// | `answered` | call | | | SDP |
/// | `ended` | call | status (rejected) | `local`, `remote`, `rejected`, `cancelled`, `timeout`, `replaced` | |
/// | `offer` | call | | | SDP (re-INVITE/UPDATE from the peer) |
/// | `mediaUpdated` | call | | | SDP answer |
/// | `offerRejected` | call | status | | |
/// | `message` | | | From | text; `extra`: Content-Type |
/// | `messageStatus` | message id | status | | |
/// | `dtmf` | call | duration ms | digit | |
/// | `transferRequested` | call | | target | |
/// | `transferProgress` | call | status | | |
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhoneEventJs {
    /// The event's kind (see the table).
    pub kind: String,
    /// Call (or message) handle.
    pub call: u32,
    /// Status code, expires, delay or duration.
    pub code: i32,
    /// URL, From, reason, digit or target.
    pub text: String,
    /// SDP or message body.
    pub body: Option<String>,
    /// Content-Type of a message.
    pub extra: String,
}

/// The separator of [`PhoneEventJs::encode`] (U+001F UNIT SEPARATOR).
const SEP: char = '\u{1f}';

impl PhoneEventJs {
    /// `kind`, `call`, `code`, `text` and `extra` separated by U+001F, then U+001F and the
    /// body when there is one. The body comes last and may contain U+001F; in `text` and
    /// `extra` (header values, where it has no business) it becomes U+FFFD.
    pub fn encode(&self) -> String {
        enc(
            &self.kind,
            self.call,
            self.code,
            &self.text,
            &self.extra,
            self.body.as_deref().map(str::as_bytes),
        )
    }

    /// Reads [`Self::encode`]'s form back (what the TypeScript wrapper does).
    pub fn decode(s: &str) -> Option<PhoneEventJs> {
        let mut f = s.splitn(6, SEP);
        Some(PhoneEventJs {
            kind: f.next()?.into(),
            call: f.next()?.parse().ok()?,
            code: f.next()?.parse().ok()?,
            text: f.next()?.into(),
            extra: f.next()?.into(),
            body: f.next().map(String::from),
        })
    }
}

/// [`PhoneEventJs::encode`] of the fields, straight from the phone's event (no
/// intermediate struct: the kinds stay static strings). A body that is not UTF-8 is
/// decoded lossily.
fn enc(kind: &str, call: u32, code: i32, text: &str, extra: &str, body: Option<&[u8]>) -> String {
    let mut s = String::with_capacity(
        kind.len() + text.len() + extra.len() + body.map_or(0, <[u8]>::len) + 32,
    );
    s.push_str(kind);
    s.push(SEP);
    push_int(&mut s, i64::from(call));
    s.push(SEP);
    push_int(&mut s, i64::from(code));
    for f in [text, extra] {
        s.push(SEP);
        s.extend(f.chars().map(|c| if c == SEP { '\u{fffd}' } else { c }));
    }
    if let Some(b) = body {
        s.push(SEP);
        s.push_str(&String::from_utf8_lossy(b));
    }
    s
}

/// Appends `n` in decimal (without `core::fmt`, which the package does not otherwise need).
fn push_int(s: &mut String, n: i64) {
    if n < 0 {
        s.push('-');
    }
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        // `i` stays in bounds: a u64 has at most 20 decimal digits.
        if let Some(d) = digits.get_mut(i) {
            *d = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if v == 0 || i == 0 {
            break;
        }
    }
    for &d in digits.get(i..).unwrap_or_default() {
        s.push(char::from(d));
    }
}

/// A handle as the 32-bit number JavaScript sees.
fn handle(call: CallId) -> u32 {
    call.0 as u32
}

/// An event with a call handle and nothing else.
fn ev(kind: &str, call: CallId) -> String {
    enc(kind, handle(call), 0, "", "", None)
}

/// An event with a call handle and a status code.
fn ev_code(kind: &str, call: CallId, code: u16) -> String {
    enc(kind, handle(call), code.into(), "", "", None)
}

/// An event with a call handle and an optional body.
fn ev_body(kind: &str, call: CallId, body: Option<&[u8]>) -> String {
    enc(kind, handle(call), 0, "", "", body)
}

/// The encoded form ([`PhoneEventJs::encode`]) of a phone event.
pub fn encode_event(e: PhoneEvent) -> String {
    match e {
        PhoneEvent::Connecting(url) => enc("connecting", 0, 0, &url, "", None),
        PhoneEvent::Connected(url) => enc("connected", 0, 0, &url, "", None),
        PhoneEvent::Disconnected { retry } => {
            let ms = retry.map_or(-1, |d| d.as_millis().min(i32::MAX as u128) as i32);
            enc("disconnected", 0, ms, "", "", None)
        }
        PhoneEvent::Ua(e) => ua_event(e),
    }
}

fn ua_event(e: Event) -> String {
    match e {
        Event::Registration(RegistrationState::Registered { expires }) => enc(
            "registered",
            0,
            expires.min(i32::MAX as u32) as i32,
            "",
            "",
            None,
        ),
        Event::Registration(RegistrationState::Failed { code }) => {
            enc("registrationFailed", 0, code.into(), "", "", None)
        }
        Event::Registration(_) => enc("unregistered", 0, 0, "", "", None),
        Event::IncomingCall { call, from, sdp } => {
            enc("incoming", handle(call), 0, &from, "", sdp.as_deref())
        }
        Event::Ringing { call } => ev("ringing", call),
        Event::EarlyMedia { call, sdp } => ev_body("early", call, Some(&sdp)),
        Event::Answered { call, sdp } => ev_body("answered", call, sdp.as_deref()),
        Event::Ended { call, reason } => {
            let (why, code) = match reason {
                EndReason::LocalHangup => ("local", 0),
                EndReason::RemoteHangup => ("remote", 0),
                EndReason::Rejected(c) => ("rejected", c),
                EndReason::Cancelled => ("cancelled", 487),
                EndReason::Timeout => ("timeout", 408),
                EndReason::SessionExpired => ("session_expired", 0),
                _ => ("replaced", 0),
            };
            enc("ended", handle(call), code.into(), why, "", None)
        }
        Event::OfferReceived { call, sdp } => ev_body("offer", call, sdp.as_deref()),
        Event::MediaUpdated { call, sdp } => ev_body("mediaUpdated", call, sdp.as_deref()),
        Event::OfferRejected { call, code } => ev_code("offerRejected", call, code),
        Event::IncomingMessage {
            from,
            content_type,
            body,
        } => enc("message", 0, 0, &from, &content_type, Some(&body)),
        Event::MessageStatus { id, code } => ev_code("messageStatus", CallId(id), code),
        Event::DtmfReceived {
            call,
            digit,
            duration,
        } => {
            let mut d = [0u8; 4];
            enc(
                "dtmf",
                handle(call),
                duration.min(i32::MAX as u32) as i32,
                digit.encode_utf8(&mut d),
                "",
                None,
            )
        }
        Event::TransferRequested { call, target } => {
            enc("transferRequested", handle(call), 0, &target, "", None)
        }
        Event::TransferProgress { call, code } => ev_code("transferProgress", call, code),
        _ => enc("unknown", 0, 0, "", "", None),
    }
}

/// The browser phone: the SIP UA of rvoip-core over WebSocket servers, driven by
/// JavaScript (see the crate docs). Times are milliseconds (`performance.now()`).
#[wasm_bindgen]
pub struct WasmPhone {
    inner: Phone<CryptoRng>,
}

#[wasm_bindgen]
impl WasmPhone {
    /// A phone for `uri` (`sip:alice@example.com`). `servers` is the newline-separated
    /// list of WebSocket URLs, `weights` their weights (missing ones are 1);
    /// `keepalive_s` 0 disables keep-alives; empty strings mean "default".
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        uri: String,
        password: String,
        auth_user: String,
        display_name: String,
        servers: &str,
        weights: &[u32],
        expires: u32,
        keepalive_s: u32,
        instance_id: String,
        user_agent: String,
    ) -> WasmPhone {
        let servers = servers
            .split('\n')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .enumerate()
            .map(|(i, url)| Server {
                url: url.into(),
                weight: weights.get(i).copied().unwrap_or(1),
            })
            .collect();
        let mut cfg = PhoneConfig::new(uri, servers);
        cfg.password = password;
        cfg.auth_user = auth_user;
        cfg.display_name = Some(display_name);
        if expires > 0 {
            cfg.register_expires = expires;
        }
        cfg.keepalive =
            (keepalive_s > 0).then(|| rvoip_core::time::Duration::from_secs(keepalive_s.into()));
        cfg.instance_id = (!instance_id.is_empty()).then_some(instance_id);
        if !user_agent.is_empty() {
            cfg.user_agent = user_agent;
        }
        WasmPhone {
            inner: Phone::new(cfg, CryptoRng::new(), CryptoRng::new()),
        }
    }

    /// Starts connecting; `false` without servers.
    pub fn start(&mut self, now: f64) -> bool {
        self.inner.start(instant(now))
    }

    /// Closes the socket and stops reconnecting.
    pub fn stop(&mut self, now: f64) {
        self.inner.stop(instant(now));
    }

    /// The socket opened.
    pub fn handle_open(&mut self, now: f64) {
        self.inner.handle_open(instant(now));
    }

    /// The socket closed (or failed to open).
    pub fn handle_close(&mut self, now: f64) {
        self.inner.handle_close(instant(now));
    }

    /// A text WebSocket message.
    pub fn handle_text(&mut self, now: f64, msg: &str) {
        self.inner.handle_message(instant(now), msg.as_bytes());
    }

    /// A binary WebSocket message.
    pub fn handle_binary(&mut self, now: f64, msg: &[u8]) {
        self.inner.handle_message(instant(now), msg);
    }

    /// Timers due at `now`.
    pub fn handle_timeout(&mut self, now: f64) {
        self.inner.handle_timeout(instant(now));
    }

    /// When to call `handle_timeout` (ms), `-1` for never.
    pub fn poll_timeout(&self) -> f64 {
        self.inner
            .poll_timeout()
            .map_or(-1.0, |t| t.as_micros() as f64 / 1000.0)
    }

    /// The next socket action: `0` + URL: open a WebSocket to it (subprotocol `sip`);
    /// `1` + message: send it; `2`: close.
    pub fn poll_action(&mut self) -> Option<String> {
        self.inner.poll_action().map(|a| {
            let (kind, data) = match a {
                Action::Connect(url) => ('0', url),
                Action::Send(b) => ('1', text(b)),
                Action::Close => ('2', String::new()),
            };
            let mut s = String::with_capacity(data.len() + 1);
            s.push(kind);
            s.push_str(&data);
            s
        })
    }

    /// The next event, encoded by [`PhoneEventJs::encode`].
    pub fn poll_event(&mut self) -> Option<String> {
        self.inner.poll_event().map(encode_event)
    }

    /// Whether we hold a registration.
    pub fn is_registered(&self) -> bool {
        self.inner.is_registered()
    }

    /// The SIP URI a dial string stands for.
    pub fn target_uri(&self, target: &str) -> String {
        self.inner.target_uri(target)
    }

    /// REGISTER (kept up, and renewed after reconnections). 0 or a negative error code.
    pub fn register(&mut self, now: f64) -> i32 {
        status(self.inner.register(instant(now)))
    }

    /// REGISTER with Expires 0.
    pub fn unregister(&mut self, now: f64) -> i32 {
        status(self.inner.unregister(instant(now)))
    }

    /// INVITE `target` with `sdp`; the call handle (> 0) or a negative error code.
    pub fn call(&mut self, now: f64, target: &str, sdp: &str) -> i32 {
        self.inner
            .call(instant(now), target, sdp.as_bytes())
            .map_or_else(err_code, |c| c.0 as i32)
    }

    /// Answers an incoming call or a pending offer with `sdp`.
    pub fn answer(&mut self, now: f64, call: u32, sdp: &str) -> i32 {
        let id = CallId(call.into());
        status(
            self.inner
                .with_ua(instant(now), |ua, t| ua.answer(t, id, sdp.as_bytes())),
        )
    }

    /// Rejects an incoming call or a pending offer with `code`.
    pub fn reject(&mut self, now: f64, call: u32, code: u16) -> i32 {
        let id = CallId(call.into());
        status(
            self.inner
                .with_ua(instant(now), |ua, t| ua.reject(t, id, code)),
        )
    }

    /// CANCEL, decline or BYE.
    pub fn hangup(&mut self, now: f64, call: u32) -> i32 {
        let id = CallId(call.into());
        status(self.inner.with_ua(instant(now), |ua, t| ua.hangup(t, id)))
    }

    /// re-INVITE with `sdp` (hold: `a=sendonly`; unhold: `a=sendrecv`).
    pub fn reinvite(&mut self, now: f64, call: u32, sdp: &str) -> i32 {
        let id = CallId(call.into());
        status(
            self.inner
                .with_ua(instant(now), |ua, t| ua.hold(t, id, sdp.as_bytes())),
        )
    }

    /// One DTMF digit by SIP INFO (`application/dtmf-relay`).
    pub fn send_dtmf_info(&mut self, now: f64, call: u32, digit: &str, duration_ms: u32) -> i32 {
        let id = CallId(call.into());
        let Some(d) = digit.chars().next() else {
            return -2;
        };
        status(
            self.inner
                .with_ua(instant(now), |ua, t| ua.send_dtmf(t, id, d, duration_ms)),
        )
    }

    /// Blind transfer (REFER) of `call` to `target` (a dial string).
    pub fn transfer(&mut self, now: f64, call: u32, target: &str) -> i32 {
        let id = CallId(call.into());
        let uri = self.inner.target_uri(target);
        status(
            self.inner
                .with_ua(instant(now), |ua, t| ua.transfer(t, id, &uri)),
        )
    }

    /// Accepts a transfer request of `call`: calls `target` with `sdp`; the new call's
    /// handle or a negative error code.
    pub fn accept_transfer(&mut self, now: f64, call: u32, target: &str, sdp: &str) -> i32 {
        let id = CallId(call.into());
        self.inner
            .with_ua(instant(now), |ua, t| {
                ua.accept_transfer(t, id, target, sdp.as_bytes())
            })
            .map_or_else(err_code, |c| c.0 as i32)
    }

    /// MESSAGE (text/plain) to `target`; the message handle or a negative error code.
    pub fn message(&mut self, now: f64, target: &str, body: &str) -> i32 {
        let uri = self.inner.target_uri(target);
        self.inner
            .with_ua(instant(now), |ua, t| ua.send_message(t, &uri, body))
            .map_or_else(err_code, |id| id.min(i32::MAX as u64) as i32)
    }
}

/// The MOS (1.0–4.5) of a simplified E-model for round-trip time and jitter in ms, loss
/// in percent and a codec name (`opus`, `pcmu`, …).
#[wasm_bindgen]
pub fn mos(rtt_ms: f64, jitter_ms: f64, loss_percent: f64, codec: &str) -> f64 {
    quality::mos(
        rtt_ms,
        jitter_ms,
        loss_percent,
        quality::CodecImpairment::for_name(codec),
    )
}

/// Whether an SDP offers RFC 4733 `telephone-event` (then DTMF goes in RTP, else INFO).
#[wasm_bindgen]
pub fn sdp_has_telephone_event(sdp: &str) -> bool {
    sdp.lines().any(|l| {
        l.strip_prefix("a=rtpmap:").is_some_and(|rest| {
            rest.split_once(' ').is_some_and(|(_, enc)| {
                enc.get(..16)
                    .is_some_and(|e| e.eq_ignore_ascii_case("telephone-event/"))
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telephone_event_detection() {
        let sdp = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 101\r\na=rtpmap:111 opus/48000/2\r\n\
a=rtpmap:101 telephone-event/8000\r\n";
        assert!(sdp_has_telephone_event(sdp));
        assert!(sdp_has_telephone_event(
            "a=rtpmap:126 TELEPHONE-EVENT/48000\n"
        ));
        assert!(!sdp_has_telephone_event(
            "v=0\r\na=rtpmap:0 PCMU/8000\r\na=fmtp:101 0-15\r\n"
        ));
        assert!(!sdp_has_telephone_event("a=rtpmap:101 telephone-even"));
    }

    #[test]
    fn times_and_codes() {
        assert_eq!(instant(1.5).as_micros(), 1500);
        assert_eq!(instant(-3.0), Instant::ZERO);
        assert_eq!(instant(f64::NAN), Instant::ZERO);
        assert_eq!(err_code(UaError::NoRoute), -3);
        assert_eq!(status(Ok(())), 0);
        assert_eq!(text(b"a\xffb".to_vec()), "a\u{fffd}b");
    }

    #[test]
    fn events_encode_and_decode() {
        let mut e = PhoneEventJs {
            kind: "message".into(),
            call: 7,
            code: -1,
            text: "<sip:a@b>".into(),
            body: Some("x\u{1f}y\u{1f}".into()),
            extra: "text/plain".into(),
        };
        assert_eq!(
            e.encode(),
            "message\u{1f}7\u{1f}-1\u{1f}<sip:a@b>\u{1f}text/plain\u{1f}x\u{1f}y\u{1f}"
        );
        assert_eq!(PhoneEventJs::decode(&e.encode()).as_ref(), Some(&e));
        e.body = None;
        e.code = i32::MIN;
        e.call = u32::MAX;
        assert_eq!(PhoneEventJs::decode(&e.encode()).as_ref(), Some(&e));
        e.body = Some(String::new());
        assert_eq!(PhoneEventJs::decode(&e.encode()).as_ref(), Some(&e));
        let d = |e: PhoneEvent| PhoneEventJs::decode(&encode_event(e)).unwrap();
        let off = d(PhoneEvent::Disconnected { retry: None });
        assert_eq!(
            (off.kind.as_str(), off.code, off.body),
            ("disconnected", -1, None)
        );
        let ended = d(PhoneEvent::Ua(Event::Ended {
            call: CallId(3),
            reason: EndReason::Rejected(486),
        }));
        assert_eq!(
            (ended.kind.as_str(), ended.call, ended.code),
            ("ended", 3, 486)
        );
        assert_eq!(ended.text, "rejected");
        let m = d(PhoneEvent::Ua(Event::IncomingMessage {
            from: "<sip:a@b>".into(),
            content_type: "text/plain".into(),
            body: b"hi\xff".to_vec(),
        }));
        assert_eq!(
            (m.text.as_str(), m.extra.as_str()),
            ("<sip:a@b>", "text/plain")
        );
        assert_eq!(m.body.as_deref(), Some("hi\u{fffd}"));
        e.text = "a\u{1f}b".into();
        assert_eq!(
            PhoneEventJs::decode(&e.encode()).unwrap().text,
            "a\u{fffd}b"
        );
    }
}
