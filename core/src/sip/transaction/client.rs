//! Client transactions: the INVITE (RFC 3261 §17.1.1, Figure 5, with the RFC 6026
//! "Accepted" state) and non-INVITE (§17.1.2, Figure 6) state machines.
//!
//! Inputs: the bytes of the request (kept for retransmission), the status code of each
//! matched response, timeouts. Outputs: what to do with a response (deliver it to the TU,
//! absorb it, send or resend the ACK), retransmissions, and the Timer B/F timeout.
//! The machine does not parse messages: the transaction layer matches responses to it
//! (§17.1.3) and builds the ACK for a non-2xx final response (§17.1.1.3).

use alloc::vec::Vec;

use super::timer::{Timer, TimerConfig, TimerTable};
use crate::time::{Duration, Instant};

/// The state of a client transaction (Figures 5 and 6, RFC 6026 Figure 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    /// INVITE sent, no response yet (Timers A and B running).
    Calling,
    /// Non-INVITE sent, no response yet (Timers E and F running).
    Trying,
    /// A provisional response was received.
    Proceeding,
    /// A final response was received (non-2xx for INVITE); absorbing retransmissions.
    Completed,
    /// RFC 6026: a 2xx to INVITE was received; further 2xx are passed to the TU (Timer M).
    Accepted,
    /// The transaction is over and can be removed.
    Terminated,
}

/// What the transaction layer does with a response matched to a client transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseAction {
    /// Pass the response to the TU.
    Deliver,
    /// Pass the response to the TU, and build, send and store the ACK (first non-2xx final
    /// response to an INVITE, §17.1.1.3); then call [`ClientTransaction::set_ack`].
    DeliverAndAck,
    /// Retransmit the stored ACK (a retransmitted non-2xx final response; §17.1.1.2).
    ResendAck,
    /// Drop the response (a retransmission the TU must not see).
    Absorb,
}

/// What a fired timer asks of the transaction layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientTimerAction {
    /// Retransmit the request ([`ClientTransaction::request`]).
    Retransmit,
    /// Timer B or F fired: report a timeout to the TU (as a 408) and drop the transaction.
    Timeout,
    /// Timer D, K or M fired: the transaction is terminated, remove it silently.
    Terminated,
}

/// An INVITE or non-INVITE client transaction.
#[derive(Debug, Clone)]
pub struct ClientTransaction {
    invite: bool,
    reliable: bool,
    state: ClientState,
    cfg: TimerConfig,
    timers: TimerTable,
    /// Current Timer A / E interval.
    interval: Duration,
    request: Vec<u8>,
    ack: Option<Vec<u8>>,
    retransmissions: u32,
}

impl ClientTransaction {
    /// A new client transaction that has just sent `request` (the caller transmits it once;
    /// the machine asks for retransmissions).
    pub fn new(
        now: Instant,
        cfg: TimerConfig,
        invite: bool,
        reliable: bool,
        request: Vec<u8>,
    ) -> Self {
        let (retx, timeout) = if invite {
            (Timer::A, Timer::B)
        } else {
            (Timer::E, Timer::F)
        };
        let mut t = ClientTransaction {
            invite,
            reliable,
            state: if invite {
                ClientState::Calling
            } else {
                ClientState::Trying
            },
            cfg,
            timers: TimerTable::default(),
            interval: cfg.initial(retx, reliable).unwrap_or(cfg.t1),
            request,
            ack: None,
            retransmissions: 0,
        };
        t.arm(now, retx);
        t.arm(now, timeout);
        t
    }

    /// The current state.
    pub fn state(&self) -> ClientState {
        self.state
    }

    /// Whether this is an INVITE client transaction.
    pub fn is_invite(&self) -> bool {
        self.invite
    }

    /// The request bytes, for (re)transmission.
    pub fn request(&self) -> &[u8] {
        &self.request
    }

    /// The stored ACK for a non-2xx final response, if any.
    pub fn ack(&self) -> Option<&[u8]> {
        self.ack.as_deref()
    }

    /// Stores the ACK built after [`ResponseAction::DeliverAndAck`].
    pub fn set_ack(&mut self, ack: Vec<u8>) {
        self.ack = Some(ack);
    }

    /// How many times the request was retransmitted.
    pub fn retransmissions(&self) -> u32 {
        self.retransmissions
    }

    /// The deadline of an armed timer (for tests against the RFC tables).
    pub fn timer(&self, t: Timer) -> Option<Instant> {
        self.timers.get(t)
    }

    /// The earliest timer deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Whether the transaction is over.
    pub fn is_terminated(&self) -> bool {
        self.state == ClientState::Terminated
    }

    fn arm(&mut self, now: Instant, t: Timer) {
        self.timers.arm(&self.cfg, self.reliable, now, t);
    }

    /// A response with status `code` matched this transaction (§17.1.1.2, §17.1.2.2).
    pub fn handle_response(&mut self, now: Instant, code: u16) -> ResponseAction {
        use ClientState::*;
        let provisional = code < 200;
        let success = (200..300).contains(&code);
        if self.invite {
            match (self.state, provisional, success) {
                (Calling | Proceeding, true, _) => {
                    self.state = Proceeding;
                    self.timers.stop(Timer::A);
                    self.timers.stop(Timer::B);
                    ResponseAction::Deliver
                }
                (Calling | Proceeding, false, true) => {
                    self.state = Accepted;
                    self.timers.stop_all();
                    self.arm(now, Timer::M);
                    ResponseAction::Deliver
                }
                (Calling | Proceeding, false, false) => {
                    self.state = Completed;
                    self.timers.stop_all();
                    self.arm(now, Timer::D);
                    if self.timers.get(Timer::D).is_some_and(|d| d <= now) {
                        // Reliable transport: Timer D is zero, the transaction ends at once
                        // after the ACK is sent.
                        self.state = Terminated;
                        self.timers.stop_all();
                    }
                    ResponseAction::DeliverAndAck
                }
                (Accepted, false, true) => ResponseAction::Deliver,
                (Completed, false, false) => ResponseAction::ResendAck,
                _ => ResponseAction::Absorb,
            }
        } else {
            match (self.state, provisional) {
                (Trying | Proceeding, true) => {
                    if self.state == Trying {
                        self.state = Proceeding;
                    }
                    ResponseAction::Deliver
                }
                (Trying | Proceeding, false) => {
                    self.timers.stop_all();
                    self.state = Completed;
                    self.arm(now, Timer::K);
                    if self.timers.get(Timer::K).is_some_and(|k| k <= now) {
                        self.state = Terminated;
                        self.timers.stop_all();
                    }
                    ResponseAction::Deliver
                }
                _ => ResponseAction::Absorb,
            }
        }
    }

    /// A transport error while sending (§17.1.1.2, §17.1.2.2): the transaction ends and the
    /// TU is told (as a 503).
    pub fn handle_transport_error(&mut self) {
        self.state = ClientState::Terminated;
        self.timers.stop_all();
    }

    /// Processes the earliest expired timer, if any; call until it returns `None`.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<ClientTimerAction> {
        let t = self.timers.expired(now)?;
        Some(match t {
            Timer::A | Timer::E => {
                // Timer E in Proceeding fires at T2 (§17.1.2.2).
                self.interval = if t == Timer::E && self.state == ClientState::Proceeding {
                    self.cfg.t2
                } else {
                    self.cfg.backoff(t, self.interval)
                };
                // The deadline follows from the doubled interval: 500 ms, 1 s, 2 s, 4 s…
                self.timers.set(t, now + self.interval);
                self.retransmissions += 1;
                ClientTimerAction::Retransmit
            }
            Timer::B | Timer::F => {
                self.state = ClientState::Terminated;
                self.timers.stop_all();
                ClientTimerAction::Timeout
            }
            _ => {
                self.state = ClientState::Terminated;
                self.timers.stop_all();
                ClientTimerAction::Terminated
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

    /// Drives the machine to `until`, recording when it retransmits and how it ends.
    fn run(tx: &mut ClientTransaction, until: u64) -> (Vec<u64>, Option<(u64, ClientTimerAction)>) {
        let mut retx = Vec::new();
        while let Some(at) = tx.poll_timeout() {
            if at > ms(until) {
                break;
            }
            match tx.handle_timeout(at).unwrap() {
                ClientTimerAction::Retransmit => retx.push(at.as_millis()),
                end => return (retx, Some((at.as_millis(), end))),
            }
        }
        (retx, None)
    }

    #[test]
    fn invite_timer_a_doubles_until_timer_b() {
        let mut tx = ClientTransaction::new(ms(0), TimerConfig::default(), true, false, vec![1]);
        let (retx, end) = run(&mut tx, 100_000);
        // Timer A: 500 ms, 1 s, 2 s, 4 s, 8 s, 16 s intervals -> sends at these offsets;
        // Timer B fires at 64·T1 = 32 s.
        assert_eq!(retx, [500, 1500, 3500, 7500, 15_500, 31_500]);
        assert_eq!(end, Some((32_000, ClientTimerAction::Timeout)));
        assert!(tx.is_terminated());
    }

    #[test]
    fn non_invite_timer_e_caps_at_t2() {
        let mut tx = ClientTransaction::new(ms(0), TimerConfig::default(), false, false, vec![1]);
        let (retx, end) = run(&mut tx, 100_000);
        // 500, 1000, 2000, then 4000 each (T2) until Timer F at 32 s.
        assert_eq!(
            retx,
            [
                500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500
            ]
        );
        assert_eq!(end, Some((32_000, ClientTimerAction::Timeout)));
    }

    #[test]
    fn non_invite_proceeding_retransmits_at_t2() {
        let mut tx = ClientTransaction::new(ms(0), TimerConfig::default(), false, false, vec![1]);
        assert_eq!(tx.handle_response(ms(100), 100), ResponseAction::Deliver);
        assert_eq!(tx.state(), ClientState::Proceeding);
        let (retx, _) = run(&mut tx, 9_000);
        assert_eq!(retx, [500, 4500, 8500]);
    }

    #[test]
    fn reliable_has_no_retransmissions_and_zero_wait_timers() {
        let mut tx = ClientTransaction::new(ms(0), TimerConfig::default(), true, true, vec![1]);
        assert_eq!(tx.timer(Timer::A), None);
        assert_eq!(tx.timer(Timer::B), Some(ms(32_000)));
        assert_eq!(
            tx.handle_response(ms(10), 486),
            ResponseAction::DeliverAndAck
        );
        assert!(tx.is_terminated(), "Timer D is 0 on reliable transports");

        let mut nt = ClientTransaction::new(ms(0), TimerConfig::default(), false, true, vec![1]);
        assert_eq!(nt.timer(Timer::E), None);
        assert_eq!(nt.handle_response(ms(10), 200), ResponseAction::Deliver);
        assert!(nt.is_terminated(), "Timer K is 0 on reliable transports");
    }

    #[test]
    fn invite_non_2xx_acks_then_absorbs_with_timer_d() {
        let mut tx = ClientTransaction::new(ms(0), TimerConfig::default(), true, false, vec![1]);
        assert_eq!(tx.handle_response(ms(50), 180), ResponseAction::Deliver);
        assert_eq!(tx.timer(Timer::A), None);
        assert_eq!(
            tx.handle_response(ms(80), 486),
            ResponseAction::DeliverAndAck
        );
        assert_eq!(tx.timer(Timer::D), Some(ms(32_080)));
        assert_eq!(tx.handle_response(ms(90), 486), ResponseAction::ResendAck);
        assert_eq!(tx.handle_response(ms(95), 180), ResponseAction::Absorb);
        let (_, end) = run(&mut tx, 40_000);
        assert_eq!(end, Some((32_080, ClientTimerAction::Terminated)));
    }

    #[test]
    fn invite_2xx_accepted_passes_retransmitted_2xx() {
        let mut tx = ClientTransaction::new(ms(0), TimerConfig::default(), true, false, vec![1]);
        assert_eq!(tx.handle_response(ms(50), 200), ResponseAction::Deliver);
        assert_eq!(tx.state(), ClientState::Accepted);
        assert_eq!(tx.handle_response(ms(550), 200), ResponseAction::Deliver);
        assert_eq!(tx.timer(Timer::M), Some(ms(32_050)));
    }

    #[test]
    fn non_invite_timer_k() {
        let mut tx = ClientTransaction::new(ms(0), TimerConfig::default(), false, false, vec![1]);
        assert_eq!(tx.handle_response(ms(20), 200), ResponseAction::Deliver);
        assert_eq!(tx.handle_response(ms(30), 200), ResponseAction::Absorb);
        assert_eq!(tx.timer(Timer::K), Some(ms(5_020)));
        assert_eq!(tx.timer(Timer::E), None);
    }
}
