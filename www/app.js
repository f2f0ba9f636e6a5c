// rvoip gateway operator console: login, live calls over Server-Sent Events, registrations,
// trunks, call records (search + CSV) and a canvas chart of the last hour. No framework.
'use strict';

const $ = (sel) => document.querySelector(sel);
const API = '/console/api';
let source = null;
let last = null;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c ?? ''));
  return e;
}

const dash = (v) => (v === null || v === undefined || v === '' ? '—' : String(v));
const fixed = (v, n) => (typeof v === 'number' && isFinite(v) ? v.toFixed(n) : '—');

function fmtDuration(s) {
  if (typeof s !== 'number' || s < 0) return '—';
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
  const two = (x) => String(x).padStart(2, '0');
  return (h ? h + ':' + two(m) : m) + ':' + two(sec);
}

/// `loss` is a fraction (call records), `lost` a packet count (the media plane's LegStats).
function fmtLoss(l) {
  if (typeof l.loss === 'number') return (l.loss * 100).toFixed(1) + ' %';
  if (typeof l.lost === 'number') {
    const total = (l.packets_in || 0) + Math.max(0, l.lost);
    return total ? (Math.max(0, l.lost) / total * 100).toFixed(1) + ' %' : '0.0 %';
  }
  return '—';
}

function fmtTime(ms) {
  if (typeof ms !== 'number') return '—';
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

// ---------------------------------------------------------------------------------------
// Login.

function showLogin(message) {
  if (source) { source.close(); source = null; }
  $('#app').hidden = true;
  $('#login').hidden = false;
  $('#login-error').textContent = message || '';
  $('#login-password').focus();
  if (location.pathname !== '/console/login') history.replaceState(null, '', '/console/login');
}

async function showApp() {
  $('#login').hidden = true;
  $('#app').hidden = false;
  if (location.pathname !== '/console/app') history.replaceState(null, '', '/console/app');
  connect();
}

$('#login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  $('#login-error').textContent = '';
  const r = await fetch(API + '/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    credentials: 'same-origin',
    body: JSON.stringify({ username: $('#login-user').value, password: $('#login-password').value }),
  });
  $('#login-password').value = '';
  if (r.ok) return showApp();
  if (r.status === 429) {
    $('#login-error').textContent = 'Too many failed attempts. Try again in ' + (r.headers.get('Retry-After') || 'a few') + ' s.';
  } else if (r.status === 401) {
    $('#login-error').textContent = 'Wrong user name or password.';
  } else {
    $('#login-error').textContent = 'Login failed (' + r.status + ').';
  }
});

$('#logout').addEventListener('click', async () => {
  await fetch(API + '/logout', { method: 'POST', credentials: 'same-origin' });
  showLogin('Logged out.');
});

async function api(path, opts) {
  const r = await fetch(API + path, Object.assign({ credentials: 'same-origin' }, opts || {}));
  if (r.status === 401) { showLogin('Your session has ended; please log in again.'); throw new Error('401'); }
  return r;
}

// ---------------------------------------------------------------------------------------
// Live data.

function connect() {
  if (source) source.close();
  source = new EventSource(API + '/events');
  source.addEventListener('snapshot', (ev) => {
    $('#live').classList.add('on');
    render(JSON.parse(ev.data));
  });
  source.onerror = async () => {
    $('#live').classList.remove('on');
    // EventSource does not expose the status: ask whether the session is still alive.
    const r = await fetch(API + '/session', { credentials: 'same-origin' }).catch(() => null);
    if (r && r.status === 401) showLogin('Your session has ended; please log in again.');
  };
}

function render(s) {
  last = s;
  renderCalls(s.calls || []);
  renderRegistrations(s.registrations || []);
  renderTrunks(s.trunks || []);
  drawChart(s.history || []);
  const st = s.stats || {};
  $('#stats').textContent = `calls ${dash(st.calls)} · legs ${dash(st.legs)} · connections ${dash(st.flows)} · ` +
    `registrations ${dash(st.registrations)} · records written ${dash(st.records_written)} · ${fmtTime(s.now_ms)} UTC`;
}

/// One row per leg: the call's columns span both rows.
function renderCalls(calls) {
  $('#calls-count').textContent = calls.length;
  $('#calls-empty').hidden = calls.length > 0;
  const body = $('#calls-table tbody');
  body.replaceChildren();
  for (const c of calls) {
    const legs = Array.isArray(c.legs) && c.legs.length ? c.legs : [{ name: 'A' }, { name: 'B' }];
    const transcoding = c.transcoding === undefined ? (c.transcoded === undefined ? null : c.transcoded) : c.transcoding;
    legs.forEach((l, i) => {
      const tr = el('tr', { class: i ? 'leg-b' : 'call', 'data-call': String(c.id) });
      const span = { rowSpan: legs.length };
      if (i === 0) {
        tr.append(
          el('td', span, String(c.id)), el('td', span, dash(c.direction)), el('td', Object.assign({ class: 'from' }, span), dash(c.from)),
          el('td', Object.assign({ class: 'to' }, span), dash(c.to)), el('td', Object.assign({ class: 'state' }, span), dash(c.state)),
          el('td', span, dash(c.trunk)), el('td', Object.assign({ class: 'duration' }, span), fmtDuration(c.duration_s)));
      }
      const pk = l.packets_in === undefined && l.packets_out === undefined ? '—' : dash(l.packets_in) + ' / ' + dash(l.packets_out);
      tr.append(
        el('td', {}, dash(l.name || l.kind || (i ? 'B' : 'A')) + (l.peer ? ' ' + l.peer : '')),
        el('td', { class: 'codec' }, dash(l.codec)),
        el('td', { class: 'transcoding' }, i === 0 ? (transcoding === null ? '—' : transcoding ? 'yes' : 'no') : ''),
        el('td', { class: 'packets' }, pk),
        el('td', { class: 'loss' }, fmtLoss(l)),
        el('td', { class: 'jitter' }, typeof l.jitter_ms === 'number' ? l.jitter_ms.toFixed(1) + ' ms' : '—'),
        el('td', { class: 'mos' }, fixed(l.mos, 2)));
      if (i === 0) {
        const b = el('button', { class: 'hangup', type: 'button', title: 'End both legs' }, 'Hang up');
        b.addEventListener('click', () => hangup(c.id, b));
        tr.append(el('td', span, b));
      }
      body.append(tr);
    });
  }
}

async function hangup(id, button) {
  if (!confirm(`Hang up call #${id} (both legs)?`)) return;
  button.disabled = true;
  button.textContent = 'Hanging up…';
  const r = await api(`/calls/${id}/hangup`, { method: 'POST' });
  if (!r.ok) { button.disabled = false; button.textContent = 'Hang up'; alert(await r.text()); }
}

function renderRegistrations(regs) {
  $('#regs-count').textContent = regs.length;
  const body = $('#regs-table tbody');
  body.replaceChildren();
  for (const r of regs) {
    body.append(el('tr', {}, el('td', {}, dash(r.user)), el('td', {}, dash(r.uri)), el('td', {}, dash(r.transport)),
      el('td', {}, fmtDuration(r.expires_in)), el('td', { class: 'muted' }, [r.instance, r.source].filter(Boolean).join(' · '))));
  }
}

function renderTrunks(trunks) {
  const body = $('#trunks-table tbody');
  body.replaceChildren();
  for (const t of trunks) {
    body.append(el('tr', {}, el('td', {}, dash(t.name)), el('td', {}, dash(t.host)), el('td', {}, dash(t.address)),
      el('td', {}, dash(t.transport)),
      el('td', { class: t.up ? 'up' : 'down' }, (t.up ? 'up' : 'down') +
        (typeof t.state_since_ms === 'number' ? ' since ' + fmtTime(t.state_since_ms).slice(11) : '')),
      el('td', { class: 'options' + (t.last_options && t.last_options.outcome === 'timeout' ? ' down' : '') }, fmtOptions(t)),
      el('td', {}, t.register ? (t.registered ? 'registered' : 'not registered') : 'not configured')));
  }
}

/// The last OPTIONS keep-alive: "200 · 3.1 ms · 12:00:01", "timeout · 12:00:33", "off", "—".
function fmtOptions(t) {
  const o = t.last_options;
  if (!o) return t.options_interval === 0 ? 'off' : '—';
  const at = fmtTime(o.at_ms).slice(11);
  if (o.outcome === 'timeout') return 'timeout · ' + at;
  return [dash(o.code), typeof o.rtt_ms === 'number' ? o.rtt_ms.toFixed(1) + ' ms' : null, at].filter(Boolean).join(' · ');
}

// ---------------------------------------------------------------------------------------
// Call records.

function cdrQuery() {
  const q = new URLSearchParams();
  const n = $('#cdr-number').value.trim();
  if (n) q.set('number', n);
  const since = $('#cdr-since').value, until = $('#cdr-until').value;
  if (since) q.set('since', String(Date.parse(since + 'T00:00:00Z')));
  if (until) q.set('until', String(Date.parse(until + 'T00:00:00Z') + 86400000));
  return q;
}

async function searchRecords() {
  const q = cdrQuery();
  const csv = new URLSearchParams(q);
  csv.set('format', 'csv');
  $('#cdr-csv').href = API + '/cdrs?' + csv;
  const rows = await (await api('/cdrs?' + q)).json();
  const body = $('#cdr-table tbody');
  body.replaceChildren();
  $('#cdr-empty').hidden = rows.length > 0;
  for (const c of rows) {
    const dur = c.answered_ms ? (c.ended_ms - c.answered_ms) / 1000 : null;
    body.append(el('tr', { 'data-record': String(c.id) }, el('td', {}, String(c.id)), el('td', {}, fmtTime(c.started_ms)),
      el('td', {}, dash(c.direction)), el('td', { class: 'from' }, dash(c.from)), el('td', { class: 'to' }, dash(c.to)),
      el('td', {}, c.answered_ms ? 'yes' : 'no'), el('td', {}, dur === null ? '—' : fmtDuration(dur)),
      el('td', { class: 'cause' }, dash(c.cause)),
      el('td', {}, dash(c.a_leg && c.a_leg.codec) + ' / ' + dash(c.b_leg && c.b_leg.codec)),
      el('td', {}, c.transcoded ? 'yes' : 'no')));
  }
}

$('#cdr-form').addEventListener('submit', (ev) => { ev.preventDefault(); searchRecords().catch(() => {}); });

// ---------------------------------------------------------------------------------------
// Chart: bars of peak calls and calls started per minute, a line of mean MOS.

function drawChart(samples) {
  const cv = $('#chart');
  if (!cv || cv.offsetParent === null) return;
  const ctx = cv.getContext('2d');
  const W = cv.width, H = cv.height, L = 40, R = 40, T = 10, B = 24;
  ctx.clearRect(0, 0, W, H);
  const now = (last && last.now_ms) || Date.now();
  const end = now - (now % 60000) + 60000, start = end - 3600000;
  const maxCalls = Math.max(1, ...samples.map((s) => Math.max(s.calls_peak, s.calls_started)));
  const x = (ms) => L + ((ms - start) / 3600000) * (W - L - R);
  const yCalls = (v) => H - B - (v / maxCalls) * (H - T - B);
  const yMos = (v) => H - B - ((v - 1) / 4) * (H - T - B);
  ctx.strokeStyle = '#d9dde3'; ctx.fillStyle = '#6b7480'; ctx.font = '11px system-ui'; ctx.lineWidth = 1;
  ctx.beginPath(); ctx.moveTo(L, T); ctx.lineTo(L, H - B); ctx.lineTo(W - R, H - B); ctx.lineTo(W - R, T); ctx.stroke();
  for (let i = 0; i <= 4; i++) {
    const v = Math.round((maxCalls * i) / 4);
    ctx.fillText(String(v), 4, yCalls(v) + 4);
    ctx.fillText(String(1 + i), W - R + 6, yMos(1 + i) + 4);
  }
  for (let m = 0; m <= 60; m += 15) {
    const t = start + m * 60000;
    ctx.fillText(new Date(t).toISOString().slice(11, 16), x(t) - 14, H - 6);
  }
  const bw = Math.max(2, (W - L - R) / 60 / 2 - 1);
  for (const s of samples) {
    ctx.fillStyle = '#1f6feb';
    ctx.fillRect(x(s.minute_ms), yCalls(s.calls_peak), bw, H - B - yCalls(s.calls_peak));
    ctx.fillStyle = '#9aa4b1';
    ctx.fillRect(x(s.minute_ms) + bw + 1, yCalls(s.calls_started), bw, H - B - yCalls(s.calls_started));
  }
  ctx.strokeStyle = '#e36209'; ctx.lineWidth = 2; ctx.beginPath();
  let pen = false;
  for (const s of samples) {
    if (typeof s.mos !== 'number') { pen = false; continue; }
    const px = x(s.minute_ms) + bw, py = yMos(s.mos);
    if (pen) ctx.lineTo(px, py); else ctx.moveTo(px, py);
    pen = true;
  }
  ctx.stroke();
}

// ---------------------------------------------------------------------------------------
// Tabs and start.

for (const b of document.querySelectorAll('nav button')) {
  b.addEventListener('click', () => {
    for (const o of document.querySelectorAll('nav button')) o.classList.toggle('active', o === b);
    for (const t of document.querySelectorAll('.tab')) t.hidden = t.id !== 'tab-' + b.dataset.tab;
    if (b.dataset.tab === 'records') searchRecords().catch(() => {});
    if (b.dataset.tab === 'chart' && last) drawChart(last.history || []);
  });
}

(async () => {
  const r = await fetch(API + '/session', { credentials: 'same-origin' }).catch(() => null);
  if (r && r.ok) showApp(); else showLogin('');
})();
