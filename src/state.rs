//! What every handler and middleware may reach. It depends on nothing above it: handlers and
//! middleware import this module, never the one that wires the application (`startup`).

use std::sync::Arc;

use actix_web::http::header::HeaderName;

use crate::articles::html::Sanitiser;
use crate::auth::tokens::TokenKeys;
use crate::changes::watch::Watch;
use crate::db::Pool;

pub struct AppState {
    pub pool: Pool,
    pub tokens: TokenKeys,
    /// The site's public base URL, for links in feeds.
    pub public_url: String,
    /// The HTML sanitiser of article bodies.
    pub html: Sanitiser,
    /// This process's view of the event log: what has changed, for caches and streams.
    pub watch: Arc<Watch>,
    /// The most live event streams served at once.
    pub stream_max_clients: usize,
    /// The client webhooks are delivered with.
    pub outbound: crate::outbound::Outbound,
}

/// The request id header, echoed or generated on every response.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
