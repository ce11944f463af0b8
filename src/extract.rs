//! Request extractors whose failures are problem documents: JSON bodies (with the path of the
//! offending field), query strings and path parameters.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpRequest, ResponseError};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};

/// A JSON request body holding an object. Wrong content type -> 415, over the size limit ->
/// 413, malformed JSON -> 400, well-formed JSON of the wrong shape -> 422 naming the field.
#[derive(Debug)]
pub struct Json<T>(pub T);

/// A JSON request body holding an array, with the same errors as [`Json`].
#[derive(Debug)]
pub struct JsonList<T>(pub Vec<T>);

/// Reads a JSON body; `object` refuses a top-level array (serde would take one for a struct).
fn read_json<T: DeserializeOwned + 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    object: bool,
) -> LocalBoxFuture<'static, Result<T, ApiError>> {
    let content_type_ok = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            let essence = v
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            essence == "application/json" || essence.ends_with("+json")
        })
        .unwrap_or(false);
    let body = web::Bytes::from_request(req, payload);
    Box::pin(async move {
        if !content_type_ok {
            return Err(ApiError::UnsupportedMediaType(
                "the request body must be JSON (Content-Type: application/json)".into(),
            ));
        }
        let bytes = body.await.map_err(|err| {
            if err.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge("the request body is larger than allowed".into())
            } else {
                ApiError::BadRequest("the request body could not be read".into())
            }
        })?;
        if object && bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            return Err(ApiError::invalid("body", "must be a JSON object"));
        }
        parse_json(&bytes)
    })
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_json(req, payload, true);
        Box::pin(async move { body.await.map(Json) })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonList<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_json(req, payload, false);
        Box::pin(async move { body.await.map(JsonList) })
    }
}

/// Deserialises a JSON document, mapping errors to 400 (syntax) or 422 (shape, with the field).
/// A key given twice in one object -> 422. A number written with a fraction or an exponent
/// that is a whole number (`3.0`, `1e2`) is that integer, as JSON Schema counts it. A string
/// holding a control character other than tab, line feed and carriage return (NUL above all,
/// which PostgreSQL cannot store) -> 422 naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let Document(value) = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = strip_position(&inner.to_string());
        match inner.classify() {
            serde_json::error::Category::Data => {
                ApiError::Validation(vec![field_error(&path, &message)])
            }
            _ => ApiError::BadRequest(format!("malformed JSON: {message}")),
        }
    })?;
    de.end().map_err(|e| {
        ApiError::BadRequest(format!(
            "malformed JSON: {}",
            strip_position(&e.to_string())
        ))
    })?;
    if let Some(field) = find_control(&value, "") {
        return Err(ApiError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let message = strip_position(&err.into_inner().to_string());
        ApiError::Validation(vec![field_error(&path, &message)])
    })
}

/// A JSON document read strictly: no key twice in an object, whole numbers as integers.
struct Document(serde_json::Value);

impl<'de> serde::Deserialize<'de> for Document {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        de.deserialize_any(DocumentVisitor).map(Document)
    }
}

struct DocumentVisitor;

impl<'de> serde::de::Visitor<'de> for DocumentVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        // Whole numbers up to 2^53 are exact in a double.
        const EXACT: f64 = 9_007_199_254_740_992.0;
        if v.fract() == 0.0 && v.abs() <= EXACT {
            return Ok((v as i64).into());
        }
        Ok(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, Into::into))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Document(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(items.into())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if fields.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("duplicate field `{key}`")));
            }
            let Document(value) = map.next_value()?;
            fields.insert(key, value);
        }
        Ok(fields.into())
    }
}

fn forbidden(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

fn find_control(value: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    let at = |path: &str| match path {
        "" => "body".to_owned(),
        path => path.to_owned(),
    };
    match value {
        Value::String(text) if forbidden(text) => Some(at(path)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| find_control(item, &format!("{path}[{i}]"))),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let inner = match path {
                "" => key.clone(),
                path => format!("{path}.{key}"),
            };
            if forbidden(key) {
                Some(at(path))
            } else {
                find_control(item, &inner)
            }
        }),
        _ => None,
    }
}

/// Refuses control characters in the path (404: no resource has such a name) and in query
/// parameters (422 naming the parameter), before anything reads them: PostgreSQL cannot store
/// NUL and SQLite's full-text syntax chokes on it, and no name or filter of ours holds one.
pub async fn refuse_control_characters(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let path = percent_encoding::percent_decode_str(req.path()).decode_utf8();
    let refused = match path {
        Ok(path) if !path.chars().any(char::is_control) => {
            form_urlencoded::parse(req.query_string().as_bytes())
                .find(|(key, value)| {
                    key.chars().any(char::is_control) || value.chars().any(char::is_control)
                })
                .map(|(key, _)| {
                    let field = match key.chars().any(char::is_control) {
                        true => "query".to_owned(),
                        false => key.into_owned(),
                    };
                    ApiError::invalid(field, "must not contain control characters")
                })
        }
        _ => Some(ApiError::NotFound(
            "there is no resource at this path".into(),
        )),
    };
    match refused {
        Some(err) => Ok(req
            .into_response(err.error_response())
            .map_into_right_body()),
        None => Ok(next.call(req).await?.map_into_left_body()),
    }
}

/// serde reports a missing field against its parent; name the field itself.
fn field_error(path: &str, message: &str) -> FieldError {
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    let field = match (path, missing) {
        (".", Some(name)) => name.to_owned(),
        (parent, Some(name)) => format!("{parent}.{name}"),
        (".", None) => "body".to_owned(),
        (path, None) => path.to_owned(),
    };
    FieldError::new(field, message)
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Deserialises a field that may be absent (`None`), null (`Some(None)`) or set.
pub fn nullable<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(de).map(Some)
}

/// Deserialises a query parameter that may be given empty (`?since=`) as absent.
pub fn blank_as_none<'de, D, T>(de: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let raw = <Option<String> as serde::Deserialize>::deserialize(de)?;
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

/// Query strings that do not parse -> 400 with the reason.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        let message = err.to_string();
        let message = message
            .strip_prefix("Query deserialize error: ")
            .unwrap_or(&message)
            .to_owned();
        ApiError::BadRequest(format!("invalid query parameter: {message}")).into()
    })
}

/// Path parameters that do not parse (a word where an id goes) -> 400.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| {
        ApiError::BadRequest(format!("invalid path parameter: {err}")).into()
    })
}

/// The entity tags of a request's `If-Match` (`*` among them matches any); None without one.
pub fn if_match(req: &actix_web::HttpRequest) -> Option<Vec<String>> {
    req.headers()
        .get(actix_web::http::header::IF_MATCH)
        .map(|value| {
            value
                .to_str()
                .unwrap_or("")
                .split(',')
                .map(|tag| tag.trim().to_owned())
                .filter(|tag| !tag.is_empty())
                .collect()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        title: String,
        ids: Vec<i32>,
    }

    fn field_of(err: ApiError) -> String {
        match err {
            ApiError::Validation(errors) => errors[0].field.clone(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn syntax_errors_are_bad_requests() {
        assert!(matches!(
            parse_json::<Body>(b"{\"title\": "),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            parse_json::<Body>(br#"{"title": "t", "ids": []} {}"#),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn control_characters_are_refused_with_their_field() {
        assert_eq!(
            field_of(parse_json::<Body>(br#"{"title": "a\u0000b", "ids": []}"#).unwrap_err()),
            "title"
        );
        assert_eq!(
            field_of(
                parse_json::<Vec<Body>>(br#"[{"title": "t", "ids": []}, {"title": "\b"}]"#)
                    .unwrap_err()
            ),
            "[1].title"
        );
        assert_eq!(
            field_of(
                parse_json::<Body>("{\"title\": \"a\u{85}\", \"ids\": []}".as_bytes()).unwrap_err()
            ),
            "title"
        );
        // Line breaks, tabs and a literal backslash-u in text are fine.
        assert!(
            parse_json::<Body>(br#"{"title": "two\nlines\tand \\u0000 as text", "ids": []}"#)
                .is_ok()
        );
    }

    #[test]
    fn whole_numbers_with_a_fraction_are_integers_and_keys_come_once() {
        let body: Body = parse_json(br#"{"title": "t", "ids": [3.0, 1e2, -0.0]}"#).unwrap();
        assert_eq!((body.title.as_str(), body.ids), ("t", vec![3, 100, 0]));
        assert_eq!(
            field_of(parse_json::<Body>(br#"{"title": "t", "ids": [2.5]}"#).unwrap_err()),
            "ids[0]"
        );
        assert!(matches!(
            parse_json::<Body>(br#"{"title": "t", "title": "u", "ids": []}"#),
            Err(ApiError::Validation(_))
        ));
    }

    #[test]
    fn shape_errors_name_the_field() {
        assert_eq!(
            field_of(parse_json::<Body>(b"{\"ids\": []}").unwrap_err()),
            "title"
        );
        assert_eq!(
            field_of(parse_json::<Body>(br#"{"title": "t", "ids": [1, "x"]}"#).unwrap_err()),
            "ids[1]"
        );
        assert_eq!(
            field_of(parse_json::<Body>(br#"{"title": "t", "ids": [], "titel": 1}"#).unwrap_err()),
            "titel"
        );
    }
}
