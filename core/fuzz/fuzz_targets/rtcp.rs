#![no_main]
//! RTCP compound iterator and every packet type's accessors on arbitrary bytes.

use libfuzzer_sys::fuzz_target;
use rvoip_core::rtp::Compound;
use rvoip_core::rtp::rtcp::{CompoundIter, RtcpKind};

fn touch(kind: RtcpKind<'_>) -> u64 {
    let mut acc = 0u64;
    match kind {
        RtcpKind::SenderReport(sr) => {
            let i = sr.sender_info();
            acc ^= i.ntp_timestamp ^ u64::from(sr.ssrc()) ^ u64::from(sr.ntp_middle());
            for b in sr.report_blocks() {
                acc ^= u64::from(b.jitter) ^ b.cumulative_lost as u64;
            }
            acc ^= sr.profile_extension().len() as u64;
        }
        RtcpKind::ReceiverReport(rr) => {
            for b in rr.report_blocks() {
                acc ^= u64::from(b.extended_highest_seq);
            }
            acc ^= rr.profile_extension().len() as u64 ^ u64::from(rr.ssrc());
        }
        RtcpKind::Sdes(s) => {
            for (ssrc, items) in s.chunks() {
                acc ^= u64::from(ssrc);
                for (t, v) in items {
                    acc ^= u64::from(t) ^ v.len() as u64;
                }
            }
            acc ^= s.cname().map_or(0, |(_, c)| c.len() as u64);
        }
        RtcpKind::Bye(b) => {
            acc ^= b.sources().map(u64::from).sum::<u64>();
            acc ^= b.reason().map_or(0, |r| r.len() as u64);
        }
        RtcpKind::App(a) => {
            acc ^= u64::from(a.subtype()) ^ u64::from(a.ssrc()) ^ a.data().len() as u64;
            acc ^= u64::from(a.name()[0]);
        }
        RtcpKind::Nack(n) => {
            acc ^= u64::from(n.sender_ssrc()) ^ u64::from(n.media_ssrc());
            acc ^= n.lost().map(u64::from).sum::<u64>();
        }
        RtcpKind::Pli(p) => acc ^= u64::from(p.media_ssrc),
        RtcpKind::Fir(f) => {
            acc ^= u64::from(f.sender_ssrc());
            acc ^= f
                .entries()
                .map(|(s, n)| u64::from(s) + u64::from(n))
                .sum::<u64>();
        }
        RtcpKind::Remb(r) => {
            acc ^= r.bitrate() ^ u64::from(r.sender_ssrc());
            acc ^= r.ssrcs().map(u64::from).sum::<u64>();
        }
        RtcpKind::Feedback(f) => {
            acc ^= u64::from(f.fmt()) ^ f.fci().len() as u64 ^ u64::from(f.media_ssrc());
        }
        RtcpKind::Other(p) => acc ^= p.body().len() as u64,
        _ => {}
    }
    acc
}

fuzz_target!(|data: &[u8]| {
    let mut acc = 0u64;
    for p in CompoundIter::lenient(data) {
        acc ^= u64::from(p.length_words()) ^ u64::from(p.ssrc().unwrap_or(0));
        if let Ok(k) = p.parse() {
            acc ^= touch(k);
        }
    }
    for rsize in [false, true] {
        if let Ok(c) = Compound::new_checked(data, rsize) {
            let total: usize = c.iter().map(|p| p.as_bytes().len()).sum();
            assert_eq!(total, data.len());
        }
    }
    core::hint::black_box(acc);
});
