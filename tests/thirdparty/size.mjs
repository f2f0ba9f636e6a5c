// The npm package's size next to JsSIP's and SIP.js's, measured in the same run the same way
// (issue 6 names them as the anchors): each library bundled for the browser by esbuild
// (ESM, minified, production), gzip -9, against rvoip's wasm + JS as scripts/build-wasm.sh
// measured it (wasm/dist/.gzip-size). Prints a table and the ratios; fails only when a
// bundle cannot be built or the package has not been built. Usage: node size.mjs
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '../..');
const version = (p) => JSON.parse(readFileSync(join(HERE, 'node_modules', p, 'package.json'), 'utf8')).version;

// What an application imports to register and place/answer calls with each library.
const PEERS = [
  [`JsSIP ${version('jssip')} (the library)`, `import JsSIP from 'jssip'; globalThis.p = JsSIP;`],
  [
    `SIP.js ${version('sip.js')} (UserAgent, Registerer, Inviter)`,
    `import { UserAgent, Registerer, Inviter } from 'sip.js'; globalThis.p = [UserAgent, Registerer, Inviter];`,
  ],
  [`SIP.js ${version('sip.js')} (Web.SimpleUser)`, `import { Web } from 'sip.js'; globalThis.p = Web.SimpleUser;`],
];

async function gzipped(contents) {
  const out = await build({
    stdin: { contents, resolveDir: HERE },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'error',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const bytes = out.outputFiles[0].contents;
  return [bytes.length, gzipSync(bytes, { level: 9 }).length];
}

const ours = Number(readFileSync(join(ROOT, 'wasm/dist/.gzip-size'), 'utf8').trim());
if (!(ours > 0)) throw new Error('wasm/dist/.gzip-size: build the package first (scripts/build-wasm.sh)');
const kb = (n) => (n / 1000).toFixed(1).padStart(6) + ' KB';
console.log(`${'package'.padEnd(52)} ${'minified'.padStart(9)} ${'gzip -9'.padStart(9)}  rvoip ÷ it`);
console.log(`${'rvoip (wasm + JS, scripts/build-wasm.sh)'.padEnd(52)} ${''.padStart(9)} ${kb(ours)}`);
for (const [name, src] of PEERS) {
  const [min, gz] = await gzipped(src);
  console.log(`${name.padEnd(52)} ${kb(min)} ${kb(gz)}  ${(ours / gz).toFixed(2)}×`);
}
