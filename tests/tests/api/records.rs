use dialix_tests::audio::{files, mp3, opus, wav};
use dialix_tests::{TestApp, problem, spawn_app, spawn_app_with};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

async fn upload(app: &TestApp, token: &str, form: Form) -> Vec<Value> {
    let response = app.multipart("/records", token, form).await;
    assert_eq!(response.status(), 201, "upload should succeed");
    response.json().await.unwrap()
}

#[tokio::test]
async fn uploads_are_measured_by_decoding_and_normalised() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let (owner_id, token) = app.member("uploader", &acme).await;

    let form = files(vec![
        ("first.wav", wav(2500)),
        ("second.mp3", mp3()),
        ("third.opus", opus()),
    ])
    .text("client_phone_number", "90 123 45 67")
    .text("call_type", "inbound");
    let records = upload(&app, &token, form).await;
    assert_eq!(records.len(), 3);
    assert_eq!(records[2]["duration_ms"], 3000);
    assert_eq!(records[2]["content_type"], "audio/ogg");
    let (first, second) = (&records[0], &records[1]);
    assert_eq!(first["duration_ms"], 2500);
    assert_eq!(first["content_type"], "audio/wav");
    let mp3_ms = second["duration_ms"].as_u64().unwrap();
    assert!((2900..=3100).contains(&mp3_ms), "mp3 measured {mp3_ms} ms");
    assert_eq!(second["content_type"], "audio/mpeg");
    for record in &records {
        assert_eq!(record["client_phone_number"], "+998901234567");
        assert_eq!(record["call_type"], "inbound");
        assert_eq!(record["status"], "uploaded");
        assert_eq!(record["general"], true);
        assert_eq!(record["owner_id"].as_str(), Some(owner_id.as_str()));
        assert_eq!(record["company_id"], acme["id"]);
    }
    assert_eq!(app.stored_audio_files(), 3);

    let pbx =
        files(vec![("24.03.15-09:41:07_101_901234567.wav", wav(1000))]).text("general", "false");
    let from_name = &upload(&app, &token, pbx).await[0];
    assert_eq!(from_name["operator_code"], "101");
    assert_eq!(from_name["client_phone_number"], "+998901234567");
    assert_eq!(from_name["call_type"], "outbound");
    assert_eq!(
        from_name["call_started_at"], "2024-03-15T04:41:07.000Z",
        "Tashkent time"
    );
    assert_eq!(from_name["general"], false);
}

#[tokio::test]
async fn a_bad_file_fails_the_whole_upload_and_nothing_is_kept() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let (_, token) = app.member("uploader", &acme).await;

    let form = files(vec![
        ("good.wav", wav(1000)),
        ("broken.mp3", b"ID3 not really".to_vec()),
    ]);
    let body = problem(app.multipart("/records", &token, form).await, 422).await;
    assert!(
        body["errors"]["files[1]"]
            .as_str()
            .unwrap()
            .contains("broken.mp3"),
        "{body}"
    );
    assert_eq!(app.stored_audio_files(), 0);
    assert_eq!(app.get_json("/records", &token).await["total"], 0);

    let cases: Vec<(Form, &str)> = vec![
        (files(vec![("empty.wav", Vec::new())]), "files[0]"),
        (Form::new().text("call_type", "inbound"), "files"),
        (
            files(vec![("a.wav", wav(500))]).text("call_type", "sideways"),
            "call_type[0]",
        ),
        (
            files(vec![("a.wav", wav(500))]).text("client_phone_number", "call me"),
            "client_phone_number[0]",
        ),
        (
            files(vec![("a.wav", wav(500))]).text("checklist_id", "x"),
            "checklist_id[0]",
        ),
        (
            files(vec![("a.wav", wav(500))]).text("colour", "red"),
            "colour",
        ),
        (
            files(vec![
                ("a.wav", wav(500)),
                ("b.wav", wav(500)),
                ("c.wav", wav(500)),
            ])
            .text("operator_code", "1")
            .text("operator_code", "2"),
            "operator_code",
        ),
    ];
    for (form, field) in cases {
        let body = problem(app.multipart("/records", &token, form).await, 422).await;
        assert!(body["errors"][field].is_string(), "{field}: {body}");
    }
    assert_eq!(app.stored_audio_files(), 0);

    let not_multipart = app
        .post("/records", Some(&token), &json!({"file": "x"}))
        .await;
    problem(not_multipart, 415).await;
    let big = files(vec![("big.wav", wav(140_000))]);
    problem(app.multipart("/records", &token, big).await, 413).await;
    let admin = app.admin_token().await;
    let body = problem(
        app.multipart("/records", &admin, files(vec![("a.wav", wav(500))]))
            .await,
        403,
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("company"));
}

#[tokio::test]
async fn records_are_visible_to_their_owner_and_the_companys_record_viewers_only() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let other = app.create_company("Other").await;
    let (_, owner) = app.member("owner", &acme).await;
    let (_, colleague) = app.member("colleague", &acme).await;
    let (viewer_id, viewer) = app.member("viewer", &acme).await;
    app.grant(&acme, &viewer_id, json!({"can_view_records": true}))
        .await;
    let (stranger_id, stranger) = app.member("stranger", &other).await;
    app.grant(&other, &stranger_id, json!({"can_view_records": true}))
        .await;
    let admin = app.admin_token().await;
    let record = upload(&app, &owner, files(vec![("call.wav", wav(1000))]))
        .await
        .remove(0);
    let path = format!("/records/{}", record["id"].as_str().unwrap());

    for token in [&owner, &viewer, &admin] {
        assert_eq!(app.get_json(&path, token).await["id"], record["id"]);
        assert_eq!(
            app.get(&format!("{path}/audio"), Some(token))
                .await
                .status(),
            200
        );
        assert_eq!(app.get_json("/records", token).await["total"], 1);
    }
    for token in [&colleague, &stranger] {
        problem(app.get(&path, Some(token)).await, 404).await;
        problem(
            app.post(&format!("{path}/reprocess"), Some(token), &json!({}))
                .await,
            404,
        )
        .await;
        problem(
            app.patch(&path, Some(token), &json!({"operator_speaker": "0"}))
                .await,
            404,
        )
        .await;
        problem(app.get(&format!("{path}/audio"), Some(token)).await, 404).await;
        problem(app.delete(&path, Some(token)).await, 404).await;
        assert_eq!(app.get_json("/records", token).await["total"], 0);
    }
    let views = app
        .get_json(
            &format!(
                "/activity-logs/record/{}?action=VIEW",
                record["id"].as_str().unwrap()
            ),
            &admin,
        )
        .await;
    assert_eq!(views["total"], 3, "every read of a record is audited");
}

#[tokio::test]
async fn audio_streams_with_ranges() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let (_, token) = app.member("listener", &acme).await;
    let original = wav(1000);
    let record = upload(&app, &token, files(vec![("call.wav", original.clone())]))
        .await
        .remove(0);
    let audio = format!("/records/{}/audio", record["id"].as_str().unwrap());

    let whole = app.get(&audio, Some(&token)).await;
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "audio/wav");
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.bytes().await.unwrap().as_ref(), original.as_slice());

    let ranged = |range: &'static str| {
        app.client
            .get(app.url(&audio))
            .bearer_auth(&token)
            .header("range", range)
            .send()
    };
    let part = ranged("bytes=100-199").await.unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 100-199/{}", original.len()).as_str()
    );
    assert_eq!(part.bytes().await.unwrap().as_ref(), &original[100..200]);
    let tail = ranged("bytes=-10").await.unwrap();
    assert_eq!(
        tail.bytes().await.unwrap().as_ref(),
        &original[original.len() - 10..]
    );
    let beyond = ranged("bytes=999999-").await.unwrap();
    assert_eq!(
        beyond.headers()["content-range"],
        format!("bytes */{}", original.len()).as_str()
    );
    problem(beyond, 416).await;
}

#[tokio::test]
async fn deleting_a_record_removes_its_audio_and_keeps_its_history() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let (_, token) = app.member("deleter", &acme).await;
    let record = upload(&app, &token, files(vec![("call.wav", wav(800))]))
        .await
        .remove(0);
    let id = record["id"].as_str().unwrap();
    let path = format!("/records/{id}");
    assert_eq!(app.stored_audio_files(), 1);

    assert_eq!(app.delete(&path, Some(&token)).await.status(), 204);
    assert_eq!(app.stored_audio_files(), 0);
    problem(app.get(&path, Some(&token)).await, 404).await;
    problem(app.get(&format!("{path}/audio"), Some(&token)).await, 404).await;
    problem(app.delete(&path, Some(&token)).await, 404).await;
    assert_eq!(app.get_json("/records", &token).await["total"], 0);
    let admin = app.admin_token().await;
    let trail = app
        .get_json(&format!("/activity-logs/record/{id}"), &admin)
        .await;
    let actions = dialix_tests::actions(&trail["items"]);
    assert_eq!(actions, ["DELETE", "CREATE"]);
    assert_eq!(
        app.query_strings("SELECT original_filename FROM record")
            .await,
        ["call.wav"]
    );
}

#[tokio::test]
async fn listings_filter_sort_and_page() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let (_, token) = app.member("lister", &acme).await;
    upload(
        &app,
        &token,
        files(vec![("24.03.15-09:41:07_101_901234567.wav", wav(500))]),
    )
    .await;
    upload(
        &app,
        &token,
        files(vec![("24.03.15-10:00:00_935551122_204.wav", wav(500))]),
    )
    .await;
    upload(
        &app,
        &token,
        files(vec![("plain.wav", wav(500))]).text("client_phone_number", "+7 912 345 67 89"),
    )
    .await;

    let all = app.get_json("/records", &token).await;
    assert_eq!(all["total"], 3);
    assert_eq!(
        all["items"][0]["original_filename"], "plain.wav",
        "newest first"
    );
    let oldest = app
        .get_json("/records?sort=created_at&limit=1", &token)
        .await;
    assert_eq!(oldest["items"][0]["operator_code"], "101");
    assert_eq!(oldest["total"], 3);
    let by_phone = app.get_json("/records?phone=555", &token).await;
    assert_eq!(by_phone["items"][0]["operator_code"], "204");
    let outbound = app.get_json("/records?call_type=outbound", &token).await;
    assert_eq!(outbound["total"], 1);
    let by_operator = app.get_json("/records?operator_code=204", &token).await;
    assert_eq!(by_operator["total"], 1);
    assert_eq!(
        app.get_json("/records?status=done", &token).await["total"],
        0
    );
    assert_eq!(
        app.get_json("/records?start_date=2999-01-01T00:00:00Z", &token)
            .await["total"],
        0
    );
    for bad in [
        "status=finished",
        "call_type=x",
        "start_date=today",
        "sort=size",
        "limit=999",
        "colour=red",
    ] {
        problem(app.get(&format!("/records?{bad}"), Some(&token)).await, 422).await;
    }
}

#[tokio::test]
async fn an_estimate_prices_the_files_and_stores_nothing() {
    let app = spawn_app_with(|config| config.max_upload_bytes = 4 * 1024 * 1024).await;
    let acme = app.create_company("Acme").await;
    let (_, token) = app.member("estimator", &acme).await;
    let admin = app.admin_token().await;
    app.post(
        &format!("/company/{}/topup", acme["id"].as_str().unwrap()),
        Some(&admin),
        &json!({"amount": 5000, "idempotency_key": "seed"}),
    )
    .await;

    let form = files(vec![("a.wav", wav(2500)), ("b.wav", wav(60_000))])
        .part("general", Part::text("true"));
    let response = app.multipart("/records/estimate", &token, form).await;
    assert_eq!(response.status(), 200);
    let estimate: Value = response.json().await.unwrap();
    // 2.5 s is billed as 3 s: STT 63000*3/60 = 3150, general 21000*3/60 = 1050.
    assert_eq!(
        estimate["files"][0]["price"],
        json!({"stt": 3150, "general": 1050, "checklist": 0, "total": 4200})
    );
    assert_eq!(estimate["files"][1]["price"]["total"], 84_000);
    assert_eq!(estimate["total"], 88_200);
    assert_eq!(estimate["available"], 5000);
    assert_eq!(estimate["enough"], false);
    assert_eq!(app.stored_audio_files(), 0);
    assert_eq!(app.get_json("/records", &token).await["total"], 0);
}

#[tokio::test]
async fn retention_deletes_old_audio_per_owner_setting_and_keeps_the_record() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let (_, default_owner) = app.member("defaults", &acme).await;
    let (_, keeper) = app.member("keeper", &acme).await;
    let (_, brief) = app.member("brief", &acme).await;
    app.patch(
        "/settings",
        Some(&keeper),
        &json!({"auto_delete_records_after_days": null}),
    )
    .await;
    app.patch(
        "/settings",
        Some(&brief),
        &json!({"auto_delete_records_after_days": 30}),
    )
    .await;
    let old = upload(&app, &default_owner, files(vec![("old.wav", wav(500))]))
        .await
        .remove(0);
    upload(&app, &default_owner, files(vec![("new.wav", wav(500))])).await;
    upload(&app, &keeper, files(vec![("kept.wav", wav(500))])).await;
    let short = upload(&app, &brief, files(vec![("short.wav", wav(500))]))
        .await
        .remove(0);
    let day_ms = 86_400_000i64;
    app.execute_sql(&format!(
        "UPDATE record SET created_at = created_at - {} WHERE original_filename IN ('old.wav', 'kept.wav')",
        100 * day_ms
    ))
    .await;
    app.execute_sql(&format!(
        "UPDATE record SET created_at = created_at - {} WHERE original_filename = 'short.wav'",
        40 * day_ms
    ))
    .await;
    assert_eq!(app.stored_audio_files(), 4);

    let dry = dialix_api::startup::run_retention(&app.config(), true)
        .await
        .unwrap();
    let mut names: Vec<&str> = dry
        .records
        .iter()
        .map(|r| r.original_filename.as_str())
        .collect();
    names.sort();
    assert_eq!(names, ["old.wav", "short.wav"]);
    assert_eq!(app.stored_audio_files(), 4, "a dry run deletes nothing");

    let run = dialix_api::startup::run_retention(&app.config(), false)
        .await
        .unwrap();
    assert_eq!(run.records.len(), 2);
    assert_eq!(app.stored_audio_files(), 2);
    let kept = app
        .get_json(
            &format!("/records/{}", old["id"].as_str().unwrap()),
            &default_owner,
        )
        .await;
    assert_eq!(
        kept["original_filename"], "old.wav",
        "the record itself stays"
    );
    problem(
        app.get(
            &format!("/records/{}/audio", old["id"].as_str().unwrap()),
            Some(&default_owner),
        )
        .await,
        404,
    )
    .await;
    let admin = app.admin_token().await;
    let trail = app
        .get_json(
            &format!(
                "/activity-logs/record/{}?action=DELETE",
                short["id"].as_str().unwrap()
            ),
            &admin,
        )
        .await;
    assert_eq!(trail["items"][0]["details"]["retention"], true);
    let again = dialix_api::startup::run_retention(&app.config(), true)
        .await
        .unwrap();
    assert!(again.records.is_empty(), "nothing is left to delete");
}
