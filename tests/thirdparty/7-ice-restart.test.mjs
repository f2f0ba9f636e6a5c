// Test 7: ICE restart from a real browser (RFC 8839 §4.4.1.1, JSEP RFC 8829 §5.3.1). JsSIP
// registers as alice and calls the echo extension 600; then re-INVITEs twice with
// `session.renegotiate()`: once plainly (Chromium keeps its ICE credentials, so the gateway's
// answer must keep its own), once with `rtcOfferConstraints: { iceRestart: true }` (Chromium's
// offer has a new ufrag/pwd, so the gateway's answer must have a new ufrag and pwd too). After
// the restart Chromium's ICE agent reconnects with the new credentials against the gateway's
// ICE-lite agent and the echo of its own 440 Hz keeps coming back.
import { join } from 'node:path';
import {
  runTest, log, check, sleep, until, writeToneWav, api, launchChromium, rtpStats, listen,
  startGw, servePage, openPage, registerWith, waitEvent, ECHO_EXT,
} from './lib.mjs';

const MIC_HZ = 440;
const attr = (name) => (sdp) => (sdp?.match(new RegExp(`^a=${name}:(\\S+)\\r?$`, 'm')) ?? [])[1] ?? null;
const ufrag = attr('ice-ufrag');
const pwd = attr('ice-pwd');
const fingerprint = (sdp) => (sdp?.match(/^a=fingerprint:(.+?)\r?$/m) ?? [])[1] ?? null;

/** The last peer connection's descriptions and ICE state. */
const pcState = (page) => page.evaluate(() => {
  const pc = window.__pcs.at(-1);
  return { local: pc?.localDescription?.sdp, remote: pc?.remoteDescription?.sdp, ice: pc?.iceConnectionState };
});

/** JsSIP re-INVITEs (with an ICE restart when `iceRestart`); resolves once it was answered. */
function renegotiate(page, iceRestart) {
  return page.evaluate((restart) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the re-INVITE was not answered in 10 s')), 10000);
    const ok = window.T.jssip.session.renegotiate(restart ? { rtcOfferConstraints: { iceRestart: true } } : {}, () => {
      clearTimeout(timer);
      resolve(true);
    });
    if (!ok) {
      clearTimeout(timer);
      reject(new Error('JsSIP refused to renegotiate now'));
    }
  }), iceRestart);
}

await runTest('7-ice-restart', async ({ dir, cleanup }) => {
  const micWav = join(dir, `mic-${MIC_HZ}.wav`);
  writeToneWav(micWav, { freq: MIC_HZ, seconds: 20, gate: [0.6, 0.4] });
  const gw = await startGw(dir, { http: 8098, sip: 5098, mediaPorts: [31500, 31999] });
  const site = await servePage();
  cleanup.push(() => site.close());
  const ctx = await launchChromium(dir, micWav);
  cleanup.push(() => ctx.close());
  const page = await openPage(ctx, site.url, 'jssip');
  cleanup.push(async () => log(`JsSIP events: ${JSON.stringify(await page.evaluate(() => window.__events))}`));
  check((await registerWith(page, 'jssip', gw, 'alice')) === 200, 'JsSIP registers as alice');

  await page.evaluate((t) => window.T.jssipCall(t), `sip:${ECHO_EXT}@127.0.0.1`);
  await waitEvent(page, 'jssip', 'confirmed', 15000);
  await sleep(1500);
  const s0 = await pcState(page);
  const gwUfrag = ufrag(s0.remote);
  const gwPwd = pwd(s0.remote);
  check(gwUfrag && gwPwd && /a=ice-lite/.test(s0.remote), `the gateway answers as ICE-lite with ufrag ${gwUfrag}`);

  // A re-INVITE without restart: everyone keeps their credentials.
  await renegotiate(page, false);
  const s1 = await pcState(page);
  check(ufrag(s1.local) === ufrag(s0.local), `Chromium's plain re-offer keeps its ufrag ${ufrag(s1.local)}`);
  check(ufrag(s1.remote) === gwUfrag && pwd(s1.remote) === gwPwd, `the gateway's answer to it keeps ufrag ${ufrag(s1.remote)} and pwd`);

  // restartIce: new credentials on both sides, same DTLS.
  const before = await rtpStats(page);
  const oldPair = await page.evaluate(async () => {
    let id = null;
    (await window.__pcs.at(-1).getStats()).forEach((s) => { if (s.type === 'transport') id = s.selectedCandidatePairId; });
    return id;
  });
  await renegotiate(page, true);
  const s2 = await pcState(page);
  check(ufrag(s2.local) !== ufrag(s0.local), `Chromium's restart offer has a new ufrag (${ufrag(s0.local)} → ${ufrag(s2.local)})`);
  check(ufrag(s2.remote) && ufrag(s2.remote) !== gwUfrag, `the gateway's answer to the restart has a new ufrag (${gwUfrag} → ${ufrag(s2.remote)})`);
  check(pwd(s2.remote) && pwd(s2.remote) !== gwPwd, "the gateway's answer to the restart has a new pwd");
  check(fingerprint(s2.remote) === fingerprint(s0.remote), 'the DTLS fingerprint is unchanged (no new handshake)');
  // Chromium's transport moves to the new ICE generation only once a check with the new
  // credentials succeeded against the gateway's ICE-lite agent (a 401 would leave it there).
  const newUfrag = ufrag(s2.local);
  const t = await until(() => page.evaluate(async ([u, old]) => {
    const pc = window.__pcs.at(-1);
    const stats = await pc.getStats();
    let ok = null;
    stats.forEach((s) => {
      if (s.type !== 'transport' || s.iceLocalUsernameFragment !== u) return;
      const pair = stats.get(s.selectedCandidatePairId);
      if (['connected', 'completed'].includes(s.iceState) && pair && pair.id !== old && pair.state === 'succeeded' && pair.responsesReceived > 0) {
        ok = { iceState: s.iceState, pair: pair.id, responsesReceived: pair.responsesReceived, nominated: pair.nominated };
      }
    });
    return ok;
  }, [newUfrag, oldPair]), 'Chromium connects with the new ICE credentials', 10000);
  check(true, `Chromium's transport is ${t.iceState} on ufrag ${newUfrag}: new pair ${t.pair} (was ${oldPair}) succeeded (${t.responsesReceived} responses, nominated ${t.nominated})`);
  check(['connected', 'completed'].includes((await pcState(page)).ice), 'the peer connection stays connected');
  await sleep(1500);
  const echo = await listen(page, 2000, [MIC_HZ]);
  const after = await rtpStats(page);
  log(`after the restart: ${JSON.stringify(after)}; heard ${JSON.stringify(echo)}`);
  const got = after.inbound.packetsReceived - before.inbound.packetsReceived;
  check(got >= 100, `inbound-rtp keeps flowing across the restart (${got} packets in ~4 s)`);
  check(Math.abs(echo.peakHz - MIC_HZ) <= 15 && echo.share[0] > 0.5, `the echo still returns the page's ${MIC_HZ} Hz (peak ${echo.peakHz} Hz)`);
  const calls = await api(gw, '/api/calls');
  check(calls.length === 1 && calls[0].state === 'answered', 'the call is still up');

  await page.evaluate(() => window.T.jssip.session.terminate());
  await until(async () => (await api(gw, '/api/calls')).length === 0, 'the gateway ends the call', 5000);
  check(true, 'JsSIP hangs up; /api/calls is empty');
});
