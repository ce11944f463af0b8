//! `GET /articles`: the public feed and the staff lists, with filters, full-text search and
//! keyset pagination. A topic or author feed is driven from its own index
//! (`article_topics`/`article_authors` by time), so every page costs the same at any depth.

use std::collections::HashMap;

use actix_web::{get, web, HttpRequest};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::translations::Preference;
use super::{cards, search};
use super::{summaries, ArticleRow, ArticleSummary};
use crate::auth::MaybeCaller;
use crate::db::schema::{article_authors, article_cards, article_topics, articles};
use crate::db::{self, DbConnection};
use crate::domain::{language_tag, stored_time, Key, Role};
use crate::error::ApiError;
use crate::keys::{self, Keys, Tagged};
use crate::pagination;
use crate::state::AppState;

/// The longest search query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

/// The order of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Sort {
    /// Newest first (the default).
    #[serde(rename = "-published_at")]
    NewestFirst,
    #[serde(rename = "published_at")]
    OldestFirst,
    /// Most recently changed first.
    #[serde(rename = "-updated_at")]
    RecentlyUpdated,
    /// Best match first, among the 1,000 most recently written matches; only with `q`.
    #[serde(rename = "relevance")]
    Relevance,
}

/// Which articles staff list (`any`: all but the trashed; `trashed`: the trash).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
    Draft,
    Review,
    Scheduled,
    Published,
    Archived,
    Any,
    Trashed,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListArticlesQuery {
    /// A topic's id or slug; its descendants are included.
    #[param(example = "central-asia")]
    pub topic: Option<String>,
    /// An author's id or slug.
    #[param(example = "malika-rahimova")]
    pub author: Option<String>,
    /// A BCP 47 language tag.
    #[param(example = "ru")]
    pub language: Option<String>,
    /// Languages in order of preference (comma-separated BCP 47 tags, at most 10; a regional
    /// tag brings its language after it): the public list then shows each translation group
    /// once, in the first of these languages it has (a group with none of them in its lowest
    /// id), and articles without translations as they are. Without it, an anonymous read
    /// follows `Accept-Language` the same way (and the response varies by it). Not with
    /// `language`, `q` or `status`, which list every article they match.
    #[param(example = "ru,en")]
    pub prefer_language: Option<String>,
    /// Only articles published at or after this instant.
    #[param(value_type = Option<DateTime<Utc>>)]
    pub published_after: Option<String>,
    /// Only articles published before this instant.
    #[param(value_type = Option<DateTime<Utc>>)]
    pub published_before: Option<String>,
    /// Full-text search over title, summary and body, in every article's own language
    /// (English and Russian word forms are stemmed, case and diacritics folded): words (all
    /// must match), `"quoted phrases"`, `OR` between two terms, `-word` to exclude; nothing
    /// typed is an error. Sorts by relevance (a match in the title first, then the summary,
    /// then the body; newer first among equals; over the 1,000 most recently written
    /// matches) unless `sort` is given. Results then carry `highlight`.
    #[param(example = "border treaty")]
    pub q: Option<String>,
    #[param(inline)]
    pub sort: Option<Sort>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Staff only (needs a token): list articles in this state. Authors see only their own.
    #[param(inline)]
    pub status: Option<StatusFilter>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ArticlePage {
    pub data: Vec<ArticleSummary>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Where the last item of a page stood in the order.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cursor {
    sort: Sort,
    /// Microseconds since the epoch, for the time orders.
    at: Option<i64>,
    /// The rank, for relevance.
    rank: Option<f64>,
    id: i32,
}

/// A checked listing request.
struct Listing {
    visibility: Visibility,
    topic: Option<Key>,
    author: Option<Key>,
    language: Option<String>,
    /// Each translation group once, in the best of these languages.
    prefer: Option<Preference>,
    after: Option<NaiveDateTime>,
    before: Option<NaiveDateTime>,
    q: Option<search::Query>,
    sort: Sort,
    limit: i64,
    cursor: Option<Cursor>,
    /// Only articles this user is a byline of (an author listing by status).
    own: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Visibility {
    /// Published and due: what the public sees.
    Public,
    /// Published, not yet due.
    Scheduled,
    /// One stored status, or all.
    Stored(Option<&'static str>),
    /// In the trash.
    Trashed,
}

impl Listing {
    fn parse(
        query: ListArticlesQuery,
        caller: Option<&crate::auth::Caller>,
    ) -> Result<Self, ApiError> {
        let visibility = match (query.status, caller) {
            (None, _) => Visibility::Public,
            (Some(_), None) => {
                return Err(ApiError::Unauthorized {
                    detail: "listing by status needs a bearer access token".into(),
                    invalid_token: false,
                })
            }
            (Some(status), Some(_)) => match status {
                StatusFilter::Published => Visibility::Public,
                StatusFilter::Scheduled => Visibility::Scheduled,
                StatusFilter::Draft => Visibility::Stored(Some("draft")),
                StatusFilter::Review => Visibility::Stored(Some("review")),
                StatusFilter::Archived => Visibility::Stored(Some("archived")),
                StatusFilter::Any => Visibility::Stored(None),
                StatusFilter::Trashed => Visibility::Trashed,
            },
        };
        let own = match (query.status, caller) {
            (Some(_), Some(c)) if c.role < Role::Editor => Some(c.id()),
            _ => None,
        };
        if query
            .q
            .as_ref()
            .is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS)
        {
            return Err(ApiError::invalid(
                "q",
                format!("must be at most {MAX_QUERY_CHARS} characters"),
            ));
        }
        let q = query
            .q
            .filter(|q| !q.trim().is_empty())
            .map(|q| search::Query::parse(&q));
        let by_time = !matches!(visibility, Visibility::Stored(_) | Visibility::Trashed);
        let sort = match (query.sort, &q) {
            (Some(Sort::Relevance), None) => {
                return Err(ApiError::invalid(
                    "sort",
                    "relevance needs a search query `q`",
                ))
            }
            (Some(Sort::NewestFirst | Sort::OldestFirst), _) if !by_time => {
                return Err(ApiError::invalid(
                    "sort",
                    "unpublished articles have no publication time: sort by -updated_at",
                ))
            }
            (Some(sort), _) => sort,
            (None, Some(_)) => Sort::Relevance,
            (None, None) if by_time => Sort::NewestFirst,
            (None, None) => Sort::RecentlyUpdated,
        };
        let cursor: Option<Cursor> = pagination::cursor(query.cursor.as_deref())?;
        if cursor.as_ref().is_some_and(|c| c.sort != sort) {
            return Err(ApiError::invalid(
                "cursor",
                "belongs to a list in another order",
            ));
        }
        let key = |raw: Option<String>, field: &str| {
            raw.map(|r| Key::parse(&r).map_err(|e| ApiError::invalid(field, e.message)))
                .transpose()
        };
        Ok(Self {
            visibility,
            topic: key(query.topic, "topic")?,
            author: key(query.author, "author")?,
            language: query
                .language
                .map(|l| language_tag(&l).map_err(|e| ApiError::invalid("language", e)))
                .transpose()?,
            // The handler's: it depends on the request's headers too.
            prefer: None,
            after: time(query.published_after, "published_after")?,
            before: time(query.published_before, "published_before")?,
            q,
            sort,
            limit: pagination::limit(query.limit, 20, 100)?,
            cursor,
            own,
        })
    }
}

impl Listing {
    /// The cursor's place in a time order: (time, id).
    fn cursor_at(&self) -> Result<Option<(NaiveDateTime, i32)>, ApiError> {
        self.cursor
            .as_ref()
            .and_then(|c| c.at.map(|at| (at, c.id)))
            .map(|(at, id)| pagination::from_micros(at).map(|at| (at, id)))
            .transpose()
    }

    /// The upper bound of public publication times: now, or newest first after a cursor, the
    /// cursor's time. One upper bound (the lower of the two) lets the index range start at
    /// the cursor: with two, SQLite cannot tell which is tighter (bound values do not steer
    /// its plans) and may walk every newer entry, so a page 50,000 deep cost 17 times the
    /// first.
    fn visible_until(
        &self,
        now: NaiveDateTime,
        cursor_at: Option<(NaiveDateTime, i32)>,
    ) -> NaiveDateTime {
        match (self.sort, cursor_at) {
            (Sort::NewestFirst, Some((at, _))) if at < now => at,
            _ => now,
        }
    }

    /// The cursor of the page after the one ending with article `id`, at `at` in a time
    /// order (publication or change) or at `rank` in a search.
    fn cursor_after(&self, id: i32, at: Option<NaiveDateTime>, rank: Option<f64>) -> String {
        pagination::encode_cursor(&Cursor {
            sort: self.sort,
            at: match self.sort {
                Sort::Relevance => None,
                _ => at.map(pagination::micros),
            },
            rank,
            id,
        })
    }

    /// The surrogate keys of a page but its items': the lists it is a page of (the unfiltered
    /// list, or those of its topic, author and language; searches).
    fn keys(&self, (topic, author): (Option<i32>, Option<i32>)) -> Keys {
        let mut out = Keys::default();
        if self.q.is_some() {
            out.add(keys::SEARCH);
        }
        if let Some(topic) = topic {
            out.add(keys::list_topic(topic));
        }
        if let Some(author) = author {
            out.add(keys::list_author(author));
        }
        if let Some(language) = &self.language {
            out.add(keys::list_language(language));
        }
        if topic.is_none() && author.is_none() && self.language.is_none() {
            out.add(keys::LIST);
        }
        out
    }
}

/// The ids behind the topic and author keys; 422 for an unknown one.
fn resolve(
    conn: &mut DbConnection,
    listing: &Listing,
) -> Result<(Option<i32>, Option<i32>), ApiError> {
    let topic = match &listing.topic {
        Some(key) => match crate::topics::find_id(conn, key)? {
            Some(id) => Some(id),
            None => return Err(ApiError::invalid("topic", "no such topic")),
        },
        None => None,
    };
    let author = match &listing.author {
        Some(key) => match crate::authors::find_id(conn, key)? {
            Some(id) => Some(id),
            None => return Err(ApiError::invalid("author", "no such author")),
        },
        None => None,
    };
    Ok((topic, author))
}

/// A time filter of the query: RFC 3339, within the years the API accepts (422 otherwise).
fn time(raw: Option<String>, field: &str) -> Result<Option<NaiveDateTime>, ApiError> {
    raw.map(|raw| {
        let at = DateTime::parse_from_rfc3339(raw.trim())
            .map_err(|_| ApiError::invalid(field, "must be an RFC 3339 date-time"))?;
        stored_time(field, at.with_timezone(&Utc)).map_err(|e| ApiError::Validation(vec![e]))
    })
    .transpose()
}

/// Only articles in `language`.
macro_rules! language_filter {
    ($query:ident, $listing:expr) => {
        if let Some(language) = &$listing.language {
            $query = $query.filter(articles::language.eq(language.clone()));
        }
    };
}

/// Only articles filed under `topic` (descendants included).
macro_rules! topic_filter {
    ($query:ident, $topic:expr) => {
        if let Some(topic) = $topic {
            $query = $query.filter(
                articles::id.eq_any(
                    article_topics::table
                        .filter(article_topics::topic_id.eq(topic))
                        .select(article_topics::article_id),
                ),
            );
        }
    };
}

/// Only articles with every one of these bylines.
macro_rules! byline_filter {
    ($query:ident, $users:expr) => {
        for user in $users.into_iter().flatten() {
            $query = $query.filter(
                articles::id.eq_any(
                    article_authors::table
                        .filter(article_authors::user_id.eq(user))
                        .select(article_authors::article_id),
                ),
            );
        }
    };
}

/// The publication-time window of a listing, on a time column.
macro_rules! window {
    ($query:ident, $listing:expr, $time:expr) => {
        if let Some(after) = $listing.after {
            $query = $query.filter($time.ge(after));
        }
        if let Some(before) = $listing.before {
            $query = $query.filter($time.lt(before));
        }
    };
}

/// Keyset and order on a time column and an id column.
macro_rules! by_time {
    ($query:ident, $listing:expr, $time:expr, $id:expr, $cursor_at:expr) => {
        let ascending = $listing.sort == Sort::OldestFirst;
        if let Some((at, id)) = $cursor_at {
            $query = if ascending {
                $query
                    .filter($time.ge(at))
                    .filter($time.gt(at).or($id.gt(id)))
            } else {
                $query
                    .filter($time.le(at))
                    .filter($time.lt(at).or($id.lt(id)))
            };
        }
        $query = if ascending {
            $query.order(($time.asc(), $id.asc()))
        } else {
            $query.order(($time.desc(), $id.desc()))
        };
    };
}

/// Where an item stands in the orders a list can have: (id, published_at, updated_at).
type Place = (i32, Option<NaiveDateTime>, NaiveDateTime);

/// What a page query selects: the item's place, not the item.
type PlaceColumns = (articles::id, articles::published_at, articles::updated_at);
const PLACE: PlaceColumns = (articles::id, articles::published_at, articles::updated_at);

/// One page of places, each with its rank when sorting by relevance.
fn page(
    conn: &mut DbConnection,
    listing: &Listing,
    (topic, author): (Option<i32>, Option<i32>),
) -> Result<Vec<(Place, Option<f64>)>, ApiError> {
    let now = db::now();
    // A search narrows the listing to its candidates, ranked once.
    // The pool holds only what the caller may read: the public what is public; staff
    // listings by status (which need a token) an author's own work or, for editors, all.
    let pool = match (listing.visibility, listing.own) {
        (Visibility::Public, _) => search::Pool::Public,
        (_, Some(user)) => search::Pool::Byline(user),
        (_, None) => search::Pool::All,
    };
    let found = match &listing.q {
        Some(q) => Some(search::candidates(conn, q, pool)?),
        None => None,
    };
    let cursor_at = listing.cursor_at()?;
    let limit = listing.limit + 1;
    // What is public is published up to now, or up to a cursor's time (`visible_until`).
    let clock = Clock {
        now,
        visible_until: listing.visible_until(now, cursor_at),
    };
    let published_order = matches!(listing.sort, Sort::NewestFirst | Sort::OldestFirst);
    let feed = matches!(
        listing.visibility,
        Visibility::Public | Visibility::Scheduled
    );

    // Topic feed: driven by the topic's (topic_id, feed_published_at, article_id) index.
    if let (Some(topic), true, true, None) = (topic, published_order, feed, &listing.q) {
        let mut query = article_topics::table
            .inner_join(articles::table)
            .filter(article_topics::topic_id.eq(topic))
            .select(PLACE)
            .limit(limit)
            .into_boxed();
        query = match listing.visibility {
            Visibility::Scheduled => query.filter(article_topics::feed_published_at.gt(clock.now)),
            _ => query.filter(article_topics::feed_published_at.le(clock.visible_until)),
        };
        language_filter!(query, listing);
        byline_filter!(query, [author, listing.own]);
        window!(query, listing, article_topics::feed_published_at);
        by_time!(
            query,
            listing,
            article_topics::feed_published_at,
            article_topics::article_id,
            cursor_at
        );
        return Ok(query.load(conn)?.into_iter().map(|r| (r, None)).collect());
    }
    // Author feed: driven by the author's (user_id, feed_published_at, article_id) index.
    if let (Some(author), true, true, None, None) =
        (author, published_order, feed, &listing.q, listing.own)
    {
        let mut query = article_authors::table
            .inner_join(articles::table)
            .filter(article_authors::user_id.eq(author))
            .select(PLACE)
            .limit(limit)
            .into_boxed();
        query = match listing.visibility {
            Visibility::Scheduled => query.filter(article_authors::feed_published_at.gt(clock.now)),
            _ => query.filter(article_authors::feed_published_at.le(clock.visible_until)),
        };
        language_filter!(query, listing);
        window!(query, listing, article_authors::feed_published_at);
        by_time!(
            query,
            listing,
            article_authors::feed_published_at,
            article_authors::article_id,
            cursor_at
        );
        return Ok(query.load(conn)?.into_iter().map(|r| (r, None)).collect());
    }

    let Some(found) = found else {
        return listed(
            conn,
            listing,
            filtered(listing, topic, author, &clock, None),
            cursor_at,
        );
    };
    if listing.sort != Sort::Relevance {
        let ids: Vec<i32> = found.iter().map(|(id, _)| *id).collect();
        return listed(
            conn,
            listing,
            filtered(listing, topic, author, &clock, Some(ids)),
            cursor_at,
        );
    }
    relevant(conn, listing, found, |ids| {
        filtered(listing, topic, author, &clock, Some(ids))
    })
}

/// A public list's item with its publication time (its place in the order).
type CardAt = (Option<NaiveDateTime>, cards::Card);

/// One page of a public list without a search, cards and all, in one statement: from the card
/// table by its (language,) publication time index, or from a topic's or an author's feed
/// index joined to the cards. Neither reads an article, its topics or its bylines.
fn public_page(
    conn: &mut DbConnection,
    listing: &Listing,
    (topic, author): (Option<i32>, Option<i32>),
) -> Result<Vec<CardAt>, ApiError> {
    let now = db::now();
    let cursor_at = listing.cursor_at()?;
    let until = listing.visible_until(now, cursor_at);
    let limit = listing.limit + 1;
    let prefer = listing
        .prefer
        .as_ref()
        .filter(|_| listing.language.is_none());
    // A page of cards driven by a feed index (`article_topics`, `article_authors`): the rows
    // of `$index` whose `$owner` is `$value`, by feed time, joined to the public cards.
    macro_rules! by_feed_index {
        ($index:ident, $owner:ident, $value:expr, |$query:ident| $more:block) => {{
            let mut $query = $index::table
                .inner_join(
                    article_cards::table.on(article_cards::article_id.eq($index::article_id)),
                )
                .filter($index::$owner.eq($value))
                .filter($index::feed_published_at.le(until))
                .filter(article_cards::public_from.le(now))
                .select((
                    $index::article_id,
                    $index::feed_published_at,
                    article_cards::card,
                    article_cards::keys,
                ))
                .limit(limit)
                .into_boxed();
            if let Some(language) = &listing.language {
                $query = $query.filter(article_cards::language.eq(language.clone()));
            }
            if let Some(prefer) = &prefer {
                $query = $query.filter(prefer.one_per_group(now));
            }
            $more
            window!($query, listing, $index::feed_published_at);
            by_time!(
                $query,
                listing,
                $index::feed_published_at,
                $index::article_id,
                cursor_at
            );
            $query.load(conn)?
        }};
    }
    let rows: Vec<(i32, Option<NaiveDateTime>, String, String)> = if let Some(topic) = topic {
        by_feed_index!(article_topics, topic_id, topic, |query| {
            if let Some(author) = author {
                query = query.filter(
                    article_topics::article_id.eq_any(
                        article_authors::table
                            .filter(article_authors::user_id.eq(author))
                            .select(article_authors::article_id),
                    ),
                );
            }
        })
    } else if let Some(author) = author {
        by_feed_index!(article_authors, user_id, author, |query| {})
    } else {
        let mut query = article_cards::table
            .filter(article_cards::public_from.le(until))
            .select((
                article_cards::article_id,
                article_cards::public_from,
                article_cards::card,
                article_cards::keys,
            ))
            .limit(limit)
            .into_boxed();
        if let Some(language) = &listing.language {
            query = query.filter(article_cards::language.eq(language.clone()));
        }
        if let Some(prefer) = &prefer {
            query = query.filter(prefer.one_per_group(now));
        }
        window!(query, listing, article_cards::public_from);
        by_time!(
            query,
            listing,
            article_cards::public_from,
            article_cards::article_id,
            cursor_at
        );
        query.load(conn)?
    };
    rows.into_iter()
        .map(|(id, at, json, keys)| Ok((at, cards::Card::new(id, json, keys))))
        .collect()
}

/// The times a listing is cut at.
struct Clock {
    now: NaiveDateTime,
    /// The upper bound of public publication times: now, or an earlier cursor's time.
    visible_until: NaiveDateTime,
}

type Filtered = articles::BoxedQuery<'static, <DbConnection as Connection>::Backend>;

/// The articles of a listing, without order: visibility, filters, and (for a search) the
/// candidates `among`.
fn filtered(
    listing: &Listing,
    topic: Option<i32>,
    author: Option<i32>,
    clock: &Clock,
    among: Option<Vec<i32>>,
) -> Filtered {
    let mut query = articles::table.into_boxed();
    query = match listing.visibility {
        Visibility::Public => query
            .filter(articles::status.eq("published"))
            .filter(articles::published_at.le(clock.visible_until)),
        Visibility::Scheduled => query
            .filter(articles::status.eq("published"))
            .filter(articles::published_at.gt(clock.now)),
        Visibility::Stored(Some(status)) => query.filter(articles::status.eq(status)),
        Visibility::Stored(None) => query,
        Visibility::Trashed => query.filter(articles::deleted_at.is_not_null()),
    };
    if listing.visibility != Visibility::Trashed {
        query = query.filter(articles::deleted_at.is_null());
    }
    language_filter!(query, listing);
    topic_filter!(query, topic);
    byline_filter!(query, [author, listing.own]);
    if let Some(ids) = among {
        query = query.filter(articles::id.eq_any(ids));
    }
    window!(query, listing, articles::published_at);
    query
}

/// One page of a listing in a time order.
fn listed(
    conn: &mut DbConnection,
    listing: &Listing,
    mut query: Filtered,
    cursor_at: Option<(NaiveDateTime, i32)>,
) -> Result<Vec<(Place, Option<f64>)>, ApiError> {
    let limit = listing.limit + 1;
    match listing.sort {
        Sort::NewestFirst | Sort::OldestFirst => {
            by_time!(
                query,
                listing,
                articles::published_at,
                articles::id,
                cursor_at
            );
        }
        // A relevance page comes from `relevant`; here it could only mean the staff order.
        Sort::RecentlyUpdated | Sort::Relevance => {
            if let Some((at, id)) = cursor_at {
                query = query
                    .filter(articles::updated_at.le(at))
                    .filter(articles::updated_at.lt(at).or(articles::id.lt(id)));
            }
            query = query.order((articles::updated_at.desc(), articles::id.desc()));
        }
    }
    Ok(query
        .select(PLACE)
        .limit(limit)
        .load(conn)?
        .into_iter()
        .map(|r| (r, None))
        .collect())
}

/// One page of a search by relevance: the candidates in rank order (after the cursor), checked
/// against the listing's filters in growing chunks until the page is full. The cost follows
/// the page size, not the number of matches.
fn relevant(
    conn: &mut DbConnection,
    listing: &Listing,
    mut ranked: Vec<(i32, f64)>,
    filtered: impl Fn(Vec<i32>) -> Filtered,
) -> Result<Vec<(Place, Option<f64>)>, ApiError> {
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
    if let Some(cursor) = &listing.cursor {
        let rank = cursor.rank.unwrap_or(f64::MAX);
        ranked.retain(|(id, r)| *r < rank || (*r == rank && *id < cursor.id));
    }
    let wanted = usize::try_from(listing.limit + 1).unwrap_or(usize::MAX);
    let mut page = Vec::with_capacity(wanted);
    let mut rest = ranked.as_slice();
    let mut chunk = wanted * 2;
    while page.len() < wanted && !rest.is_empty() {
        let (batch, later) = rest.split_at(chunk.min(rest.len()));
        let mut rows: HashMap<i32, Place> = filtered(batch.iter().map(|(id, _)| *id).collect())
            .select(PLACE)
            .load(conn)?
            .into_iter()
            .map(|place: Place| (place.0, place))
            .collect();
        page.extend(
            batch
                .iter()
                .filter_map(|(id, rank)| rows.remove(id).map(|row| (row, Some(*rank)))),
        );
        rest = later;
        chunk *= 4;
    }
    page.truncate(wanted);
    Ok(page)
}

/// The latest `limit` public articles, newest first, under `topic` (descendants included) when
/// given: what syndication feeds carry.
pub fn latest(
    conn: &mut DbConnection,
    topic: Option<Key>,
    limit: i64,
) -> Result<Vec<ArticleSummary>, ApiError> {
    let listing = Listing {
        visibility: Visibility::Public,
        topic,
        author: None,
        language: None,
        prefer: None,
        after: None,
        before: None,
        q: None,
        sort: Sort::NewestFirst,
        limit,
        cursor: None,
        own: None,
    };
    let resolved = resolve(conn, &listing)?;
    let (places, _) = pagination::split_page(page(conn, &listing, resolved)?, limit);
    let ids: Vec<i32> = places.iter().map(|((id, _, _), _)| *id).collect();
    let rows = ArticleRow::in_order(conn, &ids)?;
    summaries(conn, rows)
}

/// A page of the public feed, written from the stored cards as they are: the JSON of an
/// `ArticlePage`.
fn card_page(cards: &[cards::Card], next_cursor: Option<String>) -> Result<String, ApiError> {
    let mut out = String::with_capacity(64 + cards.iter().map(|c| c.json.len() + 1).sum::<usize>());
    out.push_str("{\"data\":");
    cards::push_array(&mut out, cards, |out, card| {
        out.push_str(&card.json);
        Ok(())
    })?;
    out.push_str(",\"next_cursor\":");
    cards::push_json(&mut out, &next_cursor)?;
    out.push('}');
    Ok(out)
}

/// List articles
///
/// The public feed: published articles whose `published_at` has come, newest first, with
/// filters and full-text search. Pages by cursor: pass `next_cursor` back as `cursor`; a
/// deep page costs what the first does, and articles published between two requests never
/// make a page skip or repeat an item. Staff add `status` (with a token) to list drafts,
/// articles in review, scheduled or archived ones; authors then see only their own.
#[utoipa::path(
    tag = "articles",
    params(ListArticlesQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "One page of articles", body = ArticlePage),
        (status = 401, description = "`status` without a token, or an invalid token",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles")]
pub async fn list_articles(
    state: web::Data<AppState>,
    caller: MaybeCaller,
    query: web::Query<ListArticlesQuery>,
    req: HttpRequest,
) -> Result<Tagged<cards::RawJson>, ApiError> {
    let query = query.into_inner();
    let prefer = Preference::of_read(
        query.prefer_language.as_deref(),
        req.headers(),
        caller.0.is_none(),
    )?;
    let mut listing = Listing::parse(query, caller.0.as_ref())?;
    listing.prefer = prefer;
    let (page, keys) = db::run(&state.pool, move |conn| {
        let resolved = resolve(conn, &listing)?;
        let mut keys = listing.keys(resolved);
        // The public list (an author's own published work is listed as staff lists are).
        if listing.visibility == Visibility::Public && listing.q.is_none() && listing.own.is_none()
        {
            let (rows, more) =
                pagination::split_page(public_page(conn, &listing, resolved)?, listing.limit);
            let next_cursor = match rows.last() {
                Some((at, card)) if more => Some(listing.cursor_after(card.id, *at, None)),
                _ => None,
            };
            let cards: Vec<cards::Card> = rows.into_iter().map(|(_, card)| card).collect();
            for card in &cards {
                card.add_keys(&mut keys);
            }
            return Ok((card_page(&cards, next_cursor)?, keys));
        }
        let places = page(conn, &listing, resolved)?;
        let (places, more) = pagination::split_page(places, listing.limit);
        let next_cursor = match places.last() {
            Some(((id, published_at, updated_at), rank)) if more => {
                let at = match listing.sort {
                    Sort::RecentlyUpdated => Some(*updated_at),
                    _ => *published_at,
                };
                Some(listing.cursor_after(*id, at, *rank))
            }
            _ => None,
        };
        let ids: Vec<i32> = places.iter().map(|((id, _, _), _)| *id).collect();
        let mut highlights = match &listing.q {
            Some(q) => search::highlights(conn, q, &ids)?,
            None => HashMap::new(),
        };
        if listing.visibility == Visibility::Public && listing.own.is_none() {
            let mut cards = cards::public(conn, &ids)?;
            for card in &mut cards {
                card.add_keys(&mut keys);
                if let Some(highlight) = highlights.remove(&card.id) {
                    card.add_field("highlight", &highlight)?;
                }
            }
            return Ok((card_page(&cards, next_cursor)?, keys));
        }
        let rows = ArticleRow::in_order(conn, &ids)?;
        let mut data = summaries(conn, rows)?;
        for item in &mut data {
            item.add_keys(&mut keys);
            item.highlight = highlights.remove(&item.id);
        }
        let mut out = String::new();
        cards::push_json(&mut out, &ArticlePage { data, next_cursor })?;
        Ok((out, keys))
    })
    .await?;
    Ok(Tagged(cards::RawJson(page), keys))
}
