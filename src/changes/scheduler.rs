//! Scheduled publication fires: when a scheduled article's time comes, `article.published` is
//! recorded with that time as `occurred_at`. Every server process runs this; they need no
//! leader, as the record is a write (one writer at a time, in every process) that claims the
//! articles still waiting (`pending_live`), so each time is recorded exactly once. A process
//! that starts records whatever came due while none was running. The article itself turns
//! public at the exact instant with no job at all (readers compare `published_at` with now).

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::events::ArticleState;
use super::Tx;
use crate::articles::{stored, ArticleRow};
use crate::db::schema::articles;
use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::state::AppState;

/// The longest the scheduler sleeps: a time scheduled by another process is fired within it.
const MAX_SLEEP: Duration = Duration::from_secs(1);

/// The earliest time an article waits for, and whether one is due already.
fn next_pending(conn: &mut DbConnection) -> Result<Option<NaiveDateTime>, ApiError> {
    let published: &'static str = stored::PUBLISHED;
    Ok(articles::table
        .filter(articles::pending_live.eq(true))
        .filter(articles::status.eq(published))
        .filter(articles::deleted_at.is_null())
        .select(diesel::dsl::min(articles::published_at))
        .first::<Option<NaiveDateTime>>(conn)?)
}

/// Whether an article's time has come with its event still to record.
pub fn any_due(conn: &mut DbConnection) -> Result<bool, ApiError> {
    Ok(next_pending(conn)?.is_some_and(|at| at <= db::now()))
}

/// Records `article.published` for every article whose time has come; how many.
pub fn fire(tx: &mut Tx) -> Result<usize, ApiError> {
    let now = tx.now();
    let published: &'static str = stored::PUBLISHED;
    let due: Vec<ArticleRow> = articles::table
        .filter(articles::pending_live.eq(true))
        .filter(articles::status.eq(published))
        .filter(articles::deleted_at.is_null())
        .filter(articles::published_at.le(now))
        .select(ArticleRow::as_select())
        .load(tx.conn())?;
    for row in &due {
        let state = ArticleState::of(row, now);
        tx.article(Some(&state), Some(&state), &[]);
    }
    Ok(due.len())
}

/// Fires due articles now (delta sync calls this so that a due article is in its next page).
pub async fn fire_due(state: &AppState) -> Result<(), ApiError> {
    super::write(state, None, |tx| fire(tx).map(|_| ())).await
}

/// Runs for as long as the process serves.
pub async fn run(state: actix_web::web::Data<AppState>) {
    loop {
        let wait = match db::run(&state.pool, next_pending).await {
            Ok(Some(at)) if at <= db::now() => {
                if let Err(e) = fire_due(&state).await {
                    log::error!("recording scheduled publications failed: {e}");
                    MAX_SLEEP
                } else {
                    continue;
                }
            }
            Ok(Some(at)) => (at - db::now()).to_std().unwrap_or_default().min(MAX_SLEEP),
            Ok(None) => MAX_SLEEP,
            Err(e) => {
                log::warn!("reading scheduled publications failed: {e}");
                MAX_SLEEP
            }
        };
        let _ = tokio::time::timeout(wait, state.watch.schedule.notified()).await;
    }
}
