//! The committed spec is the one the code generates, and it describes every operation.

use serde_json::Value;

use crate::helpers::{spawn_app, Backend};

const REGENERATE: &str = "cargo run --quiet -- openapi > openapi/openapi.json";

fn generated() -> Value {
    serde_json::to_value(newsroom::startup::openapi_document()).unwrap()
}

#[test]
fn the_committed_spec_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_default())
        .unwrap_or(Value::Null);
    assert!(
        committed == generated(),
        "openapi/openapi.json is out of date; regenerate it with `{REGENERATE}`"
    );
}

/// The field and parameter rules reach the spec (the spec is the document with the rules
/// written in; a rule utoipa cannot read back would leave every rule out).
#[test]
fn the_rules_the_server_enforces_are_in_the_spec() {
    let spec = generated();
    let schemas = &spec["components"]["schemas"];
    for (schema, field, keyword) in [
        ("CreateTopic", "name", "pattern"),
        ("CreateArticle", "title", "maxLength"),
        ("CreateTopic", "names", "oneOf"),
    ] {
        assert!(
            schemas[schema]["properties"][field].get(keyword).is_some(),
            "{schema}.{field} has no {keyword}"
        );
    }
    assert_eq!(
        schemas["CreateTopic"]["properties"]["names"]["oneOf"][0]["maxProperties"],
        50
    );
}

#[test]
fn every_operation_is_documented() {
    let spec = generated();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = spec["paths"].as_object().unwrap();
    assert!(!paths.is_empty());
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let name = format!("{method} {path}");
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{name}: summary"
            );
            assert!(
                op["description"].as_str().is_some_and(|s| !s.is_empty()),
                "{name}: description"
            );
            assert!(op["operationId"].is_string(), "{name}: operationId");
            assert!(
                op["tags"].as_array().is_some_and(|t| t.len() == 1),
                "{name}: one tag"
            );
            assert!(op["responses"]["500"].is_object(), "{name}: 500");
            if let Some(security) = op.get("security").and_then(Value::as_array) {
                assert!(
                    op["responses"]["401"].is_object(),
                    "{name}: takes a token without 401"
                );
                let optional = security.iter().any(|r| r == &serde_json::json!({}));
                assert_eq!(
                    op["responses"]["403"].is_object(),
                    !optional,
                    "{name}: 403 iff a token is required"
                );
            }
        }
    }
}

#[test]
fn every_request_body_has_a_realistic_example() {
    let spec = generated();
    let schemas = &spec["components"]["schemas"];
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(content) = op["requestBody"]["content"]["application/json"].as_object() else {
                continue;
            };
            let example = content.get("example").or_else(|| {
                let name = content["schema"]["$ref"].as_str()?.rsplit('/').next()?;
                schemas[name].get("example")
            });
            let example = example.unwrap_or_else(|| panic!("{method} {path}: no example"));
            assert!(
                !example.to_string().contains("\"string\""),
                "{method} {path}: {example}"
            );
        }
    }
}

async fn the_server_serves_the_spec_and_swagger_ui(backend: Backend) {
    let app = spawn_app(backend).await;
    let served: Value = app.get("/openapi.json", None).await.json().await.unwrap();
    assert_eq!(served, generated());
    let docs = app.get("/docs/", None).await;
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
    let redirect = app.get("/docs", None).await;
    assert_eq!(redirect.status(), 308);
    assert_eq!(redirect.headers()["location"], "/docs/");
}

backend_tests!(the_server_serves_the_spec_and_swagger_ui);
