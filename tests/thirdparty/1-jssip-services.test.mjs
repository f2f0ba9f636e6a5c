// Test 1: JsSIP (its own WebSocketInterface, REGISTER with digest auth, INVITE with a WebRTC
// offer) against the gateway's /ws. Chromium's fake microphone plays a keyed 440 Hz tone.
// With a wrong password JsSIP's REGISTER is refused; then JsSIP registers as alice (the gateway's 401 challenge answered; /api/registrations lists
// her over WS), calls the tone extension 601: the page's inbound-rtp shows packets and audio
// energy and its remote audio peaks at the gateway's 1 kHz; JsSIP hangs up (BYE); then calls
// the echo extension 600 and hears its own 440 Hz back; hangs up. /api/calls is empty after
// each call and both call records are written with cause `normal`.
import { join } from 'node:path';
import {
  runTest, log, check, sleep, until, writeToneWav, api, launchChromium, rtpStats, listen,
  startGw, servePage, openPage, registerWith, waitEvent, events, TONE_EXT, TONE_HZ, ECHO_EXT,
} from './lib.mjs';

const MIC_HZ = 440;

/** Calls `ext` from the JsSIP page, waits for `confirmed` and a second of media. */
async function callUp(page, gw, ext) {
  const before = (await page.evaluate(() => window.__events.length));
  await page.evaluate((t) => window.T.jssipCall(t), `sip:${ext}@127.0.0.1`);
  await page.waitForFunction((n) => window.__events.slice(n).some((e) => e.lib === 'jssip' && ['confirmed', 'failed', 'ended'].includes(e.ev)), before, { timeout: 15000 });
  const last = (await events(page, 'jssip')).filter((e) => ['confirmed', 'failed', 'ended'].includes(e.ev)).at(-1);
  check(last.ev === 'confirmed', `JsSIP's call to ${ext} is confirmed (${JSON.stringify(last)})`);
  const calls = await api(gw, '/api/calls');
  check(calls.length === 1 && calls[0].from === 'alice' && calls[0].to === ext && calls[0].state === 'answered',
    `/api/calls shows alice → ${ext} answered (${JSON.stringify(calls.map(({ from, to, state }) => ({ from, to, state })))})`);
}

/** JsSIP hangs up; the session ends locally and the gateway forgets the call. */
async function hangUp(page, gw, ext) {
  const n = (await events(page, 'jssip', 'ended')).length;
  await page.evaluate(() => window.T.jssip.session.terminate());
  await page.waitForFunction((k) => window.T.events('jssip', 'ended').length > k, n, { timeout: 5000 });
  const end = (await events(page, 'jssip', 'ended')).at(-1);
  check(end.originator === 'local', `JsSIP hangs up the call to ${ext} (${JSON.stringify(end)})`);
  await until(async () => (await api(gw, '/api/calls')).length === 0, `the gateway ends the call to ${ext}`, 5000);
  check(true, `/api/calls is empty after the call to ${ext}`);
  const cdr = await until(async () => (await api(gw, '/api/cdrs')).find((c) => c.to === ext), `the call record of ${ext}`, 5000);
  check(cdr.from === 'alice' && cdr.cause.startsWith('normal') && cdr.answered_ms, `call record alice → ${ext}: ${cdr.cause}, answered`);
}

await runTest('1-jssip-services', async ({ dir, cleanup }) => {
  const micWav = join(dir, `mic-${MIC_HZ}.wav`);
  writeToneWav(micWav, { freq: MIC_HZ, seconds: 10, gate: [0.6, 0.4] });
  const gw = await startGw(dir, { http: 8091, sip: 5091, mediaPorts: [31000, 31499] });
  const site = await servePage();
  cleanup.push(() => site.close());
  const ctx = await launchChromium(dir, micWav);
  cleanup.push(() => ctx.close());
  const page = await openPage(ctx, site.url, 'jssip');
  cleanup.push(async () => log(`JsSIP events: ${JSON.stringify(await events(page))}`));

  // A wrong password: the gateway's challenge is answered, and refused.
  const wrong = await registerWith(page, 'jssip', gw, 'alice', 'not-the-password').then((c) => `registered (${c})`, (e) => e.message.split('\n')[0]);
  check(/registrationFailed/.test(wrong) && (await api(gw, '/api/registrations')).length === 0, `JsSIP with a wrong password is not registered (${wrong})`);
  await page.evaluate(() => window.T.jssip.ua.stop());
  await page.reload();
  await page.waitForFunction(() => !!window.T);
  const code = await registerWith(page, 'jssip', gw, 'alice');
  check(code === 200, 'JsSIP registers as alice with digest auth (200 OK)');
  const regs = await api(gw, '/api/registrations');
  check(regs.length === 1 && regs[0].user === 'alice' && /^WSS?$/.test(regs[0].transport),
    `/api/registrations lists alice over WS (${JSON.stringify(regs.map(({ user, transport, contact }) => ({ user, transport, contact })))})`);

  // --- 601: the tone --------------------------------------------------------------------------
  await callUp(page, gw, TONE_EXT);
  await sleep(1000);
  const s1 = await rtpStats(page);
  const heard = await listen(page, 2000, [TONE_HZ, MIC_HZ]);
  const s2 = await rtpStats(page);
  log(`tone call: ${JSON.stringify(s2)}; heard ${JSON.stringify(heard)}`);
  check(s2.inbound.packetsReceived - s1.inbound.packetsReceived >= 60, `inbound-rtp: ${s2.inbound.packetsReceived - s1.inbound.packetsReceived} packets in ~2 s (${s2.codec})`);
  check(s2.inbound.totalAudioEnergy > s1.inbound.totalAudioEnergy, `inbound-rtp audio energy grows (${s1.inbound.totalAudioEnergy.toFixed(4)} → ${s2.inbound.totalAudioEnergy.toFixed(4)})`);
  check(Math.abs(heard.peakHz - TONE_HZ) <= 15 && heard.share[0] > 0.7,
    `the remote audio is the gateway's ${TONE_HZ} Hz tone (peak ${heard.peakHz} Hz, ${(heard.share[0] * 100).toFixed(0)} % of the energy)`);
  check(s2.outbound.packetsSent > 50, `outbound-rtp: ${s2.outbound.packetsSent} packets sent`);
  await page.screenshot({ path: join(dir, 'tone-call.png') });
  await hangUp(page, gw, TONE_EXT);

  // --- 600: the echo ------------------------------------------------------------------------
  await callUp(page, gw, ECHO_EXT);
  await sleep(1500);
  const echo = await listen(page, 2000, [MIC_HZ, TONE_HZ]);
  const s3 = await rtpStats(page);
  log(`echo call: ${JSON.stringify(s3)}; heard ${JSON.stringify(echo)}`);
  check(s3.inbound.packetsReceived > 60 && s3.inbound.totalAudioEnergy > 0, `echo inbound-rtp: ${s3.inbound.packetsReceived} packets, energy ${s3.inbound.totalAudioEnergy.toFixed(4)}`);
  check(Math.abs(echo.peakHz - MIC_HZ) <= 15 && echo.share[0] > 0.5, `the echo returns the page's own ${MIC_HZ} Hz (peak ${echo.peakHz} Hz)`);
  await hangUp(page, gw, ECHO_EXT);

  // --- unregister -------------------------------------------------------------------------------
  await page.evaluate(() => window.T.jssip.ua.unregister());
  await waitEvent(page, 'jssip', 'unregistered', 5000).catch(() => {});
  await until(async () => (await api(gw, '/api/registrations')).length === 0, 'JsSIP unregisters (REGISTER Expires: 0)', 5000);
  check(true, 'JsSIP unregisters: /api/registrations is empty');
});
