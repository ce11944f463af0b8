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

/// The server's connections of the test database, by process id.
fn server_connections(admin: &mut PgConnection, name: &str) -> Vec<i32> {
    diesel::select(diesel::dsl::sql::<
        diesel::sql_types::Array<diesel::sql_types::Integer>,
    >(&format!(
        "COALESCE(array_agg(pid), '{{}}') FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    )))
    .get_result(admin)
    .unwrap()
}

/// Drops every connection the server holds to its database, as a restart or a failover
/// would, and waits until they are gone.
async fn drop_connections(admin: &mut PgConnection, name: &str) {
    let held = server_connections(admin, name);
    assert!(!held.is_empty());
    for pid in &held {
        admin
            .batch_execute(&format!("SELECT pg_terminate_backend({pid})"))
            .unwrap();
    }
    for _ in 0..50 {
        if !server_connections(admin, name)
            .iter()
            .any(|p| held.contains(p))
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the connections were not dropped");
}

/// When PostgreSQL drops the server's connections, reads recover by themselves: a request
/// that meets a dropped connection gets a 5xx in our error format (never internal text), the
/// connection is checked before its next use and replaced, so at most one request per pooled
/// connection fails; and a connection that sat idle for over a second is checked before it is
/// used, so after a pause none fails.
#[cfg_attr(
    not(pg_tests),
    ignore = "set NEWSROOM_TEST_POSTGRES_URL to run the PostgreSQL suite"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_reads_recover_from_dropped_connections() {
    let app =
        crate::helpers::spawn_app_with(Backend::Postgres, |c| c.response_cache_bytes = 0).await;
    let crate::helpers::TestDb::Postgres {
        admin_url, name, ..
    } = &app.db
    else {
        unreachable!()
    };
    let mut admin = PgConnection::establish(admin_url).unwrap();
    let read = "/api/v1/articles?limit=5";
    let burst = || async {
        let mut failed = 0;
        for _ in 0..40 {
            let response = app.get(read, None).await;
            if response.status() != 200 {
                failed += 1;
                let status = response.status().as_u16();
                assert!([500, 503].contains(&status), "{status}");
                let problem = crate::helpers::assert_problem(response, status).await;
                assert!(!problem.to_string().contains("terminat"), "{problem}");
            }
        }
        failed
    };
    assert_eq!(burst().await, 0);
    drop_connections(&mut admin, name).await;
    let failed = burst().await;
    assert!(failed <= 4, "{failed} requests failed with a pool of 4");
    assert_eq!(burst().await, 0, "after the first failures");
    drop_connections(&mut admin, name).await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(burst().await, 0, "after a pause");
}
