//! Rich messages (SPEC §7.3) against real PostgreSQL, through the JSON API and the WebSocket
//! as clients use them: reactions are idempotent per (message, person, emoji) even when two
//! sockets set one at once, their counts are absolute and reach every member live; replies
//! quote an earlier message of the same conversation as it is now; mentions are read from
//! tokens of members and counted per conversation until read, muted or not; and a client that
//! reconnects gets the reactions and edits it missed, each message once as it is now.

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, TestResponse, TestUser, WsClient};
use serde_json::{json, Value};
use sqlx::PgPool;

async fn react(
    app: &TestApp,
    user: &TestUser,
    message: &str,
    emoji: &str,
    on: bool,
) -> TestResponse {
    app.call(
        Method::POST,
        &format!("/api/chat/messages/{message}/reactions"),
        user,
        Some(json!({"emoji": emoji, "on": on})),
    )
    .await
}

fn token(user: &TestUser) -> String {
    format!("<@{}>", user.id)
}

fn id_of(message: &Value) -> String {
    message["id"].as_str().unwrap_or_default().to_owned()
}

/// The channel's history as `user` reads it, oldest first.
async fn history(app: &TestApp, user: &TestUser, channel: &str) -> Vec<Value> {
    let page = app
        .get(
            &format!("/api/chat/channels/{channel}/messages"),
            Some(&user.cookie),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    page.json()["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// `user`'s summary of `channel`.
async fn summary(app: &TestApp, user: &TestUser, channel: &str) -> Value {
    let found = app
        .get(&format!("/api/chat/channels/{channel}"), Some(&user.cookie))
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text);
    found.json()
}

async fn unread_total(app: &TestApp, user: &TestUser) -> i64 {
    app.get("/api/chat/unread", Some(&user.cookie)).await.json()["unread"]
        .as_i64()
        .unwrap_or(-1)
}

async fn read_up_to(app: &TestApp, user: &TestUser, channel: &str, seq: i64) {
    let read = app
        .call(
            Method::POST,
            &format!("/api/chat/channels/{channel}/read"),
            user,
            Some(json!({"seq": seq})),
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
}

#[sqlx::test]
async fn two_sockets_setting_a_reaction_at_once_leave_one(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let addr = app.serve().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let channel = app.channel(&ann, &[&bob], None).await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let message = id_of(&app.send(&ann, &channel, "lunch?").await);
    let mut ann_ws = WsClient::open(addr, &ann, json!([])).await;
    let mut bob_tabs = [
        WsClient::open(addr, &bob, json!([])).await,
        WsClient::open(addr, &bob, json!([])).await,
    ];
    ann_ws.drain().await;

    // Bob's two tabs set 👍 at once, twice each.
    let frame = json!({"type": "react", "message_id": message, "emoji": "👍", "on": true});
    for _ in 0..2 {
        for tab in &mut bob_tabs {
            tab.send(frame.clone()).await;
        }
    }
    let update = ann_ws
        .until("message_updated")
        .await
        .pop()
        .unwrap_or_default();
    assert_eq!(
        update["message"]["reactions"],
        json!([{"emoji": "👍", "count": 1, "users": [bob.id]}]),
        "{update}"
    );
    for tab in &mut bob_tabs {
        let events = tab.drain().await;
        let updates: Vec<&Value> = events
            .iter()
            .filter(|e| e["type"] == "message_updated")
            .collect();
        assert_eq!(updates.len(), 1, "one change, one event: {events:#?}");
        assert!(events.iter().all(|e| e["type"] != "error"), "{events:#?}");
    }
    // Nothing else changed for ann either.
    assert!(ann_ws
        .drain()
        .await
        .iter()
        .all(|e| e["type"] != "message_updated"));
    let stored = history(&app, &ann, &channel).await;
    assert_eq!(stored[0]["reactions"][0]["count"], 1);

    // Over HTTP too: on twice is one, ann's own makes two, off twice leaves ann's.
    for _ in 0..2 {
        let again = react(&app, &bob, &message, "👍", true).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.text);
        assert_eq!(again.json()["reactions"][0]["count"], 1);
    }
    let ann_too = react(&app, &ann, &message, "👍", true).await.json();
    assert_eq!(
        ann_too["reactions"],
        json!([{"emoji": "👍", "count": 2, "users": [bob.id, ann.id]}])
    );
    for _ in 0..2 {
        let off = react(&app, &bob, &message, "👍", false).await;
        assert_eq!(
            off.json()["reactions"],
            json!([{"emoji": "👍", "count": 1, "users": [ann.id]}])
        );
    }
    // Emoji in the order first used.
    react(&app, &bob, &message, "🎉", true).await;
    react(&app, &bob, &message, "❤️", true).await;
    let order: Vec<Value> = history(&app, &bob, &channel).await[0]["reactions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r["emoji"].clone())
        .collect();
    assert_eq!(order, [json!("👍"), json!("🎉"), json!("❤️")]);

    // Refusals: an emoji not offered, a stranger, a deleted message; over the socket an error.
    let odd = react(&app, &bob, &message, "🦀", true).await;
    assert_eq!(odd.status, StatusCode::BAD_REQUEST);
    assert_eq!(odd.error_code(), "bad_request");
    let carol = app.user("carol").await;
    assert_eq!(
        react(&app, &carol, &message, "👍", true).await.status,
        StatusCode::NOT_FOUND
    );
    let mut bob_ws = WsClient::open(addr, &bob, json!([])).await;
    bob_ws
        .send(json!({"type": "react", "message_id": message, "emoji": "x", "on": true}))
        .await;
    let error = bob_ws.until("error").await.pop().unwrap_or_default();
    assert_eq!(error["error"]["code"], "bad_request", "{error}");
    let gone = app
        .call(
            Method::DELETE,
            &format!("/api/chat/messages/{message}"),
            &ann,
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::OK);
    assert!(
        gone.json().get("reactions").is_none(),
        "a deleted message shows no reactions: {}",
        gone.text
    );
    assert_eq!(
        react(&app, &bob, &message, "👍", true).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[sqlx::test]
async fn replies_quote_an_earlier_message_of_the_conversation_as_it_is_now(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let addr = app.serve().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let channel = app.channel(&ann, &[&bob], None).await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let long = format!("Where shall we meet? {}", "x".repeat(300));
    let original = id_of(&app.send(&ann, &channel, &long).await);
    let mut ann_ws = WsClient::open(addr, &ann, json!([])).await;
    let mut bob_ws = WsClient::open(addr, &bob, json!([])).await;

    let reply_id = "00000000-0000-4000-8000-000000000001";
    bob_ws
        .send(
            json!({"type": "send", "id": reply_id, "channel_id": channel,
                     "text": "At the station", "reply_to": original}),
        )
        .await;
    let ack = bob_ws.until("ack").await.pop().unwrap_or_default();
    let quote = &ack["message"]["reply_to"];
    assert_eq!(quote["id"], original.as_str(), "{ack}");
    assert_eq!(quote["seq"], 1);
    assert_eq!(quote["user_id"], ann.id.as_str());
    assert_eq!(quote["deleted"], false);
    let quoted = quote["text"].as_str().unwrap_or_default();
    assert!(
        long.starts_with(quoted) && quoted.chars().count() == 120,
        "{quoted}"
    );
    // The original's own live event may still reach ann's socket, opened just after it was
    // sent (its fan-out was in flight): skip it, as a client does by id.
    let live = loop {
        let event = ann_ws.until("message").await.pop().unwrap_or_default();
        if event["message"]["id"] != original.as_str() {
            break event;
        }
    };
    assert_eq!(live["message"]["id"], reply_id, "{live}");
    assert_eq!(live["message"]["reply_to"], *quote, "{live}");
    assert_eq!(history(&app, &ann, &channel).await[1]["reply_to"], *quote);

    // Only an earlier message of the same conversation, not deleted.
    let elsewhere = app.channel(&ann, &[&app.user("carol").await], None).await;
    let other = id_of(
        &app.send(&ann, elsewhere["id"].as_str().unwrap_or_default(), "hi")
            .await,
    );
    for target in [other.as_str(), "00000000-0000-4000-8000-00000000dead"] {
        let refused = app
            .post_json(
                "/api/chat/messages",
                json!({"channel_id": channel, "text": "re", "reply_to": target}),
                Some(&bob.cookie),
            )
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    }
    bob_ws
        .send(
            json!({"type": "send", "id": "00000000-0000-4000-8000-000000000002",
                     "channel_id": channel, "text": "re", "reply_to": other}),
        )
        .await;
    let nack = bob_ws.until("nack").await.pop().unwrap_or_default();
    assert_eq!(nack["error"]["code"], "bad_request", "{nack}");

    // The quote follows the original: edited, then deleted.
    let edited = app
        .call(
            Method::PATCH,
            &format!("/api/chat/messages/{original}"),
            &ann,
            Some(json!({"text": "Meet at noon"})),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK);
    assert_eq!(
        history(&app, &bob, &channel).await[1]["reply_to"]["text"],
        "Meet at noon"
    );
    app.call(
        Method::DELETE,
        &format!("/api/chat/messages/{original}"),
        &ann,
        None,
    )
    .await;
    let quote = history(&app, &bob, &channel).await[1]["reply_to"].clone();
    assert_eq!(quote["deleted"], true, "{quote}");
    assert_eq!(quote["text"], "");
    let refused = app
        .post_json(
            "/api/chat/messages",
            json!({"channel_id": channel, "text": "re", "reply_to": original}),
            Some(&bob.cookie),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
}

#[sqlx::test]
async fn mention_counts_follow_reading_and_count_through_mute(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let addr = app.serve().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let dave = app.user("dave").await;
    let channel = app.channel(&ann, &[&bob, &carol], Some("Plans")).await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut bob_ws = WsClient::open(addr, &bob, json!([])).await;

    let first = app
        .send(&ann, &channel, &format!("{} can you book it?", token(&bob)))
        .await;
    // Each member once, however often named; people who are not members are not mentions.
    let both = app
        .send(
            &ann,
            &channel,
            &format!(
                "{} {} and {} {}",
                token(&carol),
                token(&bob),
                token(&bob),
                token(&dave)
            ),
        )
        .await;
    let mut named = both["mentions"].as_array().cloned().unwrap_or_default();
    named.sort_by_key(|v| v.as_str().map(str::to_owned));
    let mut expected = vec![json!(bob.id), json!(carol.id)];
    expected.sort_by_key(|v| v.as_str().map(str::to_owned));
    assert_eq!(named, expected);
    assert_eq!(first["mentions"], json!([bob.id]));
    app.send(&ann, &channel, "and nobody in particular").await;
    // A malformed token is text.
    app.send(&ann, &channel, &format!("<@{}>", bob.id.to_uppercase()))
        .await;

    let mine = summary(&app, &bob, &channel).await;
    assert_eq!(
        (mine["unread"].as_i64(), mine["mentions"].as_i64()),
        (Some(4), Some(2))
    );
    assert_eq!(summary(&app, &carol, &channel).await["mentions"], 1);
    assert_eq!(
        summary(&app, &ann, &channel).await["mentions"],
        0,
        "not my own"
    );
    // Live: bob's last channel_state carries the count.
    let mut last_state = Value::Null;
    while last_state["unread"] != 4 {
        last_state = bob_ws
            .until("channel_state")
            .await
            .pop()
            .unwrap_or_default();
    }
    assert_eq!(last_state["mentions"], 2, "{last_state}");

    // Muted: the conversation still counts its mentions, and they stay in the global count.
    let muted = app
        .call(
            Method::PUT,
            &format!("/api/chat/channels/{channel}/mute"),
            &bob,
            Some(json!({"muted": true})),
        )
        .await;
    assert_eq!(muted.status, StatusCode::OK, "{}", muted.text);
    assert_eq!(summary(&app, &bob, &channel).await["mentions"], 2);
    assert_eq!(
        unread_total(&app, &bob).await,
        2,
        "only the mentions of a muted one"
    );
    assert_eq!(unread_total(&app, &carol).await, 4);

    // Reading clears them, up to where read.
    read_up_to(&app, &bob, &channel, 1).await;
    assert_eq!(summary(&app, &bob, &channel).await["mentions"], 1);
    assert_eq!(unread_total(&app, &bob).await, 1);
    // A deleted message no longer counts; an edit that adds a mention does.
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/api/chat/messages/{}", id_of(&both)),
            &ann,
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(summary(&app, &bob, &channel).await["mentions"], 0);
    let plain = history(&app, &bob, &channel).await[2].clone();
    assert_eq!(plain["text"], "and nobody in particular");
    let edited = app
        .call(
            Method::PATCH,
            &format!("/api/chat/messages/{}", id_of(&plain)),
            &ann,
            Some(json!({"text": format!("and {} in particular", token(&bob))})),
        )
        .await;
    assert_eq!(
        edited.json()["mentions"],
        json!([bob.id]),
        "{}",
        edited.text
    );
    assert_eq!(summary(&app, &bob, &channel).await["mentions"], 1);
    read_up_to(&app, &bob, &channel, 4).await;
    let read = summary(&app, &bob, &channel).await;
    assert_eq!(
        (read["unread"].as_i64(), read["mentions"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(unread_total(&app, &bob).await, 0);
}

#[sqlx::test]
async fn reactions_and_edits_replay_after_a_reconnect(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let addr = app.serve().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let channel = app.channel(&ann, &[&bob, &carol], Some("Trip")).await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let one = id_of(&app.send(&ann, &channel, "one").await);
    let two = id_of(&app.send(&ann, &channel, "two").await);
    let page = app
        .get(
            &format!("/api/chat/channels/{channel}/messages"),
            Some(&bob.cookie),
        )
        .await
        .json();
    let held_version = page["version"].as_i64().unwrap_or(-1);

    // Carol stays connected to know when the bus has delivered everything.
    let mut carol_ws = WsClient::open(addr, &carol, json!([])).await;
    // Bob is away: reactions come and go on "one", "two" is edited.
    react(&app, &ann, &one, "🎉", true).await;
    react(&app, &carol, &one, "👍", true).await;
    assert_eq!(
        app.call(
            Method::PATCH,
            &format!("/api/chat/messages/{two}"),
            &ann,
            Some(json!({"text": "two!"})),
        )
        .await
        .status,
        StatusCode::OK
    );
    react(&app, &ann, &one, "🎉", false).await;
    let mut updates = 0;
    while updates < 4 {
        updates += carol_ws
            .until("message_updated")
            .await
            .iter()
            .filter(|e| e["type"] == "message_updated")
            .count();
    }

    let cursor = json!([{"channel_id": channel, "last_seq": 2, "version": held_version}]);
    let mut bob_ws = WsClient::open(addr, &bob, cursor).await;
    let events: Vec<Value> = bob_ws
        .drain()
        .await
        .into_iter()
        .filter(|e| e["type"] == "message_updated" || e["type"] == "message")
        .collect();
    // Each changed message once, as it is now, in the order of its last change.
    assert_eq!(events.len(), 2, "{events:#?}");
    assert_eq!(events[0]["message"]["id"], two.as_str());
    assert_eq!(events[0]["message"]["text"], "two!");
    assert_eq!(events[1]["message"]["id"], one.as_str());
    assert_eq!(
        events[1]["message"]["reactions"],
        json!([{"emoji": "👍", "count": 1, "users": [carol.id]}])
    );
    let newest = events[1]["version"].as_i64().unwrap_or(0);
    assert!(newest > events[0]["version"].as_i64().unwrap_or(0));
    assert_eq!(summary(&app, &bob, &channel).await["version"], newest);

    // From there nothing is replayed again.
    let cursor = json!([{"channel_id": channel, "last_seq": 2, "version": newest}]);
    let mut again = WsClient::open(addr, &bob, cursor).await;
    let replayed: Vec<Value> = again
        .drain()
        .await
        .into_iter()
        .filter(|e| e["type"] == "message_updated" || e["type"] == "message")
        .collect();
    assert!(replayed.is_empty(), "{replayed:#?}");

    // A message replayed as new carries its reactions and the version of its last change.
    let three = id_of(&app.send(&ann, &channel, "three").await);
    react(&app, &carol, &three, "😂", true).await;
    while carol_ws
        .until("message_updated")
        .await
        .iter()
        .all(|e| e["message"]["id"] != three.as_str())
    {}
    let cursor = json!([{"channel_id": channel, "last_seq": 2, "version": newest}]);
    let mut later = WsClient::open(addr, &bob, cursor).await;
    let fresh: Vec<Value> = later
        .drain()
        .await
        .into_iter()
        .filter(|e| e["type"] == "message")
        .collect();
    assert_eq!(fresh.len(), 1, "{fresh:#?}");
    assert_eq!(fresh[0]["message"]["reactions"][0]["emoji"], "😂");
    assert!(fresh[0]["version"].as_i64().unwrap_or(0) > newest);
}
