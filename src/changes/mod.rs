//! The one write path. Every write runs here, as one transaction that hands its work a [`Tx`]:
//! the connection and the event sink together. What the work records is appended to the event
//! log (`events`) in the same transaction, numbered in commit order; caches, the live stream,
//! delta sync and (later) webhooks read the log. There is no other way to get a write
//! transaction: `db` offers reads and savepoints only.
//!
//! Writers take turns: in this process on a queue that holds no connection, and across every
//! process on the database behind one lock taken first in each transaction (an advisory lock
//! on PostgreSQL; SQLite's `BEGIN IMMEDIATE`). So a check and the write it guards never
//! interleave with another writer, and writers never deadlock.

pub mod events;
pub mod history;
pub mod retention;
pub mod scheduler;
pub mod stream;
pub mod watch;

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{article_tombstones, articles, front_media, fronts, site_state};
use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::keys;
use crate::state::AppState;
use events::{ArticleState, EventRef, EventType, Pending};

/// A write transaction: its connection, and what it records.
pub struct Tx<'c> {
    conn: &'c mut DbConnection,
    actor: Option<i32>,
    pending: Vec<Pending>,
    /// The bookkeeping of each article changed: (scheduled and unannounced, ever public).
    articles: BTreeMap<i32, (bool, bool)>,
    /// Articles whose public representation changed with no event of their own (a topic
    /// renamed): delta sync hands them out again.
    stamped: BTreeSet<i32>,
    /// Whether the schedule of publications changed.
    schedule: bool,
}

/// What a committed write changed, for this process's view of the log.
#[derive(Debug, Clone, Default)]
pub struct Committed {
    /// The seqs written, first and last, if any event was.
    pub seqs: Option<(i64, i64)>,
    /// The surrogate keys its public events invalidate.
    pub keys: Vec<String>,
    /// Whether an article entered, left or moved in the schedule of publications.
    pub schedule: bool,
}

impl<'c> Tx<'c> {
    fn new(conn: &'c mut DbConnection, actor: Option<i32>) -> Self {
        Self {
            conn,
            actor,
            pending: Vec::new(),
            articles: BTreeMap::new(),
            stamped: BTreeSet::new(),
            schedule: false,
        }
    }

    pub fn conn(&mut self) -> &mut DbConnection {
        self.conn
    }

    /// Who writes: None for the system (the scheduler, the command line).
    pub fn actor(&self) -> Option<i32> {
        self.actor
    }

    /// The time now, as stored: what states and events are taken at.
    pub fn now(&self) -> NaiveDateTime {
        db::now()
    }

    /// Records a change of an article: created (`before` None), changed, or removed for good
    /// (`after` None). `changed` names the fields that changed besides the status.
    pub fn article(
        &mut self,
        before: Option<&ArticleState>,
        after: Option<&ArticleState>,
        changed: &[&str],
    ) {
        // Announced earlier in this transaction: not again.
        let mut known = before.cloned();
        if let (Some(b), Some((scheduled, _))) = (
            known.as_mut(),
            before.and_then(|b| self.articles.get(&b.id)),
        ) {
            b.pending_live = *scheduled;
        }
        let recorded = events::article_change(known.as_ref(), after, changed, db::now());
        self.pending.extend(recorded);
        let scheduled =
            |s: Option<&ArticleState>| s.is_some_and(|s| s.scheduled() || s.pending_live);
        // The clock of public caches follows scheduled times and the ends of breaking news.
        self.schedule |= scheduled(known.as_ref())
            || scheduled(after)
            || before.and_then(|b| b.breaking_until) != after.and_then(|a| a.breaking_until);
        match (before, after) {
            (_, Some(a)) => {
                let was_public =
                    a.was_public || a.public || before.is_some_and(|b| b.was_public || b.public);
                self.articles.insert(a.id, (a.scheduled(), was_public));
            }
            (Some(b), None) => {
                self.articles.remove(&b.id);
            }
            (None, None) => {}
        }
    }

    /// Records that the curated links of `article` changed.
    pub fn links_changed(&mut self, article: &ArticleState) {
        let mut event =
            events::article_event(EventType::LinksChanged, db::now(), article, article.public);
        event.keys.add(keys::article(article.id));
        self.pending.push(event);
    }

    /// Records a change of a topic (topics are public); `filed` are the articles filed under
    /// it, whose summaries show it; `lists` the topics whose lists it moves articles in or out
    /// of (the topic and its ancestors, before and after a move).
    pub fn topic(
        &mut self,
        kind: EventType,
        topic: EventRef,
        changed: &[&str],
        filed: &[i32],
        lists: &[i32],
    ) {
        let mut event = Pending::new(kind, db::now(), true);
        event
            .keys
            .add(keys::topic(topic.id))
            .add(keys::TOPICS)
            .add(keys::SYNC)
            .add(keys::SEARCH);
        for t in lists.iter().chain([&topic.id]) {
            event
                .keys
                .add(keys::list_topic(*t))
                .add(keys::feed_topic(*t));
        }
        event.topic = Some(topic);
        if kind == EventType::TopicUpdated {
            event.changed = Some(changed.iter().map(|f| (*f).to_owned()).collect());
        }
        self.pending.push(event);
        self.stamped.extend(filed);
    }

    /// Records a change of a byline's public profile; `articles` carry the byline.
    pub fn author_updated(&mut self, author: EventRef, changed: &[&str], articles: &[i32]) {
        let mut event = Pending::new(EventType::AuthorUpdated, db::now(), true);
        event
            .keys
            .add(keys::author(author.id))
            .add(keys::AUTHORS)
            .add(keys::SYNC);
        event.author = Some(author);
        event.changed = Some(changed.iter().map(|f| (*f).to_owned()).collect());
        self.pending.push(event);
        self.stamped.extend(articles);
    }

    /// Records a change of entry `id` of live article `article` (`changed`: its fields, for an
    /// update); public while the article is.
    pub fn entry(&mut self, kind: EventType, article: &ArticleState, id: i32, changed: &[&str]) {
        let mut event = events::article_event(kind, db::now(), article, article.public);
        event.keys.add(keys::article(article.id));
        event.entry = Some(events::EventEntry { id });
        if kind == EventType::EntryUpdated {
            event.changed = Some(changed.iter().map(|f| (*f).to_owned()).collect());
        }
        self.pending.push(event);
    }

    /// Records a front written (`FrontUpdated`) or deleted. `schedule`: whether the ends of
    /// its pinned items changed, which the clock of public caches follows.
    pub fn front(&mut self, kind: EventType, front: EventRef, schedule: bool) {
        let mut event = Pending::new(kind, db::now(), true);
        event.keys.add(keys::front(&front.slug)).add(keys::FRONTS);
        event.front = Some(front);
        self.pending.push(event);
        self.schedule |= schedule;
    }

    /// Records a change of photo `id` (files named `name`) of the library. The articles whose
    /// cover it is show it anew (their cards, delta sync); the event is public, with those
    /// articles' keys, when one of them is public, and for staff only otherwise. A deletion
    /// also purges the photo's files from CDNs.
    pub fn media(
        &mut self,
        kind: EventType,
        (id, name): (i32, &str),
        changed: &[&str],
    ) -> Result<(), ApiError> {
        let now = db::now();
        let shown: Vec<crate::articles::ArticleRow> = articles::table
            .filter(articles::cover_media_id.eq(id))
            .select(crate::articles::ArticleRow::as_select())
            .load(self.conn)?;
        let public: Vec<i32> = shown
            .iter()
            .filter(|a| a.is_public(now))
            .map(|a| a.id)
            .collect();
        // Fronts that show it in place of a cover.
        let fronts: Vec<String> = front_media::table
            .inner_join(fronts::table)
            .filter(front_media::media_id.eq(id))
            .select(fronts::slug)
            .load(self.conn)?;
        let mut event = Pending::new(kind, now, !public.is_empty() || !fronts.is_empty());
        for article in public {
            event.keys.add(keys::article(article));
        }
        for front in fronts {
            event.keys.add(keys::front(&front));
        }
        event.media = Some(events::EventMedia { id });
        if kind == EventType::MediaUpdated {
            event.changed = Some(changed.iter().map(|f| (*f).to_owned()).collect());
        }
        if kind == EventType::MediaDeleted {
            event.keys.add(keys::media(name));
            event.purge = true;
        }
        self.pending.push(event);
        self.stamped.extend(shown.iter().map(|a| a.id));
        Ok(())
    }

    /// Appends the recorded events with their seqs, and keeps the articles' bookkeeping: the
    /// seq of their last change (delta sync), whether they wait for their scheduled time, and
    /// whether they were ever public. A tombstone for each article removed for good.
    fn finish(self) -> Result<Committed, ApiError> {
        let now = db::now();
        let Tx {
            conn,
            actor,
            pending,
            articles: touched,
            stamped,
            schedule,
        } = self;
        // The cards of every article changed, or shown differently (a topic renamed).
        let cards: BTreeSet<i32> = touched.keys().chain(&stamped).copied().collect();
        crate::articles::cards::refresh(conn, &cards.into_iter().collect::<Vec<_>>())?;
        if pending.is_empty() {
            for (id, (pending_live, was_public)) in touched {
                diesel::update(articles::table.find(id))
                    .set((
                        articles::pending_live.eq(pending_live),
                        articles::was_public.eq(was_public),
                    ))
                    .execute(conn)?;
            }
            return Ok(Committed {
                schedule,
                ..Committed::default()
            });
        }
        let mut pending = pending;
        for event in pending.iter_mut() {
            if event.public && event.keys.is_empty() {
                event.keys = events::article_keys(conn, event)?;
            }
        }
        let purge: BTreeSet<String> = pending
            .iter()
            .filter(|e| e.purge)
            .flat_map(|e| e.keys.iter().cloned())
            .collect();
        let count = i64::try_from(pending.len()).unwrap_or(i64::MAX);
        let last: i64 = diesel::update(site_state::table.find(1))
            .set(site_state::generation.eq(site_state::generation + count))
            .returning(site_state::generation)
            .get_result(conn)?;
        let mut seq = last - count;
        let mut last_of: BTreeMap<i32, i64> = BTreeMap::new();
        for event in &pending {
            seq += 1;
            events::insert(conn, seq, actor, event, now)?;
            if let Some(article) = &event.article {
                last_of.insert(article.id, seq);
                if event.kind == EventType::ArticleDeleted {
                    diesel::insert_into(article_tombstones::table)
                        .values((
                            article_tombstones::article_id.eq(article.id),
                            article_tombstones::sync_seq.eq(seq),
                        ))
                        .execute(conn)?;
                }
            }
        }
        for (id, (pending_live, was_public)) in &touched {
            diesel::update(articles::table.find(id))
                .set((
                    articles::pending_live.eq(pending_live),
                    articles::was_public.eq(was_public),
                    articles::sync_seq.eq(last_of.get(id).copied().unwrap_or(last)),
                ))
                .execute(conn)?;
        }
        let announced: Vec<i32> = last_of
            .keys()
            .filter(|id| !touched.contains_key(id))
            .copied()
            .collect();
        // Articles announced with no state change of theirs: links changed, or the scheduler
        // recorded their time.
        for id in announced {
            diesel::update(articles::table.find(id))
                .set(articles::sync_seq.eq(last_of[&id]))
                .execute(conn)?;
        }
        let stamped: Vec<i32> = stamped.into_iter().collect();
        for chunk in stamped.chunks(500) {
            diesel::update(articles::table.filter(articles::id.eq_any(chunk)))
                .set(articles::sync_seq.eq(last))
                .execute(conn)?;
        }
        watch::notify(conn, last)?;
        Ok(Committed {
            seqs: Some((last - count + 1, last)),
            keys: purge.into_iter().collect(),
            schedule,
        })
    }
}

/// Runs `work` as one write transaction by `actor` (None: the system), after the writers
/// before it; the events it records are in the log when this returns.
pub async fn write<T, F>(state: &AppState, actor: Option<i32>, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut Tx) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let (value, committed) = transaction(&state.pool, move |conn| {
        let mut tx = Tx::new(conn, actor);
        let value = work(&mut tx)?;
        let committed = tx.finish()?;
        Ok((value, committed))
    })
    .await?;
    state.watch.committed(committed);
    Ok(value)
}

/// The same on a connection of the caller's (the command line, tests): no server process
/// learns of it but through the log.
pub fn write_on<T, F>(conn: &mut DbConnection, actor: Option<i32>, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut Tx) -> Result<T, ApiError>,
{
    in_write_transaction(conn, |conn| {
        let mut tx = Tx::new(conn, actor);
        let value = work(&mut tx)?;
        tx.finish()?;
        Ok(value)
    })
}

/// The first key of our advisory locks ("news"), so they cannot meet another application's.
const LOCK_SPACE: i32 = 0x6e65_7773;

/// Takes the writers' lock (see the module's documentation).
fn lock_writes(conn: &mut DbConnection) -> Result<(), ApiError> {
    if let DbConnection::Postgresql(_) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1, 0)")
            .bind::<diesel::sql_types::Integer, _>(LOCK_SPACE)
            .execute(conn)?;
    }
    Ok(())
}

fn in_write_transaction<T, F>(conn: &mut DbConnection, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError>,
{
    db::in_transaction(conn, |conn| {
        lock_writes(conn)?;
        work(conn)
    })
}

/// Write transactions of this process take turns here, holding neither a pooled connection
/// nor a thread while they wait, which readers would otherwise wait for.
static WRITER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs `work` in a write transaction on a pooled connection, in this process's turn of
/// writers. The turn's holder runs on a thread of its own, not behind the reads queued for the
/// blocking pool: waiting there while holding the turn made every writer behind it wait too
/// (seconds at 256 connections, bench/RESULTS.md).
async fn transaction<T, F>(pool: &db::Pool, work: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let _turn = WRITER.lock().await;
    let pool = pool.clone();
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("newsroom-write".into())
        .spawn(move || {
            let outcome = db::pooled(&pool, |conn| in_write_transaction(conn, work));
            // The request may have gone; its transaction has ended either way.
            let _ = done.send(outcome);
        })
        .map_err(|e| ApiError::internal(format!("cannot start a write thread: {e}")))?;
    result
        .await
        .map_err(|_| ApiError::internal("the write thread ended without an answer"))?
}
