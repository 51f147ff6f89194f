//! Regression tests for the outside security and concurrency review: stale whole-row writes,
//! administrator takeover, leaked reservations, session revocation and hostile input. Races
//! are real concurrent requests, repeated so that the old behaviour fails reliably.

use dialix_tests::audio::{files, wav};
use dialix_tests::{TestApp, problem, spawn_app};
use futures_util::future::join_all;
use serde_json::{Value, json};

const ROUNDS: usize = 8;
const RACERS: usize = 6;

fn id(value: &Value) -> &str {
    value["id"].as_str().expect("an id")
}

/// Loops `PATCH /auth/me` as the user while `action` runs, then returns the action's status.
async fn while_the_user_edits_themselves(
    app: &TestApp,
    token: &str,
    action: impl std::future::Future<Output = reqwest::Response>,
) -> u16 {
    let bodies: Vec<Value> = (0..RACERS)
        .map(|i| json!({"preferred_language": (["uz", "ru", "en"][i % 3])}))
        .collect();
    let edits = bodies
        .iter()
        .map(|body| app.patch("/auth/me", Some(token), body));
    let (status, _) = tokio::join!(async { action.await.status().as_u16() }, join_all(edits));
    status
}

#[tokio::test]
async fn a_racing_self_edit_never_undoes_a_block_a_reset_or_a_deletion() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let admin = app.admin_token().await;
    for round in 0..ROUNDS {
        let name = format!("racer{round}");
        let email = format!("{name}@dialix.test");
        let (user, token) = app.member(&name, &acme).await;
        let path = format!("/admin/user/{user}");

        let status = while_the_user_edits_themselves(
            &app,
            &token,
            app.post(
                &format!("{path}/reset-password"),
                Some(&admin),
                &json!({"new_password": "reset-password"}),
            ),
        )
        .await;
        assert_eq!(status, 204, "round {round}: reset");
        problem(app.login(&email, "user-password").await, 401).await;
        let token = app.tokens(&email, "reset-password").await.access;

        let status = while_the_user_edits_themselves(
            &app,
            &token,
            app.post(&format!("{path}/block"), Some(&admin), &json!({})),
        )
        .await;
        assert_eq!(status, 200, "round {round}: block");
        let account = app.get_json(&path, &admin).await;
        assert_eq!(
            account["user"]["is_blocked"], true,
            "round {round}: {account}"
        );
        problem(app.login(&email, "reset-password").await, 403).await;

        assert_eq!(
            app.post(&format!("{path}/unblock"), Some(&admin), &json!({}))
                .await
                .status(),
            200
        );
        let token = app.tokens(&email, "reset-password").await.access;
        let status =
            while_the_user_edits_themselves(&app, &token, app.delete(&path, Some(&admin))).await;
        assert_eq!(status, 204, "round {round}: delete");
        let account = app.get_json(&path, &admin).await;
        assert_eq!(
            account["user"]["is_active"], false,
            "round {round}: {account}"
        );
        problem(app.login(&email, "reset-password").await, 403).await;
    }
}

#[tokio::test]
async fn concurrent_edits_of_different_fields_both_land() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let acme = app.create_company("Acme").await;
    let company = format!("/company/{}", id(&acme));
    let (_, token) = app.member("settler", &acme).await;
    for round in 0..ROUNDS {
        let description = format!("round {round}");
        let settings = json!({"round": round});
        let (describe, configure) = (
            json!({"description": description}),
            json!({"settings": settings}),
        );
        let (a, b) = tokio::join!(
            app.patch(&company, Some(&admin), &describe),
            app.patch(&company, Some(&admin), &configure),
        );
        assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
        let stored = app.get_json(&company, &admin).await;
        let stored = if stored.get("company").is_some() {
            stored["company"].clone()
        } else {
            stored
        };
        assert_eq!(stored["description"], description, "round {round}");
        assert_eq!(stored["settings"], settings, "round {round}");

        let timezone = ["Asia/Tashkent", "Europe/Moscow"][round % 2];
        let days = 10 + round as i64;
        let (zone, retention) = (
            json!({"timezone": timezone}),
            json!({"auto_delete_records_after_days": days}),
        );
        let (a, b) = tokio::join!(
            app.patch("/settings", Some(&token), &zone),
            app.patch("/settings", Some(&token), &retention),
        );
        assert_eq!((a.status().as_u16(), b.status().as_u16()), (200, 200));
        let stored = app.get_json("/settings", &token).await;
        assert_eq!(stored["timezone"], timezone, "round {round}");
        assert_eq!(
            stored["auto_delete_records_after_days"], days,
            "round {round}"
        );
    }
}

#[tokio::test]
async fn a_company_block_racing_an_edit_leaves_the_company_blocked() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for round in 0..ROUNDS {
        let company = app.create_company(&format!("Racing {round}")).await;
        let path = format!("/company/{}", id(&company));
        let (block_path, empty, edited) = (
            format!("{path}/block"),
            json!({}),
            json!({"description": "edited"}),
        );
        let (block, edit) = tokio::join!(
            app.post(&block_path, Some(&admin), &empty),
            app.patch(&path, Some(&admin), &edited),
        );
        assert_eq!(
            (block.status().as_u16(), edit.status().as_u16()),
            (200, 200)
        );
        let stored = app.get_json(&path, &admin).await;
        let stored = if stored.get("company").is_some() {
            stored["company"].clone()
        } else {
            stored
        };
        assert_eq!(stored["is_active"], false, "round {round}: {stored}");
        assert_eq!(stored["description"], "edited", "round {round}");
    }
}

/// A company with a plain member, an administrator holding only `can_manage_users` and a
/// co-administrator holding more.
struct Administered {
    company: Value,
    branch: Value,
    member: String,
    manager_token: String,
    co_admin: String,
}

async fn administered(app: &TestApp) -> Administered {
    let company = app.create_company("Acme").await;
    let (member, _) = app.member("member", &company).await;
    let (manager, manager_token) = app.member("manager", &company).await;
    app.grant(&company, &manager, json!({"can_manage_users": true}))
        .await;
    let (co_admin, _) = app.member("treasurer", &company).await;
    app.grant(
        &company,
        &co_admin,
        json!({"can_manage_users": true, "can_topup": true}),
    )
    .await;
    let branch = app
        .create_company_under("Acme Branch", Some(&company))
        .await;
    Administered {
        company,
        branch,
        member,
        manager_token,
        co_admin,
    }
}

#[tokio::test]
async fn an_administrator_cannot_take_over_a_co_administrator_with_more_rights() {
    let app = spawn_app().await;
    let acme = administered(&app).await;
    let token = Some(acme.manager_token.as_str());
    let co_admin = format!("/admin/user/{}", acme.co_admin);

    for (response, what) in [
        (
            app.post(
                &format!("{co_admin}/reset-password"),
                token,
                &json!({"new_password": "taken-over"}),
            )
            .await,
            "reset",
        ),
        (
            app.patch(&co_admin, token, &json!({"email": "mine@dialix.test"}))
                .await,
            "email",
        ),
        (
            app.post(&format!("{co_admin}/block"), token, &json!({}))
                .await,
            "block",
        ),
        (app.delete(&co_admin, token).await, "delete"),
        (
            app.post(
                &format!("/company/{}/transfer-user", id(&acme.branch)),
                token,
                &json!({"user_id": acme.co_admin, "from_company_id": id(&acme.company)}),
            )
            .await,
            "transfer",
        ),
    ] {
        assert_eq!(response.status(), 403, "{what}");
    }
    app.tokens("treasurer@dialix.test", "user-password").await;

    // Plain members are still theirs to manage.
    let member = format!("/admin/user/{}", acme.member);
    let reset = app
        .post(
            &format!("{member}/reset-password"),
            token,
            &json!({"new_password": "fresh-password"}),
        )
        .await;
    assert_eq!(reset.status(), 204);
}

#[tokio::test]
async fn credentials_of_an_administrator_with_equal_rights_are_for_platform_admins_only() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let (first_id, token) = app.member("first", &acme).await;
    app.grant(&acme, &first_id, json!({"can_manage_users": true}))
        .await;
    let (second, _) = app.member("second", &acme).await;
    app.grant(&acme, &second, json!({"can_manage_users": true}))
        .await;
    let path = format!("/admin/user/{second}");
    problem(
        app.post(
            &format!("{path}/reset-password"),
            Some(&token),
            &json!({"new_password": "taken-over"}),
        )
        .await,
        403,
    )
    .await;
    // Equal rights: blocking is allowed, credentials are not.
    assert_eq!(
        app.post(&format!("{path}/block"), Some(&token), &json!({}))
            .await
            .status(),
        200
    );
    let admin = app.admin_token().await;
    assert_eq!(
        app.post(
            &format!("{path}/reset-password"),
            Some(&admin),
            &json!({"new_password": "by-the-platform"}),
        )
        .await
        .status(),
        204
    );
}

#[tokio::test]
async fn a_sub_company_administrator_cannot_escape_its_subtree() {
    let app = spawn_app().await;
    let parent = app.create_company("Parent").await;
    let child = app.create_company_under("Child", Some(&parent)).await;
    // A parent administrator who is a member of the sub-company.
    let (boss, _) = app.member("boss", &child).await;
    app.grant(
        &parent,
        &boss,
        json!({"can_manage_users": true, "can_topup": true}),
    )
    .await;
    let (sub_id, sub_admin) = app.member("subadmin", &child).await;
    app.grant(&child, &sub_id, json!({"can_manage_users": true}))
        .await;

    let path = format!("/admin/user/{boss}");
    problem(
        app.post(
            &format!("{path}/reset-password"),
            Some(&sub_admin),
            &json!({"new_password": "now-i-am-boss"}),
        )
        .await,
        403,
    )
    .await;
    problem(
        app.post(&format!("{path}/block"), Some(&sub_admin), &json!({}))
            .await,
        403,
    )
    .await;
    problem(app.login("boss@dialix.test", "now-i-am-boss").await, 401).await;
}

#[tokio::test]
async fn deletion_is_final_for_company_administrators_and_platform_admins() {
    let app = spawn_app().await;
    let acme = administered(&app).await;
    let admin = app.admin_token().await;
    let member = format!("/admin/user/{}", acme.member);
    assert_eq!(app.delete(&member, Some(&admin)).await.status(), 204);

    problem(
        app.patch(
            &member,
            Some(&acme.manager_token),
            &json!({"is_active": true}),
        )
        .await,
        404,
    )
    .await;
    problem(
        app.patch(&member, Some(&admin), &json!({"is_active": true}))
            .await,
        409,
    )
    .await;
    problem(app.login("member@dialix.test", "user-password").await, 403).await;
}

#[tokio::test]
async fn users_of_a_blocked_company_stay_blocked_until_it_is_unblocked() {
    let app = spawn_app().await;
    let parent = app.create_company("Parent").await;
    let child = app.create_company_under("Child", Some(&parent)).await;
    let (manager, manager_token) = app.member("manager", &parent).await;
    app.grant(&parent, &manager, json!({"can_manage_users": true}))
        .await;
    let (worker, _) = app.member("worker", &child).await;
    let admin = app.admin_token().await;
    let child_path = format!("/company/{}", id(&child));
    assert_eq!(
        app.post(&format!("{child_path}/block"), Some(&admin), &json!({}))
            .await
            .status(),
        200
    );

    let unblock = format!("/admin/user/{worker}/unblock");
    for token in [&manager_token, &admin] {
        problem(app.post(&unblock, Some(token), &json!({})).await, 409).await;
    }
    problem(app.login("worker@dialix.test", "user-password").await, 403).await;
    // The company comes back only through unblock, which restores its accounts too.
    problem(
        app.patch(&child_path, Some(&admin), &json!({"is_active": true}))
            .await,
        409,
    )
    .await;
    // Nobody adds or moves users into a blocked company either.
    let created = app
        .post(
            "/admin/users",
            Some(&admin),
            &json!({"email": "late@dialix.test", "username": "late",
                    "password": "user-password", "company_id": id(&child)}),
        )
        .await;
    problem(created, 422).await;
    let (loner, _) = app.member("loner", &parent).await;
    problem(
        app.patch(
            &format!("/admin/user/{loner}"),
            Some(&manager_token),
            &json!({"company_id": id(&child)}),
        )
        .await,
        422,
    )
    .await;

    assert_eq!(
        app.post(&format!("{child_path}/unblock"), Some(&admin), &json!({}))
            .await
            .status(),
        200
    );
    app.tokens("worker@dialix.test", "user-password").await;
}

#[tokio::test]
async fn access_tokens_end_with_their_session() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let (user, _) = app.member("sessions", &acme).await;
    let email = "sessions@dialix.test";
    let admin = app.admin_token().await;
    let me = |token: String| {
        let app = &app;
        async move { app.get("/auth/me", Some(&token)).await.status() }
    };

    // Logout ends that session's access token, not the others'.
    let first = app.tokens(email, "user-password").await;
    let second = app.tokens(email, "user-password").await;
    let logout = app
        .post(
            "/auth/logout",
            None,
            &json!({"refresh_token": first.refresh}),
        )
        .await;
    assert!(logout.status().is_success());
    assert_eq!(me(first.access.clone()).await, 401);
    assert_eq!(me(second.access.clone()).await, 200);

    // A replayed refresh token revokes its session, access tokens included.
    let refreshed = app.refresh(&second.refresh).await;
    assert_eq!(refreshed.status(), 200);
    let refreshed: Value = refreshed.json().await.unwrap();
    let new_access = refreshed["access_token"].as_str().unwrap().to_owned();
    assert_eq!(me(new_access.clone()).await, 200);
    let replay = app.refresh(&second.refresh).await;
    assert_eq!(replay.status(), 401);
    assert_eq!(me(new_access).await, 401);
    assert_eq!(me(second.access).await, 401);

    // Changing the password ends every session.
    let third = app.tokens(email, "user-password").await;
    let changed = app
        .post(
            "/auth/change-password",
            Some(&third.access),
            &json!({"current_password": "user-password", "new_password": "changed-password"}),
        )
        .await;
    assert!(changed.status().is_success());
    assert_eq!(me(third.access).await, 401);

    // So does an administrator's reset.
    let fourth = app.tokens(email, "changed-password").await;
    let reset = app
        .post(
            &format!("/admin/user/{user}/reset-password"),
            Some(&admin),
            &json!({"new_password": "reset-password"}),
        )
        .await;
    assert_eq!(reset.status(), 204);
    assert_eq!(me(fourth.access).await, 401);
}

#[tokio::test]
async fn a_revoked_refresh_token_is_refused_without_being_called_theft() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let (user, _) = app.member("careful", &acme).await;
    let tokens = app.tokens("careful@dialix.test", "user-password").await;
    app.post(
        "/auth/logout",
        None,
        &json!({"refresh_token": tokens.refresh}),
    )
    .await;
    let refused = problem(app.refresh(&tokens.refresh).await, 401).await;
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("session has ended")
    );
    let admin = app.admin_token().await;
    let trail = app
        .get_json(&format!("/activity-logs/account/{user}?limit=200"), &admin)
        .await;
    let actions = dialix_tests::actions(&trail["items"]);
    assert!(actions.contains(&"LOGOUT".to_owned()), "{actions:?}");
    assert!(!actions.contains(&"TOKEN_REUSE".to_owned()), "{actions:?}");
}

#[tokio::test]
async fn failed_logins_count_per_account_and_throttling_is_audited_once() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let (guessed, _) = app.member("guessed", &acme).await;
    // Five failures spread over the email and the username of one account.
    for login in [
        "guessed@dialix.test",
        "guessed",
        "guessed@dialix.test",
        "guessed",
        "guessed",
    ] {
        problem(app.login(login, "wrong-password").await, 401).await;
    }
    problem(app.login("guessed@dialix.test", "user-password").await, 429).await;
    for _ in 0..10 {
        problem(app.login("guessed", "wrong-password").await, 429).await;
    }
    let admin = app.admin_token().await;
    let failed = app
        .get_json(
            &format!("/activity-logs/account/{guessed}?action=LOGIN_FAILED&limit=200"),
            &admin,
        )
        .await;
    let throttled = failed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["details"]["reason"] == "rate_limited")
        .count();
    assert_eq!(throttled, 1, "{failed}");
}

#[tokio::test]
async fn paging_beyond_what_the_database_binds_is_422() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for path in [
        "/records",
        "/admin/users",
        "/companies",
        "/activity-logs",
        "/operators",
    ] {
        let huge = format!("{path}?offset=9223372036854775808");
        let body = problem(app.get(&huge, Some(&admin)).await, 422).await;
        assert!(body["errors"]["offset"].is_string(), "{path}: {body}");
        let largest = format!("{path}?offset=9223372036854775807");
        let page = app.get_json(&largest, &admin).await;
        assert_eq!(page["items"], json!([]), "{path}");
    }
}

#[tokio::test]
async fn control_characters_in_any_text_input_are_422() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let acme = app.create_company("Acme").await;
    for path in [
        "/records?search=a%00b",
        "/records?phone=%00",
        "/records?operator_code=%00",
        "/records?transcript_contains=%00",
        "/activity-logs?resource_type=%00",
        "/activity-logs/%00/x",
        "/activity-logs/account/%00",
        "/admin/users?search=%00",
        "/companies?search=%0A",
        "/records/%00",
    ] {
        let body = problem(app.get(path, Some(&admin)).await, 422).await;
        assert!(
            body["detail"].as_str().unwrap().contains("control"),
            "{path}"
        );
    }
    let settings = problem(
        app.patch(
            &format!("/company/{}", id(&acme)),
            Some(&admin),
            &json!({"settings": {"greeting": "a\u{0}b"}}),
        )
        .await,
        422,
    )
    .await;
    assert!(settings["errors"]["settings"].is_string());
    let checklist = problem(
        app.post(
            "/checklists",
            Some(&admin),
            &json!({
                "company_id": id(&acme),
                "name": "QA",
                "segments": [{"title": "Greeting", "items": [{"text": "say\u{0}hi"}]}],
            }),
        )
        .await,
        422,
    )
    .await;
    assert!(checklist["errors"]["segments[0].items[0].text"].is_string());
}

#[tokio::test]
async fn a_range_up_to_the_largest_integer_is_served_not_overflowed() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let (_, token) = app.member("listener", &acme).await;
    let record: Vec<Value> = app
        .multipart("/records", &token, files(vec![("call.wav", wav(500))]))
        .await
        .json()
        .await
        .unwrap();
    let audio = format!("/records/{}/audio", id(&record[0]));
    let full = app.get(&audio, Some(&token)).await.bytes().await.unwrap();
    let ranged = app
        .client
        .get(app.url(&audio))
        .bearer_auth(&token)
        .header("range", "bytes=0-18446744073709551615")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(ranged.bytes().await.unwrap(), full);
    let beyond = app
        .client
        .get(app.url(&audio))
        .bearer_auth(&token)
        .header("range", "bytes=18446744073709551615-18446744073709551615")
        .send()
        .await
        .unwrap();
    assert_eq!(beyond.status(), 416);
}

#[tokio::test]
async fn audio_left_without_a_record_is_swept_and_recorded_audio_is_kept() {
    let app = spawn_app().await;
    let acme = app.create_company("Acme").await;
    let (_, token) = app.member("uploader", &acme).await;
    let kept = app
        .multipart("/records", &token, files(vec![("kept.wav", wav(500))]))
        .await;
    assert_eq!(kept.status(), 201);
    // What a crash between storing the file and committing its record leaves behind.
    let config = app.config();
    let audio_dir = app.audio_dir();
    let orphan = audio_dir.join("zz/orphan.wav");
    std::fs::create_dir_all(orphan.parent().unwrap()).unwrap();
    std::fs::write(&orphan, b"personal data").unwrap();
    let fresh = audio_dir.join("zz/uploading.wav");
    std::fs::write(&fresh, b"an upload still committing").unwrap();
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    std::fs::File::options()
        .write(true)
        .open(&orphan)
        .unwrap()
        .set_modified(two_hours_ago)
        .unwrap();
    for stored in std::fs::read_dir(&audio_dir).unwrap().flatten() {
        for file in std::fs::read_dir(stored.path()).unwrap().flatten() {
            std::fs::File::options()
                .write(true)
                .open(file.path())
                .unwrap()
                .set_modified(two_hours_ago)
                .unwrap();
        }
    }
    std::fs::File::options()
        .write(true)
        .open(&fresh)
        .unwrap()
        .set_modified(std::time::SystemTime::now())
        .unwrap();
    assert_eq!(app.stored_audio_files(), 3);

    let dry = dialix_api::startup::run_retention(&config, true)
        .await
        .unwrap();
    assert_eq!(dry.orphaned_audio, ["zz/orphan.wav"]);
    assert_eq!(app.stored_audio_files(), 3);
    let run = dialix_api::startup::run_retention(&config, false)
        .await
        .unwrap();
    assert_eq!(run.orphaned_audio, ["zz/orphan.wav"]);
    assert!(!orphan.exists());
    assert!(fresh.exists(), "files younger than the grace period stay");
    assert_eq!(app.stored_audio_files(), 2);
}
