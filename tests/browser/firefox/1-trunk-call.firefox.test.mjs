// Test 1 in Firefox ESR (issue 6): the Chromium test ../1-trunk-call.test.mjs with headless
// Firefox ESR driven by puppeteer-core over WebDriver BiDi (./firefox.mjs) instead of
// Chromium. The web demo registers as alice and calls 9123, which the dial plan routes to
// the trunk `carrier`: the native softphone answering at 127.0.0.1:5070, playing a 1 kHz tone
// and recording what it hears. Firefox's fake microphone is its own continuous sine
// generator, set to BROWSER_HZ (pref media.navigator.audio.fake_frequency; the default
// 1000 Hz would be the trunk's own tone); the test first checks in the page that the
// microphone really plays BROWSER_HZ, so a Firefox that ignores the pref fails loudly
// instead of making the tone checks meaningless.
// Checked: the call is up in the page and in /api/calls; the DTLS-SRTP handshake with
// Firefox completes with SRTP_AEAD_AES_128_GCM and the gateway counts no DTLS failure; the browser's inbound-rtp shows
// packets and audio energy; its remote audio (recorded and decoded in the page, see
// recordTrack in ./firefox.mjs: WebAudio cannot run live without a sound device) carries the
// trunk's 1 kHz tone and not BROWSER_HZ; a DTMF digit from the dial pad (Firefox's
// RTCDTMFSender) reaches the trunk as RFC 4733; a digit the trunk sends by SIP INFO reaches
// the page; the hang-up from the page ends the softphone's call; the softphone's recording
// carries BROWSER_HZ (Goertzel) and not its own 1 kHz tone; the call record is written.
// Runs inside the loopback-only network namespace of scripts/test-browser.sh.
import { join } from 'node:path';
import {
  runTest, log, check, sleep, until, writeToneWav, readWav, toneWindows, startGateway, api,
  softphone, openDemo, register, waitState, rtpStats,
} from '../lib.mjs';
import { launchFirefox, recordTrack, peakHz } from './firefox.mjs';

/** The tone of Firefox's fake microphone (an integer number of samples per period at 48 kHz). */
const BROWSER_HZ = Number(process.env.FIREFOX_FAKE_HZ ?? 400);
const TRUNK_HZ = 1000;
if (Math.abs(BROWSER_HZ - TRUNK_HZ) < 100) throw new Error(`FIREFOX_FAKE_HZ=${BROWSER_HZ} is too close to the trunk's ${TRUNK_HZ} Hz to tell the two ends apart`);

await runTest('firefox-1', async ({ dir, cleanup }) => {
  const trunkWav = join(dir, 'trunk-1000.wav');
  writeToneWav(trunkWav, { rate: 8000, freq: TRUNK_HZ, seconds: 60 });
  const heard = join(dir, 'trunk-heard.wav');

  const trunk = softphone(dir, 'trunk', ['answer', '--auto-answer', '--local-addr', '127.0.0.1:5070',
    '--codecs', 'pcmu', '--input', trunkWav, '--output', heard, '--duration', '60', '--dtmf-info']);
  await trunk.waitLine(/waiting for a call/);
  const gw = await startGateway(dir, { http: 8091, sip: 5091, trunkAddr: '127.0.0.1:5070' });
  log(`gateway up at ${gw.url}`);

  const t0 = Date.now();
  const ctx = await launchFirefox({ fakeHz: BROWSER_HZ });
  cleanup.push(() => ctx.close());
  log(`${ctx.version} up (puppeteer-core, WebDriver BiDi) in ${Date.now() - t0} ms`);
  const page = await openDemo(ctx, gw, 'alice');

  // The fake microphone plays BROWSER_HZ (and not the trunk's tone).
  const mic = await recordTrack(page, 'mic', 1500);
  const micTone = toneWindows(mic, BROWSER_HZ, { others: [TRUNK_HZ] });
  log(`fake microphone: ${mic.mimeType}, ${mic.bytes} bytes, ${(mic.samples.length / mic.rate).toFixed(2)} s at ${mic.rate} Hz, ${JSON.stringify(micTone)}`);
  check(micTone.tone >= 8 && micTone.other === 0, `Firefox's fake microphone plays ${BROWSER_HZ} Hz (${micTone.tone} of ${micTone.windows} 100 ms windows) and not ${TRUNK_HZ} Hz`);

  await register(page, 'alice');
  check(true, 'the web demo registers as alice');
  const regs = await api(gw, '/api/registrations');
  check(regs.length === 1 && regs[0].user === 'alice' && regs[0].transport === 'WS', `/api/registrations lists alice over WS (${JSON.stringify(regs)})`);

  const t1 = Date.now();
  await page.fill('#number', '9123');
  await page.click('#call');
  await trunk.waitLine(/incoming call from/);
  await waitState(page, /^established/);
  check(true, `the call to 9123 is established (${Date.now() - t1} ms)`);
  const calls = await api(gw, '/api/calls');
  check(calls.length === 1 && calls[0].to === '9123' && calls[0].trunk === 'carrier' && calls[0].state === 'answered',
    `/api/calls shows the answered call through the trunk (${JSON.stringify(calls.map(({ from, to, trunk, state, transcoding }) => ({ from, to, trunk, state, transcoding })))})`);
  const offer = await page.evaluate(() => window.__pcs.at(-1).localDescription?.sdp ?? '');
  const answer = await page.evaluate(() => window.__pcs.at(-1).remoteDescription?.sdp ?? '');
  log(`Firefox's SDP: ${offer.split(/\r?\n/).filter((l) => /^(m=|a=rtpmap|a=setup|a=fingerprint)/.test(l)).join(' | ')}`);
  log(`gateway's SDP: ${answer.split(/\r?\n/).filter((l) => /^(m=|a=rtpmap|a=setup|a=fingerprint)/.test(l)).join(' | ')}`);

  // Media from the trunk, as Firefox sees it: DTLS-SRTP is up once packets are decrypted.
  await sleep(2000);
  const s1 = await rtpStats(page);
  await sleep(3000);
  const s2 = await rtpStats(page);
  log(`getStats: ${JSON.stringify(s2)}`);
  const dtls = await page.evaluate(() => {
    const t = window.__pcs.at(-1).getSenders()[0]?.transport;
    return t ? { state: t.state, ice: t.iceTransport?.state } : null;
  });
  check(dtls?.state === 'connected', `the DTLS transport is connected (${JSON.stringify(dtls)})`);
  // Firefox offers SRTP_AEAD_AES_128_GCM (RFC 7714) before the AES-CM profiles, and so does
  // the gateway: the gateway logs the profile the handshake settled on.
  const hs = await gw.waitLine(/DTLS-SRTP handshake (done|failed)/, 5000);
  check(/profile=AeadAes128Gcm/.test(hs), `DTLS-SRTP with Firefox settles on SRTP_AEAD_AES_128_GCM (gateway: ${hs.replace(/^.*DTLS-SRTP/, 'DTLS-SRTP')})`);
  const got = s2.inbound.packetsReceived - s1.inbound.packetsReceived;
  check(got >= 100, `inbound-rtp: ${got} packets in 3 s (50/s expected)`);
  check(s2.inbound.totalAudioEnergy > s1.inbound.totalAudioEnergy + 0.01 && s2.inbound.audioLevel > 0.05,
    `inbound-rtp carries audio energy (audioLevel ${s2.inbound.audioLevel.toFixed(3)}, totalAudioEnergy ${s1.inbound.totalAudioEnergy.toFixed(3)} → ${s2.inbound.totalAudioEnergy.toFixed(3)})`);
  check(s2.outbound.packetsSent > 100, `outbound-rtp: ${s2.outbound.packetsSent} packets sent`);
  const remote = await recordTrack(page, 'remote', 2000);
  const heardTone = toneWindows(remote, TRUNK_HZ, { others: [BROWSER_HZ] });
  const peak = peakHz(remote);
  log(`remote audio: ${remote.mimeType}, ${remote.bytes} bytes, ${(remote.samples.length / remote.rate).toFixed(2)} s at ${remote.rate} Hz, peak ${JSON.stringify(peak)}, ${JSON.stringify(heardTone)}`);
  check(Math.abs(peak.hz - TRUNK_HZ) <= 15 && heardTone.tone >= 15,
    `Firefox hears the trunk's ${TRUNK_HZ} Hz tone (peak ${peak.hz} Hz; ${heardTone.tone} of ${heardTone.windows} 100 ms windows carry it)`);
  check(heardTone.other === 0, `and not its own ${BROWSER_HZ} Hz tone (${heardTone.other} windows)`);
  const metrics = await (await fetch(gw.url + '/metrics')).text();
  log(`gateway metrics: ${metrics.split('\n').filter((l) => /^rvoip_(rtp_packets|srtp|dtls)/.test(l)).join(' | ')}`);
  check(/^rvoip_dtls_failures_total 0$/m.test(metrics), 'the gateway counts no failed DTLS handshake (rvoip_dtls_failures_total 0)');
  await page.screenshot({ path: join(dir, 'in-call.png'), fullPage: true });

  // DTMF from the dial pad: RFC 4733 through the gateway to the trunk.
  await page.click('#pad button:text-is("5")');
  await trunk.waitLine(/^dtmf 5/, 5000);
  check(true, `the trunk receives DTMF 5 (${trunk.lines.find((x) => /^dtmf 5/.test(x.l)).l})`);

  // DTMF from the trunk by SIP INFO (--dtmf-info): the gateway relays the INFO to the page.
  trunk.send('7');
  await trunk.waitLine(/^sent dtmf 7 info/, 5000);
  await page.waitForFunction(() => /DTMF received: 7/.test(document.getElementById('messages').textContent), null, { timeout: 5000 });
  check(true, "the trunk's SIP INFO digit 7 reaches the page (Messages: DTMF received: 7)");
  await page.screenshot({ path: join(dir, 'dtmf-received.png'), fullPage: true });

  await sleep(500);
  await page.click('#hangup');
  await waitState(page, /^ended/);
  await trunk.waitLine(/^ended/, 5000);
  const code = await Promise.race([trunk.exited, sleep(5000).then(() => 'still running')]);
  check(code === 0, `the page's hang-up ends the trunk's call (softphone exit ${code})`);

  const w = readWav(heard);
  const r = toneWindows(w, BROWSER_HZ, { others: [TRUNK_HZ] });
  log(`trunk recording: ${(w.samples.length / w.rate).toFixed(1)} s at ${w.rate} Hz, ${JSON.stringify(r)}`);
  check(r.tone >= 25, `the trunk hears Firefox's ${BROWSER_HZ} Hz tone (${r.tone} of ${r.windows} 100 ms windows; max share ${r.maxShare.toFixed(2)})`);
  check(r.other === 0, `the trunk does not hear its own ${TRUNK_HZ} Hz tone back (${r.other} windows)`);

  const cdrs = await until(async () => (await api(gw, '/api/cdrs')).filter((c) => c.to === '9123'), 'the call record');
  log(`call record: ${JSON.stringify(cdrs[0])}`);
  check(cdrs.length === 1 && cdrs[0].from === 'alice', 'the call record is written');
  await until(async () => (await api(gw, '/api/calls')).length === 0, 'no call left in the gateway', 5000);
  check(true, 'no call is left in the gateway');
  await page.screenshot({ path: join(dir, 'after-hangup.png'), fullPage: true });
});
