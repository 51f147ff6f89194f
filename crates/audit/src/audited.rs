//! The one way to commit a change: together with its activity-log entry.

use std::sync::Arc;

use dialix_kernel::{DomainError, DomainResult, Transaction, Tx, UnitOfWork};
use time::OffsetDateTime;

use crate::{AuditEvent, AuditLog};

/// Opens transactions whose commit takes the change's audit entry, so a change cannot be
/// committed without it. Work that is not anyone's change (the processing pipeline moving a
/// record through its steps) uses the bare `UnitOfWork` instead, and says so where it does.
pub struct AuditedUnitOfWork {
    uow: Arc<dyn UnitOfWork>,
    log: Arc<dyn AuditLog>,
}

impl AuditedUnitOfWork {
    pub fn new(uow: Arc<dyn UnitOfWork>, log: Arc<dyn AuditLog>) -> Self {
        Self { uow, log }
    }

    /// An entry that is the whole event (a read of something sensitive, a failed login).
    pub async fn record_alone(&self, event: AuditEvent, at: OffsetDateTime) -> DomainResult<()> {
        self.begin().await?.commit(event, at).await
    }

    pub async fn begin(&self) -> DomainResult<AuditedTransaction<'_>> {
        Ok(AuditedTransaction {
            tx: self.uow.begin().await?,
            log: self.log.as_ref(),
            earlier: Vec::new(),
        })
    }
}

/// A transaction that commits only with its audit entries. Dropping it rolls everything back.
pub struct AuditedTransaction<'a> {
    tx: Box<dyn Transaction>,
    log: &'a dyn AuditLog,
    earlier: Vec<AuditEvent>,
}

impl AuditedTransaction<'_> {
    /// Another entry of this change (one change can concern several resources); entries are
    /// appended in order at commit.
    pub fn record(&mut self, event: AuditEvent) {
        self.earlier.push(event);
    }

    /// Appends the recorded entries and `event` (the last one), then commits.
    pub async fn commit(mut self, event: AuditEvent, at: OffsetDateTime) -> DomainResult<()> {
        self.record(event);
        self.commit_recorded(at).await
    }

    /// Appends the recorded entries, then commits; with none recorded nothing is committed.
    pub async fn commit_recorded(mut self, at: OffsetDateTime) -> DomainResult<()> {
        if self.earlier.is_empty() {
            return Err(DomainError::internal(
                "a change was about to be committed without an audit entry",
            ));
        }
        for entry in std::mem::take(&mut self.earlier) {
            self.log.append(self.tx.as_mut(), entry, at).await?;
        }
        self.tx.commit().await
    }
}

/// Repositories take the transaction as `&mut Tx`.
impl AsMut<Tx> for AuditedTransaction<'_> {
    fn as_mut(&mut self) -> &mut Tx {
        self.tx.as_mut()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use dialix_kernel::ResourceType;
    use time::macros::datetime;

    use super::*;
    use crate::AuditAction;

    /// Transactions that write into a shared journal: what a commit keeps, and when.
    #[derive(Default, Clone)]
    struct Journal(Arc<Mutex<Vec<String>>>);

    struct RecordingTransaction {
        journal: Journal,
        pending: Vec<String>,
    }

    #[async_trait]
    impl Transaction for RecordingTransaction {
        async fn commit(self: Box<Self>) -> DomainResult<()> {
            let mut journal = self.journal.0.lock().unwrap();
            journal.extend(self.pending);
            journal.push("commit".into());
            Ok(())
        }

        fn as_any(&mut self) -> &mut (dyn std::any::Any + Send) {
            self
        }
    }

    struct RecordingUnitOfWork(Journal);

    #[async_trait]
    impl UnitOfWork for RecordingUnitOfWork {
        async fn begin(&self) -> DomainResult<Box<dyn Transaction>> {
            Ok(Box::new(RecordingTransaction {
                journal: self.0.clone(),
                pending: Vec::new(),
            }))
        }
    }

    fn pending(tx: &mut Tx) -> &mut Vec<String> {
        &mut tx
            .as_any()
            .downcast_mut::<RecordingTransaction>()
            .expect("a recording transaction")
            .pending
    }

    struct RecordingLog;

    #[async_trait]
    impl AuditLog for RecordingLog {
        async fn append(
            &self,
            tx: &mut Tx,
            event: AuditEvent,
            _: OffsetDateTime,
        ) -> DomainResult<()> {
            if event.action == AuditAction::Delete {
                return Err(DomainError::internal("the log is full"));
            }
            pending(tx).push(format!("audit {}", event.action.as_str()));
            Ok(())
        }
    }

    const NOW: OffsetDateTime = datetime!(2026-11-27 12:00 UTC);

    fn audited(journal: &Journal) -> AuditedUnitOfWork {
        AuditedUnitOfWork::new(
            Arc::new(RecordingUnitOfWork(journal.clone())),
            Arc::new(RecordingLog),
        )
    }

    #[tokio::test]
    async fn a_write_and_its_entries_share_one_commit() {
        let journal = Journal::default();
        let audited = audited(&journal);
        let mut tx = audited.begin().await.unwrap();
        pending(tx.as_mut()).push("write".into());
        tx.record(AuditEvent::system(
            AuditAction::Create,
            ResourceType::Record,
        ));
        tx.commit(
            AuditEvent::system(AuditAction::Update, ResourceType::Record),
            NOW,
        )
        .await
        .unwrap();
        assert_eq!(
            *journal.0.lock().unwrap(),
            ["write", "audit CREATE", "audit UPDATE", "commit"]
        );
    }

    #[tokio::test]
    async fn a_change_whose_entry_fails_is_not_committed() {
        let journal = Journal::default();
        let audited = audited(&journal);
        let mut tx = audited.begin().await.unwrap();
        pending(tx.as_mut()).push("write".into());
        let failed = tx
            .commit(
                AuditEvent::system(AuditAction::Delete, ResourceType::Record),
                NOW,
            )
            .await;
        assert!(failed.is_err());
        assert!(
            journal.0.lock().unwrap().is_empty(),
            "nothing was committed"
        );
    }

    #[tokio::test]
    async fn a_change_without_entries_cannot_be_committed() {
        let journal = Journal::default();
        let audited = audited(&journal);
        let mut tx = audited.begin().await.unwrap();
        pending(tx.as_mut()).push("write".into());
        assert!(tx.commit_recorded(NOW).await.is_err());
        assert!(journal.0.lock().unwrap().is_empty());
    }
}
