//! Cards: each article's summary as the public sees it, stored as the JSON a feed item or a
//! related item shows, with the surrogate keys of that card. The write path renders them in
//! the transaction of every change that alters one (`changes::Tx`: the article itself, its
//! topics, its bylines, a topic renamed or a byline's profile); public lists read one narrow
//! row per item instead of the article, its topics and its bylines, and copy the JSON into the
//! response as it is.
//!
//! A card is only ever shown while its article is public, so it says `published` whatever the
//! stored state's time (a scheduled article's card is ready for the instant it comes due).

use std::collections::{BTreeSet, HashMap};

use actix_web::http::header::{HeaderValue, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, Responder};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::{summaries, ArticleRow, Status};
use crate::db::schema::{article_cards, articles};
use crate::db::sql::{Statement, Value};
use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::keys::Keys;

/// How many cards are rendered and written per statement.
const BATCH: usize = 500;

/// A stored card: the summary's JSON (as the write path rendered it: an object) and its keys.
#[derive(Debug, Clone)]
pub struct Card {
    pub id: i32,
    pub json: String,
    keys: String,
}

impl Card {
    pub fn new(id: i32, json: String, keys: String) -> Self {
        Self { id, json, keys }
    }

    /// The topics the card shows: those its article is filed under directly.
    pub fn topics(&self) -> Vec<i32> {
        topics_of(&self.keys)
    }

    /// Adds a field to the card's JSON object (first, before the stored ones).
    pub fn add_field(&mut self, name: &str, value: &impl Serialize) -> Result<(), ApiError> {
        self.rewrite(&[(name, to_json(value)?)], &[])
    }

    /// Rewrites the card's JSON object: the fields `first` (name, JSON) before the stored ones,
    /// and the stored fields named in `replaced` with those values instead. Without
    /// replacements the stored JSON is copied as it is.
    pub fn rewrite(
        &mut self,
        first: &[(&str, String)],
        replaced: &[(&str, String)],
    ) -> Result<(), ApiError> {
        let extra: usize = first
            .iter()
            .chain(replaced)
            .map(|(n, v)| n.len() + v.len() + 4)
            .sum();
        let mut json = String::with_capacity(self.json.len() + extra);
        json.push('{');
        for (name, value) in first {
            push_json(&mut json, name)?;
            json.push(':');
            json.push_str(value);
            json.push(',');
        }
        if replaced.is_empty() {
            match self.json.strip_prefix('{') {
                Some(rest) => json.push_str(rest),
                None => return Err(unreadable()),
            }
        } else {
            // Borrowed, so that the values kept are copied, never parsed into trees.
            let stored: std::collections::BTreeMap<&str, &serde_json::value::RawValue> =
                serde_json::from_str(&self.json).map_err(|_| unreadable())?;
            for (name, value) in stored {
                push_json(&mut json, name)?;
                json.push(':');
                match replaced.iter().find(|(n, _)| *n == name) {
                    Some((_, new)) => json.push_str(new),
                    None => json.push_str(value.get()),
                }
                json.push(',');
            }
            json.pop();
            json.push('}');
        }
        if json.ends_with(",}") {
            // A stored card with no fields.
            json.truncate(json.len() - 2);
            json.push('}');
        }
        self.json = json;
        Ok(())
    }

    /// Adds the card's keys (the article, its topics and its bylines).
    pub fn add_keys(&self, keys: &mut Keys) {
        for key in self.keys.split(' ').filter(|k| !k.is_empty()) {
            keys.add(key);
        }
    }
}

/// The cards of those of `ids` that are public now, in the order of `ids`, in one statement.
/// The visibility is checked in the same statement, so a page whose items were chosen a moment
/// before never shows one that has left the public since.
pub fn public(conn: &mut DbConnection, ids: &[i32]) -> Result<Vec<Card>, ApiError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        article_id: i32,
        #[diesel(sql_type = diesel::sql_types::Text)]
        card: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        keys: String,
    }
    let mut statement = Statement::new();
    statement
        .push("SELECT article_id, card, keys FROM article_cards WHERE public_from <= ")
        .bind(Value::Time(db::now()))
        .push(" AND ")
        .ids_in(conn, "article_id", ids);
    let rows: Vec<Row> = statement.load(conn)?;
    let mut by_id: HashMap<i32, Card> = HashMap::with_capacity(rows.len());
    for row in rows {
        by_id.insert(
            row.article_id,
            Card::new(row.article_id, row.card, row.keys),
        );
    }
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

fn unreadable() -> ApiError {
    ApiError::Internal("a stored card is not a JSON object".into())
}

/// A response body of JSON written by hand from stored cards (which are copied, not parsed).
pub struct RawJson(pub String);

impl Responder for RawJson {
    type Body = String;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse<String> {
        let mut res = HttpResponse::with_body(actix_web::http::StatusCode::OK, self.0);
        res.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        res
    }
}

/// `value` as JSON.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value)
        .map_err(|e| ApiError::internal(format!("cannot render a response: {e}")))
}

/// Appends `value` as JSON.
pub fn push_json<T: Serialize + ?Sized>(out: &mut String, value: &T) -> Result<(), ApiError> {
    out.push_str(&to_json(value)?);
    Ok(())
}

/// Appends `items` as a JSON array, each written by `write`.
pub fn push_array<T>(
    out: &mut String,
    items: &[T],
    mut write: impl FnMut(&mut String, &T) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    out.push('[');
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        write(out, item)?;
    }
    out.push(']');
    Ok(())
}

/// Renders the cards of those of `ids` that exist and stores them in place of their old ones,
/// and rewrites the topic heads of every article whose topics or feed time changed
/// (`topics::heads`). Only the write path calls it, inside its transaction.
pub(crate) fn refresh(conn: &mut DbConnection, ids: &[i32]) -> Result<(), ApiError> {
    let mut heads: BTreeSet<i32> = BTreeSet::new();
    for chunk in ids.chunks(BATCH) {
        let old: HashMap<i32, Filed> = article_cards::table
            .filter(article_cards::article_id.eq_any(chunk))
            .select((
                article_cards::article_id,
                article_cards::public_from,
                article_cards::keys,
            ))
            .load::<(i32, Option<NaiveDateTime>, String)>(conn)?
            .into_iter()
            .map(|(id, public_from, keys)| (id, Filed::of(public_from, &keys)))
            .collect();
        let rows: Vec<ArticleRow> = articles::table
            .filter(articles::id.eq_any(chunk))
            .select(ArticleRow::as_select())
            .load(conn)?;
        let public_from: Vec<(Option<NaiveDateTime>, Option<i32>)> = rows
            .iter()
            .map(|r| {
                let published = r.status == super::stored::PUBLISHED && r.deleted_at.is_none();
                (r.published_at.filter(|_| published), r.translation_group)
            })
            .collect();
        let mut cards = Vec::with_capacity(rows.len());
        for (mut summary, (public_from, group)) in
            summaries(conn, rows)?.into_iter().zip(public_from)
        {
            if public_from.is_some() {
                summary.status = Status::Published;
            }
            let id = summary.id;
            let language = summary.language.clone();
            let mut keys = Keys::default();
            summary.add_keys(&mut keys);
            let json = serde_json::to_string(&summary)
                .map_err(|e| ApiError::internal(format!("cannot render a card: {e}")))?;
            let keys = keys.into_vec().join(" ");
            let filed = Filed::of(public_from, &keys);
            match old.get(&id) {
                Some(before) if *before == filed => {}
                before => heads.extend(
                    filed
                        .heads()
                        .chain(before.into_iter().flat_map(Filed::heads)),
                ),
            }
            cards.push((
                article_cards::article_id.eq(id),
                article_cards::public_from.eq(public_from),
                article_cards::language.eq(language),
                article_cards::card.eq(json),
                article_cards::keys.eq(keys),
                article_cards::translation_group.eq(group),
            ));
        }
        diesel::delete(article_cards::table.filter(article_cards::article_id.eq_any(chunk)))
            .execute(conn)?;
        // Multi-row inserts are built per backend, not for the connection over both.
        match conn {
            DbConnection::Postgresql(c) => diesel::insert_into(article_cards::table)
                .values(&cards)
                .execute(c)?,
            DbConnection::Sqlite(c) => diesel::insert_into(article_cards::table)
                .values(&cards)
                .execute(c)?,
        };
    }
    // An article removed for good has no card left to compare: `safety::destroy_if` rewrites
    // the heads it was in.
    crate::topics::heads::refresh(conn, &heads)
}

/// Where a card puts its article in the topic heads: its feed time and its own topics.
#[derive(Debug, PartialEq, Eq)]
struct Filed {
    public_from: Option<NaiveDateTime>,
    topics: Vec<i32>,
}

impl Filed {
    fn of(public_from: Option<NaiveDateTime>, keys: &str) -> Self {
        Self {
            public_from,
            topics: topics_of(keys),
        }
    }

    /// The heads it is in: none unless it is published and out of the trash.
    fn heads(&self) -> impl Iterator<Item = i32> + '_ {
        let filed: &[i32] = if self.public_from.is_some() {
            &self.topics
        } else {
            &[]
        };
        filed.iter().copied()
    }
}

/// The topics among a card's keys: those its article is filed under directly.
fn topics_of(keys: &str) -> Vec<i32> {
    keys.split(' ').filter_map(crate::keys::topic_of).collect()
}

/// Renders the cards of the articles that have none (a database from before cards, or one
/// filled by a bulk loader); returns how many. Only the write path calls it.
pub(crate) fn build_missing(conn: &mut DbConnection) -> Result<usize, ApiError> {
    let missing: Vec<i32> = articles::table
        .left_join(article_cards::table)
        .filter(article_cards::article_id.is_null())
        .select(articles::id)
        .order(articles::id)
        .load(conn)?;
    refresh(conn, &missing)?;
    Ok(missing.len())
}
