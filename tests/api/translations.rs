//! Translations: `translation_of` links an article into another's translation group, one
//! article per language; reads list the other members (the public the public ones, staff all
//! with their status); each member keeps its own life.

use newsroom::domain::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, error_fields, spawn_app, Backend, TestApp};

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

async fn read(app: &TestApp, id: i64, token: Option<&str>) -> Value {
    let response = app.get(&format!("/api/v1/articles/{id}"), token).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// (language, id) of the translations a read lists.
fn listed(article: &Value) -> Vec<(String, i64)> {
    article["translations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["language"].as_str().unwrap().to_owned(), id(t)))
        .collect()
}

/// A draft in `language` joining the group of `of`.
async fn draft_of(app: &TestApp, token: &str, title: &str, language: &str, of: i64) -> Value {
    let body = json!({"title": title, "body": "<p>x</p>", "language": language,
                      "translation_of": of});
    app.create("/api/v1/articles", token, body).await
}

/// A PATCH that must succeed; the article after it.
async fn patched(app: &TestApp, id: i64, token: &str, body: Value) -> Value {
    let response = patch(app, id, token, body).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn patch(app: &TestApp, id: i64, token: &str, body: Value) -> reqwest::Response {
    app.send_json(
        Method::PATCH,
        &format!("/api/v1/articles/{id}"),
        Some(token),
        &body,
    )
    .await
}

async fn translations_are_linked_one_per_language(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let english = app
        .published(&editor.token, "Border treaty", json!({}))
        .await;
    let russian = app
        .published(
            &editor.token,
            "Договор о границе",
            json!({"language": "ru", "translation_of": id(&english)}),
        )
        .await;
    let tajik = draft_of(&app, &editor.token, "Шартнома", "tg", id(&russian)).await;

    // The public sees the public members, without status; staff all, with it.
    let public = read(&app, id(&english), None).await;
    assert_eq!(listed(&public), [("ru".to_owned(), id(&russian))]);
    assert_eq!(public["translations"][0]["slug"], russian["slug"]);
    assert_eq!(public["translations"][0]["title"], "Договор о границе");
    assert!(public["translations"][0].get("status").is_none());
    assert_eq!(
        listed(&read(&app, id(&russian), None).await),
        [("en".to_owned(), id(&english))]
    );
    let staff = read(&app, id(&english), Some(&editor.token)).await;
    assert_eq!(
        listed(&staff),
        [
            ("ru".to_owned(), id(&russian)),
            ("tg".to_owned(), id(&tajik))
        ]
    );
    assert_eq!(staff["translations"][1]["status"], "draft");
    assert_eq!(listed(&tajik).len(), 2, "the write's answer lists them too");

    // One article per language: the conflict names the holder.
    let second = app
        .send_json(
            Method::POST,
            "/api/v1/articles",
            Some(&editor.token),
            &json!({"title": "Ещё", "body": "<p>x</p>", "language": "ru",
                    "translation_of": id(&english)}),
        )
        .await;
    let problem = assert_problem(second, 409).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(&id(&russian).to_string()),
        "{problem}"
    );
    let moved = patch(&app, id(&tajik), &editor.token, json!({"language": "ru"})).await;
    assert_problem(moved, 409).await;

    // Unknown, or itself: 422 naming the field.
    for target in [json!(999_999), json!(id(&tajik))] {
        let bad = patch(
            &app,
            id(&tajik),
            &editor.token,
            json!({"translation_of": target}),
        )
        .await;
        let problem = assert_problem(bad, 422).await;
        assert_eq!(error_fields(&problem), ["translation_of"]);
    }

    // Trashing one never touches the others; the public stops seeing it.
    let english_version = public["version"].clone();
    let trashed = app
        .delete(
            &format!("/api/v1/articles/{}", id(&russian)),
            Some(&editor.token),
        )
        .await;
    assert_eq!(trashed.status(), 204);
    let public = read(&app, id(&english), None).await;
    assert!(listed(&public).is_empty());
    assert_eq!(public["version"], english_version);
    assert_eq!(
        read(&app, id(&tajik), Some(&editor.token)).await["status"],
        "draft"
    );

    // Leaving the group.
    let left = patched(
        &app,
        id(&tajik),
        &editor.token,
        json!({"translation_of": null}),
    )
    .await;
    assert!(listed(&left).is_empty());
    let staff = read(&app, id(&english), Some(&editor.token)).await;
    assert_eq!(listed(&staff), [("ru".to_owned(), id(&russian))]);
}

async fn authors_link_only_what_they_write(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let author = app.user(Role::Author).await;
    let other = app.user(Role::Author).await;
    let draft = |title: &str, language: &str, translation_of: Option<i64>| {
        json!({"title": title, "body": "<p>x</p>", "language": language,
               "translation_of": translation_of})
    };
    let own = app
        .create("/api/v1/articles", &author.token, draft("Mine", "en", None))
        .await;
    let hidden = app
        .create(
            "/api/v1/articles",
            &other.token,
            draft("Theirs", "en", None),
        )
        .await;
    let public = app.published(&editor.token, "Public", json!({})).await;

    // Another's draft is answered as a missing article; a public one is not theirs to link.
    let refused = |target: i64, status: u16| {
        let (app, token, body) = (&app, author.token.clone(), draft("Моя", "ru", Some(target)));
        async move {
            let response = app
                .send_json(Method::POST, "/api/v1/articles", Some(&token), &body)
                .await;
            assert_problem(response, status).await
        }
    };
    let hidden_problem = refused(id(&hidden), 422).await;
    let missing_problem = refused(999_999, 422).await;
    assert_eq!(hidden_problem["errors"], missing_problem["errors"]);
    assert_eq!(hidden_problem["errors"][0]["field"], "translation_of");
    refused(id(&public), 403).await;
    let linked = app
        .create(
            "/api/v1/articles",
            &author.token,
            draft("Моя", "ru", Some(id(&own))),
        )
        .await;
    assert_eq!(listed(&linked), [("en".to_owned(), id(&own))]);
}

/// A public read lists its translations as they are now: a member published, retitled or
/// joining later shows at once, cached reads included.
async fn cached_reads_follow_the_group(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let english = app.published(&editor.token, "Floods", json!({})).await;
    assert!(listed(&read(&app, id(&english), None).await).is_empty());
    let russian = draft_of(&app, &editor.token, "Наводнение", "ru", id(&english)).await;
    assert!(listed(&read(&app, id(&english), None).await).is_empty());
    patched(
        &app,
        id(&russian),
        &editor.token,
        json!({"status": "published"}),
    )
    .await;
    let public = read(&app, id(&english), None).await;
    assert_eq!(listed(&public), [("ru".to_owned(), id(&russian))]);
    patched(
        &app,
        id(&russian),
        &editor.token,
        json!({"title": "Паводок"}),
    )
    .await;
    assert_eq!(
        read(&app, id(&english), None).await["translations"][0]["title"],
        "Паводок"
    );
    let tajik = app
        .published(
            &editor.token,
            "Обхезӣ",
            json!({"language": "tg", "translation_of": id(&russian)}),
        )
        .await;
    assert_eq!(
        listed(&read(&app, id(&english), None).await),
        [
            ("ru".to_owned(), id(&russian)),
            ("tg".to_owned(), id(&tajik))
        ]
    );
    patched(
        &app,
        id(&tajik),
        &editor.token,
        json!({"translation_of": null}),
    )
    .await;
    assert_eq!(
        listed(&read(&app, id(&english), None).await),
        [("ru".to_owned(), id(&russian))]
    );
}

/// Syndication carries an item's public translations as its alternates.
async fn feeds_carry_translations_as_alternates(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let english = app.published(&editor.token, "Harvest", json!({})).await;
    let russian = app
        .published(
            &editor.token,
            "Урожай",
            json!({"language": "ru", "translation_of": id(&english)}),
        )
        .await;
    draft_of(&app, &editor.token, "Ҳосил", "tg", id(&english)).await;
    let feed: Value = app
        .get("/feeds/feed.json", None)
        .await
        .json()
        .await
        .unwrap();
    let item = |article: &Value| {
        feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["title"] == article["title"])
            .unwrap()
            .clone()
    };
    let alternates = item(&english)["_translations"].clone();
    assert_eq!(
        alternates.as_array().unwrap().len(),
        1,
        "the draft is not listed"
    );
    assert_eq!(alternates[0]["language"], "ru");
    assert_eq!(alternates[0]["title"], "Урожай");
    assert!(alternates[0]["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/articles/{}", russian["slug"].as_str().unwrap())));
    assert_eq!(item(&russian)["_translations"][0]["language"], "en");

    let atom = app.get("/feeds/atom.xml", None).await.text().await.unwrap();
    let wanted = format!(
        "/articles/{}\" rel=\"alternate\" hreflang=\"ru\"",
        russian["slug"].as_str().unwrap()
    );
    assert!(atom.contains(&wanted), "{atom}");
    assert!(!atom.contains("hreflang=\"tg\""));
}

/// `prefer_language` (or an anonymous reader's `Accept-Language`) shows each translation
/// group once, in the best language it has now; pages and filters still hold.
async fn lists_show_each_group_once_in_the_preferred_language(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let publish = |title: &'static str, language: &'static str, of: Option<i64>| {
        let (app, token) = (&app, editor.token.clone());
        async move {
            id(&app
                .published(
                    &token,
                    title,
                    json!({"language": language, "translation_of": of}),
                )
                .await)
        }
    };
    let english = publish("Election", "en", None).await;
    let russian = publish("Выборы", "ru", Some(english)).await;
    let alone = publish("Weather", "en", None).await;
    let kazakh = publish("Сайлау", "kk", None).await;
    let kyrgyz = publish("Шайлоо", "ky", Some(kazakh)).await;
    let ids_of = |page: Value| crate::helpers::ids(&page);
    let list = |query: &'static str, accept: Option<&'static str>| {
        let app = &app;
        async move {
            let mut request = app.client.get(app.url(&format!("/api/v1/articles{query}")));
            if let Some(accept) = accept {
                request = request.header("Accept-Language", accept);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200, "{query}");
            let vary = response.headers()["vary"].to_str().unwrap().to_owned();
            (response.json::<Value>().await.unwrap(), vary)
        }
    };
    let (page, _) = list("?prefer_language=ru,en", None).await;
    assert_eq!(
        ids_of(page),
        [kazakh, alone, russian],
        "a group without ru or en: its first"
    );
    let (page, _) = list("?prefer_language=ky", None).await;
    assert_eq!(ids_of(page), [kyrgyz, alone, english]);
    let (page, vary) = list("", Some("ru-RU,ru;q=0.9,en;q=0.5")).await;
    assert_eq!(ids_of(page), [kazakh, alone, russian]);
    assert!(vary.contains("Accept-Language"), "{vary}");
    let (page, _) = list("", Some("en")).await;
    assert_eq!(
        ids_of(page),
        [kazakh, alone, english],
        "cached apart by language"
    );
    let (page, vary) = list("", None).await;
    assert_eq!(ids_of(page).len(), 5, "without a preference every article");
    assert!(vary.contains("Accept-Language"));
    let (page, vary) = list("?prefer_language=en", Some("ru")).await;
    assert_eq!(ids_of(page), [kazakh, alone, english], "the parameter wins");
    assert!(!vary.contains("Accept-Language"), "{vary}");
    let paged = app
        .all_ids("/api/v1/articles?prefer_language=ru,en&limit=1", None)
        .await;
    assert_eq!(paged, [kazakh, alone, russian]);
    let (page, _) = list("?prefer_language=ru&language=en", None).await;
    assert_eq!(
        ids_of(page),
        [alone, english],
        "a language filter lists all of it"
    );

    // The best language public now: unpublishing the Russian shows the English.
    patched(&app, russian, &editor.token, json!({"status": "draft"})).await;
    let (page, _) = list("?prefer_language=ru,en", None).await;
    assert_eq!(ids_of(page), [kazakh, alone, english]);

    let bad = app
        .get("/api/v1/articles?prefer_language=russian", None)
        .await;
    let problem = assert_problem(bad, 422).await;
    assert_eq!(error_fields(&problem), ["prefer_language"]);
}

backend_tests!(
    translations_are_linked_one_per_language,
    authors_link_only_what_they_write,
    cached_reads_follow_the_group,
    feeds_carry_translations_as_alternates,
    lists_show_each_group_once_in_the_preferred_language
);
