// The test page (bundled with esbuild by lib.mjs into one IIFE script): JsSIP and SIP.js
// exactly as an application would use them, plus a thin `window.T` harness the tests drive
// through `page.evaluate`. Every RTCPeerConnection either library creates is kept in
// `window.__pcs` (for getStats and the WebAudio listeners of tests/browser/lib.mjs), every
// library event the tests look at is appended to `window.__events` as `{ t, lib, ev, … }`,
// and the remote audio of each call plays through an <audio> element (as a softphone's would).
import * as JsSIP from 'jssip';
import * as SIP from 'sip.js';

window.__pcs = [];
window.__events = [];
const Native = window.RTCPeerConnection;
window.RTCPeerConnection = class extends Native {
  constructor(...a) {
    super(...a);
    window.__pcs.push(this);
  }
};
window.JsSIP = JsSIP;
window.SIP = SIP;

const t0 = performance.now();
function ev(lib, name, extra = {}) {
  window.__events.push({ t: Math.round(performance.now() - t0), lib, ev: name, ...extra });
}
/** Plays `stream` through a (muted-by-nothing) <audio autoplay> element, as a softphone does. */
function play(stream) {
  let el = document.getElementById('remote');
  if (!el) {
    el = document.createElement('audio');
    el.id = 'remote';
    el.autoplay = true;
    document.body.append(el);
  }
  el.srcObject = stream;
  el.play().catch(() => {});
}
const sdpOf = (pc, which) => pc?.[which]?.sdp ?? null;

// --- JsSIP ------------------------------------------------------------------------------------
const jssip = { ua: null, session: null };
/** Starts a JsSIP UA on `ws` and registers `user`; resolves on `registered`. */
async function jssipStart({ ws, user, password, domain, displayName }) {
  if (window.__jssipDebug) JsSIP.debug.enable('JsSIP:*');
  const socket = new JsSIP.WebSocketInterface(ws);
  const ua = new JsSIP.UA({
    sockets: [socket],
    uri: `sip:${user}@${domain}`,
    password,
    display_name: displayName ?? user,
    register: true,
    session_timers: true,
  });
  jssip.ua = ua;
  ua.on('connected', () => ev('jssip', 'connected'));
  ua.on('disconnected', () => ev('jssip', 'disconnected'));
  ua.on('unregistered', () => ev('jssip', 'unregistered'));
  ua.on('newRTCSession', ({ originator, session, request }) => {
    ev('jssip', 'newRTCSession', { originator, from: request.from.uri.user, display: request.from.display_name });
    jssipSession(session);
  });
  const done = new Promise((resolve, reject) => {
    ua.once('registered', (e) => resolve(e.response.status_code));
    ua.once('registrationFailed', (e) => reject(new Error(`JsSIP registrationFailed: ${e.cause} ${e.response?.status_code ?? ''}`)));
  });
  ua.start();
  const code = await done;
  ev('jssip', 'registered', { code });
  return code;
}
function jssipSession(session) {
  jssip.session = session;
  const on = (name, f = () => ({})) => session.on(name, (e) => ev('jssip', name, f(e)));
  session.on('peerconnection', ({ peerconnection }) => {
    peerconnection.addEventListener('track', (e) => play(e.streams[0] ?? new MediaStream([e.track])));
  });
  if (session.connection) session.connection.addEventListener('track', (e) => play(e.streams[0] ?? new MediaStream([e.track])));
  on('progress', (e) => ({ code: e.response?.status_code }));
  on('accepted');
  on('confirmed');
  on('hold', (e) => ({ originator: e.originator }));
  on('unhold', (e) => ({ originator: e.originator }));
  on('reinvite');
  on('newDTMF', (e) => ({ originator: e.originator, tone: e.dtmf.tone }));
  on('newInfo', (e) => ({ originator: e.originator, contentType: e.info.contentType, body: e.info.body }));
  on('ended', (e) => ({ originator: e.originator, cause: e.cause }));
  // An incoming REFER (none should come through the gateway): recorded, then declined.
  session.on('refer', (e) => {
    ev('jssip', 'refer-received', { target: String(e.request.refer_to?.uri ?? '') });
    e.reject();
  });
  on('failed', (e) => ({ originator: e.originator, cause: e.cause, code: e.message?.status_code }));
}
function jssipCall(target) {
  const session = jssip.ua.call(target, {
    mediaConstraints: { audio: true, video: false },
    pcConfig: { iceServers: [] },
  });
  // (`newRTCSession` has already registered the session's handlers, inside call().)
  // JsSIP creates the connection inside call(): its `peerconnection` event has already fired.
  session.connection.addEventListener('track', (e) => play(e.streams[0] ?? new MediaStream([e.track])));
  return 'calling';
}
function jssipAnswer() {
  jssip.session.answer({ mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } });
  return 'answering';
}

// --- SIP.js -----------------------------------------------------------------------------------
const sipjs = { ua: null, registerer: null, session: null };
function sipjsSession(session) {
  sipjs.session = session;
  session.stateChange.addListener((s) => {
    ev('sipjs', `state:${s}`);
    if (s === SIP.SessionState.Established) {
      const pc = session.sessionDescriptionHandler.peerConnection;
      play(session.sessionDescriptionHandler.remoteMediaStream);
      pc.addEventListener('track', () => play(session.sessionDescriptionHandler.remoteMediaStream));
    }
  });
  session.delegate = {
    onInfo(info) {
      ev('sipjs', 'info', { contentType: info.request.getHeader('content-type'), body: info.request.body });
      info.accept();
    },
    onInvite(request) {
      ev('sipjs', 'reinvite', { direction: (request.body.match(/^a=(sendrecv|sendonly|recvonly|inactive)\r?$/m) ?? [])[1] ?? 'sendrecv' });
    },
    onBye() {
      ev('sipjs', 'bye');
    },
    onRefer(referral) {
      ev('sipjs', 'refer-received', { target: String(referral.referTo?.uri ?? '') });
      referral.reject().catch(() => {});
    },
  };
}
/** Starts a SIP.js UserAgent on `ws` and registers `user`; resolves on `Registered`. */
async function sipjsStart({ ws, user, password, domain, displayName }) {
  const ua = new SIP.UserAgent({
    uri: SIP.UserAgent.makeURI(`sip:${user}@${domain}`),
    transportOptions: { server: ws },
    authorizationUsername: user,
    authorizationPassword: password,
    displayName: displayName ?? user,
    logBuiltinEnabled: !!window.__sipjsDebug,
    sessionDescriptionHandlerFactoryOptions: { peerConnectionConfiguration: { iceServers: [] } },
    delegate: {
      onInvite(invitation) {
        ev('sipjs', 'invite', { from: invitation.remoteIdentity.uri.user, display: invitation.remoteIdentity.displayName });
        sipjsSession(invitation);
      },
      onDisconnect(e) {
        ev('sipjs', 'disconnect', { error: e?.message });
      },
    },
  });
  sipjs.ua = ua;
  await ua.start();
  const registerer = new SIP.Registerer(ua);
  sipjs.registerer = registerer;
  const done = new Promise((resolve, reject) => {
    registerer.stateChange.addListener((s) => {
      ev('sipjs', `registerer:${s}`);
      if (s === SIP.RegistererState.Registered) resolve(s);
    });
    setTimeout(() => reject(new Error(`SIP.js not registered after 10 s (${registerer.state})`)), 10000);
  });
  await registerer.register({
    requestDelegate: { onReject: (r) => ev('sipjs', 'register-rejected', { code: r.message.statusCode }) },
  });
  return done;
}
function sipjsCall(target, { earlyMedia = false } = {}) {
  const inviter = new SIP.Inviter(sipjs.ua, SIP.UserAgent.makeURI(target), {
    earlyMedia,
    sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } },
  });
  sipjsSession(inviter);
  inviter.invite({
    requestDelegate: {
      onProgress: (r) => ev('sipjs', 'progress', { code: r.message.statusCode }),
      onReject: (r) => ev('sipjs', 'rejected', { code: r.message.statusCode }),
    },
  }).catch((e) => ev('sipjs', 'invite-error', { error: String(e) }));
  return 'calling';
}
function sipjsAnswer() {
  sipjs.session.accept({ sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } } })
    .catch((e) => ev('sipjs', 'accept-error', { error: String(e) }));
  return 'answering';
}
/** SIP.js re-INVITE putting the call on hold (`hold`: a=sendonly offered) or taking it off. */
function sipjsHold(hold) {
  return sipjs.session.invite({
    sessionDescriptionHandlerOptions: { hold, constraints: { audio: true, video: false } },
    requestDelegate: {
      onAccept: () => ev('sipjs', hold ? 'held' : 'unheld'),
      onReject: (r) => ev('sipjs', 'reinvite-rejected', { code: r.message.statusCode }),
    },
  }).then(() => 'sent');
}
/** SIP.js DTMF by SIP INFO (application/dtmf-relay, the de facto format JsSIP also uses). */
function sipjsInfo(digit, duration = 100) {
  return sipjs.session.info({
    requestOptions: { body: { contentDisposition: 'render', contentType: 'application/dtmf-relay', content: `Signal=${digit}\r\nDuration=${duration}` } },
    requestDelegate: { onAccept: (r) => ev('sipjs', 'info-accepted', { code: r.message.statusCode }), onReject: (r) => ev('sipjs', 'info-rejected', { code: r.message.statusCode }) },
  }).then(() => 'sent');
}
/** SIP.js blind transfer of the call to `target` (REFER, RFC 3515); the outcome is an event. */
function sipjsRefer(target) {
  return sipjs.session.refer(SIP.UserAgent.makeURI(target), {
    requestDelegate: {
      onAccept: (r) => ev('sipjs', 'refer-accepted', { code: r.message.statusCode }),
      onReject: (r) => ev('sipjs', 'refer-rejected', { code: r.message.statusCode, allow: r.message.getHeader('allow') }),
    },
  }).then(() => 'sent');
}
/** JsSIP blind transfer of the call to `target`; the outcome is an event. */
function jssipRefer(target) {
  jssip.session.refer(target, {
    eventHandlers: {
      requestSucceeded: (e) => ev('jssip', 'refer-accepted', { code: e.response?.status_code }),
      requestFailed: (e) => ev('jssip', 'refer-rejected', { code: e.response?.status_code, cause: e.cause, allow: e.response?.getHeader('allow') }),
      trying: () => ev('jssip', 'refer-trying'),
      accepted: () => ev('jssip', 'refer-notify-accepted'),
      failed: () => ev('jssip', 'refer-notify-failed'),
    },
  });
  return 'sent';
}
/** JsSIP MESSAGE (RFC 3428) to `target`, out of any dialog; resolves with its outcome. */
function jssipMessage(target, text) {
  return new Promise((resolve) => {
    jssip.ua.sendMessage(target, text, {
      eventHandlers: {
        succeeded: (e) => resolve({ code: e.response?.status_code }),
        failed: (e) => resolve({ code: e.response?.status_code, cause: e.cause, allow: e.response?.getHeader('allow') }),
      },
    });
  });
}
function sipjsHangup() {
  const s = sipjs.session;
  if (s.state === SIP.SessionState.Established) return s.bye().then(() => 'bye');
  if (s instanceof SIP.Inviter) return s.cancel().then(() => 'cancel');
  return s.reject().then(() => 'reject');
}

window.T = {
  jssip,
  sipjs,
  jssipStart,
  jssipCall,
  jssipAnswer,
  sipjsStart,
  sipjsCall,
  sipjsAnswer,
  sipjsHangup,
  sipjsHold,
  sipjsInfo,
  sipjsRefer,
  jssipRefer,
  jssipMessage,
  /** SDP of the page's last peer connection (`currentLocalDescription`/`currentRemoteDescription`). */
  sdp: (which) => sdpOf(window.__pcs.at(-1), which),
  events: (lib, name) => window.__events.filter((e) => (!lib || e.lib === lib) && (!name || e.ev === name)),
};
document.title = 'rvoip third-party SIP libraries';
