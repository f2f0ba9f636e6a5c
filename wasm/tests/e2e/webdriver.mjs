// A minimal WebDriver client for headless Chromium through chromedriver (no npm deps).
import { spawn } from 'node:child_process';

export const CHROME_ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--disable-background-networking',
  '--autoplay-policy=no-user-gesture-required'];

/** Runs `f(wd, session)` with a fresh Chromium session; cleans up afterwards. */
export async function withChromium(f) {
  const port = 9600 + Math.floor(Math.random() * 300);
  const driver = spawn(process.env.CHROMEDRIVER ?? 'chromedriver', [`--port=${port}`], { stdio: 'ignore' });
  const wd = async (method, path, body) => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body && JSON.stringify(body),
    });
    const j = await r.json();
    if (!r.ok) throw new Error(`${method} ${path}: ${JSON.stringify(j.value).slice(0, 500)}`);
    return j.value;
  };
  let session;
  try {
    for (let i = 0; ; i++) {
      try {
        await wd('GET', '/status');
        break;
      } catch (e) {
        if (i > 50) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const caps = { alwaysMatch: { 'goog:chromeOptions': { args: CHROME_ARGS } } };
    session = (await wd('POST', '/session', { capabilities: caps })).sessionId;
    return await f(wd, session);
  } finally {
    if (session) await wd('DELETE', `/session/${session}`).catch(() => {});
    driver.kill();
  }
}
