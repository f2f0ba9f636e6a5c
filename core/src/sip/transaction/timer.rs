//! The RFC 3261 §17 timer table (Table 4 of §A) and the per-transaction deadline table.
//!
//! Input: the transport's reliability and the configured T1/T2/T4. Output: the interval of
//! each timer. Timers are indexed by the [`Timer`] enum (quinn-proto's `TimerTable` style),
//! so a transaction stores one `Option<Instant>` per timer and `poll_timeout` is a min.

use crate::time::{Duration, Instant};

/// The RFC 3261 timers (§17, Table 4) plus Timers L and M from RFC 6026.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Timer {
    /// INVITE request retransmit interval, unreliable transports only (starts at T1, doubles).
    A = 0,
    /// INVITE transaction timeout (64·T1).
    B,
    /// Proxy INVITE transaction timeout (> 3 min); unused by a UA, listed for completeness.
    C,
    /// Wait time for response retransmits after a non-2xx INVITE final (32 s UDP, 0 reliable).
    D,
    /// Non-INVITE request retransmit interval, unreliable only (T1 doubling, capped at T2).
    E,
    /// Non-INVITE transaction timeout (64·T1).
    F,
    /// INVITE final response retransmit interval, unreliable only (T1 doubling, capped at T2).
    G,
    /// Wait time for ACK receipt (64·T1).
    H,
    /// Wait time for ACK retransmits (T4 UDP, 0 reliable).
    I,
    /// Wait time for non-INVITE request retransmits (64·T1 UDP, 0 reliable).
    J,
    /// Wait time for non-INVITE response retransmits (T4 UDP, 0 reliable).
    K,
    /// RFC 6026: INVITE server "Accepted" state lifetime (64·T1).
    L,
    /// RFC 6026: INVITE client "Accepted" state lifetime (64·T1).
    M,
}

impl Timer {
    /// Number of timers in the table.
    pub const COUNT: usize = 13;
    /// All timers, in index order.
    pub const ALL: [Timer; Timer::COUNT] = [
        Timer::A,
        Timer::B,
        Timer::C,
        Timer::D,
        Timer::E,
        Timer::F,
        Timer::G,
        Timer::H,
        Timer::I,
        Timer::J,
        Timer::K,
        Timer::L,
        Timer::M,
    ];
}

/// The protocol constants T1, T2, T4 (RFC 3261 §17.1.1.1, Table 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// RTT estimate, default 500 ms.
    pub t1: Duration,
    /// Maximum retransmit interval for non-INVITE requests and INVITE responses, default 4 s.
    pub t2: Duration,
    /// Maximum duration a message remains in the network, default 5 s.
    pub t4: Duration,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl TimerConfig {
    /// 64·T1: Timers B, F, H, J (unreliable), L and M.
    pub fn t1x64(&self) -> Duration {
        self.t1.saturating_mul(64)
    }

    /// The initial interval of `timer` for a transaction over a reliable (`true`) or
    /// unreliable transport, or `None` when the timer is not started on that transport
    /// (A, E, G over reliable transports). Zero means "fires immediately".
    pub fn initial(&self, timer: Timer, reliable: bool) -> Option<Duration> {
        let zero_if_reliable = |d: Duration| if reliable { Duration::ZERO } else { d };
        match timer {
            Timer::A | Timer::E | Timer::G => (!reliable).then_some(self.t1),
            Timer::B | Timer::F | Timer::H | Timer::L | Timer::M => Some(self.t1x64()),
            Timer::C => Some(Duration::from_secs(180)),
            Timer::D => Some(if reliable {
                Duration::ZERO
            } else {
                Duration::from_secs(32).max(self.t1x64() / 2)
            }),
            Timer::I | Timer::K => Some(zero_if_reliable(self.t4)),
            Timer::J => Some(zero_if_reliable(self.t1x64())),
        }
    }

    /// The next retransmit interval after `current`: doubling, capped at T2 for Timers E and
    /// G (§17.1.2.2, §17.2.1); uncapped for Timer A (§17.1.1.2).
    pub fn backoff(&self, timer: Timer, current: Duration) -> Duration {
        let doubled = current.saturating_mul(2);
        match timer {
            Timer::A => doubled,
            _ => doubled.min(self.t2),
        }
    }
}

/// One optional deadline per [`Timer`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimerTable {
    deadlines: [Option<Instant>; Timer::COUNT],
}

impl TimerTable {
    /// Arms `timer` to fire at `at`.
    pub fn set(&mut self, timer: Timer, at: Instant) {
        self.deadlines[timer as usize] = Some(at);
    }

    /// Arms `timer` at `now` plus its initial interval ([`TimerConfig::initial`]), unless
    /// it is not started on this transport (one body for both kinds of transaction).
    #[inline(never)]
    pub fn arm(&mut self, cfg: &TimerConfig, reliable: bool, now: Instant, timer: Timer) {
        if let Some(d) = cfg.initial(timer, reliable) {
            self.set(timer, now + d);
        }
    }

    /// Disarms `timer`.
    pub fn stop(&mut self, timer: Timer) {
        self.deadlines[timer as usize] = None;
    }

    /// Disarms every timer.
    pub fn stop_all(&mut self) {
        self.deadlines = [None; Timer::COUNT];
    }

    /// The deadline of `timer`, if armed.
    pub fn get(&self, timer: Timer) -> Option<Instant> {
        self.deadlines[timer as usize]
    }

    /// The earliest armed deadline.
    pub fn next(&self) -> Option<Instant> {
        // The UA's one loop over optional deadlines (no iterator adapters per caller).
        crate::sip::ua::earliest(&self.deadlines)
    }

    /// The first timer (in index order) whose deadline is at or before `now`; it is disarmed.
    pub fn expired(&mut self, now: Instant) -> Option<Timer> {
        for t in Timer::ALL {
            if let Some(at) = self.deadlines[t as usize]
                && at <= now
            {
                self.deadlines[t as usize] = None;
                return Some(t);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3261_table4_defaults() {
        let c = TimerConfig::default();
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        // Unreliable (UDP).
        assert_eq!(c.initial(Timer::A, false), Some(ms(500)));
        assert_eq!(c.initial(Timer::B, false), Some(s(32)));
        assert_eq!(c.initial(Timer::D, false), Some(s(32)));
        assert_eq!(c.initial(Timer::E, false), Some(ms(500)));
        assert_eq!(c.initial(Timer::F, false), Some(s(32)));
        assert_eq!(c.initial(Timer::G, false), Some(ms(500)));
        assert_eq!(c.initial(Timer::H, false), Some(s(32)));
        assert_eq!(c.initial(Timer::I, false), Some(s(5)));
        assert_eq!(c.initial(Timer::J, false), Some(s(32)));
        assert_eq!(c.initial(Timer::K, false), Some(s(5)));
        // Reliable (TCP, TLS, WebSocket).
        assert_eq!(c.initial(Timer::A, true), None);
        assert_eq!(c.initial(Timer::E, true), None);
        assert_eq!(c.initial(Timer::G, true), None);
        assert_eq!(c.initial(Timer::B, true), Some(s(32)));
        assert_eq!(c.initial(Timer::D, true), Some(Duration::ZERO));
        assert_eq!(c.initial(Timer::I, true), Some(Duration::ZERO));
        assert_eq!(c.initial(Timer::J, true), Some(Duration::ZERO));
        assert_eq!(c.initial(Timer::K, true), Some(Duration::ZERO));
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let c = TimerConfig::default();
        let mut e = c.initial(Timer::E, false).unwrap();
        let mut seen = alloc::vec::Vec::new();
        for _ in 0..6 {
            seen.push(e.as_millis());
            e = c.backoff(Timer::E, e);
        }
        assert_eq!(seen, [500, 1000, 2000, 4000, 4000, 4000]);
        let mut a = c.initial(Timer::A, false).unwrap();
        let mut seen = alloc::vec::Vec::new();
        for _ in 0..6 {
            seen.push(a.as_millis());
            a = c.backoff(Timer::A, a);
        }
        assert_eq!(seen, [500, 1000, 2000, 4000, 8000, 16000]);
    }

    #[test]
    fn table_min_and_expiry() {
        let mut t = TimerTable::default();
        assert_eq!(t.next(), None);
        t.set(Timer::B, Instant::from_millis(32_000));
        t.set(Timer::A, Instant::from_millis(500));
        assert_eq!(t.next(), Some(Instant::from_millis(500)));
        assert_eq!(t.expired(Instant::from_millis(499)), None);
        assert_eq!(t.expired(Instant::from_millis(500)), Some(Timer::A));
        assert_eq!(t.expired(Instant::from_millis(500)), None);
        assert_eq!(t.next(), Some(Instant::from_millis(32_000)));
    }

    #[test]
    fn arm_uses_the_initial_interval_and_skips_unstarted_timers() {
        let c = TimerConfig::default();
        let now = Instant::from_millis(1_000);
        let mut t = TimerTable::default();
        // Timer A is not started over a reliable transport; Timer D fires at once there.
        t.arm(&c, true, now, Timer::A);
        assert_eq!(t.get(Timer::A), None);
        t.arm(&c, true, now, Timer::D);
        assert_eq!(t.get(Timer::D), Some(now));
        // Over UDP: A after T1, D after 32 s.
        t.arm(&c, false, now, Timer::A);
        assert_eq!(t.get(Timer::A), Some(Instant::from_millis(1_500)));
        t.arm(&c, false, now, Timer::D);
        assert_eq!(t.get(Timer::D), Some(Instant::from_millis(33_000)));
    }
}
