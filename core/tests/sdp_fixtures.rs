//! Real browser and trunk SDP fixtures: byte-exact round trips and typed values.

use rvoip_core::sdp::{
    Attribute, CandidateType, CryptoSuite, Direction, Extmap, HashFunction, Lifetime, Mki,
    SessionDescription, Setup, TcpType,
};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sdp");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{DIR}/{name}")).unwrap()
}

fn all_fixtures() -> Vec<(String, String)> {
    let mut v: Vec<_> = std::fs::read_dir(DIR)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".sdp"))
        .map(|n| {
            let body = fixture(&n);
            (n, body)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_fixture_round_trips_byte_for_byte() {
    let all = all_fixtures();
    assert!(all.len() >= 13, "fixtures missing: {}", all.len());
    for (name, body) in &all {
        let sdp = SessionDescription::parse(body).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(&sdp.to_string(), body, "{name}");
        // Owned copies round trip too.
        assert_eq!(&sdp.clone().into_owned().to_string(), body, "{name}");
        // Every attribute of a real fixture decodes.
        for m in sdp.media() {
            for a in m.typed_attributes() {
                a.unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
        for a in sdp.attributes() {
            a.typed().unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}

#[test]
fn typed_attributes_reencode_to_the_raw_text() {
    for (name, body) in all_fixtures() {
        let sdp = SessionDescription::parse(&body).unwrap();
        let session = sdp.attributes();
        let media = sdp.media().iter().flat_map(|m| m.attributes());
        for raw in session.chain(media) {
            let typed = raw.typed().unwrap();
            let raw_text = match raw.value {
                Some(v) => format!("{}:{v}", raw.name),
                None => raw.name.to_string(),
            };
            assert_eq!(typed.to_string(), raw_text, "{name}");
        }
    }
}

fn hex(s: &str) -> Vec<u8> {
    s.split(':')
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

#[test]
fn chromium_audio_offer_typed_values() {
    let body = fixture("chromium_audio_offer.sdp");
    let sdp = SessionDescription::parse(&body).unwrap();
    let o = sdp.origin().unwrap().unwrap();
    assert_eq!(
        (o.username, o.session_id, o.session_version),
        ("-", "1727713199732532212", 2)
    );
    assert_eq!(o.address, "127.0.0.1");
    assert_eq!(sdp.session_name(), Some("-"));
    let t: Vec<_> = sdp.timings().map(Result::unwrap).collect();
    assert_eq!((t[0].start, t[0].stop), (0, 0));
    let bundle = sdp.bundle().unwrap();
    assert_eq!(bundle.mids().collect::<Vec<_>>(), ["0"]);
    assert!(!sdp.ice_lite());

    assert_eq!(sdp.media().len(), 1);
    let m = &sdp.media()[0];
    let ml = m.media_line();
    assert_eq!(
        (ml.media, ml.port, ml.proto),
        ("audio", 60005, "UDP/TLS/RTP/SAVPF")
    );
    assert_eq!(
        ml.payload_types().collect::<Vec<_>>(),
        [111, 63, 9, 0, 8, 13, 110, 126]
    );
    assert!(ml.is_rtp());
    let opus = m.rtpmap(111).unwrap();
    assert_eq!(
        (opus.encoding, opus.clock_rate, opus.channels),
        ("opus", 48000, Some(2))
    );
    let fmtp = m.fmtp(111).unwrap();
    assert_eq!(fmtp.params, "minptime=10;useinbandfec=1");
    assert_eq!(fmtp.get("useinbandfec"), Some("1"));
    assert_eq!(fmtp.get("minptime"), Some("10"));
    assert_eq!(m.fmtp(63).unwrap().params, "111/111");
    let te: Vec<_> = m
        .rtpmaps()
        .map(Result::unwrap)
        .filter(|r| r.encoding == "telephone-event")
        .map(|r| (r.payload_type, r.clock_rate))
        .collect();
    assert_eq!(te, [(110, 48000), (126, 8000)]);
    assert_eq!(m.rtpmap(9).unwrap().channel_count(), 1);

    let c = m.connection().unwrap().unwrap();
    assert_eq!(c.ip(), Some("192.0.2.2".parse().unwrap()));
    let rtcp = m.rtcp().unwrap().unwrap();
    assert_eq!(
        (rtcp.port, rtcp.address),
        (9, Some(("IN", "IP4", "0.0.0.0")))
    );
    assert!(m.rtcp_mux());
    assert!(m.has_attribute("rtcp-rsize"));
    assert_eq!(m.mid(), Some("0"));
    assert_eq!(sdp.direction(m), Direction::SendRecv);
    assert_eq!(sdp.setup(m), Some(Ok(Setup::ActPass)));
    assert_eq!(
        sdp.ice_credentials(m),
        Some(("lvot", "s3NOGeUyjoTtf0DRY8uUT9L+"))
    );

    let fps: Vec<_> = sdp.fingerprints(m).collect();
    assert_eq!(fps.len(), 1);
    assert_eq!(fps[0].hash(), HashFunction::Sha256);
    assert_eq!(
        fps[0].bytes(),
        hex(
            "60:FC:B6:45:F3:A4:A7:A1:C4:B7:C5:30:7A:85:1C:E1:EB:4C:E4:48:E2:89:E3:81:E8:83:40:49:97:AF:A5:9A"
        )
    );

    let cands: Vec<_> = m.candidates().map(Result::unwrap).collect();
    assert_eq!(cands.len(), 4);
    let c0 = &cands[0];
    assert_eq!(c0.foundation, "1389332837");
    assert_eq!(
        (c0.component, c0.transport, c0.priority),
        (1, "udp", 2122194687)
    );
    assert_eq!(
        (c0.address, c0.port, c0.typ),
        ("192.0.2.2", 60005, CandidateType::Host)
    );
    assert_eq!(
        (c0.generation, c0.network_id, c0.tcptype),
        (Some(0), Some(1), None)
    );
    assert!(c0.is_udp());
    assert_eq!(cands[1].ip(), Some("fd00::2".parse().unwrap()));
    assert_eq!(cands[2].tcptype, Some(TcpType::Active));
    assert!(!cands[2].is_udp());
    assert_eq!(
        cands[2].extensions().collect::<Vec<_>>(),
        [
            ("tcptype", "active"),
            ("generation", "0"),
            ("network-id", "1")
        ]
    );

    let extmaps: Vec<Extmap<'_>> = m
        .typed_attributes()
        .filter_map(|a| match a.unwrap() {
            Attribute::Extmap(e) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(extmaps.len(), 4);
    assert_eq!(
        (extmaps[3].id, extmaps[3].uri),
        (4, "urn:ietf:params:rtp-hdrext:sdes:mid")
    );
    let ssrcs: Vec<_> = m
        .typed_attributes()
        .filter_map(|a| match a.unwrap() {
            Attribute::Ssrc(s) => Some((s.ssrc, s.attribute)),
            _ => None,
        })
        .collect();
    assert_eq!(ssrcs, [(3726690546, "cname"), (3726690546, "msid")]);
    let msid = m.typed_attributes().find_map(|a| match a.unwrap() {
        Attribute::Msid(x) => Some(x),
        _ => None,
    });
    assert_eq!(
        msid.map(|m| (m.stream, m.appdata)),
        Some((
            "637ea987-22c4-45d6-bf56-f80877ba5565",
            Some("4e349e48-c841-4d6d-b08a-7bf3d33d5941")
        ))
    );
    // Unknown attributes are kept raw.
    let xr = m.typed_attributes().find_map(|a| match a.unwrap() {
        Attribute::Other(r) if r.name == "rtcp-xr" => Some(r.value),
        _ => None,
    });
    assert_eq!(xr, Some(Some("rcvr-rtt=all")));
}

#[test]
fn chromium_av_offer_has_two_bundled_sections_and_ssrc_group() {
    let body = fixture("chromium_av_offer.sdp");
    let sdp = SessionDescription::parse(&body).unwrap();
    assert_eq!(sdp.bundle().unwrap().mids().collect::<Vec<_>>(), ["0", "1"]);
    let kinds: Vec<_> = sdp.media().iter().map(|m| m.media_line().media).collect();
    assert_eq!(kinds, ["audio", "video"]);
    let v = &sdp.media()[1];
    assert_eq!(v.mid(), Some("1"));
    assert_eq!(v.rtpmap(96).unwrap().encoding, "VP8");
    let group = v.typed_attributes().find_map(|a| match a.unwrap() {
        Attribute::SsrcGroup(g) => Some(g),
        _ => None,
    });
    let group = group.unwrap();
    assert_eq!(group.semantics, "FID");
    assert_eq!(group.ssrcs().collect::<Vec<_>>(), [3451069785, 1859173065]);
    let fbs: Vec<_> = v
        .typed_attributes()
        .filter_map(|a| match a.unwrap() {
            Attribute::RtcpFb(f) if f.payload_type == Some(96) => Some((f.kind, f.param)),
            _ => None,
        })
        .collect();
    assert_eq!(
        fbs,
        [
            ("goog-remb", None),
            ("transport-cc", None),
            ("ccm", Some("fir")),
            ("nack", None),
            ("nack", Some("pli"))
        ]
    );
}

#[test]
fn firefox_audio_offer_typed_values() {
    let body = fixture("firefox_audio_offer.sdp");
    let sdp = SessionDescription::parse(&body).unwrap();
    assert_eq!(
        sdp.origin().unwrap().unwrap().username,
        "mozilla...THIS_IS_SDPARTA-99.0"
    );
    let m = &sdp.media()[0];
    assert_eq!(
        m.media_line().payload_types().collect::<Vec<_>>(),
        [109, 9, 0, 8, 101]
    );
    let opus = m.rtpmap(109).unwrap();
    assert_eq!(
        (opus.encoding, opus.clock_rate, opus.channels),
        ("opus", 48000, Some(2))
    );
    assert_eq!(m.fmtp(109).unwrap().get("stereo"), Some("1"));
    assert_eq!(m.fmtp(101).unwrap().params, "0-15");
    assert_eq!(m.rtpmap(9).unwrap().channels, Some(1));
    // Firefox puts the fingerprint at session level: it is inherited by the media section.
    assert!(!m.has_attribute("fingerprint"));
    let fp = sdp.fingerprints(m).next().unwrap();
    assert_eq!(
        fp.bytes(),
        hex(
            "DA:0D:78:2A:D0:33:6B:A6:34:5E:39:5B:C8:3C:0A:46:B4:89:1E:03:30:4F:D2:96:99:30:1C:F1:E1:10:55:B6"
        )
    );
    assert!(sdp.attribute("sendrecv").is_some());
    assert_eq!(sdp.direction(m), Direction::SendRecv);
    assert_eq!(
        sdp.ice_credentials(m),
        Some(("08494e30", "6235a9c294a3d4239dcaabcf30d2d754"))
    );
    let cands: Vec<_> = m.candidates().map(Result::unwrap).collect();
    assert_eq!(cands.len(), 8);
    assert_eq!(cands.iter().filter(|c| c.component == 2).count(), 4);
    assert_eq!(cands[0].transport, "UDP");
    assert_eq!(cands[0].generation, None);
    assert!(m.has_attribute("end-of-candidates"));
    let rtcp = m.rtcp().unwrap().unwrap();
    assert_eq!(
        (rtcp.port, rtcp.address),
        (50044, Some(("IN", "IP4", "192.0.2.2")))
    );
    let ext2 = m.typed_attributes().find_map(|a| match a.unwrap() {
        Attribute::Extmap(e) if e.id == 2 => Some(e),
        _ => None,
    });
    assert_eq!(ext2.unwrap().direction, Some(Direction::RecvOnly));
}

#[test]
fn browser_answers_typed_values() {
    let body = fixture("chromium_audio_answer.sdp");
    let sdp = SessionDescription::parse(&body).unwrap();
    let m = &sdp.media()[0];
    // Chromium answered Firefox's offer with Firefox's payload types.
    assert_eq!(m.rtpmap(109).unwrap().encoding, "opus");
    assert_eq!(sdp.setup(m), Some(Ok(Setup::Active)));
    let body = fixture("firefox_audio_answer.sdp");
    let sdp = SessionDescription::parse(&body).unwrap();
    let m = &sdp.media()[0];
    assert_eq!(m.rtpmap(111).unwrap().encoding, "opus");
    assert_eq!(m.rtpmap(126).unwrap().clock_rate, 8000);
    assert_eq!(sdp.setup(m), Some(Ok(Setup::Active)));
}

#[test]
fn trunk_fixtures_typed_values() {
    let body = fixture("trunk_carrier_offer.sdp");
    let sdp = SessionDescription::parse(&body).unwrap();
    let c = sdp.connection().unwrap().unwrap();
    assert_eq!(
        (c.nettype, c.addrtype, c.address),
        ("IN", "IP4", "192.0.2.51")
    );
    let m = &sdp.media()[0];
    assert_eq!(m.ptime(), Some(20));
    assert_eq!(m.maxptime(), Some(20));
    assert_eq!(m.fmtp(18).unwrap().get("annexb"), Some("no"));
    assert!(m.rtpmap(0).is_some());

    let body = fixture("trunk_carrier_hold_offer.sdp");
    let sdp = SessionDescription::parse(&body).unwrap();
    assert!(sdp.connection().unwrap().unwrap().is_unspecified());

    let body = fixture("trunk_asterisk_srtp_offer.sdp");
    let sdp = SessionDescription::parse(&body).unwrap();
    let m = &sdp.media()[0];
    let cryptos: Vec<_> = m.cryptos().map(Result::unwrap).collect();
    assert_eq!(cryptos.len(), 2);
    assert_eq!(cryptos[0].tag, 1);
    assert_eq!(cryptos[0].suite(), Some(CryptoSuite::AesCm128HmacSha1_80));
    let k = cryptos[0].keys().next().unwrap().unwrap();
    assert_eq!(k.key_salt, "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz");
    assert_eq!(k.lifetime, Some(Lifetime::PowerOfTwo(20)));
    assert_eq!(
        k.mki,
        Some(Mki {
            value: 1,
            length: 4
        })
    );
    let mut key = [0u8; 30];
    assert_eq!(k.decode_key_salt(&mut key), Ok(30));
    assert_eq!(&key[..8], b"YS___sem");
    assert_eq!(
        cryptos[1].session_parameters().collect::<Vec<_>>(),
        ["UNENCRYPTED_SRTCP"]
    );

    let body = fixture("trunk_freeswitch_offer.sdp");
    let sdp = SessionDescription::parse(&body).unwrap();
    let m = &sdp.media()[0];
    assert_eq!(m.rtcp().unwrap().unwrap().port, 16385);

    let body = fixture("trunk_full_session.sdp");
    let sdp = SessionDescription::parse(&body).unwrap();
    assert_eq!(sdp.session_name(), Some("Call to John Smith"));
    assert_eq!(sdp.information(), Some("SDP Offer #1"));
    assert_eq!(sdp.uri(), Some("http://www.jdoe.example.com/home.html"));
    assert_eq!(
        sdp.emails().collect::<Vec<_>>(),
        ["Jane Doe <jane@jdoe.example.com>"]
    );
    assert_eq!(sdp.phones().collect::<Vec<_>>(), ["+1 617 555-6011"]);
    assert_eq!(sdp.repeats().collect::<Vec<_>>(), ["604800 3600 0 90000"]);
    assert_eq!(sdp.time_zones(), Some("2882844526 -1h 2898848070 0"));
    assert_eq!(sdp.encryption_key(), Some("prompt"));
    assert_eq!(sdp.media()[0].information(), Some("Voice"));
    assert_eq!(sdp.media()[0].encryption_key(), Some("clear:secret"));
    let tias = sdp.media()[0].bandwidths().next().unwrap().unwrap();
    assert_eq!((tias.bwtype, tias.bandwidth), ("TIAS", 64000));
    let b: Vec<_> = sdp.bandwidths().map(Result::unwrap).collect();
    assert_eq!((b[0].bwtype, b[0].bandwidth), ("AS", 128));
    let m0 = &sdp.media()[0];
    let c = m0.connection().unwrap().unwrap();
    assert_eq!(
        (c.address, c.ttl, c.count),
        ("198.51.100.2", Some(127), None)
    );
    assert_eq!(sdp.direction(m0), Direction::RecvOnly);
    assert_eq!(sdp.direction(&sdp.media()[1]), Direction::SendOnly);
    let v6 = sdp.media()[2].connection().unwrap().unwrap();
    assert_eq!(v6.ip(), Some("2001:db8::2".parse().unwrap()));
    let app = sdp.media()[3].media_line();
    assert_eq!((app.port, app.proto, app.fmt), (0, "TCP/MSRP", "*"));
    assert_eq!(app.payload_types().count(), 0);
}
