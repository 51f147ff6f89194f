//! Audio in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, Google Cloud Storage's
//! XML API), through `object_store` over the shared reqwest and ring.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use dialix_calls::{AudioStore, StoredAudio};
use dialix_kernel::{DomainError, DomainResult};
use futures_util::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::signer::Signer;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;

/// Files larger than this are sent as a multipart upload: one failed request then costs one
/// part, not the whole file.
const MULTIPART_THRESHOLD: usize = 8 * 1024 * 1024;
/// The size of each part but the last (S3 wants at least 5 MiB; R2 wants them all equal).
const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts in flight at once for one file.
const PARALLEL_PARTS: usize = 4;

/// Where the bucket is and how to sign requests to it.
#[derive(Debug, Clone)]
pub struct S3Location {
    pub bucket: String,
    /// Keys are stored under this prefix, `""` for the bucket's root (no slash at either end).
    pub prefix: String,
    pub region: String,
    /// An S3-compatible service's URL (path-style requests); `None` is AWS itself
    /// (virtual-hosted requests).
    pub endpoint: Option<String>,
    pub access_key_id: String,
    pub secret_access_key: SecretString,
}

impl std::fmt::Display for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.prefix.as_str() {
            "" => write!(f, "s3://{}", self.bucket),
            prefix => write!(f, "s3://{}/{prefix}", self.bucket),
        }
    }
}

/// Audio files as objects under one prefix of a bucket. A single PUT or a completed
/// multipart upload replaces an object at once, so a reader never sees half a file.
pub struct S3AudioStore {
    store: AmazonS3,
    prefix: Path,
    name: String,
}

impl S3AudioStore {
    /// Checks the settings; nothing is sent until the first request.
    pub fn new(location: &S3Location) -> DomainResult<Self> {
        crate::install_tls_provider();
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&location.bucket)
            .with_region(&location.region)
            .with_access_key_id(&location.access_key_id)
            .with_secret_access_key(location.secret_access_key.expose_secret());
        builder = match &location.endpoint {
            Some(endpoint) => builder
                .with_endpoint(endpoint)
                .with_virtual_hosted_style_request(false)
                .with_allow_http(endpoint.starts_with("http://")),
            None => builder.with_virtual_hosted_style_request(true),
        };
        let store = builder
            .build()
            .map_err(|e| DomainError::caused(format!("audio store: cannot use {location}"), e))?;
        let prefix = Path::parse(&location.prefix).map_err(|e| {
            DomainError::caused(format!("audio store: bad prefix in {location}"), e)
        })?;
        Ok(Self {
            store,
            prefix,
            name: location.to_string(),
        })
    }

    /// Keys come from the service, but one that is not a clean relative path (no `.` or `..`
    /// segments, no slash at either end) is refused.
    fn path(&self, key: &str) -> DomainResult<Path> {
        let relative = Path::parse(key)
            .ok()
            .filter(|path| path.as_ref() == key && !key.is_empty())
            .ok_or_else(|| DomainError::internal(format!("refused audio key {key:?}")))?;
        Ok(self.prefix.parts().chain(relative.parts()).collect())
    }

    fn error(&self, action: &str, key: &str, error: object_store::Error) -> DomainError {
        DomainError::caused(
            format!("audio store: cannot {action} {key} in {}", self.name),
            error,
        )
    }

    /// Sends `bytes` in parts that share its buffer, a few at a time.
    async fn put_in_parts(&self, path: &Path, bytes: Bytes) -> object_store::Result<()> {
        let upload = self.store.put_multipart(path).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        for start in (0..bytes.len()).step_by(PART_SIZE) {
            if let Err(error) = writer.wait_for_capacity(PARALLEL_PARTS).await {
                // Best effort: a lifecycle rule removes uploads that are never completed.
                writer.abort().await.ok();
                return Err(error);
            }
            writer.put(bytes.slice(start..(start + PART_SIZE).min(bytes.len())));
        }
        writer.finish().await.map(|_| ())
    }
}

#[async_trait]
impl AudioStore for S3AudioStore {
    async fn put(&self, key: &str, bytes: Bytes) -> DomainResult<()> {
        let path = self.path(key)?;
        let outcome = if bytes.len() > MULTIPART_THRESHOLD {
            self.put_in_parts(&path, bytes).await
        } else {
            self.store
                .put(&path, PutPayload::from_bytes(bytes))
                .await
                .map(|_| ())
        };
        outcome.map_err(|e| self.error("write", key, e))
    }

    async fn size(&self, key: &str) -> DomainResult<u64> {
        match self.store.head(&self.path(key)?).await {
            Ok(meta) => Ok(meta.size),
            Err(object_store::Error::NotFound { .. }) => Err(DomainError::NotFound("audio")),
            Err(e) => Err(self.error("inspect", key, e)),
        }
    }

    async fn read(&self, key: &str, start: u64, end: u64) -> DomainResult<Bytes> {
        let path = self.path(key)?;
        if start >= end {
            return Ok(Bytes::new());
        }
        self.store
            .get_range(&path, start..end)
            .await
            .map_err(|e| self.error("read", key, e))
    }

    async fn delete(&self, key: &str) -> DomainResult<()> {
        match self.store.delete(&self.path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.error("delete", key, e)),
        }
    }

    async fn list(&self) -> DomainResult<Vec<StoredAudio>> {
        let prefix = (self.prefix != Path::ROOT).then_some(&self.prefix);
        let objects: Vec<_> = self
            .store
            .list(prefix)
            .try_collect()
            .await
            .map_err(|e| self.error("list", "the files", e))?;
        let mut files = Vec::with_capacity(objects.len());
        for object in objects {
            let Some(parts) = object.location.prefix_match(&self.prefix) else {
                continue;
            };
            let key = parts
                .map(|part| part.as_ref().to_owned())
                .collect::<Vec<_>>()
                .join("/");
            let millis = i128::from(object.last_modified.timestamp_millis());
            let modified =
                OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000).map_err(|e| {
                    DomainError::caused(format!("audio store: {key} has a bad date"), e)
                })?;
            files.push(StoredAudio {
                key,
                size: object.size,
                modified,
            });
        }
        Ok(files)
    }

    async fn signed_url(&self, key: &str, ttl: Duration) -> DomainResult<Option<String>> {
        let url = self
            .store
            .signed_url(reqwest::Method::GET, &self.path(key)?, ttl)
            .await
            .map_err(|e| self.error("sign a URL for", key, e))?;
        Ok(Some(url.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(prefix: &str) -> S3AudioStore {
        S3AudioStore::new(&S3Location {
            bucket: "calls".into(),
            prefix: prefix.into(),
            region: "us-east-1".into(),
            endpoint: Some("http://127.0.0.1:9000".into()),
            access_key_id: "key".into(),
            secret_access_key: SecretString::from("secret"),
        })
        .unwrap()
    }

    #[test]
    fn keys_go_under_the_prefix_and_never_leave_it() {
        assert_eq!(
            store("dialix/audio").path("ab/one.wav").unwrap().as_ref(),
            "dialix/audio/ab/one.wav"
        );
        assert_eq!(store("").path("ab/one.wav").unwrap().as_ref(), "ab/one.wav");
        for bad in ["../x.wav", "/etc/passwd", "a//b.wav", "a/./b.wav", ""] {
            assert!(store("p").path(bad).is_err(), "{bad:?}");
        }
        assert_eq!(store("dialix/audio").name, "s3://calls/dialix/audio");
        assert_eq!(store("").name, "s3://calls");
    }
}
