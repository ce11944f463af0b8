//! Where a process keeps the library's files and makes renditions: the store, a small memory
//! of recently served files (they never change), and the turns of the processing work, bounded
//! to the cores so uploads never starve the readers.

use std::path::Path;
use std::sync::{Arc, Mutex};

use lru::LruCache;
use tokio::sync::Semaphore;

use super::files::{self, Folder, Rendition};
use super::process::{self, Source};
use crate::error::ApiError;

/// Files at most this large are kept in memory once served.
const REMEMBER_MAX_FILE: usize = 512 << 10;
/// The most bytes of files kept in memory.
const REMEMBER_BYTES: usize = 32 << 20;

pub struct Library {
    folder: Folder,
    /// The largest upload taken, in bytes.
    pub max_bytes: usize,
    /// Turns of processing (decoding, rendering): one per core.
    turns: Arc<Semaphore>,
    served: Mutex<Served>,
}

struct Served {
    files: LruCache<String, Arc<[u8]>>,
    bytes: usize,
}

impl Library {
    pub fn open(root: &Path, max_bytes: usize) -> std::io::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Self {
            folder: Folder::open(root)?,
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

    /// Stores a file (on a blocking thread).
    pub async fn put(self: &Arc<Self>, file: String, bytes: Arc<[u8]>) -> Result<(), ApiError> {
        let library = self.clone();
        tokio::task::spawn_blocking(move || library.folder.put(&file, &bytes))
            .await
            .map_err(ApiError::internal)?
            .map_err(|e| ApiError::internal(format!("cannot store a media file: {e}")))
    }

    /// Whether a file is stored.
    pub async fn has(self: &Arc<Self>, file: &str) -> Result<bool, ApiError> {
        if self.remembered(file).is_some() {
            return Ok(true);
        }
        let library = self.clone();
        let name = file.to_owned();
        tokio::task::spawn_blocking(move || library.folder.has(&name))
            .await
            .map_err(ApiError::internal)
    }

    /// A stored file, from memory if it was served lately.
    pub async fn get(self: &Arc<Self>, file: &str) -> Result<Option<Arc<[u8]>>, ApiError> {
        if let Some(bytes) = self.remembered(file) {
            return Ok(Some(bytes));
        }
        let library = self.clone();
        let name = file.to_owned();
        let read = tokio::task::spawn_blocking(move || library.folder.get(&name))
            .await
            .map_err(ApiError::internal)?
            .map_err(|e| ApiError::internal(format!("cannot read a media file: {e}")))?;
        Ok(read.map(|bytes| {
            let bytes: Arc<[u8]> = bytes.into();
            self.remember(file, bytes.clone());
            bytes
        }))
    }

    fn remembered(&self, file: &str) -> Option<Arc<[u8]>> {
        let mut served = self.served.lock().unwrap_or_else(|p| p.into_inner());
        served.files.get(file).cloned()
    }

    fn remember(&self, file: &str, bytes: Arc<[u8]>) {
        if bytes.len() > REMEMBER_MAX_FILE {
            return;
        }
        let mut served = self.served.lock().unwrap_or_else(|p| p.into_inner());
        served.bytes += bytes.len();
        if let Some(old) = served.files.put(file.to_owned(), bytes) {
            served.bytes -= old.len();
        }
        while served.bytes > REMEMBER_BYTES {
            match served.files.pop_lru() {
                Some((_, old)) => served.bytes -= old.len(),
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
                if let Some(old) = served.files.pop(&file) {
                    served.bytes -= old.len();
                }
            }
        }
        let library = self.clone();
        tokio::task::spawn_blocking(move || library.folder.remove_item(&name))
            .await
            .map_err(ApiError::internal)?
            .map_err(|e| ApiError::internal(format!("cannot remove media files: {e}")))
    }

    /// The pixels of a stored original, decoded in a turn.
    pub async fn source(self: &Arc<Self>, original: &str) -> Result<Arc<Source>, ApiError> {
        let bytes = self
            .get(original)
            .await?
            .ok_or_else(|| ApiError::internal(format!("the original {original} is missing")))?;
        self.in_turn(move || process::decode(&bytes).map(|d| Arc::new(Source::new(&d.image))))
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
                if library.folder.has(&file) {
                    return Ok(());
                }
                let bytes = library
                    .in_turn(move || source.render(&rendition))
                    .await?
                    .map_err(|e| ApiError::internal(format!("cannot make {file}: {e}")))?;
                library.put(file, bytes.into()).await
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
