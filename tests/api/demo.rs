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

/// The demo's home front is the page we model: the report, its ten related headlines (in
/// the editor's order), then all news, none twice; the section front is its topic's feed.
async fn the_demo_fronts_reproduce_the_page(backend: Backend) {
    let app = spawn_app(backend).await;
    newsroom::seed::demo(&mut app.conn()).unwrap();
    let home: Value = app
        .get("/api/v1/fronts/home", None)
        .await
        .json()
        .await
        .unwrap();
    let section = |front: &Value, n: usize| -> Vec<i64> {
        front["sections"][n]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_i64().unwrap())
            .collect()
    };
    let lead = section(&home, 0);
    assert_eq!(home["sections"][0]["items"][0]["slug"], SEED);
    let related: Value = app
        .get(&format!("/api/v1/articles/{SEED}/related?limit=10"), None)
        .await
        .json()
        .await
        .unwrap();
    let curated: Vec<i64> = related["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["article"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(section(&home, 1), curated);
    let all_news = section(&home, 2);
    assert_eq!(all_news.len(), 20);
    let mut every: Vec<i64> = [lead, curated, all_news].concat();
    let count = every.len();
    every.sort();
    every.dedup();
    assert_eq!(every.len(), count, "an article shown twice");
    let asia: Value = app
        .get("/api/v1/fronts/central-asia", None)
        .await
        .json()
        .await
        .unwrap();
    let in_topic = app
        .ids_from("/api/v1/articles?topic=central-asia&limit=20", None, None)
        .await;
    assert_eq!(section(&asia, 0), in_topic[..20]);
}

const SEED: &str = "tajikistan-and-kyrgyzstan-sign-treaty-ending-decades-long-border-dispute";

backend_tests!(
    the_demo_answers_feeds_and_search,
    the_demo_fronts_reproduce_the_page
);
