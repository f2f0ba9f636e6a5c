//! What the load generator measures: send logs shared between the two ends of a media
//! direction, the receive side that turns arrivals into one-way latencies, and the
//! summaries (percentiles) of the report.
//!
//! Both ends of every direction run in the load generator's process and read the same
//! monotonic clock ([`Clock`]), so a packet's latency is `arrival − send` with no clock
//! synchronisation: the sender logs the send time of its packet `k` in the direction's
//! [`Flow`], the receiver recovers `k` from what arrives ([`Matcher`]) and looks it up.

use std::sync::Mutex;

use crate::media::Codec;
use crate::media::codec::Decoder;
use crate::opus::OpusImpl;

/// The load generator's clock: nanoseconds since the run started.
#[derive(Debug, Clone, Copy)]
pub struct Clock(std::time::Instant);

impl Clock {
    /// A clock starting now.
    pub fn start() -> Clock {
        Clock(std::time::Instant::now())
    }

    /// Nanoseconds since the start.
    pub fn ns(&self) -> u64 {
        self.0.elapsed().as_nanos() as u64
    }

    /// Nanoseconds from the start to `t`.
    pub fn ns_at(&self, t: std::time::Instant) -> u64 {
        t.saturating_duration_since(self.0).as_nanos() as u64
    }

    /// The start (the core clock's zero).
    pub fn zero(&self) -> std::time::Instant {
        self.0
    }

    /// The core's `Instant` (µs since the start), for the sans-IO machines.
    pub fn core_now(&self) -> rvoip_core::time::Instant {
        rvoip_core::time::Instant::from_micros(self.0.elapsed().as_micros() as u64)
    }
}

/// One media direction of one call: when each packet `k` was sent.
#[derive(Debug, Default)]
pub struct Flow {
    sent: Mutex<Vec<u64>>,
}

impl Flow {
    /// Logs that packet number `len()` was sent at `t_ns`; returns its number.
    pub fn log_send(&self, t_ns: u64) -> usize {
        let mut s = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        s.push(t_ns);
        s.len() - 1
    }

    /// When packet `k` was sent, if it was.
    pub fn sent_at(&self, k: usize) -> Option<u64> {
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(k)
            .copied()
    }

    /// The last packet sent at or before `t_ns`.
    pub fn last_sent_before(&self, t_ns: u64) -> Option<usize> {
        let s = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        s.partition_point(|&x| x <= t_ns).checked_sub(1)
    }

    /// Bursts sent so far (transcoded streams).
    pub fn bursts(&self) -> usize {
        self.sent().div_ceil(BURST_PERIOD)
    }

    /// Packets sent so far.
    pub fn sent(&self) -> usize {
        self.sent.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// Both directions of one call: A→B (WebRTC client → sink trunk) and B→A.
#[derive(Debug, Default)]
pub struct CallFlows {
    /// Client → gateway → sink.
    pub a_to_b: Flow,
    /// Sink → gateway → client.
    pub b_to_a: Flow,
}

/// Every `BURST_PERIOD`-th packet of a transcoded stream carries a tone burst; the others
/// carry silence (25: one burst per 500 ms).
pub const BURST_PERIOD: usize = 25;

/// Recovers the sender's packet number from a received RTP packet.
///
/// Passthrough relays the payload byte for byte, so the sender writes `k` into the first
/// four payload bytes (PCMU: an inaudible click) and the receiver reads it back: exact for
/// every packet, immune to loss and reordering.
///
/// Transcoding re-encodes the payload and renumbers the packets (the gateway plays its
/// output from a jitter buffer, one frame per 20 ms tick, concealed frames included), so
/// neither the payload nor the RTP header identifies the input packet. There the sender
/// sends silence except for a one-frame tone burst in every packet `k ≡ 0 (mod
/// BURST_PERIOD)`, and the receiver decodes what arrives and detects the onset: a loud
/// frame after a quiet one is the burst sent last before it arrived (unambiguous while the
/// latency stays under `BURST_PERIOD` × 20 ms = 500 ms). Only bursts are timed, and loss is
/// counted on bursts (a lost burst is concealed as silence, so it is missed). The codec's
/// own delay shows: an Opus frame's onset appears 6.5 ms into the decoded frame (encoder
/// look-ahead) but in the same frame, so it does not shift the match.
pub struct Matcher(Inner);

enum Inner {
    /// The number is in the payload.
    Embedded,
    /// Onset detection on the decoded payload.
    Onset {
        /// Decodes the received codec (at 8 kHz).
        dec: Box<Decoder>,
        /// Quiet frames in a row before this one.
        quiet: u32,
        /// PCM scratch.
        pcm: Vec<i16>,
    },
}

impl Matcher {
    /// Reads `k` from the payload (passthrough).
    pub fn embedded() -> Matcher {
        Matcher(Inner::Embedded)
    }

    /// Detects bursts in `codec` audio (transcoding).
    pub fn onset(codec: Codec) -> Matcher {
        // Invariant: libopus decodes at 8 kHz.
        let dec = Decoder::new(codec, 8000, OpusImpl::Libopus).expect("decoder");
        Matcher(Inner::Onset {
            dec: Box::new(dec),
            quiet: ONSET_QUIET,
            pcm: vec![0; 160],
        })
    }

    /// The packet number of `payload`, arrived at `at` on a stream logged in `flow`
    /// (`None`: not a timed packet).
    pub fn index(&mut self, payload: &[u8], at: u64, flow: &Flow) -> Option<usize> {
        match &mut self.0 {
            Inner::Embedded => {
                let b: [u8; 4] = payload.get(..4)?.try_into().ok()?;
                Some(u32::from_be_bytes(b) as usize)
            }
            Inner::Onset { dec, quiet, pcm } => {
                dec.decode(Some(payload), pcm);
                let peak = pcm.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
                if peak < ONSET_PEAK {
                    *quiet = quiet.saturating_add(1);
                    return None;
                }
                let onset = *quiet >= ONSET_QUIET;
                *quiet = 0;
                if !onset {
                    return None;
                }
                let last = flow.last_sent_before(at)?;
                Some(last - last % BURST_PERIOD)
            }
        }
    }
}

/// Peak sample level of a loud frame (the bursts are sent at 8,000; silence decodes to
/// near 0).
const ONSET_PEAK: u16 = 2000;

/// Quiet frames that must precede an onset (so that a burst's tail or its concealment
/// does not count twice).
const ONSET_QUIET: u32 = 3;

/// The audio of packet `k` of a transcoded stream: a burst or silence.
pub fn is_burst(k: usize) -> bool {
    k.is_multiple_of(BURST_PERIOD)
}

/// Writes the packet number `k` for [`Matcher::embedded`] into `payload`.
pub fn embed_index(payload: &mut [u8], k: usize) {
    if let Some(p) = payload.get_mut(..4) {
        p.copy_from_slice(&(k as u32).to_be_bytes());
    }
}

/// The receiving end of one direction of one call.
#[derive(Debug, Default, Clone)]
pub struct RecvLog {
    /// RTP packets of the stream's codec received (timed or not).
    pub packets: u64,
    /// One-way latency of each matched packet, in ns.
    pub latencies_ns: Vec<u32>,
    seen: Vec<bool>,
    /// Distinct packet numbers received.
    pub unique: u64,
    /// Packets received again.
    pub duplicates: u64,
    /// Packets whose number the sender never sent (e.g. concealment frames the transcoder
    /// plays after the sender stopped).
    pub unmatched: u64,
    /// Packets that "arrived" before they were sent (a matching error).
    pub negative: u64,
}

impl RecvLog {
    /// Records packet `k` arriving at `arrival_ns`, sent as logged in `flow`.
    pub fn on_packet(&mut self, k: usize, arrival_ns: u64, flow: &Flow) {
        let Some(sent) = flow.sent_at(k) else {
            self.unmatched += 1;
            return;
        };
        if self.seen.len() <= k {
            self.seen.resize(k + 1, false);
        }
        if self.seen[k] {
            self.duplicates += 1;
            return;
        }
        self.seen[k] = true;
        self.unique += 1;
        match arrival_ns.checked_sub(sent) {
            Some(d) => self.latencies_ns.push(d.min(u64::from(u32::MAX)) as u32),
            None => self.negative += 1,
        }
    }
}

/// Percentiles of a sample set, in the sample's unit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Summary {
    /// Samples.
    pub n: usize,
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

impl Summary {
    /// Summarises `v` (sorted in place), scaled by `scale` (e.g. 1e-3 for ns → µs).
    pub fn of(v: &mut [u32], scale: f64) -> Summary {
        if v.is_empty() {
            return Summary::default();
        }
        v.sort_unstable();
        let at = |q: f64| {
            let i = ((v.len() as f64 - 1.0) * q).round() as usize;
            f64::from(v[i.min(v.len() - 1)]) * scale
        };
        Summary {
            n: v.len(),
            p50: at(0.50),
            p99: at(0.99),
            max: f64::from(v[v.len() - 1]) * scale,
        }
    }
}

/// Totals of one direction over all calls.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DirectionReport {
    /// Timed packets sent (every packet in passthrough, bursts in transcoding).
    pub sent: u64,
    /// Distinct timed packets received.
    pub received: u64,
    /// RTP packets sent, all of them.
    pub packets_sent: u64,
    /// RTP packets of the codec received, all of them.
    pub packets_received: u64,
    /// Latency of received packets (µs).
    pub latency_us: Summary,
    /// Duplicates, unmatched and negative matches (should all be 0, except unmatched
    /// concealment frames when transcoding).
    pub anomalies: (u64, u64, u64),
}

impl DirectionReport {
    /// Merges the logs of every call of a direction with what was sent.
    pub fn from_logs(logs: &[RecvLog], sent: u64) -> DirectionReport {
        let mut all: Vec<u32> = logs
            .iter()
            .flat_map(|l| l.latencies_ns.iter().copied())
            .collect();
        DirectionReport {
            sent,
            received: logs.iter().map(|l| l.unique).sum(),
            packets_sent: 0,
            packets_received: logs.iter().map(|l| l.packets).sum(),
            latency_us: Summary::of(&mut all, 1e-3),
            anomalies: (
                logs.iter().map(|l| l.duplicates).sum(),
                logs.iter().map(|l| l.unmatched).sum(),
                logs.iter().map(|l| l.negative).sum(),
            ),
        }
    }

    /// Lost packets as a fraction of those sent.
    pub fn loss(&self) -> f64 {
        if self.sent == 0 {
            return 0.0;
        }
        self.sent.saturating_sub(self.received) as f64 / self.sent as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_index_round_trips() {
        let f = Flow::default();
        let mut p = [0xffu8; 160];
        embed_index(&mut p, 70_001);
        assert_eq!(Matcher::embedded().index(&p, 0, &f), Some(70_001));
        assert_eq!(Matcher::embedded().index(&p[..3], 0, &f), None);
    }

    #[test]
    fn onsets_match_the_last_burst_sent() {
        use crate::media::codec::Encoder;
        let f = Flow::default();
        let mut enc = Encoder::new(Codec::Pcmu, 8000, OpusImpl::Libopus, 5).expect("pcmu");
        let mut tone = rvoip_core::codec::ToneGenerator::new(8000, 1000.0, 8000.0);
        let mut m = Matcher::onset(Codec::Pcmu);
        let mut found = Vec::new();
        for k in 0..60usize {
            f.log_send(1_000 * k as u64);
            let mut pcm = [0i16; 160];
            if is_burst(k) {
                tone.fill(&mut pcm);
            }
            let mut out = [0u8; 160];
            let n = enc.encode(&pcm, &mut out);
            // Arrives 3.5 packets later: after packets k+1..k+3 were sent.
            if let Some(i) = m.index(&out[..n], 1_000 * k as u64 + 3_500, &f) {
                found.push((k, i));
            }
        }
        assert_eq!(found, vec![(0, 0), (25, 25), (50, 50)]);
        assert_eq!(f.last_sent_before(999), Some(0));
        assert_eq!(f.bursts(), 3);
    }

    #[test]
    fn recv_log_counts_latency_loss_and_anomalies() {
        let f = Flow::default();
        for t in [1_000, 2_000, 3_000] {
            f.log_send(t);
        }
        let mut r = RecvLog::default();
        r.on_packet(0, 1_500, &f);
        r.on_packet(2, 3_100, &f);
        r.on_packet(2, 3_200, &f);
        r.on_packet(7, 9_000, &f);
        r.on_packet(1, 1_900, &f);
        assert_eq!(
            (r.unique, r.duplicates, r.unmatched, r.negative),
            (3, 1, 1, 1),
            "a negative match still arrived"
        );
        let d = DirectionReport::from_logs(&[r], 4);
        assert_eq!(d.received, 3);
        assert!((d.loss() - 0.25).abs() < 1e-9, "one of four sent is lost");
        assert_eq!(d.latency_us.max, 0.5);
        assert_eq!(d.latency_us.n, 2);
    }

    #[test]
    fn summary_percentiles() {
        let mut v: Vec<u32> = (1..=1000).rev().collect();
        let s = Summary::of(&mut v, 1.0);
        assert_eq!((s.n, s.p50, s.p99, s.max), (1000, 501.0, 990.0, 1000.0));
        assert_eq!(Summary::of(&mut [], 1.0), Summary::default());
    }
}
