use std::time::Duration;

use dialix_infrastructure::ChatEndpoint;
use dialix_tests::audio::{files, wav};
use dialix_tests::fakes::{FakeProviders, Reply, use_fakes};
use dialix_tests::{TestApp, problem, rerun_migrations_from, spawn_app_with};
use futures_util::future::join_all;
use serde_json::{Value, json};

/// STT 63000*3/60 + general 21000*3/60 for a 2.5 s call (billed as 3 s).
const STT_PRICE: i64 = 3150;
const GENERAL_PRICE: i64 = 1050;

/// An app wired to fresh fakes, a company with `balance` and a member's token.
async fn setup(balance: i64) -> (TestApp, FakeProviders, Value, String) {
    let fakes = FakeProviders::start().await;
    let app = spawn_app_with(|config| use_fakes(config, &fakes)).await;
    let company = app.create_company("Calls LLC").await;
    if balance > 0 {
        app.fund(&company, balance).await;
    }
    let (_, token) = app.member("agent", &company).await;
    (app, fakes, company, token)
}

async fn upload_one(app: &TestApp, token: &str) -> Value {
    let response = app
        .multipart("/records", token, files(vec![("call.wav", wav(2500))]))
        .await;
    assert_eq!(response.status(), 201);
    response.json::<Vec<Value>>().await.unwrap().remove(0)
}

#[tokio::test]
async fn an_upload_is_transcribed_analysed_and_charged_once() {
    let (app, fakes, company, token) = setup(100_000).await;
    let record = upload_one(&app, &token).await;
    assert_eq!(record["status"], "queued");
    let id = record["id"].as_str().unwrap();

    let done = app.wait_for_status(&token, id, "done").await;
    let transcript = done["transcript"].as_array().unwrap();
    assert_eq!(transcript.len(), 3);
    assert_eq!(
        transcript[0]["role"], "operator",
        "inbound rule: the first speaker answers"
    );
    assert_eq!(transcript[1]["role"], "customer");
    assert_eq!(transcript[1]["start_ms"], 1000);
    assert_eq!(done["metrics"]["operator_answer_delay_ms"], 0);
    assert_eq!(done["metrics"]["customer_talk_ms"], 600);
    assert_eq!(done["analysis"]["sentiment_client"]["value"], "neutral");
    assert!(
        done["analysis"]["summary"]
            .as_str()
            .unwrap()
            .contains("tariffs")
    );

    let mut charged = app.charges(&company).await;
    charged.sort();
    assert_eq!(charged, [-STT_PRICE, -GENERAL_PRICE]);
    let balance = app.get_json("/balance", &token).await;
    assert_eq!(balance["balance"], 100_000 - STT_PRICE - GENERAL_PRICE);
    assert_eq!(balance["reserved"], 0);
    assert_eq!((fakes.transcription_calls(), fakes.chat_calls()), (1, 1));

    let admin = app.admin_token().await;
    let stats = app
        .get_json(
            &format!("/company/{}", company["id"].as_str().unwrap()),
            &admin,
        )
        .await["statistics"]
        .clone();
    assert_eq!(stats["records_processed"], 1);
    assert_eq!(stats["minutes_processed"], 0.04, "2.5 s");
    assert_eq!(stats["total_spent"], STT_PRICE + GENERAL_PRICE);
}

#[tokio::test]
async fn the_mohirai_adapter_submits_and_polls() {
    let (app, _fakes, _, token) = setup(100_000).await;
    let changed = app
        .patch(
            "/settings",
            Some(&token),
            &json!({"preferred_stt_model": "mohirai"}),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let record = upload_one(&app, &token).await;
    let done = app
        .wait_for_status(&token, record["id"].as_str().unwrap(), "done")
        .await;
    let turns: Vec<&str> = done["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["text"].as_str().unwrap())
        .collect();
    assert_eq!(turns, ["Allo", "salom"]);
    assert_eq!(
        done["transcript"][1]["start_ms"], 900,
        "numeric strings are seconds too"
    );
}

#[tokio::test]
async fn a_short_balance_refuses_the_upload_and_keeps_nothing() {
    let (app, fakes, _, token) = setup(STT_PRICE).await;
    let response = app
        .multipart("/records", &token, files(vec![("call.wav", wav(2500))]))
        .await;
    let body = problem(response, 402).await;
    assert_eq!(body["type"], "/problems/insufficient-balance");
    assert_eq!(app.stored_audio_files(), 0);
    assert_eq!(app.get_json("/records", &token).await["total"], 0);
    let balance = app.get_json("/balance", &token).await;
    assert_eq!(
        (balance["balance"].as_i64(), balance["reserved"].as_i64()),
        (Some(STT_PRICE), Some(0))
    );
    assert_eq!(fakes.transcription_calls(), 0);
}

#[tokio::test]
async fn racing_uploads_never_overdraw_the_balance() {
    let per_call = STT_PRICE + GENERAL_PRICE;
    let (app, _fakes, _, token) = setup(per_call * 2).await;
    let uploads = (0..5).map(|_| {
        let (app, token) = (&app, &token);
        async move {
            app.multipart("/records", token, files(vec![("call.wav", wav(2500))]))
                .await
                .status()
                .as_u16()
        }
    });
    let mut statuses = join_all(uploads).await;
    statuses.sort();
    assert_eq!(statuses, [201, 201, 402, 402, 402]);
    let balance = app.get_json("/balance", &token).await;
    assert!(balance["available"].as_i64().unwrap() >= 0, "{balance}");

    let records = app.get_json("/records", &token).await;
    for record in records["items"].as_array().unwrap() {
        app.wait_for_status(&token, record["id"].as_str().unwrap(), "done")
            .await;
    }
    let balance = app.get_json("/balance", &token).await;
    assert_eq!(
        (balance["balance"].as_i64(), balance["reserved"].as_i64()),
        (Some(0), Some(0))
    );
}

#[tokio::test]
async fn a_failing_step_releases_its_reservation() {
    let (app, fakes, company, token) = setup(100_000).await;
    fakes.script_chat((0..10).map(|_| Reply::Status(500, None)));
    let record = upload_one(&app, &token).await;
    let failed = app
        .wait_for_status(&token, record["id"].as_str().unwrap(), "failed")
        .await;
    assert!(
        failed["error"].as_str().unwrap().contains("500"),
        "{failed}"
    );
    assert!(failed["transcript"].is_array(), "the finished step is kept");
    assert_eq!(app.charges(&company).await, [-STT_PRICE]);
    let balance = app.get_json("/balance", &token).await;
    assert_eq!(balance["balance"], 100_000 - STT_PRICE);
    assert_eq!(balance["reserved"], 0);
    // Three job attempts of two HTTP tries each.
    assert_eq!(fakes.chat_calls(), 6);
}

#[tokio::test]
async fn a_retried_job_continues_and_never_charges_twice() {
    let (app, fakes, company, token) = setup(100_000).await;
    // Rate limited (honouring Retry-After), then a server error: the first attempt gives up,
    // the job is retried later and the transcription is not repeated.
    fakes.script_chat([Reply::Status(429, Some(1)), Reply::Status(503, None)]);
    let record = upload_one(&app, &token).await;
    app.wait_for_status(&token, record["id"].as_str().unwrap(), "done")
        .await;
    let mut charged = app.charges(&company).await;
    charged.sort();
    assert_eq!(charged, [-STT_PRICE, -GENERAL_PRICE]);
    assert_eq!(fakes.transcription_calls(), 1);
    assert_eq!(fakes.chat_calls(), 3);
}

#[tokio::test]
async fn an_off_schema_reply_is_retried_once_then_fails_without_a_half_result() {
    let (app, fakes, company, token) = setup(100_000).await;
    fakes.script_chat([Reply::OffSchema, Reply::OffSchema]);
    let record = upload_one(&app, &token).await;
    let failed = app
        .wait_for_status(&token, record["id"].as_str().unwrap(), "failed")
        .await;
    assert!(
        failed["error"].as_str().unwrap().contains("schema"),
        "{failed}"
    );
    assert_eq!(failed["analysis"], Value::Null);
    assert_eq!(fakes.chat_calls(), 2);
    assert_eq!(app.charges(&company).await, [-STT_PRICE]);
    assert_eq!(app.get_json("/balance", &token).await["reserved"], 0);
}

#[tokio::test]
async fn a_job_whose_worker_died_is_finished_once_by_another() {
    let fakes = FakeProviders::start().await;
    fakes.script_transcription([Reply::Slow(Duration::from_millis(1500))]);
    let first = spawn_app_with(|config| {
        use_fakes(config, &fakes);
        config.processing.policy.lease = Duration::from_secs(1);
    })
    .await;
    let company = first.create_company("Crashy").await;
    first.fund(&company, 100_000).await;
    let (_, token) = first.member("agent", &company).await;
    let record = upload_one(&first, &token).await;
    let id = record["id"].as_str().unwrap();
    first.wait_for_status(&token, id, "transcribing").await;
    while fakes.transcription_calls() == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill_workers();

    let second = first
        .sibling(|config| {
            use_fakes(config, &fakes);
            config.processing.policy.lease = Duration::from_secs(1);
        })
        .await;
    let token = second
        .tokens("agent@dialix.test", "user-password")
        .await
        .access;
    second.wait_for_status(&token, id, "done").await;
    let mut charged = second.charges(&company).await;
    charged.sort();
    assert_eq!(
        charged,
        [-STT_PRICE, -GENERAL_PRICE],
        "charged exactly once"
    );
    assert_eq!(
        fakes.transcription_calls(),
        2,
        "the dead worker's call was repeated"
    );
    assert_eq!(second.get_json("/balance", &token).await["reserved"], 0);
}

#[tokio::test]
async fn a_processed_call_can_be_searched_corrected_and_reprocessed() {
    let (app, fakes, company, token) = setup(100_000).await;
    let record = upload_one(&app, &token).await;
    let id = record["id"].as_str().unwrap();
    app.wait_for_status(&token, id, "done").await;

    assert_eq!(
        app.get_json("/records?sentiment=positive", &token).await["total"],
        1
    );
    assert_eq!(
        app.get_json("/records?sentiment=negative", &token).await["total"],
        0
    );
    assert_eq!(
        app.get_json("/records?transcript_contains=TARIFLAR", &token)
            .await["total"],
        1
    );
    assert_eq!(
        app.get_json("/records?transcript_contains=zzz", &token)
            .await["total"],
        0
    );
    problem(app.get("/records?sentiment=happy", Some(&token)).await, 422).await;

    let path = format!("/records/{id}");
    let corrected = app
        .patch(&path, Some(&token), &json!({"operator_speaker": "B"}))
        .await;
    assert_eq!(corrected.status(), 200);
    let corrected: Value = corrected.json().await.unwrap();
    assert_eq!(corrected["transcript"][0]["role"], "customer");
    assert_eq!(corrected["transcript"][1]["role"], "operator");
    assert_eq!(corrected["metrics"]["operator_talk_ms"], 600);
    let wrong = problem(
        app.patch(&path, Some(&token), &json!({"operator_speaker": "Z"}))
            .await,
        422,
    )
    .await;
    assert!(wrong["errors"]["operator_speaker"].is_string());

    let again = app
        .post(
            &format!("{path}/reprocess"),
            Some(&token),
            &json!({"general": false}),
        )
        .await;
    assert_eq!(again.status(), 202);
    let done = app.wait_for_status(&token, id, "done").await;
    assert_eq!(done["general"], false);
    assert_eq!(done["analysis"], Value::Null);
    let mut charged = app.charges(&company).await;
    charged.sort();
    assert_eq!(
        charged,
        [-STT_PRICE, -STT_PRICE, -GENERAL_PRICE],
        "a second round is charged"
    );
    assert_eq!(fakes.transcription_calls(), 2);
    assert_eq!(app.get_json("/balance", &token).await["reserved"], 0);
}

#[tokio::test]
async fn without_providers_uploads_stay_uploaded_and_reprocessing_names_the_missing_setting() {
    let app = dialix_tests::spawn_app().await;
    let company = app.create_company("Offline").await;
    let (_, token) = app.member("offline", &company).await;
    let record = upload_one(&app, &token).await;
    assert_eq!(record["status"], "uploaded");
    let path = format!("/records/{}", record["id"].as_str().unwrap());
    let body = problem(
        app.post(&format!("{path}/reprocess"), Some(&token), &json!({}))
            .await,
        503,
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap().contains("MOHIRAI_API_KEY"),
        "{body}"
    );
    problem(
        app.patch(&path, Some(&token), &json!({"operator_speaker": "0"}))
            .await,
        409,
    )
    .await;
}

#[tokio::test]
async fn an_operators_assigned_checklist_scores_their_calls() {
    let (app, fakes, company, token) = setup(100_000).await;
    let admin = app.admin_token().await;
    let checklist: Value = app
        .post(
            "/checklists",
            Some(&admin),
            &json!({
                "name": "Inbound",
                "company_id": company["id"],
                "segments": [{"title": "Greeting", "items": [
                    {"text": "Greets the customer", "weight": 70, "critical": true},
                    {"text": "Offers a callback", "weight": 30}
                ]}]
            }),
        )
        .await
        .json()
        .await
        .unwrap();
    let operator: Value = app
        .post(
            "/operators",
            Some(&admin),
            &json!({"code": "101", "name": "Dilnoza", "company_id": company["id"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let assigned = app
        .client
        .put(app.url(&format!(
            "/operators/{}/checklists",
            operator["id"].as_str().unwrap()
        )))
        .bearer_auth(&admin)
        .json(&json!({"checklist_id": checklist["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(assigned.status(), 200);

    let response = app
        .multipart(
            "/records",
            &token,
            files(vec![("24.03.15-09:41:07_101_901234567.wav", wav(2500))]),
        )
        .await;
    assert_eq!(response.status(), 201);
    let record = response.json::<Vec<Value>>().await.unwrap().remove(0);
    assert_eq!(
        record["checklist_id"], checklist["id"],
        "the operator's checklist applies"
    );
    assert_eq!(record["checklist_version"], 1);
    let done = app
        .wait_for_status(&token, record["id"].as_str().unwrap(), "done")
        .await;
    let result = &done["checklist_result"];
    assert_eq!(result["version"], 1);
    assert_eq!(
        result["score"], 100.0,
        "the not-applicable item does not count"
    );
    assert_eq!(result["compliant"], true);
    assert_eq!(result["items"][1]["passed"], Value::Null);

    // A new version does not change what was scored.
    app.patch(
        &format!("/checklists/{}", checklist["id"].as_str().unwrap()),
        Some(&admin),
        &json!({"name": "Inbound v2"}),
    )
    .await;
    let again = app
        .get_json(
            &format!("/records/{}", record["id"].as_str().unwrap()),
            &token,
        )
        .await;
    assert_eq!(again["checklist_result"]["version"], 1);
    assert_eq!(
        app.get_json(
            &format!(
                "/records?checklist_id={}",
                checklist["id"].as_str().unwrap()
            ),
            &token
        )
        .await["total"],
        1
    );

    let mut charged = app.charges(&company).await;
    charged.sort();
    // Checklist: 36000 * 3 / 60 = 1800.
    assert_eq!(charged, [-STT_PRICE, -1800, -GENERAL_PRICE]);
    assert_eq!(fakes.chat_calls(), 2);
    assert_eq!(app.get_json("/balance", &token).await["reserved"], 0);
}

#[tokio::test]
async fn azure_openai_deployments_are_spoken_to_in_their_own_dialect() {
    let fakes = FakeProviders::start().await;
    let app = spawn_app_with(|config| {
        use_fakes(config, &fakes);
        config.providers.chat = Some(ChatEndpoint::Azure {
            endpoint: fakes.base_url.clone(),
            api_key: "azure-key".into(),
            deployment: "gpt4o".into(),
            api_version: "2024-08-01-preview".into(),
        });
    })
    .await;
    let company = app.create_company("Azure Co").await;
    let admin = app.admin_token().await;
    app.post(
        &format!("/company/{}/topup", company["id"].as_str().unwrap()),
        Some(&admin),
        &json!({"amount": 100_000, "idempotency_key": "seed"}),
    )
    .await;
    let (_, token) = app.member("agent", &company).await;
    let record = upload_one(&app, &token).await;
    let done = app
        .wait_for_status(&token, record["id"].as_str().unwrap(), "done")
        .await;
    assert_eq!(done["analysis"]["is_conversation_over"], true);
    assert_eq!(fakes.chat_calls(), 1);
}

#[tokio::test]
async fn status_changes_stream_as_server_sent_events() {
    let (app, fakes, _, token) = setup(100_000).await;
    // A slow transcription, so the stream sees the step (on SQLite it looks twice a second).
    fakes.script_transcription([Reply::Slow(Duration::from_millis(1500))]);
    let (_, stranger) = {
        let other = app.create_company("Elsewhere").await;
        app.member("stranger", &other).await
    };
    let mut stream = app
        .client
        .get(app.url("/records/events"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    let mut foreign = app
        .client
        .get(app.url("/records/events"))
        .bearer_auth(&stranger)
        .send()
        .await
        .unwrap();

    let record = upload_one(&app, &token).await;
    let id = record["id"].as_str().unwrap().to_owned();
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !seen.contains("\"status\":\"done\"") {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .expect("events arrive in time")
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("event: record"));
    assert!(seen.contains(&id));
    assert!(seen.contains("\"status\":\"transcribing\""), "{seen}");
    let nothing = tokio::time::timeout(Duration::from_millis(1500), foreign.chunk()).await;
    assert!(nothing.is_err(), "another tenant hears nothing of it");
}

#[tokio::test]
async fn concurrent_reprocesses_accept_one_and_reserve_once() {
    const ROUNDS: i64 = 3;
    let per_call = STT_PRICE + GENERAL_PRICE;
    let (app, fakes, _, token) = setup(100_000).await;
    let record = upload_one(&app, &token).await;
    let id = record["id"].as_str().unwrap();
    app.wait_for_status(&token, id, "done").await;
    // Nothing picks a job up until every request of a round has answered.
    app.kill_workers();

    let path = format!("/records/{id}/reprocess");
    let body = json!({});
    for round in 0..ROUNDS {
        let attempts =
            (0..16).map(|_| async { app.post(&path, Some(&token), &body).await.status().as_u16() });
        let statuses = join_all(attempts).await;
        let accepted = statuses.iter().filter(|s| **s == 202).count();
        assert_eq!(accepted, 1, "round {round}: {statuses:?}");
        assert!(
            statuses.iter().all(|s| [202, 409].contains(s)),
            "{statuses:?}"
        );
        let balance = app.get_json("/balance", &token).await;
        assert_eq!(balance["reserved"], per_call, "reserved once: {balance}");

        let worker = app.sibling(|config| use_fakes(config, &fakes)).await;
        worker.wait_for_status(&token, id, "done").await;
        worker.kill_workers();
    }
    let balance = app.get_json("/balance", &token).await;
    assert_eq!(
        (balance["balance"].as_i64(), balance["reserved"].as_i64()),
        (Some(100_000 - (ROUNDS + 1) * per_call), Some(0))
    );
}

#[tokio::test]
async fn a_top_up_key_shaped_like_a_charge_key_neither_frees_a_step_nor_leaks() {
    let fakes = FakeProviders::start().await;
    let app = spawn_app_with(|config| {
        use_fakes(config, &fakes);
        config.processing.workers = 0;
    })
    .await;
    let company = app.create_company("Keys LLC").await;
    let topup = format!("/company/{}/topup", company["id"].as_str().unwrap());
    let admin = app.admin_token().await;
    let seeded = app
        .post(
            &topup,
            Some(&admin),
            &json!({"amount": 100_000, "idempotency_key": "seed"}),
        )
        .await;
    assert_eq!(seeded.status(), 201);
    let (_, token) = app.member("agent", &company).await;
    let record = upload_one(&app, &token).await;
    let id = record["id"].as_str().unwrap();
    let charge_key = json!({"amount": 1, "idempotency_key": format!("record:{id}:1:stt")});
    let sneaky = app.post(&topup, Some(&admin), &charge_key).await;
    assert_eq!(sneaky.status(), 201);
    let replayed = app.post(&topup, Some(&admin), &charge_key).await;
    assert_eq!(replayed.status(), 200, "the same key replays the top-up");

    let worker = app.sibling(|config| use_fakes(config, &fakes)).await;
    worker.wait_for_status(&token, id, "done").await;
    let mut charged = worker.charges(&company).await;
    charged.sort();
    assert_eq!(
        charged,
        [-STT_PRICE, -GENERAL_PRICE],
        "every step is charged"
    );
    let balance = worker.get_json("/balance", &token).await;
    assert_eq!(
        (balance["balance"].as_i64(), balance["reserved"].as_i64()),
        (Some(100_001 - STT_PRICE - GENERAL_PRICE), Some(0))
    );
}

#[tokio::test]
async fn deleting_a_record_mid_processing_releases_its_reservation_and_charges_nothing() {
    let (app, fakes, company, token) = setup(100_000).await;
    fakes.script_transcription([Reply::Slow(Duration::from_millis(1500))]);
    let record = upload_one(&app, &token).await;
    let id = record["id"].as_str().unwrap();
    app.wait_for_status(&token, id, "transcribing").await;
    assert_eq!(
        app.delete(&format!("/records/{id}"), Some(&token))
            .await
            .status(),
        204
    );
    assert_eq!(app.get_json("/balance", &token).await["reserved"], 0);
    // Let the slow transcription come back and the job run to its end.
    while fakes.transcription_calls() == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(app.charges(&company).await, Vec::<i64>::new());
    let balance = app.get_json("/balance", &token).await;
    assert_eq!(
        (balance["balance"].as_i64(), balance["reserved"].as_i64()),
        (Some(100_000), Some(0))
    );
}

/// Processing writes one verdict row per item with the call's score and compliance (the pass
/// mark counts), and migration 19 copies results scored before it existed into the same rows.
#[tokio::test]
async fn verdict_rows_are_written_by_processing_and_by_the_migration_alike() {
    let (mut app, fakes, company, token) = setup(100_000).await;
    let admin = app.admin_token().await;
    let checklist: Value = app
        .post(
            "/checklists",
            Some(&admin),
            &json!({
                "name": "Inbound",
                "company_id": company["id"],
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
    assert_eq!(checklist["pass_mark"], 80);
    fakes.script_chat([
        Reply::Ok,
        Reply::Checklist(vec![("1.3", Some(false), "Xayr.", 2100)]),
    ]);
    let form = files(vec![("call.wav", wav(2500))])
        .text("checklist_id", checklist["id"].as_str().unwrap().to_owned());
    let response = app.multipart("/records", &token, form).await;
    assert_eq!(response.status(), 201);
    let id = response.json::<Vec<Value>>().await.unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = app.wait_for_status(&token, &id, "done").await;
    // 1.1 passed (60), 1.2 does not apply, 1.3 failed (30): 60 / 90 = 66.67, below the pass
    // mark of 80 although no critical item failed.
    assert_eq!(done["checklist_result"]["score"], 66.67);
    assert_eq!(done["checklist_result"]["pass_mark"], 80);
    assert_eq!(done["checklist_result"]["compliant"], false);
    assert_eq!(done["checklist_result"]["items"][0]["critical"], true);

    // The database holds this one call (ids are blobs on SQLite, so no `WHERE id = …`).
    let rows_sql = "SELECT item_id || ':' || COALESCE(CAST(passed AS TEXT), 'n/a') || ':' \
         || CAST(critical AS TEXT) || ':' || evidence || ':' || COALESCE(CAST(at_ms AS TEXT), '') \
         FROM checklist_verdict ORDER BY item_id";
    let record_sql = "SELECT CAST(checklist_score AS TEXT) || ':' \
         || CAST(checklist_compliant AS TEXT) FROM record";
    let written = app.query_strings(rows_sql).await;
    assert_eq!(written.len(), 3, "{written:?}");
    assert!(written[2].starts_with("1.3:"), "{written:?}");
    assert!(written[2].ends_with(":Xayr.:2100"), "{written:?}");
    let scored = app.query_strings(record_sql).await;

    app.shut_down().await;
    // Back to before migration 19, then forward again: the copy comes from the payload.
    rerun_migrations_from(&app.database_url, "m20261207_000019_reporting").await;
    assert_eq!(app.query_strings(rows_sql).await, written);
    assert_eq!(app.query_strings(record_sql).await, scored);
}
