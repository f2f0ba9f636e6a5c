//! A full ICE agent for host candidates (RFC 8445 §6–§8, RFC 7675 consent freshness),
//! controlling by default: what test clients and the load generator run as "the browser".
//!
//! - Pairs (§6.1.2): every local host candidate with every remote candidate of the same
//!   address family, prioritised by §6.1.2.3; pairs sharing a foundation start Frozen except
//!   the best one (§6.1.2.6), and unfreeze when a pair of their foundation succeeds.
//! - Checks (§6.1.4, §7.2.4): one new check every Ta (50 ms): a triggered check first, then
//!   the best Waiting pair, then the best Frozen one. Each is a STUN transaction retransmitted
//!   with a doubling RTO (from 500 ms, capped) until its transmissions run out: the pair then
//!   fails. A response succeeds the pair only if it is authenticated with the peer's
//!   password and comes from the address the request went to (§7.2.5.2.1).
//! - Nomination (§8.1.1): aggressive (every check carries USE-CANDIDATE; the first pair to
//!   succeed is selected) or regular (checks without it; once the best pair has succeeded,
//!   or a short delay after the first success, one more check with USE-CANDIDATE on the best
//!   valid pair selects it).
//! - Answers the peer's checks (§7.3), learns peer-reflexive candidates from them, queues
//!   triggered checks, resolves role conflicts by tie-breaker (§7.3.1.1, 487 responses
//!   §7.2.5.1) and, when controlled, selects the pair the peer nominated.
//! - Consent (RFC 7675): on the selected pair, a check every 5 s × U(0.8, 1.2); 30 s without
//!   a response: [`IceEvent::ConsentLost`], and [`IceAgent::may_send_to`] is `None` until a
//!   response arrives again.
//! - Failure: once every pair has failed and nothing is in flight, [`IceEvent::Failed`].

use super::{
    CONSENT_TIMEOUT, Candidate, CandidateKind, Credentials, IceError, IceEvent, IceState, Receive,
    Transmit, authenticate_request, candidate_priority, error_response, pair_priority, parse,
    queue, queue_event, success_response,
};
use crate::rand::Rng;
use crate::stun::{
    Attribute, Class, ErrorCode, MessageBuilder, MessageType, Method, TransactionId,
};
use crate::time::Instant;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::net::SocketAddr;
use core::time::Duration;

/// Most candidate pairs (bounds the work peer-reflexive candidates can cause).
const MAX_PAIRS: usize = 64;
/// Most remote candidates, signalled or peer-reflexive.
const MAX_REMOTE: usize = 32;
/// Transmissions of one consent check (they overlap the next check otherwise).
const CONSENT_TRANSMISSIONS: u32 = 4;

/// How the controlling agent nominates (RFC 8445 §8.1.1; aggressive is RFC 5245's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Nomination {
    /// Every check carries USE-CANDIDATE; the first pair to succeed is selected.
    Aggressive,
    /// Checks first, then one nominating check on the best valid pair.
    Regular,
}

/// The ICE role (RFC 8445 §6.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Nominates pairs.
    Controlling,
    /// Follows the peer's nominations.
    Controlled,
}

/// Timing and behaviour of an [`IceAgent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IceAgentConfig {
    /// Nomination method (default regular).
    pub nomination: Nomination,
    /// Pacing of new checks, Ta (RFC 8445 §14.2: 50 ms).
    pub ta: Duration,
    /// Initial retransmission timeout (RFC 8445 §14.3: at least 500 ms).
    pub initial_rto: Duration,
    /// Cap of the doubling RTO.
    pub max_rto: Duration,
    /// Transmissions of a check before its pair fails (RFC 8489 Rc: 7).
    pub max_transmissions: u32,
    /// Regular nomination: how long after the first success to wait for better pairs.
    pub nomination_delay: Duration,
    /// Mean interval of consent checks (RFC 7675 §5.1: 5 s, randomised ×0.8–1.2).
    pub consent_interval: Duration,
    /// Consent lifetime without a response (RFC 7675 §5.1: 30 s).
    pub consent_timeout: Duration,
    /// Whether consent checks on a pair we nominated carry USE-CANDIDATE again (as Chrome
    /// does; default true), so that a lite peer follows a NAT rebinding at once. False
    /// behaves like Firefox.
    pub nominate_in_consent_checks: bool,
}

impl Default for IceAgentConfig {
    fn default() -> Self {
        IceAgentConfig {
            nomination: Nomination::Regular,
            ta: Duration::from_millis(50),
            initial_rto: Duration::from_millis(500),
            max_rto: Duration::from_secs(3),
            max_transmissions: 7,
            nomination_delay: Duration::from_millis(500),
            consent_interval: Duration::from_secs(5),
            consent_timeout: CONSENT_TIMEOUT,
            nominate_in_consent_checks: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PairState {
    Frozen,
    Waiting,
    InProgress,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone)]
struct Pair {
    local: SocketAddr,
    remote: SocketAddr,
    local_priority: u32,
    remote_priority: u32,
    foundation: u64,
    state: PairState,
    /// A USE-CANDIDATE check on this pair succeeded (controlling), or the peer nominated
    /// it and our check succeeded (controlled).
    nominated: bool,
    /// The peer sent USE-CANDIDATE on this pair (controlled role).
    peer_nominated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Check { nominate: bool },
    Consent,
}

#[derive(Debug, Clone)]
struct Transaction {
    tid: TransactionId,
    pair: usize,
    request: Vec<u8>,
    transmissions: u32,
    max_transmissions: u32,
    rto: Duration,
    next_at: Instant,
    purpose: Purpose,
}

/// A full ICE agent (host candidates, one component), controlling unless a role conflict
/// says otherwise. Owns its random generator `R` (transaction ids, tie-breaker, jitter).
#[derive(Debug)]
pub struct IceAgent<R: Rng> {
    rng: R,
    config: IceAgentConfig,
    role: Role,
    tie_breaker: u64,
    local: Credentials,
    remote: Option<Credentials>,
    local_candidates: Vec<Candidate>,
    remote_candidates: Vec<Candidate>,
    pairs: Vec<Pair>,
    transactions: Vec<Transaction>,
    triggered: VecDeque<(usize, bool)>,
    last_check_at: Option<Instant>,
    checks_pending: bool,
    selected: Option<usize>,
    first_success_at: Option<Instant>,
    consent_at: Instant,
    next_consent_at: Option<Instant>,
    state: IceState,
    transmits: VecDeque<Transmit>,
    events: VecDeque<IceEvent>,
}

impl<R: Rng> IceAgent<R> {
    /// A controlling agent with random credentials and tie-breaker, one host candidate per
    /// address of `host_addrs` (the first preferred).
    pub fn new(mut rng: R, config: IceAgentConfig, host_addrs: &[SocketAddr]) -> Self {
        let local = Credentials::random(&mut rng);
        let tie_breaker = rng.next_u64();
        let local_candidates = host_addrs
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let pref = u16::MAX.saturating_sub(u16::try_from(i).unwrap_or(u16::MAX));
                Candidate::host(*a, pref)
            })
            .collect();
        IceAgent {
            rng,
            config,
            role: Role::Controlling,
            tie_breaker,
            local,
            remote: None,
            local_candidates,
            remote_candidates: Vec::new(),
            pairs: Vec::new(),
            transactions: Vec::new(),
            triggered: VecDeque::new(),
            last_check_at: None,
            checks_pending: false,
            selected: None,
            first_success_at: None,
            consent_at: Instant::ZERO,
            next_consent_at: None,
            state: IceState::Checking,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Replaces the local credentials (before any check is sent).
    pub fn set_local_credentials(&mut self, local: Credentials) {
        self.local = local;
    }

    /// The local credentials, for `a=ice-ufrag` / `a=ice-pwd`.
    pub fn local_credentials(&self) -> &Credentials {
        &self.local
    }

    /// The host candidates, for `a=candidate` lines.
    pub fn local_candidates(&self) -> &[Candidate] {
        &self.local_candidates
    }

    /// Sets the peer's credentials (checks start once they and a pair exist).
    pub fn set_remote_credentials(&mut self, remote: Credentials) {
        self.remote = Some(remote);
        self.checks_pending = true;
    }

    /// The current role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Sets the role (before checks start; a role conflict may change it later).
    pub fn set_role(&mut self, role: Role) {
        self.role = role;
    }

    /// The tie-breaker sent in ICE-CONTROLLING / ICE-CONTROLLED.
    pub fn tie_breaker(&self) -> u64 {
        self.tie_breaker
    }

    /// Sets the tie-breaker (tests of role conflicts).
    pub fn set_tie_breaker(&mut self, t: u64) {
        self.tie_breaker = t;
    }

    /// The media-level SDP attribute values (without `a=`): `ice-ufrag:…`, `ice-pwd:…`,
    /// one `candidate:…` per host candidate, then `end-of-candidates` (RFC 8839 §5).
    pub fn sdp_attributes(&self) -> Vec<alloc::string::String> {
        let mut v = Vec::with_capacity(self.local_candidates.len() + 3);
        v.push(alloc::format!("ice-ufrag:{}", self.local.ufrag));
        v.push(alloc::format!("ice-pwd:{}", self.local.pwd));
        v.extend(self.local_candidates.iter().map(Candidate::to_sdp_value));
        v.push("end-of-candidates".into());
        v
    }

    /// The state.
    pub fn state(&self) -> IceState {
        self.state
    }

    /// Where media may be sent now: the selected remote address while consent is fresh.
    pub fn may_send_to(&self) -> Option<SocketAddr> {
        match self.state {
            IceState::Connected => self.selected.map(|i| self.pairs[i].remote),
            _ => None,
        }
    }

    /// The selected pair (local, remote), even while consent is lost.
    pub fn selected_pair(&self) -> Option<(SocketAddr, SocketAddr)> {
        self.selected
            .map(|i| (self.pairs[i].local, self.pairs[i].remote))
    }

    /// Adds a remote candidate (from SDP or trickle) and pairs it with the local
    /// candidates of the same address family. Only component 1 is used.
    pub fn add_remote_candidate(&mut self, c: Candidate) -> Result<(), IceError> {
        if c.component != 1 {
            return Err(IceError::UnsupportedCandidate);
        }
        if self.remote_candidates.iter().any(|r| r.addr == c.addr) {
            return Ok(());
        }
        if self.remote_candidates.len() >= MAX_REMOTE {
            return Err(IceError::TooManyPairs);
        }
        let remote_f = u64::from(crate::stun::crc32(c.foundation.as_bytes()));
        for l in 0..self.local_candidates.len() {
            let lc = &self.local_candidates[l];
            if lc.addr.is_ipv4() != c.addr.is_ipv4() {
                continue;
            }
            if self.pairs.len() >= MAX_PAIRS {
                return Err(IceError::TooManyPairs);
            }
            let foundation =
                (u64::from(crate::stun::crc32(lc.foundation.as_bytes())) << 32) | remote_f;
            // §6.1.2.6: the first pair of a foundation waits, later ones are frozen.
            let frozen = self.pairs.iter().any(|p| p.foundation == foundation);
            self.pairs.push(Pair {
                local: lc.addr,
                remote: c.addr,
                local_priority: lc.priority,
                remote_priority: c.priority,
                foundation,
                state: if frozen {
                    PairState::Frozen
                } else {
                    PairState::Waiting
                },
                nominated: false,
                peer_nominated: false,
            });
        }
        self.remote_candidates.push(c);
        self.checks_pending = true;
        if self.state == IceState::Failed {
            // Trickled candidates after a failure: try again with them.
            self.state = IceState::Checking;
        }
        Ok(())
    }

    fn priority(&self, p: &Pair) -> u64 {
        match self.role {
            Role::Controlling => pair_priority(p.local_priority, p.remote_priority),
            Role::Controlled => pair_priority(p.remote_priority, p.local_priority),
        }
    }

    /// The best pair (by priority) satisfying `f`.
    fn best(&self, f: impl Fn(&Pair) -> bool) -> Option<usize> {
        (0..self.pairs.len())
            .filter(|&i| f(&self.pairs[i]))
            .max_by_key(|&i| self.priority(&self.pairs[i]))
    }

    /// Feeds a received STUN datagram.
    pub fn handle_receive(&mut self, now: Instant, r: Receive<'_>) -> Result<(), IceError> {
        let msg = parse(r.contents)?;
        if msg.method() != Method::BINDING {
            return Err(IceError::Ignored);
        }
        match msg.class() {
            Class::Request => self.handle_request(now, r, &msg),
            Class::SuccessResponse | Class::ErrorResponse => self.handle_response(now, r, &msg),
            Class::Indication => Err(IceError::Ignored),
        }
    }

    fn send(&mut self, source: SocketAddr, destination: SocketAddr, contents: Vec<u8>) {
        queue(
            &mut self.transmits,
            Transmit {
                source,
                destination,
                contents,
            },
        );
    }

    fn handle_request(
        &mut self,
        now: Instant,
        r: Receive<'_>,
        msg: &crate::stun::Message<'_>,
    ) -> Result<(), IceError> {
        let Some(local_prio) = self
            .local_candidates
            .iter()
            .find(|c| c.addr == r.destination)
            .map(|c| c.priority)
        else {
            return Err(IceError::UnknownDestination);
        };
        let req = match authenticate_request(msg, &self.local, self.remote.as_ref()) {
            Ok(req) => req,
            Err((e, response)) => {
                if let Some(contents) = response {
                    self.send(r.destination, r.source, contents);
                }
                return Err(e);
            }
        };
        // §7.3.1.1 role conflicts.
        let conflict = match (self.role, req.controlling, req.controlled) {
            (Role::Controlling, Some(t), _) => Some((t, Role::Controlled)),
            (Role::Controlled, _, Some(t)) => Some((t, Role::Controlling)),
            _ => None,
        };
        if let Some((theirs, other_role)) = conflict {
            let we_win = self.tie_breaker >= theirs;
            // Controlling wins ties by keeping its role; controlled wins by switching.
            let keep = (self.role == Role::Controlling) == we_win;
            if keep {
                let resp = error_response(
                    req.tid,
                    ErrorCode::ROLE_CONFLICT,
                    Some(self.local.pwd.as_bytes()),
                    &[],
                );
                self.send(r.destination, r.source, resp);
                return Err(IceError::RoleConflict);
            }
            self.role = other_role;
        }
        let resp = success_response(req.tid, r.source, &self.local.pwd);
        self.send(r.destination, r.source, resp);

        // §7.3.1.3–4: find or learn the pair, then a triggered check.
        let idx = match self
            .pairs
            .iter()
            .position(|p| p.local == r.destination && p.remote == r.source)
        {
            Some(i) => i,
            None => {
                if self.pairs.len() >= MAX_PAIRS || self.remote_candidates.len() >= MAX_REMOTE {
                    return Err(IceError::TooManyPairs);
                }
                let remote_f = super::candidate::ip_foundation(r.source.ip());
                let local_f = self
                    .local_candidates
                    .iter()
                    .find(|c| c.addr == r.destination)
                    .map_or(0, |c| crate::stun::crc32(c.foundation.as_bytes()));
                let foundation =
                    (u64::from(local_f) << 32) | u64::from(crate::stun::crc32(remote_f.as_bytes()));
                self.remote_candidates.push(Candidate {
                    foundation: remote_f,
                    component: 1,
                    priority: req.priority,
                    addr: r.source,
                    kind: CandidateKind::PeerReflexive,
                });
                self.pairs.push(Pair {
                    local: r.destination,
                    remote: r.source,
                    local_priority: local_prio,
                    remote_priority: req.priority,
                    foundation,
                    state: PairState::Waiting,
                    nominated: false,
                    peer_nominated: false,
                });
                self.pairs.len() - 1
            }
        };
        if self.role == Role::Controlled && req.use_candidate {
            self.pairs[idx].peer_nominated = true;
        }
        match self.pairs[idx].state {
            PairState::Frozen | PairState::Waiting | PairState::Failed => {
                self.pairs[idx].state = PairState::Waiting;
                if !self.triggered.iter().any(|(i, _)| *i == idx) {
                    let nominate = self.nominates_every_check();
                    self.triggered.push_back((idx, nominate));
                }
                self.checks_pending = true;
            }
            PairState::Succeeded => {
                if self.pairs[idx].peer_nominated {
                    self.pairs[idx].nominated = true;
                    self.update_selection(now);
                }
            }
            PairState::InProgress => {}
        }
        Ok(())
    }

    fn nominates_every_check(&self) -> bool {
        self.role == Role::Controlling && self.config.nomination == Nomination::Aggressive
    }

    fn handle_response(
        &mut self,
        now: Instant,
        r: Receive<'_>,
        msg: &crate::stun::Message<'_>,
    ) -> Result<(), IceError> {
        let tid = msg.transaction_id();
        let Some(ti) = self.transactions.iter().position(|t| t.tid == tid) else {
            return Err(IceError::UnmatchedResponse);
        };
        let Some(remote) = &self.remote else {
            return Err(IceError::UnmatchedResponse);
        };
        // §7.2.5.1: responses are authenticated with the peer's password; others dropped.
        if msg.verify_integrity(remote.pwd.as_bytes()).is_err() {
            return Err(IceError::UnmatchedResponse);
        }
        let t = self.transactions.swap_remove(ti);
        let pi = t.pair;
        let (plocal, premote) = (self.pairs[pi].local, self.pairs[pi].remote);
        if r.source != premote || r.destination != plocal {
            // §7.2.5.2.1: non-symmetric addresses fail the pair.
            if t.purpose != Purpose::Consent {
                self.pairs[pi].state = PairState::Failed;
            }
            return Ok(());
        }
        if msg.class() == Class::ErrorResponse {
            if msg.error_code().map(|e| e.code) == Some(487) && t.purpose != Purpose::Consent {
                // §7.2.5.1: switch role and check the pair again.
                self.role = match self.role {
                    Role::Controlling => Role::Controlled,
                    Role::Controlled => Role::Controlling,
                };
                self.pairs[pi].state = PairState::Waiting;
                let nominate = self.nominates_every_check();
                self.triggered.push_back((pi, nominate));
                self.checks_pending = true;
                return Err(IceError::RoleConflict);
            }
            if t.purpose != Purpose::Consent {
                self.pairs[pi].state = PairState::Failed;
            }
            return Ok(());
        }
        // Success.
        let foundation = self.pairs[pi].foundation;
        self.pairs[pi].state = PairState::Succeeded;
        for p in &mut self.pairs {
            if p.foundation == foundation && p.state == PairState::Frozen {
                p.state = PairState::Waiting;
                self.checks_pending = true;
            }
        }
        if self.selected == Some(pi) {
            self.consent_at = now;
            if self.state == IceState::Disconnected {
                self.state = IceState::Connected;
                queue_event(
                    &mut self.events,
                    IceEvent::Connected {
                        local: plocal,
                        remote: premote,
                    },
                );
            }
        }
        match (self.role, t.purpose) {
            (Role::Controlling, Purpose::Check { nominate: true }) => {
                self.pairs[pi].nominated = true;
            }
            (Role::Controlled, _) if self.pairs[pi].peer_nominated => {
                self.pairs[pi].nominated = true;
            }
            _ => {}
        }
        self.first_success_at.get_or_insert(now);
        self.update_selection(now);
        self.maybe_nominate(now);
        Ok(())
    }

    /// Selects the best nominated, succeeded pair.
    fn update_selection(&mut self, now: Instant) {
        let Some(best) = self.best(|p| p.nominated && p.state == PairState::Succeeded) else {
            return;
        };
        if self.selected == Some(best) {
            return;
        }
        let (local, remote) = (self.pairs[best].local, self.pairs[best].remote);
        let first = self.selected.is_none();
        self.selected = Some(best);
        self.consent_at = now;
        if first {
            let jitter = self.consent_jitter();
            self.next_consent_at = Some(now + jitter);
        }
        let event = if first || self.state != IceState::Connected {
            IceEvent::Connected { local, remote }
        } else {
            IceEvent::SelectedPairChanged { local, remote }
        };
        self.state = IceState::Connected;
        queue_event(&mut self.events, event);
    }

    /// Regular nomination: nominate the best valid pair once nothing better can come, or
    /// once the nomination delay after the first success has passed.
    fn maybe_nominate(&mut self, now: Instant) {
        if self.role != Role::Controlling
            || self.config.nomination != Nomination::Regular
            || self.pairs.iter().any(|p| p.nominated)
            || self
                .transactions
                .iter()
                .any(|t| t.purpose == Purpose::Check { nominate: true })
            || self.triggered.iter().any(|(_, n)| *n)
        {
            return;
        }
        let Some(best) = self.best(|p| p.state == PairState::Succeeded) else {
            return;
        };
        let best_prio = self.priority(&self.pairs[best]);
        let better_pending = self.pairs.iter().any(|p| {
            matches!(
                p.state,
                PairState::Frozen | PairState::Waiting | PairState::InProgress
            ) && self.priority(p) > best_prio
        });
        let waited = self
            .first_success_at
            .is_some_and(|t| now >= t + self.config.nomination_delay);
        if !better_pending || waited {
            self.triggered.push_front((best, true));
            self.checks_pending = true;
        }
    }

    fn consent_jitter(&mut self) -> Duration {
        // RFC 7675 §5.1: uniformly random in 0.8–1.2 times the interval.
        let base = u64::try_from(self.config.consent_interval.as_micros()).unwrap_or(u64::MAX / 2);
        let span = base / 10 * 4;
        Duration::from_micros(base / 10 * 8 + self.rng.below(span.saturating_add(1)))
    }

    /// Builds and sends a check on pair `pi`.
    fn send_check(&mut self, now: Instant, pi: usize, purpose: Purpose) {
        let Some(remote) = &self.remote else { return };
        let tid = TransactionId::random(&mut self.rng);
        let pair = &self.pairs[pi];
        let nominate = match purpose {
            Purpose::Check { nominate } => nominate,
            // Keep nominating on consent checks: a lite peer follows a NAT rebinding to the
            // address its nominated checks come from.
            Purpose::Consent => {
                self.config.nominate_in_consent_checks
                    && self.role == Role::Controlling
                    && pair.nominated
            }
        };
        // §7.1.1: PRIORITY is the priority of a peer-reflexive candidate of this base.
        let local_pref = ((pair.local_priority >> 8) & 0xFFFF) as u16;
        let prio = candidate_priority(CandidateKind::PeerReflexive, local_pref, 1);
        let mut req = Vec::with_capacity(128);
        let mut b = MessageBuilder::new_vec(&mut req, MessageType::BINDING_REQUEST, tid);
        let username = alloc::format!("{}:{}", remote.ufrag, self.local.ufrag);
        // Invariant: a Vec target only fails past 64 KiB; credentials are at most 256 bytes
        // each (Credentials::new) or generated, so USERNAME stays under 513 bytes.
        let _ = b.add(&Attribute::Username(&username));
        let _ = b.add(&Attribute::Priority(prio));
        let _ = b.add(&match self.role {
            Role::Controlling => Attribute::IceControlling(self.tie_breaker),
            Role::Controlled => Attribute::IceControlled(self.tie_breaker),
        });
        if nominate {
            let _ = b.add(&Attribute::UseCandidate);
        }
        let _ = b.add_message_integrity(remote.pwd.as_bytes());
        let _ = b.add_fingerprint();
        let (local, remote_addr) = (pair.local, pair.remote);
        if purpose != Purpose::Consent {
            self.pairs[pi].state = PairState::InProgress;
        }
        let max_transmissions = match purpose {
            Purpose::Consent => CONSENT_TRANSMISSIONS,
            Purpose::Check { .. } => self.config.max_transmissions.max(1),
        };
        self.transactions.push(Transaction {
            tid,
            pair: pi,
            request: req.clone(),
            transmissions: 1,
            max_transmissions,
            rto: self.config.initial_rto,
            next_at: now + self.config.initial_rto,
            purpose: match purpose {
                Purpose::Check { .. } => Purpose::Check { nominate },
                Purpose::Consent => Purpose::Consent,
            },
        });
        self.send(local, remote_addr, req);
    }

    /// The next pair to check, if any: triggered first, then Waiting, then Frozen.
    fn next_check(&mut self) -> Option<(usize, bool)> {
        while let Some((i, nominate)) = self.triggered.pop_front() {
            if matches!(
                self.pairs[i].state,
                PairState::Waiting | PairState::Succeeded
            ) {
                return Some((i, nominate));
            }
        }
        if self.selected.is_some() {
            // §8.1.2: once a pair is selected, remaining checks are not needed.
            return None;
        }
        let nominate = self.nominates_every_check();
        if let Some(i) = self.best(|p| p.state == PairState::Waiting) {
            return Some((i, nominate));
        }
        let i = self.best(|p| p.state == PairState::Frozen)?;
        self.pairs[i].state = PairState::Waiting;
        Some((i, nominate))
    }

    /// Advances time: retransmissions, paced checks, nomination, consent, failure.
    pub fn handle_timeout(&mut self, now: Instant) {
        // Retransmit or expire transactions.
        let mut i = 0;
        while i < self.transactions.len() {
            let t = &mut self.transactions[i];
            if now < t.next_at {
                i += 1;
                continue;
            }
            if t.transmissions < t.max_transmissions {
                t.transmissions += 1;
                t.rto = (t.rto * 2).min(self.config.max_rto);
                t.next_at = now + t.rto;
                let (pi, req) = (t.pair, t.request.clone());
                let (l, r) = (self.pairs[pi].local, self.pairs[pi].remote);
                self.send(l, r, req);
                i += 1;
            } else {
                let t = self.transactions.swap_remove(i);
                if t.purpose != Purpose::Consent
                    && self.pairs[t.pair].state == PairState::InProgress
                {
                    self.pairs[t.pair].state = PairState::Failed;
                }
            }
        }
        self.maybe_nominate(now);
        // One new check per Ta.
        let paced = self.last_check_at.is_none_or(|t| now >= t + self.config.ta);
        if self.remote.is_some() && self.checks_pending && paced {
            match self.next_check() {
                Some((pi, nominate)) => {
                    self.send_check(now, pi, Purpose::Check { nominate });
                    self.last_check_at = Some(now);
                }
                None => self.checks_pending = false,
            }
        }
        // Consent freshness.
        if let (Some(sel), Some(at)) = (self.selected, self.next_consent_at)
            && now >= at
        {
            self.send_check(now, sel, Purpose::Consent);
            let jitter = self.consent_jitter();
            self.next_consent_at = Some(now + jitter);
        }
        if self.state == IceState::Connected
            && let Some(sel) = self.selected
            && now >= self.consent_at + self.config.consent_timeout
        {
            self.state = IceState::Disconnected;
            let remote = self.pairs[sel].remote;
            queue_event(&mut self.events, IceEvent::ConsentLost { remote });
        }
        // Failure: every pair failed and nothing is left to try.
        if self.state == IceState::Checking
            && !self.pairs.is_empty()
            && self.pairs.iter().all(|p| p.state == PairState::Failed)
            && self.transactions.is_empty()
            && self.triggered.is_empty()
        {
            self.state = IceState::Failed;
            queue_event(&mut self.events, IceEvent::Failed);
        }
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<IceEvent> {
        self.events.pop_front()
    }

    /// When to call `handle_timeout` next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut consider = |t: Instant| next = Some(next.map_or(t, |n| n.min(t)));
        if self.remote.is_some() && self.checks_pending && self.state != IceState::Failed {
            consider(
                self.last_check_at
                    .map_or(Instant::ZERO, |t| t + self.config.ta),
            );
        }
        for t in &self.transactions {
            consider(t.next_at);
        }
        if self.selected.is_some() {
            if let Some(t) = self.next_consent_at {
                consider(t);
            }
            if self.state == IceState::Connected {
                consider(self.consent_at + self.config.consent_timeout);
            }
        } else if let Some(t) = self.nomination_deadline() {
            consider(t);
        }
        next
    }

    /// When regular nomination stops waiting for better pairs, if it is waiting.
    fn nomination_deadline(&self) -> Option<Instant> {
        let waiting = self.role == Role::Controlling
            && self.config.nomination == Nomination::Regular
            && !self.pairs.iter().any(|p| p.nominated)
            && !self
                .transactions
                .iter()
                .any(|t| t.purpose == Purpose::Check { nominate: true })
            && !self.triggered.iter().any(|(_, n)| *n)
            && self.pairs.iter().any(|p| p.state == PairState::Succeeded);
        if waiting {
            self.first_success_at
                .map(|t| t + self.config.nomination_delay)
        } else {
            None
        }
    }
}
