// Helpers of the third-party SIP library tests (tests/thirdparty/*.test.mjs): the test page
// (page.js: JsSIP and SIP.js bundled by esbuild, served by a small HTTP server on
// 127.0.0.1) and the gateway started with the extensions these tests dial. Everything else
// (tone WAVs, Goertzel, the gateway and softphone processes, headless Chromium with fake
// media, RTP statistics, WebAudio listeners) comes from tests/browser/lib.mjs and is
// re-exported here.
import { createServer } from 'node:http';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import esbuild from 'esbuild';
import { ROOT, log, startGateway, USERS, api, until } from '../browser/lib.mjs';

export * from '../browser/lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
// Artifacts of these tests go to artifacts/thirdparty/<test>/ (read by lib.mjs's artifacts()).
process.env.ARTIFACTS ??= join(ROOT, 'artifacts/thirdparty');

/** The gateway's tone extension: `[[dialplan]] 601 → tone` plays TONE_HZ (gateway/src/sip/b2bua/mod.rs). */
export const TONE_EXT = '601';
export const TONE_HZ = 1000;
export const ECHO_EXT = '600';

/**
 * Starts the gateway (tests/browser/lib.mjs's configuration: users alice and bob, `600` echo)
 * plus `601` → tone, without the web demo check. No trunk is used: `trunkAddr` points nowhere
 * unless given.
 */
export function startGw(dir, { http, sip, trunkAddr = '127.0.0.1:9', mediaPorts }) {
  const extraConfig = `[[dialplan]]
pattern = "${TONE_EXT}"
target = "tone"
`;
  return startGateway(dir, { http, sip, trunkAddr, mediaPorts, extraConfig, demo: false });
}

/** WebSocket URL of the gateway's SIP-over-WebSocket endpoint (RFC 7118). */
export const wsUrl = (gw) => gw.url.replace(/^http/, 'ws') + '/ws';

/**
 * Bundles page.js (JsSIP + SIP.js + the `window.T` harness) and serves it on 127.0.0.1 (an
 * ephemeral port; 127.0.0.1 is a secure context, so getUserMedia works over plain HTTP).
 * Resolves with `{ url, close }`.
 */
export async function servePage() {
  const js = (await esbuild.build({
    entryPoints: [join(here, 'page.js')], bundle: true, format: 'iife', platform: 'browser',
    write: false, logLevel: 'silent', target: 'chrome100',
  })).outputFiles[0].contents;
  const html = '<!doctype html><meta charset=utf-8><title>rvoip third-party</title><body><script src="/page.js"></script></body>';
  const server = createServer((req, res) => {
    if (req.url === '/page.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(js);
    } else if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
    } else if (req.url === '/favicon.ico') {
      res.writeHead(204);
      res.end();
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) };
}

/**
 * Opens the test page in `ctx`; browser console errors and warnings go to the log (all of
 * them with `debug`, which also turns on the libraries' own SIP logs).
 */
export async function openPage(ctx, url, who, { debug = !!process.env.SIP_DEBUG } = {}) {
  const page = await ctx.newPage();
  if (debug) await page.addInitScript(() => { window.__jssipDebug = true; window.__sipjsDebug = true; });
  page.on('console', (m) => {
    if (debug || m.type() === 'error' || m.type() === 'warning') log(`${who} console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => log(`${who} page error: ${e}`));
  await page.goto(url);
  await page.waitForFunction(() => !!window.T);
  return page;
}

/** The page's library events (`window.__events`), optionally of one `lib` and event name. */
export const events = (page, lib, name) => page.evaluate(([l, n]) => window.T.events(l, n), [lib, name]);

/** Waits until the page has logged event `name` of `lib`; resolves with the last such event. */
export async function waitEvent(page, lib, name, ms = 15000) {
  await page.waitForFunction(([l, n]) => window.T.events(l, n).length > 0, [lib, name], { timeout: ms });
  return (await events(page, lib, name)).at(-1);
}

/**
 * Registers `user` with JsSIP (`lib = 'jssip'`) or SIP.js (`'sipjs'`) on the gateway `gw`
 * (with `password` instead of the user's own when given).
 */
export function registerWith(page, lib, gw, user, password = USERS[user]) {
  const opts = { ws: wsUrl(gw), user, password, domain: '127.0.0.1' };
  return page.evaluate(([fn, o]) => window.T[fn](o), [lib === 'jssip' ? 'jssipStart' : 'sipjsStart', opts]);
}

/** `a=` direction attribute of an SDP (the first one; `sendrecv` when absent). */
export const sdpDirection = (sdp) => (sdp?.match(/^a=(sendrecv|sendonly|recvonly|inactive)\r?$/m) ?? [])[1] ?? 'sendrecv';

/**
 * Waits until the gateway holds no call: `/api/calls` empty and `/api/stats` counting no call,
 * leg or media port (a finished call task and its route linger a few seconds absorbing
 * retransmissions, by design, so they are not waited for).
 * Resolves with the stats.
 */
export function gatewayIdle(gw, ms = 6000) {
  return until(async () => {
    const [calls, st] = await Promise.all([api(gw, '/api/calls'), api(gw, '/api/stats')]);
    return calls.length === 0 && st.calls === 0 && st.legs === 0 && st.media_ports === 0 && st;
  }, 'the gateway holds no call (/api/calls, /api/stats)', ms);
}
