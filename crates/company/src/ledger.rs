//! The balance: top-ups with idempotency keys, and the ledger.

use dialix_audit::{AuditAction, AuditEvent};
use dialix_kernel::{
    AccountId, Actor, CompanyId, DomainError, DomainResult, FieldErrors, Page, PageRequest,
    Permission, RequestMeta, ResourceType,
};
use serde_json::json;
use uuid::Uuid;

use crate::{CompanyService, LedgerEntry, LedgerKind};

/// The outcome of a top-up: a new ledger entry, or the one an earlier request with the same
/// idempotency key made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topup {
    pub entry: LedgerEntry,
    pub replayed: bool,
}

/// The largest single top-up: 10 billion so'm, in minor units.
pub const TOPUP_MAX: i64 = 1_000_000_000_000;
const IDEMPOTENCY_KEY_MAX: usize = 128;

impl CompanyService {
    /// Adds `amount` (minor units) to the balance with a ledger entry, atomically. A repeated
    /// idempotency key returns the first top-up instead of adding again.
    pub async fn topup(
        &self,
        actor: &Actor,
        id: CompanyId,
        amount: i64,
        idempotency_key: String,
        meta: &RequestMeta,
    ) -> DomainResult<Topup> {
        self.permitted(actor, id, Some(Permission::CanTopup))
            .await?;
        let key = idempotency_key.trim().to_owned();
        let mut errors = FieldErrors::new();
        errors.check(
            (1..=TOPUP_MAX).contains(&amount),
            "amount",
            format!("must be a whole number of minor units from 1 to {TOPUP_MAX}"),
        );
        errors.check(
            (1..=IDEMPOTENCY_KEY_MAX).contains(&key.chars().count())
                && !key.chars().any(char::is_control),
            "idempotency_key",
            format!("must be 1 to {IDEMPOTENCY_KEY_MAX} printable characters"),
        );
        errors.into_result()?;
        if let Some(earlier) = self.ledger.find_by_key(id, LedgerKind::Topup, &key).await? {
            return replay(earlier, amount);
        }

        let now = self.clock.now();
        let mut tx = self.audited.begin().await?;
        let balance_after = self.ledger.add_to_balance(tx.as_mut(), id, amount).await?;
        let entry = LedgerEntry {
            id: Uuid::now_v7(),
            company_id: id,
            owner_id: Some(actor.account_id),
            record_id: None,
            kind: LedgerKind::Topup,
            amount,
            balance_after,
            idempotency_key: Some(key.clone()),
            created_at: now,
        };
        match self.ledger.append(tx.as_mut(), &entry).await {
            Ok(()) => {}
            // A concurrent request with the same key committed first: roll back, report it.
            Err(DomainError::Conflict { .. }) => {
                drop(tx);
                let earlier = self
                    .ledger
                    .find_by_key(id, LedgerKind::Topup, &key)
                    .await?
                    .ok_or_else(|| DomainError::internal("idempotent top-up vanished"))?;
                return replay(earlier, amount);
            }
            Err(other) => return Err(other),
        }
        let event = AuditEvent::by(actor, AuditAction::Topup, ResourceType::Company, id)
            .details(json!({
                "amount": amount,
                "balance_after": balance_after,
                "idempotency_key": key,
                "transaction_id": entry.id,
            }))
            .meta(meta);
        tx.commit(event, now).await?;
        Ok(Topup {
            entry,
            replayed: false,
        })
    }

    /// The company's ledger, newest first: platform admins and the company's administrators.
    pub async fn ledger(
        &self,
        actor: &Actor,
        id: CompanyId,
        page: PageRequest,
    ) -> DomainResult<Page<LedgerEntry>> {
        let (_, lineage) = self.visible(actor, id).await?;
        if !actor.is_platform_admin() && !actor.administers_within(&lineage) {
            return Err(DomainError::Forbidden(
                "only administrators of this company may see its ledger".into(),
            ));
        }
        self.ledger.entries(id, page).await
    }

    /// The latest ledger entries a user caused. Callers must already have established that
    /// the actor may see this user (as `AccountService::get` does).
    pub async fn transactions_by_user(
        &self,
        user: AccountId,
        limit: u64,
    ) -> DomainResult<Vec<LedgerEntry>> {
        self.ledger.entries_by_owner(user, limit).await
    }
}

fn replay(earlier: LedgerEntry, amount: i64) -> DomainResult<Topup> {
    if earlier.amount != amount {
        return Err(DomainError::conflict(
            "idempotency_key",
            "this idempotency key was already used for a different amount",
        ));
    }
    Ok(Topup {
        entry: earlier,
        replayed: true,
    })
}
