//! Retention: events older than `NEWSROOM_EVENTS_DAYS` are removed, oldest first and always a
//! prefix of the log, by `newsroom purge-events` and by the server itself once a day. A reader
//! asking for events after a removed seq is told so (410) and resyncs.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Tx;
use crate::db::schema::{events, site_state};
use crate::error::ApiError;
use crate::state::AppState;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Removes the events recorded before `cutoff`; how many.
pub fn purge(tx: &mut Tx, cutoff: NaiveDateTime) -> Result<usize, ApiError> {
    let through: Option<i64> = events::table
        .filter(events::recorded_at.lt(cutoff))
        .select(diesel::dsl::max(events::seq))
        .first(tx.conn())?;
    let Some(through) = through else {
        return Ok(0);
    };
    let removed =
        diesel::delete(events::table.filter(events::seq.le(through))).execute(tx.conn())?;
    diesel::update(
        site_state::table
            .find(1)
            .filter(site_state::purged_through.lt(through)),
    )
    .set(site_state::purged_through.eq(through))
    .execute(tx.conn())?;
    crate::webhooks::dispatch::forget(tx, cutoff)?;
    Ok(removed)
}

/// Purges once at start and then once a day, for as long as the process serves.
pub async fn run(state: actix_web::web::Data<AppState>, days: i64) {
    loop {
        let cutoff = crate::db::now() - chrono::Duration::days(days);
        match super::write(&state, None, move |tx| purge(tx, cutoff)).await {
            Ok(0) => {}
            Ok(n) => log::info!("removed {n} events older than {days} days"),
            Err(e) => log::warn!("removing old events failed: {e}"),
        }
        tokio::time::sleep(DAY).await;
    }
}
