use async_trait::async_trait;
use dialix_account::{
    Account, AccountFilter, AccountRepository, AccountSortField, AccountSummary, SessionAccount,
};
use dialix_kernel::{
    AccountId, CompanyGrant, CompanyId, DomainError, DomainResult, Page, PageRequest, Role,
    RowVersion, Tx,
};
use sea_orm::prelude::Expr;
use sea_orm::prelude::TimeUnixTimestampMillis;
use sea_orm::sea_query::{ExprTrait, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult,
    JoinType, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Database;
use crate::entities::{account, company, company_administrator, refresh_token};
use crate::sql::{conflict_on_unique, internal, landed, like_pattern, versioned};
use crate::transaction::db_tx;

/// Accounts in the `account` table.
pub struct SeaOrmAccounts {
    db: Database,
}

impl SeaOrmAccounts {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl AccountRepository for SeaOrmAccounts {
    async fn insert(
        &self,
        tx: &mut Tx,
        account: &Account,
        password_hash: &SecretString,
    ) -> DomainResult<()> {
        account::Entity::insert(to_active(account, password_hash))
            .exec_without_returning(db_tx(tx)?)
            .await
            .map_err(login_taken)?;
        Ok(())
    }

    async fn update(&self, tx: &mut Tx, account: &mut Account) -> DomainResult<()> {
        // `last_activity` is not written: logins stamp it on their own.
        let result = versioned(
            account::Entity::update_many(),
            account::Column::RowVersion,
            account.row_version,
        )
        .col_expr(account::Column::Email, Expr::value(account.email.clone()))
        .col_expr(
            account::Column::Username,
            Expr::value(account.username.clone()),
        )
        .col_expr(account::Column::Role, Expr::value(account.role.as_str()))
        .col_expr(
            account::Column::CompanyId,
            Expr::value(account.company_id.map(|c| c.as_uuid())),
        )
        .col_expr(account::Column::IsActive, Expr::value(account.is_active))
        .col_expr(account::Column::IsBlocked, Expr::value(account.is_blocked))
        .col_expr(
            account::Column::PreferredLanguage,
            Expr::value(account.preferred_language.clone()),
        )
        .col_expr(
            account::Column::UpdatedAt,
            Expr::value(TimeUnixTimestampMillis(account.updated_at)),
        )
        .col_expr(
            account::Column::BlockedByCompany,
            Expr::value(account.blocked_by_company.map(|c| c.as_uuid())),
        )
        .col_expr(
            account::Column::DeletedAt,
            Expr::value(account.deleted_at.map(TimeUnixTimestampMillis)),
        )
        .filter(account::Column::Id.eq(account.id.as_uuid()))
        .exec(db_tx(tx)?)
        .await
        .map_err(login_taken)?;
        landed(result, "account")?;
        account.row_version = account.row_version.next();
        Ok(())
    }

    async fn set_password(
        &self,
        tx: &mut Tx,
        account: &mut Account,
        password_hash: &SecretString,
    ) -> DomainResult<()> {
        let result = versioned(
            account::Entity::update_many(),
            account::Column::RowVersion,
            account.row_version,
        )
        .col_expr(
            account::Column::Password,
            Expr::value(password_hash.expose_secret().to_owned()),
        )
        .col_expr(
            account::Column::UpdatedAt,
            Expr::value(TimeUnixTimestampMillis(account.updated_at)),
        )
        .filter(account::Column::Id.eq(account.id.as_uuid()))
        .exec(db_tx(tx)?)
        .await
        .map_err(internal)?;
        landed(result, "account")?;
        account.row_version = account.row_version.next();
        Ok(())
    }

    async fn find_with_password(
        &self,
        login: &str,
    ) -> DomainResult<Option<(Account, SecretString)>> {
        let Some(row) = by_login(login)
            .one(self.db.connection())
            .await
            .map_err(internal)?
        else {
            return Ok(None);
        };
        let hash = SecretString::from(row.password.clone());
        Ok(Some((to_domain(row)?, hash)))
    }

    async fn password_of(&self, id: AccountId) -> DomainResult<Option<SecretString>> {
        let hash: Option<String> = account::Entity::find_by_id(id.as_uuid())
            .select_only()
            .column(account::Column::Password)
            .into_tuple()
            .one(self.db.connection())
            .await
            .map_err(internal)?;
        Ok(hash.map(SecretString::from))
    }

    async fn list(
        &self,
        filter: &AccountFilter,
        page: PageRequest,
    ) -> DomainResult<Page<AccountSummary>> {
        let mut query = account::Entity::find();
        if let Some(search) = &filter.search {
            let pattern = like_pattern(&search.trim().to_lowercase());
            let companies = Query::select()
                .column(company::Column::Id)
                .from(company::Entity)
                .and_where(Expr::col(company::Column::NameKey).like(pattern.clone()))
                .to_owned();
            query = query.filter(
                Condition::any()
                    .add(Expr::col(account::Column::Email).like(pattern.clone()))
                    .add(Expr::col(account::Column::Username).like(pattern))
                    .add(account::Column::CompanyId.in_subquery(companies)),
            );
        }
        if let Some(role) = filter.role {
            query = query.filter(account::Column::Role.eq(role.as_str()));
        }
        if let Some(company_id) = filter.company_id {
            query = query.filter(account::Column::CompanyId.eq(company_id.as_uuid()));
        }
        if let Some(is_active) = filter.is_active {
            query = query.filter(account::Column::IsActive.eq(is_active));
        }
        if let Some(is_blocked) = filter.is_blocked {
            query = query.filter(account::Column::IsBlocked.eq(is_blocked));
        }
        if let Some(within) = &filter.within {
            query =
                query.filter(account::Column::CompanyId.is_in(within.iter().map(|c| c.as_uuid())));
        }
        let db = self.db.connection();
        let total = query.clone().count(db).await.map_err(internal)?;
        let order = if filter.descending {
            Order::Desc
        } else {
            Order::Asc
        };
        let column = match filter.sort {
            AccountSortField::CreatedAt => account::Column::CreatedAt,
            AccountSortField::Email => account::Column::Email,
            AccountSortField::Username => account::Column::Username,
            AccountSortField::LastActivity => account::Column::LastActivity,
        };
        let rows = query
            .order_by(column, order.clone())
            .order_by(account::Column::Id, order)
            .limit(page.limit)
            .offset(page.offset)
            .all(db)
            .await
            .map_err(internal)?;

        let company_ids: Vec<_> = rows.iter().filter_map(|r| r.company_id).collect();
        let names: std::collections::HashMap<_, _> = if company_ids.is_empty() {
            Default::default()
        } else {
            company::Entity::find()
                .select_only()
                .column(company::Column::Id)
                .column(company::Column::Name)
                .filter(company::Column::Id.is_in(company_ids))
                .into_tuple::<(uuid::Uuid, String)>()
                .all(db)
                .await
                .map_err(internal)?
                .into_iter()
                .collect()
        };
        let items = rows
            .into_iter()
            .map(|row| {
                let company_name = row.company_id.and_then(|c| names.get(&c).cloned());
                to_domain(row).map(|account| AccountSummary {
                    account,
                    company_name,
                })
            })
            .collect::<DomainResult<_>>()?;
        Ok(Page {
            items,
            total,
            limit: page.limit,
            offset: page.offset,
        })
    }

    async fn find_by_id(&self, id: AccountId) -> DomainResult<Option<Account>> {
        account::Entity::find_by_id(id.as_uuid())
            .one(self.db.connection())
            .await
            .map_err(internal)?
            .map(to_domain)
            .transpose()
    }

    async fn find_by_login(&self, login: &str) -> DomainResult<Option<Account>> {
        by_login(login)
            .one(self.db.connection())
            .await
            .map_err(internal)?
            .map(to_domain)
            .transpose()
    }

    async fn touch_last_activity(
        &self,
        tx: &mut Tx,
        id: AccountId,
        at: OffsetDateTime,
    ) -> DomainResult<()> {
        account::Entity::update_many()
            .col_expr(
                account::Column::LastActivity,
                Some(TimeUnixTimestampMillis(at)).into(),
            )
            .filter(account::Column::Id.eq(id.as_uuid()))
            .exec(db_tx(tx)?)
            .await
            .map_err(internal)?;
        Ok(())
    }

    async fn grants(&self, id: AccountId) -> DomainResult<Vec<CompanyGrant>> {
        let rows = company_administrator::Entity::find()
            .filter(company_administrator::Column::UserId.eq(id.as_uuid()))
            .all(self.db.connection())
            .await
            .map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(|row| CompanyGrant {
                company_id: CompanyId::from_uuid(row.company_id),
                permissions: crate::administrators::granted(&row.permissions),
            })
            .collect())
    }

    async fn find_for_session(
        &self,
        id: AccountId,
        session: Uuid,
    ) -> DomainResult<Option<SessionAccount>> {
        // One statement (it runs on every authenticated request): the account, one row per
        // grant (a LEFT JOIN, so an account without grants still gives its row), and whether
        // the session is open (some token of the family is not revoked) as an uncorrelated
        // EXISTS, which both databases evaluate once.
        let open_token = Query::select()
            .expr(Expr::cust("1"))
            .from(refresh_token::Entity)
            .and_where(
                Expr::col((refresh_token::Entity, refresh_token::Column::Family)).eq(session),
            )
            .and_where(
                Expr::col((refresh_token::Entity, refresh_token::Column::RevokedAt)).is_null(),
            )
            .to_owned();
        let grant_of = company_administrator::Entity::belongs_to(account::Entity)
            .from(company_administrator::Column::UserId)
            .to(account::Column::Id)
            .into();
        let db = self.db.connection();
        let statement = account::Entity::find()
            .expr_as(Expr::exists(open_token), SESSION_LIVE)
            .join_rev(JoinType::LeftJoin, grant_of)
            .column_as(company_administrator::Column::CompanyId, GRANT_COMPANY)
            .column_as(
                company_administrator::Column::Permissions,
                GRANT_PERMISSIONS,
            )
            .filter(account::Column::Id.eq(id.as_uuid()))
            .build(db.get_database_backend());
        let rows = db.query_all_raw(statement).await.map_err(internal)?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let account = account::Model::from_query_result(first, "").map_err(internal)?;
        let session_live: bool = first.try_get("", SESSION_LIVE).map_err(internal)?;
        let mut grants = Vec::new();
        for row in &rows {
            let company: Option<Uuid> = row.try_get("", GRANT_COMPANY).map_err(internal)?;
            let permissions: Option<serde_json::Value> =
                row.try_get("", GRANT_PERMISSIONS).map_err(internal)?;
            if let (Some(company), Some(permissions)) = (company, permissions) {
                grants.push(CompanyGrant {
                    company_id: CompanyId::from_uuid(company),
                    permissions: crate::administrators::granted(&permissions),
                });
            }
        }
        Ok(Some(SessionAccount {
            account: to_domain(account)?,
            session_live,
            grants,
        }))
    }
}

/// Column aliases of `find_for_session`'s statement.
const SESSION_LIVE: &str = "session_live";
const GRANT_COMPANY: &str = "grant_company_id";
const GRANT_PERMISSIONS: &str = "grant_permissions";

/// A clash on the unique email or username that slipped past the service's checks.
fn login_taken(error: sea_orm::DbErr) -> DomainError {
    conflict_on_unique(
        error,
        "account",
        "an account with this email or username already exists",
    )
}

/// The account whose email or username is `login`.
fn by_login(login: &str) -> sea_orm::Select<account::Entity> {
    account::Entity::find().filter(
        Condition::any()
            .add(account::Column::Email.eq(login))
            .add(account::Column::Username.eq(login)),
    )
}

fn to_active(account: &Account, password_hash: &SecretString) -> account::ActiveModel {
    account::ActiveModel {
        id: Set(account.id.as_uuid()),
        email: Set(account.email.clone()),
        username: Set(account.username.clone()),
        password: Set(password_hash.expose_secret().to_owned()),
        role: Set(account.role.as_str().to_owned()),
        company_id: Set(account.company_id.map(|c| c.as_uuid())),
        is_active: Set(account.is_active),
        is_blocked: Set(account.is_blocked),
        last_activity: Set(account.last_activity.map(TimeUnixTimestampMillis)),
        preferred_language: Set(account.preferred_language.clone()),
        created_at: Set(TimeUnixTimestampMillis(account.created_at)),
        updated_at: Set(TimeUnixTimestampMillis(account.updated_at)),
        blocked_by_company: Set(account.blocked_by_company.map(|c| c.as_uuid())),
        deleted_at: Set(account.deleted_at.map(TimeUnixTimestampMillis)),
        row_version: Set(account.row_version.0),
    }
}

fn to_domain(row: account::Model) -> DomainResult<Account> {
    let role = Role::parse(&row.role).ok_or_else(|| {
        DomainError::internal(format!(
            "account {} has unknown role {:?}",
            row.id, row.role
        ))
    })?;
    Ok(Account {
        id: AccountId::from_uuid(row.id),
        email: row.email,
        username: row.username,
        role,
        company_id: row.company_id.map(CompanyId::from_uuid),
        is_active: row.is_active,
        is_blocked: row.is_blocked,
        last_activity: row.last_activity.map(|t| t.0),
        preferred_language: row.preferred_language,
        created_at: row.created_at.0,
        updated_at: row.updated_at.0,
        blocked_by_company: row.blocked_by_company.map(CompanyId::from_uuid),
        deleted_at: row.deleted_at.map(|t| t.0),
        row_version: RowVersion(row.row_version),
    })
}
