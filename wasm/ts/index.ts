// rvoip: a browser SIP user agent (SIP over WebSocket, RFC 7118) with WebRTC audio calls.
// The SIP stack runs in WebAssembly (rvoip-core, Rust); this layer owns the WebSocket,
// timers and RTCPeerConnection.

export { UserAgent, initWasm, type UserAgentOptions, type ServerOption, type WasmSource } from './user-agent.js';
export { Call, type CallOptions } from './call.js';
export { type CallStats, iceGathered, mos } from './media.js';
export * from './events.js';
