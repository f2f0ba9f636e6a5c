//! Message construction helpers of the UA: responses (§8.2.6), Via/Contact, the ACK for a
//! non-2xx final response (§17.1.1.3), CANCEL (§9.1), address resolution of IP-literal URIs.

use alloc::string::{String, ToString};
use core::net::{IpAddr, SocketAddr};

use super::msg::{Method, SipMsg};
use super::{Transport, UserAgent};
use crate::rand::Rng;
use crate::sip::text::{cat, push_u64};
use crate::sip::transaction::TxKey;

/// The methods we accept (Allow).
pub(crate) const ALLOW: &str =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK, MESSAGE, REFER, NOTIFY, REGISTER";
/// The extensions we support (Supported).
pub(crate) const SUPPORTED: &str = "replaces, timer, 100rel, outbound";

// Every phrase back to back, and each code with the length of its phrase there, in order:
// a few bytes per code where a `match` compiled to code per arm. The phrases are the
// message layer's (`StatusCode::reason_phrase`, RFC 3261 §21; a test checks every entry),
// whose `match` costs ~500 bytes more gzipped in the browser package than this table.
macro_rules! reasons {
    ($($code:literal $phrase:literal,)*) => {
        const PHRASES: &str = concat!($($phrase),*);
        const CODES: &[(u16, u8)] = &[$(($code, $phrase.len() as u8)),*];
    };
}

reasons! {
    100 "Trying",
    180 "Ringing",
    181 "Call Is Being Forwarded",
    183 "Session Progress",
    200 "OK",
    202 "Accepted",
    400 "Bad Request",
    401 "Unauthorized",
    403 "Forbidden",
    404 "Not Found",
    405 "Method Not Allowed",
    407 "Proxy Authentication Required",
    408 "Request Timeout",
    415 "Unsupported Media Type",
    420 "Bad Extension",
    422 "Session Interval Too Small",
    423 "Interval Too Brief",
    480 "Temporarily Unavailable",
    481 "Call/Transaction Does Not Exist",
    486 "Busy Here",
    487 "Request Terminated",
    488 "Not Acceptable Here",
    491 "Request Pending",
    500 "Server Internal Error",
    501 "Not Implemented",
    503 "Service Unavailable",
    504 "Server Time-out",
    505 "Version Not Supported",
    603 "Decline",
}

/// The reason phrase of a status code ("Unknown" for a code without one here).
// Not inlined: each inlined copy would carry the search loop.
#[inline(never)]
pub fn reason(code: u16) -> &'static str {
    let mut at = 0;
    for &(c, len) in CODES {
        let end = at + usize::from(len);
        if c == code {
            return PHRASES.get(at..end).unwrap_or("Unknown");
        }
        at = end;
    }
    "Unknown"
}

/// A response to `req` (§8.2.6.2): Via, From, To (+ `to_tag` if it has none and the code
/// is not 100), Call-ID, CSeq copied; Record-Route copied on dialog-creating responses.
pub fn response(req: &SipMsg, code: u16, to_tag: Option<&str>) -> SipMsg {
    let mut r = SipMsg::response(code, reason(code));
    r.copy_from(req, "Via", true);
    r.copy_from(req, "From", false);
    match (req.header("To"), to_tag) {
        (Some(t), Some(tag)) if code != 100 && req.to_tag().is_none() => {
            r.push("To", cat!(t, ";tag=", tag));
        }
        _ => r.copy_from(req, "To", false),
    }
    r.copy_from(req, "Call-ID", false);
    r.copy_from(req, "CSeq", false);
    if code > 100 && code < 300 && matches!(request_method(req), Some(Method::Invite)) {
        r.copy_from(req, "Record-Route", true);
    }
    r
}

/// The ACK (§17.1.1.3) or CANCEL (§9.1) for INVITE `req`: same Request-URI, top Via,
/// Route, From, Call-ID and CSeq number; the To of `to` (the response for an ACK, the
/// INVITE for a CANCEL).
fn ack_or_cancel(req: &SipMsg, to: &SipMsg, method: Method) -> SipMsg {
    // (The CSeq value first: the method then moves into the start line, uncloned.)
    let cseq = cat!(cseq_num(req).unwrap_or(1), ' ', method.as_str());
    let ack = matches!(method, Method::Ack);
    let mut a = SipMsg::request(method, req.uri().unwrap_or("").to_string());
    a.copy_from(req, "Via", false);
    a.copy_from(req, "Route", true);
    a.push("Max-Forwards", "70");
    a.copy_from(req, "From", false);
    if !ack {
        a.copy_from(to, "To", false);
    }
    a.copy_from(req, "Call-ID", false);
    if ack {
        a.copy_from(to, "To", false);
    }
    a.push("CSeq", cseq);
    a
}

/// The ACK for a non-2xx final response `resp` to INVITE `req` (§17.1.1.3).
pub fn ack_for_non_2xx(req: &SipMsg, resp: &SipMsg) -> SipMsg {
    ack_or_cancel(req, resp, Method::Ack)
}

/// The CANCEL for INVITE `req` (§9.1): same Request-URI, top Via, Call-ID, From, To, Route
/// and CSeq number.
pub fn cancel_for(req: &SipMsg) -> SipMsg {
    ack_or_cancel(req, req, Method::Cancel)
}

/// The CSeq number of `m` ([`SipMsg::cseq_num`]).
pub(crate) fn cseq_num(m: &SipMsg) -> Option<u32> {
    m.cseq_num()
}

/// The method of request `m`, by reference (`None` for a response).
pub(crate) fn request_method(m: &SipMsg) -> Option<&Method> {
    match &m.start {
        super::msg::StartLine::Request { method, .. } => Some(method),
        super::msg::StartLine::Response { .. } => None,
    }
}

/// The method of client or server transaction `key` (a response's CSeq method, by
/// §17.1.3 matching), by reference.
pub(crate) fn key_method(key: &TxKey) -> &Method {
    match key {
        TxKey::Branch { method, .. } | TxKey::Legacy { method, .. } => method,
    }
}

/// The socket address of a URI whose host is an IP literal (no DNS in the core).
/// `host:port` of an address as it appears in Via and Contact (IPv6 in brackets).
pub(crate) fn hostport(addr: SocketAddr) -> String {
    crate::sip::ip::hostport(addr)
}

/// Where a request goes next: the outbound proxy when one is configured (every request
/// uses the flow to it, RFC 5626 / RFC 7118), else (with the `ip-routing` feature) the
/// IP-literal address of `next_hop`, else `fallback` (the address the peer's messages come
/// from).
pub(crate) fn next_hop_addr(
    proxy: Option<SocketAddr>,
    transport: Transport,
    next_hop: &str,
    fallback: SocketAddr,
) -> SocketAddr {
    #[cfg(feature = "ip-routing")]
    let proxy = proxy.or_else(|| resolve(next_hop, transport));
    #[cfg(not(feature = "ip-routing"))]
    let _ = (next_hop, transport);
    proxy.unwrap_or(fallback)
}

/// The in-dialog request `method` of dialog `d` (§12.2.1.1: CSeq `cseq`, or the dialog's
/// next one when `None`) and where it goes: the proxy, else the IP-literal address of the
/// dialog's first hop, else `peer`. One builder for BYE, re-INVITE, UPDATE, INFO, REFER,
/// NOTIFY, PRACK and the ACK of a 2xx.
pub(crate) fn dialog_request(
    cfg: &super::UaConfig,
    d: &mut crate::sip::dialog::Dialog,
    method: Method,
    cseq: Option<u32>,
    peer: SocketAddr,
) -> (SipMsg, SocketAddr) {
    let req = d.request(method, cseq);
    (
        req,
        next_hop_addr(cfg.proxy, cfg.transport, d.next_hop(), peer),
    )
}

/// The socket address of a URI whose host is an IP literal (no DNS in the core), read by
/// the message layer's URI parser ([`crate::sip::uri::SipUri`]; one URI grammar in the
/// crate): `None` for a domain name, a non-SIP URI or one that does not parse.
pub fn resolve(uri: &str, transport: Transport) -> Option<SocketAddr> {
    use crate::sip::uri::{Host, SipUri};
    let u = SipUri::parse(uri).ok()?;
    let ip = match u.host() {
        Host::Ipv4(v4) => IpAddr::V4(v4),
        Host::Ipv6(v6) => IpAddr::V6(v6),
        Host::Domain(_) => return None,
    };
    let default = if u.is_secure() || transport == Transport::Tls {
        5061
    } else {
        5060
    };
    Some(SocketAddr::new(ip, u.port().unwrap_or(default)))
}

impl<R: Rng> UserAgent<R> {
    /// A new Via value with a fresh branch (`z9hG4bK` + 16 random characters, §8.1.1.7).
    pub(crate) fn new_via(&mut self) -> String {
        let token = self.random_token(16);
        cat!(
            "SIP/2.0/",
            self.cfg.transport.via_token(),
            ' ',
            self.hostport,
            ";branch=z9hG4bK",
            token,
            ";rport"
        )
    }

    /// Our Contact value (with RFC 5626 parameters when configured).
    pub(crate) fn contact(&self) -> String {
        let user = self.cfg.aor_user();
        let transport = match self.cfg.transport {
            Transport::Udp => "",
            Transport::Tcp => ";transport=tcp",
            Transport::Tls => ";transport=tls",
            Transport::Ws | Transport::Wss => ";transport=ws",
        };
        let mut c = cat!("<sip:", user, '@', self.hostport, transport, '>');
        if let Some(inst) = &self.cfg.instance_id {
            c.push_str(";+sip.instance=\"<");
            c.push_str(inst);
            c.push_str(">\"");
            if let Some(id) = self.cfg.reg_id {
                c.push_str(";reg-id=");
                push_u64(&mut c, u64::from(id));
            }
        }
        c
    }

    pub(crate) fn local_party(&self, tag: &str) -> String {
        match &self.cfg.display_name {
            Some(n) => cat!('"', n, "\" <", self.cfg.aor, ">;tag=", tag),
            None => cat!('<', self.cfg.aor, ">;tag=", tag),
        }
    }

    /// Where an out-of-dialog request for `uri` goes: the proxy, else (with the `ip-routing`
    /// feature) the URI's address.
    pub(crate) fn destination(&self, uri: &str) -> Option<SocketAddr> {
        let proxy = self.cfg.proxy;
        #[cfg(feature = "ip-routing")]
        let proxy = proxy.or_else(|| resolve(uri, self.cfg.transport));
        #[cfg(not(feature = "ip-routing"))]
        let _ = uri;
        proxy
    }

    /// A new out-of-dialog request (§8.1.1) without Via: returns it and the From tag.
    pub(crate) fn new_request(
        &mut self,
        method: Method,
        uri: &str,
        to: &str,
        call_id: Option<&str>,
        cseq: u32,
    ) -> (SipMsg, String) {
        let tag = self.random_token(10);
        let call_id = match call_id {
            Some(c) => c.to_string(),
            None => cat!(self.random_token(20), '@', self.hostport),
        };
        // (The CSeq value first: the method then moves into the start line, uncloned.)
        let cseq = cat!(cseq, ' ', method.as_str());
        let mut m = SipMsg::request(method, uri.to_string());
        m.push("Max-Forwards", "70");
        m.push("From", self.local_party(&tag));
        m.push("To", cat!('<', to, '>'));
        m.push("Call-ID", call_id);
        m.push("CSeq", cseq);
        m.push("User-Agent", &self.cfg.user_agent);
        (m, tag)
    }

    /// A random first CSeq (§8.1.1.5: below 2^31), kept small to leave room.
    pub(crate) fn first_cseq(&mut self) -> u32 {
        1 + (self.rng.below(1 << 20) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The proxy when there is one; else the IP-literal next hop with `ip-routing`, and no
    /// route without it.
    #[test]
    fn destination_is_the_proxy_or_the_ip_literal_hop() {
        use crate::rand::SplitMix64;
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        let cfg = super::super::UaConfig::new("sip:a@example.com", a("10.0.0.1:5060"));
        let mut ua = super::super::UserAgent::new(cfg, SplitMix64::new(1));
        let direct = ua.destination("sip:b@10.0.0.2:5070");
        #[cfg(feature = "ip-routing")]
        assert_eq!(direct, Some(a("10.0.0.2:5070")));
        #[cfg(not(feature = "ip-routing"))]
        assert_eq!(direct, None);
        let hop = next_hop_addr(None, Transport::Udp, "sip:b@10.0.0.2:5070", a("10.0.0.9:1"));
        assert_eq!(hop, direct.unwrap_or(a("10.0.0.9:1")));
        ua.cfg.proxy = Some(a("10.0.0.3:5060"));
        assert_eq!(
            ua.destination("sip:b@10.0.0.2:5070"),
            Some(a("10.0.0.3:5060"))
        );
        let hop = next_hop_addr(
            ua.cfg.proxy,
            Transport::Udp,
            "sip:b@10.0.0.2",
            a("10.0.0.9:1"),
        );
        assert_eq!(hop, a("10.0.0.3:5060"));
    }

    #[test]
    fn reason_phrases_are_the_rfc_ones() {
        for (code, phrase) in [
            (100, "Trying"),
            (180, "Ringing"),
            (181, "Call Is Being Forwarded"),
            (200, "OK"),
            (401, "Unauthorized"),
            (407, "Proxy Authentication Required"),
            (422, "Session Interval Too Small"),
            (481, "Call/Transaction Does Not Exist"),
            (486, "Busy Here"),
            (491, "Request Pending"),
            (504, "Server Time-out"),
            (505, "Version Not Supported"),
            (603, "Decline"),
            (0, "Unknown"),
            (302, "Unknown"),
            (604, "Unknown"),
            (u16::MAX, "Unknown"),
        ] {
            assert_eq!(reason(code), phrase, "{code}");
        }
    }

    /// One set of phrases: every code of the UA's table has the message layer's phrase.
    #[test]
    fn reason_phrases_are_the_message_layers() {
        assert!(CODES.len() > 20);
        for &(code, _) in CODES {
            let status = crate::sip::StatusCode::new(code).expect("the table holds valid codes");
            assert_eq!(reason(code), status.reason_phrase(), "{code}");
        }
    }

    #[test]
    fn ack_and_cancel_follow_the_rfc() {
        let req = SipMsg::parse(
            b"INVITE sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bKq\r\n\
Route: <sip:p;lr>\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 7 INVITE\r\n\r\n",
        )
        .unwrap();
        let resp = response(&req, 486, Some("xy"));
        assert_eq!(resp.to_tag(), Some("xy"));
        let ack = ack_for_non_2xx(&req, &resp);
        assert_eq!(ack.cseq(), Some((7, Method::Ack)));
        assert_eq!(ack.branch(), Some("z9hG4bKq"));
        assert_eq!(ack.to_tag(), Some("xy"));
        assert_eq!(ack.header("Route"), Some("<sip:p;lr>"));
        let cancel = cancel_for(&req);
        assert_eq!(cancel.cseq(), Some((7, Method::Cancel)));
        assert_eq!(cancel.branch(), Some("z9hG4bKq"));
        assert_eq!(cancel.to_tag(), None);
        assert_eq!(
            resolve("sip:b@10.0.0.2:5070", Transport::Udp),
            Some("10.0.0.2:5070".parse().unwrap())
        );
        assert_eq!(resolve("sip:b@example.com", Transport::Udp), None);
    }

    /// IP-literal URIs resolve to their address and port, or the scheme's and transport's
    /// default port (RFC 3261 §19.1.2); names and other schemes do not resolve.
    #[test]
    fn resolve_reads_ip_literal_uris() {
        let addr = |s: &str| Some(s.parse::<SocketAddr>().unwrap());
        assert_eq!(
            resolve("sip:10.0.0.2", Transport::Udp),
            addr("10.0.0.2:5060")
        );
        assert_eq!(
            resolve("sip:10.0.0.2", Transport::Tls),
            addr("10.0.0.2:5061")
        );
        assert_eq!(
            resolve("sips:b@10.0.0.2;transport=tcp", Transport::Tcp),
            addr("10.0.0.2:5061")
        );
        assert_eq!(
            resolve("sip:b@[2001:db8::1]:5080;lr?x=y", Transport::Udp),
            addr("[2001:db8::1]:5080")
        );
        assert_eq!(resolve("sip:[::1]", Transport::Ws), addr("[::1]:5060"));
        for bad in [
            "tel:+15551234",
            "sip:b@",
            "sip:b@10.0.0.2:99999",
            "10.0.0.2",
            "",
        ] {
            assert_eq!(resolve(bad, Transport::Udp), None, "{bad}");
        }
    }
}
