//! The topic tree as articles see it: `article_topics` holds each article's own topics
//! (`direct`) and all their ancestors, so a topic's feed and count cover its descendants with
//! one index range scan. These functions keep those rows right.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{article_topics, topics};
use crate::db::DbConnection;
use crate::error::ApiError;

/// Every topic's parent.
pub fn parents(conn: &mut DbConnection) -> Result<HashMap<i32, Option<i32>>, ApiError> {
    let rows: Vec<(i32, Option<i32>)> = topics::table
        .select((topics::id, topics::parent_id))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// The ancestors of `id`, nearest first. Stops on a cycle rather than looping.
pub fn ancestors(parents: &HashMap<i32, Option<i32>>, id: i32) -> Vec<i32> {
    let mut found = Vec::new();
    let mut next = parents.get(&id).copied().flatten();
    while let Some(parent) = next {
        if parent == id || found.contains(&parent) {
            break;
        }
        found.push(parent);
        next = parents.get(&parent).copied().flatten();
    }
    found
}

/// Files an article under `direct` topics (in that order) and, implicitly, their ancestors.
/// `feed_at` is the article's publication time while it is published, else None.
pub fn set_article_topics(
    conn: &mut DbConnection,
    article_id: i32,
    direct: &[i32],
    feed_at: Option<NaiveDateTime>,
) -> Result<(), ApiError> {
    let parents = parents(conn)?;
    diesel::delete(article_topics::table.filter(article_topics::article_id.eq(article_id)))
        .execute(conn)?;
    let inherited: BTreeSet<i32> = direct
        .iter()
        .flat_map(|id| ancestors(&parents, *id))
        .filter(|id| !direct.contains(id))
        .collect();
    let rows = direct
        .iter()
        .enumerate()
        .map(|(position, id)| (*id, i32::try_from(position).unwrap_or(i32::MAX), true))
        .chain(inherited.into_iter().map(|id| (id, i32::MAX, false)));
    for (topic_id, position, is_direct) in rows {
        diesel::insert_into(article_topics::table)
            .values((
                article_topics::article_id.eq(article_id),
                article_topics::topic_id.eq(topic_id),
                article_topics::position.eq(position),
                article_topics::direct.eq(is_direct),
                article_topics::feed_published_at.eq(feed_at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The deepest a topic may sit: a root is at depth 1.
pub const MAX_DEPTH: usize = 8;

/// How deep `id` sits: 1 for a root.
pub fn depth(parents: &HashMap<i32, Option<i32>>, id: i32) -> usize {
    1 + ancestors(parents, id).len()
}

/// How many levels the subtree of `id` spans: 1 for a leaf.
pub fn height(parents: &HashMap<i32, Option<i32>>, id: i32) -> usize {
    parents
        .keys()
        .filter_map(|other| {
            let above = ancestors(parents, *other);
            if *other == id {
                Some(1)
            } else {
                above.iter().position(|a| *a == id).map(|at| at + 2)
            }
        })
        .max()
        .unwrap_or(1)
}

/// The topics an article is filed under directly, in its order.
pub fn direct_topics(conn: &mut DbConnection, article_id: i32) -> Result<Vec<i32>, ApiError> {
    Ok(article_topics::table
        .filter(article_topics::article_id.eq(article_id))
        .filter(article_topics::direct.eq(true))
        .order(article_topics::position)
        .select(article_topics::topic_id)
        .load(conn)?)
}

/// Files `articles` again under their own topics as the tree now stands: their ancestor rows
/// follow a move or a deletion.
pub fn refile(conn: &mut DbConnection, articles: &[i32]) -> Result<(), ApiError> {
    for article_id in articles {
        let rows: Vec<(i32, Option<NaiveDateTime>)> = article_topics::table
            .filter(article_topics::article_id.eq(article_id))
            .filter(article_topics::direct.eq(true))
            .order(article_topics::position.asc())
            .select((article_topics::topic_id, article_topics::feed_published_at))
            .load(conn)?;
        // With no topic of its own left, it is in no topic's feed.
        let feed_at = rows.first().and_then(|(_, at)| *at);
        let direct: Vec<i32> = rows.into_iter().map(|(id, _)| id).collect();
        set_article_topics(conn, *article_id, &direct, feed_at)?;
    }
    Ok(())
}

/// The articles filed directly under `topic_id`.
pub fn articles_filed_directly(
    conn: &mut DbConnection,
    topic_id: i32,
) -> Result<Vec<i32>, ApiError> {
    Ok(article_topics::table
        .filter(article_topics::topic_id.eq(topic_id))
        .filter(article_topics::direct.eq(true))
        .select(article_topics::article_id)
        .load(conn)?)
}

/// The articles filed under `topic_id` or its descendants.
pub fn articles_under(conn: &mut DbConnection, topic_id: i32) -> Result<Vec<i32>, ApiError> {
    Ok(article_topics::table
        .filter(article_topics::topic_id.eq(topic_id))
        .select(article_topics::article_id)
        .load(conn)?)
}

/// After `topic_id` moved in the tree: re-files every article under it or its descendants.
pub fn refresh_subtree(conn: &mut DbConnection, topic_id: i32) -> Result<(), ApiError> {
    let parents = parents(conn)?;
    let subtree: Vec<i32> = parents
        .keys()
        .copied()
        .filter(|id| *id == topic_id || ancestors(&parents, *id).contains(&topic_id))
        .collect();
    let articles: Vec<i32> = article_topics::table
        .filter(article_topics::direct.eq(true))
        .filter(article_topics::topic_id.eq_any(&subtree))
        .select(article_topics::article_id)
        .distinct()
        .load(conn)?;
    refile(conn, &articles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestors_walk_up_and_survive_cycles() {
        let parents = HashMap::from([
            (1, None),
            (2, Some(1)),
            (3, Some(2)),
            (8, Some(9)),
            (9, Some(8)),
        ]);
        assert_eq!(ancestors(&parents, 3), [2, 1]);
        assert_eq!(ancestors(&parents, 1), Vec::<i32>::new());
        assert_eq!(ancestors(&parents, 8), [9]);
        assert_eq!(depth(&parents, 3), 3);
        assert_eq!(height(&parents, 1), 3);
        assert_eq!(height(&parents, 3), 1);
    }
}
