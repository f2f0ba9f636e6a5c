//! ITU-T G.711 µ-law and A-law companding (PCMU / PCMA, RFC 3551 §4.5.14).
//!
//! Inputs are 16-bit linear PCM samples (`i16`), outputs are 8-bit code words, and back.
//! The algorithms are those of ITU-T G.711 (11/88) §2–§3 as implemented in the ITU-T G.191
//! Software Tool Library (`g711.c`: `ulaw_compress`, `ulaw_expand`, `alaw_compress`,
//! `alaw_expand`), and every function here is bit-exact with it:
//!
//! - µ-law works on the 14 most significant bits of the input (the STL shifts by 2), adds
//!   the bias 33, and decodes to the 16-bit scale (`0x00` → −32124, `0xFF` → 0);
//! - A-law works on the 13 most significant bits (the STL shifts by 4), toggles the even
//!   bits (`^ 0x55`) and decodes to the 16-bit scale (`0xD5` → +8, `0x2A` → −32256).
//!
//! Both laws use the one's complement (`!x`) of negative inputs before quantising, as the
//! STL does, so e.g. µ-law encodes −1 and 0 to the two zero codes `0x7F` and `0xFF`.
//!
//! Per-sample functions ([`ulaw_encode_sample`] …) are `const fn` and table-free; the slice
//! functions ([`encode_ulaw`] …) use tables generated from them at compile time (a 16 KiB
//! µ-law and a 4 KiB A-law encode table indexed by the significant bits, and two 256-entry
//! decode tables), which is the hot path of a G.711 transcoder.

/// Number of significant bits a µ-law encoder looks at: the STL drops the 2 LSBs.
const ULAW_SHIFT: u32 = 2;
/// Number of bits an A-law encoder drops: the STL keeps 12 magnitude bits + sign.
const ALAW_SHIFT: u32 = 4;

/// Encodes one 16-bit linear sample to a µ-law code word (G.191 `ulaw_compress`).
#[must_use]
pub const fn ulaw_encode_sample(x: i16) -> u8 {
    // One's complement of negative inputs, then the bias of 33 (G.711 Table 2a).
    let mag = if x < 0 { !x } else { x };
    let mut absno = (mag >> ULAW_SHIFT) as i32 + 33;
    if absno > 0x1FFF {
        absno = 0x1FFF;
    }
    // Segment number 1..=8: one plus the bit length of `absno >> 6`.
    let segno = 1 + (32 - ((absno >> 6) as u32).leading_zeros());
    let high = 8 - segno as i32;
    let low = 0x0F - ((absno >> segno) & 0x0F);
    let code = ((high << 4) | low) as u8;
    if x >= 0 { code | 0x80 } else { code }
}

/// Decodes one µ-law code word to a 16-bit linear sample (G.191 `ulaw_expand`).
#[must_use]
pub const fn ulaw_decode_sample(code: u8) -> i16 {
    let inv = !code;
    let exponent = ((inv >> 4) & 0x07) as i32;
    let mantissa = (inv & 0x0F) as i32;
    let step = 4 << (exponent + 1);
    let mag = (0x80 << exponent) + step * mantissa + step / 2 - 4 * 33;
    // `mag` is at most 32124, so the cast is lossless.
    if code < 0x80 { -mag as i16 } else { mag as i16 }
}

/// Encodes one 16-bit linear sample to an A-law code word (G.191 `alaw_compress`).
#[must_use]
pub const fn alaw_encode_sample(x: i16) -> u8 {
    let mag = if x < 0 { !x } else { x };
    // 0..=2047: the 12 magnitude bits.
    let ix = (mag >> ALAW_SHIFT) as u32;
    let code = if ix > 15 {
        // Exponent 1..=7: the bit length of `ix` minus 4; the mantissa keeps 4 bits below
        // the leading one.
        let exp = (32 - ix.leading_zeros()) - 4;
        ((ix >> (exp - 1)) - 16 + (exp << 4)) as u8
    } else {
        ix as u8
    };
    let code = if x >= 0 { code | 0x80 } else { code };
    code ^ 0x55
}

/// Decodes one A-law code word to a 16-bit linear sample (G.191 `alaw_expand`).
#[must_use]
pub const fn alaw_decode_sample(code: u8) -> i16 {
    let ix = (code ^ 0x55) & 0x7F;
    let exp = (ix >> 4) as i32;
    let mut mant = (ix & 0x0F) as i32;
    if exp > 0 {
        mant += 16;
    }
    mant = (mant << 4) + 8;
    if exp > 1 {
        mant <<= exp - 1;
    }
    // `mant` is at most 32256, so the cast is lossless.
    if code > 0x7F {
        mant as i16
    } else {
        -mant as i16
    }
}

const fn build_ulaw_encode() -> [u8; 1 << (16 - ULAW_SHIFT)] {
    let mut t = [0u8; 1 << (16 - ULAW_SHIFT)];
    let mut i = 0;
    while i < t.len() {
        // Index = the 14 significant bits; the dropped LSBs do not change the code.
        let x = ((i as u16) << ULAW_SHIFT) as i16;
        t[i] = ulaw_encode_sample(x);
        i += 1;
    }
    t
}

const fn build_alaw_encode() -> [u8; 1 << (16 - ALAW_SHIFT)] {
    let mut t = [0u8; 1 << (16 - ALAW_SHIFT)];
    let mut i = 0;
    while i < t.len() {
        let x = ((i as u16) << ALAW_SHIFT) as i16;
        t[i] = alaw_encode_sample(x);
        i += 1;
    }
    t
}

const fn build_decode(ulaw: bool) -> [i16; 256] {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = if ulaw {
            ulaw_decode_sample(i as u8)
        } else {
            alaw_decode_sample(i as u8)
        };
        i += 1;
    }
    t
}

/// µ-law encode table indexed by the 14 significant bits of the sample.
static ULAW_ENCODE: [u8; 1 << (16 - ULAW_SHIFT)] = build_ulaw_encode();
/// A-law encode table indexed by the 12 significant bits of the sample.
static ALAW_ENCODE: [u8; 1 << (16 - ALAW_SHIFT)] = build_alaw_encode();
/// µ-law decode table, one entry per code word.
pub static ULAW_DECODE: [i16; 256] = build_decode(true);
/// A-law decode table, one entry per code word.
pub static ALAW_DECODE: [i16; 256] = build_decode(false);

/// Encodes one sample to µ-law through the table (same result as [`ulaw_encode_sample`]).
#[inline]
#[must_use]
pub fn ulaw_encode(x: i16) -> u8 {
    // Arithmetic shift then mask: the one's complement of a negative input has the same
    // significant bits as the complement of its shifted value, so the table covers both.
    ULAW_ENCODE[((x as u16) >> ULAW_SHIFT) as usize]
}

/// Encodes one sample to A-law through the table (same result as [`alaw_encode_sample`]).
#[inline]
#[must_use]
pub fn alaw_encode(x: i16) -> u8 {
    ALAW_ENCODE[((x as u16) >> ALAW_SHIFT) as usize]
}

/// Decodes one µ-law code word through the table.
#[inline]
#[must_use]
pub fn ulaw_decode(code: u8) -> i16 {
    ULAW_DECODE[code as usize]
}

/// Decodes one A-law code word through the table.
#[inline]
#[must_use]
pub fn alaw_decode(code: u8) -> i16 {
    ALAW_DECODE[code as usize]
}

/// Encodes `pcm` to µ-law into `out`; converts `min(pcm.len(), out.len())` samples and
/// returns that count.
pub fn encode_ulaw(pcm: &[i16], out: &mut [u8]) -> usize {
    for (o, &x) in out.iter_mut().zip(pcm) {
        *o = ulaw_encode(x);
    }
    pcm.len().min(out.len())
}

/// Decodes µ-law `codes` into `out`; converts `min(codes.len(), out.len())` samples and
/// returns that count.
pub fn decode_ulaw(codes: &[u8], out: &mut [i16]) -> usize {
    for (o, &c) in out.iter_mut().zip(codes) {
        *o = ulaw_decode(c);
    }
    codes.len().min(out.len())
}

/// Encodes `pcm` to A-law into `out`; converts `min(pcm.len(), out.len())` samples and
/// returns that count.
pub fn encode_alaw(pcm: &[i16], out: &mut [u8]) -> usize {
    for (o, &x) in out.iter_mut().zip(pcm) {
        *o = alaw_encode(x);
    }
    pcm.len().min(out.len())
}

/// Decodes A-law `codes` into `out`; converts `min(codes.len(), out.len())` samples and
/// returns that count.
pub fn decode_alaw(codes: &[u8], out: &mut [i16]) -> usize {
    for (o, &c) in out.iter_mut().zip(codes) {
        *o = alaw_decode(c);
    }
    codes.len().min(out.len())
}

/// The two G.711 companding laws, with their RFC 3551 static payload types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Law {
    /// µ-law, `PCMU`, payload type 0 (North America, Japan).
    Ulaw,
    /// A-law, `PCMA`, payload type 8 (Europe and most of the world).
    Alaw,
}

impl Law {
    /// The RFC 3551 static RTP payload type: 0 for PCMU, 8 for PCMA.
    #[must_use]
    pub const fn payload_type(self) -> u8 {
        match self {
            Law::Ulaw => 0,
            Law::Alaw => 8,
        }
    }

    /// The law for a static payload type (0 or 8), if it is one.
    #[must_use]
    pub const fn from_payload_type(pt: u8) -> Option<Self> {
        match pt {
            0 => Some(Law::Ulaw),
            8 => Some(Law::Alaw),
            _ => None,
        }
    }

    /// The SDP encoding name (`PCMU` / `PCMA`).
    #[must_use]
    pub const fn encoding_name(self) -> &'static str {
        match self {
            Law::Ulaw => "PCMU",
            Law::Alaw => "PCMA",
        }
    }

    /// The code word of digital silence (linear 0): `0xFF` for µ-law, `0xD5` for A-law.
    #[must_use]
    pub const fn silence(self) -> u8 {
        match self {
            Law::Ulaw => 0xFF,
            Law::Alaw => 0xD5,
        }
    }

    /// Encodes `pcm` into `out` with this law; returns the number of samples converted.
    pub fn encode(self, pcm: &[i16], out: &mut [u8]) -> usize {
        match self {
            Law::Ulaw => encode_ulaw(pcm, out),
            Law::Alaw => encode_alaw(pcm, out),
        }
    }

    /// Decodes `codes` into `out` with this law; returns the number of samples converted.
    pub fn decode(self, codes: &[u8], out: &mut [i16]) -> usize {
        match self {
            Law::Ulaw => decode_ulaw(codes, out),
            Law::Alaw => decode_alaw(codes, out),
        }
    }

    /// Transcodes one code word of this law to the other law through linear PCM.
    #[must_use]
    pub fn transcode(self, code: u8) -> u8 {
        match self {
            Law::Ulaw => alaw_encode(ulaw_decode(code)),
            Law::Alaw => ulaw_encode(alaw_decode(code)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_decode_values() {
        // G.711 Table 2a/2b endpoints, computed by hand from the STL algorithm.
        assert_eq!(ulaw_decode(0x00), -32124);
        assert_eq!(ulaw_decode(0x80), 32124);
        assert_eq!(ulaw_decode(0xFF), 0);
        assert_eq!(ulaw_decode(0x7F), 0);
        assert_eq!(ulaw_decode(0xFE), 8);
        assert_eq!(alaw_decode(0xD5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0x2A), -32256);
        assert_eq!(alaw_decode(0xAA), 32256);
    }

    #[test]
    fn table_matches_per_sample() {
        for x in i16::MIN..=i16::MAX {
            assert_eq!(ulaw_encode(x), ulaw_encode_sample(x), "ulaw {x}");
            assert_eq!(alaw_encode(x), alaw_encode_sample(x), "alaw {x}");
        }
    }

    #[test]
    fn slice_lengths() {
        let pcm = [0i16, 1000, -1000];
        let mut out = [0u8; 2];
        assert_eq!(encode_ulaw(&pcm, &mut out), 2);
        let mut back = [0i16; 5];
        assert_eq!(decode_alaw(&out, &mut back), 2);
        assert_eq!(Law::from_payload_type(8), Some(Law::Alaw));
        assert_eq!(
            Law::Ulaw.transcode(Law::Ulaw.silence()),
            Law::Alaw.silence()
        );
    }
}
