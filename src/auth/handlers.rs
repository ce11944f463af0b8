//! Sign-in, token refresh with rotation and reuse detection, sign-out, and "who am I".

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::tokens::{hash_refresh_token, random_token, TokenKeys};
use super::{password, Caller};
use crate::changes::{self, Tx};
use crate::db::schema::{login_failures, refresh_tokens};
use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::extract::Json;
use crate::state::AppState;
use crate::users::{User, UserRow};

/// Failed sign-ins allowed within the window: for one account from one client address; for
/// one account from anywhere (so that nobody else can lock its owner out below this); and
/// from one client address over all accounts.
pub const MAX_PAIR_FAILURES: i64 = 5;
pub const MAX_ACCOUNT_FAILURES: i64 = 50;
pub const MAX_ADDRESS_FAILURES: i64 = 20;
pub const FAILURE_WINDOW_SECS: i64 = 15 * 60;
/// Longer candidates are refused without hashing them.
const MAX_PASSWORD_BYTES: usize = 4096;

fn bad_credentials() -> ApiError {
    ApiError::Unauthorized {
        detail: "the email or password is wrong".into(),
        invalid_token: false,
    }
}

/// Which failures a limit counts.
#[derive(Clone, Copy)]
enum Scope {
    Pair,
    Account,
    Address,
}

impl Scope {
    fn limit(self) -> i64 {
        match self {
            Scope::Pair => MAX_PAIR_FAILURES,
            Scope::Account => MAX_ACCOUNT_FAILURES,
            Scope::Address => MAX_ADDRESS_FAILURES,
        }
    }
}

/// One attempt to prove a password, throttled by account and client address.
#[derive(Clone)]
pub struct SignInAttempt {
    email: String,
    client_ip: String,
}

impl SignInAttempt {
    pub fn new(req: &HttpRequest, email: String) -> Self {
        let client_ip = req
            .peer_addr()
            .map(|addr| addr.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Self {
            email: email.trim().to_lowercase(),
            client_ip,
        }
    }

    /// The newest failures of `scope` within the window, up to its limit.
    fn recent(
        &self,
        conn: &mut DbConnection,
        scope: Scope,
        since: NaiveDateTime,
    ) -> QueryResult<Vec<NaiveDateTime>> {
        let query = login_failures::table
            .select(login_failures::created_at)
            .filter(login_failures::created_at.gt(since))
            .order(login_failures::created_at.desc())
            .limit(scope.limit())
            .into_boxed();
        let query = match scope {
            Scope::Pair => query
                .filter(login_failures::email.eq(&self.email))
                .filter(login_failures::client_ip.eq(&self.client_ip)),
            Scope::Account => query.filter(login_failures::email.eq(&self.email)),
            Scope::Address => query.filter(login_failures::client_ip.eq(&self.client_ip)),
        };
        query.load(conn)
    }

    /// Seconds until the next attempt is allowed, when a limit is reached.
    fn retry_after(&self, conn: &mut DbConnection) -> Result<Option<u64>, ApiError> {
        let now = db::now();
        let since = now - Duration::seconds(FAILURE_WINDOW_SECS);
        let mut wait = None;
        for scope in [Scope::Pair, Scope::Account, Scope::Address] {
            let times = self.recent(conn, scope, since)?;
            if times.len() as i64 >= scope.limit() {
                if let Some(oldest) = times.last() {
                    let free_at = *oldest + Duration::seconds(FAILURE_WINDOW_SECS);
                    let secs = (free_at - now).num_seconds().max(1) as u64;
                    wait = Some(wait.map_or(secs, |w: u64| w.max(secs)));
                }
            }
        }
        Ok(wait)
    }

    /// Takes one attempt: 429 while throttled, else a failure is recorded at once, before the
    /// password is checked, and taken back only if the password proves right. Counting and
    /// recording are one write transaction (one writer at a time, in every process), so however
    /// many attempts race, at most the limit get checked.
    async fn reserve(&self, state: &AppState) -> Result<(), ApiError> {
        let attempt = self.clone();
        changes::write(state, None, move |tx| {
            let conn = tx.conn();
            if let Some(secs) = attempt.retry_after(conn)? {
                return Err(ApiError::TooManyRequests {
                    detail: "too many failed sign-ins; wait before trying again".into(),
                    retry_after: secs,
                });
            }
            let now = db::now();
            diesel::delete(login_failures::table.filter(
                login_failures::created_at.lt(now - Duration::seconds(FAILURE_WINDOW_SECS)),
            ))
            .execute(conn)?;
            diesel::insert_into(login_failures::table)
                .values((
                    login_failures::email.eq(&attempt.email),
                    login_failures::client_ip.eq(&attempt.client_ip),
                    login_failures::created_at.eq(now),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await
    }

    /// The password was right: this account's failures from this address are forgiven.
    fn forgive(&self, tx: &mut Tx) -> Result<(), ApiError> {
        let conn = tx.conn();
        diesel::delete(
            login_failures::table
                .filter(login_failures::email.eq(&self.email))
                .filter(login_failures::client_ip.eq(&self.client_ip)),
        )
        .execute(conn)?;
        Ok(())
    }

    /// Whether `candidate` is the password of `user` (an absent or inactive user never
    /// matches, after the same work). The attempt must be reserved.
    fn matches(user: Option<&UserRow>, candidate: &str) -> bool {
        match user {
            _ if candidate.len() > MAX_PASSWORD_BYTES => false,
            Some(user) => password::verify(candidate, &user.password_hash) && user.active,
            None => {
                password::verify_dummy(candidate);
                false
            }
        }
    }

    /// For a signed-in user confirming their current password: 422 when wrong, 429 while
    /// throttled.
    pub async fn check_password(
        self,
        state: &AppState,
        user: &UserRow,
        candidate: String,
    ) -> Result<(), ApiError> {
        self.reserve(state).await?;
        let user = user.clone();
        let matched = web::block(move || Self::matches(Some(&user), &candidate))
            .await
            .map_err(ApiError::internal)?;
        if matched {
            changes::write(state, None, move |tx| self.forgive(tx)).await
        } else {
            Err(ApiError::invalid(
                "current_password",
                "is not the current password",
            ))
        }
    }
}

/// A new session: the access token and the refresh token that renews it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIyIn0.c2lnbmF0dXJl",
    "token_type": "Bearer", "expires_in": 900,
    "refresh_token": "pG3o5Qm0v0bH0xk8ZQ2yYk1Qm3r9sT7uVwXyZaBcDeF",
    "user": {"id": 2, "email": "m.rahimova@newsroom.example", "name": "Malika Rahimova",
        "slug": "malika-rahimova", "bio": null, "role": "author", "active": true,
        "created_at": "2026-11-02T09:15:00Z", "updated_at": "2026-11-02T09:15:00Z"}
}))]
pub struct Session {
    /// A JWT to send as `Authorization: Bearer <token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Opaque; exchange it at `/auth/refresh` for a new pair. Single use.
    pub refresh_token: String,
    pub user: User,
}

/// Issues an access token and a refresh token in `family` (a new family for a new sign-in).
fn issue_session(
    tx: &mut Tx,
    keys: &TokenKeys,
    user: UserRow,
    family: Option<String>,
) -> Result<Session, ApiError> {
    let access_token = keys.issue(user.id, user.role()?, user.token_generation)?;
    let refresh_token = random_token(32);
    let now = db::now();
    let conn = tx.conn();
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::user_id.eq(user.id),
            refresh_tokens::family_id.eq(family.unwrap_or_else(|| random_token(16))),
            refresh_tokens::token_hash.eq(hash_refresh_token(&refresh_token)),
            refresh_tokens::created_at.eq(now),
            refresh_tokens::expires_at.eq(now + Duration::seconds(keys.refresh_ttl_secs)),
        ))
        .execute(conn)?;
    Ok(Session {
        access_token,
        token_type: "Bearer".into(),
        expires_in: keys.access_ttl_secs,
        refresh_token,
        user: user.try_into()?,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "editor@newsroom.example", "password": "a long passphrase of words"}))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// Sign in
///
/// Exchanges email and password for an access token and a refresh token. An unknown email
/// and a wrong password get the same 401. Within 15 minutes, five failures for one account
/// from one client address, 50 for one account from anywhere, or 20 from one client address
/// over all accounts -> 429 with `Retry-After`; someone else's failures below the account's
/// limit never lock its owner out.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = Session),
        (status = 401, description = "Wrong email or password", body = crate::error::Problem,
            content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts", body = crate::error::Problem,
            content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<LoginRequest>,
) -> Result<web::Json<Session>, ApiError> {
    let LoginRequest { email, password } = body.0;
    let attempt = SignInAttempt::new(&req, email);
    attempt.reserve(&state).await?;
    let email = attempt.email.clone();
    let user = db::run(&state.pool, move |conn| {
        let user = UserRow::find_by_email(conn, &email)?;
        // The password check is the slow part: off the writers' turn.
        Ok(SignInAttempt::matches(user.as_ref(), &password)
            .then_some(user)
            .flatten())
    })
    .await?
    .ok_or_else(bad_credentials)?;
    let keys = state.clone();
    let session = changes::write(&state, None, move |tx| {
        attempt.forgive(tx)?;
        issue_session(tx, &keys.tokens, user, None)
    })
    .await?;
    Ok(web::Json(session))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "pG3o5Qm0v0bH0xk8ZQ2yYk1Qm3r9sT7uVwXyZaBcDeF"}))]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Queryable)]
struct RefreshRow {
    id: i32,
    user_id: i32,
    family_id: String,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

fn find_refresh(conn: &mut DbConnection, token: &str) -> Result<Option<RefreshRow>, ApiError> {
    Ok(refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash_refresh_token(token)))
        .select((
            refresh_tokens::id,
            refresh_tokens::user_id,
            refresh_tokens::family_id,
            refresh_tokens::expires_at,
            refresh_tokens::used_at,
            refresh_tokens::revoked_at,
        ))
        .first(conn)
        .optional()?)
}

fn revoke_family(conn: &mut DbConnection, family: &str) -> Result<(), ApiError> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(db::now()))
    .execute(conn)?;
    Ok(())
}

fn invalid_refresh() -> ApiError {
    ApiError::Unauthorized {
        detail: "the refresh token is invalid, expired or revoked; sign in again".into(),
        invalid_token: false,
    }
}

/// Refresh a session
///
/// Exchanges a refresh token for a new access token and a new refresh token; the one
/// presented is retired. Presenting a retired refresh token again is taken as theft: the
/// whole chain of tokens from that sign-in is revoked.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair", body = Session),
        (status = 401, description = "Unknown, expired, retired or revoked refresh token",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> Result<web::Json<Session>, ApiError> {
    let token = body.0.refresh_token;
    let keys = state.clone();
    // The reuse case must commit its revocation, so it returns Ok(None) rather than an error.
    let session = changes::write(&state, None, move |tx| {
        let conn = tx.conn();
        let row = find_refresh(conn, &token)?.ok_or_else(invalid_refresh)?;
        if row.revoked_at.is_some() || row.expires_at <= db::now() {
            return Err(invalid_refresh());
        }
        let retired_now = row.used_at.is_none()
            && diesel::update(
                refresh_tokens::table
                    .find(row.id)
                    .filter(refresh_tokens::used_at.is_null()),
            )
            .set(refresh_tokens::used_at.eq(db::now()))
            .execute(conn)?
                == 1;
        if !retired_now {
            log::warn!(
                "refresh token reuse detected; revoking its chain (user {})",
                row.user_id
            );
            revoke_family(conn, &row.family_id)?;
            return Ok(None);
        }
        match UserRow::find(conn, row.user_id)? {
            Some(user) if user.active => {
                issue_session(tx, &keys.tokens, user, Some(row.family_id)).map(Some)
            }
            _ => Err(invalid_refresh()),
        }
    })
    .await?;
    session.map(web::Json).ok_or_else(invalid_refresh)
}

/// Sign out
///
/// Revokes the refresh token and every token of its chain. Access tokens already issued run
/// out on their own within their short lifetime. Always 204, whether or not the token was
/// known.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses((status = 204, description = "Signed out"))
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let token = body.0.refresh_token;
    changes::write(&state, None, move |tx| {
        let conn = tx.conn();
        if let Some(row) = find_refresh(conn, &token)? {
            revoke_family(conn, &row.family_id)?;
        }
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who am I
///
/// The signed-in user, with the role they have now.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller", body = User))
)]
#[get("/auth/me")]
pub async fn me(caller: Caller) -> Result<web::Json<User>, ApiError> {
    Ok(web::Json(caller.user.try_into()?))
}
