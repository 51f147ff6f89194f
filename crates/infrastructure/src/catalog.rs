use async_trait::async_trait;
use dialix_calls::{Checklist, ChecklistRepository, Operator, OperatorRepository};
use dialix_kernel::{
    ChecklistId, CompanyId, DomainError, DomainResult, OperatorId, Page, PageRequest, RowVersion,
    Tx,
};
use sea_orm::prelude::{Expr, TimeUnixTimestampMillis};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, SqlErr,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Database;
use crate::entities::{checklist, checklist_version, operator};
use crate::sql::{bump_version, conflict_on_unique, internal, landed, versioned};
use crate::transaction::db_tx;

/// Operators and checklists (with their versions).
pub struct SeaOrmCatalog {
    db: Database,
}

impl SeaOrmCatalog {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

async fn page_of<E, M, T>(
    query: Select<E>,
    page: PageRequest,
    db: &sea_orm::DatabaseConnection,
    map: impl Fn(M) -> DomainResult<T>,
) -> DomainResult<Page<T>>
where
    E: EntityTrait<Model = M>,
    M: sea_orm::FromQueryResult + Send + Sync,
{
    let total = query.clone().count(db).await.map_err(internal)?;
    let rows = query
        .limit(page.limit)
        .offset(page.offset)
        .all(db)
        .await
        .map_err(internal)?;
    Ok(Page {
        items: rows.into_iter().map(map).collect::<DomainResult<_>>()?,
        total,
        limit: page.limit,
        offset: page.offset,
    })
}

#[async_trait]
impl OperatorRepository for SeaOrmCatalog {
    async fn insert(&self, tx: &mut Tx, o: &Operator) -> DomainResult<()> {
        operator::Entity::insert(operator::ActiveModel {
            id: Set(o.id.as_uuid()),
            company_id: Set(o.company_id.as_uuid()),
            code: Set(o.code.clone()),
            name: Set(o.name.clone()),
            is_active: Set(o.is_active),
            checklist_id: Set(o.checklist_id.map(|c| c.as_uuid())),
            created_at: Set(TimeUnixTimestampMillis(o.created_at)),
            updated_at: Set(TimeUnixTimestampMillis(o.updated_at)),
            row_version: Set(o.row_version.0),
        })
        .exec_without_returning(db_tx(tx)?)
        .await
        .map_err(code_taken)?;
        Ok(())
    }

    async fn update(&self, tx: &mut Tx, o: &mut Operator) -> DomainResult<()> {
        let result = versioned(
            operator::Entity::update_many(),
            operator::Column::RowVersion,
            o.row_version,
        )
        .col_expr(operator::Column::Code, Expr::value(o.code.clone()))
        .col_expr(operator::Column::Name, Expr::value(o.name.clone()))
        .col_expr(operator::Column::IsActive, Expr::value(o.is_active))
        .col_expr(
            operator::Column::ChecklistId,
            Expr::value(o.checklist_id.map(|c| c.as_uuid())),
        )
        .col_expr(
            operator::Column::UpdatedAt,
            Expr::value(TimeUnixTimestampMillis(o.updated_at)),
        )
        .filter(operator::Column::Id.eq(o.id.as_uuid()))
        .exec(db_tx(tx)?)
        .await
        .map_err(code_taken)?;
        landed(result, "operator")?;
        o.row_version = o.row_version.next();
        Ok(())
    }

    async fn delete(&self, tx: &mut Tx, id: OperatorId) -> DomainResult<()> {
        operator::Entity::delete_by_id(id)
            .exec(db_tx(tx)?)
            .await
            .map_err(internal)?;
        Ok(())
    }

    async fn find(&self, id: OperatorId) -> DomainResult<Option<Operator>> {
        let row = operator::Entity::find_by_id(id)
            .one(self.db.connection())
            .await
            .map_err(internal)?;
        Ok(row.map(to_operator))
    }

    async fn find_by_code(&self, company: CompanyId, code: &str) -> DomainResult<Option<Operator>> {
        let row = operator::Entity::find()
            .filter(operator::Column::CompanyId.eq(company.as_uuid()))
            .filter(operator::Column::Code.eq(code))
            .one(self.db.connection())
            .await
            .map_err(internal)?;
        Ok(row.map(to_operator))
    }

    async fn list(
        &self,
        companies: Option<Vec<CompanyId>>,
        page: PageRequest,
    ) -> DomainResult<Page<Operator>> {
        let mut query = operator::Entity::find();
        if let Some(companies) = companies {
            query = query
                .filter(operator::Column::CompanyId.is_in(companies.iter().map(|c| c.as_uuid())));
        }
        let query = query
            .order_by_asc(operator::Column::Code)
            .order_by_asc(operator::Column::Id);
        page_of(query, page, self.db.connection(), |row| {
            Ok(to_operator(row))
        })
        .await
    }
}

/// A second operator with the same code in one company.
fn code_taken(error: sea_orm::DbErr) -> DomainError {
    conflict_on_unique(
        error,
        "code",
        "the company already has an operator with this code",
    )
}

fn to_operator(row: operator::Model) -> Operator {
    Operator {
        id: OperatorId::from_uuid(row.id),
        company_id: CompanyId::from_uuid(row.company_id),
        code: row.code,
        name: row.name,
        is_active: row.is_active,
        checklist_id: row.checklist_id.map(ChecklistId::from_uuid),
        created_at: row.created_at.0,
        updated_at: row.updated_at.0,
        row_version: RowVersion(row.row_version),
    }
}

fn version_row(c: &Checklist) -> DomainResult<checklist_version::ActiveModel> {
    Ok(checklist_version::ActiveModel {
        id: Set(Uuid::now_v7()),
        checklist_id: Set(c.id.as_uuid()),
        version: Set(i32::try_from(c.version).map_err(DomainError::internal)?),
        content: Set(
            serde_json::json!({"name": c.name, "segments": c.segments, "pass_mark": c.pass_mark}),
        ),
        created_at: Set(TimeUnixTimestampMillis(c.updated_at)),
    })
}

#[async_trait]
impl ChecklistRepository for SeaOrmCatalog {
    async fn insert(&self, tx: &mut Tx, c: &Checklist) -> DomainResult<()> {
        let txn = db_tx(tx)?;
        checklist::Entity::insert(checklist::ActiveModel {
            id: Set(c.id.as_uuid()),
            company_id: Set(c.company_id.as_uuid()),
            name: Set(c.name.clone()),
            current_version: Set(1),
            created_at: Set(TimeUnixTimestampMillis(c.created_at)),
            updated_at: Set(TimeUnixTimestampMillis(c.updated_at)),
            deleted_at: Set(None),
            row_version: Set(c.row_version.0),
        })
        .exec_without_returning(txn)
        .await
        .map_err(internal)?;
        checklist_version::Entity::insert(version_row(c)?)
            .exec_without_returning(txn)
            .await
            .map_err(internal)?;
        Ok(())
    }

    async fn add_version(&self, tx: &mut Tx, c: &mut Checklist) -> DomainResult<()> {
        let txn = db_tx(tx)?;
        checklist_version::Entity::insert(version_row(c)?)
            .exec_without_returning(txn)
            .await
            .map_err(|e| match e.sql_err() {
                // A concurrent edit stored this version number first.
                Some(SqlErr::UniqueConstraintViolation(_)) => DomainError::Stale("checklist"),
                _ => internal(e),
            })?;
        let result = versioned(
            checklist::Entity::update_many(),
            checklist::Column::RowVersion,
            c.row_version,
        )
        .col_expr(checklist::Column::Name, Expr::value(c.name.clone()))
        .col_expr(
            checklist::Column::CurrentVersion,
            Expr::value(c.version as i32),
        )
        .col_expr(
            checklist::Column::UpdatedAt,
            Expr::value(TimeUnixTimestampMillis(c.updated_at)),
        )
        .filter(checklist::Column::Id.eq(c.id.as_uuid()))
        .exec(txn)
        .await
        .map_err(internal)?;
        landed(result, "checklist")?;
        c.row_version = c.row_version.next();
        Ok(())
    }

    async fn find(&self, id: ChecklistId, version: Option<u32>) -> DomainResult<Option<Checklist>> {
        let db = self.db.connection();
        let mut query = checklist::Entity::find_by_id(id.as_uuid());
        if version.is_none() {
            query = query.filter(checklist::Column::DeletedAt.is_null());
        }
        let Some(head) = query.one(db).await.map_err(internal)? else {
            return Ok(None);
        };
        let wanted = version.map_or(head.current_version, |v| v as i32);
        let Some(row) = checklist_version::Entity::find()
            .filter(checklist_version::Column::ChecklistId.eq(id.as_uuid()))
            .filter(checklist_version::Column::Version.eq(wanted))
            .one(db)
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        to_checklist(head, row).map(Some)
    }

    async fn list(
        &self,
        companies: Option<Vec<CompanyId>>,
        page: PageRequest,
    ) -> DomainResult<Page<Checklist>> {
        let mut query = checklist::Entity::find().filter(checklist::Column::DeletedAt.is_null());
        if let Some(companies) = companies {
            query = query
                .filter(checklist::Column::CompanyId.is_in(companies.iter().map(|c| c.as_uuid())));
        }
        let query = query
            .order_by_asc(checklist::Column::Name)
            .order_by_asc(checklist::Column::Id);
        let heads = page_of(query, page, self.db.connection(), Ok).await?;
        let mut items = Vec::with_capacity(heads.items.len());
        for head in heads.items {
            if let Some(current) =
                ChecklistRepository::find(self, ChecklistId::from_uuid(head.id), None).await?
            {
                items.push(current);
            }
        }
        Ok(Page {
            items,
            total: heads.total,
            limit: heads.limit,
            offset: heads.offset,
        })
    }

    async fn delete(&self, tx: &mut Tx, id: ChecklistId, at: OffsetDateTime) -> DomainResult<()> {
        bump_version(
            checklist::Entity::update_many(),
            checklist::Column::RowVersion,
        )
        .col_expr(
            checklist::Column::DeletedAt,
            Expr::value(Some(TimeUnixTimestampMillis(at))),
        )
        .filter(checklist::Column::Id.eq(id.as_uuid()))
        .exec(db_tx(tx)?)
        .await
        .map_err(internal)?;
        bump_version(
            operator::Entity::update_many(),
            operator::Column::RowVersion,
        )
        .col_expr(
            operator::Column::ChecklistId,
            Expr::value(Option::<Uuid>::None),
        )
        .filter(operator::Column::ChecklistId.eq(id.as_uuid()))
        .exec(db_tx(tx)?)
        .await
        .map_err(internal)?;
        Ok(())
    }
}

fn to_checklist(
    head: checklist::Model,
    version: checklist_version::Model,
) -> DomainResult<Checklist> {
    let mut content = version.content;
    Ok(Checklist {
        id: ChecklistId::from_uuid(head.id),
        company_id: CompanyId::from_uuid(head.company_id),
        name: content["name"].as_str().unwrap_or(&head.name).to_owned(),
        version: u32::try_from(version.version).unwrap_or(1),
        segments: serde_json::from_value(content["segments"].take())
            .map_err(|e| DomainError::internal(format!("checklist segments: {e}")))?,
        // Versions written before pass marks existed have none.
        pass_mark: content["pass_mark"]
            .as_u64()
            .map_or(0, |mark| u32::try_from(mark).unwrap_or(0)),
        created_at: head.created_at.0,
        updated_at: version.created_at.0,
        row_version: RowVersion(head.row_version),
    })
}
