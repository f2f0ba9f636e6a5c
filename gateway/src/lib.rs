//! rvoip-gateway: the WebRTC ⇄ SIP trunk gateway and the native softphone.
//!
//! - [`server::Gateway`] wires everything: configuration ([`config`], embedded default or
//!   TOML), the SQLite store ([`store`]), the HTTP side ([`http`]: SIP over WebSocket at
//!   `/ws`, `/metrics`, `/api/*`, the embedded web demo and console), the SIP side ([`sip`]:
//!   UDP/TCP/TLS/WebSocket transports, rate limiter, registrar, B2BUA, trunk manager), the dial
//!   plan ([`dialplan`]), the media plane ([`media`]: ICE-lite, DTLS-SRTP ([`dtls`]),
//!   latching RTP, Opus ([`opus`]) ⇄ G.711 transcoding, echo/tone) and Prometheus metrics
//!   ([`metrics`]), TLS for HTTPS/WSS, the SIP-TLS listener and TLS trunks ([`tls`]).
//! - The `gateway` binary runs it (`gateway`, `gateway --config FILE`, `--data-dir DIR`).
//! - The `loadgen` binary drives a `gateway` process with concurrent WebRTC calls to a sink
//!   trunk and reports setup time, added latency, loss, CPU and memory per call ([`loadgen`]).
//! - The `softphone` binary is a native SIP softphone on the same core ([`softphone`]:
//!   register/call/answer over UDP/TCP, RTP/SRTP, G.711/G.722/Opus, cpal/WAV/null audio).

pub mod config;
pub mod console;
pub mod dialplan;
pub mod dtls;
pub mod http;
pub mod loadgen;
pub mod media;
pub mod metrics;
pub mod opus;
pub mod server;
pub mod sip;
pub mod softphone;
pub mod store;
pub mod tls;
