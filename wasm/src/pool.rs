//! The WebSocket server pool: weighted choice among several SIP-over-WebSocket servers
//! (RFC 7118), fail-over, and reconnection with jittered exponential backoff.
//!
//! The pool decides *which* URL to connect to and *when*; JavaScript opens the socket.
//!
//! - A connection attempt picks a server at random in proportion to its weight among the
//!   servers not yet tried in the current round (the weighted selection of RFC 2782).
//! - A failed attempt (closed before it opened) moves on at once to another untried
//!   server; when every server of the round failed, the next round starts after a backoff.
//! - A connection that was open and dropped is retried after a backoff too, starting again
//!   at the smallest delay.
//! - Backoff: attempt `n` (from 0) waits a random delay in `[cap/2, cap]` where
//!   `cap = min(4 s · 2ⁿ, 30 s)`, never less than [`MIN_BACKOFF`]: 2–4 s, 4–8 s, 8–16 s,
//!   15–30 s, then 15–30 s; jitter spreads the reconnections of many clients after a
//!   server restart.
//!
//! Inputs: `start`, `opened`, `closed`, `handle_timeout`. Outputs: [`Pool::poll_connect`]
//! (the URL to open now) and [`Pool::poll_timeout`].

use alloc::string::String;
use alloc::vec::Vec;

use rvoip_core::rand::Rng;
use rvoip_core::time::{Duration, Instant};

/// The shortest reconnection delay.
pub const MIN_BACKOFF: Duration = Duration::from_secs(2);
/// The longest reconnection delay.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// One WebSocket server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// `wss://…` or `ws://…` URL.
    pub url: String,
    /// Relative weight (0 = only when every weighted server failed).
    pub weight: u32,
    /// Tried in the current round (the pool's state, kept with the server: no second
    /// vector to allocate, zip and reset).
    tried: bool,
}

impl Server {
    /// A server at `url` with `weight`.
    pub fn new(url: String, weight: u32) -> Server {
        Server {
            url,
            weight,
            tried: false,
        }
    }
}

/// Where the pool is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolState {
    /// Not started (or stopped).
    Idle,
    /// Waiting until the instant to try again.
    Waiting(Instant),
    /// A socket to server `usize` is opening.
    Connecting(usize),
    /// A socket to server `usize` is open.
    Open(usize),
}

/// The server pool and its reconnection state.
#[derive(Debug, Clone)]
pub struct Pool {
    servers: Vec<Server>,
    state: PoolState,
    /// Consecutive rounds without a successful connection (the backoff exponent).
    failures: u32,
    connect: Option<usize>,
}

impl Pool {
    /// A pool of `servers` (URLs as given: the configuration leaves out empty ones).
    pub fn new(servers: Vec<Server>) -> Pool {
        Pool {
            servers,
            state: PoolState::Idle,
            failures: 0,
            connect: None,
        }
    }

    /// The servers.
    pub fn servers(&self) -> &[Server] {
        &self.servers
    }

    /// The current state.
    pub fn state(&self) -> PoolState {
        self.state
    }

    /// Whether a socket is open.
    pub fn is_open(&self) -> bool {
        matches!(self.state, PoolState::Open(_))
    }

    /// Starts connecting (no effect unless idle). Returns `false` when there is no server.
    pub fn start(&mut self, rng: &mut impl Rng) -> bool {
        if self.servers.is_empty() {
            return false;
        }
        if self.state == PoolState::Idle {
            self.failures = 0;
            self.untry();
            self.try_next(rng);
        }
        true
    }

    /// Stops: no more connection attempts.
    pub fn stop(&mut self) {
        self.state = PoolState::Idle;
        self.connect = None;
    }

    /// The socket opened.
    pub fn opened(&mut self) {
        if let PoolState::Connecting(i) = self.state {
            self.state = PoolState::Open(i);
            self.failures = 0;
            self.untry();
        }
    }

    /// The socket closed (or failed to open) at `now`. Returns the delay before the next
    /// attempt (zero when another server is tried at once), `None` when idle.
    pub fn closed(&mut self, now: Instant, rng: &mut impl Rng) -> Option<Duration> {
        match self.state {
            PoolState::Idle | PoolState::Waiting(_) => None,
            PoolState::Open(_) => {
                // A working connection dropped: wait, then start a new round.
                Some(self.wait(now, rng))
            }
            PoolState::Connecting(i) => {
                if let Some(s) = self.servers.get_mut(i) {
                    s.tried = true;
                }
                if self.servers.iter().all(|s| s.tried) {
                    self.failures = self.failures.saturating_add(1);
                    Some(self.wait(now, rng))
                } else {
                    self.try_next(rng);
                    Some(Duration::ZERO)
                }
            }
        }
    }

    /// Forces a reconnection (e.g. the keep-alive got no pong): same as a drop.
    pub fn failed(&mut self, now: Instant, rng: &mut impl Rng) -> Option<Duration> {
        self.closed(now, rng)
    }

    /// The backoff before attempt `failures` (see the module docs).
    pub fn backoff(failures: u32, rng: &mut impl Rng) -> Duration {
        let cap_ms = 4_000u64
            .saturating_mul(1u64 << failures.min(16))
            .min(MAX_BACKOFF.as_millis() as u64);
        let half = cap_ms / 2;
        let ms = (half + rng.below(cap_ms - half + 1)).max(MIN_BACKOFF.as_millis() as u64);
        Duration::from_millis(ms)
    }

    fn wait(&mut self, now: Instant, rng: &mut impl Rng) -> Duration {
        let d = Pool::backoff(self.failures.saturating_sub(1), rng);
        self.untry();
        self.state = PoolState::Waiting(now + d);
        d
    }

    /// A new round: no server tried.
    fn untry(&mut self) {
        for s in &mut self.servers {
            s.tried = false;
        }
    }

    /// Picks the next server to try (weighted among the untried ones).
    fn try_next(&mut self, rng: &mut impl Rng) {
        // The total weight and the first of the untried servers (one pass, no closures).
        let mut total = 0u64;
        let mut first = None;
        for (i, s) in self.servers.iter().enumerate() {
            if !s.tried {
                total += u64::from(s.weight);
                first = first.or(Some(i));
            }
        }
        let pick = if total == 0 {
            // Only zero-weight servers left: the first of them (RFC 2782 order).
            first
        } else {
            let mut r = rng.below(total);
            let mut found = None;
            for (i, s) in self.servers.iter().enumerate() {
                let w = u64::from(s.weight);
                if s.tried || w == 0 {
                    continue;
                }
                if r < w {
                    found = Some(i);
                    break;
                }
                r -= w;
            }
            found
        };
        match pick {
            Some(i) => {
                self.state = PoolState::Connecting(i);
                self.connect = Some(i);
            }
            None => self.state = PoolState::Idle,
        }
    }

    /// Processes the reconnection timer.
    pub fn handle_timeout(&mut self, now: Instant, rng: &mut impl Rng) {
        if let PoolState::Waiting(t) = self.state
            && t <= now
        {
            self.try_next(rng);
        }
    }

    /// When [`Pool::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            PoolState::Waiting(t) => Some(t),
            _ => None,
        }
    }

    /// The URL to open now, once per attempt.
    pub fn poll_connect(&mut self) -> Option<&str> {
        let i = self.connect.take()?;
        self.servers.get(i).map(|s| s.url.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use rvoip_core::rand::SplitMix64;

    fn pool(weights: &[u32]) -> Pool {
        Pool::new(
            weights
                .iter()
                .enumerate()
                .map(|(i, w)| Server::new(alloc::format!("wss://s{i}"), *w))
                .collect(),
        )
    }

    #[test]
    fn backoff_grows_within_2_to_30_s() {
        let mut rng = SplitMix64::new(1);
        let bounds = [(2, 4), (4, 8), (8, 16), (15, 30), (15, 30), (15, 30)];
        for (n, (lo, hi)) in bounds.iter().enumerate() {
            for _ in 0..200 {
                let d = Pool::backoff(n as u32, &mut rng).as_millis() as u64;
                assert!(d >= lo * 1000 && d <= hi * 1000, "attempt {n}: {d} ms");
            }
        }
        // Jitter: not always the same value.
        let a: Vec<_> = (0..8).map(|_| Pool::backoff(3, &mut rng)).collect();
        assert!(a.windows(2).any(|w| w[0] != w[1]));
        assert!(Pool::backoff(u32::MAX, &mut rng) <= MAX_BACKOFF);
    }

    #[test]
    fn weights_bias_the_choice() {
        let mut rng = SplitMix64::new(9);
        let mut counts = [0u32; 3];
        for _ in 0..3000 {
            let mut p = pool(&[1, 3, 0]);
            p.start(&mut rng);
            let url = p.poll_connect().unwrap().to_string();
            counts[url[7..].parse::<usize>().unwrap()] += 1;
        }
        assert_eq!(counts[2], 0, "zero weight is never first");
        assert!(counts[1] > 2 * counts[0], "{counts:?}");
        assert!(counts[0] > 500, "{counts:?}");
    }

    #[test]
    fn fails_over_then_backs_off_then_retries() {
        let mut rng = SplitMix64::new(3);
        let mut p = pool(&[5, 5, 0]);
        assert!(p.start(&mut rng));
        let mut seen = Vec::new();
        let now = Instant::from_millis(1000);
        seen.push(p.poll_connect().unwrap().to_string());
        assert_eq!(p.closed(now, &mut rng), Some(Duration::ZERO));
        seen.push(p.poll_connect().unwrap().to_string());
        assert_eq!(p.closed(now, &mut rng), Some(Duration::ZERO));
        seen.push(p.poll_connect().unwrap().to_string());
        seen.sort();
        assert_eq!(seen, ["wss://s0", "wss://s1", "wss://s2"]);
        // All three failed: wait 2–4 s.
        let d = p.closed(now, &mut rng).unwrap();
        assert!(d >= MIN_BACKOFF && d <= Duration::from_secs(4), "{d:?}");
        assert_eq!(p.poll_connect(), None);
        let t = p.poll_timeout().unwrap();
        p.handle_timeout(t - Duration::from_millis(1), &mut rng);
        assert_eq!(p.poll_connect(), None, "not before the deadline");
        p.handle_timeout(t, &mut rng);
        assert!(p.poll_connect().is_some());
        // Second round fails too: the delay grows to 4–8 s.
        let mut d = Duration::ZERO;
        for _ in 0..3 {
            d = p.closed(t, &mut rng).unwrap();
            let _ = p.poll_connect();
        }
        assert!(
            d >= Duration::from_secs(4) && d <= Duration::from_secs(8),
            "{d:?}"
        );
        // Success resets the backoff; a drop of the open socket waits 2–4 s.
        p.handle_timeout(t + d, &mut rng);
        assert!(p.poll_connect().is_some());
        p.opened();
        assert!(p.is_open());
        let d = p.closed(t + d, &mut rng).unwrap();
        assert!(d >= MIN_BACKOFF && d <= Duration::from_secs(4), "{d:?}");
        p.stop();
        assert_eq!(p.closed(t, &mut rng), None);
        assert_eq!(p.poll_timeout(), None);
    }

    #[test]
    fn empty_pool_does_not_start() {
        let mut rng = SplitMix64::new(3);
        let mut p = Pool::new(Vec::new());
        assert!(!p.start(&mut rng));
        assert_eq!(p.state(), PoolState::Idle);
    }
}
