//! Route handlers, one module per area. Handlers are thin: parse, call one service method,
//! map the result. Every handler is registered here, which is also what puts it in the
//! OpenAPI document.

mod accounts;
mod activity_logs;
mod auth;
mod companies;
mod health;

use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::health)
        .service(health::ready)
        .service(auth::login)
        .service(auth::refresh)
        .service(auth::logout)
        .service(auth::me)
        .service(accounts::create_account)
        .service(companies::create_company)
        .service(activity_logs::own_logs)
        .service(activity_logs::verify_logs)
        .service(activity_logs::company_logs)
        .service(activity_logs::resource_logs);
}
