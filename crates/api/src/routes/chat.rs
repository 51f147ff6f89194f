//! AI chat about a call: sessions, questions with checked citations, suggested questions.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use dialix_chat::{
    Answer, ChatMessage, ChatSession, ChatSubject, Citation, MAX_QUESTION_CHARS, MessageRole,
    SessionTranscript,
};
use dialix_kernel::{ChatSessionId, DomainError, FieldErrors, RecordId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::chat_stream::{answer_stream, wants_event_stream};
use super::pages::{PageOf, PageQuery};
use super::records::content::SpeakerRole;
use super::settings::Language;
use crate::http::{ApiError, Authenticated, Meta, Problem};
use crate::state::AppState;

/// What to talk about: exactly one of a call and a client number.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenSessionRequest {
    /// One call.
    record_id: Option<Uuid>,
    /// Every call of this client number the caller may see (any form an upload accepts,
    /// e.g. `+998901234567` or `901234567`).
    #[schema(example = "+998901234567")]
    client_phone_number: Option<String>,
}

/// A chat session.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ChatSessionResponse {
    session_id: Uuid,
    /// The call the session is about (`null` for a client number's session).
    record_id: Option<Uuid>,
    /// The client number (E.164) whose calls the session is about (`null` for one call's).
    client_phone_number: Option<String>,
    questions_used: u32,
    /// Questions still allowed (`MAX_QUESTIONS_PER_SESSION` in all).
    remaining_questions: u32,
    #[serde(with = "crate::http::timestamp")]
    created_at: OffsetDateTime,
    /// The last answer's time (the creation time before the first).
    #[serde(with = "crate::http::timestamp")]
    updated_at: OffsetDateTime,
}

impl ChatSessionResponse {
    fn new(session: &ChatSession, remaining_questions: u32) -> Self {
        let (record_id, client_phone_number) = match &session.subject {
            ChatSubject::Record(record) => (Some(record.as_uuid()), None),
            ChatSubject::ClientNumber(phone) => (None, Some(phone.clone())),
        };
        Self {
            session_id: session.id.as_uuid(),
            record_id,
            client_phone_number,
            questions_used: session.questions_used,
            remaining_questions,
            created_at: session.created_at,
            updated_at: session.updated_at,
        }
    }
}

/// Where in the call an answer's statement comes from.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct CitationResponse {
    record_id: Uuid,
    /// The cited turn's start, in milliseconds from the start of the call.
    start_ms: u64,
    end_ms: u64,
    speaker: SpeakerRole,
    /// Words of that turn (card and phone numbers masked when `CHAT_MASK_PII` is on).
    quote: String,
}

impl From<Citation> for CitationResponse {
    fn from(citation: Citation) -> Self {
        Self {
            record_id: citation.record_id.as_uuid(),
            start_ms: citation.start_ms,
            end_ms: citation.end_ms,
            speaker: citation.speaker.into(),
            quote: citation.quote,
        }
    }
}

/// A question to ask.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskRequest {
    /// The question, in Uzbek, Russian or English (the answer comes in the same language).
    #[schema(min_length = 1, max_length = 2000)]
    message: String,
}

// The documented length is the one the service enforces.
const _: () = assert!(MAX_QUESTION_CHARS == 2000);

/// The model's answer.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct AnswerResponse {
    message_id: Uuid,
    /// The answer; it says so when the call does not contain one.
    response: String,
    /// The language of the answer: the question's, or the caller's setting when the question
    /// does not show it.
    language: Language,
    remaining_questions: u32,
    /// The turns the answer relies on; only citations found in the transcript are kept.
    citations: Vec<CitationResponse>,
}

impl From<Answer> for AnswerResponse {
    fn from(answer: Answer) -> Self {
        Self {
            message_id: answer.message.id.as_uuid(),
            response: answer.message.content,
            language: answer.language.into(),
            remaining_questions: answer.remaining_questions,
            citations: answer
                .message
                .citations
                .into_iter()
                .map(Into::into)
                .collect(),
        }
    }
}

/// Who wrote a message.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    /// The user's question.
    User,
    /// The model's answer.
    Assistant,
}

/// A question or an answer.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ChatMessageResponse {
    id: Uuid,
    role: ChatRole,
    content: String,
    /// An answer's citations; empty for questions.
    citations: Vec<CitationResponse>,
    #[serde(with = "crate::http::timestamp")]
    created_at: OffsetDateTime,
}

impl From<ChatMessage> for ChatMessageResponse {
    fn from(message: ChatMessage) -> Self {
        Self {
            id: message.id.as_uuid(),
            role: match message.role {
                MessageRole::User => ChatRole::User,
                MessageRole::Assistant => ChatRole::Assistant,
            },
            content: message.content,
            citations: message.citations.into_iter().map(Into::into).collect(),
            created_at: message.created_at,
        }
    }
}

/// A session with its messages in order.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ChatSessionDetail {
    #[serde(flatten)]
    session: ChatSessionResponse,
    messages: Vec<ChatMessageResponse>,
}

/// Open a chat session about a call the caller may see, or about every call of a client
/// number the caller may see (oldest first; when they do not fit the model's context,
/// `CHAT_CONTEXT_CHARS`, the newest are given whole and older ones by their summaries). The
/// call, or at least one of the number's calls, needs a transcript.
#[utoipa::path(
    tag = "chat",
    security(("bearer" = [])),
    request_body = OpenSessionRequest,
    responses(
        (status = 201, description = "Opened", body = ChatSessionResponse),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record, or no call of the number, visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The record (or every call of the number) has no transcript (yet)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid body: not exactly one of record_id and client_phone_number, or not a phone number", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "AI chat is not configured (the detail names the settings)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/chat/session")]
pub async fn open_session(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    body: web::Json<OpenSessionRequest>,
) -> Result<HttpResponse, ApiError> {
    let actor = &caller.actor;
    let session = match (body.record_id, body.client_phone_number.as_deref()) {
        (Some(record), None) => {
            let record = RecordId::from_uuid(record);
            state.chat.open(actor, record, &meta).await?
        }
        (None, Some(phone)) => state.chat.open_for_number(actor, phone, &meta).await?,
        _ => {
            return Err(FieldErrors::single(
                "body",
                "give exactly one of record_id and client_phone_number",
            )
            .into());
        }
    };
    let remaining = state.chat.remaining(&session);
    Ok(HttpResponse::Created().json(ChatSessionResponse::new(&session, remaining)))
}

/// Ask a question about the session's call. The answer comes from the call only, cites the
/// turns it relies on and says so when the call does not contain the answer. The question
/// counts (and is charged `PRICE_CHAT_PER_QUESTION`) only when its answer is stored.
///
/// With `Accept: text/event-stream` the answer streams as Server-Sent Events: `event: token`
/// whose `data` is the next piece of the answer's text (the pieces join to `response`), then
/// `event: done` with the `AnswerResponse` once the answer is stored, or `event: error` with a
/// problem+json body when the model fails mid-stream (nothing stored, no question used). A
/// failure before the first piece is an ordinary problem+json response. A client that goes
/// away before `done` uses no question.
#[utoipa::path(
    tag = "chat",
    security(("bearer" = [])),
    params(
        ("session_id" = Uuid, Path, description = "The session"),
        ("Accept" = Option<String>, Header, description = "`text/event-stream` to stream the answer"),
    ),
    request_body = AskRequest,
    responses(
        (status = 200, description = "The answer, whole (JSON) or streamed (Server-Sent Events: `token` pieces, then `done` with an AnswerResponse or `error` with a Problem)", content(
            (AnswerResponse = "application/json"),
            (String = "text/event-stream"),
        )),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 402, description = "The company balance does not cover a question", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session of the caller, or its call is gone", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The call's transcript was removed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The question is empty or too long", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Every question of the session is used (`/problems/question-limit-reached`)", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The language model failed or answered unusably; nothing stored", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The language model is rate limiting (`Retry-After`), or chat is not configured; nothing stored", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/chat/{session_id}/message")]
pub async fn ask(
    state: web::Data<AppState>,
    req: HttpRequest,
    meta: Meta,
    caller: Authenticated,
    path: web::Path<ChatSessionId>,
    body: web::Json<AskRequest>,
) -> Result<HttpResponse, ApiError> {
    let (actor, session, question) = (caller.actor, path.into_inner(), body.into_inner().message);
    if wants_event_stream(&req) {
        return answer_stream(state, actor, session, question, meta).await;
    }
    // Run to the end even if the client goes away meanwhile: a reserved price is then always
    // either charged with a stored answer or released, never left held.
    let answer =
        actix_web::rt::spawn(
            async move { state.chat.ask(&actor, session, &question, &meta).await },
        )
        .await
        .map_err(|e| DomainError::caused("answering a chat question", e))??;
    Ok(HttpResponse::Ok().json(AnswerResponse::from(answer)))
}

/// The caller's chat sessions, newest first.
#[utoipa::path(
    tag = "chat",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "Sessions", body = PageOf<ChatSessionResponse>),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid paging", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/chat/sessions")]
pub async fn list_sessions(
    state: web::Data<AppState>,
    caller: Authenticated,
    query: web::Query<PageQuery>,
) -> Result<web::Json<PageOf<ChatSessionResponse>>, ApiError> {
    let page = query.parse()?;
    let sessions = state.chat.sessions(&caller.actor, page).await?;
    Ok(web::Json(PageOf::from_page(sessions, |session| {
        ChatSessionResponse::new(&session, state.chat.remaining(&session))
    })))
}

/// One of the caller's sessions with its questions and answers.
#[utoipa::path(
    tag = "chat",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The session")),
    responses(
        (status = 200, description = "The session", body = ChatSessionDetail),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session of the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/chat/session/{id}")]
pub async fn get_session(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<ChatSessionId>,
) -> Result<web::Json<ChatSessionDetail>, ApiError> {
    let SessionTranscript { session, messages } =
        state.chat.session(&caller.actor, path.into_inner()).await?;
    Ok(web::Json(ChatSessionDetail {
        session: ChatSessionResponse::new(&session, state.chat.remaining(&session)),
        messages: messages.into_iter().map(Into::into).collect(),
    }))
}

/// Delete one of the caller's sessions.
#[utoipa::path(
    tag = "chat",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The session")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session of the caller", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/chat/session/{id}")]
pub async fn delete_session(
    state: web::Data<AppState>,
    meta: Meta,
    caller: Authenticated,
    path: web::Path<ChatSessionId>,
) -> Result<HttpResponse, ApiError> {
    state
        .chat
        .delete(&caller.actor, path.into_inner(), &meta)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The language of the suggested questions.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SuggestionQuery {
    /// Default: the caller's language setting.
    #[param(value_type = Option<Language>)]
    language: Option<String>,
}

/// Questions worth asking about a call.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct SuggestedQuestions {
    record_id: Uuid,
    language: Language,
    /// Five to seven questions, the call's own first.
    questions: Vec<String>,
}

/// Five to seven questions about a call, built from its analysis (negative client sentiment,
/// failed checklist items, its purpose, an unfinished conversation, key words) without a
/// model call.
#[utoipa::path(
    tag = "chat",
    security(("bearer" = [])),
    params(("record_id" = Uuid, Path, description = "The call"), SuggestionQuery),
    responses(
        (status = 200, description = "The questions", body = SuggestedQuestions),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record visible to the caller", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The record has no transcript (yet)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown language", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/chat/suggested-questions/{record_id}")]
pub async fn suggested_questions(
    state: web::Data<AppState>,
    caller: Authenticated,
    path: web::Path<RecordId>,
    query: web::Query<SuggestionQuery>,
) -> Result<web::Json<SuggestedQuestions>, ApiError> {
    let language = match query.language.as_deref().map(str::trim) {
        None => None,
        Some(raw) => Some(
            dialix_chat::Language::parse(raw)
                .ok_or_else(|| FieldErrors::single("language", "must be uz, ru or en"))?,
        ),
    };
    let record = path.into_inner();
    let (language, questions) = state
        .chat
        .suggested_questions(&caller.actor, record, language)
        .await?;
    Ok(web::Json(SuggestedQuestions {
        record_id: record.as_uuid(),
        language: language.into(),
        questions,
    }))
}

impl From<dialix_chat::Language> for Language {
    fn from(language: dialix_chat::Language) -> Self {
        match language {
            dialix_chat::Language::Uz => Self::Uz,
            dialix_chat::Language::Ru => Self::Ru,
            dialix_chat::Language::En => Self::En,
        }
    }
}
