//! Property tests for the digest header values: parse → serialize → parse round trips of
//! generated challenges and credentials, and of whatever arbitrary input parses.

use proptest::option;
use proptest::prelude::*;
use rvoip_core::sip::auth::{
    Algorithm, AlgorithmParam, AuthParam, Challenge, Credentials, Qop, UsernameForm,
};
use std::borrow::Cow;

/// Values without control characters (HTAB allowed): quotes, backslashes, commas, spaces,
/// non-ASCII.
fn value() -> impl Strategy<Value = String> {
    "[ -~\t\u{a0}-\u{2ff}\u{4e00}-\u{4e10}]{0,24}"
}

fn algorithm() -> impl Strategy<Value = AlgorithmParam<'static>> {
    prop_oneof![
        (0..Algorithm::ALL.len()).prop_map(|i| AlgorithmParam::Known(Algorithm::ALL[i])),
        "[A-Za-z0-9-]{1,12}"
            .prop_filter("not a known algorithm", |s| Algorithm::parse(s).is_none())
            .prop_map(|s| AlgorithmParam::Other(Cow::Owned(s))),
    ]
}

fn qop() -> impl Strategy<Value = Qop> {
    prop_oneof![Just(Qop::Auth), Just(Qop::AuthInt)]
}

/// Unknown params: names outside the known set; unquoted only with a bare-able value.
fn params() -> impl Strategy<Value = Vec<AuthParam<'static>>> {
    let quoted = ("x-[a-z]{1,8}", value()).prop_map(|(n, v)| AuthParam {
        name: Cow::Owned(n),
        value: Cow::Owned(v),
        quoted: true,
    });
    let bare = ("y-[a-z0-9]{1,8}\\*?", "[!#-+\\--~]{1,16}").prop_map(|(n, v)| AuthParam {
        name: Cow::Owned(n),
        value: Cow::Owned(v),
        quoted: false,
    });
    proptest::collection::vec(prop_oneof![quoted, bare], 0..5)
}

fn challenge() -> impl Strategy<Value = Challenge<'static>> {
    (
        (value(), value(), option::of(value()), option::of(value())),
        (any::<bool>(), option::of(algorithm()), option::of(value())),
        (option::of(value()), any::<bool>(), params()),
    )
        .prop_map(
            |(
                (realm, nonce, domain, opaque),
                (stale, algorithm, qop),
                (charset, userhash, params),
            )| Challenge {
                realm: realm.into(),
                nonce: nonce.into(),
                domain: domain.map(Cow::Owned),
                opaque: opaque.map(Cow::Owned),
                stale,
                algorithm,
                qop: qop.map(Cow::Owned),
                charset: charset.map(Cow::Owned),
                userhash,
                params,
            },
        )
}

fn credentials() -> impl Strategy<Value = Credentials<'static>> {
    (
        (value(), any::<bool>(), value(), value(), value(), value()),
        (
            option::of(algorithm()),
            option::of(value()),
            option::of(value()),
        ),
        (
            option::of(qop()),
            option::of(any::<u32>()),
            any::<bool>(),
            params(),
        ),
    )
        .prop_map(
            |(
                (username, ext, realm, nonce, uri, response),
                (algorithm, cnonce, opaque),
                (qop, nc, userhash, params),
            )| {
                let (cnonce, nc) = if qop.is_some() {
                    (Some(cnonce.unwrap_or_default()), Some(nc.unwrap_or(1)))
                } else {
                    (cnonce, nc)
                };
                Credentials {
                    username: username.into(),
                    username_form: if ext {
                        UsernameForm::Extended
                    } else {
                        UsernameForm::Plain
                    },
                    realm: realm.into(),
                    nonce: nonce.into(),
                    uri: uri.into(),
                    response: response.into(),
                    algorithm,
                    cnonce: cnonce.map(Cow::Owned),
                    opaque: opaque.map(Cow::Owned),
                    qop,
                    nc,
                    userhash,
                    params,
                }
            },
        )
}

/// Arbitrary text made mostly of the characters that matter to the grammar.
fn noisy() -> impl Strategy<Value = String> {
    "(Digest |digest|Basic )?[a-zA-Z0-9=,\" \\\\*'%\t\r\n/+-]{0,120}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn challenge_round_trip(c in challenge()) {
        let s = c.to_string();
        let back = Challenge::parse(&s).map_err(|e| TestCaseError::fail(format!("{e}: {s}")))?;
        prop_assert_eq!(back, c);
    }

    #[test]
    fn credentials_round_trip(c in credentials()) {
        let s = c.to_string();
        let back = Credentials::parse(&s).map_err(|e| TestCaseError::fail(format!("{e}: {s}")))?;
        prop_assert_eq!(back, c);
    }

    #[test]
    fn anything_that_parses_round_trips(s in noisy()) {
        if let Ok(c) = Challenge::parse(&s) {
            let out = c.to_string();
            prop_assert_eq!(Challenge::parse(&out), Ok(c.clone()), "{}", out);
        }
        if let Ok(c) = Credentials::parse(&s) {
            let out = c.to_string();
            prop_assert_eq!(Credentials::parse(&out), Ok(c.clone()), "{}", out);
        }
    }

    #[test]
    fn parsers_never_panic_on_any_text(s in "\\PC{0,200}") {
        let _ = Challenge::parse(&s);
        let _ = Credentials::parse(&s);
    }

    #[test]
    fn structured_noise_round_trips(
        names in proptest::collection::vec(
            prop_oneof![
                Just("realm"), Just("nonce"), Just("qop"), Just("algorithm"), Just("stale"),
                Just("username"), Just("username*"), Just("uri"), Just("response"), Just("nc"),
                Just("cnonce"), Just("opaque"), Just("userhash"), Just("charset"), Just("domain"),
                Just("x"),
            ],
            0..12,
        ),
        vals in proptest::collection::vec(
            prop_oneof![
                value().prop_map(|v| format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))),
                "[a-zA-Z0-9'%-]{1,10}",
                Just("00000001".to_string()),
                Just("auth".to_string()),
                Just("UTF-8''a%20b".to_string()),
            ],
            12,
        ),
    ) {
        let mut s = String::from("Digest ");
        for (i, n) in names.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(n);
            s.push('=');
            s.push_str(&vals[i]);
        }
        if let Ok(c) = Challenge::parse(&s) {
            let out = c.to_string();
            prop_assert_eq!(Challenge::parse(&out), Ok(c.clone()), "{}", out);
        }
        if let Ok(c) = Credentials::parse(&s) {
            let out = c.to_string();
            prop_assert_eq!(Credentials::parse(&out), Ok(c.clone()), "{}", out);
        }
    }
}

mod exchange {
    use super::*;
    use rvoip_core::rand::SplitMix64;
    use rvoip_core::sip::auth::{
        ChallengeKind, DigestClient, DigestRequest, DigestServer, Ha1Store, ServerConfig,
        Verification,
    };
    use rvoip_core::time::Instant;

    fn qops() -> impl Strategy<Value = Vec<Qop>> {
        prop_oneof![
            Just(vec![]),
            Just(vec![Qop::Auth]),
            Just(vec![Qop::AuthInt]),
            Just(vec![Qop::Auth, Qop::AuthInt]),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any user name, password, realm, URI and body without control characters:
        /// the client's answer verifies, and a different password does not.
        #[test]
        fn client_answers_verify(
            user in "[^\\p{Cc}]{1,16}",
            pass in "[^\\p{Cc}]{0,16}",
            realm in "[^\\p{Cc}]{0,16}",
            uri in "sip:[!-~]{1,20}",
            body in proptest::collection::vec(any::<u8>(), 0..64),
            alg in 0..Algorithm::ALL.len(),
            qop in qops(),
            userhash in any::<bool>(),
            seed in any::<u64>(),
        ) {
            let alg = Algorithm::ALL[alg];
            prop_assume!(!(alg.is_session() && qop.is_empty()));
            let mut rng = SplitMix64::new(seed);
            let mut cfg = ServerConfig::new(realm.clone());
            cfg.algorithms = vec![alg];
            cfg.qop = qop;
            cfg.userhash = userhash;
            let mut server = DigestServer::new(cfg, &mut rng);
            let mut store = Ha1Store::new();
            store.insert_password(&realm, &user, &pass);
            let now = Instant::from_millis(seed % 1_000_000);
            let ch = server.challenge_values(now, &mut rng, false);
            let mut client = DigestClient::new(user.clone(), pass.clone());
            client
                .handle_challenge(ChallengeKind::Proxy, ch.iter().map(String::as_str))
                .map_err(|e| TestCaseError::fail(format!("{e}: {ch:?}")))?;
            let a = client.authorize(&mut rng, "INVITE", &uri, &body).unwrap().remove(0);
            prop_assert_eq!(a.header_name(), "Proxy-Authorization");
            let req = DigestRequest { method: "INVITE", uri: Some(&uri), body: &body };
            match server.verify(now, &req, &a.value, &store) {
                Verification::Ok(ok) => prop_assert_eq!(ok.username, user.clone()),
                other => prop_assert!(false, "{:?} for {}", other, a.value),
            }
            let mut wrong = DigestClient::new(user, format!("{pass}x"));
            wrong
                .handle_challenge(ChallengeKind::Proxy, ch.iter().map(String::as_str))
                .unwrap();
            let w = wrong.authorize(&mut rng, "INVITE", &uri, &body).unwrap().remove(0);
            prop_assert_eq!(server.verify(now, &req, &w.value, &store), Verification::BadResponse);
        }
    }
}
