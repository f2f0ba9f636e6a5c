//! The trunk manager: one task per trunk that resolves its address, registers to the
//! provider with digest and refreshes the registration (RFC 3261 §10.2, through the core
//! UA), and sends OPTIONS keep-alives (RFC 3261 §11) marking the trunk up or down. Calls
//! skip trunks that are down. Requests from a trunk's address are inbound calls (no digest:
//! the trunk is trusted by address).
//!
//! Keep-alive: every `options_interval` seconds one OPTIONS goes to the trunk's next hop
//! (retransmitted over UDP with Timer E's back-off, RFC 3261 §17.1.2.2) unless one is still
//! in flight. Its outcome — the final status code, or `timeout` when none arrived within
//! Timer F (64·T1) — is kept as the trunk's [`OptionsResult`], with when it was known and
//! the round-trip time, and decides up/down ([`options_code_means_up`]).
//!
//! `/api/trunks` lists one [`TrunkView`] per trunk:
//!
//! ```json
//! { "name": "carrier-a", "host": "sip.carrier-a.example:5060", "address": "203.0.113.5:5060",
//!   "transport": "udp", "up": true, "register": true, "registered": true,
//!   "options_interval": 30,
//!   "last_options": { "outcome": "response", "code": 200, "at_ms": 1763712000123, "rtt_ms": 18.4 } }
//! ```
//!
//! `last_options` is `null` until the first keep-alive ends (and always when
//! `options_interval` is 0); on a timeout it reads
//! `{ "outcome": "timeout", "code": null, "at_ms": …, "rtt_ms": null }`.
//!
//! Metrics, by `trunk`: `rvoip_trunk_up` (1/0), `rvoip_trunk_options_total` (by `result`:
//! the status code or `timeout`), `rvoip_trunk_options_rtt_ms` (last answered keep-alive).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rvoip_core::sip::ua::{
    Event, Received, RegistrationState, SipMsg, Transport, UaConfig, UserAgent,
};
use tokio::sync::{mpsc, watch};

use super::transport::FlowUses;
use super::{CallInput, GwRng, Shared, random_token};
use crate::config::{TrunkConfig, TrunkTransport};

/// A trunk's live state.
#[derive(Debug, Clone)]
pub struct TrunkState {
    /// Its configuration.
    pub cfg: TrunkConfig,
    /// The provider's address (resolved `host`).
    pub addr: Option<SocketAddr>,
    /// Where requests go (the outbound proxy, else `addr`).
    pub next_hop: Option<SocketAddr>,
    /// Answering OPTIONS (or keep-alive disabled).
    pub up: bool,
    /// Registered to the provider.
    pub registered: bool,
    /// The last OPTIONS keep-alive's outcome (`None` before the first one ends).
    pub last_options: Option<OptionsResult>,
}

/// How an OPTIONS keep-alive ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OptionsOutcome {
    /// A final response arrived.
    Response,
    /// No final response within Timer F (64·T1, at most 32 s), or (TCP) the connection
    /// failed or closed before one (RFC 3261 §17.1.4's transport error).
    Timeout,
}

/// The outcome of one OPTIONS keep-alive to a trunk.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct OptionsResult {
    /// Response or timeout.
    pub outcome: OptionsOutcome,
    /// The final response's status code; `None` on timeout.
    pub code: Option<u16>,
    /// When the outcome was known, ms since the Unix epoch.
    pub at_ms: i64,
    /// From the OPTIONS' first transmission to its final response, in ms (0.1 ms steps);
    /// `None` on timeout. Over UDP a response to a retransmission is timed from the first
    /// transmission too (RFC 6298 §3's ambiguity is resolved towards the longer figure).
    pub rtt_ms: Option<f64>,
}

impl OptionsResult {
    /// Whether this outcome marks the trunk up.
    pub fn up(&self) -> bool {
        self.code.is_some_and(options_code_means_up)
    }
}

/// Whether a final response `code` to an OPTIONS keep-alive shows the trunk reachable.
///
/// Any final response proves that a SIP server at the trunk's address parsed the request
/// and answered it (RFC 3261 §11.2: a UAS may answer OPTIONS with any code, and many
/// carriers answer 403, 404 or 405 to a peer they do not serve OPTIONS for), so the trunk
/// counts as up — except for the codes that say the provider is not reachable or will not
/// take calls now: 408 Request Timeout and 504 Server Time-out (a proxy in front of the
/// trunk got no answer from it) and 503 Service Unavailable (overloaded or in maintenance;
/// RFC 3263 §4.3 sends the next request elsewhere). A timeout (no final response) is down.
/// This is the common practice of SIP proxies' trunk monitoring (Asterisk's qualify,
/// Kamailio's dispatcher probing, FreeSWITCH's gateway ping).
pub fn options_code_means_up(code: u16) -> bool {
    (200..700).contains(&code) && !matches!(code, 408 | 503 | 504)
}

impl TrunkState {
    /// The SIP transport towards the trunk.
    pub fn transport(&self) -> Transport {
        match self.cfg.transport {
            TrunkTransport::Udp => Transport::Udp,
            TrunkTransport::Tcp => Transport::Tcp,
            TrunkTransport::Tls => Transport::Tls,
        }
    }
}

/// The `/api/trunks` view.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrunkView {
    /// Name.
    pub name: String,
    /// Configured host.
    pub host: String,
    /// Resolved address.
    pub address: Option<String>,
    /// `udp` / `tcp` / `tls`.
    pub transport: &'static str,
    /// Up (answers OPTIONS).
    pub up: bool,
    /// Registration configured.
    pub register: bool,
    /// Registered.
    pub registered: bool,
    /// OPTIONS keep-alive interval in seconds (0: off, the trunk is always up).
    pub options_interval: u32,
    /// The last keep-alive's outcome; `null` before the first one ends or when off.
    pub last_options: Option<OptionsResult>,
}

impl From<&TrunkState> for TrunkView {
    fn from(t: &TrunkState) -> Self {
        TrunkView {
            name: t.cfg.name.clone(),
            host: t.cfg.host.clone(),
            address: t.addr.map(|a| a.to_string()),
            transport: match t.cfg.transport {
                TrunkTransport::Udp => "udp",
                TrunkTransport::Tcp => "tcp",
                TrunkTransport::Tls => "tls",
            },
            up: t.up,
            register: t.cfg.register,
            registered: t.registered,
            options_interval: t.cfg.options_interval,
            last_options: t.last_options,
        }
    }
}

/// Resolves `host[:port]`; the port defaults to `default_port` (5060, or 5061 for TLS,
/// RFC 3261 §19.1.2).
async fn resolve(host: &str, default_port: u16) -> Option<SocketAddr> {
    if let Ok(a) = host.parse::<SocketAddr>() {
        return Some(a);
    }
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Some(SocketAddr::new(ip, default_port));
    }
    let with_port = if host
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        host.to_string()
    } else {
        format!("{host}:{default_port}")
    };
    tokio::net::lookup_host(with_port).await.ok()?.next()
}

/// Builds the trunk table, resolving each trunk's addresses.
pub async fn initial_states(cfgs: &[TrunkConfig]) -> Vec<TrunkState> {
    let mut out = Vec::new();
    for c in cfgs {
        let port = if c.transport == TrunkTransport::Tls {
            5061
        } else {
            5060
        };
        let addr = resolve(&c.host, port).await;
        let next_hop = match &c.outbound_proxy {
            Some(p) => resolve(p, port).await,
            None => addr,
        };
        if addr.is_none() {
            tracing::warn!(trunk = c.name, host = c.host, "cannot resolve trunk host");
        }
        out.push(TrunkState {
            cfg: c.clone(),
            addr,
            next_hop,
            up: addr.is_some(),
            registered: false,
            last_options: None,
        });
    }
    out
}

/// The trunk a request from `source` comes from: same address (and port, when the trunk's
/// host names one).
pub fn trunk_of_source(sh: &Shared, source: SocketAddr) -> Option<usize> {
    Shared::lock(&sh.trunks).iter().position(|t| {
        let explicit_port = t.cfg.host.parse::<SocketAddr>().is_ok()
            || t.cfg
                .host
                .rsplit_once(':')
                .is_some_and(|(_, p)| p.parse::<u16>().is_ok());
        [t.addr, t.next_hop]
            .into_iter()
            .flatten()
            .any(|a| a.ip() == source.ip() && (!explicit_port || a.port() == source.port()))
    })
}

fn set<F: FnOnce(&mut TrunkState)>(sh: &Shared, i: usize, f: F) {
    if let Some(t) = Shared::lock(&sh.trunks).get_mut(i) {
        f(t);
    }
}

/// Runs trunk `i` until shutdown: registration and OPTIONS keep-alive.
pub async fn run(sh: Arc<Shared>, i: usize, mut stop: watch::Receiver<bool>) {
    let Some(t) = Shared::lock(&sh.trunks).get(i).cloned() else {
        return;
    };
    let Some(next_hop) = t.next_hop else { return };
    sh.metrics.set(
        "rvoip_trunk_up",
        &[("trunk", &t.cfg.name)],
        f64::from(u8::from(t.up)),
    );
    let transport = t.transport();
    let (tx, mut rx) = mpsc::unbounded_channel::<CallInput>();
    let mut routes: Vec<String> = Vec::new();
    let mut ua = t.cfg.register.then(|| {
        let mut cfg = UaConfig::new(
            format!(
                "sip:{}@{}",
                t.cfg.username.clone().unwrap_or_default(),
                t.cfg.host
            ),
            sh.local_addr(transport),
        );
        cfg.transport = transport;
        cfg.proxy = Some(next_hop);
        cfg.password = t.cfg.password.clone().unwrap_or_default();
        cfg.register_expires = t.cfg.register_expires;
        cfg.registrar_uri = Some(format!("sip:{}", t.cfg.host));
        cfg.timers = sh.timers;
        UserAgent::new(cfg, GwRng::new())
    });
    // A registration is a standing use of the connection to the trunk: the provider may
    // send our incoming calls over it (RFC 5626 §3, RFC 5923), so it is never closed for
    // idleness while the trunk task runs.
    let mut registration = FlowUses::new(sh.clone());
    if let Some(ua) = &mut ua {
        registration.note(transport, next_hop);
        let _ = ua.register(sh.clock.now());
    }
    let interval = Duration::from_secs(u64::from(t.cfg.options_interval));
    let mut next_ping = (t.cfg.options_interval > 0).then(tokio::time::Instant::now);
    // The OPTIONS in flight.
    let mut ping: Option<Ping> = None;
    let t1: Duration = sh.timers.t1;
    loop {
        if let Some(ua) = &mut ua {
            while let Some(tr) = ua.poll_transmit() {
                if let Some(cid) = SipMsg::parse(&tr.bytes)
                    .ok()
                    .and_then(|m| m.call_id().map(str::to_string))
                    && !routes.contains(&cid)
                {
                    Shared::lock(&sh.routes).insert(cid.clone(), tx.clone());
                    routes.push(cid);
                }
                sh.send(tr.transport, tr.destination, tr.bytes);
            }
            while let Some(e) = ua.poll_event() {
                if let Event::Registration(state) = e {
                    let ok = matches!(state, RegistrationState::Registered { .. });
                    tracing::info!(trunk = t.cfg.name, ?state, "trunk registration");
                    set(&sh, i, |s| s.registered = ok);
                }
            }
        }
        let now = tokio::time::Instant::now();
        let mut deadline = now + Duration::from_secs(3600);
        if let Some(n) = next_ping {
            deadline = deadline.min(n);
        }
        if let Some(p) = &ping {
            deadline = deadline.min(p.give_up).min(p.retx);
        }
        if let Some(t) = ua.as_ref().and_then(UserAgent::poll_timeout) {
            deadline = deadline.min(sh.clock.to_tokio(t));
        }
        tokio::select! {
            _ = stop.changed() => break,
            m = rx.recv() => {
                if let Some(CallInput::FlowClosed(flow)) = m
                    && flow == next_hop
                    && transport != Transport::Udp
                    && let Some(p) = ping.take()
                {
                    // The connection the OPTIONS went on failed or closed before a final
                    // response: no answer will come (RFC 3261 §17.1.4), so do not wait out
                    // Timer F.
                    record(&sh, i, &t.cfg.name, OptionsResult {
                        outcome: OptionsOutcome::Timeout,
                        code: None,
                        at_ms: crate::sip::b2bua::epoch_ms(),
                        rtt_ms: None,
                    });
                    Shared::lock(&sh.routes).remove(p.call_id.as_str());
                    continue;
                }
                let Some(CallInput::Sip { transport, source, bytes }) = m else { continue };
                let msg = SipMsg::parse(&bytes).ok();
                let cid = msg.as_ref().and_then(|m| m.call_id()).unwrap_or("");
                if let Some(p) = &ping
                    && p.call_id == cid
                {
                    let code = msg.as_ref().and_then(SipMsg::code).unwrap_or(0);
                    if code >= 200 {
                        let rtt = p.sent.elapsed().as_secs_f64() * 1000.0;
                        record(&sh, i, &t.cfg.name, OptionsResult {
                            outcome: OptionsOutcome::Response,
                            code: Some(code),
                            at_ms: crate::sip::b2bua::epoch_ms(),
                            rtt_ms: Some((rtt * 10.0).round() / 10.0),
                        });
                        Shared::lock(&sh.routes).remove(cid);
                        ping = None;
                    }
                } else if let Some(ua) = &mut ua {
                    ua.handle_receive(sh.clock.now(), Received { transport, source, bytes: &bytes });
                }
            }
            _ = tokio::time::sleep_until(deadline) => {
                let now = tokio::time::Instant::now();
                if let Some(ua) = &mut ua {
                    ua.handle_timeout(sh.clock.now());
                }
                if let Some(p) = &mut ping {
                    if p.give_up <= now {
                        record(&sh, i, &t.cfg.name, OptionsResult {
                            outcome: OptionsOutcome::Timeout,
                            code: None,
                            at_ms: crate::sip::b2bua::epoch_ms(),
                            rtt_ms: None,
                        });
                        Shared::lock(&sh.routes).remove(p.call_id.as_str());
                        ping = None;
                    } else if p.retx <= now && transport == Transport::Udp {
                        // Timer E: doubling up to T2 (4 s), RFC 3261 §17.1.2.2.
                        sh.send(transport, next_hop, p.bytes.clone());
                        p.interval = (p.interval * 2).min(Duration::from_secs(4));
                        p.retx = now + p.interval;
                    }
                }
                if next_ping.is_some_and(|n| n <= now) && ping.is_none() {
                    let (call_id, bytes) = options_request(&sh, &t, transport);
                    Shared::lock(&sh.routes).insert(call_id.clone(), tx.clone());
                    // Told when the connection closes (to give up at once, above).
                    let mut uses = FlowUses::watching(sh.clone(), tx.clone());
                    uses.note(transport, next_hop);
                    sh.send(transport, next_hop, bytes.clone());
                    let give_up = now + (t1 * 64).min(Duration::from_secs(32));
                    let retx = if transport == Transport::Udp { now + t1 } else { give_up };
                    ping = Some(Ping { call_id, sent: now, give_up, retx, bytes, interval: t1, _uses: uses });
                    next_ping = Some(now + interval);
                }
            }
        }
    }
    if let Some(ua) = &mut ua
        && ua.is_registered()
    {
        let _ = ua.unregister(sh.clock.now());
        while let Some(tr) = ua.poll_transmit() {
            sh.send(tr.transport, tr.destination, tr.bytes);
        }
    }
    let mut r = Shared::lock(&sh.routes);
    for cid in routes {
        r.remove(&cid);
    }
    if let Some(p) = ping {
        r.remove(&p.call_id);
    }
}

/// An OPTIONS keep-alive in flight.
struct Ping {
    /// Its Call-ID (its key in [`Shared::routes`]).
    call_id: String,
    /// First transmission.
    sent: tokio::time::Instant,
    /// Timer F: no final response by then is a timeout.
    give_up: tokio::time::Instant,
    /// Next retransmission (UDP; `give_up` on streams).
    retx: tokio::time::Instant,
    /// The request, for retransmissions.
    bytes: Vec<u8>,
    /// Current retransmission interval (Timer E).
    interval: Duration,
    /// Keeps the connection to the trunk open while the OPTIONS is in flight, and has the
    /// task told when it closes.
    _uses: FlowUses,
}

/// Stores trunk `i`'s keep-alive outcome and the up/down verdict it implies; logs changes.
fn record(sh: &Shared, i: usize, name: &str, result: OptionsResult) {
    let up = result.up();
    let mut was = None;
    set(sh, i, |s| {
        was = Some(s.up);
        s.up = up;
        s.last_options = Some(result);
    });
    let m = &sh.metrics;
    m.set(
        "rvoip_trunk_up",
        &[("trunk", name)],
        f64::from(u8::from(up)),
    );
    let outcome = result
        .code
        .map_or_else(|| "timeout".to_string(), |c| c.to_string());
    m.inc(
        "rvoip_trunk_options_total",
        &[("trunk", name), ("result", &outcome)],
    );
    if let Some(rtt) = result.rtt_ms {
        m.set("rvoip_trunk_options_rtt_ms", &[("trunk", name)], rtt);
    }
    if was != Some(up) {
        match result.code {
            Some(code) => tracing::info!(trunk = name, code, up, "trunk OPTIONS: state changed"),
            None => tracing::warn!(trunk = name, "trunk OPTIONS timed out: trunk down"),
        }
    }
}

fn options_request(sh: &Shared, t: &TrunkState, transport: Transport) -> (String, Vec<u8>) {
    let local = sh.local_addr(transport);
    let domain = &sh.cfg.sip.domain;
    let cid = format!("{}@{domain}", random_token(20));
    let msg = format!(
        "OPTIONS sip:{host} SIP/2.0\r\n\
Via: SIP/2.0/{tp} {local};branch=z9hG4bK{br};rport\r\n\
Max-Forwards: 70\r\n\
From: <sip:gateway@{domain}>;tag={tag}\r\n\
To: <sip:{host}>\r\n\
Call-ID: {cid}\r\n\
CSeq: 1 OPTIONS\r\n\
User-Agent: rvoip-gateway\r\n\
Content-Length: 0\r\n\r\n",
        host = t.cfg.host,
        tp = transport.via_token(),
        br = random_token(16),
        tag = random_token(10),
    );
    (cid, msg.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_options_answers_mean_up() {
        for code in [
            200, 202, 301, 401, 403, 404, 405, 481, 486, 500, 501, 502, 600, 603,
        ] {
            assert!(
                options_code_means_up(code),
                "{code} proves a live SIP server"
            );
        }
        for code in [0, 100, 180, 408, 503, 504, 700, 999] {
            assert!(!options_code_means_up(code), "{code} is not up");
        }
        let timeout = OptionsResult {
            outcome: OptionsOutcome::Timeout,
            code: None,
            at_ms: 1,
            rtt_ms: None,
        };
        assert!(!timeout.up());
        let json = serde_json::to_value(timeout).unwrap();
        assert_eq!(json["outcome"], "timeout");
        assert!(json["code"].is_null() && json["rtt_ms"].is_null());
        let ok = OptionsResult {
            outcome: OptionsOutcome::Response,
            code: Some(404),
            at_ms: 1,
            rtt_ms: Some(1.5),
        };
        assert!(ok.up());
        assert_eq!(serde_json::to_value(ok).unwrap()["outcome"], "response");
    }
}
