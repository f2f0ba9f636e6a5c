//! One leg of a media session: its transport (WebRTC: ICE-lite agent, SRTP contexts, DTLS
//! record queues; plain RTP: signalled and latched addresses), its outgoing stream
//! (SSRC, sequence number, timestamp), statistics and DTMF machines.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use rvoip_core::ice::IceLiteAgent;
use rvoip_core::rand::Rng;
use rvoip_core::rtp::{
    DtmfReceiver, DtmfSender, EModel, JitterBuffer, ReceiverStats, RtpPacket, SenderStats,
};
use rvoip_core::srtp::Context;
use rvoip_core::time::Instant;

use super::codec::Codec;
use super::types::{LegSpec, LegStats, MediaFormat, RtpRemote, Sink};

pub(super) struct WebRtc {
    pub(super) ice: Box<IceLiteAgent>,
    pub(super) srtp_in: Option<Box<Context>>,
    pub(super) srtp_out: Option<Box<Context>>,
    pub(super) dtls_in: VecDeque<Vec<u8>>,
    pub(super) dtls_out: VecDeque<Vec<u8>>,
}

pub(super) struct Plain {
    pub(super) remote: Option<RtpRemote>,
    pub(super) latched: Option<SocketAddr>,
    pub(super) latched_rtcp: Option<SocketAddr>,
}

pub(super) enum Transport {
    WebRtc(WebRtc),
    Plain(Plain),
}

/// Mapping of a relayed stream onto the leg's outgoing stream.
#[derive(Clone, Copy)]
pub(super) struct Relay {
    pub(super) in_ssrc: u32,
    pub(super) seq_delta: u16,
    pub(super) ts_delta: u32,
}

pub(super) struct Leg {
    pub(super) local: SocketAddr,
    pub(super) local_rtcp: Option<SocketAddr>,
    pub(super) t: Transport,
    pub(super) fmt: Option<MediaFormat>,
    pub(super) ssrc: u32,
    pub(super) next_seq: u16,
    pub(super) next_ts: u32,
    /// (time, RTP timestamp) of the last audio packet sent.
    pub(super) last_out: Option<(Instant, u32)>,
    pub(super) rx: Option<ReceiverStats>,
    pub(super) tx: SenderStats,
    pub(super) st: LegStats,
    /// RFC 4733 receiver, made on the first telephone-event packet (most calls get none).
    pub(super) dtmf_rx: Option<Box<DtmfReceiver>>,
    /// RFC 4733 sender, made on the first digit sent (most calls send none).
    pub(super) dtmf_tx: Option<Box<DtmfSender>>,
    /// Playout buffer of what this leg receives (transcoding, echo).
    pub(super) jb: Option<Box<JitterBuffer>>,
    pub(super) relay: Option<Relay>,
    pub(super) next_rtcp: Instant,
    /// (input RTP ts, output RTP ts) of the last audio frame relayed *to* this leg, for
    /// translating DTMF timestamps.
    pub(super) anchor: Option<(u32, u32)>,
    pub(super) marker_next: bool,
    /// Held in our sending direction (SDP `recvonly`/`inactive`): no RTP goes out.
    pub(super) muted: bool,
}

impl Leg {
    pub(super) fn new(spec: LegSpec, rng: &mut dyn Rng) -> Leg {
        let (local, local_rtcp, t) = match spec {
            LegSpec::WebRtc { local, ice } => (
                local,
                None,
                Transport::WebRtc(WebRtc {
                    ice,
                    srtp_in: None,
                    srtp_out: None,
                    dtls_in: VecDeque::new(),
                    dtls_out: VecDeque::new(),
                }),
            ),
            LegSpec::Rtp { local, local_rtcp } => (
                local,
                local_rtcp,
                Transport::Plain(Plain {
                    remote: None,
                    latched: None,
                    latched_rtcp: None,
                }),
            ),
        };
        Leg {
            local,
            local_rtcp,
            t,
            fmt: None,
            ssrc: rng.next_u64() as u32,
            next_seq: rng.next_u64() as u16 & 0x7FFF,
            next_ts: rng.next_u64() as u32,
            last_out: None,
            rx: None,
            tx: SenderStats::new(),
            st: LegStats::default(),
            dtmf_rx: None,
            dtmf_tx: None,
            jb: None,
            relay: None,
            next_rtcp: Instant::from_millis(1000),
            anchor: None,
            marker_next: true,
            muted: false,
        }
    }

    pub(super) fn clock(&self) -> u32 {
        self.fmt.map_or(8000, |f| f.codec.clock_rate())
    }

    /// Whether media can be sent now.
    pub(super) fn ready(&self) -> bool {
        self.fmt.is_some()
            && match &self.t {
                Transport::WebRtc(w) => w.srtp_out.is_some() && w.ice.may_send_to().is_some(),
                Transport::Plain(p) => p.remote.is_some(),
            }
    }

    /// Where RTP goes, if anywhere.
    pub(super) fn rtp_target(&self) -> Option<SocketAddr> {
        match &self.t {
            Transport::WebRtc(w) => w.ice.may_send_to(),
            Transport::Plain(p) => p.latched.or(p.remote.map(|r| r.addr)),
        }
    }

    /// (local socket, destination) for RTCP.
    pub(super) fn rtcp_target(&self) -> Option<(SocketAddr, SocketAddr)> {
        match &self.t {
            Transport::WebRtc(w) => w.ice.may_send_to().map(|d| (self.local, d)),
            Transport::Plain(p) => {
                let r = p.remote?;
                match (r.rtcp_mux, self.local_rtcp) {
                    (false, Some(l)) => {
                        let d = p.latched_rtcp.or(r.rtcp).unwrap_or_else(|| {
                            SocketAddr::new(r.addr.ip(), r.addr.port().wrapping_add(1))
                        });
                        Some((l, d))
                    }
                    _ => Some((self.local, p.latched.unwrap_or(r.addr))),
                }
            }
        }
    }

    /// Protects (WebRTC) and sends the RTP packet `buf[..len]`; counts it.
    pub(super) fn send_rtp(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        len: usize,
        sink: &mut dyn Sink,
    ) {
        if self.muted {
            return;
        }
        let Some(to) = self.rtp_target() else { return };
        let Ok(p) = RtpPacket::new_checked(&buf[..len]) else {
            return;
        };
        let (ts, plen) = (p.timestamp(), p.payload().len());
        let n = match &mut self.t {
            Transport::WebRtc(w) => match w.srtp_out.as_mut().map(|c| c.protect_rtp(buf, len)) {
                Some(Ok(n)) => n,
                _ => return,
            },
            Transport::Plain(_) => len,
        };
        self.tx.handle_sent(now, ts, plen);
        self.st.packets_out += 1;
        self.st.bytes_out += plen as u64;
        sink.send(self.local, to, &buf[..n]);
    }

    /// The RTP timestamp of the outgoing stream at `now` (extrapolated).
    pub(super) fn ts_at(&self, now: Instant) -> u32 {
        match self.last_out {
            Some((t, ts)) => {
                let d = now.saturating_duration_since(t);
                ts.wrapping_add((d.as_micros() * u128::from(self.clock()) / 1_000_000) as u32)
            }
            None => self.next_ts,
        }
    }

    pub(super) fn stats(&self) -> LegStats {
        let mut s = self.st;
        if let Some(rx) = &self.rx {
            s.lost = rx.cumulative_lost();
            s.jitter_ms = rx.jitter_duration().as_secs_f64() * 1000.0;
        }
        let codec = self.fmt.map_or(Codec::Pcmu, |f| f.codec);
        let expected = self.rx.as_ref().map_or(0, |r| r.expected());
        let loss = if expected > 0 {
            (s.lost.max(0) as f64 / expected as f64).min(1.0)
        } else {
            0.0
        };
        let one_way = Duration::from_secs_f64(s.rtt_ms.unwrap_or(0.0) / 2000.0);
        let jitter = Duration::from_secs_f64(s.jitter_ms / 1000.0);
        s.mos = EModel::new(codec.quality()).mos(one_way, jitter, loss);
        s
    }
}
