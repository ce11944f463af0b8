//! Delta sync: a client following the change stream ends with exactly the public set, through
//! creates, edits, unpublishing, the trash, deletion for good and scheduled publication.

use std::collections::BTreeMap;

use newsroom::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, Backend, TestApp};

/// An offline-first app's copy of the public articles, and its sync token.
#[derive(Default)]
struct Client {
    articles: BTreeMap<i64, Value>,
    token: Option<String>,
}

impl Client {
    /// Follows the stream two changes at a time until it is drained.
    async fn sync(&mut self, app: &TestApp) {
        loop {
            let path = match &self.token {
                Some(token) => format!("/api/v1/sync/articles?limit=2&since={token}"),
                None => "/api/v1/sync/articles?limit=2".to_owned(),
            };
            let response = app.get(&path, None).await;
            assert_eq!(response.status(), 200, "{path}");
            let page: Value = response.json().await.unwrap();
            for article in page["changed"].as_array().unwrap() {
                self.articles
                    .insert(article["id"].as_i64().unwrap(), article.clone());
            }
            for id in page["removed"].as_array().unwrap() {
                self.articles.remove(&id.as_i64().unwrap());
            }
            self.token = Some(page["next_token"].as_str().unwrap().to_owned());
            if page["has_more"] == false {
                return;
            }
        }
    }

    async fn assert_matches(&self, app: &TestApp, step: &str) {
        let mut public = app.all_ids("/api/v1/articles?limit=100", None).await;
        public.sort();
        let held: Vec<i64> = self.articles.keys().copied().collect();
        assert_eq!(held, public, "after {step}");
    }
}

async fn sync_converges_to_the_public_set(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let admin = app.user(Role::Admin).await;
    let token = Some(editor.token.as_str());
    let mut client = Client::default();
    client.sync(&app).await;
    client.assert_matches(&app, "an empty start").await;

    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            app.published(&editor.token, &format!("Story {i}"), json!({}))
                .await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    app.create(
        "/api/v1/articles",
        &editor.token,
        json!({"title": "Draft", "body": "x"}),
    )
    .await;
    client.sync(&app).await;
    client.assert_matches(&app, "creates").await;

    let path = |id: i64| format!("/api/v1/articles/{id}");
    app.send_json(
        Method::PATCH,
        &path(ids[0]),
        token,
        &json!({"title": "Story 0, updated"}),
    )
    .await;
    client.sync(&app).await;
    assert_eq!(client.articles[&ids[0]]["title"], "Story 0, updated");

    app.send_json(
        Method::PATCH,
        &path(ids[1]),
        token,
        &json!({"status": "draft"}),
    )
    .await;
    app.send_json(
        Method::PATCH,
        &path(ids[2]),
        token,
        &json!({"status": "archived"}),
    )
    .await;
    client.sync(&app).await;
    client
        .assert_matches(&app, "unpublishing and archiving")
        .await;

    app.delete(&path(ids[3]), token).await;
    client.sync(&app).await;
    client.assert_matches(&app, "trashing").await;
    app.request(Method::POST, &format!("{}/restore", path(ids[3])), token)
        .send()
        .await
        .unwrap();
    app.delete(
        &format!("{}?permanent=true", path(ids[4])),
        Some(&admin.token),
    )
    .await;
    client.sync(&app).await;
    client
        .assert_matches(&app, "restoring and deleting for good")
        .await;

    let at = chrono::Utc::now() + chrono::Duration::milliseconds(3000);
    let scheduled = app
        .create("/api/v1/articles", &editor.token, json!({"title": "At noon", "body": "x", "status": "scheduled", "published_at": at.to_rfc3339()}))
        .await;
    client.sync(&app).await;
    assert!(!client
        .articles
        .contains_key(&scheduled["id"].as_i64().unwrap()));
    crate::helpers::sleep_past(at).await;
    client.sync(&app).await;
    assert!(
        client
            .articles
            .contains_key(&scheduled["id"].as_i64().unwrap()),
        "scheduled articles enter when due"
    );
    client.assert_matches(&app, "scheduled publication").await;

    // An unchanged stream answers nothing new; a fresh client gets the whole public set.
    let before = client.token.clone();
    client.sync(&app).await;
    assert_eq!(client.token, before);
    let mut fresh = Client::default();
    fresh.sync(&app).await;
    fresh.assert_matches(&app, "a first sync").await;

    assert_problem(
        app.get("/api/v1/sync/articles?since=garbage", None).await,
        422,
    )
    .await;
    assert_problem(app.get("/api/v1/sync/articles?limit=501", None).await, 422).await;
}

backend_tests!(sync_converges_to_the_public_set);
