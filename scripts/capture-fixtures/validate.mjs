// Checks rvoip's SDP against real browsers and records the results as fixtures:
//  1. each browser makes an audio+video and an audio offer; rvoip answers them (the ignored test
//     `sdp_browser::answer_browser_offer_from_env`); the browser must accept that answer
//     with setRemoteDescription;
//  2. each browser answers rvoip's own WebRTC offer; that answer is saved as
//     `core/tests/fixtures/sdp/{browser}_answer_to_rvoip_offer.sdp` (and the offer as
//     `rvoip_webrtc_offer.sdp`) for `core/tests/sdp_browser.rs`.
//
//   npm install && node validate.mjs        (from scripts/capture-fixtures; needs cargo)
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = process.env.RVOIP_REPO ?? path.resolve(here, '../..');
const out = path.resolve(process.argv[2] ?? path.join(repo, 'core/tests/fixtures/sdp'));
const io = fs.mkdtempSync(path.join(os.tmpdir(), 'rvoip-sdp-'));

const helpers = `
window.keep = [];
window.waitGathering = (pc, ms = 8000) => new Promise((resolve) => {
  if (pc.iceGatheringState === 'complete') return resolve();
  pc.addEventListener('icegatheringstatechange', () => {
    if (pc.iceGatheringState === 'complete') resolve();
  });
  setTimeout(resolve, ms);
});
window.makeOffer = async (video) => {
  const pc = new RTCPeerConnection();
  window.keep.push(pc);
  window.offerer = pc;
  const s = await navigator.mediaDevices.getUserMedia({ audio: true, video: !!video });
  for (const t of s.getTracks()) pc.addTrack(t, s);
  await pc.setLocalDescription(await pc.createOffer());
  await window.waitGathering(pc);
  return pc.localDescription.sdp;
};
window.acceptAnswer = async (sdp) => {
  try {
    await window.offerer.setRemoteDescription({ type: 'answer', sdp });
    return 'ok ' + window.offerer.signalingState;
  } catch (e) { return 'ERROR ' + e.message; }
};
window.answerOffer = async (sdp) => {
  const pc = new RTCPeerConnection();
  window.keep.push(pc);
  try {
    await pc.setRemoteDescription({ type: 'offer', sdp });
  } catch (e) { return 'ERROR ' + e.message; }
  const s = await navigator.mediaDevices.getUserMedia({ audio: true });
  for (const t of s.getTracks()) pc.addTrack(t, s);
  await pc.setLocalDescription(await pc.createAnswer());
  await window.waitGathering(pc);
  return pc.localDescription.sdp;
};`;

// getUserMedia needs a secure context: serve a blank page from 127.0.0.1.
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>sdp</title>');
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}/`;

function rvoipAnswer(offerSdp) {
  fs.writeFileSync(path.join(io, 'browser_offer.sdp'), offerSdp);
  execFileSync('cargo', ['test', '-q', '-p', 'rvoip-core', '--test', 'sdp_browser',
    'answer_browser_offer_from_env', '--', '--ignored'],
  { cwd: repo, env: { ...process.env, SDP_IO_DIR: io }, stdio: ['ignore', 'ignore', 'inherit'] });
  return {
    answer: fs.readFileSync(path.join(io, 'rvoip_answer.sdp'), 'utf8'),
    offer: fs.readFileSync(path.join(io, 'rvoip_offer.sdp'), 'utf8'),
  };
}

async function check(name, page) {
  await page.goto(base);
  await page.evaluate(helpers);
  // Audio+video first: rvoip rejects the video section (port 0) and keeps audio.
  const avOffer = await page.evaluate('makeOffer(true)');
  const av = await page.evaluate(`acceptAnswer(${JSON.stringify(rvoipAnswer(avOffer).answer)})`);
  console.log(`${name}: setRemoteDescription(rvoip answer to audio+video) -> ${av}`);
  const browserOffer = await page.evaluate('makeOffer(false)');
  const r = rvoipAnswer(browserOffer);
  const accepted = await page.evaluate(`acceptAnswer(${JSON.stringify(r.answer)})`);
  console.log(`${name}: setRemoteDescription(rvoip answer) -> ${accepted}`);
  const ans = await page.evaluate(`answerOffer(${JSON.stringify(r.offer)})`);
  if (ans.startsWith('ERROR')) {
    console.log(`${name}: setRemoteDescription(rvoip offer) -> ${ans}`);
  } else {
    console.log(`${name}: answered rvoip offer`);
    fs.writeFileSync(path.join(out, `${name}_answer_to_rvoip_offer.sdp`), ans);
  }
  fs.writeFileSync(path.join(out, 'rvoip_webrtc_offer.sdp'), r.offer);
  return av.startsWith('ok') && accepted.startsWith('ok') && !ans.startsWith('ERROR');
}

let ok = true;
const cb = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
ok = (await check('chromium', await (await cb.newContext()).newPage())) && ok;
await cb.close();
if (!process.env.SKIP_FIREFOX) {
  const fb = await puppeteer.launch({
    browser: 'firefox',
    executablePath: process.env.FIREFOX ?? '/usr/bin/firefox-esr',
    headless: true,
    extraPrefsFirefox: {
      'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true,
      'permissions.default.microphone': 1,
    },
  });
  ok = (await check('firefox', await fb.newPage())) && ok;
  await fb.close();
}
fs.rmSync(io, { recursive: true, force: true });
server.close();
console.log(ok ? 'ALL ACCEPTED' : 'SOME REJECTED');
process.exit(ok ? 0 : 1);
