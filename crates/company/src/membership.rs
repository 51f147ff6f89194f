//! Moving users between companies, with history.

use dialix_audit::{AuditAction, AuditEvent};
use dialix_kernel::{
    AccountId, Actor, CompanyGrant, CompanyId, DomainError, DomainResult, FieldErrors, Permission,
    RequestMeta, ResourceType, covers_grants, retry_on_stale,
};
use serde_json::json;

use crate::{CompanyService, MembershipAction, MembershipChange};

impl CompanyService {
    /// Moves a user from `from` to `to`, recording `left` and `joined` with each company's
    /// balance at that moment. Balances stay with the companies: nothing moves with the user.
    pub async fn transfer_user(
        &self,
        actor: &Actor,
        to: CompanyId,
        user: AccountId,
        from: CompanyId,
        meta: &RequestMeta,
    ) -> DomainResult<()> {
        retry_on_stale(|| self.try_transfer_user(actor, to, user, from, meta)).await
    }

    async fn try_transfer_user(
        &self,
        actor: &Actor,
        to: CompanyId,
        user: AccountId,
        from: CompanyId,
        meta: &RequestMeta,
    ) -> DomainResult<()> {
        let target = self
            .permitted(actor, to, Some(Permission::CanManageUsers))
            .await?;
        if user == actor.account_id && !actor.is_platform_admin() {
            return Err(DomainError::Forbidden("you cannot move yourself".into()));
        }
        let current = self
            .membership
            .company_of(user)
            .await?
            .ok_or(DomainError::NotFound("account"))?;
        let mut errors = FieldErrors::new();
        errors.check(
            current == Some(from),
            "from_company_id",
            "the user is not a member of this company",
        );
        errors.check(
            from != to,
            "from_company_id",
            "the user is already in this company",
        );
        errors.into_result()?;
        let source = self
            .permitted(actor, from, Some(Permission::CanManageUsers))
            .await?;
        let grants: Vec<CompanyGrant> = self
            .administrators
            .of_user(user)
            .await?
            .into_iter()
            .map(|admin| CompanyGrant {
                company_id: admin.company_id,
                permissions: admin.permissions,
            })
            .collect();
        if !covers_grants(self.tree.as_ref(), actor, &grants).await? {
            return Err(DomainError::Forbidden(
                "this user administers beyond your own rights; only a platform \
                 administrator may move them"
                    .into(),
            ));
        }

        let now = self.clock.now();
        let event = AuditEvent::by(actor, AuditAction::Transfer, ResourceType::Account, user)
            .details(json!({
                "from_company_id": from,
                "to_company_id": to,
                "balance_moved": 0,
            }))
            .meta(meta);
        let mut tx = self.audited.begin().await?;
        self.membership
            .move_to(tx.as_mut(), user, from, to, now)
            .await?;
        for (company, action) in [
            (&source, MembershipAction::Left),
            (&target, MembershipAction::Joined),
        ] {
            let change = MembershipChange {
                user_id: user,
                company_id: company.id,
                action,
                balance_at_time: company.balance,
                created_at: now,
            };
            self.membership.record(tx.as_mut(), &change).await?;
        }
        tx.commit(event, now).await
    }
}
