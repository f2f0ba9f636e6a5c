//! Digest challenges across requests of one UA, driven by a scripted server on simulated
//! time (RFC 3261 §22.2–§22.3, §8.1.3.5, §17.1.1.3): a UA configured like a browser/WebSocket
//! user of the gateway (WS transport, outbound proxy, RFC 5626 instance) REGISTERs through a
//! 401, then its first INVITE is challenged (407 in the same realm, 407 in another realm, or
//! 401 again). The INVITE must be ACKed and resent once with the right credentials — new
//! CSeq, same Call-ID and From tag — and the call established on the 200.
//!
//! The scripted server verifies the credentials it receives with `DigestServer`, so a retry
//! carrying wrong digests is caught here, not only a missing retry.

#![cfg(feature = "sip-server")]

use rvoip_core::rand::SplitMix64;
use rvoip_core::sip::auth::{DigestRequest, DigestServer, Ha1Store, ServerConfig, Verification};
use rvoip_core::sip::ua::{
    Event, Method, Received, SipMsg, Transport, UaConfig, UserAgent, response,
};
use rvoip_core::time::{Duration, Instant};
use std::net::SocketAddr;

const OFFER: &[u8] = b"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n";
const ANSWER: &[u8] = b"v=0\r\nm=audio 5000 RTP/AVP 0\r\na=sendrecv\r\n";
const REALM: &str = "gw.example";

fn gateway() -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 10], 8080))
}

/// Alice as the load generator / browser phone configures her.
fn alice() -> UserAgent<SplitMix64> {
    let mut cfg = UaConfig::new(
        "sip:alice@gw.example",
        SocketAddr::from(([192, 0, 2, 1], 5060)),
    );
    cfg.advertised_host = Some("a1.invalid".into());
    cfg.transport = Transport::Ws;
    cfg.password = "secret".into();
    cfg.proxy = Some(gateway());
    cfg.instance_id = Some("urn:uuid:00000000-0000-4000-8000-000000000001".into());
    cfg.reg_id = Some(1);
    cfg.register_expires = 600;
    UserAgent::new(cfg, SplitMix64::new(5))
}

/// The scripted server: one digest server per realm, alice's password known in each.
struct Script {
    now: Instant,
    rng: SplitMix64,
    servers: Vec<DigestServer>,
    store: Ha1Store,
    /// The values of the last challenge sent.
    last: Vec<String>,
    /// Challenge with the last challenge's values (same realm and nonce) again.
    reuse_nonce: bool,
}

impl Script {
    fn new(realms: &[&str]) -> Script {
        let mut rng = SplitMix64::new(77);
        let mut store = Ha1Store::new();
        let servers = realms
            .iter()
            .map(|r| {
                store.insert_password(r, "alice", "secret");
                DigestServer::new(ServerConfig::new(*r), &mut rng)
            })
            .collect();
        Script {
            now: Instant::ZERO,
            rng,
            servers,
            store,
            last: Vec::new(),
            reuse_nonce: false,
        }
    }

    /// Everything alice sends now, parsed.
    fn sent(&mut self, ua: &mut UserAgent<SplitMix64>) -> Vec<SipMsg> {
        let mut out = Vec::new();
        while let Some(t) = ua.poll_transmit() {
            assert_eq!(t.destination, gateway());
            out.push(SipMsg::parse(&t.bytes).expect("alice sends valid SIP"));
        }
        out
    }

    fn deliver(&mut self, ua: &mut UserAgent<SplitMix64>, msg: &SipMsg) {
        self.now += Duration::from_millis(20);
        ua.handle_receive(
            self.now,
            Received {
                transport: Transport::Ws,
                source: gateway(),
                bytes: &msg.to_bytes(),
            },
        );
    }

    /// The `code` challenge (401 or 407) of realm `realm` to `req`.
    fn challenge(&mut self, req: &SipMsg, code: u16, realm: usize) -> SipMsg {
        let mut r = response(req, code, Some("gwtag"));
        let header = if code == 407 {
            "Proxy-Authenticate"
        } else {
            "WWW-Authenticate"
        };
        if !self.reuse_nonce || self.last.is_empty() {
            self.last = self.servers[realm].challenge_values(self.now, &mut self.rng, false);
        }
        for v in &self.last {
            r.push(header, v.clone());
        }
        r
    }

    /// Verifies `req`'s `header` credentials against realm `realm`.
    fn verify(&mut self, req: &SipMsg, header: &str, realm: usize) -> Verification {
        let method = req.method().unwrap();
        let uri = req.uri().unwrap().to_string();
        let request = DigestRequest {
            method: method.as_str(),
            uri: Some(&uri),
            body: &req.body,
        };
        let values: Vec<String> = req.headers_named(header).map(str::to_string).collect();
        self.servers[realm].verify_any(
            self.now,
            &request,
            values.iter().map(|s| s.as_str()),
            &self.store,
        )
    }
}

fn events(ua: &mut UserAgent<SplitMix64>) -> Vec<Event> {
    let mut v = Vec::new();
    while let Some(e) = ua.poll_event() {
        v.push(e);
    }
    v
}

fn only(mut msgs: Vec<SipMsg>, what: &str) -> SipMsg {
    assert_eq!(msgs.len(), 1, "{what}: {msgs:?}");
    msgs.remove(0)
}

/// REGISTER → 401 (realm 0) → REGISTER with Authorization → 200.
fn register(s: &mut Script, ua: &mut UserAgent<SplitMix64>) {
    ua.register(s.now).unwrap();
    let reg = only(s.sent(ua), "REGISTER");
    assert_eq!(reg.method(), Some(Method::Register));
    let c = s.challenge(&reg, 401, 0);
    s.deliver(ua, &c);
    let reg2 = only(s.sent(ua), "authenticated REGISTER");
    assert_eq!(reg2.method(), Some(Method::Register));
    assert!(matches!(
        s.verify(&reg2, "Authorization", 0),
        Verification::Ok(_)
    ));
    let mut ok = response(&reg2, 200, Some("gwtag"));
    for c in reg2.headers_named("Contact") {
        ok.push("Contact", format!("{c};expires=600"));
    }
    ok.push("Expires", "600");
    s.deliver(ua, &ok);
    assert!(s.sent(ua).is_empty());
    let ev = events(ua);
    assert!(
        ev.iter().any(|e| matches!(
            e,
            Event::Registration(rvoip_core::sip::ua::RegistrationState::Registered { .. })
        )),
        "{ev:?}"
    );
}

/// Registers through a 401 of realm 0, then calls; the INVITE is challenged with `code` of
/// realm `realm`; expects one ACKed, authenticated retry and the call established.
/// With `reuse_nonce` the INVITE's challenge repeats the REGISTER's nonce.
fn register_then_challenged_call(code: u16, realm: usize) {
    register_then_challenged_call_with(code, realm, false);
}

fn register_then_challenged_call_with(code: u16, realm: usize, reuse_nonce: bool) {
    let mut s = Script::new(&[REALM, "proxy.example"]);
    s.reuse_nonce = reuse_nonce;
    let mut ua = alice();
    register(&mut s, &mut ua);
    let call = ua.call(s.now, "sip:bob@gw.example", OFFER).unwrap();
    let invite = only(s.sent(&mut ua), "INVITE");
    assert_eq!(invite.method(), Some(Method::Invite));
    let (cseq, _) = invite.cseq().unwrap();
    let c = s.challenge(&invite, code, realm);
    s.deliver(&mut ua, &c);
    let out = s.sent(&mut ua);
    let ev = events(&mut ua);
    assert!(
        !ev.iter().any(|e| matches!(e, Event::Ended { .. })),
        "the call ended on the {code}: {ev:?}"
    );
    assert_eq!(out.len(), 2, "ACK for the {code}, then the retry: {out:?}");
    let ack = &out[0];
    assert_eq!(ack.method(), Some(Method::Ack));
    assert_eq!(ack.cseq(), Some((cseq, Method::Ack)));
    assert_eq!(ack.to_tag(), Some("gwtag"));
    let retry = &out[1];
    assert_eq!(retry.method(), Some(Method::Invite));
    assert_eq!(retry.cseq(), Some((cseq + 1, Method::Invite)));
    assert_eq!(retry.call_id(), invite.call_id());
    assert_eq!(retry.header("From"), invite.header("From"));
    assert_eq!(retry.to_tag(), None);
    assert_ne!(retry.header("Via"), invite.header("Via"), "a new branch");
    assert_eq!(retry.body, invite.body);
    let header = if code == 407 {
        "Proxy-Authorization"
    } else {
        "Authorization"
    };
    match s.verify(retry, header, realm) {
        Verification::Ok(a) => assert_eq!(a.username, "alice"),
        v => panic!("{header} refused: {v:?}\n{retry:?}"),
    }
    let mut ok = response(retry, 200, Some("bobtag"));
    ok.push("Contact", "<sip:bob@192.0.2.10:8080;transport=ws>");
    ok.push("Content-Type", "application/sdp");
    ok.body = ANSWER.to_vec();
    s.deliver(&mut ua, &ok);
    let ack = only(s.sent(&mut ua), "ACK for the 200");
    assert_eq!(ack.method(), Some(Method::Ack));
    assert_eq!(ack.cseq(), Some((cseq + 1, Method::Ack)));
    let ev = events(&mut ua);
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::Answered { call: c, .. } if *c == call)),
        "{ev:?}"
    );
}

#[test]
fn invite_407_same_realm_after_register_401_is_answered() {
    register_then_challenged_call(407, 0);
}

#[test]
fn invite_407_other_realm_after_register_401_is_answered() {
    register_then_challenged_call(407, 1);
}

#[test]
fn invite_401_after_register_401_is_answered() {
    register_then_challenged_call(401, 0);
}

/// A server that keeps one nonce per client and realm challenges the INVITE with the nonce
/// the REGISTER already used (nc=1): the nonce-count continues across the header kinds
/// (RFC 7616 §3.4: one count per nonce), else the retry is a replay and is refused.
#[test]
fn invite_407_reusing_the_register_nonce_continues_its_nonce_count() {
    register_then_challenged_call_with(407, 0, true);
}

#[test]
fn invite_401_reusing_the_register_nonce_continues_its_nonce_count() {
    register_then_challenged_call_with(401, 0, true);
}

/// Registers, calls; the INVITE gets `challenges` in turn (code, realm index, stale) and
/// each is answered with a retry carrying credentials for every realm challenged so far;
/// the last retry is answered 200.
fn challenged_call_rounds(challenges: &[(u16, usize, bool)]) {
    let mut s = Script::new(&[REALM, "proxy.example"]);
    let mut ua = alice();
    register(&mut s, &mut ua);
    let call = ua.call(s.now, "sip:bob@gw.example", OFFER).unwrap();
    let mut req = only(s.sent(&mut ua), "INVITE");
    let (cseq, _) = req.cseq().unwrap();
    let call_id = req.call_id().unwrap().to_string();
    let from = req.header("From").unwrap().to_string();
    for (round, &(code, realm, stale)) in challenges.iter().enumerate() {
        let mut c = s.challenge(&req, code, realm);
        if stale {
            let header = if code == 407 {
                "Proxy-Authenticate"
            } else {
                "WWW-Authenticate"
            };
            let values: Vec<String> = c
                .headers_named(header)
                .map(|v| format!("{v}, stale=true"))
                .collect();
            c.remove(header);
            for v in values {
                c.push(header, v);
            }
        }
        s.deliver(&mut ua, &c);
        let out = s.sent(&mut ua);
        let ev = events(&mut ua);
        assert!(
            !ev.iter().any(|e| matches!(e, Event::Ended { .. })),
            "round {round}: the call ended: {ev:?}"
        );
        assert_eq!(out.len(), 2, "round {round}: ACK and retry: {out:?}");
        req = out[1].clone();
        assert_eq!(req.cseq(), Some((cseq + 1 + round as u32, Method::Invite)));
        assert_eq!(req.call_id(), Some(call_id.as_str()));
        assert_eq!(req.header("From"), Some(from.as_str()));
    }
    // Every realm challenged is answered, each verifiable (once: a second check would be
    // a replay).
    let mut checked = Vec::new();
    for &(code, realm, _) in challenges {
        if checked.contains(&(code, realm)) {
            continue;
        }
        checked.push((code, realm));
        let header = if code == 407 {
            "Proxy-Authorization"
        } else {
            "Authorization"
        };
        let v = s.verify(&req, header, realm);
        assert!(
            matches!(v, Verification::Ok(_)),
            "{header} for realm {realm}: {v:?}\n{req:?}"
        );
    }
    let mut ok = response(&req, 200, Some("bobtag"));
    ok.push("Contact", "<sip:bob@192.0.2.10:8080;transport=ws>");
    s.deliver(&mut ua, &ok);
    let ev = events(&mut ua);
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::Answered { call: c, .. } if *c == call)),
        "{ev:?}"
    );
}

/// `stale=true` on the retry's challenge: the nonce expired, the password is right — one
/// more retry with the fresh nonce (RFC 7616 §3.3), not `Rejected(407)`.
#[test]
fn invite_407_stale_on_the_retry_earns_another_retry() {
    challenged_call_rounds(&[(407, 0, false), (407, 0, true)]);
}

/// Two proxies of a chain challenge in turn (RFC 3261 §22.3): the second retry answers
/// both realms.
#[test]
fn invite_407_from_a_second_proxy_realm_is_answered_too() {
    challenged_call_rounds(&[(407, 0, false), (407, 1, false)]);
}
