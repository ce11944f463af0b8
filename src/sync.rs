//! Delta sync for offline-first apps: the articles that became public or changed while public
//! since a token, and the ids of those that left the public set. Following `next_token` until
//! `has_more` is false leaves a client with exactly the public set.
//!
//! Every change stamps the article with the seq of its last event (`sync_seq`, kept by the
//! write path); seqs follow commit order, so a stream in (sync_seq, id) order never skips a
//! change. A scheduled article is stamped again when its `article.published` is recorded, and
//! an article removed for good leaves a tombstone with the seq of its `article.deleted`.

use actix_web::{get, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::articles::{summaries, ArticleRow, ArticleSummary};
use crate::changes::scheduler;
use crate::db::schema::{article_tombstones, articles};
use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::keys::{self, Keys, Tagged};
use crate::pagination;
use crate::state::AppState;

/// Where a client stands in the change stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
struct Position {
    seq: i64,
    id: i32,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SyncQuery {
    /// The `next_token` of the previous call; absent for a first sync.
    pub since: Option<String>,
    /// Changes per call, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "changed": [], "removed": [17, 23],
    "next_token": "eyJzZXEiOjQyLCJpZCI6MjN9", "has_more": false
}))]
pub struct SyncPage {
    /// Articles that became public or changed while public: store or replace them.
    pub changed: Vec<ArticleSummary>,
    /// Ids of articles that are no longer public (deleted, unpublished, archived, trashed):
    /// drop them. May name articles the client never had.
    pub removed: Vec<i32>,
    /// Pass as `since` next time.
    pub next_token: String,
    /// More changes wait: call again with `next_token` now.
    pub has_more: bool,
}

/// One page of the stream after `from`: articles and tombstones in (seq, id) order.
fn page(conn: &mut DbConnection, from: Position, limit: i64) -> Result<SyncPage, ApiError> {
    let rows: Vec<(i64, ArticleRow)> = articles::table
        .filter(
            articles::sync_seq.gt(from.seq).or(articles::sync_seq
                .eq(from.seq)
                .and(articles::id.gt(from.id))),
        )
        .order((articles::sync_seq.asc(), articles::id.asc()))
        .select((articles::sync_seq, ArticleRow::as_select()))
        .limit(limit + 1)
        .load(conn)?;
    let tombstones: Vec<(i64, i32)> = article_tombstones::table
        .filter(
            article_tombstones::sync_seq
                .gt(from.seq)
                .or(article_tombstones::sync_seq
                    .eq(from.seq)
                    .and(article_tombstones::article_id.gt(from.id))),
        )
        .order((
            article_tombstones::sync_seq.asc(),
            article_tombstones::article_id.asc(),
        ))
        .select((article_tombstones::sync_seq, article_tombstones::article_id))
        .limit(limit + 1)
        .load(conn)?;

    enum Item {
        Article(Box<ArticleRow>),
        Gone(i32),
    }
    let mut merged: Vec<(Position, Item)> = rows
        .into_iter()
        .map(|(seq, row)| (Position { seq, id: row.id }, Item::Article(Box::new(row))))
        .chain(
            tombstones
                .into_iter()
                .map(|(seq, id)| (Position { seq, id }, Item::Gone(id))),
        )
        .collect();
    merged.sort_by_key(|(position, _)| *position);
    let (merged, has_more) = pagination::split_page(merged, limit);
    let next = merged.last().map_or(from, |(position, _)| *position);

    let now = db::now();
    let mut public = Vec::new();
    let mut removed = Vec::new();
    for (_, item) in merged {
        match item {
            Item::Article(row) if row.is_public(now) => public.push(*row),
            // Only what the public may have had: a draft never was.
            Item::Article(row) if row.was_public => removed.push(row.id),
            Item::Article(_) => {}
            Item::Gone(id) => removed.push(id),
        }
    }
    Ok(SyncPage {
        changed: summaries(conn, public)?,
        removed,
        next_token: pagination::encode_cursor(&next),
        has_more,
    })
}

/// Sync articles
///
/// The changes to the public set of articles since `since`, oldest first: `changed` holds
/// articles that became public or changed while public (summaries), `removed` the ids of
/// those that were deleted, unpublished, archived or trashed. Without `since` it starts from
/// the beginning. Follow `next_token` while `has_more`; keep the last token for the next sync.
/// Scheduled articles enter the stream when their time comes.
#[utoipa::path(
    tag = "articles",
    params(SyncQuery),
    responses((status = 200, description = "One page of changes", body = SyncPage))
)]
#[get("/sync/articles")]
pub async fn sync_articles(
    state: web::Data<AppState>,
    query: web::Query<SyncQuery>,
) -> Result<Tagged<web::Json<SyncPage>>, ApiError> {
    let limit = pagination::limit(query.limit, 100, 500)?;
    let from: Position = pagination::cursor(query.since.as_deref())
        .map_err(|_| ApiError::invalid("since", "is not a token this API returned"))?
        .unwrap_or_default();
    // A scheduled article enters the stream when its time comes: the scheduler records that
    // moment within a second; a sync in that second has it recorded first.
    if db::run(&state.pool, scheduler::any_due).await? {
        scheduler::fire_due(&state).await?;
    }
    let page = db::run(&state.pool, move |conn| page(conn, from, limit)).await?;
    Ok(Tagged(web::Json(page), Keys::of([keys::SYNC])))
}
