//! Per-source token bucket for SIP requests (`limits.requests_per_second_per_source`).
//!
//! Each source address (IP and port: on loopback and behind NAT the port tells flows
//! apart) has a bucket of `rate` tokens refilled at `rate` per second; a request takes one.
//! An empty bucket means the request is refused: the first refusal in each second is
//! answered with 503 + Retry-After, the rest are dropped, so a flood is not amplified.
//! The table is bounded: idle sources are forgotten, and past `MAX_SOURCES` the oldest go.

use std::collections::HashMap;
use std::net::SocketAddr;

use rvoip_core::time::Instant;

/// Sources tracked at most.
const MAX_SOURCES: usize = 65_536;

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
    buckets: HashMap<SocketAddr, Bucket>,
}

impl RateLimiter {
    /// A limiter allowing `rate` requests per second per source (0 disables it).
    pub fn new(rate: u32) -> RateLimiter {
        RateLimiter {
            rate: f64::from(rate),
            buckets: HashMap::new(),
        }
    }

    /// Takes a token for a request from `source`; false when over the limit.
    pub fn allow(&mut self, now: Instant, source: SocketAddr) -> bool {
        if self.rate <= 0.0 {
            return true;
        }
        if self.buckets.len() >= MAX_SOURCES && !self.buckets.contains_key(&source) {
            self.purge(now);
        }
        let rate = self.rate;
        let b = self.buckets.entry(source).or_insert(Bucket {
            tokens: rate,
            last: now,
            last_answer: None,
        });
        let elapsed = now.saturating_duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(rate);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Whether a refused request from `source` should get a 503 (once per second).
    pub fn should_answer(&mut self, now: Instant, source: SocketAddr) -> bool {
        match self.buckets.get_mut(&source) {
            Some(b) => {
                let due = b
                    .last_answer
                    .is_none_or(|t| now.saturating_duration_since(t).as_secs() >= 1);
                if due {
                    b.last_answer = Some(now);
                }
                due
            }
            None => false,
        }
    }

    /// Forgets sources idle long enough to be full again; if none are, the oldest half.
    fn purge(&mut self, now: Instant) {
        let rate = self.rate;
        self.buckets.retain(|_, b| {
            let idle = now.saturating_duration_since(b.last).as_secs_f64();
            b.tokens + idle * rate < rate
        });
        if self.buckets.len() >= MAX_SOURCES {
            let mut ages: Vec<_> = self.buckets.iter().map(|(a, b)| (b.last, *a)).collect();
            ages.sort();
            for (_, a) in ages.iter().take(ages.len() / 2) {
                self.buckets.remove(a);
            }
        }
    }

    /// Sources tracked.
    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_refills_at_the_rate() {
        let mut l = RateLimiter::new(10);
        let a: SocketAddr = "10.0.0.1:5060".parse().unwrap();
        let b: SocketAddr = "10.0.0.2:5060".parse().unwrap();
        let t0 = Instant::from_millis(1_000);
        let allowed = (0..25).filter(|_| l.allow(t0, a)).count();
        assert_eq!(allowed, 10);
        assert!(l.allow(t0, b), "another source has its own bucket");
        assert!(l.should_answer(t0, a));
        assert!(!l.should_answer(t0, a), "one 503 per second");
        let t1 = Instant::from_millis(1_500);
        let allowed = (0..25).filter(|_| l.allow(t1, a)).count();
        assert_eq!(allowed, 5, "half a second refills half the bucket");
        assert!(RateLimiter::new(0).allow(t0, a));
    }
}
