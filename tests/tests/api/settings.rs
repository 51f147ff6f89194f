use dialix_tests::{problem, spawn_app};
use serde_json::{Value, json};

#[tokio::test]
async fn settings_start_from_the_defaults_and_change_with_validation() {
    let app = spawn_app().await;
    let user = app.user_token("tuner").await;
    let other = app.user_token("bystander").await;

    let defaults = app.get_json("/settings", &user).await;
    assert_eq!(defaults["email_notifications"], true);
    assert_eq!(defaults["sms_notifications"], false);
    assert_eq!(defaults["push_notifications"], true);
    assert_eq!(defaults["language"], "uz");
    assert_eq!(defaults["timezone"], "Asia/Tashkent");
    assert_eq!(defaults["auto_delete_records_after_days"], 90);
    assert_eq!(defaults["preferred_stt_model"], "mohirai");
    assert_eq!(
        app.get_json("/settings", &user).await,
        defaults,
        "read twice, created once"
    );

    let changed = app
        .patch(
            "/settings",
            Some(&user),
            &json!({"language": "en", "timezone": "Europe/Moscow", "sms_notifications": true,
                    "auto_delete_records_after_days": null, "preferred_stt_model": "whisper"}),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(changed["language"], "en");
    assert_eq!(changed["auto_delete_records_after_days"], Value::Null);
    assert_eq!(app.get_json("/settings", &other).await["language"], "uz");

    for (body, field) in [
        (json!({"language": "fr"}), "language"),
        (json!({"timezone": "Mars/Olympus"}), "timezone"),
        (
            json!({"auto_delete_records_after_days": 0}),
            "auto_delete_records_after_days",
        ),
        (
            json!({"auto_delete_records_after_days": 3651}),
            "auto_delete_records_after_days",
        ),
        (
            json!({"preferred_stt_model": "gpt-99"}),
            "preferred_stt_model",
        ),
    ] {
        let body = problem(app.patch("/settings", Some(&user), &body).await, 422).await;
        assert!(body["errors"][field].is_string(), "{body}");
    }
    problem(
        app.patch("/settings", Some(&user), &json!({"theme": "dark"}))
            .await,
        422,
    )
    .await;
    problem(app.get("/settings", None).await, 401).await;

    let me = app.get_json("/auth/me", &user).await;
    let trail = app
        .get_json(
            &format!(
                "/activity-logs/user_settings/{}?action=UPDATE",
                me["id"].as_str().unwrap()
            ),
            &app.admin_token().await,
        )
        .await;
    assert_eq!(trail["total"], 1);
    assert_eq!(
        trail["items"][0]["details"]["changes"]["timezone"],
        json!({"old_value": "Asia/Tashkent", "new_value": "Europe/Moscow"})
    );
}
