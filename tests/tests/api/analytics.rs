//! Usage statistics (`/analytics/*`) checked against hand-computed figures on a small seeded
//! data set.
//!
//! The seed (call times are Tashkent local time in the OnlinePBX file names, UTC+5; every
//! charge is moved to its call's time so money and calls fall in the same days):
//!
//! | call | company | uploader | operator | local time       | UTC              | ms   | status | charges      |
//! |------|---------|----------|----------|------------------|------------------|------|--------|--------------|
//! | A1   | Acme    | alice    | 101      | 2026-11-02 10:00 | 2026-11-02 05:00 | 2500 | done   | 3150 + 1050  |
//! | A2   | Acme    | alice    | 102      | 2026-11-03 04:30 | 2026-11-02 23:30 | 2500 | done   | 3150 + 1050  |
//! | A3   | Acme    | alice    | 101      | 2026-11-10 12:00 | 2026-11-10 07:00 | 2500 | failed | 3150         |
//! | B1   | Acme    | bob      | 103      | 2026-11-16 09:00 | 2026-11-16 04:00 | 5000 | done   | 5250 + 3000  |
//! | G1   | Globex  | gina     | 901      | 2026-11-02 11:00 | 2026-11-02 06:00 | 2500 | done   | 3150 + 1050  |
//!
//! Prices: speech-to-text 63000/min, general analysis 21000/min, checklist 36000/min, billed
//! per started second: 2.5 s → 3 s → 3150 + 1050; B1 (5 s) has no general analysis but a
//! checklist review: 5250 + 3000. A WAV of `ms` is `44 + 16 * ms` bytes: 40044 and 80044.
//! A3's analysis fails (the chat model answers 500), after its transcript was charged. Alice
//! asks one chat question about A1 (500, moved to 2026-11-02 05:30 UTC).

use dialix_tests::audio::{files, wav};
use dialix_tests::fakes::{FakeProviders, Reply, use_fakes};
use dialix_tests::{TestApp, problem, spawn_app_with};
use serde_json::{Value, json};

const NOVEMBER: &str = "start_date=2026-11-01&end_date=2026-11-30";

struct Seed {
    app: TestApp,
    _fakes: FakeProviders,
    acme: Value,
    globex: Value,
    admin: String,
    /// Administers Acme with `can_view_records`.
    boss: String,
    alice_id: String,
    alice: String,
    bob_id: String,
    bob: String,
}

async fn upload(app: &TestApp, token: &str, name: &str) -> String {
    let response = app
        .multipart("/records", token, files(vec![(name, wav(2500))]))
        .await;
    assert_eq!(response.status(), 201, "upload {name}");
    let records: Vec<Value> = response.json().await.unwrap();
    records[0]["id"].as_str().unwrap().to_owned()
}

async fn seed() -> Seed {
    let fakes = FakeProviders::start().await;
    let app = spawn_app_with(|config| {
        use_fakes(config, &fakes);
        config.chat.price_per_question = 500;
    })
    .await;
    let admin = app.admin_token().await;
    let acme = app.create_company("Acme").await;
    let globex = app.create_company("Globex").await;
    app.fund(&acme, 100_000).await;
    app.fund(&globex, 50_000).await;
    let path = format!("/company/{}/topup", acme["id"].as_str().unwrap());
    let second = app
        .post(
            &path,
            Some(&admin),
            &json!({"amount": 20_000, "idempotency_key": "seed-2"}),
        )
        .await;
    assert_eq!(second.status(), 201);
    let (alice_id, alice) = app.member("alice", &acme).await;
    let (bob_id, bob) = app.member("bob", &acme).await;
    let (boss_id, boss) = app.member("boss", &acme).await;
    app.grant(
        &acme,
        &boss_id,
        json!({"can_view_records": true, "can_manage_settings": true}),
    )
    .await;
    let checklist = app
        .post(
            "/checklists",
            Some(&boss),
            &json!({"name": "Inbound", "segments": [
                {"title": "Greeting", "items": [{"text": "Greets the customer", "weight": 100}]}
            ]}),
        )
        .await;
    assert_eq!(checklist.status(), 201);
    let checklist = checklist.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, gina) = app.member("gina", &globex).await;

    // A3 first and alone: three attempts of two tries each meet the 500s.
    fakes.script_chat((0..6).map(|_| Reply::Status(500, None)));
    let a3 = upload(&app, &alice, "26.11.10-12:00:00_903333333_101.wav").await;
    app.wait_for_status(&alice, &a3, "failed").await;
    let a1 = upload(&app, &alice, "26.11.02-10:00:00_901111111_101.wav").await;
    app.wait_for_status(&alice, &a1, "done").await;
    for (token, name) in [
        (&alice, "26.11.03-04:30:00_902222222_102.wav"),
        (&gina, "26.11.02-11:00:00_905555555_901.wav"),
    ] {
        let id = upload(&app, token, name).await;
        app.wait_for_status(token, &id, "done").await;
    }
    fakes.script_chat([Reply::Checklist(vec![])]);
    let form = files(vec![("26.11.16-09:00:00_904444444_103.wav", wav(5000))])
        .text("general", "false")
        .text("checklist_id", checklist);
    let response = app.multipart("/records", &bob, form).await;
    assert_eq!(response.status(), 201);
    let b1 = response.json::<Vec<Value>>().await.unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.wait_for_status(&bob, &b1, "done").await;
    let session = app
        .post("/chat/session", Some(&alice), &json!({"record_id": a1}))
        .await;
    assert_eq!(session.status(), 201);
    let session = session.json::<Value>().await.unwrap()["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let asked = app
        .post(
            &format!("/chat/{session}/message"),
            Some(&alice),
            &json!({"message": "What did the customer want?"}),
        )
        .await;
    assert_eq!(asked.status(), 200);
    // Charges at their call's time; top-ups at known times: Acme 100000 on 1 November and
    // 20000 on 5 December, Globex 50000 on 20 November (06:00 UTC each).
    app.execute_sql(
        "UPDATE \"transaction\" SET created_at = (SELECT call_at FROM record \
         WHERE record.id = \"transaction\".record_id) \
         WHERE kind = 'charge' AND record_id IS NOT NULL",
    )
    .await;
    app.execute_sql(
        "UPDATE \"transaction\" SET created_at = 1793597400000 WHERE charge_item = 'chat'",
    )
    .await;
    for (amount, at) in [
        (100_000, 1_793_512_800_000_i64),
        (20_000, 1_796_450_400_000),
        (50_000, 1_795_154_400_000),
    ] {
        app.execute_sql(&format!(
            "UPDATE \"transaction\" SET created_at = {at} WHERE kind = 'topup' AND amount = {amount}"
        ))
        .await;
    }
    Seed {
        app,
        _fakes: fakes,
        acme,
        globex,
        admin,
        boss,
        alice_id,
        alice,
        bob_id,
        bob,
    }
}

impl Seed {
    async fn get(&self, path: &str, token: &str) -> Value {
        self.app.get_json(path, token).await
    }

    async fn csv(&self, path: &str, token: &str) -> String {
        let response = self.app.get(path, Some(token)).await;
        assert_eq!(response.status(), 200, "GET {path}");
        assert_eq!(
            response.headers()["content-type"],
            "text/csv; charset=utf-8"
        );
        response.text().await.unwrap()
    }

    fn acme_id(&self) -> &str {
        self.acme["id"].as_str().unwrap()
    }
}

/// `[key, charges, speech_to_text, general_analysis, total]` of each row.
fn expense_rows(report: &Value) -> Vec<(Value, i64, i64, i64, i64)> {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].clone(),
                r["charges"].as_i64().unwrap(),
                r["speech_to_text_amount"].as_i64().unwrap(),
                r["general_analysis_amount"].as_i64().unwrap(),
                r["total_amount"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// `[start_date, calls, audio_ms, spend_amount]` of the buckets that are not all zero.
fn busy_buckets(series: &Value) -> Vec<(String, i64, i64, i64)> {
    series["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["start_date"].as_str().unwrap().to_owned(),
                b["calls"].as_i64().unwrap(),
                b["audio_ms"].as_i64().unwrap(),
                b["spend_amount"].as_i64().unwrap(),
            )
        })
        .filter(|b| (b.1, b.2, b.3) != (0, 0, 0))
        .collect()
}

#[tokio::test]
async fn usage_expenses_and_trends_match_hand_computed_figures() {
    let seed = seed().await;
    let acme = seed.acme_id();

    // Acme in November: A1, A2, A3, B1. Audio 2500 * 3 + 5000 = 12500 ms = 0.2083 → 0.21
    // min; storage 40044 * 3 + 80044 = 200176; uploaders alice and bob. Charges: speech to
    // text A1 A2 A3 B1, general A1 A2, checklist B1, chat one question.
    let usage = seed
        .get(&format!("/analytics/usage?{NOVEMBER}"), &seed.boss)
        .await;
    assert_eq!(
        usage,
        json!({
            "period": {"start_date": "2026-11-01", "end_date": "2026-11-30", "timezone": "Asia/Tashkent"},
            "calls_uploaded": 4, "calls_processed": 3, "calls_failed": 1,
            "audio_ms": 12500, "audio_minutes": 0.21,
            "speech_to_text_count": 4, "general_analysis_count": 2, "checklist_count": 1,
            "chat_questions": 1, "storage_bytes": 200176, "active_users": 2
        })
    );
    let csv = seed
        .csv(
            &format!("/analytics/usage?{NOVEMBER}&format=csv"),
            &seed.boss,
        )
        .await;
    assert_eq!(
        csv,
        "start_date,end_date,timezone,calls_uploaded,calls_processed,calls_failed,audio_ms,\
         audio_minutes,speech_to_text_count,general_analysis_count,checklist_count,\
         chat_questions,storage_bytes,active_users\n\
         2026-11-01,2026-11-30,Asia/Tashkent,4,3,1,12500,0.21,4,2,1,1,200176,2\n"
    );

    // By user: alice 3150 * 3 = 9450 + 1050 * 2 = 2100 + chat 500 → 12050 (6 charges); bob
    // 5250 + checklist 3000 = 8250 (2). Totals 14700 + 2100 + 3000 + 500 = 20300.
    let by_user = seed
        .get(
            &format!("/analytics/expenses?{NOVEMBER}&group_by=user"),
            &seed.boss,
        )
        .await;
    assert_eq!(by_user["group_by"], "user");
    assert_eq!(
        expense_rows(&by_user),
        [
            (json!(seed.alice_id), 6, 9450, 2100, 12050),
            (json!(seed.bob_id), 2, 5250, 0, 8250),
        ]
    );
    assert_eq!(by_user["rows"][0]["label"], "alice");
    assert_eq!(
        by_user["totals"],
        json!({"charges": 8, "speech_to_text_amount": 14700, "general_analysis_amount": 2100,
               "checklist_amount": 3000, "chat_amount": 500, "total_amount": 20300})
    );
    let csv = seed
        .csv(
            &format!("/analytics/expenses?{NOVEMBER}&group_by=user&format=csv"),
            &seed.boss,
        )
        .await;
    assert_eq!(
        csv,
        format!(
            "key,label,charges,speech_to_text_amount,general_analysis_amount,checklist_amount,\
             chat_amount,total_amount\n\
             {},alice,6,9450,2100,0,500,12050\n\
             {},bob,2,5250,0,3000,0,8250\n",
            seed.alice_id, seed.bob_id
        )
    );

    // By operator (the charged call's): 103 = 8250; 101 = A1 + its chat question + A3 = 4200
    // + 500 + 3150 = 7850; 102 = 4200.
    let by_operator = seed
        .get(
            &format!("/analytics/expenses?{NOVEMBER}&group_by=operator"),
            &seed.boss,
        )
        .await;
    assert_eq!(
        expense_rows(&by_operator),
        [
            (json!("103"), 2, 5250, 0, 8250),
            (json!("101"), 4, 6300, 1050, 7850),
            (json!("102"), 2, 3150, 1050, 4200),
        ]
    );

    // The platform admin by company: Acme 20300, Globex 4200.
    let by_company = seed
        .get(
            &format!("/analytics/expenses?{NOVEMBER}&group_by=company"),
            &seed.admin,
        )
        .await;
    assert_eq!(
        expense_rows(&by_company),
        [
            (json!(acme), 8, 14700, 2100, 20300),
            (seed.globex["id"].clone(), 2, 3150, 1050, 4200),
        ]
    );
    assert_eq!(by_company["rows"][1]["label"], "Globex");

    // Weeks (Monday to Sunday, Tashkent): 1 November is a Sunday, so the first week is
    // labelled 26 October. A1, its question and A2 (2 and 3 November local) → 8900; A3 → 3150;
    // B1 → 8250.
    let by_week = seed
        .get(
            &format!("/analytics/expenses?{NOVEMBER}&group_by=week"),
            &seed.boss,
        )
        .await;
    assert_eq!(
        expense_rows(&by_week),
        [
            (json!("2026-10-26"), 0, 0, 0, 0),
            (json!("2026-11-02"), 5, 6300, 2100, 8900),
            (json!("2026-11-09"), 1, 3150, 0, 3150),
            (json!("2026-11-16"), 2, 5250, 0, 8250),
            (json!("2026-11-23"), 0, 0, 0, 0),
            (json!("2026-11-30"), 0, 0, 0, 0),
        ]
    );
    let by_month = seed
        .get(
            "/analytics/expenses?start_date=2026-10-15&end_date=2026-12-10&group_by=month",
            &seed.boss,
        )
        .await;
    assert_eq!(
        expense_rows(&by_month),
        [
            (json!("2026-10-01"), 0, 0, 0, 0),
            (json!("2026-11-01"), 8, 14700, 2100, 20300),
            (json!("2026-12-01"), 0, 0, 0, 0),
        ]
    );
    // The default grouping is by day: every day of the period.
    let by_day = seed
        .get(&format!("/analytics/expenses?{NOVEMBER}"), &seed.boss)
        .await;
    assert_eq!(by_day["group_by"], "day");
    assert_eq!(by_day["rows"].as_array().unwrap().len(), 30);

    // Trends by day in Tashkent: A2 (23:30 UTC on the 2nd) is on the 3rd.
    let trends = seed
        .get(&format!("/analytics/trends?{NOVEMBER}"), &seed.boss)
        .await;
    assert_eq!(trends["granularity"], "day");
    assert_eq!(trends["buckets"].as_array().unwrap().len(), 30);
    assert_eq!(
        busy_buckets(&trends),
        [
            ("2026-11-02".into(), 1, 2500, 4700),
            ("2026-11-03".into(), 1, 2500, 4200),
            ("2026-11-10".into(), 1, 2500, 3150),
            ("2026-11-16".into(), 1, 5000, 8250),
        ]
    );
    assert_eq!(trends["buckets"][1]["audio_minutes"], 0.04);
}

#[tokio::test]
async fn buckets_follow_the_callers_time_zone_and_csv_lists_every_bucket() {
    let seed = seed().await;
    let path = "/analytics/trends?start_date=2026-11-02&end_date=2026-11-03&format=csv";
    // Tashkent (the default): A2 at 23:30 UTC on the 2nd is the 3rd.
    assert_eq!(
        seed.csv(path, &seed.boss).await,
        "start_date,calls,audio_ms,audio_minutes,spend_amount\n\
         2026-11-02,1,2500,0.04,4700\n\
         2026-11-03,1,2500,0.04,4200\n"
    );
    let changed = seed
        .app
        .patch("/settings", Some(&seed.boss), &json!({"timezone": "UTC"}))
        .await;
    assert_eq!(changed.status(), 200);
    // In UTC both calls are on the 2nd.
    assert_eq!(
        seed.csv(path, &seed.boss).await,
        "start_date,calls,audio_ms,audio_minutes,spend_amount\n\
         2026-11-02,2,5000,0.08,8900\n\
         2026-11-03,0,0,0.00,0\n"
    );
    let utc = seed
        .get(
            "/analytics/usage?start_date=2026-11-03&end_date=2026-11-03",
            &seed.boss,
        )
        .await;
    assert_eq!(utc["period"]["timezone"], "UTC");
    assert_eq!(utc["calls_uploaded"], 0);

    // Weeks and months as CSV.
    assert_eq!(
        seed.csv(
            &format!("/analytics/trends?{NOVEMBER}&granularity=month&format=csv"),
            &seed.boss
        )
        .await,
        "start_date,calls,audio_ms,audio_minutes,spend_amount\n\
         2026-11-01,4,12500,0.21,20300\n"
    );
    let weeks = seed
        .get(
            &format!("/analytics/trends?{NOVEMBER}&granularity=week"),
            &seed.boss,
        )
        .await;
    // In UTC, A1 and A2 are both on 2 November (week of the 2nd) as before.
    assert_eq!(
        busy_buckets(&weeks),
        [
            ("2026-11-02".into(), 2, 5000, 8900),
            ("2026-11-09".into(), 1, 2500, 3150),
            ("2026-11-16".into(), 1, 5000, 8250),
        ]
    );
    assert_eq!(weeks["buckets"].as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn an_empty_period_gives_zeros_in_the_same_shape() {
    let seed = seed().await;
    let october = "start_date=2026-10-01&end_date=2026-10-03";
    let usage = seed
        .get(&format!("/analytics/usage?{october}"), &seed.boss)
        .await;
    assert_eq!(
        usage,
        json!({
            "period": {"start_date": "2026-10-01", "end_date": "2026-10-03", "timezone": "Asia/Tashkent"},
            "calls_uploaded": 0, "calls_processed": 0, "calls_failed": 0,
            "audio_ms": 0, "audio_minutes": 0.0,
            "speech_to_text_count": 0, "general_analysis_count": 0, "checklist_count": 0,
            "chat_questions": 0, "storage_bytes": 0, "active_users": 0
        })
    );
    let zero = json!({"charges": 0, "speech_to_text_amount": 0, "general_analysis_amount": 0,
                      "checklist_amount": 0, "chat_amount": 0, "total_amount": 0});
    let by_user = seed
        .get(
            &format!("/analytics/expenses?{october}&group_by=user"),
            &seed.boss,
        )
        .await;
    assert_eq!(by_user["rows"], json!([]));
    assert_eq!(by_user["totals"], zero);
    let by_day = seed
        .get(&format!("/analytics/expenses?{october}"), &seed.boss)
        .await;
    assert_eq!(
        expense_rows(&by_day),
        [
            (json!("2026-10-01"), 0, 0, 0, 0),
            (json!("2026-10-02"), 0, 0, 0, 0),
            (json!("2026-10-03"), 0, 0, 0, 0),
        ]
    );
    let trends = seed
        .get(&format!("/analytics/trends?{october}"), &seed.boss)
        .await;
    assert_eq!(trends["buckets"].as_array().unwrap().len(), 3);
    assert_eq!(
        trends["buckets"][0],
        json!({"start_date": "2026-10-01", "calls": 0, "audio_ms": 0, "audio_minutes": 0.0,
               "spend_amount": 0})
    );
    let revenue = seed
        .get(&format!("/analytics/revenue?{october}"), &seed.admin)
        .await;
    assert_eq!(
        (
            &revenue["topups"],
            &revenue["amount"],
            &revenue["companies"]
        ),
        (&json!(0), &json!(0), &json!([]))
    );
    assert_eq!(
        revenue["buckets"],
        json!([{"start_date": "2026-10-01", "topups": 0, "amount": 0}])
    );
}

#[tokio::test]
async fn scopes_keep_companies_and_colleagues_apart() {
    let seed = seed().await;
    let globex = seed.globex["id"].as_str().unwrap();
    // The Acme administrator asking for Globex: 404, as for any company out of sight.
    let response = seed
        .app
        .get(
            &format!("/analytics/usage?{NOVEMBER}&company_id={globex}"),
            Some(&seed.boss),
        )
        .await;
    problem(response, 404).await;
    for route in ["expenses", "trends"] {
        let response = seed
            .app
            .get(
                &format!("/analytics/{route}?{NOVEMBER}&company_id={globex}"),
                Some(&seed.boss),
            )
            .await;
        problem(response, 404).await;
    }
    // Alice, a plain user: her own calls and charges (A1, A2, A3, her question), never bob's.
    let usage = seed
        .get(&format!("/analytics/usage?{NOVEMBER}"), &seed.alice)
        .await;
    assert_eq!(
        (
            &usage["calls_uploaded"],
            &usage["calls_processed"],
            &usage["calls_failed"],
            &usage["audio_ms"],
            &usage["speech_to_text_count"],
            &usage["general_analysis_count"],
            &usage["checklist_count"],
            &usage["chat_questions"],
            &usage["storage_bytes"],
            &usage["active_users"],
        ),
        (
            &json!(3),
            &json!(2),
            &json!(1),
            &json!(7500),
            &json!(3),
            &json!(2),
            &json!(0),
            &json!(1),
            &json!(120132),
            &json!(1)
        )
    );
    // Naming her own company changes nothing; by company she sees only her share.
    let by_company = seed
        .get(
            &format!(
                "/analytics/expenses?{NOVEMBER}&group_by=company&company_id={}",
                seed.acme_id()
            ),
            &seed.alice,
        )
        .await;
    assert_eq!(
        expense_rows(&by_company),
        [(json!(seed.acme_id()), 6, 9450, 2100, 12050)]
    );
    let bob = seed
        .get(
            &format!("/analytics/expenses?{NOVEMBER}&group_by=user"),
            &seed.bob,
        )
        .await;
    assert_eq!(expense_rows(&bob), [(json!(seed.bob_id), 2, 5250, 0, 8250)]);
    let response = seed
        .app
        .get(
            &format!("/analytics/trends?{NOVEMBER}&company_id={globex}"),
            Some(&seed.alice),
        )
        .await;
    problem(response, 404).await;
    // The platform admin sees both companies, or one.
    let all = seed
        .get(&format!("/analytics/usage?{NOVEMBER}"), &seed.admin)
        .await;
    assert_eq!(
        (&all["calls_uploaded"], &all["active_users"]),
        (&json!(5), &json!(3))
    );
    let one = seed
        .get(
            &format!("/analytics/usage?{NOVEMBER}&company_id={globex}"),
            &seed.admin,
        )
        .await;
    assert_eq!(
        (&one["calls_uploaded"], &one["audio_ms"]),
        (&json!(1), &json!(2500))
    );
}

#[tokio::test]
async fn revenue_is_for_platform_admins_and_matches_the_top_ups() {
    let seed = seed().await;
    let period = "start_date=2026-11-01&end_date=2026-12-31";
    for token in [&seed.boss, &seed.alice] {
        let response = seed
            .app
            .get(&format!("/analytics/revenue?{period}"), Some(token))
            .await;
        problem(response, 403).await;
    }
    // Acme 100000 (1 Nov) + 20000 (5 Dec); Globex 50000 (20 Nov).
    let revenue = seed
        .get(&format!("/analytics/revenue?{period}"), &seed.admin)
        .await;
    assert_eq!(revenue["granularity"], "month");
    assert_eq!(
        (&revenue["topups"], &revenue["amount"]),
        (&json!(3), &json!(170_000))
    );
    assert_eq!(
        revenue["companies"],
        json!([
            {"company_id": seed.acme_id(), "company_name": "Acme", "topups": 2, "amount": 120_000},
            {"company_id": seed.globex["id"], "company_name": "Globex", "topups": 1, "amount": 50_000},
        ])
    );
    assert_eq!(
        revenue["buckets"],
        json!([
            {"start_date": "2026-11-01", "topups": 2, "amount": 150_000},
            {"start_date": "2026-12-01", "topups": 1, "amount": 20_000},
        ])
    );
    let csv = seed
        .csv(
            &format!("/analytics/revenue?{period}&format=csv"),
            &seed.admin,
        )
        .await;
    assert_eq!(
        csv,
        format!(
            "company_id,company_name,topups,amount\n{},Acme,2,120000\n{},Globex,1,50000\n",
            seed.acme_id(),
            seed.globex["id"].as_str().unwrap()
        )
    );
    // One company, by week: Acme's 1 November top-up is in the week of 26 October.
    let weekly = seed
        .get(
            &format!(
                "/analytics/revenue?start_date=2026-11-01&end_date=2026-11-08&granularity=week&company_id={}",
                seed.acme_id()
            ),
            &seed.admin,
        )
        .await;
    assert_eq!(
        weekly["buckets"],
        json!([
            {"start_date": "2026-10-26", "topups": 1, "amount": 100_000},
            {"start_date": "2026-11-02", "topups": 0, "amount": 0},
        ])
    );
}

#[tokio::test]
async fn bad_parameters_are_422_naming_the_field() {
    let fakes = FakeProviders::start().await;
    let app = spawn_app_with(|config| use_fakes(config, &fakes)).await;
    let admin = app.admin_token().await;
    for (path, field) in [
        ("/analytics/expenses?group_by=year", "group_by"),
        ("/analytics/trends?granularity=hour", "granularity"),
        ("/analytics/usage?format=xml", "format"),
        ("/analytics/usage?start_date=2026-13-01", "start_date"),
        (
            "/analytics/revenue?start_date=2026-11-02&end_date=2026-11-01",
            "start_date",
        ),
        ("/analytics/usage?company_id=acme", "company_id"),
    ] {
        let body = problem(app.get(path, Some(&admin)).await, 422).await;
        assert!(body["errors"][field].is_string(), "{path}: {body}");
    }
}
