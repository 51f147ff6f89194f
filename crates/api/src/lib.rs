//! The Dialix HTTP API: actix-web handlers over the domain services, problem+json errors,
//! the OpenAPI document, and the start-up sequence used by the `dialix` binary and by the
//! integration tests.

pub mod audio_copy;
pub mod cli;
pub mod config;
pub mod documents;
mod http;
mod measured;
mod metrics_server;
pub mod openapi;
mod routes;
pub mod shutdown;
pub mod startup;
mod state;
pub mod telemetry;
mod workers;

pub use http::Problem;
