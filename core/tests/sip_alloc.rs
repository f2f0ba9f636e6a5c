//! Parsing allocates once per message (the header index, sized by a first scan), never
//! per header; typed accessors allocate nothing. Counted with `allocation-counter`, which
//! installs a counting global allocator in this test binary only.
use rvoip_core::sip::{HeaderName, Message};

fn message(headers: usize) -> Vec<u8> {
    let mut m = b"INVITE sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/WSS h.invalid;branch=z9hG4bK776asdhds\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@example.com>\r\n\
From: \"Alice\" <sip:alice@example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710\r\n\
CSeq: 314159 INVITE\r\n"
        .to_vec();
    for i in 6..headers.saturating_sub(1) {
        m.extend_from_slice(format!("X-Extra-{i}: value {i}\r\n folded part\r\n").as_bytes());
    }
    m.extend_from_slice(b"Content-Length: 4\r\n\r\nbody");
    m
}

fn parse_and_read(bytes: &[u8]) -> usize {
    let m = Message::parse(bytes).unwrap();
    let via = m.via_top().unwrap();
    let cseq = m.cseq().unwrap();
    let from = m.from().unwrap();
    let to = m.to().unwrap();
    let n = m.headers().len();
    assert_eq!(via.branch(), Some("z9hG4bK776asdhds"));
    assert_eq!(cseq.seq, 314159);
    assert_eq!(m.call_id(), Ok("a84b4c76e66710"));
    assert_eq!(from.tag(), Some("1928301774"));
    assert_eq!(to.tag(), None);
    assert_eq!(m.headers().content_length(), Ok(4));
    assert_eq!(m.headers().get(HeaderName::MaxForwards), Some("70"));
    assert_eq!(m.body(), b"body");
    n
}

#[test]
fn allocations_do_not_depend_on_header_count() {
    let small = message(10);
    let large = message(100);
    let mut counts = Vec::new();
    for (bytes, expect) in [(&small, 10), (&large, 100)] {
        // Warm up (lazy statics in the test harness), then measure.
        parse_and_read(bytes);
        let mut n = 0;
        let info = allocation_counter::measure(|| n = parse_and_read(bytes));
        assert_eq!(n, expect);
        counts.push(info.count_total);
    }
    assert_eq!(
        counts,
        [1, 1],
        "one allocation (the header index) per message"
    );
}

#[test]
fn typed_accessors_do_not_allocate() {
    let bytes = message(40);
    let m = Message::parse(&bytes).unwrap();
    let info = allocation_counter::measure(|| {
        for _ in 0..10 {
            let v = m.via_top().unwrap();
            assert!(v.is_rfc3261_branch());
            assert_eq!(m.headers().vias().count(), 1);
            assert_eq!(m.cseq().unwrap().seq, 314159);
            assert_eq!(m.headers_named("x-extra-7").count(), 1);
            assert_eq!(m.to().unwrap().display, Some("Bob"));
        }
    });
    assert_eq!(info.count_total, 0);
}
