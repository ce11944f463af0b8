//! `GET /api/v1/events/stream`: the event log live, as Server-Sent Events. Anonymous clients
//! get the public events with their public fields only; editors and admins (with a token) get
//! every event. `Last-Event-ID` (or `after`) resumes after that seq with nothing lost or
//! repeated: the stream subscribes to new events first, then reads what it missed from the
//! log, then goes on live, skipping what it has sent. A comment line every 15 s keeps proxies
//! from closing it. A client too slow to keep up is dropped (it resumes with its last id);
//! writers never wait for one.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};
use utoipa::IntoParams;

use super::events::EventRow;
use super::history::{self, Page};
use super::watch::Watch;
use crate::auth::MaybeCaller;
use crate::db;
use crate::domain::Role;
use crate::error::ApiError;
use crate::state::AppState;

const HEARTBEAT: Duration = Duration::from_secs(15);
/// Messages buffered for one client before it counts as too slow.
const BUFFER: usize = 256;
/// Events read from the log at a time while catching up.
const CATCH_UP: i64 = 500;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// Resume after this seq (as `Last-Event-ID` does; the header wins). Without either, the
    /// stream starts with what happens next.
    #[param(minimum = 0)]
    pub after: Option<i64>,
}

/// Counts a served stream until it ends.
struct Served(Arc<Watch>);

impl Drop for Served {
    fn drop(&mut self) {
        self.0.streams.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One message of the stream.
fn message(row: &EventRow, public_view: bool) -> web::Bytes {
    let event = row.to_event(public_view);
    let data = serde_json::to_string(&event).unwrap_or_else(|_| "{}".into());
    web::Bytes::from(format!(
        "id: {}\nevent: {}\ndata: {data}\n\n",
        row.seq,
        event.kind.as_str()
    ))
}

fn resume_from(req: &HttpRequest, query: &StreamQuery) -> Result<Option<i64>, ApiError> {
    let header = req
        .headers()
        .get("last-event-id")
        .map(|v| {
            v.to_str()
                .ok()
                .and_then(|v| v.trim().parse::<i64>().ok())
                .filter(|seq| *seq >= 0)
                .ok_or_else(|| {
                    ApiError::BadRequest("Last-Event-ID must be the id of an event".into())
                })
        })
        .transpose()?;
    if query.after.is_some_and(|a| a < 0) {
        return Err(ApiError::invalid("after", "must be 0 or more"));
    }
    Ok(header.or(query.after))
}

/// Sends what happened after `after`, then what happens, until the client goes or falls
/// behind.
async fn serve(
    state: web::Data<AppState>,
    mut live: broadcast::Receiver<Arc<EventRow>>,
    mut last: i64,
    staff: bool,
    out: mpsc::Sender<web::Bytes>,
    _served: Served,
) {
    let public_view = !staff;
    loop {
        let request = Page {
            after: last,
            limit: CATCH_UP,
            public_only: public_view,
            types: None,
            article: None,
        };
        let rows = match db::run(&state.pool, move |conn| history::page(conn, &request)).await {
            Ok(rows) => rows,
            Err(e) => {
                log::warn!("a stream could not read the log: {e}");
                return;
            }
        };
        let caught_up = (rows.len() as i64) < CATCH_UP;
        for row in rows {
            last = row.seq;
            if out.send(message(&row, public_view)).await.is_err() {
                return;
            }
        }
        if caught_up {
            break;
        }
    }
    let mut beat = tokio::time::interval(HEARTBEAT);
    beat.tick().await;
    loop {
        tokio::select! {
            received = live.recv() => match received {
                Ok(row) if row.seq > last && (staff || row.public) => {
                    last = row.seq;
                    if out.try_send(message(&row, public_view)).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                // Too slow, or the process is stopping: the client resumes with its last id.
                Err(_) => return,
            },
            _ = beat.tick() => {
                if out.try_send(web::Bytes::from_static(b": heartbeat\n\n")).is_err() {
                    return;
                }
            }
        }
    }
}

/// Live events
///
/// Server-Sent Events (`text/event-stream`), each message with `id: <seq>`, `event: <type>` and
/// `data: <event JSON>`. Without a token: public events only (`article.published`,
/// `article.updated` and `links.changed` of public articles, `article.unpublished`,
/// `article.deleted` of once-public articles, `topic.*`, `author.updated`), with `actor_id`
/// null; with an editor's or admin's token: every event (authors: 403). `Last-Event-ID` or
/// `after` resumes without gaps or repeats; older than the log keeps -> 410. A comment every
/// 15 s. At most `NEWSROOM_STREAM_MAX_CLIENTS` streams at once (503 with `Retry-After`
/// beyond); a client too slow to keep up is dropped.
#[utoipa::path(
    tag = "events",
    params(StreamQuery,
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this seq")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The stream", content_type = "text/event-stream",
            body = String),
        (status = 410, description = "Events after that seq are no longer kept",
            body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many streams: retry later",
            body = crate::error::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[get("/events/stream")]
pub async fn stream_events(
    state: web::Data<AppState>,
    caller: MaybeCaller,
    req: HttpRequest,
    query: web::Query<StreamQuery>,
) -> Result<HttpResponse, ApiError> {
    let staff = match &caller.0 {
        Some(c) => {
            c.require(Role::Editor)?;
            true
        }
        None => false,
    };
    let after = resume_from(&req, &query)?;
    let watch = state.watch.clone();
    if watch.streams.fetch_add(1, Ordering::SeqCst) >= state.stream_max_clients {
        watch.streams.fetch_sub(1, Ordering::SeqCst);
        return Err(ApiError::Busy {
            detail: "too many live streams; try again shortly".into(),
            retry_after: 5,
        });
    }
    let served = Served(watch.clone());
    // Subscribed before the log is read: nothing can fall between the two.
    let live = watch.subscribe();
    let start = match after {
        Some(after) => {
            db::run(&state.pool, move |conn| history::check_kept(conn, after)).await?;
            after
        }
        None => watch.latest(),
    };
    let (tx, rx) = mpsc::channel(BUFFER);
    let _ = tx.try_send(web::Bytes::from_static(b"retry: 2000\n: connected\n\n"));
    tokio::spawn(serve(state.clone(), live, start, staff, tx, served));
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|bytes| (Ok::<_, actix_web::Error>(bytes), rx))
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        // Not compressed (compression would buffer it), nor buffered by proxies.
        .insert_header((
            header::CONTENT_ENCODING,
            HeaderValue::from_static("identity"),
        ))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body))
}
