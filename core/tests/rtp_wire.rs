//! RTP/RTCP wire formats: real byte fixtures and property-based round trips.

use proptest::prelude::*;
use rvoip_core::rtp::rtcp::{
    Bye, CompoundIter, Nack, ReceiverReport, Remb, Sdes, SenderReport, sdes_item,
};
use rvoip_core::rtp::{
    Compound, ReportBlock, RtcpKind, RtcpPacket, RtcpPacketType, RtcpWriter, RtpError, RtpPacket,
    RtpPacketBuilder, SenderInfo,
};

/// Real compound (RR + SDES + BYE + PLI + RRR) from pion/rtcp `packet_test.go`, also in
/// webrtc-rs `rtcp/src/packet/packet_test.rs` ("realPacket", a browser's RTCP).
const REAL_COMPOUND: [u8; 116] = [
    0x81, 0xc9, 0x0, 0x7, 0x90, 0x2f, 0x9e, 0x2e, 0xbc, 0x5e, 0x9a, 0x40, 0x0, 0x0, 0x0, 0x0, 0x0,
    0x0, 0x46, 0xe1, 0x0, 0x0, 0x1, 0x11, 0x9, 0xf3, 0x64, 0x32, 0x0, 0x2, 0x4a, 0x79, //
    0x81, 0xca, 0x0, 0xc, 0x90, 0x2f, 0x9e, 0x2e, 0x1, 0x26, 0x7b, 0x39, 0x63, 0x30, 0x30, 0x65,
    0x62, 0x39, 0x32, 0x2d, 0x31, 0x61, 0x66, 0x62, 0x2d, 0x39, 0x64, 0x34, 0x39, 0x2d, 0x61, 0x34,
    0x37, 0x64, 0x2d, 0x39, 0x31, 0x66, 0x36, 0x34, 0x65, 0x65, 0x65, 0x36, 0x39, 0x66, 0x35, 0x7d,
    0x0, 0x0, 0x0, 0x0, //
    0x81, 0xcb, 0x0, 0x1, 0x90, 0x2f, 0x9e, 0x2e, //
    0x81, 0xce, 0x0, 0x2, 0x90, 0x2f, 0x9e, 0x2e, 0x90, 0x2f, 0x9e, 0x2e, //
    0x85, 0xcd, 0x0, 0x2, 0x90, 0x2f, 0x9e, 0x2e, 0x90, 0x2f, 0x9e, 0x2e,
];

/// SR + RR compound sent by X-Lite in the Wireshark sample capture of a SIP/RTP G.711 call
/// (200.57.7.204:8001), as embedded in sipcapture/heplify's decoder tests.
const XLITE_SR_RR: [u8; 84] = [
    0x81, 0xc8, 0x0, 0xc, 0xd2, 0xbd, 0x4e, 0x3e, 0xc5, 0x92, 0x86, 0xd4, 0xe6, 0xe9, 0x78, 0xd5,
    0x0, 0x0, 0x1, 0x40, 0x0, 0x0, 0x0, 0x2, 0x0, 0x0, 0x1, 0x40, 0xd2, 0xbd, 0x4e, 0x3e, 0x0, 0x0,
    0x0, 0x0, 0x0, 0x2, 0x0, 0x2, 0x0, 0x0, 0x0, 0x0, 0x86, 0xd4, 0xe6, 0xe9, 0x0, 0x0, 0x0, 0x1,
    0x81, 0xc9, 0x0, 0x7, 0xd2, 0xbd, 0x4e, 0x3e, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0,
    0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x86, 0xd4, 0xe6, 0xe9, 0x0, 0x0, 0x0, 0x1,
];

/// REMB sent by Chrome while watching a 6 Mb/s stream (webrtc-rs
/// `receiver_estimated_maximum_bitrate_test.rs`, from pion/rtcp).
const CHROME_REMB: [u8; 24] = [
    143, 206, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0, 82, 69, 77, 66, 1, 26, 32, 223, 72, 116, 237, 22,
];

/// Generic NACK PID 0xAAAA BLP 0x5555 (webrtc-rs `transport_layer_nack_test.rs`).
const NACK: [u8; 16] = [
    0x81, 0xcd, 0x0, 0x3, 0x90, 0x2f, 0x9e, 0x2e, 0x90, 0x2f, 0x9e, 0x2e, 0xaa, 0xaa, 0x55, 0x55,
];

#[test]
fn real_compound() {
    let c = Compound::new_checked(&REAL_COMPOUND, false).unwrap();
    let kinds: Vec<_> = c.iter().map(|p| p.parse().unwrap()).collect();
    assert_eq!(kinds.len(), 5);
    let RtcpKind::ReceiverReport(rr) = kinds[0] else {
        panic!("{:?}", kinds[0])
    };
    assert_eq!(rr.ssrc(), 0x902f9e2e);
    let blocks: Vec<_> = rr.report_blocks().collect();
    assert_eq!(
        blocks,
        [ReportBlock {
            ssrc: 0xbc5e9a40,
            fraction_lost: 0,
            cumulative_lost: 0,
            extended_highest_seq: 0x46e1,
            jitter: 273,
            last_sr: 0x9f36432,
            delay_since_last_sr: 150137,
        }]
    );
    let RtcpKind::Sdes(sdes) = kinds[1] else {
        panic!()
    };
    assert_eq!(
        sdes.cname(),
        Some((0x902f9e2e, &b"{9c00eb92-1afb-9d49-a47d-91f64eee69f5}"[..]))
    );
    let RtcpKind::Bye(bye) = kinds[2] else {
        panic!()
    };
    assert_eq!(bye.sources().collect::<Vec<_>>(), [0x902f9e2e]);
    assert_eq!(bye.reason(), None);
    let RtcpKind::Pli(pli) = kinds[3] else {
        panic!()
    };
    assert_eq!((pli.sender_ssrc, pli.media_ssrc), (0x902f9e2e, 0x902f9e2e));
    // RTPFB FMT 5 (rapid resynchronisation request) stays a generic feedback message.
    let RtcpKind::Feedback(fb) = kinds[4] else {
        panic!()
    };
    assert_eq!((fb.fmt(), fb.fci().len()), (5, 0));

    // Rebuild the same bytes with the writer.
    let mut out = [0u8; 256];
    let mut w = RtcpWriter::new(&mut out);
    w.receiver_report(0x902f9e2e, &blocks)
        .unwrap()
        .sdes_cname(0x902f9e2e, b"{9c00eb92-1afb-9d49-a47d-91f64eee69f5}")
        .unwrap()
        .bye(&[0x902f9e2e], None)
        .unwrap()
        .pli(0x902f9e2e, 0x902f9e2e)
        .unwrap()
        .feedback(205, 5, 0x902f9e2e, 0x902f9e2e, &[])
        .unwrap();
    let n = w.finish();
    assert_eq!(&out[..n], &REAL_COMPOUND[..]);
}

#[test]
fn xlite_sender_report() {
    let c = Compound::new_checked(&XLITE_SR_RR, false).unwrap();
    let mut it = c.iter();
    let sr = SenderReport::new(it.next().unwrap()).unwrap();
    assert_eq!(sr.ssrc(), 0xd2bd4e3e);
    let info = sr.sender_info();
    assert_eq!(info.ntp_timestamp, 0xc59286d4_e6e978d5);
    assert_eq!(sr.ntp_middle(), 0x86d4e6e9);
    assert_eq!(
        (info.rtp_timestamp, info.packet_count, info.octet_count),
        (320, 2, 320)
    );
    let b: Vec<_> = sr.report_blocks().collect();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].extended_highest_seq, 0x0002_0002);
    assert_eq!((b[0].last_sr, b[0].delay_since_last_sr), (0x86d4e6e9, 1));
    assert!(sr.profile_extension().is_empty());
    let rr = ReceiverReport::new(it.next().unwrap()).unwrap();
    assert_eq!(rr.report_blocks().count(), 1);
    assert!(it.next().is_none());

    let mut out = [0u8; 128];
    let mut w = RtcpWriter::new(&mut out);
    w.sender_report(0xd2bd4e3e, &info, &b).unwrap();
    w.receiver_report(0xd2bd4e3e, &rr.report_blocks().collect::<Vec<_>>())
        .unwrap();
    let n = w.finish();
    assert_eq!(&out[..n], &XLITE_SR_RR[..]);
}

#[test]
fn chrome_remb_and_nack() {
    let p = RtcpPacket::new_checked(&CHROME_REMB).unwrap();
    let RtcpKind::Remb(r) = p.parse().unwrap() else {
        panic!()
    };
    assert_eq!(r.sender_ssrc(), 1);
    assert_eq!(r.bitrate(), 8_927_168);
    assert_eq!(r.ssrcs().collect::<Vec<_>>(), [1215622422]);
    // A REMB alone is only valid as reduced-size RTCP.
    assert_eq!(
        Compound::new_checked(&CHROME_REMB, false),
        Err(RtpError::BadCompound)
    );
    assert!(Compound::new_checked(&CHROME_REMB, true).is_ok());
    let mut out = [0u8; 64];
    let mut w = RtcpWriter::new(&mut out);
    w.remb(1, 8_927_168, &[1215622422]).unwrap();
    let n = w.finish();
    assert_eq!(&out[..n], &CHROME_REMB[..]);

    let n = Nack::new(RtcpPacket::new_checked(&NACK).unwrap()).unwrap();
    assert_eq!(n.pairs().collect::<Vec<_>>(), [(0xaaaa, 0x5555)]);
    let lost: Vec<u16> = n.lost().collect();
    // BLP bit i (LSB first) means PID + i + 1 was lost: bits 0, 2, …, 14.
    let mut want = vec![0xaaaau16];
    want.extend((0..8).map(|k| 0xaaaa + 1 + 2 * k));
    assert_eq!(lost, want);
    let mut out = [0u8; 64];
    let mut w = RtcpWriter::new(&mut out);
    w.nack(0x902f9e2e, 0x902f9e2e, &want).unwrap();
    let len = w.finish();
    assert_eq!(&out[..len], &NACK[..]);
}

#[test]
fn compound_validation() {
    // Length running past the datagram.
    let mut bad = XLITE_SR_RR;
    bad[3] = 0x20;
    assert_eq!(Compound::new_checked(&bad, false), Err(RtpError::Truncated));
    // Version 1 in the second packet.
    let mut bad = XLITE_SR_RR;
    bad[52] = 0x41;
    assert_eq!(
        Compound::new_checked(&bad, false),
        Err(RtpError::BadVersion)
    );
    // Padding on a packet that is not the last.
    let mut bad = XLITE_SR_RR;
    bad[0] |= 0x20;
    assert_eq!(
        Compound::new_checked(&bad, false),
        Err(RtpError::BadCompound)
    );
    // Trailing garbage shorter than a header.
    let mut v = XLITE_SR_RR.to_vec();
    v.extend_from_slice(&[0x80, 0xc9]);
    assert_eq!(Compound::new_checked(&v, false), Err(RtpError::Truncated));
    assert_eq!(Compound::new_checked(&[], true), Err(RtpError::Truncated));
    // The lenient iterator yields the two good packets then stops.
    assert_eq!(CompoundIter::lenient(&v).count(), 2);
    // Padding on the last packet is accepted and excluded from the body.
    let mut out = [0u8; 64];
    let mut w = RtcpWriter::new(&mut out);
    w.receiver_report(5, &[]).unwrap();
    let n = w.finish();
    let mut padded = out[..n].to_vec();
    padded[0] |= 0x20;
    padded[3] += 1;
    padded.extend_from_slice(&[0, 0, 0, 4]);
    let c = Compound::new_checked(&padded, false).unwrap();
    let p = c.iter().next().unwrap();
    assert_eq!(p.body().len(), 4);
    padded[11] = 9; // padding count larger than the body
    assert_eq!(
        Compound::new_checked(&padded, false),
        Err(RtpError::BadPadding)
    );
}

#[test]
fn typed_view_errors() {
    // SR claiming one report block without room for it.
    let mut out = [0u8; 64];
    let mut w = RtcpWriter::new(&mut out);
    w.sender_report(1, &SenderInfo::default(), &[]).unwrap();
    let n = w.finish();
    out[0] |= 1;
    let p = RtcpPacket::new_checked(&out[..n]).unwrap();
    assert_eq!(p.parse(), Err(RtpError::BadLength));
    assert_eq!(Bye::new(p).map(|_| ()), Err(RtpError::WrongType));
    // SDES chunk without its END octet.
    let sdes = [0x81, 0xca, 0, 2, 0, 0, 0, 1, 1, 2, b'a', b'b'];
    let p = RtcpPacket::new_checked(&sdes).unwrap();
    assert_eq!(Sdes::new(p).map(|_| ()), Err(RtpError::BadLength));
    // REMB whose SSRC count exceeds the packet.
    let mut remb = CHROME_REMB;
    remb[16] = 2;
    let p = RtcpPacket::new_checked(&remb).unwrap();
    assert_eq!(Remb::new(p).map(|_| ()), Err(RtpError::BadLength));
}

fn arb_block() -> impl Strategy<Value = ReportBlock> {
    (
        any::<u32>(),
        any::<u8>(),
        -0x80_0000i32..0x80_0000,
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(|(ssrc, f, c, e, j, l, d)| ReportBlock {
            ssrc,
            fraction_lost: f,
            cumulative_lost: c,
            extended_highest_seq: e,
            jitter: j,
            last_sr: l,
            delay_since_last_sr: d,
        })
}

proptest! {
    #[test]
    fn rtp_round_trip(
        marker: bool, pt in 0u8..128, seq: u16, ts: u32, ssrc: u32,
        csrcs in proptest::collection::vec(any::<u32>(), 0..16),
        ext in proptest::collection::vec((1u8..=255, proptest::collection::vec(any::<u8>(), 0..40)), 0..6),
        payload in proptest::collection::vec(any::<u8>(), 0..300),
        padding: u8,
    ) {
        let ext_refs: Vec<(u8, &[u8])> = ext.iter().map(|(i, d)| (*i, d.as_slice())).collect();
        let b = RtpPacketBuilder::new(pt, seq, ts, ssrc)
            .marker(marker).csrcs(&csrcs).extensions(&ext_refs).padding(padding);
        let mut buf = vec![0u8; 2048];
        let n = b.emit(&payload, &mut buf).unwrap();
        let p = RtpPacket::new_checked(&buf[..n]).unwrap();
        prop_assert_eq!(p.marker(), marker);
        prop_assert_eq!(p.payload_type(), pt);
        prop_assert_eq!(p.sequence_number(), seq);
        prop_assert_eq!(p.timestamp(), ts);
        prop_assert_eq!(p.ssrc(), ssrc);
        prop_assert_eq!(p.csrcs().collect::<Vec<_>>(), csrcs);
        prop_assert_eq!(p.padding_len(), usize::from(padding));
        prop_assert_eq!(p.payload(), &payload[..]);
        let got: Vec<(u8, &[u8])> = p.extensions().collect();
        prop_assert_eq!(got, ext_refs);
    }

    #[test]
    fn rtp_never_panics(data in proptest::collection::vec(any::<u8>(), 0..80)) {
        if let Ok(p) = RtpPacket::new_checked(&data[..]) {
            prop_assert!(p.header_len() + p.payload().len() + p.padding_len() == data.len());
            let _ = p.extensions().count();
        }
    }

    #[test]
    fn rtcp_round_trip(
        ssrc: u32, ntp: u64, rtp_ts: u32, pc: u32, oc: u32,
        blocks in proptest::collection::vec(arb_block(), 0..31),
        cname in proptest::collection::vec(any::<u8>(), 0..255),
        bye in proptest::collection::vec(any::<u32>(), 0..31),
        reason in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..255)),
        lost in proptest::collection::btree_set(any::<u16>(), 1..40),
        fir in proptest::collection::vec((any::<u32>(), any::<u8>()), 1..5),
        bitrate in 0u64..(1 << 50),
        remb_ssrcs in proptest::collection::vec(any::<u32>(), 0..5),
        sender: bool,
    ) {
        let info = SenderInfo { ntp_timestamp: ntp, rtp_timestamp: rtp_ts, packet_count: pc, octet_count: oc };
        let lost: Vec<u16> = lost.into_iter().collect();
        let mut buf = vec![0u8; 8192];
        let mut w = RtcpWriter::new(&mut buf);
        if sender { w.sender_report(ssrc, &info, &blocks).unwrap(); } else { w.receiver_report(ssrc, &blocks).unwrap(); }
        w.sdes(&[(ssrc, &[(sdes_item::CNAME, &cname[..]), (sdes_item::TOOL, b"rvoip")])]).unwrap();
        w.nack(ssrc, 7, &lost).unwrap();
        w.pli(ssrc, 7).unwrap();
        w.fir(ssrc, &fir).unwrap();
        w.remb(ssrc, bitrate, &remb_ssrcs).unwrap();
        w.app(3, ssrc, *b"TEST", &[1, 2, 3, 4]).unwrap();
        w.bye(&bye, reason.as_deref()).unwrap();
        let n = w.finish();
        let c = Compound::new_checked(&buf[..n], false).unwrap();
        let kinds: Vec<RtcpKind> = c.iter().map(|p| p.parse().unwrap()).collect();
        prop_assert_eq!(kinds.len(), 8);
        match kinds[0] {
            RtcpKind::SenderReport(sr) => {
                prop_assert!(sender);
                prop_assert_eq!(sr.sender_info(), info);
                prop_assert_eq!(sr.report_blocks().collect::<Vec<_>>(), blocks.clone());
            }
            RtcpKind::ReceiverReport(rr) => {
                prop_assert!(!sender);
                prop_assert_eq!(rr.ssrc(), ssrc);
                prop_assert_eq!(rr.report_blocks().collect::<Vec<_>>(), blocks.clone());
            }
            _ => prop_assert!(false),
        }
        let RtcpKind::Sdes(s) = kinds[1] else { panic!() };
        let (s_ssrc, items) = s.chunks().next().unwrap();
        prop_assert_eq!(s_ssrc, ssrc);
        let items: Vec<_> = items.collect();
        prop_assert_eq!(items, vec![(sdes_item::CNAME, &cname[..]), (sdes_item::TOOL, &b"rvoip"[..])]);
        let RtcpKind::Nack(nk) = kinds[2] else { panic!() };
        // Sorted input: the expansion gives back exactly the same set in order.
        prop_assert_eq!(nk.lost().collect::<Vec<_>>(), lost);
        prop_assert!(matches!(kinds[3], RtcpKind::Pli(_)));
        let RtcpKind::Fir(f) = kinds[4] else { panic!() };
        prop_assert_eq!(f.entries().collect::<Vec<_>>(), fir);
        let RtcpKind::Remb(r) = kinds[5] else { panic!() };
        prop_assert!(r.bitrate() <= bitrate && bitrate - r.bitrate() <= bitrate >> 17);
        prop_assert_eq!(r.ssrcs().collect::<Vec<_>>(), remb_ssrcs);
        let RtcpKind::App(a) = kinds[6] else { panic!() };
        prop_assert_eq!((a.subtype(), a.name(), a.data()), (3, *b"TEST", &[1u8, 2, 3, 4][..]));
        let RtcpKind::Bye(b) = kinds[7] else { panic!() };
        prop_assert_eq!(b.sources().collect::<Vec<_>>(), bye);
        prop_assert_eq!(b.reason(), reason.as_deref());
        prop_assert_eq!(b.packet().packet_type(), RtcpPacketType::Goodbye);
    }

    #[test]
    fn rtcp_never_panics(data in proptest::collection::vec(any::<u8>(), 0..120), rsize: bool) {
        for p in CompoundIter::lenient(&data) {
            let _ = p.parse();
        }
        let _ = Compound::new_checked(&data, rsize);
    }
}

mod more_props {
    use proptest::prelude::*;
    use rvoip_core::rtp::{SeqUnwrapper, TelephoneEvent, TimestampUnwrapper};

    proptest! {
        #[test]
        fn telephone_event_round_trip(event: u8, end: bool, volume in 0u8..64, duration: u16) {
            let e = TelephoneEvent { event, end, volume, duration };
            prop_assert_eq!(TelephoneEvent::decode(&e.encode()).unwrap(), e);
        }

        /// A counter that moves forward in steps of up to 1000, observed with each value
        /// possibly swapped with its neighbour, unwraps to the original counter.
        #[test]
        fn unwrapping_with_reordering(
            start in 0i64..70_000,
            steps in proptest::collection::vec(1i64..1000, 1..300),
            swaps in proptest::collection::vec(any::<bool>(), 300),
        ) {
            let mut vals = vec![start];
            for s in &steps {
                vals.push(vals.last().unwrap() + s);
            }
            let mut order = vals.clone();
            for i in (1..order.len()).step_by(2) {
                if swaps[i % swaps.len()] {
                    order.swap(i - 1, i);
                }
            }
            let mut su = SeqUnwrapper::new();
            let mut tu = TimestampUnwrapper::new();
            // Offsets relative to the first value observed.
            let first = order[0];
            for v in &order {
                let s = su.unwrap(*v as u16);
                prop_assert_eq!(s - (first as u16) as i64, v - first);
                let t = tu.unwrap((*v * 70_001) as u32);
                prop_assert_eq!(t - ((first * 70_001) as u32) as i64, (v - first) * 70_001);
            }
        }
    }
}
