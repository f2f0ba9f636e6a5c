//! SIP parsing and serialization: rvoip's zero-copy parser against `rsip` 0.4, same
//! messages, same run. Messages: a ~1.2 KB WebRTC INVITE (JsSIP-style headers, Chromium
//! audio SDP), the 2.3 KB full Chromium JsSIP INVITE capture, and a 1.2 KB 200 OK.
//! "typed" = parse plus what a transaction layer reads: top Via branch, CSeq, Call-ID,
//! From tag, To tag.
use core::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rsip::headers::untyped::{ToTypedHeader, UntypedHeader};
use rsip::message::HeadersExt;
use rvoip::sip::Message;

const INVITE_1K: &[u8] = include_bytes!("../core/tests/fixtures/sip/webrtc_invite_1k.txt");
const INVITE_JSSIP: &[u8] = include_bytes!("../core/tests/fixtures/sip/chromium_jssip_invite.txt");
const OK_200: &[u8] = include_bytes!("../core/tests/fixtures/sip/webrtc_200ok.txt");

fn rvoip_typed(bytes: &[u8]) -> usize {
    let m = Message::parse(bytes).unwrap();
    let branch = m.via_top().unwrap().branch().unwrap();
    let cseq = m.cseq().unwrap();
    let call_id = m.call_id().unwrap();
    let from_tag = m.from().unwrap().tag().unwrap();
    let to_tag = m.to().unwrap().tag();
    branch.len() + cseq.seq as usize + call_id.len() + from_tag.len() + to_tag.map_or(0, str::len)
}

fn rsip_typed(bytes: &[u8]) -> usize {
    let m = rsip::SipMessage::try_from(bytes).unwrap();
    let via = m.via_header().unwrap().typed().unwrap();
    let branch = via.branch().unwrap().to_string();
    let cseq = m.cseq_header().unwrap().typed().unwrap();
    let call_id = m.call_id_header().unwrap().value().len();
    let from_tag = m.from_header().unwrap().tag().unwrap().unwrap();
    let to_tag = m.to_header().unwrap().tag().unwrap();
    branch.len()
        + cseq.seq as usize
        + call_id
        + from_tag.value().len()
        + to_tag.map_or(0, |t| t.value().len())
}

fn bench(c: &mut Criterion) {
    // Both parsers agree on what they read.
    for m in [INVITE_1K, INVITE_JSSIP, OK_200] {
        assert_eq!(rvoip_typed(m), rsip_typed(m));
    }
    for (name, msg) in [
        ("invite_1k", INVITE_1K),
        ("invite_jssip_2k", INVITE_JSSIP),
        ("ok_200", OK_200),
    ] {
        let mut g = c.benchmark_group(format!("sip_parse/{name}"));
        g.throughput(Throughput::Elements(1));
        g.bench_function("rvoip", |b| {
            b.iter(|| Message::parse(black_box(msg)).unwrap())
        });
        g.bench_function("rsip", |b| {
            b.iter(|| rsip::SipMessage::try_from(black_box(msg)).unwrap())
        });
        g.bench_function("rvoip_typed", |b| b.iter(|| rvoip_typed(black_box(msg))));
        g.bench_function("rsip_typed", |b| b.iter(|| rsip_typed(black_box(msg))));
        g.finish();
    }
    for (name, msg) in [("invite_1k", INVITE_1K), ("ok_200", OK_200)] {
        let mut g = c.benchmark_group(format!("sip_serialize/{name}"));
        g.throughput(Throughput::Elements(1));
        let ours = match Message::parse(msg).unwrap() {
            Message::Request(r) => rvoip::sip::MessageBuf::Request(r.to_buf()),
            Message::Response(r) => rvoip::sip::MessageBuf::Response(r.to_buf()),
        };
        assert_eq!(ours.to_bytes(), msg);
        let theirs = rsip::SipMessage::try_from(msg).unwrap();
        g.bench_function("rvoip", |b| b.iter(|| black_box(&ours).to_bytes()));
        g.bench_function("rsip", |b| b.iter(|| black_box(&theirs).to_string()));
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
