//! Imported calls' audio, downloaded from the company's PBX by the record's job.

use std::sync::Arc;

use dialix_calls::{CallAudioSource, FetchedAudio, ProviderError};
use dialix_kernel::CompanyId;

use crate::{PbxClient, Vault};

/// The PBX as the source of imported calls' audio.
pub struct PbxAudioSource {
    pub vault: Vault,
    pub pbx: Arc<dyn PbxClient>,
}

#[async_trait::async_trait]
impl CallAudioSource for PbxAudioSource {
    async fn fetch(
        &self,
        company: CompanyId,
        pbx_call_id: &str,
    ) -> Result<FetchedAudio, ProviderError> {
        let account = match self.vault.pbx(company).await {
            Ok(Some(account)) => account,
            Ok(None) => {
                return Err(ProviderError::Permanent(
                    "the company's OnlinePBX is no longer connected".into(),
                ));
            }
            // Our own trouble (the database): the job tries again.
            Err(error) => return Err(ProviderError::Transient(error.chain())),
        };
        self.pbx.download(&account, pbx_call_id).await
    }
}
