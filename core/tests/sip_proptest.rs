//! Property tests: structured URIs and header values are serialized, parsed and compared
//! field by field; built messages round-trip through the wire; arbitrary bytes never
//! panic any parser or accessor.
use proptest::prelude::*;

use rvoip_core::sip::validate::{ValidateConfig, validate};
use rvoip_core::sip::{
    CSeq, HeaderName, Host, Message, Method, NameAddr, Request, RequestBuf, StreamFramer, Uri, Via,
    unescape, uri_eq,
};

fn token() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9][a-zA-Z0-9.!%*_+`'~-]{0,11}"
}

fn domain() -> impl Strategy<Value = String> {
    prop::collection::vec("[a-z][a-z0-9-]{0,8}[a-z0-9]", 1..4).prop_map(|l| l.join("."))
}

#[derive(Debug, Clone)]
enum H {
    Domain(String),
    V4([u8; 4]),
    V6([u16; 8]),
}

fn host() -> impl Strategy<Value = H> {
    prop_oneof![
        domain().prop_map(H::Domain),
        any::<[u8; 4]>().prop_map(H::V4),
        any::<[u16; 8]>().prop_map(H::V6),
    ]
}

fn host_text(h: &H) -> String {
    match h {
        H::Domain(d) => d.clone(),
        H::V4(a) => core::net::Ipv4Addr::from(*a).to_string(),
        H::V6(a) => format!("[{}]", core::net::Ipv6Addr::from(*a)),
    }
}

fn host_eq(h: &H, p: Host<'_>) -> bool {
    match (h, p) {
        (H::Domain(d), Host::Domain(x)) => d == x,
        (H::V4(a), Host::Ipv4(x)) => core::net::Ipv4Addr::from(*a) == x,
        (H::V6(a), Host::Ipv6(x)) => core::net::Ipv6Addr::from(*a) == x,
        _ => false,
    }
}

/// User part: unreserved and user-unreserved characters plus %-escapes.
fn user() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[a-zA-Z0-9_.!~*'()&=+$,;?/-]",
            any::<u8>().prop_map(|b| format!("%{b:02X}")),
        ],
        1..12,
    )
    .prop_map(|v| v.concat())
}

fn pchars() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[a-zA-Z0-9_.!~*'()\\[\\]/:&+$-]",
            any::<u8>().prop_map(|b| format!("%{b:02x}"))
        ],
        1..8,
    )
    .prop_map(|v| v.concat())
}

#[derive(Debug, Clone)]
struct U {
    secure: bool,
    user: Option<String>,
    password: Option<String>,
    host: H,
    port: Option<u16>,
    params: Vec<(String, Option<String>)>,
    headers: Vec<(String, String)>,
}

fn sip_uri() -> impl Strategy<Value = U> {
    (
        any::<bool>(),
        prop::option::of(user()),
        prop::option::of("[a-zA-Z0-9&=+$,_.-]{0,8}"),
        host(),
        prop::option::of(any::<u16>()),
        prop::collection::vec((pchars(), prop::option::of(pchars())), 0..4),
        prop::collection::vec(
            (
                "[a-zA-Z0-9_.!~*'()\\[\\]/?:+$-]{1,6}",
                "[a-zA-Z0-9?:+$/-]{0,6}",
            ),
            0..3,
        ),
    )
        .prop_map(|(secure, user, password, host, port, params, headers)| U {
            secure,
            password: user.as_ref().and(password),
            user,
            host,
            port,
            params,
            headers,
        })
}

fn uri_text(u: &U) -> String {
    let mut s = String::from(if u.secure { "sips:" } else { "sip:" });
    if let Some(us) = &u.user {
        s += us;
        if let Some(p) = &u.password {
            s += ":";
            s += p;
        }
        s += "@";
    }
    s += &host_text(&u.host);
    if let Some(p) = u.port {
        s += &format!(":{p}");
    }
    for (n, v) in &u.params {
        s += ";";
        s += n;
        if let Some(v) = v {
            s += "=";
            s += v;
        }
    }
    for (i, (n, v)) in u.headers.iter().enumerate() {
        s += if i == 0 { "?" } else { "&" };
        s += n;
        s += "=";
        s += v;
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn sip_uri_round_trip(u in sip_uri()) {
        let text = uri_text(&u);
        let parsed = Uri::parse(&text).unwrap();
        prop_assert_eq!(parsed.as_str(), text.as_str());
        let s = parsed.as_sip().unwrap();
        prop_assert_eq!(s.is_secure(), u.secure);
        prop_assert_eq!(s.user(), u.user.as_deref());
        prop_assert_eq!(s.password(), u.password.as_deref());
        prop_assert!(host_eq(&u.host, s.host()));
        prop_assert_eq!(s.port(), u.port);
        let params: Vec<_> = s.params().iter().map(|(n, v)| (n.to_owned(), v.map(str::to_owned))).collect();
        prop_assert_eq!(params, u.params.clone());
        let headers: Vec<_> = s.headers().map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
        prop_assert_eq!(headers, u.headers.clone());
        prop_assert!(uri_eq(&parsed, &parsed));
        // Escaping an unreserved character or changing host case does not change identity.
        if let (Some(us), H::Domain(d)) = (&u.user, &u.host) && !us.contains('%') {
            let escaped_user: String = us.bytes().map(|b| if b.is_ascii_alphanumeric() { format!("%{b:02X}") } else { (b as char).to_string() }).collect();
            let alt = uri_text(&U {
                user: Some(escaped_user),
                host: H::Domain(d.to_ascii_uppercase()),
                ..u.clone()
            });
            let alt_p = Uri::parse(&alt).unwrap();
            prop_assert_eq!(unescape(alt_p.as_sip().unwrap().user().unwrap()), unescape(us));
            prop_assert!(uri_eq(&parsed, &alt_p), "{} vs {}", text, alt);
        }
        // An explicit port makes URIs differ from one without (§19.1.4).
        if u.port.is_none() {
            let with_port = format!("{}:5060", uri_text(&U { params: vec![], headers: vec![], ..u.clone() }));
            let base = uri_text(&U { params: vec![], headers: vec![], ..u.clone() });
            prop_assert!(!uri_eq(&Uri::parse(&base).unwrap(), &Uri::parse(&with_port).unwrap()));
        }
    }

    #[test]
    fn tel_uri_round_trip(num in "\\+[0-9]{1,3}(-?[0-9]{2,4}){1,4}", ctx in prop::option::of(domain())) {
        let text = match &ctx { Some(c) => format!("tel:{num};phone-context={c}"), None => format!("tel:{num}") };
        let u = Uri::parse(&text).unwrap();
        let Uri::Tel(t) = u else { return Err(TestCaseError::fail("not tel")) };
        prop_assert_eq!(t.number(), num.as_str());
        prop_assert!(t.is_global());
        prop_assert_eq!(t.params().get("phone-context"), ctx.as_deref().map(Some));
        let stripped = format!("tel:{}", num.replace('-', ""));
        if ctx.is_none() {
            prop_assert!(uri_eq(&u, &Uri::parse(&stripped).unwrap()));
        }
    }

    #[test]
    fn via_round_trip(
        transport in prop_oneof!["UDP", "TCP", "TLS", "WS", "WSS", "SCTP"],
        h in host(),
        port in prop::option::of(any::<u16>()),
        branch in "z9hG4bK[a-zA-Z0-9.!%*_+`'~-]{1,16}",
        rport in any::<bool>(),
        received in prop::option::of(any::<[u8; 4]>()),
        ws in prop_oneof![Just(""), Just(" "), Just(" \r\n  ")],
    ) {
        let mut s = format!("SIP{ws}/{ws}2.0{ws}/{ws}{transport} {}", host_text(&h));
        if let Some(p) = port { s += &format!("{ws}:{ws}{p}"); }
        s += &format!("{ws};{ws}branch{ws}={ws}{branch}");
        if rport { s += ";rport"; }
        if let Some(r) = received { s += &format!(";received={}", core::net::Ipv4Addr::from(r)); }
        let v = Via::parse(&s).unwrap();
        prop_assert_eq!(v.transport, transport.as_str());
        prop_assert!(host_eq(&h, v.host));
        prop_assert_eq!(v.port, port);
        prop_assert_eq!(v.branch(), Some(branch.as_str()));
        prop_assert_eq!(v.rport(), rport.then_some(None));
        let rec = received.map(|r| core::net::Ipv4Addr::from(r).to_string());
        prop_assert_eq!(v.received(), rec.as_deref());
    }

    #[test]
    fn name_addr_round_trip(
        display in prop::option::of("[ -~]{0,12}"),
        u in sip_uri(),
        tag in prop::option::of(token()),
        extra in prop::collection::vec((token(), prop::option::of(token())), 0..3),
    ) {
        let uri = uri_text(&u);
        let mut s = String::new();
        if let Some(d) = &display {
            s.push('"');
            for c in d.chars() {
                if c == '"' || c == '\\' { s.push('\\'); }
                s.push(c);
            }
            s += "\" ";
        }
        s += &format!("<{uri}>");
        for (n, v) in &extra {
            s += &format!(";{n}");
            if let Some(v) = v { s += &format!("={v}"); }
        }
        if let Some(t) = &tag { s += &format!(";tag={t}"); }
        let n = NameAddr::parse(&s).unwrap();
        prop_assert_eq!(n.display_name().map(|c| c.into_owned()), display.clone());
        prop_assert_eq!(n.uri, uri.as_str());
        let first_tag = extra.iter().find(|(k, _)| k.eq_ignore_ascii_case("tag")).map(|(_, v)| v.as_deref());
        match first_tag {
            Some(v) => prop_assert_eq!(n.params.get("tag"), Some(v)),
            None => prop_assert_eq!(n.tag(), tag.as_deref()),
        }
    }

    #[test]
    fn cseq_round_trip(seq in any::<u32>(), m in prop_oneof![Just("INVITE".to_owned()), Just("ACK".to_owned()), Just("BYE".to_owned()), token()]) {
        let s = format!("{seq} {m}");
        let c = CSeq::parse(&s).unwrap();
        prop_assert_eq!(c.seq, seq);
        prop_assert_eq!(c.method.as_str(), m.as_str());
        prop_assert_eq!(c.method, Method::from_str_exact(&m));
    }

    #[test]
    fn built_message_round_trip(
        headers in prop::collection::vec(
            (prop_oneof![
                Just("Via".to_owned()), Just("v".to_owned()), Just("Contact".to_owned()),
                Just("Subject".to_owned()), Just("Route".to_owned()), "X-[A-Za-z0-9-]{1,10}"
            ], "[!-~]([ -~]{0,30}[!-~])?"),
            0..20),
        body in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut req = RequestBuf::new(Method::Message, "sip:bob@example.com");
        for (n, v) in &headers {
            req.push_raw(n, v).unwrap();
        }
        req.set_body(Some("text/plain"), body.clone());
        let bytes = req.to_bytes();
        let parsed = Request::parse(&bytes).unwrap();
        prop_assert_eq!(parsed.body(), &body[..]);
        let got: Vec<(String, String)> = parsed
            .headers()
            .iter()
            .take(headers.len())
            .map(|f| (f.raw_name.to_owned(), f.value.to_owned()))
            .collect();
        prop_assert_eq!(got, headers.clone());
        prop_assert_eq!(parsed.to_buf(), req);
        prop_assert_eq!(parsed.headers().get(HeaderName::ContentLength).map(str::to_owned), Some(body.len().to_string()));
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(m) = Message::parse(&data) {
            for f in m.headers().iter() { let _ = f.value; }
            let _ = m.headers().vias().count();
            let _ = m.headers().contacts().count();
            let _ = (m.from(), m.to(), m.cseq(), m.call_id());
            if let Some(r) = m.as_request() {
                let _ = validate(r, &ValidateConfig::default());
                prop_assert_eq!(r.to_buf().to_bytes(), r.raw());
            }
        }
        let _ = Uri::parse(&String::from_utf8_lossy(&data));
        let mut f = StreamFramer::default();
        if f.push(&data).is_ok() {
            while let Ok(Some(_)) = f.next_frame() {}
        }
    }
}
