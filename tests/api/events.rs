//! The change pipeline: every write records exactly its events in the log, in the same
//! transaction; scheduled publication fires once; the live stream resumes without gaps; other
//! processes learn at once; retention.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use futures_util::future::join_all;
use newsroom::db::schema::{articles, events};
use newsroom::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, error_fields, sleep_past, spawn_app, Backend, TestApp};

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

/// The log after `after`, as (type, article id) pairs, and the last seq.
async fn log_after(app: &TestApp, token: &str, after: i64) -> (Vec<(String, Option<i64>)>, i64) {
    let response = app
        .get(
            &format!("/api/v1/events?after={after}&limit=1000"),
            Some(token),
        )
        .await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    let events = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_owned(),
                e["article"]["id"].as_i64(),
            )
        })
        .collect();
    (events, page["next_after"].as_i64().unwrap())
}

/// Performs each write and checks the events it appended: exactly those, in that order.
#[allow(unused_assignments)] // the last step's seq is read no more
async fn every_write_records_exactly_its_events(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.user(Role::Admin).await;
    let editor = app.user(Role::Editor).await;
    let author = app.user(Role::Author).await;
    let token = editor.token.clone();
    let mut seen = log_after(&app, &token, 0).await.1;
    // Each step: a write, then exactly the events expected of it, (type, article id).
    macro_rules! step {
        ($name:expr, $wanted:expr) => {{
            let (events, last) = log_after(&app, &token, seen).await;
            seen = last;
            let wanted: &[(&str, Option<i64>)] = $wanted;
            let wanted: Vec<(String, Option<i64>)> =
                wanted.iter().map(|(t, a)| ((*t).to_owned(), *a)).collect();
            assert_eq!(events, wanted, "{}", $name);
        }};
    }
    let topic = app.topic(&editor.token, "Energy", None).await;
    step!("create a topic", &[("topic.created", None)]);
    let child = app.topic(&editor.token, "Dams", Some(id(&topic))).await;
    step!("create a child topic", &[("topic.created", None)]);

    let draft = app
        .create(
            "/api/v1/articles",
            &author.token,
            json!({"title": "Rogun dam", "body": "x", "topic_ids": [id(&child)]}),
        )
        .await;
    let d = Some(id(&draft));
    step!("an author's draft", &[("article.created", d)]);
    let path = format!("/api/v1/articles/{}", id(&draft));
    let patch = |token: String, body: Value| {
        let (app, path) = (&app, &path);
        async move {
            let response = app
                .send_json(Method::PATCH, path, Some(&token), &body)
                .await;
            assert_eq!(response.status(), 200, "PATCH {body}");
        }
    };
    patch(author.token.clone(), json!({"title": "Rogun dam fills"})).await;
    step!("edit a draft", &[("article.updated", d)]);
    patch(author.token.clone(), json!({"status": "review"})).await;
    step!("submit for review", &[("article.status_changed", d)]);
    patch(editor.token.clone(), json!({"status": "published"})).await;
    step!(
        "publish",
        &[("article.status_changed", d), ("article.published", d)]
    );
    patch(editor.token.clone(), json!({"summary": "Full at last."})).await;
    step!("edit a public article", &[("article.updated", d)]);
    patch(editor.token.clone(), json!({"status": "archived"})).await;
    step!(
        "archive",
        &[("article.status_changed", d), ("article.unpublished", d)]
    );
    patch(editor.token.clone(), json!({"status": "published"})).await;
    step!(
        "publish again",
        &[("article.status_changed", d), ("article.published", d)]
    );

    let other = app.published(&editor.token, "Other story", json!({})).await;
    let o = Some(id(&other));
    step!(
        "create published",
        &[("article.created", o), ("article.published", o)]
    );
    let links = format!("{path}/related");
    let linked = app
        .send_json(
            Method::POST,
            &links,
            Some(&editor.token),
            &json!({"target_id": id(&other), "reciprocal": true}),
        )
        .await;
    assert_eq!(linked.status(), 201);
    step!(
        "link both ways",
        &[("links.changed", d), ("links.changed", o)]
    );
    let moved = app
        .send_json(
            Method::PATCH,
            &format!("{links}/{}", id(&other)),
            Some(&editor.token),
            &json!({"relation": "background"}),
        )
        .await;
    assert_eq!(moved.status(), 200);
    step!("change a link", &[("links.changed", d)]);
    assert_eq!(
        app.delete(&format!("{links}/{}", id(&other)), Some(&editor.token))
            .await
            .status(),
        204
    );
    step!("remove a link", &[("links.changed", d)]);
    let replaced = app
        .send_json(
            Method::PUT,
            &links,
            Some(&editor.token),
            &json!([{"target_id": id(&other)}]),
        )
        .await;
    assert_eq!(replaced.status(), 200);
    step!("replace the links", &[("links.changed", d)]);

    let renamed = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/topics/{}", id(&child)),
            Some(&editor.token),
            &json!({"name": "Hydropower"}),
        )
        .await;
    assert_eq!(renamed.status(), 200);
    step!("rename a topic", &[("topic.updated", None)]);
    let profile = app
        .send_json(
            Method::PATCH,
            "/api/v1/users/me",
            Some(&author.token),
            &json!({"bio": "Energy correspondent."}),
        )
        .await;
    assert_eq!(profile.status(), 200);
    step!("a byline's bio", &[("author.updated", None)]);
    let restored_revision = app
        .post(&format!("{path}/revisions/1/restore"), Some(&editor.token))
        .await;
    assert_eq!(restored_revision.status(), 200);
    step!(
        "restore the first revision (a draft with the first title)",
        &[
            ("article.status_changed", d),
            ("article.updated", d),
            ("article.unpublished", d)
        ]
    );
    patch(editor.token.clone(), json!({"status": "published"})).await;
    step!(
        "publish once more",
        &[("article.status_changed", d), ("article.published", d)]
    );
    assert_eq!(app.delete(&path, Some(&editor.token)).await.status(), 204);
    step!(
        "trash",
        &[("article.trashed", d), ("article.unpublished", d)]
    );
    let restored = app
        .post(&format!("{path}/restore"), Some(&editor.token))
        .await;
    assert_eq!(restored.status(), 200);
    step!(
        "restore from the trash",
        &[("article.restored", d), ("article.published", d)]
    );
    assert_eq!(
        app.delete(&format!("{path}?permanent=true"), Some(&admin.token))
            .await
            .status(),
        204
    );
    step!("delete for good", &[("article.deleted", d)]);
    assert_eq!(
        app.delete(
            &format!("/api/v1/topics/{}", id(&child)),
            Some(&editor.token)
        )
        .await
        .status(),
        204
    );
    step!("delete a topic", &[("topic.deleted", None)]);

    // Reads, sign-ins, refreshes, refusals and private account changes record nothing.
    app.get("/api/v1/articles", None).await;
    let session = app.login(&author.email, crate::helpers::PASSWORD).await;
    let refreshed = app
        .send_json(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": session["refresh_token"]}),
        )
        .await;
    assert_eq!(refreshed.status(), 200);
    let refused = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/articles/{}", id(&other)),
            Some(&author.token),
            &json!({"title": "Not yours"}),
        )
        .await;
    assert_eq!(refused.status(), 403);
    let role = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/users/{}", author.id),
            Some(&admin.token),
            &json!({"role": "editor"}),
        )
        .await;
    assert_eq!(role.status(), 200);
    step!("reads, sign-ins, refusals, roles", &[]);

    // A scheduled article: its status changes now, its publication when its time comes.
    let at = Utc::now() + chrono::Duration::seconds(2);
    let scheduled = app
        .create(
            "/api/v1/articles",
            &editor.token,
            json!({"title": "Later", "body": "x", "status": "scheduled",
                "published_at": at.to_rfc3339()}),
        )
        .await;
    let s = Some(id(&scheduled));
    step!("schedule", &[("article.created", s)]);
    sleep_past(at + chrono::Duration::milliseconds(1200)).await;
    step!("its time comes", &[("article.published", s)]);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    step!("and only once", &[]);
}

/// The staff log: who may read it, and what it refuses.
async fn the_event_log_is_for_editors(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let author = app.user(Role::Author).await;
    assert_problem(app.get("/api/v1/events", None).await, 401).await;
    assert_problem(app.get("/api/v1/events", Some(&author.token)).await, 403).await;
    for (query, field) in [
        ("after=-1", "after"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("type=article.exploded", "type"),
    ] {
        let problem = assert_problem(
            app.get(&format!("/api/v1/events?{query}"), Some(&editor.token))
                .await,
            422,
        )
        .await;
        assert_eq!(error_fields(&problem), [field], "{query}");
    }
    assert_problem(
        app.get("/api/v1/events?after=x", Some(&editor.token)).await,
        400,
    )
    .await;
    let a = app.published(&editor.token, "One", json!({})).await;
    app.published(&editor.token, "Two", json!({})).await;
    let page: Value = app
        .get(
            &format!("/api/v1/events?type=article.published&article={}", id(&a)),
            Some(&editor.token),
        )
        .await
        .json()
        .await
        .unwrap();
    let data = page["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    let event = &data[0];
    assert_eq!(event["type"], "article.published");
    assert_eq!(event["article"]["id"], a["id"]);
    assert_eq!(event["article"]["slug"], a["slug"]);
    assert_eq!(event["article"]["status"], "published");
    assert_eq!(event["article"]["language"], "en");
    assert_eq!(event["actor_id"], editor.id);
    assert_eq!(page["next_after"], event["seq"]);
    // Paging on: nothing after the last, and `next_after` stays.
    let last = page["next_after"].as_i64().unwrap() + 100;
    let empty: Value = app
        .get(&format!("/api/v1/events?after={last}"), Some(&editor.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(empty["data"], json!([]));
    assert_eq!(empty["next_after"], last);
}

/// A Server-Sent Events reader.
pub struct Sse {
    response: reqwest::Response,
    buffer: String,
}

/// One message: (id, event, data).
pub type Message = (i64, String, Value);

impl Sse {
    pub async fn open(app: &TestApp, base: &str, token: Option<&str>, last: Option<i64>) -> Self {
        let mut request = app.client.get(format!("{base}/api/v1/events/stream"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(last) = last {
            request = request.header("Last-Event-ID", last.to_string());
        }
        let response = request
            .header("Accept-Encoding", "gzip, br")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        assert!(response
            .headers()
            .get("content-encoding")
            .is_none_or(|v| v == "identity"));
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next message, or None after `wait` without one.
    pub async fn next(&mut self, wait: Duration) -> Option<Message> {
        let deadline = Instant::now() + wait;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let field = |name: &str| {
                    block
                        .lines()
                        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                        .map(str::to_owned)
                };
                if let (Some(id), Some(event), Some(data)) =
                    (field("id"), field("event"), field("data"))
                {
                    return Some((
                        id.parse().unwrap(),
                        event,
                        serde_json::from_str(&data).unwrap(),
                    ));
                }
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            match tokio::time::timeout(left, self.response.chunk()).await {
                Ok(Ok(Some(chunk))) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                _ => return None,
            }
        }
    }
}

/// The public stream carries public events with public fields only; drafts never appear.
async fn drafts_never_reach_the_public_stream(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let author = app.user(Role::Author).await;
    let mut public = Sse::open(&app, &app.address, None, None).await;
    let mut staff = Sse::open(&app, &app.address, Some(&editor.token), None).await;
    assert_problem(
        app.client
            .get(app.url("/api/v1/events/stream"))
            .bearer_auth(&author.token)
            .send()
            .await
            .unwrap(),
        403,
    )
    .await;
    let secret = app
        .create(
            "/api/v1/articles",
            &author.token,
            json!({"title": "Secret scoop", "body": "x"}),
        )
        .await;
    app.send_json(
        Method::PATCH,
        &format!("/api/v1/articles/{}", id(&secret)),
        Some(&author.token),
        &json!({"title": "Secret scoop, edited", "status": "review"}),
    )
    .await;
    let out = app.published(&editor.token, "Out now", json!({})).await;
    let (seq, event, data) = public.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(event, "article.published");
    assert_eq!(data["article"]["id"], out["id"]);
    assert_eq!(data["seq"], seq);
    assert_eq!(
        data["actor_id"],
        Value::Null,
        "no staff identity on the public stream"
    );
    assert!(public.next(Duration::from_millis(500)).await.is_none());
    // The staff stream has everything, with who did it.
    let mut kinds = Vec::new();
    while let Some((_, event, data)) = staff.next(Duration::from_secs(2)).await {
        if event == "article.created" && data["article"]["id"] == secret["id"] {
            assert_eq!(data["actor_id"], author.id);
        }
        kinds.push(event);
        if kinds.len() == 5 {
            break;
        }
    }
    assert_eq!(
        kinds,
        [
            "article.created",
            "article.status_changed",
            "article.updated",
            "article.created",
            "article.published"
        ]
    );
}

/// A client that disconnects and comes back with its last id misses nothing and gets nothing
/// twice, while writes go on.
async fn the_stream_resumes_without_gaps_or_repeats(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let start = log_after(&app, &editor.token, 0).await.1;
    let writer = {
        let (client, url, token) = (
            app.client.clone(),
            app.url("/api/v1/articles"),
            editor.token.clone(),
        );
        tokio::spawn(async move {
            for i in 0..40 {
                let body =
                    json!({"title": format!("Wire {i}"), "body": "x", "status": "published"});
                let response = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 201);
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
        })
    };
    let mut received = Vec::new();
    let mut last = Some(start);
    // Read a few at a time, hanging up in between, while the writer goes on.
    for _ in 0..40 {
        if received.len() == 40 {
            break;
        }
        let mut stream = Sse::open(&app, &app.address, None, last).await;
        for _ in 0..7 {
            match stream.next(Duration::from_secs(5)).await {
                Some((seq, event, _)) => {
                    assert_eq!(event, "article.published");
                    received.push(seq);
                    last = Some(seq);
                }
                None => break,
            }
        }
        drop(stream);
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    writer.await.unwrap();
    let expected: Vec<i64> = events::table
        .filter(events::seq.gt(start))
        .filter(events::public.eq(true))
        .order(events::seq.asc())
        .select(events::seq)
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(expected.len(), 40);
    assert_eq!(received, expected, "in order, none missing, none twice");
}

/// Three server processes race for a scheduled time: it is recorded once, at that time; and a
/// time that passes with no server running is recorded by the first to start.
async fn scheduled_publication_fires_once_across_processes(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let others = [app.process(), app.process()];
    let at = Utc::now() + chrono::Duration::seconds(2);
    let scheduled = app
        .create(
            "/api/v1/articles",
            &editor.token,
            json!({"title": "At the stroke", "body": "x", "status": "scheduled",
                "published_at": at.to_rfc3339()}),
        )
        .await;
    sleep_past(at + chrono::Duration::milliseconds(1200)).await;
    let fired = published_events(&app, id(&scheduled));
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert_eq!(fired[0], at.naive_utc().and_utc().trunc_subsecs_micros());
    drop(others);

    // No server of its own: the test's server is the only one, and it is told nothing until
    // it starts; here a second database is written while no server serves it.
    let later = crate::helpers::TestDb::create(backend);
    newsroom::startup::migrate(&later.url()).unwrap();
    let mut conn = newsroom::db::connect(&later.url()).unwrap();
    let writer = newsroom::users::create_on(
        &mut conn,
        newsroom::users::NewUser {
            email: newsroom::domain::Email::parse("e@newsroom.example").unwrap(),
            name: "Editor".into(),
            role: Role::Editor,
            password: newsroom::domain::Password::parse(crate::helpers::PASSWORD.into()).unwrap(),
            bio: None,
        },
    )
    .unwrap();
    let soon = Utc::now() + chrono::Duration::seconds(1);
    let request: newsroom::articles::write::CreateArticle = serde_json::from_value(json!({
        "title": "While nobody watched", "body": "x", "status": "scheduled",
        "published_at": soon.to_rfc3339()
    }))
    .unwrap();
    let caller = newsroom::auth::Caller {
        user: writer,
        role: Role::Editor,
    };
    let html = newsroom::articles::html::Sanitiser::new(&[]);
    let row = newsroom::changes::write_on(&mut conn, Some(caller.id()), |tx| {
        newsroom::articles::write::create(tx, &caller, request, &html)
    })
    .unwrap();
    sleep_past(soon + chrono::Duration::seconds(1)).await;
    let empty: i64 = events::table
        .filter(events::type_.eq("article.published"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(empty, 0, "nobody was there to record it");
    let started = crate::helpers::spawn_on(later).await;
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let fired = published_events(&started, row.id.into());
        if fired.len() == 1 {
            assert_eq!(fired[0], soon.naive_utc().and_utc().trunc_subsecs_micros());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the first server to start records it"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

trait Micros {
    fn trunc_subsecs_micros(self) -> DateTime<Utc>;
}

impl Micros for DateTime<Utc> {
    fn trunc_subsecs_micros(self) -> DateTime<Utc> {
        use chrono::SubsecRound;
        self.trunc_subsecs(6)
    }
}

/// When each `article.published` of `article` occurred.
fn published_events(app: &TestApp, article: i64) -> Vec<DateTime<Utc>> {
    events::table
        .filter(events::type_.eq("article.published"))
        .filter(events::article_id.eq(i32::try_from(article).unwrap()))
        .select(events::occurred_at)
        .load::<chrono::NaiveDateTime>(&mut app.conn())
        .unwrap()
        .into_iter()
        .map(|at| at.and_utc())
        .collect()
}

/// A change through one process is in another's cached reads and stream at once.
async fn other_processes_learn_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let other = app.process();
    let feed = other.url("/api/v1/articles?limit=1");
    // Warm the other process's cache.
    assert_eq!(app.client.get(&feed).send().await.unwrap().status(), 200);
    let mut stream = Sse::open(&app, &other.address, None, None).await;
    let article = app.published(&editor.token, "Breaking", json!({})).await;
    // From the moment the write is acknowledged (committed).
    let written = Instant::now();
    let (_, event, data) = stream.next(Duration::from_secs(3)).await.unwrap();
    assert_eq!(
        (event.as_str(), &data["article"]["id"]),
        ("article.published", &article["id"])
    );
    let streamed = written.elapsed();
    loop {
        let page: Value = app
            .client
            .get(&feed)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if page["data"][0]["id"] == article["id"] {
            break;
        }
        assert!(
            written.elapsed() < Duration::from_secs(3),
            "the other process never saw it"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let cached = written.elapsed();
    // PostgreSQL notifies: 100 ms is the promise, typically 10-30 ms here; CI runs the suite in
    // parallel on two cores, hence the margin. SQLite is polled every 250 ms: within a second.
    let bound = match backend {
        Backend::Postgres => Duration::from_millis(250),
        Backend::Sqlite => Duration::from_millis(1000),
    };
    assert!(
        cached < bound && streamed < bound,
        "{cached:?} / {streamed:?}"
    );
    eprintln!(
        "{backend:?}: another process streamed it after {streamed:?}, served it after {cached:?}"
    );
}

/// A server killed between a write's commit and anything after it loses no event: every write
/// acknowledged has its event, and every article its `article.created`.
async fn a_crash_after_commit_loses_no_event(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let mut doomed = app.process();
    let url = doomed.url("/api/v1/articles");
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writes = (0..40).map(|i| {
        let (client, url, token) = (app.client.clone(), url.clone(), editor.token.clone());
        let done = done.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(i * 5)).await;
            let body = json!({"title": format!("Filed {i}"), "body": "x", "status": "published"});
            let id = match client
                .post(&url)
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
            {
                Ok(response) if response.status() == 201 => response
                    .json::<Value>()
                    .await
                    .ok()
                    .and_then(|v| v["id"].as_i64()),
                _ => None,
            };
            done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            id
        }
    });
    // Killed while writes are in flight, some acknowledged, some committing, some waiting.
    let killer = async {
        while done.load(std::sync::atomic::Ordering::SeqCst) < 5 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        doomed.kill();
    };
    let (acknowledged, ()) = tokio::join!(join_all(writes), killer);
    let acknowledged: Vec<i64> = acknowledged.into_iter().flatten().collect();
    assert!(
        !acknowledged.is_empty(),
        "some writes got through before the kill"
    );
    let mut conn = app.conn();
    let stored: Vec<i32> = articles::table
        .select(articles::id)
        .load(&mut conn)
        .unwrap();
    let created: Vec<Option<i32>> = events::table
        .filter(events::type_.eq("article.created"))
        .select(events::article_id)
        .load(&mut conn)
        .unwrap();
    for article in &stored {
        assert!(
            created.contains(&Some(*article)),
            "article {article} has no event"
        );
    }
    for article in acknowledged {
        assert!(stored.contains(&i32::try_from(article).unwrap()));
    }
    // The log is whole: seqs from 1 with no gap, ending at the generation.
    let seqs: Vec<i64> = events::table
        .order(events::seq.asc())
        .select(events::seq)
        .load(&mut conn)
        .unwrap();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
}

/// Retention removes old events; a reader asking for them is told to resync (410), on the log
/// and on the stream; at most so many streams at once.
async fn old_events_are_removed_and_readers_told(backend: Backend) {
    let app = crate::helpers::spawn_app_with(backend, |config| config.stream_max_clients = 1).await;
    let editor = app.user(Role::Editor).await;
    for i in 0..3 {
        app.published(&editor.token, &format!("Old {i}"), json!({}))
            .await;
    }
    let long_ago = chrono::Utc::now().naive_utc() - chrono::Duration::days(40);
    diesel::update(events::table.filter(events::seq.le(4)))
        .set(events::recorded_at.eq(long_ago))
        .execute(&mut app.conn())
        .unwrap();
    let purged = std::process::Command::new(env!("CARGO_BIN_EXE_newsroom"))
        .arg("purge-events")
        .env("DATABASE_URL", app.db.url_string())
        .env("NEWSROOM_JWT_SECRET", crate::helpers::JWT_SECRET)
        .output()
        .unwrap();
    assert!(purged.status.success());
    assert!(String::from_utf8_lossy(&purged.stdout).contains("removed 4 event(s)"));
    for after in [0, 3] {
        assert_problem(
            app.get(
                &format!("/api/v1/events?after={after}"),
                Some(&editor.token),
            )
            .await,
            410,
        )
        .await;
    }
    let kept: Value = app
        .get("/api/v1/events?after=4", Some(&editor.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(kept["data"][0]["seq"], 5);
    let gone = app
        .client
        .get(app.url("/api/v1/events/stream"))
        .header("Last-Event-ID", "1")
        .send()
        .await
        .unwrap();
    assert_problem(gone, 410).await;
    let _held = Sse::open(&app, &app.address, None, Some(4)).await;
    let busy = app
        .client
        .get(app.url("/api/v1/events/stream"))
        .send()
        .await
        .unwrap();
    assert!(busy.headers().contains_key("retry-after"));
    assert_problem(busy, 503).await;
}

backend_tests!(
    every_write_records_exactly_its_events,
    the_event_log_is_for_editors,
    drafts_never_reach_the_public_stream,
    the_stream_resumes_without_gaps_or_repeats,
    scheduled_publication_fires_once_across_processes,
    other_processes_learn_at_once,
    a_crash_after_commit_loses_no_event,
    old_events_are_removed_and_readers_told,
);
