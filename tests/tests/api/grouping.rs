//! Repeat-call chains, first-contact figures, the expanded number view and similar calls,
//! checked against hand-computed values.

use dialix_tests::audio::{files, wav};
use dialix_tests::fakes::{FakeProviders, Reply, analysis, use_fakes};
use dialix_tests::{TestApp, problem, spawn_app, spawn_app_with};
use serde_json::{Value, json};

/// Uploads calls named the OnlinePBX way (`YY.MM.DD-HH:MM:SS_<client>_<operator>.wav`, Tashkent
/// time), so each call's time, number and operator are known; returns their ids in order.
async fn upload_calls(app: &TestApp, token: &str, names: &[&str]) -> Vec<String> {
    let form = files(names.iter().map(|n| (*n, wav(1000))).collect());
    let response = app.multipart("/records", token, form).await;
    assert_eq!(response.status(), 201, "upload should succeed");
    let records: Vec<Value> = response.json().await.unwrap();
    records
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

fn ids(values: &Value) -> Vec<&str> {
    values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn chains_follow_the_window_and_figures_match_hand_counts() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let globex = app.create_company("Globex").await;
    let (_, token) = app.member("uploader", &acme).await;
    let (_, rival) = app.member("rival", &globex).await;
    // Number A: a transfer after 10 min, a repeat after 5 h 50 min, another exactly 24 h
    // later (still in the window), then one a month later (a chain of its own).
    let a = upload_calls(
        &app,
        &token,
        &[
            "26.01.10-09:00:00_901111111_101.wav",
            "26.01.10-09:10:00_901111111_101.wav",
            "26.01.10-15:00:00_901111111_101.wav",
            "26.01.11-15:00:00_901111111_101.wav",
            "26.02.15-10:00:00_901111111_101.wav",
        ],
    )
    .await;
    // Number B: 24 h and one second apart, so two chains of one call.
    upload_calls(
        &app,
        &token,
        &[
            "26.01.12-10:00:00_902222222_103.wav",
            "26.01.13-10:00:01_902222222_103.wav",
        ],
    )
    .await;
    // Number C: a transfer only, so one contact.
    upload_calls(
        &app,
        &token,
        &[
            "26.01.20-12:00:00_903333333_102.wav",
            "26.01.20-12:05:00_903333333_102.wav",
        ],
    )
    .await;
    let no_number = app
        .multipart("/records", &token, files(vec![("plain.wav", wav(1000))]))
        .await;
    assert_eq!(no_number.status(), 201);
    // Another company's call of number A, between A's first calls.
    upload_calls(&app, &rival, &["26.01.10-09:05:00_901111111_901.wav"]).await;

    let report = app.get_json("/calls/grouped", &token).await;
    let summary = &report["summary"];
    assert_eq!(summary["calls"], 9, "{summary}");
    assert_eq!(summary["calls_without_number"], 1);
    assert_eq!(summary["chains"], 5);
    assert_eq!(summary["repeat_calls"], 2);
    assert_eq!(summary["transfer_calls"], 2);
    assert_eq!(summary["repeat_call_rate_percent"], 22.22, "2 of 9");
    assert_eq!(summary["closed_chains"], 5);
    assert_eq!(summary["open_chains"], 0);
    assert_eq!(
        summary["first_contact_resolved_chains"], 4,
        "A's second, B's two, C"
    );
    assert_eq!(summary["first_contact_resolution_percent"], 80.0);
    assert_eq!(
        summary["average_repeat_gap_minutes"], 895.0,
        "(350 + 1440) / 2"
    );

    assert_eq!(report["total"], 2, "chains of at least two calls");
    let first = &report["items"][0];
    assert_eq!(first["client_phone_number"], "+998901111111");
    assert_eq!(first["company_id"], acme["id"]);
    assert_eq!(first["chain_started_at"], "2026-01-10T04:00:00.000Z");
    assert_eq!(first["chain_ended_at"], "2026-01-11T10:00:00.000Z");
    assert_eq!(first["call_count"], 4, "the rival's call stays out");
    assert_eq!(first["repeat_count"], 2);
    assert_eq!(first["transfer_count"], 1);
    assert_eq!(first["total_duration_ms"], 4000);
    assert_eq!(first["average_duration_ms"], 1000);
    assert_eq!(
        first["sentiment"],
        json!({"positive": 0, "neutral": 0, "negative": 0, "unknown": 4})
    );
    assert_eq!(first["operators"], json!(["101"]));
    assert_eq!(first["last_call_resolved"], Value::Null);
    assert_eq!(first["window_open"], false);
    assert_eq!(
        ids(&first["record_ids"]),
        vec![&a[3], &a[2], &a[1], &a[0]],
        "newest first"
    );
    assert_eq!(report["items"][1]["client_phone_number"], "+998903333333");

    // A wider window joins the call a month later; a window of one hour splits A in three.
    let wide = app
        .get_json("/calls/grouped?time_window_hours=1000", &token)
        .await;
    assert_eq!(wide["items"][0]["call_count"], 5);
    assert_eq!(wide["summary"]["repeat_calls"], 4);
    let narrow = app
        .get_json("/calls/grouped?time_window_hours=1&min_calls=1", &token)
        .await;
    assert_eq!(narrow["summary"]["chains"], 7);
    assert_eq!(narrow["summary"]["repeat_calls"], 0);

    // The period ends 2 h after A's fourth call: its chain may still grow, so it is open
    // and left out of first-contact resolution.
    let recent = app
        .get_json(
            "/calls/grouped?start_date=2026-01-10T00:00:00Z&end_date=2026-01-11T12:00:00Z",
            &token,
        )
        .await;
    assert_eq!(recent["summary"]["calls"], 4);
    assert_eq!(recent["summary"]["open_chains"], 1);
    assert_eq!(recent["summary"]["closed_chains"], 0);
    assert_eq!(
        recent["summary"]["first_contact_resolution_percent"],
        Value::Null
    );
    assert_eq!(recent["items"][0]["window_open"], true);

    // Sorting and paging over all five chains.
    let page = app
        .get_json(
            "/calls/grouped?min_calls=1&sort=last_call&limit=2&offset=2",
            &token,
        )
        .await;
    assert_eq!(page["total"], 5);
    let ends: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["chain_ended_at"].as_str().unwrap())
        .collect();
    assert_eq!(
        ends,
        ["2026-01-13T05:00:01.000Z", "2026-01-20T07:05:00.000Z"]
    );
    let past_end = app.get_json("/calls/grouped?offset=10", &token).await;
    assert_eq!(past_end["total"], 2);
    assert_eq!(past_end["items"], json!([]));
    assert_eq!(
        past_end["summary"]["chains"], 5,
        "figures past the last page"
    );

    // Chains the operator took part in.
    let by_operator = app
        .get_json("/calls/grouped?operator_code=102", &token)
        .await;
    assert_eq!(by_operator["total"], 1);
    assert_eq!(by_operator["summary"]["calls"], 2);

    // The platform admin sees both companies, never one chain across them; the rival only
    // their own call.
    let admin = app.admin_token().await;
    let everything = app.get_json("/calls/grouped?min_calls=1", &admin).await;
    assert_eq!(everything["summary"]["calls"], 10);
    assert_eq!(everything["summary"]["chains"], 6);
    let acme_only = app
        .get_json(
            &format!(
                "/calls/grouped?min_calls=1&company_id={}",
                acme["id"].as_str().unwrap()
            ),
            &admin,
        )
        .await;
    assert_eq!(acme_only["summary"]["calls"], 9);
    let theirs = app.get_json("/calls/grouped?min_calls=1", &rival).await;
    assert_eq!(theirs["summary"]["calls"], 1);
    assert_eq!(theirs["items"][0]["call_count"], 1);
    let foreign = app
        .get_json(
            &format!(
                "/calls/grouped?min_calls=1&company_id={}",
                acme["id"].as_str().unwrap()
            ),
            &rival,
        )
        .await;
    assert_eq!(
        foreign["summary"]["calls"], 0,
        "another tenant's calls stay out"
    );
    // A records viewer of Acme with no uploads of their own sees Acme's calls.
    let (viewer_id, viewer) = app.member("viewer", &acme).await;
    app.grant(&acme, &viewer_id, json!({"can_view_records": true}))
        .await;
    let acme_view = app.get_json("/calls/grouped", &viewer).await;
    assert_eq!(acme_view["summary"], report["summary"]);
    assert_eq!(acme_view["items"], report["items"]);
    // Moved to Acme and made its records viewer, the rival sees Acme's calls beside their own
    // earlier upload, which stays Globex's.
    let rival_id = app.get_json("/auth/me", &rival).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let moved = app
        .post(
            &format!("/company/{}/transfer-user", acme["id"].as_str().unwrap()),
            Some(&admin),
            &json!({"user_id": rival_id, "from_company_id": globex["id"]}),
        )
        .await;
    assert_eq!(moved.status(), 200);
    app.grant(&acme, &rival_id, json!({"can_view_records": true}))
        .await;
    let both = app.get_json("/calls/grouped?min_calls=1", &rival).await;
    assert_eq!(both["summary"]["calls"], 10);
    assert_eq!(both["summary"]["chains"], 6);
    assert_eq!(both["summary"]["calls_without_number"], 1);
    // The records listing reads the same scopes: Acme's ten calls, plus the rival's own.
    assert_eq!(app.get_json("/records", &viewer).await["total"], 10);
    assert_eq!(app.get_json("/records", &rival).await["total"], 11);

    for bad in [
        "time_window_hours=0",
        "time_window_hours=8761",
        "time_window_hours=1&transfer_gap_minutes=61",
        "min_calls=0",
        "sort=size",
        "company_id=acme",
        "start_date=2026-02-01T00:00:00Z&end_date=2026-01-01T00:00:00Z",
        "limit=201",
        "colour=red",
    ] {
        problem(
            app.get(&format!("/calls/grouped?{bad}"), Some(&token))
                .await,
            422,
        )
        .await;
    }
}

#[tokio::test]
async fn one_number_in_any_format_is_one_chain_still_open() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let (_, token) = app.member("uploader", &acme).await;
    for phone in ["901234567", "+998 90 123 45 67", "998901234567"] {
        let form = files(vec![("call.wav", wav(1000))]).text("client_phone_number", phone);
        assert_eq!(app.multipart("/records", &token, form).await.status(), 201);
    }
    let report = app.get_json("/calls/grouped", &token).await;
    assert_eq!(report["total"], 1);
    let chain = &report["items"][0];
    assert_eq!(chain["client_phone_number"], "+998901234567");
    assert_eq!(chain["call_count"], 3);
    assert_eq!(chain["transfer_count"], 2, "minutes apart");
    assert_eq!(chain["window_open"], true, "the window has not closed yet");
    assert_eq!(report["summary"]["open_chains"], 1);
    assert_eq!(
        report["summary"]["first_contact_resolution_percent"],
        Value::Null
    );
}

/// An analysis with these facts (the rest as the fake's default).
fn analysed(sentiment: &str, satisfied: bool, key_words: &[&str]) -> Reply {
    let mut general = analysis();
    general["sentiment_conversation"]["value"] = json!(sentiment);
    general["is_customer_satisfied"] = json!(satisfied);
    general["key_words"] = json!(key_words);
    general["summary"] = json!(format!("A {sentiment} call."));
    Reply::Analysis(general)
}

/// Uploads one call and waits for its processing, so scripted analyses apply in order.
async fn processed(app: &TestApp, token: &str, name: &str, general: bool) -> String {
    let form = files(vec![(name, wav(2500))]).text("general", general.to_string());
    let response = app.multipart("/records", token, form).await;
    assert_eq!(response.status(), 201);
    let record: Vec<Value> = response.json().await.unwrap();
    let id = record[0]["id"].as_str().unwrap().to_owned();
    app.wait_for_status(token, &id, "done").await;
    id
}

#[tokio::test]
async fn sentiments_resolution_expanded_number_and_similar_calls() {
    let fakes = FakeProviders::start().await;
    let app = spawn_app_with(|config| use_fakes(config, &fakes)).await;
    let acme = app.create_company("Acme").await;
    let globex = app.create_company("Globex").await;
    for company in [&acme, &globex] {
        app.fund(company, 1_000_000).await;
    }
    let (_, token) = app.member("agent", &acme).await;
    let (_, rival) = app.member("rival", &globex).await;
    let (_, colleague) = app.member("colleague", &acme).await;
    fakes.script_chat([
        analysed("negative", false, &["tarif", "narx"]),
        analysed("neutral", false, &["tarif", "internet"]),
        analysed("positive", true, &["Tarif", "narx", "internet"]),
        analysed("positive", true, &["narx", "internet", "tezlik"]),
        analysed("negative", false, &["kredit"]),
        analysed("positive", true, &["tarif", "narx", "internet"]),
    ]);
    let d1 = processed(&app, &token, "26.03.01-10:00:00_904444444_201.wav", true).await;
    let d2 = processed(&app, &token, "26.03.01-10:30:00_904444444_202.wav", true).await;
    let d3 = processed(&app, &token, "26.03.01-12:30:00_904444444_201.wav", true).await;
    let d4 = processed(&app, &token, "26.03.03-09:00:00_904444444_201.wav", false).await;
    let e1 = processed(&app, &token, "26.03.02-09:00:00_905555555_203.wav", true).await;
    processed(&app, &token, "26.03.02-10:00:00_906666666_203.wav", true).await;
    processed(&app, &rival, "26.03.01-11:00:00_904444444_901.wav", true).await;

    let report = app.get_json("/calls/grouped", &token).await;
    assert_eq!(report["total"], 1);
    let chain = &report["items"][0];
    assert_eq!(chain["call_count"], 3);
    assert_eq!(
        chain["sentiment"],
        json!({"positive": 1, "neutral": 1, "negative": 1, "unknown": 0})
    );
    assert_eq!(chain["last_call_resolved"], true);
    assert_eq!(chain["operators"], json!(["201", "202"]));
    let singles = app
        .get_json("/calls/grouped?min_calls=1&sort=-last_call", &token)
        .await;
    let unanalysed = &singles["items"][0];
    assert_eq!(unanalysed["record_ids"], json!([d4]));
    assert_eq!(unanalysed["last_call_resolved"], Value::Null);
    assert_eq!(unanalysed["sentiment"]["unknown"], 1);
    let negative_first = app
        .get_json("/calls/grouped?min_calls=1&sort=-negative_share", &token)
        .await;
    assert_eq!(
        negative_first["items"][0]["client_phone_number"],
        "+998906666666"
    );

    // The expanded number, however it is written; never another tenant's calls.
    for phone in ["904444444", "998904444444", "%2B998%2090%20444%2044%2044"] {
        let calls = app
            .get_json(&format!("/calls/grouped/{phone}"), &token)
            .await;
        assert_eq!(calls["total"], 4, "{phone}");
        let order: Vec<&str> = calls["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["record_id"].as_str().unwrap())
            .collect();
        assert_eq!(order, [&d1, &d2, &d3, &d4], "oldest first");
        assert_eq!(calls["items"][0]["summary"], "A negative call.");
        assert_eq!(calls["items"][0]["sentiment"], "negative");
        assert_eq!(calls["items"][0]["operator_code"], "201");
        assert_eq!(calls["items"][3]["sentiment"], Value::Null);
    }
    assert_eq!(
        app.get_json("/calls/grouped/904444444", &colleague).await["total"],
        0,
        "a colleague without can_view_records sees none"
    );
    assert_eq!(
        app.get_json("/calls/grouped/904444444", &rival).await["total"],
        1
    );
    problem(
        app.get("/calls/grouped/not-a-number", Some(&token)).await,
        422,
    )
    .await;

    // Similar to d3: its number's other calls newest first, then the same purpose by
    // key-word overlap: e1 shares {narx, internet} of {tarif, narx, internet, tezlik}.
    let similar = app.get_json(&format!("/calls/similar/{d3}"), &token).await;
    let listed: Vec<&str> = similar
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["record_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [&d4, &d2, &d1, &e1], "{similar}");
    assert_eq!(similar[0]["reason"], "same_number");
    assert_eq!(similar[0]["score"], 0.0, "no analysis, no key words");
    assert!((similar[1]["score"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(similar[3]["reason"], "same_purpose_and_key_words");
    assert_eq!(similar[3]["score"], 0.5);
    assert_eq!(similar[3]["shared_key_words"], json!(["internet", "narx"]));
    let two = app
        .get_json(&format!("/calls/similar/{d3}?limit=2"), &token)
        .await;
    assert_eq!(two.as_array().unwrap().len(), 2);
    problem(
        app.get(&format!("/calls/similar/{d3}"), Some(&rival)).await,
        404,
    )
    .await;
    problem(
        app.get(&format!("/calls/similar/{d3}?limit=51"), Some(&token))
            .await,
        422,
    )
    .await;
}
