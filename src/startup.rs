//! Builds the application: database, routes (registered only through utoipa, so the spec
//! cannot drift), middleware, Swagger UI, and the HTTP server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::middleware::{self, Compress, Condition, Logger, Next};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use utoipa::openapi::OpenApi as Document;
use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{scope, AppExt};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::tokens::TokenKeys;
use crate::changes::{self, watch::Watch};
use crate::config::DatabaseUrl;
use crate::config::{Config, CorsOrigins};
use crate::db;
use crate::error::ApiError;
use crate::route_table::RouteTable;
use crate::state::{AppState, REQUEST_ID};
use crate::{
    articles, auth, authors, extract, fronts, health, http_cache, links, live, media, openapi,
    sync, syndication, topics, users, webhooks,
};

/// Every API route. Registered with `service` through utoipa-actix-web, so each one is in the
/// OpenAPI document.
fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::live)
        .service(health::ready)
        .service(syndication::topic_feed)
        .service(syndication::site_feed)
        .service(media::serve::serve_media)
        .service(
            scope::scope("/api/v1")
                .service(auth::handlers::login)
                .service(auth::handlers::refresh)
                .service(auth::handlers::logout)
                .service(auth::handlers::me)
                // `/users/me` before `/users/{id}`.
                .service(users::update_me)
                .service(users::list_users)
                .service(users::create_user)
                .service(users::get_user)
                .service(users::update_user)
                .service(authors::list_authors)
                .service(authors::get_author)
                .service(topics::list_topics)
                .service(topics::create_topic)
                .service(topics::get_topic)
                .service(topics::update_topic)
                .service(topics::delete_topic)
                .service(articles::feed::list_articles)
                .service(sync::sync_articles)
                .service(articles::write::create_article)
                .service(articles::get_article)
                .service(articles::write::update_article)
                .service(articles::delete_article)
                .service(articles::safety::restore_article)
                .service(articles::safety::list_revisions)
                .service(articles::safety::get_revision)
                .service(articles::safety::restore_revision)
                // `/events/stream` before any template could take it.
                .service(changes::stream::stream_events)
                .service(changes::history::list_events)
                .service(live::breaking::list_breaking)
                .service(live::entries::list_entries)
                .service(live::entries::create_entry)
                .service(live::entries::get_entry)
                .service(live::entries::update_entry)
                .service(live::entries::delete_entry)
                .service(live::entries::list_entry_revisions)
                .service(fronts::list_fronts)
                .service(fronts::get_front)
                .service(fronts::put_front)
                .service(fronts::delete_front)
                .service(links::list_related)
                .service(links::create_link)
                .service(links::replace_links)
                .service(links::update_link)
                .service(links::delete_link)
                .service(media::list_media)
                .service(media::upload_media)
                .service(media::get_media)
                .service(media::update_media)
                .service(media::delete_media)
                .service(webhooks::list_webhooks)
                .service(webhooks::create_webhook)
                .service(webhooks::get_webhook)
                .service(webhooks::update_webhook)
                .service(webhooks::delete_webhook)
                .service(webhooks::rotate_secret)
                .service(webhooks::ping_webhook)
                .service(webhooks::list_deliveries)
                .service(webhooks::redeliver),
        );
}

/// The OpenAPI document the code defines (what `newsroom openapi` prints and `/openapi.json`
/// serves).
pub fn openapi_document() -> Document {
    let (_, doc) = App::new()
        .into_utoipa_app()
        .openapi(openapi::ApiDoc::openapi())
        .configure(routes)
        .split_for_parts();
    openapi::finish(doc)
}

/// No route took the request: 405 when the path exists with other methods, else 404 (an
/// unknown path, or a known shape with a malformed segment such as `/users/abc`).
async fn fallback(
    req: HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<HttpResponse, ApiError> {
    let allowed = table.allowed(req.path());
    Err(if allowed.is_empty() || allowed.contains(req.method()) {
        ApiError::NotFound(format!("there is no resource at {}", req.path()))
    } else {
        ApiError::MethodNotAllowed(allowed)
    })
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// HEAD is answered as GET (RFC 9110): the request is served as a GET, and the connection
/// leaves out the body, keeping its length.
async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}

/// The request's id, echoed from `X-Request-Id` when sane, else generated, on the response.
async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| auth::tokens::random_token(12));
    let mut res = next.call(req).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}

fn cors(origins: &CorsOrigins) -> Cors {
    let cors = Cors::default()
        .allowed_methods(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            REQUEST_ID,
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::LAST_MODIFIED,
            REQUEST_ID,
        ])
        .max_age(3600);
    match origins {
        CorsOrigins::None => cors,
        CorsOrigins::Any => cors.allow_any_origin(),
        CorsOrigins::List(list) => list.iter().fold(cors, |c, o| c.allowed_origin(o)),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Database(#[from] diesel::r2d2::Error),
    #[error("migrations: {0}")]
    Migrations(db::MigrationError),
    #[error("JWT keys: {0}")]
    Keys(#[from] jsonwebtoken::errors::Error),
    #[error("NEWSROOM_BIND: {0}")]
    Bind(#[from] std::io::Error),
    #[error("event log: {0}")]
    Events(String),
    #[error("article cards and topic heads: {0}")]
    Cards(String),
    #[error("search index: {0}")]
    Search(String),
    #[error("NEWSROOM_MEDIA_STORE: {0}")]
    Media(String),
    #[error("outbound HTTP client: {0}")]
    Outbound(#[from] reqwest::Error),
}

/// Connects and applies pending migrations, then renders the cards of articles that have none
/// and the heads of topics that have none (stored before them, or by a bulk loader); returns
/// the versions applied.
pub fn migrate(url: &crate::config::DatabaseUrl) -> Result<Vec<String>, StartupError> {
    let mut conn = db::connect(url)?;
    let applied = db::run_migrations(&mut conn).map_err(StartupError::Migrations)?;
    let (built, heads) = crate::changes::write_on(&mut conn, None, |tx| {
        let built = articles::cards::build_missing(tx.conn())?;
        Ok((built, crate::topics::heads::build_missing(tx.conn())?))
    })
    .map_err(|e| StartupError::Cards(e.to_string()))?;
    // Under the writers' lock, so that servers starting together index each article once.
    let indexed = crate::changes::write_on(&mut conn, None, |tx| {
        articles::search::index_missing(tx.conn())
    })
    .map_err(|e| StartupError::Search(e.to_string()))?;
    if indexed > 0 {
        log::info!("indexed {indexed} articles for search");
    }
    if built > 0 {
        log::info!("built the cards of {built} articles");
    }
    if heads > 0 {
        log::info!("built the heads of {heads} topics");
    }
    Ok(applied)
}

/// A built server, listening on `port`, ready to run.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    database: DatabaseUrl,
    events_days: i64,
    purge: Option<crate::config::PurgeTarget>,
    webhook_workers: usize,
}

impl Application {
    pub fn build(config: Config) -> Result<Self, StartupError> {
        // Before the migrations, which may write cards.
        media::set_public_url(&config.public_url);
        for version in migrate(&config.database)? {
            log::info!("applied migration {version}");
        }
        let pool = db::pool(&config.database, config.pool_size);
        let cache = Arc::new(http_cache::PublicCache::new(
            &config.cache_control,
            config.response_cache_bytes,
        ));
        let watch = {
            let mut conn = db::connect(&config.database)?;
            Watch::load(&mut conn, cache.clone())
                .map_err(|e| StartupError::Events(e.to_string()))?
        };
        let state = web::Data::new(AppState {
            pool,
            tokens: TokenKeys::new(&config.jwt)?,
            public_url: config.public_url.clone(),
            html: articles::html::Sanitiser::new(&config.embed_hosts),
            watch: Arc::new(watch),
            stream_max_clients: config.stream_max_clients,
            outbound: crate::outbound::Outbound::new(config.webhook_allow_private)?,
        });
        let listener = TcpListener::bind(config.bind)?;
        let port = listener.local_addr()?.port();
        let library = media::library::Library::open(&config.media_store, config.media_max_bytes)
            .map_err(StartupError::Media)?;
        let library = web::Data::new(Arc::new(library));
        let server = Self::serve(
            &config,
            state.clone(),
            web::Data::from(cache),
            library,
            listener,
        )?;
        Ok(Self {
            port,
            server,
            state,
            database: config.database.clone(),
            events_days: config.events_days,
            purge: config.purge.clone(),
            webhook_workers: config.webhook_workers,
        })
    }

    fn serve(
        config: &Config,
        state: web::Data<AppState>,
        cache: web::Data<http_cache::PublicCache>,
        library: web::Data<Arc<media::library::Library>>,
        listener: TcpListener,
    ) -> Result<Server, StartupError> {
        let doc = openapi_document();
        let table = web::Data::new(RouteTable::new(&doc));
        let body_limit = config.body_limit;
        let workers = std::thread::available_parallelism().map_or(1, usize::from);
        let blocking_threads = (config.pool_size as usize).div_ceil(workers).max(1);
        let cors_origins = config.cors_origins.clone();
        let server = HttpServer::new(move || {
            let (app, _) = App::new()
                .into_utoipa_app()
                .openapi(openapi::ApiDoc::openapi())
                .configure(routes)
                .split_for_parts();
            app.app_data(state.clone())
                .app_data(cache.clone())
                .app_data(library.clone())
                .app_data(table.clone())
                .app_data(web::PayloadConfig::new(body_limit))
                .app_data(extract::query_config())
                .app_data(extract::path_config())
                .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", doc.clone()))
                .route("/docs", web::to(docs_redirect))
                .default_service(web::to(fallback))
                .wrap(middleware::from_fn(http_cache::public_cache))
                .wrap(middleware::from_fn(extract::refuse_control_characters))
                .wrap(Compress::default())
                .wrap(middleware::from_fn(http_cache::etag_per_coding))
                .wrap(Condition::new(
                    cors_origins != CorsOrigins::None,
                    cors(&cors_origins),
                ))
                .wrap(middleware::from_fn(request_id))
                .wrap(middleware::from_fn(head_as_get))
                .wrap(Logger::new(
                    r#"%a "%r" %s %b %Dms request_id=%{x-request-id}o"#,
                ))
        })
        // Database work runs on the blocking threads, one pooled connection each: more threads
        // than connections would only queue on the pool, waking and sleeping in turn.
        .worker_max_blocking_threads(blocking_threads)
        .listen(listener)?
        .shutdown_timeout(30)
        .run();
        Ok(server)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT or SIGTERM, then drains in-flight requests (up to 30 s). Meanwhile
    /// follows the event log, fires scheduled publications and keeps the log's retention.
    pub async fn run(self) -> std::io::Result<()> {
        let state = self.state;
        let mut tasks = vec![
            tokio::spawn(changes::watch::follow(
                state.watch.clone(),
                state.pool.clone(),
                self.database,
            )),
            tokio::spawn(changes::scheduler::run(state.clone())),
            tokio::spawn(changes::retention::run(state.clone(), self.events_days)),
            tokio::spawn(webhooks::deliver::run(state.clone(), self.webhook_workers)),
        ];
        if let Some(target) = self.purge {
            tasks.push(tokio::spawn(crate::purge::run(state.clone(), target)));
        }
        let served = self.server.await;
        for task in tasks {
            task.abort();
        }
        served
    }
}
