//! A chat answer as Server-Sent Events: `event: token` for each piece of the answer as the
//! model writes it, then `event: done` (an `AnswerResponse`, sent once the answer is stored)
//! or `event: error` (problem+json; nothing stored, no question used). A failure before the
//! first piece is an ordinary problem+json response with its status instead.

use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web::{self, Bytes};
use dialix_chat::TextSink;
use dialix_kernel::{Actor, ChatSessionId, DomainError};
use tokio::sync::mpsc;

use super::chat::AnswerResponse;
use crate::http::{ApiError, Meta};
use crate::state::AppState;

/// What the answering task tells the response.
enum StreamEvent {
    Token(String),
    Done(Box<AnswerResponse>),
    Failed(ApiError),
}

impl StreamEvent {
    fn encode(&self) -> Bytes {
        let (name, data) = match self {
            StreamEvent::Token(piece) => ("token", piece.clone()),
            StreamEvent::Done(answer) => ("done", json_text(answer)),
            StreamEvent::Failed(error) => ("error", json_text(&error.problem())),
        };
        Bytes::from(event(name, &data))
    }
}

fn json_text(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// One event; every line of `data` is a `data:` line (clients join them with line feeds),
/// so pieces holding line breaks arrive whole.
fn event(name: &str, data: &str) -> String {
    let mut out = format!("event: {name}\n");
    for line in data.replace("\r\n", "\n").replace('\r', "\n").split('\n') {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out
}

/// The response side of the stream; the receiver is dropped when the client goes away, which
/// the answering task sees at its next piece.
struct Listener(mpsc::UnboundedSender<StreamEvent>);

impl TextSink for Listener {
    fn send(&mut self, piece: &str) -> bool {
        self.0.send(StreamEvent::Token(piece.to_owned())).is_ok()
    }

    fn listening(&self) -> bool {
        !self.0.is_closed()
    }
}

/// Whether the client asked for the answer as Server-Sent Events.
pub fn wants_event_stream(req: &actix_web::HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"))
}

/// Answers `question` as a stream. The answering runs in a task of its own, so a client that
/// goes away does not cut it short: the task sees the closed stream, stops reading the model
/// and releases the question's price, storing nothing.
pub async fn answer_stream(
    state: web::Data<AppState>,
    actor: Actor,
    session: ChatSessionId,
    question: String,
    meta: Meta,
) -> Result<HttpResponse, ApiError> {
    let (sender, mut events) = mpsc::unbounded_channel();
    let listener = Box::new(Listener(sender.clone()));
    actix_web::rt::spawn(async move {
        let asked = state
            .chat
            .ask_streaming(&actor, session, &question, &meta, listener)
            .await;
        let last = match asked {
            Ok(Some(answer)) => StreamEvent::Done(Box::new(answer.into())),
            Ok(None) => return,
            Err(error) => StreamEvent::Failed(error.into()),
        };
        // A client gone by now has nothing left to be told.
        sender.send(last).ok();
    });
    let first = events
        .recv()
        .await
        .ok_or_else(|| DomainError::internal("the chat answer task ended without a word"))?;
    if let StreamEvent::Failed(error) = first {
        return Err(error);
    }
    let body = futures_util::stream::unfold((Some(first), events), |(first, mut events)| async {
        let next = match first {
            Some(event) => event,
            None => events.recv().await?,
        };
        Some((Ok::<_, actix_web::Error>(next.encode()), (None, events)))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body))
}
