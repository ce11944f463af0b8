//! Stored cards: after random writes of every kind that changes what a card shows, each public
//! list item and related item is exactly the summary a staff read builds from scratch, and the
//! public lists hold exactly the public articles; and what a card shows leaves and enters
//! every public surface at the instant its article's visibility changes.

use std::collections::{BTreeMap, BTreeSet};

use newsroom::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Backend, Dice, TestApp};

/// The article as a staff read builds it, without what a card leaves out.
async fn from_scratch(app: &TestApp, token: &str, id: i64) -> Value {
    let response = app
        .get(&format!("/api/v1/articles/{id}"), Some(token))
        .await;
    assert_eq!(response.status(), 200);
    let mut article: Value = response.json().await.unwrap();
    // What a whole article has besides its summary.
    for field in ["body", "translations"] {
        article.as_object_mut().unwrap().remove(field);
    }
    article
}

/// Every item of every page of a public list, by id.
async fn public_items(app: &TestApp, path: &str) -> BTreeMap<i64, Value> {
    let mut items = BTreeMap::new();
    let mut next = path.to_owned();
    loop {
        let response = app.get(&next, None).await;
        assert_eq!(response.status(), 200, "{next}");
        let page: Value = response.json().await.unwrap();
        for item in page["data"].as_array().unwrap() {
            items.insert(item["id"].as_i64().unwrap(), item.clone());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => next = format!("{path}&cursor={cursor}"),
            None => return items,
        }
    }
}

async fn cards_match_a_from_scratch_read_after_random_writes(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let admin = app.user(Role::Admin).await;
    let writers = [app.user(Role::Author).await, app.user(Role::Author).await];
    let people: Vec<i64> = writers
        .iter()
        .map(|w| i64::from(w.id))
        .chain([i64::from(editor.id)])
        .collect();
    let token = editor.token.as_str();
    let world = app.topic(token, "World", None).await;
    let mut topics = vec![world["id"].as_i64().unwrap()];
    for name in ["Asia", "Europe"] {
        topics.push(
            app.topic(token, name, Some(topics[0])).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    topics.push(
        app.topic(token, "Sport", None).await["id"]
            .as_i64()
            .unwrap(),
    );
    let mut articles = Vec::new();
    for n in 0..10 {
        let created = app
            .create(
                "/api/v1/articles",
                token,
                json!({"title": format!("Story {n}"), "body": "<p>text</p>",
                       "topic_ids": [topics[n % 4]], "author_ids": [people[n % 3]],
                       "status": if n % 2 == 0 { "published" } else { "draft" }}),
            )
            .await;
        articles.push(created["id"].as_i64().unwrap());
    }
    let mut dice = Dice(0x5eed_cafe);
    let mut trashed = BTreeSet::new();
    for round in 0..60 {
        let id = dice.pick(&articles);
        let path = format!("/api/v1/articles/{id}");
        let response = match dice.below(9) {
            0 => {
                let body = json!({"title": format!("Retitled {round}"), "summary": format!("Lead {round}")});
                app.send_json(Method::PATCH, &path, Some(token), &body)
                    .await
            }
            1 => {
                let first = dice.pick(&topics);
                let second = dice.pick(&topics);
                let body = json!({"topic_ids": [first, second], "primary_topic_id": second});
                app.send_json(Method::PATCH, &path, Some(token), &body)
                    .await
            }
            2 => {
                let body = json!({"author_ids": [dice.pick(&people), dice.pick(&people)]});
                app.send_json(Method::PATCH, &path, Some(token), &body)
                    .await
            }
            3 => {
                let status = dice.pick(&["published", "draft", "review", "archived"]);
                app.send_json(
                    Method::PATCH,
                    &path,
                    Some(token),
                    &json!({"status": status}),
                )
                .await
            }
            4 if trashed.insert(id) => app.delete(&path, Some(token)).await,
            4 | 5 if trashed.remove(&id) => app.post(&format!("{path}/restore"), Some(token)).await,
            6 => {
                let topic = dice.pick(&topics);
                let body = json!({"name": format!("Topic {round}")});
                app.send_json(
                    Method::PATCH,
                    &format!("/api/v1/topics/{topic}"),
                    Some(token),
                    &body,
                )
                .await
            }
            7 => {
                let user = dice.pick(&people);
                let body = json!({"name": format!("Writer {round}")});
                app.send_json(
                    Method::PATCH,
                    &format!("/api/v1/users/{user}"),
                    Some(&admin.token),
                    &body,
                )
                .await
            }
            _ => {
                let target = dice.pick(&articles);
                let body = json!({"target_id": target});
                app.send_json(Method::POST, &format!("{path}/related"), Some(token), &body)
                    .await
            }
        };
        // Some writes are refused by the rules (a duplicate byline, a link to itself, to a
        // trashed article): what matters is that nothing shows what was not written.
        let status = response.status().as_u16();
        assert!(
            status < 300 || [409, 422].contains(&status),
            "round {round}: {status}"
        );
        if round % 10 != 9 {
            continue;
        }
        let public = app
            .all_ids("/api/v1/articles?status=published&limit=100", Some(token))
            .await;
        let latest = public_items(&app, "/api/v1/articles?limit=3").await;
        assert_eq!(
            latest.keys().copied().collect::<BTreeSet<_>>(),
            public.iter().copied().collect::<BTreeSet<_>>(),
            "round {round}: the public list holds exactly the public articles"
        );
        for (id, item) in &latest {
            assert_eq!(
                item,
                &from_scratch(&app, token, *id).await,
                "round {round}: {id}"
            );
        }
        for topic in &topics {
            for (id, item) in public_items(&app, &format!("/api/v1/articles?topic={topic}")).await {
                assert_eq!(
                    item, latest[&id],
                    "round {round}: topic {topic}, article {id}"
                );
            }
        }
        for person in &people {
            for (id, item) in public_items(&app, &format!("/api/v1/articles?author={person}")).await
            {
                assert_eq!(
                    item, latest[&id],
                    "round {round}: author {person}, article {id}"
                );
            }
        }
        for id in &public {
            let page = app
                .get(&format!("/api/v1/articles/{id}?include=related"), None)
                .await;
            let page: Value = page.json().await.unwrap();
            for item in page["related"].as_array().unwrap() {
                let target = item["article"]["id"].as_i64().unwrap();
                assert_eq!(
                    item["article"], latest[&target],
                    "round {round}: related of {id}"
                );
            }
        }
    }
}

/// Whether article `id` shows anywhere the public looks: its page, the latest list, its
/// topic's list, and the related list of `from` (which links to it and shares its topic).
async fn shown(app: &TestApp, id: i64, topic: i64, from: i64) -> [bool; 4] {
    let page = app.get(&format!("/api/v1/articles/{id}"), None).await;
    let listed = |path: String| async move {
        let page: Value = app.get(&path, None).await.json().await.unwrap();
        crate::helpers::ids(&page).contains(&id)
    };
    let related: Value = app
        .get(&format!("/api/v1/articles/{from}?include=related"), None)
        .await
        .json()
        .await
        .unwrap();
    let related = related["related"]
        .as_array()
        .unwrap()
        .iter()
        .any(|item| item["article"]["id"] == id);
    [
        page.status() == 200,
        listed("/api/v1/articles?limit=50".into()).await,
        listed(format!("/api/v1/articles?topic={topic}&limit=50")).await,
        related,
    ]
}

async fn cards_follow_visibility_at_the_instant_it_changes(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let token = editor.token.as_str();
    let topic = app.topic(token, "Politics", None).await["id"]
        .as_i64()
        .unwrap();
    let from = app
        .published(token, "The lead", json!({"topic_ids": [topic]}))
        .await["id"]
        .as_i64()
        .unwrap();
    let due = chrono::Utc::now() + chrono::Duration::seconds(2);
    let scheduled = app
        .create(
            "/api/v1/articles",
            token,
            json!({"title": "Coming", "body": "<p>x</p>", "status": "scheduled",
                   "published_at": due.to_rfc3339(), "topic_ids": [topic]}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let link = json!({"target_id": scheduled});
    let linked = app
        .send_json(
            Method::POST,
            &format!("/api/v1/articles/{from}/related"),
            Some(token),
            &link,
        )
        .await;
    assert_eq!(linked.status(), 201);
    assert_eq!(
        shown(&app, scheduled, topic, from).await,
        [false; 4],
        "before its time"
    );
    crate::helpers::sleep_past(due).await;
    assert_eq!(
        shown(&app, scheduled, topic, from).await,
        [true; 4],
        "once due"
    );
    let path = format!("/api/v1/articles/{scheduled}");
    for (status, visible, when) in [
        ("draft", false, "unpublished"),
        ("published", true, "published again"),
    ] {
        let body = json!({"status": status});
        let changed = app
            .send_json(Method::PATCH, &path, Some(token), &body)
            .await;
        assert_eq!(changed.status(), 200);
        assert_eq!(
            shown(&app, scheduled, topic, from).await,
            [visible; 4],
            "{when}"
        );
    }
    assert_eq!(app.delete(&path, Some(token)).await.status(), 204);
    assert_eq!(
        shown(&app, scheduled, topic, from).await,
        [false; 4],
        "trashed"
    );
}

backend_tests!(
    cards_match_a_from_scratch_read_after_random_writes,
    cards_follow_visibility_at_the_instant_it_changes,
);
