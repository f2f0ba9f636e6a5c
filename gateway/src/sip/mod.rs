//! The gateway's SIP side: transports (UDP, TCP, WebSocket, RFC 3261 §18 / RFC 7118), the
//! per-source rate limiter, the registrar (RFC 3261 §10, RFC 5626 flows), the B2BUA (two
//! dialogs per call on the core [`UserAgent`](rvoip_core::sip::ua::UserAgent)) and the
//! trunk manager (registration, OPTIONS keep-alive).
//!
//! Every received message enters through [`Shared::on_message`]: it is parsed
//! ([`parse_datagram`]), rate limited per source host ([`ratelimit`]: trunks exempt,
//! digest-authenticated stream flows on their own budget), validated ([`validate::validate`], RFC 4475: a bad
//! request gets 400/416/420/505…, never a panic), then routed: to the call task that owns its
//! Call-ID, to the registrar (REGISTER), answered (OPTIONS), or it starts a new call (INVITE,
//! after digest authentication with 407 — an unauthenticated INVITE never reaches a trunk).

pub mod b2bua;
pub mod media;
pub mod ratelimit;
pub mod registrar;
pub mod transport;
pub mod trunk;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rvoip_core::rand::{Rng, SplitMix64};
use rvoip_core::sip::auth::{
    Algorithm, CredentialStore, DigestRequest, DigestServer, ServerConfig, UserSecret,
    Verification, compute,
};
use rvoip_core::sip::ua::{SipMsg, Transport};
use rvoip_core::sip::validate::{self, ValidateConfig};
use rvoip_core::sip::{Datagram, Limits, Method, parse_datagram};
use rvoip_core::time::Instant;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::Store;

/// The gateway's random source: SplitMix64 seeded from the OS generator.
#[derive(Debug, Clone)]
pub struct GwRng(SplitMix64);

impl GwRng {
    /// A generator seeded from the operating system.
    pub fn new() -> GwRng {
        let mut seed = [0u8; 8];
        // Without OS randomness nonces and tags would be predictable: refuse to go on.
        getrandom::fill(&mut seed).expect("the OS random generator is available");
        GwRng(SplitMix64::new(u64::from_le_bytes(seed)))
    }
}

impl Default for GwRng {
    fn default() -> Self {
        GwRng::new()
    }
}

impl Rng for GwRng {
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
}

/// A random token of `len` characters from `[a-z0-9]`.
pub fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = GwRng::new();
    (0..len)
        .map(|_| char::from(ALPHABET[rng.below(ALPHABET.len() as u64) as usize]))
        .collect()
}

/// Maps wall-clock time onto the core's [`Instant`] (µs since the gateway started).
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: tokio::time::Instant,
}

impl Clock {
    /// A clock starting now.
    pub fn new() -> Clock {
        Clock {
            start: tokio::time::Instant::now(),
        }
    }

    /// The core instant for now.
    pub fn now(&self) -> Instant {
        Instant::from_micros(self.start.elapsed().as_micros() as u64)
    }

    /// The tokio instant of a core instant.
    pub fn to_tokio(&self, t: Instant) -> tokio::time::Instant {
        self.start + Duration::from_micros(t.as_micros())
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

/// What the request validator accepts at the gateway's front door.
pub const VALIDATE: ValidateConfig<'static> = ValidateConfig {
    allowed_methods: validate::DEFAULT_METHODS,
    supported_extensions: &["100rel", "timer", "replaces", "outbound", "path"],
    accepted_content_types: &[
        "application/sdp",
        "application/dtmf-relay",
        "message/sipfrag",
        "text/plain",
    ],
    uri_schemes: &["sip", "sips", "tel"],
    forwarding: false,
    rfc2543_compat: true,
};

/// Something a call task is told.
#[derive(Debug)]
pub enum CallInput {
    /// A SIP message for one of the call's dialogs.
    Sip {
        /// Transport it came over.
        transport: Transport,
        /// Source address (the flow for stream transports).
        source: SocketAddr,
        /// The message.
        bytes: Vec<u8>,
    },
    /// A stream connection (WebSocket/TCP flow) the task uses closed (see
    /// [`transport::FlowUses::watching`]).
    FlowClosed(SocketAddr),
    /// The gateway is shutting down: end the call after the grace period.
    Shutdown,
    /// The operator ends the call now (BYE / final response on both legs).
    Hangup,
}

/// A stream connection the gateway can send on.
#[derive(Debug, Clone)]
pub struct Flow {
    /// WS, WSS, TCP or TLS.
    pub transport: Transport,
    /// Outgoing messages (one SIP message per item).
    pub tx: mpsc::UnboundedSender<Vec<u8>>,
    /// Whether the gateway opened the connection (to a trunk): it is reopened when a
    /// message finds it closed, and closed when idle ([`transport`]).
    pub outgoing: bool,
}

/// Live state of one call, for `/api/calls`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CallInfo {
    /// Gateway call number.
    pub id: u64,
    /// The A leg's Call-ID (its key in [`Shared::routes`]).
    pub call_id: String,
    /// `outbound` (user → trunk), `inbound` (trunk → user), `internal` (user → user),
    /// `service` (echo/tone).
    pub direction: String,
    /// Caller.
    pub from: String,
    /// Callee (the dialled number after the dial plan).
    pub to: String,
    /// `ringing`, `answered`, `ending`.
    pub state: String,
    /// Trunk in use, if any.
    pub trunk: Option<String>,
    /// Start, ms since the Unix epoch.
    pub started_ms: i64,
    /// Live media figures per leg (A, then B), refreshed about once a second while the
    /// media plane anchors the call; empty otherwise.
    pub legs: Vec<LiveLeg>,
    /// Whether the media plane transcodes between the legs (`None` until known).
    pub transcoding: Option<bool>,
    /// DTMF digits seen so far on either leg (RFC 4733 or SIP INFO), in order.
    pub dtmf: String,
}

/// Live media figures of one leg of a call (the media plane's `LegStats`, for
/// `/api/calls` and the console).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct LiveLeg {
    /// `A` (caller side) or `B` (callee side).
    pub name: String,
    /// `webrtc`, `sip`, `trunk`, `service`…
    pub kind: String,
    /// Negotiated codec (`opus`, `PCMU`…).
    pub codec: Option<String>,
    /// RTP packets received.
    pub packets_in: u64,
    /// RTP packets sent.
    pub packets_out: u64,
    /// Packets lost (RFC 3550 cumulative; negative with duplicates).
    pub lost: i64,
    /// Interarrival jitter, ms.
    pub jitter_ms: f64,
    /// Round-trip time from RTCP, ms.
    pub rtt_ms: Option<f64>,
    /// MOS estimate (E-model); `None` before the first packet.
    pub mos: Option<f64>,
}

/// Counters the tests and `/api` read: every call, leg, task and flow the gateway holds.
#[derive(Debug, Default)]
pub struct Counters {
    /// Call tasks alive (including lingering ones absorbing retransmissions).
    pub call_tasks: AtomicUsize,
    /// Calls not yet ended.
    pub calls: AtomicUsize,
    /// Dialog legs alive.
    pub legs: AtomicUsize,
    /// Stream flows (WebSocket and TCP connections).
    pub flows: AtomicUsize,
    /// Calls started since start (to number them).
    pub next_call: AtomicU64,
    /// Call records written.
    pub records_written: AtomicU64,
    /// Per peer of an outgoing TCP/TLS connection: how many tasks use it (a call with a
    /// dialog or transaction there, a trunk's OPTIONS in flight or registration); an idle
    /// connection is closed only when none does ([`transport::FlowUses`]).
    pub flow_users: Mutex<HashMap<SocketAddr, usize>>,
}

/// The state every SIP task shares.
pub struct Shared {
    /// The configuration.
    pub cfg: Config,
    /// The database.
    pub store: Arc<Store>,
    /// Prometheus registry.
    pub metrics: Arc<Metrics>,
    /// Time base.
    pub clock: Clock,
    /// The UDP socket.
    pub udp: Option<Arc<UdpSocket>>,
    /// Bound addresses.
    pub addrs: Addrs,
    /// Stream flows by peer address.
    pub flows: Mutex<HashMap<SocketAddr, Flow>>,
    /// Call-ID → the task that owns it (call tasks, trunk tasks).
    pub routes: Mutex<HashMap<String, mpsc::UnboundedSender<CallInput>>>,
    /// Stream flow → the tasks told when it closes (the calls on it, a trunk's OPTIONS in
    /// flight).
    pub flow_watchers: transport::FlowWatchers,
    /// Live calls.
    pub calls: Mutex<HashMap<u64, CallInfo>>,
    /// Registrar bindings.
    pub registrar: Mutex<registrar::Registrar>,
    /// Digest server and credentials.
    pub auth: Mutex<Auth>,
    /// Per-source rate limiter.
    pub limiter: Mutex<ratelimit::RateLimiter>,
    /// Trunk states.
    pub trunks: Mutex<Vec<trunk::TrunkState>>,
    /// Counters.
    pub counters: Counters,
    /// Set on shutdown: new calls get 503.
    pub shutting_down: AtomicBool,
    /// The media plane (None: SDP is relayed and echo/tone are refused).
    pub media: Option<crate::media::MediaEngine>,
    /// Timers for new transactions (T1 is shortened by tests).
    pub timers: rvoip_core::sip::transaction::TimerConfig,
    /// Per trunk (config order): how to open TLS connections to `transport = "tls"` trunks.
    pub tls_trunks: Vec<Option<crate::tls::TrunkTls>>,
}

/// The bound listener addresses.
#[derive(Debug, Clone, Copy)]
pub struct Addrs {
    /// HTTP/WebSocket.
    pub http: SocketAddr,
    /// SIP UDP.
    pub udp: Option<SocketAddr>,
    /// SIP TCP.
    pub tcp: Option<SocketAddr>,
    /// SIP TLS.
    pub tls: Option<SocketAddr>,
}

/// Digest authentication state (RFC 3261 §22, RFC 7616).
pub struct Auth {
    /// Challenges and verification.
    pub server: DigestServer,
    /// Randomness for nonces.
    pub rng: GwRng,
}

/// The users the digest server accepts: those of the config, then those of the database,
/// looked up at each request (a user added to the database needs no restart). Only the
/// SIP domain is a realm.
pub struct UserDirectory<'a> {
    /// The realm (`sip.domain`).
    pub realm: &'a str,
    /// `[[users]]` of the config.
    pub config: &'a [crate::config::UserConfig],
    /// The database.
    pub store: &'a Store,
}

impl CredentialStore for UserDirectory<'_> {
    fn secret(&self, realm: &str, username: &str, algorithm: Algorithm) -> Option<UserSecret<'_>> {
        if realm != self.realm {
            return None;
        }
        let password = match self.config.iter().find(|u| u.username == username) {
            Some(u) => u.password.clone(),
            None => self.store.user(username).ok()??.password,
        };
        Some(UserSecret::Ha1(compute::ha1(
            algorithm.base(),
            username,
            realm,
            &password,
        )))
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Outcome of checking a request's credentials.
#[derive(Debug)]
pub enum AuthOutcome {
    /// Authenticated as this user.
    User(String),
    /// Send this challenge response.
    Challenge(SipMsg),
}

impl Shared {
    /// Locks a mutex, ignoring poisoning (the data stays consistent per operation).
    pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
        lock(m)
    }

    /// Builds the digest state for the SIP domain.
    pub fn new_auth(domain: &str) -> Auth {
        let mut rng = GwRng::new();
        let server = DigestServer::new(ServerConfig::new(domain.to_string()), &mut rng);
        Auth { server, rng }
    }

    /// Checks the credentials of `req` (Authorization for REGISTER with 401, or
    /// Proxy-Authorization for other requests with 407).
    pub fn authenticate(&self, req: &SipMsg, registrar: bool) -> AuthOutcome {
        let now = self.clock.now();
        let (cred_header, code, chal_header) = if registrar {
            ("Authorization", 401, "WWW-Authenticate")
        } else {
            ("Proxy-Authorization", 407, "Proxy-Authenticate")
        };
        let method = req
            .method()
            .map(|m| m.as_str().to_string())
            .unwrap_or_default();
        let uri = req.uri().unwrap_or("").to_string();
        let mut auth = lock(&self.auth);
        let Auth { server, rng } = &mut *auth;
        let store = UserDirectory {
            realm: &self.cfg.sip.domain,
            config: &self.cfg.users,
            store: &self.store,
        };
        let request = DigestRequest {
            method: &method,
            uri: Some(&uri),
            body: &req.body,
        };
        let v = server.verify_any(now, &request, req.headers_named(cred_header), &store);
        if let Verification::Ok(a) = v {
            return AuthOutcome::User(a.username);
        }
        let stale = v.challenge_stale().unwrap_or(false);
        let mut resp = rvoip_core::sip::ua::response(req, code, Some(&random_token(10)));
        for c in server.challenge_values(now, rng, stale) {
            resp.push(chal_header, c);
        }
        AuthOutcome::Challenge(resp)
    }

    /// Sends bytes to `dest` over `transport`: UDP from the listener socket, streams on the
    /// flow to `dest` (opening a TCP connection if there is none).
    pub fn send(self: &Arc<Self>, transport: Transport, dest: SocketAddr, bytes: Vec<u8>) {
        count_response(&self.metrics, &bytes, "out");
        match transport {
            Transport::Udp => {
                if let Some(sock) = &self.udp
                    && let Err(e) = sock.try_send_to(&bytes, dest)
                {
                    tracing::debug!(%dest, "udp send: {e}");
                }
            }
            _ => {
                let flow = lock(&self.flows).get(&dest).cloned();
                match flow {
                    Some(f) => {
                        // An outgoing connection closed since the lookup (for idleness, or
                        // by the peer) is reopened.
                        if let Err(e) = f.tx.send(bytes)
                            && f.outgoing
                        {
                            transport::reconnect_send(self, transport, dest, e.0);
                        }
                    }
                    None if transport == Transport::Tcp => {
                        transport::connect_tcp(self.clone(), dest, bytes);
                    }
                    None if transport == Transport::Tls => {
                        transport::connect_tls(self.clone(), dest, bytes);
                    }
                    None => tracing::debug!(%dest, "no flow to send on"),
                }
            }
        }
    }

    /// Sends a response to a request that arrived from `source` over `transport`.
    pub fn reply(self: &Arc<Self>, transport: Transport, source: SocketAddr, resp: &SipMsg) {
        self.send(transport, source, resp.to_bytes());
    }

    /// The registered Call-ID route, if any.
    pub fn route_of(&self, call_id: &str) -> Option<mpsc::UnboundedSender<CallInput>> {
        lock(&self.routes).get(call_id).cloned()
    }

    /// Every received SIP message (or keep-alive) enters here.
    pub fn on_message(self: &Arc<Self>, transport: Transport, source: SocketAddr, bytes: &[u8]) {
        let limits = Limits::default();
        let msg = match parse_datagram(bytes, &limits) {
            Ok(Datagram::KeepAlive) => {
                // RFC 5626 §4.4.1: answer a CRLFCRLF ping with a CRLF pong on streams.
                if transport.is_reliable() && bytes.len() >= 4 {
                    self.send(transport, source, b"\r\n".to_vec());
                }
                return;
            }
            Ok(Datagram::Message(m)) => m,
            Err(e) => {
                tracing::debug!(%source, "unparsable SIP dropped: {e}");
                return;
            }
        };
        if let Some(req) = msg.as_request() {
            let method = req.method();
            self.metrics
                .inc("rvoip_sip_requests_total", &[("method", method.as_str())]);
            let now = self.clock.now();
            // Trunks are trusted by address and not limited (see `ratelimit`'s module doc).
            let verdict = if trunk::trunk_of_source(self, source).is_some() {
                ratelimit::Verdict::Allow
            } else {
                lock(&self.limiter).check(now, source, transport.is_reliable())
            };
            if verdict != ratelimit::Verdict::Allow {
                self.metrics.inc("rvoip_rate_limited_total", &[]);
                if method != Method::Ack && verdict == ratelimit::Verdict::Refuse {
                    let m = SipMsg::from_message(&msg);
                    let mut r = rvoip_core::sip::ua::response(&m, 503, None);
                    r.push("Retry-After", "5");
                    self.reply(transport, source, &r);
                }
                return;
            }
            if let Err(rej) = validate::validate(req, &VALIDATE) {
                if method == Method::Ack {
                    return;
                }
                let m = SipMsg::from_message(&msg);
                let mut r = rvoip_core::sip::ua::response(&m, rej.status.as_u16(), None);
                r.start = rvoip_core::sip::ua::msg::StartLine::Response {
                    code: rej.status.as_u16(),
                    reason: rej.reason.to_string(),
                };
                for (name, value) in rej.headers {
                    r.push(header_static(name.as_str()), value);
                }
                tracing::debug!(%source, code = rej.status.as_u16(), "invalid request");
                self.reply(transport, source, &r);
                return;
            }
            let m = SipMsg::from_message(&msg);
            self.on_request(transport, source, bytes, m);
        } else if let Some(resp) = msg.as_response() {
            count_response(&self.metrics, bytes, "in");
            if validate::validate_response(resp).is_err() {
                return;
            }
            let Ok(call_id) = resp.call_id() else { return };
            if let Some(tx) = self.route_of(call_id) {
                let _ = tx.send(CallInput::Sip {
                    transport,
                    source,
                    bytes: bytes.to_vec(),
                });
            }
        }
    }

    fn on_request(
        self: &Arc<Self>,
        transport: Transport,
        source: SocketAddr,
        bytes: &[u8],
        m: SipMsg,
    ) {
        let call_id = m.call_id().unwrap_or("").to_string();
        if let Some(tx) = self.route_of(&call_id) {
            let _ = tx.send(CallInput::Sip {
                transport,
                source,
                bytes: bytes.to_vec(),
            });
            return;
        }
        let method = m.method().unwrap_or(rvoip_core::sip::ua::Method::Ack);
        use rvoip_core::sip::ua::Method as M;
        match method {
            M::Register => registrar::handle_register(self, transport, source, &m),
            M::Options => {
                let mut r = rvoip_core::sip::ua::response(&m, 200, Some(&random_token(10)));
                r.push("Allow", ALLOW);
                r.push("Accept", "application/sdp");
                r.push("Supported", "outbound, path");
                self.reply(transport, source, &r);
            }
            M::Invite if m.to_tag().is_none() => {
                b2bua::new_invite(self, transport, source, bytes, m);
            }
            M::Ack => {}
            _ => {
                let code = if m.to_tag().is_some()
                    || matches!(method, M::Cancel | M::Bye | M::Prack | M::Update | M::Info)
                {
                    481
                } else {
                    405
                };
                let mut r = rvoip_core::sip::ua::response(&m, code, Some(&random_token(10)));
                if code == 405 {
                    r.push("Allow", ALLOW);
                }
                self.reply(transport, source, &r);
            }
        }
    }

    /// A stream flow closed: registrations over it go (RFC 5626 §5), and the tasks that
    /// use it are told ([`transport::FlowWatchers`]; only those): a call whose caller or
    /// callee was on it ends, requests pending on it fail at once.
    pub fn flow_closed(self: &Arc<Self>, peer: SocketAddr) {
        if lock(&self.flows).remove(&peer).is_some() {
            self.counters.flows.fetch_sub(1, Ordering::SeqCst);
        }
        lock(&self.limiter).forget_flow(peer);
        let removed = lock(&self.registrar).remove_flow(peer);
        if removed > 0 {
            self.update_registration_gauge();
        }
        self.flow_watchers.notify(peer);
    }

    /// Ends call `id` at once (operator hang-up): BYE on answered legs, a final response or
    /// CANCEL on ringing ones; the record's cause reads `hangup: operator`. False when there
    /// is no such live call.
    pub fn hangup_call(&self, id: u64) -> bool {
        let Some(call_id) = lock(&self.calls).get(&id).map(|c| c.call_id.clone()) else {
            return false;
        };
        self.route_of(&call_id)
            .is_some_and(|tx| tx.send(CallInput::Hangup).is_ok())
    }

    /// Sets `rvoip_registrations` to the current number of bindings.
    pub fn update_registration_gauge(&self) {
        let n = lock(&self.registrar).len(self.clock.now());
        self.metrics.set("rvoip_registrations", &[], n as f64);
    }

    /// Sets `rvoip_calls_active`.
    pub fn update_call_gauge(&self) {
        let n = self.counters.calls.load(Ordering::SeqCst);
        self.metrics.set("rvoip_calls_active", &[], n as f64);
    }

    /// The local address to put in Via/Contact for `transport`.
    pub fn local_addr(&self, transport: Transport) -> SocketAddr {
        let mut a = match transport {
            Transport::Udp => self.addrs.udp.or(self.addrs.tcp),
            Transport::Tcp => self.addrs.tcp.or(self.addrs.udp),
            Transport::Tls => self.addrs.tls.or(self.addrs.tcp).or(self.addrs.udp),
            Transport::Ws | Transport::Wss => Some(self.addrs.http),
        }
        .unwrap_or(self.addrs.http);
        if let Some(ip) = self.cfg.sip.public_address {
            a.set_ip(ip);
        }
        a
    }

    /// All users: (username, password, dids), config first, then the database.
    pub fn all_users(&self) -> Vec<(String, String, Vec<String>)> {
        let mut out: Vec<(String, String, Vec<String>)> = self
            .cfg
            .users
            .iter()
            .map(|u| (u.username.clone(), u.password.clone(), u.dids.clone()))
            .collect();
        if let Ok(db) = self.store.users() {
            for u in db {
                if !out.iter().any(|(n, _, _)| *n == u.username) {
                    out.push((u.username, u.password, u.dids));
                }
            }
        }
        out
    }
}

/// The methods the gateway accepts (MESSAGE, NOTIFY and REFER get 405: listing them here
/// contradicted that 405's own Allow): the Allow of its OPTIONS and 405 responses, of the
/// 405 to a REFER or MESSAGE inside a call, and of every call leg's INVITE and 2xx (the
/// legs' [`rvoip_core::sip::ua::UaConfig::allow`]).
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK, REGISTER";

/// A `'static` header name for the validator's extra headers.
fn header_static(name: &str) -> &'static str {
    match name.to_ascii_lowercase().as_str() {
        "allow" => "Allow",
        "unsupported" => "Unsupported",
        "accept" => "Accept",
        "accept-encoding" => "Accept-Encoding",
        "accept-language" => "Accept-Language",
        "min-se" => "Min-SE",
        _ => "Warning",
    }
}

/// Counts a response by status code in `rvoip_sip_responses_total`.
fn count_response(metrics: &Metrics, bytes: &[u8], dir: &str) {
    if let Some(rest) = bytes.strip_prefix(b"SIP/2.0 ")
        && let Some(code) = rest.get(..3).and_then(|c| std::str::from_utf8(c).ok())
    {
        metrics.inc(
            "rvoip_sip_responses_total",
            &[("code", code), ("direction", dir)],
        );
    }
}
