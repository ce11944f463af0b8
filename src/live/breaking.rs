//! Breaking news: the articles editors marked (`breaking: true`), while public and until their
//! mark ends, the most recently marked first. Push-notification relays follow
//! `article.breaking` on the event stream or a webhook; pages read `GET /breaking`.

use actix_web::{get, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::articles::cards::{self, Card, RawJson};
use crate::articles::ArticleSummary;
use crate::db;
use crate::db::schema::{article_cards, articles};
use crate::error::ApiError;
use crate::keys::{self, Keys, Tagged};
use crate::state::AppState;

/// The most items the list shows.
pub const MAX_BREAKING: i64 = 5;

/// A breaking item: the article's card with when it was marked.
#[derive(Debug, Serialize, ToSchema)]
pub struct BreakingItem {
    /// When an editor marked it.
    pub breaking_at: DateTime<Utc>,
    #[serde(flatten)]
    pub article: ArticleSummary,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BreakingList {
    /// At most 5, the most recently marked first.
    pub data: Vec<BreakingItem>,
}

/// Breaking news
///
/// The articles marked breaking news that are public now and whose mark has not ended
/// (`breaking_until`, by default six hours after marking), at most 5, the most recently marked
/// first. An item leaves the list at its end with no write (the cache follows the clock).
#[utoipa::path(
    tag = "articles",
    responses((status = 200, description = "The current breaking news", body = BreakingList))
)]
#[get("/breaking")]
pub async fn list_breaking(state: web::Data<AppState>) -> Result<Tagged<RawJson>, ApiError> {
    let rows = db::run(&state.pool, |conn| {
        let now = db::now();
        Ok(articles::table
            .inner_join(article_cards::table)
            .filter(articles::breaking_until.gt(now))
            .filter(article_cards::public_from.le(now))
            .order((articles::breaking_at.desc(), articles::id.desc()))
            .select((
                articles::id,
                articles::breaking_at,
                article_cards::card,
                article_cards::keys,
            ))
            .limit(MAX_BREAKING)
            .load::<(i32, Option<NaiveDateTime>, String, String)>(conn)?)
    })
    .await?;
    let mut keys = Keys::of([keys::BREAKING]);
    let mut out = String::from("{\"data\":");
    let mut items = Vec::with_capacity(rows.len());
    for (id, at, json, card_keys) in rows {
        let mut card = Card::new(id, json, card_keys);
        card.add_keys(&mut keys);
        card.add_field("breaking_at", &at.map(db::utc))?;
        items.push(card);
    }
    cards::push_array(&mut out, &items, |out, card| {
        out.push_str(&card.json);
        Ok(())
    })?;
    out.push('}');
    Ok(Tagged(RawJson(out), keys))
}
