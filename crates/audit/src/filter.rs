use dialix_kernel::{AccountId, CompanyId, DomainResult, FieldErrors, ResourceType};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

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

impl AuditFilter {
    /// The chain this filter selects whole, if it selects one company's entries and nothing
    /// narrower. An entry's chain is its company (`AuditEvent::chain_id`), so "company X, no
    /// other condition" is exactly chain X, whose length its head gives
    /// (`ChainHead::entries`) without reading the entries.
    pub fn whole_chain(&self) -> Option<Uuid> {
        let Self {
            user_id: None,
            company_id: Some(company_id),
            resource: None,
            action: None,
            resource_type: None,
            start: None,
            end: None,
        } = self
        else {
            return None;
        };
        Some(company_id.as_uuid())
    }
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
    fn only_a_company_filter_with_no_other_condition_selects_a_whole_chain() {
        let company = CompanyId::generate();
        let whole = AuditFilter {
            company_id: Some(company),
            ..Default::default()
        };
        assert_eq!(whole.whole_chain(), Some(company.as_uuid()));
        assert_eq!(AuditFilter::default().whole_chain(), None);
        let narrower = [
            AuditFilter {
                user_id: Some(AccountId::generate()),
                ..whole.clone()
            },
            AuditFilter {
                resource: Some((ResourceType::Company, company.to_string())),
                ..whole.clone()
            },
            AuditFilter {
                action: Some(AuditAction::Login),
                ..whole.clone()
            },
            AuditFilter {
                resource_type: Some(ResourceType::Account),
                ..whole.clone()
            },
            AuditFilter {
                start: Some(OffsetDateTime::UNIX_EPOCH),
                ..whole.clone()
            },
            AuditFilter {
                end: Some(OffsetDateTime::UNIX_EPOCH),
                ..whole.clone()
            },
        ];
        for filter in narrower {
            assert_eq!(filter.whole_chain(), None, "{filter:?}");
        }
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
