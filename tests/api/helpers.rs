//! Spawns the real application on a random port with its own fresh database, and offers
//! request helpers.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};
use newsroom::config::{Config, CorsOrigins, DatabaseUrl, JwtConfig, MediaStore, Secret};
use newsroom::db::{self, DbConnection};
use newsroom::domain::{Email, Password, Role};
use newsroom::startup::Application;
use newsroom::users::{self, NewUser};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};

pub const JWT_SECRET: &str = "integration-test-secret-of-at-least-32-bytes";
pub const PASSWORD: &str = "correct horse battery staple";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A test database, removed when dropped.
pub enum TestDb {
    /// The folder is held so that it is removed with the database.
    Sqlite(#[allow(dead_code)] tempfile::TempDir, PathBuf),
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

impl TestDb {
    pub fn url(&self) -> DatabaseUrl {
        match self {
            TestDb::Sqlite(_, path) => DatabaseUrl::Sqlite(path.clone()),
            TestDb::Postgres { url, .. } => DatabaseUrl::Postgres(url.clone()),
        }
    }

    pub fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("newsroom.db");
                TestDb::Sqlite(dir, path)
            }
            Backend::Postgres => {
                let admin_url = std::env::var("NEWSROOM_TEST_POSTGRES_URL")
                    .expect("NEWSROOM_TEST_POSTGRES_URL must be set for the PostgreSQL suite");
                let template = template_database(&admin_url);
                let name = format!("newsroom_test_{}", random_suffix());
                let mut admin = PgConnection::establish(&admin_url).expect("connect to PostgreSQL");
                admin
                    .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
                    .expect("create the test database");
                let url = database_url(&admin_url, &name);
                TestDb::Postgres {
                    admin_url,
                    name,
                    url,
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres {
            admin_url, name, ..
        } = self
        {
            if let Ok(mut admin) = PgConnection::establish(admin_url) {
                let _ =
                    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

fn random_suffix() -> String {
    use rand::Rng as _;
    let mut rng = rand::rng();
    (0..12)
        .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
        .collect()
}

/// The URL of database `name` on the server of `admin_url`.
pub fn database_url(admin_url: &str, name: &str) -> String {
    let base = admin_url.split('?').next().unwrap_or(admin_url);
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    format!("{server}/{name}")
}

/// A migrated template database named after the migrations it holds, created once (under an
/// advisory lock, as test binaries may run side by side) and copied for each test.
fn template_database(admin_url: &str) -> String {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| {
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
            let mut entries: Vec<PathBuf> = walk(&dir);
            entries.sort();
            let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
            for path in entries {
                for byte in std::fs::read(&path).expect("read migration") {
                    hash = (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
                }
            }
            let name = format!("newsroom_template_{hash:016x}");
            let mut admin = PgConnection::establish(admin_url).expect("connect to PostgreSQL");
            admin
                .batch_execute("SELECT pg_advisory_lock(720431)")
                .unwrap();
            // `name` is ours: a fixed prefix and hex digits.
            let exists = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
                "EXISTS (SELECT 1 FROM pg_database WHERE datname = '{name}')"
            )))
            .get_result::<bool>(&mut admin)
            .unwrap();
            if !exists {
                // Templates of older migrations are of no further use.
                let stale: Vec<String> =
                    diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>(
                        r"datname FROM pg_database WHERE datname LIKE 'newsroom\_template\_%'",
                    ))
                    .load(&mut admin)
                    .unwrap();
                for old in stale {
                    admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {old} WITH (FORCE)"))
                        .unwrap();
                }
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .unwrap();
                newsroom::startup::migrate(&DatabaseUrl::Postgres(database_url(admin_url, &name)))
                    .expect("migrate the template database");
            }
            admin
                .batch_execute("SELECT pg_advisory_unlock(720431)")
                .unwrap();
            name
        })
        .clone()
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .expect("read migrations")
        .flatten()
        .flat_map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                walk(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

pub fn test_config(url: DatabaseUrl) -> Config {
    Config {
        database: url,
        bind: "127.0.0.1:0".parse().unwrap(),
        jwt: JwtConfig {
            secret: Secret::new(JWT_SECRET.as_bytes().to_vec()),
            issuer: "newsroom".into(),
            audience: "newsroom".into(),
            access_ttl: Duration::from_secs(900),
            refresh_ttl: Duration::from_secs(30 * 86_400),
        },
        pool_size: 4,
        cors_origins: CorsOrigins::None,
        body_limit: 1 << 20,
        cache_control: "public, max-age=60, stale-while-revalidate=300".into(),
        response_cache_bytes: 32 << 20,
        public_url: "https://news.example".into(),
        embed_hosts: newsroom::articles::html::DEFAULT_EMBED_HOSTS
            .map(String::from)
            .to_vec(),
        stream_max_clients: 1000,
        events_days: 30,
        // The tests' webhook receivers listen on loopback.
        webhook_allow_private: true,
        webhook_workers: 32,
        purge: None,
        // `spawn_app` gives each application a folder of its own.
        media_store: MediaStore::Folder(std::env::temp_dir().join("newsroom-test-media")),
        media_max_bytes: 25 << 20,
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: TestDb,
    /// Where the application keeps its photos.
    pub media: tempfile::TempDir,
}

/// A user made for a test, signed in.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: i32,
    pub email: String,
    pub token: String,
    pub refresh_token: String,
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_on_with(TestDb::create(backend), adjust).await
}

/// The application on an existing test database.
pub async fn spawn_on(db: TestDb) -> TestApp {
    spawn_on_with(db, |_| {}).await
}

async fn spawn_on_with(db: TestDb, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = test_config(db.url());
    let media = tempfile::tempdir().expect("a folder for photos");
    config.media_store = MediaStore::Folder(media.path().into());
    adjust(&mut config);
    let app = Application::build(config).expect("build the application");
    let port = app.port();
    tokio::spawn(app.run());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        client: client_from(None),
        db,
        media,
    }
}

/// A client that connects from `local` (another loopback address stands for another client).
pub fn client_from(local: Option<IpAddr>) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(local)
        .build()
        .unwrap()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self.client.request(method, self.url(path));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token).send().await.unwrap()
    }

    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Response {
        self.request(method, path, token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// A POST with no body (restores, for instance).
    pub async fn post(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::POST, path, token)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::DELETE, path, token)
            .send()
            .await
            .unwrap()
    }

    /// A direct connection to the test database.
    pub fn conn(&self) -> DbConnection {
        db::connect(&self.db.url()).unwrap()
    }

    /// Creates a user straight in the database (as `newsroom create-user` does) and signs in.
    pub async fn user(&self, role: Role) -> TestUser {
        let email = format!("{}-{}@newsroom.example", role, random_suffix());
        let new = NewUser {
            email: Email::parse(&email).unwrap(),
            name: format!("Test {role}"),
            role,
            password: Password::parse(PASSWORD.into()).unwrap(),
            bio: None,
        };
        let id = users::create_on(&mut self.conn(), new).unwrap().id;
        let session = self.login(&email, PASSWORD).await;
        TestUser {
            id,
            email,
            token: session["access_token"].as_str().unwrap().to_owned(),
            refresh_token: session["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn login(&self, email: &str, password: &str) -> Value {
        let response = self
            .send_json(
                Method::POST,
                "/api/v1/auth/login",
                None,
                &json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(response.status(), 200, "sign-in of {email} failed");
        response.json().await.unwrap()
    }
}

/// Asserts a problem+json response with `status`; returns the document.
pub async fn assert_problem(response: Response, status: u16) -> Value {
    assert_eq!(
        response.status(),
        status,
        "unexpected status for {}",
        response.url()
    );
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status);
    for field in ["type", "title", "detail"] {
        assert!(body[field].is_string(), "problem without {field}: {body}");
    }
    body
}

/// The fields named in a validation problem.
pub fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

impl TestApp {
    /// POSTs `body` to `path` and returns the created resource; panics unless 201.
    pub async fn create(&self, path: &str, token: &str, body: Value) -> Value {
        let response = self.send_json(Method::POST, path, Some(token), &body).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 201, "POST {path} {body}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// A topic named `name` under `parent`.
    pub async fn topic(&self, token: &str, name: &str, parent: Option<i64>) -> Value {
        self.create(
            "/api/v1/topics",
            token,
            json!({"name": name, "parent_id": parent}),
        )
        .await
    }

    /// A published article with these fields added.
    pub async fn published(&self, token: &str, title: &str, extra: Value) -> Value {
        let mut body =
            json!({"title": title, "body": format!("<p>{title}</p>"), "status": "published"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        self.create("/api/v1/articles", token, body).await
    }

    /// The ids of every page of `path` (which has a query string), following cursors.
    pub async fn all_ids(&self, path: &str, token: Option<&str>) -> Vec<i64> {
        self.ids_from(path, None, token).await
    }

    /// The ids of the pages of `path` from `cursor` on.
    pub async fn ids_from(
        &self,
        path: &str,
        cursor: Option<&str>,
        token: Option<&str>,
    ) -> Vec<i64> {
        let mut ids = Vec::new();
        let mut next = match cursor {
            Some(cursor) => format!("{path}&cursor={cursor}"),
            None => path.to_owned(),
        };
        loop {
            let response = self.get(&next, token).await;
            assert_eq!(response.status(), 200, "{next}");
            let page: Value = response.json().await.unwrap();
            ids.extend(
                page["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a["id"].as_i64().unwrap()),
            );
            match page["next_cursor"].as_str() {
                Some(cursor) => next = format!("{path}&cursor={cursor}"),
                None => return ids,
            }
        }
    }
}

/// The ids of a page's items.
pub fn ids(page: &Value) -> Vec<i64> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect()
}

/// Sleeps until a little after `at`.
pub async fn sleep_past(at: chrono::DateTime<chrono::Utc>) {
    let wait = (at - chrono::Utc::now() + chrono::Duration::milliseconds(300))
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(wait).await;
}

/// A server process of the `newsroom` binary on a test's database: another node of a
/// multi-process deployment. Killed when dropped.
pub struct ServerProcess {
    child: std::process::Child,
    pub address: String,
}

impl ServerProcess {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Its resident memory in bytes, from /proc.
    pub fn rss_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("read the process status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .expect("VmRSS in the process status")
            * 1024
    }

    /// Kills the process at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

impl TestDb {
    /// The database as `DATABASE_URL` names it.
    pub fn url_string(&self) -> String {
        match self {
            TestDb::Sqlite(_, path) => path.display().to_string(),
            TestDb::Postgres { url, .. } => url.clone(),
        }
    }
}

impl TestApp {
    /// Starts another server process on this test's database, with `env` on top of the
    /// test settings; waits until it serves.
    pub fn process_with(&self, env: &[(&str, &str)]) -> ServerProcess {
        use std::io::BufRead;
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_newsroom"));
        command
            .arg("serve")
            .env("DATABASE_URL", self.db.url_string())
            .env("NEWSROOM_JWT_SECRET", JWT_SECRET)
            .env("NEWSROOM_BIND", "127.0.0.1:0")
            .env("NEWSROOM_DB_POOL_SIZE", "4")
            .env("NEWSROOM_WEBHOOK_ALLOW_PRIVATE", "true")
            .env("NEWSROOM_MEDIA_STORE", self.media.path())
            .env("NEWSROOM_PUBLIC_URL", "https://news.example")
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start a server process");
        let stderr = child.stderr.take().expect("its standard error");
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut port_tx = Some(port_tx);
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if let Some(port) = line
                    .split("serving on port ")
                    .nth(1)
                    .and_then(|rest| rest.split(';').next())
                {
                    if let Some(tx) = port_tx.take() {
                        let _ = tx.send(port.trim().to_owned());
                    }
                } else if line.contains("ERROR") || line.contains("panicked") {
                    eprintln!("server process: {line}");
                }
            }
        });
        let port = port_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the server process did not start");
        ServerProcess {
            child,
            address: format!("http://127.0.0.1:{port}"),
        }
    }

    pub fn process(&self) -> ServerProcess {
        self.process_with(&[])
    }
}

/// A small deterministic generator, so that a failure can be replayed.
pub struct Dice(pub u64);

impl Dice {
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}
