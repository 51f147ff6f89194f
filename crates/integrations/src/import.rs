//! Importing OnlinePBX calls into the calls pipeline: one record per call (the PBX call id is
//! unique per company), its price reserved as for uploads, its audio downloaded by the
//! record's job. The same planning serves the listing, the estimate, the import by hand and
//! the automatic import.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use dialix_account::{DEFAULT_TIMEZONE, SettingsRepository};
use dialix_audit::{AuditAction, AuditEvent, AuditLog, AuditedUnitOfWork};
use dialix_calls::{
    AudioFormat, Billing, CallType, Checklist, ChecklistRepository, JobQueue, OperatorRepository,
    Prices, ProcessingContext, ProviderError, Providers, Record, RecordRepository, RecordStatus,
    normalise_phone,
};
use dialix_kernel::{
    AccountId, Actor, ChecklistId, Clock, CompanyId, CompanyTree, DomainError, DomainResult,
    FieldErrors, Page, PageRequest, RecordId, RequestMeta, ResourceType, RowVersion, UnitOfWork,
};
use dialix_reporting::Period;
use serde_json::json;
use time::{Date, OffsetDateTime};

use crate::access::managed_company;
use crate::{AutoImport, ImportRun, PbxAccount, PbxCall, PbxClient, Vault};

/// The longest period one listing or import may cover.
pub const MAX_IMPORT_DAYS: i64 = 31;
/// Calls with less talk time are skipped unless the request says otherwise.
pub const DEFAULT_MIN_TALK_SECONDS: u32 = 10;
const OPERATOR_CODE_MAX: usize = 32;
/// Imports by id take at most this many calls.
pub const MAX_CALL_IDS: usize = 1000;

/// Deployment settings of imports.
#[derive(Debug, Clone)]
pub struct ImportPolicy {
    pub prices: Prices,
    /// Prepended to 9-digit national numbers, as for uploads.
    pub default_country_code: String,
    /// How far before its position an automatic run searches again: a call that was still
    /// going on at the previous run is in the history only now, with its earlier start.
    pub lookback: Duration,
    /// How long a worker holds a claimed automatic run before another may take it over.
    pub lease: Duration,
}

/// The adapters `ImportService` works through.
pub struct ImportPorts {
    pub vault: Vault,
    pub pbx: Arc<dyn PbxClient>,
    pub auto_imports: Arc<dyn crate::AutoImportRepository>,
    pub records: Arc<dyn RecordRepository>,
    pub billing: Arc<dyn Billing>,
    pub jobs: Arc<dyn JobQueue>,
    pub context: Arc<dyn ProcessingContext>,
    pub checklists: Arc<dyn ChecklistRepository>,
    pub operators: Arc<dyn OperatorRepository>,
    pub settings: Arc<dyn SettingsRepository>,
    pub tree: Arc<dyn CompanyTree>,
    pub uow: Arc<dyn UnitOfWork>,
    pub audit: Arc<dyn AuditLog>,
    pub clock: Arc<dyn Clock>,
}

/// Local dates of a listing or import, in the caller's time zone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DateRange {
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
}

/// Which calls an estimate or import takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallSelection {
    /// These PBX call ids.
    Ids(Vec<String>),
    /// Every call of these days.
    Period(DateRange),
}

/// An estimate or import request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRequest {
    pub company_id: Option<CompanyId>,
    pub selection: CallSelection,
    pub general: bool,
    /// Else each call's operator's checklist, if any.
    pub checklist_id: Option<ChecklistId>,
    pub min_talk_seconds: u32,
}

/// Which of the PBX's calls a listing shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallFilter {
    /// Only calls imported (`true`) or not yet imported (`false`).
    pub imported: Option<bool>,
    pub direction: Option<crate::CallDirection>,
    /// Only calls with at least this much talk time.
    pub min_talk_seconds: Option<u32>,
}

impl CallFilter {
    fn passes(&self, call: &PbxCall) -> bool {
        self.direction.is_none_or(|d| call.direction == d)
            && self
                .min_talk_seconds
                .is_none_or(|min| call.talk_seconds >= min)
    }
}

/// A PBX call with the record it was imported as, if it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedCall {
    pub call: PbxCall,
    pub record_id: Option<RecordId>,
}

/// One call an import would create a record for.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCall {
    pub record: Record,
    pub price: i64,
}

/// What an import would do (estimate) or did (import).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOutcome {
    pub company_id: CompanyId,
    /// The records to create (estimate) or created (import).
    pub calls: Vec<PlannedCall>,
    pub already_imported: u32,
    pub skipped_short: u32,
    /// Asked-for ids the PBX does not know.
    pub not_found: Vec<String>,
    /// Sum of the calls' prices.
    pub total: i64,
    /// What the balance had available before.
    pub available: i64,
}

/// What the calls of a plan are imported with.
struct Options {
    general: bool,
    checklist: Option<Checklist>,
    min_talk_seconds: u32,
}

/// Listing, estimating and importing PBX calls; the automatic import's runs.
pub struct ImportService {
    ports: ImportPorts,
    audited: AuditedUnitOfWork,
    policy: ImportPolicy,
    providers: Providers,
}

impl ImportService {
    pub fn new(ports: ImportPorts, policy: ImportPolicy, providers: Providers) -> Self {
        Self {
            audited: AuditedUnitOfWork::new(ports.uow.clone(), ports.audit.clone()),
            ports,
            policy,
            providers,
        }
    }

    pub(crate) fn ports(&self) -> &ImportPorts {
        &self.ports
    }

    pub(crate) fn audited(&self) -> &AuditedUnitOfWork {
        &self.audited
    }

    /// The PBX's calls of the period that pass `filter`, newest first, with their import
    /// state.
    pub async fn calls(
        &self,
        actor: &Actor,
        company: Option<CompanyId>,
        dates: DateRange,
        filter: CallFilter,
        page: PageRequest,
    ) -> DomainResult<(Period, Page<ListedCall>)> {
        let company = managed_company(self.ports.tree.as_ref(), actor, company).await?;
        let account = self.account(company).await?;
        let period = self.period(actor, dates).await?;
        let mut calls = self.search(&account, period.start, period.end).await?;
        calls.retain(|call| filter.passes(call));
        calls.sort_by(|a, b| b.started_at.cmp(&a.started_at).then(a.id.cmp(&b.id)));
        let page_of = |calls: Vec<PbxCall>| -> Vec<PbxCall> {
            calls
                .into_iter()
                .skip(page.offset as usize)
                .take(page.limit as usize)
                .collect()
        };
        // Filtering by import state needs every call's; otherwise only the page's is read.
        let (calls, total, imported) = match filter.imported {
            None => {
                let total = calls.len() as u64;
                let calls = page_of(calls);
                let imported = self.imported(company, &calls).await?;
                (calls, total, imported)
            }
            Some(wanted) => {
                let imported = self.imported(company, &calls).await?;
                calls.retain(|call| imported.contains_key(&call.id) == wanted);
                (page_of(calls.clone()), calls.len() as u64, imported)
            }
        };
        let items = calls
            .into_iter()
            .map(|call| ListedCall {
                record_id: imported.get(&call.id).copied(),
                call,
            })
            .collect();
        Ok((
            period,
            Page {
                items,
                total,
                limit: page.limit,
                offset: page.offset,
            },
        ))
    }

    /// What importing the selection would create and cost; nothing is stored.
    pub async fn estimate(
        &self,
        actor: &Actor,
        request: &ImportRequest,
    ) -> DomainResult<ImportOutcome> {
        let company = managed_company(self.ports.tree.as_ref(), actor, request.company_id).await?;
        let (calls, not_found) = self.select(actor, company, &request.selection).await?;
        let options = self.options(company, request).await?;
        self.plan(company, actor.account_id, calls, &options, not_found, None)
            .await
    }

    /// Imports the selection: every new call's record is stored, its price reserved and its
    /// job queued, all together, or nothing (402 when the balance does not cover them all).
    /// Calls imported before are left alone, so repeating an import changes nothing.
    pub async fn import(
        &self,
        actor: &Actor,
        request: &ImportRequest,
        meta: &RequestMeta,
    ) -> DomainResult<ImportOutcome> {
        let company = managed_company(self.ports.tree.as_ref(), actor, request.company_id).await?;
        let model = self.ports.context.stt_model(actor.account_id).await?;
        if let Some(missing) = self
            .providers
            .missing(&model, request.general || request.checklist_id.is_some())
        {
            return Err(DomainError::Unavailable(missing));
        }
        let (calls, not_found) = self.select(actor, company, &request.selection).await?;
        let options = self.options(company, request).await?;
        let mut tries = 0;
        loop {
            let outcome = self
                .plan(
                    company,
                    actor.account_id,
                    calls.clone(),
                    &options,
                    not_found.clone(),
                    None,
                )
                .await?;
            if outcome.total > outcome.available {
                return Err(DomainError::PaymentRequired(format!(
                    "the company balance does not cover importing {} calls: they need {} minor \
                     units, {} are available",
                    outcome.calls.len(),
                    outcome.total,
                    outcome.available
                )));
            }
            let events = outcome
                .calls
                .iter()
                .map(|call| {
                    created(
                        call,
                        AuditEvent::by(
                            actor,
                            AuditAction::Create,
                            ResourceType::Record,
                            call.record.id,
                        ),
                        "pbx",
                    )
                    .meta(meta)
                })
                .collect();
            match self.store(&outcome.calls, events, None).await {
                Ok(()) => return Ok(outcome),
                // Another import took one of these calls meanwhile: plan again without it.
                Err(DomainError::Conflict { .. }) if tries < 2 => tries += 1,
                Err(error) => return Err(error),
            }
        }
    }

    /// Runs one due automatic import, if any; `false` when none was due. Its records and
    /// its new position are stored in one transaction, conditional on the claim still being
    /// this run's: two workers never import the same calls, and a run that dies stores
    /// nothing and leaves its position for the next one.
    pub async fn run_due(&self) -> DomainResult<bool> {
        let now = self.ports.clock.now();
        let Some(auto) = self
            .ports
            .auto_imports
            .claim_due(now, self.policy.lease)
            .await?
        else {
            return Ok(false);
        };
        let company = auto.company_id;
        match self.run(auto.clone(), now).await {
            Ok(run) => {
                tracing::info!(
                    %company,
                    imported = run.imported,
                    skipped_short = run.skipped_short,
                    waiting_for_balance = run.waiting_for_balance,
                    error = run.error.as_deref().unwrap_or(""),
                    "automatic PBX import ran"
                );
            }
            // Claimed or changed by someone else meanwhile: theirs is the run that counts.
            Err(DomainError::Stale(_) | DomainError::Conflict { .. }) => {
                tracing::info!(%company, "automatic PBX import superseded by another run");
            }
            Err(error) => return Err(error),
        }
        Ok(true)
    }

    async fn run(&self, mut auto: AutoImport, now: OffsetDateTime) -> DomainResult<ImportRun> {
        let settings = auto.settings.clone();
        let interval = time::Duration::minutes(i64::from(settings.interval_minutes));
        auto.next_run_at = now + interval;
        let mut run = ImportRun {
            at: Some(now),
            ..ImportRun::default()
        };
        let checklist = match settings.checklist_id {
            Some(id) => self.ports.checklists.find(id, None).await?,
            None => None,
        };
        let model = self.ports.context.stt_model(auto.owner_id).await?;
        let blocked = self.ports.tree.blocked_in_lineage(auto.company_id).await?;
        let missing = self
            .providers
            .missing(&model, settings.general || checklist.is_some());
        let prepared = match (blocked, missing) {
            (Some(_), _) => {
                Err("the company is blocked: nothing is imported until it is unblocked".to_owned())
            }
            (None, Some(missing)) => Err(missing),
            (None, None) => match self.ports.vault.pbx(auto.company_id).await? {
                None => Err("the company's OnlinePBX is no longer connected".to_owned()),
                Some(account) => {
                    let from = (auto.imported_until - self.policy.lookback).max(auto.import_from);
                    self.search(&account, from, now)
                        .await
                        .map_err(|e| e.to_string())
                }
            },
        };
        let calls = match prepared {
            Ok(calls) => calls,
            Err(error) => {
                run.error = Some(error);
                auto.last_run = Some(run.clone());
                let mut tx = self.ports.uow.begin().await?;
                self.ports.auto_imports.save(tx.as_mut(), &mut auto).await?;
                tx.commit().await?;
                return Ok(run);
            }
        };
        let options = Options {
            general: settings.general,
            checklist,
            min_talk_seconds: settings.min_talk_seconds,
        };
        let mut outcome = self
            .plan(
                auto.company_id,
                auto.owner_id,
                calls,
                &options,
                Vec::new(),
                Some(auto.imported_until),
            )
            .await?;
        // Oldest first: what the balance covers is imported, the rest waits at the position.
        outcome.calls.sort_by_key(|c| c.record.call_at());
        let mut spent = 0;
        let affordable = outcome
            .calls
            .iter()
            .take_while(|c| {
                spent += c.price;
                spent <= outcome.available
            })
            .count();
        let waiting = outcome.calls.split_off(affordable);
        auto.imported_until = waiting.first().map_or(now, |c| c.record.call_at());
        run.imported = outcome.calls.len() as u32;
        run.already_imported = outcome.already_imported;
        run.skipped_short = outcome.skipped_short;
        run.waiting_for_balance = waiting.len() as u32;
        if !waiting.is_empty() {
            run.error = Some(format!(
                "the company balance does not cover {} calls; they are imported once it does",
                waiting.len()
            ));
        }
        auto.last_run = Some(run.clone());
        let events = outcome
            .calls
            .iter()
            .map(|call| {
                let mut event = AuditEvent::system(AuditAction::Create, ResourceType::Record);
                event.company_id = Some(auto.company_id);
                event.resource_id = Some(call.record.id.to_string());
                created(call, event, "pbx_auto_import")
            })
            .collect();
        self.store(&outcome.calls, events, Some(&mut auto)).await?;
        Ok(run)
    }

    /// Stores the planned records, reserves their prices and queues their jobs, with their
    /// audit entries (and the automatic import's new position), in one transaction.
    async fn store(
        &self,
        calls: &[PlannedCall],
        events: Vec<AuditEvent>,
        auto: Option<&mut AutoImport>,
    ) -> DomainResult<()> {
        let now = self.ports.clock.now();
        if calls.is_empty() {
            // Nothing created: only a run's new position to store, which is nobody's change.
            if let Some(auto) = auto {
                let mut tx = self.ports.uow.begin().await?;
                self.ports.auto_imports.save(tx.as_mut(), auto).await?;
                tx.commit().await?;
            }
            return Ok(());
        }
        let mut tx = self.audited.begin().await?;
        for call in calls {
            let record = &call.record;
            self.ports.records.insert(tx.as_mut(), record).await?;
            if !self
                .ports
                .billing
                .reserve(tx.as_mut(), record.company_id, call.price)
                .await?
            {
                return Err(DomainError::PaymentRequired(
                    "the company balance changed meanwhile and no longer covers these calls".into(),
                ));
            }
            self.ports.jobs.enqueue(tx.as_mut(), record.id, now).await?;
        }
        for event in events {
            tx.record(event);
        }
        if let Some(auto) = auto {
            self.ports.auto_imports.save(tx.as_mut(), auto).await?;
        }
        tx.commit_recorded(now).await
    }

    /// The records the new calls would become. Calls below the minimum talk time are
    /// counted as skipped (only those that started at or after `count_short_from`, when
    /// given: an automatic run sees earlier ones again and counted them before).
    async fn plan(
        &self,
        company: CompanyId,
        owner: AccountId,
        calls: Vec<PbxCall>,
        options: &Options,
        not_found: Vec<String>,
        count_short_from: Option<OffsetDateTime>,
    ) -> DomainResult<ImportOutcome> {
        let imported = self.imported(company, &calls).await?;
        let now = self.ports.clock.now();
        let mut outcome = ImportOutcome {
            company_id: company,
            calls: Vec::new(),
            already_imported: 0,
            skipped_short: 0,
            not_found,
            total: 0,
            available: self.ports.billing.balance(company).await?.available(),
        };
        let mut operator_checklists: HashMap<String, Option<Checklist>> = HashMap::new();
        for call in calls {
            if imported.contains_key(&call.id) {
                outcome.already_imported += 1;
                continue;
            }
            if call.talk_seconds < options.min_talk_seconds {
                if count_short_from.is_none_or(|from| call.started_at >= from) {
                    outcome.skipped_short += 1;
                }
                continue;
            }
            let operator_code = Some(call.operator_extension().trim())
                .filter(|code| !code.is_empty() && code.chars().count() <= OPERATOR_CODE_MAX)
                .map(str::to_owned);
            let checklist = match (&options.checklist, &operator_code) {
                (Some(checklist), _) => Some(checklist.clone()),
                (None, Some(code)) => {
                    if !operator_checklists.contains_key(code) {
                        let found = self.operator_checklist(company, code).await?;
                        operator_checklists.insert(code.clone(), found);
                    }
                    operator_checklists[code].clone()
                }
                (None, None) => None,
            };
            let duration_ms = u64::from(call.duration_seconds.max(call.talk_seconds)) * 1000;
            let price = self
                .policy
                .prices
                .price(duration_ms, options.general, checklist.is_some())
                .total();
            let record = Record {
                id: RecordId::generate(),
                owner_id: owner,
                company_id: company,
                operator_code,
                client_phone_number: call
                    .client_number()
                    .and_then(|n| normalise_phone(n, &self.policy.default_country_code)),
                call_type: match call.direction {
                    crate::CallDirection::Inbound => Some(CallType::Inbound),
                    crate::CallDirection::Outbound => Some(CallType::Outbound),
                    crate::CallDirection::Internal => None,
                },
                call_started_at: Some(call.started_at),
                duration_ms,
                status: RecordStatus::Queued,
                general: options.general,
                checklist_id: checklist.as_ref().map(|c| c.id),
                checklist_version: checklist.as_ref().map(|c| c.version),
                original_filename: format!("{}.mp3", file_stem(&call.id)),
                content_type: AudioFormat::Mp3,
                size_bytes: 0,
                storage_key: None,
                error: None,
                reserved_amount: price,
                processing_round: 1,
                payload: Default::default(),
                pbx_call_id: Some(call.id.clone()),
                crm: None,
                created_at: now,
                updated_at: now,
                deleted_at: None,
                row_version: RowVersion::default(),
            };
            outcome.total += price;
            outcome.calls.push(PlannedCall { record, price });
        }
        Ok(outcome)
    }

    async fn operator_checklist(
        &self,
        company: CompanyId,
        code: &str,
    ) -> DomainResult<Option<Checklist>> {
        let Some(operator) = self.ports.operators.find_by_code(company, code).await? else {
            return Ok(None);
        };
        match operator.checklist_id {
            Some(id) => self.ports.checklists.find(id, None).await,
            None => Ok(None),
        }
    }

    /// The calls the selection names, and the asked-for ids the PBX does not know.
    async fn select(
        &self,
        actor: &Actor,
        company: CompanyId,
        selection: &CallSelection,
    ) -> DomainResult<(Vec<PbxCall>, Vec<String>)> {
        let account = self.account(company).await?;
        match selection {
            CallSelection::Period(dates) => {
                let period = self.period(actor, *dates).await?;
                Ok((
                    self.search(&account, period.start, period.end).await?,
                    Vec::new(),
                ))
            }
            CallSelection::Ids(ids) => {
                let mut errors = FieldErrors::new();
                errors.check(!ids.is_empty(), "call_ids", "name at least one call");
                errors.check(
                    ids.len() <= MAX_CALL_IDS,
                    "call_ids",
                    format!("at most {MAX_CALL_IDS} calls per request; import by period instead"),
                );
                errors.check(
                    ids.iter().all(|id| is_call_id(id)),
                    "call_ids",
                    "each must be a PBX call id (letters, digits, '-', '_', '.', at most 64)",
                );
                errors.into_result()?;
                let mut calls = Vec::with_capacity(ids.len());
                let mut not_found = Vec::new();
                let mut seen = std::collections::HashSet::new();
                for id in ids.iter().filter(|id| seen.insert(id.as_str())) {
                    match self.ports.pbx.call(&account, id).await {
                        Ok(Some(call)) => calls.push(call),
                        Ok(None) => not_found.push(id.clone()),
                        Err(error) => return Err(pbx_failed(error)),
                    }
                }
                Ok((calls, not_found))
            }
        }
    }

    async fn options(&self, company: CompanyId, request: &ImportRequest) -> DomainResult<Options> {
        let checklist = match request.checklist_id {
            Some(id) => Some(
                self.ports
                    .checklists
                    .find(id, None)
                    .await?
                    .filter(|c| c.company_id == company)
                    .ok_or_else(|| {
                        FieldErrors::single(
                            "checklist_id",
                            "no checklist of the company has this id",
                        )
                    })?,
            ),
            None => None,
        };
        Ok(Options {
            general: request.general,
            checklist,
            min_talk_seconds: request.min_talk_seconds,
        })
    }

    async fn imported(
        &self,
        company: CompanyId,
        calls: &[PbxCall],
    ) -> DomainResult<HashMap<String, RecordId>> {
        let ids: Vec<String> = calls.iter().map(|c| c.id.clone()).collect();
        Ok(self
            .ports
            .records
            .imported_pbx_calls(company, &ids)
            .await?
            .into_iter()
            .collect())
    }

    async fn account(&self, company: CompanyId) -> DomainResult<PbxAccount> {
        self.ports.vault.pbx(company).await?.ok_or_else(|| {
            DomainError::conflict(
                "integration",
                "the company has not connected its OnlinePBX: PUT /integrations/pbx first",
            )
        })
    }

    async fn search(
        &self,
        account: &PbxAccount,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> DomainResult<Vec<PbxCall>> {
        self.ports
            .pbx
            .calls(account, from, to)
            .await
            .map_err(pbx_failed)
    }

    /// The local days asked for in the caller's time zone, at most [`MAX_IMPORT_DAYS`]
    /// (default: today).
    async fn period(&self, actor: &Actor, dates: DateRange) -> DomainResult<Period> {
        let timezone = self
            .ports
            .settings
            .find(actor.account_id)
            .await?
            .map_or_else(|| DEFAULT_TIMEZONE.to_owned(), |s| s.timezone);
        let now = self.ports.clock.now();
        let dates = match dates {
            DateRange {
                start_date: None,
                end_date: None,
            } => {
                let today = Period::new(None, None, &timezone, now)?.end_date;
                DateRange {
                    start_date: Some(today),
                    end_date: Some(today),
                }
            }
            dates => dates,
        };
        let period = Period::new(dates.start_date, dates.end_date, &timezone, now)?;
        if period.days() > MAX_IMPORT_DAYS {
            return Err(FieldErrors::single(
                "end_date",
                format!("a PBX listing or import covers at most {MAX_IMPORT_DAYS} days"),
            ));
        }
        Ok(period)
    }
}

/// The audit entry of a created record, from `event`.
fn created(call: &PlannedCall, event: AuditEvent, source: &str) -> AuditEvent {
    let record = &call.record;
    event.details(json!({
        "source": source,
        "pbx_call_id": record.pbx_call_id,
        "duration_ms": record.duration_ms,
        "client_phone_number": record.client_phone_number,
        "operator_code": record.operator_code,
        "estimated_price": call.price,
        "checklist": record.checklist_id.is_some(),
    }))
}

/// The PBX failed a request a user waits for.
pub(crate) fn pbx_failed(error: ProviderError) -> DomainError {
    DomainError::ExternalService(format!(
        "the company's OnlinePBX failed the request: {error}"
    ))
}

/// PBX call ids are UUIDs in practice; anything that could not be one is refused.
fn is_call_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The call id as a file name stem.
fn file_stem(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use dialix_account::MockSettingsRepository;
    use dialix_audit::MockAuditLog;
    use dialix_calls::{
        BalanceView, MockBilling, MockChecklistRepository, MockJobQueue, MockOperatorRepository,
        MockProcessingContext, MockRecordRepository, MockSpeechToText,
    };
    use dialix_kernel::{MockClock, MockCompanyTree, noop_unit_of_work};
    use time::macros::datetime;

    use super::*;
    use crate::{
        AutoImportSettings, CallDirection, MockAutoImportRepository, MockIntegrationRepository,
        MockPbxClient, MockSecretBox, StoredIntegration,
    };

    const NOW: OffsetDateTime = datetime!(2026-12-07 12:00 UTC);

    fn pbx_call(id: &str, started_at: OffsetDateTime, talk_seconds: u32) -> PbxCall {
        PbxCall {
            id: id.into(),
            started_at,
            ended_at: started_at + time::Duration::seconds(i64::from(talk_seconds) + 2),
            duration_seconds: talk_seconds + 2,
            talk_seconds,
            direction: CallDirection::Inbound,
            caller_number: "901234567".into(),
            caller_name: None,
            destination_number: "101".into(),
        }
    }

    /// A claimed automatic import positioned at 11:00, and a PBX holding `calls`.
    fn service(
        calls: Vec<PbxCall>,
        available: i64,
        saved: Arc<Mutex<Option<AutoImport>>>,
        inserted: Arc<Mutex<Vec<Record>>>,
    ) -> ImportService {
        let company = CompanyId::generate();
        let auto = AutoImport {
            company_id: company,
            settings: AutoImportSettings {
                enabled: true,
                interval_minutes: 15,
                min_talk_seconds: 10,
                general: false,
                checklist_id: None,
            },
            owner_id: AccountId::generate(),
            import_from: datetime!(2026-12-07 10:00 UTC),
            imported_until: datetime!(2026-12-07 11:00 UTC),
            next_run_at: NOW,
            last_run: None,
            updated_at: NOW,
            row_version: RowVersion::default(),
        };
        let mut auto_imports = MockAutoImportRepository::new();
        auto_imports
            .expect_claim_due()
            .times(1)
            .returning(move |_, _| Ok(Some(auto.clone())));
        auto_imports.expect_save().times(1).returning(move |_, a| {
            *saved.lock().unwrap() = Some(a.clone());
            Ok(())
        });
        let mut integrations = MockIntegrationRepository::new();
        integrations.expect_find().returning(move |company, kind| {
            Ok(Some(StoredIntegration {
                company_id: company,
                kind,
                label: "demo.onpbx.ru".into(),
                sealed_secret: b"sealed".to_vec(),
                secret_hint: "••••7f3a".into(),
                updated_by: AccountId::generate(),
                created_at: NOW,
                updated_at: NOW,
            }))
        });
        let mut secrets = MockSecretBox::new();
        secrets
            .expect_open()
            .returning(|_| Ok(b"pbx-api-key".to_vec()));
        let mut pbx = MockPbxClient::new();
        pbx.expect_calls()
            .withf(|account, from, to| {
                // Three hours before the position, but never before switching on.
                account.domain == "demo.onpbx.ru"
                    && *from == datetime!(2026-12-07 10:00 UTC)
                    && *to == NOW
            })
            .returning(move |_, _, _| Ok(calls.clone()));
        let mut records = MockRecordRepository::new();
        records
            .expect_imported_pbx_calls()
            .returning(|_, _| Ok(vec![("old".into(), RecordId::generate())]));
        records.expect_insert().returning(move |_, record| {
            inserted.lock().unwrap().push(record.clone());
            Ok(())
        });
        let mut billing = MockBilling::new();
        billing.expect_balance().returning(move |_| {
            Ok(BalanceView {
                balance: available,
                reserved: 0,
            })
        });
        billing.expect_reserve().returning(|_, _, _| Ok(true));
        let mut jobs = MockJobQueue::new();
        jobs.expect_enqueue().returning(|_, _, _| Ok(()));
        let mut context = MockProcessingContext::new();
        context
            .expect_stt_model()
            .returning(|_| Ok("whisper".into()));
        let mut operators = MockOperatorRepository::new();
        operators.expect_find_by_code().returning(|_, _| Ok(None));
        let mut audit = MockAuditLog::new();
        audit.expect_append().returning(|_, _, _| Ok(()));
        let mut clock = MockClock::new();
        clock.expect_now().return_const(NOW);
        let mut tree = MockCompanyTree::new();
        tree.expect_blocked_in_lineage().returning(|_| Ok(None));
        let mut providers = Providers::default();
        providers
            .speech_to_text
            .insert("whisper".into(), Arc::new(MockSpeechToText::new()));
        ImportService::new(
            ImportPorts {
                vault: Vault {
                    integrations: Arc::new(integrations),
                    secrets: Arc::new(secrets),
                },
                pbx: Arc::new(pbx),
                auto_imports: Arc::new(auto_imports),
                records: Arc::new(records),
                billing: Arc::new(billing),
                jobs: Arc::new(jobs),
                context: Arc::new(context),
                checklists: Arc::new(MockChecklistRepository::new()),
                operators: Arc::new(operators),
                settings: Arc::new(MockSettingsRepository::new()),
                tree: Arc::new(tree),
                uow: Arc::new(noop_unit_of_work()),
                audit: Arc::new(audit),
                clock: Arc::new(clock),
            },
            ImportPolicy {
                prices: Prices::default(),
                default_country_code: "998".into(),
                lookback: Duration::from_secs(3 * 3600),
                lease: Duration::from_secs(300),
            },
            providers,
        )
    }

    #[tokio::test]
    async fn a_run_imports_what_the_balance_covers_and_waits_at_the_first_call_it_does_not() {
        // 12 s at 63000 a minute (speech-to-text only) = 12600 each.
        let calls = vec![
            pbx_call("old", datetime!(2026-12-07 10:30 UTC), 30),
            pbx_call("short-before", datetime!(2026-12-07 10:40 UTC), 3),
            pbx_call("short", datetime!(2026-12-07 11:10 UTC), 3),
            pbx_call("second", datetime!(2026-12-07 11:30 UTC), 10),
            pbx_call("first", datetime!(2026-12-07 11:20 UTC), 10),
        ];
        let saved = Arc::new(Mutex::new(None));
        let inserted = Arc::new(Mutex::new(Vec::new()));
        let service = service(calls, 12_600 + 12_599, saved.clone(), inserted.clone());

        assert!(service.run_due().await.unwrap());

        let inserted = inserted.lock().unwrap();
        assert_eq!(inserted.len(), 1);
        let record = &inserted[0];
        assert_eq!(record.pbx_call_id.as_deref(), Some("first"));
        assert_eq!(record.reserved_amount, 12_600);
        assert_eq!(record.client_phone_number.as_deref(), Some("+998901234567"));
        assert_eq!(record.operator_code.as_deref(), Some("101"));
        assert_eq!(record.storage_key, None, "downloaded by the job");
        let saved = saved.lock().unwrap().clone().unwrap();
        assert_eq!(saved.imported_until, datetime!(2026-12-07 11:30 UTC));
        assert_eq!(saved.next_run_at, NOW + time::Duration::minutes(15));
        assert_eq!(
            saved.last_run.unwrap(),
            ImportRun {
                at: Some(NOW),
                imported: 1,
                already_imported: 1,
                // The short call before the position was counted by an earlier run.
                skipped_short: 1,
                waiting_for_balance: 1,
                error: Some(
                    "the company balance does not cover 1 calls; they are imported once it does"
                        .into()
                ),
            }
        );
    }

    #[tokio::test]
    async fn a_run_with_everything_covered_moves_its_position_to_now() {
        let calls = vec![pbx_call("first", datetime!(2026-12-07 11:20 UTC), 10)];
        let saved = Arc::new(Mutex::new(None));
        let inserted = Arc::new(Mutex::new(Vec::new()));
        let service = service(calls, 1_000_000, saved.clone(), inserted.clone());

        assert!(service.run_due().await.unwrap());

        assert_eq!(inserted.lock().unwrap().len(), 1);
        let saved = saved.lock().unwrap().clone().unwrap();
        assert_eq!(saved.imported_until, NOW);
        assert_eq!(saved.last_run.unwrap().error, None);
    }
}
