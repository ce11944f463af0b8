//! Delivery to frontends and apps: validators and 304s, Cache-Control and Vary, compression,
//! CORS.

use newsroom::config::CorsOrigins;
use newsroom::domain::Role;
use reqwest::{Method, Response};
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with, Backend, TestApp};

fn header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect::<Vec<_>>()
        .join(", ")
}

async fn get_with(app: &TestApp, path: &str, name: &str, value: &str) -> Response {
    app.request(Method::GET, path, None)
        .header(name, value)
        .send()
        .await
        .unwrap()
}

async fn public_reads_revalidate_with_etags(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    app.published(&editor.token, "First story", json!({})).await;
    let feed = "/api/v1/articles?limit=5";

    let first = app.get(feed, None).await;
    assert_eq!(first.status(), 200);
    let etag = header(&first, "etag");
    assert!(
        etag.starts_with('"') && etag.len() > 10,
        "a strong ETag: {etag}"
    );
    assert_eq!(
        header(&first, "cache-control"),
        "public, max-age=60, stale-while-revalidate=300"
    );
    assert!(header(&first, "vary").contains("Authorization"));

    let again = get_with(&app, feed, "If-None-Match", &etag).await;
    assert_eq!(again.status(), 304);
    assert_eq!(header(&again, "etag"), etag);
    assert!(again.bytes().await.unwrap().is_empty());
    assert_eq!(
        get_with(&app, feed, "If-None-Match", &format!("W/{etag}"))
            .await
            .status(),
        304
    );

    // A write that does not change this page leaves its tag alone...
    app.create(
        "/api/v1/articles",
        &editor.token,
        json!({"title": "A draft", "body": "x"}),
    )
    .await;
    assert_eq!(
        get_with(&app, feed, "If-None-Match", &etag).await.status(),
        304
    );
    // ...and one that does, changes it.
    app.published(&editor.token, "Second story", json!({}))
        .await;
    let changed = get_with(&app, feed, "If-None-Match", &etag).await;
    assert_eq!(changed.status(), 200);
    assert_ne!(header(&changed, "etag"), etag);

    // Signed-in reads and writes are never stored by shared caches.
    let private = app.get(feed, Some(&editor.token)).await;
    assert_eq!(header(&private, "cache-control"), "private, no-store");
    let write = app
        .send_json(
            Method::POST,
            "/api/v1/topics",
            Some(&editor.token),
            &json!({"name": "Sport"}),
        )
        .await;
    assert_eq!(header(&write, "cache-control"), "private, no-store");
}

async fn articles_answer_if_modified_since(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let article = app.published(&editor.token, "Story", json!({})).await;
    let path = format!("/api/v1/articles/{}", article["id"]);
    let first = app.get(&path, None).await;
    let modified = header(&first, "last-modified");
    assert!(modified.ends_with("GMT"), "{modified}");
    assert_eq!(
        get_with(&app, &path, "If-Modified-Since", &modified)
            .await
            .status(),
        304
    );
    let earlier = "Mon, 01 Jan 2024 00:00:00 GMT";
    assert_eq!(
        get_with(&app, &path, "If-Modified-Since", earlier)
            .await
            .status(),
        200
    );
}

/// With the response cache on and off: with it off the tag alone must see the clock.
async fn a_scheduled_article_going_live_changes_the_feed(backend: Backend) {
    for cache in [32 << 20, 0] {
        a_scheduled_article_going_live_changes_the_feed_with(backend, cache).await;
    }
}

async fn a_scheduled_article_going_live_changes_the_feed_with(backend: Backend, cache: usize) {
    let app = spawn_app_with(backend, |c| c.response_cache_bytes = cache).await;
    let editor = app.user(Role::Editor).await;
    app.published(&editor.token, "Already out", json!({})).await;
    let at = chrono::Utc::now() + chrono::Duration::milliseconds(3000);
    app.create(
        "/api/v1/articles",
        &editor.token,
        json!({"title": "At noon", "body": "x", "status": "scheduled", "published_at": at.to_rfc3339()}),
    )
    .await;
    let before = app.get("/api/v1/articles", None).await;
    let etag = header(&before, "etag");
    crate::helpers::sleep_past(at).await;
    let after = get_with(&app, "/api/v1/articles", "If-None-Match", &etag).await;
    assert_eq!(
        after.status(),
        200,
        "no write happened, but the feed changed"
    );
    let page: serde_json::Value = after.json().await.unwrap();
    assert_eq!(page["data"][0]["title"], "At noon");
}

async fn responses_are_compressed(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    app.published(
        &editor.token,
        "Compressible",
        json!({"body": format!("<p>{}</p>", "words ".repeat(400))}),
    )
    .await;
    let plain = app.get("/api/v1/articles?limit=5", None).await;
    assert!(
        !header(&plain, "etag").contains('-'),
        "identity keeps the plain tag"
    );
    for (path, encodings) in [
        ("/api/v1/articles?limit=5", ["br", "gzip"]),
        ("/openapi.json", ["br", "gzip"]),
        ("/feeds/rss.xml", ["br", "gzip"]),
    ] {
        for encoding in encodings {
            let response = get_with(&app, path, "Accept-Encoding", encoding).await;
            assert_eq!(response.status(), 200);
            assert_eq!(header(&response, "content-encoding"), encoding, "{path}");
            if path == "/openapi.json" {
                continue;
            }
            // A compressed representation has its own strong tag, and revalidates with it.
            let etag = header(&response, "etag");
            assert!(etag.ends_with(&format!("-{encoding}\"")), "{etag}");
            let again = app
                .request(Method::GET, path, None)
                .header("Accept-Encoding", encoding)
                .header("If-None-Match", &etag)
                .send()
                .await
                .unwrap();
            assert_eq!(again.status(), 304);
            assert_eq!(header(&again, "etag"), etag);
        }
    }
}

async fn cors_allows_the_configured_origins(backend: Backend) {
    let origin = "https://www.newsroom.example";
    let app = spawn_app_with(backend, |c| {
        c.cors_origins = CorsOrigins::List(vec![origin.into()])
    })
    .await;
    let preflight = app
        .request(Method::OPTIONS, "/api/v1/articles/1", None)
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "PATCH")
        .header(
            "Access-Control-Request-Headers",
            "authorization, if-match, content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    assert_eq!(header(&preflight, "access-control-allow-origin"), origin);
    assert!(header(&preflight, "access-control-allow-methods").contains("PATCH"));
    let allowed = header(&preflight, "access-control-allow-headers").to_lowercase();
    for name in ["authorization", "if-match"] {
        assert!(allowed.contains(name), "{allowed}");
    }
    let read = get_with(&app, "/api/v1/articles", "Origin", origin).await;
    assert_eq!(header(&read, "access-control-allow-origin"), origin);
    assert!(header(&read, "vary").contains("Origin"));
    assert!(header(&read, "access-control-expose-headers")
        .to_lowercase()
        .contains("etag"));
    let stranger = get_with(&app, "/api/v1/articles", "Origin", "https://evil.example").await;
    assert!(stranger
        .headers()
        .get("access-control-allow-origin")
        .is_none());

    let open = spawn_app_with(backend, |c| c.cors_origins = CorsOrigins::Any).await;
    let read = get_with(
        &open,
        "/api/v1/articles",
        "Origin",
        "https://anyone.example",
    )
    .await;
    assert!(!header(&read, "access-control-allow-origin").is_empty());
}

/// Another server process on the same database (a second instance behind a load balancer):
/// its writes reach this one's cached answers within the second the public state is trusted.
async fn writes_by_another_server_are_seen_within_a_second(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    app.published(&editor.token, "First story", json!({})).await;
    let other =
        newsroom::startup::Application::build(crate::helpers::test_config(app.db.url())).unwrap();
    let other_address = format!("http://127.0.0.1:{}", other.port());
    tokio::spawn(other.run());
    let feed = "/api/v1/articles?limit=5";
    let before = app.get(feed, None).await;
    let etag = header(&before, "etag");

    let written = app
        .client
        .post(format!("{other_address}/api/v1/articles"))
        .bearer_auth(&editor.token)
        .json(&json!({"title": "Written elsewhere", "body": "<p>x</p>", "status": "published"}))
        .send()
        .await
        .unwrap();
    assert_eq!(written.status(), 201);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let after = get_with(&app, feed, "If-None-Match", &etag).await;
    assert_eq!(after.status(), 200, "the other server's write is seen");
    let page: serde_json::Value = after.json().await.unwrap();
    assert_eq!(page["data"][0]["title"], "Written elsewhere");
}

/// With the response cache off every read runs its queries, and still carries validators.
async fn without_the_response_cache_reads_still_revalidate(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.response_cache_bytes = 0).await;
    let editor = app.user(Role::Editor).await;
    app.published(&editor.token, "First story", json!({})).await;
    let feed = "/api/v1/articles?limit=5";
    let etag = header(&app.get(feed, None).await, "etag");
    assert_eq!(
        get_with(&app, feed, "If-None-Match", &etag).await.status(),
        304
    );
    app.published(&editor.token, "Second story", json!({}))
        .await;
    let after = get_with(&app, feed, "If-None-Match", &etag).await;
    assert_eq!(after.status(), 200);
    let page: serde_json::Value = after.json().await.unwrap();
    assert_eq!(page["data"][0]["title"], "Second story");
}

/// Without the response cache, a revalidation is answered from the tag, which names what the
/// response was made from: after random writes of every kind, a 304 is only ever given for
/// the body the client holds, and the tags of what did not change still get their 304.
async fn without_the_cache_a_304_is_only_given_for_the_current_body(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.response_cache_bytes = 0).await;
    let editor = app.user(Role::Editor).await;
    let token = editor.token.as_str();
    let mut topics = Vec::new();
    for name in ["Politics", "Economy"] {
        topics.push(app.topic(token, name, None).await["id"].as_i64().unwrap());
    }
    let mut articles = Vec::new();
    for n in 0..12_usize {
        let filed = json!([topics[n % 2]]);
        let created = app
            .published(token, &format!("Story {n}"), json!({"topic_ids": filed}))
            .await;
        articles.push(created["id"].as_i64().unwrap());
    }
    let mut paths = vec![
        "/api/v1/articles?limit=5".to_owned(),
        format!("/api/v1/articles?topic={}&limit=5", topics[0]),
        format!("/api/v1/topics/{}", topics[1]),
        "/feeds/feed.json".to_owned(),
    ];
    for id in &articles[..6] {
        paths.push(format!("/api/v1/articles/{id}?include=related"));
        paths.push(format!("/api/v1/articles/{id}/related?limit=3"));
    }
    let mut held = std::collections::HashMap::new();
    for path in &paths {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), 200, "{path}");
        let etag = header(&response, "etag");
        held.insert(path.clone(), (etag, response.bytes().await.unwrap()));
    }
    let mut dice = crate::helpers::Dice(0x304);
    let (mut vouched, mut refused) = (0, 0);
    for round in 0..40 {
        let id = articles[dice.below(articles.len())];
        let path = format!("/api/v1/articles/{id}");
        let body = match dice.below(5) {
            0 => json!({"title": format!("Retitled {round}")}),
            1 => {
                let status = ["published", "draft"][dice.below(2)];
                json!({ "status": status })
            }
            2 => json!({"topic_ids": [topics[dice.below(2)]]}),
            3 => json!({"summary": format!("Summary {round}")}),
            _ => {
                let target = articles[dice.below(articles.len())];
                let response = app
                    .send_json(
                        Method::POST,
                        &format!("{path}/related"),
                        Some(token),
                        &json!({"target_id": target}),
                    )
                    .await;
                assert!(response.status().as_u16() < 500);
                json!({})
            }
        };
        let response = app
            .send_json(Method::PATCH, &path, Some(token), &body)
            .await;
        assert_eq!(response.status(), 200, "round {round}");
        // Two paths a round: revalidated with the tag held, then read in full.
        for _ in 0..2 {
            let path = &paths[dice.below(paths.len())];
            let (etag, body) = held[path].clone();
            let revalidated = get_with(&app, path, "If-None-Match", &etag).await;
            let status = revalidated.status().as_u16();
            let current = app.get(path, None).await;
            let etag_now = header(&current, "etag");
            let now = current.bytes().await.unwrap();
            match status {
                304 => {
                    vouched += 1;
                    assert_eq!(now, body, "round {round}: a 304 for a changed {path}");
                }
                // A draft's pages are not found, like a missing article's.
                200 | 404 => {
                    refused += 1;
                    held.insert(path.clone(), (etag_now, now));
                }
                other => panic!("round {round}: {other} for {path}"),
            }
        }
    }
    assert!(
        vouched >= 5 && refused >= 5,
        "{vouched} 304s, {refused} 200s"
    );
}

/// A tag made by one server process is revalidated by another on the same database without
/// a read, until something it shows changes: a load balancer may send the two requests of a
/// mobile app to different nodes.
async fn a_tag_made_by_one_process_is_revalidated_by_another(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let story = app.published(&editor.token, "Story", json!({})).await;
    let other = app.published(&editor.token, "Other", json!({})).await;
    let off = [("NEWSROOM_RESPONSE_CACHE_MB", "0")];
    let (one, two) = (app.process_with(&off), app.process_with(&off));
    let client = reqwest::Client::new();
    let get = |url: String, etag: Option<String>| {
        let request = client.get(url);
        let request = match etag {
            Some(etag) => request.header("If-None-Match", etag),
            None => request,
        };
        async move { request.send().await.unwrap() }
    };
    let page = format!("/api/v1/articles/{}", story["id"]);
    let first = get(one.url(&page), None).await;
    let etag = header(&first, "etag");
    let again = get(two.url(&page), Some(etag.clone())).await;
    assert_eq!(again.status(), 304);
    assert_eq!(header(&again, "x-cache"), "validated");
    assert_eq!(header(&again, "etag"), etag);
    // A change elsewhere leaves it current; a change to it does not.
    let patch = |id: &serde_json::Value, title: &str| {
        let request = app
            .request(
                Method::PATCH,
                &format!("/api/v1/articles/{id}"),
                Some(&editor.token),
            )
            .json(&json!({ "title": title }));
        async move { request.send().await.unwrap() }
    };
    assert_eq!(patch(&other["id"], "Other, edited").await.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let mut current = 0;
    for _ in 0..20 {
        current += u32::from(get(two.url(&page), Some(etag.clone())).await.status() == 304);
    }
    assert_eq!(current, 20, "revalidations after another article's edit");
    assert_eq!(patch(&story["id"], "Story, edited").await.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    for process in [&one, &two] {
        let changed = get(process.url(&page), Some(etag.clone())).await;
        assert_eq!(changed.status(), 200);
        let body: serde_json::Value = changed.json().await.unwrap();
        assert_eq!(body["title"], "Story, edited");
    }
}

backend_tests!(
    without_the_cache_a_304_is_only_given_for_the_current_body,
    a_tag_made_by_one_process_is_revalidated_by_another,
    writes_by_another_server_are_seen_within_a_second,
    without_the_response_cache_reads_still_revalidate,
    public_reads_revalidate_with_etags,
    articles_answer_if_modified_since,
    a_scheduled_article_going_live_changes_the_feed,
    responses_are_compressed,
    cors_allows_the_configured_origins,
);
