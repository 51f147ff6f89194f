use std::sync::Arc;

use dialix_audit::{AuditAction, AuditEvent, AuditLog};
use dialix_kernel::{
    Actor, Clock, CompanyId, DomainError, DomainResult, FieldErrors, RequestMeta, UnitOfWork,
};
use serde_json::json;

use crate::{Company, CompanyRepository, NewCompany, RESOURCE_COMPANY};

const NAME_MAX: usize = 200;
const DESCRIPTION_MAX: usize = 2000;

/// Company use cases; every change is audited in its own transaction.
pub struct CompanyService {
    companies: Arc<dyn CompanyRepository>,
    uow: Arc<dyn UnitOfWork>,
    audit: Arc<dyn AuditLog>,
    clock: Arc<dyn Clock>,
}

/// The adapters `CompanyService` works through.
pub struct CompanyPorts {
    pub companies: Arc<dyn CompanyRepository>,
    pub uow: Arc<dyn UnitOfWork>,
    pub audit: Arc<dyn AuditLog>,
    pub clock: Arc<dyn Clock>,
}

impl CompanyService {
    pub fn new(ports: CompanyPorts) -> Self {
        Self {
            companies: ports.companies,
            uow: ports.uow,
            audit: ports.audit,
            clock: ports.clock,
        }
    }

    /// Creates a company, optionally under a parent; platform admins only.
    pub async fn create(
        &self,
        actor: &Actor,
        input: NewCompany,
        meta: &RequestMeta,
    ) -> DomainResult<Company> {
        if !actor.is_platform_admin() {
            return Err(DomainError::Forbidden(
                "only a platform administrator may create companies".into(),
            ));
        }
        let name = input.name.trim().to_owned();
        let description = input
            .description
            .map(|d| d.trim().to_owned())
            .filter(|d| !d.is_empty());
        let mut errors = FieldErrors::new();
        errors.check(
            (1..=NAME_MAX).contains(&name.chars().count()) && !name.chars().any(char::is_control),
            "name",
            format!("must be 1 to {NAME_MAX} characters, without control characters"),
        );
        errors.check(
            description.as_ref().is_none_or(|d| {
                d.chars().count() <= DESCRIPTION_MAX
                    && !d
                        .chars()
                        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            }),
            "description",
            format!("must be at most {DESCRIPTION_MAX} characters, without control characters"),
        );
        let parent = match input.parent_company_id {
            Some(parent_id) => self.parent(parent_id, &mut errors).await?,
            None => None,
        };
        errors.into_result()?;

        if self.companies.name_taken(&Company::name_key(&name)).await? {
            return Err(DomainError::conflict(
                "name",
                "a company with this name already exists",
            ));
        }
        let now = self.clock.now();
        let company = Company {
            id: CompanyId::generate(),
            name,
            description,
            is_active: true,
            parent_company_id: parent.as_ref().map(|p| p.id),
            hierarchy_level: parent.as_ref().map_or(0, |p| p.hierarchy_level + 1),
            balance: 0,
            created_at: now,
            updated_at: now,
        };
        let event = AuditEvent::by(actor, AuditAction::Create, RESOURCE_COMPANY, company.id)
            .details(json!({
                "name": company.name,
                "description": company.description,
                "parent_company_id": company.parent_company_id,
                "hierarchy_level": company.hierarchy_level,
            }))
            .meta(meta);
        let mut tx = self.uow.begin().await?;
        self.companies.insert(tx.as_mut(), &company).await?;
        self.audit.append(tx.as_mut(), event, now).await?;
        tx.commit().await?;
        Ok(company)
    }

    async fn parent(
        &self,
        parent_id: CompanyId,
        errors: &mut FieldErrors,
    ) -> DomainResult<Option<Company>> {
        let parent = self.companies.find_by_id(parent_id).await?;
        errors.check(
            parent.is_some(),
            "parent_company_id",
            "no company has this id",
        );
        Ok(parent)
    }
}

#[cfg(test)]
mod tests {
    use dialix_audit::MockAuditLog;
    use dialix_kernel::{AccountId, MockClock, Role, noop_unit_of_work};
    use time::macros::datetime;

    use super::*;
    use crate::MockCompanyRepository;

    fn actor(role: Role) -> Actor {
        Actor {
            account_id: AccountId::generate(),
            role,
            company_id: None,
            grants: vec![],
        }
    }

    fn service(companies: MockCompanyRepository) -> CompanyService {
        let mut audit = MockAuditLog::new();
        audit
            .expect_append()
            .withf(|_, event, _| event.action == AuditAction::Create)
            .returning(|_, _, _| Ok(()));
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .return_const(datetime!(2026-11-26 12:00 UTC));
        CompanyService::new(CompanyPorts {
            companies: Arc::new(companies),
            uow: Arc::new(noop_unit_of_work()),
            audit: Arc::new(audit),
            clock: Arc::new(clock),
        })
    }

    fn input(name: &str, parent: Option<CompanyId>) -> NewCompany {
        NewCompany {
            name: name.into(),
            description: Some("  ".into()),
            parent_company_id: parent,
        }
    }

    #[tokio::test]
    async fn a_sub_company_is_one_level_below_its_parent() {
        let parent_id = CompanyId::generate();
        let mut companies = MockCompanyRepository::new();
        companies.expect_find_by_id().returning(move |id| {
            Ok(Some(Company {
                id,
                name: "Parent".into(),
                description: None,
                is_active: true,
                parent_company_id: None,
                hierarchy_level: 1,
                balance: 0,
                created_at: datetime!(2026-01-01 0:00 UTC),
                updated_at: datetime!(2026-01-01 0:00 UTC),
            }))
        });
        companies.expect_name_taken().returning(|_| Ok(false));
        companies.expect_insert().times(1).returning(|_, _| Ok(()));

        let created = service(companies)
            .create(
                &actor(Role::Admin),
                input("  Child ", Some(parent_id)),
                &RequestMeta::system(),
            )
            .await
            .unwrap();
        assert_eq!(created.name, "Child");
        assert_eq!(created.description, None);
        assert_eq!(created.parent_company_id, Some(parent_id));
        assert_eq!(created.hierarchy_level, 2);
    }

    #[tokio::test]
    async fn a_missing_parent_and_an_empty_name_are_validation_errors() {
        let mut companies = MockCompanyRepository::new();
        companies.expect_find_by_id().returning(|_| Ok(None));
        companies.expect_insert().never();
        let Err(DomainError::Validation(errors)) = service(companies)
            .create(
                &actor(Role::Admin),
                input(" ", Some(CompanyId::generate())),
                &RequestMeta::system(),
            )
            .await
        else {
            panic!("expected a validation error");
        };
        let fields: Vec<_> = errors.iter().map(|(field, _)| field).collect();
        assert_eq!(fields, ["name", "parent_company_id"]);
    }

    #[tokio::test]
    async fn names_clash_case_insensitively() {
        let mut companies = MockCompanyRepository::new();
        companies
            .expect_name_taken()
            .withf(|key| key == "acme")
            .returning(|_| Ok(true));
        companies.expect_insert().never();
        let error = service(companies)
            .create(
                &actor(Role::Admin),
                input("ACME", None),
                &RequestMeta::system(),
            )
            .await
            .unwrap_err();
        assert!(matches!(error, DomainError::Conflict { field: "name", .. }));
    }

    #[tokio::test]
    async fn plain_users_cannot_create_companies() {
        let mut companies = MockCompanyRepository::new();
        companies.expect_insert().never();
        let error = service(companies)
            .create(
                &actor(Role::User),
                input("Acme", None),
                &RequestMeta::system(),
            )
            .await
            .unwrap_err();
        assert!(matches!(error, DomainError::Forbidden(_)));
    }
}
