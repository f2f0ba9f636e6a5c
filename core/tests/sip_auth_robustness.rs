//! Digest authentication robustness (`rvoip_core::sip::auth`): nonce validation and
//! expiry, forgery, the bounded replay table under a flood, malformed and lenient header
//! values, header injection.

use rvoip_core::rand::SplitMix64;
use rvoip_core::sip::auth::{
    Algorithm, Challenge, ChallengeKind, ClientError, Credentials, DigestClient, DigestRequest,
    DigestServer, Ha1Store, NonceManager, NonceStatus, ParseError, ServerConfig, Verification,
};
use rvoip_core::time::{Duration, Instant};

fn register<'a>(uri: &'a str, body: &'a [u8]) -> DigestRequest<'a> {
    DigestRequest {
        method: "REGISTER",
        uri: Some(uri),
        body,
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
// Nonce manager: expiry, forgery, bounded replay table
// ---------------------------------------------------------------------------------------

#[test]
fn nonces_validate_expire_and_resist_forgery() {
    let mut rng = SplitMix64::new(13);
    let m = NonceManager::new(&mut rng, Duration::from_secs(30), 16);
    let t0 = Instant::from_millis(10_000);
    let n = m.issue(t0, &mut rng, "r");
    assert!(matches!(m.check(t0, "r", &n), NonceStatus::Valid { issued, .. } if issued == t0));
    assert!(matches!(
        m.check(Instant::from_millis(40_000), "r", &n),
        NonceStatus::Valid { .. }
    ));
    assert_eq!(
        m.check(Instant::from_millis(40_001), "r", &n),
        NonceStatus::Expired
    );
    // Another realm, the past (issued later than now), a flipped digit, garbage.
    assert_eq!(m.check(t0, "r2", &n), NonceStatus::Invalid);
    assert_eq!(
        m.check(Instant::from_millis(9_999), "r", &n),
        NonceStatus::Invalid
    );
    let mut flipped = n.clone().into_bytes();
    flipped[3] = if flipped[3] == b'0' { b'1' } else { b'0' };
    let flipped = String::from_utf8(flipped).unwrap();
    assert_eq!(m.check(t0, "r", &flipped), NonceStatus::Invalid);
    assert_eq!(m.check(t0, "r", "zz"), NonceStatus::Invalid);
    assert_eq!(m.check(t0, "r", &"g".repeat(64)), NonceStatus::Invalid);
    // Another manager (another secret, e.g. after a restart) rejects it.
    let m2 = NonceManager::new(&mut rng, Duration::from_secs(30), 16);
    assert_eq!(m2.check(t0, "r", &n), NonceStatus::Invalid);
}

#[test]
fn replay_table_stays_bounded_under_a_flood_and_never_forgets_into_a_replay() {
    let mut rng = SplitMix64::new(14);
    let mut cfg = ServerConfig::new("example.com");
    cfg.replay_capacity = 8;
    cfg.nonce_lifetime = Duration::from_secs(3600);
    let mut server = DigestServer::new(cfg, &mut rng);
    let mut store = Ha1Store::new();
    store.insert_password("example.com", "alice", "wonderland");
    let req = register("sip:example.com", b"");
    let mut first = None;
    let mut last = None;
    for i in 0..1000u64 {
        let now = Instant::from_millis(i);
        let mut c = DigestClient::new("alice", "wonderland");
        let ch = server.challenge_values(now, &mut rng, false);
        c.handle_challenge(ChallengeKind::Www, ch.iter().map(String::as_str))
            .unwrap();
        let a = c
            .authorize(&mut rng, "REGISTER", "sip:example.com", b"")
            .unwrap()
            .remove(0);
        assert!(server.verify(now, &req, &a.value, &store).is_ok(), "{i}");
        assert!(server.nonces_mut().tracked() <= 8);
        if i == 0 {
            first = Some(a.value);
        } else {
            last = Some(a.value);
        }
    }
    let t = Instant::from_millis(2000);
    // The evicted one is not accepted again (stale: fetch a new nonce).
    assert_eq!(
        server.verify(t, &req, &first.unwrap(), &store),
        Verification::Stale
    );
    assert_eq!(
        server.verify(t, &req, &last.unwrap(), &store),
        Verification::Replayed
    );
    server
        .nonces_mut()
        .purge_expired(Instant::from_millis(3_600_000 + 2_000));
    assert_eq!(server.nonces_mut().tracked(), 0);
}

// ---------------------------------------------------------------------------------------
// Malformed input
// ---------------------------------------------------------------------------------------

#[test]
fn malformed_values_are_errors() {
    let cases: &[(&str, ParseError)] = &[
        ("", ParseError::MissingScheme),
        ("   ", ParseError::MissingScheme),
        ("Basic realm=\"x\"", ParseError::UnsupportedScheme),
        ("Digestrealm=\"x\"", ParseError::UnsupportedScheme),
        (
            "Digest realm=\"x\", nonce=\"y",
            ParseError::UnterminatedQuote,
        ),
        ("Digest realm=\"x\\", ParseError::UnterminatedQuote),
        (
            "Digest realm=\"x\", realm=\"y\", nonce=\"n\"",
            ParseError::DuplicateParam("realm"),
        ),
        ("Digest nonce=\"n\"", ParseError::MissingParam("realm")),
        ("Digest realm=\"x\"", ParseError::MissingParam("nonce")),
        (
            "Digest realm=\"a\rb\", nonce=\"n\"",
            ParseError::ControlCharacter,
        ),
        (
            "Digest realm=\"a\\\nb\", nonce=\"n\"",
            ParseError::ControlCharacter,
        ),
        ("Digest realm", ParseError::Syntax(12)),
        ("Digest realm=", ParseError::Syntax(13)),
        ("Digest =x", ParseError::Syntax(7)),
        ("Digest realm=\"x\" nonce=\"n\"", ParseError::Syntax(17)),
    ];
    for (v, e) in cases {
        assert_eq!(Challenge::parse(v), Err(*e), "{v:?}");
    }
    let many = format!(
        "Digest realm=\"x\", nonce=\"n\"{}",
        ", p=1".repeat(rvoip_core::sip::auth::MAX_PARAMS)
    );
    assert_eq!(Challenge::parse(&many), Err(ParseError::TooManyParams));

    let base = "Digest username=\"u\", realm=\"r\", nonce=\"n\", uri=\"sip:x\", response=\"00\"";
    assert!(Credentials::parse(base).is_ok());
    let cred_cases: &[(&str, ParseError)] = &[
        (
            "Digest realm=\"r\", nonce=\"n\", uri=\"sip:x\", response=\"00\"",
            ParseError::MissingParam("username"),
        ),
        (
            "Digest username=\"u\", realm=\"r\", nonce=\"n\", response=\"00\"",
            ParseError::MissingParam("uri"),
        ),
        (
            &format!("{base}, qop=auth, nc=00000001"),
            ParseError::MissingParam("cnonce"),
        ),
        (
            &format!("{base}, qop=auth, cnonce=\"c\""),
            ParseError::MissingParam("nc"),
        ),
        (
            &format!("{base}, qop=auth, cnonce=\"c\", nc=1"),
            ParseError::InvalidParam("nc"),
        ),
        (
            &format!("{base}, qop=auth, cnonce=\"c\", nc=0000000g"),
            ParseError::InvalidParam("nc"),
        ),
        (
            &format!("{base}, qop=bogus, cnonce=\"c\", nc=00000001"),
            ParseError::InvalidParam("qop"),
        ),
        (
            &format!("{base}, username*=UTF-8''u"),
            ParseError::InvalidParam("username*"),
        ),
        (
            "Digest username*=ISO-8859-1''u, realm=\"r\", nonce=\"n\", uri=\"x\", response=\"0\"",
            ParseError::InvalidParam("username*"),
        ),
        (
            "Digest username*=UTF-8''%C3, realm=\"r\", nonce=\"n\", uri=\"x\", response=\"0\"",
            ParseError::InvalidParam("username*"),
        ),
        (
            "Digest username*=UTF-8''%0D%0A, realm=\"r\", nonce=\"n\", uri=\"x\", response=\"0\"",
            ParseError::ControlCharacter,
        ),
    ];
    for (v, e) in cred_cases {
        assert_eq!(Credentials::parse(v), Err(*e), "{v:?}");
    }
    let mut rng = SplitMix64::new(15);
    let mut server = DigestServer::new(ServerConfig::new("r"), &mut rng);
    assert_eq!(
        server.verify(
            Instant::ZERO,
            &get("sip:x"),
            "Digest username=\"u\"",
            &Ha1Store::new()
        ),
        Verification::Malformed(ParseError::MissingParam("realm"))
    );
}

#[test]
fn lenient_forms_are_accepted() {
    // Case-insensitive names and scheme, unquoted values, LWS around '=' and ',', empty
    // list elements, quoted algorithm, escapes, unknown params kept.
    let v = "  digest REALM = \"a \\\"quoted\\\" realm\" ,, Nonce=abc/def+=,\talgorithm=\"sha-256\", \
             QOP=\"auth\", stale=TRUE, x-ext=\"v,1\", y=tok";
    let c = Challenge::parse(v).unwrap();
    assert_eq!(c.realm, "a \"quoted\" realm");
    assert_eq!(c.nonce, "abc/def+=");
    assert_eq!(c.algorithm(), Some(Algorithm::Sha256));
    assert!(c.stale);
    assert_eq!(c.params.len(), 2);
    assert_eq!(c.params[0].name, "x-ext");
    assert_eq!(c.params[0].value, "v,1");
    assert!(c.params[0].quoted);
    assert_eq!(c.params[1].value, "tok");
    // Borrowed where no escapes.
    assert!(matches!(c.nonce, std::borrow::Cow::Borrowed(_)));
    assert!(matches!(c.realm, std::borrow::Cow::Owned(_)));
    let s = c.to_string();
    assert_eq!(Challenge::parse(&s).unwrap(), c);
    assert!(s.contains("realm=\"a \\\"quoted\\\" realm\""));
    assert!(s.contains("x-ext=\"v,1\""));
    assert!(s.contains("y=tok"));
    let owned: Challenge<'static> = c.clone().into_owned();
    assert_eq!(owned, c);
}

#[test]
fn control_characters_are_refused_by_the_client() {
    let mut rng = SplitMix64::new(16);
    let mut c = DigestClient::new("u", "p");
    c.handle_challenge(ChallengeKind::Www, ["Digest realm=\"r\", nonce=\"n\""])
        .unwrap();
    assert_eq!(
        c.authorize(&mut rng, "REGISTER", "sip:x\r\nVia: evil", b""),
        Err(ClientError::InvalidInput)
    );
    // A user name with control characters travels as username* (no header injection).
    let mut c = DigestClient::new("u\r\nX: y", "p");
    c.handle_challenge(ChallengeKind::Www, ["Digest realm=\"r\", nonce=\"n\""])
        .unwrap();
    let a = c.authorize(&mut rng, "REGISTER", "sip:x", b"").unwrap();
    assert!(!a[0].value.contains('\r') && !a[0].value.contains('\n'));
    assert!(a[0].value.contains("username*=UTF-8''u%0D%0AX%3A%20y"));
}
