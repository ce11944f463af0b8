//! Entity tags that vouch for themselves, so that a revalidation costs no read even when the
//! body is not kept (the response cache off, evicted, or the tag made by another process).
//!
//! A public read's tag names a hash of its body, the build that made it, the event-log seq
//! this process knew before reading (every public change with a lower seq was committed
//! before the read began, since seqs follow commit order), the buckets its surrogate keys fall
//! in and, for a response that follows the clock (a list), the latest scheduled time that had
//! come: `"<hash>.<build>.<seq>.<buckets>[.<due>]"`. Each process holds, per bucket, the
//! highest seq of a public event that invalidated a key in it, learnt from the log as the
//! response cache learns of invalidations. A tag is still current when no bucket of it moved
//! past its seq, the due time is the same, and the build is this one: then `If-None-Match`
//! gets its 304 from memory. Buckets shared with other keys only cost a needless full read;
//! a tag that names too many buckets, or a response without keys, carries the hash alone.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::NaiveDateTime;

/// How many buckets the keys hash into: a page of 20 cards names 30-40 of them.
const BUCKETS: usize = 4096;
/// A tag names at most this many buckets (a page of 100 cards names about 130).
const MAX_BUCKETS: usize = 200;
/// Two characters per bucket; no `-` (coding suffixes) nor `.` (the separator).
const ALPHABET: &[u8; 64] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_~";

/// Per bucket of surrogate keys, the highest seq of a public event that invalidated a key in it.
pub struct Versions {
    buckets: Box<[AtomicI64]>,
}

impl Default for Versions {
    fn default() -> Self {
        Self {
            buckets: (0..BUCKETS).map(|_| AtomicI64::new(0)).collect(),
        }
    }
}

fn bucket(key: &str) -> usize {
    (xxhash_rust::xxh3::xxh3_64(key.as_bytes()) % BUCKETS as u64) as usize
}

impl Versions {
    /// Nothing at or before `seq` is known key by key (the log as it stood at start-up): no
    /// tag made before it is vouched for.
    pub fn known_from(&self, seq: i64) {
        for bucket in self.buckets.iter() {
            bucket.fetch_max(seq, Ordering::SeqCst);
        }
    }

    /// Public events up to `seq` invalidated `keys`.
    pub fn invalidated(&self, keys: &[String], seq: i64) {
        for key in keys {
            self.buckets[bucket(key)].fetch_max(seq, Ordering::SeqCst);
        }
    }

    /// Whether `tag` still names the current representation, given the highest seq this
    /// process knows and the latest scheduled time that has come.
    pub fn vouches(&self, tag: &str, latest: i64, due_mark: Option<NaiveDateTime>) -> bool {
        let Some(parts) = Parts::parse(tag) else {
            return false;
        };
        parts.build == build()
            && parts.seq <= latest
            && parts.due.is_none_or(|due| due == encode_due(due_mark))
            && parts
                .buckets
                .iter()
                .all(|&b| self.buckets[b].load(Ordering::SeqCst) <= parts.seq)
    }
}

/// What a response was made from: the seq known before reading and, for a response that
/// follows the clock, the due mark it was made at.
pub struct Made {
    pub seq: i64,
    pub due_mark: Option<Option<NaiveDateTime>>,
}

/// The tag of a body with these keys, made as `made` says (None: the hash alone).
pub fn tag(body: &[u8], keys: &[String], made: Option<Made>) -> String {
    let hash = xxhash_rust::xxh3::xxh3_64(body);
    let mut buckets: Vec<usize> = keys.iter().map(|k| bucket(k)).collect();
    buckets.sort_unstable();
    buckets.dedup();
    let made = made.filter(|_| !buckets.is_empty() && buckets.len() <= MAX_BUCKETS);
    let Some(made) = made else {
        return format!("\"{hash:016x}\"");
    };
    let mut tag = format!("\"{hash:016x}.{:08x}.{:x}.", build(), made.seq);
    for b in buckets {
        tag.push(ALPHABET[b / 64] as char);
        tag.push(ALPHABET[b % 64] as char);
    }
    if let Some(mark) = made.due_mark {
        tag.push('.');
        tag.push_str(&encode_due(mark));
    }
    tag.push('"');
    tag
}

/// Whether two tags (quoted, without coding suffix) name the same body.
pub fn same_body(a: &str, b: &str) -> bool {
    hash_of(a).is_some_and(|hash| hash_of(b) == Some(hash))
}

fn hash_of(tag: &str) -> Option<&str> {
    let inner = tag.strip_prefix('"')?.strip_suffix('"')?;
    Some(inner.split('.').next().unwrap_or(inner))
}

fn encode_due(mark: Option<NaiveDateTime>) -> String {
    mark.map_or_else(
        || "n".to_owned(),
        |at| format!("{:x}", at.and_utc().timestamp_micros()),
    )
}

/// A tag's parts.
struct Parts<'t> {
    build: u32,
    seq: i64,
    buckets: Vec<usize>,
    due: Option<&'t str>,
}

impl<'t> Parts<'t> {
    fn parse(tag: &'t str) -> Option<Self> {
        let inner = tag.strip_prefix('"')?.strip_suffix('"')?;
        let mut fields = inner.split('.');
        let _hash = fields.next()?;
        let build = u32::from_str_radix(fields.next()?, 16).ok()?;
        let seq = i64::from_str_radix(fields.next()?, 16).ok()?;
        let named = fields.next()?.as_bytes();
        let due = fields.next();
        // No tag is made without buckets: one naming none would vouch for anything.
        if fields.next().is_some()
            || named.is_empty()
            || named.len() % 2 != 0
            || named.len() > 2 * MAX_BUCKETS
        {
            return None;
        }
        let digit = |c: &u8| ALPHABET.iter().position(|a| a == c);
        let buckets = named
            .chunks(2)
            .map(|pair| Some(digit(&pair[0])? * 64 + digit(&pair[1])?))
            .collect::<Option<Vec<usize>>>()?;
        Some(Self {
            build,
            seq,
            buckets,
            due,
        })
    }
}

/// The code this server runs (`build.rs`: a hash of its sources, migrations and locked
/// dependencies), so that a tag made by other code (a rolling deploy: old and new processes
/// on one log) is not vouched for.
fn build() -> u32 {
    u32::from_str_radix(env!("NEWSROOM_BUILD_ID"), 16).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(names: &[&str]) -> Vec<String> {
        names.iter().map(|k| (*k).to_owned()).collect()
    }

    fn made(seq: i64, due_mark: Option<Option<NaiveDateTime>>) -> Option<Made> {
        Some(Made { seq, due_mark })
    }

    #[test]
    fn a_tag_is_vouched_for_until_one_of_its_keys_moves_past_it() {
        let versions = Versions::default();
        versions.known_from(10);
        let page = keys(&["article-1", "topic-2", "list"]);
        let tag = tag(b"{}", &page, made(10, None));
        assert!(versions.vouches(&tag, 10, None));
        assert!(
            !versions.vouches(&tag, 9, None),
            "a seq this process has not seen"
        );
        versions.invalidated(&keys(&["article-99999"]), 11);
        let unrelated_moved = bucket("article-99999") != bucket("article-1")
            && bucket("article-99999") != bucket("topic-2")
            && bucket("article-99999") != bucket("list");
        assert_eq!(versions.vouches(&tag, 11, None), unrelated_moved);
        versions.invalidated(&keys(&["topic-2"]), 12);
        assert!(!versions.vouches(&tag, 12, None));
    }

    #[test]
    fn nothing_made_before_start_up_is_vouched_for() {
        let versions = Versions::default();
        let old = tag(b"{}", &keys(&["article-1"]), made(4, None));
        versions.known_from(5);
        assert!(!versions.vouches(&old, 5, None));
    }

    #[test]
    fn a_list_follows_the_clock() {
        let versions = Versions::default();
        let noon =
            chrono::NaiveDate::from_ymd_opt(2026, 12, 3).and_then(|d| d.and_hms_opt(12, 0, 0));
        let list = tag(b"[]", &keys(&["list"]), made(0, Some(None)));
        assert!(versions.vouches(&list, 0, None));
        assert!(!versions.vouches(&list, 0, noon));
        let later = tag(b"[]", &keys(&["list"]), made(0, Some(noon)));
        assert!(versions.vouches(&later, 0, noon));
    }

    #[test]
    fn tags_name_their_body_and_refuse_junk() {
        let a = tag(b"one", &keys(&["article-1"]), made(3, None));
        let b = tag(b"one", &keys(&["article-1"]), made(7, None));
        assert_ne!(a, b);
        assert!(same_body(&a, &b));
        assert!(!same_body(&a, &tag(b"two", &[], None)));
        assert!(same_body(&tag(b"one", &[], None), &a));
        let versions = Versions::default();
        for junk in [
            "",
            "\"\"",
            "\"x.y.z.w\"",
            "\"0.0.0.!!\"",
            "\"0.0.0.000\"",
            "*",
            "\"0.0\"",
        ] {
            assert!(!versions.vouches(junk, i64::MAX, None), "{junk}");
        }
        let forged = format!("\"0.{:08x}.0.\"", build());
        assert!(
            !versions.vouches(&forged, i64::MAX, None),
            "a tag naming no bucket"
        );
        let many: Vec<String> = (0..5000).map(|i| format!("article-{i}")).collect();
        assert!(
            !tag(b"", &many, made(1, None)).contains('.'),
            "too many buckets"
        );
        assert!(!tag(b"", &[], made(1, None)).contains('.'), "no keys");
    }
}
