//! Production's shape: several `dialix` processes (the real binary, configured by its
//! environment) on one database and one S3 bucket — two API servers and processing workers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use dialix_tests::audio::{files, wav};
use dialix_tests::fakes::{FakeProviders, Reply};
use dialix_tests::process::DialixProcess;
use dialix_tests::s3::{self, S3Server};
use dialix_tests::{
    ADMIN_EMAIL, ADMIN_PASSWORD, FreshDatabase, JWT_SECRET, charge_amounts, query_strings,
};
use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_dialix-under-test");
const METRICS_TOKEN: &str = "multi-process-metrics-token";
const PASSWORD: &str = "user-password";
/// A 2.5 s call is charged for 3 started seconds: 63,000 and 21,000 per minute (the defaults).
const CHARGES: [i64; 2] = [-3150, -1050];

/// What every process of the deployment shares.
fn shared_settings(
    database: &FreshDatabase,
    bucket: &S3Server,
    fakes: &FakeProviders,
) -> Vec<(String, String)> {
    [
        ("DATABASE_URL", database.url.clone()),
        ("JWT_SECRET", JWT_SECRET.to_owned()),
        ("DIALIX_ADMIN_EMAIL", ADMIN_EMAIL.to_owned()),
        ("DIALIX_ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
        ("DIALIX_WORKERS", "0".to_owned()),
        (
            "DIALIX_AUDIO_STORE",
            format!("s3://{}/calls", bucket.bucket),
        ),
        ("AWS_ACCESS_KEY_ID", s3::ACCESS_KEY_ID.to_owned()),
        ("AWS_SECRET_ACCESS_KEY", s3::SECRET_ACCESS_KEY.to_owned()),
        ("AWS_REGION", s3::REGION.to_owned()),
        ("AWS_ENDPOINT_URL", bucket.endpoint.clone()),
        ("STT_MODELS", "whisper,mohirai".to_owned()),
        ("STT_OPENAI_BASE_URL", fakes.base_url.clone()),
        ("STT_OPENAI_API_KEY", "stt-key".to_owned()),
        ("STT_OPENAI_MODEL", "whisper-test".to_owned()),
        ("OPENAI_BASE_URL", format!("{}/v1", fakes.base_url)),
        ("OPENAI_API_KEY", "chat-key".to_owned()),
        ("OPENAI_MODEL", "gpt-test".to_owned()),
        // The lease outlives the test: only a handed-back job can be finished in time.
        ("PROCESSING_LEASE_SECS", "600".to_owned()),
        ("SHUTDOWN_GRACE_SECS", "1".to_owned()),
        ("LOGIN_MAX_FAILURES", "3".to_owned()),
        ("METRICS_TOKEN", METRICS_TOKEN.to_owned()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

fn with(settings: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    let mut settings = settings.to_vec();
    settings.push((name.to_owned(), value.to_owned()));
    settings
}

/// A client of one process's API.
struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    fn of(process: &DialixProcess) -> Self {
        Self {
            client: reqwest::Client::new(),
            base: process.base_url.clone(),
        }
    }

    async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/auth/login", self.base))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("a login request")
    }

    async fn token(&self, email: &str, password: &str) -> String {
        let response = self.login(email, password).await;
        assert_eq!(response.status(), 200, "login as {email}");
        let body: Value = response.json().await.expect("json");
        body["access_token"].as_str().expect("a token").to_owned()
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> Value {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("a request");
        assert!(response.status().is_success(), "POST {path}: {response:?}");
        response.json().await.expect("json")
    }

    async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("a request")
    }

    async fn get_json(&self, path: &str, token: &str) -> Value {
        let response = self.get(path, token).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("json")
    }

    /// Polls the record until it reaches `status`, failing the test after `limit`.
    async fn wait_for_status(&self, token: &str, id: &str, status: &str, limit: Duration) {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let record = self.get_json(&format!("/records/{id}"), token).await;
            if record["status"] == status {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "record {id} is {} after {limit:?}, not {status}",
                record["status"]
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Collects everything an event stream sends, in the background.
fn follow_events(mut response: reqwest::Response) -> Arc<Mutex<String>> {
    let received = Arc::new(Mutex::new(String::new()));
    let sink = received.clone();
    tokio::spawn(async move {
        while let Ok(Some(chunk)) = response.chunk().await {
            sink.lock()
                .expect("the event buffer")
                .push_str(&String::from_utf8_lossy(&chunk));
        }
    });
    received
}

/// The statuses the stream reported for `record`, in order.
fn statuses_of(events: &str, record: &str) -> Vec<String> {
    events
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter_map(|data| serde_json::from_str::<Value>(data).ok())
        .filter(|event| event["id"] == record)
        .map(|event| event["status"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn two_servers_and_workers_share_the_database_and_the_bucket() {
    dialix_infrastructure::install_tls_provider();
    // Declared first, dropped last: the processes stop before their database goes.
    let database = FreshDatabase::create().await;
    let bucket = S3Server::start().await;
    let fakes = FakeProviders::start().await;
    // The first transcription hangs until the worker doing it is stopped.
    fakes.script_transcription([Reply::Slow(Duration::from_secs(60))]);
    let settings = shared_settings(&database, &bucket, &fakes);

    let mut first = DialixProcess::spawn(BINARY, "serve-a", "serve", &settings);
    first
        .wait_until_serving(&format!("{}/ready", first.base_url))
        .await;
    let mut second = DialixProcess::spawn(BINARY, "serve-b", "serve", &settings);
    second
        .wait_until_serving(&format!("{}/ready", second.base_url))
        .await;
    let worker_settings = with(&settings, "DIALIX_WORKERS", "1");
    let mut worker = DialixProcess::spawn(BINARY, "worker-1", "worker", &worker_settings);
    let worker_metrics = worker.metrics_url.clone();
    worker.wait_until_serving(&worker_metrics).await;
    let (a, b) = (Api::of(&first), Api::of(&second));

    let admin = a.token(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let company = a.post("/company", &admin, json!({"name": "Acme"})).await;
    let company_id = company["id"].as_str().expect("a company id");
    a.post(
        &format!("/company/{company_id}/topup"),
        &admin,
        json!({"amount": 100_000, "idempotency_key": "seed"}),
    )
    .await;
    for username in ["operator", "guessed"] {
        a.post(
            "/admin/users",
            &admin,
            json!({"email": format!("{username}@dialix.test"), "username": username,
                   "password": PASSWORD, "company_id": company_id}),
        )
        .await;
    }

    // The login limit (3 failures) counts across the processes.
    for api in [&a, &b, &a] {
        let refused = api.login("guessed@dialix.test", "wrong-password").await;
        assert_eq!(refused.status(), 401);
    }
    assert_eq!(
        b.login("guessed@dialix.test", PASSWORD).await.status(),
        429,
        "the third failure on another process reaches the limit"
    );

    // An event stream on the second process sees what the first process and the workers do.
    let token = b.token("operator@dialix.test", PASSWORD).await;
    let stream = b.get("/records/events", &token).await;
    assert_eq!(stream.status(), 200);
    let events = follow_events(stream);

    let audio = wav(2500);
    let uploaded = a
        .client
        .post(format!("{}/records", a.base))
        .bearer_auth(&token)
        .multipart(files(vec![("call.wav", audio.clone())]))
        .send()
        .await
        .expect("an upload");
    assert_eq!(uploaded.status(), 201);
    let records: Vec<Value> = uploaded.json().await.expect("json");
    let id = records[0]["id"].as_str().expect("a record id").to_owned();
    assert_eq!(bucket.objects().len(), 1, "the audio is in the bucket");

    // The worker is mid-transcription when the deployment stops it.
    b.wait_for_status(&token, &id, "transcribing", Duration::from_secs(30))
        .await;
    worker.terminate();
    let status = worker.exit_within(Duration::from_secs(20)).await;
    assert!(status.success(), "worker exit {status}:\n{}", worker.log());
    let jobs = query_strings(
        &database.url,
        "SELECT status || ':' || CAST(attempts AS TEXT) || ':' || \
         CASE WHEN locked_by IS NULL THEN 'free' ELSE 'held' END FROM processing_job",
    )
    .await;
    assert_eq!(
        jobs,
        ["pending:0:free"],
        "the job is handed back, no attempt used"
    );

    // A second worker takes it over at once (the 600 s lease never has to run out).
    let mut relief = DialixProcess::spawn(BINARY, "worker-2", "worker", &worker_settings);
    let relief_metrics = relief.metrics_url.clone();
    relief.wait_until_serving(&relief_metrics).await;
    b.wait_for_status(&token, &id, "done", Duration::from_secs(60))
        .await;
    assert_eq!(fakes.transcription_calls(), 2, "cut off once, done once");
    assert_eq!(fakes.chat_calls(), 1);

    // Charged once for each step.
    let ledger = a
        .get_json(
            &format!("/company/{company_id}/transactions?limit=100"),
            &admin,
        )
        .await;
    assert_eq!(charge_amounts(&ledger), CHARGES);
    let balance = a.get_json("/balance", &token).await;
    assert_eq!(balance["balance"], 100_000 + CHARGES[0] + CHARGES[1]);
    assert_eq!(balance["reserved"], 0);

    // The second process streams the audio the first one stored.
    let played = b.get(&format!("/records/{id}/audio"), &token).await;
    assert_eq!(played.status(), 200);
    assert_eq!(played.bytes().await.expect("audio"), audio);
    let ranged = b
        .client
        .get(format!("{}/records/{id}/audio", b.base))
        .bearer_auth(&token)
        .header("Range", "bytes=44-143")
        .send()
        .await
        .expect("a ranged request");
    assert_eq!(ranged.status(), 206);
    assert_eq!(ranged.bytes().await.expect("audio"), audio[44..144]);

    // The stream on the second process saw the call before and after the worker's steps
    // (a feed reports each state it finds, so quick steps may merge into the next one).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let seen = statuses_of(&events.lock().expect("events"), &id);
        if seen.last().map(String::as_str) == Some("done") {
            assert!(seen.len() >= 2, "{seen:?}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the stream on the second process saw {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The counters moved: requests on the API process, jobs on the worker that finished.
    let metrics = a
        .client
        .get(format!("{}/metrics", a.base))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains(
            r#"dialix_http_requests_total{method="POST",route="/records",status="201"} 1"#
        ),
        "{metrics}"
    );
    let metrics = reqwest::get(&relief_metrics)
        .await
        .expect("worker metrics")
        .text()
        .await
        .expect("text");
    for line in [
        r#"dialix_jobs_total{outcome="done",step="transcription"} 1"#,
        r#"dialix_jobs_total{outcome="done",step="analysis"} 1"#,
        r#"dialix_provider_requests_total{outcome="ok",provider="whisper"} 1"#,
    ] {
        assert!(metrics.contains(line), "{line} missing from:\n{metrics}");
    }
}
