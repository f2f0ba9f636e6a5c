//! Offers inside a confirmed call: re-INVITE and UPDATE from us (hold/unhold/update,
//! RFC 3261 §14, RFC 3311) and from the peer, with glare detection (491, §14.2) and the
//! randomized retry of §14.1 (2.1–4 s when we own the Call-ID, else 0–2 s, from the Rng).
//!
//! Inputs: the application's hold/unhold/update commands, the peer's re-INVITE/UPDATE,
//! the responses to ours. Outputs: requests, ACK for the 2xx, [`Event::OfferReceived`],
//! [`Event::MediaUpdated`], [`Event::OfferRejected`].

use super::call::{CallState, UaError};
use super::msg::{Method, SipMsg};
use super::{CallId, EndReason, Event, UserAgent};
use crate::rand::Rng;
use crate::sip::transaction::TxKey;
use crate::time::{Duration, Instant};

fn body_of(m: &SipMsg) -> Option<alloc::vec::Vec<u8>> {
    (!m.body.is_empty()).then(|| m.body.clone())
}

impl<R: Rng> UserAgent<R> {
    /// Puts the call on hold: a re-INVITE with `sdp` (typically `a=sendonly`).
    pub fn hold(&mut self, now: Instant, call: CallId, sdp: &[u8]) -> Result<(), UaError> {
        self.offer(now, call, Method::Invite, sdp)
    }

    /// Takes the call off hold: a re-INVITE with `sdp` (typically `a=sendrecv`).
    pub fn unhold(&mut self, now: Instant, call: CallId, sdp: &[u8]) -> Result<(), UaError> {
        self.offer(now, call, Method::Invite, sdp)
    }

    /// Sends a new offer with UPDATE (RFC 3311), e.g. a media change without re-INVITE.
    pub fn update(&mut self, now: Instant, call: CallId, sdp: &[u8]) -> Result<(), UaError> {
        self.offer(now, call, Method::Update, sdp)
    }

    pub(crate) fn offer(
        &mut self,
        now: Instant,
        call: CallId,
        method: Method,
        sdp: &[u8],
    ) -> Result<(), UaError> {
        self.now = now;
        let c = self.calls.get(&call).ok_or(UaError::UnknownCall)?;
        if c.state != CallState::Confirmed || c.our_offer.is_some() || c.pending_offer.is_some() {
            return Err(UaError::InvalidState);
        }
        let mut r = self.in_dialog(call, method);
        if let Some((r, _)) = &mut r {
            self.decorate_offer(r, sdp, None);
        }
        let key = self
            .send_in_call(now, call, r)
            .ok_or(UaError::InvalidState)?;
        if let Some(c) = self.calls.get_mut(&call) {
            c.our_offer = Some(key);
            if !sdp.is_empty() {
                c.ext.local_sdp = sdp.to_vec();
            }
        }
        Ok(())
    }

    /// ACK for a 2xx to our re-INVITE (§13.2.2.4), kept for 2xx retransmissions.
    pub(crate) fn ack_reinvite_2xx(&mut self, id: CallId, resp: &SipMsg) {
        let cseq = super::build::cseq_num(resp).unwrap_or(1);
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        let peer = c.peer;
        let Some(d) = &mut c.dialog else {
            return;
        };
        let (ack, dest) = super::build::dialog_request(&self.cfg, d, Method::Ack, Some(cseq), peer);
        let bytes = self.send_ack(ack, dest);
        if let Some(c) = self.calls.get_mut(&id) {
            c.ack = bytes;
        }
    }

    /// Sends `ack`, the ACK for a 2xx (§13.2.2.4), to `dest` with a new Via; returns its
    /// bytes, kept to answer retransmissions of the 2xx.
    pub(crate) fn send_ack(
        &mut self,
        mut ack: SipMsg,
        dest: core::net::SocketAddr,
    ) -> alloc::vec::Vec<u8> {
        let via = self.new_via();
        ack.push_front("Via", via);
        let bytes = ack.to_bytes();
        self.transmit(dest, bytes.clone());
        bytes
    }

    pub(crate) fn offer_response(&mut self, now: Instant, id: CallId, resp: SipMsg, code: u16) {
        if code < 200 {
            return;
        }
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(key) = c.our_offer.take() else {
            return;
        };
        let is_invite = matches!(super::build::key_method(&key), Method::Invite);
        if (200..300).contains(&code) {
            if let Some(d) = &mut c.dialog {
                d.refresh_target(&resp);
            }
            if is_invite {
                self.ack_reinvite_2xx(id, &resp);
            }
            self.push_event(Event::MediaUpdated {
                call: id,
                sdp: body_of(&resp),
            });
        } else if code == 491 {
            // §14.1 glare: retry after 2.1–4 s if we own the Call-ID, else 0–2 s (10 ms steps).
            let owner = c.uac;
            let delay_ms = if owner {
                2100 + 10 * self.rng.below(191)
            } else {
                10 * self.rng.below(201)
            };
            let req = self
                .clients
                .get(&key)
                .map(|e| e.req.body.clone())
                .unwrap_or_default();
            if let Some(c) = self.calls.get_mut(&id) {
                c.glare_retry = Some((now + Duration::from_millis(delay_ms), is_invite, req));
            }
        } else if code == 481 || code == 408 {
            self.end_call_with_bye(now, id, EndReason::Timeout);
        } else {
            self.push_event(Event::OfferRejected { call: id, code });
        }
    }

    /// The peer's INVITE with a To tag: a re-INVITE (§14.2).
    pub(crate) fn incoming_offer(&mut self, now: Instant, id: CallId, key: TxKey) {
        let Some(req) = self.servers.get(&key).map(|e| e.req.clone()) else {
            return;
        };
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        if c.our_offer.is_some() {
            // Glare (§14.2): we have an offer outstanding.
            self.respond_code(now, &key, 491);
            return;
        }
        if c.pending_offer.is_some() || c.state != CallState::Confirmed {
            if let Some((_, mut r)) = self.server_response(&key, 500) {
                r.push("Retry-After", "1");
                self.respond(now, &key, r);
            }
            return;
        }
        if let Some(d) = &mut c.dialog {
            d.refresh_target(&req);
        }
        c.pending_offer = Some(key);
        self.push_event(Event::OfferReceived {
            call: id,
            sdp: body_of(&req),
        });
    }
}
