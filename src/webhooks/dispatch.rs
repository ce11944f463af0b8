//! The dispatcher: reads the event log after `site_state.webhooks_through` and makes one
//! message per event and webhook that wants it, in a write transaction, so that each event is
//! dispatched once however many processes serve. A message's body is fixed when it is made:
//! every attempt sends the same bytes under the same `webhook-id`.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{json, Value};

use super::{wants, DeliveryStatus, WebhookRow};
use crate::auth::tokens::random_token;
use crate::changes::events::{EventRow, EventType};
use crate::changes::{self, Tx};
use crate::db::schema::{
    article_topics, events, site_state, webhook_attempts, webhook_messages, webhooks,
};
use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::state::AppState;
use crate::topics::tree;

/// Events read into one transaction at most.
const BATCH: i64 = 500;

/// Makes a message of `kind` (the event `seq`, if it carries one) for webhook `webhook`, due
/// now; its row id.
pub fn enqueue(
    tx: &mut Tx,
    webhook: i32,
    seq: Option<i64>,
    kind: &str,
    at: NaiveDateTime,
    data: &Value,
) -> Result<i32, ApiError> {
    let body = json!({ "type": kind, "timestamp": db::utc(at), "data": data }).to_string();
    let now = tx.now();
    let id = diesel::insert_into(webhook_messages::table)
        .values((
            webhook_messages::message_id.eq(format!("msg_{}", random_token(16))),
            webhook_messages::webhook_id.eq(webhook),
            webhook_messages::seq.eq(seq),
            webhook_messages::type_.eq(kind),
            webhook_messages::body.eq(body),
            webhook_messages::status.eq(DeliveryStatus::Pending.as_str()),
            webhook_messages::next_attempt_at.eq(now),
            webhook_messages::created_at.eq(now),
        ))
        .returning(webhook_messages::id)
        .get_result(tx.conn())?;
    Ok(id)
}

/// An active webhook as the dispatcher reads it.
struct Subscriber {
    id: i32,
    after_seq: i64,
    events: Vec<String>,
    topics: Option<HashSet<i32>>,
}

/// What topic filters are checked against: each article's topics (ancestors included), and
/// the topic tree.
#[derive(Default)]
struct Filing {
    articles: HashMap<i32, HashSet<i32>>,
    parents: HashMap<i32, Option<i32>>,
}

impl Filing {
    fn load(conn: &mut DbConnection, rows: &[EventRow]) -> Result<Self, ApiError> {
        let ids: Vec<i32> = rows.iter().filter_map(|e| e.article_id).collect();
        let mut articles: HashMap<i32, HashSet<i32>> = HashMap::new();
        for chunk in ids.chunks(500) {
            let filed: Vec<(i32, i32)> = article_topics::table
                .filter(article_topics::article_id.eq_any(chunk))
                .select((article_topics::article_id, article_topics::topic_id))
                .load(conn)?;
            for (article, topic) in filed {
                articles.entry(article).or_default().insert(topic);
            }
        }
        let parents = if rows.iter().any(|e| e.topic_id.is_some()) {
            tree::parents(conn)?
        } else {
            HashMap::new()
        };
        Ok(Self { articles, parents })
    }

    /// Whether `event` concerns one of `topics`: an article filed under one of them (or a
    /// descendant), or one of them or a descendant itself. Events of neither (an author's
    /// profile) pass every filter.
    fn matches(&self, topics: &HashSet<i32>, event: &EventRow) -> bool {
        if let Some(article) = event.article_id {
            return self
                .articles
                .get(&article)
                .is_some_and(|filed| !filed.is_disjoint(topics));
        }
        if let Some(topic) = event.topic_id {
            return topics.contains(&topic)
                || tree::ancestors(&self.parents, topic)
                    .iter()
                    .any(|t| topics.contains(t));
        }
        true
    }
}

/// Dispatches the next batch of events; how many it read.
fn dispatch(tx: &mut Tx) -> Result<usize, ApiError> {
    let conn = tx.conn();
    let (through, latest): (i64, i64) = site_state::table
        .find(1)
        .select((site_state::webhooks_through, site_state::generation))
        .first(conn)?;
    let subscribers: Vec<Subscriber> = webhooks::table
        .filter(webhooks::active.eq(true))
        .select(WebhookRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|row| Subscriber {
            id: row.id,
            after_seq: row.after_seq,
            events: row.events(),
            topics: row.topic_ids().map(|ids| ids.into_iter().collect()),
        })
        .collect();
    // No subscriber wants what came before the oldest subscription.
    let Some(start) = subscribers.iter().map(|s| s.after_seq).min() else {
        diesel::update(site_state::table.find(1))
            .set(site_state::webhooks_through.eq(latest))
            .execute(conn)?;
        return Ok(0);
    };
    let rows: Vec<EventRow> = events::table
        .filter(events::seq.gt(through.max(start)))
        .order(events::seq.asc())
        .limit(BATCH)
        .select(EventRow::as_select())
        .load(conn)?;
    let Some(last) = rows.last().map(|e| e.seq) else {
        // Every event through `latest` is committed (this holds the writers' lock).
        diesel::update(site_state::table.find(1))
            .set(site_state::webhooks_through.eq(latest))
            .execute(conn)?;
        return Ok(0);
    };
    let filing = if subscribers.iter().any(|s| s.topics.is_some()) {
        Filing::load(conn, &rows)?
    } else {
        Filing::default()
    };
    for event in &rows {
        let Some(kind) = EventType::parse(&event.type_) else {
            continue;
        };
        let data = serde_json::to_value(event.to_event(false)).unwrap_or(Value::Null);
        for subscriber in &subscribers {
            let wanted = event.seq > subscriber.after_seq
                && wants(&subscriber.events, kind)
                && subscriber
                    .topics
                    .as_ref()
                    .is_none_or(|topics| filing.matches(topics, event));
            if wanted {
                enqueue(
                    tx,
                    subscriber.id,
                    Some(event.seq),
                    kind.as_str(),
                    event.occurred_at,
                    &data,
                )?;
            }
        }
    }
    diesel::update(site_state::table.find(1))
        .set(site_state::webhooks_through.eq(last))
        .execute(tx.conn())?;
    Ok(rows.len())
}

/// Whether there are events no webhook was yet told of, and webhooks to tell.
fn behind(conn: &mut DbConnection) -> Result<bool, ApiError> {
    let (through, latest): (i64, i64) = site_state::table
        .find(1)
        .select((site_state::webhooks_through, site_state::generation))
        .first(conn)?;
    if through >= latest {
        return Ok(false);
    }
    let active: i64 = webhooks::table
        .filter(webhooks::active.eq(true))
        .count()
        .get_result(conn)?;
    Ok(active > 0)
}

/// Dispatches every event not yet dispatched.
pub async fn catch_up(state: &AppState) -> Result<(), ApiError> {
    while db::run(&state.pool, behind).await? {
        let read = changes::write(state, None, dispatch).await?;
        if read < usize::try_from(BATCH).unwrap_or(usize::MAX) {
            break;
        }
    }
    Ok(())
}

/// Removes the messages (and their attempts) made before `cutoff` that are settled: they are
/// kept as long as events are.
pub fn forget(tx: &mut Tx, cutoff: NaiveDateTime) -> Result<usize, ApiError> {
    let old = webhook_messages::table
        .filter(webhook_messages::created_at.lt(cutoff))
        .filter(webhook_messages::status.ne(DeliveryStatus::Pending.as_str()))
        .select(webhook_messages::id);
    diesel::delete(webhook_attempts::table.filter(webhook_attempts::message_id.eq_any(old)))
        .execute(tx.conn())?;
    let removed = diesel::delete(
        webhook_messages::table
            .filter(webhook_messages::created_at.lt(cutoff))
            .filter(webhook_messages::status.ne(DeliveryStatus::Pending.as_str())),
    )
    .execute(tx.conn())?;
    Ok(removed)
}
