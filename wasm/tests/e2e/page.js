// End-to-end test of the npm package in Chromium: the public TypeScript API over the
// wasm core, real RTCPeerConnections (fake audio devices), a scripted SIP server behind a
// fake WebSocket. Run by run.mjs through WebDriver; returns a list of checks.

import { UserAgent, mos } from '../../dist/index.js';
import { SipServer, fakeWebSocket } from './sip-server.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const once = (target, type, pred = () => true, ms = 15000) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout waiting for ' + type)), ms);
    const h = (e) => {
      if (!pred(e)) return;
      clearTimeout(t);
      target.removeEventListener(type, h);
      resolve(e);
    };
    target.addEventListener(type, h);
  });

const pageErrors = [];
window.addEventListener('error', (e) => pageErrors.push(String(e.error?.stack ?? e.message)));
window.addEventListener('unhandledrejection', (e) => pageErrors.push(String(e.reason?.stack ?? e.reason)));

export async function runE2E() {
  const results = (window.e2eResults = []);
  const check = (name, ok, detail = '') => results.push({ name, ok: !!ok, detail: String(detail) });
  const step = async (name, f) => {
    window.e2eStep = name;
    let timer;
    try {
      await Promise.race([f(), new Promise((_, rej) => (timer = setTimeout(() => rej(new Error('step timed out')), 25000)))]);
    } catch (e) {
      check(name, false, e?.stack ?? e);
    } finally {
      clearTimeout(timer);
    }
  };
  const server = new SipServer();
  const ua = new UserAgent({
    servers: [{ url: 'wss://down.example/ws', weight: 0 }, 'wss://sip.example.com/ws'],
    uri: 'sip:alice@example.com',
    password: 'secret',
    displayName: 'Alice',
    iceGatheringTimeout: 500,
    WebSocket: fakeWebSocket(server),
  });
  const regStates = [];
  ua.addEventListener('registrationstatechange', (e) => regStates.push(e.state));

  await step('register', async () => {
    const t0 = performance.now();
    await ua.register();
    check('register: 401 challenge answered, registered', ua.registrationState === 'registered' && server.challenges === 1 && server.registrations === 1, regStates.join(','));
    check('register: weighted server choice (weight 0 last)', server.urls[0] === 'wss://sip.example.com/ws', server.urls.join(','));
    const reg = server.log.filter((m) => m.method === 'REGISTER').at(-1);
    check('register: digest MD5 credentials', /Digest .*response="[0-9a-f]{32}"/.test(reg.get('Authorization')), reg.get('Authorization'));
    check('register: RFC 7118 Via/Contact', /^SIP\/2.0\/WSS /.test(reg.get('Via')) && /transport=ws/.test(reg.get('Contact')), reg.get('Via'));
    check('register: time', performance.now() - t0 < 2000, performance.now() - t0);
  });

  let call;
  await step('outgoing call', async () => {
    const states = [];
    const t0 = performance.now();
    call = await ua.call('bob', { audio: true });
    call.addEventListener('statechange', (e) => states.push(e.state));
    const inv = await server.waitFor((m) => m.method === 'INVITE' && !m.code);
    check('call: INVITE within the ICE gathering timeout', performance.now() - t0 < 1500, Math.round(performance.now() - t0) + ' ms');
    check('call: INVITE to sip:bob@example.com with an SDP offer', inv.uri === 'sip:bob@example.com' && /m=audio/.test(inv.body), inv.uri);
    await once(call, 'statechange', (e) => e.state === 'established');
    check('call: ringing then established', states.join(',') === 'ringing,established', states.join(','));
    await server.waitFor((m) => m.method === 'ACK');
    check('call: ACK sent', true);
    check('call: remote track', call.remoteStream.getAudioTracks().length === 1, call.remoteStream.getAudioTracks().length);
  });

  await step('hold', async () => {
    await call.hold();
    check('hold: re-INVITE with a=sendonly answered', call.held && server.holdOffers === 1, server.holdOffers);
    await call.unhold();
    const last = server.log.filter((m) => m.method === 'INVITE' && !m.code).at(-1);
    check('unhold: re-INVITE with a=sendrecv', !call.held && /a=sendrecv/.test(last.body), '');
  });

  await step('mute', async () => {
    call.mute();
    const muted = call.localStream.getAudioTracks().every((t) => !t.enabled);
    call.unmute();
    check('mute/unmute toggles the track', muted && call.localStream.getAudioTracks()[0].enabled);
  });

  await step('dtmf', async () => {
    const before = server.infoDigits.length;
    await call.sendDtmf('12#', { duration: 80, gap: 50 });
    const viaRtp = server.infoDigits.length === before;
    check('DTMF: RFC 4733 via RTCDTMFSender (telephone-event negotiated), no INFO', viaRtp, 'INFO digits: ' + server.infoDigits);
  });

  await step('stats', async () => {
    await sleep(1500);
    const s = await call.stats();
    check('stats: jitter/loss/RTT/MOS present', [s.jitter, s.packetLoss, s.rtt, s.mos].every((x) => typeof x === 'number' && isFinite(x)) && s.mos >= 1 && s.mos <= 4.5, JSON.stringify(s));
    check('stats: MOS of a clean path > 4', mos(20, 2, 0, 'opus') > 4 && mos(400, 60, 15, 'pcmu') < 3);
  });

  await step('setInputDevice', async () => {
    const devices = await navigator.mediaDevices.enumerateDevices();
    const mic = devices.find((d) => d.kind === 'audioinput');
    const invites = server.log.filter((m) => m.method === 'INVITE').length;
    await call.setInputDevice(mic.deviceId);
    const sender = call.pc.getSenders().find((s) => s.track?.kind === 'audio');
    check('setInputDevice: track replaced, no renegotiation', sender.track === call.localStream.getAudioTracks()[0] && server.log.filter((m) => m.method === 'INVITE').length === invites);
  });

  await step('transfer', async () => {
    await call.transfer('carol');
    check('transfer: REFER to sip:carol@example.com, NOTIFY 200', /sip:carol@example.com/.test(server.referTo), server.referTo);
  });

  await step('transfer requested by the peer', async () => {
    const d = [...server.dialogs.values()].at(-1);
    const referred = once(call, 'referred');
    server.request(d, 'REFER', [['Refer-To', '<sip:zed@example.com>'], ['Referred-By', '<sip:bob@example.com>']]);
    const e = await referred;
    check('referred: event with the Refer-To target', e.referTo === 'sip:zed@example.com', e.referTo);
    const ended = once(call, 'statechange', (ev) => ev.state === 'ended');
    const c2 = await e.accept();
    const inv = await server.waitFor((m) => m.method === 'INVITE' && !m.code && m.uri === 'sip:zed@example.com');
    check('referred: INVITE to the target', !!inv);
    await once(c2, 'statechange', (ev) => ev.state === 'established');
    const notify = await server.waitFor((m) => m.method === 'NOTIFY' && !m.code && /SIP\/2.0 200/.test(m.body));
    check('referred: NOTIFY sipfrag 200 to the transferor', notify.get('Call-ID') === d.callId, notify.body);
    await ended;
    check('referred: the transferred call ends once the new one is up', call.state === 'ended');
    call = c2;
  });

  await step('hangup', async () => {
    const ended = once(call, 'statechange', (e) => e.state === 'ended');
    call.hangup();
    const e = await ended;
    await server.waitFor((m) => m.method === 'BYE');
    check('hangup: BYE, ended(local)', e.reason === 'local' && ua.calls.size === 0, e.reason);
  });

  await step('dtmf by INFO', async () => {
    server.noTelephoneEvent = true;
    const c = await ua.call('dave');
    await once(c, 'statechange', (e) => e.state === 'established');
    server.noTelephoneEvent = false;
    await c.sendDtmf('5#', { duration: 60, gap: 40 });
    check('DTMF: SIP INFO when the answer has no telephone-event', server.infoDigits === '5#', server.infoDigits);
    c.hangup();
  });

  await step('incoming call', async () => {
    const incoming = once(ua, 'incomingcall');
    const callId = await server.callUa();
    const { call: inc } = await incoming;
    check('incoming: incomingcall event with the caller', inc.direction === 'incoming' && /carol/.test(inc.remoteIdentity), inc.remoteIdentity);
    await server.waitFor((m) => m.code === 180 && m.get('Call-ID') === callId);
    await inc.answer({ audio: true });
    const ok = await server.waitFor((m) => m.code === 200 && m.method === 'INVITE' && m.get('Call-ID') === callId);
    check('incoming: 200 with SDP answer', /m=audio/.test(ok.body));
    const est = once(inc, 'statechange', (e) => e.state === 'established');
    await server.ackUa(ok);
    await est;
    check('incoming: established after ACK', inc.state === 'established');
    const ended = once(inc, 'statechange', (e) => e.state === 'ended');
    server.request(server.incoming, 'BYE');
    const e = await ended;
    check('incoming: remote BYE ends the call', e.reason === 'remote', e.reason);
  });

  await step('reject', async () => {
    const incoming = once(ua, 'incomingcall');
    const callId = await server.callUa();
    const { call: inc } = await incoming;
    inc.reject(486);
    const r = await server.waitFor((m) => m.code === 486 && m.get('Call-ID') === callId);
    check('reject: 486 Busy Here', !!r);
  });

  await step('messages', async () => {
    await ua.message('bob', 'hello bob');
    check('message: MESSAGE sent, 200', server.messages.includes('hello bob'), server.messages.join('|'));
    const got = once(ua, 'message');
    server.messageUa('hi alice');
    const m = await got;
    check('message: incoming message event', m.body === 'hi alice' && /carol/.test(m.from), m.body);
  });

  await step('reconnect', async () => {
    const regs = server.registrations;
    const t0 = performance.now();
    const disc = once(ua, 'transportstatechange', (e) => e.state === 'disconnected');
    server.drop();
    const d = await disc;
    check('reconnect: disconnected with a 2–4 s backoff', d.retryIn >= 2000 && d.retryIn <= 4000, d.retryIn);
    await once(ua, 'registrationstatechange', (e) => e.state === 'registered', 8000);
    const dt = performance.now() - t0;
    check('reconnect: re-registered on the new socket', server.registrations === regs + 1 && dt >= 2000, Math.round(dt) + ' ms');
  });

  await step('stop', async () => {
    await ua.stop();
    const last = server.log.filter((m) => m.method === 'REGISTER').at(-1);
    check('stop: unregister (Expires: 0), disconnected', last.get('Expires') === '0' && ua.registrationState === 'unregistered', last.get('Expires'));
  });
  check('no uncaught errors in the page', pageErrors.length === 0, pageErrors.join('\n'));
  if (results.some((r) => !r.ok))
    check('(SIP log of the failed run)', false, server.log.map((m) => (m.code ? m.code + '/' : '') + m.method).join(' '));
  return results;
}

window.runE2E = runE2E;
