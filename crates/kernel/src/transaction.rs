use std::any::Any;

use async_trait::async_trait;

use crate::DomainResult;

/// One database transaction, opaque to the domain. Repositories of any domain accept it, so a
/// change, its audit entry and anything else that must be atomic commit together. Dropping it
/// without `commit` rolls everything back.
#[async_trait]
pub trait Transaction: Send {
    async fn commit(self: Box<Self>) -> DomainResult<()>;
    /// Lets the adapter that created the transaction get its own type back.
    fn as_any(&mut self) -> &mut (dyn Any + Send);
}

/// How ports take a transaction: `tx: &mut Tx`. (The explicit `'static` keeps the trait object
/// lifetime simple for mockall.)
pub type Tx = dyn Transaction + 'static;

/// Opens transactions. Rule for use cases: read what you need first, then `begin`, and inside
/// the transaction call only port methods that take it — on SQLite the writer has one
/// connection, which the open transaction holds, and a read outside the transaction does not
/// see its changes.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait UnitOfWork: Send + Sync {
    async fn begin(&self) -> DomainResult<Box<dyn Transaction>>;
}

/// A transaction that does nothing, for unit tests whose repositories are mocks.
#[cfg(any(test, feature = "mock"))]
pub struct NoopTransaction;

#[cfg(any(test, feature = "mock"))]
#[async_trait]
impl Transaction for NoopTransaction {
    async fn commit(self: Box<Self>) -> DomainResult<()> {
        Ok(())
    }

    fn as_any(&mut self) -> &mut (dyn Any + Send) {
        self
    }
}

/// A unit of work whose transactions do nothing; `begin` may be called any number of times.
#[cfg(any(test, feature = "mock"))]
pub fn noop_unit_of_work() -> MockUnitOfWork {
    let mut uow = MockUnitOfWork::new();
    uow.expect_begin()
        .returning(|| Ok(Box::new(NoopTransaction) as Box<dyn Transaction>));
    uow
}
