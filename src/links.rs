//! Related-news links: the editor's ordered, typed picks beneath an article, then suggestions
//! (public articles sharing its topics) filling the list up to the limit.

use std::collections::{HashMap, HashSet};

use actix_web::{delete, get, patch, post, put, web, HttpResponse};
use chrono::NaiveDateTime;
use diesel::dsl::{count_star, max};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use serde_json::value::RawValue;

use crate::articles::{
    can_see, cards, for_write, readable, summaries, ArticleKey, ArticleRow, ArticleSummary,
};
use crate::auth::{Caller, MaybeCaller};
use crate::changes::{self, events::ArticleState, Tx};
use crate::db::schema::{article_cards, article_topics, articles as articles_table, related_links};
use crate::db::{self, DbConnection};
use crate::domain::Key;
use crate::error::{ApiError, FieldError};
use crate::extract::{Json, JsonList};
use crate::keys::{Keys, Tagged};
use crate::pagination;
use crate::state::AppState;
use crate::topics::heads;

/// The most curated links one article may carry, and the most items a list returns.
pub const MAX_LINKS: usize = 50;
/// How many related items an article embeds with `include=related`.
pub const EMBEDDED: i64 = 10;

/// How a linked article relates to the one it is linked from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    #[default]
    Related,
    FollowUp,
    Background,
    Correction,
    Opinion,
}

impl Relation {
    fn as_str(self) -> &'static str {
        match self {
            Relation::Related => "related",
            Relation::FollowUp => "follow_up",
            Relation::Background => "background",
            Relation::Correction => "correction",
            Relation::Opinion => "opinion",
        }
    }

    fn parse(raw: &str) -> Self {
        match raw {
            "follow_up" => Relation::FollowUp,
            "background" => Relation::Background,
            "correction" => Relation::Correction,
            "opinion" => Relation::Opinion,
            _ => Relation::Related,
        }
    }
}

/// Where an item of the list comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Picked by an editor.
    Curated,
    /// Shares topics with the article.
    Suggested,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RelatedItem {
    /// The linked article's card, as feeds list it.
    #[schema(value_type = ArticleSummary)]
    pub article: Box<RawValue>,
    /// For suggestions always `related`.
    pub relation: Relation,
    pub origin: Origin,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RelatedList {
    pub data: Vec<RelatedItem>,
}

/// A related item with its target's stored card, written into public responses as it is.
pub struct RelatedCard {
    card: cards::Card,
    relation: Relation,
    origin: Origin,
}

impl RelatedCard {
    /// Appends the JSON of the `RelatedItem`.
    fn write(&self, out: &mut String) -> Result<(), ApiError> {
        out.push_str("{\"article\":");
        out.push_str(&self.card.json);
        out.push_str(",\"relation\":");
        cards::push_json(out, &self.relation)?;
        out.push_str(",\"origin\":");
        cards::push_json(out, &self.origin)?;
        out.push('}');
        Ok(())
    }

    /// The item, for a response built with serde.
    pub fn into_item(self) -> Result<RelatedItem, ApiError> {
        Ok(RelatedItem {
            article: RawValue::from_string(self.card.json)
                .map_err(|e| ApiError::internal(format!("a broken card: {e}")))?,
            relation: self.relation,
            origin: self.origin,
        })
    }
}

/// Appends `items` as a JSON array of `RelatedItem`s.
pub fn write_related(out: &mut String, items: &[RelatedCard]) -> Result<(), ApiError> {
    cards::push_array(out, items, |out, item| item.write(out))
}

/// The curated links of an article in order, hidden targets included: (target, relation).
fn curated(
    conn: &mut DbConnection,
    article_id: i32,
) -> Result<Vec<(ArticleRow, Relation)>, ApiError> {
    let rows: Vec<(ArticleRow, String)> = related_links::table
        .inner_join(articles_table::table.on(articles_table::id.eq(related_links::target_id)))
        .filter(related_links::article_id.eq(article_id))
        .order((
            related_links::position.asc(),
            related_links::target_id.asc(),
        ))
        .select((ArticleRow::as_select(), related_links::relation))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(row, rel)| (row, Relation::parse(&rel)))
        .collect())
}

/// Every curated link of an article in order: (target, relation, the target's card if it is
/// public now), in one statement.
fn links_of(
    conn: &mut DbConnection,
    article_id: i32,
) -> Result<Vec<(i32, Relation, Option<cards::Card>)>, ApiError> {
    let rows: Vec<(i32, String, Option<bool>, String, String)> = related_links::table
        .inner_join(article_cards::table.on(article_cards::article_id.eq(related_links::target_id)))
        .filter(related_links::article_id.eq(article_id))
        .order((
            related_links::position.asc(),
            related_links::target_id.asc(),
        ))
        .select((
            related_links::target_id,
            related_links::relation,
            article_cards::public_from.le(db::now()),
            article_cards::card,
            article_cards::keys,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(target, rel, public, json, keys)| {
            let card = (public == Some(true)).then(|| cards::Card::new(target, json, keys));
            (target, Relation::parse(&rel), card)
        })
        .collect())
}

/// Public articles sharing topics with `article_id` (its direct `topics`; among the newest
/// `3 × limit`, at least 30, of each), most shared topics first, then newest; never the article
/// itself nor anything in `exclude`. Their ids, in that order: from the topics' stored heads
/// in one statement, or from their feed indexes when a head is too short to say.
fn suggestions(
    conn: &mut DbConnection,
    article_id: i32,
    own_topics: &[i32],
    exclude: &[i32],
    limit: i64,
) -> Result<Vec<i32>, ApiError> {
    if limit <= 0 || own_topics.is_empty() {
        return Ok(Vec::new());
    }
    let now = db::now();
    let stored = heads::load(conn, own_topics)?;
    if let Some(ids) = heads::suggestions(
        &stored,
        article_id,
        own_topics,
        exclude,
        limit,
        heads::micros(now),
    ) {
        return Ok(ids);
    }
    // The candidates: the newest public articles of each of its topics (a few topics at most),
    // so the cost does not grow with the topics' archives.
    let mut candidates: Vec<i32> = Vec::new();
    for topic in own_topics {
        candidates.extend(
            article_topics::table
                .filter(article_topics::topic_id.eq(topic))
                .filter(article_topics::feed_published_at.le(now))
                // Unbound, so that SQLite can use the partial index `WHERE direct`.
                .filter(article_topics::direct)
                .filter(article_topics::article_id.ne(article_id))
                .filter(article_topics::article_id.ne_all(exclude.to_vec()))
                .order((
                    article_topics::feed_published_at.desc(),
                    article_topics::article_id.desc(),
                ))
                .select(article_topics::article_id)
                .limit((3 * limit).max(30))
                .load::<i32>(conn)?,
        );
    }
    candidates.sort_unstable();
    candidates.dedup();
    let ranked: Vec<(i32, i64, Option<NaiveDateTime>)> = article_topics::table
        .filter(article_topics::article_id.eq_any(candidates))
        .filter(article_topics::topic_id.eq_any(own_topics))
        .filter(article_topics::direct.eq(true))
        .group_by(article_topics::article_id)
        .select((
            article_topics::article_id,
            count_star(),
            max(article_topics::feed_published_at),
        ))
        .order((
            count_star().desc(),
            max(article_topics::feed_published_at).desc(),
            article_topics::article_id.desc(),
        ))
        .limit(limit)
        .load(conn)?;
    Ok(ranked.into_iter().map(|(id, _, _)| id).collect())
}

/// The related list of `article_id` (filed directly under `topics`): curated links (public
/// targets), then suggestions unless `suggest` is false, `limit` items at most, as stored
/// cards; the same for every caller. Adds the list's keys: the article's (its links), every
/// curated target's (a hidden one shows again when it is published or restored), each item's,
/// and with suggestions the lists of its topics (a newly published article there may become
/// one). A constant number of queries: the links with their cards, the topics' heads, the
/// suggested cards.
pub fn related(
    conn: &mut DbConnection,
    article_id: i32,
    topics: &[i32],
    limit: i64,
    suggest: bool,
    keys: &mut Keys,
) -> Result<Vec<RelatedCard>, ApiError> {
    let links = links_of(conn, article_id)?;
    keys.add(crate::keys::article(article_id));
    for (target, _, _) in &links {
        keys.add(crate::keys::article(*target));
    }
    let mut items: Vec<RelatedCard> = links
        .into_iter()
        .filter_map(|(_, relation, card)| {
            card.map(|card| RelatedCard {
                card,
                relation,
                origin: Origin::Curated,
            })
        })
        .take(usize::try_from(limit).unwrap_or(0))
        .collect();
    if suggest {
        for topic in topics {
            keys.add(crate::keys::list_topic(*topic));
        }
        let exclude: Vec<i32> = items.iter().map(|item| item.card.id).collect();
        let remaining = limit - items.len() as i64;
        let suggested = suggestions(conn, article_id, topics, &exclude, remaining)?;
        items.extend(
            cards::public(conn, &suggested)?
                .into_iter()
                .map(|card| RelatedCard {
                    card,
                    relation: Relation::Related,
                    origin: Origin::Suggested,
                }),
        );
    }
    for item in &items {
        item.card.add_keys(keys);
    }
    Ok(items)
}

/// Related items from rows in order, with one query for all their topics and one for bylines.
fn items(
    conn: &mut DbConnection,
    entries: Vec<(ArticleRow, Relation, Origin)>,
) -> Result<Vec<RelatedItem>, ApiError> {
    let (rows, labels): (Vec<ArticleRow>, Vec<(Relation, Origin)>) = entries
        .into_iter()
        .map(|(row, relation, origin)| (row, (relation, origin)))
        .unzip();
    summaries(conn, rows)?
        .into_iter()
        .zip(labels)
        .map(|(article, (relation, origin))| {
            Ok(RelatedItem {
                article: serde_json::value::to_raw_value(&article)
                    .map_err(|e| ApiError::internal(format!("cannot render an item: {e}")))?,
                relation,
                origin,
            })
        })
        .collect()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RelatedQuery {
    /// Items at most, 1 to 50 (default 10).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
    /// False: curated links only.
    pub suggest: Option<bool>,
}

/// Related articles
///
/// The headlines beneath an article: the editors' picks first, in their order (only those
/// whose target is public), then suggestions that share topics with it, ranked by shared
/// topics and recency, filling up to `limit`.
#[utoipa::path(
    tag = "related",
        params(ArticleKey, RelatedQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The related list", body = RelatedList),
        (status = 401, description = "A token was sent but is invalid", body = crate::error::Problem,
            content_type = "application/problem+json"),
        (status = 404, description = "No such article, or not visible to the caller",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/articles/{key}/related")]
pub async fn list_related(
    state: web::Data<AppState>,
    caller: MaybeCaller,
    key: web::Path<ArticleKey>,
    query: web::Query<RelatedQuery>,
) -> Result<Tagged<cards::RawJson>, ApiError> {
    let key = Key::from_path(&key.key)?;
    let limit = pagination::limit(query.limit, 10, MAX_LINKS as i64)?;
    let suggest = query.suggest.unwrap_or(true);
    let (data, keys) = db::run(&state.pool, move |conn| {
        let row = ArticleRow::find(conn, &key)?.ok_or_else(|| ApiError::not_found("article"))?;
        if !can_see(conn, &row, caller.0.as_ref())? {
            return Err(ApiError::not_found("article"));
        }
        let topics = crate::topics::tree::direct_topics(conn, row.id)?;
        let mut keys = Keys::default();
        let items = related(conn, row.id, &topics, limit, suggest, &mut keys)?;
        let mut out = String::from("{\"data\":");
        write_related(&mut out, &items)?;
        out.push('}');
        Ok((out, keys))
    })
    .await?;
    Ok(Tagged(cards::RawJson(data), keys))
}

/// The current links of an article, in order: (target, relation).
fn current(conn: &mut DbConnection, id: i32) -> Result<Vec<(i32, String)>, ApiError> {
    Ok(related_links::table
        .filter(related_links::article_id.eq(id))
        .order((
            related_links::position.asc(),
            related_links::target_id.asc(),
        ))
        .select((related_links::target_id, related_links::relation))
        .load(conn)?)
}

/// Stores `links` as the whole ordered list of `article`.
fn store(tx: &mut Tx, article: &ArticleRow, links: &[(i32, String)]) -> Result<(), ApiError> {
    let id = article.id;
    let now = tx.now();
    tx.links_changed(&ArticleState::of(article, now));
    let conn = tx.conn();
    let before: HashMap<i32, String> = current(conn, id)?.into_iter().collect();
    let keep: HashSet<i32> = links.iter().map(|(t, _)| *t).collect();
    diesel::delete(
        related_links::table
            .filter(related_links::article_id.eq(id))
            .filter(related_links::target_id.ne_all(keep.iter().copied().collect::<Vec<_>>())),
    )
    .execute(conn)?;
    let now = db::now();
    for (position, (target, relation)) in links.iter().enumerate() {
        let position = i32::try_from(position).unwrap_or(i32::MAX);
        if before.contains_key(target) {
            diesel::update(related_links::table.find((id, *target)))
                .set((
                    related_links::position.eq(position),
                    related_links::relation.eq(relation),
                ))
                .execute(conn)?;
        } else {
            diesel::insert_into(related_links::table)
                .values((
                    related_links::article_id.eq(id),
                    related_links::target_id.eq(*target),
                    related_links::relation.eq(relation),
                    related_links::position.eq(position),
                    related_links::created_at.eq(now),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// The full curated list as the caller may see it: editors every target, authors the targets
/// they may read (hidden ones included only when they are their own).
fn staff_list(
    conn: &mut DbConnection,
    id: i32,
    caller: &Caller,
) -> Result<Vec<RelatedItem>, ApiError> {
    let picked = curated(conn, id)?;
    let ids: Vec<i32> = picked.iter().map(|(row, _)| row.id).collect();
    let visible = readable(conn, &ids, Some(caller))?;
    let entries = picked
        .into_iter()
        .filter(|(row, _)| visible.contains(&row.id))
        .map(|(row, relation)| (row, relation, Origin::Curated))
        .collect();
    items(conn, entries)
}

/// 422 naming each target that is the article itself or one the caller may not read (which is
/// answered exactly as an article that does not exist).
fn check_targets(
    conn: &mut DbConnection,
    id: i32,
    targets: &[(String, i32)],
    caller: &Caller,
) -> Result<(), ApiError> {
    let ids: Vec<i32> = targets.iter().map(|(_, t)| *t).collect();
    let existing = readable(conn, &ids, Some(caller))?;
    let errors: Vec<FieldError> = targets
        .iter()
        .filter_map(|(field, target)| {
            if *target == id {
                Some(FieldError::new(field, "an article cannot link to itself"))
            } else if !existing.contains(target) {
                Some(FieldError::new(field, "no such article"))
            } else {
                None
            }
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct LinkPath {
    /// The id or slug of the article the link belongs to.
    #[param(example = "tajikistan-and-kyrgyzstan-sign-treaty-ending-decades-long-border-dispute")]
    pub key: String,
    /// The id of the linked article.
    #[param(minimum = 1, example = 23)]
    pub target_id: i32,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"target_id": 23, "relation": "background", "position": 0, "reciprocal": true}))]
pub struct CreateLink {
    pub target_id: i32,
    /// Default `related`.
    pub relation: Option<Relation>,
    /// 0-based place in the list; the links from there on shift down. Default: the end.
    #[schema(minimum = 0)]
    pub position: Option<i32>,
    /// Also link the target back to this article (at the end of its list).
    #[serde(default)]
    pub reciprocal: bool,
}

/// Moves or inserts `target` at `position` (clamped) in `links`.
fn place(links: &mut Vec<(i32, String)>, target: i32, relation: String, position: Option<usize>) {
    links.retain(|(t, _)| *t != target);
    let at = position.map_or(links.len(), |p| p.min(links.len()));
    links.insert(at, (target, relation));
}

/// A requested place in a list: 0 or more (422 otherwise); past the end means the end.
fn position(requested: Option<i32>) -> Result<Option<usize>, ApiError> {
    requested
        .map(|p| usize::try_from(p).map_err(|_| ApiError::invalid("position", "must be 0 or more")))
        .transpose()
}

fn limit_links(links: &[(i32, String)]) -> Result<(), ApiError> {
    if links.len() > MAX_LINKS {
        return Err(ApiError::invalid(
            "target_id",
            format!("an article carries at most {MAX_LINKS} links"),
        ));
    }
    Ok(())
}

/// Link an article
///
/// Adds a curated link. Link writes follow the rules of editing: editors and admins on any
/// article, an author on their own while in draft or review (403 otherwise; with `reciprocal`
/// the same on the target). A link to itself, to an unknown article or to one the caller may
/// not read -> 422 (the same answer for both); a link that exists -> 409. The answer lists
/// only targets the caller may read.
#[utoipa::path(
    tag = "related",
    params(ArticleKey),
    request_body = CreateLink,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The article's curated list, the new link included", body = RelatedList),
        (status = 404, description = "No such article, or not visible to the caller",
            body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The link exists", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[post("/articles/{key}/related")]
pub async fn create_link(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ArticleKey>,
    body: Json<CreateLink>,
) -> Result<HttpResponse, ApiError> {
    let key = Key::from_path(&path.key)?;
    let body = body.0;
    let data = changes::write(&state, Some(caller.id()), move |tx| {
        let article = for_write(tx.conn(), &key, &caller)?;
        let id = article.id;
        check_targets(
            tx.conn(),
            id,
            &[("target_id".into(), body.target_id)],
            &caller,
        )?;
        let mut links = current(tx.conn(), id)?;
        if links.iter().any(|(t, _)| *t == body.target_id) {
            return Err(ApiError::Conflict(
                "this link exists; PATCH it to change it".into(),
            ));
        }
        let relation = body.relation.unwrap_or_default().as_str().to_owned();
        place(
            &mut links,
            body.target_id,
            relation.clone(),
            position(body.position)?,
        );
        limit_links(&links)?;
        store(tx, &article, &links)?;
        if body.reciprocal {
            let target = for_write(tx.conn(), &Key::Id(body.target_id), &caller)?;
            let mut back = current(tx.conn(), body.target_id)?;
            if !back.iter().any(|(t, _)| *t == id) {
                place(&mut back, id, relation, None);
                limit_links(&back)?;
                store(tx, &target, &back)?;
            }
        }
        staff_list(tx.conn(), id, &caller)
    })
    .await?;
    Ok(HttpResponse::Created().json(RelatedList { data }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"relation": "follow_up", "position": 2}))]
pub struct UpdateLink {
    pub relation: Option<Relation>,
    /// The new 0-based place; the others shift.
    #[schema(minimum = 0)]
    pub position: Option<i32>,
}

/// Change a link
///
/// Its relation, or its place in the list (the others shift). Who may: as for adding a link.
#[utoipa::path(
    tag = "related",
    params(LinkPath),
    request_body = UpdateLink,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The article's curated list", body = RelatedList),
        (status = 404, description = "No such article or link", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[patch("/articles/{key}/related/{target_id}")]
pub async fn update_link(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<LinkPath>,
    body: Json<UpdateLink>,
) -> Result<web::Json<RelatedList>, ApiError> {
    let LinkPath {
        key,
        target_id: target,
    } = path.into_inner();
    let key = Key::from_path(&key)?;
    let body = body.0;
    let data = changes::write(&state, Some(caller.id()), move |tx| {
        let article = for_write(tx.conn(), &key, &caller)?;
        let id = article.id;
        let mut links = current(tx.conn(), id)?;
        let Some(index) = links.iter().position(|(t, _)| *t == target) else {
            return Err(ApiError::not_found("link"));
        };
        let relation = body
            .relation
            .map_or_else(|| links[index].1.clone(), |r| r.as_str().to_owned());
        let at = position(body.position)?.unwrap_or(index);
        place(&mut links, target, relation, Some(at));
        store(tx, &article, &links)?;
        staff_list(tx.conn(), id, &caller)
    })
    .await?;
    Ok(web::Json(RelatedList { data }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"target_id": 23, "relation": "background"}))]
pub struct LinkEntry {
    pub target_id: i32,
    /// Default `related`.
    pub relation: Option<Relation>,
}

/// Replace the links
///
/// The whole ordered list replaces the current one, atomically: any invalid entry (a target
/// that does not exist or that the caller may not read) -> 422 naming it, and nothing
/// changes. Who may: as for adding a link.
#[utoipa::path(
    tag = "related",
    params(ArticleKey),
    request_body(content = Vec<LinkEntry>, example = json!([
        {"target_id": 23, "relation": "background"}, {"target_id": 21, "relation": "follow_up"},
        {"target_id": 22}
    ])),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The article's new curated list", body = RelatedList),
        (status = 404, description = "No such article, or not visible to the caller",
            body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[put("/articles/{key}/related")]
pub async fn replace_links(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<ArticleKey>,
    body: JsonList<LinkEntry>,
) -> Result<web::Json<RelatedList>, ApiError> {
    let key = Key::from_path(&path.key)?;
    let entries = body.0;
    let data = changes::write(&state, Some(caller.id()), move |tx| {
        let article = for_write(tx.conn(), &key, &caller)?;
        let id = article.id;
        if entries.len() > MAX_LINKS {
            return Err(ApiError::invalid(
                "body",
                format!("at most {MAX_LINKS} links"),
            ));
        }
        let mut seen = HashSet::new();
        let duplicates: Vec<FieldError> = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !seen.insert(e.target_id))
            .map(|(i, _)| FieldError::new(format!("[{i}].target_id"), "is listed twice"))
            .collect();
        if !duplicates.is_empty() {
            return Err(ApiError::Validation(duplicates));
        }
        let targets: Vec<(String, i32)> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (format!("[{i}].target_id"), e.target_id))
            .collect();
        check_targets(tx.conn(), id, &targets, &caller)?;
        let links: Vec<(i32, String)> = entries
            .into_iter()
            .map(|e| {
                (
                    e.target_id,
                    e.relation.unwrap_or_default().as_str().to_owned(),
                )
            })
            .collect();
        store(tx, &article, &links)?;
        staff_list(tx.conn(), id, &caller)
    })
    .await?;
    Ok(web::Json(RelatedList { data }))
}

/// Remove a link
///
/// Takes the target off the article's curated list; the links after it move up. Who may: as
/// for adding a link.
#[utoipa::path(
    tag = "related",
    params(LinkPath),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such article or link", body = crate::error::Problem,
            content_type = "application/problem+json"),
    )
)]
#[delete("/articles/{key}/related/{target_id}")]
pub async fn delete_link(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<LinkPath>,
) -> Result<HttpResponse, ApiError> {
    let LinkPath {
        key,
        target_id: target,
    } = path.into_inner();
    let key = Key::from_path(&key)?;
    changes::write(&state, Some(caller.id()), move |tx| {
        let article = for_write(tx.conn(), &key, &caller)?;
        let id = article.id;
        let mut links = current(tx.conn(), id)?;
        let before = links.len();
        links.retain(|(t, _)| *t != target);
        if links.len() == before {
            return Err(ApiError::not_found("link"));
        }
        store(tx, &article, &links)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
