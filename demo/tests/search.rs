//! Message search (SPEC §7.4) against real PostgreSQL through the JSON API and the server API:
//! only what the searcher may read at query time (their channels, not people they block, not
//! deleted), newest first with a cursor, edits re-indexed, matching words marked; and history
//! pages around and after a sequence, which opening a result uses.

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, TestResponse, TestUser};
use parley::server::secret::ServerSecret;
use parley::server::Settings;
use serde_json::{json, Value};
use sqlx::PgPool;

async fn search(app: &TestApp, user: &TestUser, query: &str) -> TestResponse {
    app.get(&format!("/api/chat/search?{query}"), Some(&user.cookie))
        .await
}

/// The texts of the results for `q`, newest first.
async fn found(app: &TestApp, user: &TestUser, q: &str) -> Vec<String> {
    let page = search(app, user, &format!("q={}", urlencode(q))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    page.json()["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| r["message"]["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A snippet as text, its marked parts in brackets.
fn marked(result: &Value) -> String {
    result["snippet"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|p| {
            let text = p["text"].as_str().unwrap_or_default();
            if p["mark"].as_bool().unwrap_or(false) {
                format!("[{text}]")
            } else {
                text.to_owned()
            }
        })
        .collect()
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_default()
}

#[sqlx::test]
async fn search_finds_what_i_may_read_newest_first_with_the_words_marked(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (ann, bob, cid) = (
        app.user("ann").await,
        app.user("bob").await,
        app.user("cid").await,
    );
    let dm = app.channel(&ann, &[&bob], None).await;
    let dm = str_of(&dm, "id").to_owned();
    app.send(&ann, &dm, "the quarterly numbers are in").await;
    app.send(&bob, &dm, "something else entirely").await;
    app.send(
        &ann,
        &dm,
        "a <b>quarterly</b> report, see <@00000000-0000-4000-8000-000000000000>",
    )
    .await;
    // Cid's own conversation says the same words: Bob never finds it.
    let other = app.channel(&cid, &[&ann], None).await;
    app.send(&cid, str_of(&other, "id"), "quarterly numbers for Ann only")
        .await;

    let page = search(&app, &bob, "q=quarterly").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let page = page.json();
    let results = page["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), 2, "{page}");
    assert_eq!(page["has_more"], json!(false));
    // Newest first; the conversation as Bob names it, the author, the marked words.
    assert_eq!(
        marked(&results[0]),
        "a <b>[quarterly]</b> report, see <@00000000-0000-4000-8000-000000000000>"
    );
    assert_eq!(marked(&results[1]), "the [quarterly] numbers are in");
    assert_eq!(str_of(&results[1], "channel_title"), "Ann");
    assert_eq!(str_of(&results[1], "author_name"), "Ann");
    assert_eq!(results[1]["message"]["channel_id"], json!(dm));
    assert_eq!(results[1]["message"]["seq"], json!(1));

    // Stemmed: "number" finds "numbers"; every word must occur; phrases and exclusions.
    assert_eq!(
        found(&app, &bob, "number").await,
        ["the quarterly numbers are in"]
    );
    assert!(found(&app, &bob, "quarterly banana").await.is_empty());
    assert_eq!(found(&app, &bob, "\"quarterly numbers\"").await.len(), 1);
    assert_eq!(found(&app, &bob, "quarterly -numbers").await.len(), 1);
    // Only stop words, punctuation or SQL-looking text: nothing found, never an error.
    assert!(found(&app, &bob, "the").await.is_empty());
    assert!(found(&app, &bob, "'); DROP TABLE chat_messages; --")
        .await
        .is_empty());
    // Mention tokens are not words.
    assert!(found(&app, &bob, "000000000000").await.is_empty());

    // Cid reads neither of the two; Ann reads all three.
    assert!(found(&app, &cid, "quarterly report").await.is_empty());
    assert_eq!(found(&app, &ann, "quarterly").await.len(), 3);

    // Pages: one at a time, then the next older one from the last id.
    let first = search(&app, &ann, "q=quarterly&limit=2").await.json();
    assert_eq!(first["has_more"], json!(true));
    let last = first["results"][1]["message"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let next = search(&app, &ann, &format!("q=quarterly&limit=2&before={last}")).await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.text);
    let next = next.json();
    assert_eq!(next["has_more"], json!(false));
    assert_eq!(next["results"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        next["results"][0]["message"]["text"],
        json!("the quarterly numbers are in")
    );
}

#[sqlx::test]
async fn edits_reindex_and_deleting_leaving_or_blocking_hides(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (ann, bob, cid) = (
        app.user("ann").await,
        app.user("bob").await,
        app.user("cid").await,
    );
    let group = app.channel(&ann, &[&bob, &cid], Some("Plans")).await;
    let group = str_of(&group, "id").to_owned();
    let message = app.send(&ann, &group, "the quarterly numbers are in").await;
    let id = str_of(&message, "id").to_owned();
    let cids = app.send(&cid, &group, "quarterly from cid").await;
    assert_eq!(found(&app, &bob, "quarterly").await.len(), 2);
    let page = search(&app, &bob, "q=quarterly").await.json();
    assert_eq!(str_of(&page["results"][1], "channel_title"), "Plans");

    let edit = app
        .request(
            Method::PATCH,
            &format!("/api/chat/messages/{id}"),
            Some((
                "application/json",
                json!({"text": "annual figures"}).to_string(),
            )),
            Some(&ann.cookie),
        )
        .await;
    assert_eq!(edit.status, StatusCode::OK, "{}", edit.text);
    assert_eq!(found(&app, &bob, "quarterly").await, ["quarterly from cid"]);
    assert_eq!(found(&app, &bob, "annual").await, ["annual figures"]);

    // Bob blocks Cid: Cid's messages leave his results (the group still shows them folded).
    let block = app
        .request(
            Method::PUT,
            &format!("/api/chat/blocks/{}", cid.id),
            None,
            Some(&bob.cookie),
        )
        .await;
    assert!(block.status.is_success(), "{}", block.text);
    assert!(found(&app, &bob, "quarterly").await.is_empty());
    assert_eq!(found(&app, &ann, "quarterly").await.len(), 1);

    // Deleted: found by nobody.
    let deleted = app
        .request(
            Method::DELETE,
            &format!("/api/chat/messages/{}", str_of(&cids, "id")),
            None,
            Some(&cid.cookie),
        )
        .await;
    assert!(deleted.status.is_success(), "{}", deleted.text);
    assert!(found(&app, &ann, "quarterly").await.is_empty());

    // Having left, Bob finds nothing of the group any more.
    assert_eq!(found(&app, &bob, "annual").await.len(), 1);
    let left = app
        .request(
            Method::POST,
            &format!("/api/chat/channels/{group}/leave"),
            None,
            Some(&bob.cookie),
        )
        .await;
    assert!(left.status.is_success(), "{}", left.text);
    assert!(found(&app, &bob, "annual").await.is_empty());
    assert_eq!(found(&app, &ann, "annual").await.len(), 1);
}

#[sqlx::test]
async fn bad_searches_get_clear_errors(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let ann = app.user("ann").await;
    for query in [
        String::new(),
        "q=".to_owned(),
        "q=%20%20".to_owned(),
        format!("q={}", "a".repeat(201)),
        "q=hi%01there".to_owned(),
        "q=hi&limit=0".to_owned(),
        "q=hi&limit=51".to_owned(),
        "q=hi&before=00000000-0000-4000-8000-000000000000".to_owned(),
        "q=hi&before=yesterday".to_owned(),
    ] {
        let response = search(&app, &ann, &query).await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            response.text
        );
        assert_eq!(
            response.error_code(),
            "bad_request",
            "{query}: {}",
            response.text
        );
    }
    let signed_out = app.get("/api/chat/search?q=hi", None).await;
    assert_eq!(signed_out.status, StatusCode::UNAUTHORIZED);
    // 200 characters is the most, and fine.
    let longest = search(&app, &ann, &format!("q={}", "a".repeat(200))).await;
    assert_eq!(longest.status, StatusCode::OK, "{}", longest.text);
}

#[sqlx::test]
async fn the_host_searches_for_a_person_as_they_would(pool: PgPool) {
    const SECRET: &str = "a-test-server-secret-of-more-than-32-characters";
    let settings = Settings {
        server_secret: ServerSecret::new(SECRET).ok(),
        ..Settings::default()
    };
    let app = TestApp::with_settings(pool, settings).await;
    let (ann, bob, cid) = (
        app.user("ann").await,
        app.user("bob").await,
        app.user("cid").await,
    );
    let dm = app.channel(&ann, &[&bob], None).await;
    app.send(&ann, str_of(&dm, "id"), "the quarterly numbers are in")
        .await;
    let auth = format!("Bearer {SECRET}");
    let as_host = |user: &str, q: &str| {
        let path = format!("/api/server/users/{user}/search?q={q}");
        let auth = auth.clone();
        let app = &app;
        async move {
            app.request_with(Method::GET, &path, &[("authorization", &auth)], None)
                .await
        }
    };
    let bobs = as_host(&bob.id, "quarterly").await;
    assert_eq!(bobs.status, StatusCode::OK, "{}", bobs.text);
    assert_eq!(bobs.json()["results"].as_array().map(Vec::len), Some(1));
    let cids = as_host(&cid.id, "quarterly").await;
    assert_eq!(cids.json()["results"].as_array().map(Vec::len), Some(0));
    let nobody = as_host("00000000-0000-4000-8000-000000000000", "quarterly").await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    let without = app
        .get(
            &format!("/api/server/users/{}/search?q=quarterly", bob.id),
            None,
        )
        .await;
    assert_eq!(without.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test]
async fn history_pages_around_and_after_a_message(pool: PgPool) {
    let app = TestApp::without_send_limit(pool).await;
    let (ann, bob, cid) = (
        app.user("ann").await,
        app.user("bob").await,
        app.user("cid").await,
    );
    let dm = app.channel(&ann, &[&bob], None).await;
    let dm = str_of(&dm, "id").to_owned();
    for i in 1..=30 {
        app.send(&ann, &dm, &format!("message {i}")).await;
    }
    let page = |query: String| {
        let app = &app;
        let path = format!("/api/chat/channels/{dm}/messages?{query}");
        let cookie = bob.cookie.clone();
        async move { app.get(&path, Some(&cookie)).await }
    };
    let seqs = |page: &Value| -> Vec<i64> {
        page["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|m| m["seq"].as_i64())
            .collect()
    };
    let around = page("around=15&limit=10".into()).await.json();
    assert_eq!(seqs(&around), (10..=19).collect::<Vec<_>>());
    assert_eq!(around["has_more"], json!(true));
    assert_eq!(around["has_newer"], json!(true));
    // Near the start the page fills up with newer ones; near the end it is shorter.
    let start = page("around=2&limit=10".into()).await.json();
    assert_eq!(seqs(&start), (1..=10).collect::<Vec<_>>());
    assert_eq!(start["has_more"], json!(false));
    let end = page("around=29&limit=10".into()).await.json();
    assert_eq!(seqs(&end), (24..=30).collect::<Vec<_>>());
    assert_eq!(end["has_newer"], json!(false));
    // After: on towards the newest, then the end.
    let after = page("after=19&limit=5".into()).await.json();
    assert_eq!(seqs(&after), (20..=24).collect::<Vec<_>>());
    assert_eq!(after["has_newer"], json!(true));
    assert_eq!(after["has_more"], json!(true));
    let last = page("after=24&limit=10".into()).await.json();
    assert_eq!(seqs(&last), (25..=30).collect::<Vec<_>>());
    assert_eq!(last["has_newer"], json!(false));
    // The newest page never says there is something newer.
    let newest = page(String::new()).await.json();
    assert_eq!(newest["has_newer"], json!(false));

    let both = page("before=10&after=2".into()).await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST, "{}", both.text);
    let stranger = app
        .get(
            &format!("/api/chat/channels/{dm}/messages?around=3"),
            Some(&cid.cookie),
        )
        .await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
}
