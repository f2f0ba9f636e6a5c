//! RFC 4475 torture messages: every file in `fixtures/rfc4475/` mapped to the outcome the
//! RFC (and the fixture README) asks for, with real parsed values asserted for the valid
//! ones and byte-exact round trips for everything that parses.
use std::collections::BTreeSet;
use std::path::Path;

use rvoip_core::sip::validate::{ValidateConfig, validate, validate_response};
use rvoip_core::sip::{
    Datagram, HeaderName, Host, Limits, Message, Method, ParseError, StatusCode, Uri,
    parse_datagram, unescape,
};

#[derive(Clone, Copy)]
enum Role {
    Uas,
    Proxy,
    UasMultipart,
}

enum Expect {
    /// Parses, `check` passes, and validation gives `Ok` (None) or the code.
    Valid(fn(&Message<'_>, &[u8]), Option<u16>, Role),
    /// Parses; validation rejects with this code.
    Reject(u16),
    /// Dropped: a parse error, or a response that fails `validate_response`.
    Drop,
}
use Expect::*;

fn cfg(role: Role) -> ValidateConfig<'static> {
    match role {
        Role::Uas => ValidateConfig::default(),
        Role::Proxy => ValidateConfig {
            forwarding: true,
            ..ValidateConfig::default()
        },
        Role::UasMultipart => ValidateConfig {
            accepted_content_types: &["application/sdp", "multipart/mixed"],
            ..ValidateConfig::default()
        },
    }
}

fn none(_: &Message<'_>, _: &[u8]) {}

fn req<'m, 'a>(m: &'m Message<'a>) -> &'m rvoip_core::sip::Request<'a> {
    m.as_request().expect("a request")
}

fn wsinv(m: &Message<'_>, _: &[u8]) {
    let r = req(m);
    assert_eq!(r.method(), Method::Invite);
    assert_eq!(r.uri(), "sip:vivekg@chair-dnrc.example.com;unknownparam");
    assert_eq!(r.call_id(), Ok("wsinv.ndaksdj@192.0.2.1"));
    let from = r.from().unwrap();
    assert_eq!(from.display_name().unwrap(), "J Rosenberg \\\"");
    assert_eq!(from.tag(), Some("98asjd8"));
    let to = r.to().unwrap();
    assert_eq!(to.display, None);
    assert_eq!(to.uri, "sip:vivekg@chair-dnrc.example.com");
    assert_eq!(to.tag(), Some("1918181833n"));
    assert_eq!(r.headers().max_forwards(), Ok(68));
    let cseq = r.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (9, Method::Invite));
    let vias: Vec<_> = r.headers().vias().map(Result::unwrap).collect();
    assert_eq!(vias.len(), 3);
    assert_eq!(
        (vias[0].transport, vias[0].branch()),
        ("UDP", Some("390skdjuw"))
    );
    assert_eq!(
        (vias[1].transport, vias[1].host_str),
        ("TCP", "spindle.example.com")
    );
    assert_eq!(vias[1].branch(), Some("z9hG4bK9ikj8"));
    assert_eq!(vias[2].branch(), Some("z9hG4bK30239"));
    assert_eq!(r.headers().get(HeaderName::Subject), Some(""));
    assert_eq!(
        r.headers_named("NewFangledHeader").next(),
        Some("newfangled value\r\n continued newfangled value")
    );
    assert_eq!(
        r.headers_named("unknownheaderwithunusualvalue").next(),
        Some(";;,,;;,;")
    );
    let c = r.headers().contacts().next().unwrap().unwrap();
    assert_eq!(c.display_name().unwrap(), "Quoted string \"\"");
    assert_eq!(c.params.get("newparam"), Some(Some("newvalue")));
    assert_eq!(c.q(), Some(330));
    let route = r.headers().routes().next().unwrap().unwrap();
    assert!(route.uri().unwrap().as_sip().unwrap().lr());
    assert_eq!(r.body().len(), 150);
    assert!(r.headers().content_type().unwrap().is_sdp());
}

fn intmeth(m: &Message<'_>, _: &[u8]) {
    let r = req(m);
    assert_eq!(
        r.method(),
        Method::Other("!interesting-Method0123456789_*+`.%indeed'~")
    );
    let u = r.parsed_uri().unwrap();
    let s = u.as_sip().unwrap();
    assert_eq!(
        s.user(),
        Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
    );
    assert_eq!(
        s.password(),
        Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
    );
    assert_eq!(s.host(), Host::Domain("example.com"));
    assert_eq!(r.cseq().unwrap().method, r.method());
    assert_eq!(
        r.call_id(),
        Ok("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{")
    );
    let to = r.to().unwrap();
    assert_eq!(to.display_name().unwrap(), "BEL:\x07 NUL:\0 DEL:\x7f");
    let from = r.from().unwrap();
    assert_eq!(from.display, Some("token1~` token2'+_ token3*%!.-"));
    assert_eq!(from.tag(), Some("_token~1'+`*%!-."));
    assert_eq!(
        from.params.get("fromParam''~+*_!.-%"),
        Some(Some("работающий")) // RFC 4475 §3.1.1.2: the UTF-8 bytes d1 80 d0 b0 …
    );
    assert_eq!(r.headers().max_forwards(), Ok(255));
    // RFC 4475: ef bb bf e5 a4 a7 e5 81 9c e9 9b bb
    assert_eq!(
        r.headers_named("extensionHeader-!.%*+_`'~").next(),
        Some("\u{feff}大停電")
    );
}

fn esc01(m: &Message<'_>, _: &[u8]) {
    let r = req(m);
    let u = r.parsed_uri().unwrap();
    assert_eq!(
        &*unescape(u.as_sip().unwrap().user().unwrap()),
        b"sips:user@example.com"
    );
    let to = r.to().unwrap().uri().unwrap();
    assert_eq!(&*unescape(to.as_sip().unwrap().user().unwrap()), b"user");
    let from = r.from().unwrap().uri().unwrap();
    assert_eq!(
        &*unescape(from.as_sip().unwrap().user().unwrap()),
        b"I have spaces"
    );
    assert_eq!(r.call_id(), Ok("esc01.239409asdfakjkn23onasd0-3234"));
    let c = r
        .headers()
        .contacts()
        .next()
        .unwrap()
        .unwrap()
        .uri()
        .unwrap();
    let c = c.as_sip().unwrap();
    assert_eq!(&*unescape(c.user().unwrap()), b"caller");
    let params: Vec<_> = c.params().iter().collect();
    assert_eq!(
        params,
        [("%6C%72", None), ("n%61me", Some("v%61lue%25%34%31"))]
    );
    assert_eq!(&*unescape("v%61lue%25%34%31"), b"value%41");
    // Equal to the unescaped spelling (§19.1.4).
    assert!(rvoip_core::sip::uri_eq(
        &Uri::parse("sip:caller@host5.example.net;lr;name=value%2541").unwrap(),
        &Uri::parse(c.as_str()).unwrap()
    ));
    assert!(r.headers().content_type().unwrap().is_sdp());
}

fn escnull(m: &Message<'_>, _: &[u8]) {
    let r = req(m);
    assert_eq!(r.method(), Method::Register);
    let contacts: Vec<_> = r.headers().contacts().map(Result::unwrap).collect();
    assert_eq!(contacts.len(), 2);
    let users: Vec<Vec<u8>> = contacts
        .iter()
        .map(|c| unescape(c.uri().unwrap().as_sip().unwrap().user().unwrap()).into_owned())
        .collect();
    assert_eq!(users, [b"\0".to_vec(), b"\0\0".to_vec()]);
    assert!(!rvoip_core::sip::uri_eq(
        &contacts[0].uri().unwrap(),
        &contacts[1].uri().unwrap()
    ));
    let to = r.to().unwrap().uri().unwrap();
    assert_eq!(
        &*unescape(to.as_sip().unwrap().user().unwrap()),
        b"null-\0-null"
    );
}

fn esc02(m: &Message<'_>, _: &[u8]) {
    let r = req(m);
    assert_eq!(r.method(), Method::Other("RE%47IST%45R"));
    assert_ne!(r.method(), Method::Register);
    assert_eq!(r.headers().contacts().count(), 2);
    assert_eq!(
        r.headers_named("C%6Fntact").next(),
        Some("<sip:alias2@host2.example.com>")
    );
    assert_eq!(r.to().unwrap().display_name().unwrap(), "%Z%45");
    assert_eq!(r.via_top().unwrap().branch(), Some("z9hG4bK209%fzsnel234"));
}

fn lwsdisp(m: &Message<'_>, _: &[u8]) {
    let f = req(m).from().unwrap();
    assert_eq!(f.display, Some("caller"));
    assert_eq!(f.uri, "sip:caller@example.com");
    assert_eq!(f.tag(), Some("323"));
}

fn longreq(m: &Message<'_>, _: &[u8]) {
    let r = req(m);
    let to = r.to().unwrap();
    assert!(
        to.display_name()
            .unwrap()
            .starts_with("I have a user name of extremeextreme")
    );
    let u = to.uri().unwrap();
    let s = u.as_sip().unwrap();
    assert_eq!(s.port(), Some(6000));
    let long = s
        .params()
        .iter()
        .find(|(n, _)| n.starts_with("longparamname"))
        .unwrap();
    assert_eq!((long.0.len(), long.1), (109, Some("shortvalue")));
    assert_eq!(r.headers().vias().filter(Result::is_ok).count(), 34);
    assert!(r.headers().len() > 20);
    assert_eq!(
        r.body().len(),
        r.headers().content_length().unwrap() as usize
    );
}

fn dblreq(m: &Message<'_>, file: &[u8]) {
    let r = req(m);
    assert_eq!(r.method(), Method::Register);
    assert_eq!(r.call_id(), Ok("dblreq.0ha0isndaksdj99sdfafnl3lk233412"));
    assert!(r.body().is_empty());
    assert!(m.raw().len() < file.len(), "only the first message");
    assert!(!m.raw().windows(6).any(|w| w == b"INVITE"));
}

fn semiuri(m: &Message<'_>, _: &[u8]) {
    let u = req(m).parsed_uri().unwrap();
    let s = u.as_sip().unwrap();
    assert_eq!(s.user(), Some("user;par=u%40example.net"));
    assert_eq!(&*unescape(s.user().unwrap()), b"user;par=u@example.net");
    assert_eq!(s.host(), Host::Domain("example.com"));
    assert_eq!(s.params().iter().count(), 0);
    assert_eq!(req(m).headers().elements(HeaderName::Accept).count(), 6);
}

fn transports(m: &Message<'_>, _: &[u8]) {
    let t: Vec<_> = req(m)
        .headers()
        .vias()
        .map(|v| v.unwrap().transport)
        .collect();
    assert_eq!(t, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
}

fn mpart01(m: &Message<'_>, _: &[u8]) {
    let r = req(m);
    assert_eq!(r.method(), Method::Message);
    assert_eq!(r.body().len(), 553);
    assert!(r.body().contains(&0));
    let ct = r.headers().content_type().unwrap();
    assert!(ct.is("multipart", "mixed"));
    assert_eq!(ct.params.get("boundary"), Some(Some("7a9cbec02ceef655")));
    assert_eq!(r.via_top().unwrap().rport(), Some(None));
}

fn unreason(m: &Message<'_>, _: &[u8]) {
    let r = m.as_response().unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.reason().starts_with("= 2**3 * 5**2 "));
    assert!(r.reason().contains('\u{043d}'));
    assert_eq!(r.body().len(), 154);
}

fn noreason(m: &Message<'_>, _: &[u8]) {
    let r = m.as_response().unwrap();
    assert_eq!(r.status(), StatusCode::TRYING);
    assert_eq!(r.reason(), "");
}

fn cparam01(m: &Message<'_>, _: &[u8]) {
    let c = req(m).headers().contacts().next().unwrap().unwrap();
    assert!(c.params.has("unknownparam"));
    assert_eq!(
        c.uri().unwrap().as_sip().unwrap().params().iter().count(),
        0
    );
}

fn cparam02(m: &Message<'_>, _: &[u8]) {
    let c = req(m).headers().contacts().next().unwrap().unwrap();
    assert!(!c.params.has("unknownparam"));
    assert_eq!(
        c.uri().unwrap().as_sip().unwrap().param("unknownparam"),
        Some(None)
    );
}

fn regescrt(m: &Message<'_>, _: &[u8]) {
    let c = req(m).headers().contacts().next().unwrap().unwrap();
    let u = c.uri().unwrap();
    let h: Vec<_> = u.as_sip().unwrap().headers().collect();
    assert_eq!(h, [("Route", "%3Csip:sip.example.com%3E")]);
    assert_eq!(&*unescape(h[0].1), b"<sip:sip.example.com>");
}

fn unkscm_values(m: &Message<'_>, _: &[u8]) {
    assert!(matches!(req(m).parsed_uri(), Ok(Uri::Absolute(_))));
}

fn inv2543(m: &Message<'_>, file: &[u8]) {
    let r = req(m);
    assert_eq!(
        r.headers().max_forwards(),
        Err(rvoip_core::sip::HeaderError::Missing(
            HeaderName::MaxForwards
        ))
    );
    assert_eq!(r.via_top().unwrap().branch(), None);
    assert!(!r.via_top().unwrap().is_rfc3261_branch());
    // No Content-Length over UDP: the body is the rest of the datagram.
    assert_eq!(m.raw(), file);
    assert!(r.body().starts_with(b"v=0"));
}

fn regaut01(m: &Message<'_>, _: &[u8]) {
    let a = req(m).headers().authorization().next().unwrap().unwrap();
    assert_eq!(a.scheme, "NoOneKnowsThisScheme");
    assert_eq!(a.params, "opaque-data=here");
}

fn badbranch(m: &Message<'_>, _: &[u8]) {
    let v = req(m).via_top().unwrap();
    assert_eq!(v.branch(), Some("z9hG4bK"));
}

fn table() -> Vec<(&'static str, Expect)> {
    vec![
        // §3.1.1 valid
        ("wsinv", Valid(wsinv, None, Role::Uas)),
        ("intmeth", Valid(intmeth, Some(501), Role::Uas)),
        ("esc01", Valid(esc01, None, Role::Uas)),
        ("escnull", Valid(escnull, None, Role::Uas)),
        ("esc02", Valid(esc02, Some(501), Role::Uas)),
        ("lwsdisp", Valid(lwsdisp, None, Role::Uas)),
        ("longreq", Valid(longreq, None, Role::Uas)),
        ("dblreq", Valid(dblreq, None, Role::Uas)),
        ("semiuri", Valid(semiuri, None, Role::Uas)),
        ("transports", Valid(transports, None, Role::Uas)),
        ("mpart01", Valid(mpart01, None, Role::UasMultipart)),
        ("unreason", Valid(unreason, None, Role::Uas)),
        ("noreason", Valid(noreason, None, Role::Uas)),
        // §3.1.2 invalid
        ("badinv01", Reject(400)),
        ("clerr", Reject(400)),
        ("quotbal", Reject(400)),
        ("lwsruri", Reject(400)),
        ("mismatch01", Reject(400)),
        ("ncl", Reject(400)),
        ("scalar02", Reject(400)),
        ("scalarlg", Drop),
        ("bigcode", Drop),
        ("ltgtruri", Reject(400)),
        ("lwsstart", Reject(400)),
        ("trws", Reject(400)),
        ("escruri", Reject(400)),
        ("baddate", Reject(400)),
        ("regbadct", Reject(400)),
        ("badaspec", Reject(400)),
        ("baddn", Reject(400)),
        ("badvers", Reject(505)),
        ("mismatch02", Reject(501)),
        // §3.2 transaction layer
        ("badbranch", Valid(badbranch, None, Role::Uas)),
        // §3.3 application layer
        ("insuf", Reject(400)),
        ("unkscm", Valid(unkscm_values, Some(416), Role::Uas)),
        ("novelsc", Reject(416)),
        ("unksm2", Reject(400)),
        ("bext01", Reject(420)),
        ("invut", Reject(415)),
        ("regaut01", Valid(regaut01, None, Role::Uas)),
        ("multi01", Reject(400)),
        ("mcl01", Drop),
        ("bcast", Drop),
        ("zeromf", Valid(none, Some(483), Role::Proxy)),
        ("cparam01", Valid(cparam01, None, Role::Uas)),
        ("cparam02", Valid(cparam02, None, Role::Uas)),
        ("regescrt", Valid(regescrt, None, Role::Uas)),
        ("sdp01", Reject(406)),
        // §3.4
        ("inv2543", Valid(inv2543, None, Role::Uas)),
    ]
}

fn dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rfc4475")
}

fn outcome(m: &Message<'_>, role: Role) -> Result<(), u16> {
    match m {
        Message::Request(r) => validate(r, &cfg(role)).map_err(|e| e.status.as_u16()),
        Message::Response(r) => validate_response(r).map_err(|_| 0),
    }
}

#[test]
fn table_covers_every_fixture() {
    let files: BTreeSet<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter_map(|n| n.strip_suffix(".dat").map(str::to_owned))
        .collect();
    let names: BTreeSet<String> = table().iter().map(|(n, _)| (*n).to_owned()).collect();
    assert_eq!(files.len(), 49);
    assert_eq!(files, names);
    assert_eq!(table().len(), 49, "no duplicates");
}

#[test]
fn every_torture_message_gets_its_outcome() {
    for (name, expect) in table() {
        let bytes = std::fs::read(dir().join(format!("{name}.dat"))).unwrap();
        let parsed = match parse_datagram(&bytes, &Limits::default()) {
            Ok(Datagram::Message(m)) => Ok(m),
            Ok(Datagram::KeepAlive) => panic!("{name}: keep-alive"),
            Err(e) => Err(e),
        };
        match (expect, parsed) {
            (Valid(check, code, role), Ok(m)) => {
                check(&m, &bytes);
                assert_eq!(outcome(&m, role), code.map_or(Ok(()), Err), "{name}");
                let owned = match &m {
                    Message::Request(r) => r.to_buf().to_bytes(),
                    Message::Response(r) => r.to_buf().to_bytes(),
                };
                assert_eq!(owned, m.raw(), "{name}: round trip");
                if name != "dblreq" {
                    assert_eq!(m.raw(), &bytes[..], "{name}: whole file is the message");
                }
            }
            (Reject(code), Ok(m)) => {
                assert_eq!(outcome(&m, Role::Uas), Err(code), "{name}");
                // Still answerable: the response carries the request's identifiers.
                if let (Message::Request(r), Err(rej)) =
                    (&m, validate(m.as_request().unwrap(), &cfg(Role::Uas)))
                {
                    let resp = rej.to_response(r);
                    assert_eq!(resp.status(), rej.status);
                    let bytes = resp.to_bytes();
                    let back = rvoip_core::sip::Response::parse(&bytes).unwrap();
                    assert_eq!(
                        back.headers().count(HeaderName::Via),
                        r.headers().count(HeaderName::Via)
                    );
                }
                let owned = m.as_request().map(|r| r.to_buf().to_bytes()).unwrap();
                assert_eq!(owned, m.raw(), "{name}: round trip");
            }
            (Drop, Err(e)) => {
                let _ = e.action();
            }
            (Drop, Ok(m)) => {
                assert!(
                    m.as_response().is_some(),
                    "{name}: a request cannot be dropped by validation"
                );
                assert!(outcome(&m, Role::Uas).is_err(), "{name}: must be dropped");
            }
            (_, Err(e)) => panic!("{name}: unexpected parse error {e:?}"),
        }
    }
}

#[test]
fn specific_drop_reasons() {
    let read = |n: &str| std::fs::read(dir().join(format!("{n}.dat"))).unwrap();
    assert_eq!(
        Message::parse(&read("bigcode")).unwrap_err(),
        ParseError::BadStatusCode
    );
    assert_eq!(
        Message::parse(&read("mcl01")).unwrap_err(),
        ParseError::ConflictingContentLength
    );
    let b = read("bcast");
    let m = Message::parse(&b).unwrap();
    assert_eq!(
        validate_response(m.as_response().unwrap()),
        Err(rvoip_core::sip::validate::ResponseDrop::MultipleVia)
    );
    let s = read("scalarlg");
    let m = Message::parse(&s).unwrap();
    assert_eq!(
        validate_response(m.as_response().unwrap()),
        Err(rvoip_core::sip::validate::ResponseDrop::BadHeader(
            HeaderName::CSeq
        ))
    );
    // ncl / clerr are 400s, flagged by the datagram framing.
    let ncl = read("ncl");
    let m = Message::parse(&ncl).unwrap();
    assert!(m.defects().bad_content_length());
    let clerr = read("clerr");
    let m = Message::parse(&clerr).unwrap();
    assert!(m.defects().short_body());
    // bext01: 420 lists both unknown Require tags, not Proxy-Require's (endpoint).
    let b = read("bext01");
    let m = Message::parse(&b).unwrap();
    let rej = validate(m.as_request().unwrap(), &ValidateConfig::default()).unwrap_err();
    assert_eq!(rej.status, StatusCode::BAD_EXTENSION);
    assert_eq!(
        rej.headers,
        [(
            HeaderName::Unsupported,
            "nothingSupportsThis, nothingSupportsThisEither".to_owned()
        )]
    );
    // A proxy also rejects the Proxy-Require tags.
    let proxy = ValidateConfig {
        forwarding: true,
        ..ValidateConfig::default()
    };
    let rej = validate(m.as_request().unwrap(), &proxy).unwrap_err();
    assert!(rej.headers[0].1.contains("noProxiesSupportThis"));
    // intmeth: 501 carries Allow.
    let b = read("intmeth");
    let m = Message::parse(&b).unwrap();
    let rej = validate(m.as_request().unwrap(), &ValidateConfig::default()).unwrap_err();
    assert_eq!(rej.headers[0].0, HeaderName::Allow);
    // zeromf is fine for an endpoint.
    let b = read("zeromf");
    let m = Message::parse(&b).unwrap();
    assert_eq!(
        validate(m.as_request().unwrap(), &ValidateConfig::default()),
        Ok(())
    );
}
