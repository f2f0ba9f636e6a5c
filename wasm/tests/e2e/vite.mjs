// Checks that the packed npm package works unchanged in a Vite 7 app: installs the
// `npm pack` tarball into a copy of wasm/examples/vite, runs `vite build` and loads the
// built app (vite preview) and the dev server (dependency pre-bundling) in headless
// Chromium; the app sets its title to "wasm ok" once the wasm core is loaded.
// Usage: node wasm/tests/e2e/vite.mjs (after scripts/build-wasm.sh).
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withChromium } from './webdriver.mjs';

const pkg = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'rvoip-vite-'));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] }).toString();
let failed = 0;
const servers = [];
try {
  const tgz = run('npm', ['pack', '--silent', '--pack-destination', dir], pkg).trim().split('\n').at(-1);
  const example = join(dir, 'app');
  cpSync(join(pkg, 'examples/vite'), example, {
    recursive: true,
    filter: (s) => !/node_modules|dist/.test(s.slice(join(pkg, 'examples/vite').length)),
  });
  const pj = JSON.parse(readFileSync(join(example, 'package.json'), 'utf8'));
  pj.dependencies.rvoip = `file:../${tgz}`;
  writeFileSync(join(example, 'package.json'), JSON.stringify(pj, null, 2));
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], example);
  console.log(run('npx', ['--no-install', 'vite', 'build'], example).split('\n').filter((l) => /dist\//.test(l)).join('\n'));
  const assets = readdirSync(join(example, 'dist/assets'));
  if (!assets.some((a) => a.endsWith('.wasm'))) throw new Error('vite build emitted no .wasm asset');
  const serve = (args, port) =>
    new Promise((resolve, reject) => {
      const vite = join(example, 'node_modules/vite/bin/vite.js');
      const p = spawn(process.execPath, [vite, ...args, '--port', String(port), '--strictPort', '--host', '127.0.0.1'], {
        cwd: example,
        // CI=true makes picocolors colour the banner ("Local" in bold), so match without colour.
        env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      servers.push(p);
      p.stdout.on('data', (d) => /Local/.test(String(d).replace(/\x1b\[[0-9;]*m/g, '')) && resolve());
      p.on('exit', (c) => reject(new Error(`vite ${args[0] ?? 'dev'} exited ${c}`)));
      p.unref();
      setTimeout(() => reject(new Error('vite did not start')), 30000);
    });
  const base = 5170 + Math.floor(Math.random() * 200);
  await serve(['preview'], base);
  await serve([], base + 1);
  await withChromium(async (wd, session) => {
    for (const [name, port] of [['vite build + preview', base], ['vite dev server', base + 1]]) {
      await wd('POST', `/session/${session}/url`, { url: `http://127.0.0.1:${port}/` });
      let title = '';
      for (let i = 0; i < 100 && title !== 'wasm ok'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        title = await wd('GET', `/session/${session}/title`);
      }
      const ok = title === 'wasm ok';
      if (!ok) failed++;
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: package loads its wasm core${ok ? '' : ` (title: ${title})`}`);
    }
  });
} catch (e) {
  console.error(e);
  failed = 1;
} finally {
  servers.forEach((p) => p.kill());
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
