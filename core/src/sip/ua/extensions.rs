//! Call extensions: reliable provisional responses (RFC 3262, 100rel/PRACK with RSeq/RAck)
//! and session timers (RFC 4028: Session-Expires/Min-SE, refresher role, refresh by UPDATE
//! at half the interval, BYE when the session expires, 422 → retry with Min-SE).
//!
//! Inputs: the INVITE/1xx/2xx/422 the call logic sees, PRACK and refresh requests, timers.
//! Outputs: PRACK, 1xx retransmissions, UPDATE refreshes, BYE on expiry; events via the call.

use crate::sip::text::{cat, dec};
use alloc::string::ToString;

use super::call::{CallState, Retx2xx};
use super::layer::Owner;
use super::msg::{Method, SipMsg, param};
use super::{CallId, EndReason, Event, UserAgent};
use crate::rand::Rng;
use crate::sip::transaction::TxKey;
use crate::time::{Duration, Instant};

/// Negotiated session timer of a call (RFC 4028).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionTimer {
    /// Session interval in seconds.
    pub interval: u32,
    /// Whether we are the refresher.
    pub we_refresh: bool,
    /// When we send the next refresh (refresher only).
    pub refresh_at: Option<Instant>,
    /// When the session expires without refresh (non-refresher: BYE then).
    pub expire_at: Instant,
}

/// Per-call state of the extensions.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ext {
    /// UAC: the highest RSeq acknowledged.
    pub last_rseq: Option<u32>,
    /// UAC: the provisional statuses and To tags reported (suppress duplicate events).
    pub seen_1xx: alloc::vec::Vec<(u16, alloc::string::String)>,
    /// The session timer, once negotiated.
    pub session: Option<SessionTimer>,
    /// Our refresh (UPDATE, or re-INVITE when the peer does not allow UPDATE) in progress.
    pub refresh_key: Option<TxKey>,
    /// Whether the peer's Allow lists UPDATE (RFC 4028 §9: else refresh with re-INVITE).
    pub peer_allows_update: bool,
    /// The last SDP we sent in this dialog (offer or answer), re-sent by a re-INVITE
    /// refresh with its `o=` version incremented (RFC 4028 §7.4, RFC 3264 §8).
    pub local_sdp: alloc::vec::Vec<u8>,
    /// UAC: a 422 was already retried once.
    pub min_se_retried: bool,
    /// REFER notifier: our NOTIFY in progress, and the latest state waiting for it.
    pub notify_pending: Option<TxKey>,
    /// The (sipfrag status, terminated) NOTIFY to send once `notify_pending` completes.
    pub notify_queued: Option<(u16, bool)>,
    /// An unanswered call ends at this instant (UAC: CANCEL; UAS: 480).
    pub ring_deadline: Option<Instant>,
    /// UAC: the early dialogs, one per fork that answered 1xx with a tag (bounded).
    pub early: alloc::vec::Vec<crate::sip::dialog::Dialog>,
}

/// The most early dialogs (forks) a call tracks.
pub(crate) const MAX_EARLY_DIALOGS: usize = 16;

impl Ext {
    /// Extension state of a new call that may ring until `deadline`.
    pub(crate) fn ringing_until(deadline: Instant) -> Ext {
        Ext {
            ring_deadline: Some(deadline),
            ..Ext::default()
        }
    }

    /// Where the early dialog whose remote tag is `tag` is in [`Ext::early`] (one search
    /// for the 1xx that opens it, the PRACK sent in it, and the 2xx that confirms it).
    #[inline(never)]
    pub(crate) fn early_with(&self, tag: Option<&str>) -> Option<usize> {
        self.early
            .iter()
            .position(|d| Some(d.id.remote_tag.as_str()) == tag)
    }
}

/// The `refresher` parameter of the Session-Expires of `m`.
fn refresher(m: &SipMsg) -> Option<&str> {
    param(m.header("Session-Expires")?, "refresher")
}

/// The number in a Session-Expires / Min-SE value (`90;refresher=uac` → 90).
pub(crate) fn delta_seconds(v: &str) -> Option<u32> {
    crate::sip::scan::parse_dec(crate::sip::scan::split_byte(v, b';').0.trim_ascii())
}

impl SessionTimer {
    fn new(now: Instant, interval: u32, we_refresh: bool) -> SessionTimer {
        let i = u64::from(interval);
        // RFC 4028 §10: the refresher refreshes at half the interval; the other side sends
        // BYE at interval − min(32 s, interval/3) without a refresh.
        let expire = if we_refresh { i } else { i - (i / 3).min(32) };
        SessionTimer {
            interval,
            we_refresh,
            refresh_at: we_refresh.then(|| now + Duration::from_millis(i * 500)),
            expire_at: now + Duration::from_secs(expire),
        }
    }
}

impl<R: Rng> UserAgent<R> {
    /// UAS: whether the 180 to `req` is sent reliably (RFC 3262 §3).
    pub(crate) fn wants_100rel(&self, req: &SipMsg) -> bool {
        req.has_option("Require", "100rel")
            || (self.cfg.use_100rel && req.has_option("Supported", "100rel"))
    }

    /// UAS: makes `resp` (a 1xx) reliable; returns the RSeq.
    pub(crate) fn make_reliable(&mut self, resp: &mut SipMsg) -> u32 {
        let rseq = 1 + self.rng.below(1 << 20) as u32;
        resp.push("Require", "100rel");
        resp.push("RSeq", dec(rseq));
        rseq
    }

    /// UAS: starts retransmitting the reliable provisional `bytes` until PRACK.
    pub(crate) fn start_prov_retx(
        &mut self,
        now: Instant,
        id: CallId,
        bytes: alloc::vec::Vec<u8>,
        rseq: u32,
    ) {
        let Some(dest) = self.calls.get(&id).map(|c| c.peer) else {
            return;
        };
        let retx = self.retx(now, bytes, dest, rseq);
        if let Some(c) = self.calls.get_mut(&id) {
            c.retx = Some(retx);
        }
    }

    /// The retransmission of `bytes` to `dest` from `now` (T1 doubling to T2 on an
    /// unreliable transport, giving up at 64·T1), acknowledged by `cseq` (a 2xx's CSeq, a
    /// reliable 1xx's RSeq).
    pub(crate) fn retx(
        &self,
        now: Instant,
        bytes: alloc::vec::Vec<u8>,
        dest: core::net::SocketAddr,
        cseq: u32,
    ) -> Retx2xx {
        let t1 = self.cfg.timers.t1;
        Retx2xx {
            bytes,
            dest,
            interval: t1,
            next: (!self.cfg.transport.is_reliable()).then_some(now + t1),
            give_up: now + self.cfg.timers.t1x64(),
            cseq,
        }
    }

    /// UAS: sends 183 Session Progress with `sdp` (early media) for an incoming call not
    /// yet answered; reliable (RFC 3262) when the caller supports 100rel and
    /// [`super::UaConfig::use_100rel`] is set, or the caller requires it.
    pub fn early_media(
        &mut self,
        now: Instant,
        call: CallId,
        sdp: &[u8],
    ) -> Result<(), super::UaError> {
        self.now = now;
        let c = self.calls.get(&call).ok_or(super::UaError::UnknownCall)?;
        if c.state != CallState::Incoming || c.retx.is_some() {
            return Err(super::UaError::InvalidState);
        }
        let key = c.invite_key.clone();
        let (req, mut r) = self
            .server_response(&key, 183)
            .ok_or(super::UaError::InvalidState)?;
        r.push("Contact", self.contact());
        let rseq = self.wants_100rel(&req).then(|| self.make_reliable(&mut r));
        r.push("Content-Type", "application/sdp");
        r.body = sdp.to_vec();
        let bytes = r.to_bytes();
        if !self.respond(now, &key, r) {
            return Err(super::UaError::InvalidState);
        }
        if let Some(rseq) = rseq {
            self.start_prov_retx(now, call, bytes, rseq);
        }
        Ok(())
    }

    /// UAS: a PRACK in the call's dialog (RFC 3262 §3): RAck must name our RSeq.
    pub(crate) fn incoming_prack(&mut self, now: Instant, id: CallId, key: &TxKey, req: &SipMsg) {
        // `response-num LWS CSeq-num LWS Method` (RFC 3262 §7.2): the two numbers.
        let rack: Option<(u32, u32)> = req.header("RAck").and_then(|v| {
            let mut c = crate::sip::scan::Cursor::new(v);
            c.ws();
            let rseq = crate::sip::scan::parse_dec(c.take_while(|b| b.is_ascii_digit()))?;
            let before = c.pos;
            c.ws();
            let cseq = crate::sip::scan::parse_dec(c.take_while(|b| b.is_ascii_digit()))?;
            // Each number ends at LWS (or, for the second, at the end).
            let after = c.pos;
            c.ws();
            (c.pos > before && (c.pos > after || c.at_end())).then_some((rseq, cseq))
        });
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        let invite_cseq = super::build::cseq_num(&c.invite);
        // (Once answered, `retx` is the 2xx: no PRACK acknowledges that.)
        let prov = c.retx.as_ref().filter(|_| c.state == CallState::Incoming);
        match (rack, prov) {
            (Some((rseq, cseq)), Some(p)) if p.cseq == rseq && Some(cseq) == invite_cseq => {
                c.retx = None;
                self.respond_code(now, key, 200);
            }
            _ => {
                self.respond_code(now, key, 481);
            }
        }
    }

    /// UAC: a provisional response to our INVITE. Returns whether it is new (report it);
    /// sends PRACK for a new reliable one.
    pub(crate) fn provisional_received(&mut self, now: Instant, id: CallId, resp: &SipMsg) -> bool {
        let Some(c) = self.calls.get_mut(&id) else {
            return false;
        };
        let code = resp.code().unwrap_or(0);
        let tag = resp.to_tag().unwrap_or("").to_string();
        if resp.has_option("Require", "100rel")
            && let Some(rseq) = resp
                .header("RSeq")
                .and_then(|v| crate::sip::scan::parse_dec::<u32>(v.trim_ascii()))
        {
            if c.ext.last_rseq.is_some_and(|last| rseq <= last) {
                return false; // A retransmission: PRACK already sent.
            }
            c.ext.last_rseq = Some(rseq);
            let cseq = super::build::cseq_num(&c.invite).unwrap_or(0);
            // PRACK goes in the early dialog of the fork that sent this 1xx.
            let Some(d) = c
                .ext
                .early_with(resp.to_tag())
                .and_then(|i| c.ext.early.get_mut(i))
            else {
                return true;
            };
            let (mut prack, dest) =
                super::build::dialog_request(&self.cfg, d, Method::Prack, None, c.peer);
            prack.push("RAck", cat!(rseq, ' ', cseq, " INVITE"));
            self.send_request(now, prack, dest, Owner::Call(id));
            return true;
        }
        if c.ext
            .seen_1xx
            .iter()
            .any(|(sc, st)| *sc == code && *st == tag)
        {
            return false;
        }
        if c.ext.seen_1xx.len() < 2 * MAX_EARLY_DIALOGS {
            c.ext.seen_1xx.push((code, tag));
        }
        true
    }

    /// UAS: the Session-Expires of an incoming INVITE, or the 422 to send (RFC 4028 §8).
    pub(crate) fn check_session_expires(&self, req: &SipMsg) -> Result<(), u32> {
        match req.header("Session-Expires").and_then(delta_seconds) {
            Some(se) if se < self.cfg.min_se => Err(self.cfg.min_se),
            _ => Ok(()),
        }
    }

    /// UAS: adds the session timer to our 2xx for the initial INVITE and starts it.
    pub(crate) fn answer_session(
        &mut self,
        now: Instant,
        id: CallId,
        req: &SipMsg,
        resp: &mut SipMsg,
    ) {
        self.note_peer_allow(id, req);
        let requested = req.header("Session-Expires").and_then(delta_seconds);
        let Some(interval) = requested.or(self.cfg.session_expires) else {
            return;
        };
        let interval = interval.max(self.cfg.min_se);
        let uac_supports = req.has_option("Supported", "timer");
        // We refresh when the caller asks us to, or cannot (no `timer` support).
        let we_refresh =
            !uac_supports || refresher(req).is_some_and(|r| r.eq_ignore_ascii_case("uas"));
        if let Some(se) = self.start_session(now, id, interval, we_refresh) {
            resp.push("Session-Expires", se);
        }
        if uac_supports {
            resp.push("Require", "timer");
        }
    }

    /// Starts (or restarts) call `id`'s session timer with `interval`, us refreshing or
    /// not; returns the Session-Expires value of our 2xx, where the peer is the UAC (RFC
    /// 4028 §9: `refresher=uas` when we refresh).
    fn start_session(
        &mut self,
        now: Instant,
        id: CallId,
        interval: u32,
        we_refresh: bool,
    ) -> Option<alloc::string::String> {
        let c = self.calls.get_mut(&id)?;
        c.ext.session = Some(SessionTimer::new(now, interval, we_refresh));
        let refresher = if we_refresh { "uas" } else { "uac" };
        Some(cat!(interval, ";refresher=", refresher))
    }

    /// UAC: the 2xx to our INVITE (or to a refresh) carries the negotiated timer.
    pub(crate) fn session_from_2xx(&mut self, now: Instant, id: CallId, resp: &SipMsg) {
        self.note_peer_allow(id, resp);
        let Some(v) = resp.header("Session-Expires") else {
            return;
        };
        let Some(interval) = delta_seconds(v) else {
            return;
        };
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        // `refresher` names a role in this transaction (RFC 4028 §7, §9), where we are the
        // UAC whichever side began the call.
        let we_refresh = param(v, "refresher").is_none_or(|r| r.eq_ignore_ascii_case("uac"));
        c.ext.session = Some(SessionTimer::new(now, interval, we_refresh));
    }

    /// Records whether the peer allows UPDATE, from a message that carries Allow.
    fn note_peer_allow(&mut self, id: CallId, m: &SipMsg) {
        if m.header("Allow").is_none() {
            return;
        }
        let allows = m.has_option("Allow", "UPDATE");
        if let Some(c) = self.calls.get_mut(&id) {
            c.ext.peer_allows_update = allows;
        }
    }

    /// UAC: a 422 (Session Interval Too Small): retry once with the peer's Min-SE.
    pub(crate) fn retry_after_422(
        &mut self,
        now: Instant,
        id: CallId,
        key: &TxKey,
        resp: &SipMsg,
    ) -> bool {
        let Some(min) = resp.header("Min-SE").and_then(delta_seconds) else {
            return false;
        };
        let Some(c) = self.calls.get_mut(&id) else {
            return false;
        };
        if c.ext.min_se_retried {
            return false;
        }
        c.ext.min_se_retried = true;
        let Some((mut req, dest)) = self.resend_copy(key, None) else {
            return false;
        };
        req.set("Session-Expires", dec(min));
        req.set("Min-SE", dec(min));
        let Some(key) = self.send_request(now, req, dest, Owner::Call(id)) else {
            return false;
        };
        self.adopt_invite(id, key);
        true
    }

    /// A refresh (UPDATE without SDP, or a re-INVITE) `req` from the peer restarts the
    /// timer; returns the Session-Expires value for our 2xx, if a timer runs. The request
    /// may hand the refresher role over (`refresher=uas`: us) or keep it (`uac`: the peer);
    /// without the parameter the role stays where it was. In the 2xx, `refresher` names
    /// the role in this transaction, where the peer is the UAC (RFC 4028 §9), whichever
    /// side began the call.
    pub(crate) fn session_refreshed(
        &mut self,
        now: Instant,
        id: CallId,
        req: &SipMsg,
    ) -> Option<alloc::string::String> {
        let s = self.calls.get(&id)?.ext.session.as_ref()?;
        let we_refresh = match refresher(req) {
            Some(r) if r.eq_ignore_ascii_case("uas") => true,
            Some(r) if r.eq_ignore_ascii_case("uac") => false,
            _ => s.we_refresh,
        };
        self.start_session(now, id, s.interval, we_refresh)
    }

    /// The response `code` to our session refresh (UPDATE or re-INVITE) `key`.
    pub(crate) fn refresh_response(
        &mut self,
        now: Instant,
        id: CallId,
        key: &TxKey,
        resp: &SipMsg,
        code: u16,
    ) {
        if code < 200 {
            return;
        }
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        // (A challenge answered with credentials never comes here: `auth_retry`.)
        c.ext.refresh_key = None;
        if (200..300).contains(&code) {
            if let Some(s) = &mut c.ext.session {
                *s = SessionTimer::new(now, s.interval, s.we_refresh);
            }
            if matches!(super::build::key_method(key), Method::Invite) {
                self.ack_reinvite_2xx(id, resp);
            }
            self.session_from_2xx(now, id, resp);
        } else {
            // RFC 4028 §10: the refresher whose refresh failed ends the session.
            self.end_call_with_bye(now, id, EndReason::SessionExpired);
        }
    }

    /// Ends call `id` with BYE and reports it ended for `reason` (whatever its state: a
    /// session that ends here was up).
    pub(crate) fn end_call_with_bye(&mut self, now: Instant, id: CallId, reason: EndReason) {
        if self.send_bye(now, id).is_some() {
            self.push_event(Event::Ended { call: id, reason });
        }
    }

    /// Removes call `id` and reports it ended for `reason`, unless we were cancelling it
    /// (the application heard [`EndReason::LocalHangup`] then).
    pub(crate) fn end_call(&mut self, id: CallId, reason: EndReason) {
        if self
            .calls
            .remove(&id)
            .is_some_and(|c| c.state != CallState::Cancelling)
        {
            self.push_event(Event::Ended { call: id, reason });
        }
    }

    /// The session timer of call `id` at `now` (RFC 4028 §10): BYE at expiry, the
    /// refresh when due.
    pub(crate) fn session_timeouts(&mut self, now: Instant, id: CallId) {
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(s) = c.ext.session.clone() else {
            return;
        };
        if s.expire_at <= now {
            c.ext.session = None;
            self.end_call_with_bye(now, id, EndReason::SessionExpired);
            return;
        }
        if s.refresh_at.is_some_and(|r| r <= now) && c.ext.refresh_key.is_none() {
            if let Some(sess) = &mut c.ext.session {
                sess.refresh_at = None;
            }
            // We send this refresh: its UAC, and we stay the refresher (RFC 4028 §9).
            let value = cat!(s.interval, ";refresher=uac");
            // RFC 4028 §9: UPDATE when the peer allows it, else a re-INVITE carrying the
            // same session description with a new version (RFC 3264 §8).
            let reinvite = !c.ext.peer_allows_update && !c.ext.local_sdp.is_empty();
            if reinvite && (c.our_offer.is_some() || c.pending_offer.is_some()) {
                // An offer/answer is in progress; a second INVITE would be refused (491).
                if let Some(sess) = &mut c.ext.session {
                    sess.refresh_at = Some(now + Duration::from_secs(1));
                }
                return;
            }
            let sdp = reinvite.then(|| bump_sdp_version(&c.ext.local_sdp));
            let method = if reinvite {
                Method::Invite
            } else {
                Method::Update
            };
            let mut r = self.in_dialog(id, method);
            if let Some((r, _)) = &mut r {
                r.push("Session-Expires", value);
                r.push("Supported", "timer");
                if let Some(body) = &sdp {
                    r.push("Contact", self.contact());
                    r.push("Allow", self.cfg.allow());
                    super::call::push_sdp(r, body);
                }
            }
            let key = self.send_in_call(now, id, r);
            if let Some(c) = self.calls.get_mut(&id) {
                c.ext.refresh_key = key;
                if let Some(sdp) = sdp {
                    c.ext.local_sdp = sdp;
                }
            }
        }
    }
}

/// The session description with the version in its `o=` line incremented (RFC 3264 §8:
/// a changed or re-sent offer carries version + 1). Unchanged when there is no usable
/// `o=` line.
pub(crate) fn bump_sdp_version(sdp: &[u8]) -> alloc::vec::Vec<u8> {
    use crate::sip::scan::find_byte;
    let Ok(text) = core::str::from_utf8(sdp) else {
        return sdp.to_vec();
    };
    let b = text.as_bytes();
    // A space of the line that ends at `end`, from `from` on.
    let space = |from: usize, end: usize| find_byte(b, from, b' ').filter(|&i| i < end);
    let mut line = 0;
    while line < b.len() {
        let end = find_byte(b, line, b'\n').map_or(b.len(), |i| i + 1);
        // `o=<username> <sess-id> <sess-version> …`: the third space-separated field.
        if b.get(line..line + 2) == Some(b"o=")
            && let Some(v0) = space(line, end).and_then(|i| space(i + 1, end))
        {
            let v1 = space(v0 + 1, end).unwrap_or(end);
            if let (Some(head), Some(v), Some(tail)) = (
                text.get(..v0 + 1),
                text.get(v0 + 1..v1).and_then(crate::sip::scan::parse_u64),
                text.get(v1..),
            ) {
                let mut out = alloc::string::String::with_capacity(text.len() + 2);
                out.push_str(head);
                crate::sip::text::push_u64(&mut out, v.wrapping_add(1));
                out.push_str(tail);
                return out.into_bytes();
            }
        }
        line = end;
    }
    sdp.to_vec()
}

#[cfg(test)]
mod tests {
    use alloc::format;
    use alloc::vec::Vec;

    use super::super::{Received, Transport, UaConfig, response};
    use super::*;
    use crate::rand::SplitMix64;

    const SDP: &[u8] = b"v=0\r\no=alice 1 7 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

    fn feed(ua: &mut UserAgent<SplitMix64>, now: Instant, m: &SipMsg) {
        let source = "10.0.0.2:5060".parse().expect("literal address");
        let bytes = m.to_bytes();
        ua.handle_receive(
            now,
            Received {
                transport: Transport::Udp,
                source,
                bytes: &bytes,
            },
        );
    }

    fn sent(ua: &mut UserAgent<SplitMix64>) -> Vec<SipMsg> {
        core::iter::from_fn(|| ua.poll_transmit())
            .map(|t| SipMsg::parse(&t.bytes).expect("the UA writes parseable SIP"))
            .collect()
    }

    /// Alice calls with a 90 s session timer; the peer's 2xx names the `refresher`.
    fn answered(refresher: &str) -> (UserAgent<SplitMix64>, CallId) {
        let mut cfg = UaConfig::new("sip:alice@example.com", "10.0.0.1:5060".parse().unwrap());
        cfg.session_expires = Some(90);
        // Bob's address as the proxy: the same destination in every build (without
        // `ip-routing` a request goes only to a proxy).
        cfg.proxy = Some("10.0.0.2:5060".parse().unwrap());
        let mut ua = UserAgent::new(cfg, SplitMix64::new(11));
        let call = ua
            .call(Instant::ZERO, "sip:bob@10.0.0.2:5060", SDP)
            .unwrap();
        let invite = sent(&mut ua).remove(0);
        let mut ok = response(&invite, 200, Some("bobtag"));
        ok.push("Contact", "<sip:bob@10.0.0.2:5060>");
        ok.push("Allow", "INVITE, ACK, BYE, UPDATE");
        ok.push("Session-Expires", format!("90;refresher={refresher}"));
        ok.push("Require", "timer");
        feed(&mut ua, Instant::ZERO, &ok);
        let _ack = sent(&mut ua);
        let _answered: Vec<Event> = core::iter::from_fn(|| ua.poll_event()).collect();
        (ua, call)
    }

    /// Runs the UA's timers up to `until`; returns what it sent and reported.
    fn run(ua: &mut UserAgent<SplitMix64>, until: Instant) -> (Vec<SipMsg>, Vec<Event>) {
        let (mut out, mut events) = (Vec::new(), Vec::new());
        while let Some(t) = ua.poll_timeout().filter(|t| *t <= until) {
            ua.handle_timeout(t);
            out.extend(sent(ua));
            events.extend(core::iter::from_fn(|| ua.poll_event()));
        }
        (out, events)
    }

    /// The version bump of the line scan gives what the split-and-join version it
    /// replaced gave.
    #[test]
    fn bump_sdp_version_matches_the_split_version() {
        for sdp in [
            &b"v=0\r\no=alice 1 7 IN IP4 10.0.0.1\r\ns=-\r\n"[..],
            b"o=a b 7",
            b"o=a b 7\r\n",
            b"o= 1 2 IN\n",
            b"v=0\no=x 1 notanumber IN\no=y 2 3 IN\n",
            b"o=a b 18446744073709551615 IN",
            b"o=a b\n",
            b"o=a b \n",
            b"o=",
            b"",
            b"\xff o=a b 1",
            b"x\no=a  1 2\n",
        ] {
            assert_eq!(bump_sdp_version(sdp), bump_reference(sdp), "{sdp:?}");
        }
        assert_eq!(
            bump_sdp_version(b"o=alice 1 7 IN IP4 h\r\n"),
            b"o=alice 1 8 IN IP4 h\r\n"
        );
    }

    fn bump_reference(sdp: &[u8]) -> alloc::vec::Vec<u8> {
        let Ok(text) = core::str::from_utf8(sdp) else {
            return sdp.to_vec();
        };
        let mut out = alloc::string::String::with_capacity(text.len() + 2);
        let mut done = false;
        for line in text.split_inclusive('\n') {
            if !done && let Some(rest) = line.strip_prefix("o=") {
                let fields: alloc::vec::Vec<&str> = rest.split(' ').collect();
                if let [user, id, version, tail @ ..] = fields.as_slice()
                    && let Some(v) = crate::sip::scan::parse_u64(version)
                {
                    done = true;
                    out.push_str("o=");
                    out.push_str(user);
                    out.push(' ');
                    out.push_str(id);
                    out.push(' ');
                    crate::sip::text::push_u64(&mut out, v.wrapping_add(1));
                    for t in tail {
                        out.push(' ');
                        out.push_str(t);
                    }
                    continue;
                }
            }
            out.push_str(line);
        }
        out.into_bytes()
    }

    #[test]
    fn unrefreshed_session_ends_with_bye_and_session_expired() {
        let (mut ua, call) = answered("uas");
        // RFC 4028 §10: the non-refresher waits interval − min(32, interval/3) = 60 s.
        let (out, events) = run(&mut ua, Instant::ZERO + Duration::from_secs(59));
        assert!(out.is_empty() && events.is_empty(), "{out:?} {events:?}");
        let (out, events) = run(&mut ua, Instant::ZERO + Duration::from_secs(61));
        assert!(
            out.iter().any(|m| m.method() == Some(Method::Bye)),
            "{out:?}"
        );
        assert_eq!(
            events,
            [Event::Ended {
                call,
                reason: EndReason::SessionExpired
            }]
        );
    }

    #[test]
    fn failed_refresh_ends_with_session_expired_but_a_failed_offer_does_not() {
        let (mut ua, call) = answered("uac");
        let (out, _) = run(&mut ua, Instant::ZERO + Duration::from_secs(45));
        let update = out
            .iter()
            .find(|m| m.method() == Some(Method::Update))
            .expect("the refresher refreshes at half the interval");
        let now = Instant::ZERO + Duration::from_secs(45);
        feed(&mut ua, now, &response(update, 481, None));
        assert!(
            sent(&mut ua)
                .iter()
                .any(|m| m.method() == Some(Method::Bye))
        );
        let events: Vec<Event> = core::iter::from_fn(|| ua.poll_event()).collect();
        assert_eq!(
            events,
            [Event::Ended {
                call,
                reason: EndReason::SessionExpired
            }]
        );

        // A 481 to an application's re-offer ends the call too, but not as an expiry.
        let (mut ua, call) = answered("uac");
        let now = Instant::ZERO + Duration::from_secs(1);
        ua.update(now, call, SDP).unwrap();
        let reoffer = sent(&mut ua).remove(0);
        feed(&mut ua, now, &response(&reoffer, 481, None));
        let events: Vec<Event> = core::iter::from_fn(|| ua.poll_event()).collect();
        assert_eq!(
            events,
            [Event::Ended {
                call,
                reason: EndReason::Timeout
            }]
        );
    }
}
