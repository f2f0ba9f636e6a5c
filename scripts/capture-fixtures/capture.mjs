// Captures real WebRTC SDP from headless Chromium and Firefox, and the SIP messages
// (REGISTER, INVITE) that JsSIP and SIP.js send from those browsers over WebSocket.
//
//   npm install && node capture.mjs [OUT_DIR]   (OUT_DIR defaults to ../../core/tests/fixtures)
//
// Browsers are never downloaded: Chromium is /usr/bin/chromium (playwright-core, CDP) and
// Firefox is /usr/bin/firefox-esr (puppeteer-core, WebDriver BiDi). Override with
// CHROMIUM=/path and FIREFOX=/path. Set SKIP_FIREFOX=1 to capture Chromium only.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import esbuild from 'esbuild';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const out = path.resolve(process.argv[2] ?? path.join(here, '../../core/tests/fixtures'));
fs.mkdirSync(path.join(out, 'sdp'), { recursive: true });
fs.mkdirSync(path.join(out, 'sip'), { recursive: true });

function bundle(entry, globalName) {
  const r = esbuild.buildSync({
    entryPoints: [entry], bundle: true, format: 'iife', globalName, write: false,
    platform: 'browser', logLevel: 'silent',
  });
  return r.outputFiles[0].contents;
}
const assets = {
  '/jssip.js': bundle(require.resolve('jssip'), 'JsSIP'),
  '/sipjs.js': bundle(path.join(path.dirname(require.resolve('sip.js')), 'index.js'), 'SIP'),
  '/page.js': fs.readFileSync(path.join(here, 'page.js')),
  '/': Buffer.from('<!doctype html><meta charset=utf-8><title>capture</title>' +
    '<script src=/jssip.js></script><script src=/sipjs.js></script><script src=/page.js></script>'),
};

// HTTP for the page, WebSocket (subprotocol "sip", RFC 7118) that records every frame.
const frames = {}; // tag -> [Buffer]
const server = http.createServer((req, res) => {
  const body = assets[req.url.split('?')[0]];
  if (!body) { res.writeHead(404).end(); return; }
  res.writeHead(200, { 'content-type': req.url === '/' ? 'text/html' : 'text/javascript' }).end(body);
});
const wss = new WebSocketServer({ server, handleProtocols: (p) => (p.has('sip') ? 'sip' : false) });
wss.on('connection', (ws, req) => {
  const tag = new URL(req.url, 'http://x').searchParams.get('tag') ?? 'untagged';
  ws.on('message', (data) => {
    (frames[tag] ??= []).push(Buffer.from(data));
    console.log(`[ws ${tag}] ${Buffer.from(data).toString().split('\r\n')[0]}`);
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;
const base = `http://127.0.0.1:${port}/`;
const wsBase = `ws://127.0.0.1:${port}/`;

function save(rel, data) {
  fs.writeFileSync(path.join(out, rel), data);
  console.log(`saved ${rel} (${data.length} bytes)`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitFrames(tag, methods, ms = 20000) {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    const got = (frames[tag] ?? []).map((f) => f.toString().split(' ')[0]);
    if (methods.every((m) => got.includes(m))) return;
    await sleep(100);
  }
}
function saveSip(tag, prefix) {
  for (const method of ['INVITE', 'REGISTER']) {
    const f = (frames[tag] ?? []).find((b) => b.toString().startsWith(method + ' '));
    if (f) save(`sip/${prefix}_${method.toLowerCase()}.sip`, f);
    else console.log(`!! no ${method} from ${tag}`);
  }
}

async function capture(name, page) {
  await page.goto(base);
  const r = {};
  r.audio_offer = await page.evaluate('gatherOffer("audio")');
  r.av_offer = await page.evaluate('gatherOffer("av")');
  save(`sdp/${name}_audio_offer.sdp`, Buffer.from(r.audio_offer));
  save(`sdp/${name}_av_offer.sdp`, Buffer.from(r.av_offer));
  for (const lib of ['jssip', 'sipjs']) {
    const tag = `${name}_${lib}`;
    const fn = lib === 'jssip' ? 'runJssip' : 'runSipjs';
    try {
      await page.evaluate(`${fn}(${JSON.stringify(`${wsBase}?tag=${tag}`)})`);
      await waitFrames(tag, ['REGISTER', 'INVITE']);
      saveSip(tag, tag);
    } catch (e) {
      console.log(`!! ${tag}: ${e.message}`);
    }
  }
  r.userAgent = await page.evaluate('navigator.userAgent');
  return r;
}

const versions = {};
const cb = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const cpage = await (await cb.newContext()).newPage();
const c = await capture('chromium', cpage);
versions.chromium = `${cb.version()} (${c.userAgent})`;

let fpage = null;
let fb = null;
let f = null;
if (!process.env.SKIP_FIREFOX) {
  fb = await puppeteer.launch({
    browser: 'firefox',
    executablePath: process.env.FIREFOX ?? '/usr/bin/firefox-esr',
    headless: true,
    extraPrefsFirefox: {
      'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true,
      'permissions.default.microphone': 1,
      'permissions.default.camera': 1,
    },
  });
  fpage = await fb.newPage();
  f = await capture('firefox', fpage);
  versions.firefox = `${await fb.version()} (${f.userAgent})`;
  // Each browser answers the other's audio offer.
  save('sdp/chromium_audio_answer.sdp',
    Buffer.from(await cpage.evaluate(`answerTo(${JSON.stringify(f.audio_offer)})`)));
  save('sdp/firefox_audio_answer.sdp',
    Buffer.from(await fpage.evaluate(`answerTo(${JSON.stringify(c.audio_offer)})`)));
} else {
  // Without Firefox, Chromium answers its own offer (from a second peer connection).
  save('sdp/chromium_audio_answer.sdp',
    Buffer.from(await cpage.evaluate(`answerTo(${JSON.stringify(c.audio_offer)})`)));
}
versions.jssip = require('jssip/package.json').version;
versions['sip.js'] = JSON.parse(fs.readFileSync(
  path.join(path.dirname(require.resolve('sip.js')), '..', 'package.json'))).version;
save('sdp/VERSIONS.txt', Buffer.from(Object.entries(versions).map(([k, v]) => `${k}: ${v}`).join('\n') + '\n'));

await cb.close();
if (fb) await fb.close();
server.close();
process.exit(0);
