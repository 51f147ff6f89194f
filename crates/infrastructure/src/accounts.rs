use async_trait::async_trait;
use dialix_account::{Account, AccountRepository, CompanyDirectory};
use dialix_kernel::{
    AccountId, CompanyGrant, CompanyId, DomainError, DomainResult, Permission, Role, Tx,
};
use sea_orm::prelude::TimeUnixTimestampMillis;
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter};
use time::OffsetDateTime;

use crate::Database;
use crate::db_error::{conflict_on_unique, internal};
use crate::entities::{account, company, company_administrator};
use crate::transaction::db_tx;

/// Accounts in the `account` table.
pub struct SeaOrmAccounts {
    db: Database,
}

impl SeaOrmAccounts {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl AccountRepository for SeaOrmAccounts {
    async fn insert(&self, tx: &mut Tx, account: &Account) -> DomainResult<()> {
        account::Entity::insert(to_active(account))
            .exec_without_returning(db_tx(tx)?)
            .await
            .map_err(|e| {
                conflict_on_unique(
                    e,
                    "account",
                    "an account with this email or username already exists",
                )
            })?;
        Ok(())
    }

    async fn find_by_id(&self, id: AccountId) -> DomainResult<Option<Account>> {
        account::Entity::find_by_id(id.as_uuid())
            .one(self.db.connection())
            .await
            .map_err(internal)?
            .map(to_domain)
            .transpose()
    }

    async fn find_by_login(&self, login: &str) -> DomainResult<Option<Account>> {
        account::Entity::find()
            .filter(
                Condition::any()
                    .add(account::Column::Email.eq(login))
                    .add(account::Column::Username.eq(login)),
            )
            .one(self.db.connection())
            .await
            .map_err(internal)?
            .map(to_domain)
            .transpose()
    }

    async fn touch_last_activity(
        &self,
        tx: &mut Tx,
        id: AccountId,
        at: OffsetDateTime,
    ) -> DomainResult<()> {
        account::Entity::update_many()
            .col_expr(
                account::Column::LastActivity,
                Some(TimeUnixTimestampMillis(at)).into(),
            )
            .filter(account::Column::Id.eq(id.as_uuid()))
            .exec(db_tx(tx)?)
            .await
            .map_err(internal)?;
        Ok(())
    }

    async fn grants(&self, id: AccountId) -> DomainResult<Vec<CompanyGrant>> {
        let rows = company_administrator::Entity::find()
            .filter(company_administrator::Column::UserId.eq(id.as_uuid()))
            .all(self.db.connection())
            .await
            .map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(|row| CompanyGrant {
                company_id: CompanyId::from_uuid(row.company_id),
                permissions: granted(&row.permissions),
            })
            .collect())
    }
}

/// The permissions set to `true` in a stored permissions object; unknown keys are ignored.
fn granted(permissions: &serde_json::Value) -> std::collections::BTreeSet<Permission> {
    permissions
        .as_object()
        .map(|map| {
            map.iter()
                .filter(|(_, value)| value.as_bool() == Some(true))
                .filter_map(|(key, _)| Permission::parse(key))
                .collect()
        })
        .unwrap_or_default()
}

#[async_trait]
impl CompanyDirectory for SeaOrmAccounts {
    async fn company_exists(&self, id: CompanyId) -> DomainResult<bool> {
        let found = company::Entity::find_by_id(id.as_uuid())
            .one(self.db.connection())
            .await
            .map_err(internal)?;
        Ok(found.is_some_and(|c| c.deleted_at.is_none()))
    }
}

fn to_active(account: &Account) -> account::ActiveModel {
    account::ActiveModel {
        id: Set(account.id.as_uuid()),
        email: Set(account.email.clone()),
        username: Set(account.username.clone()),
        password: Set(account.password_hash.clone()),
        role: Set(account.role.as_str().to_owned()),
        company_id: Set(account.company_id.map(|c| c.as_uuid())),
        is_active: Set(account.is_active),
        is_blocked: Set(account.is_blocked),
        last_activity: Set(account.last_activity.map(TimeUnixTimestampMillis)),
        preferred_language: Set(account.preferred_language.clone()),
        created_at: Set(TimeUnixTimestampMillis(account.created_at)),
        updated_at: Set(TimeUnixTimestampMillis(account.updated_at)),
    }
}

fn to_domain(row: account::Model) -> DomainResult<Account> {
    let role = Role::parse(&row.role).ok_or_else(|| {
        DomainError::internal(format!(
            "account {} has unknown role {:?}",
            row.id, row.role
        ))
    })?;
    Ok(Account {
        id: AccountId::from_uuid(row.id),
        email: row.email,
        username: row.username,
        password_hash: row.password,
        role,
        company_id: row.company_id.map(CompanyId::from_uuid),
        is_active: row.is_active,
        is_blocked: row.is_blocked,
        last_activity: row.last_activity.map(|t| t.0),
        preferred_language: row.preferred_language,
        created_at: row.created_at.0,
        updated_at: row.updated_at.0,
    })
}
