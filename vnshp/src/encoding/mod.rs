//! Text encodings of shapefile DBFs from Vietnamese agencies: UTF-8, the
//! legacy Vietnamese encodings (Windows-1258, TCVN3 "ABC", VNI-Windows) and
//! Latin-1, with decoding to NFC Unicode, encoding (for sample files and
//! tests) and detection (`.cpg`, DBF header, byte statistics).
//!
//! Decoding never fails: bytes an encoding does not define come out as
//! U+FFFD (UTF-8) or as the Latin-1 character of the same value (legacy
//! encodings; see each module). Trailing spaces and NULs are kept; the
//! caller trims DBF padding.

mod cp1258;
mod detect;
mod letters;
mod lexicon;
mod syllable;
mod tcvn3;
#[cfg(test)]
mod test_support;
mod vni;

use std::borrow::Cow;
use std::fmt;

use unicode_normalization::{is_nfc, UnicodeNormalization};

pub use detect::{detect, detect_recoded, from_cpg, from_ldid, one_byte_form, Detection};

/// An encoding of DBF text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextEncoding {
    Utf8,
    /// Windows-1258: precomposed `ă â ê ô ơ ư đ`, tones as combining marks.
    Cp1258,
    /// TCVN 5712:1993 VN3 ("ABC", `.VnTime`): one byte per letter, no
    /// upper-case toned letters.
    Tcvn3,
    /// VNI-Windows: base letter + diacritic bytes.
    Vni,
    /// ISO-8859-1: byte 0xXX is U+00XX.
    Latin1,
}

/// A character the target encoding has no bytes for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("character {ch:?} cannot be written in {encoding}")]
    Unrepresentable { ch: char, encoding: &'static str },
}

impl TextEncoding {
    pub const ALL: [TextEncoding; 5] = [
        TextEncoding::Utf8,
        TextEncoding::Cp1258,
        TextEncoding::Tcvn3,
        TextEncoding::Vni,
        TextEncoding::Latin1,
    ];

    /// The canonical name: `utf8`, `cp1258`, `tcvn3`, `vni` or `latin1`.
    pub fn name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "utf8",
            TextEncoding::Cp1258 => "cp1258",
            TextEncoding::Tcvn3 => "tcvn3",
            TextEncoding::Vni => "vni",
            TextEncoding::Latin1 => "latin1",
        }
    }

    /// Parses a canonical name or a common alias (`utf-8`, `windows-1258`,
    /// `abc`, `vn3`, `vni-windows`, `iso-8859-1`, ...), ignoring case,
    /// spaces, `-`, `_` and `.`.
    pub fn from_name(s: &str) -> Option<Self> {
        lookup(&compact(s))
    }

    /// Decodes `bytes`; never fails. The result is NFC.
    pub fn decode(self, bytes: &[u8]) -> String {
        self.decode_cow(bytes).into_owned()
    }

    /// [`decode`](Self::decode) without a copy when the bytes are already
    /// the text: printable ASCII (the same in every encoding here; TCVN3
    /// gives some control bytes to capitals), or UTF-8 already in NFC.
    pub fn decode_cow(self, bytes: &[u8]) -> Cow<'_, str> {
        // No early exit: the loop runs over whole vectors of bytes.
        if bytes
            .iter()
            .fold(true, |ok, b| ok & (0x20..0x7f).contains(b))
        {
            return Cow::Borrowed(std::str::from_utf8(bytes).unwrap_or_default());
        }
        if self == TextEncoding::Utf8 {
            if let Ok(s) = std::str::from_utf8(bytes) {
                if surely_nfc(s) {
                    return Cow::Borrowed(s);
                }
            }
        }
        Cow::Owned(self.decode_all(bytes))
    }

    /// Decodes `bytes` character by character, then normalises to NFC.
    fn decode_all(self, bytes: &[u8]) -> String {
        let text = match self {
            TextEncoding::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
            TextEncoding::Cp1258 => cp1258::decode(bytes),
            TextEncoding::Tcvn3 => tcvn3::decode(bytes, char::from),
            TextEncoding::Vni => vni::decode(bytes, char::from),
            TextEncoding::Latin1 => bytes.iter().map(|&b| char::from(b)).collect(),
        };
        if is_nfc(&text) {
            text
        } else {
            text.nfc().collect()
        }
    }

    /// Encodes `s` after NFC normalisation. TCVN3 writes upper-case toned
    /// letters with their lower-case byte (see `tcvn3.rs`).
    pub fn encode(self, s: &str) -> Result<Vec<u8>, EncodeError> {
        let result = match self {
            TextEncoding::Utf8 => Ok(s.nfc().collect::<String>().into_bytes()),
            TextEncoding::Cp1258 => cp1258::encode(s),
            TextEncoding::Tcvn3 => tcvn3::encode(s),
            TextEncoding::Vni => vni::encode(s),
            TextEncoding::Latin1 => s.nfc().map(|c| u8::try_from(c).map_err(|_| c)).collect(),
        };
        result.map_err(|ch| EncodeError::Unrepresentable {
            ch,
            encoding: self.name(),
        })
    }
}

/// True when `s` is certainly NFC without the full check: every character
/// is below U+0300 or a precomposed Latin letter of U+1E00-U+1EFF (where
/// Vietnamese toned letters live). Those characters have NFC_QC=Yes and
/// combining class 0, and none of them composes with what precedes it.
///
/// Read on the UTF-8 bytes (`s` is valid UTF-8): ASCII and continuation
/// bytes, two-byte sequences led by C2-CB (U+0080-U+02FF), three-byte ones
/// led by E1 B8-E1 BB (U+1E00-U+1EFF); any other lead byte is not sure.
fn surely_nfc(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            0x00..=0xBF | 0xC2..=0xCB => i += 1,
            0xE1 if matches!(b.get(i + 1), Some(0xB8..=0xBB)) => i += 2,
            _ => return false,
        }
    }
    true
}

impl fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Lower-case ASCII letters and digits of `s`, the rest dropped.
fn compact(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The encoding a [`compact`]ed name stands for.
fn lookup(key: &str) -> Option<TextEncoding> {
    let encoding = match key {
        "utf8" | "65001" | "unicode" => TextEncoding::Utf8,
        "cp1258" | "windows1258" | "win1258" | "1258" | "ms1258" | "xcp1258" => {
            TextEncoding::Cp1258
        }
        "tcvn3" | "tcvn" | "tcvn5712" | "tcvn57123" | "abc" | "vn3" | "vscii3" => {
            TextEncoding::Tcvn3
        }
        "vni" | "vniwindows" | "vniwin" => TextEncoding::Vni,
        "latin1" | "iso88591" | "88591" | "l1" | "cp819" | "ibm819" => TextEncoding::Latin1,
        _ => return None,
    };
    Some(encoding)
}

#[cfg(test)]
mod tests {
    use super::test_support::{corpus, vietnamese_letters, Lcg};
    use super::*;

    #[test]
    fn names_round_trip_and_aliases_resolve() {
        for e in TextEncoding::ALL {
            assert_eq!(TextEncoding::from_name(e.name()), Some(e));
            assert_eq!(TextEncoding::from_name(&e.name().to_uppercase()), Some(e));
            assert_eq!(e.to_string(), e.name());
        }
        let aliases = [
            ("UTF-8", TextEncoding::Utf8),
            ("utf_8", TextEncoding::Utf8),
            ("Windows-1258", TextEncoding::Cp1258),
            ("CP-1258", TextEncoding::Cp1258),
            ("ABC", TextEncoding::Tcvn3),
            ("TCVN 5712", TextEncoding::Tcvn3),
            ("vn3", TextEncoding::Tcvn3),
            ("VNI-Windows", TextEncoding::Vni),
            ("vni windows", TextEncoding::Vni),
            ("ISO-8859-1", TextEncoding::Latin1),
            ("latin-1", TextEncoding::Latin1),
        ];
        for (alias, e) in aliases {
            assert_eq!(TextEncoding::from_name(alias), Some(e), "{alias}");
        }
        for bad in ["", "koi8-r", "utf-16", "windows-1252", "viscii"] {
            assert_eq!(TextEncoding::from_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn encode_errors_name_the_character_and_encoding() {
        let err = TextEncoding::Tcvn3.encode("Ж").unwrap_err();
        assert_eq!(err.to_string(), "character 'Ж' cannot be written in tcvn3");
        let err = TextEncoding::Latin1.encode("Đức").unwrap_err();
        assert_eq!(err.to_string(), "character 'Đ' cannot be written in latin1");
    }

    #[test]
    fn every_letter_round_trips_in_every_vietnamese_encoding() {
        let letters = vietnamese_letters();
        assert_eq!(letters.len(), 134);
        assert_eq!(letters.iter().filter(|c| c.is_lowercase()).count(), 67);
        let all: String = letters.iter().collect();
        for e in [TextEncoding::Utf8, TextEncoding::Cp1258, TextEncoding::Vni] {
            let bytes = e.encode(&all).unwrap();
            assert_eq!(e.decode(&bytes), all, "{e}");
        }
        let tcvn = TextEncoding::Tcvn3;
        let back = tcvn.decode(&tcvn.encode(&all).unwrap());
        for (c, d) in letters.iter().zip(back.chars()) {
            let toned = letters::Letter::split(*c).unwrap().tone.is_some();
            let expected = if toned { letters::to_lower(*c) } else { *c };
            assert_eq!(d, expected, "{c}");
        }
    }

    #[test]
    fn corpus_round_trips() {
        for text in corpus() {
            for e in [TextEncoding::Utf8, TextEncoding::Cp1258, TextEncoding::Vni] {
                assert_eq!(e.decode(&e.encode(&text).unwrap()), text, "{e} {text}");
            }
            let tcvn = TextEncoding::Tcvn3;
            let back = tcvn.decode(&tcvn.encode(&text).unwrap());
            assert_eq!(back.to_lowercase(), text.to_lowercase(), "{text}");
        }
    }

    #[test]
    fn utf8_and_latin1() {
        let utf8 = TextEncoding::Utf8;
        assert_eq!(utf8.decode(b"a\xFFb"), "a\u{FFFD}b");
        assert_eq!(utf8.decode("Vie\u{302}\u{323}t".as_bytes()), "Việt");
        assert_eq!(
            utf8.encode("Vie\u{302}\u{323}t").unwrap(),
            "Việt".as_bytes()
        );
        let latin1 = TextEncoding::Latin1;
        assert_eq!(latin1.decode(b"Caf\xE9 \x00 "), "Café \0 ");
        assert_eq!(latin1.encode("Café"), Ok(b"Caf\xE9".to_vec()));
    }

    #[test]
    fn decoding_keeps_padding() {
        for e in TextEncoding::ALL {
            assert_eq!(e.decode(b"ab  \0\0"), "ab  \0\0", "{e}");
        }
    }

    #[test]
    fn decode_never_panics_and_is_always_nfc() {
        let mut rng = Lcg(0x5eed);
        let singles = (0..=u8::MAX).map(|b| vec![b]);
        let random = (0..4000).map(|_| rng.bytes(40));
        let inputs: Vec<Vec<u8>> = singles.chain(random).collect();
        for bytes in &inputs {
            for e in TextEncoding::ALL {
                let text = e.decode(bytes);
                assert!(is_nfc(&text), "{e} {bytes:02X?}");
                if e != TextEncoding::Utf8 {
                    assert!(!text.is_empty() || bytes.is_empty(), "{e} {bytes:02X?}");
                }
            }
        }
        let refs: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
        for chunk in refs.chunks(97) {
            let d = detect(chunk);
            assert!((0.0..=1.0).contains(&d.confidence), "{d:?}");
        }
    }

    #[test]
    fn the_no_copy_paths_give_what_full_decoding_gives() {
        // Every character the UTF-8 shortcut accepts is NFC_QC=Yes with
        // combining class 0, so any string of them is NFC.
        for c in (0..0x300u32)
            .chain(0x1E00..=0x1EFF)
            .filter_map(char::from_u32)
        {
            assert_eq!(
                unicode_normalization::is_nfc_quick(std::iter::once(c)),
                unicode_normalization::IsNormalized::Yes,
                "U+{:04X}",
                c as u32
            );
            assert_eq!(unicode_normalization::char::canonical_combining_class(c), 0);
        }
        let mut rng = Lcg(0xdec0de);
        let mut inputs: Vec<Vec<u8>> = (0..4000).map(|_| rng.bytes(30)).collect();
        inputs.extend((0..=u8::MAX).map(|b| vec![b, b'a', b]));
        let printable = (0..500).map(|_| rng.bytes(20).iter().map(|b| 0x20 + b % 95).collect());
        inputs.extend(printable);
        let vietnamese = "Nguyễn Thị Ánh Tuyết, ấp Mỹ Phước, xã Tân Lập Đông; ĐẤT Ở TẠI NÔNG THÔN";
        inputs.push(vietnamese.as_bytes().to_vec());
        inputs.push(vietnamese.nfd().collect::<String>().into_bytes());
        inputs.push(b"ODT 123.5 *".to_vec());
        for bytes in &inputs {
            for e in TextEncoding::ALL {
                assert_eq!(e.decode_cow(bytes), e.decode_all(bytes), "{e} {bytes:02X?}");
            }
        }
        let ascii = b"ma_xa 28234";
        assert!(matches!(
            TextEncoding::Tcvn3.decode_cow(ascii),
            Cow::Borrowed(_)
        ));
        assert!(matches!(
            TextEncoding::Utf8.decode_cow(vietnamese.as_bytes()),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn surely_nfc_reads_bytes_as_the_character_ranges_say() {
        let sure = |c: char| (c as u32) < 0x300 || (0x1E00..=0x1EFF).contains(&(c as u32));
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let alone = c.to_string();
            assert_eq!(surely_nfc(&alone), sure(c), "U+{:04X}", c as u32);
            let mixed = format!("a{c}ễ");
            assert_eq!(
                surely_nfc(&mixed),
                sure(c),
                "U+{:04X} in a string",
                c as u32
            );
        }
    }

    #[test]
    fn single_bytes_decode_to_one_character_in_8_bit_encodings() {
        for b in 0..=u8::MAX {
            for e in [TextEncoding::Tcvn3, TextEncoding::Vni, TextEncoding::Latin1] {
                assert_eq!(e.decode(&[b]).chars().count(), 1, "{e} 0x{b:02X}");
            }
        }
    }
}
