//! Digest authentication: RFC 3261 §22 (SIP's use of HTTP digest), RFC 2617 §3 (qop, cnonce,
//! nc, MD5-sess), RFC 7616 (SHA-256, SHA-512-256, `-sess`, `userhash`, `username*`) and
//! RFC 8760 (the SIP registration of the RFC 7616 algorithms and their order of preference).
//!
//! # Inputs and outputs
//!
//! Everything here works on header **values** (`&str`: the text after `WWW-Authenticate:`,
//! `Proxy-Authenticate:`, `Authorization:` or `Proxy-Authorization:`) and plain inputs (the
//! method, the Request-URI as sent, the body bytes). Time is a [`crate::time::Instant`] and
//! randomness a [`crate::rand::Rng`], both passed in. Nothing here reads a clock.
//!
//! - [`Challenge`] / [`Credentials`]: parse ([`Challenge::parse`], [`Credentials::parse`],
//!   borrowing from the input) and serialize (`Display`) the two header values; `into_owned`
//!   gives a `'static` form for storage.
//! - [`DigestClient`]: the UAC side. Feed it the challenges of a 401/407
//!   ([`DigestClient::handle_challenge`]), then ask it for the credential header values of each
//!   request ([`DigestClient::authorize`]). It keeps the nonce-count per nonce, picks the
//!   strongest algorithm offered, retries on `stale=true` and reports a wrong password instead
//!   of looping.
//! - [`DigestServer`] (with its [`NonceManager`]): the UAS/proxy side. Issues challenges with
//!   self-validating, expiring nonces ([`DigestServer::challenges`]) and verifies credentials
//!   ([`DigestServer::verify`]) against a [`CredentialStore`] (clear-text passwords or
//!   precomputed HA1s, see [`Ha1Store`]), rejecting replayed nonce-counts with a bounded table.
//! - [`compute`]: the digest functions themselves (HA1, HA2, response, userhash).
//!
//! # Example: a REGISTER challenged and accepted
//!
//! (The server side needs the `sip-server` feature, on by default.)
//!
#![cfg_attr(feature = "sip-server", doc = "```")]
#![cfg_attr(not(feature = "sip-server"), doc = "```ignore")]
//! use rvoip_core::rand::SplitMix64;
//! use rvoip_core::sip::auth::{
//!     ChallengeKind, DigestClient, DigestRequest, DigestServer, Ha1Store, ServerConfig,
//!     Verification,
//! };
//! use rvoip_core::time::Instant;
//!
//! let mut rng = SplitMix64::new(7); // drivers pass an OS-backed Rng
//! let now = Instant::from_millis(1_000);
//!
//! // Registrar: SHA-256 then MD5 challenges, qop=auth, HA1s instead of passwords.
//! let mut server = DigestServer::new(ServerConfig::new("example.com"), &mut rng);
//! let mut users = Ha1Store::new();
//! users.insert_password("example.com", "alice", "wonderland");
//!
//! // 401 with one WWW-Authenticate per algorithm.
//! let challenges = server.challenge_values(now, &mut rng, false);
//!
//! // UA: answers with the strongest algorithm offered.
//! let mut ua = DigestClient::new("alice", "wonderland");
//! ua.handle_challenge(ChallengeKind::Www, challenges.iter().map(String::as_str))?;
//! let creds = ua.authorize(&mut rng, "REGISTER", "sip:example.com", b"")?;
//! assert_eq!(creds[0].header_name(), "Authorization");
//!
//! // Registrar: verifies the Authorization value.
//! let request = DigestRequest { method: "REGISTER", uri: Some("sip:example.com"), body: b"" };
//! match server.verify(now, &request, &creds[0].value, &users) {
//!     Verification::Ok(user) => assert_eq!(user.username, "alice"),
//!     other => panic!("{other:?}"), // challenge again with other.challenge_stale()
//! }
//! # Ok::<(), rvoip_core::sip::auth::ClientError>(())
//! ```
//!
//! # Security notes
//!
//! - Response digests and nonce MACs are compared in constant time.
//! - A server must answer [`Verification::UnknownUser`] and [`Verification::BadResponse`]
//!   with the same 401/407 so that user names cannot be probed; the verifier hashes against a
//!   dummy HA1 for unknown users so that timing does not tell them apart either.
//! - Without qop (RFC 2069 mode) nothing but the nonce protects against replay, so such
//!   nonces are single-use on the server.
//! - MD5 is broken as a hash; it remains here because most SIP equipment only speaks MD5.
//!   Offer SHA-256 / SHA-512-256 first (RFC 8760 §2.4).

mod client;
pub mod compute;
mod header;
#[cfg(feature = "sip-server")]
mod server;
mod wire;

pub use client::{Authorization, ClientError, DigestClient, MAX_REALMS};
pub use compute::HexDigest;
pub use header::{
    AlgorithmParam, AuthParam, Challenge, Credentials, MAX_PARAMS, ParseError, UsernameForm,
};
#[cfg(feature = "sip-server")]
pub use server::{
    Authenticated, CredentialStore, DigestRequest, DigestServer, Ha1Store, NonceManager,
    NonceStatus, ServerConfig, UserSecret, Verification,
};

use core::fmt;

/// A digest algorithm (RFC 7616 §3.2, RFC 8760 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    /// `MD5` (RFC 2617), the default when a challenge names no algorithm.
    Md5,
    /// `MD5-sess` (RFC 2617 §3.2.2.2).
    Md5Sess,
    /// `SHA-256` (RFC 7616).
    Sha256,
    /// `SHA-256-sess` (RFC 7616).
    Sha256Sess,
    /// `SHA-512-256` (RFC 7616): SHA-512/256 of FIPS 180-4 (feature `sha512-256`).
    #[cfg(feature = "sha512-256")]
    Sha512_256,
    /// `SHA-512-256-sess` (RFC 7616) (feature `sha512-256`).
    #[cfg(feature = "sha512-256")]
    Sha512_256Sess,
}

impl Algorithm {
    /// All algorithms, strongest first (RFC 8760 §2.4 order of preference).
    #[cfg(feature = "sha512-256")]
    pub const ALL: [Algorithm; 6] = [
        Algorithm::Sha512_256,
        Algorithm::Sha512_256Sess,
        Algorithm::Sha256,
        Algorithm::Sha256Sess,
        Algorithm::Md5,
        Algorithm::Md5Sess,
    ];
    /// All algorithms, strongest first (RFC 8760 §2.4 order of preference); SHA-512-256
    /// needs the feature `sha512-256`.
    #[cfg(not(feature = "sha512-256"))]
    pub const ALL: [Algorithm; 4] = [
        Algorithm::Sha256,
        Algorithm::Sha256Sess,
        Algorithm::Md5,
        Algorithm::Md5Sess,
    ];

    /// Parses an `algorithm` token, case-insensitively; `None` for unknown algorithms.
    // A loop over the table: smaller in the browser build than the array iterator `find`.
    #[allow(clippy::manual_find)]
    pub fn parse(s: &str) -> Option<Algorithm> {
        for &a in &Algorithm::ALL {
            if a.as_str().eq_ignore_ascii_case(s) {
                return Some(a);
            }
        }
        None
    }

    /// The token as registered (`"SHA-256"`, `"MD5-sess"`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
            #[cfg(feature = "sha512-256")]
            Algorithm::Sha512_256 => "SHA-512-256",
            #[cfg(feature = "sha512-256")]
            Algorithm::Sha512_256Sess => "SHA-512-256-sess",
        }
    }

    /// Whether this is a `-sess` variant (HA1 bound to nonce and cnonce).
    pub const fn is_session(self) -> bool {
        match self {
            Algorithm::Md5Sess | Algorithm::Sha256Sess => true,
            #[cfg(feature = "sha512-256")]
            Algorithm::Sha512_256Sess => true,
            _ => false,
        }
    }

    /// The hash without the `-sess` variant (its HA1 is the stored one).
    pub const fn base(self) -> Algorithm {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => Algorithm::Md5,
            Algorithm::Sha256 | Algorithm::Sha256Sess => Algorithm::Sha256,
            #[cfg(feature = "sha512-256")]
            Algorithm::Sha512_256 | Algorithm::Sha512_256Sess => Algorithm::Sha512_256,
        }
    }

    /// Preference rank: higher is stronger (SHA-512-256 > SHA-256 > MD5; plain before
    /// `-sess` of the same hash, as `-sess` gains nothing for SIP and is less widely supported).
    pub const fn strength(self) -> u8 {
        match self {
            Algorithm::Md5Sess => 0,
            Algorithm::Md5 => 1,
            Algorithm::Sha256Sess => 2,
            Algorithm::Sha256 => 3,
            #[cfg(feature = "sha512-256")]
            Algorithm::Sha512_256Sess => 4,
            #[cfg(feature = "sha512-256")]
            Algorithm::Sha512_256 => 5,
        }
    }

    /// Length of the lowercase hex digest (32 for MD5, 64 for the SHA-2 variants).
    pub const fn hex_len(self) -> usize {
        match self.base() {
            Algorithm::Md5 => 32,
            _ => 64,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Quality of protection (RFC 2617 §3.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Qop {
    /// `auth`: authentication of method and Request-URI.
    Auth,
    /// `auth-int`: `auth` plus integrity of the message body (HA2 includes H(body)).
    AuthInt,
}

impl Qop {
    /// Parses a qop token, case-insensitively.
    pub fn parse(s: &str) -> Option<Qop> {
        if s.eq_ignore_ascii_case("auth") {
            Some(Qop::Auth)
        } else if s.eq_ignore_ascii_case("auth-int") {
            Some(Qop::AuthInt)
        } else {
            None
        }
    }

    /// The token (`"auth"` or `"auth-int"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Qop::Auth => "auth",
            Qop::AuthInt => "auth-int",
        }
    }
}

impl fmt::Display for Qop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which pair of headers an authentication exchange uses (RFC 3261 §22.2, §22.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChallengeKind {
    /// A 401 with `WWW-Authenticate`, answered with `Authorization` (user agent server).
    Www,
    /// A 407 with `Proxy-Authenticate`, answered with `Proxy-Authorization` (proxy).
    Proxy,
}

impl ChallengeKind {
    /// The kind for a response status: 401 → [`Www`](Self::Www), 407 →
    /// [`Proxy`](Self::Proxy), anything else → `None`.
    pub const fn from_status(status: u16) -> Option<ChallengeKind> {
        match status {
            401 => Some(ChallengeKind::Www),
            407 => Some(ChallengeKind::Proxy),
            _ => None,
        }
    }

    /// The status code that carries this kind of challenge (401 or 407).
    pub const fn status(self) -> u16 {
        match self {
            ChallengeKind::Www => 401,
            ChallengeKind::Proxy => 407,
        }
    }

    /// The challenge header name (`WWW-Authenticate` / `Proxy-Authenticate`).
    pub const fn challenge_header(self) -> &'static str {
        match self {
            ChallengeKind::Www => "WWW-Authenticate",
            ChallengeKind::Proxy => "Proxy-Authenticate",
        }
    }

    /// The credentials header name (`Authorization` / `Proxy-Authorization`).
    pub const fn credentials_header(self) -> &'static str {
        match self {
            ChallengeKind::Www => "Authorization",
            ChallengeKind::Proxy => "Proxy-Authorization",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_tokens_round_trip_case_insensitively() {
        for a in Algorithm::ALL {
            assert_eq!(Algorithm::parse(a.as_str()), Some(a));
            assert_eq!(
                Algorithm::parse(&alloc::string::String::from(a.as_str()).to_lowercase()),
                Some(a)
            );
        }
        assert_eq!(Algorithm::parse("AKAv1-MD5"), None);
        assert_eq!(Algorithm::parse(""), None);
    }

    #[test]
    #[cfg(feature = "sha512-256")]
    fn strength_orders_sha512_256_over_sha256_over_md5() {
        assert!(Algorithm::Sha512_256.strength() > Algorithm::Sha256.strength());
        assert!(Algorithm::Sha256.strength() > Algorithm::Md5.strength());
        assert!(Algorithm::Md5.strength() > Algorithm::Md5Sess.strength());
    }

    #[test]
    fn kinds_map_status_and_headers() {
        assert_eq!(ChallengeKind::from_status(401), Some(ChallengeKind::Www));
        assert_eq!(ChallengeKind::from_status(407), Some(ChallengeKind::Proxy));
        assert_eq!(ChallengeKind::from_status(403), None);
        assert_eq!(
            ChallengeKind::Proxy.credentials_header(),
            "Proxy-Authorization"
        );
        assert_eq!(ChallengeKind::Www.challenge_header(), "WWW-Authenticate");
    }
}
