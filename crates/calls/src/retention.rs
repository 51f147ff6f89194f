//! Retention: the audio and transcript of calls older than their owner's
//! `auto_delete_records_after_days` are deleted; the record, its results and its ledger
//! entries stay.

use std::sync::Arc;

use dialix_audit::{AuditAction, AuditEvent, AuditLog, AuditedUnitOfWork};
use dialix_kernel::{
    Clock, DEFAULT_RETENTION_DAYS, DomainError, DomainResult, RequestMeta, ResourceType, UnitOfWork,
};
use serde_json::json;
use time::OffsetDateTime;

use crate::{AudioStore, Record, RecordRepository, RetentionCandidates};

/// What a retention run found (and, unless it was a dry run, deleted).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RetentionReport {
    pub records: Vec<Record>,
    /// Audio files no record points to (left by an upload interrupted between storing the
    /// file and committing its record).
    pub orphaned_audio: Vec<String>,
    pub dry_run: bool,
}

/// Files younger than this may belong to an upload still committing its records.
const ORPHAN_GRACE: time::Duration = time::Duration::hours(1);

/// Applies retention in batches.
pub struct RetentionService {
    candidates: Arc<dyn RetentionCandidates>,
    records: Arc<dyn RecordRepository>,
    audio: Arc<dyn AudioStore>,
    audited: AuditedUnitOfWork,
    clock: Arc<dyn Clock>,
}

/// The adapters `RetentionService` works through.
pub struct RetentionPorts {
    pub candidates: Arc<dyn RetentionCandidates>,
    pub records: Arc<dyn RecordRepository>,
    pub audio: Arc<dyn AudioStore>,
    pub uow: Arc<dyn UnitOfWork>,
    pub audit: Arc<dyn AuditLog>,
    pub clock: Arc<dyn Clock>,
}

const BATCH: u64 = 500;

impl RetentionService {
    pub fn new(ports: RetentionPorts) -> Self {
        Self {
            candidates: ports.candidates,
            records: ports.records,
            audio: ports.audio,
            audited: AuditedUnitOfWork::new(ports.uow, ports.audit),
            clock: ports.clock,
        }
    }

    pub async fn run(&self, dry_run: bool) -> DomainResult<RetentionReport> {
        let now = self.clock.now();
        let mut report = RetentionReport {
            dry_run,
            orphaned_audio: self.sweep_orphans(now, dry_run).await?,
            ..Default::default()
        };
        loop {
            let batch = self
                .candidates
                .expired(now, DEFAULT_RETENTION_DAYS, BATCH)
                .await?;
            let done = (batch.len() as u64) < BATCH;
            if dry_run {
                report.records.extend(batch);
                return Ok(report);
            }
            report.records.extend(self.clean(batch, now).await?);
            if done {
                return Ok(report);
            }
        }
    }

    /// Removes (or, in a dry run, lists) audio files that no record points to: call
    /// recordings are personal data and must not outlive their record.
    async fn sweep_orphans(&self, now: OffsetDateTime, dry_run: bool) -> DomainResult<Vec<String>> {
        let files = self.audio.written_before(now - ORPHAN_GRACE).await?;
        let referenced: std::collections::HashSet<String> = self
            .records
            .referenced_keys(&files)
            .await?
            .into_iter()
            .collect();
        let orphans: Vec<String> = files
            .into_iter()
            .filter(|key| !referenced.contains(key))
            .collect();
        if !dry_run {
            for key in &orphans {
                self.audio.delete(key).await?;
                tracing::warn!(key, "retention: removed an audio file no record points to");
            }
        }
        Ok(orphans)
    }

    /// Removes the audio and transcript of a batch in one transaction, an audit entry per
    /// call, then deletes the audio files. A call changed since the batch was read is left
    /// for the next run, which sees it as it is then. Returns the calls cleaned.
    async fn clean(&self, batch: Vec<Record>, now: OffsetDateTime) -> DomainResult<Vec<Record>> {
        let mut tx = self.audited.begin().await?;
        let mut cleaned = Vec::with_capacity(batch.len());
        let mut keys = Vec::new();
        for original in batch {
            let mut record = original.clone();
            let key = record.storage_key.take();
            let had_transcript = record.payload.transcript.take().is_some();
            record.updated_at = now;
            match self.records.update(tx.as_mut(), &mut record).await {
                Ok(()) => {}
                Err(DomainError::Stale(_)) => continue,
                Err(other) => return Err(other),
            }
            tx.record(
                AuditEvent {
                    resource_id: Some(record.id.to_string()),
                    company_id: Some(record.company_id),
                    ..AuditEvent::system(AuditAction::Delete, ResourceType::Record)
                }
                .details(json!({
                    "retention": true,
                    "audio_removed": key.is_some(),
                    "transcript_removed": had_transcript,
                    "created_at": record.created_at.unix_timestamp(),
                }))
                .meta(&RequestMeta::system()),
            );
            keys.extend(key);
            cleaned.push(original);
        }
        if cleaned.is_empty() {
            return Ok(cleaned);
        }
        tx.commit_recorded(now).await?;
        for key in &keys {
            self.audio.delete(key).await?;
        }
        tracing::info!(
            calls = cleaned.len(),
            "retention: audio and transcripts deleted"
        );
        Ok(cleaned)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use dialix_audit::MockAuditLog;
    use dialix_kernel::{MockClock, RecordId, noop_unit_of_work};
    use time::macros::datetime;

    use super::*;
    use crate::{
        MockAudioStore, MockRecordRepository, MockRetentionCandidates, RecordStatus, Turn,
    };

    const NOW: OffsetDateTime = datetime!(2026-11-27 12:00 UTC);

    fn service(
        candidates: MockRetentionCandidates,
        records: MockRecordRepository,
        audio: MockAudioStore,
        audit: MockAuditLog,
    ) -> RetentionService {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(NOW);
        RetentionService::new(RetentionPorts {
            candidates: Arc::new(candidates),
            records: Arc::new(records),
            audio: Arc::new(audio),
            uow: Arc::new(noop_unit_of_work()),
            audit: Arc::new(audit),
            clock: Arc::new(clock),
        })
    }

    fn expired_with_transcript() -> Record {
        let mut record = Record::sample(
            RecordId::generate(),
            RecordStatus::Done,
            NOW - time::Duration::days(100),
        );
        record.payload.transcript = Some(vec![Turn {
            speaker: "0".into(),
            role: crate::SpeakerRole::Operator,
            start_ms: 0,
            end_ms: 1000,
            text: "Salom".into(),
        }]);
        record
    }

    #[tokio::test]
    async fn an_expired_call_loses_audio_and_transcript_keeps_its_record_and_is_audited() {
        let record = expired_with_transcript();
        let key = record.storage_key.clone().unwrap();
        let mut candidates = MockRetentionCandidates::new();
        let batch = vec![record.clone()];
        candidates
            .expect_expired()
            .withf(|_, days, _| *days == DEFAULT_RETENTION_DAYS)
            .returning(move |_, _, _| Ok(batch.clone()));
        let mut records = MockRecordRepository::new();
        records
            .expect_referenced_keys()
            .returning(|_| Ok(Vec::new()));
        let written = Arc::new(Mutex::new(None));
        let seen = written.clone();
        records
            .expect_update()
            .times(1)
            .returning(move |_, record| {
                *seen.lock().unwrap() = Some(record.clone());
                Ok(())
            });
        let mut audio = MockAudioStore::new();
        audio.expect_written_before().returning(|_| Ok(Vec::new()));
        audio
            .expect_delete()
            .withf(move |k| k == key)
            .times(1)
            .returning(|_| Ok(()));
        let mut audit = MockAuditLog::new();
        audit
            .expect_append()
            .withf(|_, event, _| {
                event.action == AuditAction::Delete
                    && event.details["retention"] == true
                    && event.details["transcript_removed"] == true
            })
            .times(1)
            .returning(|_, _, _| Ok(()));

        let report = service(candidates, records, audio, audit)
            .run(false)
            .await
            .unwrap();
        assert_eq!(report.records.len(), 1);
        let written = written
            .lock()
            .unwrap()
            .clone()
            .expect("the record was written");
        assert_eq!(written.storage_key, None);
        assert_eq!(written.payload.transcript, None);
        assert_eq!(written.deleted_at, None, "the record itself stays");
    }

    #[tokio::test]
    async fn only_audio_no_record_points_to_is_swept_and_a_dry_run_sweeps_nothing() {
        for dry_run in [true, false] {
            let mut candidates = MockRetentionCandidates::new();
            candidates
                .expect_expired()
                .returning(|_, _, _| Ok(Vec::new()));
            let mut records = MockRecordRepository::new();
            records.expect_referenced_keys().returning(|keys| {
                Ok(keys
                    .iter()
                    .filter(|k| *k == "ab/kept.wav")
                    .cloned()
                    .collect())
            });
            let mut audio = MockAudioStore::new();
            audio
                .expect_written_before()
                .withf(|cutoff| *cutoff == NOW - ORPHAN_GRACE)
                .returning(|_| Ok(vec!["ab/kept.wav".into(), "cd/orphan.wav".into()]));
            audio
                .expect_delete()
                .withf(|key| key == "cd/orphan.wav")
                .times(if dry_run { 0 } else { 1 })
                .returning(|_| Ok(()));

            let report = service(candidates, records, audio, MockAuditLog::new())
                .run(dry_run)
                .await
                .unwrap();
            assert_eq!(report.orphaned_audio, ["cd/orphan.wav"]);
        }
    }

    #[tokio::test]
    async fn a_call_changed_since_the_batch_was_read_is_left_for_the_next_run() {
        let (changed, expired) = (expired_with_transcript(), expired_with_transcript());
        let (changed_id, kept_key) = (changed.id, expired.storage_key.clone().unwrap());
        let mut candidates = MockRetentionCandidates::new();
        let batch = vec![changed, expired];
        candidates
            .expect_expired()
            .returning(move |_, _, _| Ok(batch.clone()));
        let mut records = MockRecordRepository::new();
        records
            .expect_referenced_keys()
            .returning(|_| Ok(Vec::new()));
        records
            .expect_update()
            .times(2)
            .returning(move |_, record| {
                if record.id == changed_id {
                    Err(DomainError::Stale("record"))
                } else {
                    Ok(())
                }
            });
        let mut audio = MockAudioStore::new();
        audio.expect_written_before().returning(|_| Ok(Vec::new()));
        audio
            .expect_delete()
            .withf(move |key| key == kept_key)
            .times(1)
            .returning(|_| Ok(()));
        let mut audit = MockAuditLog::new();
        audit.expect_append().times(1).returning(|_, _, _| Ok(()));

        let report = service(candidates, records, audio, audit)
            .run(false)
            .await
            .unwrap();
        assert_eq!(report.records.len(), 1);
        assert_ne!(report.records[0].id, changed_id);
    }
}
