//! The OpenAPI 3.1 document. Paths and schemas are collected from the registered handlers
//! (utoipa-actix-web), so a route cannot be served without being documented.

use actix_web::App;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::http::Problem;

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
        (name = "operators", description = "Call-center operators of a company"),
        (name = "checklists", description = "Versioned quality checklists"),
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
    let (_, doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::configure)
        .split_for_parts();
    doc
}
