use std::sync::Arc;

use dialix_kernel::{
    AccountId, Actor, Clock, CompanyId, CompanyTree, DomainError, DomainResult, Page, PageRequest,
    Permission, RequestMeta, ResourceType, UnitOfWork,
};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::{
    AuditAction, AuditCursor, AuditEntry, AuditEvent, AuditFilter, AuditFilterInput, AuditLog,
    AuditStore, AuditedUnitOfWork, BrokenLink, ChainVerifier, PurgeReport, ResourceAccess,
};

/// Entries read per database round trip when exporting or verifying.
const BATCH: u64 = 1000;

/// A filter the actor has been authorised to run; only this service makes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery(AuditFilter);

/// Which entries a purge removes: those created before a date, or older than an age (counted
/// from the service's clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurgeCutoff {
    Before(OffsetDateTime),
    OlderThan(time::Duration),
}

/// One batch of an export, newest first, and where the next one starts (`None` after the
/// last, so an export of fewer entries than a batch costs one query).
#[derive(Debug, Clone, PartialEq)]
pub struct ExportBatch {
    pub entries: Vec<AuditEntry>,
    pub next: Option<AuditCursor>,
}

/// The outcome of walking every chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationReport {
    pub chains_checked: u64,
    pub entries_checked: u64,
    pub first_broken: Option<BrokenLink>,
}

/// Reading, verifying and purging the activity log.
pub struct AuditService {
    store: Arc<dyn AuditStore>,
    access: Arc<dyn ResourceAccess>,
    tree: Arc<dyn CompanyTree>,
    audited: AuditedUnitOfWork,
    clock: Arc<dyn Clock>,
}

/// The adapters `AuditService` works through.
pub struct AuditPorts {
    pub store: Arc<dyn AuditStore>,
    pub log: Arc<dyn AuditLog>,
    pub access: Arc<dyn ResourceAccess>,
    pub tree: Arc<dyn CompanyTree>,
    pub uow: Arc<dyn UnitOfWork>,
    pub clock: Arc<dyn Clock>,
}

impl AuditService {
    pub fn new(ports: AuditPorts) -> Self {
        Self {
            store: ports.store,
            access: ports.access,
            tree: ports.tree,
            audited: AuditedUnitOfWork::new(ports.uow, ports.log),
            clock: ports.clock,
        }
    }

    /// The actor's own entries.
    pub fn own(&self, actor: &Actor, input: &AuditFilterInput) -> DomainResult<AuditQuery> {
        let mut filter = input.parse()?;
        filter.user_id = Some(actor.account_id);
        Ok(AuditQuery(filter))
    }

    /// The trail of one resource, if the actor may see that resource: platform admins any;
    /// company administrators with `can_view_activity_logs` those of their companies and
    /// sub-companies; users the resources that are theirs (their account, settings, grants and
    /// uploads). Anything else is "not found", so ids of others are not confirmed.
    pub async fn resource(
        &self,
        actor: &Actor,
        resource_type: ResourceType,
        resource_id: &str,
        input: &AuditFilterInput,
    ) -> DomainResult<AuditQuery> {
        let mut filter = input.parse()?;
        if !actor.is_platform_admin() {
            let owner = self
                .access
                .owner_of(resource_type, resource_id)
                .await?
                .ok_or(DomainError::NotFound("resource"))?;
            let own = owner.account_id == Some(actor.account_id);
            let administered = match owner.company_id {
                Some(company) => actor.may_within(
                    Permission::CanViewActivityLogs,
                    &self.tree.lineage(company).await?,
                ),
                None => false,
            };
            if !own && !administered {
                return Err(DomainError::NotFound("resource"));
            }
        }
        filter.resource = Some((resource_type, resource_id.to_owned()));
        Ok(AuditQuery(filter))
    }

    /// Every entry of a company's users; platform admins and the company's administrators.
    pub async fn company(
        &self,
        actor: &Actor,
        company_id: CompanyId,
        input: &AuditFilterInput,
    ) -> DomainResult<AuditQuery> {
        let mut filter = input.parse()?;
        if !actor.may(Permission::CanViewActivityLogs, company_id) {
            return Err(DomainError::NotFound("company"));
        }
        self.access
            .owner_of(ResourceType::Company, &company_id.to_string())
            .await?
            .ok_or(DomainError::NotFound("company"))?;
        filter.company_id = Some(company_id);
        Ok(AuditQuery(filter))
    }

    /// The latest entries by one user. Callers must already have established that the actor
    /// may see this user (as `AccountService::get` does).
    pub async fn recent_by_user(
        &self,
        user: AccountId,
        limit: u64,
    ) -> DomainResult<Vec<AuditEntry>> {
        let filter = AuditFilter {
            user_id: Some(user),
            ..Default::default()
        };
        let page = PageRequest { limit, offset: 0 };
        Ok(self.store.list(&filter, page).await?.items)
    }

    pub async fn page(
        &self,
        query: &AuditQuery,
        page: PageRequest,
    ) -> DomainResult<Page<AuditEntry>> {
        self.store.list(&query.0, page).await
    }

    /// The next batch of an export, newest first, after `after` (from the start if `None`).
    pub async fn batch(
        &self,
        query: &AuditQuery,
        after: Option<AuditCursor>,
    ) -> DomainResult<ExportBatch> {
        let entries = self.store.scan(&query.0, after, BATCH).await?;
        let next = if entries.len() as u64 >= BATCH {
            entries.last().map(|last| AuditCursor {
                created_at: last.created_at,
                id: last.id,
            })
        } else {
            None
        };
        Ok(ExportBatch { entries, next })
    }

    /// Walks every chain and reports the first broken link; platform admins only.
    pub async fn verify(&self, actor: &Actor) -> DomainResult<VerificationReport> {
        if !actor.is_platform_admin() {
            return Err(DomainError::Forbidden(
                "only a platform administrator may verify the activity log".into(),
            ));
        }
        let mut report = VerificationReport {
            chains_checked: 0,
            entries_checked: 0,
            first_broken: None,
        };
        for head in self.store.chains().await? {
            report.chains_checked += 1;
            let mut verifier =
                ChainVerifier::new(head.chain_id, head.anchor_seq, &head.anchor_hash);
            let mut after_seq = head.anchor_seq;
            loop {
                let entries = self
                    .store
                    .chain_entries(head.chain_id, after_seq, BATCH)
                    .await?;
                for entry in &entries {
                    report.entries_checked += 1;
                    if let Err(broken) = verifier.check(entry) {
                        report.first_broken = Some(broken);
                        return Ok(report);
                    }
                    after_seq = entry.seq;
                }
                if (entries.len() as u64) < BATCH {
                    break;
                }
            }
            if let Err(broken) = verifier.finish(head.head_seq, &head.head_hash) {
                report.first_broken = Some(broken);
                return Ok(report);
            }
        }
        Ok(report)
    }

    /// Removes entries older than `before` and records one summary entry, atomically.
    pub async fn purge(
        &self,
        cutoff: PurgeCutoff,
        meta: &RequestMeta,
    ) -> DomainResult<(OffsetDateTime, PurgeReport)> {
        let now = self.clock.now();
        let before = match cutoff {
            PurgeCutoff::Before(before) => before,
            PurgeCutoff::OlderThan(age) => now - age,
        };
        if before > now {
            return Err(dialix_kernel::FieldErrors::single(
                "before",
                "must not be in the future",
            ));
        }
        let mut tx = self.audited.begin().await?;
        let report = self.store.purge(tx.as_mut(), before).await?;
        let event = AuditEvent::system(AuditAction::Purge, ResourceType::ActivityLog)
            .details(json!({
                "before": before.format(&Rfc3339).map_err(DomainError::internal)?,
                "deleted": report.deleted,
                "chains": report.chains,
            }))
            .meta(meta);
        tx.commit(event, now).await?;
        Ok((before, report))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use dialix_kernel::{
        AccountId, CompanyGrant, MockClock, MockCompanyTree, Role, noop_unit_of_work,
    };
    use mockall::predicate::eq;
    use time::macros::datetime;

    use super::*;
    use crate::{MockAuditLog, MockAuditStore, MockResourceAccess, ResourceOwner};

    fn service(
        access: MockResourceAccess,
        store: MockAuditStore,
        log: MockAuditLog,
    ) -> AuditService {
        let mut clock = MockClock::new();
        clock
            .expect_now()
            .return_const(datetime!(2026-11-26 12:00 UTC));
        let mut tree = MockCompanyTree::new();
        tree.expect_lineage().returning(|id| Ok(vec![id]));
        AuditService::new(AuditPorts {
            store: Arc::new(store),
            log: Arc::new(log),
            access: Arc::new(access),
            tree: Arc::new(tree),
            uow: Arc::new(noop_unit_of_work()),
            clock: Arc::new(clock),
        })
    }

    fn user(company: CompanyId, permissions: &[Permission]) -> Actor {
        Actor {
            account_id: AccountId::generate(),
            role: Role::User,
            company_id: Some(company),
            grants: if permissions.is_empty() {
                vec![]
            } else {
                vec![CompanyGrant {
                    company_id: company,
                    permissions: permissions.iter().copied().collect::<BTreeSet<_>>(),
                }]
            },
        }
    }

    #[test]
    fn own_entries_are_always_the_callers() {
        let actor = user(CompanyId::generate(), &[]);
        let service = service(
            MockResourceAccess::new(),
            MockAuditStore::new(),
            MockAuditLog::new(),
        );
        let query = service
            .own(
                &actor,
                &AuditFilterInput {
                    user_id: Some(AccountId::generate().to_string()),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(query.0.user_id, Some(actor.account_id));
    }

    #[tokio::test]
    async fn a_resource_trail_is_visible_to_its_owner_and_its_company_administrators_only() {
        let company = CompanyId::generate();
        let owner_id = AccountId::generate();
        let mut access = MockResourceAccess::new();
        access
            .expect_owner_of()
            .with(eq(ResourceType::Account), eq(owner_id.to_string()))
            .returning(move |_, _| {
                Ok(Some(ResourceOwner {
                    company_id: Some(company),
                    account_id: Some(owner_id),
                }))
            });
        let service = service(access, MockAuditStore::new(), MockAuditLog::new());
        let input = AuditFilterInput::default();
        let id = owner_id.to_string();

        let owner = Actor {
            account_id: owner_id,
            ..user(company, &[])
        };
        assert!(
            service
                .resource(&owner, ResourceType::Account, &id, &input)
                .await
                .is_ok()
        );
        let administrator = user(company, &[Permission::CanViewActivityLogs]);
        assert!(
            service
                .resource(&administrator, ResourceType::Account, &id, &input)
                .await
                .is_ok()
        );
        let colleague = user(company, &[]);
        assert_eq!(
            service
                .resource(&colleague, ResourceType::Account, &id, &input)
                .await,
            Err(DomainError::NotFound("resource"))
        );
        let other_admin = user(company, &[Permission::CanManageUsers]);
        assert!(
            service
                .resource(&other_admin, ResourceType::Account, &id, &input)
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn company_logs_need_the_permission_for_that_company() {
        let company = CompanyId::generate();
        let mut access = MockResourceAccess::new();
        access.expect_owner_of().returning(move |_, _| {
            Ok(Some(ResourceOwner {
                company_id: Some(company),
                account_id: None,
            }))
        });
        let service = service(access, MockAuditStore::new(), MockAuditLog::new());
        let input = AuditFilterInput::default();
        let allowed = user(company, &[Permission::CanViewActivityLogs]);
        let query = service.company(&allowed, company, &input).await.unwrap();
        assert_eq!(query.0.company_id, Some(company));
        let elsewhere = user(CompanyId::generate(), &[Permission::CanViewActivityLogs]);
        assert!(service.company(&elsewhere, company, &input).await.is_err());
    }

    fn entry(n: i64) -> AuditEntry {
        AuditEntry {
            id: uuid::Uuid::now_v7(),
            chain_id: crate::PLATFORM_CHAIN,
            seq: n,
            user_id: None,
            company_id: None,
            action: AuditAction::View,
            resource_type: "account".into(),
            resource_id: None,
            details: json!({}),
            ip_address: None,
            user_agent: None,
            request_id: None,
            created_at: datetime!(2026-11-26 12:00 UTC) - time::Duration::seconds(n),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    #[tokio::test]
    async fn an_export_continues_after_a_full_batch_and_stops_after_a_short_one() {
        let mut store = MockAuditStore::new();
        store
            .expect_scan()
            .withf(|_, after, batch| after.is_none() && *batch == BATCH)
            .returning(|_, _, batch| Ok((1..=batch as i64).map(entry).collect()));
        store
            .expect_scan()
            .withf(|_, after, _| after.is_some())
            .returning(|_, _, _| Ok(vec![entry(1001)]));
        let service = service(MockResourceAccess::new(), store, MockAuditLog::new());
        let query = service
            .own(
                &user(CompanyId::generate(), &[]),
                &AuditFilterInput::default(),
            )
            .unwrap();

        let first = service.batch(&query, None).await.unwrap();
        let last = first.entries.last().unwrap();
        assert_eq!(
            first.next,
            Some(AuditCursor {
                created_at: last.created_at,
                id: last.id
            })
        );
        let second = service.batch(&query, first.next).await.unwrap();
        assert_eq!(second.entries.len(), 1);
        assert_eq!(second.next, None, "a short batch is the last");
    }

    #[tokio::test]
    async fn a_purge_records_its_summary_in_the_same_transaction() {
        let mut store = MockAuditStore::new();
        store.expect_purge().returning(|_, _| {
            Ok(PurgeReport {
                deleted: 7,
                chains: 2,
            })
        });
        let mut log = MockAuditLog::new();
        log.expect_append()
            .withf(|_, event, _| {
                event.action == AuditAction::Purge && event.details["deleted"] == 7
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        let service = service(MockResourceAccess::new(), store, log);
        let (before, report) = service
            .purge(
                PurgeCutoff::OlderThan(time::Duration::days(30)),
                &RequestMeta::system(),
            )
            .await
            .unwrap();
        assert_eq!(report.deleted, 7);
        assert_eq!(
            before,
            datetime!(2026-10-27 12:00 UTC),
            "30 days before the clock"
        );
        assert!(
            service
                .purge(
                    PurgeCutoff::Before(datetime!(2027-01-01 0:00 UTC)),
                    &RequestMeta::system()
                )
                .await
                .is_err()
        );
    }
}
