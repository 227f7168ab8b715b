//! Accounts and sessions, through the HTTP API and the server functions, on a real PostgreSQL
//! (a fresh database per test).

mod common;

use axum::http::{header, Method, StatusCode};
use common::TestApp;
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test]
async fn sign_up_signs_in(pool: PgPool) {
    let app = TestApp::new(pool).await;

    let cookie = app.sign_up("alice").await;
    let me = app.get("/api/auth/me", Some(&cookie)).await;

    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["username"], "alice");
    assert_eq!(me.json()["display_name"], "Alice");
}

#[sqlx::test]
async fn session_cookie_is_http_only_and_same_site_lax(pool: PgPool) {
    let app = TestApp::new(pool).await;

    let response = app
        .post_json(
            "/api/auth/signup",
            json!({"username": "alice", "display_name": "Alice", "password": "correct horse"}),
            None,
        )
        .await;

    let set_cookie = response
        .headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(set_cookie.contains("Path=/"), "{set_cookie}");
}

#[sqlx::test]
async fn duplicate_username_is_rejected_case_insensitively(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.sign_up("alice").await;

    for name in ["alice", "ALICE", " Alice "] {
        let response = app
            .post_json(
                "/api/auth/signup",
                json!({"username": name, "display_name": "Another Alice", "password": "correct horse"}),
                None,
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::CONFLICT,
            "{name}: {}",
            response.text
        );
        assert_eq!(response.error_code(), "username_taken");
        assert!(response.session_cookie().is_none());
    }
    let count = sqlx::query_scalar!("SELECT count(*) FROM demo_accounts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, Some(1));
}

#[sqlx::test]
async fn wrong_password_and_unknown_user_are_rejected_alike(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.sign_up("alice").await;

    let wrong_password = app
        .post_json(
            "/api/auth/login",
            json!({"username": "alice", "password": "incorrect horse"}),
            None,
        )
        .await;
    let unknown_user = app
        .post_json(
            "/api/auth/login",
            json!({"username": "mallory", "password": "correct horse"}),
            None,
        )
        .await;

    for response in [&wrong_password, &unknown_user] {
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
        assert_eq!(response.error_code(), "invalid_credentials");
        assert!(response.session_cookie().is_none());
    }
    assert_eq!(
        wrong_password.text, unknown_user.text,
        "the answer must not reveal which part was wrong"
    );
}

#[sqlx::test]
async fn sign_in_accepts_the_right_password_in_any_username_case(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.sign_up("alice").await;

    let response = app
        .post_json(
            "/api/auth/login",
            json!({"username": "Alice", "password": "correct horse"}),
            None,
        )
        .await;

    assert_eq!(response.status, StatusCode::OK, "{}", response.text);
    let cookie = response.session_cookie().expect("a session cookie");
    assert_eq!(
        app.get("/api/auth/me", Some(&cookie)).await.json()["username"],
        "alice"
    );
}

#[sqlx::test]
async fn sign_out_invalidates_the_session_on_the_server(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let cookie = app.sign_up("alice").await;

    let response = app
        .request(Method::POST, "/api/auth/logout", None, Some(&cookie))
        .await;

    assert_eq!(response.status, StatusCode::NO_CONTENT);
    let cleared = response
        .headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    // A client that kept the old cookie is refused: the session is gone, not just forgotten.
    let me = app.get("/api/auth/me", Some(&cookie)).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert_eq!(me.error_code(), "unauthenticated");
    let sessions = sqlx::query_scalar!("SELECT count(*) FROM demo_sessions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(sessions, Some(0));
}

#[sqlx::test]
async fn stored_password_is_an_argon2id_hash(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.sign_up("alice").await;

    let hash =
        sqlx::query_scalar!("SELECT password_hash FROM demo_accounts WHERE username = 'alice'")
            .fetch_one(&app.pool)
            .await
            .unwrap();

    assert_ne!(hash, "correct horse");
    assert!(!hash.contains("correct horse"));
    assert!(hash.starts_with("$argon2id$"), "{hash}");
}

#[sqlx::test]
async fn cookie_of_a_deleted_session_is_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let cookie = app.sign_up("alice").await;
    assert_eq!(
        app.get("/api/auth/me", Some(&cookie)).await.status,
        StatusCode::OK
    );

    sqlx::query!("DELETE FROM demo_sessions")
        .execute(&app.pool)
        .await
        .unwrap();

    assert_eq!(
        app.get("/api/auth/me", Some(&cookie)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/users", Some(&cookie)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[sqlx::test]
async fn expired_and_forged_sessions_are_refused(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let cookie = app.sign_up("alice").await;

    sqlx::query!("UPDATE demo_sessions SET expires_at = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();

    assert_eq!(
        app.get("/api/auth/me", Some(&cookie)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let forged = "parley_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert_eq!(
        app.get("/api/auth/me", Some(forged)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let oversized = format!("parley_session={}", "A".repeat(10_000));
    assert_eq!(
        app.get("/api/auth/me", Some(&oversized)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[sqlx::test]
async fn invalid_sign_ups_get_clear_errors(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let cases = [
        (
            json!({"username": "", "display_name": "A", "password": "correct horse"}),
            "Username is required",
        ),
        (
            json!({"username": "alice", "display_name": "  ", "password": "correct horse"}),
            "Display name is required",
        ),
        (
            json!({"username": "alice", "display_name": "Alice", "password": ""}),
            "Password is required",
        ),
        (
            json!({"username": "alice", "display_name": "Alice", "password": "short"}),
            "Password must be at least 8 characters",
        ),
        (
            json!({"username": "a l i c e", "display_name": "Alice", "password": "correct horse"}),
            "Username may only contain",
        ),
        (
            json!({"username": "alice", "display_name": "Al\u{202E}ice", "password": "correct horse"}),
            "invisible or control characters",
        ),
    ];
    for (body, expected) in cases {
        let response = app.post_json("/api/auth/signup", body.clone(), None).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(response.error_code(), "bad_request");
        let message = response.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(message.contains(expected), "{body}: {message}");
    }
    let malformed = app
        .request(
            Method::POST,
            "/api/auth/signup",
            Some(("application/json", "{".into())),
            None,
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.error_code(), "bad_request");
}

#[sqlx::test]
async fn people_lists_everyone_else(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let alice = app.sign_up("alice").await;
    app.sign_up("bob").await;
    app.sign_up("carol").await;

    let people = app.get("/api/users", Some(&alice)).await;

    assert_eq!(people.status, StatusCode::OK);
    let names: Vec<_> = people
        .json()
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| u["username"].clone())
        .collect();
    assert_eq!(names, [json!("bob"), json!("carol")]);
    assert!(
        !people.text.contains("argon2"),
        "password hashes never leave the server"
    );
}

#[sqlx::test]
async fn protected_pages_send_signed_out_visitors_to_login(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let cookie = app.sign_up("alice").await;

    for (path, next) in [
        ("/chat", "/chat"),
        ("/people", "/people"),
        ("/chat/abc", "/chat/abc"),
    ] {
        let response = app.get(path, None).await;
        assert!(
            response.status.is_redirection(),
            "{path}: {}",
            response.status
        );
        let location = response
            .headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok());
        assert_eq!(location, Some(format!("/login?next={next}").as_str()));
    }
    let people = app.get("/people", Some(&cookie)).await;
    assert_eq!(people.status, StatusCode::OK);
    assert!(people.text.contains("People"));
}

#[sqlx::test]
async fn server_functions_use_the_session_cookie(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let cookie = app.sign_up("alice").await;
    let form = "application/x-www-form-urlencoded";

    let signed_in = app
        .request(
            Method::POST,
            "/api/fn/current_user",
            Some((form, String::new())),
            Some(&cookie),
        )
        .await;
    let visitor = app
        .request(
            Method::POST,
            "/api/fn/current_user",
            Some((form, String::new())),
            None,
        )
        .await;
    let wrong = app
        .request(
            Method::POST,
            "/api/fn/login",
            Some((
                form,
                "input[username]=alice&input[password]=nope-nope".into(),
            )),
            None,
        )
        .await;

    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text);
    assert_eq!(signed_in.json()["username"], "alice");
    assert_eq!(visitor.json(), serde_json::Value::Null);
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.text);
    assert_eq!(
        wrong.error_code(),
        "",
        "server functions answer with the bare error: {}",
        wrong.text
    );
    assert_eq!(wrong.json()["code"], "invalid_credentials");
}

/// The chat's migrations live beside a host's own: the host migrates first (sqlx's usual
/// `_sqlx_migrations`), then the chat (its own `chat_migrations`), then the host ships a new
/// migration, and each side only ever sees its own.
#[sqlx::test(migrations = false)]
async fn the_chats_migrations_run_beside_a_hosts_own(pool: PgPool) {
    use sqlx::migrate::Migrator;
    let host_dir =
        std::env::temp_dir().join(format!("parley-host-migrations-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&host_dir).expect("host migrations folder");
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
    for entry in std::fs::read_dir(demo).expect("demo migrations") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("file name").to_owned();
        std::fs::copy(&path, host_dir.join(name)).expect("copy");
    }
    Migrator::new(host_dir.as_path())
        .await
        .expect("host migrations")
        .run(&pool)
        .await
        .expect("the host's migrations run first");

    parley::server::db::migrate(&pool)
        .await
        .expect("the chat's migrations run on the host's database");
    parley::server::db::migrate(&pool)
        .await
        .expect("and again, as at every start");

    std::fs::write(
        host_dir.join("20270101000001_host_profiles.sql"),
        "CREATE TABLE host_profiles (account_id uuid PRIMARY KEY REFERENCES demo_accounts (id), bio text);",
    )
    .expect("a new host migration");
    Migrator::new(host_dir.as_path())
        .await
        .expect("host migrations")
        .run(&pool)
        .await
        .expect("the host's next migration still runs");

    let host: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&pool)
            .await
            .expect("host versions");
    let chat: Vec<i64> = sqlx::query_scalar("SELECT version FROM chat_migrations ORDER BY version")
        .fetch_all(&pool)
        .await
        .expect("chat versions");
    let chat_source: Vec<i64> = parley::server::db::migrator()
        .iter()
        .map(|m| m.version)
        .collect();
    assert_eq!(
        chat, chat_source,
        "the chat records its own migrations, all of them"
    );
    let mut host_source: Vec<i64> = std::fs::read_dir(&host_dir)
        .expect("host migrations")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.split('_').next()?.parse().ok()
        })
        .collect();
    host_source.sort_unstable();
    assert!(host_source.contains(&20261202100001) && host_source.contains(&20270101000001));
    assert_eq!(
        host, host_source,
        "the host's table holds only the host's, all of them"
    );
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'
           AND tablename IN ('chat_users', 'chat_messages', 'demo_accounts', 'host_profiles')",
    )
    .fetch_one(&pool)
    .await
    .expect("tables");
    assert_eq!(tables, 4);
    let _ = std::fs::remove_dir_all(&host_dir);
}
