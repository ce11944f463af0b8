//! Live blogs and breaking news: a live article's entries (newest first, key events, one
//! pinned, `since` polling), who may write them, what they change on the article, and the
//! breaking-news list with its expiry.

use chrono::{Duration, Utc};
use newsroom::domain::Role;
use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::events::Sse;
use crate::helpers::{assert_problem, error_fields, sleep_past, spawn_app, Backend, TestApp};

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

fn entries_path(article: i64) -> String {
    format!("/api/v1/articles/{article}/entries")
}

async fn post_entry(app: &TestApp, article: i64, token: &str, body: Value) -> Response {
    app.send_json(Method::POST, &entries_path(article), Some(token), &body)
        .await
}

/// An entry that must be created.
async fn entry(app: &TestApp, article: i64, token: &str, body: Value) -> Value {
    let response = post_entry(app, article, token, body.clone()).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, 201, "POST entry {body}: {text}");
    serde_json::from_str(&text).unwrap()
}

async fn page(app: &TestApp, path: &str, token: Option<&str>) -> Value {
    let response = app.get(path, token).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

fn ids(list: &Value) -> Vec<i64> {
    list["data"].as_array().unwrap().iter().map(id).collect()
}

/// A published live article by `token`.
async fn live_article(app: &TestApp, token: &str, extra: Value) -> Value {
    let mut body = json!({"format": "live"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    app.published(token, "Election night live", body).await
}

async fn patch(app: &TestApp, path: &str, token: &str, body: Value) -> Response {
    app.send_json(Method::PATCH, path, Some(token), &body).await
}

async fn entries_are_newest_first_with_one_pinned_and_key_events(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let article = live_article(&app, &editor.token, json!({})).await;
    assert_eq!(article["format"], "live");
    assert_eq!(article["live"]["state"], "live");
    assert!(article["live"]["started_at"].is_string());
    let a = id(&article);
    let mut made = Vec::new();
    for n in 0..5 {
        let at = Utc::now() - Duration::minutes(50 - n * 10);
        let e = entry(
            &app,
            a,
            &editor.token,
            json!({"body": format!("<p>Update {n}</p><script>x()</script>"), "title": format!("Update {n}"),
                   "key_event": n % 2 == 0, "published_at": at.to_rfc3339()}),
        )
        .await;
        assert!(!e["body"].as_str().unwrap().contains("script"));
        assert_eq!(e["version"], 1);
        made.push(id(&e));
    }
    let newest_first: Vec<i64> = made.iter().rev().copied().collect();
    let list = page(&app, &entries_path(a), None).await;
    assert_eq!(ids(&list), newest_first);
    assert_eq!(list["pinned"], Value::Null);
    // A page at a time, by cursor.
    let first = page(&app, &format!("{}?limit=2", entries_path(a)), None).await;
    assert_eq!(ids(&first), newest_first[..2]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = page(
        &app,
        &format!("{}?limit=2&cursor={cursor}", entries_path(a)),
        None,
    )
    .await;
    assert_eq!(ids(&second), newest_first[2..4]);
    // Key events only.
    let keys = page(&app, &format!("{}?key_events=true", entries_path(a)), None).await;
    assert_eq!(ids(&keys), [made[4], made[2], made[0]]);
    // Pinning one, then another: one pinned at a time, apart from the list.
    let pin = |n: usize| {
        let path = format!("{}/{}", entries_path(a), made[n]);
        let token = editor.token.clone();
        let app = &app;
        async move {
            let response = patch(app, &path, &token, json!({"pinned": true})).await;
            assert_eq!(response.status(), 200);
        }
    };
    pin(1).await;
    let list = page(&app, &entries_path(a), None).await;
    assert_eq!(id(&list["pinned"]), made[1]);
    assert!(!ids(&list).contains(&made[1]));
    pin(3).await;
    let list = page(&app, &entries_path(a), None).await;
    assert_eq!(id(&list["pinned"]), made[3]);
    assert_eq!(ids(&list), [made[4], made[2], made[1], made[0]]);
    let one = page(&app, &format!("{}/{}", entries_path(a), made[1]), None).await;
    assert_eq!(one["pinned"], false);
}

async fn since_polls_only_what_is_new(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let a = id(&live_article(&app, &editor.token, json!({})).await);
    let first = id(&entry(&app, a, &editor.token, json!({"body": "<p>One</p>"})).await);
    let second = id(&entry(&app, a, &editor.token, json!({"body": "<p>Two</p>"})).await);
    let poll = format!("{}?since={second}", entries_path(a));
    let response = app.get(&poll, None).await;
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let nothing: Value = response.json().await.unwrap();
    assert_eq!(ids(&nothing), Vec::<i64>::new());
    let unchanged = app
        .request(Method::GET, &poll, None)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), 304);
    // A backdated entry added later is new to a poller too.
    let earlier = (Utc::now() - Duration::hours(1)).to_rfc3339();
    let third = id(&entry(
        &app,
        a,
        &editor.token,
        json!({"body": "<p>Three</p>", "published_at": earlier}),
    )
    .await);
    let fourth = id(&entry(&app, a, &editor.token, json!({"body": "<p>Four</p>"})).await);
    let changed = app
        .request(Method::GET, &poll, None)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    let new: Value = changed.json().await.unwrap();
    assert_eq!(ids(&new), [fourth, third]);
    // An empty `since` is none; one that is no id is refused.
    assert_eq!(
        ids(&page(&app, &format!("{}?since=", entries_path(a)), None).await).len(),
        4
    );
    assert_problem(
        app.get(&format!("{}?since=x", entries_path(a)), None).await,
        400,
    )
    .await;
    let all = page(&app, &format!("{}?since={first}", entries_path(a)), None).await;
    assert_eq!(ids(&all), [fourth, second, third]);
}

async fn entries_follow_the_article_and_its_rules(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let author = app.user(Role::Author).await;
    let other = app.user(Role::Author).await;
    let a = id(&live_article(&app, &editor.token, json!({"author_ids": [author.id]})).await);
    // Its author writes entries; another author may not (403), the public never (401).
    let e = entry(
        &app,
        a,
        &author.token,
        json!({"body": "<p>From the scene</p>"}),
    )
    .await;
    assert_problem(
        post_entry(&app, a, &other.token, json!({"body": "<p>x</p>"})).await,
        403,
    )
    .await;
    assert_problem(
        app.send_json(
            Method::POST,
            &entries_path(a),
            None,
            &json!({"body": "<p>x</p>"}),
        )
        .await,
        401,
    )
    .await;
    // An entry changes the article's version, `updated_at` and ETag.
    let before = page(&app, &format!("/api/v1/articles/{a}"), Some(&editor.token)).await;
    entry(&app, a, &author.token, json!({"body": "<p>More</p>"})).await;
    let after = app
        .get(&format!("/api/v1/articles/{a}"), Some(&editor.token))
        .await;
    assert_eq!(
        after.headers()["etag"].to_str().unwrap(),
        format!("\"v{}\"", before["version"].as_i64().unwrap() + 1)
    );
    let after: Value = after.json().await.unwrap();
    assert_ne!(after["updated_at"], before["updated_at"]);
    // If-Match and version on an entry.
    let path = format!("{}/{}", entries_path(a), id(&e));
    let staff = app.get(&path, Some(&author.token)).await;
    assert_eq!(staff.headers()["etag"], "\"v1\"");
    let response = app
        .request(Method::PATCH, &path, Some(&author.token))
        .header("If-Match", "\"v1\"")
        .json(&json!({"title": "From the scene", "key_event": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["etag"], "\"v2\"");
    let stale = app
        .request(Method::PATCH, &path, Some(&author.token))
        .header("If-Match", "\"v1\"")
        .json(&json!({"title": "Lost"}))
        .send()
        .await
        .unwrap();
    assert_problem(stale, 412).await;
    assert_problem(
        patch(
            &app,
            &path,
            &author.token,
            json!({"title": "Lost", "version": 1}),
        )
        .await,
        409,
    )
    .await;
    // The state replaced is kept.
    let revisions = page(&app, &format!("{path}/revisions"), Some(&author.token)).await;
    assert_eq!(revisions["data"].as_array().unwrap().len(), 1);
    assert_eq!(revisions["data"][0]["revision"], 1);
    assert_eq!(revisions["data"][0]["title"], Value::Null);
    assert_eq!(revisions["data"][0]["key_event"], false);
    assert_problem(
        app.get(&format!("{path}/revisions"), Some(&other.token))
            .await,
        403,
    )
    .await;
    // Bad input names the field.
    for (bad, field) in [
        (json!({"body": ""}), "body"),
        (
            json!({"body": "<p>x</p>", "published_at": (Utc::now() + Duration::hours(1)).to_rfc3339()}),
            "published_at",
        ),
        (
            json!({"body": "<p>x</p>", "title": "x".repeat(301)}),
            "title",
        ),
    ] {
        let problem =
            assert_problem(post_entry(&app, a, &editor.token, bad.clone()).await, 422).await;
        assert_eq!(error_fields(&problem), [field], "{bad}");
    }
    // A standard article has none; a draft's are hidden from the public like the draft.
    let standard = id(&app.published(&editor.token, "Plain", json!({})).await);
    assert_problem(
        post_entry(&app, standard, &editor.token, json!({"body": "<p>x</p>"})).await,
        409,
    )
    .await;
    let draft = id(&app
        .create(
            "/api/v1/articles",
            &editor.token,
            json!({"title": "Live draft", "body": "<p>x</p>", "format": "live"}),
        )
        .await);
    let hidden = entry(
        &app,
        draft,
        &editor.token,
        json!({"body": "<p>Not yet</p>"}),
    )
    .await;
    assert_problem(app.get(&entries_path(draft), None).await, 404).await;
    assert_problem(
        app.get(&format!("{}/{}", entries_path(draft), id(&hidden)), None)
            .await,
        404,
    )
    .await;
    assert_problem(app.get(&entries_path(draft), Some(&other.token)).await, 404).await;
    assert_eq!(
        ids(&page(&app, &entries_path(draft), Some(&editor.token)).await),
        [id(&hidden)]
    );
    // An entry of another article is not found under this one.
    assert_problem(
        app.get(
            &format!("{}/{}", entries_path(a), id(&hidden)),
            Some(&editor.token),
        )
        .await,
        404,
    )
    .await;
    // Ending the blog: no new entries (409) until it is opened again; the feed card says so.
    let response = patch(
        &app,
        &format!("/api/v1/articles/{a}"),
        &editor.token,
        json!({"live": {"state": "ended"}}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let ended: Value = response.json().await.unwrap();
    assert_eq!(ended["live"]["state"], "ended");
    assert!(ended["live"]["ended_at"].is_string());
    assert_problem(
        post_entry(&app, a, &author.token, json!({"body": "<p>x</p>"})).await,
        409,
    )
    .await;
    let feed = page(&app, "/api/v1/articles", None).await;
    let card = feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| id(c) == a)
        .unwrap()
        .clone();
    assert_eq!(card["live"]["state"], "ended");
    assert_problem(
        patch(
            &app,
            &format!("/api/v1/articles/{standard}"),
            &editor.token,
            json!({"live": {"state": "ended"}}),
        )
        .await,
        422,
    )
    .await;
    // Deleting an entry.
    assert_eq!(app.delete(&path, Some(&author.token)).await.status(), 204);
    assert_problem(app.get(&path, None).await, 404).await;
}

/// Entries are on the event stream while the article is public, with the article's keys.
async fn entries_are_events(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let a = id(&live_article(&app, &editor.token, json!({})).await);
    let mut stream = Sse::open(&app, &app.address, None, None).await;
    let e = id(&entry(&app, a, &editor.token, json!({"body": "<p>One</p>"})).await);
    let path = format!("{}/{e}", entries_path(a));
    assert_eq!(
        patch(&app, &path, &editor.token, json!({"key_event": true}))
            .await
            .status(),
        200
    );
    assert_eq!(app.delete(&path, Some(&editor.token)).await.status(), 204);
    let mut seen = Vec::new();
    while let Some((_, event, data)) = stream.next(std::time::Duration::from_secs(5)).await {
        assert_eq!(data["entry"]["id"], e);
        assert_eq!(data["article"]["id"], a);
        seen.push((event, data["changed"].clone()));
        if seen.len() == 3 {
            break;
        }
    }
    assert_eq!(
        seen,
        [
            ("entry.created".to_owned(), Value::Null),
            ("entry.updated".to_owned(), json!(["key_event"])),
            ("entry.deleted".to_owned(), Value::Null)
        ]
    );
    let list = app.get(&entries_path(a), None).await;
    let keys = list.headers()["surrogate-key"].to_str().unwrap().to_owned();
    assert!(
        keys.split(' ').any(|k| k == format!("article-{a}")),
        "{keys}"
    );
}

async fn breaking_news_is_listed_until_it_ends(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let author = app.user(Role::Author).await;
    let mut stream = Sse::open(&app, &app.address, None, None).await;
    let until = Utc::now() + Duration::seconds(3);
    let soon = id(&app
        .published(
            &editor.token,
            "Quake hits the capital",
            json!({"breaking": true, "breaking_until": until.to_rfc3339()}),
        )
        .await);
    let later = id(&app
        .published(&editor.token, "Minister resigns", json!({}))
        .await);
    let response = patch(
        &app,
        &format!("/api/v1/articles/{later}"),
        &editor.token,
        json!({"breaking": true}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let marked: Value = response.json().await.unwrap();
    let six_hours = Utc::now() + Duration::hours(6);
    let ends =
        chrono::DateTime::parse_from_rfc3339(marked["breaking_until"].as_str().unwrap()).unwrap();
    assert!((ends.with_timezone(&Utc) - six_hours).num_seconds().abs() < 60);
    // A draft marked breaking is not listed.
    app.create(
        "/api/v1/articles",
        &editor.token,
        json!({"title": "Draft alert", "body": "<p>x</p>", "breaking": true}),
    )
    .await;
    // Authors may not mark breaking news.
    let own = id(&app
        .create(
            "/api/v1/articles",
            &author.token,
            json!({"title": "Mine", "body": "<p>x</p>"}),
        )
        .await);
    assert_problem(
        patch(
            &app,
            &format!("/api/v1/articles/{own}"),
            &author.token,
            json!({"breaking": true}),
        )
        .await,
        403,
    )
    .await;
    assert_problem(
        patch(
            &app,
            &format!("/api/v1/articles/{later}"),
            &editor.token,
            json!({"breaking_until": (Utc::now() - Duration::hours(1)).to_rfc3339()}),
        )
        .await,
        422,
    )
    .await;
    let list = page(&app, "/api/v1/breaking", None).await;
    assert_eq!(ids(&list), [later, soon]);
    assert!(list["data"][0]["breaking_at"].is_string());
    assert_eq!(
        app.get("/api/v1/breaking", None).await.headers()["x-cache"],
        "hit"
    );
    let mut breaking = Vec::new();
    while let Some((_, event, data)) = stream.next(std::time::Duration::from_secs(3)).await {
        if event == "article.breaking" {
            breaking.push(id(&data["article"]));
        }
        if breaking.len() == 2 {
            break;
        }
    }
    assert_eq!(breaking, [soon, later]);
    // The first ends by itself; the second is unmarked.
    sleep_past(until).await;
    assert_eq!(ids(&page(&app, "/api/v1/breaking", None).await), [later]);
    assert_eq!(
        patch(
            &app,
            &format!("/api/v1/articles/{later}"),
            &editor.token,
            json!({"breaking": false})
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        ids(&page(&app, "/api/v1/breaking", None).await),
        Vec::<i64>::new()
    );
    // At most five, the most recently marked first.
    let mut marked = Vec::new();
    for n in 0..7 {
        marked.push(id(&app
            .published(
                &editor.token,
                &format!("Alert {n}"),
                json!({"breaking": true}),
            )
            .await));
    }
    let list = page(&app, "/api/v1/breaking", None).await;
    assert_eq!(
        ids(&list),
        marked.iter().rev().take(5).copied().collect::<Vec<_>>()
    );
}

backend_tests!(
    entries_are_newest_first_with_one_pinned_and_key_events,
    since_polls_only_what_is_new,
    entries_follow_the_article_and_its_rules,
    entries_are_events,
    breaking_news_is_listed_until_it_ends,
);
