use std::sync::Arc;

use dialix_account::SettingsRepository;
use dialix_audit::{AuditAction, AuditEvent, AuditLog, AuditedUnitOfWork};
use dialix_calls::{
    Billing, Charge, ChargeItem, Checklist, ChecklistRepository, ChecklistResult, ProviderError,
    Record, RecordRepository, Turn, may_view,
};
use dialix_kernel::{
    Actor, ChatMessageId, ChatSessionId, Clock, CompanyId, CompanyTree, DomainError, DomainResult,
    FieldErrors, Page, PageRequest, RecordId, RequestMeta, ResourceType, RowVersion, UnitOfWork,
    retry_on_stale,
};
use serde_json::{Value, json};

use crate::citations::parse_answer;
use crate::language::detect;
use crate::prompt::{CallAnalysis, PromptInput, build_prompt, visible_turns};
use crate::suggestions::{SuggestionSource, suggested_questions};
use crate::{
    Answer, ChatMessage, ChatPolicy, ChatRepository, ChatSession, ChatSubject, Completion,
    Language, LanguageModel, MAX_QUESTION_CHARS, MessageRole, Prompt, QuestionSlot,
    SessionTranscript,
};

/// Told to callers when a rate-limiting provider did not say how long to wait.
const DEFAULT_RETRY_AFTER_SECS: u64 = 10;

/// The language model chat answers with, or why there is none.
pub enum ChatModel {
    Configured(Arc<dyn LanguageModel>),
    /// Not configured: the message names the settings that enable it.
    Missing(String),
}

/// The adapters `ChatService` works through.
pub struct ChatPorts {
    pub chats: Arc<dyn ChatRepository>,
    pub records: Arc<dyn RecordRepository>,
    /// The checklist versions calls were scored against (their item texts).
    pub checklists: Arc<dyn ChecklistRepository>,
    /// The user's language setting, for questions whose language does not show.
    pub settings: Arc<dyn SettingsRepository>,
    pub billing: Arc<dyn Billing>,
    pub model: ChatModel,
    pub tree: Arc<dyn CompanyTree>,
    pub uow: Arc<dyn UnitOfWork>,
    pub audit: Arc<dyn AuditLog>,
    pub clock: Arc<dyn Clock>,
}

/// Chat sessions about calls: opening, asking within the limit, listing, deleting, and
/// suggested questions. Sessions are their owner's alone; the call must be one they may see.
pub struct ChatService {
    ports: ChatPorts,
    audited: AuditedUnitOfWork,
    policy: ChatPolicy,
}

impl ChatService {
    pub fn new(ports: ChatPorts, policy: ChatPolicy) -> Self {
        let audited = AuditedUnitOfWork::new(ports.uow.clone(), ports.audit.clone());
        Self {
            ports,
            audited,
            policy,
        }
    }

    /// Questions `session` still allows.
    pub fn remaining(&self, session: &ChatSession) -> u32 {
        session.remaining(self.policy.max_questions)
    }

    /// Opens a session on a call the actor may see (else `NotFound`) that has a transcript
    /// (else `Conflict`).
    pub async fn open(
        &self,
        actor: &Actor,
        record_id: RecordId,
        meta: &RequestMeta,
    ) -> DomainResult<ChatSession> {
        self.model()?;
        let record = self.visible_record(actor, record_id).await?;
        transcript(&record)?;
        let now = self.ports.clock.now();
        let session = ChatSession {
            id: ChatSessionId::generate(),
            owner_id: actor.account_id,
            company_id: record.company_id,
            subject: ChatSubject::Record(record.id),
            questions_used: 0,
            created_at: now,
            updated_at: now,
            deleted_at: None,
            row_version: RowVersion::default(),
        };
        let event = AuditEvent::by(
            actor,
            AuditAction::Create,
            ResourceType::ChatSession,
            session.id,
        )
        .details(subject_details(session.subject))
        .meta(meta);
        let mut tx = self.audited.begin().await?;
        self.ports
            .chats
            .insert_session(tx.as_mut(), &session)
            .await?;
        tx.commit(event, now).await?;
        Ok(session)
    }

    /// The actor's sessions, newest first.
    pub async fn sessions(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> DomainResult<Page<ChatSession>> {
        self.ports.chats.sessions_of(actor.account_id, page).await
    }

    /// One of the actor's sessions with its messages.
    pub async fn session(
        &self,
        actor: &Actor,
        id: ChatSessionId,
    ) -> DomainResult<SessionTranscript> {
        let session = self.owned_session(actor, id).await?;
        let messages = self.ports.chats.messages(id).await?;
        Ok(SessionTranscript { session, messages })
    }

    /// Deletes one of the actor's sessions.
    pub async fn delete(
        &self,
        actor: &Actor,
        id: ChatSessionId,
        meta: &RequestMeta,
    ) -> DomainResult<()> {
        retry_on_stale(|| self.try_delete(actor, id, meta)).await
    }

    async fn try_delete(
        &self,
        actor: &Actor,
        id: ChatSessionId,
        meta: &RequestMeta,
    ) -> DomainResult<()> {
        let mut session = self.owned_session(actor, id).await?;
        let now = self.ports.clock.now();
        let mut details = subject_details(session.subject);
        details["questions_used"] = json!(session.questions_used);
        let event = AuditEvent::by(actor, AuditAction::Delete, ResourceType::ChatSession, id)
            .details(details)
            .meta(meta);
        let mut tx = self.audited.begin().await?;
        self.ports
            .chats
            .delete_session(tx.as_mut(), &mut session, now)
            .await?;
        tx.commit(event, now).await
    }

    /// Answers `question` in one of the actor's sessions. The question, its answer, the
    /// count, the charge and the audit entry are stored in one transaction once the model has
    /// answered, and only if a question is still left then; a provider failure stores
    /// nothing and uses no question.
    pub async fn ask(
        &self,
        actor: &Actor,
        id: ChatSessionId,
        question: &str,
        meta: &RequestMeta,
    ) -> DomainResult<Answer> {
        let question = question.trim();
        check_question(question)?;
        let model = self.model()?;
        let session = self.owned_session(actor, id).await?;
        if self.remaining(&session) == 0 {
            return Err(self.limit_reached());
        }
        let ChatSubject::Record(record_id) = session.subject;
        let record = self.visible_record(actor, record_id).await?;
        let turns = visible_turns(transcript(&record)?, self.policy.mask_pii);
        let checklist = self.scored_checklist(&record).await?;
        let language = match detect(question) {
            Some(language) => language,
            None => self.setting_language(actor).await?,
        };
        let earlier = self.ports.chats.messages(id).await?;
        let prompt = build_prompt(&PromptInput {
            turns: &turns,
            analysis: CallAnalysis {
                general: record.payload.general.as_ref(),
                checklist: checklist_pair(&record, checklist.as_ref()),
            },
            earlier: &earlier,
            question,
            language,
            mask_pii: self.policy.mask_pii,
        });
        let price = self.policy.price_per_question;
        if price > 0 {
            self.reserve(session.company_id, price).await?;
        }
        let asked = Asked {
            session: &session,
            record: record_id,
            question,
            language,
            turns: &turns,
        };
        let answered = self.answer(actor, model, prompt, asked, meta).await;
        if answered.is_err() && price > 0 {
            self.release(session.company_id, price).await?;
        }
        answered
    }

    /// Asks the model and stores the exchange (see [`ChatService::ask`]).
    async fn answer(
        &self,
        actor: &Actor,
        model: Arc<dyn LanguageModel>,
        prompt: Prompt,
        asked: Asked<'_>,
        meta: &RequestMeta,
    ) -> DomainResult<Answer> {
        let Completion { content, usage } =
            model.complete(prompt).await.map_err(provider_failure)?;
        let (text, citations) =
            parse_answer(&content, asked.turns, asked.record).map_err(|problem| {
                DomainError::ProviderFailed(format!(
                    "the chat model's reply did not fit: {problem}"
                ))
            })?;
        let max = self.policy.max_questions;
        let session = asked.session;
        let now = self.ports.clock.now();
        let mut tx = self.audited.begin().await?;
        let number = match self
            .ports
            .chats
            .take_question(tx.as_mut(), session.id, max, now)
            .await?
        {
            QuestionSlot::Taken { number } => number,
            QuestionSlot::LimitReached => return Err(self.limit_reached()),
            QuestionSlot::Gone => return Err(DomainError::NotFound("chat session")),
        };
        let message = |seq, role, content: String| ChatMessage {
            id: ChatMessageId::generate(),
            session_id: session.id,
            seq,
            role,
            content,
            citations: Vec::new(),
            usage: None,
            created_at: now,
        };
        let question = message(2 * number - 1, MessageRole::User, asked.question.to_owned());
        let answer = ChatMessage {
            citations,
            usage,
            ..message(2 * number, MessageRole::Assistant, text)
        };
        self.ports
            .chats
            .insert_messages(tx.as_mut(), &[question.clone(), answer.clone()])
            .await?;
        let price = self.policy.price_per_question;
        if price > 0 {
            let charge = Charge {
                company: session.company_id,
                owner: actor.account_id,
                item: ChargeItem::ChatQuestion {
                    answer: answer.id,
                    record: asked.record,
                },
                amount: price,
            };
            self.ports.billing.settle(tx.as_mut(), &charge, now).await?;
        }
        // The question's text may hold personal data: the entry says which messages, not what.
        let mut details = subject_details(session.subject);
        details["question_number"] = json!(number);
        details["question_message_id"] = json!(question.id);
        details["answer_message_id"] = json!(answer.id);
        details["prompt_tokens"] = json!(usage.map(|u| u.prompt_tokens));
        details["completion_tokens"] = json!(usage.map(|u| u.completion_tokens));
        details["charged"] = json!(price);
        let event = AuditEvent::by(
            actor,
            AuditAction::Update,
            ResourceType::ChatSession,
            session.id,
        )
        .details(details)
        .meta(meta);
        tx.commit(event, now).await?;
        Ok(Answer {
            message: answer,
            language: asked.language,
            remaining_questions: max.saturating_sub(number),
        })
    }

    /// Five to seven questions about a call the actor may see, in `language` (default: the
    /// actor's language setting), built from the call's analysis.
    pub async fn suggested_questions(
        &self,
        actor: &Actor,
        record_id: RecordId,
        language: Option<Language>,
    ) -> DomainResult<(Language, Vec<String>)> {
        let record = self.visible_record(actor, record_id).await?;
        transcript(&record)?;
        let language = match language {
            Some(language) => language,
            None => self.setting_language(actor).await?,
        };
        let checklist = self.scored_checklist(&record).await?;
        let source = SuggestionSource {
            general: record.payload.general.as_ref(),
            checklist: checklist_pair(&record, checklist.as_ref()),
        };
        Ok((language, suggested_questions(source, language)))
    }

    fn model(&self) -> DomainResult<Arc<dyn LanguageModel>> {
        match &self.ports.model {
            ChatModel::Configured(model) => Ok(model.clone()),
            ChatModel::Missing(setting) => Err(DomainError::Unavailable(setting.clone())),
        }
    }

    fn limit_reached(&self) -> DomainError {
        DomainError::QuestionLimitReached {
            max: self.policy.max_questions,
        }
    }

    /// An undeleted record the actor may see; `NotFound` otherwise, whoever's it is.
    async fn visible_record(&self, actor: &Actor, id: RecordId) -> DomainResult<Record> {
        let record = self
            .ports
            .records
            .find(id)
            .await?
            .filter(|r| r.deleted_at.is_none())
            .ok_or(DomainError::NotFound("record"))?;
        if !may_view(self.ports.tree.as_ref(), actor, &record).await? {
            return Err(DomainError::NotFound("record"));
        }
        Ok(record)
    }

    /// One of the actor's own sessions; `NotFound` for anyone else's.
    async fn owned_session(&self, actor: &Actor, id: ChatSessionId) -> DomainResult<ChatSession> {
        self.ports
            .chats
            .find_session(id)
            .await?
            .filter(|s| s.owner_id == actor.account_id)
            .ok_or(DomainError::NotFound("chat session"))
    }

    /// The checklist version the call was scored against, if it was.
    async fn scored_checklist(&self, record: &Record) -> DomainResult<Option<Checklist>> {
        match &record.payload.checklist {
            Some(result) => {
                self.ports
                    .checklists
                    .find(result.checklist_id, Some(result.version))
                    .await
            }
            None => Ok(None),
        }
    }

    /// The actor's language setting; Uzbek (the settings' default) without one.
    async fn setting_language(&self, actor: &Actor) -> DomainResult<Language> {
        let settings = self.ports.settings.find(actor.account_id).await?;
        Ok(settings
            .and_then(|s| Language::parse(&s.language))
            .unwrap_or(Language::Uz))
    }

    /// Holds a question's price aside while the model answers. Like the processing
    /// pipeline's, this transaction is not audited: holding money aside is nobody's change,
    /// and the question's own entry records what was charged.
    async fn reserve(&self, company: CompanyId, amount: i64) -> DomainResult<()> {
        let mut tx = self.ports.uow.begin().await?;
        if !self
            .ports
            .billing
            .reserve(tx.as_mut(), company, amount)
            .await?
        {
            return Err(DomainError::PaymentRequired(format!(
                "the balance does not cover a chat question ({amount} minor units)"
            )));
        }
        tx.commit().await
    }

    /// Gives a question's reservation back (no answer was stored).
    async fn release(&self, company: CompanyId, amount: i64) -> DomainResult<()> {
        let mut tx = self.ports.uow.begin().await?;
        self.ports
            .billing
            .release(tx.as_mut(), company, amount)
            .await?;
        tx.commit().await
    }
}

/// What one question is about, carried from the checks to the storing.
struct Asked<'a> {
    session: &'a ChatSession,
    record: RecordId,
    question: &'a str,
    language: Language,
    /// The transcript as the model saw it.
    turns: &'a [Turn],
}

fn check_question(question: &str) -> DomainResult<()> {
    let mut errors = FieldErrors::new();
    errors
        .check(!question.is_empty(), "message", "must not be empty")
        .check(
            question.chars().count() <= MAX_QUESTION_CHARS,
            "message",
            format!("must be at most {MAX_QUESTION_CHARS} characters"),
        );
    errors.into_result()
}

/// The record's transcript; `Conflict` when it has none yet (or it was removed).
fn transcript(record: &Record) -> DomainResult<&[Turn]> {
    match record.payload.transcript.as_deref() {
        Some(turns) if !turns.is_empty() => Ok(turns),
        _ => Err(DomainError::conflict(
            "record_id",
            format!(
                "the record has no transcript (status: {}); chat needs a transcribed call",
                record.status.as_str()
            ),
        )),
    }
}

/// The checklist result with the version it was scored against, when both are there.
fn checklist_pair<'a>(
    record: &'a Record,
    checklist: Option<&'a Checklist>,
) -> Option<(&'a ChecklistResult, &'a Checklist)> {
    record.payload.checklist.as_ref().zip(checklist)
}

fn subject_details(subject: ChatSubject) -> Value {
    match subject {
        ChatSubject::Record(record) => json!({"record_id": record}),
    }
}

/// A provider failure as the caller sees it: busy (retry later) or failed.
fn provider_failure(error: ProviderError) -> DomainError {
    match error {
        ProviderError::RateLimited { retry_after, .. } => DomainError::ProviderBusy {
            retry_after_secs: retry_after
                .map_or(DEFAULT_RETRY_AFTER_SECS, |wait| {
                    wait.as_secs_f64().ceil() as u64
                })
                .max(1),
        },
        ProviderError::Transient(reason) | ProviderError::Permanent(reason) => {
            DomainError::ProviderFailed(reason)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use dialix_account::{MockSettingsRepository, UserSettings};
    use dialix_audit::MockAuditLog;
    use dialix_calls::{
        MockBilling, MockChecklistRepository, MockRecordRepository, RecordStatus, SpeakerRole,
    };
    use dialix_kernel::{AccountId, MockClock, MockCompanyTree, Role, noop_unit_of_work};
    use time::OffsetDateTime;
    use time::macros::datetime;

    use super::*;
    use crate::{MockChatRepository, MockLanguageModel, PromptRole, TokenUsage};

    const NOW: OffsetDateTime = datetime!(2026-11-29 12:00 UTC);
    const MAX: u32 = 10;

    fn record() -> Record {
        let mut record = Record::sample(RecordId::generate(), RecordStatus::Done, NOW);
        record.payload.transcript = Some(vec![
            Turn {
                speaker: "0".into(),
                role: SpeakerRole::Operator,
                start_ms: 0,
                end_ms: 900,
                text: "Assalomu alaykum, qanday yordam beray?".into(),
            },
            Turn {
                speaker: "1".into(),
                role: SpeakerRole::Customer,
                start_ms: 1000,
                end_ms: 4000,
                text: "Kartam 8600 1234 5678 9012 bloklandi".into(),
            },
        ]);
        record
    }

    fn owner_of(record: &Record) -> Actor {
        Actor {
            account_id: record.owner_id,
            role: Role::User,
            company_id: Some(record.company_id),
            grants: Vec::new(),
        }
    }

    fn session_of(record: &Record, used: u32) -> ChatSession {
        ChatSession {
            id: ChatSessionId::generate(),
            owner_id: record.owner_id,
            company_id: record.company_id,
            subject: ChatSubject::Record(record.id),
            questions_used: used,
            created_at: NOW,
            updated_at: NOW,
            deleted_at: None,
            row_version: RowVersion::default(),
        }
    }

    /// The ports of one owner asking about one record in one session; tests add their
    /// expectations before `service`.
    struct Mocks {
        record: Record,
        session: ChatSession,
        chats: MockChatRepository,
        model: MockLanguageModel,
        billing: MockBilling,
        settings: MockSettingsRepository,
        audit: MockAuditLog,
    }

    impl Mocks {
        fn new(used: u32) -> Self {
            let record = record();
            let session = session_of(&record, used);
            let mut chats = MockChatRepository::new();
            let found = session.clone();
            chats
                .expect_find_session()
                .returning(move |_| Ok(Some(found.clone())));
            chats.expect_messages().returning(|_| Ok(Vec::new()));
            let mut audit = MockAuditLog::new();
            audit.expect_append().returning(|_, _, _| Ok(()));
            Self {
                record,
                session,
                chats,
                model: MockLanguageModel::new(),
                billing: MockBilling::new(),
                settings: MockSettingsRepository::new(),
                audit,
            }
        }

        /// The model answers `reply` once, and its prompt is kept in `seen`.
        fn answers(&mut self, reply: Value, seen: Arc<Mutex<Option<Prompt>>>) {
            self.model
                .expect_complete()
                .times(1)
                .returning(move |prompt| {
                    *seen.lock().unwrap() = Some(prompt);
                    Ok(Completion {
                        content: reply.to_string(),
                        usage: Some(TokenUsage {
                            prompt_tokens: 120,
                            completion_tokens: 30,
                        }),
                    })
                });
        }

        fn service(self, price: i64, mask_pii: bool) -> ChatService {
            let mut records = MockRecordRepository::new();
            let record = self.record.clone();
            records
                .expect_find()
                .returning(move |_| Ok(Some(record.clone())));
            let mut clock = MockClock::new();
            clock.expect_now().return_const(NOW);
            ChatService::new(
                ChatPorts {
                    chats: Arc::new(self.chats),
                    records: Arc::new(records),
                    checklists: Arc::new(MockChecklistRepository::new()),
                    settings: Arc::new(self.settings),
                    billing: Arc::new(self.billing),
                    model: ChatModel::Configured(Arc::new(self.model)),
                    tree: Arc::new(MockCompanyTree::new()),
                    uow: Arc::new(noop_unit_of_work()),
                    audit: Arc::new(self.audit),
                    clock: Arc::new(clock),
                },
                ChatPolicy {
                    max_questions: MAX,
                    price_per_question: price,
                    mask_pii,
                },
            )
        }
    }

    fn valid_reply() -> Value {
        json!({"answer": "The card was blocked.", "citations": [{"turn": 2, "quote": "bloklandi"}]})
    }

    #[tokio::test]
    async fn an_answer_is_stored_with_its_question_count_and_charge() {
        let mut mocks = Mocks::new(3);
        let (actor, session) = (owner_of(&mocks.record), mocks.session.clone());
        mocks.answers(valid_reply(), Arc::default());
        mocks
            .chats
            .expect_take_question()
            .withf(|_, _, max, _| *max == MAX)
            .times(1)
            .returning(|_, _, _, _| Ok(QuestionSlot::Taken { number: 4 }));
        mocks
            .chats
            .expect_insert_messages()
            .withf(|_, messages| {
                messages.len() == 2
                    && (messages[0].seq, messages[1].seq) == (7, 8)
                    && messages[0].content == "Karta nega bloklandi?"
                    && messages[1].usage.is_some()
            })
            .times(1)
            .returning(|_, _| Ok(()));
        let company = session.company_id;
        mocks
            .billing
            .expect_reserve()
            .withf(move |_, c, amount| (*c, *amount) == (company, 500))
            .times(1)
            .returning(|_, _, _| Ok(true));
        mocks
            .billing
            .expect_settle()
            .withf(|_, charge, _| {
                matches!(charge.item, ChargeItem::ChatQuestion { .. })
                    && charge.key().starts_with("chat:")
                    && charge.amount == 500
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        mocks.billing.expect_release().never();
        let service = mocks.service(500, true);

        let answer = service
            .ask(
                &actor,
                session.id,
                " Karta nega bloklandi? ",
                &RequestMeta::default(),
            )
            .await
            .unwrap();
        assert_eq!(answer.remaining_questions, 6);
        assert_eq!(answer.language, Language::Uz);
        assert_eq!(answer.message.content, "The card was blocked.");
        assert_eq!(answer.message.citations.len(), 1);
    }

    #[tokio::test]
    async fn a_used_up_session_is_refused_before_the_model_is_asked() {
        let mut mocks = Mocks::new(MAX);
        let (actor, id) = (owner_of(&mocks.record), mocks.session.id);
        mocks.model.expect_complete().never();
        mocks.billing.expect_reserve().never();
        let service = mocks.service(500, true);
        let refused = service
            .ask(&actor, id, "Why?", &RequestMeta::default())
            .await;
        assert_eq!(refused, Err(DomainError::QuestionLimitReached { max: MAX }));
    }

    #[tokio::test]
    async fn losing_the_race_for_the_last_question_stores_nothing_and_releases() {
        let mut mocks = Mocks::new(MAX - 1);
        let (actor, id) = (owner_of(&mocks.record), mocks.session.id);
        mocks.answers(valid_reply(), Arc::default());
        mocks
            .chats
            .expect_take_question()
            .times(1)
            .returning(|_, _, _, _| Ok(QuestionSlot::LimitReached));
        mocks.chats.expect_insert_messages().never();
        mocks
            .billing
            .expect_reserve()
            .times(1)
            .returning(|_, _, _| Ok(true));
        mocks.billing.expect_settle().never();
        mocks
            .billing
            .expect_release()
            .withf(|_, _, amount| *amount == 500)
            .times(1)
            .returning(|_, _, _| Ok(()));
        let service = mocks.service(500, true);
        let refused = service
            .ask(&actor, id, "Why?", &RequestMeta::default())
            .await;
        assert_eq!(refused, Err(DomainError::QuestionLimitReached { max: MAX }));
    }

    #[tokio::test]
    async fn a_provider_failure_keeps_the_count_and_gives_the_money_back() {
        for (failure, expected) in [
            (
                ProviderError::Transient("HTTP 500".into()),
                DomainError::ProviderFailed("HTTP 500".into()),
            ),
            (
                ProviderError::RateLimited {
                    message: "HTTP 429".into(),
                    retry_after: Some(Duration::from_millis(29_500)),
                },
                DomainError::ProviderBusy {
                    retry_after_secs: 30,
                },
            ),
        ] {
            let mut mocks = Mocks::new(2);
            let (actor, id) = (owner_of(&mocks.record), mocks.session.id);
            mocks
                .model
                .expect_complete()
                .times(1)
                .returning(move |_| Err(failure.clone()));
            mocks.chats.expect_take_question().never();
            mocks.chats.expect_insert_messages().never();
            mocks
                .billing
                .expect_reserve()
                .times(1)
                .returning(|_, _, _| Ok(true));
            mocks
                .billing
                .expect_release()
                .times(1)
                .returning(|_, _, _| Ok(()));
            let service = mocks.service(500, true);
            let failed = service
                .ask(&actor, id, "Why?", &RequestMeta::default())
                .await;
            assert_eq!(failed, Err(expected));
        }
    }

    #[tokio::test]
    async fn a_malformed_reply_is_a_provider_failure() {
        let mut mocks = Mocks::new(0);
        let (actor, id) = (owner_of(&mocks.record), mocks.session.id);
        mocks.answers(json!({"text": "no schema"}), Arc::default());
        mocks.chats.expect_take_question().never();
        let service = mocks.service(0, true);
        let failed = service
            .ask(&actor, id, "Why?", &RequestMeta::default())
            .await;
        assert!(matches!(failed, Err(DomainError::ProviderFailed(_))));
    }

    #[tokio::test]
    async fn only_citations_found_in_the_transcript_are_kept() {
        let mut mocks = Mocks::new(0);
        let (actor, id) = (owner_of(&mocks.record), mocks.session.id);
        let reply = json!({
            "answer": "The card was blocked.",
            "citations": [
                {"turn": 2, "quote": "bloklandi"},
                {"turn": 1, "quote": "we will refund you"},
                {"turn": 9, "quote": "bloklandi"}
            ]
        });
        mocks.answers(reply, Arc::default());
        mocks
            .chats
            .expect_take_question()
            .returning(|_, _, _, _| Ok(QuestionSlot::Taken { number: 1 }));
        mocks
            .chats
            .expect_insert_messages()
            .returning(|_, _| Ok(()));
        let record = mocks.record.id;
        let service = mocks.service(0, true);
        let answer = service
            .ask(&actor, id, "Why?", &RequestMeta::default())
            .await
            .unwrap();
        assert_eq!(
            answer.message.citations,
            [crate::Citation {
                record_id: record,
                start_ms: 1000,
                end_ms: 4000,
                speaker: SpeakerRole::Customer,
                quote: "bloklandi".into(),
            }]
        );
    }

    #[tokio::test]
    async fn the_language_comes_from_the_question_else_from_the_setting() {
        for (setting, question, expected) in [
            (Some("ru"), "Почему клиент недоволен?", "Russian"),
            (Some("ru"), "Why is the client unhappy?", "English"),
            (Some("en"), "#12?", "English"),
            (Some("ru"), "#12?", "Russian"),
            (None, "#12?", "Uzbek"),
        ] {
            let mut mocks = Mocks::new(0);
            let (actor, id) = (owner_of(&mocks.record), mocks.session.id);
            let seen = Arc::new(Mutex::new(None));
            mocks.answers(valid_reply(), seen.clone());
            mocks
                .chats
                .expect_take_question()
                .returning(|_, _, _, _| Ok(QuestionSlot::Taken { number: 1 }));
            mocks
                .chats
                .expect_insert_messages()
                .returning(|_, _| Ok(()));
            let user = actor.account_id;
            mocks
                .settings
                .expect_find()
                .returning(move |_| Ok(setting.map(|language| settings(user, language))));
            let service = mocks.service(0, true);
            service
                .ask(&actor, id, question, &RequestMeta::default())
                .await
                .unwrap();
            let prompt = seen.lock().unwrap().take().unwrap();
            assert_eq!(prompt.messages[0].role, PromptRole::System);
            assert!(
                prompt.messages[0]
                    .content
                    .contains(&format!("Write the answer in {expected}")),
                "{question} with {setting:?}"
            );
        }
    }

    fn settings(user: AccountId, language: &str) -> UserSettings {
        UserSettings {
            user_id: user,
            email_notifications: true,
            sms_notifications: false,
            push_notifications: true,
            language: language.into(),
            timezone: "Asia/Tashkent".into(),
            auto_delete_records_after_days: None,
            preferred_stt_model: "whisper".into(),
            created_at: NOW,
            updated_at: NOW,
            row_version: RowVersion::default(),
        }
    }

    #[tokio::test]
    async fn card_numbers_leave_masked_unless_masking_is_off() {
        for (mask_pii, leaks) in [(true, false), (false, true)] {
            let mut mocks = Mocks::new(0);
            let (actor, id) = (owner_of(&mocks.record), mocks.session.id);
            let seen = Arc::new(Mutex::new(None));
            mocks.answers(valid_reply(), seen.clone());
            mocks
                .chats
                .expect_take_question()
                .returning(|_, _, _, _| Ok(QuestionSlot::Taken { number: 1 }));
            mocks
                .chats
                .expect_insert_messages()
                .returning(|_, _| Ok(()));
            let service = mocks.service(0, mask_pii);
            service
                .ask(
                    &actor,
                    id,
                    "Why was 8600 1234 5678 9012 blocked?",
                    &RequestMeta::default(),
                )
                .await
                .unwrap();
            let prompt = seen.lock().unwrap().take().unwrap();
            let sent: String = prompt.messages.iter().map(|m| m.content.as_str()).collect();
            assert_eq!(sent.contains("8600 1234 5678 9012"), leaks, "{sent}");
            assert_eq!(sent.contains("[card number]"), !leaks);
        }
    }

    #[tokio::test]
    async fn other_peoples_sessions_and_unseen_records_are_not_found() {
        let mocks = Mocks::new(0);
        let stranger = Actor {
            account_id: AccountId::generate(),
            role: Role::User,
            company_id: Some(mocks.record.company_id),
            grants: Vec::new(),
        };
        let (session, record) = (mocks.session.id, mocks.record.id);
        let mut tree = MockCompanyTree::new();
        tree.expect_lineage().returning(|company| Ok(vec![company]));
        let mut service = mocks.service(0, true);
        service.ports.tree = Arc::new(tree);
        let meta = RequestMeta::default();
        assert_eq!(
            service.session(&stranger, session).await,
            Err(DomainError::NotFound("chat session"))
        );
        assert_eq!(
            service.ask(&stranger, session, "Why?", &meta).await,
            Err(DomainError::NotFound("chat session"))
        );
        assert_eq!(
            service.open(&stranger, record, &meta).await,
            Err(DomainError::NotFound("record"))
        );
    }

    #[tokio::test]
    async fn a_question_must_be_short_and_not_blank() {
        let mocks = Mocks::new(0);
        let (actor, id) = (owner_of(&mocks.record), mocks.session.id);
        let service = mocks.service(0, true);
        for question in ["   ".to_owned(), "x".repeat(MAX_QUESTION_CHARS + 1)] {
            let refused = service
                .ask(&actor, id, &question, &RequestMeta::default())
                .await;
            assert!(matches!(refused, Err(DomainError::Validation(_))));
        }
    }
}
