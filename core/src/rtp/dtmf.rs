//! RFC 4733 telephone events (DTMF digits) over RTP: payload format (§2.3), a sender that
//! produces the packet sequence for one digit (§2.5.1) and a receiver that reports each
//! digit once (§2.5.2). Sans-IO, time injected.
//!
//! Sender inputs: `send(now, rtp_ts_now, event, duration)` and `handle_timeout(now)`;
//! outputs: [`DtmfPacket`]s from `poll_transmit()` (marker, timestamp, 4-byte payload — the
//! caller wraps them in RTP with its own sequence numbers and the negotiated
//! telephone-event payload type) and `poll_timeout()`. Receiver inputs: the marker,
//! timestamp and payload of each telephone-event RTP packet and `handle_timeout(now)`;
//! outputs: [`DtmfEvent`]s from `poll_event()`.
//!
//! Sender timeline for a digit lasting `D` with update interval `T` (timestamp units):
//! a first packet with the marker bit at the event's start, duration `T`; an update every
//! `T` with the same timestamp and growing duration; when `D` is reached, the final packet
//! with the E bit, sent three times `T` apart (§2.5.1.4). A duration beyond 0xFFFF ends the
//! segment with a 0xFFFF report and starts a new segment whose timestamp is 0xFFFF later,
//! without marker (§2.5.1.3).

use alloc::collections::VecDeque;

use super::RtpError;
use crate::time::{Duration, Instant};

/// Event codes 0–9, `*` (10), `#` (11), A–D (12–15), flash (16) (RFC 4733 §3.2).
pub fn event_from_char(c: char) -> Option<u8> {
    Some(match c {
        '0'..='9' => c as u8 - b'0',
        '*' => 10,
        '#' => 11,
        'A'..='D' => c as u8 - b'A' + 12,
        'a'..='d' => c as u8 - b'a' + 12,
        '!' => 16,
        _ => return None,
    })
}

/// The character for a DTMF event code (inverse of [`event_from_char`]).
pub fn event_to_char(e: u8) -> Option<char> {
    Some(match e {
        0..=9 => char::from(b'0' + e),
        10 => '*',
        11 => '#',
        12..=15 => char::from(b'A' + e - 12),
        16 => '!',
        _ => return None,
    })
}

/// The 4-byte telephone-event payload (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TelephoneEvent {
    /// Event code.
    pub event: u8,
    /// E bit: this is the end of the event.
    pub end: bool,
    /// Power level in −dBm0, 0–63.
    pub volume: u8,
    /// Duration in timestamp units since the (segment's) timestamp.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Length of the payload.
    pub const LEN: usize = 4;

    /// Decodes the first event of a payload (the reserved R bit is ignored).
    pub fn decode(p: &[u8]) -> Result<Self, RtpError> {
        let b = p.get(..4).ok_or(RtpError::Truncated)?;
        Ok(TelephoneEvent {
            event: b[0],
            end: b[1] & 0x80 != 0,
            volume: b[1] & 0x3F,
            duration: u16::from_be_bytes([b[2], b[3]]),
        })
    }

    /// Encodes the payload (volume is masked to 6 bits).
    pub fn encode(&self) -> [u8; 4] {
        let d = self.duration.to_be_bytes();
        [
            self.event,
            (u8::from(self.end) << 7) | (self.volume & 0x3F),
            d[0],
            d[1],
        ]
    }
}

/// A telephone-event packet for the caller to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfPacket {
    /// Marker bit (set on the first packet of an event).
    pub marker: bool,
    /// RTP timestamp (the event's or segment's start).
    pub timestamp: u32,
    /// The payload.
    pub payload: [u8; 4],
}

impl DtmfPacket {
    /// The decoded payload.
    pub fn event(&self) -> TelephoneEvent {
        // Four bytes always decode.
        TelephoneEvent::decode(&self.payload).unwrap_or(TelephoneEvent {
            event: 0,
            end: false,
            volume: 0,
            duration: 0,
        })
    }
}

/// Sender configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfSenderConfig {
    /// RTP clock rate of the telephone-event payload type (8000 for trunks, often 48000
    /// in WebRTC).
    pub clock_rate: u32,
    /// Update interval (RFC 4733 suggests 50 ms; many peers use the audio ptime, 20 ms).
    pub interval: Duration,
    /// Volume in −dBm0 (0–63).
    pub volume: u8,
    /// How many times the final (E) packet is sent (RFC 4733 §2.5.1.4: three).
    pub end_repeats: u8,
}

impl Default for DtmfSenderConfig {
    fn default() -> Self {
        DtmfSenderConfig {
            clock_rate: 8000,
            interval: Duration::from_millis(20),
            volume: 10,
            end_repeats: 3,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Sending {
    event: u8,
    /// Timestamp of the current segment.
    seg_ts: u32,
    /// Cumulative duration of previous segments (multiple of 0xFFFF).
    seg_off: u64,
    /// Requested duration, timestamp units.
    total: u64,
    /// Updates sent so far (the k-th covers (k+1)·interval).
    updates: u64,
    /// End packets still to send (0 while updating).
    end_left: u8,
    next_at: Instant,
}

/// Maximum digits waiting behind the current one.
const MAX_QUEUED: usize = 64;

/// RFC 4733 sender: generates the packets for queued digits.
#[derive(Debug, Clone)]
pub struct DtmfSender {
    cfg: DtmfSenderConfig,
    /// Mapping of driver time to the outgoing stream's RTP clock.
    anchor: Option<(Instant, u32)>,
    current: Option<Sending>,
    queue: VecDeque<(u8, Duration)>,
    out: VecDeque<DtmfPacket>,
    /// Earliest start of the next digit.
    free_at: Instant,
}

impl DtmfSender {
    /// A sender with `cfg`.
    pub fn new(cfg: DtmfSenderConfig) -> Self {
        DtmfSender {
            cfg,
            anchor: None,
            current: None,
            queue: VecDeque::new(),
            out: VecDeque::new(),
            free_at: Instant::ZERO,
        }
    }

    fn ts_units(&self, d: Duration) -> u64 {
        (d.as_micros() * u128::from(self.cfg.clock_rate) / 1_000_000) as u64
    }

    fn ts_at(&self, t: Instant) -> u32 {
        match self.anchor {
            Some((at, ts)) => {
                let d = if t >= at {
                    self.ts_units(t - at) as u32
                } else {
                    0u32.wrapping_sub(self.ts_units(at - t) as u32)
                };
                ts.wrapping_add(d)
            }
            None => 0,
        }
    }

    /// Queues `event` lasting `duration`. `rtp_ts_now` is the outgoing stream's RTP
    /// timestamp at `now` (it anchors the event timestamps). Starts at once if idle.
    pub fn send(
        &mut self,
        now: Instant,
        rtp_ts_now: u32,
        event: u8,
        duration: Duration,
    ) -> Result<(), RtpError> {
        if self.queue.len() >= MAX_QUEUED || duration.is_zero() {
            return Err(RtpError::BadValue);
        }
        self.anchor = Some((now, rtp_ts_now));
        self.queue.push_back((event, duration));
        self.handle_timeout(now);
        Ok(())
    }

    /// True while a digit is being sent (audio should be suppressed, RFC 4733 §2.5.1.1).
    pub fn is_active(&self) -> bool {
        self.current.is_some()
    }

    fn emit(&mut self, marker: bool, ts: u32, event: u8, end: bool, duration: u16) {
        self.out.push_back(DtmfPacket {
            marker,
            timestamp: ts,
            payload: TelephoneEvent {
                event,
                end,
                volume: self.cfg.volume,
                duration,
            }
            .encode(),
        });
    }

    /// Advances to `now`, producing due packets.
    pub fn handle_timeout(&mut self, now: Instant) {
        let interval = self.cfg.interval.max(Duration::from_millis(1));
        let step = self.ts_units(interval).max(1);
        // Bounded: one iteration per due tick; a driver far behind catches up tick by tick.
        for _ in 0..10_000 {
            let Some(mut s) = self.current else {
                if now < self.free_at {
                    return;
                }
                let Some((event, d)) = self.queue.pop_front() else {
                    return;
                };
                let start = now.max(self.free_at);
                let s = Sending {
                    event,
                    seg_ts: self.ts_at(start),
                    seg_off: 0,
                    total: self.ts_units(d).max(1),
                    updates: 0,
                    end_left: 0,
                    next_at: start,
                };
                self.current = Some(s);
                continue;
            };
            if now < s.next_at {
                return;
            }
            if s.end_left > 0 {
                let dur = (s.total - s.seg_off) as u16; // ≤ 0xFFFF: segments split first
                self.emit(false, s.seg_ts, s.event, true, dur);
                s.end_left -= 1;
                s.next_at += interval;
                if s.end_left == 0 {
                    self.current = None;
                    self.free_at = s.next_at;
                } else {
                    self.current = Some(s);
                }
                continue;
            }
            let covered = (s.updates + 1).saturating_mul(step).min(s.total);
            let marker = s.updates == 0;
            if covered - s.seg_off > 0xFFFF {
                // Close this segment and start the next (RFC 4733 §2.5.1.3).
                self.emit(false, s.seg_ts, s.event, false, 0xFFFF);
                s.seg_off += 0xFFFF;
                s.seg_ts = s.seg_ts.wrapping_add(0xFFFF);
            }
            s.updates += 1;
            if covered >= s.total {
                s.end_left = self.cfg.end_repeats.max(1);
                if marker {
                    // A digit shorter than one interval: announce it, then end it.
                    self.emit(true, s.seg_ts, s.event, false, (covered - s.seg_off) as u16);
                    s.next_at += interval;
                }
                self.current = Some(s);
                continue;
            }
            self.emit(
                marker,
                s.seg_ts,
                s.event,
                false,
                (covered - s.seg_off) as u16,
            );
            s.next_at += interval;
            self.current = Some(s);
        }
    }

    /// The next packet to send.
    pub fn poll_transmit(&mut self) -> Option<DtmfPacket> {
        self.out.pop_front()
    }

    /// When [`Self::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.current {
            Some(s) => Some(s.next_at),
            None if !self.queue.is_empty() => Some(self.free_at),
            None => None,
        }
    }
}

/// What the receiver reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtmfEvent {
    /// A new event started (first packet seen).
    Start {
        /// Event code.
        event: u8,
        /// Its RTP timestamp.
        timestamp: u32,
    },
    /// The event ended (E bit, a new event, or a timeout); reported exactly once.
    End {
        /// Event code.
        event: u8,
        /// Its RTP timestamp (of the first segment).
        timestamp: u32,
        /// Total duration in timestamp units, across segments.
        duration: u64,
        /// Volume of the last report (−dBm0).
        volume: u8,
    },
}

#[derive(Debug, Clone, Copy)]
struct Active {
    event: u8,
    ts: u32,
    seg_ts: u32,
    seg_off: u64,
    duration: u16,
    volume: u8,
    last_seen: Instant,
}

/// Maximum undrained events kept (older ones are dropped).
const MAX_EVENTS: usize = 32;

fn ts_before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// RFC 4733 receiver: de-duplicates updates and end retransmissions and reports each event
/// once.
#[derive(Debug, Clone)]
pub struct DtmfReceiver {
    timeout: Duration,
    current: Option<Active>,
    /// Segment timestamp of the last ended event: its retransmissions are ignored.
    last_end: Option<u32>,
    events: VecDeque<DtmfEvent>,
}

impl DtmfReceiver {
    /// A receiver that ends an event after `timeout` without updates (e.g. 1 s, when all
    /// end packets are lost).
    pub fn new(timeout: Duration) -> Self {
        DtmfReceiver {
            timeout,
            current: None,
            last_end: None,
            events: VecDeque::new(),
        }
    }

    fn push(&mut self, e: DtmfEvent) {
        if self.events.len() >= MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(e);
    }

    fn finish(&mut self, a: Active) {
        self.last_end = Some(a.seg_ts);
        self.current = None;
        self.push(DtmfEvent::End {
            event: a.event,
            timestamp: a.ts,
            duration: a.seg_off + u64::from(a.duration),
            volume: a.volume,
        });
    }

    /// Feeds a telephone-event RTP packet (its timestamp and payload; the marker bit is
    /// not needed: events are told apart by timestamp).
    pub fn handle_packet(
        &mut self,
        now: Instant,
        timestamp: u32,
        payload: &[u8],
    ) -> Result<(), RtpError> {
        let ev = TelephoneEvent::decode(payload)?;
        if let Some(le) = self.last_end
            && !ts_before(le, timestamp)
        {
            // Retransmitted end or a stale packet of an event already reported.
            return Ok(());
        }
        if let Some(mut a) = self.current {
            if timestamp == a.seg_ts && ev.event == a.event {
                a.duration = a.duration.max(ev.duration);
                a.volume = ev.volume;
                a.last_seen = now;
                if ev.end {
                    self.finish(a);
                } else {
                    self.current = Some(a);
                }
                return Ok(());
            }
            if ts_before(timestamp, a.seg_ts) {
                return Ok(()); // an old segment's late update
            }
            let delta = timestamp.wrapping_sub(a.seg_ts);
            if ev.event == a.event && delta == 0xFFFF {
                // Next segment of a long event (§2.5.1.3).
                a.seg_off += u64::from(delta);
                a.seg_ts = timestamp;
                a.duration = ev.duration;
                a.volume = ev.volume;
                a.last_seen = now;
                if ev.end {
                    self.finish(a);
                } else {
                    self.current = Some(a);
                }
                return Ok(());
            }
            // A new event: the current one's end packets were all lost.
            self.finish(a);
        }
        let a = Active {
            event: ev.event,
            ts: timestamp,
            seg_ts: timestamp,
            seg_off: 0,
            duration: ev.duration,
            volume: ev.volume,
            last_seen: now,
        };
        self.push(DtmfEvent::Start {
            event: ev.event,
            timestamp,
        });
        if ev.end {
            self.finish(a);
        } else {
            self.current = Some(a);
        }
        Ok(())
    }

    /// Ends an event whose updates stopped for longer than the timeout.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(a) = self.current
            && now >= a.last_seen + self.timeout
        {
            self.finish(a);
        }
    }

    /// When [`Self::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.current.map(|a| a.last_seen + self.timeout)
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<DtmfEvent> {
        self.events.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn payload_codec() {
        // RFC 4733 §2.3 layout: event 5, E=1, volume 10, duration 800.
        let p = [5, 0x8A, 0x03, 0x20];
        let e = TelephoneEvent::decode(&p).unwrap();
        assert_eq!(
            e,
            TelephoneEvent {
                event: 5,
                end: true,
                volume: 10,
                duration: 800
            }
        );
        assert_eq!(e.encode(), p);
        // The reserved bit is ignored.
        assert_eq!(TelephoneEvent::decode(&[5, 0xCA, 3, 0x20]).unwrap(), e);
        assert_eq!(TelephoneEvent::decode(&p[..3]), Err(RtpError::Truncated));
        for c in "0123456789*#ABCD!".chars() {
            assert_eq!(event_to_char(event_from_char(c).unwrap()), Some(c));
        }
        assert_eq!(event_from_char('x'), None);
    }

    fn run(sender: &mut DtmfSender, until: Instant) -> Vec<(Instant, DtmfPacket)> {
        let mut v = Vec::new();
        while let Some(t) = sender.poll_timeout() {
            if t > until {
                break;
            }
            sender.handle_timeout(t);
            while let Some(p) = sender.poll_transmit() {
                v.push((t, p));
            }
        }
        v
    }

    #[test]
    fn sender_sequence_for_one_digit() {
        let mut s = DtmfSender::new(DtmfSenderConfig::default());
        let t0 = Instant::from_millis(1000);
        s.send(t0, 5000, 1, Duration::from_millis(100)).unwrap();
        let mut pk: Vec<_> = core::iter::from_fn(|| s.poll_transmit())
            .map(|p| (t0, p))
            .collect();
        pk.extend(run(&mut s, Instant::from_millis(5000)));
        let desc: Vec<_> = pk
            .iter()
            .map(|(t, p)| {
                let e = p.event();
                (
                    t.as_millis() - 1000,
                    p.marker,
                    p.timestamp,
                    e.end,
                    e.duration,
                )
            })
            .collect();
        // 20 ms = 160 units; 100 ms = 800 units: updates at 0..80 ms, end ×3 from 80 ms.
        assert_eq!(
            desc,
            [
                (0, true, 5000, false, 160),
                (20, false, 5000, false, 320),
                (40, false, 5000, false, 480),
                (60, false, 5000, false, 640),
                (80, false, 5000, true, 800),
                (100, false, 5000, true, 800),
                (120, false, 5000, true, 800),
            ]
        );
        assert!(!s.is_active());
        assert_eq!(s.poll_timeout(), None);
    }

    #[test]
    fn long_event_segments() {
        let cfg = DtmfSenderConfig {
            interval: Duration::from_millis(50),
            ..Default::default()
        };
        let mut s = DtmfSender::new(cfg);
        // 10 s at 8 kHz = 80000 units > 0xFFFF (65535).
        s.send(Instant::ZERO, 0, 11, Duration::from_secs(10))
            .unwrap();
        let pk = run(&mut s, Instant::from_millis(60_000));
        let firsts: Vec<_> = pk.iter().filter(|(_, p)| p.marker).collect();
        assert_eq!(firsts.len(), 1);
        let seg_end: Vec<_> = pk
            .iter()
            .filter(|(_, p)| p.event().duration == 0xFFFF && !p.event().end)
            .collect();
        assert_eq!(seg_end.len(), 1);
        assert_eq!(seg_end[0].1.timestamp, 0);
        let ends: Vec<_> = pk.iter().filter(|(_, p)| p.event().end).collect();
        assert_eq!(ends.len(), 3);
        for (_, p) in &ends {
            assert_eq!(p.timestamp, 0xFFFF);
            assert_eq!(u64::from(p.event().duration), 80_000 - 0xFFFF);
        }
        // Receiver reassembles the total.
        let mut r = DtmfReceiver::new(Duration::from_secs(1));
        for (t, p) in &pk {
            r.handle_packet(*t, p.timestamp, &p.payload).unwrap();
        }
        let ev: Vec<_> = core::iter::from_fn(|| r.poll_event()).collect();
        assert_eq!(
            ev,
            [
                DtmfEvent::Start {
                    event: 11,
                    timestamp: 0
                },
                DtmfEvent::End {
                    event: 11,
                    timestamp: 0,
                    duration: 80_000,
                    volume: 10
                }
            ]
        );
    }

    #[test]
    fn receiver_timeout_when_ends_lost() {
        let mut r = DtmfReceiver::new(Duration::from_millis(500));
        let p = TelephoneEvent {
            event: 3,
            end: false,
            volume: 7,
            duration: 160,
        };
        r.handle_packet(Instant::ZERO, 100, &p.encode()).unwrap();
        assert_eq!(r.poll_timeout(), Some(Instant::from_millis(500)));
        r.handle_timeout(Instant::from_millis(499));
        assert!(matches!(
            r.poll_event(),
            Some(DtmfEvent::Start { event: 3, .. })
        ));
        assert_eq!(r.poll_event(), None);
        r.handle_timeout(Instant::from_millis(500));
        assert!(matches!(
            r.poll_event(),
            Some(DtmfEvent::End {
                event: 3,
                duration: 160,
                ..
            })
        ));
        // A late end retransmission afterwards is not reported again.
        let end = TelephoneEvent { end: true, ..p };
        r.handle_packet(Instant::from_millis(600), 100, &end.encode())
            .unwrap();
        assert_eq!(r.poll_event(), None);
        assert_eq!(r.poll_timeout(), None);
    }
}
