// Test 6: early media from the trunk. sipp plays the carrier at 127.0.0.1:5076 with
// tests/sipp/softphone_echo_uas.xml: 183 Session Progress with SDP, 500 ms later 200 OK with
// the same answer, PCMU, every RTP packet echoed back (-rtp_echo). The gateway anchors the
// call (opus DTLS-SRTP ⇄ PCMU) and gives the browser its answer in the 183 and again in the
// 200 — the path where libraries differ: JsSIP applies the 183's SDP as the answer, then on
// the 200 makes a new local offer to apply it again; SIP.js (with `earlyMedia: true`) keeps
// the early session description handler. Checked for JsSIP and then SIP.js (both alice, one
// after the other): the 183 is seen, the call is confirmed, and the page hears its own 440 Hz
// back through the trunk's echo (transcoded both ways); hang-up ends sipp's call.
import { join } from 'node:path';
import {
  ROOT, runTest, log, check, sleep, until, writeToneWav, api, launchChromium, rtpStats, listen, Proc,
  startGw, servePage, openPage, registerWith, waitEvent, events, gatewayIdle,
} from './lib.mjs';

const MIC_HZ = 440;
const TRUNK_PORT = 5076;

/** The page calls 9123 through the sipp echo trunk, hears itself, hangs up. */
async function echoCall(page, gw, lib) {
  if (lib === 'jssip') await page.evaluate(() => window.T.jssipCall('sip:9123@127.0.0.1'));
  else await page.evaluate(() => window.T.sipjsCall('sip:9123@127.0.0.1', { earlyMedia: true }));
  const progress = await until(async () => (await events(page, lib, 'progress')).find((e) => e.code === 183), `${lib} sees the 183`, 10000);
  check(!!progress, `${lib}: the trunk's 183 Session Progress (with SDP) reaches the page`);
  if (lib === 'jssip') await waitEvent(page, 'jssip', 'confirmed', 10000);
  else await waitEvent(page, 'sipjs', 'state:Established', 10000);
  const failed = await events(page, lib, lib === 'jssip' ? 'failed' : 'invite-error');
  check(failed.length === 0, `${lib}: the 200 after the early answer confirms the call (no failure: ${JSON.stringify(failed)})`);
  await sleep(1500);
  const heard = await listen(page, 2000, [MIC_HZ]);
  const s = await rtpStats(page);
  log(`${lib} hears ${JSON.stringify(heard)}; ${JSON.stringify(s)}`);
  check(s.inbound.packetsReceived > 60 && Math.abs(heard.peakHz - MIC_HZ) <= 15 && heard.share[0] > 0.5,
    `${lib}: the page hears its own ${MIC_HZ} Hz echoed by the trunk (peak ${heard.peakHz} Hz, ${s.inbound.packetsReceived} packets)`);
  if (lib === 'jssip') {
    await page.evaluate(() => window.T.jssip.session.terminate());
    await waitEvent(page, 'jssip', 'ended', 5000);
  } else {
    await page.evaluate(() => window.T.sipjsHangup());
    await waitEvent(page, 'sipjs', 'state:Terminated', 5000);
  }
  await gatewayIdle(gw);
  check(true, `${lib}: hung up, the gateway holds no call`);
}

await runTest('6-early-media', async ({ dir, cleanup }) => {
  const micWav = join(dir, `mic-${MIC_HZ}.wav`);
  writeToneWav(micWav, { freq: MIC_HZ, seconds: 10, gate: [0.6, 0.4] });
  const sipp = new Proc('sipp', process.env.SIPP ?? 'sipp', [
    '-sf', join(ROOT, 'tests/sipp/softphone_echo_uas.xml'), '-i', '127.0.0.1', '-p', String(TRUNK_PORT),
    '-mp', '32000', '-rtp_echo', '-m', '2', '-nostdin', '-timeout', '60s', '-trace_err', '-error_file', join(dir, 'sipp-errors.log'),
  ], join(dir, 'sipp.log'));
  await sleep(300);
  const gw = await startGw(dir, { http: 8096, sip: 5096, trunkAddr: `127.0.0.1:${TRUNK_PORT}`, mediaPorts: [31500, 31999] });
  const site = await servePage();
  cleanup.push(() => site.close());
  const ctx = await launchChromium(dir, micWav);
  cleanup.push(() => ctx.close());

  const jssip = await openPage(ctx, site.url, 'alice/jssip');
  cleanup.push(async () => log(`JsSIP events: ${JSON.stringify(await events(jssip))}`));
  await registerWith(jssip, 'jssip', gw, 'alice');
  await echoCall(jssip, gw, 'jssip');
  await jssip.evaluate(() => window.T.jssip.ua.stop());
  await until(async () => (await api(gw, '/api/registrations')).length === 0, 'JsSIP unregisters', 5000);

  const sipjs = await openPage(ctx, site.url, 'alice/sipjs');
  cleanup.push(async () => log(`SIP.js events: ${JSON.stringify(await events(sipjs))}`));
  await registerWith(sipjs, 'sipjs', gw, 'alice');
  await echoCall(sipjs, gw, 'sipjs');

  const code = await Promise.race([sipp.exited, sleep(5000).then(() => 'still running')]);
  check(code === 0, `sipp saw both calls through (exit ${code})`);
  const cdrs = (await api(gw, '/api/cdrs')).filter((c) => c.to === '9123');
  check(cdrs.length === 2 && cdrs.every((c) => c.answered_ms && c.cause.startsWith('normal')), `two call records (${cdrs.map((c) => c.cause)})`);
});
