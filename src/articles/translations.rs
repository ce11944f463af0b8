//! Translations: articles in one translation group tell the same story in other languages, at
//! most one per language (a unique index, and a 409 naming the holder). An article joins a
//! group with `translation_of: <article id>` (editors, or an author of both) and leaves it
//! with `translation_of: null`; each member stays an article of its own, so trashing or
//! unpublishing one never touches the others. Reads list the other members: the public the
//! public ones, staff all of them with their status.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{author_ids, can_see, public_at, ArticleRow, Status};
use crate::auth::Caller;
use crate::changes::{events::ArticleState, Tx};
use crate::db::schema::{articles, translation_groups};
use crate::db::{self, DbConnection};
use crate::domain::{Key, Role};
use crate::error::ApiError;
use crate::keys::{self, Keys};

/// Another language's version of an article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Translation {
    /// BCP 47 language tag.
    #[schema(example = "ru")]
    pub language: String,
    pub id: i32,
    pub slug: String,
    pub title: String,
    /// Staff reads only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

type MemberRow = (
    i32,
    i32,
    String,
    String,
    String,
    String,
    Option<NaiveDateTime>,
);

/// The members of `groups` by group, each in language order: only the public ones for the
/// public (`staff` false), else all with their status. One statement.
pub fn of_groups(
    conn: &mut DbConnection,
    groups: &[i32],
    staff: bool,
) -> Result<HashMap<i32, Vec<Translation>>, ApiError> {
    let mut out: HashMap<i32, Vec<Translation>> = HashMap::new();
    if groups.is_empty() {
        return Ok(out);
    }
    let now = db::now();
    let mut query = articles::table
        .filter(articles::translation_group.eq_any(groups))
        .select((
            articles::translation_group.assume_not_null(),
            articles::id,
            articles::language,
            articles::slug,
            articles::title,
            articles::status,
            articles::published_at,
        ))
        .order((articles::translation_group, articles::language))
        .into_boxed();
    if !staff {
        query = query.filter(public_at(now));
    }
    for (group, id, language, slug, title, status, published_at) in query.load::<MemberRow>(conn)? {
        out.entry(group).or_default().push(Translation {
            language,
            id,
            slug,
            title,
            status: staff.then(|| Status::current(&status, published_at, now)),
        });
    }
    Ok(out)
}

/// The other members of article `id`'s group (`group`), with the keys of a public read that
/// shows them: the group's (any member's change purges it) and each member's.
pub fn others(
    members: &HashMap<i32, Vec<Translation>>,
    group: Option<i32>,
    id: i32,
    keys: Option<&mut Keys>,
) -> Vec<Translation> {
    let Some(group) = group else {
        return Vec::new();
    };
    let shown: Vec<Translation> = members
        .get(&group)
        .into_iter()
        .flatten()
        .filter(|t| t.id != id)
        .cloned()
        .collect();
    if let Some(keys) = keys {
        keys.add(keys::translations(group));
        for t in &shown {
            keys.add(keys::article(t.id));
        }
    }
    shown
}

/// The translations of one article as `staff` or the public read them.
pub fn of_article(
    conn: &mut DbConnection,
    id: i32,
    group: Option<i32>,
    staff: bool,
    keys: Option<&mut Keys>,
) -> Result<Vec<Translation>, ApiError> {
    let members = of_groups(conn, group.as_slice(), staff)?;
    Ok(others(&members, group, id, keys))
}

/// The group an article written by `caller` belongs to after `translation_of` (absent: the
/// group it has, `current`): null leaves it; an article id joins that article's group,
/// founding one when it has none (a change of that article too, recorded).
pub fn group_after(
    tx: &mut Tx,
    caller: &Caller,
    article: Option<i32>,
    translation_of: Option<Option<i32>>,
    current: Option<i32>,
) -> Result<Option<i32>, ApiError> {
    let target_id = match translation_of {
        None => return Ok(current),
        Some(None) => return Ok(None),
        Some(Some(id)) => id,
    };
    if Some(target_id) == article {
        return Err(ApiError::invalid(
            "translation_of",
            "an article is not a translation of itself",
        ));
    }
    let Some(target) = ArticleRow::find(tx.conn(), &Key::Id(target_id))? else {
        return Err(ApiError::invalid("translation_of", "no such article"));
    };
    if !can_see(tx.conn(), &target, Some(caller))? {
        return Err(ApiError::invalid("translation_of", "no such article"));
    }
    if target.deleted_at.is_some() {
        return Err(ApiError::invalid(
            "translation_of",
            "the article is in the trash",
        ));
    }
    if caller.role < Role::Editor && !author_ids(tx.conn(), target.id)?.contains(&caller.id()) {
        return Err(ApiError::Forbidden(
            "translation_of: only editors and admins, or an author of both articles, link translations"
                .into(),
        ));
    }
    if let Some(group) = target.translation_group {
        return Ok(Some(group));
    }
    let group: i32 = diesel::insert_into(translation_groups::table)
        .default_values()
        .returning(translation_groups::id)
        .get_result(tx.conn())?;
    diesel::update(articles::table.find(target.id))
        .set(articles::translation_group.eq(group))
        .execute(tx.conn())?;
    let now = tx.now();
    let state = ArticleState::of(&target, now);
    tx.article(Some(&state), Some(&state), &["translation_of"]);
    Ok(Some(group))
}

/// 409 when another article of `group` is in `language` (naming it).
pub fn check_free(
    conn: &mut DbConnection,
    group: Option<i32>,
    language: &str,
    article: Option<i32>,
) -> Result<(), ApiError> {
    let Some(group) = group else {
        return Ok(());
    };
    let holder: Option<(i32, String)> = articles::table
        .filter(articles::translation_group.eq(group))
        .filter(articles::language.eq(language))
        .filter(articles::id.ne(article.unwrap_or(0)))
        .select((articles::id, articles::slug))
        .first(conn)
        .optional()?;
    match holder {
        Some((id, slug)) => Err(ApiError::Conflict(format!(
            "the translation group has an article in `{language}` already: {id} ({slug})"
        ))),
        None => Ok(()),
    }
}

/// The most languages a preference lists.
pub const MAX_PREFERRED: usize = 10;

/// The languages a reader prefers, best first: from `prefer_language=ru,en` or an
/// `Accept-Language` header. A regional tag brings its language after it (`ru-RU`, then
/// `ru`). Lists show each translation group once, in the first of these languages it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preference(Vec<String>);

impl Preference {
    fn of_tags(tags: impl IntoIterator<Item = String>) -> Option<Self> {
        let mut out: Vec<String> = Vec::new();
        for tag in tags {
            let primary = tag.split('-').next().unwrap_or_default().to_owned();
            for t in [tag, primary] {
                if !out.contains(&t) {
                    out.push(t);
                }
            }
        }
        out.truncate(MAX_PREFERRED);
        (!out.is_empty()).then_some(Self(out))
    }

    /// A comma-separated list of BCP 47 tags (the query parameter).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let tags = raw
            .split(',')
            .map(crate::domain::language_tag)
            .collect::<Result<Vec<_>, _>>()?;
        if tags.len() > MAX_PREFERRED {
            return Err(format!("at most {MAX_PREFERRED} languages"));
        }
        Self::of_tags(tags).ok_or_else(|| "must list at least one language".to_owned())
    }

    /// An `Accept-Language` header (RFC 9110): by weight, best first; `*`, weight 0 and
    /// malformed entries are left out. None when nothing usable is left.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut weighted: Vec<(u16, usize, String)> = header
            .split(',')
            .enumerate()
            .filter_map(|(position, part)| {
                let mut pieces = part.split(';');
                let tag = crate::domain::language_tag(pieces.next()?.trim()).ok()?;
                let weight =
                    pieces
                        .find_map(|p| p.trim().strip_prefix("q="))
                        .map_or(Some(1000), |q| {
                            q.trim()
                                .parse::<f32>()
                                .ok()
                                .filter(|q| (0.0..=1.0).contains(q))
                                .map(|q| (q * 1000.0).round() as u16)
                        })?;
                (weight > 0).then_some((weight, position, tag))
            })
            .take(2 * MAX_PREFERRED)
            .collect();
        weighted.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        Self::of_tags(weighted.into_iter().map(|(_, _, tag)| tag))
    }

    /// The preference of a read: `prefer_language` when given (422 when it is no list of
    /// tags), else, for an anonymous reader, their `Accept-Language`.
    pub fn of_read(
        raw: Option<&str>,
        headers: &actix_web::http::header::HeaderMap,
        anonymous: bool,
    ) -> Result<Option<Self>, ApiError> {
        match raw {
            Some(raw) => Self::parse(raw)
                .map(Some)
                .map_err(|e| ApiError::invalid("prefer_language", e)),
            None if anonymous => Ok(Self::of_headers(headers)),
            None => Ok(None),
        }
    }

    /// The preference a request's `Accept-Language` states.
    pub fn of_headers(headers: &actix_web::http::header::HeaderMap) -> Option<Self> {
        headers
            .get(actix_web::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Self::from_accept_language)
    }

    /// The languages, best first.
    pub fn languages(&self) -> &[String] {
        &self.0
    }

    /// The languages, best first, comma-separated (what a cache keys the list by).
    pub fn canonical(&self) -> String {
        self.0.join(",")
    }

    /// How much a row of `table` is preferred by its language: 0 is best. The tags are
    /// checked BCP 47 (letters, digits and `-`), so they are written into the statement.
    fn rank(&self, table: &str) -> String {
        let mut out = format!("CASE {table}.language");
        for (i, tag) in self.0.iter().enumerate() {
            out.push_str(&format!(" WHEN '{tag}' THEN {i}"));
        }
        out.push_str(&format!(" ELSE {} END", self.0.len()));
        out
    }

    /// A condition on `article_cards`: the card is not in a translation group, or no other
    /// member of its group that is public at `now` is preferred (by language, then the
    /// lower id among equals).
    pub fn one_per_group<QS: 'static>(
        &self,
        now: NaiveDateTime,
    ) -> Box<
        dyn BoxableExpression<
            QS,
            <DbConnection as diesel::Connection>::Backend,
            SqlType = diesel::sql_types::Bool,
        >,
    > {
        let (mine, theirs) = (self.rank("article_cards"), self.rank("other"));
        let condition = diesel::dsl::sql::<diesel::sql_types::Bool>(
            "(article_cards.translation_group IS NULL OR NOT EXISTS (SELECT 1 FROM article_cards \
             other WHERE other.translation_group = article_cards.translation_group \
             AND other.public_from <= ",
        )
        .bind::<diesel::sql_types::Timestamp, _>(now)
        .sql(&format!(
            " AND ({theirs} < {mine} OR ({theirs} = {mine} \
             AND other.article_id < article_cards.article_id))))"
        ));
        Box::new(condition)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferences_bring_the_language_after_its_region() {
        assert_eq!(
            Preference::parse("ru-RU, en").unwrap().canonical(),
            "ru-RU,ru,en"
        );
        assert!(Preference::parse("russian").is_err());
        assert!(Preference::parse("ru,,en").is_err());
        assert!(Preference::parse(&["en"; 11].join(",")).is_err());
    }

    #[test]
    fn accept_language_is_read_by_weight() {
        let p = Preference::from_accept_language("en;q=0.5, tg, ru-RU;q=0.9, *;q=0.1, xx-;q=1");
        assert_eq!(p.unwrap().canonical(), "tg,ru-RU,ru,en");
        assert_eq!(Preference::from_accept_language("*"), None);
        assert_eq!(Preference::from_accept_language("en;q=0"), None);
        assert_eq!(Preference::from_accept_language("en;q=2"), None);
    }
}
