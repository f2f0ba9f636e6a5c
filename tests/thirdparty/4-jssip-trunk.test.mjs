// Test 4: JsSIP and the SIP trunk, both directions. The native softphone plays the carrier at
// 127.0.0.1:5075 (the trunk's address: how the gateway knows a request comes from the trunk),
// plain SIP over UDP with PCMU, playing 1 kHz and recording what it hears; JsSIP's fake
// microphone plays a keyed 440 Hz. Here the gateway anchors and transcodes the media (opus
// DTLS-SRTP ⇄ PCMU RTP), so hold and DTMF go through its media plane, not browser to browser.
// 1. JsSIP (alice) calls 9123 (dial plan → trunk): JsSIP hears 1 kHz; JsSIP's INFO digit and
//    its RFC 4733 digit both reach the trunk; JsSIP holds (the trunk is told to stop sending,
//    a=sendonly relayed) and unholds; JsSIP hangs up, the trunk's call ends; the trunk's
//    recording carries 440 Hz and not its own 1 kHz.
// 2. The trunk calls alice's DID: JsSIP rings with the trunk's caller number, answers, hears
//    1 kHz; the trunk's INFO digit reaches JsSIP's `newDTMF`; the trunk hangs up and JsSIP's
//    session ends by the BYE. Call records; the gateway holds no call.
import { join } from 'node:path';
import {
  runTest, log, check, sleep, until, writeToneWav, readWav, toneWindows, api, launchChromium, rtpStats, listen,
  softphone, startGw, servePage, openPage, registerWith, waitEvent, events, gatewayIdle, DID_ALICE,
} from './lib.mjs';

const MIC_HZ = 440;
const TRUNK_HZ = 1000;
const TRUNK = '127.0.0.1:5075';
const inPackets = (s) => s?.inbound?.packetsReceived ?? 0;

await runTest('4-jssip-trunk', async ({ dir, cleanup }) => {
  const micWav = join(dir, `mic-${MIC_HZ}.wav`);
  writeToneWav(micWav, { freq: MIC_HZ, seconds: 10, gate: [0.6, 0.4] });
  const trunkWav = join(dir, `trunk-${TRUNK_HZ}.wav`);
  writeToneWav(trunkWav, { rate: 8000, freq: TRUNK_HZ, seconds: 60 });
  const heard = join(dir, 'trunk-heard.wav');
  const trunk = softphone(dir, 'trunk-answer', ['answer', '--auto-answer', '--local-addr', TRUNK,
    '--codecs', 'pcmu', '--input', trunkWav, '--output', heard, '--duration', '60']);
  await trunk.waitLine(/waiting for a call/);
  const gw = await startGw(dir, { http: 8094, sip: 5094, trunkAddr: TRUNK, mediaPorts: [31500, 31999] });
  const site = await servePage();
  cleanup.push(() => site.close());
  const ctx = await launchChromium(dir, micWav);
  cleanup.push(() => ctx.close());
  const page = await openPage(ctx, site.url, 'alice/jssip');
  cleanup.push(async () => log(`JsSIP events: ${JSON.stringify(await events(page))}`));
  await registerWith(page, 'jssip', gw, 'alice');
  check(true, 'JsSIP registers as alice');

  // --- 1. JsSIP calls the trunk -------------------------------------------------------------------
  await page.evaluate(() => window.T.jssipCall('sip:9123@127.0.0.1'));
  await trunk.waitLine(/incoming call from/);
  await waitEvent(page, 'jssip', 'confirmed', 10000);
  await trunk.waitLine(/^answered|^media codec/, 5000);
  const calls = await api(gw, '/api/calls');
  check(calls.length === 1 && calls[0].to === '9123' && calls[0].trunk === 'carrier' && calls[0].state === 'answered',
    `JsSIP's call to 9123 is answered by the trunk (${JSON.stringify(calls.map(({ from, to, trunk: t, state, transcoding }) => ({ from, to, trunk: t, state, transcoding })))})`);
  await sleep(1500);
  const spec = await listen(page, 2000, [TRUNK_HZ, MIC_HZ]);
  const s = await rtpStats(page);
  log(`JsSIP hears ${JSON.stringify(spec)}; ${JSON.stringify(s)}`);
  check(s.inbound.packetsReceived > 100 && s.inbound.totalAudioEnergy > 0, `inbound-rtp: ${s.inbound.packetsReceived} packets, energy ${s.inbound.totalAudioEnergy.toFixed(3)} (${s.codec})`);
  check(Math.abs(spec.peakHz - TRUNK_HZ) <= 15 && spec.share[0] > 0.8 && spec.share[1] < 0.05, `JsSIP hears the trunk's ${TRUNK_HZ} Hz (peak ${spec.peakHz} Hz) and not itself`);

  await page.evaluate(() => window.T.jssip.session.sendDTMF('5'));
  const d5 = await trunk.waitLine(/^dtmf 5/, 5000);
  check(true, `JsSIP's SIP INFO digit 5 reaches the trunk (${d5})`);
  await page.evaluate(() => window.T.jssip.session.sendDTMF('8', { transportType: 'RFC2833', duration: 160 }));
  const d8 = await trunk.waitLine(/^dtmf 8/, 5000);
  check(true, `JsSIP's RFC 4733 digit 8 reaches the trunk (${d8})`);

  // The gateway's answers on JsSIP's leg: same o= line, version one more each time (RFC 3264 §8).
  const origin = async () => (await page.evaluate(() => window.T.sdp('currentRemoteDescription')))?.match(/^o=(\S+ \S+) (\d+) /m)?.slice(1);
  const o1 = await origin();
  await page.evaluate(() => window.T.jssip.session.hold());
  await waitEvent(page, 'jssip', 'hold', 5000);
  await trunk.waitLine(/^media sending=false/, 5000);
  check(true, 'JsSIP holds: the trunk is put on hold too (stops sending)');
  const o2 = await until(async () => { const o = await origin(); return o?.[1] !== o1[1] && o; }, 'the hold answer', 5000);
  await sleep(1000);
  // (Chromium drops the inbound-rtp of an SSRC the answer does not signal when the session
  // is renegotiated, until packets come again: no inbound-rtp on hold is no packet.)
  const h1 = inPackets(await rtpStats(page));
  await sleep(1500);
  const h2 = inPackets(await rtpStats(page));
  check(h2 - h1 < 10, `on hold JsSIP receives no audio (${h2 - h1} packets in 1.5 s)`);
  await page.evaluate(() => window.T.jssip.session.unhold());
  await waitEvent(page, 'jssip', 'unhold', 5000);
  await trunk.waitLine(/^media sending=true/, 5000);
  const o3 = await until(async () => { const o = await origin(); return o?.[1] !== o2[1] && o; }, 'the unhold answer', 5000);
  const versions = [o1, o2, o3].map((o) => Number(o[1]));
  check(o1[0] === o2[0] && o2[0] === o3[0] && versions[1] === versions[0] + 1 && versions[2] === versions[1] + 1,
    `the gateway's SDP on JsSIP's leg keeps its o= session and counts versions by one (RFC 3264 §8): ${versions.join(', ')}`);
  await sleep(1000);
  const u1 = inPackets(await rtpStats(page));
  const hu = await listen(page, 1500, [TRUNK_HZ]);
  const u2 = inPackets(await rtpStats(page));
  check(u2 - u1 >= 50 && Math.abs(hu.peakHz - TRUNK_HZ) <= 15,
    `JsSIP unholds: the trunk sends again and JsSIP hears it (${u2 - u1} packets, peak ${hu.peakHz} Hz)`);

  await page.evaluate(() => window.T.jssip.session.terminate());
  await waitEvent(page, 'jssip', 'ended', 5000);
  await trunk.waitLine(/^ended/, 5000);
  const code = await Promise.race([trunk.exited, sleep(5000).then(() => 'still running')]);
  check(code === 0, `JsSIP hangs up and the trunk's call ends (softphone exit ${code})`);
  const w = readWav(heard);
  const r = toneWindows(w, MIC_HZ, { others: [TRUNK_HZ] });
  log(`trunk recording: ${(w.samples.length / w.rate).toFixed(1)} s, ${JSON.stringify(r)}`);
  check(r.tone >= 20 && r.other === 0, `the trunk hears JsSIP's ${MIC_HZ} Hz (${r.tone} of ${r.windows} windows) and not its own tone`);
  const c1 = await until(async () => (await api(gw, '/api/cdrs')).find((c) => c.to === '9123'), 'the outbound call record', 5000);
  check(c1.from === 'alice' && c1.cause.startsWith('normal') && /5/.test(c1.dtmf), `outbound call record: ${c1.cause}, DTMF ${c1.dtmf}`);
  await gatewayIdle(gw);

  // --- 2. The trunk calls alice's DID ---------------------------------------------------------------
  const caller = softphone(dir, 'trunk-call', ['call', `sip:${DID_ALICE}@${gw.sip}`, '--user', '+15557770000',
    '--local-addr', TRUNK, '--codecs', 'pcmu', '--input', trunkWav, '--output', 'null', '--duration', '8', '--dtmf-info']);
  const inc = await until(async () => (await events(page, 'jssip', 'newRTCSession')).find((e) => e.originator === 'remote'), 'JsSIP rings', 10000);
  check(inc.from === '+15557770000', `JsSIP rings with the trunk's caller number (${JSON.stringify(inc)})`);
  await caller.waitLine(/^ringing/, 5000);
  await page.evaluate(() => window.T.jssipAnswer());
  await caller.waitLine(/^answered/, 5000);
  await page.waitForFunction(() => window.T.events('jssip', 'confirmed').length >= 2, null, { timeout: 5000 });
  check(true, 'JsSIP answers the inbound call: both sides established');
  const live = await api(gw, '/api/calls');
  check(live.length === 1 && live[0].direction === 'inbound' && live[0].to === 'alice', `/api/calls shows the inbound call (${JSON.stringify(live.map(({ direction, from, to, state }) => ({ direction, from, to, state })))})`);
  await sleep(1500);
  const spec2 = await listen(page, 1500, [TRUNK_HZ, MIC_HZ]);
  check(Math.abs(spec2.peakHz - TRUNK_HZ) <= 15 && spec2.share[0] > 0.8, `JsSIP hears the trunk's ${TRUNK_HZ} Hz on the inbound call (peak ${spec2.peakHz} Hz)`);
  caller.send('3');
  await caller.waitLine(/^sent dtmf 3 info/, 3000);
  const d3 = await until(async () => (await events(page, 'jssip', 'newDTMF')).find((e) => e.originator === 'remote' && e.tone === '3'), "the trunk's INFO digit at JsSIP", 5000);
  check(!!d3, "the trunk's SIP INFO digit 3 reaches JsSIP's newDTMF");
  const end = await until(async () => (await events(page, 'jssip', 'ended')).filter((e) => e.originator === 'remote')[0], "the trunk's hang-up at JsSIP", 12000);
  check(end.originator === 'remote', `the trunk hangs up; JsSIP's session ends by the BYE (${JSON.stringify(end)})`);
  check(await caller.exited === 0, 'the trunk\'s call went through (softphone exit 0)');
  const c2 = await until(async () => (await api(gw, '/api/cdrs')).find((c) => c.direction === 'inbound'), 'the inbound call record', 5000);
  check(c2.to === 'alice' && c2.answered_ms && c2.dtmf === '3', `inbound call record: ${c2.cause}, DTMF ${c2.dtmf}`);
  const st = await gatewayIdle(gw);
  check(true, `the gateway holds no call (${JSON.stringify(st)})`);
});
