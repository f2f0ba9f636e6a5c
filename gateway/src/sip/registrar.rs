//! The registrar and location service (RFC 3261 §10.3) for WebRTC and SIP users, with
//! RFC 5626 flows: a binding made over a WebSocket or TCP connection is reached over that
//! connection, is replaced by a new one with the same `+sip.instance`/`reg-id`, and is
//! removed when the connection closes.
//!
//! REGISTER is authenticated with digest (401, SHA-256 and MD5 challenges, sip-auth's
//! `DigestServer`); the To user must be the authenticated user (403 otherwise). Several
//! contacts per user are kept, each with its own expiry; `Contact: *` with `Expires: 0`
//! removes them all.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use rvoip_core::sip::ua::msg::{addr_uri, param, split_list};
use rvoip_core::sip::ua::{SipMsg, Transport};
use rvoip_core::time::{Duration, Instant};

use super::{AuthOutcome, Shared, random_token};

/// Longest lifetime granted, in seconds.
pub const MAX_EXPIRES: u32 = 3600;
/// Shortest lifetime accepted (RFC 3261 §10.3 item 7: shorter gets 423).
pub const MIN_EXPIRES: u32 = 30;
/// Default when the request names none.
pub const DEFAULT_EXPIRES: u32 = 600;
/// Contacts per user at most.
pub const MAX_CONTACTS_PER_USER: usize = 10;

/// One contact of a user.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Binding {
    /// The user name.
    pub user: String,
    /// The contact URI.
    pub uri: String,
    /// Transport the REGISTER came over.
    #[serde(serialize_with = "ser_transport")]
    pub transport: Transport,
    /// Where it came from (the flow for stream transports).
    pub source: SocketAddr,
    /// The flow to reach the contact over (stream transports).
    pub flow: Option<SocketAddr>,
    /// RFC 5626 instance id.
    pub instance: Option<String>,
    /// RFC 5626 reg-id.
    pub reg_id: Option<u32>,
    /// Expiry (core time, µs).
    #[serde(skip)]
    pub expires_at: Instant,
    /// Seconds left when listed.
    pub expires_in: u64,
    /// Call-ID of the REGISTER.
    #[serde(skip)]
    pub call_id: String,
    /// When registered (core time, for "most recent").
    #[serde(skip)]
    pub registered_at: Instant,
}

fn ser_transport<S: serde::Serializer>(t: &Transport, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(t.via_token())
}

/// The location service.
#[derive(Debug, Default)]
pub struct Registrar {
    bindings: HashMap<String, Vec<Binding>>,
}

impl Registrar {
    /// Live bindings at `now`.
    pub fn len(&self, now: Instant) -> usize {
        self.bindings
            .values()
            .flatten()
            .filter(|b| b.expires_at > now)
            .count()
    }

    /// Whether there is no live binding.
    pub fn is_empty(&self, now: Instant) -> bool {
        self.len(now) == 0
    }

    /// Drops expired bindings; returns how many went.
    pub fn purge(&mut self, now: Instant) -> usize {
        let mut n = 0;
        for v in self.bindings.values_mut() {
            let before = v.len();
            v.retain(|b| b.expires_at > now);
            n += before - v.len();
        }
        self.bindings.retain(|_, v| !v.is_empty());
        n
    }

    /// Removes every binding over `flow`; returns how many.
    pub fn remove_flow(&mut self, flow: SocketAddr) -> usize {
        let mut n = 0;
        for v in self.bindings.values_mut() {
            let before = v.len();
            v.retain(|b| b.flow != Some(flow));
            n += before - v.len();
        }
        self.bindings.retain(|_, v| !v.is_empty());
        n
    }

    /// The live contacts of `user`, most recent first.
    pub fn lookup(&self, user: &str, now: Instant) -> Vec<Binding> {
        let mut v: Vec<Binding> = self
            .bindings
            .get(user)
            .map(|v| v.iter().filter(|b| b.expires_at > now).cloned().collect())
            .unwrap_or_default();
        v.sort_by_key(|b| std::cmp::Reverse(b.registered_at));
        v
    }

    /// All live bindings with their remaining lifetime.
    pub fn list(&self, now: Instant) -> Vec<Binding> {
        let mut out: Vec<Binding> = self
            .bindings
            .values()
            .flatten()
            .filter(|b| b.expires_at > now)
            .cloned()
            .map(|mut b| {
                b.expires_in = b.expires_at.saturating_duration_since(now).as_secs();
                b
            })
            .collect();
        out.sort_by(|a, b| (&a.user, &a.uri).cmp(&(&b.user, &b.uri)));
        out
    }

    /// Adds or refreshes a binding (same URI, or same instance + reg-id: RFC 5626 §6).
    fn upsert(&mut self, b: Binding) -> Result<(), ()> {
        let v = self.bindings.entry(b.user.clone()).or_default();
        if let Some(i) = v.iter().position(|x| {
            x.uri == b.uri
                || (b.instance.is_some() && x.instance == b.instance && x.reg_id == b.reg_id)
        }) {
            v[i] = b;
            return Ok(());
        }
        if v.len() >= MAX_CONTACTS_PER_USER {
            return Err(());
        }
        v.push(b);
        Ok(())
    }

    fn remove(&mut self, user: &str, uri: &str) {
        if let Some(v) = self.bindings.get_mut(user) {
            v.retain(|b| b.uri != uri);
        }
        self.bindings.retain(|_, v| !v.is_empty());
    }

    fn remove_all(&mut self, user: &str) {
        self.bindings.remove(user);
    }
}

/// The user part of a SIP URI or name-addr.
pub fn user_of(value: &str) -> Option<&str> {
    let uri = addr_uri(value);
    let rest = uri
        .strip_prefix("sip:")
        .or_else(|| uri.strip_prefix("sips:"))?;
    let user = rest.split_once('@')?.0;
    Some(user.split(';').next().unwrap_or(user))
}

/// Handles an out-of-dialog REGISTER.
pub fn handle_register(sh: &Arc<Shared>, transport: Transport, source: SocketAddr, req: &SipMsg) {
    let user = match sh.authenticate(req, true) {
        AuthOutcome::Challenge(c) => {
            sh.reply(transport, source, &c);
            return;
        }
        AuthOutcome::User(u) => u,
    };
    // An authenticated connection gets a rate-limit budget of its own (`ratelimit`); a flow
    // that closed meanwhile is not trusted (nothing would forget it).
    if transport.is_reliable() && Shared::lock(&sh.flows).contains_key(&source) {
        Shared::lock(&sh.limiter).trust_flow(source);
    }
    let tag = random_token(10);
    let to_user = req.header("To").and_then(user_of).unwrap_or("");
    if to_user != user {
        let r = rvoip_core::sip::ua::response(req, 403, Some(&tag));
        sh.reply(transport, source, &r);
        return;
    }
    let now = sh.clock.now();
    let header_expires = req
        .header("Expires")
        .and_then(|v| v.trim().parse::<u32>().ok());
    let contacts: Vec<String> = req
        .headers_named("Contact")
        .flat_map(split_list)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let call_id = req.call_id().unwrap_or("").to_string();
    let flow = transport.is_reliable().then_some(source);
    let mut outbound = false;
    {
        let mut reg = Shared::lock(&sh.registrar);
        reg.purge(now);
        if contacts.iter().any(|c| c == "*") {
            if header_expires != Some(0) || contacts.len() != 1 {
                drop(reg);
                let r = rvoip_core::sip::ua::response(req, 400, Some(&tag));
                sh.reply(transport, source, &r);
                return;
            }
            reg.remove_all(&user);
        }
        for c in contacts.iter().filter(|c| *c != "*") {
            let uri = addr_uri(c).to_string();
            let params = c.rsplit_once('>').map_or(c.as_str(), |(_, p)| p);
            let expires = param(params, "expires")
                .and_then(|v| v.parse::<u32>().ok())
                .or(header_expires)
                .unwrap_or(DEFAULT_EXPIRES);
            if expires == 0 {
                reg.remove(&user, &uri);
                continue;
            }
            if expires < MIN_EXPIRES {
                drop(reg);
                let mut r = rvoip_core::sip::ua::response(req, 423, Some(&tag));
                r.push("Min-Expires", MIN_EXPIRES.to_string());
                sh.reply(transport, source, &r);
                return;
            }
            let expires = expires.min(MAX_EXPIRES);
            let instance = param(params, "+sip.instance")
                .map(|v| v.trim_matches('"').trim_matches(['<', '>']).to_string());
            let reg_id = param(params, "reg-id").and_then(|v| v.parse().ok());
            outbound |= instance.is_some() && reg_id.is_some();
            if reg.len(now) >= sh.cfg.limits.max_registrations as usize {
                drop(reg);
                let mut r = rvoip_core::sip::ua::response(req, 503, Some(&tag));
                r.push("Retry-After", "60");
                sh.reply(transport, source, &r);
                return;
            }
            let b = Binding {
                user: user.clone(),
                uri,
                transport,
                source,
                flow,
                instance,
                reg_id,
                expires_at: now + Duration::from_secs(u64::from(expires)),
                expires_in: u64::from(expires),
                call_id: call_id.clone(),
                registered_at: now,
            };
            if reg.upsert(b).is_err() {
                drop(reg);
                let mut r = rvoip_core::sip::ua::response(req, 503, Some(&tag));
                r.push("Retry-After", "60");
                sh.reply(transport, source, &r);
                return;
            }
        }
    }
    let mut r = rvoip_core::sip::ua::response(req, 200, Some(&tag));
    for b in Shared::lock(&sh.registrar).lookup(&user, now) {
        let left = b.expires_at.saturating_duration_since(now).as_secs();
        let mut c = format!("<{}>;expires={left}", b.uri);
        if let Some(i) = &b.instance {
            c.push_str(&format!(";+sip.instance=\"<{i}>\""));
        }
        if let Some(id) = b.reg_id {
            c.push_str(&format!(";reg-id={id}"));
        }
        r.push("Contact", c);
    }
    if outbound {
        r.push("Require", "outbound");
    }
    r.push("Date", httpdate_now());
    sh.reply(transport, source, &r);
    sh.update_registration_gauge();
    tracing::info!(user, %source, transport = transport.via_token(), "REGISTER");
}

/// `Date` header value (RFC 3261 §20.17, RFC 1123 format).
fn httpdate_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    let mon = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(mo - 1) as usize];
    format!("{wd}, {d:02} {mon} {y} {h:02}:{m:02}:{s:02} GMT")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(user: &str, uri: &str, flow: Option<&str>, at: u64, exp: u64) -> Binding {
        Binding {
            user: user.into(),
            uri: uri.into(),
            transport: Transport::Ws,
            source: "127.0.0.1:1".parse().unwrap(),
            flow: flow.map(|f| f.parse().unwrap()),
            instance: None,
            reg_id: None,
            expires_at: Instant::from_millis(exp),
            expires_in: 0,
            call_id: String::new(),
            registered_at: Instant::from_millis(at),
        }
    }

    #[test]
    fn bindings_expire_and_follow_flows() {
        let mut r = Registrar::default();
        r.upsert(binding("alice", "sip:a1@x", Some("127.0.0.1:10"), 1, 1000))
            .unwrap();
        r.upsert(binding("alice", "sip:a2@x", Some("127.0.0.1:11"), 2, 5000))
            .unwrap();
        r.upsert(binding("bob", "sip:b@x", None, 3, 5000)).unwrap();
        let now = Instant::from_millis(10);
        assert_eq!(r.len(now), 3);
        assert_eq!(
            r.lookup("alice", now)[0].uri,
            "sip:a2@x",
            "most recent first"
        );
        assert_eq!(r.remove_flow("127.0.0.1:11".parse().unwrap()), 1);
        assert_eq!(r.lookup("alice", now).len(), 1);
        let later = Instant::from_millis(2000);
        assert_eq!(r.len(later), 1, "alice's first binding expired");
        assert_eq!(r.purge(later), 1);
        assert_eq!(
            user_of("\"A\" <sip:alice@example.com>;tag=1"),
            Some("alice")
        );
        assert_eq!(user_of("<sips:bob;x=y@h>"), Some("bob"));
        assert!(httpdate_now().ends_with(" GMT"));
    }
}
