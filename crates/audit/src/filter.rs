use dialix_kernel::{AccountId, CompanyId, DomainResult, FieldErrors, ResourceType};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::AuditAction;

/// Filters as the caller typed them; `AuditFilterInput::parse` checks them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilterInput {
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub action: Option<String>,
    pub resource_type: Option<String>,
    pub user_id: Option<String>,
}

/// Which entries to return. Dates are inclusive bounds on `created_at`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub user_id: Option<AccountId>,
    pub company_id: Option<CompanyId>,
    pub resource: Option<(ResourceType, String)>,
    pub action: Option<AuditAction>,
    pub resource_type: Option<ResourceType>,
    pub start: Option<OffsetDateTime>,
    pub end: Option<OffsetDateTime>,
}

impl AuditFilterInput {
    /// Checks every filter, reporting all bad ones at once.
    pub fn parse(&self) -> DomainResult<AuditFilter> {
        let mut errors = FieldErrors::new();
        let date = |field: &str, raw: &Option<String>, errors: &mut FieldErrors| {
            raw.as_deref().and_then(|raw| {
                OffsetDateTime::parse(raw.trim(), &Rfc3339)
                    .map_err(|_| {
                        errors.add(
                            field,
                            "must be an RFC 3339 date-time, e.g. 2026-11-26T00:00:00Z",
                        )
                    })
                    .ok()
            })
        };
        let start = date("start_date", &self.start_date, &mut errors);
        let end = date("end_date", &self.end_date, &mut errors);
        if let (Some(start), Some(end)) = (start, end) {
            errors.check(start <= end, "end_date", "must not be before start_date");
        }
        let action = self.action.as_deref().and_then(|raw| {
            let parsed = AuditAction::parse(raw.trim());
            if parsed.is_none() {
                let known: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
                errors.add("action", format!("must be one of {}", known.join(", ")));
            }
            parsed
        });
        let resource_type = self.resource_type.as_deref().and_then(|raw| {
            let parsed = ResourceType::parse(raw.trim());
            if parsed.is_none() {
                errors.add(
                    "resource_type",
                    format!("must be one of {}", ResourceType::names()),
                );
            }
            parsed
        });
        let user_id = self.user_id.as_deref().and_then(|raw| {
            raw.trim()
                .parse::<AccountId>()
                .map_err(|_| errors.add("user_id", "must be a UUID"))
                .ok()
        });
        errors.into_result()?;
        Ok(AuditFilter {
            user_id,
            company_id: None,
            resource: None,
            action,
            resource_type,
            start,
            end,
        })
    }
}

#[cfg(test)]
mod tests {
    use dialix_kernel::DomainError;

    use super::*;

    #[test]
    fn good_filters_parse() {
        let filter = AuditFilterInput {
            start_date: Some("2026-11-01T00:00:00Z".into()),
            end_date: Some("2026-11-30T00:00:00+05:00".into()),
            action: Some("LOGIN_FAILED".into()),
            resource_type: Some("account".into()),
            user_id: None,
        }
        .parse()
        .unwrap();
        assert_eq!(filter.action, Some(AuditAction::LoginFailed));
        assert!(filter.start.unwrap() < filter.end.unwrap());
    }

    #[test]
    fn every_bad_filter_is_named() {
        let Err(DomainError::Validation(errors)) = (AuditFilterInput {
            start_date: Some("yesterday".into()),
            end_date: Some("2026-13-01".into()),
            action: Some("HACK".into()),
            resource_type: Some(String::new()),
            user_id: Some("42".into()),
        })
        .parse() else {
            panic!("expected validation errors");
        };
        let fields: Vec<_> = errors.iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            [
                "action",
                "end_date",
                "resource_type",
                "start_date",
                "user_id"
            ]
        );
    }

    #[test]
    fn an_inverted_range_is_refused() {
        let result = AuditFilterInput {
            start_date: Some("2026-11-30T00:00:00Z".into()),
            end_date: Some("2026-11-01T00:00:00Z".into()),
            ..Default::default()
        }
        .parse();
        assert!(result.is_err());
    }
}
