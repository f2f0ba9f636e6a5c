//! The B2BUA (RFC 3261 §6 "back-to-back user agent", RFC 7092): each call is one tokio task
//! owning two core [`UserAgent`]s, the A leg (UAS, the caller's dialog) and the B leg (UAC,
//! towards a registered user or a trunk), and relaying between them:
//! 180/183 (early media), 200/ACK, CANCEL, BYE both ways, re-INVITE/UPDATE offers
//! (hold/unhold: relayed to the other leg even when the media plane anchors the call, see
//! `hold.rs`), INFO DTMF; failover across the route's trunks on 5xx and timeouts.
//!
//! RFC 4028 session timers run on each leg (`sip.session_expires`, `sip.min_se`): offered
//! on the B leg's INVITE (422 → retry with the peer's Min-SE), granted on the A leg, each
//! leg refreshed by whichever side is the refresher; a leg whose session expires ends with
//! BYE and takes the other leg with it (call record cause `session_timer_expired`).
//!
//! Admission ([`new_invite`]): 503 while shutting down or past `limits.max_calls`; digest
//! authentication with 407 for every INVITE not from a trunk (no toll fraud: nothing is sent
//! to a trunk before the caller is authenticated); 488 for a WebRTC offer without
//! fingerprint; the dial plan decides the target.
//!
//! A call task is supervised: if it panics, the supervisor writes the call record with cause
//! `failed: internal` and releases its Call-IDs and counters.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rvoip_core::sip::ua::{
    CallId, EndReason, Event, Received, SipMsg, Transport, UaConfig, UserAgent,
};
use tokio::sync::mpsc;

use crate::sip::media::{MediaBridge, check_webrtc_offer};
use fork::Fork;

mod fork;
mod hold;
mod legs;
mod privacy;
mod slot;
use crate::config::DialTarget;
use crate::media::{LegId, MediaEvent, Peer};
use crate::sip::registrar::{Binding, user_of};
use crate::sip::transport::FlowUses;
use crate::sip::{AuthOutcome, CallInfo, CallInput, GwRng, LiveLeg, Shared, random_token};
use crate::store::{CallRecord, LegRecord, MAX_DTMF_DIGITS};
use slot::supervise;
pub use slot::{CallSlot, spawn_panicking_call};

/// Contacts rung in parallel besides the first.
const MAX_FORKS: usize = 4;

/// Frequency of the tone extension.
const TONE_HZ: f64 = 1000.0;

/// How long a finished call task keeps absorbing retransmissions at most.
const LINGER: Duration = Duration::from_secs(4);

/// Milliseconds since the Unix epoch.
pub fn epoch_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Where the B leg goes.
#[derive(Debug, Clone)]
enum Target {
    /// A registered user's contacts, most recent first: rung in parallel (forking).
    User(Vec<Binding>),
    /// Trunks (indices into the trunk table), tried in order.
    Trunks(VecDeque<usize>),
    /// A media service (echo, tone): no B leg.
    Service(Peer),
}

/// A request inside a call that the B2BUA does not carry to the other leg: REFER (RFC 3515
/// transfer) and MESSAGE (RFC 3428). A leg's core UA would accept them (202 and a NOTIFY
/// `100 Trying`; 200) and report them as events the B2BUA has no use for, so a browser's
/// transfer (JsSIP's `session.refer()`, SIP.js's `session.refer()`) or in-call message was
/// acknowledged and then silently dropped.
fn unrelayed_request(m: &SipMsg) -> bool {
    use rvoip_core::sip::ua::Method;
    use rvoip_core::sip::ua::msg::StartLine;
    matches!(
        &m.start,
        StartLine::Request {
            method: Method::Refer | Method::Message,
            ..
        }
    )
}

/// Refuses an [`unrelayed_request`] with 405 and the methods a call leg does take (RFC 3261
/// §21.4.6), so the sender learns the transfer or message did not happen. Stateless: a
/// retransmission is refused again the same way.
fn refuse_unrelayed(sh: &Arc<Shared>, transport: Transport, source: SocketAddr, req: &SipMsg) {
    tracing::info!(method = ?req.method(), "in-call request not supported: 405");
    let mut r = rvoip_core::sip::ua::response(req, 405, Some(&random_token(10)));
    r.push("Allow", crate::sip::ALLOW);
    sh.reply(transport, source, &r);
}

fn respond(sh: &Arc<Shared>, transport: Transport, source: SocketAddr, req: &SipMsg, code: u16) {
    let mut r = rvoip_core::sip::ua::response(req, code, Some(&random_token(10)));
    if code == 503 {
        r.push("Retry-After", "5");
    }
    sh.reply(transport, source, &r);
}

/// A new out-of-dialog INVITE: admission, authentication, routing, then a call task.
pub fn new_invite(
    sh: &Arc<Shared>,
    transport: Transport,
    source: SocketAddr,
    bytes: &[u8],
    req: SipMsg,
) {
    if sh.shutting_down.load(Ordering::SeqCst) {
        return respond(sh, transport, source, &req, 503);
    }
    let from_trunk = super::trunk::trunk_of_source(sh, source);
    let caller = match from_trunk {
        Some(_) => req
            .header("From")
            .and_then(user_of)
            .unwrap_or("anonymous")
            .to_string(),
        None => match sh.authenticate(&req, false) {
            AuthOutcome::Challenge(c) => return sh.reply(transport, source, &c),
            AuthOutcome::User(u) => u,
        },
    };
    if sh.counters.calls.load(Ordering::SeqCst) >= sh.cfg.limits.max_calls as usize {
        tracing::warn!(caller, "max calls reached: 503");
        return respond(sh, transport, source, &req, 503);
    }
    if matches!(transport, Transport::Ws | Transport::Wss)
        && !req.body.is_empty()
        && let Err(e) = check_webrtc_offer(&req.body)
    {
        tracing::info!(caller, "offer refused: {e}");
        return respond(sh, transport, source, &req, 488);
    }
    // The caller's wish to stay anonymous (RFC 3323) binds the B leg: see `privacy.rs`.
    let private = from_trunk.is_none() && privacy::requested(&req);
    let display_name = if private {
        Some(privacy::ANONYMOUS_NAME.to_string())
    } else {
        req.header("From").and_then(display_name_of)
    };
    let dialled = req.uri().and_then(user_of).unwrap_or("").to_string();
    let now = sh.clock.now();
    let (target, number, direction, trunk_name) = if from_trunk.is_some() {
        let number = crate::dialplan::normalize(&dialled);
        let user = sh
            .all_users()
            .into_iter()
            .find(|(_, _, dids)| dids.iter().any(|d| crate::dialplan::normalize(d) == number))
            .map(|(u, _, _)| u);
        let Some(user) = user else {
            return respond(sh, transport, source, &req, 404);
        };
        let bindings = Shared::lock(&sh.registrar).lookup(&user, now);
        if bindings.is_empty() {
            return respond(sh, transport, source, &req, 480);
        }
        (Target::User(bindings), user, "inbound", None)
    } else {
        let Some(route) = crate::dialplan::route(&sh.cfg.dialplan, &dialled) else {
            return respond(sh, transport, source, &req, 404);
        };
        match route.target {
            DialTarget::User => {
                let bindings = Shared::lock(&sh.registrar).lookup(&route.number, now);
                if bindings.is_empty() {
                    let known = sh.all_users().iter().any(|(u, _, _)| *u == route.number);
                    return respond(sh, transport, source, &req, if known { 480 } else { 404 });
                }
                (Target::User(bindings), route.number, "internal", None)
            }
            DialTarget::Trunks(names) => {
                let trunks = Shared::lock(&sh.trunks);
                let list: VecDeque<usize> = names
                    .iter()
                    .filter_map(|n| trunks.iter().position(|t| t.cfg.name == *n))
                    .filter(|&i| trunks.get(i).is_some_and(|t| t.up))
                    .collect();
                drop(trunks);
                if list.is_empty() {
                    return respond(sh, transport, source, &req, 503);
                }
                let first = names.first().cloned();
                (Target::Trunks(list), route.number, "outbound", first)
            }
            DialTarget::Echo | DialTarget::Tone if sh.media.is_none() => {
                let mut r = rvoip_core::sip::ua::response(&req, 488, Some(&random_token(10)));
                r.push(
                    "Warning",
                    "399 rvoip \"echo/tone need the media plane, which is not running\"",
                );
                return sh.reply(transport, source, &r);
            }
            DialTarget::Echo => (Target::Service(Peer::Echo), route.number, "service", None),
            DialTarget::Tone => (
                Target::Service(Peer::Tone(TONE_HZ)),
                route.number,
                "service",
                None,
            ),
        }
    };
    let b_webrtc = matches!(&target, Target::User(b)
        if b.first().is_some_and(|b| matches!(b.transport, Transport::Ws | Transport::Wss)));
    let id = sh.counters.next_call.fetch_add(1, Ordering::SeqCst) + 1;
    let a_call_id = req.call_id().unwrap_or("").to_string();
    let (tx, rx) = mpsc::unbounded_channel();
    let slot = Arc::new(CallSlot::default());
    sh.counters.calls.fetch_add(1, Ordering::SeqCst);
    sh.counters.call_tasks.fetch_add(1, Ordering::SeqCst);
    sh.update_call_gauge();
    slot.add_route(sh, &a_call_id, &tx);
    let started_ms = epoch_ms();
    Shared::lock(&sh.calls).insert(
        id,
        CallInfo {
            id,
            call_id: a_call_id.clone(),
            direction: direction.into(),
            from: caller.clone(),
            to: number.clone(),
            state: "ringing".into(),
            trunk: trunk_name.clone(),
            started_ms,
            legs: Vec::new(),
            transcoding: None,
            dtmf: String::new(),
        },
    );
    let seed = CallRecord {
        call_id: a_call_id.clone(),
        direction: direction.into(),
        from: caller.clone(),
        to: number.clone(),
        started_ms,
        a_leg: LegRecord {
            kind: leg_kind(transport).into(),
            peer: source.to_string(),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut a_cfg = UaConfig::new(
        format!("sip:{number}@{}", sh.cfg.sip.domain),
        sh.local_addr(transport),
    );
    a_cfg.transport = transport;
    leg_config(&mut a_cfg, sh);
    // The call is told when the caller's flow closes, and when any stream flow it sends on
    // does (`FlowUses::note`).
    let mut flow_uses = FlowUses::watching(sh.clone(), tx.clone());
    flow_uses.note(transport, source);
    let call = CallTask {
        flow_uses,
        sh: sh.clone(),
        id,
        rx,
        tx,
        slot: slot.clone(),
        a: UserAgent::new(a_cfg, GwRng::new()),
        a_call: None,
        a_call_id,
        a_flow: transport.is_reliable().then_some(source),
        a_done: false,
        b: None,
        b_call: None,
        b_call_id: None,
        b_flow: None,
        b_done: true,
        b_started: false,
        target,
        number,
        caller,
        display_name,
        private,
        answered: false,
        media: MediaBridge::new(
            sh.media.clone(),
            sh.cfg.media_sdp_address(),
            matches!(transport, Transport::Ws | Transport::Wss),
            b_webrtc,
        ),
        a_offer: None,
        b_offer: Vec::new(),
        b_ringing: false,
        held_ringing: None,
        forks: Vec::new(),
        pai: None,
        shutdown_at: None,
        record: seed.clone(),
        first: Some((transport, source, bytes.to_vec())),
        relay: None,
        caps: hold::PeerCaps::default(),
        a_acked: false,
    };
    tracing::info!(id, from = %call.caller, to = %call.number, direction, "call");
    slot.legs.fetch_add(1, Ordering::SeqCst);
    sh.counters.legs.fetch_add(1, Ordering::SeqCst);
    supervise(sh, id, slot, seed, call.run());
}

/// What every call leg's UA has in common: the gateway's SIP timers, one call, session
/// timers ([`session_timers`]), the User-Agent, and the Allow header of its INVITEs and 2xx
/// answers: the gateway's [`crate::sip::ALLOW`], without the MESSAGE, REFER and NOTIFY the
/// core UA lists by default (the B2BUA refuses them, see [`unrelayed_request`]), so a peer
/// is not told it may transfer the call and then gets 405.
fn leg_config(cfg: &mut UaConfig, sh: &Shared) {
    cfg.timers = sh.timers;
    cfg.max_calls = 1;
    session_timers(cfg, sh);
    cfg.user_agent = "rvoip-gateway".into();
    cfg.allow = Some(crate::sip::ALLOW.into());
}

/// RFC 4028 on a leg's UA (`sip.session_expires`, `sip.min_se`): the UAC leg offers
/// Session-Expires and retries a 422 with the peer's Min-SE; the UAS leg answers with the
/// interval (the caller refreshes when it supports timers, else we do); the refresher sends
/// UPDATE (re-INVITE when the peer lacks UPDATE) at half the interval; a leg whose session
/// expires (or whose refresh fails) ends with BYE and [`EndReason::SessionExpired`], which
/// ends the whole call with the cause `session_timer_expired`.
fn session_timers(cfg: &mut UaConfig, sh: &Shared) {
    let sip = &sh.cfg.sip;
    cfg.session_expires = (sip.session_expires > 0).then_some(sip.session_expires);
    cfg.min_se = sip.min_se;
}

/// The most characters of a caller's display name passed on to the B leg.
const MAX_DISPLAY_NAME: usize = 64;

/// The display name of a From header value (RFC 3261 §20.20, quoted or token form),
/// sanitized for the B leg's From: the UA writes it between quotes without escaping, so
/// quotes, backslashes and control characters are dropped, and it is cut to
/// [`MAX_DISPLAY_NAME`] characters. `None` when there is none (or nothing is left).
fn display_name_of(from: &str) -> Option<String> {
    let na = rvoip_core::sip::NameAddr::parse(from)?;
    let raw = na.display_name()?;
    let clean: String = raw
        .chars()
        .filter(|c| !matches!(c, '"' | '\\') && !c.is_control())
        .take(MAX_DISPLAY_NAME)
        .collect();
    let clean = clean.trim();
    (!clean.is_empty()).then(|| clean.to_string())
}

fn leg_kind(t: Transport) -> &'static str {
    match t {
        Transport::Ws | Transport::Wss => "webrtc",
        _ => "sip",
    }
}

/// One call: the A leg, the B leg, and the relay logic between them.
struct CallTask {
    sh: Arc<Shared>,
    id: u64,
    rx: mpsc::UnboundedReceiver<CallInput>,
    tx: mpsc::UnboundedSender<CallInput>,
    slot: Arc<CallSlot>,
    a: UserAgent<GwRng>,
    a_call: Option<CallId>,
    a_call_id: String,
    a_flow: Option<SocketAddr>,
    a_done: bool,
    b: Option<UserAgent<GwRng>>,
    b_call: Option<CallId>,
    b_call_id: Option<String>,
    b_flow: Option<SocketAddr>,
    b_done: bool,
    b_started: bool,
    target: Target,
    number: String,
    caller: String,
    /// The caller's display name (from its From), sanitized, for the B leg's From.
    display_name: Option<String>,
    /// The caller asked for privacy (RFC 3323): the B leg's From is anonymous (users) or
    /// carries `Privacy: id` (trunks).
    private: bool,
    answered: bool,
    media: MediaBridge,
    a_offer: Option<Vec<u8>>,
    /// The offer sent on the B leg (kept for failover).
    b_offer: Vec<u8>,
    /// The other contacts rung in parallel with the B leg.
    forks: Vec<Fork>,
    /// The B leg rang (180): the A leg may ring.
    b_ringing: bool,
    /// The A leg's 180, held until the B leg rings.
    held_ringing: Option<(Transport, SocketAddr, Vec<u8>)>,
    /// Identity header lines (P-Asserted-Identity, Privacy) to add to the INVITE towards a
    /// trunk.
    pai: Option<String>,
    shutdown_at: Option<tokio::time::Instant>,
    record: CallRecord,
    first: Option<(Transport, SocketAddr, Vec<u8>)>,
    /// A hold/unhold offer relayed to the other leg, waiting for its answer.
    relay: Option<hold::Relay>,
    /// What each leg's peer supports (UPDATE) and used for its offers.
    caps: hold::PeerCaps,
    /// The A leg's dialog is confirmed (our 2xx was ACKed).
    a_acked: bool,
    /// The stream flows this call's dialogs and transactions use: the task is told when one
    /// closes, and outgoing TCP/TLS connections are kept open (not closed for idleness)
    /// until the task ends.
    flow_uses: FlowUses,
}

impl CallTask {
    /// The task's body. Not an `async fn`: rustc moves an `async fn`'s by-value argument
    /// into a second slot of the future (rust-lang/rust#62958), which doubled this future
    /// (2 × 4.1 KiB of `CallTask` + awaits = 9.6 KiB per call); an `async move` block
    /// that uses the captured `self` in place stores it once.
    #[expect(
        clippy::manual_async_fn,
        reason = "an `async fn` would store `self` twice (see above)"
    )]
    fn run(mut self) -> impl std::future::Future<Output = ()> + Send + 'static {
        async move {
            if let Some((transport, source, bytes)) = self.first.take() {
                let now = self.sh.clock.now();
                if let Ok(m) = SipMsg::parse(&bytes) {
                    self.caps.snoop(LegId::A, &m);
                }
                self.a.handle_receive(
                    now,
                    Received {
                        transport,
                        source,
                        bytes: &bytes,
                    },
                );
            }
            let mut ended_at: Option<tokio::time::Instant> = None;
            let mut stats_at = tokio::time::Instant::now() + STATS_INTERVAL;
            loop {
                self.drain();
                if self.a_done && self.b_done && ended_at.is_none() {
                    ended_at = Some(tokio::time::Instant::now());
                    self.stop_media().await;
                    self.end_record();
                    let rec = self.record.clone();
                    self.slot.finish_call(&self.sh, self.id, rec).await;
                }
                if let Some(t) = ended_at {
                    let quiet = self.a.transaction_count() == 0
                        && self.b.as_ref().is_none_or(|b| b.transaction_count() == 0)
                        && self.forks.iter().all(|f| f.ua.transaction_count() == 0);
                    if quiet || t.elapsed() >= LINGER {
                        break;
                    }
                }
                let next = [
                    self.a.poll_timeout(),
                    self.b.as_ref().and_then(UserAgent::poll_timeout),
                ]
                .into_iter()
                .chain(self.forks.iter().map(|f| f.ua.poll_timeout()))
                .flatten()
                .min()
                .map(|t| self.sh.clock.to_tokio(t));
                let mut deadline =
                    next.unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
                if let Some(s) = self.shutdown_at {
                    deadline = deadline.min(s);
                }
                if let Some(t) = ended_at {
                    deadline = deadline.min(t + LINGER);
                }
                let wake = {
                    let rx = &mut self.rx;
                    let media = &mut self.media;
                    tokio::select! {
                        input = rx.recv() => Wake::Input(input),
                        _ = tokio::time::sleep_until(deadline) => Wake::Timer,
                        ev = media_event(media) => Wake::Media(ev),
                        _ = tokio::time::sleep_until(stats_at), if ended_at.is_none() => Wake::Stats,
                    }
                };
                match wake {
                    Wake::Input(Some(i)) => self.input(i),
                    Wake::Input(None) => break,
                    Wake::Timer => {
                        let now = self.sh.clock.now();
                        self.a.handle_timeout(now);
                        if let Some(b) = &mut self.b {
                            b.handle_timeout(now);
                        }
                        for f in &mut self.forks {
                            f.ua.handle_timeout(now);
                        }
                        if self
                            .shutdown_at
                            .is_some_and(|s| s <= tokio::time::Instant::now())
                        {
                            self.shutdown_at = None;
                            self.hangup_both("shutdown");
                        }
                    }
                    Wake::Media(Some(MediaEvent::Ended { leg, reason })) => {
                        tracing::info!(id = self.id, ?leg, "media ended: {reason}");
                        let cause = format!("media: {reason}");
                        self.hangup_both(&cause);
                        self.stop_media().await;
                    }
                    Wake::Media(Some(MediaEvent::Digit { leg, digit, .. })) => {
                        self.dtmf_seen(leg, digit, "rfc4733");
                    }
                    Wake::Media(Some(ev)) => tracing::debug!(id = self.id, ?ev, "media"),
                    Wake::Media(None) => self.stop_media().await,
                    Wake::Stats => {
                        stats_at = tokio::time::Instant::now() + STATS_INTERVAL;
                        self.publish_stats();
                    }
                }
            }
            if ended_at.is_none() {
                self.stop_media().await;
                self.end_record();
                let rec = self.record.clone();
                self.slot.finish_call(&self.sh, self.id, rec).await;
            }
            self.slot.release(&self.sh);
        }
    }

    fn input(&mut self, input: CallInput) {
        let now = self.sh.clock.now();
        match input {
            CallInput::Sip {
                transport,
                source,
                bytes,
            } => {
                let msg = SipMsg::parse(&bytes).ok();
                if let Some(m) = msg.as_ref().filter(|m| unrelayed_request(m)) {
                    return refuse_unrelayed(&self.sh, transport, source, m);
                }
                let call_id = msg.as_ref().and_then(|m| m.call_id().map(str::to_string));
                if let Some(m) = &msg {
                    let leg = if call_id.as_deref() == Some(self.a_call_id.as_str()) {
                        LegId::A
                    } else {
                        LegId::B
                    };
                    self.caps.snoop(leg, m);
                }
                let rx = Received {
                    transport,
                    source,
                    bytes: &bytes,
                };
                if call_id.as_deref() == Some(self.a_call_id.as_str()) {
                    self.a.handle_receive(now, rx);
                } else if let Some(f) = self
                    .forks
                    .iter_mut()
                    .find(|f| Some(f.call_id.as_str()) == call_id.as_deref())
                {
                    f.ua.handle_receive(now, rx);
                } else if let Some(b) = &mut self.b {
                    b.handle_receive(now, rx);
                }
            }
            CallInput::FlowClosed(flow) => {
                // A stream to the callee side that failed (a TCP/TLS trunk refusing the
                // connection or failing certificate verification): its pending requests
                // fail as 503 now (RFC 3261 §8.1.3.1), so the call fails over at once
                // instead of after Timer B. (A callee on a flow of its own is handled below.)
                if self.b_flow.is_none()
                    && let Some(b) = &mut self.b
                {
                    b.handle_transport_error(now, flow);
                }
                if self.a_flow == Some(flow) && !self.a_done {
                    tracing::info!(id = self.id, "caller's connection closed");
                    self.a_done = true;
                    self.slot.leg_done(&self.sh);
                    self.set_cause("flow closed: caller");
                    self.hangup_b();
                }
                for f in &mut self.forks {
                    if f.flow == Some(flow) && !f.done {
                        f.done = true;
                        self.slot.leg_done(&self.sh);
                    }
                }
                if self.b_flow == Some(flow) && !self.b_done {
                    tracing::info!(id = self.id, "callee's connection closed");
                    self.b_done = true;
                    self.slot.leg_done(&self.sh);
                    self.set_cause("flow closed: callee");
                    self.hangup_a();
                }
            }
            CallInput::Hangup => self.hangup_both("hangup: operator"),
            CallInput::Shutdown => {
                if self.answered {
                    let grace = Duration::from_secs(self.sh.cfg.limits.shutdown_grace_seconds);
                    self.shutdown_at = Some(tokio::time::Instant::now() + grace);
                } else {
                    self.hangup_both("shutdown");
                }
            }
        }
    }

    fn set_cause(&mut self, cause: &str) {
        if self.record.cause.is_empty() {
            self.record.cause = cause.to_string();
        }
    }

    fn hangup_both(&mut self, cause: &str) {
        self.set_cause(cause);
        self.hangup_a();
        self.hangup_b();
    }

    fn hangup_a(&mut self) {
        let now = self.sh.clock.now();
        if let (Some(c), false) = (self.a_call, self.a_done) {
            if self.answered {
                let _ = self.a.hangup(now, c);
            } else {
                let _ = self.a.reject(now, c, 503);
            }
        }
    }

    fn hangup_b(&mut self) {
        let now = self.sh.clock.now();
        if let (Some(b), Some(c), false) = (&mut self.b, self.b_call, self.b_done) {
            let _ = b.hangup(now, c);
        }
        self.cancel_forks();
    }

    /// Sends what the UAs queued and handles their events until both are quiet.
    fn drain(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(t) = self.a.poll_transmit() {
                progressed = true;
                let dest = self.a_flow.unwrap_or(t.destination);
                // The UA rings at once on an incoming INVITE; a B2BUA must ring only when
                // the callee does (RFC 7092 §3.1): hold an unreliable 180 back until then.
                if !self.b_ringing
                    && !matches!(self.target, Target::Service(_))
                    && t.bytes.starts_with(b"SIP/2.0 180 ")
                    && !has_header(&t.bytes, "RSeq")
                {
                    self.held_ringing = Some((t.transport, dest, t.bytes));
                    continue;
                }
                self.media.note_sent(LegId::A, &t.bytes);
                self.flow_uses.note(t.transport, dest);
                self.sh.send(t.transport, dest, t.bytes);
            }
            if let Some(b) = &mut self.b {
                while let Some(t) = b.poll_transmit() {
                    progressed = true;
                    let dest = self.b_flow.unwrap_or(t.destination);
                    self.media.note_sent(LegId::B, &t.bytes);
                    let bytes = match &self.pai {
                        Some(pai) if t.bytes.starts_with(b"INVITE ") => {
                            insert_header(&t.bytes, pai)
                        }
                        _ => t.bytes,
                    };
                    self.flow_uses.note(t.transport, dest);
                    self.sh.send(t.transport, dest, bytes);
                }
            }
            while let Some(e) = self.a.poll_event() {
                progressed = true;
                self.a_event(e);
            }
            let b_events: Vec<Event> = match &mut self.b {
                Some(b) => std::iter::from_fn(|| b.poll_event()).collect(),
                None => Vec::new(),
            };
            for e in b_events {
                progressed = true;
                self.b_event(e);
            }
            let mut fork_events = Vec::new();
            for (i, f) in self.forks.iter_mut().enumerate() {
                while let Some(t) = f.ua.poll_transmit() {
                    progressed = true;
                    let dest = f.flow.unwrap_or(t.destination);
                    self.flow_uses.note(t.transport, dest);
                    self.sh.send(t.transport, dest, t.bytes);
                }
                while let Some(e) = f.ua.poll_event() {
                    fork_events.push((i, e));
                }
            }
            for (i, e) in fork_events {
                progressed = true;
                self.fork_event(i, e);
            }
            if !progressed {
                break;
            }
        }
    }

    fn a_event(&mut self, e: Event) {
        let now = self.sh.clock.now();
        match e {
            Event::IncomingCall { call, sdp, .. } => {
                self.a_call = Some(call);
                self.a_offer = sdp;
                if let Target::Service(peer) = self.target {
                    let offer = self.a_offer.clone().unwrap_or_default();
                    match self.media.answer_service(peer, &offer) {
                        Ok(ans) => {
                            self.answered = true;
                            self.record.answered_ms = Some(epoch_ms());
                            self.record.b_leg.kind = "service".into();
                            let _ = self.a.answer(now, call, &ans);
                            self.set_state("answered");
                        }
                        Err(code) => {
                            self.set_cause(&format!("rejected: {code}"));
                            let _ = self.a.reject(now, call, code);
                        }
                    }
                    return;
                }
                self.start_b();
            }
            Event::Ended { reason, .. } => {
                if self.a_done {
                    return;
                }
                self.a_done = true;
                self.slot.leg_done(&self.sh);
                match reason {
                    EndReason::Cancelled => self.set_cause("cancelled"),
                    EndReason::RemoteHangup => self.set_cause("normal: caller hung up"),
                    EndReason::SessionExpired => self.set_cause("session_timer_expired"),
                    EndReason::Timeout => self.set_cause("timeout: caller"),
                    EndReason::Rejected(c) => self.set_cause(&format!("rejected: {c}")),
                    _ => self.set_cause("normal"),
                }
                self.hangup_b();
            }
            Event::OfferReceived { call, sdp } if self.media.is_anchored() => {
                self.anchored_offer(LegId::A, call, sdp);
            }
            Event::OfferReceived { call, sdp } => {
                if self.b.is_none() || self.b_call.is_none() {
                    let _ = self.a.reject(now, call, 491);
                    return;
                }
                let ok = match sdp {
                    Some(s) => {
                        let offer = self.media.relay_offer(&s);
                        self.send_offer(LegId::B, &offer, self.caps.relays_update(LegId::A))
                    }
                    None => false,
                };
                if !ok {
                    let _ = self.a.reject(now, call, 488);
                }
            }
            Event::MediaUpdated { sdp, .. } if self.relay_answered(LegId::A, sdp.as_deref()) => {}
            Event::MediaUpdated { sdp, .. } => {
                if let (Some(b), Some(bc)) = (&mut self.b, self.b_call) {
                    let ans = self.media.relay_answer(sdp.as_deref().unwrap_or(&[]));
                    let _ = b.answer(now, bc, &ans);
                }
            }
            Event::OfferRejected { code, .. } if self.relay_rejected(LegId::A, code) => {}
            Event::OfferRejected { code, .. } => {
                if let (Some(b), Some(bc)) = (&mut self.b, self.b_call) {
                    let _ = b.reject(now, bc, code);
                }
            }
            Event::Answered { .. } => self.a_acked = true,
            Event::DtmfReceived {
                digit, duration, ..
            } => {
                self.dtmf_seen(LegId::A, digit, "info");
                if let (Some(b), Some(bc)) = (&mut self.b, self.b_call) {
                    let _ = b.send_dtmf(now, bc, digit, duration);
                }
            }
            _ => {}
        }
    }

    fn b_event(&mut self, e: Event) {
        let now = self.sh.clock.now();
        let Some(ac) = self.a_call else { return };
        match e {
            Event::Ringing { .. } => self.b_rang(),
            Event::EarlyMedia { sdp, .. } => {
                let ans = self.media.answer_for_a(&sdp);
                let _ = self.a.early_media(now, ac, &ans);
                self.set_state("early media");
            }
            Event::Answered { sdp, .. } => {
                if self.a_done {
                    self.hangup_b();
                    return;
                }
                self.answered = true;
                self.cancel_forks();
                self.record.answered_ms = Some(super::b2bua::epoch_ms());
                let ans = self.media.answer_for_a(sdp.as_deref().unwrap_or(&[]));
                if self.a.answer(now, ac, &ans).is_err() {
                    self.hangup_b();
                }
                self.set_state("answered");
            }
            Event::Ended { reason, .. } => {
                if self.b_done {
                    return;
                }
                self.b_done = true;
                self.slot.leg_done(&self.sh);
                if self.answered {
                    if reason == EndReason::SessionExpired {
                        self.set_cause("session_timer_expired");
                    } else {
                        self.set_cause("normal: callee hung up");
                    }
                    self.hangup_a();
                    return;
                }
                let code = match reason {
                    EndReason::Rejected(c) => c,
                    EndReason::Timeout => 408,
                    EndReason::LocalHangup => return,
                    _ => 500,
                };
                if !self.a_done
                    && let Some(i) = self.forks.iter().position(|f| !f.done)
                {
                    // Another contact still rings: it becomes the B leg.
                    self.promote(i, true);
                    return;
                }
                let failover = (code >= 500 || code == 408)
                    && matches!(&self.target, Target::Trunks(l) if !l.is_empty());
                if failover && !self.a_done {
                    tracing::info!(id = self.id, code, "trunk failed, trying the next one");
                    self.start_b();
                    return;
                }
                let to_a = match code {
                    // Timer B on the trunk: the trunk is unreachable.
                    408 if matches!(self.target, Target::Trunks(_)) => 503,
                    // Our trunk credentials were refused: not the caller's business.
                    401 | 407 => 503,
                    c => c,
                };
                self.set_cause(&format!("rejected: {code}"));
                if !self.a_done {
                    let _ = self.a.reject(now, ac, to_a);
                }
            }
            Event::OfferReceived { call, sdp } if self.media.is_anchored() => {
                self.anchored_offer(LegId::B, call, sdp);
            }
            Event::OfferReceived { call, sdp } => {
                let ok = match sdp {
                    Some(s) if !self.a_done => {
                        let offer = self.media.relay_offer(&s);
                        self.send_offer(LegId::A, &offer, self.caps.relays_update(LegId::B))
                    }
                    _ => false,
                };
                if !ok && let Some(b) = &mut self.b {
                    let _ = b.reject(now, call, 488);
                }
            }
            Event::MediaUpdated { sdp, .. } if self.relay_answered(LegId::B, sdp.as_deref()) => {}
            Event::MediaUpdated { sdp, .. } => {
                let ans = self.media.relay_answer(sdp.as_deref().unwrap_or(&[]));
                let _ = self.a.answer(now, ac, &ans);
            }
            Event::OfferRejected { code, .. } if self.relay_rejected(LegId::B, code) => {}
            Event::OfferRejected { code, .. } => {
                let _ = self.a.reject(now, ac, code);
            }
            Event::DtmfReceived {
                digit, duration, ..
            } => {
                self.dtmf_seen(LegId::B, digit, "info");
                let _ = self.a.send_dtmf(now, ac, digit, duration);
            }
            _ => {}
        }
    }

    /// A DTMF digit arrived on `leg` (`method`: `rfc4733` from the media plane, `info` from
    /// SIP INFO): counted in `rvoip_dtmf_relayed_total` and appended to the call's digits
    /// (live in [`Shared::calls`], and in the record; at most [`MAX_DTMF_DIGITS`] kept).
    fn dtmf_seen(&mut self, leg: LegId, digit: char, method: &'static str) {
        let from = match leg {
            // A call from a trunk: its A leg is plain SIP from the trunk.
            LegId::A if self.record.direction == "inbound" => "trunk",
            LegId::A => self.record.a_leg.kind.as_str(),
            LegId::B => self.record.b_leg.kind.as_str(),
        };
        let from = if from.is_empty() { "sip" } else { from };
        self.sh.metrics.inc(
            "rvoip_dtmf_relayed_total",
            &[("from", from), ("method", method)],
        );
        tracing::debug!(id = self.id, ?leg, %digit, method, "dtmf");
        if self.record.dtmf.len() >= MAX_DTMF_DIGITS {
            return;
        }
        self.record.dtmf.push(digit);
        if let Some(c) = Shared::lock(&self.sh.calls).get_mut(&self.id) {
            c.dtmf.clone_from(&self.record.dtmf);
        }
    }

    fn set_state(&self, state: &str) {
        if let Some(c) = Shared::lock(&self.sh.calls).get_mut(&self.id) {
            c.state = state.to_string();
        }
    }

    /// Publishes the media plane's live figures of both legs into the call registry.
    fn publish_stats(&mut self) {
        let Some(st) = self.media.call_media().and_then(|c| c.recent_stats()) else {
            return;
        };
        let legs: Vec<LiveLeg> = st
            .legs
            .iter()
            .zip([
                ("A", &self.record.a_leg, &self.media.codec),
                ("B", &self.record.b_leg, &self.media.b_codec),
            ])
            .filter_map(|(l, (name, rec, codec))| {
                let l = l.as_ref()?;
                Some(LiveLeg {
                    name: name.into(),
                    kind: rec.kind.clone(),
                    codec: codec.clone(),
                    packets_in: l.packets_in,
                    packets_out: l.packets_out,
                    lost: l.lost,
                    jitter_ms: l.jitter_ms,
                    rtt_ms: l.rtt_ms,
                    mos: (l.packets_in > 0).then_some(l.mos),
                })
            })
            .collect();
        if let Some(c) = Shared::lock(&self.sh.calls).get_mut(&self.id) {
            c.legs = legs;
            c.transcoding = Some(st.transcoding);
        }
    }

    /// Ends the call's media (freeing its ports), keeping its statistics for the record.
    async fn stop_media(&mut self) {
        let Some(call) = self.media.take_call() else {
            return;
        };
        if let Some(st) = call.stats().await {
            self.record.transcoded = st.transcoding;
            for (i, leg) in st.legs.iter().enumerate() {
                let Some(l) = leg else { continue };
                let r = if i == 0 {
                    &mut self.record.a_leg
                } else {
                    &mut self.record.b_leg
                };
                r.packets_in = l.packets_in;
                r.packets_out = l.packets_out;
                r.jitter_ms = l.jitter_ms;
                let expected = l.packets_in as f64 + l.lost.max(0) as f64;
                r.loss = if expected > 0.0 {
                    l.lost.max(0) as f64 / expected
                } else {
                    0.0
                };
                r.mos = (l.packets_in > 0).then_some(l.mos);
            }
        }
        call.hangup().await;
    }

    /// Fills in the end of the record.
    fn end_record(&mut self) {
        self.record.ended_ms = epoch_ms();
        if self.record.cause.is_empty() {
            self.record.cause = "normal".into();
        }
        self.record.a_leg.codec = self.media.codec.clone();
        self.record.b_leg.codec = self.media.b_codec.clone();
    }
}

/// What woke a call task.
enum Wake {
    Input(Option<CallInput>),
    Timer,
    Media(Option<MediaEvent>),
    /// Time to publish the live media figures.
    Stats,
}

/// How often a call task publishes its live media figures into [`Shared::calls`].
const STATS_INTERVAL: Duration = Duration::from_secs(1);

/// The next media event, or never when the call has no (more) media.
async fn media_event(media: &mut MediaBridge) -> Option<MediaEvent> {
    match media.call_media() {
        Some(c) => c.next_event().await,
        None => std::future::pending().await,
    }
}

/// Whether a serialized message has header `name` (case-insensitive, full names only).
fn has_header(msg: &[u8], name: &str) -> bool {
    let head_end = msg
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(msg.len());
    msg.get(..head_end)
        .unwrap_or(msg)
        .split(|&b| b == b'\n')
        .any(|line| {
            line.len() > name.len()
                && line[..name.len()].eq_ignore_ascii_case(name.as_bytes())
                && line[name.len()..].trim_ascii_start().first() == Some(&b':')
        })
}

/// Inserts a header line after the start line of a serialized message.
fn insert_header(msg: &[u8], line: &str) -> Vec<u8> {
    match msg.windows(2).position(|w| w == b"\r\n") {
        Some(i) => {
            let mut out = Vec::with_capacity(msg.len() + line.len() + 2);
            out.extend_from_slice(&msg[..i + 2]);
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&msg[i + 2..]);
            out
        }
        None => msg.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_of_from_headers() {
        assert_eq!(
            display_name_of("\"Alice\" <sip:alice@example.com>;tag=1").as_deref(),
            Some("Alice")
        );
        assert_eq!(
            display_name_of("Alice Smith <sip:alice@example.com>").as_deref(),
            Some("Alice Smith")
        );
        assert_eq!(display_name_of("<sip:alice@example.com>;tag=1"), None);
        assert_eq!(display_name_of("sip:alice@example.com;tag=1"), None);
        assert_eq!(display_name_of("\"\" <sip:alice@example.com>"), None);
        // An escaped quote cannot break out of the quoted string we write.
        assert_eq!(
            display_name_of(r#""A\"l\\ice" <sip:a@b>"#).as_deref(),
            Some("Alice")
        );
        let long = format!("\"{}\" <sip:a@b>", "x".repeat(200));
        assert_eq!(
            display_name_of(&long).map(|n| n.len()),
            Some(MAX_DISPLAY_NAME)
        );
    }

    #[test]
    fn header_presence() {
        let m = b"SIP/2.0 180 Ringing\r\nRSeq: 1\r\nVia: x\r\n\r\nRSeq: body";
        assert!(has_header(m, "rseq"));
        assert!(!has_header(
            b"SIP/2.0 180 Ringing\r\nRSeqx: 1\r\n\r\nRSeq: 1",
            "RSeq"
        ));
    }

    #[test]
    fn header_goes_after_the_start_line() {
        let m = b"INVITE sip:a@b SIP/2.0\r\nVia: x\r\n\r\n";
        let out = insert_header(m, "P-Asserted-Identity: <sip:1@h>");
        assert_eq!(
            out,
            b"INVITE sip:a@b SIP/2.0\r\nP-Asserted-Identity: <sip:1@h>\r\nVia: x\r\n\r\n"
        );
    }
}
