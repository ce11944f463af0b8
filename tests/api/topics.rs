//! Topics: the tree, slugs, cycles, deletion rules and article counts with descendants.

use newsroom::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, error_fields, spawn_app, Backend};

async fn topics_form_a_tree_with_derived_slugs(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let token = editor.token.as_str();
    let world = app.topic(token, "World", None).await;
    let response = app
        .send_json(Method::POST, "/api/v1/topics", Some(token), &json!({"name": "Таджикистан", "parent_id": world["id"], "position": 2, "description": "Новости"}))
        .await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let tajikistan: Value = response.json().await.unwrap();
    assert_eq!(location, format!("/api/v1/topics/{}", tajikistan["id"]));
    assert_eq!(tajikistan["slug"], "tadzhikistan");
    assert_eq!(tajikistan["parent_id"], world["id"]);
    assert_eq!(tajikistan["position"], 2);
    assert_eq!(tajikistan["article_count"], 0);
    let again = app.topic(token, "Таджикистан", None).await;
    assert_eq!(again["slug"], "tadzhikistan-2");

    let by_slug: Value = app
        .get("/api/v1/topics/tadzhikistan", None)
        .await
        .json()
        .await
        .unwrap();
    let by_id: Value = app.get(&location, None).await.json().await.unwrap();
    assert_eq!(by_slug, by_id);
    assert_problem(app.get("/api/v1/topics/atlantis", None).await, 404).await;

    let all: Value = app.get("/api/v1/topics", None).await.json().await.unwrap();
    assert_eq!(all["data"].as_array().unwrap().len(), 3);
    let children: Value = app
        .get("/api/v1/topics?parent=world", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(children["data"].as_array().unwrap().len(), 1);
    assert_eq!(children["data"][0]["slug"], "tadzhikistan");
    assert_problem(app.get("/api/v1/topics?parent=atlantis", None).await, 404).await;

    for (body, field) in [
        (json!({"name": "Sport", "slug": "world"}), None),
        (json!({"name": "Sport", "slug": "2026"}), Some("slug")),
        (json!({"name": "Sport", "slug": "Not A Slug"}), Some("slug")),
        (json!({"name": ""}), Some("name")),
        (
            json!({"name": "Sport", "parent_id": 999}),
            Some("parent_id"),
        ),
    ] {
        let response = app
            .send_json(Method::POST, "/api/v1/topics", Some(token), &body)
            .await;
        match field {
            None => {
                assert_problem(response, 409).await;
            }
            Some(field) => assert_eq!(
                error_fields(&assert_problem(response, 422).await),
                [field],
                "{body}"
            ),
        }
    }
}

async fn topic_updates_refuse_cycles_and_deletes_refuse_parents(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let token = Some(editor.token.as_str());
    let a = app.topic(&editor.token, "Asia", None).await;
    let b = app
        .topic(&editor.token, "Central Asia", a["id"].as_i64())
        .await;
    let c = app
        .topic(&editor.token, "Tajikistan", b["id"].as_i64())
        .await;
    let path = |t: &Value| format!("/api/v1/topics/{}", t["id"]);

    for parent in [&c, &a] {
        let cycle = app
            .send_json(
                Method::PATCH,
                &path(&a),
                token,
                &json!({"parent_id": parent["id"]}),
            )
            .await;
        assert_eq!(
            error_fields(&assert_problem(cycle, 422).await),
            ["parent_id"]
        );
    }
    let renamed = app
        .send_json(
            Method::PATCH,
            &path(&b),
            token,
            &json!({"name": "Middle Asia", "slug": "middle-asia", "description": null}),
        )
        .await;
    assert_eq!(renamed.status(), 200);
    let renamed: Value = renamed.json().await.unwrap();
    assert_eq!(
        (renamed["name"].as_str(), renamed["slug"].as_str()),
        (Some("Middle Asia"), Some("middle-asia"))
    );
    let taken = app
        .send_json(
            Method::PATCH,
            &path(&c),
            token,
            &json!({"slug": "middle-asia"}),
        )
        .await;
    assert_problem(taken, 409).await;

    assert_problem(app.delete(&path(&a), token).await, 409).await;
    assert_eq!(app.delete(&path(&c), token).await.status(), 204);
    assert_eq!(app.delete(&path(&b), token).await.status(), 204);
    assert_eq!(app.delete(&path(&a), token).await.status(), 204);
    assert_problem(app.delete(&path(&a), token).await, 404).await;
    assert_problem(
        app.send_json(Method::PATCH, &path(&a), token, &json!({"name": "X"}))
            .await,
        404,
    )
    .await;
}

async fn article_counts_and_feeds_include_descendants(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let token = editor.token.as_str();
    let world = app.topic(token, "World", None).await;
    let asia = app.topic(token, "Central Asia", world["id"].as_i64()).await;
    let tj = app.topic(token, "Tajikistan", asia["id"].as_i64()).await;
    let kg = app.topic(token, "Kyrgyzstan", asia["id"].as_i64()).await;
    let europe = app.topic(token, "Europe", world["id"].as_i64()).await;

    let both = app
        .published(
            token,
            "Border treaty signed",
            json!({"topic_ids": [tj["id"], kg["id"]]}),
        )
        .await;
    let dam = app
        .published(token, "Rogun dam", json!({"topic_ids": [tj["id"]]}))
        .await;
    let gas = app
        .published(
            token,
            "Gas prices fall",
            json!({"topic_ids": [europe["id"]]}),
        )
        .await;
    app.create(
        "/api/v1/articles",
        token,
        json!({"title": "A draft", "body": "<p>x</p>", "topic_ids": [tj["id"]]}),
    )
    .await;

    let count = |slug: &'static str| {
        let app = &app;
        async move {
            let topic: Value = app
                .get(&format!("/api/v1/topics/{slug}"), None)
                .await
                .json()
                .await
                .unwrap();
            topic["article_count"].as_i64().unwrap()
        }
    };
    assert_eq!(count("world").await, 3);
    assert_eq!(
        count("central-asia").await,
        2,
        "an article in two children counts once"
    );
    assert_eq!(count("tajikistan").await, 2);
    assert_eq!(count("kyrgyzstan").await, 1);
    let listed: Value = app.get("/api/v1/topics", None).await.json().await.unwrap();
    let world_listed = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["slug"] == "world")
        .unwrap()
        .clone();
    assert_eq!(world_listed["article_count"], 3);

    let feed = app
        .all_ids("/api/v1/articles?topic=central-asia&limit=1", None)
        .await;
    assert_eq!(
        feed,
        [dam["id"].as_i64().unwrap(), both["id"].as_i64().unwrap()]
    );
    let by_id = app
        .all_ids(&format!("/api/v1/articles?topic={}", world["id"]), None)
        .await;
    assert_eq!(
        by_id,
        [
            gas["id"].as_i64().unwrap(),
            dam["id"].as_i64().unwrap(),
            both["id"].as_i64().unwrap()
        ]
    );

    // Moving Europe under Central Asia moves its articles into that feed.
    let moved = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/topics/{}", europe["id"]),
            Some(token),
            &json!({"parent_id": asia["id"]}),
        )
        .await;
    assert_eq!(moved.status(), 200);
    assert_eq!(count("central-asia").await, 3);
    assert_eq!(count("world").await, 3);
    let feed = app
        .all_ids("/api/v1/articles?topic=central-asia", None)
        .await;
    assert_eq!(feed.len(), 3);

    // Deleting a topic leaves its articles, without it.
    assert_eq!(
        app.delete(&format!("/api/v1/topics/{}", kg["id"]), Some(token))
            .await
            .status(),
        204
    );
    let article: Value = app
        .get(&format!("/api/v1/articles/{}", both["id"]), None)
        .await
        .json()
        .await
        .unwrap();
    let slugs: Vec<&str> = article["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["tajikistan"]);
}

/// A topic named in other languages answers in the reader's best one.
async fn topics_are_named_in_the_readers_language(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let topic = app
        .create(
            "/api/v1/topics",
            &editor.token,
            json!({"name": "Tajikistan", "description": "News",
                   "names": {"ru": "Таджикистан", "TG": "Тоҷикистон"},
                   "descriptions": {"ru": "Новости"}}),
        )
        .await;
    assert_eq!(
        topic["names"],
        json!({"ru": "Таджикистан", "tg": "Тоҷикистон"})
    );
    assert_eq!(topic["name"], "Tajikistan");
    assert!(topic["name_language"].is_null());
    let path = format!("/api/v1/topics/{}", topic["id"]);
    let read = |query: &'static str, accept: Option<&'static str>| {
        let (app, path) = (&app, path.clone());
        async move {
            let mut request = app.client.get(app.url(&format!("{path}{query}")));
            if let Some(accept) = accept {
                request = request.header("Accept-Language", accept);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            let vary = response.headers()["vary"].to_str().unwrap().to_owned();
            (response.json::<Value>().await.unwrap(), vary)
        }
    };
    let (ru, _) = read("?prefer_language=ru", None).await;
    assert_eq!(
        (&ru["name"], &ru["name_language"]),
        (&json!("Таджикистан"), &json!("ru"))
    );
    assert_eq!(ru["description"], "Новости");
    let (tg, vary) = read("", Some("tg-TJ, ru;q=0.5")).await;
    assert_eq!(
        (&tg["name"], &tg["name_language"]),
        (&json!("Тоҷикистон"), &json!("tg"))
    );
    assert_eq!(
        tg["description"], "Новости",
        "the description's best language"
    );
    assert!(vary.contains("Accept-Language"), "{vary}");
    let (fr, _) = read("?prefer_language=fr", None).await;
    assert_eq!(fr["name"], "Tajikistan");
    assert!(fr["name_language"].is_null());
    let list: Value = app
        .get("/api/v1/topics?prefer_language=ru", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"][0]["name"], "Таджикистан");

    let bad = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&editor.token),
            &json!({"names": {"russian": "x", "en": "\u{200b}"}}),
        )
        .await;
    let problem = assert_problem(bad, 422).await;
    assert_eq!(error_fields(&problem), ["names.en", "names.russian"]);
    let cleared = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&editor.token),
            &json!({"names": {}}),
        )
        .await;
    assert_eq!(cleared.status(), 200);
    let (ru, _) = read("?prefer_language=ru", None).await;
    assert_eq!(
        ru["name"], "Tajikistan",
        "the change reached the cached read"
    );
}

backend_tests!(
    topics_form_a_tree_with_derived_slugs,
    topic_updates_refuse_cycles_and_deletes_refuse_parents,
    article_counts_and_feeds_include_descendants,
    topics_are_named_in_the_readers_language,
);
