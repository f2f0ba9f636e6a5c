//! The ICE-lite agent (the gateway) and the controlling full agent (the browser) against
//! each other on simulated time, through a simulated link with seeded loss, duplication,
//! reordering and NAT rebinding.

use core::net::SocketAddr;
use core::time::Duration;
use rvoip_core::ice::{
    Candidate, IceAgent, IceAgentConfig, IceError, IceEvent, IceLiteAgent, IceState, Nomination,
    Receive, Role, Transmit,
};
use rvoip_core::rand::{Rng, SplitMix64};
use rvoip_core::time::Instant;

const GW: &str = "203.0.113.1:40000";
/// The client's own (private) address.
const CLIENT: &str = "10.1.1.2:50000";
/// The client's address as the gateway sees it, through the NAT.
const PUBLIC: &str = "198.51.100.7:61000";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Something the simulation can drive.
trait Node {
    fn receive(&mut self, now: Instant, r: Receive<'_>) -> Result<(), IceError>;
    fn timeout(&mut self, now: Instant);
    fn transmit(&mut self) -> Option<Transmit>;
    fn event(&mut self) -> Option<IceEvent>;
    fn next_timeout(&self) -> Option<Instant>;
    fn media_target(&self) -> Option<SocketAddr>;
}

impl Node for IceLiteAgent {
    fn receive(&mut self, now: Instant, r: Receive<'_>) -> Result<(), IceError> {
        self.handle_receive(now, r)
    }
    fn timeout(&mut self, now: Instant) {
        self.handle_timeout(now)
    }
    fn transmit(&mut self) -> Option<Transmit> {
        self.poll_transmit()
    }
    fn event(&mut self) -> Option<IceEvent> {
        self.poll_event()
    }
    fn next_timeout(&self) -> Option<Instant> {
        self.poll_timeout()
    }
    fn media_target(&self) -> Option<SocketAddr> {
        self.may_send_to()
    }
}

impl<R: Rng> Node for IceAgent<R> {
    fn receive(&mut self, now: Instant, r: Receive<'_>) -> Result<(), IceError> {
        self.handle_receive(now, r)
    }
    fn timeout(&mut self, now: Instant) {
        self.handle_timeout(now)
    }
    fn transmit(&mut self) -> Option<Transmit> {
        self.poll_transmit()
    }
    fn event(&mut self) -> Option<IceEvent> {
        self.poll_event()
    }
    fn next_timeout(&self) -> Option<Instant> {
        self.poll_timeout()
    }
    fn media_target(&self) -> Option<SocketAddr> {
        self.may_send_to()
    }
}

/// Link impairments (per direction, per datagram).
#[derive(Clone, Copy)]
struct Link {
    loss_permille: u64,
    dup_permille: u64,
    delay_ms: u64,
    jitter_ms: u64,
}

const CLEAN: Link = Link {
    loss_permille: 0,
    dup_permille: 0,
    delay_ms: 20,
    jitter_ms: 0,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Gw,
    Client,
}

/// A log entry: what a node did with a delivered datagram.
#[derive(Debug, Clone)]
struct Delivery {
    at: Instant,
    to: Side,
    source: SocketAddr,
    result: Result<(), IceError>,
}

struct Sim<G: Node, C: Node> {
    gw: G,
    client: C,
    now: Instant,
    rng: SplitMix64,
    link: Link,
    /// (deliver at, sequence, datagram).
    wire: Vec<(Instant, u64, Transmit)>,
    seq: u64,
    /// The NAT's current public address for the client.
    public: SocketAddr,
    /// A node that is "silent": not running, receiving nothing, sending nothing.
    gw_silent: bool,
    client_silent: bool,
    events: Vec<(Instant, Side, IceEvent)>,
    deliveries: Vec<Delivery>,
    /// (time, gateway's media target) whenever it changes.
    targets: Vec<(Instant, Option<SocketAddr>)>,
}

impl<G: Node, C: Node> Sim<G, C> {
    fn new(gw: G, client: C, link: Link, seed: u64) -> Self {
        Sim {
            gw,
            client,
            now: Instant::ZERO,
            rng: SplitMix64::new(seed),
            link,
            wire: Vec::new(),
            seq: 0,
            public: addr(PUBLIC),
            gw_silent: false,
            client_silent: false,
            events: Vec::new(),
            deliveries: Vec::new(),
            targets: vec![(Instant::ZERO, None)],
        }
    }

    fn put_on_wire(&mut self, mut t: Transmit, from: Side) {
        if from == Side::Client {
            assert_eq!(t.source, addr(CLIENT));
            t.source = self.public; // NAT
        }
        if self.rng.below(1000) < self.link.loss_permille {
            return;
        }
        let copies = if self.rng.below(1000) < self.link.dup_permille {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let delay = self.link.delay_ms + self.rng.below(self.link.jitter_ms + 1);
            self.seq += 1;
            self.wire
                .push((self.now + Duration::from_millis(delay), self.seq, t.clone()));
        }
    }

    fn drain(&mut self) {
        while let Some(t) = self.gw.transmit() {
            if !self.gw_silent {
                self.put_on_wire(t, Side::Gw);
            }
        }
        while let Some(t) = self.client.transmit() {
            if !self.client_silent {
                self.put_on_wire(t, Side::Client);
            }
        }
        while let Some(e) = self.gw.event() {
            self.events.push((self.now, Side::Gw, e));
        }
        while let Some(e) = self.client.event() {
            self.events.push((self.now, Side::Client, e));
        }
        let target = self.gw.media_target();
        if self.targets.last().map(|t| t.1) != Some(target) {
            self.targets.push((self.now, target));
        }
    }

    fn deliver(&mut self, t: Transmit) {
        let now = self.now;
        if t.destination == addr(GW) {
            if self.gw_silent {
                return;
            }
            let result = self.gw.receive(
                now,
                Receive {
                    source: t.source,
                    destination: t.destination,
                    contents: &t.contents,
                },
            );
            self.deliveries.push(Delivery {
                at: now,
                to: Side::Gw,
                source: t.source,
                result,
            });
        } else if t.destination == self.public {
            if self.client_silent {
                return;
            }
            let result = self.client.receive(
                now,
                Receive {
                    source: t.source,
                    destination: addr(CLIENT),
                    contents: &t.contents,
                },
            );
            self.deliveries.push(Delivery {
                at: now,
                to: Side::Client,
                source: t.source,
                result,
            });
        }
        // Anything else (an old NAT mapping, an unknown host) is lost.
    }

    /// Runs until `end` (inclusive).
    fn run_until(&mut self, end: Instant) {
        let mut spins = 0u32;
        loop {
            self.drain();
            let mut next = self.wire.iter().map(|w| w.0).min();
            let mut consider = |t: Option<Instant>| {
                if let Some(t) = t {
                    next = Some(next.map_or(t, |n: Instant| n.min(t)));
                }
            };
            if !self.gw_silent {
                consider(self.gw.next_timeout());
            }
            if !self.client_silent {
                consider(self.client.next_timeout());
            }
            let Some(next) = next.filter(|&n| n <= end) else {
                self.now = end;
                return;
            };
            if next <= self.now {
                spins += 1;
                assert!(
                    spins < 10_000,
                    "a machine keeps asking for a timeout in the past"
                );
            } else {
                spins = 0;
                self.now = next;
            }
            // Deliver due datagrams in order of arrival (ties by send order).
            self.wire.sort_by_key(|w| (w.0, w.1));
            while self.wire.first().is_some_and(|w| w.0 <= self.now) {
                let (_, _, t) = self.wire.remove(0);
                self.deliver(t);
            }
            let now = self.now;
            if !self.gw_silent && self.gw.next_timeout().is_some_and(|t| t <= now) {
                self.gw.timeout(now);
            }
            if !self.client_silent && self.client.next_timeout().is_some_and(|t| t <= now) {
                self.client.timeout(now);
            }
        }
    }

    fn events_of(&self, side: Side) -> Vec<(Instant, IceEvent)> {
        self.events
            .iter()
            .filter(|e| e.1 == side)
            .map(|e| (e.0, e.2))
            .collect()
    }

    fn connected_at(&self, side: Side) -> Option<Instant> {
        self.events_of(side)
            .into_iter()
            .find(|e| matches!(e.1, IceEvent::Connected { .. }))
            .map(|e| e.0)
    }
}

fn ms(v: u64) -> Instant {
    Instant::from_millis(v)
}

/// A gateway (ICE-lite) and a client (full, controlling) that exchanged SDP.
fn pair(seed: u64, config: IceAgentConfig) -> (IceLiteAgent, IceAgent<SplitMix64>) {
    let mut rng = SplitMix64::new(seed);
    let mut gw = IceLiteAgent::new(&mut rng, &[addr(GW)]);
    let mut client = IceAgent::new(SplitMix64::new(seed ^ 0xC11E), config, &[addr(CLIENT)]);
    // SDP exchange: credentials and candidate lines, through their text form.
    gw.set_remote_credentials(client.local_credentials().clone());
    client.set_remote_credentials(gw.local_credentials().clone());
    for c in gw.local_candidates() {
        let line = format!("a={}", c.to_sdp_value());
        client
            .add_remote_candidate(Candidate::parse(&line).unwrap())
            .unwrap();
    }
    (gw, client)
}

fn sim(seed: u64, config: IceAgentConfig, link: Link) -> Sim<IceLiteAgent, IceAgent<SplitMix64>> {
    let (gw, client) = pair(seed, config);
    Sim::new(gw, client, link, seed)
}

/// The gateway's media target was only ever an address that had passed a valid check
/// before (or at) the time it became the target.
fn assert_targets_validated<C: Node>(s: &Sim<IceLiteAgent, C>) {
    for (at, target) in &s.targets {
        let Some(target) = target else { continue };
        let validated = s
            .deliveries
            .iter()
            .any(|d| d.to == Side::Gw && d.source == *target && d.result.is_ok() && d.at <= *at);
        assert!(
            validated,
            "media target {target} at {at:?} never passed a check"
        );
    }
}

#[test]
fn connects_on_a_clean_link_both_nominations() {
    for nomination in [Nomination::Regular, Nomination::Aggressive] {
        let config = IceAgentConfig {
            nomination,
            ..IceAgentConfig::default()
        };
        let mut s = sim(1, config, CLEAN);
        s.run_until(ms(2000));
        let gw_at = s.connected_at(Side::Gw).expect("gateway connected");
        let cl_at = s.connected_at(Side::Client).expect("client connected");
        // Check + response (+ nomination check + response): a few one-way delays of 20 ms.
        assert!(
            gw_at <= ms(200) && cl_at <= ms(200),
            "{nomination:?}: {gw_at:?} {cl_at:?}"
        );
        assert_eq!(s.gw.may_send_to(), Some(addr(PUBLIC)));
        assert_eq!(s.client.may_send_to(), Some(addr(GW)));
        assert_eq!(s.client.selected_pair(), Some((addr(CLIENT), addr(GW))));
        assert_eq!(s.gw.state(), IceState::Connected);
        assert_eq!(s.client.state(), IceState::Connected);
        assert_targets_validated(&s);
        // Every datagram either side received was accepted.
        assert!(
            s.deliveries.iter().all(|d| d.result.is_ok()),
            "{:?}",
            s.deliveries
        );
    }
}

#[test]
fn regular_nomination_sends_use_candidate_only_when_nominating() {
    let mut s = sim(2, IceAgentConfig::default(), CLEAN);
    // After the first check's response arrives (40 ms) but before nomination completes, the
    // gateway has validated the client without selecting it.
    s.run_until(ms(30));
    assert!(s.gw.is_validated(addr(GW), addr(PUBLIC)));
    assert_eq!(s.gw.may_send_to(), None);
    s.run_until(ms(1000));
    assert_eq!(s.gw.may_send_to(), Some(addr(PUBLIC)));
}

#[test]
fn connects_with_30_percent_loss_duplication_and_reordering() {
    let link = Link {
        loss_permille: 300,
        dup_permille: 50,
        delay_ms: 20,
        jitter_ms: 60,
    };
    let mut worst = Instant::ZERO;
    for seed in 0..30 {
        for nomination in [Nomination::Regular, Nomination::Aggressive] {
            let config = IceAgentConfig {
                nomination,
                ..IceAgentConfig::default()
            };
            let mut s = sim(seed, config, link);
            s.run_until(ms(30_000));
            let gw = s.connected_at(Side::Gw);
            let cl = s.connected_at(Side::Client);
            assert!(
                gw.is_some() && cl.is_some(),
                "seed {seed} {nomination:?}: {:?}",
                s.events
            );
            worst = worst.max(gw.unwrap()).max(cl.unwrap());
            assert_eq!(s.gw.may_send_to(), Some(addr(PUBLIC)));
            assert_eq!(s.client.may_send_to(), Some(addr(GW)));
            // Consent survives 30 % loss: checks every ~5 s, several retransmissions each.
            assert!(
                !s.events
                    .iter()
                    .any(|e| matches!(e.2, IceEvent::ConsentLost { .. } | IceEvent::Failed)),
                "seed {seed}: {:?}",
                s.events
            );
            assert_targets_validated(&s);
        }
    }
    assert!(worst < ms(16_000), "slowest connection {worst:?}");
}

#[test]
fn gateway_consent_lost_30s_after_client_goes_silent_and_back_when_it_returns() {
    let mut s = sim(3, IceAgentConfig::default(), CLEAN);
    s.run_until(ms(20_000));
    assert_eq!(s.gw.may_send_to(), Some(addr(PUBLIC)));
    s.client_silent = true;
    // The last valid check the gateway received before the silence.
    let last = s
        .deliveries
        .iter()
        .filter(|d| d.to == Side::Gw && d.result.is_ok())
        .map(|d| d.at)
        .max()
        .unwrap();
    assert!(last > ms(10_000), "consent checks kept coming: {last:?}");
    let expiry = last + Duration::from_secs(30);
    s.run_until(expiry - Duration::from_millis(1));
    assert_eq!(s.gw.may_send_to(), Some(addr(PUBLIC)), "not before 30 s");
    assert!(
        s.events_of(Side::Gw)
            .iter()
            .all(|e| !matches!(e.1, IceEvent::ConsentLost { .. }))
    );
    s.run_until(expiry);
    assert_eq!(s.gw.may_send_to(), None);
    assert_eq!(
        s.events_of(Side::Gw).last(),
        Some(&(
            expiry,
            IceEvent::ConsentLost {
                remote: addr(PUBLIC)
            }
        ))
    );
    assert_eq!(s.gw.state(), IceState::Disconnected);
    // The client comes back: its consent checks re-establish media both ways.
    let back = expiry + Duration::from_secs(5);
    s.run_until(back);
    s.client_silent = false;
    s.run_until(back + Duration::from_secs(8));
    assert_eq!(s.gw.may_send_to(), Some(addr(PUBLIC)));
    assert_eq!(s.client.may_send_to(), Some(addr(GW)));
    let gw_events = s.events_of(Side::Gw);
    assert!(matches!(gw_events.last(), Some((t, IceEvent::Connected { .. })) if *t > back));
    assert_targets_validated(&s);
}

#[test]
fn client_consent_lost_30s_after_gateway_goes_silent() {
    let mut s = sim(4, IceAgentConfig::default(), CLEAN);
    s.run_until(ms(12_000));
    assert_eq!(s.client.may_send_to(), Some(addr(GW)));
    s.gw_silent = true;
    let last = s
        .deliveries
        .iter()
        .filter(|d| d.to == Side::Client && d.result.is_ok())
        .map(|d| d.at)
        .max()
        .unwrap();
    let expiry = last + Duration::from_secs(30);
    s.run_until(expiry - Duration::from_millis(1));
    assert_eq!(s.client.may_send_to(), Some(addr(GW)));
    s.run_until(expiry);
    assert_eq!(s.client.may_send_to(), None);
    assert_eq!(
        s.events_of(Side::Client).last(),
        Some(&(expiry, IceEvent::ConsentLost { remote: addr(GW) }))
    );
    // The client keeps probing (about every 5 s) while consent is lost.
    let sent_before = s.seq;
    s.run_until(expiry + Duration::from_secs(20));
    assert!(s.seq >= sent_before + 3, "consent checks continue");
    assert_eq!(s.client.state(), IceState::Disconnected);
}

#[test]
fn nat_rebinding_moves_the_media_target_only_after_a_valid_check() {
    let link = Link {
        jitter_ms: 10,
        ..CLEAN
    };
    let mut s = sim(5, IceAgentConfig::default(), link);
    s.run_until(ms(10_000));
    assert_eq!(s.gw.may_send_to(), Some(addr(PUBLIC)));
    // The NAT rebinds the client to a new public port.
    let moved = addr("198.51.100.7:61001");
    s.public = moved;
    let rebind_at = s.now;
    // Spoofed traffic from another address claiming to be the client is rejected.
    let forged = {
        let mut v = Vec::new();
        let mut b = rvoip_core::stun::MessageBuilder::new_vec(
            &mut v,
            rvoip_core::stun::MessageType::BINDING_REQUEST,
            rvoip_core::stun::TransactionId([9; 12]),
        );
        let u = format!(
            "{}:{}",
            s.gw.local_credentials().ufrag,
            s.client.local_credentials().ufrag
        );
        b.add(&rvoip_core::stun::Attribute::Username(&u)).unwrap();
        b.add(&rvoip_core::stun::Attribute::Priority(1)).unwrap();
        b.add(&rvoip_core::stun::Attribute::UseCandidate).unwrap();
        b.add(&rvoip_core::stun::Attribute::IceControlling(1))
            .unwrap();
        b.add_message_integrity(b"guessedguessedguessed!!").unwrap();
        b.add_fingerprint().unwrap();
        v
    };
    let attacker = addr("192.0.2.66:4444");
    let r = s.gw.handle_receive(
        s.now,
        Receive {
            source: attacker,
            destination: addr(GW),
            contents: &forged,
        },
    );
    assert_eq!(r, Err(IceError::Unauthenticated));
    assert_eq!(s.gw.may_send_to(), Some(addr(PUBLIC)));
    s.run_until(ms(20_000));
    assert_eq!(s.gw.may_send_to(), Some(moved));
    let first_valid_from_moved = s
        .deliveries
        .iter()
        .find(|d| d.to == Side::Gw && d.source == moved && d.result.is_ok())
        .map(|d| d.at)
        .unwrap();
    assert!(first_valid_from_moved > rebind_at);
    // The target switched exactly when that check was processed, never before.
    let switched = s
        .targets
        .iter()
        .find(|t| t.1 == Some(moved))
        .map(|t| t.0)
        .unwrap();
    assert_eq!(switched, first_valid_from_moved);
    assert!(s.events_of(Side::Gw).iter().any(|e| e.1
        == IceEvent::SelectedPairChanged {
            local: addr(GW),
            remote: moved
        }));
    assert!(!s.targets.iter().any(|t| t.1 == Some(attacker)));
    // Consent continues on the new address; no spurious loss.
    assert!(
        s.events_of(Side::Gw)
            .iter()
            .all(|e| !matches!(e.1, IceEvent::ConsentLost { .. }))
    );
    assert_targets_validated(&s);
}

#[test]
fn nat_rebinding_with_a_client_that_does_not_renominate() {
    // Like Firefox: USE-CANDIDATE once, plain consent checks after. The gateway moves once
    // the old address has been quiet for 8 s and a valid check came from the new one.
    let config = IceAgentConfig {
        nominate_in_consent_checks: false,
        ..IceAgentConfig::default()
    };
    let mut s = sim(9, config, CLEAN);
    s.run_until(ms(10_000));
    assert_eq!(s.gw.may_send_to(), Some(addr(PUBLIC)));
    let last_old = s
        .deliveries
        .iter()
        .filter(|d| d.to == Side::Gw && d.result.is_ok())
        .map(|d| d.at)
        .max()
        .unwrap();
    let moved = addr("198.51.100.7:61002");
    s.public = moved;
    s.run_until(ms(40_000));
    assert_eq!(s.gw.may_send_to(), Some(moved));
    let switched = s.targets.iter().find(|t| t.1 == Some(moved)).unwrap().0;
    assert!(
        switched >= last_old + Duration::from_secs(8),
        "{switched:?} vs {last_old:?}"
    );
    // It moved on the first valid check from the new address after those 8 s.
    let first_eligible = s
        .deliveries
        .iter()
        .filter(|d| d.to == Side::Gw && d.source == moved && d.result.is_ok())
        .map(|d| d.at)
        .find(|&t| t >= last_old + Duration::from_secs(8))
        .unwrap();
    assert_eq!(switched, first_eligible);
    assert!(
        s.events_of(Side::Gw)
            .iter()
            .all(|e| !matches!(e.1, IceEvent::ConsentLost { .. }))
    );
    assert_targets_validated(&s);
}

#[test]
fn bad_credentials_are_rejected_and_the_client_fails() {
    for wrong in ["password", "ufrag"] {
        let (mut gw, mut client) = pair(6, IceAgentConfig::default());
        let mut creds = gw.local_credentials().clone();
        if wrong == "password" {
            creds.pwd = "0000000000000000000000000".into();
        } else {
            creds.ufrag = "nope".into();
        }
        client.set_remote_credentials(creds);
        gw.set_remote_credentials(client.local_credentials().clone());
        let mut s = Sim::new(gw, client, CLEAN, 6);
        s.run_until(ms(60_000));
        let gw_results: Vec<_> = s
            .deliveries
            .iter()
            .filter(|d| d.to == Side::Gw)
            .map(|d| d.result)
            .collect();
        assert!(!gw_results.is_empty());
        assert!(
            gw_results
                .iter()
                .all(|r| *r == Err(IceError::Unauthenticated)),
            "{gw_results:?}"
        );
        assert_eq!(s.gw.may_send_to(), None);
        assert!(s.events_of(Side::Gw).is_empty());
        // The 401s are unauthenticated: the client drops them and its check times out.
        assert!(
            s.deliveries
                .iter()
                .filter(|d| d.to == Side::Client)
                .all(|d| d.result == Err(IceError::UnmatchedResponse))
        );
        assert_eq!(
            s.events_of(Side::Client).last().map(|e| e.1),
            Some(IceEvent::Failed)
        );
        assert_eq!(s.client.may_send_to(), None);
    }
}

#[test]
fn client_reports_failure_when_the_peer_never_answers() {
    let config = IceAgentConfig::default();
    let mut s = sim(7, config, CLEAN);
    s.gw_silent = true;
    // RFC 8489 §6.2.1 schedule with the RTO doubling up to a cap: the k-th transmission
    // waits RTO_k for an answer (RTO_1 = initial); the pair fails when the last wait ends.
    let mut wait = Duration::ZERO;
    let mut rto = config.initial_rto;
    for _ in 0..config.max_transmissions {
        wait += rto;
        rto = (rto * 2).min(config.max_rto);
    }
    let expected = Instant::ZERO + wait;
    assert_eq!(
        expected,
        ms(15_500),
        "0.5 + 1 + 2 + 3 + 3 + 3 + 3 s with the defaults"
    );
    s.run_until(expected - Duration::from_millis(1));
    assert!(
        s.events_of(Side::Client).is_empty(),
        "not before the timeout"
    );
    assert_eq!(s.client.state(), IceState::Checking);
    assert_eq!(
        s.seq,
        u64::from(config.max_transmissions),
        "one request per transmission"
    );
    s.run_until(expected);
    assert_eq!(
        s.events_of(Side::Client),
        vec![(expected, IceEvent::Failed)]
    );
    assert_eq!(s.client.state(), IceState::Failed);
    assert_eq!(s.client.poll_timeout(), None, "nothing left to do");
}

#[test]
fn controlled_client_switches_role_after_487_from_lite() {
    let (gw, mut client) = pair(8, IceAgentConfig::default());
    client.set_role(Role::Controlled);
    let mut s = Sim::new(gw, client, CLEAN, 8);
    s.run_until(ms(3000));
    assert!(
        s.deliveries
            .iter()
            .any(|d| d.to == Side::Gw && d.result == Err(IceError::RoleConflict))
    );
    assert_eq!(s.client.role(), Role::Controlling);
    assert_eq!(s.gw.may_send_to(), Some(addr(PUBLIC)));
    assert_eq!(s.client.may_send_to(), Some(addr(GW)));
}

/// Two full agents, both starting controlling: the tie-breaker decides, both connect.
#[test]
fn two_full_agents_resolve_a_role_conflict_and_connect() {
    for (a_nom, b_nom) in [
        (Nomination::Regular, Nomination::Regular),
        (Nomination::Aggressive, Nomination::Regular),
    ] {
        let mut a = IceAgent::new(
            SplitMix64::new(10),
            IceAgentConfig {
                nomination: a_nom,
                ..IceAgentConfig::default()
            },
            &[addr(GW)],
        );
        let mut b = IceAgent::new(
            SplitMix64::new(11),
            IceAgentConfig {
                nomination: b_nom,
                ..IceAgentConfig::default()
            },
            &[addr(CLIENT)],
        );
        a.set_remote_credentials(b.local_credentials().clone());
        b.set_remote_credentials(a.local_credentials().clone());
        // a learns b's NAT address; b knows a's host candidate.
        let mut cb = Candidate::host(addr(PUBLIC), 65535);
        cb.foundation = "1".into();
        a.add_remote_candidate(cb).unwrap();
        b.add_remote_candidate(Candidate::host(addr(GW), 65535))
            .unwrap();
        let mut s = Sim::new(a, b, CLEAN, 12);
        s.run_until(ms(5000));
        let roles = [s.gw.role(), s.client.role()];
        assert!(
            roles.contains(&Role::Controlling) && roles.contains(&Role::Controlled),
            "{roles:?}"
        );
        assert_eq!(s.gw.may_send_to(), Some(addr(PUBLIC)));
        assert_eq!(s.client.may_send_to(), Some(addr(GW)));
        assert!(s.connected_at(Side::Gw).is_some() && s.connected_at(Side::Client).is_some());
    }
}
