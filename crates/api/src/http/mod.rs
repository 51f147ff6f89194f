//! HTTP plumbing shared by every route: problem+json errors, request ids and logging, the
//! bearer-token extractor, extractor error handlers and the unknown-route fallback.

mod auth;
mod csv;
mod extract;
mod fallback;
mod metrics;
mod plain_text;
mod problem;
mod request_context;
pub mod timestamp;

pub use auth::Authenticated;
pub use csv::{Cell, CsvTable, csv_response, push_csv_field};
pub use extract::{QueryValues, json_config, path_config, present, query_config};
pub use fallback::{RouteTable, ensure_problem_body, unknown_route};
pub use metrics::{Metrics, Provider, RequestOutcome, UNMATCHED_ROUTE};
pub use plain_text::refuse_control_characters;
pub use problem::{ApiError, PROBLEM_JSON, Problem};
pub use request_context::{Meta, REQUEST_ID_HEADER, request_context};
