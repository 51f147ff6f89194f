//! Companies (tenants): the company tree, company administrators and their permissions,
//! blocking with cascade, membership history, and the balance ledger (top-ups now, charges
//! with calls).

mod administrators;
mod ledger;
mod membership;
mod model;
mod ports;
mod service;

pub use administrators::parse_permissions;
pub use ledger::{TOPUP_MAX, Topup};
pub use model::{
    Administrator, Company, CompanyChanges, CompanyFilter, CompanyStats, LedgerEntry, LedgerKind,
    MembershipAction, MembershipChange, NewCompany,
};
pub use ports::{Administrators, CompanyRepository, Ledger, Membership};
#[cfg(any(test, feature = "mock"))]
pub use ports::{MockAdministrators, MockCompanyRepository, MockLedger, MockMembership};
pub use service::{CompanyPorts, CompanyService};
