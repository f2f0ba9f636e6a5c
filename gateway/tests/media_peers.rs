//! Plain RTP legs whose remote changes mid-call (a re-INVITE/UPDATE with a new address),
//! with and without NAT latching, over real sockets on 127.0.0.1. The media threads
//! `connect()` a trunk leg's sockets to its settled peer (`reactor::PeerConn`): the kernel
//! then delivers only that peer's datagrams, so these tests check that the sockets follow
//! the session — connected to the new address, or dissolved to latch again — and that RTCP
//! on a separate port keeps arriving.

mod media_util;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rvoip_gateway::media::{
    CallMedia, CallSpec, Codec, LegId, LegKind, LegStats, MediaEngine, MediaFormat, Peer,
    RemoteParams, RtpRemote,
};
use tokio::net::UdpSocket;

fn engine(port_min: u16) -> MediaEngine {
    media_util::engine(port_min, port_min + 99, 1)
}

async fn bind() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").await.unwrap()
}

fn addr(s: &UdpSocket) -> SocketAddr {
    s.local_addr().unwrap()
}

/// A PCMU packet (160 bytes of payload) with sequence number `seq` and SSRC `ssrc`.
fn rtp(seq: u16, ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x80, 0];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(&[0xFF; 160]);
    p
}

/// An empty RTCP receiver report from `ssrc`.
fn rtcp_rr(ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x80, 201, 0, 1];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p
}

fn plain(addr: SocketAddr, rtcp: Option<SocketAddr>, latch: bool) -> RemoteParams {
    RemoteParams::Rtp {
        remote: RtpRemote {
            addr,
            rtcp,
            rtcp_mux: rtcp.is_none(),
            latch,
        },
        format: MediaFormat::simple(Codec::Pcmu),
    }
}

/// Whether `sock` receives an RTP packet within 300 ms (the legs' own RTCP reports are
/// skipped).
async fn gets(sock: &UdpSocket) -> bool {
    let mut buf = [0u8; 2048];
    let end = tokio::time::Instant::now() + Duration::from_millis(300);
    while let Ok(Ok((n, _))) = tokio::time::timeout_at(end, sock.recv_from(&mut buf)).await {
        // RFC 5761 §4: RTCP packet types 192–223 in the second byte.
        if n >= 12 && !(192..=223).contains(&buf[1]) {
            return true;
        }
    }
    false
}

/// Drains what `sock` has queued.
async fn drain(sock: &UdpSocket) {
    while gets(sock).await {}
}

/// `from` sends a few packets to `to` (sequence numbers from `seq`); returns whether
/// `at` received any of them.
async fn relays(from: &UdpSocket, to: SocketAddr, seq: u16, at: &UdpSocket) -> bool {
    for i in 0..5 {
        from.send_to(&rtp(seq + i, 0xA0A0), to).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    gets(at).await
}

async fn leg_stats(call: &CallMedia, leg: LegId) -> LegStats {
    let st = call.stats().await.expect("stats");
    st.legs[match leg {
        LegId::A => 0,
        LegId::B => 1,
    }]
    .expect("leg stats")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trunk_leg_follows_a_new_address_and_rtcp_on_its_own_port() {
    let e = engine(42000);
    let call = e
        .create_call(CallSpec {
            peer: Peer::Bridge,
            a: LegKind::Rtp { rtcp_port: false },
            b: Some(LegKind::Rtp { rtcp_port: true }),
        })
        .unwrap();
    let a_local = call.local(LegId::A).unwrap().addr;
    let b = call.local(LegId::B).unwrap().clone();
    let b_rtcp_local = SocketAddr::new(b.addr.ip(), b.rtcp_port.unwrap());
    let caller = bind().await;
    call.apply_remote(LegId::A, plain(addr(&caller), None, false));

    // The trunk at its first address, RTCP on a port of its own (no rtcp-mux).
    let (trunk1, trunk1_rtcp) = (bind().await, bind().await);
    call.apply_remote(
        LegId::B,
        plain(addr(&trunk1), Some(addr(&trunk1_rtcp)), false),
    );
    assert!(
        relays(&caller, a_local, 1, &trunk1).await,
        "caller → trunk 1"
    );
    assert!(
        relays(&trunk1, b.addr, 1, &caller).await,
        "trunk 1 → caller"
    );
    trunk1_rtcp
        .send_to(&rtcp_rr(0xB1), b_rtcp_local)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(leg_stats(&call, LegId::B).await.rtcp_in, 1, "RTCP port");

    // A re-INVITE moves the trunk's media to a second address.
    let (trunk2, trunk2_rtcp) = (bind().await, bind().await);
    call.apply_remote(
        LegId::B,
        plain(addr(&trunk2), Some(addr(&trunk2_rtcp)), false),
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    drain(&trunk1).await;
    drain(&caller).await;
    assert!(
        relays(&caller, a_local, 10, &trunk2).await,
        "caller → trunk 2"
    );
    assert!(!gets(&trunk1).await, "nothing goes to the old address");
    assert!(
        relays(&trunk2, b.addr, 10, &caller).await,
        "trunk 2 → caller"
    );
    drain(&caller).await;
    assert!(
        !relays(&trunk1, b.addr, 20, &caller).await,
        "the old address is not accepted any more"
    );
    trunk2_rtcp
        .send_to(&rtcp_rr(0xB2), b_rtcp_local)
        .await
        .unwrap();
    trunk1_rtcp
        .send_to(&rtcp_rr(0xB1), b_rtcp_local)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        leg_stats(&call, LegId::B).await.rtcp_in,
        2,
        "RTCP from the new RTCP address only"
    );
    call.hangup().await;
    assert!(wait_clean(&e).await, "ports left: {}", e.ports_in_use());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nat_trunk_leg_latches_again_after_a_new_address() {
    let e = engine(42200);
    let call = e
        .create_call(CallSpec {
            peer: Peer::Bridge,
            a: LegKind::Rtp { rtcp_port: false },
            b: Some(LegKind::Rtp { rtcp_port: false }),
        })
        .unwrap();
    let a_local = call.local(LegId::A).unwrap().addr;
    let b_local = call.local(LegId::B).unwrap().addr;
    let caller = bind().await;
    call.apply_remote(LegId::A, plain(addr(&caller), None, false));

    // NAT mode: the SDP names one port, the trunk's media comes from another of the same
    // IP (its NAT mapping) and is latched.
    let (signalled1, nat1) = (bind().await, bind().await);
    call.apply_remote(LegId::B, plain(addr(&signalled1), None, true));
    assert!(
        relays(&nat1, b_local, 1, &caller).await,
        "first packet latches"
    );
    drain(&signalled1).await;
    assert!(
        relays(&caller, a_local, 1, &nat1).await,
        "media to the latched port"
    );
    assert!(!gets(&signalled1).await, "not to the SDP port once latched");
    let stranger = bind().await;
    drain(&caller).await;
    let before = leg_stats(&call, LegId::B).await.packets_in;
    assert!(
        !relays(&stranger, b_local, 5, &caller).await,
        "latched: others refused"
    );
    assert_eq!(leg_stats(&call, LegId::B).await.packets_in, before);

    // A re-INVITE with a new address: the leg latches again, from yet another port.
    let (signalled2, nat2) = (bind().await, bind().await);
    call.apply_remote(LegId::B, plain(addr(&signalled2), None, true));
    tokio::time::sleep(Duration::from_millis(50)).await;
    drain(&caller).await;
    assert!(
        relays(&nat2, b_local, 10, &caller).await,
        "the new mapping latches (the socket is not stuck on the old one)"
    );
    drain(&nat1).await;
    assert!(
        relays(&caller, a_local, 20, &nat2).await,
        "media to the new latch"
    );
    assert!(!gets(&nat1).await, "not to the old one");
    drain(&caller).await;
    assert!(
        !relays(&nat1, b_local, 30, &caller).await,
        "the old mapping is refused"
    );
    call.hangup().await;
    assert!(wait_clean(&e).await, "ports left: {}", e.ports_in_use());
}

async fn wait_clean(e: &MediaEngine) -> bool {
    for _ in 0..60 {
        if e.ports_in_use() == 0 && e.counters().legs_active.load(Ordering::Relaxed) == 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
