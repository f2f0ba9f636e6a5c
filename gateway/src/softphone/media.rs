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
use rvoip_core::rtp::{
    DtmfEvent, DtmfReceiver, DtmfSender, DtmfSenderConfig, JitterBuffer, JitterConfig, Pop,
    RtpPacket, RtpPacketBuilder,
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
}

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

    /// Handles one received datagram (RTP or SRTP) arriving at `now`. RTCP and anything
    /// not acceptable is counted as dropped.
    pub fn handle_datagram(&mut self, now: Instant, buf: &mut [u8]) {
        // RFC 5761 §4: payload types 64–95 in the second byte are RTCP.
        if buf.len() < 12 || (64..96).contains(&(buf[1] & 0x7f)) {
            self.counters.dropped += 1;
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
                    b.handle_datagram(now + Duration::from_millis(5), &mut d);
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
        b.handle_datagram(Instant::ZERO, &mut out[0]);
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
                b.handle_datagram(now, &mut d);
            }
            while let Some(c) = b.poll_digit() {
                digits.push(c);
            }
        }
        assert_eq!(digits, vec!['7']);
        assert_eq!(voice_during_event, 0);
    }
}
