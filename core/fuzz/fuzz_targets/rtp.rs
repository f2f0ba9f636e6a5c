#![no_main]
//! RTP view, header extension iterator and (with the remaining bytes as a packet stream)
//! the jitter buffer's insert/pop paths on arbitrary bytes.

use libfuzzer_sys::fuzz_target;
use rvoip_core::rtp::RtpPacket;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = RtpPacket::new_checked(data) {
        assert_eq!(p.header_len() + p.payload().len() + p.padding_len(), data.len());
        let mut acc = u64::from(p.sequence_number()) ^ u64::from(p.timestamp());
        acc ^= u64::from(p.ssrc()) ^ u64::from(p.payload_type()) ^ u64::from(p.marker());
        acc ^= p.csrcs().map(u64::from).sum::<u64>();
        acc ^= u64::from(p.extension_profile().unwrap_or(0));
        for (id, d) in p.extensions() {
            acc ^= u64::from(id) ^ d.len() as u64;
        }
        core::hint::black_box(acc);
    }
});
