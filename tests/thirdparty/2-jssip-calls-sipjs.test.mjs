// Test 2: JsSIP (alice, 440 Hz microphone) calls SIP.js (bob, 660 Hz) through the gateway,
// browser to browser, each in its own Chromium (each has its own fake microphone).
// Checked: SIP.js rings with alice's identity and answers; /api/calls shows the call; each side
// hears the other's tone and not its own (WebAudio analyser) with inbound-rtp packets and
// energy; JsSIP holds (re-INVITE a=sendonly reaches SIP.js, which answers recvonly; alice's
// inbound RTP stops) and unholds (a=sendrecv; audio flows again); DTMF from JsSIP by SIP INFO
// (its default) reaches SIP.js's `onInfo` as application/dtmf-relay with the digits in order,
// and by RFC 4733 (`transportType: 'RFC2833'`, an RTCDTMFSender) plays out in bob's audio as
// the digit's dual tone; the gateway's call record lists the INFO digits; SIP.js hangs up
// (BYE), both sides end, the gateway holds no call afterwards.
import { join } from 'node:path';
import {
  runTest, log, check, sleep, until, writeToneWav, api, launchChromium, rtpStats, listen, listenDtmf,
  startGw, servePage, openPage, registerWith, waitEvent, events, sdpDirection, gatewayIdle,
} from './lib.mjs';

const ALICE_HZ = 440;
const BOB_HZ = 660;
const INFO_DIGITS = '1#9*';
const DIGIT = '6'; // 770 Hz + 1477 Hz: ≥ 100 Hz from both tones and their harmonics
const DIGIT_PAIR = [770, 1477];

await runTest('2-jssip-calls-sipjs', async ({ dir, cleanup }) => {
  const aliceWav = join(dir, `alice-mic-${ALICE_HZ}.wav`);
  const bobWav = join(dir, `bob-mic-${BOB_HZ}.wav`);
  writeToneWav(aliceWav, { freq: ALICE_HZ, seconds: 10, gate: [0.6, 0.4] });
  writeToneWav(bobWav, { freq: BOB_HZ, seconds: 10, gate: [0.6, 0.4] });
  const gw = await startGw(dir, { http: 8092, sip: 5092, mediaPorts: [31500, 31999] });
  const site = await servePage();
  cleanup.push(() => site.close());
  const [ctxA, ctxB] = await Promise.all([launchChromium(dir, aliceWav), launchChromium(dir, bobWav)]);
  cleanup.push(() => ctxA.close(), () => ctxB.close());
  const [alice, bob] = await Promise.all([openPage(ctxA, site.url, 'alice/jssip'), openPage(ctxB, site.url, 'bob/sipjs')]);
  cleanup.push(async () => log(`alice (JsSIP) events: ${JSON.stringify(await events(alice))}`));
  cleanup.push(async () => log(`bob (SIP.js) events: ${JSON.stringify(await events(bob))}`));

  await Promise.all([registerWith(alice, 'jssip', gw, 'alice'), registerWith(bob, 'sipjs', gw, 'bob')]);
  const regs = await api(gw, '/api/registrations');
  check(regs.map((r) => r.user).sort().join() === 'alice,bob', `JsSIP (alice) and SIP.js (bob) are registered (${JSON.stringify(regs.map(({ user, transport }) => ({ user, transport })))})`);

  // --- alice (JsSIP) calls bob (SIP.js) --------------------------------------------------------
  await alice.evaluate(() => window.T.jssipCall('sip:bob@127.0.0.1'));
  const inv = await waitEvent(bob, 'sipjs', 'invite', 10000);
  check(inv.from === 'alice', `SIP.js rings with the caller alice (${JSON.stringify(inv)})`);
  await bob.evaluate(() => window.T.sipjsAnswer());
  await Promise.all([waitEvent(alice, 'jssip', 'confirmed'), waitEvent(bob, 'sipjs', 'state:Established')]);
  check(true, 'JsSIP is confirmed and SIP.js established');
  const calls = await api(gw, '/api/calls');
  check(calls.length === 1 && calls[0].from === 'alice' && calls[0].to === 'bob' && calls[0].state === 'answered',
    `/api/calls shows alice → bob answered (${JSON.stringify(calls.map(({ from, to, state }) => ({ from, to, state })))})`);

  await sleep(1500);
  const [ha, hb] = await Promise.all([listen(alice, 2000, [BOB_HZ, ALICE_HZ]), listen(bob, 2000, [ALICE_HZ, BOB_HZ])]);
  log(`alice hears ${JSON.stringify(ha)}; bob hears ${JSON.stringify(hb)}`);
  check(Math.abs(ha.peakHz - BOB_HZ) <= 15 && ha.share[0] > 0.7 && ha.share[1] < 0.05, `JsSIP hears SIP.js's ${BOB_HZ} Hz (peak ${ha.peakHz} Hz) and not itself`);
  check(Math.abs(hb.peakHz - ALICE_HZ) <= 15 && hb.share[0] > 0.7 && hb.share[1] < 0.05, `SIP.js hears JsSIP's ${ALICE_HZ} Hz (peak ${hb.peakHz} Hz) and not itself`);
  const [sa, sb] = await Promise.all([rtpStats(alice), rtpStats(bob)]);
  check(sa.inbound.packetsReceived > 100 && sa.inbound.totalAudioEnergy > 0, `alice's inbound-rtp: ${sa.inbound.packetsReceived} packets, energy ${sa.inbound.totalAudioEnergy.toFixed(3)} (${sa.codec})`);
  check(sb.inbound.packetsReceived > 100 && sb.inbound.totalAudioEnergy > 0, `bob's inbound-rtp: ${sb.inbound.packetsReceived} packets, energy ${sb.inbound.totalAudioEnergy.toFixed(3)} (${sb.codec})`);
  await alice.screenshot({ path: join(dir, 'alice-in-call.png') });

  // --- hold and unhold (JsSIP re-INVITEs) -------------------------------------------------------
  await alice.evaluate(() => window.T.jssip.session.hold());
  const held = await waitEvent(alice, 'jssip', 'hold', 5000);
  check(held.originator === 'local', 'JsSIP holds (its re-INVITE is answered)');
  const bobOffer = await until(async () => {
    const sdp = await bob.evaluate(() => window.T.sdp('currentRemoteDescription'));
    return sdpDirection(sdp) === 'sendonly' && sdp;
  }, "SIP.js gets alice's hold offer (a=sendonly)", 5000);
  const aliceAnswer = await alice.evaluate(() => window.T.sdp('currentRemoteDescription'));
  check(bobOffer && ['recvonly', 'inactive'].includes(sdpDirection(aliceAnswer)), `hold: SIP.js is offered sendonly and answers ${sdpDirection(aliceAnswer)}`);
  await sleep(1000);
  const h1 = await rtpStats(alice);
  await sleep(2000);
  const h2 = await rtpStats(alice);
  const heldPackets = h2.inbound.packetsReceived - h1.inbound.packetsReceived;
  check(heldPackets < 10, `on hold JsSIP receives no audio (${heldPackets} packets in 2 s)`);

  await alice.evaluate(() => window.T.jssip.session.unhold());
  const unheld = await waitEvent(alice, 'jssip', 'unhold', 5000);
  check(unheld.originator === 'local', 'JsSIP unholds (its re-INVITE is answered)');
  await until(async () => sdpDirection(await bob.evaluate(() => window.T.sdp('currentRemoteDescription'))) === 'sendrecv',
    'SIP.js gets the unhold offer (a=sendrecv)', 5000);
  await sleep(1000);
  const u1 = await rtpStats(alice);
  const hu = await listen(alice, 2000, [BOB_HZ]);
  const u2 = await rtpStats(alice);
  const resumed = u2.inbound.packetsReceived - u1.inbound.packetsReceived;
  check(resumed >= 60 && Math.abs(hu.peakHz - BOB_HZ) <= 15, `unhold: JsSIP hears SIP.js again (${resumed} packets in ~2 s, peak ${hu.peakHz} Hz)`);

  // --- DTMF by SIP INFO (JsSIP's default) -----------------------------------------------------------
  await alice.evaluate((d) => window.T.jssip.session.sendDTMF(d, { duration: 100, interToneGap: 100 }), INFO_DIGITS);
  const infos = await until(async () => {
    const e = await events(bob, 'sipjs', 'info');
    return e.length >= INFO_DIGITS.length && e;
  }, `SIP.js's onInfo sees ${INFO_DIGITS.length} INFO requests`, 8000);
  const got = infos.map((i) => (i.body.match(/^Signal\s*=\s*(\S)/mi) ?? [])[1]).join('');
  log(`INFO seen by SIP.js: ${JSON.stringify(infos)}`);
  check(got === INFO_DIGITS && infos.every((i) => /application\/dtmf-relay/i.test(i.contentType)),
    `JsSIP's INFO DTMF ${INFO_DIGITS} reaches SIP.js's onInfo in order as application/dtmf-relay (${got})`);
  const live = await api(gw, '/api/calls');
  check(live[0]?.dtmf === INFO_DIGITS, `the gateway counts the INFO digits on the call (${live[0]?.dtmf})`);

  // --- DTMF by RFC 4733 (JsSIP's transportType 'RFC2833': an RTCDTMFSender) -------------------------
  const quiet = await listenDtmf(bob, 1500, DIGIT_PAIR);
  check(quiet.hits === 0, `no ${DIGIT} dual tone in SIP.js's audio before the digits (${JSON.stringify(quiet)})`);
  const heard = listenDtmf(bob, 4000, DIGIT_PAIR);
  for (let i = 0; i < 5; i++) {
    await sleep(600);
    await alice.evaluate((d) => window.T.jssip.session.sendDTMF(d, { transportType: 'RFC2833', duration: 160 }), DIGIT);
  }
  const dt = await heard;
  log(`bob around the RFC 4733 digits: ${JSON.stringify(dt)}`);
  check(dt.bursts >= 3, `JsSIP's RFC 4733 DTMF ${DIGIT} ×5 plays out in SIP.js's audio as ${DIGIT_PAIR.join(' + ')} Hz (${dt.bursts} bursts)`);
  const infoAfter = (await events(bob, 'sipjs', 'info')).length;
  check(infoAfter === INFO_DIGITS.length, `RFC 4733 digits are not also sent as INFO (${infoAfter} INFO)`);

  // --- SIP.js (bob) hangs up ------------------------------------------------------------------------
  await bob.evaluate(() => window.T.sipjsHangup());
  const [endA] = await Promise.all([waitEvent(alice, 'jssip', 'ended', 5000), waitEvent(bob, 'sipjs', 'state:Terminated', 5000)]);
  check(endA.originator === 'remote', `SIP.js hangs up; JsSIP's session ends by the remote BYE (${JSON.stringify(endA)})`);
  const cdr = await until(async () => (await api(gw, '/api/cdrs')).find((c) => c.to === 'bob'), 'the call record', 5000);
  log(`call record: ${JSON.stringify(cdr)}`);
  check(cdr.from === 'alice' && cdr.answered_ms && cdr.cause.startsWith('normal') && cdr.dtmf.startsWith(INFO_DIGITS),
    `the call record alice → bob: ${cdr.cause}, DTMF ${cdr.dtmf}`);
  const st = await gatewayIdle(gw);
  check(true, `the gateway holds no call (${JSON.stringify(st)})`);
});
