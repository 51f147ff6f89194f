//! Control characters in the path or query string are refused before any route runs: a NUL
//! cannot be stored by PostgreSQL and no id, filter or search term of this API contains one.

use std::collections::BTreeMap;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, ResponseError};

use super::ApiError;

/// 422 for a request whose decoded path or query string holds a control character.
pub async fn refuse_control_characters(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let offending = [("path", req.path()), ("query", req.query_string())]
        .into_iter()
        .find(|(_, raw)| has_encoded_control(raw))
        .map(|(part, _)| part);
    match offending {
        None => Ok(next.call(req).await?.map_into_left_body()),
        Some(part) => {
            let message = "must not contain control characters (such as %00)";
            let error = ApiError::validation(BTreeMap::from([(part.to_owned(), message.into())]))
                .detail(format!("the {part} contains a control character"));
            Ok(req.into_response(error.error_response().map_into_right_body()))
        }
    }
}

/// Whether percent-decoding `raw` yields a C0 control character, DEL or a C1 control (its
/// UTF-8 form `%C2%80`…`%C2%9F`). Raw control bytes never reach here: the HTTP parser refuses
/// them in the request line.
fn has_encoded_control(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    let decoded = |at: usize| -> Option<u8> {
        if bytes.get(at) != Some(&b'%') {
            return None;
        }
        let hex = std::str::from_utf8(bytes.get(at + 1..at + 3)?).ok()?;
        u8::from_str_radix(hex, 16).ok()
    };
    (0..bytes.len()).any(|at| match decoded(at) {
        Some(byte) if byte < 0x20 || byte == 0x7f => true,
        Some(0xc2) => decoded(at + 3).is_some_and(|next| (0x80..=0x9f).contains(&next)),
        _ => bytes[at] < 0x20 || bytes[at] == 0x7f,
    })
}

#[cfg(test)]
mod tests {
    use super::has_encoded_control;

    #[test]
    fn encoded_controls_are_found_and_plain_text_passes() {
        for raw in ["a%00b", "%0A", "x=%7f", "%C2%85", "%c2%9f"] {
            assert!(has_encoded_control(raw), "{raw}");
        }
        for raw in [
            "",
            "phone=%2B998901234567",
            "q=caf%C3%A9",
            "%C2%A0",
            "100%",
            "%4",
            "%zz",
        ] {
            assert!(!has_encoded_control(raw), "{raw}");
        }
    }
}
