//! Routing of requests and responses to the UA's usages: calls, in-dialog BYE (§15),
//! UPDATE (RFC 3311), INFO with DTMF (RFC 6086), OPTIONS (§11), MESSAGE (RFC 3428), REFER
//! and its NOTIFY (RFC 3515), and the 481/500/405 answers of §12.2.2 and §8.2.1.

use crate::sip::scan::split_byte;
use crate::sip::text::cat;
use alloc::string::{String, ToString};

use super::build::{SUPPORTED, key_method, request_method};
use super::call::UaError;
use super::layer::Owner;
use super::msg::{Method, SipMsg, addr_uri};
use super::{CallId, EndReason, Event, UserAgent};
use crate::rand::Rng;
use crate::sip::transaction::TxKey;
use crate::time::Instant;

/// Parses an `application/dtmf-relay` body (`Signal=5\r\nDuration=160`).
fn parse_dtmf_relay(body: &[u8]) -> Option<(char, u32)> {
    let text = core::str::from_utf8(body).ok()?;
    let mut digit = None;
    let mut duration = 160;
    let mut rest = text;
    while !rest.is_empty() {
        // One line (its `\r` is trimmed with the value), then `key=value`.
        let (line, next) = split_byte(rest, b'\n');
        rest = next.unwrap_or("");
        let (k, Some(v)) = split_byte(line, b'=') else {
            continue;
        };
        let (k, v) = (k.trim_ascii(), v.trim_ascii());
        if k.eq_ignore_ascii_case("signal") {
            digit = v
                .bytes()
                .next()
                .map(char::from)
                .filter(|c| is_dtmf_digit(*c));
        } else if k.eq_ignore_ascii_case("duration") {
            duration = crate::sip::scan::parse_dec(v).unwrap_or(160);
        }
    }
    Some((digit?.to_ascii_uppercase(), duration))
}

/// The status code of a `message/sipfrag` body (`SIP/2.0 200 OK`).
fn sipfrag_code(body: &[u8]) -> Option<u16> {
    let text = core::str::from_utf8(body).ok()?;
    crate::sip::scan::parse_dec(text.strip_prefix("SIP/2.0 ")?.get(..3)?)
}

impl<R: Rng> UserAgent<R> {
    /// A request that created a new server transaction.
    pub(crate) fn tu_request(&mut self, now: Instant, key: TxKey) {
        let Some(req) = self.servers.get(&key).map(|e| e.req.clone()) else {
            return;
        };
        let Some(method) = request_method(&req) else {
            return;
        };
        let in_dialog = req.to_tag().is_some();
        let call = if in_dialog {
            self.call_for_request(&req)
        } else {
            None
        };
        // §12.2.2: CSeq lower than the last one → 500.
        let cseq_ok = call
            .and_then(|id| self.calls.get_mut(&id))
            .and_then(|c| c.dialog.as_mut())
            .is_none_or(|d| d.check_remote_cseq(&req).is_ok());
        // The arms that answer with a bare status give it here, answered once below (their
        // events go to the event queue, which the transmit order does not concern); the
        // others respond themselves and return.
        let code = match (method, call) {
            _ if !cseq_ok => 500,
            (Method::Invite, None) if !in_dialog => {
                self.incoming_invite(now, key);
                return;
            }
            (Method::Invite | Method::Update, Some(id)) => {
                if matches!(method, Method::Update) && req.body.is_empty() {
                    // A session refresh (RFC 4028) or a plain UPDATE without offer.
                    let Some((_, mut r)) = self.server_response(&key, 200) else {
                        return;
                    };
                    if let Some(se) = self.session_refreshed(now, id, &req) {
                        r.push("Session-Expires", se);
                        r.push("Require", "timer");
                    }
                    r.push("Contact", self.contact());
                    self.respond(now, &key, r);
                } else {
                    self.incoming_offer(now, id, key);
                }
                return;
            }
            (Method::Bye, Some(id)) => {
                self.respond_code(now, &key, 200);
                if let Some(c) = self.calls.remove(&id)
                    && c.state == super::call::CallState::Incoming
                {
                    self.respond_code(now, &c.invite_key, 487);
                }
                self.push_event(Event::Ended {
                    call: id,
                    reason: EndReason::RemoteHangup,
                });
                return;
            }
            (Method::Info, Some(id)) => {
                let ct = req.header("Content-Type").unwrap_or("");
                if ct.starts_with("application/dtmf-relay") {
                    match parse_dtmf_relay(&req.body) {
                        Some((digit, duration)) => {
                            self.push_event(Event::DtmfReceived {
                                call: id,
                                digit,
                                duration,
                            });
                            200
                        }
                        None => 400,
                    }
                } else if req.body.is_empty() {
                    200
                } else {
                    415
                }
            }
            (Method::Options, _) => {
                // (With the transaction's To tag, as every response of the UA.)
                let Some((_, mut r)) = self.server_response(&key, 200) else {
                    return;
                };
                r.push("Allow", self.cfg.allow());
                r.push(
                    "Accept",
                    "application/sdp, application/dtmf-relay, message/sipfrag, text/plain",
                );
                r.push("Supported", SUPPORTED);
                self.respond(now, &key, r);
                return;
            }
            (Method::Message, _) if !in_dialog || call.is_some() => {
                self.push_event(Event::IncomingMessage {
                    from: req.header("From").unwrap_or("").to_string(),
                    content_type: req
                        .header("Content-Type")
                        .unwrap_or("text/plain")
                        .to_string(),
                    body: req.body.clone(),
                });
                200
            }
            (Method::Refer, Some(id)) => match req.header("Refer-To").map(addr_uri) {
                Some(target) if !target.is_empty() => {
                    let target = target.to_string();
                    // 202 before the NOTIFY it announces.
                    self.respond_code(now, &key, 202);
                    self.send_notify(now, id, 100, false);
                    self.push_event(Event::TransferRequested { call: id, target });
                    return;
                }
                _ => 400,
            },
            (Method::Notify, Some(id)) => {
                let is_refer = req
                    .header("Event")
                    .is_some_and(|e| e.trim_ascii().starts_with("refer"));
                if let Some(code) = sipfrag_code(&req.body).filter(|_| is_refer) {
                    self.push_event(Event::TransferProgress { call: id, code });
                }
                200
            }
            (Method::Prack, Some(id)) => {
                self.incoming_prack(now, id, &key, &req);
                return;
            }
            #[cfg(feature = "sip-server")]
            (Method::Register, None) if self.cfg.registrar && !in_dialog => {
                self.registrar_request(now, key, &req);
                return;
            }
            (
                Method::Bye
                | Method::Info
                | Method::Update
                | Method::Refer
                | Method::Notify
                | Method::Prack,
                None,
            )
            | (Method::Invite | Method::Message, None) => {
                // §12.2.2: a request for a dialog we do not know (or out of dialog where one
                // is needed) → 481.
                481
            }
            (Method::Other(_) | Method::Subscribe, _) => 501,
            _ => 405,
        };
        self.respond_code(now, &key, code);
    }

    /// A response delivered by a client transaction.
    pub(crate) fn tu_response(&mut self, now: Instant, owner: Owner, key: &TxKey, resp: SipMsg) {
        if matches!(resp.code(), Some(401 | 407)) && self.auth_retry(now, owner, key, &resp) {
            return;
        }
        match owner {
            Owner::Call(id) => match key_method(key) {
                Method::Invite | Method::Update => self.call_response(now, id, key, resp),
                Method::Refer => {
                    if let Some(code) = resp.code().filter(|c| *c >= 300) {
                        self.push_event(Event::TransferProgress { call: id, code });
                    }
                }
                Method::Notify if resp.code().is_some_and(|c| c >= 200) => {
                    self.notify_done(now, id, key);
                }
                _ => {}
            },
            Owner::Register => self.register_response(now, key, resp),
            Owner::Message(id) => {
                if let Some(code) = resp.code().filter(|c| *c >= 200) {
                    self.push_event(Event::MessageStatus { id, code });
                }
            }
            // A BYE after the call ended: only its challenge matters (above).
            Owner::Nobody => {}
        }
    }

    /// A client transaction timed out (Timer B or F): the TU sees a 408.
    pub(crate) fn tu_client_timeout(&mut self, now: Instant, owner: Owner, key: &TxKey) {
        match owner {
            Owner::Call(id) => {
                self.notify_done(now, id, key);
                self.call_client_timeout(now, id, key);
            }
            Owner::Register => self.register_failed(now, 408),
            Owner::Message(id) => self.push_event(Event::MessageStatus { id, code: 408 }),
            Owner::Nobody => {}
        }
    }

    /// Sends DTMF `digit` lasting `duration_ms` by INFO (`application/dtmf-relay`).
    pub fn send_dtmf(
        &mut self,
        now: Instant,
        call: CallId,
        digit: char,
        duration_ms: u32,
    ) -> Result<(), UaError> {
        self.now = now;
        if !is_dtmf_digit(digit) {
            return Err(UaError::InvalidState);
        }
        let c = self.calls.get(&call).ok_or(UaError::UnknownCall)?;
        if c.state != super::call::CallState::Confirmed {
            return Err(UaError::InvalidState);
        }
        let body = cat!(
            "Signal=",
            digit.to_ascii_uppercase(),
            "\r\nDuration=",
            duration_ms,
            "\r\n"
        );
        let mut r = self.in_dialog(call, Method::Info);
        if let Some((r, _)) = &mut r {
            r.push("Content-Type", "application/dtmf-relay");
            r.body = body.into_bytes();
        }
        match self.send_in_call(now, call, r) {
            Some(_) => Ok(()),
            None => Err(UaError::InvalidState),
        }
    }

    /// Sends a MESSAGE (RFC 3428) with `text` (text/plain) to `target`; returns a handle
    /// reported back in [`Event::MessageStatus`].
    pub fn send_message(&mut self, now: Instant, target: &str, text: &str) -> Result<u64, UaError> {
        self.now = now;
        let dest = self.destination(target).ok_or(UaError::NoRoute)?;
        let cseq = self.first_cseq();
        let (mut req, _) = self.new_request(Method::Message, target, target, None, cseq);
        req.push("Content-Type", "text/plain;charset=UTF-8");
        req.body = text.as_bytes().to_vec();
        let id = self.next_message;
        self.next_message += 1;
        self.send_request(now, req, dest, Owner::Message(id))
            .ok_or(UaError::NoRoute)?;
        Ok(id)
    }

    /// Blind transfer (RFC 3515): REFER the peer of `call` to `target`. Progress comes as
    /// [`Event::TransferProgress`]; hang up when it reports 200.
    pub fn transfer(&mut self, now: Instant, call: CallId, target: &str) -> Result<(), UaError> {
        self.now = now;
        self.refer(now, call, target.to_string())
    }

    /// Attended transfer (RFC 3515 + RFC 3891): REFER the peer of `call` to the peer of
    /// `consultation`, with `Replaces` naming the consultation dialog.
    pub fn transfer_attended(
        &mut self,
        now: Instant,
        call: CallId,
        consultation: CallId,
    ) -> Result<(), UaError> {
        self.now = now;
        let c = self.calls.get(&consultation).ok_or(UaError::UnknownCall)?;
        let d = c.dialog.as_ref().ok_or(UaError::InvalidState)?;
        let remote = addr_uri(&d.remote_party).to_string();
        let (to_tag, from_tag) = (d.id.remote_tag.clone(), d.id.local_tag.clone());
        let replaces = escape(&cat!(
            d.id.call_id,
            ";to-tag=",
            to_tag,
            ";from-tag=",
            from_tag
        ));
        self.refer(now, call, cat!(remote, "?Replaces=", replaces))
    }

    fn refer(&mut self, now: Instant, call: CallId, refer_to: String) -> Result<(), UaError> {
        let c = self.calls.get(&call).ok_or(UaError::UnknownCall)?;
        if c.state != super::call::CallState::Confirmed {
            return Err(UaError::InvalidState);
        }
        let mut r = self.in_dialog(call, Method::Refer);
        if let Some((r, _)) = &mut r {
            r.push("Refer-To", cat!('<', refer_to, '>'));
            r.push("Referred-By", cat!('<', self.cfg.aor, '>'));
            r.push("Contact", self.contact());
        }
        match self.send_in_call(now, call, r) {
            Some(_) => Ok(()),
            None => Err(UaError::InvalidState),
        }
    }

    /// Accepts a transfer request: calls `target` (from [`Event::TransferRequested`]) with
    /// `sdp_offer`; its progress is reported to the transferor by NOTIFY (sipfrag).
    pub fn accept_transfer(
        &mut self,
        now: Instant,
        call: CallId,
        target: &str,
        sdp_offer: &[u8],
    ) -> Result<CallId, UaError> {
        let (uri, replaces) = match crate::sip::scan::split_once_str(target, "?Replaces=") {
            Some((u, r)) => (u.to_string(), Some(unescape(r))),
            None => (target.to_string(), None),
        };
        // RFC 3891: the INVITE names the dialog it replaces.
        let new = self.start_call(now, &uri, sdp_offer, replaces)?;
        if let Some(c) = self.calls.get_mut(&new) {
            c.notify_to = Some(call);
        }
        Ok(new)
    }

    /// NOTIFY with a `message/sipfrag` status line in the implicit refer subscription.
    pub(crate) fn send_notify(&mut self, now: Instant, call: CallId, code: u16, terminated: bool) {
        // One NOTIFY in progress at a time (RFC 6665 §4.2.2): later states wait, and only
        // the latest waiting state is kept.
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.ext.notify_pending.is_some() {
            c.ext.notify_queued = Some((code, terminated));
            return;
        }
        let body = cat!("SIP/2.0 ", code, ' ', super::build::reason(code), "\r\n");
        let state = if terminated {
            "terminated;reason=noresource"
        } else {
            "active;expires=60"
        };
        let mut r = self.in_dialog(call, Method::Notify);
        if let Some((r, _)) = &mut r {
            r.push("Event", "refer");
            r.push("Subscription-State", state);
            r.push("Contact", self.contact());
            r.push("Content-Type", "message/sipfrag;version=2.0");
            r.body = body.into_bytes();
        }
        let key = self.send_in_call(now, call, r);
        if let Some(c) = self.calls.get_mut(&call) {
            c.ext.notify_pending = key;
        }
    }

    /// Our NOTIFY `key` of call `id` completed (final response or timeout): send the state
    /// that waited for it, if any.
    pub(crate) fn notify_done(&mut self, now: Instant, id: CallId, key: &TxKey) {
        let Some(c) = self.calls.get_mut(&id) else {
            return;
        };
        if c.ext.notify_pending.as_ref() != Some(key) {
            return;
        }
        c.ext.notify_pending = None;
        if let Some((code, terminated)) = c.ext.notify_queued.take() {
            self.send_notify(now, id, code, terminated);
        }
    }

    /// Emits the event and, for a transfer target call, the NOTIFY to the transferor.
    pub(crate) fn notify_transfer_progress(&mut self, now: Instant, call: CallId, code: u16) {
        let to = self.calls.get(&call).and_then(|c| c.notify_to);
        if let Some(origin) = to {
            self.send_notify(now, origin, code, code >= 200);
        }
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        let code = match b {
            b';' => "%3B",
            b'=' => "%3D",
            b'@' => "%40",
            b' ' => "%20",
            _ => continue,
        };
        // ASCII delimiters: `run..i` is on char boundaries.
        out.push_str(s.get(run..i).unwrap_or(""));
        out.push_str(code);
        run = i + 1;
    }
    out.push_str(s.get(run..).unwrap_or(""));
    out
}

/// Reverses [`escape`]: `%3B`, `%3D`, `%40`, `%20` (upper-case, as written by `escape`);
/// other text is kept as it is.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = crate::sip::scan::find_byte(rest.as_bytes(), 0, b'%') {
        out.push_str(rest.get(..i).unwrap_or(""));
        let tail = rest.get(i..).unwrap_or("");
        let c = match tail.as_bytes().get(1..3) {
            Some(b"3B") => ';',
            Some(b"3D") => '=',
            Some(b"40") => '@',
            Some(b"20") => ' ',
            _ => {
                out.push('%');
                rest = tail.get(1..).unwrap_or("");
                continue;
            }
        };
        out.push(c);
        rest = tail.get(3..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// A DTMF event name of RFC 4733 / `application/dtmf-relay`: 0–9, `*`, `#`, A–D.
fn is_dtmf_digit(c: char) -> bool {
    matches!(c, '0'..='9' | '*' | '#' | 'A'..='D' | 'a'..='d')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtmf_relay_and_sipfrag() {
        assert_eq!(
            parse_dtmf_relay(b"Signal=5\r\nDuration=160\r\n"),
            Some(('5', 160))
        );
        assert_eq!(parse_dtmf_relay(b"Signal=#\r\n"), Some(('#', 160)));
        assert_eq!(parse_dtmf_relay(b"Signal=x\r\n"), None);
        assert_eq!(
            parse_dtmf_relay(b"junk\n Duration = 250 \r\nsignal= d\r\n"),
            Some(('D', 250))
        );
        assert_eq!(parse_dtmf_relay(b"Signal=\xc3\xa9\r\n"), None);
        assert_eq!(parse_dtmf_relay(b"Duration=100"), None);
        assert_eq!(escape("a b;c=d@\u{e9}"), "a%20b%3Bc%3Dd%40\u{e9}");
        assert_eq!(sipfrag_code(b"SIP/2.0 100 Trying\r\n"), Some(100));
        assert_eq!(sipfrag_code(b"SIP/2.0 200 OK"), Some(200));
        assert_eq!(sipfrag_code(b"junk"), None);
        assert_eq!(unescape(&escape("a@b;to-tag=1")), "a@b;to-tag=1");
        // The same text as the chain of `str::replace` it replaces.
        for s in [
            "%3%3BD", "%%3D3B", "%3b%20%", "x%40y%2", "%", "%3", "é%3Dé", "%253B",
        ] {
            let chain = s
                .replace("%3B", ";")
                .replace("%3D", "=")
                .replace("%40", "@")
                .replace("%20", " ");
            assert_eq!(unescape(s), chain, "{s}");
        }
        assert!(is_dtmf_digit('#') && is_dtmf_digit('d') && !is_dtmf_digit('E'));
    }
}
