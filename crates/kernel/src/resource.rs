/// Every kind of thing the activity log records changes to. The trail access check matches it
/// exhaustively, so a new kind of resource cannot be added without deciding who reads its
/// trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceType {
    Account,
    Company,
    /// A company-administrator grant; its id is the administrator's account id.
    Administrator,
    /// A user's settings; the id is the account id.
    Settings,
    Record,
    Operator,
    Checklist,
    /// An AI chat session about a call; its entries are the session's opening, questions and
    /// deletion.
    ChatSession,
    /// A company's connections to its PBX and CRM (and the automatic import); the id is the
    /// company's, the entries' details name which connection changed.
    Integration,
    /// The log itself (purges); only platform admins read its trail.
    ActivityLog,
}

impl ResourceType {
    pub const ALL: [ResourceType; 10] = [
        ResourceType::Account,
        ResourceType::Company,
        ResourceType::Administrator,
        ResourceType::Settings,
        ResourceType::Record,
        ResourceType::Operator,
        ResourceType::Checklist,
        ResourceType::ChatSession,
        ResourceType::Integration,
        ResourceType::ActivityLog,
    ];

    /// The stored and wire name (unchanged from the first entries written).
    pub const fn as_str(self) -> &'static str {
        match self {
            ResourceType::Account => "account",
            ResourceType::Company => "company",
            ResourceType::Administrator => "company_administrator",
            ResourceType::Settings => "user_settings",
            ResourceType::Record => "record",
            ResourceType::Operator => "operator",
            ResourceType::Checklist => "checklist",
            ResourceType::ChatSession => "chat_session",
            ResourceType::Integration => "integration",
            ResourceType::ActivityLog => "activity_log",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == value)
    }

    /// `account, company, …`, for messages naming the allowed values.
    pub fn names() -> String {
        Self::ALL.map(Self::as_str).join(", ")
    }
}

impl std::fmt::Display for ResourceType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for resource in ResourceType::ALL {
            assert_eq!(ResourceType::parse(resource.as_str()), Some(resource));
        }
        assert_eq!(ResourceType::parse("Account"), None);
    }
}
