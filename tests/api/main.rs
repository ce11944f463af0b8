//! The integration suite: one binary, the real server on a random port, a fresh database per
//! test. Every test runs on SQLite, and on PostgreSQL when NEWSROOM_TEST_POSTGRES_URL is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// Declares each listed `async fn name(backend: Backend)` as a test per backend.
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::helpers::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[cfg_attr(not(pg_tests), ignore = "set NEWSROOM_TEST_POSTGRES_URL to run the PostgreSQL suite")]
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::helpers::Backend::Postgres).await
                }
            )*
        }
    };
}

mod articles;
mod auth;
mod authors;
mod cards;
mod cli;
mod concurrency;
mod delivery;
mod demo;
mod errors;
mod events;
mod feed;
mod feeds;
mod fronts;
mod hardening;
mod heads;
mod health;
mod helpers;
mod keys;
mod links;
mod live;
mod media;
mod openapi;
mod permissions;
mod plans;
mod races;
mod relevance;
mod safety;
mod sync;
mod topics;
mod translations;
mod users;
mod webhooks;
