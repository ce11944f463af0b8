//! The article feed: filters, keyset pagination invariants, staff lists, search, and a constant
//! number of queries per page.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use newsroom::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    assert_problem, error_fields, ids, spawn_app, spawn_app_with, Backend, TestApp, TestUser,
};

/// An editor and articles published at known times, oldest first.
async fn archive(app: &TestApp, count: usize) -> (TestUser, Vec<i64>) {
    let editor = app.user(Role::Editor).await;
    let base = chrono::Utc::now() - chrono::Duration::days(30);
    let mut ids = Vec::new();
    for i in 0..count {
        // Pairs share a publication time, so ties are broken by id.
        let at = base + chrono::Duration::hours((i / 2) as i64);
        let language = if i % 3 == 0 { "ru" } else { "en" };
        let article = app
            .published(
                &editor.token,
                &format!("Report number {i}"),
                json!({"published_at": at.to_rfc3339(), "language": language}),
            )
            .await;
        ids.push(article["id"].as_i64().unwrap());
    }
    (editor, ids)
}

async fn the_feed_is_newest_first_and_filtered(backend: Backend) {
    let app = spawn_app(backend).await;
    let (editor, ids_oldest_first) = archive(&app, 9).await;
    app.create(
        "/api/v1/articles",
        &editor.token,
        json!({"title": "Unpublished", "body": "x"}),
    )
    .await;
    let page: Value = app
        .get("/api/v1/articles", None)
        .await
        .json()
        .await
        .unwrap();
    // Later articles are newer or tie with a lower id: newest first is the reverse.
    let newest_first: Vec<i64> = ids_oldest_first.iter().rev().copied().collect();
    assert_eq!(
        ids(&page),
        newest_first,
        "newest first, ties by id descending"
    );
    assert_eq!(page["next_cursor"], Value::Null);
    assert!(
        page["data"][0].get("body").is_none(),
        "feeds carry summaries"
    );

    let oldest = app
        .all_ids("/api/v1/articles?sort=published_at&limit=4", None)
        .await;
    let mut reversed = newest_first.clone();
    reversed.reverse();
    assert_eq!(oldest, reversed);

    let russian = app.all_ids("/api/v1/articles?language=ru", None).await;
    assert_eq!(russian.len(), 3);
    let one: Value = app
        .get(&format!("/api/v1/articles/{}", russian[0]), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["language"], "ru");

    // Half an hour before the third pair: the fourth pair is at the window's end, excluded.
    let after = chrono::Utc::now() - chrono::Duration::days(30) + chrono::Duration::minutes(90);
    let window = app
        .all_ids(
            &format!(
                "/api/v1/articles?published_after={}&published_before={}",
                urlencode(&after.to_rfc3339()),
                urlencode(&(after + chrono::Duration::hours(2)).to_rfc3339())
            ),
            None,
        )
        .await;
    assert_eq!(window.len(), 4, "two hours of pairs");

    let by_author = app
        .all_ids(&format!("/api/v1/articles?author={}", editor.id), None)
        .await;
    assert_eq!(by_author, newest_first);
    let editor_slug: Value = app
        .get(&format!("/api/v1/authors/{}", editor.id), None)
        .await
        .json()
        .await
        .unwrap();
    let by_slug = app
        .all_ids(
            &format!(
                "/api/v1/articles?author={}&language=en",
                editor_slug["slug"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(by_slug.len(), 6);

    for (query, status, field) in [
        ("limit=0", 422, Some("limit")),
        ("limit=101", 422, Some("limit")),
        ("limit=ten", 400, None),
        ("sort=random", 400, None),
        ("sort=relevance", 422, Some("sort")),
        ("published_after=yesterday", 422, Some("published_after")),
        ("topic=no-such-topic", 422, Some("topic")),
        ("author=nobody", 422, Some("author")),
        ("cursor=bogus", 422, Some("cursor")),
        ("status=draft", 401, None),
    ] {
        let problem = assert_problem(
            app.get(&format!("/api/v1/articles?{query}"), None).await,
            status,
        )
        .await;
        if let Some(field) = field {
            assert_eq!(error_fields(&problem), [field], "{query}");
        }
    }
    assert_eq!(
        app.get("/api/v1/articles?limit=100", None).await.status(),
        200
    );
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

async fn pages_never_skip_or_repeat(backend: Backend) {
    let app = spawn_app(backend).await;
    let (editor, mut expected) = archive(&app, 11).await;
    expected.reverse();
    let all = app.all_ids("/api/v1/articles?limit=3", None).await;
    assert_eq!(all.len(), 11);
    let mut sorted_ids = all.clone();
    sorted_ids.sort();
    sorted_ids.dedup();
    assert_eq!(sorted_ids.len(), 11, "no repeats");

    // Publishing between two page requests neither shifts nor repeats what follows.
    let first: Value = app
        .get("/api/v1/articles?limit=4", None)
        .await
        .json()
        .await
        .unwrap();
    for i in 0..3 {
        app.published(&editor.token, &format!("Breaking {i}"), json!({}))
            .await;
    }
    let cursor = first["next_cursor"].as_str().unwrap();
    let mut seen = ids(&first);
    seen.extend(
        app.ids_from("/api/v1/articles?limit=4", Some(cursor), None)
            .await,
    );
    assert_eq!(seen, all, "the original sequence, exactly");

    // A cursor is bound to its order.
    let mismatch = app
        .get(
            &format!("/api/v1/articles?sort=published_at&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(
        error_fields(&assert_problem(mismatch, 422).await),
        ["cursor"]
    );
}

async fn staff_list_by_status(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let author = app.user(Role::Author).await;
    let other = app.user(Role::Author).await;
    let mine = app
        .create(
            "/api/v1/articles",
            &author.token,
            json!({"title": "Mine", "body": "x"}),
        )
        .await;
    let theirs = app
        .create(
            "/api/v1/articles",
            &other.token,
            json!({"title": "Theirs", "body": "x"}),
        )
        .await;
    let review = app
        .create(
            "/api/v1/articles",
            &author.token,
            json!({"title": "Review me", "body": "x", "status": "review"}),
        )
        .await;
    let archived = app
        .create(
            "/api/v1/articles",
            &editor.token,
            json!({"title": "Old", "body": "x", "status": "archived"}),
        )
        .await;
    let public = app.published(&editor.token, "Public", json!({})).await;
    let id = |v: &Value| v["id"].as_i64().unwrap();

    let all_drafts = app
        .all_ids("/api/v1/articles?status=draft", Some(&editor.token))
        .await;
    assert_eq!(
        all_drafts,
        [id(&theirs), id(&mine)],
        "most recently updated first"
    );
    assert_eq!(
        app.all_ids("/api/v1/articles?status=draft", Some(&author.token))
            .await,
        [id(&mine)]
    );
    assert_eq!(
        app.all_ids("/api/v1/articles?status=review", Some(&author.token))
            .await,
        [id(&review)]
    );
    assert_eq!(
        app.all_ids("/api/v1/articles?status=review", Some(&other.token))
            .await,
        Vec::<i64>::new()
    );
    assert_eq!(
        app.all_ids("/api/v1/articles?status=archived", Some(&editor.token))
            .await,
        [id(&archived)]
    );
    assert_eq!(
        app.all_ids("/api/v1/articles?status=any&limit=2", Some(&editor.token))
            .await
            .len(),
        5
    );
    assert_eq!(
        app.all_ids("/api/v1/articles?status=any", Some(&author.token))
            .await
            .len(),
        2
    );
    assert_eq!(
        app.all_ids("/api/v1/articles?status=published", Some(&author.token))
            .await,
        Vec::<i64>::new()
    );
    assert_eq!(
        app.all_ids("/api/v1/articles?status=published", Some(&editor.token))
            .await,
        [id(&public)]
    );
    assert_eq!(
        app.all_ids("/api/v1/articles", Some(&author.token)).await,
        [id(&public)]
    );
    let sorted = app
        .get(
            "/api/v1/articles?status=draft&sort=-published_at",
            Some(&editor.token),
        )
        .await;
    assert_eq!(error_fields(&assert_problem(sorted, 422).await), ["sort"]);
}

async fn search_finds_public_articles_by_relevance(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let in_title = app
        .published(
            &editor.token,
            "Border treaty signed in Bishkek",
            json!({"body": "<p>The presidents met on Monday.</p>"}),
        )
        .await;
    let in_body = app
        .published(
            &editor.token,
            "Markets in Khujand",
            json!({"body": "<p>Traders hope the new border rules will help them.</p>"}),
        )
        .await;
    let russian = app
        .published(
            &editor.token,
            "Договор о границе подписан",
            json!({"language": "ru", "body": "<p>Президенты подписали договор о границе.</p>"}),
        )
        .await;
    app.create(
        "/api/v1/articles",
        &editor.token,
        json!({"title": "Secret border plan", "body": "<p>draft border notes</p>"}),
    )
    .await;
    app.published(
        &editor.token,
        "Gas prices",
        json!({"body": "<p>Nothing about frontiers.</p>"}),
    )
    .await;
    let id = |v: &Value| v["id"].as_i64().unwrap();

    let found = app.all_ids("/api/v1/articles?q=border", None).await;
    assert_eq!(
        found,
        [id(&in_title), id(&in_body)],
        "title matches rank first; drafts are not found"
    );
    let stemmed = app.all_ids("/api/v1/articles?q=treaties", None).await;
    assert_eq!(stemmed, [id(&in_title)], "English word forms match");
    let newest = app
        .all_ids("/api/v1/articles?q=border&sort=-published_at", None)
        .await;
    assert_eq!(newest, [id(&in_body), id(&in_title)]);
    let paged = app.all_ids("/api/v1/articles?q=border&limit=1", None).await;
    assert_eq!(paged, found);
    assert_eq!(
        app.all_ids("/api/v1/articles?q=граница", None).await,
        [id(&russian)],
        "Russian word forms match"
    );
    assert!(app
        .all_ids("/api/v1/articles?q=%22unbalanced%20OR%20*", None)
        .await
        .is_empty());
    let staff = app
        .all_ids("/api/v1/articles?q=border&status=any", Some(&editor.token))
        .await;
    assert_eq!(staff.len(), 3, "staff search their drafts too");

    // Edits reach the index.
    let path = format!("/api/v1/articles/{}", id(&in_body));
    let edited = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&editor.token),
            &json!({"body": "<p>Prices of apricots.</p>"}),
        )
        .await;
    assert_eq!(edited.status(), 200);
    assert_eq!(
        app.all_ids("/api/v1/articles?q=border", None).await,
        [id(&in_title)]
    );
    assert_eq!(
        app.all_ids("/api/v1/articles?q=apricots", None).await,
        [id(&in_body)]
    );
}

/// Counts the statements each database (by URL) runs, for every connection made after it is
/// installed, leaving out connection set-up and health checks.
struct QueryCounter {
    url: Option<String>,
}

fn counts() -> &'static Mutex<HashMap<String, usize>> {
    static COUNTS: OnceLock<Mutex<HashMap<String, usize>>> = OnceLock::new();
    COUNTS.get_or_init(Default::default)
}

impl Instrumentation for QueryCounter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartEstablishConnection { url, .. } => {
                self.url = Some(url.to_owned())
            }
            InstrumentationEvent::StartQuery { query, .. } => {
                // Connection set-up and pool health checks happen at the pool's whim, and the
                // server's own followers of the event log and of scheduled times at theirs.
                let text = query.to_string();
                let setup = ["PRAGMA", "SET ", "SELECT 1"]
                    .iter()
                    .any(|p| text.trim_start().starts_with(p))
                    || ["`events`", "\"events\"", "pending_live", "webhook"]
                        .iter()
                        .any(|table| text.contains(table));
                if let (Some(url), false) = (&self.url, setup) {
                    *counts().lock().unwrap().entry(url.clone()).or_default() += 1;
                }
            }
            _ => {}
        }
    }
}

async fn statements_for(app: &TestApp, key: &str, path: &str) -> usize {
    let before = counts().lock().unwrap().get(key).copied().unwrap_or(0);
    let response = app.get(path, None).await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    assert!(!page["data"].as_array().unwrap().is_empty());
    counts().lock().unwrap().get(key).copied().unwrap_or(0) - before
}

/// The demo site with every statement counted, and the key its count is under.
async fn counted_demo(backend: Backend, cache: usize) -> (TestApp, String) {
    static INSTALL: OnceLock<()> = OnceLock::new();
    INSTALL.get_or_init(|| {
        diesel::connection::set_default_instrumentation(|| {
            Some(Box::new(QueryCounter { url: None }))
        })
        .unwrap();
    });
    let app = spawn_app_with(backend, |c| c.response_cache_bytes = cache).await;
    newsroom::seed::demo(&mut app.conn()).unwrap();
    // The server takes in the seeded log (written beside it) before anything is counted.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let key = match app.db.url() {
        newsroom::config::DatabaseUrl::Sqlite(path) => path.to_string_lossy().into_owned(),
        newsroom::config::DatabaseUrl::Postgres(url) => url,
    };
    (app, key)
}

const SEED_ARTICLE: &str =
    "/api/v1/articles/tajikistan-and-kyrgyzstan-sign-treaty-ending-decades-long-border-dispute";

async fn a_page_costs_the_same_number_of_queries_at_any_size(backend: Backend) {
    let (app, key) = counted_demo(backend, 32 << 20).await;
    let related = &format!("{SEED_ARTICLE}/related?");
    // (list, a small page, a large page); the related list's small page still needs suggestions.
    for (base, small_page, large_page) in [
        ("/api/v1/articles?", 2, 40),
        ("/api/v1/articles?topic=central-asia&", 2, 40),
        ("/api/v1/articles?author=malika-rahimova&", 2, 40),
        ("/api/v1/articles?q=Tajikistan&", 2, 40),
        ("/api/v1/articles?prefer_language=ru,en&", 2, 40),
        (
            "/api/v1/articles?topic=central-asia&prefer_language=tg&",
            2,
            40,
        ),
        (related, 12, 40),
    ] {
        statements_for(&app, &key, &format!("{base}limit=1")).await;
        let small = statements_for(&app, &key, &format!("{base}limit={small_page}")).await;
        let large = statements_for(&app, &key, &format!("{base}limit={large_page}")).await;
        assert!(small > 0, "the counter saw nothing for {base}");
        assert_eq!(
            small, large,
            "{base}: {small} statements for {small_page} items, {large} for {large_page}"
        );
    }
    // A revalidation (304) or a repeat from the public cache runs no statement at all: the
    // site's state is known in memory since the last read of it, and nothing was written.
    let feed = "/api/v1/articles?limit=40";
    let read_state = std::time::Instant::now();
    let etag = app.get(feed, None).await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let before = counts().lock().unwrap().get(&key).copied().unwrap_or(0);
    let revalidated = app
        .request(Method::GET, feed, None)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);
    assert_eq!(app.get(feed, None).await.status(), 200);
    let after = counts().lock().unwrap().get(&key).copied().unwrap_or(0);
    // (Unless the state's second of trust ran out on a slow machine.)
    assert!(
        after == before || read_state.elapsed() >= std::time::Duration::from_secs(1),
        "two cached answers ran {} statements",
        after - before
    );
    // A related list the curated links fill needs no suggestion queries at all.
    assert!(
        statements_for(&app, &key, &format!("{related}limit=3")).await
            < statements_for(&app, &key, &format!("{related}limit=11")).await
    );
}

/// A resolved front costs the same statements at any size: a section each of curated items
/// (with overrides) and of each kind of fill, once small, once six sections of 40 items.
async fn a_front_costs_the_same_number_of_queries_at_any_size(backend: Backend) {
    let (app, key) = counted_demo(backend, 0).await;
    let editor = app.user(Role::Editor).await;
    let ids = app.all_ids("/api/v1/articles?limit=50", None).await;
    let front = |per_section: usize| {
        let sections: Vec<Value> = [
            json!(null),
            json!({}),
            json!({"topic": "central-asia"}),
            json!({"author": "malika-rahimova"}),
            json!({"language": "ru"}),
            json!({"topic": "central-asia", "author": "farrukh-nazarov", "language": "en"}),
        ]
        .into_iter()
        .enumerate()
        .map(|(n, fill)| {
            let items: Vec<Value> = ids[n * 2..n * 2 + (per_section - 1).min(2)]
                .iter()
                .map(|id| json!({"article_id": id, "headline": "Front headline", "kicker": "K"}))
                .collect();
            let mut section = json!({"key": format!("s{n}"), "title": "S",
                "max_items": per_section, "items": items});
            if !fill.is_null() {
                section["fill"] = fill;
            }
            section
        })
        .collect();
        json!({"title": "Counted", "sections": sections})
    };
    let mut counts_of = Vec::new();
    for (slug, per_section) in [("small", 2), ("large", 7)] {
        let response = app
            .send_json(
                Method::PUT,
                &format!("/api/v1/fronts/{slug}"),
                Some(&editor.token),
                &front(per_section),
            )
            .await;
        assert_eq!(response.status(), 201);
        let path = format!("/api/v1/fronts/{slug}");
        let before = counts().lock().unwrap().get(&key).copied().unwrap_or(0);
        let read: Value = app.get(&path, None).await.json().await.unwrap();
        counts_of.push(counts().lock().unwrap().get(&key).copied().unwrap_or(0) - before);
        let shown: usize = read["sections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["items"].as_array().unwrap().len())
            .sum();
        assert!(shown >= 5 * per_section - 5, "{slug}: {shown} items");
    }
    assert!(counts_of[0] > 0);
    assert_eq!(
        counts_of[0], counts_of[1],
        "statements for a small and a large front"
    );
}

/// With the response cache off, a revalidation of a tag still current runs at most one
/// statement (the next scheduled time, when a write moved it), on every kind of public read.
async fn without_the_cache_a_revalidation_reads_at_most_once(backend: Backend) {
    let (app, key) = counted_demo(backend, 0).await;
    let count = || counts().lock().unwrap().get(&key).copied().unwrap_or(0);
    for path in [
        format!("{SEED_ARTICLE}?include=related"),
        format!("{SEED_ARTICLE}/related?limit=10"),
        "/api/v1/articles?limit=20".to_owned(),
        "/api/v1/articles?topic=central-asia&limit=20".to_owned(),
        "/api/v1/articles?author=malika-rahimova".to_owned(),
        "/api/v1/topics".to_owned(),
        "/api/v1/fronts/home".to_owned(),
        "/feeds/rss.xml".to_owned(),
    ] {
        let first = app.get(&path, None).await;
        assert_eq!(first.status(), 200, "{path}");
        let etag = first.headers()["etag"].to_str().unwrap().to_owned();
        let before = count();
        let revalidated = app
            .request(Method::GET, &path, None)
            .header("If-None-Match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(revalidated.status(), 304, "{path}");
        assert!(
            count() - before <= 1,
            "{path}: {} statements",
            count() - before
        );
    }
}

backend_tests!(
    a_front_costs_the_same_number_of_queries_at_any_size,
    without_the_cache_a_revalidation_reads_at_most_once,
    the_feed_is_newest_first_and_filtered,
    pages_never_skip_or_repeat,
    staff_list_by_status,
    search_finds_public_articles_by_relevance,
    a_page_costs_the_same_number_of_queries_at_any_size,
);
