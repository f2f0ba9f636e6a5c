//! Fuzz target `ua`: arbitrary datagrams into a user agent that has calls in progress (an
//! outgoing call ringing, an incoming call answered, a registration pending), interleaved
//! with timeouts. It must never panic, and its tables stay bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rvoip_core::rand::SplitMix64;
use rvoip_core::sip::ua::{Received, Transport, UaConfig, UserAgent};
use rvoip_core::time::{Duration, Instant};

const PEER_INVITE: &[u8] = b"INVITE sip:bob@10.0.0.1:5070 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKfz1\r\nMax-Forwards: 70\r\n\
From: <sip:alice@h>;tag=ft1\r\nTo: <sip:bob@h>\r\nCall-ID: fuzzcall1\r\nCSeq: 10 INVITE\r\n\
Contact: <sip:alice@10.0.0.2:5060>\r\nContent-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n";

fuzz_target!(|data: &[u8]| {
    let local = "10.0.0.1:5070".parse().unwrap();
    let peer = "10.0.0.2:5060".parse().unwrap();
    let mut cfg = UaConfig::new("sip:bob@example.com", local);
    cfg.proxy = Some(peer);
    cfg.password = "pw".into();
    cfg.max_transactions = 64;
    let mut ua = UserAgent::new(cfg, SplitMix64::new(1));
    let mut now = Instant::ZERO;
    let _ = ua.register(now);
    let _ = ua.call(now, "sip:carol@10.0.0.2:5060", b"v=0\r\n");
    ua.handle_receive(now, Received { transport: Transport::Udp, source: peer, bytes: PEER_INVITE });
    while let Some(e) = ua.poll_event() {
        if let rvoip_core::sip::ua::Event::IncomingCall { call, .. } = e {
            let _ = ua.answer(now, call, b"v=0\r\n");
        }
    }
    // Messages are separated by 0xff bytes; a 0xfe byte advances time by 600 ms.
    for chunk in data.split(|b| *b == 0xff) {
        if chunk.first() == Some(&0xfe) {
            now += Duration::from_millis(600);
            ua.handle_timeout(now);
            continue;
        }
        let transport = if chunk.len() % 2 == 0 { Transport::Udp } else { Transport::Tcp };
        ua.handle_receive(now, Received { transport, source: peer, bytes: chunk });
        while ua.poll_transmit().is_some() {}
        while let Some(e) = ua.poll_event() {
            match e {
                rvoip_core::sip::ua::Event::IncomingCall { call, .. }
                | rvoip_core::sip::ua::Event::OfferReceived { call, .. } => {
                    let _ = ua.answer(now, call, b"v=0\r\n");
                }
                _ => {}
            }
        }
        assert!(ua.transaction_count() <= 64 + 8, "transaction table is bounded");
    }
    now += Duration::from_secs(64);
    ua.handle_timeout(now);
    while ua.poll_transmit().is_some() {}
});
