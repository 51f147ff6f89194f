//! `GET /dashboard` checked against hand-computed figures on a small seeded data set.
//!
//! The seed (call times are Tashkent local time in the OnlinePBX file names, UTC+5; c6 has no
//! number, so no such name, and its time is set afterwards). Operator 101 (Dilnoza) has the
//! checklist "Inbound" (pass mark 80; items 1.1 weight 60 critical, 1.2 weight 10 — which the
//! fake reviewer marks as not applying —, 1.3 weight 30); 102 (Bobur) has none; 103 is in no
//! catalogue. Numbers: A 901111111, B 902222222, C 903333333, D 904444444.
//!
//! | call | company | uploader  | op  | number | local time       | UTC              | ms   | conv / client / op | purpose | satisfied | checklist          |
//! |------|---------|-----------|-----|--------|------------------|------------------|------|--------------------|---------|-----------|--------------------|
//! | c0   | Acme    | agent     | 102 | A      | 2026-02-28 23:00 | 2026-02-28 18:00 | 1000 | not analysed       |         |           |                    |
//! | c1   | Acme    | agent     | 101 | A      | 2026-03-01 08:00 | 2026-03-01 03:00 | 2000 | pos / neu / pos    | billing | yes       | all pass: 100 ✓    |
//! | c2   | Acme    | agent     | 102 | A      | 2026-03-01 08:10 | 2026-03-01 03:10 | 3000 | neg / neg / neg    | billing | no        |                    |
//! | c3   | Acme    | agent     | 101 | B      | 2026-03-01 14:00 | 2026-03-01 09:00 | 4000 | neu / neg / pos    | sales   | no        | 1.3 fails: 66.67 ✗ |
//! | c4   | Acme    | agent     | 101 | B      | 2026-03-02 13:00 | 2026-03-02 08:00 | 5000 | pos / pos / pos    | billing | yes       | 1.1 fails: 33.33 ✗ |
//! | c5   | Acme    | agent     | 102 | C      | 2026-03-03 04:30 | 2026-03-02 23:30 | 6000 | not analysed       |         |           |                    |
//! | c6   | Acme    | agent     | 103 | —      | 2026-03-02 12:00 | 2026-03-02 07:00 | 1000 | pos / neu / pos    | other   | yes       |                    |
//! | c7   | Acme    | agent     | 102 | A      | 2026-03-04 00:30 | 2026-03-03 19:30 | 1000 | not analysed       |         |           |                    |
//! | d1   | Acme    | colleague | 101 | D      | 2026-03-02 09:00 | 2026-03-02 04:00 | 2500 | neu / neu / neu    | sales   | no        | all pass: 100 ✓    |
//! | g1   | Globex  | rival     | 901 | A      | 2026-03-01 07:50 | 2026-03-01 02:50 | 1000 | not analysed       |         |           |                    |
//!
//! Scores: 1.3 failing leaves 60 of 90 applicable weight (66.67, under the pass mark); 1.1
//! failing leaves 30 of 90 (33.33) and fails a critical item. The period is 1–3 March (local);
//! c0 is the day before it, c7 the day after, g1 another company's.

use dialix_tests::audio::{files, wav};
use dialix_tests::fakes::{FakeProviders, Reply, analysis, use_fakes};
use dialix_tests::{TestApp, problem, rerun_migrations_from, spawn_app_with};
use reqwest::multipart::Form;
use serde_json::{Value, json};

const MARCH: &str = "start_date=2026-03-01&end_date=2026-03-03";

/// An analysis with these sentiments (conversation, client, operator), purpose and
/// satisfaction.
fn analysed(sentiments: [&str; 3], purpose: &str, satisfied: bool) -> Reply {
    let mut general = analysis();
    general["sentiment_conversation"]["value"] = json!(sentiments[0]);
    general["sentiment_client"]["value"] = json!(sentiments[1]);
    general["sentiment_operator"]["value"] = json!(sentiments[2]);
    general["call_purpose"] = json!(purpose);
    general["is_customer_satisfied"] = json!(satisfied);
    Reply::Analysis(general)
}

/// Uploads one call with the scripted chat replies and waits for its processing, so each
/// call takes its own replies.
async fn processed(
    app: &TestApp,
    fakes: &FakeProviders,
    token: &str,
    form: Form,
    replies: Vec<Reply>,
) -> String {
    fakes.script_chat(replies);
    let response = app.multipart("/records", token, form).await;
    assert_eq!(response.status(), 201);
    let records: Vec<Value> = response.json().await.unwrap();
    let id = records[0]["id"].as_str().unwrap().to_owned();
    app.wait_for_status(token, &id, "done").await;
    id
}

/// A call named the OnlinePBX way, analysed or not.
fn call(name: &str, ms: u32, general: bool) -> Form {
    files(vec![(name, wav(ms))]).text("general", general.to_string())
}

struct Seed {
    app: TestApp,
    _fakes: FakeProviders,
    acme: Value,
    globex: Value,
    admin: String,
    /// Administers Acme with `can_view_records`.
    boss: String,
    agent: String,
    colleague: String,
    rival: String,
    dilnoza: String,
    bobur: String,
}

async fn seed() -> Seed {
    let fakes = FakeProviders::start().await;
    let app = spawn_app_with(|config| use_fakes(config, &fakes)).await;
    let admin = app.admin_token().await;
    let acme = app.create_company("Acme").await;
    let globex = app.create_company("Globex").await;
    app.fund(&acme, 1_000_000).await;
    app.fund(&globex, 1_000_000).await;
    let acme_id = acme["id"].as_str().unwrap().to_owned();
    let purposes = app
        .patch(
            &format!("/company/{acme_id}"),
            Some(&admin),
            &json!({"settings": {"call_purposes": ["billing", "sales"]}}),
        )
        .await;
    assert_eq!(purposes.status(), 200);
    let checklist: Value = app
        .post(
            "/checklists",
            Some(&admin),
            &json!({
                "name": "Inbound",
                "company_id": acme_id,
                "pass_mark": 80,
                "segments": [{"title": "Greeting", "items": [
                    {"text": "Greets the customer", "weight": 60, "critical": true},
                    {"text": "Offers a callback", "weight": 10},
                    {"text": "Says goodbye", "weight": 30}
                ]}]
            }),
        )
        .await
        .json()
        .await
        .unwrap();
    let mut operators = Vec::new();
    for (code, name) in [("101", "Dilnoza"), ("102", "Bobur")] {
        let operator: Value = app
            .post(
                "/operators",
                Some(&admin),
                &json!({"code": code, "name": name, "company_id": acme_id}),
            )
            .await
            .json()
            .await
            .unwrap();
        operators.push(operator["id"].as_str().unwrap().to_owned());
    }
    let assigned = app
        .client
        .put(app.url(&format!("/operators/{}/checklists", operators[0])))
        .bearer_auth(&admin)
        .json(&json!({"checklist_id": checklist["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(assigned.status(), 200);
    let (_, agent) = app.member("agent", &acme).await;
    let (_, colleague) = app.member("colleague", &acme).await;
    let (boss_id, boss) = app.member("boss", &acme).await;
    app.grant(&acme, &boss_id, json!({"can_view_records": true}))
        .await;
    let (_, rival) = app.member("rival", &globex).await;

    let pass = || Reply::Ok;
    let fails = |item| Reply::Checklist(vec![(item, Some(false), "—", 1000)]);
    let calls: Vec<(&str, Form, Vec<Reply>)> = vec![
        (
            agent.as_str(),
            call("26.02.28-23:00:00_901111111_102.wav", 1000, false),
            vec![],
        ),
        (
            agent.as_str(),
            call("26.03.01-08:00:00_901111111_101.wav", 2000, true),
            vec![
                analysed(["positive", "neutral", "positive"], "billing", true),
                pass(),
            ],
        ),
        (
            agent.as_str(),
            call("26.03.01-08:10:00_901111111_102.wav", 3000, true),
            vec![analysed(
                ["negative", "negative", "negative"],
                "billing",
                false,
            )],
        ),
        (
            agent.as_str(),
            call("26.03.01-14:00:00_902222222_101.wav", 4000, true),
            vec![
                analysed(["neutral", "negative", "positive"], "sales", false),
                fails("1.3"),
            ],
        ),
        (
            agent.as_str(),
            call("26.03.02-13:00:00_902222222_101.wav", 5000, true),
            vec![
                analysed(["positive", "positive", "positive"], "billing", true),
                fails("1.1"),
            ],
        ),
        (
            agent.as_str(),
            call("26.03.03-04:30:00_903333333_102.wav", 6000, false),
            vec![],
        ),
        (
            agent.as_str(),
            call("26.03.04-00:30:00_901111111_102.wav", 1000, false),
            vec![],
        ),
        (
            colleague.as_str(),
            call("26.03.02-09:00:00_904444444_101.wav", 2500, true),
            vec![
                analysed(["neutral", "neutral", "neutral"], "sales", false),
                pass(),
            ],
        ),
        (
            rival.as_str(),
            call("26.03.01-07:50:00_901111111_901.wav", 1000, false),
            vec![],
        ),
    ];
    for (token, form, replies) in calls {
        processed(&app, &fakes, token, form, replies).await;
    }
    // c6: no number, so no OnlinePBX name to carry its time; set to 2026-03-02 07:00 UTC
    // (by its file name: ids are blobs on SQLite).
    processed(
        &app,
        &fakes,
        &agent,
        files(vec![("plain.wav", wav(1000))]).text("operator_code", "103"),
        vec![analysed(["positive", "neutral", "positive"], "other", true)],
    )
    .await;
    app.execute_sql(
        "UPDATE record SET call_at = 1772434800000, call_started_at = 1772434800000 \
         WHERE original_filename = 'plain.wav'",
    )
    .await;
    Seed {
        app,
        _fakes: fakes,
        acme,
        globex,
        admin,
        boss,
        agent,
        colleague,
        rival,
        dilnoza: operators[0].clone(),
        bobur: operators[1].clone(),
    }
}

fn share(calls: u64, percent: f64) -> Value {
    json!({"calls": calls, "percent": percent})
}

fn day(date: &str, calls: u64, ms: u64, minutes: f64) -> Value {
    json!({"date": date, "calls": calls, "duration_ms": ms, "duration_minutes": minutes})
}

#[tokio::test]
async fn every_figure_matches_the_hand_count() {
    let seed = seed().await;
    let acme_id = seed.acme["id"].as_str().unwrap();
    let board = seed
        .app
        .get_json(&format!("/dashboard?{MARCH}"), &seed.boss)
        .await;
    // The administrator sees c1–c6 and d1: c0 and c7 are outside the period (local days),
    // g1 is Globex's.
    let expected = json!({
        "period": {"start_date": "2026-03-01", "end_date": "2026-03-03", "timezone": "Asia/Tashkent"},
        "call_volume": {
            // 2000 + 3000 + 4000 + 5000 + 6000 + 1000 + 2500 = 23500 ms = 0.39 min;
            // 23500 / 7 = 3357.14.
            "total_calls": 7,
            "total_duration_ms": 23500,
            "total_duration_minutes": 0.39,
            "average_duration_ms": 3357,
            "days": [
                // c1, c2, c3: 9000 ms = 0.15 min.
                day("2026-03-01", 3, 9000, 0.15),
                // c4, c6, d1: 8500 ms = 0.14 min.
                day("2026-03-02", 3, 8500, 0.14),
                // c5 at 23:30 UTC on 2 March is 3 March in Tashkent.
                day("2026-03-03", 1, 6000, 0.1),
            ]
        },
        // Analysed: c1, c2, c3, c4, c6, d1 (c5 is not).
        "sentiment": {
            // positive c1 c4 c6, neutral c3 d1, negative c2: 3/6, 2/6, 1/6.
            "conversation": {
                "analysed_calls": 6,
                "positive": share(3, 50.0),
                "neutral": share(2, 33.33),
                "negative": share(1, 16.67),
            },
            // positive c4, neutral c1 c6 d1, negative c2 c3.
            "client": {
                "analysed_calls": 6,
                "positive": share(1, 16.67),
                "neutral": share(3, 50.0),
                "negative": share(2, 33.33),
            },
            // positive c1 c3 c4 c6, neutral d1, negative c2.
            "operator": {
                "analysed_calls": 6,
                "positive": share(4, 66.67),
                "neutral": share(1, 16.67),
                "negative": share(1, 16.67),
            },
        },
        // billing c1 c2 c4, sales c3 d1, other c6.
        "call_purposes": [
            {"purpose": "billing", "calls": 3, "percent": 50.0},
            {"purpose": "sales", "calls": 2, "percent": 33.33},
            {"purpose": "other", "calls": 1, "percent": 16.67},
        ],
        "operators": [
            {
                // c1, c3, c4, d1: (2000 + 4000 + 5000 + 2500) / 4 = 3375 ms; scores
                // (100 + 66.67 + 33.33 + 100) / 4 = 75; compliant c1, d1: 2 of 4.
                "operator_id": seed.dilnoza,
                "company_id": acme_id,
                "operator_code": "101",
                "operator_name": "Dilnoza",
                "calls": 4,
                "average_duration_ms": 3375,
                "scored_calls": 4,
                "average_checklist_score": 75.0,
                "compliant_calls": 2,
                "compliance_rate_percent": 50.0,
            },
            {
                // c2, c5: (3000 + 6000) / 2; no checklist, so nothing scored.
                "operator_id": seed.bobur,
                "company_id": acme_id,
                "operator_code": "102",
                "operator_name": "Bobur",
                "calls": 2,
                "average_duration_ms": 4500,
                "scored_calls": 0,
                "average_checklist_score": null,
                "compliant_calls": 0,
                "compliance_rate_percent": null,
            },
            {
                // c6: a code no operator of Acme has.
                "operator_id": null,
                "company_id": acme_id,
                "operator_code": "103",
                "operator_name": null,
                "calls": 1,
                "average_duration_ms": 1000,
                "scored_calls": 0,
                "average_checklist_score": null,
                "compliant_calls": 0,
                "compliance_rate_percent": null,
            },
        ],
        // Satisfied c1, c4, c6 of the 6 analysed.
        "satisfaction": {"analysed_calls": 6, "satisfied_calls": 3, "satisfaction_rate_percent": 50.0},
        // With a number: c1 c2 c3 c4 c5 d1 (c6 has none). Repeats: c1, 9 h after c0 (the day
        // before the period); c4, 23 h after c3. c2 is 10 min after c1: a transfer. g1, 10
        // min before c1 on the same number, is Globex's and changes nothing. 2 of 6.
        "repeat_calls": {
            "calls_with_number": 6,
            "repeat_calls": 2,
            "repeat_call_rate_percent": 33.33,
            "window_hours": 24,
            "transfer_gap_minutes": 15,
        },
    });
    assert_eq!(board, expected, "{board:#}");

    // The same company asked for by id gives the same figures.
    let by_id = seed
        .app
        .get_json(
            &format!("/dashboard?{MARCH}&company_id={acme_id}"),
            &seed.boss,
        )
        .await;
    assert_eq!(by_id, expected);

    // In UTC the period is 1 March 00:00 to 4 March 00:00 UTC: c5 (23:30 UTC) moves to
    // 2 March and c7 (3 March 19:30 UTC) comes in. 8 calls; with a number 7 (c7 added, 40 h
    // after c2: no repeat), repeats still 2: 2 / 7 = 28.57 %.
    let utc = seed
        .app
        .patch("/settings", Some(&seed.boss), &json!({"timezone": "UTC"}))
        .await;
    assert_eq!(utc.status(), 200);
    let board = seed
        .app
        .get_json(&format!("/dashboard?{MARCH}"), &seed.boss)
        .await;
    assert_eq!(board["period"]["timezone"], "UTC");
    let days: Vec<u64> = board["call_volume"]["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["calls"].as_u64().unwrap())
        .collect();
    assert_eq!(days, [3, 4, 1]);
    assert_eq!(board["call_volume"]["total_calls"], 8);
    assert_eq!(board["repeat_calls"]["calls_with_number"], 7);
    assert_eq!(board["repeat_calls"]["repeat_call_rate_percent"], 28.57);
}

#[tokio::test]
async fn each_caller_sees_only_their_scope() {
    let seed = seed().await;
    let app = &seed.app;
    let globex_id = seed.globex["id"].as_str().unwrap();

    // The agent, a plain user, sees their own c1–c6 and not their colleague's d1.
    let own = app
        .get_json(&format!("/dashboard?{MARCH}"), &seed.agent)
        .await;
    assert_eq!(own["call_volume"]["total_calls"], 6);
    // 2 March: c4, c6 (5000 + 1000 ms).
    assert_eq!(
        own["call_volume"]["days"][1],
        day("2026-03-02", 2, 6000, 0.1)
    );
    // c1, c3, c4: 11000 / 3 = 3666.67 ms; scores (100 + 66.67 + 33.33) / 3 = 66.67;
    // compliant 1 of 3.
    let dilnoza = &own["operators"][0];
    assert_eq!(dilnoza["operator_code"], "101");
    assert_eq!(dilnoza["calls"], 3);
    assert_eq!(dilnoza["average_duration_ms"], 3667);
    assert_eq!(dilnoza["average_checklist_score"], 66.67);
    assert_eq!(dilnoza["compliance_rate_percent"], 33.33);
    // Analysed c1 c2 c3 c4 c6: conversation positive c1 c4 c6, 3 of 5.
    assert_eq!(own["sentiment"]["conversation"]["analysed_calls"], 5);
    assert_eq!(own["sentiment"]["conversation"]["positive"], share(3, 60.0));
    // With a number c1–c5, repeats c1 and c4: 2 of 5.
    assert_eq!(own["repeat_calls"]["calls_with_number"], 5);
    assert_eq!(own["repeat_calls"]["repeat_call_rate_percent"], 40.0);

    // The colleague sees d1 alone.
    let colleague = app
        .get_json(&format!("/dashboard?{MARCH}"), &seed.colleague)
        .await;
    assert_eq!(colleague["call_volume"]["total_calls"], 1);
    assert_eq!(colleague["operators"][0]["calls"], 1);
    assert_eq!(colleague["operators"][0]["average_checklist_score"], 100.0);
    assert_eq!(colleague["satisfaction"]["satisfaction_rate_percent"], 0.0);

    // Globex's user sees g1 only: the first call of its number there.
    let rival = app
        .get_json(&format!("/dashboard?{MARCH}"), &seed.rival)
        .await;
    assert_eq!(rival["call_volume"]["total_calls"], 1);
    assert_eq!(rival["repeat_calls"]["calls_with_number"], 1);
    assert_eq!(rival["repeat_calls"]["repeat_call_rate_percent"], 0.0);
    assert_eq!(rival["sentiment"]["conversation"]["analysed_calls"], 0);

    // Acme's administrator never sees Globex, not even asked for by id.
    let refused = app
        .get(
            &format!("/dashboard?{MARCH}&company_id={globex_id}"),
            Some(&seed.boss),
        )
        .await;
    problem(refused, 404).await;
    // A plain user cannot widen their scope to the company either.
    let refused = app
        .get(
            &format!("/dashboard?{MARCH}&company_id={globex_id}"),
            Some(&seed.agent),
        )
        .await;
    problem(refused, 404).await;

    // The platform admin: everything (c1–c6, d1, g1; with a number also g1: 7, repeats
    // still c1 and c4), or one company.
    let all = app
        .get_json(&format!("/dashboard?{MARCH}"), &seed.admin)
        .await;
    assert_eq!(all["call_volume"]["total_calls"], 8);
    assert_eq!(all["repeat_calls"]["calls_with_number"], 7);
    assert_eq!(all["repeat_calls"]["repeat_calls"], 2);
    let globex = app
        .get_json(
            &format!("/dashboard?{MARCH}&company_id={globex_id}"),
            &seed.admin,
        )
        .await;
    assert_eq!(globex["call_volume"]["total_calls"], 1);
    assert_eq!(globex["operators"][0]["operator_code"], "901");
    assert_eq!(globex["operators"][0]["operator_id"], Value::Null);
}

#[tokio::test]
async fn an_empty_period_has_the_full_shape_and_bad_input_is_named() {
    let seed = seed().await;
    let board = seed
        .app
        .get_json(
            "/dashboard?start_date=2025-01-01&end_date=2025-01-02",
            &seed.boss,
        )
        .await;
    let none = json!({"calls": 0, "percent": null});
    let sentiment = json!({
        "analysed_calls": 0, "positive": none, "neutral": none, "negative": none
    });
    assert_eq!(
        board,
        json!({
            "period": {"start_date": "2025-01-01", "end_date": "2025-01-02", "timezone": "Asia/Tashkent"},
            "call_volume": {
                "total_calls": 0,
                "total_duration_ms": 0,
                "total_duration_minutes": 0.0,
                "average_duration_ms": null,
                "days": [day("2025-01-01", 0, 0, 0.0), day("2025-01-02", 0, 0, 0.0)]
            },
            "sentiment": {"conversation": sentiment, "client": sentiment, "operator": sentiment},
            "call_purposes": [],
            "operators": [],
            "satisfaction": {"analysed_calls": 0, "satisfied_calls": 0, "satisfaction_rate_percent": null},
            "repeat_calls": {
                "calls_with_number": 0,
                "repeat_calls": 0,
                "repeat_call_rate_percent": null,
                "window_hours": 24,
                "transfer_gap_minutes": 15
            }
        })
    );

    for (query, field) in [
        ("start_date=2026-13-01", "start_date"),
        ("start_date=2026-03-02&end_date=2026-03-01", "start_date"),
        ("company_id=acme", "company_id"),
        ("granularity=day", "granularity"),
    ] {
        let body = problem(
            seed.app
                .get(&format!("/dashboard?{query}"), Some(&seed.boss))
                .await,
            422,
        )
        .await;
        assert!(body.to_string().contains(field), "{query}: {body}");
    }
    problem(seed.app.get("/dashboard", None).await, 401).await;
}

/// Migration 19 fills the client's and the operator's sentiment of calls analysed before it
/// from their analysis, so the dashboard counts them like new ones.
#[tokio::test]
async fn the_migration_backfills_client_and_operator_sentiments() {
    let seed = seed().await;
    let before = seed
        .app
        .get_json(&format!("/dashboard?{MARCH}"), &seed.boss)
        .await;
    let sql = "SELECT COALESCE(sentiment_client, '-') || ':' || COALESCE(sentiment_operator, '-') \
               FROM record ORDER BY call_at, id";
    let columns = seed.app.query_strings(sql).await;
    assert!(
        columns.contains(&"negative:negative".to_owned()),
        "{columns:?}"
    );
    let Seed {
        mut app,
        _fakes,
        boss,
        ..
    } = seed;
    app.shut_down().await;
    // Back to before migration 19, then forward again: the backfill reads the payload.
    rerun_migrations_from(&app.database_url, "m20261207_000019_reporting").await;
    assert_eq!(app.query_strings(sql).await, columns);
    let restarted = app.sibling(|_| {}).await;
    let after = restarted
        .get_json(&format!("/dashboard?{MARCH}"), &boss)
        .await;
    assert_eq!(after, before);
}
