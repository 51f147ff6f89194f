use async_trait::async_trait;
use dialix_company::{Company, CompanyFilter, CompanyRepository, CompanyStats};
use dialix_kernel::{CompanyId, DomainResult, Page, PageRequest, RowVersion, Tx};
use sea_orm::prelude::{Expr, TimeUnixTimestampMillis};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Database;
use crate::entities::{account, company, ledger_transaction, record};
use crate::sql::{bump_version, landed, versioned};
use crate::sql::{conflict_on_unique, internal, like_pattern};
use crate::transaction::db_tx;

/// Companies in the `company` table (and the account rows their blocks touch).
pub struct SeaOrmCompanies {
    db: Database,
}

impl SeaOrmCompanies {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

const NAME_TAKEN: &str = "a company with this name already exists";

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
            settings: Set(company.settings.clone()),
            balance: Set(company.balance),
            reserved: Set(0),
            created_at: Set(TimeUnixTimestampMillis(company.created_at)),
            updated_at: Set(TimeUnixTimestampMillis(company.updated_at)),
            deleted_at: Set(None),
            row_version: Set(company.row_version.0),
        };
        company::Entity::insert(row)
            .exec_without_returning(db_tx(tx)?)
            .await
            .map_err(|e| conflict_on_unique(e, "name", NAME_TAKEN))?;
        Ok(())
    }

    async fn update(&self, tx: &mut Tx, company: &mut Company) -> DomainResult<()> {
        let result = versioned(
            company::Entity::update_many(),
            company::Column::RowVersion,
            company.row_version,
        )
        .col_expr(company::Column::Name, Expr::value(company.name.clone()))
        .col_expr(
            company::Column::NameKey,
            Expr::value(Company::name_key(&company.name)),
        )
        .col_expr(
            company::Column::Description,
            Expr::value(company.description.clone()),
        )
        .col_expr(company::Column::IsActive, Expr::value(company.is_active))
        .col_expr(
            company::Column::Settings,
            Expr::value(company.settings.clone()),
        )
        .col_expr(
            company::Column::UpdatedAt,
            Expr::value(TimeUnixTimestampMillis(company.updated_at)),
        )
        .filter(company::Column::Id.eq(company.id.as_uuid()))
        .exec(db_tx(tx)?)
        .await
        .map_err(|e| conflict_on_unique(e, "name", NAME_TAKEN))?;
        landed(result, "company")?;
        company.row_version = company.row_version.next();
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

    async fn find_by_name_key(&self, name_key: &str) -> DomainResult<Option<CompanyId>> {
        let row = company::Entity::find()
            .filter(company::Column::NameKey.eq(name_key))
            .one(self.db.connection())
            .await
            .map_err(internal)?;
        Ok(row.map(|c| CompanyId::from_uuid(c.id)))
    }

    async fn list(&self, filter: &CompanyFilter, page: PageRequest) -> DomainResult<Page<Company>> {
        let mut query = company::Entity::find().filter(company::Column::DeletedAt.is_null());
        if let Some(search) = &filter.search {
            query = query.filter(
                Expr::col(company::Column::NameKey)
                    .like(like_pattern(&search.trim().to_lowercase())),
            );
        }
        if let Some(is_active) = filter.is_active {
            query = query.filter(company::Column::IsActive.eq(is_active));
        }
        if let Some(parent) = filter.parent_company_id {
            query = query.filter(company::Column::ParentCompanyId.eq(parent.as_uuid()));
        }
        if let Some(within) = &filter.within {
            query = query.filter(company::Column::Id.is_in(within.iter().map(|c| c.as_uuid())));
        }
        let db = self.db.connection();
        let total = query.clone().count(db).await.map_err(internal)?;
        let rows = query
            .order_by_asc(company::Column::NameKey)
            .limit(page.limit)
            .offset(page.offset)
            .all(db)
            .await
            .map_err(internal)?;
        Ok(Page {
            items: rows.into_iter().map(to_domain).collect(),
            total,
            limit: page.limit,
            offset: page.offset,
        })
    }

    async fn stats(&self, id: CompanyId) -> DomainResult<CompanyStats> {
        let db = self.db.connection();
        let members = || {
            account::Entity::find()
                .filter(account::Column::CompanyId.eq(id.as_uuid()))
                .filter(account::Column::DeletedAt.is_null())
        };
        let users_blocked = members()
            .filter(account::Column::IsBlocked.eq(true))
            .count(db)
            .await
            .map_err(internal)?;
        let users_active = members()
            .filter(account::Column::IsBlocked.eq(false))
            .filter(account::Column::IsActive.eq(true))
            .count(db)
            .await
            .map_err(internal)?;
        let users_inactive = members()
            .filter(account::Column::IsBlocked.eq(false))
            .filter(account::Column::IsActive.eq(false))
            .count(db)
            .await
            .map_err(internal)?;
        let sub_companies = company::Entity::find()
            .filter(company::Column::ParentCompanyId.eq(id.as_uuid()))
            .filter(company::Column::DeletedAt.is_null())
            .count(db)
            .await
            .map_err(internal)?;
        let processed = || {
            record::Entity::find()
                .filter(record::Column::CompanyId.eq(id.as_uuid()))
                .filter(record::Column::Status.eq("done"))
                .filter(record::Column::DeletedAt.is_null())
        };
        let records_processed = processed().count(db).await.map_err(internal)?;
        let audio_ms_processed: Option<i64> = processed()
            .select_only()
            .column_as(
                Expr::cust("CAST(COALESCE(SUM(duration_ms), 0) AS BIGINT)"),
                "total",
            )
            .into_tuple()
            .one(db)
            .await
            .map_err(internal)?;
        let total_topped_up = ledger_sum(db, id, &["topup"]).await?;
        let total_spent = -ledger_sum(db, id, &["charge", "refund"]).await?;
        Ok(CompanyStats {
            users_active,
            users_blocked,
            users_inactive,
            sub_companies,
            total_topped_up,
            total_spent,
            records_processed,
            audio_ms_processed: audio_ms_processed.unwrap_or(0),
        })
    }

    async fn block_members(
        &self,
        tx: &mut Tx,
        companies: &[CompanyId],
        blocked_by: CompanyId,
        at: OffsetDateTime,
    ) -> DomainResult<u64> {
        let result = bump_version(account::Entity::update_many(), account::Column::RowVersion)
            .col_expr(account::Column::IsBlocked, Expr::value(true))
            .col_expr(
                account::Column::BlockedByCompany,
                Expr::value(Some(blocked_by.as_uuid())),
            )
            .col_expr(
                account::Column::UpdatedAt,
                Expr::value(TimeUnixTimestampMillis(at)),
            )
            .filter(account::Column::CompanyId.is_in(companies.iter().map(|c| c.as_uuid())))
            .filter(account::Column::IsBlocked.eq(false))
            .exec(db_tx(tx)?)
            .await
            .map_err(internal)?;
        Ok(result.rows_affected)
    }

    async fn unblock_members(
        &self,
        tx: &mut Tx,
        blocked_by: CompanyId,
        at: OffsetDateTime,
    ) -> DomainResult<u64> {
        let result = bump_version(account::Entity::update_many(), account::Column::RowVersion)
            .col_expr(account::Column::IsBlocked, Expr::value(false))
            .col_expr(
                account::Column::BlockedByCompany,
                Expr::value(Option::<Uuid>::None),
            )
            .col_expr(
                account::Column::UpdatedAt,
                Expr::value(TimeUnixTimestampMillis(at)),
            )
            .filter(account::Column::BlockedByCompany.eq(blocked_by.as_uuid()))
            .exec(db_tx(tx)?)
            .await
            .map_err(internal)?;
        Ok(result.rows_affected)
    }
}

/// Sum of ledger amounts of these kinds, as a bigint on both databases.
async fn ledger_sum(db: &impl ConnectionTrait, id: CompanyId, kinds: &[&str]) -> DomainResult<i64> {
    let sum: Option<i64> = ledger_transaction::Entity::find()
        .select_only()
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(amount), 0) AS BIGINT)"),
            "total",
        )
        .filter(ledger_transaction::Column::CompanyId.eq(id.as_uuid()))
        .filter(Condition::any().add(ledger_transaction::Column::Kind.is_in(kinds.iter().copied())))
        .into_tuple()
        .one(db)
        .await
        .map_err(internal)?;
    Ok(sum.unwrap_or(0))
}

pub(crate) fn to_domain(row: company::Model) -> Company {
    Company {
        id: CompanyId::from_uuid(row.id),
        name: row.name,
        description: row.description,
        is_active: row.is_active,
        parent_company_id: row.parent_company_id.map(CompanyId::from_uuid),
        hierarchy_level: row.hierarchy_level,
        settings: row.settings,
        balance: row.balance,
        created_at: row.created_at.0,
        updated_at: row.updated_at.0,
        row_version: RowVersion(row.row_version),
    }
}
