//! Builds and runs the server: database, migrations, bootstrap admin, HTTP.

use std::net::TcpListener;

use actix_cors::Cors;
use actix_web::dev::{Server, ServerHandle};
use actix_web::http::{Method, header};
use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use dialix_audit::PurgeReport;
use dialix_infrastructure::{Database, DatabaseError, random_token};
use dialix_kernel::{DomainError, RequestMeta};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::config::Config;
use crate::http::{
    REQUEST_ID_HEADER, RouteTable, ensure_problem_body, json_config, path_config, query_config,
    request_context, unknown_route,
};
use crate::openapi;
use crate::state::{AppState, standalone_audit_service};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Database(#[from] DatabaseError),
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
    #[error("{0}")]
    Bootstrap(#[from] DomainError),
}

/// Opens the database and applies pending migrations.
pub async fn open_database(config: &Config) -> Result<Database, StartupError> {
    let database = Database::connect(&config.database_url).await?;
    database.migrate().await?;
    Ok(database)
}

/// Removes activity-log entries older than `before` (the `dialix audit purge` command).
pub async fn purge_audit_log(
    config: &Config,
    before: time::OffsetDateTime,
) -> Result<PurgeReport, StartupError> {
    let database = open_database(config).await?;
    let report = standalone_audit_service(&database)
        .purge(before, &RequestMeta::system())
        .await?;
    database.close().await?;
    Ok(report)
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    database: Database,
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let database = open_database(&config).await?;
        let jwt_secret = match &config.jwt_secret {
            Some(secret) => secret.clone(),
            None => {
                tracing::warn!(
                    "JWT_SECRET is not set: using a random secret, so tokens die with this process"
                );
                random_token()?
            }
        };
        let state = web::Data::new(AppState::build(&config, &jwt_secret, database.clone()).await?);
        if state
            .accounts
            .ensure_platform_admin(&config.admin_email, &config.admin_password)
            .await?
        {
            tracing::info!(email = %config.admin_email, "created the platform admin account");
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
                .wrap(from_fn(ensure_problem_body))
                .wrap(from_fn(request_context))
        })
        .listen(listener)?
        .shutdown_timeout(30);
        if let Some(workers) = config.http_workers {
            server = server.workers(workers);
        }
        tracing::info!(address = %config.bind_addr, port, "listening");
        Ok(Self {
            port,
            server: server.run(),
            database,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server from outside (tests); SIGTERM and SIGINT do the same in production,
    /// letting in-flight requests finish.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// The pool the server uses (tests close it to see readiness fail).
    pub fn database(&self) -> Database {
        self.database.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Applies the activity-log retention period now and every six hours.
async fn purge_periodically(state: web::Data<AppState>, retention: time::Duration) {
    let mut ticker = tokio::time::interval(std::time::Duration::from_secs(6 * 3600));
    loop {
        ticker.tick().await;
        let before = time::OffsetDateTime::now_utc() - retention;
        match state.audit.purge(before, &RequestMeta::system()).await {
            Ok(report) => tracing::info!(
                deleted = report.deleted,
                chains = report.chains,
                %before,
                "activity-log retention applied"
            ),
            Err(error) => tracing::error!(%error, "activity-log retention failed"),
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
