// Headless browsers for the interop tests, behind one small interface:
//   const b = await launch('chromium' | 'firefox', { name, artifacts });
//   await b.page.goto(url); await b.call('register', {...}); await b.screenshot('x'); await b.close();
// Chromium is driven by playwright-core (CDP), Firefox ESR by puppeteer-core over WebDriver
// BiDi. Both get fake audio devices, no permission prompts, loopback ICE candidates
// without mDNS obfuscation (the tests run in a loopback-only network namespace) and a
// fresh profile directory that is removed on close.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
export const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';

const CHROMIUM_ARGS = [
  '--allow-loopback-in-peer-connection',
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
  // Host candidates as plain 127.0.0.1, not `*.local` names (no mDNS on a lone loopback).
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

/** Firefox preferences: the counterparts of the Chromium flags above. */
export const FIREFOX_PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'permissions.default.microphone': 1,
  'media.peerconnection.ice.loopback': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.autoplay.default': 0,
  'network.dns.disableIPv6': true,
  'browser.shell.checkDefaultBrowser': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.reportingpolicy.firstRun': false,
};

/** Launches one browser with one page. */
export async function launch(kind, { name, artifacts, log = () => {} }) {
  const profile = mkdtempSync(join(tmpdir(), `rvoip-interop-${kind}-`));
  let browser;
  let page;
  let closeBrowser;
  if (kind === 'chromium') {
    const { chromium } = await import('playwright-core');
    // launchPersistentContext: our own fresh user-data-dir (Playwright's default one is
    // fresh too, but this way it is ours to remove and to name in a failure report).
    const ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      chromiumSandbox: false,
      args: CHROMIUM_ARGS,
      timeout: 60000,
    });
    browser = ctx;
    page = ctx.pages()[0] ?? (await ctx.newPage());
    closeBrowser = () => ctx.close();
  } else if (kind === 'firefox') {
    const puppeteer = (await import('puppeteer-core')).default;
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: true,
      userDataDir: profile,
      extraPrefsFirefox: FIREFOX_PREFS,
      protocolTimeout: 60000,
      timeout: 60000,
    });
    page = (await browser.pages())[0] ?? (await browser.newPage());
    closeBrowser = () => browser.close();
  } else {
    throw new Error(`unknown browser ${kind}`);
  }
  page.on('console', (m) => log(`[${name} console] ${m.text()}`));
  page.on('pageerror', (e) => log(`[${name} pageerror] ${e?.stack ?? e}`));
  return {
    kind,
    name,
    page,
    /** Calls `window.interop[method](arg)` in the page. */
    call: (method, arg) => page.evaluate(([m, a]) => window.interop[m](a), [method, arg]),
    async open(url) {
      await page.goto(url);
      for (let i = 0; i < 200; i++) {
        if (await page.evaluate(() => window.interopReady === true)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`${name}: page did not load the package`);
    },
    async screenshot(label) {
      const path = join(artifacts, `${label}.png`);
      await page.screenshot({ path });
      return path;
    },
    async close() {
      await closeBrowser().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
