//! The UA's transaction layer (RFC 3261 §17): the bounded table of client and server
//! transactions, matching of received messages to them (§17.1.3, §17.2.3), stateless
//! rejection of requests that cannot be matched (400) or do not fit (503 + Retry-After),
//! CANCEL matching (§9.2), and the ACK for non-2xx final responses (§17.1.1.3).

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::SocketAddr;

use super::build::{ack_for_non_2xx, response};
use super::msg::{Method, SipMsg, StartLine};
use super::{CallId, Received, Transmit, Transport, UserAgent};
use crate::rand::Rng;
use crate::sip::transaction::{
    ClientState, ClientTimerAction, ClientTransaction, ResponseAction, ServerState,
    ServerTimerAction, ServerTransaction, TxKey,
};
use crate::time::Instant;

/// Who gets the responses of a client transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// A call's INVITE, re-INVITE, UPDATE, INFO, REFER or NOTIFY.
    Call(CallId),
    /// The registration.
    Register,
    /// A MESSAGE with this handle.
    Message(u64),
    /// Nobody (BYE after the call ended, OPTIONS…).
    Nobody,
}

/// A client transaction and what the UA needs around it.
#[derive(Debug)]
pub(crate) struct ClientEntry {
    pub tx: ClientTransaction,
    /// Shared with the call that owns it (cheap clones).
    pub req: Arc<SipMsg>,
    pub dest: SocketAddr,
    pub owner: Owner,
    /// The deadline under which the entry sits in the timer index (without
    /// `btree-tables` there is no index: the transaction's own deadline is read).
    #[cfg(feature = "btree-tables")]
    pub indexed: Option<Instant>,
}

/// A server transaction and what the UA needs around it.
#[derive(Debug)]
pub(crate) struct ServerEntry {
    pub tx: ServerTransaction,
    /// Shared with the TU handlers (cheap clones).
    pub req: Arc<SipMsg>,
    pub source: SocketAddr,
    pub transport: Transport,
    /// The To tag our responses carry when the request had none.
    pub tag: alloc::string::String,
    /// The deadline under which the entry sits in the timer index (without
    /// `btree-tables` there is no index: the transaction's own deadline is read).
    #[cfg(feature = "btree-tables")]
    pub indexed: Option<Instant>,
}

impl<R: Rng> UserAgent<R> {
    pub(crate) fn transmit(&mut self, destination: SocketAddr, bytes: Vec<u8>) {
        self.transmit_on(self.cfg.transport, destination, bytes);
    }

    /// Queues `bytes` for `destination` over `transport` (responses go back over the
    /// transport their request came on).
    pub(crate) fn transmit_on(
        &mut self,
        transport: Transport,
        destination: SocketAddr,
        bytes: Vec<u8>,
    ) {
        self.transmits.push_back(Transmit {
            transport,
            destination,
            bytes,
        });
    }

    /// Adds a fresh Via and starts a client transaction for `req` (ACK is sent without one).
    pub(crate) fn send_request(
        &mut self,
        now: Instant,
        mut req: SipMsg,
        dest: SocketAddr,
        owner: Owner,
    ) -> Option<TxKey> {
        let via = self.new_via();
        req.push_front("Via", via);
        self.send_prepared(now, req, dest, owner)
    }

    /// Starts a client transaction for `req`, which already has its Via (CANCEL).
    pub(crate) fn send_prepared(
        &mut self,
        now: Instant,
        req: SipMsg,
        dest: SocketAddr,
        owner: Owner,
    ) -> Option<TxKey> {
        // The UA's own request: its CSeq names its method, its top Via has our branch.
        let key = TxKey::client(&req)?;
        let bytes = req.to_bytes();
        let method = super::build::key_method(&key);
        if matches!(method, Method::Ack) {
            self.transmit(dest, bytes);
            return None;
        }
        let tx = ClientTransaction::new(
            now,
            self.cfg.timers,
            matches!(method, Method::Invite),
            self.cfg.transport.is_reliable(),
            bytes.clone(),
        );
        self.transmit(dest, bytes);
        // (A fresh branch: 16 random characters, so a new key.)
        super::map::insert_new(
            &mut self.clients,
            key.clone(),
            Box::new(ClientEntry {
                tx,
                req: Arc::new(req),
                dest,
                owner,
                #[cfg(feature = "btree-tables")]
                indexed: None,
            }),
        );
        self.reindex(false, &key);
        Some(key)
    }

    /// Sends `resp` through the server transaction `key`; returns whether it was sent.
    pub(crate) fn respond(&mut self, now: Instant, key: &TxKey, resp: SipMsg) -> bool {
        self.respond_kept(now, key, resp).is_some()
    }

    /// Sends `resp` through the server transaction `key`; returns its bytes and where they
    /// went (for the TU to retransmit: a 2xx to INVITE, a reliable provisional), or `None`
    /// when it was not sent.
    pub(crate) fn respond_kept(
        &mut self,
        now: Instant,
        key: &TxKey,
        resp: SipMsg,
    ) -> Option<(Vec<u8>, SocketAddr)> {
        let code = resp.code()?;
        let entry = self.servers.get_mut(key)?;
        let bytes = resp.to_bytes();
        if !entry.tx.send_response(now, code, bytes.clone()) {
            return None;
        }
        let (dest, transport) = (entry.source, entry.transport);
        if entry.tx.is_terminated() {
            self.remove_server(key);
        } else {
            self.reindex(true, key);
        }
        self.transmit_on(transport, dest, bytes.clone());
        Some((bytes, dest))
    }

    /// Responds with just `code` (plus our tag) through the server transaction `key`.
    pub(crate) fn respond_code(&mut self, now: Instant, key: &TxKey, code: u16) -> bool {
        let Some((_, mut r)) = self.server_response(key, code) else {
            return false;
        };
        if code == 405 || code == 501 {
            r.push("Allow", self.cfg.allow());
        }
        self.respond(now, key, r)
    }

    /// The request of server transaction `key` and a `code` response to it (§8.2.6.2) with
    /// the transaction's To tag (the call's tag, for an INVITE that made one).
    pub(crate) fn server_response(&self, key: &TxKey, code: u16) -> Option<(Arc<SipMsg>, SipMsg)> {
        let e = self.servers.get(key)?;
        Some((e.req.clone(), response(&e.req, code, Some(&e.tag))))
    }

    /// A response sent without a transaction (§8.2.6 / §16.11-style stateless).
    fn respond_stateless(&mut self, rx: &Received<'_>, req: &SipMsg, code: u16, retry: bool) {
        if req.top_via().is_none() {
            return; // No Via: nowhere a response could be routed.
        }
        let (dest, transport) = (rx.source, rx.transport);
        let tag = self.random_token(10);
        let mut r = response(req, code, Some(&tag));
        if retry {
            r.push("Retry-After", "5");
        }
        self.transmit_on(transport, dest, r.to_bytes());
    }

    /// A request the shared validator refused: its response, statelessly (never for ACK).
    /// Built like every other UA response ([`response`]: the request's Vias, From, To with
    /// a new tag if it had none, Call-ID and CSeq, §8.2.6.2), with the rejection's status,
    /// reason and extra headers.
    pub(crate) fn reject_invalid(
        &mut self,
        rx: Received<'_>,
        m: &crate::sip::Message<'_>,
        rejection: &crate::sip::validate::Rejection,
    ) {
        let req = SipMsg::from_message(m);
        // The top Via element as received (an empty one, which the owned form drops, is
        // no Via to answer to).
        let top = m.headers().get(crate::sip::HeaderName::Via);
        if matches!(super::build::request_method(&req), Some(Method::Ack))
            || top
                .and_then(|v| crate::sip::scan::CommaSplit::new(v).next())
                .and_then(crate::sip::header::Via::parse)
                .is_none()
        {
            return; // ACK is never answered; without Via no response can be routed.
        }
        let tag = self.random_token(10);
        let mut resp = response(&req, rejection.status.as_u16(), Some(&tag));
        // The rejection's reason phrase (the status is already the rejection's).
        if let StartLine::Response { reason, .. } = &mut resp.start {
            reason.clear();
            reason.push_str(rejection.reason);
        }
        for (n, v) in &rejection.headers {
            if *n != crate::sip::HeaderName::Other {
                resp.push(n.as_str(), v.as_str());
            }
        }
        self.transmit_on(rx.transport, rx.source, resp.to_bytes());
    }

    pub(crate) fn reject_unparsable(&mut self, _rx: Received<'_>) {
        // Without a parsable Via, From, To, Call-ID and CSeq no response can be formed
        // (§8.2.6.2 copies them); the datagram is dropped.
    }

    pub(crate) fn receive_request(&mut self, now: Instant, rx: Received<'_>, m: SipMsg) {
        // The key is taken from the Via as sent (a retransmission arrives unstamped).
        let key = TxKey::server(&m);
        #[cfg(feature = "sip-server")]
        let m = {
            let mut m = m;
            m.note_source_in_via(rx.source);
            m
        };
        // §8.2: the shared validator (run before) checked From, To, Call-ID, Max-Forwards
        // and the CSeq method; a CSeq number the UA cannot use (2^31 or more, §8.1.1.5)
        // and a Via without a usable branch get a 400 here (never for ACK).
        let ack = matches!(super::build::request_method(&m), Some(Method::Ack));
        let key = match key {
            Ok(key) if super::build::cseq_num(&m).is_some() => key,
            _ => {
                if !ack {
                    self.respond_stateless(&rx, &m, 400, false);
                }
                return;
            }
        };
        if ack {
            if let Some(e) = self.servers.get_mut(&key)
                && e.tx.handle_ack(now)
            {
                if e.tx.is_terminated() {
                    self.remove_server(&key);
                } else {
                    self.reindex(true, &key);
                }
                return;
            }
            // ACK for a 2xx: end-to-end, to the dialog (§13.3.1.4, §17.2.3 note).
            self.tu_ack(now, m);
            return;
        }
        if let Some(e) = self.servers.get_mut(&key) {
            // A retransmission: resend the last response, never a new transaction.
            if let Some(bytes) = e.tx.handle_retransmission().map(<[u8]>::to_vec) {
                let (dest, transport) = (e.source, e.transport);
                self.transmit_on(transport, dest, bytes);
            }
            return;
        }
        if self.transaction_count() >= self.cfg.max_transactions {
            self.respond_stateless(&rx, &m, 503, true);
            return;
        }
        // (The key's method: the request's, ACK aside, which went above.)
        let method = super::build::key_method(&key);
        let (invite, cancel) = (
            matches!(method, Method::Invite),
            matches!(method, Method::Cancel),
        );
        let tx = ServerTransaction::new(self.cfg.timers, invite, rx.transport.is_reliable());
        let tag = self.random_token(10);
        // (Absent: a retransmission went above.)
        super::map::insert_new(
            &mut self.servers,
            key.clone(),
            Box::new(ServerEntry {
                tx,
                req: Arc::new(m),
                source: rx.source,
                transport: rx.transport,
                tag,
                #[cfg(feature = "btree-tables")]
                indexed: None,
            }),
        );
        if cancel {
            self.receive_cancel(now, &key);
        } else {
            self.tu_request(now, key);
        }
    }

    /// CANCEL (§9.2): 200 to the CANCEL; 487 to its INVITE if that is still pending.
    fn receive_cancel(&mut self, now: Instant, key: &TxKey) {
        let invite_key = key.with_method(Method::Invite);
        let pending = self
            .servers
            .get(&invite_key)
            .map(|e| matches!(e.tx.state(), ServerState::Proceeding));
        match pending {
            None => {
                self.respond_code(now, key, 481);
            }
            Some(pending) => {
                self.respond_code(now, key, 200);
                if pending {
                    self.tu_cancelled(now, &invite_key);
                }
            }
        }
    }

    pub(crate) fn receive_response(&mut self, now: Instant, m: SipMsg) {
        let Some(key) = TxKey::client(&m) else { return };
        let Some(code) = m.code() else { return };
        let Some(entry) = self.clients.get_mut(&key) else {
            if (200..300).contains(&code)
                && matches!(super::build::key_method(&key), Method::Invite)
            {
                self.tu_stray_2xx(now, &m);
            }
            return;
        };
        let owner = entry.owner;
        match entry.tx.handle_response(now, code) {
            ResponseAction::Absorb => {}
            ResponseAction::ResendAck => {
                if let Some(ack) = entry.tx.ack().map(<[u8]>::to_vec) {
                    let dest = entry.dest;
                    self.transmit(dest, ack);
                }
            }
            ResponseAction::DeliverAndAck => {
                let ack = ack_for_non_2xx(&entry.req, &m).to_bytes();
                entry.tx.set_ack(ack.clone());
                let dest = entry.dest;
                self.transmit(dest, ack);
                self.tu_response(now, owner, &key, m);
            }
            ResponseAction::Deliver => self.tu_response(now, owner, &key, m),
        }
        if self.clients.get(&key).is_some_and(|e| e.tx.is_terminated()) {
            self.remove_client(&key);
        } else {
            self.reindex(false, &key);
        }
    }

    /// The transport could not deliver to `destination` (ICMP unreachable, a TCP or
    /// WebSocket connection refused or closed): every pending client transaction to it
    /// fails as if it had received a 503 (RFC 3261 §8.1.3.1, §17.1.1.2, §17.1.2.2). A call
    /// being set up ends with [`super::EndReason::Rejected`]`(503)`, a registration fails
    /// with 503, a MESSAGE reports 503.
    pub fn handle_transport_error(&mut self, now: Instant, destination: SocketAddr) {
        self.now = now;
        let failed: Vec<TxKey> = self
            .clients
            .iter()
            .filter(|(_, e)| {
                e.dest == destination
                    && matches!(
                        e.tx.state(),
                        ClientState::Calling | ClientState::Trying | ClientState::Proceeding
                    )
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in failed {
            if let Some(mut e) = self.remove_client(&key) {
                e.tx.handle_transport_error();
                let resp = response(&e.req, 503, None);
                self.tu_response(now, e.owner, &key, resp);
            }
        }
    }

    /// Nothing to re-file without `btree-tables`: the scan reads each transaction's
    /// deadline.
    #[cfg(not(feature = "btree-tables"))]
    pub(crate) fn reindex(&mut self, _server: bool, _key: &TxKey) {}

    /// Re-files transaction `key` (client or server) in the timer index after a change.
    #[cfg(feature = "btree-tables")]
    pub(crate) fn reindex(&mut self, server: bool, key: &TxKey) {
        let slot = if server {
            self.servers
                .get_mut(key)
                .map(|e| (&mut e.indexed, e.tx.poll_timeout()))
        } else {
            self.clients
                .get_mut(key)
                .map(|e| (&mut e.indexed, e.tx.poll_timeout()))
        };
        let Some((indexed, next)) = slot else { return };
        let old = core::mem::replace(indexed, next);
        if old == next {
            return;
        }
        if let Some(t) = old {
            self.tx_timers.remove(&(t, server, key.clone()));
        }
        if let Some(t) = next {
            self.tx_timers.insert((t, server, key.clone()));
        }
    }

    /// Removes a client transaction and its timer index entry (boxed: not moved out).
    pub(crate) fn remove_client(&mut self, key: &TxKey) -> Option<Box<ClientEntry>> {
        let e = self.clients.remove(key)?;
        #[cfg(feature = "btree-tables")]
        if let Some(t) = e.indexed {
            self.tx_timers.remove(&(t, false, key.clone()));
        }
        Some(e)
    }

    /// Removes a server transaction and its timer index entry (boxed: not moved out).
    pub(crate) fn remove_server(&mut self, key: &TxKey) -> Option<Box<ServerEntry>> {
        let e = self.servers.remove(key)?;
        #[cfg(feature = "btree-tables")]
        if let Some(t) = e.indexed {
            self.tx_timers.remove(&(t, true, key.clone()));
        }
        Some(e)
    }

    /// The earliest transaction timer (the index keeps this O(log n)).
    #[cfg(feature = "btree-tables")]
    pub(crate) fn next_transaction_timer(&self) -> Option<Instant> {
        self.tx_timers.first().map(|(t, _, _)| *t)
    }

    /// The earliest transaction timer: (when, is server, key); at equal times clients
    /// before servers, then the older transaction (the index orders those by key, a random
    /// branch: either order is arbitrary).
    #[cfg(not(feature = "btree-tables"))]
    fn first_transaction_timer(&self) -> Option<(Instant, bool, &TxKey)> {
        let mut first: Option<(Instant, bool, &TxKey)> = None;
        let mut note = |t: Option<Instant>, server: bool, k| {
            if let Some(t) = t
                && first.is_none_or(|(f, _, _)| t < f)
            {
                first = Some((t, server, k));
            }
        };
        for (k, e) in self.clients.iter() {
            note(e.tx.poll_timeout(), false, k);
        }
        for (k, e) in self.servers.iter() {
            note(e.tx.poll_timeout(), true, k);
        }
        first
    }

    /// The earliest transaction timer.
    #[cfg(not(feature = "btree-tables"))]
    pub(crate) fn next_transaction_timer(&self) -> Option<Instant> {
        self.first_transaction_timer().map(|(t, _, _)| t)
    }

    /// The earliest filed transaction timer.
    fn first_tx_timer(&self) -> Option<(Instant, bool, TxKey)> {
        #[cfg(feature = "btree-tables")]
        return self.tx_timers.first().cloned();
        #[cfg(not(feature = "btree-tables"))]
        self.first_transaction_timer()
            .map(|(t, server, k)| (t, server, k.clone()))
    }

    /// Fires the due transaction timers, earliest first.
    pub(crate) fn layer_timeouts(&mut self, now: Instant) {
        while let Some(first) = self.first_tx_timer() {
            if first.0 > now {
                break;
            }
            let (_, server, key) = first;
            #[cfg(feature = "btree-tables")]
            self.tx_timers.remove(&(first.0, server, key.clone()));
            if server {
                #[cfg(feature = "btree-tables")]
                if let Some(e) = self.servers.get_mut(&key) {
                    e.indexed = None;
                }
                self.server_timeouts(now, &key);
                self.reindex(true, &key);
            } else {
                #[cfg(feature = "btree-tables")]
                if let Some(e) = self.clients.get_mut(&key) {
                    e.indexed = None;
                }
                self.client_timeouts(now, &key);
                self.reindex(false, &key);
            }
        }
    }

    fn client_timeouts(&mut self, now: Instant, key: &TxKey) {
        while let Some(action) = self
            .clients
            .get_mut(key)
            .and_then(|e| e.tx.handle_timeout(now))
        {
            match action {
                ClientTimerAction::Retransmit => {
                    if let Some(e) = self.clients.get(key) {
                        let (dest, bytes) = (e.dest, e.tx.request().to_vec());
                        self.transmit(dest, bytes);
                    }
                }
                ClientTimerAction::Timeout => {
                    if let Some(e) = self.remove_client(key) {
                        self.tu_client_timeout(now, e.owner, key);
                    }
                    return;
                }
                ClientTimerAction::Terminated => {
                    self.remove_client(key);
                    return;
                }
            }
        }
    }

    fn server_timeouts(&mut self, now: Instant, key: &TxKey) {
        while let Some(action) = self
            .servers
            .get_mut(key)
            .and_then(|e| e.tx.handle_timeout(now))
        {
            match action {
                ServerTimerAction::Retransmit => {
                    if let Some(e) = self.servers.get(key) {
                        let (dest, transport) = (e.source, e.transport);
                        if let Some(bytes) = e.tx.last_response().map(<[u8]>::to_vec) {
                            self.transmit_on(transport, dest, bytes);
                        }
                    }
                }
                ServerTimerAction::AckTimeout | ServerTimerAction::Terminated => {
                    self.remove_server(key);
                    return;
                }
            }
        }
    }
}
