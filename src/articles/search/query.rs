//! What a user types into a search, parsed once and written out for either database.
//!
//! The syntax: words (all must match), `"quoted phrases"` (the words in a row), `a OR b` (either;
//! `OR` in capitals between two terms) and `-word` or `-"phrase"` (must not match). Nothing is a
//! syntax error: punctuation separates words, an unclosed quote runs to the end, a stray `OR` or
//! `-` is ignored, and a query of exclusions only searches for its words.

use std::collections::HashSet;

use super::analysis;

/// The terms one word may be indexed as (see `analysis::query_terms`).
type Alternatives = Vec<String>;

/// One thing to match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Word(Alternatives),
    /// Words in a row.
    Phrase(Vec<Alternatives>),
}

/// A parsed search.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    /// Every group must match; a group matches when any of its items does.
    all: Vec<Vec<Item>>,
    /// No item may match.
    none: Vec<Item>,
}

/// A phrase is written for SQLite as each combination of its words' terms; beyond this many it
/// is written as its words all stemmed, or all folded.
const MAX_PHRASE_FORMS: usize = 32;

/// The fields a match can be confined to, with their PostgreSQL weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fields {
    Any,
    Title,
    Summary,
    TitleAndSummary,
}

impl Fields {
    fn sqlite(self) -> Option<&'static str> {
        match self {
            Fields::Any => None,
            Fields::Title => Some("{title}"),
            Fields::Summary => Some("{summary}"),
            Fields::TitleAndSummary => Some("{title summary}"),
        }
    }

    fn weights(self) -> &'static str {
        match self {
            Fields::Any => "",
            Fields::Title => ":A",
            Fields::Summary => ":B",
            Fields::TitleAndSummary => ":AB",
        }
    }
}

/// An item of the text, with a leading `-`.
fn item(text: &str) -> Option<Item> {
    let mut words: Vec<Alternatives> = analysis::words(text)
        .map(|(_, w)| analysis::query_terms(w))
        .collect();
    match words.len() {
        0 => None,
        1 => words.pop().map(Item::Word),
        _ => Some(Item::Phrase(words)),
    }
}

impl Query {
    pub fn parse(raw: &str) -> Self {
        let mut query = Query::default();
        let mut or_pending = false;
        let mut rest = raw;
        loop {
            rest = rest.trim_start();
            if rest.is_empty() {
                break;
            }
            let negated = rest.starts_with('-');
            if negated {
                rest = &rest[1..];
            }
            let (text, quoted, after) = match rest.strip_prefix('"') {
                Some(inner) => match inner.find('"') {
                    Some(end) => (&inner[..end], true, &inner[end + 1..]),
                    None => (inner, true, ""),
                },
                None => {
                    let end = rest
                        .find(|c: char| c.is_whitespace() || c == '"')
                        .unwrap_or(rest.len());
                    (&rest[..end], false, &rest[end..])
                }
            };
            rest = after;
            if !quoted && !negated && text == "OR" {
                or_pending = !query.all.is_empty();
                continue;
            }
            let Some(item) = item(text) else {
                continue;
            };
            if negated {
                query.none.push(item);
            } else if or_pending {
                if let Some(group) = query.all.last_mut() {
                    group.push(item);
                }
            } else {
                query.all.push(vec![item]);
            }
            or_pending = false;
        }
        if query.all.is_empty() {
            query.all = query.none.drain(..).map(|item| vec![item]).collect();
        }
        query
    }

    /// Whether nothing searchable was typed (the query matches nothing).
    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// Every term a match may show, for highlighting.
    pub fn terms(&self) -> HashSet<&str> {
        let mut out = HashSet::new();
        for item in self.all.iter().flatten() {
            let words = match item {
                Item::Word(w) => std::slice::from_ref(w),
                Item::Phrase(words) => words.as_slice(),
            };
            out.extend(words.iter().flatten().map(String::as_str));
        }
        out
    }

    /// The query in FTS5 syntax, confined to `fields` (the exclusions only with `Fields::Any`:
    /// the confined forms rank what the whole query found).
    pub fn fts5(&self, fields: Fields) -> String {
        let all = self
            .all
            .iter()
            .map(|group| any(group.iter().map(fts5_item).collect(), " OR "))
            .collect::<Vec<_>>()
            .join(" AND ");
        match (fields.sqlite(), self.none.is_empty()) {
            (Some(columns), _) => format!("{columns} : ({all})"),
            (None, true) => all,
            (None, false) => {
                let none: Vec<String> = self.none.iter().map(fts5_item).collect();
                format!("({all}) NOT ({})", none.join(" OR "))
            }
        }
    }

    /// The query as PostgreSQL `to_tsquery` input, confined to `fields` by weight.
    pub fn tsquery(&self, fields: Fields) -> String {
        let weights = fields.weights();
        let all = self
            .all
            .iter()
            .map(|group| {
                let forms = group.iter().map(|i| tsquery_item(i, weights)).collect();
                any(forms, " | ")
            })
            .collect::<Vec<_>>()
            .join(" & ");
        if fields != Fields::Any || self.none.is_empty() {
            return all;
        }
        let none: Vec<String> = self
            .none
            .iter()
            .map(|i| format!("!{}", tsquery_item(i, "")))
            .collect();
        format!("{all} & {}", none.join(" & "))
    }
}

/// Alternatives joined by `or`, in parentheses when there are several.
fn any(mut forms: Vec<String>, or: &str) -> String {
    if forms.len() == 1 {
        forms.pop().unwrap_or_default()
    } else {
        format!("({})", forms.join(or))
    }
}

fn fts5_string(words: &[&str]) -> String {
    format!("\"{}\"", words.join(" ").replace('"', "\"\""))
}

fn fts5_item(item: &Item) -> String {
    match item {
        Item::Word(terms) => any(terms.iter().map(|t| fts5_string(&[t])).collect(), " OR "),
        Item::Phrase(words) => any(
            phrase_forms(words)
                .iter()
                .map(|form| fts5_string(form))
                .collect(),
            " OR ",
        ),
    }
}

/// Each combination of a phrase's terms, or (when there are too many) the phrase all stemmed
/// and all folded.
fn phrase_forms(words: &[Alternatives]) -> Vec<Vec<&str>> {
    let count = words
        .iter()
        .try_fold(1usize, |n, w| n.checked_mul(w.len().max(1)));
    if count.is_none_or(|n| n > MAX_PHRASE_FORMS) {
        let first = words.iter().map(|w| w[0].as_str()).collect();
        let last = words.iter().map(|w| w[w.len() - 1].as_str()).collect();
        return vec![first, last];
    }
    let mut forms: Vec<Vec<&str>> = vec![Vec::new()];
    for terms in words {
        forms = forms
            .into_iter()
            .flat_map(|form| {
                terms.iter().map(move |t| {
                    let mut next = form.clone();
                    next.push(t.as_str());
                    next
                })
            })
            .collect();
    }
    forms
}

/// A term for `to_tsquery`: only letters and digits, so quoting cannot be broken.
fn lexeme(term: &str, weights: &str) -> String {
    format!("'{}'{weights}", term.replace(['\'', '\\'], ""))
}

fn tsquery_word(terms: &Alternatives, weights: &str) -> String {
    any(terms.iter().map(|t| lexeme(t, weights)).collect(), " | ")
}

fn tsquery_item(item: &Item, weights: &str) -> String {
    match item {
        Item::Word(terms) => tsquery_word(terms, weights),
        Item::Phrase(words) => format!(
            "({})",
            words
                .iter()
                .map(|w| tsquery_word(w, weights))
                .collect::<Vec<_>>()
                .join(" <-> ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_phrases_or_and_exclusions() {
        let q = Query::parse(r#"border "gas pipeline" talks OR summit -Russia"#);
        assert_eq!(
            q.fts5(Fields::Any),
            r#"("border" AND ("gas pipelin" OR "gas pipeline") AND (("talk" OR "talks") OR "summit")) NOT ("russia")"#
        );
        assert_eq!(
            q.tsquery(Fields::Any),
            "'border' & ('gas' <-> ('pipelin' | 'pipeline')) & (('talk' | 'talks') | 'summit') & !'russia'"
        );
        assert_eq!(
            q.tsquery(Fields::Title),
            "'border':A & ('gas':A <-> ('pipelin':A | 'pipeline':A)) & (('talk':A | 'talks':A) | 'summit':A)"
        );
        assert_eq!(
            q.fts5(Fields::TitleAndSummary),
            format!(
                "{{title summary}} : ({})",
                r#""border" AND ("gas pipelin" OR "gas pipeline") AND (("talk" OR "talks") OR "summit")"#
            )
        );
    }

    #[test]
    fn nothing_typed_is_a_syntax_error() {
        for raw in [
            r#"""#,
            "OR",
            "- -",
            r#"a "b"#,
            "OR x OR",
            "(*) NEAR ^ AND:",
            "x' ; DROP",
        ] {
            let q = Query::parse(raw);
            let fts = q.fts5(Fields::Any);
            assert!(!fts.contains("NEAR") && !fts.contains('*'), "{raw}: {fts}");
            assert!(!q.tsquery(Fields::Any).contains(";"), "{raw}");
        }
        assert!(Query::parse("!!! ...").is_empty());
        assert_eq!(Query::parse("OR x OR").fts5(Fields::Any), "\"x\"");
        assert_eq!(
            Query::parse(r#"a "b c"#).fts5(Fields::Any),
            r#""a" AND "b c""#
        );
    }

    #[test]
    fn exclusions_alone_are_searched_for() {
        assert_eq!(
            Query::parse("-talks -gas").fts5(Fields::Any),
            r#"("talk" OR "talks") AND "gas""#
        );
    }

    #[test]
    fn long_phrases_are_written_stemmed_and_folded() {
        let q = Query::parse(r#""talks meetings borders treaties elections parties""#);
        assert_eq!(
            q.fts5(Fields::Any),
            r#"("talk meet border treati elect parti" OR "talks meetings borders treaties elections parties")"#
        );
    }

    #[test]
    fn highlight_terms_are_the_positive_ones() {
        let q = Query::parse("Границы -газ");
        let terms = q.terms();
        assert!(terms.contains("границ") && terms.contains("границы"));
        assert!(!terms.contains("газ"));
    }
}
