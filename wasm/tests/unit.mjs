// Unit tests of the wrapper's pure functions (Node, on tsc's output before bundling; run
// by scripts/build-wasm.sh): the E-model MOS against G.107/G.113 reference values computed
// here independently, and the telephone-event detection of an SDP.
import assert from 'node:assert/strict';
import { hasTelephoneEvent, mos } from '../dist/media.js';

// G.107 Annex B, MOS of R: 1 + 0.035 R + 7e-6 R (R - 60) (100 - R).
const mosOfR = (r) => 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
const near = (a, b, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

// G.711 (Bpl 25.1, 20 ms frames): only the frame delay, Id = 0.024 * 20 = 0.48.
near(mos(0, 0, 0, 'pcmu'), mosOfR(93.2 - 0.48));
// G.107 reference points: R = 93.2 -> MOS 4.41.
near(mosOfR(93.2), 4.409, 0.005);
// 2 % random loss with PLC: Ie,eff = 95 * 2 / 27.1.
near(mos(0, 0, 2, 'PCMA'), mosOfR(93.2 - 0.48 - (95 * 2) / 27.1));
// Past 177.3 ms one way the delay term steepens: d = 400/2 + 20 = 220 ms.
near(mos(400, 0, 0, 'g722'), mosOfR(93.2 - 0.024 * 220 - 0.11 * (220 - 177.3)));
// Jitter counts twice (buffer), Opus adds 6.5 ms look-ahead and has Bpl 30.
near(mos(20, 5, 1, 'OPUS'), mosOfR(93.2 - 0.024 * (10 + 10 + 26.5) - 95 / 31));
assert.ok(mos(20, 2, 0, 'opus') > 4.3);
assert.ok(mos(300, 40, 10, 'pcmu') < 3);
assert.ok(mos(50, 5, 1, 'opus') > mos(50, 5, 1, 'pcmu'));
// Bad inputs count as 0; loss is capped at 100 %; the score stays within 1..4.5.
assert.equal(mos(-5, NaN, -1, 'pcmu'), mos(0, 0, 0, 'pcmu'));
assert.equal(mos(Infinity, 0, 0, 'pcmu'), mos(0, 0, 0, 'pcmu'));
assert.equal(mos(0, 0, 100, 'pcmu'), mos(0, 0, 1000, 'pcmu'));
near(mos(0, 0, 100, 'pcmu'), mosOfR(93.2 - 0.48 - 9500 / 125.1));
assert.equal(mos(5000, 0, 0, 'opus'), 1);

const sdp = 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 101\r\na=rtpmap:111 opus/48000/2\r\n' +
  'a=rtpmap:101 telephone-event/8000\r\n';
assert.ok(hasTelephoneEvent(sdp));
assert.ok(hasTelephoneEvent('a=rtpmap:126 TELEPHONE-EVENT/48000\n'));
assert.ok(!hasTelephoneEvent('v=0\r\na=rtpmap:0 PCMU/8000\r\na=fmtp:101 0-15\r\n'));
assert.ok(!hasTelephoneEvent('a=rtpmap:101 telephone-even'));
assert.ok(!hasTelephoneEvent('a=rtpmap:\r\n101 telephone-event/8000'), 'one line');
assert.ok(!hasTelephoneEvent('x a=rtpmap:101 telephone-event/8000'), 'at a line start');
console.log('wrapper unit tests passed');
