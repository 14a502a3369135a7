//! Windows-1258, Microsoft's Vietnamese code page.
//!
//! It has the modified letters `ă â ê ô ơ ư đ` (and capitals) as single
//! bytes, keeps some toned Latin-1 letters (`à á è é í ó ù ú` ...), and writes
//! every other tone as a combining mark after the letter: 0xCC grave, 0xEC
//! acute, 0xD2 hook above, 0xDE tilde, 0xF2 dot below. Decoding goes through
//! `encoding_rs` and then NFC, so `ê` + 0xDE comes out as `ễ`.
//!
//! Encoding uses a precomposed byte where one exists (`á` is 0xE1) and
//! otherwise the base letter's byte followed by the tone mark's byte (`ấ` is
//! `â` 0xE2 + 0xEC). Some converters write every tone as a combining byte
//! (`á` as `a` + 0xEC); both decode to the same text. Anything else that
//! decomposes into encodable pieces is written decomposed.

use super::letters::Letter;
use encoding_rs::WINDOWS_1258;
use unicode_normalization::char::decompose_canonical;
use unicode_normalization::UnicodeNormalization;

/// Decodes windows-1258 and composes the combining tone marks (NFC).
pub(crate) fn decode(bytes: &[u8]) -> String {
    let (text, _) = WINDOWS_1258.decode_without_bom_handling(bytes);
    text.nfc().collect()
}

/// Encodes `s` (after NFC); `Err` holds the first character with no bytes.
pub(crate) fn encode(s: &str) -> Result<Vec<u8>, char> {
    let mut out = Vec::with_capacity(s.len() + s.len() / 4);
    for c in s.nfc() {
        encode_char(c, &mut out).ok_or(c)?;
    }
    Ok(out)
}

fn encode_char(c: char, out: &mut Vec<u8>) -> Option<()> {
    let bytes = byte_of(c)
        .map(|b| vec![b])
        .or_else(|| base_and_tone(c))
        .or_else(|| decomposed(c))?;
    out.extend(bytes);
    Some(())
}

/// The single byte of `c`, if windows-1258 has one.
fn byte_of(c: char) -> Option<u8> {
    if let Some(b) = u8::try_from(c).ok().filter(u8::is_ascii) {
        return Some(b);
    }
    let mut buf = [0; 4];
    let (bytes, _, unmappable) = WINDOWS_1258.encode(c.encode_utf8(&mut buf));
    match (unmappable, &bytes[..]) {
        (false, &[b]) => Some(b),
        _ => None,
    }
}

/// A toned Vietnamese letter as its toneless letter's byte + the tone byte.
fn base_and_tone(c: char) -> Option<Vec<u8>> {
    let letter = Letter::split(c)?;
    let tone = letter.tone?;
    let base = byte_of(letter.toneless().compose()?)?;
    Some(vec![base, byte_of(tone.mark())?])
}

/// `c` fully decomposed, if every piece has a byte.
fn decomposed(c: char) -> Option<Vec<u8>> {
    let mut out = Some(Vec::new());
    decompose_canonical(c, |d| {
        out = out.take().and_then(|mut v| {
            v.push(byte_of(d)?);
            Some(v)
        });
    });
    out.filter(|v| v.len() > 1)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::vietnamese_letters;
    use super::*;

    /// What encoding_rs alone makes of the bytes (no normalisation).
    fn raw(bytes: &[u8]) -> String {
        WINDOWS_1258
            .decode_without_bom_handling(bytes)
            .0
            .into_owned()
    }

    #[test]
    fn the_tone_bytes_are_the_combining_marks() {
        let marks = [
            (0xCC, '\u{300}'),
            (0xEC, '\u{301}'),
            (0xD2, '\u{309}'),
            (0xDE, '\u{303}'),
            (0xF2, '\u{323}'),
        ];
        for (b, m) in marks {
            assert_eq!(raw(&[b]), m.to_string(), "0x{b:02X}");
        }
        let letters = [
            (0xC3, 'Ă'),
            (0xE3, 'ă'),
            (0xD0, 'Đ'),
            (0xF0, 'đ'),
            (0xD5, 'Ơ'),
            (0xF5, 'ơ'),
            (0xDD, 'Ư'),
            (0xFD, 'ư'),
            (0xE2, 'â'),
            (0xEA, 'ê'),
            (0xF4, 'ô'),
        ];
        for (b, c) in letters {
            assert_eq!(raw(&[b]), c.to_string(), "0x{b:02X}");
        }
    }

    #[test]
    fn every_letter_round_trips_and_encoding_rs_agrees() {
        let letters = vietnamese_letters();
        assert_eq!(letters.len(), 134);
        for c in letters {
            let bytes = encode(&c.to_string()).unwrap_or_else(|e| panic!("{c}: {e}"));
            assert!((1..=2).contains(&bytes.len()), "{c}");
            assert_eq!(decode(&bytes), c.to_string(), "{c} {bytes:02X?}");
            let nfd: String = c.to_string().nfd().collect();
            let raw_nfd: String = raw(&bytes).nfd().collect();
            assert_eq!(raw_nfd, nfd, "{c}");
        }
    }

    #[test]
    fn precomposed_bytes_are_preferred() {
        assert_eq!(encode("á"), Ok(vec![0xE1]));
        assert_eq!(encode("Ù"), Ok(vec![0xD9]));
        assert_eq!(encode("ấ"), Ok(vec![0xE2, 0xEC]));
        assert_eq!(encode("ã"), Ok(vec![b'a', 0xDE]));
        assert_eq!(encode("ặ"), Ok(vec![0xE3, 0xF2]));
        assert_eq!(encode("ợ"), Ok(vec![0xF5, 0xF2]));
    }

    #[test]
    fn known_phrases() {
        let cases: [(&str, &[u8]); 5] = [
            ("Nguyễn Văn Đức", b"Nguy\xEA\xDEn V\xE3n \xD0\xFD\xECc"),
            ("Thửa đất số", b"Th\xFD\xD2a \xF0\xE2\xECt s\xF4\xEC"),
            ("Xã Tân Mỹ Chánh", b"Xa\xDE T\xE2n My\xDE Ch\xE1nh"),
            ("Đất trồng lúa", b"\xD0\xE2\xECt tr\xF4\xCCng l\xFAa"),
            (
                "Huyện Chợ Gạo, tỉnh Tiền Giang",
                b"Huy\xEA\xF2n Ch\xF5\xF2 Ga\xF2o, ti\xD2nh Ti\xEA\xCCn Giang",
            ),
        ];
        for (text, bytes) in cases {
            assert_eq!(decode(bytes), text);
            assert_eq!(encode(text).as_deref(), Ok(bytes), "{text}");
            assert_eq!(raw(bytes).nfc().collect::<String>(), text);
        }
    }

    #[test]
    fn precomposed_bytes_with_a_tone_byte_compose() {
        // Some writers spell `à` as `a` + 0xCC, or put a tone on `ê`.
        assert_eq!(decode(b"a\xCC \xEA\xEC"), "à ế");
    }

    #[test]
    fn other_decomposable_characters_are_written_decomposed() {
        assert_eq!(encode("ǹ"), Ok(vec![b'n', 0xCC]));
        assert_eq!(decode(&[b'n', 0xCC]), "ǹ");
        assert_eq!(encode("ñ"), Ok(vec![0xF1]));
        assert_eq!(encode("₫"), Ok(vec![0xFE]));
        assert_eq!(encode("Ж"), Err('Ж'));
    }
}
