use std::sync::Arc;

use bytes::Bytes;
use dialix_audit::{AuditAction, AuditEvent, AuditLog, AuditedUnitOfWork};
use dialix_kernel::{
    Actor, ChecklistId, Clock, CompanyId, CompanyTree, DomainError, DomainResult, FieldErrors,
    PageRequest, RecordId, RequestMeta, ResourceType, RowVersion, UnitOfWork, retry_on_stale,
};
use serde_json::json;
use time::UtcOffset;

use crate::{
    AudioFormat, AudioProbe, AudioStore, BalanceView, Billing, CallPrice, CallType, JobQueue,
    PhoneSearch, Prices, ProcessingContext, Providers, Record, RecordFilter, RecordPage,
    RecordRepository, RecordStatus, Undecodable, UploadFile, normalise_phone, parse_pbx_file_name,
    record_scope,
};

const FILE_NAME_MAX: usize = 255;
const OPERATOR_CODE_MAX: usize = 32;

/// Deployment settings of the records use cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordPolicy {
    pub prices: Prices,
    /// Prepended to 9-digit national numbers, e.g. `998`.
    pub default_country_code: String,
    /// The zone OnlinePBX file names are written in (Tashkent: +05:00, no daylight saving).
    pub pbx_offset: UtcOffset,
}

/// The adapters `RecordService` works through.
pub struct RecordPorts {
    pub records: Arc<dyn RecordRepository>,
    pub audio: Arc<dyn AudioStore>,
    pub probe: Arc<dyn AudioProbe>,
    pub billing: Arc<dyn Billing>,
    pub jobs: Arc<dyn JobQueue>,
    pub context: Arc<dyn ProcessingContext>,
    pub checklists: Arc<dyn crate::ChecklistRepository>,
    pub operators: Arc<dyn crate::OperatorRepository>,
    pub tree: Arc<dyn CompanyTree>,
    pub uow: Arc<dyn UnitOfWork>,
    pub audit: Arc<dyn AuditLog>,
    pub clock: Arc<dyn Clock>,
    /// When the change feed should look again.
    pub changes: Arc<dyn crate::RecordChangeSignal>,
}

/// The price of one file of an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EstimatedFile {
    pub file_name: String,
    pub duration_ms: u64,
    pub price: CallPrice,
}

/// What an upload would cost, and whether the company can pay for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estimate {
    pub files: Vec<EstimatedFile>,
    pub total: i64,
    pub available: i64,
    pub enough: bool,
}

/// A record's audio the actor may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioHandle {
    pub key: String,
    pub size: u64,
    pub format: AudioFormat,
}

/// A checked file, ready to be stored.
struct Prepared {
    record: Record,
    bytes: Bytes,
    price: CallPrice,
    checklist: bool,
}

/// Uploading, listing, reading and deleting records.
pub struct RecordService {
    pub(crate) ports: RecordPorts,
    audited: AuditedUnitOfWork,
    policy: RecordPolicy,
    providers: Providers,
}

impl RecordService {
    pub fn new(ports: RecordPorts, policy: RecordPolicy, providers: Providers) -> Self {
        Self {
            audited: AuditedUnitOfWork::new(ports.uow.clone(), ports.audit.clone()),
            ports,
            policy,
            providers,
        }
    }

    /// The caller's company balance, what is reserved for calls in progress, and what is
    /// available.
    pub async fn balance(&self, actor: &Actor) -> DomainResult<(CompanyId, BalanceView)> {
        let company = actor.company_id.ok_or(DomainError::NotFound("company"))?;
        Ok((company, self.ports.billing.balance(company).await?))
    }

    /// Prices the files without storing anything.
    pub async fn estimate(&self, actor: &Actor, files: Vec<UploadFile>) -> DomainResult<Estimate> {
        let (company, prepared) = self.prepare(actor, files).await?;
        let files: Vec<EstimatedFile> = prepared
            .iter()
            .map(|p| EstimatedFile {
                file_name: p.record.original_filename.clone(),
                duration_ms: p.record.duration_ms,
                price: p.price,
            })
            .collect();
        let total = files.iter().map(|f| f.price.total()).sum();
        let available = self.ports.billing.balance(company).await?.available();
        Ok(Estimate {
            files,
            total,
            available,
            enough: available >= total,
        })
    }

    /// Stores every file and its record, or nothing: a file that cannot be decoded fails
    /// the whole request, naming the file. When the providers the uploader's settings need
    /// are configured, each record is queued for processing and its estimated price reserved
    /// on the company balance (402 if the balance does not cover it, and nothing is kept);
    /// otherwise it stays `uploaded`.
    pub async fn upload(
        &self,
        actor: &Actor,
        files: Vec<UploadFile>,
        meta: &RequestMeta,
    ) -> DomainResult<Vec<Record>> {
        let (_, mut prepared) = self.prepare(actor, files).await?;
        let model = self.ports.context.stt_model(actor.account_id).await?;
        for file in &mut prepared {
            if self
                .providers
                .missing(&model, file.record.general)
                .is_none()
            {
                file.record.status = RecordStatus::Queued;
                file.record.reserved_amount = file.price.total();
            }
        }
        let mut stored: Vec<String> = Vec::new();
        let outcome = self.store(actor, &mut prepared, &mut stored, meta).await;
        if outcome.is_err() {
            // Best effort: the adapter logs a failed removal; the upload fails either way.
            for key in &stored {
                self.ports.audio.delete(key).await.ok();
            }
        }
        outcome?;
        Ok(prepared.into_iter().map(|p| p.record).collect())
    }

    async fn store(
        &self,
        actor: &Actor,
        prepared: &mut [Prepared],
        stored: &mut Vec<String>,
        meta: &RequestMeta,
    ) -> DomainResult<()> {
        for file in prepared.iter() {
            let key = file
                .record
                .storage_key
                .clone()
                .ok_or_else(|| DomainError::internal("a prepared record has no storage key"))?;
            self.ports.audio.put(&key, file.bytes.clone()).await?;
            stored.push(key);
        }
        let now = self.ports.clock.now();
        // Stamped as they are stored, not when they were checked: storing the audio can take
        // long, and the change feed expects a change to commit soon after its stamp.
        for file in prepared.iter_mut() {
            file.record.created_at = now;
            file.record.updated_at = now;
        }
        let mut tx = self.audited.begin().await?;
        for file in prepared.iter() {
            let record = &file.record;
            self.ports.records.insert(tx.as_mut(), record).await?;
            if record.status == RecordStatus::Queued {
                if !self
                    .ports
                    .billing
                    .reserve(tx.as_mut(), record.company_id, record.reserved_amount)
                    .await?
                {
                    // Read the balance after the transaction is gone (rolled back): the
                    // message reports the committed balance, not this upload's partial work.
                    drop(tx);
                    let available = self.ports.billing.balance(record.company_id).await;
                    return Err(DomainError::PaymentRequired(format!(
                        "the company balance does not cover processing {}: it needs {} minor \
                         units, {} are available",
                        record.original_filename,
                        record.reserved_amount,
                        available.map(|b| b.available()).unwrap_or_default()
                    )));
                }
                self.ports.jobs.enqueue(tx.as_mut(), record.id, now).await?;
            }
            let event = AuditEvent::by(actor, AuditAction::Create, ResourceType::Record, record.id)
                .details(json!({
                    "file_name": record.original_filename,
                    "duration_ms": record.duration_ms,
                    "size_bytes": record.size_bytes,
                    "client_phone_number": record.client_phone_number,
                    "operator_code": record.operator_code,
                    "estimated_price": file.price.total(),
                    "checklist": file.checklist,
                }))
                .meta(meta);
            tx.record(event);
        }
        tx.commit_recorded(now).await
    }

    /// A `phone` filter as the listing reads it: national numbers get the configured country
    /// code, as on upload.
    pub fn phone_search(&self, raw: &str) -> Result<PhoneSearch, &'static str> {
        PhoneSearch::parse(raw, &self.policy.default_country_code)
    }

    /// Records the actor may see: platform admins all; administrators with `can_view_records`
    /// those of their companies; everyone their own uploads.
    pub async fn list(
        &self,
        actor: &Actor,
        mut filter: RecordFilter,
        page: PageRequest,
    ) -> DomainResult<RecordPage> {
        filter.scope = record_scope(self.ports.tree.as_ref(), actor).await?;
        self.ports.records.list(&filter, page).await
    }

    /// One record; the read is audited, since a record holds a conversation.
    pub async fn get(
        &self,
        actor: &Actor,
        id: RecordId,
        meta: &RequestMeta,
    ) -> DomainResult<Record> {
        let record = self.visible(actor, id).await?;
        let now = self.ports.clock.now();
        let event = AuditEvent::by(actor, AuditAction::View, ResourceType::Record, id).meta(meta);
        self.audited.record_alone(event, now).await?;
        Ok(record)
    }

    /// Where the record's audio is, if the actor may hear it.
    pub async fn audio(&self, actor: &Actor, id: RecordId) -> DomainResult<AudioHandle> {
        let record = self.visible(actor, id).await?;
        let key = record.storage_key.ok_or(DomainError::NotFound("audio"))?;
        let size = self.ports.audio.size(&key).await?;
        Ok(AudioHandle {
            key,
            size,
            format: record.content_type,
        })
    }

    /// Bytes `start..end` of an audio file found through `audio`.
    pub async fn read_audio(
        &self,
        handle: &AudioHandle,
        start: u64,
        end: u64,
    ) -> DomainResult<Bytes> {
        self.ports.audio.read(&handle.key, start, end).await
    }

    /// A URL the store serves the audio found through `audio` from for `ttl`, so a player
    /// fetches it directly; `None` when the store has none (the API streams it instead).
    pub async fn audio_url(
        &self,
        handle: &AudioHandle,
        ttl: std::time::Duration,
    ) -> DomainResult<Option<String>> {
        self.ports.audio.signed_url(&handle.key, ttl).await
    }

    /// Soft delete: the record stays (with its history), its audio is removed.
    pub async fn delete(
        &self,
        actor: &Actor,
        id: RecordId,
        meta: &RequestMeta,
    ) -> DomainResult<()> {
        let record = retry_on_stale(|| self.try_delete(actor, id, meta)).await?;
        if let Some(key) = record.storage_key {
            self.ports.audio.delete(&key).await?;
        }
        Ok(())
    }

    /// Marks the record deleted and releases what is still reserved for it, together; a
    /// processing step running meanwhile then stores and charges nothing.
    async fn try_delete(
        &self,
        actor: &Actor,
        id: RecordId,
        meta: &RequestMeta,
    ) -> DomainResult<Record> {
        let mut record = self.visible(actor, id).await?;
        let now = self.ports.clock.now();
        let event = AuditEvent::by(actor, AuditAction::Delete, ResourceType::Record, id)
            .details(json!({
                "soft": true,
                "audio_removed": record.storage_key.is_some(),
                "released": record.reserved_amount,
            }))
            .meta(meta);
        let storage_key = record.storage_key.clone();
        let mut tx = self.audited.begin().await?;
        crate::processing::release_reservation(
            self.ports.billing.as_ref(),
            tx.as_mut(),
            &mut record,
        )
        .await?;
        self.ports
            .records
            .mark_deleted(tx.as_mut(), &mut record, now)
            .await?;
        tx.commit(event, now).await?;
        record.storage_key = storage_key;
        Ok(record)
    }

    /// Runs the record's processing again (after a failure, or with the general analysis
    /// switched on or off): its price is reserved anew and each step charged again. Exactly
    /// one reprocess of a record is accepted at a time: of concurrent ones, the others see
    /// the record queued and get 409.
    pub async fn reprocess(
        &self,
        actor: &Actor,
        id: RecordId,
        general: Option<bool>,
        checklist_id: Option<ChecklistId>,
        meta: &RequestMeta,
    ) -> DomainResult<Record> {
        retry_on_stale(|| self.try_reprocess(actor, id, general, checklist_id, meta)).await
    }

    async fn try_reprocess(
        &self,
        actor: &Actor,
        id: RecordId,
        general: Option<bool>,
        checklist_id: Option<ChecklistId>,
        meta: &RequestMeta,
    ) -> DomainResult<Record> {
        let mut record = self.visible(actor, id).await?;
        if let Some(checklist_id) = checklist_id {
            let checklist = self
                .ports
                .checklists
                .find(checklist_id, None)
                .await?
                .filter(|c| c.company_id == record.company_id)
                .ok_or_else(|| {
                    FieldErrors::single(
                        "checklist_id",
                        "no checklist of the record's company has this id",
                    )
                })?;
            record.checklist_id = Some(checklist.id);
            record.checklist_version = Some(checklist.version);
        }
        if !matches!(
            record.status,
            RecordStatus::Uploaded | RecordStatus::Done | RecordStatus::Failed
        ) {
            return Err(DomainError::conflict(
                "status",
                "the record is being processed; wait until it is done or failed",
            ));
        }
        // An imported call without audio (its download failed) is downloaded again.
        if record.storage_key.is_none() && record.pbx_call_id.is_none() {
            return Err(DomainError::conflict(
                "audio",
                "the record's audio was removed",
            ));
        }
        let general = general.unwrap_or(record.general);
        let model = self.ports.context.stt_model(record.owner_id).await?;
        let checklist = record.checklist_id.is_some();
        if let Some(missing) = self.providers.missing(&model, general || checklist) {
            return Err(DomainError::Unavailable(missing));
        }
        let price = self
            .policy
            .prices
            .price(record.duration_ms, general, checklist);
        if record.status != RecordStatus::Uploaded {
            record.processing_round += 1;
        }
        record.general = general;
        record.payload = Default::default();
        record.status = RecordStatus::Queued;
        record.error = None;
        record.reserved_amount = price.total();
        let now = self.ports.clock.now();
        record.updated_at = now;
        let event = AuditEvent::by(actor, AuditAction::Update, ResourceType::Record, id)
            .details(
                json!({"reprocess": true, "general": general, "round": record.processing_round}),
            )
            .meta(meta);
        let mut tx = self.audited.begin().await?;
        if !self
            .ports
            .billing
            .reserve(tx.as_mut(), record.company_id, record.reserved_amount)
            .await?
        {
            drop(tx);
            return Err(DomainError::PaymentRequired(format!(
                "the company balance does not cover processing this record ({} minor units)",
                record.reserved_amount
            )));
        }
        self.ports.records.update(tx.as_mut(), &mut record).await?;
        self.ports.jobs.enqueue(tx.as_mut(), id, now).await?;
        tx.commit(event, now).await?;
        Ok(record)
    }

    /// Corrects which speaker is the operator; roles and metrics are recomputed.
    pub async fn set_operator_speaker(
        &self,
        actor: &Actor,
        id: RecordId,
        speaker: &str,
        meta: &RequestMeta,
    ) -> DomainResult<Record> {
        retry_on_stale(|| self.try_set_operator_speaker(actor, id, speaker, meta)).await
    }

    async fn try_set_operator_speaker(
        &self,
        actor: &Actor,
        id: RecordId,
        speaker: &str,
        meta: &RequestMeta,
    ) -> DomainResult<Record> {
        let mut record = self.visible(actor, id).await?;
        let Some(turns) = record.payload.transcript.take() else {
            return Err(DomainError::conflict(
                "operator_speaker",
                "the record has no transcript yet",
            ));
        };
        let before = turns
            .iter()
            .find(|t| t.role == crate::SpeakerRole::Operator)
            .map(|t| t.speaker.clone());
        if !turns.iter().any(|t| t.speaker == speaker) {
            let labels: Vec<&str> = turns.iter().map(|t| t.speaker.as_str()).collect();
            return Err(FieldErrors::single(
                "operator_speaker",
                format!(
                    "must be one of the transcript's speakers: {}",
                    labels.join(", ")
                ),
            ));
        }
        let turns = crate::assign_roles(turns, speaker);
        record.payload.metrics = Some(crate::compute_metrics(&turns));
        record.payload.transcript = Some(turns);
        let now = self.ports.clock.now();
        record.updated_at = now;
        let event = AuditEvent::by(actor, AuditAction::Update, ResourceType::Record, id)
            .details(json!({"changes": {"operator_speaker": {"old_value": before, "new_value": speaker}}}))
            .meta(meta);
        let mut tx = self.audited.begin().await?;
        self.ports.records.update(tx.as_mut(), &mut record).await?;
        tx.commit(event, now).await?;
        Ok(record)
    }

    async fn visible(&self, actor: &Actor, id: RecordId) -> DomainResult<Record> {
        crate::visible_record(
            self.ports.records.as_ref(),
            self.ports.tree.as_ref(),
            actor,
            id,
        )
        .await
    }

    /// Checks every file and its fields, measuring the audio; reports all problems at once.
    async fn prepare(
        &self,
        actor: &Actor,
        files: Vec<UploadFile>,
    ) -> DomainResult<(CompanyId, Vec<Prepared>)> {
        let company = actor.company_id.ok_or_else(|| {
            DomainError::Forbidden(
                "uploading calls needs an account that belongs to a company".into(),
            )
        })?;
        if files.is_empty() {
            return Err(FieldErrors::single(
                "files",
                "attach at least one audio file",
            ));
        }
        let now = self.ports.clock.now();
        let mut errors = FieldErrors::new();
        let mut prepared = Vec::with_capacity(files.len());
        for (index, file) in files.into_iter().enumerate() {
            let field = |name: &str| format!("{name}[{index}]");
            let file_name = clean_file_name(&file.file_name);
            let pbx = parse_pbx_file_name(&file_name);
            let phone = match file
                .client_phone_number
                .clone()
                .or_else(|| pbx.as_ref().map(|p| p.client_number.clone()))
            {
                Some(raw) => {
                    let normalised = normalise_phone(&raw, &self.policy.default_country_code);
                    if normalised.is_none() {
                        errors.add(&field("client_phone_number"), "is not a phone number");
                    }
                    normalised
                }
                None => None,
            };
            let operator_code = file
                .operator_code
                .clone()
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty())
                .or_else(|| pbx.as_ref().map(|p| p.operator_code.clone()));
            if let Some(code) = &operator_code {
                errors.check(
                    code.chars().count() <= OPERATOR_CODE_MAX
                        && !code.chars().any(char::is_control),
                    &field("operator_code"),
                    format!("must be at most {OPERATOR_CODE_MAX} printable characters"),
                );
            }
            let call_type = match file.call_type.as_deref().map(str::trim) {
                Some(raw) if !raw.is_empty() => {
                    let parsed = CallType::parse(raw);
                    if parsed.is_none() {
                        errors.add(&field("call_type"), "must be inbound or outbound");
                    }
                    parsed
                }
                _ => pbx.as_ref().map(|p| p.call_type),
            };
            let checklist = match file.checklist_id.as_deref().map(str::trim) {
                Some(raw) if !raw.is_empty() => match raw.parse::<ChecklistId>() {
                    Ok(id) => match self.ports.checklists.find(id, None).await? {
                        Some(c) if c.company_id == company => Some(c),
                        _ => {
                            errors.add(
                                &field("checklist_id"),
                                "no checklist of your company has this id",
                            );
                            None
                        }
                    },
                    Err(_) => {
                        errors.add(&field("checklist_id"), "must be a UUID");
                        None
                    }
                },
                _ => match &operator_code {
                    Some(code) => match self.ports.operators.find_by_code(company, code).await? {
                        Some(operator) => match operator.checklist_id {
                            Some(id) => self.ports.checklists.find(id, None).await?,
                            None => None,
                        },
                        None => None,
                    },
                    None => None,
                },
            };
            if file.bytes.is_empty() {
                errors.add(&field("files"), format!("{file_name}: the file is empty"));
                continue;
            }
            let (duration_ms, content_type) = match self
                .ports
                .probe
                .probe(file.bytes.clone(), file_name.clone())
                .await
            {
                Ok((0, _)) => {
                    errors.add(
                        &field("files"),
                        format!("{file_name}: the file holds no audio"),
                    );
                    continue;
                }
                Ok(measured) => measured,
                Err(Undecodable(reason)) => {
                    errors.add(
                        &field("files"),
                        format!("{file_name} cannot be decoded as audio: {reason}"),
                    );
                    continue;
                }
            };
            let general = file.general.unwrap_or(true);
            let id = RecordId::generate();
            let record = Record {
                id,
                owner_id: actor.account_id,
                company_id: company,
                operator_code,
                client_phone_number: phone,
                call_type,
                call_started_at: pbx
                    .as_ref()
                    .map(|p| p.started_at.assume_offset(self.policy.pbx_offset)),
                duration_ms,
                status: RecordStatus::Uploaded,
                general,
                checklist_id: checklist.as_ref().map(|c| c.id),
                checklist_version: checklist.as_ref().map(|c| c.version),
                size_bytes: file.bytes.len() as u64,
                storage_key: Some(storage_key(id, content_type)),
                original_filename: file_name,
                content_type,
                error: None,
                reserved_amount: 0,
                processing_round: 1,
                payload: Default::default(),
                pbx_call_id: None,
                crm: None,
                created_at: now,
                updated_at: now,
                deleted_at: None,
                row_version: RowVersion::default(),
            };
            prepared.push(Prepared {
                price: self
                    .policy
                    .prices
                    .price(duration_ms, general, checklist.is_some()),
                checklist: checklist.is_some(),
                record,
                bytes: file.bytes,
            });
        }
        errors.into_result()?;
        Ok((company, prepared))
    }
}

/// Only the last path component, without control characters, at most 255 characters.
fn clean_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .take(FILE_NAME_MAX)
        .collect();
    if cleaned.trim().is_empty() {
        "audio".to_owned()
    } else {
        cleaned
    }
}

/// Chosen from the record id, never from user input: `ab/abcdef…-….mp3`.
pub(crate) fn storage_key(id: RecordId, format: AudioFormat) -> String {
    let id = id.to_string();
    format!("{}/{id}.{}", &id[..2], format.extension())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashMap;

    use dialix_audit::MockAuditLog;
    use dialix_kernel::{AccountId, MockClock, MockCompanyTree, Role, noop_unit_of_work};
    use time::OffsetDateTime;
    use time::macros::datetime;

    use super::*;
    use crate::{
        MockAudioProbe, MockAudioStore, MockBilling, MockChecklistRepository, MockJobQueue,
        MockOperatorRepository, MockProcessingContext, MockRecordChangeSignal,
        MockRecordRepository, MockSpeechToText,
    };

    const NOW: OffsetDateTime = datetime!(2026-11-27 12:00 UTC);
    /// Speech-to-text only, 2.5 s billed as 3 s.
    const PRICE: i64 = 3150;

    fn owner() -> Actor {
        Actor {
            account_id: AccountId::generate(),
            role: Role::User,
            company_id: None,
            grants: Vec::new(),
        }
    }

    fn done_record(owner: &Actor) -> Record {
        Record {
            owner_id: owner.account_id,
            ..Record::sample(RecordId::generate(), RecordStatus::Done, NOW)
        }
    }

    /// The adapters of a record service; unset ones expect nothing.
    #[derive(Default)]
    pub(crate) struct Mocks {
        pub(crate) records: MockRecordRepository,
        pub(crate) probe: MockAudioProbe,
        pub(crate) billing: MockBilling,
        pub(crate) jobs: MockJobQueue,
        pub(crate) audit: MockAuditLog,
        pub(crate) operators: MockOperatorRepository,
        pub(crate) changes: MockRecordChangeSignal,
    }

    impl Mocks {
        pub(crate) fn service(self) -> RecordService {
            let mut clock = MockClock::new();
            clock.expect_now().return_const(NOW);
            let mut context = MockProcessingContext::new();
            context
                .expect_stt_model()
                .returning(|_| Ok("whisper".into()));
            let mut speech_to_text: HashMap<String, Arc<dyn crate::SpeechToText>> = HashMap::new();
            speech_to_text.insert("whisper".into(), Arc::new(MockSpeechToText::new()));
            RecordService::new(
                RecordPorts {
                    records: Arc::new(self.records),
                    audio: Arc::new(MockAudioStore::new()),
                    probe: Arc::new(self.probe),
                    billing: Arc::new(self.billing),
                    jobs: Arc::new(self.jobs),
                    context: Arc::new(context),
                    checklists: Arc::new(MockChecklistRepository::new()),
                    operators: Arc::new(self.operators),
                    tree: Arc::new(MockCompanyTree::new()),
                    uow: Arc::new(noop_unit_of_work()),
                    audit: Arc::new(self.audit),
                    clock: Arc::new(clock),
                    changes: Arc::new(self.changes),
                },
                RecordPolicy {
                    prices: Prices::default(),
                    default_country_code: "998".into(),
                    pbx_offset: UtcOffset::from_hms(5, 0, 0).unwrap(),
                },
                Providers {
                    speech_to_text,
                    ..Default::default()
                },
            )
        }
    }

    #[tokio::test]
    async fn a_reprocess_reserves_the_price_anew_and_queues_a_new_round() {
        let actor = owner();
        let record = done_record(&actor);
        let id = record.id;
        let mut records = MockRecordRepository::new();
        records
            .expect_find()
            .returning(move |_| Ok(Some(record.clone())));
        records
            .expect_update()
            .withf(|_, r| {
                r.status == RecordStatus::Queued
                    && r.processing_round == 2
                    && r.reserved_amount == PRICE
                    && r.payload == Default::default()
            })
            .times(1)
            .returning(|_, _| Ok(()));
        let mut billing = MockBilling::new();
        billing
            .expect_reserve()
            .withf(|_, _, amount| *amount == PRICE)
            .times(1)
            .returning(|_, _, _| Ok(true));
        let mut jobs = MockJobQueue::new();
        jobs.expect_enqueue().times(1).returning(|_, _, _| Ok(()));
        let mut audit = MockAuditLog::new();
        audit
            .expect_append()
            .withf(|_, event, _| event.details["round"] == 2)
            .times(1)
            .returning(|_, _, _| Ok(()));

        let mocks = Mocks {
            records,
            billing,
            jobs,
            audit,
            ..Default::default()
        };
        let queued = mocks
            .service()
            .reprocess(&actor, id, Some(false), None, &RequestMeta::system())
            .await
            .unwrap();
        assert_eq!(queued.status, RecordStatus::Queued);
    }

    #[tokio::test]
    async fn a_reprocess_that_loses_a_race_is_decided_again_and_refused() {
        let actor = owner();
        let record = done_record(&actor);
        let id = record.id;
        // The first read sees it done; after the lost write, it is queued by the winner.
        let reads = Arc::new(std::sync::Mutex::new(0));
        let counted = reads.clone();
        let mut records = MockRecordRepository::new();
        records.expect_find().returning(move |_| {
            let mut reads = counted.lock().unwrap();
            *reads += 1;
            let status = if *reads == 1 {
                RecordStatus::Done
            } else {
                RecordStatus::Queued
            };
            Ok(Some(Record {
                status,
                ..record.clone()
            }))
        });
        records
            .expect_update()
            .times(1)
            .returning(|_, _| Err(DomainError::Stale("record")));
        let mut billing = MockBilling::new();
        billing
            .expect_reserve()
            .times(1)
            .returning(|_, _, _| Ok(true));
        let mut audit = MockAuditLog::new();
        audit.expect_append().never();

        let mocks = Mocks {
            records,
            billing,
            audit,
            ..Default::default()
        };
        let error = mocks
            .service()
            .reprocess(&actor, id, None, None, &RequestMeta::system())
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                DomainError::Conflict {
                    field: "status",
                    ..
                }
            ),
            "{error:?}"
        );
        assert_eq!(*reads.lock().unwrap(), 2);
    }

    #[tokio::test]
    async fn a_short_balance_refuses_a_reprocess_and_changes_nothing() {
        let actor = owner();
        let record = done_record(&actor);
        let id = record.id;
        let mut records = MockRecordRepository::new();
        records
            .expect_find()
            .returning(move |_| Ok(Some(record.clone())));
        records.expect_update().never();
        let mut billing = MockBilling::new();
        billing.expect_reserve().returning(|_, _, _| Ok(false));
        let mut jobs = MockJobQueue::new();
        jobs.expect_enqueue().never();

        let mocks = Mocks {
            records,
            billing,
            jobs,
            ..Default::default()
        };
        let error = mocks
            .service()
            .reprocess(&actor, id, Some(false), None, &RequestMeta::system())
            .await
            .unwrap_err();
        assert!(
            matches!(error, DomainError::PaymentRequired(_)),
            "{error:?}"
        );
    }

    fn file(name: &str) -> UploadFile {
        UploadFile {
            file_name: name.into(),
            bytes: Bytes::from_static(b"audio"),
            ..Default::default()
        }
    }

    fn member() -> Actor {
        Actor {
            company_id: Some(CompanyId::generate()),
            ..owner()
        }
    }

    #[tokio::test]
    async fn every_bad_file_and_field_is_named_by_its_position_and_nothing_is_priced() {
        let mut probe = MockAudioProbe::new();
        probe.expect_probe().returning(|_, name| {
            if name.ends_with(".mp3") {
                Err(crate::Undecodable("not audio".into()))
            } else {
                Ok((2500, AudioFormat::Wav))
            }
        });
        let mut billing = MockBilling::new();
        billing.expect_balance().never();
        let files = vec![
            UploadFile {
                client_phone_number: Some("12".into()),
                ..file("first.wav")
            },
            file("second.mp3"),
        ];
        let mocks = Mocks {
            probe,
            billing,
            ..Default::default()
        };
        let Err(DomainError::Validation(errors)) = mocks.service().estimate(&member(), files).await
        else {
            panic!("expected a validation error");
        };
        let fields: Vec<&str> = errors.iter().map(|(field, _)| field).collect();
        assert_eq!(fields, ["client_phone_number[0]", "files[1]"]);
    }

    #[tokio::test]
    async fn a_file_is_priced_by_its_measured_duration_per_started_second() {
        let mut probe = MockAudioProbe::new();
        probe
            .expect_probe()
            .returning(|_, _| Ok((2500, AudioFormat::Mp3)));
        let mut billing = MockBilling::new();
        billing.expect_balance().returning(|_| {
            Ok(BalanceView {
                balance: 5000,
                reserved: 1000,
            })
        });
        // The OnlinePBX name carries the operator's extension, whose checklist would apply.
        let mut operators = MockOperatorRepository::new();
        operators
            .expect_find_by_code()
            .withf(|_, code| code == "101")
            .times(1)
            .returning(|_, _| Ok(None));
        let mocks = Mocks {
            probe,
            billing,
            operators,
            ..Default::default()
        };
        let estimate = mocks
            .service()
            .estimate(&member(), vec![file("24.03.15-09:41:07_101_901234567.mp3")])
            .await
            .unwrap();
        // 2.5 s is billed as 3 s: 63 000 × 3 / 60 for speech-to-text, 21 000 × 3 / 60 for
        // the general analysis (asked for by default).
        assert_eq!(estimate.files[0].duration_ms, 2500);
        assert_eq!(estimate.total, 3150 + 1050);
        assert_eq!((estimate.available, estimate.enough), (4000, false));
    }
}
