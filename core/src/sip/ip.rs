//! IP address literals in SIP text (RFC 3261 §25.1 `IPv4address` / `IPv6address`, RFC 4291
//! §2.2 text forms, RFC 5952 §4 canonical output), parsed and printed without `core::net`'s
//! parser and `core::fmt`: byte loops a fraction of their size in the browser package.
//! Input: the literal's text (no brackets) or an address; output: the address or its text,
//! appended to a `String`. Accepts exactly what `core::net`'s `FromStr` accepts (tests
//! compare the two).

use alloc::string::String;
use core::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use super::text::push_u64;

/// Parses a dotted-quad IPv4 address (four decimal octets of 1–3 digits, no leading
/// zeros, at most 255) in one pass over the bytes.
pub(crate) fn parse_ipv4(s: &str) -> Option<Ipv4Addr> {
    let b = s.as_bytes();
    let mut o = [0u8; 4];
    // Octets done; the value and the digit count of the current one.
    let (mut n, mut v, mut digits) = (0, 0u16, 0);
    // One turn per byte, and one more at the end, where a `.` closes the last octet.
    for i in 0..=b.len() {
        let c = b.get(i).copied().unwrap_or(b'.');
        if c == b'.' {
            if digits == 0 {
                return None;
            }
            *o.get_mut(n)? = u8::try_from(v).ok()?;
            (n, v, digits) = (n + 1, 0, 0);
        } else {
            let d = c.wrapping_sub(b'0');
            // A fourth digit, or a digit after a leading zero.
            if d > 9 || digits == 3 || (digits == 1 && v == 0) {
                return None;
            }
            (v, digits) = (v * 10 + u16::from(d), digits + 1);
        }
    }
    (n == 4).then_some(Ipv4Addr::from(o))
}

/// Parses an IPv6 address (RFC 4291 §2.2: eight groups, one `::`, an IPv4 tail) in one
/// pass over the bytes: the address's 16 bytes are filled in order, one at a time, and the
/// ones after `::` are moved to the end by a byte loop (bytes, not `u16` groups: no
/// per-group byte swap to build the address; single-byte writes: no sub-slice copies).
pub(crate) fn parse_ipv6(s: &str) -> Option<Ipv6Addr> {
    let b = s.as_bytes();
    let mut o = [0u8; 16];
    // Bytes filled so far (two per group); where the `::` stands (bytes before it).
    let (mut n, mut gap) = (0usize, None);
    let mut i = 0;
    if let [b':', b':', ..] = b {
        gap = Some(0);
        i = 2;
    }
    while i < b.len() {
        let start = i;
        let mut v = 0u32;
        while let Some(&c) = b.get(i) {
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => break,
            };
            v = (v << 4) | u32::from(d);
            i += 1;
        }
        if let Some(b'.') = b.get(i) {
            // An IPv4 tail: the rest of the text, two groups. (A slice iterator: an
            // array's by-value iterator links more code.)
            for &x in parse_ipv4(s.get(start..)?)?.octets().iter() {
                *o.get_mut(n)? = x;
                n += 1;
            }
            break;
        }
        if i == start || i - start > 4 {
            return None;
        }
        // Invariant: at most 4 hex digits, so `v` fits 16 bits.
        *o.get_mut(n)? = (v >> 8) as u8;
        *o.get_mut(n + 1)? = v as u8;
        n += 2;
        match (b.get(i), b.get(i + 1)) {
            (None, _) => {}
            (Some(b':'), Some(b':')) if gap.is_none() => {
                gap = Some(n);
                i += 2;
            }
            (Some(b':'), Some(_)) => i += 1,
            _ => return None,
        }
    }
    match gap {
        None if n == 16 => {}
        // `::` stands for at least one zero group: the bytes after it move to the end
        // (the last first), and zeros take their place.
        Some(p) if n < 16 => {
            let mut k = n;
            while k > p {
                k -= 1;
                let x = core::mem::take(o.get_mut(k)?);
                *o.get_mut(k + 16 - n)? = x;
            }
        }
        _ => return None,
    }
    Some(Ipv6Addr::from(o))
}

/// Appends `a` in dotted-quad form.
pub(crate) fn push_ipv4(out: &mut String, a: Ipv4Addr) {
    // A slice iterator (an array's by-value iterator links more code).
    for (i, &o) in a.octets().iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        push_u64(out, u64::from(o));
    }
}

/// Appends `a` as `core::net` prints it (RFC 5952 §4: lowercase, the longest run of two or
/// more zero groups as `::`, IPv4-mapped addresses as `::ffff:a.b.c.d`).
pub(crate) fn push_ipv6(out: &mut String, a: Ipv6Addr) {
    if let Some(v4) = a.to_ipv4_mapped() {
        out.push_str("::ffff:");
        push_ipv4(out, v4);
        return;
    }
    let g = a.segments();
    // The longest run of zero groups (the first on a tie), if at least two long.
    let (mut best, mut best_len, mut run) = (0, 0, 0);
    for (i, &v) in g.iter().enumerate() {
        run = if v == 0 { run + 1 } else { 0 };
        if run > best_len {
            (best, best_len) = (i + 1 - run, run);
        }
    }
    let mut i = 0;
    while i < 8 {
        if best_len > 1 && i == best {
            out.push_str("::");
            i += best_len;
            continue;
        }
        if i > 0 && !out.ends_with(':') {
            out.push(':');
        }
        let v = g.get(i).copied().unwrap_or(0);
        // Nibbles from the top one that is not zero (the last one always), as ASCII bytes
        // (a char the compiler knows is ASCII: no UTF-8 encoding linked).
        let mut shift = 12u32;
        while shift > 0 && v >> shift == 0 {
            shift -= 4;
        }
        loop {
            let d = ((v >> shift) & 15) as u8;
            out.push(char::from(if d < 10 { b'0' + d } else { b'a' - 10 + d }));
            if shift == 0 {
                break;
            }
            shift -= 4;
        }
        i += 1;
    }
}

/// `host:port` of an address as it appears in Via and Contact (IPv6 in brackets).
pub(crate) fn hostport(addr: SocketAddr) -> String {
    let mut s = String::with_capacity(47);
    match addr {
        SocketAddr::V4(a) => push_ipv4(&mut s, *a.ip()),
        SocketAddr::V6(a) => {
            s.push('[');
            push_ipv6(&mut s, *a.ip());
            s.push(']');
        }
    }
    s.push(':');
    push_u64(&mut s, u64::from(addr.port()));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use proptest::prelude::*;

    fn v6(a: Ipv6Addr) -> String {
        let mut s = String::new();
        push_ipv6(&mut s, a);
        s
    }

    #[test]
    fn fixed_literals_parse_as_core_net_does() {
        for s in [
            "0.0.0.0",
            "255.255.255.255",
            "10.0.0.1",
            "256.0.0.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "1..3.4",
            "",
            "a.b.c.d",
            "1.2.3.4 ",
            "::",
            "::1",
            "1::",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7",
            "1::2::3",
            ":::",
            ":1::",
            "1:",
            "::ffff:1.2.3.4",
            "::1.2.3.4",
            "1:2:3:4:5:6:1.2.3.4",
            "1:2:3:4:5:6:7:1.2.3.4",
            "1.2.3.4::",
            "::1.2.3.4:5",
            "fe80::1%eth0",
            "12345::",
            "0000:0000::abcd",
            "g::",
            "2001:DB8::A",
        ] {
            assert_eq!(parse_ipv4(s), s.parse::<Ipv4Addr>().ok(), "{s:?}");
            assert_eq!(parse_ipv6(s), s.parse::<Ipv6Addr>().ok(), "{s:?}");
        }
    }

    #[test]
    fn prints_rfc_5952_forms() {
        assert_eq!(
            v6("2001:db8:0:0:1:0:0:1".parse().unwrap()),
            "2001:db8::1:0:0:1"
        );
        assert_eq!(v6(Ipv6Addr::UNSPECIFIED), "::");
        assert_eq!(v6(Ipv6Addr::LOCALHOST), "::1");
        assert_eq!(v6("1:0:2:3:4:5:6:7".parse().unwrap()), "1:0:2:3:4:5:6:7");
        assert_eq!(hostport("[::1]:5060".parse().unwrap()), "[::1]:5060");
        assert_eq!(hostport("10.0.0.1:0".parse().unwrap()), "10.0.0.1:0");
    }

    proptest! {
        #[test]
        fn ipv6_text_round_trips_like_core_net(seg in proptest::array::uniform8(
            prop_oneof![Just(0u16), Just(0xffff), any::<u16>()])) {
            let a = Ipv6Addr::from(seg);
            let ours = v6(a);
            prop_assert_eq!(&ours, &a.to_string());
            prop_assert_eq!(parse_ipv6(&ours), Some(a));
            // The full, uncompressed form parses too.
            let full = seg.iter().map(|g| alloc::format!("{g:x}")).collect::<alloc::vec::Vec<_>>().join(":");
            prop_assert_eq!(parse_ipv6(&full), Some(a));
        }

        #[test]
        fn ipv4_and_socket_text_like_core_net(o in any::<[u8; 4]>(), port in any::<u16>()) {
            let a = Ipv4Addr::from(o);
            let mut s = String::new();
            push_ipv4(&mut s, a);
            prop_assert_eq!(&s, &a.to_string());
            prop_assert_eq!(parse_ipv4(&s), Some(a));
            let sa = SocketAddr::from((a, port));
            prop_assert_eq!(hostport(sa), sa.to_string());
        }

        #[test]
        fn arbitrary_text_parses_as_core_net_does(s in "[0-9a-fA-F:.]{0,24}") {
            prop_assert_eq!(parse_ipv4(&s), s.parse::<Ipv4Addr>().ok());
            prop_assert_eq!(parse_ipv6(&s), s.parse::<Ipv6Addr>().ok());
        }
    }
}
