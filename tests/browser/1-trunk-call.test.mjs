// Test 1: the web demo registers as alice and calls 9123, which the dial plan routes to the
// trunk `carrier`: the native softphone answering at 127.0.0.1:5070, playing a 1 kHz tone and
// recording what it hears. Chromium's fake microphone plays a keyed 440 Hz tone.
// Checked: the call is up in the page and in /api/calls; the browser takes the stream the
// gateway signals (its ontrack stream id is the a=msid one, inbound-rtp comes with the a=ssrc
// SSRC); its inbound-rtp shows packets and audio energy and its remote audio peaks at 1 kHz (WebAudio analyser); a DTMF
// digit from the dial pad reaches the trunk as RFC 4733; a digit the trunk sends by SIP INFO
// reaches the page (the package's `dtmf` event, shown in Messages); the hang-up from the page ends the
// softphone's call; the softphone's recording carries the 440 Hz tone (Goertzel) and not its
// own 1 kHz tone; the call record is written.
import { join } from 'node:path';
import {
  runTest, log, check, sleep, until, writeToneWav, readWav, toneWindows, startGateway, api,
  softphone, launchChromium, openDemo, register, waitState, rtpStats, remoteStream, listen,
} from './lib.mjs';

const BROWSER_HZ = 440;
const TRUNK_HZ = 1000;

await runTest('1-trunk-call', async ({ dir, cleanup }) => {
  const micWav = join(dir, 'browser-mic-440.wav');
  writeToneWav(micWav, { rate: 48000, freq: BROWSER_HZ, seconds: 10, gate: [0.6, 0.4] });
  const trunkWav = join(dir, 'trunk-1000.wav');
  writeToneWav(trunkWav, { rate: 8000, freq: TRUNK_HZ, seconds: 60 });
  const heard = join(dir, 'trunk-heard.wav');

  const trunk = softphone(dir, 'trunk', ['answer', '--auto-answer', '--local-addr', '127.0.0.1:5070',
    '--codecs', 'pcmu', '--input', trunkWav, '--output', heard, '--duration', '60', '--dtmf-info']);
  await trunk.waitLine(/waiting for a call/);
  const gw = await startGateway(dir, { http: 8081, sip: 5061, trunkAddr: '127.0.0.1:5070' });
  log(`gateway up at ${gw.url}`);

  const ctx = await launchChromium(dir, micWav);
  cleanup.push(() => ctx.close());
  const page = await openDemo(ctx, gw, 'alice');
  await register(page, 'alice');
  check(true, 'the web demo registers as alice');
  const regs = await api(gw, '/api/registrations');
  check(regs.length === 1 && regs[0].user === 'alice' && regs[0].transport === 'WS', `/api/registrations lists alice over WS (${JSON.stringify(regs)})`);

  const t0 = Date.now();
  await page.fill('#number', '9123');
  await page.click('#call');
  await trunk.waitLine(/incoming call from/);
  await waitState(page, /^established/);
  check(true, `the call to 9123 is established (${Date.now() - t0} ms)`);
  const calls = await api(gw, '/api/calls');
  check(calls.length === 1 && calls[0].to === '9123' && calls[0].trunk === 'carrier' && calls[0].state === 'answered',
    `/api/calls shows the answered call through the trunk (${JSON.stringify(calls.map(({ from, to, trunk, state, transcoding }) => ({ from, to, trunk, state, transcoding })))})`);

  // Media from the trunk, as the browser sees it.
  await sleep(2000);
  const s1 = await rtpStats(page);
  await sleep(3000);
  const s2 = await rtpStats(page);
  log(`getStats: ${JSON.stringify(s2)}`);
  const got = s2.inbound.packetsReceived - s1.inbound.packetsReceived;
  check(got >= 100, `inbound-rtp: ${got} packets in 3 s (50/s expected)`);
  check(s2.inbound.totalAudioEnergy > s1.inbound.totalAudioEnergy + 0.01 && s2.inbound.audioLevel > 0.05,
    `inbound-rtp carries audio energy (audioLevel ${s2.inbound.audioLevel.toFixed(3)}, totalAudioEnergy ${s1.inbound.totalAudioEnergy.toFixed(3)} → ${s2.inbound.totalAudioEnergy.toFixed(3)})`);
  check(s2.outbound.packetsSent > 100, `outbound-rtp: ${s2.outbound.packetsSent} packets sent`);
  // The gateway signals its stream (a=msid, a=ssrc … cname:, RFC 8830/5576): Chromium takes
  // the signalled stream id, and the SSRC announced is the one the packets come with.
  const rs = await remoteStream(page);
  log(`remote stream: ${JSON.stringify(rs)}`);
  check(rs.msid && rs.streams.flat().includes(rs.msid.stream),
    `the remote track belongs to the stream the gateway's a=msid names (${rs.msid?.stream}; ontrack streams ${JSON.stringify(rs.streams)})`);
  check(rs.ssrc && rs.ssrc.ssrc === rs.inboundSsrc,
    `inbound-rtp's SSRC ${rs.inboundSsrc} is the one of the gateway's a=ssrc (${JSON.stringify(rs.ssrc)})`);
  const spec = await listen(page, 2000, [TRUNK_HZ, BROWSER_HZ]);
  log(`remote audio spectrum: ${JSON.stringify(spec)}`);
  check(Math.abs(spec.peakHz - TRUNK_HZ) <= 15 && spec.share[0] > 0.8,
    `the browser hears the trunk's ${TRUNK_HZ} Hz tone (peak ${spec.peakHz} Hz, ${(spec.share[0] * 100).toFixed(1)} % of the energy)`);
  check(spec.share[1] < 0.05, `and not its own ${BROWSER_HZ} Hz tone (${(spec.share[1] * 100).toFixed(2)} %)`);
  const quality = await page.locator('#quality').innerText();
  const mos = Number(quality.match(/MOS (\d\.\d\d)/)?.[1]);
  check(/^opus · /.test(quality) && mos >= 4, `the demo's call quality line shows the codec and a good MOS (${quality})`);
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
  check(r.tone >= 25, `the trunk hears the browser's ${BROWSER_HZ} Hz tone (${r.tone} of ${r.windows} 100 ms windows; max share ${r.maxShare.toFixed(2)})`);
  check(r.other === 0, `the trunk does not hear its own ${TRUNK_HZ} Hz tone back (${r.other} windows)`);

  const cdrs = await until(async () => (await api(gw, '/api/cdrs')).filter((c) => c.to === '9123'), 'the call record');
  log(`call record: ${JSON.stringify(cdrs[0])}`);
  check(cdrs.length === 1 && cdrs[0].from === 'alice', 'the call record is written');
  await until(async () => (await api(gw, '/api/calls')).length === 0, 'no call left in the gateway', 5000);
  check(true, 'no call is left in the gateway');
  await page.screenshot({ path: join(dir, 'after-hangup.png'), fullPage: true });
});
