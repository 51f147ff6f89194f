//! Who may manage a company's integrations: platform admins, and company administrators
//! holding `can_manage_integrations` for the company or an ancestor.

use dialix_kernel::{
    Actor, CompanyId, CompanyTree, DomainError, DomainResult, FieldErrors, Permission,
};

/// The company the request is about (`company_id`, else the actor's own), if the actor may
/// manage its integrations. A company outside the actor's reach is "not found"; their own
/// company without the permission is 403.
pub(crate) async fn managed_company(
    tree: &dyn CompanyTree,
    actor: &Actor,
    company: Option<CompanyId>,
) -> DomainResult<CompanyId> {
    let company = company.or(actor.company_id).ok_or_else(|| {
        FieldErrors::single(
            "company_id",
            "name the company: this account belongs to none",
        )
    })?;
    let lineage = tree.lineage(company).await?;
    if lineage.is_empty() {
        return Err(DomainError::NotFound("company"));
    }
    if actor.may_within(Permission::CanManageIntegrations, &lineage) {
        return Ok(company);
    }
    if actor.company_id == Some(company) || actor.administers_within(&lineage) {
        return Err(DomainError::Forbidden(format!(
            "managing integrations needs the {} permission for this company",
            Permission::CanManageIntegrations.as_str()
        )));
    }
    Err(DomainError::NotFound("company"))
}

#[cfg(test)]
mod tests {
    use dialix_kernel::{MockCompanyTree, Role};

    use super::*;

    fn tree_of(company: CompanyId) -> MockCompanyTree {
        let mut tree = MockCompanyTree::new();
        tree.expect_lineage()
            .returning(move |c| Ok(if c == company { vec![company] } else { vec![] }));
        tree
    }

    #[tokio::test]
    async fn administrators_need_the_permission_and_strangers_see_nothing() {
        let company = CompanyId::generate();
        let tree = tree_of(company);
        let granted = Actor::administrator_of(company, &[Permission::CanManageIntegrations]);
        assert_eq!(
            managed_company(&tree, &granted, None).await.unwrap(),
            company
        );

        let plain_admin = Actor::administrator_of(company, &[Permission::CanManageUsers]);
        assert!(matches!(
            managed_company(&tree, &plain_admin, None).await,
            Err(DomainError::Forbidden(_))
        ));

        let member = Actor {
            grants: vec![],
            ..plain_admin.clone()
        };
        assert!(matches!(
            managed_company(&tree, &member, Some(company)).await,
            Err(DomainError::Forbidden(_))
        ));

        let stranger =
            Actor::administrator_of(CompanyId::generate(), &[Permission::CanManageIntegrations]);
        let mut tree = MockCompanyTree::new();
        tree.expect_lineage().returning(move |c| Ok(vec![c]));
        assert!(matches!(
            managed_company(&tree, &stranger, Some(company)).await,
            Err(DomainError::NotFound("company"))
        ));

        let platform = Actor {
            role: Role::Admin,
            company_id: None,
            grants: vec![],
            ..granted
        };
        assert!(matches!(
            managed_company(&tree, &platform, None).await,
            Err(DomainError::Validation(_))
        ));
        assert_eq!(
            managed_company(&tree, &platform, Some(company))
                .await
                .unwrap(),
            company
        );
    }
}
