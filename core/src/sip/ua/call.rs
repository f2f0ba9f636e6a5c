//! Calls: the INVITE dialog usage as UAC and UAS (RFC 3261 §13–§15), CANCEL (§9), BYE
//! (§15), re-INVITE and UPDATE (§14, RFC 3311) with glare handling (§14.1), 2xx
//! retransmission by the UAS core until ACK (§13.3.1.4).
//!
//! Inputs: the application's commands and the responses/requests the transaction layer
//! routes here. Outputs: requests and responses through the transaction layer; [`Event`]s.

use crate::sip::text::dec;
use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::net::SocketAddr;

use super::build::{SUPPORTED, cancel_for, cseq_num, dialog_request, response};
use super::extensions::{Ext, MAX_EARLY_DIALOGS};
use super::layer::Owner;
use super::msg::{Method, SipMsg};
use super::{CallId, EndReason, Event, UserAgent};
use crate::rand::Rng;
use crate::sip::dialog::{Dialog, DialogState};
use crate::sip::transaction::TxKey;
use crate::time::{Duration, Instant};

/// The most digest challenges one initial INVITE answers (RFC 3261 §22.2–§22.3): a
/// `stale=true` challenge to our credentials, or a second proxy of a chain asking for its
/// own realm, earns another retry; a refusal ends the call at once (the digest client's
/// rejection rules), and this bound stops any other loop.
pub(crate) const MAX_INVITE_AUTH_ROUNDS: u8 = 3;

/// Why a command could not be carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UaError {
    /// No call with that handle.
    UnknownCall,
    /// The call is not in a state that allows the command (e.g. answer twice, hold before
    /// the call is up, a second offer while one is pending).
    InvalidState,
    /// The target URI has no IP-literal host and no proxy is configured.
    NoRoute,
    /// Too many calls or transactions.
    Busy,
}

impl fmt::Display for UaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UaError::UnknownCall => "unknown call",
            UaError::InvalidState => "command not allowed in the call's state",
            UaError::NoRoute => "no route to the target",
            UaError::Busy => "too many calls or transactions",
        })
    }
}

impl core::error::Error for UaError {}

/// Where a call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallState {
    /// UAC: INVITE sent, no final response.
    Calling,
    /// UAC: hung up before the answer; CANCEL sent or pending.
    Cancelling,
    /// UAS: INVITE received, the application has not answered.
    Incoming,
    /// UAS: 2xx sent, waiting for the ACK.
    Answering,
    /// The dialog is confirmed.
    Confirmed,
}

/// The TU's 2xx retransmission (§13.3.1.4): T1 doubling to T2, give up at 64·T1.
#[derive(Debug, Clone)]
pub(crate) struct Retx2xx {
    pub bytes: Vec<u8>,
    pub dest: SocketAddr,
    pub interval: Duration,
    pub next: Option<Instant>,
    pub give_up: Instant,
    pub cseq: u32,
}

/// What a [`Retx2xx`] asks for at a timeout.
pub(crate) enum RetxStep {
    /// Nothing due.
    Wait,
    /// 64·T1 passed without the acknowledgement.
    GiveUp,
    /// Send these bytes to this address again.
    Resend(SocketAddr, Vec<u8>),
}

impl Retx2xx {
    /// When it next needs attention: the next resend, or giving up.
    pub(crate) fn deadline(&self) -> Instant {
        self.next.map_or(self.give_up, |n| n.min(self.give_up))
    }

    /// The step due at `now`: give up at 64·T1, else resend with the interval doubled
    /// up to `t2` (one schedule for the 2xx of §13.3.1.4 and the reliable 1xx of RFC 3262
    /// §3).
    pub(crate) fn step(&mut self, now: Instant, t2: Duration) -> RetxStep {
        if self.give_up <= now {
            return RetxStep::GiveUp;
        }
        if self.next.is_some_and(|n| n <= now) {
            self.interval = (self.interval * 2).min(t2);
            self.next = Some(now + self.interval);
            return RetxStep::Resend(self.dest, self.bytes.clone());
        }
        RetxStep::Wait
    }
}

/// One call (INVITE dialog usage).
#[derive(Debug)]
pub(crate) struct Call {
    pub id: CallId,
    pub uac: bool,
    pub state: CallState,
    /// Our INVITE (with its Via) or the INVITE we received (shared with its transaction).
    pub invite: Arc<SipMsg>,
    pub invite_key: TxKey,
    pub dialog: Option<Dialog>,
    /// Where the peer is (UAS: the INVITE's source; UAC: the first hop).
    pub peer: SocketAddr,
    /// UAC: the ACK for the 2xx, resent on 2xx retransmissions (empty until then: an ACK
    /// is never empty).
    pub ack: Vec<u8>,
    /// UAS: the response retransmitted until acknowledged: while [`CallState::Incoming`],
    /// the reliable provisional until PRACK (`cseq` = RSeq, RFC 3262 §3); after, the 2xx
    /// until ACK (§13.3.1.4). One at a time: the answer replaces the provisional.
    pub retx: Option<Retx2xx>,
    pub provisional: bool,
    /// Digest challenges to the initial INVITE answered so far (bounded by
    /// [`MAX_INVITE_AUTH_ROUNDS`]; the digest client's rejection rules stop a refusal
    /// earlier).
    pub auth_rounds: u8,
    /// A re-INVITE/UPDATE from the peer waiting for the application's answer.
    pub pending_offer: Option<TxKey>,
    /// Our re-INVITE/UPDATE in progress.
    pub our_offer: Option<TxKey>,
    /// §14.1 glare: when to resend our offer, whether by re-INVITE (else UPDATE), and
    /// its SDP.
    pub glare_retry: Option<(Instant, bool, Vec<u8>)>,
    pub bye_after_ack: bool,
    /// The INVITE's REFER origin: (call that got the REFER) to NOTIFY progress to.
    pub notify_to: Option<CallId>,
    /// RFC 3891: the call this one replaces once confirmed.
    pub replaces: Option<CallId>,
    /// PRACK and session timer state.
    pub ext: Ext,
}

impl Call {
    /// A call in its first state (UAC: Calling; UAS: Incoming, a provisional sent),
    /// ringing until `ring_until`; boxed as the call table keeps it (built in place, not
    /// moved into the box).
    pub(crate) fn new(
        id: CallId,
        uac: bool,
        invite: Arc<SipMsg>,
        invite_key: TxKey,
        peer: SocketAddr,
        ring_until: Instant,
    ) -> Box<Call> {
        Box::new(Call {
            id,
            uac,
            state: if uac {
                CallState::Calling
            } else {
                CallState::Incoming
            },
            invite,
            invite_key,
            dialog: None,
            peer,
            ack: Vec::new(),
            retx: None,
            provisional: !uac,
            auth_rounds: 0,
            pending_offer: None,
            our_offer: None,
            glare_retry: None,
            bye_after_ack: false,
            notify_to: None,
            replaces: None,
            ext: Ext::ringing_until(ring_until),
        })
    }

    /// The SIP Call-ID (its INVITE's: a retried INVITE keeps it).
    pub(crate) fn call_id(&self) -> &str {
        self.invite.call_id().unwrap_or("")
    }

    /// The call's next deadline: 2xx or reliable-1xx retransmission, glare retry, session
    /// refresh or expiry, end of ringing (one list of every call timer, fired by
    /// [`UserAgent::call_timeouts`]).
    pub(crate) fn next_timer(&self) -> Option<Instant> {
        let e = &self.ext;
        let sess = e
            .session
            .as_ref()
            .map(|s| s.refresh_at.map_or(s.expire_at, |r| r.min(s.expire_at)));
        super::earliest(&[
            self.retx.as_ref().map(Retx2xx::deadline),
            self.glare_retry.as_ref().map(|g| g.0),
            sess,
            e.ring_deadline,
        ])
    }
}

/// Which call a search of the call table wants (plain data rather than a closure per
/// search: one matching routine, [`Call::is`]).
pub(crate) enum Want<'a> {
    /// The call whose dialog has these local and remote tags (`confirmed`: and is
    /// confirmed).
    Dialog {
        /// Our tag (`None` never matches: every dialog has one).
        local: Option<&'a str>,
        /// The peer's tag.
        remote: &'a str,
        /// Whether the call must be confirmed.
        confirmed: bool,
    },
    /// The incoming call of this INVITE (its server transaction's request, which the call
    /// shares: the same allocation, so no key comparison).
    Incoming(&'a Arc<SipMsg>),
    /// The outgoing call whose dialog has this remote tag.
    Outgoing(Option<&'a str>),
}

impl Call {
    /// Whether this is the call `want` describes.
    pub(crate) fn is(&self, want: &Want<'_>) -> bool {
        let d = self.dialog.as_ref();
        match *want {
            Want::Dialog {
                local,
                remote,
                confirmed,
            } => {
                (!confirmed || self.state == CallState::Confirmed)
                    && d.is_some_and(|d| {
                        Some(d.id.local_tag.as_str()) == local && d.id.remote_tag == remote
                    })
            }
            Want::Incoming(invite) => !self.uac && Arc::ptr_eq(&self.invite, invite),
            Want::Outgoing(remote) => {
                self.uac && d.is_some_and(|d| Some(d.id.remote_tag.as_str()) == remote)
            }
        }
    }
}

/// Adds `sdp` (when not empty) as the body of `m`, with its Content-Type.
pub(crate) fn push_sdp(m: &mut SipMsg, sdp: &[u8]) {
    if !sdp.is_empty() {
        m.push("Content-Type", "application/sdp");
        m.body = sdp.to_vec();
    }
}

fn body_of(m: &SipMsg) -> Option<Vec<u8>> {
    (!m.body.is_empty()).then(|| m.body.clone())
}

impl<R: Rng> UserAgent<R> {
    fn new_call_id(&mut self) -> CallId {
        let id = CallId(self.next_call);
        self.next_call += 1;
        id
    }

    /// Places a call to `target` (a SIP URI) with `sdp_offer` (may be empty for a late
    /// offer). Returns the call's handle; progress comes as events.
    pub fn call(
        &mut self,
        now: Instant,
        target: &str,
        sdp_offer: &[u8],
    ) -> Result<CallId, UaError> {
        self.start_call(now, target, sdp_offer, None)
    }

    pub(crate) fn start_call(
        &mut self,
        now: Instant,
        target: &str,
        sdp_offer: &[u8],
        replaces: Option<String>,
    ) -> Result<CallId, UaError> {
        self.now = now;
        if self.calls.len() >= self.cfg.max_calls {
            return Err(UaError::Busy);
        }
        let dest = self.destination(target).ok_or(UaError::NoRoute)?;
        let cseq = self.first_cseq();
        let (mut req, _) = self.new_request(Method::Invite, target, target, None, cseq);
        self.decorate_offer(&mut req, sdp_offer, self.cfg.session_expires);
        if let Some(r) = replaces {
            req.push("Replaces", r);
            req.push("Require", "replaces");
        }
        let id = self.new_call_id();
        let Some(key) = self.send_request(now, req, dest, Owner::Call(id)) else {
            return Err(UaError::NoRoute);
        };
        let invite = self
            .clients
            .get(&key)
            .map(|e| e.req.clone())
            .ok_or(UaError::NoRoute)?;
        let ring_until = now + self.cfg.no_answer_timeout;
        let mut call = Call::new(id, true, invite, key, dest, ring_until);
        call.ext.local_sdp = sdp_offer.to_vec();
        self.calls.insert(id, call);
        Ok(id)
    }

    /// The headers of an offer (INVITE, re-INVITE, UPDATE): Contact, Allow, Supported,
    /// Session-Expires `se` when given, and the SDP body when not empty.
    pub(crate) fn decorate_offer(&self, req: &mut SipMsg, sdp: &[u8], se: Option<u32>) {
        req.push("Contact", self.contact());
        req.push("Allow", self.cfg.allow());
        req.push("Supported", SUPPORTED);
        if let Some(se) = se {
            req.push("Session-Expires", dec(se));
        }
        push_sdp(req, sdp);
    }

    /// Answers an incoming call (200 with `sdp`), or answers a pending re-INVITE/UPDATE
    /// offer from the peer ([`Event::OfferReceived`]).
    pub fn answer(&mut self, now: Instant, call: CallId, sdp: &[u8]) -> Result<(), UaError> {
        self.now = now;
        let c = self.calls.get(&call).ok_or(UaError::UnknownCall)?;
        let (key, initial) = match (c.state, &c.pending_offer) {
            (CallState::Incoming, _) => (c.invite_key.clone(), true),
            (_, Some(k)) => (k.clone(), false),
            _ => return Err(UaError::InvalidState),
        };
        // The INVITE's transaction has the call's tag; a re-INVITE or UPDATE has its To tag.
        let (req, mut resp) = self
            .server_response(&key, 200)
            .ok_or(UaError::InvalidState)?;
        let method = super::build::request_method(&req);
        let is_invite = matches!(method, Some(Method::Invite));
        if is_invite || matches!(method, Some(Method::Update)) {
            resp.push("Contact", self.contact());
        }
        resp.push("Allow", self.cfg.allow());
        resp.push("Supported", SUPPORTED);
        if initial {
            self.answer_session(now, call, &req, &mut resp);
        } else if let Some(se) = self.session_refreshed(now, call, &req) {
            resp.push("Session-Expires", se);
        }
        push_sdp(&mut resp, sdp);
        let sent = self.respond_kept(now, &key, resp);
        let cseq = cseq_num(&req).unwrap_or(0);
        let retx = sent.map(|(bytes, dest)| self.retx(now, bytes, dest, cseq));
        let Some(c) = self.calls.get_mut(&call) else {
            return Ok(());
        };
        if initial {
            c.ext.ring_deadline = None;
            c.state = CallState::Answering;
            if let Some(d) = &mut c.dialog {
                d.state = DialogState::Confirmed;
            }
        } else {
            c.pending_offer = None;
        }
        if !sdp.is_empty() {
            c.ext.local_sdp = sdp.to_vec();
        }
        if is_invite {
            // (For the initial INVITE this ends the reliable provisional's retransmission.)
            c.retx = retx;
        }
        Ok(())
    }

    /// Rejects an incoming call (or a pending offer) with final status `code` (≥ 300).
    pub fn reject(&mut self, now: Instant, call: CallId, code: u16) -> Result<(), UaError> {
        self.now = now;
        let code = code.clamp(300, 699);
        let c = self.calls.get_mut(&call).ok_or(UaError::UnknownCall)?;
        if c.state == CallState::Incoming {
            self.end_incoming(now, call, code, EndReason::Rejected(code));
            return Ok(());
        }
        // The pending offer is answered (and no longer pending).
        let key = c.pending_offer.take().ok_or(UaError::InvalidState)?;
        self.respond_code(now, &key, code);
        Ok(())
    }

    /// Hangs up: CANCEL an unanswered outgoing call, 603 an unanswered incoming one, BYE an
    /// established one. [`Event::Ended`] with [`EndReason::LocalHangup`] follows at once.
    pub fn hangup(&mut self, now: Instant, call: CallId) -> Result<(), UaError> {
        self.now = now;
        let c = self.calls.get_mut(&call).ok_or(UaError::UnknownCall)?;
        match c.state {
            CallState::Cancelling => return Err(UaError::InvalidState),
            CallState::Calling => self.hangup_unanswered(now, call),
            CallState::Incoming => {
                self.end_incoming(now, call, 603, EndReason::LocalHangup);
                return Ok(());
            }
            CallState::Answering => {
                c.bye_after_ack = true;
            }
            CallState::Confirmed => {
                self.send_bye(now, call);
            }
        }
        self.push_event(Event::Ended {
            call,
            reason: EndReason::LocalHangup,
        });
        Ok(())
    }

    /// ACK for a 2xx to client transaction `key` (an INVITE or re-INVITE) whose call is
    /// gone (§13.2.2.4): built as the call's own ACK is, by the dialog the 2xx would make
    /// with the request ([`Dialog::uac`]: Request-URI = Contact, Route = Record-Route
    /// reversed, From/To/Call-ID, the 2xx's CSeq number), sent with a new Via to the first
    /// hop. Nothing is sent without a Contact or an address for the first hop.
    fn ack_orphan_2xx(&mut self, key: &TxKey, resp: &SipMsg) {
        let Some(req) = self.clients.get(key).map(|e| e.req.clone()) else {
            return;
        };
        let (Some(_), Some(n), Some(mut d)) =
            (resp.contact_uri(), cseq_num(resp), Dialog::uac(&req, resp))
        else {
            return;
        };
        let ack = d.request(Method::Ack, Some(n));
        if let Some(dest) = self.destination(d.next_hop()) {
            self.send_ack(ack, dest);
        }
    }

    /// UAS: ends the unanswered incoming call `id`: its INVITE gets final status `code`,
    /// the application hears `reason` (reject, hang-up, no answer in time, no PRACK).
    fn end_incoming(&mut self, now: Instant, id: CallId, code: u16, reason: EndReason) {
        if let Some(c) = self.calls.remove(&id) {
            self.respond_code(now, &c.invite_key, code);
            self.push_event(Event::Ended { call: id, reason });
        }
    }

    /// UAC: gives up an unanswered call (CANCEL now, or once a provisional arrives).
    pub(crate) fn hangup_unanswered(&mut self, now: Instant, call: CallId) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        c.state = CallState::Cancelling;
        if c.provisional {
            self.send_cancel(now, call);
        }
    }

    fn send_cancel(&mut self, now: Instant, call: CallId) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let cancel = cancel_for(&c.invite);
        let dest = c.peer;
        self.send_prepared(now, cancel, dest, Owner::Nobody);
    }

    /// The next in-dialog request `method` of call `call` (§12.2.1.1, CSeq advanced) and
    /// where it goes; the caller adds its headers and body and sends it with
    /// [`UserAgent::send_in_call`].
    pub(crate) fn in_dialog(
        &mut self,
        call: CallId,
        method: Method,
    ) -> Option<(SipMsg, SocketAddr)> {
        let c = self.calls.get_mut(&call)?;
        let d = c.dialog.as_mut()?;
        Some(dialog_request(&self.cfg, d, method, None, c.peer))
    }

    /// Sends an in-dialog request of call `call` made by [`UserAgent::in_dialog`].
    pub(crate) fn send_in_call(
        &mut self,
        now: Instant,
        call: CallId,
        req: Option<(SipMsg, SocketAddr)>,
    ) -> Option<TxKey> {
        let (req, dest) = req?;
        self.send_request(now, req, dest, Owner::Call(call))
    }

    /// Sends BYE in call `call`'s dialog and removes the call (the BYE's responses go to
    /// nobody: only a challenge to it matters); returns the call, if there was one.
    pub(crate) fn send_bye(&mut self, now: Instant, call: CallId) -> Option<Box<Call>> {
        let bye = self.in_dialog(call, Method::Bye);
        if let Some(key) = self.send_in_call(now, call, bye)
            && let Some(e) = self.clients.get_mut(&key)
        {
            e.owner = Owner::Nobody;
        }
        self.calls.remove(&call)
    }

    /// A new INVITE outside any dialog (we are the UAS).
    pub(crate) fn incoming_invite(&mut self, now: Instant, key: TxKey) {
        let Some(e) = self.servers.get(&key) else {
            return;
        };
        let req = e.req.clone();
        let source = e.source;
        let local_tag = e.tag.clone();
        if self.calls.len() >= self.cfg.max_calls {
            self.respond_code(now, &key, 486);
            return;
        }
        #[cfg(feature = "sip-server")]
        if self.cfg.challenge_invites
            && let Some(challenge) = self.check_credentials(now, &req, self.cfg.proxy_auth)
        {
            self.respond(now, &key, challenge);
            return;
        }
        // RFC 3891: an INVITE with Replaces must name one of our confirmed dialogs.
        let replaces = match req.header("Replaces") {
            Some(r) => match self.replaced_call(r) {
                Some(id) => Some(id),
                None => {
                    self.respond_code(now, &key, 481);
                    return;
                }
            },
            None => None,
        };
        if let Err(min_se) = self.check_session_expires(&req) {
            let mut r = response(&req, 422, Some(&local_tag));
            r.push("Min-SE", dec(min_se));
            self.respond(now, &key, r);
            return;
        }
        // (`response` copies Record-Route into 101–299 only.)
        self.respond(now, &key, response(&req, 100, None));
        let Some(mut dialog) = Dialog::uas(&req, &local_tag, DialogState::Early) else {
            self.respond_code(now, &key, 400);
            return;
        };
        let start = self.first_cseq();
        dialog.seed_local_seq(start);
        let mut ringing = response(&req, 180, Some(&local_tag));
        ringing.push("Contact", self.contact());
        let reliable = self.wants_100rel(&req);
        let rseq = reliable.then(|| self.make_reliable(&mut ringing));
        let ringing_bytes = ringing.to_bytes();
        self.respond(now, &key, ringing);
        let id = self.new_call_id();
        let mut call = Call::new(
            id,
            false,
            req.clone(),
            key,
            source,
            now + self.cfg.no_answer_timeout,
        );
        call.dialog = Some(dialog);
        call.replaces = replaces;
        call.retx = rseq.map(|rseq| self.retx(now, ringing_bytes, source, rseq));
        self.calls.insert(id, call);
        self.push_event(Event::IncomingCall {
            call: id,
            from: req.header("From").unwrap_or("").to_string(),
            sdp: body_of(&req),
        });
    }

    /// The confirmed call a Replaces value (`call-id;to-tag=…;from-tag=…`) names, from our
    /// side: to-tag is our tag, from-tag the peer's (RFC 3891 §3).
    fn replaced_call(&self, value: &str) -> Option<CallId> {
        let call_id = crate::sip::scan::split_byte(value, b';').0.trim_ascii();
        let to_tag = super::msg::param(value, "to-tag")?;
        let from_tag = super::msg::param(value, "from-tag")?;
        self.calls.find(
            Some(call_id),
            &Want::Dialog {
                local: Some(to_tag),
                remote: from_tag,
                confirmed: true,
            },
        )
    }

    /// The call whose dialog `req` (from the peer) belongs to.
    pub(crate) fn call_for_request(&self, req: &SipMsg) -> Option<CallId> {
        // §12.2.2: Call-ID, To tag (ours) and From tag (theirs).
        self.calls.find(
            Some(req.call_id()?),
            &Want::Dialog {
                local: req.to_tag(),
                remote: req.from_tag().unwrap_or(""),
                confirmed: false,
            },
        )
    }

    /// ACK for a 2xx (§13.3.1.4): stops the retransmission; the call is up.
    pub(crate) fn tu_ack(&mut self, now: Instant, ack: SipMsg) {
        let Some(id) = self.call_for_request(&ack) else {
            return;
        };
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        let acked = cseq_num(&ack);
        // (While ringing, `retx` is the reliable provisional: no ACK stops that.)
        if c.state != CallState::Incoming && c.retx.as_ref().is_some_and(|r| Some(r.cseq) == acked)
        {
            c.retx = None;
        }
        if c.state == CallState::Answering {
            c.state = CallState::Confirmed;
            let bye = c.bye_after_ack;
            let replaced = c.replaces.take();
            if bye {
                self.send_bye(now, id);
            } else {
                self.push_event(Event::Answered {
                    call: id,
                    sdp: body_of(&ack),
                });
            }
            // (A replaced call is confirmed: it ends with BYE, reported.)
            if let Some(old) = replaced {
                self.end_call_with_bye(now, old, EndReason::Replaced);
            }
        }
    }

    /// CANCEL matched a pending INVITE server transaction (§9.2).
    pub(crate) fn tu_cancelled(&mut self, now: Instant, invite_key: &TxKey) {
        let invite = self.servers.get(invite_key).map(|e| e.req.clone());
        self.respond_code(now, invite_key, 487);
        // The INVITE's Call-ID narrows the search to its calls (§9.2: same Call-ID).
        let id = invite.and_then(|inv| self.calls.find(inv.call_id(), &Want::Incoming(&inv)));
        if let Some(id) = id {
            self.end_call(id, EndReason::Cancelled);
        }
    }

    /// A 2xx to INVITE after its client transaction is gone: resend the ACK (§13.2.2.4).
    pub(crate) fn tu_stray_2xx(&mut self, _now: Instant, resp: &SipMsg) {
        let Some(call_id) = resp.call_id() else {
            return;
        };
        if let Some(id) = self
            .calls
            .find(Some(call_id), &Want::Outgoing(resp.to_tag()))
        {
            self.resend_ack(id);
        }
    }

    /// Resends call `id`'s ACK for its 2xx, if it has one (§13.2.2.4: the 2xx was
    /// retransmitted).
    fn resend_ack(&mut self, id: CallId) {
        if let Some(c) = self.calls.get(&id)
            && !c.ack.is_empty()
        {
            self.transmit(c.peer, c.ack.clone());
        }
    }

    /// A response to the call's INVITE, re-INVITE or UPDATE: its session refresh, its
    /// offer, or its INVITE.
    pub(crate) fn call_response(&mut self, now: Instant, id: CallId, key: &TxKey, resp: SipMsg) {
        let Some(c) = self.calls.get(&id) else {
            // The call is gone (we hung up and sent BYE): a retransmitted 2xx still gets
            // its ACK so that the peer stops retransmitting (§13.2.2.4).
            if resp.code().is_some_and(|c| (200..300).contains(&c)) {
                self.ack_orphan_2xx(key, &resp);
            }
            return;
        };
        let Some(code) = resp.code() else { return };
        if c.ext.refresh_key.as_ref() == Some(key) {
            self.refresh_response(now, id, key, &resp, code);
            return;
        }
        if c.our_offer.as_ref() == Some(key) {
            self.offer_response(now, id, resp, code);
            return;
        }
        if &c.invite_key != key {
            return;
        }
        match code {
            100 => {
                self.mark_provisional(now, id);
            }
            101..=199 => {
                self.mark_provisional(now, id);
                // An early dialog per fork (§12.1.2, §13.2.2.1).
                if let Some(c) = self.calls.get_mut(&id)
                    && c.state == CallState::Calling
                    && resp.to_tag().is_some()
                    && c.ext.early_with(resp.to_tag()).is_none()
                    && c.ext.early.len() < MAX_EARLY_DIALOGS
                    && let Some(d) = Dialog::uac(&c.invite, &resp)
                {
                    if c.dialog.is_none() {
                        // The same dialog again (built, not cloned: one less copy routine).
                        c.dialog = Dialog::uac(&c.invite, &resp);
                    }
                    c.ext.early.push(d);
                }
                if !self.provisional_received(now, id, &resp) {
                    return; // Retransmitted or repeated provisional: already reported.
                }
                if let Some(sdp) = body_of(&resp) {
                    self.push_event(Event::EarlyMedia { call: id, sdp });
                } else if code == 180 {
                    self.push_event(Event::Ringing { call: id });
                }
                if code == 180 {
                    self.notify_transfer_progress(now, id, 180);
                }
            }
            200..=299 => self.invite_2xx(now, id, resp),
            _ => {
                let cancelling = c.state == CallState::Cancelling;
                if code == 422 && !cancelling && self.retry_after_422(now, id, key, &resp) {
                    return;
                }
                self.notify_transfer_progress(now, id, code);
                let reason = if code == 408 {
                    EndReason::Timeout
                } else {
                    EndReason::Rejected(code)
                };
                self.end_call(id, reason);
            }
        }
    }

    fn mark_provisional(&mut self, now: Instant, id: CallId) {
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        let first = !c.provisional;
        c.provisional = true;
        if first && c.state == CallState::Cancelling {
            self.send_cancel(now, id);
        }
    }

    fn invite_2xx(&mut self, now: Instant, id: CallId, resp: SipMsg) {
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        let same_dialog = c.dialog.as_ref().is_some_and(|d| {
            d.state == DialogState::Confirmed && Some(d.id.remote_tag.as_str()) == resp.to_tag()
        });
        if same_dialog {
            // Retransmitted 2xx: resend the ACK.
            self.resend_ack(id);
            return;
        }
        let Some(mut dialog) = Dialog::uac(&c.invite, &resp) else {
            return;
        };
        // Requests sent in the early dialog (PRACK) advanced our CSeq. (The call's early
        // dialogs share its Call-ID and our tag, and differ in their remote tag: the one
        // with the 2xx's is this one.)
        let early = c.ext.early_with(resp.to_tag());
        if let Some(e) = early.and_then(|i| c.ext.early.get(i)) {
            dialog.local_seq = dialog.local_seq.max(e.local_seq);
        }
        let forked = c.state == CallState::Confirmed;
        let invite_cseq = cseq_num(&c.invite).unwrap_or(1);
        let (ack, dest) = dialog_request(
            &self.cfg,
            &mut dialog,
            Method::Ack,
            Some(invite_cseq),
            c.peer,
        );
        let ack_bytes = self.send_ack(ack, dest);
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        if forked {
            // A second 2xx from another fork: ACK it, then BYE it (§13.2.2.4).
            let bye = dialog.request(Method::Bye, None);
            self.send_request(now, bye, dest, Owner::Nobody);
            return;
        }
        let cancelling = c.state == CallState::Cancelling;
        // Invariant: `early` was found above and nothing changed the list since.
        if let Some(i) = early {
            c.ext.early.remove(i);
        }
        c.ext.ring_deadline = None;
        c.peer = dest;
        c.ack = ack_bytes;
        c.dialog = Some(dialog);
        c.state = CallState::Confirmed;
        if cancelling {
            // The 2xx won the race with our CANCEL: end the call with BYE.
            self.send_bye(now, id);
            return;
        }
        self.session_from_2xx(now, id, &resp);
        self.push_event(Event::Answered {
            call: id,
            sdp: body_of(&resp),
        });
        self.notify_transfer_progress(now, id, 200);
    }

    /// The INVITE of client transaction `key` (a retry) becomes call `id`'s INVITE.
    pub(crate) fn adopt_invite(&mut self, id: CallId, key: TxKey) {
        let invite = self.clients.get(&key).map(|e| e.req.clone());
        if let (Some(c), Some(invite)) = (self.calls.get_mut(&id), invite) {
            c.invite = invite;
            c.invite_key = key;
            c.provisional = false;
        }
    }

    /// A client transaction owned by a call timed out (Timer B/F).
    pub(crate) fn call_client_timeout(&mut self, now: Instant, id: CallId, key: &TxKey) {
        let Some(c) = self.calls.get(&id) else { return };
        if &c.invite_key == key {
            self.end_call(id, EndReason::Timeout);
        } else if c.our_offer.as_ref() == Some(key) {
            self.end_call_with_bye(now, id, EndReason::Timeout);
        }
    }

    /// Every call timer due at `now`, in one walk per due call: end of ringing, the
    /// retransmission of a reliable provisional or a 2xx, the glare retry, then the session
    /// timer ([`UserAgent::session_timeouts`]).
    pub(crate) fn call_timeouts(&mut self, now: Instant) {
        let ids = self.calls.due(now);
        let t2 = self.cfg.timers.t2;
        for (_, id) in ids {
            let Some(c) = self.calls.get_mut(&id) else {
                continue;
            };
            let incoming = c.state == CallState::Incoming;
            // An incoming call that ends here: the status its INVITE gets.
            let mut reject = None;
            if c.ext.ring_deadline.is_some_and(|d| d <= now) {
                c.ext.ring_deadline = None;
                if c.state == CallState::Calling {
                    // No answer in time: our call is cancelled.
                    self.hangup_unanswered(now, id);
                    self.push_event(Event::Ended {
                        call: id,
                        reason: EndReason::Timeout,
                    });
                    continue;
                }
                // Theirs gets 480.
                reject = incoming.then_some(480);
            }
            if reject.is_none() {
                match c.retx.as_mut().map(|r| r.step(now, t2)) {
                    Some(RetxStep::GiveUp) => {
                        c.retx = None;
                        if !incoming {
                            // §13.3.1.4: no ACK within 64·T1: the session ends with BYE.
                            self.end_call_with_bye(now, id, EndReason::Timeout);
                            continue;
                        }
                        // RFC 3262 §3: no PRACK within 64·T1: reject the INVITE with a 5xx.
                        reject = Some(504);
                    }
                    Some(RetxStep::Resend(dest, bytes)) => self.transmit(dest, bytes),
                    _ => {}
                }
            }
            if let Some(code) = reject {
                self.end_incoming(now, id, code, EndReason::Timeout);
                continue;
            }
            let Some(c) = self.calls.get_mut(&id) else {
                continue;
            };
            if c.glare_retry.as_ref().is_some_and(|g| g.0 <= now)
                && let Some((_, invite, sdp)) = c.glare_retry.take()
                && self
                    .offer(
                        now,
                        id,
                        if invite {
                            Method::Invite
                        } else {
                            Method::Update
                        },
                        &sdp,
                    )
                    .is_err()
            {
                self.push_event(Event::OfferRejected {
                    call: id,
                    code: 491,
                });
            }
            self.session_timeouts(now, id);
        }
    }
}
