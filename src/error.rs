//! One error type for the whole API, rendered as RFC 9457 `application/problem+json`.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"field": "title", "message": "must be 1 to 300 characters"}))]
pub struct FieldError {
    /// The field's path in the request (`author_ids[2]`, `cover_image.url`), or the name of the
    /// query or path parameter.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An RFC 9457 problem document; every error response has this shape.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:newsroom:problem:validation",
        "title": "Unprocessable Entity",
    "status": 422,
    "detail": "the request has 1 invalid field",
    "errors": [{"field": "title", "message": "must be 1 to 300 characters"}]
}))]
pub struct Problem {
    /// A URI that identifies the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// The HTTP status's name.
    pub title: String,
    pub status: u16,
    /// What went wrong, for a person to read.
    pub detail: String,
    /// For validation failures: each invalid field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("unauthorized: {detail}")]
    Unauthorized { detail: String, invalid_token: bool },
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed(Vec<Method>),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    /// What was asked for is gone for good (events past retention).
    #[error("gone: {0}")]
    Gone(String),
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// No byte of the asked range is in the file of `length` bytes.
    #[error("range not satisfiable: {detail}")]
    RangeNotSatisfiable { detail: String, length: u64 },
    #[error("validation failed: {0:?}")]
    Validation(Vec<FieldError>),
    #[error("too many requests: {detail}")]
    TooManyRequests { detail: String, retry_after: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// At capacity for now: retry after the given seconds.
    #[error("busy: {detail}")]
    Busy { detail: String, retry_after: u64 },
    /// The cause is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }

    /// A missing or unusable bearer token.
    pub fn invalid_token(detail: impl Into<String>) -> Self {
        Self::Unauthorized {
            detail: detail.into(),
            invalid_token: true,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad-request",
            Self::Unauthorized { .. } => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not-found",
            Self::MethodNotAllowed(_) => "method-not-allowed",
            Self::Conflict(_) => "conflict",
            Self::PreconditionFailed(_) => "precondition-failed",
            Self::Gone(_) => "gone",
            Self::PayloadTooLarge(_) => "payload-too-large",
            Self::UnsupportedMediaType(_) => "unsupported-media-type",
            Self::RangeNotSatisfiable { .. } => "range-not-satisfiable",
            Self::Validation(_) => "validation",
            Self::TooManyRequests { .. } => "too-many-requests",
            Self::Unavailable(_) | Self::Busy { .. } => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::BadRequest(d)
            | Self::Unauthorized { detail: d, .. }
            | Self::Forbidden(d)
            | Self::NotFound(d)
            | Self::Conflict(d)
            | Self::PreconditionFailed(d)
            | Self::Gone(d)
            | Self::Busy { detail: d, .. }
            | Self::PayloadTooLarge(d)
            | Self::UnsupportedMediaType(d)
            | Self::RangeNotSatisfiable { detail: d, .. }
            | Self::TooManyRequests { detail: d, .. } => d.clone(),
            Self::MethodNotAllowed(allowed) => {
                let names: Vec<&str> = allowed.iter().map(Method::as_str).collect();
                format!("this resource allows {}", names.join(", "))
            }
            Self::Validation(errors) => match errors.len() {
                1 => "the request has 1 invalid field".into(),
                n => format!("the request has {n} invalid fields"),
            },
            Self::Unavailable(_) => "the service is temporarily unavailable; try again".into(),
            Self::Internal(_) => "an internal error occurred; it has been logged".into(),
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        Problem {
            kind: format!("urn:newsroom:problem:{}", self.kind()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.detail(),
            errors: match self {
                Self::Validation(errors) => errors.clone(),
                _ => Vec::new(),
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::Gone(_) => StatusCode::GONE,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(cause) => log::error!("internal error: {cause}"),
            Self::Unavailable(cause) => log::warn!("unavailable: {cause}"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.content_type(PROBLEM_JSON);
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        match self {
            Self::Unauthorized { invalid_token, .. } => {
                let challenge = if *invalid_token {
                    r#"Bearer error="invalid_token""#
                } else {
                    "Bearer"
                };
                response.insert_header((header::WWW_AUTHENTICATE, challenge));
            }
            Self::TooManyRequests { retry_after, .. } | Self::Busy { retry_after, .. } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            Self::RangeNotSatisfiable { length, .. } => {
                response.insert_header((header::CONTENT_RANGE, format!("bytes */{length}")));
            }
            Self::MethodNotAllowed(allowed) => {
                let names: Vec<&str> = allowed.iter().map(Method::as_str).collect();
                if let Ok(value) = HeaderValue::from_str(&names.join(", ")) {
                    response.insert_header((header::ALLOW, value));
                }
            }
            _ => {}
        }
        response.json(self.problem())
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match err {
            Error::NotFound => Self::NotFound("not found".into()),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                Self::Conflict("conflicts with an existing resource".into())
            }
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                Self::Conflict("still referenced by other resources".into())
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                Self::Unavailable(info.message().to_owned())
            }
            other => Self::internal(other),
        }
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        Self::Unavailable(format!("database pool: {err}"))
    }
}
