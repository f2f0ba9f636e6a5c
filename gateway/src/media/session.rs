//! The per-call media state machine (sans-IO): one or two legs and what joins them.
//!
//! Feed it with [`MediaSession::handle_datagram`]`(now, leg, local, from, buf, len, sink)`
//! for every received datagram and [`MediaSession::handle_timeout`] when
//! [`MediaSession::poll_timeout`] is due; it sends through a [`Sink`] (the driver's
//! sockets, or a `Vec` in tests) and reports [`MediaEvent`]s through
//! [`MediaSession::poll_event`]. DTLS runs outside (webrtc-dtls is async): records from the
//! peer come out of [`MediaSession::poll_dtls_in`], records to the peer go in through
//! [`MediaSession::send_dtls`], and the exported keys through
//! [`MediaSession::set_srtp_keys`].
//!
//! Nothing on the relay path allocates: packets are decrypted, rewritten and re-encrypted
//! in the caller's buffer (passthrough), or decoded and re-encoded through stack buffers
//! and codec state allocated when the call was set up (transcoding).
//!
//! Memory per call is kept small (the `media_memory` bench counts it): what a call may never
//! use is allocated when first needed (the jitter buffers and codecs only on the
//! transcoding path, the resampler only between different rates, a DTMF sender on the
//! first digit sent, a DTMF receiver on the first telephone-event packet), the jitter buffers store packets back to back in one byte ring sized
//! for the codec, and the per-frame PCM and packet buffers live on the stack.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use rvoip_core::ice::{Credentials, IceEvent, IceLiteAgent, PacketKind, Receive, classify};
use rvoip_core::rand::Rng;
use rvoip_core::rtp::dtmf::{event_from_char, event_to_char};
use rvoip_core::rtp::stats::{ntp_from_unix_micros, rtt_from_report_block};
use rvoip_core::rtp::{
    Compound, DtmfEvent, DtmfReceiver, DtmfSender, DtmfSenderConfig, JitterBuffer, JitterConfig,
    Pop, ReceiverStats, RtcpKind, RtcpWriter, RtpPacket, RtpPacketBuilder, TelephoneEvent,
};
use rvoip_core::srtp::{self, Context, MasterKey};
use rvoip_core::time::Instant;

use super::codec::{Codec, Decoder, Encoder, native_rate, pcm_rate};
use super::leg::{Leg, Relay, Transport};
pub use super::types::{
    DigitError, EndReason, LegId, LegSpec, LegStats, MediaEvent, MediaFormat, Peer, RtpRemote,
    SessionCounters, Sink,
};
use crate::opus::{OpusError, OpusImpl};
use rvoip_core::codec::{Resampler, SampleRate};

const MAX_DTLS_QUEUE: usize = 64;
/// Default Opus encoder complexity on the transcoding path (narrow-band SILK; see the
/// `media_bridge` bench for the cost of each setting).
pub const DEFAULT_OPUS_COMPLEXITY: u8 = 2;
/// SSRCs the receiving SRTP context tracks (the peer's audio stream, its RTCP on the same
/// SSRC, plus one SSRC change on renegotiation).
const SRTP_STREAMS_IN: usize = 2;
/// SSRCs the sending SRTP context tracks (we send one stream per leg; one spare).
const SRTP_STREAMS_OUT: usize = 2;
/// Jitter buffer slots: 200 ms of 20 ms frames (the largest target delay) plus margin.
const JB_SLOTS: usize = 12;
/// Payload bytes per jitter buffer slot on average, by codec: G.711/G.722 carry 160 bytes
/// per 20 ms; 106 bytes is Opus at 42 kbit/s (browsers send 32–40 kbit/s for voice; at
/// 64 kbit/s the ring still holds 160 ms).
const JB_BYTES_G711: usize = 160;
const JB_BYTES_OPUS: usize = 106;
/// An RFC 4733 event with no packet for this long is ended (lost end packets).
const DTMF_END_TIMEOUT: Duration = Duration::from_millis(500);
const RTCP_INTERVAL: Duration = Duration::from_secs(5);
const FRAME: Duration = Duration::from_millis(20);
/// Packets the session writes itself (transcoded audio, DTMF, RTCP) fit in this.
const BUF: usize = 640;
/// 20 ms of PCM at 16 kHz.
const FRAME_PCM: usize = 320;

/// One transcoding direction.
struct Direction {
    dec: Decoder,
    enc: Encoder,
    /// Samples per 20 ms at the decoder's PCM rate.
    samples: usize,
    /// Between G.711 (8 kHz) and G.722 (16 kHz).
    resampler: Option<Box<Resampler>>,
    /// Input RTP timestamp of the next frame (for Missing frames).
    in_ts: Option<u32>,
}

enum Joiner {
    /// Waiting for both formats.
    Pending,
    Passthrough,
    /// Index 0: A→B, 1: B→A.
    Transcode(Box<[Direction; 2]>),
    Echo,
    Tone(Box<(rvoip_core::codec::ToneGenerator, Encoder, usize)>),
}

/// The per-call media state machine (see the module docs).
pub struct MediaSession {
    legs: Vec<Leg>,
    peer: Peer,
    joiner: Joiner,
    opus: OpusImpl,
    opus_complexity: u8,
    unix_at_zero: u64,
    cname: Vec<u8>,
    next_tick: Option<Instant>,
    events: VecDeque<MediaEvent>,
    ended: bool,
    counters: SessionCounters,
}

impl MediaSession {
    /// A session for leg `a` and, for [`Peer::Bridge`], leg `b`. `unix_micros_at_zero` is
    /// the wall clock (µs since 1970) at `Instant::ZERO`, for RTCP NTP timestamps.
    pub fn new(
        peer: Peer,
        a: LegSpec,
        b: Option<LegSpec>,
        opus: OpusImpl,
        unix_micros_at_zero: u64,
        rng: &mut dyn Rng,
    ) -> MediaSession {
        // Exactly as many legs as there will be (a `Vec` grown by a push would hold four).
        let mut legs = Vec::with_capacity(if matches!(peer, Peer::Bridge) && b.is_some() {
            2
        } else {
            1
        });
        legs.push(Leg::new(a, rng));
        if let (Peer::Bridge, Some(b)) = (peer, b) {
            legs.push(Leg::new(b, rng));
        }
        // RFC 7022 §4.2: a random short-term persistent CNAME per call, the same in the
        // RTCP SDES of every leg and in the `a=ssrc:… cname:` of the leg's SDP.
        let cname = rvoip_core::sdp::negotiate::random_cname(&mut &mut *rng).into_bytes();
        MediaSession {
            legs,
            peer,
            joiner: Joiner::Pending,
            opus,
            opus_complexity: DEFAULT_OPUS_COMPLEXITY,
            unix_at_zero: unix_micros_at_zero,
            cname,
            next_tick: None,
            events: VecDeque::new(),
            ended: false,
            counters: SessionCounters::default(),
        }
    }

    fn leg(&self, id: LegId) -> Option<&Leg> {
        self.legs.get(id.idx())
    }

    fn leg_mut(&mut self, id: LegId) -> Option<&mut Leg> {
        self.legs.get_mut(id.idx())
    }

    /// The local RTP address of a leg.
    pub fn local_addr(&self, id: LegId) -> Option<SocketAddr> {
        self.leg(id).map(|l| l.local)
    }

    /// Our SSRC on a leg.
    pub fn local_ssrc(&self, id: LegId) -> Option<u32> {
        self.leg(id).map(|l| l.ssrc)
    }

    /// The CNAME of the call's RTCP SDES (RFC 3550 §6.5.1; random per call, RFC 7022 §4.2),
    /// to announce with [`MediaSession::local_ssrc`] in SDP (`a=ssrc:… cname:`, RFC 5576).
    pub fn cname(&self) -> &str {
        // Invariant: made from a `String` in `new` (base64 text).
        std::str::from_utf8(&self.cname).unwrap_or_default()
    }

    /// The ICE-lite agent of a WebRTC leg.
    pub fn ice(&self, id: LegId) -> Option<&IceLiteAgent> {
        match &self.leg(id)?.t {
            Transport::WebRtc(w) => Some(&w.ice),
            Transport::Plain(_) => None,
        }
    }

    /// Sets the negotiated format of a leg. Once every leg has one, the bridge picks
    /// passthrough (same codec) or transcoding.
    pub fn set_format(&mut self, id: LegId, f: MediaFormat) {
        let Some(l) = self.leg_mut(id) else { return };
        l.fmt = Some(f);
        // Made (at the format's clock) by the first digit sent.
        l.dtmf_tx = None;
        if let Err(e) = self.setup_joiner() {
            self.end(id, EndReason::Codec(e.to_string()));
        }
    }

    fn setup_joiner(&mut self) -> Result<(), OpusError> {
        if !matches!(self.joiner, Joiner::Pending) || self.legs.iter().any(|l| l.fmt.is_none()) {
            return Ok(());
        }
        let jb_for = |c: Codec| {
            let mut cfg = JitterConfig::new(c.clock_rate());
            cfg.capacity = JB_SLOTS;
            let avg = if c == Codec::Opus {
                // RFC 6716 §3.4 (R5): at most 1275 bytes per Opus frame.
                cfg.max_payload = 1275;
                JB_BYTES_OPUS
            } else {
                // Up to 60 ms packets.
                cfg.max_payload = 3 * JB_BYTES_G711;
                JB_BYTES_G711
            };
            cfg.arena = JB_SLOTS * avg;
            Box::new(JitterBuffer::new(cfg))
        };
        match self.peer {
            Peer::Bridge => {
                let (fa, fb) = match (self.legs[0].fmt, self.legs.get(1).and_then(|l| l.fmt)) {
                    (Some(a), Some(b)) => (a, b),
                    _ => return Ok(()),
                };
                if fa.codec == fb.codec {
                    self.joiner = Joiner::Passthrough;
                } else {
                    let complexity = self.opus_complexity;
                    let dir = |from: Codec, to: Codec| -> Result<Direction, OpusError> {
                        // Opus adapts to the other side's rate; G.711 ⇄ G.722 resamples.
                        let dec_rate = native_rate(from).or(native_rate(to)).unwrap_or(8000);
                        let enc_rate = native_rate(to).unwrap_or(dec_rate);
                        let rate = |hz| {
                            if hz == 16_000 {
                                SampleRate::Hz16000
                            } else {
                                SampleRate::Hz8000
                            }
                        };
                        Ok(Direction {
                            dec: Decoder::new(from, dec_rate, self.opus)?,
                            enc: Encoder::new(to, enc_rate, self.opus, complexity)?,
                            samples: dec_rate as usize / 50,
                            resampler: (dec_rate != enc_rate)
                                .then(|| Box::new(Resampler::new(rate(dec_rate), rate(enc_rate)))),
                            in_ts: None,
                        })
                    };
                    let d = [dir(fa.codec, fb.codec)?, dir(fb.codec, fa.codec)?];
                    self.legs[0].jb = Some(jb_for(fa.codec));
                    self.legs[1].jb = Some(jb_for(fb.codec));
                    self.joiner = Joiner::Transcode(Box::new(d));
                }
            }
            Peer::Echo => {
                let c = self.legs[0].fmt.map_or(Codec::Pcmu, |f| f.codec);
                self.legs[0].jb = Some(jb_for(c));
                self.joiner = Joiner::Echo;
            }
            Peer::Tone(freq) => {
                let c = self.legs[0].fmt.map_or(Codec::Pcmu, |f| f.codec);
                let rate = pcm_rate(c, c);
                let g = rvoip_core::codec::ToneGenerator::new(rate, freq, 8000.0);
                self.joiner = Joiner::Tone(Box::new((
                    g,
                    Encoder::new(c, rate, self.opus, self.opus_complexity)?,
                    rate as usize / 50,
                )));
            }
        }
        Ok(())
    }

    /// Sets the Opus encoder complexity (0–10) of the transcoder; call before the formats
    /// are set. Default [`DEFAULT_OPUS_COMPLEXITY`].
    pub fn set_opus_complexity(&mut self, c: u8) {
        self.opus_complexity = c.min(10);
    }

    /// Whether the bridge transcodes (false for passthrough or before both formats).
    pub fn is_transcoding(&self) -> bool {
        matches!(self.joiner, Joiner::Transcode(_))
    }

    /// Whether leg `id` sends media (false while the SDP direction agreed on it does not
    /// let us send: hold). RTCP, ICE and DTLS continue either way (RFC 3264 §5.1).
    pub fn set_sending(&mut self, id: LegId, sending: bool) {
        if let Some(l) = self.leg_mut(id) {
            l.muted = !sending;
        }
    }

    /// Sets the peer's ICE credentials (from the offer/answer) on a WebRTC leg.
    pub fn set_ice_remote(&mut self, id: LegId, c: Credentials) {
        if let Some(Leg {
            t: Transport::WebRtc(w),
            ..
        }) = self.leg_mut(id)
        {
            w.ice.set_remote_credentials(c);
        }
    }

    /// ICE restart on a WebRTC leg (RFC 8445 §9): our new `local` credentials (sent in the
    /// answer) and the peer's new `remote` ones (from its offer) replace the old ones; media
    /// stays on the selected pair until a check with the new credentials nominates one
    /// ([`IceLiteAgent::restart`]). DTLS and SRTP are untouched.
    pub fn restart_ice(&mut self, id: LegId, local: Credentials, remote: Credentials) {
        if let Some(Leg {
            t: Transport::WebRtc(w),
            ..
        }) = self.leg_mut(id)
        {
            w.ice.restart(local, remote);
        }
    }

    /// Sets the remote transport of a plain RTP leg.
    pub fn set_rtp_remote(&mut self, id: LegId, r: RtpRemote) {
        if let Some(Leg {
            t: Transport::Plain(p),
            ..
        }) = self.leg_mut(id)
        {
            if p.remote.map(|o| o.addr) != Some(r.addr) {
                p.latched = None;
                p.latched_rtcp = None;
            }
            p.remote = Some(r);
        }
    }

    /// The one address each socket of plain RTP leg `id` exchanges packets with, once that
    /// is settled: `(RTP socket, RTCP socket)`. The RTP socket's peer is the latched
    /// address in NAT mode (`None` until the first packet from the signalled IP latches),
    /// else the SDP address; the RTCP socket has one only without rtcp-mux (its latched
    /// address, or the SDP `a=rtcp` / RTP port + 1). Each is the only source
    /// [`handle_datagram`](Self::handle_datagram) accepts on that socket and where
    /// everything sent from it goes, so the socket may be `connect()`ed to it. `(None,
    /// None)` for WebRTC legs and before the remote is known.
    pub fn settled_peers(&self, id: LegId) -> (Option<SocketAddr>, Option<SocketAddr>) {
        let Some(Leg {
            t: Transport::Plain(p),
            local_rtcp,
            ..
        }) = self.leg(id)
        else {
            return (None, None);
        };
        let Some(r) = p.remote else {
            return (None, None);
        };
        let rtp = if r.latch { p.latched } else { Some(r.addr) };
        let rtcp = match (r.rtcp_mux, local_rtcp, r.latch) {
            (true, _, _) | (false, None, _) => None,
            (false, Some(_), true) => p.latched_rtcp,
            (false, Some(_), false) => Some(
                r.rtcp
                    .unwrap_or_else(|| SocketAddr::new(r.addr.ip(), r.addr.port().wrapping_add(1))),
            ),
        };
        (rtp, rtcp)
    }

    /// Installs the DTLS-SRTP keys of a WebRTC leg: `local` protects what we send,
    /// `remote` unprotects what we receive.
    pub fn set_srtp_keys(&mut self, id: LegId, local: &MasterKey, remote: &MasterKey) {
        if let Some(Leg {
            t: Transport::WebRtc(w),
            ..
        }) = self.leg_mut(id)
        {
            w.srtp_out = Some(Box::new(Context::with_max_streams(local, SRTP_STREAMS_OUT)));
            w.srtp_in = Some(Box::new(Context::with_max_streams(remote, SRTP_STREAMS_IN)));
            self.events.push_back(MediaEvent::SrtpReady { leg: id });
        }
    }

    /// A DTLS record received from the peer, for the handshake.
    pub fn poll_dtls_in(&mut self, id: LegId) -> Option<Vec<u8>> {
        match &mut self.leg_mut(id)?.t {
            Transport::WebRtc(w) => {
                let r = w.dtls_in.pop_front();
                if r.is_none() && w.dtls_in.capacity() > 0 {
                    // The handshake is a few flights: free the queue between them.
                    w.dtls_in = VecDeque::new();
                }
                r
            }
            Transport::Plain(_) => None,
        }
    }

    /// Sends a DTLS record to the peer (queued until ICE has a validated address).
    pub fn send_dtls(&mut self, id: LegId, record: Vec<u8>, sink: &mut dyn Sink) {
        let Some(l) = self.legs.get_mut(id.idx()) else {
            return;
        };
        if let Transport::WebRtc(w) = &mut l.t {
            match w.ice.may_send_to() {
                Some(to) => sink.send(l.local, to, &record),
                None if w.dtls_out.len() < MAX_DTLS_QUEUE => w.dtls_out.push_back(record),
                None => {}
            }
        }
    }

    /// Ends the session because of leg `id` (e.g. a DTLS failure reported by the driver).
    pub fn end(&mut self, id: LegId, reason: EndReason) {
        if !self.ended {
            self.ended = true;
            self.events.push_back(MediaEvent::Ended { leg: id, reason });
        }
    }

    /// Whether the session ended.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<MediaEvent> {
        let e = self.events.pop_front();
        if e.is_none() && self.events.capacity() > 0 {
            // Events are few per call: free the queue between them.
            self.events = VecDeque::new();
        }
        e
    }

    /// Session-wide counters.
    pub fn counters(&self) -> SessionCounters {
        self.counters
    }

    /// Statistics of a leg.
    pub fn stats(&self, id: LegId) -> Option<LegStats> {
        self.leg(id).map(Leg::stats)
    }

    /// Sends DTMF `digit` on leg `id` as RFC 4733 events lasting `duration` (the SIP INFO
    /// → RFC 4733 hook). Fails if the digit is not DTMF or the leg has no telephone-event.
    pub fn send_digit(
        &mut self,
        now: Instant,
        id: LegId,
        digit: char,
        duration: Duration,
        sink: &mut dyn Sink,
    ) -> Result<(), DigitError> {
        let ev = event_from_char(digit).ok_or(DigitError::NotDtmf)?;
        let l = self.leg_mut(id).ok_or(DigitError::NoTelephoneEvent)?;
        let ts = l.ts_at(now);
        let f = l
            .fmt
            .filter(|f| f.dtmf_pt.is_some())
            .ok_or(DigitError::NoTelephoneEvent)?;
        let tx = l.dtmf_tx.get_or_insert_with(|| {
            Box::new(DtmfSender::new(DtmfSenderConfig {
                clock_rate: f.dtmf_clock,
                ..DtmfSenderConfig::default()
            }))
        });
        tx.send(now, ts, ev, duration)
            .map_err(|_| DigitError::QueueFull)?;
        self.flush_dtmf(now, id.idx(), sink);
        Ok(())
    }

    fn flush_dtmf(&mut self, now: Instant, i: usize, sink: &mut dyn Sink) {
        let l = &mut self.legs[i];
        if l.dtmf_tx.is_none() {
            return;
        }
        let mut out = [0u8; BUF];
        let Some(pt) = l.fmt.and_then(|f| f.dtmf_pt) else {
            return;
        };
        while let Some(p) = l.dtmf_tx.as_deref_mut().and_then(DtmfSender::poll_transmit) {
            let seq = l.next_seq;
            l.next_seq = seq.wrapping_add(1);
            if let Ok(n) = RtpPacketBuilder::new(pt, seq, p.timestamp, l.ssrc)
                .marker(p.marker)
                .emit(&p.payload, &mut out[..])
            {
                l.send_rtp(now, &mut out[..], n, sink);
            }
        }
    }

    /// The next time [`Self::handle_timeout`] must run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.ended {
            return None;
        }
        let mut t = self.next_tick;
        let mut min = |x: Option<Instant>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t| t.min(x)));
            }
        };
        for l in &self.legs {
            if let Transport::WebRtc(w) = &l.t {
                min(w.ice.poll_timeout());
            }
            min(l.dtmf_rx.as_deref().and_then(DtmfReceiver::poll_timeout));
            min(l.dtmf_tx.as_deref().and_then(DtmfSender::poll_timeout));
            min(Some(l.next_rtcp));
        }
        t
    }

    fn drain_ice(&mut self, i: usize, sink: &mut dyn Sink) {
        let id = LegId::from_idx(i);
        let mut end = false;
        let local = self.legs[i].local;
        if let Transport::WebRtc(w) = &mut self.legs[i].t {
            while let Some(t) = w.ice.poll_transmit() {
                sink.send(t.source, t.destination, &t.contents);
            }
            while let Some(e) = w.ice.poll_event() {
                match e {
                    IceEvent::Connected { remote, .. }
                    | IceEvent::SelectedPairChanged { remote, .. } => {
                        self.events
                            .push_back(MediaEvent::IceConnected { leg: id, remote });
                        while let Some(r) = w.dtls_out.pop_front() {
                            sink.send(local, remote, &r);
                        }
                        // Not used again once ICE has an address: free the queue.
                        w.dtls_out = VecDeque::new();
                    }
                    IceEvent::ConsentLost { .. } | IceEvent::Failed => end = true,
                    _ => {}
                }
            }
        }
        if end {
            self.end(id, EndReason::ConsentLost);
        }
    }

    /// Feeds the datagram `buf[..len]` received on leg `id`'s socket `local` from `from`.
    /// `buf` is used in place and must have room for the SRTP tag after `len` (pass the
    /// whole receive buffer).
    #[allow(clippy::too_many_arguments)]
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        id: LegId,
        local: SocketAddr,
        from: SocketAddr,
        buf: &mut [u8],
        len: usize,
        sink: &mut dyn Sink,
    ) {
        let i = id.idx();
        if self.ended || i >= self.legs.len() || len > buf.len() {
            return;
        }
        let kind = classify(&buf[..len]);
        let l = &mut self.legs[i];
        match &mut l.t {
            Transport::WebRtc(w) => {
                if kind == PacketKind::Stun {
                    let r = Receive {
                        source: from,
                        destination: local,
                        contents: &buf[..len],
                    };
                    let _ = w.ice.handle_receive(now, r);
                    self.drain_ice(i, sink);
                    return;
                }
                if !w.ice.is_validated(local, from) {
                    l.st.dropped_unvalidated += 1;
                    return;
                }
                match kind {
                    PacketKind::Dtls if w.dtls_in.len() < MAX_DTLS_QUEUE => {
                        w.dtls_in.push_back(buf[..len].to_vec());
                    }
                    PacketKind::Rtp | PacketKind::Rtcp => {
                        let r = match (&mut w.srtp_in, kind) {
                            (None, _) => return,
                            (Some(c), PacketKind::Rtp) => c.unprotect_rtp(&mut buf[..len]),
                            (Some(c), _) => c.unprotect_rtcp(&mut buf[..len]),
                        };
                        match r {
                            Ok(n) if kind == PacketKind::Rtp => self.on_rtp(now, i, buf, n, sink),
                            Ok(n) => self.on_rtcp(now, i, &buf[..n]),
                            Err(srtp::Error::ReplayedPacket) => l.st.srtp_replays += 1,
                            Err(_) => l.st.srtp_failures += 1,
                        }
                    }
                    _ => {}
                }
            }
            Transport::Plain(p) => {
                let Some(r) = p.remote else {
                    l.st.dropped_unvalidated += 1;
                    return;
                };
                let on_rtcp_socket = l.local_rtcp == Some(local);
                let ok = if r.latch {
                    let slot = if on_rtcp_socket {
                        &mut p.latched_rtcp
                    } else {
                        &mut p.latched
                    };
                    match *slot {
                        Some(a) => a == from,
                        None if from.ip() == r.addr.ip() => {
                            *slot = Some(from);
                            true
                        }
                        None => false,
                    }
                } else if on_rtcp_socket {
                    let d = r.rtcp.unwrap_or_else(|| {
                        SocketAddr::new(r.addr.ip(), r.addr.port().wrapping_add(1))
                    });
                    from == d
                } else {
                    from == r.addr
                };
                if !ok {
                    l.st.dropped_unvalidated += 1;
                    return;
                }
                match (on_rtcp_socket, kind) {
                    (true, _) | (false, PacketKind::Rtcp) => self.on_rtcp(now, i, &buf[..len]),
                    (false, PacketKind::Rtp) => self.on_rtp(now, i, buf, len, sink),
                    _ => {}
                }
            }
        }
    }

    fn ntp_now(&self, now: Instant) -> u64 {
        ntp_from_unix_micros(self.unix_at_zero.saturating_add(now.as_micros()))
    }

    fn on_rtcp(&mut self, now: Instant, i: usize, data: &[u8]) {
        let ntp = self.ntp_now(now);
        let l = &mut self.legs[i];
        let Ok(c) = Compound::new_checked(data, true) else {
            return;
        };
        l.st.rtcp_in += 1;
        for p in c.iter() {
            let blocks = match p.parse() {
                Ok(RtcpKind::SenderReport(sr)) => {
                    if let Some(rx) = l.rx.as_mut().filter(|r| r.ssrc() == sr.ssrc()) {
                        rx.handle_sender_report(now, sr.sender_info().ntp_timestamp);
                    }
                    Some(sr.report_blocks())
                }
                Ok(RtcpKind::ReceiverReport(rr)) => Some(rr.report_blocks()),
                _ => None,
            };
            for b in blocks.into_iter().flatten() {
                if b.ssrc == l.ssrc
                    && let Some(rtt) = rtt_from_report_block(ntp, &b)
                {
                    l.st.rtt_ms = Some(rtt.as_secs_f64() * 1000.0);
                }
            }
        }
    }

    fn on_rtp(&mut self, now: Instant, i: usize, buf: &mut [u8], n: usize, sink: &mut dyn Sink) {
        let Ok(p) = RtpPacket::new_checked(&buf[..n]) else {
            return;
        };
        let (pt, seq, ts, ssrc, marker) = (
            p.payload_type(),
            p.sequence_number(),
            p.timestamp(),
            p.ssrc(),
            p.marker(),
        );
        let plen = p.payload().len();
        let hdr = p.header_len();
        let l = &mut self.legs[i];
        let Some(fmt) = l.fmt else { return };
        let clock = fmt.codec.clock_rate();
        l.st.packets_in += 1;
        l.st.bytes_in += plen as u64;
        // Statistics cover the whole source, audio and telephone-event alike.
        match l.rx.as_mut() {
            Some(rx) if rx.ssrc() == ssrc => {
                rx.handle_packet(now, seq, ts, plen);
            }
            _ => l.rx = Some(ReceiverStats::new_validated(ssrc, clock, seq)),
        }
        if Some(pt) == fmt.dtmf_pt {
            let rx = l
                .dtmf_rx
                .get_or_insert_with(|| Box::new(DtmfReceiver::new(DTMF_END_TIMEOUT)));
            let _ = rx.handle_packet(now, ts, p.payload());
            self.drain_dtmf_rx(i, fmt.dtmf_clock);
            self.relay_dtmf(now, i, buf, n, fmt.dtmf_clock, sink);
            return;
        }
        if pt != fmt.pt {
            return;
        }
        match self.joiner {
            Joiner::Passthrough => self.passthrough(now, i, buf, n, sink),
            Joiner::Transcode(_) | Joiner::Echo => {
                if let (Some(jb), Some(payload)) = (l.jb.as_mut(), buf.get(hdr..hdr + plen)) {
                    jb.insert(now, ssrc, seq, ts, marker, payload);
                }
                if self.next_tick.is_none() {
                    self.next_tick = Some(now + FRAME);
                }
            }
            _ => {}
        }
    }

    fn drain_dtmf_rx(&mut self, i: usize, dtmf_clock: u32) {
        while let Some(e) = self.legs[i]
            .dtmf_rx
            .as_deref_mut()
            .and_then(DtmfReceiver::poll_event)
        {
            if let DtmfEvent::End {
                event, duration, ..
            } = e
                && let Some(digit) = event_to_char(event)
            {
                let micros = duration.saturating_mul(1_000_000) / u64::from(dtmf_clock.max(1));
                self.events.push_back(MediaEvent::Digit {
                    leg: LegId::from_idx(i),
                    digit,
                    duration: Duration::from_micros(micros),
                });
            }
        }
    }

    /// Relays an RFC 4733 packet to the other leg: PT, SSRC, sequence number, timestamp
    /// (through the audio anchor, scaled between clocks) and duration (scaled) rewritten.
    fn relay_dtmf(
        &mut self,
        now: Instant,
        i: usize,
        buf: &mut [u8],
        n: usize,
        in_clock: u32,
        sink: &mut dyn Sink,
    ) {
        if !matches!(self.peer, Peer::Bridge) || self.legs.len() < 2 {
            return;
        }
        let o = 1 - i;
        let Some((out_pt, out_clock)) = self.legs[o]
            .fmt
            .and_then(|f| f.dtmf_pt.map(|p| (p, f.dtmf_clock)))
        else {
            return;
        };
        let Ok(mut p) = RtpPacket::new_checked(&mut buf[..n]) else {
            return;
        };
        let Ok(mut ev) = TelephoneEvent::decode(p.payload()) else {
            return;
        };
        let scale = |v: i64| v * i64::from(out_clock) / i64::from(in_clock.max(1));
        let ol = &mut self.legs[o];
        let in_ts = p.timestamp();
        let out_ts = match ol.anchor {
            Some((ai, ao)) => {
                ao.wrapping_add(scale(i64::from(in_ts.wrapping_sub(ai) as i32)) as u32)
            }
            None => {
                let t = ol.ts_at(now);
                ol.anchor = Some((in_ts, t));
                t
            }
        };
        ev.duration = scale(i64::from(ev.duration)).clamp(0, 0xFFFF) as u16;
        let seq = ol.next_seq;
        ol.next_seq = seq.wrapping_add(1);
        p.set_payload_type(out_pt);
        p.set_sequence_number(seq);
        p.set_timestamp(out_ts);
        p.set_ssrc(ol.ssrc);
        let enc = ev.encode();
        let pl = p.payload_mut();
        if pl.len() >= 4 {
            pl[..4].copy_from_slice(&enc);
        }
        if ol.ready() {
            ol.send_rtp(now, buf, n, sink);
            self.counters.dtmf_relayed += 1;
        }
    }

    fn passthrough(
        &mut self,
        now: Instant,
        i: usize,
        buf: &mut [u8],
        n: usize,
        sink: &mut dyn Sink,
    ) {
        if self.legs.len() < 2 {
            return;
        }
        let o = 1 - i;
        let Some(out_pt) = self.legs[o].fmt.map(|f| f.pt) else {
            return;
        };
        let ol = &mut self.legs[o];
        if !ol.ready() {
            return;
        }
        let Ok(mut p) = RtpPacket::new_checked(&mut buf[..n]) else {
            return;
        };
        let (seq, ts, ssrc) = (p.sequence_number(), p.timestamp(), p.ssrc());
        let r = match ol.relay {
            Some(r) if r.in_ssrc == ssrc => r,
            _ => {
                let r = Relay {
                    in_ssrc: ssrc,
                    seq_delta: ol.next_seq.wrapping_sub(seq),
                    ts_delta: ol.ts_at(now).wrapping_sub(ts),
                };
                ol.relay = Some(r);
                r
            }
        };
        let (oseq, ots) = (seq.wrapping_add(r.seq_delta), ts.wrapping_add(r.ts_delta));
        if (oseq.wrapping_sub(ol.next_seq) as i16) >= 0 {
            ol.next_seq = oseq.wrapping_add(1);
        }
        ol.anchor = Some((ts, ots));
        ol.last_out = Some((now, ots));
        p.set_payload_type(out_pt);
        p.set_sequence_number(oseq);
        p.set_timestamp(ots);
        p.set_ssrc(ol.ssrc);
        ol.send_rtp(now, buf, n, sink);
        self.counters.passthrough_packets += 1;
    }

    /// Advances timers: ICE consent, DTMF, RTCP, and the 20 ms playout of the transcoder
    /// and the test extensions.
    pub fn handle_timeout(&mut self, now: Instant, sink: &mut dyn Sink) {
        if self.ended {
            return;
        }
        for i in 0..self.legs.len() {
            if let Transport::WebRtc(w) = &mut self.legs[i].t {
                w.ice.handle_timeout(now);
            }
            self.drain_ice(i, sink);
            let l = &mut self.legs[i];
            if let Some(rx) = l.dtmf_rx.as_deref_mut() {
                rx.handle_timeout(now);
            }
            let dclock = l.fmt.map_or(8000, |f| f.dtmf_clock);
            self.drain_dtmf_rx(i, dclock);
            if let Some(tx) = self.legs[i].dtmf_tx.as_mut() {
                tx.handle_timeout(now);
            }
            self.flush_dtmf(now, i, sink);
            if now >= self.legs[i].next_rtcp {
                self.send_rtcp(now, i, sink);
            }
        }
        if matches!(self.peer, Peer::Tone(_)) && self.next_tick.is_none() && self.legs[0].ready() {
            self.next_tick = Some(now);
        }
        if let Some(t) = self.next_tick
            && now >= t
        {
            // Catch up at most a few frames after a stall, then resynchronise.
            let mut t = t;
            for _ in 0..4 {
                if now < t {
                    break;
                }
                self.tick(t, sink);
                t += FRAME;
            }
            self.next_tick = Some(if now >= t { now + FRAME } else { t });
        }
    }

    fn send_rtcp(&mut self, now: Instant, i: usize, sink: &mut dyn Sink) {
        let ntp = self.ntp_now(now);
        let l = &mut self.legs[i];
        l.next_rtcp = now + RTCP_INTERVAL;
        let Some((from, to)) = l.rtcp_target() else {
            return;
        };
        if let Transport::WebRtc(w) = &l.t
            && w.srtp_out.is_none()
        {
            return;
        }
        let block = l.rx.as_mut().map(|r| r.report_block(now));
        let blocks = block.as_slice();
        let mut buf = [0u8; 512];
        let mut w = RtcpWriter::new(&mut buf[..400]);
        let ok = if l.tx.has_sent() {
            let info = l.tx.sender_info(now, ntp, l.clock());
            w.sender_report(l.ssrc, &info, blocks).is_ok()
        } else {
            w.receiver_report(l.ssrc, blocks).is_ok()
        };
        if !ok || w.sdes_cname(l.ssrc, &self.cname).is_err() {
            return;
        }
        let len = w.finish();
        let n = match &mut l.t {
            Transport::WebRtc(w) => {
                match w.srtp_out.as_mut().map(|c| c.protect_rtcp(&mut buf, len)) {
                    Some(Ok(n)) => n,
                    _ => return,
                }
            }
            Transport::Plain(_) => len,
        };
        l.st.rtcp_out += 1;
        sink.send(from, to, &buf[..n]);
    }

    /// One 20 ms frame of playout.
    fn tick(&mut self, now: Instant, sink: &mut dyn Sink) {
        let MediaSession {
            legs,
            joiner,
            counters,
            ..
        } = self;
        // Per-frame scratch on the stack (no per-call heap for it).
        let mut out = [0u8; BUF];
        let mut pcm = [0i16; FRAME_PCM];
        let mut pcm2 = [0i16; FRAME_PCM + 64];
        match joiner {
            Joiner::Transcode(dirs) => {
                for (i, d) in dirs.iter_mut().enumerate() {
                    let o = 1 - i;
                    let (in_frame_ts, in_pt) = match legs[i].fmt {
                        Some(f) => (f.codec.frame_ts(), f.pt),
                        None => continue,
                    };
                    let _ = in_pt;
                    let Some(jb) = legs[i].jb.as_mut() else {
                        continue;
                    };
                    let pcm = &mut pcm[..d.samples];
                    let in_ts = match jb.pop(now) {
                        Pop::Frame(f) => {
                            d.dec.decode(Some(f.payload), pcm);
                            f.timestamp
                        }
                        Pop::Missing => {
                            d.dec.decode(None, pcm);
                            d.in_ts.unwrap_or(0)
                        }
                        Pop::NotReady => {
                            legs[o].marker_next = true;
                            continue;
                        }
                    };
                    d.in_ts = Some(in_ts.wrapping_add(in_frame_ts));
                    let ol = &mut legs[o];
                    let Some(f) = ol.fmt else { continue };
                    if !ol.ready() || ol.dtmf_tx.as_deref().is_some_and(DtmfSender::is_active) {
                        continue;
                    }
                    let hdr = 12;
                    let src = match d.resampler.as_mut() {
                        Some(r) => {
                            let n = r.process(pcm, &mut pcm2[..]).unwrap_or(0);
                            &pcm2[..n]
                        }
                        None => &pcm[..],
                    };
                    let plen = d.enc.encode(src, &mut out[hdr..BUF - 32]);
                    counters.transcoded_frames += 1;
                    if plen == 0 {
                        continue;
                    }
                    let ts = ol.next_ts;
                    ol.next_ts = ts.wrapping_add(f.codec.frame_ts());
                    let seq = ol.next_seq;
                    ol.next_seq = seq.wrapping_add(1);
                    let _ = RtpPacketBuilder::new(f.pt, seq, ts, ol.ssrc)
                        .marker(ol.marker_next)
                        .emit_header(&mut out[..hdr]);
                    ol.marker_next = false;
                    ol.anchor = Some((in_ts, ts));
                    ol.last_out = Some((now, ts));
                    ol.send_rtp(now, &mut out[..], hdr + plen, sink);
                }
            }
            Joiner::Echo => {
                let l = &mut legs[0];
                let Some(f) = l.fmt else { return };
                let Some(jb) = l.jb.as_mut() else { return };
                let n = match jb.pop(now) {
                    Pop::Frame(fr) => {
                        let k = fr.payload.len().min(BUF - 64);
                        out[12..12 + k].copy_from_slice(&fr.payload[..k]);
                        k
                    }
                    _ => return,
                };
                let ts = l.next_ts;
                l.next_ts = ts.wrapping_add(f.codec.frame_ts());
                let seq = l.next_seq;
                l.next_seq = seq.wrapping_add(1);
                let _ = RtpPacketBuilder::new(f.pt, seq, ts, l.ssrc).emit_header(&mut out[..12]);
                l.last_out = Some((now, ts));
                l.send_rtp(now, &mut out[..], 12 + n, sink);
            }
            Joiner::Tone(t) => {
                let l = &mut legs[0];
                let Some(f) = l.fmt else { return };
                if !l.ready() {
                    return;
                }
                let (g, enc, samples) = &mut **t;
                let pcm = &mut pcm[..*samples];
                g.fill(pcm);
                let plen = enc.encode(pcm, &mut out[12..BUF - 32]);
                let ts = l.next_ts;
                l.next_ts = ts.wrapping_add(f.codec.frame_ts());
                let seq = l.next_seq;
                l.next_seq = seq.wrapping_add(1);
                let _ = RtpPacketBuilder::new(f.pt, seq, ts, l.ssrc).emit_header(&mut out[..12]);
                l.last_out = Some((now, ts));
                l.send_rtp(now, &mut out[..], 12 + plen, sink);
            }
            Joiner::Pending | Joiner::Passthrough => {}
        }
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
