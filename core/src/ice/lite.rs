//! The ICE-lite agent (RFC 8445 §2.5, §6.1.1, §7.3; RFC 7675 consent).
//!
//! A lite agent has host candidates only, never sends checks, and is always controlled. It
//! answers the peer's Binding requests and learns from them:
//! - every authenticated check validates its pair (local address, source address);
//! - a check with USE-CANDIDATE nominates its pair, which becomes the selected pair: the
//!   media target moves there ([`IceEvent::Connected`] the first time,
//!   [`IceEvent::SelectedPairChanged`] after). Media goes only to an address that passed a
//!   check, so an attacker cannot redirect it by spoofing unauthenticated packets;
//! - NAT rebinding without renomination (peers that do not repeat USE-CANDIDATE, such as
//!   Firefox): if the selected pair has had no authenticated check for
//!   [`IceLiteAgent::set_rebind_after`] (8 s by default) and a check arrives from another
//!   address on the same local address, that validated pair becomes the selected one. After
//!   consent was lost, any authenticated check re-selects its pair;
//! - consent (RFC 7675 §4): having no checks of its own, the lite agent counts the peer's
//!   authenticated checks on the selected pair as consent. 30 s without one:
//!   [`IceEvent::ConsentLost`], and [`IceLiteAgent::may_send_to`] returns `None` until a
//!   check arrives again ([`IceEvent::Connected`] re-establishes).
//!
//! - ICE restart (RFC 8445 §9): [`IceLiteAgent::restart`] swaps both sides' credentials;
//!   checks with the old ones get 401 while media stays on the selected pair until a check
//!   with the new ones nominates a pair.
//!
//! Inputs: `handle_receive(now, Receive)` for STUN datagrams (see [`super::classify`]),
//! `handle_timeout(now)`. Outputs: `poll_transmit` (responses), `poll_event`,
//! `poll_timeout`.

use super::{
    CONSENT_TIMEOUT, Candidate, Credentials, IceError, IceEvent, IceState, Receive, Transmit,
    authenticate_request, error_response, parse, queue, queue_event, success_response,
};
use crate::rand::Rng;
use crate::stun::{Class, ErrorCode, Method};
use crate::time::Instant;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::net::SocketAddr;
use core::time::Duration;

/// Most remote addresses remembered as validated (older ones are forgotten first).
const MAX_VALIDATED: usize = 16;

/// Default silence on the selected pair after which a check from elsewhere moves it.
const DEFAULT_REBIND_AFTER: Duration = Duration::from_secs(8);

/// A pair that passed a check.
#[derive(Debug, Clone, Copy)]
struct Validated {
    local: SocketAddr,
    remote: SocketAddr,
    last_check: Instant,
}

/// The ICE-lite agent of one WebRTC leg (one component: rtcp-mux and BUNDLE assumed).
#[derive(Debug)]
pub struct IceLiteAgent {
    local: Credentials,
    remote: Option<Credentials>,
    candidates: Vec<Candidate>,
    validated: Vec<Validated>,
    /// The selected (nominated) pair: (local, remote).
    selected: Option<(SocketAddr, SocketAddr)>,
    /// Last authenticated check on the selected pair.
    consent_at: Instant,
    state: IceState,
    consent_timeout: Duration,
    rebind_after: Option<Duration>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<IceEvent>,
}

impl IceLiteAgent {
    /// An agent with random credentials and one host candidate per address in
    /// `host_addrs` (the first is preferred).
    pub fn new<R: Rng + ?Sized>(rng: &mut R, host_addrs: &[SocketAddr]) -> Self {
        Self::with_credentials(Credentials::random(rng), host_addrs)
    }

    /// An agent with the given local credentials.
    pub fn with_credentials(local: Credentials, host_addrs: &[SocketAddr]) -> Self {
        let candidates = host_addrs
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let pref = u16::MAX.saturating_sub(u16::try_from(i).unwrap_or(u16::MAX));
                Candidate::host(*a, pref)
            })
            .collect();
        IceLiteAgent {
            local,
            remote: None,
            candidates,
            validated: Vec::new(),
            selected: None,
            consent_at: Instant::ZERO,
            state: IceState::Checking,
            consent_timeout: CONSENT_TIMEOUT,
            rebind_after: Some(DEFAULT_REBIND_AFTER),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Changes the consent timeout (default 30 s, RFC 7675 §5.1). For tests and
    /// deployments that want to detect a dead peer sooner.
    pub fn set_consent_timeout(&mut self, timeout: Duration) {
        self.consent_timeout = timeout;
    }

    /// How long the selected pair must go without an authenticated check before a check
    /// without USE-CANDIDATE from another address takes over (`None`: only USE-CANDIDATE
    /// moves the selection). Default 8 s: browsers check the selected pair every 2.5–5 s.
    pub fn set_rebind_after(&mut self, after: Option<Duration>) {
        self.rebind_after = after;
    }

    /// The local credentials, for `a=ice-ufrag` / `a=ice-pwd`.
    pub fn local_credentials(&self) -> &Credentials {
        &self.local
    }

    /// Sets the peer's credentials from its SDP. Until then, checks are authenticated by
    /// the local half of USERNAME and the local password only (RFC 8445 §7.3).
    pub fn set_remote_credentials(&mut self, remote: Credentials) {
        self.remote = Some(remote);
    }

    /// ICE restart (RFC 8445 §9, RFC 8839 §4.4.1.1): the offer/answer exchange that
    /// restarted ICE gave both sides new credentials — `local` (freshly drawn, for our
    /// answer or offer) and the peer's new `remote` ones. From now on a check is
    /// authenticated only with the new credentials: one with the old ufrag or password gets
    /// 401 (RFC 8445 §7.3, RFC 8489 §9.1.3).
    ///
    /// The pairs validated under the old credentials are forgotten, except the selected
    /// one: media keeps flowing on it (both ways, and consent keeps its clock) until a check
    /// with the new credentials nominates a pair (RFC 8445 §9: the previously selected pair
    /// stays in use until ICE completes again). A check with the new credentials on the
    /// selected pair refreshes consent as before.
    pub fn restart(&mut self, local: Credentials, remote: Credentials) {
        self.local = local;
        self.remote = Some(remote);
        let selected = self.selected;
        self.validated
            .retain(|v| Some((v.local, v.remote)) == selected);
    }

    /// The peer's credentials, once set.
    pub fn remote_credentials(&self) -> Option<&Credentials> {
        self.remote.as_ref()
    }

    /// The host candidates, for `a=candidate` lines (the session level of the SDP also
    /// carries `a=ice-lite`, RFC 8839 §5.3).
    pub fn local_candidates(&self) -> &[Candidate] {
        &self.candidates
    }

    /// The media-level SDP attribute values (without `a=`): `ice-ufrag:…`, `ice-pwd:…`,
    /// one `candidate:…` per host candidate, then `end-of-candidates` (RFC 8839 §5).
    pub fn sdp_attributes(&self) -> Vec<alloc::string::String> {
        let mut v = Vec::with_capacity(self.candidates.len() + 3);
        v.push(alloc::format!("ice-ufrag:{}", self.local.ufrag));
        v.push(alloc::format!("ice-pwd:{}", self.local.pwd));
        v.extend(self.candidates.iter().map(Candidate::to_sdp_value));
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
            IceState::Connected => self.selected.map(|(_, r)| r),
            _ => None,
        }
    }

    /// The selected pair (local, remote), even while consent is lost.
    pub fn selected_pair(&self) -> Option<(SocketAddr, SocketAddr)> {
        self.selected
    }

    /// Whether `remote` sent an authenticated check to `local`: media from any other
    /// address is to be dropped.
    pub fn is_validated(&self, local: SocketAddr, remote: SocketAddr) -> bool {
        self.validated
            .iter()
            .any(|v| v.local == local && v.remote == remote)
    }

    /// Whether a STUN datagram is meant for this agent: its USERNAME starts with our
    /// ufrag and a colon. Lets a driver route checks on a shared port (like str0m's
    /// `accepts`); it does not authenticate.
    pub fn accepts(&self, contents: &[u8]) -> bool {
        crate::stun::Message::parse(contents)
            .ok()
            .and_then(|m| m.username())
            .and_then(|u| u.split_once(':'))
            .is_some_and(|(ours, _)| ours == self.local.ufrag)
    }

    /// Feeds a received STUN datagram. `Err` tells why it was rejected or ignored (an
    /// error response may still have been queued, as RFC 8489 §9.1.3 asks).
    pub fn handle_receive(&mut self, now: Instant, r: Receive<'_>) -> Result<(), IceError> {
        let msg = parse(r.contents)?;
        if msg.method() != Method::BINDING || msg.class() != Class::Request {
            // Indications carry no authentication (no consent, RFC 7675 §5.1); a lite
            // agent sends no requests, so responses are unmatched.
            return Err(IceError::Ignored);
        }
        if !self.candidates.iter().any(|c| c.addr == r.destination) {
            return Err(IceError::UnknownDestination);
        }
        let req = match authenticate_request(&msg, &self.local, self.remote.as_ref()) {
            Ok(req) => req,
            Err((e, response)) => {
                if let Some(contents) = response {
                    self.send(r, contents);
                }
                return Err(e);
            }
        };
        if let Some(_tie_breaker) = req.controlled {
            // RFC 8445 §6.1.1, §7.3.1.1: a lite agent is always controlled; the full peer
            // also claiming controlled must switch, which a 487 makes it do.
            let resp = error_response(
                req.tid,
                ErrorCode::ROLE_CONFLICT,
                Some(self.local.pwd.as_bytes()),
                &[],
            );
            self.send(r, resp);
            return Err(IceError::RoleConflict);
        }
        let resp = success_response(req.tid, r.source, &self.local.pwd);
        self.send(r, resp);
        self.validate(now, r.destination, r.source);
        let pair = (r.destination, r.source);
        if self.selected == Some(pair) {
            self.consent_at = now;
            if self.state != IceState::Connected {
                self.state = IceState::Connected;
                queue_event(
                    &mut self.events,
                    IceEvent::Connected {
                        local: pair.0,
                        remote: pair.1,
                    },
                );
            }
            return Ok(());
        }
        let rebind = match self.selected {
            // Consent was lost: whoever passes a check now gets the media.
            Some(_) if self.state != IceState::Connected => true,
            Some((local, _)) => {
                local == pair.0
                    && self
                        .rebind_after
                        .is_some_and(|after| now >= self.consent_at + after)
            }
            None => false,
        };
        if req.use_candidate || rebind {
            let was = self.selected.replace(pair);
            self.consent_at = now;
            let event = if was.is_none() || self.state != IceState::Connected {
                IceEvent::Connected {
                    local: pair.0,
                    remote: pair.1,
                }
            } else {
                IceEvent::SelectedPairChanged {
                    local: pair.0,
                    remote: pair.1,
                }
            };
            self.state = IceState::Connected;
            queue_event(&mut self.events, event);
        }
        Ok(())
    }

    fn send(&mut self, r: Receive<'_>, contents: Vec<u8>) {
        queue(
            &mut self.transmits,
            Transmit {
                source: r.destination,
                destination: r.source,
                contents,
            },
        );
    }

    fn validate(&mut self, now: Instant, local: SocketAddr, remote: SocketAddr) {
        if let Some(v) = self
            .validated
            .iter_mut()
            .find(|v| v.local == local && v.remote == remote)
        {
            v.last_check = now;
            return;
        }
        if self.validated.len() >= MAX_VALIDATED {
            // Forget the least recently checked pair that is not selected.
            let selected = self.selected;
            if let Some(i) = self
                .validated
                .iter()
                .enumerate()
                .filter(|(_, v)| Some((v.local, v.remote)) != selected)
                .min_by_key(|(_, v)| v.last_check)
                .map(|(i, _)| i)
            {
                self.validated.swap_remove(i);
            }
        }
        self.validated.push(Validated {
            local,
            remote,
            last_check: now,
        });
    }

    /// Advances time: declares consent lost when its timeout passes.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == IceState::Connected
            && let Some((_, remote)) = self.selected
            && now >= self.consent_at + self.consent_timeout
        {
            self.state = IceState::Disconnected;
            queue_event(&mut self.events, IceEvent::ConsentLost { remote });
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
        (self.state == IceState::Connected).then(|| self.consent_at + self.consent_timeout)
    }
}
