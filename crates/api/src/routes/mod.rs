//! Route handlers, one module per area. Handlers are thin: parse, call one service method,
//! map the result. Every handler is registered here, which is also what puts it in the
//! OpenAPI document.

mod accounts;
mod activity_logs;
mod administrators;
mod analytics;
mod auth;
mod catalog;
mod chat;
mod chat_stream;
mod companies;
mod compliance;
mod dashboard;
mod figures;
mod grouping;
mod health;
mod integrations;
mod metrics;
mod pages;
mod pbx;
mod records;
mod settings;
mod users;

use utoipa_actix_web::service_config::ServiceConfig;

pub(crate) use metrics::exposition as metrics_exposition;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::health)
        .service(health::ready)
        .service(metrics::metrics)
        .service(auth::login)
        .service(auth::refresh)
        .service(auth::logout)
        .service(auth::me)
        .service(auth::update_me)
        .service(auth::change_password)
        .service(settings::get_settings)
        .service(settings::update_settings)
        .service(accounts::create_account)
        .service(users::list_users)
        .service(users::get_user)
        .service(users::update_user)
        .service(users::delete_user)
        .service(users::reset_password)
        .service(users::block_user)
        .service(users::unblock_user)
        .service(companies::create_company)
        .service(companies::list_companies)
        .service(companies::get_company)
        .service(companies::update_company)
        .service(companies::block_company)
        .service(companies::unblock_company)
        .service(companies::topup)
        .service(companies::transactions)
        .service(companies::company_users)
        .service(companies::transfer_user)
        .service(administrators::add_administrator)
        .service(administrators::list_administrators)
        .service(administrators::get_administrator)
        .service(administrators::update_administrator)
        .service(administrators::remove_administrator)
        .service(records::upload)
        .service(records::estimate_upload)
        .service(records::list_records)
        // Before `/records/{id}`, which would otherwise take "events" for an id.
        .service(records::events)
        .service(records::get_record)
        .service(records::delete_record)
        .service(records::audio)
        .service(records::balance)
        .service(catalog::create_operator)
        .service(catalog::list_operators)
        // Before `/operators/{id}`.
        .service(pbx::sync_operators)
        .service(catalog::get_operator)
        .service(catalog::update_operator)
        .service(catalog::delete_operator)
        .service(catalog::assign_checklist)
        .service(catalog::create_checklist)
        .service(catalog::list_checklists)
        .service(catalog::get_checklist)
        .service(catalog::update_checklist)
        .service(catalog::delete_checklist)
        .service(records::reprocess)
        .service(records::update_record)
        .service(records::refresh_crm)
        .service(integrations::connect_pbx)
        .service(integrations::get_pbx)
        .service(integrations::disconnect_pbx)
        .service(integrations::connect_bitrix)
        .service(integrations::get_bitrix)
        .service(integrations::disconnect_bitrix)
        .service(integrations::get_auto_import)
        .service(integrations::set_auto_import)
        .service(integrations::run_auto_import)
        .service(pbx::list_calls)
        .service(pbx::estimate)
        .service(pbx::import)
        .service(grouping::grouped_calls)
        .service(grouping::number_calls)
        .service(grouping::similar_calls)
        .service(analytics::usage)
        .service(analytics::expenses)
        .service(analytics::revenue)
        .service(analytics::trends)
        .service(compliance::compliance_metrics)
        .service(compliance::list_violations)
        .service(compliance::operator_tracking)
        .service(compliance::create_report)
        .service(dashboard::dashboard)
        .service(chat::open_session)
        .service(chat::ask)
        .service(chat::list_sessions)
        .service(chat::get_session)
        .service(chat::delete_session)
        .service(chat::suggested_questions)
        .service(activity_logs::own_logs)
        .service(activity_logs::verify_logs)
        .service(activity_logs::company_logs)
        .service(activity_logs::resource_logs);
}
