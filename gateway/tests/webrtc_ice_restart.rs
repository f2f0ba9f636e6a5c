//! ICE restart on a WebRTC leg (RFC 8839 §4.4.1.1, RFC 8445 §9, JSEP RFC 8829 §5.3.1): a
//! native WebRTC client (ICE, DTLS, SRTP, Opus) calls the gateway's echo extension over
//! SIP-over-WebSocket, then re-offers.
//!
//! - A re-INVITE that keeps the client's ICE credentials (hold, unhold) is answered with the
//!   gateway's credentials unchanged.
//! - A re-INVITE (and then an UPDATE) with new `a=ice-ufrag`/`a=ice-pwd` (`restartIce()`)
//!   is answered with new gateway credentials; DTLS is kept (same fingerprint) and media
//!   goes on over the old pair. A check with the new credentials from a new address (the
//!   network change the restart is for) gets a success response and, with USE-CANDIDATE,
//!   moves the media there; a check with the old credentials now gets 401 (RFC 8445 §7.3,
//!   RFC 8489 §9.1.3), where before the restart it got a success.

mod signalling_util;

use std::net::SocketAddr;
use std::time::Duration;

use rvoip_core::ice::{Credentials, PacketKind, classify};
use rvoip_core::rand::SplitMix64;
use rvoip_core::sdp::SessionDescription;
use rvoip_core::sdp::negotiate::process_answer;
use rvoip_core::sip::ua::{CallId, Event, UserAgent};
use rvoip_core::stun::{Attribute, Class, Message, MessageBuilder, MessageType, TransactionId};
use rvoip_gateway::config::Config;
use rvoip_gateway::media::testclient::{WebRtcClient, gateway_leg};
use rvoip_gateway::media::{Codec, LocalParams, MediaFormat, OsRng};
use rvoip_gateway::server::{Gateway, Options};
use signalling_util::{Ws, alice_ws_ua, client_offer, pump_ua, pump_until, ua_call_answered};
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout};

/// The gateway's leg (ICE credentials, address, fingerprint) as its answer describes it.
fn leg_of(offer: &str, answer: &[u8]) -> LocalParams {
    let o = SessionDescription::parse(offer).expect("offer");
    let a = SessionDescription::parse_bytes(answer).expect("answer");
    let n = process_answer(&o, &a).expect("a usable answer");
    gateway_leg(&n).expect("ICE and DTLS in the answer")
}

/// A connectivity check as a controlling full agent sends it: USERNAME `ours:theirs`
/// (the gateway's ufrag first), MESSAGE-INTEGRITY with the gateway's password `key`.
fn check(gw_ufrag: &str, client_ufrag: &str, key: &str, nominate: bool, tid: u8) -> Vec<u8> {
    let mut v = Vec::new();
    let mut b = MessageBuilder::new_vec(
        &mut v,
        MessageType::BINDING_REQUEST,
        TransactionId([tid; 12]),
    );
    let user = format!("{gw_ufrag}:{client_ufrag}");
    b.add(&Attribute::Username(&user)).expect("username");
    b.add(&Attribute::Priority(1_853_824_767))
        .expect("priority");
    if nominate {
        b.add(&Attribute::UseCandidate).expect("use-candidate");
    }
    b.add(&Attribute::IceControlling(7)).expect("controlling");
    b.add_message_integrity(key.as_bytes()).expect("integrity");
    b.add_fingerprint().expect("fingerprint");
    v
}

/// Sends `req` from `sock` to `to` and returns the STUN response: (class, error code,
/// whether its MESSAGE-INTEGRITY verifies with `key`). Media datagrams arriving meanwhile
/// are skipped; `None` without a response within 2 s.
async fn stun(
    sock: &UdpSocket,
    to: SocketAddr,
    req: &[u8],
    key: &str,
) -> Option<(Class, Option<u16>, bool)> {
    sock.send_to(req, to).await.expect("send check");
    let end = Instant::now() + Duration::from_secs(2);
    let mut buf = vec![0u8; 2048];
    loop {
        let left = end.saturating_duration_since(Instant::now());
        let (n, _) = timeout(left, sock.recv_from(&mut buf)).await.ok()?.ok()?;
        if classify(&buf[..n]) != PacketKind::Stun {
            continue;
        }
        let m = Message::parse(&buf[..n]).expect("a STUN response");
        if m.transaction_id().0 != req[8..20] {
            continue;
        }
        let mi = m.verify_integrity(key.as_bytes()).is_ok();
        return Some((m.class(), m.error_code().map(|e| e.code), mi));
    }
}

/// How many media (RTP/SRTP) datagrams arrive on `sock` within `dur`.
async fn media_on(sock: &UdpSocket, dur: Duration) -> usize {
    let end = Instant::now() + dur;
    let mut buf = vec![0u8; 2048];
    let mut n = 0;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match timeout(left, sock.recv_from(&mut buf)).await {
            Ok(Ok((len, _))) => {
                if classify(&buf[..len]) == PacketKind::Rtp {
                    n += 1;
                }
            }
            _ => return n,
        }
    }
}

/// Sends `sdp` as an offer in the call (UPDATE when `update`, else re-INVITE) and returns
/// the gateway's answer.
async fn reoffer(
    ua: &mut UserAgent<SplitMix64>,
    ws: &mut Ws,
    t0: Instant,
    call: CallId,
    sdp: &str,
    update: bool,
) -> Vec<u8> {
    let now = rvoip_core::time::Instant::from_micros(t0.elapsed().as_micros() as u64);
    if update {
        ua.update(now, call, sdp.as_bytes()).expect("UPDATE");
    } else {
        ua.hold(now, call, sdp.as_bytes()).expect("re-INVITE");
    }
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        pump_ua(ua, ws, t0, Duration::from_millis(50), &mut events).await;
        for e in &events {
            match e {
                Event::MediaUpdated { call: c, sdp } if *c == call => {
                    return sdp.clone().expect("an SDP answer");
                }
                Event::OfferRejected { code, .. } => panic!("re-INVITE refused: {code}"),
                _ => {}
            }
        }
        assert!(Instant::now() < deadline, "no answer: {events:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ice_restart_gets_new_credentials_and_a_plain_reoffer_keeps_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let toml = "[http]\nlisten = \"127.0.0.1:0\"\n[sip]\nudp = \"127.0.0.1:0\"\n\
tcp = \"127.0.0.1:0\"\n[admin]\npassword = \"console-pw-123\"\n[media]\nport_min = 47100\n\
port_max = 47199\n[[users]]\nusername = \"alice\"\npassword = \"pw-alice\"\n\
[[dialplan]]\npattern = \"600\"\ntarget = \"echo\"\n";
    let gw = Gateway::start(
        Config::from_toml(toml).expect("config"),
        Options {
            data_dir: Some(dir.path().to_path_buf()),
            sip_t1: None,
        },
    )
    .await
    .expect("gateway");

    // The browser calls the echo extension.
    let client = WebRtcClient::new().await.expect("client");
    let co = client.offer();
    let port = co.addr.port();
    let first = client_offer(port, &co.ice, &co.fingerprint, 1, "sendrecv");
    let (mut ws, mut ua, t0) = alice_ws_ua(&gw, "pw-alice", 51).await;
    let mut events = Vec::new();
    let (call, answer) = ua_call_answered(
        &mut ua,
        &mut ws,
        t0,
        "sip:600@127.0.0.1",
        &first,
        &mut events,
    )
    .await;
    let gw0 = leg_of(&first, &answer);
    let old = gw0.ice.clone().expect("gateway ICE credentials");
    let fp = gw0.fingerprint.clone().expect("fingerprint");
    let opus = MediaFormat {
        codec: Codec::Opus,
        pt: 111,
        dtmf_pt: Some(110),
        dtmf_clock: 48_000,
    };
    let endpoint = client
        .start(&gw0, &fp, opus, Some(1000.0))
        .expect("media starts");
    let echoed = pump_until(
        &mut ua,
        &mut ws,
        t0,
        &mut events,
        Duration::from_secs(10),
        || endpoint.received(|r| r.media_ready && r.packets >= 25),
    )
    .await;
    let (ready, packets) = endpoint.received(|r| (r.media_ready, r.packets));
    assert!(echoed, "no echo: ready={ready} packets={packets}");

    // Before any restart, a check with the call's credentials from another address passes
    // (without USE-CANDIDATE: the media stays where it is).
    let stale = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let r = stun(
        &stale,
        gw0.addr,
        &check(&old.ufrag, &co.ice.ufrag, &old.pwd, false, 1),
        &old.pwd,
    )
    .await;
    assert_eq!(r, Some((Class::SuccessResponse, None, true)));

    // Hold and unhold with the same ICE credentials: the gateway keeps its own.
    for (version, dir) in [(2, "sendonly"), (3, "sendrecv")] {
        let sdp = client_offer(port, &co.ice, &co.fingerprint, version, dir);
        let ans = reoffer(&mut ua, &mut ws, t0, call, &sdp, false).await;
        let leg = leg_of(&sdp, &ans);
        assert_eq!(
            leg.ice.as_ref(),
            Some(&old),
            "{dir}: no restart, same credentials"
        );
        assert_eq!(leg.fingerprint.as_deref(), Some(fp.as_str()));
    }

    // restartIce(): new client credentials in the re-offer.
    let fresh = Credentials::random(&mut OsRng);
    let sdp = client_offer(port, &fresh, &co.fingerprint, 4, "sendrecv");
    let ans = reoffer(&mut ua, &mut ws, t0, call, &sdp, false).await;
    let leg = leg_of(&sdp, &ans);
    let new = leg
        .ice
        .clone()
        .expect("ICE credentials in the restart answer");
    assert_ne!(
        new.ufrag, old.ufrag,
        "the answer to an ICE restart has a new ufrag"
    );
    assert_ne!(
        new.pwd, old.pwd,
        "the answer to an ICE restart has a new pwd"
    );
    assert!(
        Credentials::new(&new.ufrag, &new.pwd)
            .is_some_and(|c| c.ufrag.len() == old.ufrag.len() && c.pwd.len() == old.pwd.len()),
        "same form as at call start: {new:?}"
    );
    assert_eq!(leg.fingerprint.as_deref(), Some(fp.as_str()), "DTLS kept");
    endpoint.restart_ice(fresh.clone(), new.clone());

    // Media goes on over the old pair (and the DTLS-SRTP association it had).
    let before = endpoint.received(|r| r.packets);
    pump_ua(
        &mut ua,
        &mut ws,
        t0,
        Duration::from_millis(600),
        &mut events,
    )
    .await;
    let after = endpoint.received(|r| r.packets);
    assert!(
        after >= before + 10,
        "media after the restart: {before} → {after}"
    );

    // The old credentials are refused now (401, no integrity: RFC 8489 §9.1.3)…
    let r = stun(
        &stale,
        gw0.addr,
        &check(&old.ufrag, &co.ice.ufrag, &old.pwd, true, 2),
        &old.pwd,
    )
    .await;
    assert_eq!(
        r.map(|(c, e, _)| (c, e)),
        Some((Class::ErrorResponse, Some(401)))
    );
    // …also the gateway's new ufrag with the client's old one.
    let r = stun(
        &stale,
        gw0.addr,
        &check(&new.ufrag, &co.ice.ufrag, &new.pwd, true, 3),
        &new.pwd,
    )
    .await;
    assert_eq!(
        r.map(|(c, e, _)| (c, e)),
        Some((Class::ErrorResponse, Some(401)))
    );
    assert_eq!(media_on(&stale, Duration::from_millis(300)).await, 0);

    // The new credentials pass, signed with the new password; nominating from a new
    // address (the network change) moves the echo there.
    let moved = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let r = stun(
        &moved,
        gw0.addr,
        &check(&new.ufrag, &fresh.ufrag, &new.pwd, true, 4),
        &new.pwd,
    )
    .await;
    assert_eq!(r, Some((Class::SuccessResponse, None, true)));
    let got = media_on(&moved, Duration::from_millis(600)).await;
    assert!(got >= 10, "media to the newly nominated address: {got}");
    assert_eq!(media_on(&stale, Duration::from_millis(100)).await, 0);

    // A second restart, by UPDATE (RFC 3311): newer credentials again, and the first
    // restart's are stale in turn.
    let fresh2 = Credentials::random(&mut OsRng);
    let sdp = client_offer(port, &fresh2, &co.fingerprint, 5, "sendrecv");
    let ans = reoffer(&mut ua, &mut ws, t0, call, &sdp, true).await;
    let new2 = leg_of(&sdp, &ans).ice.expect("ICE credentials");
    assert!(new2 != new && new2 != old, "{new2:?}");
    let r = stun(
        &moved,
        gw0.addr,
        &check(&new.ufrag, &fresh.ufrag, &new.pwd, false, 5),
        &new.pwd,
    )
    .await;
    assert_eq!(
        r.map(|(c, e, _)| (c, e)),
        Some((Class::ErrorResponse, Some(401)))
    );
    let r = stun(
        &moved,
        gw0.addr,
        &check(&new2.ufrag, &fresh2.ufrag, &new2.pwd, false, 6),
        &new2.pwd,
    )
    .await;
    assert_eq!(r, Some((Class::SuccessResponse, None, true)));

    let now = rvoip_core::time::Instant::from_micros(t0.elapsed().as_micros() as u64);
    ua.hangup(now, call).expect("hangup");
    pump_ua(
        &mut ua,
        &mut ws,
        t0,
        Duration::from_millis(300),
        &mut events,
    )
    .await;
    endpoint.stop().await;
    let _ = ws.close(None).await;
    gw.shutdown().await;
}
