//! The ICE-lite agent against hand-built Binding requests: authentication (400/401),
//! unknown attributes (420), role conflict (487), nomination, address changes, consent.

use core::net::SocketAddr;
use core::time::Duration;
use rvoip_core::ice::{Credentials, IceError, IceEvent, IceLiteAgent, IceState, Receive};
use rvoip_core::rand::SplitMix64;
use rvoip_core::stun::{
    Attribute, AttributeType, Class, ErrorCode, Message, MessageBuilder, MessageType, TransactionId,
};
use rvoip_core::time::Instant;

const LOCAL: &str = "10.0.0.1:5000";
const PEER: &str = "192.0.2.10:6000";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn remote_creds() -> Credentials {
    Credentials::new("peerufrag", "peerpasswordpeerpassword").unwrap()
}

fn agent() -> IceLiteAgent {
    let mut rng = SplitMix64::new(1);
    let mut a = IceLiteAgent::new(&mut rng, &[addr(LOCAL)]);
    a.set_remote_credentials(remote_creds());
    a
}

#[derive(Clone)]
struct Req<'a> {
    username: Option<String>,
    key: Option<&'a str>,
    priority: Option<u32>,
    use_candidate: bool,
    controlling: Option<u64>,
    controlled: Option<u64>,
    extra: Option<AttributeType>,
    tid: u8,
}

impl Req<'_> {
    fn valid(a: &IceLiteAgent) -> Req<'static> {
        Req {
            username: Some(format!("{}:peerufrag", a.local_credentials().ufrag)),
            key: None,
            priority: Some(1_853_824_767),
            use_candidate: false,
            controlling: Some(42),
            controlled: None,
            extra: None,
            tid: 1,
        }
    }

    fn build(&self, a: &IceLiteAgent) -> Vec<u8> {
        let mut v = Vec::new();
        let mut b = MessageBuilder::new_vec(
            &mut v,
            MessageType::BINDING_REQUEST,
            TransactionId([self.tid; 12]),
        );
        if let Some(u) = &self.username {
            b.add(&Attribute::Username(u)).unwrap();
        }
        if let Some(p) = self.priority {
            b.add(&Attribute::Priority(p)).unwrap();
        }
        if self.use_candidate {
            b.add(&Attribute::UseCandidate).unwrap();
        }
        if let Some(t) = self.controlling {
            b.add(&Attribute::IceControlling(t)).unwrap();
        }
        if let Some(t) = self.controlled {
            b.add(&Attribute::IceControlled(t)).unwrap();
        }
        if let Some(t) = self.extra {
            b.add_raw(t, b"?").unwrap();
        }
        let pwd = a.local_credentials().pwd.clone();
        b.add_message_integrity(self.key.unwrap_or(&pwd).as_bytes())
            .unwrap();
        b.add_fingerprint().unwrap();
        v
    }
}

fn feed(a: &mut IceLiteAgent, now: Instant, from: &str, bytes: &[u8]) -> Result<(), IceError> {
    a.handle_receive(
        now,
        Receive {
            source: addr(from),
            destination: addr(LOCAL),
            contents: bytes,
        },
    )
}

/// The single response queued, parsed: (class, error code, whether MI verifies with pwd).
fn response(a: &mut IceLiteAgent, to: &str) -> (Class, Option<u16>, bool, Option<SocketAddr>) {
    let t = a.poll_transmit().expect("a response");
    assert!(a.poll_transmit().is_none());
    assert_eq!(t.source, addr(LOCAL));
    assert_eq!(t.destination, addr(to));
    let m = Message::parse(&t.contents).unwrap();
    m.verify_fingerprint().unwrap();
    let mi = m
        .verify_integrity(a.local_credentials().pwd.as_bytes())
        .is_ok();
    (
        m.class(),
        m.error_code().map(|e| e.code),
        mi,
        m.xor_mapped_address(),
    )
}

#[test]
fn credentials_follow_ice_rules() {
    let a = agent();
    let c = a.local_credentials();
    assert!(c.ufrag.len() >= 4 && c.pwd.len() >= 22);
    assert!(
        Credentials::new(&c.ufrag, &c.pwd).is_some(),
        "ice-chars only"
    );
    let mut rng = SplitMix64::new(2);
    let b = IceLiteAgent::new(&mut rng, &[addr(LOCAL)]);
    assert_ne!(b.local_credentials(), c, "drawn from the Rng");
    assert!(Credentials::new("abc", "0123456789012345678901").is_none());
    assert!(Credentials::new("abcd", "012345678901234567890").is_none());
    assert!(Credentials::new("ab:d", "0123456789012345678901").is_none());
    let line = a.local_candidates()[0].to_sdp_value();
    assert!(
        line.ends_with("udp 2130706431 10.0.0.1 5000 typ host"),
        "{line}"
    );
}

#[test]
fn valid_check_gets_success_with_mapped_source() {
    let mut a = agent();
    let req = Req::valid(&a).build(&a);
    assert_eq!(feed(&mut a, Instant::ZERO, PEER, &req), Ok(()));
    let (class, code, mi, mapped) = response(&mut a, PEER);
    assert_eq!((class, code, mi), (Class::SuccessResponse, None, true));
    assert_eq!(mapped, Some(addr(PEER)));
    // Without USE-CANDIDATE: validated, but no media target yet.
    assert!(a.is_validated(addr(LOCAL), addr(PEER)));
    assert_eq!(a.may_send_to(), None);
    assert_eq!(a.poll_event(), None);
    assert_eq!(a.state(), IceState::Checking);
}

#[test]
fn use_candidate_nominates() {
    let mut a = agent();
    let req = Req {
        use_candidate: true,
        ..Req::valid(&a)
    }
    .build(&a);
    feed(&mut a, Instant::ZERO, PEER, &req).unwrap();
    assert_eq!(
        a.poll_event(),
        Some(IceEvent::Connected {
            local: addr(LOCAL),
            remote: addr(PEER)
        })
    );
    assert_eq!(a.may_send_to(), Some(addr(PEER)));
    assert_eq!(a.state(), IceState::Connected);
    // A second nomination of the same pair is not a new event.
    feed(&mut a, Instant::from_millis(10), PEER, &req).unwrap();
    assert_eq!(a.poll_event(), None);
}

#[test]
fn missing_integrity_or_username_is_400() {
    let mut a = agent();
    let no_user = Req {
        username: None,
        ..Req::valid(&a)
    }
    .build(&a);
    assert_eq!(
        feed(&mut a, Instant::ZERO, PEER, &no_user),
        Err(IceError::BadRequest)
    );
    assert_eq!(response(&mut a, PEER).1, Some(400));

    let mut v = Vec::new();
    let mut b =
        MessageBuilder::new_vec(&mut v, MessageType::BINDING_REQUEST, TransactionId([5; 12]));
    let u = format!("{}:peerufrag", a.local_credentials().ufrag);
    b.add(&Attribute::Username(&u)).unwrap();
    b.add(&Attribute::Priority(1)).unwrap();
    b.add(&Attribute::UseCandidate).unwrap();
    b.add_fingerprint().unwrap();
    assert_eq!(
        feed(&mut a, Instant::ZERO, PEER, &v),
        Err(IceError::BadRequest)
    );
    let (class, code, mi, _) = response(&mut a, PEER);
    assert_eq!((class, code, mi), (Class::ErrorResponse, Some(400), false));
    assert_eq!(a.may_send_to(), None);
    assert!(!a.is_validated(addr(LOCAL), addr(PEER)));
}

#[test]
fn wrong_credentials_are_401_and_never_nominate() {
    let mut a = agent();
    let base = Req {
        use_candidate: true,
        ..Req::valid(&a)
    };
    let cases = [
        Req {
            key: Some("wrongpasswordwrongpassword"),
            ..base.clone()
        },
        Req {
            username: Some("nobody:peerufrag".into()),
            ..base.clone()
        },
        Req {
            username: Some(format!("{}:otherufrag", a.local_credentials().ufrag)),
            ..base.clone()
        },
        Req {
            username: Some(a.local_credentials().ufrag.clone()),
            ..base.clone()
        },
    ];
    for req in cases {
        let bytes = req.build(&a);
        assert_eq!(
            feed(&mut a, Instant::ZERO, PEER, &bytes),
            Err(IceError::Unauthenticated)
        );
        let (class, code, mi, _) = response(&mut a, PEER);
        assert_eq!((class, code, mi), (Class::ErrorResponse, Some(401), false));
    }
    assert_eq!(a.poll_event(), None);
    assert_eq!(a.may_send_to(), None);
    assert!(!a.is_validated(addr(LOCAL), addr(PEER)));
}

#[test]
fn tampered_request_is_dropped_or_rejected() {
    let mut a = agent();
    let good = Req {
        use_candidate: true,
        ..Req::valid(&a)
    }
    .build(&a);
    // Flip a byte inside PRIORITY: FINGERPRINT catches it, the request is dropped silently.
    let mut bad = good.clone();
    let at = Message::parse(&good)
        .unwrap()
        .raw_attributes()
        .find(|x| x.typ == AttributeType::PRIORITY)
        .unwrap()
        .offset
        + 4;
    bad[at] ^= 1;
    assert_eq!(
        feed(&mut a, Instant::ZERO, PEER, &bad),
        Err(IceError::FingerprintMismatch)
    );
    assert!(a.poll_transmit().is_none());
    // Truncated: not STUN.
    assert!(matches!(
        feed(&mut a, Instant::ZERO, PEER, &good[..good.len() - 4]),
        Err(IceError::Stun(_))
    ));
    assert!(a.poll_transmit().is_none());
    assert_eq!(a.may_send_to(), None);
}

#[test]
fn unknown_comprehension_required_attribute_is_420() {
    let mut a = agent();
    let req = Req {
        extra: Some(AttributeType(0x0042)),
        ..Req::valid(&a)
    }
    .build(&a);
    assert_eq!(
        feed(&mut a, Instant::ZERO, PEER, &req),
        Err(IceError::UnknownAttributes)
    );
    let t = a.poll_transmit().unwrap();
    let m = Message::parse(&t.contents).unwrap();
    assert_eq!(m.error_code(), Some(ErrorCode::UNKNOWN_ATTRIBUTE));
    let Some(Ok(Attribute::UnknownAttributes(list))) =
        m.attribute(AttributeType::UNKNOWN_ATTRIBUTES)
    else {
        panic!("no UNKNOWN-ATTRIBUTES")
    };
    assert_eq!(list.iter().collect::<Vec<_>>(), [AttributeType(0x0042)]);
    m.verify_integrity(a.local_credentials().pwd.as_bytes())
        .unwrap();
    // Comprehension-optional unknown attributes are fine.
    let req = Req {
        extra: Some(AttributeType(0xC042)),
        ..Req::valid(&a)
    }
    .build(&a);
    assert_eq!(feed(&mut a, Instant::ZERO, PEER, &req), Ok(()));
}

#[test]
fn missing_priority_is_400_after_authentication() {
    let mut a = agent();
    let req = Req {
        priority: None,
        ..Req::valid(&a)
    }
    .build(&a);
    assert_eq!(
        feed(&mut a, Instant::ZERO, PEER, &req),
        Err(IceError::BadRequest)
    );
    let (class, code, mi, _) = response(&mut a, PEER);
    assert_eq!((class, code, mi), (Class::ErrorResponse, Some(400), true));
}

#[test]
fn controlled_peer_gets_487() {
    let mut a = agent();
    let req = Req {
        controlling: None,
        controlled: Some(u64::MAX),
        use_candidate: true,
        ..Req::valid(&a)
    }
    .build(&a);
    assert_eq!(
        feed(&mut a, Instant::ZERO, PEER, &req),
        Err(IceError::RoleConflict)
    );
    let (class, code, mi, _) = response(&mut a, PEER);
    assert_eq!((class, code, mi), (Class::ErrorResponse, Some(487), true));
    assert_eq!(a.may_send_to(), None);
}

#[test]
fn indications_responses_and_foreign_destinations_are_ignored() {
    let mut a = agent();
    let mut v = Vec::new();
    let mut b = MessageBuilder::new_vec(
        &mut v,
        MessageType::BINDING_INDICATION,
        TransactionId([1; 12]),
    );
    b.add_fingerprint().unwrap();
    assert_eq!(
        feed(&mut a, Instant::ZERO, PEER, &v),
        Err(IceError::Ignored)
    );
    let req = Req::valid(&a).build(&a);
    let r = a.handle_receive(
        Instant::ZERO,
        Receive {
            source: addr(PEER),
            destination: addr("10.0.0.1:5001"),
            contents: &req,
        },
    );
    assert_eq!(r, Err(IceError::UnknownDestination));
    assert!(a.poll_transmit().is_none());
}

#[test]
fn media_target_moves_only_after_valid_nominated_check() {
    let mut a = agent();
    let nominate = |a: &IceLiteAgent, tid| {
        Req {
            use_candidate: true,
            tid,
            ..Req::valid(a)
        }
        .build(a)
    };
    let msg = nominate(&a, 1);
    feed(&mut a, Instant::ZERO, PEER, &msg).unwrap();
    a.poll_event();
    a.poll_transmit();
    let moved = "192.0.2.10:6001";
    // Forged check from the new address: rejected, no move.
    let forged = Req {
        use_candidate: true,
        key: Some("attackerattackerattacker"),
        ..Req::valid(&a)
    }
    .build(&a);
    assert!(feed(&mut a, Instant::from_secs_for_test(1), moved, &forged).is_err());
    assert_eq!(a.may_send_to(), Some(addr(PEER)));
    // Valid check without USE-CANDIDATE: validated, but the target stays.
    let msg = Req::valid(&a).build(&a);
    feed(&mut a, Instant::from_secs_for_test(2), moved, &msg).unwrap();
    assert_eq!(a.may_send_to(), Some(addr(PEER)));
    assert!(a.is_validated(addr(LOCAL), addr(moved)));
    // Valid nominated check: the target moves.
    let msg = nominate(&a, 2);
    feed(&mut a, Instant::from_secs_for_test(3), moved, &msg).unwrap();
    assert_eq!(a.may_send_to(), Some(addr(moved)));
    assert_eq!(
        a.poll_event(),
        Some(IceEvent::SelectedPairChanged {
            local: addr(LOCAL),
            remote: addr(moved)
        })
    );
}

#[test]
fn consent_expires_exactly_after_timeout_and_returns() {
    let mut a = agent();
    let req = Req {
        use_candidate: true,
        ..Req::valid(&a)
    }
    .build(&a);
    feed(&mut a, Instant::from_millis(1000), PEER, &req).unwrap();
    a.poll_event();
    // A check at 11 s refreshes consent; expiry is at 41 s.
    let msg = Req::valid(&a).build(&a);
    feed(&mut a, Instant::from_millis(11_000), PEER, &msg).unwrap();
    assert_eq!(a.poll_timeout(), Some(Instant::from_millis(41_000)));
    a.handle_timeout(Instant::from_millis(40_999));
    assert_eq!(a.may_send_to(), Some(addr(PEER)));
    assert_eq!(a.poll_event(), None);
    a.handle_timeout(Instant::from_millis(41_000));
    assert_eq!(
        a.poll_event(),
        Some(IceEvent::ConsentLost { remote: addr(PEER) })
    );
    assert_eq!(a.may_send_to(), None);
    assert_eq!(a.state(), IceState::Disconnected);
    assert_eq!(a.poll_timeout(), None);
    // Checks resume: consent is back.
    let msg = Req::valid(&a).build(&a);
    feed(&mut a, Instant::from_millis(50_000), PEER, &msg).unwrap();
    assert_eq!(
        a.poll_event(),
        Some(IceEvent::Connected {
            local: addr(LOCAL),
            remote: addr(PEER)
        })
    );
    assert_eq!(a.may_send_to(), Some(addr(PEER)));
    // A shorter configured timeout applies.
    a.set_consent_timeout(Duration::from_secs(5));
    assert_eq!(a.poll_timeout(), Some(Instant::from_millis(55_000)));
}

#[test]
fn accepts_routes_by_ufrag() {
    let a = agent();
    let req = Req::valid(&a).build(&a);
    assert!(a.accepts(&req));
    let other = Req {
        username: Some("zzzz:peerufrag".into()),
        ..Req::valid(&a)
    }
    .build(&a);
    assert!(!a.accepts(&other));
    assert!(!a.accepts(b"\x80\x00garbage"));
}

trait SecsForTest {
    fn from_secs_for_test(s: u64) -> Self;
}

impl SecsForTest for Instant {
    fn from_secs_for_test(s: u64) -> Self {
        Instant::from_millis(s * 1000)
    }
}

#[test]
fn rebinding_without_use_candidate_moves_only_after_the_selected_pair_went_quiet() {
    let mut a = agent();
    let moved = "192.0.2.10:6001";
    let nominate = Req {
        use_candidate: true,
        ..Req::valid(&a)
    }
    .build(&a);
    let plain = Req::valid(&a).build(&a);
    feed(&mut a, Instant::ZERO, PEER, &nominate).unwrap();
    assert!(matches!(a.poll_event(), Some(IceEvent::Connected { .. })));
    // The selected pair keeps being checked every 3 s: plain checks from elsewhere never
    // take over.
    for s in 1..=10u64 {
        if s % 3 == 0 {
            feed(&mut a, Instant::from_millis(s * 1000), PEER, &plain).unwrap();
        }
        feed(&mut a, Instant::from_millis(s * 1000 + 500), moved, &plain).unwrap();
        assert_eq!(a.may_send_to(), Some(addr(PEER)), "at {s} s");
    }
    // Last check on the selected pair at 9 s; at 16.9 s it is not yet quiet for 8 s.
    feed(&mut a, Instant::from_millis(16_900), moved, &plain).unwrap();
    assert_eq!(a.may_send_to(), Some(addr(PEER)));
    assert_eq!(a.poll_event(), None);
    feed(&mut a, Instant::from_millis(17_000), moved, &plain).unwrap();
    assert_eq!(a.may_send_to(), Some(addr(moved)));
    assert_eq!(
        a.poll_event(),
        Some(IceEvent::SelectedPairChanged {
            local: addr(LOCAL),
            remote: addr(moved)
        })
    );
    // Disabled: only USE-CANDIDATE moves it.
    let mut b = agent();
    b.set_rebind_after(None);
    let nominate = Req {
        use_candidate: true,
        ..Req::valid(&b)
    }
    .build(&b);
    let plain = Req::valid(&b).build(&b);
    feed(&mut b, Instant::ZERO, PEER, &nominate).unwrap();
    feed(&mut b, Instant::from_millis(29_000), moved, &plain).unwrap();
    assert_eq!(b.may_send_to(), Some(addr(PEER)));
}

#[test]
fn after_consent_loss_any_valid_check_reselects() {
    let mut a = agent();
    let moved = "192.0.2.10:6001";
    let nominate = Req {
        use_candidate: true,
        ..Req::valid(&a)
    }
    .build(&a);
    feed(&mut a, Instant::ZERO, PEER, &nominate).unwrap();
    a.poll_event();
    a.handle_timeout(Instant::from_millis(30_000));
    assert_eq!(
        a.poll_event(),
        Some(IceEvent::ConsentLost { remote: addr(PEER) })
    );
    // Not a valid check: nothing happens.
    let forged = Req {
        key: Some("wrongwrongwrongwrongwrong"),
        ..Req::valid(&a)
    }
    .build(&a);
    assert!(feed(&mut a, Instant::from_millis(31_000), moved, &forged).is_err());
    assert_eq!(a.may_send_to(), None);
    let plain = Req::valid(&a).build(&a);
    feed(&mut a, Instant::from_millis(32_000), moved, &plain).unwrap();
    assert_eq!(a.may_send_to(), Some(addr(moved)));
    assert_eq!(
        a.poll_event(),
        Some(IceEvent::Connected {
            local: addr(LOCAL),
            remote: addr(moved)
        })
    );
}

#[test]
fn restart_swaps_credentials_and_keeps_media_on_the_selected_pair() {
    let mut a = agent();
    let other = "192.0.2.10:6001";
    // Before the restart: a nominated pair and another validated one.
    let nominate = Req {
        use_candidate: true,
        ..Req::valid(&a)
    };
    let old_check = nominate.build(&a);
    feed(&mut a, Instant::ZERO, PEER, &old_check).unwrap();
    response(&mut a, PEER);
    let plain = Req {
        tid: 2,
        ..Req::valid(&a)
    }
    .build(&a);
    feed(&mut a, Instant::ZERO, other, &plain).unwrap();
    response(&mut a, other);
    while a.poll_event().is_some() {}
    assert!(a.is_validated(addr(LOCAL), addr(other)));
    let old_local = a.local_credentials().clone();

    let mut rng = SplitMix64::new(77);
    let new_local = Credentials::random(&mut rng);
    let new_remote = Credentials::new("newpeer", "newpeerpasswordnewpeerpw").unwrap();
    assert_ne!(new_local, old_local);
    a.restart(new_local.clone(), new_remote.clone());
    assert_eq!(a.local_credentials(), &new_local);
    assert_eq!(a.remote_credentials(), Some(&new_remote));
    // Media continues on the old selected pair; the other old validation is gone.
    assert_eq!(a.may_send_to(), Some(addr(PEER)));
    assert!(a.is_validated(addr(LOCAL), addr(PEER)));
    assert!(!a.is_validated(addr(LOCAL), addr(other)));
    assert_eq!(a.state(), IceState::Connected);

    // A check with the old credentials (old ufrag, old password): 401, no state change.
    let mut stale = Vec::new();
    {
        let mut b = MessageBuilder::new_vec(
            &mut stale,
            MessageType::BINDING_REQUEST,
            TransactionId([9; 12]),
        );
        let u = format!("{}:peerufrag", old_local.ufrag);
        b.add(&Attribute::Username(&u)).unwrap();
        b.add(&Attribute::Priority(1)).unwrap();
        b.add(&Attribute::UseCandidate).unwrap();
        b.add(&Attribute::IceControlling(42)).unwrap();
        b.add_message_integrity(old_local.pwd.as_bytes()).unwrap();
        b.add_fingerprint().unwrap();
    }
    assert_eq!(
        feed(&mut a, Instant::from_millis(5), other, &stale),
        Err(IceError::Unauthenticated)
    );
    assert_eq!(response(&mut a, other).1, Some(401));
    assert!(!a.is_validated(addr(LOCAL), addr(other)));
    // The new local ufrag with the peer's old ufrag: 401 too.
    let half = Req {
        tid: 3,
        ..Req::valid(&a)
    }
    .build(&a);
    assert_eq!(
        feed(&mut a, Instant::from_millis(6), other, &half),
        Err(IceError::Unauthenticated)
    );
    assert_eq!(response(&mut a, other).1, Some(401));

    // A check with the new credentials nominating a new pair moves the media there.
    let fresh = Req {
        username: Some(format!("{}:newpeer", new_local.ufrag)),
        use_candidate: true,
        tid: 4,
        ..Req::valid(&a)
    }
    .build(&a);
    assert_eq!(
        feed(&mut a, Instant::from_millis(10), other, &fresh),
        Ok(())
    );
    let (class, code, mi, _) = response(&mut a, other);
    assert_eq!((class, code, mi), (Class::SuccessResponse, None, true));
    assert_eq!(
        a.poll_event(),
        Some(IceEvent::SelectedPairChanged {
            local: addr(LOCAL),
            remote: addr(other)
        })
    );
    assert_eq!(a.may_send_to(), Some(addr(other)));
}
