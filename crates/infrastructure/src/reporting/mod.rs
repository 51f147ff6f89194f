//! Read models of the reporting crate: aggregate queries over records, checklist verdicts and
//! the ledger. Series are grouped by UTC slot (`call_at / SLOT_MS`); the service buckets them.

mod aggregate;
mod compliance;
mod dashboard;
mod scope;
mod usage;

pub use compliance::SeaOrmComplianceFigures;
pub use dashboard::SeaOrmDashboardFigures;
pub use usage::SeaOrmUsageFigures;
