//! SIP message layer: WebRTC INVITE fixtures (byte-exact round trips and typed values),
//! builders, stream framing over arbitrary splits, limits, and no panic on truncation.
use std::path::Path;

use rvoip_core::sip::validate::{ValidateConfig, validate};
use rvoip_core::sip::{
    Frame, Framing, HeaderName, Host, Limits, Message, Method, ParseError, Request, RequestBuf,
    Response, ResponseBuf, StatusCode, StreamFramer, Uri,
};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/sip")
            .join(name),
    )
    .unwrap()
}

fn all_fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sip");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_fixture_round_trips_byte_for_byte() {
    let all = all_fixtures();
    assert!(all.len() >= 4);
    for (name, bytes) in &all {
        let m = Message::parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(m.raw(), &bytes[..], "{name}");
        let again = match &m {
            Message::Request(r) => r.to_buf().to_bytes(),
            Message::Response(r) => r.to_buf().to_bytes(),
        };
        assert_eq!(again, *bytes, "{name}");
        // Body framed by Content-Length (optional over WebSocket, RFC 7118 §5).
        if let Ok(cl) = m.headers().content_length() {
            assert_eq!(m.body().len() as u32, cl, "{name}");
        }
        if m.headers().content_type().is_ok_and(|c| c.is_sdp()) {
            assert!(m.body().starts_with(b"v=0\r\n"), "{name}");
        }
        if let Message::Request(r) = &m {
            assert_eq!(validate(r, &ValidateConfig::default()), Ok(()), "{name}");
        }
    }
}

#[test]
fn jssip_invite_typed_values() {
    let bytes = fixture("chromium_jssip_invite.txt");
    let r = Request::parse(&bytes).unwrap();
    assert_eq!(r.method(), Method::Invite);
    let u = r.parsed_uri().unwrap();
    let s = u.as_sip().unwrap();
    assert_eq!(
        (s.user(), s.host()),
        (Some("+15550100"), Host::Domain("gw.example.com"))
    );
    let via = r.via_top().unwrap();
    assert_eq!(
        (via.transport, via.host_str, via.branch()),
        ("WSS", "2k0bq6e1h7nd.invalid", Some("z9hG4bK5309414"))
    );
    assert!(via.is_rfc3261_branch());
    assert_eq!(r.headers().max_forwards(), Ok(69));
    assert_eq!(r.from().unwrap().display_name().unwrap(), "Alice");
    assert_eq!(r.from().unwrap().tag(), Some("ocf1slh2mi"));
    assert_eq!(r.to().unwrap().tag(), None);
    assert_eq!(r.call_id(), Ok("4ugnc4rplbp7l2lrsn3t"));
    assert_eq!(r.cseq().unwrap().seq, 9120);
    let c = r.headers().contacts().next().unwrap().unwrap();
    assert_eq!(
        c.params.get_unquoted("+sip.instance").unwrap(),
        "<urn:uuid:1b8e2c64-3f0d-4a8e-9f3c-5d2e7a9b0c41>"
    );
    assert!(c.params.has("+sip.ice"));
    let cu = c.uri().unwrap();
    assert_eq!(cu.as_sip().unwrap().transport(), Some("ws"));
    assert!(cu.as_sip().unwrap().param("ob").is_some());
    let allow: Vec<_> = r.headers().allow().map(Result::unwrap).collect();
    assert_eq!(allow.len(), 10);
    assert!(allow.contains(&"REFER"));
    assert!(r.headers().supports("outbound"));
    assert!(!r.headers().supports("100rel"));
    assert_eq!(r.headers().user_agent(), Some("JsSIP 3.10.1"));
    assert!(r.headers().content_type().unwrap().is_sdp());
}

#[test]
fn sipjs_invite_route_and_auth() {
    let bytes = fixture("chromium_sipjs_invite_av.txt");
    let r = Request::parse(&bytes).unwrap();
    let route = r.headers().routes().next().unwrap().unwrap();
    assert!(route.uri().unwrap().as_sip().unwrap().lr());
    let auth = r.headers().proxy_authorization().next().unwrap().unwrap();
    assert!(auth.is_digest());
    assert!(auth.params.starts_with("algorithm=MD5, username=\"alice\""));
    assert!(core::str::from_utf8(r.body()).unwrap().contains("m=video"));
}

#[test]
fn ok_response_values() {
    let bytes = fixture("webrtc_200ok.txt");
    let r = Response::parse(&bytes).unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.reason(), "OK");
    let via = r.via_top().unwrap();
    assert_eq!(via.received(), Some("192.0.2.77"));
    assert_eq!(via.rport(), Some(Some(52011)));
    assert_eq!(r.to().unwrap().tag(), Some("as6f1b2c9d"));
    let se = r.headers().session_expires().unwrap();
    assert_eq!((se.delta, se.refresher), (1800, Some("uac")));
    assert_eq!(r.headers().record_routes().count(), 1);
    assert_eq!(r.headers().server(), Some("rvoip-gateway/0.1"));
}

#[test]
fn built_request_round_trips() {
    let sdp = fixture("webrtc_invite_1k.txt");
    let sdp_body = &sdp[sdp.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..];
    let mut req = RequestBuf::new(Method::Invite, "sip:bob@example.com")
        .with(HeaderName::Via, "SIP/2.0/WSS h.invalid;branch=z9hG4bKabc")
        .with(HeaderName::MaxForwards, "70")
        .with(HeaderName::To, "<sip:bob@example.com>")
        .with(
            HeaderName::From,
            "\"A \\\"q\\\"\" <sip:a@example.com>;tag=x1",
        )
        .with(HeaderName::CallId, "cid-1")
        .with(HeaderName::CSeq, "1 INVITE")
        .with(
            HeaderName::Contact,
            "<sip:a@h.invalid;transport=ws>;+sip.ice",
        );
    req.push_raw("X-Trace", "  keep   me  ").unwrap();
    req.set_body(Some("application/sdp"), sdp_body);
    let bytes = req.to_bytes();
    let parsed = Request::parse(&bytes).unwrap();
    assert_eq!(
        parsed.to_buf(),
        req,
        "owned value survives a trip through the wire"
    );
    assert_eq!(parsed.to_buf().to_bytes(), bytes);
    assert_eq!(parsed.body(), sdp_body);
    assert_eq!(parsed.from().unwrap().display_name().unwrap(), "A \"q\"");
    assert_eq!(parsed.headers_named("x-trace").next(), Some("keep   me"));
    assert_eq!(validate(&parsed, &ValidateConfig::default()), Ok(()));

    // Response built for it, modified, round-tripped.
    let mut resp = ResponseBuf::for_request(&parsed, StatusCode::RINGING, "Ringing");
    resp.set_to_tag("tt");
    resp.push(HeaderName::Contact, "<sip:b@192.0.2.4>");
    let rb = resp.to_bytes();
    let p = Response::parse(&rb).unwrap();
    assert_eq!(p.to_buf(), resp);
    assert_eq!(p.to_buf().to_bytes(), rb);
    assert_eq!(p.cseq().unwrap().method, Method::Invite);
    assert_eq!(p.to().unwrap().tag(), Some("tt"));
}

#[test]
fn stream_framer_cuts_fixture_stream_at_every_split() {
    let msgs: Vec<Vec<u8>> = all_fixtures().into_iter().map(|x| x.1).collect();
    let mut stream = Vec::new();
    for m in &msgs {
        stream.extend_from_slice(m);
        stream.extend_from_slice(b"\r\n\r\n");
    }
    for step in [1usize, 2, 3, 7, 64, 500, 1500, 100_000] {
        let mut f = StreamFramer::default();
        let mut got = Vec::new();
        let mut pings = 0;
        for chunk in stream.chunks(step) {
            f.push(chunk).unwrap();
            while let Some(frame) = f.next_frame().unwrap() {
                match frame {
                    Frame::Message(m) => got.push(m),
                    Frame::Ping => pings += 1,
                    Frame::Pong => {}
                }
            }
        }
        assert_eq!(got, msgs, "step {step}");
        assert_eq!(pings, msgs.len(), "step {step}");
        for m in &got {
            Message::parse_with(m, &Limits::default(), Framing::Stream).unwrap();
        }
    }
}

#[test]
fn limits_are_typed_errors() {
    let base = fixture("webrtc_invite_1k.txt");
    let tight = Limits {
        max_message_size: 1000,
        ..Limits::default()
    };
    assert_eq!(
        Message::parse_with(&base, &tight, Framing::Datagram).unwrap_err(),
        ParseError::TooLarge
    );
    let tight = Limits {
        max_headers: 5,
        ..Limits::default()
    };
    assert_eq!(
        Message::parse_with(&base, &tight, Framing::Datagram).unwrap_err(),
        ParseError::TooManyHeaders
    );
    let tight = Limits {
        max_line_len: 60,
        ..Limits::default()
    };
    assert_eq!(
        Message::parse_with(&base, &tight, Framing::Datagram).unwrap_err(),
        ParseError::LineTooLong
    );
    // Defaults: 256 headers pass, 257 fail.
    let mut many = b"OPTIONS sip:a@b SIP/2.0\r\n".to_vec();
    for i in 0..256 {
        many.extend_from_slice(format!("X-H{i}: v\r\n").as_bytes());
    }
    let ok = [many.clone(), b"\r\n".to_vec()].concat();
    assert_eq!(Message::parse(&ok).unwrap().headers().len(), 256);
    many.extend_from_slice(b"X-Last: v\r\n\r\n");
    assert_eq!(
        Message::parse(&many).unwrap_err(),
        ParseError::TooManyHeaders
    );
    let long = format!("OPTIONS sip:a@b SIP/2.0\r\nX: {}\r\n\r\n", "a".repeat(9000));
    assert_eq!(
        Message::parse(long.as_bytes()).unwrap_err(),
        ParseError::LineTooLong
    );
    let big = vec![b'a'; 70_000];
    assert_eq!(Message::parse(&big).unwrap_err(), ParseError::TooLarge);
}

#[test]
fn truncations_and_mutations_never_panic() {
    for (_, bytes) in all_fixtures() {
        for end in 0..bytes.len() {
            let cut = &bytes[..end];
            if let Ok(m) = Message::parse(cut) {
                let _ = m.headers().vias().count();
                let _ = m.from();
                let _ = m.to();
                if let Message::Request(r) = &m {
                    let _ = validate(r, &ValidateConfig::default());
                    assert_eq!(r.to_buf().to_bytes(), r.raw());
                }
            }
        }
        for i in (0..bytes.len()).step_by(7) {
            let mut b = bytes.clone();
            for x in [0u8, b'\r', b'\n', b' ', b':', b';', b'<', b'"', 0xff] {
                b[i] = x;
                if let Ok(m) = Message::parse(&b) {
                    for f in m.headers().iter() {
                        let _ = (f.name, f.value);
                    }
                    let _ = m.headers().contacts().count();
                    let _ = m.cseq();
                    if let Message::Request(r) = &m {
                        let _ = validate(r, &ValidateConfig::default());
                        let _ = r.parsed_uri().map(|u| matches!(u, Uri::Sip(_)));
                    }
                }
            }
        }
    }
}

#[test]
fn parse_errors_map_to_transport_actions() {
    use rvoip_core::sip::ParseAction;
    // Unanswerable: a response with an out-of-range code is dropped silently.
    let e = Message::parse(b"SIP/2.0 999 Nope\r\n\r\n").unwrap_err();
    assert_eq!(e.action(), ParseAction::Drop);
    // Limit breaches and unframeable heads close a stream connection (drop on UDP).
    let e = Message::parse(&[b'a'; 70_000]).unwrap_err();
    assert_eq!(e.action(), ParseAction::CloseStream);
    // Answerable problems parse and are answered by `validate` with 400.
    let m = Message::parse(b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nBroken line\r\nContent-Length: 0\r\n\r\n").unwrap();
    let rej = validate(m.as_request().unwrap(), &ValidateConfig::default()).unwrap_err();
    assert_eq!(rej.status, StatusCode::BAD_REQUEST);
    assert_eq!(rej.reason, "Malformed Header");
    // A good 200 OK passes the client-side response checks.
    let ok = fixture("webrtc_200ok.txt");
    let r = Response::parse(&ok).unwrap();
    assert_eq!(rvoip_core::sip::validate::validate_response(&r), Ok(()));
}
