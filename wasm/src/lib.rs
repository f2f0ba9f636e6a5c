//! rvoip-wasm: the browser SIP user agent (RFC 7118) as wasm-bindgen bindings of
//! `rvoip-core`.
//!
//! **Not built yet.** This crate is a placeholder so the workspace has its final shape: it
//! has no wasm-bindgen bindings, no TypeScript wrapper and no npm package yet. It only
//! re-exports the core so that the `wasm32-unknown-unknown` build of the core is exercised
//! through a consumer crate.
#![no_std]

pub use rvoip_core;
