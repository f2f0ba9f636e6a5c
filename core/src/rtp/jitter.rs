//! An adaptive jitter buffer for the transcoding path (sans-IO, time injected).
//!
//! Inputs: received RTP packets through [`JitterBuffer::insert`] (arrival time, SSRC,
//! sequence number, timestamp, marker, payload — copied into storage allocated once at
//! construction, so memory is fixed and nothing allocates per packet: either one
//! `max_payload` slot per ring entry, or, with [`JitterConfig::arena`], one contiguous byte
//! ring sized for the codec's real packets) and playout
//! requests through [`JitterBuffer::pop`], which the driver calls once per frame time
//! (ptime). Output per call: [`Pop::Frame`] (decode it), [`Pop::Missing`] (a frame is due
//! but absent: run the decoder's packet-loss concealment) or [`Pop::NotReady`] (nothing due:
//! before the first frame, or in a silence/DTX gap — play comfort noise or nothing).
//!
//! Model. Each packet's *transit* is `arrival − timestamp/clock_rate` (an arbitrary offset
//! plus the network delay). The buffer keeps the transits of the last 128 packets; its
//! *target delay* is the spread between their minimum and their 97th percentile, clamped to
//! `[min_delay, max_delay]`. A frame with timestamp `ts` is due at `ts/clock_rate + offset`;
//! `offset − min transit` is the *current delay* applied to the fastest packets.
//! - At a talkspurt start (first packet, marker bit after silence, the first packet after
//!   a DTX gap) the offset jumps to `min transit + target`.
//! - Inside a talkspurt it moves one frame at a time: when the target exceeds the current
//!   delay by half a frame, one [`Pop::Missing`] is inserted (the decoder stretches with
//!   PLC); when the current delay exceeds the target by a frame, one frame is dropped (at
//!   most one in four frames).
//! - Packets already due (timestamp before the playout point), duplicates and packets
//!   larger than a slot are dropped and counted; a packet too far ahead for the ring, an
//!   SSRC change, or a jump of the transit by more than 2 s (timestamp jump) resets the
//!   buffer.
//! - When the buffer runs empty, up to `max_conceal` of concealment is returned as
//!   `Missing`; after that it waits (`NotReady`) and re-anchors on the next packet (DTX).

use alloc::vec;
use alloc::vec::Vec;

use super::packet::{SeqUnwrapper, TimestampUnwrapper};
use crate::time::{Duration, Instant};

/// Jitter buffer configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterConfig {
    /// RTP clock rate of the stream.
    pub clock_rate: u32,
    /// Frame duration (ptime): the playout step and the concealment unit. It must equal
    /// the media duration of one packet (the negotiated `a=ptime`, 20 ms for WebRTC Opus);
    /// timestamps advancing by more than this between consecutive sequence numbers are
    /// read as a silence gap.
    pub frame: Duration,
    /// Number of slots (packets) in the ring.
    pub capacity: usize,
    /// Largest payload a slot holds; larger packets are dropped and counted.
    pub max_payload: usize,
    /// Bytes of payload storage shared by all slots, as one contiguous ring (packets are
    /// stored back to back, so the memory follows the codec's real packet size rather
    /// than `capacity × max_payload`); a buffered packet whose bytes get overwritten
    /// before it plays is dropped and counted as lost. `0`: one `max_payload` region per
    /// slot (`capacity × max_payload` bytes, never overwritten).
    pub arena: usize,
    /// Lower bound of the target delay.
    pub min_delay: Duration,
    /// Upper bound of the target delay.
    pub max_delay: Duration,
    /// How long to conceal after the last packet before treating the gap as silence (DTX).
    pub max_conceal: Duration,
}

impl JitterConfig {
    /// Defaults for a stream: 20 ms frames, 32 slots of 640 bytes (≈ 20 KiB), delay
    /// 20–200 ms, 60 ms of concealment.
    pub const fn new(clock_rate: u32) -> Self {
        JitterConfig {
            clock_rate,
            frame: Duration::from_millis(20),
            capacity: 32,
            max_payload: 640,
            arena: 0,
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            max_conceal: Duration::from_millis(60),
        }
    }
}

/// Counters and current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JitterStats {
    /// Packets accepted into the buffer.
    pub inserted: u64,
    /// Frames played.
    pub played: u64,
    /// Packets that arrived after their playout time (or duplicates of played ones).
    pub late: u64,
    /// Duplicates of buffered packets.
    pub duplicate: u64,
    /// Frames never received by their playout time.
    pub lost: u64,
    /// `Missing` results returned (losses, empty buffer, delay growth).
    pub concealed: u64,
    /// Frames dropped to reduce the delay.
    pub dropped: u64,
    /// Packets larger than a slot.
    pub oversize: u64,
    /// Resets (SSRC change, timestamp or sequence jump, ring overflow).
    pub resets: u64,
    /// Current delay applied to the fastest packets.
    pub current_delay: Duration,
    /// Target delay from the observed jitter.
    pub target_delay: Duration,
}

/// What [`JitterBuffer::insert`] did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insert {
    /// Buffered.
    Buffered,
    /// Buffered after a reset of the buffer (new SSRC, jump, overflow).
    Reset,
    /// Dropped: its playout time has passed.
    Late,
    /// Dropped: already buffered.
    Duplicate,
    /// Dropped: larger than a slot.
    Oversize,
}

/// A frame handed out by [`JitterBuffer::pop`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The payload to decode.
    pub payload: &'a [u8],
    /// RTP sequence number.
    pub seq: u16,
    /// RTP timestamp.
    pub timestamp: u32,
    /// Marker bit.
    pub marker: bool,
}

/// The result of [`JitterBuffer::pop`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pop<'a> {
    /// A frame to decode.
    Frame(Frame<'a>),
    /// A frame is due but missing: run packet-loss concealment for one frame.
    Missing,
    /// Nothing to play now.
    NotReady,
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    filled: bool,
    marker: bool,
    len: u16,
    /// Offset of the payload in `data`.
    off: u32,
    /// Arena mode: logical position (bytes ever written) where the payload starts.
    at: u64,
    seq: i64,
    ts: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing received since start/reset.
    Idle,
    Playing,
    /// Silence after concealment ran out: the next packet re-anchors.
    Waiting,
}

const WINDOW: usize = 128;
/// Resolution of the transits kept in the window: 0.1 ms (delays are set in 20 ms
/// frames; 16 bits then span ±3.2 s around the window's base).
const WINDOW_UNIT_US: i64 = 100;
const RESYNC_US: i64 = 2_000_000;
const MAX_SEQ_JUMP: i64 = 1000;

/// The adaptive jitter buffer (see the module docs).
#[derive(Debug, Clone)]
pub struct JitterBuffer {
    cfg: JitterConfig,
    data: Vec<u8>,
    /// Arena mode: logical write position (`head % data.len()` is the physical one).
    head: u64,
    slots: Vec<Slot>,
    ssrc: Option<u32>,
    seqs: SeqUnwrapper,
    tss: TimestampUnwrapper,
    base_ts: i64,
    state: State,
    next_seq: i64,
    play_ts: i64,
    offset_us: i64,
    frame_ts: i64,
    frame_us: i64,
    count: usize,
    /// Transits of the last packets, relative to `wbase`, in [`WINDOW_UNIT_US`].
    window: [i16; WINDOW],
    wbase: i64,
    wlen: usize,
    wpos: usize,
    min_transit: i64,
    target_us: i64,
    conceal_run: i64,
    since_shrink: u32,
    stats: JitterStats,
}

impl JitterBuffer {
    /// A buffer with `cfg` (capacity at least 2 slots; allocates `capacity × max_payload`
    /// bytes once).
    pub fn new(cfg: JitterConfig) -> Self {
        let mut cfg = cfg;
        cfg.capacity = cfg.capacity.max(2);
        cfg.clock_rate = cfg.clock_rate.max(1);
        cfg.max_payload = cfg.max_payload.min(usize::from(u16::MAX));
        if cfg.arena > 0 {
            // Every packet fits, and offsets fit the slot's `u32`.
            cfg.arena = cfg.arena.max(cfg.max_payload).min(u32::MAX as usize);
        }
        let bytes = if cfg.arena > 0 {
            cfg.arena
        } else {
            cfg.capacity * cfg.max_payload
        };
        cfg.frame = cfg.frame.max(Duration::from_millis(1));
        cfg.max_delay = cfg.max_delay.max(cfg.min_delay);
        let frame_ts = (cfg.frame.as_micros() * u128::from(cfg.clock_rate) / 1_000_000) as i64;
        let mut jb = JitterBuffer {
            cfg,
            data: vec![0; bytes],
            head: 0,
            slots: vec![Slot::default(); cfg.capacity],
            ssrc: None,
            seqs: SeqUnwrapper::new(),
            tss: TimestampUnwrapper::new(),
            base_ts: 0,
            state: State::Idle,
            next_seq: 0,
            play_ts: 0,
            offset_us: 0,
            frame_ts: frame_ts.max(1),
            frame_us: cfg.frame.as_micros() as i64,
            count: 0,
            window: [0; WINDOW],
            wbase: 0,
            wlen: 0,
            wpos: 0,
            min_transit: 0,
            target_us: 0,
            conceal_run: 0,
            since_shrink: 0,
            stats: JitterStats::default(),
        };
        jb.target_us = jb.min_delay_us();
        jb
    }

    fn min_delay_us(&self) -> i64 {
        self.cfg.min_delay.as_micros() as i64
    }

    /// Empties the buffer and forgets the stream (counters are kept).
    pub fn reset(&mut self) {
        for s in &mut self.slots {
            s.filled = false;
        }
        self.ssrc = None;
        self.seqs = SeqUnwrapper::new();
        self.tss = TimestampUnwrapper::new();
        self.state = State::Idle;
        self.count = 0;
        self.wlen = 0;
        self.wpos = 0;
        self.conceal_run = 0;
        self.target_us = self.min_delay_us();
    }

    /// Counters, current and target delay.
    pub fn stats(&self) -> JitterStats {
        let mut s = self.stats;
        s.target_delay = Duration::from_micros(self.target_us.max(0) as u64);
        s.current_delay = Duration::from_micros((self.offset_us - self.min_transit).max(0) as u64);
        s
    }

    /// Packets currently buffered.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True if no packet is buffered.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn ts_us(&self, ts: i64) -> i64 {
        ((i128::from(ts - self.base_ts) * 1_000_000) / i128::from(self.cfg.clock_rate)) as i64
    }

    fn slot_index(&self, seq: i64) -> usize {
        seq.rem_euclid(self.cfg.capacity as i64) as usize
    }

    /// Adds a transit sample and recomputes the minimum and the target delay: at once when
    /// the sample falls outside [min, min + target] (the delay must grow, or the minimum
    /// moved), otherwise every 8th sample (decreases may lag by 8 packets).
    fn observe(&mut self, transit: i64) {
        // Stored relative to `wbase` in 16 bits (a quarter of the memory of absolute
        // values); a transit more than 3.2 s from the base (clock drift over a long call)
        // restarts the window there.
        let rel = match i16::try_from((transit - self.wbase).div_euclid(WINDOW_UNIT_US)) {
            Ok(r) if self.wlen > 0 => r,
            _ => {
                self.wbase = transit;
                self.wlen = 0;
                self.wpos = 0;
                0
            }
        };
        self.window[self.wpos] = rel;
        self.wpos = (self.wpos + 1) % WINDOW;
        self.wlen = (self.wlen + 1).min(WINDOW);
        let inside = self.wlen > 1
            && transit >= self.min_transit
            && transit - self.min_transit <= self.target_us;
        if inside && !self.wpos.is_multiple_of(8) {
            return;
        }
        let mut tmp = [0i16; WINDOW];
        let n = self.wlen;
        tmp[..n].copy_from_slice(&self.window[..n]);
        let v = &mut tmp[..n];
        let min = v.iter().copied().min().unwrap_or(rel);
        let k = (n * 97 / 100).min(n - 1);
        let (_, p97, _) = v.select_nth_unstable(k);
        let spread = (i64::from(*p97) - i64::from(min)) * WINDOW_UNIT_US;
        self.min_transit = self.wbase + i64::from(min) * WINDOW_UNIT_US;
        self.target_us = spread.clamp(self.min_delay_us(), self.cfg.max_delay.as_micros() as i64);
    }

    fn desired_offset(&self) -> i64 {
        self.min_transit + self.target_us
    }

    /// Offers a received packet. `now` is its arrival time.
    pub fn insert(
        &mut self,
        now: Instant,
        ssrc: u32,
        seq: u16,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
    ) -> Insert {
        if payload.len() > self.cfg.max_payload {
            self.stats.oversize += 1;
            return Insert::Oversize;
        }
        let mut reset = false;
        if self.ssrc != Some(ssrc) {
            if self.ssrc.is_some() {
                self.reset();
                self.stats.resets += 1;
                reset = true;
            }
            self.ssrc = Some(ssrc);
        }
        let fresh = self.seqs.highest().is_none();
        let mut ext_seq = self.seqs.unwrap(seq);
        let mut ext_ts = self.tss.unwrap(timestamp);
        if fresh {
            self.base_ts = ext_ts;
        }
        let now_us = now.as_micros().min(i64::MAX as u64) as i64;
        let mut transit = now_us - self.ts_us(ext_ts);
        let jumped = self.wlen > 0 && (transit - self.min_transit).abs() > RESYNC_US;
        let seq_jump = self.state != State::Idle && (ext_seq - self.next_seq).abs() > MAX_SEQ_JUMP;
        let overflow = self.state != State::Idle
            && ext_seq >= self.next_seq + self.cfg.capacity as i64
            && !jumped
            && !seq_jump;
        if jumped || seq_jump || overflow {
            self.reset();
            self.ssrc = Some(ssrc);
            self.stats.resets += 1;
            reset = true;
            ext_seq = self.seqs.unwrap(seq);
            ext_ts = self.tss.unwrap(timestamp);
            self.base_ts = ext_ts;
            transit = now_us - self.ts_us(ext_ts);
        }
        self.observe(transit);

        match self.state {
            State::Idle => self.anchor(ext_seq, ext_ts),
            State::Waiting if ext_seq >= self.next_seq => self.anchor(ext_seq, ext_ts),
            _ => {
                if ext_seq < self.next_seq {
                    self.stats.late += 1;
                    return Insert::Late;
                }
                if ext_ts < self.play_ts - self.frame_ts / 2 {
                    // Its time was concealed already; skip past it.
                    self.stats.late += 1;
                    self.skip_to(ext_seq + 1);
                    return Insert::Late;
                }
            }
        }
        let i = self.slot_index(ext_seq);
        let slot = self.slots[i];
        if slot.filled && slot.seq == ext_seq {
            self.stats.duplicate += 1;
            return Insert::Duplicate;
        }
        if !slot.filled {
            self.count += 1;
        }
        let (start, at) = self.place(payload.len(), i);
        self.data[start..start + payload.len()].copy_from_slice(payload);
        self.slots[i] = Slot {
            filled: true,
            marker,
            // ≤ max_payload ≤ u16::MAX (clamped in `new`).
            len: payload.len() as u16,
            // < data.len() ≤ u32::MAX in arena mode (clamped in `new`); slot mode keeps
            // `start` itself.
            off: start as u32,
            at,
            seq: ext_seq,
            ts: ext_ts,
        };
        self.stats.inserted += 1;
        if reset {
            Insert::Reset
        } else {
            Insert::Buffered
        }
    }

    /// Where a payload of `len` bytes for slot `i` goes: `(offset in data, logical
    /// position)`. In arena mode it is appended to the byte ring (wrapping to the start
    /// when the tail is too short, so payloads stay contiguous), and buffered packets whose
    /// bytes it overwrites are dropped.
    fn place(&mut self, len: usize, i: usize) -> (usize, u64) {
        if self.cfg.arena == 0 {
            return (i * self.cfg.max_payload, 0);
        }
        let size = self.data.len();
        let mut phys = (self.head % size as u64) as usize;
        if phys + len > size {
            self.head += (size - phys) as u64;
            phys = 0;
        }
        let at = self.head;
        self.head += len as u64;
        // Live payloads must start within the last `size` bytes written.
        let oldest = self.head.saturating_sub(size as u64);
        for (k, s) in self.slots.iter_mut().enumerate() {
            if k != i && s.filled && s.at < oldest {
                s.filled = false;
                self.count -= 1;
                self.stats.lost += 1;
            }
        }
        (phys, at)
    }

    /// Starts a talkspurt at this packet: playout from it, offset at the target.
    fn anchor(&mut self, seq: i64, ts: i64) {
        // Older buffered packets (if any) can no longer play.
        self.skip_to(seq);
        self.state = State::Playing;
        self.next_seq = seq;
        self.play_ts = ts;
        self.offset_us = self.desired_offset();
        self.conceal_run = 0;
    }

    /// Drops buffered packets below `seq` and moves the playout sequence there.
    fn skip_to(&mut self, seq: i64) {
        if self.count > 0 {
            for s in &mut self.slots {
                if s.filled && s.seq < seq {
                    s.filled = false;
                    self.count -= 1;
                }
            }
        }
        self.next_seq = self.next_seq.max(seq);
    }

    /// The first buffered packet after `next_seq`, if any.
    fn next_buffered(&self) -> Option<Slot> {
        (1..self.cfg.capacity as i64)
            .map(|d| self.slots[self.slot_index(self.next_seq + d)])
            .find(|s| s.filled && s.seq > self.next_seq)
    }

    /// Plays out at `now`: call once per frame time.
    pub fn pop(&mut self, now: Instant) -> Pop<'_> {
        let now_us = now.as_micros().min(i64::MAX as u64) as i64;
        // Bounded: each iteration either returns or consumes a slot.
        for _ in 0..=self.cfg.capacity + 2 {
            if self.state != State::Playing {
                return Pop::NotReady;
            }
            let due = self.ts_us(self.play_ts) + self.offset_us;
            if now_us < due {
                return Pop::NotReady;
            }
            let i = self.slot_index(self.next_seq);
            let slot = self.slots[i];
            if slot.filled && slot.seq == self.next_seq {
                let half = self.frame_ts / 2;
                if slot.ts > self.play_ts + half {
                    // A gap in timestamps with consecutive sequence numbers: silence (DTX)
                    // or a new talkspurt. Adjust the delay here, as at any talkspurt start;
                    // without a gap to absorb a decrease, only increase.
                    let desired = self.desired_offset();
                    self.offset_us = desired;
                    self.play_ts = slot.ts;
                    continue;
                }
                if slot.ts < self.play_ts - half {
                    self.slots[i].filled = false;
                    self.count -= 1;
                    self.next_seq += 1;
                    self.stats.late += 1;
                    continue;
                }
                if slot.marker && self.offset_us < self.desired_offset() {
                    // Talkspurt start without a timestamp gap: we may only add delay.
                    self.offset_us = self.desired_offset();
                    continue;
                }
                let desired = self.desired_offset();
                if self.offset_us < desired - self.frame_us / 2 {
                    self.offset_us += self.frame_us;
                    self.stats.concealed += 1;
                    return Pop::Missing;
                }
                self.since_shrink = self.since_shrink.saturating_add(1);
                if self.offset_us > desired + self.frame_us
                    && self.count >= 2
                    && self.since_shrink >= 4
                {
                    self.since_shrink = 0;
                    self.slots[i].filled = false;
                    self.count -= 1;
                    self.next_seq += 1;
                    self.play_ts = slot.ts + self.frame_ts;
                    self.offset_us -= self.frame_us;
                    self.stats.dropped += 1;
                    continue;
                }
                self.slots[i].filled = false;
                self.count -= 1;
                self.next_seq += 1;
                self.play_ts = slot.ts + self.frame_ts;
                self.conceal_run = 0;
                self.stats.played += 1;
                let start = slot.off as usize;
                return Pop::Frame(Frame {
                    payload: &self.data[start..start + usize::from(slot.len)],
                    seq: slot.seq as u16,
                    timestamp: slot.ts as u32,
                    marker: slot.marker,
                });
            }
            if let Some(next) = self.next_buffered() {
                // Where `next_seq` would have been, assuming one frame per packet.
                let expected_ts = next.ts - (next.seq - self.next_seq) * self.frame_ts;
                self.next_seq += 1;
                self.stats.lost += 1;
                if expected_ts < self.play_ts - self.frame_ts / 2 {
                    // Already concealed while the buffer was empty.
                    continue;
                }
                self.play_ts += self.frame_ts;
                self.stats.concealed += 1;
                return Pop::Missing;
            }
            if self.conceal_run * self.frame_us < self.cfg.max_conceal.as_micros() as i64 {
                self.conceal_run += 1;
                self.play_ts += self.frame_ts;
                self.stats.concealed += 1;
                return Pop::Missing;
            }
            self.state = State::Waiting;
            return Pop::NotReady;
        }
        Pop::NotReady
    }

    /// When the next frame is due (`None` when idle or waiting for a talkspurt).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state != State::Playing {
            return None;
        }
        let due = self.ts_us(self.play_ts) + self.offset_us;
        Some(Instant::from_micros(due.max(0) as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_is_spread_of_transit_clamped() {
        let mut jb = JitterBuffer::new(JitterConfig::new(8000));
        // Transits 0, 50, 100 ms … : with under 34 samples the 97th percentile is the max.
        for (i, extra) in [0u64, 50, 100].iter().enumerate() {
            let at = Instant::from_millis(i as u64 * 20 + extra);
            jb.insert(at, 1, i as u16, i as u32 * 160, false, &[0]);
        }
        assert_eq!(jb.stats().target_delay, Duration::from_millis(100));
        // Clamped at max_delay.
        jb.insert(Instant::from_millis(60 + 900), 1, 3, 480, false, &[0]);
        assert_eq!(jb.stats().target_delay, Duration::from_millis(200));
        // And at min_delay for a perfectly regular stream.
        let mut jb = JitterBuffer::new(JitterConfig::new(8000));
        for i in 0..10u16 {
            let at = Instant::from_millis(u64::from(i) * 20);
            jb.insert(at, 1, i, u32::from(i) * 160, false, &[0]);
        }
        assert_eq!(jb.stats().target_delay, Duration::from_millis(20));
        assert_eq!(jb.stats().current_delay, Duration::from_millis(20));
    }

    /// Pops up to `n` frames, one per 20 ms from `t0`; returns (seq, payload) of each.
    fn play(jb: &mut JitterBuffer, t0: u64, n: u64) -> Vec<(u16, Vec<u8>)> {
        let mut out = Vec::new();
        for k in 0..n {
            if let Pop::Frame(f) = jb.pop(Instant::from_millis(t0 + 20 * k)) {
                out.push((f.seq, f.payload.to_vec()));
            }
        }
        out
    }

    #[test]
    fn arena_stores_variable_packets_contiguously() {
        let mut cfg = JitterConfig::new(8000);
        cfg.capacity = 8;
        cfg.max_payload = 300;
        cfg.arena = 400;
        let mut jb = JitterBuffer::new(cfg);
        // 7 packets of different sizes (sum > arena, but never more than 400 bytes live
        // when played as they come): each comes out intact.
        let sizes = [10usize, 300, 50, 120, 7, 299, 1];
        let mut got = Vec::new();
        for (i, &n) in sizes.iter().enumerate() {
            let at = Instant::from_millis(i as u64 * 20);
            let payload = vec![i as u8 + 1; n];
            jb.insert(at, 9, i as u16, i as u32 * 160, false, &payload);
            got.extend(play(&mut jb, i as u64 * 20 + 20, 1));
        }
        got.extend(play(&mut jb, 160, 4));
        let want: Vec<(u16, Vec<u8>)> = sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| (i as u16, vec![i as u8 + 1; n]))
            .collect();
        assert_eq!(got, want);
        assert_eq!(jb.stats().lost, 0);
    }

    proptest::proptest! {
        /// Whatever the arrival pattern (reordering, loss, duplicates, jitter, sizes up to
        /// the limit), every frame played in arena mode is the payload sent with its
        /// sequence number, and the buffer never holds more than its capacity.
        #[test]
        fn arena_plays_only_intact_payloads(
            ops in proptest::collection::vec((0u16..40, 0u64..120, 0usize..=300, proptest::bool::ANY), 1..300),
            arena in 300usize..2000,
        ) {
            let mut cfg = JitterConfig::new(8000);
            cfg.capacity = 8;
            cfg.max_payload = 300;
            cfg.arena = arena;
            let mut jb = JitterBuffer::new(cfg);
            // Payload of a sequence number: its length and fill byte follow from it.
            let payload = |seq: u16, len: usize| vec![(seq as u8) ^ 0x5A; len];
            let mut lens = alloc::collections::BTreeMap::new();
            let mut t = 0u64;
            for (k, (back, jitter, len, pop)) in ops.into_iter().enumerate() {
                let seq = (k as u16).saturating_sub(back);
                let len = *lens.entry(seq).or_insert(len);
                t += 20;
                jb.insert(
                    Instant::from_millis(t + jitter),
                    7,
                    seq,
                    u32::from(seq) * 160,
                    false,
                    &payload(seq, len),
                );
                proptest::prop_assert!(jb.len() <= 8);
                if pop && let Pop::Frame(f) = jb.pop(Instant::from_millis(t + jitter)) {
                    let want = payload(f.seq, lens[&f.seq]);
                    proptest::prop_assert_eq!(f.payload, &want[..]);
                }
            }
        }
    }

    #[test]
    fn arena_drops_packets_overwritten_before_playout() {
        let mut cfg = JitterConfig::new(8000);
        cfg.capacity = 8;
        cfg.max_payload = 100;
        cfg.arena = 250;
        let mut jb = JitterBuffer::new(cfg);
        // Three 100-byte packets arrive before any plays: the third wraps to the start of
        // the 250-byte ring and overwrites the first.
        for i in 0..3u16 {
            jb.insert(
                Instant::ZERO,
                9,
                i,
                u32::from(i) * 160,
                false,
                &[i as u8; 100],
            );
        }
        assert_eq!(jb.len(), 2);
        assert_eq!(jb.stats().lost, 1);
        let got = play(&mut jb, 20, 5);
        assert_eq!(got, vec![(1, vec![1; 100]), (2, vec![2; 100])]);
        // An oversize packet is refused without touching the ring.
        assert_eq!(
            jb.insert(Instant::from_millis(60), 9, 3, 480, false, &[0; 101]),
            Insert::Oversize
        );
    }
}
