//! Surrogate keys: names for what a public response depends on, so that a change invalidates
//! exactly the responses that show it, in this process's cache and in CDNs. Every public read
//! sends its keys as `Surrogate-Key` (space-separated, as Fastly and Varnish's xkey read them)
//! and `Cache-Tag` (comma-separated, as Cloudflare reads them); every public event carries the
//! keys it invalidates (`changes::Tx`).
//!
//! | key | a response has it when it shows | an event purges it when |
//! |---|---|---|
//! | `article-{id}` | that article, whole or as a card | the article changes in any way the public sees |
//! | `translations-{group}` | an article of that translation group (it lists the others) | an article of the group changes, joins or leaves it |
//! | `topic-{id}` | that topic (its page, or its name on a card) | the topic changes |
//! | `author-{id}` | that byline (its page, or its name on a card) | the profile changes |
//! | `list`, `list-topic-{id}`, `list-author-{id}`, `list-language-{code}` | a page of that list (`list`: unfiltered) | an article enters or leaves it, or moves in it |
//! | `feed`, `feed-topic-{id}` | that syndication feed | likewise |
//! | `search` | search results | any public article changes |
//! | `topics`, `authors` | the topic or author lists and pages (they count articles) | articles enter or leave, topics or profiles change |
//! | `sync` | a delta-sync page | any public change |
//! | `front-{slug}` | that front, resolved | the front is written or deleted, or a photo it shows in place of a cover changes |
//! | `fronts` | the list of fronts | a front is written or deleted |
//! | `breaking` | the breaking-news list | an article is marked or unmarked, enters or leaves the public |
//! | `media-{name}` | a file of that photo (`/media/{file}`) | the photo is deleted (purged downstream even when no public article showed it) |

use std::collections::BTreeSet;

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, Responder};

pub const SURROGATE_KEY: HeaderName = HeaderName::from_static("surrogate-key");
pub const CACHE_TAG: HeaderName = HeaderName::from_static("cache-tag");

pub fn article(id: i32) -> String {
    format!("article-{id}")
}

/// The read of every article in translation group `id` (they list each other).
pub fn translations(id: i32) -> String {
    format!("translations-{id}")
}

pub fn topic(id: i32) -> String {
    format!("topic-{id}")
}

/// The topic a `topic-{id}` key names.
pub fn topic_of(key: &str) -> Option<i32> {
    key.strip_prefix("topic-")?.parse().ok()
}

pub fn author(id: i32) -> String {
    format!("author-{id}")
}

/// The files of the photo whose files are named `name`.
pub fn media(name: &str) -> String {
    format!("media-{name}")
}

/// A front, by its slug (its name in every URL, and never changed).
pub fn front(slug: &str) -> String {
    format!("front-{slug}")
}

pub const LIST: &str = "list";
pub const FEED: &str = "feed";
pub const SEARCH: &str = "search";
pub const TOPICS: &str = "topics";
pub const AUTHORS: &str = "authors";
pub const SYNC: &str = "sync";
pub const FRONTS: &str = "fronts";
pub const BREAKING: &str = "breaking";

pub fn list_topic(id: i32) -> String {
    format!("list-topic-{id}")
}

pub fn list_author(id: i32) -> String {
    format!("list-author-{id}")
}

pub fn list_language(code: &str) -> String {
    format!("list-language-{}", code.to_ascii_lowercase())
}

pub fn feed_topic(id: i32) -> String {
    format!("feed-topic-{id}")
}

/// Whether a response with this key changes when a scheduled time comes (an article enters
/// lists then, before its event is recorded).
pub fn follows_the_clock(key: &str) -> bool {
    key.starts_with(LIST)
        || key.starts_with(FEED)
        || key.starts_with("front-")
        || [SEARCH, TOPICS, AUTHORS, SYNC, BREAKING].contains(&key)
}

/// The keys of one response, or of one change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys(BTreeSet<String>);

impl Keys {
    pub fn of<I: IntoIterator<Item = S>, S: Into<String>>(keys: I) -> Self {
        Self(keys.into_iter().map(Into::into).collect())
    }

    pub fn add(&mut self, key: impl Into<String>) -> &mut Self {
        self.0.insert(key.into());
        self
    }

    /// An article as a card or a page shows it: the article, its topics and bylines.
    pub fn card(&mut self, id: i32, topics: &[i32], authors: &[i32]) -> &mut Self {
        self.add(article(id));
        for t in topics {
            self.add(topic(*t));
        }
        for a in authors {
            self.add(author(*a));
        }
        self
    }

    pub fn extend(&mut self, other: Keys) -> &mut Self {
        self.0.extend(other.0);
        self
    }

    pub fn iter(&self) -> impl Iterator<Item = &String> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_vec(self) -> Vec<String> {
        self.0.into_iter().collect()
    }

    /// Sets the keys' headers on a response being built.
    pub fn tag(&self, res: &mut actix_web::HttpResponseBuilder) {
        if let Some((surrogate, tags)) = self.headers() {
            res.insert_header((SURROGATE_KEY, surrogate));
            res.insert_header((CACHE_TAG, tags));
        }
    }

    fn headers(&self) -> Option<(HeaderValue, HeaderValue)> {
        let keys: Vec<&str> = self.0.iter().map(String::as_str).collect();
        Some((
            HeaderValue::from_str(&keys.join(" ")).ok()?,
            HeaderValue::from_str(&keys.join(",")).ok()?,
        ))
    }
}

/// A response with the keys of what it shows.
pub struct Tagged<T>(pub T, pub Keys);

impl<T: Responder> Responder for Tagged<T> {
    type Body = T::Body;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse<T::Body> {
        let mut res = self.0.respond_to(req);
        if let Some((surrogate, tags)) = self.1.headers() {
            res.headers_mut().insert(SURROGATE_KEY, surrogate);
            res.headers_mut().insert(CACHE_TAG, tags);
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_sorted_unique_and_joined_for_each_cdn() {
        let mut keys = Keys::default();
        keys.card(7, &[3, 1], &[2]).add(LIST).add(article(7));
        let (surrogate, tags) = keys.headers().unwrap();
        assert_eq!(surrogate, "article-7 author-2 list topic-1 topic-3");
        assert_eq!(tags, "article-7,author-2,list,topic-1,topic-3");
        assert!(follows_the_clock("list-topic-3") && follows_the_clock("topics"));
        assert!(!follows_the_clock("article-7"));
        assert_eq!(topic_of(&topic(12)), Some(12));
        assert_eq!(topic_of("list-topic-12"), None);
    }
}
