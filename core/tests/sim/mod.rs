//! A simulated network for user agents: N [`UserAgent`]s exchange datagrams over a link
//! with seeded loss, duplication, delay and reordering (SplitMix64), on simulated time.
//!
//! The loop follows the core's draining rule: after every `handle_*` call each UA's
//! transmits and events are drained; time jumps to the earliest delivery or UA timeout.
#![allow(dead_code)]

use core::net::SocketAddr;
use std::collections::BTreeMap;

use rvoip_core::rand::{Rng, SplitMix64};
use rvoip_core::sip::ua::{CallId, Event, Received, SipMsg, Transport, UaConfig, UserAgent};
use rvoip_core::time::{Duration, Instant};

/// Link impairments, in per-mille and milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Link {
    /// Probability of losing a datagram, per mille.
    pub loss: u64,
    /// Probability of duplicating a datagram, per mille.
    pub dup: u64,
    /// Base one-way delay.
    pub delay_ms: u64,
    /// Extra random delay 0..jitter (reorders datagrams).
    pub jitter_ms: u64,
}

impl Link {
    /// A perfect 10 ms link.
    pub const PERFECT: Link = Link {
        loss: 0,
        dup: 0,
        delay_ms: 10,
        jitter_ms: 0,
    };

    /// A lossy, duplicating, reordering link.
    pub fn lossy(loss_percent: u64) -> Link {
        Link {
            loss: loss_percent * 10,
            dup: 50,
            delay_ms: 20,
            jitter_ms: 60,
        }
    }
}

/// One UA on the simulated network.
pub struct Node {
    pub ua: UserAgent<SplitMix64>,
    pub addr: SocketAddr,
    pub events: Vec<(Instant, Event)>,
    /// Every message this node sent: (time, destination, first line).
    pub sent: Vec<(Instant, SocketAddr, String)>,
    /// The full bytes of every message this node sent, in order.
    pub raw: Vec<Vec<u8>>,
}

/// A predicate on datagram bytes: true drops the datagram.
pub type DropFilter = Box<dyn Fn(&[u8]) -> bool>;

/// A datagram in flight.
struct Flight {
    from: SocketAddr,
    to: SocketAddr,
    bytes: Vec<u8>,
}

/// The simulated network.
pub struct Sim {
    pub now: Instant,
    pub link: Link,
    rng: SplitMix64,
    pub nodes: Vec<Node>,
    flights: BTreeMap<(Instant, u64), Flight>,
    seq: u64,
    /// A filter on datagrams: return false to drop (e.g. drop every ACK).
    pub drop_if: Option<DropFilter>,
    /// The transport messages are delivered as (reliable ones disable retransmissions).
    pub transport: Transport,
}

pub fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, 1], port))
}

/// A UA config for `user` at 10.0.0.1:`port`.
pub fn config(user: &str, port: u16) -> UaConfig {
    let mut c = UaConfig::new(format!("sip:{user}@example.com"), addr(port));
    c.transport = Transport::Udp;
    c
}

/// A 401 (or 407) answering the request `req` with `header: value` (a digest challenge),
/// its To header given the tag `to_tag` when there is one (an out-of-dialog challenger's).
pub fn challenge_for(
    req: &[u8],
    code: u16,
    (header, value): (&str, &str),
    to_tag: Option<&str>,
) -> Vec<u8> {
    let m = SipMsg::parse(req).expect("a request");
    let reason = if code == 407 {
        "Proxy Authentication Required"
    } else {
        "Unauthorized"
    };
    let mut r = format!("SIP/2.0 {code} {reason}\r\n");
    for h in ["Via", "From", "To", "Call-ID", "CSeq"] {
        r += &format!("{h}: {}", m.header(h).expect("a request's header"));
        if let (Some(tag), "To") = (to_tag, h) {
            r += &format!(";tag={tag}");
        }
        r += "\r\n";
    }
    r += &format!("{header}: {value}\r\nContent-Length: 0\r\n\r\n");
    r.into_bytes()
}

impl Sim {
    pub fn new(seed: u64, link: Link) -> Sim {
        Sim {
            now: Instant::ZERO,
            link,
            rng: SplitMix64::new(seed),
            nodes: Vec::new(),
            flights: BTreeMap::new(),
            seq: 0,
            drop_if: None,
            transport: Transport::Udp,
        }
    }

    /// Adds a UA; returns its index.
    pub fn add(&mut self, cfg: UaConfig) -> usize {
        let addr = cfg.local_addr;
        let seed = self.rng.next_u64();
        self.nodes.push(Node {
            ua: UserAgent::new(cfg, SplitMix64::new(seed)),
            addr,
            events: Vec::new(),
            sent: Vec::new(),
            raw: Vec::new(),
        });
        self.nodes.len() - 1
    }

    pub fn ua(&mut self, i: usize) -> &mut UserAgent<SplitMix64> {
        &mut self.nodes[i].ua
    }

    /// Drains transmits (onto the link) and events of every node.
    pub fn drain(&mut self) {
        for i in 0..self.nodes.len() {
            while let Some(t) = self.nodes[i].ua.poll_transmit() {
                let first = String::from_utf8_lossy(&t.bytes)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string();
                let from = self.nodes[i].addr;
                self.nodes[i].sent.push((self.now, t.destination, first));
                self.nodes[i].raw.push(t.bytes.clone());
                if self.drop_if.as_ref().is_some_and(|f| f(&t.bytes)) {
                    continue;
                }
                if self.rng.below(1000) < self.link.loss {
                    continue;
                }
                let copies = if self.rng.below(1000) < self.link.dup {
                    2
                } else {
                    1
                };
                for _ in 0..copies {
                    let jitter = if self.link.jitter_ms > 0 {
                        self.rng.below(self.link.jitter_ms)
                    } else {
                        0
                    };
                    let at = self.now + Duration::from_millis(self.link.delay_ms + jitter);
                    self.seq += 1;
                    self.flights.insert(
                        (at, self.seq),
                        Flight {
                            from,
                            to: t.destination,
                            bytes: t.bytes.clone(),
                        },
                    );
                }
            }
            while let Some(e) = self.nodes[i].ua.poll_event() {
                self.nodes[i].events.push((self.now, e));
            }
        }
    }

    /// The next instant anything happens.
    fn next(&self) -> Option<Instant> {
        let f = self.flights.keys().next().map(|(t, _)| *t);
        let t = self.nodes.iter().filter_map(|n| n.ua.poll_timeout()).min();
        match (f, t) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs one step; false when nothing is left before `limit`.
    pub fn step(&mut self, limit: Instant) -> bool {
        self.drain();
        let Some(t) = self.next() else {
            self.now = limit;
            return false;
        };
        if t > limit {
            self.now = limit;
            return false;
        }
        self.now = self.now.max(t);
        let now = self.now;
        if let Some((&k, _)) = self.flights.iter().next().filter(|((at, _), _)| *at <= now) {
            let f = self.flights.remove(&k).expect("key just seen");
            if let Some(n) = self.nodes.iter_mut().find(|n| n.addr == f.to) {
                n.ua.handle_receive(
                    now,
                    Received {
                        transport: self.transport,
                        source: f.from,
                        bytes: &f.bytes,
                    },
                );
            }
        } else {
            for n in &mut self.nodes {
                if n.ua.poll_timeout().is_some_and(|t| t <= now) {
                    n.ua.handle_timeout(now);
                }
            }
        }
        self.drain();
        true
    }

    /// Runs for `d` of simulated time.
    pub fn run_for(&mut self, d: Duration) {
        let limit = self.now + d;
        let mut guard = 0u64;
        while self.step(limit) {
            guard += 1;
            assert!(guard < 5_000_000, "simulation does not settle");
        }
    }

    /// Runs until `pred` matches a new event of node `i` (returned), or `max` elapses.
    pub fn run_until(
        &mut self,
        i: usize,
        max: Duration,
        pred: impl Fn(&Event) -> bool,
    ) -> Option<Event> {
        let limit = self.now + max;
        let start = self.nodes[i].events.len();
        loop {
            if let Some((_, e)) = self.nodes[i].events[start..].iter().find(|(_, e)| pred(e)) {
                return Some(e.clone());
            }
            if !self.step(limit) {
                return self.nodes[i].events[start..]
                    .iter()
                    .find(|(_, e)| pred(e))
                    .map(|(_, e)| e.clone());
            }
        }
    }

    /// Node `caller` calls `target` with `offer` and node `callee` answers its incoming call
    /// with `answer`, each step within `within`; returns the caller's call. Panics (with the
    /// caller's events) when the callee is never called or the caller never sees the answer.
    pub fn call_answered(
        &mut self,
        (caller, callee): (usize, usize),
        target: &str,
        (offer, answer): (&[u8], &[u8]),
        within: Duration,
    ) -> CallId {
        let now = self.now;
        let call = self.ua(caller).call(now, target, offer).expect("call");
        let Some(Event::IncomingCall { call: incoming, .. }) =
            self.run_until(callee, within, |e| matches!(e, Event::IncomingCall { .. }))
        else {
            panic!(
                "node {callee} is not called: node {caller} saw {:?}",
                self.events(caller)
            )
        };
        let now = self.now;
        self.ua(callee)
            .answer(now, incoming, answer)
            .expect("answer");
        self.run_until(
            caller,
            within,
            |e| matches!(e, Event::Answered { call: c, .. } if *c == call),
        )
        .expect("answered");
        call
    }

    /// All events of node `i` so far.
    pub fn events(&self, i: usize) -> Vec<Event> {
        self.nodes[i]
            .events
            .iter()
            .map(|(_, e)| e.clone())
            .collect()
    }

    /// Whether node `i` got an event matching `pred`.
    pub fn saw(&self, i: usize, pred: impl Fn(&Event) -> bool) -> bool {
        self.nodes[i].events.iter().any(|(_, e)| pred(e))
    }

    /// First lines of what node `i` sent, in order.
    pub fn sent_lines(&self, i: usize) -> Vec<String> {
        self.nodes[i]
            .sent
            .iter()
            .map(|(_, _, l)| l.clone())
            .collect()
    }

    /// Injects raw bytes into node `to` as if sent from `from`; returns what it sent back.
    pub fn inject(&mut self, to: usize, from: SocketAddr, bytes: &[u8]) -> Vec<String> {
        self.drain();
        let now = self.now;
        self.nodes[to].ua.handle_receive(
            now,
            Received {
                transport: self.transport,
                source: from,
                bytes,
            },
        );
        let mut out = Vec::new();
        while let Some(t) = self.nodes[to].ua.poll_transmit() {
            out.push(String::from_utf8_lossy(&t.bytes).into_owned());
        }
        while let Some(e) = self.nodes[to].ua.poll_event() {
            self.nodes[to].events.push((now, e));
        }
        out
    }
}
