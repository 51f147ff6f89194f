use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest, HttpResponse, ResponseError, web};
use utoipa::openapi::OpenApi;

use super::{ApiError, PROBLEM_JSON};

/// The routes the API serves, as documented: used to tell "no such route" (404) from "this
/// route exists, but not with this method" (405).
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<String>, Vec<Method>)>,
}

impl RouteTable {
    pub fn from_openapi(doc: &OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path
                    .trim_matches('/')
                    .split('/')
                    .map(str::to_owned)
                    .collect();
                let methods = [
                    (&item.get, Method::GET),
                    (&item.post, Method::POST),
                    (&item.put, Method::PUT),
                    (&item.patch, Method::PATCH),
                    (&item.delete, Method::DELETE),
                ]
                .into_iter()
                .filter(|(operation, _)| operation.is_some())
                .map(|(_, method)| method)
                .collect();
                (segments, methods)
            })
            .collect();
        Self { routes }
    }

    /// The methods the path accepts, if any route matches it.
    fn methods_for(&self, path: &str) -> Option<Vec<Method>> {
        let wanted: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut found: Option<Vec<Method>> = None;
        for (segments, methods) in &self.routes {
            let matches = segments.len() == wanted.len()
                && segments
                    .iter()
                    .zip(&wanted)
                    .all(|(pattern, actual)| pattern.starts_with('{') || pattern == actual);
            if matches {
                found
                    .get_or_insert_with(Vec::new)
                    .extend(methods.iter().cloned());
            }
        }
        found
    }
}

/// The default service: a problem+json 404, or 405 with `Allow` when only the method is wrong.
pub async fn unknown_route(req: HttpRequest, routes: web::Data<RouteTable>) -> HttpResponse {
    match routes.methods_for(req.path()) {
        Some(methods) if !methods.contains(req.method()) => {
            let allow = methods
                .iter()
                .map(Method::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            let mut response = ApiError::for_status(StatusCode::METHOD_NOT_ALLOWED)
                .detail(format!("{} is not allowed here; use {allow}", req.method()))
                .error_response();
            if let Ok(value) = HeaderValue::from_str(&allow) {
                response.headers_mut().insert(header::ALLOW, value);
            }
            response
        }
        _ => ApiError::for_status(StatusCode::NOT_FOUND)
            .detail(format!("no route for {} {}", req.method(), req.path()))
            .error_response(),
    }
}

/// Rewrites any error response that is not yet problem+json (from actix itself or a library
/// extractor) into one, so clients never see an HTML or plain-text error.
pub async fn ensure_problem_body(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, BoxBody>>, Error> {
    let response = next.call(req).await?;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if !status.is_client_error() && !status.is_server_error() || is_problem {
        return Ok(response.map_into_left_body());
    }
    let (request, original) = response.into_parts();
    let mut replacement = ApiError::for_status(status).error_response();
    for (name, value) in original.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            replacement
                .headers_mut()
                .insert(name.clone(), value.clone());
        }
    }
    Ok(ServiceResponse::new(request, replacement).map_into_right_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteTable {
        RouteTable {
            routes: vec![
                (vec!["auth".into(), "me".into()], vec![Method::GET]),
                (
                    vec!["company".into(), "{id}".into()],
                    vec![Method::GET, Method::PATCH],
                ),
            ],
        }
    }

    #[test]
    fn templates_match_one_segment_per_parameter() {
        let table = table();
        assert_eq!(table.methods_for("/auth/me"), Some(vec![Method::GET]));
        assert_eq!(
            table.methods_for("/company/42"),
            Some(vec![Method::GET, Method::PATCH])
        );
        assert_eq!(table.methods_for("/company/42/extra"), None);
        assert_eq!(table.methods_for("/nothing"), None);
    }
}
