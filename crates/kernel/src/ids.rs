use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Declares a UUID newtype so that an account id can never be passed where a company id is
/// expected. New ids are UUID v7: time-ordered, so primary-key indexes stay append-mostly.
macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

typed_id!(
    /// Identifies a user account (a platform admin or a company user).
    AccountId
);
typed_id!(
    /// Identifies a company (a tenant, possibly a sub-company of another).
    CompanyId
);
typed_id!(
    /// Identifies a record: one uploaded call.
    RecordId
);
typed_id!(
    /// Identifies an operator (a call-center agent) of a company.
    OperatorId
);
typed_id!(
    /// Identifies a checklist (all its versions share it).
    ChecklistId
);
typed_id!(
    /// Identifies an AI chat session (questions about a call).
    ChatSessionId
);
typed_id!(
    /// Identifies one message (a question or an answer) of a chat session.
    ChatMessageId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_and_are_time_ordered() {
        let first = AccountId::generate();
        let second = AccountId::generate();
        assert!(first < second, "v7 ids sort by creation time");
        let parsed: AccountId = first.to_string().parse().unwrap();
        assert_eq!(parsed, first);
        assert!("not-a-uuid".parse::<CompanyId>().is_err());
    }
}
