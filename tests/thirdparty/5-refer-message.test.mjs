// Test 5: forking to two libraries, what the gateway does not carry, and caller privacy. bob is registered
// twice, with JsSIP (bob1, 660 Hz) and SIP.js (bob2, 660 Hz); alice (JsSIP, 440 Hz) calls
// bob. Checked: both of bob's pages ring (the gateway forks to both registered contacts);
// SIP.js answers and JsSIP's ringing session is cancelled; audio flows. Then the requests
// the B2BUA does not relay are refused, not silently swallowed: alice's REFER (JsSIP
// `session.refer()`, a blind transfer) and bob's REFER (SIP.js `session.refer()`) each get
// 405 and never reach the other side, and the call goes on with media; a MESSAGE from
// JsSIP (`ua.sendMessage()`) gets 405 whose Allow does not list MESSAGE. alice hangs up.
// Last, alice calls bob with JsSIP's `anonymous: true`: both of bob's pages see Anonymous
// (RFC 3323 privacy), the gateway's /api/calls still names alice; alice cancels.
import { join } from 'node:path';
import {
  runTest, log, check, sleep, until, writeToneWav, api, launchChromium, rtpStats, listen,
  startGw, servePage, openPage, registerWith, waitEvent, events, gatewayIdle,
} from './lib.mjs';

const ALICE_HZ = 440;
const BOB_HZ = 660;

await runTest('5-refer-message', async ({ dir, cleanup }) => {
  const aliceWav = join(dir, `alice-mic-${ALICE_HZ}.wav`);
  const bobWav = join(dir, `bob-mic-${BOB_HZ}.wav`);
  writeToneWav(aliceWav, { freq: ALICE_HZ, seconds: 10, gate: [0.6, 0.4] });
  writeToneWav(bobWav, { freq: BOB_HZ, seconds: 10, gate: [0.6, 0.4] });
  const gw = await startGw(dir, { http: 8095, sip: 5095, mediaPorts: [31000, 31499] });
  const site = await servePage();
  cleanup.push(() => site.close());
  const [ctxA, ctxB1, ctxB2] = await Promise.all([launchChromium(dir, aliceWav), launchChromium(dir, bobWav), launchChromium(dir, bobWav)]);
  cleanup.push(() => ctxA.close(), () => ctxB1.close(), () => ctxB2.close());
  const [alice, bob1, bob2] = await Promise.all([
    openPage(ctxA, site.url, 'alice/jssip'), openPage(ctxB1, site.url, 'bob1/jssip'), openPage(ctxB2, site.url, 'bob2/sipjs'),
  ]);
  cleanup.push(async () => log(`alice (JsSIP) events: ${JSON.stringify(await events(alice))}`));
  cleanup.push(async () => log(`bob1 (JsSIP) events: ${JSON.stringify(await events(bob1))}`));
  cleanup.push(async () => log(`bob2 (SIP.js) events: ${JSON.stringify(await events(bob2))}`));
  await Promise.all([registerWith(alice, 'jssip', gw, 'alice'), registerWith(bob1, 'jssip', gw, 'bob'), registerWith(bob2, 'sipjs', gw, 'bob')]);
  const regs = await api(gw, '/api/registrations');
  check(regs.filter((r) => r.user === 'bob').length === 2, `bob is registered twice, JsSIP and SIP.js (${regs.length} bindings)`);

  // --- forking: both of bob's pages ring, SIP.js answers ---------------------------------------
  await alice.evaluate(() => window.T.jssipCall('sip:bob@127.0.0.1'));
  const [r1, r2] = await Promise.all([waitEvent(bob1, 'jssip', 'newRTCSession', 10000), waitEvent(bob2, 'sipjs', 'invite', 10000)]);
  check(r1.from === 'alice' && r2.from === 'alice', "both of bob's pages ring with alice's call (JsSIP and SIP.js)");
  await bob2.evaluate(() => window.T.sipjsAnswer());
  await Promise.all([waitEvent(alice, 'jssip', 'confirmed'), waitEvent(bob2, 'sipjs', 'state:Established')]);
  const cancelled = await waitEvent(bob1, 'jssip', 'failed', 5000);
  check(cancelled.originator === 'remote' && cancelled.cause === 'Canceled', `SIP.js answers; JsSIP's ringing session is cancelled (${JSON.stringify(cancelled)})`);
  await sleep(1500);
  const heard = await listen(alice, 1500, [BOB_HZ]);
  check(Math.abs(heard.peakHz - BOB_HZ) <= 15, `alice (JsSIP) hears bob's SIP.js page (peak ${heard.peakHz} Hz)`);

  // --- REFER from JsSIP (the caller) --------------------------------------------------------------
  await alice.evaluate(() => window.T.jssipRefer('sip:600@127.0.0.1'));
  const ra = await until(async () => (await events(alice, 'jssip')).find((e) => /^refer-(accepted|rejected)$/.test(e.ev)), "the outcome of JsSIP's REFER", 5000);
  log(`JsSIP's REFER: ${JSON.stringify(ra)}`);
  check(ra.ev === 'refer-rejected' && ra.code === 405 && !/REFER/.test(ra.allow ?? ''), `JsSIP's transfer is refused with 405 (Allow: ${ra.allow}), not accepted and dropped`);
  // --- REFER from SIP.js (the callee) -------------------------------------------------------------
  await bob2.evaluate(() => window.T.sipjsRefer('sip:600@127.0.0.1'));
  const rb = await until(async () => (await events(bob2, 'sipjs')).find((e) => /^refer-(accepted|rejected)$/.test(e.ev)), "the outcome of SIP.js's REFER", 5000);
  check(rb.ev === 'refer-rejected' && rb.code === 405, `SIP.js's transfer is refused with 405 (${JSON.stringify(rb)})`);
  await sleep(500);
  const leaked = [...await events(alice, 'jssip', 'refer-received'), ...await events(bob2, 'sipjs', 'refer-received')];
  check(leaked.length === 0, 'neither REFER reaches the other side');
  const s1 = await rtpStats(alice);
  await sleep(1000);
  const s2 = await rtpStats(alice);
  check(s2.inbound.packetsReceived - s1.inbound.packetsReceived >= 30, `the call goes on after the refused transfers (${s2.inbound.packetsReceived - s1.inbound.packetsReceived} packets in 1 s)`);

  // --- MESSAGE --------------------------------------------------------------------------------------
  const m = await alice.evaluate(() => window.T.jssipMessage('sip:bob@127.0.0.1', 'hello'));
  check(m.code === 405 && !/MESSAGE/.test(m.allow ?? ''), `JsSIP's MESSAGE gets 405 whose Allow does not list MESSAGE (${m.allow})`);

  await alice.evaluate(() => window.T.jssip.session.terminate());
  await Promise.all([waitEvent(alice, 'jssip', 'ended', 5000), waitEvent(bob2, 'sipjs', 'bye', 5000)]);
  check(true, 'alice hangs up; SIP.js gets the BYE');
  const cdr = await until(async () => (await api(gw, '/api/cdrs')).find((c) => c.to === 'bob'), 'the call record', 5000);
  check(cdr.from === 'alice' && cdr.answered_ms && cdr.cause.startsWith('normal'), `call record: ${cdr.cause}`);
  await gatewayIdle(gw);

  // --- an anonymous call (JsSIP `anonymous: true`: anonymous From, Privacy: id) -------------------
  await alice.evaluate(() => {
    const session = window.T.jssip.ua.call('sip:bob@127.0.0.1', { anonymous: true, mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } });
    window.T.jssip.session = session;
  });
  const [a1, a2] = await until(async () => {
    const x = (await events(bob1, 'jssip', 'newRTCSession')).filter((e) => e.originator === 'remote')[1];
    const y = (await events(bob2, 'sipjs', 'invite'))[1];
    return x && y && [x, y];
  }, "the anonymous call rings both of bob's pages", 10000);
  check(a1.from === 'anonymous' && a2.from === 'anonymous' && a1.display === 'Anonymous',
    `bob's pages see the caller as Anonymous, not alice (JsSIP: ${a1.display} <${a1.from}>, SIP.js: ${a2.display} <${a2.from}>)`);
  const ringing = await api(gw, '/api/calls');
  check(ringing[0]?.from === 'alice', 'the gateway itself still knows the caller (/api/calls: alice)');
  await alice.evaluate(() => window.T.jssip.session.terminate());
  await until(async () => (await api(gw, '/api/cdrs')).filter((c) => c.to === 'bob').length === 2, 'the record of the cancelled anonymous call', 5000);
  const st = await gatewayIdle(gw);
  check(true, `alice cancels; the gateway holds no call (${JSON.stringify(st)})`);
});
