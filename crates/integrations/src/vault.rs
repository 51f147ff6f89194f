//! The credentials, opened for use: the one place a sealed secret becomes an account.

use std::sync::Arc;

use dialix_kernel::{CompanyId, DomainError, DomainResult};
use secrecy::SecretString;

use crate::{
    BitrixAccount, IntegrationKind, IntegrationRepository, PbxAccount, SecretBox, StoredIntegration,
};

/// Reads and opens a company's stored connections.
#[derive(Clone)]
pub struct Vault {
    pub integrations: Arc<dyn IntegrationRepository>,
    pub secrets: Arc<dyn SecretBox>,
}

impl Vault {
    /// The company's OnlinePBX account; `None` when it connected none.
    pub async fn pbx(&self, company: CompanyId) -> DomainResult<Option<PbxAccount>> {
        Ok(match self.stored(company, IntegrationKind::Pbx).await? {
            Some((stored, secret)) => Some(PbxAccount {
                domain: stored.label,
                api_key: secret,
            }),
            None => None,
        })
    }

    /// The company's Bitrix24 webhook; `None` when it connected none.
    pub async fn bitrix(&self, company: CompanyId) -> DomainResult<Option<BitrixAccount>> {
        Ok(self
            .stored(company, IntegrationKind::Bitrix)
            .await?
            .map(|(_, secret)| BitrixAccount {
                webhook_url: secret,
            }))
    }

    async fn stored(
        &self,
        company: CompanyId,
        kind: IntegrationKind,
    ) -> DomainResult<Option<(StoredIntegration, SecretString)>> {
        let Some(stored) = self.integrations.find(company, kind).await? else {
            return Ok(None);
        };
        let plain = self.secrets.open(&stored.sealed_secret)?;
        let secret = String::from_utf8(plain).map_err(|_| {
            DomainError::internal(format!("the stored {} secret is not text", kind.service()))
        })?;
        Ok(Some((stored, secret.into())))
    }

    /// Seals a secret for storage.
    pub fn seal(&self, secret: &str) -> DomainResult<Vec<u8>> {
        self.secrets.seal(secret.as_bytes())
    }
}
