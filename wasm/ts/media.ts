// WebRTC helpers: ICE gathering with a deadline and the call-quality statistics.

/**
 * Resolves when ICE gathering of `pc` completes, or after `timeoutMs` — whichever comes
 * first — so that a call never waits for slow STUN/TURN servers (browsers can take 10 s+).
 * The SDP then carries the candidates gathered so far.
 */
export function iceGathered(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', onState);
      pc.removeEventListener('icecandidate', onCandidate);
      resolve();
    };
    const onState = (): void => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const onCandidate = (e: RTCPeerConnectionIceEvent): void => {
      if (!e.candidate) done();
    };
    const timer = setTimeout(done, Math.max(0, timeoutMs));
    pc.addEventListener('icegatheringstatechange', onState);
    pc.addEventListener('icecandidate', onCandidate);
  });
}

/** Quality figures of a call (audio), from `RTCPeerConnection.getStats()`. */
export interface CallStats {
  /** Interarrival jitter of received audio, ms. */
  jitter: number;
  /** Packet loss of received audio since the previous `stats()` call, percent. */
  packetLoss: number;
  /** Round-trip time, ms (RTCP or ICE); 0 when not known yet. */
  rtt: number;
  /** Mean opinion score (1–4.5) from a simplified ITU-T G.107 E-model. */
  mos: number;
  /** Negotiated audio codec (`opus`, `PCMU`…). */
  codec: string;
  packetsReceived: number;
  packetsLost: number;
  bytesReceived: number;
  bytesSent: number;
  /** `performance.now()` of the sample. */
  timestamp: number;
}

/** Running totals used to compute loss over an interval. */
export interface StatsCursor {
  lost: number;
  received: number;
}

/** Reads the audio statistics of `pc`; `cursor` keeps the previous totals. */
export async function readStats(pc: RTCPeerConnection, cursor: StatsCursor): Promise<CallStats> {
  const report = await pc.getStats();
  let jitter = 0;
  let lost = 0;
  let received = 0;
  let bytesReceived = 0;
  let bytesSent = 0;
  let rtt = -1;
  let pairRtt = -1;
  let codecId = '';
  report.forEach((s: any) => {
    if (s.kind !== undefined && s.kind !== 'audio') return;
    switch (s.type) {
      case 'inbound-rtp':
        jitter = (s.jitter ?? 0) * 1000;
        lost = s.packetsLost ?? 0;
        received = s.packetsReceived ?? 0;
        bytesReceived = s.bytesReceived ?? 0;
        codecId = s.codecId ?? codecId;
        break;
      case 'outbound-rtp':
        bytesSent = s.bytesSent ?? 0;
        codecId = codecId || s.codecId || '';
        break;
      case 'remote-inbound-rtp':
        if (typeof s.roundTripTime === 'number') rtt = s.roundTripTime * 1000;
        break;
      case 'candidate-pair':
        if (s.nominated && s.state === 'succeeded' && typeof s.currentRoundTripTime === 'number')
          pairRtt = s.currentRoundTripTime * 1000;
        break;
    }
  });
  if (rtt < 0) rtt = Math.max(pairRtt, 0);
  const codec: string = (report.get(codecId) as any)?.mimeType?.split('/')[1] ?? '';
  const dLost = Math.max(0, lost - cursor.lost);
  const dRecv = Math.max(0, received - cursor.received);
  cursor.lost = lost;
  cursor.received = received;
  const packetLoss = dLost + dRecv > 0 ? (100 * dLost) / (dLost + dRecv) : 0;
  return {
    jitter,
    packetLoss,
    rtt,
    mos: mos(rtt, jitter, packetLoss, codec),
    codec,
    packetsReceived: received,
    packetsLost: lost,
    bytesReceived,
    bytesSent,
    timestamp: performance.now(),
  };
}

/** @internal Whether an SDP offers RFC 4733 `telephone-event` (then DTMF goes in RTP, else INFO). */
export const hasTelephoneEvent = (sdp: string): boolean => /^a=rtpmap:[^ \r\n]* telephone-event\//im.test(sdp);

/** Waits `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * MOS (1–4.5) of a simplified ITU-T G.107 E-model for round-trip time and jitter in ms, loss
 * in percent and a codec name (`opus`, `PCMU`…).
 */
export function mos(rtt: number, jitter: number, lossPercent: number, codec: string): number {
  // Cole & Rosenbluth (2001) with the G.113 Appendix I factors: one-way delay d = RTT/2 + a
  // jitter buffer of 2 × jitter + frame and look-ahead (Opus 20 + 6.5 ms, else G.711's 20
  // ms); Id = 0.024·d + 0.11·(d − 177.3) past 177.3 ms; Ie,eff = 95·Ppl / (Ppl + Bpl)
  // (Ie 0; Bpl 30 for Opus, 25.1 for G.711 with PLC, also for unknown codecs); R = 93.2 −
  // Id − Ie,eff; MOS by G.107 Annex B. Negative or non-finite inputs count as 0.
  const clean = (v: number): number => (v > 0 && v < Infinity ? v : 0);
  const opus = codec.toLowerCase() === 'opus';
  const d = clean(rtt) / 2 + 2 * clean(jitter) + (opus ? 26.5 : 20);
  const ppl = Math.min(clean(lossPercent), 100);
  const r = 93.2 - 0.024 * d - (d > 177.3 ? 0.11 * (d - 177.3) : 0) - (95 * ppl) / (ppl + (opus ? 30 : 25.1));
  return r >= 100 ? 4.5 : r > 0 ? Math.min(Math.max(1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r), 1), 4.5) : 1;
}
