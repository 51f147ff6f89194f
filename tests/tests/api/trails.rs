//! Who may read the activity-log trail of each kind of resource: every resource type ×
//! its owner, an administrator of an ancestor company, another company's administrator and a
//! platform admin.

use dialix_tests::audio::{files, wav};
use dialix_tests::spawn_app;
use serde_json::{Value, json};

fn id(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_owned()
}

#[tokio::test]
async fn every_resource_trail_is_readable_by_exactly_who_the_rule_says() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let acme = app.create_company("Acme").await;
    let branch = app.create_company_under("Acme Branch", Some(&acme)).await;
    let other = app.create_company("Other").await;

    // The owner is a member of the sub-company, with a grant of its own there.
    let (owner_id, owner) = app.member("owner", &branch).await;
    app.grant(&branch, &owner_id, json!({"can_view_records": true}))
        .await;
    let settings = app
        .patch(
            "/settings",
            Some(&owner),
            &json!({"timezone": "Asia/Tashkent"}),
        )
        .await;
    assert_eq!(settings.status(), 200);
    let uploaded: Vec<Value> = app
        .multipart("/records", &owner, files(vec![("call.wav", wav(500))]))
        .await
        .json()
        .await
        .unwrap();
    let operator: Value = app
        .post(
            "/operators",
            Some(&admin),
            &json!({"code": "101", "name": "Dilnoza", "company_id": id(&branch)}),
        )
        .await
        .json()
        .await
        .unwrap();
    let checklist: Value = app
        .post(
            "/checklists",
            Some(&admin),
            &json!({"name": "QA", "company_id": id(&branch),
                    "segments": [{"title": "Greeting", "items": [{"text": "Say hello"}]}]}),
        )
        .await
        .json()
        .await
        .unwrap();

    // An administrator of the parent company, and one of an unrelated company.
    let (ancestor_admin_id, ancestor_admin) = app.member("ancestor", &acme).await;
    app.grant(
        &acme,
        &ancestor_admin_id,
        json!({"can_view_activity_logs": true}),
    )
    .await;
    let (stranger_id, stranger) = app.member("stranger", &other).await;
    app.grant(
        &other,
        &stranger_id,
        json!({"can_view_activity_logs": true}),
    )
    .await;

    let resources = [
        ("account", owner_id.clone()),
        ("user_settings", owner_id.clone()),
        ("company_administrator", owner_id.clone()),
        ("record", id(&uploaded[0])),
        ("company", id(&branch)),
        ("operator", id(&operator)),
        ("checklist", id(&checklist)),
        ("activity_log", uuid::Uuid::now_v7().to_string()),
    ];
    // Expected status per reader: owner, ancestor administrator, stranger, platform admin.
    let expected: [(&str, [u16; 4]); 8] = [
        ("account", [200, 200, 404, 200]),
        ("user_settings", [200, 200, 404, 200]),
        ("company_administrator", [200, 200, 404, 200]),
        ("record", [200, 200, 404, 200]),
        ("company", [404, 200, 404, 200]),
        ("operator", [404, 200, 404, 200]),
        ("checklist", [404, 200, 404, 200]),
        ("activity_log", [404, 404, 404, 200]),
    ];
    let readers = [
        ("owner", &owner),
        ("ancestor administrator", &ancestor_admin),
        ("stranger", &stranger),
        ("platform admin", &admin),
    ];
    for ((resource_type, resource_id), (listed, statuses)) in resources.iter().zip(expected) {
        assert_eq!(*resource_type, listed);
        let path = format!("/activity-logs/{resource_type}/{resource_id}");
        for ((reader, token), status) in readers.iter().zip(statuses) {
            let response = app.get(&path, Some(token)).await;
            assert_eq!(response.status(), status, "{path} as the {reader}");
            if status == 200 && *resource_type != "activity_log" {
                let trail: Value = response.json().await.unwrap();
                assert!(
                    trail["total"].as_u64().unwrap() >= 1,
                    "{path} has an empty trail"
                );
            }
        }
    }
    let unknown = app.get("/activity-logs/invoice/1", Some(&admin)).await;
    assert_eq!(unknown.status(), 404);
    let filtered = app
        .get("/activity-logs?resource_type=invoice", Some(&admin))
        .await;
    assert_eq!(filtered.status(), 422);
}
