//! The controlling full agent on its own: pacing (Ta), pair order, retransmissions,
//! consent interval jitter, answering the peer's checks.

use core::net::SocketAddr;
use core::time::Duration;
use rvoip_core::ice::{
    Candidate, CandidateKind, Credentials, IceAgent, IceAgentConfig, IceError, IceEvent, Receive,
    Transmit, candidate_priority,
};
use rvoip_core::rand::SplitMix64;
use rvoip_core::stun::{Attribute, Class, Message, MessageBuilder, MessageType, TransactionId};
use rvoip_core::time::Instant;

const LOCAL: &str = "10.1.1.2:50000";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn peer_creds() -> Credentials {
    Credentials::new("peer", "peerpasswordpeerpassword").unwrap()
}

fn agent(config: IceAgentConfig) -> IceAgent<SplitMix64> {
    let mut a = IceAgent::new(SplitMix64::new(3), config, &[addr(LOCAL)]);
    a.set_remote_credentials(peer_creds());
    a
}

fn remote(addr_s: &str, priority: u32, foundation: &str) -> Candidate {
    Candidate {
        foundation: foundation.into(),
        component: 1,
        priority,
        addr: addr(addr_s),
        kind: CandidateKind::Host,
    }
}

/// Drives `a` alone until `end`, returning every datagram with its send time.
fn run_alone(
    a: &mut IceAgent<SplitMix64>,
    from: Instant,
    end: Instant,
) -> Vec<(Instant, Transmit)> {
    let mut out = Vec::new();
    let mut now = from;
    let mut spins = 0;
    loop {
        while let Some(t) = a.poll_transmit() {
            out.push((now, t));
        }
        let Some(next) = a.poll_timeout().filter(|&t| t <= end) else {
            return out;
        };
        if next <= now {
            spins += 1;
            assert!(spins < 1000, "timeout in the past");
        } else {
            spins = 0;
        }
        now = now.max(next);
        a.handle_timeout(now);
    }
}

fn tid(t: &Transmit) -> TransactionId {
    Message::parse(&t.contents).unwrap().transaction_id()
}

#[test]
fn checks_are_paced_by_ta_in_priority_order() {
    let mut a = agent(IceAgentConfig::default());
    // Distinct foundations so that none starts frozen.
    let prios = [100, 500, 300, 200, 400];
    for (i, p) in prios.iter().enumerate() {
        a.add_remote_candidate(remote(
            &format!("192.0.2.{}:9", i + 1),
            *p,
            &format!("f{i}"),
        ))
        .unwrap();
    }
    let sent = run_alone(&mut a, Instant::ZERO, Instant::from_millis(400));
    // First transmissions of each transaction (retransmissions reuse the id).
    let mut firsts: Vec<(Instant, SocketAddr)> = Vec::new();
    let mut seen = Vec::new();
    for (at, t) in &sent {
        let id = tid(t);
        if !seen.contains(&id) {
            seen.push(id);
            firsts.push((*at, t.destination));
        }
    }
    let times: Vec<u64> = firsts.iter().map(|f| f.0.as_millis()).collect();
    assert_eq!(times, [0, 50, 100, 150, 200], "one new check per Ta");
    let order: Vec<SocketAddr> = firsts.iter().map(|f| f.1).collect();
    let want: Vec<SocketAddr> = [
        "192.0.2.2:9",
        "192.0.2.5:9",
        "192.0.2.3:9",
        "192.0.2.4:9",
        "192.0.2.1:9",
    ]
    .iter()
    .map(|s| addr(s))
    .collect();
    assert_eq!(order, want, "highest pair priority first");
    // Every request is authenticated for the peer and carries the ICE attributes.
    for (_, t) in &sent {
        assert_eq!(t.source, addr(LOCAL));
        let m = Message::parse(&t.contents).unwrap();
        assert_eq!(m.message_type(), MessageType::BINDING_REQUEST);
        m.verify_integrity(peer_creds().pwd.as_bytes()).unwrap();
        m.verify_fingerprint().unwrap();
        assert_eq!(
            m.username(),
            Some(format!("peer:{}", a.local_credentials().ufrag).as_str())
        );
        assert_eq!(m.ice_controlling(), Some(a.tie_breaker()));
        assert_eq!(
            m.priority(),
            Some(candidate_priority(CandidateKind::PeerReflexive, 65535, 1))
        );
        assert!(!m.use_candidate(), "regular nomination: plain checks first");
    }
}

#[test]
fn same_foundation_pairs_start_frozen_and_still_get_checked() {
    let mut a = agent(IceAgentConfig::default());
    a.add_remote_candidate(remote("192.0.2.1:9", 300, "same"))
        .unwrap();
    a.add_remote_candidate(remote("192.0.2.2:9", 200, "same"))
        .unwrap();
    let sent = run_alone(&mut a, Instant::ZERO, Instant::from_millis(120));
    let mut dests: Vec<_> = sent
        .iter()
        .map(|(at, t)| (at.as_millis(), t.destination))
        .collect();
    dests.dedup();
    // The waiting pair first; the frozen one is unfrozen on the next tick (nothing else to do).
    assert_eq!(dests, [(0, addr("192.0.2.1:9")), (50, addr("192.0.2.2:9"))]);
}

#[test]
fn retransmissions_double_and_reuse_the_transaction() {
    let mut a = agent(IceAgentConfig::default());
    a.add_remote_candidate(remote("192.0.2.1:9", 300, "x"))
        .unwrap();
    let sent = run_alone(&mut a, Instant::ZERO, Instant::from_millis(20_000));
    let times: Vec<u64> = sent.iter().map(|s| s.0.as_millis()).collect();
    assert_eq!(times, [0, 500, 1500, 3500, 6500, 9500, 12_500]);
    assert!(
        sent.iter().all(|s| s.1.contents == sent[0].1.contents),
        "identical bytes"
    );
    assert_eq!(a.poll_event(), Some(IceEvent::Failed));
}

/// A responder for `a`'s checks: success with the given password, from `from`.
fn answer(
    a: &mut IceAgent<SplitMix64>,
    now: Instant,
    t: &Transmit,
    pwd: &str,
    from: SocketAddr,
) -> Result<(), IceError> {
    let m = Message::parse(&t.contents).unwrap();
    let mut v = Vec::new();
    let mut b = MessageBuilder::new_vec(&mut v, MessageType::BINDING_SUCCESS, m.transaction_id());
    b.add(&Attribute::XorMappedAddress(t.source)).unwrap();
    b.add_message_integrity(pwd.as_bytes()).unwrap();
    b.add_fingerprint().unwrap();
    a.handle_receive(
        now,
        Receive {
            source: from,
            destination: t.source,
            contents: &v,
        },
    )
}

#[test]
fn response_from_the_wrong_address_fails_the_pair() {
    let mut a = agent(IceAgentConfig::default());
    a.add_remote_candidate(remote("192.0.2.1:9", 300, "x"))
        .unwrap();
    a.handle_timeout(Instant::ZERO);
    let t = a.poll_transmit().unwrap();
    // Wrong source: §7.2.5.2.1, the pair fails (not connected, no selection).
    answer(
        &mut a,
        Instant::from_millis(10),
        &t,
        &peer_creds().pwd,
        addr("192.0.2.99:9"),
    )
    .unwrap();
    a.handle_timeout(Instant::from_millis(60));
    assert_eq!(a.poll_event(), Some(IceEvent::Failed));
    assert_eq!(a.selected_pair(), None);
}

#[test]
fn response_with_wrong_integrity_is_ignored() {
    let mut a = agent(IceAgentConfig::default());
    a.add_remote_candidate(remote("192.0.2.1:9", 300, "x"))
        .unwrap();
    a.handle_timeout(Instant::ZERO);
    let t = a.poll_transmit().unwrap();
    let r = answer(
        &mut a,
        Instant::from_millis(10),
        &t,
        "wrongwrongwrongwrongwrong",
        addr("192.0.2.1:9"),
    );
    assert_eq!(r, Err(IceError::UnmatchedResponse));
    // The right answer still completes the transaction.
    answer(
        &mut a,
        Instant::from_millis(20),
        &t,
        &peer_creds().pwd,
        addr("192.0.2.1:9"),
    )
    .unwrap();
    // Regular nomination: the best pair succeeded and nothing better is pending, so a
    // nominating check (USE-CANDIDATE) goes out on the next tick.
    let sent = run_alone(&mut a, Instant::from_millis(20), Instant::from_millis(100));
    let nom = &sent[0].1;
    assert!(Message::parse(&nom.contents).unwrap().use_candidate());
    answer(
        &mut a,
        Instant::from_millis(120),
        nom,
        &peer_creds().pwd,
        addr("192.0.2.1:9"),
    )
    .unwrap();
    assert_eq!(
        a.poll_event(),
        Some(IceEvent::Connected {
            local: addr(LOCAL),
            remote: addr("192.0.2.1:9")
        })
    );
    // An old (already answered) transaction id is unmatched now.
    assert_eq!(
        answer(
            &mut a,
            Instant::from_millis(130),
            &t,
            &peer_creds().pwd,
            addr("192.0.2.1:9")
        ),
        Err(IceError::UnmatchedResponse)
    );
}

#[test]
fn consent_checks_every_5s_randomised() {
    let mut a = agent(IceAgentConfig {
        nomination: rvoip_core::ice::Nomination::Aggressive,
        ..IceAgentConfig::default()
    });
    let peer = addr("192.0.2.1:9");
    a.add_remote_candidate(remote("192.0.2.1:9", 300, "x"))
        .unwrap();
    a.handle_timeout(Instant::ZERO);
    let t = a.poll_transmit().unwrap();
    assert!(
        Message::parse(&t.contents).unwrap().use_candidate(),
        "aggressive"
    );
    answer(
        &mut a,
        Instant::from_millis(40),
        &t,
        &peer_creds().pwd,
        peer,
    )
    .unwrap();
    assert!(matches!(a.poll_event(), Some(IceEvent::Connected { .. })));
    // Answer every consent check at once and record when new ones start.
    let mut now = Instant::from_millis(40);
    let mut starts = Vec::new();
    let end = Instant::from_millis(200_000);
    while let Some(next) = a.poll_timeout().filter(|&t| t <= end) {
        now = now.max(next);
        a.handle_timeout(now);
        while let Some(t) = a.poll_transmit() {
            let m = Message::parse(&t.contents).unwrap();
            assert_eq!(m.class(), Class::Request);
            assert!(m.use_candidate(), "consent checks keep the nomination");
            starts.push(now);
            answer(&mut a, now, &t, &peer_creds().pwd, peer).unwrap();
        }
    }
    assert_eq!(a.poll_event(), None, "consent never lost");
    let gaps: Vec<Duration> = starts.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.len() > 30);
    assert!(
        gaps.iter()
            .all(|g| *g >= Duration::from_millis(4000) && *g <= Duration::from_millis(6000)),
        "{gaps:?}"
    );
    let min = gaps.iter().min().unwrap();
    let max = gaps.iter().max().unwrap();
    assert!(
        *max - *min > Duration::from_millis(1000),
        "jittered: {min:?}..{max:?}"
    );
}

#[test]
fn answers_the_peers_checks_and_learns_peer_reflexive_addresses() {
    let mut a = agent(IceAgentConfig::default());
    let creds = a.local_credentials().clone();
    let mut v = Vec::new();
    let mut b =
        MessageBuilder::new_vec(&mut v, MessageType::BINDING_REQUEST, TransactionId([4; 12]));
    let u = format!("{}:peer", creds.ufrag);
    b.add(&Attribute::Username(&u)).unwrap();
    b.add(&Attribute::Priority(12345)).unwrap();
    b.add(&Attribute::IceControlled(7)).unwrap();
    b.add_message_integrity(creds.pwd.as_bytes()).unwrap();
    b.add_fingerprint().unwrap();
    let prflx = addr("198.51.100.1:7000");
    a.handle_receive(
        Instant::ZERO,
        Receive {
            source: prflx,
            destination: addr(LOCAL),
            contents: &v,
        },
    )
    .unwrap();
    let resp = a.poll_transmit().unwrap();
    assert_eq!(resp.destination, prflx);
    let m = Message::parse(&resp.contents).unwrap();
    assert_eq!(m.class(), Class::SuccessResponse);
    assert_eq!(m.xor_mapped_address(), Some(prflx));
    m.verify_integrity(creds.pwd.as_bytes()).unwrap();
    // A triggered check goes back to the new (peer-reflexive) address.
    a.handle_timeout(Instant::ZERO);
    let check = a.poll_transmit().unwrap();
    assert_eq!(check.destination, prflx);
    // Wrong destination (not a local candidate) is refused.
    let r = a.handle_receive(
        Instant::ZERO,
        Receive {
            source: prflx,
            destination: addr("10.1.1.2:1"),
            contents: &v,
        },
    );
    assert_eq!(r, Err(IceError::UnknownDestination));
}

#[test]
fn a_trickled_candidate_after_failure_restarts_checking() {
    let mut a = agent(IceAgentConfig::default());
    a.add_remote_candidate(remote("192.0.2.1:9", 300, "x"))
        .unwrap();
    run_alone(&mut a, Instant::ZERO, Instant::from_millis(20_000));
    assert_eq!(a.poll_event(), Some(IceEvent::Failed));
    assert_eq!(a.state(), rvoip_core::ice::IceState::Failed);
    a.add_remote_candidate(remote("192.0.2.2:9", 300, "y"))
        .unwrap();
    assert_eq!(a.state(), rvoip_core::ice::IceState::Checking);
    let sent = run_alone(
        &mut a,
        Instant::from_millis(20_000),
        Instant::from_millis(21_000),
    );
    assert_eq!(sent[0].1.destination, addr("192.0.2.2:9"));
    // Bounds: at most 32 remote candidates.
    for i in 0..40u32 {
        let r = a.add_remote_candidate(remote(&format!("198.51.100.{}:9", i + 1), 1, "z"));
        if i >= 30 {
            assert_eq!(r, Err(IceError::TooManyPairs));
        }
    }
}
