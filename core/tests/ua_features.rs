//! Mid-call features, registration and transfers over the simulated link: re-INVITE
//! hold/unhold, UPDATE (RFC 3311), glare (§14.1), INFO DTMF (RFC 6086), MESSAGE (RFC 3428),
//! OPTIONS, REGISTER with digest and refresh, Outbound keep-alives (RFC 5626), blind and
//! attended transfer (RFC 3515, RFC 3891).

mod sim;

use rvoip_core::sip::ua::{CallId, EndReason, Event, RegistrationState};
use rvoip_core::time::Duration;
use sim::{Link, Sim, addr, config};

const OFFER: &[u8] = b"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n";
const ANSWER: &[u8] = b"v=0\r\nm=audio 5000 RTP/AVP 0\r\na=sendrecv\r\n";
const HOLD: &[u8] = b"v=0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n";
const HELD: &[u8] = b"v=0\r\nm=audio 5000 RTP/AVP 0\r\na=recvonly\r\n";

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// `from` calls `to` (by port) and `to` answers; returns (caller's call, callee's call).
fn connect(sim: &mut Sim, from: usize, to: usize) -> (CallId, CallId) {
    let now = sim.now;
    let port = sim.nodes[to].addr.port();
    let c = sim
        .ua(from)
        .call(now, &format!("sip:x@10.0.0.1:{port}"), OFFER)
        .unwrap();
    let Some(Event::IncomingCall { call: d, .. }) =
        sim.run_until(to, secs(40), |e| matches!(e, Event::IncomingCall { .. }))
    else {
        panic!("no incoming call")
    };
    let now = sim.now;
    sim.ua(to).answer(now, d, ANSWER).unwrap();
    assert!(
        sim.run_until(
            from,
            secs(40),
            |e| matches!(e, Event::Answered { call, .. } if *call == c)
        )
        .is_some()
    );
    assert!(
        sim.run_until(
            to,
            secs(40),
            |e| matches!(e, Event::Answered { call, .. } if *call == d)
        )
        .is_some()
    );
    (c, d)
}

fn pair(seed: u64, link: Link) -> Sim {
    let mut sim = Sim::new(seed, link);
    sim.add(config("alice", 5060));
    sim.add(config("bob", 5070));
    sim
}

#[test]
fn hold_and_unhold_by_reinvite_and_update() {
    for (seed, link) in [(1, Link::PERFECT), (2, Link::lossy(20))] {
        let mut sim = pair(seed, link);
        let (ac, bc) = connect(&mut sim, 0, 1);
        let now = sim.now;
        sim.ua(0).hold(now, ac, HOLD).unwrap();
        let offer = sim.run_until(1, secs(40), |e| matches!(e, Event::OfferReceived { .. }));
        assert_eq!(
            offer,
            Some(Event::OfferReceived {
                call: bc,
                sdp: Some(HOLD.to_vec())
            })
        );
        let now = sim.now;
        sim.ua(1).answer(now, bc, HELD).unwrap();
        let updated = sim.run_until(0, secs(40), |e| matches!(e, Event::MediaUpdated { .. }));
        assert_eq!(
            updated,
            Some(Event::MediaUpdated {
                call: ac,
                sdp: Some(HELD.to_vec())
            })
        );
        // Unhold with UPDATE this time (RFC 3311), from the callee.
        sim.run_for(secs(1));
        let now = sim.now;
        sim.ua(1).update(now, bc, ANSWER).unwrap();
        let offer = sim.run_until(0, secs(40), |e| matches!(e, Event::OfferReceived { .. }));
        assert_eq!(
            offer,
            Some(Event::OfferReceived {
                call: ac,
                sdp: Some(ANSWER.to_vec())
            })
        );
        let now = sim.now;
        sim.ua(0).answer(now, ac, OFFER).unwrap();
        let updated = sim.run_until(1, secs(40), |e| matches!(e, Event::MediaUpdated { .. }));
        assert_eq!(
            updated,
            Some(Event::MediaUpdated {
                call: bc,
                sdp: Some(OFFER.to_vec())
            })
        );
        // A second offer while one is pending is refused locally.
        let now = sim.now;
        sim.ua(0).hold(now, ac, HOLD).unwrap();
        assert!(sim.ua(0).hold(now, ac, HOLD).is_err());
    }
}

#[test]
fn glare_is_resolved_with_491_and_randomized_retry() {
    let mut sim = pair(3, Link::PERFECT);
    let (ac, bc) = connect(&mut sim, 0, 1);
    let now = sim.now;
    // Both re-INVITE at the same instant: each gets 491.
    sim.ua(0).hold(now, ac, HOLD).unwrap();
    sim.ua(1).hold(now, bc, HOLD).unwrap();
    sim.run_for(Duration::from_millis(200));
    assert!(
        sim.sent_lines(0)
            .iter()
            .any(|l| l == "SIP/2.0 491 Request Pending")
    );
    assert!(
        sim.sent_lines(1)
            .iter()
            .any(|l| l == "SIP/2.0 491 Request Pending")
    );
    let t491 = sim.now;
    // B (not the Call-ID owner) retries within 0–2 s; A within 2.1–4 s unless B's offer
    // arrives first. One side's offer gets through; the other side answers it.
    sim.run_for(secs(5));
    // B's retry (0–2 s) reached A first; A's own retry (2.1–4 s) finds B's offer pending
    // and is reported as rejected so that the application can offer again later.
    assert!(sim.saw(0, |e| *e
        == Event::OfferReceived {
            call: ac,
            sdp: Some(HOLD.to_vec())
        }));
    assert!(sim.saw(0, |e| *e
        == Event::OfferRejected {
            call: ac,
            code: 491
        }));
    let b_retry = sim.nodes[1]
        .sent
        .iter()
        .filter(|(t, _, l)| *t > t491 && l.starts_with("INVITE"))
        .map(|(t, _, _)| *t - t491)
        .next()
        .expect("B retried");
    assert!(
        b_retry <= secs(2),
        "non-owner retries within 0–2 s, took {b_retry:?}"
    );
    let now = sim.now;
    sim.ua(0).answer(now, ac, HELD).unwrap();
    assert!(
        sim.run_until(1, secs(5), |e| matches!(e, Event::MediaUpdated { .. }))
            .is_some()
    );
}

#[test]
fn dtmf_info_message_and_options() {
    let mut sim = pair(4, Link::lossy(10));
    let (ac, bc) = connect(&mut sim, 0, 1);
    let now = sim.now;
    sim.ua(0).send_dtmf(now, ac, '5', 160).unwrap();
    let dtmf = sim.run_until(1, secs(40), |e| matches!(e, Event::DtmfReceived { .. }));
    assert_eq!(
        dtmf,
        Some(Event::DtmfReceived {
            call: bc,
            digit: '5',
            duration: 160
        })
    );
    let now = sim.now;
    let id = sim
        .ua(1)
        .send_message(now, "sip:alice@10.0.0.1:5060", "hello")
        .unwrap();
    let msg = sim.run_until(0, secs(40), |e| matches!(e, Event::IncomingMessage { .. }));
    match msg {
        Some(Event::IncomingMessage {
            body, content_type, ..
        }) => {
            assert_eq!(body, b"hello");
            assert!(content_type.starts_with("text/plain"));
        }
        other => panic!("{other:?}"),
    }
    let status = sim.run_until(1, secs(40), |e| matches!(e, Event::MessageStatus { .. }));
    assert_eq!(status, Some(Event::MessageStatus { id, code: 200 }));
    // OPTIONS answered with Allow/Accept/Supported.
    let out = sim.inject(
        0,
        addr(5999),
        b"OPTIONS sip:alice@10.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5999;branch=z9hG4bKopt1\r\n\
From: <sip:x@h>;tag=1\r\nTo: <sip:alice@h>\r\nCall-ID: opt1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n\r\n",
    );
    assert_eq!(out.len(), 1);
    assert!(out[0].starts_with("SIP/2.0 200 OK\r\n"));
    for h in ["Allow: INVITE", "Accept: application/sdp", "Supported: "] {
        assert!(out[0].contains(h), "missing {h} in {}", out[0]);
    }
}

fn registrar_sim(seed: u64, password: &str) -> Sim {
    let mut sim = Sim::new(seed, Link::PERFECT);
    let mut reg = config("registrar", 5080);
    reg.registrar = true;
    reg.users = vec![("alice".into(), "secret".into())];
    sim.add(reg);
    let mut alice = config("alice", 5060);
    alice.proxy = Some(addr(5080));
    alice.password = password.into();
    alice.register_expires = 100;
    alice.instance_id = Some("urn:uuid:00000000-0000-1000-8000-000a95a0e128".into());
    alice.reg_id = Some(1);
    alice.keepalive = Some(secs(30));
    sim.add(alice);
    sim
}

#[test]
fn register_with_digest_refresh_keepalive_and_unregister() {
    let mut sim = registrar_sim(5, "secret");
    let now = sim.now;
    sim.ua(1).register(now).unwrap();
    let ev = sim.run_until(1, secs(10), |e| matches!(e, Event::Registration(_)));
    assert_eq!(
        ev,
        Some(Event::Registration(RegistrationState::Registered {
            expires: 100
        }))
    );
    let first = sim.now;
    assert_eq!(sim.ua(0).bindings("sip:alice@example.com").count(), 1);
    let lines = sim.sent_lines(0);
    assert!(lines.contains(&"SIP/2.0 401 Unauthorized".to_string()));
    // RFC 5626 Contact parameters.
    let reg = rvoip_core::sip::ua::SipMsg::parse(&sim.nodes[1].raw[0]).unwrap();
    let contact = reg.header("Contact").unwrap();
    assert!(
        contact.contains(";+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000a95a0e128>\""),
        "{contact}"
    );
    assert!(contact.contains(";reg-id=1"), "{contact}");
    assert_eq!(reg.header("Expires"), Some("100"));
    // The refresh comes at 50–90 % of 100 s, authenticated with the same nonce (nc=2).
    let refreshed = sim.run_until(1, secs(95), |e| matches!(e, Event::Registration(_)));
    assert!(matches!(
        refreshed,
        Some(Event::Registration(RegistrationState::Registered { .. }))
    ));
    let regs: Vec<_> = sim.nodes[1]
        .sent
        .iter()
        .filter(|(_, _, l)| l.starts_with("REGISTER"))
        .collect();
    assert_eq!(regs.len(), 3, "initial, authenticated, refresh");
    let gap = regs[2].0 - first;
    assert!(gap >= secs(50) && gap <= secs(90), "refresh after {gap:?}");
    // Keep-alive pings (every 24–30 s) are answered with pongs.
    assert!(sim.ua(1).keepalive_pongs() >= 1);
    let now = sim.now;
    sim.ua(1).unregister(now).unwrap();
    let ev = sim.run_until(1, secs(10), |e| matches!(e, Event::Registration(_)));
    assert_eq!(
        ev,
        Some(Event::Registration(RegistrationState::Unregistered))
    );
    assert_eq!(sim.ua(0).bindings("sip:alice@example.com").count(), 0);
}

#[test]
fn wrong_password_fails_without_looping() {
    let mut sim = registrar_sim(6, "wrong");
    let now = sim.now;
    sim.ua(1).register(now).unwrap();
    let ev = sim.run_until(1, secs(10), |e| matches!(e, Event::Registration(_)));
    assert_eq!(
        ev,
        Some(Event::Registration(RegistrationState::Failed { code: 401 }))
    );
    sim.run_for(secs(200));
    let regs = sim
        .sent_lines(1)
        .iter()
        .filter(|l| l.starts_with("REGISTER"))
        .count();
    assert_eq!(
        regs, 2,
        "one unauthenticated, one with credentials, then stop"
    );
}

/// Alice (with `password`) and Bob, who challenges INVITEs (407 when `proxy`) and knows
/// alice's password `secret`.
fn challenging_pair(password: &str, proxy: bool) -> Sim {
    let mut sim = Sim::new(9, Link::PERFECT);
    let mut alice = config("alice", 5060);
    alice.password = password.into();
    sim.add(alice);
    let mut bob = config("bob", 5070);
    bob.challenge_invites = true;
    bob.proxy_auth = proxy;
    bob.users = vec![("alice".into(), "secret".into())];
    sim.add(bob);
    sim
}

#[test]
fn invite_challenged_with_401_then_answered() {
    let mut sim = challenging_pair("secret", false);
    let (ac, _) = connect(&mut sim, 0, 1);
    let lines = sim.sent_lines(1);
    assert!(lines.contains(&"SIP/2.0 401 Unauthorized".to_string()));
    assert_eq!(
        sim.sent_lines(0)
            .iter()
            .filter(|l| l.starts_with("INVITE"))
            .count(),
        2
    );
    assert!(sim.saw(
        0,
        |e| matches!(e, Event::Answered { call, .. } if *call == ac)
    ));
}

#[test]
fn invite_challenged_with_407_in_proxy_mode_then_answered() {
    let mut sim = challenging_pair("secret", true);
    let (ac, _) = connect(&mut sim, 0, 1);
    let lines = sim.sent_lines(1);
    assert!(lines.contains(&"SIP/2.0 407 Proxy Authentication Required".to_string()));
    assert!(!lines.iter().any(|l| l.starts_with("SIP/2.0 401")));
    let challenge = sim.nodes[1]
        .raw
        .iter()
        .filter_map(|r| rvoip_core::sip::ua::SipMsg::parse(r).ok())
        .find(|m| m.code() == Some(407))
        .unwrap();
    assert!(challenge.header("Proxy-Authenticate").is_some());
    assert!(challenge.header("WWW-Authenticate").is_none());
    let invites: Vec<_> = sim.nodes[0]
        .raw
        .iter()
        .filter_map(|r| rvoip_core::sip::ua::SipMsg::parse(r).ok())
        .filter(|m| m.uri().is_some() && m.method() == Some(rvoip_core::sip::ua::Method::Invite))
        .collect();
    assert_eq!(invites.len(), 2);
    let retry = &invites[1];
    assert!(
        retry
            .header("Proxy-Authorization")
            .is_some_and(|v| v.starts_with("Digest "))
    );
    assert!(retry.header("Authorization").is_none());
    assert!(sim.saw(
        0,
        |e| matches!(e, Event::Answered { call, .. } if *call == ac)
    ));
}

#[test]
fn proxy_mode_with_wrong_password_gets_407_again_and_fails() {
    let mut sim = challenging_pair("wrong", true);
    let now = sim.now;
    let call = sim.ua(0).call(now, "sip:bob@10.0.0.1:5070", OFFER).unwrap();
    let ended = sim.run_until(0, Duration::from_secs(40), |e| {
        matches!(e, Event::Ended { .. })
    });
    assert_eq!(
        ended,
        Some(Event::Ended {
            call,
            reason: EndReason::Rejected(407)
        })
    );
    assert!(!sim.saw(1, |e| matches!(e, Event::IncomingCall { .. })));
}

#[test]
fn blind_transfer_with_notify_progress() {
    let mut sim = Sim::new(10, Link::lossy(10));
    let a = sim.add(config("alice", 5060));
    let b = sim.add(config("bob", 5070));
    let c = sim.add(config("carol", 5090));
    let (ab, ba) = connect(&mut sim, a, b);
    let now = sim.now;
    sim.ua(a)
        .transfer(now, ab, "sip:carol@10.0.0.1:5090")
        .unwrap();
    let req = sim.run_until(b, secs(40), |e| {
        matches!(e, Event::TransferRequested { .. })
    });
    let Some(Event::TransferRequested { call, target }) = req else {
        panic!("{req:?}")
    };
    assert_eq!((call, target.as_str()), (ba, "sip:carol@10.0.0.1:5090"));
    let now = sim.now;
    let bc = sim.ua(b).accept_transfer(now, ba, &target, OFFER).unwrap();
    let Some(Event::IncomingCall { call: cb, .. }) =
        sim.run_until(c, secs(40), |e| matches!(e, Event::IncomingCall { .. }))
    else {
        panic!()
    };
    let now = sim.now;
    sim.ua(c).answer(now, cb, ANSWER).unwrap();
    let done = sim.run_until(a, secs(40), |e| {
        matches!(e, Event::TransferProgress { code: 200, .. })
    });
    assert_eq!(
        done,
        Some(Event::TransferProgress {
            call: ab,
            code: 200
        })
    );
    assert!(sim.saw(a, |e| *e
        == Event::TransferProgress {
            call: ab,
            code: 100
        }));
    // Progress arrives in order (one NOTIFY at a time, RFC 6665): 100, maybe 180, 200.
    let progress: Vec<u16> = sim
        .events(a)
        .iter()
        .filter_map(|e| match e {
            Event::TransferProgress { code, .. } => Some(*code),
            _ => None,
        })
        .collect();
    assert!(progress.windows(2).all(|w| w[0] < w[1]), "{progress:?}");
    assert_eq!((progress[0], *progress.last().unwrap()), (100, 200));
    // NOTIFYs carry message/sipfrag with Event: refer; the last one ends the subscription.
    let notifies: Vec<_> = sim.nodes[b]
        .raw
        .iter()
        .filter(|r| r.starts_with(b"NOTIFY"))
        .map(|r| rvoip_core::sip::ua::SipMsg::parse(r).unwrap())
        .collect();
    assert_eq!(notifies[0].body, b"SIP/2.0 100 Trying\r\n");
    let last = notifies.last().unwrap();
    assert_eq!(last.body, b"SIP/2.0 200 OK\r\n");
    assert_eq!(last.header("Event"), Some("refer"));
    assert!(
        last.header("Subscription-State")
            .unwrap()
            .starts_with("terminated")
    );
    assert!(
        last.header("Content-Type")
            .unwrap()
            .starts_with("message/sipfrag")
    );
    assert!(sim.saw(
        b,
        |e| matches!(e, Event::Answered { call, .. } if *call == bc)
    ));
    let now = sim.now;
    sim.ua(a).hangup(now, ab).unwrap();
    let ended = sim.run_until(
        b,
        secs(40),
        |e| matches!(e, Event::Ended { call, .. } if *call == ba),
    );
    assert_eq!(
        ended,
        Some(Event::Ended {
            call: ba,
            reason: EndReason::RemoteHangup
        })
    );
}

#[test]
fn attended_transfer_with_replaces() {
    let mut sim = Sim::new(11, Link::PERFECT);
    let a = sim.add(config("alice", 5060));
    let b = sim.add(config("bob", 5070));
    let c = sim.add(config("carol", 5090));
    let (ab, ba) = connect(&mut sim, a, b);
    let (ac, ca) = connect(&mut sim, a, c);
    let now = sim.now;
    sim.ua(a).transfer_attended(now, ab, ac).unwrap();
    let Some(Event::TransferRequested { target, .. }) = sim.run_until(b, secs(40), |e| {
        matches!(e, Event::TransferRequested { .. })
    }) else {
        panic!()
    };
    assert!(target.contains("?Replaces="), "{target}");
    let now = sim.now;
    sim.ua(b).accept_transfer(now, ba, &target, OFFER).unwrap();
    let Some(Event::IncomingCall { call: cb, .. }) =
        sim.run_until(c, secs(40), |e| matches!(e, Event::IncomingCall { .. }))
    else {
        panic!()
    };
    let now = sim.now;
    sim.ua(c).answer(now, cb, ANSWER).unwrap();
    // Carol's old call with Alice is replaced: Carol BYEs it.
    let replaced = sim.run_until(c, secs(40), |e| matches!(e, Event::Ended { .. }));
    assert_eq!(
        replaced,
        Some(Event::Ended {
            call: ca,
            reason: EndReason::Replaced
        })
    );
    let a_end = sim.run_until(
        a,
        secs(40),
        |e| matches!(e, Event::Ended { call, .. } if *call == ac),
    );
    assert_eq!(
        a_end,
        Some(Event::Ended {
            call: ac,
            reason: EndReason::RemoteHangup
        })
    );
    sim.run_for(secs(5));
    assert!(sim.saw(a, |e| *e
        == Event::TransferProgress {
            call: ab,
            code: 200
        }));
}

#[test]
fn refresh_reuses_the_nonce_with_next_nc_and_retries_stale_nonces() {
    let mut sim = registrar_sim(12, "secret");
    let now = sim.now;
    sim.ua(1).register(now).unwrap();
    assert!(
        sim.run_until(1, secs(10), |e| matches!(e, Event::Registration(_)))
            .is_some()
    );
    // First refresh (50–90 s): same nonce, nc=00000002, no new challenge.
    assert!(
        sim.run_until(1, secs(95), |e| matches!(e, Event::Registration(_)))
            .is_some()
    );
    let auths: Vec<String> = sim.nodes[1]
        .raw
        .iter()
        .filter(|r| r.starts_with(b"REGISTER"))
        .filter_map(|r| rvoip_core::sip::ua::SipMsg::parse(r).ok())
        .filter_map(|m| m.header("Authorization").map(str::to_string))
        .collect();
    assert_eq!(auths.len(), 2);
    assert!(auths[0].contains("nc=00000001"), "{}", auths[0]);
    assert!(auths[1].contains("nc=00000002"), "{}", auths[1]);
    assert_eq!(
        sim.sent_lines(0)
            .iter()
            .filter(|l| l.starts_with("SIP/2.0 401"))
            .count(),
        1
    );
    // Keep refreshing for 10 minutes: the registrar's nonces live 300 s, so a refresh gets
    // 401 stale=true and is retried without asking the user; it never fails.
    sim.run_for(secs(600));
    assert!(!sim.saw(1, |e| matches!(
        e,
        Event::Registration(RegistrationState::Failed { .. })
    )));
    let stale = sim.nodes[0]
        .raw
        .iter()
        .filter(|r| r.starts_with(b"SIP/2.0 401"))
        .filter(|r| String::from_utf8_lossy(r).contains("stale=true"))
        .count();
    assert!(stale >= 1, "a stale nonce was challenged");
    assert!(sim.ua(1).is_registered());
}

#[test]
fn several_contacts_for_one_aor_each_reads_its_own_expiry() {
    let mut sim = registrar_sim(13, "secret");
    let mut second = config("alice", 5061);
    second.proxy = Some(addr(5080));
    second.password = "secret".into();
    second.register_expires = 300;
    let s = sim.add(second);
    let now = sim.now;
    sim.ua(1).register(now).unwrap();
    sim.ua(s).register(now).unwrap();
    let first = sim.run_until(1, secs(10), |e| matches!(e, Event::Registration(_)));
    assert_eq!(
        first,
        Some(Event::Registration(RegistrationState::Registered {
            expires: 100
        }))
    );
    sim.run_for(secs(1));
    assert!(sim.saw(s, |e| *e
        == Event::Registration(RegistrationState::Registered { expires: 300 })));
    assert_eq!(sim.ua(0).bindings("sip:alice@example.com").count(), 2);
    let last_ok = sim.nodes[0]
        .raw
        .iter()
        .rev()
        .find(|r| r.starts_with(b"SIP/2.0 200"))
        .map(|r| rvoip_core::sip::ua::SipMsg::parse(r).unwrap())
        .unwrap();
    assert_eq!(
        last_ok.headers_named("Contact").count(),
        2,
        "the 200 lists every binding"
    );
}

#[test]
fn proxy_challenge_407_is_answered_with_proxy_authorization() {
    use rvoip_core::sip::ua::SipMsg;
    let mut sim = Sim::new(14, Link::PERFECT);
    let mut alice = config("alice", 5060);
    alice.password = "secret".into();
    alice.proxy = Some(addr(5080));
    let a = sim.add(alice);
    let now = sim.now;
    sim.ua(a).call(now, "sip:bob@example.com", OFFER).unwrap();
    sim.drain();
    let invite = SipMsg::parse(&sim.nodes[a].raw[0]).unwrap();
    let mut r = String::from("SIP/2.0 407 Proxy Authentication Required\r\n");
    for h in ["Via", "From", "Call-ID", "CSeq"] {
        r.push_str(&format!("{h}: {}\r\n", invite.header(h).unwrap()));
    }
    r.push_str(&format!("To: {};tag=px\r\n", invite.header("To").unwrap()));
    r.push_str("Proxy-Authenticate: Digest realm=\"proxy\", nonce=\"n1\", qop=\"auth\"\r\nContent-Length: 0\r\n\r\n");
    let out = sim.inject(a, addr(5080), r.as_bytes());
    assert_eq!(
        out.len(),
        2,
        "ACK for the 407, then the new INVITE: {out:?}"
    );
    assert!(out[0].starts_with("ACK sip:bob@example.com SIP/2.0"));
    let retry = SipMsg::parse(out[1].as_bytes()).unwrap();
    assert_eq!(retry.cseq().unwrap().0, invite.cseq().unwrap().0 + 1);
    assert_eq!(retry.call_id(), invite.call_id());
    let pa = retry.header("Proxy-Authorization").unwrap();
    assert!(
        pa.contains("realm=\"proxy\"") && pa.contains("nc=00000001"),
        "{pa}"
    );
    assert_ne!(retry.branch(), invite.branch(), "a new transaction");
}

#[test]
fn missing_pong_fails_the_flow_and_registers_again() {
    let mut sim = registrar_sim(15, "secret");
    let now = sim.now;
    sim.ua(1).register(now).unwrap();
    assert!(
        sim.run_until(1, secs(10), |e| matches!(e, Event::Registration(_)))
            .is_some()
    );
    // From now on the registrar's pongs are lost.
    sim.drop_if = Some(Box::new(|bytes: &[u8]| bytes == b"\r\n"));
    let regs_before = sim
        .sent_lines(1)
        .iter()
        .filter(|l| l.starts_with("REGISTER"))
        .count();
    let ev = sim.run_until(1, secs(45), |e| *e == Event::KeepaliveTimeout);
    assert_eq!(ev, Some(Event::KeepaliveTimeout));
    sim.run_for(secs(1));
    let regs_after = sim
        .sent_lines(1)
        .iter()
        .filter(|l| l.starts_with("REGISTER"))
        .count();
    assert_eq!(
        regs_after,
        regs_before + 1,
        "a new REGISTER recreates the flow"
    );
    assert!(sim.ua(1).is_registered());
}

#[test]
fn target_refresh_by_reinvite_moves_in_dialog_requests() {
    use rvoip_core::sip::ua::SipMsg;
    let mut sim = pair(16, Link::PERFECT);
    let (ac, _) = connect(&mut sim, 0, 1);
    let ok = sim.nodes[1]
        .raw
        .iter()
        .find(|r| r.starts_with(b"SIP/2.0 200 OK"))
        .unwrap();
    let ok = SipMsg::parse(ok).unwrap();
    // Bob's re-INVITE announces a new Contact (he moved to port 5099).
    let reinvite = format!(
        "INVITE sip:alice@10.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5099;branch=z9hG4bKmove\r\n\
Max-Forwards: 70\r\nFrom: {}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: 99999999 INVITE\r\n\
Contact: <sip:bob@10.0.0.1:5099>\r\nContent-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n",
        ok.header("To").unwrap(),
        ok.header("From").unwrap(),
        ok.call_id().unwrap()
    );
    sim.inject(0, addr(5099), reinvite.as_bytes());
    assert!(sim.saw(
        0,
        |e| matches!(e, Event::OfferReceived { call, .. } if *call == ac)
    ));
    let now = sim.now;
    sim.ua(0).answer(now, ac, OFFER).unwrap();
    let now = sim.now;
    sim.ua(0).hangup(now, ac).unwrap();
    sim.drain();
    let bye = sim.nodes[0]
        .sent
        .iter()
        .rev()
        .find(|(_, _, l)| l.starts_with("BYE"))
        .unwrap();
    assert_eq!(bye.2, "BYE sip:bob@10.0.0.1:5099 SIP/2.0");
    assert_eq!(bye.1, addr(5099));
}

#[test]
fn websocket_client_advertises_an_invalid_host_and_uses_its_proxy_flow() {
    use rvoip_core::sip::ua::{SipMsg, Transport};
    let mut sim = Sim::new(17, Link::PERFECT);
    let mut c = config("alice", 5060);
    c.transport = Transport::Wss;
    c.advertised_host = Some("df7jal23ls0d.invalid".into());
    c.proxy = Some(addr(5080));
    let a = sim.add(c);
    let now = sim.now;
    sim.ua(a).call(now, "sip:bob@example.com", OFFER).unwrap();
    sim.drain();
    let (_, dest, _) = &sim.nodes[a].sent[0];
    assert_eq!(*dest, addr(5080));
    let invite = SipMsg::parse(&sim.nodes[a].raw[0]).unwrap();
    assert!(
        invite
            .top_via()
            .unwrap()
            .starts_with("SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK")
    );
    assert_eq!(
        invite.contact_uri(),
        Some("sip:alice@df7jal23ls0d.invalid;transport=ws")
    );
}

#[test]
fn with_advertised_host_is_new_with_that_host() {
    use rvoip_core::rand::SplitMix64;
    use rvoip_core::sip::ua::{SipMsg, UserAgent};
    use rvoip_core::time::Instant;
    let now = Instant::from_micros(1_000_000);
    let first_invite = |mut ua: UserAgent<SplitMix64>| {
        ua.call(now, "sip:bob@10.0.0.1:5099", OFFER).unwrap();
        ua.poll_transmit().unwrap().bytes
    };
    let mut c = config("alice", 5060);
    let plain = first_invite(UserAgent::new(c.clone(), SplitMix64::new(3)));
    let plain = SipMsg::parse(&plain).unwrap();
    assert!(
        plain.top_via().unwrap().contains(" 10.0.0.1:5060;"),
        "without an advertised host, the local address: {:?}",
        plain.top_via()
    );
    let ua = UserAgent::with_advertised_host(c.clone(), SplitMix64::new(3), "h9.invalid".into());
    assert_eq!(ua.config().advertised_host.as_deref(), Some("h9.invalid"));
    let with = first_invite(ua);
    c.advertised_host = Some("h9.invalid".into());
    let set = first_invite(UserAgent::new(c, SplitMix64::new(3)));
    assert_eq!(
        with, set,
        "the same bytes as `new` with the host in the config"
    );
    let with = SipMsg::parse(&with).unwrap();
    assert!(with.top_via().unwrap().contains(" h9.invalid;branch="));
    assert_eq!(with.contact_uri(), Some("sip:alice@h9.invalid"));
}
