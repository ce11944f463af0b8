//! Topic heads: each topic's newest articles filed under it directly that are published and
//! out of the trash (scheduled ones included, at their time), with each one's own topics,
//! stored as one row per topic. Related suggestions rank from the heads of an article's topics
//! (one statement) what they would otherwise read from each topic's feed index and from every
//! candidate's topic rows. The write path keeps them (`refresh`, from `articles::cards`); a
//! head never decides what is public: the suggested cards are read with their visibility
//! checked at that instant.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::{article_topics, topic_heads};
use crate::db::DbConnection;
use crate::error::ApiError;

/// The most articles a head holds.
pub const SIZE: usize = 64;

/// One article of a head: its id, its feed time (microseconds since the epoch) and the topics
/// it is filed under directly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry(i32, i64, Vec<i32>);

/// A topic's head, newest first.
#[derive(Debug, Default)]
pub struct Head {
    entries: Vec<Entry>,
    /// Whether it holds every such article of the topic.
    complete: bool,
}

/// A feed time as heads store it.
pub fn micros(at: NaiveDateTime) -> i64 {
    at.and_utc().timestamp_micros()
}

/// The heads of `topics`, in one statement; a topic without a row has an empty, complete head.
pub fn load(conn: &mut DbConnection, topics: &[i32]) -> Result<HashMap<i32, Head>, ApiError> {
    let rows: Vec<(i32, String, bool)> = topic_heads::table
        .filter(topic_heads::topic_id.eq_any(topics))
        .select((
            topic_heads::topic_id,
            topic_heads::entries,
            topic_heads::complete,
        ))
        .load(conn)?;
    let mut heads: HashMap<i32, Head> = topics
        .iter()
        .map(|t| {
            (
                *t,
                Head {
                    entries: Vec::new(),
                    complete: true,
                },
            )
        })
        .collect();
    for (topic, entries, complete) in rows {
        let entries = serde_json::from_str(&entries)
            .map_err(|e| ApiError::internal(format!("a broken topic head: {e}")))?;
        heads.insert(topic, Head { entries, complete });
    }
    Ok(heads)
}

/// Suggestions for `article_id`, filed directly under `own_topics`, from their heads: of each
/// topic its newest `max(3 × limit, 30)` articles public at `now` (never the article itself nor
/// anything in `exclude`), ranked by how many of `own_topics` they share, then newest, then by
/// id; `limit` ids at most. None when a head is too short to say (the topic holds more than
/// its head and too few of the head are public at `now`): then the caller reads the indexes.
pub fn suggestions(
    heads: &HashMap<i32, Head>,
    article_id: i32,
    own_topics: &[i32],
    exclude: &[i32],
    limit: i64,
    now: i64,
) -> Option<Vec<i32>> {
    let take = usize::try_from((3 * limit).max(30)).unwrap_or(usize::MAX);
    let mut ranked: HashMap<i32, (usize, i64)> = HashMap::new();
    for topic in own_topics {
        let head = heads.get(topic)?;
        let mut taken = 0;
        for Entry(id, at, topics) in &head.entries {
            if taken == take {
                break;
            }
            if *at > now || *id == article_id || exclude.contains(id) {
                continue;
            }
            taken += 1;
            let shared = topics.iter().filter(|t| own_topics.contains(t)).count();
            ranked.insert(*id, (shared, *at));
        }
        if taken < take && !head.complete {
            return None;
        }
    }
    let mut ranked: Vec<(i32, (usize, i64))> = ranked.into_iter().collect();
    ranked.sort_unstable_by(|(a, (a_shared, a_at)), (b, (b_shared, b_at))| {
        (b_shared, b_at, b).cmp(&(a_shared, a_at, a))
    });
    Some(
        ranked
            .into_iter()
            .take(usize::try_from(limit).unwrap_or(0))
            .map(|(id, _)| id)
            .collect(),
    )
}

/// Rewrites the heads of `topics` from the topic rows. Only the write path calls it, inside
/// its transaction, for the topics of every article whose topics or feed time changed.
pub(crate) fn refresh(conn: &mut DbConnection, topics: &BTreeSet<i32>) -> Result<(), ApiError> {
    if topics.is_empty() {
        return Ok(());
    }
    let mut newest: Vec<(i32, Vec<(i32, NaiveDateTime)>)> = Vec::with_capacity(topics.len());
    for topic in topics {
        let rows: Vec<(i32, Option<NaiveDateTime>)> = article_topics::table
            .filter(article_topics::topic_id.eq(topic))
            .filter(article_topics::feed_published_at.is_not_null())
            // Unbound, so that SQLite can use the partial index `WHERE direct`.
            .filter(article_topics::direct)
            .order((
                article_topics::feed_published_at.desc(),
                article_topics::article_id.desc(),
            ))
            .select((
                article_topics::article_id,
                article_topics::feed_published_at,
            ))
            .limit(i64::try_from(SIZE + 1).unwrap_or(i64::MAX))
            .load(conn)?;
        let rows = rows
            .into_iter()
            .filter_map(|(id, at)| at.map(|at| (id, at)))
            .collect();
        newest.push((*topic, rows));
    }
    let members: BTreeSet<i32> = newest
        .iter()
        .flat_map(|(_, rows)| rows.iter().map(|(id, _)| *id))
        .collect();
    let mut filed: HashMap<i32, Vec<i32>> = HashMap::new();
    for chunk in members.into_iter().collect::<Vec<_>>().chunks(500) {
        let rows: Vec<(i32, i32)> = article_topics::table
            .filter(article_topics::article_id.eq_any(chunk))
            .filter(article_topics::direct.eq(true))
            .order((article_topics::article_id, article_topics::position))
            .select((article_topics::article_id, article_topics::topic_id))
            .load(conn)?;
        for (article, topic) in rows {
            filed.entry(article).or_default().push(topic);
        }
    }
    diesel::delete(topic_heads::table.filter(topic_heads::topic_id.eq_any(topics.iter().copied())))
        .execute(conn)?;
    for (topic, mut rows) in newest {
        if rows.is_empty() {
            continue;
        }
        let complete = rows.len() <= SIZE;
        rows.truncate(SIZE);
        let entries: Vec<Entry> = rows
            .into_iter()
            .map(|(id, at)| Entry(id, micros(at), filed.get(&id).cloned().unwrap_or_default()))
            .collect();
        let entries = serde_json::to_string(&entries)
            .map_err(|e| ApiError::internal(format!("cannot store a topic head: {e}")))?;
        diesel::insert_into(topic_heads::table)
            .values((
                topic_heads::topic_id.eq(topic),
                topic_heads::entries.eq(entries),
                topic_heads::complete.eq(complete),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Builds the heads of the topics that have articles but no head (a database from before
/// heads, or one filled by a bulk loader); returns how many. Only the write path calls it.
pub(crate) fn build_missing(conn: &mut DbConnection) -> Result<usize, ApiError> {
    let stored: Vec<i32> = topic_heads::table
        .select(topic_heads::topic_id)
        .load(conn)?;
    let missing: BTreeSet<i32> = article_topics::table
        .filter(article_topics::feed_published_at.is_not_null())
        .filter(article_topics::direct.eq(true))
        .filter(article_topics::topic_id.ne_all(stored))
        .select(article_topics::topic_id)
        .distinct()
        .load::<i32>(conn)?
        .into_iter()
        .collect();
    refresh(conn, &missing)?;
    Ok(missing.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(entries: &[(i32, i64, &[i32])], complete: bool) -> Head {
        Head {
            entries: entries
                .iter()
                .map(|(id, at, topics)| Entry(*id, *at, topics.to_vec()))
                .collect(),
            complete,
        }
    }

    #[test]
    fn ranks_by_shared_topics_then_newest_and_skips_what_is_not_public_yet() {
        let heads = HashMap::from([
            (
                1,
                head(&[(9, 90, &[1]), (8, 80, &[1, 2]), (7, 70, &[1])], true),
            ),
            (2, head(&[(8, 80, &[1, 2]), (6, 60, &[2])], true)),
        ]);
        // 9 is scheduled after `now`; 7 is excluded (a curated pick).
        let ids = suggestions(&heads, 5, &[1, 2], &[7], 10, 85);
        assert_eq!(ids, Some(vec![8, 6]));
        let ids = suggestions(&heads, 8, &[1, 2], &[], 10, 100);
        assert_eq!(ids, Some(vec![9, 7, 6]));
    }

    #[test]
    fn an_incomplete_head_too_short_for_the_answer_says_so() {
        let heads = HashMap::from([(1, head(&[(9, 90, &[1]), (8, 80, &[1])], false))]);
        assert_eq!(suggestions(&heads, 5, &[1], &[], 10, 100), None);
        let full: Vec<(i32, i64, &[i32])> = (100..140)
            .rev()
            .map(|id| (id, i64::from(id), &[1][..]))
            .collect();
        let heads = HashMap::from([(1, head(&full, false))]);
        assert_eq!(
            suggestions(&heads, 5, &[1], &[], 2, 1_000),
            Some(vec![139, 138])
        );
    }
}
