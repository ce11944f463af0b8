//! Invalidation by key: every public read names what it shows (`Surrogate-Key`, `Cache-Tag`),
//! and a change drops exactly the cached responses that show it, in this process and in
//! another one on the same database.

use std::time::{Duration, Instant};

use newsroom::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Backend, TestApp};

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

/// (X-Cache, Surrogate-Key, body) of an anonymous read at `base`.
async fn read(app: &TestApp, base: &str, path: &str) -> (String, Vec<String>, Value) {
    let response = app
        .client
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let cache = header("x-cache");
    let keys: Vec<String> = header("surrogate-key")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let tags: Vec<String> = header("cache-tag").split(',').map(str::to_owned).collect();
    assert_eq!(keys, tags, "the same keys for every CDN");
    let body = response.text().await.unwrap();
    (
        cache,
        keys,
        serde_json::from_str(&body).unwrap_or(Value::Null),
    )
}

async fn cache_state(app: &TestApp, base: &str, path: &str) -> String {
    read(app, base, path).await.0
}

async fn responses_name_what_they_show(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let topic = app.topic(&editor.token, "Energy", None).await;
    let a = app
        .published(
            &editor.token,
            "Dam opens",
            json!({"topic_ids": [id(&topic)], "language": "ru"}),
        )
        .await;
    let b = app.published(&editor.token, "Other", json!({})).await;
    let linked = app
        .send_json(
            Method::POST,
            &format!("/api/v1/articles/{}/related", id(&a)),
            Some(&editor.token),
            &json!({"target_id": id(&b)}),
        )
        .await;
    assert_eq!(linked.status(), 201);
    let (t, e, aid, bid) = (id(&topic), editor.id, id(&a), id(&b));
    let page = read(
        &app,
        &app.address,
        &format!("/api/v1/articles/{aid}?include=related"),
    )
    .await;
    for key in [
        format!("article-{aid}"),
        format!("topic-{t}"),
        format!("author-{e}"),
        format!("article-{bid}"),
        format!("list-topic-{t}"),
    ] {
        assert!(page.1.contains(&key), "{key} in {:?}", page.1);
    }
    let list = read(&app, &app.address, "/api/v1/articles").await;
    assert!(list.1.contains(&"list".to_owned()));
    assert!(list.1.contains(&format!("article-{aid}")));
    let filtered = read(
        &app,
        &app.address,
        &format!("/api/v1/articles?topic={t}&language=ru&author={e}"),
    )
    .await;
    for key in [
        format!("list-topic-{t}"),
        "list-language-ru".to_owned(),
        format!("list-author-{e}"),
    ] {
        assert!(filtered.1.contains(&key), "{key} in {:?}", filtered.1);
    }
    assert!(!filtered.1.contains(&"list".to_owned()));
    let feed = read(&app, &app.address, &format!("/feeds/topics/{t}/feed.json")).await;
    assert!(feed.1.contains(&format!("feed-topic-{t}")));
    let topics = read(&app, &app.address, "/api/v1/topics").await;
    assert!(topics.1.contains(&"topics".to_owned()) && topics.1.contains(&format!("topic-{t}")));
    let authors = read(&app, &app.address, &format!("/api/v1/authors/{e}")).await;
    assert!(authors.1.contains(&format!("author-{e}")));
    let search = read(&app, &app.address, "/api/v1/articles?q=dam").await;
    assert!(search.1.contains(&"search".to_owned()));
}

/// Editing A drops the pages that show A, and nothing else.
async fn an_edit_drops_only_what_shows_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let energy = id(&app.topic(&editor.token, "Energy", None).await);
    let sport = id(&app.topic(&editor.token, "Sport", None).await);
    let a = id(&app
        .published(&editor.token, "Dam opens", json!({"topic_ids": [energy]}))
        .await);
    let b = id(&app
        .published(&editor.token, "Match won", json!({"topic_ids": [sport]}))
        .await);
    let pages = [
        format!("/api/v1/articles/{a}"),
        format!("/api/v1/articles/{b}"),
        format!("/api/v1/articles?topic={energy}"),
        format!("/api/v1/articles?topic={sport}"),
        "/api/v1/articles".to_owned(),
        "/feeds/rss.xml".to_owned(),
    ];
    for page in &pages {
        assert_eq!(
            cache_state(&app, &app.address, page).await,
            "miss",
            "{page}"
        );
        assert_eq!(cache_state(&app, &app.address, page).await, "hit", "{page}");
    }
    let edited = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/articles/{a}"),
            Some(&editor.token),
            &json!({"title": "Dam opens at last"}),
        )
        .await;
    assert_eq!(edited.status(), 200);
    let expected = ["miss", "hit", "miss", "hit", "miss", "miss"];
    for (page, state) in pages.iter().zip(expected) {
        assert_eq!(cache_state(&app, &app.address, page).await, state, "{page}");
    }
    let (_, _, body) = read(&app, &app.address, &pages[0]).await;
    assert_eq!(body["title"], "Dam opens at last");

    // Publishing enters the lists it is in: energy's, not sport's, nor B's page.
    for page in &pages {
        read(&app, &app.address, page).await;
    }
    app.published(&editor.token, "New turbine", json!({"topic_ids": [energy]}))
        .await;
    let expected = ["hit", "hit", "miss", "hit", "miss", "miss"];
    for (page, state) in pages.iter().zip(expected) {
        assert_eq!(cache_state(&app, &app.address, page).await, state, "{page}");
    }
}

/// Another process on the database drops the same entries, as its log tells it.
async fn another_process_drops_by_key_too(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let a = id(&app.published(&editor.token, "First", json!({})).await);
    let b = id(&app.published(&editor.token, "Second", json!({})).await);
    let other = app.process();
    let (page_a, page_b) = (
        format!("/api/v1/articles/{a}"),
        format!("/api/v1/articles/{b}"),
    );
    for page in [&page_a, &page_b] {
        read(&app, &other.address, page).await;
        assert_eq!(cache_state(&app, &other.address, page).await, "hit");
    }
    let edited = app
        .send_json(
            Method::PATCH,
            &page_a,
            Some(&editor.token),
            &json!({"title": "First, corrected"}),
        )
        .await;
    assert_eq!(edited.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let (_, _, body) = read(&app, &other.address, &page_a).await;
        if body["title"] == "First, corrected" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the other process kept the old page"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(cache_state(&app, &other.address, &page_b).await, "hit");
}

backend_tests!(
    responses_name_what_they_show,
    an_edit_drops_only_what_shows_it,
    another_process_drops_by_key_too,
);
