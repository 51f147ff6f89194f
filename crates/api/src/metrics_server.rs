//! `/metrics` on a port of its own (`METRICS_BIND_ADDR`), without a token: for a scraper on
//! a private network, and for `dialix worker`, which serves no other HTTP.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};

use crate::http::ApiError;
use crate::state::AppState;

/// A running (once polled) metrics server on `listener`; the shutdown stops it through its
/// handle.
pub fn start(state: web::Data<AppState>, listener: TcpListener) -> std::io::Result<Server> {
    let address = listener.local_addr()?;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/metrics", web::get().to(scrape))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    tracing::info!(%address, "serving /metrics");
    Ok(server)
}

async fn scrape(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    crate::routes::metrics_exposition(&state).await
}
