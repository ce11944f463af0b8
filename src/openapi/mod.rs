//! The OpenAPI document: collected from the handlers registered in `startup::routes`, then
//! given the responses every operation shares, so no handler can drift from the spec.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

pub mod rules;

use crate::error::{FieldError, Problem, PROBLEM_JSON};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "newsroom",
        description = "Headless news backend: articles, nested topics and related-news links \
behind a JSON REST API.\n\nReads of published content are public. Writes need a bearer access \
token: call `POST /api/v1/auth/login`, then press **Authorize** and paste the `access_token`.\n\n\
Every error is an RFC 9457 problem document (`application/problem+json`).",
    ),
    tags(
        (name = "articles", description = "Articles: the public feed, search, and editorial writes"),
        (name = "topics", description = "Sections and tags, nested"),
        (name = "related", description = "Related-news links beneath an article: curated, then suggested"),
        (name = "auth", description = "Sign-in, token refresh and sign-out"),
        (name = "users", description = "Staff accounts (admins) and one's own profile"),
        (name = "authors", description = "Public bylines"),
        (name = "media", description = "The photo library: uploads stripped of metadata, renditions and crops around a focal point, and the public files"),
        (name = "fronts", description = "Curated pages: the home page and section fronts, each section its editors' picks, then filled from a topic, a byline or a language"),
        (name = "live", description = "Live blogs: the timestamped entries of a live article, key events and a pinned entry"),
        (name = "feeds", description = "RSS, Atom and JSON Feed syndication"),
        (name = "events", description = "The event log of every change, and its live stream (Server-Sent Events)"),
        (name = "webhooks", description = "Endpoints told of events as they happen (Standard Webhooks), with their delivery logs (admins)"),
        (name = "health", description = "Probes for orchestrators"),
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerScheme)
)]
pub struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("An access token from `POST /api/v1/auth/login`"))
                    .build(),
            ),
        );
    }
}

/// Problem responses shared by operations: (status, description, applies to the operation?).
type Applies = fn(&Operation) -> bool;

const SHARED: &[(&str, &str, Applies)] = &[
    (
        "400",
        "Malformed JSON, or an invalid query or path parameter",
        has_input,
    ),
    (
        "401",
        "No bearer token, or an invalid, expired or revoked one",
        accepts_token,
    ),
    (
        "403",
        "The caller's role does not allow this",
        requires_token,
    ),
    (
        "404",
        "No resource at this path (an id or slug that names nothing)",
        has_path_parameters,
    ),
    ("413", "The request body is over the size limit", has_body),
    ("415", "The request body is not JSON", has_body),
    (
        "422",
        "The request is well-formed but invalid; `errors` names each field",
        has_input,
    ),
    (
        "500",
        "Internal error; the detail is opaque and the cause is logged",
        |_| true,
    ),
];

/// The operation reads a bearer token (perhaps optionally).
fn accepts_token(op: &Operation) -> bool {
    op.security.as_ref().is_some_and(|s| !s.is_empty())
}

/// The operation needs a bearer token: it lists no empty (anonymous) requirement.
fn requires_token(op: &Operation) -> bool {
    accepts_token(op)
        && op.security.iter().flatten().all(|requirement| {
            serde_json::to_value(requirement).is_ok_and(|v| v != serde_json::json!({}))
        })
}

fn has_body(op: &Operation) -> bool {
    op.request_body.is_some()
}

fn has_path_parameters(op: &Operation) -> bool {
    op.parameters.iter().flatten().any(|p| match p {
        RefOr::T(p) => p.parameter_in == utoipa::openapi::path::ParameterIn::Path,
        RefOr::Ref(_) => false,
    })
}

fn has_input(op: &Operation) -> bool {
    has_body(op) || op.parameters.as_ref().is_some_and(|p| !p.is_empty())
}

fn problem_ref(status: &str) -> String {
    format!("Problem{status}")
}

/// Adds the shared problem responses to every operation that can give them, and the rules the
/// server enforces on single fields (`rules`).
pub fn finish(doc: Document) -> Document {
    rules::apply(with_shared_responses(doc))
}

fn with_shared_responses(mut doc: Document) -> Document {
    let components = doc.components.get_or_insert_with(Default::default);
    for (status, description, _) in SHARED {
        components.responses.insert(
            problem_ref(status),
            RefOr::T(
                ResponseBuilder::new()
                    .description(*description)
                    .content(
                        PROBLEM_JSON,
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Problem")))
                            .build(),
                    )
                    .build(),
            ),
        );
    }
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in operations.into_iter().flatten() {
            for (status, _, applies) in SHARED {
                if applies(op) && !op.responses.responses.contains_key(*status) {
                    op.responses.responses.insert(
                        (*status).to_owned(),
                        RefOr::Ref(Ref::new(format!(
                            "#/components/responses/{}",
                            problem_ref(status)
                        ))),
                    );
                }
            }
        }
    }
    doc
}
