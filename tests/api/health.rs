use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::helpers::{spawn_app, Backend};

async fn liveness_and_readiness_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in ["/health/live", "/health/ready"] {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), 200, "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ok");
    }
}

async fn request_ids_are_echoed_or_generated(backend: Backend) {
    let app = spawn_app(backend).await;
    let echoed = app
        .request(reqwest::Method::GET, "/health/live", None)
        .header("X-Request-Id", "edge-7f3a9c")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "edge-7f3a9c");
    let first = app.get("/nowhere", None).await;
    let second = app.get("/nowhere", None).await;
    let (a, b) = (
        &first.headers()["x-request-id"],
        &second.headers()["x-request-id"],
    );
    assert!(!a.is_empty());
    assert_ne!(a, b, "generated ids must differ");
    let junk = app
        .request(reqwest::Method::GET, "/health/live", None)
        .header("X-Request-Id", "x".repeat(500))
        .send()
        .await
        .unwrap();
    assert_ne!(junk.headers()["x-request-id"], "x".repeat(500).as_str());
}

backend_tests!(
    liveness_and_readiness_answer,
    request_ids_are_echoed_or_generated
);

/// Readiness turns 503 while PostgreSQL refuses connections and recovers by itself.
#[cfg_attr(
    not(pg_tests),
    ignore = "set NEWSROOM_TEST_POSTGRES_URL to run the PostgreSQL suite"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_readiness_follows_the_database() {
    let app = spawn_app(Backend::Postgres).await;
    let crate::helpers::TestDb::Postgres {
        admin_url, name, ..
    } = &app.db
    else {
        unreachable!()
    };
    assert_eq!(app.get("/health/ready", None).await.status(), 200);
    let mut admin = PgConnection::establish(admin_url).unwrap();
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .unwrap();
    // pg_terminate_backend only signals: wait until the server's connections are really gone.
    for _ in 0..50 {
        let left: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
            "COUNT(*) FROM pg_stat_activity WHERE datname = '{name}'"
        )))
        .get_result(&mut admin)
        .unwrap();
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let down = app.get("/health/ready", None).await;
    crate::helpers::assert_problem(down, 503).await;
    assert_eq!(app.get("/health/live", None).await.status(), 200);
    admin
        .batch_execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .unwrap();
    let mut status = 0;
    for _ in 0..50 {
        status = app.get("/health/ready", None).await.status().as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200, "readiness did not recover");
}
