//! Bad and hostile input to a user agent: RFC 4475-style malformed requests, unknown
//! dialogs, CSeq going backwards, retransmission storms, a full transaction table; and the
//! UAS timers seen from outside (2xx retransmission until ACK, Timer G/H).

mod sim;

use rvoip_core::sip::ua::{EndReason, Event, SipMsg};
use rvoip_core::time::Duration;
use sim::{Link, Sim, addr, config};

fn req(method: &str, branch: &str, extra: &str) -> Vec<u8> {
    format!(
        "{method} sip:bob@10.0.0.1:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5999;branch={branch}\r\n\
Max-Forwards: 70\r\nFrom: <sip:m@h>;tag=ft\r\nTo: <sip:bob@h>{extra}\r\nCall-ID: cid-{branch}\r\n\
CSeq: 5 {method}\r\nContact: <sip:m@10.0.0.1:5999>\r\n\r\n"
    )
    .into_bytes()
}

/// Status line prefixes (`SIP/2.0 400`): reason phrases name the defect.
fn codes(out: &[String]) -> Vec<&str> {
    out.iter().map(|m| m.get(..11).unwrap_or("")).collect()
}

fn status(out: &[String]) -> Vec<&str> {
    out.iter().map(|m| m.lines().next().unwrap_or("")).collect()
}

#[test]
fn out_of_dialog_requests_get_481() {
    let mut sim = Sim::new(1, Link::PERFECT);
    let b = sim.add(config("bob", 5070));
    for m in ["BYE", "INFO", "UPDATE", "REFER", "NOTIFY"] {
        let out = sim.inject(b, addr(5999), &req(m, &format!("z9hG4bK{m}"), ";tag=nope"));
        assert_eq!(
            status(&out),
            ["SIP/2.0 481 Call/Transaction Does Not Exist"],
            "{m}"
        );
    }
    // A BYE without To tag is out of any dialog as well.
    let out = sim.inject(b, addr(5999), &req("BYE", "z9hG4bKbye2", ""));
    assert_eq!(
        status(&out),
        ["SIP/2.0 481 Call/Transaction Does Not Exist"]
    );
}

#[test]
fn malformed_requests_get_stateless_400() {
    let mut sim = Sim::new(2, Link::PERFECT);
    let b = sim.add(config("bob", 5070));
    // RFC 4475 badbranch: the branch is the bare magic cookie.
    let out = sim.inject(b, addr(5999), &req("OPTIONS", "z9hG4bK", ""));
    assert_eq!(codes(&out), ["SIP/2.0 400"]);
    // Missing Call-ID / From / CSeq.
    for h in ["Call-ID", "From", "CSeq"] {
        let raw = String::from_utf8(req("INVITE", "z9hG4bKmiss", "")).unwrap();
        let cut: String = raw
            .split("\r\n")
            .filter(|l| !l.starts_with(h))
            .collect::<Vec<_>>()
            .join("\r\n");
        let out = sim.inject(b, addr(5999), cut.as_bytes());
        assert_eq!(codes(&out), ["SIP/2.0 400"], "without {h}");
    }
    // CSeq method not matching the request method (RFC 4475 §3.1.2.?) and a bad Max-Forwards.
    let raw = String::from_utf8(req("INVITE", "z9hG4bKmm", ""))
        .unwrap()
        .replace("CSeq: 5 INVITE", "CSeq: 5 BYE");
    assert_eq!(
        codes(&sim.inject(b, addr(5999), raw.as_bytes())),
        ["SIP/2.0 400"]
    );
    let raw = String::from_utf8(req("INVITE", "z9hG4bKmf", ""))
        .unwrap()
        .replace("Max-Forwards: 70", "Max-Forwards: x");
    assert_eq!(
        codes(&sim.inject(b, addr(5999), raw.as_bytes())),
        ["SIP/2.0 400"]
    );
    // Without Via nothing can be answered; garbage is dropped.
    let raw = String::from_utf8(req("INVITE", "z9hG4bKnv", "")).unwrap();
    let cut: String = raw
        .split("\r\n")
        .filter(|l| !l.starts_with("Via"))
        .collect::<Vec<_>>()
        .join("\r\n");
    assert!(sim.inject(b, addr(5999), cut.as_bytes()).is_empty());
    assert!(
        sim.inject(b, addr(5999), b"\x00\xffgarbage\r\n\r\n")
            .is_empty()
    );
    assert_eq!(
        sim.ua(b).transaction_count(),
        0,
        "nothing stateful was created"
    );
    assert_eq!(sim.ua(b).call_count(), 0);
}

#[test]
fn retransmission_storm_creates_no_new_transactions() {
    let mut sim = Sim::new(3, Link::PERFECT);
    let b = sim.add(config("bob", 5070));
    let invite = req("INVITE", "z9hG4bKstorm", "");
    let first = sim.inject(b, addr(5999), &invite);
    assert_eq!(
        status(&first),
        ["SIP/2.0 100 Trying", "SIP/2.0 180 Ringing"]
    );
    assert_eq!(sim.ua(b).transaction_count(), 1);
    for _ in 0..1000 {
        let out = sim.inject(b, addr(5999), &invite);
        // Each retransmission is answered with the last provisional response only.
        assert_eq!(status(&out), ["SIP/2.0 180 Ringing"]);
    }
    assert_eq!(sim.ua(b).transaction_count(), 1);
    assert_eq!(sim.ua(b).call_count(), 1);
    let incoming = sim
        .events(b)
        .iter()
        .filter(|e| matches!(e, Event::IncomingCall { .. }))
        .count();
    assert_eq!(incoming, 1);
}

#[test]
fn full_transaction_table_answers_503_with_retry_after() {
    let mut sim = Sim::new(4, Link::PERFECT);
    let mut cfg = config("bob", 5070);
    cfg.max_transactions = 10;
    let b = sim.add(cfg);
    for i in 0..10 {
        let out = sim.inject(b, addr(5999), &req("MESSAGE", &format!("z9hG4bKm{i}"), ""));
        assert_eq!(status(&out), ["SIP/2.0 200 OK"]);
    }
    assert_eq!(sim.ua(b).transaction_count(), 10);
    for i in 10..100 {
        let out = sim.inject(b, addr(5999), &req("MESSAGE", &format!("z9hG4bKm{i}"), ""));
        assert_eq!(status(&out), ["SIP/2.0 503 Service Unavailable"]);
        assert!(out[0].contains("\r\nRetry-After: "));
    }
    assert_eq!(sim.ua(b).transaction_count(), 10);
    // Timer J (64·T1) frees the table.
    sim.run_for(Duration::from_secs(33));
    assert_eq!(sim.ua(b).transaction_count(), 0);
}

#[test]
fn cseq_going_backwards_in_a_dialog_gets_500() {
    let mut sim = Sim::new(5, Link::PERFECT);
    let a = sim.add(config("alice", 5060));
    let b = sim.add(config("bob", 5070));
    let now = sim.now;
    let ac = sim
        .ua(a)
        .call(now, "sip:bob@10.0.0.1:5070", b"v=0\r\n")
        .unwrap();
    let Some(Event::IncomingCall { call: bc, .. }) =
        sim.run_until(b, Duration::from_secs(5), |e| {
            matches!(e, Event::IncomingCall { .. })
        })
    else {
        panic!()
    };
    let now = sim.now;
    sim.ua(b).answer(now, bc, b"v=0\r\n").unwrap();
    sim.run_for(Duration::from_secs(1));
    assert!(sim.saw(
        a,
        |e| matches!(e, Event::Answered { call, .. } if *call == ac)
    ));
    // Forge in-dialog INFOs from Alice using the dialog's identifiers.
    let find = |node: usize, start: &str| {
        let raw = sim.nodes[node]
            .raw
            .iter()
            .find(|r| r.starts_with(start.as_bytes()))
            .unwrap();
        SipMsg::parse(raw).unwrap()
    };
    let invite = find(a, "INVITE");
    let ok = find(b, "SIP/2.0 200 OK");
    let (seq, _) = invite.cseq().unwrap();
    let info = |n: u32, branch: &str| {
        format!(
            "INFO sip:bob@10.0.0.1:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch={branch}\r\n\
Max-Forwards: 70\r\nFrom: {}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {n} INFO\r\n\r\n",
            invite.header("From").unwrap(),
            ok.header("To").unwrap(),
            invite.call_id().unwrap()
        )
    };
    let out = sim.inject(b, addr(5060), info(seq + 5, "z9hG4bKup").as_bytes());
    assert_eq!(status(&out), ["SIP/2.0 200 OK"]);
    let out = sim.inject(b, addr(5060), info(seq + 4, "z9hG4bKdown").as_bytes());
    assert_eq!(status(&out), ["SIP/2.0 500 Server Internal Error"]);
    let out = sim.inject(
        b,
        addr(5060),
        info(seq.saturating_sub(1), "z9hG4bKlow").as_bytes(),
    );
    assert_eq!(status(&out), ["SIP/2.0 500 Server Internal Error"]);
    assert_eq!(sim.ua(b).call_count(), 1, "the dialog survives");
}

#[test]
fn uas_retransmits_2xx_until_ack_then_gives_up_with_bye() {
    let mut sim = Sim::new(6, Link::PERFECT);
    let a = sim.add(config("alice", 5060));
    let b = sim.add(config("bob", 5070));
    // Every ACK is lost.
    sim.drop_if = Some(Box::new(|bytes: &[u8]| bytes.starts_with(b"ACK ")));
    let now = sim.now;
    sim.ua(a)
        .call(now, "sip:bob@10.0.0.1:5070", b"v=0\r\n")
        .unwrap();
    let Some(Event::IncomingCall { call: bc, .. }) =
        sim.run_until(b, Duration::from_secs(5), |e| {
            matches!(e, Event::IncomingCall { .. })
        })
    else {
        panic!()
    };
    let start = sim.now;
    sim.ua(b).answer(start, bc, b"v=0\r\n").unwrap();
    let ended = sim.run_until(b, Duration::from_secs(60), |e| {
        matches!(e, Event::Ended { .. })
    });
    assert_eq!(
        ended,
        Some(Event::Ended {
            call: bc,
            reason: EndReason::Timeout
        })
    );
    assert_eq!(sim.now - start, Duration::from_secs(32), "64·T1");
    // §13.3.1.4: T1, doubling to T2 (0.5, 1, 2, 4, 4, …).
    let oks: Vec<u64> = sim.nodes[b]
        .sent
        .iter()
        .filter(|(t, _, l)| *t >= start && l == "SIP/2.0 200 OK")
        .map(|(t, _, _)| (*t - start).as_millis() as u64)
        .collect();
    assert_eq!(
        oks,
        [
            0, 500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500
        ]
    );
    assert!(sim.sent_lines(b).iter().any(|l| l.starts_with("BYE ")));
}

#[test]
fn invite_server_timer_g_and_h_without_ack() {
    let mut sim = Sim::new(7, Link::PERFECT);
    let b = sim.add(config("bob", 5070));
    let out = sim.inject(b, addr(5999), &req("INVITE", "z9hG4bKgh", ""));
    assert_eq!(status(&out).len(), 2);
    let Some(Event::IncomingCall { call, .. }) = sim.events(b).into_iter().next() else {
        panic!()
    };
    let start = sim.now;
    sim.ua(b).reject(start, call, 486).unwrap();
    sim.run_for(Duration::from_secs(40));
    let sends: Vec<u64> = sim.nodes[b]
        .sent
        .iter()
        .filter(|(_, _, l)| l == "SIP/2.0 486 Busy Here")
        .map(|(t, _, _)| (*t - start).as_millis() as u64)
        .collect();
    // Timer G: 0.5, 1, 2, 4, 4, … s; Timer H at 32 s ends it.
    assert_eq!(
        sends,
        [
            0, 500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500
        ]
    );
    assert_eq!(sim.ua(b).transaction_count(), 0);
}

#[test]
fn rfc4475_style_rejections_from_the_shared_validator() {
    let mut sim = Sim::new(8, Link::PERFECT);
    let b = sim.add(config("bob", 5070));
    let base = String::from_utf8(req("OPTIONS", "z9hG4bKv1", "")).unwrap();
    let unsupported = base.replace("Max-Forwards: 70", "Max-Forwards: 70\r\nRequire: nothere");
    let out = sim.inject(b, addr(5999), unsupported.as_bytes());
    assert_eq!(codes(&out), ["SIP/2.0 420"]);
    assert!(out[0].contains("Unsupported: nothere"));
    let version = base
        .replace(" SIP/2.0\r\nVia", " SIP/7.0\r\nVia")
        .replace("z9hG4bKv1", "z9hG4bKv2");
    assert_eq!(
        codes(&sim.inject(b, addr(5999), version.as_bytes())),
        ["SIP/2.0 505"]
    );
    let scheme = base
        .replace("OPTIONS sip:bob", "OPTIONS http://bob")
        .replace("z9hG4bKv1", "z9hG4bKv3");
    assert_eq!(
        codes(&sim.inject(b, addr(5999), scheme.as_bytes())),
        ["SIP/2.0 416"]
    );
    assert_eq!(sim.ua(b).transaction_count(), 0);
}

#[test]
fn rfc2543_request_without_magic_cookie_is_matched_by_the_fallback() {
    let mut sim = Sim::new(9, Link::PERFECT);
    let b = sim.add(config("bob", 5070));
    let old = req("INVITE", "7af3b1", "");
    let first = sim.inject(b, addr(5999), &old);
    assert_eq!(
        status(&first),
        ["SIP/2.0 100 Trying", "SIP/2.0 180 Ringing"]
    );
    for _ in 0..10 {
        assert_eq!(
            status(&sim.inject(b, addr(5999), &old)),
            ["SIP/2.0 180 Ringing"]
        );
    }
    assert_eq!(sim.ua(b).transaction_count(), 1);
    assert_eq!(sim.ua(b).call_count(), 1);
}

/// A request the validator refuses is answered like any UA response (§8.2.6.2): the Vias,
/// From, To with a new tag, Call-ID and CSeq of the request, the specific reason, and the
/// header the status asks for (420 names the unsupported extension, §8.2.2.3).
#[test]
fn rejection_copies_the_request_and_names_the_extension() {
    let mut sim = Sim::new(3, Link::PERFECT);
    let b = sim.add(config("bob", 5070));
    let raw = String::from_utf8(req("OPTIONS", "z9hG4bKreq", ""))
        .unwrap()
        .replace(
            "Max-Forwards: 70\r\n",
            "Max-Forwards: 70\r\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKp\r\nRequire: foo, timer\r\n",
        );
    let out = sim.inject(b, addr(5999), raw.as_bytes());
    assert_eq!(out.len(), 1);
    let resp = SipMsg::parse(out[0].as_bytes()).expect("the rejection parses");
    assert_eq!(resp.code(), Some(420));
    assert_eq!(
        resp.headers_named("Via").collect::<Vec<_>>(),
        [
            "SIP/2.0/UDP 10.0.0.1:5999;branch=z9hG4bKreq",
            "SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKp"
        ]
    );
    assert_eq!(resp.header("From"), Some("<sip:m@h>;tag=ft"));
    assert_eq!(resp.header("Call-ID"), Some("cid-z9hG4bKreq"));
    assert_eq!(resp.header("CSeq"), Some("5 OPTIONS"));
    assert!(resp.header("To").unwrap().starts_with("<sip:bob@h>;tag="));
    assert!(resp.to_tag().is_some_and(|t| !t.is_empty()));
    assert_eq!(resp.header("Unsupported"), Some("foo"));
    assert!(resp.header("Contact").is_none() && resp.header("Require").is_none());
    // A To tag already present is kept, not replaced.
    let raw = String::from_utf8(req("OPTIONS", "z9hG4bKreq2", ";tag=t1"))
        .unwrap()
        .replace(
            "Max-Forwards: 70\r\n",
            "Max-Forwards: 70\r\nRequire: foo\r\n",
        );
    let out = sim.inject(b, addr(5999), raw.as_bytes());
    let resp = SipMsg::parse(out[0].as_bytes()).expect("the rejection parses");
    assert_eq!(resp.code(), Some(420));
    assert_eq!(resp.header("To"), Some("<sip:bob@h>;tag=t1"));
}
