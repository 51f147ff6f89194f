//! The change feed behind `GET /records/events`: what changed in the records an actor may
//! see since the feed's position. It reads the database, so work done by other processes
//! shows up too.

use dialix_kernel::{Actor, DomainResult, PageRequest, RecordId};
use time::OffsetDateTime;

use crate::{Record, RecordFilter, RecordService, RecordStatus};

/// Changes handed out per poll; the rest come with the next one.
const CHANGES_PER_POLL: u64 = 100;

/// A record's state after a change.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordChange {
    pub id: RecordId,
    pub status: RecordStatus,
    pub error: Option<String>,
    pub updated_at: OffsetDateTime,
}

/// A caller's position in the feed: changes at or after `since`, less those already handed
/// out at exactly `since` (several changes can share a millisecond).
#[derive(Debug, Clone)]
pub struct ChangeFeed {
    actor: Actor,
    since: OffsetDateTime,
    delivered_at_since: Vec<(RecordId, RecordStatus)>,
}

impl RecordService {
    /// A feed starting after `resume` (an earlier change's time), or now.
    pub fn change_feed(&self, actor: Actor, resume: Option<OffsetDateTime>) -> ChangeFeed {
        ChangeFeed {
            actor,
            since: resume.unwrap_or_else(|| self.ports.clock.now()),
            delivered_at_since: Vec::new(),
        }
    }

    /// The changes since the feed's position, oldest first, moving the position past them.
    pub async fn poll_changes(&self, feed: &mut ChangeFeed) -> DomainResult<Vec<RecordChange>> {
        let filter = RecordFilter {
            updated_since: Some(feed.since),
            ..Default::default()
        };
        let page = PageRequest {
            limit: CHANGES_PER_POLL,
            offset: 0,
        };
        let records = self.list(&feed.actor, filter, page).await?.page.items;
        Ok(records
            .into_iter()
            .filter_map(|record| feed.advance(record))
            .collect())
    }
}

impl ChangeFeed {
    /// The change `record` represents, unless it was handed out already.
    fn advance(&mut self, record: Record) -> Option<RecordChange> {
        let key = (record.id, record.status);
        if record.updated_at == self.since && self.delivered_at_since.contains(&key) {
            return None;
        }
        if record.updated_at > self.since {
            self.since = record.updated_at;
            self.delivered_at_since.clear();
        }
        self.delivered_at_since.push(key);
        Some(RecordChange {
            id: record.id,
            status: record.status,
            error: record.error,
            updated_at: record.updated_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use dialix_kernel::{AccountId, Role};
    use time::macros::datetime;

    use super::*;

    const T0: OffsetDateTime = datetime!(2026-11-27 12:00:00 UTC);

    fn record(id: RecordId, status: RecordStatus, updated_at: OffsetDateTime) -> Record {
        Record {
            created_at: T0,
            ..Record::sample(id, status, updated_at)
        }
    }

    fn feed() -> ChangeFeed {
        ChangeFeed {
            actor: Actor {
                account_id: AccountId::generate(),
                role: Role::User,
                company_id: None,
                grants: Vec::new(),
            },
            since: T0,
            delivered_at_since: Vec::new(),
        }
    }

    #[test]
    fn a_change_is_handed_out_once_even_when_several_share_a_millisecond() {
        let (a, b) = (RecordId::generate(), RecordId::generate());
        let mut feed = feed();
        // The inclusive cursor sees the changes at T0 again on the next poll.
        assert!(feed.advance(record(a, RecordStatus::Queued, T0)).is_some());
        assert!(feed.advance(record(b, RecordStatus::Queued, T0)).is_some());
        assert!(feed.advance(record(a, RecordStatus::Queued, T0)).is_none());
        // A new status at the same millisecond is a new change.
        assert!(
            feed.advance(record(a, RecordStatus::Transcribing, T0))
                .is_some()
        );

        let later = T0 + time::Duration::milliseconds(1);
        let change = feed
            .advance(record(b, RecordStatus::Done, later))
            .expect("a later change");
        assert_eq!((change.id, change.status), (b, RecordStatus::Done));
        assert_eq!(feed.since, later);
        assert_eq!(feed.delivered_at_since, [(b, RecordStatus::Done)]);
    }
}
