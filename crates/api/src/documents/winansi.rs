//! Text for the built-in PDF fonts: Unicode → `WinAnsiEncoding` bytes, and measuring them.
//!
//! The renderer embeds no font (an embedded font with Cyrillic would cost ~100 KB per file and a
//! font-subsetting dependency), so everything it prints must exist in WinAnsi (Latin-1 plus a few
//! typographic marks). What does not is transliterated rather than dropped, so names stay
//! recognisable: Uzbek Latin `oʻ gʻ` (modifier letters) become `o' g'`, Cyrillic follows the
//! Uzbek Cyrillic-to-Latin rules (`Тошкент` → `Toshkent`, `ў` → `o'`, `ж` → `j`, `х` → `x`), a few
//! Turkic letters lose their marks (`ş` → `s`, `ə` → `a`) and anything else prints as `?`.

use super::metrics::{HELVETICA, HELVETICA_BOLD};

/// The two faces documents use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Font {
    Regular,
    Bold,
}

impl Font {
    /// The width of `text` (WinAnsi bytes) at `size` points.
    pub(super) fn width(self, text: &[u8], size: f32) -> f32 {
        let table = match self {
            Font::Regular => &HELVETICA,
            Font::Bold => &HELVETICA_BOLD,
        };
        let units: u32 = text
            .iter()
            .map(|&byte| u32::from(table[usize::from(byte.max(32)) - 32]))
            .sum();
        units as f32 * size / 1000.0
    }
}

/// `text` as WinAnsi bytes, transliterating what the encoding lacks (see the module comment).
/// Control characters (tabs, line breaks) become spaces: callers split lines beforehand.
pub(super) fn encode(text: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(text.len());
    for c in text.chars() {
        if let Some(byte) = byte_of(c) {
            bytes.push(byte);
        } else if let Some(latin) = transliteration(c) {
            bytes.extend_from_slice(latin.as_bytes());
        } else if c.is_control() || c.is_whitespace() {
            bytes.push(b' ');
        } else if !is_invisible(c) {
            bytes.push(b'?');
        }
    }
    bytes
}

/// The WinAnsi code of `c`, if it has one. No-break spaces print as plain spaces so that text
/// extracted from the PDF compares equal to the source.
fn byte_of(c: char) -> Option<u8> {
    let code = u32::from(c);
    match code {
        0x20..=0x7E => u8::try_from(code).ok(),
        0xA0 => Some(b' '),
        0xA1..=0xFF if code != 0xAD => u8::try_from(code).ok(),
        _ => Some(match c {
            '€' => 0x80,
            '‚' => 0x82,
            'ƒ' => 0x83,
            '„' => 0x84,
            '…' => 0x85,
            '†' => 0x86,
            '‡' => 0x87,
            'ˆ' => 0x88,
            '‰' => 0x89,
            'Š' => 0x8A,
            '‹' => 0x8B,
            'Œ' => 0x8C,
            'Ž' => 0x8E,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '˜' => 0x98,
            '™' => 0x99,
            'š' => 0x9A,
            '›' => 0x9B,
            'œ' => 0x9C,
            'ž' => 0x9E,
            'Ÿ' => 0x9F,
            '\u{2009}' | '\u{202F}' | '\u{2007}' => b' ',
            '\u{2212}' | '\u{2010}' | '\u{2011}' => b'-',
            _ => return None,
        }),
    }
}

/// Characters that have no glyph of their own and are simply left out.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}'
    )
}

/// A Latin spelling of `c`, for letters WinAnsi lacks.
fn transliteration(c: char) -> Option<&'static str> {
    let lower = c.to_lowercase().next().unwrap_or(c);
    let latin = match lower {
        // Uzbek Latin apostrophes (oʻ, gʻ, and the tutuq belgisi ʼ).
        'ʻ' | 'ʼ' | 'ʹ' | 'ˈ' => return Some("'"),
        'i' if c == 'İ' => return Some("I"),
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "g",
        'д' => "d",
        'е' | 'э' | 'є' => "e",
        'ё' => "yo",
        'ж' => "j",
        'з' => "z",
        'и' | 'і' | 'ы' => "i",
        'й' => "y",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' | 'ө' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' | 'ү' | 'ұ' => "u",
        'ф' => "f",
        'х' => "x",
        'ц' => "ts",
        'ч' => "ch",
        'ш' | 'щ' => "sh",
        'ъ' => "'",
        'ь' => "",
        'ю' => "yu",
        'я' => "ya",
        'ў' => "o'",
        'қ' => "q",
        'ғ' => "g'",
        'ҳ' | 'һ' => "h",
        'ң' => "ng",
        'ї' => "yi",
        'ґ' => "g",
        'ә' | 'ə' => "a",
        'ğ' => "g",
        'ş' | 'ș' => "s",
        'ţ' | 'ț' => "t",
        'ı' => "i",
        _ => return None,
    };
    if lower == c || latin.is_empty() || latin == "'" {
        return Some(latin);
    }
    Some(capitalised(latin))
}

/// The capitalised form of a lowercase transliteration (`sh` → `Sh`).
fn capitalised(latin: &'static str) -> &'static str {
    match latin {
        "a" => "A",
        "b" => "B",
        "v" => "V",
        "g" => "G",
        "d" => "D",
        "e" => "E",
        "yo" => "Yo",
        "j" => "J",
        "z" => "Z",
        "i" => "I",
        "y" => "Y",
        "k" => "K",
        "l" => "L",
        "m" => "M",
        "n" => "N",
        "o" => "O",
        "p" => "P",
        "r" => "R",
        "s" => "S",
        "t" => "T",
        "u" => "U",
        "f" => "F",
        "x" => "X",
        "ts" => "Ts",
        "ch" => "Ch",
        "sh" => "Sh",
        "yu" => "Yu",
        "ya" => "Ya",
        "o'" => "O'",
        "q" => "Q",
        "g'" => "G'",
        "h" => "H",
        "ng" => "Ng",
        "yi" => "Yi",
        other => other,
    }
}

/// Greedy word wrap of `text` into lines no wider than `width`; a word wider than a whole line
/// is cut between characters. Never returns an empty list (an empty text is one empty line).
pub(super) fn wrap(font: Font, size: f32, text: &[u8], width: f32) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    for word in text.split(|&b| b == b' ').filter(|word| !word.is_empty()) {
        let mut candidate = line.clone();
        if !candidate.is_empty() {
            candidate.push(b' ');
        }
        candidate.extend_from_slice(word);
        if font.width(&candidate, size) <= width {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        for &byte in word {
            line.push(byte);
            if font.width(&line, size) > width && line.len() > 1 {
                line.pop();
                lines.push(std::mem::replace(&mut line, vec![byte]));
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// `text` cut to fit `width`, ending with an ellipsis when something was cut.
pub(super) fn fit(font: Font, size: f32, text: &[u8], width: f32) -> Vec<u8> {
    if font.width(text, size) <= width {
        return text.to_vec();
    }
    const ELLIPSIS: u8 = 0x85;
    let mut cut = text.to_vec();
    while !cut.is_empty() {
        cut.pop();
        let mut candidate = cut.clone();
        while candidate.last() == Some(&b' ') {
            candidate.pop();
        }
        candidate.push(ELLIPSIS);
        if font.width(&candidate, size) <= width {
            return candidate;
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_1_passes_through_and_the_rest_is_transliterated() {
        assert_eq!(encode("Café – 66.67%"), b"Caf\xE9 \x96 66.67%");
        assert_eq!(encode("Oʻlmas Gʻulomov"), b"O'lmas G'ulomov");
        assert_eq!(encode("Тошкент Ўрол ШАҲАР"), b"Toshkent O'rol ShAHAR");
        assert_eq!(encode("李\u{A0}x\ty"), b"? x y");
    }

    #[test]
    fn measures_with_the_afm_widths() {
        // "Hi" = H 722 + i 222 in Helvetica; H 722 + i 278 in bold.
        assert!((Font::Regular.width(b"Hi", 10.0) - 9.44).abs() < 1e-4);
        assert!((Font::Bold.width(b"Hi", 10.0) - 10.0).abs() < 1e-4);
    }

    #[test]
    fn wraps_words_and_cuts_long_ones() {
        let lines = wrap(Font::Regular, 10.0, b"aaa bbb ccc", 40.0);
        assert_eq!(lines, vec![b"aaa bbb".to_vec(), b"ccc".to_vec()]);
        let lines = wrap(Font::Regular, 10.0, b"0123456789", 20.0);
        assert!(lines.len() > 1 && lines.concat() == b"0123456789");
        assert_eq!(wrap(Font::Regular, 10.0, b"", 20.0), vec![Vec::<u8>::new()]);
    }

    #[test]
    fn fit_cuts_with_an_ellipsis() {
        assert_eq!(fit(Font::Regular, 10.0, b"short", 100.0), b"short");
        let cut = fit(Font::Regular, 10.0, b"a rather long text", 40.0);
        assert_eq!(cut.last(), Some(&0x85));
        assert!(Font::Regular.width(&cut, 10.0) <= 40.0);
    }
}
