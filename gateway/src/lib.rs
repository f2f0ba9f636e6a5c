//! rvoip-gateway: the WebRTC ⇄ SIP trunk gateway and the native softphone.
//!
//! **Under construction.** What exists: the configuration (embedded default and TOML file,
//! [`config`]), the dial plan ([`dialplan`]), the SQLite store of users and call records
//! ([`store`]) and the Prometheus registry ([`metrics`]). The SIP/WebSocket listeners, the
//! B2BUA, the media legs (ICE-lite, DTLS-SRTP, transcoding) and the softphone do not exist
//! yet: the binaries say so and exit with a non-zero status.

pub mod config;
pub mod dialplan;
pub mod dtls;
pub mod metrics;
pub mod opus;
pub mod softphone;
pub mod store;

/// What the binaries print while the gateway is under construction.
pub const NOT_YET: &str = "rvoip-gateway is under construction: configuration, dial plan, call-record \
store and metrics exist, but there is no WebSocket/SIP listener, no media and no transcoding yet.";
