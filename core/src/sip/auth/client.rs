//! The client (UAC) side of digest authentication (RFC 3261 §22.2–§22.3, RFC 7616 §3.4,
//! RFC 8760 §2.4).
//!
//! Inputs: the challenge header values of a 401/407, then per request the method, the
//! Request-URI string, the body and an [`Rng`] for the cnonce. Outputs: credential header
//! values ([`Authorization`]) to add to the request, or a [`ClientError`] when the challenge
//! cannot be answered or the credentials were refused.

use super::compute::{self, HexDigest};
use super::header::{CredentialFields, UsernameForm, qop_bit, qop_mask};
use super::wire::{
    ALGORITHM, CHALLENGE, NONCE, OPAQUE, Params, QOP, REALM, STALE, USERHASH, known,
};
use super::{Algorithm, ChallengeKind, Qop};
use crate::rand::Rng;
use alloc::boxed::Box;
use alloc::string::String;
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
    /// Requests sent with `nonce` so far (the last `nc` used). One count per nonce value
    /// (RFC 7616 §3.4): when a 401 and a 407 of one realm carry the same nonce, both states
    /// continue the same count.
    nc: u32,
    /// The `nc` of this state's first answer (0 until it answered): a new challenge to the
    /// request that carried it means the credentials were refused.
    first_nc: u32,
    /// The credentials value of this state's first answer (empty until it answered): the
    /// challenged request carried that answer when it carried this exact value.
    first: String,
    /// `nonce` came from a `stale=true` challenge.
    from_stale: bool,
    /// For `-sess`: the random bits of the cnonce fixed for this nonce (the session key
    /// depends on it).
    sess_cnonce: Option<[u8; 16]>,
}

/// The client side of digest authentication: answers 401/407 challenges and keeps
/// nonce-counts so that later requests (re-REGISTER, in-dialog requests) reuse the nonce.
///
/// State is kept per realm and per header kind (RFC 3261 §22.3): a registrar's 401 and a
/// proxy's 407 for the same realm are answered with `Authorization` and
/// `Proxy-Authorization` respectively, each with its own nonce. The nonce-count is kept per
/// nonce value: a challenge repeating a nonce we already used (a server with one nonce per
/// client, answering a REGISTER's 401 and an INVITE's 407 alike) continues its count
/// instead of restarting at 1, which the server would take for a replay.
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
    /// Boxed: choosing and installing a state moves a pointer, not the state (less code).
    #[allow(clippy::vec_box)]
    realms: Vec<Box<RealmState>>,
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

    /// Forgets one realm, for both header kinds (e.g. when the next request goes to a server
    /// outside it).
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

    /// The last nonce-count used for `realm` (0 before the first request); when the realm
    /// was challenged both by a 401 and a 407, the one challenged first.
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
    ///
    /// This form assumes the challenged request carried the credentials of the latest
    /// [`authorize`](Self::authorize) for each challenged realm. When several requests
    /// share one client (a UA's REGISTER and INVITE), use
    /// [`handle_challenge_to`](Self::handle_challenge_to), which judges a rejection from the
    /// credentials the challenged request really carried.
    pub fn handle_challenge<'a, I>(
        &mut self,
        kind: ChallengeKind,
        values: I,
    ) -> Result<(), ClientError>
    where
        I: IntoIterator<Item = &'a str>,
    {
        self.challenge(kind, &mut values.into_iter(), None)
    }

    /// Feeds the challenges of a 401/407 answering a request that carried `sent`: the
    /// values of its credentials header of the same kind (`Authorization` for a 401,
    /// `Proxy-Authorization` for a 407; none for a request sent without credentials).
    ///
    /// Credentials are kept per realm and per header kind (RFC 3261 §22.3), and a realm's
    /// new challenge is judged only against the credentials the challenged request carried
    /// for it: [`ClientError::Rejected`] when the request carried our first answer to the
    /// realm's current nonce (`nc=00000001`, or the count continued from another request
    /// kind's use of the same nonce) and the server challenges again without `stale=true`,
    /// [`ClientError::StaleLoop`] likewise with `stale=true` for a nonce that itself came
    /// from a stale challenge. The client remembers that first answer: the request carried
    /// it when one of `sent` is that exact value (values written by others are not our
    /// credentials and judge nothing). A challenge to a request that did not use our
    /// current nonce (e.g. an INVITE sent without credentials after a REGISTER used the
    /// nonce) is simply taken as the realm's new nonce.
    pub fn handle_challenge_to<'a, 'b, I, S>(
        &mut self,
        kind: ChallengeKind,
        values: I,
        sent: S,
    ) -> Result<(), ClientError>
    where
        I: IntoIterator<Item = &'a str>,
        S: IntoIterator<Item = &'b str>,
    {
        self.challenge(kind, &mut values.into_iter(), Some(&mut sent.into_iter()))
    }

    /// The one (non-generic) body of [`handle_challenge`](Self::handle_challenge) and
    /// [`handle_challenge_to`](Self::handle_challenge_to) (`sent` `None` for the former),
    /// which the user agent calls directly.
    pub(crate) fn challenge(
        &mut self,
        kind: ChallengeKind,
        values: &mut dyn Iterator<Item = &str>,
        sent: Option<&mut dyn Iterator<Item = &str>>,
    ) -> Result<(), ClientError> {
        // Best usable challenge per realm, in order of first appearance.
        #[allow(clippy::vec_box)]
        let mut best: Vec<Box<RealmState>> = Vec::new();
        for v in values {
            let Some(c) = self.usable(kind, v) else {
                continue;
            };
            match best.iter_mut().find(|b| b.realm == c.realm) {
                Some(slot) => {
                    if c.algorithm.strength() > slot.algorithm.strength() {
                        *slot = c;
                    }
                }
                None => {
                    if best.len() < MAX_REALMS {
                        best.push(c);
                    }
                }
            }
        }
        if best.is_empty() {
            return Err(ClientError::NoUsableChallenge);
        }
        // Per state (same index in `self.realms`, at most MAX_REALMS of them): whether the
        // challenged request carried the state's first answer to its current nonce. Only
        // that answer can be refused as wrong credentials: a later answer (a higher nc) to
        // a nonce the server accepted once is a reused nonce it may have forgotten, and a
        // request that did not answer the nonce at all just brings the realm a new one.
        // Without `sent`: the latest answer was the first one. With `sent`: one of its
        // values is the first answer byte for byte (no qop: any answer to the nonce, which
        // is the first one while only one was made).
        let mut carried = [false; MAX_REALMS];
        match sent {
            None => {
                for (c, st) in carried.iter_mut().zip(&self.realms) {
                    *c = st.nc == st.first_nc;
                }
            }
            Some(sent) => {
                for v in sent {
                    for (c, st) in carried.iter_mut().zip(&self.realms) {
                        if v == st.first && (st.qop.is_some() || st.nc == st.first_nc) {
                            *c = true;
                        }
                    }
                }
            }
        }
        // Check every realm before changing anything.
        for c in &best {
            for (&carried, st) in carried.iter().zip(&self.realms) {
                // The challenged request carried our first answer to this nonce, and the
                // server refused it outright, or declared stale again a nonce that itself
                // came from a stale challenge. (Otherwise: not answered yet, or a reused
                // nonce the server may have forgotten: either way take the new challenge.)
                if st.kind == kind
                    && st.realm == c.realm
                    && st.first_nc != 0
                    && carried
                    && (!c.from_stale || st.from_stale)
                {
                    let realm = st.realm.clone();
                    return Err(if c.from_stale {
                        ClientError::StaleLoop { realm }
                    } else {
                        ClientError::Rejected { realm }
                    });
                }
            }
        }
        // Popped from the reversed list: in order of first appearance, without an iterator
        // and its drop guard.
        best.reverse();
        while let Some(mut st) = best.pop() {
            // A nonce we already counted (for either header kind) keeps its count.
            st.nc = self.shared_nc(&st.realm, &st.nonce);
            match self
                .realms
                .iter_mut()
                .find(|r| r.kind == st.kind && r.realm == st.realm)
            {
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

    /// The state a challenge value would give its realm (its HA1 and nonce-count still to
    /// fill in), or `None` when the value does not parse as a `Digest` challenge
    /// ([`Challenge::parse`](super::Challenge::parse)'s rules), names an algorithm or only
    /// qops we do not know, or asks for `-sess` without qop (RFC 2069 mode cannot carry
    /// the cnonce).
    fn usable(&self, kind: ChallengeKind, v: &str) -> Option<Box<RealmState>> {
        let mut st = Box::new(RealmState {
            kind,
            realm: String::new(),
            nonce: String::new(),
            opaque: None,
            algorithm: Algorithm::Md5,
            algorithm_explicit: false,
            qop: None,
            userhash: false,
            nc: 0,
            first_nc: 0,
            first: String::new(),
            from_stale: false,
            sess_cnonce: None,
        });
        // Each parameter read into the state as it is lexed (no table of found parameters
        // first). A bit per challenge parameter seen: a second one makes the value unusable,
        // as `Challenge::parse` refuses it.
        let mut seen = 0u16;
        let mut qops = None;
        let mut it = Params::new(v).ok()?;
        while let Some(p) = it.next_param().ok()? {
            let Some(i) = known(p.name, CHALLENGE) else {
                continue;
            };
            if seen & 1 << i != 0 {
                return None;
            }
            seen |= 1 << i;
            // (`domain` and `charset` are read for their duplicates only.)
            let s = p.string();
            match i {
                REALM => st.realm = s,
                NONCE => st.nonce = s,
                OPAQUE => st.opaque = Some(s),
                ALGORITHM => {
                    st.algorithm = Algorithm::parse(&s)?;
                    st.algorithm_explicit = true;
                }
                QOP => qops = Some(qop_mask(&s)),
                USERHASH => st.userhash = s.eq_ignore_ascii_case("true"),
                STALE => st.from_stale = s.eq_ignore_ascii_case("true"),
                _ => {}
            }
        }
        if seen & (1 << REALM | 1 << NONCE) != 1 << REALM | 1 << NONCE {
            return None;
        }
        // auth is preferred unless told otherwise; auth-int when it is the only one known.
        if let Some(m) = qops {
            let auth = m & qop_bit(Qop::Auth) != 0;
            let auth_int = m & qop_bit(Qop::AuthInt) != 0;
            st.qop = if auth_int && (self.prefer_auth_int || !auth) {
                Some(Qop::AuthInt)
            } else if auth {
                Some(Qop::Auth)
            } else {
                return None;
            };
        }
        if st.algorithm.is_session() && st.qop.is_none() {
            return None;
        }
        Some(st)
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
        let values = self.answers(rng, method, uri, body)?;
        // One value per state, in order.
        let mut out = Vec::with_capacity(values.len());
        for ((kind, value), st) in values.into_iter().zip(&self.realms) {
            out.push(Authorization {
                kind,
                realm: st.realm.clone(),
                value,
            });
        }
        Ok(out)
    }

    /// The body of [`authorize`](Self::authorize), which the user agent calls directly:
    /// each realm's header kind and credentials value, in the order of the realms.
    pub(crate) fn answers<R: Rng + ?Sized>(
        &mut self,
        rng: &mut R,
        method: &str,
        uri: &str,
        body: &[u8],
    ) -> Result<Vec<(ChallengeKind, String)>, ClientError> {
        if self.realms.is_empty() {
            return Err(ClientError::NoChallenge);
        }
        if has_ctl(method) || has_ctl(uri) || method.is_empty() {
            return Err(ClientError::InvalidInput);
        }
        let mut out = Vec::with_capacity(self.realms.len());
        for i in 0..self.realms.len() {
            // Another header kind may have counted the same nonce since (e.g. earlier in
            // this request): continue from the highest count (this state's own among them).
            let shared = self
                .realms
                .get(i)
                .map_or(0, |st| self.shared_nc(&st.realm, &st.nonce));
            let Some(st) = self.realms.get_mut(i) else {
                break;
            };
            st.nc = shared;
            let value = build(st, &self.username, &self.password, rng, method, uri, body);
            out.push((st.kind, value));
        }
        Ok(out)
    }

    /// The highest nonce-count used with `nonce` of `realm`, over both header kinds (0 if
    /// unused). At most [`MAX_REALMS`] states are scanned.
    fn shared_nc(&self, realm: &str, nonce: &str) -> u32 {
        let mut nc = 0;
        for r in &self.realms {
            if r.realm == realm && r.nonce == nonce {
                nc = nc.max(r.nc);
            }
        }
        nc
    }
}

/// Whether `s` holds a control character (HTAB included), which no header value may carry.
fn has_ctl(s: &str) -> bool {
    // A byte loop: smaller than an iterator adapter in the browser build.
    for &b in s.as_bytes() {
        if b < 0x20 || b == 0x7f {
            return true;
        }
    }
    false
}

/// 128 random bits for a client nonce: two draws, in the byte order of the default
/// `Rng::fill_bytes` (no chunk loop).
fn random_cnonce<R: Rng + ?Sized>(rng: &mut R) -> [u8; 16] {
    let first = rng.next_u64();
    (u128::from(rng.next_u64()) << 64 | u128::from(first)).to_le_bytes()
}

fn build<R: Rng + ?Sized>(
    st: &mut RealmState,
    username: &str,
    password: &str,
    rng: &mut R,
    method: &str,
    uri: &str,
    body: &[u8],
) -> String {
    let alg = st.algorithm;
    // A nonce used 2^32 - 1 times cannot be counted further; saturate (the server then
    // sees a repeated nc and challenges again).
    st.nc = st.nc.saturating_add(1);
    if st.first_nc == 0 {
        st.first_nc = st.nc;
    }
    // A fresh cnonce per request, but one per nonce for `-sess` (the session key depends
    // on it; `sess_cnonce` is only ever set for `-sess`).
    let cnonce = st.qop.map(|_| {
        let raw = st.sess_cnonce.unwrap_or_else(|| random_cnonce(rng));
        if alg.is_session() {
            st.sess_cnonce = Some(raw);
        }
        HexDigest::from_bytes(&raw)
    });
    let cn: &[u8] = match &cnonce {
        Some(c) => c.as_bytes(),
        None => &[],
    };
    // In the order of the `compute::IN_*` indices.
    let inputs = [
        username.as_bytes(),
        st.realm.as_bytes(),
        password.as_bytes(),
        st.nonce.as_bytes(),
        cn,
        method.as_bytes(),
        uri.as_bytes(),
        body,
    ];
    let digests = compute::answer(alg, inputs, st.nc, st.qop, st.userhash);
    let (response, userhash) = (
        &digests[compute::OUT_RESPONSE],
        &digests[compute::OUT_USERHASH],
    );
    let (user, form) = if st.userhash {
        (userhash.as_bytes(), UsernameForm::Plain)
    } else if has_ctl(username) {
        (username.as_bytes(), UsernameForm::Extended)
    } else {
        (username.as_bytes(), UsernameForm::Plain)
    };
    let value = CredentialFields {
        username: user,
        username_form: form,
        realm: &st.realm,
        nonce: &st.nonce,
        uri,
        response: response.as_bytes(),
        algorithm: st.algorithm_explicit.then_some(alg.as_str()),
        cnonce: cnonce.as_ref().map(HexDigest::as_bytes),
        opaque: st.opaque.as_deref(),
        qop: st.qop,
        nc: st.qop.map(|_| st.nc),
        userhash: st.userhash,
    }
    .write()
    .finish();
    if st.first.is_empty() {
        st.first = value.clone();
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rand::SplitMix64;

    const REALM: &str = "gw.example";

    fn ch(nonce: &str, stale: bool) -> String {
        let stale = if stale { ", stale=true" } else { "" };
        alloc::format!("Digest realm=\"{REALM}\", nonce=\"{nonce}\", qop=\"auth\"{stale}")
    }

    /// A client that answered a 401 for REALM (nonce `n1`) once: a REGISTER with nc=1.
    /// Returns it and the credentials that REGISTER carried.
    fn registered() -> (DigestClient, SplitMix64, Vec<Authorization>) {
        let mut rng = SplitMix64::new(7);
        let mut c = DigestClient::new("alice", "secret");
        c.handle_challenge(ChallengeKind::Www, [ch("n1", false).as_str()])
            .unwrap();
        let creds = c
            .authorize(&mut rng, "REGISTER", "sip:gw.example", b"")
            .unwrap();
        assert!(creds[0].value.contains("nc=00000001"));
        (c, rng, creds)
    }

    fn value(creds: &[Authorization], kind: ChallengeKind) -> Option<&str> {
        creds
            .iter()
            .find(|a| a.kind == kind)
            .map(|a| a.value.as_str())
    }

    #[test]
    fn cnonce_bits_are_those_fill_bytes_gives() {
        for seed in [0, 1, 0xdead_beef] {
            let (mut a, mut b) = (SplitMix64::new(seed), SplitMix64::new(seed));
            let mut want = [0u8; 16];
            a.fill_bytes(&mut want);
            assert_eq!(random_cnonce(&mut b), want);
            // And the generators are left in the same state.
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn usable_reads_a_challenge_as_challenge_parse_does() {
        // The client reads each parameter as it is lexed; what it keeps must be what the
        // public parser gives, and it must refuse what that parser refuses.
        let c = DigestClient::new("u", "p");
        let mut usable = 0;
        for v in [
            "Digest realm=\"r\", nonce=\"n\"",
            "digest REALM=r,NONCE=n , opaque=\"\", stale=TRUE, userhash=true",
            "Digest realm=\"a\\\"b\", nonce=\"x\r\n y\", algorithm=\"SHA-256\", qop=\"auth-int\"",
            "Digest realm=r, nonce=n, qop=\"auth,auth-int\", stale=\"tr\\ue\", username=u",
            "Digest realm=r, nonce=n, algorithm=MD5-sess, qop=auth",
            "Digest realm=r, nonce=n, domain=\"sip:a\", charset=UTF-8, x=\"y\",, ",
            "Digest realm=r, nonce=n, algorithm=MD5-sess",
            "Digest realm=r, nonce=n, algorithm=AKAv1-MD5",
            "Digest realm=r, nonce=n, qop=auth-conf",
            "Digest realm=r, nonce=n, domain=a, domain=b",
            "Digest realm=r, realm=s, nonce=n",
            "Digest realm=r",
            "Digest nonce=n",
            "Digest realm=r, nonce=n, bad",
            "Digest realm=\"r, nonce=n",
            "Basic realm=r, nonce=n",
        ] {
            let got = c.usable(ChallengeKind::Proxy, v);
            let want = super::super::Challenge::parse(v).ok().and_then(|ch| {
                let algorithm = ch.algorithm()?;
                let qop = match &ch.qop {
                    None => None,
                    Some(_) if ch.offers(Qop::Auth) => Some(Qop::Auth),
                    Some(_) if ch.offers(Qop::AuthInt) => Some(Qop::AuthInt),
                    Some(_) => return None,
                };
                if algorithm.is_session() && qop.is_none() {
                    return None;
                }
                Some((ch, algorithm, qop))
            });
            match (got, want) {
                (None, None) => {}
                (Some(st), Some((ch, algorithm, qop))) => {
                    assert_eq!(st.kind, ChallengeKind::Proxy);
                    assert_eq!(st.realm, ch.realm, "{v}");
                    assert_eq!(st.nonce, ch.nonce, "{v}");
                    assert_eq!(st.opaque.as_deref(), ch.opaque.as_deref(), "{v}");
                    assert_eq!(st.algorithm, algorithm, "{v}");
                    assert_eq!(st.algorithm_explicit, ch.algorithm.is_some(), "{v}");
                    assert_eq!(st.qop, qop, "{v}");
                    assert_eq!(st.userhash, ch.userhash, "{v}");
                    assert_eq!(st.from_stale, ch.stale, "{v}");
                    assert_eq!((st.nc, st.first_nc, st.first.as_str()), (0, 0, ""));
                    usable += 1;
                }
                (got, want) => panic!("{v}: client {:?}, parser {:?}", got.is_some(), want),
            }
        }
        // The first six values are usable, the others not.
        assert_eq!(usable, 6);
    }

    #[test]
    fn proxy_challenge_for_a_realm_used_with_www_is_not_a_rejection() {
        // The reported bug: REGISTER answered 401 (nc=1), then a 407 for the same realm.
        let (mut c, mut rng, _) = registered();
        c.handle_challenge(ChallengeKind::Proxy, [ch("n2", false).as_str()])
            .unwrap();
        let creds = c
            .authorize(&mut rng, "INVITE", "sip:bob@gw.example", b"")
            .unwrap();
        let proxy = value(&creds, ChallengeKind::Proxy).unwrap();
        assert!(proxy.contains("nonce=\"n2\"") && proxy.contains("nc=00000001"));
        // The WWW state is kept, not overwritten: its nonce continues at nc=2.
        let www = value(&creds, ChallengeKind::Www).unwrap();
        assert!(www.contains("nonce=\"n1\"") && www.contains("nc=00000002"));
    }

    #[test]
    fn a_nonce_repeated_by_another_header_kind_continues_its_count() {
        // REGISTER used n1 (nc=1); the INVITE's 407 repeats n1: one count per nonce, so
        // the INVITE's two credentials use nc=2 and nc=3, never a second nc=1.
        let (mut c, mut rng, _) = registered();
        c.handle_challenge_to(ChallengeKind::Proxy, [ch("n1", false).as_str()], [])
            .unwrap();
        let creds = c
            .authorize(&mut rng, "INVITE", "sip:bob@gw.example", b"")
            .unwrap();
        let www = value(&creds, ChallengeKind::Www).unwrap();
        let proxy = value(&creds, ChallengeKind::Proxy).unwrap();
        assert!(www.contains("nc=00000002"), "{www}");
        assert!(proxy.contains("nc=00000003"), "{proxy}");
        // Those credentials refused with a new 407: the proxy state's first answer (nc=3)
        // was refused, a wrong password.
        assert_eq!(
            c.handle_challenge_to(ChallengeKind::Proxy, [ch("n2", false).as_str()], [proxy]),
            Err(ClientError::Rejected {
                realm: REALM.into()
            })
        );
        // The same 401 nonce repeated to a request sent without credentials: nc goes on.
        let (mut c, mut rng, _) = registered();
        c.handle_challenge_to(ChallengeKind::Www, [ch("n1", false).as_str()], [])
            .unwrap();
        let creds = c
            .authorize(&mut rng, "INVITE", "sip:bob@gw.example", b"")
            .unwrap();
        assert_eq!(creds.len(), 1);
        assert!(creds[0].value.contains("nc=00000002"), "{}", creds[0].value);
    }

    #[test]
    fn challenge_to_a_request_without_credentials_takes_the_new_nonce() {
        // INVITE sent without credentials after REGISTER used n1 once; 401 with n2.
        let (mut c, mut rng, _) = registered();
        c.handle_challenge_to(ChallengeKind::Www, [ch("n2", false).as_str()], [])
            .unwrap();
        let creds = c
            .authorize(&mut rng, "INVITE", "sip:bob@gw.example", b"")
            .unwrap();
        assert_eq!(creds.len(), 1);
        assert!(creds[0].value.contains("nonce=\"n2\""));
        assert!(creds[0].value.contains("nc=00000001"));
    }

    #[test]
    fn challenge_to_the_first_use_of_the_nonce_is_a_rejection() {
        let (mut c, _, creds) = registered();
        let sent = creds.iter().map(|a| a.value.as_str());
        assert_eq!(
            c.handle_challenge_to(ChallengeKind::Www, [ch("n2", false).as_str()], sent),
            Err(ClientError::Rejected {
                realm: REALM.into()
            })
        );
        // The legacy form judges the same way.
        let (mut c, _, _) = registered();
        assert_eq!(
            c.handle_challenge(ChallengeKind::Www, [ch("n2", false).as_str()]),
            Err(ClientError::Rejected {
                realm: REALM.into()
            })
        );
    }

    #[test]
    fn rejection_is_judged_on_what_the_challenged_request_carried() {
        // A REGISTER used n1 (nc=1), then an INVITE reused it (nc=2); the INVITE is
        // challenged: not a first use, so not a rejection, even though it came last.
        let (mut c, mut rng, _) = registered();
        let invite = c
            .authorize(&mut rng, "INVITE", "sip:bob@gw.example", b"")
            .unwrap();
        let sent = invite.iter().map(|a| a.value.as_str());
        c.handle_challenge_to(ChallengeKind::Www, [ch("n2", false).as_str()], sent)
            .unwrap();
        // Credentials for an older nonce are no judgement of the current one either.
        let old = invite[0].value.clone();
        let (mut c, _, _) = registered();
        c.handle_challenge(ChallengeKind::Www, [ch("n3", true).as_str()])
            .unwrap();
        c.handle_challenge_to(
            ChallengeKind::Www,
            [ch("n4", false).as_str()],
            [old.as_str()],
        )
        .unwrap();
        // A Proxy-Authorization does not answer a 401's realm: the kinds are separate.
        let (mut c, mut rng, _) = registered();
        c.handle_challenge(ChallengeKind::Proxy, [ch("p1", false).as_str()])
            .unwrap();
        let both = c
            .authorize(&mut rng, "INVITE", "sip:bob@gw.example", b"")
            .unwrap();
        let proxy_only = value(&both, ChallengeKind::Proxy).unwrap();
        c.handle_challenge_to(ChallengeKind::Www, [ch("n5", false).as_str()], [proxy_only])
            .unwrap();
    }

    #[test]
    fn without_qop_only_the_first_answer_to_a_nonce_is_judged() {
        // RFC 2069 mode (no qop, no nc): a re-REGISTER repeats the first answer byte for
        // byte, but answers a nonce the server already accepted once.
        let first = || {
            let mut rng = SplitMix64::new(3);
            let mut c = DigestClient::new("alice", "secret");
            c.handle_challenge(ChallengeKind::Www, ["Digest realm=\"r\", nonce=\"n\""])
                .unwrap();
            let a = c.authorize(&mut rng, "REGISTER", "sip:r", b"").unwrap();
            (c, rng, a[0].value.clone())
        };
        let next = ["Digest realm=\"r\", nonce=\"m\""];
        let (mut c, _, v1) = first();
        assert_eq!(
            c.handle_challenge_to(ChallengeKind::Www, next, [v1.as_str()]),
            Err(ClientError::Rejected { realm: "r".into() })
        );
        let (mut c, mut rng, v1) = first();
        let v2 = c.authorize(&mut rng, "REGISTER", "sip:r", b"").unwrap();
        assert_eq!(v2[0].value, v1);
        c.handle_challenge_to(ChallengeKind::Www, next, [v1.as_str()])
            .unwrap();
        // A value that names our realm and nonce but is not ours judges nothing.
        let (mut c, _, v1) = first();
        let forged = v1.replace("response=\"", "response=\"0");
        c.handle_challenge_to(ChallengeKind::Www, next, [forged.as_str()])
            .unwrap();
    }

    #[test]
    fn stale_loop_is_judged_on_what_the_challenged_request_carried() {
        let (mut c, mut rng, _) = registered();
        c.handle_challenge(ChallengeKind::Www, [ch("s1", true).as_str()])
            .unwrap();
        let creds = c
            .authorize(&mut rng, "REGISTER", "sip:gw.example", b"")
            .unwrap();
        // A request without credentials challenged stale: just a new nonce.
        let mut d = c.clone();
        d.handle_challenge_to(ChallengeKind::Www, [ch("s2", true).as_str()], [])
            .unwrap();
        // The first use of the stale-given nonce declared stale again: a loop.
        let sent = creds.iter().map(|a| a.value.as_str());
        assert_eq!(
            c.handle_challenge_to(ChallengeKind::Www, [ch("s2", true).as_str()], sent),
            Err(ClientError::StaleLoop {
                realm: REALM.into()
            })
        );
    }
}
