//! The routes of the OpenAPI document, read once at start-up: which methods a path allows (to
//! tell an unknown path, 404, from a wrong method, 405 with `Allow`) and which query parameters
//! each read defines (what the response cache keys on). Both come from the document, so they
//! cannot drift from the routes.

use actix_web::http::Method;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{OpenApi as Document, RefOr};

struct Route {
    pattern: Pattern,
    methods: Vec<Method>,
    /// The query parameters of its GET, sorted.
    query: Vec<String>,
}

pub struct RouteTable(Vec<Route>);

fn query_names(op: Option<&Operation>) -> Vec<String> {
    let mut names: Vec<String> = op
        .and_then(|op| op.parameters.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|p| match p {
            RefOr::T(p) if p.parameter_in == ParameterIn::Query => Some(p.name.clone()),
            _ => None,
        })
        .collect();
    names.sort();
    names
}

/// A path template of the document (`/articles/{key}/related`): its segments, each literal or
/// a parameter that matches any one non-empty segment, as the router matches them.
struct Pattern(Vec<Option<String>>);

impl Pattern {
    fn new(template: &str) -> Self {
        Self(
            template
                .split('/')
                .map(|segment| {
                    (!(segment.starts_with('{') && segment.ends_with('}')))
                        .then(|| segment.to_owned())
                })
                .collect(),
        )
    }

    fn is_match(&self, path: &str) -> bool {
        let mut segments = path.split('/');
        self.0.iter().all(|want| match (want, segments.next()) {
            (Some(literal), Some(segment)) => literal == segment,
            (None, Some(segment)) => !segment.is_empty(),
            (_, None) => false,
        }) && segments.next().is_none()
    }

    fn is_literal(&self) -> bool {
        self.0.iter().all(Option::is_some)
    }
}

impl RouteTable {
    pub fn new(doc: &Document) -> Self {
        let mut table: Vec<Route> = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    (Method::GET, item.get.is_some()),
                    // Every read answers HEAD as well (RFC 9110).
                    (Method::HEAD, item.get.is_some()),
                    (Method::POST, item.post.is_some()),
                    (Method::PUT, item.put.is_some()),
                    (Method::PATCH, item.patch.is_some()),
                    (Method::DELETE, item.delete.is_some()),
                ];
                Route {
                    pattern: Pattern::new(path),
                    methods: methods
                        .into_iter()
                        .filter_map(|(m, present)| present.then_some(m))
                        .collect(),
                    query: query_names(item.get.as_ref()),
                }
            })
            .collect();
        table.push(Route {
            pattern: Pattern::new("/openapi.json"),
            methods: vec![Method::GET, Method::HEAD],
            query: Vec::new(),
        });
        Self(table)
    }

    /// The routes a path matches. A literal path (`/users/me`) takes precedence over a
    /// template it also matches (`/users/{id}`), as in routing.
    fn matching(&self, path: &str) -> Vec<&Route> {
        let matching: Vec<&Route> = self.0.iter().filter(|r| r.pattern.is_match(path)).collect();
        let literal: Vec<&Route> = matching
            .iter()
            .copied()
            .filter(|r| r.pattern.is_literal())
            .collect();
        if literal.is_empty() {
            matching
        } else {
            literal
        }
    }

    /// The methods `path` allows; empty for an unknown path.
    pub fn allowed(&self, path: &str) -> Vec<Method> {
        let mut allowed: Vec<Method> = self
            .matching(path)
            .into_iter()
            .flat_map(|r| r.methods.iter().cloned())
            .collect();
        allowed.dedup();
        allowed
    }

    /// The query parameters the read at `path` defines, sorted; None for an unknown path.
    pub fn query_parameters(&self, path: &str) -> Option<&[String]> {
        self.matching(path).first().map(|r| r.query.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    #[test]
    fn patterns_match_whole_segments_as_the_router_does() {
        let related = Pattern::new("/api/v1/articles/{key}/related");
        assert!(related.is_match("/api/v1/articles/border-treaty/related"));
        assert!(related.is_match("/api/v1/articles/7/related"));
        assert!(!related.is_match("/api/v1/articles//related"));
        assert!(!related.is_match("/api/v1/articles/7/related/"));
        assert!(!related.is_match("/api/v1/articles/7"));
        assert!(!related.is_match("/api/v1/articles/7/related/3"));
        let me = Pattern::new("/api/v1/users/me");
        assert!(me.is_literal() && !related.is_literal());
        assert!(me.is_match("/api/v1/users/me") && !me.is_match("/api/v1/users/mee"));
    }
}
