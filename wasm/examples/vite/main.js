// Minimal softphone on the `rvoip` package, unchanged in a Vite app (no Vite config).
import { UserAgent, initWasm, mos } from 'rvoip';

const $ = (id) => document.getElementById(id);
let ua;
let call;

// The wasm core loads from the package (Vite emits it as an asset).
initWasm().then(() => {
  $('wasm').textContent = `wasm core loaded (MOS of a clean path: ${mos(20, 2, 0, 'opus').toFixed(2)})`;
  document.title = 'wasm ok';
});

function track(c) {
  call = c;
  $('remote').srcObject = c.remoteStream;
  c.addEventListener('statechange', (e) => ($('call').textContent = e.state + (e.reason ? ` (${e.reason})` : '')));
}

$('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  await ua?.stop();
  ua = new UserAgent({ servers: [f.get('server')], uri: f.get('uri'), password: f.get('password') });
  ua.addEventListener('registrationstatechange', (ev) => ($('reg').textContent = ev.state));
  ua.addEventListener('incomingcall', (ev) => {
    track(ev.call);
    if (confirm(`Call from ${ev.call.remoteIdentity}. Answer?`)) ev.call.answer();
    else ev.call.reject();
  });
  await ua.register().catch((err) => ($('reg').textContent = `failed (${err.code})`));
});

$('dial').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (ua) track(await ua.call(new FormData(e.target).get('target')));
});
$('hangup').addEventListener('click', () => call?.hangup());
