//! newsroom: a headless news backend. The binary (`src/main.rs`) is a thin CLI over this
//! library; integration tests drive the same `startup::Application`.
//!
//! The layers, arrows pointing down: `startup` wires the application; resources (`articles`,
//! `topics`, `links`, `media`, `users`, `authors`, `auth`) and delivery (`http_cache`, `sync`,
//! `syndication`) handle requests; every write goes through `changes`, which records the event
//! log; `state` holds what handlers share; `db` reads.

pub mod articles;
pub mod auth;
pub mod authors;
pub mod changes;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod extract;
pub mod fronts;
pub mod health;
pub mod http_cache;
pub mod keys;
pub mod links;
pub mod live;
pub mod logging;
pub mod media;
pub mod openapi;
pub mod outbound;
pub mod pagination;
pub mod purge;
pub mod route_table;
pub mod seed;
pub mod startup;
pub mod state;
pub mod sync;
pub mod syndication;
pub mod topics;
pub mod users;
pub mod webhooks;
