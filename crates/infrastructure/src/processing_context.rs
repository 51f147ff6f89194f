use async_trait::async_trait;
use dialix_calls::ProcessingContext;
use dialix_kernel::{AccountId, CompanyId, DomainResult};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::Database;
use crate::entities::{company, user_settings};
use crate::sql::internal;

/// Reads the owner's settings and the company's configuration (`settings.language`,
/// `settings.call_purposes`) for the pipeline.
pub struct SeaOrmProcessingContext {
    db: Database,
    default_stt_model: String,
}

impl SeaOrmProcessingContext {
    pub fn new(db: Database, default_stt_model: String) -> Self {
        Self {
            db,
            default_stt_model,
        }
    }

    async fn company_settings(&self, id: CompanyId) -> DomainResult<serde_json::Value> {
        Ok(company::Entity::find_by_id(id.as_uuid())
            .one(self.db.connection())
            .await
            .map_err(internal)?
            .map(|c| c.settings)
            .unwrap_or_default())
    }
}

#[async_trait]
impl ProcessingContext for SeaOrmProcessingContext {
    async fn stt_model(&self, owner: AccountId) -> DomainResult<String> {
        let settings = user_settings::Entity::find()
            .filter(user_settings::Column::UserId.eq(owner.as_uuid()))
            .one(self.db.connection())
            .await
            .map_err(internal)?;
        Ok(settings.map_or_else(|| self.default_stt_model.clone(), |s| s.preferred_stt_model))
    }

    async fn language(&self, id: CompanyId) -> DomainResult<String> {
        let settings = self.company_settings(id).await?;
        Ok(settings["language"]
            .as_str()
            .filter(|l| ["uz", "ru", "en"].contains(l))
            .unwrap_or("uz")
            .to_owned())
    }

    async fn call_purposes(&self, id: CompanyId) -> DomainResult<Vec<String>> {
        let settings = self.company_settings(id).await?;
        Ok(settings["call_purposes"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|p| p.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }
}
