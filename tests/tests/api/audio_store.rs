//! Audio in an S3-compatible bucket: a real S3 server (s3s over a temporary directory, with
//! signatures checked) started by the test, the Dialix server configured to use it.

use std::time::Duration;

use dialix_api::config::AudioPlayback;
use dialix_infrastructure::AudioLocation;
use dialix_tests::audio::{files, wav};
use dialix_tests::s3::S3Server;
use dialix_tests::{TestApp, spawn_app_with, test_config};
use reqwest::header::{CONTENT_RANGE, LOCATION, RANGE};
use serde_json::Value;

const PREFIX: &str = "calls/audio";

async fn upload(app: &TestApp, token: &str, name: &str, bytes: Vec<u8>) -> Value {
    let response = app
        .multipart("/records", token, files(vec![(name, bytes)]))
        .await;
    assert_eq!(response.status(), 201, "upload should succeed");
    let mut records: Vec<Value> = response.json().await.unwrap();
    records.remove(0)
}

fn audio_path(record: &Value) -> String {
    format!("/records/{}/audio", record["id"].as_str().unwrap())
}

/// GETs the record's audio, optionally with a `Range` header.
async fn play(
    app: &TestApp,
    token: &str,
    record: &Value,
    range: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .client
        .get(app.url(&audio_path(record)))
        .bearer_auth(token);
    if let Some(range) = range {
        request = request.header(RANGE, range);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn uploads_land_in_the_bucket_and_play_back_by_range() {
    let s3 = S3Server::start().await;
    let app = spawn_app_with(|config| config.audio_store = s3.location(PREFIX)).await;
    let acme = app.create_company("Acme").await;
    let (_, token) = app.member("uploader", &acme).await;
    let audio = wav(2000);
    let record = upload(&app, &token, "call.wav", audio.clone()).await;

    let objects = s3.objects();
    assert_eq!(objects.len(), 1, "{objects:?}");
    assert!(objects[0].starts_with("calls/audio/"), "{objects:?}");
    assert_eq!(s3.object(&objects[0]).unwrap(), audio);

    let whole = play(&app, &token, &record, None).await;
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.bytes().await.unwrap(), audio);
    let part = play(&app, &token, &record, Some("bytes=100-1099")).await;
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()[CONTENT_RANGE],
        format!("bytes 100-1099/{}", audio.len()).as_str()
    );
    assert_eq!(part.bytes().await.unwrap(), &audio[100..1100]);
    let tail = play(&app, &token, &record, Some("bytes=-50")).await;
    assert_eq!(tail.status(), 206);
    assert_eq!(tail.bytes().await.unwrap(), &audio[audio.len() - 50..]);
    let beyond = play(&app, &token, &record, Some("bytes=999999-")).await;
    assert_eq!(beyond.status(), 416);
    assert!(
        s3.requests()
            .iter()
            .any(|r| r.starts_with("HEAD /dialix-audio/calls/audio/")),
        "the size is asked with HEAD"
    );
}

#[tokio::test]
async fn a_large_upload_goes_in_parts_and_reads_back_whole() {
    let s3 = S3Server::start().await;
    let app = spawn_app_with(|config| {
        config.audio_store = s3.location(PREFIX);
        config.max_upload_bytes = 16 * 1024 * 1024;
    })
    .await;
    let acme = app.create_company("Acme").await;
    let (_, token) = app.member("uploader", &acme).await;
    // 10 minutes of 8 kHz 16-bit mono: 9.6 MB, over the 8 MiB multipart threshold.
    let audio = wav(600_000);
    assert!(audio.len() > 8 * 1024 * 1024);
    let record = upload(&app, &token, "long.wav", audio.clone()).await;

    let requests = s3.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("POST /dialix-audio/calls/audio/") && r.contains("?uploads")),
        "a multipart upload was started: {requests:?}"
    );
    let parts = requests
        .iter()
        .filter(|r| r.starts_with("PUT ") && r.contains("partNumber="))
        .count();
    assert_eq!(parts, 2, "8 MiB and the rest: {requests:?}");
    assert_eq!(s3.object(&s3.objects()[0]).unwrap(), audio);

    let whole = play(&app, &token, &record, None).await;
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.bytes().await.unwrap(), audio);
    let across_parts = 8 * 1024 * 1024 - 10;
    let range = format!("bytes={across_parts}-{}", across_parts + 19);
    let part = play(&app, &token, &record, Some(&range)).await;
    assert_eq!(
        part.bytes().await.unwrap(),
        &audio[across_parts..across_parts + 20]
    );
}

#[tokio::test]
async fn redirect_playback_sends_players_to_a_presigned_url() {
    let s3 = S3Server::start().await;
    let app = spawn_app_with(|config| {
        config.audio_store = s3.location(PREFIX);
        config.audio_playback = AudioPlayback::Redirect {
            ttl: Duration::from_secs(3),
        };
    })
    .await;
    let acme = app.create_company("Acme").await;
    let (_, token) = app.member("uploader", &acme).await;
    let audio = wav(1500);
    let record = upload(&app, &token, "call.wav", audio.clone()).await;

    let not_following = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirect = not_following
        .get(app.url(&audio_path(&record)))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), 307);
    assert_eq!(redirect.headers()["cache-control"], "private, no-store");
    let url = redirect.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(url.starts_with(&s3.endpoint), "{url}");
    assert!(url.contains("X-Amz-Signature="), "{url}");

    let plain = reqwest::Client::new();
    let fetched = plain.get(&url).send().await.unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.bytes().await.unwrap(), audio);
    let ranged = plain
        .get(&url)
        .header(RANGE, "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(ranged.bytes().await.unwrap(), &audio[10..20]);
    // A player following the redirect gets the file (its bearer token stays behind).
    let followed = play(&app, &token, &record, None).await;
    assert_eq!(followed.status(), 200);
    assert_eq!(followed.bytes().await.unwrap(), audio);

    let signature_at = url.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len();
    let mut tampered = url.clone();
    let flipped = if &url[signature_at..=signature_at] == "0" {
        "1"
    } else {
        "0"
    };
    tampered.replace_range(signature_at..=signature_at, flipped);
    assert_eq!(plain.get(&tampered).send().await.unwrap().status(), 403);
    let other_key = url.replacen("/calls/audio/", "/calls/other/", 1);
    assert_eq!(plain.get(&other_key).send().await.unwrap().status(), 403);

    tokio::time::sleep(Duration::from_millis(4500)).await;
    let expired = plain.get(&url).send().await.unwrap();
    assert_eq!(expired.status(), 403, "the URL is valid for 3 s only");
}

#[tokio::test]
async fn deleting_a_record_or_expiring_it_removes_the_object() {
    let s3 = S3Server::start().await;
    let app = spawn_app_with(|config| config.audio_store = s3.location(PREFIX)).await;
    let acme = app.create_company("Acme").await;
    let (_, token) = app.member("uploader", &acme).await;
    let deleted = upload(&app, &token, "deleted.wav", wav(500)).await;
    assert_eq!(s3.objects().len(), 1);
    let path = format!("/records/{}", deleted["id"].as_str().unwrap());
    assert_eq!(app.delete(&path, Some(&token)).await.status(), 204);
    assert!(s3.objects().is_empty());

    upload(&app, &token, "expired.wav", wav(500)).await;
    let kept = upload(&app, &token, "kept.wav", wav(500)).await;
    let day_ms = 86_400_000i64;
    app.execute_sql(&format!(
        "UPDATE record SET created_at = created_at - {} WHERE original_filename = 'expired.wav'",
        400 * day_ms
    ))
    .await;
    // What a crash between storing a file and committing its record leaves behind, old
    // enough to be swept (the emulator dates objects by their file's time).
    let orphan = s3.root.join(&s3.bucket).join("calls/audio/zz/orphan.wav");
    std::fs::create_dir_all(orphan.parent().unwrap()).unwrap();
    std::fs::write(&orphan, b"personal data").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&orphan)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - Duration::from_secs(7200))
        .unwrap();
    assert_eq!(s3.objects().len(), 3);

    let report = dialix_api::startup::run_retention(&app.config(), false)
        .await
        .unwrap();
    let names: Vec<&str> = report
        .records
        .iter()
        .map(|r| r.original_filename.as_str())
        .collect();
    assert_eq!(names, ["expired.wav"]);
    assert_eq!(report.orphaned_audio, ["zz/orphan.wav"]);
    let left = s3.objects();
    assert_eq!(left.len(), 1, "{left:?}");
    let kept_audio = play(&app, &token, &kept, None).await;
    assert_eq!(
        kept_audio.bytes().await.unwrap(),
        s3.object(&left[0]).unwrap()
    );
}

#[tokio::test]
async fn copying_a_file_store_to_the_bucket_is_idempotent_and_resumable() {
    let s3 = S3Server::start().await;
    let directory = std::env::temp_dir().join(format!("dialix-copy-{}", uuid::Uuid::now_v7()));
    let files = [
        ("0a/first.wav", wav(300)),
        ("1b/second.mp3", b"ID3 second".to_vec()),
        ("2c/third.ogg", vec![7u8; 50_000]),
    ];
    for (key, bytes) in &files {
        let path = directory.join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let mut config = test_config(String::new());
    config.audio_store = AudioLocation::Directory(directory.clone());
    let target = s3.location(PREFIX);
    let total_bytes: u64 = files.iter().map(|(_, b)| b.len() as u64).sum();

    let mut seen = Vec::new();
    let first = dialix_api::audio_copy::copy_audio_store(&config, &target, |p| {
        seen.push((p.done, p.total))
    })
    .await
    .unwrap();
    assert_eq!((first.copied, first.bytes_copied), (3, total_bytes));
    assert_eq!(seen, [(1, 3), (2, 3), (3, 3)]);
    for (key, bytes) in &files {
        assert_eq!(s3.object(&format!("{PREFIX}/{key}")).as_ref(), Some(bytes));
    }

    let puts = |s3: &S3Server| {
        s3.requests()
            .into_iter()
            .filter(|r| r.starts_with("PUT "))
            .collect::<Vec<_>>()
    };
    let before = puts(&s3).len();
    let again = dialix_api::audio_copy::copy_audio_store(&config, &target, |_| {})
        .await
        .unwrap();
    assert_eq!((again.copied, again.done), (0, 3));
    assert_eq!(puts(&s3).len(), before, "nothing is sent twice");

    // An interrupted copy: one object never arrived.
    std::fs::remove_file(
        s3.root
            .join(&s3.bucket)
            .join(format!("{PREFIX}/1b/second.mp3")),
    )
    .unwrap();
    let resumed = dialix_api::audio_copy::copy_audio_store(&config, &target, |_| {})
        .await
        .unwrap();
    assert_eq!((resumed.copied, resumed.bytes_copied), (1, 10));
    let sent = puts(&s3);
    assert_eq!(sent.len(), before + 1);
    assert!(sent[before].contains("/1b/second.mp3"), "{sent:?}");
    assert_eq!(
        s3.object(&format!("{PREFIX}/1b/second.mp3")).unwrap(),
        b"ID3 second"
    );

    // Requests are really signed: a wrong secret gets nothing through.
    let AudioLocation::S3(mut forged) = s3.location(PREFIX) else {
        unreachable!("an S3 location")
    };
    forged.secret_access_key = "not-the-secret".into();
    let refused =
        dialix_api::audio_copy::copy_audio_store(&config, &AudioLocation::S3(forged), |_| {}).await;
    let error = refused.expect_err("a bad signature is refused").to_string();
    assert!(error.contains("SignatureDoesNotMatch"), "{error}");
    std::fs::remove_dir_all(directory).ok();
}
