//! Fuzz STUN parsing, integrity/fingerprint verification, attribute decoding and
//! re-encoding, and both ICE agents with arbitrary datagrams.
#![no_main]

use core::net::SocketAddr;
use libfuzzer_sys::fuzz_target;
use rvoip_core::ice::{
    Candidate, Credentials, IceAgent, IceAgentConfig, IceLiteAgent, Nomination, Receive,
};
use rvoip_core::rand::SplitMix64;
use rvoip_core::stun::{Attribute, Message, MessageBuilder};
use rvoip_core::time::Instant;

const KEY: &[u8] = b"VOkJxbRl1RmTxUk/WvJxBt";

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Message::parse(data) {
        let _ = m.verify_integrity(KEY);
        let _ = m.verify_integrity_sha256(KEY);
        let _ = m.verify_fingerprint();
        let _ = m.unknown_comprehension_required().count();
        let _ = (
            m.username(),
            m.xor_mapped_address(),
            m.mapped_address(),
            m.priority(),
        );
        let _ = (
            m.error_code(),
            m.software(),
            m.ice_controlling(),
            m.ice_controlled(),
        );
        // Whatever decodes must re-encode to something that decodes the same.
        let decoded: Vec<Attribute<'_>> = m.decoded().filter_map(Result::ok).collect();
        let mut out = Vec::new();
        let mut b = MessageBuilder::new_vec(&mut out, m.message_type(), m.transaction_id());
        let mut kept = Vec::new();
        for a in &decoded {
            if b.add(a).is_ok() {
                kept.push(*a);
            }
        }
        b.finish();
        let again = Message::parse(&out).expect("built messages parse");
        let redecoded: Vec<Attribute<'_>> = again.decoded().map(|r| r.expect("decodes")).collect();
        assert_eq!(kept, redecoded);
    }

    let local: SocketAddr = "10.0.0.1:5000".parse().unwrap();
    let peer: SocketAddr = "192.0.2.1:6000".parse().unwrap();
    let source = if data.first().is_some_and(|b| b & 1 == 1) {
        peer
    } else {
        "192.0.2.2:6001".parse().unwrap()
    };
    let lite_creds = Credentials::new("lite", "litepasswordlitepassword").unwrap();
    let full_creds = Credentials::new("full", "VOkJxbRl1RmTxUk/WvJxBt").unwrap();

    let mut lite = IceLiteAgent::with_credentials(lite_creds.clone(), &[local]);
    lite.set_remote_credentials(full_creds.clone());
    let now = Instant::from_millis(1000);
    let _ = lite.handle_receive(
        now,
        Receive {
            source,
            destination: local,
            contents: data,
        },
    );
    lite.handle_timeout(now);
    while lite.poll_transmit().is_some() {}
    while lite.poll_event().is_some() {}
    let _ = lite.poll_timeout();

    let config = IceAgentConfig {
        nomination: if data.len() % 2 == 0 {
            Nomination::Regular
        } else {
            Nomination::Aggressive
        },
        ..IceAgentConfig::default()
    };
    let mut full = IceAgent::new(SplitMix64::new(1), config, &[local]);
    full.set_local_credentials(full_creds);
    full.set_remote_credentials(lite_creds);
    let _ = full.add_remote_candidate(Candidate::host(peer, 65535));
    full.handle_timeout(Instant::ZERO);
    let mut check_tid = None;
    while let Some(t) = full.poll_transmit() {
        check_tid = Message::parse(&t.contents).ok().map(|m| m.transaction_id());
    }
    // Structured input: the fuzzed message's type and attributes, re-signed as an answer
    // to the outstanding check (so the response paths are reached past the MAC).
    if let (Ok(m), Some(tid)) = (Message::parse(data), check_tid) {
        let mut out = Vec::new();
        let mut b = MessageBuilder::new_vec(&mut out, m.message_type(), tid);
        for a in m.decoded().filter_map(Result::ok) {
            let _ = b.add(&a);
        }
        let _ = b.add_message_integrity(b"litepasswordlitepassword");
        let _ = b.add_fingerprint();
        let _ = full.handle_receive(
            Instant::from_millis(5),
            Receive {
                source,
                destination: local,
                contents: &out,
            },
        );
        while full.poll_transmit().is_some() {}
        while full.poll_event().is_some() {}
    }
    for step in 0..3u64 {
        let t = Instant::from_millis(10 + step * 600);
        let _ = full.handle_receive(
            t,
            Receive {
                source,
                destination: local,
                contents: data,
            },
        );
        full.handle_timeout(t);
        while full.poll_transmit().is_some() {}
        while full.poll_event().is_some() {}
        let _ = full.poll_timeout();
    }

    if let Ok(s) = core::str::from_utf8(data) {
        let _ = Candidate::parse(s);
    }
});
