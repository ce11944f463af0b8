//! What an attacker's probe found: a hostile author, an anonymous client and a confused one.
//! Each test names the point of the hardening issue it covers.

use futures_util::future::join_all;
use newsroom::auth::Caller;
use newsroom::domain::Role;
use newsroom::users::UserRow;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, error_fields, spawn_app, Backend, TestApp, TestUser};

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

async fn draft(app: &TestApp, owner: &TestUser, title: &str) -> Value {
    app.create(
        "/api/v1/articles",
        &owner.token,
        json!({"title": title, "body": format!("<p>{title}</p>")}),
    )
    .await
}

async fn status_of(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> u16 {
    let request = app.request(method, path, Some(token));
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    request.send().await.unwrap().status().as_u16()
}

/// The problem document of a response, for comparing two answers byte for byte but the
/// request id.
async fn answer(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// Point 1: a link target the caller may not read is answered exactly like one that does not
/// exist, and no answer carries it.
async fn link_writes_never_reveal_hidden_articles(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let author = app.user(Role::Author).await;
    let colleague = app.user(Role::Author).await;
    let own = draft(&app, &author, "My own draft").await;
    let secret = draft(&app, &colleague, "A colleague's secret scoop").await;
    let trashed = app
        .published(&editor.token, "Withdrawn story", json!({}))
        .await;
    assert_eq!(
        app.delete(
            &format!("/api/v1/articles/{}", id(&trashed)),
            Some(&editor.token)
        )
        .await
        .status(),
        204
    );
    let links = format!("/api/v1/articles/{}/related", id(&own));
    let post = |target: i64| {
        let (app, links, token) = (&app, &links, author.token.clone());
        async move {
            app.send_json(
                Method::POST,
                links,
                Some(&token),
                &json!({"target_id": target}),
            )
            .await
        }
    };
    let put = |target: i64| {
        let (app, links, token) = (&app, &links, author.token.clone());
        async move {
            app.send_json(
                Method::PUT,
                links,
                Some(&token),
                &json!([{"target_id": target}]),
            )
            .await
        }
    };
    let missing = 999_999;
    let absent_post = answer(post(missing).await).await;
    let absent_put = answer(put(missing).await).await;
    assert_eq!(absent_post.0, 422);
    assert_eq!(absent_put.0, 422);
    for hidden in [id(&secret), id(&trashed)] {
        let shown = answer(post(hidden).await).await;
        assert_eq!(shown, absent_post, "POST naming a hidden article");
        assert!(!shown.1.contains("secret scoop") && !shown.1.contains("Withdrawn"));
        assert_eq!(answer(put(hidden).await).await, absent_put, "PUT");
    }

    // An editor links the author's draft to the colleague's draft: the author's next answers
    // list the links the author may read, never the colleague's draft.
    let public = app
        .published(&editor.token, "Public story", json!({}))
        .await;
    let by_editor = app
        .send_json(
            Method::POST,
            &links,
            Some(&editor.token),
            &json!({"target_id": id(&secret)}),
        )
        .await;
    assert_eq!(by_editor.status(), 201);
    let response = post(id(&public)).await;
    assert_eq!(response.status(), 201);
    let text = response.text().await.unwrap();
    assert!(text.contains("Public story"));
    assert!(!text.contains("secret scoop"), "{text}");
    let staff: Value = app
        .send_json(
            Method::POST,
            &links,
            Some(&editor.token),
            &json!({"target_id": id(&trashed)}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        staff["data"].as_array().unwrap().len(),
        3,
        "editors see all"
    );
    let patched = app
        .send_json(
            Method::PATCH,
            &format!("{links}/{}", id(&public)),
            Some(&author.token),
            &json!({"position": 0}),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(patched.contains("Public story") && !patched.contains("secret scoop"));
    assert!(!patched.contains("Withdrawn"));
}

/// Points 2 and 3: restoring needs the right trashing needed; link writes on an article past
/// review need an editor.
async fn authors_cannot_undo_or_relink_what_editors_published(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let author = app.user(Role::Author).await;
    let colleague = app.user(Role::Author).await;
    let theirs = app
        .published(
            &editor.token,
            "Published under the author's byline",
            json!({"author_ids": [author.id]}),
        )
        .await;
    let other = app
        .published(&editor.token, "Another story", json!({}))
        .await;
    let path = format!("/api/v1/articles/{}", id(&theirs));
    let links = format!("{path}/related");
    let token = author.token.as_str();

    for (method, path, body) in [
        (
            Method::POST,
            links.clone(),
            Some(json!({"target_id": id(&other)})),
        ),
        (
            Method::PUT,
            links.clone(),
            Some(json!([{"target_id": id(&other)}])),
        ),
    ] {
        assert_eq!(status_of(&app, method, &path, token, body).await, 403);
    }
    let linked = app
        .send_json(
            Method::POST,
            &links,
            Some(&editor.token),
            &json!({"target_id": id(&other)}),
        )
        .await;
    assert_eq!(linked.status(), 201);
    let link = format!("{links}/{}", id(&other));
    assert_eq!(
        status_of(
            &app,
            Method::PATCH,
            &link,
            token,
            Some(json!({"position": 0}))
        )
        .await,
        403
    );
    assert_eq!(
        status_of(&app, Method::DELETE, &link, token, None).await,
        403
    );

    // The editor trashes it; the author may not bring it back.
    assert_eq!(app.delete(&path, Some(&editor.token)).await.status(), 204);
    let restore = format!("{path}/restore");
    assert_problem(app.post(&restore, Some(token)).await, 403).await;
    assert_eq!(app.get(&path, None).await.status(), 404, "still trashed");

    // Their own draft they trash and restore; a colleague's trashed draft is not theirs to see.
    let own = draft(&app, &author, "Own draft").await;
    let own_path = format!("/api/v1/articles/{}", id(&own));
    assert_eq!(app.delete(&own_path, Some(token)).await.status(), 204);
    let restored = app.post(&format!("{own_path}/restore"), Some(token)).await;
    assert_eq!(restored.status(), 200);
    let hidden = draft(&app, &colleague, "Colleague's draft").await;
    let hidden_path = format!("/api/v1/articles/{}", id(&hidden));
    assert_eq!(
        app.delete(&hidden_path, Some(&colleague.token))
            .await
            .status(),
        204
    );
    assert_problem(
        app.post(&format!("{hidden_path}/restore"), Some(token))
            .await,
        404,
    )
    .await;
    // Editors restore anything.
    let back = app.post(&restore, Some(&editor.token)).await;
    assert_eq!(back.status(), 200);
}

/// Point 4: only editors set `published_at`.
async fn only_editors_set_the_publication_time(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let author = app.user(Role::Author).await;
    let problem = assert_problem(
        app.send_json(
            Method::POST,
            "/api/v1/articles",
            Some(&author.token),
            &json!({"title": "Pre-dated", "body": "x", "published_at": "2020-01-01T00:00:00Z"}),
        )
        .await,
        403,
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("published_at"));
    let own = draft(&app, &author, "Mine").await;
    let path = format!("/api/v1/articles/{}", id(&own));
    let problem = assert_problem(
        app.send_json(
            Method::PATCH,
            &path,
            Some(&author.token),
            &json!({"published_at": "2030-01-01T00:00:00Z"}),
        )
        .await,
        403,
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("published_at"));
    // Sending back the time it has (none) is no change.
    let same = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&author.token),
            &json!({"published_at": null, "status": "review"}),
        )
        .await;
    assert_eq!(same.status(), 200);
    let scheduled = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&editor.token),
            &json!({"published_at": "2030-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(scheduled.status(), 200);
    let read: Value = scheduled.json().await.unwrap();
    assert_eq!(read["published_at"], "2030-01-01T00:00:00Z");
}

/// Point 5: bylines name active users; authors add bylines but never remove one.
async fn bylines_are_added_by_authors_and_removed_by_editors(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.user(Role::Admin).await;
    let editor = app.user(Role::Editor).await;
    let author = app.user(Role::Author).await;
    let colleague = app.user(Role::Author).await;
    let gone = app.user(Role::Author).await;
    let deactivated = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/users/{}", gone.id),
            Some(&admin.token),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(deactivated.status(), 200);

    let problem = assert_problem(
        app.send_json(
            Method::POST,
            "/api/v1/articles",
            Some(&editor.token),
            &json!({"title": "T", "body": "x", "author_ids": [author.id, gone.id]}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&problem), ["author_ids[1]"]);

    let own = draft(&app, &author, "Shared story").await;
    let path = format!("/api/v1/articles/{}", id(&own));
    let patch = |token: String, body: Value| {
        let (app, path) = (&app, &path);
        async move {
            app.send_json(Method::PATCH, path, Some(&token), &body)
                .await
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        patch(
            author.token.clone(),
            json!({"author_ids": [author.id, gone.id]})
        )
        .await,
        422
    );
    assert_eq!(
        patch(
            author.token.clone(),
            json!({"author_ids": [author.id, colleague.id]})
        )
        .await,
        200,
        "authors add a co-author"
    );
    assert_eq!(
        patch(
            author.token.clone(),
            json!({"author_ids": [colleague.id, author.id]})
        )
        .await,
        200,
        "and reorder"
    );
    assert_eq!(
        patch(author.token.clone(), json!({"author_ids": [author.id]})).await,
        403,
        "but never drop one"
    );
    assert_eq!(
        patch(author.token.clone(), json!({"author_ids": [colleague.id]})).await,
        403,
        "themselves included"
    );
    assert_eq!(
        patch(
            colleague.token.clone(),
            json!({"author_ids": [colleague.id]})
        )
        .await,
        403
    );
    assert_eq!(
        patch(editor.token.clone(), json!({"author_ids": [author.id]})).await,
        200,
        "editors remove bylines"
    );

    // A byline whose user was deactivated later stays, and the article stays editable.
    let old = app
        .published(
            &editor.token,
            "Old story",
            json!({"author_ids": [colleague.id]}),
        )
        .await;
    let off = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/users/{}", colleague.id),
            Some(&admin.token),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(off.status(), 200);
    let edited = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/articles/{}", id(&old)),
            Some(&editor.token),
            &json!({"title": "Old story, corrected"}),
        )
        .await;
    assert_eq!(edited.status(), 200);
}

/// Point 6: one author's drafts cannot push a word out of public search, and trashing or
/// unpublishing takes an article out of the public pool at once.
async fn search_pools_hold_only_what_the_caller_may_read(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let author = app.user(Role::Author).await;
    let story = app
        .published(&editor.token, "Avalanche warning in the Pamirs", json!({}))
        .await;
    // More drafts than the search pool holds, all newer and all matching.
    {
        let mut conn = app.conn();
        let user = UserRow::find(&mut conn, author.id).unwrap().unwrap();
        let caller = Caller {
            user,
            role: Role::Author,
        };
        let html = newsroom::articles::html::Sanitiser::new(&[]);
        for i in 0..=newsroom::articles::search::POOL {
            let request: newsroom::articles::write::CreateArticle = serde_json::from_value(json!({
                "title": format!("Avalanche draft {i}"),
                "body": "<p>avalanche avalanche avalanche</p>"
            }))
            .unwrap();
            newsroom::changes::write_on(&mut conn, Some(author.id), |tx| {
                newsroom::articles::write::create(tx, &caller, request, &html)
            })
            .unwrap();
        }
    }
    let found = |token: Option<String>, query: &'static str| {
        let app = &app;
        async move {
            let response = app
                .get(&format!("/api/v1/articles?{query}"), token.as_deref())
                .await;
            assert_eq!(response.status(), 200);
            crate::helpers::ids(&response.json().await.unwrap())
        }
    };
    assert_eq!(found(None, "q=avalanche").await, [id(&story)]);
    assert_eq!(
        found(Some(author.token.clone()), "q=avalanche").await,
        [id(&story)],
        "a plain search is the public one, for anyone"
    );
    let own = found(
        Some(author.token.clone()),
        "q=avalanche&status=draft&limit=100",
    )
    .await;
    assert_eq!(own.len(), 100, "authors search their own drafts");
    let path = format!("/api/v1/articles/{}", id(&story));
    let unpublished = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&editor.token),
            &json!({"status": "draft"}),
        )
        .await;
    assert_eq!(unpublished.status(), 200);
    assert!(found(None, "q=avalanche").await.is_empty());
    let republished = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&editor.token),
            &json!({"status": "published"}),
        )
        .await;
    assert_eq!(republished.status(), 200);
    assert_eq!(found(None, "q=avalanche").await, [id(&story)]);
    assert_eq!(app.delete(&path, Some(&editor.token)).await.status(), 204);
    assert!(found(None, "q=avalanche").await.is_empty());
    let restored = app
        .post(&format!("{path}/restore"), Some(&editor.token))
        .await;
    assert_eq!(restored.status(), 200);
    assert_eq!(found(None, "q=avalanche").await, [id(&story)]);
}

/// Point 7: control characters (NUL above all) in any parameter, path segment or JSON field
/// are refused alike on both backends: 422 naming the field, 404 for a path key.
async fn control_characters_are_refused_alike(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    for (query, field) in [
        ("q=%00", "q"),
        ("q=border%01treaty", "q"),
        ("language=%00", "language"),
        ("topic=%00", "topic"),
        ("author=a%00b", "author"),
        ("cursor=%00", "cursor"),
        ("published_after=2026-01-01T00:00:00Z%00", "published_after"),
    ] {
        let problem = assert_problem(
            app.get(&format!("/api/v1/articles?{query}"), None).await,
            422,
        )
        .await;
        assert_eq!(error_fields(&problem), [field], "{query}");
    }
    for path in [
        "/api/v1/articles/%00",
        "/api/v1/articles/a%00b/related",
        "/api/v1/topics/%00",
        "/api/v1/authors/%00",
        "/feeds/topics/%00/rss.xml",
        "/api/v1/articles/%0A",
    ] {
        assert_problem(app.get(path, None).await, 404).await;
    }
    let login = assert_problem(
        app.send_json(
            Method::POST,
            "/api/v1/auth/login",
            None,
            &json!({"email": "x\u{0}@newsroom.example", "password": "whatever it is"}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&login), ["email"]);
    for (body, field) in [
        (json!({"title": "Nul\u{0}title", "body": "x"}), "title"),
        (json!({"title": "T", "body": "<p>a\u{0}b</p>"}), "body"),
        (
            json!({"title": "T", "body": "x", "seo": {"title": "\u{7}"}}),
            "seo.title",
        ),
    ] {
        let problem = assert_problem(
            app.send_json(Method::POST, "/api/v1/articles", Some(&editor.token), &body)
                .await,
            422,
        )
        .await;
        assert_eq!(error_fields(&problem), [field]);
    }
    // Line breaks and tabs in text are not control characters of this kind.
    app.create(
        "/api/v1/articles",
        &editor.token,
        json!({"title": "Fine", "body": "<p>one\ntwo\tthree</p>", "summary": "a\r\nb"}),
    )
    .await;
}

/// Point 8: every time the API accepts lies in the years 1970 to 9999.
async fn times_outside_the_supported_years_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    for (query, field) in [
        ("published_after=-5000-01-01T00:00:00Z", "published_after"),
        ("published_before=20260-01-01T00:00:00Z", "published_before"),
        ("published_after=1969-12-31T23:59:59Z", "published_after"),
    ] {
        let problem = assert_problem(
            app.get(&format!("/api/v1/articles?{query}"), None).await,
            422,
        )
        .await;
        assert_eq!(error_fields(&problem), [field], "{query}");
    }
    use base64::Engine;
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
        json!({"sort": "-published_at", "at": -9_000_000_000_000_000_i64, "rank": null, "id": 1})
            .to_string(),
    );
    let problem = assert_problem(
        app.get(&format!("/api/v1/articles?cursor={forged}"), None)
            .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&problem), ["cursor"]);
    for at in [
        "-5000-01-01T00:00:00Z",
        "20260-01-01T00:00:00Z",
        "1900-01-01T00:00:00Z",
    ] {
        let problem = assert_problem(
            app.send_json(
                Method::POST,
                "/api/v1/articles",
                Some(&editor.token),
                &json!({"title": "T", "body": "x", "status": "scheduled", "published_at": at}),
            )
            .await,
            422,
        )
        .await;
        assert_eq!(error_fields(&problem), ["published_at"], "{at}");
    }
    let latest = app
        .published(
            &editor.token,
            "The last day",
            json!({"published_at": "9999-12-31T23:59:59Z", "status": "scheduled"}),
        )
        .await;
    let feed: Value = app
        .get("/api/v1/articles", None)
        .await
        .json()
        .await
        .unwrap();
    assert!(!crate::helpers::ids(&feed).contains(&id(&latest)));
}

/// Point 10: titles and names need a visible character; bidi controls are removed.
async fn invisible_titles_and_names_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.user(Role::Admin).await;
    let token = Some(admin.token.as_str());
    for (path, body, field) in [
        (
            "/api/v1/articles",
            json!({"title": "\u{200B}\u{200D}\u{FEFF}", "body": "x"}),
            "title",
        ),
        (
            "/api/v1/topics",
            json!({"name": "\u{202E} \u{3000}"}),
            "name",
        ),
        (
            "/api/v1/users",
            json!({"email": "z@newsroom.example", "name": "\u{2066}\u{2069}\u{200F}",
                "role": "author", "password": "a long enough passphrase"}),
            "name",
        ),
    ] {
        let problem =
            assert_problem(app.send_json(Method::POST, path, token, &body).await, 422).await;
        assert_eq!(error_fields(&problem), [field], "{path}");
    }
    let article = app
        .create(
            "/api/v1/articles",
            &admin.token,
            json!({"title": "\u{202E}Breaking\u{202C} news", "body": "x"}),
        )
        .await;
    assert_eq!(article["title"], "Breaking news");
    assert_eq!(article["slug"], "breaking-news");
    let topic = app
        .topic(&admin.token, "\u{2067}Politics\u{2069}", None)
        .await;
    assert_eq!(topic["name"], "Politics");
}

/// Points 11 to 13: embeds only from the configured hosts, sandboxed; `srcset` URLs under the
/// rules of `src`; RSS summaries as plain text.
async fn bodies_and_feeds_carry_no_foreign_active_content(backend: Backend) {
    let app = crate::helpers::spawn_app_with(backend, |config| {
        config.embed_hosts = vec!["video.newsroom.example".into()];
    })
    .await;
    let editor = app.user(Role::Editor).await;
    let body = r#"<p>Watch:</p><iframe src="https://video.newsroom.example/embed/1" sandbox="allow-top-navigation allow-forms"></iframe><iframe src="https://www.youtube.com/embed/2"></iframe><iframe src="//video.newsroom.example/embed/3"></iframe><iframe src="http://video.newsroom.example/embed/4"></iframe><img src="/a.jpg" srcset="data:image/svg+xml,x 1x, javascript:alert(1) 2x, /a@3x.jpg 3x">"#;
    let article = app
        .published(
            &editor.token,
            "Embeds",
            json!({"body": body, "summary": "<script>alert(1)</script> & <b>bold</b>"}),
        )
        .await;
    let html = article["body"].as_str().unwrap();
    assert_eq!(html.matches("<iframe").count(), 1, "{html}");
    assert!(html.contains(r#"src="https://video.newsroom.example/embed/1""#));
    assert!(html.contains(r#"sandbox="allow-scripts allow-same-origin allow-popups""#));
    assert!(html.contains(r#"loading="lazy""#));
    assert!(html.contains(r#"referrerpolicy="strict-origin-when-cross-origin""#));
    assert!(!html.contains("youtube") && !html.contains("allow-top-navigation"));
    assert!(html.contains(r#"srcset="/a@3x.jpg 3x""#), "{html}");
    assert!(!html.contains("data:") && !html.contains("javascript"));

    let rss = app.get("/feeds/rss.xml", None).await.text().await.unwrap();
    let description = rss
        .split("<description>")
        .nth(2)
        .and_then(|rest| rest.split("</description>").next())
        .unwrap();
    assert_eq!(
        description,
        "<![CDATA[&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;]]>"
    );
}

/// Point 19: a revision naming a deleted topic or a deactivated user is restored without them,
/// and the answer says what was dropped.
async fn revisions_restore_without_what_is_gone(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.user(Role::Admin).await;
    let editor = app.user(Role::Editor).await;
    let writer = app.user(Role::Author).await;
    let kept = id(&app.topic(&editor.token, "Kept", None).await);
    let doomed = id(&app.topic(&editor.token, "Doomed", None).await);
    let article = app
        .published(
            &editor.token,
            "Story",
            json!({"topic_ids": [kept, doomed], "author_ids": [editor.id, writer.id]}),
        )
        .await;
    let path = format!("/api/v1/articles/{}", id(&article));
    let changed = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&editor.token),
            &json!({"topic_ids": [kept], "author_ids": [editor.id], "title": "Story, changed"}),
        )
        .await;
    assert_eq!(changed.status(), 200);
    assert_eq!(
        app.delete(&format!("/api/v1/topics/{doomed}"), Some(&editor.token))
            .await
            .status(),
        204
    );
    let off = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/users/{}", writer.id),
            Some(&admin.token),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(off.status(), 200);
    let restored = app
        .post(&format!("{path}/revisions/1/restore"), Some(&editor.token))
        .await;
    assert_eq!(restored.status(), 200);
    let body: Value = restored.json().await.unwrap();
    assert_eq!(body["title"], "Story");
    assert_eq!(
        body["dropped"],
        json!([{"field": "topic_ids", "id": doomed}, {"field": "author_ids", "id": writer.id}])
    );
    let topics: Vec<i64> = body["topics"].as_array().unwrap().iter().map(id).collect();
    assert_eq!(topics, [kept]);
    let authors: Vec<i64> = body["authors"].as_array().unwrap().iter().map(id).collect();
    assert_eq!(authors, [i64::from(editor.id)]);
    // Nothing to drop: an empty list.
    let again = app
        .post(&format!("{path}/revisions/2/restore"), Some(&editor.token))
        .await;
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["dropped"], json!([]));
}

/// Point 21: HEAD answers as GET does, headers and no body; `Allow` lists it.
async fn head_answers_as_get(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let article = app.published(&editor.token, "Heads up", json!({})).await;
    for path in [
        "/api/v1/articles".to_owned(),
        format!("/api/v1/articles/{}", article["slug"].as_str().unwrap()),
        "/api/v1/topics".to_owned(),
        "/feeds/rss.xml".to_owned(),
        "/health/live".to_owned(),
        "/openapi.json".to_owned(),
    ] {
        let get = app.client.get(app.url(&path)).send().await.unwrap();
        let head = app.client.head(app.url(&path)).send().await.unwrap();
        assert_eq!(head.status(), 200, "{path}");
        for name in ["content-type", "etag", "cache-control", "content-length"] {
            assert_eq!(
                head.headers().get(name),
                get.headers().get(name),
                "{name} of {path}"
            );
        }
        let length: usize = get.headers()["content-length"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(get.bytes().await.unwrap().len(), length);
        assert!(head.bytes().await.unwrap().is_empty(), "{path}");
    }
    let refused = app
        .client
        .delete(app.url("/api/v1/authors"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 405);
    assert_eq!(refused.headers()["allow"], "GET, HEAD");
    let post_only = app
        .client
        .head(app.url("/api/v1/auth/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(post_only.status(), 405);
    assert_eq!(post_only.headers()["allow"], "POST");
}

/// Point 22: the redirect from a former slug is cached like the read it points to.
async fn former_slug_redirects_carry_the_public_cache_policy(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let article = app
        .published(&editor.token, "First headline", json!({}))
        .await;
    let renamed = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/articles/{}", id(&article)),
            Some(&editor.token),
            &json!({"slug": "second-headline"}),
        )
        .await;
    assert_eq!(renamed.status(), 200);
    let moved = app.get("/api/v1/articles/first-headline", None).await;
    assert_eq!(moved.status(), 301);
    assert_eq!(
        moved.headers()["location"],
        "/api/v1/articles/second-headline"
    );
    let read = app.get("/api/v1/articles/second-headline", None).await;
    assert_eq!(
        moved.headers()["cache-control"],
        read.headers()["cache-control"]
    );
    assert_eq!(moved.headers()["vary"], read.headers()["vary"]);
    let staff = app
        .get("/api/v1/articles/first-headline", Some(&editor.token))
        .await;
    assert_eq!(staff.status(), 301);
    assert_eq!(staff.headers()["cache-control"], "private, no-store");
}

/// Point 20: unknown query parameters make no cache entries, and the cache counts what it
/// keeps: 10,000 junk URLs grow a server's memory by at most its cache size and 30 MB.
async fn junk_urls_cannot_grow_the_response_cache(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    for i in 0..3 {
        app.published(&editor.token, &format!("Story {i}"), json!({}))
            .await;
    }
    let server = app.process_with(&[("NEWSROOM_RESPONSE_CACHE_MB", "1")]);
    let junk = "j".repeat(8 * 1024);
    let warm = app
        .client
        .get(server.url("/api/v1/articles"))
        .send()
        .await
        .unwrap();
    assert_eq!(warm.status(), 200);
    let before = server.rss_bytes();
    let paths: Vec<String> = (0..10_000)
        .map(|i| match i % 8 {
            0 => format!("/api/v1/articles?junk{i}={junk}"),
            1 => format!("/feeds/rss.xml?utm_source={i}{junk}"),
            2 | 3 => format!("/api/v1/authors?a{i}={junk}"),
            // Small bodies: an entry would be almost all key.
            _ => format!("/api/v1/topics?x={i}{junk}"),
        })
        .collect();
    for chunk in paths.chunks(16) {
        let requests = chunk
            .iter()
            .map(|path| app.client.get(server.url(path)).send());
        for response in join_all(requests).await {
            assert_eq!(response.unwrap().status(), 200);
        }
    }
    let grown = server.rss_bytes().saturating_sub(before);
    assert!(
        grown <= (1 + 30) << 20,
        "the server grew by {} MB",
        grown >> 20
    );
    // Known parameters still key the cache: the same page whatever the junk or the order.
    let a = app
        .client
        .get(server.url("/api/v1/articles?limit=2&sort=-published_at&junk=1"))
        .send()
        .await
        .unwrap();
    let b = app
        .client
        .get(server.url("/api/v1/articles?sort=-published_at&other=2&limit=2"))
        .send()
        .await
        .unwrap();
    assert_eq!(a.headers()["etag"], b.headers()["etag"]);
}

backend_tests!(
    head_answers_as_get,
    former_slug_redirects_carry_the_public_cache_policy,
    junk_urls_cannot_grow_the_response_cache,
    revisions_restore_without_what_is_gone,
    control_characters_are_refused_alike,
    times_outside_the_supported_years_are_refused,
    invisible_titles_and_names_are_refused,
    bodies_and_feeds_carry_no_foreign_active_content,
    link_writes_never_reveal_hidden_articles,
    authors_cannot_undo_or_relink_what_editors_published,
    only_editors_set_the_publication_time,
    bylines_are_added_by_authors_and_removed_by_editors,
    search_pools_hold_only_what_the_caller_may_read,
);
