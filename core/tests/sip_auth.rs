//! Digest authentication: RFC vectors, client/server round trips, nonce-count, stale,
//! expiry, replay and failure handling (`rvoip_core::sip::auth`).

use rvoip_core::rand::SplitMix64;
use rvoip_core::sip::auth::compute::{self, QopInputs};
use rvoip_core::sip::auth::{
    Algorithm, Authorization, Challenge, ChallengeKind, ClientError, CredentialStore, Credentials,
    DigestClient, DigestRequest, DigestServer, Ha1Store, Qop, ServerConfig, UserSecret,
    UsernameForm, Verification,
};
use rvoip_core::time::{Duration, Instant};

/// A store holding clear-text passwords (to check both store kinds).
struct Passwords(&'static [(&'static str, &'static str, &'static str)]);

impl CredentialStore for Passwords {
    fn secret(&self, realm: &str, username: &str, _: Algorithm) -> Option<UserSecret<'_>> {
        self.0
            .iter()
            .find(|(r, u, _)| *r == realm && *u == username)
            .map(|(_, _, p)| UserSecret::Password(p))
    }
}

fn get(uri: &str) -> DigestRequest<'_> {
    DigestRequest {
        method: "GET",
        uri: Some(uri),
        body: b"",
    }
}

// ---------------------------------------------------------------------------------------
// RFC vectors
// ---------------------------------------------------------------------------------------

/// RFC 7616 §3.9.1, the challenge as printed (folded over lines).
const RFC7616_CHALLENGE: &str = "Digest\r\n    realm=\"http-auth@example.org\",\r\n    qop=\"auth, auth-int\",\r\n    algorithm=SHA-256,\r\n    nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n    opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";

const RFC7616_NONCE: &str = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
const RFC7616_CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

#[test]
fn rfc7616_3_9_1_challenge_parses() {
    let c = Challenge::parse(RFC7616_CHALLENGE).unwrap();
    assert_eq!(c.realm, "http-auth@example.org");
    assert_eq!(c.nonce, RFC7616_NONCE);
    assert_eq!(
        c.opaque.as_deref(),
        Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")
    );
    assert_eq!(c.algorithm(), Some(Algorithm::Sha256));
    assert!(c.offers(Qop::Auth));
    assert!(c.offers(Qop::AuthInt));
    assert!(!c.stale);
}

fn rfc7616_response(alg: Algorithm) -> String {
    let a1 = compute::ha1(alg, "Mufasa", "http-auth@example.org", "Circle of Life");
    let a2 = compute::ha2(alg, "GET", "/dir/index.html", Some(Qop::Auth), b"");
    let q = QopInputs {
        nc: 1,
        cnonce: RFC7616_CNONCE,
        qop: Qop::Auth,
    };
    compute::response(alg, &a1, RFC7616_NONCE, Some(q), &a2)
        .as_str()
        .to_owned()
}

#[test]
fn rfc7616_3_9_1_sha256_and_md5_responses() {
    assert_eq!(
        rfc7616_response(Algorithm::Sha256),
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    );
    assert_eq!(
        rfc7616_response(Algorithm::Md5),
        "8ca523f5e9506fed4657c9700eebdbec"
    );
}

fn rfc7616_credentials(alg: &str, response: &str) -> String {
    format!(
        "Digest username=\"Mufasa\",\r\n    realm=\"http-auth@example.org\",\r\n    \
         uri=\"/dir/index.html\",\r\n    algorithm={alg},\r\n    nonce=\"{RFC7616_NONCE}\",\r\n    \
         nc=00000001,\r\n    cnonce=\"{RFC7616_CNONCE}\",\r\n    qop=auth,\r\n    \
         response=\"{response}\",\r\n    opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
    )
}

#[test]
fn rfc7616_3_9_1_credentials_verify_on_a_server() {
    // The RFC's nonce is not one of ours, so a right digest is `Stale` (retry with our
    // nonce) and a wrong one `BadResponse`: this distinguishes the two.
    let mut rng = SplitMix64::new(1);
    let mut cfg = ServerConfig::new("http-auth@example.org");
    cfg.algorithms = vec![Algorithm::Sha256, Algorithm::Md5];
    let mut server = DigestServer::new(cfg, &mut rng);
    let good = Passwords(&[("http-auth@example.org", "Mufasa", "Circle of Life")]);
    let bad = Passwords(&[("http-auth@example.org", "Mufasa", "Circle Of Life")]);
    for (alg, resp) in [
        (
            "SHA-256",
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
        ),
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
    ] {
        let v = rfc7616_credentials(alg, resp);
        let c = Credentials::parse(&v).unwrap();
        assert_eq!(c.nc, Some(1));
        assert_eq!(c.qop, Some(Qop::Auth));
        let now = Instant::from_millis(5);
        let req = get("/dir/index.html");
        assert_eq!(server.verify(now, &req, &v, &good), Verification::Stale);
        assert_eq!(
            server.verify(now, &req, &v, &bad),
            Verification::BadResponse
        );
    }
}

#[test]
fn rfc2617_3_5_mufasa() {
    let v = "Digest username=\"Mufasa\",\n                 realm=\"testrealm@host.com\",\n                 nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\n                 uri=\"/dir/index.html\",\n                 qop=auth,\n                 nc=00000001,\n                 cnonce=\"0a4f113b\",\n                 response=\"6629fae49393a05397450978507c4ef1\",\n                 opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
    let c = Credentials::parse(v).unwrap();
    assert_eq!(c.response, "6629fae49393a05397450978507c4ef1");
    let mut rng = SplitMix64::new(2);
    let mut cfg = ServerConfig::new("testrealm@host.com");
    cfg.algorithms = vec![Algorithm::Md5];
    let mut server = DigestServer::new(cfg, &mut rng);
    let store = Passwords(&[("testrealm@host.com", "Mufasa", "Circle Of Life")]);
    assert_eq!(
        server.verify(Instant::ZERO, &get("/dir/index.html"), v, &store),
        Verification::Stale
    );
    let wrong = Passwords(&[("testrealm@host.com", "Mufasa", "Circle of Life")]);
    assert_eq!(
        server.verify(Instant::ZERO, &get("/dir/index.html"), v, &wrong),
        Verification::BadResponse
    );
}

/// RFC 7616 §3.9.2 with the corrected values of erratum 4897 (the RFC's own username and
/// response were computed with a draft SHA-512/256; these are of the FIPS 180-4 function).
#[test]
fn rfc7616_3_9_2_sha512_256_userhash() {
    let challenge = "Digest\n       realm=\"api@example.org\",\n       qop=\"auth\",\n       algorithm=SHA-512-256,\n       nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\",\n       opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\",\n       charset=UTF-8,\n       userhash=true";
    let c = Challenge::parse(challenge).unwrap();
    assert!(c.userhash);
    assert_eq!(c.charset.as_deref(), Some("UTF-8"));
    assert_eq!(c.algorithm(), Some(Algorithm::Sha512_256));
    let user = "J\u{e4}s\u{f8}n Doe";
    let alg = Algorithm::Sha512_256;
    assert_eq!(
        compute::userhash(alg, user, "api@example.org").as_str(),
        "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b"
    );
    let a1 = compute::ha1(alg, user, "api@example.org", "Secret, or not?");
    let a2 = compute::ha2(alg, "GET", "/doe.json", Some(Qop::Auth), b"");
    let q = QopInputs {
        nc: 1,
        cnonce: "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
        qop: Qop::Auth,
    };
    let r = compute::response(alg, &a1, &c.nonce, Some(q), &a2);
    assert_eq!(
        r.as_str(),
        "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5"
    );

    // The same credentials with the userhash and with username* both verify (as stale:
    // the nonce is the RFC's) against an HA1 store resolving the userhash.
    let mut store = Ha1Store::new();
    store.insert_password("api@example.org", user, "Secret, or not?");
    let mut rng = SplitMix64::new(3);
    let mut cfg = ServerConfig::new("api@example.org");
    cfg.algorithms = vec![Algorithm::Sha512_256];
    cfg.opaque = Some("HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS".into());
    let mut server = DigestServer::new(cfg, &mut rng);
    let tail = "realm=\"api@example.org\", uri=\"/doe.json\", algorithm=SHA-512-256, \
                nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", nc=00000001, \
                cnonce=\"NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v\", qop=auth, \
                response=\"3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5\", \
                opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\"";
    let hashed = format!(
        "Digest username=\"793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b\", {tail}, userhash=true"
    );
    let star = format!("Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, {tail}");
    let sc = Credentials::parse(&star).unwrap();
    assert_eq!(sc.username, user);
    assert_eq!(sc.username_form, UsernameForm::Extended);
    let req = get("/doe.json");
    assert_eq!(
        server.verify(Instant::ZERO, &req, &hashed, &store),
        Verification::Stale
    );
    assert_eq!(
        server.verify(Instant::ZERO, &req, &star, &store),
        Verification::Stale
    );
    // The RFC's original (draft-hash) userhash is not resolvable.
    let rfc_orig = hashed.replace(
        "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b",
        "488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec",
    );
    assert_eq!(
        server.verify(Instant::ZERO, &req, &rfc_orig, &store),
        Verification::UnknownUser
    );
}

/// SIP vectors: draft-smith-sipping-auth-examples-01 (bob / zanzibar @ biloxi.com, INVITE
/// sip:bob@biloxi.com) for MD5 with and without qop, auth-int (the draft gives H(body)) and
/// MD5-sess; the SHA-2 `-sess` ones were computed independently with Python's hashlib.
#[test]
fn sip_digest_vectors() {
    const N: &str = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
    const C: &str = "0a4f113b";
    const URI: &str = "sip:bob@biloxi.com";
    let body: &[u8] = b"v=0\r\no=bob 2890844526 2890844526 IN IP4 media.biloxi.com\r\n";
    let md5 = Algorithm::Md5;
    let ha1 = compute::ha1(md5, "bob", "biloxi.com", "zanzibar");
    assert_eq!(ha1.as_str(), "12af60467a33e8518da5c68bbff12b11");
    let ha2 = compute::ha2(md5, "INVITE", URI, None, b"");
    assert_eq!(
        compute::response(md5, &ha1, N, None, &ha2).as_str(),
        "bf57e4e0d0bffc0fbaedce64d59add5e"
    );
    let q = |nc, qop| Some(QopInputs { nc, cnonce: C, qop });
    assert_eq!(
        compute::response(md5, &ha1, N, q(1, Qop::Auth), &ha2).as_str(),
        "89eb0059246c02b2f6ee02c7961d5ea3"
    );
    let ha2_int = compute::h_joined(
        md5,
        &[
            b"INVITE",
            URI.as_bytes(),
            b"c1ed018b8ec4a3b170c0921f5b564e48",
        ],
    );
    assert_eq!(
        compute::response(md5, &ha1, N, q(1, Qop::AuthInt), &ha2_int).as_str(),
        "bdbeebb2da6adb6bca02599c2239e192"
    );
    let sess = compute::session_ha1(Algorithm::Md5Sess, &ha1, N, C);
    assert_eq!(
        compute::response(Algorithm::Md5Sess, &sess, N, q(1, Qop::Auth), &ha2).as_str(),
        "e4e4ea61d186d07a92c9e1f6919902e9"
    );

    let alg = Algorithm::Sha256Sess;
    let base = compute::ha1(alg, "bob", "biloxi.com", "zanzibar");
    let sess = compute::session_ha1(alg, &base, N, C);
    let ha2 = compute::ha2(alg, "INVITE", URI, Some(Qop::AuthInt), body);
    assert_eq!(
        compute::response(alg, &sess, N, q(2, Qop::AuthInt), &ha2).as_str(),
        "385894782db0e034cda46c797127a417bb80ab4be55628ec0a33badf70ffc422"
    );
    let alg = Algorithm::Sha512_256Sess;
    let base = compute::ha1(alg, "bob", "biloxi.com", "zanzibar");
    let sess = compute::session_ha1(alg, &base, N, C);
    let ha2 = compute::ha2(alg, "INVITE", URI, Some(Qop::Auth), body);
    assert_eq!(
        compute::response(alg, &sess, N, q(10, Qop::Auth), &ha2).as_str(),
        "5c0c917e253d4a780e6d74d73289871f2f438a8e4c4282dd44c3c08912c59022"
    );
}

// ---------------------------------------------------------------------------------------
// Client/server round trips
// ---------------------------------------------------------------------------------------

struct Setup {
    rng: SplitMix64,
    server: DigestServer,
    store: Ha1Store,
}

fn setup(realm: &str, algs: &[Algorithm], qop: &[Qop], lifetime_s: u64) -> Setup {
    let mut rng = SplitMix64::new(42);
    let mut cfg = ServerConfig::new(realm);
    cfg.algorithms = algs.to_vec();
    cfg.qop = qop.to_vec();
    cfg.nonce_lifetime = Duration::from_secs(lifetime_s);
    let server = DigestServer::new(cfg, &mut rng);
    let mut store = Ha1Store::new();
    store.insert_password(realm, "alice", "wonderland");
    Setup { rng, server, store }
}

fn register<'a>(uri: &'a str, body: &'a [u8]) -> DigestRequest<'a> {
    DigestRequest {
        method: "REGISTER",
        uri: Some(uri),
        body,
    }
}

fn answer(
    s: &mut Setup,
    client: &mut DigestClient,
    now: Instant,
    stale: bool,
) -> Result<(), ClientError> {
    let ch = s.server.challenge_values(now, &mut s.rng, stale);
    client.handle_challenge(ChallengeKind::Www, ch.iter().map(String::as_str))
}

fn auth(s: &mut Setup, client: &mut DigestClient, uri: &str, body: &[u8]) -> Authorization {
    let mut v = client.authorize(&mut s.rng, "REGISTER", uri, body).unwrap();
    assert_eq!(v.len(), 1);
    v.remove(0)
}

#[test]
fn round_trip_every_algorithm_and_qop() {
    let body: &[u8] = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n";
    for alg in Algorithm::ALL {
        for qop in [None, Some(Qop::Auth), Some(Qop::AuthInt)] {
            let qops: Vec<Qop> = qop.into_iter().collect();
            let mut s = setup("example.com", &[alg], &qops, 300);
            let mut client = DigestClient::new("alice", "wonderland");
            let t0 = Instant::from_millis(1_000);
            let r = answer(&mut s, &mut client, t0, false);
            if alg.is_session() && qop.is_none() {
                // -sess needs a cnonce: not answerable in RFC 2069 mode.
                assert_eq!(r, Err(ClientError::NoUsableChallenge), "{alg} {qop:?}");
                continue;
            }
            r.unwrap();
            let a = auth(&mut s, &mut client, "sip:example.com", body);
            let c = Credentials::parse(&a.value).unwrap();
            assert_eq!(c.algorithm(), Some(alg));
            assert_eq!(c.qop, qop);
            assert_eq!(c.response.len(), alg.hex_len());
            let req = DigestRequest {
                method: "REGISTER",
                uri: Some("sip:example.com"),
                body,
            };
            let v = s.server.verify(t0, &req, &a.value, &s.store);
            match v {
                Verification::Ok(ok) => {
                    assert_eq!(ok.username, "alice");
                    assert_eq!(ok.algorithm, alg);
                    assert_eq!(ok.qop, qop);
                }
                other => panic!("{alg} {qop:?}: {other:?}"),
            }
            // A changed method fails the digest.
            let req2 = DigestRequest {
                method: "INVITE",
                ..req
            };
            let a2 = auth(&mut s, &mut client, "sip:example.com", body);
            assert_eq!(
                s.server.verify(t0, &req2, &a2.value, &s.store),
                Verification::BadResponse,
                "{alg} {qop:?}"
            );
            // The next request reuses the nonce (nc 3; for -sess the same cnonce).
            let a3 = auth(&mut s, &mut client, "sip:example.com", body);
            let c3 = Credentials::parse(&a3.value).unwrap();
            let v3 = s.server.verify(t0, &req, &a3.value, &s.store);
            if qop.is_some() {
                assert_eq!(c3.nc, Some(3));
                if alg.is_session() {
                    assert_eq!(c3.cnonce, c.cnonce);
                } else {
                    assert_ne!(c3.cnonce, c.cnonce);
                }
                assert!(v3.is_ok(), "{alg} {qop:?}: {v3:?}");
            } else {
                // RFC 2069 mode: single-use nonces.
                assert_eq!(v3, Verification::Stale, "{alg}");
            }
        }
    }
}

#[test]
fn auth_int_protects_the_body() {
    let mut s = setup("example.com", &[Algorithm::Sha256], &[Qop::AuthInt], 300);
    let mut client = DigestClient::new("alice", "wonderland");
    answer(&mut s, &mut client, Instant::ZERO, false).unwrap();
    let a = auth(&mut s, &mut client, "sip:example.com", b"original body");
    assert!(a.value.contains("qop=auth-int"));
    assert_eq!(
        s.server.verify(
            Instant::ZERO,
            &register("sip:example.com", b"tampered body"),
            &a.value,
            &s.store
        ),
        Verification::BadResponse
    );
    assert!(
        s.server
            .verify(
                Instant::ZERO,
                &register("sip:example.com", b"original body"),
                &a.value,
                &s.store
            )
            .is_ok()
    );
}

#[test]
fn nonce_count_increments_and_replays_are_rejected() {
    let mut s = setup("example.com", &[Algorithm::Sha256], &[Qop::Auth], 3600);
    let mut client = DigestClient::new("alice", "wonderland");
    answer(&mut s, &mut client, Instant::ZERO, false).unwrap();
    let mut sent = Vec::new();
    for i in 1..=3u32 {
        let a = auth(&mut s, &mut client, "sip:example.com", b"");
        let c = Credentials::parse(&a.value).unwrap();
        assert_eq!(c.nc, Some(i));
        assert!(a.value.contains(&format!("nc={i:08x}")));
        let now = Instant::from_millis(u64::from(i) * 1000);
        let v = s
            .server
            .verify(now, &register("sip:example.com", b""), &a.value, &s.store);
        assert!(v.is_ok(), "{v:?}");
        sent.push(a.value);
    }
    assert_eq!(client.nonce_count("example.com"), Some(3));
    for v in &sent {
        assert_eq!(
            s.server.verify(
                Instant::from_millis(5000),
                &register("sip:example.com", b""),
                v,
                &s.store
            ),
            Verification::Replayed
        );
    }
}

#[test]
fn out_of_order_nonce_counts_within_the_window_are_accepted_once() {
    let mut s = setup("example.com", &[Algorithm::Md5], &[Qop::Auth], 3600);
    let mut client = DigestClient::new("alice", "wonderland");
    answer(&mut s, &mut client, Instant::ZERO, false).unwrap();
    let a: Vec<String> = (0..70)
        .map(|_| auth(&mut s, &mut client, "sip:example.com", b"").value)
        .collect();
    let req = register("sip:example.com", b"");
    let t = Instant::from_millis(1);
    // nc 3 first, then 2 and 1 (reordered), then 2 again.
    assert!(s.server.verify(t, &req, &a[2], &s.store).is_ok());
    assert!(s.server.verify(t, &req, &a[1], &s.store).is_ok());
    assert!(s.server.verify(t, &req, &a[0], &s.store).is_ok());
    assert_eq!(
        s.server.verify(t, &req, &a[1], &s.store),
        Verification::Replayed
    );
    // nc 70 moves the window past nc 4..6, which are then refused as too old.
    assert!(s.server.verify(t, &req, &a[69], &s.store).is_ok());
    assert_eq!(
        s.server.verify(t, &req, &a[3], &s.store),
        Verification::Replayed
    );
    assert!(s.server.verify(t, &req, &a[60], &s.store).is_ok());
}

#[test]
fn expired_nonce_is_stale_and_the_client_retries_without_the_user() {
    let mut s = setup("example.com", &[Algorithm::Sha256], &[Qop::Auth], 60);
    let mut client = DigestClient::new("alice", "wonderland");
    answer(&mut s, &mut client, Instant::ZERO, false).unwrap();
    let req = register("sip:example.com", b"");
    let a = auth(&mut s, &mut client, "sip:example.com", b"");
    assert!(
        s.server
            .verify(Instant::from_millis(59_000), &req, &a.value, &s.store)
            .is_ok()
    );
    // A re-REGISTER after the lifetime: the same nonce with nc=2 is stale.
    let a = auth(&mut s, &mut client, "sip:example.com", b"");
    assert!(a.value.contains("nc=00000002"));
    let t = Instant::from_millis(61_000);
    let v = s.server.verify(t, &req, &a.value, &s.store);
    assert_eq!(v, Verification::Stale);
    assert_eq!(v.challenge_stale(), Some(true));
    let ch = s.server.challenge_values(t, &mut s.rng, true);
    assert!(ch[0].contains("stale=true"));
    client
        .handle_challenge(ChallengeKind::Www, ch.iter().map(String::as_str))
        .unwrap();
    let a = auth(&mut s, &mut client, "sip:example.com", b"");
    assert!(a.value.contains("nc=00000001"));
    assert!(s.server.verify(t, &req, &a.value, &s.store).is_ok());
}

#[test]
fn first_use_after_a_long_delay_may_be_stale_once() {
    let mut s = setup("example.com", &[Algorithm::Sha256], &[Qop::Auth], 60);
    let mut client = DigestClient::new("alice", "wonderland");
    answer(&mut s, &mut client, Instant::ZERO, false).unwrap();
    let req = register("sip:example.com", b"");
    // The user took two minutes to type the password.
    let t = Instant::from_millis(120_000);
    let a = auth(&mut s, &mut client, "sip:example.com", b"");
    assert_eq!(
        s.server.verify(t, &req, &a.value, &s.store),
        Verification::Stale
    );
    answer(&mut s, &mut client, t, true).unwrap();
    let a = auth(&mut s, &mut client, "sip:example.com", b"");
    assert!(s.server.verify(t, &req, &a.value, &s.store).is_ok());
}

#[test]
fn endless_stale_is_reported_not_looped() {
    let mut s = setup("example.com", &[Algorithm::Sha256], &[Qop::Auth], 60);
    let mut client = DigestClient::new("alice", "wonderland");
    answer(&mut s, &mut client, Instant::ZERO, false).unwrap();
    auth(&mut s, &mut client, "sip:example.com", b"");
    answer(&mut s, &mut client, Instant::ZERO, true).unwrap();
    auth(&mut s, &mut client, "sip:example.com", b"");
    // The nonce from the stale challenge was declared stale at its first use.
    assert_eq!(
        answer(&mut s, &mut client, Instant::ZERO, true),
        Err(ClientError::StaleLoop {
            realm: "example.com".into()
        })
    );
}

#[test]
fn wrong_password_is_reported_not_looped() {
    let mut s = setup("example.com", &[Algorithm::Sha256], &[Qop::Auth], 300);
    let mut client = DigestClient::new("alice", "looking-glass");
    answer(&mut s, &mut client, Instant::ZERO, false).unwrap();
    let a = auth(&mut s, &mut client, "sip:example.com", b"");
    let v = s.server.verify(
        Instant::ZERO,
        &register("sip:example.com", b""),
        &a.value,
        &s.store,
    );
    assert_eq!(v, Verification::BadResponse);
    assert_eq!(v.challenge_stale(), Some(false));
    assert_eq!(
        answer(&mut s, &mut client, Instant::ZERO, false),
        Err(ClientError::Rejected {
            realm: "example.com".into()
        })
    );
    // With the right password the exchange then succeeds.
    client.set_password("wonderland");
    answer(&mut s, &mut client, Instant::ZERO, false).unwrap();
    let a = auth(&mut s, &mut client, "sip:example.com", b"");
    assert!(
        s.server
            .verify(
                Instant::ZERO,
                &register("sip:example.com", b""),
                &a.value,
                &s.store
            )
            .is_ok()
    );
}

#[test]
fn a_reused_nonce_forgotten_by_the_server_is_renewed() {
    // nc ≥ 2 answered by a non-stale challenge (a server that forgot the nonce) is not a
    // wrong password: the client takes the new nonce.
    let mut s = setup("example.com", &[Algorithm::Sha256], &[Qop::Auth], 300);
    let mut client = DigestClient::new("alice", "wonderland");
    answer(&mut s, &mut client, Instant::ZERO, false).unwrap();
    auth(&mut s, &mut client, "sip:example.com", b"");
    auth(&mut s, &mut client, "sip:example.com", b"");
    answer(&mut s, &mut client, Instant::ZERO, false).unwrap();
    let a = auth(&mut s, &mut client, "sip:example.com", b"");
    assert!(a.value.contains("nc=00000001"));
}

#[test]
fn strongest_algorithm_is_chosen_and_unknown_ones_skipped() {
    let n = "nonce=\"abc\", qop=\"auth\"";
    let md5 = format!("Digest realm=\"r\", {n}");
    let s256 = format!("Digest realm=\"r\", algorithm=SHA-256, {n}");
    let s512 = format!("Digest realm=\"r\", algorithm=SHA-512-256, {n}");
    let aka = format!("Digest realm=\"r\", algorithm=AKAv1-MD5, {n}");
    let basic = "Basic realm=\"r\"";
    let orders: [Vec<&str>; 3] = [
        vec![&md5, &s256, &s512],
        vec![&s512, &md5, &s256],
        vec![basic, &aka, &s256, &md5, &s512],
    ];
    let mut rng = SplitMix64::new(9);
    for vals in orders {
        let mut c = DigestClient::new("u", "p");
        c.handle_challenge(ChallengeKind::Www, vals.iter().copied())
            .unwrap();
        let a = c.authorize(&mut rng, "REGISTER", "sip:r", b"").unwrap();
        assert_eq!(a.len(), 1);
        let cr = Credentials::parse(&a[0].value).unwrap();
        assert_eq!(cr.algorithm(), Some(Algorithm::Sha512_256));
    }
    let mut c = DigestClient::new("u", "p");
    c.handle_challenge(ChallengeKind::Www, [&s256[..], &md5[..]])
        .unwrap();
    let a = c.authorize(&mut rng, "REGISTER", "sip:r", b"").unwrap();
    assert!(a[0].value.contains("algorithm=SHA-256"));
    let mut c = DigestClient::new("u", "p");
    assert_eq!(
        c.handle_challenge(ChallengeKind::Www, [&aka[..], basic]),
        Err(ClientError::NoUsableChallenge)
    );
    assert_eq!(
        c.authorize(&mut rng, "REGISTER", "sip:r", b""),
        Err(ClientError::NoChallenge)
    );
}

#[test]
fn qop_preference() {
    let mut rng = SplitMix64::new(10);
    let cases = [
        ("auth,auth-int", false, Some(Qop::Auth)),
        ("auth-int, auth", false, Some(Qop::Auth)),
        ("auth-int", false, Some(Qop::AuthInt)),
        ("auth,auth-int", true, Some(Qop::AuthInt)),
        ("auth", true, Some(Qop::Auth)),
        ("auth, x-future", false, Some(Qop::Auth)),
    ];
    for (offer, int, want) in cases {
        let ch = format!("Digest realm=\"r\", nonce=\"n\", qop=\"{offer}\"");
        let mut c = DigestClient::new("u", "p").with_auth_int(int);
        c.handle_challenge(ChallengeKind::Www, [ch.as_str()])
            .unwrap();
        let a = c.authorize(&mut rng, "MESSAGE", "sip:b@r", b"hi").unwrap();
        let cr = Credentials::parse(&a[0].value).unwrap();
        assert_eq!(cr.qop, want, "{offer} {int}");
    }
    // No qop: RFC 2069 mode, no cnonce or nc.
    let mut c = DigestClient::new("u", "p");
    c.handle_challenge(ChallengeKind::Www, ["Digest realm=\"r\", nonce=\"n\""])
        .unwrap();
    let a = c.authorize(&mut rng, "MESSAGE", "sip:b@r", b"").unwrap();
    let cr = Credentials::parse(&a[0].value).unwrap();
    assert_eq!((cr.qop, cr.nc, cr.cnonce), (None, None, None));
    // Only unknown qop: unusable.
    let mut c = DigestClient::new("u", "p");
    assert_eq!(
        c.handle_challenge(
            ChallengeKind::Www,
            ["Digest realm=\"r\", nonce=\"n\", qop=\"x-future\""]
        ),
        Err(ClientError::NoUsableChallenge)
    );
}

#[test]
fn proxy_challenges_are_answered_with_proxy_authorization_per_realm() {
    let mut rng = SplitMix64::new(11);
    let kind = ChallengeKind::from_status(407).unwrap();
    let mut c = DigestClient::new("u", "p");
    c.handle_challenge(
        kind,
        [
            "Digest realm=\"proxy1\", nonce=\"a\", qop=\"auth\"",
            "Digest realm=\"proxy2\", nonce=\"b\", qop=\"auth\", opaque=\"xyz\"",
        ],
    )
    .unwrap();
    let a = c.authorize(&mut rng, "INVITE", "sip:bob@x", b"").unwrap();
    assert_eq!(a.len(), 2);
    assert!(a.iter().all(|x| x.header_name() == "Proxy-Authorization"));
    let realms: Vec<&str> = a.iter().map(|x| x.realm.as_str()).collect();
    assert_eq!(realms, ["proxy1", "proxy2"]);
    let c2 = Credentials::parse(&a[1].value).unwrap();
    assert_eq!(c2.opaque.as_deref(), Some("xyz"));
    c.forget_realm("proxy1");
    let a = c.authorize(&mut rng, "BYE", "sip:bob@x", b"").unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].realm, "proxy2");
    assert_eq!(c.nonce_count("proxy2"), Some(2));
    assert_eq!(c.nonce_count("proxy1"), None);
}

#[test]
fn userhash_round_trip_with_ha1_store() {
    let mut rng = SplitMix64::new(12);
    let mut cfg = ServerConfig::new("example.com");
    cfg.algorithms = vec![Algorithm::Sha512_256, Algorithm::Sha256];
    cfg.userhash = true;
    let mut server = DigestServer::new(cfg, &mut rng);
    let mut store = Ha1Store::new();
    store.insert_password("example.com", "J\u{e4}s\u{f8}n Doe", "Secret, or not?");
    let mut client = DigestClient::new("J\u{e4}s\u{f8}n Doe", "Secret, or not?");
    let ch = server.challenge_values(Instant::ZERO, &mut rng, false);
    assert!(ch[0].contains("userhash=true"));
    client
        .handle_challenge(ChallengeKind::Www, ch.iter().map(String::as_str))
        .unwrap();
    let a = client
        .authorize(&mut rng, "REGISTER", "sip:example.com", b"")
        .unwrap();
    let cr = Credentials::parse(&a[0].value).unwrap();
    assert!(cr.userhash);
    assert!(!a[0].value.contains("J\u{e4}s"));
    match server.verify(
        Instant::ZERO,
        &register("sip:example.com", b""),
        &a[0].value,
        &store,
    ) {
        Verification::Ok(ok) => assert_eq!(ok.username, "J\u{e4}s\u{f8}n Doe"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn uri_realm_algorithm_and_user_checks() {
    let mut s = setup("example.com", &[Algorithm::Sha256], &[Qop::Auth], 300);
    let mut client = DigestClient::new("alice", "wonderland");
    answer(&mut s, &mut client, Instant::ZERO, false).unwrap();
    let a = auth(&mut s, &mut client, "sip:example.com", b"");
    let t = Instant::ZERO;
    assert_eq!(
        s.server
            .verify(t, &register("sip:other.com", b""), &a.value, &s.store),
        Verification::UriMismatch
    );
    let wrong_realm = a.value.replace("example.com\"", "example.org\"");
    assert_eq!(
        s.server
            .verify(t, &register("sip:example.com", b""), &wrong_realm, &s.store),
        Verification::WrongRealm
    );
    let md5 = a.value.replace("algorithm=SHA-256", "algorithm=MD5");
    assert_eq!(
        s.server
            .verify(t, &register("sip:example.com", b""), &md5, &s.store),
        Verification::Unsupported
    );
    let mut bob = DigestClient::new("bob", "wonderland");
    answer(&mut s, &mut bob, t, false).unwrap();
    let b = auth(&mut s, &mut bob, "sip:example.com", b"");
    assert_eq!(
        s.server
            .verify(t, &register("sip:example.com", b""), &b.value, &s.store),
        Verification::UnknownUser
    );
    // verify_any picks our realm among several.
    let other =
        "Digest username=\"x\", realm=\"elsewhere\", nonce=\"n\", uri=\"u\", response=\"00\"";
    assert!(
        s.server
            .verify_any(
                t,
                &register("sip:example.com", b""),
                [other, a.value.as_str()],
                &s.store
            )
            .is_ok()
    );
    assert_eq!(
        s.server
            .verify_any(t, &register("sip:example.com", b""), [other], &s.store),
        Verification::NoCredentials
    );
}

#[test]
fn rfc2069_mode_nonces_are_single_use() {
    let mut s = setup("example.com", &[Algorithm::Md5], &[], 300);
    let mut client = DigestClient::new("alice", "wonderland");
    answer(&mut s, &mut client, Instant::ZERO, false).unwrap();
    let a = auth(&mut s, &mut client, "sip:example.com", b"");
    assert!(!a.value.contains("qop"));
    let req = register("sip:example.com", b"");
    assert!(
        s.server
            .verify(Instant::ZERO, &req, &a.value, &s.store)
            .is_ok()
    );
    assert_eq!(
        s.server.verify(Instant::ZERO, &req, &a.value, &s.store),
        Verification::Stale
    );
    // An nc added by an attacker is not covered by an RFC 2069 digest: still single-use.
    let forged = format!("{}, nc=00000002", a.value);
    assert_eq!(
        s.server.verify(Instant::ZERO, &req, &forged, &s.store),
        Verification::Stale
    );
    // A client that answers a qop challenge without qop is refused.
    let mut s2 = setup("example.com", &[Algorithm::Md5], &[Qop::Auth], 300);
    assert_eq!(
        s2.server.verify(Instant::ZERO, &req, &a.value, &s2.store),
        Verification::Unsupported
    );
}
