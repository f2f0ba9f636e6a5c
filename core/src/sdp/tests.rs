use super::*;
use alloc::format;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;
use proptest::prelude::*;

const MIN: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n";

#[test]
fn rejects_malformed_sessions() {
    let cases: &[(&str, SdpError)] = &[
        ("", SdpError::BadVersion),
        ("v=1\r\no=- 1 1 IN IP4 x\r\n", SdpError::BadVersion),
        ("o=- 1 1 IN IP4 x\r\nv=0\r\n", SdpError::BadVersion),
        ("v=0\r\ns=-\r\n", SdpError::Missing { field: "o=" }),
        ("v=0\r\nfoo\r\n", SdpError::BadLine { line: 2 }),
        ("v=0\r\nA=x\r\n", SdpError::BadLine { line: 2 }),
        ("v=0\r\na\r\n", SdpError::BadLine { line: 2 }),
        ("v=0\r\n\r\na=x\r\n", SdpError::BadLine { line: 2 }),
        ("v=0\r\no=- 1\r\n", SdpError::Invalid { field: "o=" }),
        (
            "v=0\r\no=- 1 x IN IP4 h\r\n",
            SdpError::Invalid { field: "o=" },
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 h extra\r\n",
            SdpError::Invalid { field: "o=" },
        ),
    ];
    for (text, err) in cases {
        assert_eq!(SessionDescription::parse(text), Err(*err), "{text:?}");
    }
    for m in [
        "m=audio x RTP/AVP 0",
        "m=audio 70000 RTP/AVP 0",
        "m=audio -1 RTP/AVP 0",
        "m=audio 1",
        "m=audio 1 RTP/AVP  0",
        "m=audio 1 RTP/AVP 0 ",
        "m=audio 1/x RTP/AVP 0",
    ] {
        let text = format!("{MIN}{m}\r\n");
        assert_eq!(
            SessionDescription::parse(&text),
            Err(SdpError::Invalid { field: "m=" }),
            "{m}"
        );
    }
    for c in [
        "c=IN IP4",
        "c=IN IP4 1.2.3.4/x",
        "c=IN IP4 a/1/2/3",
        "c=IN IP4 a b",
    ] {
        let text = format!("{MIN}{c}\r\n");
        assert_eq!(
            SessionDescription::parse(&text),
            Err(SdpError::Invalid { field: "c=" }),
            "{c}"
        );
    }
    assert_eq!(
        SessionDescription::parse_bytes(b"v=0\r\no=\xff\r\n"),
        Err(SdpError::NotUtf8)
    );
}

#[test]
fn keeps_line_endings_and_trailing_blank_lines() {
    for text in [
        "v=0\no=- 1 1 IN IP4 h\ns=-\n",
        "v=0\r\no=- 1 1 IN IP4 h\ns=-",
        "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\n\r\n",
        "v=0\r\no=- 1 1 IN IP4 h\r\n\n\r\n",
        "v=0\r\no=- 1 1 IN IP4 h\r\nm=audio 0 RTP/AVP\r\na=x:y z\r",
    ] {
        let sdp = SessionDescription::parse(text).unwrap();
        assert_eq!(sdp.to_string(), text);
    }
    let sdp = SessionDescription::parse("v=0\no=- 1 1 IN IP4 h\ns=-").unwrap();
    let endings: Vec<_> = sdp.lines().iter().map(Line::ending).collect();
    assert_eq!(endings, [LineEnding::Lf, LineEnding::Lf, LineEnding::None]);
}

#[test]
fn built_session_emits_and_reparses() {
    let origin = Origin::parse("- 42 7 IN IP4 192.0.2.9").unwrap();
    let mut sdp = SessionDescription::new(&origin, "call");
    assert!(sdp.push_attribute("ice-lite"));
    assert!(!sdp.push_attribute("bad\r\nline"));
    assert!(!sdp.push_line(b'm', "audio 1 RTP/AVP 0"));
    assert!(!sdp.push_line(b'A', "x"));
    let mut m = MediaDescription::new("audio 5004 RTP/AVP 0").unwrap();
    assert!(m.push_attribute("rtpmap:0 PCMU/8000"));
    sdp.push_media(m);
    assert!(MediaDescription::new("audio x RTP/AVP 0").is_err());
    let text = sdp.to_string();
    assert_eq!(
        text,
        "v=0\r\no=- 42 7 IN IP4 192.0.2.9\r\ns=call\r\nt=0 0\r\na=ice-lite\r\n\
         m=audio 5004 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    );
    assert_eq!(SessionDescription::parse(&text).unwrap(), sdp);
}

#[test]
fn connection_forms() {
    let c = Connection::parse("IN IP4 233.252.0.1/127/3").unwrap();
    assert_eq!(
        (c.address, c.ttl, c.count),
        ("233.252.0.1", Some(127), Some(3))
    );
    let c = Connection::parse("IN IP6 ff00::db8:0:101/3").unwrap();
    assert_eq!((c.ttl, c.count), (None, Some(3)));
    assert_eq!(c.to_string(), "IN IP6 ff00::db8:0:101/3");
    let c = Connection::parse("IN IP4 host.example.com").unwrap();
    assert_eq!(c.ip(), None);
    assert!(!c.is_unspecified());
    assert!(
        Connection::parse("IN IP4 0.0.0.0")
            .unwrap()
            .is_unspecified()
    );
}

#[test]
fn direction_negotiation_table() {
    use Direction::*;
    // RFC 3264 §6.1: (local willingness, offer) -> answer.
    let cases = [
        (SendRecv, SendRecv, SendRecv),
        (SendRecv, SendOnly, RecvOnly),
        (SendRecv, RecvOnly, SendOnly),
        (SendRecv, Inactive, Inactive),
        (SendOnly, SendRecv, SendOnly),
        (SendOnly, SendOnly, Inactive),
        (RecvOnly, RecvOnly, Inactive),
        (Inactive, SendRecv, Inactive),
    ];
    for (local, offer, answer) in cases {
        assert_eq!(local.answer_to(offer), answer, "{local:?} {offer:?}");
    }
    assert_eq!(SendOnly.reversed(), RecvOnly);
    assert_eq!(Direction::from_name("recvonly"), Some(RecvOnly));
    assert_eq!(Direction::from_name("RECVONLY"), None);
}

/// The effective direction of each media section of `text`, in order.
fn effective(text: &str) -> Vec<Direction> {
    let sdp = SessionDescription::parse(text).unwrap();
    sdp.media()
        .iter()
        .map(|m| sdp.effective_direction(m))
        .collect()
}

#[test]
fn effective_direction_reads_rfc2543_hold_per_section() {
    use Direction::*;
    let audio = "m=audio 4000 RTP/AVP 0\r\n";
    // RFC 3264 §8.4: a media-level c=0.0.0.0 means the writer will not receive.
    let held = format!("{MIN}{audio}c=IN IP4 0.0.0.0\r\n");
    assert_eq!(effective(&held), vec![SendOnly]);
    // …and only for its own section: a second section keeps its own address.
    let two = format!("{held}m=audio 4002 RTP/AVP 0\r\nc=IN IP4 192.0.2.7\r\n");
    assert_eq!(effective(&two), vec![SendOnly, SendRecv]);
    // A session-level 0.0.0.0 applies to sections without their own c=, and a media-level
    // address overrides it.
    let session = MIN.replace("t=0 0", "c=IN IP4 0.0.0.0\r\nt=0 0");
    let both = format!("{session}{audio}m=audio 4002 RTP/AVP 0\r\nc=IN IP4 192.0.2.7\r\n");
    assert_eq!(effective(&both), vec![SendOnly, SendRecv]);
    // …and a media-level 0.0.0.0 overrides a real session address.
    let real = MIN.replace("t=0 0", "c=IN IP4 192.0.2.7\r\nt=0 0");
    let over = format!("{real}{audio}c=IN IP4 0.0.0.0\r\na=sendrecv\r\n");
    assert_eq!(effective(&over), vec![SendOnly]);
    // IPv6: `::` is held; a real IPv6 address is not.
    let v6 = format!("{MIN}{audio}c=IN IP6 ::\r\n");
    assert_eq!(effective(&v6), vec![SendOnly]);
    let v6 = format!("{MIN}{audio}c=IN IP6 2001:db8::1\r\n");
    assert_eq!(effective(&v6), vec![SendRecv]);
    // recvonly + 0.0.0.0 = inactive; the direction attribute still counts.
    let ro = format!("{held}a=recvonly\r\n");
    assert_eq!(effective(&ro), vec![Inactive]);
    let sess_dir = MIN.replace("t=0 0", "t=0 0\r\na=inactive");
    assert_eq!(effective(&format!("{sess_dir}{audio}")), vec![Inactive]);
    // No c= at all: not a hold.
    assert_eq!(effective(&format!("{MIN}{audio}")), vec![SendRecv]);
}

#[test]
fn effective_direction_ignores_the_jsep_default_address() {
    use Direction::*;
    let webrtc = "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n";
    // RFC 9429 §5.2.1: ICE sections carry c=0.0.0.0 as the default candidate address.
    let media_ice =
        format!("{MIN}{webrtc}a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef01234567\r\n");
    assert_eq!(effective(&media_ice), vec![SendRecv]);
    let session_ice = MIN.replace(
        "t=0 0",
        "t=0 0\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef01234567",
    );
    assert_eq!(effective(&format!("{session_ice}{webrtc}")), vec![SendRecv]);
    // A bundled section without its own ICE attributes shares the tagged section's.
    let bundle = MIN.replace("t=0 0", "t=0 0\r\na=group:BUNDLE 0 1");
    let text = format!(
        "{bundle}{webrtc}a=mid:0\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef01234567\r\n\
         m=audio 0 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=bundle-only\r\n"
    );
    assert_eq!(effective(&text), vec![SendRecv, SendRecv]);
    // A JSEP profile means ICE even before the credentials are seen.
    assert_eq!(effective(&format!("{MIN}{webrtc}")), vec![SendRecv]);
    let text = format!(
        "{bundle}m=audio 4000 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n\
         m=audio 4000 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n"
    );
    // A BUNDLE group without ICE anywhere is not ICE.
    assert_eq!(effective(&text), vec![SendOnly, SendOnly]);
    // ICE attributes in another, unbundled section do not make this one an ICE section.
    let text = format!(
        "{MIN}m=audio 4000 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\n\
         {webrtc}a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef01234567\r\n"
    );
    assert_eq!(effective(&text), vec![SendOnly, SendRecv]);
    let sdp = SessionDescription::parse(&text).unwrap();
    assert!(sdp.is_old_style_hold(&sdp.media()[0]));
    assert!(!sdp.uses_ice(&sdp.media()[0]));
    assert!(sdp.uses_ice(&sdp.media()[1]));
}

#[test]
fn fingerprint_grammar() {
    let fp =
        Fingerprint::parse("sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB")
            .unwrap();
    assert_eq!(fp.hash(), HashFunction::Sha1);
    assert_eq!(fp.bytes()[..3], [0x4a, 0xad, 0xb9]);
    // Lower-case hex and upper-case hash names are accepted; output is canonical.
    let lower =
        Fingerprint::parse("SHA-1 4a:ad:b9:b1:3f:82:18:3b:54:02:12:df:3e:5d:49:6b:19:e5:7c:ab")
            .unwrap();
    assert_eq!(lower, fp);
    assert_eq!(
        lower.to_string(),
        "sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB"
    );
    for bad in [
        "sha-256 4A:AD",
        "sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:00",
        "sha-1 4G:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB",
        "sha-1 4AAD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB",
        "whirlpool 4A",
        "sha-1",
        "sha-512 ::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::",
    ] {
        assert!(Fingerprint::parse(bad).is_err(), "{bad}");
    }
    assert!(Fingerprint::new(HashFunction::Sha256, &[0; 31]).is_none());
}

#[test]
fn candidate_grammar() {
    let c = Candidate::parse(
        "842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 10.0.0.2 rport 46154 \
         generation 0 ufrag EsAw network-cost 999 x-custom y",
    )
    .unwrap();
    assert_eq!(c.typ, CandidateType::Srflx);
    assert_eq!(
        (c.related_address, c.related_port),
        (Some("10.0.0.2"), Some(46154))
    );
    assert_eq!(
        (c.ufrag, c.network_cost, c.generation),
        (Some("EsAw"), Some(999), Some(0))
    );
    assert_eq!(c.extensions().last(), Some(("x-custom", "y")));
    let relay = Candidate::parse("candidate:1 1 UDP 5 198.51.100.1 3478 typ relay").unwrap();
    assert_eq!(relay.typ, CandidateType::Relay);
    let mdns = Candidate::parse("1 1 udp 5 6c0c1e2a-1b7c-4e.local 9 typ host").unwrap();
    assert_eq!(mdns.ip(), None);
    let other = Candidate::parse("1 1 udp 5 a 9 typ weird").unwrap();
    assert_eq!(other.typ, CandidateType::Other("weird"));
    for bad in [
        "1 1 udp 5 1.2.3.4 9 host",
        "1 1 udp 5 1.2.3.4 9 typ",
        "1 1 udp 5 1.2.3.4 99999 typ host",
        "1 1 udp x 1.2.3.4 9 typ host",
        "123456789012345678901234567890123 1 udp 5 a 9 typ host",
        "f-o 1 udp 5 a 9 typ host",
        "1 1 udp 5 a 9 typ host generation",
        "1 1 udp 5 a 9 typ host generation x",
        "1 1 udp 5 a 9 typ host tcptype sideways",
        "1 1 udp 5 a 9 typ host raddr",
        "1 1 udp 5 a 9 typ host rport x",
        "1 1 udp 5 a 9 typ host  generation 0",
        "",
    ] {
        assert!(Candidate::parse(bad).is_err(), "{bad}");
    }
    let mut built = Candidate::new("7", 1, "tcp", 9, "192.0.2.1", 9, CandidateType::Host);
    built.tcptype = Some(TcpType::Passive);
    built.generation = Some(2);
    let text = built.to_string();
    assert_eq!(
        text,
        "7 1 tcp 9 192.0.2.1 9 typ host tcptype passive generation 2"
    );
    let back = Candidate::parse(&text).unwrap();
    assert_eq!(
        (back.tcptype, back.generation),
        (built.tcptype, built.generation)
    );
}

#[test]
fn attribute_grammar_errors() {
    for (name, value) in [
        ("rtpmap", Some("x PCMU/8000")),
        ("rtpmap", Some("128 PCMU/8000")),
        ("rtpmap", Some("0 PCMU")),
        ("rtpmap", Some("0 PCMU/0")),
        ("rtpmap", Some("0 PCMU/8000/1/2")),
        ("rtpmap", None),
        ("fmtp", Some("101")),
        ("ptime", Some("x")),
        ("rtcp", Some("x")),
        ("rtcp", Some("9 IN IP4")),
        ("rtcp-fb", Some("200 nack")),
        ("extmap", Some("x uri")),
        ("extmap", Some("1/sideways uri")),
        ("mid", Some("")),
        ("ssrc", Some("x cname:a")),
        ("ssrc-group", Some("FID 1 x")),
        ("setup", Some("both")),
        ("ice-ufrag", Some("")),
    ] {
        let raw = RawAttribute { name, value };
        assert!(raw.typed().is_err(), "{name}:{value:?}");
    }
    // A direction name with a value is not a direction.
    let raw = RawAttribute::split("sendrecv:x");
    assert!(matches!(raw.typed(), Ok(Attribute::Other(_))));
    assert_eq!(
        RawAttribute::split("sendonly").typed(),
        Ok(Attribute::Direction(Direction::SendOnly))
    );
}

fn token() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9+/._-]{1,12}"
}

fn candidate_text() -> impl Strategy<Value = String> {
    (
        "[a-zA-Z0-9+/]{1,32}",
        1u16..=256,
        prop_oneof![Just("udp"), Just("UDP"), Just("tcp")],
        any::<u32>(),
        prop_oneof![
            any::<[u8; 4]>().prop_map(|b| core::net::Ipv4Addr::from(b).to_string()),
            any::<[u16; 8]>().prop_map(|b| core::net::Ipv6Addr::from(b).to_string()),
            Just("abc.local".to_string()),
        ],
        any::<u16>(),
        prop_oneof![Just("host"), Just("srflx"), Just("prflx"), Just("relay")],
        proptest::option::of((token(), any::<u16>())),
        proptest::collection::vec((token(), token()), 0..4),
    )
        .prop_map(|(f, comp, tr, pri, addr, port, typ, rel, ext)| {
            let mut s = format!("{f} {comp} {tr} {pri} {addr} {port} typ {typ}");
            if let Some((ra, rp)) = rel {
                s += &format!(" raddr {ra} rport {rp}");
            }
            for (k, v) in ext {
                // Skip the known names whose values have a grammar.
                if !["tcptype", "generation", "network-id", "network-cost"].contains(&&*k) {
                    s += &format!(" {k} {v}");
                }
            }
            s
        })
}

fn attribute_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            0u8..128,
            "[a-zA-Z0-9._-]{1,12}",
            1u32..200_000,
            proptest::option::of(1u16..9)
        )
            .prop_map(|(p, n, c, ch)| match ch {
                Some(ch) => format!("rtpmap:{p} {n}/{c}/{ch}"),
                None => format!("rtpmap:{p} {n}/{c}"),
            }),
        (0u8..128, "[ -~]{0,30}").prop_map(|(p, v)| format!("fmtp:{p} {v}")),
        candidate_text().prop_map(|c| format!("candidate:{c}")),
        proptest::collection::vec(any::<u8>(), 32).prop_map(|b| format!(
            "fingerprint:{}",
            Fingerprint::new(HashFunction::Sha256, &b).unwrap()
        )),
        (
            1u32..999_999_999,
            proptest::collection::vec(any::<u8>(), 30),
            0u8..48
        )
            .prop_map(|(t, k, l)| format!(
                "crypto:{t} AES_CM_128_HMAC_SHA1_80 inline:{}|2^{l}|1:4",
                crypto::base64_encode(&k)
            )),
        (1u16..4096, proptest::option::of(0usize..4), token()).prop_map(|(i, d, u)| {
            let d = d.map(|d| ["sendrecv", "sendonly", "recvonly", "inactive"][d]);
            match d {
                Some(d) => format!("extmap:{i}/{d} {u}"),
                None => format!("extmap:{i} {u}"),
            }
        }),
        (any::<u32>(), token(), token()).prop_map(|(s, a, v)| format!("ssrc:{s} {a}:{v}")),
        Just("rtcp-mux".to_string()),
        Just("sendonly".to_string()),
        prop_oneof![
            Just("active"),
            Just("passive"),
            Just("actpass"),
            Just("holdconn")
        ]
        .prop_map(|s| format!("setup:{s}")),
        (token(), "[ -~]{0,20}").prop_map(|(n, v)| format!("x-{n}:{v}")),
    ]
}

fn session_text() -> impl Strategy<Value = String> {
    (
        any::<u64>(),
        proptest::collection::vec(attribute_text(), 0..4),
        proptest::collection::vec(
            (
                prop_oneof![Just("audio"), Just("video")],
                any::<u16>(),
                prop_oneof![Just("RTP/AVP"), Just("UDP/TLS/RTP/SAVPF"), Just("RTP/SAVP")],
                proptest::collection::vec(0u8..128, 1..6),
                proptest::collection::vec(attribute_text(), 0..8),
            ),
            0..3,
        ),
        prop_oneof![Just("\r\n"), Just("\n")],
    )
        .prop_map(|(id, sattrs, media, eol)| {
            let mut s = format!("v=0{eol}o=- {id} 1 IN IP4 192.0.2.1{eol}s=-{eol}t=0 0{eol}");
            for a in sattrs {
                s += &format!("a={a}{eol}");
            }
            for (kind, port, proto, pts, attrs) in media {
                let pts: Vec<_> = pts.iter().map(ToString::to_string).collect();
                s += &format!("m={kind} {port} {proto} {}{eol}", pts.join(" "));
                s += &format!("c=IN IP4 198.51.100.{}{eol}", port % 256);
                for a in attrs {
                    s += &format!("a={a}{eol}");
                }
            }
            s
        })
}

proptest! {
    #[test]
    fn generated_sessions_round_trip(text in session_text()) {
        let sdp = SessionDescription::parse(&text).unwrap();
        prop_assert_eq!(sdp.to_string(), text.clone());
        for m in sdp.media() {
            for raw in m.attributes() {
                let typed = raw.typed().unwrap();
                let again = typed.to_string();
                prop_assert_eq!(RawAttribute::split(&again).typed().unwrap(), typed);
            }
        }
    }

    #[test]
    fn typed_attributes_round_trip(text in attribute_text()) {
        let typed = RawAttribute::split(&text).typed().unwrap();
        prop_assert_eq!(typed.to_string(), text.clone());
    }

    #[test]
    fn arbitrary_text_never_panics(text in "(?s)[ -~\r\n]{0,300}") {
        let with_header = format!("{MIN}{text}");
        for t in [text.as_str(), with_header.as_str()] {
            if let Ok(sdp) = SessionDescription::parse(t) {
                prop_assert_eq!(sdp.to_string(), t);
                for m in sdp.media() {
                    let _ = m.media_line();
                    let _ = m.typed_attributes().count();
                    let _ = sdp.fingerprints(m).count();
                    let _ = sdp.setup(m);
                }
            }
        }
    }

    #[test]
    fn arbitrary_attribute_values_never_panic(name in prop_oneof![
        Just("rtpmap"), Just("fmtp"), Just("candidate"), Just("fingerprint"), Just("crypto"),
        Just("extmap"), Just("ssrc"), Just("ssrc-group"), Just("rtcp"), Just("rtcp-fb"),
        Just("group"), Just("msid"), Just("setup"), Just("ptime")
    ], value in "[ -~]{0,80}") {
        if let Ok(a) = (RawAttribute { name, value: Some(&value) }).typed() {
            // Whatever decodes re-encodes to something that decodes to the same value.
            let text = a.to_string();
            prop_assert_eq!(RawAttribute::split(&text).typed().unwrap(), a);
        }
    }
}

#[test]
fn base64_round_trip_in_crypto() {
    let key: Vec<u8> = (0u8..30).collect();
    let text = format!(
        "1 AES_CM_128_HMAC_SHA1_32 inline:{}",
        crypto::base64_encode(&key)
    );
    let c = Crypto::parse(&text).unwrap();
    let mut out = [0u8; 30];
    let n = c
        .keys()
        .next()
        .unwrap()
        .unwrap()
        .decode_key_salt(&mut out)
        .unwrap();
    assert_eq!(&out[..n], &key[..]);
    assert_eq!(vec![c.to_string()], vec![text]);
}

/// The `a=msid` and `a=ssrc … cname:` lines of the writer (RFC 8830 §2, RFC 5576 §4.1):
/// present exactly when [`negotiate::LocalMedia`] sets them, in offers and answers, and
/// read back by the parser; without them the output is what it was.
#[test]
fn writer_announces_msid_and_ssrc_only_when_set() {
    use negotiate::{CodecPolicy, LocalMedia, RtpTransport, Transport, WebRtcTransport};
    let mut rng = crate::rand::SplitMix64::new(7);
    let (stream, track) = (
        negotiate::random_msid_id(&mut rng),
        negotiate::random_msid_id(&mut rng),
    );
    let cname = negotiate::random_cname(&mut rng);
    assert_ne!(stream, track);
    assert_eq!(cname.len(), 16, "96 bits in base64 (RFC 7022 §4.2)");
    let webrtc = Transport::WebRtc(WebRtcTransport {
        ice_ufrag: "abcd",
        ice_pwd: "abcdefghijklmnopqrstuv",
        fingerprint: Fingerprint::new(HashFunction::Sha256, &[7; 32]).unwrap(),
        ice_lite: true,
        answer_setup: Setup::Passive,
        candidates: &[],
    });
    let trunk = Transport::Rtp(RtpTransport {
        rtcp_port: None,
        rtcp_mux: false,
        sdes_key: None,
    });
    for (transport, policy) in [
        (webrtc, CodecPolicy::webrtc()),
        (trunk, CodecPolicy::trunk()),
    ] {
        let plain = LocalMedia {
            session_id: 1,
            session_version: 1,
            address: "192.0.2.1".parse().unwrap(),
            port: 40000,
            direction: Direction::SendRecv,
            ssrc: None,
            msid: None,
            transport,
        };
        let signalled = LocalMedia {
            ssrc: Some((0xdead_beef, &cname)),
            msid: Some((&stream, &track)),
            ..plain.clone()
        };
        let offer = negotiate::offer(&policy, &plain).to_string();
        let peer = SessionDescription::parse(&offer).unwrap();
        let answer = |local: &LocalMedia<'_>| {
            negotiate::answer(&peer, &policy, local)
                .unwrap()
                .sdp
                .to_string()
        };
        let texts = [
            (
                offer.clone(),
                negotiate::offer(&policy, &signalled).to_string(),
            ),
            (answer(&plain), answer(&signalled)),
        ];
        let msid_line = format!("a=msid:{stream} {track}\r\n");
        let ssrc_line = format!("a=ssrc:3735928559 cname:{cname}\r\n");
        for (without, with) in texts {
            assert!(!without.contains("a=msid") && !without.contains("a=ssrc"));
            // The two lines, and nothing else, are added.
            assert_eq!(
                with.replace(&msid_line, "").replace(&ssrc_line, ""),
                without
            );
            let sdp = SessionDescription::parse(&with).unwrap();
            let attrs: Vec<Attribute<'_>> = sdp.media()[0]
                .typed_attributes()
                .collect::<Result<_, _>>()
                .unwrap();
            let msid = attrs.iter().find_map(|a| match a {
                Attribute::Msid(m) => Some((m.stream, m.appdata)),
                _ => None,
            });
            assert_eq!(msid, Some((stream.as_str(), Some(track.as_str()))));
            let ssrc = attrs.iter().find_map(|a| match a {
                Attribute::Ssrc(s) => Some((s.ssrc, s.attribute, s.value)),
                _ => None,
            });
            assert_eq!(ssrc, Some((0xdead_beef, "cname", Some(cname.as_str()))));
        }
    }
}
