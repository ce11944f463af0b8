//! Public bylines: the people whose names stand on published articles. No email, nothing
//! private; an account with no public article is not a byline.

use actix_web::{get, web};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::db::schema::{article_authors, users};
use crate::db::{self, DbConnection};
use crate::domain::Key;
use crate::error::ApiError;
use crate::keys::{self, Keys, Tagged};
use crate::pagination;
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema, Queryable)]
#[schema(example = json!({
    "id": 2, "slug": "malika-rahimova", "name": "Malika Rahimova",
    "bio": "Central Asia correspondent based in Dushanbe.", "article_count": 31
}))]
pub struct Author {
    pub id: i32,
    pub slug: String,
    pub name: String,
    pub bio: Option<String>,
    /// Published articles with this byline.
    pub article_count: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuthorPage {
    pub data: Vec<Author>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListAuthorsQuery {
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Which bylines to load.
enum Bylines {
    /// A page by name, after the given (name, id).
    After(Option<(String, i32)>),
    One(Key),
}

/// Authors with their count of public articles, alphabetically.
fn bylines(conn: &mut DbConnection, which: Bylines, limit: i64) -> Result<Vec<Author>, ApiError> {
    let mut query = article_authors::table
        .inner_join(users::table)
        .filter(article_authors::feed_published_at.le(db::now()))
        .group_by((users::id, users::slug, users::name, users::bio))
        .select((
            users::id,
            users::slug,
            users::name,
            users::bio,
            diesel::dsl::count_star(),
        ))
        .order((users::name.asc(), users::id.asc()))
        .limit(limit)
        .into_boxed();
    query = match which {
        Bylines::After(None) => query,
        Bylines::After(Some((name, id))) => query.filter(
            users::name
                .gt(name.clone())
                .or(users::name.eq(name).and(users::id.gt(id))),
        ),
        Bylines::One(Key::Id(id)) => query.filter(users::id.eq(id)),
        Bylines::One(Key::Slug(slug)) => query.filter(users::slug.eq(slug)),
    };
    Ok(query.load(conn)?)
}

/// The id of the user `key` names (by id or byline slug), if one does.
pub fn find_id(conn: &mut DbConnection, key: &Key) -> QueryResult<Option<i32>> {
    let query = users::table.select(users::id).into_boxed();
    let query = match key {
        Key::Id(id) => query.filter(users::id.eq(*id)),
        Key::Slug(slug) => query.filter(users::slug.eq(slug.clone())),
    };
    query.first(conn).optional()
}

/// The keys of bylines as their list and pages show them (with their counts of articles).
fn author_keys(authors: &[Author]) -> Keys {
    let mut out = Keys::of([keys::AUTHORS]);
    for a in authors {
        out.add(keys::author(a.id));
    }
    out
}

/// List authors
///
/// Everyone with at least one published article, by name.
#[utoipa::path(
    tag = "authors",
    params(ListAuthorsQuery),
    responses((status = 200, description = "One page of authors", body = AuthorPage))
)]
#[get("/authors")]
pub async fn list_authors(
    state: web::Data<AppState>,
    query: web::Query<ListAuthorsQuery>,
) -> Result<Tagged<web::Json<AuthorPage>>, ApiError> {
    let limit = pagination::limit(query.limit, 50, 100)?;
    let after: Option<(String, i32)> = pagination::cursor(query.cursor.as_deref())?;
    let rows = db::run(&state.pool, move |conn| {
        bylines(conn, Bylines::After(after), limit + 1)
    })
    .await?;
    let (data, more) = pagination::split_page(rows, limit);
    let next_cursor = more
        .then(|| {
            data.last()
                .map(|a| pagination::encode_cursor(&(&a.name, a.id)))
        })
        .flatten();
    let keys = author_keys(&data);
    Ok(Tagged(web::Json(AuthorPage { data, next_cursor }), keys))
}

/// Get an author
///
/// By id or slug; 404 for an account with no published article.
#[utoipa::path(
    tag = "authors",
    params(("key" = String, Path, description = "The author's id or slug", example = "malika-rahimova")),
    responses(
        (status = 200, description = "The author", body = Author),
        (status = 404, description = "No such author", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[get("/authors/{key}")]
pub async fn get_author(
    state: web::Data<AppState>,
    key: web::Path<String>,
) -> Result<Tagged<web::Json<Author>>, ApiError> {
    let key = Key::from_path(&key)?;
    let rows = db::run(&state.pool, move |conn| bylines(conn, Bylines::One(key), 1)).await?;
    let keys = author_keys(&rows);
    rows.into_iter()
        .next()
        .map(|author| Tagged(web::Json(author), keys))
        .ok_or_else(|| ApiError::not_found("author"))
}
