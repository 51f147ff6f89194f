use async_trait::async_trait;
use dialix_audit::{ResourceAccess, ResourceOwner};
use dialix_kernel::{AccountId, CompanyId, DomainResult};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::Database;
use crate::entities::{account, company};
use crate::sql::internal;

/// Finds who owns a resource, by type: one arm per resource type the log knows.
pub struct SeaOrmResourceAccess {
    db: Database,
}

impl SeaOrmResourceAccess {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl ResourceAccess for SeaOrmResourceAccess {
    async fn owner_of(
        &self,
        resource_type: &str,
        resource_id: &str,
    ) -> DomainResult<Option<ResourceOwner>> {
        let Ok(id) = Uuid::parse_str(resource_id) else {
            return Ok(None);
        };
        let db = self.db.connection();
        Ok(match resource_type {
            dialix_account::RESOURCE_ACCOUNT => account::Entity::find_by_id(id)
                .one(db)
                .await
                .map_err(internal)?
                .map(|row| ResourceOwner {
                    company_id: row.company_id.map(CompanyId::from_uuid),
                    account_id: Some(AccountId::from_uuid(row.id)),
                }),
            dialix_company::RESOURCE_COMPANY => company::Entity::find_by_id(id)
                .filter(company::Column::DeletedAt.is_null())
                .one(db)
                .await
                .map_err(internal)?
                .map(|row| ResourceOwner {
                    company_id: Some(CompanyId::from_uuid(row.id)),
                    account_id: None,
                }),
            _ => None,
        })
    }
}
