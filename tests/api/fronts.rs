//! Fronts: editors curate sections, the public read resolves them against what is public now
//! (never a draft, never a hole, never one article twice), pinned items leave at their time,
//! and writes are guarded by `If-Match`.

use chrono::{Duration, Utc};
use newsroom::domain::Role;
use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::events::Sse;
use crate::helpers::{assert_problem, error_fields, sleep_past, spawn_app, Backend, TestApp};

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

async fn put(app: &TestApp, slug: &str, token: Option<&str>, body: &Value) -> Response {
    app.send_json(Method::PUT, &format!("/api/v1/fronts/{slug}"), token, body)
        .await
}

/// A PUT that must succeed (`status`); the front after it and its ETag.
async fn put_ok(
    app: &TestApp,
    slug: &str,
    token: &str,
    body: Value,
    status: u16,
) -> (Value, String) {
    let response = put(app, slug, Some(token), &body).await;
    let code = response.status();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = response.text().await.unwrap();
    assert_eq!(code, status, "PUT {slug} {body}: {text}");
    (serde_json::from_str(&text).unwrap(), etag)
}

/// A PATCH of an article that must succeed.
async fn patch_ok(app: &TestApp, id: i64, token: &str, body: Value) {
    let path = format!("/api/v1/articles/{id}");
    let response = app
        .send_json(Method::PATCH, &path, Some(token), &body)
        .await;
    assert_eq!(response.status(), 200, "PATCH {path} {body}");
}

/// The status of a conditional read of `path` with `etag`.
async fn revalidate(app: &TestApp, path: &str, etag: &str) -> u16 {
    let response = app
        .request(Method::GET, path, None)
        .header("If-None-Match", etag)
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

/// The public read of a front.
async fn public(app: &TestApp, slug: &str) -> Value {
    let response = app.get(&format!("/api/v1/fronts/{slug}"), None).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Each section's item ids, and whether each was curated.
fn shown(front: &Value) -> Vec<Vec<(i64, bool)>> {
    front["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    (
                        i["article_id"].as_i64().unwrap(),
                        i["curated"].as_bool().unwrap(),
                    )
                })
                .collect()
        })
        .collect()
}

async fn publish_at(app: &TestApp, token: &str, title: &str, hours_ago: i64, extra: Value) -> i64 {
    let at = Utc::now() - Duration::hours(hours_ago);
    let mut body = json!({"published_at": at.to_rfc3339()});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    id(&app.published(token, title, body).await)
}

async fn a_front_shows_public_curated_items_then_fills_without_repeats(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let asia = id(&app.topic(&editor.token, "Central Asia", None).await);
    let tajikistan = id(&app.topic(&editor.token, "Tajikistan", Some(asia)).await);
    let lead = publish_at(&app, &editor.token, "Lead story", 10, json!({})).await;
    let draft = id(&app
        .create(
            "/api/v1/articles",
            &editor.token,
            json!({"title": "Secret draft", "body": "<p>x</p>"}),
        )
        .await);
    let newest = publish_at(&app, &editor.token, "Newest", 1, json!({})).await;
    let in_asia = publish_at(
        &app,
        &editor.token,
        "In Dushanbe",
        2,
        json!({"topic_ids": [tajikistan]}),
    )
    .await;
    let russian = publish_at(
        &app,
        &editor.token,
        "По-русски",
        3,
        json!({"language": "ru", "topic_ids": [asia]}),
    )
    .await;
    let older = publish_at(&app, &editor.token, "Older", 4, json!({})).await;
    let front = json!({"title": "Home", "sections": [
        {"key": "lead", "title": "Top story", "max_items": 2, "items": [
            {"article_id": draft, "headline": "Never shown"},
            {"article_id": lead, "headline": "The lead, as the front says it", "summary": "Front summary",
             "kicker": "Exclusive", "image": {"url": "https://img.example/lead.jpg", "alt": "Lead"}}]},
        {"key": "latest", "title": "Latest", "max_items": 2, "fill": {}},
        {"key": "asia", "title": "Central Asia", "max_items": 5, "fill": {"topic": "central-asia"}},
        {"key": "russian", "title": "По-русски", "max_items": 3, "items": [{"article_id": russian}],
         "fill": {"language": "ru"}},
    ]});
    put_ok(&app, "home", &editor.token, front, 201).await;
    let read = public(&app, "home").await;
    assert_eq!(
        shown(&read),
        vec![
            vec![(lead, true)],
            // The newest two, but not the lead (curated in the front).
            vec![(newest, false), (in_asia, false)],
            // Descendants included; what showed above does not show again, and the Russian
            // article curated below is reserved for its own section.
            vec![],
            vec![(russian, true)],
        ]
    );
    let item = &read["sections"][0]["items"][0];
    assert_eq!(item["title"], "The lead, as the front says it");
    assert_eq!(item["summary"], "Front summary");
    assert_eq!(item["kicker"], "Exclusive");
    assert_eq!(item["cover_image"]["url"], "https://img.example/lead.jpg");
    assert_eq!(item["id"], lead);
    assert_eq!(item["slug"], "lead-story");
    let filled = &read["sections"][1]["items"][0];
    assert_eq!(filled["title"], "Newest");
    assert_eq!(filled["kicker"], Value::Null);
    assert_eq!(read["sections"][2]["fill"]["topic"], "central-asia");
    let text = read.to_string();
    assert!(!text.contains("Secret draft") && !text.contains("Never shown"));
    assert!(read.get("updated_by").is_none());

    // The draft published: it takes its curated place, and the lead moves to the fill's view.
    patch_ok(&app, draft, &editor.token, json!({"status": "published"})).await;
    let read = public(&app, "home").await;
    assert_eq!(shown(&read)[0], vec![(draft, true), (lead, true)]);
    assert_eq!(read["sections"][0]["items"][0]["title"], "Never shown");
    // The newest article is the draft just published (published_at now): it is curated above,
    // so the fill passes over it.
    assert_eq!(shown(&read)[1], vec![(newest, false), (in_asia, false)]);
    // A larger fill shows the rest, newest first, none twice.
    let front = json!({"title": "Home", "sections": [
        {"key": "all", "title": "All", "max_items": 50, "fill": {}},
        {"key": "again", "title": "Again", "max_items": 50, "fill": {}},
    ]});
    put_ok(&app, "all", &editor.token, front, 201).await;
    let read = public(&app, "all").await;
    assert_eq!(
        shown(&read),
        vec![
            vec![
                (draft, false),
                (newest, false),
                (in_asia, false),
                (russian, false),
                (older, false),
                (lead, false)
            ],
            vec![]
        ]
    );
}

async fn writing_a_front_is_for_editors_and_guarded_by_if_match(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let other = app.user(Role::Admin).await;
    let author = app.user(Role::Author).await;
    let story = publish_at(&app, &editor.token, "Story", 1, json!({})).await;
    let body = json!({"title": "Home", "sections": [
        {"key": "lead", "title": "Lead", "max_items": 1, "items": [{"article_id": story}]}]});
    assert_problem(put(&app, "home", None, &body).await, 401).await;
    assert_problem(put(&app, "home", Some(&author.token), &body).await, 403).await;
    let (front, etag) = put_ok(&app, "home", &editor.token, body.clone(), 201).await;
    assert_eq!(front["version"], 1);
    assert_eq!(front["updated_by"], editor.id);
    assert_eq!(front["sections"][0]["items"][0]["article_id"], story);
    // The staff read is the front as written, with the same tag.
    let staff = app.get("/api/v1/fronts/home", Some(&author.token)).await;
    assert_eq!(staff.status(), 200);
    assert_eq!(staff.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(staff.headers()["cache-control"], "private, no-store");
    // Two editors from the same version: the second is refused.
    let (second, etag2) = {
        let response = app
            .request(Method::PUT, "/api/v1/fronts/home", Some(&other.token))
            .header("If-Match", &etag)
            .json(&json!({"title": "Home (1)", "sections": []}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        (response.json::<Value>().await.unwrap(), etag)
    };
    assert_eq!(second["version"], 2);
    assert_ne!(etag, etag2);
    let stale = app
        .request(Method::PUT, "/api/v1/fronts/home", Some(&editor.token))
        .header("If-Match", &etag)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_problem(stale, 412).await;
    let mut stale_version = body.clone();
    stale_version["version"] = json!(1);
    assert_problem(
        put(&app, "home", Some(&editor.token), &stale_version).await,
        409,
    )
    .await;
    let missing = app
        .request(Method::PUT, "/api/v1/fronts/nowhere", Some(&editor.token))
        .header("If-Match", "*")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_problem(missing, 412).await;
    assert_eq!(public(&app, "home").await["title"], "Home (1)");

    // Bad input names what is wrong, and changes nothing.
    for (bad, field) in [
        (
            json!({"title": "H", "sections": [{"key": "a", "title": "A", "max_items": 1,
            "items": [{"article_id": story}, {"article_id": 999999}]}]}),
            "sections[0].items[1].article_id",
        ),
        (
            json!({"title": "H", "sections": [{"key": "a", "title": "A", "max_items": 0}]}),
            "sections[0].max_items",
        ),
        (
            json!({"title": "H", "sections": [{"key": "a", "title": "A", "max_items": 51}]}),
            "sections[0].max_items",
        ),
        (
            json!({"title": "H", "sections": [{"key": "a", "title": "A", "max_items": 1},
            {"key": "a", "title": "B", "max_items": 1}]}),
            "sections[1].key",
        ),
        (
            json!({"title": "H", "sections": [{"key": "Not A Slug", "title": "A", "max_items": 1}]}),
            "sections[0].key",
        ),
        (json!({"title": " ", "sections": []}), "title"),
        (
            json!({"title": "H", "sections": [{"key": "a", "title": "A", "max_items": 2,
            "items": [{"article_id": story}, {"article_id": story}]}]}),
            "sections[0].items[1].article_id",
        ),
        (
            json!({"title": "H", "sections": [{"key": "a", "title": "A", "max_items": 1,
            "fill": {"topic": "no-such-topic"}}]}),
            "sections[0].fill.topic",
        ),
        (
            json!({"title": "H", "sections": [{"key": "a", "title": "A", "max_items": 1,
            "fill": {"author": 999999}}]}),
            "sections[0].fill.author",
        ),
        (
            json!({"title": "H", "sections": [{"key": "a", "title": "A", "max_items": 1,
            "fill": {"language": "not a language"}}]}),
            "sections[0].fill.language",
        ),
        (
            json!({"title": "H", "sections": [{"key": "a", "title": "A", "max_items": 1,
            "items": [{"article_id": story, "image": {"media_id": 999999}}]}]}),
            "sections[0].items[0].image.media_id",
        ),
        (
            json!({"title": "H", "sections": [{"key": "a", "title": "A", "max_items": 1,
            "items": [{"article_id": story, "pinned_until": "10000-01-01T00:00:00Z"}]}]}),
            "sections[0].items[0].pinned_until",
        ),
    ] {
        let problem = assert_problem(put(&app, "home", Some(&editor.token), &bad).await, 422).await;
        assert_eq!(error_fields(&problem), [field], "{bad}");
    }
    let sections: Vec<Value> = (0..51)
        .map(|n| json!({"key": format!("s{n}"), "title": "S", "max_items": 1}))
        .collect();
    let problem = assert_problem(
        put(
            &app,
            "home",
            Some(&editor.token),
            &json!({"title": "H", "sections": sections}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&problem), ["sections"]);
    assert_problem(
        put(
            &app,
            "home",
            Some(&editor.token),
            &json!({"title": "H", "sections": [], "extra": 1}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(public(&app, "home").await["version"], 2);

    // The list, a page at a time.
    for slug in ["b-front", "a-front"] {
        put_ok(
            &app,
            slug,
            &editor.token,
            json!({"title": slug, "sections": []}),
            201,
        )
        .await;
    }
    let page: Value = app
        .get("/api/v1/fronts?limit=2", None)
        .await
        .json()
        .await
        .unwrap();
    let slugs: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["a-front", "b-front"]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest: Value = app
        .get(&format!("/api/v1/fronts?limit=2&cursor={cursor}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["data"][0]["slug"], "home");
    assert_eq!(rest["next_cursor"], Value::Null);

    // Deleting: editors only, then it is gone.
    assert_problem(
        app.delete("/api/v1/fronts/home", Some(&author.token)).await,
        403,
    )
    .await;
    assert_eq!(
        app.delete("/api/v1/fronts/home", Some(&editor.token))
            .await
            .status(),
        204
    );
    assert_problem(app.get("/api/v1/fronts/home", None).await, 404).await;
    assert_problem(
        app.delete("/api/v1/fronts/home", Some(&editor.token)).await,
        404,
    )
    .await;
    assert_problem(app.get("/api/v1/fronts/NOT_A_SLUG", None).await, 404).await;
}

/// A pinned item leaves at its time, and a scheduled article joins at its own, with no write
/// in between and the public cache on: the cached front follows the clock.
async fn pins_and_schedules_move_the_front_at_their_time(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let pinned = publish_at(&app, &editor.token, "Pinned for now", 5, json!({})).await;
    let later = Utc::now() + Duration::seconds(3);
    let scheduled = publish_at(
        &app,
        &editor.token,
        "Comes at its time",
        0,
        json!({"published_at": later.to_rfc3339()}),
    )
    .await;
    let until = Utc::now() + Duration::seconds(2);
    let front = json!({"title": "Home", "sections": [{"key": "lead", "title": "Lead", "max_items": 3,
        "items": [{"article_id": scheduled}, {"article_id": pinned, "pinned_until": until.to_rfc3339()}]}]});
    put_ok(&app, "home", &editor.token, front, 201).await;
    let first = app.get("/api/v1/fronts/home", None).await;
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let keys = first.headers()["surrogate-key"]
        .to_str()
        .unwrap()
        .to_owned();
    for key in [
        "front-home".to_owned(),
        format!("article-{pinned}"),
        format!("article-{scheduled}"),
    ] {
        assert!(keys.split(' ').any(|k| k == key), "{key} not in {keys}");
    }
    let read: Value = first.json().await.unwrap();
    assert_eq!(shown(&read), vec![vec![(pinned, true)]]);
    assert!(read["sections"][0]["items"][0]["pinned_until"].is_string());
    let cached = app.get("/api/v1/fronts/home", None).await;
    assert_eq!(cached.headers()["x-cache"], "hit");
    assert_eq!(revalidate(&app, "/api/v1/fronts/home", &etag).await, 304);
    sleep_past(until).await;
    assert_eq!(
        shown(&public(&app, "home").await),
        vec![Vec::<(i64, bool)>::new()]
    );
    sleep_past(later).await;
    assert_eq!(
        shown(&public(&app, "home").await),
        vec![vec![(scheduled, true)]]
    );
    assert_eq!(revalidate(&app, "/api/v1/fronts/home", &etag).await, 200);
}

/// A change of an article shown, of a list a fill reads, or of the front itself changes the
/// cached read at once.
async fn changes_reach_the_cached_front(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let curated = publish_at(&app, &editor.token, "Curated", 5, json!({})).await;
    let front = json!({"title": "Home", "sections": [
        {"key": "lead", "title": "Lead", "max_items": 1, "items": [{"article_id": curated}]},
        {"key": "latest", "title": "Latest", "max_items": 5, "fill": {}}]});
    put_ok(&app, "home", &editor.token, front, 201).await;
    let etag = |r: &Response| r.headers()["etag"].to_str().unwrap().to_owned();
    let first = app.get("/api/v1/fronts/home", None).await;
    let first_tag = etag(&first);
    assert_eq!(
        app.get("/api/v1/fronts/home", None).await.headers()["x-cache"],
        "hit"
    );
    // A curated article edited.
    patch_ok(
        &app,
        curated,
        &editor.token,
        json!({"title": "Curated, corrected"}),
    )
    .await;
    let read = app.get("/api/v1/fronts/home", None).await;
    assert_ne!(etag(&read), first_tag);
    let read: Value = read.json().await.unwrap();
    assert_eq!(
        read["sections"][0]["items"][0]["title"],
        "Curated, corrected"
    );
    // A new article enters the fill.
    let fresh = publish_at(&app, &editor.token, "Fresh", 0, json!({})).await;
    assert_eq!(shown(&public(&app, "home").await)[1], vec![(fresh, false)]);
    // The curated one trashed: the lead is empty, and the fill does not take it either.
    assert_eq!(
        app.delete(&format!("/api/v1/articles/{curated}"), Some(&editor.token))
            .await
            .status(),
        204
    );
    assert_eq!(
        shown(&public(&app, "home").await),
        vec![vec![], vec![(fresh, false)]]
    );
    // Another server process on the database: its cached front follows a write here at once.
    let other = app.process();
    let read_other = || async {
        let response = app
            .client
            .get(format!("{}/api/v1/fronts/home", other.address))
            .send()
            .await
            .unwrap();
        let cache = response.headers()["x-cache"].to_str().unwrap().to_owned();
        (cache, response.json::<Value>().await.unwrap())
    };
    read_other().await;
    assert_eq!(read_other().await.0, "hit");
    put_ok(
        &app,
        "home",
        &editor.token,
        json!({"title": "Home elsewhere", "sections": []}),
        200,
    )
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while read_other().await.1["title"] != "Home elsewhere" {
        assert!(
            std::time::Instant::now() < deadline,
            "the other process kept the old front"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The front rewritten.
    put_ok(
        &app,
        "home",
        &editor.token,
        json!({"title": "New home", "sections": []}),
        200,
    )
    .await;
    assert_eq!(public(&app, "home").await["title"], "New home");
}

/// `front.updated` on every PUT (the first included) and `front.deleted`, in the log and on the
/// public stream.
async fn front_writes_are_events(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let mut stream = Sse::open(&app, &app.address, None, None).await;
    for title in ["One", "Two"] {
        put_ok(
            &app,
            "home",
            &editor.token,
            json!({"title": title, "sections": []}),
            if title == "One" { 201 } else { 200 },
        )
        .await;
    }
    assert_eq!(
        app.delete("/api/v1/fronts/home", Some(&editor.token))
            .await
            .status(),
        204
    );
    let log: Value = app
        .get(
            "/api/v1/events?type=front.updated,front.deleted",
            Some(&editor.token),
        )
        .await
        .json()
        .await
        .unwrap();
    let events: Vec<(String, String)> = log["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_owned(),
                e["front"]["slug"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let home = || "home".to_owned();
    assert_eq!(
        events,
        [
            ("front.updated".into(), home()),
            ("front.updated".into(), home()),
            ("front.deleted".into(), home())
        ]
    );
    let mut seen = Vec::new();
    while let Some((_, event, data)) = stream.next(std::time::Duration::from_secs(5)).await {
        seen.push(event.clone());
        assert_eq!(data["front"]["slug"], "home");
        assert_eq!(data["actor_id"], Value::Null);
        if seen.len() == 3 {
            break;
        }
    }
    assert_eq!(seen, ["front.updated", "front.updated", "front.deleted"]);
}

backend_tests!(
    a_front_shows_public_curated_items_then_fills_without_repeats,
    writing_a_front_is_for_editors_and_guarded_by_if_match,
    pins_and_schedules_move_the_front_at_their_time,
    changes_reach_the_cached_front,
    front_writes_are_events,
);
