//! Offer/answer (RFC 3264) on real browser offers and trunk offers.

use core::net::SocketAddr;
use rvoip_core::rand::SplitMix64;
use rvoip_core::sdp::negotiate::{
    Codec, CodecPolicy, LocalMedia, Negotiated, OfferAnswerError, RtpTransport, Transport,
    WebRtcTransport, answer, offer, process_answer, random_ice_credentials, random_session_id,
};
use rvoip_core::sdp::{
    CryptoSuite, Direction, Fingerprint, HashFunction, SessionDescription, Setup,
};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{DIR}/sdp/{name}")).unwrap()
}

fn sip_body(name: &str) -> String {
    let msg = std::fs::read_to_string(format!("{DIR}/sip/{name}")).unwrap();
    msg.split_once("\r\n\r\n").unwrap().1.to_string()
}

fn fingerprint() -> Fingerprint {
    let bytes: Vec<u8> = (0..32).map(|i| i * 7).collect();
    Fingerprint::new(HashFunction::Sha256, &bytes).unwrap()
}

fn webrtc_local() -> LocalMedia<'static> {
    LocalMedia {
        session_id: 4242,
        session_version: 1,
        address: "203.0.113.5".parse().unwrap(),
        port: 40000,
        direction: Direction::SendRecv,
        ssrc: Some((0x1234_5678, "gw")),
        msid: None,
        transport: Transport::WebRtc(WebRtcTransport {
            ice_ufrag: "gwUF",
            ice_pwd: "gatewaypasswordgatewaypw",
            fingerprint: fingerprint(),
            ice_lite: true,
            answer_setup: Setup::Passive,
            candidates: &[],
        }),
    }
}

const KEY: [u8; 30] = [
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
    27, 28, 29, 30,
];

fn trunk_local(sdes_key: Option<&'static [u8]>) -> LocalMedia<'static> {
    LocalMedia {
        session_id: 77,
        session_version: 3,
        address: "198.51.100.7".parse().unwrap(),
        port: 20000,
        direction: Direction::SendRecv,
        ssrc: None,
        msid: None,
        transport: Transport::Rtp(RtpTransport {
            rtcp_port: None,
            rtcp_mux: false,
            sdes_key,
        }),
    }
}

fn parse(text: &str) -> SessionDescription<'_> {
    SessionDescription::parse(text).unwrap()
}

/// What a browser's setRemoteDescription(answer) needs from an answer to its offer.
fn assert_browser_acceptable(offer: &SessionDescription<'_>, answer_text: &str) {
    let ans = parse(answer_text);
    assert_eq!(ans.to_string(), answer_text, "answer is canonical");
    assert_eq!(ans.media().len(), offer.media().len());
    let mut accepted = 0;
    for (o, a) in offer.media().iter().zip(ans.media()) {
        let (oml, aml) = (o.media_line(), a.media_line());
        assert_eq!(aml.media, oml.media);
        assert_eq!(aml.proto, oml.proto);
        assert_eq!(a.mid(), o.mid(), "mid echoed in order");
        if aml.port == 0 {
            continue;
        }
        accepted += 1;
        let offered: Vec<u8> = oml.payload_types().collect();
        for pt in aml.payload_types() {
            assert!(offered.contains(&pt), "answer PT {pt} was offered");
            let (ar, or) = (a.rtpmap(pt).unwrap(), o.rtpmap(pt).unwrap());
            assert!(ar.encoding.eq_ignore_ascii_case(or.encoding));
            assert_eq!(ar.clock_rate, or.clock_rate);
        }
        let fps: Vec<_> = ans.fingerprints(a).collect();
        assert_eq!(fps.len(), 1);
        assert_eq!(fps[0].hash(), HashFunction::Sha256);
        assert!(matches!(
            ans.setup(a),
            Some(Ok(Setup::Active | Setup::Passive))
        ));
        let (ufrag, pwd) = ans.ice_credentials(a).unwrap();
        assert!(ufrag.len() >= 4 && pwd.len() >= 22);
        assert!(a.rtcp_mux(), "WebRTC requires rtcp-mux");
        assert!(a.candidates().count() >= 1);
        assert!(a.candidates().all(|c| c.is_ok()));
        let bundle = ans.bundle().unwrap();
        assert!(bundle.contains(a.mid().unwrap()));
        assert!(ans.connection_for(a).unwrap().is_ok());
    }
    assert_eq!(accepted, 1);
}

#[test]
fn chromium_offer_webrtc_policy_chooses_opus() {
    let text = fixture("chromium_audio_offer.sdp");
    let offer = parse(&text);
    let a = answer(&offer, &CodecPolicy::webrtc(), &webrtc_local()).unwrap();
    let n = &a.negotiated;
    assert_eq!(
        (
            n.codec.payload_type,
            n.codec.name.as_str(),
            n.codec.clock_rate,
            n.codec.channels
        ),
        (111, "opus", 48000, 2)
    );
    assert_eq!(n.codec.fmtp.as_deref(), Some("minptime=10;useinbandfec=1"));
    assert_eq!(
        n.telephone_event.map(|t| t.payload_type),
        Some(110),
        "telephone-event/48000 goes with opus"
    );
    assert_eq!(n.remote_rtp, Some("192.0.2.2:60005".parse().unwrap()));
    assert!(n.rtcp_mux);
    assert_eq!(n.remote_rtcp, None);
    assert_eq!(n.direction, Direction::SendRecv);
    assert_eq!(n.mid.as_deref(), Some("0"));
    let ice = n.remote_ice.as_ref().unwrap();
    assert_eq!(
        (ice.ufrag.as_str(), ice.pwd.as_str()),
        ("lvot", "s3NOGeUyjoTtf0DRY8uUT9L+")
    );
    assert_eq!(ice.candidates().count(), 4);
    assert!(!ice.lite && !ice.end_of_candidates);
    let dtls = n.dtls.as_ref().unwrap();
    assert_eq!(dtls.local_setup, Setup::Passive);
    assert_eq!(
        dtls.remote_fingerprints,
        offer.fingerprints(&offer.media()[0]).collect::<Vec<_>>()
    );

    let text = a.sdp.to_string();
    assert_browser_acceptable(&offer, &text);
    let ans = parse(&text);
    assert!(ans.ice_lite());
    let m = &ans.media()[0];
    assert_eq!(
        m.media_line().payload_types().collect::<Vec<_>>(),
        [111, 110]
    );
    assert_eq!(m.fmtp(111).unwrap().params, "minptime=10;useinbandfec=1");
    assert_eq!(ans.setup(m), Some(Ok(Setup::Passive)));
    assert_eq!(ans.fingerprints(m).next(), Some(fingerprint()));
    assert!(m.has_attribute("end-of-candidates"));
    let c = m.candidates().next().unwrap().unwrap();
    assert_eq!((c.address, c.port), ("203.0.113.5", 40000));
    assert!(text.contains("a=ssrc:305419896 cname:gw\r\n"));
}

#[test]
fn chromium_offer_trunk_codecs_choose_pcmu() {
    let text = fixture("chromium_audio_offer.sdp");
    let offer = parse(&text);
    let a = answer(&offer, &CodecPolicy::trunk(), &webrtc_local()).unwrap();
    assert_eq!(
        (
            a.negotiated.codec.payload_type,
            a.negotiated.codec.name.as_str()
        ),
        (0, "PCMU")
    );
    assert_eq!(
        a.negotiated.telephone_event.map(|t| t.payload_type),
        Some(126),
        "telephone-event/8000 goes with PCMU"
    );
    assert_browser_acceptable(&offer, &a.sdp.to_string());
    // A plain RTP transport cannot take a DTLS-SRTP offer.
    assert_eq!(
        answer(&offer, &CodecPolicy::trunk(), &trunk_local(None)).unwrap_err(),
        OfferAnswerError::NoAcceptableMedia
    );
}

#[test]
fn firefox_offers_are_answered() {
    let text = fixture("firefox_audio_offer.sdp");
    let offer = parse(&text);
    let a = answer(&offer, &CodecPolicy::webrtc(), &webrtc_local()).unwrap();
    let n = &a.negotiated;
    assert_eq!((n.codec.payload_type, n.codec.name.as_str()), (109, "opus"));
    // Firefox offers telephone-event only at 8000; the WebRTC policy takes it anyway
    // (as Firefox's own answers do), a strict policy does not.
    let te = n.telephone_event.unwrap();
    assert_eq!((te.payload_type, te.clock_rate), (101, 8000));
    let mut strict = CodecPolicy::webrtc();
    strict.telephone_event_any_clock = false;
    let s = answer(&offer, &strict, &webrtc_local()).unwrap();
    assert_eq!(s.negotiated.telephone_event, None);
    assert!(!s.sdp.to_string().contains("telephone-event"));
    // Firefox's session-level fingerprint is inherited.
    assert_eq!(n.dtls.as_ref().unwrap().remote_fingerprints.len(), 1);
    assert!(n.remote_ice.as_ref().unwrap().end_of_candidates);
    assert_browser_acceptable(&offer, &a.sdp.to_string());

    let text = fixture("firefox_av_offer.sdp");
    let offer = parse(&text);
    let a = answer(&offer, &CodecPolicy::webrtc(), &webrtc_local()).unwrap();
    let out = a.sdp.to_string();
    assert_browser_acceptable(&offer, &out);
    let ans = parse(&out);
    let video = &ans.media()[1];
    assert_eq!(video.media_line().port, 0);
    assert_eq!(video.mid(), Some("1"));
    assert_eq!(ans.bundle().unwrap().mids().collect::<Vec<_>>(), ["0"]);
}

#[test]
fn chromium_av_offer_rejects_video() {
    let text = fixture("chromium_av_offer.sdp");
    let offer = parse(&text);
    let a = answer(&offer, &CodecPolicy::webrtc(), &webrtc_local()).unwrap();
    assert_eq!(a.negotiated.media_index, 0);
    let out = a.sdp.to_string();
    assert_browser_acceptable(&offer, &out);
    assert!(out.contains("m=video 0 UDP/TLS/RTP/SAVPF 96 97"));
}

#[test]
fn bundle_only_audio_uses_the_tagged_transport() {
    // RFC 8843 §7.2.1: video is the offerer-tagged section; audio is port 0 + bundle-only.
    let text = fixture("chromium_av_offer.sdp")
        .replace("a=group:BUNDLE 0 1", "a=group:BUNDLE 1 0")
        .replace(
            "m=audio 38139 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n",
            "m=audio 0 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\na=bundle-only\r\n",
        );
    let offer = parse(&text);
    assert_eq!(offer.media()[0].media_line().port, 0);
    let a = answer(&offer, &CodecPolicy::webrtc(), &webrtc_local()).unwrap();
    let n = &a.negotiated;
    assert_eq!((n.media_index, n.mid.as_deref()), (0, Some("0")));
    assert_eq!(n.remote_rtp, Some("192.0.2.2:60816".parse().unwrap()));
    assert!(n.rtcp_mux);
    let out = a.sdp.to_string();
    let ans = parse(&out);
    assert_eq!(ans.media()[0].media_line().port, 40000);
    assert_eq!(ans.media()[1].media_line().port, 0);
    assert_eq!(ans.bundle().unwrap().mids().collect::<Vec<_>>(), ["0"]);
    // Without bundle-only, a port-0 audio section is rejected: nothing acceptable is left.
    let rejected = text.replace("a=bundle-only\r\n", "");
    let e = answer(&parse(&rejected), &CodecPolicy::webrtc(), &webrtc_local()).unwrap_err();
    assert_eq!(e, OfferAnswerError::NoAcceptableMedia);
}

#[test]
fn jssip_and_sipjs_invite_bodies_are_answered() {
    for name in [
        "chromium_jssip_invite.sip",
        "firefox_jssip_invite.sip",
        "chromium_sipjs_invite.sip",
        "firefox_sipjs_invite.sip",
    ] {
        let body = sip_body(name);
        let offer = parse(&body);
        assert_eq!(offer.to_string(), body, "{name}");
        let a = answer(&offer, &CodecPolicy::webrtc(), &webrtc_local()).unwrap();
        assert_eq!(a.negotiated.codec.name, "opus", "{name}");
        assert_browser_acceptable(&offer, &a.sdp.to_string());
    }
}

fn without(text: &str, prefix: &str) -> String {
    text.split_inclusive("\r\n")
        .filter(|l| !l.starts_with(prefix))
        .collect()
}

#[test]
fn webrtc_offer_without_fingerprint_or_ice_is_488() {
    let text = fixture("chromium_audio_offer.sdp");
    let no_fp = without(&text, "a=fingerprint");
    let e = answer(&parse(&no_fp), &CodecPolicy::webrtc(), &webrtc_local()).unwrap_err();
    assert_eq!(e, OfferAnswerError::MissingFingerprint);
    assert_eq!(e.sip_status(), 488);
    // Firefox: at session level.
    let text_ff = fixture("firefox_audio_offer.sdp");
    let no_fp = without(&text_ff, "a=fingerprint");
    let e = answer(&parse(&no_fp), &CodecPolicy::webrtc(), &webrtc_local()).unwrap_err();
    assert_eq!(e, OfferAnswerError::MissingFingerprint);
    // A fingerprint with an unknown hash function is not usable either.
    let weird = text.replace("a=fingerprint:sha-256", "a=fingerprint:sha-3");
    let e = answer(&parse(&weird), &CodecPolicy::webrtc(), &webrtc_local()).unwrap_err();
    assert_eq!(e, OfferAnswerError::MissingFingerprint);

    let no_pwd = without(&text, "a=ice-pwd");
    let e = answer(&parse(&no_pwd), &CodecPolicy::webrtc(), &webrtc_local()).unwrap_err();
    assert_eq!(e, OfferAnswerError::MissingIceCredentials);
}

#[test]
fn dtls_setup_roles() {
    let text = fixture("chromium_audio_offer.sdp");
    for (offered, ours) in [
        ("active", Setup::Passive),
        ("passive", Setup::Active),
        ("actpass", Setup::Passive),
    ] {
        let t = text.replace("a=setup:actpass", &format!("a=setup:{offered}"));
        let a = answer(&parse(&t), &CodecPolicy::webrtc(), &webrtc_local()).unwrap();
        assert_eq!(a.negotiated.dtls.unwrap().local_setup, ours, "{offered}");
    }
    let t = text.replace("a=setup:actpass", "a=setup:holdconn");
    let e = answer(&parse(&t), &CodecPolicy::webrtc(), &webrtc_local()).unwrap_err();
    assert_eq!(e, OfferAnswerError::BadSetup);
    // No a=setup in the offer means actpass; an answerer that prefers active takes it.
    let t = without(&text, "a=setup");
    let mut local = webrtc_local();
    if let Transport::WebRtc(w) = &mut local.transport {
        w.answer_setup = Setup::Active;
    }
    let a = answer(&parse(&t), &CodecPolicy::webrtc(), &local).unwrap();
    assert_eq!(a.negotiated.dtls.unwrap().local_setup, Setup::Active);
    assert!(a.sdp.to_string().contains("a=setup:active\r\n"));
}

fn trunk_answer(text: &str) -> Result<(Negotiated, String), OfferAnswerError> {
    let a = answer(&parse(text), &CodecPolicy::trunk(), &trunk_local(None))?;
    Ok((a.negotiated, a.sdp.to_string()))
}

#[test]
fn asterisk_offer_trunk_answer() {
    let (n, out) = trunk_answer(&fixture("trunk_asterisk_offer.sdp")).unwrap();
    assert_eq!((n.codec.payload_type, n.codec.name.as_str()), (0, "PCMU"));
    assert_eq!(n.telephone_event.map(|t| t.payload_type), Some(101));
    assert_eq!(n.remote_rtp, Some("203.0.113.10:14582".parse().unwrap()));
    assert_eq!(n.remote_rtcp, Some("203.0.113.10:14583".parse().unwrap()));
    assert!(!n.rtcp_mux && n.remote_ice.is_none() && n.dtls.is_none() && n.sdes.is_none());
    assert_eq!(n.remote_ptime, Some(20));
    let ans = parse(&out);
    let m = &ans.media()[0];
    assert_eq!(m.m_line().value(), "audio 20000 RTP/AVP 0 101");
    assert_eq!(m.ptime(), Some(20));
    assert_eq!(m.fmtp(101).unwrap().params, "0-16");
    assert_eq!(ans.direction(m), Direction::SendRecv);
    let c = ans.connection_for(m).unwrap().unwrap();
    assert_eq!(c.ip(), Some("198.51.100.7".parse().unwrap()));
    let o = ans.origin().unwrap().unwrap();
    assert_eq!((o.session_id, o.session_version), ("77", 3));
}

#[test]
fn freeswitch_offer_follows_local_preference() {
    // FreeSWITCH prefers G722; the trunk policy has no G722, so PCMU.
    let text = fixture("trunk_freeswitch_offer.sdp");
    let (n, _) = trunk_answer(&text).unwrap();
    assert_eq!(n.codec.name, "PCMU");
    assert_eq!(n.remote_rtcp, Some("198.51.100.20:16385".parse().unwrap()));
    let mut policy = CodecPolicy::trunk();
    policy.codecs.insert(0, Codec::g722());
    let a = answer(&parse(&text), &policy, &trunk_local(None)).unwrap();
    assert_eq!(
        (
            a.negotiated.codec.payload_type,
            a.negotiated.codec.name.as_str()
        ),
        (9, "G722")
    );
    // With PCMA first, PCMA.
    let mut policy = CodecPolicy::trunk();
    policy.codecs.reverse();
    let a = answer(&parse(&text), &policy, &trunk_local(None)).unwrap();
    assert_eq!(a.negotiated.codec.payload_type, 8);
}

#[test]
fn hold_and_unhold() {
    let base = fixture("trunk_carrier_offer.sdp");
    let cases = [
        ("a=sendrecv", Direction::SendRecv),
        ("a=sendonly", Direction::RecvOnly),
        ("a=recvonly", Direction::SendOnly),
        ("a=inactive", Direction::Inactive),
    ];
    for (attr, expected) in cases {
        let t = base.replace("a=sendrecv", attr);
        let (n, out) = trunk_answer(&t).unwrap();
        assert_eq!(n.direction, expected, "{attr}");
        let ans = parse(&out);
        assert_eq!(ans.direction(&ans.media()[0]), expected, "{attr}");
        assert!(!n.old_style_hold);
    }
    // RFC 2543 hold: c=0.0.0.0 with sendrecv.
    let (n, out) = trunk_answer(&fixture("trunk_carrier_hold_offer.sdp")).unwrap();
    assert!(n.old_style_hold);
    assert_eq!(n.remote_rtp, None);
    assert_eq!(n.direction, Direction::RecvOnly);
    assert!(out.contains("a=recvonly\r\n"));
    // Local hold: we only send.
    let mut local = trunk_local(None);
    local.direction = Direction::SendOnly;
    let a = answer(&parse(&base), &CodecPolicy::trunk(), &local).unwrap();
    assert_eq!(a.negotiated.direction, Direction::SendOnly);
    // Session-level direction is inherited.
    let t = base
        .replace("a=sendrecv\r\n", "")
        .replace("t=0 0\r\n", "t=0 0\r\na=sendonly\r\n");
    assert_eq!(trunk_answer(&t).unwrap().0.direction, Direction::RecvOnly);
}

#[test]
fn trickle_offer_without_candidates_is_not_a_hold() {
    // A JSEP offer made before gathering: c=0.0.0.0, port 9, no candidates.
    let text = fixture("chromium_audio_offer.sdp");
    let trickle: String = without(&text, "a=candidate")
        .replace("m=audio 60005 ", "m=audio 9 ")
        .replace("c=IN IP4 192.0.2.2", "c=IN IP4 0.0.0.0");
    let a = answer(&parse(&trickle), &CodecPolicy::webrtc(), &webrtc_local()).unwrap();
    let n = &a.negotiated;
    assert!(!n.old_style_hold);
    assert_eq!(n.direction, Direction::SendRecv);
    assert_eq!(n.remote_rtp, None);
    assert_eq!(n.remote_ice.as_ref().unwrap().candidates().count(), 0);
}

#[test]
fn repeated_payload_types_are_harmless() {
    let mut offer = String::from(
        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP",
    );
    for _ in 0..20_000 {
        offer.push_str(" 96");
    }
    offer.push_str(" 0\r\n");
    for i in 0..5_000 {
        offer.push_str(&format!("a=x-{i}\r\n"));
    }
    let start = std::time::Instant::now();
    let (n, _) = trunk_answer(&offer).unwrap();
    assert_eq!(n.codec.payload_type, 0);
    assert!(
        start.elapsed() < core::time::Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn port_zero_sections_are_rejected_and_skipped() {
    let offer = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
                 m=audio 0 RTP/AVP 0\r\n\
                 m=video 5000 RTP/AVP 31\r\n\
                 m=audio 4000 RTP/AVP 8 0\r\n\
                 m=audio 4002 RTP/AVP 0\r\n";
    let (n, out) = trunk_answer(offer).unwrap();
    assert_eq!(n.media_index, 2);
    assert_eq!(
        n.codec.payload_type, 0,
        "local preference PCMU over the offer's PCMA"
    );
    let ans = parse(&out);
    let ports: Vec<u16> = ans.media().iter().map(|m| m.media_line().port).collect();
    assert_eq!(ports, [0, 0, 20000, 0]);
    let all_zero = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
                    m=audio 0 RTP/AVP 0\r\n";
    assert_eq!(
        trunk_answer(all_zero).unwrap_err(),
        OfferAnswerError::NoAcceptableMedia
    );
    let no_media = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n";
    assert_eq!(
        trunk_answer(no_media).unwrap_err(),
        OfferAnswerError::NoAcceptableMedia
    );
}

#[test]
fn no_common_codec_is_an_error() {
    let offer = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
                 m=audio 4000 RTP/AVP 18 101\r\na=rtpmap:18 G729/8000\r\n\
                 a=rtpmap:101 telephone-event/8000\r\n";
    let e = trunk_answer(offer).unwrap_err();
    assert_eq!(e, OfferAnswerError::NoCommonCodec);
    assert_eq!(e.sip_status(), 488);
    // A dynamic PT with PCMU's name is matched by name, not number.
    let offer = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
                 m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 pcmu/8000\r\n";
    assert_eq!(trunk_answer(offer).unwrap().0.codec.payload_type, 96);
    // A static PT redefined by rtpmap is what the rtpmap says.
    let offer = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
                 m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 G729/8000\r\n";
    assert_eq!(
        trunk_answer(offer).unwrap_err(),
        OfferAnswerError::NoCommonCodec
    );
}

#[test]
fn telephone_event_matches_the_codec_clock() {
    let head = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n";
    let offer = format!(
        "{head}m=audio 4000 RTP/AVP 0 97 98\r\na=rtpmap:97 telephone-event/48000\r\n\
         a=rtpmap:98 telephone-event/8000\r\n"
    );
    assert_eq!(
        trunk_answer(&offer)
            .unwrap()
            .0
            .telephone_event
            .map(|t| t.payload_type),
        Some(98)
    );
    let offer = format!("{head}m=audio 4000 RTP/AVP 0 97\r\na=rtpmap:97 telephone-event/48000\r\n");
    let (n, out) = trunk_answer(&offer).unwrap();
    assert_eq!(n.telephone_event.map(|t| t.payload_type), None);
    assert!(!out.contains("telephone-event"));
    // No telephone-event in the policy: none in the answer.
    let offer = format!("{head}m=audio 4000 RTP/AVP 0 98\r\na=rtpmap:98 telephone-event/8000\r\n");
    let mut policy = CodecPolicy::trunk();
    policy.telephone_events.clear();
    let a = answer(&parse(&offer), &policy, &trunk_local(None)).unwrap();
    assert_eq!(a.negotiated.telephone_event.map(|t| t.payload_type), None);
}

#[test]
fn sdes_offer_answer() {
    let text = fixture("trunk_asterisk_srtp_offer.sdp");
    assert_eq!(
        trunk_answer(&text).unwrap_err(),
        OfferAnswerError::NoAcceptableMedia
    );
    let a = answer(
        &parse(&text),
        &CodecPolicy::trunk(),
        &trunk_local(Some(&KEY)),
    )
    .unwrap();
    let s = a.negotiated.sdes.as_ref().unwrap();
    assert_eq!((s.tag, s.suite), (1, CryptoSuite::AesCm128HmacSha1_80));
    assert_eq!(s.local_key_salt, KEY);
    assert_eq!(s.remote_key_salt.len(), 30);
    assert_eq!(&s.remote_key_salt[..8], b"YS___sem");
    let ans = parse(&a.sdp.to_string()).into_owned();
    let m = &ans.media()[0];
    assert_eq!(m.media_line().proto, "RTP/SAVP");
    let c: Vec<_> = m.cryptos().map(Result::unwrap).collect();
    assert_eq!(c.len(), 1);
    assert_eq!(
        (c[0].tag, c[0].suite()),
        (1, Some(CryptoSuite::AesCm128HmacSha1_80))
    );
    let mut k = [0u8; 30];
    c[0].keys()
        .next()
        .unwrap()
        .unwrap()
        .decode_key_salt(&mut k)
        .unwrap();
    assert_eq!(k, KEY);
    // Only a line with session parameters (unsupported): no usable crypto.
    let only2 = without(&text, "a=crypto:1 ");
    let e = answer(
        &parse(&only2),
        &CodecPolicy::trunk(),
        &trunk_local(Some(&KEY)),
    )
    .unwrap_err();
    assert_eq!(e, OfferAnswerError::NoUsableCrypto);
}

/// Runs offer → answer → process_answer between two local sides.
fn round(
    policy_a: &CodecPolicy,
    a: &LocalMedia<'_>,
    policy_b: &CodecPolicy,
    b: &LocalMedia<'_>,
) -> (Negotiated, Negotiated) {
    let o = offer(policy_a, a).to_string();
    let o = parse(&o);
    assert_eq!(o.to_string(), offer(policy_a, a).to_string());
    let ans = answer(&o, policy_b, b).unwrap();
    let text = ans.sdp.to_string();
    let n_a = process_answer(&o, &parse(&text)).unwrap();
    (n_a, ans.negotiated)
}

#[test]
fn own_offers_negotiate_with_own_answers() {
    // Trunk, plain.
    let (na, nb) = round(
        &CodecPolicy::trunk(),
        &trunk_local(None),
        &CodecPolicy::trunk(),
        &trunk_local(None),
    );
    assert_eq!(na.codec, nb.codec);
    assert_eq!(
        (
            na.codec.payload_type,
            na.telephone_event.map(|t| t.payload_type)
        ),
        (0, Some(101))
    );
    assert_eq!(
        na.remote_rtp,
        Some(SocketAddr::new("198.51.100.7".parse().unwrap(), 20000))
    );

    // Trunk, SDES: each side's local key is the other's remote key.
    const KEY_B: [u8; 30] = [9; 30];
    let (na, nb) = round(
        &CodecPolicy::trunk(),
        &trunk_local(Some(&KEY)),
        &CodecPolicy::trunk(),
        &trunk_local(Some(&KEY_B)),
    );
    let (sa, sb) = (na.sdes.unwrap(), nb.sdes.unwrap());
    assert_eq!(sa.local_key_salt, sb.remote_key_salt);
    assert_eq!(sb.local_key_salt, sa.remote_key_salt);
    assert_eq!(sa.remote_key_salt, KEY_B);

    // WebRTC: complementary DTLS roles, each side sees the other's fingerprint and ICE.
    let mut b = webrtc_local();
    if let Transport::WebRtc(w) = &mut b.transport {
        w.ice_ufrag = "bbbb";
        w.fingerprint = Fingerprint::new(HashFunction::Sha256, &[0xbb; 32]).unwrap();
        w.ice_lite = false;
    }
    let (na, nb) = round(
        &CodecPolicy::webrtc(),
        &webrtc_local(),
        &CodecPolicy::webrtc(),
        &b,
    );
    assert_eq!(
        (
            na.codec.name.as_str(),
            na.telephone_event.map(|t| t.payload_type)
        ),
        ("opus", Some(110))
    );
    assert_eq!(na.codec, nb.codec);
    let (da, db) = (na.dtls.unwrap(), nb.dtls.unwrap());
    assert_eq!(
        (da.local_setup, db.local_setup),
        (Setup::Active, Setup::Passive)
    );
    assert_eq!(da.remote_fingerprints[0].bytes(), [0xbb; 32]);
    assert_eq!(db.remote_fingerprints, [fingerprint()]);
    assert_eq!(na.remote_ice.unwrap().ufrag, "bbbb");
    assert!(nb.remote_ice.unwrap().lite, "the offerer declared ice-lite");

    // WebRTC policy offering to a trunk-codec answerer: PCMU with telephone-event/8000.
    let (na, _) = round(
        &CodecPolicy::webrtc(),
        &webrtc_local(),
        &CodecPolicy::trunk(),
        &b,
    );
    assert_eq!(
        (
            na.codec.payload_type,
            na.telephone_event.map(|t| t.payload_type)
        ),
        (0, Some(126))
    );

    // Hold from the offerer.
    let mut held = trunk_local(None);
    held.direction = Direction::SendOnly;
    let (na, nb) = round(
        &CodecPolicy::trunk(),
        &held,
        &CodecPolicy::trunk(),
        &trunk_local(None),
    );
    assert_eq!(
        (na.direction, nb.direction),
        (Direction::SendOnly, Direction::RecvOnly)
    );
}

#[test]
fn real_browser_answers_are_processed() {
    // Captured in one run: Firefox answered Chromium's offer and vice versa.
    let offer = fixture("chromium_audio_offer.sdp");
    let ans = fixture("firefox_audio_answer.sdp");
    let n = process_answer(&parse(&offer), &parse(&ans)).unwrap();
    assert_eq!((n.codec.payload_type, n.codec.name.as_str()), (111, "opus"));
    assert_eq!(
        n.codec.fmtp.as_deref(),
        Some("maxplaybackrate=48000;stereo=1;useinbandfec=1")
    );
    assert_eq!(
        n.dtls.unwrap().local_setup,
        Setup::Passive,
        "Firefox answered active"
    );
    assert!(n.rtcp_mux);
    assert_eq!(n.remote_ice.unwrap().ufrag, "fdeeed94");
    // Firefox answered telephone-event/8000 next to opus: taken as answered.
    let te = n.telephone_event.unwrap();
    assert_eq!((te.payload_type, te.clock_rate), (126, 8000));

    let offer = fixture("firefox_audio_offer.sdp");
    let ans = fixture("chromium_audio_answer.sdp");
    let n = process_answer(&parse(&offer), &parse(&ans)).unwrap();
    assert_eq!((n.codec.payload_type, n.codec.name.as_str()), (109, "opus"));
    assert_eq!(n.remote_rtp, Some("192.0.2.2:40847".parse().unwrap()));

    let offer = fixture("trunk_freeswitch_offer.sdp");
    let ans = fixture("trunk_freeswitch_answer.sdp");
    let n = process_answer(&parse(&offer), &parse(&ans)).unwrap();
    assert_eq!(
        (
            n.codec.payload_type,
            n.telephone_event.map(|t| t.payload_type)
        ),
        (0, Some(101))
    );
    assert_eq!(n.remote_rtcp, Some("198.51.100.20:27453".parse().unwrap()));
}

#[test]
fn bad_answers_are_errors() {
    let offer_text = fixture("trunk_freeswitch_offer.sdp");
    let offer = parse(&offer_text);
    let two = format!(
        "{}m=video 0 RTP/AVP 31\r\n",
        fixture("trunk_freeswitch_answer.sdp")
    );
    assert_eq!(
        process_answer(&offer, &parse(&two)).unwrap_err(),
        OfferAnswerError::AnswerMismatch
    );
    let zero = fixture("trunk_freeswitch_answer.sdp").replace("m=audio 27452", "m=audio 0");
    assert_eq!(
        process_answer(&offer, &parse(&zero)).unwrap_err(),
        OfferAnswerError::Rejected
    );
    let other = fixture("trunk_freeswitch_answer.sdp")
        .replace("RTP/AVP 0 101", "RTP/AVP 18")
        .replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:18 G729/8000");
    assert_eq!(
        process_answer(&offer, &parse(&other)).unwrap_err(),
        OfferAnswerError::NoCommonCodec
    );
    // A WebRTC answer must carry a fingerprint and must not be actpass.
    let o = fixture("chromium_audio_offer.sdp");
    let a = fixture("firefox_audio_answer.sdp");
    let e = process_answer(&parse(&o), &parse(&without(&a, "a=fingerprint"))).unwrap_err();
    assert_eq!(e, OfferAnswerError::MissingFingerprint);
    let actpass = a.replace("a=setup:active", "a=setup:actpass");
    assert_eq!(
        process_answer(&parse(&o), &parse(&actpass)).unwrap_err(),
        OfferAnswerError::BadSetup
    );
}

#[test]
fn random_credentials_are_valid_and_seed_dependent() {
    let mut rng = SplitMix64::new(7);
    let (u1, p1) = random_ice_credentials(&mut rng);
    let (u2, p2) = random_ice_credentials(&mut rng);
    assert_eq!((u1.len(), p1.len()), (8, 24));
    assert_ne!((&u1, &p1), (&u2, &p2));
    let ice_char = |c: char| c.is_ascii_alphanumeric() || c == '+' || c == '/';
    assert!(u1.chars().chain(p1.chars()).all(ice_char));
    let id = random_session_id(&mut rng);
    assert!(id < 1 << 63);
    assert_ne!(id, random_session_id(&mut rng));
    // They make an offer that parses back to them.
    let mut local = webrtc_local();
    local.session_id = id;
    if let Transport::WebRtc(w) = &mut local.transport {
        w.ice_ufrag = &u1;
        w.ice_pwd = &p1;
    }
    let text = offer(&CodecPolicy::webrtc(), &local).to_string();
    let o = parse(&text);
    assert_eq!(
        o.ice_credentials(&o.media()[0]),
        Some((u1.as_str(), p1.as_str()))
    );
    assert_eq!(o.origin().unwrap().unwrap().session_id, id.to_string());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn all_codecs() -> Vec<Codec> {
        vec![Codec::opus(), Codec::g722(), Codec::pcmu(), Codec::pcma()]
    }

    /// A policy with a random subset of the codecs in a random order, and random
    /// telephone-event rates.
    fn policy() -> impl Strategy<Value = CodecPolicy> {
        (
            Just(all_codecs()).prop_shuffle(),
            proptest::collection::vec(any::<bool>(), 4),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(codecs, keep, te8, te48, any_clock)| {
                let mut p = CodecPolicy::webrtc();
                p.codecs = codecs
                    .into_iter()
                    .zip(keep)
                    .filter_map(|(c, k)| k.then_some(c))
                    .collect();
                p.telephone_events
                    .retain(|t| (t.clock_rate == 8000 && te8) || (t.clock_rate == 48000 && te48));
                p.telephone_event_any_clock = any_clock;
                p
            })
    }

    fn direction() -> impl Strategy<Value = Direction> {
        prop_oneof![
            Just(Direction::SendRecv),
            Just(Direction::SendOnly),
            Just(Direction::RecvOnly),
            Just(Direction::Inactive)
        ]
    }

    proptest! {
        #[test]
        fn offer_answer_agree(
            pa in policy(),
            pb in policy(),
            da in direction(),
            db in direction(),
            webrtc in any::<bool>(),
        ) {
            let (mut a, mut b) = if webrtc {
                (webrtc_local(), webrtc_local())
            } else {
                (trunk_local(None), trunk_local(None))
            };
            a.direction = da;
            b.direction = db;
            let o_text = offer(&pa, &a).to_string();
            let o = parse(&o_text);
            prop_assert_eq!(o.to_string(), o_text.clone());
            // The expected codec: the answerer's first that the offerer has.
            let expected = pb
                .codecs
                .iter()
                .find(|c| pa.codecs.iter().any(|x| x.name == c.name));
            match answer(&o, &pb, &b) {
                Err(e) => {
                    prop_assert!(expected.is_none(), "{e}");
                    prop_assert_eq!(e, OfferAnswerError::NoCommonCodec);
                }
                Ok(ans) => {
                    let expected = expected.unwrap();
                    let nb = &ans.negotiated;
                    prop_assert_eq!(&nb.codec.name, &expected.name);
                    // The offerer's payload type numbers are used.
                    let offered = pa.codecs.iter().find(|c| c.name == expected.name).unwrap();
                    prop_assert_eq!(nb.codec.payload_type, offered.payload_type);
                    prop_assert_eq!(nb.direction, db.answer_to(da));
                    // telephone-event: same clock if both have it, else per the flag.
                    let both = |rate: u32| {
                        pa.telephone_events.iter().any(|t| t.clock_rate == rate)
                            && pb.telephone_events.iter().any(|t| t.clock_rate == rate)
                    };
                    match nb.telephone_event {
                        Some(te) => {
                            prop_assert!(both(te.clock_rate));
                            prop_assert!(te.clock_rate == nb.codec.clock_rate || (pb.telephone_event_any_clock && !both(nb.codec.clock_rate)));
                        }
                        None => prop_assert!(!both(nb.codec.clock_rate) && !(pb.telephone_event_any_clock && (both(8000) || both(48000)))),
                    }
                    let a_text = ans.sdp.to_string();
                    let na = process_answer(&o, &parse(&a_text)).unwrap();
                    prop_assert_eq!(&na.codec.name, &nb.codec.name);
                    prop_assert_eq!(na.codec.payload_type, nb.codec.payload_type);
                    prop_assert_eq!(na.telephone_event, nb.telephone_event);
                    prop_assert_eq!(na.direction, nb.direction.reversed());
                    if webrtc {
                        let (da_, db_) = (na.dtls.unwrap(), nb.dtls.as_ref().unwrap().clone());
                        prop_assert_ne!(da_.local_setup, db_.local_setup);
                    }
                }
            }
        }
    }
}
