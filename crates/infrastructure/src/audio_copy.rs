//! `dialix audio copy`: moves every audio file from one store to another, e.g. from the
//! local directory to a bucket.

use std::collections::HashMap;

use dialix_calls::AudioStore;
use dialix_kernel::{DomainError, DomainResult};

/// How far a copy has got; reported after each file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CopyProgress {
    /// Files dealt with so far, copied or skipped.
    pub done: usize,
    pub total: usize,
    /// Bytes sent so far (skipped files count nothing).
    pub bytes_copied: u64,
    /// Files sent so far.
    pub copied: usize,
}

/// Copies every file of `from` that `to` lacks, or holds with another size, under the same
/// key. Safe to re-run: after an interruption only what is missing is copied again, and
/// since a store never shows half a file, one stopped mid-file is copied whole next time.
/// Stops at the first failure, naming the file.
pub async fn copy_audio(
    from: &dyn AudioStore,
    to: &dyn AudioStore,
    mut progress: impl FnMut(&CopyProgress),
) -> DomainResult<CopyProgress> {
    let mut files = from.list().await?;
    files.sort_by(|a, b| a.key.cmp(&b.key));
    let present: HashMap<String, u64> = to
        .list()
        .await?
        .into_iter()
        .map(|file| (file.key, file.size))
        .collect();
    let mut state = CopyProgress {
        total: files.len(),
        ..CopyProgress::default()
    };
    for file in files {
        if present.get(&file.key) != Some(&file.size) {
            let bytes = from.read(&file.key, 0, file.size).await?;
            if bytes.len() as u64 != file.size {
                return Err(DomainError::internal(format!(
                    "audio copy: {} changed while it was copied ({} bytes listed, {} read)",
                    file.key,
                    file.size,
                    bytes.len()
                )));
            }
            to.put(&file.key, bytes).await?;
            state.copied += 1;
            state.bytes_copied += file.size;
        }
        state.done += 1;
        progress(&state);
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::FsAudioStore;

    #[tokio::test]
    async fn a_second_run_copies_only_what_is_missing_or_different() {
        let root = std::env::temp_dir().join(format!("dialix-copy-{}", uuid::Uuid::now_v7()));
        let (from, to) = (
            FsAudioStore::new(root.join("from")),
            FsAudioStore::new(root.join("to")),
        );
        for (key, bytes) in [("ab/one.wav", "one"), ("cd/two.wav", "two!")] {
            from.put(key, Bytes::from_static(bytes.as_bytes()))
                .await
                .unwrap();
        }
        let mut seen = Vec::new();
        let first = copy_audio(&from, &to, |p| seen.push(p.done)).await.unwrap();
        assert_eq!((first.copied, first.bytes_copied, first.total), (2, 7, 2));
        assert_eq!(seen, [1, 2]);
        assert_eq!(to.read("cd/two.wav", 0, 4).await.unwrap(), "two!");

        let again = copy_audio(&from, &to, |_| {}).await.unwrap();
        assert_eq!((again.copied, again.done), (0, 2));
        to.delete("ab/one.wav").await.unwrap();
        to.put("cd/two.wav", Bytes::from_static(b"tw"))
            .await
            .unwrap();
        let resumed = copy_audio(&from, &to, |_| {}).await.unwrap();
        assert_eq!((resumed.copied, resumed.bytes_copied), (2, 7));
        assert_eq!(to.read("ab/one.wav", 0, 3).await.unwrap(), "one");
        std::fs::remove_dir_all(root).ok();
    }
}
