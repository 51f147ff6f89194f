use bytes::Bytes;
use std::io::SeekFrom;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use dialix_calls::{AudioStore, StoredAudio};
use dialix_kernel::{DomainError, DomainResult};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Audio files under one directory. A file is written to a temporary name and renamed, so a
/// reader never sees half a file.
pub struct FsAudioStore {
    root: PathBuf,
}

impl FsAudioStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Keys come from the service, but a key that would leave the root is refused anyway.
    fn path(&self, key: &str) -> DomainResult<PathBuf> {
        let relative = Path::new(key);
        if relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Err(DomainError::internal(format!("refused audio key {key:?}")));
        }
        Ok(self.root.join(relative))
    }
}

fn io_error(action: &str, path: &Path, error: std::io::Error) -> DomainError {
    DomainError::caused(
        format!("audio store: cannot {action} {}", path.display()),
        error,
    )
}

#[async_trait]
impl AudioStore for FsAudioStore {
    async fn put(&self, key: &str, bytes: Bytes) -> DomainResult<()> {
        let path = self.path(key)?;
        if let Some(folder) = path.parent() {
            tokio::fs::create_dir_all(folder)
                .await
                .map_err(|e| io_error("create", folder, e))?;
        }
        let partial = path.with_extension("partial");
        tokio::fs::write(&partial, bytes)
            .await
            .map_err(|e| io_error("write", &partial, e))?;
        tokio::fs::rename(&partial, &path)
            .await
            .map_err(|e| io_error("rename", &path, e))
    }

    async fn size(&self, key: &str) -> DomainResult<u64> {
        let path = self.path(key)?;
        match tokio::fs::metadata(&path).await {
            Ok(meta) => Ok(meta.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(DomainError::NotFound("audio"))
            }
            Err(e) => Err(io_error("read", &path, e)),
        }
    }

    async fn read(&self, key: &str, start: u64, end: u64) -> DomainResult<Bytes> {
        let path = self.path(key)?;
        let mut file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| io_error("open", &path, e))?;
        file.seek(SeekFrom::Start(start))
            .await
            .map_err(|e| io_error("seek", &path, e))?;
        let mut bytes = Vec::with_capacity(end.saturating_sub(start) as usize);
        file.take(end.saturating_sub(start))
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| io_error("read", &path, e))?;
        Ok(Bytes::from(bytes))
    }

    async fn delete(&self, key: &str) -> DomainResult<()> {
        let path = self.path(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error("delete", &path, e)),
        }
    }

    async fn list(&self) -> DomainResult<Vec<StoredAudio>> {
        let mut files = Vec::new();
        let mut folders = vec![self.root.clone()];
        while let Some(folder) = folders.pop() {
            let mut entries = match tokio::fs::read_dir(&folder).await {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_error("list", &folder, e)),
            };
            while let Some(entry) = entries
                .next_entry()
                .await
                .map_err(|e| io_error("list", &folder, e))?
            {
                let path = entry.path();
                let meta = entry
                    .metadata()
                    .await
                    .map_err(|e| io_error("inspect", &path, e))?;
                if meta.is_dir() {
                    folders.push(path);
                } else if let Ok(relative) = path.strip_prefix(&self.root) {
                    let modified = meta.modified().map_err(|e| io_error("inspect", &path, e))?;
                    files.push(StoredAudio {
                        key: relative.to_string_lossy().replace('\\', "/"),
                        size: meta.len(),
                        modified: OffsetDateTime::from(modified),
                    });
                }
            }
        }
        Ok(files)
    }

    /// Files on disk are served by the API only.
    async fn signed_url(&self, _key: &str, _ttl: Duration) -> DomainResult<Option<String>> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_round_trip_by_range_and_keys_stay_inside_the_root() {
        let root = std::env::temp_dir().join(format!("dialix-audio-{}", uuid::Uuid::now_v7()));
        let store = FsAudioStore::new(&root);
        store
            .put("ab/one.wav", Bytes::from_static(b"0123456789"))
            .await
            .unwrap();
        assert_eq!(store.size("ab/one.wav").await.unwrap(), 10);
        assert_eq!(store.read("ab/one.wav", 2, 5).await.unwrap(), &b"234"[..]);
        store.delete("ab/one.wav").await.unwrap();
        store.delete("ab/one.wav").await.unwrap();
        assert_eq!(
            store.size("ab/one.wav").await,
            Err(DomainError::NotFound("audio"))
        );
        assert!(
            store
                .put("../escape.wav", Bytes::from_static(b"x"))
                .await
                .is_err()
        );
        assert!(
            store
                .put("/etc/passwd", Bytes::from_static(b"x"))
                .await
                .is_err()
        );
        store
            .put("cd/two.wav", Bytes::from_static(b"x"))
            .await
            .unwrap();
        let listed = store.list().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0].key.as_str(), listed[0].size), ("cd/two.wav", 1));
        assert_eq!(
            store
                .signed_url("cd/two.wav", Duration::from_secs(60))
                .await,
            Ok(None)
        );
        let future = OffsetDateTime::now_utc() + time::Duration::minutes(1);
        assert_eq!(store.written_before(future).await.unwrap(), ["cd/two.wav"]);
        let past = OffsetDateTime::now_utc() - time::Duration::minutes(1);
        assert!(store.written_before(past).await.unwrap().is_empty());
        std::fs::remove_dir_all(root).ok();
    }
}
