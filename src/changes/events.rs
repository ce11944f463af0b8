//! Events: their types, what each carries, and how a change of an article becomes events.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::articles::{ArticleRow, Status};
use crate::db;
use crate::db::schema::events;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum EventType {
    /// An article was written for the first time (staff).
    #[serde(rename = "article.created")]
    ArticleCreated,
    /// Fields of an article changed (`changed` names them); public while it is public.
    #[serde(rename = "article.updated")]
    ArticleUpdated,
    /// Its workflow status changed (staff).
    #[serde(rename = "article.status_changed")]
    ArticleStatusChanged,
    /// It became public by any path: publishing, a scheduled time coming, a restore.
    #[serde(rename = "article.published")]
    ArticlePublished,
    /// It stopped being public: back to draft or review, archived, trashed.
    #[serde(rename = "article.unpublished")]
    ArticleUnpublished,
    /// It was moved to the trash (staff).
    #[serde(rename = "article.trashed")]
    ArticleTrashed,
    /// It was brought back from the trash (staff).
    #[serde(rename = "article.restored")]
    ArticleRestored,
    /// It was removed for good; public if it had ever been public.
    #[serde(rename = "article.deleted")]
    ArticleDeleted,
    /// Its curated related links changed; public while it is public.
    #[serde(rename = "links.changed")]
    LinksChanged,
    #[serde(rename = "topic.created")]
    TopicCreated,
    #[serde(rename = "topic.updated")]
    TopicUpdated,
    #[serde(rename = "topic.deleted")]
    TopicDeleted,
    /// A byline's public profile (name, bio) changed.
    #[serde(rename = "author.updated")]
    AuthorUpdated,
    /// A photo was uploaded to the library (staff).
    #[serde(rename = "media.created")]
    MediaCreated,
    /// A photo's metadata or focal point changed, or its renditions became ready (staff).
    #[serde(rename = "media.updated")]
    MediaUpdated,
    /// A photo was deleted from the library (staff).
    #[serde(rename = "media.deleted")]
    MediaDeleted,
    /// A front was written (`PUT`, the first included): its curation, its title or its fills.
    #[serde(rename = "front.updated")]
    FrontUpdated,
    /// A front was deleted.
    #[serde(rename = "front.deleted")]
    FrontDeleted,
    /// An article became breaking news: marked while public, or made public while marked (for
    /// push-notification relays).
    #[serde(rename = "article.breaking")]
    ArticleBreaking,
    /// An entry was added to a live article; public while the article is.
    #[serde(rename = "entry.created")]
    EntryCreated,
    /// An entry of a live article changed (`changed` names the fields).
    #[serde(rename = "entry.updated")]
    EntryUpdated,
    /// An entry of a live article was deleted.
    #[serde(rename = "entry.deleted")]
    EntryDeleted,
}

impl EventType {
    pub const ALL: [EventType; 22] = [
        EventType::ArticleCreated,
        EventType::ArticleUpdated,
        EventType::ArticleStatusChanged,
        EventType::ArticlePublished,
        EventType::ArticleUnpublished,
        EventType::ArticleTrashed,
        EventType::ArticleRestored,
        EventType::ArticleDeleted,
        EventType::LinksChanged,
        EventType::TopicCreated,
        EventType::TopicUpdated,
        EventType::TopicDeleted,
        EventType::AuthorUpdated,
        EventType::MediaCreated,
        EventType::MediaUpdated,
        EventType::MediaDeleted,
        EventType::FrontUpdated,
        EventType::FrontDeleted,
        EventType::ArticleBreaking,
        EventType::EntryCreated,
        EventType::EntryUpdated,
        EventType::EntryDeleted,
    ];

    /// The names of `ALL`, in its order.
    pub const NAMES: [&'static str; 22] = [
        "article.created",
        "article.updated",
        "article.status_changed",
        "article.published",
        "article.unpublished",
        "article.trashed",
        "article.restored",
        "article.deleted",
        "links.changed",
        "topic.created",
        "topic.updated",
        "topic.deleted",
        "author.updated",
        "media.created",
        "media.updated",
        "media.deleted",
        "front.updated",
        "front.deleted",
        "article.breaking",
        "entry.created",
        "entry.updated",
        "entry.deleted",
    ];

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    pub fn parse(raw: &str) -> Option<Self> {
        debug_assert!(Self::ALL.iter().enumerate().all(|(i, t)| *t as usize == i));
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }
}

/// An article as an event names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": 42, "slug": "border-treaty-signed", "status": "published", "language": "en"}))]
pub struct EventArticle {
    pub id: i32,
    pub slug: String,
    /// Its status after the change (`published` for a trashed article that was published).
    pub status: Status,
    pub language: String,
}

/// A topic, or a byline, as an event names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": 3, "slug": "tajikistan"}))]
pub struct EventRef {
    pub id: i32,
    pub slug: String,
}

/// A photo of the library as an event names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": 7}))]
pub struct EventMedia {
    pub id: i32,
}

/// An entry of a live article as an event names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": 311}))]
pub struct EventEntry {
    pub id: i32,
}

/// One entry of the event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "seq": 1841, "type": "article.updated", "occurred_at": "2026-12-01T09:14:03.120000Z",
    "actor_id": 2,
    "article": {"id": 42, "slug": "border-treaty-signed", "status": "published", "language": "en"},
    "topic": null, "author": null, "media": null, "front": null, "entry": null, "changed": ["title", "summary"]
}))]
pub struct Event {
    /// Strictly increasing in commit order: a reader that has seen N never later sees less.
    pub seq: i64,
    #[serde(rename = "type")]
    pub kind: EventType,
    /// When it happened; for a scheduled publication, the scheduled time.
    pub occurred_at: DateTime<Utc>,
    /// Who made the change; null for the scheduler, and always on the public stream.
    pub actor_id: Option<i32>,
    pub article: Option<EventArticle>,
    pub topic: Option<EventRef>,
    /// For `author.updated`: whose profile.
    pub author: Option<EventRef>,
    /// For `media.*`: which photo of the library.
    pub media: Option<EventMedia>,
    /// For `front.*`: which front.
    pub front: Option<EventRef>,
    /// For `entry.*`: which entry of the live article.
    pub entry: Option<EventEntry>,
    /// The fields that changed, for `article.updated`, `topic.updated` and `author.updated`.
    pub changed: Option<Vec<String>>,
}

/// An event before it has its `seq`.
#[derive(Debug, Clone)]
pub struct Pending {
    pub kind: EventType,
    pub occurred_at: NaiveDateTime,
    pub article: Option<EventArticle>,
    pub topic: Option<EventRef>,
    pub author: Option<EventRef>,
    pub media: Option<EventMedia>,
    pub front: Option<EventRef>,
    pub entry: Option<EventEntry>,
    pub changed: Option<Vec<String>>,
    pub public: bool,
    /// What it invalidates in public caches (public events only).
    pub keys: crate::keys::Keys,
    /// Whether CDNs purge its keys: every public event, and a photo's deletion (its files are
    /// public to whoever has their URLs, and cached for a year).
    pub purge: bool,
}

impl Pending {
    pub fn new(kind: EventType, at: NaiveDateTime, public: bool) -> Self {
        Self {
            kind,
            occurred_at: at,
            article: None,
            topic: None,
            author: None,
            media: None,
            front: None,
            entry: None,
            changed: None,
            public,
            keys: crate::keys::Keys::default(),
            purge: public,
        }
    }
}

/// A stored event.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub seq: i64,
    pub type_: String,
    pub occurred_at: NaiveDateTime,
    pub actor_id: Option<i32>,
    pub article_id: Option<i32>,
    pub article_slug: Option<String>,
    pub article_status: Option<String>,
    pub article_language: Option<String>,
    pub topic_id: Option<i32>,
    pub topic_slug: Option<String>,
    pub author_id: Option<i32>,
    pub author_slug: Option<String>,
    pub changed: Option<String>,
    pub public: bool,
    pub purge_keys: Option<String>,
    pub media_id: Option<i32>,
    pub front_id: Option<i32>,
    pub front_slug: Option<String>,
    pub entry_id: Option<i32>,
}

impl EventRow {
    /// The surrogate keys it invalidates.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.purge_keys.as_deref().unwrap_or("").split_whitespace()
    }
}

fn status_value(status: Status) -> &'static str {
    match status {
        Status::Draft => "draft",
        Status::Review => "review",
        Status::Scheduled => "scheduled",
        Status::Published => "published",
        Status::Archived => "archived",
    }
}

fn status_of(raw: &str) -> Status {
    match raw {
        "review" => Status::Review,
        "scheduled" => Status::Scheduled,
        "published" => Status::Published,
        "archived" => Status::Archived,
        _ => Status::Draft,
    }
}

impl EventRow {
    /// The event as the log shows it; for the public stream (`public_view`) without who made it.
    pub fn to_event(&self, public_view: bool) -> Event {
        let reference = |id: Option<i32>, slug: &Option<String>| {
            id.zip(slug.clone()).map(|(id, slug)| EventRef { id, slug })
        };
        Event {
            seq: self.seq,
            kind: EventType::parse(&self.type_).unwrap_or(EventType::ArticleUpdated),
            occurred_at: db::utc(self.occurred_at),
            actor_id: if public_view { None } else { self.actor_id },
            article: self.article_id.map(|id| EventArticle {
                id,
                slug: self.article_slug.clone().unwrap_or_default(),
                status: status_of(self.article_status.as_deref().unwrap_or_default()),
                language: self.article_language.clone().unwrap_or_default(),
            }),
            topic: reference(self.topic_id, &self.topic_slug),
            author: reference(self.author_id, &self.author_slug),
            media: self.media_id.map(|id| EventMedia { id }),
            front: reference(self.front_id, &self.front_slug),
            entry: self.entry_id.map(|id| EventEntry { id }),
            changed: self
                .changed
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok()),
        }
    }
}

/// Inserts `event` as number `seq`.
pub fn insert(
    conn: &mut db::DbConnection,
    seq: i64,
    actor: Option<i32>,
    event: &Pending,
    recorded_at: NaiveDateTime,
) -> QueryResult<usize> {
    let article = event.article.as_ref();
    diesel::insert_into(events::table)
        .values((
            (
                events::seq.eq(seq),
                events::type_.eq(event.kind.as_str()),
                events::occurred_at.eq(event.occurred_at),
                events::recorded_at.eq(recorded_at),
                events::actor_id.eq(actor),
            ),
            (
                events::article_id.eq(article.map(|a| a.id)),
                events::article_slug.eq(article.map(|a| a.slug.as_str())),
                events::article_status.eq(article.map(|a| status_value(a.status))),
                events::article_language.eq(article.map(|a| a.language.as_str())),
            ),
            (
                events::topic_id.eq(event.topic.as_ref().map(|t| t.id)),
                events::topic_slug.eq(event.topic.as_ref().map(|t| t.slug.as_str())),
                events::author_id.eq(event.author.as_ref().map(|a| a.id)),
                events::author_slug.eq(event.author.as_ref().map(|a| a.slug.as_str())),
            ),
            (
                events::media_id.eq(event.media.as_ref().map(|m| m.id)),
                events::front_id.eq(event.front.as_ref().map(|f| f.id)),
                events::front_slug.eq(event.front.as_ref().map(|f| f.slug.as_str())),
                events::entry_id.eq(event.entry.as_ref().map(|e| e.id)),
            ),
            events::changed.eq(event
                .changed
                .as_ref()
                .and_then(|c| serde_json::to_string(c).ok())),
            events::public.eq(event.public),
            events::purge_keys.eq((event.purge && !event.keys.is_empty()).then(|| {
                event
                    .keys
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(" ")
            })),
        ))
        .execute(conn)
}

/// An article as a change sees it, before or after.
#[derive(Debug, Clone)]
pub struct ArticleState {
    pub id: i32,
    pub slug: String,
    pub status: Status,
    pub language: String,
    pub published_at: Option<NaiveDateTime>,
    pub trashed: bool,
    /// Readable by the public now.
    pub public: bool,
    /// Readable by the public at some time.
    pub was_public: bool,
    /// Scheduled, and its `article.published` not yet recorded.
    pub pending_live: bool,
    /// Breaking news until then.
    pub breaking_until: Option<NaiveDateTime>,
}

impl ArticleState {
    pub fn of(row: &ArticleRow, now: NaiveDateTime) -> Self {
        Self {
            id: row.id,
            slug: row.slug.clone(),
            status: Status::current(&row.status, row.published_at, now),
            language: row.language.clone(),
            published_at: row.published_at,
            trashed: row.deleted_at.is_some(),
            public: row.is_public(now),
            was_public: row.was_public,
            pending_live: row.pending_live,
            breaking_until: row.breaking_until,
        }
    }

    fn reference(&self) -> EventArticle {
        EventArticle {
            id: self.id,
            slug: self.slug.clone(),
            status: self.status,
            language: self.language.clone(),
        }
    }

    /// Public by its scheduled time, with the event of that moment still to record.
    pub fn due_unannounced(&self) -> bool {
        self.public && self.pending_live
    }

    /// Public and breaking news at `now`.
    fn breaking_at(&self, now: NaiveDateTime) -> bool {
        self.public && self.breaking_until.is_some_and(|until| now < until)
    }

    /// Scheduled for a time still to come (and not in the trash).
    pub fn scheduled(&self) -> bool {
        self.status == Status::Scheduled && !self.trashed
    }
}

/// The fields whose change moves an article between lists or within them.
const LIST_FIELDS: [&str; 5] = [
    "topic_ids",
    "primary_topic_id",
    "author_ids",
    "language",
    "published_at",
];

/// What a public article event invalidates: the article wherever it shows, searches and sync;
/// when it enters, leaves or moves in lists, every list and feed it is in (its topics with
/// their ancestors, its bylines, its language) and the counts of topics and authors.
pub fn article_keys(
    conn: &mut db::DbConnection,
    event: &Pending,
) -> QueryResult<crate::keys::Keys> {
    use crate::db::schema::{article_authors, article_topics, articles};
    use crate::keys::{self, Keys};
    let Some(article) = &event.article else {
        return Ok(Keys::default());
    };
    let mut out = Keys::default();
    out.add(keys::article(article.id));
    if event.kind == EventType::LinksChanged {
        return Ok(out);
    }
    out.add(keys::SEARCH).add(keys::SYNC);
    let breaking = event.kind == EventType::ArticleBreaking
        || event.changed.iter().flatten().any(|f| f == "breaking");
    if breaking {
        out.add(keys::BREAKING);
    }
    let group: Option<Option<i32>> = articles::table
        .find(article.id)
        .select(articles::translation_group)
        .first(conn)
        .optional()?;
    if let Some(group) = group.flatten() {
        out.add(keys::translations(group));
    }
    let lists = match event.kind {
        EventType::ArticlePublished | EventType::ArticleUnpublished => true,
        EventType::ArticleUpdated => event
            .changed
            .iter()
            .flatten()
            .any(|f| LIST_FIELDS.contains(&f.as_str())),
        EventType::ArticleDeleted => {
            out.add(keys::TOPICS).add(keys::AUTHORS);
            false
        }
        _ => false,
    };
    if lists {
        out.add(keys::BREAKING);
        out.add(keys::LIST)
            .add(keys::FEED)
            .add(keys::TOPICS)
            .add(keys::AUTHORS)
            .add(keys::list_language(&article.language));
        let topics: Vec<i32> = article_topics::table
            .filter(article_topics::article_id.eq(article.id))
            .select(article_topics::topic_id)
            .load(conn)?;
        for t in topics {
            out.add(keys::list_topic(t)).add(keys::feed_topic(t));
        }
        let authors: Vec<i32> = article_authors::table
            .filter(article_authors::article_id.eq(article.id))
            .select(article_authors::user_id)
            .load(conn)?;
        for a in authors {
            out.add(keys::list_author(a));
        }
    }
    Ok(out)
}

/// An article event.
pub fn article_event(
    kind: EventType,
    at: NaiveDateTime,
    state: &ArticleState,
    public: bool,
) -> Pending {
    Pending {
        article: Some(state.reference()),
        ..Pending::new(kind, at, public)
    }
}

/// The events of a change of an article from `before` to `after` (None: it did not exist, or
/// no longer does), with `changed` the fields that changed besides the status.
pub fn article_change(
    before: Option<&ArticleState>,
    after: Option<&ArticleState>,
    changed: &[&str],
    now: NaiveDateTime,
) -> Vec<Pending> {
    let mut out = Vec::new();
    // A scheduled article whose time has come is public already; if the scheduler has not
    // recorded that yet, the moment is recorded first, at its time.
    if let Some(b) = before.filter(|b| b.due_unannounced()) {
        let at = b.published_at.unwrap_or(now);
        out.push(article_event(EventType::ArticlePublished, at, b, true));
    }
    let event = |kind, state: &ArticleState, public| article_event(kind, now, state, public);
    match (before, after) {
        (None, Some(a)) => {
            out.push(event(EventType::ArticleCreated, a, false));
            if a.public {
                out.push(event(EventType::ArticlePublished, a, true));
            }
        }
        (Some(b), None) => {
            out.push(event(
                EventType::ArticleDeleted,
                b,
                b.was_public || b.public,
            ));
        }
        (Some(b), Some(a)) => {
            if !b.trashed && a.trashed {
                out.push(event(EventType::ArticleTrashed, a, false));
            }
            if b.trashed && !a.trashed {
                out.push(event(EventType::ArticleRestored, a, false));
            }
            if b.status != a.status {
                let mut e = event(EventType::ArticleStatusChanged, a, false);
                e.changed = Some(vec!["status".into()]);
                out.push(e);
            }
            if !changed.is_empty() {
                let mut e = event(EventType::ArticleUpdated, a, b.public && a.public);
                e.changed = Some(changed.iter().map(|f| (*f).to_owned()).collect());
                out.push(e);
            }
            if !b.public && a.public {
                out.push(event(EventType::ArticlePublished, a, true));
            }
            if b.public && !a.public {
                out.push(event(EventType::ArticleUnpublished, a, true));
            }
        }
        (None, None) => {}
    }
    // Breaking news from now on: marked while public, or public while marked.
    if let Some(a) = after.filter(|a| a.breaking_at(now)) {
        if !before.is_some_and(|b| b.breaking_at(now)) {
            out.push(event(EventType::ArticleBreaking, a, true));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_are_named_as_the_wire_says() {
        for kind in EventType::ALL {
            let wire = serde_json::to_value(kind).unwrap();
            assert_eq!(wire, kind.as_str());
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
        }
    }
}
