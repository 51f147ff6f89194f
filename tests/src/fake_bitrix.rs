//! A local fake Bitrix24 portal speaking its REST wire format (shared/EXTERNAL_APIS.md): one
//! inbound webhook (any other path is refused as the portal refuses a wrong one), contacts,
//! deals and stages served in pages of 50, `QUERY_LIMIT_EXCEEDED` on demand, and a log of the
//! requests received for asserting pacing and the phone formats tried.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

/// The path of the fake's only webhook.
const WEBHOOK_PATH: &str = "/rest/1/s3cr3tw3bh00k/";
/// Items per page of a list method, as on a real portal.
const PAGE: usize = 50;

struct Contact {
    id: String,
    phones: Vec<String>,
    name: String,
    last_name: String,
}

struct Deal {
    contact_id: String,
    id: String,
    title: String,
    stage_id: String,
    date_create: String,
    closedate: String,
}

struct Stage {
    entity_id: String,
    status_id: String,
    name: String,
}

#[derive(Default)]
struct State {
    contacts: Vec<Contact>,
    deals: Vec<Deal>,
    stages: Vec<Stage>,
    /// Requests still to refuse with `QUERY_LIMIT_EXCEEDED`.
    limited: usize,
    requests: Vec<(Instant, String, String)>,
}

/// A running fake portal.
#[derive(Clone)]
pub struct FakeBitrix {
    pub base_url: String,
    state: Arc<Mutex<State>>,
}

type Shared = web::Data<Arc<Mutex<State>>>;

impl FakeBitrix {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("an address").port();
        let state = Arc::new(Mutex::new(State::default()));
        let data = web::Data::new(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(rest))
        })
        .workers(1)
        .listen(listener)
        .expect("the fake listens")
        .run();
        tokio::spawn(server);
        Self {
            base_url: format!("http://127.0.0.1:{port}"),
            state,
        }
    }

    /// The portal's valid inbound webhook.
    pub fn webhook_url(&self) -> String {
        format!("{}{WEBHOOK_PATH}", self.base_url)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// A contact found by any of `phones`, written exactly so.
    pub fn add_contact(&self, id: &str, phones: &[&str], name: &str, last_name: &str) {
        self.state().contacts.push(Contact {
            id: id.to_owned(),
            phones: phones.iter().map(|p| (*p).to_owned()).collect(),
            name: name.to_owned(),
            last_name: last_name.to_owned(),
        });
    }

    /// A deal of the contact; dates as Bitrix24 writes them (ISO 8601 with offset) or empty.
    pub fn add_deal(
        &self,
        contact_id: &str,
        id: &str,
        title: &str,
        stage_id: &str,
        date_create: &str,
        closedate: &str,
    ) {
        self.state().deals.push(Deal {
            contact_id: contact_id.to_owned(),
            id: id.to_owned(),
            title: title.to_owned(),
            stage_id: stage_id.to_owned(),
            date_create: date_create.to_owned(),
            closedate: closedate.to_owned(),
        });
    }

    /// A stage of `crm.status.list`, e.g. `("DEAL_STAGE_1", "C1:NEW", "New")`.
    pub fn add_stage(&self, entity_id: &str, status_id: &str, name: &str) {
        self.state().stages.push(Stage {
            entity_id: entity_id.to_owned(),
            status_id: status_id.to_owned(),
            name: name.to_owned(),
        });
    }

    /// The next `n` requests are refused with HTTP 503 `QUERY_LIMIT_EXCEEDED`.
    pub fn limit_next(&self, n: usize) {
        self.state().limited = n;
    }

    /// Every request received: when, the method (last path segment) and the decoded query.
    pub fn requests(&self) -> Vec<(Instant, String, String)> {
        self.state().requests.clone()
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A page of `items` from `start`, as list methods reply.
fn page(items: Vec<Value>, start: usize) -> HttpResponse {
    let total = items.len();
    let now = unix_now();
    let mut reply = json!({
        "result": items.into_iter().skip(start).take(PAGE).collect::<Vec<_>>(),
        "total": total,
        "time": {"start": now, "finish": now},
    });
    if start + PAGE < total {
        reply["next"] = json!(start + PAGE);
    }
    HttpResponse::Ok().json(reply)
}

fn error(status: u16, code: &str, description: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("a status"))
        .json(json!({"error": code, "error_description": description}))
}

async fn rest(state: Shared, req: HttpRequest) -> HttpResponse {
    let query = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let logged = query
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    let path = req.path();
    let method = path.rsplit('/').next().unwrap_or_default().to_owned();
    let mut state = state.lock().unwrap();
    state
        .requests
        .push((Instant::now(), method.clone(), logged));
    if !path.starts_with(WEBHOOK_PATH) || path[WEBHOOK_PATH.len()..].contains('/') {
        return error(401, "INVALID_CREDENTIALS", "Invalid request credentials");
    }
    if state.limited > 0 {
        state.limited -= 1;
        return error(503, "QUERY_LIMIT_EXCEEDED", "Too many requests");
    }
    let param = |name: &str| {
        query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let start = param("start")
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(0);
    match method.trim_end_matches(".json") {
        "crm.contact.list" => {
            let phone = param("filter[PHONE]");
            let contacts = state
                .contacts
                .iter()
                .filter(|c| phone.is_none_or(|p| c.phones.iter().any(|own| own == p)))
                .map(|c| json!({"ID": c.id, "NAME": c.name, "LAST_NAME": c.last_name}))
                .collect();
            page(contacts, start)
        }
        "crm.deal.list" => {
            let contact = param("filter[CONTACT_ID]");
            let deals = state
                .deals
                .iter()
                .filter(|d| contact.is_none_or(|c| d.contact_id == c))
                .map(|d| {
                    json!({
                        "ID": d.id, "TITLE": d.title, "STAGE_ID": d.stage_id,
                        "DATE_CREATE": d.date_create, "CLOSEDATE": d.closedate
                    })
                })
                .collect();
            page(deals, start)
        }
        "crm.status.list" => {
            let entity = param("filter[ENTITY_ID]");
            let stages = state
                .stages
                .iter()
                .enumerate()
                .filter(|(_, s)| entity.is_none_or(|e| s.entity_id == e))
                .map(|(i, s)| {
                    json!({
                        "ID": (i + 1).to_string(), "ENTITY_ID": s.entity_id,
                        "STATUS_ID": s.status_id, "NAME": s.name, "SORT": (i + 1) * 10
                    })
                })
                .collect();
            page(stages, start)
        }
        _ => error(400, "ERROR_METHOD_NOT_FOUND", "Method not found!"),
    }
}
