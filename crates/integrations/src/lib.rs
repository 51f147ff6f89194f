//! Integrations: a company's OnlinePBX (calls imported into the calls pipeline, automatically
//! on a schedule or by hand; operators synced from its users) and its Bitrix24 (who the
//! client of a call is, and their deals). Credentials are sealed at rest by a
//! [`SecretBox`] and never shown again in full.

mod access;
mod audio;
mod auto_import;
mod connections;
mod crm;
mod import;
mod model;
mod operators;
mod ports;
mod vault;

pub use audio::PbxAudioSource;
pub use auto_import::{INTERVAL_MINUTES, MIN_TALK_SECONDS};
pub use connections::{ConnectionPolicy, ConnectionPorts, ConnectionService};
pub use crm::{CrmPorts, CrmService};
pub use import::{
    CallFilter, CallSelection, DEFAULT_MIN_TALK_SECONDS, DateRange, ImportOutcome, ImportPolicy,
    ImportPorts, ImportRequest, ImportService, ListedCall, MAX_CALL_IDS, MAX_IMPORT_DAYS,
    PlannedCall,
};
pub use model::{
    AutoImport, AutoImportSettings, BitrixAccount, CallDirection, CrmContact, ImportRun,
    IntegrationKind, PbxAccount, PbxCall, PbxUser, StoredIntegration,
};
pub use operators::OperatorSync;
pub use ports::{AutoImportRepository, CrmClient, IntegrationRepository, PbxClient, SecretBox};
#[cfg(any(test, feature = "mock"))]
pub use ports::{
    MockAutoImportRepository, MockCrmClient, MockIntegrationRepository, MockPbxClient,
    MockSecretBox,
};
pub use vault::Vault;
