//! Related-news links: order, reordering, atomic replace, hidden targets, suggestions and
//! permissions.

use newsroom::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, error_fields, spawn_app, Backend, TestApp};

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

/// (target id, relation, origin) of each item of a related list.
async fn listed(app: &TestApp, path: &str, token: Option<&str>) -> Vec<(i64, String, String)> {
    let response = app.get(path, token).await;
    assert_eq!(response.status(), 200, "{path}");
    let list: Value = response.json().await.unwrap();
    entries(&list)
}

fn entries(list: &Value) -> Vec<(i64, String, String)> {
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                id(&item["article"]),
                item["relation"].as_str().unwrap().to_owned(),
                item["origin"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn targets(list: &[(i64, String, String)]) -> Vec<i64> {
    list.iter().map(|(id, _, _)| *id).collect()
}

async fn curated_links_keep_the_editors_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let token = Some(editor.token.as_str());
    let source = app
        .published(&editor.token, "Border treaty signed", json!({}))
        .await;
    let mut t = Vec::new();
    for title in ["A", "B", "C", "D"] {
        t.push(id(&app
            .published(&editor.token, &format!("Story {title}"), json!({}))
            .await));
    }
    let (a, b, c, d) = (t[0], t[1], t[2], t[3]);
    let links = format!("/api/v1/articles/{}/related", id(&source));
    let post = |body: Value| {
        let (app, links) = (&app, &links);
        async move { app.send_json(Method::POST, links, token, &body).await }
    };

    assert_eq!(post(json!({"target_id": a})).await.status(), 201);
    assert_eq!(post(json!({"target_id": b})).await.status(), 201);
    assert_eq!(
        post(json!({"target_id": c, "position": 0})).await.status(),
        201
    );
    let response = post(json!({"target_id": d, "position": 1, "relation": "background"})).await;
    assert_eq!(response.status(), 201);
    let list: Value = response.json().await.unwrap();
    assert_eq!(targets(&entries(&list)), [c, d, a, b]);

    let curated = listed(&app, &format!("{links}?suggest=false"), None).await;
    assert_eq!(targets(&curated), [c, d, a, b]);
    assert_eq!(curated[1].1, "background");
    assert!(curated.iter().all(|(_, _, origin)| origin == "curated"));

    let moved = app
        .send_json(
            Method::PATCH,
            &format!("{links}/{a}"),
            token,
            &json!({"position": 0, "relation": "follow_up"}),
        )
        .await;
    assert_eq!(moved.status(), 200);
    let curated = listed(&app, &format!("{links}?suggest=false"), None).await;
    assert_eq!(targets(&curated), [a, c, d, b]);
    assert_eq!(curated[0].1, "follow_up");
    let last = app
        .send_json(
            Method::PATCH,
            &format!("{links}/{c}"),
            token,
            &json!({"position": 99}),
        )
        .await;
    assert_eq!(last.status(), 200);
    assert_eq!(
        targets(&listed(&app, &format!("{links}?suggest=false"), None).await),
        [a, d, b, c]
    );

    assert_problem(post(json!({"target_id": a})).await, 409).await;
    assert_eq!(
        error_fields(&assert_problem(post(json!({"target_id": id(&source)})).await, 422).await),
        ["target_id"]
    );
    assert_eq!(
        error_fields(&assert_problem(post(json!({"target_id": 99999})).await, 422).await),
        ["target_id"]
    );
    assert_eq!(
        error_fields(
            &assert_problem(
                post(json!({"target_id": a, "relation": "rumour"})).await,
                422
            )
            .await
        ),
        ["relation"]
    );
    assert_problem(
        app.send_json(
            Method::PATCH,
            &format!("{links}/99999"),
            token,
            &json!({"position": 0}),
        )
        .await,
        404,
    )
    .await;

    assert_eq!(
        app.delete(&format!("{links}/{d}"), token).await.status(),
        204
    );
    assert_problem(app.delete(&format!("{links}/{d}"), token).await, 404).await;
    assert_eq!(
        targets(&listed(&app, &format!("{links}?suggest=false"), None).await),
        [a, b, c]
    );
    assert_problem(app.get("/api/v1/articles/99999/related", None).await, 404).await;
    assert_problem(app.get(&format!("{links}?limit=51"), None).await, 422).await;
}

async fn replacing_the_list_is_all_or_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let token = Some(editor.token.as_str());
    let source = app.published(&editor.token, "Source", json!({})).await;
    let a = id(&app.published(&editor.token, "A", json!({})).await);
    let b = id(&app.published(&editor.token, "B", json!({})).await);
    let c = id(&app.published(&editor.token, "C", json!({})).await);
    let links = format!("/api/v1/articles/{}/related", id(&source));

    let put = |body: Value| {
        let (app, links) = (&app, &links);
        async move { app.send_json(Method::PUT, links, token, &body).await }
    };
    let replaced = put(json!([{"target_id": b, "relation": "opinion"}, {"target_id": a}])).await;
    assert_eq!(replaced.status(), 200);
    let expected = vec![
        (b, "opinion".to_owned(), "curated".to_owned()),
        (a, "related".to_owned(), "curated".to_owned()),
    ];
    assert_eq!(entries(&replaced.json().await.unwrap()), expected);

    for (body, field) in [
        (
            json!([{"target_id": c}, {"target_id": 99999}]),
            "[1].target_id",
        ),
        (
            json!([{"target_id": c}, {"target_id": id(&source)}]),
            "[1].target_id",
        ),
        (json!([{"target_id": c}, {"target_id": c}]), "[1].target_id"),
        (
            json!([{"target_id": c}, {"target_id": a, "relation": "rumour"}]),
            "[1].relation",
        ),
    ] {
        let problem = assert_problem(put(body.clone()).await, 422).await;
        assert_eq!(error_fields(&problem), [field], "{body}");
        assert_eq!(
            listed(&app, &format!("{links}?suggest=false"), None).await,
            expected,
            "unchanged after {body}"
        );
    }
    assert_eq!(put(json!([])).await.status(), 200);
    assert!(listed(&app, &format!("{links}?suggest=false"), None)
        .await
        .is_empty());
}

async fn hidden_targets_are_kept_but_not_shown(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let token = Some(editor.token.as_str());
    let source = app.published(&editor.token, "Source", json!({})).await;
    let a = id(&app.published(&editor.token, "A", json!({})).await);
    let b = id(&app.published(&editor.token, "B", json!({})).await);
    let links = format!("/api/v1/articles/{}/related", id(&source));
    app.send_json(
        Method::PUT,
        &links,
        token,
        &json!([{"target_id": a}, {"target_id": b}]),
    )
    .await;

    let unpublish = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/articles/{a}"),
            token,
            &json!({"status": "draft"}),
        )
        .await;
    assert_eq!(unpublish.status(), 200);
    assert_eq!(
        targets(&listed(&app, &format!("{links}?suggest=false"), None).await),
        [b]
    );
    let staff: Value = app
        .send_json(Method::PATCH, &format!("{links}/{b}"), token, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        targets(&entries(&staff)),
        [a, b],
        "editors still see the hidden link"
    );
    app.send_json(
        Method::PATCH,
        &format!("/api/v1/articles/{a}"),
        token,
        &json!({"status": "published"}),
    )
    .await;
    assert_eq!(
        targets(&listed(&app, &format!("{links}?suggest=false"), None).await),
        [a, b]
    );

    // Deleting an article removes the links to and from it.
    app.send_json(
        Method::PUT,
        &format!("/api/v1/articles/{b}/related"),
        token,
        &json!([{"target_id": a}]),
    )
    .await;
    assert_eq!(
        app.delete(&format!("/api/v1/articles/{b}"), token)
            .await
            .status(),
        204
    );
    assert_eq!(
        targets(&listed(&app, &format!("{links}?suggest=false"), None).await),
        [a]
    );
}

async fn suggestions_fill_the_list_by_shared_topics(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let token = editor.token.as_str();
    let t1 = id(&app.topic(token, "Tajikistan", None).await);
    let t2 = id(&app.topic(token, "Energy", None).await);
    let t3 = id(&app.topic(token, "Sport", None).await);
    let hours_ago = |h: i64| (chrono::Utc::now() - chrono::Duration::hours(h)).to_rfc3339();
    let at = |topics: Vec<i64>, h: i64| json!({"topic_ids": topics, "published_at": hours_ago(h)});

    let source = app
        .published(token, "Rogun dam second turbine", at(vec![t1, t2], 1))
        .await;
    let two_shared_old = id(&app
        .published(token, "Dam finance", at(vec![t1, t2], 50))
        .await);
    let one_shared_new = id(&app
        .published(token, "Dushanbe weather", at(vec![t1], 2))
        .await);
    let one_shared_old = id(&app
        .published(token, "Khujand markets", at(vec![t1], 30))
        .await);
    let curated = id(&app.published(token, "Power exports", at(vec![t2], 3)).await);
    app.published(token, "Football", at(vec![t3], 1)).await;
    app.create(
        "/api/v1/articles",
        token,
        json!({"title": "Unpublished dam story", "body": "x", "topic_ids": [t1, t2]}),
    )
    .await;
    let links = format!("/api/v1/articles/{}/related", id(&source));
    app.send_json(
        Method::PUT,
        &links,
        Some(token),
        &json!([{"target_id": curated, "relation": "follow_up"}]),
    )
    .await;

    let full = listed(&app, &links, None).await;
    assert_eq!(
        targets(&full),
        [curated, two_shared_old, one_shared_new, one_shared_old]
    );
    assert_eq!(
        (full[0].1.as_str(), full[0].2.as_str()),
        ("follow_up", "curated")
    );
    assert!(full[1..]
        .iter()
        .all(|(_, rel, origin)| rel == "related" && origin == "suggested"));
    assert_eq!(
        targets(&listed(&app, &format!("{links}?limit=2"), None).await),
        [curated, two_shared_old]
    );
    assert_eq!(
        targets(&listed(&app, &format!("{links}?suggest=false"), None).await),
        [curated]
    );

    let page: Value = app
        .get(
            &format!("/api/v1/articles/{}?include=related", id(&source)),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        targets(&entries(&json!({"data": page["related"]}))),
        targets(&full)
    );
    assert!(page["related"][0]["article"].get("body").is_none());
    let plain: Value = app
        .get(&format!("/api/v1/articles/{}", id(&source)), None)
        .await
        .json()
        .await
        .unwrap();
    assert!(plain.get("related").is_none());
    assert_problem(
        app.get(
            &format!("/api/v1/articles/{}?include=comments", id(&source)),
            None,
        )
        .await,
        422,
    )
    .await;
}

async fn link_permissions_follow_article_ownership(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let author = app.user(Role::Author).await;
    let target = id(&app.published(&editor.token, "Desk story", json!({})).await);
    let own = app
        .create(
            "/api/v1/articles",
            &author.token,
            json!({"title": "Mine", "body": "x"}),
        )
        .await;
    let own_links = format!("/api/v1/articles/{}/related", id(&own));
    let desk_links = format!("/api/v1/articles/{target}/related");

    let created = app
        .send_json(
            Method::POST,
            &own_links,
            Some(&author.token),
            &json!({"target_id": target}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let on_desk = app
        .send_json(
            Method::POST,
            &desk_links,
            Some(&author.token),
            &json!({"target_id": id(&own)}),
        )
        .await;
    assert_problem(on_desk, 403).await;
    assert_problem(
        app.send_json(Method::PUT, &desk_links, Some(&author.token), &json!([]))
            .await,
        403,
    )
    .await;
    assert_problem(
        app.send_json(
            Method::POST,
            &own_links,
            None,
            &json!({"target_id": target}),
        )
        .await,
        401,
    )
    .await;

    // A reciprocal link would touch the desk's article: refused, and nothing is written.
    app.delete(&format!("{own_links}/{target}"), Some(&author.token))
        .await;
    let reciprocal = app
        .send_json(
            Method::POST,
            &own_links,
            Some(&author.token),
            &json!({"target_id": target, "reciprocal": true}),
        )
        .await;
    assert_problem(reciprocal, 403).await;
    assert!(listed(
        &app,
        &format!("{own_links}?suggest=false"),
        Some(&author.token)
    )
    .await
    .is_empty());

    let both = app
        .send_json(
            Method::POST,
            &desk_links,
            Some(&editor.token),
            &json!({"target_id": id(&own), "reciprocal": true, "relation": "background"}),
        )
        .await;
    assert_eq!(both.status(), 201);
    let back = listed(
        &app,
        &format!("{own_links}?suggest=false"),
        Some(&author.token),
    )
    .await;
    assert_eq!(
        back,
        [(target, "background".to_owned(), "curated".to_owned())]
    );
    // The author's draft is no public target, and its list is no public page.
    assert!(listed(&app, &format!("{desk_links}?suggest=false"), None)
        .await
        .is_empty());
    assert_problem(app.get(&own_links, None).await, 404).await;
}

async fn the_demo_report_has_ten_related_headlines(backend: Backend) {
    let app = spawn_app(backend).await;
    newsroom::seed::demo(&mut app.conn()).unwrap();
    let slug = "tajikistan-and-kyrgyzstan-sign-treaty-ending-decades-long-border-dispute";
    let page: Value = app
        .get(&format!("/api/v1/articles/{slug}?include=related"), None)
        .await
        .json()
        .await
        .unwrap();
    let related = page["related"].as_array().unwrap();
    assert_eq!(related.len(), 10);
    assert!(related.iter().all(|item| item["origin"] == "curated"));
    assert_eq!(related[0]["relation"], "background");
    let titles: Vec<&str> = related
        .iter()
        .map(|i| i["article"]["title"].as_str().unwrap())
        .collect();
    assert!(
        titles[0].starts_with("Background: a timeline"),
        "{titles:?}"
    );
    let more = listed(
        &app,
        &format!("/api/v1/articles/{slug}/related?limit=15"),
        None,
    )
    .await;
    assert_eq!(more.len(), 15);
    assert!(more[10..]
        .iter()
        .all(|(_, _, origin)| origin == "suggested"));
}

backend_tests!(
    curated_links_keep_the_editors_order,
    replacing_the_list_is_all_or_nothing,
    hidden_targets_are_kept_but_not_shown,
    suggestions_fill_the_list_by_shared_topics,
    link_permissions_follow_article_ownership,
    the_demo_report_has_ten_related_headlines,
);
