//! Companies (tenants): the company tree, company administrators and their permissions,
//! blocking with cascade, membership history, and the balance ledger (top-ups now, charges
//! with calls).

mod model;
mod ports;
mod service;

pub use model::{
    Administrator, Company, CompanyChanges, CompanyFilter, CompanyStats, LedgerEntry, LedgerKind,
    MembershipAction, MembershipChange, NewCompany,
};
pub use ports::{Administrators, CompanyRepository, Ledger, Membership};
#[cfg(any(test, feature = "mock"))]
pub use ports::{MockAdministrators, MockCompanyRepository, MockLedger, MockMembership};
pub use service::{CompanyPorts, CompanyService, TOPUP_MAX, Topup, parse_permissions};
