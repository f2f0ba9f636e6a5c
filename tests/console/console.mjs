// Drives the gateway's operator console in headless Chromium (playwright-core, the system
// Chromium; never downloads a browser). Started by gateway/tests/console_e2e.rs with a live
// call up (CALL_FROM → CALL_TO through a sipp trunk). Exits non-zero on the first failure.
//
// Env: GW_URL, ADMIN_USER, ADMIN_PW, CALL_FROM, CALL_TO, REGISTERED (a registered user), CHROMIUM (default /usr/bin/chromium),
// ARTIFACTS (screenshots; default ../../artifacts/console), OPTIONS_TRUNK and OPTIONS_CODE (a second trunk whose
// OPTIONS keep-alive is answered with that code; the call's trunk t1 has its keep-alive off).
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const env = (k, d) => process.env[k] ?? d;
const URL_ = env('GW_URL');
const USER = env('ADMIN_USER', 'admin');
const PW = env('ADMIN_PW');
const FROM = env('CALL_FROM');
const TO = env('CALL_TO');
const REGISTERED = env('REGISTERED');
const OPT_TRUNK = env('OPTIONS_TRUNK');
const OPT_CODE = Number(env('OPTIONS_CODE', '0'));
const ART = env('ARTIFACTS', join(dirname(fileURLToPath(import.meta.url)), '../../artifacts/console'));
if (!URL_ || !PW || !FROM || !TO) throw new Error('GW_URL, ADMIN_PW, CALL_FROM and CALL_TO are required');
mkdirSync(ART, { recursive: true });

let step = 'start';
const log = (m) => console.log(`[console] ${m}`);
function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  log(`ok: ${what}`);
}

const browser = await chromium.launch({
  executablePath: env('CHROMIUM', '/usr/bin/chromium'),
  headless: true,
  args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
// bypassCSP: the console's CSP forbids eval, which page.waitForFunction needs.
const ctx = await browser.newContext({ viewport: { width: 1400, height: 800 }, bypassCSP: true });
const page = await ctx.newPage();
page.on('console', (m) => { if (m.type() === 'error') log(`browser console error: ${m.text()}`); });
page.on('pageerror', (e) => { log(`page error: ${e}`); process.exitCode = 1; });
page.on('dialog', (d) => d.accept());
page.on('response', (r) => { if (r.status() >= 400) log(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`); });
const shot = (name) => page.screenshot({ path: join(ART, name), fullPage: true });

try {
  step = 'unauthenticated';
  const anon = await browser.newContext();
  for (const p of ['/console/api/calls', '/console/api/events', '/console/api/cdrs', '/console/api/snapshot']) {
    const r = await anon.request.get(URL_ + p);
    check(r.status() === 401, `${p} without a session is 401 (got ${r.status()})`);
  }
  const h = await anon.request.post(URL_ + '/console/api/calls/1/hangup');
  check(h.status() === 401, `hang-up without a session is 401 (got ${h.status()})`);
  const m = await anon.request.get(URL_ + '/metrics');
  check(m.status() === 200, '/metrics stays open for Prometheus');

  step = 'wrong password';
  await page.goto(URL_ + '/console/app');
  await page.waitForSelector('#login-form', { state: 'visible' });
  check(page.url().endsWith('/console/login'), 'without a session the app shows the login page');
  await page.fill('#login-user', USER);
  await page.fill('#login-password', PW + 'x');
  const [bad] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/console/api/login')),
    page.click('#login-submit'),
  ]);
  check(bad.status() === 401, `a wrong password is refused with 401 (got ${bad.status()})`);
  await page.waitForFunction(() => document.querySelector('#login-error').textContent.includes('Wrong'));
  check(await page.isHidden('#app'), 'the app stays hidden after a wrong password');
  check((await ctx.cookies()).length === 0, 'no cookie after a wrong password');
  await shot('01-login-refused.png');

  step = 'login';
  await page.fill('#login-password', PW);
  const [good] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/console/api/login')),
    page.click('#login-submit'),
  ]);
  check(good.status() === 204, `the right password logs in (got ${good.status()})`);
  const sc = (await good.headerValue('set-cookie')) || '';
  check(/HttpOnly/i.test(sc) && /SameSite=Strict/i.test(sc) && /Max-Age=\d+/.test(sc), `session cookie is HttpOnly, SameSite=Strict, expiring: ${sc.replace(/=[0-9a-f]{16,}/, '=…')}`);
  check(/rvoip_console=[0-9a-f]{64}/.test(sc), 'the session token is 256 random bits');
  check(await page.evaluate(() => document.cookie) === '', 'the cookie is not readable from script');
  await page.waitForSelector('#app', { state: 'visible' });

  step = 'live call';
  const row = page.locator('#calls-table tbody tr.call', { hasText: TO });
  await row.waitFor({ timeout: 10000 });
  check((await row.locator('td.from').innerText()) === FROM, `the live call from ${FROM} to ${TO} is shown`);
  await page.waitForFunction(() => document.querySelector('#calls-table tr.call td.state')?.textContent === 'answered', null, { timeout: 10000 });
  check(true, 'its state is answered');
  const legs = await page.locator('#calls-table tbody tr').count();
  check(legs === 2, `both legs are shown (${legs} rows)`);
  // Live media figures (published by the call task about once a second, pushed over SSE).
  await page.waitForFunction(() => {
    const cells = [...document.querySelectorAll('#calls-table tbody td.mos')];
    return cells.length === 2 && cells.every((c) => c.textContent !== '—');
  }, null, { timeout: 10000 });
  const liveCodecs = await page.locator('#calls-table tbody td.codec').allInnerTexts();
  const liveMos = await page.locator('#calls-table tbody td.mos').allInnerTexts();
  check(liveCodecs.join() === 'opus,PCMU' && liveMos.every((m) => /^\d\.\d\d$/.test(m)),
    `the live call shows its legs' codecs and MOS (${liveCodecs} / ${liveMos})`);
  check((await row.locator('td.transcoding').innerText()) === 'yes', 'the live call shows that it is transcoded');
  const d0 = await row.locator('td.duration').innerText();
  await page.waitForFunction((d) => document.querySelector('#calls-table tr.call td.duration')?.textContent !== d, d0, { timeout: 5000 });
  const d1 = await row.locator('td.duration').innerText();
  check(d1 !== d0, `the duration updates live over SSE (${d0} → ${d1})`);
  check((await page.innerText('#calls-count')) === '1', 'the tab counts 1 call');
  const api = await (await page.request.get(URL_ + '/console/api/calls')).json();
  check(api.length === 1 && api[0].from === FROM && api[0].to === TO && api[0].state === 'answered' && typeof api[0].duration_s === 'number',
    'the JSON API shows the same call');
  await shot('02-live-call.png');

  step = 'registrations';
  check((await page.innerText('#regs-count')) === '1', 'the tab counts 1 registration');
  await page.click('nav button[data-tab=registrations]');
  const reg = await page.locator('#regs-table tbody tr').first().innerText();
  check(reg.startsWith(REGISTERED) && /\bws\b/i.test(reg), `${REGISTERED}'s registration is listed: ${reg.replace(/\s+/g, ' ')}`);
  const regs = await (await page.request.get(URL_ + '/console/api/registrations')).json();
  check(regs.length === 1 && regs[0].user === REGISTERED, 'the JSON API shows the same registration');
  await shot('02b-registrations.png');

  step = 'trunks';
  await page.click('nav button[data-tab=trunks]');
  const trunk = await page.locator('#trunks-table tbody tr').first().innerText();
  check(trunk.includes('t1') && /\bup since \d\d:\d\d:\d\d/.test(trunk), `the trunk is listed and up: ${trunk.replace(/\s+/g, ' ')}`);
  const trunkRows = () => page.evaluate(() => [...document.querySelectorAll('#trunks-table tbody tr')]
    .map((r) => [...r.cells].map((c) => c.textContent)));
  const optionsCol = await page.evaluate(() => [...document.querySelectorAll('#trunks-table thead th')]
    .findIndex((h) => h.textContent === 'Last OPTIONS'));
  check(optionsCol > 0, 'the trunks table has a Last OPTIONS column');
  const t1cells = (await trunkRows()).find((r) => r[0] === 't1');
  check(t1cells && t1cells[optionsCol] === 'off', `t1's keep-alive is shown as off (${t1cells && t1cells[optionsCol]})`);
  const tj = await (await page.request.get(URL_ + '/console/api/trunks')).json();
  const t1j = tj.find((t) => t.name === 't1');
  check(t1j && t1j.up === true && typeof t1j.state_since_ms === 'number' && t1j.last_options === null && t1j.options_interval === 0,
    'the JSON API shows the same trunk');
  if (OPT_TRUNK) {
    // The keep-alive runs every second; its result reaches the page with the next snapshot.
    await page.waitForFunction(([name, col]) => [...document.querySelectorAll('#trunks-table tbody tr')]
      .some((r) => r.cells[0].textContent === name && r.cells[col].textContent !== '—'), [OPT_TRUNK, optionsCol], { timeout: 10000 });
    const cells = (await trunkRows()).find((r) => r[0] === OPT_TRUNK);
    const shown = cells[optionsCol];
    check(new RegExp(`^${OPT_CODE} · \\d+\\.\\d ms · \\d\\d:\\d\\d:\\d\\d$`).test(shown),
      `${OPT_TRUNK}'s last OPTIONS shows code ${OPT_CODE}, round trip and time: ${shown}`);
    check(cells.some((c) => /^up since /.test(c)), `a ${OPT_CODE} to OPTIONS marks ${OPT_TRUNK} up: ${cells.join(' | ')}`);
    const oj = (await (await page.request.get(URL_ + '/console/api/trunks')).json()).find((t) => t.name === OPT_TRUNK);
    check(oj && oj.last_options && oj.last_options.outcome === 'response' && oj.last_options.code === OPT_CODE
      && typeof oj.last_options.rtt_ms === 'number' && typeof oj.last_options.at_ms === 'number' && oj.up === true,
    `the JSON API shows ${OPT_TRUNK}'s last OPTIONS: ${JSON.stringify(oj && oj.last_options)}`);
    // A timeout renders as such (fixed snapshot, as for the per-leg figures below).
    const timedOut = await page.evaluate(() => {
      renderTrunks([{ name: 'x', up: false, options_interval: 30,
        last_options: { outcome: 'timeout', code: null, at_ms: Date.UTC(2026, 0, 1, 12, 34, 56), rtt_ms: null } }]);
      const text = document.querySelector('#trunks-table tbody tr td.options').textContent;
      renderTrunks(last.trunks || []);
      return text;
    });
    check(timedOut === 'timeout · 12:34:56', `a timed-out keep-alive renders as such (${timedOut})`);
  }
  await shot('03-trunks.png');
  await page.click('nav button[data-tab=calls]');

  step = 'hang up';
  const id = api[0].id;
  const [hr] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(`/console/api/calls/${id}/hangup`)),
    row.locator('button.hangup').click(),
  ]);
  check(hr.status() === 202, `the hang-up is accepted (got ${hr.status()})`);
  await page.waitForSelector('#calls-empty', { state: 'visible', timeout: 10000 });
  check(await page.locator('#calls-table tbody tr').count() === 0, 'the call disappears from the console');
  const after = await (await page.request.get(URL_ + '/console/api/calls')).json();
  check(after.length === 0, 'the API shows no calls');
  await shot('04-hung-up.png');

  step = 'per-leg figures';
  // Formatting of the figures, on a fixed snapshot (the shape of the media plane's LegStats).
  const figs = await page.evaluate(() => {
    render({ now_ms: Date.now(), stats: {}, trunks: [], registrations: [], history: [],
      calls: [{ id: 9, direction: 'outbound', from: 'x', to: 'y', state: 'answered', duration_s: 65, transcoding: true,
        legs: [{ name: 'A', kind: 'webrtc', codec: 'opus', packets_in: 990, packets_out: 1000, lost: 10, jitter_ms: 3.25, mos: 4.31 },
          { name: 'B', kind: 'sip', codec: 'PCMU', packets_in: 1000, packets_out: 990, lost: 0, jitter_ms: 1, mos: 4.4 }] }] });
    const cells = (sel) => [...document.querySelectorAll('#calls-table tbody ' + sel)].map((e) => e.textContent);
    return { mos: cells('td.mos'), loss: cells('td.loss'), jitter: cells('td.jitter'), codec: cells('td.codec'),
      tx: cells('td.transcoding'), pk: cells('td.packets'), dur: cells('td.duration') };
  });
  check(JSON.stringify(figs.mos) === '["4.31","4.40"]' && figs.loss[0] === '1.0 %' && figs.jitter[0] === '3.3 ms'
    && figs.codec.join() === 'opus,PCMU' && figs.tx[0] === 'yes' && figs.pk[0] === '990 / 1000' && figs.dur[0] === '1:05',
    `per-leg figures render: ${JSON.stringify(figs)}`);
  await shot('04b-leg-figures.png');

  step = 'records';
  await page.click('nav button[data-tab=records]');
  await page.fill('#cdr-number', TO.slice(-7));
  const today = new Date().toISOString().slice(0, 10);
  await page.fill('#cdr-since', today);
  await page.fill('#cdr-until', today);
  const rec = page.locator('#cdr-table tbody tr', { hasText: TO });
  for (let i = 0; i < 20 && await rec.count() === 0; i++) {
    await page.click('#cdr-search');
    await page.waitForTimeout(250);
  }
  check(await rec.count() === 1, 'the call record is found by number and date');
  check((await rec.locator('td.from').innerText()) === FROM, 'the record names the caller');
  const cause = await rec.locator('td.cause').innerText();
  log(`record cause: ${cause}`);
  check(/operator/.test(cause), `the record names the operator's hang-up as its cause (${cause})`);
  await shot('05-records.png');
  await page.fill('#cdr-number', '000000000');
  await page.click('#cdr-search');
  await page.waitForSelector('#cdr-empty', { state: 'visible' });
  check(await page.locator('#cdr-table tbody tr').count() === 0, 'a number that never called finds nothing');
  await page.fill('#cdr-since', '2000-01-01');
  await page.fill('#cdr-until', '2000-01-02');
  await page.fill('#cdr-number', TO.slice(-7));
  await page.click('#cdr-search');
  await page.waitForSelector('#cdr-empty', { state: 'visible' });
  check(true, 'a date range without the call finds nothing');
  await page.fill('#cdr-since', today);
  await page.fill('#cdr-until', today);
  await page.click('#cdr-search');
  await rec.waitFor();
  const href = await page.getAttribute('#cdr-csv', 'href');
  check(href.includes('format=csv') && href.includes('number='), `the CSV link carries the search (${href})`);
  const csv = await page.request.get(URL_ + href);
  const text = await csv.text();
  check(csv.status() === 200 && (csv.headers()['content-type'] || '').startsWith('text/csv'), 'CSV export is text/csv');
  const lines = text.trim().split('\n');
  check(lines[0].startsWith('id,call_id,direction,from,to') && lines.length === 2 && lines[1].includes(TO) && lines[1].includes(FROM),
    'the CSV has a header and the one record');

  step = 'chart';
  await page.click('nav button[data-tab=chart]');
  const hist = await (await page.request.get(URL_ + '/console/api/history')).json();
  check(hist.length >= 1 && hist.some((s) => s.calls_started >= 1 && s.calls_peak >= 1), 'the history counts the call');
  await page.waitForTimeout(1200);
  const inked = await page.evaluate(() => {
    const c = document.querySelector('#chart');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let blue = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] === 0x1f && d[i + 1] === 0x6f && d[i + 2] === 0xeb) blue++;
    return blue;
  });
  check(inked > 20, `the chart draws the call bar (${inked} px)`);
  await shot('06-chart.png');

  step = 'logout';
  await page.click('#logout');
  await page.waitForSelector('#login-form', { state: 'visible' });
  const gone = await page.request.get(URL_ + '/console/api/calls');
  check(gone.status() === 401, 'after logout the API is 401');

  step = 'rate limit';
  const codes = [];
  for (let i = 0; i < 7; i++) {
    const r = await anon.request.post(URL_ + '/console/api/login', { data: { username: USER, password: 'nope' + i } });
    codes.push(r.status());
  }
  check(codes.slice(0, 5).every((c) => c === 401) && codes.slice(5).every((c) => c === 429), `failed logins are rate-limited: ${codes}`);
  const locked = await anon.request.post(URL_ + '/console/api/login', { data: { username: USER, password: PW } });
  check(locked.status() === 429, 'even the right password waits out the lock');
  log('all console checks passed');
} catch (e) {
  console.error(`[console] FAILED at step "${step}": ${e.stack || e}`);
  await shot('failure.png').catch(() => {});
  process.exitCode = 1;
} finally {
  await browser.close();
}
