use dialix_kernel::{AccountId, ChecklistId, CompanyId, RowVersion};
use secrecy::SecretString;
use time::OffsetDateTime;

/// The services a company can connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntegrationKind {
    /// OnlinePBX: calls to import, operators to sync.
    Pbx,
    /// Bitrix24: who the client is and their deals.
    Bitrix,
}

impl IntegrationKind {
    pub const ALL: [IntegrationKind; 2] = [IntegrationKind::Pbx, IntegrationKind::Bitrix];

    pub const fn as_str(self) -> &'static str {
        match self {
            IntegrationKind::Pbx => "pbx",
            IntegrationKind::Bitrix => "bitrix",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == value)
    }

    /// The service's name in messages.
    pub const fn service(self) -> &'static str {
        match self {
            IntegrationKind::Pbx => "OnlinePBX",
            IntegrationKind::Bitrix => "Bitrix24",
        }
    }
}

/// An OnlinePBX account: `https://api.onlinepbx.ru/{domain}` and its API key.
#[derive(Debug, Clone)]
pub struct PbxAccount {
    pub domain: String,
    pub api_key: SecretString,
}

/// A Bitrix24 inbound webhook, e.g. `https://portal.bitrix24.kz/rest/1/abc123/`: the URL
/// itself is the secret.
#[derive(Debug, Clone)]
pub struct BitrixAccount {
    pub webhook_url: SecretString,
}

/// A company's stored connection to one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredIntegration {
    pub company_id: CompanyId,
    pub kind: IntegrationKind,
    /// What may be shown: the PBX domain, the Bitrix24 portal's host.
    pub label: String,
    /// The secret (API key, webhook URL) sealed by the [`crate::SecretBox`].
    pub sealed_secret: Vec<u8>,
    /// The secret masked for display: its last four characters.
    pub secret_hint: String,
    pub updated_by: AccountId,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// Who called whom, as the PBX's `accountcode` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallDirection {
    Inbound,
    Outbound,
    /// Between two extensions: no client.
    Internal,
}

impl CallDirection {
    pub const fn as_str(self) -> &'static str {
        match self {
            CallDirection::Inbound => "inbound",
            CallDirection::Outbound => "outbound",
            CallDirection::Internal => "internal",
        }
    }
}

/// One call of the PBX's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbxCall {
    /// The PBX's `uuid`.
    pub id: String,
    pub started_at: OffsetDateTime,
    pub ended_at: OffsetDateTime,
    /// From ringing to hang-up.
    pub duration_seconds: u32,
    /// The conversation itself (`user_talk_time`).
    pub talk_seconds: u32,
    pub direction: CallDirection,
    pub caller_number: String,
    pub caller_name: Option<String>,
    pub destination_number: String,
}

impl PbxCall {
    /// The operator's extension: the callee of an inbound call, the caller otherwise.
    pub fn operator_extension(&self) -> &str {
        match self.direction {
            CallDirection::Inbound => &self.destination_number,
            CallDirection::Outbound | CallDirection::Internal => &self.caller_number,
        }
    }

    /// The client's number as the PBX wrote it; none for internal calls.
    pub fn client_number(&self) -> Option<&str> {
        match self.direction {
            CallDirection::Inbound => Some(&self.caller_number),
            CallDirection::Outbound => Some(&self.destination_number),
            CallDirection::Internal => None,
        }
    }
}

/// A user of the PBX: an operator's extension and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbxUser {
    pub extension: String,
    pub name: String,
}

/// A contact of the CRM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrmContact {
    pub id: String,
    pub name: String,
}

/// What a company chose for the automatic import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoImportSettings {
    pub enabled: bool,
    /// Minutes between two runs.
    pub interval_minutes: u32,
    /// Calls with less talk time are skipped.
    pub min_talk_seconds: u32,
    /// Whether imported calls get the general analysis.
    pub general: bool,
    /// The checklist imported calls are scored with (else their operator's, if any).
    pub checklist_id: Option<ChecklistId>,
}

/// A company's automatic import and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoImport {
    pub company_id: CompanyId,
    pub settings: AutoImportSettings,
    /// Whose records imported calls become: who last saved the settings.
    pub owner_id: AccountId,
    /// Calls that started before this are never imported automatically (the moment the
    /// import was first switched on).
    pub import_from: OffsetDateTime,
    /// Every call that started before this (and was in the PBX's history when a run read it)
    /// was considered: imported, skipped, or already there.
    pub imported_until: OffsetDateTime,
    /// When a worker should run it next; a claimed run moves it past its lease.
    pub next_run_at: OffsetDateTime,
    pub last_run: Option<ImportRun>,
    pub updated_at: OffsetDateTime,
    pub row_version: RowVersion,
}

/// What one import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportRun {
    pub at: Option<OffsetDateTime>,
    /// Records created (and queued).
    pub imported: u32,
    /// Calls imported before (by hand or by an earlier run).
    pub already_imported: u32,
    /// Calls with less talk time than the minimum.
    pub skipped_short: u32,
    /// Calls not imported because the balance does not cover them (automatic runs take
    /// them up again once it does).
    pub waiting_for_balance: u32,
    /// Why the run could not finish (the PBX's answer), if it could not.
    pub error: Option<String>,
}
