//! The PostgreSQL half of the integration suite is compiled as ignored (and reported as such by
//! `cargo test`) unless NEWSROOM_TEST_POSTGRES_URL is set, and the photo library on S3 unless
//! NEWSROOM_TEST_S3_ENDPOINT is (an S3-compatible server); `.ci/run` always sets both.
//!
//! `NEWSROOM_BUILD_ID` names the code a server runs: a hash of its sources, migrations and
//! locked dependencies, the same for every node built from them. Public entity tags carry it
//! (`http_cache::validators`), so that a node never vouches for a representation another
//! version of the code made.
use std::hash::{Hash, Hasher};
use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(pg_tests)");
    println!("cargo::rerun-if-env-changed=NEWSROOM_TEST_POSTGRES_URL");
    if std::env::var_os("NEWSROOM_TEST_POSTGRES_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=pg_tests");
    }
    println!("cargo::rustc-check-cfg=cfg(s3_tests)");
    println!("cargo::rerun-if-env-changed=NEWSROOM_TEST_S3_ENDPOINT");
    if std::env::var_os("NEWSROOM_TEST_S3_ENDPOINT").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=s3_tests");
    }
    let mut hasher = std::hash::DefaultHasher::new();
    for input in ["src", "migrations", "Cargo.toml", "Cargo.lock"] {
        println!("cargo::rerun-if-changed={input}");
        hash_tree(Path::new(input), &mut hasher);
    }
    println!(
        "cargo::rustc-env=NEWSROOM_BUILD_ID={:08x}",
        hasher.finish() as u32
    );
}

/// Hashes the files under `path` (or the file itself) by name and contents, in name order.
fn hash_tree(path: &Path, hasher: &mut impl Hasher) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .map(|dir| dir.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        entries.sort();
        for entry in entries {
            hash_tree(&entry, hasher);
        }
    } else if let Ok(contents) = std::fs::read(path) {
        path.hash(hasher);
        contents.hash(hasher);
    }
}
