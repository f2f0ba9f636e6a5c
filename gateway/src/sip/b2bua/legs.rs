//! Starting the B leg: towards a registered user's contacts (with forking) or through the
//! route's trunks in order (failover on 5xx and timeouts), with the trunk's caller-id rules
//! (From user, P-Asserted-Identity).

use std::sync::atomic::Ordering;

use rvoip_core::sip::ua::{SipMsg, UaConfig, UserAgent};

use super::{CallTask, MAX_FORKS, Target, insert_header};
use crate::sip::registrar::Binding;
use crate::sip::{GwRng, Shared};
use crate::store::LegRecord;

impl CallTask {
    /// The From of a B leg (or fork) towards a registered user: the caller, or anonymous
    /// when the caller asked for privacy (`privacy.rs`).
    pub(super) fn user_leg_from(&self) -> String {
        if self.private {
            super::privacy::ANONYMOUS_AOR.to_string()
        } else {
            format!("sip:{}@{}", self.caller, self.sh.cfg.sip.domain)
        }
    }

    /// Starts (or restarts, on failover) the B leg towards the next target.
    pub(super) fn start_b(&mut self) {
        let now = self.sh.clock.now();
        let offer = if self.b_started {
            self.b_offer.clone()
        } else {
            let a_offer = self.a_offer.clone().unwrap_or_default();
            match self.media.offer_for_b(&a_offer) {
                Ok(o) => o,
                Err(code) => {
                    self.b_done = true;
                    self.set_cause(&format!("rejected: {code}"));
                    if let Some(ac) = self.a_call {
                        let _ = self.a.reject(now, ac, code);
                    }
                    return;
                }
            }
        };
        self.b_offer = offer.clone();
        let user_from = self.user_leg_from();
        loop {
            let (cfg, target_uri, flow, peer, trunk) = match &mut self.target {
                Target::Service(_) => break,
                Target::User(list) => {
                    if self.b_started {
                        break;
                    }
                    let Some(b) = list.first() else { break };
                    let transport = b.transport;
                    let mut cfg = UaConfig::new(user_from.clone(), self.sh.local_addr(transport));
                    cfg.transport = transport;
                    cfg.proxy = Some(b.flow.unwrap_or(b.source));
                    (cfg, b.uri.clone(), b.flow, b.source, None)
                }
                Target::Trunks(list) => {
                    let Some(i) = list.pop_front() else { break };
                    let Some(t) = Shared::lock(&self.sh.trunks).get(i).cloned() else {
                        continue;
                    };
                    let Some(dest) = t.next_hop else { continue };
                    let transport = t.transport();
                    let caller_num = t
                        .cfg
                        .caller_id
                        .clone()
                        .unwrap_or_else(|| self.caller.clone());
                    let mut cfg = UaConfig::new(
                        format!("sip:{caller_num}@{}", self.sh.cfg.sip.domain),
                        self.sh.local_addr(transport),
                    );
                    cfg.transport = transport;
                    cfg.proxy = Some(dest);
                    cfg.auth_user = t.cfg.username.clone().unwrap_or_default();
                    cfg.password = t.cfg.password.clone().unwrap_or_default();
                    let pai = t.cfg.asserted_identity.then(|| {
                        format!(
                            "P-Asserted-Identity: <sip:{caller_num}@{}>",
                            self.sh.cfg.sip.domain
                        )
                    });
                    // RFC 3325 §9.3: the carrier withholds the identity it is given.
                    let privacy = self.private.then(|| "Privacy: id".to_string());
                    self.pai = match (pai, privacy) {
                        (Some(a), Some(p)) => Some(format!("{a}\r\n{p}")),
                        (a, p) => a.or(p),
                    };
                    let host = t.cfg.host.clone();
                    let uri = format!("sip:{}@{host}", self.number);
                    (cfg, uri, None, dest, Some(t.cfg.name.clone()))
                }
            };
            let mut cfg = cfg;
            // The caller's display name goes on (a trunk's caller-id rule replaces only
            // the user part of From).
            cfg.display_name.clone_from(&self.display_name);
            super::leg_config(&mut cfg, &self.sh);
            let mut ua = UserAgent::new(cfg, GwRng::new());
            match ua.call(now, &target_uri, &offer) {
                Ok(c) => {
                    self.b_started = true;
                    self.b_done = false;
                    self.b_call = Some(c);
                    self.b_flow = flow;
                    self.slot.legs.fetch_add(1, Ordering::SeqCst);
                    self.sh.counters.legs.fetch_add(1, Ordering::SeqCst);
                    // The Call-ID the UA chose is in its first transmit: route it here.
                    let mut queued = Vec::new();
                    while let Some(t) = ua.poll_transmit() {
                        queued.push(t);
                    }
                    if let Some(cid) = queued
                        .first()
                        .and_then(|t| SipMsg::parse(&t.bytes).ok())
                        .and_then(|m| m.call_id().map(str::to_string))
                    {
                        self.slot.add_route(&self.sh, &cid, &self.tx);
                        self.b_call_id = Some(cid);
                    }
                    for t in queued {
                        let dest = self.b_flow.unwrap_or(t.destination);
                        let bytes = match &self.pai {
                            Some(pai) if t.bytes.starts_with(b"INVITE ") => {
                                insert_header(&t.bytes, pai)
                            }
                            _ => t.bytes,
                        };
                        self.flow_uses.note(t.transport, dest);
                        self.sh.send(t.transport, dest, bytes);
                    }
                    self.record.b_leg = LegRecord {
                        kind: if trunk.is_some() { "trunk" } else { "webrtc" }.into(),
                        peer: match &trunk {
                            Some(n) => format!("{n} ({peer})"),
                            None => peer.to_string(),
                        },
                        ..Default::default()
                    };
                    if let Some(n) = &trunk
                        && let Some(c) = Shared::lock(&self.sh.calls).get_mut(&self.id)
                    {
                        c.trunk = Some(n.clone());
                    }
                    self.b = Some(ua);
                    // Fork: ring the user's other contacts too.
                    if let Target::User(list) = &self.target {
                        let others: Vec<Binding> =
                            list.iter().skip(1).take(MAX_FORKS).cloned().collect();
                        for b in others {
                            self.launch_fork(now, &b, &offer);
                        }
                    }
                    return;
                }
                Err(e) => {
                    tracing::warn!(id = self.id, "B leg to {target_uri}: {e}");
                    if matches!(self.target, Target::User(_)) {
                        break;
                    }
                }
            }
        }
        // Nothing left to try.
        self.b_done = true;
        self.set_cause("failed: no route");
        if let Some(ac) = self.a_call
            && !self.a_done
        {
            let _ = self.a.reject(now, ac, 503);
        }
    }
}
