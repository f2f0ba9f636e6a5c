//! Digest challenges to in-dialog requests (RFC 3261 §22.2, §14.1, §12.2.1.1): a re-INVITE,
//! an UPDATE or a session-timer refresh answered 401/407 is sent again once with
//! credentials — same dialog, the dialog's next CSeq, a new branch, the same body — and a
//! second challenge to credentials (without `stale=true`) ends the attempt instead of
//! looping; `stale=true` earns one more retry with the fresh nonce.

mod sim;

use rvoip_core::rand::SplitMix64;
use rvoip_core::sip::ua::{CallId, Event, Method, SipMsg, UaError, UserAgent};
use rvoip_core::time::{Duration, Instant};
use sim::{Link, Sim, addr, config};

const OFFER: &[u8] = b"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n";
const ANSWER: &[u8] = b"v=0\r\nm=audio 5000 RTP/AVP 0\r\na=sendrecv\r\n";
const HOLD: &[u8] = b"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n";

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn challenge(nonce: &str, stale: bool) -> String {
    let stale = if stale { ", stale=true" } else { "" };
    format!("Digest realm=\"example.com\", nonce=\"{nonce}\", qop=\"auth\"{stale}")
}

/// The 401/407 to `req` with `header: value`, from bob's dialog (his tag kept).
fn challenge_for(req: &[u8], code: u16, header: &str, value: &str) -> Vec<u8> {
    sim::challenge_for(req, code, (header, value), None)
}

/// Node 0: bob (answers, no authentication). Node 1: alice with a password. Alice's call
/// to bob is up; returns alice's call.
fn connected(seed: u64, password: &str) -> (Sim, CallId) {
    connected_with(seed, password, None)
}

/// [`connected`], alice asking for session timers of `session_expires` seconds.
fn connected_with(seed: u64, password: &str, session_expires: Option<u32>) -> (Sim, CallId) {
    let mut sim = Sim::new(seed, Link::PERFECT);
    sim.add(config("bob", 5070));
    let mut alice = config("alice", 5060);
    alice.password = password.into();
    alice.session_expires = session_expires;
    sim.add(alice);
    let call = sim.call_answered((1, 0), "sip:bob@10.0.0.1:5070", (OFFER, ANSWER), secs(5));
    sim.run_for(secs(1));
    (sim, call)
}

/// What alice sends next, taken off her queue (not delivered to bob).
fn take_sent(sim: &mut Sim) -> Vec<u8> {
    sim.ua(1).poll_transmit().expect("alice sends").bytes
}

/// One of the UA's ways to send a new offer in a call (`hold`, `unhold`, `update`).
type SendOffer = fn(&mut UserAgent<SplitMix64>, Instant, CallId, &[u8]) -> Result<(), UaError>;

/// [`connected`], then alice offers `HOLD` with `send`; returns the call and what alice
/// sent (not delivered to bob).
fn connected_then_offered(seed: u64, password: &str, send: SendOffer) -> (Sim, CallId, Vec<u8>) {
    let (mut sim, call) = connected(seed, password);
    let now = sim.now;
    send(sim.ua(1), now, call, HOLD).unwrap();
    let first = take_sent(&mut sim);
    (sim, call, first)
}

fn requests(out: &[String], method: &str) -> Vec<SipMsg> {
    out.iter()
        .filter(|m| m.starts_with(&format!("{method} ")))
        .map(|m| SipMsg::parse(m.as_bytes()).unwrap())
        .collect()
}

/// Answers `req` (what alice sent) with a 401 (`WWW-Authenticate`) or 407
/// (`Proxy-Authenticate`) for `nonce`; checks that alice retries `method` once with the
/// matching credentials for that nonce, and returns what she sent and the retry.
fn challenge_retried(
    sim: &mut Sim,
    req: &[u8],
    code: u16,
    (nonce, stale): (&str, bool),
    method: &str,
) -> (Vec<String>, SipMsg) {
    let (challenge_header, credentials) = if code == 407 {
        ("Proxy-Authenticate", "Proxy-Authorization")
    } else {
        ("WWW-Authenticate", "Authorization")
    };
    let out = sim.inject(
        1,
        addr(5070),
        &challenge_for(req, code, challenge_header, &challenge(nonce, stale)),
    );
    let mut retry = requests(&out, method);
    assert_eq!(retry.len(), 1, "{out:?}");
    let retry = retry.remove(0);
    assert!(
        retry
            .header(credentials)
            .is_some_and(|c| c.contains(&format!("nonce=\"{nonce}\""))),
        "{out:?}"
    );
    (out, retry)
}

#[test]
fn challenged_reinvite_is_resent_once_with_credentials_in_the_same_dialog() {
    let (mut sim, call, first) = connected_then_offered(31, "secret", UserAgent::hold);
    let first_msg = SipMsg::parse(&first).unwrap();
    assert_eq!(first_msg.method(), Some(Method::Invite));
    assert!(first_msg.header("Authorization").is_none());
    // The transaction ACKs the 401; the TU resends the re-INVITE with credentials.
    let (out, retry) = challenge_retried(&mut sim, &first, 401, ("n1", false), "INVITE");
    assert_eq!(requests(&out, "ACK").len(), 1, "{out:?}");
    let creds = retry.header("Authorization").expect("credentials");
    assert!(creds.contains("uri=\"sip:bob@"), "{creds}");
    let (n0, _) = first_msg.cseq().unwrap();
    assert_eq!(retry.cseq(), Some((n0 + 1, Method::Invite)));
    for h in ["Call-ID", "From", "To"] {
        assert_eq!(retry.header(h), first_msg.header(h), "{h}");
    }
    assert_ne!(retry.branch(), first_msg.branch(), "a new transaction");
    assert_eq!(retry.body, HOLD);
    // `stale=true`: one more retry with the fresh nonce.
    let (_, stale_retry) =
        challenge_retried(&mut sim, &retry.to_bytes(), 401, ("n2", true), "INVITE");
    assert_eq!(stale_retry.cseq(), Some((n0 + 2, Method::Invite)));
    // Refused (a new challenge without stale): no further INVITE, the offer is rejected,
    // the call stays up.
    let out = sim.inject(
        1,
        addr(5070),
        &challenge_for(
            &stale_retry.to_bytes(),
            401,
            "WWW-Authenticate",
            &challenge("n3", false),
        ),
    );
    assert!(requests(&out, "INVITE").is_empty(), "{out:?}");
    assert!(sim.saw(
        1,
        |e| matches!(e, Event::OfferRejected { call: c, code: 401 } if *c == call)
    ));
    assert_eq!(sim.ua(1).call_count(), 1, "the call survives");
    // The next offer is allowed again (no offer left pending) and uses the next CSeq.
    let now = sim.now;
    sim.ua(1).unhold(now, call, OFFER).unwrap();
    let next = SipMsg::parse(&take_sent(&mut sim)).unwrap();
    assert_eq!(next.cseq(), Some((n0 + 3, Method::Invite)));
}

#[test]
fn challenged_update_is_resent_with_proxy_credentials_and_completes() {
    let (mut sim, call, first) = connected_then_offered(32, "secret", UserAgent::update);
    let (_, retry) = challenge_retried(&mut sim, &first, 407, ("p1", false), "UPDATE");
    let (n0, _) = SipMsg::parse(&first).unwrap().cseq().unwrap();
    assert_eq!(retry.cseq(), Some((n0 + 1, Method::Update)));
    // The retry's retransmission reaches bob over the (now delivering) link; bob answers.
    let Some(Event::OfferReceived { call: b, .. }) =
        sim.run_until(0, secs(5), |e| matches!(e, Event::OfferReceived { .. }))
    else {
        panic!("bob never got the authenticated UPDATE")
    };
    let now = sim.now;
    sim.ua(0).answer(now, b, ANSWER).unwrap();
    assert!(
        sim.run_until(
            1,
            secs(5),
            |e| matches!(e, Event::MediaUpdated { call: c, .. } if *c == call)
        )
        .is_some()
    );
}

#[test]
fn without_a_password_the_challenge_rejects_the_offer() {
    let (mut sim, call, first) = connected_then_offered(33, "", UserAgent::hold);
    let out = sim.inject(
        1,
        addr(5070),
        &challenge_for(&first, 401, "WWW-Authenticate", &challenge("n1", false)),
    );
    assert!(requests(&out, "INVITE").is_empty(), "{out:?}");
    assert!(sim.saw(
        1,
        |e| matches!(e, Event::OfferRejected { call: c, code: 401 } if *c == call)
    ));
    assert_eq!(sim.ua(1).call_count(), 1);
}

#[test]
fn challenged_session_refresh_is_resent_with_credentials_and_the_call_survives() {
    // Alice refreshes (refresher=uac) every 45 s; her first refresh UPDATE is lost on its
    // way to bob and answered 401 by "a proxy" instead.
    let (mut sim, call) = connected_with(34, "secret", Some(90));
    // (Every copy of it: its retransmissions too.)
    let blocking = std::rc::Rc::new(std::cell::Cell::new(true));
    let dropped = std::rc::Rc::new(std::cell::Cell::new(0u32));
    let (b2, d2) = (blocking.clone(), dropped.clone());
    sim.drop_if = Some(Box::new(move |b: &[u8]| {
        let drop = b2.get() && b.starts_with(b"UPDATE ");
        if drop {
            d2.set(d2.get() + 1);
        }
        drop
    }));
    sim.run_for(secs(46));
    assert!(dropped.get() > 0, "no refresh within half the interval");
    blocking.set(false);
    let refresh = sim.nodes[1]
        .raw
        .iter()
        .rev()
        .find(|r| r.starts_with(b"UPDATE "))
        .cloned()
        .expect("the refresh");
    let (_, retry) = challenge_retried(&mut sim, &refresh, 401, ("r1", false), "UPDATE");
    assert_eq!(
        retry.header("Session-Expires"),
        SipMsg::parse(&refresh).unwrap().header("Session-Expires")
    );
    // The retry (retransmitted over the link) refreshes the session: nobody hangs up.
    sim.run_for(secs(150));
    assert_eq!(sim.ua(1).call_count(), 1, "alice's call survives");
    assert_eq!(sim.ua(0).call_count(), 1, "bob's call survives");
    assert!(!sim.saw(
        1,
        |e| matches!(e, Event::Ended { call: c, .. } if *c == call)
    ));
}
