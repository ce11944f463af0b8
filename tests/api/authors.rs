//! Public bylines, read against the demo newsroom.

use newsroom::domain::Role;
use serde_json::Value;

use crate::helpers::{assert_problem, spawn_app, Backend};

async fn bylines_list_people_with_published_articles(backend: Backend) {
    let app = spawn_app(backend).await;
    newsroom::seed::demo(&mut app.conn()).unwrap();
    let staff_only = app.user(Role::Admin).await;

    let page: Value = app.get("/api/v1/authors", None).await.json().await.unwrap();
    let data = page["data"].as_array().unwrap();
    let names: Vec<&str> = data.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Farrukh Nazarov", "Malika Rahimova"]);
    assert_eq!(data[0]["article_count"], 16);
    assert_eq!(data[1]["article_count"], 32);
    for author in data {
        assert!(
            author.get("email").is_none() && author.get("role").is_none(),
            "{author}"
        );
    }
    assert_eq!(page["next_cursor"], Value::Null);

    let first: Value = app
        .get("/api/v1/authors?limit=1", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["data"][0]["name"], "Farrukh Nazarov");
    let cursor = first["next_cursor"].as_str().unwrap();
    let second: Value = app
        .get(&format!("/api/v1/authors?limit=1&cursor={cursor}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["data"][0]["name"], "Malika Rahimova");
    assert_eq!(second["next_cursor"], Value::Null);

    let by_slug: Value = app
        .get("/api/v1/authors/malika-rahimova", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_slug["article_count"], 32);
    let by_id: Value = app
        .get(&format!("/api/v1/authors/{}", by_slug["id"]), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_id, by_slug);
    assert_problem(
        app.get(&format!("/api/v1/authors/{}", staff_only.id), None)
            .await,
        404,
    )
    .await;
    assert_problem(app.get("/api/v1/authors/nobody-here", None).await, 404).await;
}

backend_tests!(bylines_list_people_with_published_articles);
