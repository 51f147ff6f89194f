//! The companies' PBX and CRM connections: the key that seals their credentials
//! (`DIALIX_SECRETS_KEY`), where OnlinePBX is (`ONLINEPBX_BASE_URL`), the pace of Bitrix24
//! requests (`BITRIX_REQUESTS_PER_SECOND`) and of the automatic import's checks.

use std::time::Duration;

use super::{ConfigError, Environment, invalid, positive};

/// A publicly known key for development databases only; production refuses to start
/// without `DIALIX_SECRETS_KEY`.
const DEVELOPMENT_SECRETS_KEY: [u8; 32] = *b"dialix-development-secrets-key!!";

/// The AES-256 key sealing credentials; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretsKey {
    pub bytes: [u8; 32],
    /// Whether it is the development key (start-up warns).
    pub development: bool,
}

impl std::fmt::Debug for SecretsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretsKey(redacted)")
    }
}

#[derive(Debug, Clone)]
pub struct IntegrationSettings {
    pub secrets_key: SecretsKey,
    /// `https://api.onlinepbx.ru`; requests go to `{base}/{domain}/…`.
    pub onlinepbx_base_url: String,
    /// The least time between two requests to one Bitrix24 portal.
    pub bitrix_min_interval: Duration,
    /// Whether companies may give `http://` webhooks and local hosts (development only).
    pub allow_local_webhooks: bool,
    /// How often each process looks for a due automatic import.
    pub auto_import_poll: Duration,
}

pub(super) fn settings(
    get: &impl Fn(&str) -> Option<String>,
    environment: Environment,
) -> Result<IntegrationSettings, ConfigError> {
    let production = environment == Environment::Production;
    let secrets_key = match get("DIALIX_SECRETS_KEY") {
        Some(raw) => SecretsKey {
            bytes: dialix_infrastructure::parse_secrets_key(raw.trim())
                .map_err(|problem| invalid("DIALIX_SECRETS_KEY", problem))?,
            development: false,
        },
        None if production => {
            return Err(invalid(
                "DIALIX_SECRETS_KEY",
                "is required in production (64 hex characters, e.g. from `openssl rand -hex 32`)",
            ));
        }
        None => SecretsKey {
            bytes: DEVELOPMENT_SECRETS_KEY,
            development: true,
        },
    };
    let onlinepbx_base_url = get("ONLINEPBX_BASE_URL")
        .unwrap_or_else(|| "https://api.onlinepbx.ru".into())
        .trim()
        .trim_end_matches('/')
        .to_owned();
    if !(onlinepbx_base_url.starts_with("https://") || onlinepbx_base_url.starts_with("http://")) {
        return Err(invalid("ONLINEPBX_BASE_URL", "must be an http(s) URL"));
    }
    let per_second: u32 = positive(get, "BITRIX_REQUESTS_PER_SECOND", 2u32)?;
    Ok(IntegrationSettings {
        secrets_key,
        onlinepbx_base_url,
        bitrix_min_interval: Duration::from_secs(1) / per_second,
        allow_local_webhooks: !production,
        auto_import_poll: Duration::from_secs(positive(get, "AUTO_IMPORT_POLL_SECS", 30u64)?),
    })
}
