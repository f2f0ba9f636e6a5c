//! Hold and unhold across an anchored call (RFC 3261 §14, RFC 3311, RFC 3264 §8.4,
//! RFC 6337 §5, RFC 7092 §3): a re-INVITE or UPDATE from one leg whose SDP changes the
//! direction (`a=sendonly`/`inactive` to hold, back to `sendrecv` to unhold) is relayed —
//! the other leg gets our own offer with the same direction (UPDATE when the originator used
//! UPDATE and the other peer allows it, else re-INVITE), and the originator's answer waits
//! for the other leg's outcome:
//!
//! - 2xx: the other leg's agreed direction is applied to the media plane and mirrored in our
//!   answer to the originator (ICE/DTLS of a WebRTC leg unchanged);
//! - a failure: the originator gets the same status (401/407, our credentials problem,
//!   become 500) and both sessions stay as they were; a 491 on the relayed re-INVITE is
//!   retried by the UA after the §14.1 random delay before it counts as a failure;
//! - the other leg busy with its own offer (glare across the B2BUA): 491 to the originator.
//!
//! Offers that keep the direction (session refreshes, address or codec changes) are
//! answered by the media plane without touching the other leg.
//!
//! Inputs: [`CallTask::anchored_offer`] for an `OfferReceived` of an anchored call;
//! [`CallTask::relay_answered`] / [`CallTask::relay_rejected`] for the other leg's
//! `MediaUpdated` / `OfferRejected`. Outputs: UA commands on both legs.

use rvoip_core::sip::ua::{CallId, Method, SipMsg};

use super::CallTask;
use crate::media::LegId;
use crate::sip::media::{other, sdp_direction};

/// The originator's offer waiting for the other leg's answer.
#[derive(Debug)]
pub(super) struct Relay {
    /// The leg whose peer sent the offer.
    pub from: LegId,
    /// That leg's call.
    pub call: CallId,
    /// Its SDP, answered once the other leg answered.
    pub offer: Vec<u8>,
}

/// What a call knows about the SIP peer of each leg (from the messages it sent).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct PeerCaps {
    /// Per leg (A, B): its Allow lists UPDATE.
    pub allows_update: [bool; 2],
    /// Per leg: its last mid-dialog offer was an UPDATE (else a re-INVITE).
    pub used_update: [bool; 2],
}

fn ix(leg: LegId) -> usize {
    match leg {
        LegId::A => 0,
        LegId::B => 1,
    }
}

impl PeerCaps {
    /// Whether an offer from the peer of `from` goes to the other leg as UPDATE: it came
    /// as UPDATE and the other peer allows UPDATE (else re-INVITE, always allowed).
    pub(super) fn relays_update(&self, from: LegId) -> bool {
        self.used_update[ix(from)] && self.allows_update[ix(other(from))]
    }

    /// Notes what `m`, a message from the peer of `leg`, says: its Allow, and the method of
    /// a mid-dialog offer.
    pub(super) fn snoop(&mut self, leg: LegId, m: &SipMsg) {
        if m.header("Allow").is_some() {
            self.allows_update[ix(leg)] = m.has_option("Allow", "UPDATE");
        }
        if m.to_tag().is_some() && !m.body.is_empty() {
            match m.method() {
                Some(Method::Update) => self.used_update[ix(leg)] = true,
                Some(Method::Invite) => self.used_update[ix(leg)] = false,
                _ => {}
            }
        }
    }
}

impl CallTask {
    /// Whether `leg` is a confirmed dialog we may send an offer on.
    fn leg_up(&self, leg: LegId) -> bool {
        match leg {
            LegId::A => self.a_call.is_some() && !self.a_done && self.answered,
            LegId::B => self.b.is_some() && self.b_call.is_some() && !self.b_done && self.answered,
        }
    }

    /// Answers (or rejects with `Err(code)`) the pending offer of `call` on `leg`.
    fn reply_offer(&mut self, leg: LegId, call: CallId, r: Result<Vec<u8>, u16>) {
        let now = self.sh.clock.now();
        let ua = match leg {
            LegId::A => Some(&mut self.a),
            LegId::B => self.b.as_mut(),
        };
        if let Some(ua) = ua {
            let _ = match r {
                Ok(sdp) => ua.answer(now, call, &sdp),
                Err(code) => ua.reject(now, call, code),
            };
        }
    }

    /// Sends `sdp` as an offer on `to`'s call: UPDATE when `update`, else re-INVITE.
    /// `false` when the leg cannot take an offer now (none up, or one in progress).
    pub(super) fn send_offer(&mut self, to: LegId, sdp: &[u8], update: bool) -> bool {
        let now = self.sh.clock.now();
        let (ua, call) = match to {
            LegId::A => (Some(&mut self.a), self.a_call),
            LegId::B => (self.b.as_mut(), self.b_call),
        };
        let (Some(ua), Some(c)) = (ua, call) else {
            return false;
        };
        if update {
            ua.update(now, c, sdp).is_ok()
        } else {
            ua.hold(now, c, sdp).is_ok()
        }
    }

    /// A mid-call offer (re-INVITE/UPDATE) from the peer of `leg` on an anchored call.
    pub(super) fn anchored_offer(&mut self, leg: LegId, call: CallId, sdp: Option<Vec<u8>>) {
        let offer = sdp.unwrap_or_default();
        let to = other(leg);
        let relay = !offer.is_empty() && self.media.changes_direction(leg, &offer);
        if !relay || !self.leg_up(to) {
            let r = self.media.answer_reoffer(leg, &offer);
            return self.reply_offer(leg, call, r);
        }
        if self.relay.is_some() {
            // One relayed offer at a time (§14.1: no second offer while one is pending).
            return self.reply_offer(leg, call, Err(491));
        }
        let Some(direction) = sdp_direction(&offer) else {
            return self.reply_offer(leg, call, Err(488));
        };
        let ours = match self.media.reoffer(to, direction) {
            Ok(o) => o,
            Err(code) => return self.reply_offer(leg, call, Err(code)),
        };
        let update = self.caps.relays_update(leg);
        if self.send_offer(to, &ours, update) {
            tracing::info!(
                id = self.id,
                ?leg,
                direction = direction.as_str(),
                "relaying"
            );
            self.relay = Some(Relay {
                from: leg,
                call,
                offer,
            });
        } else {
            // The other leg has an offer of its own in progress: glare across the B2BUA.
            self.media.reoffer_failed();
            self.reply_offer(leg, call, Err(491));
        }
    }

    /// `leg` answered our relayed offer (2xx with `sdp`); `false` if no relay was waiting
    /// on it.
    pub(super) fn relay_answered(&mut self, leg: LegId, sdp: Option<&[u8]>) -> bool {
        let Some(r) = self.relay.take_if(|r| r.from == other(leg)) else {
            return false;
        };
        let answer = match self.media.reoffer_answered(leg, sdp.unwrap_or(&[])) {
            Ok(_) => self.media.answer_reoffer(r.from, &r.offer),
            Err(code) => {
                tracing::warn!(id = self.id, ?leg, "relayed offer: unusable answer");
                Err(code)
            }
        };
        self.reply_offer(r.from, r.call, answer);
        true
    }

    /// `leg` refused our relayed offer with `code`; `false` if no relay was waiting on it.
    pub(super) fn relay_rejected(&mut self, leg: LegId, code: u16) -> bool {
        let Some(r) = self.relay.take_if(|r| r.from == other(leg)) else {
            return false;
        };
        self.media.reoffer_failed();
        tracing::info!(id = self.id, ?leg, code, "relayed offer refused");
        let code = match code {
            // Our credentials towards that peer are not the originator's business.
            401 | 407 => 500,
            c => c,
        };
        self.reply_offer(r.from, r.call, Err(code));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(text: &str) -> SipMsg {
        SipMsg::parse(text.replace('\n', "\r\n").as_bytes()).expect("test message")
    }

    const HEAD: &str = "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\n\
Call-ID: c1\nMax-Forwards: 70\n";

    #[test]
    fn snoop_learns_allow_and_the_offer_method_per_leg() {
        let mut caps = PeerCaps::default();
        let update = msg(&format!(
            "UPDATE sip:b@h SIP/2.0\n{HEAD}To: <sip:b@h>;tag=2\nCSeq: 2 UPDATE\n\
Allow: INVITE, ACK, BYE, UPDATE\nContent-Type: application/sdp\nContent-Length: 4\n\nv=0\n"
        ));
        caps.snoop(LegId::B, &update);
        assert_eq!(caps.allows_update, [false, true]);
        assert_eq!(caps.used_update, [false, true]);
        // A re-INVITE with SDP from the same peer, whose Allow lacks UPDATE.
        let reinvite = msg(&format!(
            "INVITE sip:b@h SIP/2.0\n{HEAD}To: <sip:b@h>;tag=2\nCSeq: 3 INVITE\n\
Allow: INVITE, ACK, BYE\nContent-Type: application/sdp\nContent-Length: 4\n\nv=0\n"
        ));
        caps.snoop(LegId::B, &reinvite);
        assert_eq!(caps.allows_update, [false, false]);
        assert_eq!(caps.used_update, [false, false]);
        // An initial INVITE (no To tag) is not a mid-dialog offer; a message without Allow
        // changes nothing.
        let mut caps = PeerCaps::default();
        caps.snoop(LegId::A, &update);
        let initial = msg(&format!(
            "INVITE sip:b@h SIP/2.0\n{HEAD}To: <sip:b@h>\nCSeq: 1 INVITE\n\
Content-Type: application/sdp\nContent-Length: 4\n\nv=0\n"
        ));
        caps.snoop(LegId::A, &initial);
        assert_eq!(caps.allows_update, [true, false]);
        assert_eq!(caps.used_update, [true, false]);
    }
}
