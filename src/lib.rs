//! rvoip: a VoIP stack in Rust.
//!
//! This crate is the unified entry point: it re-exports the sans-IO protocol core
//! ([`rvoip_core`]) and hosts the workspace-level end-to-end tests (`tests/`) and
//! benchmarks (`benches/`). The browser package lives in `wasm/` (`rvoip-wasm`), the
//! gateway and native softphone in `gateway/` (`rvoip-gateway`).
#![no_std]

pub use rvoip_core::*;
