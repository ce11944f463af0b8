//! Full-text search, the one place where the two databases differ: PostgreSQL keeps a tsvector
//! per article (stemmed in the article's language where it has a stemmer) with a GIN index;
//! SQLite keeps an FTS5 table (Porter stemming for English). Both are written on every change.
//!
//! A search considers a bounded pool of the most recently written matches, and that pool holds
//! only what the caller may read (`Pool`): drafts never crowd public articles out of it.
//! PostgreSQL keeps the public time beside each document (`visible_at`, kept by the write path
//! with the feed times) so the GIN scan filters in one table; SQLite joins `articles`.

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::sql_types::{Double, Integer, Nullable, Text, Timestamp};
use diesel::{QueryableByName, RunQueryDsl};

use super::stored;
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

/// The PostgreSQL text search configuration for a language.
fn pg_config(language: &str) -> &'static str {
    match language.split('-').next().unwrap_or("") {
        "en" => "english",
        "ru" => "russian",
        "de" => "german",
        "fr" => "french",
        "es" => "spanish",
        "it" => "italian",
        "tr" => "turkish",
        _ => "simple",
    }
}

/// (Re)writes the search document of an article.
pub fn index(conn: &mut DbConnection, doc: &Document<'_>) -> Result<(), ApiError> {
    remove(conn, doc.id)?;
    match conn {
        DbConnection::Postgresql(_) => {
            let config = pg_config(doc.language);
            diesel::sql_query(format!(
                "INSERT INTO article_search (article_id, document, visible_at) VALUES ($1, \
                 setweight(to_tsvector('{config}', $2), 'A') || \
                 setweight(to_tsvector('{config}', $3), 'B') || \
                 setweight(to_tsvector('{config}', $4), 'D'), $5)"
            ))
            .bind::<Integer, _>(doc.id)
            .bind::<Text, _>(doc.title)
            .bind::<Text, _>(doc.summary)
            .bind::<Text, _>(doc.body_text)
            .bind::<Nullable<Timestamp>, _>(doc.visible_at)
            .execute(conn)?;
        }
        DbConnection::Sqlite(_) => {
            diesel::sql_query(
                "INSERT INTO article_search (rowid, title, summary, body) VALUES (?, ?, ?, ?)",
            )
            .bind::<Integer, _>(doc.id)
            .bind::<Text, _>(doc.title)
            .bind::<Text, _>(doc.summary)
            .bind::<Text, _>(doc.body_text)
            .execute(conn)?;
        }
    }
    Ok(())
}

/// Sets when an article's document becomes public (None: not public), as its feed time.
/// SQLite reads this from `articles` itself.
pub fn set_visible(
    conn: &mut DbConnection,
    id: i32,
    visible_at: Option<NaiveDateTime>,
) -> Result<(), ApiError> {
    if let DbConnection::Postgresql(_) = conn {
        diesel::sql_query("UPDATE article_search SET visible_at = $1 WHERE article_id = $2")
            .bind::<Nullable<Timestamp>, _>(visible_at)
            .bind::<Integer, _>(id)
            .execute(conn)?;
    }
    Ok(())
}

pub fn remove(conn: &mut DbConnection, id: i32) -> Result<(), ApiError> {
    let statement = match conn {
        DbConnection::Postgresql(_) => {
            format!("DELETE FROM article_search WHERE article_id = {id}")
        }
        DbConnection::Sqlite(_) => format!("DELETE FROM article_search WHERE rowid = {id}"),
    };
    conn.batch_execute(&statement)?;
    Ok(())
}

/// Which SQL dialect a connection speaks, for the fragments below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

impl Dialect {
    pub fn of(conn: &DbConnection) -> Self {
        match conn {
            DbConnection::Postgresql(_) => Dialect::Postgres,
            DbConnection::Sqlite(_) => Dialect::Sqlite,
        }
    }
}

/// The user's words as a query: on PostgreSQL web-search syntax in English, Russian and
/// without stemming at once; on SQLite each word quoted (no FTS5 syntax gets through), all
/// required.
fn query_text(dialect: Dialect, q: &str) -> String {
    match dialect {
        Dialect::Postgres => q.to_owned(),
        Dialect::Sqlite => q
            .split_whitespace()
            .map(sqlite_term)
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// Vowel endings of Russian and Tajik word forms.
const CYRILLIC_ENDINGS: &str = "аеёиийоуыьэюяӣӯ";

/// One FTS5 term. SQLite has no Russian stemmer, so a Cyrillic word of five letters or more
/// matches as a prefix without its vowel ending ("граница" finds "границе" and "границы").
fn sqlite_term(word: &str) -> String {
    let word = word.to_lowercase().replace('"', "\"\"");
    if word.chars().count() >= 5 && word.chars().any(|c| ('\u{0400}'..='\u{04ff}').contains(&c)) {
        let stem = word.trim_end_matches(|c| CYRILLIC_ENDINGS.contains(c));
        if stem.chars().count() >= 4 {
            return format!("\"{stem}\"*");
        }
    }
    format!("\"{word}\"")
}

/// How many matches a search considers: the most recently written ones. Ranking every match
/// of a common word would cost time in proportion to the archive; news readers want the best of
/// the recent matches.
pub const POOL: i64 = 1000;

#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Double)]
    rank: f64,
}

/// The `POOL` most recently written articles matching `q` that `pool` admits, newest first,
/// each with its rank (larger is better). Ranks are computed for these only.
pub fn candidates(
    conn: &mut DbConnection,
    q: &str,
    pool: Pool,
) -> Result<Vec<(i32, f64)>, ApiError> {
    let text = query_text(Dialect::of(conn), q);
    let now = db::now();
    match conn {
        DbConnection::Postgresql(_) => {
            let admits = match pool {
                Pool::Public => "AND visible_at <= $2",
                Pool::Byline(_) => {
                    "AND article_id IN (SELECT article_id FROM article_authors WHERE user_id = $2)"
                }
                Pool::All => "",
            };
            let query = format!(
                "SELECT found.article_id AS id, CAST(ts_rank(found.document, input.query) AS DOUBLE PRECISION) AS rank \
                 FROM (SELECT websearch_to_tsquery('english', $1) || websearch_to_tsquery('russian', $1) \
                       || websearch_to_tsquery('simple', $1) AS query) AS input, \
                 LATERAL (SELECT article_id, document FROM article_search \
                          WHERE document @@ input.query {admits} \
                          ORDER BY article_id DESC LIMIT {POOL}) AS found \
                 ORDER BY found.article_id DESC"
            );
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
                load(conn, query, text, pool, now, None)
            })
        }
        DbConnection::Sqlite(_) => {
            let admits = match pool {
                Pool::Public => {
                    "AND articles.status = ? AND articles.published_at <= ? \
                     AND articles.deleted_at IS NULL"
                }
                Pool::Byline(_) => {
                    "AND articles.id IN (SELECT article_id FROM article_authors WHERE user_id = ?)"
                }
                Pool::All => "",
            };
            let query = format!(
                "SELECT article_search.rowid AS id, -bm25(article_search, 10.0, 4.0, 1.0) AS rank \
                 FROM article_search JOIN articles ON articles.id = article_search.rowid \
                 WHERE article_search MATCH ? {admits} \
                 ORDER BY article_search.rowid DESC LIMIT {POOL}"
            );
            load(conn, query, text, pool, now, Some(stored::PUBLISHED))
        }
    }
}

/// Runs a candidate query with the binds its pool asks for: the text, then the public time
/// (after the stored status where the dialect compares it), or the byline's user.
fn load(
    conn: &mut DbConnection,
    query: String,
    text: String,
    pool: Pool,
    now: NaiveDateTime,
    status: Option<&'static str>,
) -> Result<Vec<(i32, f64)>, ApiError> {
    let mut query = diesel::sql_query(query)
        .into_boxed::<<DbConnection as diesel::Connection>::Backend>()
        .bind::<Text, _>(text);
    query = match pool {
        Pool::Public => match status {
            Some(status) => query.bind::<Text, _>(status).bind::<Timestamp, _>(now),
            None => query.bind::<Timestamp, _>(now),
        },
        Pool::Byline(user) => query.bind::<Integer, _>(user),
        Pool::All => query,
    };
    let found: Vec<Candidate> = query.load(conn)?;
    Ok(found.into_iter().map(|c| (c.id, c.rank)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_queries_quote_every_word() {
        assert_eq!(
            query_text(Dialect::Sqlite, r#"Border "treaty OR x*"#),
            r#""border" """treaty" "or" "x*""#
        );
        assert_eq!(
            query_text(Dialect::Sqlite, "граница договор"),
            r#""границ"* "договор"*"#
        );
        assert_eq!(query_text(Dialect::Sqlite, "газ"), r#""газ""#);
    }

    #[test]
    fn languages_pick_their_stemmer() {
        assert_eq!(pg_config("ru"), "russian");
        assert_eq!(pg_config("en-GB"), "english");
        assert_eq!(pg_config("tg"), "simple");
    }
}
