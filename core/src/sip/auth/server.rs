//! The server (UAS / proxy) side of digest authentication (RFC 3261 §22.1–§22.4,
//! RFC 7616 §3.3–§3.5 and §5).
//!
//! Inputs: the time ([`Instant`]), an [`Rng`] for nonces and the server secret, the request
//! (method, Request-URI, body) and its credentials header value, and a [`CredentialStore`].
//! Outputs: challenge header values and a [`Verification`].
//!
//! Nonces are self-validating: `hex(issued_µs ‖ random ‖ HMAC-SHA-256(secret, realm ‖
//! issued ‖ random)[..16])`, so the server keeps no per-challenge state; they expire after a
//! configurable lifetime ([`Verification::Stale`], answered with `stale=true`). Nonce-counts
//! seen per nonce are kept in a table of fixed capacity (oldest evicted) with a 64-wide
//! window, so a repeated `nc` is [`Verification::Replayed`]; a nonce whose entry may have been
//! evicted is answered as stale rather than accepted, so eviction never opens a replay.

use super::compute::{self, HexDigest, QopInputs};
use super::header::{Credentials, ParseError};
use super::{Algorithm, Challenge, Qop};
use crate::rand::Rng;
use crate::time::{Duration, Instant};
use alloc::borrow::Cow;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use hmac::{Hmac, KeyInit, Mac};

type HmacSha256 = Hmac<sha2::Sha256>;

const TS_LEN: usize = 8;
const RAND_LEN: usize = 8;
const MAC_LEN: usize = 16;
const NONCE_BYTES: usize = TS_LEN + RAND_LEN + MAC_LEN;
/// Length of a nonce issued here, in hex characters.
const NONCE_HEX_LEN: usize = 2 * NONCE_BYTES;
/// Width of the per-nonce window of accepted nonce-counts.
const NC_WINDOW: u32 = 64;

/// What [`NonceManager::check`] found about a nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceStatus {
    /// Issued by us for this realm and not expired.
    Valid {
        /// When it was issued.
        issued: Instant,
        /// Its identity in the replay table (the MAC, unforgeable without the secret).
        key: [u8; MAC_LEN],
    },
    /// Issued by us but older than the lifetime.
    Expired,
    /// Not one of ours (wrong MAC, wrong realm, another server instance, garbage).
    Invalid,
}

/// What the replay table says about a nonce-count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NcStatus {
    Fresh,
    Replayed,
    /// No entry and the nonce is old enough that its entry may have been evicted.
    Forgotten,
}

#[derive(Debug, Clone, Copy)]
struct NcEntry {
    issued: Instant,
    highest: u32,
    /// Bit i set: `highest - i` has been seen.
    window: u64,
}

/// Issues and checks self-validating nonces and tracks nonce-counts (RFC 7616 §5.4–§5.5).
pub struct NonceManager {
    secret: [u8; 32],
    lifetime: Duration,
    capacity: usize,
    entries: BTreeMap<[u8; MAC_LEN], NcEntry>,
    order: VecDeque<[u8; MAC_LEN]>,
    /// Latest issue time among evicted entries: nonces issued at or before it without an
    /// entry may be replays of forgotten ones.
    evicted_watermark: Option<Instant>,
}

impl core::fmt::Debug for NonceManager {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NonceManager")
            .field("lifetime", &self.lifetime)
            .field("capacity", &self.capacity)
            .field("tracked", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl NonceManager {
    /// A manager with a fresh 256-bit secret from `rng`, nonces valid for `lifetime`, and a
    /// replay table of `capacity` nonces (at least 1).
    pub fn new<R: Rng + ?Sized>(rng: &mut R, lifetime: Duration, capacity: usize) -> NonceManager {
        let mut secret = [0u8; 32];
        rng.fill_bytes(&mut secret);
        NonceManager {
            secret,
            lifetime,
            capacity: capacity.max(1),
            entries: BTreeMap::new(),
            order: VecDeque::new(),
            evicted_watermark: None,
        }
    }

    /// Nonces currently tracked in the replay table (never more than the capacity).
    pub fn tracked(&self) -> usize {
        self.entries.len()
    }

    fn mac(&self, realm: &str, ts: &[u8], rand: &[u8]) -> [u8; MAC_LEN] {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut m = <HmacSha256 as KeyInit>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        m.update(b"rvoip digest nonce\0");
        m.update(&(realm.len() as u64).to_be_bytes());
        m.update(realm.as_bytes());
        m.update(ts);
        m.update(rand);
        let tag = m.finalize().into_bytes();
        let mut out = [0u8; MAC_LEN];
        out.copy_from_slice(&tag[..MAC_LEN]);
        out
    }

    /// A new nonce for `realm`, issued at `now`.
    pub fn issue<R: Rng + ?Sized>(&self, now: Instant, rng: &mut R, realm: &str) -> String {
        let ts = now.as_micros().to_be_bytes();
        let rand = rng.next_u64().to_be_bytes();
        let mac = self.mac(realm, &ts, &rand);
        let mut raw = [0u8; NONCE_BYTES];
        raw[..TS_LEN].copy_from_slice(&ts);
        raw[TS_LEN..TS_LEN + RAND_LEN].copy_from_slice(&rand);
        raw[TS_LEN + RAND_LEN..].copy_from_slice(&mac);
        HexDigest::from_bytes(&raw).as_str().to_string()
    }

    /// Checks that `nonce` was issued by this manager for `realm` and has not expired.
    pub fn check(&self, now: Instant, realm: &str, nonce: &str) -> NonceStatus {
        let b = nonce.as_bytes();
        if b.len() != NONCE_HEX_LEN {
            return NonceStatus::Invalid;
        }
        let mut raw = [0u8; NONCE_BYTES];
        for (dst, pair) in raw.iter_mut().zip(b.chunks_exact(2)) {
            match (hex_val(pair[0]), hex_val(pair[1])) {
                (Some(h), Some(l)) => *dst = (h << 4) | l,
                _ => return NonceStatus::Invalid,
            }
        }
        let (ts, rest) = raw.split_at(TS_LEN);
        let (rand, mac) = rest.split_at(RAND_LEN);
        let expected = self.mac(realm, ts, rand);
        if !compute::bytes_eq_ct(mac, &expected) {
            return NonceStatus::Invalid;
        }
        let mut tsb = [0u8; TS_LEN];
        tsb.copy_from_slice(ts);
        let issued = Instant::from_micros(u64::from_be_bytes(tsb));
        if issued > now {
            // Issued "in the future": the driver's clock went backwards or the nonce comes
            // from an instance with another start point.
            return NonceStatus::Invalid;
        }
        if now.saturating_duration_since(issued) > self.lifetime {
            return NonceStatus::Expired;
        }
        NonceStatus::Valid {
            issued,
            key: expected,
        }
    }

    /// Records `nc` for the nonce `key` issued at `issued`.
    fn record_nc(&mut self, key: [u8; MAC_LEN], issued: Instant, nc: u32) -> NcStatus {
        if let Some(e) = self.entries.get_mut(&key) {
            if nc > e.highest {
                let shift = nc - e.highest;
                e.window = if shift >= NC_WINDOW {
                    1
                } else {
                    (e.window << shift) | 1
                };
                e.highest = nc;
                return NcStatus::Fresh;
            }
            let back = e.highest - nc;
            if back >= NC_WINDOW || e.window & (1u64 << back) != 0 {
                return NcStatus::Replayed;
            }
            e.window |= 1u64 << back;
            return NcStatus::Fresh;
        }
        if self.evicted_watermark.is_some_and(|w| issued <= w) {
            return NcStatus::Forgotten;
        }
        while self.entries.len() >= self.capacity {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(e) = self.entries.remove(&old) {
                self.evicted_watermark = Some(match self.evicted_watermark {
                    Some(w) if w > e.issued => w,
                    _ => e.issued,
                });
            }
        }
        self.entries.insert(
            key,
            NcEntry {
                issued,
                highest: nc,
                window: 1,
            },
        );
        self.order.push_back(key);
        NcStatus::Fresh
    }

    /// Drops the entries of nonces that have expired at `now` (optional housekeeping:
    /// the table is bounded either way).
    pub fn purge_expired(&mut self, now: Instant) {
        let lifetime = self.lifetime;
        let live = |e: &NcEntry| now.saturating_duration_since(e.issued) <= lifetime;
        self.entries.retain(|_, e| live(e));
        let entries = &self.entries;
        self.order.retain(|k| entries.contains_key(k));
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// A user's secret as the server knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSecret<'a> {
    /// The clear-text password.
    Password(&'a str),
    /// The precomputed `H(username ":" realm ":" password)` for the algorithm's hash.
    Ha1(HexDigest),
}

/// Where a [`DigestServer`] looks users up.
pub trait CredentialStore {
    /// The secret of `username` in `realm` for `algorithm` (a `-sess` variant uses the
    /// HA1 of its base hash); `None` if the user is unknown.
    fn secret(&self, realm: &str, username: &str, algorithm: Algorithm) -> Option<UserSecret<'_>>;

    /// The user name whose `H(username ":" realm)` is `userhash` (RFC 7616 §3.4.4), if the
    /// store supports hashed user names.
    fn resolve_userhash(&self, realm: &str, userhash: &str, algorithm: Algorithm) -> Option<&str> {
        let _ = (realm, userhash, algorithm);
        None
    }
}

/// An in-memory store of HA1 values per (realm, user, hash), so that a server need not keep
/// clear-text passwords, with a userhash index. Lookups do not allocate.
#[derive(Debug, Clone, Default)]
pub struct Ha1Store {
    /// realm → user → HA1 for MD5, SHA-256, SHA-512-256 (index [`hash_index`]).
    ha1: BTreeMap<String, BTreeMap<String, [Option<HexDigest>; 3]>>,
    /// realm → (hash, userhash) → user.
    userhash: BTreeMap<String, BTreeMap<(Algorithm, HexDigest), String>>,
}

/// Index of an algorithm's hash in the per-user HA1 array.
fn hash_index(alg: Algorithm) -> usize {
    match alg.base() {
        Algorithm::Md5 => 0,
        Algorithm::Sha256 => 1,
        _ => 2,
    }
}

impl Ha1Store {
    /// An empty store.
    pub fn new() -> Ha1Store {
        Ha1Store::default()
    }

    /// Stores the HA1 of `password` for MD5, SHA-256 and SHA-512-256 (and the `-sess`
    /// variants, which share them); the password itself is not kept.
    pub fn insert_password(&mut self, realm: &str, username: &str, password: &str) {
        // The hashes compiled in (SHA-512-256 with its feature), without the `-sess` twins.
        for alg in Algorithm::ALL.into_iter().filter(|a| !a.is_session()) {
            let ha1 = compute::ha1(alg, username, realm, password);
            self.insert_ha1(realm, username, alg, ha1);
        }
    }

    /// Stores a precomputed HA1 for `algorithm`'s hash.
    pub fn insert_ha1(
        &mut self,
        realm: &str,
        username: &str,
        algorithm: Algorithm,
        ha1: HexDigest,
    ) {
        let alg = algorithm.base();
        let slots = self
            .ha1
            .entry(realm.to_string())
            .or_default()
            .entry(username.to_string())
            .or_default();
        slots[hash_index(alg)] = Some(ha1);
        let uh = compute::userhash(alg, username, realm);
        self.userhash
            .entry(realm.to_string())
            .or_default()
            .insert((alg, uh), username.to_string());
    }

    /// Removes a user (all hashes).
    pub fn remove(&mut self, realm: &str, username: &str) {
        if let Some(users) = self.ha1.get_mut(realm) {
            users.remove(username);
        }
        if let Some(idx) = self.userhash.get_mut(realm) {
            idx.retain(|_, u| u != username);
        }
    }
}

impl CredentialStore for Ha1Store {
    fn secret(&self, realm: &str, username: &str, algorithm: Algorithm) -> Option<UserSecret<'_>> {
        let slots = self.ha1.get(realm)?.get(username)?;
        slots
            .get(hash_index(algorithm))
            .copied()
            .flatten()
            .map(UserSecret::Ha1)
    }

    fn resolve_userhash(&self, realm: &str, userhash: &str, algorithm: Algorithm) -> Option<&str> {
        let uh = HexDigest::parse(userhash)?;
        self.userhash
            .get(realm)?
            .get(&(algorithm.base(), uh))
            .map(String::as_str)
    }
}

/// Server configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The realm (protection space), e.g. the SIP domain.
    pub realm: String,
    /// Algorithms offered, one challenge each, in this order (put the strongest first;
    /// RFC 8760 §2.4). Default: SHA-256 then MD5.
    pub algorithms: Vec<Algorithm>,
    /// qop values offered. Empty: RFC 2069 mode (no qop, single-use nonces). Default:
    /// `auth`.
    pub qop: Vec<Qop>,
    /// How long a nonce stays valid. Default 300 s.
    pub nonce_lifetime: Duration,
    /// Nonces tracked for replay detection (oldest evicted). Default 4096.
    pub replay_capacity: usize,
    /// Offer `userhash=true` (RFC 7616 §3.4.4). Default false.
    pub userhash: bool,
    /// Add `opaque` to challenges and require it echoed. Default none.
    pub opaque: Option<String>,
}

impl ServerConfig {
    /// The defaults for `realm`.
    pub fn new(realm: impl Into<String>) -> ServerConfig {
        ServerConfig {
            realm: realm.into(),
            algorithms: alloc::vec![Algorithm::Sha256, Algorithm::Md5],
            qop: alloc::vec![Qop::Auth],
            nonce_lifetime: Duration::from_secs(300),
            replay_capacity: 4096,
            userhash: false,
            opaque: None,
        }
    }
}

/// The request being authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestRequest<'a> {
    /// The method (`REGISTER`, `INVITE`…), as in the request line.
    pub method: &'a str,
    /// The Request-URI as received; when `Some`, the credentials' `uri` must equal it.
    pub uri: Option<&'a str>,
    /// The message body (for `auth-int`).
    pub body: &'a [u8],
}

/// A successful authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The user name (resolved from the userhash when one was used).
    pub username: String,
    /// The algorithm used.
    pub algorithm: Algorithm,
    /// The qop used (`None`: RFC 2069 mode).
    pub qop: Option<Qop>,
    /// The nonce-count (`None` without qop).
    pub nc: Option<u32>,
}

/// The outcome of [`DigestServer::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verification {
    /// The credentials are valid.
    Ok(Authenticated),
    /// The digest is right but the nonce expired or is not ours (e.g. before a restart):
    /// challenge again with `stale=true`; the client retries without asking the user.
    Stale,
    /// The response digest is wrong (wrong password): challenge again (`stale=false`).
    BadResponse,
    /// No such user: answer exactly as for [`BadResponse`](Self::BadResponse).
    UnknownUser,
    /// This nonce-count was already used with this nonce (a replay): challenge again.
    Replayed,
    /// The header value does not parse: 400 or a new challenge.
    Malformed(ParseError),
    /// The credentials are for another realm.
    WrongRealm,
    /// The algorithm or qop was not offered, or the `opaque` does not match.
    Unsupported,
    /// The `uri` parameter is not the Request-URI.
    UriMismatch,
    /// None of the credentials header values was for our realm (see
    /// [`DigestServer::verify_any`]).
    NoCredentials,
}

impl Verification {
    /// Whether the request is authenticated.
    pub fn is_ok(&self) -> bool {
        matches!(self, Verification::Ok(_))
    }

    /// The `stale` flag to put in the new challenge, or `None` when authenticated.
    pub fn challenge_stale(&self) -> Option<bool> {
        match self {
            Verification::Ok(_) => None,
            Verification::Stale => Some(true),
            _ => Some(false),
        }
    }
}

/// The server side of digest authentication for one realm.
pub struct DigestServer {
    config: ServerConfig,
    nonces: NonceManager,
}

impl core::fmt::Debug for DigestServer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DigestServer")
            .field("config", &self.config)
            .field("nonces", &self.nonces)
            .finish()
    }
}

impl DigestServer {
    /// A server for `config`, with a nonce secret drawn from `rng`.
    pub fn new<R: Rng + ?Sized>(config: ServerConfig, rng: &mut R) -> DigestServer {
        let nonces = NonceManager::new(rng, config.nonce_lifetime, config.replay_capacity);
        DigestServer { config, nonces }
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The nonce manager (e.g. for [`NonceManager::purge_expired`]).
    pub fn nonces_mut(&mut self) -> &mut NonceManager {
        &mut self.nonces
    }

    /// The challenges for a 401/407: one per configured algorithm, sharing one fresh nonce.
    /// `stale` is true when answering [`Verification::Stale`].
    pub fn challenges<R: Rng + ?Sized>(
        &self,
        now: Instant,
        rng: &mut R,
        stale: bool,
    ) -> Vec<Challenge<'static>> {
        let nonce = self.nonces.issue(now, rng, &self.config.realm);
        let qop = (!self.config.qop.is_empty()).then(|| {
            let mut s = String::new();
            for (i, q) in self.config.qop.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                s.push_str(q.as_str());
            }
            Cow::Owned(s)
        });
        self.config
            .algorithms
            .iter()
            .map(|&alg| Challenge {
                realm: Cow::Owned(self.config.realm.clone()),
                nonce: Cow::Owned(nonce.clone()),
                domain: None,
                opaque: self.config.opaque.clone().map(Cow::Owned),
                stale,
                algorithm: Some(super::AlgorithmParam::Known(alg)),
                qop: qop.clone(),
                charset: self.config.userhash.then_some(Cow::Borrowed("UTF-8")),
                userhash: self.config.userhash,
                params: Vec::new(),
            })
            .collect()
    }

    /// [`challenges`](Self::challenges) serialized as header values.
    pub fn challenge_values<R: Rng + ?Sized>(
        &self,
        now: Instant,
        rng: &mut R,
        stale: bool,
    ) -> Vec<String> {
        self.challenges(now, rng, stale)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// Verifies the first of `values` (the `Authorization` or `Proxy-Authorization` header
    /// values of a request) whose realm is ours; [`Verification::NoCredentials`] if none.
    pub fn verify_any<'v, S, I>(
        &mut self,
        now: Instant,
        request: &DigestRequest<'_>,
        values: I,
        store: &S,
    ) -> Verification
    where
        S: CredentialStore + ?Sized,
        I: IntoIterator<Item = &'v str>,
    {
        for v in values {
            if let Ok(c) = Credentials::parse(v)
                && c.realm == self.config.realm
            {
                return self.verify_parsed(now, request, &c, store);
            }
        }
        Verification::NoCredentials
    }

    /// Verifies one credentials header value for `request`.
    pub fn verify<S: CredentialStore + ?Sized>(
        &mut self,
        now: Instant,
        request: &DigestRequest<'_>,
        value: &str,
        store: &S,
    ) -> Verification {
        match Credentials::parse(value) {
            Ok(c) => self.verify_parsed(now, request, &c, store),
            Err(e) => Verification::Malformed(e),
        }
    }

    /// Verifies parsed credentials for `request`.
    pub fn verify_parsed<S: CredentialStore + ?Sized>(
        &mut self,
        now: Instant,
        request: &DigestRequest<'_>,
        c: &Credentials<'_>,
        store: &S,
    ) -> Verification {
        if c.realm != self.config.realm {
            return Verification::WrongRealm;
        }
        let Some(alg) = c.algorithm() else {
            return Verification::Unsupported;
        };
        if !self.config.algorithms.contains(&alg) {
            return Verification::Unsupported;
        }
        match c.qop {
            Some(q) if !self.config.qop.contains(&q) => return Verification::Unsupported,
            None if !self.config.qop.is_empty() => return Verification::Unsupported,
            _ => {}
        }
        if let Some(o) = &self.config.opaque
            && c.opaque.as_deref() != Some(o.as_str())
        {
            return Verification::Unsupported;
        }
        if let Some(uri) = request.uri
            && c.uri != uri
        {
            return Verification::UriMismatch;
        }
        if c.response.len() != alg.hex_len() {
            return Verification::BadResponse;
        }
        if alg.is_session() && c.cnonce.is_none() {
            // The session key is bound to the cnonce (RFC 7616 §3.4.2).
            return Verification::Malformed(ParseError::MissingParam("cnonce"));
        }
        let qop_inputs = match (c.qop, c.nc) {
            (Some(qop), Some(nc)) => Some(QopInputs {
                nc,
                cnonce: c.cnonce.as_deref().unwrap_or(""),
                qop,
            }),
            (None, _) => None,
            // The parser guarantees nc with qop; refuse rather than assume.
            (Some(_), None) => return Verification::Malformed(ParseError::MissingParam("nc")),
        };
        let username: Option<&str> = if c.userhash {
            store.resolve_userhash(&c.realm, &c.username, alg)
        } else {
            Some(&c.username)
        };
        let secret = username.and_then(|u| store.secret(&c.realm, u, alg).map(|s| (u, s)));
        // An unknown user costs the same hashing as a known one (against a dummy HA1), so
        // timing does not tell which user names exist.
        let base_ha1 = match secret {
            Some((u, UserSecret::Password(p))) => compute::ha1(alg, u, &c.realm, p),
            Some((_, UserSecret::Ha1(h))) => h,
            None => compute::ha1(alg, &c.username, &c.realm, ""),
        };
        let cnonce = c.cnonce.as_deref().unwrap_or("");
        let ha1 = compute::session_ha1(alg, &base_ha1, &c.nonce, cnonce);
        let ha2 = compute::ha2(alg, request.method, &c.uri, c.qop, request.body);
        let expected = compute::response(alg, &ha1, &c.nonce, qop_inputs, &ha2);
        let matches = compute::hex_eq_ct(c.response.as_bytes(), expected.as_bytes());
        let Some((username, _)) = secret else {
            return Verification::UnknownUser;
        };
        if !matches {
            return Verification::BadResponse;
        }
        let (issued, key) = match self.nonces.check(now, &self.config.realm, &c.nonce) {
            NonceStatus::Valid { issued, key } => (issued, key),
            NonceStatus::Expired | NonceStatus::Invalid => return Verification::Stale,
        };
        // Without qop there is no nc in the digest (a sent `nc` is not covered by it, so it
        // is ignored): each nonce is single-use (nc 1), and a reuse is answered as stale so
        // that RFC 2069 clients fetch a new nonce.
        let nc = match qop_inputs {
            Some(q) => q.nc,
            None => 1,
        };
        if nc == 0 {
            return Verification::Malformed(ParseError::InvalidParam("nc"));
        }
        match self.nonces.record_nc(key, issued, nc) {
            NcStatus::Fresh => {}
            NcStatus::Forgotten => return Verification::Stale,
            NcStatus::Replayed if c.qop.is_none() => return Verification::Stale,
            NcStatus::Replayed => return Verification::Replayed,
        }
        Verification::Ok(Authenticated {
            username: username.to_string(),
            algorithm: alg,
            qop: c.qop,
            nc: qop_inputs.map(|q| q.nc),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rand::SplitMix64;

    fn manager(capacity: usize) -> NonceManager {
        NonceManager::new(&mut SplitMix64::new(1), Duration::from_secs(60), capacity)
    }

    #[test]
    fn nc_window_accepts_each_count_once() {
        let mut m = manager(4);
        let k = [7u8; MAC_LEN];
        let t = Instant::ZERO;
        assert_eq!(m.record_nc(k, t, 5), NcStatus::Fresh);
        assert_eq!(m.record_nc(k, t, 5), NcStatus::Replayed);
        assert_eq!(m.record_nc(k, t, 1), NcStatus::Fresh);
        assert_eq!(m.record_nc(k, t, 1), NcStatus::Replayed);
        assert_eq!(m.record_nc(k, t, 5 + 63), NcStatus::Fresh);
        // 5 is now at the far edge of the window, 4 beyond it.
        assert_eq!(m.record_nc(k, t, 5), NcStatus::Replayed);
        assert_eq!(m.record_nc(k, t, 6), NcStatus::Fresh);
        assert_eq!(m.record_nc(k, t, 4), NcStatus::Replayed);
        assert_eq!(m.record_nc(k, t, u32::MAX), NcStatus::Fresh);
        assert_eq!(m.record_nc(k, t, u32::MAX), NcStatus::Replayed);
    }

    #[test]
    fn eviction_is_oldest_first_and_raises_the_watermark() {
        let mut m = manager(2);
        let t = |ms| Instant::from_millis(ms);
        assert_eq!(m.record_nc([1; MAC_LEN], t(1), 1), NcStatus::Fresh);
        assert_eq!(m.record_nc([2; MAC_LEN], t(2), 1), NcStatus::Fresh);
        assert_eq!(m.record_nc([3; MAC_LEN], t(3), 1), NcStatus::Fresh);
        assert_eq!(m.tracked(), 2);
        assert_eq!(m.evicted_watermark, Some(t(1)));
        // Key 1 was evicted: its nonce is "forgotten", not fresh.
        assert_eq!(m.record_nc([1; MAC_LEN], t(1), 2), NcStatus::Forgotten);
        // Key 2 is still tracked.
        assert_eq!(m.record_nc([2; MAC_LEN], t(2), 1), NcStatus::Replayed);
        // A nonce issued after the watermark is new.
        assert_eq!(m.record_nc([4; MAC_LEN], t(4), 1), NcStatus::Fresh);
        assert_eq!(m.tracked(), 2);
    }

    #[test]
    fn issued_nonces_are_64_hex_and_distinct() {
        let m = manager(1);
        let mut rng = SplitMix64::new(2);
        let a = m.issue(Instant::ZERO, &mut rng, "r");
        let b = m.issue(Instant::ZERO, &mut rng, "r");
        assert_eq!(a.len(), NONCE_HEX_LEN);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn ha1_store_keeps_no_password_and_shares_sess() {
        let mut s = Ha1Store::new();
        s.insert_password("r", "u", "p");
        let want = compute::ha1(Algorithm::Sha256, "u", "r", "p");
        assert_eq!(
            s.secret("r", "u", Algorithm::Sha256Sess),
            Some(UserSecret::Ha1(want))
        );
        assert_eq!(s.secret("r", "v", Algorithm::Sha256), None);
        let uh = compute::userhash(Algorithm::Md5, "u", "r");
        assert_eq!(
            s.resolve_userhash("r", uh.as_str(), Algorithm::Md5),
            Some("u")
        );
        assert_eq!(
            s.resolve_userhash("r", uh.as_str(), Algorithm::Sha256),
            None
        );
        s.remove("r", "u");
        assert_eq!(s.secret("r", "u", Algorithm::Md5), None);
        assert_eq!(s.resolve_userhash("r", uh.as_str(), Algorithm::Md5), None);
    }
}
