use std::any::Any;

use async_trait::async_trait;
use dialix_kernel::{DomainError, DomainResult, Transaction, Tx, UnitOfWork};
use sea_orm::DatabaseTransaction;

use crate::Database;
use crate::sql::internal;

/// Opens SeaORM transactions on the writer (on SQLite its one connection, so transactions
/// queue: one is open at a time).
pub struct SeaOrmUnitOfWork {
    db: Database,
}

impl SeaOrmUnitOfWork {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

struct SeaOrmTransaction(DatabaseTransaction);

#[async_trait]
impl UnitOfWork for SeaOrmUnitOfWork {
    async fn begin(&self) -> DomainResult<Box<dyn Transaction>> {
        let tx = self.db.begin().await.map_err(internal)?;
        Ok(Box::new(SeaOrmTransaction(tx)))
    }
}

#[async_trait]
impl Transaction for SeaOrmTransaction {
    async fn commit(self: Box<Self>) -> DomainResult<()> {
        self.0.commit().await.map_err(internal)
    }

    fn as_any(&mut self) -> &mut (dyn Any + Send) {
        self
    }
}

/// The SeaORM transaction behind a domain transaction. Only transactions opened by
/// `SeaOrmUnitOfWork` can be passed to these adapters; anything else is a wiring bug.
pub(crate) fn db_tx(tx: &mut Tx) -> DomainResult<&DatabaseTransaction> {
    tx.as_any()
        .downcast_mut::<SeaOrmTransaction>()
        .map(|t| &t.0)
        .ok_or_else(|| DomainError::internal("a transaction from another adapter was passed in"))
}
