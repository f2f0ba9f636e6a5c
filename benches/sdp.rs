//! SDP parse / parse+emit / answer, rvoip against webrtc-sdp (Mozilla, Firefox's parser) and
//! sdp (webrtc-rs), on a real Chromium offer and a trunk offer.

use core::hint::black_box;
use criterion::{Criterion, criterion_group, criterion_main};
use rvoip::sdp::SessionDescription;
use rvoip::sdp::negotiate::{
    CodecPolicy, LocalMedia, RtpTransport, Transport, WebRtcTransport, answer,
};
use rvoip::sdp::{Direction, Fingerprint, HashFunction, Setup};
use std::io::Cursor;

const CHROMIUM: &str = include_str!("../core/tests/fixtures/sdp/chromium_audio_offer.sdp");
const CHROMIUM_AV: &str = include_str!("../core/tests/fixtures/sdp/chromium_av_offer.sdp");
const TRUNK: &str = include_str!("../core/tests/fixtures/sdp/trunk_asterisk_offer.sdp");

fn webrtc_local() -> LocalMedia<'static> {
    LocalMedia {
        session_id: 1,
        session_version: 1,
        address: "203.0.113.5".parse().unwrap(),
        port: 40000,
        direction: Direction::SendRecv,
        ssrc: Some((1, "gw")),
        msid: None,
        transport: Transport::WebRtc(WebRtcTransport {
            ice_ufrag: "gwUF",
            ice_pwd: "gatewaypasswordgatewaypw",
            fingerprint: Fingerprint::new(HashFunction::Sha256, &[0xab; 32]).unwrap(),
            ice_lite: true,
            answer_setup: Setup::Passive,
            candidates: &[],
        }),
    }
}

fn trunk_local() -> LocalMedia<'static> {
    LocalMedia {
        session_id: 2,
        session_version: 1,
        address: "198.51.100.7".parse().unwrap(),
        port: 20000,
        direction: Direction::SendRecv,
        ssrc: None,
        msid: None,
        transport: Transport::Rtp(RtpTransport {
            rtcp_port: None,
            rtcp_mux: false,
            sdes_key: None,
        }),
    }
}

fn parsers(c: &mut Criterion) {
    for (name, text) in [
        ("chromium_audio_offer", CHROMIUM),
        ("chromium_av_offer", CHROMIUM_AV),
        ("trunk_offer", TRUNK),
    ] {
        let mut g = c.benchmark_group(format!("sdp_parse/{name}"));
        g.bench_function("rvoip", |b| {
            b.iter(|| SessionDescription::parse(black_box(text)).unwrap())
        });
        // rvoip decodes typed values on demand; this variant decodes every line and
        // attribute, as the peers do while parsing.
        g.bench_function("rvoip+decode_all", |b| {
            b.iter(|| {
                let sdp = SessionDescription::parse(black_box(text)).unwrap();
                let mut n = sdp.attributes().filter(|a| a.typed().is_ok()).count();
                n += sdp.timings().count() + sdp.bandwidths().count();
                for m in sdp.media() {
                    let _ = black_box(m.media_line());
                    let _ = black_box(m.connection());
                    n += m.typed_attributes().filter(Result::is_ok).count();
                }
                n
            })
        });
        g.bench_function("webrtc-sdp", |b| {
            b.iter(|| webrtc_sdp::parse_sdp(black_box(text), false).unwrap())
        });
        g.bench_function("sdp(webrtc-rs)", |b| {
            b.iter(|| {
                sdp::SessionDescription::unmarshal(&mut Cursor::new(black_box(text))).unwrap()
            })
        });
        g.finish();

        let mut g = c.benchmark_group(format!("sdp_parse_emit/{name}"));
        g.bench_function("rvoip", |b| {
            b.iter(|| {
                SessionDescription::parse(black_box(text))
                    .unwrap()
                    .to_string()
            })
        });
        g.bench_function("webrtc-sdp", |b| {
            b.iter(|| {
                webrtc_sdp::parse_sdp(black_box(text), false)
                    .unwrap()
                    .to_string()
            })
        });
        g.bench_function("sdp(webrtc-rs)", |b| {
            b.iter(|| {
                sdp::SessionDescription::unmarshal(&mut Cursor::new(black_box(text)))
                    .unwrap()
                    .marshal()
            })
        });
        g.finish();
    }
}

fn offer_answer(c: &mut Criterion) {
    let mut g = c.benchmark_group("sdp_answer");
    let (webrtc, trunk) = (webrtc_local(), trunk_local());
    let (wp, tp) = (CodecPolicy::webrtc(), CodecPolicy::trunk());
    g.bench_function("chromium_offer_parse_answer_emit", |b| {
        b.iter(|| {
            let o = SessionDescription::parse(black_box(CHROMIUM)).unwrap();
            answer(&o, &wp, &webrtc).unwrap().sdp.to_string()
        })
    });
    g.bench_function("trunk_offer_parse_answer_emit", |b| {
        b.iter(|| {
            let o = SessionDescription::parse(black_box(TRUNK)).unwrap();
            answer(&o, &tp, &trunk).unwrap().sdp.to_string()
        })
    });
    g.finish();
}

fn attributes(c: &mut Criterion) {
    use rvoip::sdp::RawAttribute;
    let mut g = c.benchmark_group("sdp_attribute");
    for (name, text) in [
        (
            "candidate",
            "candidate:1389332837 1 udp 2122194687 192.0.2.2 60005 typ host generation 0 network-id 1",
        ),
        (
            "fingerprint",
            "fingerprint:sha-256 60:FC:B6:45:F3:A4:A7:A1:C4:B7:C5:30:7A:85:1C:E1:EB:4C:E4:48:E2:89:E3:81:E8:83:40:49:97:AF:A5:9A",
        ),
        ("rtpmap", "rtpmap:111 opus/48000/2"),
        ("fmtp", "fmtp:111 minptime=10;useinbandfec=1"),
        ("extmap", "extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid"),
        ("flag", "rtcp-mux"),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| RawAttribute::split(black_box(text)).typed().unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, parsers, offer_answer, attributes);
criterion_main!(benches);
