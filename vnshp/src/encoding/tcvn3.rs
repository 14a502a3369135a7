//! TCVN3: TCVN 5712:1993 VN3, the "ABC" encoding of the `.Vn*` fonts.
//!
//! One byte per letter. Bytes below 0x80 are ASCII. Above, VN3 assigns
//! exactly 75 characters: NBSP (0xA0), the capitals `Ă Â Ê Ô Ơ Ư Đ`
//! (0xA1-0xA7), their lower-case forms (0xA8-0xAE) and the 60 lower-case
//! toned vowels (0xB5-0xFE). Table checked against the TCVN-5712 table of
//! GNU libiconv (`lib/tcvn.h`, whose VN1 superset agrees on every VN3
//! position) and against Vietnamese converter tables in public code.
//!
//! Capitals with a tone mark (`Á`, `Ầ`, `Ố`, ...) do not exist in VN3:
//! legacy software shows them by switching to an all-capitals font
//! (`.VnTimeH`) over the lower-case byte. So [`encode`] writes the lower-case
//! byte for them and the case is lost: decoding gives the lower-case letter.
//!
//! Bytes in 0x80-0xFF that VN3 leaves unassigned (0x80-0x9F, 0xAF-0xB4,
//! 0xBA, 0xBF-0xC5, 0xCD, 0xD9-0xDB, 0xE0, 0xF0, 0xFF; the fuller VN1/VN2
//! variants put upper-case toned letters and combining tones there) decode as
//! the Latin-1 character of the same value, and [`encode`] writes those
//! Latin-1 characters back to their byte.

use super::letters::{to_lower, Letter};
use unicode_normalization::UnicodeNormalization;

/// Bytes 0x80-0xFF; `None` is unassigned in VN3.
#[rustfmt::skip]
const HIGH: [Option<char>; 128] = [
    // 0x80-0x9F: unassigned.
    None, None, None, None, None, None, None, None,
    None, None, None, None, None, None, None, None,
    None, None, None, None, None, None, None, None,
    None, None, None, None, None, None, None, None,
    /* A0 */ Some('\u{A0}'), Some('Ă'), Some('Â'), Some('Ê'), Some('Ô'), Some('Ơ'), Some('Ư'), Some('Đ'),
    /* A8 */ Some('ă'), Some('â'), Some('ê'), Some('ô'), Some('ơ'), Some('ư'), Some('đ'), None,
    /* B0 */ None, None, None, None, None, Some('à'), Some('ả'), Some('ã'),
    /* B8 */ Some('á'), Some('ạ'), None, Some('ằ'), Some('ẳ'), Some('ẵ'), Some('ắ'), None,
    /* C0 */ None, None, None, None, None, None, Some('ặ'), Some('ầ'),
    /* C8 */ Some('ẩ'), Some('ẫ'), Some('ấ'), Some('ậ'), Some('è'), None, Some('ẻ'), Some('ẽ'),
    /* D0 */ Some('é'), Some('ẹ'), Some('ề'), Some('ể'), Some('ễ'), Some('ế'), Some('ệ'), Some('ì'),
    /* D8 */ Some('ỉ'), None, None, None, Some('ĩ'), Some('í'), Some('ị'), Some('ò'),
    /* E0 */ None, Some('ỏ'), Some('õ'), Some('ó'), Some('ọ'), Some('ồ'), Some('ổ'), Some('ỗ'),
    /* E8 */ Some('ố'), Some('ộ'), Some('ờ'), Some('ở'), Some('ỡ'), Some('ớ'), Some('ợ'), Some('ù'),
    /* F0 */ None, Some('ủ'), Some('ũ'), Some('ú'), Some('ụ'), Some('ừ'), Some('ử'), Some('ữ'),
    /* F8 */ Some('ứ'), Some('ự'), Some('ỳ'), Some('ỷ'), Some('ỹ'), Some('ý'), Some('ỵ'), None,
];

/// The VN3 character of a byte, `None` if the byte is unassigned.
fn assigned(b: u8) -> Option<char> {
    if b.is_ascii() {
        return Some(char::from(b));
    }
    HIGH.get(usize::from(b) - 0x80).copied().flatten()
}

/// Decodes TCVN3; `unassigned` says what an unassigned byte becomes.
pub(crate) fn decode(bytes: &[u8], unassigned: fn(u8) -> char) -> String {
    bytes
        .iter()
        .map(|&b| assigned(b).unwrap_or_else(|| unassigned(b)))
        .collect()
}

/// Encodes `s` (after NFC); `Err` holds the first character with no byte.
pub(crate) fn encode(s: &str) -> Result<Vec<u8>, char> {
    s.nfc().map(|c| encode_char(c).ok_or(c)).collect()
}

fn encode_char(c: char) -> Option<u8> {
    byte_of(c)
        .or_else(|| toned_capital(c).and_then(byte_of))
        .or_else(|| unassigned_latin1(c))
}

fn byte_of(c: char) -> Option<u8> {
    if c.is_ascii() {
        return u8::try_from(c).ok();
    }
    let i = HIGH.iter().position(|&x| x == Some(c))?;
    u8::try_from(0x80 + i).ok()
}

/// The lower-case form of a Vietnamese capital that carries a tone mark.
fn toned_capital(c: char) -> Option<char> {
    let letter = Letter::split(c)?;
    (letter.is_upper() && letter.tone.is_some()).then(|| to_lower(c))
}

/// The byte of a Latin-1 character whose byte VN3 leaves unassigned.
fn unassigned_latin1(c: char) -> Option<u8> {
    let b = u8::try_from(c).ok()?;
    (!b.is_ascii() && assigned(b).is_none()).then_some(b)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::vietnamese_letters;
    use super::*;

    /// An outside chart: glibc's iconv knows TCVN 5712:1993 as `TCVN5712-1`
    /// (VN1). VN3, the "ABC" fonts' encoding geokho reads, is VN1 without
    /// the upper-case toned letters, at the same bytes: every lower-case
    /// letter and the toneless capitals must match iconv byte for byte.
    #[test]
    fn letters_match_glibc_iconv_tcvn5712() {
        use std::io::Write;
        let letters: Vec<char> = vietnamese_letters()
            .into_iter()
            .filter(|c| c.is_lowercase() || "ĂÂÊÔƠƯĐ".contains(*c))
            .collect();
        assert_eq!(letters.len(), 67 + 7);
        for c in letters {
            let mut child = std::process::Command::new("iconv")
                .args(["-f", "UTF-8", "-t", "TCVN5712-1"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("iconv (glibc) runs");
            child
                .stdin
                .take()
                .unwrap()
                .write_all(c.to_string().as_bytes())
                .unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "iconv refused {c}");
            assert_eq!(
                encode(&c.to_string()),
                Ok(out.stdout.clone()),
                "{c} (U+{:04X})",
                c as u32
            );
            assert_eq!(dec(&out.stdout), c.to_string());
        }
    }

    fn latin1(b: u8) -> char {
        char::from(b)
    }

    fn dec(bytes: &[u8]) -> String {
        decode(bytes, latin1)
    }

    #[test]
    fn vn3_assigns_75_characters() {
        assert_eq!(HIGH.iter().flatten().count(), 75);
        let toned = HIGH
            .iter()
            .flatten()
            .filter(|c| Letter::split(**c).is_some_and(|l| l.tone.is_some()))
            .count();
        assert_eq!(toned, 60);
        assert!(HIGH
            .iter()
            .flatten()
            .filter_map(|&c| Letter::split(c))
            .all(|l| l.tone.is_none() || !l.is_upper()));
    }

    #[test]
    fn hand_checked_bytes_from_the_chart() {
        let chart: [(u8, char); 24] = [
            (0xA1, 'Ă'),
            (0xA2, 'Â'),
            (0xA3, 'Ê'),
            (0xA4, 'Ô'),
            (0xA5, 'Ơ'),
            (0xA6, 'Ư'),
            (0xA7, 'Đ'),
            (0xA8, 'ă'),
            (0xAD, 'ư'),
            (0xAE, 'đ'),
            (0xB5, 'à'),
            (0xB8, 'á'),
            (0xB9, 'ạ'),
            (0xBE, 'ắ'),
            (0xC6, 'ặ'),
            (0xCA, 'ấ'),
            (0xD4, 'ễ'),
            (0xDC, 'ĩ'),
            (0xDF, 'ò'),
            (0xE8, 'ố'),
            (0xEE, 'ợ'),
            (0xF3, 'ú'),
            (0xF8, 'ứ'),
            (0xFE, 'ỵ'),
        ];
        for (b, c) in chart {
            assert_eq!(dec(&[b]), c.to_string(), "0x{b:02X}");
            assert_eq!(encode(&c.to_string()), Ok(vec![b]), "{c}");
        }
    }

    #[test]
    fn every_letter_round_trips_capitals_with_tones_come_back_lower() {
        let letters = vietnamese_letters();
        assert_eq!(letters.len(), 134);
        for c in letters {
            let bytes = encode(&c.to_string()).unwrap_or_else(|e| panic!("{c}: {e}"));
            assert_eq!(bytes.len(), 1, "{c}");
            let back = dec(&bytes);
            let toned_capital = c.is_uppercase() && Letter::split(c).unwrap().tone.is_some();
            let expected = if toned_capital { to_lower(c) } else { c };
            assert_eq!(back, expected.to_string(), "{c}");
        }
    }

    #[test]
    fn known_phrases() {
        let cases: [(&str, &[u8]); 5] = [
            ("Nguyễn Văn Đức", b"Nguy\xD4n V\xA8n \xA7\xF8c"),
            ("Thửa đất số", b"Th\xF6a \xAE\xCAt s\xE8"),
            ("Xã Tân Mỹ Chánh", b"X\xB7 T\xA9n M\xFC Ch\xB8nh"),
            ("Đất trồng lúa", b"\xA7\xCAt tr\xE5ng l\xF3a"),
            (
                "Huyện Chợ Gạo, tỉnh Tiền Giang",
                b"Huy\xD6n Ch\xEE G\xB9o, t\xD8nh Ti\xD2n Giang",
            ),
        ];
        for (text, bytes) in cases {
            assert_eq!(dec(bytes), text);
            assert_eq!(encode(text).as_deref(), Ok(bytes), "{text}");
        }
    }

    #[test]
    fn upper_case_words_lose_the_case_of_toned_letters() {
        assert_eq!(encode("ĐỨC").as_deref(), Ok(&b"\xA7\xF8C"[..]));
        assert_eq!(dec(b"\xA7\xF8C"), "ĐứC");
        assert_eq!(encode("NGUYỄN").as_deref(), Ok(&b"NGUY\xD4N"[..]));
    }

    #[test]
    fn unassigned_bytes_are_latin1_both_ways() {
        for b in [
            0x80u8, 0x9F, 0xAF, 0xB0, 0xB4, 0xBA, 0xBF, 0xC4, 0xCD, 0xD9, 0xF0, 0xFF,
        ] {
            let c = latin1(b);
            assert_eq!(dec(&[b]), c.to_string(), "0x{b:02X}");
            if !matches!(c, 'À' | 'Á' | 'Â' | 'Ã' | 'Í' | 'Ù' | 'Ú' | 'à') {
                assert_eq!(encode(&c.to_string()), Ok(vec![b]), "0x{b:02X}");
            }
        }
        // Vietnamese letters win over the Latin-1 fallback.
        assert_eq!(encode("À"), Ok(vec![0xB5]));
        assert_eq!(encode("à"), Ok(vec![0xB5]));
    }

    #[test]
    fn decomposed_input_is_normalised_first() {
        assert_eq!(encode("e\u{302}\u{303}"), Ok(vec![0xD4]));
    }

    #[test]
    fn unencodable_characters_are_reported() {
        assert_eq!(encode("aЖb"), Err('Ж'));
        assert_eq!(encode("€"), Err('€'));
    }
}
