//! The Dialix HTTP API: actix-web handlers over the domain services, problem+json errors,
//! the OpenAPI document, and the start-up sequence used by the `dialix` binary and by the
//! integration tests.

pub mod config;
mod http;
pub mod openapi;
mod routes;
pub mod startup;
mod state;
pub mod telemetry;

pub use http::Problem;
