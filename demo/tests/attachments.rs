//! Attachments (SPEC §7.4) against real PostgreSQL and the local file store, through the JSON
//! API, the WebSocket and the server API as clients use them: the content type is sniffed
//! from the bytes whatever the name and header say; files over the limit (declared or not)
//! and over a person's total answer 413 while other requests keep their 64 KiB limit;
//! downloads are for members only (404 for anyone else, as for unknown ids); a send attaches
//! its uploads in its own commit exactly once, retries included, and every member sees them
//! live and in history; uploads no message took are swept; damaged images and images past
//! the decoding limits are clear errors; JPEGs come back without their EXIF (GPS) segment.

mod common;

use std::io::Cursor;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{TestApp, TestResponse, TestUser, WsClient};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use parley::server::Settings;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

/// A `width` × `height` picture with some detail (so its thumbnail is much smaller).
fn picture(width: u32, height: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x % 251) as u8, (y % 241) as u8, ((x * y) % 239) as u8])
    }))
}

fn encoded(picture: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    picture
        .write_to(&mut Cursor::new(&mut bytes), format)
        .expect("encodes");
    bytes
}

/// A JPEG with an APP1 "Exif" segment carrying a GPS IFD, spliced in after SOI.
fn jpeg_with_gps() -> Vec<u8> {
    let jpeg = encoded(&picture(200, 150), ImageFormat::Jpeg);
    // TIFF header (little endian), IFD0 with one entry: GPSInfo (0x8825) → offset 26; the GPS
    // IFD with GPSLatitudeRef 'N'.
    let mut tiff: Vec<u8> = vec![b'I', b'I', 42, 0, 8, 0, 0, 0];
    tiff.extend_from_slice(&[1, 0]); // one entry
    tiff.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0, 26, 0, 0, 0]);
    tiff.extend_from_slice(&[0, 0, 0, 0]); // no next IFD
    tiff.extend_from_slice(&[1, 0]); // GPS IFD: one entry
    tiff.extend_from_slice(&[1, 0, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    tiff.extend_from_slice(b"GPS-MARKER-51.5N");
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let length = (app1.len() + 2) as u16;
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A download as `user`: its status, headers and bytes.
async fn get_bytes(
    app: &TestApp,
    path: &str,
    user: &TestUser,
) -> (StatusCode, header::HeaderMap, Vec<u8>) {
    let response = app.call(Method::GET, path, user, None).await;
    (response.status, response.headers, response.bytes)
}

/// Uploads `bytes` as `user` to `channel` named `name`, declaring `content_type` (ignored by
/// the server) and, when asked, the length.
async fn upload(
    app: &TestApp,
    user: &TestUser,
    channel: &str,
    name: &str,
    content_type: &str,
    bytes: Vec<u8>,
    declare_length: bool,
) -> TestResponse {
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/chat/channels/{channel}/uploads?name={name}"))
        .header(header::COOKIE, &user.cookie)
        .header(header::CONTENT_TYPE, content_type);
    if declare_length {
        builder = builder.header(header::CONTENT_LENGTH, bytes.len());
    }
    app.send_request(builder.body(Body::from(bytes)).expect("request"))
        .await
}

async fn uploaded(
    app: &TestApp,
    user: &TestUser,
    channel: &str,
    name: &str,
    bytes: Vec<u8>,
) -> Value {
    let response = upload(
        app,
        user,
        channel,
        name,
        "application/octet-stream",
        bytes,
        true,
    )
    .await;
    assert_eq!(
        response.status,
        StatusCode::CREATED,
        "upload: {}",
        response.text
    );
    response.json()
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().unwrap_or_default().to_owned()
}

async fn send(app: &TestApp, user: &TestUser, body: Value) -> TestResponse {
    app.post_json("/api/chat/messages", body, Some(&user.cookie))
        .await
}

async fn two_people(app: &TestApp) -> (TestUser, TestUser, String) {
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let channel = app.channel(&ann, &[&bob], None).await;
    (ann, bob, id_of(&channel))
}

#[sqlx::test]
async fn the_content_type_is_sniffed_from_the_bytes_never_the_name_or_header(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (ann, bob, channel) = two_people(&app).await;
    let png = encoded(&picture(1200, 900), ImageFormat::Png);
    let original_size = png.len();
    // A PNG called notes.txt, declared text/plain.
    let response = upload(&app, &ann, &channel, "notes.txt", "text/plain", png, false).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    let image = response.json();
    assert_eq!(image["content_type"], "image/png");
    assert_eq!(image["thumbnail"], true);
    assert_eq!(
        (image["width"].as_i64(), image["height"].as_i64()),
        (Some(1200), Some(900))
    );
    // Text called photo.png, declared image/png; and HTML, declared text/html.
    let text = upload(
        &app,
        &ann,
        &channel,
        "photo.png",
        "image/png",
        b"hello there\n".to_vec(),
        true,
    )
    .await;
    assert_eq!(text.status, StatusCode::CREATED, "{}", text.text);
    let text = text.json();
    assert_eq!(text["content_type"], "text/plain; charset=utf-8");
    assert_eq!(text["thumbnail"], false);
    assert_eq!(text["size"], 12);
    let sent = send(
        &app,
        &ann,
        json!({"channel_id": channel, "text": "", "attachments": [id_of(&image), id_of(&text)]}),
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);

    // Bob downloads the text: our content type, nosniff, a download under a safe name.
    let (status, headers, bytes) = get_bytes(
        &app,
        &format!("/api/chat/attachments/{}", id_of(&text)),
        &bob,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, b"hello there\n");
    assert_eq!(headers[header::CONTENT_TYPE], "text/plain; charset=utf-8");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let disposition = headers[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap_or_default();
    assert!(
        disposition.starts_with("attachment; filename=\"photo.png\""),
        "{disposition}"
    );

    // The image, re-encoded by us, is served inline; its thumbnail is small.
    let (status, headers, full) = get_bytes(
        &app,
        &format!("/api/chat/attachments/{}", id_of(&image)),
        &bob,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "image/png");
    assert!(headers.get(header::CONTENT_DISPOSITION).is_none());
    assert!(image::guess_format(&full).is_ok_and(|f| f == ImageFormat::Png));
    let (status, headers, thumb) = get_bytes(
        &app,
        &format!("/api/chat/attachments/{}/thumbnail", id_of(&image)),
        &bob,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "image/jpeg");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let small = image::load_from_memory(&thumb).expect("a thumbnail that decodes");
    assert_eq!((small.width(), small.height()), (320, 240));
    assert!(
        thumb.len() < original_size / 4,
        "{} vs {original_size}",
        thumb.len()
    );
    // A file with no thumbnail has no thumbnail route.
    let (status, _, _) = get_bytes(
        &app,
        &format!("/api/chat/attachments/{}/thumbnail", id_of(&text)),
        &bob,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[sqlx::test]
async fn files_over_the_limit_or_the_quota_answer_413_and_other_bodies_keep_64_kib(pool: PgPool) {
    let mut settings = Settings::default();
    settings.limits.sign_ups = parley::server::limits::Rate::new(100_000, 100_000);
    settings.uploads.max_bytes = 100_000;
    settings.uploads.quota_bytes = 150_000;
    let app = TestApp::with_settings(pool, settings).await;
    let (ann, _bob, channel) = two_people(&app).await;
    // Declared: refused before a byte is read. Not declared: refused as the bytes pass it.
    for declared in [true, false] {
        let response = upload(
            &app,
            &ann,
            &channel,
            "big.bin",
            "application/octet-stream",
            vec![7; 100_001],
            declared,
        )
        .await;
        assert_eq!(
            response.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{}",
            response.text
        );
        assert_eq!(response.error_code(), "payload_too_large");
        let message = response.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            message.contains("too large") && message.contains("97.7 KB"),
            "{message}"
        );
    }
    // Up to the limit is fine (and far over 64 KiB); the second file passes the quota.
    uploaded(&app, &ann, &channel, "a.bin", vec![7; 100_000]).await;
    let response = upload(
        &app,
        &ann,
        &channel,
        "b.bin",
        "application/octet-stream",
        vec![7; 60_000],
        true,
    )
    .await;
    assert_eq!(
        response.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        response.text
    );
    assert!(response.text.contains("upload space"), "{}", response.text);
    // A JSON body is still held to 64 KiB.
    let long = "x".repeat(70_000);
    let response = send(&app, &ann, json!({"channel_id": channel, "text": long})).await;
    assert_eq!(
        response.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        response.text
    );
}

#[sqlx::test]
async fn only_members_download_and_everyone_else_gets_404(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (ann, bob, channel) = two_people(&app).await;
    let cat = app.user("cat").await;
    let png = uploaded(
        &app,
        &ann,
        &channel,
        "a.png",
        encoded(&picture(400, 300), ImageFormat::Png),
    )
    .await;
    let file = uploaded(&app, &ann, &channel, "a.txt", b"secret".to_vec()).await;
    let urls = [
        format!("/api/chat/attachments/{}", id_of(&png)),
        format!("/api/chat/attachments/{}/thumbnail", id_of(&png)),
        format!("/api/chat/attachments/{}", id_of(&file)),
    ];
    // Before the send: the uploader only.
    for url in &urls {
        assert_eq!(get_bytes(&app, url, &ann).await.0, StatusCode::OK, "{url}");
        assert_eq!(
            get_bytes(&app, url, &bob).await.0,
            StatusCode::NOT_FOUND,
            "{url}"
        );
    }
    let sent = send(
        &app,
        &ann,
        json!({"channel_id": channel, "text": "files", "attachments": [id_of(&png), id_of(&file)]}),
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    for url in &urls {
        assert_eq!(get_bytes(&app, url, &bob).await.0, StatusCode::OK, "{url}");
        let (status, _, body) = get_bytes(&app, url, &cat).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{url}");
        assert!(!contains(&body, b"secret"));
    }
    let unknown = format!("/api/chat/attachments/{}", Uuid::new_v4());
    assert_eq!(
        get_bytes(&app, &unknown, &bob).await.0,
        StatusCode::NOT_FOUND
    );
    // Cat can neither upload to the conversation nor attach Ann's files.
    let response = upload(
        &app,
        &cat,
        &channel,
        "x.txt",
        "text/plain",
        b"x".to_vec(),
        true,
    )
    .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    // Once the message is deleted, its files are gone for everyone.
    let message = id_of(&sent.json());
    let deleted = app
        .request(
            Method::DELETE,
            &format!("/api/chat/messages/{message}"),
            None,
            Some(&ann.cookie),
        )
        .await;
    assert!(deleted.status.is_success(), "{}", deleted.text);
    for url in &urls {
        assert_eq!(
            get_bytes(&app, url, &bob).await.0,
            StatusCode::NOT_FOUND,
            "{url}"
        );
    }
}

#[sqlx::test]
async fn a_send_attaches_its_uploads_exactly_once_and_members_see_them_live(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let addr = app.serve().await;
    let (ann, bob, channel) = two_people(&app).await;
    let mut bobs = WsClient::open(addr, &bob, json!([])).await;
    let first = uploaded(&app, &ann, &channel, "one.txt", b"one".to_vec()).await;
    let second = uploaded(&app, &ann, &channel, "two.txt", b"two".to_vec()).await;
    let id = Uuid::new_v4();
    let body = json!({"id": id, "channel_id": channel, "text": "", "attachments": [id_of(&second), id_of(&first)]});
    let sent = send(&app, &ann, body.clone()).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    let message = sent.json();
    let names = |m: &Value| -> Vec<String> {
        m["attachments"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| f["name"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(names(&message), ["two.txt", "one.txt"]);
    assert_eq!(message["text"], "");
    // A retry with the same id: the same message, not attached twice, not refused.
    let again = send(&app, &ann, body).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(again.json()["seq"], message["seq"]);
    assert_eq!(names(&again.json()), ["two.txt", "one.txt"]);
    // Another message cannot take them.
    let stolen = send(
        &app,
        &ann,
        json!({"channel_id": channel, "text": "again", "attachments": [id_of(&first)]}),
    )
    .await;
    assert_eq!(stolen.status, StatusCode::BAD_REQUEST, "{}", stolen.text);
    // Bob got the message live with its files, and history has them.
    let events = bobs.until("message").await;
    let live = &events[events.len() - 1]["message"];
    assert_eq!(names(live), ["two.txt", "one.txt"]);
    let page = app
        .get(
            &format!("/api/chat/channels/{channel}/messages"),
            Some(&bob.cookie),
        )
        .await;
    assert_eq!(names(&page.json()["messages"][0]), ["two.txt", "one.txt"]);
    // No text and no files is still refused; nor more than ten files.
    let empty = send(&app, &ann, json!({"channel_id": channel, "text": " "})).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    let many: Vec<Uuid> = (0..11).map(|_| Uuid::new_v4()).collect();
    let too_many = send(
        &app,
        &ann,
        json!({"channel_id": channel, "text": "x", "attachments": many}),
    )
    .await;
    assert_eq!(too_many.status, StatusCode::BAD_REQUEST);
    assert!(too_many.text.contains("At most 10"), "{}", too_many.text);

    // Over the socket: `send` with attachments, acknowledged with them; a resend is the same.
    let mut anns = WsClient::open(addr, &ann, json!([])).await;
    let third = uploaded(&app, &ann, &channel, "three.txt", b"three".to_vec()).await;
    let frame = json!({"type": "send", "id": Uuid::new_v4(), "channel_id": channel, "text": "by socket", "attachments": [id_of(&third)]});
    for _ in 0..2 {
        anns.send(frame.clone()).await;
        let events = anns.until("ack").await;
        let ack = &events[events.len() - 1];
        assert_eq!(names(&ack["message"]), ["three.txt"], "{ack}");
    }
    let count: i64 =
        sqlx::query_scalar("SELECT count(*) FROM chat_attachments WHERE message_id IS NOT NULL")
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(count, 3);
}

#[sqlx::test]
async fn uploads_no_message_took_are_swept(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (ann, _bob, channel) = two_people(&app).await;
    let kept = uploaded(
        &app,
        &ann,
        &channel,
        "kept.png",
        encoded(&picture(500, 400), ImageFormat::Png),
    )
    .await;
    let left = uploaded(
        &app,
        &ann,
        &channel,
        "left.png",
        encoded(&picture(500, 400), ImageFormat::Png),
    )
    .await;
    let sent = send(
        &app,
        &ann,
        json!({"channel_id": channel, "text": "one", "attachments": [id_of(&kept)]}),
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    // Not old enough yet: nothing goes.
    let swept = parley::server::attachments::sweep(&app.state, Duration::from_secs(3600))
        .await
        .expect("sweeps");
    assert_eq!(swept, 0);
    let swept = parley::server::attachments::sweep(&app.state, Duration::ZERO)
        .await
        .expect("sweeps");
    assert_eq!(swept, 1);
    let gone = format!("/api/chat/attachments/{}", id_of(&left));
    assert_eq!(get_bytes(&app, &gone, &ann).await.0, StatusCode::NOT_FOUND);
    let file = app
        .state
        .settings
        .uploads
        .dir
        .join("files")
        .join(id_of(&left));
    assert!(!file.exists(), "the bytes are deleted too");
    let thumb = app
        .state
        .settings
        .uploads
        .dir
        .join("thumbnails")
        .join(id_of(&left));
    assert!(!thumb.exists());
    let kept = format!("/api/chat/attachments/{}", id_of(&kept));
    assert_eq!(get_bytes(&app, &kept, &ann).await.0, StatusCode::OK);
}

#[sqlx::test]
async fn deleted_messages_and_conversations_take_their_files_with_them(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let (ann, bob, channel) = two_people(&app).await;
    let stored = |id: &str| {
        let dir = &app.state.settings.uploads.dir;
        (dir.join("files").join(id), dir.join("thumbnails").join(id))
    };
    let sent_with = |name: &'static str| {
        let (app, ann, channel) = (&app, &ann, &channel);
        async move {
            let file = uploaded(
                app,
                ann,
                channel,
                name,
                encoded(&picture(500, 400), ImageFormat::Png),
            )
            .await;
            let sent = send(
                app,
                ann,
                json!({"channel_id": channel, "text": name, "attachments": [id_of(&file)]}),
            )
            .await;
            assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
            (
                id_of(&file),
                sent.json()["id"].as_str().unwrap_or_default().to_owned(),
            )
        }
    };
    let (photo, message) = sent_with("photo.png").await;
    let (kept, _) = sent_with("kept.png").await;
    let url = format!("/api/chat/attachments/{photo}");
    assert_eq!(get_bytes(&app, &url, &bob).await.0, StatusCode::OK);
    let (file, thumb) = stored(&photo);
    assert!(file.exists() && thumb.exists());

    // Deleting the message: its files are gone for everyone at once…
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/api/chat/messages/{message}"),
            &ann,
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text);
    let listed = deleted.json()["attachments"].as_array().map_or(0, Vec::len);
    assert_eq!(listed, 0, "{}", deleted.text);
    for user in [&ann, &bob] {
        assert_eq!(get_bytes(&app, &url, user).await.0, StatusCode::NOT_FOUND);
        let thumbnail = format!("{url}/thumbnail");
        assert_eq!(
            get_bytes(&app, &thumbnail, user).await.0,
            StatusCode::NOT_FOUND
        );
    }
    // …and their bytes leave the store at the next sweep (the unattached wait does not apply).
    let swept = parley::server::attachments::sweep(&app.state, Duration::from_secs(3600))
        .await
        .expect("sweeps");
    assert_eq!(swept, 1);
    assert!(!file.exists() && !thumb.exists(), "the bytes are deleted");
    let (kept_file, kept_thumb) = stored(&kept);
    assert!(
        kept_file.exists() && kept_thumb.exists(),
        "other files stay"
    );
    let again = parley::server::attachments::sweep(&app.state, Duration::from_secs(3600))
        .await
        .expect("sweeps");
    assert_eq!(again, 0, "nothing is deleted twice");

    // A conversation deleted (as a host's database may) takes its files by cascade; the sweep
    // finds them although no row is left to point at them.
    sqlx::query("DELETE FROM chat_channels WHERE id = $1::uuid")
        .bind(&channel)
        .execute(&pool)
        .await
        .expect("delete the conversation");
    let swept = parley::server::attachments::sweep(&app.state, Duration::from_secs(3600))
        .await
        .expect("sweeps");
    assert_eq!(swept, 1);
    assert!(
        !kept_file.exists() && !kept_thumb.exists(),
        "the cascade's bytes are deleted"
    );
}

#[sqlx::test]
async fn damaged_and_oversized_images_are_clear_errors(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (ann, _bob, channel) = two_people(&app).await;
    let mut png = encoded(&picture(300, 200), ImageFormat::Png);
    png.truncate(png.len() / 2);
    let response = upload(&app, &ann, &channel, "cut.png", "image/png", png, true).await;
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.text
    );
    assert!(
        response.text.contains("PNG image but cannot be read"),
        "{}",
        response.text
    );
    let mut jpeg = encoded(&picture(300, 200), ImageFormat::Jpeg);
    jpeg.truncate(40);
    let response = upload(&app, &ann, &channel, "cut.jpg", "image/jpeg", jpeg, true).await;
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.text
    );
    // Wider than the decoder accepts: a few bytes that would decode to far more.
    let wide = encoded(&DynamicImage::new_luma8(12_001, 1), ImageFormat::Png);
    assert!(wide.len() < 1000);
    let response = upload(&app, &ann, &channel, "wide.png", "image/png", wide, true).await;
    assert_eq!(
        response.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        response.text
    );
    assert!(
        response.text.contains("too large to process"),
        "{}",
        response.text
    );
    // Nothing of them was kept.
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM chat_attachments")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(rows, 0);
}

#[sqlx::test]
async fn jpegs_come_back_without_their_exif(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (ann, bob, channel) = two_people(&app).await;
    let jpeg = jpeg_with_gps();
    assert!(contains(&jpeg, b"Exif\0\0") && contains(&jpeg, b"GPS-MARKER"));
    let photo = uploaded(&app, &ann, &channel, "photo.jpg", jpeg).await;
    assert_eq!(photo["content_type"], "image/jpeg");
    let sent = send(
        &app,
        &ann,
        json!({"channel_id": channel, "text": "", "attachments": [id_of(&photo)]}),
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    let (status, headers, bytes) = get_bytes(
        &app,
        &format!("/api/chat/attachments/{}", id_of(&photo)),
        &bob,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "image/jpeg");
    assert!(!contains(&bytes, b"Exif"), "no EXIF segment");
    assert!(!contains(&bytes, b"GPS-MARKER"));
    assert!(image::load_from_memory(&bytes).is_ok());
}

#[sqlx::test]
async fn the_server_api_uploads_and_sends_files_for_a_member(pool: PgPool) {
    const SECRET: &str = "a-test-server-secret-of-more-than-32-characters";
    let mut settings = Settings::default();
    settings.limits.sign_ups = parley::server::limits::Rate::new(100_000, 100_000);
    settings.server_secret =
        Some(parley::server::secret::ServerSecret::new(SECRET).expect("long enough"));
    let app = TestApp::with_settings(pool, settings).await;
    let (ann, bob, channel) = two_people(&app).await;
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!(
            "/api/server/uploads?user_id={}&channel_id={channel}&name=report.txt",
            ann.id
        ))
        .header(header::AUTHORIZATION, format!("Bearer {SECRET}"))
        .body(Body::from("quarterly report"))
        .expect("request");
    let response = app.send_request(request).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
    let file = response.json();
    let posted = app
        .request_with(
            Method::POST,
            "/api/server/messages",
            &[("authorization", &format!("Bearer {SECRET}"))],
            Some(json!({"channel_id": channel, "user_id": ann.id, "attachments": [id_of(&file)]})),
        )
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", posted.text);
    assert_eq!(posted.json()["attachments"][0]["name"], "report.txt");
    let (status, _, bytes) = get_bytes(
        &app,
        &format!("/api/chat/attachments/{}", id_of(&file)),
        &bob,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, b"quarterly report");
}
