use std::time::Duration;

use dialix_tests::audio::{files, wav};
use dialix_tests::fakes::{FakeProviders, Reply, analysis, use_fakes};
use dialix_tests::{Backend, TestApp, problem, spawn_app, spawn_app_with};
use serde_json::{Value, json};

/// The card and phone numbers the customer says in the call.
const CARD: &str = "8600 1234 5678 9012";
const PHONE: &str = "+998 90 123 45 67";
/// STT 63000*3/60 + general 21000*3/60 for a 2.5 s call (billed as 3 s).
const PROCESSING_PRICE: i64 = 3150 + 1050;

/// An app on fresh fakes (chat at `price` per question), a funded company and a member's token.
async fn setup(price: i64, balance: i64) -> (TestApp, FakeProviders, Value, String) {
    let fakes = FakeProviders::start().await;
    let app = spawn_app_with(|config| {
        use_fakes(config, &fakes);
        config.chat.price_per_question = price;
    })
    .await;
    let company = app.create_company("Chat LLC").await;
    app.fund(&company, balance).await;
    let (_, token) = app.member("agent", &company).await;
    (app, fakes, company, token)
}

/// Uploads a call whose transcript holds a card and a phone number, and waits for its
/// processing (transcript and general analysis).
async fn processed_call(app: &TestApp, fakes: &FakeProviders, token: &str) -> String {
    fakes.script_transcription([Reply::Transcript(vec![
        ("A", 0.0, 1.0, "Assalomu alaykum, Dialix bank."),
        (
            "B",
            1.2,
            3.0,
            "Kartam 8600 1234 5678 9012 bloklandi, raqamim +998 90 123 45 67.",
        ),
        ("A", 3.2, 4.5, "Tushunarli, kartangizni blokdan chiqaramiz."),
    ])]);
    let response = app
        .multipart("/records", token, files(vec![("call.wav", wav(2500))]))
        .await;
    assert_eq!(response.status(), 201);
    let records: Vec<Value> = response.json().await.unwrap();
    let id = records[0]["id"].as_str().unwrap().to_owned();
    app.wait_for_status(token, &id, "done").await;
    id
}

async fn open_session(app: &TestApp, token: &str, record: &str) -> Value {
    let response = app
        .post("/chat/session", Some(token), &json!({"record_id": record}))
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn ask(app: &TestApp, token: &str, session: &str, question: &str) -> reqwest::Response {
    app.post(
        &format!("/chat/{session}/message"),
        Some(token),
        &json!({"message": question}),
    )
    .await
}

async fn asked(app: &TestApp, token: &str, session: &str, question: &str) -> Value {
    let response = ask(app, token, session, question).await;
    assert_eq!(response.status(), 200, "asking {question:?}");
    response.json().await.unwrap()
}

fn id(value: &Value, member: &str) -> String {
    value[member].as_str().expect("an id").to_owned()
}

/// Questions used (over every session: the tests have one) and messages stored, read from
/// the database.
async fn stored(app: &TestApp) -> (String, String) {
    let used = app
        .query_strings("SELECT CAST(SUM(questions_used) AS BIGINT) FROM chat_session")
        .await;
    let messages = app
        .query_strings("SELECT CAST(COUNT(*) AS BIGINT) FROM chat_message")
        .await;
    (used[0].clone(), messages[0].clone())
}

#[tokio::test]
async fn a_session_answers_ten_questions_then_refuses_with_the_limit() {
    let (app, fakes, _, token) = setup(0, 100_000).await;
    let record = processed_call(&app, &fakes, &token).await;
    let session = open_session(&app, &token, &record).await;
    assert_eq!(session["record_id"], record.as_str());
    assert_eq!(
        (&session["remaining_questions"], &session["questions_used"]),
        (&json!(10), &json!(0))
    );
    let session_id = id(&session, "session_id");

    for n in 1..=10 {
        let answer = asked(&app, &token, &session_id, &format!("Question {n}: why?")).await;
        assert_eq!(answer["remaining_questions"], 10 - n);
        assert_eq!(
            answer["response"],
            "The customer wanted to know about the tariffs."
        );
    }
    let refused = problem(ask(&app, &token, &session_id, "One more?").await, 429).await;
    assert_eq!(refused["type"], "/problems/question-limit-reached");
    assert_eq!(
        fakes.chat_answer_requests().len(),
        10,
        "the 11th never left"
    );

    let detail = app
        .get_json(&format!("/chat/session/{session_id}"), &token)
        .await;
    assert_eq!(
        (&detail["questions_used"], &detail["remaining_questions"]),
        (&json!(10), &json!(0))
    );
    let messages = detail["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 20);
    assert_eq!(
        (&messages[0]["role"], &messages[0]["content"]),
        (&json!("user"), &json!("Question 1: why?"))
    );
    assert_eq!(messages[19]["role"], "assistant");
    assert_eq!(stored(&app).await, ("10".into(), "20".into()));
    // Token counts of each answer, as the provider reported them, for usage statistics.
    assert_eq!(
        app.query_strings(
            "SELECT CAST(SUM(prompt_tokens) + SUM(completion_tokens) AS BIGINT) FROM chat_message"
        )
        .await,
        ["1500"]
    );

    let listed = app.get_json("/chat/sessions", &token).await;
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["items"][0]["session_id"], session_id.as_str());

    // Every question is in the trail, without its text.
    let trail = app
        .get_json(&format!("/activity-logs/chat_session/{session_id}"), &token)
        .await;
    let actions = dialix_tests::actions(&trail["items"]);
    assert_eq!(actions.len(), 11);
    assert_eq!(actions.last().map(String::as_str), Some("CREATE"));
    assert!(actions[..10].iter().all(|a| a == "UPDATE"));
    let newest = &trail["items"][0]["details"];
    assert_eq!(newest["question_number"], 10);
    assert_eq!(
        (&newest["prompt_tokens"], &newest["completion_tokens"]),
        (&json!(100), &json!(50))
    );
    assert!(!trail.to_string().contains("why?"), "no question text");

    let path = format!("/chat/session/{session_id}");
    assert_eq!(app.delete(&path, Some(&token)).await.status(), 204);
    problem(app.get(&path, Some(&token)).await, 404).await;
    problem(app.delete(&path, Some(&token)).await, 404).await;
    assert_eq!(app.get_json("/chat/sessions", &token).await["total"], 0);
    let trail = app
        .get_json(
            &format!("/activity-logs/chat_session/{session_id}?action=DELETE"),
            &token,
        )
        .await;
    assert_eq!(trail["items"][0]["details"]["questions_used"], 10);
}

#[tokio::test]
async fn two_questions_racing_for_the_last_one_give_one_answer_and_one_429() {
    let (app, fakes, _, token) = setup(0, 100_000).await;
    let record = processed_call(&app, &fakes, &token).await;
    let session_id = id(&open_session(&app, &token, &record).await, "session_id");
    for n in 1..=9 {
        asked(&app, &token, &session_id, &format!("Question {n}?")).await;
    }
    // Both are answered slowly, so both pass the early check before either is stored.
    fakes.script_chat([
        Reply::Slow(Duration::from_millis(400)),
        Reply::Slow(Duration::from_millis(400)),
    ]);
    let (first, second) = tokio::join!(
        ask(&app, &token, &session_id, "Last question, first?"),
        ask(&app, &token, &session_id, "Last question, second?"),
    );
    let mut statuses = [first.status().as_u16(), second.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 429]);
    let loser = if first.status() == 429 { first } else { second };
    assert_eq!(
        problem(loser, 429).await["type"],
        "/problems/question-limit-reached"
    );
    assert_eq!(
        fakes.chat_answer_requests().len(),
        11,
        "both reached the model"
    );
    assert_eq!(stored(&app).await, ("10".into(), "20".into()));
}

#[tokio::test]
async fn a_provider_failure_stores_nothing_uses_no_question_and_charges_nothing() {
    const PRICE: i64 = 700;
    let fakes = FakeProviders::start().await;
    let app = spawn_app_with(|config| {
        use_fakes(config, &fakes);
        config.chat.price_per_question = PRICE;
        config.providers.http.timeout = Duration::from_secs(1);
    })
    .await;
    let company = app.create_company("Chat LLC").await;
    app.fund(&company, 10_000).await;
    let (_, token) = app.member("agent", &company).await;
    let record = processed_call(&app, &fakes, &token).await;
    let session_id = id(&open_session(&app, &token, &record).await, "session_id");
    let before = app.get_json("/balance", &token).await;
    assert_eq!(before["balance"], 10_000 - PROCESSING_PRICE);

    // Two attempts each (HttpPolicy of the fakes): both fail.
    fakes.script_chat([Reply::Status(500, None), Reply::Status(500, None)]);
    let failed = problem(ask(&app, &token, &session_id, "Why?").await, 502).await;
    assert_eq!(failed["type"], "/problems/provider-error");

    // A wait longer than the policy's is not waited for: 503 with the provider's wait.
    fakes.script_chat([Reply::Status(429, Some(30))]);
    let busy = ask(&app, &token, &session_id, "Why?").await;
    assert_eq!(busy.headers()["retry-after"], "30");
    assert_eq!(problem(busy, 503).await["type"], "/problems/provider-busy");

    fakes.script_chat([Reply::OffSchema]);
    problem(ask(&app, &token, &session_id, "Why?").await, 502).await;

    fakes.script_chat([
        Reply::Slow(Duration::from_millis(1500)),
        Reply::Slow(Duration::from_millis(1500)),
    ]);
    problem(ask(&app, &token, &session_id, "Why?").await, 502).await;

    assert_eq!(stored(&app).await, ("0".into(), "0".into()));
    let after = app.get_json("/balance", &token).await;
    assert_eq!(
        (&after["balance"], &after["reserved"]),
        (&before["balance"], &json!(0))
    );

    let answer = asked(&app, &token, &session_id, "Why?").await;
    assert_eq!(answer["remaining_questions"], 9);
    assert_eq!(stored(&app).await, ("1".into(), "2".into()));
}

#[tokio::test]
async fn citations_are_kept_only_where_the_transcript_says_so() {
    let (app, fakes, _, token) = setup(0, 100_000).await;
    let record = processed_call(&app, &fakes, &token).await;
    let session_id = id(&open_session(&app, &token, &record).await, "session_id");
    fakes.script_chat([Reply::ChatAnswer(json!({
        "answer": "The card was blocked; the operator will unblock it.",
        "citations": [
            // The model saw the masked turn, so it quotes the mask.
            {"turn": 2, "quote": "KARTAM [card number]  bloklandi"},
            {"turn": 3, "quote": "kartangizni blokdan chiqaramiz"},
            // Invented: not said in turn 3, and there is no turn 9.
            {"turn": 3, "quote": "we refund the fee"},
            {"turn": 9, "quote": "Tushunarli"}
        ]
    }))]);
    let answer = asked(&app, &token, &session_id, "What happened to the card?").await;
    assert_eq!(
        answer["citations"],
        json!([
            {"record_id": record, "start_ms": 1200, "end_ms": 3000, "speaker": "customer",
             "quote": "KARTAM [card number]  bloklandi"},
            {"record_id": record, "start_ms": 3200, "end_ms": 4500, "speaker": "operator",
             "quote": "kartangizni blokdan chiqaramiz"}
        ])
    );
    let detail = app
        .get_json(&format!("/chat/session/{session_id}"), &token)
        .await;
    assert_eq!(detail["messages"][1]["citations"], answer["citations"]);
    assert_eq!(detail["messages"][0]["citations"], json!([]));
}

#[tokio::test]
async fn earlier_turns_and_masked_text_reach_the_model_and_storage_keeps_the_originals() {
    let (app, fakes, _, token) = setup(0, 100_000).await;
    let record = processed_call(&app, &fakes, &token).await;
    let session_id = id(&open_session(&app, &token, &record).await, "session_id");
    asked(&app, &token, &session_id, "Mijoz nima haqida so'radi?").await;
    let question = format!("Почему карта {CARD} была заблокирована?");
    let answer = asked(&app, &token, &session_id, &question).await;
    assert_eq!(answer["language"], "ru");

    let requests = fakes.chat_answer_requests();
    let messages = requests[1]["messages"].as_array().unwrap();
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        ["system", "user", "user", "user", "assistant", "user"]
    );
    let content = |i: usize| messages[i]["content"].as_str().unwrap();
    assert!(content(0).contains("Write the answer in Russian"));
    assert!(
        !content(0).contains("bloklandi"),
        "the transcript is not in the instructions"
    );
    assert!(content(1).contains("Kartam [card number] bloklandi, raqamim [phone number]."));
    assert!(
        content(2).contains("The customer asked about tariffs"),
        "the analysis"
    );
    assert_eq!(content(3), "Mijoz nima haqida so'radi?");
    assert_eq!(content(4), "The customer wanted to know about the tariffs.");
    assert_eq!(content(5), "Почему карта [card number] была заблокирована?");
    let sent = serde_json::to_string(&requests).unwrap();
    for number in [CARD, PHONE, "8600"] {
        assert!(!sent.contains(number), "{number} left for the model");
    }

    let stored_record = app.get_json(&format!("/records/{record}"), &token).await;
    assert!(
        stored_record["transcript"][1]["text"]
            .as_str()
            .unwrap()
            .contains(&format!("Kartam {CARD} bloklandi, raqamim {PHONE}."))
    );
    let detail = app
        .get_json(&format!("/chat/session/{session_id}"), &token)
        .await;
    assert_eq!(detail["messages"][2]["content"], question.as_str());
}

#[tokio::test]
async fn suggested_questions_come_from_the_analysis_in_each_language() {
    let (app, fakes, company, token) = setup(0, 100_000).await;
    let admin = app.admin_token().await;
    let configured = app
        .patch(
            &format!("/company/{}", id(&company, "id")),
            Some(&admin),
            &json!({"settings": {"call_purposes": ["card support"]}}),
        )
        .await;
    assert_eq!(configured.status(), 200);
    let mut general = analysis();
    general["sentiment_client"]["value"] = json!("negative");
    general["call_purpose"] = json!("card support");
    general["is_conversation_over"] = json!(false);
    general["key_words"] = json!(["karta", "blok"]);
    fakes.script_chat([Reply::Analysis(general)]);
    let record = processed_call(&app, &fakes, &token).await;

    let expected = [
        (
            "en",
            vec![
                "Why was the client unhappy?",
                "What did the client want regarding \"card support\"?",
                "What was left unresolved at the end of the call?",
                "What was said about \"karta\"?",
                "Summarise the call briefly.",
                "What did the client ask about?",
                "What did the operator promise?",
            ],
        ),
        (
            "ru",
            vec![
                "Почему клиент остался недоволен?",
                "Что клиент хотел по теме «card support»?",
                "Какой вопрос остался нерешённым в конце звонка?",
                "Что говорилось о «karta»?",
                "Кратко перескажите звонок.",
                "О чём спрашивал клиент?",
                "Что пообещал оператор?",
            ],
        ),
        (
            "uz",
            vec![
                "Mijoz nega norozi bo'ldi?",
                "Mijoz «card support» bo'yicha nimani xohladi?",
                "Suhbat oxirida qaysi masala hal bo'lmay qoldi?",
                "«karta» haqida nima deyildi?",
                "Qo'ng'iroqni qisqacha bayon qiling.",
                "Mijoz nimani so'radi?",
                "Operator nimani va'da qildi?",
            ],
        ),
    ];
    let path = format!("/chat/suggested-questions/{record}");
    for (language, questions) in &expected {
        let suggested = app
            .get_json(&format!("{path}?language={language}"), &token)
            .await;
        assert_eq!(suggested["language"], *language);
        assert_eq!(suggested["questions"], json!(questions), "{language}");
    }
    // Without a language: the caller's setting (Uzbek until changed).
    assert_eq!(app.get_json(&path, &token).await["language"], "uz");
    let changed = app
        .patch("/settings", Some(&token), &json!({"language": "ru"}))
        .await;
    assert_eq!(changed.status(), 200);
    let suggested = app.get_json(&path, &token).await;
    assert_eq!(suggested["questions"], json!(expected[1].1));
    let refused = problem(
        app.get(&format!("{path}?language=de"), Some(&token)).await,
        422,
    )
    .await;
    assert!(refused["errors"]["language"].is_string());
    assert_eq!(fakes.chat_answer_requests().len(), 0, "no model call");
}

#[tokio::test]
async fn other_tenants_and_other_users_get_404() {
    let (app, fakes, company, token) = setup(0, 100_000).await;
    let record = processed_call(&app, &fakes, &token).await;
    let session_id = id(&open_session(&app, &token, &record).await, "session_id");
    let rival_company = app.create_company("Rival LLC").await;
    let (_, rival) = app.member("rival", &rival_company).await;
    let (_, colleague) = app.member("colleague", &company).await;

    let body = json!({"record_id": record});
    problem(app.post("/chat/session", Some(&rival), &body).await, 404).await;
    problem(
        app.post("/chat/session", Some(&colleague), &body).await,
        404,
    )
    .await;
    let suggestions = format!("/chat/suggested-questions/{record}");
    problem(app.get(&suggestions, Some(&rival)).await, 404).await;
    for stranger in [&rival, &colleague] {
        let path = format!("/chat/session/{session_id}");
        problem(app.get(&path, Some(stranger)).await, 404).await;
        problem(ask(&app, stranger, &session_id, "Why?").await, 404).await;
        problem(app.delete(&path, Some(stranger)).await, 404).await;
        assert_eq!(app.get_json("/chat/sessions", stranger).await["total"], 0);
    }
    assert_eq!(stored(&app).await, ("0".into(), "0".into()));

    // An administrator allowed to see the company's calls may talk about them, in a session
    // of their own.
    let (manager_id, manager) = app.member("manager", &company).await;
    app.grant(&company, &manager_id, json!({"can_view_records": true}))
        .await;
    let own = open_session(&app, &manager, &record).await;
    assert_ne!(own["session_id"], session_id.as_str());
    problem(
        app.get(&format!("/chat/session/{session_id}"), Some(&manager))
            .await,
        404,
    )
    .await;
}

#[tokio::test]
async fn a_call_without_transcript_is_a_409_and_bad_questions_a_422() {
    let fakes = FakeProviders::start().await;
    let app = spawn_app_with(|config| {
        use_fakes(config, &fakes);
        config.processing.workers = 0;
    })
    .await;
    let company = app.create_company("Chat LLC").await;
    app.fund(&company, 100_000).await;
    let (_, token) = app.member("agent", &company).await;
    let response = app
        .multipart("/records", &token, files(vec![("call.wav", wav(2500))]))
        .await;
    let record = id(&response.json::<Vec<Value>>().await.unwrap()[0], "id");
    let body = json!({"record_id": record});
    let refused = problem(app.post("/chat/session", Some(&token), &body).await, 409).await;
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("no transcript (status: queued)"),
        "{refused}"
    );
    problem(
        app.get(&format!("/chat/suggested-questions/{record}"), Some(&token))
            .await,
        409,
    )
    .await;

    // Questions are checked before anything else.
    let unknown = "/chat/0192c5a0-0000-7000-8000-000000000000/message";
    for message in [json!(""), json!("   "), json!("x".repeat(2001))] {
        let refused = problem(
            app.post(unknown, Some(&token), &json!({"message": message}))
                .await,
            422,
        )
        .await;
        assert!(refused["errors"]["message"].is_string());
    }
}

#[tokio::test]
async fn without_a_chat_provider_chat_is_503_naming_the_setting() {
    let app = spawn_app().await;
    let token = app.user_token("lonely").await;
    let body = json!({"record_id": "0192c5a0-0000-7000-8000-000000000000"});
    let refused = problem(app.post("/chat/session", Some(&token), &body).await, 503).await;
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("OPENAI_API_KEY")
    );
}

#[tokio::test]
async fn a_question_the_balance_does_not_cover_is_402_and_an_answer_is_charged_once() {
    const PRICE: i64 = 700;
    // After processing (4200) 800 is left: one question (700), then 100 is not enough.
    let (app, fakes, company, token) = setup(PRICE, PROCESSING_PRICE + 800).await;
    let record = processed_call(&app, &fakes, &token).await;
    let session_id = id(&open_session(&app, &token, &record).await, "session_id");
    asked(&app, &token, &session_id, "Why?").await;
    let refused = problem(ask(&app, &token, &session_id, "And then?").await, 402).await;
    assert_eq!(refused["type"], "/problems/insufficient-balance");
    assert_eq!(
        fakes.chat_answer_requests().len(),
        1,
        "no model call when unpaid"
    );

    let balance = app.get_json("/balance", &token).await;
    assert_eq!(
        (&balance["balance"], &balance["reserved"]),
        (&json!(100), &json!(0))
    );
    assert_eq!(app.charges(&company).await, [-3150, -1050, -PRICE]);
    assert_eq!(stored(&app).await, ("1".into(), "2".into()));
    assert_eq!(reservation_amounts(&app).await, Vec::<String>::new());
}

/// The amounts of the chat reservations still held, smallest first.
async fn reservation_amounts(app: &TestApp) -> Vec<String> {
    app.query_strings("SELECT CAST(amount AS BIGINT) FROM chat_reservation ORDER BY amount")
        .await
}

#[tokio::test]
async fn a_reservation_left_by_a_dead_process_is_released_when_the_next_one_starts() {
    let (app, _fakes, _company, token) = setup(700, 5_000).await;
    // What a process that died while the model answered leaves behind: 700 reserved two
    // hours ago; beside it a question of a minute ago (300), still being answered.
    let new_id = match app.backend {
        Backend::Postgres => "gen_random_uuid()",
        Backend::Sqlite => "randomblob(16)",
    };
    let now_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    for (amount, age_ms) in [(700, 2 * 3_600_000), (300, 60_000)] {
        app.execute_sql(&format!(
            "INSERT INTO chat_reservation (id, company_id, amount, created_at) \
             SELECT {new_id}, id, {amount}, {} FROM company WHERE name = 'Chat LLC'",
            now_ms - age_ms
        ))
        .await;
    }
    app.execute_sql("UPDATE company SET reserved = reserved + 1000 WHERE name = 'Chat LLC'")
        .await;
    let held = app.get_json("/balance", &token).await;
    assert_eq!(
        (&held["balance"], &held["reserved"]),
        (&json!(5_000), &json!(1_000))
    );

    // The next start sweeps (in the background): the old reservation is given back.
    let restarted = app.sibling(|_| {}).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let balance = restarted.get_json("/balance", &token).await;
        if balance["reserved"] == json!(300) {
            assert_eq!(balance["balance"], 5_000, "no money moved: {balance}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not released: {balance}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(reservation_amounts(&app).await, ["300"]);
}

/// One Server-Sent Event: its name and its data lines joined.
#[derive(Debug)]
struct Event {
    name: String,
    data: String,
}

/// Parses complete events out of `buffer`, leaving an unfinished one there.
fn take_events(buffer: &mut String) -> Vec<Event> {
    let mut events = Vec::new();
    while let Some(end) = buffer.find("\n\n") {
        let block: String = buffer.drain(..end + 2).collect();
        let (mut name, mut data) = (String::new(), Vec::new());
        for line in block.lines() {
            if let Some(value) = line.strip_prefix("event: ") {
                name = value.to_owned();
            } else if let Some(value) = line.strip_prefix("data: ") {
                data.push(value);
            }
        }
        events.push(Event {
            name,
            data: data.join("\n"),
        });
    }
    events
}

/// Asks with `Accept: text/event-stream`.
async fn ask_streaming(
    app: &TestApp,
    token: &str,
    session: &str,
    question: &str,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/chat/{session}/message")))
        .bearer_auth(token)
        .header("accept", "text/event-stream")
        .json(&json!({"message": question}))
        .send()
        .await
        .unwrap()
}

/// Reads a streamed answer to its end.
async fn events_of(mut response: reqwest::Response) -> Vec<Event> {
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let (mut buffer, mut events) = (String::new(), Vec::new());
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(10), response.chunk())
        .await
        .expect("the stream goes on")
        .unwrap()
    {
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        events.extend(take_events(&mut buffer));
    }
    events
}

#[tokio::test]
async fn a_streamed_answer_arrives_in_pieces_that_join_to_the_stored_answer() {
    let (app, fakes, _, token) = setup(0, 100_000).await;
    let record = processed_call(&app, &fakes, &token).await;
    let session_id = id(&open_session(&app, &token, &record).await, "session_id");
    fakes.script_chat([Reply::ChatAnswer(json!({
        "answer": "The customer's card was blocked;\nthe operator \"unblocked\" it.",
        "citations": [{"turn": 3, "quote": "kartangizni blokdan chiqaramiz"}]
    }))]);

    let events = events_of(ask_streaming(&app, &token, &session_id, "What happened?").await).await;
    let (last, tokens) = events.split_last().unwrap();
    assert!(tokens.len() > 3, "several pieces: {events:?}");
    assert!(tokens.iter().all(|e| e.name == "token"), "{events:?}");
    let joined: String = tokens.iter().map(|e| e.data.as_str()).collect();
    assert_eq!(
        joined,
        "The customer's card was blocked;\nthe operator \"unblocked\" it."
    );
    assert_eq!(last.name, "done");
    let done: Value = serde_json::from_str(&last.data).unwrap();
    assert_eq!(done["response"], joined.as_str());
    assert_eq!(done["remaining_questions"], 9);
    assert_eq!(done["citations"][0]["record_id"], record.as_str());
    assert_eq!(done["citations"][0]["start_ms"], 3200);
    let request = &fakes.chat_answer_requests()[0];
    assert_eq!(request["stream"], true);
    assert_eq!(request["stream_options"]["include_usage"], true);

    let detail = app
        .get_json(&format!("/chat/session/{session_id}"), &token)
        .await;
    assert_eq!(detail["questions_used"], 1);
    assert_eq!(detail["messages"][1]["content"], joined.as_str());
    assert_eq!(detail["messages"][1]["citations"], done["citations"]);
    assert_eq!(stored(&app).await, ("1".into(), "2".into()));
    // The usage the stream reported last is kept, as for whole answers.
    let tokens = app
        .query_strings(
            "SELECT CAST(prompt_tokens AS TEXT) || '/' || CAST(completion_tokens AS TEXT) \
             FROM chat_message WHERE prompt_tokens IS NOT NULL",
        )
        .await;
    assert_eq!(tokens, ["120/30"]);
}

#[tokio::test]
async fn a_stream_that_breaks_off_sends_an_error_event_and_uses_no_question() {
    let (app, fakes, _, token) = setup(5, 10_000).await;
    let record = processed_call(&app, &fakes, &token).await;
    let session_id = id(&open_session(&app, &token, &record).await, "session_id");
    let before = app.get_json("/balance", &token).await;
    fakes.script_chat([Reply::StreamBreaksAfter(3)]);

    let events = events_of(ask_streaming(&app, &token, &session_id, "Why?").await).await;
    let (last, tokens) = events.split_last().unwrap();
    assert!(!tokens.is_empty() && tokens.iter().all(|e| e.name == "token"));
    assert_eq!(last.name, "error", "{events:?}");
    let failure: Value = serde_json::from_str(&last.data).unwrap();
    assert_eq!(failure["status"], 502);

    assert_eq!(stored(&app).await, ("0".into(), "0".into()));
    let after = app.get_json("/balance", &token).await;
    assert_eq!(
        (&after["balance"], &after["reserved"]),
        (&before["balance"], &json!(0))
    );
    // A failure before the first piece is an ordinary problem response.
    fakes.script_chat([Reply::Status(500, None), Reply::Status(500, None)]);
    problem(ask_streaming(&app, &token, &session_id, "Why?").await, 502).await;
    assert_eq!(stored(&app).await, ("0".into(), "0".into()));
}

#[tokio::test]
async fn a_client_that_leaves_mid_stream_uses_no_question_and_nothing_is_stored() {
    let (app, fakes, _, token) = setup(5, 10_000).await;
    let record = processed_call(&app, &fakes, &token).await;
    let session_id = id(&open_session(&app, &token, &record).await, "session_id");
    let before = app.get_json("/balance", &token).await;
    let delay = Duration::from_millis(100);
    fakes.script_chat([Reply::SlowStream(delay)]);

    let mut response = ask_streaming(&app, &token, &session_id, "Why?").await;
    assert_eq!(response.status(), 200);
    let first = response.chunk().await.unwrap().unwrap();
    assert!(
        std::str::from_utf8(&first)
            .unwrap()
            .starts_with("event: token")
    );
    drop(response);
    // Long enough for the whole slow answer (the normal one: 12 chunks and [DONE]).
    tokio::time::sleep(delay * 20).await;

    let detail = app
        .get_json(&format!("/chat/session/{session_id}"), &token)
        .await;
    assert_eq!(
        (&detail["questions_used"], &detail["messages"]),
        (&json!(0), &json!([]))
    );
    let after = app.get_json("/balance", &token).await;
    assert_eq!(
        (&after["balance"], &after["reserved"]),
        (&before["balance"], &json!(0))
    );
    // The session still answers.
    let events = events_of(ask_streaming(&app, &token, &session_id, "Why?").await).await;
    assert_eq!(events.last().unwrap().name, "done");
    assert_eq!(stored(&app).await, ("1".into(), "2".into()));
}

/// Uploads a call of a client number (named the OnlinePBX way, so the name gives the number
/// and the time) whose customer says `words` and whose summary is `summary`, and waits for
/// its processing.
async fn number_call(
    app: &TestApp,
    fakes: &FakeProviders,
    token: &str,
    name: &str,
    words: &'static str,
    summary: &str,
) -> String {
    fakes.script_transcription([Reply::Transcript(vec![
        ("A", 0.0, 1.0, "Assalomu alaykum."),
        ("B", 1.2, 3.0, words),
    ])]);
    let mut general = analysis();
    general["summary"] = json!(summary);
    fakes.script_chat([Reply::Analysis(general)]);
    let response = app
        .multipart("/records", token, files(vec![(name, wav(2500))]))
        .await;
    assert_eq!(response.status(), 201);
    let records: Vec<Value> = response.json().await.unwrap();
    let id = records[0]["id"].as_str().unwrap().to_owned();
    app.wait_for_status(token, &id, "done").await;
    id
}

const OLDEST: &str = "Internet ishlamayapti.";
const MIDDLE: &str = "Yangi tarifga o'tmoqchiman.";
const NEWEST: &str = "Hisobimdan pul yechildi.";

/// Three calls of +998901111111 uploaded out of order (oldest, middle, newest by call time),
/// and one of another number.
async fn three_calls(app: &TestApp, fakes: &FakeProviders, token: &str) -> [String; 3] {
    let middle = number_call(
        app,
        fakes,
        token,
        "26.01.11-10:00:00_901111111_101.wav",
        MIDDLE,
        "Wants the new tariff.",
    )
    .await;
    let newest = number_call(
        app,
        fakes,
        token,
        "26.01.12-10:00:00_901111111_101.wav",
        NEWEST,
        "Money was taken from the account.",
    )
    .await;
    let oldest = number_call(
        app,
        fakes,
        token,
        "26.01.10-10:00:00_901111111_101.wav",
        OLDEST,
        "The internet does not work.",
    )
    .await;
    number_call(
        app,
        fakes,
        token,
        "26.01.12-11:00:00_903333333_101.wav",
        "Boshqa raqam.",
        "Another number.",
    )
    .await;
    [oldest, middle, newest]
}

/// The calls data message of the `n`th AI chat request.
fn calls_sent(fakes: &FakeProviders, n: usize) -> Vec<Value> {
    let request = &fakes.chat_answer_requests()[n];
    let content = request["messages"][1]["content"].as_str().unwrap();
    let (_, data) = content.split_once('\n').unwrap();
    serde_json::from_str(data).unwrap()
}

fn record_ids(calls: &[Value]) -> Vec<&str> {
    calls
        .iter()
        .map(|c| c["record_id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_number_session_sends_its_calls_oldest_first_and_cites_the_right_call() {
    let (app, fakes, _, token) = setup(0, 100_000).await;
    let [oldest, middle, newest] = three_calls(&app, &fakes, &token).await;
    let rival = app.create_company("Rival LLC").await;
    app.fund(&rival, 100_000).await;
    let (_, rival_token) = app.member("rival", &rival).await;
    let theirs = number_call(
        &app,
        &fakes,
        &rival_token,
        "26.01.11-12:00:00_901111111_901.wav",
        "Raqibning qo'ng'irog'i.",
        "The rival's call.",
    )
    .await;

    let response = app
        .post(
            "/chat/session",
            Some(&token),
            &json!({"client_phone_number": "90 111-11-11"}),
        )
        .await;
    assert_eq!(response.status(), 201);
    let session: Value = response.json().await.unwrap();
    assert_eq!(
        (&session["record_id"], &session["client_phone_number"]),
        (&Value::Null, &json!("+998901111111"))
    );
    let session_id = id(&session, "session_id");
    // Turns are numbered across the calls: 1-2 the oldest, 3-4 the middle, 5-6 the newest.
    fakes.script_chat([Reply::ChatAnswer(json!({
        "answer": "They wanted the new tariff.",
        "citations": [{"turn": 4, "quote": "Yangi tarifga"}, {"turn": 6, "quote": "pul yechildi"}]
    }))]);
    let answer = asked(&app, &token, &session_id, "What did the client want?").await;
    let cited: Vec<&str> = answer["citations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["record_id"].as_str().unwrap())
        .collect();
    assert_eq!(cited, [middle.as_str(), newest.as_str()]);

    let calls = calls_sent(&fakes, 0);
    assert_eq!(
        record_ids(&calls),
        [oldest.as_str(), middle.as_str(), newest.as_str()]
    );
    assert!(!record_ids(&calls).contains(&theirs.as_str()));
    assert_eq!(calls[0]["call_at"], "2026-01-10T05:00:00Z");
    for (call, (first_turn, words)) in calls.iter().zip([(1, OLDEST), (3, MIDDLE), (5, NEWEST)]) {
        assert_eq!(call["transcript"][0]["turn"], first_turn);
        assert_eq!(call["transcript"][1]["text"], words);
        assert!(call.get("summary").is_none());
    }

    // The rival sees only their own call of the number.
    let response = app
        .post(
            "/chat/session",
            Some(&rival_token),
            &json!({"client_phone_number": "+998901111111"}),
        )
        .await;
    let rival_session = id(&response.json().await.unwrap(), "session_id");
    asked(&app, &rival_token, &rival_session, "Why?").await;
    assert_eq!(record_ids(&calls_sent(&fakes, 1)), [theirs.as_str()]);
}

#[tokio::test]
async fn older_calls_that_do_not_fit_the_context_are_reduced_to_their_summaries() {
    let fakes = FakeProviders::start().await;
    let greeting = "Assalomu alaykum.".chars().count();
    // Exactly the two newest transcripts.
    let budget = 2 * greeting + MIDDLE.chars().count() + NEWEST.chars().count();
    let app = spawn_app_with(|config| {
        use_fakes(config, &fakes);
        config.chat.context_chars = budget;
    })
    .await;
    let company = app.create_company("Chat LLC").await;
    app.fund(&company, 100_000).await;
    let (_, token) = app.member("agent", &company).await;
    let [oldest, middle, newest] = three_calls(&app, &fakes, &token).await;

    let response = app
        .post(
            "/chat/session",
            Some(&token),
            &json!({"client_phone_number": "+998901111111"}),
        )
        .await;
    let session_id = id(&response.json().await.unwrap(), "session_id");
    asked(&app, &token, &session_id, "What happened?").await;

    let calls = calls_sent(&fakes, 0);
    assert_eq!(
        record_ids(&calls),
        [oldest.as_str(), middle.as_str(), newest.as_str()]
    );
    assert_eq!(calls[0]["summary"], "The internet does not work.");
    assert!(calls[0].get("transcript").is_none());
    assert_eq!(calls[1]["transcript"][0]["turn"], 1);
    assert_eq!(calls[2]["transcript"][1]["text"], NEWEST);
    assert!(calls[2].get("summary").is_none());
}

#[tokio::test]
async fn a_number_without_visible_calls_is_404_and_the_body_names_exactly_one_subject() {
    let (app, fakes, _, token) = setup(0, 100_000).await;
    let record = processed_call(&app, &fakes, &token).await;
    let rival = app.create_company("Rival LLC").await;
    app.fund(&rival, 100_000).await;
    let (_, rival_token) = app.member("rival", &rival).await;
    number_call(
        &app,
        &fakes,
        &rival_token,
        "26.01.11-12:00:00_902222222_901.wav",
        "Raqibning qo'ng'irog'i.",
        "The rival's call.",
    )
    .await;

    for phone in ["+998902222222", "+998909999999"] {
        let response = app
            .post(
                "/chat/session",
                Some(&token),
                &json!({"client_phone_number": phone}),
            )
            .await;
        problem(response, 404).await;
    }
    for body in [
        json!({}),
        json!({"record_id": record, "client_phone_number": "+998902222222"}),
        json!({"client_phone_number": "not a number"}),
    ] {
        let response = app.post("/chat/session", Some(&token), &body).await;
        problem(response, 422).await;
    }
    let sessions = app.get_json("/chat/sessions", &token).await;
    assert_eq!(sessions["total"], 0);
}
