//! Browser tests of rvoip-wasm (run with `wasm-pack test --headless --chrome wasm`, see
//! scripts/test-wasm.sh): SIP flows of the phone against a scripted in-page transport on
//! fake time — REGISTER → 401 → REGISTER with digest (MD5 and SHA-256, checked against an
//! independent digest computation) → 200; INVITE → 100/180 → 200 → ACK → BYE; an incoming
//! call; MESSAGE both ways; reconnection with backoff and re-registration; keep-alive
//! supervision; weighted fail-over — and the exported entry point `cmd` end to end.
//! They also run natively with `cargo test -p rvoip-wasm` (except the `cmd` test, which
//! needs the browser's `crypto`).

use md5::Md5;
use rvoip_core::rand::SplitMix64;
use rvoip_core::sip::ua::msg::SipMsg;
use rvoip_core::sip::ua::{CallId, EndReason, Event, Method, RegistrationState};
use rvoip_core::time::{Duration, Instant};
use rvoip_wasm::PhoneEventJs;
use rvoip_wasm::phone::{Action, Phone, PhoneConfig};
use rvoip_wasm::pool::Server;
use sha2::{Digest, Sha256};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111 0 101\r\nc=IN IP4 0.0.0.0\r\n\
a=rtpmap:111 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";
const ANSWER: &str = "v=0\r\no=- 2 1 IN IP4 192.0.2.9\r\ns=-\r\nt=0 0\r\n\
m=audio 40000 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 192.0.2.9\r\na=rtpmap:111 opus/48000/2\r\n";

/// The phone, fake time, and the scripted server's view of the socket.
struct Net {
    phone: Phone<SplitMix64>,
    now: Instant,
    sent: Vec<SipMsg>,
    pings: usize,
    /// The scripted server answers keep-alive pings with a CRLF pong.
    auto_pong: bool,
    connects: Vec<String>,
    closes: usize,
    /// The events, decoded as the wrapper reads them.
    events: Vec<PhoneEventJs>,
}

/// An event as the wrapper reads it: TextDecoder (lossy UTF-8), then the fields.
fn decode(e: &[u8]) -> PhoneEventJs {
    PhoneEventJs::decode(&String::from_utf8_lossy(e)).expect("an encoded event")
}

/// How the phone reports the UA's `e` (the encoding itself is tested in the crate's unit
/// tests).
fn ua(e: Event) -> PhoneEventJs {
    decode(&rvoip_wasm::encode_event(&e))
}

/// The reconnection delay of a `Disconnected` event, if it has one.
fn retry(e: &PhoneEventJs) -> Option<Duration> {
    (e.kind == "d" && e.code >= 0).then(|| Duration::from_millis(e.code as u64))
}

impl Net {
    fn new(servers: &[(&str, u32)], password: &str) -> Net {
        let servers = servers
            .iter()
            .map(|(u, w)| Server::new((*u).into(), *w))
            .collect();
        let mut cfg = PhoneConfig::new("sip:alice@example.com", servers);
        cfg.password = password.into();
        cfg.display_name = Some("Alice".into());
        cfg.register_expires = 300;
        Net {
            phone: Phone::new(cfg, SplitMix64::new(11), SplitMix64::new(12)),
            now: Instant::from_millis(1_000),
            sent: Vec::new(),
            pings: 0,
            auto_pong: true,
            connects: Vec::new(),
            closes: 0,
            events: Vec::new(),
        }
    }

    /// Started and connected.
    fn connected(password: &str) -> Net {
        let mut n = Net::new(&[("wss://sip.example.com/ws", 1)], password);
        assert!(n.phone.start(n.now));
        n.pump();
        assert_eq!(n.connects, ["wss://sip.example.com/ws"]);
        n.phone.handle_open(n.now);
        n.pump();
        n
    }

    fn pump(&mut self) {
        let mut pong = false;
        while let Some(a) = self.phone.poll_output() {
            match Action::decode(&a) {
                Some(Action::Connect(u)) => self.connects.push(u),
                Some(Action::Close) => self.closes += 1,
                Some(Action::Send(b)) if b == b"\r\n\r\n" => {
                    self.pings += 1;
                    pong = self.auto_pong;
                }
                Some(Action::Send(b)) => self
                    .sent
                    .push(SipMsg::parse(&b).expect("UA sent valid SIP")),
                None => self.events.push(decode(&a)),
            }
        }
        if pong {
            self.phone.handle_message(self.now, b"\r\n");
        }
    }

    /// The oldest message sent, which must be a `method` request.
    fn request(&mut self, method: Method) -> SipMsg {
        self.pump();
        assert!(!self.sent.is_empty(), "expected a {method:?}, nothing sent");
        let m = self.sent.remove(0);
        assert_eq!(m.method(), Some(method), "{m:?}");
        m
    }

    /// The oldest message sent, which must be a response with `code`.
    fn response(&mut self, code: u16) -> SipMsg {
        self.pump();
        assert!(!self.sent.is_empty(), "expected a {code}, nothing sent");
        let m = self.sent.remove(0);
        assert_eq!(m.code(), Some(code), "{m:?}");
        m
    }

    fn deliver(&mut self, msg: &str) {
        self.phone.handle_message(self.now, msg.as_bytes());
        self.pump();
    }

    /// Advances fake time by `d`, firing every timer on the way at its instant.
    fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        while let Some(t) = self.phone.poll_timeout().filter(|t| *t <= end) {
            self.now = t.max(self.now);
            self.phone.handle_timeout(self.now);
            self.pump();
        }
        self.now = end;
    }

    fn take_events(&mut self) -> Vec<PhoneEventJs> {
        core::mem::take(&mut self.events)
    }

    /// The UA's events (not the connection's: connecting, connected, disconnected).
    fn ua_events(&mut self) -> Vec<PhoneEventJs> {
        self.take_events()
            .into_iter()
            .filter(|e| !matches!(e.kind.as_str(), "c" | "C" | "d"))
            .collect()
    }
}

/// A response to `req` written by the scripted server (independently of the UA's builder).
fn reply(req: &SipMsg, code: u16, reason: &str, extra: &str, body: &str) -> String {
    let mut s = format!("SIP/2.0 {code} {reason}\r\n");
    for v in req.headers_named("Via") {
        s += &format!("Via: {v}\r\n");
    }
    let to = req.header("To").unwrap();
    let to = if req.to_tag().is_none() && code > 100 {
        format!("{to};tag=srv1")
    } else {
        to.to_string()
    };
    s += &format!(
        "From: {}\r\nTo: {to}\r\nCall-ID: {}\r\nCSeq: {}\r\n{extra}",
        req.header("From").unwrap(),
        req.header("Call-ID").unwrap(),
        req.header("CSeq").unwrap()
    );
    if !body.is_empty() {
        s += "Content-Type: application/sdp\r\n";
    }
    s + &format!("Content-Length: {}\r\n\r\n{body}", body.len())
}

/// The parameters of a `Digest a=b, c="d"` header value.
fn digest_params(v: &str) -> Vec<(String, String)> {
    let v = v.trim().strip_prefix("Digest").expect("Digest scheme");
    v.split(',')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        .collect()
}

fn param<'a>(ps: &'a [(String, String)], k: &str) -> &'a str {
    ps.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(k))
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {k} in {ps:?}"))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// RFC 7616 §3.4.1 `response` with qop=auth, computed here independently of core.
fn expected_response(alg: &str, user: &str, pw: &str, ps: &[(String, String)]) -> String {
    let h = |s: String| match alg {
        "MD5" => hex(&Md5::digest(s.as_bytes())),
        _ => hex(&Sha256::digest(s.as_bytes())),
    };
    let ha1 = h(format!("{user}:{}:{pw}", param(ps, "realm")));
    let ha2 = h(format!("REGISTER:{}", param(ps, "uri")));
    h(format!(
        "{ha1}:{}:{}:{}:auth:{ha2}",
        param(ps, "nonce"),
        param(ps, "nc"),
        param(ps, "cnonce")
    ))
}

/// REGISTER → 401 (algorithm `alg`) → REGISTER with a correct digest → 200.
fn register_with(alg: &str) -> Net {
    let mut n = Net::connected("s3cret");
    n.phone.register(n.now).unwrap();
    n.pump();
    let r1 = n.request(Method::Register);
    assert_eq!(r1.uri(), Some("sip:example.com"));
    assert!(
        r1.top_via().unwrap().starts_with("SIP/2.0/WSS "),
        "RFC 7118 Via"
    );
    let contact = r1.header("Contact").unwrap();
    assert!(
        contact.contains(".invalid;transport=ws"),
        "RFC 7118 §5.2: {contact}"
    );
    assert!(r1.top_via().unwrap().contains(".invalid;"), "RFC 7118 §5.2");
    assert!(contact.contains("+sip.instance=\"<urn:uuid:"), "{contact}");
    assert!(contact.contains("reg-id=1"), "{contact}");
    assert_eq!(r1.header("Expires"), Some("300"));
    assert!(r1.header("Authorization").is_none());
    assert!(r1.header("From").unwrap().contains("\"Alice\""));
    let challenge = format!(
        "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"n0nce{alg}\", qop=\"auth\", algorithm={alg}\r\n"
    );
    n.deliver(&reply(&r1, 401, "Unauthorized", &challenge, ""));
    let r2 = n.request(Method::Register);
    assert_eq!(r2.call_id(), r1.call_id(), "same Call-ID");
    assert_eq!(r2.cseq().unwrap().0, r1.cseq().unwrap().0 + 1, "CSeq + 1");
    let ps = digest_params(r2.header("Authorization").expect("credentials"));
    assert_eq!(param(&ps, "username"), "alice");
    assert_eq!(param(&ps, "realm"), "example.com");
    assert_eq!(param(&ps, "nonce"), format!("n0nce{alg}"));
    assert_eq!(param(&ps, "uri"), "sip:example.com");
    assert_eq!(param(&ps, "algorithm"), alg);
    assert_eq!(param(&ps, "nc"), "00000001");
    assert_eq!(
        param(&ps, "response"),
        expected_response(alg, "alice", "s3cret", &ps)
    );
    // Servers grant the lifetime in the Contact's expires and/or an Expires header.
    let ok = reply(
        &r2,
        200,
        "OK",
        &format!(
            "Contact: {};expires=120\r\nExpires: 120\r\n",
            r2.header("Contact").unwrap()
        ),
        "",
    );
    n.deliver(&ok);
    assert_eq!(
        n.ua_events(),
        [ua(Event::Registration(RegistrationState::Registered {
            expires: 120
        }))]
    );
    assert!(n.phone.is_registered());
    n
}

#[wasm_bindgen_test(unsupported = test)]
fn register_with_md5_digest() {
    let mut n = register_with("MD5");
    // The refresh comes before the binding expires (50–90 % of 120 s).
    n.advance(Duration::from_secs(59));
    assert!(n.sent.is_empty());
    n.advance(Duration::from_secs(50));
    assert!(n.pings >= 3, "keep-alives meanwhile");
    assert_eq!(n.closes, 0, "answered keep-alives keep the socket");
    let r3 = n.request(Method::Register);
    // The refresh reuses the realm's nonce with the next nonce count.
    let ps = digest_params(r3.header("Authorization").unwrap());
    assert_eq!(param(&ps, "nc"), "00000002");
    assert_eq!(
        param(&ps, "response"),
        expected_response("MD5", "alice", "s3cret", &ps)
    );
}

/// A registrar that grants the lifetime only in the Contact's `expires` parameter
/// (Kamailio does): the UA must find its own binding even with `+sip.instance="<urn…>"`.
#[wasm_bindgen_test(unsupported = test)]

fn granted_expires_from_contact_param_with_instance() {
    let mut n = Net::connected("");
    n.phone.register(n.now).unwrap();
    n.pump();
    let r = n.request(Method::Register);
    let c = r.header("Contact").unwrap();
    n.deliver(&reply(
        &r,
        200,
        "OK",
        &format!("Contact: {c};expires=60\r\n"),
        "",
    ));
    assert_eq!(
        n.ua_events(),
        [ua(Event::Registration(RegistrationState::Registered {
            expires: 60
        }))]
    );
}

#[wasm_bindgen_test(unsupported = test)]
fn register_with_sha256_digest() {
    register_with("SHA-256");
}

#[wasm_bindgen_test(unsupported = test)]
fn wrong_password_fails_registration() {
    let mut n = Net::connected("wrong");
    n.phone.register(n.now).unwrap();
    n.pump();
    let ch = "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"abc\", qop=\"auth\"\r\n";
    let mut rounds = 0;
    while let Some(r) = (!n.sent.is_empty()).then(|| n.request(Method::Register)) {
        rounds += 1;
        assert!(rounds <= 4, "the UA must give up");
        n.deliver(&reply(&r, 401, "Unauthorized", ch, ""));
    }
    assert!(rounds >= 2);
    assert_eq!(
        n.ua_events(),
        [ua(Event::Registration(RegistrationState::Failed {
            code: 401
        }))]
    );
    assert!(!n.phone.is_registered());
}

#[wasm_bindgen_test(unsupported = test)]
fn outgoing_call_invite_ringing_answer_ack_bye() {
    let mut n = register_with("MD5");
    let call = n.phone.call(n.now, "bob", OFFER.as_bytes()).unwrap();
    let inv = n.request(Method::Invite);
    assert_eq!(inv.uri(), Some("sip:bob@example.com"));
    assert_eq!(inv.header("Content-Type"), Some("application/sdp"));
    assert_eq!(inv.body, OFFER.as_bytes());
    assert!(inv.header("Contact").unwrap().contains("transport=ws"));
    n.deliver(&reply(&inv, 100, "Trying", "", ""));
    n.deliver(&reply(
        &inv,
        180,
        "Ringing",
        "Contact: <sip:bob@192.0.2.9;transport=ws>\r\n",
        "",
    ));
    assert_eq!(n.ua_events(), [ua(Event::Ringing { call })]);
    n.deliver(&reply(
        &inv,
        200,
        "OK",
        "Contact: <sip:bob@192.0.2.9;transport=ws>\r\n",
        ANSWER,
    ));
    assert_eq!(
        n.ua_events(),
        [ua(Event::Answered {
            call,
            sdp: Some(ANSWER.as_bytes().to_vec())
        })]
    );
    let ack = n.request(Method::Ack);
    assert_eq!(
        ack.uri(),
        Some("sip:bob@192.0.2.9;transport=ws"),
        "remote target"
    );
    assert_eq!(ack.cseq(), Some((inv.cseq().unwrap().0, Method::Ack)));
    assert_eq!(ack.to_tag(), Some("srv1"));
    assert_eq!(ack.call_id(), inv.call_id());
    // Hang up: BYE in the dialog, 200.
    n.phone
        .with_ua(n.now, |ua, now| ua.hangup(now, call))
        .unwrap();
    let bye = n.request(Method::Bye);
    assert_eq!(bye.to_tag(), Some("srv1"));
    assert_eq!(bye.from_tag(), inv.from_tag());
    assert!(bye.cseq().unwrap().0 > inv.cseq().unwrap().0);
    assert_eq!(
        n.ua_events(),
        [ua(Event::Ended {
            call,
            reason: EndReason::LocalHangup
        })]
    );
    n.deliver(&reply(&bye, 200, "OK", "", ""));
    assert!(n.sent.is_empty());
    assert_eq!(n.phone.ua().call_count(), 0);
}

#[wasm_bindgen_test(unsupported = test)]
fn incoming_call_answer_ack_remote_bye() {
    let mut n = register_with("MD5");
    let contact = "sip:alice@192.0.2.1;transport=ws";
    let invite = format!(
        "INVITE {contact} SIP/2.0\r\nVia: SIP/2.0/WSS proxy.example.com;branch=z9hG4bKin1\r\n\
Max-Forwards: 70\r\nFrom: \"Bob\" <sip:bob@example.com>;tag=b1\r\nTo: <sip:alice@example.com>\r\n\
Call-ID: in-call-1\r\nCSeq: 10 INVITE\r\nContact: <sip:bob@192.0.2.9;transport=ws>\r\n\
Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{OFFER}",
        OFFER.len()
    );
    n.deliver(&invite);
    let evs = n.ua_events();
    let [e] = evs.as_slice() else {
        panic!("{evs:?}")
    };
    assert_eq!(e.kind, "i", "incoming call: {e:?}");
    let call = CallId(e.call.into());
    assert!(e.text.contains("sip:bob@example.com"));
    assert_eq!(e.body.as_deref(), Some(OFFER));
    n.response(100);
    let ringing = n.response(180);
    let tag = ringing.to_tag().unwrap().to_string();
    n.phone
        .with_ua(n.now, |ua, now| ua.answer(now, call, ANSWER.as_bytes()))
        .unwrap();
    let ok = n.response(200);
    assert_eq!(ok.to_tag(), Some(tag.as_str()), "same tag as the 180");
    assert_eq!(ok.body, ANSWER.as_bytes());
    assert!(ok.header("Contact").is_some());
    let ack = format!(
        "ACK sip:alice@192.0.2.1;transport=ws SIP/2.0\r\nVia: SIP/2.0/WSS proxy.example.com;branch=z9hG4bKin2\r\n\
Max-Forwards: 70\r\nFrom: \"Bob\" <sip:bob@example.com>;tag=b1\r\nTo: <sip:alice@example.com>;tag={tag}\r\n\
Call-ID: in-call-1\r\nCSeq: 10 ACK\r\nContent-Length: 0\r\n\r\n"
    );
    n.deliver(&ack);
    assert_eq!(n.ua_events(), [ua(Event::Answered { call, sdp: None })]);
    // No 2xx retransmission after the ACK.
    n.advance(Duration::from_secs(5));
    assert!(n.sent.is_empty(), "{:?}", n.sent);
    let bye = ack
        .replace("ACK sip", "BYE sip")
        .replace("CSeq: 10 ACK", "CSeq: 11 BYE")
        .replace("bKin2", "bKin3");
    n.deliver(&bye);
    let ok = n.response(200);
    assert_eq!(ok.cseq(), Some((11, Method::Bye)));
    assert_eq!(
        n.ua_events(),
        [ua(Event::Ended {
            call,
            reason: EndReason::RemoteHangup
        })]
    );
}

#[wasm_bindgen_test(unsupported = test)]
fn messages_both_ways() {
    let mut n = register_with("MD5");
    let id = n
        .phone
        .with_ua(n.now, |ua, now| {
            ua.send_message(now, "sip:bob@example.com", "héllo")
        })
        .unwrap();
    let m = n.request(Method::Message);
    assert_eq!(m.body, "héllo".as_bytes());
    assert!(m.header("Content-Type").unwrap().starts_with("text/plain"));
    n.deliver(&reply(&m, 202, "Accepted", "", ""));
    assert_eq!(n.ua_events(), [ua(Event::MessageStatus { id, code: 202 })]);
    let incoming = "MESSAGE sip:alice@192.0.2.1;transport=ws SIP/2.0\r\n\
Via: SIP/2.0/WSS proxy.example.com;branch=z9hG4bKm1\r\nMax-Forwards: 70\r\n\
From: <sip:bob@example.com>;tag=x\r\nTo: <sip:alice@example.com>\r\nCall-ID: m1\r\n\
CSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi";
    n.deliver(incoming);
    n.response(200);
    let evs = n.ua_events();
    assert!(
        matches!(evs.as_slice(), [e] if e.kind == "M" && e.body.as_deref() == Some("hi")
            && e.extra == "text/plain" && e.text.contains("sip:bob@example.com")),
        "{evs:?}"
    );
}

#[wasm_bindgen_test(unsupported = test)]
fn reconnects_with_backoff_and_reregisters() {
    let mut n = register_with("MD5");
    // The socket drops.
    n.phone.handle_close(n.now);
    n.pump();
    let evs = n.take_events();
    let [Some(d)] = evs.iter().map(retry).collect::<Vec<_>>()[..] else {
        panic!("{evs:?}")
    };
    assert!(
        d >= Duration::from_secs(2) && d <= Duration::from_secs(4),
        "{d:?}"
    );
    // A message while disconnected waits for the new socket.
    n.phone
        .with_ua(n.now, |ua, now| {
            ua.send_message(now, "sip:bob@example.com", "queued")
        })
        .unwrap();
    assert!(n.sent.is_empty());
    n.advance(d - Duration::from_millis(1));
    assert_eq!(n.connects.len(), 1, "no attempt before the backoff");
    n.advance(Duration::from_millis(1));
    assert_eq!(n.connects.len(), 2);
    n.phone.handle_open(n.now);
    n.pump();
    let evs = n.take_events();
    assert!(
        matches!(evs.as_slice(), [.., e] if e.kind == "C"),
        "{evs:?}"
    );
    let m = n.request(Method::Message);
    assert_eq!(m.body, b"queued");
    // Flow recovery: a fresh REGISTER on the new socket, with credentials.
    let r = n.request(Method::Register);
    assert!(r.header("Authorization").is_some());
    n.deliver(&reply(&r, 200, "OK", "Expires: 120\r\n", ""));
    assert!(
        n.ua_events()
            .contains(&ua(Event::Registration(RegistrationState::Registered {
                expires: 120
            })))
    );
}

/// A call survives a short drop: the dialog stays, the new flow is registered, and
/// in-dialog requests then work in both directions over the new socket.
#[wasm_bindgen_test(unsupported = test)]
fn call_survives_a_short_websocket_drop() {
    let mut n = register_with("MD5");
    let call = n.phone.call(n.now, "bob", OFFER.as_bytes()).unwrap();
    let inv = n.request(Method::Invite);
    let contact = "Contact: <sip:bob@192.0.2.9;transport=ws>\r\n";
    n.deliver(&reply(&inv, 200, "OK", contact, ANSWER));
    n.request(Method::Ack);
    n.take_events();
    // The socket drops; we reconnect after the backoff and re-register.
    n.phone.handle_close(n.now);
    n.pump();
    n.advance(Duration::from_secs(4));
    assert_eq!(n.connects.len(), 2);
    n.phone.handle_open(n.now);
    let r = n.request(Method::Register);
    n.deliver(&reply(&r, 200, "OK", "Expires: 120\r\n", ""));
    assert_eq!(n.phone.ua().call_count(), 1, "the call is still up");
    // Our re-INVITE (hold) goes out on the new socket in the same dialog.
    n.phone
        .with_ua(n.now, |ua, now| ua.hold(now, call, OFFER.as_bytes()))
        .unwrap();
    let re = n.request(Method::Invite);
    assert_eq!(re.call_id(), inv.call_id());
    assert_eq!(re.to_tag(), Some("srv1"));
    // The peer's BYE arrives over the new socket and ends the call.
    let bye = format!(
        "BYE {} SIP/2.0\r\nVia: SIP/2.0/WSS proxy.example.com;branch=z9hG4bKbye9\r\n\
Max-Forwards: 70\r\nFrom: {};tag=srv1\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: 50 BYE\r\n\
Content-Length: 0\r\n\r\n",
        re.header("Contact")
            .map(rvoip_core::sip::ua::msg::addr_uri)
            .unwrap(),
        inv.header("To").unwrap(),
        inv.header("From").unwrap(),
        inv.call_id().unwrap()
    );
    n.deliver(&bye);
    assert_eq!(n.response(200).cseq(), Some((50, Method::Bye)));
    assert!(n.ua_events().contains(&ua(Event::Ended {
        call,
        reason: EndReason::RemoteHangup
    })));
}

#[wasm_bindgen_test(unsupported = test)]
fn backoff_grows_while_the_server_is_down() {
    let mut n = Net::connected("pw");
    let mut delays = Vec::new();
    for _ in 0..5 {
        n.phone.handle_close(n.now);
        n.pump();
        let evs = n.take_events();
        let Some(d) = evs.last().and_then(retry) else {
            panic!("{evs:?}")
        };
        delays.push(d);
        let before = n.connects.len();
        n.advance(d);
        assert_eq!(n.connects.len(), before + 1);
    }
    let secs: Vec<u64> = delays.iter().map(|d| d.as_secs()).collect();
    assert!(delays[0] <= Duration::from_secs(4), "{secs:?}");
    assert!(delays[2] >= Duration::from_secs(4), "{secs:?}");
    assert!(
        delays
            .iter()
            .all(|d| *d >= Duration::from_secs(2) && *d <= Duration::from_secs(30))
    );
    assert!(delays[4] >= Duration::from_secs(15), "{secs:?}");
}

#[wasm_bindgen_test(unsupported = test)]
fn keepalive_without_pong_replaces_the_socket() {
    let mut n = register_with("MD5");
    n.auto_pong = false;
    // The UA pings within 80–100 % of 30 s; the server answers the first ping.
    n.advance(Duration::from_secs(30));
    assert_eq!(n.pings, 1);
    n.deliver("\r\n");
    n.advance(Duration::from_secs(10));
    assert_eq!(n.closes, 0, "a pong keeps the flow");
    // The next ping gets no pong: 10 s later the socket is closed and replaced.
    n.advance(Duration::from_secs(20));
    assert_eq!(n.pings, 2);
    n.take_events();
    n.advance(Duration::from_secs(10));
    assert_eq!(n.closes, 1);
    let evs = n.take_events();
    assert!(evs.first().and_then(retry).is_some(), "{evs:?}");
}

#[wasm_bindgen_test(unsupported = test)]
fn fails_over_to_the_other_server() {
    let mut n = Net::new(
        &[("wss://a.example/ws", 1), ("wss://b.example/ws", 1)],
        "pw",
    );
    n.phone.start(n.now);
    n.pump();
    n.phone.handle_close(n.now); // the first one refuses
    n.pump();
    assert_eq!(n.connects.len(), 2, "the other server at once");
    assert_ne!(n.connects[0], n.connects[1]);
    n.phone.handle_open(n.now);
    n.pump();
    assert!(
        n.take_events()
            .iter()
            .any(|e| e.kind == "C" && e.text == n.connects[1])
    );
}

/// The exported entry point, as the TypeScript wrapper drives it (crypto randomness, ms
/// times, operations by number).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test]
fn wasm_phone_binding_registers() {
    use rvoip_wasm::{cmd, op, output, set_input};
    // As JavaScript drives it: the data written at `input`, the result `cmd`'s length of
    // the bytes at `out`.
    let cmd = |h: u32, o: u32, now: f64, call: u32, n: u32, data: &[u8]| {
        set_input(data);
        let r = cmd(h, o, now, call, n);
        let b = output();
        assert_eq!(
            (r >> 32) as usize,
            b.len(),
            "the length in the high 32 bits"
        );
        b
    };
    let cfg = "sip:alice@example.com\u{1f}s3cret\u{1f}\u{1f}Alice\u{1f}300\u{1f}30\u{1f}\u{1f}\u{1f}\
wss://a.example/ws\u{1f}0\u{1f}wss://b.example/ws\u{1f}5";
    // Results as the wrapper reads them (TextDecoder: lossy UTF-8).
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    let h: u32 = text(cmd(0, op::NEW, 0.0, 0, 0, cfg.as_bytes()))
        .parse()
        .unwrap();
    let run = |o: u32, now: f64, call: u32, n: u32, data: &str| {
        text(cmd(h, o, now, call, n, data.as_bytes()))
    };
    let poll = || run(op::POLL, 0.0, 0, 0, "");
    // The next action, past the events (the connection's) polled before it.
    let action = || {
        let mut a = poll();
        while a.starts_with(|c: char| c.is_ascii_alphabetic()) {
            a = poll();
        }
        a
    };
    assert_eq!(run(op::START, 10.0, 0, 0, ""), "1");
    assert_eq!(poll(), "0wss://b.example/ws", "weight 0 last");
    run(op::OPEN, 20.0, 0, 0, "");
    assert_eq!(run(op::REGISTER, 20.0, 0, 0, ""), "0");
    let a = action();
    let data = a.strip_prefix('1').expect("a send action");
    let req = SipMsg::parse(data.as_bytes()).unwrap();
    assert_eq!(req.method(), Some(Method::Register));
    let ch = "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"q\", algorithm=SHA-256\r\n";
    run(
        op::RECEIVE,
        30.0,
        0,
        0,
        &reply(&req, 401, "Unauthorized", ch, ""),
    );
    let a = action();
    let req = SipMsg::parse(a.strip_prefix('1').unwrap().as_bytes()).unwrap();
    assert!(req.header("Authorization").unwrap().contains("SHA-256"));
    run(
        op::RECEIVE,
        40.0,
        0,
        0,
        &reply(&req, 200, "OK", "Expires: 300\r\n", ""),
    );
    let mut kinds = Vec::new();
    let next = loop {
        let e = poll();
        if e.starts_with('=') {
            break e;
        }
        let e = rvoip_wasm::PhoneEventJs::decode(&e).expect("an encoded event");
        kinds.push((e.kind, e.code));
    };
    assert!(
        kinds.contains(&("r".to_string(), 300)),
        "registered: {kinds:?}"
    );
    assert!(next[1..].parse::<i64>().unwrap() > 40, "{next}");
    let target = format!("bob\u{1f}{OFFER}");
    assert_eq!(run(op::CALL, 50.0, 0, 0, &target), "1");
    assert_eq!(run(op::HANGUP, 60.0, 7, 0, ""), "-1", "unknown call");
    assert_eq!(run(op::TARGET_URI, 0.0, 0, 0, "bob"), "sip:bob@example.com");
    assert_eq!(cmd(h, op::FREE, 0.0, 0, 0, &[]), b"");
    assert_eq!(run(op::REGISTER, 70.0, 0, 0, ""), "-2", "freed");
}
