// The rvoip softphone demo: a plain ES module on the `rvoip` package (served next to this
// page as ./rvoip/, copied there by scripts/build-wasm.sh). No framework, no CDN.
import { UserAgent } from './rvoip/index.js';

const $ = (id) => document.getElementById(id);
const SETTINGS = 'rvoip-demo-settings';
let ua;
let call;
let incoming;
let timer;
let statsTimer;
let ring;
const samples = []; // { jitter, loss, mos }

// --- settings ----------------------------------------------------------------------------
const form = $('account');
const saved = JSON.parse(localStorage.getItem(SETTINGS) ?? '{}');
for (const [k, v] of Object.entries(saved)) if (form.elements[k] && k !== 'password') form.elements[k].value = v;
if (!form.elements.servers.value) {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  form.elements.servers.value = `${proto}//${location.host}/ws`;
}

function badge(el, text, cls) {
  el.textContent = text;
  el.className = 'badge ' + (cls ?? '');
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = Object.fromEntries(new FormData(form));
  localStorage.setItem(SETTINGS, JSON.stringify({ ...f, password: undefined }));
  await ua?.stop();
  ua = new UserAgent({
    servers: f.servers.split(/[\s,]+/).filter(Boolean),
    uri: f.uri.startsWith('sip:') ? f.uri : `sip:${f.uri}`,
    password: f.password,
    displayName: f.displayName,
    iceServers: [],
  });
  ua.addEventListener('transportstatechange', (ev) =>
    badge($('transport'), ev.state + (ev.retryIn > 0 ? ` (retry ${Math.round(ev.retryIn / 1000)} s)` : ''),
      { connected: 'ok', connecting: 'warn', disconnected: 'bad' }[ev.state]));
  ua.addEventListener('registrationstatechange', (ev) =>
    badge($('registration'), ev.state + (ev.code ? ` ${ev.code}` : ''),
      { registered: 'ok', registering: 'warn', failed: 'bad' }[ev.state]));
  ua.addEventListener('incomingcall', (ev) => onIncoming(ev.call));
  ua.addEventListener('message', (ev) => addMessage(`${ev.from}: ${ev.body}`));
  ua.register().catch((err) => console.warn('register failed', err));
});
$('unregister').onclick = () => ua?.unregister().catch(() => {});

// --- dial pad ------------------------------------------------------------------------------
for (const d of '123456789*0#') {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = d;
  b.onclick = () => {
    if (call?.state === 'established') call.sendDtmf(d).catch((e) => console.warn(e));
    else $('number').value += d;
  };
  $('pad').append(b);
}

// --- calls ---------------------------------------------------------------------------------
function setCall(c) {
  call = c;
  $('remote').srcObject = c.remoteStream;
  $('state').textContent = c.state;
  c.addEventListener('statechange', (e) => {
    $('state').textContent = e.state + (e.reason ? ` (${e.reason}${e.code ? ' ' + e.code : ''})` : '');
    if (e.state === 'established') startTimers();
    if (e.state === 'ended') {
      stopTimers();
      stopRing();
      $('incoming').hidden = true;
      $('hold').textContent = 'Hold';
      $('mute').textContent = 'Mute';
    }
  });
  c.addEventListener('dtmf', (e) => addMessage(`DTMF received: ${e.digit}`));
  c.addEventListener('referred', (e) => {
    if (confirm(`Transfer requested to ${e.referTo}. Accept?`)) e.accept().then(setCall);
  });
}

// The caller as a person reads it: `"Name" <sip:user@host>;tag=…` → `Name (user)`, a bare
// `<sip:user@host>;tag=…` → `user`; anything else as it came.
function who(identity) {
  const m = /^\s*(?:"?([^"<]*?)"?\s*)?<?(?:sips?:|tel:)([^@;>]+)/.exec(identity ?? '');
  if (!m) return identity ?? '';
  return m[1] ? `${m[1]} (${m[2]})` : m[2];
}

function onIncoming(c) {
  incoming = c;
  $('caller').textContent = who(c.remoteIdentity);
  $('caller').title = c.remoteIdentity;
  $('incoming').hidden = false;
  startRing();
  c.addEventListener('statechange', (e) => {
    if (e.state === 'ended') {
      $('incoming').hidden = true;
      stopRing();
    }
  });
}

$('answer').onclick = async () => {
  if (!incoming) return;
  stopRing();
  $('incoming').hidden = true;
  setCall(incoming);
  await incoming.answer({ audio: micConstraints() }).catch((e) => alert(e.message));
};
$('reject').onclick = () => {
  incoming?.reject(486);
  $('incoming').hidden = true;
  stopRing();
};
$('call').onclick = async () => {
  const target = $('number').value.trim();
  if (!ua || !target) return;
  try {
    setCall(await ua.call(target, { audio: micConstraints() }));
  } catch (e) {
    alert(e.message);
  }
};
$('hangup').onclick = () => call?.hangup();
$('hold').onclick = async () => {
  if (!call) return;
  try {
    if (call.held) await call.unhold();
    else await call.hold();
    $('hold').textContent = call.held ? 'Resume' : 'Hold';
  } catch (e) {
    alert(e.message);
  }
};
$('mute').onclick = () => {
  if (!call) return;
  if (call.muted) call.unmute();
  else call.mute();
  $('mute').textContent = call.muted ? 'Unmute' : 'Mute';
};
$('transfer').onclick = () => {
  const t = $('transferTo').value.trim();
  if (call && t) call.transfer(t).then(() => addMessage(`transferred to ${t}`), (e) => alert(e.message));
};

// --- microphone ------------------------------------------------------------------------------
const micConstraints = () => ($('mic').value ? { deviceId: { exact: $('mic').value } } : true);
async function listMics() {
  const devices = await navigator.mediaDevices.enumerateDevices().catch(() => []);
  $('mic').replaceChildren(
    new Option('default microphone', ''),
    ...devices.filter((d) => d.kind === 'audioinput').map((d, i) => new Option(d.label || `microphone ${i + 1}`, d.deviceId)),
  );
}
$('mic').onchange = () => {
  if (call?.state === 'established' && $('mic').value) call.setInputDevice($('mic').value).catch((e) => alert(e.message));
};
navigator.mediaDevices?.addEventListener('devicechange', listMics);
listMics();

// --- ring tone (WebAudio, no file) ---------------------------------------------------------------
function startRing() {
  stopRing();
  const ctx = new AudioContext();
  const gain = ctx.createGain();
  gain.gain.value = 0;
  gain.connect(ctx.destination);
  for (const f of [440, 480]) {
    const o = ctx.createOscillator();
    o.frequency.value = f;
    o.connect(gain);
    o.start();
  }
  let on = false;
  const iv = setInterval(() => gain.gain.setValueAtTime((on = !on) ? 0.08 : 0, ctx.currentTime), 1000);
  ring = () => {
    clearInterval(iv);
    ctx.close();
  };
}
function stopRing() {
  ring?.();
  ring = undefined;
}

// --- call timer and quality chart ---------------------------------------------------------------
function startTimers() {
  const t0 = performance.now();
  samples.length = 0;
  timer = setInterval(() => {
    const s = Math.floor((performance.now() - t0) / 1000);
    $('timer').textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  }, 500);
  statsTimer = setInterval(async () => {
    if (!call || call.state !== 'established') return;
    const s = await call.stats().catch(() => null);
    if (!s) return;
    samples.push({ jitter: s.jitter, loss: s.packetLoss, mos: s.mos });
    if (samples.length > 120) samples.shift();
    $('quality').textContent =
      `${s.codec || '?'} · jitter ${s.jitter.toFixed(1)} ms · loss ${s.packetLoss.toFixed(1)} % · RTT ${s.rtt.toFixed(0)} ms · MOS ${s.mos.toFixed(2)}`;
    draw();
  }, 1000);
}
function stopTimers() {
  clearInterval(timer);
  clearInterval(statsTimer);
}

function draw() {
  const cv = $('chart');
  const g = cv.getContext('2d');
  const w = cv.width;
  const h = cv.height;
  g.clearRect(0, 0, w, h);
  g.strokeStyle = '#e2e8f0';
  for (let y = 0; y <= 4; y++) {
    g.beginPath();
    g.moveTo(0, (h * y) / 4);
    g.lineTo(w, (h * y) / 4);
    g.stroke();
  }
  const line = (key, max, color) => {
    g.strokeStyle = color;
    g.lineWidth = 2;
    g.beginPath();
    samples.forEach((s, i) => {
      const x = (w * i) / 119;
      const y = h - (h * Math.min(s[key], max)) / max;
      if (i) g.lineTo(x, y);
      else g.moveTo(x, y);
    });
    g.stroke();
  };
  line('jitter', 100, '#2b6cb0'); // 0–100 ms
  line('loss', 20, '#c53030'); // 0–20 %
  line('mos', 5, '#1f8a4c'); // 0–5
}

// --- messages -----------------------------------------------------------------------------------
function addMessage(text) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $('messages').append(li);
  li.scrollIntoView({ block: 'nearest' });
}
$('chat').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  if (!ua) return;
  try {
    await ua.message(f.get('to'), f.get('text'));
    addMessage(`→ ${f.get('to')}: ${f.get('text')}`);
    e.target.elements.text.value = '';
  } catch (err) {
    addMessage(`✗ ${err.message} (${err.code})`);
  }
});
