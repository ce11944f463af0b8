//! `GET /api/v1/events`: the staff's event log, in seq order, for pollers.

use actix_web::{get, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::events::{Event, EventRow, EventType};
use crate::auth::Caller;
use crate::db::schema::{events, site_state};
use crate::db::{self, DbConnection};
use crate::domain::Role;
use crate::error::ApiError;
use crate::state::AppState;

/// Events per page at most.
pub const MAX_PAGE: i64 = 1000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Events with a larger `seq` than this (default 0: from the oldest kept).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// Events per page, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Only these types, comma-separated (`article.published,article.unpublished`).
    #[param(example = "article.published,article.unpublished")]
    #[serde(rename = "type")]
    pub types: Option<String>,
    /// Only the events of this article.
    #[param(minimum = 1)]
    pub article: Option<i32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventPage {
    pub data: Vec<Event>,
    /// The last `seq` returned (the given `after` when the page is empty): pass it as `after`
    /// to go on.
    pub next_after: i64,
}

/// The event types of a `type` parameter; 422 for one that does not exist.
pub fn event_types(raw: Option<&str>) -> Result<Option<Vec<EventType>>, ApiError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    raw.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            EventType::parse(t)
                .ok_or_else(|| ApiError::invalid("type", format!("`{t}` is not an event type")))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// 410 when events after `after` have been removed by retention: the reader must resync.
pub fn check_kept(conn: &mut DbConnection, after: i64) -> Result<(), ApiError> {
    let purged: i64 = site_state::table
        .find(1)
        .select(site_state::purged_through)
        .first(conn)?;
    if after < purged {
        return Err(ApiError::Gone(format!(
            "events up to {purged} are no longer kept; start again from the current state"
        )));
    }
    Ok(())
}

/// What a page of the log reads.
pub struct Page {
    pub after: i64,
    pub limit: i64,
    pub public_only: bool,
    pub types: Option<Vec<EventType>>,
    pub article: Option<i32>,
}

pub fn page(conn: &mut DbConnection, page: &Page) -> Result<Vec<EventRow>, ApiError> {
    check_kept(conn, page.after)?;
    let mut query = events::table
        .filter(events::seq.gt(page.after))
        .order(events::seq.asc())
        .limit(page.limit)
        .select(EventRow::as_select())
        .into_boxed();
    if page.public_only {
        query = query.filter(events::public.eq(true));
    }
    if let Some(types) = &page.types {
        query = query.filter(events::type_.eq_any(types.iter().map(|t| t.as_str())));
    }
    if let Some(article) = page.article {
        query = query.filter(events::article_id.eq(article));
    }
    Ok(query.load(conn)?)
}

/// List events
///
/// The event log in `seq` order: every change to articles, their workflow, links, topics and
/// bylines, recorded in the transaction of the change. Editors and admins. Poll with the
/// `next_after` of each page. Events are kept `NEWSROOM_EVENTS_DAYS` days; an `after` older
/// than that -> 410: start again from the current state.
#[utoipa::path(
    tag = "events",
    params(EventsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of events", body = EventPage),
        (status = 410, description = "Events after `after` are no longer kept",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events")]
pub async fn list_events(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<EventsQuery>,
) -> Result<web::Json<EventPage>, ApiError> {
    caller.require(Role::Editor)?;
    let query = query.into_inner();
    let after = query.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::invalid("after", "must be 0 or more"));
    }
    if query.article.is_some_and(|a| a < 1) {
        return Err(ApiError::invalid(
            "article",
            "must be an article id (1 or more)",
        ));
    }
    let request = Page {
        after,
        limit: crate::pagination::limit(query.limit, 100, MAX_PAGE)?,
        public_only: false,
        types: event_types(query.types.as_deref())?,
        article: query.article,
    };
    let rows = db::run(&state.pool, move |conn| page(conn, &request)).await?;
    let next_after = rows.last().map_or(after, |r| r.seq);
    Ok(web::Json(EventPage {
        data: rows.iter().map(|r| r.to_event(false)).collect(),
        next_after,
    }))
}
