//! Finding people: `GET /api/chat/users?q=&offset=&limit=` and the `search_users` server
//! function, answered by the demo host's `Identity::list_users` (SQL over its accounts), on a
//! real PostgreSQL (a fresh database per test).

mod common;

use axum::http::StatusCode;
use common::TestApp;
use serde_json::Value;
use sqlx::PgPool;

/// Accounts straight into the demo's table (no password to hash: nobody signs in as them).
async fn accounts(app: &TestApp, people: &[(&str, &str)]) {
    let usernames: Vec<String> = people.iter().map(|(u, _)| (*u).to_owned()).collect();
    let names: Vec<String> = people.iter().map(|(_, d)| (*d).to_owned()).collect();
    sqlx::query!(
        "INSERT INTO demo_accounts (id, username, display_name, password_hash)
         SELECT gen_random_uuid(), u, d, 'not a hash' FROM UNNEST($1::text[], $2::text[]) AS t(u, d)",
        &usernames,
        &names
    )
    .execute(&app.pool)
    .await
    .expect("insert accounts");
}

/// A page's usernames, in order, and its `more`.
fn usernames(page: &Value) -> (Vec<String>, bool) {
    let names = page["users"]
        .as_array()
        .expect("a page holds users")
        .iter()
        .map(|u| u["username"].as_str().unwrap_or_default().to_owned())
        .collect();
    (names, page["more"].as_bool().expect("a page says more"))
}

async fn search(app: &TestApp, cookie: &str, query: &str) -> (Vec<String>, bool) {
    let response = app
        .get(&format!("/api/chat/users?{query}"), Some(cookie))
        .await;
    assert_eq!(
        response.status,
        StatusCode::OK,
        "{query}: {}",
        response.text
    );
    usernames(&response.json())
}

#[sqlx::test]
async fn finds_people_by_display_name_or_username_ignoring_case(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let alice = app.sign_up("alice").await;
    accounts(
        &app,
        &[
            ("grace", "Grace Hopper"),
            ("ada", "Ada Lovelace"),
            ("hopper.fan", "Zed"),
            ("alan", "Alan Turing"),
        ],
    )
    .await;

    let by_name = search(&app, &alice, "q=LOVElace").await;
    let by_both = search(&app, &alice, "q=hop").await;
    let trimmed = search(&app, &alice, "q=%20%20turing%20").await;
    let nobody = search(&app, &alice, "q=nobody").await;
    let everyone = search(&app, &alice, "").await;
    let blank = search(&app, &alice, "q=%20").await;

    assert_eq!(by_name, (vec!["ada".to_owned()], false));
    assert_eq!(
        by_both,
        (vec!["grace".to_owned(), "hopper.fan".to_owned()], false),
        "Grace by her display name, Zed by his username; by display name"
    );
    assert_eq!(trimmed, (vec!["alan".to_owned()], false));
    assert_eq!(nobody, (vec![], false));
    assert_eq!(
        everyone,
        (
            ["ada", "alan", "grace", "hopper.fan"]
                .map(str::to_owned)
                .to_vec(),
            false
        ),
        "no query: everyone but the viewer, by display name"
    );
    assert_eq!(blank, everyone);
    assert_eq!(
        search(&app, &alice, "q=alice").await,
        (vec![], false),
        "the viewer is never offered"
    );
}

#[sqlx::test]
async fn percent_underscore_and_backslash_match_literally(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let alice = app.sign_up("alice").await;
    accounts(
        &app,
        &[
            ("real", "100% Real"),
            ("hundred", "100 Real"),
            ("a_b", "Underscore"),
            ("axb", "Letter"),
            ("slash", "Back\\slash"),
            ("plain", "Backslash"),
        ],
    )
    .await;

    assert_eq!(
        search(&app, &alice, "q=%25").await,
        (vec!["real".to_owned()], false),
        "% is a percent sign, not 'anything'"
    );
    assert_eq!(
        search(&app, &alice, "q=0%25%20r").await,
        (vec!["real".to_owned()], false)
    );
    assert_eq!(
        search(&app, &alice, "q=a_b").await,
        (vec!["a_b".to_owned()], false),
        "_ is an underscore, not 'any one character'"
    );
    assert_eq!(
        search(&app, &alice, "q=k%5Cs").await,
        (vec!["slash".to_owned()], false),
        "a backslash is itself"
    );
}

#[sqlx::test]
async fn pages_follow_on_without_gaps_or_repeats(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let alice = app.sign_up("alice").await;
    // 120 people under 7 display names: only the stable second key orders those who share one.
    let people: Vec<(String, String)> = (0..120)
        .map(|i| (format!("person{i:03}"), format!("Person {}", i % 7)))
        .collect();
    let people: Vec<(&str, &str)> = people
        .iter()
        .map(|(u, d)| (u.as_str(), d.as_str()))
        .collect();
    accounts(&app, &people).await;

    let first = search(&app, &alice, "").await;
    let second = search(&app, &alice, "offset=50").await;
    let third = search(&app, &alice, "offset=100").await;
    let past = search(&app, &alice, "offset=500").await;
    let small = search(&app, &alice, "q=person&offset=110&limit=7").await;
    let largest = search(&app, &alice, "limit=100").await;

    assert_eq!((first.0.len(), first.1), (50, true), "50 by default");
    assert_eq!((second.0.len(), second.1), (50, true));
    assert_eq!((third.0.len(), third.1), (20, false));
    assert_eq!(past, (vec![], false));
    assert_eq!((small.0.len(), small.1), (7, true));
    assert_eq!((largest.0.len(), largest.1), (100, true));
    let mut all: Vec<String> = [first.0, second.0, third.0].concat();
    assert_eq!(all.len(), 120);
    assert_eq!(all[..100], largest.0[..], "pages of 50 and of 100 agree");
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 120, "nobody on two pages, nobody missing");

    // "Person 3": 17 of the 120, over pages of 5.
    let mut found = Vec::new();
    let mut offset = 0;
    loop {
        let (page, more) = search(
            &app,
            &alice,
            &format!("q=person%203&offset={offset}&limit=5"),
        )
        .await;
        offset += page.len();
        found.extend(page);
        if !more {
            break;
        }
    }
    assert_eq!(found.len(), 17);
    found.sort();
    found.dedup();
    assert_eq!(found.len(), 17, "each once");
}

#[sqlx::test]
async fn the_people_found_are_chat_users(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let alice = app.sign_up("alice").await;
    accounts(&app, &[("grace", "Grace Hopper")]).await;

    let page = app
        .get("/api/chat/users?q=grace", Some(&alice))
        .await
        .json();
    let id: uuid::Uuid = page["users"][0]["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("a chat user id");
    let stored = sqlx::query_scalar!(
        r#"SELECT display_name AS "display_name!" FROM chat_users WHERE id = $1"#,
        id
    )
    .fetch_optional(&app.pool)
    .await
    .expect("chat_users");

    assert_eq!(
        stored.as_deref(),
        Some("Grace Hopper"),
        "upserted on the way"
    );
}

#[sqlx::test]
async fn bad_parameters_are_clear_400s(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let alice = app.sign_up("alice").await;
    let long = "x".repeat(101);

    for query in [
        "limit=0".to_owned(),
        "limit=101".to_owned(),
        "limit=ten".to_owned(),
        "limit=-1".to_owned(),
        "offset=-1".to_owned(),
        "offset=1.5".to_owned(),
        "offset=99999999999".to_owned(),
        format!("q={long}"),
        "q=a%00b".to_owned(),
        "q=a%0Ab".to_owned(),
    ] {
        for path in ["/api/chat/users", "/api/users"] {
            let response = app.get(&format!("{path}?{query}"), Some(&alice)).await;
            assert_eq!(
                response.status,
                StatusCode::BAD_REQUEST,
                "{path}?{query}: {}",
                response.text
            );
            assert_eq!(response.error_code(), "bad_request", "{path}?{query}");
            assert!(
                !response.json()["error"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .is_empty(),
                "{path}?{query} says why"
            );
        }
    }
    let limit = app.get("/api/chat/users?limit=0", Some(&alice)).await;
    assert_eq!(
        limit.json()["error"]["message"],
        "limit must be between 1 and 100."
    );
    assert_eq!(
        app.get("/api/chat/users?q=a", None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[sqlx::test]
async fn the_search_users_server_function_answers_a_page(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let alice = app.sign_up("alice").await;
    accounts(&app, &[("grace", "Grace Hopper"), ("ada", "Ada Lovelace")]).await;
    let form = "application/x-www-form-urlencoded";
    let call = |body: &str| {
        app.request(
            axum::http::Method::POST,
            "/api/fn/parley_search_users",
            Some((form, body.to_owned())),
            Some(&alice),
        )
    };

    let found = call("query=HOPPER&offset=0").await;
    let everyone = call("query=&offset=1").await;
    let bad_offset = call("query=a&offset=minus").await;
    let too_long = call(&format!("query={}&offset=0", "x".repeat(101))).await;
    let listed = app
        .request(
            axum::http::Method::POST,
            "/api/fn/users",
            Some((form, String::new())),
            Some(&alice),
        )
        .await;

    assert_eq!(found.status, StatusCode::OK, "{}", found.text);
    assert_eq!(usernames(&found.json()), (vec!["grace".to_owned()], false));
    assert_eq!(
        usernames(&everyone.json()),
        (vec!["grace".to_owned()], false)
    );
    assert_eq!(
        bad_offset.status,
        StatusCode::BAD_REQUEST,
        "{}",
        bad_offset.text
    );
    assert_eq!(bad_offset.json()["code"], "bad_request");
    assert_eq!(
        too_long.status,
        StatusCode::BAD_REQUEST,
        "{}",
        too_long.text
    );
    assert_eq!(too_long.json()["code"], "bad_request");
    let signed_out = app
        .request(
            axum::http::Method::POST,
            "/api/fn/parley_search_users",
            Some((form, "query=&offset=0".into())),
            None,
        )
        .await;
    assert_eq!(
        signed_out.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        signed_out.text
    );
    let listed: Vec<Value> = listed.json().as_array().cloned().unwrap_or_default();
    assert_eq!(listed.len(), 2, "list_users is the first page, as a list");
}
