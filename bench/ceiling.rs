//! The ceiling the API's reads are measured against: one actix-web handler that takes one
//! pooled connection and runs one indexed `SELECT` of 20 rows through the server's own
//! database layer, answered as JSON. No middleware, cache, authentication or second query:
//! what this machine, actix-web and diesel make of a database read at best.
//!
//! `DATABASE_URL=<a bench dataset> NEWSROOM_BIND=127.0.0.1:18181 \
//!     cargo run --release --example bench_ceiling` (bench/run.py starts it for its scenario).

use std::io;

use actix_web::{web, App, HttpResponse, HttpServer};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use newsroom::articles::public_at;
use newsroom::config::DatabaseUrl;
use newsroom::db::{self, schema::articles, Pool};
use serde::Serialize;

/// A headline of the latest feed, in four columns.
#[derive(Serialize, Queryable)]
struct Headline {
    id: i32,
    slug: String,
    title: String,
    published_at: Option<NaiveDateTime>,
}

async fn latest(pool: web::Data<Pool>) -> HttpResponse {
    let pool = pool.into_inner();
    let rows = web::block(move || {
        db::pooled(&pool, |conn| -> Result<Vec<Headline>, _> {
            Ok(articles::table
                .filter(public_at(db::now()))
                .order((articles::published_at.desc(), articles::id.desc()))
                .limit(20)
                .select((
                    articles::id,
                    articles::slug,
                    articles::title,
                    articles::published_at,
                ))
                .load(conn)?)
        })
    })
    .await;
    match rows {
        Ok(Ok(rows)) => HttpResponse::Ok().json(rows),
        Ok(Err(e)) => HttpResponse::InternalServerError().body(e.to_string()),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

fn main() -> io::Result<()> {
    let raw = std::env::var("DATABASE_URL").map_err(io::Error::other)?;
    let url = DatabaseUrl::parse(&raw).map_err(|e| io::Error::other(e.to_string()))?;
    let bind = std::env::var("NEWSROOM_BIND").unwrap_or_else(|_| "127.0.0.1:18181".into());
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    // As the server: two pooled connections per core, as many blocking threads over the
    // workers.
    let connections = 2 * cores;
    let pool = db::pool(&url, u32::try_from(connections).unwrap_or(4));
    actix_web::rt::System::new().block_on(
        HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(pool.clone()))
                .route("/ceiling", web::get().to(latest))
                .route("/health/ready", web::get().to(HttpResponse::Ok))
        })
        .workers(cores)
        .worker_max_blocking_threads(connections.div_ceil(cores))
        .bind(bind)?
        .run(),
    )
}
