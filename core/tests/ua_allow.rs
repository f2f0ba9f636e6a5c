//! The Allow header (RFC 3261 §20.5) a UA writes follows `UaConfig::allow`: a B2BUA that
//! refuses REFER/MESSAGE/NOTIFY itself names only what it takes in its INVITEs, 2xx
//! answers and OPTIONS responses; the default still lists every method the UA handles.

mod sim;

use rvoip_core::sip::ua::{Event, SipMsg, UaConfig};
use rvoip_core::time::Duration;
use sim::*;

const OFFER: &[u8] = b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
const ANSWER: &[u8] = b"v=0\r\no=- 2 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4002 RTP/AVP 0\r\n";

/// What a gateway leg takes (no MESSAGE, REFER, NOTIFY).
const LEG_ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, PRACK";

/// The Allow values of the messages node `i` sent whose first line starts with `start`.
fn allows(sim: &Sim, i: usize, start: &str) -> Vec<String> {
    sim.nodes[i]
        .raw
        .iter()
        .filter(|b| b.starts_with(start.as_bytes()))
        .map(|b| {
            let m = SipMsg::parse(b).expect("the UA sends well-formed messages");
            m.header("Allow").unwrap_or("<none>").to_string()
        })
        .collect()
}

/// Node 0 (`caller_allow`) calls node 1 (`callee_allow`), which answers.
fn call(caller_allow: Option<&str>, callee_allow: Option<&str>) -> Sim {
    let mut sim = Sim::new(11, Link::PERFECT);
    let mut a = config("alice", 5060);
    a.allow = caller_allow.map(String::from);
    let mut b = config("bob", 5070);
    b.allow = callee_allow.map(String::from);
    let (a, b) = (sim.add(a), sim.add(b));
    sim.call_answered(
        (a, b),
        "sip:bob@10.0.0.1:5070",
        (OFFER, ANSWER),
        Duration::from_secs(10),
    );
    sim
}

#[test]
fn a_configured_allow_is_in_the_invite() {
    let sim = call(Some(LEG_ALLOW), None);
    let invites = allows(&sim, 0, "INVITE ");
    assert!(!invites.is_empty(), "alice sent an INVITE");
    for allow in invites {
        assert_eq!(allow, LEG_ALLOW);
    }
    // The callee's 2xx keeps the default, with the methods the UA handles itself.
    let ok = allows(&sim, 1, "SIP/2.0 200 ");
    assert!(!ok.is_empty(), "bob answered");
    for allow in ok {
        assert_eq!(allow, UaConfig::DEFAULT_ALLOW);
        assert!(allow.contains("REFER") && allow.contains("MESSAGE") && allow.contains("NOTIFY"));
    }
}

#[test]
fn a_configured_allow_is_in_the_2xx() {
    let sim = call(None, Some(LEG_ALLOW));
    let ok = allows(&sim, 1, "SIP/2.0 200 ");
    assert!(!ok.is_empty(), "bob answered");
    for allow in ok {
        assert_eq!(allow, LEG_ALLOW);
    }
    for allow in allows(&sim, 0, "INVITE ") {
        assert_eq!(allow, UaConfig::DEFAULT_ALLOW);
    }
}

#[test]
fn a_configured_allow_answers_options() {
    let mut sim = Sim::new(12, Link::PERFECT);
    let mut cfg = config("gw", 5080);
    cfg.allow = Some(LEG_ALLOW.into());
    let gw = sim.add(cfg);
    let options = b"OPTIONS sip:gw@10.0.0.1:5080 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.1:5090;branch=z9hG4bKallow1\r\nMax-Forwards: 70\r\n\
From: <sip:probe@example.com>;tag=p1\r\nTo: <sip:gw@example.com>\r\nCall-ID: allow-1\r\n\
CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    let sent = sim.inject(gw, addr(5090), options);
    let [reply] = sent.as_slice() else {
        panic!("one response to OPTIONS: {sent:?}")
    };
    let m = SipMsg::parse(reply.as_bytes()).expect("a well-formed response");
    assert_eq!(m.code(), Some(200));
    assert_eq!(m.header("Allow"), Some(LEG_ALLOW));
    assert!(!sim.saw(gw, |e| matches!(e, Event::IncomingCall { .. })));
}
