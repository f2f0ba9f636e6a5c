//! The UA as a server transport notes where a request came from in the Via its responses
//! copy (RFC 3261 §18.2.1, RFC 3581 §4), and sends them back to that address.
#![cfg(feature = "sip-server")]

use rvoip_core::rand::SplitMix64;
use rvoip_core::sip::ua::{Received, SipMsg, Transport, UaConfig, UserAgent};
use rvoip_core::time::Instant;

fn respond(via: &str, source: &str) -> (SipMsg, std::net::SocketAddr) {
    let cfg = UaConfig::new("sip:gw@192.0.2.10", "192.0.2.10:5060".parse().unwrap());
    let mut ua = UserAgent::new(cfg, SplitMix64::new(7));
    let req = format!(
        "OPTIONS sip:gw@192.0.2.10 SIP/2.0\r\nVia: {via}\r\nMax-Forwards: 70\r\n\
         From: <sip:nat@example.com>;tag=1\r\nTo: <sip:gw@192.0.2.10>\r\nCall-ID: v1\r\n\
         CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    );
    let now = Instant::from_micros(0);
    ua.handle_receive(
        now,
        Received {
            transport: Transport::Udp,
            source: source.parse().unwrap(),
            bytes: req.as_bytes(),
        },
    );
    let t = ua.poll_transmit().expect("a response to OPTIONS");
    (SipMsg::parse(&t.bytes).unwrap(), t.destination)
}

#[test]
fn a_client_behind_nat_learns_its_public_address() {
    let (resp, to) = respond(
        "SIP/2.0/UDP 10.0.0.7:5060;rport;branch=z9hG4bKnat1",
        "203.0.113.5:40123",
    );
    assert_eq!(resp.code(), Some(200));
    assert_eq!(
        resp.top_via(),
        Some("SIP/2.0/UDP 10.0.0.7:5060;branch=z9hG4bKnat1;received=203.0.113.5;rport=40123")
    );
    // …and the response goes where the request came from, not to the Via's sent-by.
    assert_eq!(to, "203.0.113.5:40123".parse().unwrap());
}

#[test]
fn a_client_at_its_own_address_is_left_alone() {
    let via = "SIP/2.0/UDP 198.51.100.2:5062;branch=z9hG4bKsame";
    let (resp, _) = respond(via, "198.51.100.2:5062");
    assert_eq!(resp.top_via(), Some(via));
}
