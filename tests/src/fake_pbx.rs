//! A local fake OnlinePBX speaking its wire format (shared/EXTERNAL_APIS.md): form-encoded
//! POSTs under `/{domain}/`, `status: "1"`/`"0"` replies, session keys from `auth.json` that a
//! test can expire, the call history with a download link per recording, and the recordings
//! themselves, which a test can make slow or failing.

use std::collections::{HashMap, HashSet};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use bytes::Bytes;
use serde_json::{Value, json};

/// The PBX's domain the fake answers under.
pub const FAKE_PBX_DOMAIN: &str = "demo.onpbx.ru";

/// One call of the fake's history.
#[derive(Debug, Clone)]
pub struct FakeCall {
    pub uuid: String,
    pub caller: String,
    pub destination: String,
    /// Unix seconds.
    pub start: i64,
    pub duration: i64,
    pub talk: i64,
    /// `accountcode`: "inbound", "outbound" or anything else (internal).
    pub direction: &'static str,
    pub audio: Bytes,
}

#[derive(Default)]
struct State {
    api_key: String,
    base_url: String,
    calls: Vec<FakeCall>,
    users: Vec<(String, String)>,
    /// Live `key_id:key` pairs.
    sessions: HashSet<String>,
    sessions_issued: usize,
    /// Per call: failures still to give and their HTTP status.
    download_failures: HashMap<String, (usize, u16)>,
    download_delay: Duration,
    auth_calls: usize,
    search_calls: usize,
    download_calls: usize,
}

/// A running fake PBX.
#[derive(Clone)]
pub struct FakePbx {
    pub base_url: String,
    pub domain: String,
    state: Arc<Mutex<State>>,
}

type Shared = web::Data<Arc<Mutex<State>>>;
type FormFields = web::Form<HashMap<String, String>>;

impl FakePbx {
    /// Starts the fake, accepting `api_key` at `auth.json`.
    pub async fn start(api_key: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("an address").port();
        let base_url = format!("http://127.0.0.1:{port}");
        let state = Arc::new(Mutex::new(State {
            api_key: api_key.to_owned(),
            base_url: base_url.clone(),
            ..State::default()
        }));
        let data = web::Data::new(state.clone());
        let server = HttpServer::new(move || {
            // Only form-encoded bodies are read; anything else is a 400, as the PBX's API
            // does not take JSON.
            let forms = web::FormConfig::default()
                .error_handler(|error, _| actix_web::error::ErrorBadRequest(error));
            App::new()
                .app_data(data.clone())
                .app_data(forms)
                .route("/{domain}/auth.json", web::post().to(auth))
                .route(
                    "/{domain}/mongo_history/search.json",
                    web::post().to(search),
                )
                .route("/{domain}/user/get.json", web::post().to(users))
                .route("/records/{file}", web::get().to(recording))
        })
        .workers(1)
        .listen(listener)
        .expect("the fake listens")
        .run();
        tokio::spawn(server);
        Self {
            base_url,
            domain: FAKE_PBX_DOMAIN.to_owned(),
            state,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    pub fn add_call(&self, call: FakeCall) {
        self.state().calls.push(call);
    }

    /// Replaces the PBX's users: `(extension, name)`.
    pub fn set_users(&self, users: &[(&str, &str)]) {
        self.state().users = users
            .iter()
            .map(|(num, name)| ((*num).to_owned(), (*name).to_owned()))
            .collect();
    }

    /// Every session key issued so far stops working.
    pub fn expire_sessions(&self) {
        self.state().sessions.clear();
    }

    /// The next `times` downloads of the call's recording answer `status`.
    pub fn fail_downloads(&self, uuid: &str, times: usize, status: u16) {
        self.state()
            .download_failures
            .insert(uuid.to_owned(), (times, status));
    }

    /// Every recording is sent after `delay`.
    pub fn slow_downloads(&self, delay: Duration) {
        self.state().download_delay = delay;
    }

    pub fn auth_calls(&self) -> usize {
        self.state().auth_calls
    }

    pub fn search_calls(&self) -> usize {
        self.state().search_calls
    }

    pub fn download_calls(&self) -> usize {
        self.state().download_calls
    }
}

fn refused(comment: &str) -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "0", "comment": comment}))
}

fn ok(data: Value) -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "1", "data": data}))
}

/// `None` when the request is for this PBX's domain and carries a live session key; else the
/// reply to give.
fn unauthenticated(state: &State, req: &HttpRequest) -> Option<HttpResponse> {
    if req.match_info().get("domain") != Some(FAKE_PBX_DOMAIN) {
        return Some(HttpResponse::NotFound().finish());
    }
    let session = req
        .headers()
        .get("x-pbx-authentication")
        .and_then(|v| v.to_str().ok());
    match session {
        Some(session) if state.sessions.contains(session) => None,
        _ => Some(refused("Authentication required")),
    }
}

async fn auth(state: Shared, req: HttpRequest, form: FormFields) -> HttpResponse {
    let mut state = state.lock().unwrap();
    state.auth_calls += 1;
    if req.match_info().get("domain") != Some(FAKE_PBX_DOMAIN) {
        return HttpResponse::NotFound().finish();
    }
    if form.get("auth_key") != Some(&state.api_key) {
        return HttpResponse::Ok().json(json!({
            "status": "0", "comment": "Key is not valid", "errorCode": "API_KEY_CHECK_FAILED"
        }));
    }
    state.sessions_issued += 1;
    let (key_id, key) = (
        format!("kid{}", state.sessions_issued),
        format!(
            "key-{}-{}",
            state.sessions_issued,
            uuid::Uuid::now_v7().simple()
        ),
    );
    state.sessions.insert(format!("{key_id}:{key}"));
    ok(json!({"key_id": key_id, "key": key}))
}

/// A call as the PBX lists it: stamps as strings, the rest as numbers.
fn history_entry(call: &FakeCall) -> Value {
    json!({
        "uuid": call.uuid,
        "caller_id_name": "",
        "caller_id_number": call.caller,
        "destination_number": call.destination,
        "start_stamp": call.start.to_string(),
        "end_stamp": (call.start + call.duration).to_string(),
        "duration": call.duration,
        "user_talk_time": call.talk,
        "accountcode": call.direction,
    })
}

async fn search(state: Shared, req: HttpRequest, form: FormFields) -> HttpResponse {
    let mut state = state.lock().unwrap();
    state.search_calls += 1;
    if let Some(reply) = unauthenticated(&state, &req) {
        return reply;
    }
    let number = |name: &str| form.get(name).and_then(|v| v.trim().parse::<i64>().ok());
    if let Some(uuid) = form.get("uuid") {
        if form.get("download").map(String::as_str) == Some("1") {
            // The link is given for any id; an unknown call's recording is a 404.
            return ok(json!(format!("{}/records/{uuid}.mp3", state.base_url)));
        }
        let found: Vec<Value> = state
            .calls
            .iter()
            .filter(|c| &c.uuid == uuid)
            .map(history_entry)
            .collect();
        return ok(json!(found));
    }
    let (from, to) = (number("start_stamp_from"), number("end_stamp_to"));
    let calls: Vec<Value> = state
        .calls
        .iter()
        .filter(|c| from.is_none_or(|from| c.start >= from))
        .filter(|c| to.is_none_or(|to| c.start + c.duration <= to))
        .map(history_entry)
        .collect();
    ok(json!(calls))
}

async fn users(state: Shared, req: HttpRequest, _form: FormFields) -> HttpResponse {
    let state = state.lock().unwrap();
    if let Some(reply) = unauthenticated(&state, &req) {
        return reply;
    }
    // Extensions without a leading zero come as numbers, the others as strings.
    let users: Vec<Value> = state
        .users
        .iter()
        .map(|(num, name)| {
            let num = match num.parse::<u64>() {
                Ok(n) if !num.starts_with('0') => json!(n),
                _ => json!(num),
            };
            json!({"num": num, "name": name})
        })
        .collect();
    ok(json!(users))
}

async fn recording(state: Shared, file: web::Path<String>) -> HttpResponse {
    let uuid = file.trim_end_matches(".mp3").to_owned();
    let (delay, failure, audio) = {
        let mut state = state.lock().unwrap();
        state.download_calls += 1;
        let failure = match state.download_failures.get_mut(&uuid) {
            Some((left, status)) if *left > 0 => {
                *left -= 1;
                Some(*status)
            }
            _ => None,
        };
        let audio = state
            .calls
            .iter()
            .find(|c| c.uuid == uuid)
            .map(|c| c.audio.clone());
        (state.download_delay, failure, audio)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(status) = failure {
        return HttpResponse::build(
            actix_web::http::StatusCode::from_u16(status).expect("a status"),
        )
        .body("scripted failure");
    }
    match audio {
        Some(audio) => HttpResponse::Ok().content_type("audio/mpeg").body(audio),
        None => HttpResponse::NotFound().body("no such recording"),
    }
}
