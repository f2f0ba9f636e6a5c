//! Text building without `core::fmt`: the [`cat!`](crate::sip::text::cat) macro
//! concatenates string slices and decimal integers into a `String` with `push_str`.
//!
//! Header values the UA builds (Via, CSeq, Contact, From/To with tags, RAck, Session-Expires
//! … RFC 3261 §20, RFC 3262 §7.2, RFC 4028 §4) are short concatenations of strings and
//! numbers. `format!` goes through `core::fmt` (an `Arguments` table, dynamic calls, padding
//! logic) which the browser package would otherwise ship only for them; pieces pushed in
//! order are smaller there and no slower natively (one allocation, sized up front).
//! Input: the pieces; output: the `String`.

use alloc::string::String;

/// Something [`cat!`] can append: a string slice or a decimal integer.
pub(crate) trait Piece {
    /// An upper bound of the bytes [`put`](Piece::put) appends (for the capacity).
    fn size(&self) -> usize;
    /// Appends the text to `out`.
    fn put(&self, out: &mut String);
}

impl Piece for str {
    #[inline]
    fn size(&self) -> usize {
        self.len()
    }
    #[inline]
    fn put(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for String {
    #[inline]
    fn size(&self) -> usize {
        self.len()
    }
    #[inline]
    fn put(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl<T: Piece + ?Sized> Piece for &T {
    #[inline]
    fn size(&self) -> usize {
        (**self).size()
    }
    #[inline]
    fn put(&self, out: &mut String) {
        (**self).put(out);
    }
}

impl Piece for char {
    #[inline]
    fn size(&self) -> usize {
        self.len_utf8()
    }
    #[inline]
    fn put(&self, out: &mut String) {
        out.push(*self);
    }
}

macro_rules! decimal_piece {
    ($($t:ty),*) => {$(
        impl Piece for $t {
            #[inline]
            fn size(&self) -> usize {
                20
            }
            #[inline]
            fn put(&self, out: &mut String) {
                push_u64(out, u64::from(*self));
            }
        }
    )*};
}
decimal_piece!(u8, u16, u32, u64);

impl Piece for usize {
    #[inline]
    fn size(&self) -> usize {
        20
    }
    #[inline]
    fn put(&self, out: &mut String) {
        // usize is at most 64 bits on every target the crate builds for.
        push_u64(out, *self as u64);
    }
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
    ($($p:expr),+ $(,)?) => {{
        let mut s = alloc::string::String::with_capacity(
            0 $(+ $crate::sip::text::Piece::size(&$p))+
        );
        $($crate::sip::text::Piece::put(&$p, &mut s);)+
        s
    }};
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
