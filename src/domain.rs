//! Domain values parsed once at the edge: a value of these types is valid by construction.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

/// A URL slug: lowercase ASCII letters, digits and single hyphens, at least one non-digit (so
/// it can never be mistaken for an id), at most 120 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

pub const MAX_SLUG_LEN: usize = 120;

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() || raw.len() > MAX_SLUG_LEN {
            return Err(format!("must be 1 to {MAX_SLUG_LEN} characters"));
        }
        let valid_chars = raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid_chars || raw.starts_with('-') || raw.ends_with('-') || raw.contains("--") {
            return Err(
                "may hold only lowercase letters a-z, digits and single hyphens between them"
                    .into(),
            );
        }
        if raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must contain a letter: an all-digit key is read as an id".into());
        }
        Ok(Self(raw.to_owned()))
    }

    /// A slug derived from a title or name, transliterated to ASCII ("Таджикистан" ->
    /// "tadzhikistan"); `fallback` is used when nothing usable remains.
    pub fn derive(text: &str, fallback: &str) -> Self {
        let slug = slug::slugify(text);
        let slug = match slug.as_str() {
            "" => fallback.to_owned(),
            s if s.bytes().all(|b| b.is_ascii_digit() || b == b'-') => format!("{fallback}-{s}"),
            s => s.to_owned(),
        };
        Self(truncate_at_hyphen(&slug, MAX_SLUG_LEN).to_owned())
    }

    /// The same slug with a numeric suffix, for making a derived slug unique.
    pub fn with_suffix(&self, n: u32) -> Self {
        let suffix = format!("-{n}");
        let base = truncate_at_hyphen(&self.0, MAX_SLUG_LEN - suffix.len());
        Self(format!("{base}{suffix}"))
    }

    /// This slug, or the first of `slug-2`, `slug-3`, ... that `taken` does not hold.
    pub fn first_free(&self, taken: &std::collections::HashSet<String>) -> Self {
        std::iter::once(self.clone())
            .chain((2..).map(|n| self.with_suffix(n)))
            .find(|candidate| !taken.contains(candidate.as_str()))
            .unwrap_or_else(|| self.clone())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Cuts an ASCII slug to at most `max` bytes, at a word boundary where there is one.
fn truncate_at_hyphen(slug: &str, max: usize) -> &str {
    if slug.len() <= max {
        return slug;
    }
    let cut = &slug[..max];
    cut.rfind('-')
        .map_or(cut, |i| &cut[..i])
        .trim_end_matches('-')
}

/// A path segment that names a resource by id (all digits) or by slug (anything else).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Id(i32),
    Slug(String),
}

impl Key {
    /// A path segment. An all-digit key that is no possible id (0, or past the range of ids)
    /// names nothing: 404, as for any id that does not exist.
    pub fn from_path(raw: &str) -> Result<Self, crate::error::ApiError> {
        Self::parse(raw).map_err(|_| {
            crate::error::ApiError::NotFound("there is no resource at this path".into())
        })
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
            return raw
                .parse()
                .ok()
                .filter(|id| *id > 0)
                .map(Key::Id)
                .ok_or_else(|| FieldError::new("key", "is not a valid id"));
        }
        Ok(Key::Slug(raw.to_owned()))
    }
}

/// The longest email address, in characters as sent.
pub const MAX_EMAIL_CHARS: usize = 254;

/// An email address, trimmed and lowercased so that one mailbox is one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
        let shape_ok = raw.chars().count() <= MAX_EMAIL_CHARS
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && local.chars().count() <= 64
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            })
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if shape_ok {
            Ok(Self(email))
        } else {
            Err("is not an email address".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 12 to 1024 characters, no composition rules (NIST SP 800-63B).
pub struct Password(String);

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 1024;

impl Password {
    pub fn parse(raw: String) -> Result<Self, String> {
        let chars = raw.chars().count();
        if (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
            Ok(Self(raw))
        } else {
            Err(format!(
                "must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"
            ))
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// The earliest and latest years of any time the API accepts: the range both databases order
/// correctly (SQLite compares times as text, which breaks past year 9999).
pub const MIN_YEAR: i32 = 1970;
pub const MAX_YEAR: i32 = 9999;

/// A time from a request, as stored (UTC, microseconds): 422 naming `field` outside years
/// 1970 to 9999.
pub fn stored_time(
    field: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::NaiveDateTime, FieldError> {
    use chrono::{Datelike, SubsecRound};
    if (MIN_YEAR..=MAX_YEAR).contains(&at.year()) {
        Ok(at.naive_utc().trunc_subsecs(6))
    } else {
        Err(FieldError::new(
            field,
            format!("must be a time in the years {MIN_YEAR} to {MAX_YEAR}"),
        ))
    }
}

/// Characters that reorder text around them (bidi embeddings, overrides and isolates): removed
/// from titles and names, where they are used to disguise what a reader sees.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that show nothing: whitespace, zero-width and formatting characters, fillers.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || is_bidi_control(c)
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2060}'..='\u{2064}'
                | '\u{206A}'..='\u{206F}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

/// A title or a name: bidi controls removed, then trimmed, 1 to `max_chars` characters, at
/// least one of them visible.
pub fn display_text(raw: &str, max_chars: usize) -> Result<String, String> {
    check_length(raw, max_chars)?;
    let text: String = raw.chars().filter(|c| !is_bidi_control(*c)).collect();
    let text = bounded_text(&text, max_chars)?;
    if text.chars().all(is_invisible) {
        return Err("must contain a visible character".into());
    }
    Ok(text)
}

/// At most `max_chars` characters as sent (before trimming), as the spec's `maxLength` says.
fn check_length(raw: &str, max_chars: usize) -> Result<(), String> {
    if raw.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    Ok(())
}

/// A BCP 47 language tag such as `en`, `ru`, `tg`, `pt-BR`, in canonical case.
pub fn language_tag(raw: &str) -> Result<String, String> {
    let mut parts = raw.trim().split('-');
    let primary = parts.next().unwrap_or("");
    let primary_ok =
        (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic());
    let rest: Vec<&str> = parts.collect();
    let rest_ok = rest
        .iter()
        .all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if !primary_ok || !rest_ok {
        return Err("must be a BCP 47 language tag such as en, ru or tg".into());
    }
    let mut tag = primary.to_ascii_lowercase();
    for part in rest {
        tag.push('-');
        // Regions in capitals (`pt-BR`), scripts in title case (`tg-Cyrl`), the rest lower.
        let script = part.len() == 4 && part.bytes().all(|b| b.is_ascii_alphabetic());
        tag.push_str(&if part.len() == 2 {
            part.to_ascii_uppercase()
        } else if script {
            let lower = part.to_ascii_lowercase();
            lower[..1].to_ascii_uppercase() + &lower[1..]
        } else {
            part.to_ascii_lowercase()
        });
    }
    Ok(tag)
}

/// Trimmed text of bounded length, such as a person's or a topic's name.
/// Optional text, checked as `bounded_text` under `field`: empty (or only whitespace) means
/// none.
pub fn optional_text(
    errors: &mut Errors,
    field: &str,
    value: Option<String>,
    max: usize,
) -> Option<String> {
    value
        .filter(|v| !v.trim().is_empty())
        .and_then(|v| errors.check(field, bounded_text(&v, max)))
}

pub fn bounded_text(raw: &str, max_chars: usize) -> Result<String, String> {
    check_length(raw, max_chars)?;
    let text = raw.trim();
    if text.is_empty() {
        return Err(format!("must be 1 to {max_chars} characters"));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        return Err("must not contain control characters".into());
    }
    Ok(text.to_owned())
}

/// What a signed-in user may do: `author` < `editor` < `admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Author,
    Editor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Author => "author",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "author" => Some(Role::Author),
            "editor" => Some(Role::Editor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Collects field errors while parsing a request, so one response names every invalid field.
#[derive(Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    /// Keeps the value, or records the message against `field`.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.0.push(FieldError::new(field, message));
                None
            }
        }
    }

    pub fn finish(self) -> Result<(), crate::error::ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(crate::error::ApiError::Validation(self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_accept_only_the_canonical_form() {
        assert!(Slug::parse("central-asia-2026").is_ok());
        for bad in [
            "",
            "Upper",
            "two--hyphens",
            "-lead",
            "trail-",
            "12345",
            "with space",
            "ü",
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
        assert!(Slug::parse(&"a".repeat(MAX_SLUG_LEN + 1)).is_err());
    }

    #[test]
    fn derived_slugs_transliterate_and_never_are_all_digits() {
        assert_eq!(
            Slug::derive("Таджикистан", "topic").as_str(),
            "tadzhikistan"
        );
        assert_eq!(
            Slug::derive("Floods in Dushanbe: 3 dead", "article").as_str(),
            "floods-in-dushanbe-3-dead"
        );
        assert!(Slug::parse(Slug::derive("2026", "article").as_str()).is_ok());
        assert!(Slug::parse(Slug::derive("!!!", "article").as_str()).is_ok());
        let long = Slug::derive(&"word ".repeat(100), "article");
        assert!(long.as_str().len() <= MAX_SLUG_LEN);
        assert!(Slug::parse(long.with_suffix(12).as_str()).is_ok());
    }

    #[test]
    fn keys_split_ids_from_slugs() {
        assert_eq!(Key::parse("42").unwrap(), Key::Id(42));
        assert_eq!(Key::parse("news").unwrap(), Key::Slug("news".into()));
        assert!(Key::parse("0").is_err());
        assert!(Key::parse("99999999999").is_err());
    }

    #[test]
    fn titles_need_a_visible_character_and_lose_bidi_controls() {
        for blank in [
            "\u{200B}\u{200D}",
            " \u{3000} ",
            "\u{202E}\u{2066}",
            "\u{FEFF}\u{2800}",
        ] {
            assert!(display_text(blank, 10).is_err(), "{blank:?}");
        }
        assert_eq!(
            display_text("\u{202E}Invoice\u{202C} gpj.exe", 100).unwrap(),
            "Invoice gpj.exe"
        );
        assert_eq!(display_text(" Душанбе ", 10).unwrap(), "Душанбе");
        assert_eq!(display_text("👍", 10).unwrap(), "👍");
    }

    #[test]
    fn times_stay_within_the_years_both_databases_order() {
        use chrono::TimeZone;
        let ok = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        assert!(stored_time("t", ok).is_ok());
        for year in [1969, -5000, 10000, 20260] {
            let at = chrono::Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0).unwrap();
            assert_eq!(stored_time("t", at).unwrap_err().field, "t", "{year}");
        }
    }

    #[test]
    fn language_tags_are_canonical() {
        assert_eq!(language_tag("EN").unwrap(), "en");
        assert_eq!(language_tag("pt-br").unwrap(), "pt-BR");
        assert_eq!(language_tag("TG-cyrl").unwrap(), "tg-Cyrl");
        assert_eq!(language_tag("sr-latn-rs").unwrap(), "sr-Latn-RS");
        assert!(language_tag("english").is_err());
        assert!(language_tag("e").is_err());
    }

    #[test]
    fn emails_are_normalised() {
        assert_eq!(
            Email::parse(" Editor@Example.COM ").unwrap().as_str(),
            "editor@example.com"
        );
        for bad in [
            "",
            "plain",
            "a@b",
            "@example.com",
            "a@.com",
            "a b@example.com",
            "a@b@c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_are_bounded_by_characters() {
        assert!(Password::parse("short".into()).is_err());
        assert!(Password::parse("пароль-длинный".into()).is_ok());
        assert!(Password::parse("x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
    }
}
