//! rvoip-gateway: the WebRTC ⇄ SIP trunk gateway and the native softphone.
//!
//! **Not built yet.** The binaries `gateway` and `softphone` exist so the workspace has its
//! final shape; they do not yet listen on any socket, relay any call or play any audio.
//! They print what they will do and exit with a non-zero status.

/// What the placeholder binaries print: the features that do not exist yet.
pub const NOT_YET: &str = "rvoip-gateway is not built yet: no WebSocket/SIP listener, no media, \
no transcoding. The protocol core (rvoip-core) is what this version provides.";
