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

async fn a_scheduled_article_going_live_changes_the_feed(backend: Backend) {
    let app = spawn_app(backend).await;
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

backend_tests!(
    writes_by_another_server_are_seen_within_a_second,
    without_the_response_cache_reads_still_revalidate,
    public_reads_revalidate_with_etags,
    articles_answer_if_modified_since,
    a_scheduled_article_going_live_changes_the_feed,
    responses_are_compressed,
    cors_allows_the_configured_origins,
);
