//! The integration-test harness: starts the real Dialix server on a random port against a
//! fresh database and talks to it over HTTP.
//!
//! `TEST_DATABASE=sqlite` (default) gives every test its own SQLite file; `TEST_DATABASE=postgres`
//! gives every test its own PostgreSQL database on `TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), dropped when the test ends. An unreachable
//! PostgreSQL fails the test loudly: it is never skipped.

use std::path::PathBuf;

use dialix_api::config::{AudioPlayback, Config, Environment, LogFormat};
use dialix_api::startup::Application;
use dialix_infrastructure::{AudioLocation, Database};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};
use time::Duration;

pub mod audio;
pub mod fake_bitrix;
pub mod fake_pbx;
pub mod fakes;
pub mod pdf;
pub mod process;
pub mod s3;

pub const ADMIN_EMAIL: &str = "admin@dialix.test";
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";
pub const JWT_SECRET: &str = "integration-tests-secret-at-least-32-chars";
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_env() -> Self {
        match std::env::var("TEST_DATABASE").as_deref() {
            Err(_) | Ok("sqlite") => Backend::Sqlite,
            Ok("postgres") => Backend::Postgres,
            Ok(other) => panic!("TEST_DATABASE={other:?}: use sqlite or postgres"),
        }
    }
}

/// A fresh database that disappears with the test.
enum TestDatabase {
    Sqlite { path: PathBuf },
    Postgres { server_url: String, name: String },
}

impl TestDatabase {
    async fn create(backend: Backend) -> (Self, String) {
        let unique = uuid::Uuid::now_v7().simple().to_string();
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("dialix-test-{unique}.db"));
                let url = format!("sqlite://{}?mode=rwc", path.display());
                (TestDatabase::Sqlite { path }, url)
            }
            Backend::Postgres => {
                let server_url = std::env::var("TEST_POSTGRES_URL")
                    .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
                let name = format!("dialix_test_{unique}");
                let server = sea_orm::Database::connect(&server_url).await.unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL is not reachable at {server_url} ({e}). Start it (see README) \
                         or run the SQLite suite only with TEST_DATABASE=sqlite."
                    )
                });
                server
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create the test database");
                server.close().await.ok();
                let url = match server_url.rsplit_once('/') {
                    Some((base, _)) => format!("{base}/{name}"),
                    None => panic!("TEST_POSTGRES_URL must end with /<database>"),
                };
                (TestDatabase::Postgres { server_url, name }, url)
            }
        }
    }
}

/// A fresh, empty database of the backend under test, for tests that start `dialix` processes
/// themselves; removed when dropped.
pub struct FreshDatabase {
    pub url: String,
    _database: TestDatabase,
}

impl FreshDatabase {
    pub async fn create() -> Self {
        let (database, url) = TestDatabase::create(Backend::from_env()).await;
        Self {
            url,
            _database: database,
        }
    }
}

/// Rolls the database back to before the migration named `name` and forward again, as an
/// upgrade of a deployment that predates it runs it over existing data.
pub async fn rerun_migrations_from(database_url: &str, name: &str) {
    use dialix_migrations::{Migrator, MigratorTrait};
    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let position = names
        .iter()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("no migration {name} among {names:?}"));
    let db = sea_orm::Database::connect(database_url)
        .await
        .expect("connect to the test database");
    Migrator::down(&db, Some((names.len() - position) as u32))
        .await
        .expect("migrations roll back");
    Migrator::up(&db, None).await.expect("migrations run again");
    db.close().await.ok();
}

/// The first column of every row `sql` returns from the database at `database_url`, as text.
pub async fn query_strings(database_url: &str, sql: &str) -> Vec<String> {
    let connection: DatabaseConnection = sea_orm::Database::connect(database_url)
        .await
        .expect("connect to the test database");
    let rows = connection
        .query_all_raw(Statement::from_string(
            connection.get_database_backend(),
            sql,
        ))
        .await
        .expect("query runs");
    connection.close().await.ok();
    rows.iter()
        .map(|row| {
            row.try_get_by_index::<String>(0)
                .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
                .expect("a text or integer column")
        })
        .collect()
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match self {
            TestDatabase::Sqlite { path } => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    std::fs::remove_file(file).ok();
                }
            }
            TestDatabase::Postgres { server_url, name } => {
                let (server_url, name) = (server_url.clone(), name.clone());
                // Drop runs outside async context; a short-lived runtime does the cleanup.
                std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("cleanup runtime");
                    runtime.block_on(async {
                        if let Ok(server) = sea_orm::Database::connect(&server_url).await {
                            server
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                                ))
                                .await
                                .ok();
                            server.close().await.ok();
                        }
                    });
                })
                .join()
                .ok();
            }
        }
    }
}

/// A running server plus a client for it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub backend: Backend,
    pub database_url: String,
    server_database: Database,
    /// `/metrics` without a token, when the test set `metrics_bind_addr`.
    pub metrics_address: Option<String>,
    server: actix_web::dev::ServerHandle,
    workers: Vec<tokio::task::AbortHandle>,
    shutdown: dialix_api::shutdown::Shutdown,
    /// The running application, until [`TestApp::shut_down`] waits for it.
    running: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    audio_store: AudioLocation,
    /// Only the first app on a database removes its audio folder.
    owns_storage: bool,
    // Declared last: dropped after the server handle is released.
    database: std::sync::Arc<TestDatabase>,
}

/// The configuration tests run with; `spawn_app_with` lets a test change it.
pub fn test_config(database_url: String) -> Config {
    Config {
        environment: Environment::Development,
        database_url,
        bind_addr: "127.0.0.1:0".parse().expect("valid address"),
        jwt_secret: Some(JWT_SECRET.into()),
        access_token_ttl: Duration::minutes(15),
        refresh_token_ttl: Duration::days(30),
        admin_email: ADMIN_EMAIL.to_owned(),
        admin_password: ADMIN_PASSWORD.into(),
        password_min_length: 8,
        login_max_failures: 5,
        login_max_failures_per_address: 1000,
        login_failure_window: Duration::minutes(15),
        cors_allowed_origins: Vec::new(),
        metrics_token: None,
        metrics_bind_addr: None,
        shutdown_grace: Duration::seconds(5).unsigned_abs(),
        max_body_bytes: 64 * 1024,
        http_workers: Some(2),
        log_format: LogFormat::Text,
        audit_retention: None,
        stt_models: vec!["mohirai".into(), "whisper".into()],
        audio_store: AudioLocation::Directory(
            std::env::temp_dir().join(format!("dialix-test-audio-{}", uuid::Uuid::now_v7())),
        ),
        audio_playback: AudioPlayback::Stream,
        max_upload_bytes: 2 * 1024 * 1024,
        prices: dialix_calls::Prices::default(),
        chat: dialix_chat::ChatPolicy {
            max_questions: 10,
            price_per_question: 0,
            mask_pii: true,
            context_chars: 100_000,
        },
        default_country_code: "998".into(),
        providers: dialix_api::config::ProviderSettings {
            chat: None,
            mohirai: None,
            whisper: None,
            http: dialix_infrastructure::HttpPolicy::default(),
        },
        processing: dialix_api::config::ProcessingSettings {
            workers: 0,
            policy: dialix_calls::ProcessingPolicy {
                max_attempts: 3,
                backoff: Duration::milliseconds(100).unsigned_abs(),
                lease: Duration::seconds(30).unsigned_abs(),
            },
            idle_poll: Duration::milliseconds(50).unsigned_abs(),
        },
        integrations: dialix_api::config::IntegrationSettings {
            secrets_key: dialix_api::config::SecretsKey {
                bytes: *b"integration-tests-secrets-key-32",
                development: false,
            },
            // Nothing listens there: tests with a PBX point this at their fake.
            onlinepbx_base_url: "http://127.0.0.1:9".into(),
            bitrix_min_interval: Duration::milliseconds(20).unsigned_abs(),
            allow_local_webhooks: true,
            auto_import_poll: Duration::milliseconds(100).unsigned_abs(),
        },
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        dialix_api::telemetry::init(LogFormat::Text);
    }
    let backend = Backend::from_env();
    let (database, database_url) = TestDatabase::create(backend).await;
    let mut config = test_config(database_url);
    adjust(&mut config);
    start(config, backend, std::sync::Arc::new(database), true).await
}

async fn start(
    config: Config,
    backend: Backend,
    database: std::sync::Arc<TestDatabase>,
    owns_storage: bool,
) -> TestApp {
    let audio_store = config.audio_store.clone();
    let database_url = config.database_url.clone();
    let app = Application::build(config).await.expect("the app starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let server = app.handle();
    let server_database = app.database();
    let workers = app.worker_handles();
    let shutdown = app.shutdown();
    let metrics_address = app
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    let running = Some(tokio::spawn(app.run_until_stopped()));
    TestApp {
        address,
        client: reqwest::Client::new(),
        backend,
        database_url,
        server_database,
        metrics_address,
        server,
        workers,
        shutdown,
        running,
        audio_store,
        owns_storage,
        database,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stops accepting connections; the runtime ending takes the workers down.
        drop(self.server.stop(false));
        self.kill_workers();
        if let (true, AudioLocation::Directory(dir)) = (self.owns_storage, &self.audio_store) {
            std::fs::remove_dir_all(dir).ok();
        }
    }
}

/// Tokens from a successful login.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> reqwest::Response {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> reqwest::Response {
        let mut request = self.client.patch(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> reqwest::Response {
        let mut request = self.client.put(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self.client.delete(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    /// GETs `path` expecting 200 and returns the JSON body.
    /// Polls the record until it reaches `status` (or fails the test after 20 s).
    pub async fn wait_for_status(&self, token: &str, id: &str, status: &str) -> Value {
        for _ in 0..400 {
            let record = self.get_json(&format!("/records/{id}"), token).await;
            if record["status"] == status {
                return record;
            }
            assert!(
                !(record["status"] == "failed" && status != "failed"),
                "the record failed: {record}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("record {id} never reached {status}");
    }

    pub async fn get_json(&self, path: &str, token: &str) -> Value {
        let response = self.get(path, Some(token)).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("json")
    }

    /// Creates a user in `company` (password `user-password`); returns its id and a token.
    pub async fn member(&self, username: &str, company: &Value) -> (String, String) {
        let email = format!("{username}@dialix.test");
        let account = self
            .create_account(json!({
                "email": email, "username": username, "password": "user-password",
                "company_id": company["id"]
            }))
            .await;
        let token = self.tokens(&email, "user-password").await.access;
        (account["id"].as_str().expect("id").to_owned(), token)
    }

    /// Makes `user_id` an administrator of `company` with `permissions`, through the API.
    pub async fn grant(&self, company: &Value, user_id: &str, permissions: Value) {
        let admin = self.admin_token().await;
        let path = format!(
            "/company/{}/administrators",
            company["id"].as_str().expect("id")
        );
        let response = self
            .post(
                &path,
                Some(&admin),
                &json!({"user_id": user_id, "permissions": permissions}),
            )
            .await;
        assert_eq!(response.status(), 201, "granting administration");
    }

    /// `POST /auth/refresh` with `refresh_token`.
    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": refresh_token}),
        )
        .await
    }

    pub async fn login(&self, login: &str, password: &str) -> reqwest::Response {
        self.post(
            "/auth/login",
            None,
            &json!({"email": login, "password": password}),
        )
        .await
    }

    /// Logs in and returns the tokens, failing the test when login does not succeed.
    pub async fn tokens(&self, login: &str, password: &str) -> Tokens {
        let response = self.login(login, password).await;
        assert_eq!(response.status(), 200, "login of {login} should succeed");
        let body: Value = response.json().await.expect("json");
        Tokens {
            access: body["access_token"]
                .as_str()
                .expect("access token")
                .to_owned(),
            refresh: body["refresh_token"]
                .as_str()
                .expect("refresh token")
                .to_owned(),
        }
    }

    pub async fn admin_token(&self) -> String {
        self.tokens(ADMIN_EMAIL, ADMIN_PASSWORD).await.access
    }

    /// Creates an account through the API as the platform admin; returns its JSON.
    pub async fn create_account(&self, body: Value) -> Value {
        let admin = self.admin_token().await;
        let response = self.post("/admin/users", Some(&admin), &body).await;
        assert_eq!(response.status(), 201, "account creation should succeed");
        response.json().await.expect("json")
    }

    /// Creates a plain user and returns its access token.
    pub async fn user_token(&self, username: &str) -> String {
        let email = format!("{username}@dialix.test");
        self.create_account(json!({
            "email": email, "username": username, "password": "user-password", "role": "user"
        }))
        .await;
        self.tokens(&email, "user-password").await.access
    }

    /// Runs SQL directly against the app's database, to set up states that no endpoint can
    /// create yet (or that only an operator would).
    pub async fn execute_sql(&self, sql: &str) {
        let connection: DatabaseConnection = sea_orm::Database::connect(&self.database_url)
            .await
            .expect("connect to the test database");
        connection.execute_unprepared(sql).await.expect("sql runs");
        connection.close().await.ok();
    }

    /// The first column of every row `sql` returns, as text.
    pub async fn query_strings(&self, sql: &str) -> Vec<String> {
        query_strings(&self.database_url, sql).await
    }

    /// Shuts the app down as SIGTERM does (HTTP drains, workers finish or hand back their jobs
    /// within the grace period) and waits until it has stopped.
    pub async fn shut_down(&mut self) {
        self.shutdown.begin();
        if let Some(running) = self.running.take() {
            running
                .await
                .expect("the app did not panic")
                .expect("the app stopped cleanly");
        }
    }

    /// Stops this app's processing workers at once, mid-job, as a crash would.
    pub fn kill_workers(&self) {
        for worker in &self.workers {
            worker.abort();
        }
    }

    /// Starts a second server on the same database and audio folder (a restart after a
    /// crash, or another process sharing the work).
    pub async fn sibling(&self, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = test_config(self.database_url.clone());
        config.audio_store = self.audio_store.clone();
        adjust(&mut config);
        start(config, self.backend, self.database.clone(), false).await
    }

    /// The folder of the server's file store (tests that use a bucket read it through
    /// [`s3::S3Server`]).
    pub fn audio_dir(&self) -> PathBuf {
        match &self.audio_store {
            AudioLocation::Directory(dir) => dir.clone(),
            AudioLocation::S3(_) => panic!("this server keeps its audio in a bucket"),
        }
    }

    /// How many audio files the server has stored in its folder.
    pub fn stored_audio_files(&self) -> usize {
        fn count(dir: &std::path::Path) -> usize {
            std::fs::read_dir(dir)
                .map(|entries| {
                    entries
                        .flatten()
                        .map(|e| {
                            let path = e.path();
                            if path.is_dir() { count(&path) } else { 1 }
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        count(&self.audio_dir())
    }

    /// The configuration the server was started with (less test adjustments).
    pub fn config(&self) -> Config {
        let mut config = test_config(self.database_url.clone());
        config.audio_store = self.audio_store.clone();
        config
    }

    /// Creates a company through the API as the platform admin; returns its JSON.
    pub async fn create_company(&self, name: &str) -> Value {
        self.create_company_under(name, None).await
    }

    /// `company`'s charges (negative amounts), sorted, read from its ledger as the platform
    /// admin.
    pub async fn charges(&self, company: &Value) -> Vec<i64> {
        let admin = self.admin_token().await;
        let path = format!(
            "/company/{}/transactions?limit=200",
            company["id"].as_str().expect("a company id")
        );
        charge_amounts(&self.get_json(&path, &admin).await)
    }

    /// Tops up `company`'s balance as the platform admin (for tests that process calls).
    pub async fn fund(&self, company: &Value, amount: i64) {
        let admin = self.admin_token().await;
        let path = format!(
            "/company/{}/topup",
            company["id"].as_str().expect("a company id")
        );
        let body = json!({"amount": amount, "idempotency_key": "seed"});
        let response = self.post(&path, Some(&admin), &body).await;
        assert_eq!(response.status(), 201, "the top-up should succeed");
    }

    /// Creates a company, optionally as a sub-company of `parent`.
    pub async fn create_company_under(&self, name: &str, parent: Option<&Value>) -> Value {
        let admin = self.admin_token().await;
        let body = json!({"name": name, "parent_company_id": parent.map(|p| p["id"].clone())});
        let response = self.post("/company", Some(&admin), &body).await;
        assert_eq!(response.status(), 201, "company creation should succeed");
        response.json().await.expect("json")
    }

    /// POSTs a multipart form to `path`.
    pub async fn multipart(
        &self,
        path: &str,
        token: &str,
        form: reqwest::multipart::Form,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("request sent")
    }

    /// Closes the server's connection pool, as if the database went away.
    pub async fn break_database(&self) {
        self.server_database.clone().close().await.ok();
    }
}

/// The amounts of the `charge` entries of a page of a company's ledger, sorted.
pub fn charge_amounts(ledger: &Value) -> Vec<i64> {
    let mut charges: Vec<i64> = ledger["items"]
        .as_array()
        .expect("ledger items")
        .iter()
        .filter(|entry| entry["kind"] == "charge")
        .map(|entry| entry["amount"].as_i64().expect("an amount"))
        .collect();
    charges.sort();
    charges
}

/// The `action` of every activity-log entry in `entries` (a JSON array), in order.
pub fn actions(entries: &Value) -> Vec<String> {
    entries
        .as_array()
        .expect("an array of activity-log entries")
        .iter()
        .map(|e| e["action"].as_str().expect("an action").to_owned())
        .collect()
}

/// Reads a problem+json error response, checking its content type and shape.
pub async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status, "unexpected status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.expect("problem body is JSON");
    assert_eq!(body["status"], status);
    for member in ["type", "title", "detail"] {
        assert!(body[member].is_string(), "problem lacks {member}: {body}");
    }
    body
}
