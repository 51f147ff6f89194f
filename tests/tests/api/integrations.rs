//! Integrations through the real stack against local fakes of OnlinePBX and Bitrix24 that
//! speak their wire formats: credentials (checked, encrypted, masked, audited), the PBX
//! listing, estimate and import into processing, the automatic import across runs and
//! processes, operator sync, the CRM lookup, and tenant isolation.

use std::time::Duration;

use bytes::Bytes;
use dialix_tests::audio::wav;
use dialix_tests::fake_bitrix::FakeBitrix;
use dialix_tests::fake_pbx::{FakeCall, FakePbx};
use dialix_tests::fakes::{FakeProviders, use_fakes};
use dialix_tests::{Backend, TestApp, problem, spawn_app_with};
use serde_json::{Value, json};
use time::OffsetDateTime;

const PBX_KEY: &str = "pbx-api-key-7f3a";
/// The fake serves 2.5 s WAVs, so each imported call is charged like a 2.5 s upload:
/// STT 63000*3/60 and the general analysis 21000*3/60 (billed per started second).
const STT_PRICE: i64 = 3150;
const GENERAL_PRICE: i64 = 1050;
/// Reserved per second of the PBX's duration: (63000 + 21000) / 60.
const PER_SECOND: i64 = 1400;

struct Setup {
    app: TestApp,
    fakes: FakeProviders,
    pbx: FakePbx,
    company: Value,
    /// An administrator of the company with `can_manage_integrations`.
    token: String,
}

async fn setup(balance: i64) -> Setup {
    let fakes = FakeProviders::start().await;
    let pbx = FakePbx::start(PBX_KEY).await;
    let base = pbx.base_url.clone();
    let app = spawn_app_with(|config| {
        use_fakes(config, &fakes);
        config.integrations.onlinepbx_base_url = base;
    })
    .await;
    let company = app.create_company("Calls LLC").await;
    if balance > 0 {
        app.fund(&company, balance).await;
    }
    let (id, token) = app.member("integrator", &company).await;
    app.grant(
        &company,
        &id,
        json!({"can_manage_integrations": true, "can_view_records": true}),
    )
    .await;
    Setup {
        app,
        fakes,
        pbx,
        company,
        token,
    }
}

async fn connect_pbx(s: &Setup) {
    let response = s
        .app
        .put(
            "/integrations/pbx",
            Some(&s.token),
            &json!({"domain": s.pbx.domain, "api_key": PBX_KEY}),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

fn now_s() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Yesterday and today in Tashkent (the default time zone): every call of the last hours.
fn recent_days() -> (String, String) {
    let local = OffsetDateTime::now_utc() + time::Duration::hours(5);
    (
        (local - time::Duration::days(1)).date().to_string(),
        local.date().to_string(),
    )
}

fn call(uuid: &str, start: i64, duration: i64, talk: i64, direction: &'static str) -> FakeCall {
    let (caller, destination) = match direction {
        "inbound" => ("901234567", "101"),
        _ => ("102", "+998935550011"),
    };
    FakeCall {
        uuid: uuid.into(),
        caller: caller.into(),
        destination: destination.into(),
        start,
        duration,
        talk,
        direction,
        audio: Bytes::from(wav(2500)),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn pbx_credentials_are_checked_sealed_masked_and_audited() {
    let s = setup(0).await;
    let app = &s.app;

    let refused = app
        .put(
            "/integrations/pbx",
            Some(&s.token),
            &json!({"domain": s.pbx.domain, "api_key": "wrong-key-123"}),
        )
        .await;
    let body = problem(refused, 422).await;
    assert!(
        body["errors"]["api_key"]
            .as_str()
            .unwrap()
            .contains("Key is not valid"),
        "the PBX's own answer is named: {body}"
    );
    let bad_domain = app
        .put(
            "/integrations/pbx",
            Some(&s.token),
            &json!({"domain": "evil.example/../x", "api_key": PBX_KEY}),
        )
        .await;
    assert!(problem(bad_domain, 422).await["errors"]["domain"].is_string());

    connect_pbx(&s).await;
    let shown = app.get_json("/integrations/pbx", &s.token).await;
    assert_eq!(shown["kind"], "pbx");
    assert_eq!(shown["label"], s.pbx.domain);
    assert_eq!(shown["secret_hint"], "••••7f3a");
    assert!(!shown.to_string().contains(PBX_KEY));

    // Sealed at rest: nonce (12) + ciphertext (as long as the key) + tag (16).
    let sealed = app
        .query_strings(match app.backend {
            Backend::Postgres => "SELECT encode(sealed_secret, 'hex') FROM integration",
            Backend::Sqlite => "SELECT lower(hex(sealed_secret)) FROM integration",
        })
        .await;
    assert_eq!(sealed.len(), 1);
    assert_eq!(sealed[0].len(), 2 * (12 + PBX_KEY.len() + 16));
    assert!(!sealed[0].contains(&hex(PBX_KEY.as_bytes())));

    // Audited as changed, never with the key.
    let company_id = s.company["id"].as_str().unwrap();
    let admin = app.admin_token().await;
    let trail = app
        .get_json(&format!("/activity-logs/integration/{company_id}"), &admin)
        .await;
    let entries = trail["items"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{trail}");
    assert_eq!(entries[0]["details"]["api_key"], json!({"changed": true}));
    assert!(!trail.to_string().contains(PBX_KEY));

    let deleted = app.delete("/integrations/pbx", Some(&s.token)).await;
    assert_eq!(deleted.status(), 204);
    problem(app.get("/integrations/pbx", Some(&s.token)).await, 404).await;
}

#[tokio::test]
async fn only_integration_managers_of_the_company_reach_its_connections() {
    let s = setup(0).await;
    let app = &s.app;
    connect_pbx(&s).await;
    let company_id = s.company["id"].as_str().unwrap();

    let (_, member) = app.member("plain", &s.company).await;
    problem(app.get("/integrations/pbx", Some(&member)).await, 403).await;
    problem(
        app.post("/pbx/import", Some(&member), &json!({"call_ids": ["x"]}))
            .await,
        403,
    )
    .await;

    let other = app.create_company("Other LLC").await;
    let (other_id, stranger) = app.member("stranger", &other).await;
    app.grant(&other, &other_id, json!({"can_manage_integrations": true}))
        .await;
    let path = format!("/integrations/pbx?company_id={company_id}");
    problem(app.get(&path, Some(&stranger)).await, 404).await;
    let calls = format!("/pbx/calls?company_id={company_id}");
    problem(app.get(&calls, Some(&stranger)).await, 404).await;
    // Their own company has no PBX.
    problem(app.get("/pbx/calls", Some(&stranger)).await, 409).await;

    let admin = app.admin_token().await;
    assert_eq!(app.get_json(&path, &admin).await["label"], s.pbx.domain);
}

#[tokio::test]
async fn a_bitrix_webhook_is_checked_before_it_is_saved() {
    let s = setup(0).await;
    let bitrix = FakeBitrix::start().await;
    let wrong = format!("{}/rest/1/wrong/", bitrix.base_url);
    let refused = s
        .app
        .put(
            "/integrations/bitrix",
            Some(&s.token),
            &json!({"webhook_url": wrong}),
        )
        .await;
    let body = problem(refused, 422).await;
    assert!(
        body["errors"]["webhook_url"]
            .as_str()
            .unwrap()
            .contains("Invalid request credentials"),
        "{body}"
    );
    let not_a_webhook = s
        .app
        .put(
            "/integrations/bitrix",
            Some(&s.token),
            &json!({"webhook_url": "ftp://portal.bitrix24.kz/rest/1/x/"}),
        )
        .await;
    problem(not_a_webhook, 422).await;

    let saved = s
        .app
        .put(
            "/integrations/bitrix",
            Some(&s.token),
            &json!({"webhook_url": bitrix.webhook_url()}),
        )
        .await;
    assert_eq!(saved.status(), 200);
    let saved: Value = saved.json().await.unwrap();
    assert_eq!(saved["kind"], "bitrix");
    assert!(!saved.to_string().contains("s3cr3tw3bh00k"));
}

#[tokio::test]
async fn pbx_calls_are_listed_estimated_imported_once_and_processed() {
    let s = setup(1_000_000).await;
    let app = &s.app;
    connect_pbx(&s).await;
    let now = now_s();
    s.pbx.add_call(call("call-a", now - 600, 62, 60, "inbound"));
    s.pbx.add_call(call("call-b", now - 500, 8, 5, "inbound"));
    s.pbx
        .add_call(call("call-c", now - 400, 31, 30, "outbound"));
    let (from, to) = recent_days();

    let listed = app
        .get_json(
            &format!("/pbx/calls?start_date={from}&end_date={to}&limit=2"),
            &s.token,
        )
        .await;
    assert_eq!(listed["total"], 3);
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "paged on our side");
    assert_eq!(items[0]["id"], "call-c", "newest first");
    assert_eq!(items[0]["direction"], "outbound");
    assert_eq!(items[0]["operator_extension"], "102");
    assert_eq!(items[0]["client_number"], "+998935550011");
    assert_eq!(items[0]["talk_seconds"], 30);
    assert_eq!(items[1]["id"], "call-b");
    assert!(items[1]["record_id"].is_null());

    let period = json!({"start_date": from, "end_date": to});
    let estimate = app.post("/pbx/estimate", Some(&s.token), &period).await;
    assert_eq!(estimate.status(), 200);
    let estimate: Value = estimate.json().await.unwrap();
    assert_eq!(estimate["calls"].as_array().unwrap().len(), 2);
    assert_eq!(estimate["skipped_short"], 1, "call-b talked 5 s < 10 s");
    // 62 s and 31 s at 1400 a second.
    assert_eq!(estimate["total_price"], (62 + 31) * PER_SECOND);
    assert_eq!(estimate["enough"], true);
    assert!(
        estimate["calls"][0]["record_id"].is_null(),
        "an estimate creates no record"
    );
    assert_eq!(s.pbx.download_calls(), 0, "an estimate downloads nothing");

    // Recordings arrive slowly; the job waits for them (within the provider timeout).
    s.pbx.slow_downloads(Duration::from_millis(300));
    let imported = app.post("/pbx/import", Some(&s.token), &period).await;
    assert_eq!(imported.status(), 202);
    let imported: Value = imported.json().await.unwrap();
    let calls = imported["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    let balance = app.get_json("/balance", &s.token).await;
    assert_eq!(balance["reserved"], (62 + 31) * PER_SECOND);

    let mut ids = Vec::new();
    for c in calls {
        let id = c["record_id"].as_str().unwrap().to_owned();
        let done = app.wait_for_status(&s.token, &id, "done").await;
        assert_eq!(done["duration_ms"], 2500, "measured once downloaded");
        assert_eq!(done["content_type"], "audio/wav");
        ids.push((c["pbx_call_id"].as_str().unwrap().to_owned(), done));
    }
    let a = &ids.iter().find(|(p, _)| p == "call-a").unwrap().1;
    assert_eq!(a["pbx_call_id"], "call-a");
    assert_eq!(a["client_phone_number"], "+998901234567");
    assert_eq!(a["operator_code"], "101");
    assert_eq!(a["call_type"], "inbound");
    assert_eq!(
        a["call_started_at"],
        OffsetDateTime::from_unix_timestamp(now - 600)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
            .replace("Z", ".000Z")
    );
    assert!(a["transcript"].is_array() && a["analysis"].is_object());

    // Charged once per step by the measured 2.5 s; the rest of the reservation is released.
    let mut charged = app.charges(&s.company).await;
    charged.sort();
    assert_eq!(
        charged,
        [-STT_PRICE, -STT_PRICE, -GENERAL_PRICE, -GENERAL_PRICE]
    );
    let balance = app.get_json("/balance", &s.token).await;
    assert_eq!(balance["reserved"], 0);
    assert_eq!(
        balance["balance"],
        1_000_000 - 2 * (STT_PRICE + GENERAL_PRICE)
    );
    assert_eq!(s.pbx.download_calls(), 2);

    // The listing shows the records; importing again changes nothing.
    let listed = app
        .get_json(
            &format!("/pbx/calls?start_date={from}&end_date={to}"),
            &s.token,
        )
        .await;
    let record_of = |id: &str| {
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()["record_id"]
            .clone()
    };
    assert_eq!(record_of("call-a"), a["id"]);
    assert!(record_of("call-b").is_null());
    let waiting = app
        .get_json(
            &format!("/pbx/calls?start_date={from}&end_date={to}&imported=false"),
            &s.token,
        )
        .await;
    assert_eq!(waiting["total"], 1);
    assert_eq!(waiting["items"][0]["id"], "call-b");
    let outbound = app
        .get_json(
            &format!(
                "/pbx/calls?start_date={from}&end_date={to}&imported=true&direction=outbound&min_talk_seconds=30"
            ),
            &s.token,
        )
        .await;
    assert_eq!(outbound["total"], 1);
    assert_eq!(outbound["items"][0]["id"], "call-c");
    let bad = app
        .get(
            "/pbx/calls?direction=sideways&imported=maybe",
            Some(&s.token),
        )
        .await;
    let bad = problem(bad, 422).await;
    assert!(bad["errors"]["direction"].is_string() && bad["errors"]["imported"].is_string());
    let again = app.post("/pbx/import", Some(&s.token), &period).await;
    assert_eq!(again.status(), 202);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["calls"], json!([]));
    assert_eq!(again["already_imported"], 2);
    let by_id = app
        .post(
            "/pbx/import",
            Some(&s.token),
            &json!({"call_ids": ["call-a", "nope"]}),
        )
        .await;
    let by_id: Value = by_id.json().await.unwrap();
    assert_eq!(by_id["already_imported"], 1);
    assert_eq!(by_id["not_found"], json!(["nope"]));
    let records = app
        .query_strings("SELECT pbx_call_id FROM record ORDER BY pbx_call_id")
        .await;
    assert_eq!(records, ["call-a", "call-c"]);
}

#[tokio::test]
async fn an_expired_session_key_is_renewed_once() {
    let s = setup(0).await;
    connect_pbx(&s).await;
    let auths = s.pbx.auth_calls();
    let (from, to) = recent_days();
    let path = format!("/pbx/calls?start_date={from}&end_date={to}");
    s.app.get_json(&path, &s.token).await;
    s.app.get_json(&path, &s.token).await;
    assert_eq!(
        s.pbx.auth_calls(),
        auths,
        "the session saved at connect is reused"
    );
    s.pbx.expire_sessions();
    s.app.get_json(&path, &s.token).await;
    assert_eq!(s.pbx.auth_calls(), auths + 1);
}

#[tokio::test]
async fn a_short_balance_imports_nothing() {
    let s = setup(1000).await;
    connect_pbx(&s).await;
    s.pbx
        .add_call(call("call-a", now_s() - 600, 62, 60, "inbound"));
    let response = s
        .app
        .post(
            "/pbx/import",
            Some(&s.token),
            &json!({"call_ids": ["call-a"]}),
        )
        .await;
    let body = problem(response, 402).await;
    assert!(body["detail"].as_str().unwrap().contains("86800"), "{body}");
    assert!(
        s.app
            .query_strings("SELECT id FROM record")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_failed_download_fails_the_record_and_releases_its_money() {
    let s = setup(1_000_000).await;
    connect_pbx(&s).await;
    s.pbx
        .add_call(call("call-a", now_s() - 600, 62, 60, "inbound"));
    // Three attempts (the test policy), each a failing download.
    s.pbx.fail_downloads("call-a", 3, 500);
    let response = s
        .app
        .post(
            "/pbx/import",
            Some(&s.token),
            &json!({"call_ids": ["call-a"]}),
        )
        .await;
    let body: Value = response.json().await.unwrap();
    let id = body["calls"][0]["record_id"].as_str().unwrap().to_owned();
    let failed = s.app.wait_for_status(&s.token, &id, "failed").await;
    assert!(
        failed["error"].as_str().unwrap().contains("500"),
        "{failed}"
    );
    assert_eq!(
        s.pbx.download_calls(),
        3,
        "retried with backoff, then given up"
    );
    let balance = s.app.get_json("/balance", &s.token).await;
    assert_eq!(
        (balance["reserved"].as_i64(), balance["balance"].as_i64()),
        (Some(0), Some(1_000_000))
    );
    assert!(s.app.charges(&s.company).await.is_empty());

    // The PBX serves it again: reprocessing downloads it anew.
    let again = s
        .app
        .post(
            &format!("/records/{id}/reprocess"),
            Some(&s.token),
            &json!({}),
        )
        .await;
    assert_eq!(again.status(), 202, "{}", again.text().await.unwrap());
    let done = s.app.wait_for_status(&s.token, &id, "done").await;
    assert_eq!(done["duration_ms"], 2500);
    assert_eq!(s.pbx.download_calls(), 4);
    let mut charged = s.app.charges(&s.company).await;
    charged.sort();
    assert_eq!(charged, [-STT_PRICE, -GENERAL_PRICE]);
}

/// Waits until the automatic import has run after `after` (RFC 3339) and returns it.
async fn next_run(app: &TestApp, token: &str, after: &Value) -> Value {
    for _ in 0..200 {
        let auto = app.get_json("/integrations/pbx/auto-import", token).await;
        if auto["last_run"]["at"].is_string() && auto["last_run"]["at"] != *after {
            return auto;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the automatic import did not run");
}

#[tokio::test]
async fn the_automatic_import_takes_only_new_calls_across_runs_and_processes() {
    let s = setup(1_000_000).await;
    let app = &s.app;
    connect_pbx(&s).await;
    s.pbx
        .add_call(call("before", now_s() - 3600, 40, 35, "inbound"));

    let saved = app
        .put(
            "/integrations/pbx/auto-import",
            Some(&s.token),
            &json!({"enabled": true, "interval_minutes": 60, "general": false}),
        )
        .await;
    assert_eq!(saved.status(), 200);
    let first = next_run(app, &s.token, &Value::Null).await;
    assert_eq!(
        first["last_run"]["imported"], 0,
        "calls before switching on stay: {first}"
    );

    // A call that started after switching on (the PBX counts whole seconds) and has ended.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    s.pbx.add_call(call("first", now_s() - 1, 1, 1, "inbound"));
    s.pbx
        .add_call(call("first-long", now_s() - 1, 1, 1, "outbound"));
    let due = app
        .post(
            "/integrations/pbx/auto-import/run",
            Some(&s.token),
            &json!({}),
        )
        .await;
    assert_eq!(due.status(), 202);
    // min_talk_seconds defaults to 10: both are short. Lower it and run again.
    let second = next_run(app, &s.token, &first["last_run"]["at"]).await;
    assert_eq!(second["last_run"]["imported"], 0);
    assert_eq!(second["last_run"]["skipped_short"], 2);

    app.put(
        "/integrations/pbx/auto-import",
        Some(&s.token),
        &json!({"enabled": true, "interval_minutes": 60, "general": false, "min_talk_seconds": 0}),
    )
    .await;
    let third = next_run(app, &s.token, &second["last_run"]["at"]).await;
    assert_eq!(third["last_run"]["imported"], 2, "{third}");

    // A second process with workers shares the schedule: each call still once.
    let sibling = app
        .sibling(|config| {
            use_fakes(config, &s.fakes);
            config.integrations.onlinepbx_base_url = s.pbx.base_url.clone();
        })
        .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    s.pbx.add_call(call("second", now_s() - 1, 1, 1, "inbound"));
    app.post(
        "/integrations/pbx/auto-import/run",
        Some(&s.token),
        &json!({}),
    )
    .await;
    let fourth = next_run(app, &s.token, &third["last_run"]["at"]).await;
    assert_eq!(fourth["last_run"]["imported"], 1, "{fourth}");
    assert_eq!(
        fourth["last_run"]["already_imported"], 2,
        "the lookback sees them again"
    );
    app.post(
        "/integrations/pbx/auto-import/run",
        Some(&s.token),
        &json!({}),
    )
    .await;
    next_run(app, &s.token, &fourth["last_run"]["at"]).await;
    drop(sibling);

    let imported = app
        .query_strings("SELECT pbx_call_id FROM record ORDER BY pbx_call_id")
        .await;
    assert_eq!(imported, ["first", "first-long", "second"]);
}

#[tokio::test]
async fn operators_are_synced_from_the_pbx_users_without_duplicates() {
    let s = setup(0).await;
    let app = &s.app;
    connect_pbx(&s).await;
    let existing = app
        .post(
            "/operators",
            Some(&app.admin_token().await),
            &json!({"code": "101", "name": "Old name", "company_id": s.company["id"]}),
        )
        .await;
    assert_eq!(existing.status(), 201);
    let long = "9".repeat(40);
    s.pbx.set_users(&[
        ("101", "Aziza Karimova"),
        ("102", "Bobur"),
        (&long, "Nobody"),
    ]);

    let synced = app
        .post("/operators/sync", Some(&s.token), &json!({}))
        .await;
    assert_eq!(synced.status(), 200);
    let synced: Value = synced.json().await.unwrap();
    assert_eq!(synced["created"][0]["code"], "102");
    assert_eq!(synced["created"].as_array().unwrap().len(), 1);
    assert_eq!(synced["renamed"][0]["name"], "Aziza Karimova");
    assert_eq!(synced["skipped"], json!([long]));

    let again: Value = app
        .post("/operators/sync", Some(&s.token), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            again["created"].as_array().unwrap().len(),
            again["unchanged"].as_u64()
        ),
        (0, Some(2))
    );
    let operators = app.get_json("/operators", &s.token).await;
    assert_eq!(operators["total"], 2);
}

#[tokio::test]
async fn the_crm_lookup_is_stored_shown_and_refreshed() {
    let s = setup(1_000_000).await;
    let app = &s.app;
    let bitrix = FakeBitrix::start().await;
    bitrix.add_contact("7", &["901234567"], "Dilshod", "Karimov");
    bitrix.add_deal(
        "7",
        "31",
        "Tariff upgrade",
        "C1:WON",
        "2026-11-20T10:00:00+05:00",
        "2026-11-25T09:00:00+05:00",
    );
    bitrix.add_deal(
        "7",
        "32",
        "New line",
        "NEW",
        "2026-11-26T10:00:00+05:00",
        "",
    );
    bitrix.add_stage("DEAL_STAGE", "NEW", "New");
    bitrix.add_stage("DEAL_STAGE_1", "C1:WON", "Deal won");
    let saved = app
        .put(
            "/integrations/bitrix",
            Some(&s.token),
            &json!({"webhook_url": bitrix.webhook_url()}),
        )
        .await;
    assert_eq!(saved.status(), 200);
    // The portal is busy once: the client waits and asks again.
    bitrix.limit_next(1);

    let upload = |phone: &'static str| {
        let form = reqwest::multipart::Form::new()
            .part(
                "files",
                reqwest::multipart::Part::bytes(wav(2500))
                    .file_name("call.wav")
                    .mime_str("audio/wav")
                    .unwrap(),
            )
            .text("client_phone_number", phone);
        app.multipart("/records", &s.token, form)
    };
    let response = upload("+998901234567").await;
    assert_eq!(response.status(), 201);
    let record = response.json::<Vec<Value>>().await.unwrap().remove(0);
    let id = record["id"].as_str().unwrap();
    let done = app.wait_for_status(&s.token, id, "done").await;
    let crm = &done["crm"];
    assert_eq!(crm["outcome"], "found", "{done}");
    assert_eq!(crm["customer_name"], "Dilshod Karimov");
    assert_eq!(crm["contact_id"], "7");
    assert_eq!(crm["deals"][0]["id"], "32", "newest first");
    assert_eq!(crm["deals"][0]["stage"], "New");
    assert!(crm["deals"][0]["closed_at"].is_null());
    assert_eq!(crm["deals"][1]["stage"], "Deal won");
    assert_eq!(crm["deals"][1]["closed_at"], "2026-11-25T04:00:00.000Z");
    let phones: Vec<String> = bitrix
        .requests()
        .into_iter()
        .filter(|(_, method, _)| method == "crm.contact.list")
        .map(|(_, _, query)| query)
        .collect();
    assert!(phones.iter().all(|q| q.contains("901234567")));
    let grouped = app.get_json("/calls/grouped?min_calls=1", &s.token).await;
    assert_eq!(
        grouped["items"][0]["customer_name"], "Dilshod Karimov",
        "{grouped}"
    );

    // An unknown number, then a portal that stays busy: the call is processed anyway.
    let response = upload("+998935550011").await;
    let other = response.json::<Vec<Value>>().await.unwrap().remove(0);
    let other_id = other["id"].as_str().unwrap();
    let done = app.wait_for_status(&s.token, other_id, "done").await;
    assert_eq!(done["crm"]["outcome"], "not_found");
    bitrix.limit_next(100);
    let response = upload("+998901234567").await;
    let busy = response.json::<Vec<Value>>().await.unwrap().remove(0);
    let busy_id = busy["id"].as_str().unwrap();
    let done = app.wait_for_status(&s.token, busy_id, "done").await;
    assert_eq!(done["crm"]["outcome"], "failed", "{done}");
    assert!(
        done["crm"]["error"]
            .as_str()
            .unwrap()
            .contains("QUERY_LIMIT_EXCEEDED")
    );

    bitrix.limit_next(0);
    let refreshed = app
        .post(
            &format!("/records/{busy_id}/crm/refresh"),
            Some(&s.token),
            &json!({}),
        )
        .await;
    assert_eq!(refreshed.status(), 200);
    let refreshed: Value = refreshed.json().await.unwrap();
    assert_eq!(refreshed["crm"]["outcome"], "found");

    let (_, stranger) = {
        let other = app.create_company("Other LLC").await;
        app.member("stranger", &other).await
    };
    problem(
        app.post(
            &format!("/records/{busy_id}/crm/refresh"),
            Some(&stranger),
            &json!({}),
        )
        .await,
        404,
    )
    .await;
}
