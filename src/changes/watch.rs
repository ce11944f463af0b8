//! This process's view of the event log. It learns of a change at once when it commits here,
//! within moments when another process commits one (PostgreSQL: LISTEN/NOTIFY on a connection
//! of its own, with a slow poll as a safety net; SQLite: a cheap poll of the log), and then
//! hands the new events, in seq order, to the live streams. It also holds what cached public
//! responses depend on (`public_state`), so a cached read or a 304 touches no database.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Timestamp};
use diesel::{Connection, PgConnection};
use tokio::sync::{broadcast, Notify};

use super::events::EventRow;
use super::Committed;
use crate::articles::stored;
use crate::config::DatabaseUrl;
use crate::db::schema::{events, site_state};
use crate::db::sql::{Statement, Value};
use crate::db::{self, DbConnection, Pool};
use crate::error::ApiError;

/// The channel of NOTIFY on PostgreSQL; the payload is the last seq committed.
const CHANNEL: &str = "newsroom_events";
/// How many events the live streams may fall behind before the slowest is dropped.
const BACKLOG: usize = 4096;
/// How often the log is read when nothing announced a change: SQLite has no notifications;
/// on PostgreSQL this only backs them up.
const SQLITE_POLL: Duration = Duration::from_millis(250);
const POSTGRES_POLL: Duration = Duration::from_secs(5);
/// Events read at a time.
const PAGE: i64 = 500;

/// What cached public lists depend on besides the events that invalidate them by key: the
/// latest scheduled publication whose time has come (a scheduled article turns public at that
/// instant; its event follows within a second).
pub type PublicState = Option<NaiveDateTime>;

/// A cache of public responses, invalidated by surrogate key as changes are learnt of.
pub trait Invalidate: Send + Sync {
    /// The log stood at `seq` when this process began: what came before is not known by key.
    fn known_from(&self, seq: i64);
    /// Public events up to `seq` invalidated `keys`.
    fn invalidate(&self, keys: &[String], seq: i64);
}

#[derive(Debug, Default)]
struct Known {
    /// The highest seq known committed.
    latest: i64,
    /// The highest seq handed to the streams.
    sent: i64,
    /// The earliest scheduled publication still to come; None: unknown, to be read.
    next_due: Option<Option<NaiveDateTime>>,
    /// The latest scheduled time that has passed.
    due_mark: Option<NaiveDateTime>,
}

pub struct Watch {
    known: Mutex<Known>,
    /// Counts the changes that may move `next_due`: a reading begun before one is not kept.
    epoch: AtomicU64,
    sender: broadcast::Sender<Arc<EventRow>>,
    /// Wakes the reader of the log.
    tail: Notify,
    /// Wakes the scheduler.
    pub(super) schedule: Notify,
    /// Live streams being served.
    pub(super) streams: AtomicUsize,
    /// What caches public responses.
    caches: Arc<dyn Invalidate>,
    /// The highest seq known committed, for the consumers of the log (webhooks, purges).
    seq: tokio::sync::watch::Sender<i64>,
}

fn lock(known: &Mutex<Known>) -> std::sync::MutexGuard<'_, Known> {
    known
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Watch {
    /// The view of the log as it stands now.
    pub fn load(conn: &mut DbConnection, caches: Arc<dyn Invalidate>) -> Result<Self, ApiError> {
        let latest: i64 = site_state::table
            .find(1)
            .select(site_state::generation)
            .first(conn)?;
        let (sender, _) = broadcast::channel(BACKLOG);
        caches.known_from(latest);
        Ok(Self {
            known: Mutex::new(Known {
                latest,
                sent: latest,
                ..Known::default()
            }),
            epoch: AtomicU64::new(0),
            sender,
            tail: Notify::new(),
            schedule: Notify::new(),
            streams: AtomicUsize::new(0),
            caches,
            seq: tokio::sync::watch::Sender::new(latest),
        })
    }

    /// A write of this process has committed: its readers see it from now on. Its events are
    /// read back for the streams only when a stream listens or other processes' events may lie
    /// before them; the scheduler and the next scheduled time only when the schedule moved.
    pub fn committed(&self, committed: Committed) {
        if let Some((_, last)) = committed.seqs {
            self.caches.invalidate(&committed.keys, last);
        }
        if committed.schedule {
            self.epoch.fetch_add(1, Ordering::SeqCst);
        }
        let mut read_back = false;
        {
            let mut known = lock(&self.known);
            if committed.schedule {
                known.next_due = None;
            }
            if let Some((first, last)) = committed.seqs {
                known.latest = known.latest.max(last);
                self.seq.send_replace(known.latest);
                if known.sent == first - 1 && self.sender.receiver_count() == 0 {
                    known.sent = last;
                } else {
                    read_back = true;
                }
            }
        }
        if read_back {
            self.tail.notify_one();
        }
        if committed.schedule {
            self.schedule.notify_one();
        }
    }

    /// The highest seq this process knows committed.
    pub fn latest(&self) -> i64 {
        lock(&self.known).latest
    }

    /// Wakes the consumers of the log (webhook delivery) as a new seq would: something they
    /// read changed with no event (a ping, a redelivery, a delivery done).
    pub fn nudge(&self) {
        self.seq.send_modify(|_| {});
    }

    /// Tells of every new seq this process learns of.
    pub fn seqs(&self) -> tokio::sync::watch::Receiver<i64> {
        self.seq.subscribe()
    }

    /// New events, in seq order, from the moment of subscribing.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<EventRow>> {
        self.sender.subscribe()
    }

    /// The current public state: from memory, reading the next scheduled time when unknown.
    pub async fn public_state(&self, pool: &Pool) -> Result<PublicState, ApiError> {
        // A reading overtaken by a write is read again, a few times at most: under a stream of
        // writes the state is then answered unkept (the next read tries again).
        for _ in 0..3 {
            {
                let mut known = lock(&self.known);
                match known.next_due {
                    Some(Some(due)) if db::now() >= due => {
                        known.due_mark = Some(due);
                        known.next_due = None;
                    }
                    Some(_) => return Ok(known.due_mark),
                    None => {}
                }
            }
            let epoch = self.epoch.load(Ordering::SeqCst);
            let next = db::run(pool, next_scheduled).await?;
            let mut known = lock(&self.known);
            if self.epoch.load(Ordering::SeqCst) != epoch {
                continue;
            }
            known.next_due = Some(next);
            if next.is_none_or(|due| db::now() < due) {
                return Ok(known.due_mark);
            }
        }
        Ok(lock(&self.known).due_mark)
    }

    /// Reads the events after those handed out, hands them to the streams, and notes what
    /// they change.
    async fn read_new(&self, pool: &Pool) -> Result<(), ApiError> {
        loop {
            let after = lock(&self.known).sent;
            let rows: Vec<EventRow> = db::run(pool, move |conn| {
                Ok(events::table
                    .filter(events::seq.gt(after))
                    .order(events::seq.asc())
                    .limit(PAGE)
                    .select(EventRow::as_select())
                    .load(conn)?)
            })
            .await?;
            let Some(last) = rows.last().map(|r| r.seq) else {
                return Ok(());
            };
            let full = rows.len() as i64 == PAGE;
            // What may move the next scheduled time: articles, and fronts' pinned items.
            let articles = rows
                .iter()
                .any(|r| r.article_id.is_some() || r.front_id.is_some());
            let gone: Vec<String> = rows
                .iter()
                .flat_map(|r| r.keys().map(str::to_owned))
                .collect();
            {
                let mut known = lock(&self.known);
                if known.sent != after {
                    continue;
                }
                known.sent = last;
                known.latest = known.latest.max(last);
                self.seq.send_replace(known.latest);
                if articles {
                    known.next_due = None;
                }
            }
            self.caches.invalidate(&gone, last);
            if articles {
                self.epoch.fetch_add(1, Ordering::SeqCst);
                self.schedule.notify_one();
            }
            for row in rows {
                // No stream listening is fine.
                let _ = self.sender.send(Arc::new(row));
            }
            if !full {
                return Ok(());
            }
        }
    }
}

/// The next time a public response may change by itself: the earliest scheduled publication
/// still to come, end of a front's pinned item, or end of a breaking-news mark: one statement (a revalidation
/// costs at most this one, `http_cache`).
fn next_scheduled(conn: &mut DbConnection) -> Result<Option<NaiveDateTime>, ApiError> {
    #[derive(QueryableByName)]
    struct Due {
        #[diesel(sql_type = Nullable<Timestamp>)]
        at: Option<NaiveDateTime>,
    }
    let now = db::now();
    let mut statement = Statement::new();
    statement
        .push(
            "SELECT MIN(at) AS at FROM (SELECT MIN(published_at) AS at FROM articles \
             WHERE deleted_at IS NULL AND status = ",
        )
        .bind(Value::Text(stored::PUBLISHED.into()))
        .push(" AND published_at > ")
        .bind(Value::Time(now))
        .push(" UNION ALL SELECT MIN(pinned_until) AS at FROM front_pins WHERE pinned_until > ")
        .bind(Value::Time(now))
        .push(" UNION ALL SELECT MIN(breaking_until) AS at FROM articles WHERE breaking_until > ")
        .bind(Value::Time(now))
        .push(") AS due");
    let due: Due = statement.get_result(conn)?;
    Ok(due.at)
}

/// Announces a commit to the other processes (PostgreSQL delivers it when the transaction
/// commits; SQLite has no notifications: they poll).
pub(super) fn notify(conn: &mut DbConnection, last: i64) -> Result<(), ApiError> {
    if let DbConnection::Postgresql(_) = conn {
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<diesel::sql_types::Text, _>(CHANNEL)
            .bind::<diesel::sql_types::Text, _>(last.to_string())
            .execute(conn)?;
    }
    Ok(())
}

/// Follows the log for as long as the process serves: after every local commit, every
/// notification, and every poll interval.
pub async fn follow(watch: Arc<Watch>, pool: Pool, url: DatabaseUrl) {
    let poll = match &url {
        DatabaseUrl::Postgres(url) => {
            let (url, weak) = (url.clone(), Arc::downgrade(&watch));
            let started = std::thread::Builder::new()
                .name("newsroom-listen".into())
                .spawn(move || listen(&url, &weak));
            if let Err(e) = started {
                log::error!("cannot start the listener for other processes' changes: {e}");
            }
            POSTGRES_POLL
        }
        DatabaseUrl::Sqlite(_) => SQLITE_POLL,
    };
    loop {
        let _ = tokio::time::timeout(poll, watch.tail.notified()).await;
        if let Err(e) = watch.read_new(&pool).await {
            log::warn!("reading the event log failed: {e}");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// Holds a connection of its own that LISTENs for other processes' commits and wakes the
/// reader of the log; reconnects when the connection breaks. Ends with the watch.
fn listen(url: &str, watch: &Weak<Watch>) {
    const IDLE: Duration = Duration::from_millis(10);
    loop {
        let Some(alive) = watch.upgrade() else {
            return;
        };
        let connected = PgConnection::establish(url)
            .map_err(|e| e.to_string())
            .and_then(|mut conn| {
                conn.batch_execute(&format!("LISTEN {CHANNEL}"))
                    .map_err(|e| e.to_string())?;
                Ok(conn)
            });
        // Whatever was committed meanwhile.
        alive.tail.notify_one();
        drop(alive);
        let mut conn = match connected {
            Ok(conn) => conn,
            Err(e) => {
                log::warn!("cannot listen for other processes' changes ({e}); retrying");
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
        };
        'connected: loop {
            let Some(alive) = watch.upgrade() else {
                return;
            };
            for notification in conn.notifications_iter() {
                match notification {
                    Ok(_) => alive.tail.notify_one(),
                    Err(e) => {
                        log::warn!("the listening connection broke ({e}); reconnecting");
                        break 'connected;
                    }
                }
            }
            drop(alive);
            std::thread::sleep(IDLE);
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}
