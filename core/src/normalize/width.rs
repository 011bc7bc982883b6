//! Width folding: the full-width forms of ASCII that CJK forms and keyboards produce
//! (`１３８`, `（`, `－`, `＋`, `＠`, the ideographic space) read as their ASCII counterparts.

use std::borrow::Cow;

/// Folds the full-width ASCII variants U+FF01..U+FF5E (`！`..`～`) to U+0021..U+007E and the
/// ideographic space U+3000 to a space; every other character is kept. This is exactly what
/// Unicode's NFKC normalisation does to these characters, without its other effects (NFKC would
/// also turn `①` into `1`, `ｶ` into `カ` and ligatures into letters, which no normaliser here
/// wants).
///
/// Borrows when there is nothing to fold, which is the common case: one pass over the bytes.
pub fn fold_width(s: &str) -> Cow<'_, str> {
    // Every character folded here is encoded as EF BC xx, EF BD xx or E3 80 80.
    if !s.bytes().any(|b| b == 0xEF || b == 0xE3) || !s.chars().any(is_wide) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().map(fold_char).collect())
}

fn is_wide(c: char) -> bool {
    matches!(c, '\u{FF01}'..='\u{FF5E}' | '\u{3000}')
}

fn fold_char(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFF01 + 0x21).unwrap_or(c),
        '\u{3000}' => ' ',
        c => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_range_folds_to_printable_ascii() {
        for (i, c) in ('\u{FF01}'..='\u{FF5E}').enumerate() {
            let expected = char::from(b'!' + u8::try_from(i).unwrap());
            assert_eq!(fold_width(&c.to_string()), expected.to_string());
        }
        assert_eq!(fold_width("\u{3000}"), " ");
    }

    #[test]
    fn other_characters_are_kept() {
        for s in [
            "東京都港区",
            "①",
            "ｶﾀｶﾅ",
            "ﬁ",
            "—",
            "１２３ abc",
            "\u{FF00}\u{FF5F}",
        ] {
            let folded = fold_width(s);
            assert_eq!(folded.chars().count(), s.chars().count(), "{s}");
        }
        assert_eq!(fold_width("①"), "①");
        assert_eq!(fold_width("\u{FF00}\u{FF5F}"), "\u{FF00}\u{FF5F}");
        assert!(matches!(fold_width("東京"), Cow::Borrowed(_)));
    }
}

#[cfg(test)]
mod doc_examples {
    //! The examples of this module's documentation.

    #[test]
    fn example_1() {
        use crate::normalize::fold_width;
        assert_eq!(
            fold_width("＋８１　９０－１２３４－５６７８"),
            "+81 90-1234-5678"
        );
        assert_eq!(
            fold_width("ｊａｎｅ＠ｅｘａｍｐｌｅ．ｊｐ"),
            "jane@example.jp"
        );
        assert!(matches!(
            fold_width("plain"),
            std::borrow::Cow::Borrowed("plain")
        ));
    }
}
