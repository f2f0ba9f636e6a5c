// Interop of the rvoip npm package with Kamailio as SIP-over-WebSocket registrar and proxy
// (RFC 7118), browser to browser. Run by scripts/test-interop.sh inside a loopback-only
// network namespace, after scripts/build-wasm.sh:
//
//   node tests/interop/kamailio.mjs [scenario…]     scenarios (caller-callee):
//     chromium-chromium, firefox-firefox, firefox-chromium, chromium-firefox (default: all)
//
// For each scenario (caller-callee browsers): Kamailio (tests/interop/kamailio/kamailio.cfg)
// runs in the foreground with its own run directory; two headless browser pages load
// tests/interop/page.html (the package's dist/ as a plain ES module); a wrong password is
// refused; both register (401 digest) with `*.invalid` Via/Contact hosts, the caller calls
// the callee through Kamailio (407 digest), the callee answers, audio flows browser to
// browser over loopback (inbound-rtp packets and decoded audio energy on both sides), the
// callee hangs up and both see the call end; then the callee calls the caller, who
// declines with 486; both unregister. Screenshots of both pages during and after the call,
// Kamailio's log and the SIP traces go to artifacts/interop/.
// Exit status: 0 when every check passed.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createConnection, createServer as createTcpServer } from 'node:net';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from './browsers.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ARTIFACTS = join(ROOT, 'artifacts', 'interop');
const CFG = join(ROOT, 'tests', 'interop', 'kamailio', 'kamailio.cfg');
const KAMAILIO = process.env.KAMAILIO ?? '/usr/sbin/kamailio';
const DOMAIN = 'interop.test';
const PASSWORD = 's3cret';
const ALL = ['chromium-chromium', 'firefox-firefox', 'firefox-chromium', 'chromium-firefox'];
const scenarios = process.argv.slice(2).length ? process.argv.slice(2) : ALL;
mkdirSync(ARTIFACTS, { recursive: true });

const t0 = Date.now();
const say = (s) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${s}`);
const results = [];
/** Browsers open now (closed, profiles removed, even when the run is aborted). */
const live = new Set();
const check = (name, ok, detail = '') => {
  results.push({ name, ok: !!ok });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail === '' ? '' : ` — ${detail}`}`);
  return !!ok;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const within = (p, ms, what) =>
  Promise.race([p, sleep(ms).then(() => Promise.reject(new Error(`timeout (${ms} ms): ${what}`)))]);

// --- static files: the package's dist/ and this directory ---------------------------------
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
const http = createServer(async (req, res) => {
  const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const path = normalize(join(ROOT, rel));
  const allowed = [join(ROOT, 'wasm', 'dist'), join(ROOT, 'tests', 'interop')].some((d) => path.startsWith(d + '/'));
  if (!allowed || path.includes('node_modules')) return res.writeHead(403).end();
  try {
    const body = await readFile(path);
    res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});

async function freePort() {
  const s = createTcpServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function waitTcp(port, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise((r) => {
      const c = createConnection({ host: '127.0.0.1', port }, () => (c.destroy(), r(true)));
      c.on('error', () => r(false));
    });
    if (ok) return true;
    await sleep(100);
  }
  return false;
}

// --- Kamailio in the foreground ------------------------------------------------------------
async function startKamailio() {
  const port = await freePort();
  const run = mkdtempSync(join(tmpdir(), 'rvoip-kamailio-'));
  const pidFile = join(run, 'kamailio.pid');
  const logPath = join(ARTIFACTS, 'kamailio.log');
  // The log file as Kamailio's stdout/stderr (its children write there directly).
  const logFd = openSync(logPath, 'w');
  const proc = spawn(
    KAMAILIO,
    ['-DD', '-E', '-f', CFG, '-P', pidFile, '-Y', run, '-m', '64', '-M', '8', '-A', `WS_PORT=${port}`, '-A', `DOMAIN="${DOMAIN}"`, '-A', `PASSWORD="${PASSWORD}"`],
    { stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd);
  let exited = null;
  proc.on('exit', (code, sig) => (exited = { code, sig }));
  if (!(await waitTcp(port, 15000)) || exited) {
    throw new Error(`Kamailio did not start (exit ${JSON.stringify(exited)}); log: ${logPath}`);
  }
  say(`Kamailio ${proc.pid} on ws://127.0.0.1:${port} (run dir ${run})`);
  return {
    url: `ws://127.0.0.1:${port}`,
    async stop() {
      if (!exited) {
        proc.kill('SIGTERM');
        for (let i = 0; i < 50 && !exited; i++) await sleep(100);
        if (!exited) proc.kill('SIGKILL');
      }
      rmSync(run, { recursive: true, force: true });
    },
    alive: () => !exited,
  };
}

// --- SIP trace helpers ---------------------------------------------------------------------
const startLine = (m) => m.text.split('\r\n', 1)[0];
const header = (m, name) => {
  const re = new RegExp(`^${name}\\s*:\\s*(.*)$`, 'im');
  return m.text.match(re)?.[1]?.trim() ?? '';
};
const requests = (log, dir, method) => log.sip.filter((m) => m.dir === dir && startLine(m).startsWith(method + ' '));
const responses = (log, dir, code, method) =>
  log.sip.filter((m) => m.dir === dir && startLine(m).startsWith(`SIP/2.0 ${code} `) && header(m, 'CSeq').endsWith(method));
// The fake microphones play a quiet tone (Firefox) or a beep a second (Chromium): either
// decodes to more energy than this within a few seconds (Firefox's ~0.001 a second,
// Chromium's beep ~0.05); silence stays at ~0 (Chromium's first frames: ~1e-9).
const MIN_ENERGY = 1e-3;
const INVALID_HOST = /^SIP\/2\.0\/WSS? ([a-z0-9]{8}\.invalid)[;\s]/i;

async function scenario(name, kam, pageUrl) {
  const [callerKind, calleeKind] = name.split('-');
  const tag = name.replace(/-/g, '');
  const alice = `alice-${tag}`;
  const bob = `bob-${tag}`;
  const trace = (s) => say(`${name}: ${s}`);
  const browserLog = [];
  const opened = [];
  let a;
  let b;
  try {
    trace(`launch ${callerKind} (${alice}) and ${calleeKind} (${bob})`);
    a = await launch(callerKind, { name: alice, artifacts: ARTIFACTS, log: (s) => browserLog.push(s) });
    opened.push(a);
    live.add(a);
    b = await launch(calleeKind, { name: bob, artifacts: ARTIFACTS, log: (s) => browserLog.push(s) });
    opened.push(b);
    live.add(b);
    await a.open(pageUrl);
    await b.open(pageUrl);

    // Kamailio checks the password: a wrong one is refused.
    const bad = await a.call('tryRegister', { ws: kam.url, uri: `sip:${alice}@${DOMAIN}`, password: 'wrong' });
    check(`${name}: a wrong password is refused by Kamailio (401 again)`, /^failed/.test(bad), bad);
    await a.call('clearLog');

    // Registration (401 digest) of both.
    const [ra, rb] = await Promise.all([
      a.call('register', { ws: kam.url, uri: `sip:${alice}@${DOMAIN}`, password: PASSWORD, name: alice }),
      b.call('register', { ws: kam.url, uri: `sip:${bob}@${DOMAIN}`, password: PASSWORD, name: bob }),
    ]);
    check(`${name}: both register at Kamailio`, ra === 'registered' && rb === 'registered', `${ra}/${rb}`);
    let la = await a.call('log');
    const regs = requests(la, '>', 'REGISTER');
    check(`${name}: REGISTER challenged (401) and retried with digest credentials`,
      responses(la, '<', 401, 'REGISTER').length >= 1 && /Digest .*response="[0-9a-f]{32}"/.test(header(regs.at(-1) ?? { text: '' }, 'Authorization')),
      `${regs.length} REGISTERs`);
    const via = header(regs[0], 'Via');
    const contact = header(regs[0], 'Contact');
    const host = via.match(INVALID_HOST)?.[1];
    check(`${name}: Via/Contact host is a random <8 alnum>.invalid (RFC 7118 §5.2)`,
      host && contact.includes(`@${host};transport=ws`), `Via ${via} | Contact ${contact}`);

    // The call: caller → Kamailio (407 digest) → callee over its WebSocket connection.
    trace('call');
    const calling = a.call('call', `sip:${bob}@${DOMAIN}`);
    const from = await within(b.call('waitIncoming', 15000), 20000, 'incoming call');
    check(`${name}: callee gets the INVITE with the caller's identity`, from.includes(alice), from);
    await within(b.call('answer'), 20000, 'answer');
    check(`${name}: call established on both sides`, (await within(calling, 25000, 'caller established')) === 'established');
    la = await a.call('log');
    let lb = await b.call('log');
    const invites = requests(la, '>', 'INVITE');
    check(`${name}: INVITE challenged (407) and retried with Proxy-Authorization`,
      responses(la, '<', 407, 'INVITE').length >= 1 && /Digest /.test(header(invites.at(-1) ?? { text: '' }, 'Proxy-Authorization')),
      `${invites.length} INVITEs`);
    const inInvite = requests(lb, '<', 'INVITE')[0];
    const bobHost = header(requests(lb, '>', 'REGISTER')[0], 'Via').match(INVALID_HOST)?.[1];
    check(`${name}: Kamailio reached the callee by its connection (Request-URI host ${bobHost})`,
      inInvite && bobHost && startLine(inInvite).includes(`@${bobHost}`) && /Record-Route/i.test(inInvite.text),
      inInvite ? startLine(inInvite) : 'no INVITE');

    const ack = requests(la, '>', 'ACK').at(-1);
    check(`${name}: in-dialog requests carry Kamailio's connection alias (add_contact_alias on the 200)`,
      ack && /;alias=127\.0\.0\.1~\d+~5/.test(startLine(ack)), ack ? startLine(ack) : 'no ACK');

    // Media both ways over loopback.
    let sa;
    let sb;
    for (let i = 0; i < 100; i++) {
      [sa, sb] = await Promise.all([a.call('stats'), b.call('stats')]);
      if (sa.inboundPackets > 25 && sb.inboundPackets > 25 && sa.audioEnergy > MIN_ENERGY && sb.audioEnergy > MIN_ENERGY) break;
      await sleep(100);
    }
    await a.screenshot(`${name}-caller-${callerKind}-in-call`);
    await b.screenshot(`${name}-callee-${calleeKind}-in-call`);
    check(`${name}: RTP reaches the callee (inbound-rtp packets > 0)`, sb.inboundPackets > 0, JSON.stringify(sb));
    check(`${name}: RTP reaches the caller (inbound-rtp packets > 0)`, sa.inboundPackets > 0, JSON.stringify(sa));
    check(`${name}: both decode audio that is not silence (inbound totalAudioEnergy > ${MIN_ENERGY})`, sa.audioEnergy > MIN_ENERGY && sb.audioEnergy > MIN_ENERGY, `${sa.audioEnergy} / ${sb.audioEnergy}`);
    check(`${name}: both ends use the same DTLS-SRTP profile (${sa.srtpCipher})`, sa.srtpCipher && sa.srtpCipher === sb.srtpCipher, `${sa.srtpCipher} / ${sb.srtpCipher}`);
    trace(`media: caller ${sa.codec} ${sa.srtpCipher || '(SRTP cipher not exposed)'}, callee ${sb.codec} ${sb.srtpCipher || '(SRTP cipher not exposed)'}`);

    // The callee hangs up; both see the end.
    trace('hangup');
    await b.call('hangup');
    const [ea, eb] = await Promise.all([within(a.call('waitEnded', 10000), 15000, 'caller end'), within(b.call('waitEnded', 10000), 15000, 'callee end')]);
    check(`${name}: callee hangs up, both see the call end (caller: remote, callee: local)`, ea === 'remote' && eb === 'local', `${ea}/${eb}`);
    // The callee's call ends at once (local hangup); its 200 to the BYE may still be on the way.
    for (let i = 0; i < 50; i++) {
      lb = await b.call('log');
      if (responses(lb, '<', 200, 'BYE').length) break;
      await sleep(100);
    }
    la = await a.call('log');
    const bye = requests(la, '<', 'BYE')[0];
    check(`${name}: BYE routed by Kamailio to the caller's connection`, bye && responses(lb, '<', 200, 'BYE').length === 1, bye ? startLine(bye) : 'no BYE');
    await a.screenshot(`${name}-caller-${callerKind}-ended`);
    await b.screenshot(`${name}-callee-${calleeKind}-ended`);

    // The other way round, declined: the callee calls the caller, who answers 486.
    const outcome = b.call('callOutcome', `sip:${alice}@${DOMAIN}`);
    await within(a.call('waitIncoming', 15000), 20000, 'incoming call (reverse)');
    await a.call('reject', 486);
    const declined = await within(outcome, 20000, 'declined call outcome');
    check(`${name}: reverse call declined with 486, relayed by Kamailio`, declined === 'rejected 486', declined);
    const [ua, ub] = await Promise.all([a.call('stop'), b.call('stop')]);
    check(`${name}: both unregister`, ua === 'unregistered' && ub === 'unregistered', `${ua}/${ub}`);
    const errs = [...la.errors, ...lb.errors];
    check(`${name}: no uncaught errors in the pages`, errs.length === 0, errs.join('\n'));
  } catch (e) {
    check(`${name}: scenario ran to the end`, false, e?.stack ?? e);
    for (const [x, who] of [[a, 'caller'], [b, 'callee']]) {
      await x?.screenshot(`${name}-${who}-${x.kind}-failure`).catch(() => undefined);
    }
  } finally {
    for (const [x, who] of [[a, 'caller'], [b, 'callee']]) {
      const l = await x?.call('log').catch(() => null);
      if (l) writeFileSync(join(ARTIFACTS, `${name}-${who}-${x.kind}.sip.txt`), l.sip.map((m) => `${m.dir}${m.dir}${m.dir}\n${m.text}`).join('\n'));
    }
    writeFileSync(join(ARTIFACTS, `${name}-browser-console.txt`), browserLog.join('\n') + '\n');
    for (const x of opened) {
      await x.close();
      live.delete(x);
    }
    check(`${name}: Kamailio still running`, kam.alive());
  }
}

let kam;
let failed = 0;
// Kamailio is our child: never leave it running (in the namespace it would keep the
// namespace alive), whatever ends this run.
const WATCHDOG_S = Number(process.env.INTEROP_TIMEOUT ?? 600);
const abort = async (why) => {
  console.log(`FAIL ${why}`);
  await kam?.stop();
  await Promise.race([Promise.all([...live].map((x) => x.close())), sleep(10000)]);
  process.exit(1);
};
const watchdog = setTimeout(() => abort(`interop run took longer than ${WATCHDOG_S} s`), WATCHDOG_S * 1000);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => abort(`interrupted (${sig})`));
try {
  if (!existsSync(join(ROOT, 'wasm', 'dist', 'index.js'))) throw new Error('wasm/dist missing: run scripts/build-wasm.sh first');
  await new Promise((r) => http.listen(0, '127.0.0.1', r));
  const pageUrl = `http://127.0.0.1:${http.address().port}/tests/interop/page.html`;
  kam = await startKamailio();
  for (const s of scenarios) {
    if (!ALL.includes(s)) throw new Error(`unknown scenario ${s} (known: ${ALL.join(', ')})`);
    await scenario(s, kam, pageUrl);
  }
} catch (e) {
  check('interop run', false, e?.stack ?? e);
} finally {
  clearTimeout(watchdog);
  await kam?.stop();
  http.close();
  failed = results.filter((r) => !r.ok).length;
  console.log(`\n${results.length - failed} passed, ${failed} failed (artifacts: ${ARTIFACTS})`);
  if (failed) {
    const log = join(ARTIFACTS, 'kamailio.log');
    if (existsSync(log)) console.log(`--- last lines of ${log}\n` + readFileSync(log, 'utf8').split('\n').slice(-40).join('\n'));
  }
}
process.exit(failed || results.length === 0 ? 1 : 0);
