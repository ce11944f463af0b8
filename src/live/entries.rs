//! The entries of a live article: short timestamped posts, newest first, some marked key
//! events, one at most pinned. The public reads them while the article is public; its authors
//! and editors write them. Every write bumps the article's version and `updated_at` (its
//! `ETag` changes), is recorded as `entry.*` on the event log, and keeps the entry's earlier
//! state as a revision.

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Format, LiveState};
use crate::articles::safety::{self, Expect};
use crate::articles::{can_see, etag_of, for_staff, ArticleKey, ArticleRow};
use crate::auth::{Caller, MaybeCaller};
use crate::changes::events::{ArticleState, EventType};
use crate::changes::{self, Tx};
use crate::db::schema::{live_entries, live_entry_revisions};
use crate::db::{self, DbConnection};
use crate::domain::{display_text, stored_time, Errors, Key};
use crate::error::ApiError;
use crate::extract::{nullable, Json};
use crate::keys::{self, Keys, Tagged};
use crate::openapi::rules::{field, FieldRule, Rule};
use crate::pagination;
use crate::state::AppState;

/// The most entries a live article holds.
pub const MAX_ENTRIES: i64 = 5000;
const MAX_ENTRY_TITLE_CHARS: usize = 300;
const MAX_ENTRY_BODY_CHARS: usize = 50_000;

pub const FIELD_RULES: &[FieldRule] = &[
    field("CreateEntry", "title", Rule::Title(MAX_ENTRY_TITLE_CHARS)),
    field("UpdateEntry", "title", Rule::Title(MAX_ENTRY_TITLE_CHARS)),
    field("CreateEntry", "body", Rule::Text(MAX_ENTRY_BODY_CHARS)),
    field("UpdateEntry", "body", Rule::Text(MAX_ENTRY_BODY_CHARS)),
    field("CreateEntry", "published_at", Rule::Time),
    field("UpdateEntry", "published_at", Rule::Time),
];

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = live_entries)]
pub struct EntryRow {
    pub id: i32,
    pub article_id: i32,
    pub title: Option<String>,
    pub body: String,
    pub key_event: bool,
    pub pinned: bool,
    pub published_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
}

/// An entry as read.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 311, "article_id": 42, "title": "Polls close", "body": "<p>Counting begins in Dushanbe.</p>",
    "key_event": true, "pinned": false, "published_at": "2026-12-06T18:00:00Z",
    "created_at": "2026-12-06T18:00:02Z", "updated_at": "2026-12-06T18:00:02Z", "version": 1
}))]
pub struct Entry {
    pub id: i32,
    pub article_id: i32,
    pub title: Option<String>,
    /// Sanitised HTML.
    pub body: String,
    pub key_event: bool,
    pub pinned: bool,
    /// Its time on the blog (the order of the list).
    pub published_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Grows with every change; the staff read's `ETag`.
    pub version: i32,
}

impl From<EntryRow> for Entry {
    fn from(r: EntryRow) -> Self {
        Self {
            id: r.id,
            article_id: r.article_id,
            title: r.title,
            body: r.body,
            key_event: r.key_event,
            pinned: r.pinned,
            published_at: db::utc(r.published_at),
            created_at: db::utc(r.created_at),
            updated_at: db::utc(r.updated_at),
            version: r.version,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Polls close", "body": "<p>Counting begins.</p>", "key_event": true}))]
pub struct CreateEntry {
    /// HTML, sanitised as an article's body.
    pub body: String,
    pub title: Option<String>,
    pub key_event: Option<bool>,
    /// Pins it above the others (unpinning the entry pinned before).
    pub pinned: Option<bool>,
    /// Default now; not in the future.
    pub published_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Polls close: counting under way", "pinned": true, "version": 1}))]
pub struct UpdateEntry {
    pub body: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    pub key_event: Option<bool>,
    pub pinned: Option<bool>,
    pub published_at: Option<DateTime<Utc>>,
    /// The version this change was made against: stale -> 409 (`If-Match` -> 412).
    pub version: Option<i32>,
}

/// A page of entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryPage {
    /// The pinned entry, if one is (not repeated in `data`).
    pub pinned: Option<Entry>,
    /// Newest first.
    pub data: Vec<Entry>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntriesQuery {
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Only the key events.
    pub key_events: Option<bool>,
    /// Only entries added after the entry of this id (the highest a poller has seen): a poll
    /// with nothing new is a tiny page, and a 304 to `If-None-Match`.
    #[param(minimum = 0, value_type = Option<i64>)]
    #[serde(default, deserialize_with = "crate::extract::blank_as_none")]
    pub since: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct EntryPath {
    /// The article's id, or its slug.
    pub key: String,
    /// The entry's id.
    pub id: String,
}

impl EntryPath {
    fn parse(&self) -> Result<(Key, i32), ApiError> {
        let id = match Key::from_path(&self.id)? {
            Key::Id(id) => id,
            Key::Slug(_) => return Err(ApiError::not_found("entry")),
        };
        Ok((Key::from_path(&self.key)?, id))
    }
}

/// The article of an entries read: public for the public, by `can_see` for staff.
fn readable(
    conn: &mut DbConnection,
    key: &Key,
    caller: Option<&Caller>,
) -> Result<ArticleRow, ApiError> {
    let row = ArticleRow::find(conn, key)?.ok_or_else(|| ApiError::not_found("article"))?;
    let visible = match caller {
        None => row.is_public(db::now()),
        Some(_) => can_see(conn, &row, caller)?,
    };
    if visible {
        Ok(row)
    } else {
        Err(ApiError::not_found("article"))
    }
}

/// A page's cursor: the last entry's time and id.
#[derive(Serialize, Deserialize)]
struct Cursor {
    at: i64,
    id: i32,
}

/// List the entries of a live article
///
/// Newest first, a page at a time, the pinned entry apart in `pinned`. Public while the article
/// is public (404 otherwise, as for a missing one); staff as they may read the article. With
/// `since`, only the entries added after that one.
#[utoipa::path(
    tag = "live",
    params(ArticleKey, EntriesQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "A page of entries", body = EntryPage),
        (status = 404, description = "No such article, or not visible to the caller",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{key}/entries")]
pub async fn list_entries(
    state: web::Data<AppState>,
    caller: MaybeCaller,
    key: web::Path<ArticleKey>,
    query: web::Query<EntriesQuery>,
) -> Result<Tagged<web::Json<EntryPage>>, ApiError> {
    let key = Key::from_path(&key.key)?;
    let limit = pagination::limit(query.limit, 20, 100)?;
    let cursor: Option<Cursor> = pagination::cursor(query.cursor.as_deref())?;
    let after = match &cursor {
        Some(c) => Some((pagination::from_micros(c.at)?, c.id)),
        None => None,
    };
    let key_events = query.key_events.unwrap_or(false);
    let since = query
        .since
        .map(|s| i32::try_from(s).unwrap_or(i32::MAX))
        .unwrap_or(0);
    let (article, pinned, rows) = db::run(&state.pool, move |conn| {
        let article = readable(conn, &key, caller.0.as_ref())?;
        let pinned: Option<EntryRow> = live_entries::table
            .filter(live_entries::article_id.eq(article.id))
            .filter(live_entries::pinned.eq(true))
            .select(EntryRow::as_select())
            .first(conn)
            .optional()?;
        let mut page = live_entries::table
            .filter(live_entries::article_id.eq(article.id))
            .filter(live_entries::pinned.eq(false))
            .filter(live_entries::id.gt(since))
            .select(EntryRow::as_select())
            .order((live_entries::published_at.desc(), live_entries::id.desc()))
            .limit(limit + 1)
            .into_boxed();
        if key_events {
            page = page.filter(live_entries::key_event.eq(true));
        }
        if let Some((at, id)) = after {
            page = page.filter(
                live_entries::published_at
                    .lt(at)
                    .or(live_entries::published_at
                        .eq(at)
                        .and(live_entries::id.lt(id))),
            );
        }
        Ok((article.id, pinned, page.load(conn)?))
    })
    .await?;
    let (rows, more) = pagination::split_page(rows, limit);
    let next_cursor = more
        .then(|| {
            rows.last().map(|r| {
                pagination::encode_cursor(&Cursor {
                    at: pagination::micros(r.published_at),
                    id: r.id,
                })
            })
        })
        .flatten();
    let page = EntryPage {
        pinned: pinned.map(Entry::from),
        data: rows.into_iter().map(Entry::from).collect(),
        next_cursor,
    };
    Ok(Tagged(web::Json(page), Keys::of([keys::article(article)])))
}

/// Get an entry
///
/// Readable as the list is; staff reads carry the entry's `ETag` for `If-Match`.
#[utoipa::path(
    tag = "live",
    params(EntryPath),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The entry", body = Entry),
        (status = 404, description = "No such entry or article, or not visible to the caller",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{key}/entries/{id}")]
pub async fn get_entry(
    state: web::Data<AppState>,
    caller: MaybeCaller,
    path: web::Path<EntryPath>,
) -> Result<HttpResponse, ApiError> {
    let (key, id) = path.parse()?;
    let (article, entry) = db::run(&state.pool, move |conn| {
        let article = readable(conn, &key, caller.0.as_ref())?;
        Ok((article.id, find(conn, article.id, id)?))
    })
    .await?;
    let mut res = HttpResponse::Ok();
    Keys::of([keys::article(article)]).tag(&mut res);
    Ok(with_etag(res, entry.into()))
}

fn with_etag(mut res: actix_web::HttpResponseBuilder, entry: Entry) -> HttpResponse {
    res.insert_header((header::ETAG, etag_of(entry.version)))
        .json(entry)
}

fn find(conn: &mut DbConnection, article: i32, id: i32) -> Result<EntryRow, ApiError> {
    live_entries::table
        .filter(live_entries::id.eq(id))
        .filter(live_entries::article_id.eq(article))
        .select(EntryRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("entry"))
}

/// An entry's fields after a write, checked.
struct Fields {
    title: Option<String>,
    body: String,
    key_event: bool,
    pinned: bool,
    published_at: NaiveDateTime,
}

impl Fields {
    fn of(row: &EntryRow) -> Self {
        Self {
            title: row.title.clone(),
            body: row.body.clone(),
            key_event: row.key_event,
            pinned: row.pinned,
            published_at: row.published_at,
        }
    }

    /// `self` with `change` applied, or 422 naming each bad field.
    fn apply(
        mut self,
        change: UpdateEntry,
        html: &crate::articles::html::Sanitiser,
    ) -> Result<Self, ApiError> {
        let mut errors = Errors::default();
        if let Some(title) = change.title {
            self.title = title
                .filter(|t| !t.trim().is_empty())
                .and_then(|t| errors.check("title", display_text(&t, MAX_ENTRY_TITLE_CHARS)));
        }
        if let Some(body) = change.body {
            if body.chars().count() > MAX_ENTRY_BODY_CHARS {
                errors.check::<()>(
                    "body",
                    Err(format!("must be at most {MAX_ENTRY_BODY_CHARS} characters")),
                );
            } else {
                self.body = html.clean(&body);
                if crate::articles::html::plain_text(&self.body)
                    .trim()
                    .is_empty()
                    && !self.body.contains("<img")
                    && !self.body.contains("<iframe")
                {
                    errors.check::<()>("body", Err("must show something".into()));
                }
            }
        }
        if let Some(key_event) = change.key_event {
            self.key_event = key_event;
        }
        if let Some(pinned) = change.pinned {
            self.pinned = pinned;
        }
        if let Some(at) = change.published_at {
            match stored_time("published_at", at) {
                Ok(at) if at <= db::now() => self.published_at = at,
                Ok(_) => {
                    errors.check::<()>("published_at", Err("must not be in the future".into()));
                }
                Err(e) => {
                    errors.check::<()>("published_at", Err(e.message));
                }
            }
        }
        errors.finish()?;
        Ok(self)
    }

    /// The fields that differ from `before`.
    fn changed(&self, before: &Fields) -> Vec<&'static str> {
        [
            ("title", self.title != before.title),
            ("body", self.body != before.body),
            ("key_event", self.key_event != before.key_event),
            ("pinned", self.pinned != before.pinned),
            ("published_at", self.published_at != before.published_at),
        ]
        .into_iter()
        .filter_map(|(field, changed)| changed.then_some(field))
        .collect()
    }
}

/// The live article `key` for a write by `caller`: its authors and editors (404 when hidden,
/// 403 for another author's); 409 unless it is a live article out of the trash, and (to add an
/// entry) still live.
fn live_article(
    tx: &mut Tx,
    key: &Key,
    caller: &Caller,
    adding: bool,
) -> Result<ArticleRow, ApiError> {
    let row = for_staff(tx.conn(), key, caller)?;
    if row.deleted_at.is_some() {
        return Err(ApiError::Conflict(
            "the article is in the trash; restore it first".into(),
        ));
    }
    if Format::of(&row.format) != Format::Live {
        return Err(ApiError::Conflict(
            "the article is not a live blog: set its `format` to `live` first".into(),
        ));
    }
    let ended = row.live_state.as_deref().and_then(LiveState::of) == Some(LiveState::Ended);
    if adding && ended {
        return Err(ApiError::Conflict(
            "the live blog has ended: set its `live.state` to `live` to add entries".into(),
        ));
    }
    Ok(row)
}

/// Records an entry's write: the article's new version and time (its cards and pages change),
/// and the entry's event.
fn record(
    tx: &mut Tx,
    before: &ArticleRow,
    kind: EventType,
    entry: i32,
    changed: &[&str],
) -> Result<(), ApiError> {
    safety::claim_version(tx.conn(), before)?;
    let after = ArticleRow::find(tx.conn(), &Key::Id(before.id))?
        .ok_or_else(|| ApiError::not_found("article"))?;
    let now = tx.now();
    let (before, after) = (ArticleState::of(before, now), ArticleState::of(&after, now));
    tx.article(Some(&before), Some(&after), &[]);
    tx.entry(kind, &after, entry, changed);
    Ok(())
}

/// Unpins every entry of `article` but `except`.
fn unpin_others(conn: &mut DbConnection, article: i32, except: i32) -> QueryResult<usize> {
    diesel::update(
        live_entries::table
            .filter(live_entries::article_id.eq(article))
            .filter(live_entries::pinned.eq(true))
            .filter(live_entries::id.ne(except)),
    )
    .set(live_entries::pinned.eq(false))
    .execute(conn)
}

/// Add an entry to a live article
///
/// Its authors and editors, while the blog is live (409 otherwise, or for a standard article).
/// At most 5,000 entries an article (422). `pinned: true` unpins the entry pinned before.
/// Records `entry.created`; the article's `updated_at` and `ETag` change.
#[utoipa::path(
    tag = "live",
    params(ArticleKey),
    request_body = CreateEntry,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Added", body = Entry,
            headers(("Location" = String, description = "URL of the entry"),
                ("ETag" = String, description = "Its version"))),
        (status = 404, description = "No such article, or not visible to the caller",
            body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a live article, ended, or in the trash",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/articles/{key}/entries")]
pub async fn create_entry(
    state: web::Data<AppState>,
    caller: Caller,
    key: web::Path<ArticleKey>,
    body: Json<CreateEntry>,
) -> Result<HttpResponse, ApiError> {
    let key = Key::from_path(&key.key)?;
    let now = db::now();
    let blank = Fields {
        title: None,
        body: String::new(),
        key_event: false,
        pinned: false,
        published_at: now,
    };
    let body = body.0;
    let fields = blank.apply(
        UpdateEntry {
            body: Some(body.body),
            title: Some(body.title),
            key_event: body.key_event,
            pinned: body.pinned,
            published_at: body.published_at,
            version: None,
        },
        &state.html,
    )?;
    let actor = caller.id();
    let entry = changes::write(&state, Some(actor), move |tx| {
        let article = live_article(tx, &key, &caller, true)?;
        let count: i64 = live_entries::table
            .filter(live_entries::article_id.eq(article.id))
            .count()
            .get_result(tx.conn())?;
        if count >= MAX_ENTRIES {
            return Err(ApiError::invalid(
                "body",
                format!("a live article holds at most {MAX_ENTRIES} entries"),
            ));
        }
        let now = tx.now();
        let id: i32 = diesel::insert_into(live_entries::table)
            .values((
                live_entries::article_id.eq(article.id),
                live_entries::title.eq(&fields.title),
                live_entries::body.eq(&fields.body),
                live_entries::key_event.eq(fields.key_event),
                live_entries::pinned.eq(fields.pinned),
                live_entries::published_at.eq(fields.published_at),
                live_entries::created_at.eq(now),
                live_entries::updated_at.eq(now),
                live_entries::created_by.eq(actor),
                live_entries::version.eq(1),
            ))
            .returning(live_entries::id)
            .get_result(tx.conn())?;
        if fields.pinned {
            unpin_others(tx.conn(), article.id, id)?;
        }
        record(tx, &article, EventType::EntryCreated, id, &[])?;
        find(tx.conn(), article.id, id)
    })
    .await?;
    let mut res = HttpResponse::Created();
    res.insert_header((
        header::LOCATION,
        format!("/api/v1/articles/{}/entries/{}", entry.article_id, entry.id),
    ));
    Ok(with_etag(res, entry.into()))
}

/// Change an entry
///
/// Its article's authors and editors. Send `If-Match` with the entry's `ETag` (412 when stale)
/// or its `version` (409). A change that changes nothing writes nothing. The state replaced is
/// kept as a revision; records `entry.updated`.
#[utoipa::path(
    tag = "live",
    params(EntryPath),
    request_body = UpdateEntry,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The entry after", body = Entry,
            headers(("ETag" = String, description = "Its new version"))),
        (status = 404, description = "No such entry or article, or not visible to the caller",
            body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "A stale `version`, or not a live article",
            body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names another version",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/articles/{key}/entries/{id}")]
pub async fn update_entry(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<EntryPath>,
    req: HttpRequest,
    body: Json<UpdateEntry>,
) -> Result<HttpResponse, ApiError> {
    let (key, id) = path.parse()?;
    let change = body.0;
    let expect = Expect::new(&req, change.version);
    let app = state.clone();
    let entry = changes::write(&state, Some(caller.id()), move |tx| {
        let article = live_article(tx, &key, &caller, false)?;
        let row = find(tx.conn(), article.id, id)?;
        expect.check_version("entry", row.version)?;
        let before = Fields::of(&row);
        let after = Fields::of(&row).apply(change, &app.html)?;
        let changed = after.changed(&before);
        if changed.is_empty() {
            return Ok(row);
        }
        let revision = (
            live_entry_revisions::entry_id.eq(row.id),
            live_entry_revisions::revision.eq(row.version),
            live_entry_revisions::title.eq(&row.title),
            live_entry_revisions::body.eq(&row.body),
            live_entry_revisions::key_event.eq(row.key_event),
            live_entry_revisions::pinned.eq(row.pinned),
            live_entry_revisions::published_at.eq(row.published_at),
            live_entry_revisions::changed_at.eq(tx.now()),
            live_entry_revisions::changed_by.eq(caller.id()),
        );
        diesel::insert_into(live_entry_revisions::table)
            .values(revision)
            .execute(tx.conn())?;
        let claimed = diesel::update(
            live_entries::table
                .find(row.id)
                .filter(live_entries::version.eq(row.version)),
        )
        .set((
            live_entries::title.eq(&after.title),
            live_entries::body.eq(&after.body),
            live_entries::key_event.eq(after.key_event),
            live_entries::pinned.eq(after.pinned),
            live_entries::published_at.eq(after.published_at),
            live_entries::updated_at.eq(tx.now()),
            live_entries::version.eq(row.version + 1),
        ))
        .execute(tx.conn())?;
        if claimed != 1 {
            return Err(expect.lost(ApiError::PreconditionFailed(
                "the entry was changed by someone else meanwhile".into(),
            )));
        }
        if after.pinned {
            unpin_others(tx.conn(), article.id, row.id)?;
        }
        record(tx, &article, EventType::EntryUpdated, row.id, &changed)?;
        find(tx.conn(), article.id, row.id)
    })
    .await?;
    Ok(with_etag(HttpResponse::Ok(), entry.into()))
}

/// Delete an entry
///
/// Its article's authors and editors; `If-Match` honoured. Records `entry.deleted`.
#[utoipa::path(
    tag = "live",
    params(EntryPath),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such entry or article, or not visible to the caller",
            body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names another version",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/articles/{key}/entries/{id}")]
pub async fn delete_entry(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<EntryPath>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (key, id) = path.parse()?;
    let expect = Expect::new(&req, None);
    changes::write(&state, Some(caller.id()), move |tx| {
        let article = live_article(tx, &key, &caller, false)?;
        let row = find(tx.conn(), article.id, id)?;
        expect.check_version("entry", row.version)?;
        diesel::delete(live_entries::table.find(row.id)).execute(tx.conn())?;
        record(tx, &article, EventType::EntryDeleted, row.id, &[])
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = live_entry_revisions)]
struct RevisionRow {
    revision: i32,
    title: Option<String>,
    body: String,
    key_event: bool,
    pinned: bool,
    published_at: NaiveDateTime,
    changed_at: NaiveDateTime,
    changed_by: Option<i32>,
}

/// An earlier state of an entry: as it was at `revision` (its version then), replaced at
/// `changed_at` by `changed_by`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EntryRevision {
    pub revision: i32,
    pub title: Option<String>,
    pub body: String,
    pub key_event: bool,
    pub pinned: bool,
    pub published_at: DateTime<Utc>,
    pub changed_at: DateTime<Utc>,
    pub changed_by: Option<i32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EntryRevisionPage {
    /// Newest first.
    pub data: Vec<EntryRevision>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RevisionsQuery {
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// List an entry's revisions
///
/// The states an entry had before each change, newest first: its article's authors and
/// editors.
#[utoipa::path(
    tag = "live",
    params(EntryPath, RevisionsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of revisions", body = EntryRevisionPage),
        (status = 404, description = "No such entry or article, or not visible to the caller",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{key}/entries/{id}/revisions")]
pub async fn list_entry_revisions(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<EntryPath>,
    query: web::Query<RevisionsQuery>,
) -> Result<web::Json<EntryRevisionPage>, ApiError> {
    let (key, id) = path.parse()?;
    let limit = pagination::limit(query.limit, 20, 100)?;
    let before: Option<i32> = pagination::cursor(query.cursor.as_deref())?;
    let rows = db::run(&state.pool, move |conn| {
        let article = for_staff(conn, &key, &caller)?;
        let entry = find(conn, article.id, id)?;
        let mut q = live_entry_revisions::table
            .filter(live_entry_revisions::entry_id.eq(entry.id))
            .select(RevisionRow::as_select())
            .order(live_entry_revisions::revision.desc())
            .limit(limit + 1)
            .into_boxed();
        if let Some(before) = before {
            q = q.filter(live_entry_revisions::revision.lt(before));
        }
        Ok(q.load(conn)?)
    })
    .await?;
    let (rows, more) = pagination::split_page(rows, limit);
    let next_cursor = more
        .then(|| rows.last().map(|r| pagination::encode_cursor(&r.revision)))
        .flatten();
    let data = rows
        .into_iter()
        .map(|r| EntryRevision {
            revision: r.revision,
            title: r.title,
            body: r.body,
            key_event: r.key_event,
            pinned: r.pinned,
            published_at: db::utc(r.published_at),
            changed_at: db::utc(r.changed_at),
            changed_by: r.changed_by,
        })
        .collect();
    Ok(web::Json(EntryRevisionPage { data, next_cursor }))
}
