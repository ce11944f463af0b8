//! The PostgreSQL half of the integration suite is compiled as ignored (and reported as such by
//! `cargo test`) unless NEWSROOM_TEST_POSTGRES_URL is set; `.ci/run` always sets it.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(pg_tests)");
    println!("cargo::rerun-if-env-changed=NEWSROOM_TEST_POSTGRES_URL");
    if std::env::var_os("NEWSROOM_TEST_POSTGRES_URL").is_some_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=pg_tests");
    }
}
