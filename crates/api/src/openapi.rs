//! The OpenAPI 3.1 document. Paths and schemas are collected from the registered handlers
//! (utoipa-actix-web), so a route cannot be served without being documented.

use actix_web::App;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, OpenApi as OpenApiDoc, Ref, RefOr, Response, ResponseBuilder,
};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::http::{PROBLEM_JSON, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Dialix API",
        description = "Call-center speech analytics: companies upload operators' calls, which are \
            transcribed, analysed and billed per minute.\n\nErrors are `application/problem+json` \
            (RFC 7807). Authenticate with `POST /auth/login` and send \
            `Authorization: Bearer <access_token>`."
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "auth", description = "Login, token refresh, logout, the caller's account"),
        (name = "admin: users", description = "Account management by administrators"),
        (name = "companies", description = "Companies (tenants): hierarchy, block, balance, members"),
        (name = "company administrators", description = "Who administers a company, with which permissions"),
        (name = "settings", description = "The caller's own settings"),
        (name = "records", description = "Uploaded calls and their audio"),
        (name = "grouping", description = "Repeat-call chains by client number, first-contact resolution, similar calls"),
        (name = "analytics", description = "Usage statistics: usage, spend, revenue and trends over a period"),
        (name = "dashboard", description = "One period's call volume, sentiments, call purposes, operator performance, satisfaction and repeat calls"),
        (name = "chat", description = "AI chat about a call: answers from the call only, with checked citations"),
        (name = "operators", description = "Call-center operators of a company"),
        (name = "checklists", description = "Versioned quality checklists"),
        (name = "integrations", description = "A company's OnlinePBX and Bitrix24 connections (credentials encrypted, shown masked) and the automatic import"),
        (name = "pbx", description = "The company's OnlinePBX calls: listing with import state, estimate, import into processing"),
        (name = "activity logs", description = "The audit trail of every change, tamper-evident"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The full document: the static part above plus every route `routes::configure` registers.
pub fn document() -> OpenApiDoc {
    let (_, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::configure)
        .split_for_parts();
    add_shared_responses(&mut doc);
    doc
}

/// Responses every operation of a kind can give, declared once: 401 for the secured ones,
/// 413 and 415 for those taking a body (the limits and the content type are checked before
/// any handler runs).
fn add_shared_responses(doc: &mut OpenApiDoc) {
    for item in doc.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
            let with_body = operation.request_body.is_some();
            let shared = [
                (secured, "401", "Missing, invalid or expired access token"),
                (with_body, "413", "The body is over the size limit"),
                (
                    with_body,
                    "415",
                    "The body is not of a supported media type",
                ),
            ];
            for (applies, status, description) in shared {
                if applies && !operation.responses.responses.contains_key(status) {
                    operation
                        .responses
                        .responses
                        .insert(status.to_owned(), problem_response(description));
                }
            }
        }
    }
}

fn problem_response(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build(),
    )
}
