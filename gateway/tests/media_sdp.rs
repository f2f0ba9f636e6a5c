//! From SDP offer/answer (core's `sdp::negotiate`) to the media plane's remote parameters.

use rvoip_core::sdp::negotiate::{
    CodecPolicy, LocalMedia, RtpTransport, Transport, WebRtcTransport, answer,
};
use rvoip_core::sdp::{Direction, Fingerprint, SessionDescription, Setup as SdpSetup};
use rvoip_gateway::media::{Codec, RemoteParams, Setup};

const FP: &str = "sha-256 8F:3B:0A:F4:2B:67:18:8A:A4:25:9C:91:3E:DF:4F:6C:1B:0D:B1:5F:4C:20:7A:3D:6E:2E:B4:9C:5A:11:7E:03";

fn browser_offer() -> String {
    [
        "v=0",
        "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 110",
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        "a=ice-ufrag:abcd",
        "a=ice-pwd:0123456789abcdefghijklmn",
        &format!("a=fingerprint:{FP}"),
        "a=setup:actpass",
        "a=mid:0",
        "a=sendrecv",
        "a=rtcp-mux",
        "a=rtpmap:111 opus/48000/2",
        "a=fmtp:111 minptime=10;useinbandfec=1",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:110 telephone-event/48000",
        "a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
        "",
    ]
    .join("\r\n")
}

#[test]
fn browser_offer_gives_webrtc_params() {
    let offer_text = browser_offer();
    let offer = SessionDescription::parse(offer_text.as_str()).unwrap();
    let local = LocalMedia {
        session_id: 1,
        session_version: 1,
        address: "127.0.0.1".parse().unwrap(),
        port: 40000,
        direction: Direction::SendRecv,
        ssrc: None,
        msid: None,
        transport: Transport::WebRtc(WebRtcTransport {
            ice_ufrag: "gw12",
            ice_pwd: "gatewaypassword0123456789",
            fingerprint: Fingerprint::parse(FP).unwrap(),
            ice_lite: true,
            answer_setup: SdpSetup::Passive,
            candidates: &[],
        }),
    };
    let a = answer(&offer, &CodecPolicy::webrtc(), &local).unwrap();
    let Some(RemoteParams::WebRtc {
        ice,
        fingerprint,
        setup,
        format,
    }) = RemoteParams::from_negotiated(&a.negotiated, false)
    else {
        panic!("not WebRTC: {:?}", a.negotiated);
    };
    assert_eq!(
        (ice.ufrag.as_str(), ice.pwd.as_str()),
        ("abcd", "0123456789abcdefghijklmn")
    );
    // The form `dtls::DtlsHandshake` checks the certificate against.
    assert_eq!(format!("sha-256 {fingerprint}"), FP);
    assert_eq!(fingerprint.len(), 95);
    // We answered passive: the browser is the DTLS client.
    assert_eq!(setup, Setup::Active);
    assert_eq!((format.codec, format.pt), (Codec::Opus, 111));
    assert_eq!((format.dtmf_pt, format.dtmf_clock), (Some(110), 48_000));
}

#[test]
fn trunk_offer_gives_rtp_params() {
    let text = [
        "v=0",
        "o=trunk 1 1 IN IP4 192.0.2.10",
        "s=-",
        "c=IN IP4 192.0.2.10",
        "t=0 0",
        "m=audio 30000 RTP/AVP 8 0 101",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-16",
        "a=sendrecv",
        "",
    ]
    .join("\r\n");
    let offer = SessionDescription::parse(text.as_str()).unwrap();
    let local = LocalMedia {
        session_id: 2,
        session_version: 1,
        address: "127.0.0.1".parse().unwrap(),
        port: 40002,
        direction: Direction::SendRecv,
        ssrc: None,
        msid: None,
        transport: Transport::Rtp(RtpTransport {
            rtcp_port: None,
            rtcp_mux: true,
            sdes_key: None,
        }),
    };
    let a = answer(&offer, &CodecPolicy::trunk(), &local).unwrap();
    let Some(RemoteParams::Rtp { remote, format }) =
        RemoteParams::from_negotiated(&a.negotiated, true)
    else {
        panic!("not RTP: {:?}", a.negotiated);
    };
    assert_eq!(remote.addr, "192.0.2.10:30000".parse().unwrap());
    assert!(!remote.rtcp_mux && remote.latch);
    assert!(matches!(format.codec, Codec::Pcma | Codec::Pcmu));
    assert_eq!((format.dtmf_pt, format.dtmf_clock), (Some(101), 8000));
}
