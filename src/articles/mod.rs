//! Articles: the wire types, loading with topics and bylines in a constant number of queries,
//! visibility, and the single-article endpoints. Writing lives in `write`, listing in `feed`.

pub mod cards;
pub mod feed;
pub mod html;
pub mod safety;
pub mod search;
pub mod translations;
pub mod write;

use std::collections::{HashMap, HashSet};

use actix_web::http::header;
use actix_web::{delete, get, web, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Caller, MaybeCaller};
use crate::changes;
use crate::db::schema::{
    article_authors, article_cards, article_slugs, article_topics, articles, topics, users,
};
use crate::db::{self, DbConnection};
use crate::domain::{Key, Role};
use crate::error::ApiError;
use crate::keys::{self, Keys};
use crate::state::AppState;
use crate::topics::TopicRef;

/// Where an article stands in the editorial workflow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Draft,
    Review,
    /// Published with a `published_at` still to come; reads report `published` from then on.
    Scheduled,
    Published,
    Archived,
}

/// The values of `articles.status`: a scheduled article is stored as published with a future
/// `published_at`.
pub mod stored {
    pub const DRAFT: &str = "draft";
    pub const REVIEW: &str = "review";
    pub const PUBLISHED: &str = "published";
    pub const ARCHIVED: &str = "archived";
}

impl Status {
    /// The stored value: a scheduled article is stored as published with a future time.
    pub fn stored(self) -> &'static str {
        match self {
            Status::Draft => stored::DRAFT,
            Status::Review => stored::REVIEW,
            Status::Scheduled | Status::Published => stored::PUBLISHED,
            Status::Archived => stored::ARCHIVED,
        }
    }

    /// What readers see now for a stored status and publication time.
    pub fn current(stored: &str, published_at: Option<NaiveDateTime>, now: NaiveDateTime) -> Self {
        match stored {
            stored::PUBLISHED if published_at.is_some_and(|at| at > now) => Status::Scheduled,
            stored::PUBLISHED => Status::Published,
            stored::REVIEW => Status::Review,
            stored::ARCHIVED => Status::Archived,
            _ => Status::Draft,
        }
    }

    /// Whether authors may still change an article with this stored status.
    pub fn is_editable_by_authors(stored: &str) -> bool {
        matches!(stored, stored::DRAFT | stored::REVIEW)
    }
}

/// What the public may read at `now`: published, due, and not in the trash. The one place
/// this rule is written for queries; `ArticleRow::is_public` is its twin for a loaded row.
#[diesel::dsl::auto_type(no_type_alias)]
pub fn public_at(now: NaiveDateTime) -> _ {
    let published: &'static str = stored::PUBLISHED;
    articles::status
        .eq(published)
        .and(articles::published_at.le(now))
        .and(articles::deleted_at.is_null())
}

/// The stored columns of an article but its body.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = articles)]
pub struct ArticleRow {
    pub id: i32,
    pub slug: String,
    pub title: String,
    pub subtitle: Option<String>,
    pub summary: Option<String>,
    pub status: String,
    pub published_at: Option<NaiveDateTime>,
    pub language: String,
    pub primary_topic_id: Option<i32>,
    pub cover_image_url: Option<String>,
    pub cover_image_alt: Option<String>,
    pub cover_image_caption: Option<String>,
    pub cover_image_credit: Option<String>,
    /// A cover from the photo library (then `cover_image_url` is null).
    pub cover_media_id: Option<i32>,
    pub source: Option<String>,
    pub seo_title: Option<String>,
    pub seo_description: Option<String>,
    pub seo_canonical_url: Option<String>,
    pub word_count: i32,
    pub reading_time_minutes: i32,
    pub version: i32,
    pub deleted_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Readable by the public at some time.
    pub was_public: bool,
    /// Scheduled, its `article.published` still to be recorded.
    pub pending_live: bool,
    /// The translation group it belongs to, if any.
    pub translation_group: Option<i32>,
    /// `standard` or `live` (`live::Format`).
    pub format: String,
    /// A live article's state (`live::LiveState`); null for a standard one.
    pub live_state: Option<String>,
    pub live_started_at: Option<NaiveDateTime>,
    pub live_ended_at: Option<NaiveDateTime>,
    /// When it was last marked breaking news, and until when it is.
    pub breaking_at: Option<NaiveDateTime>,
    pub breaking_until: Option<NaiveDateTime>,
}

impl ArticleRow {
    /// Published, due, and not in the trash.
    pub fn is_public(&self, now: NaiveDateTime) -> bool {
        self.deleted_at.is_none()
            && Status::current(&self.status, self.published_at, now) == Status::Published
    }

    /// The article's entity tag: it changes with every change (`version`).
    pub fn etag(&self) -> String {
        etag_of(self.version)
    }

    /// The rows of `ids` in the order of `ids`, in one statement; an id not found is left out.
    pub fn in_order(conn: &mut DbConnection, ids: &[i32]) -> Result<Vec<Self>, ApiError> {
        let mut rows: HashMap<i32, Self> = articles::table
            .filter(articles::id.eq_any(ids))
            .select(Self::as_select())
            .load::<Self>(conn)?
            .into_iter()
            .map(|row| (row.id, row))
            .collect();
        Ok(ids.iter().filter_map(|id| rows.remove(id)).collect())
    }

    pub fn find(conn: &mut DbConnection, key: &Key) -> Result<Option<Self>, ApiError> {
        let query = articles::table.select(Self::as_select()).into_boxed();
        let query = match key {
            Key::Id(id) => query.filter(articles::id.eq(*id)),
            Key::Slug(slug) => query.filter(articles::slug.eq(slug.clone())),
        };
        Ok(query.first(conn).optional()?)
    }
}

/// A byline on an article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, Queryable)]
#[schema(example = json!({"id": 2, "slug": "malika-rahimova", "name": "Malika Rahimova"}))]
pub struct Byline {
    pub id: i32,
    pub slug: String,
    pub name: String,
}

/// A cover image as written: a photo of the library (`media_id`) or an image elsewhere (`url`),
/// exactly one of them. With a photo, `alt`, `caption` and `credit` override the photo's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"media_id": 7, "caption": "The treaty was signed in Bishkek on Monday."}))]
pub struct CoverImageInput {
    /// An http(s) URL.
    pub url: Option<String>,
    /// A photo of the library (`/api/v1/media`).
    pub media_id: Option<i32>,
    pub alt: Option<String>,
    pub caption: Option<String>,
    pub credit: Option<String>,
}

/// A cover image as read. A photo of the library brings its size, focal point, renditions and
/// a placeholder to paint while it loads; an image elsewhere has only its `url` and texts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "url": "https://news.example/media/5f0c3a9e2b7d4c1a8e6f0b9d3c2a1e4f.jpg",
    "alt": "Two presidents shake hands at a signing table",
    "caption": "The treaty was signed in Bishkek on Monday.", "credit": "Photo: Asia-Plus",
    "media_id": 7, "width": 4000, "height": 3000, "focal_point": {"x": 0.5, "y": 0.4},
    "renditions": [{"width": 320, "height": 240, "aspect": "original", "format": "webp",
        "url": "https://news.example/media/5f0c3a9e2b7d4c1a8e6f0b9d3c2a1e4f-320w.webp", "ready": true}],
    "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj"
}))]
pub struct CoverImage {
    /// The image (for a photo of the library, its original).
    pub url: String,
    pub alt: Option<String>,
    pub caption: Option<String>,
    pub credit: Option<String>,
    /// The photo of the library; null for an image elsewhere.
    pub media_id: Option<i32>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub focal_point: Option<crate::media::FocalPoint>,
    /// Empty for an image elsewhere.
    pub renditions: Vec<crate::media::RenditionView>,
    pub blurhash: Option<String>,
}

/// The image a feed item shows: its URL, type and size where known.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedImage {
    pub url: String,
    pub mime: Option<&'static str>,
    pub size: Option<(u32, u32)>,
}

/// The widest rendition feeds carry (readers show it at column width).
const FEED_IMAGE_WIDTH: u32 = 1280;

impl CoverImage {
    /// What feeds show of it: for a photo of the library its widest whole JPEG up to 1,280 px
    /// (JPEG, as every feed reader shows it), otherwise the image as given.
    pub fn feed_image(&self) -> FeedImage {
        let jpeg = self
            .renditions
            .iter()
            .filter(|r| {
                r.aspect == crate::media::files::Aspect::Original
                    && r.format == crate::media::files::Output::Jpeg
                    && r.width <= FEED_IMAGE_WIDTH
            })
            .max_by_key(|r| r.width);
        match jpeg {
            Some(r) => FeedImage {
                url: r.url.clone(),
                mime: Some("image/jpeg"),
                size: Some((r.width, r.height)),
            },
            None => FeedImage {
                url: self.url.clone(),
                mime: None,
                size: None,
            },
        }
    }

    /// The cover an article's columns describe, with its photo if it has one.
    fn of(row: &ArticleRow, photos: &HashMap<i32, crate::media::MediaRow>) -> Option<Self> {
        Self::of_input(
            &CoverImageInput {
                url: row.cover_image_url.clone(),
                media_id: row.cover_media_id,
                alt: row.cover_image_alt.clone(),
                caption: row.cover_image_caption.clone(),
                credit: row.cover_image_credit.clone(),
            },
            photos,
        )
    }

    /// A cover as written, with its photo if it has one (none if that photo is gone); texts
    /// not given are the photo's.
    pub fn of_input(
        c: &CoverImageInput,
        photos: &HashMap<i32, crate::media::MediaRow>,
    ) -> Option<Self> {
        let texts = |own: &Option<String>, photo: &Option<String>| own.clone().or(photo.clone());
        match (c.media_id, &c.url) {
            (Some(id), _) => photos.get(&id).map(|photo| Self {
                url: crate::media::file_url(&photo.original()),
                alt: texts(&c.alt, &photo.alt),
                caption: texts(&c.caption, &photo.caption),
                credit: texts(&c.credit, &photo.credit),
                media_id: Some(id),
                width: Some(photo.width),
                height: Some(photo.height),
                focal_point: Some(photo.focal_point()),
                renditions: photo.rendition_views(),
                blurhash: Some(photo.blurhash.clone()),
            }),
            (None, Some(url)) => Some(Self {
                url: url.clone(),
                alt: c.alt.clone(),
                caption: c.caption.clone(),
                credit: c.credit.clone(),
                media_id: None,
                width: None,
                height: None,
                focal_point: None,
                renditions: Vec::new(),
                blurhash: None,
            }),
            (None, None) => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "Tajikistan and Kyrgyzstan end border dispute",
    "description": "The presidents signed a treaty settling the last contested sections.",
    "canonical_url": null
}))]
pub struct Seo {
    pub title: Option<String>,
    pub description: Option<String>,
    pub canonical_url: Option<String>,
}

/// An article without its body, as feeds list it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 1, "slug": "tajikistan-and-kyrgyzstan-sign-border-treaty",
    "title": "Tajikistan and Kyrgyzstan sign treaty ending decades-long border dispute",
    "subtitle": "The last contested sections of a 970-kilometre frontier are settled",
    "summary": "The presidents of both countries signed the agreement in Bishkek.",
    "status": "published", "published_at": "2026-11-30T09:00:00Z",
    "created_at": "2026-11-30T07:12:00Z", "updated_at": "2026-11-30T09:05:00Z",
    "language": "en",
    "topics": [{"id": 3, "slug": "tajikistan", "name": "Tajikistan"}, {"id": 10, "slug": "politics", "name": "Politics"}],
    "primary_topic": {"id": 3, "slug": "tajikistan", "name": "Tajikistan"},
    "authors": [{"id": 2, "slug": "malika-rahimova", "name": "Malika Rahimova"}],
    "cover_image": null, "source": "Asia-Plus",
    "seo": {"title": null, "description": null, "canonical_url": null},
        "word_count": 640, "reading_time_minutes": 4, "version": 3, "trashed_at": null,
        "format": "standard", "live": null, "breaking_until": null
}))]
pub struct ArticleSummary {
    pub id: i32,
    pub slug: String,
    pub title: String,
    pub subtitle: Option<String>,
    /// The lead.
    pub summary: Option<String>,
    pub status: Status,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// BCP 47 language tag.
    pub language: String,
    pub topics: Vec<TopicRef>,
    pub primary_topic: Option<TopicRef>,
    pub authors: Vec<Byline>,
    pub cover_image: Option<CoverImage>,
    /// Attribution, such as a news agency.
    pub source: Option<String>,
    pub seo: Seo,
    pub word_count: i32,
    pub reading_time_minutes: i32,
    /// Grows with every change.
    pub version: i32,
    /// When the article was moved to the trash; null unless it is there.
    pub trashed_at: Option<DateTime<Utc>>,
    /// `live` for a live blog, whose story is told in entries (`/articles/{key}/entries`).
    pub format: crate::live::Format,
    /// A live blog's state: `live` while it is updated, `ended` after; null for a standard
    /// article.
    pub live: Option<crate::live::Live>,
    /// Marked breaking news until this time (`GET /breaking` lists it until then); null if
    /// not marked.
    pub breaking_until: Option<DateTime<Utc>>,
    /// Only in search results (`q`): the title and a snippet with the matches marked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub highlight: Option<search::Highlight>,
}

/// A whole article.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Article {
    #[serde(flatten)]
    pub summary: ArticleSummary,
    /// Sanitised HTML.
    #[schema(
        example = "<p><strong>DUSHANBE</strong> — The presidents of both countries signed the agreement…</p>"
    )]
    pub body: String,
    /// The same story in other languages (the other members of its translation group): the
    /// public ones for the public, all with their `status` for staff.
    pub translations: Vec<translations::Translation>,
    /// With `include=related`: the first related items, as `GET /articles/{key}/related` lists them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related: Option<Vec<crate::links::RelatedItem>>,
}

/// Builds summaries for `rows` with two more queries, whatever their number: one for all
/// their topics, one for all their bylines (and a third for their covers' photos, if any).
pub fn summaries(
    conn: &mut DbConnection,
    rows: Vec<ArticleRow>,
) -> Result<Vec<ArticleSummary>, ApiError> {
    let ids: Vec<i32> = rows.iter().map(|r| r.id).collect();
    let mut topics_of: HashMap<i32, Vec<TopicRef>> = HashMap::new();
    let topic_rows: Vec<(i32, TopicRef)> = article_topics::table
        .inner_join(topics::table)
        .filter(article_topics::article_id.eq_any(&ids))
        .filter(article_topics::direct.eq(true))
        .order((article_topics::article_id, article_topics::position))
        .select((
            article_topics::article_id,
            (topics::id, topics::slug, topics::name),
        ))
        .load(conn)?;
    for (article, topic) in topic_rows {
        topics_of.entry(article).or_default().push(topic);
    }
    let mut authors_of: HashMap<i32, Vec<Byline>> = HashMap::new();
    let author_rows: Vec<(i32, Byline)> = article_authors::table
        .inner_join(users::table)
        .filter(article_authors::article_id.eq_any(&ids))
        .order((article_authors::article_id, article_authors::position))
        .select((
            article_authors::article_id,
            (users::id, users::slug, users::name),
        ))
        .load(conn)?;
    for (article, author) in author_rows {
        authors_of.entry(article).or_default().push(author);
    }
    let media_ids: Vec<i32> = rows.iter().filter_map(|r| r.cover_media_id).collect();
    let photos = if media_ids.is_empty() {
        HashMap::new()
    } else {
        crate::media::rows(conn, &media_ids)?
    };
    let now = db::now();
    Ok(rows
        .into_iter()
        .map(|row| {
            let cover_image = CoverImage::of(&row, &photos);
            let topics = topics_of.remove(&row.id).unwrap_or_default();
            let primary_topic = row
                .primary_topic_id
                .and_then(|p| topics.iter().find(|t| t.id == p).cloned());
            ArticleSummary {
                format: crate::live::Format::of(&row.format),
                live: crate::live::Live::of(&row),
                breaking_until: row.breaking_until.map(db::utc),
                status: Status::current(&row.status, row.published_at, now),
                published_at: row.published_at.map(db::utc),
                created_at: db::utc(row.created_at),
                updated_at: db::utc(row.updated_at),
                authors: authors_of.remove(&row.id).unwrap_or_default(),
                cover_image,
                seo: Seo {
                    title: row.seo_title,
                    description: row.seo_description,
                    canonical_url: row.seo_canonical_url,
                },
                topics,
                primary_topic,
                id: row.id,
                slug: row.slug,
                title: row.title,
                subtitle: row.subtitle,
                summary: row.summary,
                language: row.language,
                source: row.source,
                word_count: row.word_count,
                reading_time_minutes: row.reading_time_minutes,
                version: row.version,
                trashed_at: row.deleted_at.map(db::utc),
                highlight: None,
            }
        })
        .collect())
}

/// The entity tag of an article's staff representation: its version.
pub fn etag_of(version: i32) -> String {
    format!("\"v{version}\"")
}

/// A response carrying `article` with its `ETag` (the version).
pub fn with_etag(mut builder: actix_web::HttpResponseBuilder, article: &Article) -> HttpResponse {
    builder
        .insert_header((header::ETAG, etag_of(article.summary.version)))
        .json(article)
}

/// Sets the feed time of an article's topic and byline rows: its publication time while it is
/// published and out of the trash, else None (out of every feed).
pub fn set_feed_time(
    conn: &mut DbConnection,
    id: i32,
    feed_at: Option<NaiveDateTime>,
) -> Result<(), ApiError> {
    diesel::update(article_topics::table.filter(article_topics::article_id.eq(id)))
        .set(article_topics::feed_published_at.eq(feed_at))
        .execute(conn)?;
    diesel::update(article_authors::table.filter(article_authors::article_id.eq(id)))
        .set(article_authors::feed_published_at.eq(feed_at))
        .execute(conn)?;
    search::set_visible(conn, id, feed_at)
}

/// The whole article with id `id`.
pub fn load(conn: &mut DbConnection, row: ArticleRow) -> Result<Article, ApiError> {
    let body: String = articles::table
        .find(row.id)
        .select(articles::body)
        .first(conn)?;
    let translations = translations::of_article(conn, row.id, row.translation_group, true, None)?;
    let summary = summaries(conn, vec![row])?
        .pop()
        .ok_or_else(|| ApiError::internal("an article lost its summary"))?;
    Ok(Article {
        summary,
        body,
        translations,
        related: None,
    })
}

/// The ids of an article's bylines.
pub fn author_ids(conn: &mut DbConnection, article_id: i32) -> Result<Vec<i32>, ApiError> {
    Ok(article_authors::table
        .filter(article_authors::article_id.eq(article_id))
        .order(article_authors::position)
        .select(article_authors::user_id)
        .load(conn)?)
}

/// Which of `ids` the caller may read, by the rule of `can_see`, in three queries at most.
/// An id that does not exist is simply absent, so a hidden article and a missing one look
/// alike to whoever asks.
pub fn readable(
    conn: &mut DbConnection,
    ids: &[i32],
    caller: Option<&Caller>,
) -> Result<HashSet<i32>, ApiError> {
    let existing = articles::table
        .filter(articles::id.eq_any(ids))
        .select(articles::id)
        .into_boxed();
    if caller.is_some_and(|c| c.role >= Role::Editor) {
        return Ok(existing.load::<i32>(conn)?.into_iter().collect());
    }
    let mut found: HashSet<i32> = existing
        .filter(public_at(db::now()))
        .load::<i32>(conn)?
        .into_iter()
        .collect();
    if let Some(caller) = caller {
        found.extend(
            article_authors::table
                .filter(article_authors::article_id.eq_any(ids))
                .filter(article_authors::user_id.eq(caller.id()))
                .select(article_authors::article_id)
                .load::<i32>(conn)?,
        );
    }
    Ok(found)
}

/// Who may see an article: everyone once public; editors and admins always; its authors.
pub fn can_see(
    conn: &mut DbConnection,
    row: &ArticleRow,
    caller: Option<&Caller>,
) -> Result<bool, ApiError> {
    if row.is_public(db::now()) {
        return Ok(true);
    }
    Ok(match caller {
        None => false,
        Some(c) if c.role >= Role::Editor => true,
        Some(c) => author_ids(conn, row.id)?.contains(&c.id()),
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArticleQuery {
    /// `related` embeds the first related items, so a page renders from one request.
    #[param(example = "related")]
    pub include: Option<String>,
}

enum Found {
    /// The public's page: its JSON, its keys, when it last changed.
    Public(String, Keys, NaiveDateTime),
    /// A staff read, built from scratch.
    Staff(Box<Article>),
    MovedTo(String, i32),
}

impl ArticleSummary {
    /// The surrogate keys of this article as a page or a card shows it.
    pub fn add_keys(&self, keys: &mut Keys) {
        let topics: Vec<i32> = self.topics.iter().map(|t| t.id).collect();
        let authors: Vec<i32> = self.authors.iter().map(|a| a.id).collect();
        keys.card(self.id, &topics, &authors);
    }
}

/// Get an article
///
/// By id or slug. Published articles are public; anything else is visible only to its authors
/// and to editors and admins (404 to everyone else). A former slug answers 301 with the
/// current URL in `Location`.
#[utoipa::path(
    tag = "articles",
    params(ArticleKey, ArticleQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The article", body = Article),
        (status = 301, description = "A former slug: `Location` has the current URL",
            headers(("Location" = String, description = "The article's current URL"))),
        (status = 401, description = "A token was sent but is invalid", body = crate::error::Problem,
            content_type = "application/problem+json"),
        (status = 404, description = "No such article, or not visible to the caller",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{key}")]
pub async fn get_article(
    state: web::Data<AppState>,
    caller: MaybeCaller,
    key: web::Path<ArticleKey>,
    query: web::Query<ArticleQuery>,
) -> Result<HttpResponse, ApiError> {
    let key = Key::from_path(&key.key)?;
    let mut with_related = false;
    for part in query
        .include
        .iter()
        .flat_map(|i| i.split(','))
        .map(str::trim)
    {
        match part {
            "related" => with_related = true,
            "" => {}
            other => {
                return Err(ApiError::invalid(
                    "include",
                    format!("`{other}` cannot be included; use `related`"),
                ))
            }
        }
    }
    let found = db::run(&state.pool, move |conn| {
        let caller = caller.0.as_ref();
        if caller.is_none() {
            if let Some(page) = public_page(conn, &key, with_related)? {
                return Ok(page);
            }
        }
        if let Some(row) = ArticleRow::find(conn, &key)? {
            // The public reads public articles only as above; staff by `can_see`.
            if caller.is_some() && can_see(conn, &row, caller)? {
                let id = row.id;
                let mut article = load(conn, row)?;
                if with_related {
                    let topics: Vec<i32> = article.summary.topics.iter().map(|t| t.id).collect();
                    // Staff reads are private: their keys tag no response.
                    let related = crate::links::related(
                        conn,
                        id,
                        &topics,
                        crate::links::EMBEDDED,
                        true,
                        &mut Keys::default(),
                    )?;
                    article.related = Some(
                        related
                            .into_iter()
                            .map(crate::links::RelatedCard::into_item)
                            .collect::<Result<_, _>>()?,
                    );
                }
                return Ok(Found::Staff(Box::new(article)));
            }
            return Err(ApiError::not_found("article"));
        }
        if let Key::Slug(slug) = &key {
            let moved: Option<i32> = article_slugs::table
                .find(slug)
                .select(article_slugs::article_id)
                .first(conn)
                .optional()?;
            if let Some(row) = moved
                .map(|id| ArticleRow::find(conn, &Key::Id(id)))
                .transpose()?
                .flatten()
            {
                if can_see(conn, &row, caller)? {
                    return Ok(Found::MovedTo(row.slug, row.id));
                }
            }
        }
        Err(ApiError::not_found("article"))
    })
    .await?;
    Ok(match found {
        Found::Public(body, keys, updated_at) => {
            let modified = std::time::SystemTime::from(db::utc(updated_at));
            let mut res = HttpResponse::Ok();
            res.insert_header(header::LastModified(modified.into()));
            res.content_type("application/json");
            keys.tag(&mut res);
            res.body(body)
        }
        // Staff reads carry the version as ETag, for If-Match on their next write.
        Found::Staff(article) => with_etag(HttpResponse::Ok(), &article),
        Found::MovedTo(slug, id) => {
            let mut res = HttpResponse::MovedPermanently();
            res.insert_header((header::LOCATION, format!("/api/v1/articles/{slug}")));
            Keys::of([keys::article(id)]).tag(&mut res);
            res.finish()
        }
    })
}

/// The page of a public article as the public reads it, from its stored card and its body
/// (one statement), with its related items when asked for; None when no public article has
/// this key (a former slug, or one the public may not see, is then answered as for anyone).
fn public_page(
    conn: &mut DbConnection,
    key: &Key,
    with_related: bool,
) -> Result<Option<Found>, ApiError> {
    let query = articles::table
        .inner_join(article_cards::table)
        .filter(article_cards::public_from.le(db::now()))
        .select((
            articles::id,
            articles::updated_at,
            articles::translation_group,
            articles::body,
            article_cards::card,
            article_cards::keys,
        ))
        .into_boxed();
    let query = match key {
        Key::Id(id) => query.filter(articles::id.eq(*id)),
        Key::Slug(slug) => query.filter(articles::slug.eq(slug.clone())),
    };
    let Some((id, updated_at, group, body, card, card_keys)) = query
        .first::<(i32, NaiveDateTime, Option<i32>, String, String, String)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let card = cards::Card::new(id, card, card_keys);
    let mut keys = Keys::default();
    card.add_keys(&mut keys);
    // The card's object, then the body and the related items: the JSON of `Article`.
    let head = card.json.as_str();
    let mut out = String::with_capacity(head.len() + body.len() + 16_384);
    out.push_str(head.strip_suffix('}').unwrap_or(head));
    out.push_str(",\"body\":");
    cards::push_json(&mut out, &body)?;
    out.push_str(",\"translations\":");
    let translations = translations::of_article(conn, id, group, false, Some(&mut keys))?;
    cards::push_json(&mut out, &translations)?;
    if with_related {
        let topics = card.topics();
        let related =
            crate::links::related(conn, id, &topics, crate::links::EMBEDDED, true, &mut keys)?;
        out.push_str(",\"related\":");
        crate::links::write_related(&mut out, &related)?;
    }
    out.push('}');
    Ok(Some(Found::Public(out, keys, updated_at)))
}

/// The `{key}` of an article's URL.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ArticleKey {
    /// The article's id, or its slug.
    #[param(example = "tajikistan-and-kyrgyzstan-sign-treaty-ending-decades-long-border-dispute")]
    pub key: String,
}

/// Loads an article for a write by `caller`: 404 when the caller may not see it, 403 when an
/// author may see it but not change it (not theirs, or past review).
pub fn for_write(
    conn: &mut DbConnection,
    key: &Key,
    caller: &Caller,
) -> Result<ArticleRow, ApiError> {
    let row = ArticleRow::find(conn, key)?.ok_or_else(|| ApiError::not_found("article"))?;
    if caller.role >= Role::Editor {
        return Ok(row);
    }
    let own = author_ids(conn, row.id)?.contains(&caller.id());
    if !own && !row.is_public(db::now()) {
        return Err(ApiError::not_found("article"));
    }
    if !own {
        return Err(ApiError::Forbidden(
            "authors may change only their own articles".into(),
        ));
    }
    if !Status::is_editable_by_authors(&row.status) {
        return Err(ApiError::Forbidden(
            "authors may change their articles only while in draft or review".into(),
        ));
    }
    Ok(row)
}

/// 404 unless the caller may see the article; 403 unless staff or one of its authors.
pub fn for_staff(
    conn: &mut DbConnection,
    key: &Key,
    caller: &Caller,
) -> Result<ArticleRow, ApiError> {
    let row = ArticleRow::find(conn, key)?.ok_or_else(|| ApiError::not_found("article"))?;
    if !can_see(conn, &row, Some(caller))? {
        return Err(ApiError::not_found("article"));
    }
    if caller.role < Role::Editor && !author_ids(conn, row.id)?.contains(&caller.id()) {
        return Err(ApiError::Forbidden(
            "authors may do this on their own articles only".into(),
        ));
    }
    Ok(row)
}

/// Delete an article
///
/// Moves the article to the trash: gone from every public read and feed, its links hidden,
/// listed for staff with `status=trashed` until restored (`POST /articles/{key}/restore`) or
/// purged. Editors and admins any; an author their own while in draft or review. With
/// `permanent=true` (admins only) it is removed for good, with its links and revisions.
/// Honours `If-Match` (412 when stale).
#[utoipa::path(
    tag = "articles",
    params(ArticleKey, safety::DeleteQuery),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Trashed (or removed for good)"),
        (status = 404, description = "No such article, or not visible to the caller",
            body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names another version; nothing changed",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/articles/{key}")]
pub async fn delete_article(
    state: web::Data<AppState>,
    caller: Caller,
    req: actix_web::HttpRequest,
    key: web::Path<ArticleKey>,
    query: web::Query<safety::DeleteQuery>,
) -> Result<HttpResponse, ApiError> {
    let key = Key::from_path(&key.key)?;
    let expect = safety::Expect::new(&req, None);
    let permanent = query.permanent.unwrap_or(false);
    if permanent {
        caller.require(Role::Admin)?;
    }
    changes::write(&state, Some(caller.id()), move |tx| {
        if permanent {
            let row =
                ArticleRow::find(tx.conn(), &key)?.ok_or_else(|| ApiError::not_found("article"))?;
            expect.check(&row)?;
            return safety::destroy(tx, &row);
        }
        let row = for_write(tx.conn(), &key, &caller)?;
        expect.check(&row)?;
        safety::trash(tx, &row).map_err(|e| expect.lost(e))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
