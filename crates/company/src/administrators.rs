//! Company administrators and their permissions.

use std::collections::BTreeSet;

use dialix_audit::{AuditAction, AuditEvent, Changes};
use dialix_kernel::{
    AccountId, Actor, CompanyId, DomainError, DomainResult, FieldErrors, Permission, RequestMeta,
    ResourceType, RowVersion, retry_on_stale,
};
use serde_json::{Value, json};

use crate::{Administrator, CompanyService};

impl CompanyService {
    /// Grants `user` (a member of the company or of one of its descendants) administration
    /// of the company. Platform admins only.
    pub async fn add_administrator(
        &self,
        actor: &Actor,
        company: CompanyId,
        user: AccountId,
        permissions: BTreeSet<Permission>,
        meta: &RequestMeta,
    ) -> DomainResult<Administrator> {
        self.permitted(actor, company, None).await?;
        let member_of = self
            .membership
            .company_of(user)
            .await?
            .ok_or_else(|| FieldErrors::single("user_id", "no account has this id"))?;
        let scope = self.tree.subtree(&[company]).await?;
        if !member_of.is_some_and(|c| scope.contains(&c)) {
            return Err(FieldErrors::single(
                "user_id",
                "the user must be a member of this company or one of its sub-companies",
            ));
        }
        if self.administrators.find(company, user).await?.is_some() {
            return Err(DomainError::conflict(
                "user_id",
                "this user already administers this company",
            ));
        }
        let now = self.clock.now();
        let admin = Administrator {
            company_id: company,
            user_id: user,
            permissions,
            created_at: now,
            row_version: RowVersion::default(),
        };
        let event = AuditEvent::by(
            actor,
            AuditAction::Create,
            ResourceType::Administrator,
            user,
        )
        .details(json!({"company_id": company, "permissions": names(&admin.permissions)}))
        .meta(meta);
        let mut tx = self.audited.begin().await?;
        self.administrators.insert(tx.as_mut(), &admin).await?;
        tx.commit(event, now).await?;
        Ok(admin)
    }

    /// The company's administrators: platform admins and the company's own administrators.
    pub async fn administrators(
        &self,
        actor: &Actor,
        company: CompanyId,
    ) -> DomainResult<Vec<Administrator>> {
        let (_, lineage) = self.visible(actor, company).await?;
        if !actor.is_platform_admin() && !actor.administers_within(&lineage) {
            return Err(DomainError::Forbidden(
                "only administrators of this company may see its administrators".into(),
            ));
        }
        self.administrators.list(company).await
    }

    pub async fn administrator(
        &self,
        actor: &Actor,
        company: CompanyId,
        user: AccountId,
    ) -> DomainResult<Administrator> {
        self.administrators(actor, company).await?;
        self.administrators
            .find(company, user)
            .await?
            .ok_or(DomainError::NotFound("administrator"))
    }

    /// Replaces an administrator's permissions. Platform admins only.
    pub async fn update_administrator(
        &self,
        actor: &Actor,
        company: CompanyId,
        user: AccountId,
        permissions: BTreeSet<Permission>,
        meta: &RequestMeta,
    ) -> DomainResult<Administrator> {
        retry_on_stale(|| {
            self.try_update_administrator(actor, company, user, permissions.clone(), meta)
        })
        .await
    }

    async fn try_update_administrator(
        &self,
        actor: &Actor,
        company: CompanyId,
        user: AccountId,
        permissions: BTreeSet<Permission>,
        meta: &RequestMeta,
    ) -> DomainResult<Administrator> {
        self.permitted(actor, company, None).await?;
        let before = self
            .administrators
            .find(company, user)
            .await?
            .ok_or(DomainError::NotFound("administrator"))?;
        let mut after = Administrator {
            permissions,
            ..before.clone()
        };
        let diff = Changes::new().field(
            "permissions",
            &names(&before.permissions),
            &names(&after.permissions),
        );
        if diff.is_empty() {
            return Ok(before);
        }
        let now = self.clock.now();
        let event = AuditEvent::by(
            actor,
            AuditAction::Update,
            ResourceType::Administrator,
            user,
        )
        .details(json!({"company_id": company, "changes": diff.into_value()["changes"]}))
        .meta(meta);
        let mut tx = self.audited.begin().await?;
        self.administrators.update(tx.as_mut(), &mut after).await?;
        tx.commit(event, now).await?;
        Ok(after)
    }

    /// Revokes administration. Platform admins only.
    pub async fn remove_administrator(
        &self,
        actor: &Actor,
        company: CompanyId,
        user: AccountId,
        meta: &RequestMeta,
    ) -> DomainResult<()> {
        self.permitted(actor, company, None).await?;
        let before = self
            .administrators
            .find(company, user)
            .await?
            .ok_or(DomainError::NotFound("administrator"))?;
        let now = self.clock.now();
        let event = AuditEvent::by(
            actor,
            AuditAction::Delete,
            ResourceType::Administrator,
            user,
        )
        .details(json!({"company_id": company, "permissions": names(&before.permissions)}))
        .meta(meta);
        let mut tx = self.audited.begin().await?;
        self.administrators
            .delete(tx.as_mut(), company, user)
            .await?;
        tx.commit(event, now).await
    }
}

/// Parses `{"can_manage_users": true, …}`: only known permissions, only booleans.
pub fn parse_permissions(value: &Value) -> DomainResult<BTreeSet<Permission>> {
    let Some(map) = value.as_object() else {
        return Err(FieldErrors::single(
            "permissions",
            "must be an object of permission names to true or false",
        ));
    };
    let mut errors = FieldErrors::new();
    let mut granted = BTreeSet::new();
    for (key, flag) in map {
        match (Permission::parse(key), flag.as_bool()) {
            (Some(permission), Some(true)) => {
                granted.insert(permission);
            }
            (Some(_), Some(false)) => {}
            (Some(_), None) => {
                errors.add(&format!("permissions.{key}"), "must be true or false");
            }
            (None, _) => {
                let known: Vec<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
                errors.add(
                    &format!("permissions.{key}"),
                    format!("is not a permission; known: {}", known.join(", ")),
                );
            }
        }
    }
    errors.into_result()?;
    Ok(granted)
}

fn names(permissions: &BTreeSet<Permission>) -> Vec<&'static str> {
    permissions.iter().map(|p| p.as_str()).collect()
}
