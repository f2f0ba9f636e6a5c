//! The media half of a relayed hold (issue 5): once the SDP agreed on a leg does not let us
//! send (`recvonly`/`inactive` from our side), the media session forwards no audio to it,
//! while the other direction keeps flowing; unhold restores it. Sans-IO, on the public
//! `MediaSession` API the B2BUA drives through `CallMedia::set_sending`.

use std::net::SocketAddr;

use rvoip_core::rand::SplitMix64;
use rvoip_core::rtp::RtpPacketBuilder;
use rvoip_core::time::Instant;
use rvoip_gateway::media::session::{LegSpec, MediaSession};
use rvoip_gateway::media::{Codec, LegId, MediaFormat, Peer, RtpRemote};
use rvoip_gateway::opus::OpusImpl;

type Out = Vec<(SocketAddr, SocketAddr, Vec<u8>)>;

const A_LOCAL: &str = "127.0.0.1:1000";
const B_LOCAL: &str = "127.0.0.1:2000";
const A_PEER: &str = "10.0.0.1:5000";
const B_PEER: &str = "10.0.0.2:6000";

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("address")
}

/// Two plain RTP legs with PCMU on both (passthrough).
fn pair() -> MediaSession {
    let mut rng = SplitMix64::new(9);
    let mut s = MediaSession::new(
        Peer::Bridge,
        LegSpec::Rtp {
            local: addr(A_LOCAL),
            local_rtcp: None,
        },
        Some(LegSpec::Rtp {
            local: addr(B_LOCAL),
            local_rtcp: None,
        }),
        OpusImpl::Libopus,
        1_700_000_000_000_000,
        &mut rng,
    );
    for (leg, peer) in [(LegId::A, A_PEER), (LegId::B, B_PEER)] {
        s.set_rtp_remote(
            leg,
            RtpRemote {
                addr: addr(peer),
                rtcp: None,
                rtcp_mux: true,
                latch: false,
            },
        );
        s.set_format(leg, MediaFormat::simple(Codec::Pcmu));
    }
    s
}

/// Feeds one PCMU packet (sequence `seq`) from the peer of `leg`; returns how many RTP
/// datagrams went to `to`.
fn feed(s: &mut MediaSession, leg: LegId, seq: u16, to: &str) -> usize {
    let (local, from) = match leg {
        LegId::A => (A_LOCAL, A_PEER),
        LegId::B => (B_LOCAL, B_PEER),
    };
    let mut buf = vec![0u8; 2048];
    let n = RtpPacketBuilder::new(0, seq, u32::from(seq) * 160, 0x1234 + leg as u32)
        .emit(&[0xFF; 160], &mut buf)
        .expect("packet fits");
    let mut out: Out = Vec::new();
    let now = Instant::from_millis(20 * u64::from(seq));
    s.handle_datagram(now, leg, addr(local), addr(from), &mut buf, n, &mut out);
    out.iter().filter(|(_, dest, _)| *dest == addr(to)).count()
}

#[test]
fn a_held_leg_gets_no_audio_while_the_other_direction_flows() {
    let mut s = pair();
    assert_eq!(feed(&mut s, LegId::B, 1, A_PEER), 1, "B → A flows");
    assert_eq!(feed(&mut s, LegId::A, 1, B_PEER), 1, "A → B flows");
    let out_a = s.stats(LegId::A).expect("leg A").packets_out;

    // The browser (A) put the call on hold with a=sendonly: we are recvonly on A.
    s.set_sending(LegId::A, false);
    for seq in 2..12 {
        assert_eq!(
            feed(&mut s, LegId::B, seq, A_PEER),
            0,
            "nothing to A while held"
        );
        assert_eq!(feed(&mut s, LegId::A, seq, B_PEER), 1, "A → B still flows");
    }
    let a = s.stats(LegId::A).expect("leg A");
    assert_eq!(
        a.packets_out, out_a,
        "no packet counted out on the held leg"
    );
    assert_eq!(
        s.stats(LegId::B).expect("leg B").packets_in,
        11,
        "B's audio still arrives"
    );

    // Unhold.
    s.set_sending(LegId::A, true);
    assert_eq!(feed(&mut s, LegId::B, 12, A_PEER), 1, "B → A flows again");
    assert_eq!(s.stats(LegId::A).expect("leg A").packets_out, out_a + 1);
}
