//! When the event streams should read the records again ([`dialix_calls::RecordChangeSignal`]):
//! on PostgreSQL when the database announces a change, on SQLite on a timer.

mod polling;
mod postgres;

pub use polling::PolledRecordChanges;
pub use postgres::PgRecordChanges;
