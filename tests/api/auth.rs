//! Sign-in, token verification, refresh rotation, sign-out, password change, deactivation,
//! demotion and throttling.

use base64::Engine;
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use newsroom::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    assert_problem, client_from, spawn_app, Backend, TestApp, JWT_SECRET, PASSWORD,
};

const ME: &str = "/api/v1/auth/me";

fn claims(user_id: i32, role: &str) -> Value {
    let now = Utc::now().timestamp();
    json!({
        "sub": user_id.to_string(), "role": role, "iat": now, "exp": now + 600,
        "iss": "newsroom", "aud": "newsroom", "jti": "test-jti", "gen": 0
    })
}

fn sign(alg: Algorithm, claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
    )
    .unwrap()
}

fn b64(value: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

async fn assert_invalid_token(app: &TestApp, token: &str, case: &str) {
    let response = app.get(ME, Some(token)).await;
    assert_eq!(response.status(), 401, "{case}");
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer error="invalid_token""#,
        "{case}"
    );
    assert_problem(response, 401).await;
}

async fn login_returns_a_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let author = app.user(Role::Author).await;
    let session = app.login(&author.email.to_uppercase(), PASSWORD).await;
    assert_eq!(session["token_type"], "Bearer");
    assert_eq!(session["expires_in"], 900);
    assert_eq!(session["user"]["email"], author.email);
    assert_eq!(session["user"]["role"], "author");
    assert!(session["user"].get("password_hash").is_none());
    assert!(session["refresh_token"].as_str().unwrap().len() >= 40);

    let me: Value = app
        .get(ME, Some(session["access_token"].as_str().unwrap()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], author.id);

    let token = session["access_token"].as_str().unwrap();
    let payload = token.split('.').nth(1).unwrap();
    let payload: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(payload["sub"], author.id.to_string());
    assert_eq!(payload["role"], "author");
    assert_eq!(payload["iss"], "newsroom");
    assert_eq!(payload["aud"], "newsroom");
    assert_eq!(
        payload["exp"].as_i64().unwrap() - payload["iat"].as_i64().unwrap(),
        900
    );
    assert!(payload["jti"].is_string());
}

async fn wrong_password_and_unknown_email_look_the_same(backend: Backend) {
    let app = spawn_app(backend).await;
    let author = app.user(Role::Author).await;
    let wrong = app
        .send_json(
            Method::POST,
            "/api/v1/auth/login",
            None,
            &json!({"email": author.email, "password": "not the password"}),
        )
        .await;
    let unknown = app
        .send_json(
            Method::POST,
            "/api/v1/auth/login",
            None,
            &json!({"email": "nobody@newsroom.example", "password": "not the password"}),
        )
        .await;
    let wrong = assert_problem(wrong, 401).await;
    let unknown = assert_problem(unknown, 401).await;
    assert_eq!(wrong, unknown);
}

async fn forged_and_stale_tokens_are_rejected(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.user(Role::Admin).await;
    let id = admin.id;
    assert_eq!(app.get(ME, Some(&admin.token)).await.status(), 200);

    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims(id, "admin"))
    );
    assert_invalid_token(&app, &none, "alg none").await;
    assert_invalid_token(
        &app,
        &sign(Algorithm::HS384, &claims(id, "admin"), JWT_SECRET),
        "HS384",
    )
    .await;
    assert_invalid_token(
        &app,
        &sign(
            Algorithm::HS256,
            &claims(id, "admin"),
            "another-secret-that-is-32-bytes-long",
        ),
        "other key",
    )
    .await;

    let mut parts: Vec<String> = admin.token.split('.').map(str::to_owned).collect();
    let mut changed = claims(id, "admin");
    changed["sub"] = json!("1");
    parts[1] = b64(&changed);
    assert_invalid_token(&app, &parts.join("."), "changed payload").await;

    // Well signed, but expired, or issued by or for someone else.
    let expired_at = json!(Utc::now().timestamp() - 5);
    for (case, claim, value) in [
        ("expired", "exp", expired_at),
        ("issuer", "iss", json!("someone-else")),
        ("audience", "aud", json!("another-service")),
    ] {
        let mut altered = claims(id, "admin");
        altered[claim] = value;
        assert_invalid_token(&app, &sign(Algorithm::HS256, &altered, JWT_SECRET), case).await;
    }
    let mut no_exp = claims(id, "admin");
    no_exp.as_object_mut().unwrap().remove("exp");
    assert_invalid_token(&app, &sign(Algorithm::HS256, &no_exp, JWT_SECRET), "no exp").await;
    assert_invalid_token(
        &app,
        &sign(Algorithm::HS256, &claims(9999, "admin"), JWT_SECRET),
        "unknown user",
    )
    .await;
    assert_invalid_token(&app, "not-a-jwt", "garbage").await;

    // A well-signed token is honoured: the forgery checks above are not vacuous.
    assert_eq!(
        app.get(
            ME,
            Some(&sign(Algorithm::HS256, &claims(id, "admin"), JWT_SECRET))
        )
        .await
        .status(),
        200
    );

    let missing = app.get(ME, None).await;
    assert_eq!(missing.headers()["www-authenticate"], "Bearer");
    assert_problem(missing, 401).await;
    let basic = app
        .request(Method::GET, ME, None)
        .header("Authorization", "Basic YTpi")
        .send()
        .await
        .unwrap();
    assert_problem(basic, 401).await;
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.send_json(
        Method::POST,
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": token}),
    )
    .await
}

async fn refresh_rotates_and_reuse_revokes_the_chain(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let first = refresh(&app, &editor.refresh_token).await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    let second_refresh = first["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, editor.refresh_token);
    assert_eq!(
        app.get(ME, first["access_token"].as_str()).await.status(),
        200
    );

    // The retired token presented again: theft. The whole chain dies, the newest token too.
    assert_problem(refresh(&app, &editor.refresh_token).await, 401).await;
    assert_problem(refresh(&app, &second_refresh).await, 401).await;
    assert_problem(refresh(&app, "made-up-token").await, 401).await;

    // Another sign-in is another chain, unaffected.
    let other = app.login(&editor.email, PASSWORD).await;
    assert_eq!(
        refresh(&app, other["refresh_token"].as_str().unwrap())
            .await
            .status(),
        200
    );
}

async fn logout_revokes_the_chain(backend: Backend) {
    let app = spawn_app(backend).await;
    let author = app.user(Role::Author).await;
    let rotated: Value = refresh(&app, &author.refresh_token)
        .await
        .json()
        .await
        .unwrap();
    let current = rotated["refresh_token"].as_str().unwrap();
    let response = app
        .send_json(
            Method::POST,
            "/api/v1/auth/logout",
            None,
            &json!({"refresh_token": current}),
        )
        .await;
    assert_eq!(response.status(), 204);
    assert_problem(refresh(&app, current).await, 401).await;
    let again = app
        .send_json(
            Method::POST,
            "/api/v1/auth/logout",
            None,
            &json!({"refresh_token": current}),
        )
        .await;
    assert_eq!(again.status(), 204);
}

async fn changing_the_password_ends_every_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let author = app.user(Role::Author).await;
    let second = app.login(&author.email, PASSWORD).await;
    let new_password = "a completely new passphrase";

    let without_current = app
        .send_json(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&author.token),
            &json!({"password": new_password}),
        )
        .await;
    assert_eq!(
        crate::helpers::error_fields(&assert_problem(without_current, 422).await),
        ["current_password"]
    );
    let wrong_current = app
        .send_json(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&author.token),
            &json!({"password": new_password, "current_password": "not my password"}),
        )
        .await;
    assert_problem(wrong_current, 422).await;
    assert_eq!(app.get(ME, Some(&author.token)).await.status(), 200);

    let changed = app
        .send_json(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&author.token),
            &json!({"password": new_password, "current_password": PASSWORD, "bio": "Energy reporter"}),
        )
        .await;
    assert_eq!(changed.status(), 200);
    assert_eq!(
        changed.json::<Value>().await.unwrap()["bio"],
        "Energy reporter"
    );

    assert_invalid_token(&app, &author.token, "after password change").await;
    assert_invalid_token(
        &app,
        second["access_token"].as_str().unwrap(),
        "other session",
    )
    .await;
    assert_problem(refresh(&app, &author.refresh_token).await, 401).await;
    assert_problem(
        refresh(&app, second["refresh_token"].as_str().unwrap()).await,
        401,
    )
    .await;
    let old = app
        .send_json(
            Method::POST,
            "/api/v1/auth/login",
            None,
            &json!({"email": author.email, "password": PASSWORD}),
        )
        .await;
    assert_problem(old, 401).await;
    app.login(&author.email, new_password).await;
}

async fn deactivation_and_demotion_apply_to_live_tokens(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.user(Role::Admin).await;
    let second_admin = app.user(Role::Admin).await;
    let editor = app.user(Role::Editor).await;

    assert_eq!(
        app.get("/api/v1/users", Some(&second_admin.token))
            .await
            .status(),
        200
    );
    let demoted = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/users/{}", second_admin.id),
            Some(&admin.token),
            &json!({"role": "editor"}),
        )
        .await;
    assert_eq!(demoted.status(), 200);
    assert_problem(
        app.get("/api/v1/users", Some(&second_admin.token)).await,
        403,
    )
    .await;
    let me: Value = app
        .get(ME, Some(&second_admin.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "editor");

    let response = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/users/{}", editor.id),
            Some(&admin.token),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_invalid_token(&app, &editor.token, "deactivated").await;
    assert_problem(refresh(&app, &editor.refresh_token).await, 401).await;
    let login = app
        .send_json(
            Method::POST,
            "/api/v1/auth/login",
            None,
            &json!({"email": editor.email, "password": PASSWORD}),
        )
        .await;
    assert_problem(login, 401).await;
    let user: Value = app
        .get(&format!("/api/v1/users/{}", editor.id), Some(&admin.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(user["active"], false);
}

/// Hardening point 23: the limits count per account and client address (5), per account
/// (50) and per address (20); someone else's failures never lock the owner out below the
/// account-wide limit.
async fn failed_sign_ins_are_throttled_per_account_and_per_address(backend: Backend) {
    let app = spawn_app(backend).await;
    let victim = app.user(Role::Admin).await;
    let bystander = app.user(Role::Author).await;
    let from = |last: u8| client_from(Some(std::net::IpAddr::from([127, 0, 0, last])));
    let attempt = |client: reqwest::Client, email: String, password: &'static str| {
        let url = app.url("/api/v1/auth/login");
        async move {
            client
                .post(url)
                .json(&json!({"email": email, "password": password}))
                .send()
                .await
                .unwrap()
        }
    };
    let status = |response: reqwest::Response| response.status().as_u16();

    // Five failures for one account from one address lock that pair...
    for _ in 0..5 {
        let response = attempt(from(2), victim.email.clone(), "wrong password!").await;
        assert_eq!(status(response), 401);
    }
    let locked = attempt(from(2), victim.email.clone(), PASSWORD).await;
    let retry_after: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=900).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    assert_problem(locked, 429).await;
    // ...but not the owner signing in from their own address, nor that address for others.
    assert_eq!(
        status(attempt(from(1), victim.email.clone(), PASSWORD).await),
        200
    );
    assert_eq!(
        status(attempt(from(2), bystander.email.clone(), PASSWORD).await),
        200
    );

    // Twenty failures from one address over many accounts lock that address.
    for n in 0..20 {
        let response = attempt(from(3), format!("guess{n}@newsroom.example"), "wrong!").await;
        assert_eq!(status(response), 401, "attempt {n}");
    }
    assert_problem(
        attempt(from(3), bystander.email.clone(), PASSWORD).await,
        429,
    )
    .await;
    assert_eq!(
        status(attempt(from(4), bystander.email.clone(), PASSWORD).await),
        200
    );

    // Fifty failures for one account (ten addresses, five each) lock it everywhere. The five
    // from 127.0.0.2 were forgiven by nobody: they count.
    for last in 10..19 {
        for _ in 0..5 {
            let response = attempt(from(last), victim.email.clone(), "wrong password!").await;
            assert_eq!(status(response), 401);
        }
    }
    assert_problem(attempt(from(1), victim.email.clone(), PASSWORD).await, 429).await;
}

backend_tests!(
    login_returns_a_session,
    wrong_password_and_unknown_email_look_the_same,
    forged_and_stale_tokens_are_rejected,
    refresh_rotates_and_reuse_revokes_the_chain,
    logout_revokes_the_chain,
    changing_the_password_ends_every_session,
    deactivation_and_demotion_apply_to_live_tokens,
    failed_sign_ins_are_throttled_per_account_and_per_address,
);
