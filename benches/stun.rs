//! STUN and ICE-lite hot paths: parsing and verifying a connectivity check, building the
//! success response, and the lite agent answering a check end to end.

use core::hint::black_box;
use core::net::SocketAddr;
use criterion::{Criterion, criterion_group, criterion_main};
use rvoip::ice::{Credentials, IceLiteAgent, Receive};
use rvoip::stun::{Attribute, Message, MessageBuilder, MessageType, TransactionId};
use rvoip::time::Instant;

/// RFC 5769 §2.1 sample request.
const REQ: [u8; 108] = [
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
];
const PWD: &[u8] = b"VOkJxbRl1RmTxUk/WvJxBt";

fn bench(c: &mut Criterion) {
    c.bench_function(
        "stun/parse+verify_integrity+fingerprint (RFC 5769 request)",
        |b| {
            b.iter(|| {
                let m = Message::parse(black_box(&REQ)).unwrap();
                m.verify_fingerprint().unwrap();
                m.verify_integrity(PWD).unwrap();
                black_box(m.username());
            })
        },
    );

    let addr: SocketAddr = "192.0.2.1:32853".parse().unwrap();
    c.bench_function("stun/build success response into a slice", |b| {
        let mut buf = [0u8; 128];
        b.iter(|| {
            let mut m = MessageBuilder::new(
                &mut buf,
                MessageType::BINDING_SUCCESS,
                TransactionId(black_box([7; 12])),
            )
            .unwrap();
            m.add(&Attribute::XorMappedAddress(addr)).unwrap();
            m.add_message_integrity(PWD).unwrap();
            m.add_fingerprint().unwrap();
            black_box(m.finish())
        })
    });

    // The lite agent answering a valid, nominating check.
    let local: SocketAddr = "10.0.0.1:5000".parse().unwrap();
    let mut agent = IceLiteAgent::with_credentials(
        Credentials::new("evtj", "VOkJxbRl1RmTxUk/WvJxBt").unwrap(),
        &[local],
    );
    agent.set_remote_credentials(Credentials::new("h6vY", "peerpasswordpeerpassword").unwrap());
    let mut req = Vec::new();
    let mut m = MessageBuilder::new_vec(
        &mut req,
        MessageType::BINDING_REQUEST,
        TransactionId([1; 12]),
    );
    m.add(&Attribute::Username("evtj:h6vY")).unwrap();
    m.add(&Attribute::Priority(0x6e00_01ff)).unwrap();
    m.add(&Attribute::IceControlling(5)).unwrap();
    m.add(&Attribute::UseCandidate).unwrap();
    m.add_message_integrity(PWD).unwrap();
    m.add_fingerprint().unwrap();
    c.bench_function("ice-lite/handle_receive(check)+poll_transmit", |b| {
        let mut now = 0u64;
        b.iter(|| {
            now += 1;
            agent
                .handle_receive(
                    Instant::from_micros(now),
                    Receive {
                        source: addr,
                        destination: local,
                        contents: black_box(&req),
                    },
                )
                .unwrap();
            black_box(agent.poll_transmit().unwrap());
            while agent.poll_event().is_some() {}
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .measurement_time(core::time::Duration::from_secs(2))
        .warm_up_time(core::time::Duration::from_millis(500));
    targets = bench
}
criterion_main!(benches);
