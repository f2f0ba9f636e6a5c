//! Lexical helpers shared by the SIP parsers (RFC 3261 §25.1 basic rules).
//!
//! Input: `&str` slices of a message head (already checked to be UTF-8). Output: byte
//! offsets and sub-slices; nothing here allocates and every access is bounds-checked.

/// Byte classes of the SIP grammar (bits of [`CLASS`]); checks over a whole slice use
/// [`count_class`] (one loop for every all-of / any-of test, not one per predicate).
/// `token` characters (RFC 3261 §25.1): alphanum / `-.!%*_+`'~`.
pub(crate) const TOKEN: u8 = 1;
/// SP and HT.
pub(crate) const WSP: u8 = 2;
/// LWS inside a header value: SP, HT and the CR/LF of a fold.
pub(crate) const LWS: u8 = 4;
/// CR and LF.
pub(crate) const CRLF: u8 = 8;
/// `DIGIT`.
pub(crate) const DIGIT: u8 = 16;
/// A control character other than HT (0x00–0x1f, 0x7f).
pub(crate) const CTL: u8 = 32;
/// A SIP-Version number byte: a digit or `.`.
pub(crate) const VERSION: u8 = 64;

const fn class_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut m = 0;
        if matches!(b,
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9'
            | b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~')
        {
            m |= TOKEN;
        }
        if matches!(b, b' ' | b'\t') {
            m |= WSP | LWS;
        }
        if matches!(b, b'\r' | b'\n') {
            m |= LWS | CRLF;
        }
        if b.is_ascii_digit() {
            m |= DIGIT | VERSION;
        }
        if b == b'.' {
            m |= VERSION;
        }
        if b.is_ascii_control() && b != b'\t' {
            m |= CTL;
        }
        t[i] = m;
        i += 1;
    }
    t
}

/// The [`TOKEN`]… class bits of every byte.
static CLASS: [u8; 256] = class_table();

/// How many bytes of `s` have one of the `class` bits (e.g. `count_class(s, TOKEN) ==
/// s.len()`: all token characters; `> 0`: some).
pub(crate) fn count_class(s: &[u8], class: u8) -> usize {
    // A plain loop: an adapter chain here instantiated a closure fold of its own.
    let mut n = 0;
    for &c in s {
        n += usize::from(CLASS[c as usize] & class != 0);
    }
    n
}

/// `s` is made of bytes of `class` only (`true` when empty).
#[inline]
pub(crate) fn all_class(s: &[u8], class: u8) -> bool {
    count_class(s, class) == s.len()
}

/// `token` characters (RFC 3261 §25.1): alphanum / `-.!%*_+`'~`.
#[inline]
pub(crate) const fn is_token(b: u8) -> bool {
    CLASS[b as usize] & TOKEN != 0
}

/// Linear white space inside a header value: SP, HT and the CR/LF of a fold.
#[inline]
pub(crate) const fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Trims LWS (including folds) on both ends.
#[inline]
pub(crate) fn trim_lws(s: &str) -> &str {
    trim_class(s, LWS)
}

/// `true` if `s` is a non-empty token.
#[inline]
pub(crate) fn is_token_str(s: &str) -> bool {
    !s.is_empty() && all_class(s.as_bytes(), TOKEN)
}

/// A forward cursor over a header value.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cursor<'a> {
    pub(crate) s: &'a str,
    pub(crate) pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `s`.
    #[inline]
    pub(crate) const fn new(s: &'a str) -> Self {
        Self { s, pos: 0 }
    }

    /// The next byte, if any.
    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    /// `true` at the end of input.
    #[inline]
    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    /// Skips LWS.
    #[inline]
    pub(crate) fn ws(&mut self) {
        // The one byte loop of `take_while`.
        self.take_while(is_lws);
    }

    /// Skips LWS, then consumes `c` and returns `true`, or returns `false` (the LWS
    /// stays skipped: every caller fails, or skips LWS next anyway).
    #[inline]
    pub(crate) fn eat(&mut self, c: u8) -> bool {
        self.ws();
        let hit = self.peek() == Some(c);
        self.pos += usize::from(hit);
        hit
    }

    /// Consumes bytes while `f` holds and returns them (a function pointer: one copy of
    /// the loop for every byte class).
    pub(crate) fn take_while(&mut self, f: fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if !f(b) {
                break;
            }
            self.pos += 1;
        }
        self.slice(start, self.pos)
    }

    /// A token (possibly empty).
    #[inline]
    pub(crate) fn token(&mut self) -> &'a str {
        self.take_while(is_token)
    }

    /// The sub-slice `start..end` of the input (empty if out of range or not on a char
    /// boundary, which cannot happen for offsets produced by ASCII scanning).
    #[inline]
    pub(crate) fn slice(&self, start: usize, end: usize) -> &'a str {
        self.s.get(start..end).unwrap_or("")
    }

    /// The rest of the input.
    #[inline]
    pub(crate) fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }

    /// A quoted string at the cursor (the cursor must be on `"`): returns the whole
    /// string including the quotes, or `None` if it is not terminated.
    pub(crate) fn quoted(&mut self) -> Option<&'a str> {
        let start = self.pos;
        let end = quoted_end(self.s.as_bytes(), start)?;
        self.pos = end;
        Some(self.slice(start, end))
    }
}

/// Given `b[start] == b'"'`, the offset just after the closing quote (quoted-pairs
/// honoured), or `None` if unterminated.
pub(crate) fn quoted_end(b: &[u8], start: usize) -> Option<usize> {
    if !matches!(b.get(start), Some(b'"')) {
        return None;
    }
    let mut i = start + 1;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Splits a header value at top-level commas (outside quoted strings and `<…>`).
/// Empty elements (from `a,,b` or a trailing comma) are yielded as empty strings so that
/// callers can reject them; a value made only of LWS yields nothing.
#[derive(Clone, Debug)]
pub(crate) struct CommaSplit<'a> {
    s: &'a str,
    pos: usize,
    done: bool,
}

impl<'a> CommaSplit<'a> {
    pub(crate) fn new(s: &'a str) -> Self {
        let done = trim_lws(s).is_empty();
        Self { s, pos: 0, done }
    }
}

impl<'a> Iterator for CommaSplit<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        if self.done {
            return None;
        }
        let b = self.s.as_bytes();
        let start = self.pos;
        let mut i = start;
        let mut angle = false;
        // The end of the element: a top-level comma, or the end of the value.
        let end = loop {
            let Some(&c) = b.get(i) else {
                self.done = true;
                break b.len();
            };
            match c {
                b'"' if !angle => i = quoted_end(b, i).unwrap_or(b.len()),
                b'<' | b'>' => {
                    angle = c == b'<';
                    i += 1;
                }
                b',' if !angle => {
                    self.pos = i + 1;
                    break i;
                }
                _ => i += 1,
            }
        };
        Some(trim_lws(self.s.get(start..end).unwrap_or("")))
    }
}

/// Removes the quotes and quoted-pair escapes of a quoted string (`"a\"b"` → `a"b`);
/// borrows when there is nothing to unescape. A string without quotes is returned as is.
pub(crate) fn unquote(s: &str) -> alloc::borrow::Cow<'_, str> {
    use alloc::borrow::Cow;
    let inner = match s.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
        Some(i) => i,
        None => return Cow::Borrowed(s),
    };
    if !inner.contains('\\') {
        return Cow::Borrowed(inner);
    }
    let mut out = alloc::string::String::with_capacity(inner.len());
    let mut it = inner.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            if let Some(n) = it.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Parses a run of ASCII digits into a `u32` (checked; `None` on overflow, empty input or
/// a non-digit).
#[inline]
pub(crate) fn parse_u32(s: &str) -> Option<u32> {
    parse_dec(s)
}

/// Parses a run of ASCII digits into an unsigned integer type (`None` on overflow, empty
/// input or a non-digit; unlike `str::parse`, no `+` sign: SIP numbers are `1*DIGIT`). One
/// shared loop instead of a `FromStr` instance per type.
#[inline]
pub(crate) fn parse_dec<T: TryFrom<u64>>(s: &str) -> Option<T> {
    T::try_from(parse_u64(s)?).ok()
}

/// A run of ASCII digits (`1*DIGIT`) as a `u64`: `None` on overflow, empty input, a sign
/// or any other byte (the loop under `parse_dec`; public as `sip::parse_digits`).
pub fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for b in s.bytes() {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(v)
}

/// Position of the first `needle` in `hay` at or after `from`. With the `full` feature
/// (native builds: the gateway) the `memchr` crate's SIMD search (x86_64, aarch64);
/// without it (the browser package) a byte loop: the heads it scans are a few hundred
/// bytes, and the crate's portable word-at-a-time search is ~350 bytes of wasm.
#[inline]
pub(crate) fn find_byte(hay: &[u8], from: usize, needle: u8) -> Option<usize> {
    let hay = hay.get(from..)?;
    #[cfg(feature = "full")]
    let at = memchr::memchr(needle, hay);
    #[cfg(not(feature = "full"))]
    let at = hay.iter().position(|&b| b == needle);
    at.map(|p| p + from)
}

/// Byte offset of the first occurrence of `needle` in `hay` (a plain scan: the needles
/// are a few bytes long and the haystacks header values, where `str::find`'s two-way
/// searcher is mostly code size).
#[inline]
pub(crate) fn find_str(hay: &str, needle: &str) -> Option<usize> {
    let n = needle.as_bytes();
    let first = *n.first()?;
    let h = hay.as_bytes();
    let mut from = 0;
    while let Some(i) = find_byte(h, from, first) {
        if h.get(i..i + n.len()) == Some(n) {
            return Some(i);
        }
        from = i + 1;
    }
    None
}

/// `s` split at its first `c` (the byte dropped), or all of `s` and `None` (an ASCII `c`
/// keeps both parts on char boundaries).
pub(crate) fn split_byte(s: &str, c: u8) -> (&str, Option<&str>) {
    match find_byte(s.as_bytes(), 0, c) {
        Some(i) => (s.get(..i).unwrap_or(""), s.get(i + 1..)),
        None => (s, None),
    }
}

/// `hay.split_once(needle)` through [`find_str`].
#[inline]
pub(crate) fn split_once_str<'a>(hay: &'a str, needle: &str) -> Option<(&'a str, &'a str)> {
    let i = find_str(hay, needle)?;
    Some((hay.get(..i)?, hay.get(i + needle.len()..)?))
}

/// Trims the bytes of `class` (bits of [`CLASS`], ASCII bytes only: the cut stays on
/// char boundaries) on both ends.
pub(crate) fn trim_class(s: &str, class: u8) -> &str {
    let b = s.as_bytes();
    let keep = |c: &u8| CLASS[*c as usize] & class == 0;
    let start = b.iter().position(keep).unwrap_or(b.len());
    let end = b.iter().rposition(keep).map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn byte_searches_match_str_methods() {
        for (hay, needle) in [
            ("sip:a@b?Replaces=x", "?Replaces="),
            ("abc", "abcd"),
            ("aab", "ab"),
            ("", "x"),
            ("x;lr", ";lr"),
            ("ééab", "ab"),
            ("%3%3B", "%3B"),
        ] {
            assert_eq!(find_str(hay, needle), hay.find(needle), "{hay} {needle}");
            assert_eq!(split_once_str(hay, needle), hay.split_once(needle));
        }
        for s in ["", "  ", " \ta b\t ", "\"x\"", "\"\"\"", "é\""] {
            assert_eq!(trim_class(s, WSP), s.trim_matches([' ', '\t']));
            assert_eq!(
                trim_class(s, CRLF | WSP),
                s.trim_matches([' ', '\t', '\r', '\n'])
            );
        }
    }

    #[test]
    fn class_table_matches_the_predicates() {
        for c in 0..=255u8 {
            let one = [c];
            let has = |class| count_class(&one, class) == 1;
            let token = c.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&c);
            assert_eq!(has(TOKEN), token, "{c}");
            assert_eq!(is_token(c), token, "{c}");
            assert_eq!(has(WSP), c == b' ' || c == b'\t', "{c}");
            assert_eq!(has(LWS), is_lws(c), "{c}");
            assert_eq!(has(CRLF), c == b'\r' || c == b'\n', "{c}");
            assert_eq!(has(DIGIT), c.is_ascii_digit(), "{c}");
            assert_eq!(has(CTL), c.is_ascii_control() && c != b'\t', "{c}");
            assert_eq!(has(VERSION), c.is_ascii_digit() || c == b'.', "{c}");
        }
        assert_eq!(count_class(b"a b\tc", WSP), 2);
        assert!(all_class(b"", TOKEN));
        assert!(!all_class(b"a b", TOKEN));
        assert!(is_token_str("INVITE") && !is_token_str("") && !is_token_str("a,b"));
    }

    #[test]
    fn comma_split_respects_quotes_and_angles() {
        let v: Vec<&str> = CommaSplit::new(r#""a,b" <sip:x,y@h>;p=1 , <sip:z@h>,"#).collect();
        assert_eq!(v, [r#""a,b" <sip:x,y@h>;p=1"#, "<sip:z@h>", ""]);
        assert_eq!(CommaSplit::new("  ").count(), 0);
    }

    #[test]
    fn find_byte_matches_naive() {
        let hay = b"0123456789abcdef\nxyz\n";
        for from in 0..hay.len() + 2 {
            let naive = hay
                .get(from..)
                .and_then(|t| t.iter().position(|&b| b == b'\n'))
                .map(|p| p + from);
            assert_eq!(find_byte(hay, from, b'\n'), naive, "from {from}");
        }
        assert_eq!(find_byte(b"\x80\x81\n", 0, b'\n'), Some(2));
    }

    #[test]
    fn unquote_and_numbers() {
        assert_eq!(unquote(r#""J Rosenberg \\\"""#), r#"J Rosenberg \""#);
        assert_eq!(unquote("plain"), "plain");
        assert_eq!(parse_u32("0068"), Some(68));
        assert_eq!(parse_u32("4294967296"), None);
        assert_eq!(parse_u32(""), None);
        assert_eq!(parse_u32("1a"), None);
        assert_eq!(parse_dec::<u8>("255"), Some(255));
        assert_eq!(parse_dec::<u8>("256"), None);
        assert_eq!(parse_dec::<u16>("065535"), Some(65_535));
        assert_eq!(parse_dec::<u64>("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_dec::<u64>("18446744073709551616"), None);
        assert_eq!(parse_dec::<u32>("+1"), None);
        assert_eq!(parse_dec::<u32>(" 1"), None);
    }
}
