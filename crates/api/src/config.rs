//! Settings from the environment (and an optional `.env`). Every problem stops start-up with
//! one line that names the variable.

use secrecy::SecretString;
use std::net::SocketAddr;
use std::str::FromStr;

use time::Duration;

mod audio;
mod integrations;

pub use audio::{AudioPlayback, DEFAULT_AUDIO_STORE, location as audio_location};
pub use integrations::{IntegrationSettings, SecretsKey};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/dialix.db?mode=rwc";
pub const DEFAULT_ADMIN_EMAIL: &str = "admin@dialix.local";
pub const DEFAULT_ADMIN_PASSWORD: &str = "change-me-now";

/// Where this instance runs: production refuses insecure defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub environment: Environment,
    pub database_url: String,
    pub bind_addr: SocketAddr,
    /// `None` means: generate a random one at start-up (development only).
    pub jwt_secret: Option<SecretString>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub admin_email: String,
    pub admin_password: SecretString,
    pub password_min_length: usize,
    pub login_max_failures: u32,
    pub login_max_failures_per_address: u32,
    pub login_failure_window: Duration,
    pub cors_allowed_origins: Vec<String>,
    /// The bearer token `GET /metrics` asks for; `None` turns the endpoint off (404).
    pub metrics_token: Option<SecretString>,
    /// Where `/metrics` is also served, without a token (a port only the scraper reaches);
    /// `None`: nowhere else.
    pub metrics_bind_addr: Option<SocketAddr>,
    /// How long, after SIGTERM or SIGINT, requests and jobs in flight may take to finish
    /// before they are cut off (jobs are then handed back to the queue).
    pub shutdown_grace: std::time::Duration,
    pub max_body_bytes: usize,
    /// HTTP worker threads; `None` means one per core.
    pub http_workers: Option<usize>,
    pub log_format: LogFormat,
    /// Activity-log entries older than this are purged; `None` keeps them forever.
    pub audit_retention: Option<Duration>,
    /// Speech-to-text models users may pick in their settings; the first is the default.
    pub stt_models: Vec<String>,
    /// Where uploaded audio is kept: a directory or an S3-compatible bucket.
    pub audio_store: dialix_infrastructure::AudioLocation,
    /// Whether playback streams the audio or redirects to the bucket.
    pub audio_playback: AudioPlayback,
    /// The largest accepted upload (all files of one request), in bytes.
    pub max_upload_bytes: usize,
    /// Prices per minute of audio, in minor units.
    pub prices: dialix_calls::Prices,
    /// AI chat's question limit, price and personal-data masking.
    pub chat: dialix_chat::ChatPolicy,
    /// Prepended to 9-digit national phone numbers.
    pub default_country_code: String,
    pub providers: ProviderSettings,
    pub processing: ProcessingSettings,
    /// The companies' PBX and CRM connections.
    pub integrations: IntegrationSettings,
}

/// The external services, each `None` when not configured.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub chat: Option<dialix_infrastructure::ChatEndpoint>,
    pub mohirai: Option<MohirAiSettings>,
    /// The OpenAI-compatible transcription server (model name `whisper` in user settings).
    pub whisper: Option<WhisperSettings>,
    pub http: dialix_infrastructure::HttpPolicy,
}

#[derive(Debug, Clone)]
pub struct MohirAiSettings {
    pub base_url: String,
    pub api_key: SecretString,
    pub poll_interval: std::time::Duration,
}

#[derive(Debug, Clone)]
pub struct WhisperSettings {
    pub base_url: String,
    pub api_key: SecretString,
    pub model: String,
}

/// In-process workers and their retry policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessingSettings {
    /// Workers `dialix serve` runs (0: none; run `dialix worker` instead).
    pub workers: usize,
    pub policy: dialix_calls::ProcessingPolicy,
    /// How long an idle worker waits before looking for work again.
    pub idle_poll: std::time::Duration,
}

/// How log lines are written: JSON for log shippers, text for a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// A setting that is present but unusable, or missing where it is required.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("configuration error: {name}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

impl Config {
    /// Reads the process environment after loading `.env` if there is one.
    pub fn from_env() -> Result<Self, ConfigError> {
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(e) if e.not_found() => {}
            Err(e) => {
                return Err(ConfigError {
                    name: ".env",
                    problem: e.to_string(),
                });
            }
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the configuration from any variable source (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let environment = match get("DIALIX_ENV").as_deref() {
            None | Some("development") => Environment::Development,
            Some("production") => Environment::Production,
            Some(other) => {
                return Err(invalid(
                    "DIALIX_ENV",
                    format!("{other:?} is neither \"development\" nor \"production\""),
                ));
            }
        };
        let production = environment == Environment::Production;

        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "DATABASE_URL",
                "must start with sqlite:, postgres:// or postgresql://",
            ));
        }

        let jwt_secret = get("JWT_SECRET");
        match &jwt_secret {
            None if production => return Err(invalid("JWT_SECRET", "is required in production")),
            Some(secret) if secret.len() < 32 => {
                return Err(invalid("JWT_SECRET", "must be at least 32 characters"));
            }
            _ => {}
        }

        let admin_email = get("DIALIX_ADMIN_EMAIL").unwrap_or_else(|| DEFAULT_ADMIN_EMAIL.into());
        let admin_password =
            get("DIALIX_ADMIN_PASSWORD").unwrap_or_else(|| DEFAULT_ADMIN_PASSWORD.into());
        if production && admin_password == DEFAULT_ADMIN_PASSWORD {
            return Err(invalid(
                "DIALIX_ADMIN_PASSWORD",
                "the default password is refused in production",
            ));
        }

        let metrics_token = get("METRICS_TOKEN");
        if metrics_token.as_ref().is_some_and(|token| token.len() < 16) {
            return Err(invalid("METRICS_TOKEN", "must be at least 16 characters"));
        }

        let cors_allowed_origins = get("CORS_ALLOWED_ORIGINS")
            .map(|v| {
                v.split(',')
                    .map(|o| o.trim().to_owned())
                    .filter(|o| !o.is_empty())
                    .collect()
            })
            .unwrap_or_default();

        let log_format = match get("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    "LOG_FORMAT",
                    format!("{other:?} is neither \"text\" nor \"json\""),
                ));
            }
        };

        let audio_store = audio::audio_store(&get)?;
        let audio_playback = audio::playback(&get, &audio_store)?;

        Ok(Self {
            environment,
            database_url,
            bind_addr: parse(&get, "BIND_ADDR", "127.0.0.1:8080".parse().expect("valid"))?,
            jwt_secret: jwt_secret.map(SecretString::from),
            access_token_ttl: seconds(&get, "ACCESS_TOKEN_TTL_SECS", 15 * 60)?,
            refresh_token_ttl: seconds(&get, "REFRESH_TOKEN_TTL_SECS", 30 * 24 * 3600)?,
            admin_email,
            admin_password: SecretString::from(admin_password),
            password_min_length: positive(&get, "PASSWORD_MIN_LENGTH", 8)?,
            login_max_failures: positive(&get, "LOGIN_MAX_FAILURES", 5)?,
            login_max_failures_per_address: positive(&get, "LOGIN_MAX_FAILURES_PER_ADDRESS", 20)?,
            login_failure_window: seconds(&get, "LOGIN_FAILURE_WINDOW_SECS", 15 * 60)?,
            cors_allowed_origins,
            metrics_token: metrics_token.map(SecretString::from),
            metrics_bind_addr: get("METRICS_BIND_ADDR")
                .map(|raw| {
                    raw.trim().parse().map_err(|e| {
                        invalid("METRICS_BIND_ADDR", format!("{raw:?} is not valid: {e}"))
                    })
                })
                .transpose()?,
            shutdown_grace: std::time::Duration::from_secs(parse(
                &get,
                "SHUTDOWN_GRACE_SECS",
                30u64,
            )?),
            max_body_bytes: positive(&get, "MAX_BODY_BYTES", 1024 * 1024)?,
            http_workers: get("HTTP_WORKERS")
                .map(|_| positive(&get, "HTTP_WORKERS", 1))
                .transpose()?,
            log_format,
            stt_models: stt_models(get("STT_MODELS"))?,
            audio_store,
            audio_playback,
            max_upload_bytes: positive(&get, "DIALIX_MAX_UPLOAD_MB", 100usize)?
                .checked_mul(1024 * 1024)
                .ok_or_else(|| invalid("DIALIX_MAX_UPLOAD_MB", "is too large"))?,
            prices: dialix_calls::Prices {
                stt_per_minute: price(&get, "PRICE_STT_PER_MINUTE", 63_000)?,
                general_per_minute: price(&get, "PRICE_GENERAL_PER_MINUTE", 21_000)?,
                checklist_per_minute: price(&get, "PRICE_CHECKLIST_PER_MINUTE", 36_000)?,
            },
            chat: dialix_chat::ChatPolicy {
                max_questions: positive(&get, "MAX_QUESTIONS_PER_SESSION", 10u32)?,
                price_per_question: price(&get, "PRICE_CHAT_PER_QUESTION", 0)?,
                mask_pii: parse(&get, "CHAT_MASK_PII", true)?,
                context_chars: positive(&get, "CHAT_CONTEXT_CHARS", 100_000usize)?,
            },
            default_country_code: country_code(get("DEFAULT_COUNTRY_CODE"))?,
            providers: providers(&get)?,
            processing: ProcessingSettings {
                workers: parse(&get, "DIALIX_WORKERS", 2usize)?,
                policy: dialix_calls::ProcessingPolicy {
                    max_attempts: positive(&get, "PROCESSING_MAX_ATTEMPTS", 5u32)?,
                    backoff: std::time::Duration::from_millis(positive(
                        &get,
                        "PROCESSING_BACKOFF_MS",
                        5_000u64,
                    )?),
                    lease: std::time::Duration::from_secs(positive(
                        &get,
                        "PROCESSING_LEASE_SECS",
                        600u64,
                    )?),
                },
                idle_poll: std::time::Duration::from_millis(500),
            },
            integrations: integrations::settings(&get, environment)?,
            audit_retention: get("AUDIT_RETENTION_DAYS")
                .map(|_| positive(&get, "AUDIT_RETENTION_DAYS", 1i64).map(Duration::days))
                .transpose()?,
        })
    }
}

/// Which providers are configured: a service counts as configured when its key (or, for
/// servers that need none, its base URL) is set.
fn providers(get: &impl Fn(&str) -> Option<String>) -> Result<ProviderSettings, ConfigError> {
    use dialix_infrastructure::ChatEndpoint;
    let azure = (
        get("AZURE_OPENAI_ENDPOINT"),
        get("AZURE_OPENAI_API_KEY"),
        get("DEPLOYMENT_NAME"),
    );
    let chat = match azure {
        (Some(endpoint), Some(api_key), Some(deployment)) => Some(ChatEndpoint::Azure {
            endpoint,
            api_key: SecretString::from(api_key),
            deployment,
            api_version: get("AZURE_OPENAI_API_VERSION")
                .unwrap_or_else(|| "2024-08-01-preview".into()),
        }),
        (None, None, None) => match (get("OPENAI_BASE_URL"), get("OPENAI_API_KEY")) {
            (None, None) => None,
            (base_url, api_key) => Some(ChatEndpoint::OpenAi {
                base_url: base_url.unwrap_or_else(|| "https://api.openai.com/v1".into()),
                api_key: SecretString::from(api_key.unwrap_or_default()),
                model: get("OPENAI_MODEL").unwrap_or_else(|| "gpt-4o-mini".into()),
            }),
        },
        _ => {
            return Err(invalid(
                "AZURE_OPENAI_ENDPOINT",
                "Azure needs AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY and DEPLOYMENT_NAME together",
            ));
        }
    };
    let mohirai = get("MOHIRAI_API_KEY").map(|api_key| -> Result<_, ConfigError> {
        Ok(MohirAiSettings {
            base_url: get("MOHIRAI_BASE_URL").unwrap_or_else(|| "https://uzbekvoice.ai".into()),
            api_key: SecretString::from(api_key),
            poll_interval: std::time::Duration::from_millis(positive(
                get,
                "MOHIRAI_POLL_INTERVAL_MS",
                5_000u64,
            )?),
        })
    });
    let whisper = match (get("STT_OPENAI_BASE_URL"), get("STT_OPENAI_API_KEY")) {
        (None, None) => None,
        (base_url, api_key) => Some(WhisperSettings {
            base_url: base_url.unwrap_or_else(|| "https://api.openai.com/v1".into()),
            api_key: SecretString::from(api_key.unwrap_or_default()),
            model: get("STT_OPENAI_MODEL").unwrap_or_else(|| "whisper-1".into()),
        }),
    };
    Ok(ProviderSettings {
        chat,
        mohirai: mohirai.transpose()?,
        whisper,
        http: dialix_infrastructure::HttpPolicy {
            timeout: std::time::Duration::from_secs(positive(
                get,
                "PROVIDER_TIMEOUT_SECS",
                120u64,
            )?),
            ..Default::default()
        },
    })
}

/// A price in minor units; zero is allowed (a free step), negative is not.
fn price(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: i64,
) -> Result<i64, ConfigError> {
    let value = parse(get, name, default)?;
    if value < 0 {
        return Err(invalid(name, "must not be negative"));
    }
    Ok(value)
}

fn country_code(raw: Option<String>) -> Result<String, ConfigError> {
    let code = raw.unwrap_or_else(|| "998".into());
    let code = code.trim().trim_start_matches('+').to_owned();
    if !(1..=3).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(
            "DEFAULT_COUNTRY_CODE",
            "must be 1 to 3 digits, e.g. 998",
        ));
    }
    Ok(code)
}

fn stt_models(raw: Option<String>) -> Result<Vec<String>, ConfigError> {
    let models: Vec<String> = raw
        .as_deref()
        .unwrap_or("mohirai,whisper")
        .split(',')
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty())
        .collect();
    if models.is_empty() {
        return Err(invalid("STT_MODELS", "must name at least one model"));
    }
    Ok(models)
}

fn invalid(name: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        name,
        problem: problem.into(),
    }
}

fn parse<T: FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match get(name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|e| invalid(name, format!("{raw:?} is not valid: {e}"))),
    }
}

fn positive<T>(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + Default,
    T::Err: std::fmt::Display,
{
    let value = parse(get, name, default)?;
    if value <= T::default() {
        return Err(invalid(name, "must be greater than zero"));
    }
    Ok(value)
}

fn seconds(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: i64,
) -> Result<Duration, ConfigError> {
    positive(get, name, default).map(Duration::seconds)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_give_a_local_sqlite_server() {
        let config = config(&[]).unwrap();
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(config.bind_addr.to_string(), "127.0.0.1:8080");
        assert!(config.jwt_secret.is_none());
        assert_eq!(config.access_token_ttl, Duration::minutes(15));
        assert!(config.cors_allowed_origins.is_empty());
    }

    #[test]
    fn malformed_settings_are_named() {
        for (name, value) in [
            ("BIND_ADDR", "localhost"),
            ("ACCESS_TOKEN_TTL_SECS", "-5"),
            ("DATABASE_URL", "mysql://x"),
            ("JWT_SECRET", "short"),
            ("DIALIX_ENV", "staging"),
            ("METRICS_TOKEN", "short"),
            ("HTTP_WORKERS", "0"),
            ("AUDIT_RETENTION_DAYS", "forever"),
            ("STT_MODELS", " , "),
            ("DIALIX_MAX_UPLOAD_MB", "0"),
            ("PRICE_STT_PER_MINUTE", "-1"),
            ("MAX_QUESTIONS_PER_SESSION", "0"),
            ("PRICE_CHAT_PER_QUESTION", "-5"),
            ("CHAT_MASK_PII", "yes"),
            ("DEFAULT_COUNTRY_CODE", "uz"),
            ("DIALIX_WORKERS", "many"),
            ("METRICS_BIND_ADDR", "9100"),
            ("SHUTDOWN_GRACE_SECS", "-1"),
            ("AZURE_OPENAI_ENDPOINT", "https://x.openai.azure.com"),
            ("DIALIX_AUDIO_STORE", "/var/lib/dialix/audio"),
            ("AUDIO_PLAYBACK", "redirect"),
            ("AUDIO_PLAYBACK", "proxy"),
            ("AUDIO_PRESIGN_TTL_SECS", "0"),
            ("AUDIO_PRESIGN_TTL_SECS", "604801"),
        ] {
            let error = config(&[(name, value)]).unwrap_err();
            assert_eq!(error.name, name, "{error}");
        }
    }

    #[test]
    fn production_refuses_insecure_defaults() {
        let error = config(&[("DIALIX_ENV", "production")]).unwrap_err();
        assert_eq!(error.name, "JWT_SECRET");
        let secret = "x".repeat(32);
        let error = config(&[("DIALIX_ENV", "production"), ("JWT_SECRET", &secret)]).unwrap_err();
        assert_eq!(error.name, "DIALIX_ADMIN_PASSWORD");
        let error = config(&[
            ("DIALIX_ENV", "production"),
            ("JWT_SECRET", &secret),
            ("DIALIX_ADMIN_PASSWORD", "a-real-admin-password"),
        ])
        .unwrap_err();
        assert_eq!(error.name, "DIALIX_SECRETS_KEY");
        let key = "0123456789abcdef".repeat(4);
        let production = config(&[
            ("DIALIX_ENV", "production"),
            ("JWT_SECRET", &secret),
            ("DIALIX_ADMIN_PASSWORD", "a-real-admin-password"),
            ("DIALIX_SECRETS_KEY", &key),
        ])
        .unwrap();
        assert!(!production.integrations.secrets_key.development);
        assert!(!production.integrations.allow_local_webhooks);
        let error = config(&[("DIALIX_SECRETS_KEY", "too-short")]).unwrap_err();
        assert_eq!(error.name, "DIALIX_SECRETS_KEY");
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let config = config(&[
            ("JWT_SECRET", "a-jwt-secret-that-is-long-enough-1234"),
            ("DIALIX_ADMIN_PASSWORD", "an-admin-password"),
            ("OPENAI_API_KEY", "sk-openai-key"),
            ("MOHIRAI_API_KEY", "mohirai-key"),
            ("STT_OPENAI_API_KEY", "stt-key"),
            ("DIALIX_AUDIO_STORE", "s3://dialix-audio"),
            ("AWS_ACCESS_KEY_ID", "aws-key-id"),
            ("AWS_SECRET_ACCESS_KEY", "aws-secret-key"),
            ("AWS_REGION", "us-east-1"),
            ("DIALIX_SECRETS_KEY", &"ab".repeat(32)),
        ])
        .unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains(&"ab".repeat(32)) && !printed.contains("171, 171"));
        for secret in [
            "a-jwt-secret-that-is-long-enough-1234",
            "an-admin-password",
            "sk-openai-key",
            "mohirai-key",
            "stt-key",
            "aws-secret-key",
        ] {
            assert!(!printed.contains(secret), "{secret} leaked");
        }
    }

    #[test]
    fn audio_goes_to_a_directory_or_a_bucket() {
        use dialix_infrastructure::AudioLocation;
        let defaults = config(&[]).unwrap();
        assert!(
            matches!(&defaults.audio_store, AudioLocation::Directory(dir) if dir.as_os_str() == "./data/audio")
        );
        assert_eq!(defaults.audio_playback, AudioPlayback::Stream);
        let deprecated = config(&[("DIALIX_AUDIO_DIR", "/srv/audio")]).unwrap();
        assert_eq!(deprecated.audio_store.to_string(), "file:///srv/audio");

        let bucket = [
            ("DIALIX_AUDIO_STORE", "s3://dialix-audio/calls"),
            ("AWS_ACCESS_KEY_ID", "key-id"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_REGION", "us-east-1"),
            ("AUDIO_PLAYBACK", "redirect"),
            ("AUDIO_PRESIGN_TTL_SECS", "60"),
        ];
        let s3 = config(&bucket).unwrap();
        assert_eq!(s3.audio_store.to_string(), "s3://dialix-audio/calls");
        assert_eq!(
            s3.audio_playback,
            AudioPlayback::Redirect {
                ttl: std::time::Duration::from_secs(60)
            }
        );
        let error = config(&[bucket[0], bucket[1], bucket[3]]).unwrap_err();
        assert_eq!(error.name, "AWS_SECRET_ACCESS_KEY", "{error}");
    }

    #[test]
    fn shutdown_grace_and_the_metrics_address_are_optional() {
        let defaults = config(&[]).unwrap();
        assert_eq!(defaults.shutdown_grace, std::time::Duration::from_secs(30));
        assert_eq!(defaults.metrics_bind_addr, None);
        let set = config(&[
            ("SHUTDOWN_GRACE_SECS", "5"),
            ("METRICS_BIND_ADDR", "0.0.0.0:9100"),
        ])
        .unwrap();
        assert_eq!(set.shutdown_grace, std::time::Duration::from_secs(5));
        assert_eq!(set.metrics_bind_addr, Some("0.0.0.0:9100".parse().unwrap()));
        let at_once = config(&[("SHUTDOWN_GRACE_SECS", "0")]).unwrap();
        assert_eq!(at_once.shutdown_grace, std::time::Duration::ZERO);
    }

    #[test]
    fn chat_allows_ten_free_questions_with_masking_unless_told_otherwise() {
        let defaults = config(&[]).unwrap().chat;
        assert_eq!(
            defaults,
            dialix_chat::ChatPolicy {
                max_questions: 10,
                price_per_question: 0,
                mask_pii: true,
                context_chars: 100_000,
            }
        );
        let set = config(&[
            ("MAX_QUESTIONS_PER_SESSION", "3"),
            ("PRICE_CHAT_PER_QUESTION", "1500"),
            ("CHAT_MASK_PII", "false"),
            ("CHAT_CONTEXT_CHARS", "5000"),
        ])
        .unwrap()
        .chat;
        assert_eq!(
            (
                set.max_questions,
                set.price_per_question,
                set.mask_pii,
                set.context_chars
            ),
            (3, 1500, false, 5000)
        );
    }

    #[test]
    fn cors_origins_are_a_comma_separated_list() {
        let config = config(&[(
            "CORS_ALLOWED_ORIGINS",
            "https://app.dialix.uz, http://localhost:3000,",
        )])
        .unwrap();
        assert_eq!(
            config.cors_allowed_origins,
            ["https://app.dialix.uz", "http://localhost:3000"]
        );
    }
}
