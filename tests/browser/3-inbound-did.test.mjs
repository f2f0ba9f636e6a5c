// Test 3: an inbound trunk call. The native softphone, bound at the trunk's address
// (127.0.0.1:5070, which is how the gateway knows a request comes from the trunk), calls the
// DID +15550100001, which belongs to alice; her page (fake microphone: keyed 440 Hz) rings,
// shows the caller and answers. The softphone plays 1 kHz, records, and hangs up after 15 s.
// Checked: the page rings; /api/calls shows the inbound call; the browser's inbound-rtp has
// packets and energy and its remote audio peaks at 1 kHz; DTMF digits the trunk sends as
// RFC 4733 (PCMU leg, 8 kHz events) are relayed by the gateway onto the opus leg (48 kHz
// events) and played out in the page's audio; the softphone's recording carries
// 440 Hz and not 1 kHz; the trunk's hang-up ends the page's call; the call record.
import { join } from 'node:path';
import {
  runTest, log, check, sleep, until, writeToneWav, readWav, toneWindows, startGateway, api,
  softphone, launchChromium, openDemo, register, waitState, rtpStats, listen, listenDtmf, DID_ALICE,
} from './lib.mjs';

const BROWSER_HZ = 440;
const TRUNK_HZ = 1000;

await runTest('3-inbound-did', async ({ dir, cleanup }) => {
  const micWav = join(dir, 'browser-mic-440.wav');
  writeToneWav(micWav, { freq: BROWSER_HZ, seconds: 10, gate: [0.6, 0.4] });
  const trunkWav = join(dir, 'trunk-1000.wav');
  writeToneWav(trunkWav, { rate: 8000, freq: TRUNK_HZ, seconds: 60 });
  const heard = join(dir, 'trunk-heard.wav');
  const gw = await startGateway(dir, { http: 8083, sip: 5063, trunkAddr: '127.0.0.1:5070' });

  const ctx = await launchChromium(dir, micWav);
  cleanup.push(() => ctx.close());
  const page = await openDemo(ctx, gw, 'alice');
  await register(page, 'alice');
  check(true, 'alice is registered');

  const caller = softphone(dir, 'trunk', ['call', `sip:${DID_ALICE}@${gw.sip}`, '--user', '+15557770000',
    '--local-addr', '127.0.0.1:5070', '--codecs', 'pcmu', '--input', trunkWav, '--output', heard, '--duration', '15']);
  await page.waitForSelector('#incoming', { state: 'visible', timeout: 10000 });
  const shown = await page.locator('#caller').innerText();
  check(shown === '+15557770000', `alice's page rings with the trunk's caller number (${shown})`);
  await caller.waitLine(/^ringing/, 5000);
  check(true, 'the trunk hears ringing (180)');
  await page.screenshot({ path: join(dir, 'ringing.png'), fullPage: true });
  const ringing = await api(gw, '/api/calls');
  check(ringing.length === 1 && ringing[0].direction === 'inbound' && ringing[0].to === 'alice',
    `/api/calls shows the inbound call to alice (${JSON.stringify(ringing.map(({ direction, from, to, state }) => ({ direction, from, to, state })))})`);

  await page.click('#answer');
  await waitState(page, /^established/);
  await caller.waitLine(/^answered/, 5000);
  check(true, 'alice answers: the page and the trunk are established');

  await sleep(1500);
  const s1 = await rtpStats(page);
  const spec = await listen(page, 2000, [TRUNK_HZ, BROWSER_HZ]);
  const s2 = await rtpStats(page);
  log(`getStats: ${JSON.stringify(s2)}; spectrum ${JSON.stringify(spec)}`);
  const got = s2.inbound.packetsReceived - s1.inbound.packetsReceived;
  check(got >= 60 && s2.inbound.totalAudioEnergy > s1.inbound.totalAudioEnergy && s2.inbound.audioLevel > 0.05,
    `inbound-rtp: ${got} packets in ~2 s, audioLevel ${s2.inbound.audioLevel.toFixed(3)}`);
  check(Math.abs(spec.peakHz - TRUNK_HZ) <= 15 && spec.share[0] > 0.8 && spec.share[1] < 0.05,
    `the browser hears the trunk's ${TRUNK_HZ} Hz (peak ${spec.peakHz} Hz, ${(spec.share[0] * 100).toFixed(1)} %) and not itself`);
  await page.screenshot({ path: join(dir, 'in-call.png'), fullPage: true });

  // DTMF 4 (770 + 1209 Hz) three times from the trunk, RFC 4733 through the gateway.
  const quiet = await listenDtmf(page, 1000, [770, 1209]);
  check(quiet.hits === 0, `no DTMF 4 dual tone in the page's audio before the digits (${JSON.stringify(quiet)})`);
  const heard4 = listenDtmf(page, 2500, [770, 1209]);
  for (let i = 0; i < 3; i++) {
    await sleep(500);
    caller.send('4');
  }
  const dt = await heard4;
  await caller.waitLine(/^sent dtmf 4 rfc4733/, 1000);
  log(`page around the digits: ${JSON.stringify(dt)}`);
  check(dt.bursts >= 2, `the trunk's RFC 4733 digit 4 ×3 is relayed to the page and played out as 770 + 1209 Hz (${dt.bursts} bursts, ${dt.hits} blocks of 21 ms)`);

  // The softphone hangs up after its 15 s.
  await waitState(page, /^ended/, 20000);
  check(true, `the trunk's hang-up ends the page's call ("${await page.locator('#state').innerText()}")`);
  const code = await Promise.race([caller.exited, sleep(5000).then(() => 'still running')]);
  check(code === 0, `the softphone's call went through (exit ${code})`);
  const w = readWav(heard);
  const r = toneWindows(w, BROWSER_HZ, { others: [TRUNK_HZ] });
  log(`trunk recording: ${(w.samples.length / w.rate).toFixed(1)} s at ${w.rate} Hz, ${JSON.stringify(r)}`);
  check(r.tone >= 25, `the trunk hears the browser's ${BROWSER_HZ} Hz tone (${r.tone} of ${r.windows} windows)`);
  check(r.other === 0, `the trunk does not hear its own ${TRUNK_HZ} Hz back (${r.other} windows)`);
  const cdrs = await until(async () => (await api(gw, '/api/cdrs')).filter((c) => c.direction === 'inbound'), 'the call record');
  log(`call record: ${JSON.stringify(cdrs[0])}`);
  check(cdrs.length === 1 && cdrs[0].to === 'alice', 'the inbound call record is written');
});
