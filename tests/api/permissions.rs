//! Every write endpoint called as the public, an author, an editor and an admin.

use newsroom::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Backend};

async fn the_permission_matrix_holds(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.user(Role::Admin).await;
    let editor = app.user(Role::Editor).await;
    let author = app.user(Role::Author).await;
    let target = app.user(Role::Author).await;
    let users = format!("/api/v1/users/{}", target.id);
    let new_user = |n: &str| json!({"email": format!("new-{n}@newsroom.example"), "name": "New", "role": "author", "password": "a long enough passphrase"});

    // (method, path, body, expected status for: public, author, editor, admin)
    let matrix: Vec<(Method, String, Option<Value>, [u16; 4])> = vec![
        (
            Method::GET,
            "/api/v1/users".into(),
            None,
            [401, 403, 403, 200],
        ),
        (
            Method::POST,
            "/api/v1/users".into(),
            Some(new_user("x")),
            [401, 403, 403, 201],
        ),
        (Method::GET, users.clone(), None, [401, 403, 403, 200]),
        (
            Method::PATCH,
            users.clone(),
            Some(json!({"bio": "x"})),
            [401, 403, 403, 200],
        ),
        (Method::DELETE, users.clone(), None, [401, 403, 403, 204]),
        (
            Method::PATCH,
            "/api/v1/users/me".into(),
            Some(json!({"bio": "mine"})),
            [401, 200, 200, 200],
        ),
        (
            Method::GET,
            "/api/v1/auth/me".into(),
            None,
            [401, 200, 200, 200],
        ),
    ];
    let callers = [
        None,
        Some(&author.token),
        Some(&editor.token),
        Some(&admin.token),
    ];
    for (method, path, body, expected) in matrix {
        for (caller, want) in callers.iter().zip(expected) {
            let mut request = app.request(method.clone(), &path, caller.map(String::as_str));
            if let Some(body) = &body {
                request = request.json(body);
            }
            let status = request.send().await.unwrap().status().as_u16();
            assert_eq!(status, want, "{method} {path} as {caller:?}");
        }
    }
}

backend_tests!(the_permission_matrix_holds);
