//! One call's media stream, without I/O: encode and packetize (RTP, RFC 3550 §5.1),
//! protect (SRTP, RFC 3711, keys from SDES, RFC 4568), send DTMF as RFC 4733 events; on
//! receive unprotect, route telephone-events to the [`DtmfReceiver`] and voice to the
//! [`JitterBuffer`], then decode or conceal once per frame.
//!
//! Inputs: PCM frames from the microphone side, received datagrams, DTMF digits, and the
//! driver's time. Outputs: datagrams to send, PCM frames for the speaker side, received
//! digits. The driver calls [`MediaSession::send_frame`] and [`MediaSession::play_frame`]
//! once per 20 ms tick.

use rvoip_core::rtp::dtmf::{event_from_char, event_to_char};
use rvoip_core::rtp::stats::rtt_from_report_block;
use rvoip_core::rtp::{
    Compound, DtmfEvent, DtmfReceiver, DtmfSender, DtmfSenderConfig, JitterBuffer, JitterConfig,
    Pop, ReceiverStats, RtcpKind, RtcpWriter, RtpPacket, RtpPacketBuilder, SenderStats,
};
use rvoip_core::sdp::negotiate::{Negotiated, Sdes};
use rvoip_core::srtp::{Context, MasterKey, Profile};
use rvoip_core::time::{Duration, Instant};
use std::net::SocketAddr;

use super::Error;
use super::codec::{CodecKind, Decoder, Encoder, FRAME_MS};
use crate::opus::OpusImpl;

/// Largest datagram handled.
pub const MAX_DATAGRAM: usize = 1500;

/// What a negotiation gave the media stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaParams {
    /// The voice codec.
    pub codec: CodecKind,
    /// Its payload type.
    pub payload_type: u8,
    /// The telephone-event payload type, when agreed at the codec's clock rate.
    pub telephone_event: Option<u8>,
    /// Where to send RTP.
    pub remote: SocketAddr,
    /// Where to send RTCP (RTP port + 1 unless `a=rtcp` says otherwise, RFC 3605).
    pub remote_rtcp: Option<SocketAddr>,
    /// SRTP keys (local, remote), when the stream is `RTP/SAVP`.
    pub srtp: Option<(MasterKey, MasterKey)>,
    /// The local side may send (not on hold: `sendrecv`/`sendonly`, RFC 3264 §6.1).
    pub send: bool,
}

impl MediaParams {
    /// Whether `other` describes the same stream, apart from the direction.
    pub fn same_stream(&self, other: &MediaParams) -> bool {
        MediaParams {
            send: other.send,
            ..self.clone()
        } == *other
    }
}

impl MediaParams {
    /// The parameters of an offer/answer outcome.
    pub fn from_negotiated(n: &Negotiated) -> Result<Self, Error> {
        let codec = CodecKind::from_negotiated(&n.codec)
            .ok_or_else(|| Error::Media(format!("unsupported codec {}", n.codec.name)))?;
        let remote = n
            .remote_rtp
            .ok_or_else(|| Error::Media("the peer gave no RTP address".into()))?;
        let srtp = n.sdes.as_ref().map(sdes_keys).transpose()?;
        Ok(MediaParams {
            codec,
            payload_type: n.codec.payload_type,
            telephone_event: n
                .telephone_event
                .filter(|t| t.clock_rate == codec.rtp_clock())
                .map(|t| t.payload_type),
            remote,
            remote_rtcp: n.remote_rtcp,
            srtp,
            send: n.direction.sends(),
        })
    }
}

fn sdes_keys(s: &Sdes) -> Result<(MasterKey, MasterKey), Error> {
    let profile = Profile::from_sdes_name(s.suite.as_str())
        .ok_or_else(|| Error::Media(format!("unsupported SRTP suite {}", s.suite.as_str())))?;
    let key = |ks: &[u8]| {
        let (k, salt) = ks.split_at(profile.master_key_len().min(ks.len()));
        MasterKey::new(profile, k, salt).map_err(|e| Error::Media(format!("SRTP key: {e}")))
    };
    Ok((key(&s.local_key_salt)?, key(&s.remote_key_salt)?))
}

/// Packet counters of a session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MediaCounters {
    /// RTP packets sent (voice and events).
    pub sent: u64,
    /// Voice packets received and accepted.
    pub received: u64,
    /// Datagrams dropped: not RTP, wrong payload type, SRTP failures.
    pub dropped: u64,
    /// Frames concealed.
    pub concealed: u64,
    /// RTCP compound packets sent.
    pub rtcp_sent: u64,
    /// RTCP compound packets received and accepted.
    pub rtcp_received: u64,
    /// The round-trip time from the peer's last report about our stream (RFC 3550 §6.4.1).
    pub rtt: Option<Duration>,
    /// The peer's last reported loss fraction of our stream (/256).
    pub remote_fraction_lost: Option<u8>,
    /// The peer's last reported interarrival jitter of our stream (timestamp units).
    pub remote_jitter: Option<u32>,
}

/// First RTCP report after this much sending, then every [`RTCP_INTERVAL`].
const RTCP_FIRST: Duration = Duration::from_secs(1);
/// The RTCP report interval (RFC 3550 §6.2 minimum).
pub const RTCP_INTERVAL: Duration = Duration::from_secs(5);

/// A media stream (see the module docs).
#[derive(Debug)]
pub struct MediaSession {
    params: MediaParams,
    encoder: Encoder,
    decoder: Decoder,
    jitter: JitterBuffer,
    srtp_tx: Option<Context>,
    srtp_rx: Option<Context>,
    dtmf_tx: DtmfSender,
    dtmf_rx: DtmfReceiver,
    ssrc: u32,
    seq: u16,
    ts: u32,
    /// Time of the RTP timestamp `ts` (the next frame's).
    ts_at: Option<Instant>,
    digits: std::collections::VecDeque<char>,
    counters: MediaCounters,
    payload: Vec<u8>,
    tx_stats: SenderStats,
    rx_stats: Option<ReceiverStats>,
    next_rtcp: Option<Instant>,
    cname: String,
}

impl MediaSession {
    /// A stream with `params`; `ssrc`, `seq` and `ts` are the random starting values
    /// (RFC 3550 §5.1). Opus runs on `opus`.
    pub fn new(
        params: MediaParams,
        opus: OpusImpl,
        ssrc: u32,
        seq: u16,
        ts: u32,
    ) -> Result<Self, Error> {
        let codec = params.codec;
        let mut jcfg = JitterConfig::new(codec.rtp_clock());
        jcfg.max_payload = MAX_DATAGRAM;
        // 1.28 s of slots: a driver stall (a busy machine) does not overflow the ring.
        jcfg.capacity = 64;
        jcfg.frame = Duration::from_millis(u64::from(FRAME_MS));
        let (srtp_tx, srtp_rx) = match &params.srtp {
            Some((local, remote)) => (Some(Context::new(local)), Some(Context::new(remote))),
            None => (None, None),
        };
        Ok(MediaSession {
            encoder: Encoder::new(codec, opus)?,
            decoder: Decoder::new(codec, opus)?,
            jitter: JitterBuffer::new(jcfg),
            srtp_tx,
            srtp_rx,
            dtmf_tx: DtmfSender::new(DtmfSenderConfig {
                clock_rate: codec.rtp_clock(),
                interval: Duration::from_millis(u64::from(FRAME_MS)),
                ..DtmfSenderConfig::default()
            }),
            dtmf_rx: DtmfReceiver::new(Duration::from_secs(1)),
            ssrc,
            seq,
            ts,
            ts_at: None,
            digits: std::collections::VecDeque::new(),
            counters: MediaCounters::default(),
            payload: vec![0; MAX_DATAGRAM],
            tx_stats: SenderStats::new(),
            rx_stats: None,
            next_rtcp: None,
            cname: format!("rvoip-{ssrc:08x}"),
            params,
        })
    }

    /// The negotiated parameters.
    pub fn params(&self) -> &MediaParams {
        &self.params
    }

    /// The packet counters.
    pub fn counters(&self) -> MediaCounters {
        self.counters
    }

    /// The jitter buffer's counters.
    pub fn jitter_stats(&self) -> rvoip_core::rtp::JitterStats {
        self.jitter.stats()
    }

    /// Whether DTMF goes as RFC 4733 events (else the driver uses SIP INFO).
    pub fn has_telephone_event(&self) -> bool {
        self.params.telephone_event.is_some()
    }

    /// Starts or stops sending (hold, RFC 3264 §8.4); the RTP clock keeps running.
    pub fn set_sending(&mut self, send: bool) {
        self.params.send = send;
    }

    /// Where to send.
    pub fn remote(&self) -> SocketAddr {
        self.params.remote
    }

    /// Queues DTMF `digit` (`0-9*#A-D`) lasting `duration` as RFC 4733 events.
    pub fn send_dtmf(
        &mut self,
        now: Instant,
        digit: char,
        duration: Duration,
    ) -> Result<(), Error> {
        let event = event_from_char(digit)
            .ok_or_else(|| Error::Usage(format!("not a DTMF digit: {digit:?}")))?;
        if self.params.telephone_event.is_none() {
            return Err(Error::Media("no telephone-event negotiated".into()));
        }
        let ts = self.ts_now(now);
        self.dtmf_tx
            .send(now, ts, event, duration)
            .map_err(|e| Error::Media(format!("DTMF: {e}")))
    }

    /// The RTP timestamp at `now` on the outgoing clock.
    fn ts_now(&self, now: Instant) -> u32 {
        match self.ts_at {
            Some(at) if now >= at => {
                let d = now.saturating_duration_since(at).as_micros();
                let units = d * u128::from(self.params.codec.rtp_clock()) / 1_000_000;
                self.ts.wrapping_add(units as u32)
            }
            _ => self.ts,
        }
    }

    /// Takes one frame of microphone PCM ([`CodecKind::frame_samples`] long) at `now` and
    /// appends the datagrams to send to `out` (the voice packet, or the DTMF event packets
    /// due while a digit plays: RFC 4733 §2.5.1.1 suppresses the voice then).
    pub fn send_frame(
        &mut self,
        now: Instant,
        pcm: &[i16],
        out: &mut Vec<Vec<u8>>,
    ) -> Result<(), Error> {
        let frame_ts = self.params.codec.frame_ts();
        self.dtmf_tx.handle_timeout(now);
        let mut sent_event = false;
        while let Some(p) = self.dtmf_tx.poll_transmit() {
            let Some(pt) = self.params.telephone_event else {
                break;
            };
            let b = RtpPacketBuilder::new(pt, self.seq, p.timestamp, self.ssrc).marker(p.marker);
            let pkt = self.packet(&b, &p.payload)?;
            out.push(pkt);
            sent_event = true;
        }
        if self.params.send && !sent_event && !self.dtmf_tx.is_active() {
            let n = self.encoder.encode(pcm, &mut self.payload)?;
            let payload = std::mem::take(&mut self.payload);
            let b = RtpPacketBuilder::new(self.params.payload_type, self.seq, self.ts, self.ssrc);
            let r = self.packet(&b, &payload[..n]);
            self.payload = payload;
            out.push(r?);
            self.tx_stats.handle_sent(now, self.ts, n);
            if self.next_rtcp.is_none() {
                self.next_rtcp = Some(now + RTCP_FIRST);
            }
        }
        self.ts = self.ts.wrapping_add(frame_ts);
        self.ts_at = Some(now + Duration::from_millis(u64::from(FRAME_MS)));
        Ok(())
    }

    fn packet(&mut self, b: &RtpPacketBuilder<'_>, payload: &[u8]) -> Result<Vec<u8>, Error> {
        let mut buf = vec![0u8; MAX_DATAGRAM + 64];
        let mut n = b
            .emit(payload, &mut buf)
            .map_err(|e| Error::Media(format!("RTP: {e}")))?;
        if let Some(ctx) = &mut self.srtp_tx {
            n = ctx
                .protect_rtp(&mut buf, n)
                .map_err(|e| Error::Media(format!("SRTP: {e}")))?;
        }
        buf.truncate(n);
        self.seq = self.seq.wrapping_add(1);
        self.counters.sent += 1;
        Ok(buf)
    }

    /// The RTCP compound due at `now` (SR or RR with a report block about the peer's
    /// stream, SDES CNAME; SRTCP when keyed), if any. `ntp_now` is the wall clock.
    pub fn poll_rtcp(&mut self, now: Instant, ntp_now: u64) -> Result<Option<Vec<u8>>, Error> {
        match self.next_rtcp {
            Some(at) if now >= at => {
                // RFC 3550 §6.3.1: randomized over [0.5, 1.5] × the interval, so that the
                // two sides do not report in lockstep; the random SSRC seeds it.
                let mix = (u64::from(self.ssrc)
                    ^ self.counters.rtcp_sent.wrapping_mul(0x9E37_79B9))
                .wrapping_mul(0x2545_F491_4F6C_DD1D);
                let permille = 500 + (mix >> 32) % 1001;
                self.next_rtcp = Some(now + RTCP_INTERVAL * permille as u32 / 1000);
            }
            _ => return Ok(None),
        }
        let mut buf = vec![0u8; 512];
        let blocks: Vec<_> = self
            .rx_stats
            .as_mut()
            .filter(|r| r.is_valid())
            .map(|r| r.report_block(now))
            .into_iter()
            .collect();
        let rtcp_err = |e: rvoip_core::rtp::RtpError| Error::Media(format!("RTCP: {e}"));
        let mut w = RtcpWriter::new(&mut buf);
        if self.tx_stats.has_sent() {
            let info = self
                .tx_stats
                .sender_info(now, ntp_now, self.params.codec.rtp_clock());
            w.sender_report(self.ssrc, &info, &blocks)
                .map_err(rtcp_err)?;
        } else {
            w.receiver_report(self.ssrc, &blocks).map_err(rtcp_err)?;
        }
        w.sdes_cname(self.ssrc, self.cname.as_bytes())
            .map_err(rtcp_err)?;
        let mut n = w.finish();
        if let Some(ctx) = &mut self.srtp_tx {
            n = ctx
                .protect_rtcp(&mut buf, n)
                .map_err(|e| Error::Media(format!("SRTCP: {e}")))?;
        }
        buf.truncate(n);
        self.counters.rtcp_sent += 1;
        Ok(Some(buf))
    }

    /// Where RTCP goes.
    pub fn remote_rtcp(&self) -> Option<SocketAddr> {
        self.params.remote_rtcp
    }

    fn handle_rtcp(&mut self, now: Instant, ntp_now: u64, buf: &mut [u8]) {
        let len = match &mut self.srtp_rx {
            Some(ctx) => match ctx.unprotect_rtcp(buf) {
                Ok(n) => n,
                Err(_) => {
                    self.counters.dropped += 1;
                    return;
                }
            },
            None => buf.len(),
        };
        let Ok(compound) = Compound::new_checked(&buf[..len], false) else {
            self.counters.dropped += 1;
            return;
        };
        self.counters.rtcp_received += 1;
        for p in compound.iter() {
            let blocks = match p.parse() {
                Ok(RtcpKind::SenderReport(sr)) => {
                    if let Some(r) = self.rx_stats.as_mut().filter(|r| r.ssrc() == sr.ssrc()) {
                        r.handle_sender_report(now, sr.sender_info().ntp_timestamp);
                    }
                    sr.report_blocks()
                }
                Ok(RtcpKind::ReceiverReport(rr)) => rr.report_blocks(),
                _ => continue,
            };
            for b in blocks.filter(|b| b.ssrc == self.ssrc) {
                self.counters.remote_fraction_lost = Some(b.fraction_lost);
                self.counters.remote_jitter = Some(b.jitter);
                if let Some(rtt) = rtt_from_report_block(ntp_now, &b) {
                    self.counters.rtt = Some(rtt);
                }
            }
        }
    }

    /// Handles one received datagram (RTP or RTCP, SRTP or SRTCP when keyed) arriving at
    /// `now` (`ntp_now`: the wall clock, for round-trip times). Anything not acceptable is
    /// counted as dropped.
    pub fn handle_datagram(&mut self, now: Instant, ntp_now: u64, buf: &mut [u8]) {
        if buf.len() < 8 {
            self.counters.dropped += 1;
            return;
        }
        // RFC 5761 §4: payload types 64–95 in the second byte are RTCP.
        if (64..96).contains(&(buf[1] & 0x7f)) {
            self.handle_rtcp(now, ntp_now, buf);
            return;
        }
        let len = match &mut self.srtp_rx {
            Some(ctx) => match ctx.unprotect_rtp(buf) {
                Ok(n) => n,
                Err(_) => {
                    self.counters.dropped += 1;
                    return;
                }
            },
            None => buf.len(),
        };
        let Ok(pkt) = RtpPacket::new_checked(&buf[..len]) else {
            self.counters.dropped += 1;
            return;
        };
        let pt = pkt.payload_type();
        if Some(pt) == self.params.telephone_event {
            if self
                .dtmf_rx
                .handle_packet(now, pkt.timestamp(), pkt.payload())
                .is_err()
            {
                self.counters.dropped += 1;
            }
            self.drain_dtmf();
        } else if pt == self.params.payload_type {
            self.counters.received += 1;
            let clock = self.params.codec.rtp_clock();
            let stats = self.rx_stats.get_or_insert_with(|| {
                ReceiverStats::new(pkt.ssrc(), clock, pkt.sequence_number())
            });
            if stats.ssrc() == pkt.ssrc() {
                stats.handle_packet(
                    now,
                    pkt.sequence_number(),
                    pkt.timestamp(),
                    pkt.payload().len(),
                );
            }
            self.jitter.insert(
                now,
                pkt.ssrc(),
                pkt.sequence_number(),
                pkt.timestamp(),
                pkt.marker(),
                pkt.payload(),
            );
        } else {
            self.counters.dropped += 1;
        }
    }

    fn drain_dtmf(&mut self) {
        while let Some(e) = self.dtmf_rx.poll_event() {
            if let DtmfEvent::Start { event, .. } = e
                && let Some(c) = event_to_char(event)
            {
                self.digits.push_back(c);
            }
        }
    }

    /// A DTMF digit received as an RFC 4733 event (reported at its start).
    pub fn poll_digit(&mut self) -> Option<char> {
        self.digits.pop_front()
    }

    /// Produces one frame of speaker PCM for `now`: decoded, concealed, or silence.
    pub fn play_frame(&mut self, now: Instant, out: &mut [i16]) -> Result<(), Error> {
        self.dtmf_rx.handle_timeout(now);
        self.drain_dtmf();
        match self.jitter.pop(now) {
            Pop::Frame(f) => {
                let payload = f.payload;
                self.decoder.decode(payload, out)
            }
            Pop::Missing => {
                self.counters.concealed += 1;
                self.decoder.conceal(out)
            }
            Pop::NotReady => {
                out.fill(0);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rvoip_core::codec::{ToneGenerator, tone_power};

    fn params(codec: CodecKind, srtp: bool) -> (MediaParams, MediaParams) {
        let addr: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let keys = srtp.then(|| {
            let p = Profile::Aes128CmHmacSha1_80;
            let a = MasterKey::new(p, &[1; 16], &[2; 14]).unwrap();
            let b = MasterKey::new(p, &[3; 16], &[4; 14]).unwrap();
            ((a.clone(), b.clone()), (b, a))
        });
        let (ka, kb) = match keys {
            Some((a, b)) => (Some(a), Some(b)),
            None => (None, None),
        };
        let mk = |srtp| MediaParams {
            codec,
            payload_type: codec.sdp_codec().payload_type,
            telephone_event: Some(101),
            remote: addr,
            remote_rtcp: None,
            srtp,
            send: true,
        };
        (mk(ka), mk(kb))
    }

    /// Sends 1 s of a tone from `a` to `b` with a packet lost every `loss_every`;
    /// returns what `b` played.
    fn stream(codec: CodecKind, srtp: bool, loss_every: usize) -> (Vec<i16>, MediaSession) {
        let (pa, pb) = params(codec, srtp);
        let mut a = MediaSession::new(pa, OpusImpl::Ropus, 1, 100, 1000).unwrap();
        let mut b = MediaSession::new(pb, OpusImpl::Ropus, 2, 200, 2000).unwrap();
        let n = codec.frame_samples();
        let mut tone = ToneGenerator::new(codec.pcm_rate(), 1000.0, 8000.0);
        let (mut pcm, mut out) = (vec![0i16; n], vec![0i16; n]);
        let mut played = Vec::new();
        for i in 0..50u64 {
            let now = Instant::from_millis(i * 20);
            tone.fill(&mut pcm);
            let mut dgrams = Vec::new();
            a.send_frame(now, &pcm, &mut dgrams).unwrap();
            for mut d in dgrams {
                if loss_every == 0 || i as usize % loss_every != 3 {
                    b.handle_datagram(now + Duration::from_millis(5), 0, &mut d);
                }
            }
            b.play_frame(now + Duration::from_millis(10), &mut out)
                .unwrap();
            played.extend_from_slice(&out);
        }
        (played, b)
    }

    #[test]
    fn tone_crosses_every_codec_plain_and_srtp() {
        for codec in CodecKind::ALL {
            for srtp in [false, true] {
                let (played, b) = stream(codec, srtp, 0);
                let p = tone_power(&played[played.len() / 2..], 1000.0, codec.pcm_rate());
                assert!(p > 0.9, "{codec:?} srtp={srtp}: {p}");
                assert_eq!(b.counters().dropped, 0);
                assert!(b.counters().received >= 49);
            }
        }
    }

    #[test]
    fn losses_are_concealed() {
        let (played, b) = stream(CodecKind::Pcmu, false, 10);
        assert!(b.counters().concealed >= 3, "{:?}", b.counters());
        let p = tone_power(&played[played.len() / 2..], 1000.0, 8000);
        assert!(p > 0.8, "{p}");
    }

    #[test]
    fn rtcp_reports_cross_and_give_a_round_trip_time() {
        for srtp in [false, true] {
            let (pa, pb) = params(CodecKind::Pcmu, srtp);
            let mut a = MediaSession::new(pa, OpusImpl::Ropus, 1, 1, 1).unwrap();
            let mut b = MediaSession::new(pb, OpusImpl::Ropus, 2, 2, 2).unwrap();
            // NTP = driver time + a fixed epoch; each datagram arrives at the first tick
            // at least 30 ms after it was sent: 40 ms each way.
            let ntp = |t: Instant| {
                rvoip_core::rtp::stats::ntp_from_unix_micros(1_700_000_000_000_000 + t.as_micros())
            };
            let mut got_report = false;
            let mut inflight: Vec<(Instant, bool, Vec<u8>)> = Vec::new();
            for i in 0..600u64 {
                let now = Instant::from_millis(i * 20);
                let (due, later): (Vec<_>, Vec<_>) =
                    inflight.drain(..).partition(|(t, _, _)| *t <= now);
                inflight = later;
                for (_, to_b, mut d) in due {
                    let y = if to_b { &mut b } else { &mut a };
                    y.handle_datagram(now, ntp(now), &mut d);
                }
                for (x, to_b) in [(&mut a, true), (&mut b, false)] {
                    let mut out = Vec::new();
                    x.send_frame(now, &[0; 160], &mut out).unwrap();
                    if let Some(r) = x.poll_rtcp(now, ntp(now)).unwrap() {
                        out.push(r);
                    }
                    let at = now + Duration::from_millis(30);
                    inflight.extend(out.into_iter().map(|d| (at, to_b, d)));
                }
                got_report |= a.counters().rtt.is_some();
            }
            let c = a.counters();
            assert!(got_report, "srtp={srtp}: {c:?}");
            assert_eq!(c.dropped, 0);
            assert!(c.rtcp_sent >= 1 && c.rtcp_received >= 1, "{c:?}");
            let rtt = c.rtt.unwrap().as_millis();
            assert!((78..=82).contains(&rtt), "rtt {rtt} ms");
            assert_eq!(c.remote_fraction_lost, Some(0));
        }
    }

    #[test]
    fn on_hold_nothing_is_sent_and_the_clock_runs() {
        let (pa, _) = params(CodecKind::Pcmu, false);
        let mut a = MediaSession::new(pa, OpusImpl::Ropus, 1, 10, 1000).unwrap();
        let mut out = Vec::new();
        a.send_frame(Instant::ZERO, &[0; 160], &mut out).unwrap();
        a.set_sending(false);
        a.send_frame(Instant::from_millis(20), &[0; 160], &mut out)
            .unwrap();
        assert_eq!(out.len(), 1);
        a.set_sending(true);
        a.send_frame(Instant::from_millis(40), &[0; 160], &mut out)
            .unwrap();
        let p = RtpPacket::new_checked(&out[1][..]).unwrap();
        // Consecutive sequence numbers, the timestamp two frames on.
        assert_eq!(p.sequence_number(), 11);
        assert_eq!(p.timestamp(), 1320);
    }

    #[test]
    fn wrong_srtp_key_is_dropped() {
        let (pa, mut pb) = params(CodecKind::Pcmu, true);
        let p = Profile::Aes128CmHmacSha1_80;
        pb.srtp = Some((
            MasterKey::new(p, &[9; 16], &[9; 14]).unwrap(),
            MasterKey::new(p, &[9; 16], &[9; 14]).unwrap(),
        ));
        let mut a = MediaSession::new(pa, OpusImpl::Ropus, 1, 1, 1).unwrap();
        let mut b = MediaSession::new(pb, OpusImpl::Ropus, 2, 2, 2).unwrap();
        let mut out = Vec::new();
        a.send_frame(Instant::ZERO, &[0; 160], &mut out).unwrap();
        b.handle_datagram(Instant::ZERO, 0, &mut out[0]);
        assert_eq!(b.counters().dropped, 1);
        assert_eq!(b.counters().received, 0);
    }

    #[test]
    fn dtmf_events_replace_voice_and_arrive_once() {
        let (pa, pb) = params(CodecKind::Pcmu, false);
        let mut a = MediaSession::new(pa, OpusImpl::Ropus, 1, 1, 1).unwrap();
        let mut b = MediaSession::new(pb, OpusImpl::Ropus, 2, 2, 2).unwrap();
        let mut digits = Vec::new();
        let mut voice_during_event = 0;
        for i in 0..30u64 {
            let now = Instant::from_millis(i * 20);
            if i == 5 {
                a.send_dtmf(now, '7', Duration::from_millis(100)).unwrap();
            }
            let mut out = Vec::new();
            a.send_frame(now, &[0; 160], &mut out).unwrap();
            for mut d in out {
                if (7..10).contains(&i) && d[1] & 0x7f == 0 {
                    voice_during_event += 1;
                }
                b.handle_datagram(now, 0, &mut d);
            }
            while let Some(c) = b.poll_digit() {
                digits.push(c);
            }
        }
        assert_eq!(digits, vec!['7']);
        assert_eq!(voice_during_event, 0);
    }
}
