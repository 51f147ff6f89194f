//! How alike two calls' key words are.

use std::collections::BTreeSet;

/// Jaccard overlap of two key-word lists (case and surrounding spaces ignored): shared words
/// over all distinct words, 0–1, with the shared words sorted.
pub fn key_word_overlap(a: &[String], b: &[String]) -> (f64, Vec<String>) {
    let words = |list: &[String]| -> BTreeSet<String> {
        list.iter()
            .map(|w| w.trim().to_lowercase())
            .filter(|w| !w.is_empty())
            .collect()
    };
    let (a, b) = (words(a), words(b));
    let shared: Vec<String> = a.intersection(&b).cloned().collect();
    let all = a.union(&b).count();
    if all == 0 {
        return (0.0, shared);
    }
    (shared.len() as f64 / all as f64, shared)
}

#[cfg(test)]
mod tests {
    use super::key_word_overlap;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn shared_over_distinct_ignoring_case() {
        let (score, shared) = key_word_overlap(
            &words(&["Kredit", "karta", "foiz"]),
            &words(&["kredit ", "FOIZ", "muddat", "bank"]),
        );
        // {kredit, foiz} shared of {kredit, karta, foiz, muddat, bank}.
        assert_eq!(shared, words(&["foiz", "kredit"]));
        assert!((score - 0.4).abs() < 1e-9);
    }

    #[test]
    fn nothing_in_common_or_nothing_at_all() {
        assert_eq!(
            key_word_overlap(&words(&["a"]), &words(&["b"])),
            (0.0, vec![])
        );
        assert_eq!(key_word_overlap(&[], &[]), (0.0, vec![]));
    }
}
