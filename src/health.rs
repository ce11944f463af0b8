//! Liveness and readiness probes for orchestrators and load balancers.

use std::time::Duration;

use actix_web::{get, web};
use diesel::connection::SimpleConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Health {
    /// `ok` when healthy.
    pub status: String,
}

fn ok() -> web::Json<Health> {
    web::Json(Health {
        status: "ok".into(),
    })
}

/// Liveness
///
/// 200 while the process serves requests; it checks nothing else.
#[utoipa::path(tag = "health", responses((status = 200, description = "Alive", body = Health)))]
#[get("/health/live")]
pub async fn live() -> web::Json<Health> {
    ok()
}

/// Readiness
///
/// 200 when the database answers, 503 when it does not. Recovers by itself when the database
/// comes back.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "The database does not answer", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[get("/health/ready")]
pub async fn ready(state: web::Data<AppState>) -> Result<web::Json<Health>, ApiError> {
    let pool = state.pool.clone();
    web::block(move || {
        let mut conn = pool.get_timeout(Duration::from_secs(2))?;
        conn.batch_execute("SELECT 1")
            .map_err(|e| ApiError::Unavailable(format!("database check failed: {e}")))
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(ok())
}
