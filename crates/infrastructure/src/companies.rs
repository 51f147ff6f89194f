use async_trait::async_trait;
use dialix_company::{Company, CompanyRepository};
use dialix_kernel::{CompanyId, DomainResult, Tx};
use sea_orm::prelude::TimeUnixTimestampMillis;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::Database;
use crate::db_error::{conflict_on_unique, internal};
use crate::entities::company;
use crate::transaction::db_tx;

/// Companies in the `company` table.
pub struct SeaOrmCompanies {
    db: Database,
}

impl SeaOrmCompanies {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl CompanyRepository for SeaOrmCompanies {
    async fn insert(&self, tx: &mut Tx, company: &Company) -> DomainResult<()> {
        let row = company::ActiveModel {
            id: Set(company.id.as_uuid()),
            name: Set(company.name.clone()),
            name_key: Set(Company::name_key(&company.name)),
            description: Set(company.description.clone()),
            is_active: Set(company.is_active),
            parent_company_id: Set(company.parent_company_id.map(|p| p.as_uuid())),
            hierarchy_level: Set(company.hierarchy_level),
            settings: Set(serde_json::json!({})),
            balance: Set(company.balance),
            created_at: Set(TimeUnixTimestampMillis(company.created_at)),
            updated_at: Set(TimeUnixTimestampMillis(company.updated_at)),
            deleted_at: Set(None),
        };
        company::Entity::insert(row)
            .exec_without_returning(db_tx(tx)?)
            .await
            .map_err(|e| {
                conflict_on_unique(e, "name", "a company with this name already exists")
            })?;
        Ok(())
    }

    async fn find_by_id(&self, id: CompanyId) -> DomainResult<Option<Company>> {
        let row = company::Entity::find_by_id(id.as_uuid())
            .filter(company::Column::DeletedAt.is_null())
            .one(self.db.connection())
            .await
            .map_err(internal)?;
        Ok(row.map(to_domain))
    }

    async fn name_taken(&self, name_key: &str) -> DomainResult<bool> {
        let count = company::Entity::find()
            .filter(company::Column::NameKey.eq(name_key))
            .count(self.db.connection())
            .await
            .map_err(internal)?;
        Ok(count > 0)
    }
}

fn to_domain(row: company::Model) -> Company {
    Company {
        id: CompanyId::from_uuid(row.id),
        name: row.name,
        description: row.description,
        is_active: row.is_active,
        parent_company_id: row.parent_company_id.map(CompanyId::from_uuid),
        hierarchy_level: row.hierarchy_level,
        balance: row.balance,
        created_at: row.created_at.0,
        updated_at: row.updated_at.0,
    }
}
