//! # rvoip-core
//!
//! The sans-IO protocol core of rvoip: `#![no_std]` + `alloc`, compiled for
//! `wasm32-unknown-unknown` (the browser package) and natively (the gateway).
//!
//! ## The shape of every machine
//!
//! Every stateful part of the core is a state machine driven the same way:
//!
//! - **feed** it with `handle_*(now, input)`: a received datagram or message, a timeout, a
//!   command;
//! - **drain** it with `poll_transmit()`, `poll_event()` and `poll_timeout()`, each until it
//!   returns `None`.
//!
//! The draining rule: after *every* `handle_*` call the driver drains transmits and events
//! until `None`, then asks `poll_timeout()` for the next deadline and calls
//! `handle_timeout(now)` when it passes. Nothing in the core reads a clock, opens a socket,
//! spawns a thread or draws OS randomness: time is an input ([`time::Instant`]) and
//! randomness comes from a [`rand::Rng`] the driver passes in.
//!
//! ## Layers
//!
//! | module | what | RFCs |
//! |---|---|---|
//! | [`sip`] | messages, URIs, typed headers, digest auth, transactions, dialogs, UA | 3261, 4475, 7616, 8760 |
//! | [`sdp`] | SDP parse/serialize, offer/answer, WebRTC attributes | 8866, 3264, 8839 |
//! | [`rtp`] | RTP/RTCP views, statistics, RFC 4733 events, jitter buffer | 3550, 3551, 4585, 4733 |
//! | [`srtp`] | SRTP/SRTCP protection | 3711, 7714, 5764 |
//! | [`stun`] | STUN messages | 8489, 5769 |
//! | [`ice`] | ICE-lite and controlling host-only ICE agents, RFC 7983 demux | 8445, 7675, 7983 |
//! | [`codec`] | G.711, G.722, resampling, PLC | ITU G.711, G.722 |
#![no_std]
#![warn(missing_docs)]
#![warn(clippy::std_instead_of_core, clippy::alloc_instead_of_core)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod codec;
pub mod ice;
pub mod rand;
pub mod rtp;
pub mod sdp;
pub mod sip;
pub mod srtp;
pub mod stun;
pub mod time;
