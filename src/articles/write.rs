//! Creating and changing articles: input parsing, sanitising, the workflow rules, and saving an
//! article with its topics, bylines, slug history and search document in one transaction.

use std::collections::HashSet;

use actix_web::http::header;
use actix_web::{patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;

use super::html::Sanitiser;
use super::safety::{self, Expect};
use super::{
    for_write, load, search, stored, ArticleKey, ArticleRow, CoverImageInput, Seo, Status,
};
use crate::auth::Caller;
use crate::changes::{self, events::ArticleState, Tx};
use crate::db::schema::{article_authors, article_slugs, articles, media, topics, users};
use crate::db::{self, DbConnection};
use crate::domain::{
    display_text, language_tag, optional_text, stored_time, Errors, Key, Role, Slug,
};
use crate::error::{ApiError, FieldError};
use crate::extract::{nullable, Json};
use crate::live::{Format, LiveInput, LiveState};
use crate::openapi::rules::{field, FieldRule, Rule};
use crate::state::AppState;
use crate::topics::tree;

pub const MAX_TITLE_CHARS: usize = 300;
/// The longest body, in characters. (A maximal body fits in the default request limit,
/// `NEWSROOM_BODY_LIMIT`, however it is encoded.)
pub const MAX_BODY_CHARS: usize = 500_000;
const MAX_SUBTITLE_CHARS: usize = 300;
pub(crate) const MAX_SUMMARY_CHARS: usize = 2000;
const MAX_SHORT_TEXT_CHARS: usize = 300;
const MAX_URL_CHARS: usize = 2000;
const MAX_LINKED: usize = 20;
const WORDS_PER_MINUTE: i32 = 200;

/// The single-field rules of article writes, as the spec states them.
pub const FIELD_RULES: &[FieldRule] = &[
    field("CreateArticle", "title", Rule::Title(MAX_TITLE_CHARS)),
    field("UpdateArticle", "title", Rule::Title(MAX_TITLE_CHARS)),
    field("CreateArticle", "slug", Rule::Slug),
    field("UpdateArticle", "slug", Rule::Slug),
    field(
        "CreateArticle",
        "subtitle",
        Rule::OptionalTitle(MAX_SUBTITLE_CHARS),
    ),
    field(
        "UpdateArticle",
        "subtitle",
        Rule::OptionalTitle(MAX_SUBTITLE_CHARS),
    ),
    field("CreateArticle", "summary", Rule::Text(MAX_SUMMARY_CHARS)),
    field("UpdateArticle", "summary", Rule::Text(MAX_SUMMARY_CHARS)),
    field("CreateArticle", "body", Rule::Text(MAX_BODY_CHARS)),
    field("UpdateArticle", "body", Rule::Text(MAX_BODY_CHARS)),
    field("CreateArticle", "language", Rule::Language),
    field("UpdateArticle", "language", Rule::Language),
    field("CreateArticle", "topic_ids", Rule::Ids(0, MAX_LINKED)),
    field("UpdateArticle", "topic_ids", Rule::Ids(0, MAX_LINKED)),
    field("CreateArticle", "author_ids", Rule::Ids(1, MAX_LINKED)),
    field("UpdateArticle", "author_ids", Rule::Ids(1, MAX_LINKED)),
    field("CreateArticle", "source", Rule::Text(MAX_SHORT_TEXT_CHARS)),
    field("UpdateArticle", "source", Rule::Text(MAX_SHORT_TEXT_CHARS)),
    field("CreateArticle", "published_at", Rule::Time),
    field("UpdateArticle", "published_at", Rule::Time),
    field("CoverImageInput", "url", Rule::Url(MAX_URL_CHARS)),
    field("CoverImageInput", "alt", Rule::Text(MAX_SHORT_TEXT_CHARS)),
    field("CoverImageInput", "caption", Rule::Text(MAX_SUMMARY_CHARS)),
    field(
        "CoverImageInput",
        "credit",
        Rule::Text(MAX_SHORT_TEXT_CHARS),
    ),
    field("Seo", "title", Rule::Text(MAX_SHORT_TEXT_CHARS)),
    field("Seo", "description", Rule::Text(MAX_SUMMARY_CHARS)),
    field("Seo", "canonical_url", Rule::Url(MAX_URL_CHARS)),
];

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "Tajikistan and Kyrgyzstan sign treaty ending decades-long border dispute",
    "subtitle": "The last contested sections of a 970-kilometre frontier are settled",
    "summary": "The presidents of both countries signed the agreement in Bishkek on Monday.",
    "body": "<p><strong>BISHKEK</strong> — The presidents of Tajikistan and Kyrgyzstan signed a treaty on Monday…</p>",
    "language": "en", "topic_ids": [3, 4, 10], "primary_topic_id": 3,
    "cover_image": {"url": "https://images.newsroom.example/2026/11/border-treaty.jpg",
        "alt": "Two presidents shake hands", "caption": null, "credit": "Photo: Asia-Plus"},
    "source": "Asia-Plus", "status": "scheduled", "published_at": "2026-12-02T06:00:00Z"
}))]
pub struct CreateArticle {
    /// 1 to 300 characters.
    pub title: String,
    /// Derived from the title (transliterated, made unique) when absent.
    pub slug: Option<String>,
    pub subtitle: Option<String>,
    pub summary: Option<String>,
    /// HTML, at most 500,000 characters; sanitised (scripts, styles, event handlers and
    /// `javascript:` URLs removed; iframes only from the configured embed hosts).
    pub body: String,
    /// BCP 47 tag; default `en`.
    pub language: Option<String>,
    pub topic_ids: Option<Vec<i32>>,
    /// Must be among `topic_ids`.
    pub primary_topic_id: Option<i32>,
    /// Default: the caller.
    pub author_ids: Option<Vec<i32>>,
    pub cover_image: Option<CoverImageInput>,
    pub source: Option<String>,
    pub seo: Option<Seo>,
    /// Default `draft`. Authors may only use `draft` and `review`.
    pub status: Option<Status>,
    /// Required in the future for `scheduled`; `published` without it means now.
    pub published_at: Option<DateTime<Utc>>,
    /// Joins the translation group of this article (the same story in another language):
    /// editors and admins, or an author of both. At most one article per language in a group
    /// (409 naming the one there); an unknown or hidden article -> 422.
    pub translation_of: Option<i32>,
    /// Default `standard`; `live` makes a live blog (its `live.state` starts `live`).
    pub format: Option<Format>,
    /// Editors and admins: marks it breaking news (`GET /breaking`) until `breaking_until`.
    pub breaking: Option<bool>,
    /// With `breaking`: until when, in the future (default 6 hours from now).
    pub breaking_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"status": "published", "summary": "Updated: the treaty enters into force in January."}))]
pub struct UpdateArticle {
    pub title: Option<String>,
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub subtitle: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub summary: Option<Option<String>>,
    pub body: Option<String>,
    pub language: Option<String>,
    pub topic_ids: Option<Vec<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    pub primary_topic_id: Option<Option<i32>>,
    pub author_ids: Option<Vec<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<CoverImageInput>)]
    pub cover_image: Option<Option<CoverImageInput>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub source: Option<Option<String>>,
    pub seo: Option<Seo>,
    pub status: Option<Status>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub published_at: Option<Option<DateTime<Utc>>>,
    /// Joins that article's translation group (rules as on create); null leaves the group.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    pub translation_of: Option<Option<i32>>,
    /// `live` makes it a live blog, `standard` a plain article again.
    pub format: Option<Format>,
    /// A live blog's state: `{"state": "ended"}` ends it, `{"state": "live"}` opens it again.
    pub live: Option<LiveInput>,
    /// Editors and admins: `true` marks it breaking news anew (until `breaking_until`, default
    /// 6 hours from now), `false` ends that.
    pub breaking: Option<bool>,
    /// Until when it is breaking news (a time to come); null ends it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub breaking_until: Option<Option<DateTime<Utc>>>,
    /// The version this change was made against: a stale one -> 409, nothing changes.
    /// (`If-Match` with the article's `ETag` does the same with 412.)
    pub version: Option<i32>,
}

impl Draft {
    /// The fields `after` changes, besides the status (the slug where one was asked for; a
    /// slug derived anew is noticed by the caller).
    fn changed(&self, after: &Draft) -> Vec<&'static str> {
        [
            ("title", self.title != after.title),
            ("slug", after.slug.is_some() && self.slug != after.slug),
            ("subtitle", self.subtitle != after.subtitle),
            ("summary", self.summary != after.summary),
            ("body", self.body != after.body),
            ("language", self.language != after.language),
            ("topic_ids", self.topic_ids != after.topic_ids),
            (
                "primary_topic_id",
                self.primary_topic_id != after.primary_topic_id,
            ),
            ("author_ids", self.author_ids != after.author_ids),
            ("cover_image", self.cover_image != after.cover_image),
            ("source", self.source != after.source),
            ("seo", self.seo != after.seo),
            ("published_at", self.published_at != after.published_at),
            (
                "translation_of",
                self.translation_group != after.translation_group,
            ),
            ("format", self.format != after.format),
            ("live", self.live_state != after.live_state),
            ("breaking", self.breaking_until != after.breaking_until),
        ]
        .into_iter()
        .filter_map(|(field, changed)| changed.then_some(field))
        .collect()
    }
}

impl From<CreateArticle> for UpdateArticle {
    fn from(c: CreateArticle) -> Self {
        Self {
            title: Some(c.title),
            slug: c.slug,
            subtitle: Some(c.subtitle),
            summary: Some(c.summary),
            body: Some(c.body),
            language: Some(c.language.unwrap_or_else(|| "en".into())),
            topic_ids: Some(c.topic_ids.unwrap_or_default()),
            primary_topic_id: Some(c.primary_topic_id),
            author_ids: c.author_ids,
            cover_image: Some(c.cover_image),
            source: Some(c.source),
            seo: Some(c.seo.unwrap_or_default()),
            status: Some(c.status.unwrap_or(Status::Draft)),
            published_at: Some(c.published_at),
            translation_of: c.translation_of.map(Some),
            format: c.format,
            live: None,
            breaking: c.breaking,
            breaking_until: c.breaking_until.map(Some),
            version: None,
        }
    }
}

/// The article's complete editable state: what is stored, then the request applied to it.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub title: String,
    pub slug: Option<Slug>,
    pub subtitle: Option<String>,
    pub summary: Option<String>,
    pub body: String,
    pub language: String,
    pub topic_ids: Vec<i32>,
    pub primary_topic_id: Option<i32>,
    pub author_ids: Vec<i32>,
    pub cover_image: Option<CoverImageInput>,
    pub source: Option<String>,
    pub seo: Seo,
    pub status: Status,
    pub published_at: Option<NaiveDateTime>,
    pub translation_group: Option<i32>,
    pub format: Format,
    /// A live article's state; None for a standard one.
    pub live_state: Option<LiveState>,
    /// Breaking news until then.
    pub breaking_until: Option<NaiveDateTime>,
}

/// A cover as written, checked: a photo of the library or a URL, never both. `field` names it
/// in errors (`cover_image`, or a front item's `image`).
pub(crate) fn check_cover(
    errors: &mut Errors,
    field: &str,
    c: CoverImageInput,
) -> Option<CoverImageInput> {
    // An empty `url` alone means no cover, as it always has.
    let blank = c.url.as_ref().is_some_and(|u| u.trim().is_empty());
    let given = c.url.filter(|u| !u.trim().is_empty());
    let url = match (given, c.media_id) {
        (None, None) if blank => return None,
        (Some(_), Some(_)) | (None, None) => {
            errors.check::<()>(field, Err("must give either `url` or `media_id`".into()));
            return None;
        }
        (Some(u), None) => Some(url(errors, &format!("{field}.url"), Some(u))?),
        (None, Some(_)) => None,
    };
    let text = |errors: &mut Errors, name: &str, value, max| {
        optional_text(errors, &format!("{field}.{name}"), value, max)
    };
    Some(CoverImageInput {
        url,
        media_id: c.media_id,
        alt: text(errors, "alt", c.alt, MAX_SHORT_TEXT_CHARS),
        caption: text(errors, "caption", c.caption, MAX_SUMMARY_CHARS),
        credit: text(errors, "credit", c.credit, MAX_SHORT_TEXT_CHARS),
    })
}

fn url(errors: &mut Errors, field: &str, value: Option<String>) -> Option<String> {
    let value = optional_text(errors, field, value, MAX_URL_CHARS)?;
    let valid = ["https://", "http://"]
        .iter()
        .find_map(|scheme| value.strip_prefix(scheme))
        .is_some_and(|rest| !rest.is_empty() && !rest.chars().any(char::is_whitespace));
    errors.check(
        field,
        if valid {
            Ok(value)
        } else {
            Err("must be an http(s) URL".into())
        },
    )
}

/// A list of ids: at most `MAX_LINKED` entries as sent; repeats are dropped.
fn id_list(errors: &mut Errors, field: &str, ids: Vec<i32>) -> Option<Vec<i32>> {
    if ids.len() > MAX_LINKED {
        return errors.check(field, Err(format!("at most {MAX_LINKED} entries")));
    }
    let mut seen = HashSet::new();
    Some(ids.into_iter().filter(|id| seen.insert(*id)).collect())
}

/// Applies a request to the current state (or to the defaults of a new article), checking
/// every field. Errors name each invalid field.
pub fn apply(mut draft: Draft, req: UpdateArticle, html: &Sanitiser) -> Result<Draft, ApiError> {
    let mut errors = Errors::default();
    if let Some(title) = req.title {
        draft.title = errors
            .check("title", display_text(&title, MAX_TITLE_CHARS))
            .unwrap_or_default();
    }
    if let Some(slug) = req.slug {
        draft.slug = errors.check("slug", Slug::parse(&slug));
    }
    if let Some(v) = req.subtitle {
        draft.subtitle = v
            .filter(|v| !v.trim().is_empty())
            .and_then(|v| errors.check("subtitle", display_text(&v, MAX_SUBTITLE_CHARS)));
    }
    if let Some(v) = req.summary {
        draft.summary = optional_text(&mut errors, "summary", v, MAX_SUMMARY_CHARS);
    }
    if let Some(body) = req.body {
        if body.chars().count() > MAX_BODY_CHARS {
            errors.check::<()>(
                "body",
                Err(format!("must be at most {MAX_BODY_CHARS} characters")),
            );
        } else {
            draft.body = html.clean(&body);
        }
    }
    if let Some(lang) = req.language {
        draft.language = errors
            .check("language", language_tag(&lang))
            .unwrap_or_default();
    }
    if let Some(ids) = req.topic_ids {
        draft.topic_ids = id_list(&mut errors, "topic_ids", ids).unwrap_or_default();
    }
    if let Some(primary) = req.primary_topic_id {
        draft.primary_topic_id = primary;
    }
    if let Some(ids) = req.author_ids {
        let ids = id_list(&mut errors, "author_ids", ids).unwrap_or_default();
        if ids.is_empty() {
            errors.check::<()>("author_ids", Err("must name at least one author".into()));
        }
        draft.author_ids = ids;
    }
    if let Some(cover) = req.cover_image {
        draft.cover_image = cover.and_then(|c| check_cover(&mut errors, "cover_image", c));
    }
    if let Some(source) = req.source {
        draft.source = optional_text(&mut errors, "source", source, MAX_SHORT_TEXT_CHARS);
    }
    if let Some(seo) = req.seo {
        draft.seo = Seo {
            title: optional_text(&mut errors, "seo.title", seo.title, MAX_SHORT_TEXT_CHARS),
            description: optional_text(
                &mut errors,
                "seo.description",
                seo.description,
                MAX_SUMMARY_CHARS,
            ),
            canonical_url: url(&mut errors, "seo.canonical_url", seo.canonical_url),
        };
    }
    let mut time_ok = true;
    if let Some(at) = req.published_at {
        // Stored to the microsecond, as PostgreSQL keeps it, so that cursors match exactly.
        draft.published_at = at.and_then(|at| {
            let stored = errors.check(
                "published_at",
                stored_time("published_at", at).map_err(|e| e.message),
            );
            time_ok = stored.is_some();
            stored
        });
    }
    let now = db::now();
    apply_live(&mut errors, &mut draft, req.format, req.live);
    apply_breaking(
        &mut errors,
        &mut draft,
        req.breaking,
        req.breaking_until,
        now,
    );
    if let Some(status) = req.status {
        draft.status = status;
        match status {
            Status::Scheduled if time_ok && draft.published_at.is_none_or(|at| at <= now) => {
                errors.check::<()>(
                    "published_at",
                    Err("must be in the future for a scheduled article".into()),
                );
            }
            Status::Published if draft.published_at.is_none() => draft.published_at = Some(now),
            _ => {}
        }
    }
    if draft.status == Status::Published && draft.published_at.is_none() {
        draft.published_at = Some(now);
    }
    if let Some(primary) = draft.primary_topic_id {
        if !draft.topic_ids.contains(&primary) {
            errors.check::<()>("primary_topic_id", Err("must be one of topic_ids".into()));
        }
    }
    errors.finish()?;
    Ok(draft)
}

/// A change of format or live state: a live article starts live; only a live one has a state.
fn apply_live(
    errors: &mut Errors,
    draft: &mut Draft,
    format: Option<Format>,
    live: Option<LiveInput>,
) {
    if let Some(format) = format {
        draft.format = format;
        draft.live_state = match format {
            Format::Live => draft.live_state.or(Some(LiveState::Live)),
            Format::Standard => None,
        };
    }
    if let Some(live) = live {
        if draft.format == Format::Live {
            draft.live_state = Some(live.state);
        } else {
            errors.check::<()>(
                "live",
                Err("only a live article (`format: live`) has a live state".into()),
            );
        }
    }
}

/// How long an article stays breaking news when no end is given.
const BREAKING_HOURS: i64 = 6;

/// A change of the breaking-news mark: `breaking` sets it anew (until `until`, or for six
/// hours) or ends it; `until` alone moves its end.
fn apply_breaking(
    errors: &mut Errors,
    draft: &mut Draft,
    breaking: Option<bool>,
    until: Option<Option<DateTime<Utc>>>,
    now: NaiveDateTime,
) {
    let until = match until {
        Some(Some(at)) => match stored_time("breaking_until", at) {
            Ok(at) if at > now => Some(Some(at)),
            Ok(_) => {
                errors.check::<()>("breaking_until", Err("must be in the future".into()));
                return;
            }
            Err(e) => {
                errors.check::<()>("breaking_until", Err(e.message));
                return;
            }
        },
        other => other.map(|_| None),
    };
    match (breaking, until) {
        (Some(false), _) => draft.breaking_until = None,
        (Some(true), until) => {
            draft.breaking_until = Some(
                until
                    .flatten()
                    .unwrap_or(now + chrono::Duration::hours(BREAKING_HOURS)),
            );
        }
        (None, Some(until)) => draft.breaking_until = until,
        (None, None) => {}
    }
}

/// 422 for ids in `ids` that `existing` does not hold, naming each by index.
fn check_ids_exist(field: &str, ids: &[i32], existing: &[i32], message: &str) -> Vec<FieldError> {
    ids.iter()
        .enumerate()
        .filter(|(_, id)| !existing.contains(id))
        .map(|(i, _)| FieldError::new(format!("{field}[{i}]"), message))
        .collect()
}

/// 422 unless every topic exists and every byline that the change adds names an active user.
/// Bylines already on the article stay valid when their user is deactivated later.
fn check_references(
    conn: &mut DbConnection,
    draft: &Draft,
    current_authors: &[i32],
) -> Result<(), ApiError> {
    let topics_found: Vec<i32> = topics::table
        .filter(topics::id.eq_any(&draft.topic_ids))
        .select(topics::id)
        .load(conn)?;
    let added: Vec<i32> = draft
        .author_ids
        .iter()
        .copied()
        .filter(|id| !current_authors.contains(id))
        .collect();
    let mut users_found: Vec<i32> = users::table
        .filter(users::id.eq_any(&added))
        .filter(users::active.eq(true))
        .select(users::id)
        .load(conn)?;
    users_found.extend_from_slice(current_authors);
    let mut errors = check_ids_exist("topic_ids", &draft.topic_ids, &topics_found, "no such id");
    if let Some(photo) = draft.cover_image.as_ref().and_then(|c| c.media_id) {
        let found: i64 = media::table
            .filter(media::id.eq(photo))
            .count()
            .get_result(conn)?;
        if found == 0 {
            errors.push(FieldError::new(
                "cover_image.media_id",
                "no such photo in the library",
            ));
        }
    }
    errors.extend(check_ids_exist(
        "author_ids",
        &draft.author_ids,
        &users_found,
        "no such active user",
    ));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// How many forms of a derived slug (`slug`, `slug-2`, ...) are looked up at a time.
const SLUG_CANDIDATES: u32 = 20;

/// Which of `names` articles use, now or formerly.
fn slugs_among(conn: &mut DbConnection, names: &[&str]) -> Result<HashSet<String>, ApiError> {
    let mut taken: HashSet<String> = articles::table
        .filter(articles::slug.eq_any(names))
        .select(articles::slug)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    taken.extend(
        article_slugs::table
            .filter(article_slugs::slug.eq_any(names))
            .select(article_slugs::slug)
            .load::<String>(conn)?,
    );
    Ok(taken)
}

/// The first free form of `base` (`base`, `base-2`, ...), looked up by the unique indexes
/// `SLUG_CANDIDATES` forms at a time.
fn first_free_slug(conn: &mut DbConnection, base: &Slug) -> Result<Slug, ApiError> {
    let mut first = 1;
    loop {
        let candidates: Vec<Slug> = (first..first + SLUG_CANDIDATES)
            .map(|n| match n {
                1 => base.clone(),
                n => base.with_suffix(n),
            })
            .collect();
        let names: Vec<&str> = candidates.iter().map(Slug::as_str).collect();
        let taken = slugs_among(conn, &names)?;
        if let Some(free) = candidates.into_iter().find(|c| !taken.contains(c.as_str())) {
            return Ok(free);
        }
        first += SLUG_CANDIDATES;
    }
}

/// The slug to store: the requested one (409 if another article holds it, now or formerly) or
/// one derived from the title.
fn choose_slug(
    conn: &mut DbConnection,
    draft: &Draft,
    article_id: Option<i32>,
) -> Result<Slug, ApiError> {
    let Some(slug) = &draft.slug else {
        return first_free_slug(conn, &Slug::derive(&draft.title, "article"));
    };
    let current_owner: Option<i32> = articles::table
        .filter(articles::slug.eq(slug.as_str()))
        .select(articles::id)
        .first(conn)
        .optional()?;
    let former_owner: Option<i32> = article_slugs::table
        .find(slug.as_str())
        .select(article_slugs::article_id)
        .first(conn)
        .optional()?;
    let taken = [current_owner, former_owner]
        .into_iter()
        .flatten()
        .any(|owner| Some(owner) != article_id);
    if taken {
        return Err(ApiError::Conflict("another article uses this slug".into()));
    }
    Ok(slug.clone())
}

/// Saves `draft` as article `existing` (or a new one) with topics, bylines, slug history and
/// search document; returns the article's id. Runs inside the caller's transaction.
/// The columns of an article's format, live state and breaking mark after `draft`.
#[allow(clippy::type_complexity)]
fn live_columns(
    before: Option<&ArticleRow>,
    draft: &Draft,
    now: NaiveDateTime,
) -> (
    diesel::dsl::Eq<articles::format, &'static str>,
    diesel::dsl::Eq<articles::live_state, Option<&'static str>>,
    diesel::dsl::Eq<articles::live_started_at, Option<NaiveDateTime>>,
    diesel::dsl::Eq<articles::live_ended_at, Option<NaiveDateTime>>,
    diesel::dsl::Eq<articles::breaking_at, Option<NaiveDateTime>>,
    diesel::dsl::Eq<articles::breaking_until, Option<NaiveDateTime>>,
) {
    let (started, ended) = crate::live::live_times(before, draft.live_state, now);
    let marked = match (before.and_then(|r| r.breaking_until), draft.breaking_until) {
        (_, None) => None,
        (Some(was), Some(until)) if was == until => before.and_then(|r| r.breaking_at),
        (_, Some(_)) => Some(now),
    };
    (
        articles::format.eq(draft.format.as_str()),
        articles::live_state.eq(draft.live_state.map(LiveState::as_str)),
        articles::live_started_at.eq(started),
        articles::live_ended_at.eq(ended),
        articles::breaking_at.eq(marked),
        articles::breaking_until.eq(draft.breaking_until),
    )
}

fn save(
    conn: &mut DbConnection,
    draft: Draft,
    existing: Option<(&ArticleRow, &Draft)>,
) -> Result<i32, ApiError> {
    let current_authors = existing.map_or(&[][..], |(_, before)| &before.author_ids[..]);
    check_references(conn, &draft, current_authors)?;
    let existing = existing.map(|(row, _)| row);
    super::translations::check_free(
        conn,
        draft.translation_group,
        &draft.language,
        existing.map(|r| r.id),
    )?;
    let slug = choose_slug(conn, &draft, existing.map(|r| r.id))?;
    let text = super::html::plain_text(&draft.body);
    let words = i32::try_from(text.split_whitespace().count()).unwrap_or(i32::MAX);
    let reading = (words + WORDS_PER_MINUTE - 1) / WORDS_PER_MINUTE;
    let stored_status = draft.status.stored();
    let now = db::now();
    let cover = draft.cover_image.clone().unwrap_or(CoverImageInput {
        url: None,
        media_id: None,
        alt: None,
        caption: None,
        credit: None,
    });
    let values = (
        articles::slug.eq(slug.as_str()),
        articles::title.eq(&draft.title),
        articles::subtitle.eq(&draft.subtitle),
        articles::summary.eq(&draft.summary),
        articles::body.eq(&draft.body),
        articles::status.eq(stored_status),
        articles::published_at.eq(draft.published_at),
        articles::language.eq(&draft.language),
        articles::primary_topic_id.eq(draft.primary_topic_id),
        (
            articles::cover_image_url.eq(cover.url),
            articles::cover_media_id.eq(cover.media_id),
            articles::cover_image_alt.eq(cover.alt),
            articles::cover_image_caption.eq(cover.caption),
            articles::cover_image_credit.eq(cover.credit),
        ),
        articles::source.eq(&draft.source),
        (
            articles::seo_title.eq(&draft.seo.title),
            articles::seo_description.eq(&draft.seo.description),
            articles::seo_canonical_url.eq(&draft.seo.canonical_url),
        ),
        articles::word_count.eq(words),
        articles::reading_time_minutes.eq(reading),
        articles::updated_at.eq(now),
        articles::translation_group.eq(draft.translation_group),
        live_columns(existing, &draft, now),
    );
    let id = match existing {
        Some(row) => {
            diesel::update(articles::table.find(row.id))
                .set(values)
                .execute(conn)?;
            if row.slug != slug.as_str() {
                if row.status == stored::PUBLISHED {
                    diesel::insert_into(article_slugs::table)
                        .values((
                            article_slugs::slug.eq(&row.slug),
                            article_slugs::article_id.eq(row.id),
                            article_slugs::created_at.eq(now),
                        ))
                        .execute(conn)?;
                }
                diesel::delete(article_slugs::table.find(slug.as_str())).execute(conn)?;
            }
            row.id
        }
        None => diesel::insert_into(articles::table)
            .values((
                values,
                articles::version.eq(1),
                articles::created_at.eq(now),
            ))
            .returning(articles::id)
            .get_result(conn)?,
    };
    let feed_at = (stored_status == stored::PUBLISHED)
        .then_some(draft.published_at)
        .flatten();
    tree::set_article_topics(conn, id, &draft.topic_ids, feed_at)?;
    crate::media::body::record_use(conn, id, &draft.body)?;
    diesel::delete(article_authors::table.filter(article_authors::article_id.eq(id)))
        .execute(conn)?;
    for (position, user_id) in draft.author_ids.iter().enumerate() {
        diesel::insert_into(article_authors::table)
            .values((
                article_authors::article_id.eq(id),
                article_authors::user_id.eq(user_id),
                article_authors::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
                article_authors::feed_published_at.eq(feed_at),
            ))
            .execute(conn)?;
    }
    search::index(
        conn,
        &search::Document {
            id,
            language: &draft.language,
            title: &draft.title,
            summary: draft.summary.as_deref().unwrap_or(""),
            body_text: &text,
            visible_at: feed_at,
        },
    )?;
    Ok(id)
}

/// Creates an article as `caller` would through the API (used by `seed-demo` too).
pub fn create(
    tx: &mut Tx,
    caller: &Caller,
    req: CreateArticle,
    html: &Sanitiser,
) -> Result<ArticleRow, ApiError> {
    if req.published_at.is_some() {
        check_sets_time(caller)?;
    }
    let mut request: UpdateArticle = req.into();
    let translation_of = request.translation_of.take();
    let mut draft = apply(Draft::default(), request, html)?;
    draft.body = crate::media::body::responsive_images(tx.conn(), &draft.body)?;
    check_workflow(caller, draft.status)?;
    check_breaking(caller, None, draft.breaking_until)?;
    if draft.author_ids.is_empty() {
        draft.author_ids = vec![caller.id()];
    }
    check_own_byline(caller, &draft)?;
    draft.translation_group =
        super::translations::group_after(tx, caller, None, translation_of, None)?;
    let row = db::retry_on_conflict(tx.conn(), |conn| {
        let id = save(conn, draft.clone(), None)?;
        ArticleRow::find(conn, &Key::Id(id))?
            .ok_or_else(|| ApiError::internal("a saved article vanished"))
    })?;
    tx.article(None, Some(&ArticleState::of(&row, tx.now())), &[]);
    Ok(row)
}

/// Marking breaking news (or moving or ending the mark) is for editors and admins.
fn check_breaking(
    caller: &Caller,
    before: Option<NaiveDateTime>,
    after: Option<NaiveDateTime>,
) -> Result<(), ApiError> {
    if caller.role < Role::Editor && before != after {
        return Err(ApiError::Forbidden(
            "marking breaking news is for editors".into(),
        ));
    }
    Ok(())
}

/// Authors write drafts and submit them for review; publishing is for editors and admins.
fn check_workflow(caller: &Caller, status: Status) -> Result<(), ApiError> {
    if caller.role < Role::Editor && !matches!(status, Status::Draft | Status::Review) {
        return Err(ApiError::Forbidden(
            "authors may only set draft or review; an editor publishes".into(),
        ));
    }
    Ok(())
}

/// An author may not write themselves off their own article.
fn check_own_byline(caller: &Caller, draft: &Draft) -> Result<(), ApiError> {
    if caller.role < Role::Editor && !draft.author_ids.contains(&caller.id()) {
        return Err(ApiError::invalid("author_ids", "must include yourself"));
    }
    Ok(())
}

/// Only editors and admins set the publication time: an author's pre-set time would turn an
/// editor's later "publish" into a schedule or a backdate.
fn check_sets_time(caller: &Caller) -> Result<(), ApiError> {
    if caller.role < Role::Editor {
        return Err(ApiError::Forbidden(
            "published_at: only editors and admins set the publication time".into(),
        ));
    }
    Ok(())
}

/// Authors may add bylines; removing one (a co-author's or their own) needs an editor, since
/// the co-author would lose access to the article.
fn check_bylines_kept(caller: &Caller, before: &Draft, after: &Draft) -> Result<(), ApiError> {
    let removed = before
        .author_ids
        .iter()
        .any(|id| !after.author_ids.contains(id));
    if caller.role < Role::Editor && removed {
        return Err(ApiError::Forbidden(
            "author_ids: only editors and admins remove a byline".into(),
        ));
    }
    Ok(())
}

/// Create an article
///
/// Authors, editors and admins. Authors may only create `draft` or `review` and may not set
/// `published_at` (else 403). The caller is the author unless `author_ids` says otherwise
/// (every id an active user, else 422; an author must name themselves). `published` without
/// `published_at` means now; `scheduled` needs a future `published_at` and turns public at
/// that instant.
#[utoipa::path(
    tag = "articles",
    request_body = CreateArticle,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `Location` names the new article", body = super::Article,
            headers(("Location" = String, description = "URL of the new article"))),
        (status = 409, description = "The slug is taken", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[post("/articles")]
pub async fn create_article(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CreateArticle>,
) -> Result<HttpResponse, ApiError> {
    let app = state.clone();
    let article = changes::write(&state, Some(caller.id()), move |tx| {
        let row = create(tx, &caller, body.0, &app.html)?;
        load(tx.conn(), row)
    })
    .await?;
    let mut created = HttpResponse::Created();
    created.insert_header((
        header::LOCATION,
        format!("/api/v1/articles/{}", article.summary.id),
    ));
    Ok(super::with_etag(created, &article))
}

/// The stored state of an article as an editable draft.
fn current(conn: &mut DbConnection, row: &ArticleRow) -> Result<Draft, ApiError> {
    let body: String = articles::table
        .find(row.id)
        .select(articles::body)
        .first(conn)?;
    let topic_ids = crate::topics::tree::direct_topics(conn, row.id)?;
    Ok(Draft {
        title: row.title.clone(),
        slug: Slug::parse(&row.slug).ok(),
        subtitle: row.subtitle.clone(),
        summary: row.summary.clone(),
        body,
        language: row.language.clone(),
        topic_ids,
        primary_topic_id: row.primary_topic_id,
        author_ids: super::author_ids(conn, row.id)?,
        cover_image: (row.cover_image_url.is_some() || row.cover_media_id.is_some()).then(|| {
            CoverImageInput {
                url: row.cover_image_url.clone(),
                media_id: row.cover_media_id,
                alt: row.cover_image_alt.clone(),
                caption: row.cover_image_caption.clone(),
                credit: row.cover_image_credit.clone(),
            }
        }),
        source: row.source.clone(),
        translation_group: row.translation_group,
        seo: Seo {
            title: row.seo_title.clone(),
            description: row.seo_description.clone(),
            canonical_url: row.seo_canonical_url.clone(),
        },
        status: Status::current(&row.status, row.published_at, db::now()),
        published_at: row.published_at,
        format: Format::of(&row.format),
        live_state: row.live_state.as_deref().and_then(LiveState::of),
        breaking_until: row.breaking_until,
    })
}

/// Update an article
///
/// Partial update under the rules of creation. Editors and admins change any article; authors
/// their own while in `draft` or `review`, and may not publish, change `published_at` or
/// remove a byline (403; adding bylines of active users is fine). Changing the slug of a
/// published article keeps the old one, which then redirects. Every change bumps `version`
/// and `updated_at`; a request that changes nothing writes nothing (both stay, no revision
/// is kept). Send `If-Match` with the `ETag` of your read (412 when stale) or the
/// `version` you read in the body (409 when stale) so that a concurrent edit is never lost.
#[utoipa::path(
    tag = "articles",
    params(ArticleKey),
    request_body = UpdateArticle,
    security(("bearer" = [])),
    responses(
                (status = 200, description = "The updated article", body = super::Article,
            headers(("ETag" = String, description = "The article's new version"))),
        (status = 404, description = "No such article, or not visible to the caller",
            body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken, a body `version` is stale (the detail \
            names the current one), or the article is in the trash",
            body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names another version; nothing changed",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/articles/{key}")]
pub async fn update_article(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    key: web::Path<ArticleKey>,
    body: Json<UpdateArticle>,
) -> Result<HttpResponse, ApiError> {
    let key = Key::from_path(&key.key)?;
    let request = body.0;
    let expect = Expect::new(&req, request.version);
    let app = state.clone();
    let article = changes::write(&state, Some(caller.id()), move |tx| {
        let row = for_write(tx.conn(), &key, &caller)?;
        change(tx, &caller, row, request, &expect, &app.html)
    })
    .await?;
    Ok(super::with_etag(HttpResponse::Ok(), &article))
}

/// Applies `request` to article `row` as `caller`: the workflow rules, the preconditions, a
/// revision of the state it replaces, and a version claimed against concurrent writers.
pub fn change(
    tx: &mut Tx,
    caller: &Caller,
    row: ArticleRow,
    request: UpdateArticle,
    expect: &Expect,
    html: &Sanitiser,
) -> Result<super::Article, ApiError> {
    if row.deleted_at.is_some() {
        return Err(ApiError::Conflict(
            "the article is in the trash; restore it first".into(),
        ));
    }
    expect.check(&row)?;
    if let Some(status) = request.status {
        check_workflow(caller, status)?;
    }
    let before = current(tx.conn(), &row)?;
    let mut request = request;
    let translation_of = request.translation_of.take();
    let mut draft = apply(before.clone(), request, html)?;
    draft.body = crate::media::body::responsive_images(tx.conn(), &draft.body)?;
    if draft.published_at != before.published_at {
        check_sets_time(caller)?;
    }
    check_bylines_kept(caller, &before, &draft)?;
    check_own_byline(caller, &draft)?;
    check_breaking(caller, before.breaking_until, draft.breaking_until)?;
    draft.translation_group = super::translations::group_after(
        tx,
        caller,
        Some(row.id),
        translation_of,
        before.translation_group,
    )?;
    let mut changed = before.changed(&draft);
    if draft.status != before.status {
        // Publishing sets the time of publication: part of the status change, not an edit.
        changed.retain(|field| *field != "published_at");
    }
    if changed.is_empty() && draft.status == before.status {
        // Nothing to change: no new version, no revision, nothing for anyone to hear of.
        return load(tx.conn(), row);
    }
    // Claim the version first: it locks the row, so a concurrent writer waits here and then
    // finds the version gone, before it writes anything.
    safety::claim_version(tx.conn(), &row).map_err(|e| expect.lost(e))?;
    safety::record(tx.conn(), &row, &before, caller.id())?;
    save(tx.conn(), draft, Some((&row, &before)))?;
    let after = ArticleRow::find(tx.conn(), &Key::Id(row.id))?
        .ok_or_else(|| ApiError::not_found("article"))?;
    if after.slug != row.slug && !changed.contains(&"slug") {
        changed.push("slug");
    }
    let now = tx.now();
    tx.article(
        Some(&ArticleState::of(&row, now)),
        Some(&ArticleState::of(&after, now)),
        &changed,
    );
    load(tx.conn(), after)
}
