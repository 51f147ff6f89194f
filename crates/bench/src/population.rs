//! Who is in the data set: companies (with skewed sizes, call purposes and PBX extensions),
//! per company an administrator with every permission and the operator accounts that upload
//! calls, plus one platform admin. Small tables, written with COPY like the big ones.

use dialix_kernel::Permission;
use sea_orm::sqlx::PgPool;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::Result;
use crate::checklists::{self, CompanyChecklist};
use crate::copy::copy_in;
use crate::rng::{Rng, Weighted};
use crate::vocab::{PURPOSES, USER_AGENTS};

const DAY_MS: i64 = 86_400_000;
/// Calls and activity span this many days, ending at generation time.
pub const SPAN_DAYS: i64 = 90;
/// Every bench account has this password.
pub const PASSWORD: &str = "bench-password-2026";
pub const PLATFORM_ADMIN_EMAIL: &str = "bench.platform@bench.dialix.uz";

pub struct Company {
    pub id: Uuid,
    pub name: String,
    pub language: &'static str,
    /// The configured purposes (`other` is always allowed besides).
    pub purposes: Vec<&'static str>,
    /// How many calls this company gets.
    pub calls: u64,
    /// Index into `Population::accounts`.
    pub admin: usize,
    /// Indexes into `Population::accounts`: the uploaders, busiest first.
    pub uploaders: Vec<usize>,
    /// PBX extensions of the company's operators (3 digits), busiest first.
    pub operator_codes: Vec<String>,
    /// Ids of the `operator` rows, one per code.
    pub operator_ids: Vec<Uuid>,
    /// One or two checklists (`checklist` and `checklist_version` rows).
    pub checklists: Vec<CompanyChecklist>,
    /// Per operator code, the index in `checklists` of the one its calls are scored against.
    pub operator_checklists: Vec<usize>,
    pub created_ms: i64,
}

pub struct Account {
    pub id: Uuid,
    pub email: String,
    pub username: String,
    /// `None` for the platform admin.
    pub company: Option<usize>,
    pub ip_address: String,
    pub user_agent: &'static str,
    pub created_ms: i64,
}

pub struct Population {
    pub companies: Vec<Company>,
    pub accounts: Vec<Account>,
    pub platform_admin: usize,
    pub start_ms: i64,
    pub end_ms: i64,
    /// Each company's share of calls and of activity.
    pub company_weights: Weighted,
}

impl Population {
    /// Companies get equal shares of the calls (20 of 50,000 at full size, the shape the
    /// speed targets are stated for); their activity in the log follows a mild Zipf law.
    pub fn new(seed: u64, companies: usize, calls: u64, end_ms: i64) -> Self {
        let mut rng = Rng::stream(seed, 1, 0);
        let start_ms = end_ms - SPAN_DAYS * DAY_MS;
        let company_weights = Weighted::zipf(companies, 0.6);
        let mut sizes = vec![calls / companies as u64; companies];
        sizes[0] += calls - sizes.iter().sum::<u64>();

        let mut accounts = Vec::new();
        let mut result = Vec::with_capacity(companies);
        for (index, &size) in sizes.iter().enumerate() {
            let number = index + 1;
            let created_ms = start_ms - rng.between(30, 400) * DAY_MS;
            let mut account = |rng: &mut Rng, local: &str| {
                let at = created_ms + rng.between(0, 20) * DAY_MS;
                accounts.push(Account {
                    id: rng.uuid_v7(at),
                    email: format!("{local}@bench.dialix.uz"),
                    username: local.replace('.', "_"),
                    company: Some(index),
                    ip_address: format!("10.{}.{}.{}", number, rng.below(250), rng.between(2, 250)),
                    user_agent: rng.pick(&USER_AGENTS),
                    created_ms: at,
                });
                accounts.len() - 1
            };
            let admin = account(&mut rng, &format!("admin{number:02}"));
            let uploader_count = (size / 5_000).clamp(5, 40) as usize;
            let uploaders = (1..=uploader_count)
                .map(|u| account(&mut rng, &format!("c{number:02}.op{u:02}")))
                .collect();
            let code_count = rng.between(10, 30) as usize;
            let operator_codes: Vec<String> =
                (0..code_count).map(|c| format!("{}", 101 + c)).collect();
            let operator_ids = (0..code_count).map(|_| rng.uuid_v7(created_ms)).collect();
            let mut purposes: Vec<&'static str> = PURPOSES.to_vec();
            // A deterministic shuffle, then a handful.
            for i in (1..purposes.len()).rev() {
                purposes.swap(i, rng.below(i as u64 + 1) as usize);
            }
            purposes.truncate(rng.between(3, 5) as usize);
            let id = rng.uuid_v7(created_ms);
            // Their own stream, so the rest of the population does not depend on them.
            let mut lists_rng = Rng::stream(seed, 26, index as u64);
            let checklists =
                checklists::for_company(&mut lists_rng, id, created_ms, start_ms, end_ms);
            let operator_checklists = (0..code_count)
                .map(|_| lists_rng.below(checklists.len() as u64) as usize)
                .collect();
            result.push(Company {
                id,
                name: format!("Bench Company {number:02}"),
                language: if rng.chance(0.7) { "uz" } else { "ru" },
                purposes,
                calls: size,
                admin,
                uploaders,
                operator_codes,
                operator_ids,
                checklists,
                operator_checklists,
                created_ms,
            });
        }
        let platform_created = start_ms - 500 * DAY_MS;
        accounts.push(Account {
            id: rng.uuid_v7(platform_created),
            email: PLATFORM_ADMIN_EMAIL.to_owned(),
            username: "bench_platform".to_owned(),
            company: None,
            ip_address: "10.0.0.2".to_owned(),
            user_agent: USER_AGENTS[0],
            created_ms: platform_created,
        });
        Self {
            companies: result,
            platform_admin: accounts.len() - 1,
            accounts,
            start_ms,
            end_ms,
            company_weights,
        }
    }

    /// Where `at_ms` lies in the period: 0 at its start, 1 at its end.
    pub fn progress(&self, at_ms: i64) -> f64 {
        ((at_ms - self.start_ms) as f64 / (self.end_ms - self.start_ms).max(1) as f64)
            .clamp(0.0, 1.0)
    }

    /// Writes companies, accounts (all with `password_hash`), their settings, the
    /// administrator grants, the checklists and the operators (each assigned a checklist).
    pub async fn write(
        self: &std::sync::Arc<Self>,
        pool: &PgPool,
        password_hash: &str,
    ) -> Result<()> {
        let me = self.clone();
        copy_in(
            pool,
            "company",
            &[
                "id",
                "name",
                "name_key",
                "description",
                "is_active",
                "parent_company_id",
                "hierarchy_level",
                "settings",
                "balance",
                "reserved",
                "created_at",
                "updated_at",
                "deleted_at",
                "row_version",
            ],
            move |sink| {
                for c in &me.companies {
                    let settings = json!({"language": c.language, "call_purposes": c.purposes});
                    sink.row()?
                        .uuid(c.id)
                        .text(&c.name)
                        .text(&c.name.to_lowercase())
                        .text("Synthetic company of the benchmark data set")
                        .boolean(true)
                        .null()
                        .int(0)
                        .json(&settings)
                        .int(5_000_000_000)
                        .int(0)
                        .int(c.created_ms)
                        .int(c.created_ms)
                        .null()
                        .int(0)
                        .end();
                }
                Ok(())
            },
        )
        .await?;

        let me = self.clone();
        let hash = password_hash.to_owned();
        copy_in(
            pool,
            "account",
            &[
                "id",
                "email",
                "username",
                "password",
                "role",
                "company_id",
                "is_active",
                "is_blocked",
                "last_activity",
                "preferred_language",
                "created_at",
                "updated_at",
                "blocked_by_company",
                "deleted_at",
                "row_version",
            ],
            move |sink| {
                for a in &me.accounts {
                    let company = a.company.map(|c| &me.companies[c]);
                    sink.row()?
                        .uuid(a.id)
                        .text(&a.email)
                        .text(&a.username)
                        .text(&hash)
                        .text(if company.is_some() { "user" } else { "admin" })
                        .opt_uuid(company.map(|c| c.id))
                        .boolean(true)
                        .boolean(false)
                        .int(me.end_ms)
                        .text(company.map_or("uz", |c| c.language))
                        .int(a.created_ms)
                        .int(a.created_ms)
                        .null()
                        .null()
                        .int(0)
                        .end();
                }
                Ok(())
            },
        )
        .await?;

        // Every account has settings without auto-deletion, so the server's start-up
        // retention pass (90 days without settings) leaves the data set alone.
        let me = self.clone();
        copy_in(
            pool,
            "user_settings",
            &[
                "id",
                "user_id",
                "email_notifications",
                "sms_notifications",
                "push_notifications",
                "language",
                "timezone",
                "auto_delete_records_after_days",
                "preferred_stt_model",
                "created_at",
                "updated_at",
                "row_version",
            ],
            move |sink| {
                let mut rng = Rng::stream(0, 2, 0);
                for a in &me.accounts {
                    sink.row()?
                        .uuid(rng.uuid_v7(a.created_ms))
                        .uuid(a.id)
                        .boolean(true)
                        .boolean(false)
                        .boolean(true)
                        .text("uz")
                        .text("Asia/Tashkent")
                        .null()
                        .text("mohirai")
                        .int(a.created_ms)
                        .int(a.created_ms)
                        .int(0)
                        .end();
                }
                Ok(())
            },
        )
        .await?;

        let me = self.clone();
        copy_in(
            pool,
            "company_administrator",
            &[
                "id",
                "company_id",
                "user_id",
                "permissions",
                "created_at",
                "row_version",
            ],
            move |sink| {
                let mut rng = Rng::stream(0, 3, 0);
                let all: serde_json::Map<String, Value> = Permission::ALL
                    .iter()
                    .map(|p| (p.as_str().to_owned(), Value::Bool(true)))
                    .collect();
                for c in &me.companies {
                    sink.row()?
                        .uuid(rng.uuid_v7(c.created_ms))
                        .uuid(c.id)
                        .uuid(me.accounts[c.admin].id)
                        .json(&Value::Object(all.clone()))
                        .int(c.created_ms)
                        .int(0)
                        .end();
                }
                Ok(())
            },
        )
        .await?;

        checklists::write(self, pool).await?;
        let me = self.clone();
        copy_in(
            pool,
            "operator",
            &[
                "id",
                "company_id",
                "code",
                "name",
                "is_active",
                "checklist_id",
                "created_at",
                "updated_at",
                "row_version",
            ],
            move |sink| {
                for c in &me.companies {
                    for (i, (code, id)) in c.operator_codes.iter().zip(&c.operator_ids).enumerate()
                    {
                        sink.row()?
                            .uuid(*id)
                            .uuid(c.id)
                            .text(code)
                            .text(&format!("Operator {}", i + 1))
                            .boolean(true)
                            .uuid(c.checklists[c.operator_checklists[i]].id)
                            .int(c.created_ms)
                            .int(c.created_ms)
                            .int(0)
                            .end();
                    }
                }
                Ok(())
            },
        )
        .await
    }
}

/// The population of the throughput mode's SQLite server, made through the API as the
/// platform admin: one company and its administrator with every permission, as in the data
/// set (no calls: the throughput URLs do not read them). Returns the administrator's email and
/// the company's id.
pub async fn through_api(client: &reqwest::Client, base: &str) -> Result<(String, String)> {
    use crate::load::{login, post_ok};
    let platform = login(client, base, PLATFORM_ADMIN_EMAIL).await?;
    let company = post_ok(
        client,
        base,
        &platform,
        "/company",
        &json!({"name": "Bench Company 01", "description": "Synthetic company of the benchmark"}),
    )
    .await?;
    let company_id = company["id"]
        .as_str()
        .ok_or("POST /company answered without an id")?;
    let email = "admin01@bench.dialix.uz";
    let account = post_ok(
        client,
        base,
        &platform,
        "/admin/users",
        &json!({
            "email": email,
            "username": "admin01",
            "password": PASSWORD,
            "company_id": company_id,
        }),
    )
    .await?;
    let user_id = account["id"]
        .as_str()
        .ok_or("POST /admin/users answered without an id")?;
    let all: serde_json::Map<String, Value> = Permission::ALL
        .iter()
        .map(|p| (p.as_str().to_owned(), Value::Bool(true)))
        .collect();
    post_ok(
        client,
        base,
        &platform,
        &format!("/company/{company_id}/administrators"),
        &json!({"user_id": user_id, "permissions": all}),
    )
    .await?;
    Ok((email.to_owned(), company_id.to_owned()))
}
