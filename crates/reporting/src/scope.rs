//! Whose figures a request sees, and over which period: the one framing every statistic,
//! dashboard and compliance figure starts from.
//!
//! - Platform admins: every company, or one company with its descendants (`company_id`).
//! - Company administrators with `can_view_records`: the companies they administer with their
//!   descendants (or one of them). Spend follows calls: whoever may see a company's calls sees
//!   what they cost.
//! - Everyone else: their own calls and the spend on them, never their colleagues'.

use std::sync::Arc;

use dialix_account::{DEFAULT_TIMEZONE, SettingsRepository};
use dialix_kernel::{
    AccountId, Actor, Clock, CompanyId, CompanyTree, DomainError, DomainResult, Permission,
    administered_companies,
};
use time::Date;

use crate::Period;

/// The rows a figure counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FigureScope {
    /// Every company (platform admins without a company filter).
    All,
    /// These companies (already expanded to their descendants).
    Companies(Vec<CompanyId>),
    /// One account's own calls and charges.
    Owner(AccountId),
}

/// What every figure request names: the period and, for administrators, one company.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FigureRequest {
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    pub company_id: Option<CompanyId>,
}

/// Scope and period of a request; shared by every reporting service.
#[derive(Clone)]
pub struct Framing {
    pub tree: Arc<dyn CompanyTree>,
    pub settings: Arc<dyn SettingsRepository>,
    pub clock: Arc<dyn Clock>,
}

impl Framing {
    /// The scope `actor` may see (narrowed to `company_id`, 404 when outside it) and the
    /// period in the actor's time zone (422 for a bad range).
    pub async fn frame(
        &self,
        actor: &Actor,
        request: &FigureRequest,
    ) -> DomainResult<(FigureScope, Period)> {
        let scope = self.scope(actor, request.company_id).await?;
        let timezone = self
            .settings
            .find(actor.account_id)
            .await?
            .map_or_else(|| DEFAULT_TIMEZONE.to_owned(), |s| s.timezone);
        let period = Period::new(
            request.start_date,
            request.end_date,
            &timezone,
            self.clock.now(),
        )?;
        Ok((scope, period))
    }

    async fn scope(&self, actor: &Actor, company: Option<CompanyId>) -> DomainResult<FigureScope> {
        if actor.is_platform_admin() {
            return Ok(match company {
                None => FigureScope::All,
                Some(company) => FigureScope::Companies(self.tree.subtree(&[company]).await?),
            });
        }
        let administered =
            administered_companies(self.tree.as_ref(), actor, Some(Permission::CanViewRecords))
                .await?;
        match company {
            Some(company) if administered.contains(&company) => {
                Ok(FigureScope::Companies(self.tree.subtree(&[company]).await?))
            }
            Some(company) if administered.is_empty() && actor.company_id == Some(company) => {
                Ok(FigureScope::Owner(actor.account_id))
            }
            Some(_) => Err(DomainError::NotFound("company")),
            None if administered.is_empty() => Ok(FigureScope::Owner(actor.account_id)),
            None => Ok(FigureScope::Companies(administered)),
        }
    }
}

/// Platform-wide figures (revenue) are for platform admins only.
pub fn require_platform_admin(actor: &Actor) -> DomainResult<()> {
    if actor.is_platform_admin() {
        Ok(())
    } else {
        Err(DomainError::Forbidden(
            "only platform administrators see platform revenue".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use dialix_account::MockSettingsRepository;
    use dialix_kernel::{CompanyGrant, MockClock, MockCompanyTree, Role};
    use time::macros::datetime;

    use super::*;

    fn framing(tree: MockCompanyTree) -> Framing {
        let mut settings = MockSettingsRepository::new();
        settings.expect_find().returning(|_| Ok(None));
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .returning(|| datetime!(2026-12-07 12:00 UTC));
        Framing {
            tree: Arc::new(tree),
            settings: Arc::new(settings),
            clock: Arc::new(clock),
        }
    }

    fn actor(role: Role, grants: Vec<CompanyGrant>) -> Actor {
        Actor {
            account_id: AccountId::generate(),
            role,
            company_id: Some(CompanyId::generate()),
            grants,
        }
    }

    #[tokio::test]
    async fn a_plain_user_sees_only_their_own_figures() {
        let user = actor(Role::User, vec![]);
        let (scope, period) = framing(MockCompanyTree::new())
            .frame(&user, &FigureRequest::default())
            .await
            .unwrap();
        assert_eq!(scope, FigureScope::Owner(user.account_id));
        assert_eq!(period.timezone, DEFAULT_TIMEZONE);
        let other = FigureRequest {
            company_id: Some(CompanyId::generate()),
            ..Default::default()
        };
        let refused = framing(MockCompanyTree::new()).frame(&user, &other).await;
        assert!(matches!(refused, Err(DomainError::NotFound("company"))));
    }

    #[tokio::test]
    async fn an_administrator_sees_their_companies_and_nothing_else() {
        let company = CompanyId::generate();
        let child = CompanyId::generate();
        let admin = actor(
            Role::User,
            vec![CompanyGrant {
                company_id: company,
                permissions: [Permission::CanViewRecords].into(),
            }],
        );
        let mut tree = MockCompanyTree::new();
        tree.expect_subtree()
            .returning(move |_| Ok(vec![company, child]));
        let framing = framing(tree);
        let (scope, _) = framing
            .frame(&admin, &FigureRequest::default())
            .await
            .unwrap();
        assert_eq!(scope, FigureScope::Companies(vec![company, child]));
        let elsewhere = FigureRequest {
            company_id: Some(CompanyId::generate()),
            ..Default::default()
        };
        let refused = framing.frame(&admin, &elsewhere).await;
        assert!(matches!(refused, Err(DomainError::NotFound("company"))));
    }

    #[tokio::test]
    async fn platform_admins_see_everything_or_one_company_tree() {
        let admin = actor(Role::Admin, vec![]);
        let company = CompanyId::generate();
        let mut tree = MockCompanyTree::new();
        tree.expect_subtree()
            .returning(move |roots| Ok(roots.to_vec()));
        let framing = framing(tree);
        let (all, _) = framing
            .frame(&admin, &FigureRequest::default())
            .await
            .unwrap();
        assert_eq!(all, FigureScope::All);
        let one = FigureRequest {
            company_id: Some(company),
            ..Default::default()
        };
        let (scope, _) = framing.frame(&admin, &one).await.unwrap();
        assert_eq!(scope, FigureScope::Companies(vec![company]));
        assert!(require_platform_admin(&admin).is_ok());
        assert!(require_platform_admin(&actor(Role::User, vec![])).is_err());
    }
}
