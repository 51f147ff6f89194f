//! Local fake providers speaking the real wire formats (shared/EXTERNAL_APIS.md): an
//! OpenAI-compatible server (chat completions for analyses and AI chat, audio transcriptions)
//! and MohirAI. Tests script their replies: slow, rate limited with `Retry-After`, failing,
//! off-schema, or a chat answer of their own; the AI chat requests received can be read back.

use std::collections::VecDeque;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use dialix_api::config::{Config, MohirAiSettings, WhisperSettings};
use dialix_infrastructure::{ChatEndpoint, HttpPolicy};
use serde_json::{Value, json};

/// How the fake answers one call.
#[derive(Debug, Clone)]
pub enum Reply {
    /// The normal, valid answer.
    Ok,
    /// The normal answer after a delay.
    Slow(Duration),
    /// An error status, with `Retry-After` seconds when given.
    Status(u16, Option<u64>),
    /// A chat reply whose content is not the JSON the schema asks for.
    OffSchema,
    /// The normal answer, with this general analysis instead of [`analysis`].
    Analysis(Value),
    /// A transcription of these speaker-labelled segments (`[speaker, start s, end s, text]`).
    Transcript(Vec<(&'static str, f64, f64, &'static str)>),
    /// An AI chat answer with this content (`{"answer", "citations": [{"turn", "quote"}]}`)
    /// instead of [`chat_answer`].
    ChatAnswer(Value),
    /// A checklist review with these verdicts (`[item id, passed, evidence, at_ms]`); items
    /// not named pass, as in the normal review.
    Checklist(Vec<(&'static str, Option<bool>, &'static str, u64)>),
    /// Asked to stream: the normal answer, each chunk after this delay.
    SlowStream(Duration),
    /// Asked to stream: the connection drops after this many chunks of the normal answer.
    StreamBreaksAfter(usize),
}

/// How many characters of the reply one streamed chunk carries.
const STREAM_CHUNK_CHARS: usize = 8;

#[derive(Default)]
struct Script {
    chat: VecDeque<Reply>,
    transcription: VecDeque<Reply>,
    chat_calls: usize,
    /// The bodies of AI chat requests (schema `chat_answer`), in order.
    chat_answer_requests: Vec<Value>,
    transcription_calls: usize,
    mohirai_polls: usize,
}

/// A running fake; scripted replies are used in order, then `Reply::Ok` forever.
#[derive(Clone)]
pub struct FakeProviders {
    pub base_url: String,
    script: Arc<Mutex<Script>>,
}

impl FakeProviders {
    pub async fn start() -> Self {
        let script = Arc::new(Mutex::new(Script::default()));
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("an address").port();
        let data = web::Data::new(script.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
                .route("/v1/chat/completions", web::post().to(chat))
                .route(
                    "/openai/deployments/{deployment}/chat/completions",
                    web::post().to(azure_chat),
                )
                .route("/v1/audio/transcriptions", web::post().to(transcription))
                .route("/api/v1/stt", web::post().to(mohirai_submit))
                .route("/api/v1/tasks", web::get().to(mohirai_task))
        })
        .workers(1)
        .listen(listener)
        .expect("the fake listens")
        .run();
        tokio::spawn(server);
        Self {
            base_url: format!("http://127.0.0.1:{port}"),
            script,
        }
    }

    pub fn script_chat(&self, replies: impl IntoIterator<Item = Reply>) {
        self.script.lock().unwrap().chat.extend(replies);
    }

    pub fn script_transcription(&self, replies: impl IntoIterator<Item = Reply>) {
        self.script.lock().unwrap().transcription.extend(replies);
    }

    pub fn chat_calls(&self) -> usize {
        self.script.lock().unwrap().chat_calls
    }

    /// Every AI chat request received so far (the JSON bodies), oldest first.
    pub fn chat_answer_requests(&self) -> Vec<Value> {
        self.script.lock().unwrap().chat_answer_requests.clone()
    }

    pub fn transcription_calls(&self) -> usize {
        self.script.lock().unwrap().transcription_calls
    }
}

/// Points every provider of `config` at `fakes`, with short timeouts and one worker (jobs
/// then run in upload order).
pub fn use_fakes(config: &mut Config, fakes: &FakeProviders) {
    config.stt_models = vec!["whisper".into(), "mohirai".into()];
    config.providers.chat = Some(ChatEndpoint::OpenAi {
        base_url: format!("{}/v1", fakes.base_url),
        api_key: "test-key".into(),
        model: "gpt-test".into(),
    });
    config.providers.whisper = Some(WhisperSettings {
        base_url: fakes.base_url.clone(),
        api_key: "stt-key".into(),
        model: "whisper-test".into(),
    });
    config.providers.mohirai = Some(MohirAiSettings {
        base_url: fakes.base_url.clone(),
        api_key: "mohirai-key".into(),
        poll_interval: Duration::from_millis(50),
    });
    config.providers.http = HttpPolicy {
        timeout: Duration::from_secs(10),
        attempts: 2,
        backoff: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(2),
    };
    config.processing.workers = 1;
}

type Shared = web::Data<Arc<Mutex<Script>>>;

/// Applies a scripted reply: `Some(response)` to answer with it now, `None` to answer
/// normally.
async fn scripted(reply: Reply) -> Option<HttpResponse> {
    match reply {
        Reply::Ok
        | Reply::OffSchema
        | Reply::Analysis(_)
        | Reply::Transcript(_)
        | Reply::ChatAnswer(_)
        | Reply::Checklist(_)
        | Reply::SlowStream(_)
        | Reply::StreamBreaksAfter(_) => None,
        Reply::Slow(delay) => {
            tokio::time::sleep(delay).await;
            None
        }
        Reply::Status(status, retry_after) => {
            let mut response = HttpResponse::build(
                actix_web::http::StatusCode::from_u16(status).expect("a status"),
            );
            if let Some(seconds) = retry_after {
                response.insert_header(("Retry-After", seconds.to_string()));
            }
            Some(response.json(json!({"error": {"message": "scripted failure", "type": "server_error", "code": null}})))
        }
    }
}

/// The valid general analysis the fake model returns.
pub fn analysis() -> Value {
    json!({
        "sentiment_conversation": {"value": "positive", "reason": "polite and resolved"},
        "sentiment_client": {"value": "neutral", "reason": "asked about prices"},
        "sentiment_operator": {"value": "positive", "reason": "helpful"},
        "summary": "The customer asked about tariffs; the operator explained them.",
        "call_purpose": "other",
        "is_conversation_over": true,
        "is_customer_satisfied": true,
        "key_words": ["tarif", "narx"]
    })
}

/// The AI chat answer the fake model gives: about the fake transcript's second turn, cited.
pub fn chat_answer() -> Value {
    json!({
        "answer": "The customer wanted to know about the tariffs.",
        "citations": [{"turn": 2, "quote": "Tariflar haqida bilmoqchi edim."}]
    })
}

/// Passes every item the checklist schema names, except that items whose id ends in `.2` do
/// not apply; `scripted` verdicts replace those of the items they name.
fn checklist_verdicts(
    schema: &Value,
    scripted: &[(&'static str, Option<bool>, &'static str, u64)],
) -> Value {
    let ids = schema["properties"]["items"]["items"]["properties"]["item_id"]["enum"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let items: Vec<Value> = ids
        .iter()
        .map(|id| {
            if let Some((_, passed, evidence, at_ms)) = scripted
                .iter()
                .find(|(item, ..)| id.as_str() == Some(*item))
            {
                return json!({
                    "item_id": id, "passed": passed, "evidence": evidence, "at_ms": at_ms
                });
            }
            let not_applicable = id.as_str().is_some_and(|id| id.ends_with(".2"));
            json!({
                "item_id": id,
                "passed": if not_applicable { Value::Null } else { Value::Bool(true) },
                "evidence": "Assalomu alaykum.",
                "at_ms": 0
            })
        })
        .collect();
    json!({ "items": items })
}

async fn chat(script: Shared, req: HttpRequest, body: web::Json<Value>) -> HttpResponse {
    let authorised = req
        .headers()
        .get("authorization")
        .is_some_and(|v| v.to_str().unwrap_or_default().starts_with("Bearer "));
    complete(script, authorised, body.into_inner()).await
}

/// A chat completion in OpenAI's reply format, following the script.
async fn complete(script: Shared, authorised: bool, body: Value) -> HttpResponse {
    let chat_answer_asked = body["response_format"]["json_schema"]["name"] == "chat_answer";
    let reply = {
        let mut script = script.lock().unwrap();
        script.chat_calls += 1;
        if chat_answer_asked {
            script.chat_answer_requests.push(body.clone());
        }
        script.chat.pop_front().unwrap_or(Reply::Ok)
    };
    let schema_given = body["response_format"]["type"] == "json_schema"
        && body["response_format"]["json_schema"]["strict"] == true;
    // Analyses send a system and a user message; AI chat its instructions first and the
    // question last, with data and earlier turns between.
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let shaped = if chat_answer_asked {
        messages.len() >= 3
            && messages[0]["role"] == "system"
            && messages.last().is_some_and(|m| m["role"] == "user")
    } else {
        messages.len() == 2
    };
    if !authorised || !schema_given || !shaped {
        return HttpResponse::BadRequest().json(
            json!({"error": {"message": "malformed request", "type": "invalid_request_error"}}),
        );
    }
    let off_schema = matches!(reply, Reply::OffSchema);
    let general = match &reply {
        Reply::Analysis(general) => general.clone(),
        _ => analysis(),
    };
    let verdicts = match &reply {
        Reply::Checklist(verdicts) => verdicts.clone(),
        _ => Vec::new(),
    };
    let answer = match &reply {
        Reply::ChatAnswer(answer) => answer.clone(),
        _ => chat_answer(),
    };
    let streaming = match &reply {
        Reply::SlowStream(delay) => (*delay, None),
        Reply::StreamBreaksAfter(chunks) => (Duration::ZERO, Some(*chunks)),
        _ => (Duration::ZERO, None),
    };
    if let Some(response) = scripted(reply).await {
        return response;
    }
    let schema = &body["response_format"]["json_schema"];
    let content = if off_schema {
        json!({"summary": 42, "mood": "great"}).to_string()
    } else if chat_answer_asked {
        answer.to_string()
    } else if schema["name"] == "checklist_review" {
        checklist_verdicts(&schema["schema"], &verdicts).to_string()
    } else {
        general.to_string()
    };
    if body["stream"] == true {
        let (delay, breaks_after) = streaming;
        let with_usage = body["stream_options"]["include_usage"] == true;
        return streamed(content, delay, breaks_after, with_usage);
    }
    HttpResponse::Ok().json(json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": body["model"],
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150}
    }))
}

/// A streamed completion: `content` in chunks of [`STREAM_CHUNK_CHARS`] characters as
/// `data:` events, a last chunk with `finish_reason`, then `data: [DONE]`; each chunk after
/// `delay`, and the connection dropped after `breaks_after` chunks when given. Asked for usage,
/// it sends it as OpenAI does: a last chunk with no choices before `[DONE]`.
fn streamed(
    content: String,
    delay: Duration,
    breaks_after: Option<usize>,
    with_usage: bool,
) -> HttpResponse {
    let chars: Vec<char> = content.chars().collect();
    let mut events: Vec<String> = chars
        .chunks(STREAM_CHUNK_CHARS)
        .map(|piece| {
            let piece: String = piece.iter().collect();
            json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": null}]})
            .to_string()
        })
        .collect();
    events.push(
        json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        .to_string(),
    );
    if with_usage {
        events.push(
            json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "choices": [],
                "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}})
            .to_string(),
        );
    }
    events.push("[DONE]".to_owned());
    if let Some(chunks) = breaks_after {
        events.truncate(chunks);
    }
    let broken = breaks_after.is_some();
    let body = futures_util::stream::unfold(
        (events.into_iter(), broken),
        move |(mut events, broken)| async move {
            tokio::time::sleep(delay).await;
            let item = match events.next() {
                Some(data) => Ok(web::Bytes::from(format!("data: {data}\n\n"))),
                None if broken => Err(actix_web::error::ErrorInternalServerError("dropped")),
                None => return None,
            };
            // After an error actix drops the connection and polls no more.
            Some((item, (events, broken)))
        },
    );
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .streaming(body)
}

/// Azure OpenAI: the deployment in the path, `api-key` instead of Bearer, an api-version.
async fn azure_chat(
    script: Shared,
    req: HttpRequest,
    query: web::Query<Value>,
    body: web::Json<Value>,
) -> HttpResponse {
    let keyed =
        req.headers().get("api-key").is_some() && req.headers().get("authorization").is_none();
    if !keyed || query["api-version"].as_str().is_none() || body.get("model").is_some() {
        return HttpResponse::Unauthorized()
            .json(json!({"error": {"message": "not an Azure request"}}));
    }
    let mut openai_style = body.into_inner();
    openai_style["model"] = json!(req.match_info().get("deployment"));
    complete(script, true, openai_style).await
}

async fn transcription(script: Shared, body: web::Bytes) -> HttpResponse {
    let reply = {
        let mut script = script.lock().unwrap();
        script.transcription_calls += 1;
        script.transcription.pop_front().unwrap_or(Reply::Ok)
    };
    let text = String::from_utf8_lossy(&body);
    if !text.contains("verbose_json") || !text.contains("name=\"file\"") {
        return HttpResponse::BadRequest().json(json!({"error": {"message": "no file"}}));
    }
    let segments = match &reply {
        Reply::Transcript(segments) => segments.clone(),
        _ => vec![
            ("A", 0.0, 0.8, "Assalomu alaykum."),
            ("B", 1.0, 1.6, "Tariflar haqida bilmoqchi edim."),
            ("A", 1.7, 2.5, "Albatta, aytib beraman."),
        ],
    };
    if let Some(response) = scripted(reply).await {
        return response;
    }
    let text: Vec<&str> = segments.iter().map(|s| s.3).collect();
    let segments: Vec<Value> = segments
        .iter()
        .enumerate()
        .map(|(id, (speaker, start, end, text))| {
            json!({"id": id, "start": start, "end": end, "text": text, "speaker": speaker})
        })
        .collect();
    HttpResponse::Ok().json(json!({
        "task": "transcribe",
        "language": "uz",
        "duration": segments.last().map_or(json!(0.0), |s| s["end"].clone()),
        "text": text.join(" "),
        "segments": segments
    }))
}

async fn mohirai_submit(req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let key = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    if key.is_empty() || key.starts_with("Bearer ") || !text.contains("run_diarization") {
        return HttpResponse::Unauthorized().json(json!({"detail": "bad key or form"}));
    }
    HttpResponse::Ok().json(json!({"id": "task-42", "status": "PENDING"}))
}

async fn mohirai_task(script: Shared, query: web::Query<Value>) -> HttpResponse {
    if query["id"] != "task-42" {
        return HttpResponse::NotFound().json(json!({"detail": "no such task"}));
    }
    let polls = {
        let mut script = script.lock().unwrap();
        script.mohirai_polls += 1;
        script.mohirai_polls
    };
    if polls < 2 {
        return HttpResponse::Ok().json(json!({"id": "task-42", "status": "PROCESSING"}));
    }
    HttpResponse::Ok().json(json!({
        "id": "task-42",
        "status": "SUCCESS",
        "result": {
            "text": "Allo salom",
            "offsets": [
                {"speaker": "1", "word": "Allo", "start": 0.1, "end": 0.4},
                {"speaker": "0", "word": "salom", "start": "0.9", "end": "1.3"}
            ]
        }
    }))
}
