//! Webhooks: admins manage them; every event a webhook wants reaches it once per message, signed
//! as the Standard Webhooks specification says, in seq order, retried with back-off, recorded
//! in the delivery log, by one of several server processes, and again after a crash.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use newsroom::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::{assert_problem, error_fields, spawn_app, spawn_app_with, Backend, TestApp};

/// A request a receiver took.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// The keys of a Varnish purge.
    pub xkey: String,
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub content_type: String,
    pub user_agent: String,
    pub body: String,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// How a receiver answers its next requests: a status and a pause before it; then 204.
#[derive(Default)]
struct Script {
    answers: VecDeque<(u16, Duration)>,
    body: String,
}

/// A webhook receiver on loopback that records what it is sent.
pub struct Receiver {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<Script>>,
    server: actix_web::dev::ServerHandle,
}

async fn take(
    req: HttpRequest,
    body: web::Bytes,
    received: web::Data<Mutex<Vec<Received>>>,
    script: web::Data<Mutex<Script>>,
) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    received.lock().unwrap().push(Received {
        method: req.method().to_string(),
        xkey: header("xkey-purge"),
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        content_type: header("content-type"),
        user_agent: header("user-agent"),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let (answer, text) = {
        let mut script = script.lock().unwrap();
        (script.answers.pop_front(), script.body.clone())
    };
    let (status, pause) = answer.unwrap_or((204, Duration::ZERO));
    tokio::time::sleep(pause).await;
    let status = actix_web::http::StatusCode::from_u16(status).unwrap();
    if status.is_redirection() {
        return HttpResponse::build(status)
            .insert_header(("location", "/elsewhere"))
            .finish();
    }
    HttpResponse::build(status).body(text)
}

impl Receiver {
    pub async fn start() -> Self {
        let received = web::Data::new(Mutex::new(Vec::new()));
        let script = web::Data::new(Mutex::new(Script::default()));
        let (r, s) = (received.clone(), script.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(r.clone())
                .app_data(s.clone())
                .default_service(web::to(take))
        })
        .workers(2)
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}/hook"),
            received: received.into_inner(),
            script: script.into_inner(),
            server: handle,
        }
    }

    /// Answers the next requests so (status, pause before answering).
    pub fn answer(&self, answers: &[(u16, Duration)]) {
        self.script
            .lock()
            .unwrap()
            .answers
            .extend(answers.iter().copied());
    }

    /// The body every answer carries.
    pub fn answer_with(&self, body: &str) {
        self.script.lock().unwrap().body = body.to_owned();
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits up to `within` until `n` requests came; what came.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let got = self.received();
            if got.len() >= n || tokio::time::Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn stop(self) {
        self.server.stop(false).await;
    }
}

/// Checks a signature as the specification defines it, independently of the server's code.
fn verify(secret: &str, message: &Received) {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", message.id, message.timestamp, message.body).as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(message.signature, format!("v1,{expected}"));
    let sent: i64 = message.timestamp.parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - sent).abs() < 60);
}

/// Creates a webhook as `admin`; the created document (with its secret).
pub async fn webhook(app: &TestApp, admin: &str, body: Value) -> Value {
    app.create("/api/v1/webhooks", admin, body).await
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

async fn deliveries(app: &TestApp, admin: &str, hook: i64, query: &str) -> Vec<Value> {
    let response = app
        .get(
            &format!("/api/v1/webhooks/{hook}/deliveries{query}"),
            Some(admin),
        )
        .await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    page["data"].as_array().unwrap().clone()
}

/// Waits until webhook `hook`'s newest message has `status`; its deliveries.
async fn settled(app: &TestApp, admin: &str, hook: i64, status: &str) -> Vec<Value> {
    for _ in 0..200 {
        let list = deliveries(app, admin, hook, "").await;
        if list.first().is_some_and(|d| d["status"] == status) {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no delivery of webhook {hook} became {status}");
}

const SECOND: Duration = Duration::from_secs(1);

async fn only_admins_manage_webhooks(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.user(Role::Admin).await;
    let receiver = Receiver::start().await;
    let created = webhook(
        &app,
        &admin.token,
        json!({"url": receiver.url, "events": ["article.published"], "description": "Site"}),
    )
    .await;
    let hook = id(&created);
    let secret = created["secret"].as_str().unwrap();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    assert!(raw.len() >= 24, "a secret of {} bytes", raw.len());
    assert_eq!(created["active"], true);
    assert_eq!(created["events"], json!(["article.published"]));
    assert_eq!(created["topics"], Value::Null);
    let shown: Value = app
        .get(&format!("/api/v1/webhooks/{hook}"), Some(&admin.token))
        .await
        .json()
        .await
        .unwrap();
    assert!(shown.get("secret").is_none(), "the secret is shown once");
    assert_eq!(shown["description"], "Site");
    let list: Value = app
        .get("/api/v1/webhooks", Some(&admin.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert!(list["data"][0].get("secret").is_none());
    let rotated: Value = app
        .post(
            &format!("/api/v1/webhooks/{hook}/rotate-secret"),
            Some(&admin.token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(rotated["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_ne!(rotated["secret"], created["secret"]);
    let patched = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/webhooks/{hook}"),
            Some(&admin.token),
            &json!({"events": ["*"], "description": null, "active": false}),
        )
        .await;
    assert_eq!(patched.status(), 200);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["events"], json!(["*"]));
    assert_eq!(patched["description"], Value::Null);
    assert_eq!(patched["active"], false);
    // An inactive webhook is sent nothing, pings included.
    assert_problem(
        app.post(&format!("/api/v1/webhooks/{hook}/ping"), Some(&admin.token))
            .await,
        409,
    )
    .await;

    for role in [Role::Editor, Role::Author] {
        let user = app.user(role).await;
        let token = Some(user.token.as_str());
        let path = format!("/api/v1/webhooks/{hook}");
        let body = json!({"url": receiver.url, "events": ["*"]});
        for response in [
            app.send_json(Method::POST, "/api/v1/webhooks", token, &body)
                .await,
            app.get("/api/v1/webhooks", token).await,
            app.get(&path, token).await,
            app.send_json(Method::PATCH, &path, token, &json!({"active": true}))
                .await,
            app.delete(&path, token).await,
            app.post(&format!("{path}/rotate-secret"), token).await,
            app.post(&format!("{path}/ping"), token).await,
            app.get(&format!("{path}/deliveries"), token).await,
            app.post(&format!("{path}/deliveries/msg_x/redeliver"), token)
                .await,
        ] {
            assert_problem(response, 403).await;
        }
    }
    assert_problem(app.get("/api/v1/webhooks", None).await, 401).await;

    let deleted = app
        .delete(&format!("/api/v1/webhooks/{hook}"), Some(&admin.token))
        .await;
    assert_eq!(deleted.status(), 204);
    assert_problem(
        app.get(&format!("/api/v1/webhooks/{hook}"), Some(&admin.token))
            .await,
        404,
    )
    .await;
    assert_problem(
        app.post(&format!("/api/v1/webhooks/{hook}/ping"), Some(&admin.token))
            .await,
        404,
    )
    .await;
}

async fn bad_webhooks_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.user(Role::Admin).await;
    let token = Some(admin.token.as_str());
    for (body, field) in [
        (
            json!({"url": "https://user:pw@hooks.example/x", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "https://token@hooks.example/x", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "ftp://hooks.example/x", "events": ["*"]}),
            "url",
        ),
        (json!({"url": "hooks.example", "events": ["*"]}), "url"),
        (
            json!({"url": "http://hooks .example/x", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "HTTP:\\\\hooks.example", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "https://hooks.example/a b", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "https://hooks.example:99999/x", "events": ["*"]}),
            "url",
        ),
        (
            json!({"url": "https://hooks.example/x", "events": ["*"], "topics": []}),
            "topics",
        ),
        (
            json!({"url": "https://hooks.example/x", "events": []}),
            "events",
        ),
        (
            json!({"url": "https://hooks.example/x", "events": ["article.read"]}),
            "events",
        ),
        (
            json!({"url": "https://hooks.example/x", "events": ["*"], "topics": ["no-such-topic"]}),
            "topics[0]",
        ),
        (
            json!({"url": "https://hooks.example/x", "events": ["*"], "description": "x".repeat(501)}),
            "description",
        ),
    ] {
        let problem = assert_problem(
            app.send_json(Method::POST, "/api/v1/webhooks", token, &body)
                .await,
            422,
        )
        .await;
        assert_eq!(error_fields(&problem), [field], "{body}");
    }
    let unknown = app
        .send_json(
            Method::POST,
            "/api/v1/webhooks",
            token,
            &json!({"url": "https://hooks.example/x", "events": ["*"], "secret": "mine"}),
        )
        .await;
    assert!(unknown.status().is_client_error());
    let list: Value = app
        .get("/api/v1/webhooks", token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"], json!([]), "nothing was made");
    for url in [
        "https://[2001:db8::1]:8443/hook?site=main",
        "http://203.0.113.5/hook",
        "  https://hooks.example  ",
    ] {
        let made = webhook(&app, &admin.token, json!({"url": url, "events": ["*"]})).await;
        assert_eq!(made["url"], url::Url::parse(url.trim()).unwrap().as_str());
    }
}

async fn deliveries_are_signed_and_in_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.user(Role::Admin).await;
    let editor = app.user(Role::Editor).await;
    let all = Receiver::start().await;
    let published_only = Receiver::start().await;
    let before: Value = app
        .get("/api/v1/events?limit=1000", Some(&editor.token))
        .await
        .json()
        .await
        .unwrap();
    let every = webhook(&app, &admin.token, json!({"url": all.url, "events": ["*"]})).await;
    let some = webhook(
        &app,
        &admin.token,
        json!({"url": published_only.url, "events": ["article.published"]}),
    )
    .await;
    let article = app.published(&editor.token, "Dam opens", json!({})).await;
    for title in ["Dam opens at last", "Dam opens, finally", "The dam opens"] {
        let edited = app
            .send_json(
                Method::PATCH,
                &format!("/api/v1/articles/{}", id(&article)),
                Some(&editor.token),
                &json!({"title": title}),
            )
            .await;
        assert_eq!(edited.status(), 200);
    }
    let staff_log: Value = app
        .get(
            &format!("/api/v1/events?after={}", before["next_after"]),
            Some(&editor.token),
        )
        .await
        .json()
        .await
        .unwrap();
    let logged: Vec<Value> = staff_log["data"].as_array().unwrap().clone();
    let got = all.wait_for(logged.len(), 10 * SECOND).await;
    assert_eq!(got.len(), logged.len(), "one message per event");
    for (message, event) in got.iter().zip(&logged) {
        verify(every["secret"].as_str().unwrap(), message);
        assert!(message.id.starts_with("msg_"));
        assert_eq!(message.content_type, "application/json");
        assert!(message.user_agent.starts_with("newsroom/"));
        let body = message.json();
        assert_eq!(body["type"], event["type"]);
        assert_eq!(body["data"], *event, "the event as the staff log shows it");
        assert!(body["timestamp"].is_string());
    }
    let seqs: Vec<i64> = got
        .iter()
        .map(|m| m.json()["data"]["seq"].as_i64().unwrap())
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "in seq order: {seqs:?}"
    );
    assert!(
        got.iter().any(|m| m.json()["type"] == "article.created"),
        "staff events too"
    );
    let published = published_only.wait_for(1, 10 * SECOND).await;
    assert_eq!(published.len(), 1);
    verify(some["secret"].as_str().unwrap(), &published[0]);
    assert_eq!(published[0].json()["type"], "article.published");
    assert_eq!(published[0].json()["data"]["article"]["id"], article["id"]);
    let log = settled(&app, &admin.token, id(&every), "succeeded").await;
    assert_eq!(log.len(), logged.len());
    assert_eq!(log[0]["attempts"][0]["status_code"], 204);
    tokio::time::sleep(SECOND).await;
    assert_eq!(
        published_only.received().len(),
        1,
        "nothing else, nothing twice"
    );
}

async fn failures_are_retried_and_recorded(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.user(Role::Admin).await;
    let receiver = Receiver::start().await;
    receiver.answer(&[(500, Duration::ZERO), (302, Duration::ZERO)]);
    receiver.answer_with(&"é".repeat(1500));
    let hook = id(&webhook(
        &app,
        &admin.token,
        json!({"url": receiver.url, "events": ["*"]}),
    )
    .await);
    let ping = app
        .post(&format!("/api/v1/webhooks/{hook}/ping"), Some(&admin.token))
        .await;
    assert_eq!(ping.status(), 202);
    let ping: Value = ping.json().await.unwrap();
    assert_eq!(ping["type"], "webhook.ping");
    assert_eq!(ping["status"], "pending");
    // A 500, then after about 5 s a redirect (not followed); the next try would come in about
    // 5 min, and a redelivery makes it now (answered 204).
    let first = receiver.wait_for(1, 5 * SECOND).await;
    assert_eq!(first.len(), 1);
    let second = receiver.wait_for(2, 15 * SECOND).await;
    assert_eq!(second.len(), 2, "retried after about 5 s");
    assert_eq!(
        second[0].id, second[1].id,
        "one webhook-id for every attempt"
    );
    assert_eq!(second[0].body, second[1].body);
    let list = deliveries(&app, &admin.token, hook, "").await;
    assert_eq!(list[0]["status"], "pending");
    let attempts = list[0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0]["status_code"], 500);
    assert!(attempts[0]["error"].is_string());
    assert!(attempts[0]["response"].as_str().unwrap().len() <= 1024);
    assert!(attempts[0]["response"].as_str().unwrap().starts_with("éé"));
    assert_eq!(attempts[1]["status_code"], 302);
    let next: chrono::DateTime<chrono::Utc> = list[0]["next_attempt_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        next > chrono::Utc::now() + chrono::Duration::minutes(4),
        "then about 5 min"
    );
    assert_eq!(
        receiver.received().len(),
        2,
        "the redirect was not followed"
    );
    // Redelivery sends it now, with the same id and body.
    let message = list[0]["message_id"].as_str().unwrap();
    let again = app
        .post(
            &format!("/api/v1/webhooks/{hook}/deliveries/{message}/redeliver"),
            Some(&admin.token),
        )
        .await;
    assert_eq!(again.status(), 202);
    let third = receiver.wait_for(3, 5 * SECOND).await;
    assert_eq!(third.len(), 3);
    assert_eq!(third[2].id, message);
    let list = settled(&app, &admin.token, hook, "succeeded").await;
    assert_eq!(list[0]["attempts"].as_array().unwrap().len(), 3);
    assert_eq!(
        deliveries(&app, &admin.token, hook, "?status=succeeded")
            .await
            .len(),
        1
    );
    assert_eq!(
        deliveries(&app, &admin.token, hook, "?status=pending")
            .await
            .len(),
        0
    );
    assert_problem(
        app.post(
            &format!("/api/v1/webhooks/{hook}/deliveries/msg_unknown/redeliver"),
            Some(&admin.token),
        )
        .await,
        404,
    )
    .await;
    let bad = app
        .get(
            &format!("/api/v1/webhooks/{hook}/deliveries?status=lost"),
            Some(&admin.token),
        )
        .await;
    assert!(bad.status().is_client_error());
}

/// A message whose attempts all failed is `failed`; an endpoint failing for five days is
/// disabled, and PATCH enables it again. (The days are made to have passed in the database.)
async fn dead_endpoints_are_given_up_and_disabled(backend: Backend) {
    use diesel::RunQueryDsl;
    let app = spawn_app(backend).await;
    let admin = app.user(Role::Admin).await;
    let receiver = Receiver::start().await;
    receiver.answer(&[(503, Duration::ZERO); 2]);
    let hook = id(&webhook(
        &app,
        &admin.token,
        json!({"url": receiver.url, "events": ["*"]}),
    )
    .await);
    app.post(&format!("/api/v1/webhooks/{hook}/ping"), Some(&admin.token))
        .await;
    receiver.wait_for(1, 5 * SECOND).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Six attempts in, the seventh due now; the endpoint failing for six days.
    diesel::sql_query(format!(
        "UPDATE webhook_messages SET attempts = 7, next_attempt_at = created_at WHERE webhook_id = {hook}"
    ))
    .execute(&mut app.conn())
    .unwrap();
    let six_days_ago = (chrono::Utc::now() - chrono::Duration::days(6)).naive_utc();
    diesel::sql_query(format!(
        "UPDATE webhooks SET failing_since = '{}' WHERE id = {hook}",
        six_days_ago.format("%Y-%m-%d %H:%M:%S")
    ))
    .execute(&mut app.conn())
    .unwrap();
    app.post(&format!("/api/v1/webhooks/{hook}/ping"), Some(&admin.token))
        .await;
    let list = settled(&app, &admin.token, hook, "pending").await;
    assert_eq!(list.len(), 2);
    let mut shown = Value::Null;
    for _ in 0..100 {
        shown = app
            .get(&format!("/api/v1/webhooks/{hook}"), Some(&admin.token))
            .await
            .json()
            .await
            .unwrap();
        if shown["active"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        shown["active"], false,
        "disabled after five days of failures"
    );
    assert!(shown["disabled_reason"]
        .as_str()
        .unwrap()
        .contains("five days"));
    let failed = deliveries(&app, &admin.token, hook, "?status=failed").await;
    assert_eq!(failed.len(), 1, "the eighth failed attempt was the last");
    assert_eq!(failed[0]["next_attempt_at"], Value::Null);
    let enabled: Value = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/webhooks/{hook}"),
            Some(&admin.token),
            &json!({"active": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(enabled["active"], true);
    assert_eq!(enabled["disabled_reason"], Value::Null);
    // Its pending ping goes out again once enabled (the receiver answers 204 by now).
    let list = settled(&app, &admin.token, hook, "succeeded").await;
    assert_eq!(list[0]["type"], "webhook.ping");
}

async fn private_addresses_are_refused_unless_allowed(backend: Backend) {
    let app = spawn_app_with(backend, |config| config.webhook_allow_private = false).await;
    let admin = app.user(Role::Admin).await;
    let receiver = Receiver::start().await;
    let port = receiver
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    for url in [
        receiver.url.clone(),
        format!("http://localhost:{port}/hook"),
        format!("http://[::1]:{port}/hook"),
        "http://169.254.169.254/latest/meta-data".to_owned(),
    ] {
        let hook = id(&webhook(&app, &admin.token, json!({"url": url, "events": ["*"]})).await);
        app.post(&format!("/api/v1/webhooks/{hook}/ping"), Some(&admin.token))
            .await;
        let mut attempts = Value::Null;
        for _ in 0..100 {
            let list = deliveries(&app, &admin.token, hook, "").await;
            attempts = list[0]["attempts"].clone();
            if !attempts.as_array().unwrap().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let attempt = &attempts[0];
        assert_eq!(attempt["status_code"], Value::Null, "{url}");
        let error = attempt["error"].as_str().unwrap();
        assert!(
            error.contains("not a public address") || error.contains("no address"),
            "{url}: {error}"
        );
    }
    assert!(receiver.received().is_empty(), "nothing reached loopback");
}

async fn topic_filters_include_descendants(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.user(Role::Admin).await;
    let editor = app.user(Role::Editor).await;
    let asia = app.topic(&editor.token, "Asia", None).await;
    let central = app
        .topic(&editor.token, "Central Asia", Some(id(&asia)))
        .await;
    let sport = app.topic(&editor.token, "Sport", None).await;
    let receiver = Receiver::start().await;
    webhook(
        &app,
        &admin.token,
        json!({"url": receiver.url, "events": ["article.published", "topic.updated"], "topics": ["asia"]}),
    )
    .await;
    let wanted = app
        .published(
            &editor.token,
            "Treaty signed",
            json!({"topic_ids": [id(&central)]}),
        )
        .await;
    app.published(
        &editor.token,
        "Match won",
        json!({"topic_ids": [id(&sport)]}),
    )
    .await;
    for topic in [&central, &sport] {
        let renamed = app
            .send_json(
                Method::PATCH,
                &format!("/api/v1/topics/{}", id(topic)),
                Some(&editor.token),
                &json!({"description": "Renamed"}),
            )
            .await;
        assert_eq!(renamed.status(), 200);
    }
    receiver.wait_for(2, 10 * SECOND).await;
    tokio::time::sleep(SECOND).await;
    let got: Vec<Value> = receiver.received().iter().map(Received::json).collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0]["data"]["article"]["id"], wanted["id"]);
    assert_eq!(got[1]["type"], "topic.updated");
    assert_eq!(got[1]["data"]["topic"]["id"], central["id"]);
}

/// A receiver that hangs holds up neither the API nor the other endpoints.
async fn a_slow_receiver_holds_up_no_one_else(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.user(Role::Admin).await;
    let editor = app.user(Role::Editor).await;
    let slow = Receiver::start().await;
    slow.answer(&[(204, 8 * SECOND); 4]);
    let fast = Receiver::start().await;
    webhook(
        &app,
        &admin.token,
        json!({"url": slow.url, "events": ["*"]}),
    )
    .await;
    webhook(
        &app,
        &admin.token,
        json!({"url": fast.url, "events": ["*"]}),
    )
    .await;
    for n in 0..3 {
        app.published(&editor.token, &format!("Story {n}"), json!({}))
            .await;
    }
    // Two events a publication (created, published).
    assert_eq!(fast.wait_for(6, 5 * SECOND).await.len(), 6);
    assert_eq!(
        slow.received().len(),
        1,
        "one message in flight to the slow one"
    );
}

/// Several server processes on one database: each message goes out once, not once a process.
async fn several_processes_send_each_message_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.user(Role::Admin).await;
    let editor = app.user(Role::Editor).await;
    let receiver = Receiver::start().await;
    let processes = [app.process(), app.process()];
    webhook(
        &app,
        &admin.token,
        json!({"url": receiver.url, "events": ["article.published"]}),
    )
    .await;
    let writes: Vec<_> = (0..12)
        .map(|n| {
            let address = if n % 3 == 0 {
                app.address.clone()
            } else {
                processes[n % 2].address.clone()
            };
            let client = app.client.clone();
            let token = editor.token.clone();
            tokio::spawn(async move {
                let response = client
                    .post(format!("{address}/api/v1/articles"))
                    .bearer_auth(token)
                    .json(&json!({"title": format!("Story {n}"), "body": "<p>x</p>", "status": "published"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 201);
            })
        })
        .collect();
    for write in writes {
        write.await.unwrap();
    }
    receiver.wait_for(12, 15 * SECOND).await;
    tokio::time::sleep(2 * SECOND).await;
    let got = receiver.received();
    let ids: HashSet<&str> = got.iter().map(|m| m.id.as_str()).collect();
    let articles: HashSet<i64> = got
        .iter()
        .map(|m| m.json()["data"]["article"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(articles.len(), 12, "every publication told");
    assert_eq!(got.len(), 12, "and each once: {} messages", got.len());
    assert_eq!(ids.len(), 12);
}

/// A message in flight when its process is killed goes out again, with the same id, from
/// another process once the claim runs out.
async fn a_message_in_flight_survives_a_crash(backend: Backend) {
    let app = spawn_app_with(backend, |config| config.webhook_workers = 0).await;
    let admin = app.user(Role::Admin).await;
    let receiver = Receiver::start().await;
    receiver.answer(&[(204, 30 * SECOND)]);
    let mut first = app.process();
    let hook = id(&webhook(
        &app,
        &admin.token,
        json!({"url": receiver.url, "events": ["*"]}),
    )
    .await);
    app.post(&format!("/api/v1/webhooks/{hook}/ping"), Some(&admin.token))
        .await;
    assert_eq!(receiver.wait_for(1, 10 * SECOND).await.len(), 1);
    first.kill();
    let _second = app.process();
    let got = receiver.wait_for(2, 40 * SECOND).await;
    assert_eq!(got.len(), 2, "sent again after the crash");
    assert_eq!(got[0].id, got[1].id);
    let list = settled(&app, &admin.token, hook, "succeeded").await;
    assert_eq!(list.len(), 1);
    receiver.stop().await;
}

/// With `NEWSROOM_PURGE=varnish:<url>`, each public change sends a `PURGE` naming the keys it
/// invalidates; a failed purge is tried again.
async fn downstream_caches_are_purged_by_key(backend: Backend) {
    let varnish = Receiver::start().await;
    varnish.answer(&[(503, Duration::ZERO)]);
    let target = newsroom::config::PurgeTarget::Varnish(varnish.url.clone());
    let app = spawn_app_with(backend, |config| config.purge = Some(target)).await;
    let editor = app.user(Role::Editor).await;
    let draft = app
        .create(
            "/api/v1/articles",
            &editor.token,
            json!({"title": "Not yet", "body": "<p>x</p>"}),
        )
        .await;
    let story = app.published(&editor.token, "Dam opens", json!({})).await;
    let got = varnish.wait_for(2, 10 * SECOND).await;
    assert_eq!(got.len(), 2, "failed, then tried again after about 5 s");
    assert!(got.iter().all(|r| r.method == "PURGE"));
    assert_eq!(got[0].xkey, got[1].xkey, "the same keys again");
    let keys: Vec<&str> = got[1].xkey.split(' ').collect();
    assert!(
        keys.contains(&format!("article-{}", id(&story)).as_str()),
        "{keys:?}"
    );
    assert!(keys.contains(&"list"), "{keys:?}");
    assert!(
        !keys.contains(&format!("article-{}", id(&draft)).as_str()),
        "a draft is in no cache"
    );
    // Once more a little later (another process may have served the old page meanwhile).
    assert_eq!(varnish.wait_for(3, 5 * SECOND).await.len(), 3);
    let edited = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/articles/{}", id(&story)),
            Some(&editor.token),
            &json!({"title": "Dam opens at last"}),
        )
        .await;
    assert_eq!(edited.status(), 200);
    let got = varnish.wait_for(4, 5 * SECOND).await;
    assert_eq!(got.len(), 4);
    assert!(got[3].xkey.contains(&format!("article-{}", id(&story))));
}

backend_tests!(
    downstream_caches_are_purged_by_key,
    only_admins_manage_webhooks,
    bad_webhooks_are_refused,
    deliveries_are_signed_and_in_order,
    failures_are_retried_and_recorded,
    dead_endpoints_are_given_up_and_disabled,
    private_addresses_are_refused_unless_allowed,
    topic_filters_include_descendants,
    a_slow_receiver_holds_up_no_one_else,
    several_processes_send_each_message_once,
    a_message_in_flight_survives_a_crash,
);
