//! Which language a question is written in (Uzbek, Russian or English), from its script and
//! its common words. `None` when the text does not say (numbers only, a single unknown
//! word): the caller then uses the user's language setting.

use crate::Language;

/// Letters only Uzbek Cyrillic has.
const UZBEK_CYRILLIC_LETTERS: &[char] = &['ў', 'қ', 'ғ', 'ҳ', 'Ў', 'Қ', 'Ғ', 'Ҳ'];

/// Frequent Uzbek words in Cyrillic script (without the letters above).
const UZBEK_CYRILLIC_WORDS: &[&str] = &[
    "нима",
    "нега",
    "мижоз",
    "учун",
    "билан",
    "бу",
    "ва",
    "эди",
    "нимани",
    "борми",
    "йўқ",
    "ким",
    "кимга",
    "нечта",
    "айтди",
    "сўради",
];

/// Frequent Russian words (question words, pronouns, conjunctions).
const RUSSIAN_WORDS: &[&str] = &[
    "что",
    "как",
    "почему",
    "зачем",
    "когда",
    "где",
    "кто",
    "ли",
    "был",
    "была",
    "было",
    "клиент",
    "клиента",
    "оператор",
    "оператора",
    "звонок",
    "звонка",
    "и",
    "в",
    "на",
    "не",
    "он",
    "она",
    "это",
    "о",
    "чем",
    "чём",
    "сказал",
    "сказала",
    "просил",
    "хотел",
];

/// Frequent Uzbek words in Latin script.
const UZBEK_LATIN_WORDS: &[&str] = &[
    "nima",
    "nimani",
    "nega",
    "nimaga",
    "qanday",
    "qachon",
    "qayerda",
    "qaysi",
    "kim",
    "mijoz",
    "mijozning",
    "uchun",
    "bilan",
    "haqida",
    "edi",
    "va",
    "bu",
    "nechta",
    "bormi",
    "yoq",
    "ha",
    "dedi",
    "soradi",
    "qildi",
    "boldi",
    "kerak",
    "qoniqdimi",
];

/// Frequent English words.
const ENGLISH_WORDS: &[&str] = &[
    "what", "why", "how", "when", "where", "who", "which", "did", "does", "do", "was", "were",
    "is", "are", "the", "a", "an", "of", "to", "and", "client", "customer", "call", "say", "said",
    "ask", "asked", "want", "wanted", "about", "there",
];

/// The language of `text`, when its script or words show it.
pub fn detect(text: &str) -> Option<Language> {
    let (mut cyrillic, mut latin) = (0usize, 0usize);
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        if ('\u{0400}'..='\u{04FF}').contains(&c) {
            cyrillic += 1;
        } else if c.is_ascii_alphabetic() {
            latin += 1;
        }
    }
    if cyrillic == 0 && latin == 0 {
        return None;
    }
    let words = words(text);
    if cyrillic > latin {
        let uzbek = text.contains(UZBEK_CYRILLIC_LETTERS)
            || hits(&words, UZBEK_CYRILLIC_WORDS) > hits(&words, RUSSIAN_WORDS);
        return Some(if uzbek { Language::Uz } else { Language::Ru });
    }
    // Uzbek Latin writes oʻ and gʻ with an apostrophe-like mark; English has no such pairs.
    let uzbek_marks = ["o'", "g'", "oʻ", "gʻ", "o‘", "g‘", "o`", "g`"]
        .iter()
        .any(|mark| text.to_lowercase().contains(mark));
    let uzbek = hits(&words, UZBEK_LATIN_WORDS)
        + words.iter().filter(|w| uzbek_shaped(w)).count()
        + if uzbek_marks { 2 } else { 0 };
    let english = hits(&words, ENGLISH_WORDS);
    match uzbek.cmp(&english) {
        std::cmp::Ordering::Greater => Some(Language::Uz),
        std::cmp::Ordering::Less => Some(Language::En),
        std::cmp::Ordering::Equal => None,
    }
}

/// Lower-cased words, with apostrophes dropped (`bo'ldi` → `boldi`).
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphabetic() || "'ʻ‘`".contains(c)))
        .map(|w| w.chars().filter(|c| c.is_alphabetic()).collect::<String>())
        .filter(|w| !w.is_empty())
        .collect()
}

/// A Latin word with an Uzbek ending (the question particle `-mi`, the cases `-ni`,
/// `-ning`, `-dagi`, the plural `-lar`) or a `q` not followed by `u`, which English lacks.
fn uzbek_shaped(word: &str) -> bool {
    let suffixed = word.chars().count() >= 4
        && ["mi", "ni", "ning", "dagi", "lar"]
            .iter()
            .any(|suffix| word.ends_with(suffix));
    let bare_q = word
        .char_indices()
        .any(|(i, c)| c == 'q' && !word[i + 1..].starts_with('u'));
    suffixed || bare_q
}

fn hits(words: &[String], common: &[&str]) -> usize {
    words
        .iter()
        .filter(|w| common.contains(&w.as_str()))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_and_words_tell_the_three_languages_apart() {
        for (question, language) in [
            ("Mijoz nega norozi bo'ldi?", Language::Uz),
            ("Operator narxni aytdimi?", Language::Uz),
            ("Qo‘ng‘iroq nima haqida edi?", Language::Uz),
            ("Мижоз нега норози бўлди?", Language::Uz),
            ("Почему клиент остался недоволен?", Language::Ru),
            ("Что пообещал оператор?", Language::Ru),
            ("Why was the client unhappy?", Language::En),
            ("Did the operator mention the price?", Language::En),
        ] {
            assert_eq!(detect(question), Some(language), "{question}");
        }
    }

    #[test]
    fn text_that_does_not_say_is_left_to_the_setting() {
        for question in ["?", "12345", "Tarif?", "OK"] {
            assert_eq!(detect(question), None, "{question}");
        }
    }
}
