//! Articles: the editorial workflow, visibility, validation, slugs and redirects.

use newsroom::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, error_fields, spawn_app, spawn_app_with, Backend};

async fn authors_write_drafts_and_editors_publish(backend: Backend) {
    let app = spawn_app(backend).await;
    let author = app.user(Role::Author).await;
    let editor = app.user(Role::Editor).await;
    let topic = app.topic(&editor.token, "Tajikistan", None).await;

    let response = app
        .send_json(
            Method::POST,
            "/api/v1/articles",
            Some(&author.token),
            &json!({"title": "Floods hit the Rasht valley", "body": "<p>Heavy rain swelled mountain rivers.</p>",
                    "summary": "Roads are cut off.", "topic_ids": [topic["id"]], "primary_topic_id": topic["id"],
                    "language": "en", "source": "Asia-Plus",
                    "cover_image": {"url": "https://images.example/rasht.jpg", "alt": "A flooded road"},
                    "seo": {"title": "Rasht floods"}}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let draft: Value = response.json().await.unwrap();
    assert_eq!(location, format!("/api/v1/articles/{}", draft["id"]));
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["slug"], "floods-hit-the-rasht-valley");
    assert_eq!(draft["version"], 1);
    assert_eq!(draft["authors"][0]["id"], author.id);
    assert_eq!(draft["primary_topic"]["slug"], "tajikistan");
    assert_eq!(draft["cover_image"]["alt"], "A flooded road");
    assert_eq!(draft["cover_image"]["caption"], Value::Null);
    assert_eq!(draft["seo"]["title"], "Rasht floods");
    assert_eq!(draft["word_count"], 5);
    assert_eq!(draft["reading_time_minutes"], 1);
    assert_eq!(draft["published_at"], Value::Null);

    // The public cannot see a draft; its author and editors can.
    assert_problem(app.get(&location, None).await, 404).await;
    assert_eq!(app.get(&location, Some(&author.token)).await.status(), 200);
    assert_eq!(app.get(&location, Some(&editor.token)).await.status(), 200);
    let stranger = app.user(Role::Author).await;
    assert_problem(app.get(&location, Some(&stranger.token)).await, 404).await;

    // Authors may not publish; submitting for review is fine.
    for status in ["published", "scheduled", "archived"] {
        let response = app
            .send_json(
                Method::PATCH,
                &location,
                Some(&author.token),
                &json!({"status": status}),
            )
            .await;
        assert_problem(response, 403).await;
    }
    let published_by_author = app
        .send_json(
            Method::POST,
            "/api/v1/articles",
            Some(&author.token),
            &json!({"title": "T", "body": "b", "status": "published"}),
        )
        .await;
    assert_problem(published_by_author, 403).await;
    let review = app
        .send_json(
            Method::PATCH,
            &location,
            Some(&author.token),
            &json!({"status": "review"}),
        )
        .await;
    let review: Value = review.json().await.unwrap();
    assert_eq!(review["status"], "review");
    assert_eq!(review["version"], 2);
    assert_ne!(review["updated_at"], draft["updated_at"]);

    // Others' drafts are invisible to authors (404); editors publish.
    let foreign = app
        .send_json(
            Method::PATCH,
            &location,
            Some(&stranger.token),
            &json!({"title": "Mine now"}),
        )
        .await;
    assert_problem(foreign, 404).await;
    let published = app
        .send_json(
            Method::PATCH,
            &location,
            Some(&editor.token),
            &json!({"status": "published"}),
        )
        .await;
    let published: Value = published.json().await.unwrap();
    assert_eq!(published["status"], "published");
    assert_eq!(published["version"], 3);
    assert!(published["published_at"].as_str().unwrap().ends_with('Z'));
    let public: Value = app.get(&location, None).await.json().await.unwrap();
    assert_eq!(public["body"], "<p>Heavy rain swelled mountain rivers.</p>");

    // A published article is out of its author's hands, and others' are read-only.
    let late_edit = app
        .send_json(
            Method::PATCH,
            &location,
            Some(&author.token),
            &json!({"title": "Changed"}),
        )
        .await;
    assert_problem(late_edit, 403).await;
    let foreign_edit = app
        .send_json(
            Method::PATCH,
            &location,
            Some(&stranger.token),
            &json!({"title": "Changed"}),
        )
        .await;
    assert_problem(foreign_edit, 403).await;
    assert_problem(app.delete(&location, Some(&author.token)).await, 403).await;
    assert_problem(app.delete(&location, None).await, 401).await;
    assert_eq!(
        app.delete(&location, Some(&editor.token)).await.status(),
        204
    );
    assert_problem(app.get(&location, None).await, 404).await;
    let trashed: Value = app
        .get(&location, Some(&editor.token))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        trashed["trashed_at"].is_string(),
        "staff still see it, in the trash"
    );
}

async fn authors_delete_their_own_drafts_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let author = app.user(Role::Author).await;
    let other = app.user(Role::Author).await;
    let draft = app
        .create(
            "/api/v1/articles",
            &author.token,
            json!({"title": "Notes", "body": "<p>x</p>"}),
        )
        .await;
    let path = format!("/api/v1/articles/{}", draft["id"]);
    assert_problem(app.delete(&path, Some(&other.token)).await, 404).await;
    assert_eq!(app.delete(&path, Some(&author.token)).await.status(), 204);
    assert_eq!(
        app.delete(&path, Some(&author.token)).await.status(),
        204,
        "idempotent"
    );
    assert_problem(app.delete(&path, Some(&other.token)).await, 404).await;
}

async fn scheduled_articles_appear_at_their_time(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let past = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let too_early = app
        .send_json(
            Method::POST,
            "/api/v1/articles",
            Some(&editor.token),
            &json!({"title": "T", "body": "b", "status": "scheduled", "published_at": past}),
        )
        .await;
    assert_eq!(
        error_fields(&assert_problem(too_early, 422).await),
        ["published_at"]
    );
    let missing = app
        .send_json(
            Method::POST,
            "/api/v1/articles",
            Some(&editor.token),
            &json!({"title": "T", "body": "b", "status": "scheduled"}),
        )
        .await;
    assert_eq!(
        error_fields(&assert_problem(missing, 422).await),
        ["published_at"]
    );

    let at = chrono::Utc::now() + chrono::Duration::milliseconds(3000);
    let scheduled = app
        .create("/api/v1/articles", &editor.token, json!({"title": "Treaty enters into force", "body": "<p>Today.</p>", "status": "scheduled", "published_at": at.to_rfc3339()}))
        .await;
    assert_eq!(scheduled["status"], "scheduled");
    let path = format!("/api/v1/articles/{}", scheduled["slug"].as_str().unwrap());
    assert_problem(app.get(&path, None).await, 404).await;
    assert!(app
        .all_ids("/api/v1/articles?limit=10", None)
        .await
        .is_empty());
    let staff = app
        .all_ids("/api/v1/articles?status=scheduled", Some(&editor.token))
        .await;
    assert_eq!(staff, [scheduled["id"].as_i64().unwrap()]);

    crate::helpers::sleep_past(at).await;
    let public: Value = app.get(&path, None).await.json().await.unwrap();
    assert_eq!(public["status"], "published");
    assert_eq!(
        app.all_ids("/api/v1/articles?limit=10", None).await,
        [scheduled["id"].as_i64().unwrap()]
    );
    assert!(app
        .all_ids("/api/v1/articles?status=scheduled", Some(&editor.token))
        .await
        .is_empty());
}

async fn bodies_are_sanitised(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let body = r#"<p onclick="steal()">Text <a href="javascript:alert(1)">bad</a> <a href="https://example.com/x">good</a></p>
<script>alert('x')</script><img src="https://i.example/a.jpg" onerror="alert(1)" alt="A">
<figure><img src="https://i.example/b.jpg" alt="B"><figcaption>Caption</figcaption></figure>
<table><tr><th>Year</th></tr><tr><td>2026</td></tr></table><iframe src="javascript:alert(1)"></iframe>"#;
    let article = app
        .published(&editor.token, "Sanitised", json!({"body": body}))
        .await;
    let stored = article["body"].as_str().unwrap();
    for gone in ["onclick", "javascript:", "<script", "onerror", "alert("] {
        assert!(!stored.contains(gone), "{gone} survived in {stored}");
    }
    for kept in [
        "<a href=\"https://example.com/x\"",
        "<figure>",
        "<figcaption>Caption</figcaption>",
        "<table>",
        "<th>Year</th>",
        "alt=\"A\"",
    ] {
        assert!(stored.contains(kept), "{kept} lost from {stored}");
    }
}

async fn slugs_are_unique_and_former_slugs_redirect(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let token = Some(editor.token.as_str());
    let first = app
        .published(
            &editor.token,
            "Таджикистан и Кыргызстан подписали договор",
            json!({}),
        )
        .await;
    assert_eq!(first["slug"], "tadzhikistan-i-kyrgyzstan-podpisali-dogovor");
    let second = app
        .published(
            &editor.token,
            "Таджикистан и Кыргызстан подписали договор",
            json!({}),
        )
        .await;
    assert_eq!(
        second["slug"],
        "tadzhikistan-i-kyrgyzstan-podpisali-dogovor-2"
    );
    let numeric = app.published(&editor.token, "2026", json!({})).await;
    assert!(numeric["slug"]
        .as_str()
        .unwrap()
        .chars()
        .any(|c| c.is_ascii_alphabetic()));

    let taken = app
        .send_json(
            Method::POST,
            "/api/v1/articles",
            token,
            &json!({"title": "T", "body": "b", "slug": first["slug"]}),
        )
        .await;
    assert_problem(taken, 409).await;
    let digits = app
        .send_json(
            Method::POST,
            "/api/v1/articles",
            token,
            &json!({"title": "T", "body": "b", "slug": "12345"}),
        )
        .await;
    assert_eq!(error_fields(&assert_problem(digits, 422).await), ["slug"]);

    let path = format!("/api/v1/articles/{}", first["id"]);
    let renamed = app
        .send_json(
            Method::PATCH,
            &path,
            token,
            &json!({"slug": "border-treaty"}),
        )
        .await;
    assert_eq!(renamed.status(), 200);
    let redirect = app
        .get(
            "/api/v1/articles/tadzhikistan-i-kyrgyzstan-podpisali-dogovor",
            None,
        )
        .await;
    assert_eq!(redirect.status(), 301);
    assert_eq!(
        redirect.headers()["location"],
        "/api/v1/articles/border-treaty"
    );
    let current: Value = app
        .get("/api/v1/articles/border-treaty", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(current["id"], first["id"]);
    // The former slug stays reserved for its article, which may take it back.
    let reuse = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/articles/{}", second["id"]),
            token,
            &json!({"slug": "tadzhikistan-i-kyrgyzstan-podpisali-dogovor"}),
        )
        .await;
    assert_problem(reuse, 409).await;
    let back = app
        .send_json(
            Method::PATCH,
            &path,
            token,
            &json!({"slug": "tadzhikistan-i-kyrgyzstan-podpisali-dogovor"}),
        )
        .await;
    assert_eq!(back.status(), 200);
    assert_eq!(
        app.get(
            "/api/v1/articles/tadzhikistan-i-kyrgyzstan-podpisali-dogovor",
            None
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        app.get("/api/v1/articles/border-treaty", None)
            .await
            .status(),
        301
    );
}

async fn article_input_is_validated(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.body_limit = 4 << 20).await;
    let editor = app.user(Role::Editor).await;
    let token = Some(editor.token.as_str());
    let topic = app.topic(&editor.token, "Energy", None).await;
    let other = app.topic(&editor.token, "Politics", None).await;
    let cases = [
        (json!({"title": "", "body": "b"}), vec!["title"]),
        (
            json!({"title": "x".repeat(301), "body": "b"}),
            vec!["title"],
        ),
        (
            json!({"title": "T", "body": "x".repeat((1 << 20) + 1)}),
            vec!["body"],
        ),
        (
            json!({"title": "T", "body": "b", "topic_ids": [topic["id"], 9999]}),
            vec!["topic_ids[1]"],
        ),
        (
            json!({"title": "T", "body": "b", "author_ids": [9999]}),
            vec!["author_ids[0]"],
        ),
        (
            json!({"title": "T", "body": "b", "topic_ids": [topic["id"]], "primary_topic_id": other["id"]}),
            vec!["primary_topic_id"],
        ),
        (
            json!({"title": "T", "body": "b", "language": "english"}),
            vec!["language"],
        ),
        (
            json!({"title": "T", "body": "b", "cover_image": {"url": "ftp://x"}}),
            vec!["cover_image.url"],
        ),
        (
            json!({"title": "T", "body": "b", "seo": {"canonical_url": "javascript:x"}}),
            vec!["seo.canonical_url"],
        ),
        (
            json!({"title": "T", "body": "b", "status": "live"}),
            vec!["status"],
        ),
        (
            json!({"title": "T", "body": "b", "published_at": "yesterday"}),
            vec!["published_at"],
        ),
        (json!({"body": "b"}), vec!["title"]),
        (
            json!({"title": "", "body": "b", "language": "?"}),
            vec!["title", "language"],
        ),
    ];
    for (body, fields) in cases {
        let response = app
            .send_json(Method::POST, "/api/v1/articles", token, &body)
            .await;
        let mut got = error_fields(&assert_problem(response, 422).await);
        got.sort();
        let mut want: Vec<String> = fields.into_iter().map(String::from).collect();
        want.sort();
        assert_eq!(
            got,
            want,
            "{}",
            &body.to_string()[..body.to_string().len().min(120)]
        );
    }
    // The byline defaults to the caller, but an author cannot leave their own article.
    let author = app.user(Role::Author).await;
    let without_me = app
        .send_json(
            Method::POST,
            "/api/v1/articles",
            Some(&author.token),
            &json!({"title": "T", "body": "b", "author_ids": [editor.id]}),
        )
        .await;
    assert_eq!(
        error_fields(&assert_problem(without_me, 422).await),
        ["author_ids"]
    );
    let by_editor = app
        .create(
            "/api/v1/articles",
            &editor.token,
            json!({"title": "T", "body": "b", "author_ids": [author.id, editor.id]}),
        )
        .await;
    let names: Vec<i64> = by_editor["authors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert_eq!(names, [i64::from(author.id), i64::from(editor.id)]);
}

/// Past the numbered forms looked up one by one, a namesake still gets the next free slug.
async fn many_namesakes_get_the_next_free_slugs(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let mut slugs = Vec::new();
    for _ in 0..23 {
        let article = app.published(&editor.token, "Weather", json!({})).await;
        slugs.push(article["slug"].as_str().unwrap().to_owned());
    }
    let expected: Vec<String> = std::iter::once("weather".to_owned())
        .chain((2..=23).map(|n| format!("weather-{n}")))
        .collect();
    assert_eq!(slugs, expected);
}

backend_tests!(
    many_namesakes_get_the_next_free_slugs,
    authors_write_drafts_and_editors_publish,
    authors_delete_their_own_drafts_only,
    scheduled_articles_appear_at_their_time,
    bodies_are_sanitised,
    slugs_are_unique_and_former_slugs_redirect,
    article_input_is_validated,
);
