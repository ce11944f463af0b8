//! Races of the hardening issue, run with real parallel requests against two server processes
//! on one database (the test's own server and a `newsroom` process beside it).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use diesel::prelude::*;
use futures_util::future::join_all;
use newsroom::db::schema::{article_topics, articles, topics, users};
use newsroom::domain::Role;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Backend, TestApp};

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

/// Point 14: however parallel, one account from one address gets at most five password
/// checks in the window; the rest wait (429).
async fn sign_in_throttling_cannot_be_raced(backend: Backend) {
    let app = spawn_app(backend).await;
    let victim = app.user(Role::Editor).await;
    let other = app.process();
    let attempts = (0..16).map(|i| {
        let base = if i % 2 == 0 {
            app.address.clone()
        } else {
            other.address.clone()
        };
        let client = app.client.clone();
        let email = victim.email.clone();
        async move {
            client
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({"email": email, "password": "not the password at all"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let statuses = join_all(attempts).await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, refused), (5, 11), "{statuses:?}");
}

/// Point 15: two admins demoting each other at once, through two processes, never leave no
/// active admin.
async fn two_admins_cannot_demote_each_other_to_none(backend: Backend) {
    let app = spawn_app(backend).await;
    let other = app.process();
    let active_admins = |app: &TestApp| -> i64 {
        users::table
            .filter(users::role.eq("admin"))
            .filter(users::active.eq(true))
            .count()
            .get_result(&mut app.conn())
            .unwrap()
    };
    for round in 0..6 {
        // Exactly two active admins.
        let a = app.user(Role::Admin).await;
        let b = app.user(Role::Admin).await;
        diesel::update(
            users::table
                .filter(users::role.eq("admin"))
                .filter(users::id.ne_all([a.id, b.id])),
        )
        .set(users::role.eq("editor"))
        .execute(&mut app.conn())
        .unwrap();
        assert_eq!(active_admins(&app), 2);
        let change = if round % 2 == 0 {
            json!({"role": "editor"})
        } else {
            json!({"active": false})
        };
        let (ra, rb) = tokio::join!(
            app.client
                .patch(app.url(&format!("/api/v1/users/{}", b.id)))
                .bearer_auth(&a.token)
                .json(&change)
                .send(),
            app.client
                .patch(other.url(&format!("/api/v1/users/{}", a.id)))
                .bearer_auth(&b.token)
                .json(&change)
                .send(),
        );
        let statuses = [ra.unwrap().status(), rb.unwrap().status()];
        assert_eq!(active_admins(&app), 1, "round {round}: {statuses:?}");
    }
}

/// Point 16: two processes moving topics under each other never make a cycle; topics nest
/// at most eight levels.
async fn topic_cycles_cannot_be_made_in_parallel(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let other = app.process();
    for round in 0..6 {
        let p = id(&app.topic(&editor.token, &format!("P {round}"), None).await);
        let q = id(&app.topic(&editor.token, &format!("Q {round}"), None).await);
        let (rp, rq) = tokio::join!(
            app.client
                .patch(app.url(&format!("/api/v1/topics/{p}")))
                .bearer_auth(&editor.token)
                .json(&json!({"parent_id": q}))
                .send(),
            app.client
                .patch(other.url(&format!("/api/v1/topics/{q}")))
                .bearer_auth(&editor.token)
                .json(&json!({"parent_id": p}))
                .send(),
        );
        let mut statuses = [rp.unwrap().status().as_u16(), rq.unwrap().status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 422], "round {round}");
        let parents: HashMap<i32, Option<i32>> = topics::table
            .select((topics::id, topics::parent_id))
            .load::<(i32, Option<i32>)>(&mut app.conn())
            .unwrap()
            .into_iter()
            .collect();
        for start in parents.keys() {
            let mut seen = BTreeSet::new();
            let mut at = Some(*start);
            while let Some(topic) = at {
                assert!(seen.insert(topic), "a cycle through {topic}");
                at = parents[&topic];
            }
        }
    }

    let mut parent = None;
    for level in 1..=8 {
        parent = Some(id(&app
            .topic(&editor.token, &format!("Level {level}"), parent)
            .await));
    }
    let too_deep = app
        .send_json(
            Method::POST,
            "/api/v1/topics",
            Some(&editor.token),
            &json!({"name": "Level 9", "parent_id": parent}),
        )
        .await;
    let problem = crate::helpers::assert_problem(too_deep, 422).await;
    assert_eq!(crate::helpers::error_fields(&problem), ["parent_id"]);
    // A subtree of two levels may not go under level 7 either.
    let top = id(&app.topic(&editor.token, "Two levels", None).await);
    app.topic(&editor.token, "Below", Some(top)).await;
    let level7: i64 = topics::table
        .filter(topics::name.eq("Level 7"))
        .select(topics::id)
        .first::<i32>(&mut app.conn())
        .unwrap()
        .into();
    let moved = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/topics/{top}"),
            Some(&editor.token),
            &json!({"parent_id": level7}),
        )
        .await;
    crate::helpers::assert_problem(moved, 422).await;
}

/// Point 17: `purge-trash` removes only what is still in the trash at the moment of its
/// delete; articles restored meanwhile stay.
async fn purging_never_removes_a_restored_article(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let mut ids = Vec::new();
    for i in 0..40 {
        let article = app
            .published(&editor.token, &format!("Old story {i}"), json!({}))
            .await;
        let path = format!("/api/v1/articles/{}", id(&article));
        assert_eq!(app.delete(&path, Some(&editor.token)).await.status(), 204);
        ids.push(id(&article));
    }
    let long_ago = chrono::Utc::now().naive_utc() - chrono::Duration::days(90);
    diesel::update(articles::table)
        .set(articles::deleted_at.eq(Some(long_ago)))
        .execute(&mut app.conn())
        .unwrap();
    let url = app.db.url_string();
    let purge = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_newsroom"))
            .arg("purge-trash")
            .env("DATABASE_URL", url)
            .env("NEWSROOM_JWT_SECRET", crate::helpers::JWT_SECRET)
            .output()
            .unwrap()
    });
    let restores = ids.iter().map(|article| {
        let request = app
            .request(
                Method::POST,
                &format!("/api/v1/articles/{article}/restore"),
                Some(&editor.token),
            )
            .send();
        async move { (*article, request.await.unwrap().status().as_u16()) }
    });
    let restored = join_all(restores).await;
    assert!(purge.await.unwrap().status.success());
    for (article, status) in restored {
        if status == 200 {
            let read = app
                .get(&format!("/api/v1/articles/{article}"), Some(&editor.token))
                .await;
            assert_eq!(
                read.status(),
                200,
                "article {article} was restored, then purged"
            );
        }
    }
}

/// The rows an article should have in `article_topics`: its own topics and all their
/// ancestors, each with the article's feed time.
fn expected_filing(
    parents: &HashMap<i32, Option<i32>>,
    direct: &[i32],
    feed_at: Option<chrono::NaiveDateTime>,
) -> BTreeMap<i32, (bool, Option<chrono::NaiveDateTime>)> {
    let mut rows = BTreeMap::new();
    for topic in direct {
        let mut at = parents.get(topic).copied().flatten();
        while let Some(ancestor) = at {
            rows.entry(ancestor).or_insert((false, feed_at));
            at = parents.get(&ancestor).copied().flatten();
        }
    }
    for topic in direct {
        rows.insert(*topic, (true, feed_at));
    }
    rows
}

fn assert_filing_invariant(app: &TestApp, step: &str) {
    let mut conn = app.conn();
    let parents: HashMap<i32, Option<i32>> = topics::table
        .select((topics::id, topics::parent_id))
        .load::<(i32, Option<i32>)>(&mut conn)
        .unwrap()
        .into_iter()
        .collect();
    type Filed = (i32, i32, bool, Option<chrono::NaiveDateTime>);
    let rows: Vec<Filed> = article_topics::table
        .select((
            article_topics::article_id,
            article_topics::topic_id,
            article_topics::direct,
            article_topics::feed_published_at,
        ))
        .load(&mut conn)
        .unwrap();
    let states: Vec<(i32, String, Option<chrono::NaiveDateTime>, bool)> = articles::table
        .select((
            articles::id,
            articles::status,
            articles::published_at,
            articles::deleted_at.is_not_null(),
        ))
        .load(&mut conn)
        .unwrap();
    for (article, status, published_at, trashed) in states {
        let mine: Vec<&Filed> = rows.iter().filter(|r| r.0 == article).collect();
        let direct: Vec<i32> = mine.iter().filter(|r| r.2).map(|r| r.1).collect();
        let feed_at = (status == "published" && !trashed)
            .then_some(published_at)
            .flatten();
        let actual: BTreeMap<i32, (bool, Option<chrono::NaiveDateTime>)> =
            mine.iter().map(|r| (r.1, (r.2, r.3))).collect();
        assert_eq!(
            actual,
            expected_filing(&parents, &direct, feed_at),
            "article {article} after {step}"
        );
    }
}

/// Point 18: after any sequence of topic writes, every article is in exactly the feeds of
/// its topics and their ancestors.
async fn articles_stay_filed_under_their_topics_and_ancestors(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let token = Some(editor.token.as_str());
    let mut rng = StdRng::seed_from_u64(20_261_201);
    let mut topic_ids: Vec<i64> = Vec::new();
    let mut article_ids: Vec<i64> = Vec::new();
    for step in 0..80 {
        let pick = |rng: &mut StdRng, ids: &[i64]| ids[rng.random_range(0..ids.len())];
        let op = if topic_ids.len() < 3 {
            0
        } else {
            rng.random_range(0..6)
        };
        let described = match op {
            0 | 1 => {
                let parent = (!topic_ids.is_empty() && rng.random_bool(0.7))
                    .then(|| pick(&mut rng, &topic_ids));
                let response = app
                    .send_json(
                        Method::POST,
                        "/api/v1/topics",
                        token,
                        &json!({"name": format!("Topic {step}"), "parent_id": parent}),
                    )
                    .await;
                if response.status() == 201 {
                    topic_ids.push(id(&response.json().await.unwrap()));
                }
                format!("creating a topic under {parent:?}")
            }
            2 => {
                let topic = pick(&mut rng, &topic_ids);
                let parent = rng.random_bool(0.8).then(|| pick(&mut rng, &topic_ids));
                app.send_json(
                    Method::PATCH,
                    &format!("/api/v1/topics/{topic}"),
                    token,
                    &json!({"parent_id": parent}),
                )
                .await;
                format!("moving topic {topic} under {parent:?}")
            }
            3 => {
                let topic = pick(&mut rng, &topic_ids);
                let response = app.delete(&format!("/api/v1/topics/{topic}"), token).await;
                if response.status() == 204 {
                    topic_ids.retain(|t| *t != topic);
                }
                format!("deleting topic {topic}")
            }
            4 => {
                let filed: Vec<i64> = (0..rng.random_range(1..=3))
                    .map(|_| pick(&mut rng, &topic_ids))
                    .collect();
                let status = if rng.random_bool(0.7) {
                    "published"
                } else {
                    "draft"
                };
                let response = app
                    .send_json(
                        Method::POST,
                        "/api/v1/articles",
                        token,
                        &json!({"title": format!("Story {step}"), "body": "x",
                            "status": status, "topic_ids": filed}),
                    )
                    .await;
                assert_eq!(response.status(), 201);
                article_ids.push(id(&response.json().await.unwrap()));
                format!("filing an article under {filed:?}")
            }
            _ => match article_ids.is_empty() {
                true => continue,
                false => {
                    let article = pick(&mut rng, &article_ids);
                    let filed: Vec<i64> = (0..rng.random_range(0..=2))
                        .map(|_| pick(&mut rng, &topic_ids))
                        .collect();
                    app.send_json(
                        Method::PATCH,
                        &format!("/api/v1/articles/{article}"),
                        token,
                        &json!({"topic_ids": filed, "primary_topic_id": null}),
                    )
                    .await;
                    format!("refiling article {article} under {filed:?}")
                }
            },
        };
        assert_filing_invariant(&app, &format!("step {step}, {described}"));
    }
}

backend_tests!(
    sign_in_throttling_cannot_be_raced,
    two_admins_cannot_demote_each_other_to_none,
    topic_cycles_cannot_be_made_in_parallel,
    purging_never_removes_a_restored_article,
    articles_stay_filed_under_their_topics_and_ancestors,
);
