//! Every error is an RFC 9457 problem document with the right status.

use diesel::connection::SimpleConnection;
use newsroom::domain::Role;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_problem, error_fields, spawn_app, Backend};

const LOGIN: &str = "/api/v1/auth/login";

async fn malformed_json_is_400(backend: Backend) {
    let app = spawn_app(backend).await;
    for body in [
        "{\"email\": ",
        "not json",
        "",
        "{\"email\": \"a@b.c\", \"password\": \"p\"} trailing",
    ] {
        let response = app
            .request(Method::POST, LOGIN, None)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_problem(response, 400).await;
    }
}

async fn wrong_content_type_is_415(backend: Backend) {
    let app = spawn_app(backend).await;
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut request = app
            .request(Method::POST, LOGIN, None)
            .body(r#"{"email":"a@b.c","password":"p"}"#);
        if let Some(ct) = content_type {
            request = request.header("Content-Type", ct);
        }
        assert_problem(request.send().await.unwrap(), 415).await;
    }
}

async fn validation_failures_are_422_naming_each_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.user(Role::Admin).await;
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/users",
            Some(&admin.token),
            &json!({"email": "not-an-email", "name": " ", "role": "author", "password": "short"}),
        )
        .await;
    let problem = assert_problem(response, 422).await;
    let mut fields = error_fields(&problem);
    fields.sort();
    assert_eq!(fields, ["email", "name", "password"]);
    assert!(problem["errors"][0]["message"].is_string());

    let wrong_shape = app
        .send_json(
            Method::POST,
            "/api/v1/users",
            Some(&admin.token),
            &json!({"email": 5}),
        )
        .await;
    assert_eq!(
        error_fields(&assert_problem(wrong_shape, 422).await),
        ["email"]
    );
    let unknown_role = app
        .send_json(
            Method::POST,
            "/api/v1/users",
            Some(&admin.token),
            &json!({"email": "x@newsroom.example", "name": "X", "role": "owner", "password": "long enough password"}),
        )
        .await;
    assert_eq!(
        error_fields(&assert_problem(unknown_role, 422).await),
        ["role"]
    );
    let unknown_field = app
        .send_json(
            Method::POST,
            LOGIN,
            None,
            &json!({"email": "a@b.c", "password": "p", "remember": true}),
        )
        .await;
    assert_eq!(
        error_fields(&assert_problem(unknown_field, 422).await),
        ["remember"]
    );
}

async fn invalid_query_and_path_parameters_are_rejected(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.user(Role::Admin).await;
    let token = Some(admin.token.as_str());
    assert_problem(app.get("/api/v1/users?limit=many", token).await, 400).await;
    assert_problem(app.get("/api/v1/users?role=owner", token).await, 400).await;
    let out_of_range = assert_problem(app.get("/api/v1/users?limit=0", token).await, 422).await;
    assert_eq!(error_fields(&out_of_range), ["limit"]);
    let bad_cursor = assert_problem(app.get("/api/v1/users?cursor=%%%", token).await, 422).await;
    assert_eq!(error_fields(&bad_cursor), ["cursor"]);
    assert_problem(app.get("/api/v1/users/99999999999", token).await, 400).await;
    assert_problem(app.get("/api/v1/users/abc", token).await, 404).await;
    // No article, topic or author has id 0: as for any id that names nothing, 404.
    assert_problem(app.get("/api/v1/authors/0", None).await, 404).await;
    assert_problem(app.get("/api/v1/articles/99999999999", None).await, 404).await;
}

async fn unknown_routes_are_404_and_wrong_methods_405(backend: Backend) {
    let app = spawn_app(backend).await;
    let problem = assert_problem(app.get("/api/v1/nothing-here", None).await, 404).await;
    assert_eq!(problem["type"], "urn:newsroom:problem:not-found");
    assert_problem(app.get("/", None).await, 404).await;

    let response = app
        .request(Method::PUT, "/api/v1/users/7", None)
        .send()
        .await
        .unwrap();
    let allow = response.headers()["allow"].to_str().unwrap().to_owned();
    assert_problem(response, 405).await;
    assert_eq!(allow, "GET, HEAD, PATCH");
    let response = app
        .request(Method::DELETE, "/health/live", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "GET, HEAD");
    assert_problem(response, 405).await;
}

async fn bodies_over_the_limit_are_413(backend: Backend) {
    let app = spawn_app(backend).await;
    let huge = format!(
        r#"{{"email": "a@b.c", "password": "{}"}}"#,
        "x".repeat(1 << 20)
    );
    let response = app
        .request(Method::POST, LOGIN, None)
        .header("Content-Type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_problem(response, 413).await;
}

async fn internal_failures_are_500_without_internals(backend: Backend) {
    let app = spawn_app(backend).await;
    app.conn()
        .batch_execute("DROP TABLE login_failures")
        .unwrap();
    let response = app
        .send_json(
            Method::POST,
            LOGIN,
            None,
            &json!({"email": "a@newsroom.example", "password": "whatever"}),
        )
        .await;
    let problem = assert_problem(response, 500).await;
    let text = problem.to_string().to_lowercase();
    assert!(
        !text.contains("login_failures") && !text.contains("table"),
        "{text}"
    );
}

backend_tests!(
    malformed_json_is_400,
    wrong_content_type_is_415,
    validation_failures_are_422_naming_each_field,
    invalid_query_and_path_parameters_are_rejected,
    unknown_routes_are_404_and_wrong_methods_405,
    bodies_over_the_limit_are_413,
    internal_failures_are_500_without_internals,
);
