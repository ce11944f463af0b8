//! Editorial safety: no lost updates, revisions, the trash.

use diesel::connection::SimpleConnection;
use newsroom::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, Backend, TestApp};

fn etag(response: &reqwest::Response) -> String {
    response.headers()["etag"].to_str().unwrap().to_owned()
}

async fn patch_if_match(
    app: &TestApp,
    path: &str,
    token: &str,
    tag: &str,
    body: Value,
) -> reqwest::Response {
    app.request(Method::PATCH, path, Some(token))
        .header("If-Match", tag)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn stale_writes_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let article = app.published(&editor.token, "Rogun dam", json!({})).await;
    let path = format!("/api/v1/articles/{}", article["id"]);

    let read = app.get(&path, Some(&editor.token)).await;
    let first = etag(&read);
    assert_eq!(first, "\"v1\"");
    let public = app.get(&path, None).await;
    assert_ne!(
        etag(&public),
        first,
        "the version tag is for staff; the public get a content tag"
    );

    let changed = patch_if_match(
        &app,
        &path,
        &editor.token,
        &first,
        json!({"title": "Rogun dam: second turbine"}),
    )
    .await;
    assert_eq!(changed.status(), 200);
    let second = etag(&changed);
    assert_eq!(second, "\"v2\"");

    // The first tag is stale now: 412, and nothing changes.
    let stale = patch_if_match(
        &app,
        &path,
        &editor.token,
        &first,
        json!({"title": "Lost update"}),
    )
    .await;
    assert_problem(stale, 412).await;
    let stale_delete = app
        .request(Method::DELETE, &path, Some(&editor.token))
        .header("If-Match", &first)
        .send()
        .await
        .unwrap();
    assert_problem(stale_delete, 412).await;
    let now: Value = app.get(&path, None).await.json().await.unwrap();
    assert_eq!(
        (now["title"].as_str(), now["version"].as_i64()),
        (Some("Rogun dam: second turbine"), Some(2))
    );

    // A stale body version: 409 naming the current version.
    let conflict = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&editor.token),
            &json!({"summary": "x", "version": 1}),
        )
        .await;
    let problem = assert_problem(conflict, 409).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("version 2"),
        "{problem}"
    );
    let fine = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&editor.token),
            &json!({"summary": "x", "version": 2}),
        )
        .await;
    assert_eq!(fine.status(), 200);
    assert_eq!(
        patch_if_match(&app, &path, &editor.token, "*", json!({"summary": "y"}))
            .await
            .status(),
        200
    );
}

async fn of_two_concurrent_writers_exactly_one_wins(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let other = app.user(Role::Editor).await;
    let article = app.published(&editor.token, "Breaking", json!({})).await;
    let path = format!("/api/v1/articles/{}", article["id"]);
    for round in 0..4 {
        let version = 1 + round;
        let tag = format!("\"v{version}\"");
        let (a, b) = if round % 2 == 0 {
            let a = patch_if_match(
                &app,
                &path,
                &editor.token,
                &tag,
                json!({"title": format!("Editor A {round}")}),
            );
            let b = patch_if_match(
                &app,
                &path,
                &other.token,
                &tag,
                json!({"title": format!("Editor B {round}")}),
            );
            tokio::join!(a, b)
        } else {
            let body =
                |who: &str| json!({"title": format!("Editor {who} {round}"), "version": version});
            let (body_a, body_b) = (body("A"), body("B"));
            let a = app.send_json(Method::PATCH, &path, Some(&editor.token), &body_a);
            let b = app.send_json(Method::PATCH, &path, Some(&other.token), &body_b);
            tokio::join!(a, b)
        };
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        let loser = if round % 2 == 0 { 412 } else { 409 };
        assert_eq!(statuses, [200, loser], "round {round}");
        let now: Value = app.get(&path, None).await.json().await.unwrap();
        assert_eq!(
            now["version"],
            version + 1,
            "round {round}: exactly one change"
        );
    }
}

async fn every_change_keeps_a_revision(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let author = app.user(Role::Author).await;
    let draft = app
        .create(
            "/api/v1/articles",
            &author.token,
            json!({"title": "First title", "body": "<p>First body</p>"}),
        )
        .await;
    let path = format!("/api/v1/articles/{}", draft["id"]);
    app.send_json(
        Method::PATCH,
        &path,
        Some(&author.token),
        &json!({"title": "Second title"}),
    )
    .await;
    app.send_json(
        Method::PATCH,
        &path,
        Some(&editor.token),
        &json!({"body": "<p>Third body</p>", "status": "published"}),
    )
    .await;

    let page: Value = app
        .get(&format!("{path}/revisions"), Some(&editor.token))
        .await
        .json()
        .await
        .unwrap();
    let revisions = page["data"].as_array().unwrap();
    let numbers: Vec<i64> = revisions
        .iter()
        .map(|r| r["revision"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [2, 1], "newest first");
    assert_eq!(revisions[0]["title"], "Second title");
    assert_eq!(revisions[0]["body"], "<p>First body</p>");
    assert_eq!(revisions[0]["status"], "draft");
    assert_eq!(revisions[0]["changed_by"]["id"], editor.id);
    assert_eq!(revisions[1]["title"], "First title");
    assert_eq!(revisions[1]["changed_by"]["id"], author.id);
    assert_eq!(revisions[1]["author_ids"], json!([author.id]));

    let first: Value = app
        .get(&format!("{path}/revisions?limit=1"), Some(&editor.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["data"][0]["revision"], 2);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value = app
        .get(
            &format!("{path}/revisions?limit=1&cursor={cursor}"),
            Some(&editor.token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["data"][0]["revision"], 1);
    assert_eq!(second["next_cursor"], Value::Null);
    let one: Value = app
        .get(&format!("{path}/revisions/1"), Some(&editor.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["title"], "First title");
    assert_problem(
        app.get(&format!("{path}/revisions/9"), Some(&editor.token))
            .await,
        404,
    )
    .await;
    assert_problem(app.get(&format!("{path}/revisions"), None).await, 401).await;
    let stranger = app.user(Role::Author).await;
    assert_problem(
        app.get(&format!("{path}/revisions"), Some(&stranger.token))
            .await,
        403,
    )
    .await;
    assert_eq!(
        app.get(&format!("{path}/revisions"), Some(&author.token))
            .await
            .status(),
        200
    );

    // Restoring makes an old state current as a new change; nothing is overwritten.
    let restored = app
        .request(
            Method::POST,
            &format!("{path}/revisions/1/restore"),
            Some(&editor.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(restored.status(), 200);
    assert_eq!(etag(&restored), "\"v4\"");
    let restored: Value = restored.json().await.unwrap();
    assert_eq!(
        (restored["title"].as_str(), restored["body"].as_str()),
        (Some("First title"), Some("<p>First body</p>"))
    );
    assert_eq!(restored["status"], "draft");
    let all: Value = app
        .get(&format!("{path}/revisions"), Some(&editor.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["data"].as_array().unwrap().len(), 3);
    assert_eq!(all["data"][0]["body"], "<p>Third body</p>");
}

async fn the_trash_hides_and_restores(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let admin = app.user(Role::Admin).await;
    let topic = app.topic(&editor.token, "Energy", None).await;
    let source = app
        .published(&editor.token, "Source", json!({"topic_ids": [topic["id"]]}))
        .await;
    let doomed = app
        .published(&editor.token, "Doomed", json!({"topic_ids": [topic["id"]]}))
        .await;
    let path = format!("/api/v1/articles/{}", doomed["id"]);
    let links = format!("/api/v1/articles/{}/related", source["id"]);
    app.send_json(
        Method::PUT,
        &links,
        Some(&editor.token),
        &json!([{"target_id": doomed["id"]}]),
    )
    .await;
    let count = |app: &TestApp| {
        let url = app.url("/api/v1/topics/energy");
        let client = app.client.clone();
        async move {
            client
                .get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()["article_count"]
                .as_i64()
                .unwrap()
        }
    };
    assert_eq!(count(&app).await, 2);

    assert_eq!(app.delete(&path, Some(&editor.token)).await.status(), 204);
    assert_problem(app.get(&path, None).await, 404).await;
    assert_eq!(
        app.all_ids("/api/v1/articles", None).await,
        [source["id"].as_i64().unwrap()]
    );
    assert_eq!(
        app.all_ids("/api/v1/articles?topic=energy", None)
            .await
            .len(),
        1
    );
    assert!(app
        .all_ids("/api/v1/articles?q=doomed", None)
        .await
        .is_empty());
    assert_eq!(count(&app).await, 1);
    let related: Value = app
        .get(&format!("{links}?suggest=false"), None)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        related["data"].as_array().unwrap().is_empty(),
        "links to a trashed article are hidden"
    );
    assert_eq!(
        app.all_ids("/api/v1/articles?status=trashed", Some(&editor.token))
            .await,
        [doomed["id"].as_i64().unwrap()]
    );
    assert!(!app
        .all_ids("/api/v1/articles?status=any", Some(&editor.token))
        .await
        .contains(&doomed["id"].as_i64().unwrap()));
    assert_problem(
        app.send_json(
            Method::PATCH,
            &path,
            Some(&editor.token),
            &json!({"title": "x"}),
        )
        .await,
        409,
    )
    .await;

    let restored = app
        .request(
            Method::POST,
            &format!("{path}/restore"),
            Some(&editor.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(restored.status(), 200);
    let restored: Value = restored.json().await.unwrap();
    assert_eq!(restored["trashed_at"], Value::Null);
    assert_eq!(restored["published_at"], doomed["published_at"]);
    assert_eq!(app.all_ids("/api/v1/articles", None).await.len(), 2);
    assert_eq!(count(&app).await, 2);
    let related: Value = app
        .get(&format!("{links}?suggest=false"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(related["data"].as_array().unwrap().len(), 1);
    assert_problem(
        app.request(
            Method::POST,
            &format!("{path}/restore"),
            Some(&editor.token),
        )
        .send()
        .await
        .unwrap(),
        409,
    )
    .await;

    // For good: admins only, and then it is gone for staff too.
    assert_problem(
        app.delete(&format!("{path}?permanent=true"), Some(&editor.token))
            .await,
        403,
    )
    .await;
    assert_eq!(
        app.delete(&format!("{path}?permanent=true"), Some(&admin.token))
            .await
            .status(),
        204
    );
    assert_problem(app.get(&path, Some(&admin.token)).await, 404).await;
    let related: Value = app
        .get(&format!("{links}?suggest=false"), Some(&editor.token))
        .await
        .json()
        .await
        .unwrap();
    assert!(related["data"].as_array().unwrap().is_empty());
}

async fn old_trash_is_purged(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let old = app.published(&editor.token, "Old news", json!({})).await;
    let recent = app
        .published(&editor.token, "Recent mistake", json!({}))
        .await;
    for article in [&old, &recent] {
        app.delete(
            &format!("/api/v1/articles/{}", article["id"]),
            Some(&editor.token),
        )
        .await;
    }
    let forty_days_ago = (chrono::Utc::now() - chrono::Duration::days(40))
        .naive_utc()
        .format("%Y-%m-%d %H:%M:%S");
    app.conn()
        .batch_execute(&format!(
            "UPDATE articles SET deleted_at = '{forty_days_ago}' WHERE id = {}",
            old["id"]
        ))
        .unwrap();
    let url = match app.db.url() {
        newsroom::config::DatabaseUrl::Sqlite(path) => path.to_string_lossy().into_owned(),
        newsroom::config::DatabaseUrl::Postgres(url) => url,
    };
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_newsroom"))
        .arg("purge-trash")
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("removed 1 article"));
    assert_problem(
        app.get(
            &format!("/api/v1/articles/{}", old["id"]),
            Some(&editor.token),
        )
        .await,
        404,
    )
    .await;
    assert_eq!(
        app.all_ids("/api/v1/articles?status=trashed", Some(&editor.token))
            .await,
        [recent["id"].as_i64().unwrap()]
    );
}

/// A PATCH that changes nothing (the same title, the same topics, an empty body) writes
/// nothing: no new version or revision, the same `updated_at`, the same public page; a stale
/// version in it is still refused.
async fn a_patch_that_changes_nothing_writes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let topic = app.topic(&editor.token, "Desk", None).await;
    let article = app
        .published(&editor.token, "Same", json!({"topic_ids": [topic["id"]]}))
        .await;
    let path = format!("/api/v1/articles/{}", article["id"]);
    let public_before = app.get(&path, None).await.bytes().await.unwrap();
    for body in [
        json!({}),
        json!({"title": "Same"}),
        json!({"topic_ids": [topic["id"]], "status": "published"}),
    ] {
        let response = app
            .send_json(Method::PATCH, &path, Some(&editor.token), &body)
            .await;
        assert_eq!(response.status(), 200, "{body}");
        assert_eq!(response.headers()["etag"], "\"v1\"");
        let after: Value = response.json().await.unwrap();
        assert_eq!(after["version"], 1, "{body}");
        assert_eq!(after["updated_at"], article["updated_at"], "{body}");
    }
    let revisions: Value = app
        .get(&format!("{path}/revisions"), Some(&editor.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(revisions["data"], json!([]));
    assert_eq!(
        app.get(&path, None).await.bytes().await.unwrap(),
        public_before
    );
    let stale = app
        .request(Method::PATCH, &path, Some(&editor.token))
        .header("If-Match", "\"v0\"")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);
}

backend_tests!(
    a_patch_that_changes_nothing_writes_nothing,
    stale_writes_are_refused,
    of_two_concurrent_writers_exactly_one_wins,
    every_change_keeps_a_revision,
    the_trash_hides_and_restores,
    old_trash_is_purged,
);
