//! The compliance dashboard: metrics with the change against the previous period,
//! violations, per-operator tracking and reports, checked against hand-computed values on six
//! scored calls.
//!
//! The data set (Acme; times in Tashkent, the default time zone; checklist "Inbound" with a
//! pass mark of 70: 1.1 "Greets the customer" weight 50 critical, 1.2 "Offers a callback"
//! weight 20, 2.1 "Says goodbye" weight 30; the fake reviewer passes unscripted items and
//! finds items ending in `.2` not applicable):
//!
//! | call | when (local)     | operator | verdicts                    | score        | compliant |
//! |------|------------------|----------|-----------------------------|--------------|-----------|
//! | c1   | 2026-11-09 10:00 | 101      | all pass, 1.2 n/a           | 80/80 = 100  | yes       |
//! | c2   | 2026-11-09 15:00 | 101      | 2.1 fails, 1.2 n/a          | 50/80 = 62.5 | no (< 70) |
//! | c3   | 2026-11-11 11:00 | 102      | 1.1 fails (critical)        | 50/100 = 50  | no        |
//! | c4   | 2026-11-13 09:00 | 102      | 1.2 fails                   | 80/100 = 80  | yes       |
//! | p1   | 2026-11-03 10:00 | 101      | 1.1 fails (critical), 1.2 n/a | 30/80 = 37.5 | no      |
//! | p2   | 2026-11-04 10:00 | 102      | all pass, 1.2 n/a           | 80/80 = 100  | yes       |
//!
//! plus an unscored call of 101 on 2026-11-10. The period asked for is 2026-11-08 – 14; the
//! previous one 2026-11-01 – 07.

use dialix_tests::audio::{files, wav};
use dialix_tests::fakes::{FakeProviders, Reply, use_fakes};
use dialix_tests::pdf::pdf_text;
use dialix_tests::{TestApp, problem, spawn_app_with};
use serde_json::{Value, json};

const PERIOD: &str = "start_date=2026-11-08&end_date=2026-11-14";

struct Seeded {
    app: TestApp,
    acme: Value,
    /// Company administrator of Acme with `can_view_records`.
    qa: String,
    checklist: String,
    op101: String,
    op102: String,
    /// c1..c4, p1, p2.
    calls: Vec<String>,
}

/// Uploads one call named the OnlinePBX way, scored with `checklist` (no general analysis)
/// by the scripted reviewer, and waits until it is done.
async fn scored_call(
    app: &TestApp,
    fakes: &FakeProviders,
    token: &str,
    name: &str,
    checklist: Option<&str>,
    verdicts: Vec<(&'static str, Option<bool>, &'static str, u64)>,
) -> String {
    let mut form = files(vec![(name, wav(1500))]).text("general", "false");
    if let Some(checklist) = checklist {
        fakes.script_chat([Reply::Checklist(verdicts)]);
        form = form.text("checklist_id", checklist.to_owned());
    }
    let response = app.multipart("/records", token, form).await;
    assert_eq!(response.status(), 201);
    let id = response.json::<Vec<Value>>().await.unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.wait_for_status(token, &id, "done").await;
    id
}

async fn seed() -> Seeded {
    let fakes = FakeProviders::start().await;
    let app = spawn_app_with(|config| use_fakes(config, &fakes)).await;
    let acme = app.create_company("Acme").await;
    app.fund(&acme, 1_000_000).await;
    let (qa_id, qa) = app.member("quality", &acme).await;
    app.grant(
        &acme,
        &qa_id,
        json!({"can_manage_settings": true, "can_manage_users": true, "can_view_records": true}),
    )
    .await;
    let (_, agent) = app.member("agent", &acme).await;
    let created = app
        .post(
            "/checklists",
            Some(&qa),
            &json!({
                "name": "Inbound",
                "pass_mark": 70,
                "segments": [
                    {"title": "Greeting", "items": [
                        {"text": "Greets the customer", "weight": 50, "critical": true},
                        {"text": "Offers a callback", "weight": 20}
                    ]},
                    {"title": "Closing", "items": [
                        {"text": "Says goodbye", "weight": 30}
                    ]}
                ]
            }),
        )
        .await;
    assert_eq!(created.status(), 201);
    let checklist = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut operators = Vec::new();
    for (code, name) in [("101", "Aziza"), ("102", "Bobur")] {
        let response = app
            .post(
                "/operators",
                Some(&qa),
                &json!({"code": code, "name": name}),
            )
            .await;
        assert_eq!(response.status(), 201);
        let operator: Value = response.json().await.unwrap();
        operators.push(operator["id"].as_str().unwrap().to_owned());
    }
    let c = Some(checklist.as_str());
    let mut calls = Vec::new();
    for (name, verdicts) in [
        ("26.11.09-10:00:00_901111111_101.wav", vec![]),
        (
            "26.11.09-15:00:00_902222222_101.wav",
            vec![("2.1", Some(false), "Xayr demadi", 5000)],
        ),
        (
            "26.11.11-11:00:00_903333333_102.wav",
            vec![
                ("1.1", Some(false), "Salom, yo'q", 1200),
                ("1.2", Some(true), "Qayta qo'ng'iroq", 4000),
            ],
        ),
        (
            "26.11.13-09:00:00_904444444_102.wav",
            vec![("1.2", Some(false), "Taklif qilmadi", 3000)],
        ),
        (
            "26.11.03-10:00:00_905555555_101.wav",
            vec![("1.1", Some(false), "Jim", 800)],
        ),
        ("26.11.04-10:00:00_906666666_102.wav", vec![]),
    ] {
        calls.push(scored_call(&app, &fakes, &agent, name, c, verdicts).await);
    }
    scored_call(
        &app,
        &fakes,
        &agent,
        "26.11.10-10:00:00_907777777_101.wav",
        None,
        vec![],
    )
    .await;
    Seeded {
        app,
        acme,
        qa,
        checklist,
        op101: operators[0].clone(),
        op102: operators[1].clone(),
        calls,
    }
}

const FIGURES: [&str; 10] = [
    "scored_calls",
    "compliant_calls",
    "compliance_rate_percent",
    "average_score",
    "previous_scored_calls",
    "previous_compliant_calls",
    "previous_compliance_rate_percent",
    "previous_average_score",
    "compliance_rate_change_points",
    "average_score_change_points",
];

/// The figure fields of `value`, in [`FIGURES`] order.
fn figures(value: &Value) -> Value {
    Value::Array(FIGURES.iter().map(|f| value[*f].clone()).collect())
}

/// `item_id:evidence:at_ms` of each failed verdict, in call order, straight from the table.
const FAILED_VERDICTS: &str = "SELECT item_id || ':' || evidence || ':' \
     || COALESCE(CAST(at_ms AS TEXT), '') FROM checklist_verdict WHERE passed = FALSE \
     ORDER BY call_at, item_id";

#[tokio::test]
async fn metrics_match_hand_computed_rates_scores_and_changes() {
    let s = seed().await;
    let app = &s.app;

    // Processing wrote one row per item of each of the six scored calls.
    assert_eq!(
        app.query_strings("SELECT CAST(COUNT(*) AS TEXT) FROM checklist_verdict")
            .await,
        ["18"]
    );
    // 1.2 did not apply to c1, c2, p1 and p2.
    assert_eq!(
        app.query_strings(
            "SELECT CAST(COUNT(*) AS TEXT) FROM checklist_verdict WHERE passed IS NULL"
        )
        .await,
        ["4"]
    );
    assert_eq!(
        app.query_strings(FAILED_VERDICTS).await,
        [
            "1.1:Jim:800",
            "2.1:Xayr demadi:5000",
            "1.1:Salom, yo'q:1200",
            "1.2:Taklif qilmadi:3000"
        ]
    );

    let metrics = app
        .get_json(&format!("/compliance/metrics?{PERIOD}"), &s.qa)
        .await;
    assert_eq!(metrics["period"]["start_date"], "2026-11-08");
    assert_eq!(metrics["period"]["timezone"], "Asia/Tashkent");
    assert_eq!(metrics["previous_period"]["start_date"], "2026-11-01");
    assert_eq!(metrics["previous_period"]["end_date"], "2026-11-07");
    // Now: c1..c4, compliant c1 and c4: 2/4 = 50%; scores (100 + 62.5 + 50 + 80) / 4 = 73.125
    // → 73.13. Before: p1, p2, compliant p2: 1/2 = 50%; (37.5 + 100) / 2 = 68.75.
    // Changes: 50 − 50 = 0 points; 73.13 − 68.75 = 4.38 points.
    let overall = json!([4, 2, 50.0, 73.13, 2, 1, 50.0, 68.75, 0.0, 4.38]);
    assert_eq!(figures(&metrics["overall"]), overall);
    let companies = metrics["companies"].as_array().unwrap();
    assert_eq!(companies.len(), 1);
    assert_eq!(companies[0]["company_id"], s.acme["id"]);
    assert_eq!(figures(&companies[0]), overall);
    let checklists = metrics["checklists"].as_array().unwrap();
    assert_eq!(checklists.len(), 1);
    assert_eq!(checklists[0]["checklist_id"], s.checklist.as_str());
    assert_eq!(checklists[0]["checklist_name"], "Inbound");
    assert_eq!(figures(&checklists[0]), overall);

    let operators = metrics["operators"].as_array().unwrap();
    assert_eq!(operators.len(), 2, "the unscored call adds no group");
    assert_eq!(operators[0]["operator_code"], "101");
    assert_eq!(operators[0]["operator_id"], s.op101.as_str());
    assert_eq!(operators[0]["operator_name"], "Aziza");
    // 101 now: c1, c2: 1/2 = 50%, (100 + 62.5) / 2 = 81.25; before: p1: 0/1 = 0%, 37.5.
    // Changes: +50 points, 81.25 − 37.5 = 43.75.
    assert_eq!(
        figures(&operators[0]),
        json!([2, 1, 50.0, 81.25, 1, 0, 0.0, 37.5, 50.0, 43.75])
    );
    assert_eq!(operators[1]["operator_name"], "Bobur");
    // 102 now: c3, c4: 1/2 = 50%, (50 + 80) / 2 = 65; before: p2: 1/1 = 100%, 100.
    // Changes: −50 points, −35.
    assert_eq!(
        figures(&operators[1]),
        json!([2, 1, 50.0, 65.0, 1, 1, 100.0, 100.0, -50.0, -35.0])
    );

    let items: Vec<Value> = metrics["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            json!([
                i["item_id"],
                i["item_text"],
                i["critical"],
                i["applicable_verdicts"],
                i["passed_verdicts"],
                i["failed_verdicts"],
                i["pass_rate_percent"],
                i["previous_applicable_verdicts"],
                i["previous_failed_verdicts"],
                i["previous_pass_rate_percent"],
                i["pass_rate_change_points"]
            ])
        })
        .collect();
    assert_eq!(
        items,
        [
            // 1.1 now: applies to c1..c4, fails on c3: 3/4 = 75%; before: p1 fails, p2
            // passes: 1/2 = 50%; +25 points.
            json!([
                "1.1",
                "Greets the customer",
                true,
                4,
                3,
                1,
                75.0,
                2,
                1,
                50.0,
                25.0
            ]),
            // 1.2 now: applies to c3 (passes) and c4 (fails): 1/2 = 50%; never before.
            json!([
                "1.2",
                "Offers a callback",
                false,
                2,
                1,
                1,
                50.0,
                0,
                0,
                null,
                null
            ]),
            // 2.1 now: fails on c2: 3/4 = 75%; before: 2/2 = 100%; −25 points.
            json!([
                "2.1",
                "Says goodbye",
                false,
                4,
                3,
                1,
                75.0,
                2,
                0,
                100.0,
                -25.0
            ]),
        ]
    );

    // One operator, one checklist: 102's figures and items only.
    let only_102 = app
        .get_json(
            &format!(
                "/compliance/metrics?{PERIOD}&operator_id={}&checklist_id={}",
                s.op102, s.checklist
            ),
            &s.qa,
        )
        .await;
    assert_eq!(
        figures(&only_102["overall"]),
        json!([2, 1, 50.0, 65.0, 1, 1, 100.0, 100.0, -50.0, -35.0])
    );
    assert_eq!(only_102["operators"].as_array().unwrap().len(), 1);
    // 1.1 for 102: c3 fails, c4 passes: 1/2 = 50%; before p2 passes: 100%.
    assert_eq!(only_102["items"][0]["pass_rate_percent"], 50.0);
    assert_eq!(only_102["items"][0]["pass_rate_change_points"], -50.0);

    // A period without scored calls before it: changes are null; nothing at all: zeros and
    // nulls in the same shape.
    let first_week = app
        .get_json(
            "/compliance/metrics?start_date=2026-11-01&end_date=2026-11-07",
            &s.qa,
        )
        .await;
    assert_eq!(
        figures(&first_week["overall"]),
        json!([2, 1, 50.0, 68.75, 0, 0, null, null, null, null])
    );
    let empty = app
        .get_json(
            "/compliance/metrics?start_date=2026-10-01&end_date=2026-10-07",
            &s.qa,
        )
        .await;
    assert_eq!(
        figures(&empty["overall"]),
        json!([0, 0, null, null, 0, 0, null, null, null, null])
    );
    for list in ["companies", "operators", "checklists", "items"] {
        assert_eq!(empty[list], json!([]), "{list}");
    }

    let bad = problem(
        app.get(
            "/compliance/metrics?start_date=2026-11-14&end_date=2026-11-08&operator_id=x",
            Some(&s.qa),
        )
        .await,
        422,
    )
    .await;
    assert!(bad["errors"]["operator_id"].is_string(), "{bad}");
    let inverted = problem(
        app.get(
            "/compliance/metrics?start_date=2026-11-14&end_date=2026-11-08",
            Some(&s.qa),
        )
        .await,
        422,
    )
    .await;
    assert!(inverted["errors"]["start_date"].is_string(), "{inverted}");
}

#[tokio::test]
async fn violations_are_filtered_paged_and_exported() {
    let s = seed().await;
    let app = &s.app;
    let (c2, c3, c4) = (&s.calls[1], &s.calls[2], &s.calls[3]);
    let qa = s.qa.as_str();
    let list = |query: String| async move {
        app.get_json(&format!("/compliance/violations?{query}"), qa)
            .await
    };
    let keys = |page: &Value| -> Vec<(String, String)> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["record_id"].as_str().unwrap().to_owned(),
                    v["item_id"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let pair = |id: &String, item: &str| (id.clone(), item.to_owned());

    // Newest call first: c4 (1.2), c3 (1.1), c2 (2.1).
    let all = list(PERIOD.to_owned()).await;
    assert_eq!(all["total"], 3);
    assert_eq!(
        keys(&all),
        [pair(c4, "1.2"), pair(c3, "1.1"), pair(c2, "2.1")]
    );
    let c3_row = &all["items"][1];
    assert_eq!(c3_row["call_at"], "2026-11-11T06:00:00.000Z");
    assert_eq!(c3_row["company_id"], s.acme["id"]);
    assert_eq!(c3_row["operator_code"], "102");
    assert_eq!(c3_row["operator_id"], s.op102.as_str());
    assert_eq!(c3_row["operator_name"], "Bobur");
    assert_eq!(c3_row["checklist_id"], s.checklist.as_str());
    assert_eq!(c3_row["checklist_name"], "Inbound");
    assert_eq!(c3_row["checklist_version"], 1);
    assert_eq!(c3_row["item_text"], "Greets the customer");
    assert_eq!(c3_row["critical"], true);
    assert_eq!(c3_row["evidence"], "Salom, yo'q");
    assert_eq!(c3_row["at_ms"], 1200);

    let paged = list(format!("{PERIOD}&limit=2&offset=1")).await;
    assert_eq!(
        (paged["total"].as_u64(), paged["limit"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(keys(&paged), [pair(c3, "1.1"), pair(c2, "2.1")]);
    let critical = list(format!("{PERIOD}&critical_only=true")).await;
    assert_eq!(keys(&critical), [pair(c3, "1.1")]);
    let of_101 = list(format!("{PERIOD}&operator_id={}", s.op101)).await;
    assert_eq!(keys(&of_101), [pair(c2, "2.1")]);
    let item = list(format!("{PERIOD}&item_id=1.2&checklist_id={}", s.checklist)).await;
    assert_eq!(keys(&item), [pair(c4, "1.2")]);
    // Both weeks: p1's failure too.
    let both = list("start_date=2026-11-01&end_date=2026-11-14".to_owned()).await;
    assert_eq!(both["total"], 4);
    assert_eq!(keys(&both)[3], pair(&s.calls[4], "1.1"));
    let none = list("start_date=2026-10-01&end_date=2026-10-07".to_owned()).await;
    assert_eq!(
        (none["total"].as_u64(), none["items"].clone()),
        (Some(0), json!([]))
    );

    let csv = app
        .get(
            &format!("/compliance/violations?{PERIOD}&format=csv&limit=1"),
            Some(&s.qa),
        )
        .await;
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let acme = s.acme["id"].as_str().unwrap();
    let (op101, op102, checklist) = (&s.op101, &s.op102, &s.checklist);
    // Every match (the page size does not apply), newest first; the comma quoted.
    let expected = format!(
        "record_id,call_at,company_id,operator_code,operator_id,operator_name,checklist_id,\
         checklist_name,checklist_version,item_id,item_text,critical,evidence,at_ms\n\
         {c4},2026-11-13T04:00:00.000Z,{acme},102,{op102},Bobur,{checklist},Inbound,1,1.2,\
         Offers a callback,false,Taklif qilmadi,3000\n\
         {c3},2026-11-11T06:00:00.000Z,{acme},102,{op102},Bobur,{checklist},Inbound,1,1.1,\
         Greets the customer,true,\"Salom, yo'q\",1200\n\
         {c2},2026-11-09T10:00:00.000Z,{acme},101,{op101},Aziza,{checklist},Inbound,1,2.1,\
         Says goodbye,false,Xayr demadi,5000\n"
    );
    assert_eq!(csv.text().await.unwrap(), expected);

    let bad = problem(
        app.get(
            "/compliance/violations?critical_only=maybe&limit=0&format=xml",
            Some(&s.qa),
        )
        .await,
        422,
    )
    .await;
    for field in ["critical_only", "limit", "format"] {
        assert!(bad["errors"][field].is_string(), "{field}: {bad}");
    }
}

#[tokio::test]
async fn tracking_fills_every_bucket_and_ranks_failed_items() {
    let s = seed().await;
    let app = &s.app;
    let acme = s.acme["id"].as_str().unwrap();
    let path = format!(
        "/compliance/tracking/{}?{PERIOD}&company_id={acme}",
        s.op101
    );
    let daily = app.get_json(&path, &s.qa).await;
    assert_eq!(daily["operator_id"], s.op101.as_str());
    assert_eq!(daily["operator_code"], "101");
    assert_eq!(daily["operator_name"], "Aziza");
    assert_eq!(daily["granularity"], "day");
    let series: Vec<Value> = daily["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            json!([
                b["start_date"],
                b["scored_calls"],
                b["compliant_calls"],
                b["compliance_rate_percent"],
                b["average_score"]
            ])
        })
        .collect();
    // Only 9 November has scored calls of 101: c1 (100, compliant) and c2 (62.5): 1/2 = 50%,
    // average 81.25. The unscored call of the 10th does not count.
    let empty = |day: &str| json!([day, 0, 0, null, null]);
    assert_eq!(
        series,
        [
            empty("2026-11-08"),
            json!(["2026-11-09", 2, 1, 50.0, 81.25]),
            empty("2026-11-10"),
            empty("2026-11-11"),
            empty("2026-11-12"),
            empty("2026-11-13"),
            empty("2026-11-14"),
        ]
    );
    // 101 failed only 2.1 (on c2), out of two calls where it applied.
    assert_eq!(
        daily["most_failed_items"],
        json!([{
            "checklist_id": s.checklist, "checklist_name": "Inbound", "item_id": "2.1",
            "item_text": "Says goodbye", "critical": false, "failures": 1,
            "applicable_verdicts": 2
        }])
    );

    // 8 November 2026 is a Sunday: its week starts on Monday the 2nd (before the period).
    let weekly = app
        .get_json(&format!("{path}&granularity=week"), &s.qa)
        .await;
    assert_eq!(weekly["granularity"], "week");
    let weeks: Vec<Value> = weekly["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| json!([b["start_date"], b["scored_calls"], b["average_score"]]))
        .collect();
    assert_eq!(
        weeks,
        [
            json!(["2026-11-02", 0, null]),
            json!(["2026-11-09", 2, 81.25])
        ]
    );
    // The week before: p1 (37.5, not compliant) on the 3rd; its failed item is 1.1.
    let before = app
        .get_json(
            &format!(
                "/compliance/tracking/{}?start_date=2026-11-01&end_date=2026-11-07&granularity=week",
                s.op101
            ),
            &s.qa,
        )
        .await;
    assert_eq!(before["buckets"][1]["compliance_rate_percent"], 0.0);
    assert_eq!(before["most_failed_items"][0]["item_id"], "1.1");
    assert_eq!(before["most_failed_items"][0]["critical"], true);

    let bad = problem(
        app.get(&format!("{path}&granularity=month"), Some(&s.qa))
            .await,
        422,
    )
    .await;
    assert!(bad["errors"]["granularity"].is_string(), "{bad}");
    problem(
        app.get(
            &format!("/compliance/tracking/{}", uuid_like()),
            Some(&s.qa),
        )
        .await,
        404,
    )
    .await;
}

fn uuid_like() -> &'static str {
    "0190a1b2-0000-7000-8000-000000000000"
}

#[tokio::test]
async fn reports_carry_the_metrics_figures_as_json_csv_and_pdf() {
    let s = seed().await;
    let app = &s.app;
    let body = |format: &str| json!({"start_date": "2026-11-08", "end_date": "2026-11-14", "format": format});
    let response = app
        .post("/compliance/reports", Some(&s.qa), &body("json"))
        .await;
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["title"], "Compliance report");
    assert_eq!(report["period"]["end_date"], "2026-11-14");
    // The metrics' overall figures; violations c2, c3, c4; critical c3's 1.1.
    let summary = &report["summary"];
    assert_eq!(
        figures(summary),
        json!([4, 2, 50.0, 73.13, 2, 1, 50.0, 68.75, 0.0, 4.38])
    );
    assert_eq!(
        (
            summary["violations"].as_u64(),
            summary["critical_violations"].as_u64()
        ),
        (Some(3), Some(1))
    );
    let operators = report["operators"].as_array().unwrap();
    assert_eq!(operators.len(), 2);
    assert_eq!(
        figures(&operators[0]),
        json!([2, 1, 50.0, 81.25, 1, 0, 0.0, 37.5, 50.0, 43.75])
    );
    // One failure each: in checklist order.
    let top: Vec<(Value, Value)> = report["top_violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["item_id"].clone(), v["failures"].clone()))
        .collect();
    assert_eq!(
        top,
        [
            (json!("1.1"), json!(1)),
            (json!("1.2"), json!(1)),
            (json!("2.1"), json!(1))
        ]
    );

    // One operator: 102's calls only (c3, c4).
    let narrowed: Value = app
        .post(
            "/compliance/reports",
            Some(&s.qa),
            &json!({"start_date": "2026-11-08", "end_date": "2026-11-14",
                    "operator_ids": [s.op102], "checklist_id": s.checklist}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(narrowed["summary"]["scored_calls"], 2);
    assert_eq!(narrowed["summary"]["violations"], 2);
    assert_eq!(narrowed["operators"].as_array().unwrap().len(), 1);

    let csv = app
        .post("/compliance/reports", Some(&s.qa), &body("csv"))
        .await;
    assert_eq!(csv.status(), 200);
    let acme = s.acme["id"].as_str().unwrap();
    let (op101, op102, checklist) = (&s.op101, &s.op102, &s.checklist);
    let figures_header = FIGURES.join(",");
    let expected = format!(
        "summary\n\
         start_date,end_date,timezone,{figures_header},violations,critical_violations\n\
         2026-11-08,2026-11-14,Asia/Tashkent,4,2,50.00,73.13,2,1,50.00,68.75,0.00,4.38,3,1\n\
         \n\
         operators\n\
         company_id,operator_code,operator_id,operator_name,{figures_header}\n\
         {acme},101,{op101},Aziza,2,1,50.00,81.25,1,0,0.00,37.50,50.00,43.75\n\
         {acme},102,{op102},Bobur,2,1,50.00,65.00,1,1,100.00,100.00,-50.00,-35.00\n\
         \n\
         top_violations\n\
         checklist_id,checklist_name,item_id,item_text,critical,failures,applicable_verdicts\n\
         {checklist},Inbound,1.1,Greets the customer,true,1,4\n\
         {checklist},Inbound,1.2,Offers a callback,false,1,2\n\
         {checklist},Inbound,2.1,Says goodbye,false,1,4\n"
    );
    assert_eq!(csv.text().await.unwrap(), expected);

    let pdf = app
        .post("/compliance/reports", Some(&s.qa), &body("pdf"))
        .await;
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let text = pdf_text(&pdf.bytes().await.unwrap());
    for line in [
        "Compliance report",
        "Period: 2026-11-08 to 2026-11-14 (Asia/Tashkent)",
        "Compared with: 2026-11-01 to 2026-11-07",
        "Scored calls 4",
        "Compliance rate 50.00%",
        "Average score 73.13",
        "Previous average score 68.75",
        "Compliance rate change 0.00 pp",
        "Average score change 4.38",
        "Violations 3",
        "Critical violations 1",
        "Aziza 101 2 1 50.00% 81.25 50.00 pp",
        "Bobur 102 2 1 50.00% 65.00 -50.00 pp",
        "Inbound 1.1 Greets the customer yes 1 4",
        "Inbound 2.1 Says goodbye no 1 4",
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }

    let bad = problem(
        app.post(
            "/compliance/reports",
            Some(&s.qa),
            &json!({"start_date": "11/08/2026", "format": "docx"}),
        )
        .await,
        422,
    )
    .await;
    for field in ["start_date", "format"] {
        assert!(bad["errors"][field].is_string(), "{field}: {bad}");
    }
}

#[tokio::test]
async fn nobody_sees_another_companys_compliance() {
    let s = seed().await;
    let app = &s.app;
    let globex = app.create_company("Globex").await;
    let (rival_id, rival) = app.member("rival", &globex).await;
    app.grant(&globex, &rival_id, json!({"can_view_records": true}))
        .await;
    let (_, colleague) = app.member("colleague", &s.acme).await;

    // Another company's administrator: nothing of Acme, 404 when naming it.
    let theirs = app
        .get_json(&format!("/compliance/metrics?{PERIOD}"), &rival)
        .await;
    assert_eq!(theirs["overall"]["scored_calls"], 0);
    assert_eq!(theirs["operators"], json!([]));
    let acme = s.acme["id"].as_str().unwrap();
    problem(
        app.get(
            &format!("/compliance/metrics?{PERIOD}&company_id={acme}"),
            Some(&rival),
        )
        .await,
        404,
    )
    .await;
    problem(
        app.get(
            &format!("/compliance/tracking/{}?{PERIOD}", s.op101),
            Some(&rival),
        )
        .await,
        404,
    )
    .await;
    problem(
        app.get(
            &format!("/compliance/violations?{PERIOD}&operator_id={}", s.op101),
            Some(&rival),
        )
        .await,
        404,
    )
    .await;
    let none = app
        .get_json(&format!("/compliance/violations?{PERIOD}"), &rival)
        .await;
    assert_eq!(none["total"], 0);
    problem(
        app.post(
            "/compliance/reports",
            Some(&rival),
            &json!({"operator_ids": [s.op101]}),
        )
        .await,
        404,
    )
    .await;

    // A plain member sees only their own calls: the agent uploaded every one, so none.
    let own = app
        .get_json(&format!("/compliance/metrics?{PERIOD}"), &colleague)
        .await;
    assert_eq!(own["overall"]["scored_calls"], 0);
    let tracked = app
        .get_json(
            &format!("/compliance/tracking/{}?{PERIOD}", s.op101),
            &colleague,
        )
        .await;
    assert_eq!(tracked["buckets"][1]["scored_calls"], 0);

    // The platform admin sees Acme's figures in Acme's tree.
    let admin = app.admin_token().await;
    let all = app
        .get_json(
            &format!("/compliance/metrics?{PERIOD}&company_id={acme}"),
            &admin,
        )
        .await;
    assert_eq!(all["overall"]["scored_calls"], 4);
    // Narrowed to another company, Acme's operator is not there.
    let globex_id = globex["id"].as_str().unwrap();
    problem(
        app.get(
            &format!(
                "/compliance/tracking/{}?{PERIOD}&company_id={globex_id}",
                s.op101
            ),
            Some(&admin),
        )
        .await,
        404,
    )
    .await;
}
