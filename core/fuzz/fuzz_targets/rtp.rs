#![no_main]
//! RTP view and header extension iterator on arbitrary bytes; then the same bytes as a
//! stream of records `[time step, length, packet…]` driving the jitter buffer's insert and
//! pop paths (a small ring so that overflow, wrap and reset paths are reached).

use libfuzzer_sys::fuzz_target;
use rvoip_core::rtp::RtpPacket;
use rvoip_core::rtp::jitter::{JitterBuffer, JitterConfig, Pop};
use rvoip_core::time::{Duration, Instant};

fn view(data: &[u8]) -> u64 {
    let Ok(p) = RtpPacket::new_checked(data) else {
        return 0;
    };
    assert_eq!(
        p.header_len() + p.payload().len() + p.padding_len(),
        data.len()
    );
    let mut acc = u64::from(p.sequence_number()) ^ u64::from(p.timestamp());
    acc ^= u64::from(p.ssrc()) ^ u64::from(p.payload_type()) ^ u64::from(p.marker());
    acc ^= p.csrcs().map(u64::from).sum::<u64>();
    acc ^= u64::from(p.extension_profile().unwrap_or(0));
    acc ^= p.extension_data().map_or(0, |d| d.len() as u64);
    for (id, d) in p.extensions() {
        acc ^= u64::from(id) ^ d.len() as u64;
    }
    acc
}

fuzz_target!(|data: &[u8]| {
    let mut acc = view(data);

    let mut cfg = JitterConfig::new(8000);
    cfg.capacity = 8;
    cfg.max_payload = 64;
    cfg.max_conceal = Duration::from_millis(40);
    let mut jb = JitterBuffer::new(cfg);
    let mut now = 0u64;
    let mut rest = data;
    while let [step, len, tail @ ..] = rest {
        now += u64::from(*step) * 1000;
        let n = usize::from(*len).min(tail.len());
        let (pkt, r) = tail.split_at(n);
        rest = r;
        acc ^= view(pkt);
        if let Ok(p) = RtpPacket::new_checked(pkt) {
            jb.insert(
                Instant::from_micros(now),
                p.ssrc(),
                p.sequence_number(),
                p.timestamp(),
                p.marker(),
                p.payload(),
            );
        }
        if step & 1 == 1 {
            match jb.pop(Instant::from_micros(now)) {
                Pop::Frame(f) => acc ^= f.payload.len() as u64 ^ u64::from(f.seq),
                Pop::Missing => acc ^= 1,
                Pop::NotReady => acc ^= 2,
            }
        }
        assert!(jb.len() <= 8);
        let _ = jb.poll_timeout();
    }
    core::hint::black_box((acc, jb.stats()));
});
