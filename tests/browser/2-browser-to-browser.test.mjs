// Test 2: two browsers (two Chromium processes, so that each has its own fake microphone:
// alice plays 440 Hz, bob 660 Hz) register as alice and bob and call each other through
// the gateway. Checked: bob's page rings with alice's identity and answers; each side hears
// the other's tone (WebAudio analyser) and not its own; alice holds (bob's page gets the
// re-INVITE with a=sendonly, alice's inbound RTP stops) and unholds (bob's audio is back);
// DTMF digits from alice's dial pad (RFC 4733) are played out in bob's remote audio as their
// dual tone; bob hangs up and both pages end; the call record.
// The gateway relays SDP unchanged between two WebRTC legs (gateway/src/sip/media.rs), so the
// media and the RFC 4733 events of this call flow browser to browser; the signalling (INVITE,
// the hold/unhold re-INVITEs, BYE) goes through the gateway.
import { join } from 'node:path';
import {
  runTest, log, check, sleep, until, writeToneWav, startGateway, api, launchChromium, openDemo,
  register, waitState, rtpStats, listen, listenDtmf,
} from './lib.mjs';

const ALICE_HZ = 440;
const BOB_HZ = 660;
const DIGIT = '6'; // 770 Hz + 1477 Hz: ≥ 100 Hz from both tones and their harmonics (880, 1320 Hz)
const DIGIT_PAIR = [770, 1477];

const sdpDirection = (sdp) => (sdp?.match(/^a=(sendrecv|sendonly|recvonly|inactive)\r?$/m) ?? [])[1] ?? 'sendrecv';

await runTest('2-browser-to-browser', async ({ dir, cleanup }) => {
  const aliceWav = join(dir, 'alice-mic-440.wav');
  const bobWav = join(dir, 'bob-mic-660.wav');
  writeToneWav(aliceWav, { freq: ALICE_HZ, seconds: 10, gate: [0.6, 0.4] });
  writeToneWav(bobWav, { freq: BOB_HZ, seconds: 10, gate: [0.6, 0.4] });
  const gw = await startGateway(dir, { http: 8082, sip: 5062, trunkAddr: '127.0.0.1:5070' });

  const ctxA = await launchChromium(dir, aliceWav);
  cleanup.push(() => ctxA.close());
  const ctxB = await launchChromium(dir, bobWav);
  cleanup.push(() => ctxB.close());
  const alice = await openDemo(ctxA, gw, 'alice');
  const bob = await openDemo(ctxB, gw, 'bob');
  await Promise.all([register(alice, 'alice'), register(bob, 'bob')]);
  const regs = await api(gw, '/api/registrations');
  check(regs.map((r) => r.user).sort().join() === 'alice,bob', `alice and bob are registered (${regs.map((r) => `${r.user}@${r.source}`)})`);

  // --- alice calls bob ----------------------------------------------------------------------
  await alice.fill('#number', 'bob');
  await alice.click('#call');
  await bob.waitForSelector('#incoming', { state: 'visible', timeout: 10000 });
  const caller = await bob.locator('#caller').innerText();
  check(/^(alice|.+ \(alice\))$/.test(caller), `bob's page rings with the caller shown (${caller})`);
  await bob.screenshot({ path: join(dir, 'bob-ringing.png'), fullPage: true });
  await bob.click('#answer');
  await Promise.all([waitState(alice, /^established/), waitState(bob, /^established/)]);
  check(true, 'both pages are established');
  const calls = await api(gw, '/api/calls');
  check(calls.length === 1 && calls[0].from === 'alice' && calls[0].to === 'bob' && calls[0].state === 'answered',
    `/api/calls shows alice → bob answered (${JSON.stringify(calls.map(({ from, to, state, transcoding }) => ({ from, to, state, transcoding })))})`);

  const fp = (sdp) => sdp?.match(/^a=fingerprint:(.*?)\r?$/m)?.[1];
  const aliceFp = fp(await alice.evaluate(() => window.__pcs.at(-1).currentLocalDescription?.sdp));
  const bobSeesFp = fp(await bob.evaluate(() => window.__pcs.at(-1).currentRemoteDescription?.sdp));
  check(aliceFp && aliceFp === bobSeesFp, 'the gateway relays alice\'s SDP to bob unchanged (same DTLS fingerprint: media flows browser to browser)');
  await sleep(1500);
  const [ha, hb] = await Promise.all([listen(alice, 2000, [BOB_HZ, ALICE_HZ]), listen(bob, 2000, [ALICE_HZ, BOB_HZ])]);
  log(`alice hears ${JSON.stringify(ha)}; bob hears ${JSON.stringify(hb)}`);
  check(Math.abs(ha.peakHz - BOB_HZ) <= 15 && ha.share[0] > 0.7 && ha.share[1] < 0.05, `alice hears bob's ${BOB_HZ} Hz (peak ${ha.peakHz} Hz) and not herself`);
  check(Math.abs(hb.peakHz - ALICE_HZ) <= 15 && hb.share[0] > 0.7 && hb.share[1] < 0.05, `bob hears alice's ${ALICE_HZ} Hz (peak ${hb.peakHz} Hz) and not himself`);
  const sa = await rtpStats(alice);
  check(sa.inbound.packetsReceived > 100 && sa.inbound.totalAudioEnergy > 0, `alice's inbound-rtp: ${sa.inbound.packetsReceived} packets, energy ${sa.inbound.totalAudioEnergy.toFixed(3)} (${sa.codec})`);
  await alice.screenshot({ path: join(dir, 'alice-in-call.png'), fullPage: true });
  await bob.screenshot({ path: join(dir, 'bob-in-call.png'), fullPage: true });

  // --- hold and unhold --------------------------------------------------------------------------
  await alice.click('#hold');
  await alice.waitForFunction(() => document.getElementById('hold').textContent === 'Resume', null, { timeout: 10000 });
  const bobRemote = await until(async () => {
    const sdp = await bob.evaluate(() => window.__pcs.at(-1).currentRemoteDescription?.sdp);
    return sdpDirection(sdp) === 'sendonly' && sdp;
  }, "bob's page gets alice's hold offer (a=sendonly)", 5000);
  const aliceAnswer = await alice.evaluate(() => window.__pcs.at(-1).currentRemoteDescription?.sdp);
  check(['recvonly', 'inactive'].includes(sdpDirection(aliceAnswer)) && bobRemote,
    `hold: bob's page is offered sendonly, alice's page is answered ${sdpDirection(aliceAnswer)}`);
  await sleep(1000);
  const h1 = await rtpStats(alice);
  await sleep(2000);
  const h2 = await rtpStats(alice);
  const heldPackets = h2.inbound.packetsReceived - h1.inbound.packetsReceived;
  check(heldPackets < 10, `on hold alice receives no audio (${heldPackets} packets in 2 s)`);
  await alice.screenshot({ path: join(dir, 'alice-on-hold.png'), fullPage: true });

  await alice.click('#hold');
  await alice.waitForFunction(() => document.getElementById('hold').textContent === 'Hold', null, { timeout: 10000 });
  await until(async () => sdpDirection(await bob.evaluate(() => window.__pcs.at(-1).currentRemoteDescription?.sdp)) === 'sendrecv',
    "bob's page gets the unhold offer (a=sendrecv)", 5000);
  await sleep(1000);
  const u1 = await rtpStats(alice);
  const hu = await listen(alice, 2000, [BOB_HZ]);
  const u2 = await rtpStats(alice);
  const resumed = u2.inbound.packetsReceived - u1.inbound.packetsReceived;
  check(resumed >= 60 && Math.abs(hu.peakHz - BOB_HZ) <= 15, `unhold: alice hears bob again (${resumed} packets in ~2 s, peak ${hu.peakHz} Hz)`);

  // --- DTMF alice → bob: five presses of the same key, a burst of its dual tone for most ------
  const quiet = await listenDtmf(bob, 1500, DIGIT_PAIR);
  log(`bob before the digits: ${JSON.stringify(quiet)}`);
  check(quiet.hits === 0, `no ${DIGIT} dual tone in bob's audio before the digits`);
  const heard = listenDtmf(bob, 4000, DIGIT_PAIR);
  for (let i = 0; i < 5; i++) {
    await sleep(600);
    await alice.click(`#pad button:text-is("${DIGIT}")`);
  }
  const dt = await heard;
  log(`bob around the digits: ${JSON.stringify(dt)}`);
  check(dt.bursts >= 3, `alice's DTMF ${DIGIT} ×5 (RFC 4733) plays out in bob's audio as ${DIGIT_PAIR.join(' + ')} Hz (${dt.bursts} bursts, ${dt.hits} blocks of 21 ms)`);

  // --- bob hangs up ------------------------------------------------------------------------------
  await bob.click('#hangup');
  await Promise.all([waitState(alice, /^ended/), waitState(bob, /^ended/)]);
  check(true, `bob hangs up; alice's page reads "${await alice.locator('#state').innerText()}"`);
  await alice.screenshot({ path: join(dir, 'alice-ended.png'), fullPage: true });
  const cdrs = await until(async () => (await api(gw, '/api/cdrs')).filter((c) => c.to === 'bob'), 'the call record');
  log(`call record: ${JSON.stringify(cdrs[0])}`);
  check(cdrs.length === 1 && cdrs[0].from === 'alice', 'the call record is written');
  await until(async () => (await api(gw, '/api/calls')).length === 0, 'no call left in the gateway', 5000);
  check(true, 'no call is left in the gateway');
});
