//! Delivery: a bounded pool of workers sends the messages that are due, as the Standard
//! Webhooks specification says, and records every attempt.
//!
//! A worker claims a message in a write transaction (`claimed_until`, a lease longer than an
//! attempt can last), so with several processes on one database each message is sent by one
//! of them; a process killed mid-attempt lets the lease run out and the message is sent again
//! (at-least-once: receivers de-duplicate by `webhook-id`). An endpoint has at most one
//! message in flight and its oldest due message goes first, so while it answers, its messages
//! arrive in `seq` order; one that fails waits out its back-off without holding up the rest.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokio::sync::Semaphore;

use super::{dispatch, DeliveryStatus};
use crate::changes::{self, Tx};
use crate::db::schema::{webhook_attempts, webhook_messages, webhooks};
use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::outbound::{self, Outbound, Reply};
use crate::state::AppState;

/// How long a claim holds: longer than an attempt may take.
const LEASE: Duration = Duration::seconds(20);
/// After every attempt of this long has failed, an endpoint is disabled.
const DISABLE_AFTER: Duration = Duration::days(5);
/// The most of a response an attempt records.
const RECORDED_BYTES: usize = 1024;

/// A claimed message, with what sending it needs.
struct Claimed {
    id: i32,
    message_id: String,
    body: String,
    attempts: i32,
    webhook: i32,
    url: String,
    secret: String,
}

/// The `webhook-signature` of a message: `v1,` and the base64 HMAC-SHA256 of
/// `{id}.{timestamp}.{body}`, keyed with the secret's base64-decoded part.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = BASE64
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body.as_bytes());
    Some(format!("v1,{}", BASE64.encode(mac.finalize().into_bytes())))
}

/// The endpoints with a message in flight at `now`.
fn busy(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Vec<i32>, ApiError> {
    Ok(webhook_messages::table
        .filter(webhook_messages::status.eq(DeliveryStatus::Pending.as_str()))
        .filter(webhook_messages::claimed_until.gt(now))
        .select(webhook_messages::webhook_id)
        .distinct()
        .load(conn)?)
}

/// Whether a message could be claimed: due, its endpoint active and with none in flight (a
/// read, so that a process whose endpoints are all busy takes no write turn for nothing).
fn any_due(conn: &mut DbConnection) -> Result<bool, ApiError> {
    let now = db::now();
    let busy = busy(conn, now)?;
    let due: Option<i32> = webhook_messages::table
        .inner_join(webhooks::table)
        .filter(webhooks::active.eq(true))
        .filter(webhook_messages::webhook_id.ne_all(&busy))
        .filter(webhook_messages::status.eq(DeliveryStatus::Pending.as_str()))
        .filter(webhook_messages::next_attempt_at.le(now))
        .filter(
            webhook_messages::claimed_until
                .is_null()
                .or(webhook_messages::claimed_until.le(now)),
        )
        .select(webhook_messages::id)
        .first(conn)
        .optional()?;
    Ok(due.is_some())
}

/// Claims at most `room` due messages, the oldest of each endpoint that has none in flight.
fn claim(tx: &mut Tx, room: usize) -> Result<Vec<Claimed>, ApiError> {
    let now = tx.now();
    let conn = tx.conn();
    let pending = DeliveryStatus::Pending.as_str();
    let busy = busy(conn, now)?;
    let due: Vec<(i32, i32)> = webhook_messages::table
        .inner_join(webhooks::table)
        .filter(webhooks::active.eq(true))
        .filter(webhook_messages::status.eq(pending))
        .filter(webhook_messages::next_attempt_at.le(now))
        .filter(
            webhook_messages::claimed_until
                .is_null()
                .or(webhook_messages::claimed_until.le(now)),
        )
        .order(webhook_messages::id.asc())
        .limit(1000)
        .select((webhook_messages::id, webhook_messages::webhook_id))
        .load(conn)?;
    let mut taken: Vec<i32> = Vec::new();
    let mut chosen: Vec<i32> = Vec::new();
    for (id, webhook) in due {
        if chosen.len() >= room {
            break;
        }
        if !busy.contains(&webhook) && !taken.contains(&webhook) {
            taken.push(webhook);
            chosen.push(id);
        }
    }
    if chosen.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(webhook_messages::table.filter(webhook_messages::id.eq_any(&chosen)))
        .set(webhook_messages::claimed_until.eq(Some(now + LEASE)))
        .execute(conn)?;
    let rows: Vec<(i32, String, String, i32, i32, String, String)> = webhook_messages::table
        .inner_join(webhooks::table)
        .filter(webhook_messages::id.eq_any(&chosen))
        .order(webhook_messages::id.asc())
        .select((
            webhook_messages::id,
            webhook_messages::message_id,
            webhook_messages::body,
            webhook_messages::attempts,
            webhooks::id,
            webhooks::url,
            webhooks::secret,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id, message_id, body, attempts, webhook, url, secret)| Claimed {
                id,
                message_id,
                body,
                attempts,
                webhook,
                url,
                secret,
            },
        )
        .collect())
}

/// One attempt at a message.
async fn send(outbound: &Outbound, message: &Claimed) -> Reply {
    let timestamp = chrono::Utc::now().timestamp();
    let request = outbound
        .request(reqwest::Method::POST, &message.url)
        .header("content-type", "application/json")
        .header("webhook-id", &message.message_id)
        .header("webhook-timestamp", timestamp.to_string());
    let Some(signature) = signature(
        &message.secret,
        &message.message_id,
        timestamp,
        &message.body,
    ) else {
        return outbound::refused("the webhook's secret cannot sign");
    };
    outbound
        .send(
            request
                .header("webhook-signature", signature)
                .body(message.body.clone()),
        )
        .await
}

/// Records an attempt: the message succeeded, waits for its next attempt, or has failed; the
/// endpoint is healthy again, or failing (and disabled after five days of it).
fn settle(
    tx: &mut Tx,
    message: &Claimed,
    attempted_at: NaiveDateTime,
    reply: &Reply,
) -> Result<(), ApiError> {
    let now = tx.now();
    let conn = tx.conn();
    let attempts = message.attempts + 1;
    let succeeded = reply.succeeded();
    let next = (!succeeded)
        .then(|| outbound::retry_after(u32::try_from(attempts).unwrap_or(u32::MAX)))
        .flatten()
        .and_then(|wait| Duration::from_std(wait).ok());
    let status = match (succeeded, next) {
        (true, _) => DeliveryStatus::Succeeded,
        (false, Some(_)) => DeliveryStatus::Pending,
        (false, None) => DeliveryStatus::Failed,
    };
    let updated = diesel::update(webhook_messages::table.find(message.id))
        .set((
            webhook_messages::status.eq(status.as_str()),
            webhook_messages::attempts.eq(attempts),
            webhook_messages::claimed_until.eq(None::<NaiveDateTime>),
            next.map(|wait| webhook_messages::next_attempt_at.eq(now + wait)),
        ))
        .execute(conn)?;
    if updated == 0 {
        // Its webhook was deleted meanwhile.
        return Ok(());
    }
    let recorded = &reply.body[..reply.body.len().min(RECORDED_BYTES)];
    diesel::insert_into(webhook_attempts::table)
        .values((
            webhook_attempts::message_id.eq(message.id),
            webhook_attempts::attempted_at.eq(attempted_at),
            webhook_attempts::status_code.eq(reply.status.map(i32::from)),
            webhook_attempts::error.eq(&reply.error),
            webhook_attempts::duration_ms
                .eq(i32::try_from(reply.duration.as_millis()).unwrap_or(i32::MAX)),
            webhook_attempts::response.eq(String::from_utf8_lossy(recorded).into_owned()),
        ))
        .execute(conn)?;
    if succeeded {
        diesel::update(webhooks::table.find(message.webhook))
            .set(webhooks::failing_since.eq(None::<NaiveDateTime>))
            .execute(conn)?;
        return Ok(());
    }
    let since: Option<NaiveDateTime> = webhooks::table
        .find(message.webhook)
        .select(webhooks::failing_since)
        .first(conn)?;
    let since = since.unwrap_or(attempted_at);
    let disable = now - since >= DISABLE_AFTER;
    diesel::update(webhooks::table.find(message.webhook))
        .set((
            webhooks::failing_since.eq(Some(since)),
            disable.then(|| webhooks::active.eq(false)),
            disable.then(|| {
                webhooks::disabled_reason.eq(Some(format!(
                    "every delivery failed from {} for five days",
                    db::utc(since).format("%Y-%m-%d %H:%M UTC")
                )))
            }),
        ))
        .execute(conn)?;
    Ok(())
}

/// Sends a claimed message and records how it went.
async fn attempt(state: &AppState, message: Claimed) {
    let attempted_at = db::now();
    let reply = send(&state.outbound, &message).await;
    let recorded = changes::write(state, None, move |tx| {
        settle(tx, &message, attempted_at, &reply)
    })
    .await;
    if let Err(e) = recorded {
        log::warn!("recording a webhook delivery failed: {e}");
    }
}

/// Dispatches, and delivers with `workers` attempts at once at most (a slow receiver holds one
/// of them at most; none: this process leaves delivery to others), for as long as the
/// process serves.
pub async fn run(state: actix_web::web::Data<AppState>, workers: usize) {
    let workers = Arc::new(Semaphore::new(workers));
    let mut seqs = state.watch.seqs();
    loop {
        if let Err(e) = dispatch::catch_up(&state).await {
            log::warn!("dispatching webhook messages failed: {e}");
        }
        let room = workers.available_permits();
        let due = room > 0 && db::run(&state.pool, any_due).await.unwrap_or(false);
        if due {
            match changes::write(&state, None, move |tx| claim(tx, room)).await {
                Ok(claimed) => {
                    for message in claimed {
                        let Ok(permit) = workers.clone().try_acquire_owned() else {
                            break;
                        };
                        let state = state.clone();
                        tokio::spawn(async move {
                            attempt(&state, message).await;
                            drop(permit);
                            state.watch.nudge();
                        });
                    }
                }
                Err(e) => log::warn!("claiming webhook messages failed: {e}"),
            }
        }
        let _ = tokio::time::timeout(std::time::Duration::from_secs(1), seqs.changed()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_standard_webhooks_example() {
        // The example of the specification's reference implementations.
        let signature = signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(
            signature.as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }
}
