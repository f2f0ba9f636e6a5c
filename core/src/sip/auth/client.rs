//! The client (UAC) side of digest authentication (RFC 3261 §22.2–§22.3, RFC 7616 §3.4,
//! RFC 8760 §2.4).
//!
//! Inputs: the challenge header values of a 401/407, then per request the method, the
//! Request-URI string, the body and an [`Rng`] for the cnonce. Outputs: credential header
//! values ([`Authorization`]) to add to the request, or a [`ClientError`] when the challenge
//! cannot be answered or the credentials were refused.

use super::compute::{self, HexDigest, QopInputs};
use super::header::{AlgorithmParam, Challenge, Credentials, UsernameForm};
use super::{Algorithm, ChallengeKind, Qop};
use crate::rand::Rng;
use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// The most realms (protection spaces) a client answers at once; a proxy chain adds one
/// realm per authenticating proxy (RFC 3261 §22.3). Bounds the state a peer can make us keep.
pub const MAX_REALMS: usize = 8;

/// Why a challenge could not be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientError {
    /// No challenge offered was a `Digest` challenge with an algorithm and qop we support.
    NoUsableChallenge,
    /// The server refused our credentials for this realm: it sent a new challenge without
    /// `stale=true` in answer to credentials computed from its fresh nonce. The password
    /// (or user name) is wrong; ask the user rather than retrying.
    Rejected {
        /// The realm that refused the credentials.
        realm: String,
    },
    /// The server keeps declaring fresh nonces stale (`stale=true` answering the first use
    /// of a nonce it gave in a stale challenge): retrying would loop.
    StaleLoop {
        /// The realm concerned.
        realm: String,
    },
    /// The method, URI or user name contains control characters that cannot be sent.
    InvalidInput,
    /// No challenge has been received yet: nothing to answer.
    NoChallenge,
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::NoUsableChallenge => f.write_str("no supported digest challenge"),
            ClientError::Rejected { realm } => {
                write!(f, "credentials rejected for realm {realm:?}")
            }
            ClientError::StaleLoop { realm } => {
                write!(f, "server keeps sending stale nonces for realm {realm:?}")
            }
            ClientError::InvalidInput => f.write_str("control character in method, URI or user"),
            ClientError::NoChallenge => f.write_str("no challenge received"),
        }
    }
}

impl core::error::Error for ClientError {}

/// One credentials header to add to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// Which header: [`ChallengeKind::credentials_header`] gives its name.
    pub kind: ChallengeKind,
    /// The realm these credentials answer.
    pub realm: String,
    /// The header value (`Digest username="…", …`).
    pub value: String,
}

impl Authorization {
    /// The header name: `Authorization` or `Proxy-Authorization`.
    pub fn header_name(&self) -> &'static str {
        self.kind.credentials_header()
    }
}

/// What we know about one realm: its current nonce and how we answer it.
#[derive(Debug, Clone)]
struct RealmState {
    kind: ChallengeKind,
    realm: String,
    nonce: String,
    opaque: Option<String>,
    algorithm: Algorithm,
    /// Echo `algorithm=` (the challenge named one).
    algorithm_explicit: bool,
    qop: Option<Qop>,
    userhash: bool,
    /// Requests sent with `nonce` so far (the last `nc` used).
    nc: u32,
    /// `nonce` came from a `stale=true` challenge.
    from_stale: bool,
    /// For `-sess`: the cnonce fixed for this nonce (the session key depends on it).
    sess_cnonce: Option<String>,
    /// Cached `H(username:realm:password)`.
    ha1: HexDigest,
}

/// The client side of digest authentication: answers 401/407 challenges and keeps
/// nonce-counts so that later requests (re-REGISTER, in-dialog requests) reuse the nonce.
///
/// ```
/// use rvoip_core::rand::SplitMix64;
/// use rvoip_core::sip::auth::{ChallengeKind, DigestClient};
///
/// let mut rng = SplitMix64::new(1);
/// let mut client = DigestClient::new("alice", "secret");
/// let kind = ChallengeKind::from_status(401).unwrap();
/// client
///     .handle_challenge(kind, ["Digest realm=\"example.com\", nonce=\"abc\", qop=\"auth\""])
///     .unwrap();
/// let creds = client.authorize(&mut rng, "REGISTER", "sip:example.com", b"").unwrap();
/// assert_eq!(creds[0].header_name(), "Authorization");
/// assert!(creds[0].value.contains("nc=00000001"));
/// ```
#[derive(Clone)]
pub struct DigestClient {
    username: String,
    password: String,
    prefer_auth_int: bool,
    realms: Vec<RealmState>,
}

impl fmt::Debug for DigestClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DigestClient")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("realms", &self.realms.len())
            .finish()
    }
}

impl DigestClient {
    /// A client for one user name and password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> DigestClient {
        DigestClient {
            username: username.into(),
            password: password.into(),
            prefer_auth_int: false,
            realms: Vec::new(),
        }
    }

    /// Prefer `qop=auth-int` (body integrity) when a challenge offers it; by default `auth`
    /// is preferred and `auth-int` used only when it is the only qop offered.
    pub fn with_auth_int(mut self, prefer: bool) -> DigestClient {
        self.prefer_auth_int = prefer;
        self
    }

    /// Changes the password (e.g. after [`ClientError::Rejected`]) and forgets all nonces.
    pub fn set_password(&mut self, password: impl Into<String>) {
        self.password = password.into();
        self.realms.clear();
    }

    /// Forgets one realm (e.g. when the next request goes to a server outside it).
    pub fn forget_realm(&mut self, realm: &str) {
        self.realms.retain(|r| r.realm != realm);
    }

    /// Forgets all realms and nonces.
    pub fn reset(&mut self) {
        self.realms.clear();
    }

    /// The realms we currently hold a nonce for.
    pub fn realms(&self) -> impl Iterator<Item = &str> {
        self.realms.iter().map(|r| r.realm.as_str())
    }

    /// The last nonce-count used for `realm` (0 before the first request).
    pub fn nonce_count(&self, realm: &str) -> Option<u32> {
        self.realms.iter().find(|r| r.realm == realm).map(|r| r.nc)
    }

    /// Feeds the challenges of a 401 (`kind` = [`ChallengeKind::Www`], the
    /// `WWW-Authenticate` values) or a 407 ([`ChallengeKind::Proxy`], the
    /// `Proxy-Authenticate` values).
    ///
    /// Per realm the strongest supported algorithm is chosen (SHA-512-256 > SHA-256 > MD5).
    /// Values that do not parse or use another scheme are skipped. Returns
    /// [`ClientError::Rejected`] when a realm refuses credentials computed from its fresh
    /// nonce without `stale=true` (wrong password: do not retry), and
    /// [`ClientError::StaleLoop`] when a server keeps declaring fresh nonces stale.
    pub fn handle_challenge<'a, I>(
        &mut self,
        kind: ChallengeKind,
        values: I,
    ) -> Result<(), ClientError>
    where
        I: IntoIterator<Item = &'a str>,
    {
        // Best usable challenge per realm, in order of first appearance.
        let mut best: Vec<(Challenge<'a>, Algorithm, Option<Qop>)> = Vec::new();
        for v in values {
            let Ok(c) = Challenge::parse(v) else { continue };
            let Some(alg) = c.algorithm() else { continue };
            let Some(qop) = self.choose_qop(&c) else {
                continue;
            };
            if alg.is_session() && qop.is_none() {
                // -sess needs a cnonce, which RFC 2069 mode cannot carry.
                continue;
            }
            match best.iter_mut().find(|(b, _, _)| b.realm == c.realm) {
                Some(slot) => {
                    if alg.strength() > slot.1.strength() {
                        *slot = (c, alg, qop);
                    }
                }
                None => {
                    if best.len() < MAX_REALMS {
                        best.push((c, alg, qop));
                    }
                }
            }
        }
        if best.is_empty() {
            return Err(ClientError::NoUsableChallenge);
        }
        // Check every realm before changing anything.
        for (c, _, _) in &best {
            if let Some(st) = self.realms.iter().find(|r| r.realm == *c.realm) {
                if c.stale {
                    if st.from_stale && st.nc == 1 {
                        return Err(ClientError::StaleLoop {
                            realm: st.realm.clone(),
                        });
                    }
                } else if st.nc == 1 {
                    // Our first answer to this nonce was refused outright.
                    return Err(ClientError::Rejected {
                        realm: st.realm.clone(),
                    });
                }
                // nc == 0: not answered yet; nc ≥ 2: a reused nonce the server may have
                // forgotten; either way take the new challenge.
            }
        }
        for (c, alg, qop) in best {
            let ha1 = compute::ha1(alg, &self.username, &c.realm, &self.password);
            let st = RealmState {
                kind,
                realm: c.realm.clone().into_owned(),
                nonce: c.nonce.clone().into_owned(),
                opaque: c.opaque.clone().map(Cow::into_owned),
                algorithm: alg,
                algorithm_explicit: c.algorithm.is_some(),
                qop,
                userhash: c.userhash,
                nc: 0,
                from_stale: c.stale,
                sess_cnonce: None,
                ha1,
            };
            match self.realms.iter_mut().find(|r| r.realm == st.realm) {
                Some(slot) => *slot = st,
                None => {
                    if self.realms.len() >= MAX_REALMS {
                        self.realms.remove(0);
                    }
                    self.realms.push(st);
                }
            }
        }
        Ok(())
    }

    /// `Some(qop)` to use, `Some(None)` for RFC 2069 mode, `None` if no offered qop is known.
    #[allow(clippy::option_option)]
    fn choose_qop(&self, c: &Challenge<'_>) -> Option<Option<Qop>> {
        if c.qop.is_none() {
            return Some(None);
        }
        let auth = c.offers(Qop::Auth);
        let auth_int = c.offers(Qop::AuthInt);
        match (auth, auth_int) {
            (true, true) if self.prefer_auth_int => Some(Some(Qop::AuthInt)),
            (true, _) => Some(Some(Qop::Auth)),
            (false, true) => Some(Some(Qop::AuthInt)),
            (false, false) => None,
        }
    }

    /// Builds the credentials for a request: one [`Authorization`] per realm challenged so
    /// far, each with the next nonce-count for its nonce. `uri` is the Request-URI exactly
    /// as sent; `body` the message body (used by `auth-int`).
    pub fn authorize<R: Rng + ?Sized>(
        &mut self,
        rng: &mut R,
        method: &str,
        uri: &str,
        body: &[u8],
    ) -> Result<Vec<Authorization>, ClientError> {
        if self.realms.is_empty() {
            return Err(ClientError::NoChallenge);
        }
        let bad = |s: &str| s.bytes().any(|b| b < 0x20 || b == 0x7f);
        if bad(method) || bad(uri) || method.is_empty() {
            return Err(ClientError::InvalidInput);
        }
        let mut out = Vec::with_capacity(self.realms.len());
        for st in &mut self.realms {
            out.push(build(st, &self.username, rng, method, uri, body)?);
        }
        Ok(out)
    }
}

fn random_cnonce<R: Rng + ?Sized>(rng: &mut R) -> String {
    let mut raw = [0u8; 16];
    rng.fill_bytes(&mut raw);
    HexDigest::from_bytes(&raw).as_str().to_string()
}

fn build<R: Rng + ?Sized>(
    st: &mut RealmState,
    username: &str,
    rng: &mut R,
    method: &str,
    uri: &str,
    body: &[u8],
) -> Result<Authorization, ClientError> {
    let alg = st.algorithm;
    // A nonce used 2^32 - 1 times cannot be counted further; saturate (the server then
    // sees a repeated nc and challenges again).
    st.nc = st.nc.saturating_add(1);
    let cnonce = match (st.qop, alg.is_session()) {
        (None, _) => None,
        (Some(_), true) => Some(
            st.sess_cnonce
                .get_or_insert_with(|| random_cnonce(rng))
                .clone(),
        ),
        (Some(_), false) => Some(random_cnonce(rng)),
    };
    let cn = cnonce.as_deref().unwrap_or("");
    let ha1 = compute::session_ha1(alg, &st.ha1, &st.nonce, cn);
    let ha2 = compute::ha2(alg, method, uri, st.qop, body);
    let qop_inputs = st.qop.map(|qop| QopInputs {
        nc: st.nc,
        cnonce: cn,
        qop,
    });
    let response = compute::response(alg, &ha1, &st.nonce, qop_inputs, &ha2);
    let has_ctl = username.bytes().any(|b| b < 0x20 || b == 0x7f);
    let (user, form): (Cow<'_, str>, UsernameForm) = if st.userhash {
        (
            Cow::Owned(
                compute::userhash(alg, username, &st.realm)
                    .as_str()
                    .to_string(),
            ),
            UsernameForm::Plain,
        )
    } else if has_ctl {
        (Cow::Borrowed(username), UsernameForm::Extended)
    } else {
        (Cow::Borrowed(username), UsernameForm::Plain)
    };
    let creds = Credentials {
        username: user,
        username_form: form,
        realm: Cow::Borrowed(&st.realm),
        nonce: Cow::Borrowed(&st.nonce),
        uri: Cow::Borrowed(uri),
        response: Cow::Borrowed(response.as_str()),
        algorithm: st.algorithm_explicit.then_some(AlgorithmParam::Known(alg)),
        cnonce: cnonce.as_deref().map(Cow::Borrowed),
        opaque: st.opaque.as_deref().map(Cow::Borrowed),
        qop: st.qop,
        nc: st.qop.map(|_| st.nc),
        userhash: st.userhash,
        params: Vec::new(),
    };
    Ok(Authorization {
        kind: st.kind,
        realm: st.realm.clone(),
        value: creds.to_string(),
    })
}
