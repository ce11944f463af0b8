//! Where a process keeps the library's files and makes renditions: the store (a folder, or an
//! S3 bucket that several server processes share, through `object_store`), a small memory of
//! recently served files (they never change), and the turns of the processing work, bounded to
//! the cores so uploads never starve the readers.

use std::sync::{Arc, Mutex};

use actix_web::web::Bytes;
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use lru::LruCache;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use tokio::sync::Semaphore;

use super::files::{self, Rendition};
use super::process::{self, Source};
use crate::config::MediaStore;
use crate::error::ApiError;

/// Files at most this large are kept in memory once served.
const REMEMBER_MAX_FILE: usize = 512 << 10;
/// The most bytes of files kept in memory.
const REMEMBER_BYTES: usize = 32 << 20;

pub struct Library {
    store: Arc<dyn ObjectStore>,
    /// The largest upload taken, in bytes.
    pub max_bytes: usize,
    /// Turns of processing (decoding, rendering): one per core.
    turns: Arc<Semaphore>,
    served: Mutex<Served>,
}

/// How long a remembered file is served without asking the store again: a photo deleted
/// through another process stops being served here within this time.
const REMEMBER_FOR: Duration = Duration::from_secs(10);

struct Served {
    /// Each file with when it was read from the store.
    files: LruCache<String, (Instant, Bytes)>,
    bytes: usize,
}

impl Library {
    pub fn open(place: &MediaStore, max_bytes: usize) -> Result<Self, String> {
        let store: Arc<dyn ObjectStore> = match place {
            MediaStore::Folder(root) => {
                std::fs::create_dir_all(root).map_err(|e| format!("{}: {e}", root.display()))?;
                Arc::new(
                    object_store::local::LocalFileSystem::new_with_prefix(root)
                        .map_err(|e| e.to_string())?
                        .with_automatic_cleanup(true),
                )
            }
            MediaStore::S3 {
                bucket,
                prefix,
                endpoint,
                region,
            } => {
                // Credentials as every AWS tool reads them (AWS_ACCESS_KEY_ID, ...).
                let mut s3 = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .with_region(region);
                if let Some(endpoint) = endpoint {
                    s3 = s3
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                let s3 = s3.build().map_err(|e| e.to_string())?;
                if prefix.is_empty() {
                    Arc::new(s3)
                } else {
                    Arc::new(object_store::prefix::PrefixStore::new(s3, prefix.as_str()))
                }
            }
        };
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Self {
            store,
            max_bytes,
            turns: Arc::new(Semaphore::new(cores)),
            served: Mutex::new(Served {
                files: LruCache::unbounded(),
                bytes: 0,
            }),
        })
    }

    /// Runs CPU-heavy `work` on a blocking thread in its turn.
    pub async fn in_turn<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let _turn = self
            .turns
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::Unavailable("the server is shutting down".into()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| ApiError::internal(format!("media work ended abnormally: {e}")))
    }

    /// Stores a file, whole or not at all.
    pub async fn put(&self, file: String, bytes: Bytes) -> Result<(), ApiError> {
        let payload = PutPayload::from_bytes(bytes);
        self.store
            .put(&files::location(&file), payload)
            .await
            .map_err(|e| ApiError::internal(format!("cannot store {file}: {e}")))?;
        Ok(())
    }

    /// Whether a file is stored.
    pub async fn has(&self, file: &str) -> Result<bool, ApiError> {
        if self.remembered(file).is_some() {
            return Ok(true);
        }
        match self.store.head(&files::location(file)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(ApiError::internal(format!("cannot look up {file}: {e}"))),
        }
    }

    /// A stored file, from memory if it was served lately.
    pub async fn get(&self, file: &str) -> Result<Option<Bytes>, ApiError> {
        if let Some(bytes) = self.remembered(file) {
            return Ok(Some(bytes));
        }
        let read = match self.store.get(&files::location(file)).await {
            Ok(found) => found.bytes().await,
            Err(e) => Err(e),
        };
        let bytes = match read {
            Ok(bytes) => bytes,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(ApiError::internal(format!("cannot read {file}: {e}"))),
        };
        self.remember(file, bytes.clone());
        Ok(Some(bytes))
    }

    fn remembered(&self, file: &str) -> Option<Bytes> {
        let mut served = self.served.lock().unwrap_or_else(|p| p.into_inner());
        served
            .files
            .get(file)
            .filter(|(read, _)| read.elapsed() < REMEMBER_FOR)
            .map(|(_, bytes)| bytes.clone())
    }

    fn remember(&self, file: &str, bytes: Bytes) {
        if bytes.len() > REMEMBER_MAX_FILE {
            return;
        }
        let mut served = self.served.lock().unwrap_or_else(|p| p.into_inner());
        served.bytes += bytes.len();
        if let Some((_, old)) = served.files.put(file.to_owned(), (Instant::now(), bytes)) {
            served.bytes -= old.len();
        }
        while served.bytes > REMEMBER_BYTES {
            match served.files.pop_lru() {
                Some((_, (_, old))) => served.bytes -= old.len(),
                None => break,
            }
        }
    }

    /// Removes every file of an item, and forgets what was served of it.
    pub async fn remove_item(self: &Arc<Self>, name: String) -> Result<(), ApiError> {
        {
            let mut served = self.served.lock().unwrap_or_else(|p| p.into_inner());
            let gone: Vec<String> = served
                .files
                .iter()
                .filter(|(file, _)| file.starts_with(&name))
                .map(|(file, _)| file.clone())
                .collect();
            for file in gone {
                if let Some((_, old)) = served.files.pop(&file) {
                    served.bytes -= old.len();
                }
            }
        }
        let fail =
            |e: object_store::Error| ApiError::internal(format!("cannot remove {name}: {e}"));
        let stored: Vec<object_store::path::Path> = self
            .store
            .list(Some(&files::item_location(&name)))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .map_err(fail)?;
        for location in stored {
            match self.store.delete(&location).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(fail(e)),
            }
        }
        Ok(())
    }

    /// The pixels of a stored original, decoded in a turn.
    pub async fn source(self: &Arc<Self>, original: &str) -> Result<Arc<Source>, ApiError> {
        let bytes = self
            .get(original)
            .await?
            .ok_or_else(|| ApiError::internal(format!("the original {original} is missing")))?;
        self.in_turn(move || process::decode(&bytes).map(|d| Arc::new(Source::new(d.image))))
            .await?
            .map_err(|e| ApiError::internal(format!("a stored original cannot be read: {e}")))
    }

    /// Makes and stores `renditions` of the item `name` that are not stored yet, each in a
    /// turn of its own.
    pub async fn render(
        self: &Arc<Self>,
        name: &str,
        source: Arc<Source>,
        renditions: Vec<Rendition>,
    ) -> Result<(), ApiError> {
        let mut made = Vec::new();
        for rendition in renditions {
            let file = rendition.file_name(name);
            let library = self.clone();
            let source = source.clone();
            made.push(tokio::spawn(async move {
                if library.has(&file).await? {
                    return Ok(());
                }
                let bytes = library
                    .in_turn(move || source.render(&rendition))
                    .await?
                    .map_err(|e| ApiError::internal(format!("cannot make {file}: {e}")))?;
                library.put(file, Bytes::from(bytes)).await
            }));
        }
        for task in made {
            task.await.map_err(ApiError::internal)??;
        }
        Ok(())
    }
}

/// The name of a new item: 128 random bits.
pub fn new_name() -> String {
    let name = format!("{:032x}", rand::random::<u128>());
    debug_assert_eq!(name.len(), files::NAME_LEN);
    name
}
