//! HTTP caching of public reads. Every anonymous `GET` under `/api/v1` and `/feeds` gets a
//! strong `ETag` (a hash of the exact body and what it was made from: `validators`),
//! `Cache-Control` for shared caches and `Vary`; `If-None-Match` and
//! `If-Modified-Since` get 304. Bodies are kept in memory keyed by path and known parameters,
//! and answered again while nothing public has changed: the public state of the event log
//! (`changes::watch`), held in memory and moved by public events of this process at once and
//! of other processes as they arrive, and by each scheduled time as it passes. A repeated read
//! or a 304 touches no database; so does a revalidation of a body not kept, when its tag
//! still vouches for it (`validators`). Reads with a token, and writes, are `private,
//! no-store`; the live event stream passes through untouched.

mod validators;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::SystemTime;

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue, HttpDate};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};

use chrono::NaiveDateTime;
use lru::LruCache;

use crate::changes::watch::Invalidate;
use crate::keys;
use crate::route_table::RouteTable;
use crate::state::AppState;

/// Bodies larger than this are answered but not kept.
const MAX_ENTRY_BYTES: usize = 1 << 20;

pub const PRIVATE: &str = "private, no-store";

/// What a public read's representation depends on besides its URL.
const VARY: &str = "Accept-Encoding, Authorization";
/// For the reads that follow `Accept-Language` when not told a language preference.
const VARY_LANGUAGE: &str = "Accept-Encoding, Authorization, Accept-Language";
/// The query parameter such reads take instead.
const PREFER_LANGUAGE: &str = "prefer_language";

/// Whether the read at `req` follows `Accept-Language`: its operation takes a language
/// preference and the query gives none.
fn follows_accept_language(req: &ServiceRequest, table: &RouteTable) -> bool {
    table
        .query_parameters(req.path())
        .is_some_and(|known| known.iter().any(|n| n == PREFER_LANGUAGE))
        && !form_urlencoded::parse(req.query_string().as_bytes()).any(|(k, _)| k == PREFER_LANGUAGE)
}

struct Entry {
    /// For a response that changes when a scheduled time comes (a list), the latest scheduled
    /// time that had come when it was made.
    due_mark: Option<Option<NaiveDateTime>>,
    etag: String,
    headers: HeaderMap,
    body: web::Bytes,
    /// Its surrogate keys: what invalidates it.
    keys: Vec<String>,
}

/// How many invalidations are remembered for responses being made meanwhile.
const REMEMBERED: usize = 4096;

struct Store {
    /// Least recently used first out; bounded by bytes, not by count.
    entries: LruCache<String, Entry>,
    bytes: usize,
    /// Surrogate key -> the cache keys of the entries that have it.
    by_key: HashMap<String, HashSet<String>>,
    /// Counts invalidations.
    epoch: u64,
    /// The latest invalidations: (epoch, keys).
    recent: VecDeque<(u64, Vec<String>)>,
}

impl Store {
    fn remove(&mut self, key: &str) {
        if let Some(entry) = self.entries.pop(key) {
            self.bytes = self.bytes.saturating_sub(cost(key, &entry));
            for k in &entry.keys {
                if let Some(set) = self.by_key.get_mut(k) {
                    set.remove(key);
                    if set.is_empty() {
                        self.by_key.remove(k);
                    }
                }
            }
        }
    }

    /// Whether keys were invalidated since `epoch` that a response made meanwhile has.
    fn overtaken(&self, epoch: u64, keys: &[String]) -> bool {
        if self.epoch == epoch {
            return false;
        }
        let remembered = self
            .recent
            .front()
            .is_some_and(|(first, _)| *first <= epoch + 1);
        !remembered
            || self
                .recent
                .iter()
                .filter(|(at, _)| *at > epoch)
                .any(|(_, gone)| gone.iter().any(|k| keys.contains(k)))
    }
}

/// The in-memory store of public responses, shared by the workers. Entries are dropped by
/// surrogate key as the event log invalidates them, and the least recently used go first when
/// the store is full.
pub struct PublicCache {
    cache_control: HeaderValue,
    /// The most bytes kept (bodies, keys, headers and overhead); 0 keeps none.
    capacity: usize,
    store: Mutex<Store>,
    /// What the tags of public reads are checked against.
    versions: validators::Versions,
}

impl PublicCache {
    pub fn new(cache_control: &str, capacity: usize) -> Self {
        Self {
            cache_control: HeaderValue::from_str(cache_control)
                .unwrap_or_else(|_| HeaderValue::from_static("public, max-age=60")),
            capacity,
            store: Mutex::new(Store {
                entries: LruCache::unbounded(),
                bytes: 0,
                by_key: HashMap::new(),
                epoch: 0,
                recent: VecDeque::new(),
            }),
            versions: validators::Versions::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn get(
        &self,
        key: &str,
        due_mark: Option<NaiveDateTime>,
    ) -> Option<(String, HeaderMap, web::Bytes)> {
        let mut store = self.lock();
        let entry = store.entries.get(key)?;
        if entry.due_mark.is_some_and(|mark| mark != due_mark) {
            store.remove(key);
            return None;
        }
        Some((
            entry.etag.clone(),
            entry.headers.clone(),
            entry.body.clone(),
        ))
    }

    /// The epoch a response begins to be made at.
    fn begin(&self) -> u64 {
        self.lock().epoch
    }

    fn put(&self, key: String, entry: Entry, begun: u64) {
        let size = cost(&key, &entry);
        if entry.body.len() > MAX_ENTRY_BYTES || size > self.capacity || entry.keys.is_empty() {
            return;
        }
        let mut store = self.lock();
        // Made from what a write changed meanwhile: not kept.
        if store.overtaken(begun, &entry.keys) {
            return;
        }
        store.remove(&key);
        while store.bytes + size > self.capacity {
            let Some(oldest) = store.entries.peek_lru().map(|(k, _)| k.clone()) else {
                break;
            };
            store.remove(&oldest);
        }
        for k in &entry.keys {
            store
                .by_key
                .entry(k.clone())
                .or_default()
                .insert(key.clone());
        }
        store.bytes += size;
        store.entries.push(key, entry);
    }
}

impl Invalidate for PublicCache {
    fn known_from(&self, seq: i64) {
        self.versions.known_from(seq);
    }

    fn invalidate(&self, keys: &[String], seq: i64) {
        if keys.is_empty() {
            return;
        }
        self.versions.invalidated(keys, seq);
        let mut store = self.lock();
        store.epoch += 1;
        let epoch = store.epoch;
        store.recent.push_back((epoch, keys.to_vec()));
        if store.recent.len() > REMEMBERED {
            store.recent.pop_front();
        }
        for key in keys {
            let Some(cached) = store.by_key.remove(key) else {
                continue;
            };
            for cache_key in cached {
                store.remove(&cache_key);
            }
        }
    }
}

/// What an entry holds in memory besides its key, body, tag and headers: the map's slot, the
/// entry itself and the allocations behind its header map, rounded up.
const ENTRY_OVERHEAD: usize = 512;

/// The memory an entry under `key` takes, as the capacity counts it.
fn cost(key: &str, entry: &Entry) -> usize {
    let headers: usize = entry
        .headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 32)
        .sum();
    let keys: usize = entry.keys.iter().map(|k| 2 * k.len() + 64).sum();
    2 * key.len() + entry.body.len() + entry.etag.len() + headers + keys + ENTRY_OVERHEAD
}

/// The cache key of a public read: its path and, in a canonical order, the query parameters
/// its operation defines. Parameters it does not define are ignored by the handlers, and here
/// too, so junk in a URL makes no entry of its own. None for a path no read is at.
fn cache_key(req: &ServiceRequest, table: &RouteTable) -> Option<String> {
    let known = table.query_parameters(req.path())?;
    let mut query = form_urlencoded::Serializer::new(String::new());
    for name in known {
        for (key, value) in form_urlencoded::parse(req.query_string().as_bytes()) {
            if key == name.as_str() {
                query.append_pair(&key, &value);
            }
        }
    }
    if follows_accept_language(req, table) {
        if let Some(preference) =
            crate::articles::translations::Preference::of_headers(req.headers())
        {
            // Not a parameter name any operation has.
            query.append_pair("~accept-language", &preference.canonical());
        }
    }
    Some(format!("{}?{}", req.path(), query.finish()))
}

/// Whether the request's validators say the client has this representation.
fn not_modified(req: &ServiceRequest, etag: &str, headers: &HeaderMap) -> bool {
    if req.headers().contains_key(header::IF_NONE_MATCH) {
        return held(req.headers())
            .iter()
            .any(|(tag, _)| tag == "*" || validators::same_body(tag, etag));
    }
    let since = req
        .headers()
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok()?.parse::<HttpDate>().ok());
    let modified = headers
        .get(header::LAST_MODIFIED)
        .and_then(|v| v.to_str().ok()?.parse::<HttpDate>().ok());
    match (since, modified) {
        (Some(since), Some(modified)) => SystemTime::from(modified) <= SystemTime::from(since),
        _ => false,
    }
}

/// Content codings that get their own entity tag (`"abc-gzip"`), as RFC 9110 asks of strong
/// validators: a compressed representation is another representation.
const CODINGS: [&str; 2] = ["br", "gzip"];

/// The entity tags `If-None-Match` names, each without its weak prefix (RFC 9110 compares
/// them weakly) and its content-coding suffix, with that coding.
fn held(headers: &HeaderMap) -> Vec<(String, Option<&'static str>)> {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(',')
                .map(|t| split_coding(t.trim().trim_start_matches("W/")))
                .collect()
        })
        .unwrap_or_default()
}

/// An entity tag without its content-coding suffix, and the coding.
fn split_coding(tag: &str) -> (String, Option<&'static str>) {
    CODINGS
        .iter()
        .find_map(|c| {
            Some((
                format!("{}\"", tag.strip_suffix(&format!("-{c}\""))?),
                Some(*c),
            ))
        })
        .unwrap_or_else(|| (tag.to_owned(), None))
}

/// Outside compression: gives a compressed public response the tag of its coding, and a 304
/// the coding of the tag the client holds.
pub async fn etag_per_coding(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let held = held(req.headers());
    let mut res = next.call(req).await?;
    let public = res
        .headers()
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("public"));
    let etag = res
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (Some(etag), true) = (etag, public) else {
        return Ok(res);
    };
    let sent = res
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| CODINGS.iter().find(|known| **known == c).copied());
    let coding = match sent {
        None if res.status() == StatusCode::NOT_MODIFIED => held
            .into_iter()
            .find(|(base, _)| validators::same_body(base, &etag))
            .and_then(|(_, coding)| coding),
        sent => sent,
    };
    let tagged = coding.and_then(|c| etag.strip_suffix('"').map(|base| format!("{base}-{c}\"")));
    if let Some(value) = tagged.and_then(|t| HeaderValue::from_str(&t).ok()) {
        res.headers_mut().insert(header::ETAG, value);
    }
    Ok(res)
}

/// Whether a public read was answered from the in-process cache.
const X_CACHE: HeaderName = HeaderName::from_static("x-cache");

fn respond(
    req: ServiceRequest,
    etag: &str,
    headers: &HeaderMap,
    body: web::Bytes,
    hit: bool,
) -> ServiceResponse<BoxBody> {
    let fresh = not_modified(&req, etag, headers);
    let mut builder = HttpResponse::build(if fresh {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    });
    for (name, value) in headers {
        builder.append_header((name.clone(), value.clone()));
    }
    builder.insert_header((
        X_CACHE,
        HeaderValue::from_static(if hit { "hit" } else { "miss" }),
    ));
    let response = if fresh {
        builder.finish()
    } else {
        builder.body(body)
    };
    req.into_response(response)
}

/// The tag in `If-None-Match` (without its coding) that still names the current
/// representation, if one does.
fn vouched(
    req: &ServiceRequest,
    cache: &PublicCache,
    latest: i64,
    due_mark: Option<NaiveDateTime>,
) -> Option<String> {
    held(req.headers())
        .into_iter()
        .map(|(tag, _)| tag)
        .find(|tag| cache.versions.vouches(tag, latest, due_mark))
}

/// A 304 for a tag vouched for: the headers a 200 would have that describe the
/// representation and its caching.
fn unchanged(
    req: ServiceRequest,
    cache: &PublicCache,
    etag: &str,
    vary: HeaderValue,
) -> ServiceResponse<BoxBody> {
    let mut builder = HttpResponse::NotModified();
    builder
        .insert_header((header::CACHE_CONTROL, cache.cache_control.clone()))
        .insert_header((header::VARY, vary))
        .insert_header((X_CACHE, HeaderValue::from_static("validated")));
    if let Ok(value) = HeaderValue::from_str(etag) {
        builder.insert_header((header::ETAG, value));
    }
    req.into_response(builder.finish())
}

fn is_public_read(req: &ServiceRequest) -> bool {
    req.method() == Method::GET
        && (req.path().starts_with("/api/v1/") || req.path().starts_with("/feeds/"))
        && !req.headers().contains_key(header::AUTHORIZATION)
}

/// The middleware.
pub async fn public_cache(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let app = req.app_data::<web::Data<AppState>>().cloned();
    let cache = req.app_data::<web::Data<PublicCache>>().cloned();
    let (Some(app), Some(cache), true) = (app, cache.as_ref(), is_public_read(&req)) else {
        let mut res = next.call(req).await?.map_into_boxed_body();
        if res.request().path().starts_with("/api/v1/")
            && !res.headers().contains_key(header::CACHE_CONTROL)
        {
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static(PRIVATE));
        }
        return Ok(res);
    };
    let table = req.app_data::<web::Data<RouteTable>>();
    let key = table.and_then(|table| cache_key(&req, table));
    let vary = HeaderValue::from_static(
        if table.is_some_and(|table| follows_accept_language(&req, table)) {
            VARY_LANGUAGE
        } else {
            VARY
        },
    );
    // Without the state (the database is down) the request goes through uncached, its tag
    // the body's hash alone; with no room to keep bodies, only tags are checked.
    let state = match &key {
        Some(_) => app.watch.public_state(&app.pool).await.ok(),
        None => None,
    };
    let hit = match (&state, &key, cache.capacity) {
        (Some(due_mark), Some(key), 1..) => cache.get(key, *due_mark),
        _ => None,
    };
    if let Some((etag, headers, body)) = hit {
        return Ok(respond(req, &etag, &headers, body, true));
    }
    // Known before reading: every public change up to it is in what is read.
    let made_at = app.watch.latest();
    if let Some(due_mark) = state {
        if let Some(etag) = vouched(&req, cache, made_at, due_mark) {
            return Ok(unchanged(req, cache, &etag, vary));
        }
    }
    let begun = cache.begin();
    let mut res = next.call(req).await?;
    if res.status().is_redirection() && res.status() != StatusCode::NOT_MODIFIED {
        // A redirect to a public read (a former slug) is cached like that read.
        res.headers_mut()
            .insert(header::CACHE_CONTROL, cache.cache_control.clone());
        res.headers_mut().insert(header::VARY, vary.clone());
    }
    let streamed = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if res.status() != StatusCode::OK || streamed {
        return Ok(res.map_into_boxed_body());
    }
    let (http_req, response) = res.into_parts();
    let (head, body) = response.into_parts();
    let body = to_bytes(body)
        .await
        .map_err(|_| actix_web::error::ErrorInternalServerError("unreadable response body"))?;
    let mut headers = head.headers().clone();
    let keys: Vec<String> = headers
        .get(keys::SURROGATE_KEY)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    let clocked = keys.iter().any(|k| keys::follows_the_clock(k));
    // The due mark a clock-following response was made at.
    let clock = state.map(|due_mark| clocked.then_some(due_mark));
    let made = clock.map(|due_mark| validators::Made {
        seq: made_at,
        due_mark,
    });
    let etag = validators::tag(&body, &keys, made);
    headers.insert(header::CACHE_CONTROL, cache.cache_control.clone());
    headers.insert(header::VARY, vary);
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    headers.remove(crate::state::REQUEST_ID);
    if let (Some(due_mark), Some(key), 1..) = (clock, key, cache.capacity) {
        let entry = Entry {
            due_mark,
            etag: etag.clone(),
            headers: headers.clone(),
            body: body.clone(),
            keys,
        };
        cache.put(key, entry, begun);
    }
    let req = ServiceRequest::from_request(http_req);
    Ok(respond(req, &etag, &headers, body, false))
}
