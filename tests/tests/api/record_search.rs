//! Searching the records listing: transcript words (full-text, Uzbek and Russian, ranked, with
//! where they are in the call), whole and partial phone numbers, and what `total` promises.

use dialix_tests::audio::{files, wav};
use dialix_tests::fakes::{FakeProviders, Reply, use_fakes};
use dialix_tests::{Backend, TestApp, problem, spawn_app, spawn_app_with};
use serde_json::{Value, json};

/// Uploads one call (no analysis) and waits until it is transcribed, so scripted
/// transcriptions apply in order.
async fn transcribed(app: &TestApp, token: &str) -> String {
    let form = files(vec![("call.wav", wav(10_000))]).text("general", "false");
    let response = app.multipart("/records", token, form).await;
    assert_eq!(response.status(), 201);
    let record: Vec<Value> = response.json().await.unwrap();
    let id = record[0]["id"].as_str().unwrap().to_owned();
    app.wait_for_status(token, &id, "done").await;
    id
}

fn listed_ids(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn transcript_words_are_found_in_uzbek_and_russian_ranked_and_located() {
    let fakes = FakeProviders::start().await;
    let app = spawn_app_with(|config| use_fakes(config, &fakes)).await;
    let acme = app.create_company("Acme").await;
    let globex = app.create_company("Globex").await;
    app.fund(&acme, 1_000_000).await;
    app.fund(&globex, 1_000_000).await;
    let (_, token) = app.member("agent", &acme).await;
    let (_, rival) = app.member("rival", &globex).await;
    fakes.script_transcription([
        Reply::Transcript(vec![
            ("A", 0.0, 2.0, "Assalomu alaykum, Dialix markazi."),
            (
                "B",
                2.5,
                6.0,
                "Men kecha to'lovni qildim, lekin hisobimga tushmadi.",
            ),
            ("A", 6.5, 9.0, "To'lov raqamini ayting, tekshiraman."),
        ]),
        Reply::Transcript(vec![
            ("A", 0.0, 2.0, "Здравствуйте, чем могу помочь?"),
            ("B", 2.5, 6.0, "Оплата не прошла, деньги списали дважды."),
            ("A", 6.5, 9.0, "Проверю оплату прямо сейчас."),
        ]),
        Reply::Transcript(vec![
            ("A", 0.0, 3.0, "Salom, tariflar bo'yicha savolingiz bormi?"),
            (
                "B",
                3.5,
                7.0,
                "Ha, internet tezligi past, oylik to'lov ham qimmat, boshqa tarif bormi? \
                 Uyda ikki kishi ishlaymiz, kechqurun umuman ochilmaydi, video ham ketmaydi.",
            ),
            ("A", 7.5, 9.5, "Albatta, yangi tariflarimiz bor."),
        ]),
        Reply::Transcript(vec![("A", 0.0, 3.0, "To'lov qabul qilindi.")]),
    ]);
    let uzbek = transcribed(&app, &token).await;
    let russian = transcribed(&app, &token).await;
    let longer_uzbek = transcribed(&app, &token).await;
    let rivals = transcribed(&app, &rival).await;

    // Two calls hold "to'lov" (as a word start: to'lovni); the one saying it twice in fewer
    // words ranks first although it is older; the other company's call is not seen.
    let found = app
        .get_json("/records?transcript_contains=to%27lov", &token)
        .await;
    assert_eq!(listed_ids(&found), [uzbek.as_str(), longer_uzbek.as_str()]);
    assert_eq!(
        (found["total"].clone(), found["total_is_exact"].clone()),
        (json!(2), json!(true))
    );
    assert_eq!(
        found["items"][0]["transcript_match"],
        json!({
            "speaker": "B",
            "role": "customer",
            "start_ms": 2500,
            "end_ms": 6000,
            "snippet": "Men kecha to'lovni qildim, lekin hisobimga tushmadi."
        })
    );
    // A long turn is cut to the words around the match.
    let cut = found["items"][1]["transcript_match"]["snippet"]
        .as_str()
        .unwrap();
    assert_eq!(
        cut,
        "Ha, internet tezligi past, oylik to'lov ham qimmat, boshqa tarif bormi? Uyda ikki \
         kishi ishlaymiz,…"
    );
    let past_the_end = app
        .get_json("/records?transcript_contains=to%27lov&offset=5", &token)
        .await;
    assert_eq!(
        (past_the_end["total"].clone(), past_the_end["items"].clone()),
        (json!(2), json!([]))
    );
    let newest_first = app
        .get_json(
            "/records?transcript_contains=to%27lov&sort=-created_at",
            &token,
        )
        .await;
    assert_eq!(
        listed_ids(&newest_first),
        [longer_uzbek.as_str(), uzbek.as_str()]
    );
    let theirs = app
        .get_json("/records?transcript_contains=to%27lov", &rival)
        .await;
    assert_eq!(listed_ids(&theirs), [rivals.as_str()]);

    // Russian, whatever the case, and as a word start.
    for words in ["ОПЛАТА", "оплат", "не%20прошла"] {
        let page = app
            .get_json(&format!("/records?transcript_contains={words}"), &token)
            .await;
        assert_eq!(listed_ids(&page), [russian.as_str()], "{words}");
        let at = &page["items"][0]["transcript_match"];
        assert_eq!(
            (at["start_ms"].clone(), at["role"].clone()),
            (json!(2500), json!("customer"))
        );
        assert_eq!(at["snippet"], "Оплата не прошла, деньги списали дважды.");
    }
    // Words must follow each other, in order.
    for words in ["прошла%20не", "to%27lov%20tushmadi", "zzz"] {
        let page = app
            .get_json(&format!("/records?transcript_contains={words}"), &token)
            .await;
        assert_eq!(page["total"], 0, "{words}");
    }
    let tariffs = app
        .get_json("/records?transcript_contains=Tarif", &token)
        .await;
    assert_eq!(listed_ids(&tariffs), [longer_uzbek.as_str()]);
    // Other filters still apply alongside the search.
    let none = app
        .get_json(
            "/records?transcript_contains=to%27lov&start_date=2999-01-01T00:00:00Z",
            &token,
        )
        .await;
    assert_eq!(none["total"], 0);

    for (query, field) in [
        ("transcript_contains=%21%3F", "transcript_contains"),
        ("sort=relevance", "sort"),
        ("phone=call-me", "phone"),
    ] {
        let body = problem(
            app.get(&format!("/records?{query}"), Some(&token)).await,
            422,
        )
        .await;
        assert!(body["errors"][field].is_string(), "{query}: {body}");
    }
}

#[tokio::test]
async fn whole_numbers_match_exactly_and_digit_runs_anywhere() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let (_, token) = app.member("agent", &acme).await;
    let mut ids = Vec::new();
    for form in [
        files(vec![("a.wav", wav(500))]).text("client_phone_number", "+998 90 123 45 67"),
        files(vec![("b.wav", wav(500))]).text("client_phone_number", "+7 912 345 67 89"),
        files(vec![("24.03.15-10:00:00_935551122_204.wav", wav(500))]),
    ] {
        let response = app.multipart("/records", &token, form).await;
        assert_eq!(response.status(), 201);
        let records: Vec<Value> = response.json().await.unwrap();
        ids.push(records[0]["id"].as_str().unwrap().to_owned());
    }
    let [uzbek, russian, pbx] = [&ids[0], &ids[1], &ids[2]].map(String::as_str);
    for (phone, expected) in [
        // Whole numbers, however written: one exact match.
        ("%2B998901234567", vec![uzbek]),
        ("901234567", vec![uzbek]),
        ("(90)%20123-45-67", vec![uzbek]),
        ("998935551122", vec![pbx]),
        ("%2B79123456789", vec![russian]),
        // A whole number nobody called from.
        ("%2B99890123456", vec![]),
        // Digit runs anywhere in the number, newest first.
        ("4567", vec![russian, uzbek]),
        ("45%2067", vec![russian, uzbek]),
        ("5551122", vec![pbx]),
        ("12345678", vec![russian]),
        ("90123", vec![uzbek]),
    ] {
        let page = app
            .get_json(&format!("/records?phone={phone}"), &token)
            .await;
        assert_eq!(listed_ids(&page), expected, "phone={phone}");
        assert_eq!(page["total"], expected.len(), "phone={phone}");
    }
}

#[tokio::test]
async fn total_is_exact_up_to_ten_thousand_and_a_bound_past_it() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let (_, token) = app.member("agent", &acme).await;
    let form = files(vec![("seed.wav", wav(500))]).text("client_phone_number", "901234567");
    assert_eq!(app.multipart("/records", &token, form).await.status(), 201);
    // 9,999 copies of the call: exactly 10,000 records.
    copy_records(&app, 9_999).await;
    let page = app.get_json("/records?limit=1", &token).await;
    assert_eq!(
        (page["total"].clone(), page["total_is_exact"].clone()),
        (json!(10_000), json!(true))
    );
    // One more: the count stops at the bound and says so; pages past it still work.
    copy_records(&app, 1).await;
    let page = app.get_json("/records?limit=1", &token).await;
    assert_eq!(
        (page["total"].clone(), page["total_is_exact"].clone()),
        (json!(10_000), json!(false))
    );
    let last = app.get_json("/records?limit=5&offset=10000", &token).await;
    assert_eq!(last["items"].as_array().unwrap().len(), 1);
    // A narrower filter is counted exactly again.
    let seed = app
        .get_json(
            "/records?sort=created_at&limit=1&start_date=2000-01-01T00:00:00Z",
            &token,
        )
        .await;
    assert_eq!(seed["total_is_exact"], false);
    let none = app.get_json("/records?phone=4444", &token).await;
    assert_eq!(
        (none["total"].clone(), none["total_is_exact"].clone()),
        (json!(0), json!(true))
    );
}

/// Inserts `copies` copies of the company's first record with fresh ids, in one statement.
async fn copy_records(app: &TestApp, copies: u32) {
    const COLUMNS: &str = "owner_id, company_id, operator_code, client_phone_number, call_type, \
        call_started_at, duration_ms, status, general, original_filename, content_type, \
        size_bytes, storage_key, payload, error, reserved_amount, sentiment, transcript_text, \
        processing_round, checklist_id, checklist_version, created_at, updated_at, deleted_at, \
        row_version, call_at, call_purpose, customer_satisfied, key_words";
    let source = "(SELECT * FROM record ORDER BY created_at LIMIT 1) AS original";
    let sql = match app.backend {
        Backend::Postgres => format!(
            "INSERT INTO record (id, {COLUMNS}) SELECT gen_random_uuid(), {COLUMNS} \
             FROM {source}, generate_series(1, {copies})"
        ),
        Backend::Sqlite => format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {copies}) \
             INSERT INTO record (id, {COLUMNS}) SELECT randomblob(16), {COLUMNS} \
             FROM {source}, n"
        ),
    };
    app.execute_sql(&sql).await;
}
