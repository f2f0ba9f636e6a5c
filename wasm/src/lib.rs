//! rvoip-wasm: the browser SIP user agent (SIP over WebSocket, RFC 7118) as wasm-bindgen
//! bindings of `rvoip-core`.
//!
//! The split of work (DESIGN.md, "thin drivers"):
//! - **here (wasm)**: everything SIP — transactions, dialogs, registration with digest
//!   (MD5, SHA-256), calls, re-INVITE hold, INFO DTMF, REFER, MESSAGE — in rvoip-core's
//!   [`UserAgent`](rvoip_core::sip::ua::UserAgent); the choice of WebSocket server, the
//!   reconnection backoff, re-registration and keep-alive supervision in [`phone::Phone`];
//! - **JavaScript** (`ts/`): the WebSocket, one timer, RTCPeerConnection and
//!   getUserMedia, the E-model MOS, and the public promise/event API.
//!
//! The one entry point [`cmd`] drives the phones like every sans-IO machine of the core:
//! run an operation ([`op`]: a socket event, the timers, a command), then poll
//! ([`op::POLL`]) the actions and events until the poll returns when to run the timers
//! next. Its byte string and its result cross in place in the module's memory (`cmd`
//! makes room for the string, [`op::INPUT`], and returns where its result is): `cmd` is the
//! module's only export.
#![warn(missing_docs)]

pub mod phone;
pub mod pool;
pub mod rng;

use alloc::string::String;
use alloc::vec::Vec;
use wasm_bindgen::prelude::wasm_bindgen;

use rvoip_core::sip::ua::{CallId, EndReason, Event, RegistrationState, UaConfig, UaError};
use rvoip_core::time::Instant;

use phone::{Phone, PhoneConfig};
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

/// One event for the application; it crosses to JavaScript as one string
/// ([`PhoneEventJs::encode`]: one call and one copy instead of a class with a getter and a
/// setter per field). The kind is one letter (the wrapper's `dispatch` and `Call.handle`
/// switch on it); fields by kind:
///
/// | kind | call | code | text | body |
/// |---|---|---|---|---|
/// | `c` (connecting), `C` (connected) | | | URL | |
/// | `d` (disconnected) | | retry delay ms (`-1`: none) | | |
/// | `r` (registered) | | expires s | | |
/// | `u` (unregistered) | | | | |
/// | `f` (registrationFailed) | | status | | |
/// | `i` (incoming) | call | | From | SDP offer |
/// | `g` (ringing) | call | | | |
/// | `e` (early) | call | | | SDP |
/// | `a` (answered) | call | | | SDP |
/// | `E` (ended) | call | status (rejected) | `local`, `remote`, `rejected`, `cancelled`, `timeout`, `replaced` | |
/// | `o` (offer) | call | | | SDP (re-INVITE/UPDATE from the peer) |
/// | `m` (mediaUpdated) | call | | | SDP answer |
/// | `O` (offerRejected) | call | status | | |
/// | `M` (message) | | | From | text; `extra`: Content-Type |
/// | `s` (messageStatus) | message id | status | | |
/// | `D` (dtmf) | call | duration ms | digit | |
/// | `t` (transferRequested) | call | | target | |
/// | `T` (transferProgress) | call | status | | |
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
        let b = enc(
            self.kind.as_bytes(),
            self.call,
            self.code.into(),
            &self.text,
            &self.extra,
            self.body.as_deref().map(str::as_bytes),
        );
        // UTF-8 fields in, UTF-8 out (a U+001F byte is never part of a longer sequence).
        String::from_utf8(b).unwrap_or_default()
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
/// intermediate struct), as bytes: a body that is not UTF-8 crosses as it is, and
/// JavaScript's `TextDecoder` decodes it lossily (U+FFFD).
fn enc(kind: &[u8], call: u32, code: i64, text: &str, extra: &str, body: Option<&[u8]>) -> Vec<u8> {
    let mut s = Vec::with_capacity(
        kind.len() + text.len() + extra.len() + body.map_or(0, <[u8]>::len) + 32,
    );
    s.extend_from_slice(kind);
    s.push(SEP as u8);
    push_int(&mut s, i64::from(call));
    s.push(SEP as u8);
    push_int(&mut s, code);
    for f in [text, extra] {
        s.push(SEP as u8);
        for &b in f.as_bytes() {
            if b == SEP as u8 {
                s.extend_from_slice("\u{fffd}".as_bytes());
            } else {
                s.push(b);
            }
        }
    }
    if let Some(b) = body {
        s.push(SEP as u8);
        s.extend_from_slice(b);
    }
    s
}

/// Appends `n` in decimal (without `core::fmt`, which the package does not otherwise need;
/// the digits by the core's serializer).
fn push_int(s: &mut Vec<u8>, n: i64) {
    if n < 0 {
        s.push(b'-');
    }
    rvoip_core::sip::ua::msg::push_decimal(s, n.unsigned_abs());
}

/// The encoded form ([`PhoneEventJs::encode`]) of an event of the SIP user agent (the
/// phone encodes its connection events, `c`, `C` and `d`, itself): the fields start empty
/// (zero, `""`, no body) and one match sets the kind and the fields the event has, then
/// one call encodes them.
pub fn encode_event(e: &Event) -> Vec<u8> {
    let mut d = [0u8; 4];
    let (mut call, mut code, mut text, mut extra, mut body) = (0u64, 0i64, "", "", None);
    let kind = match e {
        Event::Registration(RegistrationState::Registered { expires }) => {
            code = (*expires).into();
            b'r'
        }
        Event::Registration(RegistrationState::Failed { code: c }) => {
            code = (*c).into();
            b'f'
        }
        Event::Registration(_) => b'u',
        Event::IncomingCall { call: c, from, sdp } => {
            (call, text, body) = (c.0, from, sdp.as_deref());
            b'i'
        }
        Event::Ringing { call: c } => {
            call = c.0;
            b'g'
        }
        Event::EarlyMedia { call: c, sdp } => {
            (call, body) = (c.0, Some(&sdp[..]));
            b'e'
        }
        Event::Answered { call: c, sdp } => {
            (call, body) = (c.0, sdp.as_deref());
            b'a'
        }
        Event::Ended { call: c, reason } => {
            call = c.0;
            let c;
            (text, c) = match reason {
                EndReason::LocalHangup => ("local", 0),
                EndReason::RemoteHangup => ("remote", 0),
                EndReason::Rejected(c) => ("rejected", *c),
                EndReason::Cancelled => ("cancelled", 487),
                EndReason::Timeout => ("timeout", 408),
                EndReason::SessionExpired => ("session_expired", 0),
                _ => ("replaced", 0),
            };
            code = c.into();
            b'E'
        }
        Event::OfferReceived { call: c, sdp } => {
            (call, body) = (c.0, sdp.as_deref());
            b'o'
        }
        Event::MediaUpdated { call: c, sdp } => {
            (call, body) = (c.0, sdp.as_deref());
            b'm'
        }
        Event::OfferRejected { call: c, code: k } => {
            (call, code) = (c.0, (*k).into());
            b'O'
        }
        Event::IncomingMessage {
            from,
            content_type,
            body: b,
        } => {
            (text, extra, body) = (from, content_type, Some(&b[..]));
            b'M'
        }
        Event::MessageStatus { id, code: k } => {
            (call, code) = (*id, (*k).into());
            b's'
        }
        Event::DtmfReceived {
            call: c,
            digit,
            duration,
        } => {
            (call, code, text) = (c.0, (*duration).into(), digit.encode_utf8(&mut d));
            b'D'
        }
        Event::TransferRequested { call: c, target } => {
            (call, text) = (c.0, target);
            b't'
        }
        Event::TransferProgress { call: c, code: k } => {
            (call, code) = (c.0, (*k).into());
            b'T'
        }
        _ => b'?',
    };
    // Handles are 32-bit numbers in JavaScript.
    enc(&[kind], call as u32, code, text, extra, body)
}

/// The operations of [`cmd`] (the TypeScript wrapper passes the numbers).
///
/// | op | name | arguments | result |
/// |---|---|---|---|
/// | 0 | new | `data`: [`config`] | the phone's handle |
/// | 1 | start | | `1`, or `0` without servers |
/// | 2 | stop | | |
/// | 3 | free | | |
/// | 4 | socket opened | | |
/// | 5 | socket closed | | |
/// | 6 | WebSocket message | `data`: the message (text as UTF-8) | |
/// | 7 | timers due | | |
/// | 8 | poll | | [`poll`]'s output |
/// | 9 | register | | status |
/// | 10 | unregister | | status |
/// | 11 | call | `data`: target U+001F SDP | call handle or error |
/// | 12 | answer | `call`, `data`: SDP | status |
/// | 13 | reject | `call`, `n`: SIP status | status |
/// | 14 | hang up | `call` | status |
/// | 15 | re-INVITE | `call`, `data`: SDP | status |
/// | 16 | INFO DTMF | `call`, `data`: digit, `n`: duration ms | status |
/// | 17 | transfer (REFER) | `call`, `data`: target | status |
/// | 18 | accept a transfer | `call`, `data`: target U+001F SDP | call handle or error |
/// | 19 | MESSAGE | `data`: target U+001F text | message handle or error |
/// | 20 | target URI | `data`: dial string | the SIP URI |
/// | 21 | room for the next operation's `data` | `n`: its length | its address (the high 32 bits 0; not a byte string) |
///
/// A status is `0` or a negative error code (`err_code`); handles are positive.
pub mod op {
    /// Creates a phone.
    pub const NEW: u32 = 0;
    /// Starts connecting.
    pub const START: u32 = 1;
    /// Closes the socket and stops reconnecting.
    pub const STOP: u32 = 2;
    /// Drops the phone.
    pub const FREE: u32 = 3;
    /// The socket opened.
    pub const OPEN: u32 = 4;
    /// The socket closed (or failed to open).
    pub const CLOSE: u32 = 5;
    /// A WebSocket message.
    pub const RECEIVE: u32 = 6;
    /// Timers due.
    pub const TIMEOUT: u32 = 7;
    /// The next action, event or timeout.
    pub const POLL: u32 = 8;
    /// REGISTER (kept up, renewed after reconnections).
    pub const REGISTER: u32 = 9;
    /// REGISTER with Expires 0.
    pub const UNREGISTER: u32 = 10;
    /// INVITE.
    pub const CALL: u32 = 11;
    /// Answers an incoming call or a pending offer.
    pub const ANSWER: u32 = 12;
    /// Rejects an incoming call or a pending offer.
    pub const REJECT: u32 = 13;
    /// CANCEL, decline or BYE.
    pub const HANGUP: u32 = 14;
    /// re-INVITE (hold: `a=sendonly`; unhold: `a=sendrecv`).
    pub const REINVITE: u32 = 15;
    /// One DTMF digit by SIP INFO (`application/dtmf-relay`).
    pub const DTMF: u32 = 16;
    /// Blind transfer (REFER) to a dial string.
    pub const TRANSFER: u32 = 17;
    /// Accepts a transfer request: calls its target.
    pub const ACCEPT_TRANSFER: u32 = 18;
    /// MESSAGE (text/plain) to a dial string.
    pub const MESSAGE: u32 = 19;
    /// The SIP URI a dial string stands for.
    pub const TARGET_URI: u32 = 20;
    /// Room for the byte string of the next operation: `n` bytes (zeroed after the
    /// operation), at the address `cmd` returns, which JavaScript fills in place (no copy
    /// through the glue's allocator call and boxed slice). One buffer, emptied by each
    /// operation and kept for the next (no allocation per call once it is large enough).
    pub const INPUT: u32 = 21;
}

/// The fields of a string separated by [`SEP`], as `str::split(SEP)` gives them; what is
/// left after the last field read is in `.0` (a byte scan: the package has no char-pattern
/// search code).
struct Fields<'a>(Option<&'a str>);

impl<'a> Iterator for Fields<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let s = self.0?;
        // U+001F is one byte, never inside a longer UTF-8 sequence: the slices are on
        // char boundaries.
        match s.as_bytes().iter().position(|&b| b == SEP as u8) {
            Some(i) => {
                self.0 = s.get(i + 1..);
                s.get(..i)
            }
            None => self.0.take(),
        }
    }
}

/// The configuration of [`op::NEW`]: fields separated by U+001F — URI, password,
/// authorization user, display name, registration expires (s, 0: default), keep-alive
/// interval (s, 0: none), instance id, User-Agent (empty strings: default), then the
/// servers as URL and weight pairs. Read straight into the UA's configuration
/// ([`phone::ua_config`], `rng` drawing its random parts) and the servers, for
/// [`Phone::with_config`] (no intermediate [`PhoneConfig`]).
pub fn config(s: &str, rng: &mut impl rvoip_core::rand::Rng) -> (UaConfig, Vec<Server>) {
    let mut f = Fields(Some(s));
    let mut field = || f.next().unwrap_or_default();
    // Every field read once, in order.
    let mut c = phone::ua_config(own(field()), rng);
    c.password = own(field());
    c.auth_user = own(field());
    c.display_name = non_empty(field());
    c.register_expires = match dec(field()) {
        Some(e) if e > 0 => e,
        _ => PhoneConfig::REGISTER_EXPIRES,
    };
    c.keepalive = match dec(field()) {
        Some(k) if k > 0 => Some(rvoip_core::time::Duration::from_secs(k.into())),
        _ => None,
    };
    c.instance_id = non_empty(field());
    c.user_agent = own(match field() {
        "" => PhoneConfig::USER_AGENT,
        ua => ua,
    });
    let mut servers = Vec::new();
    while let Some(url) = f.next() {
        let weight = f.next().and_then(dec).unwrap_or(1);
        let url = url.trim_ascii();
        // Empty URLs are left out (no server: the phone does not start).
        if !url.is_empty() {
            servers.push(Server::new(own(url), weight));
        }
    }
    (c, servers)
}

/// `s` copied into a `String` (one function for every field of [`config`], not one
/// `Into` call site each).
fn own(s: &str) -> String {
    s.into()
}

/// `s` copied, `None` when empty (the optional fields of [`config`]).
fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| own(s))
}

/// A decimal number of the configuration (digits, as JavaScript writes a non-negative
/// integer); `None` for anything else or above `u32::MAX`: the core's SIP number parser
/// (`str::parse` would bring its sign and radix handling into the package).
fn dec(s: &str) -> Option<u32> {
    u32::try_from(rvoip_core::sip::parse_digits(s)?).ok()
}

/// A number as [`cmd`] returns it.
fn num(n: i64) -> Vec<u8> {
    let mut s = Vec::new();
    push_int(&mut s, n);
    s
}

/// The next output of a phone (UTF-8 text, except a message received as binary that is
/// not): an action — `0` + URL: open a WebSocket to it (subprotocol
/// `sip`); `1` + message: send it; `2`: close — or an event ([`PhoneEventJs::encode`],
/// starting with a letter), in the order they happened (the wrapper carries out the
/// actions as it polls them and dispatches the events after the last poll); else `=` and
/// when to run the timers (ms on the clock of `now`, rounded up; `-1`: never).
pub fn poll<R: rvoip_core::rand::Rng>(p: &mut Phone<R>) -> Vec<u8> {
    p.poll_output().unwrap_or_else(|| {
        let mut s = alloc::vec![b'='];
        let ms = p.poll_timeout().map_or(-1, |t| {
            t.as_micros().div_ceil(1000).min(i64::MAX as u64) as i64
        });
        push_int(&mut s, ms);
        s
    })
}

/// Runs operation `op` (see [`op`], except `NEW` and `FREE`) on a phone at `now` (ms, as
/// `performance.now()`); the result as UTF-8 text.
pub fn exec<R: rvoip_core::rand::Rng>(
    p: &mut Phone<R>,
    op: u32,
    now: f64,
    call: u32,
    n: u32,
    data: &[u8],
) -> Vec<u8> {
    let t = instant(now);
    let id = CallId(call.into());
    let s = core::str::from_utf8(data).unwrap_or_default();
    // Two strings: the first (a target) cannot hold U+001F; the second (SDP, a text) may.
    // The first field and the rest (`s.split_once(SEP)`, or `s` and "").
    let mut f = Fields(Some(s));
    let a = f.next().unwrap_or_default();
    let b = f.0.unwrap_or_default();
    let r: Result<u64, UaError> = match op {
        op::START => Ok(p.start(t).into()),
        op::STOP => {
            p.stop(t);
            Ok(0)
        }
        op::OPEN => {
            p.handle_open(t);
            Ok(0)
        }
        op::CLOSE => {
            p.handle_close(t);
            Ok(0)
        }
        op::RECEIVE => {
            p.handle_message(t, data);
            Ok(0)
        }
        op::TIMEOUT => {
            p.handle_timeout(t);
            Ok(0)
        }
        op::POLL => return poll(p),
        op::TARGET_URI => return p.target_uri(s).into_bytes(),
        op::REGISTER => p.register(t).map(|()| 0),
        op::UNREGISTER => p.unregister(t).map(|()| 0),
        _ => {
            // The UA's own commands, then one drain of its output.
            let uri = match op {
                op::TRANSFER => p.target_uri(s),
                op::CALL | op::MESSAGE => p.target_uri(a),
                _ => String::new(),
            };
            let ua = p.ua();
            let r = match op {
                // As Phone::call: the target's URI called with the SDP.
                op::CALL => ua.call(t, &uri, b.as_bytes()).map(|c| c.0),
                op::ANSWER => ua.answer(t, id, data).map(|()| 0),
                op::REJECT => ua.reject(t, id, n as u16).map(|()| 0),
                op::HANGUP => ua.hangup(t, id).map(|()| 0),
                op::REINVITE => ua.hold(t, id, data).map(|()| 0),
                op::DTMF => match s.chars().next() {
                    Some(d) => ua.send_dtmf(t, id, d, n).map(|()| 0),
                    None => Err(UaError::InvalidState),
                },
                op::TRANSFER => ua.transfer(t, id, &uri).map(|()| 0),
                op::ACCEPT_TRANSFER => ua.accept_transfer(t, id, a, b.as_bytes()).map(|c| c.0),
                op::MESSAGE => ua.send_message(t, &uri, b),
                _ => Err(UaError::InvalidState),
            };
            p.flush(t);
            r
        }
    };
    num(r.map_or_else(|e| err_code(e).into(), |v| v.min(i32::MAX as u64) as i64))
}

/// The module's state: the phones by handle (a freed one leaves `None`), the byte string
/// of the next [`cmd`] ([`op::INPUT`]) and the result of the last one, until the next (one
/// thread-local: one accessor).
struct State {
    phones: Vec<Option<Phone<CryptoRng>>>,
    input: Vec<u8>,
    out: Vec<u8>,
}

std::thread_local! {
    static STATE: core::cell::RefCell<State> = const {
        core::cell::RefCell::new(State {
            phones: Vec::new(),
            input: Vec::new(),
            out: Vec::new(),
        })
    };
}

/// Sets the byte string of the next [`cmd`] (what JavaScript writes where [`op::INPUT`] made room).
pub fn set_input(data: &[u8]) {
    STATE.with_borrow_mut(|s| s.input = data.to_vec());
}

/// The browser phone's one entry point: runs operation `op` ([`op`]) on phone `h` at `now`
/// (ms, `performance.now()`) with a call handle, a number and the byte string written at
/// [`op::INPUT`] (taken: empty unless written again); the result (bytes: text, decoded by the
/// wrapper's `TextDecoder`) stays in the module's memory until the next call: its address
/// is returned in the low 32 bits, its length in the high 32 bits (one return value, no
/// second export to ask where it is; signed, a plain `BigInt` for the glue to pass on, and
/// the length, below 2³¹, keeps it positive). (Read in place: the glue of a returned `Vec` would
/// allocate a return slot on the shadow stack, read it through a `DataView`, copy the bytes
/// and free them.) One function instead of a class with a method per command: the bindings
/// (and their JavaScript glue) exist once. Driven like every sans-IO machine of the core:
/// run an operation, then [`op::POLL`] until it returns the timeout (`=…`).
#[wasm_bindgen]
pub fn cmd(h: u32, op: u32, now: f64, call: u32, n: u32) -> i64 {
    STATE.with_borrow_mut(|s| {
        let State { phones, input, out } = s;
        if op == op::INPUT {
            // The buffer of the previous input, emptied below, reused.
            input.resize(n as usize, 0);
            return input.as_mut_ptr() as usize as i64;
        }
        *out = run(phones, h, op, now, call, n, input);
        input.clear();
        ((out.len() as u64) << 32 | out.as_ptr() as usize as u64) as i64
    })
}

/// A copy of the result of the last [`cmd`] (what JavaScript reads where `cmd` says).
pub fn output() -> Vec<u8> {
    STATE.with_borrow(|s| s.out.clone())
}

/// [`cmd`]'s work: the result as bytes.
fn run(
    phones: &mut Vec<Option<Phone<CryptoRng>>>,
    h: u32,
    op: u32,
    now: f64,
    call: u32,
    n: u32,
    data: &[u8],
) -> Vec<u8> {
    if op == op::NEW {
        let mut rng = CryptoRng::new();
        let (c, servers) = config(core::str::from_utf8(data).unwrap_or_default(), &mut rng);
        phones.push(Some(Phone::with_config(c, servers, CryptoRng::new(), rng)));
        return num(phones.len() as i64 - 1);
    }
    let slot = phones.get_mut(h as usize);
    if op == op::FREE {
        if let Some(p) = slot {
            *p = None;
        }
        return Vec::new();
    }
    match slot.and_then(Option::as_mut) {
        Some(p) => exec(p, op, now, call, n, data),
        None => num(err_code(UaError::InvalidState).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_codes() {
        assert_eq!(instant(1.5).as_micros(), 1500);
        assert_eq!(instant(-3.0), Instant::ZERO);
        assert_eq!(instant(f64::NAN), Instant::ZERO);
        assert_eq!(err_code(UaError::NoRoute), -3);
        assert_eq!(num(-3), b"-3");
        assert_eq!(num(i64::from(u32::MAX)), b"4294967295");
        assert_eq!(dec("600"), Some(600));
        assert_eq!(dec("007"), Some(7));
        assert_eq!(dec("4294967295"), Some(u32::MAX));
        for bad in [
            "",
            "4294967296",
            "1.5",
            "-1",
            "+5",
            " 5",
            "undefined",
            "1e3",
        ] {
            assert_eq!(dec(bad), None, "{bad:?}");
        }
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
        // As the wrapper reads it: TextDecoder (lossy UTF-8), then split.
        let d =
            |e: Event| PhoneEventJs::decode(&String::from_utf8_lossy(&encode_event(&e))).unwrap();
        let ended = d(Event::Ended {
            call: CallId(3),
            reason: EndReason::Rejected(486),
        });
        assert_eq!((ended.kind.as_str(), ended.call, ended.code), ("E", 3, 486));
        assert_eq!(ended.text, "rejected");
        let m = d(Event::IncomingMessage {
            from: "<sip:a@b>".into(),
            content_type: "text/plain".into(),
            body: b"hi\xff".to_vec(),
        });
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
        // Every kind with its fields: (kind, call, code, text, body).
        let c = CallId(5);
        let sdp = || b"v=0\r\n".to_vec();
        let cases = [
            (
                Event::Registration(RegistrationState::Registered { expires: 90 }),
                ("r", 0, 90, "", None),
            ),
            (
                Event::Registration(RegistrationState::Failed { code: 403 }),
                ("f", 0, 403, "", None),
            ),
            (
                Event::Registration(RegistrationState::Unregistered),
                ("u", 0, 0, "", None),
            ),
            (
                Event::IncomingCall {
                    call: c,
                    from: "<sip:b@c>".into(),
                    sdp: Some(sdp()),
                },
                ("i", 5, 0, "<sip:b@c>", Some("v=0\r\n")),
            ),
            (Event::Ringing { call: c }, ("g", 5, 0, "", None)),
            (
                Event::EarlyMedia {
                    call: c,
                    sdp: sdp(),
                },
                ("e", 5, 0, "", Some("v=0\r\n")),
            ),
            (
                Event::Answered { call: c, sdp: None },
                ("a", 5, 0, "", None),
            ),
            (
                Event::OfferReceived {
                    call: c,
                    sdp: Some(sdp()),
                },
                ("o", 5, 0, "", Some("v=0\r\n")),
            ),
            (
                Event::MediaUpdated {
                    call: c,
                    sdp: Some(sdp()),
                },
                ("m", 5, 0, "", Some("v=0\r\n")),
            ),
            (
                Event::OfferRejected { call: c, code: 488 },
                ("O", 5, 488, "", None),
            ),
            (
                Event::MessageStatus { id: 8, code: 202 },
                ("s", 8, 202, "", None),
            ),
            (
                Event::DtmfReceived {
                    call: c,
                    digit: '#',
                    duration: 160,
                },
                ("D", 5, 160, "#", None),
            ),
            (
                Event::TransferRequested {
                    call: c,
                    target: "sip:x@y".into(),
                },
                ("t", 5, 0, "sip:x@y", None),
            ),
            (
                Event::TransferProgress { call: c, code: 180 },
                ("T", 5, 180, "", None),
            ),
            (
                Event::Ended {
                    call: c,
                    reason: EndReason::Cancelled,
                },
                ("E", 5, 487, "cancelled", None),
            ),
        ];
        for (ev, (kind, call, code, text, body)) in cases {
            let got = d(ev);
            assert_eq!(
                (
                    got.kind.as_str(),
                    got.call,
                    got.code,
                    got.text.as_str(),
                    got.body.as_deref()
                ),
                (kind, call, code, text, body)
            );
        }
    }

    #[test]
    fn fields_split_like_str_split() {
        for s in [
            "",
            "a",
            "\u{1f}",
            "a\u{1f}b",
            "a\u{1f}\u{1f}b\u{1f}",
            "ü\u{1f}é\u{1f}",
        ] {
            let split: Vec<&str> = s.split(SEP).collect();
            assert_eq!(Fields(Some(s)).collect::<Vec<_>>(), split, "{s:?}");
            let mut f = Fields(Some(s));
            let first = (f.next().unwrap_or_default(), f.0.unwrap_or_default());
            assert_eq!(first, s.split_once(SEP).unwrap_or((s, "")), "{s:?}");
        }
    }

    #[test]
    fn config_fields_and_servers() {
        use rvoip_core::rand::SplitMix64;
        use rvoip_core::sip::ua::Transport;
        let mut rng = SplitMix64::new(1);
        let (c, servers) = config(
            "sip:a@b.c\u{1f}pw\u{1f}au\u{1f}Al\u{1f}90\u{1f}0\u{1f}urn:x\u{1f}ua/1\u{1f} wss://s1 \u{1f}3\u{1f} \u{1f}2\u{1f}ws://s2\u{1f}x\u{1f}wss://s3",
            &mut rng,
        );
        assert_eq!(c.aor, "sip:a@b.c");
        assert_eq!((c.password.as_str(), c.auth_user.as_str()), ("pw", "au"));
        assert_eq!(c.display_name.as_deref(), Some("Al"));
        assert_eq!(c.register_expires, 90);
        assert_eq!(c.keepalive, None, "0: no keep-alives");
        assert_eq!(c.instance_id.as_deref(), Some("urn:x"));
        assert_eq!(c.user_agent, "ua/1");
        assert!(c.advertised_host.as_deref().unwrap().ends_with(".invalid"));
        assert_eq!((c.transport, c.reg_id), (Transport::Ws, Some(1)));
        let s: Vec<_> = servers.iter().map(|s| (s.url.as_str(), s.weight)).collect();
        assert_eq!(
            s,
            [("wss://s1", 3), ("ws://s2", 1), ("wss://s3", 1)],
            "a blank URL is left out"
        );
        // As Phone::new configures the UA: the same settings, the same random parts.
        let mut p = PhoneConfig::new("sip:a@b.c", servers);
        p.password = "pw".into();
        p.auth_user = "au".into();
        p.display_name = Some("Al".into());
        p.register_expires = 90;
        p.keepalive = None;
        p.instance_id = Some("urn:x".into());
        p.user_agent = "ua/1".into();
        let mut phone = Phone::new(p, SplitMix64::new(9), SplitMix64::new(1));
        let mut expected = c.clone();
        expected.transport = Transport::Wss;
        assert_eq!(
            alloc::format!("{:?}", phone.ua().config()),
            alloc::format!("{expected:?}")
        );
        // Empty fields: the defaults.
        let (d, servers) = config(
            "sip:a@b.c\u{1f}\u{1f}\u{1f}\u{1f}0\u{1f}25\u{1f}\u{1f}",
            &mut rng,
        );
        let def = PhoneConfig::new("sip:a@b.c", Vec::new());
        assert_eq!(d.register_expires, def.register_expires);
        assert_eq!(d.keepalive, Some(rvoip_core::time::Duration::from_secs(25)));
        assert_eq!((d.instance_id, d.user_agent), (None, def.user_agent));
        assert_eq!(d.display_name, None);
        assert!(servers.is_empty());
        assert_eq!(config("", &mut rng).0.aor, "");
    }

    #[test]
    fn operations_and_poll() {
        use rvoip_core::rand::SplitMix64;
        let mut rng = SplitMix64::new(2);
        let (c, servers) = config(
            "sip:alice@example.com\u{1f}pw\u{1f}\u{1f}\u{1f}0\u{1f}30\u{1f}\u{1f}\u{1f}wss://a.example/ws\u{1f}1",
            &mut rng,
        );
        let mut p = Phone::with_config(c, servers, SplitMix64::new(1), rng);
        // The result as the wrapper reads it (TextDecoder: lossy UTF-8).
        let mut run = |o: u32, now: f64, call: u32, n: u32, data: &str| {
            String::from_utf8_lossy(&exec(&mut p, o, now, call, n, data.as_bytes())).into_owned()
        };
        assert_eq!(
            run(op::POLL, 0.0, 0, 0, ""),
            "=-1",
            "nothing to do before start"
        );
        assert_eq!(run(op::START, 1.0, 0, 0, ""), "1");
        assert_eq!(run(op::POLL, 0.0, 0, 0, ""), "0wss://a.example/ws");
        let ev = PhoneEventJs::decode(&run(op::POLL, 0.0, 0, 0, "")).unwrap();
        assert_eq!(
            (ev.kind.as_str(), ev.text.as_str()),
            ("c", "wss://a.example/ws")
        );
        assert_eq!(run(op::OPEN, 2.0, 0, 0, ""), "0");
        assert_eq!(run(op::POLL, 0.0, 0, 0, "").split(SEP).next(), Some("C"));
        assert_eq!(run(op::REGISTER, 2.5, 0, 0, ""), "0");
        assert!(run(op::POLL, 0.0, 0, 0, "").starts_with("1REGISTER sip:example.com "));
        // A reliable transport: no retransmissions, the REGISTER's transaction timeout
        // (Timer F, 64·T1 = 32 s) from 2.5 ms, rounded up to whole ms.
        assert_eq!(run(op::POLL, 0.0, 0, 0, ""), "=32003");
        assert_eq!(run(op::HANGUP, 3.0, 9, 0, ""), "-1", "unknown call");
        assert_eq!(run(op::DTMF, 3.0, 9, 100, ""), "-2", "no digit");
        assert_eq!(
            run(op::FREE + 100, 3.0, 0, 0, ""),
            "-2",
            "unknown operation"
        );
        assert_eq!(
            run(op::TARGET_URI, 0.0, 0, 0, " 1000 "),
            "sip:1000@example.com"
        );
        let offer = "v=0\r\na=x\u{1f}y\r\n";
        let mut data = String::from("bob");
        data.push(SEP);
        data.push_str(offer);
        assert_eq!(run(op::CALL, 4.0, 0, 0, &data), "1");
        let inv = run(op::POLL, 0.0, 0, 0, "");
        assert!(
            inv.starts_with("1INVITE sip:bob@example.com SIP/2.0\r\n"),
            "{inv}"
        );
        assert!(inv.ends_with(offer), "the SDP whole: {inv}");
        assert_eq!(run(op::HANGUP, 5.0, 1, 0, ""), "0");
        assert_eq!(run(op::MESSAGE, 6.0, 0, 0, "carol\u{1f}hi\u{1f}!"), "1");
        assert!(
            core::iter::from_fn(|| Some(run(op::POLL, 0.0, 0, 0, "")))
                .take_while(|a| !a.starts_with('='))
                .any(|a| a.starts_with("1MESSAGE sip:carol@example.com ")
                    && a.ends_with("\r\n\r\nhi\u{1f}!"))
        );
        assert_eq!(run(op::STOP, 7.0, 0, 0, ""), "0");
        assert_eq!(run(op::POLL, 0.0, 0, 0, ""), "2");
        assert_eq!(
            run(op::POLL, 0.0, 0, 0, ""),
            "d\u{1f}0\u{1f}-1\u{1f}\u{1f}",
            "disconnected, no retry"
        );
    }
}
