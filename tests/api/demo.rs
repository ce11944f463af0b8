//! The demo newsroom from `seed-demo` answers the everyday queries sensibly.

use serde_json::Value;

use crate::helpers::{spawn_app, Backend};

async fn the_demo_answers_feeds_and_search(backend: Backend) {
    let app = spawn_app(backend).await;
    newsroom::seed::demo(&mut app.conn()).unwrap();

    let first: Value = app
        .get("/api/v1/articles", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["data"].as_array().unwrap().len(), 20);
    assert_eq!(
        first["data"][0]["slug"],
        "tajikistan-and-kyrgyzstan-sign-treaty-ending-decades-long-border-dispute"
    );
    assert!(first["next_cursor"].is_string());
    assert_eq!(
        app.all_ids("/api/v1/articles?limit=7", None).await.len(),
        48
    );

    let topic: Value = app
        .get("/api/v1/topics/central-asia", None)
        .await
        .json()
        .await
        .unwrap();
    let in_topic = app
        .all_ids("/api/v1/articles?topic=central-asia", None)
        .await;
    assert_eq!(
        in_topic.len() as i64,
        topic["article_count"].as_i64().unwrap()
    );
    assert!(in_topic.len() > 40);
    assert_eq!(
        app.all_ids("/api/v1/articles?topic=tajikistan", None)
            .await
            .len(),
        18
    );

    let author: Value = app
        .get("/api/v1/authors/malika-rahimova", None)
        .await
        .json()
        .await
        .unwrap();
    let by_author = app
        .all_ids("/api/v1/articles?author=malika-rahimova", None)
        .await;
    assert_eq!(
        by_author.len() as i64,
        author["article_count"].as_i64().unwrap()
    );

    let russian: Value = app
        .get("/api/v1/articles?language=ru&limit=100", None)
        .await
        .json()
        .await
        .unwrap();
    let russian = russian["data"].as_array().unwrap();
    assert_eq!(russian.len(), 23);
    assert!(russian.iter().all(|a| a["language"] == "ru"));

    let treaty: Value = app
        .get("/api/v1/articles?q=treaty", None)
        .await
        .json()
        .await
        .unwrap();
    let titles: Vec<&str> = treaty["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.len() >= 2 && titles.iter().all(|t| t.to_lowercase().contains("treaty")),
        "{titles:?}"
    );
    let russian_search = app.all_ids("/api/v1/articles?q=границы", None).await;
    assert!(
        russian_search.len() >= 2,
        "Russian word forms: {russian_search:?}"
    );
}

backend_tests!(the_demo_answers_feeds_and_search);
