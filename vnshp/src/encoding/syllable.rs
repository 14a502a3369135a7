//! How plausible a decoded word is as one written Vietnamese syllable; the
//! detector's yardstick for "this decoding reads as Vietnamese".
//!
//! A syllable is an initial consonant (possibly none), a vowel nucleus from
//! the closed set Vietnamese spelling allows, an optional final consonant
//! compatible with that nucleus, at most one tone mark, placed on the vowel
//! the spelling rules put it on, and only sắc/nặng before a stop final
//! (c, ch, p, t). Misdecoded text breaks these rules quickly: stray symbols,
//! two tone marks in one word, impossible vowel runs (`aư`, `uyư`), tones on
//! the wrong vowel (`leõ`).

use super::letters::{Letter, Tone};
use super::lexicon;

const INITIALS: [&str; 28] = [
    "", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n", "ng", "ngh",
    "nh", "p", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x",
];
/// `k` is not standard spelling but common in Central Highlands names (Đắk Lắk).
const FINALS: [&str; 10] = ["", "c", "ch", "k", "m", "n", "ng", "nh", "p", "t"];
const VOWELS: [char; 12] = ['a', 'ă', 'â', 'e', 'ê', 'i', 'o', 'ô', 'ơ', 'u', 'ư', 'y'];
const MODIFIED: [char; 6] = ['ă', 'â', 'ê', 'ô', 'ơ', 'ư'];

/// Nuclei that end the syllable: no final consonant may follow.
const OPEN_ONLY: [&str; 32] = [
    "ai", "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia", "iu", "oi", "ôi", "ơi", "ui", "ưi", "ưu",
    "ua", "ưa", "uôi", "ươi", "ươu", "iêu", "yêu", "oai", "oay", "oao", "oeo", "uây", "uya", "uyu",
    "uơ", "y",
];
/// Nuclei that may end the syllable or take a final.
const OPEN_OR_CLOSED: [&str; 13] = [
    "a", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "oa", "oe", "uê", "uy",
];
const BEFORE_CH_NH: [&str; 6] = ["a", "ê", "i", "oa", "uê", "uy"];
const BEFORE_C_NG: [&str; 16] = [
    "a", "ă", "â", "e", "o", "ô", "u", "ư", "iê", "yê", "uô", "ươ", "oa", "oă", "uâ", "oo",
];
const BEFORE_M_N_P_T: [&str; 19] = [
    "a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "iê", "yê", "uô", "ươ", "oa", "oă",
    "oe", "uâ",
];
/// `uy` takes only t and p among these (huýt, tuýp); `uyê` only n and t.
const UY_BEFORE: [(&str, &str); 4] = [("uy", "t"), ("uy", "p"), ("uyê", "n"), ("uyê", "t")];

/// Score of a word with a character outside the Vietnamese alphabet, or
/// with two tone marks.
pub(crate) const NOT_LETTERS: f32 = 0.0;
/// Score of letters that do not form a syllable.
pub(crate) const NOT_A_SYLLABLE: f32 = 0.2;
/// Score of a syllable with its tone on the wrong vowel.
const MISPLACED_TONE: f32 = 0.4;
/// Score of a well-formed syllable that is not in the [`lexicon`].
const SYLLABLE: f32 = 0.8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Shape {
    Other,
    Misplaced,
    Syllable,
}

/// How plausible `word` is as one Vietnamese syllable, in 0..=1: 0 if it
/// has a character that is not a Vietnamese letter or two tone marks, 0.2 if
/// its letters do not form a syllable, 0.4 if its tone is misplaced, 0.8
/// for a syllable and 1 for one of the common syllables of [`lexicon`].
pub(crate) fn score(word: &str) -> f32 {
    let Some(parsed) = Word::parse(word) else {
        return NOT_LETTERS;
    };
    match parsed.shape() {
        Shape::Other => NOT_A_SYLLABLE,
        Shape::Misplaced => MISPLACED_TONE,
        Shape::Syllable if lexicon::is_common(&word.to_lowercase()) => 1.0,
        Shape::Syllable => SYLLABLE,
    }
}

/// Whether `word` is a well-formed syllable with its tone in place.
#[cfg(test)]
pub(crate) fn is_valid(word: &str) -> bool {
    Word::parse(word).is_some_and(|w| w.shape() == Shape::Syllable)
}

/// A word in lower case without its tone, and the tone with its position.
struct Word {
    plain: String,
    tone: Option<(Tone, usize)>,
}

impl Word {
    fn parse(word: &str) -> Option<Word> {
        let mut plain = String::with_capacity(word.len());
        let mut tone = None;
        for (i, c) in word.chars().enumerate() {
            let letter = Letter::split(c)?;
            if let Some(t) = letter.tone {
                if tone.replace((t, i)).is_some() {
                    return None;
                }
            }
            plain.extend(letter.toneless().compose()?.to_lowercase());
        }
        (!plain.is_empty()).then_some(Word { plain, tone })
    }

    /// The best reading over every initial consonant the word starts with.
    fn shape(&self) -> Shape {
        INITIALS
            .iter()
            .filter(|i| self.plain.starts_with(**i))
            .map(|i| self.shape_after(i))
            .max()
            .unwrap_or(Shape::Other)
    }

    fn shape_after(&self, initial: &str) -> Shape {
        let rest = &self.plain[initial.len()..];
        let cut = rest.find(|c| !VOWELS.contains(&c)).unwrap_or(rest.len());
        let (nucleus, last) = rest.split_at(cut);
        let skip = initial.chars().count();
        let tone_at = match self.tone {
            Some((_, i)) if i < skip => return Shape::Other,
            Some((t, i)) => Some((t, i - skip)),
            None => None,
        };
        if nucleus.is_empty() || !FINALS.contains(&last) || !tone_fits(tone_at, last) {
            return Shape::Other;
        }
        if rhyme_ok(nucleus, last) {
            let at = tone_at.map(|(_, i)| i);
            return if tone_placed(nucleus, last, at) {
                Shape::Syllable
            } else {
                Shape::Misplaced
            };
        }
        // After `qu` the `u` is a glide of the nucleus: quỳnh = q + uynh.
        if initial == "qu" && rhyme_ok(&format!("u{nucleus}"), last) {
            return Shape::Syllable;
        }
        Shape::Other
    }
}

/// Stop finals only take the sắc or nặng tone.
fn tone_fits(tone: Option<(Tone, usize)>, last: &str) -> bool {
    let stop = matches!(last, "c" | "ch" | "k" | "p" | "t");
    !stop || matches!(tone, Some((Tone::Acute | Tone::Dot, _)))
}

fn rhyme_ok(nucleus: &str, last: &str) -> bool {
    match last {
        "" => OPEN_ONLY.contains(&nucleus) || OPEN_OR_CLOSED.contains(&nucleus),
        "ch" | "nh" => BEFORE_CH_NH.contains(&nucleus),
        "c" | "ng" | "k" => BEFORE_C_NG.contains(&nucleus),
        _ => BEFORE_M_N_P_T.contains(&nucleus) || UY_BEFORE.contains(&(nucleus, last)),
    }
}

/// Whether the tone sits where the spelling rules put it: on the (last)
/// modified vowel; else on the last vowel before a final; else on the first
/// of two vowels (either for `oa`, `oe`, `uy`: old and new styles) or the
/// middle of three.
fn tone_placed(nucleus: &str, last: &str, at: Option<usize>) -> bool {
    let Some(at) = at else {
        return true;
    };
    let vowels: Vec<char> = nucleus.chars().collect();
    if let Some(m) = vowels.iter().rposition(|c| MODIFIED.contains(c)) {
        return at == m;
    }
    match vowels.len() {
        n if !last.is_empty() => at + 1 == n,
        1 => at == 0,
        2 => at == 0 || matches!(nucleus, "oa" | "oe" | "uy"),
        _ => at == 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_syllable(w: &str) -> bool {
        score(w) >= 0.7
    }

    #[test]
    fn real_syllables_pass() {
        let words = [
            "Nguyễn",
            "Văn",
            "Đức",
            "thửa",
            "đất",
            "số",
            "xã",
            "Tân",
            "Mỹ",
            "Chánh",
            "trồng",
            "lúa",
            "huyện",
            "Chợ",
            "Gạo",
            "tỉnh",
            "Tiền",
            "Giang",
            "phường",
            "nghĩa",
            "quốc",
            "hoàng",
            "hòa",
            "hoà",
            "thủy",
            "thuỷ",
            "huỳnh",
            "quỳnh",
            "quyết",
            "nguyệt",
            "giữa",
            "gì",
            "giếng",
            "người",
            "rượu",
            "khuya",
            "khuỷu",
            "ngoẹo",
            "thuở",
            "xoong",
            "Đắk",
            "Lắk",
            "kênh",
            "rạch",
            "suối",
            "ấp",
            "yến",
            "oanh",
            "huýt",
            "NGUYỄN",
            "ĐỨC",
            "ươm",
            "A",
            "ý",
        ];
        for w in words {
            assert!(is_syllable(w), "{w}: {}", score(w));
        }
    }

    #[test]
    fn misdecodings_fail() {
        let cases = [
            ("Nguy\u{A8}n", NOT_LETTERS), // a symbol
            ("Nguyờịn", NOT_LETTERS),     // two tones
            ("ẹửực", NOT_LETTERS),
            ("Chaựnh", NOT_A_SYLLABLE), // aư is no nucleus
            ("huyưn", NOT_A_SYLLABLE),
            ("cafộ", NOT_A_SYLLABLE),
            ("Münster", NOT_LETTERS),
            ("àt", NOT_A_SYLLABLE), // huyền before a stop final
            ("leõ", MISPLACED_TONE),
            ("thiũ", MISPLACED_TONE),
            ("B\u{301}nh", NOT_LETTERS), // a combining mark left over
            ("", NOT_LETTERS),
        ];
        for (w, expected) in cases {
            assert_eq!(score(w), expected, "{w}");
        }
    }

    #[test]
    fn common_syllables_score_higher() {
        assert_eq!(score("Văn"), 1.0);
        assert_eq!(score("vón"), SYLLABLE);
        assert_eq!(score("TUẤN"), 1.0);
    }

    #[test]
    fn rhymes_that_do_not_exist() {
        for w in ["tuỷm", "tuềm", "khuyênh", "ơng"] {
            assert_ne!(score(w), SYLLABLE, "{w}");
        }
        assert_eq!(score("inh"), SYLLABLE);
    }
}
