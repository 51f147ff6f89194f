//! The composition root: every adapter is built once here and handed to the services.

use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::Duration;

use dialix_account::{
    AccountPorts, AccountService, AuthPolicy, AuthPorts, AuthService, PasswordPolicy,
    SettingsPorts, SettingsService,
};
use dialix_audit::{AuditPorts, AuditService};
use dialix_calls::{
    CallAnalyzer, CatalogPorts, CatalogService, ProcessingPorts, ProcessingService, Providers,
    RecordChangeSignal, RecordPolicy, RecordPorts, RecordService, RetentionPorts, RetentionService,
    SpeechToText,
};
use dialix_chat::{ChatModel, ChatPorts, ChatService, LanguageModel};
use dialix_company::{CompanyPorts, CompanyService};
use dialix_grouping::{GroupingPorts, GroupingService};
use dialix_infrastructure::SeaOrmComplianceFigures;
use dialix_infrastructure::SeaOrmDashboardFigures;
use dialix_infrastructure::{
    AesGcmSecretBox, Bitrix24, OnlinePbx, SeaAutoImports, SeaIntegrationStore,
};
use dialix_infrastructure::{
    Argon2PasswordHasher, ChatEndpoint, Database, HttpPolicy, JwtAccessTokens, MohirAiTranscriber,
    OpenAiChat, OpenAiTranscriber, PgRecordChanges, PolledRecordChanges, SeaOrmAccounts,
    SeaOrmAdministrators, SeaOrmAuditLog, SeaOrmBilling, SeaOrmCallGroups, SeaOrmCatalog,
    SeaOrmChats, SeaOrmCompanies, SeaOrmCompanyTree, SeaOrmJobQueue, SeaOrmLedger,
    SeaOrmLoginAttempts, SeaOrmMembership, SeaOrmProcessingContext, SeaOrmRecords,
    SeaOrmRefreshTokens, SeaOrmResourceAccess, SeaOrmRetention, SeaOrmSettings, SeaOrmUnitOfWork,
    SeaOrmUsageFigures, SymphoniaProbe,
};
use dialix_integrations::{
    ConnectionPolicy, ConnectionPorts, ConnectionService, CrmClient, CrmPorts, CrmService,
    ImportPolicy, ImportPorts, ImportService, PbxAudioSource, PbxClient, Vault,
};
use dialix_kernel::{Clock, CompanyTree, DomainResult, SystemClock, UnitOfWork};
use dialix_reporting::{CompliancePorts, ComplianceService, Framing, UsagePorts, UsageService};
use dialix_reporting::{DashboardPorts, DashboardService};

use crate::config::{AudioPlayback, Config};
use crate::http::{Metrics, Provider};
use crate::measured::Measured;

/// The services the handlers call, shared by every HTTP worker.
pub struct AppState {
    pub auth: AuthService,
    pub accounts: AccountService,
    pub settings: SettingsService,
    pub companies: CompanyService,
    pub records: RecordService,
    pub grouping: GroupingService,
    pub usage: UsageService,
    pub compliance: ComplianceService,
    pub dashboard: DashboardService,
    pub chat: ChatService,
    pub connections: ConnectionService,
    pub imports: ImportService,
    pub crm: Arc<CrmService>,
    pub processing: ProcessingService,
    pub retention: RetentionService,
    pub catalog: CatalogService,
    pub audit: AuditService,
    pub database: Database,
    /// The largest accepted upload, in bytes.
    pub max_upload_bytes: usize,
    /// Whether `GET /records/{id}/audio` streams or redirects to the bucket.
    pub audio_playback: AudioPlayback,
    /// Shared with the provider decorators and the processing observer.
    pub metrics: Arc<Metrics>,
    /// What `GET /metrics` asks for; `None`: metrics are not served.
    pub metrics_token: Option<SecretString>,
}

impl AppState {
    pub async fn build(
        config: &Config,
        jwt_secret: &SecretString,
        database: Database,
    ) -> DomainResult<Self> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let uow: Arc<dyn UnitOfWork> = Arc::new(SeaOrmUnitOfWork::new(database.clone()));
        let audit_log = Arc::new(SeaOrmAuditLog::new(database.clone()));
        let tree: Arc<dyn CompanyTree> = Arc::new(SeaOrmCompanyTree::new(database.clone()));
        let accounts = Arc::new(SeaOrmAccounts::new(database.clone()));
        let refresh_tokens = Arc::new(SeaOrmRefreshTokens::new(database.clone()));
        let hasher = Arc::new(Argon2PasswordHasher::new().await?);
        let auth = AuthService::new(
            AuthPorts {
                accounts: accounts.clone(),
                hasher: hasher.clone(),
                access_tokens: Arc::new(JwtAccessTokens::new(
                    jwt_secret.expose_secret().as_bytes(),
                )),
                refresh_tokens: refresh_tokens.clone(),
                attempts: Arc::new(SeaOrmLoginAttempts::new(database.clone())),
                uow: uow.clone(),
                audit: audit_log.clone(),
                clock: clock.clone(),
            },
            AuthPolicy {
                access_token_ttl: config.access_token_ttl,
                refresh_token_ttl: config.refresh_token_ttl,
                max_failures_per_login: config.login_max_failures,
                max_failures_per_address: config.login_max_failures_per_address,
                failure_window: config.login_failure_window,
            },
        );
        let account_service = AccountService::new(
            AccountPorts {
                accounts,
                companies: tree.clone(),
                hasher,
                refresh_tokens,
                uow: uow.clone(),
                audit: audit_log.clone(),
                clock: clock.clone(),
            },
            PasswordPolicy {
                min_length: config.password_min_length,
            },
        );
        let settings = SettingsService::new(
            SettingsPorts {
                settings: Arc::new(SeaOrmSettings::new(database.clone())),
                uow: uow.clone(),
                audit: audit_log.clone(),
                clock: clock.clone(),
            },
            config.stt_models.clone(),
        );
        let companies = CompanyService::new(CompanyPorts {
            companies: Arc::new(SeaOrmCompanies::new(database.clone())),
            ledger: Arc::new(SeaOrmLedger::new(database.clone())),
            administrators: Arc::new(SeaOrmAdministrators::new(database.clone())),
            membership: Arc::new(SeaOrmMembership::new(database.clone())),
            tree: tree.clone(),
            uow: uow.clone(),
            audit: audit_log.clone(),
            clock: clock.clone(),
        });
        let record_store = Arc::new(SeaOrmRecords::new(database.clone()));
        let audio = config.audio_store.open()?;
        let billing = Arc::new(SeaOrmBilling::new(database.clone()));
        let jobs = Arc::new(SeaOrmJobQueue::new(database.clone()));
        let context = Arc::new(SeaOrmProcessingContext::new(
            database.clone(),
            config.stt_models.first().cloned().unwrap_or_default(),
        ));
        let metrics = Arc::new(Metrics::new());
        let providers = providers(config, &metrics);
        let catalog_store = Arc::new(SeaOrmCatalog::new(database.clone()));
        let records = RecordService::new(
            RecordPorts {
                records: record_store.clone(),
                audio: audio.clone(),
                probe: Arc::new(SymphoniaProbe),
                billing: billing.clone(),
                jobs: jobs.clone(),
                context: context.clone(),
                checklists: catalog_store.clone(),
                operators: catalog_store.clone(),
                tree: tree.clone(),
                uow: uow.clone(),
                audit: audit_log.clone(),
                clock: clock.clone(),
                changes: record_changes(&database),
            },
            RecordPolicy {
                prices: config.prices,
                default_country_code: config.default_country_code.clone(),
                pbx_offset: time::UtcOffset::from_hms(5, 0, 0).expect("a valid offset"),
            },
            providers.clone(),
        );
        let catalog = CatalogService::new(CatalogPorts {
            operators: catalog_store.clone(),
            checklists: catalog_store.clone(),
            tree: tree.clone(),
            uow: uow.clone(),
            audit: audit_log.clone(),
            clock: clock.clone(),
        });
        let retention = RetentionService::new(RetentionPorts {
            candidates: Arc::new(SeaOrmRetention::new(database.clone())),
            records: record_store.clone(),
            audio: audio.clone(),
            uow: uow.clone(),
            audit: audit_log.clone(),
            clock: clock.clone(),
        });
        let call_groups = Arc::new(SeaOrmCallGroups::new(database.clone()));
        let grouping = GroupingService::new(
            GroupingPorts {
                groups: call_groups.clone(),
                records: record_store.clone(),
                tree: tree.clone(),
                clock: clock.clone(),
            },
            config.default_country_code.clone(),
        );
        let chat = ChatService::new(
            ChatPorts {
                chats: Arc::new(SeaOrmChats::new(database.clone())),
                records: record_store.clone(),
                groups: call_groups,
                checklists: catalog_store.clone(),
                settings: Arc::new(SeaOrmSettings::new(database.clone())),
                billing: billing.clone(),
                model: chat_model(config, &metrics),
                tree: tree.clone(),
                uow: uow.clone(),
                audit: audit_log.clone(),
                clock: clock.clone(),
            },
            config.chat,
            config.default_country_code.clone(),
        );
        let integrations = &config.integrations;
        let vault = Vault {
            integrations: Arc::new(SeaIntegrationStore::new(database.clone())),
            secrets: Arc::new(AesGcmSecretBox::new(integrations.secrets_key.bytes)),
        };
        let pbx: Arc<dyn PbxClient> = Arc::new(Measured::new(
            OnlinePbx::new(
                integrations.onlinepbx_base_url.clone(),
                config.providers.http,
            ),
            Provider::OnlinePbx,
            metrics.clone(),
        ));
        let crm_client: Arc<dyn CrmClient> = Arc::new(Measured::new(
            Bitrix24::new(config.providers.http, integrations.bitrix_min_interval),
            Provider::Bitrix24,
            metrics.clone(),
        ));
        let auto_imports = Arc::new(SeaAutoImports::new(database.clone()));
        let connections = ConnectionService::new(
            ConnectionPorts {
                vault: vault.clone(),
                auto_imports: auto_imports.clone(),
                pbx: pbx.clone(),
                crm: crm_client.clone(),
                tree: tree.clone(),
                uow: uow.clone(),
                audit: audit_log.clone(),
                clock: clock.clone(),
            },
            ConnectionPolicy {
                allow_local_webhooks: integrations.allow_local_webhooks,
            },
        );
        let crm = Arc::new(CrmService::new(CrmPorts {
            vault: vault.clone(),
            crm: crm_client,
            records: record_store.clone(),
            tree: tree.clone(),
            uow: uow.clone(),
            audit: audit_log.clone(),
            clock: clock.clone(),
        }));
        let imports = ImportService::new(
            ImportPorts {
                vault: vault.clone(),
                pbx: pbx.clone(),
                auto_imports,
                records: record_store.clone(),
                billing: billing.clone(),
                jobs: jobs.clone(),
                context: context.clone(),
                checklists: catalog_store.clone(),
                operators: catalog_store.clone(),
                settings: Arc::new(SeaOrmSettings::new(database.clone())),
                tree: tree.clone(),
                uow: uow.clone(),
                audit: audit_log.clone(),
                clock: clock.clone(),
            },
            ImportPolicy {
                prices: config.prices,
                default_country_code: config.default_country_code.clone(),
                lookback: AUTO_IMPORT_LOOKBACK,
                lease: AUTO_IMPORT_LEASE,
            },
            providers.clone(),
        );
        let processing = ProcessingService::new(
            ProcessingPorts {
                records: record_store,
                jobs,
                billing,
                audio,
                probe: Arc::new(SymphoniaProbe),
                source: Arc::new(PbxAudioSource { vault, pbx }),
                crm: crm.clone(),
                context,
                checklists: catalog_store,
                uow: uow.clone(),
                clock: clock.clone(),
                observer: metrics.clone(),
            },
            providers,
            config.processing.policy,
            config.prices,
        );
        let framing = Framing {
            tree: tree.clone(),
            settings: Arc::new(SeaOrmSettings::new(database.clone())),
            clock: clock.clone(),
        };
        let usage = UsageService::new(UsagePorts {
            framing: framing.clone(),
            figures: Arc::new(SeaOrmUsageFigures::new(database.clone())),
        });
        let compliance = ComplianceService::new(CompliancePorts {
            framing: framing.clone(),
            figures: Arc::new(SeaOrmComplianceFigures::new(database.clone())),
        });
        let dashboard = DashboardService::new(DashboardPorts {
            figures: Arc::new(SeaOrmDashboardFigures::new(database.clone())),
            framing: framing.clone(),
        });
        let audit = audit_service(&database, uow, clock);
        Ok(Self {
            auth,
            accounts: account_service,
            settings,
            companies,
            records,
            grouping,
            usage,
            compliance,
            dashboard,
            chat,
            connections,
            imports,
            crm,
            processing,
            retention,
            catalog,
            audit,
            database,
            max_upload_bytes: config.max_upload_bytes,
            audio_playback: config.audio_playback,
            metrics,
            metrics_token: config.metrics_token.clone(),
        })
    }
}

/// How far before its position an automatic import searches the PBX again: calls still
/// going on at a run appear in the history later, with their earlier start.
const AUTO_IMPORT_LOOKBACK: Duration = Duration::from_secs(3 * 3600);
/// How long a worker holds a claimed automatic run (a search of the PBX and one
/// transaction) before another process may take it over.
const AUTO_IMPORT_LEASE: Duration = Duration::from_secs(300);

/// How the event streams learn of record changes: PostgreSQL announces them (one listener
/// per process), SQLite cannot, so there every stream looks twice a second.
fn record_changes(database: &Database) -> Arc<dyn RecordChangeSignal> {
    match PgRecordChanges::new(database) {
        Some(announced) => Arc::new(announced),
        None => Arc::new(PolledRecordChanges::every(Duration::from_millis(500))),
    }
}

/// The provider adapters the configuration enables, with the setting that enables each
/// missing one (for the 503 and `uploaded` status when it is absent). Each is measured.
fn providers(config: &Config, metrics: &Arc<Metrics>) -> Providers {
    let settings = &config.providers;
    let mut providers = Providers {
        missing_analyzer_setting: "analysis is not configured: set OPENAI_API_KEY (or \
            OPENAI_BASE_URL for a local server), or the AZURE_OPENAI_* settings"
            .into(),
        ..Default::default()
    };
    if let Some(chat) = &settings.chat {
        providers.analyzer = Some(Arc::new(Measured::new(
            OpenAiChat::new(chat.clone(), settings.http),
            chat_provider(chat),
            metrics.clone(),
        )) as Arc<dyn CallAnalyzer>);
    }
    match &settings.mohirai {
        Some(m) => {
            let stt = MohirAiTranscriber::new(
                &m.base_url,
                m.api_key.clone(),
                m.poll_interval,
                settings.http.timeout * 10,
                settings.http,
            );
            providers.speech_to_text.insert(
                "mohirai".into(),
                measured_stt(stt, Provider::MohirAi, metrics),
            );
        }
        None => {
            providers.missing_stt_setting.insert(
                "mohirai".into(),
                "MohirAI speech-to-text is not configured: set MOHIRAI_API_KEY".into(),
            );
        }
    }
    match &settings.whisper {
        Some(w) => {
            let stt = OpenAiTranscriber::new(
                &w.base_url,
                w.api_key.clone(),
                w.model.clone(),
                settings.http,
            );
            providers.speech_to_text.insert(
                "whisper".into(),
                measured_stt(stt, Provider::Whisper, metrics),
            );
        }
        None => {
            providers.missing_stt_setting.insert(
                "whisper".into(),
                "OpenAI-compatible speech-to-text is not configured: set STT_OPENAI_BASE_URL \
                 or STT_OPENAI_API_KEY"
                    .into(),
            );
        }
    }
    providers
}

/// A user waits for a chat answer: a provider's rate limit longer than this is not waited
/// out but passed on (503 with its `Retry-After`).
const CHAT_MAX_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The language model of AI chat: the analysis's chat-completions endpoint, measured as it
/// is; or, without one, the settings that would enable it.
fn chat_model(config: &Config, metrics: &Arc<Metrics>) -> ChatModel {
    let settings = &config.providers;
    let policy = HttpPolicy {
        max_retry_after: settings.http.max_retry_after.min(CHAT_MAX_RETRY_AFTER),
        ..settings.http
    };
    match &settings.chat {
        Some(chat) => ChatModel::Configured(Arc::new(Measured::new(
            OpenAiChat::new(chat.clone(), policy),
            chat_provider(chat),
            metrics.clone(),
        )) as Arc<dyn LanguageModel>),
        None => ChatModel::Missing(
            "AI chat is not configured: set OPENAI_API_KEY (or OPENAI_BASE_URL for a local \
             server), or the AZURE_OPENAI_* settings"
                .into(),
        ),
    }
}

fn measured_stt(
    stt: impl SpeechToText + 'static,
    provider: Provider,
    metrics: &Arc<Metrics>,
) -> Arc<dyn SpeechToText> {
    Arc::new(Measured::new(stt, provider, metrics.clone()))
}

fn chat_provider(endpoint: &ChatEndpoint) -> Provider {
    match endpoint {
        ChatEndpoint::OpenAi { .. } => Provider::OpenAiChat,
        ChatEndpoint::Azure { .. } => Provider::AzureOpenAi,
    }
}

/// The activity-log service alone (the `dialix audit` command needs nothing else).
pub fn audit_service(
    database: &Database,
    uow: Arc<dyn UnitOfWork>,
    clock: Arc<dyn Clock>,
) -> AuditService {
    let log = Arc::new(SeaOrmAuditLog::new(database.clone()));
    AuditService::new(AuditPorts {
        store: log.clone(),
        log,
        access: Arc::new(SeaOrmResourceAccess::new(database.clone())),
        tree: Arc::new(SeaOrmCompanyTree::new(database.clone())),
        uow,
        clock,
    })
}

/// What the command line needs to run one-off jobs against the database.
pub fn standalone_audit_service(database: &Database) -> AuditService {
    audit_service(
        database,
        Arc::new(SeaOrmUnitOfWork::new(database.clone())),
        Arc::new(SystemClock),
    )
}
