//! The vocabulary every Dialix domain crate shares: typed ids, who is acting, the error kinds
//! the API maps to HTTP once, and the clock port. No I/O lives here.

mod actor;
mod clock;
mod error;
mod ids;

pub use actor::{Actor, Role};
#[cfg(any(test, feature = "mock"))]
pub use clock::MockClock;
pub use clock::{Clock, SystemClock};
pub use error::{DomainError, DomainResult, FieldErrors};
pub use ids::{AccountId, CompanyId};
