// The browser side of the interop tests: one rvoip UserAgent (the npm package's dist/,
// loaded as a plain ES module) behind a small promise API on `window.interop` that the
// Node driver (kamailio.mjs) calls through Playwright or Puppeteer `page.evaluate`. The
// page shows its state (registration, call, RTP counters, SRTP cipher) for screenshots,
// and records every SIP message on the WebSocket for the driver's assertions.

import { UserAgent } from '/wasm/dist/index.js';

const $ = (id) => document.getElementById(id);
const status = {};
const sip = []; // { dir: '>' | '<', text }

function render() {
  $('status').replaceChildren(
    ...Object.entries(status).map(([k, v]) => {
      const tr = document.createElement('tr');
      for (const s of [k, String(v)]) tr.appendChild(document.createElement('td')).textContent = s;
      return tr;
    }),
  );
  $('log').textContent = sip
    .slice(-14)
    .map((m) => `${m.dir} ${m.text.split('\r\n', 1)[0]}`)
    .join('\n');
}
const set = (k, v) => {
  status[k] = v;
  render();
};

/** A WebSocket that records the SIP messages it carries. */
class RecordingWebSocket extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols);
    this.addEventListener('message', (e) => {
      if (typeof e.data === 'string' && e.data.trim()) sip.push({ dir: '<', text: e.data });
      render();
    });
  }
  send(data) {
    if (typeof data === 'string' && data.trim()) sip.push({ dir: '>', text: data });
    super.send(data);
    render();
  }
}

const timeout = (ms, what) =>
  new Promise((_, reject) => setTimeout(() => reject(new Error(`timeout (${ms} ms) waiting for ${what}`)), ms));
const errors = [];
window.addEventListener('error', (e) => errors.push(String(e.error?.stack ?? e.message)));
window.addEventListener('unhandledrejection', (e) => errors.push(String(e.reason?.stack ?? e.reason)));

let ua;
let call;
let incoming;
const ended = [];

function track(c) {
  call = c;
  set('call', c.state);
  // Played out as an application would (Chromium computes audio levels at playout).
  const audio = document.getElementById('remote');
  audio.srcObject = c.remoteStream;
  audio.play().catch((e) => set('playout', String(e)));
  c.addEventListener('statechange', (e) => {
    set('call', e.state + (e.reason ? ` (${e.reason})` : ''));
    if (e.state === 'ended') ended.push(e.reason);
  });
}

window.interop = {
  /** Starts the UA on `ws` and registers; resolves with the registration state. */
  async register({ ws, uri, password, name }) {
    $('title').textContent = `${name} — ${navigator.userAgent.match(/(Firefox|Chrome)\/[\d.]+/)?.[0] ?? 'browser'}`;
    set('uri', uri);
    set('server', ws);
    ua = new UserAgent({
      servers: [ws],
      uri,
      password,
      displayName: name,
      iceGatheringTimeout: 1500,
      WebSocket: RecordingWebSocket,
    });
    ua.addEventListener('transportstatechange', (e) => set('transport', e.state));
    ua.addEventListener('registrationstatechange', (e) => set('registration', e.state));
    ua.addEventListener('incomingcall', (e) => {
      incoming = e.call;
      track(e.call);
      set('from', e.call.remoteIdentity);
    });
    await Promise.race([ua.register(), timeout(10000, 'registration')]);
    return ua.registrationState;
  },
  /** Tries to register with a separate UA (e.g. a wrong password); resolves with how it went. */
  async tryRegister({ ws, uri, password }) {
    const other = new UserAgent({ servers: [ws], uri, password, WebSocket: RecordingWebSocket });
    try {
      await Promise.race([other.register(), timeout(10000, 'registration')]);
      return other.registrationState;
    } catch (e) {
      return `${other.registrationState}: ${e?.code ?? e?.message ?? e}`;
    } finally {
      await other.stop();
    }
  },
  /** Calls `target`; resolves once established. */
  async call(target) {
    const c = await ua.call(target, { audio: true });
    track(c);
    await Promise.race([
      new Promise((resolve, reject) =>
        c.addEventListener('statechange', (e) => {
          if (e.state === 'established') resolve();
          if (e.state === 'ended') reject(new Error(`call ended: ${e.reason} ${e.code ?? ''}`));
        }),
      ),
      timeout(20000, 'the call to be established'),
    ]);
    return c.state;
  },
  /** Calls `target`; resolves with how the call went: `established` or `<reason> <code>`. */
  async callOutcome(target) {
    const c = await ua.call(target, { audio: true });
    track(c);
    return Promise.race([
      new Promise((resolve) =>
        c.addEventListener('statechange', (e) => {
          if (e.state === 'established') resolve('established');
          if (e.state === 'ended') resolve(`${e.reason} ${e.code ?? ''}`.trim());
        }),
      ),
      timeout(20000, 'the outcome of the call'),
    ]);
  },
  /** Declines the incoming call with `code`. */
  reject(code) {
    incoming.reject(code);
  },
  /** Waits for an incoming call; resolves with the caller's identity. */
  async waitIncoming(ms = 15000) {
    const t0 = performance.now();
    while (!incoming) {
      if (performance.now() - t0 > ms) throw new Error('no incoming call');
      await new Promise((r) => setTimeout(r, 50));
    }
    return incoming.remoteIdentity;
  },
  /** Answers the incoming call; resolves once established (after the ACK). */
  async answer() {
    await incoming.answer({ audio: true });
    const t0 = performance.now();
    while (incoming.state !== 'established') {
      if (incoming.state === 'ended' || performance.now() - t0 > 15000) throw new Error('not established: ' + incoming.state);
      await new Promise((r) => setTimeout(r, 50));
    }
    return incoming.state;
  },
  /** RTP counters and the negotiated codec/ciphers from RTCPeerConnection.getStats(). */
  async stats() {
    const out = { inboundPackets: 0, outboundPackets: 0, audioEnergy: 0, codec: '', srtpCipher: '', dtlsCipher: '', iceState: call?.pc?.iceConnectionState };
    if (!call?.pc) return out;
    const report = await call.pc.getStats();
    const byId = new Map([...report.values()].map((s) => [s.id, s]));
    for (const s of report.values()) {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        out.inboundPackets += s.packetsReceived ?? 0;
        out.audioEnergy += s.totalAudioEnergy ?? 0;
        out.codec = byId.get(s.codecId)?.mimeType ?? out.codec;
      }
      if (s.type === 'outbound-rtp' && s.kind === 'audio') out.outboundPackets += s.packetsSent ?? 0;
      if (s.type === 'transport') {
        out.srtpCipher = s.srtpCipher ?? out.srtpCipher;
        out.dtlsCipher = s.dtlsCipher ?? out.dtlsCipher;
      }
    }
    set('inbound-rtp packets', out.inboundPackets);
    set('outbound-rtp packets', out.outboundPackets);
    set('decoded audio energy', out.audioEnergy.toFixed(4));
    set('codec', out.codec);
    set('SRTP', out.srtpCipher || '(not exposed)');
    return out;
  },
  /** Hangs up. */
  hangup() {
    call.hangup();
  },
  /** Waits until the call ended; resolves with the reason. */
  async waitEnded(ms = 10000) {
    const t0 = performance.now();
    while (!ended.length) {
      if (performance.now() - t0 > ms) throw new Error('call did not end: ' + call?.state);
      await new Promise((r) => setTimeout(r, 50));
    }
    return ended[0];
  },
  /** Unregisters and closes the socket. */
  async stop() {
    await ua?.stop();
    return ua?.registrationState;
  },
  /** Forgets the SIP messages so far. */
  clearLog() {
    sip.length = 0;
    render();
  },
  /** The SIP messages so far, as text, and any uncaught page errors. */
  log() {
    return { sip, errors };
  },
};
window.interopReady = true;
render();
