// Runs page.html (the package's end-to-end test) in headless Chromium through chromedriver
// and reports its checks. Usage: node wasm/tests/e2e/run.mjs (after scripts/build-wasm.sh).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join, extname, normalize } from 'node:path';
import { withChromium } from './webdriver.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url)); // wasm/
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
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
const port = http.address().port;

let failed = 0;
const RUN = `const done = arguments[arguments.length - 1];
  (async () => {
    for (let i = 0; !window.runE2E && i < 100; i++) await new Promise((r) => setTimeout(r, 50));
    if (!window.runE2E) return [{ name: 'page loaded the package', ok: false, detail: 'runE2E missing' }];
    return window.runE2E();
  })().then(done, (e) => done([{ name: 'run', ok: false, detail: String((e && e.stack) || e) }]));`;
try {
  await withChromium(async (wd, session) => {
    try {
      await wd('POST', `/session/${session}/timeouts`, { script: 120000 });
      await wd('POST', `/session/${session}/url`, { url: `http://127.0.0.1:${port}/tests/e2e/page.html` });
      const results = await wd('POST', `/session/${session}/execute/async`, { script: RUN, args: [] });
      for (const r of results) {
        if (!r.ok) failed++;
        console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}${r.ok ? '' : ' — ' + r.detail}`);
      }
      console.log(`\n${results.length - failed} passed, ${failed} failed`);
      if (results.length === 0) failed = 1;
    } catch (e) {
      console.error(String(e).slice(0, 300));
      const partial = await wd('POST', `/session/${session}/execute/sync`, {
        script: 'return { step: window.e2eStep, results: window.e2eResults }',
        args: [],
      }).catch(() => null);
      console.error(JSON.stringify(partial, null, 1));
      failed = 1;
    }
  });
} catch (e) {
  console.error(e);
  failed = 1;
} finally {
  http.close();
}
process.exit(failed ? 1 : 0);
