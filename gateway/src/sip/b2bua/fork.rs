//! Forking (RFC 3261 §16.7 applied by a B2BUA): a call to a user with several registered
//! contacts rings them all in parallel; the first to answer becomes the B leg and the others
//! are cancelled; a contact that fails hands the B leg over to one still ringing.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use rvoip_core::sip::ua::{CallId, Event, SipMsg, UaConfig, UserAgent};

use super::CallTask;
use crate::sip::GwRng;
use crate::sip::registrar::Binding;

/// A forked B leg (another contact of the called user).
pub(super) struct Fork {
    pub(super) ua: UserAgent<GwRng>,
    pub(super) call: CallId,
    pub(super) call_id: String,
    pub(super) flow: Option<SocketAddr>,
    pub(super) peer: SocketAddr,
    pub(super) done: bool,
}

impl CallTask {
    /// The B leg (or a fork) rang: release the A leg's held 180.
    pub(super) fn b_rang(&mut self) {
        self.b_ringing = true;
        if let Some((transport, dest, bytes)) = self.held_ringing.take() {
            self.flow_uses.note(transport, dest);
            self.sh.send(transport, dest, bytes);
        }
        self.set_state("ringing");
    }

    /// Makes fork `i` the B leg; the former B leg takes its slot (`ended`: it is over).
    pub(super) fn promote(&mut self, i: usize, ended: bool) {
        let Some(f) = self.forks.get_mut(i) else {
            return;
        };
        let Some(old_ua) = self.b.take() else {
            return;
        };
        let new_ua = std::mem::replace(&mut f.ua, old_ua);
        let old_call = self.b_call.replace(f.call);
        let old_cid = self.b_call_id.replace(f.call_id.clone());
        let old_flow = std::mem::replace(&mut self.b_flow, f.flow);
        let peer = f.peer;
        if let (Some(c), Some(cid)) = (old_call, old_cid) {
            f.call = c;
            f.call_id = cid;
        }
        f.flow = old_flow;
        f.done = ended;
        self.b = Some(new_ua);
        self.b_done = false;
        self.record.b_leg.peer = peer.to_string();
    }

    pub(super) fn fork_event(&mut self, i: usize, e: Event) {
        let now = self.sh.clock.now();
        match e {
            Event::Ringing { .. } => self.b_rang(),
            Event::Answered { call, sdp } => {
                if self.answered || self.a_done {
                    if let Some(f) = self.forks.get_mut(i) {
                        let _ = f.ua.hangup(now, call);
                    }
                    return;
                }
                // This contact answered first: it becomes the B leg; the former B leg
                // (now in slot `i`) and the other forks are cancelled by `b_event`.
                self.promote(i, false);
                self.b_event(Event::Answered { call, sdp });
            }
            Event::Ended { .. } => {
                if let Some(f) = self.forks.get_mut(i)
                    && !f.done
                {
                    f.done = true;
                    self.slot.leg_done(&self.sh);
                }
            }
            _ => {}
        }
    }

    /// Rings another contact of the called user in parallel with the B leg.
    pub(super) fn launch_fork(
        &mut self,
        now: rvoip_core::time::Instant,
        b: &Binding,
        offer: &[u8],
    ) {
        let mut cfg = UaConfig::new(self.user_leg_from(), self.sh.local_addr(b.transport));
        cfg.transport = b.transport;
        cfg.proxy = Some(b.flow.unwrap_or(b.source));
        cfg.display_name.clone_from(&self.display_name);
        super::leg_config(&mut cfg, &self.sh);
        let mut ua = UserAgent::new(cfg, GwRng::new());
        let Ok(call) = ua.call(now, &b.uri, offer) else {
            return;
        };
        let mut queued = Vec::new();
        while let Some(t) = ua.poll_transmit() {
            queued.push(t);
        }
        let Some(cid) = queued
            .first()
            .and_then(|t| SipMsg::parse(&t.bytes).ok())
            .and_then(|m| m.call_id().map(str::to_string))
        else {
            return;
        };
        self.slot.add_route(&self.sh, &cid, &self.tx);
        self.slot.legs.fetch_add(1, Ordering::SeqCst);
        self.sh.counters.legs.fetch_add(1, Ordering::SeqCst);
        for t in queued {
            let dest = b.flow.unwrap_or(t.destination);
            self.flow_uses.note(t.transport, dest);
            self.sh.send(t.transport, dest, t.bytes);
        }
        self.forks.push(Fork {
            ua,
            call,
            call_id: cid,
            flow: b.flow,
            peer: b.source,
            done: false,
        });
    }

    /// Hangs up every live fork (CANCEL while ringing).
    pub(super) fn cancel_forks(&mut self) {
        let now = self.sh.clock.now();
        for f in &mut self.forks {
            if !f.done {
                let _ = f.ua.hangup(now, f.call);
            }
        }
    }
}
