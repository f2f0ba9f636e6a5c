//! Packet index estimation (RFC 3711 §3.3.1, Appendix A) and the replay window
//! (RFC 3711 §3.3.2) kept per SSRC for SRTP and SRTCP.
//!
//! Inputs: 16-bit sequence numbers (SRTP) or 31-bit SRTCP indices. Outputs: the estimated
//! 48-bit packet index and ROC, and a verdict on whether an index was already seen or is
//! older than the window. The state is two integers and a 128-bit mask: no allocation.

/// Size of the replay window in packets (RFC 3711 §3.3.2 asks for at least 64).
pub const REPLAY_WINDOW: u64 = 128;

/// The rollover counter and highest sequence number of one SRTP stream (RFC 3711 §3.3.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RocState {
    /// ROC: how many times the 16-bit sequence number wrapped.
    pub(crate) roc: u32,
    /// `s_l`: the highest sequence number seen (authenticated, on receive).
    pub(crate) s_l: u16,
}

impl RocState {
    /// Estimates the ROC `v` of sequence number `seq` and its packet index
    /// `i = 2^16 * v + seq` (RFC 3711 Appendix A). `None` if `v` would leave the 32-bit
    /// range (a packet from before the first ROC, or the index space is exhausted).
    #[inline]
    pub(crate) fn estimate(&self, seq: u16) -> Option<(u32, u64)> {
        let v = if self.s_l < 0x8000 {
            if seq > self.s_l && seq - self.s_l > 0x8000 {
                self.roc.checked_sub(1)?
            } else {
                self.roc
            }
        } else if seq < self.s_l - 0x8000 {
            self.roc.checked_add(1)?
        } else {
            self.roc
        };
        Some((v, (u64::from(v) << 16) | u64::from(seq)))
    }

    /// Records an accepted packet with ROC `v` and sequence number `seq`: moves `s_l` and
    /// the ROC forward if the packet is the newest so far (RFC 3711 §3.3.1).
    #[inline]
    pub(crate) fn update(&mut self, v: u32, seq: u16) {
        let newest = (u64::from(self.roc) << 16) | u64::from(self.s_l);
        let index = (u64::from(v) << 16) | u64::from(seq);
        if index > newest {
            self.roc = v;
            self.s_l = seq;
        }
    }
}

/// A sliding replay window over packet indices (RFC 3711 §3.3.2): bit `k` of `mask` is
/// set when index `top - k` was received.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ReplayWindow {
    /// Highest index accepted.
    top: u64,
    /// Received packets at and below `top`.
    mask: u128,
}

/// Why an index is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Replay {
    /// The index was already received.
    Duplicate,
    /// The index is older than the window.
    TooOld,
}

impl ReplayWindow {
    /// Checks index `i` without recording it.
    #[inline]
    pub(crate) fn check(&self, i: u64) -> Result<(), Replay> {
        if i > self.top || self.mask == 0 {
            return Ok(());
        }
        let delta = self.top - i;
        if delta >= REPLAY_WINDOW {
            Err(Replay::TooOld)
        } else if self.mask & (1u128 << delta) != 0 {
            Err(Replay::Duplicate)
        } else {
            Ok(())
        }
    }

    /// Records index `i` (call only after [`Self::check`] passed and the packet
    /// authenticated).
    #[inline]
    pub(crate) fn accept(&mut self, i: u64) {
        if self.mask == 0 {
            self.top = i;
            self.mask = 1;
        } else if i > self.top {
            let shift = i - self.top;
            self.mask = if shift >= REPLAY_WINDOW {
                1
            } else {
                (self.mask << shift) | 1
            };
            self.top = i;
        } else {
            let delta = self.top - i;
            if delta < REPLAY_WINDOW {
                self.mask |= 1u128 << delta;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_follows_appendix_a() {
        let s = RocState { roc: 5, s_l: 100 };
        assert_eq!(s.estimate(101), Some((5, (5 << 16) | 101)));
        // Far ahead of a low s_l: a late packet from the previous ROC.
        assert_eq!(s.estimate(65000), Some((4, (4 << 16) | 65000)));
        let s = RocState { roc: 5, s_l: 65500 };
        // Wrapped: the next ROC.
        assert_eq!(s.estimate(3), Some((6, (6 << 16) | 3)));
        assert_eq!(s.estimate(65400), Some((5, (5 << 16) | 65400)));
        // ROC 0 has no predecessor.
        let s = RocState { roc: 0, s_l: 10 };
        assert_eq!(s.estimate(60000), None);
        let s = RocState {
            roc: u32::MAX,
            s_l: 65000,
        };
        assert_eq!(s.estimate(1), None);
    }

    #[test]
    fn update_only_moves_forward() {
        let mut s = RocState { roc: 1, s_l: 10 };
        s.update(1, 5);
        assert_eq!(s, RocState { roc: 1, s_l: 10 });
        s.update(2, 0);
        assert_eq!(s, RocState { roc: 2, s_l: 0 });
    }

    #[test]
    fn window_rejects_duplicates_and_old() {
        let mut w = ReplayWindow::default();
        assert_eq!(w.check(1000), Ok(()));
        w.accept(1000);
        assert_eq!(w.check(1000), Err(Replay::Duplicate));
        assert_eq!(w.check(999), Ok(()));
        w.accept(999);
        assert_eq!(w.check(999), Err(Replay::Duplicate));
        assert_eq!(w.check(1000 - 127), Ok(()));
        assert_eq!(w.check(1000 - 128), Err(Replay::TooOld));
        w.accept(1200);
        assert_eq!(w.check(1000), Err(Replay::TooOld));
        assert_eq!(w.check(1199), Ok(()));
        w.accept(1199);
        assert_eq!(w.check(1199), Err(Replay::Duplicate));
        w.accept(1201);
        assert_eq!(w.check(1199), Err(Replay::Duplicate));
        assert_eq!(w.check(1200), Err(Replay::Duplicate));
        assert_eq!(w.check(1198), Ok(()));
        // A jump further than the window forgets everything before it.
        w.accept(5000);
        assert_eq!(w.check(4999), Ok(()));
        assert_eq!(w.check(5000), Err(Replay::Duplicate));
    }

    #[test]
    fn index_zero_is_tracked() {
        let mut w = ReplayWindow::default();
        w.accept(0);
        assert_eq!(w.check(0), Err(Replay::Duplicate));
        assert_eq!(w.check(1), Ok(()));
    }
}
