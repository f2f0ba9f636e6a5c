//! Digest authentication across requests of one UA (RFC 3261 §22.2–§22.3): a UA that has
//! REGISTERed (401 → `Authorization`) and then places a call challenged by the same server
//! (407 → `Proxy-Authorization`, or 401 again with a new nonce) must retry the INVITE with
//! credentials; so must a challenged MESSAGE or BYE; a wrong password must still end the
//! attempt without looping.

mod sim;

use rvoip_core::sip::ua::{CallId, EndReason, Event, Method, RegistrationState, SipMsg, UaConfig};
use rvoip_core::time::Duration;
use sim::{Link, Sim, addr, config};

const OFFER: &[u8] = b"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n";
const ANSWER: &[u8] = b"v=0\r\nm=audio 5000 RTP/AVP 0\r\na=sendrecv\r\n";

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Node 0: a registrar that also challenges INVITEs (407 when `proxy`, else 401) and knows
/// alice's password `secret` (one realm for both). Node 1: alice with `password`, her
/// proxy and registrar being node 0.
fn gateway_sim(seed: u64, password: &str, proxy: bool) -> Sim {
    let mut sim = Sim::new(seed, Link::PERFECT);
    sim.add(gw_config(proxy, "secret"));
    let mut alice = config("alice", 5060);
    alice.proxy = Some(addr(5070));
    alice.password = password.into();
    alice.register_expires = 300;
    sim.add(alice);
    sim
}

/// The gateway node: a registrar that challenges INVITEs (407 when `proxy`, else 401) and
/// knows alice's password as `alice_password`.
fn gw_config(proxy: bool, alice_password: &str) -> UaConfig {
    let mut gw = config("gw", 5070);
    gw.registrar = true;
    gw.challenge_invites = true;
    gw.proxy_auth = proxy;
    gw.users = vec![("alice".into(), alice_password.into())];
    gw
}

/// Alice calls the gateway, which answers; returns alice's call.
fn call_gateway(sim: &mut Sim) -> CallId {
    sim.call_answered((1, 0), "sip:gw@10.0.0.1:5070", (OFFER, ANSWER), secs(40))
}

/// The registrar's `WWW-Authenticate` challenge to alice's REGISTER, with `prefix` put in
/// front of its nonce (a new nonce in the same realm).
fn registrar_challenge(sim: &Sim, prefix: &str) -> String {
    sim.nodes[0]
        .raw
        .iter()
        .filter_map(|r| SipMsg::parse(r).ok())
        .find(|m| m.code() == Some(401))
        .and_then(|m| m.header("WWW-Authenticate").map(str::to_string))
        .unwrap()
        .replace("nonce=\"", &format!("nonce=\"{prefix}"))
}

fn register(sim: &mut Sim) -> Option<Event> {
    let now = sim.now;
    sim.ua(1).register(now).unwrap();
    sim.run_until(1, secs(10), |e| matches!(e, Event::Registration(_)))
}

fn sent_invites(sim: &Sim) -> Vec<SipMsg> {
    sim.nodes[1]
        .raw
        .iter()
        .filter_map(|r| SipMsg::parse(r).ok())
        .filter(|m| m.uri().is_some() && m.method() == Some(Method::Invite))
        .collect()
}

/// Registers (401 → 200), calls the gateway, expects the challenge `code` on the INVITE
/// and the call answered after one authenticated retry.
fn register_then_call_is_answered(proxy: bool) {
    let code = if proxy { 407 } else { 401 };
    let mut sim = gateway_sim(21, "secret", proxy);
    assert!(matches!(
        register(&mut sim),
        Some(Event::Registration(RegistrationState::Registered { .. }))
    ));
    // (Not called: the INVITE was not retried after the challenge.)
    call_gateway(&mut sim);
    let challenges = sim
        .sent_lines(0)
        .iter()
        .filter(|l| l.starts_with(&format!("SIP/2.0 {code} ")))
        .count();
    // One for the REGISTER (always 401), one for the INVITE.
    assert_eq!(challenges, if proxy { 1 } else { 2 });
    let invites = sent_invites(&sim);
    assert_eq!(invites.len(), 2, "one unauthenticated INVITE, one retry");
    let header = if proxy {
        "Proxy-Authorization"
    } else {
        "Authorization"
    };
    let creds = invites[1]
        .header(header)
        .expect("retry carries credentials");
    assert!(creds.starts_with("Digest "), "{creds}");
    // The retry answers the INVITE's own (new) nonce, as its first use.
    assert!(creds.contains("nc=00000001"), "{creds}");
}

#[test]
fn registered_ua_answers_407_on_invite_with_proxy_authorization() {
    register_then_call_is_answered(true);
}

#[test]
fn registered_ua_answers_401_on_invite_with_a_new_nonce() {
    register_then_call_is_answered(false);
}

#[test]
fn registered_ua_refreshes_its_registration_after_a_proxy_challenged_call() {
    let mut sim = gateway_sim(22, "secret", true);
    register(&mut sim);
    call_gateway(&mut sim);
    // The refresh (at 50–90 % of 300 s) still authenticates with `Authorization` for the
    // registrar's nonce, and is accepted without a new 401.
    let refreshed = sim.run_until(1, secs(280), |e| matches!(e, Event::Registration(_)));
    assert!(
        matches!(
            refreshed,
            Some(Event::Registration(RegistrationState::Registered { .. }))
        ),
        "{refreshed:?}"
    );
    let regs: Vec<_> = sim.nodes[1]
        .raw
        .iter()
        .filter_map(|r| SipMsg::parse(r).ok())
        .filter(|m| m.method() == Some(Method::Register))
        .collect();
    assert_eq!(regs.len(), 3, "initial, authenticated, refresh");
    assert!(regs[2].header("Authorization").is_some());
    let unauthorized = sim
        .sent_lines(0)
        .iter()
        .filter(|l| l.starts_with("SIP/2.0 401"))
        .count();
    assert_eq!(unauthorized, 1, "the refresh reuses the registrar's nonce");
}

/// Registered with the right password, the INVITE is challenged; the UA's password is then
/// changed to a wrong one: the retry is refused and the call ends after exactly one retry.
#[test]
fn wrong_password_on_invite_after_register_ends_without_looping() {
    for proxy in [true, false] {
        let code = if proxy { 407 } else { 401 };
        let mut sim = gateway_sim(23, "secret", proxy);
        register(&mut sim);
        // The gateway forgets alice's password: her credentials are now wrong.
        sim.nodes[0].ua = rvoip_core::sip::ua::UserAgent::new(
            gw_config(proxy, "other"),
            rvoip_core::rand::SplitMix64::new(99),
        );
        let now = sim.now;
        let call = sim.ua(1).call(now, "sip:gw@10.0.0.1:5070", OFFER).unwrap();
        let ended = sim.run_until(1, secs(40), |e| matches!(e, Event::Ended { .. }));
        assert_eq!(
            ended,
            Some(Event::Ended {
                call,
                reason: EndReason::Rejected(code)
            })
        );
        sim.run_for(secs(20));
        assert_eq!(sent_invites(&sim).len(), 2, "one retry, then stop");
        assert!(!sim.saw(0, |e| matches!(e, Event::IncomingCall { .. })));
    }
}

/// A 401/407 answering `req` (the bytes alice sent) with `header: value`.
fn challenge_for(req: &[u8], code: u16, header: &str, value: &str) -> Vec<u8> {
    sim::challenge_for(req, code, (header, value), Some("gw1"))
}

#[test]
fn registered_ua_answers_a_challenge_to_message_and_stops_on_a_refusal() {
    for proxy in [true, false] {
        let (code, challenge, credentials) = if proxy {
            (407, "Proxy-Authenticate", "Proxy-Authorization")
        } else {
            (401, "WWW-Authenticate", "Authorization")
        };
        let mut sim = gateway_sim(24, "secret", true);
        register(&mut sim);
        // The registrar's challenge, with a new nonce: same realm as the REGISTER's.
        let fresh = registrar_challenge(&sim, "m1");
        let now = sim.now;
        let id = sim
            .ua(1)
            .send_message(now, "sip:gw@10.0.0.1:5070", "hi")
            .unwrap();
        sim.drain();
        let sent = sim.nodes[1].raw.last().unwrap().clone();
        assert!(sent.starts_with(b"MESSAGE "));
        let out = sim.inject(
            1,
            addr(5070),
            &challenge_for(&sent, code, challenge, &fresh),
        );
        assert_eq!(out.len(), 1, "the MESSAGE is retried: {out:?}");
        let retry = SipMsg::parse(out[0].as_bytes()).unwrap();
        assert_eq!(retry.method(), Some(Method::Message));
        let creds = retry
            .header(credentials)
            .expect("retry carries credentials");
        assert!(
            creds.contains("nonce=\"m1") && creds.contains("nc=00000001"),
            "{creds}"
        );
        assert_eq!(retry.call_id(), SipMsg::parse(&sent).unwrap().call_id());
        assert!(!sim.saw(1, |e| matches!(e, Event::MessageStatus { .. })));
        // A new non-stale challenge to those credentials: the password is wrong; stop.
        let again = registrar_challenge(&sim, "m2");
        let out = sim.inject(
            1,
            addr(5070),
            &challenge_for(out[0].as_bytes(), code, challenge, &again),
        );
        assert!(out.iter().all(|m| !m.starts_with("MESSAGE")), "{out:?}");
        assert!(sim.saw(
            1,
            |e| matches!(e, Event::MessageStatus { id: i, code: c } if *i == id && *c == code)
        ));
    }
}

#[test]
fn registered_ua_answers_a_challenge_to_bye() {
    let mut sim = gateway_sim(25, "secret", true);
    register(&mut sim);
    let call = call_gateway(&mut sim);
    sim.run_for(secs(1));
    let now = sim.now;
    sim.ua(1).hangup(now, call).unwrap();
    sim.drain();
    let bye = sim.nodes[1].raw.last().unwrap().clone();
    assert!(bye.starts_with(b"BYE "));
    let fresh = registrar_challenge(&sim, "b1");
    let out = sim.inject(
        1,
        addr(5070),
        &challenge_for(&bye, 407, "Proxy-Authenticate", &fresh),
    );
    assert_eq!(out.len(), 1, "{out:?}");
    let retry = SipMsg::parse(out[0].as_bytes()).unwrap();
    assert_eq!(retry.method(), Some(Method::Bye));
    let creds = retry.header("Proxy-Authorization").unwrap();
    assert!(
        creds.contains("nonce=\"b1") && creds.contains("nc=00000001"),
        "{creds}"
    );
    let (n0, _) = SipMsg::parse(&bye).unwrap().cseq().unwrap();
    assert_eq!(retry.cseq().map(|(n, _)| n), Some(n0 + 1));
    // Refused again: no further BYE.
    let again = registrar_challenge(&sim, "b2");
    let out = sim.inject(
        1,
        addr(5070),
        &challenge_for(out[0].as_bytes(), 407, "Proxy-Authenticate", &again),
    );
    assert!(out.iter().all(|m| !m.starts_with("BYE")), "{out:?}");
}
