//! Per-company operators and versioned checklists.

use std::sync::Arc;

use dialix_audit::{AuditAction, AuditEvent, AuditLog, AuditedUnitOfWork, Changes};
use dialix_kernel::{
    Actor, ChecklistId, Clock, CompanyId, CompanyTree, DomainError, DomainResult, FieldErrors,
    OperatorId, Page, PageRequest, Permission, RequestMeta, ResourceType, RowVersion, UnitOfWork,
    administered_companies, retry_on_stale,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use crate::{ChecklistRepository, OperatorRepository};

/// An operator (a call-center agent) of a company, known by their PBX extension `code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub id: OperatorId,
    pub company_id: CompanyId,
    pub code: String,
    pub name: String,
    pub is_active: bool,
    /// Their calls are scored with this checklist when an upload names none.
    pub checklist_id: Option<ChecklistId>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub row_version: RowVersion,
}

/// One thing the operator should do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistItem {
    /// `segment.item`, e.g. `1.2`: stable within a version.
    pub id: String,
    pub text: String,
    /// Share of the score; either every item has one (summing to 100) or none (equal shares).
    pub weight: Option<u32>,
    /// A failed critical item makes the call non-compliant whatever the score.
    pub critical: bool,
}

/// A group of items (greeting, needs, closing …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistSegment {
    pub title: String,
    pub items: Vec<ChecklistItem>,
}

/// One version of a checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checklist {
    pub id: ChecklistId,
    pub company_id: CompanyId,
    pub name: String,
    pub version: u32,
    pub segments: Vec<ChecklistSegment>,
    /// A scored call passes at this score (0–100) or above, with no failed critical item;
    /// 0: only critical items decide.
    pub pass_mark: u32,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub row_version: RowVersion,
}

impl Checklist {
    pub fn items(&self) -> impl Iterator<Item = &ChecklistItem> {
        self.segments.iter().flat_map(|s| s.items.iter())
    }
}

/// A segment as an administrator writes it (item ids are assigned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentInput {
    pub title: String,
    pub items: Vec<ItemInput>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemInput {
    pub text: String,
    pub weight: Option<u32>,
    pub critical: bool,
}

/// Operators and checklists: read by the company's members, managed by platform admins and
/// administrators with `can_manage_users` (operators) or `can_manage_settings` (checklists).
pub struct CatalogService {
    operators: Arc<dyn OperatorRepository>,
    checklists: Arc<dyn ChecklistRepository>,
    tree: Arc<dyn CompanyTree>,
    audited: AuditedUnitOfWork,
    clock: Arc<dyn Clock>,
}

/// The adapters `CatalogService` works through.
pub struct CatalogPorts {
    pub operators: Arc<dyn OperatorRepository>,
    pub checklists: Arc<dyn ChecklistRepository>,
    pub tree: Arc<dyn CompanyTree>,
    pub uow: Arc<dyn UnitOfWork>,
    pub audit: Arc<dyn AuditLog>,
    pub clock: Arc<dyn Clock>,
}

const CODE_MAX: usize = 32;
const NAME_MAX: usize = 200;
const ITEM_MAX: usize = 500;

impl CatalogService {
    pub fn new(ports: CatalogPorts) -> Self {
        Self {
            operators: ports.operators,
            checklists: ports.checklists,
            tree: ports.tree,
            audited: AuditedUnitOfWork::new(ports.uow, ports.audit),
            clock: ports.clock,
        }
    }

    pub async fn create_operator(
        &self,
        actor: &Actor,
        company: Option<CompanyId>,
        code: String,
        name: String,
        meta: &RequestMeta,
    ) -> DomainResult<Operator> {
        let company = self
            .target_company(actor, company, Permission::CanManageUsers)
            .await?;
        let now = self.clock.now();
        let operator = Operator {
            id: OperatorId::generate(),
            company_id: company,
            code: code.trim().to_owned(),
            name: name.trim().to_owned(),
            is_active: true,
            checklist_id: None,
            created_at: now,
            updated_at: now,
            row_version: RowVersion::default(),
        };
        check_operator(&operator)?;
        let event = AuditEvent::by(
            actor,
            AuditAction::Create,
            ResourceType::Operator,
            operator.id,
        )
        .details(json!({"code": operator.code, "name": operator.name, "company_id": company}))
        .meta(meta);
        let mut tx = self.audited.begin().await?;
        self.operators.insert(tx.as_mut(), &operator).await?;
        tx.commit(event, now).await?;
        Ok(operator)
    }

    pub async fn operators(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> DomainResult<Page<Operator>> {
        let scope = self.readable(actor).await?;
        self.operators.list(scope, page).await
    }

    pub async fn operator(&self, actor: &Actor, id: OperatorId) -> DomainResult<Operator> {
        let operator = self
            .operators
            .find(id)
            .await?
            .ok_or(DomainError::NotFound("operator"))?;
        self.ensure_readable(actor, operator.company_id, "operator")
            .await?;
        Ok(operator)
    }

    /// Changes code, name or active flag; `None` leaves a field as it is.
    pub async fn update_operator(
        &self,
        actor: &Actor,
        id: OperatorId,
        code: Option<String>,
        name: Option<String>,
        is_active: Option<bool>,
        meta: &RequestMeta,
    ) -> DomainResult<Operator> {
        retry_on_stale(|| async {
            self.try_update_operator(actor, id, code.clone(), name.clone(), is_active, meta)
                .await
        })
        .await
    }

    async fn try_update_operator(
        &self,
        actor: &Actor,
        id: OperatorId,
        code: Option<String>,
        name: Option<String>,
        is_active: Option<bool>,
        meta: &RequestMeta,
    ) -> DomainResult<Operator> {
        let before = self.operator(actor, id).await?;
        self.ensure_permitted(actor, before.company_id, Permission::CanManageUsers)
            .await?;
        let mut after = before.clone();
        if let Some(code) = code {
            after.code = code.trim().to_owned();
        }
        if let Some(name) = name {
            after.name = name.trim().to_owned();
        }
        if let Some(is_active) = is_active {
            after.is_active = is_active;
        }
        check_operator(&after)?;
        let diff = Changes::new()
            .field("code", &before.code, &after.code)
            .field("name", &before.name, &after.name)
            .field("is_active", &before.is_active, &after.is_active);
        self.save_operator(actor, before, after, diff, meta).await
    }

    /// Assigns (or with `None` clears) the checklist the operator's calls are scored with.
    pub async fn assign_checklist(
        &self,
        actor: &Actor,
        id: OperatorId,
        checklist_id: Option<ChecklistId>,
        meta: &RequestMeta,
    ) -> DomainResult<Operator> {
        retry_on_stale(|| self.try_assign_checklist(actor, id, checklist_id, meta)).await
    }

    async fn try_assign_checklist(
        &self,
        actor: &Actor,
        id: OperatorId,
        checklist_id: Option<ChecklistId>,
        meta: &RequestMeta,
    ) -> DomainResult<Operator> {
        let before = self.operator(actor, id).await?;
        self.ensure_permitted(actor, before.company_id, Permission::CanManageUsers)
            .await?;
        if let Some(checklist_id) = checklist_id {
            let checklist = self.checklists.find(checklist_id, None).await?;
            if checklist.is_none_or(|c| c.company_id != before.company_id) {
                return Err(FieldErrors::single(
                    "checklist_id",
                    "no checklist of the operator's company has this id",
                ));
            }
        }
        let after = Operator {
            checklist_id,
            ..before.clone()
        };
        let diff = Changes::new().field("checklist_id", &before.checklist_id, &after.checklist_id);
        self.save_operator(actor, before, after, diff, meta).await
    }

    pub async fn delete_operator(
        &self,
        actor: &Actor,
        id: OperatorId,
        meta: &RequestMeta,
    ) -> DomainResult<()> {
        let operator = self.operator(actor, id).await?;
        self.ensure_permitted(actor, operator.company_id, Permission::CanManageUsers)
            .await?;
        let now = self.clock.now();
        let event = AuditEvent::by(actor, AuditAction::Delete, ResourceType::Operator, id)
            .details(json!({"code": operator.code}))
            .meta(meta);
        let mut tx = self.audited.begin().await?;
        self.operators.delete(tx.as_mut(), id).await?;
        tx.commit(event, now).await
    }

    async fn save_operator(
        &self,
        actor: &Actor,
        before: Operator,
        mut after: Operator,
        diff: Changes,
        meta: &RequestMeta,
    ) -> DomainResult<Operator> {
        if diff.is_empty() {
            return Ok(before);
        }
        let now = self.clock.now();
        after.updated_at = now;
        let event = AuditEvent::by(actor, AuditAction::Update, ResourceType::Operator, after.id)
            .details(diff.into_value())
            .meta(meta);
        let mut tx = self.audited.begin().await?;
        self.operators.update(tx.as_mut(), &mut after).await?;
        tx.commit(event, now).await?;
        Ok(after)
    }

    pub async fn create_checklist(
        &self,
        actor: &Actor,
        company: Option<CompanyId>,
        name: String,
        segments: Vec<SegmentInput>,
        pass_mark: Option<u32>,
        meta: &RequestMeta,
    ) -> DomainResult<Checklist> {
        check_pass_mark(pass_mark)?;
        let company = self
            .target_company(actor, company, Permission::CanManageSettings)
            .await?;
        let now = self.clock.now();
        let checklist = Checklist {
            id: ChecklistId::generate(),
            company_id: company,
            name: name.trim().to_owned(),
            version: 1,
            segments: build_segments(segments)?,
            pass_mark: pass_mark.unwrap_or(0),
            created_at: now,
            updated_at: now,
            row_version: RowVersion::default(),
        };
        check_name(&checklist.name)?;
        let event = AuditEvent::by(
            actor,
            AuditAction::Create,
            ResourceType::Checklist,
            checklist.id,
        )
        .details(json!({
            "name": checklist.name,
            "version": 1,
            "items": checklist.items().count(),
            "pass_mark": checklist.pass_mark,
        }))
        .meta(meta);
        let mut tx = self.audited.begin().await?;
        self.checklists.insert(tx.as_mut(), &checklist).await?;
        tx.commit(event, now).await?;
        Ok(checklist)
    }

    pub async fn checklists(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> DomainResult<Page<Checklist>> {
        let scope = self.readable(actor).await?;
        self.checklists.list(scope, page).await
    }

    /// The current version, or an earlier one.
    pub async fn checklist(
        &self,
        actor: &Actor,
        id: ChecklistId,
        version: Option<u32>,
    ) -> DomainResult<Checklist> {
        let checklist = self
            .checklists
            .find(id, version)
            .await?
            .ok_or(DomainError::NotFound("checklist"))?;
        self.ensure_readable(actor, checklist.company_id, "checklist")
            .await?;
        Ok(checklist)
    }

    /// Editing creates a new version; results scored before keep theirs.
    pub async fn update_checklist(
        &self,
        actor: &Actor,
        id: ChecklistId,
        name: Option<String>,
        segments: Option<Vec<SegmentInput>>,
        pass_mark: Option<u32>,
        meta: &RequestMeta,
    ) -> DomainResult<Checklist> {
        check_pass_mark(pass_mark)?;
        let segments = segments.map(build_segments).transpose()?;
        retry_on_stale(|| {
            self.try_update_checklist(actor, id, name.clone(), segments.clone(), pass_mark, meta)
        })
        .await
    }

    async fn try_update_checklist(
        &self,
        actor: &Actor,
        id: ChecklistId,
        name: Option<String>,
        segments: Option<Vec<ChecklistSegment>>,
        pass_mark: Option<u32>,
        meta: &RequestMeta,
    ) -> DomainResult<Checklist> {
        let current = self.checklist(actor, id, None).await?;
        self.ensure_permitted(actor, current.company_id, Permission::CanManageSettings)
            .await?;
        let now = self.clock.now();
        let mut next = Checklist {
            name: name.map_or_else(|| current.name.clone(), |n| n.trim().to_owned()),
            segments: segments.unwrap_or_else(|| current.segments.clone()),
            pass_mark: pass_mark.unwrap_or(current.pass_mark),
            version: current.version + 1,
            updated_at: now,
            ..current.clone()
        };
        check_name(&next.name)?;
        let event = AuditEvent::by(actor, AuditAction::Update, ResourceType::Checklist, id)
            .details(json!({
                "changes": {
                    "version": {"old_value": current.version, "new_value": next.version},
                    "pass_mark": {"old_value": current.pass_mark, "new_value": next.pass_mark},
                },
                "name": next.name,
            }))
            .meta(meta);
        let mut tx = self.audited.begin().await?;
        self.checklists.add_version(tx.as_mut(), &mut next).await?;
        tx.commit(event, now).await?;
        Ok(next)
    }

    pub async fn delete_checklist(
        &self,
        actor: &Actor,
        id: ChecklistId,
        meta: &RequestMeta,
    ) -> DomainResult<()> {
        let checklist = self.checklist(actor, id, None).await?;
        self.ensure_permitted(actor, checklist.company_id, Permission::CanManageSettings)
            .await?;
        let now = self.clock.now();
        let event = AuditEvent::by(actor, AuditAction::Delete, ResourceType::Checklist, id)
            .details(json!({"name": checklist.name, "version": checklist.version}))
            .meta(meta);
        let mut tx = self.audited.begin().await?;
        self.checklists.delete(tx.as_mut(), id, now).await?;
        tx.commit(event, now).await
    }

    /// The company a new operator or checklist goes to: the named one, or the actor's own.
    async fn target_company(
        &self,
        actor: &Actor,
        company: Option<CompanyId>,
        permission: Permission,
    ) -> DomainResult<CompanyId> {
        let company = company
            .or(actor.company_id)
            .ok_or_else(|| FieldErrors::single("company_id", "name the company"))?;
        if self.tree.lineage(company).await?.is_empty() {
            return Err(FieldErrors::single("company_id", "no company has this id"));
        }
        self.ensure_permitted(actor, company, permission).await?;
        Ok(company)
    }

    async fn ensure_permitted(
        &self,
        actor: &Actor,
        company: CompanyId,
        permission: Permission,
    ) -> DomainResult<()> {
        let lineage = self.tree.lineage(company).await?;
        if actor.may_within(permission, &lineage) {
            Ok(())
        } else {
            Err(DomainError::Forbidden(format!(
                "this needs the {} permission for the company",
                permission.as_str()
            )))
        }
    }

    /// Members read their company's catalog; administrators their companies'.
    async fn readable(&self, actor: &Actor) -> DomainResult<Option<Vec<CompanyId>>> {
        if actor.is_platform_admin() {
            return Ok(None);
        }
        let mut scope = administered_companies(self.tree.as_ref(), actor, None).await?;
        if let Some(own) = actor.company_id {
            scope.push(own);
        }
        Ok(Some(scope))
    }

    async fn ensure_readable(
        &self,
        actor: &Actor,
        company: CompanyId,
        what: &'static str,
    ) -> DomainResult<()> {
        match self.readable(actor).await? {
            Some(scope) if !scope.contains(&company) => Err(DomainError::NotFound(what)),
            _ => Ok(()),
        }
    }
}

fn check_operator(operator: &Operator) -> DomainResult<()> {
    let mut errors = FieldErrors::new();
    errors.check(
        (1..=CODE_MAX).contains(&operator.code.chars().count())
            && !operator.code.chars().any(char::is_control),
        "code",
        format!("must be 1 to {CODE_MAX} printable characters"),
    );
    errors.check(
        (1..=NAME_MAX).contains(&operator.name.chars().count())
            && !operator.name.chars().any(char::is_control),
        "name",
        format!("must be 1 to {NAME_MAX} printable characters"),
    );
    errors.into_result()
}

fn check_name(name: &str) -> DomainResult<()> {
    let mut errors = FieldErrors::new();
    errors.check(
        (1..=NAME_MAX).contains(&name.chars().count()) && !name.chars().any(char::is_control),
        "name",
        format!("must be 1 to {NAME_MAX} printable characters"),
    );
    errors.into_result()
}

/// The highest pass mark: a score is a percentage.
pub const MAX_PASS_MARK: u32 = 100;

fn check_pass_mark(pass_mark: Option<u32>) -> DomainResult<()> {
    let mut errors = FieldErrors::new();
    errors.check(
        pass_mark.is_none_or(|mark| mark <= MAX_PASS_MARK),
        "pass_mark",
        format!("must be a score from 0 to {MAX_PASS_MARK}"),
    );
    errors.into_result()
}

/// Numbers the items and checks the weights: all or none, and all summing to 100.
fn build_segments(input: Vec<SegmentInput>) -> DomainResult<Vec<ChecklistSegment>> {
    let mut errors = FieldErrors::new();
    errors.check(!input.is_empty(), "segments", "give at least one segment");
    let mut weights = Vec::new();
    let segments: Vec<ChecklistSegment> = input
        .into_iter()
        .enumerate()
        .map(|(s, segment)| {
            let title = segment.title.trim().to_owned();
            errors.check(
                (1..=NAME_MAX).contains(&title.chars().count())
                    && !title.chars().any(char::is_control),
                &format!("segments[{s}].title"),
                format!("must be 1 to {NAME_MAX} characters, without control characters"),
            );
            errors.check(
                !segment.items.is_empty(),
                &format!("segments[{s}].items"),
                "give at least one item",
            );
            let items = segment
                .items
                .into_iter()
                .enumerate()
                .map(|(i, item)| {
                    let text = item.text.trim().to_owned();
                    errors.check(
                        (1..=ITEM_MAX).contains(&text.chars().count())
                            && !text.chars().any(char::is_control),
                        &format!("segments[{s}].items[{i}].text"),
                        format!("must be 1 to {ITEM_MAX} characters, without control characters"),
                    );
                    weights.push(item.weight);
                    ChecklistItem {
                        id: format!("{}.{}", s + 1, i + 1),
                        text,
                        weight: item.weight,
                        critical: item.critical,
                    }
                })
                .collect();
            ChecklistSegment { title, items }
        })
        .collect();
    let weighted = weights.iter().filter(|w| w.is_some()).count();
    if weighted > 0 {
        let total: u32 = weights.iter().flatten().sum();
        errors.check(
            weighted == weights.len() && total == 100,
            "segments",
            format!(
                "give every item a weight and make them sum to 100 (they sum to {total}), or give none"
            ),
        );
    }
    errors.into_result()?;
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(text: &str, weight: Option<u32>) -> ItemInput {
        ItemInput {
            text: text.into(),
            weight,
            critical: false,
        }
    }

    #[test]
    fn items_are_numbered_and_weights_are_all_or_nothing() {
        let segments = build_segments(vec![SegmentInput {
            title: "Greeting".into(),
            items: vec![
                item("Say hello", Some(40)),
                item("Name the company", Some(60)),
            ],
        }])
        .unwrap();
        assert_eq!(segments[0].items[1].id, "1.2");
        assert!(
            build_segments(vec![SegmentInput {
                title: "G".into(),
                items: vec![item("a", Some(40)), item("b", None)],
            }])
            .is_err()
        );
        assert!(
            build_segments(vec![SegmentInput {
                title: "G".into(),
                items: vec![item("a", Some(40)), item("b", Some(40))],
            }])
            .is_err()
        );
        assert!(
            build_segments(vec![SegmentInput {
                title: "G".into(),
                items: vec![item("a", None), item("b", None)],
            }])
            .is_ok()
        );
        assert!(build_segments(vec![]).is_err());
    }
}
