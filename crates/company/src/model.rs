use dialix_kernel::CompanyId;
use time::OffsetDateTime;

/// A tenant. `balance` is in minor units (1/100 of a so'm) so money is never a float.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Company {
    pub id: CompanyId,
    pub name: String,
    pub description: Option<String>,
    pub is_active: bool,
    pub parent_company_id: Option<CompanyId>,
    /// 0 for a top-level company, the parent's level + 1 otherwise.
    pub hierarchy_level: i32,
    pub balance: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Company {
    /// The key that makes names unique regardless of case and surrounding spaces.
    pub fn name_key(name: &str) -> String {
        name.trim().to_lowercase()
    }
}

/// What a platform admin supplies to create a company.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCompany {
    pub name: String,
    pub description: Option<String>,
    pub parent_company_id: Option<CompanyId>,
}
