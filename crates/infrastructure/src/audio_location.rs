//! Which audio store a deployment uses, chosen by configuration.

use std::path::PathBuf;
use std::sync::Arc;

use dialix_calls::AudioStore;
use dialix_kernel::DomainResult;

use crate::{FsAudioStore, S3AudioStore, S3Location};

/// Where uploaded audio is kept.
#[derive(Debug, Clone)]
pub enum AudioLocation {
    /// Files under a local (or mounted) directory.
    Directory(PathBuf),
    /// Objects in an S3-compatible bucket.
    S3(S3Location),
}

impl AudioLocation {
    /// The adapter for this location.
    pub fn open(&self) -> DomainResult<Arc<dyn AudioStore>> {
        Ok(match self {
            AudioLocation::Directory(root) => Arc::new(FsAudioStore::new(root.clone())),
            AudioLocation::S3(location) => Arc::new(S3AudioStore::new(location)?),
        })
    }
}

/// As written in `DIALIX_AUDIO_STORE`: `file://…` or `s3://bucket/prefix`.
impl std::fmt::Display for AudioLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AudioLocation::Directory(root) => write!(f, "file://{}", root.display()),
            AudioLocation::S3(location) => location.fmt(f),
        }
    }
}
