//! Admins manage staff accounts; everyone edits their own profile.

use newsroom::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, Backend};

async fn admins_create_read_update_and_list_users(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.user(Role::Admin).await;
    let token = Some(admin.token.as_str());
    let created = app
        .send_json(
            Method::POST,
            "/api/v1/users",
            token,
            &json!({"email": " Zarina.Karimova@Newsroom.Example ", "name": "Зарина Каримова",
                    "role": "author", "password": "a long enough passphrase", "bio": "Culture desk"}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let user: Value = created.json().await.unwrap();
    assert_eq!(location, format!("/api/v1/users/{}", user["id"]));
    assert_eq!(user["email"], "zarina.karimova@newsroom.example");
    assert_eq!(user["slug"], "zarina-karimova");
    assert_eq!(user["role"], "author");
    assert_eq!(user["active"], true);
    assert!(user.get("password_hash").is_none() && user.get("password").is_none());
    assert!(user["created_at"].as_str().unwrap().ends_with('Z'));

    let fetched: Value = app.get(&location, token).await.json().await.unwrap();
    assert_eq!(fetched, user);
    app.login(
        "zarina.karimova@newsroom.example",
        "a long enough passphrase",
    )
    .await;

    let duplicate = app
        .send_json(
            Method::POST,
            "/api/v1/users",
            token,
            &json!({"email": "zarina.karimova@newsroom.example", "name": "Another", "role": "editor", "password": "a long enough passphrase"}),
        )
        .await;
    assert_problem(duplicate, 409).await;
    let same_name = app
        .send_json(
            Method::POST,
            "/api/v1/users",
            token,
            &json!({"email": "z2@newsroom.example", "name": "Зарина Каримова", "role": "editor", "password": "a long enough passphrase"}),
        )
        .await;
    let same_name: Value = same_name.json().await.unwrap();
    assert_eq!(same_name["slug"], "zarina-karimova-2");

    let updated = app
        .send_json(
            Method::PATCH,
            &location,
            token,
            &json!({"name": "Zarina Karimova", "bio": null, "role": "editor"}),
        )
        .await;
    assert_eq!(updated.status(), 200);
    let updated: Value = updated.json().await.unwrap();
    assert_eq!(updated["name"], "Zarina Karimova");
    assert_eq!(updated["bio"], Value::Null);
    assert_eq!(updated["role"], "editor");
    assert_eq!(updated["email"], "zarina.karimova@newsroom.example");
    let taken = app
        .send_json(
            Method::PATCH,
            &location,
            token,
            &json!({"email": "z2@newsroom.example"}),
        )
        .await;
    assert_problem(taken, 409).await;

    assert_problem(app.get("/api/v1/users/9999", token).await, 404).await;
    assert_problem(
        app.send_json(
            Method::PATCH,
            "/api/v1/users/9999",
            token,
            &json!({"name": "X"}),
        )
        .await,
        404,
    )
    .await;
    // Deactivation is `PATCH {"active": false}`; an account is never deleted through the API.
    let refused = app.delete("/api/v1/users/9999", token).await;
    assert_eq!(refused.headers()["allow"], "GET, HEAD, PATCH");
    assert_problem(refused, 405).await;
}

async fn user_lists_are_paginated_by_cursor(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.user(Role::Admin).await;
    for _ in 0..4 {
        app.user(Role::Author).await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/users?limit=2".to_owned();
    loop {
        let page: Value = app
            .get(&path, Some(&admin.token))
            .await
            .json()
            .await
            .unwrap();
        let data = page["data"].as_array().unwrap();
        assert!(data.len() <= 2);
        seen.extend(data.iter().map(|u| u["id"].as_i64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/users?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen.len(), 5);
    assert_eq!(seen, sorted, "no repeats, in order");

    let authors: Value = app
        .get("/api/v1/users?role=author", Some(&admin.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(authors["data"].as_array().unwrap().len(), 4);
}

async fn the_last_admin_cannot_be_removed(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.user(Role::Admin).await;
    let path = format!("/api/v1/users/{}", admin.id);
    let deactivate = json!({"active": false});
    assert_problem(
        app.send_json(Method::PATCH, &path, Some(&admin.token), &deactivate)
            .await,
        409,
    )
    .await;
    assert_problem(
        app.send_json(
            Method::PATCH,
            &path,
            Some(&admin.token),
            &json!({"role": "editor"}),
        )
        .await,
        409,
    )
    .await;
    let other = app.user(Role::Admin).await;
    let off = |token: String| {
        let (app, path, body) = (&app, &path, &deactivate);
        async move {
            app.send_json(Method::PATCH, path, Some(&token), body)
                .await
                .status()
        }
    };
    assert_eq!(off(other.token.clone()).await, 200);
    assert_eq!(off(other.token.clone()).await, 200, "idempotent");
}

async fn everyone_edits_their_own_profile(backend: Backend) {
    let app = spawn_app(backend).await;
    let author = app.user(Role::Author).await;
    let response = app
        .send_json(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&author.token),
            &json!({"name": "Dilnoza Yusupova", "bio": "Tashkent"}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let me: Value = response.json().await.unwrap();
    assert_eq!(me["name"], "Dilnoza Yusupova");
    assert_eq!(me["role"], "author");
    let escalate = app
        .send_json(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&author.token),
            &json!({"role": "admin"}),
        )
        .await;
    assert_eq!(
        crate::helpers::error_fields(&assert_problem(escalate, 422).await),
        ["role"]
    );
    let too_long = app
        .send_json(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&author.token),
            &json!({"name": "x".repeat(500)}),
        )
        .await;
    assert_problem(too_long, 422).await;
}

backend_tests!(
    admins_create_read_update_and_list_users,
    user_lists_are_paginated_by_cursor,
    the_last_admin_cannot_be_removed,
    everyone_edits_their_own_profile,
);
