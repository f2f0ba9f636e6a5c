//! Fuzz target for `rvoip_core::sip::auth`: arbitrary bytes parsed as a challenge and as
//! credentials; whatever parses must serialize and re-parse to the same value; challenges are
//! answered by a `DigestClient` and credentials verified by a `DigestServer`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rvoip_core::rand::SplitMix64;
use rvoip_core::sip::auth::{
    Algorithm, Challenge, ChallengeKind, Credentials, DigestClient, DigestRequest, DigestServer,
    Ha1Store, Qop, ServerConfig,
};
use rvoip_core::time::{Duration, Instant};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = core::str::from_utf8(data) else {
        return;
    };
    let mut rng = SplitMix64::new(data.len() as u64);

    if let Ok(c) = Challenge::parse(s) {
        let out = c.to_string();
        let again = Challenge::parse(&out).expect("serialized challenge parses");
        assert_eq!(again, c, "challenge round trip: {out}");
        let owned = c.clone().into_owned();
        assert_eq!(owned, c);

        let mut client =
            DigestClient::new("alice", "wonderland").with_auth_int(data.len() % 2 == 0);
        for kind in [ChallengeKind::Www, ChallengeKind::Proxy] {
            if client.handle_challenge(kind, [s, s]).is_ok() {
                for _ in 0..2 {
                    if let Ok(auths) =
                        client.authorize(&mut rng, "REGISTER", "sip:example.com", data)
                    {
                        for a in auths {
                            let cr = Credentials::parse(&a.value).expect("own credentials parse");
                            assert_eq!(cr.realm, c.realm);
                        }
                    }
                }
            }
        }
    }

    if let Ok(c) = Credentials::parse(s) {
        let out = c.to_string();
        let again = Credentials::parse(&out).expect("serialized credentials parse");
        assert_eq!(again, c, "credentials round trip: {out}");

        let realm = c.realm.clone().into_owned();
        let mut cfg = ServerConfig::new(realm.clone());
        cfg.algorithms = Algorithm::ALL.to_vec();
        cfg.qop = vec![Qop::Auth, Qop::AuthInt];
        cfg.nonce_lifetime = Duration::from_secs(60);
        cfg.replay_capacity = 4;
        let mut server = DigestServer::new(cfg, &mut rng);
        let mut store = Ha1Store::new();
        store.insert_password(&realm, &c.username, "wonderland");
        let req = DigestRequest {
            method: "REGISTER",
            uri: Some(&c.uri),
            body: b"",
        };
        for t in [0u64, 1, 120_000] {
            let _ = server.verify(Instant::from_millis(t), &req, s, &store);
        }
        let _ = server.verify_any(Instant::ZERO, &req, [s, out.as_str()], &store);
    }

    // A valid exchange whose credentials get the input spliced in: reaches the nonce,
    // expiry and replay checks with near-valid values.
    let mut cfg = ServerConfig::new("example.com");
    cfg.algorithms = vec![Algorithm::Sha256, Algorithm::Md5];
    cfg.replay_capacity = 2;
    let mut server = DigestServer::new(cfg, &mut rng);
    let mut store = Ha1Store::new();
    store.insert_password("example.com", "alice", "wonderland");
    let now = Instant::from_millis(1000);
    let ch = server.challenge_values(now, &mut rng, false);
    let mut client = DigestClient::new("alice", "wonderland");
    client
        .handle_challenge(ChallengeKind::Www, ch.iter().map(String::as_str))
        .expect("own challenge is usable");
    let good = client
        .authorize(&mut rng, "REGISTER", "sip:example.com", b"")
        .expect("challenged")
        .remove(0)
        .value;
    let req = DigestRequest {
        method: "REGISTER",
        uri: Some("sip:example.com"),
        body: b"",
    };
    let at = data.first().map_or(0, |&b| usize::from(b)) % (good.len() + 1);
    let at = (0..=at)
        .rev()
        .find(|&i| good.is_char_boundary(i))
        .unwrap_or(0);
    let spliced = format!("{}{}{}", &good[..at], s, &good[at..]);
    let v = server.verify(now, &req, &spliced, &store);
    if s.is_empty() {
        assert!(v.is_ok(), "{v:?}");
    }
    let _ = server.verify(now, &req, &spliced, &store);
    let _ = server.verify(Instant::from_millis(1_000_000), &req, &spliced, &store);
    let _ = server.verify(now, &req, &good, &store);
});
