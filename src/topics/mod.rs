//! Topics: sections and tags in a tree. Articles are filed under topics; a topic's feed and
//! article count include its descendants (see `tree`).

pub mod heads;
mod names;
pub mod tree;

use std::collections::{HashMap, HashSet};

use actix_web::http::header;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::articles::translations::Preference;
use crate::auth::Caller;
use crate::changes::{self, events::EventRef, events::EventType};
use crate::db::schema::{article_topics, topics};
use crate::db::{self, DbConnection};
use crate::domain::{bounded_text, display_text, Errors, Key, Role, Slug};
use crate::error::ApiError;
use crate::extract::{nullable, Json};
use crate::keys::{self, Keys, Tagged};
use crate::openapi::rules::{field, FieldRule, Rule};
use crate::state::AppState;

/// The single-field rules of topic writes, as the spec states them.
pub const FIELD_RULES: &[FieldRule] = &[
    field("CreateTopic", "names", NAMES),
    field("UpdateTopic", "names", NAMES),
    field("CreateTopic", "descriptions", DESCRIPTIONS),
    field("UpdateTopic", "descriptions", DESCRIPTIONS),
    field("CreateTopic", "name", Rule::Title(MAX_NAME_CHARS)),
    field("UpdateTopic", "name", Rule::Title(MAX_NAME_CHARS)),
    field("CreateTopic", "slug", Rule::Slug),
    field("UpdateTopic", "slug", Rule::Slug),
    field(
        "CreateTopic",
        "description",
        Rule::Text(MAX_DESCRIPTION_CHARS),
    ),
    field(
        "UpdateTopic",
        "description",
        Rule::Text(MAX_DESCRIPTION_CHARS),
    ),
];

/// The rules of `names` and `descriptions`: each text as `name` or `description`.
const NAMES: Rule = Rule::ByLanguage(names::MAX_LANGUAGES, &Rule::Title(MAX_NAME_CHARS));
const DESCRIPTIONS: Rule =
    Rule::ByLanguage(names::MAX_LANGUAGES, &Rule::Text(MAX_DESCRIPTION_CHARS));
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
/// The most topics one list returns.
pub const MAX_TOPICS: i64 = 2000;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = topics)]
pub struct TopicRow {
    pub id: i32,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub parent_id: Option<i32>,
    pub position: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// JSON: the name by language.
    pub names: String,
    /// JSON: the description by language.
    pub descriptions: String,
}

impl TopicRow {
    pub fn find(conn: &mut DbConnection, key: &Key) -> Result<Option<Self>, ApiError> {
        let query = topics::table.select(Self::as_select()).into_boxed();
        let query = match key {
            Key::Id(id) => query.filter(topics::id.eq(*id)),
            Key::Slug(slug) => query.filter(topics::slug.eq(slug.clone())),
        };
        Ok(query.first(conn).optional()?)
    }
}

/// The id of the topic `key` names, if one does.
pub fn find_id(conn: &mut DbConnection, key: &Key) -> Result<Option<i32>, ApiError> {
    Ok(TopicRow::find(conn, key)?.map(|t| t.id))
}

/// A topic as articles name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Queryable)]
#[schema(example = json!({"id": 3, "slug": "tajikistan", "name": "Tajikistan"}))]
pub struct TopicRef {
    pub id: i32,
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 3, "slug": "tajikistan", "name": "Tajikistan", "description": "News from Tajikistan",
    "parent_id": 2, "position": 0, "article_count": 412,
    "created_at": "2026-01-10T08:00:00Z", "updated_at": "2026-11-28T16:20:00Z"
}))]
pub struct Topic {
    pub id: i32,
    pub slug: String,
    /// In the reader's best language among `names` (`prefer_language`, else an anonymous
    /// reader's `Accept-Language`), else the topic's own name.
    pub name: String,
    /// The language `name` is in when it comes from `names`; null for the topic's own name.
    #[schema(example = "ru")]
    pub name_language: Option<String>,
    /// The name in other languages, by BCP 47 tag.
    #[schema(example = json!({"ru": "Таджикистан", "tg": "Тоҷикистон"}))]
    pub names: names::ByLanguage,
    /// Likewise chosen from `descriptions`.
    pub description: Option<String>,
    /// The description in other languages, by BCP 47 tag.
    pub descriptions: names::ByLanguage,
    pub parent_id: Option<i32>,
    /// Order among siblings, ascending.
    pub position: i32,
    /// Published articles filed under this topic or any of its descendants.
    pub article_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Topic {
    fn reference(&self) -> EventRef {
        EventRef {
            id: self.id,
            slug: self.slug.clone(),
        }
    }

    fn new(row: TopicRow, article_count: i64, prefer: Option<&Preference>) -> Self {
        let names = names::stored(&row.names);
        let descriptions = names::stored(&row.descriptions);
        let (name, name_language) = match names::best(&names, prefer) {
            Some((language, name)) => (name.to_owned(), Some(language.to_owned())),
            None => (row.name, None),
        };
        let description = names::best(&descriptions, prefer)
            .map(|(_, d)| d.to_owned())
            .or(row.description);
        Self {
            id: row.id,
            slug: row.slug,
            name,
            name_language,
            names,
            description,
            descriptions,
            parent_id: row.parent_id,
            position: row.position,
            article_count,
            created_at: db::utc(row.created_at),
            updated_at: db::utc(row.updated_at),
        }
    }
}

/// Published-article counts per topic (descendants included), for `ids` or every topic.
fn article_counts(
    conn: &mut DbConnection,
    ids: Option<&[i32]>,
) -> Result<HashMap<i32, i64>, ApiError> {
    let mut query = article_topics::table
        .filter(article_topics::feed_published_at.le(db::now()))
        .group_by(article_topics::topic_id)
        .select((article_topics::topic_id, diesel::dsl::count_star()))
        .into_boxed();
    if let Some(ids) = ids {
        query = query.filter(article_topics::topic_id.eq_any(ids.to_vec()));
    }
    let counts: Vec<(i32, i64)> = query.load(conn)?;
    Ok(counts.into_iter().collect())
}

fn with_counts(
    conn: &mut DbConnection,
    rows: Vec<TopicRow>,
    all: bool,
    prefer: Option<&Preference>,
) -> Result<Vec<Topic>, ApiError> {
    let ids: Vec<i32> = rows.iter().map(|t| t.id).collect();
    let counts = article_counts(conn, (!all).then_some(ids.as_slice()))?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let count = counts.get(&row.id).copied().unwrap_or(0);
            Topic::new(row, count, prefer)
        })
        .collect())
}

/// The keys of topics as their list and pages show them (with their counts of articles).
fn topic_keys(topics: &[Topic]) -> Keys {
    let mut out = Keys::of([keys::TOPICS]);
    for t in topics {
        out.add(keys::topic(t.id));
    }
    out
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TopicList {
    pub data: Vec<Topic>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListTopicsQuery {
    /// Only the children of this topic (id or slug).
    #[param(example = "central-asia")]
    pub parent: Option<String>,
    /// Languages in order of preference for `name` and `description` (comma-separated BCP 47
    /// tags); without it an anonymous read follows `Accept-Language`.
    #[param(example = "ru,en")]
    pub prefer_language: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TopicReadQuery {
    /// As for the list.
    #[param(example = "ru,en")]
    pub prefer_language: Option<String>,
}

/// The language preference of a topic read (topics are public: a reader is anonymous unless
/// the request carries a token).
fn preference(raw: Option<&str>, req: &HttpRequest) -> Result<Option<Preference>, ApiError> {
    let anonymous = !req.headers().contains_key(header::AUTHORIZATION);
    Preference::of_read(raw, req.headers(), anonymous)
}

/// List topics
///
/// Every topic (up to 2000), ordered by position then name; `parent_id` gives the tree. With
/// `parent`, only that topic's children.
#[utoipa::path(
    tag = "topics",
    params(ListTopicsQuery),
    responses(
        (status = 200, description = "The topics", body = TopicList),
        (status = 404, description = "Unknown parent", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[get("/topics")]
pub async fn list_topics(
    state: web::Data<AppState>,
    query: web::Query<ListTopicsQuery>,
    req: HttpRequest,
) -> Result<Tagged<web::Json<TopicList>>, ApiError> {
    let parent = query.parent.as_deref().map(Key::from_path).transpose()?;
    let prefer = preference(query.prefer_language.as_deref(), &req)?;
    let data = db::run(&state.pool, move |conn| {
        let mut q = topics::table
            .select(TopicRow::as_select())
            .order((topics::position.asc(), topics::name.asc(), topics::id.asc()))
            .limit(MAX_TOPICS)
            .into_boxed();
        let all = parent.is_none();
        if let Some(key) = parent {
            let parent =
                TopicRow::find(conn, &key)?.ok_or_else(|| ApiError::not_found("parent topic"))?;
            q = q.filter(topics::parent_id.eq(parent.id));
        }
        let rows = q.load(conn)?;
        with_counts(conn, rows, all, prefer.as_ref())
    })
    .await?;
    let keys = topic_keys(&data);
    Ok(Tagged(web::Json(TopicList { data }), keys))
}

/// Get a topic
///
/// By id or slug, with its count of published articles (descendants included).
#[utoipa::path(
    tag = "topics",
    params(TopicKey, TopicReadQuery),
    responses(
        (status = 200, description = "The topic", body = Topic),
        (status = 404, description = "No such topic", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[get("/topics/{key}")]
pub async fn get_topic(
    state: web::Data<AppState>,
    key: web::Path<TopicKey>,
    query: web::Query<TopicReadQuery>,
    req: HttpRequest,
) -> Result<Tagged<web::Json<Topic>>, ApiError> {
    let key = Key::from_path(&key.key)?;
    let prefer = preference(query.prefer_language.as_deref(), &req)?;
    let topic = db::run(&state.pool, move |conn| {
        let row = TopicRow::find(conn, &key)?.ok_or_else(|| ApiError::not_found("topic"))?;
        Ok(with_counts(conn, vec![row], false, prefer.as_ref())?.pop())
    })
    .await?
    .ok_or_else(|| ApiError::not_found("topic"))?;
    let keys = topic_keys(std::slice::from_ref(&topic));
    Ok(Tagged(web::Json(topic), keys))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Таджикистан", "description": "Новости Таджикистана", "parent_id": 2, "position": 0
}))]
pub struct CreateTopic {
    pub name: String,
    /// Derived from the name (transliterated) when absent.
    pub slug: Option<String>,
    pub description: Option<String>,
    pub parent_id: Option<i32>,
    pub position: Option<i32>,
    /// The name in other languages, by BCP 47 tag (each as `name`; at most 50).
    #[schema(example = json!({"en": "Tajikistan", "tg": "Тоҷикистон"}))]
    pub names: Option<names::ByLanguage>,
    /// The description in other languages, by BCP 47 tag.
    pub descriptions: Option<names::ByLanguage>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"parent_id": null, "position": 3}))]
pub struct UpdateTopic {
    pub name: Option<String>,
    pub slug: Option<String>,
    /// Null clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// Null makes the topic a root.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    pub parent_id: Option<Option<i32>>,
    pub position: Option<i32>,
    /// Replaces the names in other languages (`{}` clears them).
    pub names: Option<names::ByLanguage>,
    /// Replaces the descriptions in other languages.
    pub descriptions: Option<names::ByLanguage>,
}

/// Checked topic fields; `None` leaves a field as it is.
#[derive(Default)]
struct TopicChanges {
    name: Option<String>,
    slug: Option<Slug>,
    description: Option<Option<String>>,
    parent_id: Option<Option<i32>>,
    position: Option<i32>,
    /// JSON, as stored.
    names: Option<String>,
    descriptions: Option<String>,
}

/// The other languages' texts of a write, unchecked.
#[derive(Default)]
struct Localised {
    names: Option<names::ByLanguage>,
    descriptions: Option<names::ByLanguage>,
}

impl TopicChanges {
    /// The fields these changes give another value than `current` has.
    fn differ_from(&self, current: &TopicRow) -> Vec<&'static str> {
        [
            (
                "name",
                self.name.as_ref().is_some_and(|n| *n != current.name),
            ),
            (
                "slug",
                self.slug
                    .as_ref()
                    .is_some_and(|s| s.as_str() != current.slug),
            ),
            (
                "description",
                self.description
                    .as_ref()
                    .is_some_and(|d| *d != current.description),
            ),
            (
                "parent_id",
                self.parent_id.is_some_and(|p| p != current.parent_id),
            ),
            (
                "position",
                self.position.is_some_and(|p| p != current.position),
            ),
            (
                "names",
                self.names.as_ref().is_some_and(|n| *n != current.names),
            ),
            (
                "descriptions",
                self.descriptions
                    .as_ref()
                    .is_some_and(|d| *d != current.descriptions),
            ),
        ]
        .into_iter()
        .filter_map(|(field, changed)| changed.then_some(field))
        .collect()
    }

    fn parse(
        name: Option<String>,
        slug: Option<String>,
        description: Option<Option<String>>,
        parent_id: Option<Option<i32>>,
        position: Option<i32>,
        localised: Localised,
    ) -> Result<Self, ApiError> {
        let mut errors = Errors::default();
        let names = localised.names.and_then(|n| {
            names::parse(&mut errors, "names", n, |t| display_text(t, MAX_NAME_CHARS))
        });
        let descriptions = localised.descriptions.and_then(|d| {
            names::parse(&mut errors, "descriptions", d, |t| {
                bounded_text(t.trim(), MAX_DESCRIPTION_CHARS)
            })
        });
        let changes = Self {
            name: name.and_then(|n| errors.check("name", display_text(&n, MAX_NAME_CHARS))),
            slug: slug.and_then(|s| errors.check("slug", Slug::parse(&s))),
            description: description.map(|d| {
                d.map(|d| d.trim().to_owned())
                    .filter(|d| !d.is_empty())
                    .and_then(|d| {
                        errors.check("description", bounded_text(&d, MAX_DESCRIPTION_CHARS))
                    })
            }),
            parent_id,
            position,
            names,
            descriptions,
        };
        errors.finish()?;
        Ok(changes)
    }
}

fn slug_taken(conn: &mut DbConnection, slug: &Slug, except: Option<i32>) -> Result<bool, ApiError> {
    let mut query = topics::table
        .filter(topics::slug.eq(slug.as_str()))
        .select(topics::id)
        .into_boxed();
    if let Some(id) = except {
        query = query.filter(topics::id.ne(id));
    }
    Ok(query.first::<i32>(conn).optional()?.is_some())
}

fn derive_slug(conn: &mut DbConnection, name: &str) -> Result<Slug, ApiError> {
    let base = Slug::derive(name, "topic");
    let taken: HashSet<String> = topics::table
        .filter(topics::slug.like(format!("{}%", base.as_str())))
        .select(topics::slug)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    Ok(base.first_free(&taken))
}

/// 422 unless `parent` exists, is not `topic` itself or one of its descendants, and the topic
/// (with its subtree) would sit no deeper than `tree::MAX_DEPTH` levels under it.
fn check_parent(conn: &mut DbConnection, topic: Option<i32>, parent: i32) -> Result<(), ApiError> {
    let parents = tree::parents(conn)?;
    if !parents.contains_key(&parent) {
        return Err(ApiError::invalid("parent_id", "no topic has this id"));
    }
    if let Some(topic) = topic {
        if tree::ancestors(&parents, parent).contains(&topic) || parent == topic {
            return Err(ApiError::invalid(
                "parent_id",
                "would make the topic its own ancestor",
            ));
        }
    }
    let levels = topic.map_or(1, |topic| tree::height(&parents, topic));
    if tree::depth(&parents, parent) + levels > tree::MAX_DEPTH {
        return Err(ApiError::invalid(
            "parent_id",
            format!("topics nest at most {} levels deep", tree::MAX_DEPTH),
        ));
    }
    Ok(())
}

/// Create a topic
///
/// Editors and admins. The slug is derived from the name when absent (transliterated, made
/// unique); an explicit slug that is taken -> 409.
#[utoipa::path(
    tag = "topics",
    request_body = CreateTopic,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `Location` names the new topic", body = Topic,
            headers(("Location" = String, description = "URL of the new topic"))),
        (status = 409, description = "The slug is taken", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[post("/topics")]
pub async fn create_topic(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CreateTopic>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Editor)?;
    let body = body.0;
    let changes = TopicChanges::parse(
        Some(body.name),
        body.slug,
        Some(body.description),
        Some(body.parent_id),
        body.position,
        Localised {
            names: body.names,
            descriptions: body.descriptions,
        },
    )?;
    let topic = changes::write(&state, Some(caller.id()), move |tx| {
        let topic = db::retry_on_conflict(tx.conn(), |conn| insert_topic(conn, &changes))?;
        tx.topic(EventType::TopicCreated, topic.reference(), &[], &[], &[]);
        Ok(topic)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/topics/{}", topic.id)))
        .json(topic))
}

fn insert_topic(conn: &mut DbConnection, changes: &TopicChanges) -> Result<Topic, ApiError> {
    let name = changes.name.clone().unwrap_or_default();
    let slug = match changes.slug.clone() {
        Some(slug) if slug_taken(conn, &slug, None)? => {
            return Err(ApiError::Conflict(
                "a topic with this slug already exists".into(),
            ))
        }
        Some(slug) => slug,
        None => derive_slug(conn, &name)?,
    };
    let parent_id = changes.parent_id.flatten();
    if let Some(parent) = parent_id {
        check_parent(conn, None, parent)?;
    }
    let now = db::now();
    let id: i32 = diesel::insert_into(topics::table)
        .values((
            topics::slug.eq(slug.as_str()),
            topics::name.eq(&name),
            topics::description.eq(changes.description.clone().flatten()),
            topics::parent_id.eq(parent_id),
            topics::position.eq(changes.position.unwrap_or(0)),
            topics::created_at.eq(now),
            topics::updated_at.eq(now),
            topics::names.eq(changes.names.clone().unwrap_or_else(|| "{}".into())),
            topics::descriptions.eq(changes.descriptions.clone().unwrap_or_else(|| "{}".into())),
        ))
        .returning(topics::id)
        .get_result(conn)?;
    let row = TopicRow::find(conn, &Key::Id(id))?
        .ok_or_else(|| ApiError::internal("inserted topic vanished"))?;
    Ok(Topic::new(row, 0, None))
}

/// The `{key}` of a topic's URL.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TopicKey {
    /// The topic's id, or its slug.
    #[param(example = "tajikistan")]
    pub key: String,
}

/// Update a topic
///
/// Partial update by editors and admins. Moving a topic under a new parent moves its articles
/// in the feeds of the old and new ancestors; a parent that would make a cycle -> 422.
#[utoipa::path(
    tag = "topics",
    params(TopicKey),
    request_body = UpdateTopic,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated topic", body = Topic),
        (status = 404, description = "No such topic", body = crate::error::Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[patch("/topics/{key}")]
pub async fn update_topic(
    state: web::Data<AppState>,
    caller: Caller,
    key: web::Path<TopicKey>,
    body: Json<UpdateTopic>,
) -> Result<web::Json<Topic>, ApiError> {
    caller.require(Role::Editor)?;
    let key = Key::from_path(&key.key)?;
    let body = body.0;
    let changes = TopicChanges::parse(
        body.name,
        body.slug,
        body.description,
        body.parent_id,
        body.position,
        Localised {
            names: body.names,
            descriptions: body.descriptions,
        },
    )?;
    let topic = changes::write(&state, Some(caller.id()), move |tx| {
        // The parent check and the move are one write transaction: one writer at a time in
        // every server process, so two moves checked side by side cannot make a cycle.
        let conn = tx.conn();
        let current = TopicRow::find(conn, &key)?.ok_or_else(|| ApiError::not_found("topic"))?;
        let id = current.id;
        let mut lists = tree::ancestors(&tree::parents(conn)?, id);
        if let Some(slug) = &changes.slug {
            if slug_taken(conn, slug, Some(id))? {
                return Err(ApiError::Conflict(
                    "a topic with this slug already exists".into(),
                ));
            }
        }
        if let Some(Some(parent)) = changes.parent_id {
            check_parent(conn, Some(id), parent)?;
        }
        diesel::update(topics::table.find(id))
            .set((
                changes.name.clone().map(|n| topics::name.eq(n)),
                changes
                    .slug
                    .as_ref()
                    .map(|s| topics::slug.eq(s.as_str().to_owned())),
                changes
                    .description
                    .clone()
                    .map(|d| topics::description.eq(d)),
                changes.parent_id.map(|p| topics::parent_id.eq(p)),
                changes.position.map(|p| topics::position.eq(p)),
                changes.names.clone().map(|n| topics::names.eq(n)),
                changes
                    .descriptions
                    .clone()
                    .map(|d| topics::descriptions.eq(d)),
                topics::updated_at.eq(db::now()),
            ))
            .execute(conn)?;
        if changes.parent_id.is_some_and(|p| p != current.parent_id) {
            tree::refresh_subtree(conn, id)?;
        }
        let filed = tree::articles_under(conn, id)?;
        lists.extend(tree::ancestors(&tree::parents(conn)?, id));
        let row =
            TopicRow::find(conn, &Key::Id(id))?.ok_or_else(|| ApiError::not_found("topic"))?;
        let changed = changes.differ_from(&current);
        let topic = with_counts(conn, vec![row], false, None)?.pop();
        if let Some(topic) = &topic {
            tx.topic(
                EventType::TopicUpdated,
                topic.reference(),
                &changed,
                &filed,
                &lists,
            );
        }
        Ok(topic)
    })
    .await?;
    topic
        .map(web::Json)
        .ok_or_else(|| ApiError::not_found("topic"))
}

/// Delete a topic
///
/// Editors and admins. Articles filed under it stay, without it. A topic with child topics
/// cannot be deleted (409): move or delete the children first.
#[utoipa::path(
    tag = "topics",
    params(TopicKey),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such topic", body = crate::error::Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "The topic has child topics", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[delete("/topics/{key}")]
pub async fn delete_topic(
    state: web::Data<AppState>,
    caller: Caller,
    key: web::Path<TopicKey>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Editor)?;
    let key = Key::from_path(&key.key)?;
    changes::write(&state, Some(caller.id()), move |tx| {
        let conn = tx.conn();
        let topic = TopicRow::find(conn, &key)?.ok_or_else(|| ApiError::not_found("topic"))?;
        let id = topic.id;
        let children: i64 = topics::table
            .filter(topics::parent_id.eq(id))
            .count()
            .get_result(conn)?;
        if children > 0 {
            return Err(ApiError::Conflict(format!(
                "the topic has {children} child topic(s); move or delete them first"
            )));
        }
        let filed = tree::articles_under(conn, id)?;
        let direct = tree::articles_filed_directly(conn, id)?;
        let lists = tree::ancestors(&tree::parents(conn)?, id);
        diesel::delete(topics::table.find(id)).execute(conn)?;
        // Its articles leave the feeds of its ancestors too, unless their other topics keep
        // them there.
        tree::refile(conn, &direct)?;
        let gone = EventRef {
            id,
            slug: topic.slug,
        };
        tx.topic(EventType::TopicDeleted, gone, &[], &filed, &lists);
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
