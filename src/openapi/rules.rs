//! The rules the server enforces on single fields, written into the OpenAPI document so that
//! the spec says exactly what is accepted: lengths, patterns, item counts. Each resource lists
//! the rules of its request bodies beside its wire types (`FIELD_RULES`), stated with the same
//! constants its parsing uses; query and path parameters share names across resources and are
//! listed here. On top, every string a request may carry refuses control characters, as the
//! server does (`extract`): NUL and its kind anywhere, and in bodies all but tab and line breaks.
//!
//! Patterns are ECMA-262 regular expressions, as JSON Schema asks; they also read as Python's
//! (schemathesis generates from them).

use serde_json::{json, Map, Value};
use utoipa::openapi::OpenApi as Document;

use crate::domain::{MAX_EMAIL_CHARS, MAX_PASSWORD_CHARS, MAX_SLUG_LEN, MIN_PASSWORD_CHARS};

/// What a field may hold.
#[derive(Debug, Clone, Copy)]
pub enum Rule {
    /// Any string without control characters.
    NoControls,
    /// Text of at most this many characters (as sent), no control characters but tab and
    /// line breaks; whitespace only counts as none.
    Text(usize),
    /// A title or a name: text of at most this many characters with a visible character.
    Title(usize),
    /// Like `Title`, but empty (or only whitespace) is accepted as none.
    OptionalTitle(usize),
    /// A URL slug: lowercase letters, digits and single hyphens, not all digits.
    Slug,
    /// A path or filter key: an id (digits) or a slug.
    Key,
    /// A BCP 47 language tag.
    Language,
    /// A comma-separated list of BCP 47 language tags, at most this many.
    Languages(usize),
    /// An object of texts by BCP 47 language tag (or null), at most this many, each text by
    /// the rule.
    ByLanguage(usize, &'static Rule),
    /// An http(s) URL of at most this many characters; empty is accepted as none.
    Url(usize),
    /// An email address.
    Email,
    /// A new password.
    Password,
    /// An opaque cursor or token: base64url.
    Cursor,
    /// A time in the years the API accepts (1970 to 9999).
    Time,
    /// A list of ids, from `.0` to `.1` entries, each a possible id.
    Ids(usize, usize),
    /// A comma-separated list of these words (blanks allowed).
    Words(&'static [&'static str]),
    /// An integer no smaller than this.
    AtLeast(i64),
    /// An integer from `.0` to `.1`.
    Between(i64, i64),
    /// A list of at most this many entries.
    AtMostItems(usize),
    /// An http(s) URL of at most this many characters, with a host and without credentials.
    Endpoint(usize),
    /// A list of these words, from `.1` to `.2` entries.
    Items(&'static [&'static str], usize, usize),
    /// A list of slugs, one to this many.
    Slugs(usize),
}

/// A rule on a property of a request schema.
#[derive(Debug, Clone, Copy)]
pub struct FieldRule {
    pub schema: &'static str,
    pub field: &'static str,
    pub rule: Rule,
}

/// Shorthand for the tables of the resources.
pub const fn field(schema: &'static str, field: &'static str, rule: Rule) -> FieldRule {
    FieldRule {
        schema,
        field,
        rule,
    }
}

/// Characters a body's text refuses: C0 controls but tab, line feed and carriage return; DEL
/// and the C1 controls.
const BODY_CONTROLS: &str = r"\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F";
/// Characters a path or query parameter refuses: every control character.
const PARAM_CONTROLS: &str = r"\u0000-\u001F\u007F-\u009F";
/// What shows nothing (`domain::display_text`): controls, whitespace, zero-width and
/// formatting characters, fillers.
const INVISIBLE: &str = r"\u0000-\u0020\u007F-\u00A0\u00AD\u034F\u061C\u115F\u1160\u1680\u17B4\u17B5\u180B-\u180F\u2000-\u200F\u2028-\u202F\u205F-\u2064\u2066-\u206F\u2800\u3000\u3164\uFE00-\uFE0F\uFEFF\uFFA0";
/// Whitespace a value may be padded with (it is trimmed): in bodies tab and line breaks too,
/// which parameters refuse as control characters.
const BODY_PAD: &str = r"[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*";
const PARAM_PAD: &str = r"[ \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*";

/// Where a value comes from: what it may not hold, and what padding is trimmed.
#[derive(Clone, Copy)]
struct Place {
    controls: &'static str,
    pad: &'static str,
}

const BODY: Place = Place {
    controls: BODY_CONTROLS,
    pad: BODY_PAD,
};
const PARAMETER: Place = Place {
    controls: PARAM_CONTROLS,
    pad: PARAM_PAD,
};

fn text_pattern(controls: &str) -> String {
    format!("^[^{controls}]*$")
}

/// A BCP 47 tag as `domain::language_tag` reads it, padded, unanchored.
fn language_tag(pad: &str) -> String {
    format!("{pad}[A-Za-z]{{2,3}}(?:-[A-Za-z0-9]{{1,8}})*{pad}")
}

fn title_pattern() -> String {
    format!("^[^{BODY_CONTROLS}]*[^{INVISIBLE}][^{BODY_CONTROLS}]*$")
}

/// The pattern of a rule, and the keywords besides it.
fn keywords(rule: Rule, place: Place) -> Map<String, Value> {
    let Place { controls, pad } = place;
    let mut out = Map::new();
    let mut set = |key: &str, value: Value| {
        out.insert(key.to_owned(), value);
    };
    match rule {
        Rule::NoControls => set("pattern", json!(text_pattern(controls))),
        Rule::Text(max) => {
            set("maxLength", json!(max));
            set("pattern", json!(text_pattern(controls)));
        }
        Rule::Title(max) => {
            set("maxLength", json!(max));
            set("pattern", json!(title_pattern()));
        }
        Rule::OptionalTitle(max) => {
            set("maxLength", json!(max));
            let title = title_pattern();
            let inner = &title[1..title.len() - 1];
            set("pattern", json!(format!("^(?:{pad}|{inner})$")));
        }
        Rule::Slug => {
            set("minLength", json!(1));
            set("maxLength", json!(MAX_SLUG_LEN));
            set("pattern", json!("^(?![0-9]+$)[a-z0-9]+(?:-[a-z0-9]+)*$"));
        }
        Rule::Key => {
            set("minLength", json!(1));
            set("pattern", json!("^(?:[0-9]+|[a-z0-9]+(?:-[a-z0-9]+)*)$"));
        }
        Rule::Language => set("pattern", json!(format!("^{}$", language_tag(pad)))),
        Rule::ByLanguage(max, text) => {
            let mut value = Map::new();
            value.insert("type".into(), json!("string"));
            value.extend(keywords(*text, place));
            let tag = format!("^{}$", language_tag(pad));
            set(
                "oneOf",
                json!([
                    {"type": "object", "maxProperties": max, "propertyNames": {"type": "string", "pattern": tag},
                     "additionalProperties": value},
                    {"type": "null"},
                ]),
            );
        }
        Rule::Languages(max) => {
            let tag = language_tag(pad);
            let more = max.saturating_sub(1);
            set("pattern", json!(format!("^{tag}(?:,{tag}){{0,{more}}}$")));
        }
        Rule::Url(max) => {
            set("maxLength", json!(max));
            set(
                "pattern",
                json!(format!(r"^{pad}(?:https?://[^\s{controls}]+)?{pad}$")),
            );
        }
        Rule::Email => {
            set("maxLength", json!(MAX_EMAIL_CHARS));
            let c = format!(r"@\s{PARAM_CONTROLS}");
            set(
                "pattern",
                json!(format!(
                    r"^{pad}[^{c}]{{1,64}}@[^{c}.][^{c}]*\.[^{c}]*[^{c}.]{pad}$"
                )),
            );
        }
        Rule::Password => {
            set("minLength", json!(MIN_PASSWORD_CHARS));
            set("maxLength", json!(MAX_PASSWORD_CHARS));
            set("pattern", json!(text_pattern(controls)));
        }
        Rule::Cursor => set("pattern", json!("^[A-Za-z0-9_-]*$")),
        Rule::Time => set(
            "pattern",
            json!(r"^(?:19[7-9][0-9]|[2-9][0-9]{3})-[0-9]{2}-[0-9]{2}[Tt]"),
        ),
        Rule::Ids(min, max) => {
            if min > 0 {
                set("minItems", json!(min));
            }
            set("maxItems", json!(max));
            set(
                "items",
                json!({"type": "integer", "format": "int32", "minimum": 1, "maximum": i32::MAX}),
            );
        }
        Rule::AtLeast(min) => {
            set("type", json!("integer"));
            set("minimum", json!(min));
        }
        Rule::Between(min, max) => {
            set("type", json!("integer"));
            set("minimum", json!(min));
            set("maximum", json!(max));
        }
        Rule::AtMostItems(max) => set("maxItems", json!(max)),
        Rule::Endpoint(max) => {
            set("maxLength", json!(max));
            let c = format!(r"\s{controls}");
            set(
                "pattern",
                json!(format!(
                    r"^{pad}https?://(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::[0-9]{{1,5}})?(?:[/?#][^{c}]*)?{pad}$"
                )),
            );
        }
        Rule::Items(words, min, max) => {
            set("minItems", json!(min));
            set("maxItems", json!(max));
            set("items", json!({"type": "string", "enum": words}));
        }
        Rule::Slugs(max) => {
            set("minItems", json!(1));
            set("maxItems", json!(max));
            let mut slug = keywords(Rule::Slug, place);
            slug.insert("type".into(), json!("string"));
            set("items", Value::Object(slug));
        }
        Rule::Words(words) => {
            let escaped: Vec<String> = words.iter().map(|w| w.replace('.', r"\.")).collect();
            let word = format!("{pad}(?:{})?{pad}", escaped.join("|"));
            set("pattern", json!(format!("^{word}(?:,{word})*$")));
        }
    }
    out
}

/// The rules of query and path parameters, by name: the same name means the same rule on every
/// operation.
const PARAMETER_RULES: &[(&str, Rule)] = &[
    ("key", Rule::Key),
    ("slug", Rule::Slug),
    ("topic", Rule::Key),
    ("author", Rule::Key),
    ("parent", Rule::Key),
    ("language", Rule::Language),
    (
        "prefer_language",
        Rule::Languages(crate::articles::translations::MAX_PREFERRED),
    ),
    ("cursor", Rule::Cursor),
    ("since", Rule::Cursor),
    ("published_after", Rule::Time),
    ("published_before", Rule::Time),
    ("q", Rule::Text(crate::articles::feed::MAX_QUERY_CHARS)),
    ("include", Rule::Words(&["related"])),
    ("Last-Event-ID", Rule::AtLeast(0)),
    (
        "type",
        Rule::Words(&crate::changes::events::EventType::NAMES),
    ),
];

/// Every request body's field rules, from the resources.
fn field_rules() -> impl Iterator<Item = &'static FieldRule> {
    [
        crate::articles::write::FIELD_RULES,
        crate::fronts::FIELD_RULES,
        crate::live::entries::FIELD_RULES,
        crate::media::FIELD_RULES,
        crate::topics::FIELD_RULES,
        crate::users::FIELD_RULES,
        crate::webhooks::FIELD_RULES,
    ]
    .into_iter()
    .flatten()
}

fn is_plain_string(schema: &Value) -> bool {
    let string = match &schema["type"] {
        Value::String(t) => t == "string",
        Value::Array(types) => types.iter().any(|t| t == "string"),
        _ => false,
    };
    string
        && schema.get("pattern").is_none()
        && schema.get("format").is_none()
        && schema.get("enum").is_none()
}

fn merge(target: &mut Value, keywords: Map<String, Value>) {
    if let Some(object) = target.as_object_mut() {
        object.extend(keywords);
    }
}

/// The names of the schemas request bodies use, directly or nested.
fn request_schemas(doc: &Value) -> Vec<String> {
    let mut names = Vec::new();
    let mut pending: Vec<&Value> = doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .flat_map(|item| item.as_object().into_iter().flat_map(|ops| ops.values()))
        .filter_map(|op| op.pointer("/requestBody/content/application~1json/schema"))
        .collect();
    while let Some(schema) = pending.pop() {
        match schema {
            Value::Object(object) => {
                if let Some(Value::String(reference)) = object.get("$ref") {
                    let name = reference.trim_start_matches("#/components/schemas/");
                    if !names.iter().any(|n| n == name) {
                        names.push(name.to_owned());
                        if let Some(target) = doc["components"]["schemas"].get(name) {
                            pending.push(target);
                        }
                    }
                }
                pending.extend(object.values());
            }
            Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
    names
}

/// Writes the rules into the document.
pub fn apply(doc: Document) -> Document {
    let Ok(mut value) = serde_json::to_value(&doc) else {
        return doc;
    };
    for rule in field_rules() {
        let pointer = format!(
            "/components/schemas/{}/properties/{}",
            rule.schema, rule.field
        );
        match value.pointer_mut(&pointer) {
            Some(property) => merge(property, keywords(rule.rule, BODY)),
            None => log::error!("a field rule names no property: {pointer}"),
        }
    }
    for name in request_schemas(&value) {
        let pointer = format!("/components/schemas/{name}/properties");
        if let Some(Value::Object(properties)) = value.pointer_mut(&pointer) {
            for property in properties.values_mut() {
                if is_plain_string(property) {
                    merge(property, keywords(Rule::NoControls, BODY));
                }
            }
        }
    }
    if let Some(Value::Object(paths)) = value.get_mut("paths") {
        let parameters = paths
            .values_mut()
            .filter_map(Value::as_object_mut)
            .flat_map(|ops| ops.values_mut())
            .filter_map(|op| op.get_mut("parameters").and_then(Value::as_array_mut))
            .flatten();
        for parameter in parameters {
            let name = parameter["name"].as_str().unwrap_or_default().to_owned();
            let Some(schema) = parameter.get_mut("schema") else {
                continue;
            };
            match PARAMETER_RULES.iter().find(|(n, _)| *n == name) {
                Some((_, rule)) => merge(schema, keywords(*rule, PARAMETER)),
                None if is_plain_string(schema) => {
                    merge(schema, keywords(Rule::NoControls, PARAMETER));
                }
                None => {}
            }
        }
    }
    describe_event_streams(&mut value);
    match serde_json::from_value(value) {
        Ok(with_rules) => with_rules,
        Err(e) => {
            // A keyword utoipa cannot read back (tests/api/openapi.rs checks the rules are in).
            log::error!("the spec's rules could not be written in: {e}");
            doc
        }
    }
}

/// What each message of a Server-Sent Events response holds (OpenAPI 3.1 has the schema of
/// such a response describe one message): its seq as `id`, its type as `event`, and the event
/// as JSON in `data`.
fn describe_event_streams(doc: &mut Value) {
    let types: Vec<&str> = crate::changes::events::EventType::ALL
        .iter()
        .map(|t| t.as_str())
        .collect();
    let message = json!({
        "type": "object",
        "required": ["id", "event", "data"],
        "properties": {
            "id": {"type": "string", "pattern": "^[0-9]+$", "description": "The event's `seq`"},
            "event": {"type": "string", "enum": types, "description": "The event's type"},
            "data": {
                "type": "string",
                "description": "The event (as the log lists it; public fields only without a token)",
                "contentMediaType": "application/json",
                "contentSchema": {"$ref": "#/components/schemas/Event"}
            }
        }
    });
    let Some(Value::Object(paths)) = doc.get_mut("paths") else {
        return;
    };
    let streams = paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|ops| ops.values_mut())
        .filter_map(|op| op.get_mut("responses").and_then(Value::as_object_mut))
        .flat_map(|responses| responses.values_mut())
        .filter_map(|r| r.pointer_mut("/content/text~1event-stream"));
    for stream in streams {
        stream["schema"] = message.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rule whose keywords the document cannot hold (utoipa reads the document back) would
    /// vanish without a word: every rule's keywords must be in the finished document.
    #[test]
    fn every_field_rule_reaches_the_document() {
        let doc = serde_json::to_value(crate::startup::openapi_document()).unwrap();
        for rule in field_rules() {
            let pointer = format!(
                "/components/schemas/{}/properties/{}",
                rule.schema, rule.field
            );
            let property = doc.pointer(&pointer).unwrap_or(&Value::Null);
            for (key, value) in keywords(rule.rule, BODY) {
                assert_eq!(property.get(&key), Some(&value), "{pointer}: {key}");
            }
        }
    }
}
