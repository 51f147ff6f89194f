//! Usage statistics, the dashboard and the compliance dashboard: read models over calls,
//! checklist verdicts and the ledger.
//!
//! Every figure starts from [`Framing::frame`] (whose rows, which period, in the caller's time
//! zone); series are cut by [`Period::buckets`] from the UTC slots adapters group by.

mod period;
mod ports;
mod scope;

pub use period::{
    Bucket, Buckets, DEFAULT_PERIOD_DAYS, Granularity, MAX_PERIOD_DAYS, Period, SLOT_MS,
};
pub use ports::*;
pub use scope::{FigureRequest, FigureScope, Framing, require_platform_admin};
