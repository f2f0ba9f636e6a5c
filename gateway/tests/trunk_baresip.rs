//! The gateway against a third-party SIP trunk with real media: baresip 1.0 (Debian's
//! `baresip-core`, driven through its `ctrl_tcp` module, see `baresip_util`) plays the
//! trunk on 127.0.0.1 over UDP, without registration (the gateway knows the trunk by its
//! address), answering automatically, sending a 440 Hz sine as G.711 and recording what it
//! decodes. The browser is the core UA over a WebSocket with the native WebRTC test client
//! (ICE, DTLS, SRTP, Opus) sending 1 kHz.
//!
//! - Outbound: the browser calls a number routed to the trunk; baresip answers; each side
//!   detects the other's tone (Goertzel) after Opus ⇄ G.711 transcoding; the browser's
//!   RFC 4733 digits reach baresip; the browser hangs up and the BYE ends baresip's call.
//! - Inbound: baresip dials the DID; the browser rings and answers; tones both ways;
//!   baresip sends RFC 4733 digits that reach the browser; baresip puts the call on hold
//!   (re-INVITE `a=sendonly`, relayed to the browser) and resumes it; baresip hangs up.
//! - Cancels: the browser gives up on a ringing baresip (answering by hand this time), and
//!   baresip gives up on the ringing browser; each CANCEL ends the other leg.
//! - Session timers (RFC 4028, 2 s for the test) with a trunk that has none: called by
//!   baresip, the gateway refreshes by re-INVITE; calling baresip (whose 2xx has no
//!   Session-Expires), the gateway arms no timer; both calls stay up.
//!
//! In the answered calls, the SDP the gateway sends baresip keeps one `o=` session whose
//! version grows by one with each new SDP (RFC 3264 §8; read from baresip's SIP trace).
//!
//! Each ends with its call records and a gateway holding no call, leg, task, route, flow
//! or media port. The test FAILS (never skips) without baresip.

mod baresip_util;
mod signalling_util;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use baresip_util::{Baresip, tone_share};
use rvoip_core::sdp::negotiate::{
    CodecPolicy, LocalMedia, Negotiated, Transport as SdpTransport, WebRtcTransport, answer,
    process_answer,
};
use rvoip_core::sdp::{Direction, Fingerprint, SessionDescription, Setup};
use rvoip_core::sip::ua::{CallId, EndReason, Event};
use rvoip_gateway::media::testclient::{ClientOffer, Endpoint, WebRtcClient};
use signalling_util::*;
use tokio::time::Instant;

/// The browser's tone.
const BROWSER_HZ: f64 = 1000.0;
/// baresip's tone.
const BARESIP_HZ: u32 = 440;
/// The number the browser dials (routed to the trunk by `+1.`); baresip's account user,
/// since baresip 1.0 takes only requests addressed to its account.
const TRUNK_NUMBER: &str = "+15551234567";

/// The browser's answer (DTLS client, `a=setup:active`) to the gateway's `offer`, with
/// direction `dir` and `o=` version `version`; and what was negotiated.
fn browser_answer(
    offer: &[u8],
    c: &ClientOffer,
    dir: Direction,
    version: u64,
) -> (String, Negotiated) {
    let offer = SessionDescription::parse_bytes(offer).expect("the gateway's offer parses");
    let local = LocalMedia {
        session_id: 7,
        session_version: version,
        address: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: c.addr.port(),
        direction: dir,
        ssrc: None,
        msid: None,
        transport: SdpTransport::WebRtc(WebRtcTransport {
            ice_ufrag: &c.ice.ufrag,
            ice_pwd: &c.ice.pwd,
            fingerprint: Fingerprint::parse(&format!("sha-256 {}", c.fingerprint))
                .expect("the client's fingerprint"),
            ice_lite: false,
            answer_setup: Setup::Active,
            candidates: &[],
        }),
    };
    let a = answer(&offer, &CodecPolicy::webrtc(), &local).expect("the offer is answerable");
    (a.sdp.to_string(), a.negotiated)
}

/// The `o=` session id and version of an SDP body.
fn origin(sdp: &[u8]) -> (String, u64) {
    let sdp = SessionDescription::parse_bytes(sdp).expect("SDP");
    let o = sdp.origin().expect("o=").expect("a valid o=");
    (o.session_id.to_string(), o.session_version)
}

/// RFC 3264 §8 on the SDP the gateway sent baresip: one session, whose version starts at
/// 1 and grows by exactly one with each new SDP; returns how many there were.
fn assert_versions_count_up(bs: &Baresip) -> usize {
    let origins = bs.origins_received();
    let versions: Vec<u64> = origins.iter().map(|(_, v)| *v).collect();
    let expected: Vec<u64> = (1..=versions.len() as u64).collect();
    assert_eq!(
        versions, expected,
        "the gateway's SDP to baresip: {origins:?}"
    );
    assert!(
        origins.iter().all(|(id, _)| *id == origins[0].0),
        "{origins:?}"
    );
    versions.len()
}

/// Starts the client's media (a 1 kHz Opus tone) towards the gateway leg of `n`.
fn start_media(client: WebRtcClient, n: &Negotiated) -> Endpoint {
    assert_eq!(n.codec.name.to_ascii_lowercase(), "opus", "{n:?}");
    start_client_media(client, n, BROWSER_HZ)
}

/// What the browser heard at `hz` (see [`tone_share`]).
fn browser_heard(media: &Endpoint, hz: f64) -> f64 {
    media.received(|r| tone_share(&r.pcm, hz))
}

/// Pumps `phone` until the browser hears baresip's tone and baresip hears the browser's
/// (each the dominant frequency of the last second, baresip's from at least a second after
/// sample `since` of its recording), and neither hears its own.
async fn tones_both_ways(phone: &mut Phone, media: &Endpoint, bs: &Baresip, since: usize) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        phone.pump(Duration::from_millis(100)).await;
        let browser = browser_heard(media, f64::from(BARESIP_HZ));
        let trunk = bs.heard_since(since, BROWSER_HZ);
        if browser > 0.8 && trunk > 0.8 {
            assert!(
                browser_heard(media, BROWSER_HZ) < 0.05,
                "the browser hears itself"
            );
            assert!(
                bs.heard_since(since, f64::from(BARESIP_HZ)) < 0.05,
                "baresip hears itself"
            );
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no tone both ways: the browser hears {BARESIP_HZ} Hz at {browser:.2} ({} \
             packets, DTLS {}), baresip hears {BROWSER_HZ} Hz at {trunk:.2} ({} samples)\n{}",
            media.received(|r| r.packets),
            media.received(|r| r.media_ready),
            bs.recording().len(),
            bs.log()
        );
    }
}

/// The live packet counts `/api/calls` publishes (about once a second) for the one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Figures {
    /// RTP packets the gateway sent to the trunk.
    trunk_out: u64,
    /// RTP packets the gateway received from the browser.
    browser_in: u64,
}

/// The call's figures from `/api/calls`; `None` before their first publication.
async fn figures(gw: &Gw) -> Option<Figures> {
    let (status, body) = http_get(gw.http_addr(), "/api/calls", true).await;
    assert_eq!(status, 200, "{body}");
    let calls: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let leg = |kind: &str, field: &str| {
        calls[0]["legs"]
            .as_array()?
            .iter()
            .find(|l| l["kind"] == kind)?[field]
            .as_u64()
    };
    Some(Figures {
        trunk_out: leg("sip", "packets_out")?,
        browser_in: leg("webrtc", "packets_in")?,
    })
}

/// Pumps `phone` until the call's figures are published anew (the browser's packet count
/// differs from `after`'s, or any figures when `after` is `None`); returns them.
async fn next_figures(gw: &Gw, phone: &mut Phone, after: Option<Figures>) -> Figures {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(f) = figures(gw).await
            && after.is_none_or(|a| a.browser_in != f.browser_in)
        {
            return f;
        }
        assert!(
            Instant::now() < deadline,
            "no new call figures after {after:?}"
        );
        phone.pump(Duration::from_millis(100)).await;
    }
}

/// Pumps `phone` until baresip reports the event `ty`; returns it.
async fn baresip_event(bs: &mut Baresip, phone: &mut Phone, ty: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(e) = bs.try_event(ty) {
            return e;
        }
        assert!(
            Instant::now() < deadline,
            "baresip never reported {ty}:\n{}",
            bs.log()
        );
        phone.pump(Duration::from_millis(20)).await;
    }
}

/// The call is over on both sides: close the browser's WebSocket, check that the gateway
/// holds nothing and recorded one call ended with `cause` that carried media both ways
/// with transcoding.
async fn finish(gw: Gw, mut phone: Phone, media: Endpoint, cause: &str) {
    media.stop().await;
    phone.close().await;
    assert_clean(&gw).await;
    assert_one_cdr(&gw, cause);
    let cdr = &gw.store().cdrs(&Default::default()).expect("cdrs")[0];
    assert!(cdr.transcoded, "Opus ⇄ G.711 is transcoded: {cdr:?}");
    assert!(cdr.a_leg.packets_in >= 50, "{:?}", cdr.a_leg);
    assert!(cdr.b_leg.packets_in >= 50, "{:?}", cdr.b_leg);
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_calls_baresip_trunk_tones_both_ways_and_its_bye_ends_the_call() {
    let mut bs = Baresip::start(TRUNK_NUMBER, BARESIP_HZ).await;
    let gw = start_gateway(&format!("127.0.0.1:{}", bs.sip_port), "").await;
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 61).await;
    let client = WebRtcClient::new().await.expect("client");
    let offer = browser_offer(&client.offer(), 110, 48_000);
    let now = alice.now();
    let call: CallId = alice
        .ua
        .call(
            now,
            &format!("sip:{TRUNK_NUMBER}@127.0.0.1"),
            offer.as_bytes(),
        )
        .expect("call");
    let answer = alice
        .wait("the answer", |e| match e {
            Event::Answered { call: c, sdp } if *c == call => Some(Ok(sdp.clone())),
            Event::Ended { call: c, reason } if *c == call => Some(Err(*reason)),
            _ => None,
        })
        .await
        .unwrap_or_else(|r| panic!("the call failed: {r:?}\n{}", bs.log()))
        .expect("an SDP answer");
    let established = baresip_event(&mut bs, &mut alice, "CALL_ESTABLISHED").await;
    assert_eq!(established["direction"], "incoming", "{established}");
    let o = SessionDescription::parse(&offer).expect("offer");
    let a = SessionDescription::parse_bytes(&answer).expect("answer");
    let n = process_answer(&o, &a).expect("a usable answer");
    let media = start_media(client, &n);

    tones_both_ways(&mut alice, &media, &bs, 0).await;

    // The browser's RFC 4733 digits (at the Opus clock) reach baresip at 8000 Hz, which
    // reports each one.
    for digit in ['7', '*'] {
        media.send_digit(digit, Duration::from_millis(120));
        let e = baresip_event(&mut bs, &mut alice, "CALL_DTMF_START").await;
        assert_eq!(e["param"], digit.to_string(), "{e}");
    }

    alice.hangup(call);
    alice.ended("the end of the call", call).await;
    assert_eq!(
        assert_versions_count_up(&bs),
        1,
        "one SDP: the INVITE's offer"
    );
    // baresip's reason for a call the peer ended with BYE (ECONNRESET's text).
    let closed = baresip_event(&mut bs, &mut alice, "CALL_CLOSED").await;
    assert_eq!(closed["direction"], "incoming", "{closed}");
    assert_eq!(closed["param"], "Connection reset by peer", "{closed}");
    finish(gw, alice, media, "normal: caller hung up").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_trunk_calls_the_did_tones_dtmf_hold_and_its_bye_end_the_call() {
    let mut bs = Baresip::start(TRUNK_NUMBER, BARESIP_HZ).await;
    let gw = start_gateway(&format!("127.0.0.1:{}", bs.sip_port), "").await;
    let mut bob = Phone::connect(&gw, "bob", BOB_PW, 62).await;
    bob.register().await;

    let target = format!("sip:{DID}@{}", gw.udp_addr().expect("udp"));
    bs.command("dial", &target).await;
    let (call, offer) = bob.incoming().await;
    let offer = offer.expect("the gateway's offer in the INVITE");
    let mut last_origin = origin(&offer);
    let client = WebRtcClient::new().await.expect("client");
    let co = client.offer();
    let (sdp, n) = browser_answer(&offer, &co, Direction::SendRecv, 1);
    let now = bob.now();
    bob.ua.answer(now, call, sdp.as_bytes()).expect("answer");
    let media = start_media(client, &n);
    let established = baresip_event(&mut bs, &mut bob, "CALL_ESTABLISHED").await;
    assert_eq!(established["direction"], "outgoing", "{established}");

    tones_both_ways(&mut bob, &media, &bs, 0).await;

    // RFC 4733 digits from baresip reach the browser (as events at the Opus clock).
    for digit in ['5', '#'] {
        bs.command("sndcode", &digit.to_string()).await;
        let deadline = Instant::now() + Duration::from_secs(5);
        while !media.received(|r| r.events.iter().any(|e| e.digit == digit && e.end)) {
            assert!(
                Instant::now() < deadline,
                "digit {digit} never reached the browser: {:?}",
                media.received(|r| r.events.clone())
            );
            bob.pump(Duration::from_millis(50)).await;
        }
    }

    // Hold: baresip's re-INVITE (a=sendonly) reaches the browser as a re-offer and the
    // browser answers recvonly, so the gateway must stop sending to the trunk (RFC 3264
    // §6.1); baresip 1.0 itself goes silent while holding. Resume: sendrecv again; the
    // browser hears baresip and the gateway sends to the trunk again. (baresip 1.0's
    // `sndfile` recording stops at the first re-INVITE — between two baresips too — so what
    // baresip hears after one is not checked from its recording.)
    for (v, (command, offered, answered)) in [
        ("hold", "a=sendonly", Direction::RecvOnly),
        ("resume", "a=sendrecv", Direction::SendRecv),
    ]
    .into_iter()
    .enumerate()
    {
        bs.command(command, "").await;
        let reoffer = bob
            .wait("the relayed re-offer", |e| match e {
                Event::OfferReceived { call: c, sdp } if *c == call => sdp.clone(),
                _ => None,
            })
            .await;
        let text = String::from_utf8_lossy(&reoffer).to_string();
        assert!(text.contains(offered), "{command}: {text}");
        // RFC 3264 §8: the same o= session, its version one more than the last SDP's.
        let (id, version) = origin(&reoffer);
        assert_eq!(
            (id.as_str(), version),
            (last_origin.0.as_str(), last_origin.1 + 1),
            "{command}: {text}"
        );
        last_origin = (id, version);
        let (sdp, _) = browser_answer(&reoffer, &co, answered, 2 + v as u64);
        let now = bob.now();
        bob.ua
            .answer(now, call, sdp.as_bytes())
            .expect("answer the re-offer");
        if answered == Direction::RecvOnly {
            // Live figures are snapshots (the media thread's, about once a second, then
            // published): the second new snapshot after the answer was sent was taken after
            // it took effect; between it and the next, nothing may go to the trunk. The
            // browser keeps sending, so its leg's count tells snapshots apart.
            let seen = next_figures(&gw, &mut bob, None).await;
            let after = next_figures(&gw, &mut bob, Some(seen)).await;
            let first = next_figures(&gw, &mut bob, Some(after)).await;
            let second = next_figures(&gw, &mut bob, Some(first)).await;
            assert_eq!(
                second.trunk_out, first.trunk_out,
                "the gateway sends to a trunk that holds the call ({first:?} → {second:?})"
            );
        } else {
            media.clear();
            let before = next_figures(&gw, &mut bob, None).await;
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                bob.pump(Duration::from_millis(100)).await;
                let heard = browser_heard(&media, f64::from(BARESIP_HZ));
                let sent = figures(&gw).await.map_or(0, |f| f.trunk_out);
                if heard > 0.8 && sent >= before.trunk_out + 50 {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "after {command}: the browser hears baresip at {heard:.2}, the gateway \
                     sent the trunk {} packets",
                    sent.saturating_sub(before.trunk_out)
                );
            }
        }
    }

    // The answers to the INVITE, the hold and the resume.
    assert_eq!(assert_versions_count_up(&bs), 3);

    bs.command("hangup", "").await;
    bob.ended("the trunk's hang-up", call).await;
    let closed = baresip_event(&mut bs, &mut bob, "CALL_CLOSED").await;
    assert_eq!(closed["direction"], "outgoing", "{closed}");
    finish(gw, bob, media, "normal: caller hung up").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancels_either_way_end_both_legs_before_the_answer() {
    let mut bs = Baresip::start_answering(TRUNK_NUMBER, BARESIP_HZ, "manual").await;
    let gw = start_gateway(&format!("127.0.0.1:{}", bs.sip_port), "").await;

    // The browser calls; baresip rings (it answers only when told); the browser gives up:
    // its CANCEL is relayed and ends baresip's call.
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 63).await;
    let now = alice.now();
    let call = alice
        .ua
        .call(now, &format!("sip:{TRUNK_NUMBER}@127.0.0.1"), WEBRTC_OFFER)
        .expect("call");
    let incoming = baresip_event(&mut bs, &mut alice, "CALL_INCOMING").await;
    assert_eq!(incoming["direction"], "incoming", "{incoming}");
    alice
        .wait("the ringing", |e| {
            matches!(e, Event::Ringing { call: c, .. } if *c == call).then_some(())
        })
        .await;
    alice.hangup(call);
    let reason = alice.ended("the cancelled call's end", call).await;
    assert_eq!(reason, EndReason::LocalHangup, "{reason:?}");
    let closed = baresip_event(&mut bs, &mut alice, "CALL_CLOSED").await;
    assert_eq!(closed["direction"], "incoming", "{closed}");
    alice.close().await;

    // baresip calls the DID; the browser rings; baresip gives up: the browser's call ends.
    let mut bob = Phone::connect(&gw, "bob", BOB_PW, 64).await;
    bob.register().await;
    let target = format!("sip:{DID}@{}", gw.udp_addr().expect("udp"));
    bs.command("dial", &target).await;
    let (call, _) = bob.incoming().await;
    baresip_event(&mut bs, &mut bob, "CALL_RINGING").await;
    bs.command("hangup", "").await;
    let reason = bob.ended("the trunk's CANCEL", call).await;
    assert_eq!(reason, EndReason::Cancelled, "{reason:?}");
    let closed = baresip_event(&mut bs, &mut bob, "CALL_CLOSED").await;
    assert_eq!(closed["direction"], "outgoing", "{closed}");
    bob.close().await;

    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    let causes: Vec<&str> = cdrs.iter().map(|c| c.cause.as_str()).collect();
    assert_eq!(causes, ["cancelled", "cancelled"], "{cdrs:?}");
    assert!(cdrs.iter().all(|c| c.answered_ms.is_none()), "{cdrs:?}");
    gw.shutdown().await;
}

/// Whether `phone` saw `call` end (its events are kept).
fn ended(phone: &Phone, call: CallId) -> Option<EndReason> {
    phone.events.iter().find_map(|e| match e {
        Event::Ended { call: c, reason } if *c == call => Some(*reason),
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_timers_keep_calls_with_a_trunk_that_has_none() {
    // RFC 4028 with a short test interval (2 s, Min-SE 1 s). baresip 1.0 supports no
    // session timers: called by it, the gateway (UAS) must be the refresher (§9) and
    // refresh by re-INVITE (no UPDATE in baresip's Allow); calling it, its 2xx has no
    // Session-Expires, so that leg has no timer (§7.4) and must not expire.
    let mut bs = Baresip::start(TRUNK_NUMBER, BARESIP_HZ).await;
    let gw = start_gateway_with(
        &format!("127.0.0.1:{}", bs.sip_port),
        "session_expires = 2\nmin_se = 1\n",
        "",
        "",
    )
    .await;

    // baresip calls bob: two refreshes (re-INVITEs with an offer) reach baresip and the
    // call stays up.
    let mut bob = Phone::connect(&gw, "bob", BOB_PW, 65).await;
    bob.register().await;
    let target = format!("sip:{DID}@{}", gw.udp_addr().expect("udp"));
    bs.command("dial", &target).await;
    let (call, offer) = bob.incoming().await;
    let client = WebRtcClient::new().await.expect("client");
    let client_offer = client.offer();
    let (sdp, n) = browser_answer(
        &offer.expect("an offer"),
        &client_offer,
        Direction::SendRecv,
        1,
    );
    let now = bob.now();
    bob.ua.answer(now, call, sdp.as_bytes()).expect("answer");
    let media = start_media(client, &n);
    baresip_event(&mut bs, &mut bob, "CALL_ESTABLISHED").await;
    let mut refreshes = 0u64;
    while refreshes < 2 {
        let e = baresip_event(&mut bs, &mut bob, "CALL_REMOTE_SDP").await;
        if e["param"] == "offer" {
            refreshes += 1;
        }
        assert_eq!(
            ended(&bob, call),
            None,
            "the call ended after {refreshes} refreshes"
        );
    }
    assert!(bs.try_event("CALL_CLOSED").is_none(), "{}", bs.log());
    // baresip holds: the gateway's answer counts on from its refreshes' versions.
    bs.command("hold", "").await;
    let reoffer = bob
        .wait("the relayed hold", |e| match e {
            Event::OfferReceived { call: c, sdp } if *c == call => sdp.clone(),
            _ => None,
        })
        .await;
    let (sdp, _) = browser_answer(&reoffer, &client_offer, Direction::RecvOnly, 2);
    let now = bob.now();
    bob.ua.answer(now, call, sdp.as_bytes()).expect("answer");
    // baresip reports the answer (refreshes may come in between: their offers).
    while baresip_event(&mut bs, &mut bob, "CALL_REMOTE_SDP").await["param"] != "answer" {}
    // The answer to the INVITE, the refreshes, the answer to the hold (and any refresh
    // since).
    assert!(assert_versions_count_up(&bs) >= refreshes as usize + 2);
    bs.command("hangup", "").await;
    bob.ended("the trunk's hang-up", call).await;
    baresip_event(&mut bs, &mut bob, "CALL_CLOSED").await;
    media.stop().await;
    bob.close().await;

    // alice calls baresip: the call outlives two intervals (a wrongly armed timer would
    // have refreshed or, as non-refresher, expired after 1.33 s).
    let mut alice = Phone::connect(&gw, "alice", ALICE_PW, 66).await;
    let now = alice.now();
    let call = alice
        .ua
        .call(now, &format!("sip:{TRUNK_NUMBER}@127.0.0.1"), WEBRTC_OFFER)
        .expect("call");
    alice
        .wait("the answer", |e| {
            matches!(e, Event::Answered { call: c, .. } if *c == call).then_some(())
        })
        .await;
    baresip_event(&mut bs, &mut alice, "CALL_ESTABLISHED").await;
    // Nothing to poll for: no event may happen.
    alice.pump(Duration::from_secs(4)).await;
    assert_eq!(ended(&alice, call), None);
    assert!(bs.try_event("CALL_CLOSED").is_none(), "{}", bs.log());
    alice.hangup(call);
    alice.ended("the end of the call", call).await;
    let closed = baresip_event(&mut bs, &mut alice, "CALL_CLOSED").await;
    assert_eq!(closed["param"], "Connection reset by peer", "{closed}");
    alice.close().await;

    assert_clean(&gw).await;
    let cdrs = gw.store().cdrs(&Default::default()).expect("cdrs");
    let causes: Vec<&str> = cdrs.iter().map(|c| c.cause.as_str()).collect();
    assert_eq!(
        causes,
        ["normal: caller hung up", "normal: caller hung up"],
        "{cdrs:?}"
    );
    gw.shutdown().await;
}
