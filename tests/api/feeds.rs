//! Syndication feeds (the real parsers run in `.ci/api-check`): what they carry and leave out.

use newsroom::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, Backend};

async fn feeds_carry_the_latest_public_articles(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let topic = app.topic(&editor.token, "Central Asia", None).await;
    for i in 0..52 {
        let topics = if i % 2 == 0 {
            json!([topic["id"]])
        } else {
            json!([])
        };
        let at = (chrono::Utc::now() - chrono::Duration::hours(100 - i)).to_rfc3339();
        app.published(
            &editor.token,
            &format!("Report {i} & <analysis>"),
            json!({"topic_ids": topics, "published_at": at, "summary": "Lead"}),
        )
        .await;
    }
    app.create(
        "/api/v1/articles",
        &editor.token,
        json!({"title": "Unpublished draft", "body": "x"}),
    )
    .await;

    let rss = app.get("/feeds/rss.xml", None).await;
    assert_eq!(
        rss.headers()["content-type"],
        "application/rss+xml; charset=utf-8"
    );
    let etag = rss.headers()["etag"].to_str().unwrap().to_owned();
    let rss = rss.text().await.unwrap();
    assert_eq!(rss.matches("<item>").count(), 50);
    assert!(
        rss.contains("Report 51 &amp; &lt;analysis&gt;"),
        "escaped, newest first"
    );
    assert!(
        !rss.contains("Report 0 ") && !rss.contains("Report 1 "),
        "only the latest 50"
    );
    assert!(!rss.contains("Unpublished draft"));
    assert!(rss.contains("https://news.example/articles/report-51-analysis"));
    assert!(
        !rss.contains("content:encoded"),
        "summaries unless asked for content"
    );
    let full = app
        .get("/feeds/rss.xml?content=full", None)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(full.matches("<content:encoded>").count(), 50);
    let revalidated = app
        .request(Method::GET, "/feeds/rss.xml", None)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);

    let atom = app.get("/feeds/topics/central-asia/atom.xml", None).await;
    assert_eq!(
        atom.headers()["content-type"],
        "application/atom+xml; charset=utf-8"
    );
    assert_eq!(atom.text().await.unwrap().matches("<entry>").count(), 26);

    let feed = app
        .get(
            &format!("/feeds/topics/{}/feed.json?content=full", topic["id"]),
            None,
        )
        .await;
    assert_eq!(feed.headers()["content-type"], "application/feed+json");
    let feed: Value = feed.json().await.unwrap();
    assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
    let items = feed["items"].as_array().unwrap();
    assert_eq!(items.len(), 26);
    assert_eq!(items[0]["title"], "Report 50 & <analysis>");
    assert_eq!(items[0]["tags"], json!(["Central Asia"]));
    assert!(items[0]["content_html"]
        .as_str()
        .unwrap()
        .starts_with("<p>"));

    assert_problem(app.get("/feeds/topics/atlantis/rss.xml", None).await, 404).await;
    assert_problem(app.get("/feeds/index.html", None).await, 400).await;
}

backend_tests!(feeds_carry_the_latest_public_articles);
