//! The trunk manager: one task per trunk that resolves its address, registers to the
//! provider with digest and refreshes the registration (RFC 3261 §10.2, through the core
//! UA), and sends OPTIONS keep-alives (RFC 3261 §11) marking the trunk up or down. Calls
//! skip trunks that are down. Requests from a trunk's address are inbound calls (no digest:
//! the trunk is trusted by address).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rvoip_core::sip::ua::{
    Event, Received, RegistrationState, SipMsg, Transport, UaConfig, UserAgent,
};
use tokio::sync::{mpsc, watch};

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
    if let Some(ua) = &mut ua {
        let _ = ua.register(sh.clock.now());
    }
    let interval = Duration::from_secs(u64::from(t.cfg.options_interval));
    let mut next_ping = (t.cfg.options_interval > 0).then(tokio::time::Instant::now);
    // (Call-ID, deadline, next retransmission, bytes, interval) of the OPTIONS in flight.
    let mut ping: Option<(
        String,
        tokio::time::Instant,
        tokio::time::Instant,
        Vec<u8>,
        Duration,
    )> = None;
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
        if let Some((_, give_up, retx, _, _)) = &ping {
            deadline = deadline.min(*give_up).min(*retx);
        }
        if let Some(t) = ua.as_ref().and_then(UserAgent::poll_timeout) {
            deadline = deadline.min(sh.clock.to_tokio(t));
        }
        tokio::select! {
            _ = stop.changed() => break,
            m = rx.recv() => {
                let Some(CallInput::Sip { transport, source, bytes }) = m else { continue };
                let msg = SipMsg::parse(&bytes).ok();
                let cid = msg.as_ref().and_then(|m| m.call_id()).unwrap_or("");
                if let Some((pcid, ..)) = &ping
                    && pcid == cid
                {
                    let code = msg.as_ref().and_then(SipMsg::code).unwrap_or(0);
                    if code >= 200 {
                        let up = !matches!(code, 408 | 503);
                        set(&sh, i, |s| s.up = up);
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
                if let Some((cid, give_up, retx, bytes, ivl)) = &mut ping {
                    if *give_up <= now {
                        tracing::warn!(trunk = t.cfg.name, "OPTIONS timed out: trunk down");
                        set(&sh, i, |s| s.up = false);
                        Shared::lock(&sh.routes).remove(cid.as_str());
                        ping = None;
                    } else if *retx <= now && transport == Transport::Udp {
                        sh.send(transport, next_hop, bytes.clone());
                        *ivl = (*ivl * 2).min(Duration::from_secs(4));
                        *retx = now + *ivl;
                    }
                }
                if next_ping.is_some_and(|n| n <= now) && ping.is_none() {
                    let (cid, bytes) = options_request(&sh, &t, transport);
                    Shared::lock(&sh.routes).insert(cid.clone(), tx.clone());
                    sh.send(transport, next_hop, bytes.clone());
                    let give_up = now + (t1 * 64).min(Duration::from_secs(32));
                    let retx = if transport == Transport::Udp { now + t1 } else { give_up };
                    ping = Some((cid, give_up, retx, bytes, t1));
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
    if let Some((cid, ..)) = ping {
        r.remove(&cid);
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
