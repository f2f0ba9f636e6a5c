//! Unit tests: RFC 5769 vectors, tampering, placement rules, round trips.

use super::*;
use alloc::vec::Vec;
use core::net::SocketAddr;

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s
        .bytes()
        .filter(u8::is_ascii_hexdigit)
        .map(|c| match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => c - b'A' + 10,
        })
        .collect();
    digits.chunks(2).map(|p| (p[0] << 4) | p[1]).collect()
}

/// RFC 5769 §2.1 Sample Request (username "evtj:h6vY", password "VOkJxbRl1RmTxUk/WvJxBt").
const REQ: &str = "
    00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
    80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
    00 24 00 04 6e 00 01 ff
    80 29 00 08 93 2f f9 b1 51 26 3b 36
    00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
    00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
    80 28 00 04 e5 7a 3b cf";

/// RFC 5769 §2.2 Sample IPv4 Response (192.0.2.1:32853).
const RESP4: &str = "
    01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
    80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
    00 20 00 08 00 01 a1 47 e1 12 a6 43
    00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
    80 28 00 04 c0 7d 4c 96";

/// RFC 5769 §2.3 Sample IPv6 Response ([2001:db8:1234:5678:11:2233:4455:6677]:32853).
const RESP6: &str = "
    01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
    80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
    00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
    00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
    80 28 00 04 c8 fb 0b 4c";

/// RFC 5769 §2.4 Sample Request with Long-Term Authentication.
const REQ_LTC: &str = "
    00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
    00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00
    00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79
    36 34 73 41
    00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
    00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66";

const PASSWORD: &[u8] = b"VOkJxbRl1RmTxUk/WvJxBt";
const TID: [u8; 12] = [
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
];

#[test]
fn rfc5769_request_parses_and_verifies() {
    let buf = hex(REQ);
    assert_eq!(buf.len(), 108);
    let m = Message::parse(&buf).unwrap();
    assert_eq!(m.message_type(), MessageType::BINDING_REQUEST);
    assert_eq!(m.transaction_id(), TransactionId(TID));
    assert_eq!(m.software(), Some("STUN test client"));
    assert_eq!(m.priority(), Some(0x6e00_01ff));
    assert_eq!(m.ice_controlled(), Some(0x932f_f9b1_5126_3b36));
    assert_eq!(m.ice_controlling(), None);
    assert_eq!(m.username(), Some("evtj:h6vY"));
    assert!(!m.use_candidate());
    m.verify_integrity(PASSWORD).unwrap();
    m.verify_fingerprint().unwrap();
    assert_eq!(
        m.verify_integrity(b"VOkJxbRl1RmTxUk/WvJxBT"),
        Err(StunError::IntegrityMismatch)
    );
    assert_eq!(m.unknown_comprehension_required().count(), 0);
}

#[test]
fn rfc5769_request_builds_byte_exact() {
    let mut buf = [0u8; 200];
    let mut b =
        MessageBuilder::new(&mut buf, MessageType::BINDING_REQUEST, TransactionId(TID)).unwrap();
    b.set_padding_byte(b' ');
    b.add(&Attribute::Software("STUN test client")).unwrap();
    b.add(&Attribute::Priority(0x6e00_01ff)).unwrap();
    b.add(&Attribute::IceControlled(0x932f_f9b1_5126_3b36))
        .unwrap();
    b.add(&Attribute::Username("evtj:h6vY")).unwrap();
    b.add_message_integrity(PASSWORD).unwrap();
    b.add_fingerprint().unwrap();
    let n = b.finish();
    assert_eq!(&buf[..n], &hex(REQ)[..]);
}

fn response(addr: SocketAddr) -> Vec<u8> {
    let mut v = alloc::vec![0xAAu8; 3]; // appending after existing bytes must work
    let mut b = MessageBuilder::new_vec(&mut v, MessageType::BINDING_SUCCESS, TransactionId(TID));
    b.set_padding_byte(b' ');
    b.add(&Attribute::Software("test vector")).unwrap();
    b.add(&Attribute::XorMappedAddress(addr)).unwrap();
    b.add_message_integrity(PASSWORD).unwrap();
    b.add_fingerprint().unwrap();
    let n = b.finish();
    assert_eq!(v.len(), 3 + n);
    v.split_off(3)
}

#[test]
fn rfc5769_ipv4_response() {
    let buf = hex(RESP4);
    let m = Message::parse(&buf).unwrap();
    assert_eq!(m.message_type(), MessageType::BINDING_SUCCESS);
    let addr: SocketAddr = "192.0.2.1:32853".parse().unwrap();
    assert_eq!(m.xor_mapped_address(), Some(addr));
    assert_eq!(m.software(), Some("test vector"));
    m.verify_integrity(PASSWORD).unwrap();
    m.verify_fingerprint().unwrap();
    assert_eq!(response(addr), buf);
}

#[test]
fn rfc5769_ipv6_response() {
    let buf = hex(RESP6);
    let m = Message::parse(&buf).unwrap();
    let addr: SocketAddr = "[2001:db8:1234:5678:11:2233:4455:6677]:32853"
        .parse()
        .unwrap();
    assert_eq!(m.xor_mapped_address(), Some(addr));
    m.verify_integrity(PASSWORD).unwrap();
    m.verify_fingerprint().unwrap();
    assert_eq!(response(addr), buf);
}

#[test]
fn rfc5769_long_term_request() {
    let buf = hex(REQ_LTC);
    let m = Message::parse(&buf).unwrap();
    let user = "\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}";
    assert_eq!(m.username(), Some(user));
    assert_eq!(
        m.attribute(AttributeType::NONCE),
        Some(Ok(Attribute::Nonce("f//499k954d6OL34oL9FSTvy64sA")))
    );
    assert_eq!(
        m.attribute(AttributeType::REALM),
        Some(Ok(Attribute::Realm("example.org")))
    );
    assert!(!m.has_fingerprint());
    // "The<U+00AD>M<U+00AA>tr<U+2168>" after SASLprep is "TheMatrIX".
    let key = long_term_key(user, "example.org", "TheMatrIX");
    m.verify_integrity(&key).unwrap();
    assert_eq!(
        m.verify_integrity(&long_term_key(user, "example.org", "TheMatrix")),
        Err(StunError::IntegrityMismatch)
    );
    // And it builds byte-exact.
    let mut v = Vec::new();
    let tid = m.transaction_id();
    let mut b = MessageBuilder::new_vec(&mut v, MessageType::BINDING_REQUEST, tid);
    b.add(&Attribute::Username(user)).unwrap();
    b.add(&Attribute::Nonce("f//499k954d6OL34oL9FSTvy64sA"))
        .unwrap();
    b.add(&Attribute::Realm("example.org")).unwrap();
    b.add_message_integrity(&key).unwrap();
    assert_eq!(v, buf);
}

#[test]
fn every_single_bit_flip_is_detected() {
    // Flipping any bit covered by MESSAGE-INTEGRITY breaks it; any bit at all breaks either
    // parsing, integrity or the fingerprint.
    let good = hex(REQ);
    let mi_at = 108 - 8 - 24;
    for i in 0..good.len() * 8 {
        let mut b = good.clone();
        b[i / 8] ^= 1 << (i % 8);
        let Ok(m) = Message::parse(&b) else { continue };
        let fp = m.verify_fingerprint();
        let mi = m.verify_integrity(PASSWORD);
        assert!(fp.is_err() || mi.is_err(), "bit {i} undetected");
        if i / 8 < mi_at + 24 && m.has_integrity() {
            assert!(
                mi.is_err(),
                "bit {i} before the MAC end must break integrity"
            );
        }
    }
}

#[test]
fn tampered_padding_only_changes_crc_and_mac() {
    // Padding is covered by both: a changed padding byte is still rejected.
    let mut b = hex(REQ);
    let pad_at = 20 + 20 + 8 + 12 + 4 + 9;
    assert_eq!(b[pad_at], b' ');
    b[pad_at] = 0;
    let m = Message::parse(&b).unwrap();
    assert_eq!(m.username(), Some("evtj:h6vY"));
    assert_eq!(
        m.verify_integrity(PASSWORD),
        Err(StunError::IntegrityMismatch)
    );
    assert_eq!(m.verify_fingerprint(), Err(StunError::FingerprintMismatch));
}

#[test]
fn header_checks() {
    let good = hex(RESP4);
    assert_eq!(
        Message::parse(&good[..19]).unwrap_err(),
        StunError::BadLength
    );
    assert_eq!(
        Message::parse(&good[..76]).unwrap_err(),
        StunError::BadLength
    );
    let mut b = good.clone();
    b.push(0);
    assert_eq!(Message::parse(&b).unwrap_err(), StunError::BadLength);
    let mut b = good.clone();
    b[0] |= 0x80;
    assert_eq!(Message::parse(&b).unwrap_err(), StunError::NotStun);
    let mut b = good.clone();
    b[5] = 0;
    assert_eq!(Message::parse(&b).unwrap_err(), StunError::BadMagicCookie);
    // Attribute length running past the end.
    let mut b = good.clone();
    b[23] = 0x40;
    assert_eq!(
        Message::parse(&b).unwrap_err(),
        StunError::TruncatedAttribute
    );
    assert!(is_stun(&good));
    assert!(!is_stun(&good[..10]));
}

#[test]
fn attribute_after_fingerprint_is_rejected() {
    let mut v = Vec::new();
    let mut b =
        MessageBuilder::new_vec(&mut v, MessageType::BINDING_REQUEST, TransactionId([1; 12]));
    b.add_fingerprint().unwrap();
    b.add(&Attribute::Priority(1)).unwrap();
    assert_eq!(
        Message::parse(&v).unwrap_err(),
        StunError::MisplacedAttribute
    );
}

#[test]
fn attributes_after_integrity_are_ignored() {
    let mut v = Vec::new();
    let mut b =
        MessageBuilder::new_vec(&mut v, MessageType::BINDING_REQUEST, TransactionId([1; 12]));
    b.add(&Attribute::Username("u:v")).unwrap();
    b.add_message_integrity(b"k").unwrap();
    b.add(&Attribute::UseCandidate).unwrap();
    b.add(&Attribute::Priority(5)).unwrap();
    b.add_message_integrity_sha256(b"k").unwrap();
    b.add_fingerprint().unwrap();
    let m = Message::parse(&v).unwrap();
    assert_eq!(m.username(), Some("u:v"));
    assert!(!m.use_candidate());
    assert_eq!(m.priority(), None);
    assert_eq!(m.raw_attributes().count(), 6);
    m.verify_integrity(b"k").unwrap();
    m.verify_integrity_sha256(b"k").unwrap();
    m.verify_fingerprint().unwrap();
    assert!(m.verify_integrity_sha256(b"j").is_err());
}

#[test]
fn sha256_integrity_truncated_to_16_bytes_verifies() {
    let mut v = Vec::new();
    let mut b =
        MessageBuilder::new_vec(&mut v, MessageType::BINDING_REQUEST, TransactionId([9; 12]));
    b.add(&Attribute::Username("x:y")).unwrap();
    let at = b.len();
    b.add_message_integrity_sha256(b"secret").unwrap();
    let full = v[at + 4..at + 36].to_vec();
    // Rebuild with a 16-byte truncation by hand: the HMAC input has the adjusted length.
    let mut t = v[..at].to_vec();
    let len = (at + 4 + 16 - HEADER_LEN) as u16;
    t[2..4].copy_from_slice(&len.to_be_bytes());
    let mut mac = hmac_sha256(b"secret");
    mac.update(&t);
    let tag = mac.finalize().into_bytes();
    assert_ne!(&tag[..16], &full[..16], "the length field is covered");
    t.extend_from_slice(&[0x00, 0x1C, 0x00, 0x10]);
    t.extend_from_slice(&tag[..16]);
    let m = Message::parse(&t).unwrap();
    m.verify_integrity_sha256(b"secret").unwrap();
    assert_eq!(
        m.verify_integrity(b"secret"),
        Err(StunError::MissingAttribute(
            AttributeType::MESSAGE_INTEGRITY
        ))
    );
}

#[test]
fn unknown_comprehension_required_are_listed() {
    let mut v = Vec::new();
    let mut b =
        MessageBuilder::new_vec(&mut v, MessageType::BINDING_REQUEST, TransactionId([2; 12]));
    b.add_raw(AttributeType(0x0030), b"abc").unwrap();
    b.add_raw(AttributeType(0x8030), b"optional").unwrap();
    b.add_raw(AttributeType(0x7FFF), b"").unwrap();
    let m = Message::parse(&v).unwrap();
    let unknown: Vec<_> = m.unknown_comprehension_required().collect();
    assert_eq!(unknown, [AttributeType(0x0030), AttributeType(0x7FFF)]);

    let mut r = Vec::new();
    let mut b = MessageBuilder::new_vec(&mut r, MessageType::BINDING_ERROR, m.transaction_id());
    b.add(&Attribute::ErrorCode(ErrorCode::UNKNOWN_ATTRIBUTE))
        .unwrap();
    b.add_unknown_attributes(unknown.iter().copied()).unwrap();
    let e = Message::parse(&r).unwrap();
    assert_eq!(e.error_code(), Some(ErrorCode::UNKNOWN_ATTRIBUTE));
    let Some(Ok(Attribute::UnknownAttributes(list))) =
        e.attribute(AttributeType::UNKNOWN_ATTRIBUTES)
    else {
        panic!("UNKNOWN-ATTRIBUTES missing")
    };
    assert_eq!(list.iter().collect::<Vec<_>>(), unknown);
}

#[test]
fn error_code_encoding() {
    let mut v = Vec::new();
    let mut b = MessageBuilder::new_vec(&mut v, MessageType::BINDING_ERROR, TransactionId([3; 12]));
    b.add(&Attribute::ErrorCode(ErrorCode::new(487, "Role Conflict")))
        .unwrap();
    // class 4, number 87, reason 13 bytes padded to 16.
    assert_eq!(&v[20..28], &[0x00, 0x09, 0x00, 17, 0, 0, 4, 87]);
    assert_eq!(v.len(), 20 + 4 + 4 + 16);
    let m = Message::parse(&v).unwrap();
    assert_eq!(m.error_code(), Some(ErrorCode::ROLE_CONFLICT));
    let mut b = MessageBuilder::new_vec(&mut v, MessageType::BINDING_ERROR, TransactionId([3; 12]));
    assert_eq!(
        b.add(&Attribute::ErrorCode(ErrorCode::new(700, "x"))),
        Err(StunError::InvalidValue)
    );
}

#[test]
fn message_type_bits() {
    // RFC 8489 §6: Binding request 0x0001, success 0x0101, error 0x0111, indication 0x0011.
    assert_eq!(MessageType::BINDING_REQUEST.to_bits(), 0x0001);
    assert_eq!(MessageType::BINDING_SUCCESS.to_bits(), 0x0101);
    assert_eq!(MessageType::BINDING_ERROR.to_bits(), 0x0111);
    assert_eq!(MessageType::BINDING_INDICATION.to_bits(), 0x0011);
    // TURN Allocate (0x003) success is 0x0103; method 0xFFF request is 0x3EEF.
    let m = Method::new(0x003).unwrap();
    assert_eq!(
        MessageType::new(Class::SuccessResponse, m).to_bits(),
        0x0103
    );
    let m = Method::new(0xFFF).unwrap();
    assert_eq!(MessageType::new(Class::Request, m).to_bits(), 0x3EEF);
    assert_eq!(Method::new(0x1000), None);
    for bits in 0..0x4000u16 {
        assert_eq!(MessageType::from_bits(bits).to_bits(), bits);
    }
}

#[test]
fn small_buffer_is_an_error_not_a_panic() {
    let mut buf = [0u8; 30];
    assert!(
        MessageBuilder::new(
            &mut buf[..10],
            MessageType::BINDING_REQUEST,
            TransactionId([0; 12])
        )
        .is_err()
    );
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::BINDING_REQUEST,
        TransactionId([0; 12]),
    )
    .unwrap();
    assert_eq!(
        b.add_message_integrity(b"k"),
        Err(StunError::BufferTooSmall)
    );
    assert_eq!(b.add(&Attribute::Priority(1)), Ok(()));
    assert_eq!(
        b.add(&Attribute::Priority(1)),
        Err(StunError::BufferTooSmall)
    );
}

mod prop {
    use super::*;
    use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum A {
        Mapped(SocketAddr),
        Xor(SocketAddr),
        User(alloc::string::String),
        Soft(alloc::string::String),
        Err(u16, alloc::string::String),
        Prio(u32),
        Use,
        Ctl(u64),
        Ctd(u64),
        Other(u16, Vec<u8>),
    }

    fn addr() -> impl Strategy<Value = SocketAddr> {
        prop_oneof![
            (any::<[u8; 4]>(), any::<u16>())
                .prop_map(|(a, p)| SocketAddr::new(IpAddr::V4(Ipv4Addr::from(a)), p)),
            (any::<[u8; 16]>(), any::<u16>())
                .prop_map(|(a, p)| SocketAddr::new(IpAddr::V6(Ipv6Addr::from(a)), p)),
        ]
    }

    fn attr() -> impl Strategy<Value = A> {
        prop_oneof![
            addr().prop_map(A::Mapped),
            addr().prop_map(A::Xor),
            "[a-zA-Z0-9+/:é]{0,40}".prop_map(A::User),
            ".{0,30}".prop_map(A::Soft),
            (300u16..700, "[ -~]{0,30}").prop_map(|(c, r)| A::Err(c, r)),
            any::<u32>().prop_map(A::Prio),
            Just(A::Use),
            any::<u64>().prop_map(A::Ctl),
            any::<u64>().prop_map(A::Ctd),
            // Unknown types (avoid the known ones, which would decode differently).
            (
                0xC000u16..0xFFFF,
                proptest::collection::vec(any::<u8>(), 0..40)
            )
                .prop_map(|(t, v)| A::Other(t, v)),
        ]
    }

    fn to_attr(a: &A) -> Attribute<'_> {
        match a {
            A::Mapped(s) => Attribute::MappedAddress(*s),
            A::Xor(s) => Attribute::XorMappedAddress(*s),
            A::User(s) => Attribute::Username(s),
            A::Soft(s) => Attribute::Software(s),
            A::Err(c, r) => Attribute::ErrorCode(ErrorCode::new(*c, r)),
            A::Prio(p) => Attribute::Priority(*p),
            A::Use => Attribute::UseCandidate,
            A::Ctl(t) => Attribute::IceControlling(*t),
            A::Ctd(t) => Attribute::IceControlled(*t),
            A::Other(t, v) => Attribute::Other {
                typ: AttributeType(*t),
                value: v,
            },
        }
    }

    proptest! {
        #[test]
        fn build_parse_round_trip(
            tid in any::<[u8; 12]>(),
            class in 0u8..4,
            method in 0u16..0x1000,
            attrs in proptest::collection::vec(attr(), 0..8),
            key in proptest::collection::vec(any::<u8>(), 0..40),
            mi in any::<bool>(),
            mi256 in any::<bool>(),
            fp in any::<bool>(),
            to_slice in any::<bool>(),
        ) {
            let class = [Class::Request, Class::Indication, Class::SuccessResponse, Class::ErrorResponse][usize::from(class)];
            let typ = MessageType::new(class, Method::new(method).unwrap());
            let tid = TransactionId(tid);
            let mut vec = Vec::new();
            let mut arr = [0u8; 2048];
            let n;
            {
                let mut b = if to_slice {
                    MessageBuilder::new(&mut arr, typ, tid).unwrap()
                } else {
                    MessageBuilder::new_vec(&mut vec, typ, tid)
                };
                for a in &attrs {
                    b.add(&to_attr(a)).unwrap();
                }
                if mi { b.add_message_integrity(&key).unwrap(); }
                if mi256 { b.add_message_integrity_sha256(&key).unwrap(); }
                if fp { b.add_fingerprint().unwrap(); }
                n = b.finish();
            }
            let bytes: &[u8] = if to_slice { &arr[..n] } else { &vec };
            prop_assert_eq!(bytes.len(), n);
            let m = Message::parse(bytes).unwrap();
            prop_assert_eq!(m.message_type(), typ);
            prop_assert_eq!(m.transaction_id(), tid);
            let got: Vec<Attribute<'_>> = m.decoded().collect::<Result<_, _>>().unwrap();
            let want: Vec<Attribute<'_>> = attrs.iter().map(to_attr).collect();
            prop_assert_eq!(got, want);
            prop_assert_eq!(m.verify_integrity(&key).is_ok(), mi);
            prop_assert_eq!(m.verify_integrity_sha256(&key).is_ok(), mi256);
            prop_assert_eq!(m.verify_fingerprint().is_ok(), fp);
            if mi {
                let mut other = key.clone();
                other.push(1);
                prop_assert_eq!(m.verify_integrity(&other), Err(StunError::IntegrityMismatch));
            }
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(m) = Message::parse(&bytes) {
                let _ = m.verify_integrity(b"k");
                let _ = m.verify_integrity_sha256(b"k");
                let _ = m.verify_fingerprint();
                for a in m.decoded() { let _ = a; }
                let _ = m.unknown_comprehension_required().count();
            }
        }

        #[test]
        fn parse_never_panics_on_stun_shaped_input(
            tid in any::<[u8; 12]>(),
            body in proptest::collection::vec(any::<u8>(), 0..50),
        ) {
            let mut b = Vec::new();
            b.extend_from_slice(&[0, 1]);
            b.extend_from_slice(&((body.len() as u16 + 3) & !3).to_be_bytes());
            b.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
            b.extend_from_slice(&tid);
            b.extend_from_slice(&body);
            b.resize(20 + ((body.len() + 3) & !3), 0);
            if let Ok(m) = Message::parse(&b) {
                for a in m.decoded() { let _ = a; }
                let _ = m.verify_fingerprint();
            }
        }
    }
}
