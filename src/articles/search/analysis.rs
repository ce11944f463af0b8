//! How text becomes search terms, in one place for both databases, for the indexed text, the
//! query and the highlights alike: words are the runs of letters and digits; a word is folded
//! (Unicode lower case, diacritics dropped, so `ё` is `е` and `é` is `e`; `й` stays a letter of
//! its own) and then stemmed by the Snowball stemmer of the article's language where the word is
//! in that language's script (English: Latin, Russian: Cyrillic). Other languages and other
//! scripts are folded without stemming.

use std::sync::LazyLock;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

static ENGLISH: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::English));
static RUSSIAN: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::Russian));

/// The stemmer a text is indexed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stemming {
    English,
    Russian,
    /// Folding only.
    None,
}

impl Stemming {
    /// The stemming of an article in `language` (a BCP 47 tag).
    pub fn of(language: &str) -> Self {
        match language.split('-').next().unwrap_or("") {
            "en" => Stemming::English,
            "ru" => Stemming::Russian,
            _ => Stemming::None,
        }
    }

    /// The term of a folded word, stemmed when the word is written in this language's script.
    fn stem(self, folded: String) -> String {
        match (self, script(&folded)) {
            (Stemming::English, Script::Latin) => ENGLISH.stem(&folded).into_owned(),
            (Stemming::Russian, Script::Cyrillic) => RUSSIAN.stem(&folded).into_owned(),
            _ => folded,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Cyrillic,
    Other,
}

/// The script of a word: that of its first letter.
fn script(word: &str) -> Script {
    match word.chars().find(|c| c.is_alphabetic()) {
        Some(c) if c.is_ascii_alphabetic() || ('\u{00c0}'..='\u{024f}').contains(&c) => {
            Script::Latin
        }
        Some(c) if ('\u{0400}'..='\u{052f}').contains(&c) => Script::Cyrillic,
        _ => Script::Other,
    }
}

fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    ('\u{0400}'..='\u{04ff}').contains(&c) || c.is_alphanumeric() || is_combining_mark(c)
}

/// The words of a text with their byte ranges.
pub fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut rest = text.char_indices().peekable();
    std::iter::from_fn(move || {
        let (start, _) = rest.by_ref().find(|(_, c)| is_word_char(*c))?;
        let mut end = text.len();
        while let Some(&(at, c)) = rest.peek() {
            if !is_word_char(c) {
                end = at;
                break;
            }
            rest.next();
        }
        Some((start, &text[start..end]))
    })
}

/// A word in lower case without diacritics.
pub fn fold(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        // Latin and the Russian alphabet but `ё` have no diacritics to drop.
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        if ('\u{0410}'..='\u{044f}').contains(&c) {
            out.extend(c.to_lowercase());
            continue;
        }
        for c in c.to_lowercase() {
            if c == 'й' {
                out.push(c);
                continue;
            }
            out.extend(std::iter::once(c).nfd().filter(|d| !is_combining_mark(*d)));
        }
    }
    out
}

/// Whether a word of a text in `stemming` is indexed as one of `terms`. Stems keep the start
/// of their word, so a word whose first two letters begin no term is not stemmed at all.
pub struct Matcher<'a> {
    terms: &'a std::collections::HashSet<&'a str>,
    heads: std::collections::HashSet<String>,
    stemming: Stemming,
}

/// The first two letters of a word, folded (from its first four characters, which may hold
/// combining marks).
fn head(word: &str) -> String {
    let end = word.char_indices().nth(4).map_or(word.len(), |(at, _)| at);
    fold(&word[..end]).chars().take(2).collect()
}

impl<'a> Matcher<'a> {
    pub fn new(terms: &'a std::collections::HashSet<&'a str>, stemming: Stemming) -> Self {
        let heads = terms.iter().map(|t| head(t)).collect();
        Self {
            terms,
            heads,
            stemming,
        }
    }

    pub fn matches(&self, word: &str) -> bool {
        self.heads.contains(&head(word))
            && self.terms.contains(self.stemming.stem(fold(word)).as_str())
    }
}

/// The term a word of a text in this stemming is indexed as.
pub fn term(word: &str, stemming: Stemming) -> String {
    stemming.stem(fold(word))
}

/// The terms a word typed into a search may be indexed as: folded, and stemmed as a word of
/// its script's language (a query does not say which language it is in).
pub fn query_terms(word: &str) -> Vec<String> {
    let folded = fold(word);
    let stemmed = match script(&folded) {
        Script::Latin => Stemming::English.stem(folded.clone()),
        Script::Cyrillic => Stemming::Russian.stem(folded.clone()),
        Script::Other => folded.clone(),
    };
    if stemmed == folded {
        vec![folded]
    } else {
        vec![stemmed, folded]
    }
}

/// A text as the space-separated terms that are indexed.
pub fn index_text(text: &str, stemming: Stemming) -> String {
    let mut out = String::with_capacity(text.len());
    for (_, word) in words(text) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&term(word, stemming));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_runs_of_letters_and_digits() {
        let found: Vec<_> = words("Hello, мир! 2026—e-mail").collect();
        assert_eq!(
            found,
            [
                (0, "Hello"),
                (7, "мир"),
                (15, "2026"),
                (22, "e"),
                (24, "mail")
            ]
        );
        assert_eq!(words("  ,. ").count(), 0);
    }

    #[test]
    fn folding_drops_case_and_diacritics_but_keeps_short_i() {
        assert_eq!(fold("Ёлка"), "елка");
        assert_eq!(fold("Café"), "cafe");
        assert_eq!(fold("Йод"), "йод");
        assert_eq!(fold("ÜBER"), "uber");
    }

    #[test]
    fn words_are_stemmed_in_their_language_and_script() {
        assert_eq!(
            term("границы", Stemming::Russian),
            term("граница", Stemming::Russian)
        );
        assert_eq!(term("границе", Stemming::Russian), "границ");
        assert_eq!(term("treaties", Stemming::English), "treati");
        // Latin words in a Russian article, and Tajik, are folded only.
        assert_eq!(term("Gazprom", Stemming::Russian), "gazprom");
        assert_eq!(term("Душанбе", Stemming::None), "душанбе");
    }

    #[test]
    fn a_query_word_matches_stemmed_and_unstemmed_text() {
        assert_eq!(query_terms("Границы"), ["границ", "границы"]);
        assert_eq!(query_terms("border"), ["border"]);
        assert_eq!(query_terms("Душанбе"), ["душанб", "душанбе"]);
    }
}
