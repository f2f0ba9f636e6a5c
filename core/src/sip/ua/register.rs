//! Registration (RFC 3261 §10) with digest authentication (§22, via
//! [`crate::sip::auth::DigestClient`]), refresh before expiry with jitter, un-registration,
//! RFC 5626 Outbound Contact parameters and CRLF keep-alives; and the server-side hooks: a
//! minimal registrar and digest challenges with [`crate::sip::auth::DigestServer`].
//!
//! Inputs: `register`/`unregister` commands, REGISTER responses, timeouts, keep-alive
//! CRLFs. Outputs: REGISTER requests, pongs/pings, [`Event::Registration`].

use crate::sip::text::{cat, dec};
use alloc::string::{String, ToString};

use super::call::UaError;
use super::layer::Owner;
use super::msg::{Method, SipMsg, addr_uri, param};
use super::{Event, Received, RegistrationState, UserAgent};
use crate::rand::Rng;
#[cfg(feature = "sip-server")]
use crate::sip::auth::DigestRequest;
use crate::sip::auth::{ChallengeKind, DigestClient};
use crate::sip::transaction::TxKey;
use crate::time::{Duration, Instant};

/// The most challenge rounds one registration attempt goes through (no loops).
const MAX_AUTH_ROUNDS: u8 = 3;

/// Client registration state.
#[derive(Debug, Default)]
pub(crate) struct Registration {
    pub call_id: Option<String>,
    pub cseq: u32,
    pub refresh_at: Option<Instant>,
    pub key: Option<TxKey>,
    pub expires: u32,
    pub unregistering: bool,
    pub auth_rounds: u8,
    pub interval_retry: bool,
    pub registered: bool,
}

impl<R: Rng> UserAgent<R> {
    /// Registers the AOR with the configured registrar (REGISTER with our Contact and
    /// `Expires`, answering digest challenges). Refreshes happen automatically at 50–90 %
    /// of the granted lifetime.
    pub fn register(&mut self, now: Instant) -> Result<(), UaError> {
        self.now = now;
        self.registration.unregistering = false;
        self.registration.expires = self.cfg.register_expires;
        self.registration.auth_rounds = 0;
        self.registration.interval_retry = false;
        self.send_register(now)
    }

    /// Removes our binding (REGISTER with `Expires: 0`) and stops refreshing.
    pub fn unregister(&mut self, now: Instant) -> Result<(), UaError> {
        self.now = now;
        self.registration.unregistering = true;
        self.registration.refresh_at = None;
        self.registration.expires = 0;
        self.registration.auth_rounds = 0;
        self.keepalive_at = None;
        self.send_register(now)
    }

    fn registrar_uri(&self) -> String {
        match &self.cfg.registrar_uri {
            Some(u) => u.clone(),
            None => {
                cat!("sip:", self.cfg.aor_domain())
            }
        }
    }

    fn send_register(&mut self, now: Instant) -> Result<(), UaError> {
        if let Some(k) = self.registration.key.take() {
            self.remove_client(&k);
        }
        let uri = self.registrar_uri();
        let dest = self.destination(&uri).ok_or(UaError::NoRoute)?;
        if self.registration.cseq == 0 {
            self.registration.cseq = self.first_cseq();
        } else {
            self.registration.cseq += 1;
        }
        let call_id = self.registration.call_id.clone();
        let aor = self.cfg.aor.clone();
        let cseq = self.registration.cseq;
        let (mut req, _) = self.new_request(Method::Register, &uri, &aor, call_id.as_deref(), cseq);
        if self.registration.call_id.is_none() {
            self.registration.call_id = req.call_id().map(ToString::to_string);
        }
        req.push("Contact", self.contact());
        req.push("Expires", dec(self.registration.expires));
        if self.cfg.instance_id.is_some() {
            req.push("Supported", "outbound, path");
        }
        self.authorize(&mut req);
        self.registration.key = self.send_request(now, req, dest, Owner::Register);
        Ok(())
    }

    /// Adds credentials for every realm challenged so far (nc continues across requests).
    fn authorize(&mut self, req: &mut SipMsg) -> bool {
        let super::msg::StartLine::Request { method, uri } = &req.start else {
            return false;
        };
        match self
            .digest
            .answers(&mut self.rng, method.as_str(), uri, &req.body)
        {
            Ok(mut creds) => {
                // Replace the old credentials of a kind before adding its first new one, not
                // per credential: that would drop the realm added just before when two
                // realms share a header kind (a chain of proxies, RFC 3261 §22.3).
                let mut replaced = 0u8;
                // By reference, taking each value out: no by-value iterator (and its drop
                // guard) for the browser build to ship.
                for (kind, value) in &mut creds {
                    let name = kind.credentials_header();
                    if replaced & 1 << *kind as u8 == 0 {
                        replaced |= 1 << *kind as u8;
                        req.remove(name);
                    }
                    req.push(name, core::mem::take(value));
                }
                true
            }
            Err(_) => false,
        }
    }

    /// Feeds the challenges of a 401/407 to the digest client and adds credentials to
    /// `req`; `false` if they cannot be answered (wrong password, unsupported, …).
    pub(crate) fn add_authorization(&mut self, req: &mut SipMsg, challenge: &SipMsg) -> bool {
        // `req` is a copy of the challenged request: judge the challenge against the
        // credentials it carried (none for a first INVITE after a REGISTER used the realm's
        // nonce), never against what other requests did with the nonce.
        take_challenge(&mut self.digest, &self.cfg.password, challenge, Some(req))
            && self.authorize(req)
    }

    /// The request of client transaction `key` made ready to be sent again in a new
    /// transaction (RFC 3261 §8.1.3.5, §22.2, RFC 4028 §7.4), and where it went: without
    /// Via (sending adds one with a new branch) and with `CSeq: cseq METHOD` (`None`: the
    /// sent number + 1).
    pub(crate) fn resend_copy(
        &self,
        key: &TxKey,
        cseq: Option<u32>,
    ) -> Option<(SipMsg, core::net::SocketAddr)> {
        let e = self.clients.get(key)?;
        let mut req = (*e.req).clone();
        // Our own request: its CSeq names its method.
        let (sent, method) = req.cseq()?;
        let n = cseq.unwrap_or(sent.saturating_add(1));
        req.remove("Via");
        req.set("CSeq", cat!(n, ' ', method.as_str()));
        Some((req, e.dest))
    }

    /// A 401/407 to one of our requests (RFC 3261 §22.2, §14.1): one step for every owner.
    /// Resends the request of client transaction `key` with credentials answering
    /// `challenge` in a new transaction of the same owner and re-points whatever kept
    /// `key`: a call's session refresh or offer (re-INVITE/UPDATE: same dialog, the
    /// dialog's next CSeq, §12.2.1.1), the call's INVITE while calling (CSeq + 1, at most
    /// [`MAX_INVITE_AUTH_ROUNDS`] rounds; when it cannot be answered the call ends as
    /// rejected, without a transfer NOTIFY), a MESSAGE, or a BYE sent after its call ended
    /// (CSeq + 1). `true` when the response is dealt with; `false` leaves it to the owner
    /// as a failure: the registration (which builds a new REGISTER), requests never
    /// resent (REFER, NOTIFY, INFO…), and challenges that cannot be answered — no
    /// password, unsupported, or credentials refused ([`DigestClient`]'s rejection and
    /// stale-loop rules bound the retries).
    ///
    /// [`MAX_INVITE_AUTH_ROUNDS`]: super::call::MAX_INVITE_AUTH_ROUNDS
    /// [`DigestClient`]: crate::sip::auth::DigestClient
    pub(crate) fn auth_retry(
        &mut self,
        now: Instant,
        owner: Owner,
        key: &TxKey,
        challenge: &SipMsg,
    ) -> bool {
        // What kept `key` in its call: the session refresh, the offer, or the INVITE.
        #[derive(PartialEq)]
        enum Kept {
            Refresh,
            Offer,
            Invite,
        }
        let mut kept = None;
        let mut seq = None;
        match owner {
            Owner::Call(id) => {
                let Some(c) = self.calls.get(&id) else {
                    return false;
                };
                let offer = c.our_offer.as_ref() == Some(key);
                if offer || c.ext.refresh_key.as_ref() == Some(key) {
                    let Some(d) = &c.dialog else { return false };
                    seq = Some(d.local_seq.wrapping_add(1) & 0x7fff_ffff);
                    kept = Some(if offer { Kept::Offer } else { Kept::Refresh });
                } else if &c.invite_key == key
                    && c.auth_rounds < super::call::MAX_INVITE_AUTH_ROUNDS
                    && !self.cfg.password.is_empty()
                    && c.state == super::call::CallState::Calling
                {
                    kept = Some(Kept::Invite);
                } else {
                    return false;
                }
            }
            Owner::Message(_) => {}
            Owner::Nobody if matches!(challenge.cseq(), Some((_, Method::Bye))) => {}
            Owner::Register | Owner::Nobody => return false,
        }
        let mut retry = None;
        if let Some((mut req, dest)) = self.resend_copy(key, seq)
            && self.add_authorization(&mut req, challenge)
        {
            retry = self.send_request(now, req, dest, owner);
        }
        let Owner::Call(id) = owner else {
            return retry.is_some();
        };
        let Some(retry) = retry else {
            if kept == Some(Kept::Invite) {
                let code = challenge.code().unwrap_or(401);
                self.end_call(id, super::EndReason::Rejected(code));
                return true;
            }
            return false;
        };
        if kept == Some(Kept::Invite) {
            self.adopt_invite(id, retry);
            if let Some(c) = self.calls.get_mut(&id) {
                c.auth_rounds = c.auth_rounds.saturating_add(1);
            }
            return true;
        }
        if let Some(c) = self.calls.get_mut(&id) {
            if let (Some(d), Some(seq)) = (c.dialog.as_mut(), seq) {
                d.local_seq = seq;
            }
            if kept == Some(Kept::Offer) {
                c.our_offer = Some(retry);
            } else {
                c.ext.refresh_key = Some(retry);
            }
        }
        true
    }

    pub(crate) fn register_response(&mut self, now: Instant, key: &TxKey, resp: SipMsg) {
        if self.registration.key.as_ref() != Some(key) {
            return;
        }
        let Some(code) = resp.code() else { return };
        if code < 200 {
            return;
        }
        self.registration.key = None;
        // Whether to send a new REGISTER; failing that (or its sending), the registration
        // fails with this response's code.
        let again = match code {
            200..=299 => return self.registered(now, &resp),
            401 | 407 if self.registration.auth_rounds < MAX_AUTH_ROUNDS => {
                self.registration.auth_rounds += 1;
                // The REGISTER this answers (its transaction is still in the table).
                let sent = self.clients.get(key).map(|e| &*e.req);
                take_challenge(&mut self.digest, &self.cfg.password, &resp, sent)
            }
            423 if !self.registration.interval_retry => {
                // §10.2.8: retry with the registrar's Min-Expires.
                self.registration.interval_retry = true;
                let min = resp
                    .header("Min-Expires")
                    .and_then(|v| crate::sip::scan::parse_dec(v.trim_ascii()));
                match min {
                    Some(m) if m > self.registration.expires => {
                        self.registration.expires = m;
                        true
                    }
                    _ => false,
                }
            }
            _ => false,
        };
        if !again || self.send_register(now).is_err() {
            self.register_failed(now, code);
        }
    }

    fn registered(&mut self, now: Instant, resp: &SipMsg) {
        self.registration.auth_rounds = 0;
        if self.registration.unregistering {
            self.registration.registered = false;
            self.push_event(Event::Registration(RegistrationState::Unregistered));
            return;
        }
        let contact = self.contact();
        let ours = addr_uri(&contact);
        // Our binding among possibly several contacts (other devices of the AOR).
        let granted = resp
            .headers_named("Contact")
            .find(|c| addr_uri(c) == ours)
            .and_then(|c| param(c, "expires"))
            .and_then(crate::sip::scan::parse_dec::<u32>)
            .or_else(|| {
                resp.header("Expires")
                    .and_then(|e| crate::sip::scan::parse_dec(e.trim_ascii()))
            })
            .unwrap_or(self.registration.expires);
        if granted == 0 {
            self.registration.registered = false;
            self.push_event(Event::Registration(RegistrationState::Unregistered));
            return;
        }
        self.registration.registered = true;
        // Refresh at 50–90 % of the granted lifetime, jittered so that many clients do not
        // refresh together.
        let percent = 50 + self.rng.below(41);
        let refresh_ms = u64::from(granted) * 10 * percent;
        self.registration.refresh_at = Some(now + Duration::from_millis(refresh_ms));
        self.registration.expires = self.cfg.register_expires;
        if self.keepalive_at.is_none() {
            self.schedule_keepalive(now);
        }
        self.push_event(Event::Registration(RegistrationState::Registered {
            expires: granted,
        }));
    }

    pub(crate) fn register_failed(&mut self, _now: Instant, code: u16) {
        self.registration.key = None;
        self.registration.refresh_at = None;
        self.registration.registered = false;
        self.push_event(Event::Registration(RegistrationState::Failed { code }));
    }

    fn schedule_keepalive(&mut self, now: Instant) {
        if let Some(interval) = self.cfg.keepalive {
            // RFC 5626 §4.4.1: 80–100 % of the interval.
            let ms = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX / 2);
            let jittered = ms.saturating_mul(80 + self.rng.below(21)) / 100;
            self.keepalive_at = Some(now + Duration::from_millis(jittered));
        }
    }

    pub(crate) fn register_timeouts(&mut self, now: Instant) {
        if self.registration.refresh_at.is_some_and(|t| t <= now) {
            self.registration.refresh_at = None;
            self.registration.auth_rounds = 0;
            if self.send_register(now).is_err() {
                self.register_failed(now, 503);
            }
        }
        if self.pong_deadline.is_some_and(|t| t <= now) {
            // RFC 5626 §4.4.1: no pong within 10 s: the flow has failed. Report it and
            // register again to create a new flow.
            self.pong_deadline = None;
            self.push_event(Event::KeepaliveTimeout);
            if self.registration.registered && self.registration.key.is_none() {
                self.registration.auth_rounds = 0;
                if self.send_register(now).is_err() {
                    self.register_failed(now, 503);
                }
            }
        }
        if self.keepalive_at.is_some_and(|t| t <= now) {
            self.keepalive_at = None;
            if let Some(dest) = self.cfg.proxy {
                // RFC 5626 §4.4.1: double-CRLF ping; the server answers with a CRLF pong.
                self.transmit(dest, b"\r\n\r\n".to_vec());
                if self.pong_deadline.is_none() {
                    self.pong_deadline = Some(now + Duration::from_secs(10));
                }
            }
            self.schedule_keepalive(now);
        }
    }

    pub(crate) fn handle_keepalive(&mut self, rx: Received<'_>) {
        if rx.bytes == b"\r\n\r\n" {
            self.transmit(rx.source, b"\r\n".to_vec());
        } else if rx.bytes == b"\r\n" {
            self.pongs += 1;
            self.pong_deadline = None;
        }
    }

    /// How many CRLF pongs were received (RFC 5626 keep-alive health).
    pub fn keepalive_pongs(&self) -> u64 {
        self.pongs
    }

    /// Whether we hold a registration.
    pub fn is_registered(&self) -> bool {
        self.registration.registered
    }

    /// Server side: verifies digest credentials on `req`; `None` when authenticated (or no
    /// server is configured), else the challenge to send: 401 with `WWW-Authenticate`
    /// (credentials in `Authorization`), or with `proxy` 407 with `Proxy-Authenticate`
    /// (credentials in `Proxy-Authorization`, RFC 3261 §22.3).
    #[cfg(feature = "sip-server")]
    pub(crate) fn check_credentials(
        &mut self,
        now: Instant,
        req: &SipMsg,
        proxy: bool,
    ) -> Option<SipMsg> {
        let (code, credentials, challenge) = if proxy {
            (407, "Proxy-Authorization", "Proxy-Authenticate")
        } else {
            (401, "Authorization", "WWW-Authenticate")
        };
        let server = self.digest_server.as_mut()?;
        let method = req.method()?;
        let dreq = DigestRequest {
            method: method.as_str(),
            uri: req.uri(),
            body: &req.body,
        };
        let v = server.verify_any(
            now,
            &dreq,
            req.headers_named(credentials),
            &self.credential_store,
        );
        let stale = v.challenge_stale()?;
        let tag = self.random_token(10);
        let mut r = super::build::response(req, code, Some(&tag));
        let server = self.digest_server.as_ref()?;
        for c in server.challenge_values(now, &mut self.rng, stale) {
            r.push(challenge, c);
        }
        Some(r)
    }

    /// Registrar: stores or removes bindings of the To AOR (§10.3), after digest.
    #[cfg(feature = "sip-server")]
    pub(crate) fn registrar_request(&mut self, now: Instant, key: TxKey, req: &SipMsg) {
        if let Some(challenge) = self.check_credentials(now, req, false) {
            self.respond(now, &key, challenge);
            return;
        }
        let aor = addr_uri(req.header("To").unwrap_or("")).to_string();
        let default = req
            .header("Expires")
            .and_then(|e| crate::sip::scan::parse_dec::<u32>(e.trim_ascii()))
            .unwrap_or(3600);
        for c in req.headers_named("Contact") {
            if c.trim_ascii() == "*" {
                self.bindings.retain(|(a, _), _| *a != aor);
                continue;
            }
            let uri = addr_uri(c).to_string();
            let exp = param(c, "expires")
                .and_then(crate::sip::scan::parse_dec::<u32>)
                .unwrap_or(default)
                .min(86_400);
            if exp == 0 {
                self.bindings.remove(&(aor.clone(), uri));
            } else if self.bindings.len() < self.cfg.max_transactions {
                self.bindings.insert(
                    (aor.clone(), uri),
                    now + Duration::from_secs(u64::from(exp)),
                );
            }
        }
        self.bindings.retain(|_, exp| *exp > now);
        let tag = self.random_token(10);
        let mut r = super::build::response(req, 200, Some(&tag));
        let mine: alloc::vec::Vec<String> = self
            .bindings
            .iter()
            .filter(|((a, _), _)| *a == aor)
            .map(|((_, u), exp)| cat!('<', u, ">;expires=", (*exp - now).as_secs()))
            .collect();
        for c in mine {
            r.push("Contact", c);
        }
        self.respond(now, &key, r);
    }

    /// The registrar's current contacts for `aor` (server side; feature `sip-server`).
    #[cfg(feature = "sip-server")]
    pub fn bindings(&self, aor: &str) -> impl Iterator<Item = &str> {
        self.bindings
            .keys()
            .filter(move |(a, _)| a == aor)
            .map(|(_, u)| u.as_str())
    }
}

/// Feeds the challenges of a 401/407 to the digest client, judged against the credentials
/// of the same kind that `sent` (the challenged request) carried, or as answering the
/// latest credentials when the request is not known any more; `false` if they cannot be
/// answered (no password, wrong password, unsupported, …). A function of the parts it
/// uses: the challenged request can stay borrowed from the transaction table.
fn take_challenge(
    digest: &mut DigestClient,
    password: &str,
    challenge: &SipMsg,
    sent: Option<&SipMsg>,
) -> bool {
    let Some(kind) = challenge.code().and_then(ChallengeKind::from_status) else {
        return false;
    };
    if password.is_empty() {
        return false;
    }
    // The client's one non-generic body, not an instance of its generic front ends.
    let mut sent = sent.map(|r| r.headers_named(kind.credentials_header()));
    digest
        .challenge(
            kind,
            &mut challenge.headers_named(kind.challenge_header()),
            sent.as_mut().map(|s| s as &mut dyn Iterator<Item = &str>),
        )
        .is_ok()
}
