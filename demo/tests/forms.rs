//! Sign-up and sign-in sent as a plain HTML form post (typed and submitted before the WASM has
//! loaded): the server function answers as a form handler, with `303 See Other` to a path on
//! this site, never the password in an address. A fresh database per test.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{TestApp, TestResponse};
use sqlx::PgPool;

/// What Chromium sends for a form navigation.
const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
const FORM: &str = "application/x-www-form-urlencoded";

async fn form_post(app: &TestApp, path: &str, body: &str) -> TestResponse {
    let request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, FORM)
        .header(header::ACCEPT, BROWSER_ACCEPT)
        .header("sec-fetch-site", "same-origin")
        .header(header::REFERER, "http://127.0.0.1:3000/signup")
        .body(Body::from(body.to_owned()))
        .expect("valid test request");
    app.send_request(request).await
}

fn location(response: &TestResponse) -> &str {
    response
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[sqlx::test]
async fn plain_sign_up_redirects_to_next_signed_in(pool: PgPool) {
    let app = TestApp::new(pool).await;

    let response = form_post(
        &app,
        "/api/fn/signup",
        "next=%2Fchat&input%5Busername%5D=Dana&input%5Bdisplay_name%5D=Dana+D&input%5Bpassword%5D=correct+horse+battery",
    )
    .await;

    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.text);
    assert_eq!(location(&response), "/chat");
    let cookie = response.session_cookie().unwrap_or_default();
    let me = app.get("/api/auth/me", Some(&cookie)).await;
    assert_eq!(me.json()["username"], "dana");
    assert_eq!(me.json()["display_name"], "Dana D");
    // The password as typed (with its spaces) is the one stored.
    let login = app
        .post_json(
            "/api/auth/login",
            serde_json::json!({"username": "dana", "password": "correct horse battery"}),
            None,
        )
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
}

#[sqlx::test]
async fn plain_sign_in_never_redirects_off_this_site(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.sign_up("alice").await;

    for next in [
        "%2F%09%2Fevil.example",
        "%2F%0A%2Fevil.example",
        "%2F%2Fevil.example",
        "%2F%5Cevil.example",
        "%2F%252F%2Fevil.example",
        "https%3A%2F%2Fevil.example",
    ] {
        let response = form_post(
            &app,
            "/api/fn/login",
            &format!("next={next}&input%5Busername%5D=alice&input%5Bpassword%5D=correct+horse"),
        )
        .await;

        assert_eq!(
            response.status,
            StatusCode::SEE_OTHER,
            "{next}: {}",
            response.text
        );
        assert_eq!(location(&response), "/people", "{next}");
        assert!(response.session_cookie().is_some(), "{next}");
    }
}

#[sqlx::test]
async fn refused_plain_forms_go_back_with_the_error_and_names_but_no_password(pool: PgPool) {
    let app = TestApp::new(pool).await;
    app.sign_up("alice").await;

    let taken = form_post(
        &app,
        "/api/fn/signup",
        "next=%2Fchat&input%5Busername%5D=Alice&input%5Bdisplay_name%5D=Not+Alice&input%5Bpassword%5D=secret+words+here",
    )
    .await;
    let short = form_post(
        &app,
        "/api/fn/signup",
        "input%5Busername%5D=ab&input%5Bdisplay_name%5D=Ab&input%5Bpassword%5D=secret+words+here",
    )
    .await;
    let wrong = form_post(
        &app,
        "/api/fn/login",
        "next=%2F%09%2Fevil.example&input%5Busername%5D=alice&input%5Bpassword%5D=secret+words+here",
    )
    .await;

    assert_eq!(taken.status, StatusCode::SEE_OTHER);
    assert_eq!(
        location(&taken),
        "/signup?next=%2Fchat&error=username_taken&username=Alice&display_name=Not%20Alice"
    );
    assert_eq!(
        location(&short),
        "/signup?next=%2Fpeople&error=username_too_short&username=ab&display_name=Ab"
    );
    assert_eq!(
        location(&wrong),
        "/login?next=%2Fpeople&error=invalid_credentials&username=alice"
    );
    for response in [&taken, &short, &wrong] {
        assert!(!location(response).contains("secret"));
        assert!(response.session_cookie().is_none());
    }
}
