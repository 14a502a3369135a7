//! VNI-Windows: the encoding of the `VNI-*` fonts, common in the south.
//!
//! A toned or modified vowel is its ASCII base letter followed by one
//! diacritic byte: `a`+0xF9 = `á`, `a`+0xE2 = `â`, `a`+0xE1 = `ấ`,
//! `a`+0xEA = `ă`, `a`+0xE9 = `ắ`. Some letters are single bytes: `ơ` 0xF4,
//! `ư` 0xF6 (which then take a tone byte: `ớ` = 0xF4 0xF9), `đ` 0xF1, the
//! toned `i`s (`í` 0xED, `ì` 0xEC, `ỉ` 0xE6, `ĩ` 0xF3, `ị` 0xF2) and `ỵ`
//! 0xEE. Every upper-case byte is the lower-case one minus 0x20 (the Latin-1
//! upper-case counterpart): `A`+0xD9 = `Á`, `Đ` 0xD1, `Ơ` 0xD4, `Ỵ` 0xCE.
//! Checked against two public VNI tables (xvnkb's `vni.h` and VBKey's code
//! table module), which agree on every byte.
//!
//! Decoding is greedy: a base vowel takes the longest run of one or two
//! diacritic bytes that still spells a Vietnamese letter (the two-byte form,
//! a modifier byte then a tone byte, is accepted leniently; [`encode`] writes
//! the one-byte combined marks). The case of the letter is the case of the
//! base; the case of the diacritic byte is not checked. A diacritic byte with
//! no base it fits, and any other byte VNI does not use, decodes as the
//! Latin-1 character of the same value.

use super::letters::{to_upper, Letter, Modifier, Tone};
use unicode_normalization::UnicodeNormalization;

/// A diacritic byte (lower-case form) and what it adds to its base.
type Mark = (u8, Option<Modifier>, Option<Tone>);

const CIRC: Option<Modifier> = Some(Modifier::Circumflex);
const BREVE: Option<Modifier> = Some(Modifier::Breve);

/// Diacritic bytes, lower-case forms; the upper-case forms are 0x20 less.
const MARKS: [Mark; 17] = [
    (0xF9, None, Some(Tone::Acute)),
    (0xF8, None, Some(Tone::Grave)),
    (0xFB, None, Some(Tone::Hook)),
    (0xF5, None, Some(Tone::Tilde)),
    (0xEF, None, Some(Tone::Dot)),
    (0xE2, CIRC, None),
    (0xE1, CIRC, Some(Tone::Acute)),
    (0xE0, CIRC, Some(Tone::Grave)),
    (0xE5, CIRC, Some(Tone::Hook)),
    (0xE3, CIRC, Some(Tone::Tilde)),
    (0xE4, CIRC, Some(Tone::Dot)),
    (0xEA, BREVE, None),
    (0xE9, BREVE, Some(Tone::Acute)),
    (0xE8, BREVE, Some(Tone::Grave)),
    (0xFA, BREVE, Some(Tone::Hook)),
    (0xFC, BREVE, Some(Tone::Tilde)),
    (0xEB, BREVE, Some(Tone::Dot)),
];

/// Letters written as one byte (lower-case forms; upper case is 0x20 less).
const SINGLES: [(u8, char); 9] = [
    (0xF4, 'ơ'),
    (0xF6, 'ư'),
    (0xF1, 'đ'),
    (0xED, 'í'),
    (0xEC, 'ì'),
    (0xE6, 'ỉ'),
    (0xF3, 'ĩ'),
    (0xF2, 'ị'),
    (0xEE, 'ỵ'),
];

/// The lower-case form of a byte and whether it was the upper-case one.
fn fold(b: u8) -> (u8, bool) {
    if (0xC0..=0xDF).contains(&b) {
        (b + 0x20, true)
    } else {
        (b, false)
    }
}

fn mark(b: u8) -> Option<(Option<Modifier>, Option<Tone>)> {
    let (lower, _) = fold(b);
    MARKS
        .iter()
        .find(|m| m.0 == lower)
        .map(|&(_, modifier, tone)| (modifier, tone))
}

fn single(b: u8) -> Option<char> {
    let (lower, upper) = fold(b);
    let (_, c) = SINGLES.iter().find(|s| s.0 == lower)?;
    Some(if upper { to_upper(*c) } else { *c })
}

/// A byte that can carry diacritic bytes: an ASCII vowel, `ơ`, `ư`, `Ơ`, `Ư`.
fn base(b: u8) -> Option<char> {
    if matches!(
        b.to_ascii_lowercase(),
        b'a' | b'e' | b'i' | b'o' | b'u' | b'y'
    ) {
        return Some(char::from(b));
    }
    single(b).filter(|c| matches!(c, 'ơ' | 'ư' | 'Ơ' | 'Ư'))
}

/// `base` with a modifier and a tone added, if that spells a letter.
fn apply(base: char, modifier: Option<Modifier>, tone: Option<Tone>) -> Option<char> {
    let letter = Letter::split(base)?;
    if letter.tone.is_some() || (modifier.is_some() && letter.modifier.is_some()) {
        return None;
    }
    Letter {
        modifier: modifier.or(letter.modifier),
        tone,
        ..letter
    }
    .compose()
}

/// The letter spelled by `base` and the diacritic bytes that start `rest`,
/// with how many of those bytes it used.
fn with_marks(base: char, rest: &[u8]) -> (char, usize) {
    let Some((modifier, tone)) = rest.first().copied().and_then(mark) else {
        return (base, 0);
    };
    let Some(one) = apply(base, modifier, tone) else {
        return (base, 0);
    };
    let second_tone = rest
        .get(1)
        .copied()
        .and_then(mark)
        .filter(|(m, _)| m.is_none())
        .and_then(|(_, t)| t);
    match (tone, second_tone) {
        (None, Some(t)) => apply(base, modifier, Some(t)).map_or((one, 1), |two| (two, 2)),
        _ => (one, 1),
    }
}

/// Decodes VNI; `unused` says what a byte that spells nothing becomes.
pub(crate) fn decode(bytes: &[u8], unused: fn(u8) -> char) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some((&b, tail)) = rest.split_first() {
        let (c, used) = match base(b) {
            Some(letter) => with_marks(letter, tail),
            None if b.is_ascii() => (char::from(b), 0),
            None => (single(b).unwrap_or_else(|| unused(b)), 0),
        };
        out.push(c);
        rest = tail.get(used..).unwrap_or_default();
    }
    out
}

/// Encodes `s` (after NFC); `Err` holds the first character with no bytes.
pub(crate) fn encode(s: &str) -> Result<Vec<u8>, char> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.nfc() {
        encode_char(c, &mut out).ok_or(c)?;
    }
    Ok(out)
}

fn encode_char(c: char, out: &mut Vec<u8>) -> Option<()> {
    if let Some(b) = u8::try_from(c).ok().filter(u8::is_ascii) {
        out.push(b);
        return Some(());
    }
    if let Some(b) = single_byte(c) {
        out.push(b);
        return Some(());
    }
    match Letter::split(c) {
        Some(letter) => encode_letter(letter, out),
        None => {
            out.push(unused_latin1(c)?);
            Some(())
        }
    }
}

/// The one-byte spelling of `c`, if it has one.
fn single_byte(c: char) -> Option<u8> {
    SINGLES.iter().find_map(|&(b, lower)| {
        if lower == c {
            Some(b)
        } else {
            (to_upper(lower) == c).then_some(b - 0x20)
        }
    })
}

fn encode_letter(letter: Letter, out: &mut Vec<u8>) -> Option<()> {
    let shift = |b: u8| if letter.is_upper() { b - 0x20 } else { b };
    let horn = letter.modifier == Some(Modifier::Horn);
    let base = match (horn, letter.base.to_ascii_lowercase()) {
        (true, 'o') => shift(0xF4),
        (true, 'u') => shift(0xF6),
        _ => u8::try_from(letter.base).ok().filter(u8::is_ascii)?,
    };
    out.push(base);
    let modifier = letter.modifier.filter(|_| !horn);
    if modifier.is_some() || letter.tone.is_some() {
        let &(b, _, _) = MARKS
            .iter()
            .find(|m| m.1 == modifier && m.2 == letter.tone)?;
        out.push(shift(b));
    }
    Some(())
}

/// The byte of a Latin-1 character whose byte VNI does not use.
fn unused_latin1(c: char) -> Option<u8> {
    let b = u8::try_from(c).ok().filter(|b| !b.is_ascii())?;
    (mark(b).is_none() && single(b).is_none()).then_some(b)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::vietnamese_letters;
    use super::*;

    fn dec(bytes: &[u8]) -> String {
        decode(bytes, char::from)
    }

    #[test]
    fn every_letter_round_trips_in_both_cases() {
        let letters = vietnamese_letters();
        assert_eq!(letters.len(), 134);
        for c in letters {
            let bytes = encode(&c.to_string()).unwrap_or_else(|e| panic!("{c}: {e}"));
            assert!((1..=2).contains(&bytes.len()), "{c}");
            assert_eq!(dec(&bytes), c.to_string(), "{c} {bytes:02X?}");
        }
    }

    #[test]
    fn hand_checked_spellings_from_the_chart() {
        let chart: [(&str, &[u8]); 20] = [
            ("á", b"a\xF9"),
            ("à", b"a\xF8"),
            ("ả", b"a\xFB"),
            ("ã", b"a\xF5"),
            ("ạ", b"a\xEF"),
            ("â", b"a\xE2"),
            ("ấ", b"a\xE1"),
            ("ậ", b"a\xE4"),
            ("ă", b"a\xEA"),
            ("ẳ", b"a\xFA"),
            ("ơ", b"\xF4"),
            ("ớ", b"\xF4\xF9"),
            ("Ự", b"\xD6\xCF"),
            ("đ", b"\xF1"),
            ("Đ", b"\xD1"),
            ("í", b"\xED"),
            ("Ỉ", b"\xC6"),
            ("ỵ", b"\xEE"),
            ("Ỵ", b"\xCE"),
            ("Ấ", b"A\xC1"),
        ];
        for (text, bytes) in chart {
            assert_eq!(dec(bytes), text, "{bytes:02X?}");
            assert_eq!(encode(text).as_deref(), Ok(bytes), "{text}");
        }
    }

    #[test]
    fn known_phrases() {
        let cases: [(&str, &[u8]); 5] = [
            ("Nguyễn Văn Đức", b"Nguye\xE3n Va\xEAn \xD1\xF6\xF9c"),
            ("Thửa đất số", b"Th\xF6\xFBa \xF1a\xE1t so\xE1"),
            ("Xã Tân Mỹ Chánh", b"Xa\xF5 Ta\xE2n My\xF5 Cha\xF9nh"),
            ("Đất trồng lúa", b"\xD1a\xE1t tro\xE0ng lu\xF9a"),
            (
                "Huyện Chợ Gạo, tỉnh Tiền Giang",
                b"Huye\xE4n Ch\xF4\xEF Ga\xEFo, t\xE6nh Tie\xE0n Giang",
            ),
        ];
        for (text, bytes) in cases {
            assert_eq!(dec(bytes), text);
            assert_eq!(encode(text).as_deref(), Ok(bytes), "{text}");
        }
    }

    #[test]
    fn upper_case_phrases() {
        let text = "NGUYỄN VĂN ĐỨC";
        let bytes = b"NGUYE\xC3N VA\xCAN \xD1\xD6\xD9C";
        assert_eq!(encode(text).as_deref(), Ok(&bytes[..]));
        assert_eq!(dec(bytes), text);
    }

    #[test]
    fn greedy_two_byte_marks_are_accepted() {
        assert_eq!(dec(b"a\xE2\xF9"), "ấ");
        assert_eq!(dec(b"A\xCA\xD8"), "Ằ");
        // A second modifier is not a tone: it stands alone.
        assert_eq!(dec(b"a\xE2\xE2"), "â\u{e2}");
    }

    #[test]
    fn orphan_marks_decode_as_latin1() {
        assert_eq!(dec(b"\xF9"), "ù");
        assert_eq!(dec(b"b\xF9"), "bù");
        // Breve only fits `a`; circumflex does not fit `i`.
        assert_eq!(dec(b"e\xEA"), "eê");
        assert_eq!(dec(b"i\xE2"), "iâ");
        // `ơ` takes a tone but not another modifier.
        assert_eq!(dec(b"\xF4\xE2"), "ơâ");
        assert_eq!(dec(b"\xB0C"), "°C");
    }

    #[test]
    fn latin1_characters_with_unused_bytes_round_trip() {
        assert_eq!(encode("25°C ©"), Ok(b"25\xB0C \xA9".to_vec()));
        assert_eq!(encode("ç"), Ok(vec![0xE7]));
        assert_eq!(dec(b"a\xE7"), "aç");
        // These bytes mean something else in VNI.
        assert_eq!(encode("ü"), Err('ü'));
        assert_eq!(encode("Ñ"), Err('Ñ'));
        assert_eq!(encode("Ж"), Err('Ж'));
    }
}
