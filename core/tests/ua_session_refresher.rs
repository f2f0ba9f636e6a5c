//! RFC 4028's `refresher` parameter names a role in the transaction that carries it (§7,
//! §9): in a refresh the side that sends it is the UAC, whichever side began the call.
//! Hand-written peers check what the UA says in its refreshes and in its 2xx to the
//! peer's refreshes.

use rvoip_core::rand::SplitMix64;
use rvoip_core::sip::ua::{
    Event, Method, Received, SipMsg, Transport, UaConfig, UserAgent, response,
};
use rvoip_core::time::{Duration, Instant};

const US: &str = "10.0.0.1:5060";
const PEER: &str = "10.0.0.2:5060";
const SDP: &[u8] = b"v=0\r\no=x 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

fn ua() -> UserAgent<SplitMix64> {
    let mut cfg = UaConfig::new("sip:us@example.com", US.parse().unwrap());
    cfg.session_expires = Some(90);
    UserAgent::new(cfg, SplitMix64::new(3))
}

fn feed(ua: &mut UserAgent<SplitMix64>, now: Instant, m: &SipMsg) {
    ua.handle_receive(
        now,
        Received {
            transport: Transport::Udp,
            source: PEER.parse().unwrap(),
            bytes: &m.to_bytes(),
        },
    );
}

fn sent(ua: &mut UserAgent<SplitMix64>) -> Vec<SipMsg> {
    core::iter::from_fn(|| ua.poll_transmit())
        .map(|t| SipMsg::parse(&t.bytes).unwrap())
        .collect()
}

/// Runs the UA's timers up to `until`, returning every request it sends.
fn requests_until(ua: &mut UserAgent<SplitMix64>, from: Instant, until: Instant) -> Vec<SipMsg> {
    let mut t = from;
    let mut out = Vec::new();
    while let Some(at) = ua.poll_timeout() {
        if at > until {
            break;
        }
        t = at.max(t);
        ua.handle_timeout(t);
        out.extend(sent(ua).into_iter().filter(SipMsg::is_request));
    }
    out
}

/// A request from the peer inside the dialog `(call_id, our_tag)`.
fn in_dialog(method: &str, cseq: u32, call_id: &str, our_tag: &str, se: &str) -> SipMsg {
    let raw = format!(
        "{method} sip:us@10.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKr{cseq}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:peer@example.com>;tag=peertag\r\n\
         To: <sip:us@example.com>;tag={our_tag}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n\
         Contact: <sip:peer@10.0.0.2:5060>\r\nSupported: timer\r\nSession-Expires: {se}\r\n\
         Content-Length: 0\r\n\r\n"
    );
    SipMsg::parse(raw.as_bytes()).unwrap()
}

/// We call; the peer answers as the refresher (`refresher=uas` in its 2xx).
fn we_call_peer_refreshes() -> (UserAgent<SplitMix64>, String, String) {
    let mut ua = ua();
    let now = Instant::ZERO;
    ua.call(now, "sip:peer@10.0.0.2:5060", SDP).unwrap();
    let invite = sent(&mut ua).remove(0);
    let mut ok = response(&invite, 200, Some("peertag"));
    ok.push("Contact", "<sip:peer@10.0.0.2:5060>");
    ok.push("Allow", "INVITE, ACK, BYE, CANCEL, UPDATE");
    ok.push("Session-Expires", "90;refresher=uas");
    ok.push("Require", "timer");
    ok.push("Content-Type", "application/sdp");
    ok.body = SDP.to_vec();
    feed(&mut ua, now, &ok);
    assert_eq!(sent(&mut ua)[0].method(), Some(Method::Ack));
    let call_id = invite.call_id().unwrap().to_owned();
    let our_tag = invite.from_tag().unwrap().to_owned();
    (ua, call_id, our_tag)
}

#[test]
fn the_called_side_refreshes_as_uac_of_its_refresh() {
    let mut ua = ua();
    let now = Instant::ZERO;
    let invite: &str = "INVITE sip:us@10.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKi1\r\n\
         Max-Forwards: 70\r\nFrom: <sip:peer@example.com>;tag=peertag\r\nTo: <sip:us@example.com>\r\n\
         Call-ID: called-1\r\nCSeq: 1 INVITE\r\nContact: <sip:peer@10.0.0.2:5060>\r\n\
         Allow: INVITE, ACK, BYE, CANCEL, UPDATE\r\nSupported: timer\r\n\
         Session-Expires: 90;refresher=uas\r\nContent-Type: application/sdp\r\n\r\n";
    let mut invite = SipMsg::parse(invite.as_bytes()).unwrap();
    invite.body = SDP.to_vec();
    feed(&mut ua, now, &invite);
    let call = core::iter::from_fn(|| ua.poll_event())
        .find_map(|e| match e {
            Event::IncomingCall { call, .. } => Some(call),
            _ => None,
        })
        .expect("an incoming call");
    sent(&mut ua);
    ua.answer(now, call, SDP).unwrap();
    let ok = sent(&mut ua)
        .into_iter()
        .find(|m| m.code() == Some(200))
        .unwrap();
    // The caller asked us to refresh: in the INVITE transaction we are the UAS.
    assert_eq!(ok.header("Session-Expires"), Some("90;refresher=uas"));
    let our_tag = ok.to_tag().unwrap().to_owned();
    let ack = format!(
        "ACK sip:us@10.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKa1\r\n\
         Max-Forwards: 70\r\nFrom: <sip:peer@example.com>;tag=peertag\r\n\
         To: <sip:us@example.com>;tag={our_tag}\r\nCall-ID: called-1\r\nCSeq: 1 ACK\r\n\r\n"
    );
    feed(&mut ua, now, &SipMsg::parse(ack.as_bytes()).unwrap());
    let reqs = requests_until(&mut ua, now, Instant::ZERO + Duration::from_secs(50));
    let refresh = reqs
        .iter()
        .find(|m| matches!(m.method(), Some(Method::Update | Method::Invite)))
        .expect("we refresh at half the interval");
    // In the refresh we send, we are the UAC and keep the role.
    assert_eq!(refresh.header("Session-Expires"), Some("90;refresher=uac"));
}

#[test]
fn our_2xx_to_the_peers_refresh_names_the_peer_as_its_uac() {
    let (mut ua, call_id, our_tag) = we_call_peer_refreshes();
    let t = Instant::ZERO + Duration::from_secs(40);
    // Nothing from us before the peer's refresh: it is the refresher.
    assert!(requests_until(&mut ua, Instant::ZERO, t).is_empty());
    feed(
        &mut ua,
        t,
        &in_dialog("UPDATE", 1, &call_id, &our_tag, "90;refresher=uac"),
    );
    let ok = sent(&mut ua)
        .into_iter()
        .find(|m| m.code() == Some(200))
        .unwrap();
    assert_eq!(ok.header("Session-Expires"), Some("90;refresher=uac"));
    // Still not ours to refresh; the call outlives the first interval (the non-refresher
    // ends it only 60 s after the last refresh, §10).
    let later = requests_until(&mut ua, t, t + Duration::from_secs(55));
    assert!(later.is_empty(), "{later:?}");
    assert!(!core::iter::from_fn(|| ua.poll_event()).any(|e| matches!(e, Event::Ended { .. })));
}

#[test]
fn the_peer_can_hand_the_refresher_role_over_in_a_refresh() {
    let (mut ua, call_id, our_tag) = we_call_peer_refreshes();
    let t = Instant::ZERO + Duration::from_secs(40);
    feed(
        &mut ua,
        t,
        &in_dialog("UPDATE", 1, &call_id, &our_tag, "90;refresher=uas"),
    );
    let ok = sent(&mut ua)
        .into_iter()
        .find(|m| m.code() == Some(200))
        .unwrap();
    assert_eq!(ok.header("Session-Expires"), Some("90;refresher=uas"));
    // Now we refresh, 45 s after the peer's refresh, as the UAC of our request.
    let reqs = requests_until(&mut ua, t, t + Duration::from_secs(50));
    let refresh = reqs
        .iter()
        .find(|m| m.method() == Some(Method::Update))
        .expect("we took the role over");
    assert_eq!(refresh.header("Session-Expires"), Some("90;refresher=uac"));
}
