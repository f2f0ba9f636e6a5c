//! Server transactions: the INVITE (RFC 3261 §17.2.1, Figure 7, with the RFC 6026
//! "Accepted" state) and non-INVITE (§17.2.2, Figure 8) state machines.
//!
//! Inputs: retransmissions of the request, the ACK (for a non-2xx final response), the
//! responses the TU sends, timeouts. Outputs: the last response to resend, the Timer G
//! retransmissions, the Timer H "no ACK" timeout, termination.

use alloc::vec::Vec;

use super::timer::{Timer, TimerConfig, TimerTable};
use crate::time::{Duration, Instant};

/// The state of a server transaction (Figures 7 and 8, RFC 6026 Figure 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    /// Non-INVITE received, no response sent yet.
    Trying,
    /// A provisional response was sent (INVITE starts here).
    Proceeding,
    /// A final response was sent (non-2xx for INVITE).
    Completed,
    /// INVITE: the ACK for the non-2xx final response was received (Timer I).
    Confirmed,
    /// RFC 6026: a 2xx to INVITE was sent; retransmitted INVITEs are absorbed (Timer L).
    Accepted,
    /// The transaction is over and can be removed.
    Terminated,
}

/// What a fired timer asks of the transaction layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerTimerAction {
    /// Timer G: retransmit the last (non-2xx final) response.
    Retransmit,
    /// Timer H: no ACK arrived; tell the TU and drop the transaction.
    AckTimeout,
    /// Timer I, J or L fired: the transaction is terminated, remove it silently.
    Terminated,
}

/// An INVITE or non-INVITE server transaction.
#[derive(Debug, Clone)]
pub struct ServerTransaction {
    invite: bool,
    reliable: bool,
    state: ServerState,
    cfg: TimerConfig,
    timers: TimerTable,
    interval: Duration,
    last_response: Option<Vec<u8>>,
    last_code: u16,
}

impl ServerTransaction {
    /// A new server transaction for a request just received.
    pub fn new(cfg: TimerConfig, invite: bool, reliable: bool) -> Self {
        ServerTransaction {
            invite,
            reliable,
            state: if invite {
                ServerState::Proceeding
            } else {
                ServerState::Trying
            },
            cfg,
            timers: TimerTable::default(),
            interval: cfg.t1,
            last_response: None,
            last_code: 0,
        }
    }

    /// The current state.
    pub fn state(&self) -> ServerState {
        self.state
    }

    /// Whether this is an INVITE server transaction.
    pub fn is_invite(&self) -> bool {
        self.invite
    }

    /// The status code of the last response sent (0 if none).
    pub fn last_code(&self) -> u16 {
        self.last_code
    }

    /// The last response sent, for retransmission.
    pub fn last_response(&self) -> Option<&[u8]> {
        self.last_response.as_deref()
    }

    /// Whether the transaction is over.
    pub fn is_terminated(&self) -> bool {
        self.state == ServerState::Terminated
    }

    /// The deadline of an armed timer (for tests against the RFC tables).
    pub fn timer(&self, t: Timer) -> Option<Instant> {
        self.timers.get(t)
    }

    /// The earliest timer deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    fn arm(&mut self, now: Instant, t: Timer) {
        self.timers.arm(&self.cfg, self.reliable, now, t);
    }

    fn end_if_zero(&mut self, now: Instant, t: Timer) {
        if self.timers.get(t).is_some_and(|at| at <= now) {
            self.state = ServerState::Terminated;
            self.timers.stop_all();
        }
    }

    /// A retransmission of the request arrived: returns the response to resend, if any
    /// (§17.2.1: the most recent provisional or final response; §17.2.2 likewise).
    pub fn handle_retransmission(&mut self) -> Option<&[u8]> {
        match self.state {
            ServerState::Proceeding | ServerState::Completed => self.last_response.as_deref(),
            _ => None,
        }
    }

    /// An ACK matched this INVITE server transaction (non-2xx final sent): Completed →
    /// Confirmed, Timer I. Returns `true` if the ACK was expected here.
    pub fn handle_ack(&mut self, now: Instant) -> bool {
        if !self.invite {
            return false;
        }
        match self.state {
            ServerState::Completed => {
                self.timers.stop_all();
                self.state = ServerState::Confirmed;
                self.arm(now, Timer::I);
                self.end_if_zero(now, Timer::I);
                true
            }
            ServerState::Confirmed => true,
            _ => false,
        }
    }

    /// The TU sends a response with status `code` whose serialized form is `bytes`.
    /// Returns `false` (and records nothing) if the state does not allow that response,
    /// e.g. a second final response; the caller then must not transmit it.
    pub fn send_response(&mut self, now: Instant, code: u16, bytes: Vec<u8>) -> bool {
        use ServerState::*;
        let provisional = code < 200;
        match (self.state, provisional) {
            (Trying | Proceeding, true) => {
                self.state = Proceeding;
            }
            (Trying | Proceeding, false) => {
                if self.invite && (200..300).contains(&code) {
                    // 2xx: retransmitted by the TU (§13.3.1.4); RFC 6026 Accepted state.
                    self.state = Accepted;
                    self.arm(now, Timer::L);
                } else if self.invite {
                    self.state = Completed;
                    self.interval = self.cfg.t1;
                    self.arm(now, Timer::G);
                    self.arm(now, Timer::H);
                } else {
                    self.state = Completed;
                    self.arm(now, Timer::J);
                    self.end_if_zero(now, Timer::J);
                }
            }
            // RFC 6026: the TU may retransmit the 2xx through the Accepted state.
            (Accepted, false) if (200..300).contains(&code) => {}
            _ => return false,
        }
        self.last_code = code;
        self.last_response = Some(bytes);
        true
    }

    /// Processes the earliest expired timer, if any; call until it returns `None`.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<ServerTimerAction> {
        let t = self.timers.expired(now)?;
        Some(match t {
            Timer::G => {
                self.interval = self.cfg.backoff(Timer::G, self.interval);
                self.timers.set(Timer::G, now + self.interval);
                ServerTimerAction::Retransmit
            }
            Timer::H => {
                self.state = ServerState::Terminated;
                self.timers.stop_all();
                ServerTimerAction::AckTimeout
            }
            _ => {
                self.state = ServerState::Terminated;
                self.timers.stop_all();
                ServerTimerAction::Terminated
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn ms(v: u64) -> Instant {
        Instant::from_millis(v)
    }

    #[test]
    fn invite_non_2xx_timer_g_until_h() {
        let mut tx = ServerTransaction::new(TimerConfig::default(), true, false);
        assert!(tx.send_response(ms(0), 100, vec![1]));
        assert_eq!(tx.handle_retransmission(), Some(&[1u8][..]));
        assert!(tx.send_response(ms(0), 486, vec![2]));
        assert!(
            !tx.send_response(ms(0), 200, vec![3]),
            "one final response only"
        );
        let mut retx = Vec::new();
        let mut end = None;
        while let Some(at) = tx.poll_timeout() {
            match tx.handle_timeout(at).unwrap() {
                ServerTimerAction::Retransmit => retx.push(at.as_millis()),
                e => {
                    end = Some((at.as_millis(), e));
                    break;
                }
            }
        }
        // Timer G: 500 ms, 1 s, 2 s, then T2 = 4 s; Timer H at 64·T1 = 32 s.
        assert_eq!(
            retx,
            [
                500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500
            ]
        );
        assert_eq!(end, Some((32_000, ServerTimerAction::AckTimeout)));
    }

    #[test]
    fn invite_ack_confirms_with_timer_i() {
        let mut tx = ServerTransaction::new(TimerConfig::default(), true, false);
        assert!(tx.send_response(ms(0), 603, vec![2]));
        assert!(tx.handle_ack(ms(100)));
        assert_eq!(tx.state(), ServerState::Confirmed);
        assert_eq!(tx.timer(Timer::G), None);
        assert_eq!(tx.timer(Timer::I), Some(ms(5_100)));
        assert_eq!(tx.handle_retransmission(), None, "Confirmed absorbs");
        assert_eq!(
            tx.handle_timeout(ms(5_100)),
            Some(ServerTimerAction::Terminated)
        );
    }

    #[test]
    fn reliable_invite_ack_terminates_at_once_and_no_timer_g() {
        let mut tx = ServerTransaction::new(TimerConfig::default(), true, true);
        assert!(tx.send_response(ms(0), 404, vec![2]));
        assert_eq!(tx.timer(Timer::G), None);
        assert_eq!(tx.timer(Timer::H), Some(ms(32_000)));
        assert!(tx.handle_ack(ms(10)));
        assert!(tx.is_terminated(), "Timer I is 0 on reliable transports");
    }

    #[test]
    fn invite_2xx_accepted_timer_l() {
        let mut tx = ServerTransaction::new(TimerConfig::default(), true, false);
        assert!(tx.send_response(ms(0), 200, vec![9]));
        assert_eq!(tx.state(), ServerState::Accepted);
        assert_eq!(
            tx.handle_retransmission(),
            None,
            "2xx retransmission is the TU's job"
        );
        assert_eq!(tx.timer(Timer::L), Some(ms(32_000)));
    }

    #[test]
    fn non_invite_timer_j() {
        let mut tx = ServerTransaction::new(TimerConfig::default(), false, false);
        assert_eq!(
            tx.handle_retransmission(),
            None,
            "Trying: nothing to resend"
        );
        assert!(tx.send_response(ms(0), 200, vec![7]));
        assert_eq!(tx.handle_retransmission(), Some(&[7u8][..]));
        assert_eq!(tx.timer(Timer::J), Some(ms(32_000)));
        let mut rel = ServerTransaction::new(TimerConfig::default(), false, true);
        assert!(rel.send_response(ms(0), 200, vec![7]));
        assert!(rel.is_terminated(), "Timer J is 0 on reliable transports");
    }
}
