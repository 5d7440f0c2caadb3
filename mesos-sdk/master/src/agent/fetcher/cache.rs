//! The agent's fetcher cache: each (user, URI) is downloaded at most once while it is
//! cached; concurrent fetches of one URI wait for the first download. Files over the
//! cache's size are evicted, least recently used first, when no fetch is using them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{Mutex, OnceCell};

use super::FetchError;

/// One cached download.
#[derive(Debug)]
pub(crate) struct CachedFile {
    /// Where it is in the cache directory.
    pub path: PathBuf,
    size: u64,
}

impl Drop for CachedFile {
    fn drop(&mut self) {
        // The last user of an evicted entry removes its file.
        if let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), error = %e, "failed to remove an evicted cache file");
        }
    }
}

type Slot = Arc<OnceCell<Arc<CachedFile>>>;

#[derive(Debug)]
struct Entry {
    slot: Slot,
    last_used: u64,
}

/// The cache of one agent.
#[derive(Debug)]
pub(crate) struct Cache {
    dir: PathBuf,
    capacity: u64,
    entries: Mutex<HashMap<(String, String), Entry>>,
    clock: AtomicU64,
    names: AtomicU64,
}

impl Cache {
    /// A cache in `dir` (emptied now: entries do not outlive the agent) holding up to
    /// `capacity` bytes.
    pub(crate) fn new(dir: PathBuf, capacity: u64) -> Self {
        if dir.exists()
            && let Err(e) = std::fs::remove_dir_all(&dir)
        {
            tracing::warn!(dir = %dir.display(), error = %e, "failed to empty the fetcher cache");
        }
        Cache {
            dir,
            capacity,
            entries: Mutex::new(HashMap::new()),
            clock: AtomicU64::new(0),
            names: AtomicU64::new(0),
        }
    }

    /// The cached file for (`user`, `uri`), downloading it with `download(path)` if it
    /// is not cached yet. `name` (the URI's file name) ends the cache file's name.
    pub(crate) async fn get<F, Fut>(
        &self,
        user: &str,
        uri: &str,
        name: &str,
        download: F,
    ) -> Result<Arc<CachedFile>, FetchError>
    where
        F: FnOnce(PathBuf) -> Fut,
        Fut: std::future::Future<Output = Result<u64, FetchError>>,
    {
        let key = (user.to_owned(), uri.to_owned());
        let slot = {
            let mut entries = self.entries.lock().await;
            let tick = self.clock.fetch_add(1, Ordering::Relaxed);
            let entry = entries.entry(key.clone()).or_insert_with(|| Entry {
                slot: Arc::new(OnceCell::new()),
                last_used: tick,
            });
            entry.last_used = tick;
            entry.slot.clone()
        };
        let file = slot
            .get_or_try_init(|| async {
                let n = self.names.fetch_add(1, Ordering::Relaxed);
                let path = self.dir.join(format!("c{n}-{}", sanitize(name)));
                tokio::fs::create_dir_all(&self.dir)
                    .await
                    .map_err(FetchError::io(format!("creating '{}'", self.dir.display())))?;
                match download(path.clone()).await {
                    Ok(size) => Ok(Arc::new(CachedFile { path, size })),
                    Err(e) => {
                        let _ = tokio::fs::remove_file(&path).await;
                        Err(e)
                    }
                }
            })
            .await;
        let file = match file {
            Ok(file) => file.clone(),
            Err(e) => {
                // Forget the failed entry (unless a later fetch already filled it).
                let mut entries = self.entries.lock().await;
                if entries
                    .get(&key)
                    .is_some_and(|e| Arc::ptr_eq(&e.slot, &slot) && !slot.initialized())
                {
                    entries.remove(&key);
                }
                return Err(e);
            }
        };
        self.evict(&key).await;
        Ok(file)
    }

    /// Drops least recently used entries until the cache fits its capacity; entries in
    /// use (being downloaded or held by a fetch) and `keep` stay.
    async fn evict(&self, keep: &(String, String)) {
        let mut entries = self.entries.lock().await;
        let mut total: u64 = entries
            .values()
            .filter_map(|e| e.slot.get().map(|f| f.size))
            .sum();
        if total <= self.capacity {
            return;
        }
        let mut candidates: Vec<((String, String), u64)> = entries
            .iter()
            .filter(|(k, e)| *k != keep && e.slot.initialized() && Arc::strong_count(&e.slot) == 1)
            .map(|(k, e)| (k.clone(), e.last_used))
            .collect();
        candidates.sort_by_key(|(_, used)| *used);
        for (key, _) in candidates {
            if total <= self.capacity {
                break;
            }
            if let Some(entry) = entries.remove(&key) {
                total -= entry.slot.get().map_or(0, |f| f.size);
            }
        }
        // A file larger than the whole cache serves this fetch, then goes.
        if total > self.capacity
            && let Some(entry) = entries.get(keep)
            && entry.slot.get().is_some_and(|f| f.size > self.capacity)
        {
            entries.remove(keep);
        }
    }
}

/// A URI's file name as one safe path component.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| if c == '/' || c == '\0' { '_' } else { c })
        .collect()
}
