use std::sync::Arc;

use dialix_account::SettingsRepository;
use dialix_audit::{AuditAction, AuditEvent, AuditLog, AuditedUnitOfWork};
use dialix_calls::{
    Billing, Charge, ChargeItem, Checklist, ChecklistRepository, ChecklistResult, ProviderError,
    Record, RecordRepository, Turn, normalise_phone, record_scope,
};
use dialix_grouping::{CallGroups, CallScope, NumberCall};
use dialix_kernel::{
    Actor, ChatMessageId, ChatSessionId, Clock, CompanyId, CompanyTree, DomainError, DomainResult,
    FieldErrors, Page, PageRequest, RecordId, RequestMeta, ResourceType, RowVersion, UnitOfWork,
    retry_on_stale,
};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::answer_text::AnswerPieces;
use crate::citations::{SourcedTurn, parse_answer};
use crate::language::detect;
use crate::prompt::{
    CallAnalysis, CallContent, CallData, PromptCalls, PromptInput, build_prompt, visible_turns,
};
use crate::suggestions::{SuggestionSource, suggested_questions};
use crate::{
    Answer, ChatMessage, ChatPolicy, ChatRepository, ChatReservation, ChatSession, ChatSubject,
    Completion, Language, LanguageModel, MAX_QUESTION_CHARS, MessageRole, Prompt, QuestionSlot,
    SessionTranscript, TextSink,
};

/// Told to callers when a rate-limiting provider did not say how long to wait.
const DEFAULT_RETRY_AFTER_SECS: u64 = 10;

/// A client number's session reads at most its newest this many calls: a bound on the work
/// per question (older calls would be reduced to summaries anyway).
const MAX_NUMBER_CALLS: u64 = 50;

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
    /// One client number's calls, for its sessions.
    pub groups: Arc<dyn CallGroups>,
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
    /// Prepended to 9-digit national numbers, as for uploads and the records search.
    default_country_code: String,
}

impl ChatService {
    pub fn new(ports: ChatPorts, policy: ChatPolicy, default_country_code: String) -> Self {
        let audited = AuditedUnitOfWork::new(ports.uow.clone(), ports.audit.clone());
        Self {
            ports,
            audited,
            policy,
            default_country_code,
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
        let subject = ChatSubject::Record(record.id);
        self.start(actor, record.company_id, subject, meta).await
    }

    /// Opens a session over every call of a client number (written in any form an upload
    /// accepts) the actor may see: `NotFound` when there is none, `Conflict` when none has a
    /// transcript. The company of the newest call pays for its questions.
    pub async fn open_for_number(
        &self,
        actor: &Actor,
        raw_phone: &str,
        meta: &RequestMeta,
    ) -> DomainResult<ChatSession> {
        self.model()?;
        let phone = normalise_phone(raw_phone, &self.default_country_code).ok_or_else(|| {
            FieldErrors::single(
                "client_phone_number",
                "must be a phone number, e.g. +998901234567 or 901234567",
            )
        })?;
        let calls = self.number_calls(actor, &phone).await?;
        let Some(newest) = calls.last() else {
            return Err(DomainError::NotFound("client number"));
        };
        let mut transcribed = false;
        for call in calls.iter().rev() {
            if let Some(record) = self.live_record(call.id).await?
                && transcript(&record).is_ok()
            {
                transcribed = true;
                break;
            }
        }
        if !transcribed {
            return Err(DomainError::conflict(
                "client_phone_number",
                "none of the number's calls has a transcript yet; chat needs a transcribed call",
            ));
        }
        let subject = ChatSubject::ClientNumber(phone);
        self.start(actor, newest.company_id, subject, meta).await
    }

    /// Stores a new session with its audit entry.
    async fn start(
        &self,
        actor: &Actor,
        company_id: CompanyId,
        subject: ChatSubject,
        meta: &RequestMeta,
    ) -> DomainResult<ChatSession> {
        let now = self.ports.clock.now();
        let session = ChatSession {
            id: ChatSessionId::generate(),
            owner_id: actor.account_id,
            company_id,
            subject,
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
        .details(subject_details(&session.subject))
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
        let mut details = subject_details(&session.subject);
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
        let pending = self.prepare(actor, id, question).await?;
        let reply = pending.model.complete(pending.prompt.clone()).await;
        self.finish(actor, &pending, reply, meta).await
    }

    /// [`ChatService::ask`] with the answer's words passed to `listener` as the model writes
    /// them. `Ok(None)` when the listener went away before the answer was complete: then
    /// nothing is stored, no question is used and the price is released.
    pub async fn ask_streaming(
        &self,
        actor: &Actor,
        id: ChatSessionId,
        question: &str,
        meta: &RequestMeta,
        listener: Box<dyn TextSink>,
    ) -> DomainResult<Option<Answer>> {
        let pending = self.prepare(actor, id, question).await?;
        let mut pieces: Box<dyn TextSink> = Box::new(AnswerPieces::new(listener));
        let reply = match pending
            .model
            .stream(pending.prompt.clone(), &mut pieces)
            .await
        {
            Ok(Some(completion)) if pieces.listening() => Ok(completion),
            Ok(_) => {
                self.give_back(&pending).await?;
                return Ok(None);
            }
            Err(error) => Err(error),
        };
        self.finish(actor, &pending, reply, meta).await.map(Some)
    }

    /// Checks a question, builds its prompt and reserves its price.
    async fn prepare(
        &self,
        actor: &Actor,
        id: ChatSessionId,
        question: &str,
    ) -> DomainResult<Pending> {
        let question = question.trim();
        check_question(question)?;
        let model = self.model()?;
        let session = self.owned_session(actor, id).await?;
        if self.remaining(&session) == 0 {
            return Err(self.limit_reached());
        }
        let language = match detect(question) {
            Some(language) => language,
            None => self.setting_language(actor).await?,
        };
        let earlier = self.ports.chats.messages(id).await?;
        let asked = Asking {
            earlier: &earlier,
            question,
            language,
        };
        let material = match &session.subject {
            ChatSubject::Record(record) => self.call_material(actor, *record, asked).await?,
            ChatSubject::ClientNumber(phone) => self.number_material(actor, phone, asked).await?,
        };
        let question_id = ChatMessageId::generate();
        let price = self.policy.price_per_question;
        if price > 0 {
            self.reserve(question_id, session.company_id, price).await?;
        }
        Ok(Pending {
            question_id,
            model,
            prompt: material.prompt,
            session,
            record: material.record,
            question: question.to_owned(),
            language,
            turns: material.turns,
        })
    }

    /// One call's prompt.
    async fn call_material(
        &self,
        actor: &Actor,
        record_id: RecordId,
        asked: Asking<'_>,
    ) -> DomainResult<Material> {
        let record = self.visible_record(actor, record_id).await?;
        let turns = visible_turns(transcript(&record)?, self.policy.mask_pii);
        let checklist = self.scored_checklist(&record).await?;
        let prompt = build_prompt(&asked.input(
            PromptCalls::One {
                turns: &turns,
                analysis: CallAnalysis {
                    general: record.payload.general.as_ref(),
                    checklist: checklist_pair(&record, checklist.as_ref()),
                },
            },
            self.policy.mask_pii,
        ));
        Ok(Material {
            prompt,
            record: record_id,
            turns: sourced(record_id, turns),
        })
    }

    /// A client number's prompt: its calls oldest first, the newest kept whole while their
    /// transcripts fit in `context_chars` (the newest transcribed call always), the older ones
    /// reduced to their summaries; calls with neither a transcript nor a summary are left
    /// out.
    async fn number_material(
        &self,
        actor: &Actor,
        phone: &str,
        asked: Asking<'_>,
    ) -> DomainResult<Material> {
        let mask = self.policy.mask_pii;
        let calls = self.number_calls(actor, phone).await?;
        if calls.is_empty() {
            return Err(DomainError::NotFound("client number"));
        }
        let mut whole: Vec<Option<(Record, Vec<Turn>)>> = calls.iter().map(|_| None).collect();
        let mut used = 0;
        for (slot, call) in whole.iter_mut().zip(&calls).rev() {
            let Some(record) = self.live_record(call.id).await? else {
                continue;
            };
            let Ok(transcript) = transcript(&record) else {
                continue;
            };
            let turns = visible_turns(transcript, mask);
            let size: usize = turns.iter().map(|t| t.text.chars().count()).sum();
            if used > 0 && used + size > self.policy.context_chars {
                break;
            }
            used += size;
            *slot = Some((record, turns));
        }
        let newest_whole = whole
            .iter()
            .rev()
            .find_map(|w| w.as_ref().map(|(record, _)| record.id))
            .ok_or_else(|| {
                DomainError::conflict(
                    "client_phone_number",
                    "none of the number's calls has a transcript any more",
                )
            })?;
        let mut turns = Vec::new();
        let mut data = Vec::new();
        for (call, kept) in calls.iter().zip(&whole) {
            let content = match kept {
                Some((record, call_turns)) => {
                    turns.extend(sourced(record.id, call_turns.clone()));
                    CallContent::Whole {
                        turns: call_turns,
                        general: record.payload.general.as_ref(),
                    }
                }
                None if call.summary.is_some() => CallContent::Summary(call.summary.as_deref()),
                None => continue,
            };
            data.push(CallData {
                record: call.id,
                call_at: call.call_at,
                content,
            });
        }
        let prompt = build_prompt(&asked.input(PromptCalls::Number(&data), mask));
        Ok(Material {
            prompt,
            record: newest_whole,
            turns,
        })
    }

    /// The newest [`MAX_NUMBER_CALLS`] calls of a (normalised) number in the actor's records
    /// scope, oldest first.
    async fn number_calls(&self, actor: &Actor, phone: &str) -> DomainResult<Vec<NumberCall>> {
        let scope = CallScope {
            records: record_scope(self.ports.tree.as_ref(), actor).await?,
            companies: None,
        };
        let groups = &self.ports.groups;
        let mut page = PageRequest {
            limit: MAX_NUMBER_CALLS,
            offset: 0,
        };
        let first = groups.calls_of_number(&scope, phone, page).await?;
        if first.total <= MAX_NUMBER_CALLS {
            return Ok(first.items);
        }
        page.offset = first.total - MAX_NUMBER_CALLS;
        Ok(groups.calls_of_number(&scope, phone, page).await?.items)
    }

    /// Stores the exchange if the model answered usably, else releases the reservation.
    async fn finish(
        &self,
        actor: &Actor,
        pending: &Pending,
        reply: Result<Completion, ProviderError>,
        meta: &RequestMeta,
    ) -> DomainResult<Answer> {
        let answered = match reply {
            Ok(completion) => self.answer(actor, completion, pending, meta).await,
            Err(error) => Err(provider_failure(error)),
        };
        if answered.is_err() {
            self.give_back(pending).await?;
        }
        answered
    }

    /// Releases a question's reservation, if it has a price.
    async fn give_back(&self, pending: &Pending) -> DomainResult<()> {
        let price = self.policy.price_per_question;
        if price > 0 {
            self.release(pending.question_id, pending.session.company_id, price)
                .await?;
        }
        Ok(())
    }

    /// Stores the model's answer (see [`ChatService::ask`]).
    async fn answer(
        &self,
        actor: &Actor,
        completion: Completion,
        asked: &Pending,
        meta: &RequestMeta,
    ) -> DomainResult<Answer> {
        let Completion { content, usage } = completion;
        let (text, citations) = parse_answer(&content, &asked.turns).map_err(|problem| {
            DomainError::ProviderFailed(format!("the chat model's reply did not fit: {problem}"))
        })?;
        let max = self.policy.max_questions;
        let session = &asked.session;
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
        let question = ChatMessage {
            id: asked.question_id,
            ..message(2 * number - 1, MessageRole::User, asked.question.clone())
        };
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
            // Only a sweep that took this question for abandoned can have released its
            // reservation meanwhile; then the price is reserved anew before it is charged.
            let reserved = self
                .ports
                .chats
                .delete_reservation(tx.as_mut(), asked.question_id)
                .await?;
            if !reserved
                && !self
                    .ports
                    .billing
                    .reserve(tx.as_mut(), session.company_id, price)
                    .await?
            {
                return Err(payment_required(price));
            }
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
        let mut details = subject_details(&session.subject);
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

    async fn visible_record(&self, actor: &Actor, id: RecordId) -> DomainResult<Record> {
        dialix_calls::visible_record(
            self.ports.records.as_ref(),
            self.ports.tree.as_ref(),
            actor,
            id,
        )
        .await
    }

    /// An undeleted record, whoever's it is.
    async fn live_record(&self, id: RecordId) -> DomainResult<Option<Record>> {
        Ok(self
            .ports
            .records
            .find(id)
            .await?
            .filter(|r| r.deleted_at.is_none()))
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
    /// The reservation's row is written in the same transaction, so that money held for a
    /// question whose process dies is not held forever.
    async fn reserve(
        &self,
        id: ChatMessageId,
        company: CompanyId,
        amount: i64,
    ) -> DomainResult<()> {
        let mut tx = self.ports.uow.begin().await?;
        if !self
            .ports
            .billing
            .reserve(tx.as_mut(), company, amount)
            .await?
        {
            return Err(payment_required(amount));
        }
        let reservation = ChatReservation {
            id,
            company_id: company,
            amount,
            created_at: self.ports.clock.now(),
        };
        self.ports
            .chats
            .insert_reservation(tx.as_mut(), &reservation)
            .await?;
        tx.commit().await
    }

    /// Gives a question's reservation back (no answer was stored), unless its row is already
    /// gone: then it was settled or released by someone else, and releasing again would free
    /// money that is no longer reserved.
    async fn release(
        &self,
        id: ChatMessageId,
        company: CompanyId,
        amount: i64,
    ) -> DomainResult<bool> {
        let mut tx = self.ports.uow.begin().await?;
        if !self.ports.chats.delete_reservation(tx.as_mut(), id).await? {
            return Ok(false);
        }
        self.ports
            .billing
            .release(tx.as_mut(), company, amount)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Gives back the reservations of questions asked before `before` that were neither
    /// answered nor given back: their process died while the model answered. `before` must
    /// lie further back than any question can take. Each is released in its own transaction
    /// that deletes its row first, so one settled meanwhile is left alone. Returns those
    /// released.
    pub async fn release_abandoned(
        &self,
        before: OffsetDateTime,
    ) -> DomainResult<Vec<ChatReservation>> {
        let mut released = Vec::new();
        for reservation in self.ports.chats.reservations_before(before).await? {
            if self
                .release(reservation.id, reservation.company_id, reservation.amount)
                .await?
            {
                released.push(reservation);
            }
        }
        Ok(released)
    }
}

fn payment_required(amount: i64) -> DomainError {
    DomainError::PaymentRequired(format!(
        "the balance does not cover a chat question ({amount} minor units)"
    ))
}

/// A question whose price is reserved, waiting for the model's answer.
struct Pending {
    /// The question's message id, also its reservation's.
    question_id: ChatMessageId,
    model: Arc<dyn LanguageModel>,
    prompt: Prompt,
    session: ChatSession,
    /// The call the charge names (a client number's: the newest call given whole).
    record: RecordId,
    question: String,
    language: Language,
    /// The transcripts' turns as the model saw and numbered them.
    turns: Vec<SourcedTurn>,
}

/// What the question adds to the calls in a prompt.
#[derive(Clone, Copy)]
struct Asking<'a> {
    earlier: &'a [ChatMessage],
    question: &'a str,
    language: Language,
}

impl<'a> Asking<'a> {
    fn input(self, calls: PromptCalls<'a>, mask_pii: bool) -> PromptInput<'a> {
        PromptInput {
            calls,
            earlier: self.earlier,
            question: self.question,
            language: self.language,
            mask_pii,
        }
    }
}

/// A subject's prompt with the turns it numbers and the call a charge names.
struct Material {
    prompt: Prompt,
    record: RecordId,
    turns: Vec<SourcedTurn>,
}

fn sourced(record: RecordId, turns: Vec<Turn>) -> Vec<SourcedTurn> {
    turns
        .into_iter()
        .map(|turn| SourcedTurn { record, turn })
        .collect()
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

/// The subject as the activity log names it. A client number is personal data and the log
/// is append-only: it says only that the session is about a number.
fn subject_details(subject: &ChatSubject) -> Value {
    match subject {
        ChatSubject::Record(record) => json!({"record_id": record}),
        ChatSubject::ClientNumber(_) => json!({"subject": "client_number"}),
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
    use dialix_grouping::MockCallGroups;
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

        /// A priced question's reservation row: written once with the reservation (keyed by
        /// the question's message id), deleted once with the settle or the release.
        fn reservation_row(&mut self, price: i64) -> Arc<Mutex<Option<ChatMessageId>>> {
            let company = self.session.company_id;
            let written: Arc<Mutex<Option<ChatMessageId>>> = Arc::default();
            let kept = written.clone();
            self.chats
                .expect_insert_reservation()
                .withf(move |_, r| (r.company_id, r.amount, r.created_at) == (company, price, NOW))
                .times(1)
                .returning(move |_, r| {
                    *kept.lock().unwrap() = Some(r.id);
                    Ok(())
                });
            let kept = written.clone();
            self.chats
                .expect_delete_reservation()
                .withf(move |_, id| *kept.lock().unwrap() == Some(*id))
                .times(1)
                .returning(|_, _| Ok(true));
            written
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
                    groups: Arc::new(MockCallGroups::new()),
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
                    context_chars: 100_000,
                },
                "998".into(),
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
        let reservation = mocks.reservation_row(500);
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
        assert!(reservation.lock().unwrap().is_some());
    }

    /// Keeps the pieces it is sent and leaves after `stay` of them.
    struct Listener {
        pieces: Arc<Mutex<Vec<String>>>,
        stay: usize,
    }

    impl TextSink for Listener {
        fn send(&mut self, piece: &str) -> bool {
            let mut pieces = self.pieces.lock().unwrap();
            if pieces.len() >= self.stay {
                return false;
            }
            pieces.push(piece.to_owned());
            true
        }

        fn listening(&self) -> bool {
            self.pieces.lock().unwrap().len() < self.stay
        }
    }

    /// The model streams `valid_reply()` in pieces of five characters.
    fn streams(mocks: &mut Mocks) {
        mocks.model.expect_stream().times(1).returning(|_, sink| {
            let reply: Vec<char> = valid_reply().to_string().chars().collect();
            for piece in reply.chunks(5) {
                if !sink.send(&piece.iter().collect::<String>()) {
                    return Ok(None);
                }
            }
            Ok(Some(Completion {
                content: valid_reply().to_string(),
                usage: None,
            }))
        });
    }

    #[tokio::test]
    async fn a_streamed_answer_passes_on_only_the_answer_text_and_is_stored() {
        let mut mocks = Mocks::new(0);
        let (actor, id) = (owner_of(&mocks.record), mocks.session.id);
        streams(&mut mocks);
        mocks
            .chats
            .expect_take_question()
            .times(1)
            .returning(|_, _, _, _| Ok(QuestionSlot::Taken { number: 1 }));
        mocks
            .chats
            .expect_insert_messages()
            .times(1)
            .returning(|_, _| Ok(()));
        let service = mocks.service(0, true);
        let pieces = Arc::default();
        let listener = Box::new(Listener {
            pieces: Arc::clone(&pieces),
            stay: usize::MAX,
        });
        let answer = service
            .ask_streaming(&actor, id, "Why?", &RequestMeta::default(), listener)
            .await
            .unwrap()
            .expect("answered");
        let pieces = pieces.lock().unwrap();
        assert!(pieces.len() > 1, "{pieces:?}");
        assert_eq!(pieces.concat(), answer.message.content);
    }

    #[tokio::test]
    async fn a_listener_that_leaves_mid_stream_uses_no_question_and_gets_the_money_back() {
        let mut mocks = Mocks::new(0);
        let (actor, id) = (owner_of(&mocks.record), mocks.session.id);
        streams(&mut mocks);
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
        mocks.reservation_row(500);
        let service = mocks.service(500, true);
        let listener = Box::new(Listener {
            pieces: Arc::default(),
            stay: 1,
        });
        let left = service
            .ask_streaming(&actor, id, "Why?", &RequestMeta::default(), listener)
            .await;
        assert_eq!(left, Ok(None));
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
        mocks.reservation_row(500);
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
            mocks.reservation_row(500);
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

    fn reservation(amount: i64, created_at: OffsetDateTime) -> ChatReservation {
        ChatReservation {
            id: ChatMessageId::generate(),
            company_id: CompanyId::generate(),
            amount,
            created_at,
        }
    }

    #[tokio::test]
    async fn the_sweep_releases_old_reservations_unless_their_row_is_already_gone() {
        let before = NOW - Duration::from_secs(30 * 60);
        let old = reservation(500, before - Duration::from_secs(60));
        let settled = reservation(700, before - Duration::from_secs(30));
        let young = reservation(900, before + Duration::from_secs(60));
        let mut mocks = Mocks::new(0);
        let rows = [old.clone(), settled.clone(), young];
        // The repository's condition, as the adapter applies it.
        mocks
            .chats
            .expect_reservations_before()
            .times(1)
            .returning(move |cutoff| {
                Ok(rows
                    .iter()
                    .filter(|r| r.created_at < cutoff)
                    .cloned()
                    .collect())
            });
        let (old_id, settled_id) = (old.id, settled.id);
        mocks
            .chats
            .expect_delete_reservation()
            .withf(move |_, id| *id == old_id)
            .times(1)
            .returning(|_, _| Ok(true));
        // Settled (or released) by the question's own transaction meanwhile.
        mocks
            .chats
            .expect_delete_reservation()
            .withf(move |_, id| *id == settled_id)
            .times(1)
            .returning(|_, _| Ok(false));
        let (company, amount) = (old.company_id, old.amount);
        mocks
            .billing
            .expect_release()
            .withf(move |_, c, a| (*c, *a) == (company, amount))
            .times(1)
            .returning(|_, _, _| Ok(()));
        let service = mocks.service(500, true);

        let released = service.release_abandoned(before).await.unwrap();
        assert_eq!(released, vec![old]);
    }

    #[tokio::test]
    async fn an_answer_whose_reservation_was_swept_reserves_its_price_again() {
        let mut mocks = Mocks::new(0);
        let (actor, id) = (owner_of(&mocks.record), mocks.session.id);
        mocks.answers(valid_reply(), Arc::default());
        mocks
            .chats
            .expect_take_question()
            .returning(|_, _, _, _| Ok(QuestionSlot::Taken { number: 1 }));
        mocks
            .chats
            .expect_insert_messages()
            .returning(|_, _| Ok(()));
        mocks
            .chats
            .expect_insert_reservation()
            .times(1)
            .returning(|_, _| Ok(()));
        mocks
            .chats
            .expect_delete_reservation()
            .times(1)
            .returning(|_, _| Ok(false));
        mocks
            .billing
            .expect_reserve()
            .times(2)
            .returning(|_, _, _| Ok(true));
        mocks
            .billing
            .expect_settle()
            .times(1)
            .returning(|_, _, _| Ok(()));
        mocks.billing.expect_release().never();
        let service = mocks.service(500, true);

        let answer = service
            .ask(&actor, id, "Why?", &RequestMeta::default())
            .await;
        assert!(answer.is_ok());
    }
}
