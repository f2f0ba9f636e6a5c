// Smoke test of web-demo/ in headless Chromium: the page loads the package from ./rvoip/,
// renders the dial pad, and registers through a scripted SIP server (fake WebSocket).
// Usage: node wasm/tests/e2e/demo.mjs (after scripts/build-wasm.sh copied the package).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join, extname, normalize } from 'node:path';
import { withChromium } from './webdriver.mjs';

const root = fileURLToPath(new URL('../../..', import.meta.url)); // repository root
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };
const http = createServer(async (req, res) => {
  const path = normalize(join(root, decodeURIComponent(new URL(req.url, 'http://x').pathname)));
  if (!path.startsWith(root)) return res.writeHead(403).end();
  try {
    const body = await readFile(path);
    res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((r) => http.listen(0, '127.0.0.1', r));
let ok = false;
try {
  await withChromium(async (wd, s) => {
    // The scripted server replaces window.WebSocket before the app creates its UserAgent.
    await wd('POST', `/session/${s}/url`, { url: `http://127.0.0.1:${http.address().port}/web-demo/index.html` });
    await wd('POST', `/session/${s}/timeouts`, { script: 30000 });
    const r = await wd('POST', `/session/${s}/execute/async`, {
      script: `const done = arguments[arguments.length - 1];
        (async () => {
          const { SipServer, fakeWebSocket } = await import('/wasm/tests/e2e/sip-server.js');
          window.WebSocket = fakeWebSocket(new SipServer());
          const f = document.getElementById('account');
          f.elements.servers.value = 'wss://demo.example/ws';
          f.elements.uri.value = 'sip:alice@example.com';
          f.elements.password.value = 'pw';
          f.requestSubmit();
          for (let i = 0; i < 100 && !/^registered/.test(document.getElementById('registration').textContent); i++)
            await new Promise((r) => setTimeout(r, 50));
          return { pad: document.querySelectorAll('#pad button').length, reg: document.getElementById('registration').textContent };
        })().then(done, (e) => done({ error: String(e) }));`,
      args: [],
    });
    ok = r.pad === 12 && r.reg === 'registered';
    console.log(`${ok ? 'ok  ' : 'FAIL'} web-demo loads the package and registers (${JSON.stringify(r)})`);
  });
} finally {
  http.close();
}
process.exit(ok ? 0 : 1);
