//! Users: staff accounts managed by admins, and each user's own profile.

use actix_web::http::header;
use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{password, Caller};
use crate::changes::{self, events::EventRef, Tx};
use crate::db::schema::{article_authors, refresh_tokens, users};
use crate::db::{self, DbConnection};
use crate::domain::{bounded_text, display_text, Email, Errors, Password, Role, Slug};
use crate::error::ApiError;
use crate::extract::{nullable, Json};
use crate::openapi::rules::{field, FieldRule, Rule};
use crate::pagination;
use crate::state::AppState;

/// The single-field rules of account writes, as the spec states them.
pub const FIELD_RULES: &[FieldRule] = &[
    field("CreateUser", "email", Rule::Email),
    field("UpdateUser", "email", Rule::Email),
    field("CreateUser", "name", Rule::Title(MAX_NAME_CHARS)),
    field("UpdateUser", "name", Rule::Title(MAX_NAME_CHARS)),
    field("UpdateMe", "name", Rule::Title(MAX_NAME_CHARS)),
    field("CreateUser", "password", Rule::Password),
    field("UpdateUser", "password", Rule::Password),
    field("UpdateMe", "password", Rule::Password),
    field("CreateUser", "bio", Rule::Text(MAX_BIO_CHARS)),
    field("UpdateUser", "bio", Rule::Text(MAX_BIO_CHARS)),
    field("UpdateMe", "bio", Rule::Text(MAX_BIO_CHARS)),
];

pub const MAX_NAME_CHARS: usize = 120;
pub const MAX_BIO_CHARS: usize = 2000;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub slug: String,
    pub bio: Option<String>,
    pub role: String,
    pub password_hash: String,
    pub active: bool,
    pub token_generation: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl UserRow {
    pub fn find(conn: &mut DbConnection, id: i32) -> Result<Option<Self>, ApiError> {
        Ok(users::table
            .find(id)
            .select(Self::as_select())
            .first(conn)
            .optional()?)
    }

    pub fn find_by_email(conn: &mut DbConnection, email: &str) -> Result<Option<Self>, ApiError> {
        Ok(users::table
            .filter(users::email.eq(email))
            .select(Self::as_select())
            .first(conn)
            .optional()?)
    }

    pub fn role(&self) -> Result<Role, ApiError> {
        Role::parse(&self.role).ok_or_else(|| {
            ApiError::internal(format!("user {} has unknown role {}", self.id, self.role))
        })
    }
}

/// A staff account as admins and the user see it. Never carries the password hash.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": 2, "email": "m.rahimova@newsroom.example", "name": "Malika Rahimova",
    "slug": "malika-rahimova", "bio": "Central Asia correspondent based in Dushanbe.",
    "role": "author", "active": true,
    "created_at": "2026-11-02T09:15:00Z", "updated_at": "2026-11-20T17:40:12Z"
}))]
pub struct User {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub slug: String,
    pub bio: Option<String>,
    pub role: Role,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for User {
    type Error = ApiError;

    fn try_from(row: UserRow) -> Result<Self, ApiError> {
        Ok(Self {
            role: row.role()?,
            id: row.id,
            email: row.email,
            name: row.name,
            slug: row.slug,
            bio: row.bio,
            active: row.active,
            created_at: db::utc(row.created_at),
            updated_at: db::utc(row.updated_at),
        })
    }
}

/// A new user, checked and ready to insert.
pub struct NewUser {
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub password: Password,
    pub bio: Option<String>,
}

/// Inserts a user with a unique slug derived from the name, with the hash of its password
/// (made before the write: hashing is slow on purpose). Duplicate email -> 409. A new account
/// has no byline yet: nothing public changes.
pub fn create(tx: &mut Tx, new: NewUser, password_hash: String) -> Result<UserRow, ApiError> {
    db::retry_on_conflict(tx.conn(), |conn| {
        if UserRow::find_by_email(conn, new.email.as_str())?.is_some() {
            return Err(ApiError::Conflict(
                "a user with this email already exists".into(),
            ));
        }
        let slug = unique_slug(conn, &Slug::derive(&new.name, "user"))?;
        let now = db::now();
        let id: i32 = diesel::insert_into(users::table)
            .values((
                users::email.eq(new.email.as_str()),
                users::name.eq(&new.name),
                users::slug.eq(slug.as_str()),
                users::bio.eq(&new.bio),
                users::role.eq(new.role.as_str()),
                users::password_hash.eq(&password_hash),
                users::active.eq(true),
                users::token_generation.eq(0),
                users::created_at.eq(now),
                users::updated_at.eq(now),
            ))
            .returning(users::id)
            .get_result(conn)?;
        UserRow::find(conn, id)?.ok_or_else(|| ApiError::internal("inserted user vanished"))
    })
}

/// Creates a user on a connection of the caller's (the command line, tests).
pub fn create_on(conn: &mut DbConnection, new: NewUser) -> Result<UserRow, ApiError> {
    let hash = password::hash(&new.password)?;
    changes::write_on(conn, None, |tx| create(tx, new, hash))
}

/// The hash of a new password, made off the async workers.
async fn hashed(password: Option<Password>) -> Result<Option<String>, ApiError> {
    match password {
        Some(password) => actix_web::web::block(move || password::hash(&password))
            .await
            .map_err(ApiError::internal)?
            .map(Some),
        None => Ok(None),
    }
}

/// `base`, or `base-2`, `base-3`, ... whichever is free first.
fn unique_slug(conn: &mut DbConnection, base: &Slug) -> Result<Slug, ApiError> {
    let taken: Vec<String> = users::table
        .filter(users::slug.like(format!("{}%", base.as_str())))
        .select(users::slug)
        .load(conn)?;
    Ok(base.first_free(&taken.into_iter().collect()))
}

/// Ends every live session of a user: access tokens by generation, refresh tokens by revoking.
pub fn end_sessions(conn: &mut DbConnection, user_id: i32) -> Result<(), ApiError> {
    let now = db::now();
    diesel::update(users::table.find(user_id))
        .set(users::token_generation.eq(users::token_generation + 1))
        .execute(conn)?;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
}

fn location(id: i32) -> String {
    format!("/api/v1/users/{id}")
}

fn parse_bio(errors: &mut Errors, bio: Option<String>) -> Option<String> {
    bio.map(|b| b.trim().to_owned())
        .filter(|b| !b.is_empty())
        .and_then(|b| errors.check("bio", bounded_text(&b, MAX_BIO_CHARS)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "email": "m.rahimova@newsroom.example", "name": "Malika Rahimova", "role": "author",
    "password": "a long passphrase of words", "bio": "Central Asia correspondent based in Dushanbe."
}))]
pub struct CreateUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    /// 12 to 1024 characters.
    pub password: String,
    pub bio: Option<String>,
}

impl CreateUser {
    pub fn parse(self) -> Result<NewUser, ApiError> {
        let mut errors = Errors::default();
        let email = errors.check("email", Email::parse(&self.email));
        let name = errors.check("name", display_text(&self.name, MAX_NAME_CHARS));
        let password = errors.check("password", Password::parse(self.password));
        let bio = parse_bio(&mut errors, self.bio);
        errors.finish()?;
        match (email, name, password) {
            (Some(email), Some(name), Some(password)) => Ok(NewUser {
                email,
                name,
                role: self.role,
                password,
                bio,
            }),
            _ => Err(ApiError::internal("validated fields missing")),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListUsersQuery {
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only users with this role.
    pub role: Option<Role>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserPage {
    pub data: Vec<User>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// List users
///
/// Every account, active or not, in creation order. Admins only.
#[utoipa::path(
    tag = "users",
    params(ListUsersQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "One page of users", body = UserPage))
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListUsersQuery>,
) -> Result<web::Json<UserPage>, ApiError> {
    caller.require(Role::Admin)?;
    let query = query.into_inner();
    let limit = pagination::limit(query.limit, 50, 100)?;
    let after: i32 = pagination::cursor(query.cursor.as_deref())?.unwrap_or(0);
    let rows = db::run(&state.pool, move |conn| {
        let mut q = users::table
            .filter(users::id.gt(after))
            .order(users::id.asc())
            .limit(limit + 1)
            .select(UserRow::as_select())
            .into_boxed();
        if let Some(role) = query.role {
            q = q.filter(users::role.eq(role.as_str()));
        }
        Ok(q.load(conn)?)
    })
    .await?;
    let (rows, more) = pagination::split_page(rows, limit);
    let next_cursor = more
        .then(|| rows.last().map(|u| pagination::encode_cursor(&u.id)))
        .flatten();
    let data = rows
        .into_iter()
        .map(User::try_from)
        .collect::<Result<_, _>>()?;
    Ok(web::Json(UserPage { data, next_cursor }))
}

/// Create a user
///
/// Admins create staff accounts. The email must be unused (else 409); the password needs 12 to
/// 1024 characters.
#[utoipa::path(
    tag = "users",
    request_body = CreateUser,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `Location` names the new user", body = User,
            headers(("Location" = String, description = "URL of the new user"))),
        (status = 409, description = "The email is taken", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Admin)?;
    let new = body.0.parse()?;
    let (new, hash) =
        actix_web::web::block(move || password::hash(&new.password).map(|h| (new, h)))
            .await
            .map_err(ApiError::internal)??;
    let row = changes::write(&state, Some(caller.id()), move |tx| create(tx, new, hash)).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location(row.id)))
        .json(User::try_from(row)?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(names("id"), parameter_in = Path)]
pub struct UserId(
    /// The user's id.
    pub i32,
);

/// Get a user
///
/// One staff account, active or not. Admins only.
#[utoipa::path(
    tag = "users",
    params(UserId),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user", body = User),
        (status = 404, description = "No such user", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[get("/users/{id:\\d+}")]
pub async fn get_user(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<UserId>,
) -> Result<web::Json<User>, ApiError> {
    caller.require(Role::Admin)?;
    let id = id.into_inner().0;
    let row = db::run(&state.pool, move |conn| UserRow::find(conn, id)).await?;
    Ok(web::Json(
        row.ok_or_else(|| ApiError::not_found("user"))?.try_into()?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "editor", "bio": "Deputy editor, Central Asia desk."}))]
pub struct UpdateUser {
    pub email: Option<String>,
    pub name: Option<String>,
    /// Null clears the bio.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub bio: Option<Option<String>>,
    pub role: Option<Role>,
    /// False deactivates the account: it can no longer sign in, its sessions end at once, its
    /// bylines stay. True reactivates it. (Accounts are never deleted through the API.)
    pub active: Option<bool>,
    /// A new password; ends every session of the user.
    pub password: Option<String>,
}

/// The checked changes of a PATCH, applied by `apply_changes`.
#[derive(Default)]
struct Changes {
    email: Option<Email>,
    name: Option<String>,
    bio: Option<Option<String>>,
    role: Option<Role>,
    active: Option<bool>,
    password: Option<Password>,
}

impl Changes {
    fn parse_profile(
        errors: &mut Errors,
        name: Option<String>,
        bio: Option<Option<String>>,
        password: Option<String>,
    ) -> Self {
        Self {
            name: name.and_then(|n| errors.check("name", display_text(&n, MAX_NAME_CHARS))),
            bio: bio.map(|b| parse_bio(errors, b)),
            password: password.and_then(|p| errors.check("password", Password::parse(p))),
            ..Self::default()
        }
    }
}

/// Applies checked changes to a user (with the hash of a new password, made beforehand);
/// refuses to leave no active admin. Two admins demoting each other at once cannot leave none:
/// the check and the change are one write, one writer at a time in every server process.
fn apply_changes(
    tx: &mut Tx,
    id: i32,
    changes: Changes,
    hash: Option<String>,
) -> Result<UserRow, ApiError> {
    let conn = tx.conn();
    let current = UserRow::find(conn, id)?.ok_or_else(|| ApiError::not_found("user"))?;
    let loses_admin = current.role == Role::Admin.as_str()
        && current.active
        && (changes.role.is_some_and(|r| r != Role::Admin) || changes.active == Some(false));
    if loses_admin {
        let admins: i64 = users::table
            .filter(users::role.eq(Role::Admin.as_str()))
            .filter(users::active.eq(true))
            .count()
            .get_result(conn)?;
        if admins <= 1 {
            return Err(ApiError::Conflict(
                "this is the last active admin; make another admin first".into(),
            ));
        }
    }
    if let Some(email) = &changes.email {
        if UserRow::find_by_email(conn, email.as_str())?.is_some_and(|u| u.id != id) {
            return Err(ApiError::Conflict(
                "a user with this email already exists".into(),
            ));
        }
    }
    diesel::update(users::table.find(id))
        .set((
            changes
                .email
                .as_ref()
                .map(|e| users::email.eq(e.as_str().to_owned())),
            changes.name.clone().map(|n| users::name.eq(n)),
            changes.bio.clone().map(|b| users::bio.eq(b)),
            changes.role.map(|r| users::role.eq(r.as_str())),
            changes.active.map(|a| users::active.eq(a)),
            hash.clone().map(|h| users::password_hash.eq(h)),
            users::updated_at.eq(db::now()),
        ))
        .execute(conn)?;
    if hash.is_some() || (changes.active == Some(false) && current.active) {
        end_sessions(conn, id)?;
    }
    let updated = UserRow::find(conn, id)?.ok_or_else(|| ApiError::not_found("user"))?;
    // Names and bios show on bylines and author pages.
    let public: Vec<&str> = [
        ("name", updated.name != current.name),
        ("bio", updated.bio != current.bio),
    ]
    .into_iter()
    .filter_map(|(field, changed)| changed.then_some(field))
    .collect();
    if !public.is_empty() {
        let bylines: Vec<i32> = article_authors::table
            .filter(article_authors::user_id.eq(id))
            .select(article_authors::article_id)
            .load(conn)?;
        let author = EventRef {
            id,
            slug: updated.slug.clone(),
        };
        tx.author_updated(author, &public, &bylines);
    }
    Ok(updated)
}

/// Update a user
///
/// Partial update by an admin. Changing the role takes effect on the user's live tokens at
/// once; deactivating or setting a password ends every session of the user. The last active
/// admin cannot be demoted or deactivated (409).
#[utoipa::path(
    tag = "users",
    params(UserId),
    request_body = UpdateUser,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated user", body = User),
        (status = 404, description = "No such user", body = crate::error::Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "The email is taken, or this is the last active admin",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/users/{id:\\d+}")]
pub async fn update_user(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<UserId>,
    body: Json<UpdateUser>,
) -> Result<web::Json<User>, ApiError> {
    caller.require(Role::Admin)?;
    let id = id.into_inner().0;
    let body = body.0;
    let mut errors = Errors::default();
    let mut changes = Changes::parse_profile(&mut errors, body.name, body.bio, body.password);
    changes.email = body
        .email
        .and_then(|e| errors.check("email", Email::parse(&e)));
    changes.role = body.role;
    changes.active = body.active;
    errors.finish()?;
    let hash = hashed(changes.password.take()).await?;
    let row = changes::write(&state, Some(caller.id()), move |tx| {
        apply_changes(tx, id, changes, hash)
    })
    .await?;
    Ok(web::Json(row.try_into()?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "bio": "Covers energy and water across Central Asia.",
    "current_password": "the passphrase I use now", "password": "a brand new long passphrase"
}))]
pub struct UpdateMe {
    pub name: Option<String>,
    /// Null clears the bio.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub bio: Option<Option<String>>,
    /// A new password (needs `current_password`); ends every session, this one included.
    pub password: Option<String>,
    pub current_password: Option<String>,
}

/// Update my profile
///
/// Any signed-in user changes their own name and bio, and with `current_password` their
/// password. A wrong current password counts as a failed sign-in for throttling.
#[utoipa::path(
    tag = "users",
    request_body = UpdateMe,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated profile", body = User),
        (status = 429, description = "Too many wrong passwords", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[patch("/users/me")]
pub async fn update_me(
    state: web::Data<AppState>,
    caller: Caller,
    req: actix_web::HttpRequest,
    body: Json<UpdateMe>,
) -> Result<web::Json<User>, ApiError> {
    let body = body.0;
    let mut errors = Errors::default();
    let changes = Changes::parse_profile(&mut errors, body.name, body.bio, body.password);
    if changes.password.is_some() && body.current_password.is_none() {
        errors.check::<()>(
            "current_password",
            Err("is required to change the password".into()),
        );
    }
    errors.finish()?;
    if let Some(current) = body.current_password.filter(|_| changes.password.is_some()) {
        let attempt = crate::auth::handlers::SignInAttempt::new(&req, caller.user.email.clone());
        attempt
            .check_password(&state, &caller.user, current)
            .await?;
    }
    let id = caller.id();
    let mut changes = changes;
    let hash = hashed(changes.password.take()).await?;
    let row = changes::write(&state, Some(id), move |tx| {
        apply_changes(tx, id, changes, hash)
    })
    .await?;
    Ok(web::Json(row.try_into()?))
}
