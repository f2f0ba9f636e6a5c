// Shared helpers of the real-browser end-to-end tests (tests/browser/*.test.mjs): tone WAV
// files and their analysis (Goertzel), the gateway and softphone binaries as child
// processes, headless Chromium with fake media (playwright-core, the system Chromium; never
// downloads a browser), and the web-demo page driven through its element ids.
//
// Everything runs on 127.0.0.1; scripts/test-browser.sh starts the tests inside a fresh
// network namespace holding only loopback, where Chromium needs
// --allow-loopback-in-peer-connection to gather host candidates at all.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, createWriteStream, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { chromium } from 'playwright-core';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const env = (k, d) => process.env[k] ?? d;
/** Directory holding the `gateway` and `softphone` binaries. */
export const BIN = env('RVOIP_BIN', join(ROOT, 'target/release'));
export const CHROMIUM = env('CHROMIUM', '/usr/bin/chromium');
/** Screenshots, logs and recordings of test `name`. */
export function artifacts(name) {
  const dir = join(env('ARTIFACTS', join(ROOT, 'artifacts/browser')), name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

// --- logging and checks ---------------------------------------------------------------------
let T0 = Date.now();
let TAG = 'browser';
export function setTag(tag) {
  TAG = tag;
  T0 = Date.now();
}
export const log = (m) => console.log(`[${TAG} ${((Date.now() - T0) / 1000).toFixed(1).padStart(5)}s] ${m}`);
export function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  log(`ok: ${what}`);
}
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Polls `f` (async) until it returns a truthy value; throws `what` after `ms`. */
export async function until(f, what, ms = 15000, every = 200) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await f();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${what} (last: ${last?.message ?? JSON.stringify(last)})`);
    await sleep(every);
  }
}

// --- WAV ------------------------------------------------------------------------------------
/**
 * Writes a mono 16-bit PCM WAV of `seconds` of a `freq` Hz sine at `amplitude` (0..1 of full
 * scale). With `gate = [on, off]` (seconds) the tone is keyed on and off (10 ms ramps), which
 * keeps Chromium's noise suppressor from learning it as stationary noise.
 */
export function writeToneWav(path, { rate = 48000, freq, seconds, amplitude = 0.3, gate }) {
  const n = Math.round(rate * seconds);
  const buf = Buffer.alloc(44 + 2 * n);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + 2 * n, 4);
  buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(2 * n, 40);
  const ramp = 0.01 * rate;
  for (let i = 0; i < n; i++) {
    let env = 1;
    if (gate) {
      const period = (gate[0] + gate[1]) * rate;
      const k = i % period;
      const on = gate[0] * rate;
      env = k >= on ? 0 : Math.min(1, k / ramp, (on - k) / ramp);
    }
    const v = amplitude * env * Math.sin((2 * Math.PI * freq * i) / rate);
    buf.writeInt16LE(Math.round(v * 32767), 44 + 2 * i);
  }
  writeFileSync(path, buf);
}

/** Reads a 16-bit PCM WAV: `{ rate, samples }` (first channel, as floats in −1..1). */
export function readWav(path) {
  const b = readFileSync(path);
  if (b.toString('latin1', 0, 4) !== 'RIFF' || b.toString('latin1', 8, 12) !== 'WAVE') throw new Error(`${path}: not a WAV file`);
  let off = 12;
  let fmt;
  while (off + 8 <= b.length) {
    const id = b.toString('latin1', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      fmt = { channels: b.readUInt16LE(body + 2), rate: b.readUInt32LE(body + 4), bits: b.readUInt16LE(body + 14) };
    } else if (id === 'data') {
      if (!fmt || fmt.bits !== 16) throw new Error(`${path}: only 16-bit PCM is read`);
      const end = Math.min(b.length, body + size);
      const frames = Math.floor((end - body) / (2 * fmt.channels));
      const samples = new Float32Array(frames);
      for (let i = 0; i < frames; i++) samples[i] = b.readInt16LE(body + 2 * i * fmt.channels) / 32768;
      return { rate: fmt.rate, samples };
    }
    off = body + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

/** Share of the energy of `x` at `freq` Hz (Goertzel; 1 for a pure tone on a bin centre). */
export function toneShare(x, rate, freq) {
  const n = x.length;
  const w = (2 * Math.PI * freq) / rate;
  const c = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (let i = 0; i < n; i++) {
    const s0 = x[i] + c * s1 - s2;
    s2 = s1;
    s1 = s0;
    energy += x[i] * x[i];
  }
  const power = s1 * s1 + s2 * s2 - c * s1 * s2; // |X(k)|²
  // A sine of amplitude A gives |X|² = (A·n/2)² and energy A²·n/2: share = 2|X|²/(n·energy).
  return energy > 0 ? (2 * power) / (n * energy) : 0;
}

/**
 * Cuts `samples` into 100 ms windows and reports how many carry the `freq` tone (level above
 * −40 dBFS and at least `share` of their energy at `freq`) and the same for each of
 * `others` (frequencies that must NOT be there, e.g. the far end's own tone).
 */
export function toneWindows({ rate, samples }, freq, { share = 0.6, others = [] } = {}) {
  const n = Math.round(rate / 10);
  const res = { windows: 0, loud: 0, tone: 0, other: 0, maxShare: 0 };
  for (let off = 0; off + n <= samples.length; off += n) {
    const x = samples.subarray(off, off + n);
    res.windows++;
    let e = 0;
    for (const v of x) e += v * v;
    const rms = Math.sqrt(e / n);
    if (rms < 0.01) continue; // −40 dBFS
    res.loud++;
    const s = toneShare(x, rate, freq);
    res.maxShare = Math.max(res.maxShare, s);
    if (s >= share) res.tone++;
    if (others.some((f) => toneShare(x, rate, f) >= 0.3)) res.other++;
  }
  return res;
}

// --- child processes --------------------------------------------------------------------------
const children = new Set();
/** A child process with its output lines collected (and copied to `logPath`). */
export class Proc {
  constructor(name, cmd, args, logPath) {
    this.name = name;
    this.lines = [];
    this.waiters = [];
    this.log = createWriteStream(logPath, { flags: 'a' });
    this.child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: env('RUST_LOG', 'info'), NO_COLOR: '1' } });
    children.add(this);
    this.child.on('error', (e) => {
      // Not started (a missing binary): reported as an exit, so waits fail with the reason.
      this.log.write(`--- ${e.message}\n`);
      this.lines.push({ tag: 'err', l: e.message });
      this.child.emit('exit', 127, null);
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, sig) => {
      children.delete(this);
      this.code = code;
      this.log.write(`--- exit ${code ?? sig}\n`);
      resolve(code ?? sig);
    }));
    for (const [stream, tag] of [[this.child.stdout, 'out'], [this.child.stderr, 'err']]) {
      let rest = '';
      stream.on('data', (d) => {
        this.log.write(d);
        const parts = (rest + d).split('\n');
        rest = parts.pop();
        for (const l of parts) {
          this.lines.push({ tag, l });
          this.waiters = this.waiters.filter((w) => !(w.re.test(l) && (w.resolve(l), true)));
        }
      });
    }
  }

  /** Resolves with the first output line (past or future) matching `re`. */
  waitLine(re, ms = 15000) {
    const seen = this.lines.find((x) => re.test(x.l));
    if (seen) return Promise.resolve(seen.l);
    return new Promise((resolve, reject) => {
      const w = { re, resolve };
      this.waiters.push(w);
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`${this.name}: no line matching ${re} within ${ms} ms`));
      }, ms);
      this.exited.then(() => setTimeout(() => {
        if (this.waiters.includes(w)) {
          clearTimeout(t);
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(new Error(`${this.name} exited (${this.code}) without a line matching ${re}`));
        }
      }, 50));
      w.resolve = (l) => {
        clearTimeout(t);
        resolve(l);
      };
    });
  }

  /** Writes `line` to the process's stdin (the softphone reads commands and DTMF digits there). */
  send(line) {
    this.child.stdin.write(line + '\n');
  }

  has(re) {
    return this.lines.some((x) => re.test(x.l));
  }

  /** SIGTERM, then SIGKILL after `ms`. Resolves with the exit code or signal. */
  async stop(ms = 10000) {
    if (this.code !== undefined || this.child.exitCode !== null) return this.exited;
    const t0 = Date.now();
    this.child.kill('SIGTERM');
    const t = setTimeout(() => {
      log(`${this.name} still running ${ms} ms after SIGTERM: SIGKILL`);
      this.child.kill('SIGKILL');
    }, ms);
    const r = await this.exited;
    clearTimeout(t);
    log(`${this.name} stopped (exit ${r}, ${Date.now() - t0} ms after SIGTERM)`);
    return r;
  }
}
/** Kills whatever is still running (on failure). */
export async function stopAll() {
  await Promise.all([...children].map((c) => c.stop()));
}

// --- the gateway ------------------------------------------------------------------------------
export const ADMIN_PW = 'browser-e2e-admin';
export const USERS = { alice: 'alice-e2e-secret', bob: 'bob-e2e-secret' };
export const DID_ALICE = '+15550100001';

/**
 * Starts the gateway binary on `http` (HTTP + WebSocket) and `sip` (UDP + TCP) with a trunk
 * `carrier` at `trunkAddr` (no OPTIONS keep-alive: always up), dial plan `9XXX` → carrier,
 * `alice`/`bob` → registered users, `600` → echo, DID `+15550100001` → alice. Resolves once `/` serves the
 * web demo. `extraConfig` is appended to the configuration (more `[[dialplan]]` rules, say);
 * `demo: false` skips the check that the npm package is served (tests/thirdparty/ brings its
 * own page).
 */
export async function startGateway(dir, { http, sip, trunkAddr, mediaPorts = [30000, 30999], extraConfig = '', demo = true }) {
  const data = join(dir, 'gateway-data');
  mkdirSync(data, { recursive: true });
  const cfg = `# written by tests/browser/lib.mjs
[http]
listen = "127.0.0.1:${http}"
[sip]
udp = "127.0.0.1:${sip}"
tcp = "127.0.0.1:${sip}"
domain = "127.0.0.1"
[media]
address = "127.0.0.1"
port_min = ${mediaPorts[0]}
port_max = ${mediaPorts[1]}
[storage]
data_dir = "${data}"
[admin]
username = "admin"
password = "${ADMIN_PW}"
[limits]
shutdown_grace_seconds = 1
[[users]]
username = "alice"
password = "${USERS.alice}"
display_name = "Alice"
dids = ["${DID_ALICE}"]
[[users]]
username = "bob"
password = "${USERS.bob}"
display_name = "Bob"
[[trunks]]
name = "carrier"
host = "${trunkAddr}"
transport = "udp"
options_interval = 0
[[dialplan]]
pattern = "9XXX"
target = "trunk:carrier"
[[dialplan]]
pattern = "alice"
target = "user"
[[dialplan]]
pattern = "bob"
target = "user"
[[dialplan]]
pattern = "600"
target = "echo"
${extraConfig}`;
  const path = join(dir, 'gateway.toml');
  writeFileSync(path, cfg);
  const gw = new Proc('gateway', join(BIN, 'gateway'), ['--config', path], join(dir, 'gateway.log'));
  gw.url = `http://127.0.0.1:${http}`;
  gw.sip = `127.0.0.1:${sip}`;
  let up = false;
  const died = gw.exited.then((c) => {
    if (!up) throw new Error(`gateway exited with ${c} at start (see ${dir}/gateway.log)`);
  });
  died.catch(() => {});
  await Promise.race([died, until(async () => {
    const r = await fetch(gw.url + '/');
    return r.ok && (await r.text()).includes('rvoip softphone');
  }, 'the gateway serves the web demo', 20000).then(() => (up = true))]);
  const pkg = demo ? await fetch(gw.url + '/rvoip/index.js') : { ok: true };
  if (!pkg.ok) throw new Error('the gateway does not serve /rvoip/index.js: build the package (scripts/build-wasm.sh) before the gateway');
  return gw;
}

/** GET `path` of the gateway's JSON API (HTTP Basic with the console credentials). */
export async function api(gw, path) {
  const r = await fetch(gw.url + path, { headers: { authorization: 'Basic ' + Buffer.from(`admin:${ADMIN_PW}`).toString('base64') } });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

/** The native softphone binary with `args`. */
export function softphone(dir, name, args) {
  return new Proc(name, join(BIN, 'softphone'), args, join(dir, `${name}.log`));
}

// --- Chromium ---------------------------------------------------------------------------------
/** Headless Chromium whose fake microphone plays `wav` (looped). */
let profiles = 0;
export async function launchChromium(dir, wav) {
  // (The counter: two launches in the same millisecond must not share a profile.)
  const profile = join(tmpdir(), `rvoip-browser-${process.pid}-${Date.now()}-${++profiles}`);
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 1000 },
    args: [
      '--no-sandbox', '--headless=new', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--allow-loopback-in-peer-connection',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-audio-capture=${wav}`,
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  ctx.profileDir = profile;
  const close = ctx.close.bind(ctx);
  ctx.close = async () => {
    await close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  };
  return ctx;
}

/**
 * Opens the web demo served by `gw` in a new page of `ctx`. An init script keeps every
 * RTCPeerConnection the package creates in `window.__pcs` (for getStats) without touching
 * the demo. Browser errors are copied to the log.
 */
export async function openDemo(ctx, gw, who) {
  const page = await ctx.newPage();
  await page.addInitScript(() => {
    window.__pcs = [];
    // The stream ids of every remote track (`ontrack`): the signalled `a=msid` stream id,
    // or a default one when the stream is "unsignaled".
    window.__streams = [];
    const Native = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends Native {
      constructor(...a) {
        super(...a);
        window.__pcs.push(this);
        this.addEventListener('track', (e) => window.__streams.push(e.streams.map((x) => x.id)));
      }
    };
  });
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') log(`${who} console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => log(`${who} page error: ${e}`));
  page.on('response', (r) => { if (r.status() >= 400) log(`${who} HTTP ${r.status()} ${r.url()}`); });
  page.on('dialog', (d) => {
    log(`${who} dialog: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  await page.goto(gw.url + '/');
  await page.waitForSelector('#pad button');
  // Every text the two status badges show, in order (`window.__badges`).
  await page.evaluate(() => {
    window.__badges = [];
    for (const id of ['transport', 'registration']) {
      const el = document.getElementById(id);
      new MutationObserver(() => window.__badges.push(`${id}: ${el.textContent}`)).observe(el, { childList: true, characterData: true, subtree: true });
    }
  });
  return page;
}

/** Fills the account form and registers; resolves when the badge reads `registered`. */
export async function register(page, user, { servers, timeout = 15000 } = {}) {
  if (servers) await page.fill('#account input[name=servers]', servers);
  await page.fill('#account input[name=uri]', `sip:${user}@127.0.0.1`);
  await page.fill('#account input[name=password]', USERS[user]);
  await page.fill('#account input[name=displayName]', user);
  await page.click('#account button[type=submit]');
  await page.waitForFunction(() => document.getElementById('registration').textContent === 'registered', null, { timeout });
}

export const callState = (page) => page.locator('#state').innerText();
export async function waitState(page, re, ms = 15000) {
  await page.waitForFunction((src) => new RegExp(src).test(document.getElementById('state').textContent), re.source, { timeout: ms });
  return callState(page);
}

/**
 * How the page's last peer connection sees the remote stream: the `a=msid` and
 * `a=ssrc:… cname:` of its remote description, the stream ids its `track` events gave, and
 * the SSRC of its audio inbound-rtp.
 */
export function remoteStream(page) {
  return page.evaluate(async () => {
    const pc = window.__pcs.at(-1);
    if (!pc) return null;
    const sdp = pc.remoteDescription?.sdp ?? '';
    const msid = sdp.match(/^a=msid:(\S+) (\S+)\r?$/m);
    const ssrc = sdp.match(/^a=ssrc:(\d+) cname:(\S+)\r?$/m);
    let inboundSsrc = null;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') inboundSsrc = s.ssrc;
    });
    return {
      msid: msid && { stream: msid[1], track: msid[2] },
      ssrc: ssrc && { ssrc: Number(ssrc[1]), cname: ssrc[2] },
      streams: window.__streams,
      inboundSsrc,
    };
  });
}

/** The audio inbound-rtp and outbound-rtp of the page's last peer connection. */
export function rtpStats(page) {
  return page.evaluate(async () => {
    const pc = window.__pcs.at(-1);
    if (!pc) return null;
    const out = { inbound: null, outbound: null, codec: null };
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        out.inbound = { packetsReceived: s.packetsReceived, packetsLost: s.packetsLost, audioLevel: s.audioLevel ?? 0,
          totalAudioEnergy: s.totalAudioEnergy ?? 0, totalSamplesDuration: s.totalSamplesDuration ?? 0, jitter: s.jitter };
      }
      if (s.type === 'outbound-rtp' && s.kind === 'audio') out.outbound = { packetsSent: s.packetsSent, bytesSent: s.bytesSent };
      if (s.type === 'codec' && /audio\/(opus|PCMU|PCMA|G722)/i.test(s.mimeType)) out.codec = out.codec ?? s.mimeType;
    });
    return out;
  });
}

/**
 * Listens to the page's remote audio (the receiver track of its last peer connection) with a
 * WebAudio analyser for `ms` and reports the loudest frequency and the share of the spectrum's
 * energy within ±`band` Hz of each of `freqs`, plus the peak level of the DTMF pairs seen
 * (NetEq plays received RFC 4733 events out as tones).
 */
export function listen(page, ms, freqs, band = 30) {
  return page.evaluate(async ({ ms, freqs, band }) => {
    const pc = window.__pcs.at(-1);
    const track = pc.getReceivers().find((r) => r.track.kind === 'audio').track;
    const ctx = new AudioContext();
    await ctx.resume();
    const src = ctx.createMediaStreamSource(new MediaStream([track]));
    const an = ctx.createAnalyser();
    an.fftSize = 8192;
    an.smoothingTimeConstant = 0;
    src.connect(an);
    const bins = new Float32Array(an.frequencyBinCount);
    const acc = new Float64Array(an.frequencyBinCount);
    const hz = ctx.sampleRate / an.fftSize;
    let frames = 0;
    const end = performance.now() + ms;
    while (performance.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
      an.getFloatFrequencyData(bins);
      for (let i = 0; i < bins.length; i++) acc[i] += Math.pow(10, bins[i] / 10);
      frames++;
    }
    await ctx.close();
    let peak = 0;
    let total = 0;
    const lo = Math.floor(100 / hz);
    const hi = Math.ceil(4000 / hz);
    for (let i = lo; i < hi; i++) {
      total += acc[i];
      if (acc[i] > acc[peak] || peak < lo) peak = i;
    }
    const share = freqs.map((f) => {
      let e = 0;
      for (let i = Math.floor((f - band) / hz); i <= Math.ceil((f + band) / hz); i++) e += acc[i];
      return total > 0 ? e / total : 0;
    });
    return { frames, peakHz: Math.round(peak * hz), share, level: 10 * Math.log10(total / Math.max(frames, 1) + 1e-20) };
  }, { ms, freqs, band });
}

/**
 * Watches the page's remote audio for `ms`, every sample of it, in blocks of 1024 samples
 * (≈ 21 ms; a ScriptProcessorNode, so no block is skipped however the page's timers run), for
 * the DTMF pair `[low, high]`: a block is a hit when the high tone holds ≥ 20 % of the block's
 * energy and the low one ≥ 6 % (Goertzel at the exact frequency; NetEq plays the low tone
 * weaker, and the far end's own tone shares the block; without a digit both stay under 5 %
 * and 7 % respectively in our runs). Reports the hits,
 * the bursts (runs of hits: one per digit heard) and the best block. Chromium's NetEq plays a
 * received RFC 4733 event out as its dual tone, which is what this hears.
 */
export function listenDtmf(page, ms, [low, high]) {
  return page.evaluate(async ({ ms, low, high }) => {
    const pc = window.__pcs.at(-1);
    const track = pc.getReceivers().find((r) => r.track.kind === 'audio').track;
    const ctx = new AudioContext();
    await ctx.resume();
    const src = ctx.createMediaStreamSource(new MediaStream([track]));
    const proc = ctx.createScriptProcessor(1024, 1, 1);
    const mute = ctx.createGain();
    mute.gain.value = 0;
    src.connect(proc);
    proc.connect(mute);
    mute.connect(ctx.destination);
    const share = (x, f, energy) => {
      const c = 2 * Math.cos((2 * Math.PI * f) / ctx.sampleRate);
      let s1 = 0;
      let s2 = 0;
      for (let i = 0; i < x.length; i++) {
        const s0 = x[i] + c * s1 - s2;
        s2 = s1;
        s1 = s0;
      }
      return energy > 0 ? (2 * (s1 * s1 + s2 * s2 - c * s1 * s2)) / (x.length * energy) : 0;
    };
    const r = { blocks: 0, hits: 0, bursts: 0, best: { low: 0, high: 0 } };
    let last = false;
    proc.onaudioprocess = (e) => {
      const x = e.inputBuffer.getChannelData(0);
      let energy = 0;
      for (const v of x) energy += v * v;
      const l = share(x, low, energy);
      const h = share(x, high, energy);
      if (Math.min(l, h) > Math.min(r.best.low, r.best.high)) r.best = { low: +l.toFixed(3), high: +h.toFixed(3) };
      const hit = energy / x.length > 1e-6 && l >= 0.06 && h >= 0.2;
      if (hit) r.hits++;
      if (hit && !last) r.bursts++;
      last = hit;
      r.blocks++;
    };
    await new Promise((res) => setTimeout(res, ms));
    proc.onaudioprocess = null;
    await ctx.close();
    return r;
  }, { ms, low, high });
}

/** Runs `body` as the test `name`; exits 0 on success, 1 on failure (after cleanup). */
export async function runTest(name, body) {
  setTag(name);
  const dir = artifacts(name);
  const cleanup = [];
  let ok = false;
  try {
    await body({ dir, cleanup });
    ok = true;
  } catch (e) {
    log(`FAILED: ${e.stack ?? e}`);
  } finally {
    for (const f of cleanup.reverse()) await Promise.resolve().then(f).catch((e) => log(`cleanup: ${e}`));
    await stopAll();
  }
  log(ok ? 'PASS' : `FAIL (logs and screenshots in ${dir})`);
  process.exit(ok ? 0 : 1);
}
