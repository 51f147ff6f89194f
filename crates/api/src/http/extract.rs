use std::collections::BTreeMap;

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::web;
use serde_json::error::Category;

use super::ApiError;

/// JSON bodies: syntax errors are 400, well-formed JSON of the wrong shape is 422 (naming the
/// field when serde does), a missing or wrong content type 415, an oversized body 413.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|error, _req| json_error(error).into())
}

fn json_error(error: JsonPayloadError) -> ApiError {
    match error {
        JsonPayloadError::Deserialize(error) => match error.classify() {
            Category::Data => ApiError::validation(field_message(&error.to_string()))
                .detail(format!("the JSON body does not fit the schema: {error}")),
            _ => ApiError::bad_request(format!("the body is not valid JSON: {error}")),
        },
        JsonPayloadError::ContentType => ApiError::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)
            .detail("send the body as application/json"),
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => {
            ApiError::for_status(StatusCode::PAYLOAD_TOO_LARGE)
                .detail(format!("the body is larger than the {limit}-byte limit"))
        }
        other => ApiError::bad_request(format!("the body could not be read: {other}")),
    }
}

/// serde names the field in "missing field `x`" and "unknown field `x`"; anything else is
/// reported against the body as a whole.
fn field_message(message: &str) -> BTreeMap<String, String> {
    let field = message
        .split('`')
        .nth(1)
        .filter(|_| message.starts_with("missing field") || message.starts_with("unknown field"));
    let (field, text) = match field {
        Some(field) if message.starts_with("missing field") => (field, "is required".to_owned()),
        Some(field) => (field, "is not a known field".to_owned()),
        None => ("body", message.to_owned()),
    };
    BTreeMap::from([(field.to_owned(), text)])
}

/// Query strings of the wrong shape are 422.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _req| {
        let detail = match error {
            QueryPayloadError::Deserialize(e) => e.to_string(),
            other => other.to_string(),
        };
        ApiError::validation(BTreeMap::from([("query".to_owned(), detail.clone())]))
            .detail(format!("invalid query string: {detail}"))
            .into()
    })
}

/// A malformed path parameter (an id that is not a UUID) means no such resource: 404.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|error: PathError, req| {
        ApiError::for_status(StatusCode::NOT_FOUND)
            .detail(format!("no resource at {}: {error}", req.path()))
            .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_name_the_field() {
        assert_eq!(
            field_message("missing field `password` at line 1 column 20"),
            BTreeMap::from([("password".to_owned(), "is required".to_owned())])
        );
        assert_eq!(
            field_message("unknown field `pasword`, expected one of ..."),
            BTreeMap::from([("pasword".to_owned(), "is not a known field".to_owned())])
        );
        assert!(field_message("invalid type: integer `5`, expected a string").contains_key("body"));
    }
}

/// For `Option<Option<T>>` body fields: absent → `None` (leave as is), `null` → `Some(None)`
/// (clear), a value → `Some(Some(v))`. Use with `#[serde(default)]`.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Parses optional query values into typed ones, collecting a message per bad field.
#[derive(Default)]
pub struct QueryValues {
    pub errors: dialix_kernel::FieldErrors,
}

impl QueryValues {
    pub fn boolean(&mut self, field: &str, raw: Option<&str>) -> Option<bool> {
        match raw?.trim() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => {
                self.errors.add(field, "must be true or false");
                None
            }
        }
    }

    pub fn uuid(&mut self, field: &str, raw: Option<&str>) -> Option<uuid::Uuid> {
        let parsed = uuid::Uuid::parse_str(raw?.trim());
        if parsed.is_err() {
            self.errors.add(field, "must be a UUID");
        }
        parsed.ok()
    }

    /// An RFC 3339 date-time.
    pub fn date(&mut self, field: &str, raw: Option<&str>) -> Option<time::OffsetDateTime> {
        let parsed = time::OffsetDateTime::parse(
            raw?.trim(),
            &time::format_description::well_known::Rfc3339,
        );
        if parsed.is_err() {
            self.errors.add(field, "must be an RFC 3339 date-time");
        }
        parsed.ok()
    }

    /// A calendar date, `YYYY-MM-DD`.
    pub fn calendar_date(&mut self, field: &str, raw: Option<&str>) -> Option<time::Date> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let parsed = time::Date::parse(raw?.trim(), format);
        if parsed.is_err() {
            self.errors.add(field, "must be a date, YYYY-MM-DD");
        }
        parsed.ok()
    }

    /// One of a closed set of names (`parse` knows them; `names` lists them for the message).
    pub fn choice<T>(
        &mut self,
        field: &str,
        raw: Option<&str>,
        parse: impl Fn(&str) -> Option<T>,
        names: &[&str],
    ) -> Option<T> {
        let parsed = parse(raw?.trim());
        if parsed.is_none() {
            self.errors
                .add(field, format!("must be one of: {}", names.join(", ")));
        }
        parsed
    }

    /// A whole number within `range`.
    pub fn number(
        &mut self,
        field: &str,
        raw: Option<&str>,
        range: std::ops::RangeInclusive<u32>,
    ) -> Option<u32> {
        let parsed = raw?
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| range.contains(n));
        if parsed.is_none() {
            self.errors.add(
                field,
                format!(
                    "must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            );
        }
        parsed
    }

    /// Paging from `limit` and `offset` (or its alias `skip`).
    pub fn page(
        &mut self,
        limit: Option<&str>,
        offset: Option<&str>,
    ) -> dialix_kernel::PageRequest {
        dialix_kernel::PageRequest::parse(limit, offset, &mut self.errors).unwrap_or_default()
    }

    pub fn finish(self) -> Result<(), ApiError> {
        self.errors.into_result().map_err(ApiError::from)
    }
}
