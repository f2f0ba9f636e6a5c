// Test 4: the WebSocket is cut and the package reconnects and re-registers by itself. The
// page's WebSocket goes through a TCP proxy in this test (127.0.0.1:8190 → the gateway), so
// that the connection can be dropped at chosen moments:
//  a. mid-registration: the first connection is reset when the gateway's 401 challenge to the
//     first REGISTER comes back (the page never sees it);
//  b. while registered: the connection is reset; the gateway drops the flow's binding at
//     once (RFC 5626) and the page registers again over a new connection;
//  c. the gateway itself is stopped and started again (same configuration and data).
// Each time /api/registrations must list alice again, over the new connection (its source
// is the proxy's new upstream port). Then an echo call (600) over the last connection proves
// the re-registered flow carries calls: the page hears its own 440 Hz tone back.
import net from 'node:net';
import { join } from 'node:path';
import {
  runTest, log, check, sleep, until, writeToneWav, startGateway, api, launchChromium, openDemo,
  register, waitState, rtpStats, listen,
} from './lib.mjs';

const BROWSER_HZ = 440;
const HTTP = 8084;
const PROXY = 8190;

/** A TCP proxy that can reset its connections. */
class Proxy {
  constructor(target) {
    this.conns = [];
    this.cutOn = null; // (server→client chunk) => bool: reset that connection instead
    this.cuts = 0;
    this.server = net.createServer((c) => {
      const up = net.connect(target, '127.0.0.1');
      const rec = { client: c, up, upPort: undefined, n: this.conns.length + 1 };
      this.conns.push(rec);
      up.on('connect', () => (rec.upPort = up.localPort));
      up.on('data', (d) => {
        if (this.cutOn?.(d.toString('latin1'))) {
          this.cutOn = null;
          log(`proxy: resetting connection ${rec.n} on ${JSON.stringify(d.toString('latin1').split('\r\n')[0].replace(/^[^A-Z]*/, ''))}`);
          this.reset(rec);
          return;
        }
        c.write(d);
      });
      c.on('data', (d) => up.write(d));
      for (const [a, b] of [[c, up], [up, c]]) {
        a.on('error', () => {});
        a.on('close', () => b.destroy());
      }
    });
  }
  listen(port) {
    return new Promise((r) => this.server.listen(port, '127.0.0.1', r));
  }
  reset(rec) {
    this.cuts++;
    rec.client.resetAndDestroy();
    rec.up.destroy();
  }
  resetAll() {
    for (const rec of this.conns) if (!rec.client.destroyed) this.reset(rec);
  }
  last() {
    return this.conns.at(-1);
  }
  close() {
    this.resetAll();
    this.server.close();
  }
}

/**
 * Waits until the page has opened a connection past the first `after` ones and
 * /api/registrations lists alice over it (the proxy's upstream port is the source).
 */
async function registeredOverLatest(gw, proxy, after, what) {
  const regs = await until(async () => {
    const up = proxy.conns.length > after && proxy.last().upPort;
    const r = await api(gw, '/api/registrations').catch(() => []);
    return up && r.length === 1 && r[0].user === 'alice' && r[0].source === `127.0.0.1:${up}` && r;
  }, what, 30000);
  return regs[0];
}

await runTest('4-reconnect', async ({ dir, cleanup }) => {
  const micWav = join(dir, 'browser-mic-440.wav');
  writeToneWav(micWav, { freq: BROWSER_HZ, seconds: 10, gate: [0.6, 0.4] });
  let gw = await startGateway(dir, { http: HTTP, sip: 5064, trunkAddr: '127.0.0.1:5070' });
  const proxy = new Proxy(HTTP);
  await proxy.listen(PROXY);
  cleanup.push(() => proxy.close());
  proxy.cutOn = (d) => d.includes('SIP/2.0 401');

  const ctx = await launchChromium(dir, micWav);
  cleanup.push(() => ctx.close());
  const page = await openDemo(ctx, gw, 'alice');
  const badges = () => page.evaluate(() => window.__badges.splice(0));

  // a. cut mid-registration
  const t0 = Date.now();
  await page.fill('#account input[name=servers]', `ws://127.0.0.1:${PROXY}/ws`);
  await register(page, 'alice', { timeout: 30000 });
  let b = await badges();
  log(`badges: ${b.join(' | ')}`);
  check(proxy.cuts === 1 && proxy.conns.length >= 2, `the first connection was reset mid-registration and the page connected again (${proxy.conns.length} connections)`);
  check(b.some((x) => /^transport: (disconnected|connecting)/.test(x)) && b.at(-1) === 'registration: registered',
    `the page went through a reconnection and ended registered (${Date.now() - t0} ms)`);
  let reg = await registeredOverLatest(gw, proxy, 1, 'alice is registered over the second connection');
  check(true, `/api/registrations: alice over ${reg.source} (connection ${proxy.last().n}), expires in ${reg.expires_in} s`);

  // b. cut while registered
  const before = reg.source;
  const t1 = Date.now();
  let n = proxy.conns.length;
  proxy.resetAll();
  // The page waits at least 2 s before reconnecting (wasm/src/pool.rs): the gateway must drop
  // the closed flow's binding before that (gateway/src/sip/mod.rs `flow_closed`: a binding
  // over a WebSocket can only be reached through that connection).
  await until(async () => (await api(gw, '/api/registrations')).length === 0, "the gateway drops the closed flow's binding", 1500, 50);
  check(true, `the gateway dropped the binding of the closed flow (${Date.now() - t1} ms after the reset)`);
  reg = await registeredOverLatest(gw, proxy, n, 'alice is registered again over a new connection');
  check(reg.source !== before, `after the reset alice is registered again over ${reg.source} (was ${before}; ${Date.now() - t1} ms)`);
  await page.waitForFunction(() => document.getElementById('registration').textContent === 'registered', null, { timeout: 10000 });
  b = await badges();
  log(`badges: ${b.join(' | ')}`);
  check(b.some((x) => /^transport: (disconnected|connecting)/.test(x)), 'the page showed the lost connection');

  // c. the gateway restarts
  const t2 = Date.now();
  n = proxy.conns.length;
  await gw.stop();
  check((await fetch(`http://127.0.0.1:${HTTP}/`).then(() => 'up', () => 'down')) === 'down', 'the gateway is down');
  await page.waitForFunction(() => /^(disconnected|connecting)/.test(document.getElementById('transport').textContent), null, { timeout: 10000 });
  await page.screenshot({ path: join(dir, 'gateway-down.png'), fullPage: true });
  await sleep(1000);
  gw = await startGateway(dir, { http: HTTP, sip: 5064, trunkAddr: '127.0.0.1:5070' });
  reg = await registeredOverLatest(gw, proxy, n, 'alice is registered with the restarted gateway');
  check(true, `the restarted gateway lists alice over ${reg.source} (${Date.now() - t2} ms after the stop)`);
  await page.waitForFunction(() => document.getElementById('registration').textContent === 'registered', null, { timeout: 10000 });

  // A call over the re-registered connection: the echo service.
  await page.fill('#number', '600');
  await page.click('#call');
  await waitState(page, /^established/);
  await sleep(1500);
  const s1 = await rtpStats(page);
  const spec = await listen(page, 2000, [BROWSER_HZ]);
  const s2 = await rtpStats(page);
  log(`getStats ${JSON.stringify(s2)}; spectrum ${JSON.stringify(spec)}`);
  check(s2.inbound.packetsReceived - s1.inbound.packetsReceived >= 60 && Math.abs(spec.peakHz - BROWSER_HZ) <= 15,
    `an echo call over the new connection works: the page hears its own ${BROWSER_HZ} Hz back (peak ${spec.peakHz} Hz)`);
  await page.screenshot({ path: join(dir, 'echo-call-after-reconnect.png'), fullPage: true });
  await page.click('#hangup');
  await waitState(page, /^ended/);
  await until(async () => (await api(gw, '/api/calls')).length === 0, 'no call left in the gateway', 5000);
  check(true, 'no call is left in the gateway');
});
