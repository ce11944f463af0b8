//! The routes of the OpenAPI document, read once at start-up: which methods a path allows (to
//! tell an unknown path, 404, from a wrong method, 405 with `Allow`) and which query parameters
//! each read defines (what the response cache keys on). Both come from the document, so they
//! cannot drift from the routes.

use actix_web::dev::ResourceDef;
use actix_web::http::Method;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{OpenApi as Document, RefOr};

struct Route {
    def: ResourceDef,
    /// The pattern up to its first parameter: a path that does not start with it cannot
    /// match, which is cheaper to tell than by the pattern's regex.
    prefix: String,
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

fn literal_prefix(pattern: &str) -> String {
    pattern.split('{').next().unwrap_or_default().to_owned()
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
                    def: ResourceDef::new(path.as_str()),
                    prefix: literal_prefix(path),
                    methods: methods
                        .into_iter()
                        .filter_map(|(m, present)| present.then_some(m))
                        .collect(),
                    query: query_names(item.get.as_ref()),
                }
            })
            .collect();
        table.push(Route {
            def: ResourceDef::new("/openapi.json"),
            prefix: "/openapi.json".into(),
            methods: vec![Method::GET, Method::HEAD],
            query: Vec::new(),
        });
        Self(table)
    }

    /// The routes a path matches. A literal path (`/users/me`) takes precedence over a
    /// template it also matches (`/users/{id}`), as in routing.
    fn matching(&self, path: &str) -> Vec<&Route> {
        let matching: Vec<&Route> = self
            .0
            .iter()
            .filter(|r| path.starts_with(&r.prefix) && r.def.is_match(path))
            .collect();
        let literal: Vec<&Route> = matching
            .iter()
            .copied()
            .filter(|r| !r.def.pattern().is_some_and(|p| p.contains('{')))
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
