//! Settings from the environment. Every variable is documented in the README; an invalid value
//! stops the process with one line naming the variable and the reason.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A configuration error: which variable, and why it was refused.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {reason}")]
pub struct ConfigError {
    pub var: &'static str,
    pub reason: String,
}

impl ConfigError {
    fn new(var: &'static str, reason: impl Into<String>) -> Self {
        Self {
            var,
            reason: reason.into(),
        }
    }
}

/// Where the data lives: `postgres://` URLs select PostgreSQL, anything else is a SQLite file.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

pub const DEFAULT_SQLITE_PATH: &str = "./data/newsroom.db";

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let raw = raw.trim();
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_owned()));
        }
        let path = raw.strip_prefix("sqlite://").unwrap_or(raw);
        if path.is_empty() {
            return Err(ConfigError::new(
                "DATABASE_URL",
                "the SQLite file path is empty",
            ));
        }
        if path.contains("://") {
            return Err(ConfigError::new(
                "DATABASE_URL",
                "unsupported scheme: use postgres://... or a SQLite file path",
            ));
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    /// Creates the folder a SQLite file lives in.
    pub fn prepare(&self) -> Result<(), ConfigError> {
        if let Self::Sqlite(path) = self {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    ConfigError::new(
                        "DATABASE_URL",
                        format!("cannot create folder {}: {e}", dir.display()),
                    )
                })?;
            }
        }
        Ok(())
    }
}

/// Never prints the password of a PostgreSQL URL.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Postgres(url) => {
                let shown = match (url.find("://"), url.rfind('@')) {
                    (Some(s), Some(at)) if at > s => format!("postgres://***@{}", &url[at + 1..]),
                    _ => url.clone(),
                };
                f.write_str(&shown)
            }
            Self::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
        }
    }
}

/// A secret that never shows in logs or debug output.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

pub const MIN_JWT_SECRET_LEN: usize = 32;

#[derive(Clone, Debug)]
pub struct JwtConfig {
    pub secret: Secret,
    pub issuer: String,
    pub audience: String,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CorsOrigins {
    /// No cross-origin access.
    None,
    /// Any origin may read public content (`*`).
    Any,
    List(Vec<String>),
}

#[derive(Clone, Debug)]
pub struct Config {
    pub database: DatabaseUrl,
    pub bind: SocketAddr,
    pub jwt: JwtConfig,
    pub pool_size: u32,
    pub cors_origins: CorsOrigins,
    pub body_limit: usize,
    /// `Cache-Control` of public reads.
    pub cache_control: String,
    /// Bytes of public response bodies kept in memory; 0 turns the response cache off.
    pub response_cache_bytes: usize,
    /// The site's public base URL (no trailing slash), for links in feeds.
    pub public_url: String,
    /// Hosts whose `https:` iframes article bodies may embed.
    pub embed_hosts: Vec<String>,
    /// The most live event streams served at once.
    pub stream_max_clients: usize,
    /// How many days events are kept.
    pub events_days: i64,
    /// Whether webhooks may reach private addresses.
    pub webhook_allow_private: bool,
    /// Webhook attempts this process makes at once; 0: it delivers none (others do).
    pub webhook_workers: usize,
    /// Where downstream caches are purged by key, if anywhere.
    pub purge: Option<PurgeTarget>,
    /// Where the photo library keeps its files.
    pub media_store: MediaStore,
    /// The largest upload taken, in bytes.
    pub media_max_bytes: usize,
}

/// Where the photo library keeps its files (`NEWSROOM_MEDIA_STORE`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaStore {
    /// A folder of this process's machine (default `./data/media`, created).
    Folder(PathBuf),
    /// `s3://bucket/prefix`: an S3 bucket (or an S3-compatible server at `endpoint`) that
    /// several server processes share; credentials from the usual AWS variables.
    S3 {
        bucket: String,
        prefix: String,
        endpoint: Option<String>,
        region: String,
    },
}

/// The folder photos are kept in by default.
pub const DEFAULT_MEDIA_FOLDER: &str = "./data/media";

/// A downstream cache to purge by surrogate key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PurgeTarget {
    /// An HTTP `PURGE` with an `xkey-purge` header to this URL (Varnish with vmod xkey).
    Varnish(String),
    /// Fastly's purge by surrogate key, for this service.
    Fastly { service: String, token: String },
    /// Cloudflare's purge by cache tag, for this zone.
    Cloudflare { zone: String, token: String },
}

/// Reads variables through `lookup`, so tests need not touch the process environment.
pub struct Env<F: Fn(&str) -> Option<String>>(pub F);

impl<F: Fn(&str) -> Option<String>> Env<F> {
    fn get(&self, var: &str) -> Option<String> {
        (self.0)(var).filter(|v| !v.trim().is_empty())
    }

    fn parse_number<T>(
        &self,
        var: &'static str,
        default: T,
        min: T,
        max: T,
    ) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
    {
        let Some(raw) = self.get(var) else {
            return Ok(default);
        };
        let value: T = raw
            .trim()
            .parse()
            .map_err(|_| ConfigError::new(var, format!("`{raw}` is not a whole number")))?;
        if value < min || value > max {
            return Err(ConfigError::new(
                var,
                format!("{value} is out of range ({min} to {max})"),
            ));
        }
        Ok(value)
    }

    /// How many days events are kept (`newsroom purge-events`, and the server once a day).
    pub fn events_days(&self) -> Result<i64, ConfigError> {
        self.parse_number("NEWSROOM_EVENTS_DAYS", 30, 1, 3650)
    }

    /// How long trashed articles stay before `newsroom purge-trash` removes them.
    pub fn trash_days(&self) -> Result<i64, ConfigError> {
        self.parse_number("NEWSROOM_TRASH_DAYS", 30, 0, 3650)
    }

    /// The site's public base URL, no trailing slash (`NEWSROOM_PUBLIC_URL`).
    pub fn public_url(&self) -> Result<String, ConfigError> {
        let public_url = self
            .get("NEWSROOM_PUBLIC_URL")
            .unwrap_or_else(|| "http://localhost:8080".into())
            .trim()
            .trim_end_matches('/')
            .to_owned();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::new(
                "NEWSROOM_PUBLIC_URL",
                format!("`{public_url}` is not an http(s) URL"),
            ));
        }
        Ok(public_url)
    }

    fn media_store(&self) -> Result<MediaStore, ConfigError> {
        const VAR: &str = "NEWSROOM_MEDIA_STORE";
        match self.get(VAR) {
            None => Ok(MediaStore::Folder(PathBuf::from(DEFAULT_MEDIA_FOLDER))),
            Some(raw) => match raw.trim().split_once("://") {
                None => Ok(MediaStore::Folder(PathBuf::from(raw.trim()))),
                Some(("s3", rest)) => {
                    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                    if bucket.is_empty() {
                        return Err(ConfigError::new(VAR, "`s3://` needs a bucket name"));
                    }
                    let endpoint = self.get("NEWSROOM_S3_ENDPOINT");
                    if let Some(e) = &endpoint {
                        if url::Url::parse(e).map_or(true, |u| !u.scheme().starts_with("http")) {
                            return Err(ConfigError::new(
                                "NEWSROOM_S3_ENDPOINT",
                                format!("`{e}` is not an http(s) URL"),
                            ));
                        }
                    }
                    Ok(MediaStore::S3 {
                        bucket: bucket.to_owned(),
                        prefix: prefix.trim_matches('/').to_owned(),
                        endpoint,
                        region: self
                            .get("NEWSROOM_S3_REGION")
                            .unwrap_or_else(|| "us-east-1".into()),
                    })
                }
                Some(_) => Err(ConfigError::new(
                    VAR,
                    format!("`{raw}` is neither a folder nor s3://bucket/prefix"),
                )),
            },
        }
    }

    pub fn database(&self) -> Result<DatabaseUrl, ConfigError> {
        let db = match self.get("DATABASE_URL") {
            Some(raw) => DatabaseUrl::parse(&raw)?,
            None => DatabaseUrl::Sqlite(PathBuf::from(DEFAULT_SQLITE_PATH)),
        };
        db.prepare()?;
        Ok(db)
    }

    fn jwt_secret(&self, database: &DatabaseUrl) -> Result<Secret, ConfigError> {
        const VAR: &str = "NEWSROOM_JWT_SECRET";
        let secret = match (self.get(VAR), database) {
            (Some(value), _) => value.into_bytes(),
            (None, DatabaseUrl::Sqlite(path)) => {
                let dir = path.parent().unwrap_or_else(|| Path::new("."));
                load_or_create_secret(&dir.join("jwt-secret"))
                    .map_err(|reason| ConfigError::new(VAR, reason))?
            }
            (None, DatabaseUrl::Postgres(_)) => {
                return Err(ConfigError::new(
                    VAR,
                    "required when DATABASE_URL is PostgreSQL",
                ))
            }
        };
        if secret.len() < MIN_JWT_SECRET_LEN {
            return Err(ConfigError::new(
                VAR,
                format!("must be at least {MIN_JWT_SECRET_LEN} bytes long"),
            ));
        }
        Ok(Secret(secret))
    }

    pub fn config(&self) -> Result<Config, ConfigError> {
        let database = self.database()?;
        let bind_raw = self
            .get("NEWSROOM_BIND")
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let bind = bind_raw.trim().parse().map_err(|_| {
            ConfigError::new(
                "NEWSROOM_BIND",
                format!("`{bind_raw}` is not an address:port"),
            )
        })?;
        // Two connections per core (at least 4): more only queue for the cores, holding
        // memory (bench/RESULTS.md: 4 against 8 on two cores, 1.7x the mixed workload's
        // throughput and 16 MB less peak RSS).
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let default_pool = u32::try_from(2 * cores).unwrap_or(u32::MAX).clamp(4, 64);
        let pool_size = self.parse_number("NEWSROOM_DB_POOL_SIZE", default_pool, 1, 256)?;
        // 4 MiB: an article body of the most characters allowed fits however it is encoded.
        let body_limit = self.parse_number("NEWSROOM_BODY_LIMIT", 4usize << 20, 1024, 64 << 20)?;
        let cors_origins = self.cors_origins()?;
        let embed_hosts = self.embed_hosts()?;
        let stream_max_clients =
            self.parse_number("NEWSROOM_STREAM_MAX_CLIENTS", 1000usize, 1, 100_000)?;
        let events_days = self.events_days()?;
        let webhook_allow_private = self.flag("NEWSROOM_WEBHOOK_ALLOW_PRIVATE")?;
        let webhook_workers = self.parse_number("NEWSROOM_WEBHOOK_WORKERS", 32usize, 0, 1024)?;
        let purge = self.purge()?;
        let media_store = self.media_store()?;
        let media_max_bytes = self.parse_number("NEWSROOM_MEDIA_MAX_MB", 25usize, 1, 1024)? << 20;
        let jwt = JwtConfig {
            issuer: self
                .get("NEWSROOM_JWT_ISSUER")
                .unwrap_or_else(|| "newsroom".into()),
            audience: self
                .get("NEWSROOM_JWT_AUDIENCE")
                .unwrap_or_else(|| "newsroom".into()),
            access_ttl: Duration::from_secs(self.parse_number(
                "NEWSROOM_ACCESS_TOKEN_TTL",
                900,
                10,
                86_400,
            )?),
            refresh_ttl: Duration::from_secs(
                self.parse_number("NEWSROOM_REFRESH_TOKEN_DAYS", 30u64, 1, 365)? * 86_400,
            ),
            // Last: in SQLite mode this may write a generated secret.
            secret: self.jwt_secret(&database)?,
        };
        let cache_control = self
            .get("NEWSROOM_CACHE_CONTROL")
            .unwrap_or_else(|| "public, max-age=60, stale-while-revalidate=300".into());
        if actix_web::http::header::HeaderValue::from_str(&cache_control).is_err() {
            return Err(ConfigError::new(
                "NEWSROOM_CACHE_CONTROL",
                "is not a valid header value",
            ));
        }
        let response_cache_bytes =
            self.parse_number("NEWSROOM_RESPONSE_CACHE_MB", 32usize, 0, 4096)? << 20;
        let public_url = self.public_url()?;
        Ok(Config {
            database,
            bind,
            jwt,
            pool_size,
            cors_origins,
            body_limit,
            cache_control,
            response_cache_bytes,
            public_url,
            embed_hosts,
            stream_max_clients,
            events_days,
            webhook_allow_private,
            webhook_workers,
            purge,
            media_store,
            media_max_bytes,
        })
    }

    fn flag(&self, var: &'static str) -> Result<bool, ConfigError> {
        match self
            .get(var)
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("false" | "0" | "no") => Ok(false),
            Some("true" | "1" | "yes") => Ok(true),
            Some(other) => Err(ConfigError::new(
                var,
                format!("`{other}` is not true or false"),
            )),
        }
    }

    /// `NEWSROOM_PURGE` (`varnish:<url>`, `fastly:<service id>`, `cloudflare:<zone id>`), with
    /// `NEWSROOM_PURGE_TOKEN` for the two services.
    fn purge(&self) -> Result<Option<PurgeTarget>, ConfigError> {
        const VAR: &str = "NEWSROOM_PURGE";
        let Some(raw) = self.get(VAR) else {
            return Ok(None);
        };
        let (kind, target) = raw.trim().split_once(':').ok_or_else(|| {
            ConfigError::new(
                VAR,
                "must be varnish:<url>, fastly:<service id> or cloudflare:<zone id>",
            )
        })?;
        let token = || {
            self.get("NEWSROOM_PURGE_TOKEN").ok_or_else(|| {
                ConfigError::new("NEWSROOM_PURGE_TOKEN", format!("required for {kind}"))
            })
        };
        let id = |what: &str| {
            if !target.is_empty() && target.bytes().all(|b| b.is_ascii_alphanumeric()) {
                Ok(target.to_owned())
            } else {
                Err(ConfigError::new(VAR, format!("`{target}` is not a {what}")))
            }
        };
        match kind {
            "varnish" => {
                let valid = url::Url::parse(target)
                    .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
                if !valid {
                    return Err(ConfigError::new(
                        VAR,
                        format!("`{target}` is not an http(s) URL"),
                    ));
                }
                Ok(Some(PurgeTarget::Varnish(target.to_owned())))
            }
            "fastly" => Ok(Some(PurgeTarget::Fastly {
                service: id("Fastly service id")?,
                token: token()?,
            })),
            "cloudflare" => Ok(Some(PurgeTarget::Cloudflare {
                zone: id("Cloudflare zone id")?,
                token: token()?,
            })),
            other => Err(ConfigError::new(
                VAR,
                format!("`{other}` is not varnish, fastly or cloudflare"),
            )),
        }
    }

    /// `NEWSROOM_EMBED_HOSTS`: comma-separated host names, or `none`.
    fn embed_hosts(&self) -> Result<Vec<String>, ConfigError> {
        const VAR: &str = "NEWSROOM_EMBED_HOSTS";
        let Some(raw) = self.get(VAR) else {
            return Ok(crate::articles::html::DEFAULT_EMBED_HOSTS
                .map(String::from)
                .to_vec());
        };
        if raw.trim().eq_ignore_ascii_case("none") {
            return Ok(Vec::new());
        }
        raw.split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .map(|host| {
                let valid = host.len() <= 253
                    && host.split('.').all(|label| {
                        (1..=63).contains(&label.len())
                            && label
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                            && !label.starts_with('-')
                            && !label.ends_with('-')
                    });
                if valid {
                    Ok(host)
                } else {
                    Err(ConfigError::new(
                        VAR,
                        format!("`{host}` is not a host name such as www.youtube.com"),
                    ))
                }
            })
            .collect()
    }

    fn cors_origins(&self) -> Result<CorsOrigins, ConfigError> {
        let Some(raw) = self.get("NEWSROOM_CORS_ORIGINS") else {
            return Ok(CorsOrigins::None);
        };
        let origins: Vec<String> = raw
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        if origins.iter().any(|o| o == "*") {
            return if origins.len() == 1 {
                Ok(CorsOrigins::Any)
            } else {
                Err(ConfigError::new(
                    "NEWSROOM_CORS_ORIGINS",
                    "`*` cannot be combined with other origins",
                ))
            };
        }
        for origin in &origins {
            if !is_origin(origin) {
                return Err(ConfigError::new(
                    "NEWSROOM_CORS_ORIGINS",
                    format!(
                        "`{origin}` is not an origin such as https://www.example.com \
                         (ASCII only: write international names in punycode)"
                    ),
                ));
            }
        }
        Ok(CorsOrigins::List(origins))
    }
}

/// A web origin as browsers send it: `http(s)://host[:port]`, in ASCII, nothing else.
fn is_origin(origin: &str) -> bool {
    if !origin.is_ascii() || origin.chars().any(|c| c.is_ascii_control()) {
        return false;
    }
    url::Url::parse(origin).is_ok_and(|url| {
        matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some_and(|h| !h.is_empty())
            && url.username().is_empty()
            && url.password().is_none()
            && url.path() == "/"
            && url.query().is_none()
            && url.fragment().is_none()
            && url.origin().ascii_serialization() == origin
    })
}

/// Reads the process environment.
pub fn from_env() -> Env<impl Fn(&str) -> Option<String>> {
    Env(|var: &str| std::env::var(var).ok())
}

/// The SQLite default mode keeps a generated secret beside the database, so a first run needs
/// no set-up and tokens survive restarts.
fn load_or_create_secret(path: &Path) -> Result<Vec<u8>, String> {
    use base64::Engine;
    if let Ok(existing) = std::fs::read_to_string(path) {
        return Ok(existing.trim().as_bytes().to_vec());
    }
    let mut bytes = [0u8; 48];
    rand::fill(&mut bytes);
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    write_private(path, &encoded)
        .map_err(|e| format!("cannot store a generated secret at {}: {e}", path.display()))?;
    log::info!("generated a JWT secret at {}", path.display());
    Ok(encoded.into_bytes())
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Env(move |k: &str| map.get(k).cloned())
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn the_media_store_is_a_folder_or_a_bucket() {
        assert_eq!(
            env(&[]).media_store().unwrap(),
            MediaStore::Folder(DEFAULT_MEDIA_FOLDER.into())
        );
        assert_eq!(
            env(&[("NEWSROOM_MEDIA_STORE", "/srv/photos")])
                .media_store()
                .unwrap(),
            MediaStore::Folder("/srv/photos".into())
        );
        let s3 = env(&[
            ("NEWSROOM_MEDIA_STORE", "s3://news-photos/prod/media/"),
            ("NEWSROOM_S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("NEWSROOM_S3_REGION", "eu-central-1"),
        ]);
        assert_eq!(
            s3.media_store().unwrap(),
            MediaStore::S3 {
                bucket: "news-photos".into(),
                prefix: "prod/media".into(),
                endpoint: Some("http://127.0.0.1:9000".into()),
                region: "eu-central-1".into(),
            }
        );
        for (store, endpoint, var) in [
            ("s3://", "", "NEWSROOM_MEDIA_STORE"),
            ("gs://bucket", "", "NEWSROOM_MEDIA_STORE"),
            ("s3://bucket", "ftp://x", "NEWSROOM_S3_ENDPOINT"),
        ] {
            let vars = [
                ("NEWSROOM_MEDIA_STORE", store),
                ("NEWSROOM_S3_ENDPOINT", endpoint),
            ];
            assert_eq!(env(&vars).media_store().unwrap_err().var, var, "{store}");
        }
    }

    #[test]
    fn database_urls_select_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap(),
            DatabaseUrl::Postgres("postgres://u@h/db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://x/y.db").unwrap(),
            DatabaseUrl::Sqlite("x/y.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("y.db").unwrap(),
            DatabaseUrl::Sqlite("y.db".into())
        );
        assert!(DatabaseUrl::parse("mysql://h/db").is_err());
    }

    #[test]
    fn debug_hides_the_database_password() {
        let url = DatabaseUrl::parse("postgres://u:hunter2@h/db").unwrap();
        assert_eq!(format!("{url:?}"), "postgres://***@h/db");
    }

    #[test]
    fn postgres_requires_a_jwt_secret() {
        let err = env(&[("DATABASE_URL", "postgres://h/db")])
            .config()
            .unwrap_err();
        assert_eq!(err.var, "NEWSROOM_JWT_SECRET");
    }

    #[test]
    fn short_secrets_are_refused() {
        let err = env(&[
            ("DATABASE_URL", "postgres://h/db"),
            ("NEWSROOM_JWT_SECRET", "short"),
        ])
        .config()
        .unwrap_err();
        assert_eq!(err.var, "NEWSROOM_JWT_SECRET");
        assert!(err.reason.contains("32"));
    }

    #[test]
    fn sqlite_mode_generates_and_keeps_a_secret() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("sub/newsroom.db");
        let vars = env(&[("DATABASE_URL", db.to_str().unwrap())]);
        let first = vars.config().unwrap().jwt.secret;
        let second = vars.config().unwrap().jwt.secret;
        assert!(first.expose().len() >= MIN_JWT_SECRET_LEN);
        assert_eq!(first.expose(), second.expose());
    }

    #[test]
    fn invalid_values_name_their_variable() {
        let base = [
            ("DATABASE_URL", "postgres://h/db"),
            ("NEWSROOM_JWT_SECRET", SECRET),
        ];
        for (var, value) in [
            ("NEWSROOM_BIND", "localhost"),
            ("NEWSROOM_DB_POOL_SIZE", "0"),
            ("NEWSROOM_DB_POOL_SIZE", "many"),
            ("NEWSROOM_ACCESS_TOKEN_TTL", "-5"),
            ("NEWSROOM_CORS_ORIGINS", "*,https://a.example"),
            ("NEWSROOM_CORS_ORIGINS", "example.com"),
            ("NEWSROOM_CORS_ORIGINS", "https://пример.рф"),
            (
                "NEWSROOM_CORS_ORIGINS",
                "https://ex\u{e9}mple.com,https://a.example",
            ),
            ("NEWSROOM_CORS_ORIGINS", "https://a.example/path"),
            ("NEWSROOM_CORS_ORIGINS", "https://user@a.example"),
            ("NEWSROOM_WEBHOOK_ALLOW_PRIVATE", "perhaps"),
            ("NEWSROOM_PURGE", "squid:http://cache"),
            ("NEWSROOM_PURGE", "varnish:cache.local"),
            ("NEWSROOM_RESPONSE_CACHE_MB", "-1"),
            ("NEWSROOM_RESPONSE_CACHE_MB", "5000"),
        ] {
            let mut vars = base.to_vec();
            vars.push((var, value));
            let err = env(&vars).config().unwrap_err();
            assert_eq!(err.var, var, "{value}");
        }
    }

    #[test]
    fn defaults_apply() {
        let config = env(&[
            ("DATABASE_URL", "postgres://h/db"),
            ("NEWSROOM_JWT_SECRET", SECRET),
        ])
        .config()
        .unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(config.jwt.access_ttl, Duration::from_secs(900));
        assert_eq!(config.jwt.issuer, "newsroom");
        assert_eq!(config.body_limit, 4 << 20);
        assert_eq!(config.cors_origins, CorsOrigins::None);
        assert_eq!(config.response_cache_bytes, 32 << 20);
    }
}
