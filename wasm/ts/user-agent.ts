// The UserAgent: the public entry point. It drives the wasm core (rvoip-core's SIP UA)
// the sans-IO way: it feeds WebSocket events and timeouts in, and carries out what comes
// out (open/send/close a socket, events, the next timeout). No SIP logic lives here.

import { cmd, initSync } from './pkg/rvoip_wasm.js';
import { Call, type CallHost, type CallOptions } from './call.js';
import {
  IncomingCallEvent,
  RegistrationStateEvent,
  SipError,
  SipMessageEvent,
  TransportStateEvent,
  check,
  type RegistrationState,
  type TransportState,
  type UserAgentEventMap,
} from './events.js';

/** A WebSocket server: a URL (`wss://…`) or a URL with a weight. */
export type ServerOption = string | { url: string; weight?: number };

/** Options of a UserAgent. */
export interface UserAgentOptions {
  /** SIP-over-WebSocket servers (RFC 7118); weights pick among them (default 1). */
  servers: ServerOption[];
  /** Our SIP URI (address of record), e.g. `sip:alice@example.com`. */
  uri: string;
  /** Digest password (MD5 and SHA-256 digests are supported). */
  password?: string;
  /** Digest user name if it differs from the user part of `uri`. */
  authorizationUser?: string;
  displayName?: string;
  /** ICE servers for RTCPeerConnection. */
  iceServers?: RTCIceServer[];
  /** Longest wait for ICE gathering before an offer/answer is sent, ms (default 2000). */
  iceGatheringTimeout?: number;
  /** Requested registration lifetime, s (default 600). */
  registerExpires?: number;
  /** RFC 5626 CRLF keep-alive interval, s (default 30; 0 disables). */
  keepAliveInterval?: number;
  /** RFC 5626 instance id (`urn:uuid:…`); keep it stable per device to keep calls across reconnections. */
  instanceId?: string;
  /** User-Agent header. */
  userAgentString?: string;
  /** Where to load the wasm from (default: next to this module). */
  wasm?: WasmSource | Promise<WasmSource>;
  /** WebSocket constructor (for tests and non-browser runtimes). */
  WebSocket?: typeof WebSocket;
}

/** A source of the wasm module: URL, fetch response, bytes or compiled module. */
export type WasmSource = string | URL | Request | Response | BufferSource | WebAssembly.Module;

let loaded: Promise<unknown> | undefined;
/** The wasm core's memory (set once it is loaded). */
let memory: WebAssembly.Memory;

const utf8 = new TextEncoder();

/**
 * Runs operation `op` of the core on phone `h` now with `data` (written where the core makes
 * room for it, op 21); its result as text, read where the core left it (`cmd`'s
 * result: the address in the low 32 bits, the length in the high 32 bits). The memory's buffer is taken after each call, which may have grown it.
 * (A fresh TextDecoder each time: Safari's stops working after 2 GiB; and a result never
 * starts with a BOM, which the default decoder would drop.)
 */
const core = (h: number, op: number, call: number, n: number, data: string | Uint8Array): string => {
  const b = typeof data === 'string' ? utf8.encode(data) : data;
  const at = Number(cmd(0, 21, 0, 0, b.length)); // (before `memory.buffer`: it may grow the memory)
  new Uint8Array(memory.buffer, at, b.length).set(b);
  const r = cmd(h, op, performance.now(), call, n); // where (low 32 bits) and length (high)
  return new TextDecoder().decode(new Uint8Array(memory.buffer, Number(r & 0xffffffffn), Number(r >> 32n)));
};

const isWasm = (r: Response): boolean => r.ok && /wasm/.test(r.headers.get('content-type') ?? '');

/** Fetches the wasm shipped next to this module. */
async function packagedWasm(): Promise<Response> {
  const r = await fetch(new URL('./pkg/rvoip_wasm_bg.wasm', import.meta.url));
  if (!isWasm(r) && import.meta.url.includes('/.vite/deps/')) {
    // Vite's dev-server dependency optimizer moved this module into node_modules/.vite/deps
    // without the wasm (vitejs/vite#8427); the package itself is still served in place.
    // (Built from parts so that `vite build` does not treat it as a second asset.)
    const inPlace = ['..', '..', 'rvoip', 'dist', 'pkg', 'rvoip_wasm_bg.wasm'].join('/');
    return fetch(new URL(inPlace, import.meta.url));
  }
  return r;
}

/** Loads the wasm core once (called by `start()`; call it early to preload). */
export function initWasm(input?: WasmSource | Promise<WasmSource>): Promise<unknown> {
  loaded ??= (async () => {
    let m = await (input ?? packagedWasm());
    if (typeof m === 'string' || m instanceof URL || m instanceof Request) m = await fetch(m);
    if (m instanceof Response) {
      if (!m.ok) throw new Error(`failed to fetch the wasm: ${m.status} ${m.url}`);
      m = await m.arrayBuffer();
    }
    // Compiled off the main thread, then instantiated by the glue.
    const exports = initSync({ module: m instanceof WebAssembly.Module ? m : await WebAssembly.compile(m) });
    memory = exports.memory;
    return exports;
  })();
  return loaded;
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

export interface UserAgent {
  addEventListener<K extends keyof UserAgentEventMap>(
    type: K,
    listener: (this: UserAgent, ev: UserAgentEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof UserAgentEventMap>(
    type: K,
    listener: (this: UserAgent, ev: UserAgentEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}

/** A browser SIP user agent over WebSocket with WebRTC audio calls. */
export class UserAgent extends EventTarget {
  transportState: TransportState = 'disconnected';
  registrationState: RegistrationState = 'unregistered';
  /** Calls in progress by core handle. */
  readonly calls = new Map<number, Call>();
  /** The core's phone handle (-1: not started). */
  private h = -1;
  private ws?: WebSocket;
  private timer?: ReturnType<typeof setTimeout>;
  private starting?: Waiter & { promise: Promise<void> };
  private registering: Waiter[] = [];
  private unregistering: Waiter[] = [];
  private messages = new Map<number, Waiter>();
  private readonly host: CallHost;

  constructor(readonly options: UserAgentOptions) {
    super();
    const ua = this;
    this.host = {
      cmd: (op, call, n, data) => check(+ua.cmd(op, call, n, data)),
      pump: () => ua.pump(),
      iceServers: options.iceServers ?? [],
      iceGatheringTimeout: options.iceGatheringTimeout ?? 2000,
      adopt: (id, call) => ua.calls.set(id, call),
      forget: (call) => {
        if (ua.calls.get(call.id) === call) ua.calls.delete(call.id);
      },
      transferTo: async (from, target, opts) => {
        const call = new Call(ua.host, 'outgoing', target);
        await call.dial(target, opts, from);
        call.addEventListener('statechange', (e) => {
          if (e.state === 'established') from.hangup();
        });
        return call;
      },
    };
  }

  /** Runs operation `op` of the core (see `cmd` in wasm/src/lib.rs) now. */
  private cmd(op: number, call = 0, n = 0, data: string | Uint8Array = ''): string {
    if (this.h < 0) throw new SipError('user agent not started', 'not-started');
    return core(this.h, op, call, n, data);
  }

  /** Connects to a server. Resolves once connected; rejects if every server failed (it keeps retrying). */
  async start(): Promise<void> {
    if (this.starting) return this.starting.promise;
    let waiter!: Waiter;
    const promise = new Promise<void>((resolve, reject) => (waiter = { resolve, reject }));
    this.starting = { ...waiter, promise };
    await initWasm(this.options.wasm);
    const o = this.options;
    // The configuration: fields separated by U+001F, then URL and weight per server.
    const cfg: unknown[] = [
      o.uri,
      o.password,
      o.authorizationUser,
      o.displayName,
      o.registerExpires,
      o.keepAliveInterval ?? 30,
      o.instanceId,
      o.userAgentString,
    ];
    for (const s of o.servers) {
      const { url, weight = 1 } = typeof s === 'string' ? { url: s } : s;
      cfg.push(url.trim(), weight >>> 0);
    }
    this.h = +core(0, 0, 0, 0, cfg.join('\x1f'));
    if (this.cmd(1) !== '1') {
      this.starting = undefined;
      throw new SipError('no server configured', 'no-server');
    }
    this.pump();
    return promise;
  }

  /** Unregisters (if registered), hangs up every call and closes the connection. */
  async stop(): Promise<void> {
    if (this.h < 0) return;
    for (const call of [...this.calls.values()]) {
      try {
        call.hangup();
      } catch {
        /* already gone */
      }
    }
    if (this.registrationState === 'registered' && this.transportState === 'connected') {
      await Promise.race([this.unregister().catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
    }
    this.cmd(2);
    this.pump();
    clearTimeout(this.timer);
    this.cmd(3);
    this.h = -1;
    this.starting?.reject(new SipError('stopped', 'stopped'));
    this.starting = undefined;
    this.setRegistration('unregistered', 0, 0);
  }

  /** Registers (REGISTER with digest); kept up and renewed after reconnections. */
  async register(): Promise<void> {
    await this.start();
    return new Promise((resolve, reject) => {
      this.registering.push({ resolve, reject });
      this.setRegistration('registering', 0, 0);
      this.run(9);
    });
  }

  /** Removes the registration. */
  async unregister(): Promise<void> {
    await this.start();
    return new Promise((resolve, reject) => {
      this.unregistering.push({ resolve, reject });
      this.run(10);
    });
  }

  /** Calls `target` (a SIP URI, `user@host`, or a number/user in our domain). */
  async call(target: string, options: CallOptions = {}): Promise<Call> {
    await this.start();
    // Trimmed here (Unicode whitespace); the wasm trims ASCII whitespace only.
    target = target.trim();
    const call = new Call(this.host, 'outgoing', this.cmd(20, 0, 0, target));
    await call.dial(target, options);
    return call;
  }

  /** Sends a MESSAGE (text/plain); resolves on a 2xx. */
  async message(target: string, text: string): Promise<void> {
    await this.start();
    return new Promise((resolve, reject) => {
      try {
        this.messages.set(this.host.cmd(19, 0, 0, target.trim() + '\x1f' + text), { resolve, reject });
      } catch (e) {
        reject(e);
      } finally {
        this.pump();
      }
    });
  }

  /** REGISTER or un-REGISTER; a refusal rejects every registration waiter. */
  private run(op: number): void {
    try {
      this.host.cmd(op);
    } catch (e) {
      this.settle(this.registering, e as Error);
      this.settle(this.unregistering, e as Error);
    } finally {
      this.pump();
    }
  }

  private setTransport(state: TransportState, url: string, retryIn: number): void {
    this.transportState = state;
    this.dispatchEvent(new TransportStateEvent(state, url, retryIn));
  }

  private setRegistration(state: RegistrationState, code: number, expires: number): void {
    if (state === this.registrationState && state !== 'registered') return;
    this.registrationState = state;
    this.dispatchEvent(new RegistrationStateEvent(state, code, expires));
  }

  private openSocket(url: string): void {
    this.closeSocket();
    const Ws = this.options.WebSocket ?? WebSocket;
    const ws = new Ws(url, 'sip');
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    // Operations 4, 5, 6: the socket opened, closed, brought a message.
    const feed = (op: number, data?: string | Uint8Array): void => {
      if (this.ws !== ws || this.h < 0) return;
      if (op === 5) this.ws = undefined;
      this.cmd(op, 0, 0, data);
      this.pump();
    };
    ws.onopen = () => feed(4);
    ws.onclose = () => feed(5);
    ws.onmessage = (m: MessageEvent) => feed(6, typeof m.data === 'string' ? m.data : new Uint8Array(m.data));
  }

  private closeSocket(): void {
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.onopen = ws.onclose = ws.onmessage = null;
      ws.close();
    }
  }

  /** Carries out the core's actions, dispatches its events and arms the timer. */
  private pump(): void {
    const h = this.h;
    if (h < 0) return;
    const events: string[] = [];
    let a: string;
    // Polls (operation 8) until the core returns `=` and when to run the timers.
    while ((a = this.cmd(8))[0] !== '=') {
      // An action: its kind (0 open, 1 send, 2 close) then the URL or the message.
      const data = a.slice(1);
      if (a[0] === '0') this.openSocket(data);
      else if (a[0] === '1') {
        if (this.ws?.readyState === 1) this.ws.send(data);
      } else if (a[0] === '2') this.closeSocket();
      else events.push(a); // An event (dispatched below).
    }
    clearTimeout(this.timer);
    const at = +a.slice(1);
    if (at >= 0) {
      this.timer = setTimeout(() => {
        if (this.h !== h) return;
        this.cmd(7);
        this.pump();
      }, Math.max(0, at - performance.now()));
    }
    for (const e of events) this.dispatch(e);
  }

  private settle(list: Waiter[], err?: Error): void {
    for (const w of list.splice(0)) err ? w.reject(err) : w.resolve();
  }

  /** An event of the core (one-letter kinds: wasm/src/lib.rs `PhoneEventJs`). */
  private dispatch(e: string): void {
    // Kind, call, code, text, extra separated by U+001F, then the body if any (the body may
    // itself contain U+001F).
    const [kind, call, status, text, extra, ...rest] = e.split('\x1f');
    const id = +call;
    const code = +status;
    const body = rest.length ? rest.join('\x1f') : undefined;
    switch (kind) {
      case 'c': // connecting
        return this.setTransport('connecting', text, -1);
      case 'C': // connected
        this.starting?.resolve();
        return this.setTransport('connected', text, -1);
      case 'd': // disconnected
        if (code > 0 && this.transportState !== 'connected') {
          // A whole round of servers failed before the first connection.
          this.starting?.reject(new SipError('no server reachable', 'unreachable'));
        }
        return this.setTransport('disconnected', '', code);
      case 'r': // registered
        this.settle(this.registering);
        return this.setRegistration('registered', 0, code);
      case 'u': // unregistered
        this.settle(this.unregistering);
        return this.setRegistration('unregistered', 0, 0);
      case 'f': { // registrationFailed
        const err = new SipError('registration failed', code);
        this.settle(this.registering, err);
        this.settle(this.unregistering, err);
        return this.setRegistration('failed', code, 0);
      }
      case 'i': { // incoming
        const call = new Call(this.host, 'incoming', text, body);
        call.id = id;
        this.calls.set(id, call);
        this.dispatchEvent(new IncomingCallEvent(call));
        return;
      }
      case 'M': // message
        this.dispatchEvent(new SipMessageEvent(text, body ?? '', extra));
        return;
      case 's': { // messageStatus
        const w = this.messages.get(id);
        this.messages.delete(id);
        if (code < 300) w?.resolve();
        else w?.reject(new SipError('message failed', code));
        return;
      }
    }
    void this.calls.get(id)?.handle(kind, code, text, body);
  }
}
