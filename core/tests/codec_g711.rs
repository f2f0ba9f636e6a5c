//! G.711 against an independent, literal transcription of the ITU-T G.191 STL loops
//! (`ulaw_compress`, `ulaw_expand`, `alaw_compress`, `alaw_expand`): segment search by a
//! shift loop instead of the library's bit-length arithmetic and tables.

use rvoip_core::codec::g711::*;

/// G.191 `ulaw_compress` for one sample, written as the STL's loop.
fn itu_ulaw_compress(lin: i16) -> u8 {
    let lin = i32::from(lin);
    let mut absno = if lin < 0 {
        ((!lin) >> 2) + 33
    } else {
        (lin >> 2) + 33
    };
    if absno > 0x1FFF {
        absno = 0x1FFF;
    }
    let mut i = absno >> 6;
    let mut segno = 1;
    while i != 0 {
        segno += 1;
        i >>= 1;
    }
    let high_nibble = 0x0008 - segno;
    let low_nibble = 0x000F - ((absno >> segno) & 0x000F);
    let mut log = (high_nibble << 4) | low_nibble;
    if lin >= 0 {
        log |= 0x0080;
    }
    u8::try_from(log).unwrap()
}

/// G.191 `ulaw_expand` for one code.
fn itu_ulaw_expand(log: u8) -> i16 {
    let log = i32::from(log);
    let sign = if log < 0x0080 { -1 } else { 1 };
    let mantissa = !log;
    let exponent = (mantissa >> 4) & 0x0007;
    let segment = exponent + 1;
    let mantissa = mantissa & 0x000F;
    let step = 4 << segment;
    i16::try_from(sign * ((0x0080 << exponent) + step * mantissa + step / 2 - 4 * 33)).unwrap()
}

/// G.191 `alaw_compress` for one sample.
fn itu_alaw_compress(lin: i16) -> u8 {
    let lin = i32::from(lin);
    let mut ix = if lin < 0 { (!lin) >> 4 } else { lin >> 4 };
    if ix > 15 {
        let mut iexp = 1;
        while ix > 16 + 15 {
            ix >>= 1;
            iexp += 1;
        }
        ix -= 16;
        ix += iexp << 4;
    }
    if lin >= 0 {
        ix |= 0x0080;
    }
    u8::try_from(ix ^ 0x0055).unwrap()
}

/// G.191 `alaw_expand` for one code.
fn itu_alaw_expand(log: u8) -> i16 {
    let ix = (i32::from(log) ^ 0x0055) & 0x007F;
    let iexp = ix >> 4;
    let mut mant = ix & 0x000F;
    if iexp > 0 {
        mant += 16;
    }
    mant = (mant << 4) + 0x0008;
    if iexp > 1 {
        mant <<= iexp - 1;
    }
    i16::try_from(if log > 127 { mant } else { -mant }).unwrap()
}

#[test]
fn reference_model_known_points() {
    // Check the test's own model against hand-derived G.711 table values, so that a bug
    // shared by model and library cannot hide: µ-law code 0x00 is segment 8, step 256
    // (in 14-bit units): (2^7·2^7 + 15·1024 + 512 − 132) = 32124.
    assert_eq!(itu_ulaw_expand(0x00), -32124);
    assert_eq!(itu_ulaw_expand(0x80), 32124);
    assert_eq!(itu_ulaw_expand(0xFF), 0);
    assert_eq!(itu_ulaw_expand(0x7F), 0);
    // A-law: 0xD5 ^ 0x55 = 0x80 → positive, segment 0, mantissa 0 → 8.
    assert_eq!(itu_alaw_expand(0xD5), 8);
    assert_eq!(itu_alaw_expand(0x55), -8);
    // 0x2A ^ 0x55 = 0x7F → negative, segment 7, mantissa 15: ((31 << 4) + 8) << 6 = 32256.
    assert_eq!(itu_alaw_expand(0x2A), -32256);
    assert_eq!(itu_alaw_expand(0xAA), 32256);
    // Encoder: full-scale and zero.
    assert_eq!(itu_ulaw_compress(i16::MAX), 0x80);
    assert_eq!(itu_ulaw_compress(i16::MIN), 0x00);
    assert_eq!(itu_ulaw_compress(0), 0xFF);
    assert_eq!(itu_ulaw_compress(-1), 0x7F);
    assert_eq!(itu_alaw_compress(0), 0xD5);
    assert_eq!(itu_alaw_compress(-1), 0x55);
    assert_eq!(itu_alaw_compress(i16::MAX), 0xAA);
    assert_eq!(itu_alaw_compress(i16::MIN), 0x2A);
}

#[test]
fn decode_all_codes_match_reference() {
    for code in 0..=255u8 {
        assert_eq!(ulaw_decode(code), itu_ulaw_expand(code), "ulaw {code:#04x}");
        assert_eq!(
            ulaw_decode_sample(code),
            itu_ulaw_expand(code),
            "ulaw {code:#04x}"
        );
        assert_eq!(ULAW_DECODE[usize::from(code)], itu_ulaw_expand(code));
        assert_eq!(alaw_decode(code), itu_alaw_expand(code), "alaw {code:#04x}");
        assert_eq!(
            alaw_decode_sample(code),
            itu_alaw_expand(code),
            "alaw {code:#04x}"
        );
        assert_eq!(ALAW_DECODE[usize::from(code)], itu_alaw_expand(code));
    }
}

#[test]
fn encode_all_inputs_match_reference() {
    let all: Vec<i16> = (i16::MIN..=i16::MAX).collect();
    let mut u = vec![0u8; all.len()];
    let mut a = vec![0u8; all.len()];
    assert_eq!(encode_ulaw(&all, &mut u), 65536);
    assert_eq!(encode_alaw(&all, &mut a), 65536);
    for (i, &x) in all.iter().enumerate() {
        let ru = itu_ulaw_compress(x);
        let ra = itu_alaw_compress(x);
        assert_eq!(u[i], ru, "ulaw table {x}");
        assert_eq!(ulaw_encode_sample(x), ru, "ulaw sample {x}");
        assert_eq!(a[i], ra, "alaw table {x}");
        assert_eq!(alaw_encode_sample(x), ra, "alaw sample {x}");
    }
}

#[test]
fn decode_encode_idempotent() {
    for code in 0..=255u8 {
        // The two zero codes of µ-law (0x7F = −0, 0xFF = +0) both decode to 0, which
        // encodes to +0.
        let expect_u = if code == 0x7F { 0xFF } else { code };
        assert_eq!(ulaw_encode(ulaw_decode(code)), expect_u, "ulaw {code:#04x}");
        assert_eq!(alaw_encode(alaw_decode(code)), code, "alaw {code:#04x}");
    }
}

#[test]
fn round_trip_error_bounded() {
    // Quantisation error of a round trip stays within half a step of the segment.
    for x in i16::MIN..=i16::MAX {
        let yu = i32::from(ulaw_decode(ulaw_encode(x)));
        let ya = i32::from(alaw_decode(alaw_encode(x)));
        let x = i32::from(x);
        // Largest step is 1024 on the 16-bit scale; beyond full scale the codes clip.
        let clip_u = x.clamp(-32124 - 512, 32124 + 512);
        assert!((yu - clip_u).abs() <= 512 + 4, "ulaw {x} -> {yu}");
        let clip_a = x.clamp(-32256 - 512, 32256 + 512);
        assert!((ya - clip_a).abs() <= 512 + 16, "alaw {x} -> {ya}");
    }
}

#[test]
fn law_helpers() {
    assert_eq!(Law::Ulaw.payload_type(), 0);
    assert_eq!(Law::Alaw.payload_type(), 8);
    assert_eq!(Law::from_payload_type(9), None);
    assert_eq!(ulaw_decode(Law::Ulaw.silence()), 0);
    assert_eq!(alaw_encode(0), Law::Alaw.silence());
    let pcm = [100i16, -200, 3000, -32768];
    let mut c = [0u8; 4];
    let mut back = [0i16; 4];
    for law in [Law::Ulaw, Law::Alaw] {
        assert_eq!(law.encode(&pcm, &mut c), 4);
        assert_eq!(law.decode(&c, &mut back), 4);
        for (x, y) in pcm.iter().zip(back) {
            assert!(
                (i32::from(*x) - i32::from(y)).abs() <= 1024,
                "{law:?} {x} {y}"
            );
        }
    }
}
