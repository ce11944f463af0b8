//! Every write endpoint called as the public, an author (on their own work and on others'), an
//! editor and an admin.

use newsroom::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Backend, TestApp, TestUser};

/// One call per caller: (path for each caller, expected status for each caller), callers in
/// the order public, author, editor, admin.
struct Row {
    method: Method,
    paths: [String; 4],
    body: Option<Value>,
    expected: [u16; 4],
}

fn row(method: Method, path: &str, body: Option<Value>, expected: [u16; 4]) -> Row {
    Row {
        method,
        paths: [path, path, path, path].map(str::to_owned),
        body,
        expected,
    }
}

async fn drafts(app: &TestApp, owner: &TestUser, n: usize) -> Vec<String> {
    let mut paths = Vec::new();
    for i in 0..n {
        let article = app
            .create(
                "/api/v1/articles",
                &owner.token,
                json!({"title": format!("Draft {i}"), "body": "x"}),
            )
            .await;
        paths.push(format!("/api/v1/articles/{}", article["id"]));
    }
    paths
}

async fn the_permission_matrix_holds(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.user(Role::Admin).await;
    let editor = app.user(Role::Editor).await;
    let author = app.user(Role::Author).await;
    let colleague = app.user(Role::Author).await;
    let target = format!("/api/v1/users/{}", colleague.id);
    let new_user = json!({"email": "new@newsroom.example", "name": "New", "role": "author", "password": "a long enough passphrase"});

    let own = drafts(&app, &author, 1).await.remove(0);
    let others = drafts(&app, &colleague, 1).await.remove(0);
    let published = app
        .published(&editor.token, "Published by the desk", json!({}))
        .await;
    let published_id = published["id"].as_i64().unwrap();
    let published = format!("/api/v1/articles/{published_id}");
    let others_id: i64 = others.rsplit('/').next().unwrap().parse().unwrap();
    let own_deletes = drafts(&app, &author, 4).await;
    let mut topic_deletes = Vec::new();
    for i in 0..4 {
        let topic = app.topic(&admin.token, &format!("Doomed {i}"), None).await;
        topic_deletes.push(format!("/api/v1/topics/{}", topic["id"]));
    }
    let topic = app.topic(&admin.token, "Politics", None).await;
    let topic = format!("/api/v1/topics/{}", topic["id"]);

    let matrix = vec![
        // Users: admins only; everyone their own profile.
        row(Method::GET, "/api/v1/users", None, [401, 403, 403, 200]),
        row(
            Method::POST,
            "/api/v1/users",
            Some(new_user),
            [401, 403, 403, 201],
        ),
        row(Method::GET, &target, None, [401, 403, 403, 200]),
        row(
            Method::PATCH,
            &target,
            Some(json!({"bio": "x"})),
            [401, 403, 403, 200],
        ),
        row(
            Method::PATCH,
            "/api/v1/users/me",
            Some(json!({"bio": "mine"})),
            [401, 200, 200, 200],
        ),
        row(Method::GET, "/api/v1/auth/me", None, [401, 200, 200, 200]),
        // Topics: editors and admins.
        row(
            Method::POST,
            "/api/v1/topics",
            Some(json!({"name": "Sport"})),
            [401, 403, 201, 201],
        ),
        row(
            Method::PATCH,
            &topic,
            Some(json!({"description": "Elections"})),
            [401, 403, 200, 200],
        ),
        Row {
            method: Method::DELETE,
            paths: topic_deletes.try_into().unwrap(),
            body: None,
            expected: [401, 403, 204, 204],
        },
        // Articles: authors write drafts and submit them; editors and admins everything.
        row(
            Method::POST,
            "/api/v1/articles",
            Some(json!({"title": "T", "body": "b"})),
            [401, 201, 201, 201],
        ),
        row(
            Method::POST,
            "/api/v1/articles",
            Some(json!({"title": "T", "body": "b", "status": "published"})),
            [401, 403, 201, 201],
        ),
        row(
            Method::PATCH,
            &own,
            Some(json!({"summary": "Lead"})),
            [401, 200, 200, 200],
        ),
        row(
            Method::PATCH,
            &others,
            Some(json!({"summary": "Lead"})),
            [401, 404, 200, 200],
        ),
        row(
            Method::PATCH,
            &published,
            Some(json!({"summary": "Lead"})),
            [401, 403, 200, 200],
        ),
        row(Method::GET, &others, None, [404, 404, 200, 200]),
        row(
            Method::GET,
            &format!("{others}/revisions"),
            None,
            [401, 404, 200, 200],
        ),
        Row {
            method: Method::DELETE,
            paths: own_deletes.try_into().unwrap(),
            body: None,
            expected: [401, 204, 204, 204],
        },
        row(
            Method::POST,
            &format!("{own}/revisions/1/restore"),
            None,
            [401, 200, 200, 200],
        ),
        // Related links: editors and admins on any article, authors on their own.
        row(
            Method::PUT,
            &format!("{own}/related"),
            Some(json!([{"target_id": published_id}])),
            [401, 200, 200, 200],
        ),
        row(
            Method::PUT,
            &format!("{others}/related"),
            Some(json!([])),
            [401, 404, 200, 200],
        ),
        row(
            Method::PUT,
            &format!("{published}/related"),
            Some(json!([])),
            [401, 403, 200, 200],
        ),
        row(
            Method::POST,
            &format!("{published}/related"),
            Some(json!({"target_id": others_id})),
            [401, 403, 201, 409],
        ),
        row(
            Method::PATCH,
            &format!("{own}/related/{published_id}"),
            Some(json!({"position": 0})),
            [401, 200, 200, 200],
        ),
        row(
            Method::DELETE,
            &format!("{published}/related/{others_id}"),
            None,
            [401, 403, 204, 404],
        ),
        row(Method::DELETE, &published, None, [401, 403, 204, 204]),
        row(
            Method::POST,
            &format!("{published}/restore"),
            None,
            [401, 404, 200, 409],
        ),
        row(
            Method::DELETE,
            &format!("{published}?permanent=true"),
            None,
            [401, 403, 403, 204],
        ),
        row(
            Method::PATCH,
            &target,
            Some(json!({"active": false})),
            [401, 403, 403, 200],
        ),
    ];
    let callers = [
        None,
        Some(&author.token),
        Some(&editor.token),
        Some(&admin.token),
    ];
    for Row {
        method,
        paths,
        body,
        expected,
    } in matrix
    {
        for ((caller, path), want) in callers.iter().zip(&paths).zip(expected) {
            let mut request = app.request(method.clone(), path, caller.map(String::as_str));
            if let Some(body) = &body {
                request = request.json(body);
            }
            let status = request.send().await.unwrap().status().as_u16();
            assert_eq!(status, want, "{method} {path} as {caller:?}");
        }
    }
}

backend_tests!(the_permission_matrix_holds);
