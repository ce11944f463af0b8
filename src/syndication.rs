//! Syndication feeds: RSS 2.0, Atom and JSON Feed 1.1 of the 50 latest public articles, for
//! the whole site and per topic (descendants included). Links point at the site
//! (`NEWSROOM_PUBLIC_URL`); `?content=full` carries each article's HTML. An item's public
//! translations are its alternates: Atom `link rel="alternate" hreflang`, JSON Feed
//! `_translations`.

use std::collections::HashMap;

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::articles::translations::{self, Translation};
use crate::articles::{feed, ArticleSummary};
use crate::db::schema::articles;
use crate::db::{self, DbConnection};
use crate::domain::Key;
use crate::error::ApiError;
use crate::keys::{self, Keys};
use crate::state::AppState;
use crate::topics::TopicRow;

/// How many articles a feed carries.
pub const FEED_SIZE: i64 = 50;

/// The format of a feed, by its file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
pub enum FeedFile {
    #[serde(rename = "rss.xml")]
    Rss,
    #[serde(rename = "atom.xml")]
    Atom,
    #[serde(rename = "feed.json")]
    Json,
}

impl FeedFile {
    fn name(self) -> &'static str {
        match self {
            FeedFile::Rss => "rss.xml",
            FeedFile::Atom => "atom.xml",
            FeedFile::Json => "feed.json",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            FeedFile::Rss => "application/rss+xml; charset=utf-8",
            FeedFile::Atom => "application/atom+xml; charset=utf-8",
            FeedFile::Json => "application/feed+json",
        }
    }
}

/// What each item carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FeedContent {
    /// Title, summary, authors, topics and dates (the default).
    #[default]
    Summary,
    /// The same and the article's HTML.
    Full,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    #[param(inline)]
    pub content: Option<FeedContent>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SiteFeedPath {
    /// `rss.xml`, `atom.xml` or `feed.json`.
    #[param(inline)]
    pub file: FeedFile,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TopicFeedPath {
    /// The topic's id, or its slug.
    #[param(example = "central-asia")]
    pub key: String,
    /// `rss.xml`, `atom.xml` or `feed.json`.
    #[param(inline)]
    pub file: FeedFile,
}

/// A JSON Feed 1.1 document (<https://www.jsonfeed.org/version/1.1/>).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JsonFeed {
    pub version: String,
    pub title: String,
    pub home_page_url: String,
    pub feed_url: String,
    pub items: Vec<JsonFeedItem>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JsonFeedItem {
    pub id: String,
    pub url: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_html: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_published: Option<DateTime<Utc>>,
    pub date_modified: DateTime<Utc>,
    pub authors: Vec<JsonFeedAuthor>,
    pub tags: Vec<String>,
    pub language: String,
    /// The cover image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The same story in other languages (public ones), when there are any.
    #[serde(
        rename = "_translations",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub translations: Vec<JsonFeedTranslation>,
    /// A live blog's state (an extension), for a live article.
    #[serde(rename = "_live", default, skip_serializing_if = "Option::is_none")]
    pub live: Option<crate::live::Live>,
}

/// A translation of a JSON Feed item (an extension: JSON Feed has none of its own).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JsonFeedTranslation {
    pub language: String,
    pub id: String,
    pub url: String,
    pub title: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JsonFeedAuthor {
    pub name: String,
    pub url: String,
}

/// What a feed is of, and where it lives.
struct Meta {
    title: String,
    home: String,
    self_url: String,
    base: String,
}

/// One article of a feed, with its HTML when asked for.
struct FeedItem {
    article: ArticleSummary,
    body: Option<String>,
    translations: Vec<Translation>,
}

/// Where the site shows an article.
fn article_url(base: &str, slug: &str) -> String {
    format!("{base}/articles/{slug}")
}

/// A permanent id: by number, as the slug may change.
fn article_id(base: &str, id: i32) -> String {
    format!("{base}/articles/{id}")
}

impl FeedItem {
    fn url(&self, base: &str) -> String {
        article_url(base, &self.article.slug)
    }

    fn id(&self, base: &str) -> String {
        article_id(base, self.article.id)
    }
}

/// The feed's items with their bodies (when `full`) and public translations, in three more
/// statements at most (bodies, groups, their members); `keys` gain those of the translations shown.
fn load(
    conn: &mut DbConnection,
    topic: Option<Key>,
    full: bool,
    keys: &mut Keys,
) -> Result<Vec<FeedItem>, ApiError> {
    let latest = feed::latest(conn, topic, FEED_SIZE)?;
    let ids: Vec<i32> = latest.iter().map(|a| a.id).collect();
    let mut bodies: HashMap<i32, String> = if full {
        articles::table
            .filter(articles::id.eq_any(&ids))
            .select((articles::id, articles::body))
            .load::<(i32, String)>(conn)?
            .into_iter()
            .collect()
    } else {
        HashMap::new()
    };
    let grouped: HashMap<i32, i32> = articles::table
        .filter(articles::id.eq_any(&ids))
        .filter(articles::translation_group.is_not_null())
        .select((articles::id, articles::translation_group.assume_not_null()))
        .load::<(i32, i32)>(conn)?
        .into_iter()
        .collect();
    let groups: Vec<i32> = grouped.values().copied().collect();
    let members = translations::of_groups(conn, &groups, false)?;
    Ok(latest
        .into_iter()
        .map(|article| {
            let group = grouped.get(&article.id).copied();
            FeedItem {
                translations: translations::others(&members, group, article.id, Some(keys)),
                body: bodies.remove(&article.id),
                article,
            }
        })
        .collect())
}

/// Media RSS, for the cover image's `media:content`.
const MEDIA_RSS: &str = "http://search.yahoo.com/mrss/";

/// An RSS item's `media:content` for its cover image, and an `enclosure` when the image's
/// type is known (RSS requires one; its length is not known before the rendition is asked
/// for, so it is given as 0, as RSS 2.0 allows for an unknown length).
fn rss_image(
    cover: Option<&crate::articles::CoverImage>,
) -> (Option<rss::Enclosure>, rss::extension::ExtensionMap) {
    use rss::extension::Extension;
    let mut map = rss::extension::ExtensionMap::default();
    let Some(cover) = cover else {
        return (None, map);
    };
    let image = cover.feed_image();
    let mut attrs = std::collections::BTreeMap::from([
        ("url".to_owned(), image.url.clone()),
        ("medium".to_owned(), "image".to_owned()),
    ]);
    if let Some(mime) = image.mime {
        attrs.insert("type".into(), mime.into());
    }
    if let Some((w, h)) = image.size {
        attrs.insert("width".into(), w.to_string());
        attrs.insert("height".into(), h.to_string());
    }
    let mut children = std::collections::BTreeMap::new();
    let described = [
        ("media:description", &cover.alt),
        ("media:credit", &cover.credit),
    ];
    for (name, text) in described {
        if let Some(text) = text {
            children.insert(
                name.to_owned(),
                vec![Extension {
                    name: name.to_owned(),
                    value: Some(text.clone()),
                    ..Extension::default()
                }],
            );
        }
    }
    let content = Extension {
        name: "media:content".into(),
        value: None,
        attrs,
        children,
    };
    map.entry("media".into())
        .or_default()
        .insert("content".into(), vec![content]);
    let enclosure = image.mime.map(|mime| rss::Enclosure {
        url: image.url,
        length: "0".into(),
        mime_type: mime.into(),
    });
    (enclosure, map)
}

fn rss(meta: &Meta, items: &[FeedItem]) -> String {
    use rss::extension::dublincore::DublinCoreExtension;
    let items = items
        .iter()
        .map(|item| {
            let a = &item.article;
            let (enclosure, extensions) = rss_image(a.cover_image.as_ref());
            rss::Item {
                enclosure,
                extensions,
                title: Some(a.title.clone()),
                link: Some(item.url(&meta.base)),
                // RSS readers render a description as HTML: the summary is plain text.
                description: a.summary.as_deref().map(crate::articles::html::escape),
                categories: a
                    .topics
                    .iter()
                    .map(|t| rss::Category {
                        name: t.name.clone(),
                        domain: Some(format!("{}/topics/{}", meta.base, t.slug)),
                    })
                    .collect(),
                guid: Some(rss::Guid {
                    value: item.id(&meta.base),
                    permalink: false,
                }),
                pub_date: a.published_at.map(|t| t.to_rfc2822()),
                content: item.body.clone(),
                dublin_core_ext: Some(DublinCoreExtension {
                    creators: a.authors.iter().map(|p| p.name.clone()).collect(),
                    languages: vec![a.language.clone()],
                    ..DublinCoreExtension::default()
                }),
                ..rss::Item::default()
            }
        })
        .collect();
    let channel = rss::Channel {
        title: meta.title.clone(),
        link: meta.home.clone(),
        description: format!("The latest from {}", meta.title),
        last_build_date: Some(Utc::now().to_rfc2822()),
        generator: Some("newsroom".into()),
        namespaces: [("media".to_owned(), MEDIA_RSS.to_owned())].into(),
        items,
        ..rss::Channel::default()
    };
    channel.to_string()
}

fn atom(meta: &Meta, items: &[FeedItem]) -> String {
    use atom_syndication::{Category, Content, Entry, Feed, Link, Person, Text};
    let link = |href: String, rel: &str| Link {
        href,
        rel: rel.into(),
        ..Link::default()
    };
    let entries: Vec<Entry> = items
        .iter()
        .map(|item| {
            let a = &item.article;
            Entry {
                title: Text::plain(a.title.clone()),
                id: item.id(&meta.base),
                updated: a.updated_at.fixed_offset(),
                published: a.published_at.map(|t| t.fixed_offset()),
                authors: a
                    .authors
                    .iter()
                    .map(|p| Person {
                        name: p.name.clone(),
                        uri: Some(format!("{}/authors/{}", meta.base, p.slug)),
                        ..Person::default()
                    })
                    .collect(),
                categories: a
                    .topics
                    .iter()
                    .map(|t| Category {
                        term: t.slug.clone(),
                        label: Some(t.name.clone()),
                        ..Category::default()
                    })
                    .collect(),
                links: [link(item.url(&meta.base), "alternate")]
                    .into_iter()
                    .chain(item.translations.iter().map(|t| Link {
                        hreflang: Some(t.language.clone()),
                        title: Some(t.title.clone()),
                        ..link(article_url(&meta.base, &t.slug), "alternate")
                    }))
                    .chain(a.cover_image.as_ref().map(|c| {
                        let image = c.feed_image();
                        Link {
                            mime_type: image.mime.map(String::from),
                            ..link(image.url, "enclosure")
                        }
                    }))
                    .collect(),
                summary: a.summary.clone().map(Text::plain),
                content: item.body.clone().map(|html| Content {
                    value: Some(html),
                    content_type: Some("html".into()),
                    ..Content::default()
                }),
                ..Entry::default()
            }
        })
        .collect();
    let updated = items
        .iter()
        .map(|i| i.article.updated_at)
        .max()
        .unwrap_or_else(Utc::now);
    let feed = Feed {
        title: Text::plain(meta.title.clone()),
        id: meta.self_url.clone(),
        updated: updated.fixed_offset(),
        links: vec![
            link(meta.self_url.clone(), "self"),
            link(meta.home.clone(), "alternate"),
        ],
        authors: vec![Person {
            name: meta.title.clone(),
            ..Person::default()
        }],
        entries,
        ..Feed::default()
    };
    feed.to_string()
}

fn json(meta: &Meta, items: Vec<FeedItem>) -> Result<String, ApiError> {
    let items = items
        .into_iter()
        .map(|item| {
            let (id, url) = (item.id(&meta.base), item.url(&meta.base));
            let a = item.article;
            JsonFeedItem {
                image: a.cover_image.as_ref().map(|c| c.feed_image().url),
                content_text: item
                    .body
                    .is_none()
                    .then(|| a.summary.clone().unwrap_or_else(|| a.title.clone())),
                content_html: item.body,
                id,
                url,
                summary: a.summary,
                date_published: a.published_at,
                date_modified: a.updated_at,
                authors: a
                    .authors
                    .into_iter()
                    .map(|p| JsonFeedAuthor {
                        url: format!("{}/authors/{}", meta.base, p.slug),
                        name: p.name,
                    })
                    .collect(),
                tags: a.topics.into_iter().map(|t| t.name).collect(),
                translations: item
                    .translations
                    .into_iter()
                    .map(|t| JsonFeedTranslation {
                        id: article_id(&meta.base, t.id),
                        url: article_url(&meta.base, &t.slug),
                        language: t.language,
                        title: t.title,
                    })
                    .collect(),
                live: a.live,
                language: a.language,
                title: a.title,
            }
        })
        .collect();
    serde_json::to_string(&JsonFeed {
        version: "https://jsonfeed.org/version/1.1".into(),
        title: meta.title.clone(),
        home_page_url: meta.home.clone(),
        feed_url: meta.self_url.clone(),
        items,
    })
    .map_err(ApiError::internal)
}

async fn render(
    state: web::Data<AppState>,
    topic: Option<Key>,
    file: FeedFile,
    content: FeedContent,
) -> Result<HttpResponse, ApiError> {
    let base = state.public_url.clone();
    let full = content == FeedContent::Full;
    let (meta, items, mut keys) = db::run(&state.pool, move |conn| {
        let mut keys = Keys::default();
        let (title, home, path) = match &topic {
            Some(key) => {
                let topic =
                    TopicRow::find(conn, key)?.ok_or_else(|| ApiError::not_found("topic"))?;
                keys.add(keys::feed_topic(topic.id))
                    .add(keys::topic(topic.id));
                (
                    format!("Newsroom: {}", topic.name),
                    format!("{base}/topics/{}", topic.slug),
                    format!("/feeds/topics/{}/{}", topic.slug, file.name()),
                )
            }
            None => {
                keys.add(keys::FEED);
                (
                    "Newsroom".to_owned(),
                    base.clone(),
                    format!("/feeds/{}", file.name()),
                )
            }
        };
        let meta = Meta {
            title,
            home,
            self_url: format!("{base}{path}"),
            base: base.clone(),
        };
        let items = load(conn, topic, full, &mut keys)?;
        Ok((meta, items, keys))
    })
    .await?;
    for item in &items {
        item.article.add_keys(&mut keys);
    }
    let body = match file {
        FeedFile::Rss => rss(&meta, &items),
        FeedFile::Atom => atom(&meta, &items),
        FeedFile::Json => json(&meta, items)?,
    };
    let mut res = HttpResponse::Ok();
    res.content_type(file.content_type());
    keys.tag(&mut res);
    Ok(res.body(body))
}

/// Site feed
///
/// The 50 latest public articles as RSS 2.0 (`rss.xml`), Atom (`atom.xml`) or JSON Feed 1.1
/// (`feed.json`): title, link, summary, authors, topics as categories and dates, and with
/// `content=full` each article's HTML.
#[utoipa::path(
    tag = "feeds",
    params(SiteFeedPath, FeedQuery),
    responses((status = 200, description = "The feed", content(
        (String = "application/rss+xml"), (String = "application/atom+xml"),
        (JsonFeed = "application/feed+json"))))
)]
#[get("/feeds/{file}")]
pub async fn site_feed(
    state: web::Data<AppState>,
    path: web::Path<SiteFeedPath>,
    query: web::Query<FeedQuery>,
) -> Result<HttpResponse, ApiError> {
    render(state, None, path.file, query.content.unwrap_or_default()).await
}

/// Topic feed
///
/// The same feed for one topic, its descendants included. Unknown topic -> 404.
#[utoipa::path(
    tag = "feeds",
    params(TopicFeedPath, FeedQuery),
    responses(
        (status = 200, description = "The feed", content(
            (String = "application/rss+xml"), (String = "application/atom+xml"),
            (JsonFeed = "application/feed+json"))),
        (status = 404, description = "No such topic", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[get("/feeds/topics/{key}/{file}")]
pub async fn topic_feed(
    state: web::Data<AppState>,
    path: web::Path<TopicFeedPath>,
    query: web::Query<FeedQuery>,
) -> Result<HttpResponse, ApiError> {
    let path = path.into_inner();
    let key = Key::from_path(&path.key)?;
    render(
        state,
        Some(key),
        path.file,
        query.content.unwrap_or_default(),
    )
    .await
}
