//! Who may see which calls — one rule for the listing, single records and everything built on
//! calls (grouping, similar calls): platform admins everything, administrators with
//! `can_view_records` their companies with descendants, everyone their own uploads.

use dialix_kernel::{
    Actor, CompanyTree, DomainError, DomainResult, Permission, RecordId, administered_companies,
};

use crate::{Record, RecordRepository, RecordScope};

/// The records `actor` may list.
pub async fn record_scope(tree: &dyn CompanyTree, actor: &Actor) -> DomainResult<RecordScope> {
    if actor.is_platform_admin() {
        return Ok(RecordScope::All);
    }
    let companies = administered_companies(tree, actor, Some(Permission::CanViewRecords)).await?;
    Ok(RecordScope::OwnAnd(actor.account_id, companies))
}

/// Whether `actor` may see `record` (the same rule as [`record_scope`], for one record).
pub async fn may_view(
    tree: &dyn CompanyTree,
    actor: &Actor,
    record: &Record,
) -> DomainResult<bool> {
    if actor.is_platform_admin() || record.owner_id == actor.account_id {
        return Ok(true);
    }
    let lineage = tree.lineage(record.company_id).await?;
    Ok(actor.may_within(Permission::CanViewRecords, &lineage))
}

/// The undeleted record, if `actor` may see it; "not found" otherwise, whoever's it is (ids
/// of other tenants are never confirmed).
pub async fn visible_record(
    records: &dyn RecordRepository,
    tree: &dyn CompanyTree,
    actor: &Actor,
    id: RecordId,
) -> DomainResult<Record> {
    let record = records
        .find(id)
        .await?
        .ok_or(DomainError::NotFound("record"))?;
    if may_view(tree, actor, &record).await? {
        Ok(record)
    } else {
        Err(DomainError::NotFound("record"))
    }
}
