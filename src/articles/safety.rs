//! Editorial safety: no lost updates (`If-Match` or a body `version`), revisions of every
//! change, and the trash with restore and purge.

use std::collections::BTreeSet;

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::write::{self, Draft};
use super::{for_staff, load, search, set_feed_time, ArticleKey, ArticleRow, Byline, Status};
use crate::auth::Caller;
use crate::changes::{self, events::ArticleState, Tx};
use crate::db::schema::{article_revisions, articles, topics, users};
use crate::db::{self, DbConnection};
use crate::domain::{Key, Role};
use crate::error::ApiError;
use crate::pagination;
use crate::state::AppState;

/// What a write expects of the article it changes.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// The entity tags of `If-Match` (`*` matches any).
    if_match: Option<Vec<String>>,
    /// A `version` sent in the body.
    version: Option<i32>,
}

impl Expect {
    pub fn new(req: &HttpRequest, version: Option<i32>) -> Self {
        Self {
            if_match: crate::extract::if_match(req),
            version,
        }
    }

    /// 412 when `If-Match` names another version; 409 (with the current version) when the
    /// body's `version` is stale.
    pub fn check(&self, row: &ArticleRow) -> Result<(), ApiError> {
        self.check_version("article", row.version)
    }

    /// The same for `what` (an article, an entry) at `current`, tagged by its version.
    pub fn check_version(&self, what: &str, current: i32) -> Result<(), ApiError> {
        if let Some(tags) = &self.if_match {
            let tag = super::etag_of(current);
            if !tags.iter().any(|t| t == "*" || *t == tag) {
                return Err(ApiError::PreconditionFailed(format!(
                    "the {what} has changed: it is now at {tag}"
                )));
            }
        }
        match self.version {
            Some(v) if v != current => Err(ApiError::Conflict(format!(
                "the {what} is at version {current}; reload it and apply your change again"
            ))),
            _ => Ok(()),
        }
    }

    /// The error for a change that lost a race after its checks passed.
    pub fn lost(&self, err: ApiError) -> ApiError {
        match err {
            ApiError::PreconditionFailed(d) if self.if_match.is_none() => ApiError::Conflict(d),
            other => other,
        }
    }
}

/// Bumps the version of article `row` if it is still the one read: the guard against a
/// concurrent writer. 412 otherwise (see `Expect::lost`).
pub fn claim_version(conn: &mut DbConnection, row: &ArticleRow) -> Result<(), ApiError> {
    let claimed = diesel::update(
        articles::table
            .find(row.id)
            .filter(articles::version.eq(row.version)),
    )
    .set((
        articles::version.eq(row.version + 1),
        articles::updated_at.eq(db::now()),
    ))
    .execute(conn)?;
    if claimed == 1 {
        Ok(())
    } else {
        Err(ApiError::PreconditionFailed(
            "the article was changed by someone else meanwhile".into(),
        ))
    }
}

/// Keeps the state an article had before a change by `changed_by`.
pub fn record(
    conn: &mut DbConnection,
    row: &ArticleRow,
    before: &Draft,
    changed_by: i32,
) -> Result<(), ApiError> {
    let last: Option<i32> = article_revisions::table
        .filter(article_revisions::article_id.eq(row.id))
        .select(diesel::dsl::max(article_revisions::revision))
        .first(conn)?;
    let ids = |ids: &[i32]| serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    diesel::insert_into(article_revisions::table)
        .values((
            article_revisions::article_id.eq(row.id),
            article_revisions::revision.eq(last.unwrap_or(0) + 1),
            article_revisions::version.eq(row.version),
            article_revisions::slug.eq(&row.slug),
            article_revisions::title.eq(&before.title),
            article_revisions::subtitle.eq(&before.subtitle),
            article_revisions::summary.eq(&before.summary),
            article_revisions::body.eq(&before.body),
            article_revisions::status.eq(before.status.stored()),
            article_revisions::published_at.eq(before.published_at),
            article_revisions::topic_ids.eq(ids(&before.topic_ids)),
            article_revisions::author_ids.eq(ids(&before.author_ids)),
            article_revisions::changed_by.eq(changed_by),
            article_revisions::created_at.eq(db::now()),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = article_revisions)]
struct RevisionRow {
    revision: i32,
    version: i32,
    slug: String,
    title: String,
    subtitle: Option<String>,
    summary: Option<String>,
    body: String,
    status: String,
    published_at: Option<NaiveDateTime>,
    topic_ids: String,
    author_ids: String,
    created_at: NaiveDateTime,
}

/// An article as it was before a change.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "revision": 2, "version": 2, "created_at": "2026-11-30T09:05:00Z",
    "changed_by": {"id": 1, "slug": "farrukh-nazarov", "name": "Farrukh Nazarov"},
    "slug": "border-treaty-signed", "title": "Border treaty signed",
    "subtitle": null, "summary": "The presidents signed the agreement in Bishkek.",
    "body": "<p>The presidents of both countries signed the agreement…</p>",
    "status": "review", "published_at": null, "topic_ids": [3, 4], "author_ids": [2]
}))]
pub struct Revision {
    /// The revision's number, 1 for the state before the first change.
    pub revision: i32,
    /// The article's version while it had this state.
    pub version: i32,
    /// When the change that replaced this state was made.
    pub created_at: DateTime<Utc>,
    /// Who made that change; null once the account is gone.
    pub changed_by: Option<Byline>,
    pub slug: String,
    pub title: String,
    pub subtitle: Option<String>,
    pub summary: Option<String>,
    pub body: String,
    pub status: Status,
    pub published_at: Option<DateTime<Utc>>,
    pub topic_ids: Vec<i32>,
    pub author_ids: Vec<i32>,
}

fn revision(row: RevisionRow, changed_by: Option<Byline>) -> Revision {
    Revision {
        status: Status::current(&row.status, row.published_at, db::now()),
        topic_ids: serde_json::from_str(&row.topic_ids).unwrap_or_default(),
        author_ids: serde_json::from_str(&row.author_ids).unwrap_or_default(),
        revision: row.revision,
        version: row.version,
        created_at: db::utc(row.created_at),
        changed_by,
        slug: row.slug,
        title: row.title,
        subtitle: row.subtitle,
        summary: row.summary,
        body: row.body,
        published_at: row.published_at.map(db::utc),
    }
}

/// Revisions of `article_id`, newest first, below revision `before`.
fn revisions(
    conn: &mut DbConnection,
    article_id: i32,
    only: Option<i32>,
    before: Option<i32>,
    limit: i64,
) -> Result<Vec<Revision>, ApiError> {
    let mut query = article_revisions::table
        .left_join(users::table)
        .filter(article_revisions::article_id.eq(article_id))
        .order(article_revisions::revision.desc())
        .select((
            RevisionRow::as_select(),
            (users::id, users::slug, users::name).nullable(),
        ))
        .limit(limit)
        .into_boxed();
    if let Some(n) = only {
        query = query.filter(article_revisions::revision.eq(n));
    }
    if let Some(n) = before {
        query = query.filter(article_revisions::revision.lt(n));
    }
    let rows: Vec<(RevisionRow, Option<Byline>)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(row, by)| revision(row, by))
        .collect())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RevisionsQuery {
    /// Page size, 1 to 50 (default 20).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RevisionPage {
    pub data: Vec<Revision>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// List revisions
///
/// Every earlier state of the article, newest first: what it was before each change, who
/// changed it and when. Staff; authors on their own articles.
#[utoipa::path(
    tag = "articles",
    params(ArticleKey, RevisionsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of revisions", body = RevisionPage),
        (status = 404, description = "No such article, or not visible to the caller",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{key}/revisions")]
pub async fn list_revisions(
    state: web::Data<AppState>,
    caller: Caller,
    key: web::Path<ArticleKey>,
    query: web::Query<RevisionsQuery>,
) -> Result<web::Json<RevisionPage>, ApiError> {
    let key = Key::from_path(&key.key)?;
    let limit = pagination::limit(query.limit, 20, 50)?;
    let before: Option<i32> = pagination::cursor(query.cursor.as_deref())?;
    let page = db::run(&state.pool, move |conn| {
        let row = for_staff(conn, &key, &caller)?;
        let rows = revisions(conn, row.id, None, before, limit + 1)?;
        let (data, more) = pagination::split_page(rows, limit);
        let next_cursor = more
            .then(|| data.last().map(|r| pagination::encode_cursor(&r.revision)))
            .flatten();
        Ok(RevisionPage { data, next_cursor })
    })
    .await?;
    Ok(web::Json(page))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RevisionPath {
    /// The article's id, or its slug.
    #[param(example = "border-treaty-signed")]
    pub key: String,
    /// The revision's number.
    #[param(minimum = 1, example = 2)]
    pub n: i32,
}

fn one(conn: &mut DbConnection, article_id: i32, n: i32) -> Result<Revision, ApiError> {
    revisions(conn, article_id, Some(n), None, 1)?
        .pop()
        .ok_or_else(|| ApiError::not_found("revision"))
}

/// Get a revision
///
/// One earlier state of the article.
#[utoipa::path(
    tag = "articles",
    params(RevisionPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The revision", body = Revision),
        (status = 404, description = "No such article or revision", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[get("/articles/{key}/revisions/{n}")]
pub async fn get_revision(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<RevisionPath>,
) -> Result<web::Json<Revision>, ApiError> {
    let RevisionPath { key, n } = path.into_inner();
    let key = Key::from_path(&key)?;
    let found = db::run(&state.pool, move |conn| {
        let row = for_staff(conn, &key, &caller)?;
        one(conn, row.id, n)
    })
    .await?;
    Ok(web::Json(found))
}

/// Restore a revision
///
/// Makes revision `n` current as a new change: the state it replaces is kept as a revision
/// too, so nothing is overwritten. The rules of `PATCH` apply (authors: their own articles,
/// in draft or review, no publishing), and so do `If-Match` and 412.
#[utoipa::path(
    tag = "articles",
    params(RevisionPath),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The article with the revision's state, and the references \
            of the revision that no longer exist (`dropped`)", body = RestoredRevision,
            headers(("ETag" = String, description = "The article's new version"))),
        (status = 404, description = "No such article or revision", body = crate::error::Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names another version", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[post("/articles/{key}/revisions/{n}/restore")]
pub async fn restore_revision(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<RevisionPath>,
) -> Result<HttpResponse, ApiError> {
    let RevisionPath { key, n } = path.into_inner();
    let key = Key::from_path(&key)?;
    let expect = Expect::new(&req, None);
    let app = state.clone();
    let restored = changes::write(&state, Some(caller.id()), move |tx| {
        let row = super::for_write(tx.conn(), &key, &caller)?;
        let old = one(tx.conn(), row.id, n)?;
        let mut usable: Vec<i32> = topics::table
            .filter(topics::id.eq_any(&old.topic_ids))
            .select(topics::id)
            .load(tx.conn())?;
        let (topic_ids, mut dropped) = keep_only("topic_ids", old.topic_ids, &usable);
        usable = users::table
            .filter(users::id.eq_any(&old.author_ids))
            .filter(users::active.eq(true))
            .select(users::id)
            .load(tx.conn())?;
        usable.extend(super::author_ids(tx.conn(), row.id)?);
        let (author_ids, dropped_authors) = keep_only("author_ids", old.author_ids, &usable);
        dropped.extend(dropped_authors);
        let request = write::UpdateArticle {
            title: Some(old.title),
            slug: Some(old.slug),
            subtitle: Some(old.subtitle),
            summary: Some(old.summary),
            body: Some(old.body),
            topic_ids: Some(topic_ids),
            // With every byline of the revision gone, the current ones stay.
            author_ids: (!author_ids.is_empty()).then_some(author_ids),
            status: Some(match old.status {
                Status::Scheduled if old.published_at.is_some_and(|at| at <= Utc::now()) => {
                    Status::Published
                }
                status => status,
            }),
            // Only editors set the publication time; an author's restore keeps the current one.
            published_at: (caller.role >= Role::Editor).then_some(old.published_at),
            ..write::UpdateArticle::default()
        };
        let article = write::change(tx, &caller, row, request, &expect, &app.html)?;
        Ok(RestoredRevision { article, dropped })
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((
            header::ETAG,
            super::etag_of(restored.article.summary.version),
        ))
        .json(restored))
}

/// A reference of a revision that could not be restored: a topic deleted since, or a byline
/// whose user has been deactivated (or removed) since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"field": "topic_ids", "id": 12}))]
pub struct DroppedReference {
    /// `topic_ids` or `author_ids`.
    pub field: String,
    pub id: i32,
}

/// The article after a revision was restored, and what of the revision was left out.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RestoredRevision {
    #[serde(flatten)]
    pub article: super::Article,
    /// References of the revision that no longer exist; empty when everything was restored.
    pub dropped: Vec<DroppedReference>,
}

/// Splits a revision's references in `field` into those still `usable` (topics that exist;
/// bylines already on the article or naming an active user) and those dropped.
fn keep_only(field: &str, ids: Vec<i32>, usable: &[i32]) -> (Vec<i32>, Vec<DroppedReference>) {
    let (kept, gone): (Vec<i32>, Vec<i32>) = ids.into_iter().partition(|id| usable.contains(id));
    let dropped = gone
        .into_iter()
        .map(|id| DroppedReference {
            field: field.to_owned(),
            id,
        })
        .collect();
    (kept, dropped)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Remove the article for good instead of moving it to the trash (admins only).
    pub permanent: Option<bool>,
}

/// Moves an article to the trash: gone from every public read and feed, its links hidden.
pub fn trash(tx: &mut Tx, row: &ArticleRow) -> Result<(), ApiError> {
    if row.deleted_at.is_some() {
        return Ok(());
    }
    claim_version(tx.conn(), row)?;
    diesel::update(articles::table.find(row.id))
        .set(articles::deleted_at.eq(Some(tx.now())))
        .execute(tx.conn())?;
    set_feed_time(tx.conn(), row.id, None)?;
    record_change(tx, row)
}

/// Records the change of article `before` as it now stands.
fn record_change(tx: &mut Tx, before: &ArticleRow) -> Result<(), ApiError> {
    let after = ArticleRow::find(tx.conn(), &Key::Id(before.id))?
        .ok_or_else(|| ApiError::not_found("article"))?;
    let now = tx.now();
    tx.article(
        Some(&ArticleState::of(before, now)),
        Some(&ArticleState::of(&after, now)),
        &[],
    );
    Ok(())
}

/// Removes an article for good, with its links, revisions and search document.
pub fn destroy(tx: &mut Tx, row: &ArticleRow) -> Result<(), ApiError> {
    destroy_if(tx, row, None).map(|_| ())
}

/// Removes article `row` for good, if (with `trashed_before`) it is still in the trash since
/// before then at the moment of the delete; whether it was removed.
fn destroy_if(
    tx: &mut Tx,
    row: &ArticleRow,
    trashed_before: Option<NaiveDateTime>,
) -> Result<bool, ApiError> {
    let id = row.id;
    // Its topic rows and card go with it: the heads of its topics are rewritten after (a
    // trashed article is in none).
    let topics: BTreeSet<i32> = if row.deleted_at.is_none() {
        crate::topics::tree::direct_topics(tx.conn(), id)?
            .into_iter()
            .collect()
    } else {
        BTreeSet::new()
    };
    let removed = match trashed_before {
        Some(cutoff) => diesel::delete(
            articles::table
                .find(id)
                .filter(articles::deleted_at.lt(cutoff)),
        )
        .execute(tx.conn())?,
        None => diesel::delete(articles::table.find(id)).execute(tx.conn())?,
    };
    if removed == 0 {
        return Ok(false);
    }
    search::remove(tx.conn(), id)?;
    crate::topics::heads::refresh(tx.conn(), &topics)?;
    let now = tx.now();
    tx.article(Some(&ArticleState::of(row, now)), None, &[]);
    Ok(true)
}

/// Restore from the trash
///
/// Brings a trashed article back as it was. Restoring needs the right that trashing needed:
/// editors and admins any article; an author only their own, and only if it was in draft or
/// review when trashed (403 otherwise).
#[utoipa::path(
    tag = "articles",
    params(ArticleKey),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The restored article", body = super::Article,
            headers(("ETag" = String, description = "The article's new version"))),
        (status = 404, description = "No such article, or not visible to the caller",
            body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The article is not in the trash", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[post("/articles/{key}/restore")]
pub async fn restore_article(
    state: web::Data<AppState>,
    caller: Caller,
    key: web::Path<ArticleKey>,
) -> Result<HttpResponse, ApiError> {
    let key = Key::from_path(&key.key)?;
    let article = changes::write(&state, Some(caller.id()), move |tx| {
        let row = super::for_write(tx.conn(), &key, &caller)?;
        if row.deleted_at.is_none() {
            return Err(ApiError::Conflict("the article is not in the trash".into()));
        }
        claim_version(tx.conn(), &row)?;
        diesel::update(articles::table.find(row.id))
            .set(articles::deleted_at.eq(None::<NaiveDateTime>))
            .execute(tx.conn())?;
        let feed_at = (row.status == super::stored::PUBLISHED)
            .then_some(row.published_at)
            .flatten();
        set_feed_time(tx.conn(), row.id, feed_at)?;
        record_change(tx, &row)?;
        let row = ArticleRow::find(tx.conn(), &Key::Id(row.id))?
            .ok_or_else(|| ApiError::not_found("article"))?;
        load(tx.conn(), row)
    })
    .await?;
    Ok(super::with_etag(HttpResponse::Ok(), &article))
}

/// Removes articles trashed more than `days` days ago; returns how many. Each is removed only
/// if it is still in the trash at the moment of its delete: one restored meanwhile stays.
pub fn purge_trash(conn: &mut DbConnection, days: i64) -> Result<usize, ApiError> {
    let cutoff = db::now() - Duration::days(days);
    let rows: Vec<ArticleRow> = articles::table
        .filter(articles::deleted_at.lt(cutoff))
        .select(ArticleRow::as_select())
        .load(conn)?;
    let mut removed = 0;
    for row in rows {
        if changes::write_on(conn, None, |tx| destroy_if(tx, &row, Some(cutoff)))? {
            removed += 1;
        }
    }
    Ok(removed)
}
