use async_trait::async_trait;
use dialix_audit::{ResourceAccess, ResourceOwner};
use dialix_kernel::{AccountId, CompanyId, DomainResult, ResourceType};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::Database;
use crate::entities::{account, chat_session, checklist, company, operator, record};
use crate::sql::internal;

/// Finds who owns a resource, by type: one arm per resource type, matched exhaustively.
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
        resource_type: ResourceType,
        resource_id: &str,
    ) -> DomainResult<Option<ResourceOwner>> {
        let Ok(id) = Uuid::parse_str(resource_id) else {
            return Ok(None);
        };
        let db = self.db.connection();
        let company_of = |company: Uuid| ResourceOwner {
            company_id: Some(CompanyId::from_uuid(company)),
            account_id: None,
        };
        // Records and chat sessions: their company's and their owner's.
        let company_and_owner = |(company, owner): (Uuid, Uuid)| ResourceOwner {
            company_id: Some(CompanyId::from_uuid(company)),
            account_id: Some(AccountId::from_uuid(owner)),
        };
        Ok(match resource_type {
            // Settings and administrator grants are keyed by their account's id.
            ResourceType::Account | ResourceType::Settings | ResourceType::Administrator => {
                account::Entity::find_by_id(id)
                    .select_only()
                    .column(account::Column::CompanyId)
                    .into_tuple::<Option<Uuid>>()
                    .one(db)
                    .await
                    .map_err(internal)?
                    .map(|company| ResourceOwner {
                        company_id: company.map(CompanyId::from_uuid),
                        account_id: Some(AccountId::from_uuid(id)),
                    })
            }
            // A company's integrations are keyed by the company's id.
            ResourceType::Company | ResourceType::Integration => company::Entity::find_by_id(id)
                .filter(company::Column::DeletedAt.is_null())
                .select_only()
                .column(company::Column::Id)
                .into_tuple::<Uuid>()
                .one(db)
                .await
                .map_err(internal)?
                .map(company_of),
            // Deleted records keep their trail: it says who deleted them.
            ResourceType::Record => record::Entity::find_by_id(id)
                .select_only()
                .column(record::Column::CompanyId)
                .column(record::Column::OwnerId)
                .into_tuple::<(Uuid, Uuid)>()
                .one(db)
                .await
                .map_err(internal)?
                .map(company_and_owner),
            ResourceType::Operator => operator::Entity::find_by_id(id)
                .select_only()
                .column(operator::Column::CompanyId)
                .into_tuple::<Uuid>()
                .one(db)
                .await
                .map_err(internal)?
                .map(company_of),
            ResourceType::Checklist => checklist::Entity::find_by_id(id)
                .select_only()
                .column(checklist::Column::CompanyId)
                .into_tuple::<Uuid>()
                .one(db)
                .await
                .map_err(internal)?
                .map(company_of),
            // A session's trail belongs to its owner and the company whose call it is;
            // deleted sessions keep theirs.
            ResourceType::ChatSession => chat_session::Entity::find_by_id(id)
                .select_only()
                .column(chat_session::Column::CompanyId)
                .column(chat_session::Column::OwnerId)
                .into_tuple::<(Uuid, Uuid)>()
                .one(db)
                .await
                .map_err(internal)?
                .map(company_and_owner),
            // Purges concern every tenant: their trail is for platform admins only.
            ResourceType::ActivityLog => None,
        })
    }
}
