//! The processing pipeline: a durable job per record, claimed by workers, that transcribes,
//! analyses and settles each step's price, or fails and releases what was reserved, or is
//! handed back unfinished when its worker shuts down.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use dialix_kernel::{
    AccountId, ChatMessageId, Clock, CompanyId, DomainError, DomainResult, RecordId, Tx, UnitOfWork,
};
use uuid::Uuid;

use crate::progress::{Progress, unless};
use crate::{
    AudioStore, Billing, CallAnalyzer, JobQueue, ProcessingContext, ProcessingObserver,
    ProviderError, Record, RecordRepository, RecordStatus, SpeechToText, StepOutcome, as_dialogue,
    build_turns, compute_metrics, general_prompt, general_schema, parse_general,
};

/// A claimed job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: Uuid,
    pub record_id: RecordId,
    /// Including this claim.
    pub attempts: u32,
}

/// The durable queue at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Ready to run now, not leased.
    pub ready: u64,
    /// Waiting for a retry's backoff to pass.
    pub delayed: u64,
    /// Leased to a worker.
    pub running: u64,
    /// Given up after the last attempt.
    pub dead: u64,
    /// How long the longest-waiting ready job has been ready (`None`: nothing ready).
    pub oldest_ready_wait: Option<Duration>,
}

/// A price moved from reserved to spent, once per [`ChargeItem`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub company: CompanyId,
    /// Whose work it was (the record's owner, the account that asked).
    pub owner: AccountId,
    pub item: ChargeItem,
    pub amount: i64,
}

/// What is charged; each is charged at most once (its [`Charge::key`] is unique per company).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChargeItem {
    /// A processing step of a record, once per processing round.
    Step {
        record: RecordId,
        round: u32,
        step: ChargeStep,
    },
    /// One answered chat question (its answer message), about a record.
    ChatQuestion {
        answer: ChatMessageId,
        record: RecordId,
    },
}

impl Charge {
    /// The idempotency key of the ledger entry: `record:<id>:<round>:<step>` or
    /// `chat:<answer id>`.
    pub fn key(&self) -> String {
        match self.item {
            ChargeItem::Step {
                record,
                round,
                step,
            } => format!("record:{record}:{round}:{}", step.as_str()),
            ChargeItem::ChatQuestion { answer, .. } => format!("chat:{answer}"),
        }
    }

    /// What the charge pays for, as the ledger and spend reports name it.
    pub fn charged_for(&self) -> dialix_kernel::ChargedFor {
        use dialix_kernel::ChargedFor;
        match self.item {
            ChargeItem::Step { step, .. } => match step {
                ChargeStep::SpeechToText => ChargedFor::SpeechToText,
                ChargeStep::GeneralAnalysis => ChargedFor::GeneralAnalysis,
                ChargeStep::Checklist => ChargedFor::Checklist,
            },
            ChargeItem::ChatQuestion { .. } => ChargedFor::Chat,
        }
    }

    /// The record the charge concerns, for the ledger.
    pub fn record(&self) -> RecordId {
        match self.item {
            ChargeItem::Step { record, .. } | ChargeItem::ChatQuestion { record, .. } => record,
        }
    }
}

/// The processing steps that are charged, each once per round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChargeStep {
    SpeechToText,
    GeneralAnalysis,
    Checklist,
}

impl ChargeStep {
    /// The name in charge keys (`record:<id>:<round>:<step>`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ChargeStep::SpeechToText => "stt",
            ChargeStep::GeneralAnalysis => "general",
            ChargeStep::Checklist => "checklist",
        }
    }
}

/// A company's money as processing sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BalanceView {
    pub balance: i64,
    pub reserved: i64,
}

impl BalanceView {
    pub fn available(&self) -> i64 {
        self.balance - self.reserved
    }
}

/// Gives back whatever is still reserved for `record` (in the caller's transaction, which
/// also writes the record) and clears its reservation.
pub(crate) async fn release_reservation(
    billing: &dyn Billing,
    tx: &mut Tx,
    record: &mut Record,
) -> DomainResult<()> {
    if record.reserved_amount > 0 {
        billing
            .release(tx, record.company_id, record.reserved_amount)
            .await?;
        record.reserved_amount = 0;
    }
    Ok(())
}

/// The configured providers.
#[derive(Clone, Default)]
pub struct Providers {
    /// Speech-to-text adapters by model name (`mohirai`, `whisper`, …).
    pub speech_to_text: HashMap<String, Arc<dyn SpeechToText>>,
    pub analyzer: Option<Arc<dyn CallAnalyzer>>,
    /// For error messages: the setting that enables each missing piece.
    pub missing_stt_setting: HashMap<String, String>,
    pub missing_analyzer_setting: String,
}

impl Providers {
    /// Why a record of `model`, with or without the general analysis, cannot be processed.
    pub fn missing(&self, model: &str, general: bool) -> Option<String> {
        if !self.speech_to_text.contains_key(model) {
            return Some(
                self.missing_stt_setting
                    .get(model)
                    .cloned()
                    .unwrap_or_else(|| format!("no speech-to-text provider for model {model:?}")),
            );
        }
        if general && self.analyzer.is_none() {
            return Some(self.missing_analyzer_setting.clone());
        }
        None
    }
}

/// Retry and lease settings of the workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessingPolicy {
    /// Claims per job before the record fails.
    pub max_attempts: u32,
    /// Waited before the second attempt, doubled for each further one.
    pub backoff: Duration,
    /// How long a claim is exclusive.
    pub lease: Duration,
}

/// Everything a worker works through.
pub struct ProcessingPorts {
    pub records: Arc<dyn RecordRepository>,
    pub jobs: Arc<dyn JobQueue>,
    pub billing: Arc<dyn Billing>,
    pub audio: Arc<dyn AudioStore>,
    /// Measures imported calls' audio once it is downloaded.
    pub probe: Arc<dyn crate::AudioProbe>,
    /// Where imported calls' audio is downloaded from.
    pub source: Arc<dyn crate::CallAudioSource>,
    /// Asked who the client is once the call is analysed.
    pub crm: Arc<dyn crate::CustomerLookup>,
    pub context: Arc<dyn ProcessingContext>,
    pub checklists: Arc<dyn crate::ChecklistRepository>,
    /// Deliberately unaudited: moving a record through its steps is nobody's change. The
    /// upload or reprocess that queued it was audited; charges are in the ledger.
    pub uow: Arc<dyn UnitOfWork>,
    pub clock: Arc<dyn Clock>,
    pub observer: Arc<dyn ProcessingObserver>,
}

/// Runs jobs.
pub struct ProcessingService {
    ports: ProcessingPorts,
    providers: Providers,
    policy: ProcessingPolicy,
    prices: crate::Prices,
}

/// How a step ended when it did not succeed.
enum StepError {
    Retry(String),
    Fail(String),
    Internal(DomainError),
}

impl From<DomainError> for StepError {
    fn from(error: DomainError) -> Self {
        match error {
            // Deleted, or changed by a user, while the step ran: nothing of the step was
            // stored or charged; the job runs again on the record as it is now.
            DomainError::Stale(_) => StepError::Retry("the record changed meanwhile".into()),
            error => StepError::Internal(error),
        }
    }
}

impl From<ProviderError> for StepError {
    fn from(error: ProviderError) -> Self {
        match error {
            ProviderError::Transient(message) | ProviderError::RateLimited { message, .. } => {
                StepError::Retry(message)
            }
            ProviderError::Permanent(message) => StepError::Fail(message),
        }
    }
}

impl ProcessingService {
    pub fn new(
        ports: ProcessingPorts,
        providers: Providers,
        policy: ProcessingPolicy,
        prices: crate::Prices,
    ) -> Self {
        Self {
            ports,
            providers,
            policy,
            prices,
        }
    }

    /// The queue now, for the metrics.
    pub async fn queue_stats(&self) -> DomainResult<QueueStats> {
        self.ports.jobs.stats(self.ports.clock.now()).await
    }

    /// Claims and runs one job; `false` when there was nothing to do. If `interrupt` completes
    /// first (the worker is shutting down and its grace period is over), the job is cut off
    /// where it stands and handed back to the queue at once, without counting an attempt:
    /// steps already stored stay stored and charged once, the rest runs on another worker.
    pub async fn run_once(
        &self,
        worker: &str,
        interrupt: impl Future<Output = ()> + Send,
    ) -> DomainResult<bool> {
        let now = self.ports.clock.now();
        let Some(job) = self
            .ports
            .jobs
            .claim(worker, now, self.policy.lease)
            .await?
        else {
            return Ok(false);
        };
        let progress = Progress::new(self.ports.observer.as_ref());
        if let Some(outcome) = unless(self.run(&job, worker, &progress), interrupt).await {
            return outcome.map(|()| true);
        }
        progress.end(StepOutcome::HandedBack);
        tracing::info!(record = %job.record_id, worker, "shutting down: job handed back");
        self.ports
            .jobs
            .release(job.id, worker, self.ports.clock.now())
            .await?;
        Ok(true)
    }

    /// Runs a claimed job to its outcome: done, retried later, or failed.
    async fn run(&self, job: &Job, worker: &str, progress: &Progress<'_>) -> DomainResult<()> {
        let now = self.ports.clock.now();
        let Some(record) = self.ports.records.find(job.record_id).await? else {
            // Deleted meanwhile: nothing to process, nothing left reserved for it.
            let mut tx = self.ports.uow.begin().await?;
            self.ports
                .jobs
                .finish(tx.as_mut(), job.record_id, now)
                .await?;
            tx.commit().await?;
            return Ok(());
        };
        tracing::info!(record = %record.id, attempt = job.attempts, worker, "processing");
        match self.process(record.clone(), progress).await {
            Ok(()) => {}
            Err(StepError::Retry(reason)) if job.attempts < self.policy.max_attempts => {
                progress.end(StepOutcome::Retry);
                let wait =
                    self.policy.backoff * 2u32.saturating_pow(job.attempts.saturating_sub(1));
                let at = self.ports.clock.now() + wait;
                tracing::warn!(record = %record.id, %reason, retry_in_ms = wait.as_millis() as u64, "will retry");
                self.ports.jobs.retry_later(job.id, at, &reason).await?;
            }
            Err(StepError::Retry(reason) | StepError::Fail(reason)) => {
                progress.end(StepOutcome::Failed);
                tracing::warn!(record = %record.id, %reason, "processing failed");
                self.fail(job, reason).await?;
            }
            Err(StepError::Internal(error)) => {
                // Our own trouble (database): leave the job to be claimed again after its
                // lease. The worker logs it.
                progress.end(StepOutcome::Interrupted);
                tracing::warn!(record = %record.id, "processing interrupted");
                return Err(error);
            }
        }
        Ok(())
    }

    async fn process(&self, mut record: Record, progress: &Progress<'_>) -> Result<(), StepError> {
        if let (Some(call), None, None) = (
            record.pbx_call_id.clone(),
            &record.storage_key,
            &record.payload.transcript,
        ) {
            self.download(&mut record, &call).await?;
        }
        let stt_price = self
            .prices
            .price(
                record.duration_ms,
                record.general,
                record.checklist_id.is_some(),
            )
            .stt;
        if record.payload.transcript.is_none() {
            progress.begin(ChargeStep::SpeechToText);
            self.set_status(&mut record, RecordStatus::Transcribing)
                .await?;
            let model = self.ports.context.stt_model(record.owner_id).await?;
            let stt = self
                .providers
                .speech_to_text
                .get(&model)
                .cloned()
                .ok_or_else(|| {
                    StepError::Fail(format!("no speech-to-text provider for {model:?}"))
                })?;
            let key = record
                .storage_key
                .clone()
                .ok_or_else(|| StepError::Fail("the audio was removed".into()))?;
            let size = self.ports.audio.size(&key).await?;
            let audio = self.ports.audio.read(&key, 0, size).await?;
            let language = self.ports.context.language(record.company_id).await?;
            let utterances = stt
                .transcribe(
                    audio,
                    record.original_filename.clone(),
                    record.content_type,
                    language,
                )
                .await?;
            let turns = build_turns(&utterances, record.call_type);
            record.payload.metrics = Some(compute_metrics(&turns));
            record.payload.transcript = Some(turns);
            self.save_step(&mut record, ChargeStep::SpeechToText, stt_price)
                .await?;
            progress.end(StepOutcome::Done);
        }
        let price = self.prices.price(
            record.duration_ms,
            record.general,
            record.checklist_id.is_some(),
        );
        if record.general && record.payload.general.is_none() {
            progress.begin(ChargeStep::GeneralAnalysis);
            self.set_status(&mut record, RecordStatus::Analysing)
                .await?;
            let purposes = self.ports.context.call_purposes(record.company_id).await?;
            let language = self.ports.context.language(record.company_id).await?;
            let dialogue = as_dialogue(record.payload.transcript.as_deref().unwrap_or_default());
            let (system, user) = general_prompt(&dialogue, &language, &purposes);
            let analysis = self
                .ask(
                    &mut record,
                    system,
                    user,
                    "call_analysis",
                    general_schema(&purposes),
                    |reply| parse_general(reply, &purposes),
                )
                .await?;
            record.payload.general = Some(analysis);
            self.save_step(&mut record, ChargeStep::GeneralAnalysis, price.general)
                .await?;
            progress.end(StepOutcome::Done);
        }
        if let (Some(id), None) = (record.checklist_id, &record.payload.checklist) {
            progress.begin(ChargeStep::Checklist);
            self.set_status(&mut record, RecordStatus::Analysing)
                .await?;
            let checklist = self
                .ports
                .checklists
                .find(id, record.checklist_version)
                .await?
                .ok_or_else(|| StepError::Fail("the checklist version no longer exists".into()))?;
            let dialogue = as_dialogue(record.payload.transcript.as_deref().unwrap_or_default());
            let (system, user) = crate::checklist_prompt(&checklist, &dialogue);
            let result = self
                .ask(
                    &mut record,
                    system,
                    user,
                    "checklist_review",
                    crate::checklist_schema(&checklist),
                    |reply| crate::parse_checklist(reply, &checklist),
                )
                .await?;
            record.payload.checklist = Some(result);
            self.save_step(&mut record, ChargeStep::Checklist, price.checklist)
                .await?;
            progress.end(StepOutcome::Done);
        }
        if let (None, Some(phone)) = (&record.crm, record.client_phone_number.clone())
            && let Some(lookup) = self.ports.crm.lookup(record.company_id, &phone).await
        {
            record.crm = Some(lookup);
            self.save(&mut record).await?;
        }
        self.finish(&mut record).await?;
        Ok(())
    }

    /// Fetches an imported call's recording, measures and stores it. Not charged: the price
    /// reserved at import (from the PBX's duration) pays for the steps that follow, which
    /// are priced by the measured duration and never charge more than is reserved.
    async fn download(&self, record: &mut Record, call: &str) -> Result<(), StepError> {
        self.set_status(record, RecordStatus::Downloading).await?;
        let fetched = self.ports.source.fetch(record.company_id, call).await?;
        let (duration_ms, format) = match self
            .ports
            .probe
            .probe(fetched.bytes.clone(), fetched.file_name.clone())
            .await
        {
            Ok((0, _)) => {
                return Err(StepError::Fail(
                    "the PBX's recording of the call holds no audio".into(),
                ));
            }
            Ok(measured) => measured,
            Err(crate::Undecodable(reason)) => {
                return Err(StepError::Fail(format!(
                    "the PBX's recording of the call cannot be decoded: {reason}"
                )));
            }
        };
        let key = crate::service::storage_key(record.id, format);
        self.ports.audio.put(&key, fetched.bytes.clone()).await?;
        record.storage_key = Some(key);
        record.duration_ms = duration_ms;
        record.content_type = format;
        record.size_bytes = fetched.bytes.len() as u64;
        record.original_filename = fetched.file_name;
        record.updated_at = self.ports.clock.now();
        self.save(record).await?;
        Ok(())
    }

    /// Asks the model; a reply that does not fit gets one more chance, then the job fails
    /// with the reply kept for debugging and nothing of it stored as a result.
    async fn ask<T>(
        &self,
        record: &mut Record,
        system: String,
        user: String,
        schema_name: &str,
        schema: serde_json::Value,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, StepError> {
        let analyzer = self
            .providers
            .analyzer
            .clone()
            .ok_or_else(|| StepError::Fail(self.providers.missing_analyzer_setting.clone()))?;
        let mut rejected = None;
        for _ in 0..2 {
            let reply = analyzer
                .complete_json(
                    system.clone(),
                    user.clone(),
                    schema_name.into(),
                    schema.clone(),
                )
                .await?;
            match parse(&reply) {
                Ok(value) => return Ok(value),
                Err(problem) => rejected = Some((problem, reply)),
            }
        }
        let (problem, reply) = rejected.unwrap_or_default();
        record.payload.rejected_reply = Some(reply);
        self.save(record).await?;
        Err(StepError::Fail(format!(
            "the model's reply did not fit the {schema_name} schema twice: {problem}"
        )))
    }

    /// Stores the step's output and charges it, together.
    async fn save_step(
        &self,
        record: &mut Record,
        step: ChargeStep,
        amount: i64,
    ) -> DomainResult<()> {
        let now = self.ports.clock.now();
        let charged = amount.min(record.reserved_amount);
        record.reserved_amount -= charged;
        record.updated_at = now;
        let mut tx = self.ports.uow.begin().await?;
        self.ports.records.update(tx.as_mut(), record).await?;
        self.ports
            .billing
            .settle(
                tx.as_mut(),
                &Charge {
                    company: record.company_id,
                    owner: record.owner_id,
                    item: ChargeItem::Step {
                        record: record.id,
                        round: record.processing_round,
                        step,
                    },
                    amount: charged,
                },
                now,
            )
            .await?;
        tx.commit().await
    }

    /// Marks a record whose steps are all done as done.
    async fn finish(&self, record: &mut Record) -> DomainResult<()> {
        record.status = RecordStatus::Done;
        record.updated_at = self.ports.clock.now();
        let mut tx = self.ports.uow.begin().await?;
        self.ports.records.update(tx.as_mut(), record).await?;
        self.close(tx.as_mut(), record).await?;
        tx.commit().await
    }

    /// Releases what is still reserved and completes the job.
    async fn close(&self, tx: &mut Tx, record: &mut Record) -> DomainResult<()> {
        if record.reserved_amount > 0 {
            release_reservation(self.ports.billing.as_ref(), tx, record).await?;
            self.ports.records.update(tx, record).await?;
        }
        let now = self.ports.clock.now();
        self.ports.jobs.finish(tx, record.id, now).await
    }

    async fn fail(&self, job: &Job, reason: String) -> DomainResult<()> {
        let Some(mut record) = self.ports.records.find(job.record_id).await? else {
            return Ok(());
        };
        let now = self.ports.clock.now();
        let mut tx = self.ports.uow.begin().await?;
        release_reservation(self.ports.billing.as_ref(), tx.as_mut(), &mut record).await?;
        record.status = RecordStatus::Failed;
        record.error = Some(reason.clone());
        record.updated_at = now;
        self.ports.records.update(tx.as_mut(), &mut record).await?;
        self.ports
            .jobs
            .give_up(tx.as_mut(), job.id, &reason, now)
            .await?;
        tx.commit().await
    }

    async fn set_status(&self, record: &mut Record, status: RecordStatus) -> DomainResult<()> {
        record.status = status;
        self.save(record).await
    }

    async fn save(&self, record: &mut Record) -> DomainResult<()> {
        let mut tx = self.ports.uow.begin().await?;
        self.ports.records.update(tx.as_mut(), record).await?;
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use std::future::{pending, ready};
    use std::sync::Mutex;

    use async_trait::async_trait;
    use bytes::Bytes;
    use dialix_kernel::{MockClock, noop_unit_of_work};
    use time::OffsetDateTime;
    use time::macros::datetime;

    use super::*;
    use crate::{
        MockAudioStore, MockBilling, MockChecklistRepository, MockJobQueue, MockProcessingContext,
        MockProcessingObserver, MockRecordRepository, MockSpeechToText, Utterance,
    };

    const NOW: OffsetDateTime = datetime!(2026-11-27 12:00 UTC);
    /// 63 000 a minute for 2.5 s, billed as 3 s.
    const STT_PRICE: i64 = 3150;

    fn queued_record(id: RecordId) -> Record {
        Record {
            reserved_amount: STT_PRICE,
            ..Record::sample(id, RecordStatus::Queued, NOW)
        }
    }

    /// The ports of a worker holding one claimed job for `record`, on its `attempts`th claim.
    struct Mocks {
        records: MockRecordRepository,
        jobs: MockJobQueue,
        billing: MockBilling,
        stt: MockSpeechToText,
        observer: MockProcessingObserver,
        job: Job,
    }

    impl Mocks {
        fn new(record: Record, attempts: u32) -> Self {
            let job = Job {
                id: Uuid::now_v7(),
                record_id: record.id,
                attempts,
            };
            let claimed = job.clone();
            let mut jobs = MockJobQueue::new();
            jobs.expect_claim()
                .times(1)
                .returning(move |_, _, _| Ok(Some(claimed.clone())));
            let mut records = MockRecordRepository::new();
            records
                .expect_find()
                .returning(move |_| Ok(Some(record.clone())));
            Self {
                records,
                jobs,
                billing: MockBilling::new(),
                stt: MockSpeechToText::new(),
                observer: MockProcessingObserver::new(),
                job,
            }
        }

        /// Expects `step` to be reported once, as ended with `outcome`.
        fn reports(&mut self, step: ChargeStep, outcome: StepOutcome) {
            self.observer
                .expect_step_ended()
                .withf(move |s, o, _| (*s, *o) == (step, outcome))
                .times(1)
                .return_const(());
        }

        fn service(mut self) -> ProcessingService {
            let stt = Arc::new(std::mem::take(&mut self.stt));
            self.service_with(stt)
        }

        /// The service with `stt` as its speech-to-text provider instead of the mock.
        fn service_with(self, stt: Arc<dyn SpeechToText>) -> ProcessingService {
            let mut clock = MockClock::new();
            clock.expect_now().return_const(NOW);
            let mut context = MockProcessingContext::new();
            context
                .expect_stt_model()
                .returning(|_| Ok("whisper".into()));
            context.expect_language().returning(|_| Ok("uz".into()));
            let mut audio = MockAudioStore::new();
            audio.expect_size().returning(|_| Ok(4));
            audio
                .expect_read()
                .returning(|_, _, _| Ok(Bytes::from_static(b"RIFF")));
            let mut speech_to_text: HashMap<String, Arc<dyn SpeechToText>> = HashMap::new();
            speech_to_text.insert("whisper".into(), stt);
            ProcessingService::new(
                ProcessingPorts {
                    records: Arc::new(self.records),
                    jobs: Arc::new(self.jobs),
                    billing: Arc::new(self.billing),
                    audio: Arc::new(audio),
                    probe: Arc::new(crate::MockAudioProbe::new()),
                    source: Arc::new(crate::MockCallAudioSource::new()),
                    crm: Arc::new(crate::MockCustomerLookup::new()),
                    context: Arc::new(context),
                    checklists: Arc::new(MockChecklistRepository::new()),
                    uow: Arc::new(noop_unit_of_work()),
                    clock: Arc::new(clock),
                    observer: Arc::new(self.observer),
                },
                Providers {
                    speech_to_text,
                    ..Default::default()
                },
                ProcessingPolicy {
                    max_attempts: 3,
                    backoff: Duration::from_millis(100),
                    lease: Duration::from_secs(30),
                },
                crate::Prices::default(),
            )
        }
    }

    #[tokio::test]
    async fn a_finished_step_is_stored_and_charged_once_and_the_job_completes() {
        let record = queued_record(RecordId::generate());
        let mut mocks = Mocks::new(record, 1);
        mocks
            .stt
            .expect_transcribe()
            .times(1)
            .returning(|_, _, _, _| {
                Ok(vec![Utterance {
                    speaker: "0".into(),
                    start_ms: 0,
                    end_ms: 2000,
                    text: "Assalomu alaykum".into(),
                }])
            });
        let statuses = Arc::new(Mutex::new(Vec::new()));
        let seen = statuses.clone();
        mocks.records.expect_update().returning(move |_, record| {
            seen.lock()
                .unwrap()
                .push((record.status, record.reserved_amount));
            Ok(())
        });
        mocks
            .billing
            .expect_settle()
            .withf(|_, charge, _| {
                matches!(
                    charge.item,
                    ChargeItem::Step {
                        step: ChargeStep::SpeechToText,
                        ..
                    }
                ) && charge.amount == STT_PRICE
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        mocks.billing.expect_release().never();
        mocks
            .jobs
            .expect_finish()
            .times(1)
            .returning(|_, _, _| Ok(()));
        mocks.reports(ChargeStep::SpeechToText, StepOutcome::Done);

        assert!(mocks.service().run_once("w1", pending()).await.unwrap());
        assert_eq!(
            *statuses.lock().unwrap(),
            [
                (RecordStatus::Transcribing, STT_PRICE),
                (RecordStatus::Transcribing, 0),
                (RecordStatus::Done, 0),
            ]
        );
    }

    #[tokio::test]
    async fn a_transient_failure_is_retried_later_with_doubling_backoff() {
        let mut mocks = Mocks::new(queued_record(RecordId::generate()), 2);
        mocks
            .stt
            .expect_transcribe()
            .returning(|_, _, _, _| Err(ProviderError::Transient("503".into())));
        mocks.records.expect_update().returning(|_, _| Ok(()));
        let job = mocks.job.id;
        mocks
            .jobs
            .expect_retry_later()
            .withf(move |id, at, reason| {
                *id == job && *at == NOW + Duration::from_millis(200) && reason == "503"
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        mocks.jobs.expect_give_up().never();
        mocks.billing.expect_settle().never();
        mocks.reports(ChargeStep::SpeechToText, StepOutcome::Retry);

        assert!(mocks.service().run_once("w1", pending()).await.unwrap());
    }

    #[tokio::test]
    async fn the_last_attempt_fails_the_record_and_releases_its_reservation() {
        let record = queued_record(RecordId::generate());
        let company = record.company_id;
        let mut mocks = Mocks::new(record, 3);
        mocks
            .stt
            .expect_transcribe()
            .returning(|_, _, _, _| Err(ProviderError::Transient("timeout".into())));
        let failed = Arc::new(Mutex::new(None));
        let seen = failed.clone();
        mocks.records.expect_update().returning(move |_, record| {
            if record.status == RecordStatus::Failed {
                *seen.lock().unwrap() = Some((record.reserved_amount, record.error.clone()));
            }
            Ok(())
        });
        mocks
            .billing
            .expect_release()
            .withf(move |_, c, amount| *c == company && *amount == STT_PRICE)
            .times(1)
            .returning(|_, _, _| Ok(()));
        mocks.billing.expect_settle().never();
        mocks
            .jobs
            .expect_give_up()
            .times(1)
            .returning(|_, _, _, _| Ok(()));
        mocks.jobs.expect_retry_later().never();
        mocks.reports(ChargeStep::SpeechToText, StepOutcome::Failed);

        assert!(mocks.service().run_once("w1", pending()).await.unwrap());
        assert_eq!(
            *failed.lock().unwrap(),
            Some((0, Some("timeout".to_owned())))
        );
    }

    #[tokio::test]
    async fn a_record_changed_meanwhile_stores_and_charges_nothing_and_is_retried() {
        let mut mocks = Mocks::new(queued_record(RecordId::generate()), 1);
        mocks.stt.expect_transcribe().returning(|_, _, _, _| {
            Ok(vec![Utterance {
                speaker: "0".into(),
                start_ms: 0,
                end_ms: 1000,
                text: "Salom".into(),
            }])
        });
        // The status write lands; the step's write finds the record deleted.
        let writes = Arc::new(Mutex::new(0));
        let counted = writes.clone();
        mocks.records.expect_update().returning(move |_, _| {
            let mut writes = counted.lock().unwrap();
            *writes += 1;
            if *writes == 1 {
                Ok(())
            } else {
                Err(DomainError::Stale("record"))
            }
        });
        mocks.billing.expect_settle().never();
        mocks
            .jobs
            .expect_retry_later()
            .times(1)
            .returning(|_, _, _| Ok(()));
        mocks.reports(ChargeStep::SpeechToText, StepOutcome::Retry);

        assert!(mocks.service().run_once("w1", pending()).await.unwrap());
    }

    /// A provider that never answers.
    struct Hanging;

    #[async_trait]
    impl SpeechToText for Hanging {
        async fn transcribe(
            &self,
            _: Bytes,
            _: String,
            _: crate::AudioFormat,
            _: String,
        ) -> Result<Vec<Utterance>, ProviderError> {
            pending().await
        }
    }

    #[tokio::test]
    async fn an_interrupted_job_is_handed_back_at_once_without_an_attempt_or_a_charge() {
        let mut mocks = Mocks::new(queued_record(RecordId::generate()), 1);
        mocks.records.expect_update().returning(|_, _| Ok(()));
        let job = mocks.job.id;
        mocks
            .jobs
            .expect_release()
            .withf(move |id, worker, at| *id == job && worker == "w1" && *at == NOW)
            .times(1)
            .returning(|_, _, _| Ok(()));
        mocks.jobs.expect_retry_later().never();
        mocks.jobs.expect_give_up().never();
        mocks.jobs.expect_finish().never();
        mocks.billing.expect_settle().never();
        mocks.billing.expect_release().never();
        mocks.reports(ChargeStep::SpeechToText, StepOutcome::HandedBack);

        let service = mocks.service_with(Arc::new(Hanging));
        assert!(service.run_once("w1", ready(())).await.unwrap());
    }

    #[tokio::test]
    async fn a_job_that_completes_as_the_interrupt_comes_is_not_handed_back() {
        let mut mocks = Mocks::new(queued_record(RecordId::generate()), 1);
        mocks.stt.expect_transcribe().returning(|_, _, _, _| {
            Ok(vec![Utterance {
                speaker: "0".into(),
                start_ms: 0,
                end_ms: 1000,
                text: "Salom".into(),
            }])
        });
        mocks.records.expect_update().returning(|_, _| Ok(()));
        mocks.billing.expect_settle().returning(|_, _, _| Ok(()));
        mocks
            .jobs
            .expect_finish()
            .times(1)
            .returning(|_, _, _| Ok(()));
        mocks.jobs.expect_release().never();
        mocks.reports(ChargeStep::SpeechToText, StepOutcome::Done);

        // Every port answers at once: the job is done in the same wake-up as the interrupt.
        let service = mocks.service();
        assert!(service.run_once("w1", ready(())).await.unwrap());
    }
}
