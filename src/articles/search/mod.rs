//! Full-text search, the one place where the two databases differ. The terms are made here
//! for both (`analysis`: Snowball stemming in each article's language, case and diacritics
//! folded) and indexed as they are: PostgreSQL keeps a tsvector per article (title, summary
//! and body weighted A, B and D) with a GIN index; SQLite an FTS5 table with a column each.
//! A query is parsed once (`query`) and written out for either, so both find the same.
//!
//! A search considers a bounded pool of the most recently written matches, and that pool holds
//! only what the caller may read (`Pool`): drafts never crowd public articles out of it.
//! Each document's public time (`visible_at`, kept by the write path with the feed times) is
//! kept beside it: PostgreSQL in `article_search`, so the GIN scan filters in one table;
//! SQLite in the narrow `article_search_visible`, so the candidates are checked in a few pages.
//!
//! Rank needs no per-document scoring: a match confined to the title outranks one confined to
//! the summary, which outranks one that needs the body (`Fields`), and among equal ranks the
//! newer article comes first.

mod analysis;
mod highlight;
mod query;

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Double, Integer, Nullable, Text, Timestamp};
use diesel::QueryableByName;

pub use highlight::Highlight;
use query::Fields;
pub use query::Query;

use super::stored;
use crate::db::schema::{article_texts, articles};
use crate::db::{self, DbConnection};
use crate::error::ApiError;
/// The search document of one article.
pub struct Document<'a> {
    pub id: i32,
    pub language: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
    pub body_text: &'a str,
    /// Its publication time while published and out of the trash (the feed time), else None.
    pub visible_at: Option<NaiveDateTime>,
}

/// Which articles a search may consider: what its caller may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    /// Public articles only.
    Public,
    /// Articles with this user's byline (an author's own work).
    Byline(i32),
    /// Every article (editors and admins).
    All,
}

/// (Re)writes the search document of an article.
pub fn index(conn: &mut DbConnection, doc: &Document<'_>) -> Result<(), ApiError> {
    remove(conn, doc.id)?;
    let stemming = analysis::Stemming::of(doc.language);
    let title = analysis::index_text(doc.title, stemming);
    let summary = analysis::index_text(doc.summary, stemming);
    let body = analysis::index_text(doc.body_text, stemming);
    let postgres = matches!(conn, DbConnection::Postgresql(_));
    let statement = if postgres {
        "INSERT INTO article_search (article_id, document, visible_at) VALUES ($1, \
         setweight(to_tsvector('simple', $2), 'A') || \
         setweight(to_tsvector('simple', $3), 'B') || \
         setweight(to_tsvector('simple', $4), 'D'), $5)"
    } else {
        "INSERT INTO article_search (rowid, title, summary, body) VALUES (?, ?, ?, ?)"
    };
    let mut insert = diesel::sql_query(statement)
        .into_boxed::<<DbConnection as diesel::Connection>::Backend>()
        .bind::<Integer, _>(doc.id)
        .bind::<Text, _>(title)
        .bind::<Text, _>(summary)
        .bind::<Text, _>(body);
    if postgres {
        insert = insert.bind::<Nullable<Timestamp>, _>(doc.visible_at);
    }
    insert.execute(conn)?;
    if !postgres {
        diesel::sql_query(
            "INSERT INTO article_search_visible (article_id, visible_at) VALUES (?, ?)",
        )
        .bind::<Integer, _>(doc.id)
        .bind::<Nullable<Timestamp>, _>(doc.visible_at)
        .execute(conn)?;
    }
    diesel::insert_into(article_texts::table)
        .values((
            article_texts::article_id.eq(doc.id),
            article_texts::body_text.eq(doc
                .body_text
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")),
        ))
        .execute(conn)?;
    Ok(())
}

/// Indexes every article that has no search document (after a migration that rebuilt them);
/// how many.
pub(crate) fn index_missing(conn: &mut DbConnection) -> Result<usize, ApiError> {
    type Missing = (
        i32,
        String,
        String,
        Option<String>,
        String,
        String,
        Option<NaiveDateTime>,
        Option<NaiveDateTime>,
    );
    let missing: Vec<Missing> = articles::table
        .left_join(article_texts::table)
        .filter(article_texts::article_id.is_null())
        .select((
            articles::id,
            articles::language,
            articles::title,
            articles::summary,
            articles::body,
            articles::status,
            articles::published_at,
            articles::deleted_at,
        ))
        .order(articles::id)
        .load(conn)?;
    for (id, language, title, summary, body, status, published_at, deleted_at) in &missing {
        let visible = status == stored::PUBLISHED && deleted_at.is_none();
        index(
            conn,
            &Document {
                id: *id,
                language,
                title,
                summary: summary.as_deref().unwrap_or(""),
                body_text: &super::html::plain_text(body),
                visible_at: published_at.filter(|_| visible),
            },
        )?;
    }
    Ok(missing.len())
}

/// Sets when an article's document becomes public (None: not public), as its feed time.
pub fn set_visible(
    conn: &mut DbConnection,
    id: i32,
    visible_at: Option<NaiveDateTime>,
) -> Result<(), ApiError> {
    let statement = match conn {
        DbConnection::Postgresql(_) => {
            "UPDATE article_search SET visible_at = $1 WHERE article_id = $2"
        }
        DbConnection::Sqlite(_) => {
            "UPDATE article_search_visible SET visible_at = ? WHERE article_id = ?"
        }
    };
    diesel::sql_query(statement)
        .bind::<Nullable<Timestamp>, _>(visible_at)
        .bind::<Integer, _>(id)
        .execute(conn)?;
    Ok(())
}

pub fn remove(conn: &mut DbConnection, id: i32) -> Result<(), ApiError> {
    let statement = match conn {
        DbConnection::Postgresql(_) => {
            format!("DELETE FROM article_search WHERE article_id = {id}")
        }
        DbConnection::Sqlite(_) => format!(
            "DELETE FROM article_search WHERE rowid = {id}; \
             DELETE FROM article_search_visible WHERE article_id = {id}"
        ),
    };
    conn.batch_execute(&statement)?;
    diesel::delete(article_texts::table.find(id)).execute(conn)?;
    Ok(())
}

/// How many matches a search considers: the most recently written ones. Ranking every match
/// of a common word would cost time in proportion to the archive; news readers want the best of
/// the recent matches.
pub const POOL: i64 = 1000;

/// The ranks of the fields a match is confined to (they add up): a match in the title alone
/// outranks one in the summary alone, which outranks one spread over both; one that needs
/// the body ranks 0.
const RANKS: [(Fields, i32); 3] = [
    (Fields::Title, 4),
    (Fields::Summary, 2),
    (Fields::TitleAndSummary, 1),
];

#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Double)]
    rank: f64,
}

/// A value bound to a statement.
enum Bind {
    Text(String),
    Time(NaiveDateTime),
    Id(i32),
}

/// The `POOL` most recently written articles matching `query` that `pool` admits, newest
/// first, each with its rank (larger is better). Ranks are computed for these only.
pub fn candidates(
    conn: &mut DbConnection,
    query: &Query,
    pool: Pool,
) -> Result<Vec<(i32, f64)>, ApiError> {
    if query.is_empty() {
        return Ok(Vec::new());
    }
    let now = db::now();
    let mut binds = Vec::with_capacity(6);
    match conn {
        DbConnection::Postgresql(_) => {
            let admits = match pool {
                Pool::Public => "AND visible_at <= $5",
                Pool::Byline(_) => {
                    "AND article_id IN (SELECT article_id FROM article_authors WHERE user_id = $5)"
                }
                Pool::All => "",
            };
            let ranks: Vec<String> = RANKS
                .iter()
                .enumerate()
                .map(|(i, (_, rank))| {
                    format!(
                        "CASE WHEN found.document @@ to_tsquery('simple', ${}) THEN {rank} ELSE 0 END",
                        i + 2
                    )
                })
                .collect();
            let statement = format!(
                "SELECT found.article_id AS id, CAST({} AS DOUBLE PRECISION) AS rank \
                 FROM (SELECT to_tsquery('simple', $1) AS query) AS input, \
                 LATERAL (SELECT article_id, document FROM article_search \
                          WHERE document @@ input.query {admits} \
                          ORDER BY article_id DESC LIMIT {POOL}) AS found \
                 ORDER BY found.article_id DESC",
                ranks.join(" + ")
            );
            binds.push(Bind::Text(query.tsquery(Fields::Any)));
            binds.extend(RANKS.iter().map(|(f, _)| Bind::Text(query.tsquery(*f))));
            match pool {
                Pool::Public => binds.push(Bind::Time(now)),
                Pool::Byline(user) => binds.push(Bind::Id(user)),
                Pool::All => {}
            }
            // PostgreSQL prices a scan by the table's few pages, not by the documents it would
            // detoast to test each row: it scans the whole archive for a rare word (350 ms at
            // 100,000 articles), or the newest ids backwards for a word in one article of
            // twenty (170 ms), where the GIN index answers in 5-15 ms. Its plan depends on the
            // words: planned for each search, unlike the other statements (`db`).
            db::in_transaction(conn, |conn| {
                conn.batch_execute(
                    "SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off; \
                     SET LOCAL plan_cache_mode = force_custom_plan",
                )?;
                load(conn, statement, binds)
            })
        }
        DbConnection::Sqlite(_) => {
            let (join, admits) = match pool {
                Pool::Public => (
                    "JOIN article_search_visible AS visible \
                     ON visible.article_id = article_search.rowid",
                    "AND visible.visible_at <= ?",
                ),
                Pool::Byline(_) => (
                    "",
                    "AND article_search.rowid IN \
                     (SELECT article_id FROM article_authors WHERE user_id = ?)",
                ),
                Pool::All => ("", ""),
            };
            let statement = format!(
                "SELECT article_search.rowid AS id, CAST(0 AS REAL) AS rank \
                 FROM article_search {join} \
                 WHERE article_search MATCH ? {admits} \
                 ORDER BY article_search.rowid DESC LIMIT {POOL}"
            );
            binds.push(Bind::Text(query.fts5(Fields::Any)));
            match pool {
                Pool::Public => binds.push(Bind::Time(now)),
                Pool::Byline(user) => binds.push(Bind::Id(user)),
                Pool::All => {}
            }
            let mut found = load(conn, statement, binds)?;
            let Some(&(oldest, _)) = found.last() else {
                return Ok(found);
            };
            // The matches confined to each field, looked up in the candidates' rowid range
            // only (FTS5 seeks to it), in one more statement.
            let confined: Vec<String> = RANKS
                .iter()
                .map(|(_, rank)| {
                    format!(
                        "SELECT rowid AS id, CAST({rank} AS REAL) AS rank FROM article_search \
                         WHERE article_search MATCH ? AND rowid >= ?"
                    )
                })
                .collect();
            let binds = RANKS
                .iter()
                .flat_map(|(f, _)| [Bind::Text(query.fts5(*f)), Bind::Id(oldest)])
                .collect();
            let mut ranks: HashMap<i32, f64> = HashMap::new();
            for (id, rank) in load(conn, confined.join(" UNION ALL "), binds)? {
                *ranks.entry(id).or_default() += rank;
            }
            for (id, rank) in &mut found {
                *rank = ranks.get(id).copied().unwrap_or(0.0);
            }
            Ok(found)
        }
    }
}

/// Runs a candidate statement with its binds, in order.
fn load(
    conn: &mut DbConnection,
    statement: String,
    binds: Vec<Bind>,
) -> Result<Vec<(i32, f64)>, ApiError> {
    let mut query =
        diesel::sql_query(statement).into_boxed::<<DbConnection as diesel::Connection>::Backend>();
    for bind in binds {
        query = match bind {
            Bind::Text(text) => query.bind::<Text, _>(text),
            Bind::Time(at) => query.bind::<Timestamp, _>(at),
            Bind::Id(id) => query.bind::<Integer, _>(id),
        };
    }
    let found: Vec<Candidate> = query.load(conn)?;
    Ok(found.into_iter().map(|c| (c.id, c.rank)).collect())
}

/// The highlights of the results `ids` for `query`, in one statement.
pub fn highlights(
    conn: &mut DbConnection,
    query: &Query,
    ids: &[i32],
) -> Result<HashMap<i32, Highlight>, ApiError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    /// id, language, title, summary, body text.
    type Found = (i32, String, String, Option<String>, Option<String>);
    let rows: Vec<Found> = articles::table
        .left_join(article_texts::table)
        .filter(articles::id.eq_any(ids))
        .select((
            articles::id,
            articles::language,
            articles::title,
            articles::summary,
            article_texts::body_text.nullable(),
        ))
        .load(conn)?;
    let terms = query.terms();
    Ok(rows
        .into_iter()
        .map(|(id, language, title, summary, body)| {
            let text = highlight::Text {
                language: &language,
                title: &title,
                summary: summary.as_deref().unwrap_or(""),
                body: body.as_deref().unwrap_or(""),
            };
            (id, highlight::highlight(&terms, &text))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_order_title_then_summary_then_both() {
        let rank = |fields: &[Fields]| -> i32 {
            RANKS
                .iter()
                .filter(|(f, _)| fields.contains(f))
                .map(|(_, r)| r)
                .sum()
        };
        let title_only = rank(&[Fields::Title, Fields::TitleAndSummary]);
        let summary_only = rank(&[Fields::Summary, Fields::TitleAndSummary]);
        let spread = rank(&[Fields::TitleAndSummary]);
        assert!(title_only > summary_only && summary_only > spread && spread > rank(&[]));
    }
}
