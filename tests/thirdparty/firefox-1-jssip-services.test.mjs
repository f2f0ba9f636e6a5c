// Test 1 in Firefox ESR: JsSIP in headless Firefox ESR (puppeteer-core over WebDriver BiDi,
// tests/browser/firefox/firefox.mjs; the system /usr/bin/firefox-esr) against the gateway.
// Firefox's fake microphone is its own sine generator, set to MIC_HZ. JsSIP registers as
// alice with digest auth, calls the tone extension 601: the DTLS transport is connected, the
// inbound-rtp shows packets and energy, and the remote audio (recorded with MediaRecorder and
// decoded in the page: Firefox's live WebAudio needs a sound device) carries the gateway's
// 1 kHz; hangs up; calls the echo extension 600 and hears its own MIC_HZ back; hangs up.
// The gateway holds no call afterwards and both call records are written.
import { join } from 'node:path';
import {
  runTest, log, check, sleep, until, api, rtpStats, toneWindows,
  startGw, servePage, openPage, registerWith, waitEvent, events, gatewayIdle, TONE_EXT, TONE_HZ, ECHO_EXT,
} from './lib.mjs';
import { launchFirefox, recordTrack, peakHz } from '../browser/firefox/firefox.mjs';

const MIC_HZ = 400; // an integer number of samples per period at 48 kHz, far from 1 kHz

/** JsSIP calls `ext`, the remote audio must carry `hz` (and not `other`); then hangs up. */
async function callAndHear(page, gw, ext, hz, other) {
  const n = (await events(page, 'jssip', 'confirmed')).length;
  await page.evaluate((t) => window.T.jssipCall(t), `sip:${ext}@127.0.0.1`);
  await page.waitForFunction((k) => window.T.events('jssip', 'confirmed').length > k, n, { timeout: 15000 });
  check(true, `Firefox/JsSIP: the call to ${ext} is confirmed`);
  await sleep(1500);
  const s1 = await rtpStats(page);
  const heard = await recordTrack(page, 'remote', 2000);
  const s2 = await rtpStats(page);
  const dtls = await page.evaluate(() => window.__pcs.at(-1).getSenders()[0]?.transport?.state);
  const tone = toneWindows(heard, hz, { others: [other] });
  const peak = peakHz(heard);
  log(`${ext}: ${JSON.stringify(s2)}; remote audio peak ${JSON.stringify(peak)}, ${JSON.stringify(tone)}`);
  check(dtls === 'connected', `DTLS transport connected (${dtls})`);
  check(s2.inbound.packetsReceived - s1.inbound.packetsReceived >= 60 && s2.inbound.totalAudioEnergy > s1.inbound.totalAudioEnergy,
    `inbound-rtp: ${s2.inbound.packetsReceived - s1.inbound.packetsReceived} packets in ~2 s, energy grows (${s2.codec})`);
  check(Math.abs(peak.hz - hz) <= 15 && tone.tone >= 10 && tone.other === 0,
    `the remote audio carries ${hz} Hz (peak ${peak.hz} Hz, ${tone.tone} of ${tone.windows} windows) and not ${other} Hz`);
  await page.evaluate(() => window.T.jssip.session.terminate());
  await waitEvent(page, 'jssip', 'ended', 5000);
  await gatewayIdle(gw);
  const cdr = await until(async () => (await api(gw, '/api/cdrs')).find((c) => c.to === ext), `the call record of ${ext}`, 5000);
  check(cdr.from === 'alice' && cdr.answered_ms && cdr.cause.startsWith('normal'), `hung up; the gateway holds no call; call record ${cdr.cause}`);
}

await runTest('firefox-1-jssip-services', async ({ dir, cleanup }) => {
  const gw = await startGw(dir, { http: 8097, sip: 5097, mediaPorts: [31000, 31499] });
  const site = await servePage();
  cleanup.push(() => site.close());
  const t0 = Date.now();
  const ctx = await launchFirefox({ fakeHz: MIC_HZ });
  cleanup.push(() => ctx.close());
  log(`${ctx.version} up in ${Date.now() - t0} ms`);
  const page = await openPage(ctx, site.url, 'firefox/jssip');
  cleanup.push(async () => log(`JsSIP events: ${JSON.stringify(await events(page))}`));
  const code = await registerWith(page, 'jssip', gw, 'alice');
  const regs = await api(gw, '/api/registrations');
  check(code === 200 && regs.length === 1 && regs[0].user === 'alice', 'Firefox/JsSIP registers as alice with digest auth');
  await callAndHear(page, gw, TONE_EXT, TONE_HZ, MIC_HZ);
  await callAndHear(page, gw, ECHO_EXT, MIC_HZ, TONE_HZ);
});
