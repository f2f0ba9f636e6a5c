// Headless Firefox ESR for the real-browser end-to-end tests (issue 6), driven by
// puppeteer-core over WebDriver BiDi: puppeteer starts /usr/bin/firefox-esr itself with
// `--remote-debugging-port` and speaks BiDi to it directly (no geckodriver, no browser
// download). The fake microphone is Firefox's own sine generator (there is no file input as
// with Chromium's --use-file-for-fake-audio-capture); its frequency is the pref
// `media.navigator.audio.fake_frequency` (default 1000 Hz), set per launch so that the two
// ends of a call play different tones.
//
// `launchFirefox` returns an object shaped like the Playwright BrowserContext of
// ../lib.mjs (`newPage()`, `close()`), and its pages are a thin adapter of puppeteer's Page
// to the subset of Playwright's Page API that ../lib.mjs uses (addInitScript, on, goto,
// waitForSelector, evaluate, fill, click, waitForFunction, locator().innerText, screenshot),
// so the shared helpers there (openDemo, register, waitState, rtpStats) drive Firefox
// unchanged. Its WebAudio helpers (listen, listenDtmf) do not: they need a running
// AudioContext, which Firefox does not start without a sound device (see recordTrack).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { toneShare } from '../lib.mjs';

export const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';

/**
 * Firefox preferences: fake media devices without prompts (the counterparts of Chromium's
 * --use-fake-device-for-media-stream / --use-fake-ui-for-media-stream), host candidates on
 * loopback (the tests run in a loopback-only network namespace) as plain addresses rather
 * than mDNS names, autoplay of the remote audio and of WebAudio, and no background traffic.
 */
export function firefoxPrefs(fakeHz) {
  return {
    'media.navigator.streams.fake': true,
    'media.navigator.audio.fake_frequency': fakeHz,
    'media.navigator.permission.disabled': true,
    'permissions.default.microphone': 1,
    'media.peerconnection.ice.loopback': true,
    'media.peerconnection.ice.obfuscate_host_addresses': false,
    'media.autoplay.default': 0,
    'media.autoplay.block-webaudio': false,
    'network.dns.disableIPv6': true,
    'browser.shell.checkDefaultBrowser': false,
    'datareporting.policy.dataSubmissionEnabled': false,
    'toolkit.telemetry.reportingpolicy.firstRun': false,
    'app.update.enabled': false,
    'network.captive-portal-service.enabled': false,
    'network.connectivity-service.enabled': false,
  };
}

/**
 * The element `sel` names, waiting up to `timeout` ms for it. Understands Playwright's
 * `base:text-is("x")` (the first `base` whose trimmed text is exactly `x`) besides CSS.
 */
async function element(page, sel, timeout = 30000) {
  const m = /^(.*):text-is\("([^"]*)"\)$/.exec(sel);
  if (!m) return page.waitForSelector(sel, { timeout });
  const handle = await page.waitForFunction(
    (base, text) => [...document.querySelectorAll(base)].find((e) => e.textContent.trim() === text),
    { timeout, polling: 100 }, m[1], m[2]);
  return handle.asElement();
}

/** A puppeteer Page behind the part of Playwright's Page API that ../lib.mjs uses. */
class PageAdapter {
  constructor(page) {
    /** The puppeteer Page itself, for anything the adapter does not cover. */
    this.raw = page;
  }

  addInitScript(fn) {
    return this.raw.evaluateOnNewDocument(fn);
  }

  on(event, handler) {
    // Playwright's `pageerror` and puppeteer's carry the same Error; `console`, `response`
    // and `dialog` objects have the same type()/text()/status()/url()/message()/dismiss().
    this.raw.on(event, handler);
    return this;
  }

  goto(url) {
    return this.raw.goto(url, { waitUntil: 'load' });
  }

  waitForSelector(sel, { timeout } = {}) {
    return element(this.raw, sel, timeout);
  }

  evaluate(fn, arg) {
    return arg === undefined ? this.raw.evaluate(fn) : this.raw.evaluate(fn, arg);
  }

  /** Clears the input and types `value` with real key events (as Playwright's fill ends). */
  async fill(sel, value) {
    const el = await element(this.raw, sel);
    await el.evaluate((e) => {
      e.value = '';
      e.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await el.type(String(value));
    await el.dispose();
  }

  async click(sel) {
    const el = await element(this.raw, sel);
    await el.click();
    await el.dispose();
  }

  /** Playwright's (fn, arg, { timeout }) → puppeteer's (fn, { timeout, polling }, arg). */
  waitForFunction(fn, arg, { timeout = 30000 } = {}) {
    return this.raw.waitForFunction(fn, { timeout, polling: 100 }, arg);
  }

  locator(sel) {
    const raw = this.raw;
    return { innerText: () => raw.$eval(sel, (e) => e.innerText) };
  }

  screenshot({ path, fullPage = false }) {
    return this.raw.screenshot({ path, fullPage });
  }

  close() {
    return this.raw.close();
  }
}

/**
 * Headless Firefox ESR whose fake microphone plays a continuous `fakeHz` sine. Returns
 * `{ browser, version, newPage(), close() }`; `close()` also removes the fresh profile.
 */
export async function launchFirefox({ fakeHz }) {
  const profile = mkdtempSync(join(tmpdir(), 'rvoip-browser-firefox-'));
  let browser;
  try {
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: true,
      userDataDir: profile,
      extraPrefsFirefox: firefoxPrefs(fakeHz),
      defaultViewport: { width: 1280, height: 1000 },
      protocolTimeout: 60000,
      timeout: 60000,
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const version = await browser.version();
  let first = (await browser.pages())[0];
  return {
    browser,
    version,
    profileDir: profile,
    async newPage() {
      // The window Firefox opens with serves as the first page.
      const page = first ?? (await browser.newPage());
      first = undefined;
      await page.setViewport({ width: 1280, height: 1000 });
      return new PageAdapter(page);
    },
    async close() {
      await browser.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Records `ms` of an audio track of the page, the fake microphone (`which = 'mic'`, a fresh
 * getUserMedia track) or the remote audio of its last peer connection (`'remote'`), and
 * returns the decoded samples `{ rate, samples, mimeType, bytes }` (first channel) for the
 * tone analysis of ../lib.mjs (toneWindows). Firefox's WebAudio cannot listen live here:
 * with no audio output device (a container without a sound server) an AudioContext stays
 * `suspended` for ever (its graph falls back to a system-clock driver that runs the media
 * tracks but never starts the context), so the track goes through MediaRecorder (Opus)
 * and is decoded by an OfflineAudioContext, neither of which needs an output device.
 */
export async function recordTrack(page, which, ms) {
  const r = await page.raw.evaluate(async (which, ms) => {
    let track;
    let stop = () => {};
    if (which === 'mic') {
      const s = await navigator.mediaDevices.getUserMedia({ audio: true });
      track = s.getAudioTracks()[0];
      stop = () => track.stop();
    } else {
      track = window.__pcs.at(-1).getReceivers().find((x) => x.track.kind === 'audio').track;
    }
    const rec = new MediaRecorder(new MediaStream([track]));
    const chunks = [];
    rec.ondataavailable = (e) => chunks.push(e.data);
    const stopped = new Promise((resolve) => { rec.onstop = resolve; });
    rec.start();
    await new Promise((resolve) => setTimeout(resolve, ms));
    rec.stop();
    await stopped;
    stop();
    const blob = new Blob(chunks);
    const audio = await new OfflineAudioContext(1, 1, 48000).decodeAudioData(await blob.arrayBuffer());
    return { rate: audio.sampleRate, samples: Array.from(audio.getChannelData(0)), mimeType: rec.mimeType || chunks[0]?.type || '?', bytes: blob.size };
  }, which, ms);
  return { ...r, samples: Float32Array.from(r.samples) };
}

/**
 * The loudest frequency of `{ rate, samples }` in 100–4000 Hz (5 Hz steps, Goertzel over the
 * loudest 100 ms window), for the log and the check that a tone is the dominant one.
 */
export function peakHz({ rate, samples }) {
  const n = Math.round(rate / 10);
  let best = null;
  let bestE = 0;
  for (let off = 0; off + n <= samples.length; off += n) {
    const x = samples.subarray(off, off + n);
    let e = 0;
    for (const v of x) e += v * v;
    if (e > bestE) {
      bestE = e;
      best = x;
    }
  }
  if (!best) return { hz: 0, share: 0 };
  let hz = 0;
  let share = 0;
  for (let f = 100; f <= 4000; f += 5) {
    const s = toneShare(best, rate, f);
    if (s > share) {
      share = s;
      hz = f;
    }
  }
  return { hz, share };
}
