//! The browser phone as a sans-IO machine: rvoip-core's SIP [`UserAgent`] over a pool of
//! SIP-over-WebSocket servers (RFC 7118), with reconnection, re-registration after a
//! reconnection and RFC 5626 keep-alive supervision.
//!
//! JavaScript owns the WebSocket and the timers. It feeds: [`Phone::handle_open`],
//! [`Phone::handle_close`], [`Phone::handle_message`], [`Phone::handle_timeout`] and the
//! commands; it drains [`Phone::poll_output`] (open a socket, send a message, close; the
//! events) and [`Phone::poll_timeout`] after each of them.
//!
//! - **Transport** (RFC 7118): one SIP message per WebSocket message; Via `WS`/`WSS`,
//!   Contact `;transport=ws`. A browser has no host a server could reach, so Via sent-by
//!   and the Contact host are a random `<8 alphanumerics>.invalid` (RFC 7118 §5.2, RFC
//!   6761 §6.4; as JsSIP and SIP.js do): servers reach the client over the connection its
//!   requests came in on (RFC 5626 flows), never by that host. The UA's
//!   `Transmit::destination` is meaningless here too (the socket is the route), so the UA
//!   is given a placeholder outbound proxy.
//! - **Short drops**: messages the UA produces while no socket is open are queued (at most
//!   [`MAX_QUEUED`]) and sent once a socket opens; after a reconnection the registration is
//!   refreshed at once (RFC 5626 §4.4.1 flow recovery), so calls survive where the server
//!   routes to the new flow (same `+sip.instance`/`reg-id`).
//! - **Keep-alive** (RFC 5626 §4.4.1, §3.5.1): the UA sends a double-CRLF ping every
//!   interval; without a CRLF pong within [`PONG_TIMEOUT`] the flow is declared dead and
//!   the socket is replaced.

use alloc::string::String;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use rvoip_core::rand::Rng;
use rvoip_core::sip::ua::{
    CallId, Event, Received, RegistrationState, Transport, UaConfig, UaError, UserAgent,
};
use rvoip_core::time::{Duration, Instant};

use crate::pool::{Pool, PoolState, Server};

/// The most messages kept while no socket is open.
pub const MAX_QUEUED: usize = 64;
/// How long to wait for the CRLF pong of a keep-alive ping (RFC 5626 §4.4.1: 10 s).
pub const PONG_TIMEOUT: Duration = Duration::from_secs(10);

/// What the phone is configured with.
#[derive(Debug, Clone)]
pub struct PhoneConfig {
    /// WebSocket servers (`wss://…`) with weights (non-empty URLs).
    pub servers: Vec<Server>,
    /// Address of record, e.g. `sip:alice@example.com`.
    pub uri: String,
    /// Digest password (empty: none).
    pub password: String,
    /// Digest user name (empty: the user part of `uri`).
    pub auth_user: String,
    /// Display name for From.
    pub display_name: Option<String>,
    /// REGISTER Request-URI (default: `sip:` + the domain of `uri`).
    pub registrar_uri: Option<String>,
    /// Requested registration lifetime in seconds.
    pub register_expires: u32,
    /// Keep-alive ping interval (`None`: no pings).
    pub keepalive: Option<Duration>,
    /// RFC 5626 instance URN (`urn:uuid:…`); a random one when `None`.
    pub instance_id: Option<String>,
    /// User-Agent header.
    pub user_agent: String,
}

impl PhoneConfig {
    /// The default registration lifetime, s.
    pub const REGISTER_EXPIRES: u32 = 600;
    /// The default User-Agent.
    pub const USER_AGENT: &str = "rvoip-wasm";

    /// A configuration for `uri` over `servers` with defaults: 600 s registrations,
    /// keep-alive every 30 s.
    pub fn new(uri: impl Into<String>, servers: Vec<Server>) -> PhoneConfig {
        PhoneConfig {
            servers,
            uri: uri.into(),
            password: String::new(),
            auth_user: String::new(),
            display_name: None,
            registrar_uri: None,
            register_expires: Self::REGISTER_EXPIRES,
            keepalive: Some(Duration::from_secs(30)),
            instance_id: None,
            user_agent: String::from(Self::USER_AGENT),
        }
    }
}

/// What JavaScript must do with the socket. [`Phone::poll_output`] returns it encoded (as
/// [`Action::decode`] reads it back): its kind `0`, `1` or `2`, then the URL or the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `0`: open a WebSocket to this URL with subprotocol `sip` (close any other first).
    Connect(String),
    /// `1`: send this SIP message (or keep-alive) as one WebSocket message.
    Send(Vec<u8>),
    /// `2`: close the current WebSocket (no [`Phone::handle_close`] expected for it).
    Close,
}

impl Action {
    /// Reads an encoded action ([`Phone::poll_output`]); `None` for another form (an event).
    pub fn decode(a: &[u8]) -> Option<Action> {
        let (&kind, data) = a.split_first()?;
        Some(match kind {
            b'0' => Action::Connect(String::from_utf8(data.to_vec()).ok()?),
            b'1' => Action::Send(data.to_vec()),
            b'2' if data.is_empty() => Action::Close,
            _ => return None,
        })
    }
}

/// An encoded action: `kind` then `data`.
fn action(kind: u8, data: &[u8]) -> Vec<u8> {
    let mut a = Vec::with_capacity(data.len() + 1);
    a.push(kind);
    a.extend_from_slice(data);
    a
}

/// The browser phone: UA + server pool + keep-alive supervision.
pub struct Phone<R: Rng> {
    ua: UserAgent<R>,
    rng: R,
    pool: Pool,
    // Plain vectors as FIFOs (taken from the front): they hold a handful of entries
    // between two drains, and VecDeque's code would be one more copy per element type.
    // Actions are kept encoded (`Action::decode`): the form JavaScript reads, no enum and
    // its drop glue. The queue holds sends (the actions' element type: one vector code).
    queue: Vec<Vec<u8>>,
    /// The actions and events, in order (one queue: the wrapper carries out the actions as
    /// it polls them and dispatches the events after the last).
    out: Vec<Vec<u8>>,
    /// The application wants to be registered (re-register after a reconnection).
    want_registered: bool,
    /// A ping is out: (deadline for its pong, pong count when it was sent).
    pong_deadline: Option<(Instant, u64)>,
}

impl<R: Rng> core::fmt::Debug for Phone<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Phone")
            .field("ua", &self.ua)
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
}

/// The placeholder address standing for "the WebSocket" (RFC 5737 TEST-NET-1, never
/// routable: the browser has no address of its own to put in Via/Contact, RFC 7118 §5).
fn placeholder(rng: &mut impl Rng) -> SocketAddr {
    let host = 1 + rng.below(254) as u8;
    let port = 10_000 + rng.below(50_000) as u16;
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, host), port))
}

/// Lowercase hex digits, then the rest of the lowercase alphanumerics: the random
/// characters of [`invalid_host`] (all 36) and [`uuid_urn`] (the first 16).
const CHARS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// A random character of `CHARS[from..from + n]`.
fn random_char(rng: &mut impl Rng, from: usize, n: u64) -> char {
    // `below(n)` < n, and every caller's `from + n` <= 36: in range of CHARS.
    char::from(CHARS[from + rng.below(n) as usize])
}

/// A random `<8 alphanumerics>.invalid` host for Via and Contact (RFC 7118 §5.2: a
/// WebSocket client has no reachable address; RFC 6761 §6.4: `.invalid` never resolves).
fn invalid_host(rng: &mut impl Rng) -> String {
    let mut s = String::with_capacity(16);
    for _ in 0..8 {
        s.push(random_char(rng, 0, 36));
    }
    s.push_str(".invalid");
    s
}

/// A random RFC 4122 version-4 UUID URN (§4.4: 122 random bits, version `4`, variant
/// `10xx`), digit by digit.
fn uuid_urn(rng: &mut impl Rng) -> String {
    let mut s = String::from("urn:uuid:");
    for i in 0..36 {
        s.push(match i {
            8 | 13 | 18 | 23 => '-',
            14 => '4',
            // The variant's two high bits 10: `8`, `9`, `a` or `b`.
            19 => random_char(rng, 8, 4),
            _ => random_char(rng, 0, 16),
        });
    }
    s
}

/// The UA configuration every browser phone starts from, for address of record `uri`:
/// reached through the WebSocket (placeholder local and proxy addresses, a random
/// `.invalid` host for Via and Contact, transport WS), RFC 5626 `reg-id` 1, limits for a
/// phone (16 calls, 256 transactions). The user's settings are set on it, then
/// [`Phone::with_config`] makes the phone.
pub fn ua_config(uri: String, rng: &mut impl Rng) -> UaConfig {
    let local = placeholder(rng);
    let mut c = UaConfig::new(uri, local);
    c.advertised_host = Some(invalid_host(rng));
    c.transport = Transport::Ws;
    c.proxy = Some(placeholder(rng));
    c.reg_id = Some(1);
    c.max_calls = 16;
    c.max_transactions = 256;
    c
}

impl<R: Rng> Phone<R> {
    /// A phone for `cfg`; `ua_rng` feeds the SIP UA, `rng` the pool and placeholders.
    pub fn new(cfg: PhoneConfig, ua_rng: R, mut rng: R) -> Phone<R> {
        let mut c = ua_config(cfg.uri, &mut rng);
        c.display_name = cfg.display_name.filter(|d| !d.is_empty());
        c.auth_user = cfg.auth_user;
        c.password = cfg.password;
        c.registrar_uri = cfg.registrar_uri.filter(|r| !r.is_empty());
        c.register_expires = cfg.register_expires.max(1);
        c.keepalive = cfg.keepalive;
        c.instance_id = cfg.instance_id;
        c.user_agent = cfg.user_agent;
        Phone::with_config(c, cfg.servers, ua_rng, rng)
    }

    /// A phone with UA configuration `c` ([`ua_config`] with the user's settings) over
    /// `servers` (non-empty URLs): the transport is WSS when a server is `wss:`, the
    /// instance id a random UUID URN and the advertised host a random `.invalid` one when
    /// `c` has none; `ua_rng` feeds the SIP UA, `rng` the pool (and those random parts).
    pub fn with_config(mut c: UaConfig, servers: Vec<Server>, ua_rng: R, mut rng: R) -> Phone<R> {
        if servers.iter().any(|s| s.url.starts_with("wss:")) {
            c.transport = Transport::Wss;
        }
        if c.instance_id.is_none() {
            c.instance_id = Some(uuid_urn(&mut rng));
        }
        // The `.invalid` host of `ua_config` (a new one if `c` has none: a browser has no
        // address of its own to advertise).
        let host = c
            .advertised_host
            .take()
            .unwrap_or_else(|| invalid_host(&mut rng));
        Phone {
            ua: UserAgent::with_advertised_host(c, ua_rng, host),
            rng,
            pool: Pool::new(servers),
            queue: Vec::new(),
            out: Vec::new(),
            want_registered: false,
            pong_deadline: None,
        }
    }

    /// The SIP user agent (for commands without a wrapper here).
    pub fn ua(&mut self) -> &mut UserAgent<R> {
        &mut self.ua
    }

    /// The server pool.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Whether the UA holds a registration.
    pub fn is_registered(&self) -> bool {
        self.ua.is_registered()
    }

    /// Starts connecting to the servers. `false` if no server is configured.
    pub fn start(&mut self, now: Instant) -> bool {
        let ok = self.pool.start(&mut self.rng);
        self.drain(now);
        ok
    }

    /// Stops: closes the socket, no reconnection. (Unregister first to remove the binding.)
    /// The time is taken like every input's, though stopping needs none.
    pub fn stop(&mut self, _now: Instant) {
        let was_connected = self.pool.state() != crate::pool::PoolState::Idle;
        self.pool.stop();
        self.want_registered = false;
        self.pong_deadline = None;
        self.queue.clear();
        if was_connected {
            self.out.push(action(b'2', &[]));
            self.disconnected(None);
        }
    }

    /// The socket opened.
    pub fn handle_open(&mut self, now: Instant) {
        let PoolState::Connecting(i) = self.pool.state() else {
            return;
        };
        self.pool.opened();
        // The `C` (connected) event ([`crate::PhoneEventJs`]).
        let url = self.pool.servers().get(i).map_or("", |s| s.url.as_str());
        self.out.push(crate::enc(b"C", 0, 0, url, "", None));
        // Oldest first (one element type's `remove`, as in `drain`: no retain or drain
        // adapters; at most MAX_QUEUED).
        while !self.queue.is_empty() {
            let a = self.queue.remove(0);
            // The fresh REGISTER below supersedes any queued one.
            if self.want_registered && a.starts_with(b"1REGISTER ") {
                continue;
            }
            self.out.push(a);
        }
        if self.want_registered {
            // RFC 5626 §4.4.1: a new flow is registered at once.
            let _ = self.ua.register(now);
        }
        self.drain(now);
    }

    /// The socket closed or failed to open.
    pub fn handle_close(&mut self, now: Instant) {
        self.pong_deadline = None;
        let retry = self.pool.closed(now, &mut self.rng);
        if retry.is_some() {
            self.disconnected(retry);
        }
        self.drain(now);
    }

    /// One WebSocket message (a SIP message or a keep-alive CRLF) arrived.
    pub fn handle_message(&mut self, now: Instant, bytes: &[u8]) {
        let source = self
            .ua
            .config()
            .proxy
            .unwrap_or(self.ua.config().local_addr);
        let transport = self.ua.config().transport;
        self.ua.handle_receive(
            now,
            Received {
                transport,
                source,
                bytes,
            },
        );
        if let Some((_, pongs)) = self.pong_deadline
            && self.ua.keepalive_pongs() != pongs
        {
            self.pong_deadline = None;
        }
        self.drain(now);
    }

    /// Processes every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.pong_deadline.is_some_and(|(t, _)| t <= now) {
            // RFC 5626 §4.4.1: no pong, the flow failed; replace the socket.
            self.pong_deadline = None;
            if self.pool.is_open() {
                self.out.push(action(b'2', &[]));
                let retry = self.pool.failed(now, &mut self.rng);
                self.disconnected(retry);
            }
        }
        self.pool.handle_timeout(now, &mut self.rng);
        if self.ua.poll_timeout().is_some_and(|t| t <= now) {
            self.ua.handle_timeout(now);
        }
        self.drain(now);
    }

    /// The next instant at which [`Phone::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut next = self.ua.poll_timeout();
        for t in [self.pool.poll_timeout(), self.pong_deadline.map(|(t, _)| t)] {
            // `None` is never the earlier one.
            if t.is_some() && (next.is_none() || t < next) {
                next = t;
            }
        }
        next
    }

    /// The next output, encoded: an action for the socket ([`Action`]: a digit first) or an
    /// event for the application ([`crate::encode_event`]: a letter first), in the order
    /// they happened.
    pub fn poll_output(&mut self) -> Option<Vec<u8>> {
        (!self.out.is_empty()).then(|| self.out.remove(0))
    }

    /// Queues a `d` (disconnected) event ([`crate::PhoneEventJs`]): the delay before the
    /// next attempt, ms (`-1`: none, stopped or no server).
    fn disconnected(&mut self, retry: Option<Duration>) {
        // In u64 (`as_millis` is u128 arithmetic); at most 30 s in practice, clamped anyway.
        let ms = retry.map_or(-1, |d| {
            let ms = d
                .as_secs()
                .saturating_mul(1000)
                .saturating_add(d.subsec_millis().into());
            ms.min(i32::MAX as u64) as i64
        });
        self.out.push(crate::enc(b"d", 0, ms, "", "", None));
    }

    /// Moves the UA's and the pool's output into the output queue.
    fn drain(&mut self, now: Instant) {
        if let Some(url) = self.pool.poll_connect() {
            self.out.push(action(b'0', url.as_bytes()));
            // The `c` (connecting) event ([`crate::PhoneEventJs`]).
            self.out.push(crate::enc(b"c", 0, 0, url, "", None));
        }
        let open = self.pool.is_open();
        while let Some(t) = self.ua.poll_transmit() {
            if t.bytes == b"\r\n\r\n" {
                if !open {
                    continue; // No flow to keep alive.
                }
                if self.pong_deadline.is_none() {
                    self.pong_deadline = Some((now + PONG_TIMEOUT, self.ua.keepalive_pongs()));
                }
            }
            let a = action(b'1', &t.bytes);
            if open {
                self.out.push(a);
            } else {
                if self.queue.len() >= MAX_QUEUED {
                    self.queue.remove(0);
                }
                self.queue.push(a);
            }
        }
        while let Some(e) = self.ua.poll_event() {
            if let Event::Registration(RegistrationState::Unregistered) = e {
                self.want_registered = false;
            }
            self.out.push(crate::encode_event(&e));
        }
    }

    /// Turns a dial string into a SIP URI: `sip:`/`sips:`/`tel:` URIs are kept, `user@host`
    /// gets `sip:`, a bare user or number gets `sip:…@` + our domain.
    pub fn target_uri(&self, target: &str) -> String {
        // ASCII whitespace (the wrapper trims what else JavaScript calls whitespace).
        let t = target.trim_ascii();
        let has = |scheme: &str| {
            t.get(..scheme.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(scheme))
        };
        if has("sip:") || has("sips:") || has("tel:") {
            return String::from(t);
        }
        // Concatenated by hand (`format!` would bring core::fmt into the package), as bytes:
        // only ASCII bytes are left out or added, so the result stays UTF-8.
        let domain = self.ua.config().aor_domain();
        let mut uri = Vec::with_capacity(t.len() + domain.len() + 5);
        uri.extend_from_slice(b"sip:");
        #[allow(
            clippy::manual_contains,
            reason = "an iterator search: `<[u8]>::contains` would bring core's memchr into the package"
        )]
        let user_at_host = t.as_bytes().iter().any(|&b| b == b'@');
        if user_at_host {
            uri.extend_from_slice(t.as_bytes());
        } else {
            // Without the visual separators.
            for &b in t.as_bytes() {
                if !matches!(b, b' ' | b'-' | b'(' | b')') {
                    uri.push(b);
                }
            }
            uri.push(b'@');
            // Our domain: the AOR's after its last `@`, before URI parameters, headers or
            // `>` (read here, when needed, rather than kept as a second copy).
            for &b in domain.as_bytes() {
                if matches!(b, b';' | b'?' | b'>') {
                    break;
                }
                uri.push(b);
            }
        }
        String::from_utf8(uri).unwrap_or_default()
    }

    /// Registers (and keeps re-registering after reconnections until `unregister`).
    pub fn register(&mut self, now: Instant) -> Result<(), UaError> {
        self.want_registered = true;
        let r = self.ua.register(now);
        self.drain(now);
        r
    }

    /// Removes the registration.
    pub fn unregister(&mut self, now: Instant) -> Result<(), UaError> {
        self.want_registered = false;
        let r = self.ua.unregister(now);
        self.drain(now);
        r
    }

    /// Calls `target` (see [`Phone::target_uri`]) with the SDP offer.
    pub fn call(&mut self, now: Instant, target: &str, sdp: &[u8]) -> Result<CallId, UaError> {
        let uri = self.target_uri(target);
        let r = self.ua.call(now, &uri, sdp);
        self.drain(now);
        r
    }

    /// Runs a UA command and drains its output.
    pub fn with_ua<T>(
        &mut self,
        now: Instant,
        f: impl FnOnce(&mut UserAgent<R>, Instant) -> T,
    ) -> T {
        let r = f(&mut self.ua, now);
        self.flush(now);
        r
    }

    /// Drains the output of UA commands run at `now` through [`Phone::ua`].
    pub fn flush(&mut self, now: Instant) {
        self.drain(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvoip_core::rand::SplitMix64;

    fn phone() -> Phone<SplitMix64> {
        let servers = alloc::vec![Server::new("wss://a.example/ws".into(), 1)];
        let mut cfg = PhoneConfig::new("sip:alice@example.com", servers);
        cfg.password = "pw".into();
        Phone::new(cfg, SplitMix64::new(1), SplitMix64::new(2))
    }

    #[test]
    fn dial_strings_become_uris() {
        let p = phone();
        assert_eq!(p.target_uri("1000"), "sip:1000@example.com");
        assert_eq!(
            p.target_uri(" +1 (555) 123-4567 "),
            "sip:+15551234567@example.com"
        );
        assert_eq!(p.target_uri("bob@b.org"), "sip:bob@b.org");
        assert_eq!(p.target_uri("sips:bob@b.org"), "sips:bob@b.org");
        assert_eq!(p.target_uri("tel:+1555"), "tel:+1555");
        assert_eq!(p.target_uri("SIP:x@y"), "SIP:x@y");
        assert_eq!(p.target_uri("tel:"), "tel:", "a bare scheme is a URI too");
        assert_eq!(p.target_uri("(é) 1-2"), "sip:é12@example.com");
        // Our domain: after the last `@`, before URI parameters, headers or `>`.
        for aor in [
            "sip:al@x@b.org;transport=ws",
            "sip:al@b.org?h=1",
            "<sip:al@b.org>",
        ] {
            let q = Phone::new(
                PhoneConfig::new(aor, alloc::vec![]),
                SplitMix64::new(1),
                SplitMix64::new(2),
            );
            assert_eq!(q.target_uri("1"), "sip:1@b.org", "{aor}");
        }
        assert_eq!(
            p.target_uri("sip:é@x"),
            "sip:é@x",
            "non-ASCII after the scheme"
        );
    }

    #[test]
    fn via_and_contact_use_a_random_invalid_host() {
        let mut p = phone();
        let t0 = Instant::from_millis(10);
        assert!(p.start(t0));
        p.handle_open(t0);
        p.register(t0).unwrap();
        let b = core::iter::from_fn(|| p.poll_output())
            .find_map(|a| match Action::decode(&a) {
                Some(Action::Send(b)) => Some(b),
                _ => None,
            })
            .expect("a REGISTER");
        let reg = rvoip_core::sip::ua::SipMsg::parse(&b).unwrap();
        let via = reg.top_via().unwrap();
        let host = via
            .strip_prefix("SIP/2.0/WSS ")
            .and_then(|v| v.split(';').next())
            .unwrap();
        let label = host.strip_suffix(".invalid").expect(host);
        assert_eq!(label.len(), 8, "{host}");
        assert!(
            label
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        let contact = reg.contact_uri().unwrap();
        assert_eq!(contact, alloc::format!("sip:alice@{host};transport=ws"));
        // Another phone draws another host.
        let other = Phone::new(
            PhoneConfig::new("sip:alice@example.com", alloc::vec![]),
            SplitMix64::new(1),
            SplitMix64::new(3),
        );
        assert_ne!(other.ua.config().advertised_host.as_deref(), Some(host));
        // A configuration without a host gets a random `.invalid` one too.
        let mut rng = SplitMix64::new(4);
        let mut c = ua_config("sip:alice@example.com".into(), &mut rng);
        c.advertised_host = None;
        let p = Phone::with_config(c, alloc::vec![], SplitMix64::new(1), rng);
        let h = p.ua.config().advertised_host.as_deref().unwrap();
        assert!(h.ends_with(".invalid") && h.len() == 16, "{h}");
    }

    #[test]
    fn uuid_is_v4() {
        let u = uuid_urn(&mut SplitMix64::new(5));
        assert_eq!(u.len(), 9 + 36);
        assert!(u.starts_with("urn:uuid:"));
        for (i, c) in u[9..].bytes().enumerate() {
            match i {
                8 | 13 | 18 | 23 => assert_eq!(c, b'-', "{u}"),
                _ => assert!(matches!(c, b'0'..=b'9' | b'a'..=b'f'), "{u}"),
            }
        }
        assert_eq!(&u[9 + 14..9 + 15], "4");
        assert!(matches!(&u[9 + 19..9 + 20], "8" | "9" | "a" | "b"));
        // Random: every hex digit shows up at the variant's and the other positions.
        let mut rng = SplitMix64::new(6);
        let (mut variants, mut digits) = (0u32, 0u32);
        for _ in 0..200 {
            let u = uuid_urn(&mut rng);
            let hex = |c: u8| char::from(c).to_digit(16).unwrap();
            variants |= 1 << hex(u.as_bytes()[9 + 19]);
            digits |= 1 << hex(u.as_bytes()[9]);
        }
        assert_eq!(variants, 0x0f00, "8, 9, a, b");
        assert_eq!(digits, 0xffff);
    }

    #[test]
    fn queues_while_closed_and_flushes_on_open() {
        let mut p = phone();
        let t0 = Instant::from_millis(10);
        assert!(p.start(t0));
        assert_eq!(
            p.poll_output().and_then(|a| Action::decode(&a)),
            Some(Action::Connect("wss://a.example/ws".into()))
        );
        p.register(t0).unwrap();
        let mut out = core::iter::from_fn(|| p.poll_output());
        assert!(
            out.all(|a| !matches!(Action::decode(&a), Some(Action::Send(_)))),
            "nothing sent before the socket opens"
        );
        p.handle_open(t0);
        // One REGISTER: the queued one is superseded by the new flow's.
        let mut sent = 0;
        while let Some(a) = p.poll_output() {
            match Action::decode(&a) {
                Some(Action::Send(b)) => assert!(b.starts_with(b"REGISTER ")),
                Some(a) => panic!("{a:?}"),
                None => continue, // An event (connected).
            }
            sent += 1;
        }
        assert_eq!(sent, 1);
    }
}
