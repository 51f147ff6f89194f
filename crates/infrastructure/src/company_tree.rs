use async_trait::async_trait;
use dialix_kernel::{CompanyId, CompanyTree, DomainError, DomainResult};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::Database;
use crate::entities::company;
use crate::sql::internal;

/// Trees deeper than this are treated as corrupt rather than walked forever.
const MAX_DEPTH: usize = 64;

/// Walks `company.parent_company_id`, one query per level (trees are shallow).
pub struct SeaOrmCompanyTree {
    db: Database,
}

impl SeaOrmCompanyTree {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// The company, then its parent, up to the root, each with whether it is active.
    async fn walk_up(&self, id: CompanyId) -> DomainResult<Vec<(CompanyId, bool)>> {
        let mut lineage: Vec<(CompanyId, bool)> = Vec::new();
        let mut next = Some(id);
        while let Some(id) = next {
            if lineage.iter().any(|(seen, _)| *seen == id) || lineage.len() > MAX_DEPTH {
                return Err(DomainError::internal(format!(
                    "the company tree above {id} has a cycle or is too deep"
                )));
            }
            let Some(row) = company::Entity::find_by_id(id.as_uuid())
                .filter(company::Column::DeletedAt.is_null())
                .one(self.db.connection())
                .await
                .map_err(internal)?
            else {
                break;
            };
            lineage.push((id, row.is_active));
            next = row.parent_company_id.map(CompanyId::from_uuid);
        }
        Ok(lineage)
    }
}

#[async_trait]
impl CompanyTree for SeaOrmCompanyTree {
    async fn lineage(&self, id: CompanyId) -> DomainResult<Vec<CompanyId>> {
        Ok(self
            .walk_up(id)
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect())
    }

    async fn blocked_in_lineage(&self, id: CompanyId) -> DomainResult<Option<CompanyId>> {
        Ok(self
            .walk_up(id)
            .await?
            .into_iter()
            .find(|(_, is_active)| !is_active)
            .map(|(id, _)| id))
    }

    async fn subtree(&self, roots: &[CompanyId]) -> DomainResult<Vec<CompanyId>> {
        let mut all: Vec<CompanyId> = roots.to_vec();
        let mut frontier = roots.to_vec();
        for _ in 0..MAX_DEPTH {
            if frontier.is_empty() {
                return Ok(all);
            }
            let children = company::Entity::find()
                .filter(
                    company::Column::ParentCompanyId.is_in(frontier.iter().map(|c| c.as_uuid())),
                )
                .filter(company::Column::DeletedAt.is_null())
                .all(self.db.connection())
                .await
                .map_err(internal)?;
            frontier = children
                .into_iter()
                .map(|c| CompanyId::from_uuid(c.id))
                .filter(|c| !all.contains(c))
                .collect();
            all.extend(frontier.iter().copied());
        }
        Err(DomainError::internal(
            "the company tree is deeper than allowed",
        ))
    }
}
