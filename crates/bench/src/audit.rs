//! The activity log: entries spread over the period, the companies (by size) and their
//! users, chained per company exactly as the server chains them (`dialix_audit::entry_hash`),
//! so `GET /admin/activity-logs/verify` accepts the data set.

use dialix_audit::{AuditAction, AuditEntry, GENESIS_HASH, PLATFORM_CHAIN, entry_hash};
use dialix_kernel::{AccountId, CompanyId, ResourceType};
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::Result;
use crate::calls::{Schedule, identity};
use crate::copy::Sink;
use crate::population::Population;
use crate::rng::{Rng, Weighted};

/// Share of entries in the platform chain (platform admin, unknown logins).
const PLATFORM_SHARE: f64 = 0.04;
/// Share of a company's entries made by its administrator.
const ADMIN_SHARE: f64 = 0.2;

pub const ACTIVITY_COLUMNS: [&str; 15] = [
    "id",
    "chain_id",
    "seq",
    "user_id",
    "company_id",
    "action",
    "resource_type",
    "resource_id",
    "details",
    "ip_address",
    "user_agent",
    "request_id",
    "created_at",
    "prev_hash",
    "hash",
];

/// What an entry is about; the actor and target are chosen per kind.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Login,
    Refresh,
    Logout,
    LoginFailed,
    UnknownLogin,
    Upload,
    ViewRecord,
    EditRecord,
    EditSettings,
    EditSelf,
    CreateOperator,
    EditOperator,
    CreateAccount,
    EditAccount,
    Block,
    Unblock,
    ResetPassword,
    EditCompany,
    Topup,
}

const OPERATOR_MIX: [(Kind, f64); 9] = [
    (Kind::Login, 10.0),
    (Kind::Refresh, 20.0),
    (Kind::Logout, 4.0),
    (Kind::LoginFailed, 3.0),
    (Kind::Upload, 30.0),
    (Kind::ViewRecord, 26.0),
    (Kind::EditRecord, 3.0),
    (Kind::EditSettings, 2.0),
    (Kind::EditSelf, 2.0),
];

const ADMIN_MIX: [(Kind, f64); 14] = [
    (Kind::Login, 8.0),
    (Kind::Refresh, 15.0),
    (Kind::Logout, 3.0),
    (Kind::ViewRecord, 30.0),
    (Kind::EditRecord, 4.0),
    (Kind::CreateOperator, 4.0),
    (Kind::EditOperator, 6.0),
    (Kind::CreateAccount, 3.0),
    (Kind::EditAccount, 6.0),
    (Kind::Block, 2.0),
    (Kind::Unblock, 2.0),
    (Kind::ResetPassword, 2.0),
    (Kind::EditCompany, 3.0),
    (Kind::Topup, 2.0),
];

const PLATFORM_MIX: [(Kind, f64); 9] = [
    (Kind::UnknownLogin, 35.0),
    (Kind::Login, 6.0),
    (Kind::Refresh, 12.0),
    (Kind::EditCompany, 10.0),
    (Kind::Topup, 12.0),
    (Kind::CreateAccount, 5.0),
    (Kind::EditAccount, 10.0),
    (Kind::Block, 5.0),
    (Kind::Unblock, 5.0),
];

fn mix(table: &[(Kind, f64)]) -> (Vec<Kind>, Weighted) {
    (
        table.iter().map(|(k, _)| *k).collect(),
        Weighted::new(table.iter().map(|(_, w)| *w)),
    )
}

/// One chain's head after generation.
pub struct Head {
    pub chain_id: Uuid,
    pub seq: i64,
    pub hash: String,
}

/// Writes `count` entries in time order (columns in `ACTIVITY_COLUMNS` order) and returns
/// every chain's head.
pub fn write_activity(
    sink: &mut Sink,
    seed: u64,
    count: u64,
    population: &Population,
    schedule: &Schedule,
) -> Result<Vec<Head>> {
    let mut rng = Rng::stream(seed, 30, 0);
    let companies = &population.companies;
    let platform = companies.len();
    let mut heads: Vec<Head> = companies
        .iter()
        .map(|c| c.id)
        .chain([PLATFORM_CHAIN])
        .map(|chain_id| Head {
            chain_id,
            seq: 0,
            hash: GENESIS_HASH.to_owned(),
        })
        .collect();
    let operator_mix = mix(&OPERATOR_MIX);
    let admin_mix = mix(&ADMIN_MIX);
    let platform_mix = mix(&PLATFORM_MIX);
    let uploader_laws: Vec<Weighted> = companies
        .iter()
        .map(|c| Weighted::zipf(c.uploaders.len(), 0.8))
        .collect();
    let span = population.end_ms - population.start_ms;
    let step = (span as f64 / count.max(1) as f64).max(1.0);

    for i in 0..count {
        let at_ms = population.start_ms + (i as f64 * step + rng.unit() * step) as i64;
        let chain = if rng.chance(PLATFORM_SHARE) {
            platform
        } else {
            population.company_weights.sample(&mut rng)
        };
        let (actor, (kinds, weights)) = if chain == platform {
            (Some(population.platform_admin), &platform_mix)
        } else if rng.chance(ADMIN_SHARE) {
            (Some(companies[chain].admin), &admin_mix)
        } else {
            let law = &uploader_laws[chain];
            (
                Some(companies[chain].uploaders[law.sample(&mut rng)]),
                &operator_mix,
            )
        };
        let kind = kinds[weights.sample(&mut rng)];
        let actor = if matches!(kind, Kind::UnknownLogin) {
            None
        } else {
            actor
        };
        let (action, resource, resource_id, details) = describe(
            kind, chain, actor, at_ms, &mut rng, seed, population, schedule,
        );
        let account = actor.map(|a| &population.accounts[a]);
        let company_id = (chain != platform).then(|| CompanyId::from_uuid(companies[chain].id));
        let head = &mut heads[chain];
        let mut entry = AuditEntry {
            id: rng.uuid_v7(at_ms),
            chain_id: head.chain_id,
            seq: head.seq + 1,
            user_id: account.map(|a| AccountId::from_uuid(a.id)),
            company_id,
            action,
            resource_type: resource.as_str().to_owned(),
            resource_id,
            details,
            ip_address: Some(account.map_or_else(
                || format!("203.0.113.{}", rng.between(1, 254)),
                |a| a.ip_address.clone(),
            )),
            user_agent: Some(
                account
                    .map_or(crate::vocab::USER_AGENTS[2], |a| a.user_agent)
                    .to_owned(),
            ),
            request_id: Some(rng.uuid_v4().to_string()),
            created_at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000)?,
            prev_hash: head.hash.clone(),
            hash: String::new(),
        };
        entry.hash = entry_hash(&entry);
        head.seq = entry.seq;
        head.hash.clone_from(&entry.hash);
        sink.row()?
            .uuid(entry.id)
            .uuid(entry.chain_id)
            .int(entry.seq)
            .opt_uuid(entry.user_id.map(|u| u.as_uuid()))
            .opt_uuid(entry.company_id.map(|c| c.as_uuid()))
            .text(action.as_str())
            .text(&entry.resource_type)
            .opt_text(entry.resource_id.as_deref())
            .json(&entry.details)
            .opt_text(entry.ip_address.as_deref())
            .opt_text(entry.user_agent.as_deref())
            .opt_text(entry.request_id.as_deref())
            .int(at_ms)
            .text(&entry.prev_hash)
            .text(&entry.hash)
            .end();
    }
    Ok(heads.into_iter().filter(|h| h.seq > 0).collect())
}

type Described = (AuditAction, ResourceType, Option<String>, Value);

/// Action, resource and details of one entry, shaped like the server's own entries.
#[allow(clippy::too_many_arguments)]
fn describe(
    kind: Kind,
    chain: usize,
    actor: Option<usize>,
    at_ms: i64,
    rng: &mut Rng,
    seed: u64,
    population: &Population,
    schedule: &Schedule,
) -> Described {
    let companies = &population.companies;
    // The company acted on: the chain's, or any for the platform admin.
    let company_index = if chain < companies.len() {
        chain
    } else {
        rng.below(companies.len() as u64) as usize
    };
    let company = &companies[company_index];
    let me = actor.map(|a| population.accounts[a].id.to_string());
    let other_account = |rng: &mut Rng| {
        let someone = company.uploaders[rng.below(company.uploaders.len() as u64) as usize];
        Some(population.accounts[someone].id.to_string())
    };
    let operator = |rng: &mut Rng| {
        let i = rng.below(company.operator_ids.len() as u64) as usize;
        (
            company.operator_ids[i].to_string(),
            company.operator_codes[i].clone(),
        )
    };
    let session = rng.uuid_v4().to_string();
    match kind {
        Kind::Login => (
            AuditAction::Login,
            ResourceType::Account,
            me,
            json!({"method": "password"}),
        ),
        Kind::Refresh => (
            AuditAction::TokenRefresh,
            ResourceType::Account,
            me,
            json!({"session": session}),
        ),
        Kind::Logout => (
            AuditAction::Logout,
            ResourceType::Account,
            me,
            json!({"session": session}),
        ),
        Kind::LoginFailed => (
            AuditAction::LoginFailed,
            ResourceType::Account,
            me,
            json!({"login": actor.map(|a| population.accounts[a].email.clone()), "reason": "wrong password"}),
        ),
        Kind::UnknownLogin => (
            AuditAction::LoginFailed,
            ResourceType::Account,
            None,
            json!({"login": format!("user{}@example.uz", rng.below(5000)), "reason": "unknown login"}),
        ),
        Kind::Upload | Kind::ViewRecord | Kind::EditRecord => {
            let calls = &schedule.by_company[company_index];
            // Calls of this company that happened (and were uploaded) before now.
            let known =
                calls.partition_point(|&i| schedule.slots[i as usize].at_ms + 600_000 < at_ms);
            if known == 0 {
                // Nothing uploaded yet: a login instead.
                return (
                    AuditAction::Login,
                    ResourceType::Account,
                    me,
                    json!({"method": "password"}),
                );
            }
            // Uploads are of the latest call; views and edits favour recent calls.
            let back = match kind {
                Kind::Upload => 0,
                _ => (rng.log_uniform(1.0, known as f64) as usize - 1).min(known - 1),
            };
            let index = calls[known - 1 - back] as usize;
            let slot = &schedule.slots[index];
            let record = identity(seed, index, slot, population.end_ms)
                .id
                .to_string();
            let (action, details) = match kind {
                Kind::Upload => (
                    AuditAction::Create,
                    json!({
                        "file_name": format!("call-{index}.mp3"),
                        "duration_ms": rng.between(15_000, 1_200_000),
                        "size_bytes": rng.between(200_000, 19_000_000),
                        "client_phone_number": (slot.client != crate::calls::NO_CLIENT)
                            .then(|| crate::calls::phone(slot.client)),
                        "operator_code": operator(rng).1,
                        "estimated_price": rng.between(10_000, 2_000_000),
                        "checklist": null,
                    }),
                ),
                Kind::ViewRecord => (AuditAction::View, json!({})),
                _ => (
                    AuditAction::Update,
                    json!({"changes": {"operator_speaker": {"old_value": "0", "new_value": "1"}}}),
                ),
            };
            (action, ResourceType::Record, Some(record), details)
        }
        Kind::EditSettings => (
            AuditAction::Update,
            ResourceType::Settings,
            me,
            json!({"changes": {"language": {"old_value": "uz", "new_value": "ru"}}}),
        ),
        Kind::EditSelf => (
            AuditAction::Update,
            ResourceType::Account,
            me,
            json!({"changes": {"preferred_language": {"old_value": "uz", "new_value": "ru"}}}),
        ),
        Kind::CreateOperator | Kind::EditOperator => {
            let (id, code) = operator(rng);
            let create = matches!(kind, Kind::CreateOperator);
            (
                if create {
                    AuditAction::Create
                } else {
                    AuditAction::Update
                },
                ResourceType::Operator,
                Some(id),
                if create {
                    json!({"code": code, "name": format!("Operator {code}")})
                } else {
                    json!({"changes": {"is_active": {"old_value": true, "new_value": false}}})
                },
            )
        }
        Kind::CreateAccount => (
            AuditAction::Create,
            ResourceType::Account,
            other_account(rng),
            json!({"role": "user", "company_id": company.id}),
        ),
        Kind::EditAccount => (
            AuditAction::Update,
            ResourceType::Account,
            other_account(rng),
            json!({"changes": {"is_active": {"old_value": false, "new_value": true}}}),
        ),
        Kind::Block => (
            AuditAction::Block,
            ResourceType::Account,
            other_account(rng),
            json!({}),
        ),
        Kind::Unblock => (
            AuditAction::Unblock,
            ResourceType::Account,
            other_account(rng),
            json!({}),
        ),
        Kind::ResetPassword => (
            AuditAction::PasswordReset,
            ResourceType::Account,
            other_account(rng),
            json!({}),
        ),
        Kind::EditCompany => (
            AuditAction::Update,
            ResourceType::Company,
            Some(company.id.to_string()),
            json!({"changes": {"description": {"old_value": null, "new_value": "Updated"}}}),
        ),
        Kind::Topup => (
            AuditAction::Topup,
            ResourceType::Company,
            Some(company.id.to_string()),
            json!({"amount": rng.between(1, 500) * 1_000_000, "idempotency_key": session}),
        ),
    }
}
