//! Where audio is kept (`DIALIX_AUDIO_STORE`, with the `AWS_*` settings for a bucket) and how
//! it is played back (`AUDIO_PLAYBACK`).

use std::time::Duration;

use dialix_infrastructure::{AudioLocation, S3Location};
use secrecy::SecretString;

use super::{ConfigError, invalid, positive};

pub const DEFAULT_AUDIO_STORE: &str = "file://./data/audio";
/// SigV4 presigned URLs are valid for a week at most.
const MAX_PRESIGN_TTL_SECS: u64 = 7 * 24 * 3600;

/// How `GET /records/{id}/audio` serves the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioPlayback {
    /// The API streams the bytes from the store, with `Range` support.
    Stream,
    /// The API answers 307 to a presigned URL of the bucket, valid for `ttl`, so the bytes
    /// never pass through it.
    Redirect { ttl: Duration },
}

/// `DIALIX_AUDIO_STORE`, or the older `DIALIX_AUDIO_DIR` (a plain directory, deprecated).
pub(super) fn audio_store(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<AudioLocation, ConfigError> {
    match (get("DIALIX_AUDIO_STORE"), get("DIALIX_AUDIO_DIR")) {
        (Some(url), _) => location("DIALIX_AUDIO_STORE", &url, get),
        (None, Some(dir)) => Ok(AudioLocation::Directory(dir.into())),
        (None, None) => location("DIALIX_AUDIO_STORE", DEFAULT_AUDIO_STORE, get),
    }
}

/// Reads `file://DIRECTORY` or `s3://BUCKET/PREFIX`; a bucket takes its credentials, region
/// and endpoint from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION` and
/// `AWS_ENDPOINT_URL`. A problem with `url` itself is reported against `name`.
pub fn location(
    name: &'static str,
    url: &str,
    get: &impl Fn(&str) -> Option<String>,
) -> Result<AudioLocation, ConfigError> {
    let url = url.trim();
    if let Some(directory) = url.strip_prefix("file://") {
        if directory.is_empty() {
            return Err(invalid(name, "give a directory, e.g. file://./data/audio"));
        }
        return Ok(AudioLocation::Directory(directory.into()));
    }
    let Some(rest) = url.strip_prefix("s3://") else {
        return Err(invalid(
            name,
            format!("{url:?} is neither file://DIRECTORY nor s3://BUCKET/PREFIX"),
        ));
    };
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let prefix = prefix.trim_end_matches('/');
    if !is_bucket_name(bucket) {
        return Err(invalid(
            name,
            format!(
                "{bucket:?} is not a bucket name (3 to 63 lower-case letters, digits, dots and \
                 hyphens)"
            ),
        ));
    }
    if !prefix.is_empty()
        && prefix
            .split('/')
            .any(|segment| matches!(segment, "" | "." | ".."))
    {
        return Err(invalid(
            name,
            format!("the prefix {prefix:?} has an empty, . or .. segment"),
        ));
    }
    let endpoint = get("AWS_ENDPOINT_URL").map(|e| e.trim().trim_end_matches('/').to_owned());
    if let Some(endpoint) = &endpoint {
        let host = endpoint
            .strip_prefix("https://")
            .or_else(|| endpoint.strip_prefix("http://"));
        if host.is_none_or(str::is_empty) {
            return Err(invalid(
                "AWS_ENDPOINT_URL",
                format!("{endpoint:?} must start with http:// or https://"),
            ));
        }
    }
    let required = |variable: &'static str| {
        get(variable).ok_or_else(|| invalid(variable, format!("is required for {name}={url}")))
    };
    Ok(AudioLocation::S3(S3Location {
        bucket: bucket.to_owned(),
        prefix: prefix.to_owned(),
        region: required("AWS_REGION")?,
        endpoint,
        access_key_id: required("AWS_ACCESS_KEY_ID")?,
        secret_access_key: SecretString::from(required("AWS_SECRET_ACCESS_KEY")?),
    }))
}

/// S3's rules for new buckets, as far as a typo would break them.
fn is_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// `AUDIO_PLAYBACK` (`stream` or `redirect`) and `AUDIO_PRESIGN_TTL_SECS`; redirecting needs
/// a store that signs URLs.
pub(super) fn playback(
    get: &impl Fn(&str) -> Option<String>,
    store: &AudioLocation,
) -> Result<AudioPlayback, ConfigError> {
    let ttl = positive(get, "AUDIO_PRESIGN_TTL_SECS", 300u64)?;
    if ttl > MAX_PRESIGN_TTL_SECS {
        return Err(invalid(
            "AUDIO_PRESIGN_TTL_SECS",
            format!("must be at most {MAX_PRESIGN_TTL_SECS} (a week)"),
        ));
    }
    match get("AUDIO_PLAYBACK").as_deref().map(str::trim) {
        None | Some("stream") => Ok(AudioPlayback::Stream),
        Some("redirect") => match store {
            AudioLocation::S3(_) => Ok(AudioPlayback::Redirect {
                ttl: Duration::from_secs(ttl),
            }),
            AudioLocation::Directory(_) => Err(invalid(
                "AUDIO_PLAYBACK",
                "redirect needs an S3 store (DIALIX_AUDIO_STORE=s3://BUCKET/PREFIX): audio on \
                 disk has no URL of its own and can only be streamed",
            )),
        },
        Some(other) => Err(invalid(
            "AUDIO_PLAYBACK",
            format!("{other:?} is neither \"stream\" nor \"redirect\""),
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const S3_SETTINGS: [(&str, &str); 3] = [
        ("AWS_ACCESS_KEY_ID", "key-id"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_REGION", "eu-central-1"),
    ];

    fn parse(url: &str, extra: &[(&str, &str)]) -> Result<AudioLocation, ConfigError> {
        let vars: HashMap<&str, &str> = S3_SETTINGS.iter().chain(extra).copied().collect();
        location("DIALIX_AUDIO_STORE", url, &|name| {
            vars.get(name).map(|v| v.to_string())
        })
    }

    fn s3(url: &str, extra: &[(&str, &str)]) -> S3Location {
        match parse(url, extra) {
            Ok(AudioLocation::S3(location)) => location,
            other => panic!("{url}: {other:?}"),
        }
    }

    #[test]
    fn s3_urls_name_a_bucket_and_an_optional_prefix() {
        let location = s3("s3://dialix-audio/calls/uz/", &[]);
        assert_eq!(
            (location.bucket.as_str(), location.prefix.as_str()),
            ("dialix-audio", "calls/uz")
        );
        assert_eq!(location.region, "eu-central-1");
        assert_eq!(location.endpoint, None);
        assert_eq!(s3("s3://dialix.audio", &[]).prefix, "");
        let minio = s3(
            "s3://audio/x",
            &[("AWS_ENDPOINT_URL", "http://127.0.0.1:9000/")],
        );
        assert_eq!(minio.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(minio.to_string(), "s3://audio/x");
    }

    #[test]
    fn file_urls_name_a_directory() {
        let Ok(AudioLocation::Directory(relative)) = parse("file://./data/audio", &[]) else {
            panic!("a relative directory");
        };
        assert_eq!(relative, std::path::Path::new("./data/audio"));
        let Ok(AudioLocation::Directory(absolute)) = parse("file:///var/lib/dialix", &[]) else {
            panic!("an absolute directory");
        };
        assert_eq!(absolute, std::path::Path::new("/var/lib/dialix"));
    }

    #[test]
    fn bad_locations_name_the_setting_at_fault() {
        for url in [
            "./data/audio",
            "file://",
            "s3://",
            "s3://ab",
            "s3://Upper-Case",
            "s3://bucket_underscore",
            "s3://-dash",
            "s3://bucket//double",
            "s3://bucket/a/../b",
            "gs://bucket",
        ] {
            assert_eq!(
                parse(url, &[]).unwrap_err().name,
                "DIALIX_AUDIO_STORE",
                "{url}"
            );
        }
        let error = parse("s3://bucket", &[("AWS_ENDPOINT_URL", "minio:9000")]).unwrap_err();
        assert_eq!(error.name, "AWS_ENDPOINT_URL");
        for missing in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"] {
            let vars: HashMap<&str, &str> = S3_SETTINGS
                .iter()
                .copied()
                .filter(|(name, _)| *name != missing)
                .collect();
            let error = location("DIALIX_AUDIO_STORE", "s3://bucket", &|name| {
                vars.get(name).map(|v| v.to_string())
            })
            .unwrap_err();
            assert_eq!(error.name, missing);
        }
    }
}
