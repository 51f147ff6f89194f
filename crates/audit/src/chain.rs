//! The hash chain. Each entry's hash covers all its fields and the previous entry's hash, so
//! changing, inserting or deleting an entry breaks every later link. There is one chain per
//! company (plus the platform chain); after a purge a chain starts from an anchor: the hash and
//! sequence number of the last purged entry, kept in the chain's head.

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::AuditEntry;

/// The `prev_hash` of the first entry of a chain that was never purged.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// SHA-256 (hex) of the entry's canonical form: a JSON array of every field but `hash`, in a
/// fixed order (object keys in `details` are sorted, so the form does not depend on storage).
pub fn entry_hash(entry: &AuditEntry) -> String {
    let canonical = json!([
        entry.chain_id,
        entry.seq,
        entry.id,
        entry.user_id.map(|u| u.to_string()),
        entry.company_id.map(|c| c.to_string()),
        entry.action.as_str(),
        entry.resource_type,
        entry.resource_id,
        entry.details,
        entry.ip_address,
        entry.user_agent,
        entry.request_id,
        (entry.created_at.unix_timestamp_nanos() / 1_000_000) as i64,
        entry.prev_hash,
    ]);
    Sha256::digest(canonical.to_string().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The first place a chain does not hold together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub chain_id: uuid::Uuid,
    /// The sequence number where the break was found.
    pub seq: i64,
    pub entry_id: Option<uuid::Uuid>,
    pub reason: String,
}

/// Walks one chain in sequence order, entry by entry, so any length fits in memory.
pub struct ChainVerifier {
    chain_id: uuid::Uuid,
    expected_seq: i64,
    expected_prev: String,
}

impl ChainVerifier {
    /// Starts after the anchor (`seq` 0 and `GENESIS_HASH` for a chain never purged).
    pub fn new(chain_id: uuid::Uuid, anchor_seq: i64, anchor_hash: &str) -> Self {
        Self {
            chain_id,
            expected_seq: anchor_seq + 1,
            expected_prev: anchor_hash.to_owned(),
        }
    }

    pub fn check(&mut self, entry: &AuditEntry) -> Result<(), BrokenLink> {
        let broken = |reason: String| BrokenLink {
            chain_id: self.chain_id,
            seq: entry.seq,
            entry_id: Some(entry.id),
            reason,
        };
        if entry.seq != self.expected_seq {
            return Err(broken(format!(
                "expected entry {} but found {}: entries are missing",
                self.expected_seq, entry.seq
            )));
        }
        if entry.prev_hash != self.expected_prev {
            return Err(broken(
                "its previous-hash does not match the entry before it".into(),
            ));
        }
        if entry_hash(entry) != entry.hash {
            return Err(broken(
                "its content does not match its hash: it was edited".into(),
            ));
        }
        self.expected_seq += 1;
        self.expected_prev = entry.hash.clone();
        Ok(())
    }

    /// The chain's head must point at the last entry seen: a deleted tail shows up here.
    pub fn finish(self, head_seq: i64, head_hash: &str) -> Result<(), BrokenLink> {
        if head_seq != self.expected_seq - 1 || head_hash != self.expected_prev {
            return Err(BrokenLink {
                chain_id: self.chain_id,
                seq: self.expected_seq,
                entry_id: None,
                reason: format!(
                    "the chain head says {head_seq} entries but the log ends at {}: entries were removed",
                    self.expected_seq - 1
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;
    use crate::AuditAction;

    fn chain(length: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=length)
            .map(|seq| {
                let mut entry = AuditEntry {
                    id: Uuid::now_v7(),
                    chain_id: Uuid::nil(),
                    seq,
                    user_id: None,
                    company_id: None,
                    action: AuditAction::Create,
                    resource_type: "account".into(),
                    resource_id: Some(seq.to_string()),
                    details: json!({"b": 1, "a": [true, null]}),
                    ip_address: Some("10.0.0.1".into()),
                    user_agent: None,
                    request_id: None,
                    created_at: datetime!(2026-11-26 12:00 UTC),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                entry.hash = entry_hash(&entry);
                prev = entry.hash.clone();
                entry
            })
            .collect()
    }

    fn verify(entries: &[AuditEntry], head_seq: i64, head_hash: &str) -> Result<(), BrokenLink> {
        let mut verifier = ChainVerifier::new(Uuid::nil(), 0, GENESIS_HASH);
        for entry in entries {
            verifier.check(entry)?;
        }
        verifier.finish(head_seq, head_hash)
    }

    #[test]
    fn an_intact_chain_verifies() {
        let entries = chain(3);
        assert_eq!(verify(&entries, 3, &entries[2].hash), Ok(()));
    }

    #[test]
    fn an_edit_a_deletion_and_a_cut_tail_are_caught() {
        let entries = chain(3);
        let head = entries[2].hash.clone();

        let mut edited = entries.clone();
        edited[1].details = json!({"b": 2});
        assert_eq!(verify(&edited, 3, &head).unwrap_err().seq, 2);

        let mut gap = entries.clone();
        gap.remove(1);
        assert_eq!(verify(&gap, 3, &head).unwrap_err().seq, 3);

        let cut = &entries[..2];
        let error = verify(cut, 3, &head).unwrap_err();
        assert_eq!((error.seq, error.entry_id), (3, None));
    }
}
