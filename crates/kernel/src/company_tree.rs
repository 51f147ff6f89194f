use async_trait::async_trait;

use crate::{CompanyId, DomainResult};

/// The company hierarchy, as every domain's authorisation needs it: company administrators
/// act within their company and its descendants.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait CompanyTree: Send + Sync {
    /// The company first, then its parent, up to the root; empty if there is no such company.
    async fn lineage(&self, company: CompanyId) -> DomainResult<Vec<CompanyId>>;
    /// These companies and all their descendants.
    async fn subtree(&self, roots: &[CompanyId]) -> DomainResult<Vec<CompanyId>>;
    /// The nearest company of the lineage (the company itself first) that is blocked, if any:
    /// a block covers the whole subtree.
    async fn blocked_in_lineage(&self, company: CompanyId) -> DomainResult<Option<CompanyId>>;
}

/// Whether the actor's own rights cover every one of `grants` (see `Actor::covers`): nobody
/// may manage an account whose administrator grants reach beyond their own.
pub async fn covers_grants(
    tree: &dyn CompanyTree,
    actor: &crate::Actor,
    grants: &[crate::CompanyGrant],
) -> DomainResult<bool> {
    for grant in grants {
        let lineage = tree.lineage(grant.company_id).await?;
        if !actor.covers(&grant.permissions, &lineage) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The companies the actor administers (with `permission`, when one is given) and all their
/// descendants: the scope of a company administrator's listings. Empty for actors who
/// administer nothing.
pub async fn administered_companies(
    tree: &dyn CompanyTree,
    actor: &crate::Actor,
    permission: Option<crate::Permission>,
) -> DomainResult<Vec<CompanyId>> {
    let roots: Vec<CompanyId> = actor
        .grants
        .iter()
        .filter(|g| permission.is_none_or(|p| g.permissions.contains(&p)))
        .map(|g| g.company_id)
        .collect();
    if roots.is_empty() {
        return Ok(Vec::new());
    }
    tree.subtree(&roots).await
}
