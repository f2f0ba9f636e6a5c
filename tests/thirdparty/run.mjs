// Runs the third-party SIP library tests (tests/thirdparty/*.test.mjs) one after the other,
// each in its own Node process with a time limit, and prints PASS/FAIL per test with its
// time. Exit status 1 when any failed. Meant to run inside the loopback-only network
// namespace of scripts/test-thirdparty.sh (it uses fixed ports on 127.0.0.1).
// Usage: node tests/thirdparty/run.mjs [name-filter…]   (e.g. `node run.mjs 1 3`, `node run.mjs sipjs`)
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const LIMIT_S = Number(process.env.THIRDPARTY_TEST_TIMEOUT ?? 120);
const filters = process.argv.slice(2);
const tests = readdirSync(here)
  .filter((f) => f.endsWith('.test.mjs'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.startsWith(x) || f.includes(x)))
  .sort();
if (tests.length === 0) {
  console.error(`no test matches ${filters.join(' ')}`);
  process.exit(2);
}

const results = [];
for (const t of tests) {
  const t0 = Date.now();
  console.log(`\n--- ${t}`);
  // Its own process group: on a timeout the gateway and browsers it started go with it.
  const child = spawn(process.execPath, [join(here, t)], { stdio: 'inherit', detached: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }, LIMIT_S * 1000);
  const code = await new Promise((r) => child.on('exit', (c, s) => r(c ?? s)));
  clearTimeout(timer);
  results.push({ t, ok: code === 0, secs: (Date.now() - t0) / 1000, why: timedOut ? `timed out after ${LIMIT_S} s` : `exit ${code}` });
}

console.log('\nthird-party SIP library tests (JsSIP, SIP.js):');
for (const r of results) console.log(`  ${r.ok ? 'PASS' : 'FAIL'}  ${r.t.padEnd(34)} ${r.secs.toFixed(1).padStart(6)} s${r.ok ? '' : `  (${r.why})`}`);
const failed = results.filter((r) => !r.ok).length;
console.log(failed ? `${failed} of ${results.length} failed (artifacts/thirdparty/)` : `all ${results.length} passed`);
process.exit(failed ? 1 : 0);
