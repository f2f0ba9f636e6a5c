//! RTP statistics per RFC 3550: receiver side (§6.4.1, A.1 sequence validation with
//! probation, A.3 loss, A.8 interarrival jitter), sender side (§6.4.1 sender info) and the
//! round-trip time from a report block's LSR/DLSR (§6.4.1).
//!
//! Inputs: per received RTP packet the driver time of arrival ([`Instant`]), sequence
//! number, RTP timestamp and payload size; per received SR its NTP timestamp; for RTT the
//! driver's wall clock as a 64-bit NTP timestamp (the core has no clock). Outputs:
//! [`ReportBlock`]s for RR/SR, [`SenderInfo`], RTT as a [`Duration`].

use super::rtcp::{ReportBlock, SenderInfo};
use crate::time::{Duration, Instant};

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
pub const NTP_UNIX_OFFSET_SECS: u64 = 2_208_988_800;

/// A 64-bit NTP timestamp from microseconds since the Unix epoch (driver wall clock).
pub fn ntp_from_unix_micros(micros: u64) -> u64 {
    let secs = micros / 1_000_000 + NTP_UNIX_OFFSET_SECS;
    let frac = ((micros % 1_000_000) << 32) / 1_000_000;
    (secs << 32) | frac
}

/// The middle 32 bits of a 64-bit NTP timestamp: the compact format used by LSR (16.16
/// fixed-point seconds).
pub const fn ntp_middle(ntp: u64) -> u32 {
    (ntp >> 16) as u32
}

/// A compact 16.16 NTP duration as a [`Duration`].
pub fn compact_to_duration(v: u32) -> Duration {
    Duration::from_micros((u64::from(v) * 1_000_000) >> 16)
}

/// A [`Duration`] in compact 16.16 NTP units (saturating at `u32::MAX`, ~18 hours).
pub fn duration_to_compact(d: Duration) -> u32 {
    let v = d.as_micros().saturating_mul(65_536) / 1_000_000;
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// Round-trip time from a report block we received about our own stream (RFC 3550
/// §6.4.1: RTT = A − LSR − DLSR), with `ntp_now` the wall-clock NTP time at which the
/// report arrived. `None` when the block carries no LSR (we sent no SR yet) or the result
/// would be negative (clock steps, bogus values).
pub fn rtt_from_report_block(ntp_now: u64, block: &ReportBlock) -> Option<Duration> {
    if block.last_sr == 0 {
        return None;
    }
    let rtt = ntp_middle(ntp_now)
        .wrapping_sub(block.last_sr)
        .wrapping_sub(block.delay_since_last_sr);
    // A "negative" value wraps to above 2^31 (more than 9 hours): reject it.
    (rtt < 0x8000_0000).then(|| compact_to_duration(rtt))
}

const RTP_SEQ_MOD: u32 = 1 << 16;
const MAX_DROPOUT: u16 = 3000;
const MAX_MISORDER: u16 = 100;
const MIN_SEQUENTIAL: u8 = 2;

/// What [`ReceiverStats::handle_packet`] made of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqCheck {
    /// The packet is valid and was counted.
    Valid,
    /// The source is still on probation (RFC 3550 A.1): not yet counted.
    Probation,
    /// A large jump in sequence numbers: ignored unless the next packet confirms it, in
    /// which case the statistics restart (source restarted).
    BadJump,
}

/// Receiver statistics for one source (RFC 3550 A.1, A.3, A.8).
#[derive(Debug, Clone)]
pub struct ReceiverStats {
    ssrc: u32,
    clock_rate: u32,
    max_seq: u16,
    cycles: u32,
    base_seq: u32,
    bad_seq: u32,
    probation: u8,
    received: u64,
    bytes: u64,
    expected_prior: u64,
    received_prior: u64,
    /// Jitter × 16 (A.8 integer form).
    jitter_q4: u32,
    transit: Option<u32>,
    last_fraction: u8,
    /// Middle 32 bits of the last SR's NTP time and its arrival.
    last_sr: Option<(u32, Instant)>,
}

impl ReceiverStats {
    /// Statistics for source `ssrc` whose RTP clock runs at `clock_rate` Hz, starting with
    /// its first packet's sequence number `seq` (RFC 3550 A.1: the source is on probation
    /// until `MIN_SEQUENTIAL` = 2 packets arrive in sequence).
    pub fn new(ssrc: u32, clock_rate: u32, seq: u16) -> Self {
        let mut s = ReceiverStats {
            ssrc,
            clock_rate: clock_rate.max(1),
            max_seq: 0,
            cycles: 0,
            base_seq: 0,
            bad_seq: 0,
            probation: MIN_SEQUENTIAL,
            received: 0,
            bytes: 0,
            expected_prior: 0,
            received_prior: 0,
            jitter_q4: 0,
            transit: None,
            last_fraction: 0,
            last_sr: None,
        };
        s.init_seq(seq);
        s.max_seq = seq.wrapping_sub(1);
        s
    }

    /// Like [`Self::new`] but without probation: use when the source is already known
    /// (signalled SSRC, e.g. the trunk's stream after SDP).
    pub fn new_validated(ssrc: u32, clock_rate: u32, seq: u16) -> Self {
        let mut s = Self::new(ssrc, clock_rate, seq);
        s.probation = 0;
        // The caller feeds this first packet next; it lands as `max_seq` itself, with no
        // spurious cycle for seq 0.
        s.max_seq = seq;
        s
    }

    fn init_seq(&mut self, seq: u16) {
        self.base_seq = u32::from(seq);
        self.max_seq = seq;
        self.bad_seq = RTP_SEQ_MOD + 1;
        self.cycles = 0;
        self.received = 0;
        self.bytes = 0;
        self.received_prior = 0;
        self.expected_prior = 0;
    }

    /// RFC 3550 A.1 `update_seq`.
    fn update_seq(&mut self, seq: u16) -> SeqCheck {
        let udelta = seq.wrapping_sub(self.max_seq);
        if self.probation > 0 {
            if seq == self.max_seq.wrapping_add(1) {
                self.probation -= 1;
                self.max_seq = seq;
                if self.probation == 0 {
                    self.init_seq(seq);
                    return SeqCheck::Valid;
                }
            } else {
                self.probation = MIN_SEQUENTIAL - 1;
                self.max_seq = seq;
            }
            return SeqCheck::Probation;
        } else if udelta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles = self.cycles.wrapping_add(RTP_SEQ_MOD);
            }
            self.max_seq = seq;
        } else if u32::from(udelta) <= RTP_SEQ_MOD - u32::from(MAX_MISORDER) {
            if u32::from(seq) == self.bad_seq {
                // Two sequential packets after a jump: the source restarted.
                self.init_seq(seq);
            } else {
                self.bad_seq = (u32::from(seq) + 1) & (RTP_SEQ_MOD - 1);
                return SeqCheck::BadJump;
            }
        }
        // else: duplicate or reordered packet.
        SeqCheck::Valid
    }

    /// Feeds one received RTP packet: arrival time, sequence number, RTP timestamp and
    /// payload length. Updates the sequence state, counts and jitter (A.8).
    pub fn handle_packet(
        &mut self,
        now: Instant,
        seq: u16,
        rtp_ts: u32,
        payload_len: usize,
    ) -> SeqCheck {
        let r = self.update_seq(seq);
        if r != SeqCheck::Valid {
            return r;
        }
        self.received += 1;
        self.bytes = self.bytes.saturating_add(payload_len as u64);
        // Arrival time in timestamp units (wrapping like the RTP clock).
        let arrival =
            (u128::from(now.as_micros()) * u128::from(self.clock_rate) / 1_000_000) as u32;
        let transit = arrival.wrapping_sub(rtp_ts);
        if let Some(prev) = self.transit {
            let d = (transit.wrapping_sub(prev) as i32).unsigned_abs();
            // J += (|D| − J)/16 with J kept ×16 (A.8); |D| is capped to keep this bounded.
            let d = d.min(1 << 26);
            self.jitter_q4 = self
                .jitter_q4
                .wrapping_add(d)
                .wrapping_sub((self.jitter_q4 + 8) >> 4);
        }
        self.transit = Some(transit);
        SeqCheck::Valid
    }

    /// Records an SR received from this source (for LSR/DLSR in our next report block).
    pub fn handle_sender_report(&mut self, now: Instant, ntp_timestamp: u64) {
        self.last_sr = Some((ntp_middle(ntp_timestamp), now));
    }

    /// The source's SSRC.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// False while the source is on probation.
    pub fn is_valid(&self) -> bool {
        self.probation == 0
    }

    /// Extended highest sequence number received (cycles + max_seq).
    pub fn extended_highest_seq(&self) -> u32 {
        self.cycles.wrapping_add(u32::from(self.max_seq))
    }

    /// Packets expected: extended highest − base + 1 (A.3).
    pub fn expected(&self) -> u64 {
        let ext = u64::from(self.cycles) + u64::from(self.max_seq);
        (ext + 1).saturating_sub(u64::from(self.base_seq))
    }

    /// Packets received (including duplicates, as RFC 3550 counts them).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Payload octets received.
    pub fn bytes_received(&self) -> u64 {
        self.bytes
    }

    /// Cumulative packets lost: expected − received (negative with duplicates).
    pub fn cumulative_lost(&self) -> i64 {
        self.expected() as i64 - self.received as i64
    }

    /// Interarrival jitter in timestamp units (A.8).
    pub fn jitter(&self) -> u32 {
        self.jitter_q4 >> 4
    }

    /// Interarrival jitter as a duration (timestamp units / clock rate).
    pub fn jitter_duration(&self) -> Duration {
        Duration::from_micros(
            u64::from(self.jitter_q4) * 1_000_000 / 16 / u64::from(self.clock_rate),
        )
    }

    /// Fraction lost (in 1/256) computed by the last [`Self::report_block`].
    pub fn last_fraction_lost(&self) -> u8 {
        self.last_fraction
    }

    /// Builds the report block about this source at time `now` (A.3): the fraction lost
    /// covers the interval since the previous call, which this call closes.
    pub fn report_block(&mut self, now: Instant) -> ReportBlock {
        let expected = self.expected();
        let expected_interval = expected.saturating_sub(self.expected_prior);
        self.expected_prior = expected;
        let received_interval = self.received.saturating_sub(self.received_prior);
        self.received_prior = self.received;
        let lost_interval = expected_interval as i64 - received_interval as i64;
        let fraction = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            // lost_interval ≤ expected_interval, so the quotient is ≤ 256; 256 only when
            // nothing arrived, which saturates to 255.
            ((lost_interval as u64 * 256) / expected_interval).min(255) as u8
        };
        self.last_fraction = fraction;
        let (last_sr, dlsr) = match self.last_sr {
            Some((lsr, at)) => (lsr, duration_to_compact(now - at)),
            None => (0, 0),
        };
        ReportBlock {
            ssrc: self.ssrc,
            fraction_lost: fraction,
            cumulative_lost: self.cumulative_lost().clamp(-0x80_0000, 0x7F_FFFF) as i32,
            extended_highest_seq: self.extended_highest_seq(),
            jitter: self.jitter(),
            last_sr,
            delay_since_last_sr: dlsr,
        }
    }
}

/// Sender statistics for one outgoing source (RFC 3550 §6.4.1 sender info).
#[derive(Debug, Clone, Default)]
pub struct SenderStats {
    packets: u32,
    octets: u32,
    last: Option<(u32, Instant)>,
}

impl SenderStats {
    /// Fresh counters.
    pub const fn new() -> Self {
        SenderStats {
            packets: 0,
            octets: 0,
            last: None,
        }
    }

    /// Counts a sent packet: send time, its RTP timestamp and payload length.
    pub fn handle_sent(&mut self, now: Instant, rtp_ts: u32, payload_len: usize) {
        self.packets = self.packets.wrapping_add(1);
        self.octets = self.octets.wrapping_add(payload_len as u32);
        self.last = Some((rtp_ts, now));
    }

    /// Packets sent (wrapping, as on the wire).
    pub fn packet_count(&self) -> u32 {
        self.packets
    }

    /// Payload octets sent (wrapping, as on the wire).
    pub fn octet_count(&self) -> u32 {
        self.octets
    }

    /// True once a packet was sent (an SR is due instead of an RR).
    pub fn has_sent(&self) -> bool {
        self.last.is_some()
    }

    /// The sender info for an SR sent at `now`, whose wall clock is `ntp_now`: the RTP
    /// timestamp is extrapolated from the last packet sent at `clock_rate`.
    pub fn sender_info(&self, now: Instant, ntp_now: u64, clock_rate: u32) -> SenderInfo {
        let rtp_timestamp = match self.last {
            Some((ts, at)) => {
                let elapsed = (now - at).as_micros() * u128::from(clock_rate) / 1_000_000;
                ts.wrapping_add(elapsed as u32)
            }
            None => 0,
        };
        SenderInfo {
            ntp_timestamp: ntp_now,
            rtp_timestamp,
            packet_count: self.packets,
            octet_count: self.octets,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    #[test]
    fn probation_then_counts() {
        let mut s = ReceiverStats::new(1, 8000, 100);
        assert_eq!(s.handle_packet(t(0), 100, 0, 160), SeqCheck::Probation);
        assert!(!s.is_valid());
        assert_eq!(s.handle_packet(t(20), 101, 160, 160), SeqCheck::Valid);
        assert!(s.is_valid());
        // init_seq at 101: base 101, one packet received.
        assert_eq!((s.expected(), s.received()), (1, 1));
        // Out-of-order during probation resets it.
        let mut p = ReceiverStats::new(1, 8000, 100);
        p.handle_packet(t(0), 100, 0, 0);
        assert_eq!(p.handle_packet(t(0), 105, 0, 0), SeqCheck::Probation);
        assert_eq!(p.handle_packet(t(0), 106, 0, 0), SeqCheck::Valid);
    }

    #[test]
    fn loss_and_fraction_hand_computed() {
        let mut s = ReceiverStats::new_validated(1, 8000, 0);
        // Receive 0..100 except 10 packets (every 10th, starting at 5).
        for seq in 0u16..100 {
            if seq % 10 != 5 {
                s.handle_packet(t(u64::from(seq) * 20), seq, u32::from(seq) * 160, 160);
            }
        }
        let rb = s.report_block(t(2000));
        assert_eq!(rb.extended_highest_seq, 99);
        assert_eq!(rb.cumulative_lost, 10);
        // 10/100 × 256 = 25.6 → 25.
        assert_eq!(rb.fraction_lost, 25);
        // Next interval: even seqs 100..=148 arrive (25); highest 148 → 49 expected,
        // 24 lost → 24 × 256 / 49 = 125.4 → 125; cumulative 10 + 24.
        for seq in 100u16..150 {
            if seq % 2 == 0 {
                s.handle_packet(t(u64::from(seq) * 20), seq, u32::from(seq) * 160, 160);
            }
        }
        let rb = s.report_block(t(3000));
        assert_eq!((rb.cumulative_lost, rb.fraction_lost), (34, 125));
        // Duplicates only: fraction 0, cumulative lost can go down.
        s.handle_packet(t(3000), 148, 148 * 160, 160);
        let rb = s.report_block(t(3001));
        assert_eq!((rb.cumulative_lost, rb.fraction_lost), (33, 0));
    }

    #[test]
    fn sequence_wrap_counts_cycles() {
        let mut s = ReceiverStats::new_validated(1, 8000, 65530);
        for i in 0u32..20 {
            let seq = (65530 + i) as u16;
            assert_eq!(
                s.handle_packet(t(u64::from(i) * 20), seq, i * 160, 160),
                SeqCheck::Valid
            );
        }
        assert_eq!(s.extended_highest_seq(), 65536 + 13);
        assert_eq!((s.expected(), s.cumulative_lost()), (20, 0));
        // A reordered packet from before the wrap does not add a cycle.
        s.handle_packet(t(400), 65535, 5 * 160, 160);
        assert_eq!(s.extended_highest_seq(), 65536 + 13);
        assert_eq!(s.cumulative_lost(), -1);
    }

    #[test]
    fn bad_jump_then_restart() {
        let mut s = ReceiverStats::new_validated(1, 8000, 10);
        s.handle_packet(t(0), 10, 0, 0);
        assert_eq!(s.handle_packet(t(20), 40_000, 0, 0), SeqCheck::BadJump);
        assert_eq!(s.extended_highest_seq(), 10);
        assert_eq!(s.handle_packet(t(40), 40_001, 0, 0), SeqCheck::Valid);
        assert_eq!((s.extended_highest_seq(), s.received()), (40_001, 1));
    }

    #[test]
    fn jitter_matches_a8_by_hand() {
        // 8 kHz, packets every 20 ms (160 ts units); arrivals offset by a pattern of
        // delays. Expected value computed with the floating-point form of A.8.
        let delays_ms = [0u64, 10, 0, 30, 5, 5, 40, 0, 0, 20];
        let mut s = ReceiverStats::new_validated(1, 8000, 0);
        let mut j = 0f64;
        let mut prev: Option<f64> = None;
        for (i, d) in delays_ms.iter().enumerate() {
            let arrival_ms = i as u64 * 20 + d;
            s.handle_packet(t(arrival_ms), i as u16, i as u32 * 160, 160);
            let transit = arrival_ms as f64 * 8.0 - i as f64 * 160.0;
            if let Some(p) = prev {
                j += ((transit - p).abs() - j) / 16.0;
            }
            prev = Some(transit);
        }
        // The integer form rounds; allow one unit.
        assert!(
            (f64::from(s.jitter()) - j).abs() <= 1.0,
            "{} vs {j}",
            s.jitter()
        );
        assert!(j > 50.0, "the pattern must produce real jitter: {j}");
        let ms = s.jitter_duration().as_micros() as f64 / 1000.0;
        assert!((ms - j / 8.0).abs() < 0.2);
    }

    #[test]
    fn dlsr_and_rtt() {
        // Example of RFC 3550 §6.4.1 figure 2: LSR 0xb705:2000, DLSR 0x0005:4000 (5.25 s),
        // A = 0xb710:8000 → RTT 0x0006:2000 = 6.125 s.
        let block = ReportBlock {
            last_sr: 0xb705_2000,
            delay_since_last_sr: 0x0005_4000,
            ..Default::default()
        };
        let ntp_now = u64::from(0xb710_8000u32) << 16;
        assert_eq!(
            rtt_from_report_block(ntp_now, &block),
            Some(Duration::from_micros(6_125_000))
        );
        assert_eq!(
            rtt_from_report_block(ntp_now, &ReportBlock::default()),
            None
        );
        let late = ReportBlock {
            last_sr: 0xb710_9000,
            ..Default::default()
        };
        assert_eq!(rtt_from_report_block(ntp_now, &late), None);

        let mut s = ReceiverStats::new_validated(1, 8000, 0);
        s.handle_packet(t(0), 0, 0, 160);
        s.handle_sender_report(t(1000), 0x1234_5678_9ABC_DEF0);
        let rb = s.report_block(t(1000 + 5250));
        assert_eq!(rb.last_sr, 0x5678_9ABC);
        assert_eq!(rb.delay_since_last_sr, 0x0005_4000);
    }

    #[test]
    fn ntp_conversions() {
        let n = ntp_from_unix_micros(1_500_000);
        assert_eq!(n >> 32, NTP_UNIX_OFFSET_SECS + 1);
        assert_eq!(n as u32, 1 << 31);
        assert_eq!(
            duration_to_compact(Duration::from_millis(1500)),
            0x0001_8000
        );
        assert_eq!(
            compact_to_duration(0x0001_8000),
            Duration::from_millis(1500)
        );
    }

    #[test]
    fn sender_info_extrapolates() {
        let mut s = SenderStats::new();
        assert!(!s.has_sent());
        s.handle_sent(t(0), 1000, 160);
        s.handle_sent(t(20), 1160, 160);
        let i = s.sender_info(t(120), 42, 8000);
        assert_eq!((i.packet_count, i.octet_count), (2, 320));
        assert_eq!(i.rtp_timestamp, 1160 + 800);
        assert_eq!(i.ntp_timestamp, 42);
    }
}
