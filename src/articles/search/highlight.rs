//! What a search result shows of its match: the title and a snippet with the matching words
//! wrapped in `<mark>`, the rest HTML-escaped. Words match when they are indexed as a term of
//! the query (`analysis`), so a highlight marks what the search found, on either database.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::analysis::{self, Stemming};
use crate::articles::html;

/// How many words a snippet shows.
const SNIPPET_WORDS: usize = 30;
/// How many of them come before the first match.
const LEAD_WORDS: usize = 8;

/// The matches of a search result, as HTML: the matching words in `<mark>`, all else escaped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Highlight {
    /// The title.
    #[schema(example = "Tajikistan and Kyrgyzstan sign <mark>border</mark> treaty")]
    pub title: String,
    /// Up to 30 words of the summary or else the body around the first match, with `…` where
    /// text is left out.
    #[schema(example = "… the presidents signed the <mark>border</mark> treaty in Dushanbe …")]
    pub snippet: String,
}

/// The text of one search result.
pub struct Text<'a> {
    pub language: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
    pub body: &'a str,
}

/// The words of `text` with whether each matches.
fn marked<'a>(
    text: &'a str,
    terms: &HashSet<&str>,
    stemming: Stemming,
) -> Vec<(usize, &'a str, bool)> {
    analysis::words(text)
        .map(|(at, word)| {
            let term = analysis::term(word, stemming);
            (at, word, terms.contains(term.as_str()))
        })
        .collect()
}

/// `text[from..to]` as HTML with its matching `words` marked.
fn render(out: &mut String, text: &str, words: &[(usize, &str, bool)], from: usize, to: usize) {
    let mut at = from;
    for &(start, word, _) in words.iter().filter(|(_, _, hit)| *hit) {
        if start < from || start + word.len() > to {
            continue;
        }
        html::escape_into(out, &text[at..start]);
        out.push_str("<mark>");
        html::escape_into(out, word);
        out.push_str("</mark>");
        at = start + word.len();
    }
    html::escape_into(out, &text[at..to]);
}

/// The highlight of a result for a query's terms.
pub fn highlight(terms: &HashSet<&str>, text: &Text<'_>) -> Highlight {
    let stemming = Stemming::of(text.language);
    let mut title = String::with_capacity(text.title.len() + 16);
    let title_words = marked(text.title, terms, stemming);
    render(&mut title, text.title, &title_words, 0, text.title.len());

    let summary = marked(text.summary, terms, stemming);
    let (source, words) = if summary.iter().any(|w| w.2) || text.body.trim().is_empty() {
        (text.summary, summary)
    } else {
        let body = marked(text.body, terms, stemming);
        if body.iter().any(|w| w.2) || text.summary.trim().is_empty() {
            (text.body, body)
        } else {
            (text.summary, summary)
        }
    };
    let first = words.iter().position(|w| w.2).unwrap_or(0);
    let start = first.saturating_sub(LEAD_WORDS);
    let end = (start + SNIPPET_WORDS).min(words.len());
    let mut snippet = String::new();
    if let (Some(head), Some(tail)) = (
        words.get(start),
        end.checked_sub(1).and_then(|e| words.get(e)),
    ) {
        if start > 0 {
            snippet.push_str("… ");
        }
        let from = if start == 0 { 0 } else { head.0 };
        let to = if end == words.len() {
            source.len()
        } else {
            tail.0 + tail.1.len()
        };
        render(&mut snippet, source, &words, from, to);
        if end < words.len() {
            snippet.push_str(" …");
        }
    }
    Highlight { title, snippet }
}

#[cfg(test)]
mod tests {
    use super::super::query::Query;
    use super::*;

    fn of(q: &str, text: &Text<'_>) -> Highlight {
        let query = Query::parse(q);
        highlight(&query.terms(), text)
    }

    #[test]
    fn matches_are_marked_and_the_rest_escaped() {
        let h = of(
            "границы",
            &Text {
                language: "ru",
                title: "Договор о границе <подписан>",
                summary: "",
                body: "Стороны & гости обсудили границу.",
            },
        );
        assert_eq!(h.title, "Договор о <mark>границе</mark> &lt;подписан&gt;");
        assert_eq!(
            h.snippet,
            "Стороны &amp; гости обсудили <mark>границу</mark>."
        );
    }

    #[test]
    fn the_snippet_is_a_window_around_the_first_match() {
        let body = (0..100)
            .map(|i| {
                if i == 50 {
                    "treaty".to_owned()
                } else {
                    format!("w{i}")
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        let h = of(
            "treaties",
            &Text {
                language: "en",
                title: "Talks",
                summary: "No match here",
                body: &body,
            },
        );
        assert!(h.snippet.starts_with("… w42 "), "{}", h.snippet);
        assert!(h.snippet.contains("<mark>treaty</mark>"));
        assert!(h.snippet.ends_with("w71 …"), "{}", h.snippet);
        assert_eq!(h.title, "Talks");
    }
}
