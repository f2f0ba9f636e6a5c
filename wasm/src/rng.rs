//! The browser's randomness for the core: `crypto.getRandomValues` (Web Crypto), drawn
//! 256 bytes at a time.
//!
//! Output: [`rvoip_core::rand::Rng`] for the UA (branches, tags, Call-IDs, cnonces) and the
//! server pool. Only callable on wasm32 in a page or worker (it imports a JS global).

use rvoip_core::rand::Rng;
use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]);
}

/// A [`Rng`] over `crypto.getRandomValues` with a 256-byte pool.
#[derive(Debug, Clone)]
pub struct CryptoRng {
    pool: [u8; 256],
    used: usize,
}

impl CryptoRng {
    /// A generator; the pool is filled on first use.
    pub fn new() -> CryptoRng {
        CryptoRng {
            pool: [0; 256],
            used: 256,
        }
    }
}

impl Default for CryptoRng {
    fn default() -> Self {
        CryptoRng::new()
    }
}

impl Rng for CryptoRng {
    fn next_u64(&mut self) -> u64 {
        if self.used + 8 > self.pool.len() {
            get_random_values(&mut self.pool);
            self.used = 0;
        }
        let mut b = [0u8; 8];
        // Invariant: used + 8 <= 256 after the refill above.
        b.copy_from_slice(&self.pool[self.used..self.used + 8]);
        self.used += 8;
        u64::from_le_bytes(b)
    }
}
