//! The operator console: a single-page app (`www/`, embedded at compile time) behind an
//! admin login, and the JSON/SSE API it reads.
//!
//! Pages (no data in them): `/console/login` and `/console/app` (both `www/index.html`),
//! `/console/app.js`, `/console/app.css`.
//!
//! API, every route behind the session cookie except `login`:
//!
//! | route | what |
//! |---|---|
//! | `POST /console/api/login` | `{"username","password"}` → 204 + `Set-Cookie` (HttpOnly, SameSite=Strict, 8 h); 401 when wrong; 429 after 5 failures from one address in 60 s |
//! | `POST /console/api/logout` | ends the session |
//! | `GET /console/api/session` | `{"user"}` |
//! | `GET /console/api/snapshot` | what one SSE event carries: `calls`, `stats`, `trunks`, `registrations`, `history` |
//! | `GET /console/api/events` | Server-Sent Events: a `snapshot` event every second (the stream ends when the gateway shuts down) |
//! | `GET /console/api/calls` | live calls (the B2BUA's call registry, plus `legs` when it reports media) |
//! | `POST /console/api/calls/{id}/hangup` | ends both legs of a call (BYE / final response) |
//! | `GET /console/api/registrations`, `/stats` | as `/api/…` |
//! | `GET /console/api/trunks` | as `/api/trunks` (with `last_options`: the last OPTIONS keep-alive's code or timeout, time and round trip), plus `state_since_ms` (when the up/down state was first seen) |
//! | `GET /console/api/history` | per-minute samples of the last hour: concurrent calls, calls started, mean MOS |
//! | `GET /console/api/cdrs` | call records: `number`, `since`, `until` (ms since the epoch), `limit`, `format=csv` |
//!
//! `/metrics` stays open for Prometheus; `/api/*` keeps its own HTTP Basic authentication.
//!
//! Hang-up: [`Shared::hangup_call`] sends the call's task `CallInput::Hangup`, which ends
//! both legs at once (BYE to answered legs, CANCEL or a final response to unanswered ones;
//! the record's cause reads `hangup: operator`).

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::server::Credentials;
use crate::sip::Shared;
use crate::sip::trunk::TrunkView;
use crate::store::CdrQuery;

#[allow(dead_code)] // `WEB_DEMO` is served by `crate::http`.
mod assets {
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

/// Name of the session cookie.
pub const COOKIE: &str = "rvoip_console";
/// Session lifetime.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);
/// Failed logins allowed from one address per [`FAIL_WINDOW`].
pub const MAX_FAILURES: u32 = 5;
/// Window of the login rate limit.
pub const FAIL_WINDOW: Duration = Duration::from_secs(60);
const MAX_SESSIONS: usize = 1000;
const HISTORY_MINUTES: usize = 60;

/// A per-minute sample for the chart.
#[derive(Debug, Clone, Copy, serde::Serialize, PartialEq)]
pub struct Sample {
    /// Start of the minute, ms since the Unix epoch.
    pub minute_ms: i64,
    /// Most calls up at once during the minute.
    pub calls_peak: usize,
    /// Calls that started during the minute.
    pub calls_started: u64,
    /// Mean MOS of the legs that reported one, `None` when none did.
    pub mos: Option<f64>,
    #[serde(skip)]
    mos_sum: f64,
    #[serde(skip)]
    mos_n: u64,
}

/// A ring buffer of the last hour's per-minute samples.
#[derive(Debug, Default)]
pub struct History {
    samples: VecDeque<Sample>,
}

impl History {
    /// Adds an observation at `now_ms`: `calls` up, `started` new calls since the last one,
    /// `mos` values of the live legs.
    pub fn observe(&mut self, now_ms: i64, calls: usize, started: u64, mos: &[f64]) {
        let minute_ms = now_ms - now_ms.rem_euclid(60_000);
        if self.samples.back().is_none_or(|s| s.minute_ms != minute_ms) {
            self.samples.push_back(Sample {
                minute_ms,
                calls_peak: 0,
                calls_started: 0,
                mos: None,
                mos_sum: 0.0,
                mos_n: 0,
            });
            while self.samples.len() > HISTORY_MINUTES {
                self.samples.pop_front();
            }
        }
        if let Some(s) = self.samples.back_mut() {
            s.calls_peak = s.calls_peak.max(calls);
            s.calls_started += started;
            for m in mos.iter().filter(|m| m.is_finite()) {
                s.mos_sum += m;
                s.mos_n += 1;
            }
            if s.mos_n > 0 {
                s.mos = Some(s.mos_sum / s.mos_n as f64);
            }
        }
    }

    /// The samples of the last hour before `now_ms`, oldest first.
    pub fn last_hour(&self, now_ms: i64) -> Vec<Sample> {
        self.samples
            .iter()
            .filter(|s| s.minute_ms > now_ms - 3_600_000)
            .copied()
            .collect()
    }
}

/// Counts the calls that appear in the registry between two samples.
#[derive(Default)]
struct NewCalls {
    seen: Vec<u64>,
}

impl NewCalls {
    /// Takes the live call ids; returns how many were not there at the previous call.
    fn observe(&mut self, ids: &[u64]) -> u64 {
        let new = ids.iter().filter(|id| !self.seen.contains(id)).count();
        self.seen = ids.to_vec();
        new as u64
    }
}

struct Console {
    sh: Arc<Shared>,
    user: String,
    password: String,
    /// token → expiry.
    sessions: Mutex<HashMap<String, Instant>>,
    /// address → (failures, window start).
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
    history: Mutex<History>,
    new_calls: Mutex<NewCalls>,
    /// Trunk name → (up, when that state was first seen, ms since the epoch).
    trunk_states: Mutex<HashMap<String, (bool, i64)>>,
}

type St = Arc<Console>;

/// The console's router, to merge into [`crate::http::router`]. Spawns the 200 ms sampler
/// (it stops when the router is dropped), so it must be called inside a Tokio runtime.
pub fn router<S: Clone + Send + Sync + 'static>(sh: Arc<Shared>, creds: Credentials) -> Router<S> {
    let st = Arc::new(Console {
        sh,
        user: creds.admin_user,
        password: creds.admin_password,
        sessions: Mutex::default(),
        failures: Mutex::default(),
        history: Mutex::default(),
        new_calls: Mutex::default(),
        trunk_states: Mutex::default(),
    });
    tokio::spawn(sampler(Arc::downgrade(&st)));
    Router::new()
        .route("/console/login", get(page_index))
        .route("/console/app", get(page_index))
        .route("/console/app.js", get(page_js))
        .route("/console/app.css", get(page_css))
        .route("/console/api/login", post(login))
        .route("/console/api/logout", post(logout))
        .route("/console/api/session", get(session))
        .route("/console/api/snapshot", get(snapshot_route))
        .route("/console/api/events", get(events))
        .route("/console/api/calls", get(calls_route))
        .route("/console/api/calls/{id}/hangup", post(hangup_route))
        .route("/console/api/registrations", get(registrations_route))
        .route("/console/api/trunks", get(trunks_route))
        .route("/console/api/stats", get(stats_route))
        .route("/console/api/history", get(history_route))
        .route("/console/api/cdrs", get(cdrs_route))
        .with_state(st)
}

async fn sampler(st: Weak<Console>) {
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        let Some(st) = st.upgrade() else { return };
        // Read from the typed registry (no JSON per call: this runs five times a second
        // whatever the load).
        let (ids, mos): (Vec<u64>, Vec<f64>) = {
            let calls = Shared::lock(&st.sh.calls);
            (
                calls.keys().copied().collect(),
                calls
                    .values()
                    .flat_map(|c| c.legs.iter().filter_map(|l| l.mos))
                    .collect(),
            )
        };
        let started = Shared::lock(&st.new_calls).observe(&ids);
        let now = epoch_ms();
        Shared::lock(&st.history).observe(now, ids.len(), started, &mos);
        let trunks: Vec<(String, bool)> = Shared::lock(&st.sh.trunks)
            .iter()
            .map(|t| (t.cfg.name.clone(), t.up))
            .collect();
        let mut seen = Shared::lock(&st.trunk_states);
        seen.retain(|n, _| trunks.iter().any(|(t, _)| t == n));
        for (name, up) in trunks {
            let e = seen.entry(name).or_insert((up, now));
            if e.0 != up {
                *e = (up, now);
            }
        }
    }
}

fn epoch_ms() -> i64 {
    crate::sip::b2bua::epoch_ms()
}

// ---------------------------------------------------------------------------------------
// Sessions.

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    // Invariant: the OS random source is available (the gateway cannot run without it).
    getrandom::fill(&mut b).expect("OS random source");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `None` with a live session, else the 401 to send.
fn deny(st: &Console, headers: &HeaderMap) -> Option<Response> {
    let now = Instant::now();
    let ok = cookie_token(headers).is_some_and(|t| {
        let mut s = Shared::lock(&st.sessions);
        s.retain(|_, exp| *exp > now);
        s.contains_key(&t)
    });
    (!ok).then(|| {
        (
            StatusCode::UNAUTHORIZED,
            [(header::CACHE_CONTROL, "no-store")],
            "login required\n",
        )
            .into_response()
    })
}

#[derive(serde::Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

async fn login(
    State(st): State<St>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: axum::extract::Json<LoginBody>,
) -> Response {
    let now = Instant::now();
    let ip = peer.ip();
    {
        let mut f = Shared::lock(&st.failures);
        f.retain(|_, (_, start)| now.duration_since(*start) < FAIL_WINDOW);
        if let Some((n, start)) = f.get(&ip)
            && *n >= MAX_FAILURES
        {
            let retry = FAIL_WINDOW.saturating_sub(now.duration_since(*start));
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, (retry.as_secs() + 1).to_string())],
                "too many failed logins; try again later\n",
            )
                .into_response();
        }
    }
    let ok = constant_time_eq(body.username.as_bytes(), st.user.as_bytes())
        & constant_time_eq(body.password.as_bytes(), st.password.as_bytes());
    if !ok {
        let mut f = Shared::lock(&st.failures);
        let e = f.entry(ip).or_insert((0, now));
        e.0 += 1;
        tracing::warn!(%peer, "console: failed login");
        return (StatusCode::UNAUTHORIZED, "wrong user name or password\n").into_response();
    }
    Shared::lock(&st.failures).remove(&ip);
    let token = random_hex(32);
    {
        let mut s = Shared::lock(&st.sessions);
        s.retain(|_, exp| *exp > now);
        if s.len() >= MAX_SESSIONS
            && let Some(oldest) = s.iter().min_by_key(|(_, e)| **e).map(|(k, _)| k.clone())
        {
            s.remove(&oldest);
        }
        s.insert(token.clone(), now + SESSION_TTL);
    }
    let cookie = format!(
        "{COOKIE}={token}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={}",
        SESSION_TTL.as_secs()
    );
    (StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response()
}

async fn logout(State(st): State<St>, headers: HeaderMap) -> Response {
    if let Some(t) = cookie_token(&headers) {
        Shared::lock(&st.sessions).remove(&t);
    }
    (
        StatusCode::NO_CONTENT,
        [(
            header::SET_COOKIE,
            format!("{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0"),
        )],
    )
        .into_response()
}

async fn session(State(st): State<St>, headers: HeaderMap) -> Response {
    if let Some(r) = deny(&st, &headers) {
        return r;
    }
    json_response(&json!({ "user": st.user }))
}

// ---------------------------------------------------------------------------------------
// Data.

fn json_response<T: serde::Serialize>(v: &T) -> Response {
    match serde_json::to_vec(v) {
        Ok(body) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            body,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// Live calls, sorted by id, each the registry's entry plus `duration_s`.
fn calls_json(sh: &Shared) -> Vec<Value> {
    let mut calls: Vec<_> = Shared::lock(&sh.calls).values().cloned().collect();
    calls.sort_by_key(|c| c.id);
    let now = epoch_ms();
    calls
        .iter()
        .filter_map(|c| serde_json::to_value(c).ok())
        .map(|mut v| {
            let started = v.get("started_ms").and_then(Value::as_i64).unwrap_or(now);
            if let Some(o) = v.as_object_mut() {
                o.insert(
                    "duration_s".into(),
                    json!((now.saturating_sub(started)).max(0) / 1000),
                );
            }
            v
        })
        .collect()
}

/// `/api/trunks`'s view plus `state_since_ms`: when the console first saw the current
/// up/down state (the OPTIONS keep-alive's last verdict).
fn trunks_json(st: &Console) -> Vec<Value> {
    let views: Vec<TrunkView> = Shared::lock(&st.sh.trunks)
        .iter()
        .map(TrunkView::from)
        .collect();
    let seen = Shared::lock(&st.trunk_states);
    views
        .iter()
        .filter_map(|v| {
            let mut j = serde_json::to_value(v).ok()?;
            if let Some(o) = j.as_object_mut() {
                let since = seen.get(&v.name).filter(|(up, _)| *up == v.up).map(|s| s.1);
                o.insert("state_since_ms".into(), json!(since));
            }
            Some(j)
        })
        .collect()
}

fn registrations_json(sh: &Shared) -> Value {
    let now = sh.clock.now();
    serde_json::to_value(Shared::lock(&sh.registrar).list(now)).unwrap_or(Value::Null)
}

fn snapshot(st: &Console) -> Value {
    let now = epoch_ms();
    json!({
        "now_ms": now,
        "calls": calls_json(&st.sh),
        "stats": crate::server::stats(&st.sh),
        "trunks": trunks_json(st),
        "registrations": registrations_json(&st.sh),
        "history": Shared::lock(&st.history).last_hour(now),
    })
}

async fn snapshot_route(State(st): State<St>, headers: HeaderMap) -> Response {
    if let Some(r) = deny(&st, &headers) {
        return r;
    }
    json_response(&snapshot(&st))
}

async fn events(State(st): State<St>, headers: HeaderMap) -> Response {
    if let Some(r) = deny(&st, &headers) {
        return r;
    }
    let token = cookie_token(&headers).unwrap_or_default();
    let stream = futures_util::stream::unfold((st, token, true), |(st, token, first)| async move {
        if !first {
            // A second between snapshots, in steps, so that the stream ends promptly when
            // the gateway shuts down (an open stream holds up the HTTP server's graceful
            // shutdown).
            for _ in 0..10 {
                if st
                    .sh
                    .shutting_down
                    .load(std::sync::atomic::Ordering::SeqCst)
                {
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        if st
            .sh
            .shutting_down
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            return None;
        }
        let live = Shared::lock(&st.sessions)
            .get(&token)
            .is_some_and(|e| *e > Instant::now());
        if !live {
            return None;
        }
        let ev = Event::default()
            .event("snapshot")
            .data(snapshot(&st).to_string());
        Some((Ok::<_, Infallible>(ev), (st, token, false)))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

async fn calls_route(State(st): State<St>, headers: HeaderMap) -> Response {
    if let Some(r) = deny(&st, &headers) {
        return r;
    }
    json_response(&calls_json(&st.sh))
}

async fn registrations_route(State(st): State<St>, headers: HeaderMap) -> Response {
    if let Some(r) = deny(&st, &headers) {
        return r;
    }
    json_response(&registrations_json(&st.sh))
}

async fn trunks_route(State(st): State<St>, headers: HeaderMap) -> Response {
    if let Some(r) = deny(&st, &headers) {
        return r;
    }
    json_response(&trunks_json(&st))
}

async fn stats_route(State(st): State<St>, headers: HeaderMap) -> Response {
    if let Some(r) = deny(&st, &headers) {
        return r;
    }
    json_response(&crate::server::stats(&st.sh))
}

async fn history_route(State(st): State<St>, headers: HeaderMap) -> Response {
    if let Some(r) = deny(&st, &headers) {
        return r;
    }
    json_response(&Shared::lock(&st.history).last_hour(epoch_ms()))
}

async fn hangup_route(State(st): State<St>, headers: HeaderMap, Path(id): Path<u64>) -> Response {
    if let Some(r) = deny(&st, &headers) {
        return r;
    }
    if !Shared::lock(&st.sh.calls).contains_key(&id) {
        return (StatusCode::NOT_FOUND, "no such call\n").into_response();
    }
    if st.sh.hangup_call(id) {
        tracing::info!(id, "console: call hung up by the operator");
        (StatusCode::ACCEPTED, "hanging up\n").into_response()
    } else {
        (StatusCode::NOT_FOUND, "the call has ended\n").into_response()
    }
}

#[derive(Debug, serde::Deserialize, Default)]
struct CdrParams {
    number: Option<String>,
    since: Option<i64>,
    until: Option<i64>,
    limit: Option<u32>,
    format: Option<String>,
}

async fn cdrs_route(
    State(st): State<St>,
    headers: HeaderMap,
    Query(p): Query<CdrParams>,
) -> Response {
    if let Some(r) = deny(&st, &headers) {
        return r;
    }
    let q = CdrQuery {
        number: p.number.filter(|n| !n.is_empty()),
        since_ms: p.since,
        until_ms: p.until,
        limit: p.limit.unwrap_or(500).min(10_000),
    };
    let store = st.sh.store.clone();
    let rows = match tokio::task::spawn_blocking(move || store.cdrs(&q)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    if p.format.as_deref() != Some("csv") {
        return json_response(&rows);
    }
    crate::http::cdrs_csv(&rows, "call-records.csv")
}

// ---------------------------------------------------------------------------------------
// Pages.

fn asset(name: &str) -> Response {
    match assets::CONSOLE.iter().find(|(n, _)| *n == name) {
        Some((n, body)) => {
            let ct = match n.rsplit_once('.').map(|(_, e)| e) {
                Some("html") => "text/html; charset=utf-8",
                Some("js") => "text/javascript; charset=utf-8",
                Some("css") => "text/css; charset=utf-8",
                _ => "application/octet-stream",
            };
            (
                [
                    (header::CONTENT_TYPE, ct),
                    (
                        header::CONTENT_SECURITY_POLICY,
                        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
                    ),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                ],
                *body,
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "not built into this binary\n").into_response(),
    }
}

async fn page_index() -> Response {
    asset("index.html")
}

async fn page_js() -> Response {
    asset("app.js")
}

async fn page_css() -> Response {
    asset("app.css")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keeps_an_hour_of_minutes() {
        let mut h = History::default();
        let t0 = 1_795_219_200_000; // a minute boundary
        h.observe(t0 + 1_000, 2, 2, &[4.0]);
        h.observe(t0 + 30_000, 1, 0, &[3.0, f64::NAN]);
        h.observe(t0 + 61_000, 0, 1, &[]);
        let s = h.last_hour(t0 + 61_000);
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].calls_peak, s[0].calls_started), (2, 2));
        assert_eq!(s[0].mos, Some(3.5));
        assert_eq!(
            (s[1].calls_peak, s[1].calls_started, s[1].mos),
            (0, 1, None)
        );
        for m in 2..200 {
            h.observe(t0 + m * 60_000, 1, 0, &[]);
        }
        let s = h.last_hour(t0 + 199 * 60_000);
        assert_eq!(s.len(), HISTORY_MINUTES);
        assert_eq!(s[0].minute_ms, t0 + 140 * 60_000);
    }

    #[test]
    fn new_calls_are_counted_once() {
        let mut n = NewCalls::default();
        assert_eq!(n.observe(&[]), 0);
        assert_eq!(n.observe(&[1]), 1);
        assert_eq!(n.observe(&[1, 2, 3]), 2);
        assert_eq!(n.observe(&[3]), 0);
        assert_eq!(n.observe(&[3, 4]), 1);
    }

    #[test]
    fn cookie_and_csv() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; rvoip_console=tok123; c=d"),
        );
        assert_eq!(cookie_token(&h).as_deref(), Some("tok123"));
        assert_eq!(cookie_token(&HeaderMap::new()), None);
        assert_eq!(random_hex(32).len(), 64);
        assert_ne!(random_hex(32), random_hex(32));
    }
}
