//! Text building without `core::fmt`: the [`cat!`](crate::sip::text::cat) macro
//! concatenates string slices and decimal integers into a `String` with `push_str`.
//!
//! Header values the UA builds (Via, CSeq, Contact, From/To with tags, RAck, Session-Expires
//! … RFC 3261 §20, RFC 3262 §7.2, RFC 4028 §4) are short concatenations of strings and
//! numbers. `format!` goes through `core::fmt` (an `Arguments` table, dynamic calls, padding
//! logic) which the browser package would otherwise ship only for them; pieces pushed in
//! order are smaller there and no slower natively (one allocation for most values).
//! Input: the pieces; output: the `String`.

use alloc::string::String;

/// One piece of a [`cat!`] concatenation, as the non-generic [`cat_parts`] reads it.
#[derive(Clone, Copy)]
pub(crate) enum Part<'a> {
    /// A string slice, appended as is.
    S(&'a str),
    /// A character.
    C(char),
    /// An unsigned integer, appended in decimal.
    N(u64),
}

/// Something [`cat!`] can append: a string slice, a char or a decimal integer.
pub(crate) trait Piece {
    /// The piece as a [`Part`].
    fn part(&self) -> Part<'_>;
}

impl Piece for str {
    #[inline(always)]
    fn part(&self) -> Part<'_> {
        Part::S(self)
    }
}

impl Piece for String {
    #[inline(always)]
    fn part(&self) -> Part<'_> {
        Part::S(self)
    }
}

impl<T: Piece + ?Sized> Piece for &T {
    #[inline(always)]
    fn part(&self) -> Part<'_> {
        (**self).part()
    }
}

impl Piece for char {
    #[inline(always)]
    fn part(&self) -> Part<'_> {
        Part::C(*self)
    }
}

macro_rules! decimal_piece {
    ($($t:ty),*) => {$(
        impl Piece for $t {
            #[inline(always)]
            fn part(&self) -> Part<'_> {
                Part::N(u64::from(*self))
            }
        }
    )*};
}
decimal_piece!(u8, u16, u32, u64);

impl Piece for usize {
    #[inline(always)]
    fn part(&self) -> Part<'_> {
        // usize is at most 64 bits on every target the crate builds for.
        Part::N(*self as u64)
    }
}

/// Concatenates `parts` into a new `String` (the one body every [`cat!`] shares). It
/// starts with room for 64 bytes, which most header values fit in (one allocation), and
/// grows past that: no loop summing the parts' lengths first (smaller in the package).
pub(crate) fn cat_parts(parts: &[Part<'_>]) -> String {
    let mut out = String::with_capacity(64);
    for p in parts {
        match *p {
            Part::S(s) => out.push_str(s),
            Part::C(c) => out.push(c),
            Part::N(v) => push_u64(&mut out, v),
        }
    }
    out
}

/// `n` in decimal ASCII (no sign, no leading zeros), written at the end of `buf`.
pub(crate) fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        // `i` stays in bounds: a u64 has at most 20 decimal digits.
        if let Some(d) = buf.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    buf.get(i..).unwrap_or_default()
}

/// Appends `n` in decimal (no sign, no leading zeros).
pub(crate) fn push_u64(out: &mut String, n: u64) {
    let mut buf = [0u8; 20];
    for &d in decimal(n, &mut buf) {
        out.push(char::from(d));
    }
}

/// `n` in decimal, as a new `String` (`n.to_string()` without `core::fmt`).
pub(crate) fn dec(n: impl Into<u64>) -> String {
    let mut s = String::with_capacity(20);
    push_u64(&mut s, n.into());
    s
}

/// Concatenates the pieces (string slices, `String`s, chars, unsigned integers in decimal)
/// into a new `String`: `cat!(n, " INVITE")` is `format!("{n} INVITE")`.
macro_rules! cat {
    ($($p:expr),+ $(,)?) => {
        $crate::sip::text::cat_parts(&[$($crate::sip::text::Piece::part(&$p)),+])
    };
}
pub(crate) use cat;

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn decimals_match_core_fmt() {
        for n in [
            0u64,
            7,
            10,
            99,
            100,
            65_535,
            1_000_000,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            assert_eq!(dec(n), n.to_string());
            let mut s = String::from("x");
            push_u64(&mut s, n);
            assert_eq!(s, alloc::format!("x{n}"));
        }
    }

    #[test]
    fn cat_concatenates_in_order() {
        let tag = String::from("9f");
        let s = cat!(7u32, " INVITE;", "tag=", tag, ':', 0u16, &tag);
        assert_eq!(s, "7 INVITE;tag=9f:09f");
        assert!(s.capacity() >= s.len());
    }
}
