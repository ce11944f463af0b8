//! Concurrent writers: derived slugs never collide into errors, on either database.

use std::collections::HashSet;

use newsroom::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Backend};

async fn concurrent_creates_get_distinct_slugs(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    for (path, body) in [
        ("/api/v1/topics", json!({"name": "Таджикистан"})),
        (
            "/api/v1/articles",
            json!({"title": "Breaking: border treaty signed", "body": "<p>x</p>", "status": "published"}),
        ),
    ] {
        let requests =
            (0..8).map(|_| app.send_json(Method::POST, path, Some(&editor.token), &body));
        let responses = futures_util::future::join_all(requests).await;
        let mut slugs = HashSet::new();
        for response in responses {
            assert_eq!(response.status(), 201, "{path}");
            let created: Value = response.json().await.unwrap();
            slugs.insert(created["slug"].as_str().unwrap().to_owned());
        }
        assert_eq!(slugs.len(), 8, "{path}: {slugs:?}");
    }
}

backend_tests!(concurrent_creates_get_distinct_slugs);
