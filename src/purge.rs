//! Purging downstream caches (a CDN, Varnish) by surrogate key, from the event log: the keys
//! each public event invalidates go out as Varnish `xkey-purge` requests, Fastly purges by
//! surrogate key or Cloudflare purges by tag (`NEWSROOM_PURGE`). One server process purges at
//! a time (a lease in `site_state`, taken in a write), reading the log after the last batch it
//! purged; a failed purge is retried with the webhooks' back-off. Writes never wait for it.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::changes::{self, Tx};
use crate::config::PurgeTarget;
use crate::db::schema::{events, site_state};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::outbound::{self, Outbound, Reply};
use crate::state::AppState;

/// Events read into one batch at most.
const BATCH: i64 = 500;
/// How long a process may hold the purge before another may take it over.
const LEASE: chrono::Duration = chrono::Duration::seconds(60);
/// Keys per request: Fastly takes 256, Cloudflare 30 tags; Varnish a header of that size.
fn keys_per_request(target: &PurgeTarget) -> usize {
    match target {
        PurgeTarget::Cloudflare { .. } => 30,
        PurgeTarget::Varnish(_) | PurgeTarget::Fastly { .. } => 256,
    }
}

/// The requests that purge `keys`.
pub fn requests(
    outbound: &Outbound,
    target: &PurgeTarget,
    keys: &[String],
) -> Vec<reqwest::RequestBuilder> {
    keys.chunks(keys_per_request(target))
        .map(|chunk| match target {
            PurgeTarget::Varnish(url) => outbound
                .request(
                    reqwest::Method::from_bytes(b"PURGE").unwrap_or(reqwest::Method::POST),
                    url,
                )
                .header("xkey-purge", chunk.join(" ")),
            PurgeTarget::Fastly { service, token } => outbound
                .request(
                    reqwest::Method::POST,
                    &format!("https://api.fastly.com/service/{service}/purge"),
                )
                .header("Fastly-Key", token)
                .header("Surrogate-Key", chunk.join(" ")),
            PurgeTarget::Cloudflare { zone, token } => outbound
                .request(
                    reqwest::Method::POST,
                    &format!("https://api.cloudflare.com/client/v4/zones/{zone}/purge_cache"),
                )
                .bearer_auth(token)
                .json(&serde_json::json!({ "tags": chunk })),
        })
        .collect()
}

/// A batch to purge: the last seq it covers and its keys.
struct Batch {
    through: i64,
    keys: Vec<String>,
}

/// Whether there may be something to purge now: events not yet purged, and no other process
/// holding the purge or a back-off running (a read, so idle processes write nothing).
fn behind(conn: &mut DbConnection) -> Result<bool, ApiError> {
    let now = crate::db::now();
    type State = (i64, i64, Option<NaiveDateTime>, Option<NaiveDateTime>);
    let (through, latest, lease, retry_at): State = site_state::table
        .find(1)
        .select((
            site_state::purges_through,
            site_state::generation,
            site_state::purge_lease_until,
            site_state::purge_retry_at,
        ))
        .first(conn)?;
    Ok(through < latest
        && lease.is_none_or(|until| until <= now)
        && retry_at.is_none_or(|at| at <= now))
}

/// Takes the next batch, unless another process holds the purge or a retry is not yet due.
fn claim(tx: &mut Tx) -> Result<Option<Batch>, ApiError> {
    let now = tx.now();
    let conn = tx.conn();
    let (through, lease, retry_at): (i64, Option<NaiveDateTime>, Option<NaiveDateTime>) =
        site_state::table
            .find(1)
            .select((
                site_state::purges_through,
                site_state::purge_lease_until,
                site_state::purge_retry_at,
            ))
            .first(conn)?;
    if lease.is_some_and(|until| until > now) || retry_at.is_some_and(|at| at > now) {
        return Ok(None);
    }
    let rows: Vec<(i64, Option<String>)> = events::table
        .filter(events::seq.gt(through))
        .order(events::seq.asc())
        .limit(BATCH)
        .select((events::seq, events::purge_keys))
        .load(conn)?;
    let Some(last) = rows.last().map(|(seq, _)| *seq) else {
        return Ok(None);
    };
    let mut keys: Vec<String> = rows
        .iter()
        .filter_map(|(_, keys)| keys.as_deref())
        .flat_map(str::split_whitespace)
        .map(str::to_owned)
        .collect();
    keys.sort();
    keys.dedup();
    if keys.is_empty() {
        diesel::update(site_state::table.find(1))
            .set(site_state::purges_through.eq(last))
            .execute(conn)?;
    } else {
        diesel::update(site_state::table.find(1))
            .set(site_state::purge_lease_until.eq(Some(now + LEASE)))
            .execute(conn)?;
    }
    Ok(Some(Batch {
        through: last,
        keys,
    }))
}

/// Records the outcome of a batch: on success the log is purged through it; on failure it is
/// tried again after the back-off.
fn settle(tx: &mut Tx, through: i64, purged: bool) -> Result<(), ApiError> {
    let now = tx.now();
    let conn = tx.conn();
    if purged {
        diesel::update(site_state::table.find(1))
            .set((
                site_state::purges_through.eq(through),
                site_state::purge_lease_until.eq(None::<NaiveDateTime>),
                site_state::purge_failures.eq(0),
                site_state::purge_retry_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        return Ok(());
    }
    let failures: i32 = site_state::table
        .find(1)
        .select(site_state::purge_failures)
        .first(conn)?;
    let failures = failures + 1;
    // Past the schedule, keep trying every 10 hours: a purge is never given up.
    let wait = outbound::retry_after(u32::try_from(failures).unwrap_or(u32::MAX))
        .unwrap_or(Duration::from_secs(10 * 3600));
    let retry_at = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(10));
    diesel::update(site_state::table.find(1))
        .set((
            site_state::purge_lease_until.eq(None::<NaiveDateTime>),
            site_state::purge_failures.eq(failures),
            site_state::purge_retry_at.eq(Some(retry_at)),
        ))
        .execute(conn)?;
    Ok(())
}

async fn purge(outbound: &Outbound, target: &PurgeTarget, keys: &[String]) -> bool {
    for request in requests(outbound, target, keys) {
        let reply: Reply = outbound.send(request).await;
        if !reply.succeeded() {
            log::warn!(
                "purging {} keys failed: {}",
                keys.len(),
                reply.error.as_deref().unwrap_or("no answer")
            );
            return false;
        }
    }
    true
}

/// How long after a purge its keys are purged once more: another server process may not yet
/// have dropped its own cached copy when the CDN first asks again (it learns of the change
/// from the log a little later), and the CDN would keep that stale copy.
const REPURGE_AFTER: Duration = Duration::from_secs(2);

/// Purges for as long as the process serves.
pub async fn run(state: actix_web::web::Data<AppState>, target: PurgeTarget) {
    // The target is the operator's own (often Varnish beside the server): private addresses
    // are fine here, unlike for webhooks.
    let outbound = match Outbound::new(true) {
        Ok(outbound) => outbound,
        Err(e) => {
            log::error!("cannot purge downstream caches: {e}");
            return;
        }
    };
    let mut seqs = state.watch.seqs();
    loop {
        if !crate::db::run(&state.pool, behind).await.unwrap_or(true) {
            let _ = tokio::time::timeout(Duration::from_secs(1), seqs.changed()).await;
            continue;
        }
        match changes::write(&state, None, claim).await {
            Ok(Some(Batch { through, keys })) if !keys.is_empty() => {
                let purged = purge(&outbound, &target, &keys).await;
                if let Err(e) =
                    changes::write(&state, None, move |tx| settle(tx, through, purged)).await
                {
                    log::warn!("recording a purge failed: {e}");
                }
                if purged {
                    let (outbound, target) = (outbound.clone(), target.clone());
                    tokio::spawn(async move {
                        tokio::time::sleep(REPURGE_AFTER).await;
                        purge(&outbound, &target, &keys).await;
                    });
                }
                continue;
            }
            Ok(Some(_)) => continue,
            Ok(None) => {}
            Err(e) => log::warn!("reading what to purge failed: {e}"),
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), seqs.changed()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_target_gets_its_own_request() {
        let outbound = Outbound::new(false).unwrap();
        let keys: Vec<String> = (0..40).map(|i| format!("article-{i}")).collect();
        let varnish = PurgeTarget::Varnish("http://127.0.0.1:6081/".into());
        let built: Vec<reqwest::Request> = requests(&outbound, &varnish, &keys)
            .into_iter()
            .map(|r| r.build().unwrap())
            .collect();
        assert_eq!(built.len(), 1);
        assert_eq!(built[0].method().as_str(), "PURGE");
        assert!(built[0].headers()["xkey-purge"]
            .to_str()
            .unwrap()
            .starts_with("article-0 article-1 "));
        let fastly = PurgeTarget::Fastly {
            service: "SU1Z0isxPaozGVKXdv0eY".into(),
            token: "t".into(),
        };
        let request = requests(&outbound, &fastly, &keys)[0]
            .try_clone()
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(
            request.url().as_str(),
            "https://api.fastly.com/service/SU1Z0isxPaozGVKXdv0eY/purge"
        );
        assert_eq!(request.headers()["fastly-key"], "t");
        let cloudflare = PurgeTarget::Cloudflare {
            zone: "023e105f4ecef8ad9ca31a8372d0c353".into(),
            token: "t".into(),
        };
        let built = requests(&outbound, &cloudflare, &keys);
        assert_eq!(built.len(), 2, "30 tags a request");
        let request = built[1].try_clone().unwrap().build().unwrap();
        assert_eq!(request.headers()["authorization"], "Bearer t");
        let body: serde_json::Value =
            serde_json::from_slice(request.body().unwrap().as_bytes().unwrap()).unwrap();
        assert_eq!(body["tags"].as_array().unwrap().len(), 10);
    }
}
