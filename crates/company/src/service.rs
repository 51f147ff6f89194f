use std::sync::Arc;

use dialix_audit::{AuditAction, AuditEvent, AuditLog, AuditedUnitOfWork, Changes};
use dialix_kernel::{
    Actor, Clock, CompanyId, CompanyTree, DomainError, DomainResult, FieldErrors, Page,
    PageRequest, Permission, RequestMeta, ResourceType, RowVersion, UnitOfWork,
    administered_companies, retry_on_stale,
};
use serde_json::{Value, json};

use crate::{
    Administrators, Company, CompanyChanges, CompanyFilter, CompanyRepository, CompanyStats,
    Ledger, Membership, NewCompany,
};

const NAME_MAX: usize = 200;
const DESCRIPTION_MAX: usize = 2000;
const SETTINGS_MAX_BYTES: usize = 16 * 1024;

/// Company use cases; every change is audited in its own transaction. The use cases are
/// split by concern: companies here, the balance in `ledger.rs`, administrators in
/// `administrators.rs`, moves between companies in `membership.rs`.
pub struct CompanyService {
    pub(crate) companies: Arc<dyn CompanyRepository>,
    pub(crate) ledger: Arc<dyn Ledger>,
    pub(crate) administrators: Arc<dyn Administrators>,
    pub(crate) membership: Arc<dyn Membership>,
    pub(crate) tree: Arc<dyn CompanyTree>,
    pub(crate) audited: AuditedUnitOfWork,
    pub(crate) clock: Arc<dyn Clock>,
}

/// The adapters `CompanyService` works through.
pub struct CompanyPorts {
    pub companies: Arc<dyn CompanyRepository>,
    pub ledger: Arc<dyn Ledger>,
    pub administrators: Arc<dyn Administrators>,
    pub membership: Arc<dyn Membership>,
    pub tree: Arc<dyn CompanyTree>,
    pub uow: Arc<dyn UnitOfWork>,
    pub audit: Arc<dyn AuditLog>,
    pub clock: Arc<dyn Clock>,
}

impl CompanyService {
    pub fn new(ports: CompanyPorts) -> Self {
        Self {
            companies: ports.companies,
            ledger: ports.ledger,
            administrators: ports.administrators,
            membership: ports.membership,
            tree: ports.tree,
            audited: AuditedUnitOfWork::new(ports.uow, ports.audit),
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
        require_platform_admin(actor, "create companies")?;
        let name = input.name.trim().to_owned();
        let description = clean_description(input.description);
        let mut errors = FieldErrors::new();
        check_name(&mut errors, &name);
        check_description(&mut errors, description.as_deref());
        let parent = match input.parent_company_id {
            Some(parent_id) => {
                let parent = self.companies.find_by_id(parent_id).await?;
                errors.check(
                    parent.is_some(),
                    "parent_company_id",
                    "no company has this id",
                );
                parent
            }
            None => None,
        };
        errors.into_result()?;
        if self
            .companies
            .find_by_name_key(&Company::name_key(&name))
            .await?
            .is_some()
        {
            return Err(name_taken());
        }

        let now = self.clock.now();
        let company = Company {
            id: CompanyId::generate(),
            name,
            description,
            is_active: true,
            parent_company_id: parent.as_ref().map(|p| p.id),
            hierarchy_level: parent.as_ref().map_or(0, |p| p.hierarchy_level + 1),
            settings: json!({}),
            balance: 0,
            created_at: now,
            updated_at: now,
            row_version: RowVersion::default(),
        };
        let event = AuditEvent::by(
            actor,
            AuditAction::Create,
            ResourceType::Company,
            company.id,
        )
        .details(json!({
            "name": company.name,
            "description": company.description,
            "parent_company_id": company.parent_company_id,
            "hierarchy_level": company.hierarchy_level,
        }))
        .meta(meta);
        let mut tx = self.audited.begin().await?;
        self.companies.insert(tx.as_mut(), &company).await?;
        tx.commit(event, now).await?;
        Ok(company)
    }

    /// Companies the actor may see: all for platform admins; the administered companies and
    /// their descendants for company administrators; otherwise the actor's own company.
    pub async fn list(
        &self,
        actor: &Actor,
        mut filter: CompanyFilter,
        page: PageRequest,
    ) -> DomainResult<Page<Company>> {
        if !actor.is_platform_admin() {
            let mut scope = administered_companies(self.tree.as_ref(), actor, None).await?;
            if let Some(own) = actor.company_id
                && !scope.contains(&own)
            {
                scope.push(own);
            }
            filter.within = Some(scope);
        }
        self.companies.list(&filter, page).await
    }

    /// A company the actor may see, with its figures.
    pub async fn get(&self, actor: &Actor, id: CompanyId) -> DomainResult<(Company, CompanyStats)> {
        let (company, _) = self.visible(actor, id).await?;
        let stats = self.companies.stats(id).await?;
        Ok((company, stats))
    }

    /// Changes name, description, settings (platform admins, or administrators with
    /// `can_manage_settings`) and `is_active` (platform admins only).
    pub async fn update(
        &self,
        actor: &Actor,
        id: CompanyId,
        changes: CompanyChanges,
        meta: &RequestMeta,
    ) -> DomainResult<Company> {
        retry_on_stale(|| self.try_update(actor, id, changes.clone(), meta)).await
    }

    async fn try_update(
        &self,
        actor: &Actor,
        id: CompanyId,
        changes: CompanyChanges,
        meta: &RequestMeta,
    ) -> DomainResult<Company> {
        let before = self
            .permitted(actor, id, Some(Permission::CanManageSettings))
            .await?;
        if changes.is_active.is_some() && !actor.is_platform_admin() {
            return Err(DomainError::Forbidden(
                "only a platform administrator may activate or deactivate a company".into(),
            ));
        }
        let mut after = before.clone();
        let mut errors = FieldErrors::new();
        if let Some(name) = changes.name {
            after.name = name.trim().to_owned();
            check_name(&mut errors, &after.name);
        }
        if let Some(description) = changes.description {
            after.description = clean_description(description);
            check_description(&mut errors, after.description.as_deref());
        }
        if let Some(is_active) = changes.is_active
            && is_active != before.is_active
        {
            // Only block/unblock keep the company and its accounts consistent.
            return Err(DomainError::conflict(
                "is_active",
                "use POST /company/{id}/block or /unblock: they block or restore the \
                 company's accounts with it",
            ));
        }
        if let Some(settings) = changes.settings {
            errors.check(settings.is_object(), "settings", "must be a JSON object");
            errors.check(
                !has_nul(&settings),
                "settings",
                "must not contain NUL characters (\\u0000)",
            );
            errors.check(
                settings.to_string().len() <= SETTINGS_MAX_BYTES,
                "settings",
                format!("must be at most {SETTINGS_MAX_BYTES} bytes of JSON"),
            );
            after.settings = settings;
        }
        errors.into_result()?;
        if Company::name_key(&after.name) != Company::name_key(&before.name)
            && self
                .companies
                .find_by_name_key(&Company::name_key(&after.name))
                .await?
                .is_some_and(|holder| holder != id)
        {
            return Err(name_taken());
        }
        let diff = Changes::new()
            .field("name", &before.name, &after.name)
            .field("description", &before.description, &after.description)
            .field("is_active", &before.is_active, &after.is_active)
            .field("settings", &before.settings, &after.settings);
        if diff.is_empty() {
            return Ok(before);
        }
        let now = self.clock.now();
        after.updated_at = now;
        let event = AuditEvent::by(actor, AuditAction::Update, ResourceType::Company, id)
            .details(diff.into_value())
            .meta(meta);
        let mut tx = self.audited.begin().await?;
        self.companies.update(tx.as_mut(), &mut after).await?;
        tx.commit(event, now).await?;
        Ok(after)
    }

    /// Deactivates the company and blocks every account in it and its descendants, at once.
    /// Platform admins only. Returns how many accounts were blocked.
    pub async fn block(
        &self,
        actor: &Actor,
        id: CompanyId,
        meta: &RequestMeta,
    ) -> DomainResult<u64> {
        retry_on_stale(|| self.try_block(actor, id, meta)).await
    }

    async fn try_block(
        &self,
        actor: &Actor,
        id: CompanyId,
        meta: &RequestMeta,
    ) -> DomainResult<u64> {
        let company = self.permitted(actor, id, None).await?;
        if !company.is_active {
            return Err(DomainError::conflict(
                "company",
                "the company is already blocked or inactive",
            ));
        }
        let scope = self.tree.subtree(&[id]).await?;
        let now = self.clock.now();
        let mut tx = self.audited.begin().await?;
        let blocked = self
            .companies
            .block_members(tx.as_mut(), &scope, id, now)
            .await?;
        self.companies
            .update(
                tx.as_mut(),
                &mut Company {
                    is_active: false,
                    updated_at: now,
                    ..company
                },
            )
            .await?;
        let event = AuditEvent::by(actor, AuditAction::Block, ResourceType::Company, id)
            .details(json!({"blocked_accounts": blocked, "companies": scope.len()}))
            .meta(meta);
        tx.commit(event, now).await?;
        Ok(blocked)
    }

    /// Reactivates the company and unblocks exactly the accounts its block blocked.
    pub async fn unblock(
        &self,
        actor: &Actor,
        id: CompanyId,
        meta: &RequestMeta,
    ) -> DomainResult<u64> {
        retry_on_stale(|| self.try_unblock(actor, id, meta)).await
    }

    async fn try_unblock(
        &self,
        actor: &Actor,
        id: CompanyId,
        meta: &RequestMeta,
    ) -> DomainResult<u64> {
        let company = self.permitted(actor, id, None).await?;
        if company.is_active {
            return Err(DomainError::conflict(
                "company",
                "the company is not blocked",
            ));
        }
        let now = self.clock.now();
        let mut tx = self.audited.begin().await?;
        let unblocked = self.companies.unblock_members(tx.as_mut(), id, now).await?;
        self.companies
            .update(
                tx.as_mut(),
                &mut Company {
                    is_active: true,
                    updated_at: now,
                    ..company
                },
            )
            .await?;
        let event = AuditEvent::by(actor, AuditAction::Unblock, ResourceType::Company, id)
            .details(json!({"unblocked_accounts": unblocked}))
            .meta(meta);
        tx.commit(event, now).await?;
        Ok(unblocked)
    }

    /// The company, if the actor may see it: platform admins, its members, and
    /// administrators of it or an ancestor. Anyone else gets "not found".
    pub(crate) async fn visible(
        &self,
        actor: &Actor,
        id: CompanyId,
    ) -> DomainResult<(Company, Vec<CompanyId>)> {
        let company = self
            .companies
            .find_by_id(id)
            .await?
            .ok_or(DomainError::NotFound("company"))?;
        let lineage = self.tree.lineage(company.id).await?;
        if actor.is_platform_admin()
            || actor.company_id == Some(id)
            || actor.administers_within(&lineage)
        {
            Ok((company, lineage))
        } else {
            Err(DomainError::NotFound("company"))
        }
    }

    /// The company, if the actor holds `permission` over it (`None`: platform admins only).
    /// 404 when the actor may not even see it, 403 when it may see it but not do this.
    pub(crate) async fn permitted(
        &self,
        actor: &Actor,
        id: CompanyId,
        permission: Option<Permission>,
    ) -> DomainResult<Company> {
        let (company, lineage) = self.visible(actor, id).await?;
        let allowed = match permission {
            None => actor.is_platform_admin(),
            Some(permission) => actor.may_within(permission, &lineage),
        };
        if allowed {
            Ok(company)
        } else {
            Err(DomainError::Forbidden(match permission {
                None => "only a platform administrator may do this".into(),
                Some(p) => format!("this needs the {} permission for this company", p.as_str()),
            }))
        }
    }
}

pub(crate) fn require_platform_admin(actor: &Actor, what: &str) -> DomainResult<()> {
    if actor.is_platform_admin() {
        Ok(())
    } else {
        Err(DomainError::Forbidden(format!(
            "only a platform administrator may {what}"
        )))
    }
}

fn name_taken() -> DomainError {
    DomainError::conflict("name", "a company with this name already exists")
}

fn clean_description(description: Option<String>) -> Option<String> {
    description
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty())
}

fn check_name(errors: &mut FieldErrors, name: &str) {
    errors.check(
        (1..=NAME_MAX).contains(&name.chars().count()) && !name.chars().any(char::is_control),
        "name",
        format!("must be 1 to {NAME_MAX} characters, without control characters"),
    );
}

/// Whether any key or string of the JSON holds a NUL, which PostgreSQL cannot store.
fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map
            .iter()
            .any(|(key, item)| key.contains('\0') || has_nul(item)),
        _ => false,
    }
}

fn check_description(errors: &mut FieldErrors, description: Option<&str>) {
    errors.check(
        description.is_none_or(|d| {
            d.chars().count() <= DESCRIPTION_MAX
                && !d
                    .chars()
                    .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        }),
        "description",
        format!("must be at most {DESCRIPTION_MAX} characters, without control characters"),
    );
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use dialix_audit::MockAuditLog;
    use dialix_kernel::AccountId;
    use uuid::Uuid;

    use crate::{
        Administrator, LedgerEntry, LedgerKind, MembershipAction, TOPUP_MAX, parse_permissions,
    };
    use dialix_kernel::{CompanyGrant, MockClock, MockCompanyTree, Role, noop_unit_of_work};
    use mockall::predicate::eq;
    use time::OffsetDateTime;
    use time::macros::datetime;

    use super::*;
    use crate::{MockAdministrators, MockCompanyRepository, MockLedger, MockMembership};

    const NOW: OffsetDateTime = datetime!(2026-11-26 12:00 UTC);

    struct Mocks {
        companies: MockCompanyRepository,
        ledger: MockLedger,
        administrators: MockAdministrators,
        membership: MockMembership,
        tree: MockCompanyTree,
        audit: MockAuditLog,
    }

    impl Mocks {
        fn new() -> Self {
            Self {
                companies: MockCompanyRepository::new(),
                ledger: MockLedger::new(),
                administrators: MockAdministrators::new(),
                membership: MockMembership::new(),
                tree: MockCompanyTree::new(),
                audit: MockAuditLog::new(),
            }
        }

        /// `company` exists, at the top of the tree.
        fn with_company(mut self, company: Company) -> Self {
            let id = company.id;
            self.companies
                .expect_find_by_id()
                .with(eq(id))
                .returning(move |_| Ok(Some(company.clone())));
            self.tree
                .expect_lineage()
                .with(eq(id))
                .returning(move |_| Ok(vec![id]));
            self
        }

        fn audits(mut self, action: AuditAction, times: usize) -> Self {
            self.audit
                .expect_append()
                .withf(move |_, event, at| event.action == action && *at == NOW)
                .times(times)
                .returning(|_, _, _| Ok(()));
            self
        }

        fn service(self) -> CompanyService {
            let mut clock = MockClock::new();
            clock.expect_now().return_const(NOW);
            CompanyService::new(CompanyPorts {
                companies: Arc::new(self.companies),
                ledger: Arc::new(self.ledger),
                administrators: Arc::new(self.administrators),
                membership: Arc::new(self.membership),
                tree: Arc::new(self.tree),
                uow: Arc::new(noop_unit_of_work()),
                audit: Arc::new(self.audit),
                clock: Arc::new(clock),
            })
        }
    }

    fn company(name: &str) -> Company {
        Company {
            id: CompanyId::generate(),
            name: name.into(),
            description: None,
            is_active: true,
            parent_company_id: None,
            hierarchy_level: 0,
            settings: json!({}),
            balance: 0,
            created_at: NOW,
            updated_at: NOW,
            row_version: Default::default(),
        }
    }

    fn admin() -> Actor {
        Actor {
            account_id: AccountId::generate(),
            role: Role::Admin,
            company_id: None,
            grants: vec![],
        }
    }

    fn meta() -> RequestMeta {
        RequestMeta::system()
    }

    #[tokio::test]
    async fn a_sub_company_is_one_level_below_its_parent() {
        let mut parent = company("Parent");
        parent.hierarchy_level = 1;
        let parent_id = parent.id;
        let mut mocks = Mocks::new()
            .with_company(parent)
            .audits(AuditAction::Create, 1);
        mocks
            .companies
            .expect_find_by_name_key()
            .returning(|_| Ok(None));
        mocks
            .companies
            .expect_insert()
            .times(1)
            .returning(|_, _| Ok(()));
        let input = NewCompany {
            name: "  Child ".into(),
            description: Some("  ".into()),
            parent_company_id: Some(parent_id),
        };
        let created = mocks
            .service()
            .create(&admin(), input, &meta())
            .await
            .unwrap();
        assert_eq!(created.name, "Child");
        assert_eq!(created.description, None);
        assert_eq!(created.hierarchy_level, 2);
    }

    #[tokio::test]
    async fn names_clash_case_insensitively_and_users_cannot_create() {
        let mut mocks = Mocks::new();
        mocks
            .companies
            .expect_find_by_name_key()
            .with(eq("acme"))
            .returning(|_| Ok(Some(CompanyId::generate())));
        mocks.companies.expect_insert().never();
        let service = mocks.service();
        let input = NewCompany {
            name: "ACME".into(),
            description: None,
            parent_company_id: None,
        };
        let error = service
            .create(&admin(), input.clone(), &meta())
            .await
            .unwrap_err();
        assert!(matches!(error, DomainError::Conflict { field: "name", .. }));
        let user = Actor::administrator_of(CompanyId::generate(), &[Permission::CanManageUsers]);
        let error = service.create(&user, input, &meta()).await.unwrap_err();
        assert!(matches!(error, DomainError::Forbidden(_)));
    }

    #[tokio::test]
    async fn a_top_up_adds_to_the_balance_and_appends_the_ledger_in_one_go() {
        let acme = company("Acme");
        let id = acme.id;
        let mut mocks = Mocks::new()
            .with_company(acme)
            .audits(AuditAction::Topup, 1);
        mocks
            .ledger
            .expect_find_by_key()
            .returning(|_, _, _| Ok(None));
        mocks
            .ledger
            .expect_add_to_balance()
            .withf(move |_, company, amount| *company == id && *amount == 250)
            .returning(|_, _, _| Ok(1250));
        mocks
            .ledger
            .expect_append()
            .withf(|_, entry| {
                entry.kind == LedgerKind::Topup
                    && entry.amount == 250
                    && entry.balance_after == 1250
                    && entry.idempotency_key.as_deref() == Some("inv-7")
            })
            .times(1)
            .returning(|_, _| Ok(()));
        let actor = Actor::administrator_of(id, &[Permission::CanTopup]);
        let topup = mocks
            .service()
            .topup(&actor, id, 250, " inv-7 ".into(), &meta())
            .await
            .unwrap();
        assert!(!topup.replayed);
        assert_eq!(topup.entry.owner_id, Some(actor.account_id));
    }

    #[tokio::test]
    async fn a_repeated_idempotency_key_replays_or_conflicts_without_writing() {
        let acme = company("Acme");
        let id = acme.id;
        let earlier = LedgerEntry {
            id: Uuid::now_v7(),
            company_id: id,
            owner_id: None,
            record_id: None,
            kind: LedgerKind::Topup,
            amount: 100,
            balance_after: 100,
            idempotency_key: Some("k".into()),
            created_at: NOW,
        };
        let mut mocks = Mocks::new().with_company(acme);
        mocks
            .ledger
            .expect_find_by_key()
            .returning(move |_, _, _| Ok(Some(earlier.clone())));
        mocks.ledger.expect_add_to_balance().never();
        mocks.audit.expect_append().never();
        let service = mocks.service();
        let replay = service
            .topup(&admin(), id, 100, "k".into(), &meta())
            .await
            .unwrap();
        assert!(replay.replayed);
        let clash = service.topup(&admin(), id, 999, "k".into(), &meta()).await;
        assert!(matches!(
            clash,
            Err(DomainError::Conflict {
                field: "idempotency_key",
                ..
            })
        ));
    }

    #[tokio::test]
    async fn top_ups_need_the_permission_and_a_positive_amount() {
        let acme = company("Acme");
        let id = acme.id;
        let mut mocks = Mocks::new().with_company(acme);
        mocks.ledger.expect_find_by_key().never();
        let service = mocks.service();
        let clerk = Actor::administrator_of(id, &[Permission::CanManageUsers]);
        let refused = service.topup(&clerk, id, 10, "k".into(), &meta()).await;
        assert!(matches!(refused, Err(DomainError::Forbidden(_))));
        for amount in [0, -1, TOPUP_MAX + 1] {
            let invalid = service
                .topup(&admin(), id, amount, "k".into(), &meta())
                .await;
            assert!(
                matches!(invalid, Err(DomainError::Validation(_))),
                "{amount}"
            );
        }
        let stranger = Actor::administrator_of(CompanyId::generate(), &[Permission::CanTopup]);
        let hidden = service.topup(&stranger, id, 10, "k".into(), &meta()).await;
        assert_eq!(hidden.unwrap_err(), DomainError::NotFound("company"));
    }

    #[tokio::test]
    async fn blocking_covers_the_whole_subtree_and_is_audited_with_the_count() {
        let acme = company("Acme");
        let id = acme.id;
        let child = CompanyId::generate();
        let mut mocks = Mocks::new().with_company(acme);
        mocks
            .tree
            .expect_subtree()
            .returning(move |_| Ok(vec![id, child]));
        mocks
            .companies
            .expect_block_members()
            .withf(move |_, companies, by, _| companies == [id, child] && *by == id)
            .returning(|_, _, _, _| Ok(3));
        mocks
            .companies
            .expect_update()
            .withf(|_, company| !company.is_active)
            .times(1)
            .returning(|_, _| Ok(()));
        mocks
            .audit
            .expect_append()
            .withf(|_, event, _| {
                event.action == AuditAction::Block && event.details["blocked_accounts"] == 3
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        assert_eq!(mocks.service().block(&admin(), id, &meta()).await, Ok(3));
    }

    #[tokio::test]
    async fn a_transfer_needs_the_user_to_be_where_the_caller_says() {
        let from = company("From");
        let to = company("To");
        let (from_id, to_id) = (from.id, to.id);
        let user = AccountId::generate();
        let mut mocks = Mocks::new().with_company(from).with_company(to);
        mocks
            .membership
            .expect_company_of()
            .returning(|_| Ok(Some(Some(CompanyId::generate()))));
        mocks.membership.expect_move_to().never();
        let error = mocks
            .service()
            .transfer_user(&admin(), to_id, user, from_id, &meta())
            .await
            .unwrap_err();
        let DomainError::Validation(errors) = error else {
            panic!("expected a validation error");
        };
        assert_eq!(
            errors.iter().next().map(|(f, _)| f),
            Some("from_company_id")
        );
    }

    #[tokio::test]
    async fn a_transfer_records_left_and_joined_with_each_balance() {
        let mut from = company("From");
        from.balance = 700;
        let to = company("To");
        let (from_id, to_id) = (from.id, to.id);
        let user = AccountId::generate();
        let mut mocks = Mocks::new()
            .with_company(from)
            .with_company(to)
            .audits(AuditAction::Transfer, 1);
        mocks
            .membership
            .expect_company_of()
            .returning(move |_| Ok(Some(Some(from_id))));
        mocks
            .administrators
            .expect_of_user()
            .returning(|_| Ok(Vec::new()));
        mocks
            .membership
            .expect_move_to()
            .withf(move |_, u, from, to, _| *u == user && *from == from_id && *to == to_id)
            .times(1)
            .returning(|_, _, _, _, _| Ok(()));
        mocks
            .membership
            .expect_record()
            .withf(move |_, change| {
                (change.action == MembershipAction::Left
                    && change.company_id == from_id
                    && change.balance_at_time == 700)
                    || (change.action == MembershipAction::Joined
                        && change.company_id == to_id
                        && change.balance_at_time == 0)
            })
            .times(2)
            .returning(|_, _| Ok(()));
        let actor = Actor {
            grants: vec![
                CompanyGrant {
                    company_id: from_id,
                    permissions: BTreeSet::from([Permission::CanManageUsers]),
                },
                CompanyGrant {
                    company_id: to_id,
                    permissions: BTreeSet::from([Permission::CanManageUsers]),
                },
            ],
            ..Actor::administrator_of(from_id, &[])
        };
        mocks
            .service()
            .transfer_user(&actor, to_id, user, from_id, &meta())
            .await
            .unwrap();
    }

    #[test]
    fn permissions_parse_strictly() {
        let parsed = parse_permissions(&json!({"can_topup": true, "can_manage_users": false}));
        assert_eq!(parsed, Ok(BTreeSet::from([Permission::CanTopup])));
        assert!(parse_permissions(&json!({"can_fly": true})).is_err());
        assert!(parse_permissions(&json!({"can_topup": 1})).is_err());
        assert!(parse_permissions(&json!(["can_topup"])).is_err());
    }

    #[tokio::test]
    async fn a_permission_change_racing_another_write_is_decided_again() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let acme = company("Acme");
        let id = acme.id;
        let user = AccountId::generate();
        let mut mocks = Mocks::new()
            .with_company(acme)
            .audits(AuditAction::Update, 1);
        let grant = Administrator {
            company_id: id,
            user_id: user,
            permissions: BTreeSet::from([Permission::CanManageUsers]),
            created_at: NOW,
            row_version: Default::default(),
        };
        mocks
            .administrators
            .expect_find()
            .times(2)
            .returning(move |_, _| Ok(Some(grant.clone())));
        let writes = std::sync::Arc::new(AtomicUsize::new(0));
        let counted = writes.clone();
        mocks
            .administrators
            .expect_update()
            .times(2)
            .returning(move |_, _| match counted.fetch_add(1, Ordering::SeqCst) {
                0 => Err(DomainError::Stale("administrator")),
                _ => Ok(()),
            });
        let updated = mocks
            .service()
            .update_administrator(
                &admin(),
                id,
                user,
                BTreeSet::from([Permission::CanTopup]),
                &meta(),
            )
            .await
            .unwrap();
        assert_eq!(updated.permissions, BTreeSet::from([Permission::CanTopup]));
    }
}
