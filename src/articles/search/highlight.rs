//! What a search result shows of its match: the title and a snippet with the matching words
//! wrapped in `<mark>`, the rest HTML-escaped. Words match when they are indexed as a term of
//! the query (`analysis`), so a highlight marks what the search found, on either database.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::analysis::{self, Matcher, Stemming};
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

/// `text[from..to]` as HTML with the matching ones of its `words` marked.
fn render(
    out: &mut String,
    text: &str,
    words: &[(usize, &str)],
    matcher: &Matcher<'_>,
    (from, to): (usize, usize),
) {
    let mut at = from;
    for &(start, word) in words {
        if start < from || start + word.len() > to || !matcher.matches(word) {
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

/// The words of a text and the index of its first match.
fn first_match<'t>(text: &'t str, matcher: &Matcher<'_>) -> (Vec<(usize, &'t str)>, Option<usize>) {
    let words: Vec<(usize, &str)> = analysis::words(text).collect();
    let first = words.iter().position(|(_, w)| matcher.matches(w));
    (words, first)
}

/// The highlight of a result for a query's terms. Only the words up to the first match and
/// those shown are looked at.
pub fn highlight(terms: &HashSet<&str>, text: &Text<'_>) -> Highlight {
    let matcher = Matcher::new(terms, Stemming::of(text.language));
    let mut title = String::with_capacity(text.title.len() + 16);
    let title_words: Vec<(usize, &str)> = analysis::words(text.title).collect();
    render(
        &mut title,
        text.title,
        &title_words,
        &matcher,
        (0, text.title.len()),
    );

    let (mut source, (mut words, mut first)) = (text.summary, first_match(text.summary, &matcher));
    if first.is_none() && !text.body.trim().is_empty() {
        let (body_words, body_first) = first_match(text.body, &matcher);
        if body_first.is_some() || text.summary.trim().is_empty() {
            (source, words, first) = (text.body, body_words, body_first);
        }
    }
    let start = first.unwrap_or(0).saturating_sub(LEAD_WORDS);
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
        render(
            &mut snippet,
            source,
            &words[start..end],
            &matcher,
            (from, to),
        );
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
