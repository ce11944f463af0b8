//! Related suggestions come from stored topic heads: after random writes of every kind that
//! can change them (publishing, unpublishing, trash, restore, removal for good, new topics,
//! new publication times, links, a schedule coming due), every public article's related list
//! is exactly the one computed from scratch from the public articles, both where the heads
//! answer and where a topic holds more than its head and the server reads the indexes.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use newsroom::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Backend, Dice, TestApp};

/// A public article as the public list shows it: its time and its own topics.
struct Public {
    at: DateTime<Utc>,
    topics: Vec<i64>,
}

/// Every public article, from the public list.
async fn public_articles(app: &TestApp) -> BTreeMap<i64, Public> {
    let mut found = BTreeMap::new();
    let mut next = "/api/v1/articles?limit=100".to_owned();
    loop {
        let page: Value = app.get(&next, None).await.json().await.unwrap();
        for item in page["data"].as_array().unwrap() {
            let at = item["published_at"].as_str().unwrap().parse().unwrap();
            let topics = item["topics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_i64().unwrap())
                .collect();
            found.insert(item["id"].as_i64().unwrap(), Public { at, topics });
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => next = format!("/api/v1/articles?limit=100&cursor={cursor}"),
            None => return found,
        }
    }
}

/// The related list of `id` computed from scratch: its public curated links first (up to
/// `limit`), then of each of its topics the newest `max(3 × rest, 30)` public articles other
/// than it and those links, ranked by topics shared with it, then newest, then id.
fn expected(public: &BTreeMap<i64, Public>, id: i64, curated: &[i64], limit: usize) -> Vec<i64> {
    let mut list: Vec<i64> = curated.iter().copied().take(limit).collect();
    let rest = limit - list.len();
    if rest == 0 {
        return list;
    }
    let own = &public[&id].topics;
    let mut candidates: Vec<i64> = Vec::new();
    for topic in own {
        let mut filed: Vec<(&i64, &Public)> = public
            .iter()
            .filter(|(other, p)| **other != id && !list.contains(other) && p.topics.contains(topic))
            .collect();
        filed.sort_by(|(a, pa), (b, pb)| (pb.at, *b).cmp(&(pa.at, *a)));
        candidates.extend(
            filed
                .iter()
                .take((3 * rest).max(30))
                .map(|(other, _)| **other),
        );
    }
    candidates.sort_unstable();
    candidates.dedup();
    let shared = |other: &i64| {
        public[other]
            .topics
            .iter()
            .filter(|t| own.contains(t))
            .count()
    };
    candidates.sort_by(|a, b| (shared(b), public[b].at, *b).cmp(&(shared(a), public[a].at, *a)));
    list.extend(candidates.into_iter().take(rest));
    list
}

/// The ids of a list of related items.
async fn related_ids(app: &TestApp, path: &str, field: &str) -> Vec<i64> {
    let page: Value = app.get(path, None).await.json().await.unwrap();
    page[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["article"]["id"].as_i64().unwrap())
        .collect()
}

/// Checks every public article's related lists (the page's and `/related` at two limits)
/// against the public articles as they are before and after reading them all (again if a
/// schedule came due in between).
async fn check_all(app: &TestApp, when: &str) {
    loop {
        let public = public_articles(app).await;
        let mut seen = Vec::new();
        for id in public.keys() {
            let curated = related_ids(
                app,
                &format!("/api/v1/articles/{id}/related?suggest=false&limit=50"),
                "data",
            )
            .await;
            let page = related_ids(
                app,
                &format!("/api/v1/articles/{id}?include=related"),
                "related",
            )
            .await;
            seen.push((*id, 10, "page", page, curated.clone()));
            for limit in [10, 50] {
                let listed = related_ids(
                    app,
                    &format!("/api/v1/articles/{id}/related?limit={limit}"),
                    "data",
                )
                .await;
                seen.push((*id, limit, "/related", listed, curated.clone()));
            }
        }
        let after = public_articles(app).await;
        if !after.keys().eq(public.keys()) {
            continue;
        }
        for (id, limit, what, shown, curated) in seen {
            assert_eq!(
                shown,
                expected(&public, id, &curated, limit),
                "{when}: {what} of {id} at limit {limit}"
            );
        }
        return;
    }
}

async fn related_lists_match_a_from_scratch_computation_after_random_writes(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let admin = app.user(Role::Admin).await;
    let token = editor.token.as_str();
    let mut topics = Vec::new();
    for name in ["Politics", "Economy", "Sport"] {
        topics.push(app.topic(token, name, None).await["id"].as_i64().unwrap());
    }
    // Politics holds more than a head (64): its older articles are read from the index.
    let start = Utc::now() - Duration::days(30);
    let mut articles = Vec::new();
    for n in 0..84_i64 {
        let filed = match n % 6 {
            0 => vec![topics[0], topics[1]],
            1..=3 => vec![topics[0]],
            4 => vec![topics[1]],
            _ => vec![topics[2], topics[1]],
        };
        let at = start + Duration::hours(n);
        let created = app
            .published(
                token,
                &format!("Story {n}"),
                json!({"topic_ids": filed, "published_at": at.to_rfc3339()}),
            )
            .await;
        articles.push(created["id"].as_i64().unwrap());
    }
    // Newer than all of them, and not public yet: at the top of their heads.
    let due = Utc::now() + Duration::seconds(4);
    let mut scheduled = Vec::new();
    for n in 0..4 {
        let created = app
            .create(
                "/api/v1/articles",
                token,
                json!({"title": format!("Coming {n}"), "body": "<p>x</p>", "status": "scheduled",
                       "published_at": (due + Duration::milliseconds(n)).to_rfc3339(),
                       "topic_ids": [topics[0]]}),
            )
            .await;
        scheduled.push(created["id"].as_i64().unwrap());
    }
    articles.extend(&scheduled);
    check_all(&app, "at first").await;
    let mut dice = Dice(0xfeed_beef);
    for round in 0..50 {
        let id = articles[dice.below(articles.len())];
        let path = format!("/api/v1/articles/{id}");
        let response = match dice.below(8) {
            0 => {
                let first = topics[dice.below(3)];
                let second = topics[dice.below(3)];
                let body = json!({"topic_ids": [first, second]});
                app.send_json(Method::PATCH, &path, Some(token), &body)
                    .await
            }
            1 => {
                let status = ["published", "draft"][dice.below(2)];
                let body = json!({"status": status});
                app.send_json(Method::PATCH, &path, Some(token), &body)
                    .await
            }
            2 => {
                let at = start + Duration::minutes(i64::try_from(dice.below(90 * 60)).unwrap());
                let body = json!({"published_at": at.to_rfc3339()});
                app.send_json(Method::PATCH, &path, Some(token), &body)
                    .await
            }
            3 => app.delete(&path, Some(token)).await,
            4 => app.post(&format!("{path}/restore"), Some(token)).await,
            5 if round % 10 == 5 => {
                articles.retain(|a| *a != id);
                app.delete(&format!("{path}?permanent=true"), Some(&admin.token))
                    .await
            }
            _ => {
                let target = articles[dice.below(articles.len())];
                let body = json!({"target_id": target});
                app.send_json(Method::POST, &format!("{path}/related"), Some(token), &body)
                    .await
            }
        };
        // Some writes are refused by the rules (a link to itself or to a hidden article, a
        // restore of what is not in the trash): what matters is what the lists show after.
        let status = response.status().as_u16();
        assert!(
            status < 300 || [404, 409, 422].contains(&status),
            "round {round}: {status}"
        );
        if round % 10 == 9 {
            check_all(&app, &format!("round {round}")).await;
        }
    }
    crate::helpers::sleep_past(due + Duration::milliseconds(10)).await;
    let coming = public_articles(&app).await;
    assert!(
        scheduled.iter().any(|id| coming.contains_key(id)),
        "a scheduled article came due"
    );
    check_all(&app, "once the schedules came due").await;
}

backend_tests!(related_lists_match_a_from_scratch_computation_after_random_writes);
