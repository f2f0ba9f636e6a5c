// Test 3: SIP.js (bob, 660 Hz microphone) calls JsSIP (alice, 440 Hz) through the gateway —
// the reverse of test 2, so JsSIP is now the callee reached at its registered Contact (a
// `<random>.invalid` host with `;transport=ws`: only the WebSocket flow it registered over
// leads there). Checked, on three calls:
// 1. JsSIP rejects with 486: SIP.js gets 486, the call record says `rejected 486`;
// 2. SIP.js cancels while JsSIP rings: JsSIP's session fails with `Canceled`, the record says
//    cancelled;
// 3. JsSIP answers: audio both ways (tones, inbound-rtp); SIP.js holds (re-INVITE with
//    a=sendonly through the gateway; JsSIP's `hold` event with originator remote; SIP.js's
//    inbound RTP stops) and unholds (audio again); SIP.js sends DTMF by SIP INFO and JsSIP's
//    `newDTMF` (originator remote) sees the digits in order; JsSIP hangs up, SIP.js ends by
//    the BYE; the call record; the gateway holds no call.
import { join } from 'node:path';
import {
  runTest, log, check, sleep, until, writeToneWav, api, launchChromium, rtpStats, listen,
  startGw, servePage, openPage, registerWith, waitEvent, events, sdpDirection, gatewayIdle,
} from './lib.mjs';

const ALICE_HZ = 440;
const BOB_HZ = 660;
const INFO_DIGITS = '42#';

/** SIP.js (bob) calls alice; resolves once JsSIP's page has the incoming session. */
async function ring(alice, bob, n) {
  await bob.evaluate(() => window.T.sipjsCall('sip:alice@127.0.0.1'));
  await alice.waitForFunction((k) => window.T.events('jssip', 'newRTCSession').filter((e) => e.originator === 'remote').length >= k, n, { timeout: 10000 });
  return (await events(alice, 'jssip', 'newRTCSession')).at(-1);
}

await runTest('3-sipjs-calls-jssip', async ({ dir, cleanup }) => {
  const aliceWav = join(dir, `alice-mic-${ALICE_HZ}.wav`);
  const bobWav = join(dir, `bob-mic-${BOB_HZ}.wav`);
  writeToneWav(aliceWav, { freq: ALICE_HZ, seconds: 10, gate: [0.6, 0.4] });
  writeToneWav(bobWav, { freq: BOB_HZ, seconds: 10, gate: [0.6, 0.4] });
  const gw = await startGw(dir, { http: 8093, sip: 5093, mediaPorts: [31000, 31499] });
  const site = await servePage();
  cleanup.push(() => site.close());
  const [ctxA, ctxB] = await Promise.all([launchChromium(dir, aliceWav), launchChromium(dir, bobWav)]);
  cleanup.push(() => ctxA.close(), () => ctxB.close());
  const [alice, bob] = await Promise.all([openPage(ctxA, site.url, 'alice/jssip'), openPage(ctxB, site.url, 'bob/sipjs')]);
  cleanup.push(async () => log(`alice (JsSIP) events: ${JSON.stringify(await events(alice))}`));
  cleanup.push(async () => log(`bob (SIP.js) events: ${JSON.stringify(await events(bob))}`));
  await Promise.all([registerWith(alice, 'jssip', gw, 'alice'), registerWith(bob, 'sipjs', gw, 'bob')]);
  check(true, 'JsSIP (alice) and SIP.js (bob) are registered');

  // --- 1. JsSIP rejects with 486 ----------------------------------------------------------------
  const r1 = await ring(alice, bob, 1);
  check(r1.from === 'bob', `JsSIP rings with the caller bob (${JSON.stringify(r1)})`);
  await alice.evaluate(() => window.T.jssip.session.terminate({ status_code: 486 }));
  const rej = await waitEvent(bob, 'sipjs', 'rejected', 5000);
  check(rej.code === 486, `JsSIP's 486 reaches SIP.js (${rej.code})`);
  const c1 = await until(async () => (await api(gw, '/api/cdrs')).find((c) => c.to === 'alice'), 'the record of the rejected call', 5000);
  check(/486/.test(c1.cause) && !c1.answered_ms, `call record: ${c1.cause}, not answered`);
  await gatewayIdle(gw);

  // --- 2. SIP.js cancels while JsSIP rings ----------------------------------------------------------
  await ring(alice, bob, 2);
  await sleep(300);
  await bob.evaluate(() => window.T.sipjsHangup());
  const failed = await until(async () => (await events(alice, 'jssip', 'failed')).find((e) => e.cause === 'Canceled'), "JsSIP's session fails as Canceled", 5000);
  check(failed.originator === 'remote', `SIP.js's CANCEL reaches JsSIP (${JSON.stringify(failed)})`);
  const c2 = await until(async () => (await api(gw, '/api/cdrs')).find((c) => c.to === 'alice' && c.id !== c1.id), 'the record of the cancelled call', 5000);
  check(/cancel/i.test(c2.cause) && !c2.answered_ms, `call record: ${c2.cause}, not answered`);
  await gatewayIdle(gw);

  // --- 3. JsSIP answers -----------------------------------------------------------------------------
  await ring(alice, bob, 3);
  await alice.evaluate(() => window.T.jssipAnswer());
  await Promise.all([
    alice.waitForFunction(() => window.T.events('jssip', 'confirmed').length > 0, null, { timeout: 10000 }),
    bob.waitForFunction(() => window.T.events('sipjs', 'state:Established').length >= 1, null, { timeout: 10000 }),
  ]);
  check(true, 'JsSIP answers: JsSIP confirmed, SIP.js established');
  const calls = await api(gw, '/api/calls');
  check(calls.length === 1 && calls[0].from === 'bob' && calls[0].to === 'alice' && calls[0].state === 'answered',
    `/api/calls shows bob → alice answered (${JSON.stringify(calls.map(({ from, to, state }) => ({ from, to, state })))})`);
  await sleep(1500);
  const [ha, hb] = await Promise.all([listen(alice, 2000, [BOB_HZ, ALICE_HZ]), listen(bob, 2000, [ALICE_HZ, BOB_HZ])]);
  log(`alice hears ${JSON.stringify(ha)}; bob hears ${JSON.stringify(hb)}`);
  check(Math.abs(ha.peakHz - BOB_HZ) <= 15 && ha.share[0] > 0.7 && ha.share[1] < 0.05, `JsSIP hears SIP.js's ${BOB_HZ} Hz (peak ${ha.peakHz} Hz) and not itself`);
  check(Math.abs(hb.peakHz - ALICE_HZ) <= 15 && hb.share[0] > 0.7 && hb.share[1] < 0.05, `SIP.js hears JsSIP's ${ALICE_HZ} Hz (peak ${hb.peakHz} Hz) and not itself`);
  const [sa, sb] = await Promise.all([rtpStats(alice), rtpStats(bob)]);
  check(sa.inbound.packetsReceived > 100 && sa.inbound.totalAudioEnergy > 0 && sb.inbound.packetsReceived > 100 && sb.inbound.totalAudioEnergy > 0,
    `inbound-rtp on both pages (JsSIP ${sa.inbound.packetsReceived}, SIP.js ${sb.inbound.packetsReceived} packets)`);
  await bob.screenshot({ path: join(dir, 'bob-in-call.png') });

  // --- SIP.js holds and unholds -----------------------------------------------------------------
  await bob.evaluate(() => window.T.sipjsHold(true));
  await waitEvent(bob, 'sipjs', 'held', 5000);
  const held = await waitEvent(alice, 'jssip', 'hold', 5000);
  check(held.originator === 'remote', 'SIP.js holds: its a=sendonly re-INVITE reaches JsSIP (hold event, originator remote)');
  const jsAnswer = await alice.evaluate(() => window.T.sdp('currentLocalDescription'));
  check(['recvonly', 'inactive'].includes(sdpDirection(jsAnswer)), `JsSIP answers the hold ${sdpDirection(jsAnswer)}`);
  await sleep(1000);
  const h1 = await rtpStats(bob);
  await sleep(2000);
  const h2 = await rtpStats(bob);
  check(h2.inbound.packetsReceived - h1.inbound.packetsReceived < 10, `on hold SIP.js receives no audio (${h2.inbound.packetsReceived - h1.inbound.packetsReceived} packets in 2 s)`);
  await bob.evaluate(() => window.T.sipjsHold(false));
  await waitEvent(bob, 'sipjs', 'unheld', 5000);
  const unheld = await waitEvent(alice, 'jssip', 'unhold', 5000);
  check(unheld.originator === 'remote', 'SIP.js unholds: JsSIP sees the unhold (originator remote)');
  await sleep(1000);
  const u1 = await rtpStats(bob);
  const hu = await listen(bob, 2000, [ALICE_HZ]);
  const u2 = await rtpStats(bob);
  check(u2.inbound.packetsReceived - u1.inbound.packetsReceived >= 60 && Math.abs(hu.peakHz - ALICE_HZ) <= 15,
    `unhold: SIP.js hears JsSIP again (${u2.inbound.packetsReceived - u1.inbound.packetsReceived} packets in ~2 s, peak ${hu.peakHz} Hz)`);

  // --- DTMF by SIP INFO from SIP.js -------------------------------------------------------------------
  for (const d of INFO_DIGITS) {
    await bob.evaluate((x) => window.T.sipjsInfo(x), d);
    await sleep(150);
  }
  const dtmf = await until(async () => {
    const e = (await events(alice, 'jssip', 'newDTMF')).filter((x) => x.originator === 'remote');
    return e.length >= INFO_DIGITS.length && e;
  }, `JsSIP sees ${INFO_DIGITS.length} DTMF digits`, 5000);
  check(dtmf.map((e) => e.tone).join('') === INFO_DIGITS, `SIP.js's INFO DTMF ${INFO_DIGITS} reaches JsSIP's newDTMF in order (${dtmf.map((e) => e.tone).join('')})`);
  const accepted = await events(bob, 'sipjs', 'info-accepted');
  check(accepted.length === INFO_DIGITS.length && accepted.every((a) => a.code === 200), `every INFO is answered 200 end to end (${accepted.length})`);

  // --- JsSIP hangs up ---------------------------------------------------------------------------------
  await alice.evaluate(() => window.T.jssip.session.terminate());
  const [endA] = await Promise.all([waitEvent(alice, 'jssip', 'ended', 5000), waitEvent(bob, 'sipjs', 'bye', 5000)]);
  check(endA.originator === 'local', 'JsSIP hangs up; SIP.js receives the BYE');
  await waitEvent(bob, 'sipjs', 'state:Terminated', 5000);
  const cdr = await until(async () => (await api(gw, '/api/cdrs')).find((c) => c.to === 'alice' && c.answered_ms), 'the record of the answered call', 5000);
  log(`call record: ${JSON.stringify(cdr)}`);
  check(cdr.from === 'bob' && cdr.cause.startsWith('normal') && cdr.dtmf === INFO_DIGITS, `call record bob → alice: ${cdr.cause}, DTMF ${cdr.dtmf}`);
  const st = await gatewayIdle(gw);
  check(true, `the gateway holds no call (${JSON.stringify(st)})`);

  // SIP.js unregisters (REGISTER with its Contact and expires=0): only alice is left.
  await bob.evaluate(() => window.T.sipjs.registerer.unregister());
  await until(async () => (await api(gw, '/api/registrations')).map((r) => r.user).join() === 'alice', 'SIP.js unregisters', 5000);
  check(true, 'SIP.js unregisters: only alice (JsSIP) is left registered');
});
