//! Who is calling: the bearer-token extractors and role checks. The sign-in endpoints live in
//! `handlers`.

pub mod handlers;
pub mod password;
pub mod tokens;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use crate::db;
use crate::domain::Role;
use crate::error::ApiError;
use crate::state::AppState;
use crate::users::UserRow;

/// A signed-in, active user, with the role the user has now (not the one in the token).
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: UserRow,
    pub role: Role,
}

impl Caller {
    pub fn id(&self) -> i32 {
        self.user.id
    }

    /// 403 unless the caller has at least `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this operation needs the {role} role or higher"
            )))
        }
    }
}

/// The bearer token of a request: `Ok(None)` without an `Authorization` header.
fn bearer_token(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::invalid_token("the Authorization header is not readable"))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim().to_owned()))
        }
        _ => Err(ApiError::invalid_token(
            "the Authorization header must be `Bearer <access token>`",
        )),
    }
}

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("application state is missing"))
}

async fn authenticate(state: web::Data<AppState>, token: String) -> Result<Caller, ApiError> {
    let claims = state.tokens.verify(&token)?;
    let user_id: i32 = claims
        .sub
        .parse()
        .map_err(|_| ApiError::invalid_token("the access token is invalid"))?;
    let user = db::run(&state.pool, move |conn| UserRow::find(conn, user_id)).await?;
    match user {
        Some(user) if user.active && user.token_generation == claims.gen => {
            let role = user.role()?;
            Ok(Caller { user, role })
        }
        _ => Err(ApiError::invalid_token(
            "the session has ended; sign in again",
        )),
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let maybe = MaybeCaller::from_request(req, payload);
        Box::pin(async move {
            maybe.await?.0.ok_or_else(|| ApiError::Unauthorized {
                detail: "this operation needs a bearer access token".into(),
                invalid_token: false,
            })
        })
    }
}

/// The caller when a token is sent (which must then be valid), or nobody for the public.
#[derive(Debug, Clone)]
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequest for MaybeCaller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let found = bearer_token(req).and_then(|token| Ok((state(req)?, token)));
        Box::pin(async move {
            match found? {
                (state, Some(token)) => authenticate(state, token)
                    .await
                    .map(|c| MaybeCaller(Some(c))),
                (_, None) => Ok(MaybeCaller(None)),
            }
        })
    }
}
