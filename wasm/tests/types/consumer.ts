// Compile-time test of the published types (tsc --noEmit against dist/*.d.ts): the typed
// events and promises a consumer relies on. Run by scripts/test-wasm.sh.
import { UserAgent, SipError, mos, type Call, type CallStats, type RegistrationState } from 'rvoip';

const ua = new UserAgent({ servers: ['wss://a/ws', { url: 'wss://b/ws', weight: 2 }], uri: 'sip:a@b', iceGatheringTimeout: 1500 });
ua.addEventListener('registrationstatechange', (e) => {
  const s: RegistrationState = e.state;
  const code: number = e.code;
  void s, code;
});
ua.addEventListener('incomingcall', (e) => {
  const c: Call = e.call;
  void c.answer({ audio: true });
});
ua.addEventListener('message', (e) => void e.body.toUpperCase());
async function f(): Promise<void> {
  await ua.register();
  const call = await ua.call('bob');
  call.addEventListener('statechange', (e) => void (e.state === 'ended' && e.reason));
  call.addEventListener('dtmf', (e) => void e.digit.length);
  await call.hold();
  await call.sendDtmf('1#', { duration: 100 });
  const s: CallStats = await call.stats();
  const m: number = s.mos + mos(1, 2, 3, 'opus');
  void m;
  try {
    await ua.message('x', 'y');
  } catch (e) {
    if (e instanceof SipError) void e.code;
  }
}
void f;
// @ts-expect-error: unknown event names get plain Event listeners, not typed ones
ua.addEventListener('incomingcall', (e: { nope: number }) => e.nope);
