//! Conversations people manage (SPEC §7.2) against real PostgreSQL, through the JSON API and
//! the WebSocket as clients use them: roles decide who adds, removes and renames (403
//! otherwise), the last owner leaving hands the group over, every change is a system message
//! in the log, a removed member's socket and stream stop carrying the channel at once, muted
//! conversations leave the global unread count, blocks refuse 1:1 sends and starts and hide
//! presence and typing, and a reconnecting client's `hello` brings exactly the changes it
//! missed (edits, deletions, renames), in order, nothing twice.

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use common::{sse_open, ws_connect, TestApp, TestResponse, TestUser, WsClient};
use serde_json::{json, Value};
use sqlx::PgPool;

/// A group made by `owner` with `others`; its id.
async fn group(app: &TestApp, owner: &TestUser, others: &[&TestUser], name: &str) -> String {
    app.channel(owner, others, Some(name)).await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn change(
    app: &TestApp,
    by: &TestUser,
    channel: &str,
    add: &[&TestUser],
    remove: &[&TestUser],
) -> TestResponse {
    let ids = |users: &[&TestUser]| users.iter().map(|u| u.id.clone()).collect::<Vec<_>>();
    app.call(
        Method::POST,
        &format!("/api/chat/channels/{channel}/members"),
        by,
        Some(json!({"add": ids(add), "remove": ids(remove)})),
    )
    .await
}

async fn roles(app: &TestApp, user: &TestUser, channel: &str) -> Vec<(String, String)> {
    let members = app
        .call(
            Method::GET,
            &format!("/api/chat/channels/{channel}/members"),
            user,
            None,
        )
        .await;
    assert_eq!(members.status, StatusCode::OK, "{}", members.text);
    members
        .json()
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (
                m["user"]["id"].as_str().unwrap_or_default().to_owned(),
                m["role"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The texts of the channel's system messages, oldest first.
async fn system_lines(app: &TestApp, user: &TestUser, channel: &str) -> Vec<String> {
    let page = app
        .get(
            &format!("/api/chat/channels/{channel}/messages"),
            Some(&user.cookie),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    page.json()["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["user_id"].is_null())
        .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn rename(app: &TestApp, who: &TestUser, channel: &str, name: &str) -> TestResponse {
    let path = format!("/api/chat/channels/{channel}");
    app.call(Method::PATCH, &path, who, Some(json!({"name": name})))
        .await
}

async fn promote(
    app: &TestApp,
    who: &TestUser,
    channel: &str,
    whom: &TestUser,
    role: &str,
) -> TestResponse {
    let path = format!("/api/chat/channels/{channel}/members/{}", whom.id);
    app.call(Method::PUT, &path, who, Some(json!({"role": role})))
        .await
}

async fn edit(app: &TestApp, who: &TestUser, id: &Value, text: &str) -> TestResponse {
    let path = format!("/api/chat/messages/{}", id.as_str().unwrap_or_default());
    app.call(Method::PATCH, &path, who, Some(json!({"text": text})))
        .await
}

async fn mute(app: &TestApp, who: &TestUser, channel: &str, muted: bool) -> TestResponse {
    let path = format!("/api/chat/channels/{channel}/mute");
    app.call(Method::PUT, &path, who, Some(json!({"muted": muted})))
        .await
}

async fn report(app: &TestApp, who: &TestUser, message: &str, reason: &str) -> TestResponse {
    let path = format!("/api/chat/messages/{message}/report");
    app.call(Method::POST, &path, who, Some(json!({"reason": reason})))
        .await
}

#[sqlx::test]
async fn only_owners_and_admins_change_a_group(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let dan = app.user("dan").await;
    let channel = group(&app, &ann, &[&bob, &carol], "Plans").await;
    let roles_now = roles(&app, &bob, &channel).await;
    assert!(roles_now.contains(&(ann.id.clone(), "owner".into())));
    assert!(roles_now.contains(&(bob.id.clone(), "member".into())));

    // A member may neither remove, add, rename nor change roles.
    let refused = change(&app, &bob, &channel, &[], &[&carol]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert_eq!(refused.error_code(), "forbidden");
    assert_eq!(
        change(&app, &bob, &channel, &[&dan], &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        rename(&app, &bob, &channel, "Mine").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        promote(&app, &bob, &channel, &bob, "admin").await.status,
        StatusCode::FORBIDDEN
    );
    // Bad input is a clear 400, never a 500.
    let bad = promote(&app, &ann, &channel, &bob, "emperor").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(
        rename(&app, &ann, &channel, "  ").await.status,
        StatusCode::BAD_REQUEST
    );
    // Someone outside the group gets not_found, whatever they ask.
    assert_eq!(
        change(&app, &dan, &channel, &[&dan], &[]).await.status,
        StatusCode::NOT_FOUND
    );
    // A 1:1 has no members to change.
    let dm = app.channel(&ann, &[&bob], None).await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        change(&app, &ann, &dm, &[&carol], &[]).await.status,
        StatusCode::BAD_REQUEST
    );

    // The owner makes bob an admin: he adds and removes members, but no owner.
    assert_eq!(
        promote(&app, &ann, &channel, &bob, "admin").await.status,
        StatusCode::OK
    );
    let added = change(&app, &bob, &channel, &[&dan], &[&carol]).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.text);
    let added = added.json();
    let members: Vec<&str> = added["members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert!(members.contains(&dan.id.as_str()) && !members.contains(&carol.id.as_str()));
    assert_eq!(
        change(&app, &bob, &channel, &[], &[&ann]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        rename(&app, &bob, &channel, "Our plans").await.status,
        StatusCode::OK
    );
    // The last owner cannot step down before someone else is owner.
    assert_eq!(
        promote(&app, &ann, &channel, &ann, "member").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        system_lines(&app, &ann, &channel).await,
        [
            "Bob added Dan",
            "Bob removed Carol",
            "Bob renamed the group to Our plans"
        ]
    );
    // Carol reads nothing of it any more.
    let gone = app
        .get(
            &format!("/api/chat/channels/{channel}/messages"),
            Some(&carol.cookie),
        )
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[sqlx::test]
async fn the_last_owner_leaving_hands_the_group_to_the_longest_standing_member(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let channel = group(&app, &ann, &[&bob], "Book club").await;
    // Carol joins later than bob.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        change(&app, &ann, &channel, &[&carol], &[]).await.status,
        StatusCode::OK
    );
    let left = app
        .call(
            Method::POST,
            &format!("/api/chat/channels/{channel}/leave"),
            &ann,
            None,
        )
        .await;
    assert_eq!(left.status, StatusCode::NO_CONTENT, "{}", left.text);
    let now = roles(&app, &carol, &channel).await;
    assert_eq!(
        now,
        [
            (bob.id.clone(), "owner".into()),
            (carol.id.clone(), "member".into())
        ]
    );
    assert_eq!(
        system_lines(&app, &bob, &channel).await,
        ["Ann added Carol", "Ann left"]
    );
    // Ann is out: her reads are not_found, her list does not hold it.
    let reread = app
        .get(&format!("/api/chat/channels/{channel}"), Some(&ann.cookie))
        .await;
    assert_eq!(reread.status, StatusCode::NOT_FOUND);
    let list = app
        .get("/api/chat/channels", Some(&ann.cookie))
        .await
        .json();
    assert!(!list.to_string().contains(&channel));
    // Bob, the new owner, may rename it.
    let renamed = app
        .call(
            Method::PATCH,
            &format!("/api/chat/channels/{channel}"),
            &bob,
            Some(json!({"name": "Bob's books"})),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    assert_eq!(renamed.json()["name"], "Bob's books");
}

#[sqlx::test]
async fn a_removed_member_stops_receiving_the_channel_at_once(pool: PgPool) {
    use tokio::io::AsyncReadExt;
    let app = TestApp::new(pool).await;
    let addr = app.serve().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let channel = group(&app, &ann, &[&bob, &carol], "Plans").await;
    app.send(&ann, &channel, "before").await;
    let mut carol_ws = WsClient::open(addr, &carol, json!([])).await;
    let mut bob_ws = WsClient::open(addr, &bob, json!([])).await;
    let mut carol_stream = sse_open(addr, &channel, &format!("Cookie: {}", carol.cookie)).await;

    let removed = change(&app, &ann, &channel, &[], &[&carol]).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.text);

    // Carol's socket is told at once; her stream of the channel ends.
    let events = carol_ws.until("channel_removed").await;
    assert_eq!(events[events.len() - 1]["channel_id"], channel.as_str());
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), carol_stream.read_to_end(&mut rest))
        .await
        .expect("the removed member's stream ends")
        .expect("read");
    // Bob sees the system line and the new member list, live.
    let bobs = bob_ws.until("channel_updated").await;
    let updated = &bobs[bobs.len() - 1];
    assert_eq!(updated["members"].as_array().map(Vec::len), Some(2));
    let line = bob_ws.until("message").await;
    assert_eq!(line[line.len() - 1]["message"]["text"], "Ann removed Carol");
    assert!(line[line.len() - 1]["message"]["user_id"].is_null());

    // Later messages reach bob, never carol.
    app.send(&ann, &channel, "after").await;
    let after = bob_ws.until("message").await;
    assert_eq!(after[after.len() - 1]["message"]["text"], "after");
    let carols = carol_ws.drain().await;
    let text = serde_json::to_string(&carols).unwrap_or_default();
    assert!(
        !text.contains("after") && !text.contains("removed Carol"),
        "{text}"
    );
    // Every later read and send of hers is not_found.
    let history = app
        .get(
            &format!("/api/chat/channels/{channel}/messages"),
            Some(&carol.cookie),
        )
        .await;
    assert_eq!(history.status, StatusCode::NOT_FOUND);
    let id = uuid::Uuid::new_v4();
    carol_ws
        .send(json!({"type": "send", "id": id, "channel_id": channel, "text": "hello?"}))
        .await;
    let nack = carol_ws.until("nack").await;
    assert_eq!(nack[nack.len() - 1]["error"]["code"], "not_found");
    // Resuming it tells her it is gone.
    carol_ws
        .send(json!({"type": "resume", "cursors": [{"channel_id": channel, "last_seq": 1, "version": 0}]}))
        .await;
    let resumed = carol_ws.until("channel_removed").await;
    assert!(!serde_json::to_string(&resumed)
        .unwrap_or_default()
        .contains("after"));
}

#[sqlx::test]
async fn a_reconnecting_client_gets_exactly_the_changes_it_missed(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let addr = app.serve().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let channel = group(&app, &ann, &[&bob, &carol], "Plans").await;
    let mut ids = Vec::new();
    for text in ["one", "two", "three"] {
        ids.push(app.send(&ann, &channel, text).await["id"].clone());
    }
    // Bob holds the log as the browser loads it: the page and its version.
    let page = app
        .get(
            &format!("/api/chat/channels/{channel}/messages"),
            Some(&bob.cookie),
        )
        .await
        .json();
    let (held_seq, held_version) = (3, page["version"].as_i64().unwrap_or(-1));
    assert!(held_version >= 0, "{page}");

    // Carol stays connected: once she has the last change live, the bus has delivered every
    // change, so bob's replay below is not mixed with late live events.
    let mut carol_ws = WsClient::open(addr, &carol, json!([])).await;
    // Bob is away; ann edits "one", deletes "two", edits "one" again, renames the group.
    assert_eq!(
        edit(&app, &ann, &ids[0], "one!").await.status,
        StatusCode::OK
    );
    let deleted = app
        .call(
            Method::DELETE,
            &format!("/api/chat/messages/{}", ids[1].as_str().unwrap_or_default()),
            &ann,
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(
        edit(&app, &ann, &ids[0], "one!!").await.status,
        StatusCode::OK
    );
    let renamed = app
        .call(
            Method::PATCH,
            &format!("/api/chat/channels/{channel}"),
            &ann,
            Some(json!({"name": "Better plans"})),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text);
    let mut heard = Vec::new();
    while !heard
        .iter()
        .any(|e: &Value| e["type"] == "message" && e["message"]["seq"] == 4)
    {
        heard.extend(carol_ws.until("message").await);
    }

    let cursor = json!([{"channel_id": channel, "last_seq": held_seq, "version": held_version}]);
    let mut bob_ws = WsClient::open(addr, &bob, cursor).await;
    let events: Vec<Value> = bob_ws
        .drain()
        .await
        .into_iter()
        .filter(|e| e["type"] != "presence" && e["type"] != "channel_state")
        .collect();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "message_updated",
            "message_updated",
            "channel_updated",
            "message"
        ],
        "{events:#?}"
    );
    // In version order: the deletion of "two", then "one" once, as it is now.
    assert_eq!(events[0]["message"]["id"], ids[1]);
    assert_eq!(events[0]["message"]["deleted"], true);
    assert_eq!(events[0]["message"]["text"], "");
    assert_eq!(events[1]["message"]["id"], ids[0]);
    assert_eq!(events[1]["message"]["text"], "one!!");
    assert_eq!(events[1]["message"]["edited"], true);
    assert_eq!(events[2]["name"], "Better plans");
    assert_eq!(
        events[3]["message"]["text"],
        "Ann renamed the group to Better plans"
    );
    assert_eq!(events[3]["message"]["seq"], 4);
    let versions: Vec<i64> = events[..3]
        .iter()
        .filter_map(|e| e["version"].as_i64())
        .collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");

    // From where that left it, a second reconnect replays nothing.
    let newest = versions.iter().copied().max().unwrap_or(0);
    let cursor = json!([{"channel_id": channel, "last_seq": 4, "version": newest}]);
    let mut again = WsClient::open(addr, &bob, cursor).await;
    let replayed: Vec<Value> = again
        .drain()
        .await
        .into_iter()
        .filter(|e| e["type"] != "presence" && e["type"] != "channel_state")
        .collect();
    assert!(replayed.is_empty(), "{replayed:#?}");

    // A first-version client (no version in its cursor) still gets only new messages.
    let cursor = json!([{"channel_id": channel, "last_seq": held_seq}]);
    let mut old = WsClient::open(addr, &bob, cursor).await;
    let kinds: Vec<String> = old
        .drain()
        .await
        .into_iter()
        .filter_map(|e| e["type"].as_str().map(str::to_owned))
        .filter(|k| k != "presence" && k != "channel_state")
        .collect();
    assert_eq!(kinds, ["message"]);
}

#[sqlx::test]
async fn too_many_missed_changes_reset_the_channel_instead(pool: PgPool) {
    let app = TestApp::without_send_limit(pool).await;
    let addr = app.serve().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let busy = group(&app, &ann, &[&bob], "Busy").await;
    let calm = group(&app, &ann, &[&bob], "Calm").await;
    for i in 0..450 {
        app.send(&ann, &busy, &format!("m{i}")).await;
    }
    let calm_message = app.send(&ann, &calm, "calm").await;
    // 450 messages changed while bob was away (edits stamped as the edit path would, without
    // waiting out the edit limit), and one in the calm channel.
    sqlx::query(
        "UPDATE chat_messages SET version = seq, updated_at = clock_timestamp()
          WHERE channel_id = $1::uuid",
    )
    .bind(&busy)
    .execute(&app.pool)
    .await
    .expect("stamp versions");
    sqlx::query("UPDATE chat_channels SET version = 450 WHERE id = $1::uuid")
        .bind(&busy)
        .execute(&app.pool)
        .await
        .expect("bump the channel");
    assert_eq!(
        edit(&app, &ann, &calm_message["id"], "still calm")
            .await
            .status,
        StatusCode::OK
    );
    let cursors = json!([
        {"channel_id": busy, "last_seq": 450, "version": 0},
        {"channel_id": calm, "last_seq": 1, "version": 0},
    ]);
    let mut bob_ws = WsClient::open(addr, &bob, cursors).await;
    let events = bob_ws.drain().await;
    let of = |kind: &str| {
        events
            .iter()
            .filter(|e| e["type"] == kind)
            .collect::<Vec<_>>()
    };
    // The busy channel is past the frame's budget: a reset, none of its changes. Rows come
    // per channel in id order and stop at the budget, so the calm channel is replayed whole
    // when its id comes first, else reset too: all of a channel's changes or none, never part.
    let resets: Vec<&str> = of("reset")
        .iter()
        .filter_map(|e| e["channel_id"].as_str())
        .collect();
    assert!(resets.contains(&busy.as_str()), "{events:?}");
    let updated = of("message_updated");
    assert!(
        updated
            .iter()
            .all(|e| e["message"]["channel_id"] == calm.as_str()),
        "{updated:?}"
    );
    if resets.contains(&calm.as_str()) {
        assert!(updated.is_empty(), "{updated:?}");
    } else {
        // The edit's own live event may still be on its way through the bus when the socket
        // opens: then it comes twice, the same absolute state (the client keeps the newest).
        let mut ids: Vec<&Value> = updated.iter().map(|e| &e["message"]["id"]).collect();
        ids.dedup();
        assert_eq!(ids.len(), 1, "{updated:?}");
        assert!(
            updated.iter().all(|e| e["message"]["text"] == "still calm"),
            "{updated:?}"
        );
    }
    assert!(
        events.len() < 1024,
        "the answer fits the connection's queue"
    );
}

async fn unread(app: &TestApp, user: &TestUser) -> i64 {
    app.get("/api/chat/unread", Some(&user.cookie)).await.json()["unread"]
        .as_i64()
        .unwrap_or(-1)
}

#[sqlx::test]
async fn a_muted_conversation_leaves_the_global_unread_count(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let dm = app.channel(&ann, &[&bob], None).await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let other = app.channel(&carol, &[&bob], None).await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let muted = mute(&app, &bob, &dm, true).await;
    assert_eq!(muted.status, StatusCode::OK, "{}", muted.text);
    assert_eq!(muted.json()["muted"], true);
    app.send(&ann, &dm, "psst").await;
    app.send(&carol, &other, "hi").await;
    // Only carol's message counts; the muted channel still shows its own count.
    assert_eq!(unread(&app, &bob).await, 1);
    let channel = app
        .get(&format!("/api/chat/channels/{dm}"), Some(&bob.cookie))
        .await
        .json();
    assert_eq!(
        (channel["unread"].as_i64(), channel["muted"].as_bool()),
        (Some(1), Some(true))
    );
    assert_eq!(mute(&app, &bob, &dm, false).await.status, StatusCode::OK);
    assert_eq!(unread(&app, &bob).await, 2);
    // Only members mute.
    let foreign = app
        .call(
            Method::PUT,
            &format!("/api/chat/channels/{other}/mute"),
            &ann,
            Some(json!({"muted": true})),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
}

#[sqlx::test]
async fn a_block_stops_one_to_one_sends_and_starts_and_hides_presence_and_typing(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let addr = app.serve().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let dm = app.channel(&ann, &[&bob], None).await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let shared = group(&app, &ann, &[&bob, &carol], "Shared").await;
    let mut ann_ws = WsClient::open(addr, &ann, json!([])).await;

    let blocked = app
        .call(
            Method::PUT,
            &format!("/api/chat/blocks/{}", bob.id),
            &ann,
            None,
        )
        .await;
    assert_eq!(blocked.status, StatusCode::OK, "{}", blocked.text);
    assert_eq!(blocked.json(), json!([bob.id]));
    // Ann's own tabs hear of it; bob's presence is hidden from her.
    let heard = ann_ws.until("blocks").await;
    assert_eq!(heard[heard.len() - 1]["blocked"], json!([bob.id]));

    // Neither sends into their 1:1, over HTTP or the socket.
    for (from, cookie) in [(&bob, &bob.cookie), (&ann, &ann.cookie)] {
        let refused = app
            .post_json(
                "/api/chat/messages",
                json!({"channel_id": dm, "text": "hello"}),
                Some(cookie),
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
        assert_eq!(refused.error_code(), "blocked", "{}", from.id);
    }
    let mut bob_ws = WsClient::open(addr, &bob, json!([])).await;
    let id = uuid::Uuid::new_v4();
    bob_ws
        .send(json!({"type": "send", "id": id, "channel_id": dm, "text": "hello?"}))
        .await;
    let nack = bob_ws.until("nack").await;
    assert_eq!(nack[nack.len() - 1]["error"]["code"], "blocked");
    // The 1:1 still opens (its history is theirs), but a new one is not made.
    let reopened = app
        .post_json(
            "/api/chat/channels",
            json!({"members": [ann.id]}),
            Some(&bob.cookie),
        )
        .await;
    assert_eq!(reopened.status, StatusCode::OK, "{}", reopened.text);
    assert_eq!(reopened.json()["id"], dm.as_str());
    let carol_blocks = app
        .call(
            Method::PUT,
            &format!("/api/chat/blocks/{}", ann.id),
            &carol,
            None,
        )
        .await;
    assert_eq!(carol_blocks.status, StatusCode::OK);
    let start = app
        .post_json(
            "/api/chat/channels",
            json!({"members": [carol.id]}),
            Some(&ann.cookie),
        )
        .await;
    assert_eq!(start.status, StatusCode::FORBIDDEN, "{}", start.text);
    assert_eq!(start.error_code(), "blocked");

    // Bob's presence and typing do not reach ann: a fresh socket's `ready` leaves him out
    // (carol, who blocks no one in the group, is there), typing in the shared group does not
    // reach her, and the group still carries his messages.
    let mut ann_again = ws_connect(addr, Some(&ann.cookie), Some(&format!("http://{addr}")))
        .await
        .expect("websocket opens");
    ann_again
        .send(json!({"type": "hello", "version": 1, "cursors": []}))
        .await;
    let opening = ann_again.until("ready").await;
    let ready = &opening[opening.len() - 1];
    let seen: Vec<&str> = ready["presence"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["user_id"].as_str())
        .collect();
    assert!(!seen.contains(&bob.id.as_str()), "{ready}");
    assert_eq!(ready["blocked"], json!([bob.id]));
    bob_ws
        .send(json!({"type": "typing", "channel_id": shared}))
        .await;
    app.send(&bob, &shared, "group still works").await;
    let events = ann_again.until("message").await;
    let text = serde_json::to_string(&events).unwrap_or_default();
    assert!(!events.iter().any(|e| e["type"] == "typing"), "{text}");
    assert!(
        !events.iter().any(|e| e["type"] == "presence"
            && e["presence"]["user_id"] == bob.id.as_str()
            && e["presence"]["online"] == true),
        "{text}"
    );

    // Unblocked, they talk again.
    let unblocked = app
        .call(
            Method::DELETE,
            &format!("/api/chat/blocks/{}", bob.id),
            &ann,
            None,
        )
        .await;
    assert_eq!(unblocked.json(), json!([]));
    app.send(&bob, &dm, "friends again").await;
    // Blocking oneself or no one is a clear error.
    let me = app
        .call(
            Method::PUT,
            &format!("/api/chat/blocks/{}", ann.id),
            &ann,
            None,
        )
        .await;
    assert_eq!(me.status, StatusCode::BAD_REQUEST);
    let nobody = app
        .call(
            Method::PUT,
            &format!("/api/chat/blocks/{}", uuid::Uuid::new_v4()),
            &ann,
            None,
        )
        .await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
}

#[sqlx::test]
async fn a_send_right_after_an_unblock_goes_through(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let addr = app.serve().await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let dm = app.channel(&ann, &[&bob], None).await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut bob_ws = WsClient::open(addr, &bob, json!([])).await;
    for round in 0..5 {
        let block = format!("/api/chat/blocks/{}", bob.id);
        assert_eq!(
            app.call(Method::PUT, &block, &ann, None).await.status,
            StatusCode::OK
        );
        let id = uuid::Uuid::new_v4();
        let frame = json!({"type": "send", "id": id, "channel_id": dm, "text": "hi?"});
        bob_ws.send(frame.clone()).await;
        let refused = bob_ws.until("nack").await;
        assert_eq!(
            refused[refused.len() - 1]["error"]["code"],
            "blocked",
            "round {round}"
        );
        // Unblocked: the very next try of the same message is stored.
        assert_eq!(
            app.call(Method::DELETE, &block, &ann, None).await.status,
            StatusCode::OK
        );
        bob_ws.send(frame).await;
        let stored = bob_ws.until("ack").await;
        assert_eq!(
            stored[stored.len() - 1]["id"],
            id.to_string(),
            "round {round}"
        );
    }
}

#[sqlx::test]
async fn reports_need_a_reason_and_a_message_of_someone_elses(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let ann = app.user("ann").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let channel = group(&app, &ann, &[&bob], "Plans").await;
    let message = app.send(&ann, &channel, "rude words").await["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        report(&app, &bob, &message, "   ").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        report(&app, &bob, &message, &"x".repeat(1001)).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        report(&app, &ann, &message, "mine").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        report(&app, &carol, &message, "not mine").await.status,
        StatusCode::NOT_FOUND
    );
    let first = report(&app, &bob, &message, "spam").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    // Reporting again replaces the reason: one report per person per message.
    let again = report(&app, &bob, &message, "abuse").await;
    assert_eq!(again.json()["id"], first.json()["id"]);
    let stored: Vec<(String,)> = sqlx::query_as("SELECT reason FROM chat_reports")
        .fetch_all(&app.pool)
        .await
        .unwrap_or_default();
    assert_eq!(stored, [("abuse".to_owned(),)]);
}
