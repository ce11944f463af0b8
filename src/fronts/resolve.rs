//! The public read of a front: its sections resolved against what is public now, in a fixed
//! number of statements whatever its size: the front, the cards of its curated articles (with
//! their visibility, in the same statement), the photos of its image overrides, every
//! section's fill candidates (ids only: one statement of limited subqueries), the cards of the
//! candidates taken, and the slugs its fills name. The cards are copied into the response as stored; only an item with overrides is
//! rewritten.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::sql_types::{Integer, Nullable, Timestamp};
use diesel::QueryableByName;
use serde::Serialize;
use utoipa::ToSchema;

use super::{fill_names, fill_view, Fill, FrontRow, StoredFill, StoredItem, StoredSection};
use crate::articles::cards::{self, push_json, to_json, Card};
use crate::articles::{ArticleSummary, CoverImage};
use crate::db::sql::{Statement, Value};
use crate::db::{self, DbConnection};
use crate::error::ApiError;
use crate::keys::{self, Keys};
use crate::media::MediaRow;

/// A front as the public reads it (the schema of the body, which is written by hand).
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolvedFront {
    pub slug: String,
    pub title: String,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
    pub sections: Vec<ResolvedSection>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ResolvedSection {
    pub key: String,
    pub title: String,
    pub max_items: i64,
    pub fill: Option<Fill>,
    /// At most `max_items`: the curated items public now, in order, then the fill's.
    pub items: Vec<ResolvedItem>,
}

/// An item of a resolved section: the article's card, with the front's overrides applied
/// (`headline` as `title`, `summary`, `image` as `cover_image`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ResolvedItem {
    pub article_id: i32,
    /// Picked by an editor (false: filled).
    pub curated: bool,
    pub kicker: Option<String>,
    pub pinned_until: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub article: ArticleSummary,
}

/// A fill candidate: (section, article, feed time).
#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = Integer)]
    section: i32,
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Nullable<Timestamp>)]
    at: Option<NaiveDateTime>,
}

/// The public body of front `row` at `now`, and its surrogate keys.
pub fn public(
    conn: &mut DbConnection,
    row: &FrontRow,
    now: NaiveDateTime,
) -> Result<(String, Keys), ApiError> {
    let sections = row.sections()?;
    let mut keys = Keys::of([keys::front(&row.slug)]);
    // Every curated article, shown or not: its publication changes the front.
    let curated: Vec<i32> = sections
        .iter()
        .flat_map(|s| s.items.iter().filter(|i| i.pinned_at(now)))
        .map(|i| i.article_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for id in &curated {
        keys.add(keys::article(*id));
    }
    let cards: HashMap<i32, Card> = cards::public(conn, &curated)?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    // Each section's curated items on show.
    let shown_curated: Vec<Vec<&StoredItem>> = sections
        .iter()
        .map(|s| {
            s.items
                .iter()
                .filter(|i| i.pinned_at(now) && cards.contains_key(&i.article_id))
                .take(slots(s.max_items))
                .collect()
        })
        .collect();
    let photo_ids: Vec<i32> = shown_curated
        .iter()
        .flatten()
        .filter_map(|i| i.image.as_ref()?.media_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let photos = if photo_ids.is_empty() {
        HashMap::new()
    } else {
        crate::media::rows(conn, &photo_ids)?
    };
    // Each section's fill: its candidates (ids only) taken in order, none shown before; then
    // the cards of those taken, in one statement.
    let mut shown: HashSet<i32> = shown_curated
        .iter()
        .flatten()
        .map(|i| i.article_id)
        .collect();
    let mut candidates = fill_candidates(conn, &sections, &shown_curated, shown.len(), now)?;
    let fills: Vec<Vec<i32>> = sections
        .iter()
        .zip(&shown_curated)
        .enumerate()
        .map(|(n, (section, on_show))| {
            let need = slots(section.max_items).saturating_sub(on_show.len());
            candidates
                .remove(&n)
                .unwrap_or_default()
                .into_iter()
                .filter(|id| shown.insert(*id))
                .take(need)
                .collect()
        })
        .collect();
    let filled: Vec<i32> = fills.iter().flatten().copied().collect();
    let mut filled_cards: HashMap<i32, Card> = cards::public(conn, &filled)?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let names = fill_names(conn, &sections)?;

    let mut out = String::with_capacity(4096);
    out.push_str("{\"slug\":");
    push_json(&mut out, &row.slug)?;
    out.push_str(",\"title\":");
    push_json(&mut out, &row.title)?;
    out.push_str(",\"version\":");
    push_json(&mut out, &row.version)?;
    out.push_str(",\"updated_at\":");
    push_json(&mut out, &db::utc(row.updated_at))?;
    out.push_str(",\"sections\":[");
    for (n, ((section, on_show), fill_ids)) in
        sections.iter().zip(&shown_curated).zip(fills).enumerate()
    {
        if n > 0 {
            out.push(',');
        }
        out.push_str("{\"key\":");
        push_json(&mut out, &section.key)?;
        out.push_str(",\"title\":");
        push_json(&mut out, &section.title)?;
        out.push_str(",\"max_items\":");
        push_json(&mut out, &section.max_items)?;
        out.push_str(",\"fill\":");
        push_json(
            &mut out,
            &section.fill.as_ref().map(|f| fill_view(f, &names)),
        )?;
        out.push_str(",\"items\":[");
        let mut count = 0;
        for item in on_show {
            if let Some(card) = cards.get(&item.article_id) {
                if count > 0 {
                    out.push(',');
                }
                card.add_keys(&mut keys);
                out.push_str(&curated_json(card, item, &photos)?);
                count += 1;
            }
        }
        if let Some(fill) = &section.fill {
            fill_keys(fill, &mut keys);
        }
        for card in fill_ids.iter().filter_map(|id| filled_cards.remove(id)) {
            if count > 0 {
                out.push(',');
            }
            card.add_keys(&mut keys);
            out.push_str(&filled_json(card)?);
            count += 1;
        }
        out.push_str("]}");
    }
    out.push_str("]}");
    for (id, _) in names.0 {
        keys.add(keys::topic(id));
    }
    for (id, _) in names.1 {
        keys.add(keys::author(id));
    }
    Ok((out, keys))
}

fn slots(max_items: i64) -> usize {
    usize::try_from(max_items).unwrap_or(0)
}

/// What invalidates a section's fill: an article entering or leaving its list.
fn fill_keys(fill: &StoredFill, keys: &mut Keys) {
    let key = match (fill.topic, fill.author, &fill.language) {
        (Some(topic), _, _) => keys::list_topic(topic),
        (None, Some(author), _) => keys::list_author(author),
        (None, None, Some(language)) => keys::list_language(language),
        (None, None, None) => keys::LIST.to_owned(),
    };
    keys.add(key);
}

/// The fill candidates of every section with slots left, by section, newest first, in one
/// statement. A section may need to pass over every article shown before it (the curated ones
/// of the whole front, the fills above it), so it reads that many more than it has slots.
fn fill_candidates(
    conn: &mut DbConnection,
    sections: &[StoredSection],
    shown_curated: &[Vec<&StoredItem>],
    curated: usize,
    now: NaiveDateTime,
) -> Result<HashMap<usize, Vec<i32>>, ApiError> {
    let mut statement = Statement::new();
    let mut before = curated;
    let mut parts = 0;
    for (n, (section, on_show)) in sections.iter().zip(shown_curated).enumerate() {
        let Some(fill) = &section.fill else { continue };
        let need = slots(section.max_items).saturating_sub(on_show.len());
        if need == 0 {
            continue;
        }
        if parts > 0 {
            statement.push(" UNION ALL ");
        }
        parts += 1;
        candidates_of(&mut statement, n, fill, need + before, now);
        before += need;
    }
    if parts == 0 {
        return Ok(HashMap::new());
    }
    let mut found: Vec<Candidate> = statement.load(conn)?;
    found.sort_by(|a, b| (a.section, b.at, b.id).cmp(&(b.section, a.at, a.id)));
    let mut out: HashMap<usize, Vec<i32>> = HashMap::new();
    for c in found {
        if let Ok(section) = usize::try_from(c.section) {
            out.entry(section).or_default().push(c.id);
        }
    }
    Ok(out)
}

/// Appends the subquery of section `n`'s `limit` newest candidates: driven by the topic's or
/// the byline's feed index when the fill names one, else by the cards' time index.
fn candidates_of(
    statement: &mut Statement,
    n: usize,
    fill: &StoredFill,
    limit: usize,
    now: NaiveDateTime,
) {
    let at = match (fill.topic, fill.author) {
        (Some(_), _) => "t.feed_published_at",
        (None, Some(_)) => "a.feed_published_at",
        (None, None) => "c.public_from",
    };
    statement.push(&format!(
        "SELECT * FROM (SELECT {n} AS section, c.article_id AS id, {at} AS at FROM "
    ));
    match (fill.topic, fill.author) {
        (Some(topic), author) => {
            statement
                .push("article_topics t JOIN article_cards c ON c.article_id = t.article_id WHERE t.topic_id = ")
                .bind(Value::Int(topic));
            if let Some(author) = author {
                statement
                    .push(" AND t.article_id IN (SELECT article_id FROM article_authors WHERE user_id = ")
                    .bind(Value::Int(author))
                    .push(")");
            }
        }
        (None, Some(author)) => {
            statement
                .push("article_authors a JOIN article_cards c ON c.article_id = a.article_id WHERE a.user_id = ")
                .bind(Value::Int(author));
        }
        (None, None) => {
            statement.push("article_cards c WHERE 1 = 1");
        }
    }
    statement
        .push(&format!(" AND {at} <= "))
        .bind(Value::Time(now));
    statement
        .push(" AND c.public_from <= ")
        .bind(Value::Time(now));
    if let Some(language) = &fill.language {
        statement
            .push(" AND c.language = ")
            .bind(Value::Text(language.clone()));
    }
    statement
        .push(&format!(" ORDER BY {at} DESC, c.article_id DESC LIMIT "))
        .bind(Value::Int(i32::try_from(limit).unwrap_or(i32::MAX)))
        .push(&format!(") AS f{n}"));
}

/// A filled item: the card as stored, with what says it was filled.
fn filled_json(mut card: Card) -> Result<String, ApiError> {
    let id = card.id.to_string();
    card.rewrite(
        &[
            ("article_id", id),
            ("curated", "false".into()),
            ("kicker", "null".into()),
            ("pinned_until", "null".into()),
        ],
        &[],
    )?;
    Ok(card.json)
}

/// A curated item: the card with the front's overrides over it.
fn curated_json(
    card: &Card,
    item: &StoredItem,
    photos: &HashMap<i32, MediaRow>,
) -> Result<String, ApiError> {
    let mut replaced = Vec::new();
    if let Some(headline) = &item.headline {
        replaced.push(("title", to_json(headline)?));
    }
    if let Some(summary) = &item.summary {
        replaced.push(("summary", to_json(summary)?));
    }
    if let Some(image) = item
        .image
        .as_ref()
        .and_then(|i| CoverImage::of_input(i, photos))
    {
        replaced.push(("cover_image", to_json(&image)?));
    }
    let mut card = card.clone();
    card.rewrite(
        &[
            ("article_id", item.article_id.to_string()),
            ("curated", "true".into()),
            ("kicker", to_json(&item.kicker)?),
            ("pinned_until", to_json(&item.pinned_until.map(db::utc))?),
        ],
        &replaced,
    )?;
    Ok(card.json)
}
