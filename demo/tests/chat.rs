//! Channels, messages and read state through the JSON API on a real PostgreSQL (a fresh
//! database per test). The server functions call the same logic.

mod common;

use std::collections::HashSet;

use axum::http::{Method, StatusCode};
use common::TestApp;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

fn id_of(value: &Value) -> String {
    value["id"].as_str().unwrap_or_default().to_owned()
}

#[sqlx::test]
async fn twenty_concurrent_message_clicks_make_one_dm(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;

    let requests = (0..20).map(|i| {
        let (me, other) = if i % 2 == 0 {
            (&alice, &bob)
        } else {
            (&bob, &alice)
        };
        app.post_json(
            "/api/chat/channels",
            json!({"members": [other.id]}),
            Some(&me.cookie),
        )
    });
    let responses = futures_util::future::join_all(requests).await;

    let ids: HashSet<String> = responses
        .iter()
        .map(|r| {
            assert!(r.status.is_success(), "{} {}", r.status, r.text);
            id_of(&r.json())
        })
        .collect();
    assert_eq!(ids.len(), 1, "one channel for the pair");
    assert_eq!(
        responses
            .iter()
            .filter(|r| r.status == StatusCode::CREATED)
            .count(),
        1
    );
    let channels = sqlx::query_scalar!("SELECT count(*) FROM chat_channels")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(channels, Some(1));
    let members = sqlx::query_scalar!("SELECT count(*) FROM chat_members")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(members, Some(2));
}

#[sqlx::test]
async fn a_dm_lists_both_members_and_the_caller_is_always_one(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;

    let channel = app.channel(&alice, &[&bob], None).await;

    assert_eq!(channel["kind"], "dm");
    let members: Vec<&str> = channel["members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["username"].as_str())
        .collect();
    assert_eq!(members, ["alice", "bob"]);
    // Listing yourself among the members changes nothing.
    let again = app.channel(&alice, &[&alice, &bob], None).await;
    assert_eq!(id_of(&again), id_of(&channel));
}

#[sqlx::test]
async fn groups_are_created_with_a_name_and_members(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;

    let group = app
        .channel(&alice, &[&bob, &carol], Some("Book club"))
        .await;
    let second = app
        .channel(&alice, &[&bob, &carol], Some("Book club"))
        .await;

    assert_eq!(group["kind"], "group");
    assert_eq!(group["name"], "Book club");
    assert_eq!(group["members"].as_array().map(Vec::len), Some(3));
    assert_ne!(id_of(&group), id_of(&second), "groups are not deduplicated");
    let carols = app
        .get("/api/chat/channels", Some(&carol.cookie))
        .await
        .json();
    assert_eq!(carols.as_array().map(Vec::len), Some(2));
}

#[sqlx::test]
async fn channels_need_another_existing_person(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let alice = app.user("alice").await;

    for members in [
        json!([]),
        json!([alice.id]),
        json!([Uuid::new_v4()]),
        json!(["not-a-uuid"]),
    ] {
        let response = app
            .post_json(
                "/api/chat/channels",
                json!({"members": members}),
                Some(&alice.cookie),
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{members}: {}",
            response.text
        );
        assert_eq!(response.error_code(), "bad_request");
    }
}

#[sqlx::test]
async fn a_retried_send_is_stored_once(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let channel = id_of(&app.channel(&alice, &[&bob], None).await);
    let id = Uuid::new_v4();
    let body = json!({"id": id, "channel_id": channel, "text": "  hello  "});

    let first = app
        .post_json("/api/chat/messages", body.clone(), Some(&alice.cookie))
        .await;
    let retry = app
        .post_json("/api/chat/messages", body.clone(), Some(&alice.cookie))
        .await;
    let concurrent = futures_util::future::join_all(
        (0..5).map(|_| app.post_json("/api/chat/messages", body.clone(), Some(&alice.cookie))),
    )
    .await;

    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.json()["text"], "hello", "text is trimmed");
    assert_eq!(first.json()["seq"], 1);
    assert_eq!(retry.json(), first.json());
    for response in concurrent {
        assert_eq!(response.json(), first.json());
    }
    let rows = sqlx::query_scalar!("SELECT count(*) FROM chat_messages")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(rows, Some(1));
    let last_seq = sqlx::query_scalar!("SELECT last_seq FROM chat_channels")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(last_seq, 1, "a retry does not consume a sequence number");
    // Someone else cannot claim (or read) the stored message by reusing its id.
    let hijack = app
        .post_json("/api/chat/messages", body, Some(&bob.cookie))
        .await;
    assert_eq!(hijack.status, StatusCode::BAD_REQUEST);
    assert!(!hijack.text.contains("hello"));
}

#[sqlx::test]
async fn message_text_is_validated(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let channel = id_of(&app.channel(&alice, &[&bob], None).await);

    for text in [String::new(), " \n\t ".to_owned(), "x".repeat(4001)] {
        let response = app
            .post_json(
                "/api/chat/messages",
                json!({"channel_id": channel, "text": text}),
                Some(&alice.cookie),
            )
            .await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST);
        assert_eq!(response.error_code(), "bad_request");
    }
    let longest = app.send(&alice, &channel, &"é".repeat(4000)).await;
    assert_eq!(
        longest["text"].as_str().map(|t| t.chars().count()),
        Some(4000)
    );
}

#[sqlx::test]
async fn history_pages_cover_250_messages_without_gaps_or_repeats(pool: PgPool) {
    let app = TestApp::without_send_limit(pool).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let channel = id_of(&app.channel(&alice, &[&bob], None).await);
    for i in 1..=250 {
        let author = if i % 3 == 0 { &bob } else { &alice };
        app.send(author, &channel, &format!("message {i}")).await;
    }

    let mut seen = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let path = match before {
            Some(seq) => format!("/api/chat/channels/{channel}/messages?limit=100&before={seq}"),
            None => format!("/api/chat/channels/{channel}/messages?limit=100"),
        };
        let page = app.get(&path, Some(&bob.cookie)).await.json();
        let seqs: Vec<i64> = page["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["seq"].as_i64())
            .collect();
        assert!(
            seqs.windows(2).all(|w| w[0] + 1 == w[1]),
            "each page is contiguous and oldest first"
        );
        seen.splice(0..0, seqs.iter().copied());
        before = seqs.first().copied();
        if page["has_more"] != true {
            break;
        }
    }

    assert_eq!(seen, (1..=250).collect::<Vec<i64>>());
    let newest = app
        .get(
            &format!("/api/chat/channels/{channel}/messages?limit=1"),
            Some(&bob.cookie),
        )
        .await
        .json();
    assert_eq!(newest["messages"][0]["text"], "message 250");
    let capped = app
        .get(
            &format!("/api/chat/channels/{channel}/messages?limit=1000"),
            Some(&bob.cookie),
        )
        .await
        .json();
    assert_eq!(
        capped["messages"].as_array().map(Vec::len),
        Some(100),
        "pages are capped at 100"
    );
}

#[sqlx::test]
async fn unread_counts_follow_sends_and_reads(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let dm = id_of(&app.channel(&alice, &[&bob], None).await);
    let group = id_of(&app.channel(&carol, &[&alice, &bob], Some("Trio")).await);

    for text in ["one", "two", "three"] {
        app.send(&alice, &dm, text).await;
    }
    app.send(&carol, &group, "hi all").await;

    let bobs = app
        .get("/api/chat/channels", Some(&bob.cookie))
        .await
        .json();
    let unread: Vec<(String, i64)> = bobs
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| (id_of(c), c["unread"].as_i64().unwrap_or(-1)))
        .collect();
    assert_eq!(
        unread,
        [(group.clone(), 1), (dm.clone(), 3)],
        "newest activity first"
    );
    assert_eq!(
        app.get("/api/chat/unread", Some(&bob.cookie)).await.json()["unread"],
        4
    );
    assert_eq!(
        app.get("/api/chat/unread", Some(&alice.cookie))
            .await
            .json()["unread"],
        1,
        "own messages are not unread"
    );

    // Bob reads the first two, then everything.
    let partial = app
        .post_json(
            &format!("/api/chat/channels/{dm}/read"),
            json!({"seq": 2}),
            Some(&bob.cookie),
        )
        .await;
    assert_eq!(partial.json()["unread"], 1);
    let read = app
        .post_json(
            &format!("/api/chat/channels/{dm}/read"),
            json!({}),
            Some(&bob.cookie),
        )
        .await;
    assert_eq!(read.json()["unread"], 0);
    assert_eq!(read.json()["my_last_read_seq"], 3);
    // Read marks never move backwards.
    let back = app
        .post_json(
            &format!("/api/chat/channels/{dm}/read"),
            json!({"seq": 1}),
            Some(&bob.cookie),
        )
        .await;
    assert_eq!(back.json()["my_last_read_seq"], 3);
    assert_eq!(
        app.get("/api/chat/unread", Some(&bob.cookie)).await.json()["unread"],
        1
    );

    // Alice sees that Bob has seen her messages ("Seen"), and the rows carry read_at.
    let alices_dm = app
        .get(&format!("/api/chat/channels/{dm}"), Some(&alice.cookie))
        .await
        .json();
    assert_eq!(alices_dm["others_last_read_seq"], 3);
    let unstamped = sqlx::query_scalar!(
        "SELECT count(*) FROM chat_messages WHERE read_at IS NULL AND channel_id::text = $1",
        dm
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(unstamped, Some(0));

    // Replying marks what came before as read.
    app.send(&carol, &group, "anyone?").await;
    app.send(&bob, &group, "here").await;
    let bobs_group = app
        .get(&format!("/api/chat/channels/{group}"), Some(&bob.cookie))
        .await
        .json();
    assert_eq!(bobs_group["unread"], 0);
}

#[sqlx::test]
async fn only_the_author_edits_or_deletes_and_deleted_text_is_gone(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let channel = id_of(&app.channel(&alice, &[&bob], None).await);
    let message = id_of(&app.send(&alice, &channel, "secret plan").await);
    let path = format!("/api/chat/messages/{message}");
    let patch = |text: &str| Some(("application/json", json!({"text": text}).to_string()));

    let bob_edit = app
        .request(Method::PATCH, &path, patch("hacked"), Some(&bob.cookie))
        .await;
    let bob_delete = app
        .request(Method::DELETE, &path, None, Some(&bob.cookie))
        .await;
    assert_eq!(bob_edit.status, StatusCode::FORBIDDEN);
    assert_eq!(bob_delete.status, StatusCode::FORBIDDEN);

    let edited = app
        .request(
            Method::PATCH,
            &path,
            patch("better plan"),
            Some(&alice.cookie),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.text);
    assert_eq!(edited.json()["text"], "better plan");
    assert_eq!(edited.json()["edited"], true);

    let deleted = app
        .request(Method::DELETE, &path, None, Some(&alice.cookie))
        .await;
    assert_eq!(deleted.json()["deleted"], true);
    assert_eq!(deleted.json()["text"], "");
    let history = app
        .get(
            &format!("/api/chat/channels/{channel}/messages"),
            Some(&bob.cookie),
        )
        .await;
    assert!(!history.text.contains("plan"), "{}", history.text);
    let list = app.get("/api/chat/channels", Some(&bob.cookie)).await;
    assert!(!list.text.contains("plan"), "{}", list.text);
    assert_eq!(
        list.json()[0]["unread"],
        0,
        "deleted messages are not unread"
    );
    let stored = sqlx::query_scalar!("SELECT text FROM chat_messages")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, "", "the words are erased, not hidden");
    let edit_after_delete = app
        .request(Method::PATCH, &path, patch("again"), Some(&alice.cookie))
        .await;
    assert_eq!(edit_after_delete.status, StatusCode::NOT_FOUND);
}

#[sqlx::test]
async fn non_members_get_not_found_for_everything(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let mallory = app.user("mallory").await;
    let channel = id_of(&app.channel(&alice, &[&bob], None).await);
    let message = id_of(&app.send(&alice, &channel, "for bob only").await);
    let json_body = |v: Value| Some(("application/json", v.to_string()));

    let attempts = [
        (Method::GET, format!("/api/chat/channels/{channel}"), None),
        (
            Method::GET,
            format!("/api/chat/channels/{channel}/messages"),
            None,
        ),
        (
            Method::POST,
            format!("/api/chat/channels/{channel}/read"),
            json_body(json!({})),
        ),
        (
            Method::POST,
            "/api/chat/messages".to_owned(),
            json_body(json!({"channel_id": channel, "text": "hi"})),
        ),
        (
            Method::PATCH,
            format!("/api/chat/messages/{message}"),
            json_body(json!({"text": "mine now"})),
        ),
        (
            Method::DELETE,
            format!("/api/chat/messages/{message}"),
            None,
        ),
    ];
    for (method, path, body) in attempts {
        let response = app
            .request(method.clone(), &path, body, Some(&mallory.cookie))
            .await;
        assert_eq!(
            response.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {}",
            response.text
        );
        assert!(!response.text.contains("for bob only"));
        assert!(!response.text.contains("alice"));
    }
    let list = app.get("/api/chat/channels", Some(&mallory.cookie)).await;
    assert_eq!(list.json(), json!([]));
    // Signed out: 401, also for everything.
    for path in [
        "/api/chat/channels".to_owned(),
        format!("/api/chat/channels/{channel}/messages"),
        "/api/chat/unread".to_owned(),
    ] {
        assert_eq!(
            app.get(&path, None).await.status,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
    let unknown = app
        .get(
            &format!("/api/chat/channels/{}", Uuid::new_v4()),
            Some(&alice.cookie),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let malformed = app
        .get("/api/chat/channels/not-a-uuid", Some(&alice.cookie))
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.error_code(), "bad_request");
}

#[sqlx::test]
async fn the_channel_list_comes_in_pages_that_cover_every_channel_once(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let mut groups = Vec::new();
    for i in 0..52 {
        let name = format!("Group {i}");
        groups.push(id_of(&app.channel(&alice, &[&bob], Some(&name)).await));
    }
    // One message from bob in each, oldest group first: the newest activity is group 51's.
    for group in &groups {
        app.send(&bob, group, "hello").await;
    }

    // The JSON API, 20 at a time, following the cursor of each page's last channel.
    let mut seen = Vec::new();
    let mut path = "/api/chat/channels?limit=20".to_owned();
    loop {
        let page = app.get(&path, Some(&alice.cookie)).await.json();
        let page = page.as_array().cloned().unwrap_or_default();
        seen.extend(page.iter().map(id_of));
        let Some(last) = page.last().filter(|_| page.len() == 20) else {
            break;
        };
        let at = last["last_message_at"].as_str().unwrap_or_default();
        let at = at.replace('+', "%2B");
        path = format!(
            "/api/chat/channels?limit=20&before_at={at}&before_id={}",
            id_of(last)
        );
    }
    let newest_first: Vec<String> = groups.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);

    let half = app
        .get(
            "/api/chat/channels?before_at=2026-01-01T00:00:00Z",
            Some(&alice.cookie),
        )
        .await;
    assert_eq!(half.status, StatusCode::BAD_REQUEST, "{}", half.text);

    // The sidebar's server function: 50 channels, and the unread messages of the other two.
    let form = "application/x-www-form-urlencoded";
    let first = app
        .request(
            Method::POST,
            "/api/fn/channels",
            Some((form, String::new())),
            Some(&alice.cookie),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let first = first.json();
    assert_eq!(first["channels"].as_array().map(Vec::len), Some(50));
    assert_eq!(first["more"], true);
    assert_eq!(first["unread_after"], 2);
    let last = &first["channels"][49];
    let after = format!(
        "after[before_at]={}&after[before_id]={}",
        last["last_message_at"]
            .as_str()
            .unwrap_or_default()
            .replace('+', "%2B"),
        id_of(last)
    );
    let rest = app
        .request(
            Method::POST,
            "/api/fn/channels",
            Some((form, after)),
            Some(&alice.cookie),
        )
        .await;
    assert_eq!(rest.status, StatusCode::OK, "{}", rest.text);
    let rest = rest.json();
    let rest_ids: Vec<String> = rest["channels"]
        .as_array()
        .into_iter()
        .flatten()
        .map(id_of)
        .collect();
    assert_eq!(rest_ids, [groups[1].clone(), groups[0].clone()]);
    assert_eq!(rest["more"], false);
    assert_eq!(rest["unread_after"], 0);
}

#[sqlx::test]
async fn reading_a_channel_already_read_writes_nothing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let dm = id_of(&app.channel(&alice, &[&bob], None).await);
    app.send(&alice, &dm, "hello").await;
    let read = format!("/api/chat/channels/{dm}/read");

    let first = app.post_json(&read, json!({}), Some(&bob.cookie)).await;
    let stamped = last_read_at(&app.pool, &dm, &bob.id).await;
    let again = app.post_json(&read, json!({}), Some(&bob.cookie)).await;

    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(first.json()["my_last_read_seq"], 1);
    assert_eq!(again.json()["my_last_read_seq"], 1);
    assert_eq!(again.json()["unread"], 0);
    assert!(stamped.is_some());
    assert_eq!(
        last_read_at(&app.pool, &dm, &bob.id).await,
        stamped,
        "the second read wrote nothing"
    );
}

async fn last_read_at(
    pool: &PgPool,
    channel: &str,
    user: &str,
) -> Option<chrono::DateTime<chrono::Utc>> {
    sqlx::query_scalar(
        "SELECT last_read_at FROM chat_members
          WHERE channel_id = $1::uuid AND user_id = $2::uuid",
    )
    .bind(channel)
    .bind(user)
    .fetch_one(pool)
    .await
    .ok()
    .flatten()
}
