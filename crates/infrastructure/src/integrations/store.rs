//! The companies' stored connections in `integration`, one row per company and service.

use async_trait::async_trait;
use dialix_integrations::{IntegrationKind, IntegrationRepository, StoredIntegration};
use dialix_kernel::{AccountId, CompanyId, DomainError, DomainResult, Tx};
use sea_orm::prelude::{Expr, TimeUnixTimestampMillis};
use sea_orm::sea_query::{ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use crate::Database;
use crate::entities::integration;
use crate::sql::internal;
use crate::transaction::db_tx;

/// Connections in the `integration` table; a save replaces the company's earlier connection
/// to the same service in one upsert.
pub struct SeaIntegrationStore {
    db: Database,
}

impl SeaIntegrationStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl IntegrationRepository for SeaIntegrationStore {
    async fn find(
        &self,
        company: CompanyId,
        kind: IntegrationKind,
    ) -> DomainResult<Option<StoredIntegration>> {
        integration::Entity::find_by_id((company.as_uuid(), kind.as_str().to_owned()))
            .one(self.db.connection())
            .await
            .map_err(internal)?
            .map(to_domain)
            .transpose()
    }

    async fn save(&self, tx: &mut Tx, i: &StoredIntegration) -> DomainResult<()> {
        let row = integration::ActiveModel {
            company_id: Set(i.company_id.as_uuid()),
            kind: Set(i.kind.as_str().to_owned()),
            label: Set(i.label.clone()),
            sealed_secret: Set(i.sealed_secret.clone()),
            secret_hint: Set(i.secret_hint.clone()),
            updated_by: Set(i.updated_by.as_uuid()),
            created_at: Set(TimeUnixTimestampMillis(i.created_at)),
            updated_at: Set(TimeUnixTimestampMillis(i.updated_at)),
            row_version: Set(1),
        };
        // A replaced connection keeps its first `created_at`.
        integration::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([integration::Column::CompanyId, integration::Column::Kind])
                    .update_columns([
                        integration::Column::Label,
                        integration::Column::SealedSecret,
                        integration::Column::SecretHint,
                        integration::Column::UpdatedBy,
                        integration::Column::UpdatedAt,
                    ])
                    .value(
                        integration::Column::RowVersion,
                        Expr::col((integration::Entity, integration::Column::RowVersion)).add(1),
                    )
                    .to_owned(),
            )
            .exec_without_returning(db_tx(tx)?)
            .await
            .map_err(internal)?;
        Ok(())
    }

    async fn delete(
        &self,
        tx: &mut Tx,
        company: CompanyId,
        kind: IntegrationKind,
    ) -> DomainResult<bool> {
        let result = integration::Entity::delete_many()
            .filter(integration::Column::CompanyId.eq(company.as_uuid()))
            .filter(integration::Column::Kind.eq(kind.as_str()))
            .exec(db_tx(tx)?)
            .await
            .map_err(internal)?;
        Ok(result.rows_affected > 0)
    }
}

fn to_domain(row: integration::Model) -> DomainResult<StoredIntegration> {
    let kind = IntegrationKind::parse(&row.kind).ok_or_else(|| {
        DomainError::internal(format!(
            "integration of company {} has kind {:?}",
            row.company_id, row.kind
        ))
    })?;
    Ok(StoredIntegration {
        company_id: CompanyId::from_uuid(row.company_id),
        kind,
        label: row.label,
        sealed_secret: row.sealed_secret,
        secret_hint: row.secret_hint,
        updated_by: AccountId::from_uuid(row.updated_by),
        created_at: row.created_at.0,
        updated_at: row.updated_at.0,
    })
}

#[cfg(test)]
mod tests {
    use dialix_kernel::UnitOfWork;
    use time::macros::datetime;

    use super::*;
    use crate::SeaOrmUnitOfWork;
    use crate::integrations::auto_imports::tests::database_with_company;

    #[tokio::test]
    async fn a_save_replaces_the_company_connection_to_that_service() {
        let company = CompanyId::generate();
        let db = database_with_company(company).await;
        let store = SeaIntegrationStore::new(db.clone());
        let uow = SeaOrmUnitOfWork::new(db);
        let first = StoredIntegration {
            company_id: company,
            kind: IntegrationKind::Pbx,
            label: "acme.onpbx.ru".into(),
            sealed_secret: vec![1, 2, 3],
            secret_hint: "…abcd".into(),
            updated_by: AccountId::generate(),
            created_at: datetime!(2026-12-07 10:00 UTC),
            updated_at: datetime!(2026-12-07 10:00 UTC),
        };
        let second = StoredIntegration {
            label: "acme2.onpbx.ru".into(),
            sealed_secret: vec![4, 5],
            created_at: datetime!(2026-12-07 11:00 UTC),
            updated_at: datetime!(2026-12-07 11:00 UTC),
            ..first.clone()
        };
        for saved in [&first, &second] {
            let mut tx = uow.begin().await.unwrap();
            store.save(tx.as_mut(), saved).await.unwrap();
            tx.commit().await.unwrap();
        }
        let found = store.find(company, IntegrationKind::Pbx).await.unwrap();
        assert_eq!(
            found,
            Some(StoredIntegration {
                created_at: first.created_at,
                ..second
            })
        );
        assert_eq!(
            store.find(company, IntegrationKind::Bitrix).await.unwrap(),
            None
        );
        let mut tx = uow.begin().await.unwrap();
        assert!(
            store
                .delete(tx.as_mut(), company, IntegrationKind::Pbx)
                .await
                .unwrap()
        );
        assert!(
            !store
                .delete(tx.as_mut(), company, IntegrationKind::Pbx)
                .await
                .unwrap()
        );
        tx.commit().await.unwrap();
    }
}
