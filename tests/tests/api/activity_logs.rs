use dialix_audit::PurgeCutoff;
use dialix_tests::{ADMIN_EMAIL, ADMIN_PASSWORD, Backend, TestApp, problem, spawn_app};
use serde_json::{Value, json};

async fn list(app: &TestApp, path: &str, token: &str) -> Value {
    let response = app.get(path, Some(token)).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

fn actions(page: &Value) -> Vec<String> {
    dialix_tests::actions(&page["items"])
}

#[tokio::test]
async fn every_change_so_far_is_recorded_with_who_what_and_where() {
    let app = spawn_app().await;
    problem(app.login(ADMIN_EMAIL, "wrong-password").await, 401).await;
    let tokens = app.tokens(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let response = app
        .client
        .post(app.url("/company"))
        .bearer_auth(&tokens.access)
        .header("x-request-id", "audit-trace-1")
        .header("user-agent", "dialix-tests/1.0")
        .json(&json!({"name": "Audited LLC"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let company: Value = response.json().await.unwrap();
    let account = app
        .create_account(json!({
            "email": "audited@acme.uz", "username": "audited", "password": "audited-pass",
            "company_id": company["id"]
        }))
        .await;
    let refreshed: Value = app
        .post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": tokens.refresh}),
        )
        .await
        .json()
        .await
        .unwrap();
    let logout = json!({"refresh_token": refreshed["refresh_token"]});
    assert_eq!(app.post("/auth/logout", None, &logout).await.status(), 204);

    // The logged-out session's access token died with it; a new session reads the log.
    let access = app.admin_token().await;
    let page = list(&app, "/activity-logs?limit=200", &access).await;
    let seen = actions(&page);
    for action in ["LOGIN_FAILED", "LOGIN", "CREATE", "TOKEN_REFRESH", "LOGOUT"] {
        assert!(
            seen.contains(&action.to_owned()),
            "{action} missing from {seen:?}"
        );
    }
    let items = page["items"].as_array().unwrap();
    let company_entry = items
        .iter()
        .find(|e| e["resource_type"] == "company")
        .expect("company creation entry");
    assert_eq!(company_entry["action"], "CREATE");
    assert_eq!(company_entry["resource_id"], company["id"]);
    assert_eq!(company_entry["details"]["name"], "Audited LLC");
    assert_eq!(company_entry["request_id"], "audit-trace-1");
    assert_eq!(company_entry["user_agent"], "dialix-tests/1.0");
    assert_eq!(company_entry["ip_address"], "127.0.0.1");
    assert_eq!(company_entry["hash"].as_str().unwrap().len(), 64);

    let account_entry = items
        .iter()
        .find(|e| e["resource_type"] == "account" && e["action"] == "CREATE")
        .expect("account creation entry");
    assert_eq!(account_entry["resource_id"], account["id"]);
    assert_eq!(account_entry["details"]["email"], "audited@acme.uz");
    assert_eq!(account_entry["details"]["company_id"], company["id"]);
    let failed = items
        .iter()
        .find(|e| e["action"] == "LOGIN_FAILED")
        .expect("failed login entry");
    assert_eq!(failed["details"]["reason"], "invalid_credentials");

    // Newest first.
    let times: Vec<&str> = items
        .iter()
        .map(|e| e["created_at"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted);
}

#[tokio::test]
async fn no_password_or_token_ever_reaches_the_log() {
    let app = spawn_app().await;
    let tokens = app.tokens(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.create_account(json!({
        "email": "secretive@acme.uz", "username": "secretive", "password": "very-secret-pass"
    }))
    .await;
    problem(
        app.login("secretive@acme.uz", "guessed-password").await,
        401,
    )
    .await;
    let refreshed: Value = app
        .post(
            "/auth/refresh",
            None,
            &json!({"refresh_token": tokens.refresh}),
        )
        .await
        .json()
        .await
        .unwrap();

    let rows = app
        .query_strings(
            "SELECT CAST(details AS TEXT) || ' ' || COALESCE(user_agent, '') || ' ' || \
             COALESCE(resource_id, '') FROM activity_log",
        )
        .await;
    assert!(rows.len() >= 5, "{rows:?}");
    let everything = rows.join("\n");
    for secret in [
        ADMIN_PASSWORD,
        "very-secret-pass",
        "guessed-password",
        tokens.access.as_str(),
        tokens.refresh.as_str(),
        refreshed["refresh_token"].as_str().unwrap(),
        "argon2",
    ] {
        assert!(!everything.contains(secret), "{secret} leaked into the log");
    }
}

#[tokio::test]
async fn a_change_that_fails_leaves_neither_the_change_nor_an_entry() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let count_creates =
        || app.query_strings("SELECT COUNT(*) FROM activity_log WHERE action = 'CREATE'");
    let before = count_creates().await;

    // Refused by a rule: nothing is written.
    app.create_company("Once").await;
    let after_first = count_creates().await;
    let clash = app
        .post("/company", Some(&admin), &json!({"name": "ONCE"}))
        .await;
    problem(clash, 409).await;
    assert_eq!(count_creates().await, after_first);

    // The audit write itself fails after the account row was inserted: both roll back.
    let sabotage = match app.backend {
        Backend::Postgres => {
            "ALTER TABLE activity_log ADD CONSTRAINT no_creates CHECK (action <> 'CREATE') NOT VALID"
        }
        Backend::Sqlite => {
            "CREATE TRIGGER no_creates BEFORE INSERT ON activity_log \
             WHEN NEW.action = 'CREATE' BEGIN SELECT RAISE(ABORT, 'audit unavailable'); END"
        }
    };
    app.execute_sql(sabotage).await;
    let body = json!({"email": "ghost@acme.uz", "username": "ghost", "password": "ghost-password"});
    let failed = app.post("/admin/users", Some(&admin), &body).await;
    problem(failed, 500).await;
    let repair = match app.backend {
        Backend::Postgres => "ALTER TABLE activity_log DROP CONSTRAINT no_creates",
        Backend::Sqlite => "DROP TRIGGER no_creates",
    };
    app.execute_sql(repair).await;

    let ghosts = app
        .query_strings("SELECT email FROM account WHERE email = 'ghost@acme.uz'")
        .await;
    assert!(ghosts.is_empty(), "the account must have been rolled back");
    assert_eq!(count_creates().await, after_first);
    assert_eq!(
        app.post("/admin/users", Some(&admin), &body).await.status(),
        201
    );
    assert!(before < after_first);
}

#[tokio::test]
async fn listings_filter_and_paginate_and_reject_bad_parameters() {
    let app = spawn_app().await;
    for name in ["Alpha", "Beta", "Gamma"] {
        app.create_company(name).await;
    }
    let admin = app.admin_token().await;

    let all = list(&app, "/activity-logs", &admin).await;
    let total = all["total"].as_u64().unwrap();
    assert_eq!(all["items"].as_array().unwrap().len() as u64, total);
    assert_eq!(all["limit"], 50);
    assert_eq!(all["offset"], 0);

    let first = list(&app, "/activity-logs?limit=2", &admin).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert_eq!(first["total"].as_u64().unwrap(), total);
    let second = list(&app, "/activity-logs?limit=2&offset=2", &admin).await;
    assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);
    assert_eq!(second["items"][0]["id"], all["items"][2]["id"]);

    let creates = list(
        &app,
        "/activity-logs?action=CREATE&resource_type=company",
        &admin,
    )
    .await;
    assert_eq!(creates["total"], 3);
    assert!(actions(&creates).iter().all(|a| a == "CREATE"));
    let logins = list(&app, "/activity-logs?action=LOGIN", &admin).await;
    assert_eq!(
        logins["total"].as_u64().unwrap(),
        4,
        "one login per admin_token call"
    );

    let future = list(
        &app,
        "/activity-logs?start_date=2999-01-01T00:00:00Z",
        &admin,
    )
    .await;
    assert_eq!(future["total"], 0);
    let past = list(&app, "/activity-logs?end_date=2000-01-01T00:00:00Z", &admin).await;
    assert_eq!(past["total"], 0);
    let now = time::OffsetDateTime::now_utc();
    let window = format!(
        "/activity-logs?start_date={}&end_date={}",
        (now - time::Duration::hours(1)).unix_timestamp_rfc3339(),
        (now + time::Duration::hours(1)).unix_timestamp_rfc3339()
    );
    assert_eq!(
        list(&app, &window, &admin).await["total"].as_u64().unwrap(),
        total
    );

    for (query, field) in [
        ("start_date=yesterday", "start_date"),
        ("end_date=2026-02-30T00:00:00Z", "end_date"),
        ("action=HACK", "action"),
        ("limit=201", "limit"),
        ("limit=0", "limit"),
        ("offset=-3", "offset"),
        ("format=xml", "format"),
        (
            "start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z",
            "end_date",
        ),
    ] {
        let body = problem(
            app.get(&format!("/activity-logs?{query}"), Some(&admin))
                .await,
            422,
        )
        .await;
        assert!(body["errors"][field].is_string(), "{query}: {body}");
    }
    problem(
        app.get("/activity-logs?acton=LOGIN", Some(&admin)).await,
        422,
    )
    .await;
}

trait Rfc3339Text {
    fn unix_timestamp_rfc3339(&self) -> String;
}

impl Rfc3339Text for time::OffsetDateTime {
    fn unix_timestamp_rfc3339(&self) -> String {
        self.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
            .replace('+', "%2B")
    }
}

#[tokio::test]
async fn each_caller_sees_only_what_is_theirs_to_see() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let other = app.create_company("Other").await;
    let acme_id = acme["id"].as_str().unwrap();
    let member = app
        .create_account(json!({
            "email": "member@acme.uz", "username": "member", "password": "member-pass",
            "company_id": acme_id
        }))
        .await;
    let boss = app
        .create_account(json!({
            "email": "boss@acme.uz", "username": "boss", "password": "boss-pass",
            "company_id": acme_id
        }))
        .await;
    let outsider = app
        .create_account(json!({
            "email": "outsider@other.uz", "username": "outsider", "password": "outsider-pass",
            "company_id": other["id"]
        }))
        .await;
    app.grant(
        &acme,
        boss["id"].as_str().unwrap(),
        json!({"can_view_activity_logs": true}),
    )
    .await;
    app.grant(
        &other,
        outsider["id"].as_str().unwrap(),
        json!({"can_view_activity_logs": true}),
    )
    .await;
    let member_token = app.tokens("member@acme.uz", "member-pass").await.access;
    let boss_token = app.tokens("boss@acme.uz", "boss-pass").await.access;
    let outsider_token = app
        .tokens("outsider@other.uz", "outsider-pass")
        .await
        .access;
    let admin = app.admin_token().await;
    let admin_id =
        list(&app, "/activity-logs?action=LOGIN&limit=1", &admin).await["items"][0]["user_id"]
            .clone();

    // Own entries only.
    let own = list(&app, "/activity-logs", &member_token).await;
    assert_eq!(actions(&own), ["LOGIN"]);
    assert!(
        own["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["user_id"] == member["id"])
    );

    // A user sees their own account's trail (including the admin creating it), not others'.
    let member_id = member["id"].as_str().unwrap();
    let trail = list(
        &app,
        &format!("/activity-logs/account/{member_id}"),
        &member_token,
    )
    .await;
    assert!(actions(&trail).contains(&"CREATE".to_owned()));
    let admin_trail = format!("/activity-logs/account/{}", admin_id.as_str().unwrap());
    problem(app.get(&admin_trail, Some(&member_token)).await, 404).await;
    problem(
        app.get(
            &format!("/activity-logs/company/{acme_id}"),
            Some(&member_token),
        )
        .await,
        404,
    )
    .await;
    problem(
        app.get("/activity-logs/account/not-a-uuid", Some(&member_token))
            .await,
        404,
    )
    .await;
    problem(
        app.get("/activity-logs/invoice/42", Some(&member_token))
            .await,
        404,
    )
    .await;

    // The company's administrator sees its members' trails and its whole log.
    let trail = format!("/activity-logs/account/{member_id}");
    assert_eq!(app.get(&trail, Some(&boss_token)).await.status(), 200);
    problem(app.get(&trail, Some(&outsider_token)).await, 404).await;
    let company_log = format!("/admin/company/{acme_id}/activity-logs");
    let log = list(&app, &company_log, &boss_token).await;
    let users: Vec<&Value> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["user_id"])
        .collect();
    assert!(users.contains(&&member["id"]) && users.contains(&&boss["id"]));
    assert!(
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["company_id"] == acme["id"])
    );
    let only_member = list(
        &app,
        &format!("{company_log}?user_id={member_id}"),
        &boss_token,
    )
    .await;
    assert!(only_member["total"].as_u64().unwrap() >= 1);
    assert!(
        only_member["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["user_id"] == member["id"])
    );
    problem(app.get(&company_log, Some(&member_token)).await, 404).await;
    problem(app.get(&company_log, Some(&outsider_token)).await, 404).await;
    assert_eq!(app.get(&company_log, Some(&admin)).await.status(), 200);
    let missing = format!("/admin/company/{}/activity-logs", uuid::Uuid::now_v7());
    problem(app.get(&missing, Some(&admin)).await, 404).await;
}

#[tokio::test]
async fn csv_export_streams_the_same_rows() {
    let app = spawn_app().await;
    for name in ["One", "Two", "=cmd|' /C calc'!A0"] {
        app.create_company(name).await;
    }
    let admin = app.admin_token().await;
    let json = list(&app, "/activity-logs", &admin).await;
    let response = app.get("/activity-logs?format=csv", Some(&admin)).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("id,created_at,user_id,company_id,action"));
    assert_eq!(lines.len() as u64 - 1, json["total"].as_u64().unwrap());
    for (line, entry) in lines[1..].iter().zip(json["items"].as_array().unwrap()) {
        assert!(
            line.starts_with(entry["id"].as_str().unwrap()),
            "same order"
        );
    }
    assert!(!csv.contains(",=cmd"), "formulas are defused");

    let creates = app
        .get("/activity-logs?format=csv&action=CREATE", Some(&admin))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(creates.lines().count(), 4);
}

/// Every entry of a listing, by paging through it (at most 200 per page).
async fn every_page(app: &TestApp, path: &str, token: &str) -> (u64, Vec<Value>) {
    let separator = if path.contains('?') { '&' } else { '?' };
    let mut items = Vec::new();
    loop {
        let page = list(
            app,
            &format!("{path}{separator}limit=200&offset={}", items.len()),
            token,
        )
        .await;
        let batch = page["items"].as_array().unwrap().clone();
        let total = page["total"].as_u64().unwrap();
        items.extend(batch.iter().cloned());
        if batch.is_empty() || items.len() as u64 >= total {
            return (total, items);
        }
    }
}

/// CSV rows (without the header) of a listing.
async fn csv_rows(app: &TestApp, path: &str, token: &str) -> Vec<String> {
    let separator = if path.contains('?') { '&' } else { '?' };
    let response = app
        .get(&format!("{path}{separator}format=csv"), Some(token))
        .await;
    assert_eq!(response.status(), 200, "GET {path} as CSV");
    let csv = response.text().await.unwrap();
    csv.lines().skip(1).map(str::to_owned).collect()
}

/// A company's whole log is counted from its chain head; the figure must be the number of
/// entries listed, before and after a purge moves the chain's anchor, and filtered listings
/// of it are counted entry by entry.
#[tokio::test]
async fn a_company_log_total_is_the_number_of_its_entries_also_after_a_purge() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let acme_id = acme["id"].as_str().unwrap();
    let boss = app
        .create_account(json!({
            "email": "boss@acme.uz", "username": "boss", "password": "boss-pass",
            "company_id": acme_id
        }))
        .await;
    app.grant(
        &acme,
        boss["id"].as_str().unwrap(),
        json!({"can_view_activity_logs": true}),
    )
    .await;
    app.create_account(json!({
        "email": "member@acme.uz", "username": "member", "password": "member-pass",
        "company_id": acme_id
    }))
    .await;
    for _ in 0..3 {
        app.tokens("member@acme.uz", "member-pass").await;
    }
    let boss_token = app.tokens("boss@acme.uz", "boss-pass").await.access;
    let company_log = format!("/admin/company/{acme_id}/activity-logs");

    let boss_id = boss["id"].as_str().unwrap();
    let check = |expected_at_least: u64| {
        let (app, company_log, boss_token) = (&app, &company_log, &boss_token);
        async move {
            let (total, items) = every_page(app, company_log, boss_token).await;
            assert_eq!(total, items.len() as u64, "total is what is listed");
            assert!(total >= expected_at_least, "{total} < {expected_at_least}");
            assert!(items.iter().all(|e| e["company_id"] == acme_id));
            assert_eq!(
                csv_rows(app, company_log, boss_token).await.len() as u64,
                total,
                "the export has as many rows"
            );
            let by_boss = format!("{company_log}?user_id={boss_id}");
            let (filtered, items) = every_page(app, &by_boss, boss_token).await;
            assert_eq!(filtered, items.len() as u64);
            assert!(items.iter().all(|e| e["user_id"] == boss_id));
            assert!(filtered < total);
            total
        }
    };
    let before = check(4).await;

    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let cutoff = time::OffsetDateTime::now_utc();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    for _ in 0..2 {
        app.tokens("member@acme.uz", "member-pass").await;
    }
    let grown = check(before + 2).await;
    assert_eq!(grown, before + 2, "two more logins");

    let (_, report) =
        dialix_api::startup::purge_audit_log(&app.config(), PurgeCutoff::Before(cutoff))
            .await
            .expect("purge runs");
    assert!(report.deleted >= before, "{report:?}");
    let after = check(2).await;
    assert_eq!(after, grown - before, "the purged run is no longer counted");

    let admin = app.admin_token().await;
    let verify = list(&app, "/admin/activity-logs/verify", &admin).await;
    assert_eq!(verify["valid"], true, "{verify}");
}

/// An export longer than a database batch (1,000) continues where the previous batch ended,
/// also between entries of the same millisecond, and has exactly the listing's entries.
#[tokio::test]
async fn a_csv_export_longer_than_a_batch_has_every_entry_once() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    // Copies of one of the admin's entries, three per millisecond (the chain does not
    // verify afterwards; this test is about reading).
    let new_id = match app.backend {
        Backend::Postgres => "gen_random_uuid()",
        Backend::Sqlite => "randomblob(16)",
    };
    app.execute_sql(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500) \
         INSERT INTO activity_log (id, chain_id, seq, user_id, company_id, action, \
           resource_type, resource_id, details, ip_address, user_agent, request_id, \
           created_at, prev_hash, hash) \
         SELECT {new_id}, a.chain_id, 1000000 + n.i, a.user_id, a.company_id, 'VIEW', \
           'account', NULL, a.details, NULL, NULL, NULL, a.created_at - 1 - n.i / 3, \
           a.prev_hash, a.hash \
         FROM n, (SELECT * FROM activity_log WHERE action = 'LOGIN' \
                  AND user_id IS NOT NULL LIMIT 1) a"
    ))
    .await;

    let (total, items) = every_page(&app, "/activity-logs", &admin).await;
    assert!(total > 1500, "{total}");
    let listed: Vec<&str> = items.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let exported = csv_rows(&app, "/activity-logs", &admin).await;
    let exported: Vec<&str> = exported
        .iter()
        .map(|row| row.split(',').next().unwrap())
        .collect();
    assert_eq!(exported.len() as u64, total);
    assert_eq!(exported, listed, "the same entries in the same order");
}

#[tokio::test]
async fn verification_catches_an_edited_row() {
    let app = spawn_app().await;
    for name in ["Chain A", "Chain B", "Chain C"] {
        app.create_company(name).await;
    }
    let admin = app.admin_token().await;
    let report = list(&app, "/admin/activity-logs/verify", &admin).await;
    assert_eq!(report["valid"], true, "{report}");
    assert!(report["entries_checked"].as_u64().unwrap() >= 7);
    assert_eq!(report["first_broken"], Value::Null);

    let user = app.user_token("nosy").await;
    problem(
        app.get("/admin/activity-logs/verify", Some(&user)).await,
        403,
    )
    .await;

    let seq: i64 = app
        .query_strings("SELECT seq FROM activity_log WHERE CAST(details AS TEXT) LIKE '%Chain B%'")
        .await[0]
        .parse()
        .unwrap();
    app.execute_sql(&format!(
        "UPDATE activity_log SET details = '{{\"name\": \"Chain Z\"}}' WHERE seq = {seq}"
    ))
    .await;
    let report = list(&app, "/admin/activity-logs/verify", &admin).await;
    assert_eq!(report["valid"], false);
    assert_eq!(report["first_broken"]["seq"], seq);
    assert!(
        report["first_broken"]["reason"]
            .as_str()
            .unwrap()
            .contains("edited")
    );
}

#[tokio::test]
async fn verification_catches_a_deleted_row() {
    let app = spawn_app().await;
    for name in ["First", "Second", "Third"] {
        app.create_company(name).await;
    }
    let admin = app.admin_token().await;
    app.execute_sql("DELETE FROM activity_log WHERE seq = 2")
        .await;
    let report = list(&app, "/admin/activity-logs/verify", &admin).await;
    assert_eq!(report["valid"], false, "{report}");
    assert_eq!(report["first_broken"]["seq"], 3);
}

#[tokio::test]
async fn a_purge_removes_old_entries_and_the_chain_still_verifies() {
    let app = spawn_app().await;
    app.create_company("Old News").await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let cutoff = time::OffsetDateTime::now_utc();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    app.create_company("Fresh").await;
    let before = app.query_strings("SELECT COUNT(*) FROM activity_log").await[0]
        .parse::<u64>()
        .unwrap();

    let (used, report) =
        dialix_api::startup::purge_audit_log(&app.config(), PurgeCutoff::Before(cutoff))
            .await
            .expect("purge runs");
    assert_eq!(used, cutoff);
    assert!(
        report.deleted >= 3,
        "bootstrap, login and creation: {report:?}"
    );
    let after = app.query_strings("SELECT COUNT(*) FROM activity_log").await[0]
        .parse::<u64>()
        .unwrap();
    assert_eq!(
        after,
        before - report.deleted + 1,
        "one summary entry is added"
    );
    let summary = app
        .query_strings("SELECT CAST(details AS TEXT) FROM activity_log WHERE action = 'PURGE'")
        .await;
    assert_eq!(summary.len(), 1);
    assert!(
        summary[0].contains(&format!("\"deleted\":{}", report.deleted))
            || summary[0].contains(&format!("\"deleted\": {}", report.deleted))
    );
    let remaining = app
        .query_strings("SELECT COUNT(*) FROM activity_log WHERE resource_type = 'company'")
        .await;
    assert_eq!(remaining, ["1"], "only the fresh company's entry is left");

    let admin = app.admin_token().await;
    let verify = list(&app, "/admin/activity-logs/verify", &admin).await;
    assert_eq!(verify["valid"], true, "{verify}");

    let in_future = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    assert!(
        dialix_api::startup::purge_audit_log(&app.config(), PurgeCutoff::Before(in_future))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn concurrent_changes_never_fork_a_chain() {
    let app = spawn_app().await;
    let company = app.create_company("Busy").await;
    for n in 0..8 {
        app.create_account(json!({
            "email": format!("op{n}@busy.uz"), "username": format!("op{n}"),
            "password": "op-password", "company_id": company["id"]
        }))
        .await;
    }
    // The company's chain is created by whichever of these logins commits first.
    let logins = (0..8).map(|n| {
        let email = format!("op{n}@busy.uz");
        let app = &app;
        async move { app.login(&email, "op-password").await.status().as_u16() }
    });
    let failures = (0..8).map(|n| {
        let app = &app;
        async move {
            app.login(&format!("nobody{n}@busy.uz"), "guess")
                .await
                .status()
                .as_u16()
        }
    });
    let (ok, failed) = tokio::join!(
        futures_util::future::join_all(logins),
        futures_util::future::join_all(failures)
    );
    assert!(ok.iter().all(|s| *s == 200), "{ok:?}");
    assert!(failed.iter().all(|s| *s == 401), "{failed:?}");

    let admin = app.admin_token().await;
    let report = list(&app, "/admin/activity-logs/verify", &admin).await;
    assert_eq!(report["valid"], true, "{report}");
    assert_eq!(report["chains_checked"], 2);
    let company_chain = app
        .query_strings("SELECT COUNT(DISTINCT seq) FROM activity_log WHERE company_id IS NOT NULL")
        .await;
    assert_eq!(company_chain, ["8"]);
}
