//! Two endpoints on a simulated link exchange RTP and RTCP: loss and jitter reported in RR
//! blocks, RTT from LSR/DLSR, all through the wire formats.

use rvoip_core::rand::{Rng, SplitMix64};
use rvoip_core::rtp::stats::{ntp_from_unix_micros, rtt_from_report_block};
use rvoip_core::rtp::{
    CodecQuality, Compound, EModel, ReceiverStats, RtcpKind, RtcpWriter, RtpPacket,
    RtpPacketBuilder, SenderStats,
};
use rvoip_core::time::{Duration, Instant};

/// The driver's wall clock: Unix time at simulated t = 0 is 1.7e9 s.
fn ntp(t: Instant) -> u64 {
    ntp_from_unix_micros(1_700_000_000_000_000 + t.as_micros())
}

#[test]
fn sr_rr_round_trip_time_loss_and_jitter() {
    let one_way = Duration::from_millis(35);
    let mut rng = SplitMix64::new(5);
    let (a_ssrc, b_ssrc) = (0xAAAA_0001, 0xBBBB_0002);
    let mut a_send = SenderStats::new();
    let mut b_recv: Option<ReceiverStats> = None;
    let mut lost = 0u64;

    // A sends 500 PCMU packets (10 s); 3 % loss, 0–10 ms jitter.
    for i in 0..500u64 {
        let t = Instant::from_millis(i * 20);
        let seq = (65_400 + i) as u16; // wraps
        let ts = (i * 160) as u32;
        let mut buf = [0u8; 200];
        let n = RtpPacketBuilder::new(0, seq, ts, a_ssrc)
            .emit(&[0xD5; 160], &mut buf)
            .unwrap();
        a_send.handle_sent(t, ts, 160);
        if rng.below(100) < 3 {
            lost += 1;
            continue;
        }
        let arrival = t + one_way + Duration::from_micros(rng.below(10_000));
        let p = RtpPacket::new_checked(&buf[..n]).unwrap();
        let r = b_recv.get_or_insert_with(|| {
            ReceiverStats::new_validated(p.ssrc(), 8000, p.sequence_number())
        });
        r.handle_packet(
            arrival,
            p.sequence_number(),
            p.timestamp(),
            p.payload().len(),
        );
    }
    let b_recv = b_recv.as_mut().unwrap();

    // A sends an SR at 10 s; B gets it 35 ms later.
    let t_sr = Instant::from_millis(10_000);
    let mut out = [0u8; 512];
    let mut w = RtcpWriter::new(&mut out);
    w.sender_report(a_ssrc, &a_send.sender_info(t_sr, ntp(t_sr), 8000), &[])
        .unwrap()
        .sdes_cname(a_ssrc, b"a@sim")
        .unwrap();
    let n = w.finish();
    let t_sr_rx = t_sr + one_way;
    for p in Compound::new_checked(&out[..n], false).unwrap().iter() {
        if let Ok(RtcpKind::SenderReport(sr)) = p.parse() {
            assert_eq!(sr.sender_info().packet_count, 500);
            assert_eq!(sr.sender_info().rtp_timestamp, 499 * 160 + 160);
            b_recv.handle_sender_report(t_sr_rx, sr.sender_info().ntp_timestamp);
        }
    }

    // B answers with an RR 730 ms later; A receives it 35 ms after that.
    let t_rr = t_sr_rx + Duration::from_millis(730);
    let block = b_recv.report_block(t_rr);
    let mut out = [0u8; 512];
    let mut w = RtcpWriter::new(&mut out);
    w.receiver_report(b_ssrc, &[block])
        .unwrap()
        .sdes_cname(b_ssrc, b"b@sim")
        .unwrap();
    let n = w.finish();
    let t_rr_rx = t_rr + one_way;
    let c = Compound::new_checked(&out[..n], false).unwrap();
    let RtcpKind::ReceiverReport(rr) = c.iter().next().unwrap().parse().unwrap() else {
        panic!()
    };
    let got = rr.report_blocks().next().unwrap();
    assert_eq!(got.ssrc, a_ssrc);
    assert_eq!(i64::from(got.cumulative_lost), lost as i64);
    // 65400 + 499 = 65899 → one wrap.
    let last_seq_received = got.extended_highest_seq;
    assert!(last_seq_received <= 65_536 + 363 && last_seq_received > 65_536 + 350);
    // Uniform 0–10 ms jitter: E|D| = 10/3 ms → J ≈ 3.3 ms ≈ 27 units at 8 kHz.
    assert!((15..45).contains(&got.jitter), "jitter {}", got.jitter);

    let rtt = rtt_from_report_block(ntp(t_rr_rx), &got).unwrap();
    // 70 ms, within the compact format's 1/65536 s resolution.
    let err = rtt.as_micros().abs_diff(70_000);
    assert!(err < 40, "rtt {rtt:?}");

    // Quality estimate from what the RR says.
    let loss = f64::from(got.fraction_lost) / 256.0;
    let jitter = Duration::from_micros(u64::from(got.jitter) * 1_000_000 / 8000);
    let mos = EModel::new(CodecQuality::G711_PLC).mos(rtt / 2, jitter, loss);
    assert!(mos > 3.9 && mos < 4.4, "mos {mos}");
}
