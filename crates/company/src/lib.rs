//! Companies (tenants) and their hierarchy. Later: company administrators, membership
//! history and the balance ledger.

mod model;
mod ports;
mod service;

pub use model::{Company, NewCompany};
pub use ports::CompanyRepository;
#[cfg(any(test, feature = "mock"))]
pub use ports::MockCompanyRepository;
pub use service::{CompanyPorts, CompanyService};

/// The resource type of companies in the activity log.
pub const RESOURCE_COMPANY: &str = "company";
