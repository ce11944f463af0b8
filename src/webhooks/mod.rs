//! Webhooks: endpoints that want to be told of events. Admins manage them here; the
//! dispatcher (`dispatch`) turns the event log into one message per event and endpoint, and
//! the delivery workers (`deliver`) send them as the Standard Webhooks specification says,
//! retrying with back-off, each message by one server process.

pub mod deliver;
pub mod dispatch;

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use base64::Engine;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::changes::{self, events::EventType, Tx};
use crate::db::schema::{site_state, topics, webhook_attempts, webhook_messages, webhooks};
use crate::db::{self, DbConnection};
use crate::domain::{bounded_text, Errors, Role};
use crate::error::{ApiError, FieldError};
use crate::extract::{nullable, Json};
use crate::openapi::rules::{field, FieldRule, Rule};
use crate::pagination;
use crate::state::AppState;

/// Subscribes to every event type.
pub const EVERY_EVENT: &str = "*";
/// The type of the message `ping` sends.
pub const PING: &str = "webhook.ping";
pub const MAX_URL_CHARS: usize = 2000;
const MAX_DESCRIPTION_CHARS: usize = 500;
const MAX_EVENTS: usize = 20;
const MAX_TOPICS: usize = 20;
/// Endpoints at most.
pub const MAX_WEBHOOKS: i64 = 100;

/// What a subscription may name: every event type, or all of them.
pub const SUBSCRIBABLE: [&str; EventType::NAMES.len() + 1] = {
    let mut names = [EVERY_EVENT; EventType::NAMES.len() + 1];
    let mut i = 0;
    while i < EventType::NAMES.len() {
        names[i + 1] = EventType::NAMES[i];
        i += 1;
    }
    names
};

/// The single-field rules of webhook writes, as the spec states them.
pub const FIELD_RULES: &[FieldRule] = &[
    field("CreateWebhook", "url", Rule::Endpoint(MAX_URL_CHARS)),
    field("UpdateWebhook", "url", Rule::Endpoint(MAX_URL_CHARS)),
    field(
        "CreateWebhook",
        "events",
        Rule::Items(&SUBSCRIBABLE, 1, MAX_EVENTS),
    ),
    field(
        "UpdateWebhook",
        "events",
        Rule::Items(&SUBSCRIBABLE, 1, MAX_EVENTS),
    ),
    field("CreateWebhook", "topics", Rule::Slugs(MAX_TOPICS)),
    field("UpdateWebhook", "topics", Rule::Slugs(MAX_TOPICS)),
    field(
        "CreateWebhook",
        "description",
        Rule::Text(MAX_DESCRIPTION_CHARS),
    ),
    field(
        "UpdateWebhook",
        "description",
        Rule::Text(MAX_DESCRIPTION_CHARS),
    ),
];

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: i32,
    pub url: String,
    pub events: String,
    pub topic_ids: Option<String>,
    pub description: Option<String>,
    pub active: bool,
    pub disabled_reason: Option<String>,
    pub secret: String,
    pub failing_since: Option<NaiveDateTime>,
    pub after_seq: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl WebhookRow {
    pub fn events(&self) -> Vec<String> {
        serde_json::from_str(&self.events).unwrap_or_default()
    }

    pub fn topic_ids(&self) -> Option<Vec<i32>> {
        self.topic_ids
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok())
    }

    /// 409 unless it is active: an inactive webhook is sent nothing.
    fn require_active(self) -> Result<Self, ApiError> {
        if self.active {
            Ok(self)
        } else {
            Err(ApiError::Conflict(
                "the webhook is not active: PATCH it with `active: true` first".into(),
            ))
        }
    }

    fn find(conn: &mut DbConnection, id: i32) -> Result<Self, ApiError> {
        webhooks::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()?
            .ok_or_else(|| ApiError::not_found("webhook"))
    }
}

/// An endpoint subscribed to events. Its secret is shown once, when made or rotated.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 4, "url": "https://www.newsroom.example/api/revalidate",
    "events": ["article.published", "article.updated", "article.unpublished"],
    "topics": ["central-asia"], "description": "Revalidates the website's pages",
    "active": true, "disabled_reason": null,
    "created_at": "2026-12-01T09:00:00Z", "updated_at": "2026-12-01T09:00:00Z"
}))]
pub struct Webhook {
    pub id: i32,
    pub url: String,
    /// Event types, or `*` for all.
    pub events: Vec<String>,
    /// Only article and link events of articles filed under these topics (descendants
    /// included), and topic events of these topics and their descendants; null: all.
    pub topics: Option<Vec<String>>,
    pub description: Option<String>,
    pub active: bool,
    /// Why the server disabled it (every attempt failed for five days); PATCH `active: true`
    /// to enable it again.
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A webhook with its signing secret: shown when made and when rotated, never again.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 4, "url": "https://www.newsroom.example/api/revalidate", "events": ["*"],
    "topics": null, "description": null, "active": true, "disabled_reason": null,
    "created_at": "2026-12-01T09:00:00Z", "updated_at": "2026-12-01T09:00:00Z",
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
}))]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// `whsec_` and the base64 of 24 random bytes: the key of the `webhook-signature` HMAC
    /// (base64-decoded).
    pub secret: String,
}

/// Webhooks as the API shows them, with their filters' topic slugs read in one query.
fn show(conn: &mut DbConnection, rows: Vec<WebhookRow>) -> Result<Vec<Webhook>, ApiError> {
    let filters: Vec<Option<Vec<i32>>> = rows.iter().map(WebhookRow::topic_ids).collect();
    let ids: Vec<i32> = filters.iter().flatten().flatten().copied().collect();
    let slugs: Vec<(i32, String)> = if ids.is_empty() {
        Vec::new()
    } else {
        topics::table
            .filter(topics::id.eq_any(&ids))
            .select((topics::id, topics::slug))
            .load(conn)?
    };
    Ok(rows
        .into_iter()
        .zip(filters)
        .map(|(row, filter)| Webhook {
            events: row.events(),
            topics: filter.map(|ids| {
                ids.iter()
                    .filter_map(|id| slugs.iter().find(|(t, _)| t == id).map(|(_, s)| s.clone()))
                    .collect()
            }),
            id: row.id,
            url: row.url,
            description: row.description,
            active: row.active,
            disabled_reason: row.disabled_reason,
            created_at: db::utc(row.created_at),
            updated_at: db::utc(row.updated_at),
        })
        .collect())
}

/// Webhook `id` as the API shows it.
fn shown(conn: &mut DbConnection, id: i32) -> Result<Webhook, ApiError> {
    let row = WebhookRow::find(conn, id)?;
    show(conn, vec![row])?
        .pop()
        .ok_or_else(|| ApiError::not_found("webhook"))
}

/// The seq of the last event: a webhook made or enabled now is told of what comes after.
fn last_seq(conn: &mut DbConnection) -> Result<i64, ApiError> {
    Ok(site_state::table
        .find(1)
        .select(site_state::generation)
        .first(conn)?)
}

/// A new signing secret.
fn new_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::fill(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "url": "https://www.newsroom.example/api/revalidate",
    "events": ["article.published", "article.updated", "article.unpublished"],
    "topics": ["central-asia"], "description": "Revalidates the website's pages"
}))]
pub struct CreateWebhook {
    /// Where to POST: http or https, no credentials in it.
    pub url: String,
    /// Event types, or `*` for all (at least one).
    pub events: Vec<String>,
    /// Topic slugs to filter by.
    pub topics: Option<Vec<String>>,
    pub description: Option<String>,
    /// Default true.
    pub active: Option<bool>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"active": true, "events": ["*"]}))]
pub struct UpdateWebhook {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    /// Null: no topic filter.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Vec<String>>)]
    pub topics: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// True enables a webhook the server disabled, clearing `disabled_reason`.
    pub active: Option<bool>,
}

/// Checked webhook fields; None leaves one as it is.
#[derive(Default)]
struct Changes {
    url: Option<String>,
    events: Option<Vec<String>>,
    topics: Option<Option<Vec<String>>>,
    description: Option<Option<String>>,
    active: Option<bool>,
}

/// Whether `authority` is a host (a name, an IPv4 address or a bracketed IPv6 address) with an
/// optional port, and nothing else (no credentials).
fn plain_authority(authority: &str) -> bool {
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') && !port.contains(']') => (host, Some(port)),
        _ => (authority, None),
    };
    let port_ok =
        port.is_none_or(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => {
            !v6.is_empty()
                && v6
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        }
        None => {
            let bytes = host.as_bytes();
            !bytes.is_empty()
                && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
                && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'.' || *b == b'-')
        }
    };
    port_ok && host_ok
}

/// A webhook URL: `http://` or `https://`, a plain host (ASCII name or address, optional
/// port, no credentials), no whitespace, and what the URL standard parses; as the spec's
/// pattern states it.
fn endpoint(raw: &str) -> Result<String, String> {
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(format!("must be at most {MAX_URL_CHARS} characters"));
    }
    let trimmed = raw.trim();
    let Some(rest) = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
    else {
        return Err("must be an http:// or https:// URL".into());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("must not carry credentials".into());
    }
    if !plain_authority(authority) {
        return Err("must name a host: an ASCII name or an address, and a port if any".into());
    }
    if rest.chars().any(|c| c.is_whitespace() || c == '\u{feff}') {
        return Err("must not contain spaces".into());
    }
    let url = url::Url::parse(trimmed).map_err(|e| format!("is not a URL ({e})"))?;
    if url.host().is_none() {
        return Err("must name a host".into());
    }
    Ok(url.to_string())
}

impl Changes {
    fn parse(
        url: Option<String>,
        events: Option<Vec<String>>,
        topics: Option<Option<Vec<String>>>,
        description: Option<Option<String>>,
        active: Option<bool>,
    ) -> Result<Self, ApiError> {
        let mut errors = Errors::default();
        let url = url.and_then(|u| errors.check("url", endpoint(&u)));
        let events = events.and_then(|events| {
            let unknown = events
                .iter()
                .position(|e| !SUBSCRIBABLE.contains(&e.as_str()));
            let result = match (events.len(), unknown) {
                (0, _) => Err("must name at least one event type, or *".to_owned()),
                (n, _) if n > MAX_EVENTS => Err(format!("at most {MAX_EVENTS} entries")),
                (_, Some(i)) => Err(format!("`{}` is not an event type", events[i])),
                _ => Ok(events),
            };
            errors.check("events", result)
        });
        let topics = topics.map(|topics| {
            topics.and_then(|topics| {
                let result = if topics.is_empty() {
                    Err("must name at least one topic (null: every topic)".to_owned())
                } else if topics.len() > MAX_TOPICS {
                    Err(format!("at most {MAX_TOPICS} entries"))
                } else {
                    Ok(topics)
                };
                errors.check("topics", result)
            })
        });
        let description = description.map(|d| {
            d.filter(|d| !d.trim().is_empty())
                .and_then(|d| errors.check("description", bounded_text(&d, MAX_DESCRIPTION_CHARS)))
        });
        errors.finish()?;
        Ok(Self {
            url,
            events,
            topics,
            description,
            active,
        })
    }

    /// The topic ids of the filter's slugs; 422 naming each that names no topic.
    fn topic_ids(&self, conn: &mut DbConnection) -> Result<Option<Option<String>>, ApiError> {
        let Some(topics) = &self.topics else {
            return Ok(None);
        };
        let Some(slugs) = topics else {
            return Ok(Some(None));
        };
        let found: Vec<(i32, String)> = topics::table
            .filter(topics::slug.eq_any(slugs))
            .select((topics::id, topics::slug))
            .load(conn)?;
        let missing: Vec<FieldError> = slugs
            .iter()
            .enumerate()
            .filter(|(_, slug)| !found.iter().any(|(_, s)| s == *slug))
            .map(|(i, _)| FieldError::new(format!("topics[{i}]"), "no topic has this slug"))
            .collect();
        if !missing.is_empty() {
            return Err(ApiError::Validation(missing));
        }
        let ids: Vec<i32> = slugs
            .iter()
            .filter_map(|slug| found.iter().find(|(_, s)| s == slug).map(|(id, _)| *id))
            .collect();
        Ok(Some(Some(serde_json::to_string(&ids).unwrap_or_default())))
    }
}

/// The `{id}` of a webhook's URL.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(names("id"), parameter_in = Path)]
pub struct WebhookId(
    /// The webhook's id.
    pub i32,
);

/// Create a webhook
///
/// Admins. The answer carries the signing `secret`, shown this once. Deliveries follow the
/// Standard Webhooks specification: a `POST` of `{"type", "timestamp", "data": <event as the
/// staff log shows it>}` with `webhook-id`, `webhook-timestamp` and `webhook-signature`
/// (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`). A 2xx within 10 s is success;
/// anything else is retried after about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, then the
/// message has failed; an endpoint failing every attempt for five days is disabled. Redirects
/// are not followed; private addresses are refused unless `NEWSROOM_WEBHOOK_ALLOW_PRIVATE`.
#[utoipa::path(
    tag = "webhooks",
    request_body = CreateWebhook,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created, with its secret", body = WebhookWithSecret,
            headers(("Location" = String, description = "URL of the new webhook"))),
        (status = 409, description = "Too many webhooks", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CreateWebhook>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Admin)?;
    let body = body.0;
    let changes = Changes::parse(
        Some(body.url),
        Some(body.events),
        Some(body.topics),
        Some(body.description),
        body.active,
    )?;
    let created = changes::write(&state, Some(caller.id()), move |tx| {
        let now = tx.now();
        let conn = tx.conn();
        let count: i64 = webhooks::table.count().get_result(conn)?;
        if count >= MAX_WEBHOOKS {
            return Err(ApiError::Conflict(format!(
                "at most {MAX_WEBHOOKS} webhooks; delete one first"
            )));
        }
        let topic_ids = changes.topic_ids(conn)?.flatten();
        let secret = new_secret();
        let id: i32 = diesel::insert_into(webhooks::table)
            .values((
                webhooks::url.eq(changes.url.clone().unwrap_or_default()),
                webhooks::events.eq(serde_json::to_string(&changes.events).unwrap_or_default()),
                webhooks::topic_ids.eq(topic_ids),
                webhooks::description.eq(changes.description.clone().flatten()),
                webhooks::active.eq(changes.active.unwrap_or(true)),
                webhooks::secret.eq(&secret),
                webhooks::after_seq.eq(last_seq(conn)?),
                webhooks::created_at.eq(now),
                webhooks::updated_at.eq(now),
            ))
            .returning(webhooks::id)
            .get_result(conn)?;
        let webhook = shown(conn, id)?;
        Ok(WebhookWithSecret { webhook, secret })
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/api/v1/webhooks/{}", created.webhook.id),
        ))
        .json(created))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookList {
    /// Every webhook (at most 100), oldest first.
    pub data: Vec<Webhook>,
}

/// List webhooks
///
/// Admins. Secrets are not shown.
#[utoipa::path(
    tag = "webhooks",
    security(("bearer" = [])),
    responses((status = 200, description = "The webhooks", body = WebhookList))
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<web::Json<WebhookList>, ApiError> {
    caller.require(Role::Admin)?;
    let data = db::run(&state.pool, |conn| {
        let rows: Vec<WebhookRow> = webhooks::table
            .order(webhooks::id.asc())
            .limit(MAX_WEBHOOKS)
            .select(WebhookRow::as_select())
            .load(conn)?;
        show(conn, rows)
    })
    .await?;
    Ok(web::Json(WebhookList { data }))
}

/// Get a webhook
///
/// Admins. The secret is not shown.
#[utoipa::path(
    tag = "webhooks",
    params(WebhookId),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The webhook", body = Webhook),
        (status = 404, description = "No such webhook", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id:\\d+}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<WebhookId>,
) -> Result<web::Json<Webhook>, ApiError> {
    caller.require(Role::Admin)?;
    let id = id.into_inner().0;
    let webhook = db::run(&state.pool, move |conn| shown(conn, id)).await?;
    Ok(web::Json(webhook))
}

/// Update a webhook
///
/// Admins; partial. `active: true` enables a webhook the server disabled; its pending
/// messages then go out.
#[utoipa::path(
    tag = "webhooks",
    params(WebhookId),
    request_body = UpdateWebhook,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated webhook", body = Webhook),
        (status = 404, description = "No such webhook", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[patch("/webhooks/{id:\\d+}")]
pub async fn update_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<WebhookId>,
    body: Json<UpdateWebhook>,
) -> Result<web::Json<Webhook>, ApiError> {
    caller.require(Role::Admin)?;
    let id = id.into_inner().0;
    let body = body.0;
    let changes = Changes::parse(
        body.url,
        body.events,
        body.topics,
        body.description,
        body.active,
    )?;
    let webhook = changes::write(&state, Some(caller.id()), move |tx| {
        let now = tx.now();
        let conn = tx.conn();
        let before = WebhookRow::find(conn, id)?;
        let topic_ids = changes.topic_ids(conn)?;
        let enabled = changes.active == Some(true);
        // Enabled again: told of what happens from now on, not of what it missed.
        let after_seq = (enabled && !before.active)
            .then(|| last_seq(conn))
            .transpose()?;
        diesel::update(webhooks::table.find(id))
            .set((
                changes.url.clone().map(|u| webhooks::url.eq(u)),
                changes
                    .events
                    .as_ref()
                    .map(|e| webhooks::events.eq(serde_json::to_string(e).unwrap_or_default())),
                topic_ids.map(|t| webhooks::topic_ids.eq(t)),
                changes
                    .description
                    .clone()
                    .map(|d| webhooks::description.eq(d)),
                changes.active.map(|a| webhooks::active.eq(a)),
                enabled.then(|| webhooks::disabled_reason.eq(None::<String>)),
                enabled.then(|| webhooks::failing_since.eq(None::<NaiveDateTime>)),
                after_seq.map(|seq| webhooks::after_seq.eq(seq)),
                webhooks::updated_at.eq(now),
            ))
            .execute(conn)?;
        shown(conn, id)
    })
    .await?;
    state.watch.nudge();
    Ok(web::Json(webhook))
}

/// Delete a webhook
///
/// Admins. Its messages and their attempts go with it.
#[utoipa::path(
    tag = "webhooks",
    params(WebhookId),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such webhook", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[delete("/webhooks/{id:\\d+}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<WebhookId>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Admin)?;
    let id = id.into_inner().0;
    changes::write(&state, Some(caller.id()), move |tx| {
        let conn = tx.conn();
        WebhookRow::find(conn, id)?;
        let messages = webhook_messages::table
            .filter(webhook_messages::webhook_id.eq(id))
            .select(webhook_messages::id);
        diesel::delete(
            webhook_attempts::table.filter(webhook_attempts::message_id.eq_any(messages)),
        )
        .execute(conn)?;
        diesel::delete(webhook_messages::table.filter(webhook_messages::webhook_id.eq(id)))
            .execute(conn)?;
        diesel::delete(webhooks::table.find(id)).execute(conn)?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate the secret
///
/// Admins. The new secret signs every attempt from now on, retries of older messages too;
/// the answer shows it, this once.
#[utoipa::path(
    tag = "webhooks",
    params(WebhookId),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The webhook with its new secret", body = WebhookWithSecret),
        (status = 404, description = "No such webhook", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id:\\d+}/rotate-secret")]
pub async fn rotate_secret(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<WebhookId>,
) -> Result<web::Json<WebhookWithSecret>, ApiError> {
    caller.require(Role::Admin)?;
    let id = id.into_inner().0;
    let rotated = changes::write(&state, Some(caller.id()), move |tx| {
        let now = tx.now();
        let conn = tx.conn();
        WebhookRow::find(conn, id)?;
        let secret = new_secret();
        diesel::update(webhooks::table.find(id))
            .set((webhooks::secret.eq(&secret), webhooks::updated_at.eq(now)))
            .execute(conn)?;
        let webhook = shown(conn, id)?;
        Ok(WebhookWithSecret { webhook, secret })
    })
    .await?;
    Ok(web::Json(rotated))
}

/// Ping a webhook
///
/// Admins. Sends a `webhook.ping` message (`data`: `{"webhook_id"}`) like any other, now.
#[utoipa::path(
    tag = "webhooks",
    params(WebhookId),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "The ping is on its way", body = Delivery),
        (status = 409, description = "The webhook is not active", body = crate::error::Problem,
            content_type = "application/problem+json"),
        (status = 404, description = "No such webhook", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id:\\d+}/ping")]
pub async fn ping_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<WebhookId>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Admin)?;
    let id = id.into_inner().0;
    let delivery = changes::write(&state, Some(caller.id()), move |tx| {
        WebhookRow::find(tx.conn(), id)?.require_active()?;
        let now = tx.now();
        let data = serde_json::json!({ "webhook_id": id });
        let message = dispatch::enqueue(tx, id, None, PING, now, &data)?;
        deliveries(tx.conn(), &[message]).map(|mut d| d.pop())
    })
    .await?
    .ok_or_else(|| ApiError::internal("a ping vanished"))?;
    state.watch.nudge();
    Ok(HttpResponse::Accepted().json(delivery))
}

/// One attempt to deliver a message.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Attempt {
    pub attempted_at: DateTime<Utc>,
    /// The response's status; null when none came (refused, timed out, unreachable).
    pub status_code: Option<i32>,
    /// Why it failed; null on success.
    pub error: Option<String>,
    pub duration_ms: i32,
    /// The first 1 KiB of the response body.
    pub response: Option<String>,
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
        }
    }

    fn parse(raw: &str) -> Self {
        match raw {
            "succeeded" => DeliveryStatus::Succeeded,
            "failed" => DeliveryStatus::Failed,
            _ => DeliveryStatus::Pending,
        }
    }
}

/// A message to an endpoint, with its attempts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "message_id": "msg_2Xa9kq0mVbC4Tn7PqRz1Yw", "type": "article.published", "seq": 1841,
    "status": "succeeded", "created_at": "2026-12-01T09:14:03Z", "next_attempt_at": null,
    "attempts": [{"attempted_at": "2026-12-01T09:14:03Z", "status_code": 204, "error": null,
        "duration_ms": 41, "response": ""}]
}))]
pub struct Delivery {
    /// Its `webhook-id`, the same for every attempt.
    pub message_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The event it carries; null for a ping.
    pub seq: Option<i64>,
    pub status: DeliveryStatus,
    pub created_at: DateTime<Utc>,
    /// When it is tried next, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Oldest first.
    pub attempts: Vec<Attempt>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_messages)]
struct MessageRow {
    id: i32,
    message_id: String,
    seq: Option<i64>,
    type_: String,
    status: String,
    next_attempt_at: NaiveDateTime,
    created_at: NaiveDateTime,
}

/// Deliveries of messages `ids` (in that order), with their attempts, in two queries.
fn deliveries(conn: &mut DbConnection, ids: &[i32]) -> Result<Vec<Delivery>, ApiError> {
    let rows: Vec<MessageRow> = webhook_messages::table
        .filter(webhook_messages::id.eq_any(ids))
        .select(MessageRow::as_select())
        .load(conn)?;
    type AttemptRow = (
        i32,
        NaiveDateTime,
        Option<i32>,
        Option<String>,
        i32,
        Option<String>,
    );
    let attempts: Vec<AttemptRow> = webhook_attempts::table
        .filter(webhook_attempts::message_id.eq_any(ids))
        .order(webhook_attempts::id.asc())
        .select((
            webhook_attempts::message_id,
            webhook_attempts::attempted_at,
            webhook_attempts::status_code,
            webhook_attempts::error,
            webhook_attempts::duration_ms,
            webhook_attempts::response,
        ))
        .load(conn)?;
    Ok(ids
        .iter()
        .filter_map(|id| rows.iter().find(|r| r.id == *id))
        .map(|row| {
            let status = DeliveryStatus::parse(&row.status);
            Delivery {
                message_id: row.message_id.clone(),
                kind: row.type_.clone(),
                seq: row.seq,
                status,
                created_at: db::utc(row.created_at),
                next_attempt_at: (status == DeliveryStatus::Pending)
                    .then(|| db::utc(row.next_attempt_at)),
                attempts: attempts
                    .iter()
                    .filter(|a| a.0 == row.id)
                    .map(|a| Attempt {
                        attempted_at: db::utc(a.1),
                        status_code: a.2,
                        error: a.3.clone(),
                        duration_ms: a.4,
                        response: a.5.clone(),
                    })
                    .collect(),
            }
        })
        .collect())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    #[param(inline)]
    pub status: Option<DeliveryStatus>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryPage {
    /// Newest first.
    pub data: Vec<Delivery>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// List deliveries
///
/// Admins. The messages made for this webhook, newest first, with every attempt (time,
/// response status or error, duration, the first 1 KiB of the response). Kept as long as
/// events are.
#[utoipa::path(
    tag = "webhooks",
    params(WebhookId, DeliveriesQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of deliveries", body = DeliveryPage),
        (status = 404, description = "No such webhook", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[get("/webhooks/{id:\\d+}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<WebhookId>,
    query: web::Query<DeliveriesQuery>,
) -> Result<web::Json<DeliveryPage>, ApiError> {
    caller.require(Role::Admin)?;
    let id = id.into_inner().0;
    let query = query.into_inner();
    let limit = pagination::limit(query.limit, 20, 100)?;
    let before: Option<i32> = pagination::cursor(query.cursor.as_deref())?;
    let page = db::run(&state.pool, move |conn| {
        WebhookRow::find(conn, id)?;
        let mut ids = webhook_messages::table
            .filter(webhook_messages::webhook_id.eq(id))
            .order(webhook_messages::id.desc())
            .limit(limit + 1)
            .select(webhook_messages::id)
            .into_boxed();
        if let Some(status) = query.status {
            ids = ids.filter(webhook_messages::status.eq(status.as_str()));
        }
        if let Some(before) = before {
            ids = ids.filter(webhook_messages::id.lt(before));
        }
        let ids: Vec<i32> = ids.load(conn)?;
        let (ids, more) = pagination::split_page(ids, limit);
        let next_cursor = more
            .then(|| ids.last().map(pagination::encode_cursor))
            .flatten();
        Ok(DeliveryPage {
            data: deliveries(conn, &ids)?,
            next_cursor,
        })
    })
    .await?;
    Ok(web::Json(page))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MessagePath {
    /// The webhook's id.
    #[param(minimum = 1)]
    pub id: i32,
    /// The message's `webhook-id`.
    #[param(example = "msg_2Xa9kq0mVbC4Tn7PqRz1Yw")]
    pub message_id: String,
}

/// Redeliver a message
///
/// Admins. Sends the message again now, with the same `webhook-id` and body, and a fresh
/// schedule of retries; whatever its status was.
#[utoipa::path(
    tag = "webhooks",
    params(MessagePath),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "It is on its way again", body = Delivery),
        (status = 409, description = "The webhook is not active", body = crate::error::Problem,
            content_type = "application/problem+json"),
        (status = 404, description = "No such webhook or message", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[post("/webhooks/{id:\\d+}/deliveries/{message_id}/redeliver")]
pub async fn redeliver(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<MessagePath>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Admin)?;
    let MessagePath { id, message_id } = path.into_inner();
    let delivery = changes::write(&state, Some(caller.id()), move |tx: &mut Tx| {
        let now = tx.now();
        let conn = tx.conn();
        WebhookRow::find(conn, id)?.require_active()?;
        let found: Option<i32> = webhook_messages::table
            .filter(webhook_messages::webhook_id.eq(id))
            .filter(webhook_messages::message_id.eq(&message_id))
            .select(webhook_messages::id)
            .first(conn)
            .optional()?;
        let message = found.ok_or_else(|| ApiError::not_found("message"))?;
        diesel::update(webhook_messages::table.find(message))
            .set((
                webhook_messages::status.eq(DeliveryStatus::Pending.as_str()),
                webhook_messages::attempts.eq(0),
                webhook_messages::next_attempt_at.eq(now),
                webhook_messages::claimed_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        deliveries(conn, &[message]).map(|mut d| d.pop())
    })
    .await?
    .ok_or_else(|| ApiError::not_found("message"))?;
    state.watch.nudge();
    Ok(HttpResponse::Accepted().json(delivery))
}

/// Whether `kind` is one a webhook subscribing to `events` wants.
pub fn wants(events: &[String], kind: EventType) -> bool {
    events
        .iter()
        .any(|e| e == EVERY_EVENT || e == kind.as_str())
}
