//! Helpers of the gateway's media-plane tests (the engine without signalling).
#![allow(dead_code)]

use rvoip_gateway::config::MediaConfig;
use rvoip_gateway::dtls::DtlsIdentity;
use rvoip_gateway::media::MediaEngine;

/// A media engine on 127.0.0.1 (no public address) with the ports `port_min` to
/// `port_max` and `threads` media threads, under a fresh DTLS identity.
pub fn engine(port_min: u16, port_max: u16, threads: usize) -> MediaEngine {
    let cfg = MediaConfig {
        address: "127.0.0.1".parse().unwrap(),
        public_address: None,
        port_min,
        port_max,
        threads,
        ..MediaConfig::default()
    };
    MediaEngine::new(&cfg, DtlsIdentity::generate().unwrap())
}

/// Waits (up to `secs`) until `f` holds; whether it did.
pub async fn wait_for(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    for _ in 0..secs * 20 {
        if f() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    f()
}
