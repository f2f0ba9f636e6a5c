//! Per-source token bucket for SIP requests (`limits.requests_per_second_per_source`).
//!
//! Inputs: each received request's source address and whether it came over a stream
//! (WebSocket/TCP) flow, with the gateway's clock. Output: a [`Verdict`] — pass, refuse with
//! 503 + Retry-After (RFC 3261 §21.5.4), or drop silently.
//!
//! **What a source is.** A host, not a socket: an IPv4 address, or an IPv6 /64 prefix (one
//! subscriber's allocation, RFC 6177; a host picks any address in it at will, RFC 8981).
//! IPv4-mapped IPv6 addresses count as their IPv4 address. A flood from one host over many
//! source ports is therefore limited as one source. Exceptions:
//!
//! - **Trusted trunks** are not limited at all: requests from a configured trunk's address
//!   ([`trunk_of_source`](super::trunk::trunk_of_source): its IP, and its port when its host
//!   names one) carry the provider's inbound calls, which are already trusted by address;
//!   limiting them would drop real calls at a busy hour. (The caller checks this before
//!   asking the limiter.) The flip side: a UDP flood spoofing a trunk's source address is
//!   not limited here — it could inject calls as that trunk anyway; anti-spoofing belongs
//!   at the network edge (or use TCP towards the trunk).
//! - **Authenticated stream flows** get a bucket of their own: once a REGISTER over a
//!   WebSocket or TCP connection passed digest authentication
//!   ([`RateLimiter::trust_flow`], called by the registrar), that connection's requests are
//!   counted per connection, so many browsers behind one NAT (or on 127.0.0.1 in tests) do
//!   not starve each other. Connections are not spoofable (TCP handshake) and each needs a
//!   user's password, so this cannot be used to multiply one host's budget without
//!   credentials. The flow's bucket goes when the connection closes
//!   ([`RateLimiter::forget_flow`]). Unauthenticated connections count against their host.
//!
//! **Buckets.** Each source has a bucket of `rate` tokens refilled at `rate` per second; a
//! request takes one. An empty bucket means the request is refused: the first refusal in
//! each second is answered with 503 + Retry-After, the rest are dropped, so a flood is not
//! amplified (at most one answer per source per second).
//!
//! **Bounded memory.** At most `capacity` sources (65,536 by default, about 6 MB) are
//! tracked. When a new source arrives at a full table, sources whose bucket has refilled
//! (idle ones, which would start full anyway) are forgotten; if that frees nothing (a
//! spoofed-source flood keeping every entry busy), the least recently seen half goes. Under
//! such a flood a limited source may thus be forgotten and start again with a full bucket:
//! the price of a bound, and no worse than the flood itself.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use rvoip_core::time::Instant;

/// Sources tracked at most by default.
pub const MAX_SOURCES: usize = 65_536;

/// What a request's tokens are taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceKey {
    /// A host: an IPv4 address, or an IPv6 /64 prefix (interface identifier zeroed).
    Host(IpAddr),
    /// One authenticated stream connection, by its peer address.
    Flow(SocketAddr),
}

/// The host key of an address: IPv4 as is (IPv4-mapped IPv6 too), IPv6 by its /64 prefix.
pub fn host_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(
                u128::from(v6) & 0xffff_ffff_ffff_ffff_0000_0000_0000_0000,
            )),
        },
    }
}

/// What to do with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the limit: process it.
    Allow,
    /// Over the limit, first refusal this second: answer 503 + Retry-After.
    Refuse,
    /// Over the limit: drop it silently.
    Drop,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
    last_answer: Option<Instant>,
}

/// The rate limiter.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    capacity: usize,
    buckets: HashMap<SourceKey, Bucket>,
    trusted_flows: HashSet<SocketAddr>,
}

impl RateLimiter {
    /// A limiter allowing `rate` requests per second per source (0 disables it), tracking
    /// up to [`MAX_SOURCES`] sources.
    pub fn new(rate: u32) -> RateLimiter {
        RateLimiter::with_capacity(rate, MAX_SOURCES)
    }

    /// A limiter tracking up to `capacity` sources (at least 2).
    pub fn with_capacity(rate: u32, capacity: usize) -> RateLimiter {
        RateLimiter {
            rate: f64::from(rate),
            capacity: capacity.max(2),
            buckets: HashMap::new(),
            trusted_flows: HashSet::new(),
        }
    }

    /// The bucket a request from `source` is counted against; `stream` when it came over a
    /// WebSocket/TCP flow (whose peer address is `source`).
    pub fn key(&self, source: SocketAddr, stream: bool) -> SourceKey {
        if stream && self.trusted_flows.contains(&source) {
            SourceKey::Flow(source)
        } else {
            SourceKey::Host(host_key(source.ip()))
        }
    }

    /// Takes a token for a request from `source` (over a stream flow when `stream`).
    pub fn check(&mut self, now: Instant, source: SocketAddr, stream: bool) -> Verdict {
        if self.rate <= 0.0 {
            return Verdict::Allow;
        }
        let key = self.key(source, stream);
        if self.buckets.len() >= self.capacity && !self.buckets.contains_key(&key) {
            self.purge(now);
        }
        let rate = self.rate;
        let b = self.buckets.entry(key).or_insert(Bucket {
            tokens: rate,
            last: now,
            last_answer: None,
        });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(rate);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return Verdict::Allow;
        }
        let due = b
            .last_answer
            .is_none_or(|t| now.saturating_duration_since(t).as_secs() >= 1);
        if due {
            b.last_answer = Some(now);
            Verdict::Refuse
        } else {
            Verdict::Drop
        }
    }

    /// The stream flow `flow` authenticated (digest): from now on its requests have a
    /// bucket of their own. Ignored when as many flows as sources are trusted already.
    pub fn trust_flow(&mut self, flow: SocketAddr) {
        if self.trusted_flows.len() < self.capacity {
            self.trusted_flows.insert(flow);
        }
    }

    /// The stream flow `flow` closed: forget its trust and its bucket.
    pub fn forget_flow(&mut self, flow: SocketAddr) {
        self.trusted_flows.remove(&flow);
        self.buckets.remove(&SourceKey::Flow(flow));
    }

    /// Forgets sources idle long enough to be full again; if none are, the least recently
    /// seen half.
    fn purge(&mut self, now: Instant) {
        let rate = self.rate;
        self.buckets.retain(|_, b| {
            let idle = now.saturating_duration_since(b.last).as_secs_f64();
            b.tokens + idle * rate < rate
        });
        if self.buckets.len() >= self.capacity {
            let mut ages: Vec<(Instant, SourceKey)> =
                self.buckets.iter().map(|(k, b)| (b.last, *k)).collect();
            let half = ages.len() / 2;
            ages.select_nth_unstable(half);
            for (_, k) in ages.iter().take(half) {
                self.buckets.remove(k);
            }
        }
    }

    /// Sources tracked.
    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }

    /// Stream flows with a bucket of their own.
    pub fn trusted_flows(&self) -> usize {
        self.trusted_flows.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(l: &mut RateLimiter, now: Instant, src: &str, stream: bool, n: usize) -> usize {
        let a: SocketAddr = src.parse().unwrap();
        (0..n)
            .filter(|_| l.check(now, a, stream) == Verdict::Allow)
            .count()
    }

    #[test]
    fn bucket_refills_at_the_rate_and_answers_once_a_second() {
        let mut l = RateLimiter::new(10);
        let a: SocketAddr = "10.0.0.1:5060".parse().unwrap();
        let t0 = Instant::from_millis(1_000);
        assert_eq!(allowed(&mut l, t0, "10.0.0.1:5060", false, 10), 10);
        assert_eq!(l.check(t0, a, false), Verdict::Refuse, "first refusal");
        assert_eq!(l.check(t0, a, false), Verdict::Drop, "one 503 per second");
        assert_eq!(
            allowed(&mut l, t0, "10.0.0.2:5060", false, 1),
            1,
            "another host"
        );
        let t1 = Instant::from_millis(1_500);
        assert_eq!(
            allowed(&mut l, t1, "10.0.0.1:5060", false, 25),
            5,
            "half a second refills half the bucket"
        );
        assert_eq!(
            l.check(t1, a, false),
            Verdict::Drop,
            "still within the second"
        );
        let t2 = Instant::from_millis(2_000);
        assert_eq!(allowed(&mut l, t2, "10.0.0.1:5060", false, 5), 5);
        assert_eq!(
            l.check(t2, a, false),
            Verdict::Refuse,
            "a second later: answer again"
        );
        let mut off = RateLimiter::new(0);
        assert_eq!(allowed(&mut off, t0, "10.0.0.1:5060", false, 1000), 1000);
    }

    #[test]
    fn many_ports_of_one_host_share_one_bucket() {
        let mut l = RateLimiter::new(10);
        let t0 = Instant::from_millis(1_000);
        let total: usize = (0..20)
            .map(|p| allowed(&mut l, t0, &format!("192.0.2.7:{}", 40_000 + p), false, 5))
            .sum();
        assert_eq!(total, 10, "100 requests from 20 ports, one budget");
        // Unauthenticated stream connections count against their host too.
        assert_eq!(allowed(&mut l, t0, "192.0.2.7:50000", true, 5), 0);
        assert_eq!(l.tracked(), 1);
    }

    #[test]
    fn ipv6_is_keyed_by_its_64_prefix_and_mapped_ipv4_by_its_ipv4() {
        let k = |s: &str| host_key(s.parse().unwrap());
        assert_eq!(k("2001:db8:1:2::1"), k("2001:db8:1:2:ffff:ee:dd:cc"));
        assert_eq!(
            k("2001:db8:1:2:abcd::9"),
            "2001:db8:1:2::".parse::<IpAddr>().unwrap()
        );
        assert_ne!(k("2001:db8:1:2::1"), k("2001:db8:1:3::1"));
        assert_eq!(k("::ffff:198.51.100.4"), k("198.51.100.4"));
        assert_ne!(k("198.51.100.4"), k("198.51.100.5"));
        let mut l = RateLimiter::new(4);
        let t0 = Instant::from_millis(1_000);
        let same_64: usize = (1..=8)
            .map(|i| allowed(&mut l, t0, &format!("[2001:db8:1:2::{i:x}]:5060"), false, 1))
            .sum();
        assert_eq!(same_64, 4, "one /64, one budget");
        assert_eq!(allowed(&mut l, t0, "[2001:db8:1:3::1]:5060", false, 1), 1);
    }

    #[test]
    fn an_authenticated_flow_has_its_own_bucket_until_it_closes() {
        let mut l = RateLimiter::new(5);
        let t0 = Instant::from_millis(1_000);
        let flow: SocketAddr = "127.0.0.1:40001".parse().unwrap();
        // The host's budget is spent (e.g. a flood from other ports).
        assert_eq!(allowed(&mut l, t0, "127.0.0.1:9999", false, 50), 5);
        assert_eq!(allowed(&mut l, t0, "127.0.0.1:40001", true, 1), 0);
        l.trust_flow(flow);
        assert_eq!(l.key(flow, true), SourceKey::Flow(flow));
        assert_eq!(
            allowed(&mut l, t0, "127.0.0.1:40001", true, 50),
            5,
            "own budget"
        );
        // The same address over UDP is not the flow.
        assert_eq!(l.key(flow, false), SourceKey::Host(flow.ip()));
        assert_eq!(allowed(&mut l, t0, "127.0.0.1:40001", false, 1), 0);
        l.forget_flow(flow);
        assert_eq!(l.trusted_flows(), 0);
        assert_eq!(l.tracked(), 1, "the flow's bucket went with it");
        assert_eq!(allowed(&mut l, t0, "127.0.0.1:40001", true, 1), 0);
    }

    #[test]
    fn a_spoofed_source_flood_cannot_grow_the_table() {
        let cap = 1_000;
        let mut l = RateLimiter::with_capacity(5, cap);
        let t0 = Instant::from_millis(1_000);
        let abuser: SocketAddr = "203.0.113.9:5060".parse().unwrap();
        assert_eq!(allowed(&mut l, t0, "203.0.113.9:5060", false, 20), 5);
        for i in 0u32..100_000 {
            let ip = std::net::Ipv4Addr::from(0x0a00_0000 + i);
            let now = Instant::from_micros(1_000_000 + u64::from(i));
            assert_eq!(
                l.check(now, SocketAddr::new(ip.into(), 5060), false),
                Verdict::Allow,
                "a new source starts with a full bucket"
            );
            assert!(l.tracked() <= cap, "{} sources tracked", l.tracked());
        }
        // The abuser, least recently seen, was evicted first.
        let later = Instant::from_micros(1_100_000);
        assert_eq!(l.check(later, abuser, false), Verdict::Allow);
    }

    #[test]
    fn a_full_table_forgets_idle_sources_before_busy_ones() {
        let mut l = RateLimiter::with_capacity(2, 4);
        let t0 = Instant::from_millis(1_000);
        // Two busy (limited) sources and two that sent one request.
        assert_eq!(allowed(&mut l, t0, "10.0.0.1:1", false, 10), 2);
        assert_eq!(allowed(&mut l, t0, "10.0.0.2:1", false, 10), 2);
        assert_eq!(allowed(&mut l, t0, "10.0.0.3:1", false, 1), 1);
        assert_eq!(allowed(&mut l, t0, "10.0.0.4:1", false, 1), 1);
        // 0.5 s later the two quiet ones are full again; the busy ones are not.
        let t1 = Instant::from_millis(1_500);
        assert_eq!(allowed(&mut l, t1, "10.0.0.5:1", false, 1), 1);
        assert_eq!(l.tracked(), 3, "the two refilled sources were forgotten");
        assert_eq!(
            allowed(&mut l, t1, "10.0.0.1:1", false, 5),
            1,
            "still limited"
        );
    }
}
