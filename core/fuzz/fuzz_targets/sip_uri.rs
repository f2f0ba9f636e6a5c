//! Fuzz URI parsing, accessors, unescaping and §19.1.4 comparison.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rvoip_core::sip::{unescape, uri_eq, Uri};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = core::str::from_utf8(data) else { return };
    // Two URIs: split at the first NUL (if any) to compare them.
    let (a, b) = s.split_once('\0').unwrap_or((s, s));
    let ua = Uri::parse(a);
    let ub = Uri::parse(b);
    if let Ok(u) = &ua {
        assert_eq!(u.as_str(), a);
        assert!(uri_eq(u, u), "uri_eq must be reflexive for {a:?}");
        match u {
            Uri::Sip(s) => {
                let _ = (s.user().map(unescape), s.password(), s.host(), s.port());
                let _ = (s.transport(), s.lr(), s.maddr());
                let _ = s.params().iter().count() + s.headers().count();
            }
            Uri::Tel(t) => {
                let _ = (t.number(), t.is_global(), t.params().iter().count());
            }
            Uri::Absolute(x) => {
                let _ = (x.scheme(), x.opaque());
            }
        }
    }
    if let (Ok(x), Ok(y)) = (&ua, &ub) {
        assert_eq!(uri_eq(x, y), uri_eq(y, x), "uri_eq must be symmetric: {a:?} {b:?}");
    }
    let _ = unescape(s);
});
