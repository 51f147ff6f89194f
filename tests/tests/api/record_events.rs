//! `GET /records/events`: a change made by any process on the database reaches the open
//! streams promptly and once, a stream resumes after its last event id, and on PostgreSQL an
//! idle stream costs no queries (one listener per process is told of every change).

use std::collections::HashMap;
use std::time::Duration;

use dialix_tests::audio::{files, wav};
use dialix_tests::{Backend, TestApp, spawn_app};
use futures_util::future::join_all;
use serde_json::Value;

/// How long a change may take to reach a stream (PostgreSQL: one notification; SQLite: one
/// half-second poll).
const PROMPTLY: Duration = Duration::from_secs(2);

/// One `event: record` of a stream.
#[derive(Debug)]
struct Event {
    id: String,
    record: Value,
}

/// An open event stream and what arrived but was not read yet.
struct Events {
    response: reqwest::Response,
    pending: String,
}

impl Events {
    async fn open(app: &TestApp, token: &str, last_event_id: Option<&str>) -> Self {
        let mut request = app
            .client
            .get(app.url("/records/events"))
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.expect("the stream opens");
        assert_eq!(response.status(), 200);
        Self {
            response,
            pending: String::new(),
        }
    }

    /// The events that arrive within `within`.
    async fn during(&mut self, within: Duration) -> Vec<Event> {
        let deadline = tokio::time::Instant::now() + within;
        let mut events = Vec::new();
        while let Ok(chunk) = tokio::time::timeout_at(deadline, self.response.chunk()).await {
            let chunk = chunk
                .expect("the stream reads")
                .expect("the stream stays open");
            self.pending.push_str(&String::from_utf8_lossy(&chunk));
            events.extend(self.complete());
        }
        events
    }

    /// Events until `enough` holds for all received so far; fails after `within`.
    async fn until(&mut self, within: Duration, enough: impl Fn(&[Event]) -> bool) -> Vec<Event> {
        let deadline = tokio::time::Instant::now() + within;
        let mut events = Vec::new();
        while !enough(&events) {
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("events missing after {within:?}: {events:?}"))
                .expect("the stream reads")
                .expect("the stream stays open");
            self.pending.push_str(&String::from_utf8_lossy(&chunk));
            events.extend(self.complete());
        }
        events
    }

    /// The whole events in `pending`, leaving a partial one there.
    fn complete(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        while let Some(end) = self.pending.find("\n\n") {
            let block: String = self.pending.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|line| line.strip_prefix(name))
                    .map(str::to_owned)
            };
            if let (Some(id), Some(data)) = (field("id: "), field("data: ")) {
                assert_eq!(field("event: ").as_deref(), Some("record"), "{block}");
                let record = serde_json::from_str(&data).expect("the data is JSON");
                events.push(Event { id, record });
            }
        }
        events
    }
}

fn has(events: &[Event], id: &str, status: &str) -> bool {
    events
        .iter()
        .any(|e| e.record["id"] == id && e.record["status"] == status)
}

/// Uploads `count` files in one request; their ids.
async fn upload(app: &TestApp, token: &str, count: usize) -> Vec<String> {
    let names: Vec<String> = (0..count).map(|n| format!("call-{n}.wav")).collect();
    let form = files(names.iter().map(|name| (name.as_str(), wav(500))).collect());
    let response = app.multipart("/records", token, form).await;
    assert_eq!(response.status(), 201);
    let records: Vec<Value> = response.json().await.unwrap();
    records
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// An app, a second server process on its database, and a member's token.
async fn two_processes() -> (TestApp, TestApp, String) {
    let app = spawn_app().await;
    let other = app.sibling(|_| {}).await;
    let company = app.create_company("Events LLC").await;
    let (_, token) = app.member("agent", &company).await;
    (app, other, token)
}

#[tokio::test]
async fn changes_made_by_another_process_reach_an_open_stream_promptly() {
    let (app, other, token) = two_processes().await;
    let mut stream = Events::open(&app, &token, None).await;

    let id = upload(&other, &token, 1).await.remove(0);
    stream.until(PROMPTLY, |e| has(e, &id, "uploaded")).await;

    // A change outside any server (an operator, another version of the worker); the
    // database holds this one record.
    app.execute_sql(
        "UPDATE record SET status = 'failed', error = 'by hand', updated_at = updated_at + 1",
    )
    .await;
    let events = stream.until(PROMPTLY, |e| has(e, &id, "failed")).await;
    let failed = events.iter().find(|e| e.record["status"] == "failed");
    let failed = failed.expect("the failure");
    assert_eq!(failed.record["error"], "by hand");
    let changed_at = app.query_strings("SELECT updated_at FROM record").await;
    assert_eq!(failed.id, changed_at[0], "the id is the change time");
}

#[tokio::test]
async fn a_stream_resumes_after_its_last_event_id() {
    let (app, other, token) = two_processes().await;
    let mut stream = Events::open(&app, &token, None).await;
    let first = upload(&app, &token, 1).await.remove(0);
    let events = stream.until(PROMPTLY, |e| has(e, &first, "uploaded")).await;
    let last_event_id = events[0].id.clone();
    drop(stream);

    // Changed while nobody listened, and by the other process.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let missed = upload(&other, &token, 2).await;
    let mut resumed = Events::open(&app, &token, Some(&last_event_id)).await;
    let events = resumed
        .until(PROMPTLY, |e| missed.iter().all(|id| has(e, id, "uploaded")))
        .await;
    let resumed_from: i64 = last_event_id.parse().unwrap();
    assert!(
        events
            .iter()
            .all(|e| e.id.parse::<i64>().unwrap() >= resumed_from),
        "nothing from before the last event id: {events:?}"
    );
    let after = resumed.during(Duration::from_millis(1200)).await;
    assert!(after.is_empty(), "each change once: {after:?}");
}

#[tokio::test]
async fn a_burst_of_changes_arrives_complete_and_once_each() {
    let (app, other, token) = two_processes().await;
    let mut stream = Events::open(&app, &token, None).await;

    // Uploads one by one, all at once (their commits need not follow their time stamps),
    // then several in one transaction. One process writes: two SQLite processes writing at
    // once fail with "database is locked".
    let singles = (0..12).map(|_| upload(&other, &token, 1));
    let mut ids: Vec<String> = join_all(singles).await.into_iter().flatten().collect();
    ids.extend(upload(&other, &token, 6).await);
    let events = stream
        .until(Duration::from_secs(10), |e| {
            ids.iter().all(|id| has(e, id, "uploaded"))
        })
        .await;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for event in events
        .iter()
        .chain(&stream.during(Duration::from_millis(1200)).await)
    {
        *seen
            .entry(event.record["id"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(seen.len(), ids.len());
    assert!(seen.values().all(|n| *n == 1), "once each: {seen:?}");
}

/// How many connections of the app's database are listening for record changes.
async fn listeners(app: &TestApp) -> usize {
    let count = app
        .query_strings(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        )
        .await;
    count[0].parse().unwrap()
}

#[tokio::test]
async fn on_postgres_one_listener_serves_every_stream_and_outlives_its_connection() {
    if Backend::from_env() != Backend::Postgres {
        return;
    }
    let (app, other, token) = two_processes().await;
    let admin = app.admin_token().await;
    let mut streams = Vec::new();
    for token in [&token, &token, &admin] {
        streams.push(Events::open(&app, token, None).await);
    }
    let mut waited = Duration::ZERO;
    while listeners(&app).await == 0 && waited < PROMPTLY {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
    assert_eq!(listeners(&app).await, 1, "one listener for three streams");

    // The listening connection is killed; the listener connects again and nothing is lost.
    app.execute_sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .await;
    let id = upload(&other, &token, 1).await.remove(0);
    for stream in &mut streams {
        stream
            .until(Duration::from_secs(5), |e| has(e, &id, "uploaded"))
            .await;
    }
    assert_eq!(listeners(&app).await, 1);
}

#[tokio::test]
async fn on_postgres_an_idle_stream_sends_no_queries() {
    if Backend::from_env() != Backend::Postgres {
        return;
    }
    let app = spawn_app().await;
    let company = app.create_company("Quiet LLC").await;
    let (_, token) = app.member("agent", &company).await;
    let _stream = Events::open(&app, &token, None).await;
    // A second for the stream's first read and the listener's start, then two of quiet.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let busy = app
        .query_strings(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
             AND query_start > now() - interval '1800 milliseconds'",
        )
        .await;
    assert_eq!(
        busy,
        ["0"],
        "a polling stream would have queried three times"
    );
}
