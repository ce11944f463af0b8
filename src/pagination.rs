//! Keyset pagination: an opaque cursor carries the sort key of the last item served, so a deep
//! page costs what the first does and nothing is skipped or repeated between requests.

use base64::Engine;
use chrono::{DateTime, NaiveDateTime};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::ApiError;

const ENGINE: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub fn encode_cursor<K: Serialize>(key: &K) -> String {
    ENGINE.encode(serde_json::to_vec(key).unwrap_or_default())
}

pub fn decode_cursor<K: DeserializeOwned>(cursor: &str) -> Result<K, ApiError> {
    ENGINE
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| ApiError::invalid("cursor", "is not a cursor this API returned"))
}

/// A stored time as a cursor carries it: microseconds since the epoch.
pub fn micros(at: NaiveDateTime) -> i64 {
    at.and_utc().timestamp_micros()
}

/// The time a cursor carries, if it is one the API could have handed out (422 otherwise).
pub fn from_micros(us: i64) -> Result<NaiveDateTime, ApiError> {
    DateTime::from_timestamp_micros(us)
        .and_then(|t| crate::domain::stored_time("cursor", t).ok())
        .ok_or_else(|| ApiError::invalid("cursor", "is not a cursor this API returned"))
}

/// The cursor of a request, if it sent a non-empty one.
pub fn cursor<K: DeserializeOwned>(raw: Option<&str>) -> Result<Option<K>, ApiError> {
    raw.filter(|c| !c.is_empty()).map(decode_cursor).transpose()
}

/// The page size: `default` when absent, else within 1..=max.
pub fn limit(requested: Option<i64>, default: i64, max: i64) -> Result<i64, ApiError> {
    match requested {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::invalid("limit", format!("must be 1 to {max}"))),
    }
}

/// Splits one extra fetched row off a page: the rows to serve and whether more follow.
pub fn split_page<T>(mut rows: Vec<T>, limit: i64) -> (Vec<T>, bool) {
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    (rows, more)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = encode_cursor(&("2026-11-30T10:00:00Z", 42));
        let key: (String, i32) = decode_cursor(&cursor).unwrap();
        assert_eq!(key, ("2026-11-30T10:00:00Z".to_owned(), 42));
        assert!(decode_cursor::<(String, i32)>("not-a-cursor!").is_err());
        assert!(decode_cursor::<(String, i32)>(&encode_cursor(&7)).is_err());
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(limit(None, 20, 100).unwrap(), 20);
        assert_eq!(limit(Some(100), 20, 100).unwrap(), 100);
        assert!(limit(Some(0), 20, 100).is_err());
        assert!(limit(Some(101), 20, 100).is_err());
    }

    #[test]
    fn pages_split_off_the_probe_row() {
        assert_eq!(split_page(vec![1, 2, 3], 2), (vec![1, 2], true));
        assert_eq!(split_page(vec![1, 2], 2), (vec![1, 2], false));
    }
}
