//! Deciding the encoding of a DBF's text: from the `.cpg` file, from the
//! DBF header's language-driver id, or from the bytes themselves.
//!
//! Declarations first. A `.cpg` naming UTF-8 or code page 1258 can be taken
//! at its word. One naming Latin-1 or Windows-1252 maps to
//! [`TextEncoding::Latin1`] (cp1252 differs from Latin-1 only in 0x80-0x9F,
//! which Latin-1 decodes to C1 controls) but it proves little about
//! Vietnamese data: TCVN3 and VNI are fonts drawn over Western 8-bit bytes,
//! so files written by them are routinely labelled 1252, 8859-1 or "ANSI".
//! For the same reason [`from_ldid`] maps no language driver at all (see
//! there).
//!
//! Then [`detect`]: valid UTF-8 with multi-byte sequences is UTF-8; pure
//! ASCII is reported as UTF-8 too (every candidate decodes it alike).
//! Otherwise every word holding a byte >= 0x80 is decoded as cp1258, TCVN3
//! and VNI, each decoding is scored by how well its words read as
//! Vietnamese syllables (see `syllable.rs`; common syllables score a little
//! more, which settles most words that read as a syllable both ways), and
//! the best mean wins; exact ties go to TCVN3, then VNI, then cp1258, in
//! order of how common they are in Vietnamese GIS data. When no decoding
//! reads as Vietnamese the text is taken to be Latin-1.

use super::syllable;
use super::{cp1258, tcvn3, vni, TextEncoding};

/// The outcome of [`detect`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    pub encoding: TextEncoding,
    /// How sure the guess is, 0..=1. Short or ambiguous samples stay low:
    /// one word can read as Vietnamese in two encodings.
    pub confidence: f32,
    /// Why: `"ascii"` (no byte >= 0x80), `"utf8"` (valid UTF-8 with
    /// multi-byte sequences), `"syllables"` (a legacy encoding whose decoding
    /// reads as Vietnamese best), or `"latin1-fallback"` (no decoding reads
    /// as Vietnamese).
    pub reason: &'static str,
}

/// Tie order: TCVN3 is the most common legacy encoding in Vietnamese GIS
/// data, then VNI, then cp1258.
const LEGACY: [TextEncoding; 3] = [TextEncoding::Tcvn3, TextEncoding::Vni, TextEncoding::Cp1258];

/// Below this average word score no decoding reads as Vietnamese.
const VIETNAMESE_AT_LEAST: f32 = 0.4;

/// Guesses the encoding of text-field samples (e.g. a few thousand
/// non-empty values, trailing padding removed).
pub fn detect(samples: &[&[u8]]) -> Detection {
    if samples.iter().all(|s| s.is_ascii()) {
        return Detection {
            encoding: TextEncoding::Utf8,
            confidence: 1.0,
            reason: "ascii",
        };
    }
    let words: Vec<&[u8]> = high_words(samples).collect();
    let ranked = rank_legacy(&words);
    if let Some(multibyte) = utf8_multibyte_count(samples) {
        let utf8 = mean_score(&words, TextEncoding::Utf8);
        let legacy_clearly_better = utf8 < VIETNAMESE_AT_LEAST && ranked[0].1 >= 0.8;
        if !legacy_clearly_better {
            return Detection {
                encoding: TextEncoding::Utf8,
                confidence: 1.0 - 0.1 / multibyte as f32,
                reason: "utf8",
            };
        }
    }
    legacy_verdict(ranked, words.len())
}

/// Text a reader already decoded from a Western charset (GDAL recodes a
/// MapInfo file declared `WindowsLatin1` to UTF-8) may hold the bytes of a
/// Vietnamese legacy encoding. Returns the legacy encoding when the text's
/// one-byte form ([`one_byte_form`]) reads as Vietnamese in it clearly
/// better than the text itself does; `None` otherwise (and when a character
/// has no one-byte form: genuine Vietnamese text has letters beyond cp1252).
pub fn detect_recoded(texts: &[&str]) -> Option<Detection> {
    let bytes: Vec<Vec<u8>> = texts
        .iter()
        .map(|t| one_byte_form(t))
        .collect::<Option<_>>()?;
    let refs: Vec<&[u8]> = bytes.iter().map(|b| b.as_slice()).collect();
    let words: Vec<&[u8]> = high_words(&refs).collect();
    if words.is_empty() {
        return None;
    }
    let orig: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();
    let orig_words: Vec<&[u8]> = high_words(&orig).collect();
    let as_text = mean_score(&orig_words, TextEncoding::Utf8);
    let ranked = rank_legacy(&words);
    (as_text < VIETNAMESE_AT_LEAST && ranked[0].1 >= 0.8)
        .then(|| legacy_verdict(ranked, words.len()))
}

/// The bytes `s` was decoded from if it was Latin-1 or cp1252: each
/// character's one byte; `None` when a character has none.
pub fn one_byte_form(s: &str) -> Option<Vec<u8>> {
    s.chars()
        .map(|c| {
            if (c as u32) < 0x100 {
                return Some(c as u32 as u8);
            }
            let mut b = [0u8; 4];
            let (out, _, bad) = encoding_rs::WINDOWS_1252.encode(c.encode_utf8(&mut b));
            (!bad && out.len() == 1).then(|| out[0])
        })
        .collect()
}

fn legacy_verdict(ranked: [(TextEncoding, f32); 3], words: usize) -> Detection {
    let (best, score) = ranked[0];
    let second = ranked[1].1;
    let evidence = words as f32 / (words as f32 + 1.0);
    if score < VIETNAMESE_AT_LEAST {
        return Detection {
            encoding: TextEncoding::Latin1,
            confidence: 0.5 * evidence * (1.0 - score / VIETNAMESE_AT_LEAST),
            reason: "latin1-fallback",
        };
    }
    // A tie is a coin toss between two readings. A margin of 0.4 in mean
    // word score (two words in three reading as syllables in the best
    // decoding only) settles it.
    let margin = ((score - second) / 0.4).clamp(0.0, 1.0);
    let quality = (score / 0.75).min(1.0);
    Detection {
        encoding: best,
        confidence: (evidence * quality * (0.5 + 0.5 * margin)).clamp(0.0, 1.0),
        reason: "syllables",
    }
}

/// The words (runs between ASCII non-letters) that hold a byte >= 0x80.
/// Every candidate is ASCII-compatible and never joins bytes across an
/// ASCII non-letter, so all candidates see the same words.
fn high_words<'a>(samples: &'a [&'a [u8]]) -> impl Iterator<Item = &'a [u8]> + 'a {
    samples
        .iter()
        .flat_map(|s| s.split(|b| b.is_ascii() && !b.is_ascii_alphabetic()))
        .filter(|w| !w.is_ascii())
}

/// The legacy candidates with their mean word score, best first.
fn rank_legacy(words: &[&[u8]]) -> [(TextEncoding, f32); 3] {
    let mut ranked = LEGACY.map(|e| (e, mean_score(words, e)));
    // Stable: equal scores keep the LEGACY tie order.
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked
}

fn mean_score(words: &[&[u8]], encoding: TextEncoding) -> f32 {
    if words.is_empty() {
        return 0.0;
    }
    let total: f32 = words.iter().map(|w| word_score(encoding, w)).sum();
    total / words.len() as f32
}

/// The syllable score of a word decoded as `encoding`. A capital after a
/// small letter (`lÈm`, TCVN3 `lẩm` read as cp1258) does not happen in real
/// words, except in TCVN3, which has no capital toned letters: its
/// all-capitals words come out as `ĐứC`.
fn word_score(encoding: TextEncoding, bytes: &[u8]) -> f32 {
    let text = strict_decode(encoding, bytes);
    if encoding != TextEncoding::Tcvn3 && has_inner_capital(&text) {
        return syllable::NOT_A_SYLLABLE.min(syllable::score(&text));
    }
    syllable::score(&text)
}

fn has_inner_capital(word: &str) -> bool {
    let mut after_small = false;
    for c in word.chars() {
        if after_small && c.is_uppercase() {
            return true;
        }
        after_small = c.is_lowercase();
    }
    false
}

/// Decodes with bytes the encoding does not use turned into U+FFFD, so that
/// a Latin-1 fallback letter never counts as evidence.
fn strict_decode(encoding: TextEncoding, bytes: &[u8]) -> String {
    let unused = |_| char::REPLACEMENT_CHARACTER;
    match encoding {
        TextEncoding::Tcvn3 => tcvn3::decode(bytes, unused),
        TextEncoding::Vni => vni::decode(bytes, unused),
        TextEncoding::Cp1258 => cp1258::decode(bytes),
        TextEncoding::Utf8 | TextEncoding::Latin1 => encoding.decode(bytes),
    }
}

/// `Some(number of multi-byte characters)` when every sample is valid UTF-8
/// and at least one character is multi-byte. A sample may end in a
/// truncated character: DBF writers cut text at the field width.
fn utf8_multibyte_count(samples: &[&[u8]]) -> Option<usize> {
    let mut count = 0;
    for sample in samples {
        let end = sample
            .iter()
            .rposition(|&b| b != b' ' && b != 0)
            .map_or(0, |i| i + 1);
        let sample = sample.get(..end)?;
        let valid = match std::str::from_utf8(sample) {
            Ok(s) => s,
            Err(e) if e.error_len().is_none() => {
                std::str::from_utf8(sample.get(..e.valid_up_to())?).ok()?
            }
            Err(_) => return None,
        };
        count += valid.chars().filter(|c| !c.is_ascii()).count();
    }
    (count > 0).then_some(count)
}

/// Reads a `.cpg` file's content: `UTF-8`, `65001`, `1258`, `ANSI 1258`,
/// `88591`, `ISO-8859-1`, `1252`, ... (case-insensitive; whitespace, NULs
/// and a BOM around it ignored; first non-empty line only). Windows-1252
/// maps to [`TextEncoding::Latin1`]; see the module docs for how little
/// that proves. Code pages with no [`TextEncoding`] give `None`.
pub fn from_cpg(text: &str) -> Option<TextEncoding> {
    let line = text
        .lines()
        .map(|l| l.trim_matches(|c: char| c.is_whitespace() || c == '\0' || c == '\u{FEFF}'))
        .find(|l| !l.is_empty())?;
    let key = super::compact(line);
    let key = key
        .strip_prefix("ansi")
        .filter(|k| !k.is_empty())
        .unwrap_or(&key);
    match key {
        "1252" | "cp1252" | "windows1252" | "win1252" => Some(TextEncoding::Latin1),
        _ => super::lookup(key),
    }
}

/// Maps a DBF language-driver id (header byte 29) to an encoding when the id
/// names one unambiguously. None does, so this always returns `None`:
///
/// - the dBase/ESRI tables (ArcGIS, BDE, FoxPro) define no id for cp1258
///   and none for UTF-8 (0xF0 or 0x8B "UTF-8" appear only in a few
///   tool-specific readers);
/// - 0x00 means "not set" and 0x57 "the writer's ANSI code page", which on
///   Vietnamese Windows is cp1258 and in practice often holds TCVN3 or VNI;
/// - 0x03, 0x58 and 0x59 say Windows-1252, but TCVN3 and VNI text is
///   cp1252 bytes shown with special fonts, so a DBF of TCVN3 text is
///   exactly what these ids label; mapping them to Latin-1 would garble it;
/// - every other id names a code page with no [`TextEncoding`].
///
/// So the header never overrides [`detect`], whose Latin-1 fallback still
/// handles genuinely Western text.
pub fn from_ldid(byte: u8) -> Option<TextEncoding> {
    let _ = byte;
    None
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{corpus, RARE};
    use super::*;

    fn detect_one(bytes: &[u8]) -> Detection {
        detect(&[bytes])
    }

    #[test]
    fn ascii_and_empty_are_utf8() {
        let d = detect(&[b"Nguyen Van Duc", b"123", b""]);
        assert_eq!((d.encoding, d.reason), (TextEncoding::Utf8, "ascii"));
        assert_eq!(detect(&[]).reason, "ascii");
    }

    #[test]
    fn utf8_is_recognised_even_when_truncated() {
        let text = "Nguyễn Văn Đức";
        let d = detect_one(text.as_bytes());
        assert_eq!((d.encoding, d.reason), (TextEncoding::Utf8, "utf8"));
        assert!(d.confidence > 0.9);
        let cut = &text.as_bytes()[..text.len() - 2];
        assert_eq!(detect(&[cut, "Xã".as_bytes()]).encoding, TextEncoding::Utf8);
        assert_eq!(
            detect_one("Café Münster".as_bytes()).encoding,
            TextEncoding::Utf8
        );
    }

    fn check_corpus(encoding: TextEncoding) {
        let texts = corpus();
        assert!(texts.len() >= 300, "{}", texts.len());
        let encoded: Vec<Vec<u8>> = texts
            .iter()
            .map(|t| encoding.encode(t).expect("encodable"))
            .collect();
        let mut wrong = Vec::new();
        for (text, bytes) in texts.iter().zip(&encoded) {
            let d = detect_one(bytes);
            if d.encoding != encoding {
                wrong.push(format!("{text:?} -> {d:?}"));
            }
        }
        assert!(wrong.is_empty(), "{encoding:?}: {}", wrong.join("\n"));
        let refs: Vec<&[u8]> = encoded.iter().map(Vec::as_slice).collect();
        let batch = detect(&refs);
        assert_eq!(batch.encoding, encoding);
        assert_eq!(batch.reason, "syllables");
        assert!(batch.confidence > 0.9, "{batch:?}");
    }

    #[test]
    fn corpus_in_tcvn3() {
        check_corpus(TextEncoding::Tcvn3);
    }

    #[test]
    fn corpus_in_vni() {
        check_corpus(TextEncoding::Vni);
    }

    #[test]
    fn corpus_in_cp1258() {
        check_corpus(TextEncoding::Cp1258);
    }

    /// Words outside the lexicon: some phrases are truly ambiguous (cp1258
    /// `ríu rít` is the same bytes in VNI; TCVN3 reads cp1258 `lóng ngóng`
    /// as `lúng ngúng`), so allow a few misses per encoding, but the batch
    /// must be right.
    #[test]
    fn rare_words_held_out() {
        for encoding in LEGACY {
            let encoded: Vec<Vec<u8>> = RARE.iter().map(|t| encoding.encode(t).unwrap()).collect();
            let wrong: Vec<&str> = RARE
                .iter()
                .zip(&encoded)
                .filter(|(_, b)| detect_one(b).encoding != encoding)
                .map(|(t, _)| *t)
                .collect();
            assert!(wrong.len() <= 4, "{encoding:?}: {wrong:?}");
            let refs: Vec<&[u8]> = encoded.iter().map(Vec::as_slice).collect();
            let batch = detect(&refs);
            assert_eq!(batch.encoding, encoding);
            assert!(batch.confidence > 0.9, "{batch:?}");
        }
    }

    #[test]
    fn inner_capitals() {
        assert!(has_inner_capital("lÈm"));
        assert!(has_inner_capital("ĐứC"));
        assert!(!has_inner_capital("Đức"));
        assert!(!has_inner_capital("ĐỨC"));
        // TCVN3 all-capitals words are fine; the same bytes as cp1258 are not.
        assert_eq!(word_score(TextEncoding::Tcvn3, b"\xA7\xF8C"), 1.0);
        assert_eq!(
            word_score(TextEncoding::Cp1258, b"l\xC8m"),
            syllable::NOT_A_SYLLABLE
        );
    }

    #[test]
    fn corpus_in_utf8() {
        for text in corpus() {
            let d = detect_one(text.as_bytes());
            assert_eq!(
                (d.encoding, d.reason),
                (TextEncoding::Utf8, "utf8"),
                "{text}"
            );
        }
    }

    #[test]
    fn mixed_with_ascii_rows() {
        let tcvn = TextEncoding::Tcvn3.encode("Đất trồng lúa").unwrap();
        let d = detect(&[b"LUC", b"ONT", &tcvn, b"12345", b"Ap 3"]);
        assert_eq!((d.encoding, d.reason), (TextEncoding::Tcvn3, "syllables"));
    }

    #[test]
    fn latin1_text_is_not_taken_for_vietnamese() {
        let d = detect_one(b"Caf\xE9 M\xFCnster");
        assert_eq!(
            (d.encoding, d.reason),
            (TextEncoding::Latin1, "latin1-fallback")
        );
        assert!(d.confidence < 0.5, "{d:?}");
        let western: [&[u8]; 4] = [
            b"Caf\xE9 M\xFCnster",
            b"Z\xFCrich",
            b"S\xE3o Paulo",
            b"Se\xF1or Jos\xE9",
        ];
        let d = detect(&western);
        assert_eq!(d.encoding, TextEncoding::Latin1, "{d:?}");
    }

    #[test]
    fn one_short_word_is_low_confidence() {
        let d = detect_one(b"M\xFC");
        assert_eq!(d.encoding, TextEncoding::Tcvn3);
        assert!(d.confidence <= 0.5, "{d:?}");
    }

    #[test]
    fn cpg_contents() {
        let cases = [
            ("UTF-8", Some(TextEncoding::Utf8)),
            ("utf8\r\n", Some(TextEncoding::Utf8)),
            ("\u{FEFF}65001", Some(TextEncoding::Utf8)),
            ("1258", Some(TextEncoding::Cp1258)),
            ("CP1258", Some(TextEncoding::Cp1258)),
            ("ANSI 1258", Some(TextEncoding::Cp1258)),
            ("windows-1258\0\0", Some(TextEncoding::Cp1258)),
            ("88591", Some(TextEncoding::Latin1)),
            ("ISO-8859-1", Some(TextEncoding::Latin1)),
            ("ISO 8859-1", Some(TextEncoding::Latin1)),
            ("1252", Some(TextEncoding::Latin1)),
            ("ANSI 1252", Some(TextEncoding::Latin1)),
            ("\n  tcvn3 \n", Some(TextEncoding::Tcvn3)),
            ("ANSI", None),
            ("1251", None),
            ("GB2312", None),
            ("", None),
            ("  \n\t", None),
        ];
        for (text, expected) in cases {
            assert_eq!(from_cpg(text), expected, "{text:?}");
        }
    }

    #[test]
    fn no_language_driver_is_trusted() {
        for b in 0..=u8::MAX {
            assert_eq!(from_ldid(b), None, "0x{b:02X}");
        }
    }
}

#[cfg(test)]
mod recoded_tests {
    use super::*;

    #[test]
    fn recoded_tcvn3_is_found_and_real_text_is_left_alone() {
        let words = [
            "Nguyễn Văn Thành",
            "Mỹ Tho",
            "đường Hùng Vương",
            "Tiền Giang",
        ];
        let recoded: Vec<String> = words
            .iter()
            .map(|w| {
                TextEncoding::Tcvn3
                    .encode(w)
                    .unwrap()
                    .iter()
                    .map(|&b| char::from(b))
                    .collect()
            })
            .collect();
        let refs: Vec<&str> = recoded.iter().map(|s| s.as_str()).collect();
        let d = detect_recoded(&refs).expect("TCVN3 found in recoded text");
        assert_eq!(d.encoding, TextEncoding::Tcvn3);
        // Real Vietnamese text, even one that fits Latin-1 ("Tân Hòa").
        assert!(detect_recoded(&words).is_none());
        assert!(detect_recoded(&["Tân Hòa", "Bà Hòa"]).is_none());
        assert!(detect_recoded(&["plain ascii"]).is_none());
    }
}
