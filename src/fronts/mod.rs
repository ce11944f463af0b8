//! Fronts: the curated pages a site is built around (the home page, each section's front).
//! Editors pick and order each section's stories, override a headline, a summary, an image or
//! a kicker for the front, pin a story until a time; the rest of each section fills itself
//! from the newest public articles of a topic, a byline or a language.
//!
//! A front is one document (its sections as JSON), written whole by `PUT` through the write
//! path (`front.updated`) and read whole. The public read resolves it (`resolve`): only what
//! is public now, in the editors' order, then the fill, never one article twice; staff read
//! the document as written, with the `ETag` a `PUT` must match.

mod resolve;

use std::collections::{BTreeSet, HashMap, HashSet};

use actix_web::http::header;
use actix_web::{delete, get, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::articles::write::{check_cover, MAX_SUMMARY_CHARS, MAX_TITLE_CHARS};
use crate::articles::{etag_of, CoverImageInput};
use crate::auth::{Caller, MaybeCaller};
use crate::changes::{self, events::EventRef, events::EventType, Tx};
use crate::db::schema::{articles, front_media, front_pins, fronts, media, topics, users};
use crate::db::{self, DbConnection};
use crate::domain::{
    display_text, language_tag, optional_text, stored_time, Errors, Key, Role, Slug,
};
use crate::error::{ApiError, FieldError};
use crate::extract::Json;
use crate::keys::{self, Keys, Tagged};
use crate::openapi::rules::{field, FieldRule, Rule};
use crate::pagination;
use crate::state::AppState;

pub use resolve::{ResolvedFront, ResolvedItem, ResolvedSection};

/// The most sections a front has.
pub const MAX_SECTIONS: usize = 50;
/// The most items a section shows, and the most it curates.
pub const MAX_ITEMS: i64 = 50;
const MAX_FRONT_TITLE_CHARS: usize = 200;
const MAX_KICKER_CHARS: usize = 100;
/// The most fronts one page of the list returns.
const MAX_PAGE: i64 = 100;

/// The single-field rules of a front, as the spec states them.
pub const FIELD_RULES: &[FieldRule] = &[
    field("PutFront", "title", Rule::Title(MAX_FRONT_TITLE_CHARS)),
    field("PutFront", "sections", Rule::AtMostItems(MAX_SECTIONS)),
    field("Section", "max_items", Rule::Between(1, MAX_ITEMS)),
    field("Section", "items", Rule::AtMostItems(MAX_SECTIONS)),
    field("FrontItem", "pinned_until", Rule::Time),
    field("Fill", "language", Rule::Language),
    field("Section", "key", Rule::Slug),
    field("Section", "title", Rule::Title(MAX_FRONT_TITLE_CHARS)),
    field("FrontItem", "headline", Rule::Title(MAX_TITLE_CHARS)),
    field("FrontItem", "summary", Rule::Text(MAX_SUMMARY_CHARS)),
    field("FrontItem", "kicker", Rule::Title(MAX_KICKER_CHARS)),
];

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = fronts)]
struct FrontRow {
    id: i32,
    slug: String,
    title: String,
    sections: String,
    version: i32,
    updated_at: NaiveDateTime,
    updated_by: Option<i32>,
}

impl FrontRow {
    fn find(conn: &mut DbConnection, slug: &str) -> QueryResult<Option<Self>> {
        fronts::table
            .filter(fronts::slug.eq(slug))
            .select(Self::as_select())
            .first(conn)
            .optional()
    }

    fn sections(&self) -> Result<Vec<StoredSection>, ApiError> {
        serde_json::from_str(&self.sections)
            .map_err(|e| ApiError::internal(format!("front {} is unreadable: {e}", self.id)))
    }

    fn reference(&self) -> EventRef {
        EventRef {
            id: self.id,
            slug: self.slug.clone(),
        }
    }
}

/// A section as stored: the items and fill by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredSection {
    key: String,
    title: String,
    max_items: i64,
    items: Vec<StoredItem>,
    fill: Option<StoredFill>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredItem {
    article_id: i32,
    headline: Option<String>,
    summary: Option<String>,
    image: Option<CoverImageInput>,
    kicker: Option<String>,
    pinned_until: Option<NaiveDateTime>,
}

impl StoredItem {
    /// Whether it shows at `now` (its article public aside).
    fn pinned_at(&self, now: NaiveDateTime) -> bool {
        self.pinned_until.is_none_or(|until| now < until)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct StoredFill {
    topic: Option<i32>,
    author: Option<i32>,
    language: Option<String>,
}

/// A topic or a byline, by id or slug.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum RefInput {
    Id(i32),
    Slug(String),
}

impl RefInput {
    fn key(&self) -> Key {
        match self {
            RefInput::Id(id) => Key::Id(*id),
            RefInput::Slug(slug) => Key::Slug(slug.clone()),
        }
    }
}

/// What fills a section's slots the curated items leave: the newest public articles filed under
/// `topic` (its descendants included), with `author`'s byline, in `language`; any combination,
/// none for the newest of all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"topic": "central-asia"}))]
pub struct Fill {
    /// A topic, by id or slug (read back by slug).
    pub topic: Option<RefInput>,
    /// A byline, by user id or author slug (read back by slug).
    pub author: Option<RefInput>,
    /// A BCP 47 language tag.
    pub language: Option<String>,
}

/// A curated item: an article, and what the front shows instead of the article's own.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"article_id": 42, "headline": "Border dispute over", "kicker": "Exclusive",
    "pinned_until": "2026-12-06T18:00:00Z"}))]
pub struct FrontItem {
    pub article_id: i32,
    /// Shown as the item's `title`.
    pub headline: Option<String>,
    /// Shown as the item's `summary`.
    pub summary: Option<String>,
    /// Shown as the item's `cover_image`: a photo of the library or a URL, as an article's
    /// `cover_image` is written.
    pub image: Option<CoverImageInput>,
    /// A line above the headline ("Exclusive", "Analysis").
    pub kicker: Option<String>,
    /// The item leaves the front at this instant.
    pub pinned_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// Unique in the front; a slug.
    pub key: String,
    pub title: String,
    /// 1 to 50: how many items the section shows.
    pub max_items: i64,
    /// At most 50, each article once; shown in this order while public (and pinned).
    #[serde(default)]
    pub items: Vec<FrontItem>,
    /// What fills the remaining slots; absent: none.
    pub fill: Option<Fill>,
}

/// A front as written: the whole of it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "Home",
    "sections": [
        {"key": "lead", "title": "Top story", "max_items": 1, "items": [{"article_id": 42}]},
        {"key": "all-news", "title": "All news", "max_items": 20, "items": [], "fill": {}}
    ]
}))]
pub struct PutFront {
    pub title: String,
    /// At most 50.
    pub sections: Vec<Section>,
    /// The version this change was made from: 409 if the front has moved on (as `If-Match`,
    /// which answers 412).
    pub version: Option<i32>,
}

/// A front as written (the staff read and the answer to `PUT`), with its `ETag`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Front {
    pub slug: String,
    pub title: String,
    pub sections: Vec<Section>,
    /// Grows with every `PUT`.
    pub version: i32,
    pub updated_at: DateTime<Utc>,
    /// The user who wrote the current version.
    pub updated_by: Option<i32>,
}

/// A front as read: resolved for the public, as written for staff.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum FrontRead {
    Resolved(ResolvedFront),
    Written(Front),
}

/// A front in the list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FrontSummary {
    pub slug: String,
    pub title: String,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FrontList {
    pub data: Vec<FrontSummary>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListFrontsQuery {
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct FrontSlug {
    /// The front's slug (`home`, `central-asia`).
    pub slug: String,
}

/// The slug of a path: 404 for one no front could have.
fn path_slug(raw: &str) -> Result<Slug, ApiError> {
    Slug::parse(raw).map_err(|_| ApiError::not_found("front"))
}

/// List fronts
///
/// Every front by slug, a page at a time (public).
#[utoipa::path(
    tag = "fronts",
    params(ListFrontsQuery),
    responses((status = 200, description = "A page of fronts", body = FrontList))
)]
#[get("/fronts")]
pub async fn list_fronts(
    state: web::Data<AppState>,
    query: web::Query<ListFrontsQuery>,
) -> Result<Tagged<web::Json<FrontList>>, ApiError> {
    let limit = pagination::limit(query.limit, 50, MAX_PAGE)?;
    let after: Option<String> = pagination::cursor(query.cursor.as_deref())?;
    let rows = db::run(&state.pool, move |conn| {
        let mut q = fronts::table
            .select((
                fronts::slug,
                fronts::title,
                fronts::version,
                fronts::updated_at,
            ))
            .order(fronts::slug.asc())
            .limit(limit + 1)
            .into_boxed();
        if let Some(after) = after {
            q = q.filter(fronts::slug.gt(after));
        }
        Ok(q.load::<(String, String, i32, NaiveDateTime)>(conn)?)
    })
    .await?;
    let (rows, more) = pagination::split_page(rows, limit);
    let next_cursor = more
        .then(|| {
            rows.last()
                .map(|(slug, ..)| pagination::encode_cursor(slug))
        })
        .flatten();
    let data = rows
        .into_iter()
        .map(|(slug, title, version, updated_at)| FrontSummary {
            slug,
            title,
            version,
            updated_at: db::utc(updated_at),
        })
        .collect();
    Ok(Tagged(
        web::Json(FrontList { data, next_cursor }),
        Keys::of([keys::FRONTS]),
    ))
}

/// Get a front
///
/// The public read resolves it: each section's curated items that are public now (and still
/// pinned), in order, with the front's overrides applied over the article's card and
/// `curated: true`; then the newest public articles its `fill` matches (`curated: false`),
/// none shown earlier in the front, up to `max_items`. A curated article that is not public is
/// skipped, never a hole. With a token (any staff role) the read is the front as written, with
/// the `ETag` that `PUT` takes in `If-Match`.
#[utoipa::path(
    tag = "fronts",
    params(FrontSlug),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The resolved front (public), or the front as written (staff)",
            body = FrontRead),
        (status = 404, description = "No such front", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[get("/fronts/{slug}")]
pub async fn get_front(
    state: web::Data<AppState>,
    caller: MaybeCaller,
    slug: web::Path<FrontSlug>,
) -> Result<HttpResponse, ApiError> {
    let slug = path_slug(&slug.slug)?;
    if let Some(caller) = caller.0 {
        caller.require(Role::Author)?;
        let front = db::run(&state.pool, move |conn| {
            let row =
                FrontRow::find(conn, slug.as_str())?.ok_or_else(|| ApiError::not_found("front"))?;
            written(conn, &row)
        })
        .await?;
        return Ok(with_etag(HttpResponse::Ok(), &front));
    }
    let (body, keys) = db::run(&state.pool, move |conn| {
        let row =
            FrontRow::find(conn, slug.as_str())?.ok_or_else(|| ApiError::not_found("front"))?;
        resolve::public(conn, &row, db::now())
    })
    .await?;
    let mut res = HttpResponse::Ok();
    keys.tag(&mut res);
    Ok(res.content_type("application/json").body(body))
}

fn with_etag(mut builder: actix_web::HttpResponseBuilder, front: &Front) -> HttpResponse {
    builder
        .insert_header((header::ETAG, etag_of(front.version)))
        .json(front)
}

/// The slugs of the topics and bylines `sections` fill from, in two statements.
fn fill_names(
    conn: &mut DbConnection,
    sections: &[StoredSection],
) -> QueryResult<(HashMap<i32, String>, HashMap<i32, String>)> {
    let fills = sections.iter().filter_map(|s| s.fill.as_ref());
    let topic_ids: BTreeSet<i32> = fills.clone().filter_map(|f| f.topic).collect();
    let author_ids: BTreeSet<i32> = fills.filter_map(|f| f.author).collect();
    let topic_names = if topic_ids.is_empty() {
        HashMap::new()
    } else {
        topics::table
            .filter(topics::id.eq_any(topic_ids))
            .select((topics::id, topics::slug))
            .load(conn)?
            .into_iter()
            .collect()
    };
    let author_names = if author_ids.is_empty() {
        HashMap::new()
    } else {
        users::table
            .filter(users::id.eq_any(author_ids))
            .select((users::id, users::slug))
            .load(conn)?
            .into_iter()
            .collect()
    };
    Ok((topic_names, author_names))
}

/// A fill as read, by the slugs found.
fn fill_view(fill: &StoredFill, names: &(HashMap<i32, String>, HashMap<i32, String>)) -> Fill {
    let slug = |id: Option<i32>, names: &HashMap<i32, String>| {
        id.and_then(|id| names.get(&id).cloned())
            .map(RefInput::Slug)
    };
    Fill {
        topic: slug(fill.topic, &names.0),
        author: slug(fill.author, &names.1),
        language: fill.language.clone(),
    }
}

/// The front as written.
fn written(conn: &mut DbConnection, row: &FrontRow) -> Result<Front, ApiError> {
    let stored = row.sections()?;
    let names = fill_names(conn, &stored)?;
    let sections = stored
        .into_iter()
        .map(|s| Section {
            fill: s.fill.as_ref().map(|f| fill_view(f, &names)),
            key: s.key,
            title: s.title,
            max_items: s.max_items,
            items: s
                .items
                .into_iter()
                .map(|i| FrontItem {
                    article_id: i.article_id,
                    headline: i.headline,
                    summary: i.summary,
                    image: i.image,
                    kicker: i.kicker,
                    pinned_until: i.pinned_until.map(db::utc),
                })
                .collect(),
        })
        .collect();
    Ok(Front {
        slug: row.slug.clone(),
        title: row.title.clone(),
        sections,
        version: row.version,
        updated_at: db::utc(row.updated_at),
        updated_by: row.updated_by,
    })
}

/// A front's write, checked in itself (what needs the database is checked in `check_refs`).
struct Parsed {
    title: String,
    sections: Vec<StoredSection>,
    /// Where each section's fill names a topic or a byline: (section, topic, author).
    fills: Vec<(usize, Option<Key>, Option<Key>)>,
}

fn parse(body: PutFront) -> Result<Parsed, ApiError> {
    let mut errors = Errors::default();
    let title = errors.check("title", display_text(&body.title, MAX_FRONT_TITLE_CHARS));
    if body.sections.len() > MAX_SECTIONS {
        errors.check::<()>(
            "sections",
            Err(format!("a front has at most {MAX_SECTIONS} sections")),
        );
    }
    let mut keys_seen = HashSet::new();
    let mut sections = Vec::with_capacity(body.sections.len());
    let mut fills = Vec::new();
    for (n, s) in body.sections.into_iter().take(MAX_SECTIONS).enumerate() {
        let at = format!("sections[{n}]");
        let key = errors.check(
            &format!("{at}.key"),
            Slug::parse(&s.key).and_then(|k| {
                if keys_seen.insert(k.as_str().to_owned()) {
                    Ok(k)
                } else {
                    Err("another section of the front has this key".into())
                }
            }),
        );
        let title = errors.check(
            &format!("{at}.title"),
            display_text(&s.title, MAX_FRONT_TITLE_CHARS),
        );
        let max_items = errors.check(
            &format!("{at}.max_items"),
            if (1..=MAX_ITEMS).contains(&s.max_items) {
                Ok(s.max_items)
            } else {
                Err(format!("must be 1 to {MAX_ITEMS}"))
            },
        );
        if i64::try_from(s.items.len()).unwrap_or(i64::MAX) > MAX_ITEMS {
            errors.check::<()>(
                &format!("{at}.items"),
                Err(format!("a section curates at most {MAX_ITEMS} items")),
            );
        }
        let mut articles_seen = HashSet::new();
        let items: Vec<StoredItem> = s
            .items
            .into_iter()
            .take(usize::try_from(MAX_ITEMS).unwrap_or(50))
            .enumerate()
            .filter_map(|(m, item)| {
                parse_item(
                    &mut errors,
                    &format!("{at}.items[{m}]"),
                    item,
                    &mut articles_seen,
                )
            })
            .collect();
        let fill = s.fill.map(|f| {
            if f.topic.is_some() || f.author.is_some() {
                fills.push((
                    n,
                    f.topic.as_ref().map(RefInput::key),
                    f.author.as_ref().map(RefInput::key),
                ));
            }
            StoredFill {
                topic: None,
                author: None,
                language: f
                    .language
                    .and_then(|l| errors.check(&format!("{at}.fill.language"), language_tag(&l))),
            }
        });
        if let (Some(key), Some(title), Some(max_items)) = (key, title, max_items) {
            sections.push(StoredSection {
                key: key.into_inner(),
                title,
                max_items,
                items,
                fill,
            });
        }
    }
    errors.finish()?;
    Ok(Parsed {
        title: title.unwrap_or_default(),
        sections,
        fills,
    })
}

fn parse_item(
    errors: &mut Errors,
    at: &str,
    item: FrontItem,
    seen: &mut HashSet<i32>,
) -> Option<StoredItem> {
    if !seen.insert(item.article_id) {
        errors.check::<()>(
            &format!("{at}.article_id"),
            Err("the section already has this article".into()),
        );
    }
    let headline = item
        .headline
        .and_then(|h| errors.check(&format!("{at}.headline"), display_text(&h, MAX_TITLE_CHARS)));
    let summary = optional_text(
        errors,
        &format!("{at}.summary"),
        item.summary,
        MAX_SUMMARY_CHARS,
    );
    let kicker = item
        .kicker
        .and_then(|k| errors.check(&format!("{at}.kicker"), display_text(&k, MAX_KICKER_CHARS)));
    let image = item
        .image
        .and_then(|c| check_cover(errors, &format!("{at}.image"), c));
    let pinned_until = match item
        .pinned_until
        .map(|t| stored_time(&format!("{at}.pinned_until"), t))
    {
        Some(Err(e)) => {
            errors.check::<()>(&e.field, Err(e.message));
            None
        }
        Some(Ok(t)) => Some(t),
        None => None,
    };
    Some(StoredItem {
        article_id: item.article_id,
        headline,
        summary,
        image,
        kicker,
        pinned_until,
    })
}

/// 422 naming each item whose article or photo does not exist, and each fill whose topic or
/// byline does not; fills the ids found into `parsed`.
fn check_refs(conn: &mut DbConnection, parsed: &mut Parsed) -> Result<(), ApiError> {
    let wanted: BTreeSet<i32> = parsed
        .sections
        .iter()
        .flat_map(|s| s.items.iter().map(|i| i.article_id))
        .collect();
    let found: HashSet<i32> = articles::table
        .filter(articles::id.eq_any(&wanted))
        .select(articles::id)
        .load(conn)?
        .into_iter()
        .collect();
    let photos: BTreeSet<i32> = media_of(&parsed.sections).collect();
    let photos_found: HashSet<i32> = media::table
        .filter(media::id.eq_any(&photos))
        .select(media::id)
        .load(conn)?
        .into_iter()
        .collect();
    let mut errors = Vec::new();
    for (n, s) in parsed.sections.iter().enumerate() {
        for (m, item) in s.items.iter().enumerate() {
            let at = format!("sections[{n}].items[{m}]");
            if !found.contains(&item.article_id) {
                errors.push(FieldError::new(
                    format!("{at}.article_id"),
                    "no such article",
                ));
            }
            if let Some(photo) = item.image.as_ref().and_then(|i| i.media_id) {
                if !photos_found.contains(&photo) {
                    errors.push(FieldError::new(
                        format!("{at}.image.media_id"),
                        "no such photo in the library",
                    ));
                }
            }
        }
    }
    for (n, topic, author) in std::mem::take(&mut parsed.fills) {
        let at = format!("sections[{n}].fill");
        let topic = match topic {
            Some(key) => {
                let id = crate::topics::find_id(conn, &key)?;
                if id.is_none() {
                    errors.push(FieldError::new(format!("{at}.topic"), "no such topic"));
                }
                id
            }
            None => None,
        };
        let author = match author {
            Some(key) => {
                let id = crate::authors::find_id(conn, &key)?;
                if id.is_none() {
                    errors.push(FieldError::new(format!("{at}.author"), "no such author"));
                }
                id
            }
            None => None,
        };
        if let Some(fill) = parsed.sections.get_mut(n).and_then(|s| s.fill.as_mut()) {
            fill.topic = topic;
            fill.author = author;
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// The photos a front shows in place of covers.
fn media_of(sections: &[StoredSection]) -> impl Iterator<Item = i32> + '_ {
    sections
        .iter()
        .flat_map(|s| s.items.iter().filter_map(|i| i.image.as_ref()?.media_id))
}

/// The pins a front has: the ends of its pinned items.
fn pins_of(sections: &[StoredSection]) -> BTreeSet<NaiveDateTime> {
    sections
        .iter()
        .flat_map(|s| s.items.iter().filter_map(|i| i.pinned_until))
        .collect()
}

/// What a write of a front expects of the current one.
struct Expect {
    if_match: Option<Vec<String>>,
    version: Option<i32>,
}

impl Expect {
    fn new(req: &HttpRequest, version: Option<i32>) -> Self {
        Self {
            if_match: crate::extract::if_match(req),
            version,
        }
    }

    /// 412 when `If-Match` names another version (or any, for a front that does not exist);
    /// 409 when the body's `version` is stale.
    fn check(&self, current: Option<&FrontRow>) -> Result<(), ApiError> {
        if let Some(tags) = &self.if_match {
            let matched = current.is_some_and(|row| {
                let tag = etag_of(row.version);
                tags.iter().any(|t| t == "*" || *t == tag)
            });
            if !matched {
                return Err(ApiError::PreconditionFailed(match current {
                    Some(row) => format!(
                        "the front has changed: it is now at {}",
                        etag_of(row.version)
                    ),
                    None => "the front does not exist".into(),
                }));
            }
        }
        match (self.version, current) {
            (Some(v), Some(row)) if v != row.version => Err(ApiError::Conflict(format!(
                "the front is at version {}; reload it and apply your change again",
                row.version
            ))),
            (Some(_), None) => Err(ApiError::Conflict("the front does not exist yet".into())),
            _ => Ok(()),
        }
    }
}

/// Writes front `slug` as `parsed` says, if it is as `expect`ed: the front after, and whether
/// it was created.
fn store(
    tx: &mut Tx,
    slug: &Slug,
    mut parsed: Parsed,
    expect: &Expect,
) -> Result<(Front, bool), ApiError> {
    let current = FrontRow::find(tx.conn(), slug.as_str())?;
    expect.check(current.as_ref())?;
    check_refs(tx.conn(), &mut parsed)?;
    let now = tx.now();
    let sections = serde_json::to_string(&parsed.sections)
        .map_err(|e| ApiError::internal(format!("cannot store a front: {e}")))?;
    let old_pins = match &current {
        Some(row) => pins_of(&row.sections()?),
        None => BTreeSet::new(),
    };
    match &current {
        Some(row) => diesel::update(fronts::table.find(row.id))
            .set((
                fronts::title.eq(&parsed.title),
                fronts::sections.eq(&sections),
                fronts::version.eq(row.version + 1),
                fronts::updated_at.eq(now),
                fronts::updated_by.eq(tx.actor()),
            ))
            .execute(tx.conn())?,
        None => diesel::insert_into(fronts::table)
            .values((
                fronts::slug.eq(slug.as_str()),
                fronts::title.eq(&parsed.title),
                fronts::sections.eq(&sections),
                fronts::version.eq(1),
                fronts::created_at.eq(now),
                fronts::updated_at.eq(now),
                fronts::updated_by.eq(tx.actor()),
            ))
            .execute(tx.conn())?,
    };
    let row = FrontRow::find(tx.conn(), slug.as_str())?
        .ok_or_else(|| ApiError::internal("a front written is not found"))?;
    let pins = pins_of(&parsed.sections);
    diesel::delete(front_pins::table.filter(front_pins::front_id.eq(row.id))).execute(tx.conn())?;
    for until in &pins {
        diesel::insert_into(front_pins::table)
            .values((
                front_pins::front_id.eq(row.id),
                front_pins::pinned_until.eq(until),
            ))
            .execute(tx.conn())?;
    }
    diesel::delete(front_media::table.filter(front_media::front_id.eq(row.id)))
        .execute(tx.conn())?;
    for photo in media_of(&parsed.sections).collect::<BTreeSet<_>>() {
        diesel::insert_into(front_media::table)
            .values((
                front_media::front_id.eq(row.id),
                front_media::media_id.eq(photo),
            ))
            .execute(tx.conn())?;
    }
    tx.front(EventType::FrontUpdated, row.reference(), pins != old_pins);
    Ok((written(tx.conn(), &row)?, current.is_none()))
}

/// Writes a front as the system (the demo seed); the front after.
pub fn seed(tx: &mut Tx, slug: &str, body: PutFront) -> Result<Front, ApiError> {
    let slug = Slug::parse(slug).map_err(|e| ApiError::invalid("slug", e))?;
    let expect = Expect {
        if_match: None,
        version: None,
    };
    Ok(store(tx, &slug, parse(body)?, &expect)?.0)
}

/// Write a front
///
/// Editors and admins (403 for authors): creates the front at `slug` (201) or replaces it
/// whole (200). Send the `ETag` of the staff read or of the last `PUT` in `If-Match` (412 when
/// the front has changed since) or its `version` in the body (409), so two editors never
/// overwrite each other. Each item's article must exist (422 naming the item); articles that
/// are not public are accepted and shown once they are. Records `front.updated`.
#[utoipa::path(
    tag = "fronts",
    params(FrontSlug),
    request_body = PutFront,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Replaced", body = Front,
            headers(("ETag" = String, description = "The new version, for the next `If-Match`"))),
        (status = 201, description = "Created", body = Front,
            headers(("ETag" = String, description = "The version, for the next `If-Match`"),
                ("Location" = String, description = "URL of the front"))),
        (status = 404, description = "No front could have this slug", body = crate::error::Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "The body's `version` is stale", body = crate::error::Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names another version", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[put("/fronts/{slug}")]
pub async fn put_front(
    state: web::Data<AppState>,
    caller: Caller,
    slug: web::Path<FrontSlug>,
    req: HttpRequest,
    body: Json<PutFront>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Editor)?;
    let slug = path_slug(&slug.slug)?;
    let expect = Expect::new(&req, body.0.version);
    let parsed = parse(body.0)?;
    let actor = caller.id();
    let (front, created) = changes::write(&state, Some(actor), move |tx| {
        store(tx, &slug, parsed, &expect)
    })
    .await?;
    if created {
        let mut res = HttpResponse::Created();
        res.insert_header((header::LOCATION, format!("/api/v1/fronts/{}", front.slug)));
        Ok(with_etag(res, &front))
    } else {
        Ok(with_etag(HttpResponse::Ok(), &front))
    }
}

/// Delete a front
///
/// Editors and admins. `If-Match` is honoured as for `PUT`. Records `front.deleted`.
#[utoipa::path(
    tag = "fronts",
    params(FrontSlug),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such front", body = crate::error::Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names another version", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[delete("/fronts/{slug}")]
pub async fn delete_front(
    state: web::Data<AppState>,
    caller: Caller,
    slug: web::Path<FrontSlug>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Editor)?;
    let slug = path_slug(&slug.slug)?;
    let expect = Expect::new(&req, None);
    changes::write(&state, Some(caller.id()), move |tx| {
        let row = FrontRow::find(tx.conn(), slug.as_str())?
            .ok_or_else(|| ApiError::not_found("front"))?;
        expect.check(Some(&row))?;
        let had_pins = !pins_of(&row.sections()?).is_empty();
        diesel::delete(fronts::table.find(row.id)).execute(tx.conn())?;
        tx.front(EventType::FrontDeleted, row.reference(), had_pins);
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
