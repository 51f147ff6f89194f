use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use dialix_account::Account;
use dialix_kernel::Actor;

use super::ApiError;
use crate::state::AppState;

/// The authenticated caller, resolved from `Authorization: Bearer <access token>`. Taking it
/// as a handler argument is what makes a route require authentication.
pub struct Authenticated {
    pub actor: Actor,
    pub account: Account,
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::unavailable("the server is starting"))?;
            let token = token?;
            let (actor, account) = state.auth.authenticate(&token).await?;
            Ok(Authenticated { actor, account })
        })
    }
}

fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthenticated("send an Authorization: Bearer <token> header"))?
        .to_str()
        .map_err(|_| ApiError::unauthenticated("the Authorization header is not readable"))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(ApiError::unauthenticated(
            "the Authorization header must be: Bearer <token>",
        )),
    }
}
