//! Adapters of the integrations: the credentials' sealing and the OnlinePBX and Bitrix24
//! clients (wire formats in `shared/EXTERNAL_APIS.md`).

mod bitrix24;
mod onlinepbx;
mod secret_box;
mod wire;

pub use bitrix24::Bitrix24;
pub use onlinepbx::OnlinePbx;
pub use secret_box::{AesGcmSecretBox, parse_secrets_key};

mod auto_imports;
mod store;

pub use auto_imports::SeaAutoImports;
pub use store::SeaIntegrationStore;
