//! Live blogs: an article of `format: live` carries short timestamped entries (`entries`),
//! newest first, with key events and one pinned entry, while its `live` state says whether it
//! is still being updated. Breaking news (`breaking`) marks an article for a few hours.

pub mod breaking;
pub mod entries;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::articles::ArticleRow;
use crate::db;

/// What kind of article it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Standard,
    /// A live blog: its story told in entries.
    Live,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Standard => "standard",
            Format::Live => "live",
        }
    }

    /// The stored value; anything unknown reads as a standard article.
    pub fn of(stored: &str) -> Self {
        if stored == Format::Live.as_str() {
            Format::Live
        } else {
            Format::Standard
        }
    }
}

/// Whether a live blog is still being updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LiveState {
    Live,
    Ended,
}

impl LiveState {
    pub fn as_str(self) -> &'static str {
        match self {
            LiveState::Live => "live",
            LiveState::Ended => "ended",
        }
    }

    pub fn of(stored: &str) -> Option<Self> {
        [LiveState::Live, LiveState::Ended]
            .into_iter()
            .find(|s| s.as_str() == stored)
    }
}

/// A live article's state as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"state": "live", "started_at": "2026-12-06T08:00:00Z", "ended_at": null}))]
pub struct Live {
    pub state: LiveState,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

impl Live {
    /// The state of a live article's row; None for a standard one.
    pub fn of(row: &ArticleRow) -> Option<Self> {
        let state = LiveState::of(row.live_state.as_deref()?)?;
        Some(Self {
            state,
            started_at: db::utc(row.live_started_at.unwrap_or(row.created_at)),
            ended_at: row.live_ended_at.map(db::utc),
        })
    }
}

/// A change of a live article's state: `{"state": "ended"}` ends it, `live` opens it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LiveInput {
    pub state: LiveState,
}

/// When a live article's state began or ended, from the state before and after a change.
pub fn live_times(
    before: Option<&ArticleRow>,
    after: Option<LiveState>,
    now: NaiveDateTime,
) -> (Option<NaiveDateTime>, Option<NaiveDateTime>) {
    let was = before.and_then(|r| r.live_state.as_deref().and_then(LiveState::of));
    let started = before.and_then(|r| r.live_started_at);
    let ended = before.and_then(|r| r.live_ended_at);
    match (was, after) {
        (_, None) => (None, None),
        (None, Some(state)) => (Some(now), (state == LiveState::Ended).then_some(now)),
        (Some(_), Some(LiveState::Live)) => (started.or(Some(now)), None),
        (Some(LiveState::Ended), Some(LiveState::Ended)) => (started, ended.or(Some(now))),
        (Some(LiveState::Live), Some(LiveState::Ended)) => (started, Some(now)),
    }
}
