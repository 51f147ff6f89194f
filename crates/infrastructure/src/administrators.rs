use std::collections::BTreeSet;

use async_trait::async_trait;
use dialix_company::{Administrator, Administrators};
use dialix_kernel::{AccountId, CompanyId, DomainResult, Permission, RowVersion, Tx};
use sea_orm::prelude::{Expr, TimeUnixTimestampMillis};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::Database;
use crate::entities::company_administrator;
use crate::sql::{conflict_on_unique, internal, landed, versioned};
use crate::transaction::db_tx;

/// Company administrators in `company_administrator`; permissions are stored as an object of
/// every known permission to true or false.
pub struct SeaOrmAdministrators {
    db: Database,
}

impl SeaOrmAdministrators {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl Administrators for SeaOrmAdministrators {
    async fn insert(&self, tx: &mut Tx, admin: &Administrator) -> DomainResult<()> {
        let row = company_administrator::ActiveModel {
            id: Set(Uuid::now_v7()),
            company_id: Set(admin.company_id.as_uuid()),
            user_id: Set(admin.user_id.as_uuid()),
            permissions: Set(stored(&admin.permissions)),
            created_at: Set(TimeUnixTimestampMillis(admin.created_at)),
            row_version: Set(admin.row_version.0),
        };
        company_administrator::Entity::insert(row)
            .exec_without_returning(db_tx(tx)?)
            .await
            .map_err(|e| {
                conflict_on_unique(e, "user_id", "this user already administers this company")
            })?;
        Ok(())
    }

    async fn update(&self, tx: &mut Tx, admin: &mut Administrator) -> DomainResult<()> {
        let result = versioned(
            company_administrator::Entity::update_many(),
            company_administrator::Column::RowVersion,
            admin.row_version,
        )
        .col_expr(
            company_administrator::Column::Permissions,
            Expr::value(stored(&admin.permissions)),
        )
        .filter(company_administrator::Column::CompanyId.eq(admin.company_id.as_uuid()))
        .filter(company_administrator::Column::UserId.eq(admin.user_id.as_uuid()))
        .exec(db_tx(tx)?)
        .await
        .map_err(internal)?;
        landed(result, "administrator")?;
        admin.row_version = admin.row_version.next();
        Ok(())
    }

    async fn delete(&self, tx: &mut Tx, company: CompanyId, user: AccountId) -> DomainResult<()> {
        company_administrator::Entity::delete_many()
            .filter(company_administrator::Column::CompanyId.eq(company.as_uuid()))
            .filter(company_administrator::Column::UserId.eq(user.as_uuid()))
            .exec(db_tx(tx)?)
            .await
            .map_err(internal)?;
        Ok(())
    }

    async fn find(
        &self,
        company: CompanyId,
        user: AccountId,
    ) -> DomainResult<Option<Administrator>> {
        let row = company_administrator::Entity::find()
            .filter(company_administrator::Column::CompanyId.eq(company.as_uuid()))
            .filter(company_administrator::Column::UserId.eq(user.as_uuid()))
            .one(self.db.connection())
            .await
            .map_err(internal)?;
        Ok(row.map(to_domain))
    }

    async fn list(&self, company: CompanyId) -> DomainResult<Vec<Administrator>> {
        let rows = company_administrator::Entity::find()
            .filter(company_administrator::Column::CompanyId.eq(company.as_uuid()))
            .order_by_asc(company_administrator::Column::CreatedAt)
            .all(self.db.connection())
            .await
            .map_err(internal)?;
        Ok(rows.into_iter().map(to_domain).collect())
    }

    async fn of_user(&self, user: AccountId) -> DomainResult<Vec<Administrator>> {
        let rows = company_administrator::Entity::find()
            .filter(company_administrator::Column::UserId.eq(user.as_uuid()))
            .all(self.db.connection())
            .await
            .map_err(internal)?;
        Ok(rows.into_iter().map(to_domain).collect())
    }
}

fn stored(permissions: &BTreeSet<Permission>) -> Value {
    Value::Object(
        Permission::ALL
            .iter()
            .map(|p| (p.as_str().to_owned(), Value::Bool(permissions.contains(p))))
            .collect::<Map<_, _>>(),
    )
}

/// The permissions set to `true` in a stored permissions object; unknown keys are ignored.
pub(crate) fn granted(permissions: &Value) -> BTreeSet<Permission> {
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

fn to_domain(row: company_administrator::Model) -> Administrator {
    Administrator {
        company_id: CompanyId::from_uuid(row.company_id),
        user_id: AccountId::from_uuid(row.user_id),
        permissions: granted(&row.permissions),
        created_at: row.created_at.0,
        row_version: RowVersion(row.row_version),
    }
}
