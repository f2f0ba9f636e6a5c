//! SIP dialogs (RFC 3261 §12): identification, creation by UAC and UAS, in-dialog request
//! construction, CSeq rules and target refresh.
//!
//! Inputs: the dialog-creating request and response ([`Dialog::uac`], [`Dialog::uas`]), the
//! in-dialog requests received ([`Dialog::check_remote_cseq`]) and target refresh requests
//! or responses ([`Dialog::refresh_target`]). Output: in-dialog requests
//! ([`Dialog::request`]) with the Request-URI, Route set, tags and CSeq of §12.2.1.1.

use crate::sip::text::cat;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::sip::ua::msg::{Method, SipMsg, addr_uri, param};

/// A dialog's identity: Call-ID, local tag and remote tag (§12).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DialogId {
    /// The Call-ID.
    pub call_id: String,
    /// Our tag.
    pub local_tag: String,
    /// The peer's tag.
    pub remote_tag: String,
}

/// The state of a dialog (§12: early after a 1xx with a tag, confirmed after a 2xx).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogState {
    /// Created by a provisional response with a To tag.
    Early,
    /// Created or confirmed by a 2xx.
    Confirmed,
}

/// Why an in-dialog request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CseqError {
    /// The CSeq is lower than (or, for a new transaction, equal to) the last one: 500
    /// (§12.2.2).
    OutOfOrder,
}

/// The state of one dialog (§12.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    /// Call-ID and tags.
    pub id: DialogId,
    /// Early or confirmed.
    pub state: DialogState,
    /// The CSeq of the last request we sent in the dialog.
    pub local_seq: u32,
    /// The CSeq of the last request the peer sent, if any.
    pub remote_seq: Option<u32>,
    /// Our From/To header value, with our tag.
    pub local_party: String,
    /// The peer's From/To header value, with its tag.
    pub remote_party: String,
    /// The peer's Contact URI (Request-URI of our in-dialog requests).
    pub remote_target: String,
    /// The route set: Route values for our in-dialog requests, in order.
    pub route_set: Vec<String>,
    /// Whether the dialog was created over `sips:` (§12.1.1).
    pub secure: bool,
}

impl Dialog {
    /// The dialog a UAC creates from its request and a 1xx-with-tag or 2xx response
    /// (§12.1.2): route set = Record-Route reversed; remote target = Contact.
    pub fn uac(req: &SipMsg, resp: &SipMsg) -> Option<Dialog> {
        let remote_tag = resp.to_tag()?.to_string();
        let code = resp.code()?;
        let mut route_set = record_routes(resp);
        route_set.reverse();
        Some(Dialog {
            id: DialogId {
                call_id: req.call_id()?.to_string(),
                local_tag: req.from_tag()?.to_string(),
                remote_tag,
            },
            state: if code >= 200 {
                DialogState::Confirmed
            } else {
                DialogState::Early
            },
            local_seq: req.cseq_num()?,
            remote_seq: None,
            local_party: req.header("From")?.to_string(),
            remote_party: resp.header("To")?.to_string(),
            remote_target: resp
                .contact_uri()
                .or_else(|| req.uri())
                .unwrap_or("")
                .to_string(),
            route_set,
            secure: sips(req),
        })
    }

    /// The dialog a UAS creates when it answers `req` with our tag `local_tag` (§12.1.1):
    /// route set = Record-Route in order; remote target = Contact; remote CSeq = request's.
    pub fn uas(req: &SipMsg, local_tag: &str, state: DialogState) -> Option<Dialog> {
        let to = req.header("To")?;
        let local_party = if param(to, "tag").is_some() {
            to.to_string()
        } else {
            cat!(to, ";tag=", local_tag)
        };
        Some(Dialog {
            id: DialogId {
                call_id: req.call_id()?.to_string(),
                local_tag: local_tag.to_string(),
                remote_tag: req.from_tag().unwrap_or("").to_string(),
            },
            state,
            local_seq: 0,
            remote_seq: Some(req.cseq_num()?),
            local_party,
            remote_party: req.header("From")?.to_string(),
            remote_target: req.contact_uri()?.to_string(),
            route_set: record_routes(req),
            secure: sips(req),
        })
    }

    /// Sets the first local CSeq (a UAS dialog's first request uses a random start).
    pub fn seed_local_seq(&mut self, start: u32) {
        if self.local_seq == 0 {
            self.local_seq = start;
        }
    }

    /// Builds an in-dialog request (§12.2.1.1) without Via; ACK reuses the INVITE's CSeq
    /// (pass `cseq = Some(n)`), every other method increments the local CSeq.
    pub fn request(&mut self, method: Method, cseq: Option<u32>) -> SipMsg {
        let seq = match cseq {
            Some(n) => n,
            None => {
                self.local_seq = self.local_seq.wrapping_add(1) & 0x7fff_ffff;
                self.local_seq
            }
        };
        // Strict routing (§12.2.1.1): the first route (no `lr`) is the Request-URI and the
        // remote target goes last in the Route set.
        let strict = self.route_set.first().filter(|r| !is_loose(r));
        let uri = strict.map_or(self.remote_target.as_str(), |r| addr_uri(r));
        // (The CSeq value first: the method then moves into the start line, uncloned.)
        let cseq = cat!(seq, ' ', method.as_str());
        let mut m = SipMsg::request(method, uri.to_string());
        for r in self.route_set.iter().skip(usize::from(strict.is_some())) {
            m.push("Route", r);
        }
        if strict.is_some() {
            m.push("Route", cat!('<', self.remote_target, '>'));
        }
        m.push("Max-Forwards", "70");
        m.push("From", &self.local_party);
        m.push("To", &self.remote_party);
        m.push("Call-ID", &self.id.call_id);
        m.push("CSeq", cseq);
        m
    }

    /// Where in-dialog requests go first: the first route's URI, else the remote target.
    pub fn next_hop(&self) -> &str {
        self.route_set
            .first()
            .map_or(self.remote_target.as_str(), |r| addr_uri(r))
    }

    /// Checks the CSeq of an in-dialog request from the peer (§12.2.2) and records it.
    /// ACK and CANCEL reuse the CSeq of their INVITE and are not checked.
    pub fn check_remote_cseq(&mut self, req: &SipMsg) -> Result<(), CseqError> {
        let Some((n, m)) = req.cseq() else {
            return Err(CseqError::OutOfOrder);
        };
        if matches!(m, Method::Ack | Method::Cancel) {
            return Ok(());
        }
        match self.remote_seq {
            Some(last) if n <= last => Err(CseqError::OutOfOrder),
            _ => {
                self.remote_seq = Some(n);
                Ok(())
            }
        }
    }

    /// Target refresh (§12.2.1.2, §12.2.2): a re-INVITE/UPDATE or its 2xx with a Contact
    /// replaces the remote target.
    pub fn refresh_target(&mut self, msg: &SipMsg) {
        if let Some(c) = msg.contact_uri() {
            self.remote_target = c.to_string();
        }
    }

    /// Whether `msg` (a request from the peer) belongs to this dialog.
    pub fn matches_request(&self, msg: &SipMsg) -> bool {
        msg.call_id() == Some(self.id.call_id.as_str())
            && msg.to_tag() == Some(self.id.local_tag.as_str())
            && msg.from_tag().unwrap_or("") == self.id.remote_tag
    }
}

/// The Record-Route values of `m`, in order.
/// The request was sent to a SIPS URI (§12.1.1, §12.1.2: the dialog is secure).
fn sips(req: &SipMsg) -> bool {
    req.uri().is_some_and(|u| u.starts_with("sips:"))
}

fn record_routes(m: &SipMsg) -> Vec<String> {
    let mut v = Vec::new();
    for r in m.headers_named("Record-Route") {
        v.push(r.to_string());
    }
    v
}

fn is_loose(route: &str) -> bool {
    let uri = addr_uri(route);
    param(uri, "lr").is_some() || crate::sip::scan::find_str(uri, ";lr").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(s: &str) -> SipMsg {
        SipMsg::parse(s.as_bytes()).unwrap()
    }

    const INVITE: &str = "INVITE sip:bob@b.com SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n\
From: <sip:alice@a.com>;tag=at\r\nTo: <sip:bob@b.com>\r\nCall-ID: cid\r\nCSeq: 10 INVITE\r\n\
Contact: <sip:alice@10.0.0.1>\r\nRecord-Route: <sip:p1;lr>, <sip:p2;lr>\r\n\r\n";

    #[test]
    fn uac_route_set_is_reversed_and_uas_is_not() {
        let req = msg(INVITE);
        let resp = msg(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:alice@a.com>;tag=at\r\n\
To: <sip:bob@b.com>;tag=bt\r\nCall-ID: cid\r\nCSeq: 10 INVITE\r\nContact: <sip:bob@10.0.0.2>\r\n\
Record-Route: <sip:p1;lr>, <sip:p2;lr>\r\n\r\n",
        );
        let mut d = Dialog::uac(&req, &resp).unwrap();
        assert_eq!(d.route_set, ["<sip:p2;lr>", "<sip:p1;lr>"]);
        assert_eq!(d.state, DialogState::Confirmed);
        let bye = d.request(Method::Bye, None);
        assert_eq!(bye.uri(), Some("sip:bob@10.0.0.2"));
        assert_eq!(bye.cseq(), Some((11, Method::Bye)));
        assert_eq!(
            bye.headers_named("Route").collect::<Vec<_>>(),
            ["<sip:p2;lr>", "<sip:p1;lr>"]
        );
        assert_eq!(bye.to_tag(), Some("bt"));

        let mut s = Dialog::uas(&req, "bt", DialogState::Confirmed).unwrap();
        assert_eq!(s.route_set, ["<sip:p1;lr>", "<sip:p2;lr>"]);
        assert_eq!(s.remote_target, "sip:alice@10.0.0.1");
        assert!(s.local_party.ends_with(";tag=bt"));
        // CSeq rules: 10 seen; 9 is refused with 500, 11 accepted.
        let lower = msg(&INVITE.replace("CSeq: 10 INVITE", "CSeq: 9 BYE"));
        assert_eq!(s.check_remote_cseq(&lower), Err(CseqError::OutOfOrder));
        let higher = msg(&INVITE.replace("CSeq: 10 INVITE", "CSeq: 11 BYE"));
        assert_eq!(s.check_remote_cseq(&higher), Ok(()));
        assert_eq!(s.remote_seq, Some(11));
    }
}
