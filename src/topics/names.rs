//! A topic's name and description in other languages (`names`, `descriptions`: objects by
//! BCP 47 tag), and the choice of the best one for a reader's language preference.

use std::collections::BTreeMap;

use crate::articles::translations::Preference;
use crate::domain::{language_tag, Errors};

/// The most languages a topic is named in.
pub const MAX_LANGUAGES: usize = 50;

/// Texts by language tag.
pub type ByLanguage = BTreeMap<String, String>;

/// Checks texts by language as `field` (`names`, `descriptions`): canonical tags, each text by
/// `check`, at most `MAX_LANGUAGES`; texts `check` makes empty are dropped. The stored JSON.
pub fn parse(
    errors: &mut Errors,
    field: &str,
    texts: ByLanguage,
    check: impl Fn(&str) -> Result<String, String>,
) -> Option<String> {
    if texts.len() > MAX_LANGUAGES {
        return errors.check(field, Err(format!("at most {MAX_LANGUAGES} languages")));
    }
    let mut out = ByLanguage::new();
    for (tag, text) in texts {
        let Some(tag) = errors.check(&format!("{field}.{tag}"), language_tag(&tag)) else {
            continue;
        };
        // An empty description (which the rule allows) is none.
        match errors.check(&format!("{field}.{tag}"), check(&text)) {
            Some(text) if !text.is_empty() => {
                out.insert(tag, text);
            }
            _ => {}
        }
    }
    serde_json::to_string(&out).ok()
}

/// The stored JSON as texts (empty if unreadable).
pub fn stored(json: &str) -> ByLanguage {
    serde_json::from_str(json).unwrap_or_default()
}

/// The text in the most preferred language that has one, with that language.
pub fn best<'a>(texts: &'a ByLanguage, prefer: Option<&Preference>) -> Option<(&'a str, &'a str)> {
    prefer?.languages().iter().find_map(|language| {
        texts
            .get_key_value(language)
            .map(|(l, t)| (l.as_str(), t.as_str()))
    })
}
