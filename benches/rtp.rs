//! RTP/RTCP hot paths: parse a WebRTC-style Opus packet (one-byte extensions) and read its
//! fields, write a PCMU packet, parse a browser RTCP compound, and a jitter buffer
//! insert+pop cycle. Peer: `rtp-rs` 0.6 (zero-copy reader and builder) for the RTP rows.

use core::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rvoip::rtp::rtcp::RtcpKind;
use rvoip::rtp::{Compound, JitterBuffer, JitterConfig, Pop, RtpPacket, RtpPacketBuilder};
use rvoip::time::Instant;

fn opus_packet() -> Vec<u8> {
    // audio-level (id 1), abs-send-time (id 2), transport-cc (id 3), mid (id 4) + 80 B.
    let ext: [(u8, &[u8]); 4] = [
        (1, &[0x95]),
        (2, &[0x12, 0x34, 0x56]),
        (3, &[0x01, 0x02]),
        (4, b"0"),
    ];
    let mut buf = vec![0u8; 1500];
    let n = RtpPacketBuilder::new(111, 4321, 96_000, 0xDEAD_BEEF)
        .extensions(&ext)
        .emit(&[0x55; 80], &mut buf)
        .unwrap();
    buf.truncate(n);
    buf
}

/// RR + SDES + BYE + PLI + RRR from pion/rtcp `packet_test.go` (also in webrtc-rs).
const COMPOUND: [u8; 116] = [
    0x81, 0xc9, 0x0, 0x7, 0x90, 0x2f, 0x9e, 0x2e, 0xbc, 0x5e, 0x9a, 0x40, 0x0, 0x0, 0x0, 0x0, 0x0,
    0x0, 0x46, 0xe1, 0x0, 0x0, 0x1, 0x11, 0x9, 0xf3, 0x64, 0x32, 0x0, 0x2, 0x4a, 0x79, 0x81, 0xca,
    0x0, 0xc, 0x90, 0x2f, 0x9e, 0x2e, 0x1, 0x26, 0x7b, 0x39, 0x63, 0x30, 0x30, 0x65, 0x62, 0x39,
    0x32, 0x2d, 0x31, 0x61, 0x66, 0x62, 0x2d, 0x39, 0x64, 0x34, 0x39, 0x2d, 0x61, 0x34, 0x37, 0x64,
    0x2d, 0x39, 0x31, 0x66, 0x36, 0x34, 0x65, 0x65, 0x65, 0x36, 0x39, 0x66, 0x35, 0x7d, 0x0, 0x0,
    0x0, 0x0, 0x81, 0xcb, 0x0, 0x1, 0x90, 0x2f, 0x9e, 0x2e, 0x81, 0xce, 0x0, 0x2, 0x90, 0x2f, 0x9e,
    0x2e, 0x90, 0x2f, 0x9e, 0x2e, 0x85, 0xcd, 0x0, 0x2, 0x90, 0x2f, 0x9e, 0x2e, 0x90, 0x2f, 0x9e,
    0x2e,
];

fn bench(c: &mut Criterion) {
    let pkt = opus_packet();
    let mut g = c.benchmark_group("rtp_parse");
    g.bench_function("rvoip", |b| {
        b.iter(|| {
            let p = RtpPacket::new_checked(black_box(&pkt[..])).unwrap();
            let mut acc = u32::from(p.sequence_number()) ^ p.timestamp() ^ p.ssrc();
            for (id, d) in p.extensions() {
                acc ^= u32::from(id) ^ d.len() as u32;
            }
            acc ^ p.payload().len() as u32
        })
    });
    g.bench_function("rvoip_raw_ext", |b| {
        b.iter(|| {
            // Same work as the rtp-rs row: the raw extension block, no element iteration.
            let p = RtpPacket::new_checked(black_box(&pkt[..])).unwrap();
            let mut acc = u32::from(p.sequence_number()) ^ p.timestamp() ^ p.ssrc();
            if let (Some(id), Some(d)) = (p.extension_profile(), p.extension_data()) {
                acc ^= u32::from(id) ^ d.len() as u32;
            }
            acc ^ p.payload().len() as u32
        })
    });
    g.bench_function("rtp-rs", |b| {
        b.iter(|| {
            // rtp-rs has no RFC 8285 element iterator: read the raw extension block.
            let p = rtp_rs::RtpReader::new(black_box(&pkt[..])).unwrap();
            let mut acc = u32::from(u16::from(p.sequence_number())) ^ p.timestamp() ^ p.ssrc();
            if let Some((id, d)) = p.extension() {
                acc ^= u32::from(id) ^ d.len() as u32;
            }
            acc ^ p.payload().len() as u32
        })
    });
    g.finish();

    let payload = [0xFFu8; 160];
    let mut out = [0u8; 1500];
    let mut g = c.benchmark_group("rtp_write_pcmu");
    g.bench_function("rvoip", |b| {
        b.iter(|| {
            RtpPacketBuilder::new(0, black_box(7), 160, 0x1234)
                .emit(black_box(&payload), &mut out)
                .unwrap()
        })
    });
    g.bench_function("rtp-rs", |b| {
        b.iter(|| {
            rtp_rs::RtpPacketBuilder::new()
                .payload_type(0)
                .sequence(rtp_rs::Seq::from(black_box(7u16)))
                .timestamp(160)
                .ssrc(0x1234)
                .payload(black_box(&payload))
                .build_into(&mut out)
                .unwrap()
        })
    });
    g.finish();

    c.bench_function("rtcp_compound_parse_all/rvoip", |b| {
        b.iter(|| {
            let c = Compound::new_checked(black_box(&COMPOUND[..]), false).unwrap();
            let mut n = 0u32;
            for p in c.iter() {
                match p.parse().unwrap() {
                    RtcpKind::ReceiverReport(rr) => {
                        n += rr.report_blocks().map(|b| b.jitter).sum::<u32>()
                    }
                    RtcpKind::Sdes(s) => n += s.cname().map_or(0, |c| c.1.len() as u32),
                    _ => n += 1,
                }
            }
            n
        })
    });

    c.bench_function("jitter_insert_pop_20ms/rvoip", |b| {
        let mut jb = JitterBuffer::new(JitterConfig::new(8000));
        let mut i: u64 = 0;
        b.iter(|| {
            let t = Instant::from_micros(i * 20_000);
            jb.insert(
                t,
                1,
                i as u16,
                (i as u32).wrapping_mul(160),
                false,
                &payload,
            );
            let r = matches!(jb.pop(t), Pop::Frame(_));
            i += 1;
            r
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
