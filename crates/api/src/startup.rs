//! Builds and runs the server: database, migrations, bootstrap admin, HTTP, the in-process
//! workers, and their graceful shutdown.

use secrecy::{ExposeSecret, SecretString};
use std::net::TcpListener;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::{Server, ServerHandle};
use actix_web::http::{Method, header};
use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use dialix_audit::{PurgeCutoff, PurgeReport};
use dialix_infrastructure::{Database, DatabaseError, random_token};
use dialix_kernel::{DomainError, RequestMeta};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::config::Config;
use crate::http::{
    REQUEST_ID_HEADER, RouteTable, ensure_problem_body, json_config, path_config, query_config,
    refuse_control_characters, request_context, unknown_route,
};
use crate::openapi;
use crate::shutdown::Shutdown;
use crate::state::{AppState, standalone_audit_service};
use crate::workers::Workers;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Database(#[from] DatabaseError),
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
    #[error("{}", .0.chain())]
    Bootstrap(#[from] DomainError),
}

/// Opens the database and applies pending migrations.
pub async fn open_database(config: &Config) -> Result<Database, StartupError> {
    let database = Database::connect(&config.database_url).await?;
    database.migrate().await?;
    Ok(database)
}

/// Removes activity-log entries older than `before` (the `dialix audit purge` command).
/// `dialix audit purge`: returns the cutoff used and what was removed.
pub async fn purge_audit_log(
    config: &Config,
    cutoff: PurgeCutoff,
) -> Result<(time::OffsetDateTime, PurgeReport), StartupError> {
    let database = open_database(config).await?;
    let outcome = standalone_audit_service(&database)
        .purge(cutoff, &RequestMeta::system())
        .await?;
    database.close().await?;
    Ok(outcome)
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    /// `/metrics` without a token on `METRICS_BIND_ADDR`, and its port.
    metrics: Option<(Server, u16)>,
    database: Database,
    workers: Workers,
    shutdown: Shutdown,
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        dialix_infrastructure::install_tls_provider();
        let database = open_database(&config).await?;
        let jwt_secret = match &config.jwt_secret {
            Some(secret) => secret.clone(),
            None => {
                tracing::warn!(
                    "JWT_SECRET is not set: using a random secret, so tokens die with this process"
                );
                SecretString::from(random_token()?)
            }
        };
        if config.integrations.secrets_key.development {
            tracing::warn!(
                "DIALIX_SECRETS_KEY is not set: integration credentials are sealed with the \
                 public development key"
            );
        }
        let state = web::Data::new(AppState::build(&config, &jwt_secret, database.clone()).await?);
        if state
            .accounts
            .ensure_platform_admin(&config.admin_email, config.admin_password.expose_secret())
            .await?
        {
            tracing::info!(email = %config.admin_email, "created the platform admin account");
        }

        let shutdown = Shutdown::new(config.shutdown_grace);
        let workers = Workers::spawn(
            &state,
            config.processing.workers,
            config.processing.idle_poll,
            config.integrations.auto_import_poll,
            &shutdown,
        );
        let metrics = match config.metrics_bind_addr {
            Some(address) => {
                let listener = TcpListener::bind(address)?;
                let port = listener.local_addr()?.port();
                Some((crate::metrics_server::start(state.clone(), listener)?, port))
            }
            None => None,
        };
        {
            let state = state.clone();
            tokio::spawn(async move { apply_record_retention(state).await });
        }
        {
            let state = state.clone();
            let age = chat_abandon_age(&config);
            tokio::spawn(async move { release_abandoned_chat_reservations(state, age).await });
        }
        if let Some(retention) = config.audit_retention {
            let state = state.clone();
            tokio::spawn(async move { purge_periodically(state, retention).await });
        }

        let doc = openapi::document();
        let routes = web::Data::new(RouteTable::from_openapi(&doc));
        let listener = TcpListener::bind(config.bind_addr)?;
        let port = listener.local_addr()?.port();
        let cors_origins = config.cors_allowed_origins.clone();
        let max_body_bytes = config.max_body_bytes;

        let mut server = HttpServer::new(move || {
            let (app, _) = App::new()
                .into_utoipa_app()
                .configure(crate::routes::configure)
                .split_for_parts();
            app.app_data(state.clone())
                .app_data(routes.clone())
                .app_data(json_config(max_body_bytes))
                .app_data(web::PayloadConfig::new(max_body_bytes))
                .app_data(query_config())
                .app_data(path_config())
                .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", doc.clone()))
                .service(web::resource("/docs").get(|| async {
                    HttpResponse::PermanentRedirect()
                        .insert_header((header::LOCATION, "/docs/"))
                        .finish()
                }))
                .default_service(web::to(unknown_route))
                .wrap(Condition::new(
                    !cors_origins.is_empty(),
                    cors(&cors_origins),
                ))
                .wrap(from_fn(refuse_control_characters))
                .wrap(from_fn(ensure_problem_body))
                .wrap(from_fn(request_context))
        })
        // Responses are written as they are produced (streamed bodies in several writes):
        // with Nagle's algorithm on, a write after a small unacknowledged one waits for the
        // client's delayed ACK, about 40 ms per response on a keep-alive connection.
        .tcp_nodelay(true)
        .listen(listener)?
        // Our shutdown, not actix's own signal handling: one SIGTERM stops HTTP and workers.
        .disable_signals()
        .shutdown_timeout(config.shutdown_grace.as_secs());
        if let Some(workers) = config.http_workers {
            server = server.workers(workers);
        }
        tracing::info!(address = %config.bind_addr, port, "listening");
        Ok(Self {
            port,
            server: server.run(),
            metrics,
            database,
            workers,
            shutdown,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where `/metrics` is served without a token, if `METRICS_BIND_ADDR` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(_, port)| *port)
    }

    /// Stops the HTTP server from outside (tests); the workers then stop as in a shutdown.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Begins the graceful shutdown from outside (tests); SIGTERM and SIGINT do the same
    /// under [`Application::run_until_signalled`].
    pub fn shutdown(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// Stops the in-process workers at once, mid-job if need be, as a crash would; their jobs
    /// are claimed again when the lease runs out.
    pub fn abort_workers(&self) {
        for worker in self.workers.abort_handles() {
            worker.abort();
        }
    }

    /// Handles to stop the in-process workers from outside (tests).
    pub fn worker_handles(&self) -> Vec<tokio::task::AbortHandle> {
        self.workers.abort_handles()
    }

    /// The pool the server uses (tests close it to see readiness fail).
    pub fn database(&self) -> Database {
        self.database.clone()
    }

    /// Runs until the shutdown begins or the HTTP server is stopped through its handle; then
    /// HTTP drains and the workers finish or hand back their jobs within the grace period,
    /// and this returns.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Self {
            server,
            metrics,
            workers,
            shutdown,
            ..
        } = self;
        let mut servers = vec![server.handle()];
        servers.extend(metrics.as_ref().map(|(metrics, _)| metrics.handle()));
        let running = tokio::spawn({
            let shutdown = shutdown.clone();
            async move {
                let http = async {
                    let stopped = server.await;
                    // Stopped through its handle: the rest follows as in a shutdown.
                    shutdown.begin();
                    stopped
                };
                let (http, metrics) = tokio::join!(http, serve(metrics.map(|(server, _)| server)));
                http.and(metrics)
            }
        });
        wind_down(&shutdown, &servers, workers, running).await
    }

    /// `dialix serve`: runs until SIGTERM or SIGINT, then shuts down gracefully.
    pub async fn run_until_signalled(self) -> std::io::Result<()> {
        begin_on_signal(self.shutdown());
        self.run_until_stopped().await
    }
}

/// Begins `shutdown` at the first SIGTERM or SIGINT.
fn begin_on_signal(shutdown: Shutdown) {
    tokio::spawn(async move {
        crate::shutdown::signal().await;
        shutdown.begin();
    });
}

/// Runs the server, if any, until it is stopped.
async fn serve(server: Option<Server>) -> std::io::Result<()> {
    match server {
        Some(server) => server.await,
        None => Ok(()),
    }
}

/// Once the shutdown begins: the servers stop accepting connections, the workers finish or
/// hand back their jobs, then the servers drain within what is left of the grace period;
/// requests still open at its end are cut off when the process exits. Servers stop last
/// because pool connections opened on their threads die with them, and a worker finishing
/// its job may be holding one.
async fn wind_down(
    shutdown: &Shutdown,
    servers: &[ServerHandle],
    workers: Workers,
    running: tokio::task::JoinHandle<std::io::Result<()>>,
) -> std::io::Result<()> {
    shutdown.begun().await;
    for server in servers {
        server.pause().await;
    }
    workers.stopped().await;
    tracing::info!("processing workers stopped");
    let deadline = shutdown
        .deadline()
        .unwrap_or_else(tokio::time::Instant::now);
    let graceful = tokio::time::Instant::now() < deadline;
    for server in servers {
        drop(server.stop(graceful));
    }
    let stopped = if graceful {
        tokio::time::timeout_at(deadline, running).await
    } else {
        Ok(running.await)
    };
    let outcome = match stopped {
        Ok(joined) => {
            tracing::info!("HTTP stopped");
            joined
                .map_err(std::io::Error::other)
                .and_then(|served| served)
        }
        Err(_) => {
            tracing::warn!("the grace period is over: requests still open are cut off");
            Ok(())
        }
    };
    tracing::info!("shutdown complete");
    outcome
}

/// `dialix worker`: processing workers only (and `/metrics` on `METRICS_BIND_ADDR`), until
/// SIGINT or SIGTERM; then they finish or hand back their jobs within the grace period.
pub async fn run_workers(config: Config) -> Result<(), StartupError> {
    let database = open_database(&config).await?;
    // Workers sign no tokens; the secret only satisfies the shared composition root.
    let state = web::Data::new(
        AppState::build(&config, &SecretString::from(random_token()?), database).await?,
    );
    let count = config.processing.workers.max(1);
    let shutdown = Shutdown::new(config.shutdown_grace);
    let workers = Workers::spawn(
        &state,
        count,
        config.processing.idle_poll,
        config.integrations.auto_import_poll,
        &shutdown,
    );
    let metrics = config
        .metrics_bind_addr
        .map(|address| crate::metrics_server::start(state.clone(), TcpListener::bind(address)?))
        .transpose()?;
    let servers: Vec<ServerHandle> = metrics.iter().map(Server::handle).collect();
    let running = tokio::spawn(serve(metrics));
    tracing::info!(
        workers = count,
        "running processing workers; stop with SIGTERM or Ctrl-C"
    );
    begin_on_signal(shutdown.clone());
    Ok(wind_down(&shutdown, &servers, workers, running).await?)
}

/// Deletes expired audio and transcripts now and every six hours.
async fn apply_record_retention(state: web::Data<AppState>) {
    let mut ticker = tokio::time::interval(std::time::Duration::from_secs(6 * 3600));
    loop {
        ticker.tick().await;
        match state.retention.run(false).await {
            Ok(report) => {
                tracing::info!(
                    records = report.records.len(),
                    orphaned_audio = report.orphaned_audio.len(),
                    "record retention applied"
                )
            }
            Err(error) => tracing::error!(error = %error.chain(), "record retention failed"),
        }
    }
}

/// How old a chat question's reservation must be to count as abandoned: twice the longest a
/// question can wait for the model (every attempt using its whole timeout), and at least half
/// an hour, since a streamed answer may take longer than one exchange's timeout.
fn chat_abandon_age(config: &Config) -> Duration {
    let http = &config.providers.http;
    (http.timeout * http.attempts * 2).max(Duration::from_secs(30 * 60))
}

/// Gives back, now and every ten minutes, the price reservations of chat questions whose
/// process died before it settled or released them.
async fn release_abandoned_chat_reservations(state: web::Data<AppState>, age: Duration) {
    let mut ticker = tokio::time::interval(Duration::from_secs(10 * 60));
    loop {
        ticker.tick().await;
        let before = time::OffsetDateTime::now_utc() - age;
        match state.chat.release_abandoned(before).await {
            Ok(released) if released.is_empty() => {}
            Ok(released) => tracing::info!(
                reservations = released.len(),
                amount = released.iter().map(|r| r.amount).sum::<i64>(),
                "released abandoned chat reservations"
            ),
            Err(error) => {
                tracing::error!(error = %error.chain(), "releasing abandoned chat reservations failed")
            }
        }
    }
}

/// `dialix retention run [--dry-run]`: applies record retention once.
pub async fn run_retention(
    config: &Config,
    dry_run: bool,
) -> Result<dialix_calls::RetentionReport, StartupError> {
    let database = open_database(config).await?;
    let state = AppState::build(
        config,
        &SecretString::from(random_token()?),
        database.clone(),
    )
    .await?;
    let report = state.retention.run(dry_run).await?;
    database.close().await?;
    Ok(report)
}

/// Applies the activity-log retention period now and every six hours.
async fn purge_periodically(state: web::Data<AppState>, retention: time::Duration) {
    let mut ticker = tokio::time::interval(std::time::Duration::from_secs(6 * 3600));
    loop {
        ticker.tick().await;
        let cutoff = PurgeCutoff::OlderThan(retention);
        match state.audit.purge(cutoff, &RequestMeta::system()).await {
            Ok((before, report)) => tracing::info!(
                deleted = report.deleted,
                chains = report.chains,
                %before,
                "activity-log retention applied"
            ),
            Err(error) => tracing::error!(error = %error.chain(), "activity-log retention failed"),
        }
    }
}

/// CORS for the web dashboard's origins. Credentials travel in the Authorization header, not
/// cookies, so credentialed CORS is not needed.
fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::HeaderName::from_static(REQUEST_ID_HEADER),
        ])
        .expose_headers([header::HeaderName::from_static(REQUEST_ID_HEADER)])
        .max_age(3600)
}
