//! The Vietnamese letter model shared by the legacy codecs and the detector.
//!
//! A Vietnamese letter is a base (an ASCII letter, or `đ`/`Đ`), at most one
//! vowel modifier (circumflex `â ê ô`, breve `ă`, horn `ơ ư`) and at most one
//! tone mark (grave, acute, hook above, tilde, dot below). [`Letter::split`]
//! takes a precomposed character apart and [`Letter::compose`] puts it back
//! together, both through Unicode canonical (de)composition, without
//! allocating.

use unicode_normalization::char::{compose, decompose_canonical};

/// One of the five written Vietnamese tones (the sixth, level, has no mark).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    Grave,
    Acute,
    Hook,
    Tilde,
    Dot,
}

impl Tone {
    pub(crate) const ALL: [Tone; 5] =
        [Tone::Grave, Tone::Acute, Tone::Hook, Tone::Tilde, Tone::Dot];

    /// The Unicode combining mark of this tone.
    pub(crate) const fn mark(self) -> char {
        match self {
            Tone::Grave => '\u{300}',
            Tone::Acute => '\u{301}',
            Tone::Hook => '\u{309}',
            Tone::Tilde => '\u{303}',
            Tone::Dot => '\u{323}',
        }
    }

    pub(crate) fn from_mark(c: char) -> Option<Tone> {
        Tone::ALL.into_iter().find(|t| t.mark() == c)
    }
}

/// A vowel modifier: what turns `a` into `â`/`ă`, `o` into `ô`/`ơ`, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Modifier {
    Circumflex,
    Breve,
    Horn,
}

impl Modifier {
    const ALL: [Modifier; 3] = [Modifier::Circumflex, Modifier::Breve, Modifier::Horn];

    const fn mark(self) -> char {
        match self {
            Modifier::Circumflex => '\u{302}',
            Modifier::Breve => '\u{306}',
            Modifier::Horn => '\u{31B}',
        }
    }

    fn from_mark(c: char) -> Option<Modifier> {
        Modifier::ALL.into_iter().find(|m| m.mark() == c)
    }

    /// Whether Vietnamese spelling puts this modifier on `base`.
    fn fits(self, base: char) -> bool {
        let base = base.to_ascii_lowercase();
        match self {
            Modifier::Circumflex => matches!(base, 'a' | 'e' | 'o'),
            Modifier::Breve => base == 'a',
            Modifier::Horn => matches!(base, 'o' | 'u'),
        }
    }
}

/// A letter of the Vietnamese alphabet, taken apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Letter {
    /// An ASCII letter, or `đ`/`Đ`; its case is the letter's case.
    pub(crate) base: char,
    pub(crate) modifier: Option<Modifier>,
    pub(crate) tone: Option<Tone>,
}

impl Letter {
    /// Takes `c` apart; `None` unless `c` is an ASCII letter, `đ`/`Đ` or a
    /// Vietnamese vowel letter (with at most one modifier and one tone).
    pub(crate) fn split(c: char) -> Option<Letter> {
        let plain = Letter {
            base: c,
            modifier: None,
            tone: None,
        };
        if c.is_ascii_alphabetic() || c == 'đ' || c == 'Đ' {
            return Some(plain);
        }
        let mut parts = ['\0'; 4];
        let mut count = 0;
        decompose_canonical(c, |d| {
            if let Some(slot) = parts.get_mut(count) {
                *slot = d;
            }
            count += 1;
        });
        let (&base, marks) = parts.get(..count)?.split_first()?;
        if !base.is_ascii_alphabetic() || marks.is_empty() {
            return None;
        }
        let mut letter = Letter { base, ..plain };
        for &m in marks {
            letter = letter.with_mark(m)?;
        }
        letter.is_valid().then_some(letter)
    }

    fn with_mark(self, m: char) -> Option<Letter> {
        if let Some(t) = Tone::from_mark(m) {
            return self.tone.is_none().then_some(Letter {
                tone: Some(t),
                ..self
            });
        }
        let modifier = Modifier::from_mark(m)?;
        self.modifier.is_none().then_some(Letter {
            modifier: Some(modifier),
            ..self
        })
    }

    /// Whether this is a letter of the Vietnamese alphabet.
    pub(crate) fn is_valid(self) -> bool {
        let vowel = matches!(
            self.base.to_ascii_lowercase(),
            'a' | 'e' | 'i' | 'o' | 'u' | 'y'
        );
        let modifier_ok = self.modifier.is_none_or(|m| m.fits(self.base));
        let tone_ok = self.tone.is_none() || vowel;
        (self.base.is_ascii_alphabetic() || self.base == 'đ' || self.base == 'Đ')
            && modifier_ok
            && tone_ok
    }

    /// The precomposed character; `None` if this is not a Vietnamese letter.
    pub(crate) fn compose(self) -> Option<char> {
        if !self.is_valid() {
            return None;
        }
        // Marks go in canonical order: horn (ccc 216), dot below (220), then
        // the ccc-230 marks with the modifier before the tone.
        let horn = (self.modifier == Some(Modifier::Horn)).then_some(Modifier::Horn.mark());
        let dot = (self.tone == Some(Tone::Dot)).then_some(Tone::Dot.mark());
        let hat = self
            .modifier
            .filter(|m| *m != Modifier::Horn)
            .map(Modifier::mark);
        let tone = self.tone.filter(|t| *t != Tone::Dot).map(Tone::mark);
        [horn, dot, hat, tone]
            .into_iter()
            .flatten()
            .try_fold(self.base, compose)
    }

    /// The same letter without its tone mark.
    pub(crate) fn toneless(self) -> Letter {
        Letter { tone: None, ..self }
    }

    pub(crate) fn is_upper(self) -> bool {
        self.base.is_uppercase()
    }
}

/// `c` in lower case when that is a single character, else `c` itself.
pub(crate) fn to_lower(c: char) -> char {
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// `c` in upper case when that is a single character, else `c` itself.
pub(crate) fn to_upper(c: char) -> char {
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::vietnamese_letters;
    use super::*;

    #[test]
    fn every_vietnamese_letter_splits_and_composes_back() {
        for c in vietnamese_letters() {
            let letter = Letter::split(c).unwrap_or_else(|| panic!("{c} did not split"));
            assert_eq!(letter.compose(), Some(c), "{c} {letter:?}");
            assert_eq!(letter.is_upper(), c.is_uppercase(), "{c}");
        }
    }

    #[test]
    fn split_knows_the_parts() {
        let l = Letter::split('ặ').unwrap();
        assert_eq!(
            (l.base, l.modifier, l.tone),
            ('a', Some(Modifier::Breve), Some(Tone::Dot))
        );
        let l = Letter::split('Ợ').unwrap();
        assert_eq!(
            (l.base, l.modifier, l.tone),
            ('O', Some(Modifier::Horn), Some(Tone::Dot))
        );
        assert_eq!(Letter::split('ấ').unwrap().toneless().compose(), Some('â'));
    }

    #[test]
    fn split_rejects_what_is_not_vietnamese() {
        for c in ['ü', 'ñ', 'ç', 'ǹ', 'Ж', '1', ' ', '\u{301}', 'ø', 'å', 'ǘ'] {
            assert_eq!(Letter::split(c), None, "{c}");
        }
    }

    #[test]
    fn compose_rejects_impossible_letters() {
        let bad = [
            ('e', Some(Modifier::Breve), None),
            ('i', Some(Modifier::Circumflex), None),
            ('b', None, Some(Tone::Acute)),
            ('đ', None, Some(Tone::Grave)),
        ];
        for (base, modifier, tone) in bad {
            let l = Letter {
                base,
                modifier,
                tone,
            };
            assert_eq!(l.compose(), None, "{l:?}");
        }
    }

    #[test]
    fn case_helpers() {
        assert_eq!(to_lower('Ấ'), 'ấ');
        assert_eq!(to_upper('đ'), 'Đ');
        assert_eq!(to_upper('ß'), 'ß');
    }
}
