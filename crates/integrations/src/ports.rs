use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use dialix_calls::{CrmDeal, FetchedAudio, ProviderError};
use dialix_kernel::{CompanyId, DomainResult, Tx};
use time::OffsetDateTime;

use crate::{
    AutoImport, BitrixAccount, CrmContact, IntegrationKind, PbxAccount, PbxCall, PbxUser,
    StoredIntegration,
};

/// Authenticated encryption of the credentials at rest (AES-256-GCM with the deployment's
/// `DIALIX_SECRETS_KEY`).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait SecretBox: Send + Sync {
    /// A fresh nonce and the ciphertext with its tag.
    fn seal(&self, plaintext: &[u8]) -> DomainResult<Vec<u8>>;
    /// `Internal` when the bytes were not sealed with this key or were altered.
    fn open(&self, sealed: &[u8]) -> DomainResult<Vec<u8>>;
}

/// The companies' stored connections.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait IntegrationRepository: Send + Sync {
    /// `None` when the company has not connected that service.
    async fn find(
        &self,
        company: CompanyId,
        kind: IntegrationKind,
    ) -> DomainResult<Option<StoredIntegration>>;
    /// Stores the connection, replacing the company's previous one of the same kind.
    async fn save(&self, tx: &mut Tx, integration: &StoredIntegration) -> DomainResult<()>;
    /// Removes it; `false` when there was none.
    async fn delete(
        &self,
        tx: &mut Tx,
        company: CompanyId,
        kind: IntegrationKind,
    ) -> DomainResult<bool>;
}

/// The automatic imports and their positions.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AutoImportRepository: Send + Sync {
    /// `None` when the company never set one up.
    async fn find(&self, company: CompanyId) -> DomainResult<Option<AutoImport>>;
    /// Inserts it when it was never stored (`row_version` at its default; `Stale` if the
    /// company got one meanwhile); otherwise writes it if it is still at `import.row_version`
    /// (else `Stale`, also when it was deleted meanwhile). Advances the version either way.
    async fn save(&self, tx: &mut Tx, import: &mut AutoImport) -> DomainResult<()>;
    /// Removes it; a missing one is not an error.
    async fn delete(&self, tx: &mut Tx, company: CompanyId) -> DomainResult<()>;
    /// One enabled import whose `next_run_at` has come, claimed by one conditional write:
    /// its `next_run_at` moves to `now + lease` and its version advances, so no other worker
    /// (of this process or another) claims it before the lease has passed, and the run's
    /// closing `save` is `Stale` if someone else claimed or changed it meanwhile. `None`
    /// when none is due.
    async fn claim_due(
        &self,
        now: OffsetDateTime,
        lease: Duration,
    ) -> DomainResult<Option<AutoImport>>;
}

/// An OnlinePBX client. The adapter keeps each account's session key and authenticates
/// again only when the PBX rejects it. The PBX refusing a request (`status: "0"`, a wrong
/// key) is `Permanent` with its `comment`; network trouble and 5xx are `Transient`.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait PbxClient: Send + Sync {
    /// Authenticates (`auth.json`), keeping the session key.
    async fn check(&self, account: &PbxAccount) -> Result<(), ProviderError>;
    /// The calls that started at or after `from` and ended at or before `to`.
    async fn calls(
        &self,
        account: &PbxAccount,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<PbxCall>, ProviderError>;
    /// One call of the history by its id (the same search, by `uuid`); `None` if the PBX
    /// has no such call.
    async fn call(
        &self,
        account: &PbxAccount,
        call_id: &str,
    ) -> Result<Option<PbxCall>, ProviderError>;
    /// Asks for the call's download URL, then downloads the recording.
    async fn download(
        &self,
        account: &PbxAccount,
        call_id: &str,
    ) -> Result<FetchedAudio, ProviderError>;
    /// The PBX's users (operators).
    async fn users(&self, account: &PbxAccount) -> Result<Vec<PbxUser>, ProviderError>;
}

/// A Bitrix24 client. The adapter keeps to the portal's rate limit (about two requests a
/// second) and waits and retries when the portal answers `QUERY_LIMIT_EXCEEDED`. A wrong or
/// removed webhook is `Permanent` with the portal's `error_description`.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CrmClient: Send + Sync {
    /// One cheap read, to check the webhook works.
    async fn check(&self, account: &BitrixAccount) -> Result<(), ProviderError>;
    /// The first contact with this phone number, written exactly as given.
    async fn find_contact(
        &self,
        account: &BitrixAccount,
        phone: &str,
    ) -> Result<Option<CrmContact>, ProviderError>;
    /// The contact's deals (every page), without stage names.
    async fn deals(
        &self,
        account: &BitrixAccount,
        contact_id: &str,
    ) -> Result<Vec<CrmDeal>, ProviderError>;
    /// Deal stage names by stage id (`crm.status.list`).
    async fn stage_names(
        &self,
        account: &BitrixAccount,
    ) -> Result<HashMap<String, String>, ProviderError>;
}
